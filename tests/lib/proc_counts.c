/* proc_counts.c - fd and memfd mapping counts of this process, for leak checks. */
#include "proc_counts.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

int proc_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1; /* the directory's own fd */
}

int proc_count_memfd_maps(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512], key[128];
	int n = 0;

	if (!f)
		return -1;
	snprintf(key, sizeof(key), "memfd:%s", name);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, key))
			n++;
	fclose(f);
	return n;
}
