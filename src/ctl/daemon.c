/* daemon.c - vswd's control thread: the configuration, ports, control requests, the once-a-second tick. */
#include "ctl/daemon.h"

#include <assert.h>
#include <errno.h>
#include <grp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ctl/ctl_perf.h"
#include "ctl/port_opts.h"
#include "lib/json_param.h"
#include "lib/log.h"
#include "port/capture.h"
#include "port/port_types.h"
#include "port/port_vhost.h"

void vswd_config_default(struct vswd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 1;
	c->perf = DP_PERF_DEFAULT;
	for (unsigned i = 0; i < DP_WORKERS_MAX; i++)
		c->cpus[i] = -1;
	c->mode = SWITCH_LEARNING;
	c->aging_s = FDB_DEFAULT_AGING_S;
	c->fdb_size = FDB_DEFAULT_SIZE;
}

/* ---- small JSON helpers; every field is checked for type and range ---- */

/* Config keys are read with the same checked helpers as port parameters (lib/json_param.h). */
static int json_get_uint(struct json_object *o, const char *key, unsigned lo, unsigned hi, unsigned *out,
			 char *err, size_t errlen)
{
	return json_param_uint(o, key, lo, hi, *out, out, err, errlen);
}

static const char *json_get_str(struct json_object *o, const char *key)
{
	return json_param_str(o, key);
}

int vswd_config_from_json(struct vswd_config *c, struct json_object *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "workers", "cpus", "busy_poll", "perf", "mode", "aging", "fdb_size",
					    "ctl_group", "ports", NULL };
	struct json_object *f;
	const char *mode;

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "configuration must be a JSON object");
		return -1;
	}
	if (json_check_keys(o, keys, "the configuration", err, errlen) < 0)
		return -1;
	if (json_object_object_get_ex(o, "ctl_group", &f)) {
		if (!json_object_is_type(f, json_type_string) || !json_object_get_string_len(f) ||
		    json_object_get_string_len(f) >= CTL_GROUP_MAX) {
			snprintf(err, errlen, "\"ctl_group\" must be a group name");
			return -1;
		}
		snprintf(c->ctl_group, sizeof(c->ctl_group), "%s", json_object_get_string(f));
	}
	if (json_get_uint(o, "workers", 1, DP_WORKERS_MAX, &c->workers, err, errlen) < 0 ||
	    json_get_uint(o, "aging", 1, 86400, &c->aging_s, err, errlen) < 0 ||
	    json_get_uint(o, "fdb_size", FDB_SIZE_MIN, FDB_SIZE_MAX, &c->fdb_size, err, errlen) < 0)
		return -1;
	if (json_object_object_get_ex(o, "busy_poll", &f)) {
		if (!json_object_is_type(f, json_type_boolean)) {
			snprintf(err, errlen, "\"busy_poll\" must be true or false");
			return -1;
		}
		c->busy_poll = json_object_get_boolean(f);
	}
	if (json_object_object_get_ex(o, "perf", &f)) {
		if (!json_object_is_type(f, json_type_boolean)) {
			snprintf(err, errlen, "\"perf\" must be true or false");
			return -1;
		}
		c->perf = json_object_get_boolean(f);
	}
	mode = json_get_str(o, "mode");
	if (mode && strcmp(mode, "learning") == 0)
		c->mode = SWITCH_LEARNING;
	else if (mode && strcmp(mode, "hub") == 0)
		c->mode = SWITCH_HUB;
	else if (mode || json_object_object_get_ex(o, "mode", NULL)) {
		snprintf(err, errlen, "\"mode\" must be \"learning\" or \"hub\"");
		return -1;
	}
	if (json_object_object_get_ex(o, "cpus", &f)) {
		size_t n;

		if (!json_object_is_type(f, json_type_array) || (n = json_object_array_length(f)) > DP_WORKERS_MAX) {
			snprintf(err, errlen, "\"cpus\" must be an array of at most %d CPU numbers", DP_WORKERS_MAX);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(f, i);

			if (!json_object_is_type(e, json_type_int) || json_object_get_int(e) < 0 ||
			    json_object_get_int(e) >= CPU_SETSIZE) {
				snprintf(err, errlen, "\"cpus\" entries must be CPU numbers");
				return -1;
			}
			c->cpus[i] = json_object_get_int(e);
		}
	}
	return 0;
}

