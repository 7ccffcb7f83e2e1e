/* ctl_ports.c - the `port` commands and `show`: ports added from requests and the config file, deleted, listed. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/commands.h"
#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "ctl/port_opts.h"
#include "lib/json_param.h"
#include "lib/log.h"
#include "port/port_types.h"
#include "port/port_vxlan.h"

/* ---- the ports of the switch: added, deleted (the config file's too) ---- */

int vswd_port_slot(struct vswd *v, const char *name)
{
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);

		if (p && strcmp(p->name, name) == 0)
			return (int)i;
	}
	return -1;
}

bool vswd_port_name_valid(const char *name)
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
 * Slots and names.  A flow holds port slots, in its match and actions,
 * compiled once: nothing is resolved per frame, and the caches' entries
 * name slots.  Names exist only in the text of flows (typed, dumped,
 * saved).  So, as Open vSwitch keeps a deleted port's OpenFlow number
 * for its name, a slot stays bound to its port's name after the port is
 * deleted (v->slot_names):
 *
 *   - the rules naming the deleted port stay and print its name; while it
 *     is away they mean nothing: no frame comes in from an empty slot, and
 *     an output there is a `no_destination` drop (dp/flows.c out_verdict);
 *   - `port add` of that name, of any type, takes that slot again, and the
 *     rules apply to it as they did (as after a restart, which resolves the
 *     names of the flows file again);
 *   - slot 0 is never given: OpenFlow port 0 is reserved, and in Open
 *     vSwitch the first interface is port 1, so a flow pasted from its
 *     documentation (in_port=1,actions=output:2) means the same ports
 *     here; a number stays its slot, and the data path knows nothing of
 *     this (it would carry a port in slot 0 as any other);
 *   - another name takes a slot never named first; once every slot is
 *     named, the deleted ports' slots that no rule names are all forgotten
 *     at once (found by printing the rules, ctl_flows.c: one pass over the
 *     rules for many port adds), and it takes the first of them; so no
 *     rule written for one port ever applies to another.  A slot kept for
 *     a name while flows are loaded is a fresh one: their rules are not in
 *     the db yet, so nothing may be forgotten meanwhile.
 *
 * What a rule means thus never changes with the ports, and a port added
 * or deleted needs no new flow version: a cached decision names a slot,
 * and the port in that slot is read per batch (the port delete's grace
 * period is the only wait).  Resolving the names at each version instead,
 * every port change would recompile and republish every rule and empty
 * every worker's caches, and each rule would keep its names besides its
 * slots.
 */

/* The slot kept for @name, else the first never named (from PORT_FIRST: never 0); -1. */
static int slot_scan(const struct vswd *v, const char *name)
{
	int fresh = -1;

	for (unsigned i = PORT_FIRST; i < PORT_MAX; i++) {
		if (strcmp(v->slot_names[i], name) == 0)
			return (int)i;
		if (fresh < 0 && !v->slot_names[i][0])
			fresh = (int)i;
	}
	return fresh;
}

/* The slot for a new port @name: slot_scan's, or with every slot named, one of a deleted port no rule names; -1. */
static int slot_for(struct vswd *v, const char *name)
{
	int slot = slot_scan(v, name);

	if (slot < 0 && vswd_flows_forget_unnamed(v) > 0)
		slot = slot_scan(v, name);
	return slot;
}

/*
 * How many rules name each slot, into @rules (PORT_MAX counts): 0;
 * -EAGAIN at start (vswd_state_load to the end of vswd_state_restore),
 * when the state's flows, which may name a kept name, are not loaded yet,
 * so no kept name may be judged unnamed; -ENOMEM.
 */
static int rules_count(struct vswd *v, unsigned *rules)
{
	if (!rules)
		return -ENOMEM;
	if (v->state_loaded || v->state_restoring)
		return -EAGAIN;
	return vswd_flows_count_named(v, rules);
}

