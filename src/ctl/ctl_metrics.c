/* ctl_metrics.c - `vswctl stats --openmetrics`: the stats reply as OpenMetrics text for Prometheus and node_exporter. */
#include "ctl/ctl_metrics.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The stats reply (ctl_stats.c) becomes metric families, every number in
 * it one sample; nothing here lists the counters, so a counter added to
 * the reply shows up here without an edit:
 *
 *   ports[i].KEY                 vsw_port_KEY{port}             rx_/tx_ packets and bytes: counters
 *   ports[i].drops.REASON        vsw_port_drops_total{port,reason}
 *   ports[i].fdb.entries         vsw_port_fdb_entries{port}     gauge
 *   ports[i].fdb.KEY             vsw_port_fdb_KEY_total{port}   events (MAC moves, refusals)
 *   ports[i].queues[j].KEY       vsw_queue_KEY{port,queue}      (when a port reports queues)
 *   ports[i].OBJ.KEY             vsw_port_OBJ_KEY{port}         anything else nested
 *   workers[i].KEY               vsw_worker_KEY{worker}         tsc_hz: a gauge in hertz
 *   workers[i].stages.STAGE.KEY  vsw_stage_KEY_total{worker,stage}
 *   tables[i].KEY                vsw_table_KEY{table}           flows: a gauge; matched_packets, matched_bytes,
 *                                                               lookups, misses (the miss behaviour, a word: not here)
 *
 * and so ports[i].tunnel.KEY (a vxlan port's own figures) is
 * vsw_port_tunnel_KEY{port}: rx_bad_REASON and fdb_learned, fdb_moved,
 * fdb_full counters; remotes, flood_remotes, fdb_learned_entries,
 * fdb_static_entries gauges.
 *
 * The types: a number that only grows is a counter (family name without
 * "_total", sample with it, as OpenMetrics wants); what can go down
 * (entries, rates, the clock) is a gauge, named in gauge_keys[] or ending
 * in "_entries".  A family's samples are contiguous (OpenMetrics requires
 * it), so samples are gathered per family first and written at the end,
 * then "# EOF".
 *
 * node_exporter's textfile collector reads the classic Prometheus text
 * format: to it "# UNIT" and "# EOF" are comments, and a counter's
 * samples arrive as the untyped series vsw_..._total, the names Prometheus
 * itself stores when it scrapes OpenMetrics.
 */

/* Keys whose values can go down: gauges (and any key ending in "_entries").  Everything else in the reply counts up. */
static const char *const gauge_keys[] = { "entries", "tsc_hz", "id", "flows", "remotes", "flood_remotes", NULL };