/* ---- ports ---- */

static int port_slot(struct vswd *v, const char *name)
{
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);

		if (p && strcmp(p->name, name) == 0)
			return (int)i;
	}
	return -1;
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= PORT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] == '-' || name[i] == '_' || name[i] == '.' || (name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z')))
			return false;
	return true;
}

/*
 * What a port reports (port_env.changed, control thread): the daemon owns
 * the switch and the data path, so it is the one that acts.
 */
static void port_changed(void *opaque, struct port *p, enum port_change what)
{
	struct vswd *v = opaque;

	switch (what) {
	case PORT_QUIESCE:
		dp_sync(&v->dp);
		break;
	case PORT_RINGS_CHANGED:
		dp_rebuild(&v->dp);
		break;
	case PORT_LINK_DOWN:
		fdb_flush_port(&v->sw->fdb, p->id);
		break;
	}
}

/* Add the port a request or config entry describes; @privileged: the sender may name files. */
static int port_add(struct vswd *v, struct json_object *o, bool privileged, char *err, size_t errlen)
{
	const char *name = json_get_str(o, "name"), *type = json_get_str(o, "type");
	struct port_env env = { .loop = &v->loop, .changed = port_changed, .opaque = v };
	const struct port_type *pt;
	struct switch_port_cfg opts;
	struct port *p = NULL;
	int slot = -1;

	if (!name || !valid_name(name)) {
		snprintf(err, errlen, "a port needs a \"name\" of 1 to %d letters, digits, '-', '_' or '.'",
			 PORT_NAME_MAX - 1);
		return -1;
	}
	if (port_slot(v, name) >= 0) {
		snprintf(err, errlen, "port %s exists", name);
		return -1;
	}
	for (unsigned i = 0; i < PORT_MAX && slot < 0; i++)
		if (!atomic_load(&v->sw->ports[i]))
			slot = (int)i;
	if (slot < 0) {
		snprintf(err, errlen, "no room for more than %d ports", PORT_MAX);
		return -1;
	}
	pt = port_type_find(type);
	if (!pt) {
		snprintf(err, errlen, "unknown port type %.32s (known: %s)", type ? type : "(none)", port_type_names());
		return -1;
	}
	if (port_type_check(pt, o, port_opts_keys, privileged, err, errlen) < 0)
		return -1;
	/* The generic options (MAC/IP locking, limits): the slot is set up before the port exists. */
	if (port_opts_parse(o, &opts, err, errlen) < 0 || switch_port_attach(v->sw, (unsigned)slot, &opts, err, errlen) < 0)
		return -1;
	if (v->create_hook)
		p = v->create_hook(name, pt->name, o, &env, err, errlen);
	else
		p = pt->create(name, o, &env, err, errlen);
	if (!p) {
		switch_port_detach(v->sw, (unsigned)slot);
		return -1;
	}
	p->id = (unsigned)slot;
	atomic_store_explicit(&v->sw->ports[slot], p, memory_order_release);
	dp_rebuild(&v->dp);
	log_info("port %s added (%s)", name, p->ops->type);
	return 0;
}

static int port_del(struct vswd *v, const char *name, char *err, size_t errlen)
{
	int slot = name ? port_slot(v, name) : -1;
	struct port *p;

	if (slot < 0) {
		snprintf(err, errlen, "no port %.64s", name ? name : "(none)");
		return -1;
	}
	p = atomic_load(&v->sw->ports[slot]);
	atomic_store(&v->sw->ports[slot], NULL);
	dp_rebuild(&v->dp); /* includes a grace period: no worker holds p now */
	switch_port_detach(v->sw, (unsigned)slot);
	/* Room is guaranteed: connections stop taking requests while the graveyard is full (ctl_sock.c). */
	assert(v->ngrave < PORT_MAX);
	v->graveyard[v->ngrave++] = p;
	log_info("port %s deleted", name);
	return 0;
}

