/* test_state.c - vswd's state file: saved on every change, restored whole or refused whole, the config winning a name, failures kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/daemon.h"
#include "ctl/reload.h"
#include "flow/table.h"
#include "../lib/ctl_ask.h"
#include "../lib/proc_counts.h"
#include "../lib/stub_port.h"
#include "port/port_vxlan.h"
#include "port/vtep.h"

static char dir[64];

static int setup_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vsw-test-state.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	if (getenv("TEST_KEEP"))
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Ports called "gone*" fail to be created, as a tap port whose interface vanished would. */
static struct port *hook(const char *name, const char *type, struct json_object *params, const struct port_env *env,
			 char *err, size_t errlen)
{
	if (strcmp(type, "vxlan") == 0)
		return port_vxlan_create(name, params, env, err, errlen); /* a real one: tunnel fdb entries need it */
	if (strncmp(name, "gone", 4) == 0) {
		snprintf(err, errlen, "interface %s: No such device", name);
		return NULL;
	}
	return stub_port_create(name, type, params, env, err, errlen);
}

static struct vswd v;
static char flows_file[128];	/* start(): vswd's --flows FILE when not empty */

/* A fresh offline vswd saving to DIR/st (and to flows_file, when set); the state not restored yet. */
static void start(const char *sub)
{
	struct vswd_config cfg;
	char err[256];

	vswd_config_default(&cfg);
	cfg.fdb_size = 64;
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/%s", dir, sub);
	snprintf(cfg.flows_path, sizeof(cfg.flows_path), "%s", flows_file);
	assert_int_equal(vswd_init(&v, &cfg, err, sizeof(err)), 0);
	v.create_hook = hook;
}

static const char *ask(const char *json)
{
	static char out[512];

	return ctl_ask_text(&v, json, out, sizeof(out));
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = malloc(4 << 20);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, (4 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void spit(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* Files in DIR/@sub whose name starts with @prefix; removed when @remove. */
static int count_files(const char *sub, const char *prefix, bool remove)
{
	char path[600];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			n++;
			if (remove) {
				snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, e->d_name);
				unlink(path);
			}
		}
	closedir(d);
	return n;
}

static unsigned nports(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < PORT_MAX; i++)
		n += atomic_load(&v.sw->ports[i]) != NULL;
	return n;
}

static const char add_b[] = "{\"cmd\":\"port-add\",\"name\":\"b\",\"type\":\"vhost-user\",\"path\":\"/b\",\"tag\":10,"
			    "\"mac_limit\":5}";
static const char add_a[] = "{\"cmd\":\"port-add\",\"name\":\"a\",\"type\":\"vhost-user\",\"path\":\"/a\",\"mode\":\"client\"}";
static const char add_flow[] = "{\"cmd\":\"flow-add\",\"flow\":\"priority=7,in_port=a,actions=output:b\"}";

/* The reply to @json (the caller puts it). */
static struct json_object *ask_reply(const char *json)
{
	return ctl_ask_reply(&v, json);
}

/* `show`'s "kept" as "NAME id=N flows=N" lines, into a static buffer. */
static const char *show_kept(void)
{
	static char kept[256];
	struct json_object *r = ask_reply("{\"cmd\":\"show\"}"), *a;
	size_t used = 0;

	kept[0] = '\0';
	assert_true(json_object_object_get_ex(r, "kept", &a));
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i);

		used += (size_t)snprintf(kept + used, sizeof(kept) - used, "%s id=%d flows=%d\n",
					 json_object_get_string(json_object_object_get(o, "name")),
					 json_object_get_int(json_object_object_get(o, "id")),
					 json_object_get_int(json_object_object_get(o, "flows")));
	}
	json_object_put(r);
	return kept;
}

/* The trace of the match @flow, into a static buffer. */
static const char *trace_of(const char *flow)
{
	static char text[4096];
	char req[256];
	struct json_object *r;

	snprintf(req, sizeof(req), "{\"cmd\":\"trace\",\"flow\":\"%s\"}", flow);
	r = ask_reply(req);
	snprintf(text, sizeof(text), "%s", json_object_get_string(json_object_object_get(r, "trace")));
	json_object_put(r);
	return text;
}

/*
 * Saved on every change (pretty, ports sorted by name, keys sorted, no
 * "cmd"), restored by the next vswd with the options as given, a deleted
 * port gone from the file; the config's ports are not in it.
 */
static void test_save_restore(void **state)
{
	char err[256], path[256];
	struct json_object *o, *ports;
	char *text;
	int fds0 = proc_count_fds();

	start("st1");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0); /* nothing saved yet: creates the dir */
	snprintf(path, sizeof(path), "%s/st1/state.json", dir);
	assert_int_equal(access(path, F_OK), -1);
	o = json_tokener_parse("{\"ports\":[{\"name\":\"cfg\",\"type\":\"vhost-user\",\"path\":\"/c\"}]}");
	assert_int_equal(vswd_add_config_ports(&v, o, err, sizeof(err)), 0);
	json_object_put(o);
	assert_string_equal(ask(add_b), "ok");
	assert_string_equal(ask(add_a), "ok");
	assert_string_equal(ask(add_flow), "ok");
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"c\",\"type\":\"vhost-user\",\"path\":\"/x\"}"), "ok");
	assert_string_equal(ask("{\"cmd\":\"port-del\",\"name\":\"c\"}"), "ok");
	vswd_free_graveyard(&v);
	text = slurp(path, NULL);
	{
		const char *a = strstr(text, "\"name\": \"a\""), *b = strstr(text, "\"name\": \"b\"");

		if (!a || !b || a > b || strstr(text, "\"cmd\"") || strstr(text, "\"c\"") || strstr(text, "\"/c\"") ||
		    !strstr(text, "\"format\": \"vsw-state\"") || !strstr(text, "\"version\": 1") ||
		    !strstr(text, "\n  \"ports\": [\n") || !strstr(text, "in_port=a actions=output:b") ||
		    strstr(text, "\"mac_limit\": 5") > strstr(text, "\"name\": \"b\""))
			fail_msg("state file:\n%s", text);
	}
	free(text);
	assert_int_equal(access(strcat(strcpy(err, path), ".tmp"), F_OK), -1);
	vswd_shutdown(&v);

	start("st1");
	o = json_tokener_parse("{\"ports\":[{\"name\":\"cfg\",\"type\":\"vhost-user\",\"path\":\"/c\"}]}");
	assert_int_equal(vswd_add_config_ports(&v, o, err, sizeof(err)), 0);
	json_object_put(o);
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_int_equal(nports(), 3);
	assert_true(vswd_port_slot(&v, "a") >= 0 && vswd_port_slot(&v, "b") >= 0 && vswd_port_slot(&v, "c") < 0);
	assert_int_equal(v.sw->sp[vswd_port_slot(&v, "b")].cfg.tag, 10);
	assert_int_equal(flow_db_count(v.flows, FLOW_TABLE_ANY), 1);
	assert_null(v.state_ports[vswd_port_slot(&v, "cfg")]);
	ports = v.state_ports[vswd_port_slot(&v, "a")];
	assert_string_equal(json_object_get_string(json_object_object_get(ports, "mode")), "client");
	assert_int_equal(count_files("st1", "state.json.", false), 0);
	vswd_shutdown(&v);
	assert_int_equal(proc_count_fds(), fds0);
}

