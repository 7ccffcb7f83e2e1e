/* ctl_perf.c - the `perf` control commands: stage timing per worker and summed, as JSON and as text (lib/perf.h). */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/commands.h"
#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "lib/perf.h"

/* One worker's (or the sum's) counters, as plain numbers. */
struct perf_view {
	uint64_t cycles[DP_PT__COUNT], pkts[DP_PT__COUNT], batches[DP_PT__COUNT];
	uint64_t hist[DP_PT__COUNT][DP_HIST_LOG2];
	uint64_t lat[DP_LAT_BUCKETS];
};

static uint64_t ld(const atomic_uint_least64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Add @pf's counters to @v. */
static void view_add(struct perf_view *v, const struct dp_perf *pf)
{
	for (unsigned p = 0; p < DP_PT__COUNT; p++) {
		v->cycles[p] += ld(&pf->pt[p].cycles);
		v->pkts[p] += ld(&pf->pt[p].pkts);
		v->batches[p] += ld(&pf->pt[p].batches);
		for (unsigned h = 0; h < DP_HIST_LOG2; h++)
			v->hist[p][h] += ld(&pf->pt[p].hist[h]);
	}
	for (unsigned h = 0; h < DP_LAT_BUCKETS; h++)
		v->lat[h] += ld(&pf->lat[h]);
}

static struct json_object *dbl(double x)
{
	return json_object_new_double((double)(int64_t)(x * 100 + 0.5) / 100); /* two decimals */
}

static struct json_object *u64(uint64_t x)
{
	return json_object_new_int64((int64_t)x);
}

static const unsigned pct_permille[] = { 500, 990, 999 };
static const char *const pct_names[] = { "p50", "p99", "p99.9" };

/* {"stage": {...}, ...} and "latency_us" for one view. */
static struct json_object *view_json(const struct perf_view *v, uint64_t hz)
{
	struct json_object *o = json_object_new_object(), *stages = json_object_new_object(),
			   *lat = json_object_new_object();
	uint64_t samples = 0;

	for (unsigned p = 0; p < DP_PT__COUNT; p++) {
		struct json_object *s = json_object_new_object();
		double cpp = v->pkts[p] ? (double)v->cycles[p] / (double)v->pkts[p] : 0;

		json_object_object_add(s, "packets", u64(v->pkts[p]));
		json_object_object_add(s, "batches", u64(v->batches[p]));
		json_object_object_add(s, "cycles", u64(v->cycles[p]));
		json_object_object_add(s, "cycles_per_packet", dbl(cpp));
		json_object_object_add(s, "ns_per_packet", dbl(hz ? cpp * 1e9 / (double)hz : 0));
		for (unsigned k = 0; k < 3; k++) {
			uint64_t c = dp_hist_percentile(v->hist[p], DP_HIST_LOG2, pct_permille[k], dp_hist_log2_upper);
			char name[32];

			snprintf(name, sizeof(name), "cycles_per_packet_%s", pct_names[k]);
			json_object_object_add(s, name, u64(c));
		}
		json_object_object_add(stages, dp_point_names[p], s);
	}
	for (unsigned h = 0; h < DP_LAT_BUCKETS; h++)
		samples += v->lat[h];
	json_object_object_add(lat, "packets", u64(samples));
	for (unsigned k = 0; k < 3; k++) {
		uint64_t c = dp_hist_percentile(v->lat, DP_LAT_BUCKETS, pct_permille[k], dp_lat_upper);

		json_object_object_add(lat, pct_names[k], dbl(hz ? (double)c * 1e6 / (double)hz : 0));
	}
	json_object_object_add(o, "stages", stages);
	json_object_object_add(o, "latency_us", lat);
	return o;
}

struct json_object *ctl_perf_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	struct json_object *r = ctl_reply_ok(), *workers = json_object_new_array();
	struct perf_view *sum = calloc(1, sizeof(*sum)), *one = calloc(1, sizeof(*one));
	struct dp_perf *snap = malloc(sizeof(*snap));
	uint64_t hz = v->dp.tsc_hz;

	if (!sum || !one || !snap) {
		free(sum);
		free(one);
		free(snap);
		json_object_put(workers);
		json_object_put(r);
		return ctl_reply_error("out of memory");
	}
	json_object_object_add(r, "enabled", json_object_new_boolean(atomic_load(&v->dp.perf_on)));
	json_object_object_add(r, "every", u64(atomic_load(&v->dp.perf_every)));
	json_object_object_add(r, "tsc_hz", u64(hz));
	for (unsigned i = 0; i < v->dp.nworkers; i++) {
		struct json_object *w;

		dp_perf_read(&v->dp, i, snap);
		memset(one, 0, sizeof(*one));
		view_add(one, snap);
		view_add(sum, snap);
		w = view_json(one, hz);
		json_object_object_add(w, "id", json_object_new_int((int)i));
		json_object_array_add(workers, w);
	}
	json_object_object_add(r, "workers", workers);
	json_object_object_add(r, "total", view_json(sum, hz));
	free(sum);
	free(one);
	free(snap);
	return r;
}

