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

/*
 * A 64-byte frame from MAC 02:..:@src out of @p, alone in its burst: a
 * broadcast (@bcast, to its flood list), else to 02:..:01.
 */
static void send_frame(struct port *p, bool bcast, uint8_t src)
{
	struct pkt *pk = zalloc64(sizeof(*pk));
	struct port_io io = { 0 };
	uint8_t buf[64] = { 0 };
	struct iovec iov = { buf, sizeof(buf) };

	if (bcast) {
		memset(buf, 0xff, 6);
	} else {
		buf[0] = 0x02;
		buf[5] = 0x01;
	}
	buf[6] = 0x02;
	buf[11] = src;
	buf[12] = 0x88;
	buf[13] = 0xb5;
	pkt_rx_init(pk, &iov, 1, sizeof(buf), 0);
	pkt_load(pk);
	p->ops->tx_burst(p, &io, &pk, 1);
	free(pk);
}

/* The entries of @p's table at remote @remote. */
static unsigned entries_at(struct port *p, const char *remote)
{
	struct vtep_entry *e = malloc(64 * sizeof(*e));
	unsigned n = port_vxlan_fdb_dump(p, e, 64), k = 0;

	for (unsigned i = 0; i < n; i++)
		k += strcmp(port_vxlan_remote_str(p, e[i].remote), remote) == 0;
	free(e);
	return k;
}

/*
 * Rounds of 31 static remotes (the 32nd of the port is remote=), each
 * round's deleted before the next: every round fits (on main the second
 * was refused: remotes were never freed).  A datagram from a remote whose
 * entry went is refused (`remote`), and the MAC learned behind it is
 * forgotten: when its slot is reused, that MAC does not point at the
 * new owner.
 */
static void test_remotes_reused(void **state)
{
	struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct port *a, *x;
	char err[256] = "", ip[32];
	uint8_t m[6] = { 0x02, 0, 0, 0, 0, 0 };

	need_root();
	a = vx_named("a", "127.0.0.61", "127.0.0.62", "4242");
	x = vx_named("x", "127.0.1.1", "127.0.0.61", "4242");
	/* round 0's first remote is x: a learns x's MAC ..:99 behind it */
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 1; i <= 31; i++) {
			snprintf(ip, sizeof(ip), "127.0.%u.%u", round + 1, i);
			m[4] = (uint8_t)round;
			m[5] = (uint8_t)i;
			if (port_vxlan_fdb_add(a, m, 4242, ip, err, sizeof(err)) < 0)
				fail_msg("round %u, remote %s: %s", round, ip, err);
		}
		assert_int_equal(type_stat(a, "remotes"), 32);
		snprintf(ip, sizeof(ip), "127.0.%u.32", round + 1);
		assert_int_equal(port_vxlan_fdb_add(a, (const uint8_t[6]){ 2, 0, 0, 0, 9, 9 }, 4242, ip, err, sizeof(err)),
				 -ENOSPC);
		if (round == 0) {
			send_frame(x, true, 0x99);
			assert_int_equal(rx_wait(a, rx), 1);
			assert_int_equal(entries_at(a, "127.0.1.1"), 2);	/* the static ..:00:01 and the learned ..:99 */
		}
		for (unsigned i = 1; i <= 31; i++) {
			m[4] = (uint8_t)round;
			m[5] = (uint8_t)i;
			assert_int_equal(port_vxlan_fdb_del(a, m, 4242, NULL), 0);
		}
		assert_int_equal(type_stat(a, "remotes"), 1);
		assert_int_equal(type_stat(a, "fdb_learned_entries"), 0);
		if (round == 0) {
			/* x is no VTEP of a's now */
			send_frame(x, true, 0x99);
			assert_int_equal(rx_wait(a, rx), 0);
			assert_int_equal(type_stat(a, "rx_bad_remote"), 1);
		}
	}
	/* x's slot was reused by 127.0.2.1 and then 127.0.3.1: the ..:99 learned there points at neither */
	assert_int_equal(port_vxlan_fdb_dump(a, (struct vtep_entry[4]){ 0 }, 4), 0);
	x->ops->destroy(x);
	a->ops->destroy(a);
	free(rx);
}

/* Frames of @p's queue 0 to destination MAC 02:..:@mac, until @want of them or 1 s of none; every one of them must be. */
static unsigned rx_count(struct port *p, uint8_t mac, unsigned want)
{
	struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));
	unsigned got = 0, n;

	while (got < want && (n = rx_wait(p, rx)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *h;

			pkt_load(&rx[i]);
			h = pkt_head(&rx[i]);
			if (h[5] != mac)
				fail_msg("a frame to 02:..:%02x came out of the VTEP of 02:..:%02x", h[5], mac);
		}
		got += n;
	}
	free(rx);
	return got;
}

