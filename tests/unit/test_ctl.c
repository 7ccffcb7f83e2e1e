/* test_ctl.c - the control plane against careless and hostile clients: the command table, keys, files, sockets, replies, logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/commands.h"
#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "ctl/reload.h"
#include "flow/table.h"
#include "lib/log.h"
#include "lib/unix_sock.h"
#include "port/port_types.h"
#include "../lib/proc_counts.h"
#include "../lib/stub_port.h"
#include "port/port_vxlan.h"
#include "ctl_fx.h"

static void assert_refused_naming(const char *got, const char *key)
{
	if (strcmp(got, "ok") == 0 || !strstr(got, key) || !strstr(got, "valid"))
		fail_msg("expected a refusal naming \"%s\" and the valid keys, got: %s", key, got);
}

/* ---- log lines ---- */

static void test_log_escape(void **state)
{
	char out[64];

	log_escape(out, sizeof(out), "a\nb\x1b[31m\\c\x7f");
	assert_string_equal(out, "a\\x0ab\\x1b[31m\\\\c\\x7f");
	/* Cut at a whole escape, always terminated. */
	assert_int_equal(log_escape(out, 6, "ab\ncd"), 2);
	assert_string_equal(out, "ab");
}

/* A message holding a newline and a fake timestamp stays one line. */
static void test_log_one_line(void **state)
{
	int fds[2], saved = dup(2);
	char buf[2048];
	ssize_t n;
	int lines = 0;

	assert_int_equal(pipe(fds), 0);
	fflush(stderr);
	dup2(fds[1], 2);
	log_info("capture into %s", "/tmp/x\n2099-01-01T00:00:00.000Z vswd info: FORGED\r");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	assert_int_equal(lines, 1);
	assert_non_null(strstr(buf, "\\x0a2099-01-01"));
	assert_null(strchr(buf, '\r'));
}

/* ---- keys: requests, port types, config files ---- */

static void test_request_keys(void **state)
{
	struct vswd *v = offline_vswd();

	assert_refused_naming(ask(v, "{\"cmd\":\"show\",\"verbose\":true}", NULL), "verbose");
	assert_refused_naming(ask(v, "{\"cmd\":\"stats\",\"x\":1}", NULL), "\"x\"");
	assert_refused_naming(ask(v, "{\"cmd\":\"fdb-show\",\"port\":\"a\"}", NULL), "port");
	assert_non_null(strstr(ask(v, "{\"cmd\":\"fdb-show\",\"limit\":-1}", NULL), "\"limit\" must be"));
	assert_non_null(strstr(ask(v, "{\"cmd\":\"fdb-show\",\"limit\":1000000}", NULL), "\"limit\" must be"));
	assert_string_equal(ask(v, "{\"cmd\":\"fdb-show\",\"limit\":0}", NULL), "ok");
	assert_refused_naming(ask(v, "{\"cmd\":\"port-del\",\"nmae\":\"a\"}", NULL), "nmae");
	assert_refused_naming(ask(v, "{\"cmd\":\"capture-start\",\"port\":\"a\",\"cuont\":1}", NULL), "cuont");
	assert_refused_naming(ask(v, "{\"cmd\":\"capture-stop\",\"port\":\"a\",\"if_dnoe\":true}", NULL), "if_dnoe");
	assert_refused_naming(ask(v, "{\"cmd\":\"perf-show\",\"json\":true}", NULL), "json");
	assert_refused_naming(ask(v, "{\"cmd\":\"perf-reset\",\"worker\":0}", NULL), "worker");
	assert_refused_naming(ask(v, "{\"cmd\":\"perf-set\",\"enable\":true}", NULL), "enable");
	assert_non_null(strstr(ask(v, "{\"cmd\":\"perf-set\",\"enabled\":1}", NULL), "true or false"));
	assert_non_null(strstr(ask(v, "{\"cmd\":\"perf-set\"}", NULL), "true or false"));
	assert_string_equal(ask(v, "{\"cmd\":\"perf-set\",\"enabled\":false}", NULL), "ok");
	assert_false(atomic_load(&v->dp.perf_on));
	assert_string_equal(ask(v, "{\"cmd\":\"perf-set\",\"enabled\":true}", NULL), "ok");
	assert_true(atomic_load(&v->dp.perf_on));
	assert_string_equal(ask(v, "{\"cmd\":\"perf-show\"}", NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"perf-reset\"}", NULL), "ok");
	assert_non_null(strstr(ask(v, "{\"cmd\":\"shwo\"}", NULL), "unknown command"));
	assert_string_equal(ask(v, "{\"cmd\":\"show\"}", NULL), "ok");
	vswd_shutdown(v);
}

