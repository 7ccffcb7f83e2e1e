/* state.c - the run-time configuration (ports added by request, flows) saved to STATE_DIR/state.json on every change and restored at start. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/config_load.h"
#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "ctl/port_opts.h"
#include "lib/atomic_file.h"
#include "lib/json_param.h"
#include "lib/log.h"
#include "port/port_types.h"

/*
 * The file (docs/VSWD.md, "State directory"), pretty-printed, every key
 * and every port in a stable order so that two versions diff line by line:
 *
 *   {
 *     "format": "vsw-state",
 *     "version": 1,
 *     "checksum": "fnv1a64:<16 hex digits>",
 *     "ports": [ { port-add request as given, keys sorted }, ... sorted by name ],
 *     "flows": [ "flow line", ... in the flow db's order ],
 *     "tunnel_fdb": [ { "port", "vni", "mac", "remote" }, ... ]   only when there is a static one
 *     "ofports": [ { "name", "ofport" }, ... by number ]   only when a slot is named
 *   }
 *
 * "ofports" are the port numbers (slots: what in_port=N and output:N
 * mean) of every port, the config file's too, and of every name kept for
 * a deleted or absent port that rules name (ctl_ports.c, "Slots and
 * names").  A file without them (written before they were) still loads,
 * and its ports are numbered in the order they come, as then.
 *
 * Number 0: a vswd before numbers started at 1 (docs/FLOWS.md, "Ports in
 * flows") gave the first port slot 0, and recorded it so; 0 is OpenFlow's
 * reserved port now, never given.  Such a file still loads: the name
 * recorded at 0 gets the first number free once the others are given
 * back (so it takes none of theirs), with one log line naming the port,
 * both numbers and what to rewrite.  The state's flows name ports by
 * name, so they follow it; only rules and scripts kept elsewhere that say
 * in_port=0 or output:0 must be rewritten (vswd now refuses port 0 in a
 * flow).  A saved port request with ofport_request=0 (the same vswd took
 * it) is restored without it, logged, rather than refused.
 *
 * The checksum covers {"ports":...,"flows":...[,"tunnel_fdb":...][,"ofports":...]} printed plain (json-c,
 * no spaces, '/' unescaped), so that a bit flipped or a hand edit is
 * caught; a cut file is caught by the parser first (the object is never
 * closed).  Writes go through lib/atomic_file.h: a crash leaves the old
 * file or the new one.
 *
 * Restore is three steps.  Check (vswd_state_load, before the config's
 * ports): parse, format and version, the keys, every port entry against
 * its type's table (port_type_check, as a privileged request), no
 * duplicate name, the ofports (numbers 0 to 65279, 0 as an old vswd
 * wrote it, no name or number twice), then the checksum; any failure and the file is renamed
 * state.json.corrupt-TIME and nothing of it is applied.  Numbers: each
 * name is given its recorded number before any port is added.  Apply
 * (vswd_state_restore): each port as a port-add request, its static tunnel
 * fdb entries (vswctl tunnel fdb add: ctl_tunnel.c), then the flows
 * (replacing those of the flows file, all or nothing); a port whose
 * creation fails (its interface is gone, its socket path is taken) or
 * that the config file already has (the config wins) is logged and left
 * out, the others come back; then the file is kept as
 * state.json.unapplied-TIME and rewritten with what is in force.
 */

#define STATE_FORMAT "vsw-state"
#define STATE_VERSION 1
#define STATE_FILE "state.json"

