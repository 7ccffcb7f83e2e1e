/* test_switch_sec.c - unit tests of port security in the switch: MAC and IP locks, headers read once, MAC limits, the flood rate. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "switch_fx.h"

/* mac=A: A is port 0's from the start, for good; port 0 sends from nothing else. */
static void test_mac_lock(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	struct switch_port_cfg c = cfg_none();
	char err[128] = "";

	c.n_macs = 1;
	memcpy(c.macs[0], MAC_A, 6);
	attach(f, 0, &c);
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_A, 0), 0); /* before it sent anything */

	send_frame(f, 1, BCAST, MAC_A); /* port 1 takes over A? */
	assert_int_equal(drops(f, 1, DROP_MAC_LOCKED), 1);
	assert_int_equal(f->ports[0].got + f->ports[2].got, 0);
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_A, 0), 0);
	assert_int_equal(counter(f, 1, SWC_MAC_MOVES), 0);

	send_frame(f, 0, BCAST, MAC_B); /* port 0 from another MAC */
	assert_int_equal(drops(f, 0, DROP_SRC_MAC), 1);
	assert_int_equal(f->ports[1].got + f->ports[2].got, 0);
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_B, 0), -1);

	send_frame(f, 0, BCAST, MAC_A);
	assert_int_equal(f->ports[1].got, 1);
	assert_int_equal(f->ports[2].got, 1);
	send_frame(f, 2, MAC_A, MAC_C);
	assert_int_equal(f->ports[0].got, 1);

	/* never ages, is never evicted */
	assert_int_equal(fdb_age(&f->sw->fdb, 100000), 1); /* C */
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_A, 100000), 0);
	assert_int_equal(fdb_port_entries(&f->sw->fdb, 0), 0); /* locked entries are not learned ones */

	/* nobody else may lock it; once port 0 is gone, it is free */
	assert_int_equal(switch_port_attach(f->sw, 2, &c, err, sizeof(err)), -1);
	print_message("attach: %s\n", err);
	switch_port_detach(f->sw, 0);
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_A, 0), -1);
	send_frame(f, 1, BCAST, MAC_A);
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_A, 0), 1);
	fx_free(f);
}

/* ip=10.0.0.1,fd00::1 with mac=A: IPv4 and IPv6 sources and ARP senders are checked. */
static void test_ip_lock(void **state)
{
	static const uint8_t IP1[4] = { 10, 0, 0, 1 }, IP2[4] = { 10, 0, 0, 2 }, ANY4[4] = { 0 };
	static const uint8_t IP6_1[16] = { 0xfd, 0, [15] = 1 }, IP6_2[16] = { 0xfd, 0, [15] = 2 };
	struct fx *f = fx_new(SWITCH_LEARNING);
	struct switch_port_cfg c = cfg_none();
	uint8_t buf[128];
	unsigned got = 0;

	c.n_macs = 1;
	memcpy(c.macs[0], MAC_A, 6);
	c.ip_lock = true;
	c.n_ip4 = c.n_ip6 = 1;
	memcpy(c.ip4[0], IP1, 4);
	memcpy(c.ip6[0], IP6_1, 16);
	attach(f, 0, &c);

	send_buf(f, 0, buf, ip4_frame(buf, BCAST, MAC_A, IP1));
	assert_int_equal(f->ports[1].got, ++got);
	send_buf(f, 0, buf, ip4_frame(buf, BCAST, MAC_A, ANY4)); /* DHCP discover */
	assert_int_equal(f->ports[1].got, ++got);
	send_buf(f, 0, buf, ip4_frame(buf, BCAST, MAC_A, IP2));
	assert_int_equal(drops(f, 0, DROP_SRC_IP), 1);
	send_buf(f, 0, buf, arp_frame(buf, MAC_A, MAC_A, IP1));
	assert_int_equal(f->ports[1].got, ++got);
	send_buf(f, 0, buf, arp_frame(buf, MAC_A, MAC_A, IP2)); /* ARP spoofing */
	assert_int_equal(drops(f, 0, DROP_SRC_IP), 2);
	send_buf(f, 0, buf, arp_frame(buf, MAC_A, MAC_B, IP1)); /* ARP claiming another MAC */
	assert_int_equal(drops(f, 0, DROP_SRC_MAC), 1);
	send_buf(f, 0, buf, ip6_frame(buf, BCAST, MAC_A, IP6_1));
	assert_int_equal(f->ports[1].got, ++got);
	send_buf(f, 0, buf, ip6_frame(buf, BCAST, MAC_A, IP6_2));
	assert_int_equal(drops(f, 0, DROP_SRC_IP), 3);
	eth_hdr(buf, BCAST, MAC_A, 0x88cc); /* LLDP */
	send_buf(f, 0, buf, 60);
	assert_int_equal(drops(f, 0, DROP_ETHERTYPE), 1);
	ip4_frame(buf, BCAST, MAC_A, IP1);
	send_buf(f, 0, buf, 14 + 10); /* too short to hold the source it claims */
	assert_int_equal(drops(f, 0, DROP_ETHERTYPE), 2);
	assert_int_equal(f->ports[1].got, got);

	/* ip= without mac=: sources are still learned */
	c = cfg_none();
	c.ip_lock = true;
	c.n_ip4 = 1;
	memcpy(c.ip4[0], IP2, 4);
	attach(f, 1, &c);
	send_buf(f, 1, buf, ip4_frame(buf, BCAST, MAC_B, IP2));
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_B, 0), 1);
	send_buf(f, 1, buf, ip6_frame(buf, BCAST, MAC_B, IP6_1)); /* no IPv6 address listed */
	assert_int_equal(drops(f, 1, DROP_SRC_IP), 1);
	fx_free(f);
}

