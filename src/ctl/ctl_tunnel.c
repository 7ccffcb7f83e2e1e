/* ctl_tunnel.c - the `tunnel fdb` commands: static remote MACs of the vxlan ports (port/vtep.h), added, deleted, listed. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/commands.h"
#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "ctl/port_opts.h"
#include "lib/json_param.h"
#include "packet/vxlan.h"
#include "port/port_vxlan.h"
#include "port/vtep.h"

/*
 * `tunnel fdb add MAC [vni=N] remote=IP [port=P]`: the inner MAC in VNI N
 * is behind VTEP IP on vxlan port P (the only vxlan port when there is
 * one; the port's VNI when it has a fixed one).  Static entries never age
 * and learning never overrides them; they are saved in the state file
 * (state.c: "tunnel_fdb") and come back with their port.
 *
 * The zero MAC is a flood destination, as in iproute2's `bridge fdb
 * append 00:00:00:00:00:00 dev vxlan0 dst IP vni N`: each add puts one
 * remote in VNI N's own flood list (broadcast, multicast, unknown
 * unicast of that VNI go there instead of the port's remote= list);
 * `del 00:00:00:00:00:00 vni=N remote=IP` takes one out, without
 * remote= the whole list.  Saved as entries of that MAC, so a state file
 * needs no new key (older files stay valid).
 */

/* The vxlan port the request names (port=), or the only one; NULL with @err. */
static struct port *vxlan_port(struct vswd *v, struct json_object *req, char *err, size_t errlen)
{
	const char *name = json_param_str(req, "port");
	struct port *found = NULL;

	if (name) {
		int slot = vswd_port_slot(v, name);
		struct port *p = slot < 0 ? NULL : atomic_load(&v->sw->ports[slot]);

		if (!p || !port_is_vxlan(p)) {
			snprintf(err, errlen, "no vxlan port %.64s", name);
			return NULL;
		}
		return p;
	}
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);

		if (!p || !port_is_vxlan(p))
			continue;
		if (found) {
			snprintf(err, errlen, "several vxlan ports: say which (port=NAME)");
			return NULL;
		}
		found = p;
	}
	if (!found)
		snprintf(err, errlen, "no vxlan port");
	return found;
}

/* MAC, VNI (the port's when not given) and port of a tunnel-fdb-add/del request; 0, or -1 with @err. */
static int fdb_args(struct vswd *v, struct json_object *req, struct port **p, uint8_t mac[6], uint32_t *vni,
		    char *err, size_t errlen)
{
	struct json_object *f;

	if (!port_opts_parse_mac(json_param_str(req, "mac"), mac)) {
		snprintf(err, errlen, "MAC must be xx:xx:xx:xx:xx:xx");
		return -1;
	}
	*p = vxlan_port(v, req, err, errlen);
	if (!*p)
		return -1;
	if (json_object_object_get_ex(req, "vni", &f)) {
		*vni = (uint32_t)json_object_get_int64(f);
	} else if (port_vxlan_vni(*p) >= 0) {
		*vni = (uint32_t)port_vxlan_vni(*p);
	} else {
		snprintf(err, errlen, "port %s has vni=flow: say which VNI (vni=N)", (*p)->name);
		return -1;
	}
	return 0;
}

struct json_object *ctl_tunnel_fdb_add(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	char err[256];
	uint8_t mac[6];
	uint32_t vni;
	struct port *p;

	if (fdb_args(v, req, &p, mac, &vni, err, sizeof(err)) < 0 ||
	    port_vxlan_fdb_add(p, mac, vni, json_param_str(req, "remote"), err, sizeof(err)) < 0)
		return ctl_reply_error(err);
	return vswd_state_changed(v, err, sizeof(err)) < 0 ? ctl_reply_error(err) : ctl_reply_ok();
}

struct json_object *ctl_tunnel_fdb_del(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	const char *remote = json_param_str(req, "remote");
	char err[256];
	uint8_t mac[6];
	uint32_t vni;
	struct port *p;

	if (fdb_args(v, req, &p, mac, &vni, err, sizeof(err)) < 0)
		return ctl_reply_error(err);
	if (remote && vtep_mac(mac))
		return ctl_reply_error("remote= names a flood destination: only with MAC 00:00:00:00:00:00");
	if (port_vxlan_fdb_del(p, mac, vni, remote) < 0) {
		snprintf(err, sizeof(err), "no entry for %s%s%.64s in VNI %u on %s", json_param_str(req, "mac"),
			 remote ? " remote " : "", remote ? remote : "", (unsigned)vni, p->name);
		return ctl_reply_error(err);
	}
	return vswd_state_changed(v, err, sizeof(err)) < 0 ? ctl_reply_error(err) : ctl_reply_ok();
}

/* One entry {"port","vni","mac","remote"[,"static","age"[,"flood"]]} onto @arr (@full: for show). */
static void entry_add(struct json_object *arr, const struct port *p, uint32_t vni, const char *mac, const char *remote,
		      bool full, bool is_static, uint32_t age_s, bool flood)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "port", json_object_new_string(p->name));
	json_object_object_add(o, "vni", json_object_new_int64(vni));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "remote", json_object_new_string(remote));
	if (full) {
		json_object_object_add(o, "static", json_object_new_boolean(is_static));
		json_object_object_add(o, "age", json_object_new_int64(age_s));
		if (flood)
			json_object_object_add(o, "flood", json_object_new_boolean(true));
	}
	json_object_array_add(arr, o);
}