/*
 * The config names a port the state has too: the config's stays, the
 * saved one is left out with a log line, the file as it was kept aside
 * (.unapplied-TIME) and rewritten.  A port that cannot be created is left
 * out the same way, the rest restored; the flows naming it come back and
 * keep its slot for its name (ctl_ports.c), as for a deleted port.
 */
static void test_conflicts_and_failures(void **state)
{
	char err[256], path[256];
	struct json_object *o;
	char *text;
	int kept;

	start("st2");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_string_equal(ask(add_a), "ok");
	assert_string_equal(ask(add_b), "ok");
	assert_string_equal(ask(add_flow), "ok");
	vswd_shutdown(&v);

	start("st2");
	o = json_tokener_parse("{\"ports\":[{\"name\":\"b\",\"type\":\"vhost-user\",\"path\":\"/config-b\"}]}");
	assert_int_equal(vswd_add_config_ports(&v, o, err, sizeof(err)), 0);
	json_object_put(o);
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 1);
	assert_int_equal(nports(), 2);
	assert_null(v.state_ports[vswd_port_slot(&v, "b")]); /* the config's */
	assert_int_equal(flow_db_count(v.flows, FLOW_TABLE_ANY), 1);	/* b exists (the config's) */
	assert_int_equal(count_files("st2", "state.json.unapplied-", true), 1);
	snprintf(path, sizeof(path), "%s/st2/state.json", dir);
	text = slurp(path, NULL);
	assert_null(strstr(text, "\"/b\""));
	free(text);
	vswd_shutdown(&v);

	/* a port that fails: the others back, the flows naming it too, waiting for it; the file kept */
	start("st3");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	v.create_hook = stub_port_create; /* "gone" can be created now ... */
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"gone0\",\"type\":\"vhost-user\",\"path\":\"/g\"}"), "ok");
	assert_string_equal(ask(add_a), "ok");
	assert_string_equal(ask("{\"cmd\":\"flow-add\",\"flow\":\"in_port=gone0,actions=output:a\"}"), "ok");
	vswd_shutdown(&v);
	start("st3"); /* ... and no more */
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 1);
	assert_int_equal(nports(), 1);
	assert_true(vswd_port_slot(&v, "a") >= 0);
	assert_int_equal(flow_db_count(v.flows, FLOW_TABLE_ANY), 1);
	assert_int_equal(count_files("st3", "state.json.unapplied-", false), 1);
	snprintf(path, sizeof(path), "%s/st3/state.json", dir);
	text = slurp(path, NULL);
	if (!strstr(text, "in_port=gone0 actions=output:a"))
		fail_msg("state.json rewritten without gone0's flow:\n%s", text);
	free(text);
	kept = vswd_port_slot_kept(&v, "gone0", false);
	assert_true(kept >= 0 && kept != vswd_port_slot(&v, "a"));
	snprintf(path, sizeof(path), "gone0 id=%d flows=1\n", kept);
	assert_string_equal(show_kept(), path); /* show lists it as a deleted port's */
	v.create_hook = stub_port_create; /* back: the slot its flow names */
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"gone0\",\"type\":\"vhost-user\",\"path\":\"/g\"}"), "ok");
	assert_int_equal(vswd_port_slot(&v, "gone0"), kept);
	vswd_shutdown(&v);
}

/* Restore @text as DIR/@sub/state.json into a fresh vswd; its return, the ports there after. */
static int restore_text(const char *sub, const char *text, size_t len, unsigned *ports)
{
	char err[512], path[256];
	int rc;

	snprintf(path, sizeof(path), "%s/%s/state.json", dir, sub);
	spit(path, text, len);
	start(sub);
	rc = vswd_state_restore(&v, err, sizeof(err));
	*ports = nports();
	vswd_shutdown(&v);
	return rc;
}

/*
 * The file cut at every byte offset (a crash of a writer that did not
 * rename, a full disk, a copy gone wrong): never a partial load.  Cut
 * before its closing brace, it is refused, moved aside with a log line,
 * nothing applied; from the brace on, it is whole.  A changed value, a
 * version or format not ours, a bad entry: refused the same way.
 */