static uint8_t *toctou_buf;

/* A guest writing another source MAC into its transmit buffer once the switch has checked it. */
static void rewrite_source(void)
{
	memcpy(toctou_buf + 6, MAC_C, 6);
}

/* What a port delivers from a secured port is the copy the switch checked, not the guest's buffer again. */
static void test_checked_header_is_delivered(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	struct switch_port_cfg c = cfg_none();
	uint8_t buf[128];
	uint32_t len;

	c.n_macs = 1;
	memcpy(c.macs[0], MAC_A, 6);
	attach(f, 0, &c);
	toctou_buf = buf;
	f->ports[1].before_copy = rewrite_source;
	len = ip4_frame(buf, BCAST, MAC_A, (const uint8_t[4]){ 10, 0, 0, 1 });
	memset(buf + 34, 0x5a, len - 34);
	send_buf(f, 0, buf, len);
	assert_int_equal(f->ports[1].got, 1);
	assert_int_equal(f->ports[1].last_len, len);
	assert_memory_equal(f->ports[1].last_frame + 6, MAC_A, 6);
	assert_memory_equal(f->ports[1].last_frame + 34, buf + 34, len - 34); /* the rest, from the view */
	fx_free(f);
}

/* A guest pointing a later destination elsewhere once the lookup is done: another destination MAC and IPv4 source. */
static void rewrite_dst_and_ip(void)
{
	memcpy(toctou_buf, MAC_B, 6);
	memcpy(toctou_buf + 14 + 12, (const uint8_t[4]){ 10, 0, 0, 66 }, 4);
}

/* A 200-byte IPv4 broadcast from MAC_A, 10.0.0.1, with a payload past any header copy; a copy in @orig. */
static uint32_t toctou_frame(uint8_t *buf, uint8_t *orig)
{
	uint32_t len = 200;

	ip4_frame(buf, BCAST, MAC_A, (const uint8_t[4]){ 10, 0, 0, 1 });
	for (uint32_t i = 34; i < len; i++)
		buf[i] = (uint8_t)(i * 7);
	memcpy(orig, buf, len);
	return len;
}

/*
 * Headers are delivered from what the lookup saw: port 1, first in the
 * egress order, rewrites the source's buffer (destination MAC, IPv4
 * source) as a guest could; it and port 2 still get the frame as it was
 * looked up, the bytes past the headers from the view.
 */
static void test_rewritten_after_lookup(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	uint8_t buf[256], orig[256];
	uint32_t len = toctou_frame(buf, orig);

	toctou_buf = buf;
	f->ports[1].before_copy = rewrite_dst_and_ip;
	send_buf(f, 0, buf, len);
	assert_memory_equal(buf, MAC_B, 6); /* the rewrite happened */
	for (unsigned j = 1; j < 3; j++) {
		assert_int_equal(f->ports[j].got, 1);
		assert_int_equal(f->ports[j].last_len, len);
		assert_memory_equal(f->ports[j].last_frame, orig, len);
	}
	fx_free(f);
}

/*
 * ip=10.0.0.1: the frame delivered carries the source address that was
 * checked, however many pieces the guest cut it into (a descriptor chain
 * of 120 buffers, 119 of one byte) and whatever it writes into them after
 * the check.
 */