static int state_path(const struct vswd *v, const char *suffix, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/" STATE_FILE "%s", v->cfg.state_dir, suffix) < len ? 0 : -ENAMETOOLONG;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void vswd_state_port_set(struct vswd *v, unsigned slot, struct json_object *req)
{
	struct json_object *o = NULL;

	if (slot >= PORT_MAX)
		return;
	if (req) {
		const char *keys[128];
		size_t n = 0;

		/* The request's keys sorted (a port has a dozen at most; commands.c bounds a request's size). */
		o = json_object_new_object();
		json_object_object_foreach(req, key, val)
		{
			(void)val;
			if (strcmp(key, "cmd") != 0 && n < sizeof(keys) / sizeof(keys[0]))
				keys[n++] = key;
		}
		qsort(keys, n, sizeof(keys[0]), cmp_str);
		for (size_t i = 0; i < n; i++) {
			struct json_object *copy = NULL;

			json_object_deep_copy(json_object_object_get(req, keys[i]), &copy, NULL);
			json_object_object_add(o, keys[i], copy);
		}
	}
	json_object_put(v->state_ports[slot]);
	v->state_ports[slot] = o;
}

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The checksum of @ports, @flows (and @tunnel_fdb, @ofports, when not NULL) as the file records it, into @buf (32 bytes). */
static void state_checksum(struct json_object *ports, struct json_object *flows, struct json_object *tunnel_fdb,
			   struct json_object *ofports, char *buf, size_t len)
{
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "ports", json_object_get(ports));
	json_object_object_add(body, "flows", json_object_get(flows));
	if (tunnel_fdb)
		json_object_object_add(body, "tunnel_fdb", json_object_get(tunnel_fdb));
	if (ofports)
		json_object_object_add(body, "ofports", json_object_get(ofports));
	snprintf(buf, len, "fnv1a64:%016" PRIx64,
		 fnv1a64(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
	json_object_put(body);
}

static int cmp_port_name(const void *a, const void *b)
{
	return strcmp(json_param_str(*(struct json_object *const *)a, "name"),
		      json_param_str(*(struct json_object *const *)b, "name"));
}

/*
 * The "ofports" to record: each slot with a port, and each kept for a
 * name that rules name (a kept name no rule names is free to be
 * forgotten: not worth a number across a restart).  NULL: none.
 */
static struct json_object *state_ofports(struct vswd *v)
{
	struct json_object *a = json_object_new_array();
	unsigned *rules;

	(void)vswd_kept_rule_counts(v, &rules); /* out of memory: NULL, every kept name recorded, none lost */
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct json_object *e;

		if (!v->slot_names[i][0] || (!atomic_load(&v->sw->ports[i]) && rules && !rules[i]))
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "name", json_object_new_string(v->slot_names[i]));
		json_object_object_add(e, "ofport", json_object_new_int((int)i));
		json_object_array_add(a, e);
	}
	free(rules);
	if (!json_object_array_length(a)) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

/* The whole file as an object (NULL: out of memory). */
static struct json_object *state_build(struct vswd *v)
{
	struct json_object **sorted, *o, *ports, *flows, *tunnel_fdb, *ofports;
	char sum[32];
	size_t n = 0;

	flows = vswd_flows_lines(v);
	sorted = malloc(PORT_MAX * sizeof(*sorted));
	if (!flows || !sorted) {
		json_object_put(flows);
		free(sorted);
		return NULL;
	}
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (v->state_ports[i])
			sorted[n++] = v->state_ports[i];
	qsort(sorted, n, sizeof(*sorted), cmp_port_name);
	ports = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(ports, json_object_get(sorted[i]));
	free(sorted);
	tunnel_fdb = ctl_tunnel_fdb_entries(v, NULL, true);
	if (!json_object_array_length(tunnel_fdb)) {
		/* no static entry: the file as before tunnels had them */
		json_object_put(tunnel_fdb);
		tunnel_fdb = NULL;
	}
	ofports = state_ofports(v);
	state_checksum(ports, flows, tunnel_fdb, ofports, sum, sizeof(sum));
	o = json_object_new_object();
	json_object_object_add(o, "format", json_object_new_string(STATE_FORMAT));
	json_object_object_add(o, "version", json_object_new_int(STATE_VERSION));
	json_object_object_add(o, "checksum", json_object_new_string(sum));
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "flows", flows);
	if (tunnel_fdb)
		json_object_object_add(o, "tunnel_fdb", tunnel_fdb);
	if (ofports)
		json_object_object_add(o, "ofports", ofports);
	return o;
}

