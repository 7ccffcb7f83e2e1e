/* port_opts.c - the options every port takes whatever its type: MAC/IP locking, FDB and flood limits, VLANs, its number. */
#include "ctl/port_opts.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "port/port_types.h"
#include "port/port_vxlan.h"

#define FLOOD_RATE_MAX 10000000u /* frames/s: an interval of 100 ns */
#define ADDR_TEXT_MAX 64

const char *const port_opts_keys[] = { "mac", "ip", "mac_limit", "flood_rate", "tag", "trunks", "vlan_mode",
				       "ofport_request", NULL };

/* vlan_mode= values, by enum switch_vlan_mode (OVS's names; its dot1q-tunnel is not supported). */
static const char *const vlan_mode_names[] = {
	[SWITCH_VLAN_TRUNK] = "trunk",
	[SWITCH_VLAN_ACCESS] = "access",
	[SWITCH_VLAN_NATIVE_TAGGED] = "native-tagged",
	[SWITCH_VLAN_NATIVE_UNTAGGED] = "native-untagged",
};

bool port_opts_parse_mac(const char *s, uint8_t mac[6])
{
	if (!s)
		return false;
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;

		for (int d = 0; d < 2; d++, s++) {
			char c = *s;

			if (c >= '0' && c <= '9')
				v = v * 16 + (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v = v * 16 + (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v = v * 16 + (unsigned)(c - 'A' + 10);
			else
				return false;
		}
		mac[i] = (uint8_t)v;
		if (*s != (i < 5 ? ':' : '\0'))
			return false;
		s += i < 5;
	}
	return true;
}

/* One address of @key's list into @c. */
static int add_addr(struct switch_port_cfg *c, bool is_mac, const char *a, char *err, size_t errlen)
{
	static const uint8_t zero[6];

	if (is_mac) {
		if (c->n_macs == SWITCH_MACS_MAX) {
			snprintf(err, errlen, "\"mac\": at most %d addresses", SWITCH_MACS_MAX);
			return -1;
		}
		if (!port_opts_parse_mac(a, c->macs[c->n_macs]) || (c->macs[c->n_macs][0] & 1) ||
		    memcmp(c->macs[c->n_macs], zero, 6) == 0) {
			snprintf(err, errlen, "\"mac\": \"%.40s\" is not a unicast MAC address like 02:00:00:00:00:01", a);
			return -1;
		}
		c->n_macs++;
		return 0;
	}
	if (c->n_ip4 < SWITCH_IPS_MAX && inet_pton(AF_INET, a, c->ip4[c->n_ip4]) == 1) {
		c->n_ip4++;
		return 0;
	}
	if (c->n_ip6 < SWITCH_IPS_MAX && inet_pton(AF_INET6, a, c->ip6[c->n_ip6]) == 1) {
		c->n_ip6++;
		return 0;
	}
	snprintf(err, errlen, "\"ip\": \"%.40s\" is not an IPv4 or IPv6 address, or more than %d of its kind", a,
		 SWITCH_IPS_MAX);
	return -1;
}

/* "a,b, c" into addresses, each trimmed of blanks; an empty item is an error. */
static int add_list(struct switch_port_cfg *c, bool is_mac, const char *list, char *err, size_t errlen)
{
	const char *key = is_mac ? "mac" : "ip";

	for (const char *s = list;; s++) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		char a[ADDR_TEXT_MAX];

		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(a)) {
			snprintf(err, errlen, "\"%s\": an empty or overlong address in \"%.60s\"", key, list);
			return -1;
		}
		memcpy(a, s, len);
		a[len] = '\0';
		if (add_addr(c, is_mac, a, err, errlen) < 0)
			return -1;
		if (!end)
			return 0;
		s = end;
	}
}