static void test_checked_ip_is_delivered(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	struct switch_port_cfg c = cfg_none();
	uint8_t buf[256], orig[256];
	struct iovec iov[120];
	uint32_t len = toctou_frame(buf, orig), at = 0;
	struct pkt p;

	c.ip_lock = true;
	c.n_ip4 = 1;
	memcpy(c.ip4[0], (const uint8_t[4]){ 10, 0, 0, 1 }, 4);
	attach(f, 0, &c);
	toctou_buf = buf;
	f->ports[1].before_copy = rewrite_dst_and_ip;

	/* In one piece. */
	send_buf(f, 0, buf, len);
	for (unsigned j = 1; j < 3; j++) {
		assert_int_equal(f->ports[j].got, 1);
		assert_memory_equal(f->ports[j].last_frame, orig, len);
	}

	/* In 120: 119 of one byte, then the rest. */
	memcpy(buf, orig, len);
	for (unsigned i = 0; i < 120; i++) {
		uint32_t take = i < 119 ? 1 : len - at;

		iov[i] = (struct iovec){ .iov_base = buf + at, .iov_len = take };
		at += take;
	}
	pkt_rx_init(&p, iov, 120, len, 0);
	dp_forward(f->sw, f->ctx, &f->ports[0].port, &p, 1);
	for (unsigned j = 1; j < 3; j++) {
		assert_int_equal(f->ports[j].got, 2);
		assert_int_equal(f->ports[j].last_len, len);
		assert_memory_equal(f->ports[j].last_frame, orig, len);
	}
	assert_int_equal(buf[26 + 3], 66); /* the rewrite happened */
	assert_int_equal(drops(f, 0, DROP_SRC_IP), 0);
	fx_free(f);
}

/* mac_limit=4: the fifth new source is not learned (but forwarded), and counted. */
static void test_mac_limit(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	struct switch_port_cfg c = cfg_none();

	c.mac_limit = 4;
	attach(f, 0, &c);
	for (unsigned i = 0; i < 10; i++) {
		uint8_t m[6] = { 0x02, 0, 0, 0, 1, (uint8_t)i };

		send_frame(f, 0, BCAST, m);
	}
	assert_int_equal(f->ports[1].got, 10);
	assert_int_equal(fdb_port_entries(&f->sw->fdb, 0), 4);
	assert_int_equal(counter(f, 0, SWC_LEARN_LIMIT), 6);
	assert_int_equal(fdb_lookup(&f->sw->fdb, (const uint8_t[6]){ 0x02, 0, 0, 0, 1, 4 }, 0), -1);
	/* a MAC moving to a port at its limit stays where it was */
	send_frame(f, 1, BCAST, MAC_B);
	send_frame(f, 0, BCAST, MAC_B);
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_B, 0), 1);
	/* aged out: room again */
	assert_int_equal(fdb_age(&f->sw->fdb, 1000), 5);
	assert_int_equal(fdb_port_entries(&f->sw->fdb, 0), 0);
	atomic_store(&f->sw->now_s, 1000);
	send_frame(f, 0, BCAST, MAC_C);
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_C, 1000), 0);
	fx_free(f);
}

static uint64_t fake_ns;

static uint64_t fake_clock(void)
{
	return fake_ns;
}

/* flood_rate=1000: a burst of 100 floods passes (a tenth of a second), the rest is counted; unicast is free. */
static void test_flood_rate(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	struct switch_port_cfg c = cfg_none();
	struct pkt p[50];
	uint8_t buf[50][60];
	struct iovec iov[50];

	f->sw->clock_ns = fake_clock;
	fake_ns = 5000000000ull;
	c.flood_rate_pps = 1000;
	attach(f, 0, &c);
	send_frame(f, 1, BCAST, MAC_B);
	f->ports[1].got = f->ports[2].got = 0;
	burst(p, iov, buf, 50, &BCAST, 1, MAC_A);
	for (unsigned r = 0; r < 3; r++) /* 150 broadcasts at one instant */
		dp_forward(f->sw, f->ctx, &f->ports[0].port, p, 50);
	assert_int_equal(f->ports[2].got, 100);
	assert_int_equal(drops(f, 0, DROP_FLOOD_RATE), 50);
	for (unsigned i = 0; i < 20; i++)
		send_frame(f, 0, MAC_B, MAC_A); /* known unicast: not limited */
	assert_int_equal(f->ports[1].got, 120);
	fake_ns += 10000000; /* 10 ms: 10 more */
	dp_forward(f->sw, f->ctx, &f->ports[0].port, p, 50);
	assert_int_equal(f->ports[2].got, 110);
	assert_int_equal(drops(f, 0, DROP_FLOOD_RATE), 90);
	/* port 2 has no limit */
	for (unsigned i = 0; i < 500; i++)
		send_frame(f, 2, BCAST, MAC_C);
	assert_int_equal(f->ports[1].got, 130 + 500);
	assert_int_equal(drops(f, 2, DROP_FLOOD_RATE), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_lock),
		cmocka_unit_test(test_ip_lock),
		cmocka_unit_test(test_checked_header_is_delivered),
		cmocka_unit_test(test_rewritten_after_lookup),
		cmocka_unit_test(test_checked_ip_is_delivered),
		cmocka_unit_test(test_mac_limit),
		cmocka_unit_test(test_flood_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