static int state_fill(void *arg, FILE *f)
{
	const char *text = json_object_to_json_string_ext(arg, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								  JSON_C_TO_STRING_NOSLASHESCAPE);

	return fprintf(f, "%s\n", text) < 0 ? -EIO : 0;
}

int vswd_state_changed(struct vswd *v, char *err, size_t errlen)
{
	struct json_object *o;
	char path[PATH_MAX];
	int rc;

	/*
	 * Between vswd_state_load and vswd_state_restore (the config's ports,
	 * the flows file's commit) the file is all there is of the state's
	 * ports and flows: a save then would hold the config's ports alone,
	 * and a stop before the restore would lose the rest.
	 */
	if (!v->cfg.state_dir[0] || v->state_restoring || v->state_loaded)
		return 0;
	rc = state_path(v, "", path, sizeof(path));
	o = rc ? NULL : state_build(v);
	if (!rc && !o)
		rc = -ENOMEM;
	if (!rc)
		rc = atomic_file_write(path, state_fill, o);
	json_object_put(o);
	if (rc < 0) {
		log_err("state %s/" STATE_FILE ": not saved: %s", v->cfg.state_dir, strerror(-rc));
		snprintf(err, errlen, "in force, but not saved to %.200s/" STATE_FILE ": %s", v->cfg.state_dir,
			 strerror(-rc));
		return -1;
	}
	return 0;
}

/* ---- restore ---- */

/*
 * "ofports": an array of {"name": a valid port name, "ofport": 0 to
 * 65279}, no name and no number twice (a file vswd wrote never has
 * them: someone wrote it, and which entry to believe is anyone's guess).
 * A number past this switch's slots is not an error here: a vswd built
 * with more may have written it; giving the numbers logs and skips it.
 * Linear in the entries (a bitmap, a sort): the file is untrusted.
 */
static int state_check_ofports(struct json_object *a, char *err, size_t errlen)
{
	static const char *const keys[] = { "name", "ofport", NULL };
	struct json_object **byname;
	uint64_t *seen;
	int rc = 0;
	size_t n;

	if (!json_object_is_type(a, json_type_array)) {
		snprintf(err, errlen, "\"ofports\" must be an array");
		return -1;
	}
	n = json_object_array_length(a);
	seen = calloc((OFPORT_NUMBER_MAX + 64) / 64, sizeof(*seen));
	byname = malloc((n ? n : 1) * sizeof(*byname));
	if (!seen || !byname) {
		snprintf(err, errlen, "\"ofports\": out of memory");
		rc = -1;
		goto out_free;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct json_object *e = json_object_array_get_idx(a, i), *f;
		const char *name = json_object_is_type(e, json_type_object) ? json_param_str(e, "name") : NULL;
		int64_t num;
		char why[256];

		if (!name || !json_object_object_get_ex(e, "ofport", &f) || !json_object_is_type(f, json_type_int)) {
			snprintf(err, errlen, "ofports[%zu]: {\"name\", \"ofport\"} expected", i);
			rc = -1;
		} else if (json_check_keys(e, keys, "an ofports entry", why, sizeof(why)) < 0) {
			snprintf(err, errlen, "ofports[%zu]: %s", i, why);
			rc = -1;
		} else if (!vswd_port_name_valid(name)) {
			snprintf(err, errlen, "ofports[%zu]: \"%.40s\" is not a port name", i, name);
			rc = -1;
		} else if ((num = json_object_get_int64(f)) < 0 || num > OFPORT_NUMBER_MAX) {
			snprintf(err, errlen, "ofports[%zu] (%s): %" PRId64 " is not a port number (0 to %d)", i, name, num,
				 OFPORT_NUMBER_MAX);
			rc = -1;
		} else if (seen[num / 64] >> (num % 64) & 1) {
			snprintf(err, errlen, "ofports[%zu] (%s): number %" PRId64 " given twice", i, name, num);
			rc = -1;
		} else {
			seen[num / 64] |= 1ull << (num % 64);
			byname[i] = e;
		}
	}
	if (!rc && n > 1) {
		qsort(byname, n, sizeof(*byname), cmp_port_name);
		for (size_t i = 1; i < n && !rc; i++)
			if (strcmp(json_param_str(byname[i], "name"), json_param_str(byname[i - 1], "name")) == 0) {
				snprintf(err, errlen, "ofports: port %s given two numbers", json_param_str(byname[i], "name"));
				rc = -1;
			}
	}
out_free:
	free(seen);
	free(byname);
	return rc;
}