/* @key as a comma-separated string or an array of such strings; absent is fine. */
static int parse_addrs(struct json_object *o, const char *key, struct switch_port_cfg *c, char *err, size_t errlen)
{
	struct json_object *f;
	bool is_mac = strcmp(key, "mac") == 0;

	if (!json_object_object_get_ex(o, key, &f))
		return 0;
	if (json_object_is_type(f, json_type_string))
		return add_list(c, is_mac, json_object_get_string(f), err, errlen);
	if (json_object_is_type(f, json_type_array) && json_object_array_length(f) > 0) {
		for (size_t i = 0; i < json_object_array_length(f); i++) {
			struct json_object *e = json_object_array_get_idx(f, i);

			if (!json_object_is_type(e, json_type_string)) {
				snprintf(err, errlen, "\"%s\" entries must be strings", key);
				return -1;
			}
			if (add_list(c, is_mac, json_object_get_string(e), err, errlen) < 0)
				return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "\"%s\" must be a comma-separated string or an array of addresses", key);
	return -1;
}

/* VLAN @v into @c's trunks; -1 with @err when out of range. */
static int add_trunk(struct switch_port_cfg *c, long long v, char *err, size_t errlen)
{
	if (v < 0 || v > SWITCH_VLAN_TAG_MAX) {
		snprintf(err, errlen, "\"trunks\": VLAN %lld is not from 0 to %d", v, SWITCH_VLAN_TAG_MAX);
		return -1;
	}
	c->trunks[v / 64] |= 1ull << (v % 64);
	return 0;
}

/* "10,20,30-40" (blanks allowed around items) into @c's trunks. */
static int add_trunk_list(struct switch_port_cfg *c, const char *list, char *err, size_t errlen)
{
	const char *s = list;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0; /* an empty list: OVS's "every VLAN" */
	for (;;) {
		char *end;
		long long lo, hi;

		while (*s == ' ' || *s == '\t')
			s++;
		lo = hi = strtoll(s, &end, 10);
		if (end == s || *s == '-' || *s == '+')
			goto bad;
		s = end;
		if (*s == '-') {
			s++;
			hi = strtoll(s, &end, 10);
			if (end == s || *s == '-' || *s == '+' || hi < lo)
				goto bad;
			s = end;
		}
		if (lo < 0 || hi > SWITCH_VLAN_TAG_MAX)
			return add_trunk(c, lo < 0 ? lo : hi, err, errlen);
		for (long long v = lo; v <= hi; v++)
			add_trunk(c, v, err, errlen);
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return 0;
		if (*s++ != ',')
			goto bad;
	}
bad:
	snprintf(err, errlen, "\"trunks\": \"%.60s\" is not a list of VLANs like 10,20,30-40", list);
	return -1;
}

/* tag=, trunks= and vlan_mode= into @c, checked against each other as ovs-vswitchd.conf.db(5) says. */
static int parse_vlan(struct json_object *o, struct switch_port_cfg *c, char *err, size_t errlen)
{
	struct json_object *f;
	const char *mode = json_object_object_get_ex(o, "vlan_mode", &f) ? json_object_get_string(f) : NULL;
	unsigned tag;

	if (port_param_uint(o, "tag", 0, SWITCH_VLAN_TAG_MAX, 0, &tag, err, errlen) < 0)
		return -1;
	c->has_tag = json_object_object_get_ex(o, "tag", NULL);
	c->tag = (uint16_t)tag;
	if (json_object_object_get_ex(o, "trunks", &f)) {
		c->trunks_only = true;
		if (json_object_is_type(f, json_type_int)) {
			if (add_trunk(c, json_object_get_int64(f), err, errlen) < 0)
				return -1;
		} else if (json_object_is_type(f, json_type_string)) {
			if (add_trunk_list(c, json_object_get_string(f), err, errlen) < 0)
				return -1;
		} else if (json_object_is_type(f, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(f); i++) {
				struct json_object *e = json_object_array_get_idx(f, i);
				int rc = json_object_is_type(e, json_type_int)
						 ? add_trunk(c, json_object_get_int64(e), err, errlen)
					 : json_object_is_type(e, json_type_string)
						 ? add_trunk_list(c, json_object_get_string(e), err, errlen)
						 : (snprintf(err, errlen, "\"trunks\" entries must be VLANs"), -1);

				if (rc < 0)
					return -1;
			}
		} else {
			snprintf(err, errlen, "\"trunks\" must be a list of VLANs like \"10,20,30-40\"");
			return -1;
		}
		c->trunks_only = false;
		for (unsigned w = 0; w < SWITCH_VLANS / 64; w++)
			c->trunks_only |= c->trunks[w] != 0; /* empty: every VLAN, as in OVS */
	}
	/* OVS: no vlan_mode is access with a tag, trunk without one. */
	c->vlan_mode = c->has_tag ? SWITCH_VLAN_ACCESS : SWITCH_VLAN_TRUNK;
	if (mode) {
		unsigned m = 0;

		while (m < sizeof(vlan_mode_names) / sizeof(vlan_mode_names[0]) && strcmp(mode, vlan_mode_names[m]) != 0)
			m++;
		if (m == sizeof(vlan_mode_names) / sizeof(vlan_mode_names[0])) {
			snprintf(err, errlen, "\"vlan_mode\": \"%.40s\" is not access, trunk, native-tagged or native-untagged",
				 mode);
			return -1;
		}
		c->vlan_mode = (uint8_t)m;
	}
	if (c->vlan_mode == SWITCH_VLAN_ACCESS && c->trunks_only) {
		snprintf(err, errlen, "an access port (tag=) takes no trunks=");
		return -1;
	}
	if (c->vlan_mode == SWITCH_VLAN_TRUNK && c->has_tag) {
		snprintf(err, errlen, "vlan_mode=trunk takes no tag= (a native VLAN: vlan_mode=native-tagged or native-untagged)");
		return -1;
	}
	if (c->vlan_mode != SWITCH_VLAN_TRUNK && !c->has_tag) {
		snprintf(err, errlen, "vlan_mode=%s needs tag=", vlan_mode_names[c->vlan_mode]);
		return -1;
	}
	return 0;
}

/*
 * A vxlan port's vlan_vni= makes it a trunk of the VLANs it maps (trunks=
 * left out): other VLANs' floods are not sent there to be dropped.  A
 * given trunks= or vlan_mode= stands; an access port cannot map VLANs.
 */
static int vlan_vni_trunks(struct json_object *o, struct switch_port_cfg *c, char *err, size_t errlen)
{
	const char *map = port_param_str(o, "vlan_vni");
	uint16_t vids[4094];
	uint32_t vnis[4094];
	int n;

	if (!map)
		return 0;
	if (c->vlan_mode == SWITCH_VLAN_ACCESS) {
		snprintf(err, errlen, "a vlan_vni= port is a trunk of the VLANs it maps: no tag= alone");
		return -1;
	}
	n = port_vxlan_vlan_vni_parse(map, vids, vnis, 4094, err, errlen);
	if (n < 0)
		return -1;
	if (c->trunks_only || json_object_object_get_ex(o, "trunks", NULL) || json_object_object_get_ex(o, "vlan_mode", NULL))
		return 0;
	for (int i = 0; i < n; i++)
		c->trunks[vids[i] / 64] |= 1ull << (vids[i] % 64);
	c->trunks_only = true;
	return 0;
}

/*
 * ofport_request=N (ovs-vswitchd.conf.db(5), Interface ofport_request):
 * the OpenFlow port number asked for, which in vsw is the port's slot.
 * Open vSwitch's range is 1 to 65279: 0 is OpenFlow's reserved port,
 * never an interface's (nor a vsw port's: ctl_ports.c never gives slot
 * 0), and is refused, saying so.  Any other number a flow may write is a
 * valid request to read, but only the switch's slots can be given: a
 * number past them is refused here, by name, rather than silently
 * replaced by another.
 * Whether the slot is free is the caller's question (ctl_ports.c).
 */
static int parse_ofport_request(struct json_object *o, struct switch_port_cfg *c, char *err, size_t errlen)
{
	struct json_object *v;
	unsigned n;

	if (!json_object_object_get_ex(o, "ofport_request", &v))
		return 0;
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0) {
		snprintf(err, errlen, "\"ofport_request\": 0 is OpenFlow's reserved port, never a port's number: numbers "
			 "start at %d, as in Open vSwitch (%d to %d)", PORT_FIRST, PORT_FIRST, OFPORT_NUMBER_MAX);
		return -1;
	}
	if (port_param_uint(o, "ofport_request", PORT_FIRST, OFPORT_NUMBER_MAX, 0, &n, err, errlen) < 0)
		return -1;
	if (n >= PORT_MAX) {
		snprintf(err, errlen, "\"ofport_request\": %u is past this switch's port numbers (%d to %d, one per slot)",
			 n, PORT_FIRST, PORT_MAX - 1);
		return -1;
	}
	c->has_ofport_request = true;
	c->ofport_request = (uint16_t)n;
	return 0;
}

