/* test_ctl_flows.c - the flow commands on a vswd: names both ways, replace, timeouts, the flows file, trace; a deleted port's kept number. */
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
#include "dp/flows.h"
#include "flow/key.h"
#include "flow/table.h"
#include "lib/log.h"
#include "lib/unix_sock.h"
#include "port/port_types.h"
#include "../lib/proc_counts.h"
#include "../lib/stub_port.h"
#include "port/port_vxlan.h"
#include "ctl_fx.h"

/* ---- flows ---- */

static uint64_t test_clock_ns;

/* flow_db_foreach(): table 1's rule counts 3 frames of 60 bytes, as a worker would. */
static int count_table1(void *arg, const struct flow_rule *r)
{
	if (r->table == 1)
		flow_rule_count(r, 3, 180, 1000);
	return 0;
}

static uint64_t test_clock(void)
{
	return test_clock_ns;
}

/*
 * The flow commands on a vswd: port names both ways, errors naming the
 * token, the published pointer NULL with no rule, replace all or nothing
 * and only through a file the peer opened (unless privileged), idle
 * timeouts from the tick, the flows file rewritten on every change and
 * loaded by the next vswd, trace naming tables, rules and outputs.
 */
static void test_flows(void **state)
{
	static const char add_vm2[] = "{\"cmd\":\"flow-add\",\"flow\":\"priority=10,in_port=vm1,ip,nw_dst=10.0.0.2 "
				      "actions=mod_nw_dst:10.0.0.3,resubmit(,1)\"}";
	struct ctl_peer member = { .uid = 4242, .gid = 4242, .privileged = false, .fd = -1 };
	struct vswd_config cfg;
	struct json_object *r, *a;
	struct vswd *v;
	char err[256], req[512];
	int fds0 = proc_count_fds(), pfd[2], fd;
	FILE *f;

	vswd_config_default(&cfg);
	snprintf(cfg.flows_path, sizeof(cfg.flows_path), "%s", tmp_path("saved.flows"));
	v = offline_vswd();
	vswd_shutdown(v);
	assert_int_equal(vswd_init(v, &cfg, err, sizeof(err)), 0);
	v->create_hook = stub_port_create;
	v->sw->clock_ns = test_clock;
	test_clock_ns = 1000000000ull;
	stub_add(v, "vm1", "/x");
	stub_add(v, "vm2", "/y");
	assert_null(atomic_load(&v->sw->flows));

	/* errors name the token; nothing changes */
	assert_non_null(strstr(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"ct_state=+trk,actions=drop\"}", NULL), "ct_state"));
	assert_non_null(strstr(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"in_port=vm9,actions=drop\"}", NULL), "vm9"));
	assert_non_null(strstr(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"actions=controller\"}", NULL), "controller"));
	assert_null(atomic_load(&v->sw->flows));
	assert_int_equal(access(cfg.flows_path, F_OK), -1);

	assert_string_equal(ask(v, add_vm2, NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"table=1,idle_timeout=5,actions=output:vm2\"}", NULL),
			    "ok");
	assert_non_null(atomic_load(&v->sw->flows));
	r = ask_reply(v, "{\"cmd\":\"flow-dump\"}");
	assert_true(json_object_object_get_ex(r, "flows", &a));
	assert_int_equal(json_object_array_length(a), 2);
	assert_non_null(strstr(json_object_get_string(json_object_array_get_idx(a, 0)), "in_port=vm1"));
	assert_non_null(strstr(json_object_get_string(json_object_array_get_idx(a, 0)), "n_packets=0"));
	json_object_put(r);
	r = ask_reply(v, "{\"cmd\":\"flow-dump\",\"table\":1}");
	assert_true(json_object_object_get_ex(r, "flows", &a));
	assert_int_equal(json_object_array_length(a), 1);
	json_object_put(r);

	/* stats' "tables": 0 and 1, one rule each; what table 1's rule matched */
	flow_db_foreach(v->flows, NULL, count_table1, NULL);
	r = ask_reply(v, "{\"cmd\":\"stats\"}");
	assert_true(json_object_object_get_ex(r, "tables", &a));
	assert_int_equal(json_object_array_length(a), 2);
	for (int t = 0; t < 2; t++) {
		struct json_object *o = json_object_array_get_idx(a, (size_t)t);

		assert_int_equal(ctl_reply_int(o, "table"), t);
		assert_int_equal(ctl_reply_int(o, "flows"), 1);
		assert_int_equal(ctl_reply_int(o, "matched_packets"), t ? 3 : 0);
		assert_int_equal(ctl_reply_int(o, "matched_bytes"), t ? 180 : 0);
	}
	json_object_put(r);

	/* trace: each table, its rule, the rewrite, the output by name */
	r = ask_reply(v, "{\"cmd\":\"trace\",\"flow\":\"in_port=vm1,dl_src=02:00:00:00:00:01,"
			 "dl_dst=02:00:00:00:00:02,ip,nw_dst=10.0.0.2\"}");
	{
		const char *t = ctl_reply_str(r, "trace");

		if (!strstr(t, " 0. ip,in_port=vm1,nw_dst=10.0.0.2, priority 10") || !strstr(t, " 1. (any), priority 32768") ||
		    !strstr(t, "actions=output:vm2") || !strstr(t, "Final flow: nw_dst=10.0.0.3") ||
		    !strstr(t, "Datapath actions: output:vm2"))
			fail_msg("trace:\n%s", t);
	}
	json_object_put(r);
	r = ask_reply(v, "{\"cmd\":\"trace\",\"flow\":\"in_port=vm2,arp\"}");
	if (!strstr(ctl_reply_str(r, "trace"), " 0. No match: the table's miss: drop.") ||
	    !strstr(ctl_reply_str(r, "trace"), "Datapath actions: drop"))
		fail_msg("trace:\n%s", ctl_reply_str(r, "trace"));
	json_object_put(r);

	/* saved on every change, by name, and loaded by the next vswd */
	f = fopen(cfg.flows_path, "r");
	assert_non_null(f);
	{
		char all[2048];
		size_t n = fread(all, 1, sizeof(all) - 1, f);

		all[n] = '\0';
		assert_non_null(strstr(all, "in_port=vm1"));
		assert_non_null(strstr(all, "idle_timeout=5"));
	}
	fclose(f);

	/* replace: all or nothing, through a file the peer opened */
	snprintf(req, sizeof(req), "{\"cmd\":\"flow-replace\",\"file\":\"%s\"}", tmp_path("new.flows"));
	f = fopen(tmp_path("new.flows"), "w");
	fprintf(f, "# two flows\nin_port=vm1,actions=output:vm2\n\nin_port=vm2,actions=output:vm1\nfoo=1,actions=drop\n");
	fclose(f);
	assert_non_null(strstr(ask(v, req, &member), "unprivileged"));
	assert_int_equal(pipe(pfd), 0);
	member.fd = pfd[0];
	assert_non_null(strstr(ask(v, req, &member), "not a regular file"));
	close(pfd[0]);
	close(pfd[1]);
	member.fd = fd = open(tmp_path("new.flows"), O_RDONLY);
	{
		const char *got = ask(v, req, &member);

		if (!strstr(got, "line 5") || !strstr(got, "foo"))
			fail_msg("replace: %s", got);
	}
	assert_int_equal(flow_db_count(v->flows, FLOW_TABLE_ANY), 2); /* the old set, whole */
	close(fd);
	f = fopen(tmp_path("new.flows"), "w");
	fprintf(f, "in_port=vm1,actions=output:vm2\nin_port=vm2,actions=output:vm1\ntable=3,actions=drop\n");
	fclose(f);
	member.fd = fd = open(tmp_path("new.flows"), O_RDONLY);
	assert_string_equal(ask(v, req, &member), "ok");
	close(fd);
	assert_int_equal(flow_db_count(v->flows, FLOW_TABLE_ANY), 3);
	assert_int_equal(flow_db_count(v->flows, 1), 0);

	/* del by filter, strict, idle timeout by the tick */
	assert_string_equal(ask(v, "{\"cmd\":\"flow-del-strict\",\"flow\":\"table=3\"}", NULL), "ok");
	assert_int_equal(flow_db_count(v->flows, FLOW_TABLE_ANY), 2);
	assert_string_equal(ask(v, "{\"cmd\":\"flow-mod\",\"flow\":\"in_port=vm2,actions=drop\"}", NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"table=2,idle_timeout=2,actions=drop\"}", NULL), "ok");
	test_clock_ns += 1500000000ull;
	vswd_flows_tick(v);
	assert_int_equal(flow_db_count(v->flows, 2), 1);
	test_clock_ns += 1000000000ull;
	vswd_flows_tick(v);
	assert_int_equal(flow_db_count(v->flows, 2), 0);
	assert_int_equal(flow_db_count(v->flows, FLOW_TABLE_ANY), 2);

	/* a table's miss behaviour: a new version (the caches' tag), shown, saved, kept by a replace */
	{
		uint64_t gen = flow_db_tables(v->flows)->gen;

		assert_string_equal(ask(v, "{\"cmd\":\"flow-mod-table\",\"table\":4,\"miss\":\"continue\"}", NULL),
				    "ok");
		assert_int_equal(flow_db_get_miss(v->flows, 4), FLOW_MISS_NEXT);
		assert_int_equal(flow_db_tables(v->flows)->miss[4], FLOW_MISS_NEXT);
		assert_true(flow_db_tables(v->flows)->gen > gen);
	}
	assert_non_null(strstr(ask(v, "{\"cmd\":\"flow-mod-table\",\"table\":254,\"miss\":\"drop\"}", NULL),
			       "table"));
	assert_non_null(strstr(ask(v, "{\"cmd\":\"flow-mod-table\",\"table\":1,\"miss\":\"controller\"}", NULL),
			       "miss"));
	r = ask_reply(v, "{\"cmd\":\"flow-dump-tables\"}");
	assert_true(json_object_object_get_ex(r, "tables", &a));
	assert_int_equal(json_object_array_length(a), 5);	/* 0 .. 4, the last with a miss other than drop */
	assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(a, 4), "miss")),
			    "continue");
	assert_string_equal(json_object_get_string(json_object_object_get(json_object_array_get_idx(a, 0), "miss")),
			    "drop");
	json_object_put(r);
	r = ask_reply(v, "{\"cmd\":\"trace\",\"flow\":\"in_port=vm1,arp\"}");
	json_object_put(r);
	f = fopen(cfg.flows_path, "r");
	assert_non_null(f);
	{
		char all[2048];
		size_t n = fread(all, 1, sizeof(all) - 1, f);

		all[n] = '\0';
		if (!strstr(all, "\nmod-table 4 continue\n") || strstr(all, "mod-table 0"))
			fail_msg("flows file:\n%s", all);
	}
	fclose(f);
	/* a replace keeps the tables its file does not name, sets those it does, refuses a bad one whole */
	f = fopen(tmp_path("new.flows"), "w");
	fprintf(f, "mod-table 7 normal\nin_port=vm1,actions=output:vm2\nin_port=vm2,actions=drop\n");
	fclose(f);
	member.fd = fd = open(tmp_path("new.flows"), O_RDONLY);
	assert_string_equal(ask(v, req, &member), "ok");
	close(fd);
	assert_int_equal(flow_db_get_miss(v->flows, 4), FLOW_MISS_NEXT);
	assert_int_equal(flow_db_get_miss(v->flows, 7), FLOW_MISS_NORMAL);
	f = fopen(tmp_path("new.flows"), "w");
	fprintf(f, "mod-table 5 drop\nmod-table 254 continue\nin_port=vm1,actions=drop\n");
	fclose(f);
	member.fd = fd = open(tmp_path("new.flows"), O_RDONLY);
	assert_non_null(strstr(ask(v, req, &member), "line 2: mod-table"));
	close(fd);
	assert_int_equal(flow_db_count(v->flows, FLOW_TABLE_ANY), 2);
	assert_string_equal(ask(v, "{\"cmd\":\"flow-mod-table\",\"table\":7,\"miss\":\"drop\"}", NULL), "ok");

	/* a restart: the same rules from the file, port names resolved again */
	vswd_shutdown(v);
	assert_int_equal(vswd_init(v, &cfg, err, sizeof(err)), 0);
	v->create_hook = stub_port_create;
	stub_add(v, "vm1", "/x");
	stub_add(v, "vm2", "/y");
	assert_int_equal(vswd_flows_load(v, err, sizeof(err)), 0);
	assert_int_equal(flow_db_count(v->flows, FLOW_TABLE_ANY), 2);
	assert_non_null(atomic_load(&v->sw->flows));
	assert_int_equal(flow_db_tables(v->flows)->miss[4], FLOW_MISS_NEXT);
	assert_int_equal(flow_db_get_miss(v->flows, 7), FLOW_MISS_DROP);
	r = ask_reply(v, "{\"cmd\":\"flow-dump\",\"flow\":\"in_port=vm2\"}");
	assert_true(json_object_object_get_ex(r, "flows", &a));
	assert_int_equal(json_object_array_length(a), 1);
	assert_non_null(strstr(json_object_get_string(json_object_array_get_idx(a, 0)), "actions=drop"));
	json_object_put(r);
	/* every rule deleted: the bridge alone again */
	assert_string_equal(ask(v, "{\"cmd\":\"flow-del\"}", NULL), "ok");
	assert_null(atomic_load(&v->sw->flows));
	vswd_shutdown(v);
	assert_int_equal(proc_count_fds(), fds0);
}