/*
 * ofport_request=N (ovs-vswitchd.conf.db(5): "If the requested port
 * number is not available, it is logged and another is assigned"): the
 * slot for @name when it asked for @req.  N is given when it has no port
 * and is kept for no other name that rules name (a name no rule names is
 * forgotten, as Open vSwitch gives a deleted interface's number to a
 * request; at start, before the state's flows are in, any kept name
 * holds its number).  When the name already has a slot kept for it (a
 * deleted port, or the number the state file recorded), rules that name
 * it hold that slot: it moves to N only if no rule names it (the kept
 * slot is then forgotten), else it keeps it.  Either refusal is a log
 * line, and the port gets what slot_for() gives; `show` says which.
 */
static int slot_requested(struct vswd *v, const char *name, unsigned req)
{
	int kept = slot_scan(v, name), slot = (int)req;
	struct port *holder;
	bool other;
	unsigned *rules = NULL;
	int count = -ENOMEM;

	assert(req >= PORT_FIRST && req < PORT_MAX); /* port_opts.c refused the others */
	holder = atomic_load(&v->sw->ports[req]);
	other = v->slot_names[req][0] && strcmp(v->slot_names[req], name) != 0;

	if (kept >= 0 && strcmp(v->slot_names[kept], name) != 0)
		kept = -1; /* a fresh slot, not one kept for the name */
	if ((int)req == kept)
		return kept;
	if (!holder && (other || kept >= 0)) {
		rules = malloc(PORT_MAX * sizeof(*rules));
		count = rules_count(v, rules);
	}
	if (holder || (other && (count < 0 || rules[req]))) {
		/* at start (-EAGAIN) the name is one the state file recorded: its flows may name it, or not */
		const char *whose = holder ? "the port" : count == -EAGAIN ? "recorded in the state file for" :
									     "kept for the flows of";

		slot = slot_for(v, name);
		if (slot >= 0)
			log_warn("port %s: ofport_request=%u not given: number %u is %s %s; it gets %d", name, req, req,
				 whose, holder ? holder->name : v->slot_names[req], slot);
		goto out_free; /* -1: port_add says no slot is free */
	}
	/* At start (-EAGAIN) the flows naming it come later, by name: it takes N and they follow it there. */
	if (kept >= 0 && (count == -ENOMEM || (count == 0 && rules[kept]))) {
		log_warn("port %s: ofport_request=%u not given: its number %d is kept for the %u flow(s) naming it; "
			 "it keeps %d", name, req, kept, count == 0 ? rules[kept] : 0, kept);
		slot = kept;
		goto out_free;
	}
	if (kept >= 0)
		v->slot_names[kept][0] = '\0'; /* no rule holds it: the name's number moves to the one asked for */
	if (other) {
		log_info("port %s: number %u was kept for %s, which no flow names: forgotten", name, req,
			 v->slot_names[req]);
		v->slot_names[req][0] = '\0';
	}
out_free:
	free(rules);
	return slot;
}

int vswd_kept_rule_counts(struct vswd *v, unsigned **rules)
{
	bool any = false;

	*rules = NULL;
	for (unsigned i = 0; i < PORT_MAX && !any; i++)
		any = v->slot_names[i][0] && !atomic_load(&v->sw->ports[i]);
	if (!any)
		return 0;
	*rules = malloc(PORT_MAX * sizeof(**rules));
	if (!*rules || vswd_flows_count_named(v, *rules) < 0) {
		free(*rules);
		*rules = NULL;
		return -ENOMEM;
	}
	return 0;
}

int vswd_port_slot_kept(struct vswd *v, const char *name, bool keep)
{
	int slot = vswd_port_slot(v, name);

	if (slot >= 0)
		return slot;
	slot = slot_scan(v, name);
	if (slot >= 0 && strcmp(v->slot_names[slot], name) == 0)
		return slot; /* kept for it */
	if (!keep || !vswd_port_name_valid(name) || slot < 0)
		return -1;
	snprintf(v->slot_names[slot], PORT_NAME_MAX, "%s", name);
	log_info("port %s: named by flows, not there: slot %d kept for it", name, slot);
	return slot;
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
		dp_rebuild_port(&v->dp, p);
		break;
	case PORT_LINK_DOWN:
		fdb_flush_port(&v->sw->fdb, p->id);
		break;
	}
}