int port_opts_parse(struct json_object *o, struct switch_port_cfg *c, char *err, size_t errlen)
{
	switch_port_cfg_default(c);
	if (parse_ofport_request(o, c, err, errlen) < 0)
		return -1;
	if (parse_addrs(o, "mac", c, err, errlen) < 0 || parse_addrs(o, "ip", c, err, errlen) < 0 ||
	    port_param_uint(o, "mac_limit", 0, FDB_SIZE_MAX, c->mac_limit, &c->mac_limit, err, errlen) < 0 ||
	    port_param_uint(o, "flood_rate", 0, FLOOD_RATE_MAX, c->flood_rate_pps, &c->flood_rate_pps, err, errlen) < 0 ||
	    parse_vlan(o, c, err, errlen) < 0 || vlan_vni_trunks(o, c, err, errlen) < 0)
		return -1;
	c->ip_lock = json_object_object_get_ex(o, "ip", NULL);
	return 0;
}

struct json_object *port_opts_json(const struct switch_port_cfg *c)
{
	struct json_object *o = json_object_new_object();
	char a[INET6_ADDRSTRLEN];

	if (c->n_macs) {
		struct json_object *macs = json_object_new_array();

		for (unsigned i = 0; i < c->n_macs; i++) {
			const uint8_t *m = c->macs[i];

			snprintf(a, sizeof(a), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
			json_object_array_add(macs, json_object_new_string(a));
		}
		json_object_object_add(o, "mac", macs);
	}
	if (c->ip_lock) {
		struct json_object *ips = json_object_new_array();

		for (unsigned i = 0; i < c->n_ip4; i++)
			json_object_array_add(ips, json_object_new_string(inet_ntop(AF_INET, c->ip4[i], a, sizeof(a))));
		for (unsigned i = 0; i < c->n_ip6; i++)
			json_object_array_add(ips, json_object_new_string(inet_ntop(AF_INET6, c->ip6[i], a, sizeof(a))));
		json_object_object_add(o, "ip", ips);
	}
	json_object_object_add(o, "mac_limit", json_object_new_int64(c->mac_limit));
	json_object_object_add(o, "flood_rate", json_object_new_int64(c->flood_rate_pps));
	if (c->has_ofport_request)
		json_object_object_add(o, "ofport_request", json_object_new_int(c->ofport_request));
	/* VLAN options only when set: a plain port (a trunk of every VLAN) says nothing. */
	if (c->vlan_mode != SWITCH_VLAN_TRUNK || c->trunks_only)
		json_object_object_add(o, "vlan_mode", json_object_new_string(vlan_mode_names[c->vlan_mode]));
	if (c->has_tag)
		json_object_object_add(o, "tag", json_object_new_int(c->tag));
	if (c->trunks_only) {
		/* Every other VLAN listed: 2,048 items of up to 5 characters. */
		size_t used = 0, room = SWITCH_VLANS / 2 * 6 + 1;
		char *list = malloc(room);

		if (!list)
			return o;
		list[0] = '\0';
		for (unsigned v = 0; v < SWITCH_VLANS; v++) {
			unsigned e = v;

			if (!(c->trunks[v / 64] >> (v % 64) & 1))
				continue;
			while (e + 1 < SWITCH_VLANS && (c->trunks[(e + 1) / 64] >> ((e + 1) % 64) & 1))
				e++;
			if (e > v)
				strbuf_addf(list, room, &used, "%s%u-%u", used ? "," : "", v, e);
			else
				strbuf_addf(list, room, &used, "%s%u", used ? "," : "", v);
			v = e;
		}
		json_object_object_add(o, "trunks", json_object_new_string(list));
		free(list);
	}
	return o;
}