/* The slot (show's "id") of port @name, or -1. */
static int port_id(struct vswd *v, const char *name)
{
	struct json_object *r = ask_reply(v, "{\"cmd\":\"show\"}"), *ports;
	int id = -1;

	assert_true(json_object_object_get_ex(r, "ports", &ports));
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *o = json_object_array_get_idx(ports, i);

		if (strcmp(ctl_reply_str(o, "name"), name) == 0)
			id = (int)ctl_reply_int(o, "id");
	}
	json_object_put(r);
	return id;
}

/* An offline vswd with the default config (@cfg) but its flows file @flows_name, and stub ports vm1 and vm2. */
static struct vswd *stub_vswd(struct vswd_config *cfg, const char *flows_name)
{
	struct vswd *v = offline_vswd();
	char err[256];

	vswd_config_default(cfg);
	snprintf(cfg->flows_path, sizeof(cfg->flows_path), "%s", tmp_path(flows_name));
	vswd_shutdown(v);
	assert_int_equal(vswd_init(v, cfg, err, sizeof(err)), 0);
	v->create_hook = stub_port_create;
	stub_add(v, "vm1", "/x");
	stub_add(v, "vm2", "/y");
	return v;
}

/* The trace of the match @flow, into a static buffer. */
static const char *trace_of(struct vswd *v, const char *flow)
{
	static char text[4096];
	char req[256];
	struct json_object *r;

	snprintf(req, sizeof(req), "{\"cmd\":\"trace\",\"flow\":\"%s\"}", flow);
	r = ask_reply(v, req);
	snprintf(text, sizeof(text), "%s", ctl_reply_str(r, "trace"));
	json_object_put(r);
	return text;
}