/* Help for the families vsw has today; others get a help naming their place in `stats --json`. */
static const struct {
	const char *name, *help;
} helps[] = {
	{ "vsw_port_rx_packets", "Frames into the switch from the port." },
	{ "vsw_port_rx_bytes", "Bytes into the switch from the port." },
	{ "vsw_port_tx_packets", "Frames out of the switch into the port." },
	{ "vsw_port_tx_bytes", "Bytes out of the switch into the port." },
	{ "vsw_port_drops", "Frames dropped, by reason (the port is where they came from or went to)." },
	{ "vsw_port_fdb_entries", "MAC addresses learned on the port." },
	{ "vsw_port_fdb_mac_moves", "MACs the port took over from another port." },
	{ "vsw_port_fdb_learn_limit", "Learning refused because the port owns mac_limit entries." },
	{ "vsw_port_fdb_learn_busy", "Sources not learned because another thread held their MAC table bucket (a later frame learns)." },
	{ "vsw_queue_rx_packets", "Frames into the switch from one queue of the port." },
	{ "vsw_queue_rx_bytes", "Bytes into the switch from one queue of the port." },
	{ "vsw_queue_tx_packets", "Frames out of the switch into one queue of the port." },
	{ "vsw_queue_tx_bytes", "Bytes out of the switch into one queue of the port." },
	{ "vsw_worker_rounds", "Polling rounds of the worker." },
	{ "vsw_worker_sleeps", "Times the worker slept waiting for frames." },
	{ "vsw_worker_frames", "Frames the worker moved." },
	{ "vsw_worker_busy_cycles", "Cycle counter ticks of the timed rounds that moved frames." },
	{ "vsw_worker_busy_frames", "Frames of the timed rounds." },
	{ "vsw_worker_tsc_hertz", "Rate of the cycle counter the cycles are counted in." },
	{ "vsw_stage_packets", "Frames through a data path stage, while stage timing is on." },
	{ "vsw_stage_batches", "Batches through a data path stage, while stage timing is on." },
	{ "vsw_stage_cycles", "Cycle counter ticks spent in a data path stage, while stage timing is on." },
	{ "vsw_table_flows", "Flows (rules) in the OpenFlow table." },
	{ "vsw_table_matched_packets", "Frames the table's rules matched, deleted rules' included." },
	{ "vsw_table_matched_bytes", "Bytes of the frames the table's rules matched, deleted rules' included." },
	{ "vsw_table_lookups", "Lookups of the table (first table, resubmit, goto_table, a miss that continues), cached runs' included." },
	{ "vsw_table_misses", "Lookups of the table that found no rule." },
	{ "vsw_port_tunnel_rx_bad_short", "VXLAN datagrams dropped: too short for the VXLAN and Ethernet headers." },
	{ "vsw_port_tunnel_rx_bad_flags", "VXLAN datagrams dropped: the I flag clear." },
	{ "vsw_port_tunnel_rx_bad_vni", "VXLAN datagrams dropped: a VNI the port does not serve." },
	{ "vsw_port_tunnel_rx_bad_remote", "VXLAN datagrams dropped: not from a known remote VTEP." },
	{ "vsw_port_tunnel_rx_bad_truncated", "VXLAN datagrams dropped: larger than a receive slot." },
	{ "vsw_port_tunnel_rx_bad_tagged", "VXLAN datagrams dropped: under vlan_vni=, an inner frame tagged already." },
	{ "vsw_port_tunnel_rx_bad_ecn", "VXLAN datagrams dropped: CE on the outer header over a Not-ECT inner packet (RFC 6040)." },
	{ "vsw_port_tunnel_rx_ecn_unexpected", "VXLAN datagrams taken with an ECN combination no RFC 6040 ingress sends." },
	{ "vsw_port_tunnel_fdb_learned", "Tunnel fdb entries added by learning." },
	{ "vsw_port_tunnel_fdb_moved", "Learned MACs seen behind another remote VTEP." },
	{ "vsw_port_tunnel_fdb_full", "MACs not learned: every entry of their bucket static." },
	{ "vsw_port_tunnel_remotes", "Remote VTEPs the port knows: its flood list and static entries' remotes." },
	{ "vsw_port_tunnel_flood_remotes", "Remote VTEPs of the port's flood list (remote=)." },
	{ "vsw_port_tunnel_fdb_learned_entries", "Live learned entries of the tunnel fdb." },
	{ "vsw_port_tunnel_fdb_static_entries", "Static entries of the tunnel fdb (tunnel fdb add)." },
};

struct om_family {
	char name[128];
	char help[192];
	const char *unit;	/* NULL: none */
	bool counter;
	char *text;		/* the samples, one line each */
	size_t len, cap;
};

struct om {
	struct om_family *fam;
	size_t n, cap;
	bool oom;
};

/* @s as a metric name part: [a-zA-Z0-9_], anything else '_'. */
static void name_part(char *dst, size_t len, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++) {
		char c = s[i];

		dst[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
	}
	if (len)
		dst[i] = '\0';
}

size_t om_escape_label(char *dst, size_t len, const char *s)
{
	size_t used = 0, written = 0;

	/* OpenMetrics ABNF: escaped-char = "\\" / "\" DQUOTE / "\n" (and the same in HELP, less the quote). */
	for (; *s; s++) {
		const char *rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		size_t n = rep ? 2 : 1;

		/* Whole escapes only: a cut one would escape the closing quote. */
		if (written == used && used + n < len) {
			memcpy(dst + used, rep ? rep : s, n);
			written += n;
		}
		used += n;
	}
	if (len)
		dst[written] = '\0';
	return used;
}

static bool is_gauge(const char *key)
{
	size_t len = strlen(key);

	for (size_t i = 0; gauge_keys[i]; i++)
		if (strcmp(key, gauge_keys[i]) == 0)
			return true;
	return len > 8 && strcmp(key + len - 8, "_entries") == 0;
}