/* Check the parsed file @o whole: format, version, keys, every port entry, the checksum.  0 or -1 with @err. */
static int state_check(struct json_object *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "format", "version", "checksum", "ports", "flows", "tunnel_fdb", "ofports",
					     NULL };
	struct json_object *f, *ports, *flows, *tunnel_fdb = NULL, *ofports = NULL;
	const char *s;
	char sum[32];

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "not a JSON object");
		return -1;
	}
	if (json_check_keys(o, keys, "the state file", err, errlen) < 0)
		return -1;
	s = json_param_str(o, "format");
	if (!s || strcmp(s, STATE_FORMAT) != 0) {
		snprintf(err, errlen, "\"format\" is not \"" STATE_FORMAT "\": not a vsw state file");
		return -1;
	}
	if (!json_object_object_get_ex(o, "version", &f) || !json_object_is_type(f, json_type_int) ||
	    json_object_get_int(f) != STATE_VERSION) {
		snprintf(err, errlen, "\"version\" is not %d: written by another vswd version", STATE_VERSION);
		return -1;
	}
	if (!json_object_object_get_ex(o, "ports", &ports) || !json_object_is_type(ports, json_type_array) ||
	    !json_object_object_get_ex(o, "flows", &flows) || !json_object_is_type(flows, json_type_array)) {
		snprintf(err, errlen, "\"ports\" and \"flows\" must both be arrays");
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);
		const char *name = json_object_is_type(p, json_type_object) ? json_param_str(p, "name") : NULL;
		const struct port_type *pt;
		char why[256];

		if (!name || json_object_object_get_ex(p, "cmd", NULL)) {
			snprintf(err, errlen, "ports[%zu]: a port-add request with a \"name\" (and no \"cmd\") expected", i);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, json_param_str(json_object_array_get_idx(ports, j), "name")) == 0) {
				snprintf(err, errlen, "ports[%zu]: port %.64s listed twice", i, name);
				return -1;
			}
		pt = port_type_find(json_param_str(p, "type"));
		if (!pt) {
			snprintf(err, errlen, "ports[%zu] (%.64s): unknown port type (known: %s)", i, name,
				 port_type_names());
			return -1;
		}
		if (port_type_check(pt, p, port_opts_keys, true, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "ports[%zu] (%.64s): %s", i, name, why);
			return -1;
		}
	}
	for (size_t i = 0; i < json_object_array_length(flows); i++) {
		struct json_object *l = json_object_array_get_idx(flows, i);

		if (!json_object_is_type(l, json_type_string) || strchr(json_object_get_string(l), '\n')) {
			snprintf(err, errlen, "flows[%zu]: a flow line (a string of one line) expected", i);
			return -1;
		}
	}
	if (json_object_object_get_ex(o, "tunnel_fdb", &tunnel_fdb)) {
		if (!json_object_is_type(tunnel_fdb, json_type_array)) {
			snprintf(err, errlen, "\"tunnel_fdb\" must be an array");
			return -1;
		}
		for (size_t i = 0; i < json_object_array_length(tunnel_fdb); i++) {
			struct json_object *e = json_object_array_get_idx(tunnel_fdb, i);

			if (!json_object_is_type(e, json_type_object) || !json_param_str(e, "port") ||
			    !json_param_str(e, "mac") || !json_param_str(e, "remote") ||
			    !json_object_object_get_ex(e, "vni", &f) || !json_object_is_type(f, json_type_int)) {
				snprintf(err, errlen, "tunnel_fdb[%zu]: {\"port\", \"vni\", \"mac\", \"remote\"} expected", i);
				return -1;
			}
		}
	}
	if (json_object_object_get_ex(o, "ofports", &ofports) && state_check_ofports(ofports, err, errlen) < 0)
		return -1;
	s = json_param_str(o, "checksum");
	state_checksum(ports, flows, tunnel_fdb, ofports, sum, sizeof(sum));
	if (!s || strcmp(s, sum) != 0) {
		snprintf(err, errlen, "checksum mismatch (file says %.40s, contents give %s): changed or damaged after it "
			 "was written", s ? s : "nothing", sum);
		return -1;
	}
	return 0;
}

