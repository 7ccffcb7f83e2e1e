/* commands.c - the control command table: vswctl's argv and usage from it, vswd's check and dispatch by it. */
#include "ctl/commands.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "ctl/port_opts.h"
#include "lib/json_param.h"
#include "lib/strbuf.h"
#include "port/port_types.h"

/*
 * Security model.
 *
 * A control client is trusted to run the switch (root, vswd's user or the
 * control group: ctl_sock.c), not to be careful: a request is a line of
 * JSON from anyone who can reach the socket.  Before any handler runs,
 * vswd_handle_request() checks it against one row of the table below:
 *   - it is a JSON object with a "cmd" string naming a row;
 *   - every key is "cmd" or one of the row's arguments, so a typo is
 *     refused instead of silently meaning the default (port-add: or a key
 *     of the port's type, or a generic port option, by the type table in
 *     port/port_types.c; one that names a file only from a privileged
 *     peer);
 *   - every value has its type: strings within their byte length and
 *     without NUL, integers within their range, booleans, one of an
 *     enum's values;
 *   - every required key is there.
 * The refusal names the command and the key.  Handlers then check meaning
 * (the port exists, the filter compiles, the file is writable) and own
 * what they keep (a passed fd: struct ctl_peer).
 */

#define PORT_TYPE_NAME_MAX 31
#define CTL_FILTER_MAX (CTL_REQUEST_MAX / 2 - 1)

static const char *const dir_choices[] = { "rx", "tx", "both", NULL };
static const char *const perf_words[] = { "disable", "enable", NULL };

static const struct ctl_arg no_args[] = { { 0 } };

static const struct ctl_arg port_add_args[] = {
	{ "name", CTL_STR, CTL_ARG_REQUIRED, NULL, "NAME", 1, PORT_NAME_MAX - 1, NULL },
	{ "type", CTL_STR, CTL_ARG_REQUIRED, NULL, "TYPE", 1, PORT_TYPE_NAME_MAX, NULL },
	{ "params", CTL_PORT_PARAMS, 0, NULL, "KEY=VALUE", 0, 0, NULL },
	{ 0 },
};

static const struct ctl_arg port_del_args[] = {
	{ "name", CTL_STR, CTL_ARG_REQUIRED, NULL, "NAME", 1, PORT_NAME_MAX - 1, NULL },
	{ 0 },
};

static const struct ctl_arg fdb_show_args[] = {
	{ "limit", CTL_UINT, 0, "--limit", "N", 0, FDB_SHOW_MAX, NULL },
	{ 0 },
};

/* vswctl's own: the reply as OpenMetrics text (ctl_metrics.c) instead of a table. */
static const struct ctl_arg stats_args[] = {
	{ "openmetrics", CTL_BOOL, CTL_ARG_LOCAL, "--openmetrics", NULL, 0, 0, NULL },
	{ 0 },
};

static const struct ctl_arg perf_set_args[] = {
	{ "enabled", CTL_BOOL, CTL_ARG_REQUIRED, NULL, NULL, 0, 0, perf_words },
	{ 0 },
};

/* "file" only names the file vswctl opens and passes along; without one, vswd creates it (privileged peers). */
static const struct ctl_arg capture_start_args[] = {
	{ "port", CTL_STR, CTL_ARG_REQUIRED, NULL, "PORT", 1, PORT_NAME_MAX - 1, NULL },
	{ "dir", CTL_ENUM, 0, "--dir", NULL, 0, 0, dir_choices },
	{ "count", CTL_UINT, 0, "--count", "N", 0, UINT32_MAX, NULL },
	{ "seconds", CTL_SECONDS, CTL_ARG_LOCAL, "--seconds", "S", 0, 0, NULL },
	{ "file", CTL_STR, 0, "-w", "FILE.pcap", 1, PATH_MAX - 1, NULL },
	{ "stop", CTL_BOOL, CTL_ARG_LOCAL, "--stop", NULL, 0, 0, NULL },
	{ "filter", CTL_WORDS, 0, NULL, "FILTER", 0, CTL_FILTER_MAX, NULL },
	{ 0 },
};