static void test_corrupt_never_partial(void **state)
{
	char err[256], path[256], logpath[256], *full, *text, *close_at;
	size_t len, refused = 0;
	unsigned ports;
	int saved = dup(2), logfd;

	start("st4");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_string_equal(ask(add_a), "ok");
	assert_string_equal(ask(add_b), "ok");
	assert_string_equal(ask(add_flow), "ok");
	vswd_shutdown(&v);
	snprintf(path, sizeof(path), "%s/st4/state.json", dir);
	full = slurp(path, &len);
	close_at = strrchr(full, '}');
	assert_non_null(close_at);

	snprintf(logpath, sizeof(logpath), "%s/restore.log", dir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fflush(stderr);
	dup2(logfd, 2);
	for (size_t cut = 0; cut <= len; cut++) {
		int rc = restore_text("st4", full, cut, &ports);

		if (cut <= (size_t)(close_at - full)) {
			if (rc != -1 || ports != 0 || count_files("st4", "state.json.corrupt-", true) != 1 ||
			    access(path, F_OK) == 0) {
				dup2(saved, 2);
				fail_msg("cut at %zu of %zu: restore %d, %u ports", cut, len, rc, ports);
			}
			refused++;
		} else if (rc != 0 || ports != 2) {
			dup2(saved, 2);
			fail_msg("whole file (%zu of %zu bytes): restore %d, %u ports", cut, len, rc, ports);
		}
	}
	fflush(stderr);
	text = slurp(logpath, NULL);
	{
		size_t lines = 0;

		for (const char *at = text; (at = strstr(at, "refused, nothing of it applied")); at++)
			lines++;
		assert_int_equal(lines, refused);
		/* a cut file says where */
		assert_non_null(strstr(text, "state.json:") );
		assert_non_null(strstr(text, "is the file cut short?"));
	}
	free(text);

	/* one value changed by hand: the checksum */
	text = strdup(full);
	*strstr(text, "\"/a\"") = '\0';
	{
		char *edited;

		assert_true(asprintf(&edited, "%s\"/z\"%s", text, strstr(full, "\"/a\"") + 4) > 0);
		assert_int_equal(restore_text("st4", edited, strlen(edited), &ports), -1);
		assert_int_equal(ports, 0);
		free(edited);
	}
	free(text);
	assert_int_equal(count_files("st4", "state.json.corrupt-", true), 1);
	/* not ours, or not this version, or a bad entry (checked before the checksum) */
	{
		static const char *const bad[] = {
			"{\"format\":\"vsw-state\",\"version\":2,\"checksum\":\"\",\"ports\":[],\"flows\":[]}",
			"{\"format\":\"ovs\",\"version\":1,\"checksum\":\"\",\"ports\":[],\"flows\":[]}",
			"{\"format\":\"vsw-state\",\"version\":1,\"checksum\":\"\",\"ports\":[],\"flows\":[],\"x\":1}",
			"{\"format\":\"vsw-state\",\"version\":1,\"checksum\":\"\",\"ports\":[{\"name\":\"a\",\"type\":\"nope\"}],"
			"\"flows\":[]}",
			"{\"format\":\"vsw-state\",\"version\":1,\"checksum\":\"\",\"ports\":[{\"name\":\"a\","
			"\"type\":\"vhost-user\",\"path\":\"/a\",\"bogus\":1}],\"flows\":[]}",
			"{\"format\":\"vsw-state\",\"version\":1,\"checksum\":\"\",\"ports\":[],\"flows\":[\"a\\nb\"]}",
			"[]",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (restore_text("st4", bad[i], strlen(bad[i]), &ports) != -1 || ports) {
				dup2(saved, 2);
				fail_msg("accepted: %s", bad[i]);
			}
			assert_int_equal(count_files("st4", "state.json.corrupt-", true), 1);
		}
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(logfd);
	free(full);
}

/*
 * Static tunnel fdb entries (vswctl tunnel fdb add) are saved with their
 * port and come back with it; deleted, they are gone from the file.  A
 * file without any has no "tunnel_fdb" key (files from before stay valid).
 * Per-VNI flood lists (the zero MAC's entries) are saved and come back
 * the same way, one entry per remote.
 */
static void test_tunnel_fdb(void **state)
{
	char err[256], path[256];
	struct vtep_entry e[4];
	struct vtep_flood f[4];
	char *text, desc[1024];
	struct port *p;

	if (geteuid() != 0)
		fail_msg("a vxlan port needs root (a raw socket)");
	start("st4");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/st4/state.json", dir);
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"t0\",\"type\":\"vxlan\",\"local\":\"127.0.0.1\","
				"\"remote\":\"127.0.0.2,127.0.0.3\",\"vni\":\"flow\",\"dstport\":47894}"),
			    "ok");
	text = slurp(path, NULL);
	if (strstr(text, "tunnel_fdb"))
		fail_msg("no static entry yet, yet:\n%s", text);
	free(text);
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"02:00:00:00:00:07\",\"vni\":70,"
				"\"remote\":\"127.0.0.9\"}"),
			    "ok");
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"02:00:00:00:00:08\",\"vni\":80,"
				"\"remote\":\"127.0.0.3\",\"port\":\"t0\"}"),
			    "ok");
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"02:00:00:00:00:08\",\"remote\":\"127.0.0.3\"}"),
			    "port t0 has vni=flow: say which VNI (vni=N)");
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-del\",\"mac\":\"02:00:00:00:00:08\",\"vni\":80}"), "ok");
	/* per-VNI flood lists: entries of the zero MAC, one per remote, saved as such */
	for (unsigned i = 0; i < 3; i++) {
		char req[160];

		snprintf(req, sizeof(req), "{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"00:00:00:00:00:00\",\"vni\":%u,"
			 "\"remote\":\"%s\"}", i < 2 ? 70 : 90, i == 0 ? "127.0.0.9" : i == 1 ? "127.0.0.2" : "127.0.0.3");
		assert_string_equal(ask(req), "ok");
	}
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-del\",\"mac\":\"00:00:00:00:00:00\",\"vni\":90,"
				"\"remote\":\"127.0.0.3\"}"),
			    "ok");
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-del\",\"mac\":\"00:00:00:00:00:00\",\"vni\":90}"),
			    "no entry for 00:00:00:00:00:00 in VNI 90 on t0");
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-del\",\"mac\":\"02:00:00:00:00:07\",\"vni\":70,"
				"\"remote\":\"127.0.0.9\"}"),
			    "remote= names a flood destination: only with MAC 00:00:00:00:00:00");
	/* remote=flow: saved as given, no static entry or flood list of its own */
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"t1\",\"type\":\"vxlan\",\"local\":\"127.0.0.44\","
				"\"remote\":\"flow\",\"vni\":\"flow\",\"dstport\":47894}"),
			    "ok");
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"02:00:00:00:00:09\",\"vni\":70,"
				"\"remote\":\"127.0.0.9\",\"port\":\"t1\"}"),
			    "port t1 has remote=flow: the flows choose the VTEP (set_field:IP->tun_dst)");
	text = slurp(path, NULL);
	if (!strstr(text, "\"tunnel_fdb\"") || !strstr(text, "\"02:00:00:00:00:07\"") || !strstr(text, "127.0.0.9") ||
	    strstr(text, "\"02:00:00:00:00:08\""))
		fail_msg("state file:\n%s", text);
	free(text);
	vswd_shutdown(&v);

	start("st4");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	p = atomic_load(&v.sw->ports[vswd_port_slot(&v, "t0")]);
	assert_int_equal(port_vxlan_fdb_dump(p, e, 4), 1);
	assert_true(e[0].is_static);
	assert_int_equal(e[0].vni, 70);
	assert_int_equal(e[0].mac[5], 7);
	assert_string_equal(port_vxlan_remote_str(p, e[0].remote), "127.0.0.9");
	assert_int_equal(port_vxlan_flood_dump(p, f, 4), 1);
	assert_int_equal(f[0].vni, 70);
	assert_int_equal(__builtin_popcount(f[0].remotes), 2);
	assert_true(f[0].remotes & 1u); /* 127.0.0.2: the port's first remote= */
	assert_string_equal(port_vxlan_remote_str(p, (unsigned)__builtin_ctz(f[0].remotes & ~1u)), "127.0.0.9");
	assert_int_equal(count_files("st4", "state.json.", false), 0);
	p = atomic_load(&v.sw->ports[vswd_port_slot(&v, "t1")]);
	p->ops->describe(p, desc, sizeof(desc));
	if (!strstr(desc, " remote flow "))
		fail_msg("t1 restored: %s", desc);
	vswd_shutdown(&v);
}