static void test_port_type_keys(void **state)
{
	struct vswd *v = offline_vswd();
	static const char *const typos[][2] = {
		{ "{\"cmd\":\"port-add\",\"name\":\"a\",\"type\":\"vhost-user\",\"path\":\"/x\",\"mdoe\":\"client\"}", "mdoe" },
		{ "{\"cmd\":\"port-add\",\"name\":\"a\",\"type\":\"tap\",\"ifname\":\"x\",\"tag\":10,\"bogus\":1}", "tag" },
		{ "{\"cmd\":\"port-add\",\"name\":\"a\",\"type\":\"afpacket\",\"ifnmae\":\"lo\"}", "ifnmae" },
		{ "{\"cmd\":\"port-add\",\"name\":\"a\",\"type\":\"afxdp\",\"ifname\":\"lo\",\"qeue\":0}", "qeue" },
		{ "{\"cmd\":\"port-add\",\"name\":\"a\",\"type\":\"pcap\",\"read\":\"/x\",\"wirte\":\"/y\"}", "wirte" },
	};

	for (size_t i = 0; i < sizeof(typos) / sizeof(typos[0]); i++)
		assert_refused_naming(ask(v, typos[i][0], NULL), typos[i][1]);
	assert_int_equal(stub_ports_live, 0);
	/* The same without the typo reaches the constructor (the stub). */
	assert_string_equal(ask(v, "{\"cmd\":\"port-add\",\"name\":\"a\",\"type\":\"vhost-user\",\"path\":\"/x\","
				   "\"mode\":\"client\",\"queues\":2}", NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"port-add\",\"name\":\"b\",\"type\":\"afxdp\",\"ifname\":\"lo\","
				   "\"queue\":1,\"mode\":\"skb\",\"zerocopy\":\"off\",\"rx_frames\":4096}", NULL), "ok");
	assert_int_equal(stub_ports_live, 2);
	assert_string_equal(ask(v, "{\"cmd\":\"port-del\",\"name\":\"a\"}", NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"port-del\",\"name\":\"b\"}", NULL), "ok");
	vswd_free_graveyard(v);
	assert_int_equal(stub_ports_live, 0);
	vswd_shutdown(v);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * PORT_MAX - PORT_FIRST (4,095) ports on one switch, numbered 1 to 4095
 * (slot 0 is OpenFlow's reserved port 0): every slot taken, the next one
 * refused, one in the middle deleted and its slot reused.  No control
 * operation may cost in proportion to the ports squared: the adds take
 * a median well under a millisecond (no workers here: the switch's part).
 */
static void test_ports_at_scale(void **state)
{
	struct vswd *v = offline_vswd();
	static double add_ms[PORT_MAX];
	char req[160];
	struct json_object *r = NULL, *ports, *f;
	struct ctl_peer root = { .privileged = true, .fd = -1 };
	double t0;
	bool found = false;

	assert_true(PORT_MAX >= 4096 && PORT_FIRST == 1);
	for (unsigned i = PORT_FIRST; i < PORT_MAX; i++) {
		/* p<i> gets number i: the first never given, from 1 */
		snprintf(req, sizeof(req), "{\"cmd\":\"port-add\",\"name\":\"p%u\",\"type\":\"vhost-user\",\"path\":\"/x\"}", i);
		t0 = now_ms();
		assert_string_equal(ask(v, req, NULL), "ok");
		add_ms[i] = now_ms() - t0;
	}
	assert_int_equal(vswd_port_slot(v, "p1"), 1);
	assert_int_equal(vswd_port_slot(v, "p4095"), 4095);
	assert_null(atomic_load(&v->sw->ports[0]));
	assert_int_equal(atomic_load(&v->sw->flood_list)->n, PORT_MAX - PORT_FIRST);
	snprintf(req, sizeof(req), "no room for more than 4095 ports (numbers 1 to 4095)");
	assert_string_equal(ask(v, "{\"cmd\":\"port-add\",\"name\":\"one-more\",\"type\":\"vhost-user\",\"path\":\"/x\"}",
				NULL), req);
	t0 = now_ms();
	assert_string_equal(ask(v, "{\"cmd\":\"port-del\",\"name\":\"p2048\"}", NULL), "ok");
	print_message("port-del at %d ports: %.3f ms\n", PORT_MAX - PORT_FIRST, now_ms() - t0);
	assert_int_equal(atomic_load(&v->sw->flood_list)->n, PORT_MAX - PORT_FIRST - 1);
	stub_add(v, "again", "/x");
	req[0] = 0;
	{
		struct json_object *q = json_tokener_parse("{\"cmd\":\"show\"}");

		r = vswd_handle_request(v, q, &root);
		json_object_put(q);
	}
	assert_true(json_object_object_get_ex(r, "ports", &ports));
	assert_int_equal(json_object_array_length(ports), PORT_MAX - PORT_FIRST);
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *o = json_object_array_get_idx(ports, i);

		if (strcmp(json_object_get_string(json_object_object_get(o, "name")), "again") == 0) {
			assert_int_equal(json_object_get_int(json_object_object_get(o, "id")), 2048);
			found = true;
		}
	}
	assert_true(found);
	assert_true(json_object_object_get_ex(r, "flood_budget", &f));
	assert_int_equal(json_object_get_int(f), SWITCH_DEFAULT_FLOOD_BUDGET);
	json_object_put(r);
	/*
	 * Every slot named: a deleted port's slot goes to another name only
	 * when no rule names it (p2048's went to "again" above; p7's, named by
	 * a rule, does not), and its own name takes it back.
	 */
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"in_port=p7,actions=drop\"}", NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"port-del\",\"name\":\"p7\"}", NULL), "ok");
	assert_non_null(strstr(ask(v, "{\"cmd\":\"port-add\",\"name\":\"other\",\"type\":\"vhost-user\",\"path\":\"/x\"}",
				   NULL), "flows name"));
	stub_add(v, "p7", "/x");
	assert_string_equal(ask(v, "{\"cmd\":\"port-del\",\"name\":\"p7\"}", NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"flow-del\"}", NULL), "ok");
	stub_add(v, "other", "/x");
	qsort(add_ms + PORT_FIRST, PORT_MAX - PORT_FIRST, sizeof(add_ms[0]), cmp_double);
	print_message("port-add up to %d ports: median %.3f ms, max %.3f ms\n", PORT_MAX - PORT_FIRST,
		      add_ms[PORT_MAX / 2], add_ms[PORT_MAX - 1]);
	assert_true(add_ms[PORT_MAX / 2] < 1.0);
	vswd_free_graveyard(v);
	vswd_shutdown(v);
	assert_int_equal(stub_ports_live, 0);
}