static const struct ctl_arg capture_stop_args[] = {
	{ "port", CTL_STR, CTL_ARG_REQUIRED, NULL, "PORT", 1, PORT_NAME_MAX - 1, NULL },
	{ "if_done", CTL_BOOL, 0, NULL, NULL, 0, 0, NULL },
	{ 0 },
};

#define CTL_FLOW_MAX 8191

static const struct ctl_arg flow_args[] = {
	{ "flow", CTL_WORDS, CTL_ARG_REQUIRED, NULL, "FLOW", 1, CTL_FLOW_MAX, NULL },
	{ 0 },
};

static const struct ctl_arg flow_filter_args[] = {
	{ "flow", CTL_WORDS, 0, NULL, "FLOW", 0, CTL_FLOW_MAX, NULL },
	{ 0 },
};

static const struct ctl_arg flow_dump_args[] = {
	{ "table", CTL_UINT, 0, "--table", "N", 0, 253, NULL },
	{ "flow", CTL_WORDS, 0, NULL, "FLOW", 0, CTL_FLOW_MAX, NULL },
	{ 0 },
};

static const char *const miss_choices[] = { "drop", "continue", "normal", NULL };

static const struct ctl_arg flow_mod_table_args[] = {
	{ "table", CTL_UINT, CTL_ARG_REQUIRED, NULL, "TABLE", 0, 253, NULL },
	{ "miss", CTL_ENUM, CTL_ARG_REQUIRED, NULL, NULL, 0, 0, miss_choices },
	{ 0 },
};

static const struct ctl_arg flow_replace_args[] = {
	{ "file", CTL_STR, CTL_ARG_REQUIRED, NULL, "FILE", 1, PATH_MAX - 1, NULL },
	{ 0 },
};

/* "vni=N" words: options spelled KEY=VALUE, as the issue and `port add` spell them. */
static const struct ctl_arg tunnel_fdb_add_args[] = {
	{ "mac", CTL_STR, CTL_ARG_REQUIRED, NULL, "MAC", 17, 17, NULL },
	{ "vni", CTL_UINT, 0, "vni=", "N", 0, 0xffffff, NULL },
	{ "remote", CTL_STR, CTL_ARG_REQUIRED, "remote=", "IP", 1, 63, NULL },
	{ "port", CTL_STR, 0, "port=", "PORT", 1, PORT_NAME_MAX - 1, NULL },
	{ 0 },
};

static const struct ctl_arg tunnel_fdb_del_args[] = {
	{ "mac", CTL_STR, CTL_ARG_REQUIRED, NULL, "MAC", 17, 17, NULL },
	{ "vni", CTL_UINT, 0, "vni=", "N", 0, 0xffffff, NULL },
	{ "remote", CTL_STR, 0, "remote=", "IP", 1, 63, NULL },
	{ "port", CTL_STR, 0, "port=", "PORT", 1, PORT_NAME_MAX - 1, NULL },
	{ 0 },
};

static const struct ctl_arg tunnel_fdb_show_args[] = {
	{ "port", CTL_STR, 0, "port=", "PORT", 1, PORT_NAME_MAX - 1, NULL },
	{ 0 },
};

