/* fuzz_ctl_config.c - libFuzzer target for vswd's config file: JSON, top-level keys, ports and their parameters. */

/*
 * The input is a config file's text.  It is parsed as vswd reads it (one
 * JSON value), read by vswd_config_from_json() and, when that accepts it,
 * its "ports" are added by vswd_add_config_ports() to a vswd with no
 * workers and no sockets whose ports are stubs (tests/lib/stub_port.c):
 * the real per-type key tables are checked, no file, socket or interface
 * is touched.  A config that is accepted must give a sane vswd_config
 * (workers in range, a known mode); after each input every port is deleted
 * and freed.
 *
 * fuzz/make_corpus_ctl_config.py writes the seed corpus.
 */

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/daemon.h"
#include "../tests/lib/stub_port.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vswd v;

static void reset(void)
{
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v.sw->ports[i]);

		if (p) {
			switch_port_set(v.sw, i, NULL);
			p->ops->destroy(p);
		}
	}
	vswd_free_graveyard(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok;
	struct json_object *o;
	struct vswd_config cfg;
	char err[256];

	if (!v.sw) {
		vswd_config_default(&cfg);
		cfg.fdb_size = 1024; /* every port add and delete walks the FDB */
		if (vswd_init(&v, &cfg, err, sizeof(err)) < 0)
			abort();
		v.create_hook = stub_port_create;
	}
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (!o)
		return 0;
	vswd_config_default(&cfg);
	if (vswd_config_from_json(&cfg, o, err, sizeof(err)) == 0) {
		if (cfg.workers < 1 || cfg.workers > DP_WORKERS_MAX || cfg.aging_s < 1 || cfg.fdb_size < FDB_SIZE_MIN ||
		    cfg.fdb_size > FDB_SIZE_MAX ||
		    (cfg.mode != SWITCH_LEARNING && cfg.mode != SWITCH_HUB) || strlen(cfg.ctl_group) >= CTL_GROUP_MAX)
			abort();
		if (vswd_add_config_ports(&v, o, err, sizeof(err)) < 0 && !err[0])
			abort();
	} else if (!err[0]) {
		abort();
	}
	json_object_put(o);
	reset();
	if (stub_ports_live != 0)
		abort();
	return 0;
}
