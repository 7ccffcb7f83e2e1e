/* log.h - one-line log messages of the daemon, to stderr. */
#ifndef VSW_LIB_LOG_H
#define VSW_LIB_LOG_H

#include <stddef.h>

/*
 * One line "TIME vswd LEVEL: MESSAGE" on stderr.  The formatted message is
 * cut at 1 KiB and its control bytes are escaped (log_escape), so a string
 * from a request or a peer can neither end the line nor forge the next one.
 */
void vsw_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Copy @src into @dst (@dstlen bytes, always terminated) with bytes below
 * 0x20 and 0x7f written as \xNN and a backslash as \\; cut short at a
 * whole character when @dst is full.  Returns the length written.
 */
size_t log_escape(char *dst, size_t dstlen, const char *src);

#define log_info(...) vsw_log("info", __VA_ARGS__)
#define log_warn(...) vsw_log("warn", __VA_ARGS__)
#define log_err(...) vsw_log("error", __VA_ARGS__)

#endif