static void test_config_keys(void **state)
{
	struct vswd_config cfg;
	struct json_object *o;
	char err[256];
	struct vswd *v;

	vswd_config_default(&cfg);
	o = json_tokener_parse("{\"wokers\":2}");
	assert_int_equal(vswd_config_from_json(&cfg, o, err, sizeof(err)), -1);
	assert_refused_naming(err, "wokers");
	json_object_put(o);
	o = json_tokener_parse("{\"workers\":2,\"ctl_group\":\"nogroup\",\"ports\":[]}");
	assert_int_equal(vswd_config_from_json(&cfg, o, err, sizeof(err)), 0);
	assert_string_equal(cfg.ctl_group, "nogroup");
	assert_int_equal(cfg.workers, 2);
	json_object_put(o);
	assert_true(cfg.perf); /* on by default */
	o = json_tokener_parse("{\"perf\":false}");
	assert_int_equal(vswd_config_from_json(&cfg, o, err, sizeof(err)), 0);
	assert_false(cfg.perf);
	json_object_put(o);
	o = json_tokener_parse("{\"perf\":\"off\"}");
	assert_int_equal(vswd_config_from_json(&cfg, o, err, sizeof(err)), -1);
	json_object_put(o);
	o = json_tokener_parse("{\"ctl_group\":5}");
	assert_int_equal(vswd_config_from_json(&cfg, o, err, sizeof(err)), -1);
	json_object_put(o);
	assert_int_equal(cfg.flood_budget, SWITCH_DEFAULT_FLOOD_BUDGET);
	o = json_tokener_parse("{\"flood_budget\":0}");
	assert_int_equal(vswd_config_from_json(&cfg, o, err, sizeof(err)), 0);
	assert_int_equal(cfg.flood_budget, 0);
	json_object_put(o);
	o = json_tokener_parse("{\"flood_budget\":-1}");
	assert_int_equal(vswd_config_from_json(&cfg, o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"flood_budget\" must be an integer"));
	json_object_put(o);

	/* The FDB's size: checked, allocated at start, shown. */
	assert_int_equal(cfg.fdb_size, FDB_DEFAULT_SIZE);
	o = json_tokener_parse("{\"fdb_size\":16}");
	assert_int_equal(vswd_config_from_json(&cfg, o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"fdb_size\" must be"));
	json_object_put(o);
	o = json_tokener_parse("{\"fdb_size\":1000000}");
	assert_int_equal(vswd_config_from_json(&cfg, o, err, sizeof(err)), 0);
	assert_int_equal(cfg.fdb_size, 1000000);
	json_object_put(o);
	{
		static struct vswd w;
		struct ctl_peer root = { .privileged = true, .fd = -1 };
		struct json_object *req = json_tokener_parse("{\"cmd\":\"show\"}"), *r, *f;

		assert_int_equal(vswd_init(&w, &cfg, err, sizeof(err)), 0);
		assert_int_equal(w.sw->fdb.n_buckets, 1u << 19);
		r = vswd_handle_request(&w, req, &root);
		assert_true(json_object_object_get_ex(r, "fdb_size", &f));
		assert_int_equal(json_object_get_int64(f), 1000000);
		json_object_put(r);
		json_object_put(req);
		vswd_shutdown(&w);
	}

	v = offline_vswd();
	o = json_tokener_parse("{\"ports\":[{\"name\":\"c1\",\"type\":\"vhost-user\",\"path\":\"/x\",\"qeueus\":2}]}");
	assert_int_equal(vswd_add_config_ports(v, o, err, sizeof(err)), -1);
	assert_refused_naming(err, "qeueus");
	assert_non_null(strstr(err, "ports[0]"));
	json_object_put(o);
	vswd_shutdown(v);
}

/* ---- the command table: vswctl's builder and vswd's check agree ---- */

/* Every row has a handler and help; its arguments are well formed; words name one row each. */
static void test_table_rows(void **state)
{
	for (size_t i = 0; i < ctl_ncommands; i++) {
		const struct ctl_command *c = &ctl_commands[i];
		bool open_ended = false;

		assert_non_null(c->cmd);
		if (!c->handle)
			fail_msg("command %s has no handler", c->cmd);
		assert_non_null(c->help);
		assert_ptr_equal(ctl_command_find(c->cmd), c);
		for (size_t j = 0; j < i; j++)
			if (c->words && ctl_commands[j].words && strcmp(c->words, ctl_commands[j].words) == 0)
				fail_msg("words \"%s\" name two commands", c->words);
		for (const struct ctl_arg *a = c->args; a->key; a++) {
			if (a->type == CTL_ENUM)
				assert_non_null(a->choices);
			if (a->type == CTL_STR || a->type == CTL_WORDS)
				assert_true(a->max >= a->min && a->max > 0 && a->max < CTL_REQUEST_MAX);
			/* "--opt VALUE", or "key=VALUE" in one word */
			if (a->opt)
				assert_true((a->opt[0] == '-' || a->opt[strlen(a->opt) - 1] == '=') && a->type != CTL_WORDS &&
					    a->type != CTL_PORT_PARAMS);
			/* A positional after one that takes the remaining words would never be reached. */
			if (!a->opt && open_ended)
				fail_msg("%s: positional %s after the remaining words", c->cmd, a->key);
			open_ended |= !a->opt && (a->type == CTL_WORDS || a->type == CTL_PORT_PARAMS);
		}
	}
	assert_null(ctl_command_find("bogus"));
	assert_null(ctl_command_find(NULL));
}

/* Build @argv (NULL-ended) into @call; fails the test when the builder refuses. */
static void build_ok(struct ctl_call *call, const char *const *argv)
{
	char err[512];
	int argc = 0;

	while (argv[argc])
		argc++;
	if (ctl_build(argc, (char *const *)argv, call, err, sizeof(err)) < 0)
		fail_msg("vswctl %s ...: refused: %s", argv[0], err);
}

/* Stubs, but a real vxlan port (on loopback) for the tunnel commands, which need one. */
static struct port *vxlan_or_stub(const char *name, const char *type, struct json_object *params,
				  const struct port_env *env, char *err, size_t errlen)
{
	if (strcmp(type, "vxlan") == 0)
		return port_vxlan_create(name, params, env, err, errlen);
	return stub_port_create(name, type, params, env, err, errlen);
}

/*
 * For each command vswctl knows, a command line: what the builder makes of
 * it passes vswd's check and its handler answers "ok".  A new command
 * without a line here fails the test.
 */
