/* handlers.h - the command handlers and reply printers of each family file, for the table in commands.c. */
#ifndef VSW_CTL_HANDLERS_H
#define VSW_CTL_HANDLERS_H

/*
 * A handler runs on the control thread once its request passed the
 * table's check (commands.c): its keys are known, typed and bounded; a
 * handler checks meaning (does the port exist, is the filter valid).  A
 * printer gets an "ok" reply and prints it as text (vswctl).
 */

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct port;
struct vswd;
struct ctl_peer;

/* ctl_ports.c: port-add, port-del, show. */
struct json_object *ctl_port_add(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_port_del(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
void ctl_show_print(struct json_object *reply);

/* ctl_stats.c: stats, fdb-show. */
struct json_object *ctl_stats(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
void ctl_stats_print(struct json_object *reply);
struct json_object *ctl_fdb_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
void ctl_fdb_show_print(struct json_object *reply);

/* ctl_capture.c: capture-start, capture-stop (vswctl's side of `capture` is in vswctl.c: it streams). */
struct json_object *ctl_capture_start(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_capture_stop(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
/* A port going away ends its capture; no worker may hold the port any more. */
void ctl_capture_end_with_port(struct port *p);

/*
 * ctl_flows.c: flow-add, flow-mod[-strict], flow-del[-strict] (one handler
 * by "cmd"), flow-dump, flow-replace (the file passed open), trace,
 * flow-mod-table (a table's miss behaviour), flow-dump-tables,
 * flow-dump-cache (the workers' megaflows).
 */
struct json_object *ctl_flow_edit(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_flow_dump(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
void ctl_flow_dump_print(struct json_object *reply);
struct json_object *ctl_flow_replace(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_trace(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_flow_mod_table(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_flow_dump_tables(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
void ctl_flow_dump_tables_print(struct json_object *reply);
struct json_object *ctl_flow_dump_cache(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
void ctl_flow_dump_cache_print(struct json_object *reply);
void ctl_trace_print(struct json_object *reply);

/*
 * ctl_perf.c: perf-show (per worker and summed over the workers, per
 * timing point of lib/perf.h: packets, batches, cycles, cycles and ns per
 * packet, percentiles of cycles per packet; the latency percentiles in
 * µs), perf-reset (the shown counters start from zero), perf-set (timing
 * on or off).
 */
struct json_object *ctl_perf_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
void ctl_perf_show_print(struct json_object *reply);
struct json_object *ctl_perf_reset(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_perf_set(struct vswd *v, struct json_object *req, struct ctl_peer *peer);

/*
 * ctl_tunnel.c: tunnel-fdb-add, tunnel-fdb-del, tunnel-fdb-show (the vxlan
 * ports' remote MACs, port/vtep.h); the static entries for the state file
 * and back.
 */
struct json_object *ctl_tunnel_fdb_add(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_tunnel_fdb_del(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
struct json_object *ctl_tunnel_fdb_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
void ctl_tunnel_fdb_show_print(struct json_object *reply);
/* The live entries of every vxlan port (or @only_port's), all or @only_static, as a JSON array. */
struct json_object *ctl_tunnel_fdb_entries(struct vswd *v, const char *only_port, bool only_static);
/* The state file's "tunnel_fdb" entries onto their ports; 0, or -1 with @err when some were not (the rest are). */
int ctl_tunnel_fdb_restore(struct vswd *v, struct json_object *entries, char *err, size_t errlen);

#endif