/* Help lines: at most 44 characters each (they start at column 36); '\n' starts the next. */
const struct ctl_command ctl_commands[] = {
	{ "port-add", "port add", port_add_args, ctl_port_add, NULL, 0, "add a port: TYPE and its KEYs one of" },
	{ "port-del", "port del", port_del_args, ctl_port_del, NULL, 0, "delete a port (ends its capture)" },
	{ "show", "show", no_args, ctl_show, ctl_show_print, 0,
	  "the switch, its ports: type, state,\noptions; the numbers kept for deleted\nports that flows name" },
	{ "stats", "stats", stats_args, ctl_stats, ctl_stats_print, 0,
	  "per port: frames, bytes, drops, FDB events;\nper queue: frames, bytes; per worker:\n"
	  "rounds, busy cycles and frames, stage\ntiming; per flow table: flows, matched;\n"
	  "per vxlan port: rx drops, remotes, fdb;\n--openmetrics: for Prometheus" },
	{ "fdb-show", "fdb show", fdb_show_args, ctl_fdb_show, ctl_fdb_show_print, 0,
	  "the MAC table: address, port, age (the first N entries: default 65536, 0 for the count alone)" },
	{ "perf-show", "perf show", no_args, ctl_perf_show, ctl_perf_show_print, 0,
	  "data path stage timing per worker and summed" },
	{ "perf-reset", "perf reset", no_args, ctl_perf_reset, NULL, 0, "stage timing counters start from zero" },
	{ "perf-set", "perf", perf_set_args, ctl_perf_set, NULL, 0, "stage timing on or off" },
	{ "capture-start", "capture", capture_start_args, ctl_capture_start, NULL, CTL_CMD_CAPTURE,
	  "record PORT's frames matching FILTER\n(pcap-filter(7)) into FILE.pcap until N\nframes (0: no limit), "
	  "S seconds or ^C;\n--stop ends a capture whose vswctl is gone" },
	{ "flow-add", "flow add", flow_args, ctl_flow_edit, NULL, 0,
	  "add a flow (ovs-ofctl add-flow syntax,\ndocs/FLOWS.md); ports by name or id" },
	{ "flow-mod", "flow mod", flow_args, ctl_flow_edit, NULL, 0, "new actions for the flows FLOW covers" },
	{ "flow-mod-strict", "flow mod-strict", flow_args, ctl_flow_edit, NULL, 0,
	  "new actions for the flow of FLOW's\npriority and match" },
	{ "flow-del", "flow del", flow_filter_args, ctl_flow_edit, NULL, 0,
	  "delete the flows FLOW covers (none: all)" },
	{ "flow-del-strict", "flow del-strict", flow_args, ctl_flow_edit, NULL, 0,
	  "delete the flow of FLOW's priority\nand match" },
	{ "flow-dump", "flow dump", flow_dump_args, ctl_flow_dump, ctl_flow_dump_print, 0,
	  "the flows (FLOW covers; table N) with\ntheir counters" },
	{ "flow-mod-table", "flow mod-table", flow_mod_table_args, ctl_flow_mod_table, NULL, 0,
	  "TABLE's misses: drop (the default),\ncontinue in the next table, or normal" },
	{ "flow-dump-tables", "flow dump-tables", no_args, ctl_flow_dump_tables, ctl_flow_dump_tables_print, 0,
	  "per table: rules, lookups, misses,\nmatched frames, miss behaviour" },
	{ "flow-dump-cache", "flow dump-cache", no_args, ctl_flow_dump_cache, ctl_flow_dump_cache_print, 0,
	  "per worker: its megaflows (masked key,\noutputs), as ovs-appctl dpctl/dump-flows" },
	{ "flow-replace", "flow replace", flow_replace_args, ctl_flow_replace, NULL, CTL_CMD_FILE_IN,
	  "every flow replaced by FILE's, one\nadd-flow line each, in one commit" },
	{ "trace", "trace", flow_args, ctl_trace, ctl_trace_print, 0,
	  "the tables, rules and actions a frame\nwith FLOW's fields goes through" },
	{ "tunnel-fdb-add", "tunnel fdb add", tunnel_fdb_add_args, ctl_tunnel_fdb_add, NULL, 0,
	  "MAC in VNI N is behind VTEP IP on vxlan\nport PORT (static: never ages, wins over\nlearning; saved); "
	  "MAC 00:00:00:00:00:00:\nIP joins VNI N's own flood list" },
	{ "tunnel-fdb-del", "tunnel fdb del", tunnel_fdb_del_args, ctl_tunnel_fdb_del, NULL, 0,
	  "forget MAC in VNI N (static or learned);\n00:00:00:00:00:00: IP (or all) out of\nVNI N's flood list" },
	{ "tunnel-fdb-show", "tunnel fdb show", tunnel_fdb_show_args, ctl_tunnel_fdb_show, ctl_tunnel_fdb_show_print, 0,
	  "the vxlan ports' remote MACs: VNI, VTEP,\nage or static" },
	{ "capture-stop", NULL, capture_stop_args, ctl_capture_stop, NULL, 0,
	  "stop a capture and report its counts;\n\"if_done\": only once it reached its count" },
};

