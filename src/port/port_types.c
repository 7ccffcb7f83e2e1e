/* port_types.c - the registry of port types and parameter helpers for their constructors. */
#include "port/port_types.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/json_param.h"
#include "lib/strbuf.h"
#include "port/port_afpacket.h"
#include "port/port_afxdp.h"
#include "port/port_pcap.h"
#include "port/port_tap.h"
#include "port/port_vhost.h"
#include "port/port_vxlan.h"

static struct port *vhost_from_params(const char *name, struct json_object *params, const struct port_env *env,
				      char *err, size_t errlen)
{
	const char *mode = port_param_str(params, "mode");
	struct vhost_port_config pc = { .name = name, .path = port_param_str(params, "path") };

	if (mode && strcmp(mode, "client") != 0 && strcmp(mode, "server") != 0) {
		snprintf(err, errlen, "mode must be server or client");
		return NULL;
	}
	pc.client = mode && strcmp(mode, "client") == 0;
	if (port_param_uint(params, "queues", 1, PORT_QUEUES_MAX, 1, &pc.queues, err, errlen) < 0)
		return NULL;
	return port_vhost_create(&pc, env, err, errlen);
}

/*
 * The keys each type reads: one table, checked before any constructor runs
 * (port_type_check), so that a typo ("mdoe=client") is refused instead of
 * silently meaning the default.  A constructor that reads a new key adds
 * it here.
 */
static const struct port_param vhost_params[] = {
	{ "path", PORT_PARAM_REQUIRED, "SOCK" }, { "mode", 0, "server|client" }, { "queues", 0, "N" }, { NULL, 0, NULL },
};
static const struct port_param tap_params[] = { { "ifname", PORT_PARAM_REQUIRED, "IFNAME" }, { NULL, 0, NULL } };
static const struct port_param afpacket_params[] = { { "ifname", PORT_PARAM_REQUIRED, "IFNAME" }, { NULL, 0, NULL } };
static const struct port_param pcap_params[] = {
	{ "read", PORT_PARAM_FILE, "FILE.pcap" }, { "loop", 0, "0|1" }, { "pps", 0, "N" },
	{ "write", PORT_PARAM_FILE, "FILE.pcap" }, { NULL, 0, NULL },
};
static const struct port_param afxdp_params[] = {
	{ "ifname", PORT_PARAM_REQUIRED, "IFNAME" }, { "queue", 0, "N" }, { "mode", 0, "auto|native|skb" },
	{ "zerocopy", 0, "auto|on|off" }, { "rx_frames", 0, "N" }, { NULL, 0, NULL },
};

static const struct port_param vxlan_params[] = {
	{ "local", PORT_PARAM_REQUIRED, "IP" }, { "remote", 0, "IP[,IP..]|flow" },
	{ "vni", 0, "N|flow" }, { "vlan_vni", 0, "VID:VNI[,VID:VNI..]" }, { "dstport", 0, "4789" }, { "csum", 0, "on|off" }, { "ttl", 0, "N" },
	{ "tos", 0, "N|inherit" }, { "src_ports", 0, "LO-HI" }, { "mtu", 0, "N" }, { "xdp", 0, "IFNAME" }, { NULL, 0, NULL },
};

/* Keys of every port-add request and config entry, whatever the type (the switch's own settings: port_type_check). */
static const char *const common_keys[] = { "cmd", "name", "type", NULL };

static const struct port_type types[] = {
	{ "vhost-user", vhost_from_params, vhost_params, "a VM's virtio-net device over a vhost-user socket" },
	{ "tap", port_tap_create, tap_params, "a tap interface, created or attached by name" },
	{ "afpacket", port_afpacket_create, afpacket_params, "an existing interface through an AF_PACKET ring" },
	{ "pcap", port_pcap_create, pcap_params, "replays a pcap file (read=) and/or records into one (write=)" },
	{ "afxdp", port_afxdp_create, afxdp_params, "an existing interface's rx queues through AF_XDP sockets" },
	{ "vxlan", port_vxlan_create, vxlan_params, "a VXLAN tunnel (RFC 7348) to remote VTEPs (or the flows' tun_dst or tun_ipv6_dst: remote=flow) in one VNI, the flows' (vni=flow) or one per VLAN (vlan_vni=), over UDP" },
};

int port_type_check(const struct port_type *pt, struct json_object *params, const char *const *switch_keys,
		    bool privileged, char *err, size_t errlen)
{
	json_object_object_foreach(params, key, val)
	{
		const struct port_param *pp = NULL;
		char valid[160] = "";

		(void)val;
		if (json_key_in(key, common_keys) || (switch_keys && json_key_in(key, switch_keys)))
			continue;
		for (size_t i = 0; pt->params[i].key && !pp; i++)
			if (strcmp(pt->params[i].key, key) == 0)
				pp = &pt->params[i];
		if (!pp) {
			for (size_t i = 1; common_keys[i]; i++)
				json_list_add(valid, sizeof(valid), common_keys[i]);
			for (size_t i = 0; pt->params[i].key; i++)
				json_list_add(valid, sizeof(valid), pt->params[i].key);
			for (size_t i = 0; switch_keys && switch_keys[i]; i++)
				json_list_add(valid, sizeof(valid), switch_keys[i]);
			snprintf(err, errlen, "unknown key \"%.40s\" for port type %s (valid: %s)", key, pt->name, valid);
			return -1;
		}
		if ((pp->flags & PORT_PARAM_FILE) && !privileged) {
			snprintf(err, errlen, "%s= names a file vswd would open: only root or vswd's own user may", key);
			return -1;
		}
	}
	return 0;
}

const struct port_type *port_type_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

const struct port_type *port_type_at(size_t i)
{
	return i < sizeof(types) / sizeof(types[0]) ? &types[i] : NULL;
}

size_t port_types_help(char *buf, size_t len, const char *prefix)
{
	size_t used = 0;

	if (len)
		buf[0] = 0;
	for (const struct port_type *t = types; t < types + sizeof(types) / sizeof(types[0]); t++) {
		strbuf_addf(buf, len, &used, "%s%s", prefix, t->name);
		for (const struct port_param *pp = t->params; pp->key; pp++)
			strbuf_addf(buf, len, &used, pp->flags & PORT_PARAM_REQUIRED ? " %s=%s" : " [%s=%s]", pp->key,
				 pp->value ? pp->value : "VALUE");
		strbuf_addf(buf, len, &used, "\n%s    %s\n", prefix, t->summary);
	}
	return used;
}

const char *port_type_names(void)
{
	static char buf[128];

	if (!buf[0])
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? ", " : "", types[i].name);
	return buf;
}