int vswd_add_config_ports(struct vswd *v, struct json_object *o, char *err, size_t errlen)
{
	struct json_object *ports;

	if (!json_object_object_get_ex(o, "ports", &ports))
		return 0;
	if (!json_object_is_type(ports, json_type_array)) {
		snprintf(err, errlen, "\"ports\" must be an array");
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);
		char why[256];

		if (!json_object_is_type(p, json_type_object)) {
			snprintf(err, errlen, "ports[%zu] must be an object", i);
			return -1;
		}
		if (port_add(v, p, true, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "ports[%zu]: %s", i, why);
			return -1;
		}
	}
	return 0;
}

/* ---- requests ---- */

static struct json_object *reply_error(const char *msg)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

static struct json_object *reply_ok(void)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return r;
}

static struct json_object *req_show(struct vswd *v)
{
	struct json_object *r = reply_ok(), *ports = json_object_new_array();

	json_object_object_add(r, "mode", json_object_new_string(v->sw->mode == SWITCH_HUB ? "hub" : "learning"));
	json_object_object_add(r, "workers", json_object_new_int((int)v->cfg.workers));
	json_object_object_add(r, "busy_poll", json_object_new_boolean(v->cfg.busy_poll));
	json_object_object_add(r, "aging", json_object_new_int((int)v->cfg.aging_s));
	json_object_object_add(r, "fdb_size", json_object_new_int64(v->cfg.fdb_size));
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);
		struct json_object *o;
		char state[256];

		if (!p)
			continue;
		p->ops->describe(p, state, sizeof(state));
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(p->name));
		json_object_object_add(o, "id", json_object_new_int((int)i));
		json_object_object_add(o, "type", json_object_new_string(p->ops->type));
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "options", port_opts_json(&v->sw->sp[i].cfg));
		json_object_array_add(ports, o);
	}
	json_object_object_add(r, "ports", ports);
	return r;
}

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

static struct json_object *req_stats(struct vswd *v)
{
	struct json_object *r = reply_ok(), *ports = json_object_new_array(), *workers = json_object_new_array();

	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);
		struct json_object *o, *drops;

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
		json_object_object_add(o, "fdb", switch_port_json(v->sw, i));
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
		json_object_array_add(workers, o);
	}
	json_object_object_add(r, "ports", ports);
	json_object_object_add(r, "workers", workers);
	return r;
}

/*
 * {"cmd":"fdb-show", "limit":N}: the first N live entries (default
 * FDB_SHOW_DEFAULT) and "total", the live entries all told.  One walk of
 * the table on the control thread, reading it as lookups do: workers never
 * wait for it.  The limit keeps a million-MAC table's reply (and the JSON
 * built for it) in bounds; "limit":0 asks for the count alone.
 */
static struct json_object *req_fdb_show(struct vswd *v, struct json_object *req)
{
	struct json_object *r, *arr;
	unsigned limit = FDB_SHOW_DEFAULT, total = 0, n;
	struct fdb_entry *entries;
	char err[256];

	if (json_get_uint(req, "limit", 0, FDB_SHOW_MAX, &limit, err, sizeof(err)) < 0)
		return reply_error(err);
	entries = malloc((limit ? limit : 1) * sizeof(*entries));
	if (!entries)
		return reply_error("out of memory");
	n = fdb_dump(&v->sw->fdb, entries, limit, atomic_load(&v->sw->now_s), &total);
	r = reply_ok();
	arr = json_object_new_array();