const size_t ctl_ncommands = sizeof(ctl_commands) / sizeof(ctl_commands[0]);

const struct ctl_command *ctl_command_find(const char *cmd)
{
	for (size_t i = 0; cmd && i < ctl_ncommands; i++)
		if (strcmp(ctl_commands[i].cmd, cmd) == 0)
			return &ctl_commands[i];
	return NULL;
}

struct json_object *ctl_reply_ok(void)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return r;
}

struct json_object *ctl_reply_error(const char *msg)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

const char *ctl_reply_str(struct json_object *o, const char *k)
{
	struct json_object *f;

	return json_object_object_get_ex(o, k, &f) ? json_object_get_string(f) : "";
}

int64_t ctl_reply_int(struct json_object *o, const char *k)
{
	struct json_object *f;

	return json_object_object_get_ex(o, k, &f) ? json_object_get_int64(f) : 0;
}

double ctl_reply_double(struct json_object *o, const char *k)
{
	struct json_object *f;

	return json_object_object_get_ex(o, k, &f) ? json_object_get_double(f) : 0;
}

/* ---- the check: every request, before its handler ---- */

/* Is @a a key of the request (not vswctl's own, not the port parameters' placeholder)? */
static bool arg_on_wire(const struct ctl_arg *a)
{
	return !(a->flags & CTL_ARG_LOCAL) && a->type != CTL_PORT_PARAMS;
}

static const struct ctl_arg *wire_arg(const struct ctl_command *c, const char *key)
{
	for (const struct ctl_arg *a = c->args; a->key; a++)
		if (arg_on_wire(a) && strcmp(a->key, key) == 0)
			return a;
	return NULL;
}

/* What a value of @a must be, for messages: "a string of 1 to 31 bytes", "true or false". */
static void arg_want(const struct ctl_arg *a, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	switch (a->type) {
	case CTL_STR:
	case CTL_WORDS:
		strbuf_addf(buf, len, &used, "a string of %u to %u bytes, no NUL", a->min, a->max);
		break;
	case CTL_UINT:
		strbuf_addf(buf, len, &used, "an integer from %u to %u", a->min, a->max);
		break;
	case CTL_BOOL:
		strbuf_addf(buf, len, &used, "true or false");
		break;
	case CTL_ENUM:
		strbuf_addf(buf, len, &used, "one of");
		for (size_t i = 0; a->choices[i]; i++)
			strbuf_addf(buf, len, &used, "%s \"%s\"", i ? "," : "", a->choices[i]);
		break;
	case CTL_SECONDS:
		strbuf_addf(buf, len, &used, "a positive number of seconds");
		break;
	case CTL_PORT_PARAMS:
		strbuf_addf(buf, len, &used, "KEY=VALUE");
		break;
	}
}