static void test_built_requests_accepted(void **state)
{
	static const char *const lines[][16] = {
		{ "port", "add", "a", "vhost-user", "path=/x", "mode=client", "queues=2", "mac=02:00:00:00:00:01",
		  "mac_limit=5", NULL },
		{ "show", NULL },
		{ "stats", "--json", NULL },
		{ "fdb", "show", NULL },
		{ "perf", "show", NULL },
		{ "perf", "reset", NULL },
		{ "perf", "disable", NULL },
		{ "capture", "a", "--dir", "rx", "--count", "3", "--seconds", "1.5", "icmp", "-w", "c.pcap", "or", "udp",
		  NULL },
		{ "flow", "add", "table=1,priority=7,in_port=a,ip", "actions=output:a", NULL },
		{ "flow", "mod", "in_port=a", "actions=drop", NULL },
		{ "flow", "mod-strict", "table=1,priority=7,in_port=a,ip,actions=normal", NULL },
		{ "flow", "dump", "--table", "1", "in_port=a", NULL },
		{ "trace", "in_port=a,ip,nw_dst=10.0.0.1", NULL },
		{ "flow", "del-strict", "table=1,priority=7,in_port=a,ip", NULL },
		{ "flow", "replace", "flows.txt", NULL },
		{ "flow", "mod-table", "2", "continue", NULL },
		{ "flow", "dump-tables", NULL },
		{ "flow", "dump-cache", NULL },
		{ "flow", "del", NULL },
		{ "port", "add", "t0", "vxlan", "local=127.0.0.1", "remote=127.0.0.2,127.0.0.3", "vni=5", "dstport=47893",
		  NULL },
		{ "tunnel", "fdb", "add", "02:00:00:00:00:07", "remote=127.0.0.9", NULL },
		{ "tunnel", "fdb", "add", "02:00:00:00:00:08", "vni=5", "remote=127.0.0.2", "port=t0", NULL },
		{ "tunnel", "fdb", "show", "port=t0", "--json", NULL },
		{ "tunnel", "fdb", "del", "02:00:00:00:00:07", "vni=5", NULL },
		{ "port", "del", "t0", NULL },
		{ "port", "del", "a", NULL },
	};
	struct vswd *v = offline_vswd();
	bool covered[64] = { false };
	struct ctl_call call;
	char path[256];

	if (geteuid() != 0)
		fail_msg("the tunnel commands need a vxlan port: root (a raw socket)");
	v->create_hook = vxlan_or_stub;
	assert_true(ctl_ncommands <= 64);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ctl_peer root = { .privileged = true, .fd = -1 };
		struct json_object *resp;
		char err[256];

		build_ok(&call, lines[i]);
		covered[call.cmd - ctl_commands] = true;
		if (ctl_request_check(call.cmd, call.req, false, err, sizeof(err)) < 0)
			fail_msg("%s: the built request %s is refused: %s", lines[i][0],
				 json_object_to_json_string(call.req), err);
		if (call.cmd->flags & CTL_CMD_CAPTURE) {
			/* As vswctl does: the file opened by the client, passed along. */
			snprintf(path, sizeof(path), "%s", tmp_path("built.pcap"));
			root.fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
			assert_true(root.fd >= 0);
		}
		if (call.cmd->flags & CTL_CMD_FILE_IN) {
			/* As vswctl does: the file opened for reading by the client, passed along; not kept. */
			FILE *f = fopen(tmp_path("flows.txt"), "w");

			assert_non_null(f);
			fprintf(f, "in_port=a,actions=flood\n");
			fclose(f);
			root.fd = open(tmp_path("flows.txt"), O_RDONLY);
			assert_true(root.fd >= 0);
		}
		resp = vswd_handle_request(v, call.req, &root);
		if (!json_object_get_boolean(json_object_object_get(resp, "ok")))
			fail_msg("%s: %s", json_object_to_json_string(call.req), json_object_to_json_string(resp));
		if (call.cmd->flags & CTL_CMD_FILE_IN) {
			assert_true(root.fd >= 0);
			close(root.fd);
			root.fd = -1;
		}
		assert_int_equal(root.fd, -1);
		json_object_put(resp);
		ctl_call_free(&call);
		/* capture-stop has no words of its own: vswctl's capture sends it, these two ways. */
		if (strcmp(lines[i][0], "capture") == 0) {
			assert_string_equal(ask(v, "{\"cmd\":\"capture-stop\",\"port\":\"a\",\"if_done\":true}", NULL),
					    "ok");
			assert_string_equal(ask(v, "{\"cmd\":\"capture-stop\",\"port\":\"a\"}", NULL), "ok");
		}
	}
	assert_string_equal(ask(v, "{\"cmd\":\"capture-stop\",\"port\":\"a\"}", NULL), "no port a");
	for (size_t i = 0; i < ctl_ncommands; i++)
		if (ctl_commands[i].words && !covered[i])
			fail_msg("no command line here for \"%s\": add one", ctl_commands[i].words);
	vswd_free_graveyard(v);
	assert_int_equal(stub_ports_live, 0);
	vswd_shutdown(v);
}

/* What the builder puts where: positionals, options, the filter's words, port parameters, local arguments. */
static void test_build_fields(void **state)
{
	static const char *const add[] = { "port", "add", "a", "tap", "ifname=x", "flood_rate=10", "ip=10.0.0.1",
					    "--json", NULL };
	static const char *const cap[] = { "capture", "a", "--stop", "--", "-x", "or", "icmp", NULL };
	static const char *const perf[] = { "perf", "enable", NULL };
	struct ctl_call call;
	struct json_object *f;

	build_ok(&call, add);
	assert_string_equal(call.cmd->cmd, "port-add");
	assert_true(call.json);
	assert_string_equal(json_object_get_string(json_object_object_get(call.req, "name")), "a");
	assert_string_equal(json_object_get_string(json_object_object_get(call.req, "ifname")), "x");
	assert_true(json_object_is_type(json_object_object_get(call.req, "flood_rate"), json_type_int));
	assert_string_equal(json_object_get_string(json_object_object_get(call.req, "ip")), "10.0.0.1");
	ctl_call_free(&call);

	build_ok(&call, cap);
	assert_string_equal(call.cmd->cmd, "capture-start");
	assert_false(call.json);
	assert_string_equal(json_object_get_string(json_object_object_get(call.req, "filter")), "-x or icmp");
	assert_false(json_object_object_get_ex(call.req, "stop", NULL)); /* vswctl's own: never sent */
	assert_true(json_object_object_get_ex(call.local, "stop", &f) && json_object_get_boolean(f));
	ctl_call_free(&call);

	build_ok(&call, perf);
	assert_string_equal(call.cmd->cmd, "perf-set");
	assert_true(json_object_get_boolean(json_object_object_get(call.req, "enabled")));
	ctl_call_free(&call);
}