/* Every line vswd would save as its flows (vswd_flows_lines), joined, into a static buffer. */
static const char *flow_lines(struct vswd *v)
{
	static char all[4096];
	struct json_object *a = vswd_flows_lines(v);
	size_t used = 0;

	assert_non_null(a);
	all[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(a); i++)
		used += (size_t)snprintf(all + used, sizeof(all) - used, "%s\n",
					 json_object_get_string(json_object_array_get_idx(a, i)));
	json_object_put(a);
	return all;
}


/*
 * What `show` says of the slots kept for absent ports: --json's "kept" as
 * "NAME id=N flows=N" lines into @kept; returns the text vswctl prints for
 * the whole reply (the caller frees it).
 */
static char *show_kept(struct vswd *v, char *kept, size_t len)
{
	struct json_object *r = ask_reply(v, "{\"cmd\":\"show\"}"), *a;
	size_t used = 0;
	char *text;

	kept[0] = '\0';
	assert_true(json_object_object_get_ex(r, "kept", &a));
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i);

		used += (size_t)snprintf(kept + used, len - used, "%s id=%" PRId64 " flows=%" PRId64 "\n",
					 ctl_reply_str(o, "name"), ctl_reply_int(o, "id"), ctl_reply_int(o, "flows"));
	}
	text = print_text(ctl_show_print, json_object_to_json_string(r));
	json_object_put(r);
	return text;
}