	for (unsigned i = 0; i < n; i++) {
		struct port *p = atomic_load(&v->sw->ports[entries[i].port]);
		struct json_object *o = json_object_new_object();
		char mac[18];

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", entries[i].mac[0], entries[i].mac[1],
			 entries[i].mac[2], entries[i].mac[3], entries[i].mac[4], entries[i].mac[5]);
		json_object_object_add(o, "mac", json_object_new_string(mac));
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

/* ---- capture: a port's frames into a pcap file (port/capture.h) ---- */

/*
 * {"cmd":"capture-start", "port":P, "file":F, "dir":"rx"|"tx"|"both", "count":N, "filter":BPF}
 * With a file passed along (SCM_RIGHTS, what vswctl does) F only names it;
 * without, vswd creates F itself, a new file only, and only for a
 * privileged peer (port/capture.h: capture_file_create).
 */
static int req_capture_start(struct vswd *v, struct json_object *req, struct ctl_peer *peer, char *err,
			     size_t errlen)
{
	const char *name = json_get_str(req, "port"), *dir = json_get_str(req, "dir");
	struct capture_config cc = { .path = json_get_str(req, "file"), .filter = json_get_str(req, "filter"),
				     .dir = CAPTURE_BOTH, .use_fd = peer->fd >= 0, .fd = peer->fd };
	int slot = name ? port_slot(v, name) : -1;
	unsigned count = 0;
	struct capture *c;
	struct port *p;

	if (slot < 0) {
		snprintf(err, errlen, "no port %.64s", name ? name : "(none)");
		return -1;
	}
	p = atomic_load(&v->sw->ports[slot]);
	if (atomic_load(&p->capture)) {
		snprintf(err, errlen, "port %s is already capturing", name);
		return -1;
	}
	if (dir && strcmp(dir, "rx") == 0)
		cc.dir = CAPTURE_RX;
	else if (dir && strcmp(dir, "tx") == 0)
		cc.dir = CAPTURE_TX;
	else if (dir ? strcmp(dir, "both") != 0 : json_object_object_get_ex(req, "dir", NULL)) {
		snprintf(err, errlen, "\"dir\" must be \"rx\", \"tx\" or \"both\"");
		return -1;
	}
	if (json_get_uint(req, "count", 0, UINT32_MAX, &count, err, errlen) < 0)
		return -1;
	if (!cc.use_fd && !peer->privileged) {
		snprintf(err, errlen, "only root or vswd's own user may name a file for vswd to create: pass an open "
				      "file (vswctl capture -w does)");
		return -1;
	}
	cc.count = count;
	c = capture_open(&cc, err, errlen);
	if (!c)
		return -1;
	if (cc.use_fd)
		peer->fd = -1; /* the capture's now */
	/* Release: the capture's filter and file before the pointer (pairs with the hooks' acquire). */
	atomic_store_explicit(&p->capture, c, memory_order_release);
	log_info("port %s: capturing %s into %s%s", name, cc.dir == CAPTURE_BOTH ? "rx and tx" : dir,
		 cc.path ? cc.path : "a file", cc.use_fd ? " (opened by the client)" : "");
	return 0;
}

/*
 * {"cmd":"capture-stop", "port":P, "if_done":false}: stop, close the file,
 * report the counts.  With "if_done":true only a capture that reached its
 * count is stopped; otherwise the reply is its progress ("stopped":false).
 */
static struct json_object *req_capture_stop(struct vswd *v, struct json_object *req)
{
	const char *name = json_get_str(req, "port");
	int slot = name ? port_slot(v, name) : -1;
	struct json_object *r, *f = NULL;
	struct capture_stats st;
	char err[256];
	struct capture *c;
	struct port *p;
	bool stopped = true;

	if (slot < 0) {
		snprintf(err, sizeof(err), "no port %.64s", name ? name : "(none)");
		return reply_error(err);
	}
	p = atomic_load(&v->sw->ports[slot]);
	c = atomic_load(&p->capture);
	if (!c) {
		snprintf(err, sizeof(err), "port %s is not capturing", name);
		return reply_error(err);
	}
	if (json_object_object_get_ex(req, "if_done", &f) && !json_object_is_type(f, json_type_boolean))
		return reply_error("\"if_done\" must be true or false");
	if (f && json_object_get_boolean(f) && !capture_done(c)) {
		capture_get_stats(c, &st);
		r = reply_ok();
		stopped = false;
	} else {
		atomic_store(&p->capture, NULL);
		dp_sync(&v->dp); /* no worker holds c any more */
		r = capture_close(c, &st, err, sizeof(err)) < 0 ? reply_error(err) : reply_ok();
		log_info("port %s: capture stopped, %llu frames written, %llu dropped", name,
			 (unsigned long long)st.captured, (unsigned long long)st.dropped);
	}
	json_object_object_add(r, "stopped", json_object_new_boolean(stopped));
	json_object_object_add(r, "captured", json_object_new_int64((int64_t)st.captured));
	json_object_object_add(r, "dropped", json_object_new_int64((int64_t)st.dropped));
	return r;
}

/* A port going away ends its capture; no worker may hold the port any more. */
static void capture_end_with_port(struct port *p)
{
	struct capture *c = atomic_exchange(&p->capture, NULL);
	struct capture_stats st;
	char err[256];

	if (!c)
		return;
	if (capture_close(c, &st, err, sizeof(err)) < 0)
		log_warn("port %s: %s", p->name, err);
	log_info("port %s: capture ended with the port, %llu frames written", p->name, (unsigned long long)st.captured);
}

/* ---- the command table: every request's fields checked before its handler runs ---- */

static struct json_object *cmd_port_add(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	char err[256] = "";

	return port_add(v, req, peer->privileged, err, sizeof(err)) < 0 ? reply_error(err) : reply_ok();
}

static struct json_object *cmd_port_del(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	char err[256] = "";

	return port_del(v, json_get_str(req, "name"), err, sizeof(err)) < 0 ? reply_error(err) : reply_ok();
}

static struct json_object *cmd_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	return req_show(v);
}

