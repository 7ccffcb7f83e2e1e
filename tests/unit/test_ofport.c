/* test_ofport.c - ofport_request=N: the port number a port asks for, given when free, else another with a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <unistd.h>

#include "ctl/commands.h"
#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "ctl/reload.h"
#include "flow/table.h"
#include "../lib/ctl_ask.h"
#include "../lib/stub_port.h"

/*
 * In vsw a port's OpenFlow number is its slot (docs/FLOWS.md, "Ports in
 * flows").  Open vSwitch's Interface ofport_request
 * (ovs-vswitchd.conf.db(5)) asks for one: given when free, "if the
 * requested port number is not available, it is logged and another is
 * assigned".  These tests hold vsw to that, to its own rule that a slot
 * kept for another name that rules name (a deleted port's) is not free
 * (one no rule names is), and to the range: 1 to the switch's last
 * slot (0 is OpenFlow's reserved port, as in Open vSwitch); 0 or a number
 * past the slots is refused by name.
 */

static struct vswd v;

static void start(void)
{
	struct vswd_config cfg;
	char err[256];

	vswd_config_default(&cfg);
	cfg.fdb_size = 64;
	assert_int_equal(vswd_init(&v, &cfg, err, sizeof(err)), 0);
	v.create_hook = stub_port_create;
}

/* The reply to @json (the caller puts it). */
static struct json_object *ask_reply(const char *json)
{
	return ctl_ask_reply(&v, json);
}

/* "ok" or the error of the reply to @json, into a static buffer. */
static const char *ask(const char *json)
{
	static char out[512];

	return ctl_ask_text(&v, json, out, sizeof(out));
}

/* port-add of a stub vhost-user port @name with the extra keys @extra (",\"k\":v..." or ""). */
static const char *add(const char *name, const char *extra)
{
	char req[512];

	snprintf(req, sizeof(req), "{\"cmd\":\"port-add\",\"name\":\"%s\",\"type\":\"vhost-user\",\"path\":\"/%s\"%s}", name,
		 name, extra);
	return ask(req);
}

static void del(const char *name)
{
	char req[128];

	snprintf(req, sizeof(req), "{\"cmd\":\"port-del\",\"name\":\"%s\"}", name);
	assert_string_equal(ask(req), "ok");
	vswd_free_graveyard(&v);
}