/*
 * Flows hold port slots, and a deleted port's slot stays its name's
 * (ctl_ports.c, docs/FLOWS.md "Ports in flows"): the rules naming it stay
 * and print its name, the port added next takes another slot so that no
 * rule of the deleted port sends it frames or matches its frames, and the
 * name added again takes its slot back: the rules apply again, with no
 * new flow version.  A flows file naming ports not added yet loads, and
 * each takes its slot when it comes.
 */
static void test_flows_deleted_port(void **state)
{
	struct vswd_config cfg;
	struct vswd *v;
	char err[256], kept[256], want[128];
	const char *t;
	char *text;
	int vm1, vm2;
	uint64_t gen;

	v = stub_vswd(&cfg, "slots.flows");
	vm1 = port_id(v, "vm1");
	vm2 = port_id(v, "vm2");
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"in_port=vm1,actions=output:vm2\"}", NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"in_port=vm2,actions=output:vm1\"}", NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"priority=5,arp,actions=resubmit:vm2\"}", NULL),
			    "ok");
	gen = flow_db_tables(v->flows)->gen;
	text = show_kept(v, kept, sizeof(kept));
	if (kept[0] || strstr(text, "absent"))
		fail_msg("show with every port there: kept \"%s\", text:\n%s", kept, text);
	free(text);

	/* vm2 deleted: its rules stay, by name (what state.json saves too), and send nothing */
	assert_string_equal(ask(v, "{\"cmd\":\"port-del\",\"name\":\"vm2\"}", NULL), "ok");
	vswd_free_graveyard(v);
	t = flow_lines(v);
	if (!strstr(t, "in_port=vm1 actions=output:vm2") || !strstr(t, "in_port=vm2 actions=output:vm1") ||
	    !strstr(t, "resubmit:vm2"))
		fail_msg("flows after port del vm2:\n%s", t);
	t = trace_of(v, "in_port=vm1,tcp");
	if (!strstr(t, "Datapath actions: output:vm2 (absent: a no_destination drop)"))
		fail_msg("trace from vm1 with vm2 deleted:\n%s", t);
	t = trace_of(v, "in_port=vm2,tcp");
	if (!strstr(t, "\n(in_port vm2 is absent: no frame comes in from it)\n") ||
	    !strstr(t, "Datapath actions: output:vm1\n"))
		fail_msg("trace from the deleted vm2:\n%s", t);
	t = trace_of(v, "in_port=77,tcp");
	if (!strstr(t, "\n(in_port 77: no such port: no frame comes in from it)\n"))
		fail_msg("trace from slot 77, never named:\n%s", t);
	assert_int_equal(flow_db_tables(v->flows)->gen, gen); /* a port deleted: no new version */

	/*
	 * show lists vm2's number, kept for the rules naming it: a rule added
	 * by its name now, naming it twice, counts once; a rule deleted no more
	 */
	assert_string_equal(
		ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"priority=9,in_port=vm2,actions=output:vm1,output:vm2\"}", NULL),
		"ok");
	snprintf(want, sizeof(want), "vm2 id=%d flows=4\n", vm2);
	text = show_kept(v, kept, sizeof(kept));
	assert_string_equal(kept, want);
	snprintf(want, sizeof(want), "\nvm2              -            absent: number %d kept for the 4 flow(s) naming it\n",
		 vm2);
	if (!strstr(text, want) || strstr(text, "\nvm2              vhost-user"))
		fail_msg("show with vm2 deleted, wanted \"%s\":\n%s", want + 1, text);
	free(text);
	assert_string_equal(ask(v, "{\"cmd\":\"flow-del-strict\",\"flow\":\"priority=9,in_port=vm2\"}", NULL), "ok");
	snprintf(want, sizeof(want), "vm2 id=%d flows=3\n", vm2);
	text = show_kept(v, kept, sizeof(kept));
	assert_string_equal(kept, want);
	free(text);
	gen = flow_db_tables(v->flows)->gen; /* the two edits' versions: the port changes below make none */

	/* a new port takes another slot: vm2's rules neither send it frames nor match its frames */
	stub_add(v, "vm9", "/z");
	assert_true(port_id(v, "vm9") != vm2);
	assert_true(port_id(v, "vm9") != vm1);
	t = trace_of(v, "in_port=vm1,tcp");
	if (strstr(t, "vm9") || !strstr(t, "Datapath actions: output:vm2 (absent"))
		fail_msg("trace from vm1 with vm9 added:\n%s", t);
	snprintf(want, sizeof(want), "vm2 id=%d flows=3\n", vm2);
	free(show_kept(v, kept, sizeof(kept)));
	assert_string_equal(kept, want);
	t = trace_of(v, "in_port=vm9,tcp");
	if (!strstr(t, "No match") || !strstr(t, "Datapath actions: drop"))
		fail_msg("trace from vm9:\n%s", t);
	/* the deleted port's rules are still named: dumped and deleted by its name */
	{
		struct json_object *r = ask_reply(v, "{\"cmd\":\"flow-dump\",\"flow\":\"in_port=vm2\"}"), *a;

		assert_true(json_object_object_get_ex(r, "flows", &a));
		assert_int_equal(json_object_array_length(a), 1);
		json_object_put(r);
	}
	/* a name no port ever had is still an error */
	assert_non_null(strstr(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"in_port=vm7,actions=drop\"}", NULL), "vm7"));

	/* vm2 again, of another type: its slot back, its rules apply again, on the same version */
	assert_string_equal(ask(v, "{\"cmd\":\"port-add\",\"name\":\"vm2\",\"type\":\"tap\"}", NULL), "ok");
	assert_int_equal(port_id(v, "vm2"), vm2);
	t = trace_of(v, "in_port=vm1,tcp");
	if (!strstr(t, "Datapath actions: output:vm2\n"))
		fail_msg("trace from vm1 with vm2 back:\n%s", t);
	assert_int_equal(flow_db_tables(v->flows)->gen, gen);
	text = show_kept(v, kept, sizeof(kept));
	if (kept[0] || strstr(text, "absent") || !strstr(text, "\nvm2              stub "))
		fail_msg("show with vm2 back: kept \"%s\", text:\n%s", kept, text);
	free(text);
	/* a deleted port no rule names is not listed: its number may be given away */
	assert_string_equal(ask(v, "{\"cmd\":\"port-del\",\"name\":\"vm9\"}", NULL), "ok");
	vswd_free_graveyard(v);
	free(show_kept(v, kept, sizeof(kept)));
	assert_string_equal(kept, "");

	/* a restart that loads the flows file before any port: the names wait for their ports */
	vswd_shutdown(v);
	assert_int_equal(vswd_init(v, &cfg, err, sizeof(err)), 0);
	v->create_hook = stub_port_create;
	if (vswd_flows_load(v, err, sizeof(err)) < 0)
		fail_msg("flows file naming ports not added yet: %s", err);
	assert_int_equal(flow_db_count(v->flows, FLOW_TABLE_ANY), 3);
	/* their numbers shown, kept for them: the file's order, vm1 first */
	free(show_kept(v, kept, sizeof(kept)));
	assert_string_equal(kept, "vm1 id=1 flows=2\nvm2 id=2 flows=3\n");
	stub_add(v, "vm9", "/z");
	t = trace_of(v, "in_port=vm9,tcp");
	if (!strstr(t, "No match") || !strstr(t, "Datapath actions: drop"))
		fail_msg("trace from vm9 after the restart:\n%s", t);
	stub_add(v, "vm2", "/y");
	stub_add(v, "vm1", "/x");
	t = trace_of(v, "in_port=vm1,tcp");
	if (!strstr(t, "Datapath actions: output:vm2\n"))
		fail_msg("trace from vm1 after the restart:\n%s", t);
	t = trace_of(v, "in_port=vm2,tcp");
	if (!strstr(t, "Datapath actions: output:vm1\n"))
		fail_msg("trace from vm2 after the restart:\n%s", t);
	vswd_shutdown(v);

	/* a reload that changes both config ports re-adds them in the new order: each takes its own slot */
	assert_int_equal(vswd_init(v, &cfg, err, sizeof(err)), 0);
	v->create_hook = stub_port_create;
	{
		struct json_object *c1 = json_tokener_parse(
			"{\"ports\":[{\"name\":\"vm1\",\"type\":\"vhost-user\",\"path\":\"/x\"},"
			"{\"name\":\"vm2\",\"type\":\"vhost-user\",\"path\":\"/y\"}]}");
		struct json_object *c2 = json_tokener_parse(
			"{\"ports\":[{\"name\":\"vm2\",\"type\":\"vhost-user\",\"path\":\"/y2\"},"
			"{\"name\":\"vm1\",\"type\":\"vhost-user\",\"path\":\"/x2\"}]}");

		assert_int_equal(vswd_add_config_ports(v, c1, err, sizeof(err)), 0);
		assert_int_equal(vswd_flows_load(v, err, sizeof(err)), 0);
		vm1 = port_id(v, "vm1");
		vm2 = port_id(v, "vm2");
		assert_int_equal(vswd_reload_ports(v, c1, c2, err, sizeof(err)), 0);
		assert_int_equal(port_id(v, "vm1"), vm1);
		assert_int_equal(port_id(v, "vm2"), vm2);
		t = trace_of(v, "in_port=vm1,tcp");
		if (!strstr(t, "Datapath actions: output:vm2\n"))
			fail_msg("trace from vm1 after the reload:\n%s", t);
		json_object_put(c1);
		json_object_put(c2);
	}
	vswd_free_graveyard(v);
	vswd_shutdown(v);
	assert_int_equal(stub_ports_live, 0);
}