/* The file's checksum (state.c) over its "ports", "flows" and, when there, "tunnel_fdb" and "ofports", set in @o. */
static void seal(struct json_object *o)
{
	static const char *const keys[] = { "ports", "flows", "tunnel_fdb", "ofports", NULL };
	struct json_object *body = json_object_new_object(), *f;
	uint64_t h = 0xcbf29ce484222325ull;
	char sum[32];

	for (size_t i = 0; keys[i]; i++)
		if (json_object_object_get_ex(o, keys[i], &f))
			json_object_object_add(body, keys[i], json_object_get(f));
	for (const char *s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	     *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	json_object_put(body);
	snprintf(sum, sizeof(sum), "fnv1a64:%016llx", (unsigned long long)h);
	json_object_object_add(o, "checksum", json_object_new_string(sum));
}

/* State directory DIR/@sub holding @o, sealed, as its state.json; @o is put. */
static void put_state(const char *sub, struct json_object *o)
{
	char path[600];
	const char *text;

	seal(o);
	text = json_object_to_json_string(o);
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s/state.json", dir, sub);
	spit(path, text, strlen(text));
	json_object_put(o);
}

/*
 * A tunnel_fdb entry whose VNI is past 24 bits (a file edited, its
 * checksum made again) is not restored, and not as the VNI its low 32
 * bits make (2^32 + 70 is not VNI 70); the port and the other entries are.
 */
static void test_tunnel_fdb_vni_range(void **state)
{
	struct json_object *o, *arr;
	char err[256], path[256];
	struct vtep_entry e[4];
	const char *text;
	struct port *p;

	if (geteuid() != 0)
		fail_msg("a vxlan port needs root (a raw socket)");
	start("st11");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/st11/state.json", dir);
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"t0\",\"type\":\"vxlan\",\"local\":\"127.0.0.1\","
				"\"remote\":\"127.0.0.2\",\"vni\":\"flow\",\"dstport\":47896}"),
			    "ok");
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"02:00:00:00:00:07\",\"vni\":70,"
				"\"remote\":\"127.0.0.9\"}"),
			    "ok");
	assert_string_equal(ask("{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"02:00:00:00:00:08\",\"vni\":80,"
				"\"remote\":\"127.0.0.9\"}"),
			    "ok");
	vswd_shutdown(&v);

	o = json_object_from_file(path);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "tunnel_fdb", &arr) && json_object_array_length(arr) == 2);
	for (size_t i = 0; i < 2; i++) {
		struct json_object *x = json_object_array_get_idx(arr, i);

		if (json_object_get_int64(json_object_object_get(x, "vni")) == 70)
			json_object_object_add(x, "vni", json_object_new_int64((1ll << 32) + 70));
	}
	seal(o);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	spit(path, text, strlen(text));
	json_object_put(o);

	start("st11");
	vswd_state_restore(&v, err, sizeof(err));
	assert_int_equal(count_files("st11", "state.json.corrupt-", false), 0); /* the file itself is well formed */
	p = atomic_load(&v.sw->ports[vswd_port_slot(&v, "t0")]);
	assert_non_null(p);
	assert_int_equal(port_vxlan_fdb_dump(p, e, 4), 1);
	assert_int_equal(e[0].vni, 80);
	assert_int_equal(e[0].mac[5], 8);
	vswd_shutdown(&v);
}

/*
 * A restart while a deleted port's slot is kept for its name (ctl_ports.c,
 * "Slots and names"): state.json has the rules naming it and not the
 * port, so the restored rules keep a slot for the name again; `show`
 * lists it, a port added meanwhile takes another, and `port add` of the
 * name gets that number: the rules apply to it again.  The number is the
 * one before the restart (state.json's "ofports" records it).
 */
