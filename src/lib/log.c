/* log.c - timestamped log lines on stderr, one line per message whatever the message holds. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

size_t log_escape(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (dstlen == 0)
		return 0;
	for (const unsigned char *s = (const unsigned char *)src; *s; s++) {
		/* Control bytes (a newline would start a forged line) and DEL become \xNN; the backslash doubles. */
		if (*s < 0x20 || *s == 0x7f || *s == '\\') {
			if (o + 4 >= dstlen)
				break;
			dst[o++] = '\\';
			if (*s == '\\') {
				dst[o++] = '\\';
				continue;
			}
			dst[o++] = 'x';
			dst[o++] = hex[*s >> 4];
			dst[o++] = hex[*s & 15];
		} else {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)*s;
		}
	}
	dst[o] = '\0';
	return o;
}

void vsw_log(const char *level, const char *fmt, ...)
{
	char when[32], msg[1024], safe[4 * sizeof(msg)];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/*
	 * Messages carry strings from control requests, config files and
	 * vhost-user peers: escaped here, once, so no caller can forget.
	 */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_escape(safe, sizeof(safe), msg);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ vswd %s: %s\n", when, ts.tv_nsec / 1000000, level, safe);
	funlockfile(stderr);
}
