/* veth_ns.c - a private network namespace with veth pairs, for port tests against the kernel. */
#include "veth_ns.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int veth_ns_run(const char *cmd)
{
	char line[400];

	snprintf(line, sizeof(line), "%s >/dev/null 2>&1", cmd);
	return system(line);
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

bool veth_ns_pair(const char *a, const char *b, unsigned queues, char *why, size_t whylen)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "ip link add %s numtxqueues %u numrxqueues %u type veth peer name %s "
		 "numtxqueues %u numrxqueues %u", a, queues, queues, b, queues, queues);
	if (veth_ns_run(cmd) != 0) {
		snprintf(why, whylen, "cannot make the veth pair %s/%s with ip(8) (`%s` failed; is iproute2 installed?)",
			 a, b, cmd);
		return false;
	}
	snprintf(cmd, sizeof(cmd), "ip link set %s up && ip link set %s up", a, b);
	if (veth_ns_run(cmd) != 0) {
		snprintf(why, whylen, "cannot bring the veth pair %s/%s up", a, b);
		return false;
	}
	return true;
}

bool veth_ns_up(const char *a, const char *b, unsigned queues, char *why, size_t whylen)
{
	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(why, whylen, "cannot make a network namespace: %s (needs root)", strerror(errno));
		return false;
	}
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	return veth_ns_pair(a, b, queues, why, whylen);
}
