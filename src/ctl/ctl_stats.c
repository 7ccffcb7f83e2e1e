/* ctl_stats.c - `stats` and `fdb show`: what the switch counted per port and worker, and its MAC table. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "ctl/commands.h"
#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "dp/flows.h"
#include "flow/table.h"

static struct json_object *u64_json(atomic_uint_least64_t *c)
{
	return json_object_new_int64((int64_t)atomic_load_explicit(c, memory_order_relaxed));
}

/* A port's FDB figures: learned entries, the events that are not drops (moves, refusals). */
static struct json_object *switch_port_json(struct vswitch *sw, unsigned port)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "entries", json_object_new_int64(fdb_port_entries(&sw->fdb, port)));
	for (unsigned c = 0; c < SWC__COUNT; c++)
		json_object_object_add(o, switch_counter_names[c], u64_json(&sw->sp[port].counters[c]));
	return o;
}

/*
 * A worker's stage timing counters as they only grow (`perf reset` moves
 * perf show's base, not these): frames, batches and cycles per stage.
 * Monitoring takes rates of them; perf show gives the percentiles.
 */
static struct json_object *stages_json(struct dp_perf *pf)
{
	struct json_object *stages = json_object_new_object();

	for (unsigned p = 0; p < DP_PT__COUNT; p++) {
		struct json_object *s = json_object_new_object();

		json_object_object_add(s, "packets", u64_json(&pf->pt[p].pkts));
		json_object_object_add(s, "batches", u64_json(&pf->pt[p].batches));
		json_object_object_add(s, "cycles", u64_json(&pf->pt[p].cycles));
		json_object_object_add(stages, dp_point_names[p], s);
	}
	return stages;
}

/*
 * A port's queues, for the port types that keep counters per queue
 * (port_ops.queue_stats): [{rx_packets, rx_bytes, tx_packets, tx_bytes}]
 * by the port's queue number; NULL for the others.
 */
static struct json_object *queues_json(struct port *p)
{
	struct port_queue_stats qs[PORT_QUEUES_MAX];
	struct json_object *arr;
	unsigned n;

	if (!p->ops->queue_stats)
		return NULL;
	n = p->ops->queue_stats(p, qs, PORT_QUEUES_MAX);
	arr = json_object_new_array();
	for (unsigned q = 0; q < n; q++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "rx_packets", json_object_new_int64((int64_t)qs[q].rx_packets));
		json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)qs[q].rx_bytes));
		json_object_object_add(o, "tx_packets", json_object_new_int64((int64_t)qs[q].tx_packets));
		json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)qs[q].tx_bytes));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* A port type's own figures (port_ops.type_stats) as an object, or NULL for the types without. */
static struct json_object *type_stats_json(struct port *p)
{
	struct port_type_stat st[PORT_TYPE_STATS_MAX];
	struct json_object *o;
	unsigned n;

	if (!p->ops->type_stats || !p->ops->type_stats_name)
		return NULL;
	n = p->ops->type_stats(p, st, PORT_TYPE_STATS_MAX);
	o = json_object_new_object();
	for (unsigned i = 0; i < n; i++)
		json_object_object_add(o, st[i].name, json_object_new_int64((int64_t)st[i].value));
	return o;
}