struct json_object *ctl_perf_reset(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	dp_perf_reset(&v->dp);
	return ctl_reply_ok();
}

/* {"cmd":"perf-set","enabled":B} (a boolean: the table in commands.c checked it). */
struct json_object *ctl_perf_set(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	bool on = json_object_get_boolean(json_object_object_get(req, "enabled"));
	struct json_object *r = ctl_reply_ok();

	dp_perf_set(&v->dp, on);
	json_object_object_add(r, "enabled", json_object_new_boolean(on));
	return r;
}

/* ---- vswctl: perf show as text ---- */

/* One view (a worker's, or the total): the points that saw batches, then the latency. */
static void print_view(const char *title, struct json_object *v)
{
	struct json_object *stages, *lat;

	printf("%s\n", title);
	printf("  %-16s %12s %10s %10s %9s %8s %8s %8s\n", "STAGE", "PACKETS", "BATCHES", "CYC/PKT", "NS/PKT",
	       "P50", "P99", "P99.9");
	if (json_object_object_get_ex(v, "stages", &stages)) {
		json_object_object_foreach(stages, name, s)
		{
			if (!ctl_reply_int(s, "batches"))
				continue;
			printf("  %-16s %12" PRId64 " %10" PRId64 " %10.1f %9.2f %8" PRId64 " %8" PRId64 " %8" PRId64 "\n",
			       name, ctl_reply_int(s, "packets"), ctl_reply_int(s, "batches"),
			       ctl_reply_double(s, "cycles_per_packet"), ctl_reply_double(s, "ns_per_packet"),
			       ctl_reply_int(s, "cycles_per_packet_p50"), ctl_reply_int(s, "cycles_per_packet_p99"),
			       ctl_reply_int(s, "cycles_per_packet_p99.9"));
		}
	}
	if (json_object_object_get_ex(v, "latency_us", &lat))
		printf("  latency rx pop -> tx publish (us): p50 %.2f  p99 %.2f  p99.9 %.2f  (%" PRId64 " packets)\n",
		       ctl_reply_double(lat, "p50"), ctl_reply_double(lat, "p99"), ctl_reply_double(lat, "p99.9"),
		       ctl_reply_int(lat, "packets"));
}

void ctl_perf_show_print(struct json_object *r)
{
	struct json_object *workers, *total;

	printf("stage timing %s (stages of 1 batch poll in %" PRId64 ", rounds all), counter %.3f GHz; "
	       "percentiles of cycles per packet are bucket upper bounds\n",
	       json_object_get_boolean(json_object_object_get(r, "enabled")) ? "on" : "off", ctl_reply_int(r, "every"),
	       (double)ctl_reply_int(r, "tsc_hz") / 1e9);
	if (json_object_object_get_ex(r, "workers", &workers))
		for (size_t i = 0; i < json_object_array_length(workers); i++) {
			struct json_object *w = json_object_array_get_idx(workers, i);
			char title[32];

			snprintf(title, sizeof(title), "worker %" PRId64, ctl_reply_int(w, "id"));
			print_view(title, w);
		}
	if (json_object_object_get_ex(r, "total", &total))
		print_view("all workers", total);
}