/* trace of a TCP frame: the flags the match gives are the frame's (a rule on tcp_flags takes it or not). */
static void test_trace_tcp_flags(void **state)
{
	static const struct {
		const char *flow, *rule, *datapath;
	} cases[] = {
		{ "in_port=vm1,tcp,tcp_flags=syn", "tcp,tcp_flags=+syn-ack, priority 100", "drop" },
		{ "in_port=vm1,tcp,tcp_flags=+syn-ack", "tcp,tcp_flags=+syn-ack, priority 100", "drop" },
		{ "in_port=vm1,tcp,tcp_flags=syn|ack", "(any), priority 10", "output:vm2" },
		{ "in_port=vm1,tcp", "(any), priority 10", "output:vm2" },
		{ "in_port=vm1,tcp6,tcp_flags=fin|ack", "tcp6,tcp_flags=fin|ack, priority 50", "output:vm1" },
		{ "in_port=vm1,tcp6,tcp_flags=fin|ack|psh", "(any), priority 10", "output:vm2" },
	};
	struct vswd_config cfg;
	struct vswd *v = stub_vswd(&cfg, "trace.flows");

	(void)state;
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"priority=100,tcp,tcp_flags=+syn-ack,actions=drop\"}",
				NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"priority=50,tcp6,tcp_flags=fin|ack,actions=in_port\"}",
				NULL), "ok");
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"priority=10,actions=output:vm2\"}", NULL), "ok");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = trace_of(v, cases[i].flow);
		char want[128];

		snprintf(want, sizeof(want), "Datapath actions: %s\n", cases[i].datapath);
		if (!strstr(t, cases[i].rule) || !strstr(t, want))
			fail_msg("trace %s:\n%s", cases[i].flow, t);
	}
	vswd_shutdown(v);
	assert_int_equal(stub_ports_live, 0);
}