static void test_kept_slot_restart(void **state)
{
	char err[256], want[64];
	const char *t;
	int kept, before;

	start("st5");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_string_equal(ask(add_a), "ok");
	assert_string_equal(ask(add_b), "ok");
	assert_string_equal(ask(add_flow), "ok");
	assert_string_equal(ask("{\"cmd\":\"flow-add\",\"flow\":\"in_port=b,actions=output:a\"}"), "ok");
	kept = before = vswd_port_slot(&v, "b");
	assert_string_equal(ask("{\"cmd\":\"port-del\",\"name\":\"b\"}"), "ok");
	vswd_free_graveyard(&v);
	snprintf(want, sizeof(want), "b id=%d flows=2\n", kept);
	assert_string_equal(show_kept(), want);
	vswd_shutdown(&v);

	start("st5");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0); /* nothing failed: b was deleted, not lost */
	assert_int_equal(nports(), 1);
	assert_true(vswd_port_slot(&v, "b") < 0);
	assert_int_equal(flow_db_count(v.flows, FLOW_TABLE_ANY), 2);
	t = trace_of("in_port=a,tcp");
	if (!strstr(t, "Datapath actions: output:b (absent: a no_destination drop)"))
		fail_msg("trace from a after the restart, b deleted:\n%s", t);
	kept = vswd_port_slot_kept(&v, "b", false);
	assert_int_equal(kept, before);
	assert_true(kept != vswd_port_slot(&v, "a"));
	snprintf(want, sizeof(want), "b id=%d flows=2\n", kept);
	assert_string_equal(show_kept(), want);
	/* another port does not take it */
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"c\",\"type\":\"vhost-user\",\"path\":\"/c\"}"), "ok");
	assert_true(vswd_port_slot(&v, "c") != kept);
	assert_string_equal(show_kept(), want);
	/* b again: the number show gave, the rules match it again */
	assert_string_equal(ask(add_b), "ok");
	assert_int_equal(vswd_port_slot(&v, "b"), kept);
	assert_string_equal(show_kept(), "");
	t = trace_of("in_port=a,tcp");
	if (!strstr(t, "Datapath actions: output:b\n"))
		fail_msg("trace from a with b back:\n%s", t);
	t = trace_of("in_port=b,tcp");
	if (!strstr(t, "Datapath actions: output:a\n") || strstr(t, "absent"))
		fail_msg("trace from b back:\n%s", t);
	assert_int_equal(count_files("st5", "state.json.", false), 0);
	vswd_shutdown(&v);
}


/* The number state.json in DIR/@sub records for @name in "ofports"; -1: none. */
static int recorded(const char *sub, const char *name)
{
	struct json_object *o, *a;
	char path[256];
	int num = -1;

	snprintf(path, sizeof(path), "%s/%s/state.json", dir, sub);
	o = json_object_from_file(path);
	assert_non_null(o);
	if (json_object_object_get_ex(o, "ofports", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct json_object *e = json_object_array_get_idx(a, i);

			if (strcmp(json_object_get_string(json_object_object_get(e, "name")), name) == 0)
				num = json_object_get_int(json_object_object_get(e, "ofport"));
		}
	json_object_put(o);
	return num;
}

/* Add the config file ports @names (comma-separated, in that order) as vhost-user ports at "/cfg-NAME". */
static void add_config(const char *names)
{
	struct json_object *conf = json_object_new_object(), *ports = json_object_new_array();
	char buf[256], err[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", names);
	for (char *n = strtok_r(buf, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
		struct json_object *p = json_object_new_object();
		char path[64];

		snprintf(path, sizeof(path), "/cfg-%s", n);
		json_object_object_add(p, "name", json_object_new_string(n));
		json_object_object_add(p, "type", json_object_new_string("vhost-user"));
		json_object_object_add(p, "path", json_object_new_string(path));
		json_object_array_add(ports, p);
	}
	json_object_object_add(conf, "ports", ports);
	assert_int_equal(vswd_add_config_ports(&v, conf, err, sizeof(err)), 0);
	json_object_put(conf);
}

/*
 * Port numbers survive a restart (issue 14, OVS parity: a port's ofport
 * is stored and given back).  The config's ports, vswctl's, one asked
 * with ofport_request and a deleted one whose flows keep its number: a
 * flow written with numbers; after a restart whose config lists its ports
 * in the other order, every port and kept name has its number back
 * (vswd_state_load gives them before any port is added, as vswd does),
 * and the flow still goes from the same port to the same port.  A port
 * gone from the config keeps its number for its flows: a new port does
 * not take it.  Without "ofports", the reversed config swaps x and y.
 */
static void test_numbers_survive_restart(void **state)
{
	char err[256], flow[128];
	int x, y, a, b, c;
	const char *t;

	start("st6");
	add_config("x,y");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	/* written at start: the config's ports have numbers to keep */
	assert_int_equal(recorded("st6", "x"), 1); /* numbers start at 1, as in Open vSwitch */
	assert_int_equal(recorded("st6", "y"), 2);
	assert_string_equal(ask(add_a), "ok");
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"b\",\"type\":\"vhost-user\",\"path\":\"/b\","
				"\"ofport_request\":20}"), "ok");
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"c\",\"type\":\"vhost-user\",\"path\":\"/c\"}"), "ok");
	x = vswd_port_slot(&v, "x");
	y = vswd_port_slot(&v, "y");
	a = vswd_port_slot(&v, "a");
	b = vswd_port_slot(&v, "b");
	c = vswd_port_slot(&v, "c");
	assert_int_equal(b, 20);
	snprintf(flow, sizeof(flow), "{\"cmd\":\"flow-add\",\"flow\":\"in_port=%d,tcp,actions=output:%d\"}", x, a);
	assert_string_equal(ask(flow), "ok");
	assert_string_equal(ask("{\"cmd\":\"flow-add\",\"flow\":\"in_port=c,actions=output:y\"}"), "ok");
	assert_string_equal(ask("{\"cmd\":\"port-del\",\"name\":\"c\"}"), "ok");
	vswd_free_graveyard(&v);
	assert_int_equal(recorded("st6", "c"), c); /* deleted, named by a flow */
	assert_int_equal(recorded("st6", "b"), 20);
	vswd_shutdown(&v);

	/* the config's ports in the other order; the state's come after them */
	start("st6");
	assert_int_equal(vswd_state_load(&v, err, sizeof(err)), 0);
	add_config("y,x");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "x"), x);
	assert_int_equal(vswd_port_slot(&v, "y"), y);
	assert_int_equal(vswd_port_slot(&v, "a"), a);
	assert_int_equal(vswd_port_slot(&v, "b"), 20);
	assert_int_equal(vswd_port_slot_kept(&v, "c", false), c);
	t = trace_of("in_port=x,tcp");
	if (!strstr(t, "Datapath actions: output:a\n"))
		fail_msg("trace from x after the restart:\n%s", t);
	snprintf(flow, sizeof(flow), "{\"cmd\":\"flow-add\",\"flow\":\"in_port=%d,udp,actions=output:%d\"}", y, x);
	assert_string_equal(ask(flow), "ok"); /* numbers from before the restart still mean the same ports */
	t = trace_of("in_port=y,udp");
	if (!strstr(t, "Datapath actions: output:x\n"))
		fail_msg("trace from y with the old numbers:\n%s", t);
	vswd_shutdown(&v);

	/* x gone from the config: its number stays its flows', a new port takes another */
	start("st6");
	assert_int_equal(vswd_state_load(&v, err, sizeof(err)), 0);
	add_config("y");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "y"), y);
	assert_int_equal(vswd_port_slot(&v, "a"), a);
	assert_int_equal(vswd_port_slot_kept(&v, "x", false), x);
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"z\",\"type\":\"vhost-user\",\"path\":\"/z\"}"), "ok");
	assert_true(vswd_port_slot(&v, "z") != x && vswd_port_slot(&v, "z") != c);
	assert_int_equal(count_files("st6", "state.json.", false), 0);
	vswd_shutdown(&v);
}

