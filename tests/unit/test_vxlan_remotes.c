/* test_vxlan_remotes.c - unit tests of a vxlan port's remote VTEPs: addresses that can never be one refused, remotes freed when nothing names them. */

/*
 * Refused (tunnel fdb add remote=, and the port's remote= list at create
 * or config load): the unspecified address, the limited broadcast, a
 * multicast address (vsw has no multicast-group port) and the port's own
 * local= (a loop), each with a reply that names the address and why;
 * loopback addresses other than local= stay accepted.
 *
 * Freed: a static remote (not of remote=) that no entry and no per-VNI
 * flood list names any more leaves the port's remotes, so the port takes
 * new ones after many adds and deletes, not only its first 32.
 *
 * Over loopback, as root (the port's raw socket).
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vxlan_fx.h"
#include "port/vtep.h"

static void need_root(void)
{
	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
}

/* tunnel fdb add of @mac (last byte; 0: the zero MAC, a flood destination) at @remote on @p is refused, and says @what. */
static void refused(struct port *p, uint8_t mac, const char *remote, const char *what)
{
	const uint8_t m[6] = { 0x02, 0, 0, 0, 0, mac };
	const uint8_t zero[6] = { 0 };
	char err[256] = "";

	assert_int_equal(port_vxlan_fdb_add(p, mac ? m : zero, 4242, remote, err, sizeof(err)), -EINVAL);
	if (!strstr(err, remote) || !strstr(err, what))
		fail_msg("remote=%s: the reply \"%s\" does not say \"%s\"", remote, err, what);
}

static void test_fdb_remote_refused(void **state)
{
	const uint8_t m[6] = { 0x02, 0, 0, 0, 0, 0x31 }, zero[6] = { 0 };
	struct port *p;
	char err[256] = "";

	need_root();
	p = vx_named("p", "127.0.0.61", "127.0.0.62", "4242");
	refused(p, 0x31, "0.0.0.0", "unspecified");
	refused(p, 0x31, "255.255.255.255", "broadcast");
	refused(p, 0x31, "239.1.1.1", "multicast");
	refused(p, 0x31, "224.0.0.1", "multicast");
	refused(p, 0, "239.1.1.1", "multicast");
	refused(p, 0x31, "127.0.0.61", "local");
	refused(p, 0, "127.0.0.61", "local");
	/* nothing of them stays: no remote was made, the table is empty */
	assert_int_equal(type_stat(p, "remotes"), 1);
	assert_int_equal(type_stat(p, "fdb_static_entries"), 0);
	/* loopback VTEPs other than local= are fine (the tests' own), and the last of 223/8 */
	assert_int_equal(port_vxlan_fdb_add(p, m, 4242, "127.0.0.63", err, sizeof(err)), 0);
	assert_int_equal(port_vxlan_fdb_add(p, zero, 4242, "223.255.255.254", err, sizeof(err)), 0);
	p->ops->destroy(p);
}

static void test_port_remote_refused(void **state)
{
	static const struct {
		const char *local, *remote, *what;
	} bad[] = {
		{ "127.0.0.61", "127.0.0.62,0.0.0.0", "unspecified" },
		{ "127.0.0.61", "255.255.255.255", "broadcast" },
		{ "127.0.0.61", "127.0.0.62,239.0.0.9", "multicast" },
		{ "127.0.0.61", "127.0.0.61", "local" },
		{ "::1", "::", "unspecified" },
		{ "::1", "ff02::1", "multicast" },
		{ "::1", "::1", "local" },
	};
	struct port *p;
	char err[256];

	need_root();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		p = vx_try("p", bad[i].local, bad[i].remote, "vni", "4242", err, sizeof(err));
		if (p)
			fail_msg("remote=%s on local=%s: accepted", bad[i].remote, bad[i].local);
		if (!strstr(err, bad[i].what))
			fail_msg("remote=%s: the reply \"%s\" does not say \"%s\"", bad[i].remote, err, bad[i].what);
	}
	/* loopback remotes stay good */
	p = vx_named("p", "127.0.0.61", "127.0.0.62,127.0.0.63", "4242");
	p->ops->destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdb_remote_refused),
		cmocka_unit_test(test_port_remote_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