struct json_object *ctl_stats(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	struct json_object *r = ctl_reply_ok(), *ports = json_object_new_array(), *workers = json_object_new_array();

	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);
		struct json_object *o, *drops, *queues;

		if (!p)
			continue;
		o = json_object_new_object();
		drops = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(p->name));
		json_object_object_add(o, "rx_packets", u64_json(&p->stats.rx_packets));
		json_object_object_add(o, "rx_bytes", u64_json(&p->stats.rx_bytes));
		json_object_object_add(o, "tx_packets", u64_json(&p->stats.tx_packets));
		json_object_object_add(o, "tx_bytes", u64_json(&p->stats.tx_bytes));
		for (unsigned d = 0; d < DROP__COUNT; d++)
			json_object_object_add(drops, port_drop_names[d], u64_json(&p->stats.drops[d]));
		json_object_object_add(o, "drops", drops);
		/* bad_offload by gso_check()'s reason (packet/gso.h). */
		drops = json_object_new_object();
		for (unsigned why = 1; why < GSO_BAD__COUNT; why++)
			json_object_object_add(drops, gso_bad_names[why], u64_json(&p->stats.offload_bad[why]));
		json_object_object_add(o, "offload_bad", drops);
		/* bad_header of a virtio-net header by vnet_hdr_parse()'s reason (packet/vnet_hdr.h). */
		drops = json_object_new_object();
		for (unsigned why = 1; why < VNET_BAD__COUNT; why++)
			json_object_object_add(drops, vnet_bad_names[why], u64_json(&p->header_bad[why]));
		json_object_object_add(o, "header_bad", drops);
		json_object_object_add(o, "tx_pmtu_icmp", u64_json(&p->stats.tx_pmtu_icmp));
		json_object_object_add(o, "fdb", switch_port_json(v->sw, i));
		queues = queues_json(p);
		if (queues)
			json_object_object_add(o, "queues", queues);
		queues = type_stats_json(p);
		if (queues)
			json_object_object_add(o, p->ops->type_stats_name, queues);
		json_object_array_add(ports, o);
	}
	for (unsigned i = 0; i < v->dp.nworkers; i++) {
		struct dp_worker *w = &v->dp.workers[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int((int)i));
		json_object_object_add(o, "rounds", u64_json(&w->rounds));
		json_object_object_add(o, "sleeps", u64_json(&w->sleeps));
		json_object_object_add(o, "frames", u64_json(&w->frames));
		/* Stage timing (dp/perf.h): cycles of the rounds that moved frames, and their frames, while it was on. */
		json_object_object_add(o, "busy_cycles", u64_json(&w->perf.pt[DP_PT_ROUND].cycles));
		json_object_object_add(o, "busy_frames", u64_json(&w->busy_frames));
		json_object_object_add(o, "tsc_hz", json_object_new_int64((int64_t)v->dp.tsc_hz));
		/* The flow tables' caches (dp/flows.h): frames they answered (of which megaflows), frames the classifier did. */
		json_object_object_add(o, "flow_cache_hits", u64_json(&w->ctx.flow->stats.emc_hits));
		json_object_object_add(o, "flow_cache_misses", u64_json(&w->ctx.flow->stats.emc_misses));
		json_object_object_add(o, "flow_megaflow_hits", u64_json(&w->ctx.flow->stats.mf_hits));
		json_object_object_add(o, "flow_megaflow_probes", u64_json(&w->ctx.flow->stats.mf_probes));
		json_object_object_add(o, "flow_whole_batches", u64_json(&w->ctx.flow->stats.whole_batches));
		json_object_object_add(o, "flow_head_batches", u64_json(&w->ctx.flow->stats.head_batches));
		/* learn actions (dp/flows.h): queued for the control thread, dropped for a full queue */
		json_object_object_add(o, "flow_learns_queued", u64_json(&w->ctx.flow->learn_sent));
		json_object_object_add(o, "flow_learns_queue_full", u64_json(&w->ctx.flow->learn_full));
		json_object_object_add(o, "stages", stages_json(&w->perf));
		json_object_array_add(workers, o);
	}
	json_object_object_add(r, "ports", ports);
	json_object_object_add(r, "workers", workers);
	if (v->flows) {
		struct json_object *l = json_object_new_object();

		json_object_object_add(r, "tables", vswd_flow_tables_json(v));
		/*
		 * What the control thread did with the learns queued: rules added or
		 * changed, refreshed, failed (a rule flow syntax cannot say, or out of
		 * memory), stale (queued before an edit), table_full (no room for
		 * another learned rule); and the learned rules there are.
		 */
		json_object_object_add(l, "added", json_object_new_int64((int64_t)v->learn_added));
		json_object_object_add(l, "refreshed", json_object_new_int64((int64_t)v->learn_refreshed));
		json_object_object_add(l, "failed", json_object_new_int64((int64_t)v->learn_failed));
		json_object_object_add(l, "stale", json_object_new_int64((int64_t)v->learn_stale));
		json_object_object_add(l, "table_full", json_object_new_int64((int64_t)v->learn_full));
		json_object_object_add(l, "learned", json_object_new_int64((int64_t)flow_db_learned(v->flows)));
		json_object_object_add(r, "learn", l);
	}
	return r;
}

/*
 * {"cmd":"fdb-show", "limit":N}: the first N live entries (default
 * FDB_SHOW_DEFAULT) and "total", the live entries all told.  One walk of
 * the table on the control thread (each bucket whose entries it copies
 * out read under the bucket's lock, fdb_dump()): workers never wait for
 * it, one that finds a bucket locked skips that learn (learn_busy).  The
 * limit keeps a million-MAC table's reply (and the JSON built for it) in
 * bounds; "limit":0 asks for the count alone.  The
 * command table has checked "limit"'s type and range.
 */