/* A frame from @mac into port slot @in_port run through worker state @f's executor on the published tables (its learns queue). */
static void learn_frame(struct vswd *v, struct dp_flow *f, uint8_t mac, uint16_t in_port)
{
	uint8_t buf[64 + 64] = { 0 }, *fr = buf + 64;
	const struct flow_tables *t = flow_db_tables(v->flows);
	struct flow_pkt pkt = { .buf = buf, .cap = sizeof(buf), .head = 64, .len = 60, .frame_len = 60 };
	struct flow_key key;

	memset(fr, 0xff, 6);
	memcpy(fr + 6, (const uint8_t[]){ 0x02, 0, 0, 0, 0, mac }, 6);
	fr[12] = 0x08;
	fr[13] = 0x06;	/* an ARP frame: no header its key needs past the Ethernet one */
	flow_key_extract(&key, fr, 60, 60, in_port, &pkt.ofs);
	flow_exec_begin(&f->x, t, 1000);
	flow_exec_run(&f->x, &pkt, &key, 0, flow_tables_lookup(t, 0, &key));
	flow_exec_end(&f->x);
}

static int64_t learn_stat(struct vswd *v, const char *name)
{
	struct json_object *r = ask_reply(v, "{\"cmd\":\"stats\"}"), *l, *x;
	int64_t n = -1;

	if (json_object_object_get_ex(r, "learn", &l) && json_object_object_get_ex(l, name, &x))
		n = json_object_get_int64(x);
	json_object_put(r);
	return n;
}