/*
 * A file written before "ofports" (none in it, the checksum of the rest)
 * loads as then: the ports numbered in the order they come, the flows
 * back; the file is rewritten with the numbers.
 */
static void test_numbers_old_format(void **state)
{
	struct json_object *o = json_tokener_parse(
		"{\"format\":\"vsw-state\",\"version\":1,\"ports\":[{\"name\":\"a\",\"type\":\"vhost-user\",\"path\":\"/a\"},"
		"{\"name\":\"b\",\"type\":\"vhost-user\",\"path\":\"/b\"}],\"flows\":[\"in_port=a actions=output:b\"]}");
	char err[256], path[256];
	const char *text;

	assert_non_null(o);
	seal(o);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	snprintf(path, sizeof(path), "%s/st7", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/st7/state.json", dir);
	spit(path, text, strlen(text));
	json_object_put(o);
	start("st7");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "a"), 1);
	assert_int_equal(vswd_port_slot(&v, "b"), 2);
	assert_int_equal(flow_db_count(v.flows, FLOW_TABLE_ANY), 1);
	assert_int_equal(count_files("st7", "state.json.", false), 0);
	assert_int_equal(recorded("st7", "a"), 1); /* rewritten with the numbers */
	assert_int_equal(recorded("st7", "b"), 2);
	vswd_shutdown(&v);
}

/*
 * "ofports" are untrusted like the rest: a number out of OpenFlow's
 * range or not a number, a name that is not a port name, a number given
 * twice, a name given two: the file is refused whole (moved aside, one
 * log line, nothing applied), sealed with a right checksum or not.  A
 * number past this switch's slots, or one the config's port already
 * holds, is left out with a log line and the rest applied.
 */
static void test_numbers_hostile(void **state)
{
	static const char *const refused[] = {
		"[{\"name\":\"a\",\"ofport\":65280}]",
		"[{\"name\":\"a\",\"ofport\":-1}]",
		"[{\"name\":\"a\",\"ofport\":1},{\"name\":\"b\",\"ofport\":1}]",
		"[{\"name\":\"a\",\"ofport\":1},{\"name\":\"b\",\"ofport\":0},{\"name\":\"a\",\"ofport\":2}]",
		"[{\"name\":\"a,b\",\"ofport\":1}]",
		"[{\"name\":\"\",\"ofport\":1}]",
		"[{\"name\":\"a\",\"ofport\":\"1\"}]",
		"[{\"name\":\"a\",\"ofport\":1.5}]",
		"[{\"name\":\"a\",\"ofport\":1,\"x\":2}]",
		"[{\"name\":\"a\"}]",
		"[5]",
		"{\"a\":1}",
	};
	char err[512], sub[16];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct json_object *o = json_tokener_parse(
			"{\"format\":\"vsw-state\",\"version\":1,\"ports\":[{\"name\":\"a\",\"type\":\"vhost-user\","
			"\"path\":\"/a\"},{\"name\":\"b\",\"type\":\"vhost-user\",\"path\":\"/b\"}],\"flows\":[]}");

		json_object_object_add(o, "ofports", json_tokener_parse(refused[i]));
		snprintf(sub, sizeof(sub), "st8-%zu", i);
		put_state(sub, o);
		start(sub);
		err[0] = '\0';
		if (vswd_state_restore(&v, err, sizeof(err)) != -1 || nports() != 0 ||
		    count_files(sub, "state.json.corrupt-", false) != 1 || !strstr(err, "ofports"))
			fail_msg("ofports %s: accepted (%u ports) or not said: %s", refused[i], nports(), err);
		vswd_shutdown(&v);
	}

	/* past the slots, the config's number, a name with no port: logged, left out or kept; the rest applied */
	{
		struct json_object *o = json_tokener_parse(
			"{\"format\":\"vsw-state\",\"version\":1,\"ports\":[{\"name\":\"a\",\"type\":\"vhost-user\","
			"\"path\":\"/a\"},{\"name\":\"b\",\"type\":\"vhost-user\",\"path\":\"/b\"}],\"flows\":[],"
			"\"ofports\":[{\"name\":\"a\",\"ofport\":1},{\"name\":\"b\",\"ofport\":5000},"
			"{\"name\":\"ghost\",\"ofport\":2}]}");

		put_state("st9", o);
		start("st9");
		add_config("cfg"); /* number 1 before the file is read: a's is taken */
		assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
		assert_int_equal(nports(), 3);
		assert_int_equal(vswd_port_slot(&v, "cfg"), 1);
		assert_int_equal(vswd_port_slot_kept(&v, "ghost", false), 2); /* a name with no port: kept, as a deleted one */
		assert_true(vswd_port_slot(&v, "a") > 1 && vswd_port_slot(&v, "a") != 2);
		assert_true(vswd_port_slot(&v, "b") > 0 && vswd_port_slot(&v, "b") < PORT_MAX && vswd_port_slot(&v, "b") != 2);
		assert_int_equal(count_files("st9", "state.json.corrupt-", false), 0);
		vswd_shutdown(&v);
	}
}