/* Keep @path as PATH.@what-TIME (UTC, a counter if taken), by @rename or by a hard link.  The new name into @aside. */
static int state_set_aside(const char *path, const char *what, bool move, char *aside, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (unsigned n = 0; n < 100; n++) {
		if (n)
			snprintf(aside, len, "%s.%s-%s.%u", path, what, stamp, n);
		else
			snprintf(aside, len, "%s.%s-%s", path, what, stamp);
		if (access(aside, F_OK) == 0)
			continue;
		if (move ? rename(path, aside) : link(path, aside))
			return -errno;
		return 0;
	}
	return -EEXIST;
}

/*
 * Add the port entry @p as a privileged port-add request; 0 or -1 with
 * @err.  An ofport_request of 0 (an old vswd's, above) is left out.
 */
static int state_port_add(struct vswd *v, struct json_object *p, const char *path, char *err, size_t errlen)
{
	struct ctl_peer peer = { .uid = 0, .gid = 0, .privileged = true, .fd = -1 };
	struct json_object *req = NULL, *r, *n;
	int rc;

	json_object_deep_copy(p, &req, NULL);
	if (json_object_object_get_ex(req, "ofport_request", &n) && json_object_is_type(n, json_type_int) &&
	    json_object_get_int64(n) == 0) {
		log_warn("state %s: port %s: ofport_request=0 dropped: 0 is OpenFlow's reserved port, numbers start at %d "
			 "(as in Open vSwitch); the port gets a number as if it asked for none", path,
			 json_param_str(req, "name"), PORT_FIRST);
		json_object_object_del(req, "ofport_request");
	}
	json_object_object_add(req, "cmd", json_object_new_string("port-add"));
	r = vswd_handle_request(v, req, &peer);
	rc = json_object_get_boolean(json_object_object_get(r, "ok")) ? 0 : -1;
	if (rc < 0)
		snprintf(err, errlen, "%s", json_object_get_string(json_object_object_get(r, "error")));
	json_object_put(r);
	json_object_put(req);
	return rc;
}

/*
 * The name @name recorded at number 0: the first number free (kept for it
 * as state_give_ofports keeps the others), and one log line saying so.  1
 * when it got one; 0 when it has one already (as the config's port: it
 * keeps it) or none is free (its port is numbered as a new one).
 */