/*
 * One burst to three destinations: MACs 0x0a and 0x0b known behind their
 * own remotes (127.0.0.73, .74), 0x0c unknown and flooded to the port's
 * remote= list (.72 and .75: two copies).  Each frame reaches its own
 * VTEP and no other, whether its destination changed from the frame
 * before's (a lookup again) and whatever came before it in the burst (a
 * flooded frame amid known ones).  A burst of one frame, as most tests
 * send, cannot tell a remote looked up per frame from one kept from the
 * frame before.  No two frames to one MAC side by side but the last two:
 * the port has UDP GSO (csum=on), and a run of one flow takes that way.
 */
static void test_burst_remotes(void **state)
{
	static const uint8_t dst[] = { 0x0a, 0x0b, 0x0a, 0x0b, 0x0c, 0x0b, 0x0a, 0x0a };
	const uint8_t ma[6] = { 0x02, 0, 0, 0, 0, 0x0a }, mb[6] = { 0x02, 0, 0, 0, 0, 0x0b };
	struct pkt *pk = zalloc64(PKT_BURST * sizeof(*pk)), *list[sizeof(dst)];
	uint8_t buf[sizeof(dst)][64];
	struct iovec iov[sizeof(dst)];
	struct port_io io = { 0 };
	struct port *p, *r72, *r73, *r74, *r75;
	char err[256] = "";

	need_root();
	p = vx_named("p", "127.0.0.71", "127.0.0.72,127.0.0.75", "4242");
	r72 = vx_named("r72", "127.0.0.72", "127.0.0.71", "4242");
	r73 = vx_named("r73", "127.0.0.73", "127.0.0.71", "4242");
	r74 = vx_named("r74", "127.0.0.74", "127.0.0.71", "4242");
	r75 = vx_named("r75", "127.0.0.75", "127.0.0.71", "4242");
	assert_int_equal(port_vxlan_fdb_add(p, ma, 4242, "127.0.0.73", err, sizeof(err)), 0);
	assert_int_equal(port_vxlan_fdb_add(p, mb, 4242, "127.0.0.74", err, sizeof(err)), 0);
	for (unsigned i = 0; i < sizeof(dst); i++) {
		memset(buf[i], 0, sizeof(buf[i]));
		buf[i][0] = 0x02;
		buf[i][5] = dst[i];
		buf[i][6] = 0x02;
		buf[i][11] = 0x01;
		buf[i][12] = 0x88;
		buf[i][13] = 0xb5;
		buf[i][14] = (uint8_t)i;
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		pkt_rx_init(&pk[i], &iov[i], 1, sizeof(buf[i]), 0);
		pkt_load(&pk[i]);
		list[i] = &pk[i];
	}
	p->ops->tx_burst(p, &io, list, sizeof(dst));
	assert_int_equal(rx_count(r73, 0x0a, 5), 4);
	assert_int_equal(rx_count(r74, 0x0b, 4), 3);
	assert_int_equal(rx_count(r72, 0x0c, 2), 1);
	assert_int_equal(rx_count(r75, 0x0c, 2), 1);
	r75->ops->destroy(r75);
	r74->ops->destroy(r74);
	r73->ops->destroy(r73);
	r72->ops->destroy(r72);
	p->ops->destroy(p);
	free(pk);
}

/*
 * One receive burst of datagrams from three hosts: 127.0.0.81 and .82
 * are the port's remotes, .83 is not.  Each datagram is checked against
 * its own source, not the one before's: .83's is a `remote` drop between
 * two of .81's, and every frame that comes out carries as tun_src the VTEP
 * it came from (its inner source MAC's last byte says which).
 */
static void test_rx_burst_remotes(void **state)
{
	static const uint8_t from[] = { 0x81, 0x81, 0x83, 0x82, 0x81 };
	struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct port *p, *s[3];
	unsigned n;

	need_root();
	p = vx_named("p", "127.0.0.91", "127.0.0.81,127.0.0.82", "4242");
	s[0] = vx_named("s81", "127.0.0.81", "127.0.0.91", "4242");
	s[1] = vx_named("s82", "127.0.0.82", "127.0.0.91", "4242");
	s[2] = vx_named("s83", "127.0.0.83", "127.0.0.91", "4242");
	for (unsigned i = 0; i < sizeof(from); i++)
		send_frame(s[from[i] - 0x81], false, from[i]);
	n = rx_wait(p, rx);
	assert_int_equal(n, 4);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *h;
		char want[16];

		pkt_load(&rx[i]);
		h = pkt_head(&rx[i]);
		assert_true(rx[i].flags & PKT_F_TUNNEL);
		snprintf(want, sizeof(want), "127.0.0.%u", (unsigned)(h[11] - 0x80 + 80));
		if (rx[i].tun.src.v4 != inet_addr(want))
			fail_msg("frame %u from 02:..:%02x: tun_src is not %s", i, h[11], want);
	}
	assert_int_equal(type_stat(p, "rx_bad_remote"), 1);
	for (unsigned i = 0; i < 3; i++)
		s[i]->ops->destroy(s[i]);
	p->ops->destroy(p);
	free(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdb_remote_refused),
		cmocka_unit_test(test_port_remote_refused),
		cmocka_unit_test(test_remotes_reused),
		cmocka_unit_test(test_burst_remotes),
		cmocka_unit_test(test_rx_burst_remotes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
