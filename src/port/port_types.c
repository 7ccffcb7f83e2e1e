/* port_types.c - the registry of port types and parameter helpers for their constructors. */
#include "port/port_types.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "port/port_afpacket.h"
#include "port/port_afxdp.h"
#include "port/port_pcap.h"
#include "port/port_tap.h"
#include "port/port_vhost.h"

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

static const struct port_type types[] = {
	{ "vhost-user", vhost_from_params },
	{ "tap", port_tap_create },
	{ "afpacket", port_afpacket_create },
	{ "pcap", port_pcap_create },
	{ "afxdp", port_afxdp_create },
};

const struct port_type *port_type_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

const char *port_type_names(void)
{
	static char buf[128];

	if (!buf[0])
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? ", " : "", types[i].name);
	return buf;
}

const char *port_param_str(struct json_object *params, const char *key)
{
	struct json_object *f;

	if (!json_object_object_get_ex(params, key, &f) || !json_object_is_type(f, json_type_string))
		return NULL;
	return json_object_get_string(f);
}

int port_param_uint(struct json_object *params, const char *key, unsigned lo, unsigned hi, unsigned dflt,
		    unsigned *out, char *err, size_t errlen)
{
	struct json_object *f;
	int64_t v;

	*out = dflt;
	if (!json_object_object_get_ex(params, key, &f))
		return 0;
	if (!json_object_is_type(f, json_type_int) || (v = json_object_get_int64(f)) < lo || v > hi) {
		snprintf(err, errlen, "\"%s\" must be an integer from %u to %u", key, lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}