/* Command lines vswctl refuses before sending, each with a message naming what is wrong. */
static void test_build_refusals(void **state)
{
	static const struct {
		const char *argv[8];
		const char *says;
	} bad[] = {
		{ { NULL }, "no command" },
		{ { "shwo", NULL }, "unknown command" },
		{ { "port", NULL }, "unknown command" },
		{ { "show", "extra", NULL }, "unexpected \"extra\"" },
		{ { "port", "del", NULL }, "missing NAME" },
		{ { "port", "add", "a", NULL }, "missing TYPE" },
		{ { "port", "add", "a", "tap", "ifname", NULL }, "KEY=VALUE" },
		{ { "port", "add", "a", "tap", "name=b", NULL }, "name= is not a port parameter" },
		{ { "port", "add", "a", "tap", "ifname=x", "mdoe=1", NULL }, "mdoe" },
		{ { "port", "add", "a", "bogus", NULL }, "unknown port type bogus" },
		{ { "port", "add", "a234567890123456789012345678901234", "tap", NULL }, "\"name\"" },
		{ { "perf", NULL }, "missing enable or disable" },
		{ { "perf", "on", NULL }, "not enable or disable" },
		{ { "capture", "a", "--dir", "up", NULL }, "--dir" },
		{ { "capture", "a", "--count", "-1", NULL }, "--count" },
		{ { "capture", "a", "--count", "4294967296", NULL }, "--count" },
		{ { "capture", "a", "--seconds", "0", NULL }, "--seconds" },
		{ { "capture", "a", "--bogus", NULL }, "unknown option --bogus" },
		{ { "capture", "a", "-w", NULL }, "-w wants a value" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctl_call call;
		char err[512] = "";
		int argc = 0;

		while (bad[i].argv[argc])
			argc++;
		if (ctl_build(argc, (char *const *)bad[i].argv, &call, err, sizeof(err)) == 0)
			fail_msg("line %zu (%s ...) accepted", i, bad[i].argv[0] ? bad[i].argv[0] : "");
		if (!strstr(err, bad[i].says))
			fail_msg("line %zu (%s ...): \"%s\" does not say \"%s\"", i, bad[i].argv[0] ? bad[i].argv[0] : "",
				 err, bad[i].says);
		ctl_call_free(&call);
	}
}

/* Malformed requests never reach a handler, and the refusal names the field. */
static void test_malformed_requests(void **state)
{
	static const struct {
		const char *req, *names;
	} bad[] = {
		{ "[1,2]", "JSON object" },
		{ "{\"cmd\":5}", "\"cmd\" string" },
		{ "{\"name\":\"a\"}", "\"cmd\" string" },
		{ "{\"cmd\":\"port-remove\",\"name\":\"a\"}", "unknown command \"port-remove\"" },
		/* missing */
		{ "{\"cmd\":\"port-del\"}", "\"name\" is missing" },
		{ "{\"cmd\":\"port-add\",\"type\":\"tap\",\"ifname\":\"x\"}", "\"name\" is missing" },
		{ "{\"cmd\":\"port-add\",\"name\":\"a\",\"ifname\":\"x\"}", "\"type\" is missing" },
		{ "{\"cmd\":\"capture-start\",\"file\":\"/x\"}", "\"port\" is missing" },
		{ "{\"cmd\":\"capture-stop\"}", "\"port\" is missing" },
		{ "{\"cmd\":\"perf-set\"}", "\"enabled\" is missing" },
		/* wrong type or range */
		{ "{\"cmd\":\"port-del\",\"name\":5}", "\"name\" must be a string" },
		{ "{\"cmd\":\"port-add\",\"name\":\"a\",\"type\":[\"tap\"],\"ifname\":\"x\"}", "\"type\" must be" },
		{ "{\"cmd\":\"capture-start\",\"port\":\"a\",\"count\":\"3\"}", "\"count\" must be an integer" },
		{ "{\"cmd\":\"capture-start\",\"port\":\"a\",\"count\":4294967296}", "\"count\" must be an integer" },
		{ "{\"cmd\":\"capture-start\",\"port\":\"a\",\"dir\":\"up\"}", "\"dir\" must be one of" },
		{ "{\"cmd\":\"capture-start\",\"port\":\"a\",\"filter\":7}", "\"filter\" must be a string" },
		{ "{\"cmd\":\"capture-stop\",\"port\":\"a\",\"if_done\":1}", "\"if_done\" must be true or false" },
		{ "{\"cmd\":\"perf-set\",\"enabled\":\"yes\"}", "\"enabled\" must be true or false" },
		/* length, NUL */
		{ "{\"cmd\":\"port-del\",\"name\":\"\"}", "\"name\" must be a string of 1 to" },
		{ "{\"cmd\":\"port-del\",\"name\":\"a\\u0000b\"}", "\"name\" must be a string" },
		{ "{\"cmd\":\"capture-start\",\"port\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "\"port\" must be" },
		/* unknown keys */
		{ "{\"cmd\":\"port-add\",\"name\":\"a\",\"type\":\"tap\",\"ifname\":\"x\",\"bogus\":1}", "\"bogus\"" },
		{ "{\"cmd\":\"stats\",\"ports\":[]}", "\"ports\"" },
		{ "{\"cmd\":\"perf-reset\",\"stop\":true}", "\"stop\"" }, /* a local argument of another row */
		{ "{\"cmd\":\"capture-start\",\"port\":\"a\",\"seconds\":1}", "\"seconds\"" }, /* vswctl's own */
	};
	struct vswd *v = offline_vswd();
	size_t big_len = CTL_REQUEST_MAX;
	char *big = malloc(big_len), *req = malloc(big_len + 256);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *got = ask(v, bad[i].req, NULL);

		if (strcmp(got, "ok") == 0 || !strstr(got, bad[i].names))
			fail_msg("%s: expected a refusal saying %s, got: %s", bad[i].req, bad[i].names, got);
	}
	assert_int_equal(stub_ports_live, 0);
	/* Over-long file name and filter: refused by the table, before the port is even looked up. */
	assert_non_null(big);
	assert_non_null(req);
	memset(big, 'x', 5000);
	big[5000] = '\0';
	snprintf(req, big_len + 256, "{\"cmd\":\"capture-start\",\"port\":\"a\",\"file\":\"/%s\"}", big);
	assert_non_null(strstr(ask(v, req, NULL), "\"file\" must be a string of 1 to"));
	memset(big, 'x', big_len - 1);
	big[big_len - 1] = '\0';
	snprintf(req, big_len + 256, "{\"cmd\":\"capture-start\",\"port\":\"a\",\"filter\":\"%s\"}", big);
	assert_non_null(strstr(ask(v, req, NULL), "\"filter\" must be a string of 0 to"));
	free(big);
	free(req);
	vswd_shutdown(v);
}