static struct json_object *cmd_stats(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	return req_stats(v);
}

static struct json_object *cmd_fdb_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	return req_fdb_show(v, req);
}

static struct json_object *cmd_capture_start(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	char err[256] = "";

	return req_capture_start(v, req, peer, err, sizeof(err)) < 0 ? reply_error(err) : reply_ok();
}

static struct json_object *cmd_capture_stop(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	return req_capture_stop(v, req);
}

static struct json_object *cmd_perf_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	return ctl_perf_show(v);
}

static struct json_object *cmd_perf_reset(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	return ctl_perf_reset(v);
}

static struct json_object *cmd_perf_set(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	return ctl_perf_set(v, req);
}

struct ctl_cmd {
	const char *name;
	/* The request's keys ("cmd" included); NULL: checked by the handler (port-add: per port type). */
	const char *const *keys;
	struct json_object *(*fn)(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
};

static const char *const keys_cmd[] = { "cmd", NULL };
static const char *const keys_port_del[] = { "cmd", "name", NULL };
static const char *const keys_fdb_show[] = { "cmd", "limit", NULL };
static const char *const keys_capture_start[] = { "cmd", "port", "file", "dir", "count", "filter", NULL };
static const char *const keys_capture_stop[] = { "cmd", "port", "if_done", NULL };
static const char *const keys_perf_set[] = { "cmd", "enabled", NULL };

static const struct ctl_cmd ctl_cmds[] = {
	{ "port-add", NULL, cmd_port_add },
	{ "port-del", keys_port_del, cmd_port_del },
	{ "show", keys_cmd, cmd_show },
	{ "stats", keys_cmd, cmd_stats },
	{ "fdb-show", keys_fdb_show, cmd_fdb_show },
	{ "capture-start", keys_capture_start, cmd_capture_start },
	{ "capture-stop", keys_capture_stop, cmd_capture_stop },
	{ "perf-show", keys_cmd, cmd_perf_show },
	{ "perf-reset", keys_cmd, cmd_perf_reset },
	{ "perf-set", keys_perf_set, cmd_perf_set },
};

struct json_object *vswd_handle_request(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	const char *cmd = json_object_is_type(req, json_type_object) ? json_get_str(req, "cmd") : NULL;
	char err[256] = "", names[160] = "";

	if (!cmd)
		return reply_error("a request is a JSON object with a \"cmd\" string");
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		const struct ctl_cmd *c = &ctl_cmds[i];

		if (strcmp(cmd, c->name) != 0)
			continue;
		if (c->keys && json_check_keys(req, c->keys, c->name, err, sizeof(err)) < 0)
			return reply_error(err);
		return c->fn(v, req, peer);
	}
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "", ctl_cmds[i].name);
	snprintf(err, sizeof(err), "unknown command \"%.64s\" (%s)", cmd, names);
	return reply_error(err);
}

/* ---- the control thread ---- */

static void on_timer(struct ev_handler *h, uint32_t events)
{
	struct vswd *v = (struct vswd *)((char *)h - offsetof(struct vswd, timer_h));
	uint64_t ticks;

	if (read(v->timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	v->uptime_s += (unsigned)ticks;
	atomic_store_explicit(&v->sw->now_s, v->uptime_s, memory_order_relaxed);
	fdb_age_tick(&v->sw->fdb, v->uptime_s); /* a slice of the table: see fdb.h, "Aging" */
	if (v->dp_started)
		dp_watchdog(&v->dp); /* before the ports' ticks, which close what it marks broken */
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);

		if (p && p->ops->tick)
			p->ops->tick(p);
	}
	ctl_sock_tick(v);
}