/* Add the port a request or config entry describes; @privileged: the sender may name files.  Its slot, or -1 with @err. */
static int port_add(struct vswd *v, struct json_object *o, bool privileged, char *err, size_t errlen)
{
	const char *name = json_param_str(o, "name"), *type = json_param_str(o, "type");
	struct port_env env = { .loop = &v->loop, .changed = port_changed, .opaque = v };
	const struct port_type *pt;
	struct switch_port_cfg opts;
	struct port *p = NULL;
	int slot = -1;

	if (!name || !vswd_port_name_valid(name)) {
		snprintf(err, errlen, "a port needs a \"name\" of 1 to %d letters, digits, '-', '_' or '.'",
			 PORT_NAME_MAX - 1);
		return -1;
	}
	if (vswd_port_slot(v, name) >= 0) {
		snprintf(err, errlen, "port %s exists", name);
		return -1;
	}
	pt = port_type_find(type);
	if (!pt) {
		snprintf(err, errlen, "unknown port type %.32s (known: %s)", type ? type : "(none)", port_type_names());
		return -1;
	}
	/* Keys and generic options checked before a slot is picked: ofport_request picks it, and logs a refusal. */
	if (port_type_check(pt, o, port_opts_keys, privileged, err, errlen) < 0 ||
	    port_opts_parse(o, &opts, err, errlen) < 0)
		return -1;
	slot = opts.has_ofport_request ? slot_requested(v, name, opts.ofport_request) : slot_for(v, name);
	if (slot < 0) {
		unsigned empty = 0;

		for (unsigned i = PORT_FIRST; i < PORT_MAX; i++)
			empty += !atomic_load(&v->sw->ports[i]);
		if (empty && (v->state_loaded || v->state_restoring))
			snprintf(err, errlen, "no slot free: the %u without a port are recorded in the state file for its "
					      "ports and the names its flows use", empty);
		else if (empty)
			snprintf(err, errlen, "no slot free: the %u without a port are kept for deleted ports that flows "
					      "name (delete those flows)", empty);
		else
			snprintf(err, errlen, "no room for more than %d ports (numbers %d to %d)", PORT_MAX - PORT_FIRST,
				 PORT_FIRST, PORT_MAX - 1);
		return -1;
	}
	/* The generic options (MAC/IP locking, limits): the slot is set up before the port exists. */
	if (switch_port_attach(v->sw, (unsigned)slot, &opts, err, errlen) < 0)
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
	snprintf(v->slot_names[slot], PORT_NAME_MAX, "%s", name);
	switch_port_set(v->sw, (unsigned)slot, p);
	dp_rebuild_port(&v->dp, p); /* includes a grace period: the next switch_port_set may come */
	log_info("port %s added (%s), number %d", name, p->ops->type, slot);
	return slot;
}