static bool arg_value_ok(const struct ctl_arg *a, struct json_object *f)
{
	const char *s;
	int64_t x;
	int len;

	switch (a->type) {
	case CTL_STR:
	case CTL_WORDS:
		if (!json_object_is_type(f, json_type_string))
			return false;
		s = json_object_get_string(f);
		len = json_object_get_string_len(f);
		return len >= 0 && (size_t)len == strlen(s) && (unsigned)len >= a->min && (unsigned)len <= a->max;
	case CTL_UINT:
		if (!json_object_is_type(f, json_type_int))
			return false;
		x = json_object_get_int64(f);
		return x >= a->min && x <= a->max;
	case CTL_BOOL:
		return json_object_is_type(f, json_type_boolean);
	case CTL_ENUM:
		if (!json_object_is_type(f, json_type_string))
			return false;
		s = json_object_get_string(f);
		for (size_t i = 0; a->choices[i]; i++)
			if (strcmp(s, a->choices[i]) == 0)
				return true;
		return false;
	case CTL_SECONDS:
	case CTL_PORT_PARAMS:
		break;
	}
	return false;
}

/* The keys a port-add request carries besides its own: the port type's and the generic options (port_types.c). */
static int port_params_check(const struct ctl_command *c, struct json_object *req, bool privileged, char *err,
			     size_t errlen)
{
	const char *type = json_param_str(req, "type");
	const struct port_type *pt = port_type_find(type);

	if (!pt) {
		snprintf(err, errlen, "%s: \"type\": unknown port type %.32s (known: %s)", c->cmd, type ? type : "(none)",
			 port_type_names());
		return -1;
	}
	return port_type_check(pt, req, port_opts_keys, privileged, err, errlen);
}

int ctl_request_check(const struct ctl_command *c, struct json_object *req, bool privileged, char *err,
		      size_t errlen)
{
	bool port_params = false;
	char want[128];

	if (!json_object_is_type(req, json_type_object)) {
		snprintf(err, errlen, "%s: a request is a JSON object", c->cmd);
		return -1;
	}
	for (const struct ctl_arg *a = c->args; a->key; a++)
		port_params |= a->type == CTL_PORT_PARAMS;
	json_object_object_foreach(req, key, val)
	{
		const struct ctl_arg *a = wire_arg(c, key);
		char valid[160] = "";

		if (strcmp(key, "cmd") == 0)
			continue;
		if (!a && port_params)
			continue; /* the port type's table decides, below */
		if (!a) {
			for (a = c->args; a->key; a++)
				if (arg_on_wire(a))
					json_list_add(valid, sizeof(valid), a->key);
			snprintf(err, errlen, "unknown key \"%.40s\" in %s (valid: %s)", key, c->cmd,
				 valid[0] ? valid : "none");
			return -1;
		}
		if (!arg_value_ok(a, val)) {
			arg_want(a, want, sizeof(want));
			snprintf(err, errlen, "%s: \"%s\" must be %s", c->cmd, key, want);
			return -1;
		}
	}
	for (const struct ctl_arg *a = c->args; a->key; a++) {
		if (!arg_on_wire(a) || !(a->flags & CTL_ARG_REQUIRED) || json_object_object_get_ex(req, a->key, NULL))
			continue;
		arg_want(a, want, sizeof(want));
		snprintf(err, errlen, "%s: \"%s\" is missing (%s)", c->cmd, a->key, want);
		return -1;
	}
	return port_params ? port_params_check(c, req, privileged, err, errlen) : 0;
}

struct json_object *vswd_handle_request(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	const char *cmd = json_object_is_type(req, json_type_object) ? json_param_str(req, "cmd") : NULL;
	const struct ctl_command *c = ctl_command_find(cmd);
	char err[256], names[200] = "";

	if (!cmd)
		return ctl_reply_error("a request is a JSON object with a \"cmd\" string");
	if (!c) {
		for (size_t i = 0; i < ctl_ncommands; i++)
			json_list_add(names, sizeof(names), ctl_commands[i].cmd);
		snprintf(err, sizeof(err), "unknown command \"%.64s\" (%s)", cmd, names);
		return ctl_reply_error(err);
	}
	if (ctl_request_check(c, req, peer->privileged, err, sizeof(err)) < 0)
		return ctl_reply_error(err);
	return c->handle(v, req, peer);
}

/* ---- vswctl: command words into a request ---- */