/* A SIGHUP reload that adds a config port saves its number at once (the next start gives it back). */
static void test_reload_saves_numbers(void **state)
{
	struct json_object *old = json_tokener_parse("{\"ports\":[{\"name\":\"x\",\"type\":\"vhost-user\","
						     "\"path\":\"/cfg-x\"}]}"), *new;
	char err[256];

	start("st10");
	assert_int_equal(vswd_add_config_ports(&v, old, err, sizeof(err)), 0);
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_int_equal(recorded("st10", "x"), 1);
	new = json_tokener_parse("{\"ports\":[{\"name\":\"w\",\"type\":\"vhost-user\",\"path\":\"/cfg-w\","
				 "\"ofport_request\":9},{\"name\":\"x\",\"type\":\"vhost-user\",\"path\":\"/cfg-x\"}]}");
	assert_int_equal(vswd_reload_ports(&v, old, new, err, sizeof(err)), 0);
	assert_int_equal(recorded("st10", "w"), 9);
	assert_int_equal(recorded("st10", "x"), 1);
	json_object_put(old);
	json_object_put(new);
	vswd_shutdown(&v);
}

/*
 * vswd starts in four steps (tools/vswd.c): the state loaded, the
 * config's ports, the flows file, the state restored.  Loading the flows
 * file commits them, and a commit saves the state: between the steps, the
 * file on disk must stay the one loaded, or a stop before the restore
 * (a crash, a kill, a config port that fails) leaves a state.json with
 * only the config's ports, and the next start has lost every port vswctl
 * added (and their flows, replaced by the flows file's).
 */
static void test_no_save_before_restore(void **state)
{
	char err[256], path[256];
	char *before, *after;
	size_t len_before, len_after;
	int a;

	snprintf(flows_file, sizeof(flows_file), "%s/st12-flows", dir);
	start("st12");
	add_config("x");
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_string_equal(ask(add_a), "ok");
	assert_string_equal(ask("{\"cmd\":\"flow-add\",\"flow\":\"in_port=a,actions=output:x\"}"), "ok");
	a = vswd_port_slot(&v, "a");
	vswd_shutdown(&v);

	snprintf(path, sizeof(path), "%s/st12/state.json", dir);
	before = slurp(path, &len_before);
	start("st12");
	assert_int_equal(vswd_state_load(&v, err, sizeof(err)), 0);
	add_config("x");
	assert_int_equal(vswd_flows_load(&v, err, sizeof(err)), 0);
	after = slurp(path, &len_after);
	if (len_before != len_after || memcmp(before, after, len_before) != 0)
		fail_msg("state.json rewritten before the restore:\n%s", after);
	free(before);
	free(after);
	vswd_shutdown(&v); /* stopped before the restore */

	start("st12");
	assert_int_equal(vswd_state_load(&v, err, sizeof(err)), 0);
	add_config("x");
	assert_int_equal(vswd_flows_load(&v, err, sizeof(err)), 0);
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "a"), a);
	assert_int_equal(recorded("st12", "a"), a); /* the restore's save, once done */
	vswd_shutdown(&v);
	flows_file[0] = '\0';
}

/*
 * Every slot named at start (a state whose ports and the names its rules
 * use hold all 4,095 numbers, 1 to 4095): a new config port finds no slot.  The
 * names kept for the state's rules and ports are not forgettable then,
 * whatever a count of the rules says: the state's flows and ports come
 * after the config's ports (ctl_ports.c: "nothing may be forgotten
 * meanwhile").  Forgetting them gave the new port number 0 and every
 * restored name another number than the one recorded.
 */
static void test_full_slots_at_start(void **state)
{
	struct json_object *o = json_tokener_parse(
		"{\"format\":\"vsw-state\",\"version\":1,\"ports\":[{\"name\":\"s\",\"type\":\"vhost-user\",\"path\":\"/s\"}]}");
	struct json_object *flows = json_object_new_array(), *ofports = json_object_new_array(), *e, *conf;
	char err[256], line[64];

	for (int i = PORT_FIRST; i < PORT_MAX - 1; i++) {
		snprintf(line, sizeof(line), "in_port=k%d actions=drop", i);
		json_object_array_add(flows, json_object_new_string(line));
		snprintf(line, sizeof(line), "k%d", i);
		e = json_object_new_object();
		json_object_object_add(e, "name", json_object_new_string(line));
		json_object_object_add(e, "ofport", json_object_new_int(i));
		json_object_array_add(ofports, e);
	}
	e = json_object_new_object();
	json_object_object_add(e, "name", json_object_new_string("s"));
	json_object_object_add(e, "ofport", json_object_new_int(PORT_MAX - 1));
	json_object_array_add(ofports, e);
	json_object_object_add(o, "flows", flows);
	json_object_object_add(o, "ofports", ofports);
	put_state("st13", o);

	start("st13");
	assert_int_equal(vswd_state_load(&v, err, sizeof(err)), 0);
	conf = json_tokener_parse("{\"ports\":[{\"name\":\"new\",\"type\":\"vhost-user\",\"path\":\"/new\"}]}");
	if (vswd_add_config_ports(&v, conf, err, sizeof(err)) == 0)
		fail_msg("a new config port took number %d of a full switch at start", vswd_port_slot(&v, "new"));
	assert_non_null(strstr(err, "recorded in the state file"));
	json_object_put(conf);
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "s"), PORT_MAX - 1);
	assert_int_equal(vswd_port_slot_kept(&v, "k1", false), 1);
	assert_int_equal(vswd_port_slot_kept(&v, "k1234", false), 1234);
	assert_int_equal(flow_db_count(v.flows, FLOW_TABLE_ANY), PORT_MAX - 1 - PORT_FIRST);
	vswd_shutdown(&v);
}

/*
 * The config and the state disagree: the config's port a asks for
 * number 3, which the state file recorded for its port b.  The recorded
 * number is given back first (docs/FLOWS.md), so a gets another, and the
 * log line says why in words that are true: 3 is recorded for b, which
 * no flow names (not "kept for the flows of b").
 */