static int port_del(struct vswd *v, const char *name, char *err, size_t errlen)
{
	int slot = name ? vswd_port_slot(v, name) : -1;
	struct port *p;

	if (slot < 0) {
		snprintf(err, errlen, "no port %.64s", name ? name : "(none)");
		return -1;
	}
	p = atomic_load(&v->sw->ports[slot]);
	switch_port_set(v->sw, (unsigned)slot, NULL);
	dp_rebuild_port(&v->dp, p); /* includes a grace period: no worker holds p now */
	switch_port_detach(v->sw, (unsigned)slot);
	/* Room is guaranteed: connections stop taking requests while the graveyard is full (ctl_sock.c). */
	assert(v->ngrave < VSWD_GRAVE_MAX);
	v->graveyard[v->ngrave++] = p;
	vswd_state_port_set(v, (unsigned)slot, NULL);
	/* v->slot_names[slot] stays: the slot is kept for the name (above, "Slots and names") */
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

/* ---- the handlers ---- */

/* Ports added by request are the run-time configuration (state.c); the config file's are not. */
struct json_object *ctl_port_add(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	char err[PATH_MAX + 128] = "";
	int slot = port_add(v, req, peer->privileged, err, sizeof(err));

	if (slot < 0)
		return ctl_reply_error(err);
	vswd_state_port_set(v, (unsigned)slot, req);
	return vswd_state_changed(v, err, sizeof(err)) < 0 ? ctl_reply_error(err) : ctl_reply_ok();
}

struct json_object *ctl_port_del(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	char err[PATH_MAX + 128] = "";

	if (port_del(v, json_param_str(req, "name"), err, sizeof(err)) < 0)
		return ctl_reply_error(err);
	return vswd_state_changed(v, err, sizeof(err)) < 0 ? ctl_reply_error(err) : ctl_reply_ok();
}

/*
 * The slots kept for a name with no port that rules name (above, "Slots
 * and names"): a deleted port, or one of the state's that did not come
 * back; as `ovs-ofctl show` lists OpenFlow numbers, the user sees which
 * number `output:N` means and why `port add` of that name gets it.  A
 * name no rule names is left out: the number is free to be forgotten.
 */
static struct json_object *show_kept(struct vswd *v)
{
	struct json_object *kept = json_object_new_array();
	unsigned *rules;

	if (vswd_kept_rule_counts(v, &rules) < 0) {
		json_object_put(kept);
		return NULL;
	}
	for (unsigned i = 0; rules && i < PORT_MAX; i++) {
		struct json_object *o;

		if (!v->slot_names[i][0] || atomic_load(&v->sw->ports[i]) || !rules[i])
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(v->slot_names[i]));
		json_object_object_add(o, "id", json_object_new_int((int)i));
		json_object_object_add(o, "flows", json_object_new_int64(rules[i]));
		json_object_array_add(kept, o);
	}
	free(rules);
	return kept;
}

/*
 * A vxlan port's remotes whose underlay MTU is not the port's (each
 * remote's route MTU, or remote=flow's destinations): "remote_mtu", an
 * array of {remote, route, mtu, frame_max[, flow]}, only when there is one.
 */
static void show_remote_mtu(struct port *p, struct json_object *o)
{
	static struct port_vxlan_mtu m[PORT_VXLAN_MTU_MAX];	/* the control thread's alone */
	unsigned n = port_vxlan_mtu_dump(p, m, PORT_VXLAN_MTU_MAX);
	struct json_object *a;

	if (!n)
		return;
	a = json_object_new_array();
	for (unsigned i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "remote", json_object_new_string(m[i].remote));
		json_object_object_add(e, "route", json_object_new_int64(m[i].route));
		json_object_object_add(e, "mtu", json_object_new_int64(m[i].mtu));
		json_object_object_add(e, "frame_max", json_object_new_int64(m[i].frame_max));
		if (m[i].flow)
			json_object_object_add(e, "flow", json_object_new_boolean(true));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "remote_mtu", a);
}

struct json_object *ctl_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	struct json_object *r, *ports, *kept = show_kept(v);

	if (!kept)
		return ctl_reply_error("out of memory");
	r = ctl_reply_ok();
	ports = json_object_new_array();

	json_object_object_add(r, "mode", json_object_new_string(v->sw->mode == SWITCH_HUB ? "hub" : "learning"));
	json_object_object_add(r, "workers", json_object_new_int((int)v->cfg.workers));
	json_object_object_add(r, "busy_poll", json_object_new_boolean(v->cfg.busy_poll));
	json_object_object_add(r, "aging", json_object_new_int((int)v->cfg.aging_s));
	json_object_object_add(r, "flood_budget", json_object_new_int64(v->cfg.flood_budget));
	json_object_object_add(r, "fdb_size", json_object_new_int64(v->cfg.fdb_size));
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);
		struct json_object *o;
		char state[512];	/* a vxlan port with its GSO ports and drop reasons says ~300 bytes */

		if (!p)
			continue;
		p->ops->describe(p, state, sizeof(state));
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(p->name));
		json_object_object_add(o, "id", json_object_new_int((int)i));
		json_object_object_add(o, "type", json_object_new_string(p->ops->type));
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "options", port_opts_json(&v->sw->sp[i].cfg));
		if (port_is_vxlan(p))
			show_remote_mtu(p, o);
		json_object_array_add(ports, o);
	}
	json_object_object_add(r, "ports", ports);
	json_object_object_add(r, "kept", kept);
	return r;
}

