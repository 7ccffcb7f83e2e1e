/* ctl_perf.h - the `perf` control commands: the data path's stage timing, shown, reset, switched. */
#ifndef VSW_CTL_CTL_PERF_H
#define VSW_CTL_CTL_PERF_H

struct json_object;
struct vswd;

/*
 * {"cmd":"perf-show"}: per worker and summed over the workers, per timing
 * point (dp/perf.h): packets, batches, cycles, cycles and ns per packet,
 * percentiles of cycles per packet; the batch latency percentiles in µs.
 */
struct json_object *ctl_perf_show(struct vswd *v);
/* {"cmd":"perf-reset"}: the shown counters start from zero. */
struct json_object *ctl_perf_reset(struct vswd *v);
/* {"cmd":"perf-set","enabled":B}: switch the timing on or off. */
struct json_object *ctl_perf_set(struct vswd *v, struct json_object *req);

#endif