/* ---- files: only a privileged peer names them; a passed fd must be a writable regular file ---- */

static void test_file_params_need_privilege(void **state)
{
	struct vswd *v = offline_vswd();
	struct ctl_peer member = { .uid = 4242, .gid = 4242, .privileged = false, .fd = -1 };
	const char *got;
	char req[512];
	int fds0 = proc_count_fds(), pfd[2], fd;

	got = ask(v, "{\"cmd\":\"port-add\",\"name\":\"w\",\"type\":\"pcap\",\"write\":\"/etc/x.pcap\"}", &member);
	assert_non_null(strstr(got, "write= names a file"));
	assert_string_equal(ask(v, "{\"cmd\":\"port-add\",\"name\":\"s\",\"type\":\"vhost-user\",\"path\":\"/x\"}",
				&member), "ok");
	snprintf(req, sizeof(req), "{\"cmd\":\"capture-start\",\"port\":\"s\",\"file\":\"%s\"}", tmp_path("m.pcap"));
	got = ask(v, req, &member);
	assert_non_null(strstr(got, "only root"));
	assert_int_equal(access(tmp_path("m.pcap"), F_OK), -1);

	/* A pipe passed along: refused, and closed by whoever owns it (here the test, as ctl_sock.c would). */
	assert_int_equal(pipe(pfd), 0);
	member.fd = pfd[1];
	got = ask(v, req, &member);
	assert_non_null(strstr(got, "not a regular file"));
	assert_int_equal(member.fd, pfd[1]);
	close(pfd[0]);
	close(pfd[1]);
	/* A read-only file: refused. */
	fd = open(tmp_path("ro.pcap"), O_RDONLY | O_CREAT, 0600);
	member.fd = fd;
	assert_non_null(strstr(ask(v, req, &member), "open for writing"));
	close(fd);
	/* A file the client opened for writing: taken by the capture. */
	fd = open(tmp_path("m.pcap"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	member.fd = fd;
	assert_string_equal(ask(v, req, &member), "ok");
	assert_int_equal(member.fd, -1);
	assert_string_equal(ask(v, "{\"cmd\":\"capture-stop\",\"port\":\"s\"}", &member), "ok");
	assert_int_equal(proc_count_fds(), fds0);

	/* A privileged peer may name a file: a new one only, never through a symlink. */
	assert_int_equal(symlink(tmp_path("target"), tmp_path("link.pcap")), 0);
	snprintf(req, sizeof(req), "{\"cmd\":\"capture-start\",\"port\":\"s\",\"file\":\"%s\"}", tmp_path("link.pcap"));
	assert_non_null(strstr(ask(v, req, NULL), "File exists"));
	assert_int_equal(access(tmp_path("target"), F_OK), -1);
	snprintf(req, sizeof(req), "{\"cmd\":\"capture-start\",\"port\":\"s\",\"file\":\"%s\"}", tmp_path("m.pcap"));
	assert_non_null(strstr(ask(v, req, NULL), "File exists"));
	snprintf(req, sizeof(req), "{\"cmd\":\"capture-start\",\"port\":\"s\",\"file\":\"%s\"}", tmp_path("new.pcap"));
	assert_string_equal(ask(v, req, NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"capture-stop\",\"port\":\"s\"}", NULL), "ok");
	vswd_shutdown(v);
}

/* ---- tunnel fdb ---- */

/*
 * tunnel fdb add/del take a MAC of six pairs of hex digits and nothing
 * else: a sign, a space or a "0x" in a pair (which sscanf's %x reads:
 * "-2" as fe, "0x" as 00) is refused, not taken for another MAC (the
 * zero MAC, above all, which makes a flood destination).  Nothing is
 * added by a refused request.
 */
static void test_tunnel_fdb_mac_strict(void **state)
{
	static const char *const bad[] = {
		"-2:00:00:00:00:01", "+2:00:00:00:00:01", " 2:00:00:00:00:01", "02:00:00:00:00:-1",
		"02:00:00:00:00: 1", "0x:00:00:00:00:00", "02:00:00:00:00:0g", "02-00-00-00-00-01",
	};
	struct vswd *v = offline_vswd();
	struct json_object *r, *e;
	char req[256];

	if (geteuid() != 0)
		fail_msg("the tunnel commands need a vxlan port: root (a raw socket)");
	v->create_hook = vxlan_or_stub;
	assert_string_equal(ask(v, "{\"cmd\":\"port-add\",\"name\":\"t0\",\"type\":\"vxlan\",\"local\":\"127.0.0.1\","
				"\"remote\":\"127.0.0.2\",\"vni\":5,\"dstport\":47895}",
				NULL),
			    "ok");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req), "{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"%s\",\"remote\":\"127.0.0.9\"}", bad[i]);
		if (strcmp(ask(v, req, NULL), "MAC must be xx:xx:xx:xx:xx:xx") != 0)
			fail_msg("tunnel fdb add %s: \"%s\"", bad[i], ask(v, req, NULL));
		snprintf(req, sizeof(req), "{\"cmd\":\"tunnel-fdb-del\",\"mac\":\"%s\"}", bad[i]);
		assert_string_equal(ask(v, req, NULL), "MAC must be xx:xx:xx:xx:xx:xx");
	}
	r = ask_reply(v, "{\"cmd\":\"tunnel-fdb-show\"}");
	assert_true(json_object_object_get_ex(r, "entries", &e));
	if (json_object_array_length(e))
		fail_msg("refused requests left entries: %s", json_object_to_json_string(e));
	json_object_put(r);
	/* either case of hex digits is a MAC */
	assert_string_equal(ask(v, "{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"02:AB:cd:00:00:0F\",\"remote\":\"127.0.0.9\"}",
				NULL),
			    "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"tunnel-fdb-del\",\"mac\":\"02:ab:CD:00:00:0f\"}", NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"port-del\",\"name\":\"t0\"}", NULL), "ok");
	vswd_free_graveyard(v);
	vswd_shutdown(v);
}