/* ---- vswctl: the show reply as text ---- */

/*
 * A port's number and generic options under its line: "  ofport=N
 * [ofport_request=N] mac=... ip=... mac_limit=N flood_rate=N [vlan_mode=M
 * tag=N trunks=L]".  The number is what flows' in_port=N and output:N
 * mean (its slot, show --json's "id"); a request not given shows beside it.
 */
static void print_options(struct json_object *p)
{
	struct json_object *o, *a;

	if (!json_object_object_get_ex(p, "options", &o))
		return;
	printf("%-16s ofport=%" PRId64, "", ctl_reply_int(p, "id"));
	if (json_object_object_get_ex(o, "ofport_request", &a))
		printf(" ofport_request=%d", json_object_get_int(a));
	for (int k = 0; k < 2; k++) {
		const char *key = k ? "ip" : "mac";

		if (!json_object_object_get_ex(o, key, &a))
			continue;
		printf(" %s=", key);
		for (size_t i = 0; i < json_object_array_length(a); i++)
			printf("%s%s", i ? "," : "", json_object_get_string(json_object_array_get_idx(a, i)));
	}
	printf(" mac_limit=%" PRId64 " flood_rate=%" PRId64, ctl_reply_int(o, "mac_limit"), ctl_reply_int(o, "flood_rate"));
	if (json_object_object_get_ex(o, "vlan_mode", &a))
		printf(" vlan_mode=%s", json_object_get_string(a));
	if (json_object_object_get_ex(o, "tag", &a))
		printf(" tag=%d", json_object_get_int(a));
	if (json_object_object_get_ex(o, "trunks", &a))
		printf(" trunks=%s", json_object_get_string(a));
	printf("\n");
}

/* A vxlan port's remotes of another MTU than the port's, one line each: "  remote IP mtu U (route R) frame_max F". */
static void print_remote_mtu(struct json_object *p)
{
	struct json_object *a;

	if (!json_object_object_get_ex(p, "remote_mtu", &a) || !json_object_is_type(a, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		printf("%-16s remote %s mtu %" PRId64 " (route %" PRId64 ") frame_max %" PRId64 "%s\n", "",
		       ctl_reply_str(e, "remote"), ctl_reply_int(e, "mtu"), ctl_reply_int(e, "route"),
		       ctl_reply_int(e, "frame_max"), json_object_object_get_ex(e, "flow", NULL) ? " (tun_dst)" : "");
	}
}

void ctl_show_print(struct json_object *r)
{
	struct json_object *ports, *kept;

	printf("vsw: %s switch, %" PRId64 " worker(s), %s, FDB aging %" PRId64 " s, sized for %" PRId64 " MACs\n",
	       ctl_reply_str(r, "mode"), ctl_reply_int(r, "workers"),
	       json_object_get_boolean(json_object_object_get(r, "busy_poll")) ? "busy polling" : "event-driven",
	       ctl_reply_int(r, "aging"), ctl_reply_int(r, "fdb_size"));
	printf("%-16s %-12s %s\n", "PORT", "TYPE", "STATE");
	if (json_object_object_get_ex(r, "ports", &ports))
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *p = json_object_array_get_idx(ports, i);

			printf("%-16s %-12s %s\n", ctl_reply_str(p, "name"), ctl_reply_str(p, "type"),
			       ctl_reply_str(p, "state"));
			print_options(p);
			print_remote_mtu(p);
		}
	if (json_object_object_get_ex(r, "kept", &kept))
		for (size_t i = 0; i < json_object_array_length(kept); i++) {
			struct json_object *k = json_object_array_get_idx(kept, i);

			printf("%-16s %-12s absent: number %" PRId64 " kept for the %" PRId64 " flow(s) naming it\n",
			       ctl_reply_str(k, "name"), "-", ctl_reply_int(k, "id"), ctl_reply_int(k, "flows"));
		}
}
