/* fuzz_ctl_request.c - libFuzzer target for vswd's control requests: lines, JSON, the command table, the handlers. */

/*
 * The fuzzer plays a control client of the control group (not privileged:
 * it may not name files for vswd to open).  Its input is the byte stream
 * of one connection: lines, each parsed as one JSON request the way
 * ctl_sock.c does and handed to vswd_handle_request().  The vswd has no
 * workers and no sockets (vswd_init) and its ports are stubs
 * (tests/lib/stub_port.c, as vswd.create_hook): the parameters are checked
 * against the real per-type tables, then a stub port that touches no file,
 * socket or interface is created.  So nothing here writes a file outside
 * a memfd, binds a socket or touches an interface.
 *
 * The first input byte picks options:
 *   bit 0: pass a file with every capture-start (a memfd, as vswctl passes
 *          an open file), else none (refused: not privileged)
 *   bit 1: a few MACs in the FDB before the requests, for fdb-show
 * Every reply must be a JSON object with a boolean "ok", and an "error"
 * string when not ok.  After the input every port is deleted, every stub
 * freed, and the fd count is back to what it was.
 *
 * fuzz/make_corpus_ctl_request.py writes the seed corpus.
 */

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ctl/daemon.h"
#include "../tests/lib/proc_counts.h"
#include "../tests/lib/stub_port.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small FDB: every port add and delete walks it, and reset() maps a fresh one per input. */
#define FUZZ_FDB_SIZE 1024

static struct vswd v;

static void check_reply(struct json_object *r)
{
	struct json_object *ok, *e;

	if (!json_object_is_type(r, json_type_object) || !json_object_object_get_ex(r, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean))
		abort();
	if (!json_object_get_boolean(ok) &&
	    (!json_object_object_get_ex(r, "error", &e) || !json_object_is_type(e, json_type_string)))
		abort();
}

static void handle_line(const char *line, size_t len, bool pass_fd)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *req = json_tokener_parse_ex(tok, line, (int)len), *resp;
	struct ctl_peer peer = { .uid = 4242, .gid = 4242, .privileged = false, .fd = -1 };

	if (req && json_tokener_get_parse_end(tok) == len) {
		/* As ctl_sock.c: no request while the graveyard is full; the next batch frees it. */
		if (v.ngrave >= VSWD_GRAVE_MAX)
			vswd_free_graveyard(&v);
		if (pass_fd)
			peer.fd = memfd_create("fuzz-capture", MFD_CLOEXEC);
		resp = vswd_handle_request(&v, req, &peer);
		check_reply(resp);
		json_object_put(resp);
		if (peer.fd >= 0)
			close(peer.fd);
	}
	json_object_put(req);
	json_tokener_free(tok);
}

/* Delete every port (ending its capture) and free them. */
static void reset(void)
{
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v.sw->ports[i]);
		struct ctl_peer root = { .privileged = true, .fd = -1 };
		struct json_object *req, *resp;

		if (!p)
			continue;
		if (v.ngrave >= VSWD_GRAVE_MAX)
			vswd_free_graveyard(&v);
		req = json_object_new_object();
		json_object_object_add(req, "cmd", json_object_new_string("port-del"));
		json_object_object_add(req, "name", json_object_new_string(p->name));
		resp = vswd_handle_request(&v, req, &root);
		json_object_put(resp);
		json_object_put(req);
	}
	vswd_free_graveyard(&v);
	{
		/* No flow rule carries over to the next input. */
		struct ctl_peer root = { .privileged = true, .fd = -1 };
		struct json_object *req = json_object_new_object(), *resp;

		json_object_object_add(req, "cmd", json_object_new_string("flow-del"));
		resp = vswd_handle_request(&v, req, &root);
		json_object_put(resp);
		json_object_put(req);
	}
	fdb_destroy(&v.sw->fdb);
	if (fdb_init(&v.sw->fdb, v.cfg.aging_s, v.cfg.fdb_size) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1, *end = (const char *)data + size;
	int base_fds;

	if (!v.sw) {
		struct vswd_config cfg;
		char err[256];

		vswd_config_default(&cfg);
		cfg.fdb_size = FUZZ_FDB_SIZE;
		if (vswd_init(&v, &cfg, err, sizeof(err)) < 0)
			abort();
		v.create_hook = stub_port_create;
	}
	if (size < 1)
		return 0;
	base_fds = proc_count_fds(); /* per input: libFuzzer's own fds vary between inputs */
	if (data[0] & 2)
		for (unsigned i = 0; i < 8; i++) {
			uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)i };

			fdb_learn(&v.sw->fdb, mac, i % 4, 0);
		}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

		if (len < CTL_REQUEST_MAX)
			handle_line(s, len, data[0] & 1);
		s += len + 1;
	}
	reset();
	if (stub_ports_live != 0 || proc_count_fds() != base_fds)
		abort();
	return 0;
}