/* ---- replies as text ---- */

/*
 * stats as text: a port of two queues (vhost-user queues=2, an afxdp port
 * on a two-queue NIC) has a line per queue under its own, in its columns;
 * a port of one queue, or of none that counts per queue, stays one line.
 */
static void test_stats_text_queues(void **state)
{
	char *t = print_text(ctl_stats_print,
			     "{\"ok\":true,\"ports\":["
			     "{\"name\":\"vm1\",\"rx_packets\":12,\"rx_bytes\":1176,\"tx_packets\":11,\"tx_bytes\":1078,"
			     "\"drops\":{\"runt\":0},\"queues\":["
			     "{\"rx_packets\":7,\"rx_bytes\":686,\"tx_packets\":6,\"tx_bytes\":588},"
			     "{\"rx_packets\":5,\"rx_bytes\":490,\"tx_packets\":5,\"tx_bytes\":490}]},"
			     "{\"name\":\"tap0\",\"rx_packets\":3,\"rx_bytes\":180,\"drops\":{}},"
			     "{\"name\":\"one\",\"rx_packets\":4,\"rx_bytes\":240,\"tx_packets\":4,\"tx_bytes\":240,"
			     "\"drops\":{},\"queues\":[{\"rx_packets\":4,\"rx_bytes\":240,\"tx_packets\":4,\"tx_bytes\":240}]}],"
			     "\"workers\":[]}");

	assert_string_equal(t, "PORT                  RX_PKTS       RX_BYTES      TX_PKTS       TX_BYTES  DROPS\n"
			       "vm1                        12           1176           11           1078  -\n"
			       "  queue 0                   7            686            6            588\n"
			       "  queue 1                   5            490            5            490\n"
			       "tap0                        3            180            0              0  -\n"
			       "one                         4            240            4            240  -\n");
	free(t);
}

/* ---- unix sockets at a path ---- */

