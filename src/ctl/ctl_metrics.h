/* ctl_metrics.h - the stats reply in the OpenMetrics text format (vswctl stats --openmetrics). */
#ifndef VSW_CTL_METRICS_H
#define VSW_CTL_METRICS_H

#include <stddef.h>
#include <stdio.h>

struct json_object;

/*
 * Write @reply, a `stats` reply, to @out as OpenMetrics text: every number
 * in it one sample, families named vsw_..., labels port, queue, reason,
 * stage and worker, ending with "# EOF".  0, or -1 when out of memory
 * (nothing written then).
 */
int ctl_stats_openmetrics(struct json_object *reply, FILE *out);

/*
 * @s as an OpenMetrics label value: backslash, double quote and newline
 * escaped.  Writes at most @len bytes with the NUL; returns the length
 * the whole escape needs (without the NUL), as snprintf does.
 */
size_t om_escape_label(char *dst, size_t len, const char *s);

#endif