/* How many of @argv the words of @c are (all of them), or 0. */
static int words_match(const struct ctl_command *c, int argc, char *const *argv)
{
	const char *w = c->words;
	int n = 0;

	while (*w) {
		size_t len = strcspn(w, " ");

		if (n >= argc || strlen(argv[n]) != len || strncmp(argv[n], w, len) != 0)
			return 0;
		n++;
		w += len + (w[len] == ' ');
	}
	return n;
}

/* The next positional argument of @c's row from @a on, or NULL. */
static const struct ctl_arg *next_positional(const struct ctl_arg *a)
{
	while (a && a->key && a->opt)
		a++;
	return a && a->key ? a : NULL;
}

/* The option of @c's row spelled KEY=VALUE (its opt ends with '=') that word @s gives, or NULL. */
static const struct ctl_arg *eq_option(const struct ctl_command *c, const char *s)
{
	for (const struct ctl_arg *a = c->args; a->key; a++) {
		size_t n = a->opt ? strlen(a->opt) : 0;

		if (n && a->opt[n - 1] == '=' && strncmp(s, a->opt, n) == 0)
			return a;
	}
	return NULL;
}

/* How @a is named on the command line: its option, or its value's name. */
static const char *arg_cli_name(const struct ctl_arg *a)
{
	return a->opt ? a->opt : a->meta ? a->meta : a->key;
}

/* "KEY=VALUE" into the request: a number when the whole value reads as one, else a string. */
static int put_port_param(const struct ctl_call *call, const char *s, char *err, size_t errlen)
{
	const char *eq = strchr(s, '=');
	char key[64], *end;
	long long x;

	if (!eq || eq == s || (size_t)(eq - s) >= sizeof(key)) {
		snprintf(err, errlen, "%s: expected KEY=VALUE, got \"%.64s\"", call->cmd->words, s);
		return -1;
	}
	memcpy(key, s, (size_t)(eq - s));
	key[eq - s] = '\0';
	if (strcmp(key, "cmd") == 0 || wire_arg(call->cmd, key)) {
		snprintf(err, errlen, "%s: %s= is not a port parameter", call->cmd->words, key);
		return -1;
	}
	errno = 0;
	x = strtoll(eq + 1, &end, 10);
	if (eq[1] && !*end && !errno)
		json_object_object_add(call->req, key, json_object_new_int64(x));
	else
		json_object_object_add(call->req, key, json_object_new_string(eq + 1));
	return 0;
}

/* The word @s as @a's value, into the request or the local arguments.  0, or -1 with @err. */
static int put_arg(struct ctl_call *call, const struct ctl_arg *a, const char *s, char *err, size_t errlen)
{
	struct json_object *dst = a->flags & CTL_ARG_LOCAL ? call->local : call->req, *val = NULL, *old;
	char want[128], *end;

	switch (a->type) {
	case CTL_STR:
		val = json_object_new_string(s);
		break;
	case CTL_UINT: {
		unsigned long long x;

		errno = 0;
		x = strtoull(s, &end, 10);
		if (s[0] >= '0' && s[0] <= '9' && !*end && !errno && x >= a->min && x <= a->max)
			val = json_object_new_int64((int64_t)x);
		break;
	}
	case CTL_BOOL:
		for (int i = 0; a->choices && i < 2; i++)
			if (strcmp(s, a->choices[i]) == 0)
				val = json_object_new_boolean(i);
		break;
	case CTL_ENUM:
		for (size_t i = 0; a->choices[i]; i++)
			if (strcmp(s, a->choices[i]) == 0)
				val = json_object_new_string(s);
		break;
	case CTL_SECONDS: {
		double x = strtod(s, &end);

		if (end != s && !*end && isfinite(x) && x > 0)
			val = json_object_new_double(x);
		break;
	}
	case CTL_WORDS:
		/* Joined by one blank: "icmp" "and" "host" "a" is the filter "icmp and host a". */
		if (json_object_object_get_ex(dst, a->key, &old)) {
			size_t n = strlen(json_object_get_string(old)), m = strlen(s);
			char *j = malloc(n + m + 2);

			if (!j)
				break;
			memcpy(j, json_object_get_string(old), n);
			j[n] = ' ';
			memcpy(j + n + 1, s, m + 1);
			val = json_object_new_string(j);
			free(j);
		} else {
			val = json_object_new_string(s);
		}
		break;
	case CTL_PORT_PARAMS:
		return put_port_param(call, s, err, errlen);
	}
	if (!val) {
		if (a->type == CTL_BOOL && a->choices)
			snprintf(want, sizeof(want), "%s or %s", a->choices[1], a->choices[0]);
		else
			arg_want(a, want, sizeof(want));
		if (a->opt)
			snprintf(err, errlen, "%s: %s: \"%.64s\" is not %s", call->cmd->words, a->opt, s, want);
		else
			snprintf(err, errlen, "%s: \"%.64s\" is not %s", call->cmd->words, s, want);
		return -1;
	}
	json_object_object_add(dst, a->key, val);
	return 0;
}

