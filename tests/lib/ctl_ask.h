/* ctl_ask.h - a control request handled by a vswd in the test's own process, as root: the reply, or "ok" / its error. */
#ifndef VSW_TESTS_CTL_ASK_H
#define VSW_TESTS_CTL_ASK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "ctl/daemon.h"
#include "ctl/handlers.h"

/* The reply of @v to request @json (which must parse), asked by a privileged peer; the caller puts it. */
static inline struct json_object *ctl_ask_reply(struct vswd *v, const char *json)
{
	struct ctl_peer root = { .privileged = true, .fd = -1 };
	struct json_object *req = json_tokener_parse(json), *resp;

	if (!req) {
		fprintf(stderr, "ctl_ask: not JSON: %s\n", json);
		abort();
	}
	resp = vswd_handle_request(v, req, &root);
	json_object_put(req);
	return resp;
}

/* "ok", or the error of @v's reply to @json, into @out (@len bytes). */
static inline const char *ctl_ask_text(struct vswd *v, const char *json, char *out, size_t len)
{
	struct json_object *resp = ctl_ask_reply(v, json), *f;

	if (json_object_object_get_ex(resp, "ok", &f) && json_object_get_boolean(f))
		snprintf(out, len, "ok");
	else
		snprintf(out, len, "%s", json_object_get_string(json_object_object_get(resp, "error")));
	json_object_put(resp);
	return out;
}

#endif