static struct om_family *om_family(struct om *om, const char *name, bool counter, const char *unit,
				   const char *where)
{
	struct om_family *f;

	for (size_t i = 0; i < om->n; i++)
		if (strcmp(om->fam[i].name, name) == 0)
			return &om->fam[i];
	if (om->n == om->cap) {
		size_t cap = om->cap ? om->cap * 2 : 32;
		struct om_family *nf = realloc(om->fam, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		om->fam = nf;
		om->cap = cap;
	}
	f = &om->fam[om->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->counter = counter;
	f->unit = unit;
	snprintf(f->help, sizeof(f->help), "vswctl stats --json: %s.", where);
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(helps[i].name, name) == 0)
			snprintf(f->help, sizeof(f->help), "%s", helps[i].help);
	return f;
}

static void fam_addf(struct om *om, struct om_family *f, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fam_addf(struct om *om, struct om_family *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (f->len + (size_t)n + 1 > f->cap) {
		size_t cap = (f->cap ? f->cap * 2 : 256) + (size_t)n;
		char *t = realloc(f->text, cap);

		if (!t) {
			om->oom = true;
			return;
		}
		f->text = t;
		f->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(f->text + f->len, f->cap - f->len, fmt, ap);
	va_end(ap);
	f->len += (size_t)n;
}

/*
 * One sample: family @prefix_@key (a unit suffix "_bytes" when @key says
 * bytes), labels @labels (already "k=\"v\",..." or ""), value @val.
 * @where names the place in the JSON for the generic help.
 */
static void om_sample(struct om *om, const char *prefix, const char *key, const char *labels,
		      struct json_object *val, const char *where)
{
	char part[96], name[128];
	const char *unit = NULL;
	bool counter = !is_gauge(key);
	struct om_family *f;

	name_part(part, sizeof(part), key);
	if (strcmp(key, "tsc_hz") == 0) {
		snprintf(part, sizeof(part), "tsc_hertz");
		unit = "hertz";
	}
	snprintf(name, sizeof(name), "%s_%s", prefix, part);
	if (strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_bytes") == 0)
		unit = "bytes";
	f = om_family(om, name, counter, unit, where);
	if (!f) {
		om->oom = true;
		return;
	}
	if (f->counter != counter)
		return; /* one name, two meanings: cannot be (the names above come from distinct keys) */
	fam_addf(om, f, "%s%s%s%s%s ", name, counter ? "_total" : "", labels[0] ? "{" : "", labels, labels[0] ? "}" : "");
	if (json_object_is_type(val, json_type_double))
		fam_addf(om, f, "%.17g\n", json_object_get_double(val));
	else
		fam_addf(om, f, "%" PRId64 "\n", json_object_get_int64(val));
}

static bool is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/* Append ,@k="@v" (escaped) to @labels. */
static void label_add(char *labels, size_t len, const char *k, const char *v)
{
	size_t used = strlen(labels);
	char esc[256];

	om_escape_label(esc, sizeof(esc), v);
	snprintf(labels + used, len - used, "%s%s=\"%s\"", used ? "," : "", k, esc);
}

/* Every number of object @o under @prefix; nested objects of numbers as @prefix_KEY_SUB. */
static void om_object(struct om *om, const char *prefix, struct json_object *o, const char *labels,
		      const char *where)
{
	json_object_object_foreach(o, key, val)
	{
		char sub[128], w[128];

		snprintf(w, sizeof(w), "%s.%s", where, key);
		if (is_number(val)) {
			om_sample(om, prefix, key, labels, val, w);
		} else if (json_object_is_type(val, json_type_object)) {
			char kp[96];

			name_part(kp, sizeof(kp), key);
			snprintf(sub, sizeof(sub), "%s_%s", prefix, kp);
			om_object(om, sub, val, labels, w);
		}
	}
}

static void om_port(struct om *om, struct json_object *p)
{
	struct json_object *name = json_object_object_get(p, "name");
	char labels[320] = "";

	label_add(labels, sizeof(labels), "port", name ? json_object_get_string(name) : "");
	json_object_object_foreach(p, key, val)
	{
		if (is_number(val)) {
			om_sample(om, "vsw_port", key, labels, val, "ports[].<key>");
		} else if (strcmp(key, "drops") == 0 && json_object_is_type(val, json_type_object)) {
			json_object_object_foreach(val, reason, count)
			{
				char l[512];

				if (!is_number(count))
					continue;
				snprintf(l, sizeof(l), "%s", labels);
				label_add(l, sizeof(l), "reason", reason);
				om_sample(om, "vsw_port", "drops", l, count, "ports[].drops");
			}
		} else if (strcmp(key, "queues") == 0 && json_object_is_type(val, json_type_array)) {
			for (size_t q = 0; q < json_object_array_length(val); q++) {
				char l[512], qs[24];

				snprintf(l, sizeof(l), "%s", labels);
				snprintf(qs, sizeof(qs), "%zu", q);
				label_add(l, sizeof(l), "queue", qs);
				om_object(om, "vsw_queue", json_object_array_get_idx(val, q), l, "ports[].queues[]");
			}
		} else if (json_object_is_type(val, json_type_object)) {
			char prefix[128], kp[96], where[128];

			name_part(kp, sizeof(kp), key);
			snprintf(prefix, sizeof(prefix), "vsw_port_%s", kp);
			snprintf(where, sizeof(where), "ports[].%s", key);
			om_object(om, prefix, val, labels, where);
		}
	}
}

static void om_worker(struct om *om, struct json_object *w)
{
	struct json_object *id = json_object_object_get(w, "id");
	char labels[320] = "";

	label_add(labels, sizeof(labels), "worker", id ? json_object_get_string(id) : "");
	json_object_object_foreach(w, key, val)
	{
		if (strcmp(key, "id") == 0)
			continue; /* the label */
		if (is_number(val)) {
			om_sample(om, "vsw_worker", key, labels, val, "workers[].<key>");
		} else if (strcmp(key, "stages") == 0 && json_object_is_type(val, json_type_object)) {
			json_object_object_foreach(val, stage, counts)
			{
				char l[512];

				if (!json_object_is_type(counts, json_type_object))
					continue;
				snprintf(l, sizeof(l), "%s", labels);
				label_add(l, sizeof(l), "stage", stage);
				om_object(om, "vsw_stage", counts, l, "workers[].stages.<stage>");
			}
		} else if (json_object_is_type(val, json_type_object)) {
			char prefix[128], kp[96];

			name_part(kp, sizeof(kp), key);
			snprintf(prefix, sizeof(prefix), "vsw_worker_%s", kp);
			om_object(om, prefix, val, labels, "workers[].<object>");
		}
	}
}

static void om_table(struct om *om, struct json_object *t)
{
	struct json_object *id = json_object_object_get(t, "table");
	char labels[320] = "";

	label_add(labels, sizeof(labels), "table", id ? json_object_get_string(id) : "");
	json_object_object_foreach(t, key, val)
	{
		if (strcmp(key, "table") == 0)
			continue; /* the label */
		if (is_number(val))
			om_sample(om, "vsw_table", key, labels, val, "tables[].<key>");
	}
}

int ctl_stats_openmetrics(struct json_object *reply, FILE *out)
{
	struct json_object *arr;
	struct om om = { 0 };
	int rc = 0;

	if (json_object_object_get_ex(reply, "ports", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			om_port(&om, json_object_array_get_idx(arr, i));
	if (json_object_object_get_ex(reply, "workers", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			om_worker(&om, json_object_array_get_idx(arr, i));
	if (json_object_object_get_ex(reply, "tables", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			om_table(&om, json_object_array_get_idx(arr, i));
	if (om.oom)
		rc = -1;
	for (size_t i = 0; i < om.n && !rc; i++) {
		struct om_family *f = &om.fam[i];

		fprintf(out, "# TYPE %s %s\n", f->name, f->counter ? "counter" : "gauge");
		if (f->unit)
			fprintf(out, "# UNIT %s %s\n", f->name, f->unit);
		fprintf(out, "# HELP %s %s\n", f->name, f->help);
		fwrite(f->text, 1, f->len, out);
	}
	if (!rc)
		fprintf(out, "# EOF\n");
	for (size_t i = 0; i < om.n; i++)
		free(om.fam[i].text);
	free(om.fam);
	return rc;
}