struct json_object *ctl_fdb_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	struct json_object *r, *arr, *f;
	unsigned limit = FDB_SHOW_DEFAULT, total = 0, n;
	struct fdb_entry *entries;

	if (json_object_object_get_ex(req, "limit", &f))
		limit = (unsigned)json_object_get_int64(f);
	entries = malloc((limit ? limit : 1) * sizeof(*entries));
	if (!entries)
		return ctl_reply_error("out of memory");
	n = fdb_dump(&v->sw->fdb, entries, limit, atomic_load(&v->sw->now_s), &total);
	r = ctl_reply_ok();
	arr = json_object_new_array();

	for (unsigned i = 0; i < n; i++) {
		struct port *p = atomic_load(&v->sw->ports[entries[i].port]);
		struct json_object *o = json_object_new_object();
		char mac[18];

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", entries[i].mac[0], entries[i].mac[1],
			 entries[i].mac[2], entries[i].mac[3], entries[i].mac[4], entries[i].mac[5]);
		json_object_object_add(o, "mac", json_object_new_string(mac));
		json_object_object_add(o, "vlan", json_object_new_int(entries[i].vlan));
		json_object_object_add(o, "port", json_object_new_string(p ? p->name : "?"));
		json_object_object_add(o, "age", json_object_new_int((int)entries[i].age_s));
		json_object_object_add(o, "locked", json_object_new_boolean(entries[i].locked));
		json_object_array_add(arr, o);
	}
	free(entries);
	json_object_object_add(r, "entries", arr);
	json_object_object_add(r, "total", json_object_new_int64(total));
	return r;
}

/* ---- vswctl: the replies as text ---- */

/*
 * Under a port's line, one line per queue in the same columns ("  queue
 * N", no drops: they are counted per port), when the port has two queues
 * or more: a lone queue's line would repeat its port's.  N is the index in
 * "queues", as --json and --openmetrics' queue label number them.
 */
static void stats_queues_print(struct json_object *port)
{
	struct json_object *queues;
	size_t n;

	if (!json_object_object_get_ex(port, "queues", &queues) || !json_object_is_type(queues, json_type_array))
		return;
	n = json_object_array_length(queues);
	for (size_t q = 0; n > 1 && q < n; q++) {
		struct json_object *o = json_object_array_get_idx(queues, q);

		printf("  queue %-8zu %12" PRId64 " %14" PRId64 " %12" PRId64 " %14" PRId64 "\n", q,
		       ctl_reply_int(o, "rx_packets"), ctl_reply_int(o, "rx_bytes"), ctl_reply_int(o, "tx_packets"),
		       ctl_reply_int(o, "tx_bytes"));
	}
}

void ctl_stats_print(struct json_object *r)
{
	struct json_object *ports;

	printf("%-16s %12s %14s %12s %14s  %s\n", "PORT", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES", "DROPS");
	if (!json_object_object_get_ex(r, "ports", &ports))
		return;
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i), *drops;
		int any = 0;

		printf("%-16s %12" PRId64 " %14" PRId64 " %12" PRId64 " %14" PRId64 "  ", ctl_reply_str(p, "name"),
		       ctl_reply_int(p, "rx_packets"), ctl_reply_int(p, "rx_bytes"), ctl_reply_int(p, "tx_packets"),
		       ctl_reply_int(p, "tx_bytes"));
		if (json_object_object_get_ex(p, "drops", &drops)) {
			json_object_object_foreach(drops, reason, count)
			{
				if (json_object_get_int64(count)) {
					printf("%s%s=%" PRId64, any ? " " : "", reason, json_object_get_int64(count));
					any = 1;
				}
			}
		}
		printf("%s", any ? "" : "-");
		if (json_object_object_get_ex(p, "offload_bad", &drops)) {
			json_object_object_foreach(drops, why, count)
			{
				if (json_object_get_int64(count))
					printf(" bad_offload.%s=%" PRId64, why, json_object_get_int64(count));
			}
		}
		/* FDB figures that are not drops, when there are any: learned entries, moves, refusals. */
		if (json_object_object_get_ex(p, "fdb", &drops)) {
			json_object_object_foreach(drops, what, count)
			{
				if (json_object_get_int64(count))
					printf(" fdb.%s=%" PRId64, what, json_object_get_int64(count));
			}
		}
		printf("\n");
		stats_queues_print(p);
	}
}

void ctl_fdb_show_print(struct json_object *r)
{
	struct json_object *e;
	size_t n = 0;

	printf("%-5s %-18s %-16s %s\n", "VLAN", "MAC", "PORT", "AGE");
	if (json_object_object_get_ex(r, "entries", &e))
		for (n = 0; n < json_object_array_length(e); n++) {
			struct json_object *x = json_object_array_get_idx(e, n);

			printf("%-5" PRId64 " ", ctl_reply_int(x, "vlan"));
			if (json_object_get_boolean(json_object_object_get(x, "locked")))
				printf("%-18s %-16s locked\n", ctl_reply_str(x, "mac"), ctl_reply_str(x, "port"));
			else
				printf("%-18s %-16s %" PRId64 "\n", ctl_reply_str(x, "mac"), ctl_reply_str(x, "port"),
				       ctl_reply_int(x, "age"));
		}
	/* Only when some were left out: a table under the limit prints as it always did. */
	if ((int64_t)n < ctl_reply_int(r, "total"))
		printf("(%zu of %" PRId64 " entries; fdb show --limit N for more)\n", n, ctl_reply_int(r, "total"));
}
