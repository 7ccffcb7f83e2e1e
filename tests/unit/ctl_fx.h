/* ctl_fx.h - fixtures of the control-plane tests (test_ctl.c, test_ctl_flows.c): a scratch directory, an offline vswd of stub ports, requests and replies as text. */
#ifndef VSW_TESTS_CTL_FX_H
#define VSW_TESTS_CTL_FX_H

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "../lib/ctl_ask.h"
#include "../lib/stub_port.h"

static char dir[64];

static inline const char *tmp_path(const char *name)
{
	static char bufs[4][192];
	static unsigned next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static inline int setup_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vsw-test-ctl.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static inline int teardown_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A vswd with no workers and no socket; ports are stubs (tests/lib/stub_port.c). */
static inline struct vswd *offline_vswd(void)
{
	static struct vswd v;
	struct vswd_config cfg;
	char err[256];

	vswd_config_default(&cfg);
	assert_int_equal(vswd_init(&v, &cfg, err, sizeof(err)), 0);
	v.create_hook = stub_port_create;
	return &v;
}

/* Handle the request text @json from @peer; returns "ok" or the error (static buffer). */
static inline const char *ask(struct vswd *v, const char *json, struct ctl_peer *peer)
{
	static char out[512];
	struct ctl_peer root = { .privileged = true, .fd = -1 };
	struct json_object *req = json_tokener_parse(json), *resp, *f;

	assert_non_null(req);
	resp = vswd_handle_request(v, req, peer ? peer : &root);
	if (json_object_object_get_ex(resp, "ok", &f) && json_object_get_boolean(f))
		snprintf(out, sizeof(out), "ok");
	else
		snprintf(out, sizeof(out), "%s", json_object_get_string(json_object_object_get(resp, "error")));
	json_object_put(resp);
	json_object_put(req);
	return out;
}

/* Port @name (a stub, through create_hook) added by a port-add request, which must answer "ok". */
static inline void stub_add(struct vswd *v, const char *name, const char *path)
{
	char req[256];

	snprintf(req, sizeof(req), "{\"cmd\":\"port-add\",\"name\":\"%s\",\"type\":\"vhost-user\",\"path\":\"%s\"}",
		 name, path);
	assert_string_equal(ask(v, req, NULL), "ok");
}

/* The reply of @json from a privileged peer, which the caller puts. */
static inline struct json_object *ask_reply(struct vswd *v, const char *json)
{
	return ctl_ask_reply(v, json);
}

/* What the printer @print writes on stdout for the reply @json (the caller frees it). */
static inline char *print_text(void (*print)(struct json_object *), const char *json)
{
	struct json_object *r = json_tokener_parse(json);
	FILE *f = tmpfile();
	int saved = dup(1);
	char *text;
	long len;

	assert_non_null(r);
	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stdout);
	assert_true(dup2(fileno(f), 1) >= 0);
	print(r);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	json_object_put(r);
	len = ftell(f);
	assert_true(len >= 0);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	rewind(f);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

#endif