static void test_unix_sock(void **state)
{
	struct unix_sock_id id, id2;
	char err[256];
	struct stat st;
	mode_t old;
	int fd, fd2, f;

	/* A regular file is not replaced. */
	f = open(tmp_path("file"), O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(f, "x", 1), 1);
	close(f);
	assert_int_equal(unix_sock_listen(tmp_path("file"), 4, 0, &id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(stat(tmp_path("file"), &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 1);
	/* A symlink is not followed nor replaced. */
	assert_int_equal(symlink(tmp_path("file"), tmp_path("link")), 0);
	assert_int_equal(unix_sock_listen(tmp_path("link"), 4, 0, &id, err, sizeof(err)), -1);

	/* 0600 whatever the umask. */
	old = umask(0);
	fd = unix_sock_listen(tmp_path("s"), 4, 0600, &id, err, sizeof(err));
	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(stat(tmp_path("s"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A live socket is not taken over. */
	assert_int_equal(unix_sock_listen(tmp_path("s"), 4, 0, &id2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "another process listens"));
	/* Stale (closed): replaced. */
	close(fd);
	fd = unix_sock_listen(tmp_path("s"), 4, 0, &id, err, sizeof(err));
	assert_true(fd >= 0);
	/* The path now names another socket: ours is not the one unlinked. */
	assert_int_equal(rename(tmp_path("s"), tmp_path("s.old")), 0);
	fd2 = unix_sock_listen(tmp_path("s"), 4, 0, &id2, err, sizeof(err));
	assert_true(fd2 >= 0);
	unix_sock_unlink(tmp_path("s"), &id);
	assert_int_equal(access(tmp_path("s"), F_OK), 0);
	unix_sock_unlink(tmp_path("s"), &id2);
	assert_int_equal(access(tmp_path("s"), F_OK), -1);
	close(fd);
	close(fd2);
}

/* ---- a running control socket: pipelined deletes, a reply larger than the socket buffer ---- */

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Run vswd's loop and read replies until @want lines arrived or 10 s passed; returns the lines (malloc'd). */
static char *pump(struct vswd *v, int fd, unsigned want, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	unsigned lines = 0;
	time_t end = time(NULL) + 10;

	while (lines < want && time(NULL) < end) {
		ssize_t r;

		vswd_run_once(v, 10);
		while ((r = recv(fd, buf + n, cap - n - 1, MSG_DONTWAIT)) > 0) {
			for (ssize_t i = 0; i < r; i++)
				lines += buf[n + i] == '\n';
			n += (size_t)r;
			if (cap - n < 65536)
				buf = realloc(buf, cap *= 2);
		}
		if (r == 0)
			break;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void test_running_socket(void **state)
{
	static struct vswd v;
	struct vswd_config cfg;
	const char *path = tmp_path("ctl.sock");
	char err[256], *out, *req = malloc(1 << 16), *line;
	size_t len = 0, n;
	unsigned oks = 0, pairs = 70;
	struct stat st;
	mode_t old;
	int fd;

	vswd_config_default(&cfg);
	old = umask(0);
	assert_int_equal(vswd_start(&v, &cfg, path, err, sizeof(err)), 0);
	umask(old);
	v.create_hook = stub_port_create;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/*
	 * 70 pairs in one write: more deletes than the graveyard holds, in one
	 * batch; and the client's end shut at once: every request still answered.
	 */
	for (unsigned i = 0; i < pairs; i++)
		len += (size_t)snprintf(req + len, (1 << 16) - len,
					"{\"cmd\":\"port-add\",\"name\":\"p%u\",\"type\":\"vhost-user\",\"path\":\"/x\"}\n"
					"{\"cmd\":\"port-del\",\"name\":\"p%u\"}\n", i, i);
	fd = ctl_connect(path);
	assert_int_equal(send(fd, req, len, 0), (ssize_t)len);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	out = pump(&v, fd, 2 * pairs, &n);
	for (line = strstr(out, "\"ok\":true"); line; line = strstr(line + 1, "\"ok\":true"))
		oks++;
	assert_int_equal(oks, 2 * pairs);
	free(out);
	vswd_run_once(&v, 0);
	assert_int_equal(stub_ports_live, 0);
	close(fd);

	/* 8000 MACs: a reply of ~400 KB, more than the socket buffer. */
	for (unsigned i = 0; i < 8000; i++) {
		uint8_t mac[6] = { 0x02, 0, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

		fdb_learn(&v.sw->fdb, mac, 0, 0);
	}
	fd = ctl_connect(path);
	assert_int_equal(send(fd, "{\"cmd\":\"fdb-show\"}\n", 19, 0), 19);
	out = pump(&v, fd, 1, &n);
	assert_true(n > 300000);
	{
		struct json_object *r = json_tokener_parse(out), *e;

		assert_non_null(r);
		assert_true(json_object_object_get_ex(r, "entries", &e));
		assert_int_equal(json_object_array_length(e), 8000);
		assert_true(json_object_object_get_ex(r, "total", &e));
		assert_int_equal(json_object_get_int64(e), 8000);
		json_object_put(r);
	}
	free(out);
	/* A limit: the first entries and the count of all; 0: the count alone. */
	for (unsigned limit = 0; limit <= 10; limit += 10) {
		struct ctl_peer root = { .privileged = true, .fd = -1 };
		struct json_object *q = json_object_new_object(), *r, *e;

		json_object_object_add(q, "cmd", json_object_new_string("fdb-show"));
		json_object_object_add(q, "limit", json_object_new_int((int)limit));
		r = vswd_handle_request(&v, q, &root);
		assert_true(json_object_object_get_ex(r, "entries", &e));
		assert_int_equal(json_object_array_length(e), limit);
		assert_true(json_object_object_get_ex(r, "total", &e));
		assert_int_equal(json_object_get_int64(e), 8000);
		json_object_put(r);
		json_object_put(q);
	}
	close(fd);
	free(req);
	vswd_shutdown(&v);
	assert_int_equal(access(path, F_OK), -1);
}

/* The output of @tool --help, next to this test's binary (BUILD/tests/test_ctl -> BUILD/@tool); fails when it cannot run. */
static char *tool_help(const char *tool)
{
	char exe[4096], cmd[4200], *out = calloc(1, 16384);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t got = 0;
	char *slash;
	FILE *f;

	assert_non_null(out);
	assert_true(n > 0);
	exe[n] = 0;
	slash = strrchr(exe, '/');
	assert_non_null(slash);
	*slash = 0; /* BUILD/tests */
	snprintf(cmd, sizeof(cmd), "%s/../%s", exe, tool);
	if (access(cmd, X_OK) != 0)
		fail_msg("%s not built (make binaries): cannot check its --help", cmd);
	snprintf(cmd, sizeof(cmd), "'%s/../%s' --help 2>&1", exe, tool);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (got < 16383 && (n = (ssize_t)fread(out + got, 1, 16383 - got, f)) > 0)
		got += (size_t)n;
	assert_int_equal(pclose(f), 0);
	return out;
}

/* Every command of the table with words appears in vswctl --help: its synopsis and help, generated from the row. */
static void test_help_lists_commands(void **state)
{
	char *help = tool_help("vswctl");
	size_t n = 0;

	for (size_t i = 0; i < ctl_ncommands; i++) {
		const struct ctl_command *c = &ctl_commands[i];
		char syn[512], line[600], first[128];

		if (!c->words)
			continue;
		n++;
		ctl_command_synopsis(c, syn, sizeof(syn));
		snprintf(line, sizeof(line), "\n  %s ", syn);
		if (!strstr(help, line) && (snprintf(line, sizeof(line), "\n  %s\n", syn), !strstr(help, line)))
			fail_msg("vswctl --help lacks \"%s\":\n%s", syn, help);
		for (const struct ctl_arg *a = c->args; a->key; a++)
			if (a->opt && !strstr(syn, a->opt))
				fail_msg("the synopsis of %s lacks %s", c->words, a->opt);
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(c->help, "\n"), c->help);
		if (!strstr(strstr(help, line), first))
			fail_msg("vswctl --help lacks the help of %s (%s)", c->words, first);
	}
	assert_true(n >= 9);
	free(help);
}

/* Every registered port type, with each of its keys, appears in vswctl --help and vswd --help (generated from the table). */
static void test_help_lists_port_types(void **state)
{
	static const char *const tools[] = { "vswctl", "vswd" };

	for (size_t t = 0; t < 2; t++) {
		char *help = tool_help(tools[t]);
		size_t ntypes = 0;

		for (const struct port_type *pt; (pt = port_type_at(ntypes)); ntypes++) {
			char line[256], *at;

			snprintf(line, sizeof(line), " %s ", pt->name);
			at = strstr(help, line);
			if (!at)
				fail_msg("%s --help does not list port type %s:\n%s", tools[t], pt->name, help);
			assert_non_null(pt->summary);
			if (!strstr(help, pt->summary))
				fail_msg("%s --help lacks the summary of %s", tools[t], pt->name);
			for (const struct port_param *pp = pt->params; pp->key; pp++) {
				char key[64], *eol = strchr(at, '\n');

				snprintf(key, sizeof(key), "%s=", pp->key);
				at = strstr(at, key);
				if (!at || (eol && at > eol))
					fail_msg("%s --help: port type %s without its key %s", tools[t], pt->name, pp->key);
			}
		}
		assert_true(ntypes >= 5);
		assert_non_null(port_type_find(port_type_at(0)->name));
		free(help);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_escape),
		cmocka_unit_test(test_log_one_line),
		cmocka_unit_test(test_request_keys),
		cmocka_unit_test(test_port_type_keys),
		cmocka_unit_test(test_help_lists_port_types),
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_built_requests_accepted),
		cmocka_unit_test(test_tunnel_fdb_mac_strict),
		cmocka_unit_test(test_build_fields),
		cmocka_unit_test(test_build_refusals),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_help_lists_commands),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_ports_at_scale),
		cmocka_unit_test(test_file_params_need_privilege),
		cmocka_unit_test(test_stats_text_queues),
		cmocka_unit_test(test_unix_sock),
		cmocka_unit_test(test_running_socket),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