static void on_signal(struct ev_handler *h, uint32_t events)
{
	struct vswd *v = (struct vswd *)((char *)h - offsetof(struct vswd, signal_h));
	struct signalfd_siginfo si;

	if (read(v->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: shutting down", si.ssi_signo);
		v->stop = true;
	}
}

int vswd_init(struct vswd *v, const struct vswd_config *c, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->cfg = *c;
	v->ctl_fd = v->timer_fd = v->signal_fd = -1;
	v->loop.epfd = -1;
	v->sw = malloc(sizeof(*v->sw));
	if (!v->sw || evloop_init(&v->loop) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (switch_init(v->sw, c->mode, c->aging_s, c->fdb_size) < 0) {
		snprintf(err, errlen, "cannot allocate an FDB for %u MACs", c->fdb_size);
		free(v->sw);
		v->sw = NULL;
		return -1;
	}
	v->dp.sw = v->sw;
	if (c->ctl_group[0]) {
		struct group gr, *res = NULL;
		char buf[4096];

		if (getgrnam_r(c->ctl_group, &gr, buf, sizeof(buf), &res) != 0 || !res) {
			snprintf(err, errlen, "control group %.64s: no such group", c->ctl_group);
			return -1;
		}
		v->has_ctl_gid = true;
		v->ctl_gid = gr.gr_gid;
	}
	return 0;
}

int vswd_start(struct vswd *v, const struct vswd_config *c, const char *ctl_path, char *err, size_t errlen)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	sigset_t mask;

	if (vswd_init(v, c, err, errlen) < 0)
		return -1;
	/* Before any thread starts, so that only the signalfd sees SIGINT/SIGTERM. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if (dp_start(&v->dp, v->sw, c->workers, c->cpus, c->busy_poll) < 0) {
		snprintf(err, errlen, "cannot start %u workers", c->workers);
		return -1;
	}
	v->dp_started = true;
	dp_perf_set(&v->dp, c->perf);

	v->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	v->timer_h.fn = on_timer;
	if (v->timer_fd < 0 || timerfd_settime(v->timer_fd, 0, &its, NULL) < 0 ||
	    evloop_add(&v->loop, v->timer_fd, EPOLLIN, &v->timer_h) < 0) {
		snprintf(err, errlen, "timer: %s", strerror(errno));
		return -1;
	}
	v->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	v->signal_h.fn = on_signal;
	if (v->signal_fd < 0 || evloop_add(&v->loop, v->signal_fd, EPOLLIN, &v->signal_h) < 0) {
		snprintf(err, errlen, "signals: %s", strerror(errno));
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return ctl_sock_listen(v, ctl_path, err, errlen);
}

void vswd_free_graveyard(struct vswd *v)
{
	while (v->ngrave) {
		struct port *p = v->graveyard[--v->ngrave];

		capture_end_with_port(p);
		p->ops->destroy(p);
	}
}

void vswd_run_once(struct vswd *v, int timeout_ms)
{
	/* Connections waiting for room in the graveyard: do not sleep, it is freed after this batch. */
	evloop_run_once(&v->loop, v->conns_deferred ? 0 : timeout_ms);
	vswd_free_graveyard(v);
	ctl_sock_resume(v);
}

void vswd_run(struct vswd *v)
{
	while (!v->stop)
		vswd_run_once(v, 1000);
}

void vswd_shutdown(struct vswd *v)
{
	for (unsigned i = 0; i < PORT_MAX && v->sw; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);

		if (p)
			atomic_store(&v->sw->ports[i], NULL);
		if (p && v->dp_started)
			dp_rebuild(&v->dp);
		if (p) {
			capture_end_with_port(p);
			p->ops->destroy(p);
		}
	}
	vswd_free_graveyard(v);
	if (v->dp_started)
		dp_stop(&v->dp);
	ctl_sock_close(v);
	if (v->timer_fd >= 0)
		close(v->timer_fd);
	if (v->signal_fd >= 0)
		close(v->signal_fd);
	if (v->loop.epfd >= 0)
		close(v->loop.epfd);
	if (v->sw)
		switch_destroy(v->sw);
	free(v->sw);
	v->sw = NULL;
}
