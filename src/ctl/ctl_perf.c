/* ctl_perf.c - the `perf` control commands: stage timing per worker and summed, as JSON (see dp/perf.h). */
#include "ctl/ctl_perf.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/daemon.h"
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

struct json_object *ctl_perf_show(struct vswd *v)
{
	struct json_object *r = json_object_new_object(), *workers = json_object_new_array();
	struct perf_view *sum = calloc(1, sizeof(*sum)), *one = calloc(1, sizeof(*one));
	struct dp_perf *snap = malloc(sizeof(*snap));
	uint64_t hz = v->dp.tsc_hz;

	if (!sum || !one || !snap) {
		free(sum);
		free(one);
		free(snap);
		json_object_put(workers);
		json_object_object_add(r, "ok", json_object_new_boolean(0));
		json_object_object_add(r, "error", json_object_new_string("out of memory"));
		return r;
	}
	json_object_object_add(r, "ok", json_object_new_boolean(1));
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

struct json_object *ctl_perf_reset(struct vswd *v)
{
	struct json_object *r = json_object_new_object();

	dp_perf_reset(&v->dp);
	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return r;
}

struct json_object *ctl_perf_set(struct vswd *v, struct json_object *req)
{
	struct json_object *r = json_object_new_object(), *f;

	if (!json_object_object_get_ex(req, "enabled", &f) || !json_object_is_type(f, json_type_boolean)) {
		json_object_object_add(r, "ok", json_object_new_boolean(0));
		json_object_object_add(r, "error", json_object_new_string("\"enabled\" must be true or false"));
		return r;
	}
	dp_perf_set(&v->dp, json_object_get_boolean(f));
	json_object_object_add(r, "ok", json_object_new_boolean(1));
	json_object_object_add(r, "enabled", json_object_new_boolean(json_object_get_boolean(f)));
	return r;
}