int ctl_build(int argc, char *const *argv, struct ctl_call *call, char *err, size_t errlen)
{
	const struct ctl_command *c = NULL;
	const struct ctl_arg *pos;
	bool opts_done = false;
	int nwords = 0;

	memset(call, 0, sizeof(*call));
	for (size_t i = 0; i < ctl_ncommands; i++) {
		int n = ctl_commands[i].words ? words_match(&ctl_commands[i], argc, argv) : 0;

		if (n > nwords) {
			nwords = n;
			c = &ctl_commands[i];
		}
	}
	if (!c) {
		snprintf(err, errlen, argc ? "unknown command \"%.64s\"" : "no command", argc ? argv[0] : "");
		return -1;
	}
	call->cmd = c;
	call->req = json_object_new_object();
	call->local = json_object_new_object();
	json_object_object_add(call->req, "cmd", json_object_new_string(c->cmd));
	pos = next_positional(c->args);
	for (int i = nwords; i < argc; i++) {
		const char *s = argv[i];
		const struct ctl_arg *a;

		if (!opts_done && strcmp(s, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (!opts_done && (a = eq_option(c, s)) != NULL) {
			if (put_arg(call, a, s + strlen(a->opt), err, errlen) < 0)
				return -1;
			continue;
		}
		if (!opts_done && s[0] == '-' && s[1]) {
			if (strcmp(s, "--json") == 0) {
				call->json = true;
				continue;
			}
			for (a = c->args; a->key && !(a->opt && strcmp(a->opt, s) == 0); a++)
				;
			if (!a->key) {
				snprintf(err, errlen, "%s: unknown option %.64s", c->words, s);
				return -1;
			}
			if (a->type == CTL_BOOL) {
				json_object_object_add(a->flags & CTL_ARG_LOCAL ? call->local : call->req, a->key,
						       json_object_new_boolean(1));
				continue;
			}
			if (i + 1 >= argc) {
				snprintf(err, errlen, "%s: %s wants a value", c->words, s);
				return -1;
			}
			if (put_arg(call, a, argv[++i], err, errlen) < 0)
				return -1;
			continue;
		}
		if (!pos) {
			snprintf(err, errlen, "%s: unexpected \"%.64s\"", c->words, s);
			return -1;
		}
		if (put_arg(call, pos, s, err, errlen) < 0)
			return -1;
		if (pos->type != CTL_WORDS && pos->type != CTL_PORT_PARAMS)
			pos = next_positional(pos + 1);
	}
	for (const struct ctl_arg *a = c->args; a->key; a++) {
		struct json_object *dst = a->flags & CTL_ARG_LOCAL ? call->local : call->req;

		if ((a->flags & CTL_ARG_REQUIRED) && !json_object_object_get_ex(dst, a->key, NULL)) {
			char want[128];

			if (a->type == CTL_BOOL && a->choices)
				snprintf(want, sizeof(want), "%s or %s", a->choices[1], a->choices[0]);
			else
				snprintf(want, sizeof(want), "%s", arg_cli_name(a));
			snprintf(err, errlen, "%s: missing %s", c->words, want);
			return -1;
		}
	}
	/* vswd decides on files (privileged or not); everything else is refused here as vswd would. */
	return ctl_request_check(c, call->req, true, err, errlen);
}

void ctl_call_free(struct ctl_call *call)
{
	json_object_put(call->req);
	json_object_put(call->local);
	call->req = call->local = NULL;
}

/* ---- usage ---- */

size_t ctl_command_synopsis(const struct ctl_command *c, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	strbuf_addf(buf, len, &used, "%s", c->words ? c->words : c->cmd);
	for (const struct ctl_arg *a = c->args; a->key; a++) {
		bool req = a->flags & CTL_ARG_REQUIRED;

		strbuf_addf(buf, len, &used, " %s", req ? "" : "[");
		if (a->opt) {
			bool joined = a->type == CTL_BOOL || a->opt[strlen(a->opt) - 1] == '='; /* "--flag", "vni=N" */

			strbuf_addf(buf, len, &used, "%s%s", a->opt, joined ? "" : " ");
		}
		if (a->type == CTL_BOOL && a->choices)
			strbuf_addf(buf, len, &used, "%s|%s", a->choices[1], a->choices[0]);
		else if (a->type == CTL_ENUM)
			for (size_t i = 0; a->choices[i]; i++)
				strbuf_addf(buf, len, &used, "%s%s", i ? "|" : "", a->choices[i]);
		else if (a->type != CTL_BOOL)
			strbuf_addf(buf, len, &used, "%s", a->meta ? a->meta : "VALUE");
		strbuf_addf(buf, len, &used, "%s%s", a->type == CTL_WORDS || a->type == CTL_PORT_PARAMS ? "..." : "",
		    req ? "" : "]");
	}
	return used;
}

size_t ctl_commands_help(char *buf, size_t len, const char *prefix)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < ctl_ncommands; i++) {
		const struct ctl_command *c = &ctl_commands[i];
		char syn[256], types_prefix[64];
		size_t need;

		if (!c->words)
			continue;
		ctl_command_synopsis(c, syn, sizeof(syn));
		strbuf_addf(buf, len, &used, "%s%-32s", prefix, syn);
		for (const char *h = c->help; *h;) {
			int n = (int)strcspn(h, "\n");

			/* After a long synopsis, the help starts on the next line. */
			if (h != c->help || strlen(syn) > 32)
				strbuf_addf(buf, len, &used, "\n%s%-32s", prefix, "");
			strbuf_addf(buf, len, &used, "  %.*s", n, h);
			h += n + (h[n] == '\n');
		}
		strbuf_addf(buf, len, &used, "\n");
		for (const struct ctl_arg *a = c->args; a->key; a++) {
			if (a->type != CTL_PORT_PARAMS)
				continue;
			/* The port types and their keys come from the type table (port_types.c), never from text here. */
			snprintf(types_prefix, sizeof(types_prefix), "%s    ", prefix);
			need = port_types_help(used < len ? buf + used : NULL, used < len ? len - used : 0, types_prefix);
			used += need;
			strbuf_addf(buf, len, &used, "%sany type: [mac=MAC[,MAC..]] [ip=ADDR[,ADDR..]] [mac_limit=N] "
			    "[flood_rate=PPS]\n", types_prefix);
			strbuf_addf(buf, len, &used, "%s          [tag=VLAN] [trunks=VLAN[,LO-HI..]] "
			    "[vlan_mode=access|trunk|native-tagged|native-untagged]\n", types_prefix);
			strbuf_addf(buf, len, &used, "%s          [ofport_request=N] (N: the port's number in flows, "
			    "%d to %d; taken: another, logged)\n", types_prefix, PORT_FIRST, PORT_MAX - 1);
		}
	}
	return used;
}