static unsigned state_renumber_zero(struct vswd *v, const char *name, const char *path)
{
	int has = vswd_port_slot_kept(v, name, false), slot = -1;

	if (has >= 0) {
		log_warn("state %s: port %s: recorded at number 0, reserved now (numbers start at %d, as in Open "
			 "vSwitch): it has number %d already; rules and scripts naming it by number 0 must be rewritten "
			 "to %d", path, name, PORT_FIRST, has, has);
		return 0;
	}
	for (unsigned i = PORT_FIRST; i < PORT_MAX && slot < 0; i++)
		if (!v->slot_names[i][0] && !atomic_load(&v->sw->ports[i]))
			slot = (int)i;
	if (slot < 0) {
		log_warn("state %s: port %s: recorded at number 0, reserved now (numbers start at %d, as in Open "
			 "vSwitch), and no number is free for it: it gets one when added, if any", path, name, PORT_FIRST);
		return 0;
	}
	snprintf(v->slot_names[slot], PORT_NAME_MAX, "%s", name);
	log_warn("state %s: port %s: number 0 -> %d: 0 is OpenFlow's reserved port now (numbers start at %d, as in "
		 "Open vSwitch); the saved flows name it and follow it, but rules and scripts kept elsewhere that say "
		 "in_port=0 or output:0 must be rewritten to %d", path, name, slot, PORT_FIRST, slot);
	return 1;
}

/*
 * Give each name of @ofports its recorded number: slot_names[N] = name,
 * as for a deleted port, so that the port of that name, the config's or
 * the state's, and the rules naming it take that slot when they come
 * (ctl_ports.c: slot_scan).  An entry that cannot be given is logged
 * and left out: its port is numbered as a new one.  A name recorded at
 * 0 (an old vswd's file, above) is given the first number free after
 * the others: state_renumber_zero().
 */
static void state_give_ofports(struct vswd *v, struct json_object *ofports, const char *path)
{
	const char *zero = NULL;
	unsigned given = 0;

	for (size_t i = 0; i < json_object_array_length(ofports); i++) {
		struct json_object *e = json_object_array_get_idx(ofports, i);
		const char *name = json_param_str(e, "name");
		int64_t num = json_object_get_int64(json_object_object_get(e, "ofport"));
		int has = vswd_port_slot_kept(v, name, false);
		struct port *holder;

		if (num < PORT_FIRST) {
			zero = name; /* the check let no number be given twice: one at most */
			continue;
		}
		if (num >= PORT_MAX) {
			log_warn("state %s: port %s: number %" PRId64 " is past this switch's %d: not given, it gets another",
				 path, name, num, PORT_MAX);
			continue;
		}
		if (has == (int)num) {
			given++;
			continue;
		}
		holder = atomic_load(&v->sw->ports[num]);
		if (has >= 0) {
			log_warn("state %s: port %s: number %" PRId64 " not given back: it has number %d already", path,
				 name, num, has);
			continue;
		}
		if (holder || v->slot_names[num][0]) {
			log_warn("state %s: port %s: number %" PRId64 " not given back: it is %s %s", path, name, num,
				 holder ? "port" : "kept for", holder ? holder->name : v->slot_names[num]);
			continue;
		}
		snprintf(v->slot_names[num], PORT_NAME_MAX, "%s", name);
		given++;
	}
	if (zero)
		given += state_renumber_zero(v, zero, path);
	if (json_object_array_length(ofports))
		log_info("state %s: %u of %zu port number(s) given back", path, given, json_object_array_length(ofports));
}

