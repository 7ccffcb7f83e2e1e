/* log.h - one-line log messages of the daemon, to stderr. */
#ifndef VSW_CTL_LOG_H
#define VSW_CTL_LOG_H

void vsw_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...) vsw_log("info", __VA_ARGS__)
#define log_warn(...) vsw_log("warn", __VA_ARGS__)
#define log_err(...) vsw_log("error", __VA_ARGS__)

#endif
