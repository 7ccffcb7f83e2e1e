/* test_state_fdb.c - vswd's state file under many tunnel fdb adds: each one on disk when its reply says ok, the cost of 2,000 timed. */

/*
 * The state's guarantee (docs/VSWD.md, "State directory" and "Crash-safe
 * and graceful restart"): a change whose reply is "ok" is in state.json
 * already (fsync'd, renamed), so a kill -9 right after the reply loses
 * nothing acknowledged, and a save that fails makes the reply an error.
 * So the file is written once per change, and n adds write O(n^2) bytes:
 * the loop below is timed and printed (no assertion on the time; a
 * regression shows in the numbers), and the file is read back at some
 * of the replies to check the entry is there the moment the reply is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/ctl_ask.h"
#include "ctl/daemon.h"
#include "port/port_vxlan.h"

#define ADDS 2000

static char dir[64];
static struct vswd v;

static int setup_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vsw-test-state-fdb.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct port *hook(const char *name, const char *type, struct json_object *params, const struct port_env *env,
			 char *err, size_t errlen)
{
	return port_vxlan_create(name, params, env, err, errlen);
}

static const char *ask(const char *json)
{
	static char out[512];

	return ctl_ask_text(&v, json, out, sizeof(out));
}

/* Does the state file hold @text? */
static bool saved(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 20];
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_adds_saved_each(void **state)
{
	struct vswd_config cfg;
	char err[256], path[256], req[256], vni[32];
	struct stat st;
	double t0, t;

	if (geteuid() != 0)
		fail_msg("a vxlan port needs root (a raw socket)");
	vswd_config_default(&cfg);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/st", dir);
	assert_int_equal(vswd_init(&v, &cfg, err, sizeof(err)), 0);
	v.create_hook = hook;
	assert_int_equal(vswd_state_restore(&v, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/st/state.json", dir);
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"t0\",\"type\":\"vxlan\",\"local\":\"127.0.0.1\","
				"\"remote\":\"127.0.0.2\",\"vni\":\"flow\",\"dstport\":47895}"),
			    "ok");
	assert_string_equal(ask("{\"cmd\":\"port-add\",\"name\":\"t1\",\"type\":\"vxlan\",\"local\":\"127.0.0.11\","
				"\"remote\":\"127.0.0.2\",\"vni\":\"flow\",\"dstport\":47895}"),
			    "ok");
	/*
	 * Per-VNI flood destinations (1,000 VNIs a port, of the 1,024 a port
	 * takes): every add fits whatever the hash; static MACs would meet a
	 * bucket full of static entries now and then (4 ways, 2,048 buckets).
	 * Each is one entry of the file, as a static MAC.
	 */
	t0 = now_s();
	for (unsigned i = 0; i < ADDS; i++) {
		snprintf(req, sizeof(req), "{\"cmd\":\"tunnel-fdb-add\",\"mac\":\"00:00:00:00:00:00\",\"vni\":%u,"
			 "\"remote\":\"127.0.0.%u\",\"port\":\"t%u\"}", 10000 + i, 3 + i % 8, i % 2);
		assert_string_equal(ask(req), "ok");
		/* the reply's "ok" means on disk: read back at a few of them (reading each would time the reads) */
		snprintf(vni, sizeof(vni), "\"vni\": %u,", 10000 + i);
		if (i % 250 == 249 && !saved(path, vni))
			fail_msg("add %u answered ok, %s not in %s", i, vni, path);
	}
	t = now_s() - t0;
	assert_int_equal(stat(path, &st), 0);
	printf("# %u tunnel fdb adds: %.2f s (%.2f ms each), the state file %lld bytes at the end, ~%lld MB written\n",
	       ADDS, t, t * 1e3 / ADDS, (long long)st.st_size, (long long)st.st_size * ADDS / 2 / 1000000);
	vswd_shutdown(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adds_saved_each),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