/*
 * learn on the control thread (ctl_flows.c): the learns a worker queued
 * become rules (a table's count), one that makes a rule flow syntax
 * cannot say (in_port 0) is refused and counted, learned rules are left
 * out of the saved flows, a learn queued before an edit is not applied
 * after it (stale), and past the learned rules' cap a learn is refused
 * (table_full) while one that refreshes a rule there still counts.
 */
static void test_learn_control(void **state)
{
	struct vswd_config cfg;
	struct vswd *v = stub_vswd(&cfg, "learn.flows");
	struct dp_worker *w = calloc(1, sizeof(*w));
	struct dp_flow *f;

	(void)state;
	assert_non_null(w);
	w->ctx.flow = f = dp_flow_ctx_new();
	assert_non_null(f);
	v->dp.workers = w;	/* one worker's flow state, no thread: its executor runs here */
	v->dp.nworkers = 1;
	v->sw->clock_ns = test_clock;
	test_clock_ns = 1000000000ull;
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"priority=10,actions=learn(table=10,eth_dst=eth_src,"
				   "load:in_port->reg0[0..15]),learn(table=11,in_port=reg0[0..15],output:in_port[]),"
				   "output:vm2\"}", NULL), "ok");
	learn_frame(v, f, 0x21, 1);
	assert_int_equal(atomic_load(&f->learn_sent), 2);
	vswd_flows_learn(v);
	assert_int_equal(flow_db_count(v->flows, 10), 1);
	assert_int_equal(flow_db_count(v->flows, 11), 0);	/* in_port=0: no rule flow syntax can say */
	assert_int_equal(learn_stat(v, "added"), 1);
	assert_int_equal(learn_stat(v, "failed"), 1);
	assert_int_equal(learn_stat(v, "learned"), 1);
	assert_non_null(strstr(flow_lines(v), "learn(table=10"));
	assert_null(strstr(flow_lines(v), "\ntable=10,"));	/* learned: never saved */
	assert_int_not_equal(strncmp(flow_lines(v), "table=10,", 9), 0);

	/* Queued, then an edit, then drained: stale, not applied; the worker forgot, so the next frame queues again. */
	learn_frame(v, f, 0x22, 1);
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"table=5,actions=drop\"}", NULL), "ok");
	vswd_flows_learn(v);
	assert_int_equal(learn_stat(v, "stale"), 1);	/* table 11's learn, the same as before: a repeat, not queued */
	assert_int_equal(flow_db_count(v->flows, 10), 1);
	learn_frame(v, f, 0x22, 1);
	vswd_flows_learn(v);
	assert_int_equal(flow_db_count(v->flows, 10), 2);

	/* Two learned, the cap at two: a third MAC is refused, a known one still refreshes. */
	flow_db_set_learned_max(v->flows, 2);
	learn_frame(v, f, 0x23, 1);
	vswd_flows_learn(v);
	assert_int_equal(learn_stat(v, "table_full"), 1);
	assert_int_equal(flow_db_count(v->flows, 10), 2);
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"table=6,actions=drop\"}", NULL), "ok");
	learn_frame(v, f, 0x22, 1);	/* after an edit: queued again, whatever was sent */
	vswd_flows_learn(v);
	assert_int_equal(learn_stat(v, "refreshed"), 1);

	/*
	 * A user's rule a learn changes is saved at once; a learned rule that
	 * times out changes nothing saved: the flows file is not written.
	 */
	flow_db_set_learned_max(v->flows, 100);
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"table=10,dl_dst=02:00:00:00:00:31,"
				   "actions=load:0x9->reg0[0..15]\"}", NULL), "ok");
	learn_frame(v, f, 0x31, 1);
	vswd_flows_learn(v);
	assert_non_null(strstr(flow_lines(v), "dl_dst=02:00:00:00:00:31 actions=load:0x1->reg0[0..15]"));
	{
		FILE *fp = fopen(cfg.flows_path, "r");
		char text[4096];
		size_t n;

		assert_non_null(fp);
		n = fread(text, 1, sizeof(text) - 1, fp);
		text[n] = '\0';
		fclose(fp);
		assert_non_null(strstr(text, "dl_dst=02:00:00:00:00:31 actions=load:0x1->reg0[0..15]"));
	}
	assert_string_equal(ask(v, "{\"cmd\":\"flow-add\",\"flow\":\"priority=20,in_port=vm2,actions=learn(table=12,"
				   "hard_timeout=1,eth_dst=eth_src,output:in_port[])\"}", NULL), "ok");
	learn_frame(v, f, 0x32, 2);
	vswd_flows_learn(v);
	assert_int_equal(flow_db_count(v->flows, 12), 1);
	assert_int_equal(unlink(cfg.flows_path), 0);
	test_clock_ns += 5000000000ull;
	vswd_flows_tick(v);
	assert_int_equal(flow_db_count(v->flows, 12), 0);
	assert_int_equal(access(cfg.flows_path, F_OK), -1);	/* not written again */

	v->dp.nworkers = 0;
	v->dp.workers = NULL;
	free(f);
	free(w);
	vswd_shutdown(v);
	assert_int_equal(stub_ports_live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flows),
		cmocka_unit_test(test_flows_deleted_port),
		cmocka_unit_test(test_trace_tcp_flags),
		cmocka_unit_test(test_learn_control),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
