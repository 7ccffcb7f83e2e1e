/* reload.c - SIGHUP: apply the port list of a configuration read again (systemctl reload vswd). */
#include "ctl/reload.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl/daemon.h"
#include "lib/json_param.h"
#include "lib/log.h"

/* @conf's "ports" entry named @name, or NULL. */
static struct json_object *entry_named(struct json_object *conf, const char *name)
{
	struct json_object *ports;

	if (!conf || !json_object_object_get_ex(conf, "ports", &ports) || !json_object_is_type(ports, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *e = json_object_array_get_idx(ports, i);
		const char *n = json_object_is_type(e, json_type_object) ? json_param_str(e, "name") : NULL;

		if (n && strcmp(n, name) == 0)
			return e;
	}
	return NULL;
}

/* Delete port @name as a privileged control request would (the same checks, the same log line). */
static int del_port(struct vswd *v, const char *name, char *err, size_t errlen)
{
	struct ctl_peer peer = { .uid = 0, .gid = 0, .privileged = true, .fd = -1 };
	struct json_object *req = json_object_new_object(), *r;
	int rc;

	json_object_object_add(req, "cmd", json_object_new_string("port-del"));
	json_object_object_add(req, "name", json_object_new_string(name));
	r = vswd_handle_request(v, req, &peer);
	rc = json_object_get_boolean(json_object_object_get(r, "ok")) ? 0 : -1;
	if (rc < 0)
		snprintf(err, errlen, "port %s: %s", name, json_object_get_string(json_object_object_get(r, "error")));
	json_object_put(r);
	json_object_put(req);
	return rc;
}

/* Keep the first error for the caller; log every one. */
static void note_err(char *err, size_t errlen, int *rc, const char *what)
{
	log_err("reload: %s", what);
	if (*rc == 0)
		snprintf(err, errlen, "%s", what);
	*rc = -1;
}

int vswd_reload_ports(struct vswd *v, struct json_object *old, struct json_object *new, char *err, size_t errlen)
{
	struct json_object *ports, *add = json_object_new_array(), *wrap;
	unsigned added = 0, deleted = 0;
	char why[256];
	int rc = 0;

	/* Top-level keys other than "ports" need a restart. */
	json_object_object_foreach(new, key, val)
	{
		struct json_object *was = NULL;

		if (strcmp(key, "ports") != 0 && (!old || !json_object_object_get_ex(old, key, &was) ||
						  !json_object_equal(val, was)))
			log_warn("reload: \"%s\" changed: takes effect at the next start", key);
	}
	/* 1. Deletions: gone from the file, or changed. */
	if (old && json_object_object_get_ex(old, "ports", &ports) && json_object_is_type(ports, json_type_array))
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *e = json_object_array_get_idx(ports, i), *now;
			const char *name = json_object_is_type(e, json_type_object) ? json_param_str(e, "name") : NULL;

			if (!name || vswd_port_slot(v, name) < 0)
				continue;
			now = entry_named(new, name);
			if (now && json_object_equal(now, e))
				continue;
			if (del_port(v, name, why, sizeof(why)) < 0)
				note_err(err, errlen, &rc, why);
			else
				deleted++;
		}
	vswd_free_graveyard(v); /* before the additions: a recreated port may bind its own path again */

	/* 2. Additions: new in the file, changed, or listed before but not there (its add had failed). */
	if (json_object_object_get_ex(new, "ports", &ports) && json_object_is_type(ports, json_type_array))
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *e = json_object_array_get_idx(ports, i);
			const char *name = json_object_is_type(e, json_type_object) ? json_param_str(e, "name") : NULL;

			if (name && vswd_port_slot(v, name) >= 0) {
				if (!entry_named(old, name)) {
					snprintf(why, sizeof(why), "ports[%zu]: port %s exists (added by vswctl): left as it is",
						 i, name);
					note_err(err, errlen, &rc, why);
				}
				continue;
			}
			json_object_array_add(add, json_object_get(e));
		}
	/* One entry at a time: one that fails does not keep the others out. */
	for (size_t i = 0; i < json_object_array_length(add); i++) {
		struct json_object *e = json_object_array_get_idx(add, i);
		const char *name = json_object_is_type(e, json_type_object) ? json_param_str(e, "name") : NULL;
		char msg[320];

		wrap = json_object_new_object();
		json_object_object_add(wrap, "ports", json_object_new_array());
		json_object_array_add(json_object_object_get(wrap, "ports"), json_object_get(e));
		if (vswd_add_config_ports(v, wrap, why, sizeof(why)) < 0) {
			/* why says "ports[0]: ...", the index in @wrap: name the entry instead. */
			snprintf(msg, sizeof(msg), "port %.32s: %s", name ? name : "(no name)",
				 strncmp(why, "ports[0]: ", 10) == 0 ? why + 10 : why);
			note_err(err, errlen, &rc, msg);
		} else {
			added++;
		}
		json_object_put(wrap);
	}
	json_object_put(add);
	log_info("reload: %u port(s) added, %u deleted%s", added, deleted, rc ? " (with errors, above)" : "");
	/* The added ports' numbers, kept across a restart like the others (state.c "ofports"; logged if not saved). */
	if (added && vswd_state_changed(v, why, sizeof(why)) < 0)
		note_err(err, errlen, &rc, why);
	return rc;
}