/* @p's per-VNI flood lists onto @arr, one entry of MAC 00:00:00:00:00:00 per remote. */
static void flood_entries(struct json_object *arr, struct port *p, bool full)
{
	struct vtep_flood *f = malloc(VTEP_FLOOD_VNIS_MAX * sizeof(*f));
	unsigned n = f ? port_vxlan_flood_dump(p, f, VTEP_FLOOD_VNIS_MAX) : 0;

	for (unsigned k = 0; k < n; k++)
		for (uint32_t m = f[k].remotes; m; m &= m - 1)
			entry_add(arr, p, f[k].vni, "00:00:00:00:00:00",
				  port_vxlan_remote_str(p, (unsigned)__builtin_ctz(m)), full, true, 0, true);
	free(f);
}

/*
 * Every vxlan port's live entries (@only_static: the static ones, for the
 * state file) as an array of {"port","vni","mac","remote","static","age"}
 * (and "flood": true for a per-VNI flood destination).
 */
struct json_object *ctl_tunnel_fdb_entries(struct vswd *v, const char *only_port, bool only_static)
{
	struct json_object *arr = json_object_new_array();
	struct vtep_entry *e = malloc(VTEP_BUCKETS * VTEP_WAYS * sizeof(*e));

	if (!e)
		return arr;
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);
		unsigned n;

		if (!p || !port_is_vxlan(p) || (only_port && strcmp(p->name, only_port) != 0))
			continue;
		n = port_vxlan_fdb_dump(p, e, VTEP_BUCKETS * VTEP_WAYS);
		for (unsigned k = 0; k < n; k++) {
			char mac[18];

			if (only_static && !e[k].is_static)
				continue;
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", e[k].mac[0], e[k].mac[1], e[k].mac[2],
				 e[k].mac[3], e[k].mac[4], e[k].mac[5]);
			entry_add(arr, p, e[k].vni, mac, port_vxlan_remote_str(p, e[k].remote), !only_static,
				  e[k].is_static, e[k].age_s, false);
		}
		flood_entries(arr, p, !only_static);
	}
	free(e);
	return arr;
}

struct json_object *ctl_tunnel_fdb_show(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	const char *name = json_param_str(req, "port");
	struct json_object *r;

	if (name && vswd_port_slot(v, name) < 0) {
		char err[128];

		snprintf(err, sizeof(err), "no port %.64s", name);
		return ctl_reply_error(err);
	}
	r = ctl_reply_ok();
	json_object_object_add(r, "entries", ctl_tunnel_fdb_entries(v, name, false));
	return r;
}

void ctl_tunnel_fdb_show_print(struct json_object *r)
{
	struct json_object *e;

	printf("%-16s %-8s %-18s %-40s %s\n", "PORT", "VNI", "MAC", "REMOTE", "AGE");
	if (!json_object_object_get_ex(r, "entries", &e))
		return;
	for (size_t i = 0; i < json_object_array_length(e); i++) {
		struct json_object *x = json_object_array_get_idx(e, i);

		printf("%-16s %-8" PRId64 " %-18s %-40s ", ctl_reply_str(x, "port"), ctl_reply_int(x, "vni"),
		       ctl_reply_str(x, "mac"), ctl_reply_str(x, "remote"));
		if (json_object_get_boolean(json_object_object_get(x, "flood")))
			printf("flood\n");
		else if (json_object_get_boolean(json_object_object_get(x, "static")))
			printf("static\n");
		else
			printf("%" PRId64 "\n", ctl_reply_int(x, "age"));
	}
}

int ctl_tunnel_fdb_restore(struct vswd *v, struct json_object *entries, char *err, size_t errlen)
{
	int failed = 0;

	for (size_t i = 0; entries && i < json_object_array_length(entries); i++) {
		struct json_object *o = json_object_array_get_idx(entries, i), *f;
		const char *name = json_param_str(o, "port"), *remote = json_param_str(o, "remote");
		int slot = name ? vswd_port_slot(v, name) : -1;
		struct port *p = slot < 0 ? NULL : atomic_load(&v->sw->ports[slot]);
		uint8_t mac[6];
		int64_t vni = json_object_object_get_ex(o, "vni", &f) ? json_object_get_int64(f) : -1;

		/* The VNI checked whole: a cast to 32 bits would make 2^32 + N VNI N. */
		if (!p || !port_is_vxlan(p) || !port_opts_parse_mac(json_param_str(o, "mac"), mac) || vni < 0 ||
		    vni > VXLAN_VNI_MAX || port_vxlan_fdb_add(p, mac, (uint32_t)vni, remote, err, errlen) < 0) {
			if (!failed)
				snprintf(err, errlen, "tunnel_fdb[%zu] (port %s) not restored", i, name ? name : "?");
			failed++;
		}
	}
	return failed ? -1 : 0;
}