/* What @run(@arg) writes to file descriptor @fd (1 or 2) while it runs, into @text (@len bytes). */
static const char *captured(int fd, void (*run)(void *), void *arg, char *text, size_t len)
{
	char path[] = "/tmp/vsw-test-ofport-out.XXXXXX";
	int tmp = mkstemp(path), saved = dup(fd);
	ssize_t n;

	assert_true(tmp >= 0 && saved >= 0);
	fflush(fd == 1 ? stdout : stderr);
	dup2(tmp, fd);
	run(arg);
	fflush(fd == 1 ? stdout : stderr);
	dup2(saved, fd);
	close(saved);
	n = pread(tmp, text, len - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(tmp);
	unlink(path);
	return text;
}

struct add_call {
	const char *name, *extra;
	char *answer;
	size_t len;
};

static void run_add(void *arg)
{
	struct add_call *c = arg;

	snprintf(c->answer, c->len, "%s", add(c->name, c->extra));
}

/* What vswd logs (stderr) while @name/@extra's add runs: the add's answer into @answer, the log returned (static). */
static const char *logged_add(const char *name, const char *extra, char *answer, size_t len)
{
	static char text[4096];
	struct add_call c = { name, extra, answer, len };

	return captured(2, run_add, &c, text, sizeof(text));
}

static void run_show_print(void *arg)
{
	ctl_show_print(arg);
}

/* `vswctl show` as text (the printer vswctl runs on the reply), into a static buffer. */
static const char *show_text(void)
{
	static char text[8192];
	struct json_object *r = ask_reply("{\"cmd\":\"show\"}");

	captured(1, run_show_print, r, text, sizeof(text));
	json_object_put(r);
	return text;
}

/* A free number is given; show says it, with the request beside it; the request is part of what state.c saves. */
static void test_free_number_given(void **state)
{
	const char *t;

	start();
	assert_string_equal(add("a", ",\"ofport_request\":7"), "ok");
	assert_int_equal(vswd_port_slot(&v, "a"), 7);
	assert_string_equal(add("b", ""), "ok");
	assert_int_equal(vswd_port_slot(&v, "b"), 1); /* the first never given: 1, as in Open vSwitch */
	assert_string_equal(add("c", ",\"ofport_request\":1,\"tag\":5"), "ok"); /* 1 is b's: another */
	assert_int_equal(vswd_port_slot(&v, "c"), 2);
	t = show_text();
	if (!strstr(t, "\na                stub         ") || !strstr(t, " ofport=7 ofport_request=7 mac_limit=0") ||
	    !strstr(t, " ofport=1 mac_limit=0") || !strstr(t, " ofport=2 ofport_request=1 mac_limit=0"))
		fail_msg("show:\n%s", t);
	/* flows written with the number mean that port */
	assert_string_equal(ask("{\"cmd\":\"flow-add\",\"flow\":\"in_port=7,actions=output:1\"}"), "ok");
	{
		struct json_object *r = ask_reply("{\"cmd\":\"flow-dump\"}");
		const char *s = json_object_to_json_string(r);

		if (!strstr(s, "in_port=a actions=output:b"))
			fail_msg("dump: %s", s);
		json_object_put(r);
	}
	vswd_shutdown(&v);
}

/* A number that is another port's, or kept for another name's flows: logged, and the port gets the usual one. */
static void test_taken_number_logged(void **state)
{
	char answer[256];
	const char *log;

	start();
	assert_string_equal(add("a", ",\"ofport_request\":3"), "ok");
	log = logged_add("b", ",\"ofport_request\":3", answer, sizeof(answer));
	assert_string_equal(answer, "ok");
	assert_int_equal(vswd_port_slot(&v, "b"), 1);
	if (!strstr(log, "port b: ofport_request=3 not given: number 3 is the port a; it gets 1"))
		fail_msg("log:\n%s", log);

	/* a deleted, whose flow keeps 3 for its name: not free for c */
	assert_string_equal(ask("{\"cmd\":\"flow-add\",\"flow\":\"in_port=a,actions=output:b\"}"), "ok");
	del("a");
	log = logged_add("c", ",\"ofport_request\":3", answer, sizeof(answer));
	assert_string_equal(answer, "ok");
	assert_int_equal(vswd_port_slot(&v, "c"), 2);
	if (!strstr(log, "port c: ofport_request=3 not given: number 3 is kept for the flows of a; it gets 2"))
		fail_msg("log:\n%s", log);

	/* a back, asking for another number: its flows hold 3, so it keeps 3, said so */
	log = logged_add("a", ",\"ofport_request\":9", answer, sizeof(answer));
	assert_string_equal(answer, "ok");
	assert_int_equal(vswd_port_slot(&v, "a"), 3);
	if (!strstr(log, "port a: ofport_request=9 not given: its number 3 is kept for the 1 flow(s) naming it; it "
			 "keeps 3"))
		fail_msg("log:\n%s", log);

	/* with no flow naming it, a deleted port's number moves to the one asked for, and 3 is free again */
	assert_string_equal(ask("{\"cmd\":\"flow-del\"}"), "ok");
	del("a");
	assert_string_equal(add("a", ",\"ofport_request\":9"), "ok");
	assert_int_equal(vswd_port_slot(&v, "a"), 9);
	assert_string_equal(add("d", ",\"ofport_request\":3"), "ok");
	assert_int_equal(vswd_port_slot(&v, "d"), 3);
	vswd_shutdown(&v);
}

/*
 * The range: 1 to PORT_MAX - 1; 0 (OpenFlow's reserved port: Open vSwitch's range is 1 to 65279), past the slots (a
 * valid OpenFlow number or not), not a number: refused by name, nothing added.
 */
static void test_out_of_range_refused(void **state)
{
	char extra[64];

	start();
	assert_string_equal(add("a", ",\"ofport_request\":0"), "\"ofport_request\": 0 is OpenFlow's reserved port, never "
				 "a port's number: numbers start at 1, as in Open vSwitch (1 to 65279)");
	snprintf(extra, sizeof(extra), ",\"ofport_request\":%d", PORT_MAX);
	assert_string_equal(add("a", extra), "\"ofport_request\": 4096 is past this switch's port numbers (1 to 4095, "
					     "one per slot)");
	assert_string_equal(add("a", ",\"ofport_request\":65279"),
			    "\"ofport_request\": 65279 is past this switch's port numbers (1 to 4095, one per slot)");
	assert_string_equal(add("a", ",\"ofport_request\":65280"), "\"ofport_request\" must be an integer from 1 to 65279");
	assert_string_equal(add("a", ",\"ofport_request\":-1"), "\"ofport_request\" must be an integer from 1 to 65279");
	assert_string_equal(add("a", ",\"ofport_request\":\"x\""), "\"ofport_request\" must be an integer from 1 to 65279");
	assert_true(vswd_port_slot(&v, "a") < 0);
	snprintf(extra, sizeof(extra), ",\"ofport_request\":%d", PORT_MAX - 1);
	assert_string_equal(add("a", extra), "ok");
	assert_int_equal(vswd_port_slot(&v, "a"), PORT_MAX - 1);
	vswd_shutdown(&v);
}

/* vswctl's words give it (a number), its --help lists it, and a config file's port takes it too. */
static void test_vswctl_and_config(void **state)
{
	char *argv[] = { "port", "add", "a", "vhost-user", "path=/a", "ofport_request=12", NULL };
	struct ctl_call call;
	struct json_object *conf, *f;
	char err[256], help[16384];

	memset(&call, 0, sizeof(call));
	assert_int_equal(ctl_build(6, argv, &call, err, sizeof(err)), 0);
	assert_true(json_object_object_get_ex(call.req, "ofport_request", &f));
	assert_true(json_object_is_type(f, json_type_int));
	assert_int_equal(json_object_get_int(f), 12);
	json_object_put(call.req);
	json_object_put(call.local);
	ctl_commands_help(help, sizeof(help), "  ");
	assert_non_null(strstr(help, "[ofport_request=N]"));

	start();
	conf = json_tokener_parse("{\"ports\":[{\"name\":\"x\",\"type\":\"vhost-user\",\"path\":\"/x\"},"
				  "{\"name\":\"y\",\"type\":\"vhost-user\",\"path\":\"/y\",\"ofport_request\":40}]}");
	assert_int_equal(vswd_add_config_ports(&v, conf, err, sizeof(err)), 0);
	json_object_put(conf);
	assert_int_equal(vswd_port_slot(&v, "x"), 1);
	assert_int_equal(vswd_port_slot(&v, "y"), 40);
	conf = json_tokener_parse("{\"ports\":[{\"name\":\"z\",\"type\":\"vhost-user\",\"path\":\"/z\","
				  "\"ofport_request\":5000}]}");
	assert_int_equal(vswd_add_config_ports(&v, conf, err, sizeof(err)), -1);
	json_object_put(conf);
	assert_string_equal(err, "ports[0]: \"ofport_request\": 5000 is past this switch's port numbers (1 to 4095, one "
				 "per slot)");
	conf = json_tokener_parse("{\"ports\":[{\"name\":\"z\",\"type\":\"vhost-user\",\"path\":\"/z\","
				  "\"ofport_request\":0}]}");
	assert_int_equal(vswd_add_config_ports(&v, conf, err, sizeof(err)), -1);
	json_object_put(conf);
	assert_string_equal(err, "ports[0]: \"ofport_request\": 0 is OpenFlow's reserved port, never a port's number: "
				 "numbers start at 1, as in Open vSwitch (1 to 65279)");
	vswd_shutdown(&v);
}

/*
 * A SIGHUP reload (ctl/reload.h) keeps every number whatever the new order
 * of the config's list: a changed entry is deleted and added again and
 * takes its kept slot back; a new entry's ofport_request is given.
 */
static void test_reload_keeps_numbers(void **state)
{
	struct json_object *old, *new;
	char err[256];
	int x, y;

	start();
	old = json_tokener_parse("{\"ports\":[{\"name\":\"x\",\"type\":\"vhost-user\",\"path\":\"/x\"},"
				 "{\"name\":\"y\",\"type\":\"vhost-user\",\"path\":\"/y\"}]}");
	assert_int_equal(vswd_add_config_ports(&v, old, err, sizeof(err)), 0);
	x = vswd_port_slot(&v, "x");
	y = vswd_port_slot(&v, "y");
	new = json_tokener_parse("{\"ports\":[{\"name\":\"w\",\"type\":\"vhost-user\",\"path\":\"/w\","
				 "\"ofport_request\":30},{\"name\":\"y\",\"type\":\"vhost-user\",\"path\":\"/y\","
				 "\"mac_limit\":3},{\"name\":\"x\",\"type\":\"vhost-user\",\"path\":\"/x\"}]}");
	assert_int_equal(vswd_reload_ports(&v, old, new, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "x"), x);
	assert_int_equal(vswd_port_slot(&v, "y"), y); /* deleted and added again (changed): its number back */
	assert_int_equal(v.sw->sp[y].cfg.mac_limit, 3);
	assert_int_equal(vswd_port_slot(&v, "w"), 30);
	json_object_put(old);
	json_object_put(new);
	vswd_shutdown(&v);
}

/*
 * A number kept for a deleted port's name that no rule names is free to
 * be forgotten (docs/FLOWS.md, "Slots and names"), as Open vSwitch gives
 * a deleted interface's number to a request: asked for, it is given, not
 * refused as "kept for the flows of" a name no flow names.  The usual
 * case is a SIGHUP reload renaming a port and asking for its old number
 * so that flows and scripts written with it still mean that port.
 */
static void test_unnamed_kept_number_given(void **state)
{
	struct json_object *old, *new;
	char answer[256], err[256];
	const char *log;

	start();
	assert_string_equal(add("a", ",\"ofport_request\":3"), "ok");
	del("a");
	log = logged_add("b", ",\"ofport_request\":3", answer, sizeof(answer));
	assert_string_equal(answer, "ok");
	if (vswd_port_slot(&v, "b") != 3)
		fail_msg("b got %d, log:\n%s", vswd_port_slot(&v, "b"), log);
	assert_int_equal(vswd_port_slot_kept(&v, "a", false), -1); /* a's name forgotten: its number is b's */

	old = json_tokener_parse("{\"ports\":[{\"name\":\"x\",\"type\":\"vhost-user\",\"path\":\"/x\"}]}");
	assert_int_equal(vswd_add_config_ports(&v, old, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "x"), 1);
	new = json_tokener_parse("{\"ports\":[{\"name\":\"x2\",\"type\":\"vhost-user\",\"path\":\"/x\","
				 "\"ofport_request\":1}]}");
	assert_int_equal(vswd_reload_ports(&v, old, new, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "x2"), 1); /* renamed, its number asked for and given */
	json_object_put(old);
	json_object_put(new);
	vswd_shutdown(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_number_given),
		cmocka_unit_test(test_taken_number_logged),
		cmocka_unit_test(test_out_of_range_refused),
		cmocka_unit_test(test_vswctl_and_config),
		cmocka_unit_test(test_reload_keeps_numbers),
		cmocka_unit_test(test_unnamed_kept_number_given),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