static void test_request_vs_recorded(void **state)
{
	struct json_object *o = json_tokener_parse(
		"{\"format\":\"vsw-state\",\"version\":1,\"ports\":[{\"name\":\"b\",\"type\":\"vhost-user\",\"path\":\"/b\"}],"
		"\"flows\":[],\"ofports\":[{\"name\":\"b\",\"ofport\":3}]}"), *conf;
	char err[256], logpath[256], *log;
	int saved = dup(2), logfd;

	put_state("st14", o);

	start("st14");
	assert_int_equal(vswd_state_load(&v, err, sizeof(err)), 0);
	conf = json_tokener_parse("{\"ports\":[{\"name\":\"a\",\"type\":\"vhost-user\",\"path\":\"/a\","
				  "\"ofport_request\":3}]}");
	snprintf(logpath, sizeof(logpath), "%s/st14.log", dir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fflush(stderr);
	dup2(logfd, 2);
	assert_int_equal(vswd_add_config_ports(&v, conf, err, sizeof(err)), 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(logfd);
	json_object_put(conf);
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "b"), 3);
	assert_int_equal(vswd_port_slot(&v, "a"), 1);
	log = slurp(logpath, NULL);
	if (!strstr(log, "port a: ofport_request=3 not given: number 3 is recorded in the state file for b; it gets 1"))
		fail_msg("log:\n%s", log);
	free(log);
	vswd_shutdown(&v);
}

/* vswd_state_restore() with vswd's log (stderr) going to @logpath, written anew; its return. */
static int restore_logged(const char *logpath, char *err, size_t errlen)
{
	int saved, logfd, rc;

	fflush(stderr);
	saved = dup(2);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && logfd >= 0);
	dup2(logfd, 2);
	rc = vswd_state_restore(&v, err, errlen);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(logfd);
	return rc;
}

/*
 * A state file as a vswd before numbers started at 1 wrote it (issue 14):
 * its first port a at number 0, b at 1 with the ofport_request=0 it was
 * refused then, c deleted and kept at 2 for a rule, flows by name.  It
 * loads, is not set aside: a gets the first number free after the
 * others (3, not 1 or 2: those are b's and c's), with one log line
 * naming it, 0 and 3, and what to rewrite; b's request is dropped with a
 * log line and b keeps 1; the flows follow a by name; the file is
 * rewritten with a at 3 and no ofport_request=0.  A second start gives
 * the same numbers, silently.
 */
static void test_numbers_zero_upgrade(void **state)
{
	struct json_object *o = json_tokener_parse(
		"{\"format\":\"vsw-state\",\"version\":1,\"ports\":[{\"name\":\"a\",\"type\":\"vhost-user\",\"path\":\"/a\"},"
		"{\"name\":\"b\",\"ofport_request\":0,\"path\":\"/b\",\"type\":\"vhost-user\"}],"
		"\"flows\":[\"priority=5,in_port=a actions=output:b\",\"priority=6,in_port=c actions=output:a\"],"
		"\"ofports\":[{\"name\":\"a\",\"ofport\":0},{\"name\":\"b\",\"ofport\":1},{\"name\":\"c\",\"ofport\":2}]}");
	char err[256], path[256], logpath[256], *log, *file;

	assert_non_null(o);
	put_state("st15", o);
	snprintf(path, sizeof(path), "%s/st15/state.json", dir);	/* read again after the upgrade */

	start("st15");
	snprintf(logpath, sizeof(logpath), "%s/st15.log", dir);
	assert_int_equal(restore_logged(logpath, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "a"), 3);
	assert_int_equal(vswd_port_slot(&v, "b"), 1);
	assert_int_equal(vswd_port_slot_kept(&v, "c", false), 2);
	assert_null(atomic_load(&v.sw->ports[0]));
	assert_int_equal(v.sw->sp[1].cfg.has_ofport_request, false);
	assert_int_equal(flow_db_count(v.flows, FLOW_TABLE_ANY), 2);
	if (!strstr(trace_of("in_port=a,tcp"), "Datapath actions: output:b\n"))
		fail_msg("trace from a after the upgrade:\n%s", trace_of("in_port=a,tcp"));
	log = slurp(logpath, NULL);
	if (!strstr(log, "port a: number 0 -> 3: 0 is OpenFlow's reserved port now (numbers start at 1, as in Open "
			 "vSwitch); the saved flows name it and follow it, but rules and scripts kept elsewhere that say "
			 "in_port=0 or output:0 must be rewritten to 3") ||
	    !strstr(log, "port b: ofport_request=0 dropped") || strstr(log, "corrupt") || strstr(log, "not restored"))
		fail_msg("log:\n%s", log);
	free(log);
	assert_int_equal(count_files("st15", "state.json.", false), 0);
	assert_int_equal(recorded("st15", "a"), 3);
	assert_int_equal(recorded("st15", "b"), 1);
	assert_int_equal(recorded("st15", "c"), 2);
	file = slurp(path, NULL);
	if (strstr(file, "ofport_request"))
		fail_msg("rewritten with the request of 0:\n%s", file);
	free(file);
	vswd_shutdown(&v);

	/* the rewritten file: the same numbers, nothing to say about 0 */
	start("st15");
	assert_int_equal(restore_logged(logpath, err, sizeof(err)), 0);
	assert_int_equal(vswd_port_slot(&v, "a"), 3);
	assert_int_equal(vswd_port_slot(&v, "b"), 1);
	assert_int_equal(vswd_port_slot_kept(&v, "c", false), 2);
	log = slurp(logpath, NULL);
	if (strstr(log, "number 0") || strstr(log, "ofport_request=0"))
		fail_msg("log of the second start:\n%s", log);
	free(log);
	vswd_shutdown(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_conflicts_and_failures),
		cmocka_unit_test(test_corrupt_never_partial),
		cmocka_unit_test(test_tunnel_fdb),
		cmocka_unit_test(test_tunnel_fdb_vni_range),
		cmocka_unit_test(test_kept_slot_restart),
		cmocka_unit_test(test_numbers_survive_restart),
		cmocka_unit_test(test_numbers_old_format),
		cmocka_unit_test(test_numbers_hostile),
		cmocka_unit_test(test_reload_saves_numbers),
		cmocka_unit_test(test_no_save_before_restore),
		cmocka_unit_test(test_full_slots_at_start),
		cmocka_unit_test(test_request_vs_recorded),
		cmocka_unit_test(test_numbers_zero_upgrade),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