int vswd_state_load(struct vswd *v, char *err, size_t errlen)
{
	struct json_object *o, *ofports;
	char path[PATH_MAX], aside[PATH_MAX + 64], why[512];
	struct stat st;
	int rc;

	v->state_loaded = true;
	v->state_refused = false;
	if (!v->cfg.state_dir[0])
		return 0;
	if (state_path(v, "", path, sizeof(path)) < 0) {
		snprintf(err, errlen, "state directory %.200s: path too long", v->cfg.state_dir);
		return -1;
	}
	if (mkdir(v->cfg.state_dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "state directory %.200s: %s", v->cfg.state_dir, strerror(errno));
		return -1;
	}
	if (stat(path, &st) < 0 && errno == ENOENT) {
		log_info("state %s: none saved yet: written once ports are numbered, then on every change", path);
		return 0;
	}
	o = config_load(path, why, sizeof(why));
	if (o && state_check(o, why, sizeof(why)) < 0) {
		json_object_put(o);
		o = NULL;
	}
	if (!o) {
		rc = state_set_aside(path, "corrupt", true, aside, sizeof(aside));
		if (rc < 0)
			snprintf(aside, sizeof(aside), "nowhere (%s)", strerror(-rc));
		log_err("state %s: refused, nothing of it applied: %s; moved to %s", path, why, aside);
		snprintf(err, errlen, "state %.200s refused: %.300s", path, why);
		v->state_refused = true;
		return -1;
	}
	if (json_object_object_get_ex(o, "ofports", &ofports))
		state_give_ofports(v, ofports, path);
	v->state_file = o;
	return 0;
}

int vswd_state_restore(struct vswd *v, char *err, size_t errlen)
{
	struct json_object *o, *ports, *flows, *tunnel_fdb = NULL;
	char path[PATH_MAX], aside[PATH_MAX + 64], why[512];
	unsigned failed = 0, added = 0;
	size_t nflows = 0;
	bool named = false;
	int rc;

	if (!v->state_loaded && vswd_state_load(v, err, errlen) < 0) {
		v->state_loaded = false;
		return -1;
	}
	v->state_loaded = false; /* the next restore (tests, fuzzers: the same vswd) reads the file again */
	if (v->state_refused) {
		snprintf(err, errlen, "state refused at load (see the log)");
		return -1;
	}
	o = v->state_file;
	v->state_file = NULL;
	if (!o) {
		/* No file yet: one now if the config's ports have numbers to keep. */
		for (unsigned i = 0; i < PORT_MAX && !named; i++)
			named = v->slot_names[i][0] != '\0';
		return named && vswd_state_changed(v, why, sizeof(why)) < 0 ? 1 : 0;
	}
	if (state_path(v, "", path, sizeof(path)) < 0) { /* cannot be: the load built it */
		json_object_put(o);
		return -1;
	}
	json_object_object_get_ex(o, "ports", &ports);
	json_object_object_get_ex(o, "flows", &flows);
	v->state_restoring = true;
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);
		const char *name = json_param_str(p, "name");

		if (vswd_port_slot(v, name) >= 0) {
			log_warn("state %s: port %s: the config file has it too, and wins: the saved one is left out", path,
				 name);
			failed++;
		} else if (state_port_add(v, p, path, why, sizeof(why)) < 0) {
			log_err("state %s: port %s not restored: %s", path, name, why);
			failed++;
		} else {
			added++;
		}
	}
	json_object_object_get_ex(o, "tunnel_fdb", &tunnel_fdb);
	if (ctl_tunnel_fdb_restore(v, tunnel_fdb, why, sizeof(why)) < 0) {
		log_err("state %s: %s", path, why);
		failed++;
	}
	if (vswd_flows_restore(v, flows, path, why, sizeof(why)) < 0) {
		log_err("state %s: the %zu flow(s) not restored (none of them): %s", path, json_object_array_length(flows),
			why);
		failed++;
	} else {
		nflows = json_object_array_length(flows);
	}
	v->state_restoring = false;
	log_info("state %s: %u port(s) and %zu flow(s) restored%s", path, added, nflows,
		 failed ? ", with failures (above)" : "");
	json_object_put(o);
	if (failed) {
		/* What could not be applied is not lost with the rewrite below. */
		rc = state_set_aside(path, "unapplied", false, aside, sizeof(aside));
		if (rc < 0)
			log_err("state %s: cannot keep a copy: %s", path, strerror(-rc));
		else
			log_warn("state %s: %u failure(s): the file as it was is kept as %s", path, failed, aside);
	}
	if (vswd_state_changed(v, why, sizeof(why)) < 0)
		failed++;
	return (int)failed;
}
