/* test_switch.c - unit tests of the MAC table and of forwarding decisions, with fake ports. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "ctl/port_opts.h"
#include "dp/dp.h"
#include "dp/pipeline.h"
#include "packet/iov.h"
#include "switch/fdb.h"
#include "switch/switch.h"
#include "../lib/zalloc.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0xc };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

/* A port that records what the switch sends it. */
struct fake_port {
	struct port port;
	unsigned got;
	uint8_t last_dst[6];
	uint8_t last_frame[256];	/* the bytes a real port would copy out of the last frame's view */
	uint32_t last_len;
	void (*before_copy)(void);	/* runs before the copy: a guest rewriting its buffer meanwhile */
};

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct fake_port *f = (struct fake_port *)p;
	const struct pkt *last = pkts[n - 1];

	f->got += n;
	memcpy(f->last_dst, pkt_head(last), 6);
	if (f->before_copy)
		f->before_copy();
	f->last_len = last->len;
	pkt_to_buf(last, f->last_frame, sizeof(f->last_frame));
}

static const struct port_ops fake_ops = { .type = "fake", .tx_burst = fake_tx_burst };

struct fx {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct fake_port ports[3];
};

static struct fx *fx_new(enum switch_mode mode)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->sw = malloc(sizeof(*f->sw));
	f->ctx = zalloc64(sizeof(*f->ctx));
	assert_int_equal(switch_init(f->sw, mode, 300, 4096), 0);
	for (unsigned i = 0; i < 3; i++) {
		f->ports[i].port.id = i;
		f->ports[i].port.ops = &fake_ops;
		switch_port_set(f->sw, i, &f->ports[i].port);
	}
	return f;
}

static void fx_free(struct fx *f)
{
	switch_destroy(f->sw);
	free(f->sw);
	free(f->ctx);
	free(f);
}

static uint64_t drops(struct fx *f, unsigned port, enum port_drop why)
{
	return atomic_load(&f->ports[port].port.stats.drops[why]);
}

static uint64_t counter(struct fx *f, unsigned port, enum switch_counter c)
{
	return atomic_load(&f->sw->sp[port].counters[c]);
}

/* A frame whose bytes are @buf: the switch sees a view of them, as of a guest's buffer. */
static void send_buf(struct fx *f, unsigned in, uint8_t *buf, uint32_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct pkt p;

	pkt_rx_init(&p, &iov, 1, len, in);
	dp_forward(f->sw, f->ctx, &f->ports[in].port, &p, 1);
}

static void send_frame(struct fx *f, unsigned in, const uint8_t dst[6], const uint8_t src[6])
{
	uint8_t buf[60] = { 0 };

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	send_buf(f, in, buf, sizeof(buf));
}

/* @n 60-byte frames in @bufs, frame i from @src to @dsts[i % @ndst], as views in @p for dp_forward(). */
static void burst(struct pkt *p, struct iovec *iov, uint8_t (*bufs)[60], unsigned n, const uint8_t (*dsts)[6],
		  unsigned ndst, const uint8_t src[6])
{
	for (unsigned i = 0; i < n; i++) {
		memset(bufs[i], 0, 60);
		memcpy(bufs[i], dsts[i % ndst], 6);
		memcpy(bufs[i] + 6, src, 6);
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = 60 };
		pkt_rx_init(&p[i], &iov[i], 1, 60, 0);
	}
}

/* Ethernet header into @buf; returns the header length. */
static uint32_t eth_hdr(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = (uint8_t)(type >> 8);
	buf[13] = (uint8_t)type;
	return 14;
}

/* A 60-byte IPv4 frame from @sip. */
static uint32_t ip4_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], const uint8_t sip[4])
{
	memset(buf, 0, 60);
	eth_hdr(buf, dst, src, 0x0800);
	buf[14] = 0x45;
	buf[14 + 9] = 17;
	memcpy(buf + 14 + 12, sip, 4);
	memcpy(buf + 14 + 16, (const uint8_t[4]){ 10, 0, 0, 99 }, 4);
	return 60;
}

/* An ARP request: sender @sha/@spa. */
static uint32_t arp_frame(uint8_t *buf, const uint8_t src[6], const uint8_t sha[6], const uint8_t spa[4])
{
	static const uint8_t arp_head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

	memset(buf, 0, 60);
	eth_hdr(buf, BCAST, src, 0x0806);
	memcpy(buf + 14, arp_head, 8);
	memcpy(buf + 22, sha, 6);
	memcpy(buf + 28, spa, 4);
	memcpy(buf + 38, (const uint8_t[4]){ 10, 0, 0, 99 }, 4);
	return 60;
}

/* An 80-byte IPv6 frame from @sip. */
static uint32_t ip6_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], const uint8_t sip[16])
{
	memset(buf, 0, 80);
	eth_hdr(buf, dst, src, 0x86dd);
	buf[14] = 0x60;
	buf[14 + 6] = 17;
	memcpy(buf + 14 + 8, sip, 16);
	return 80;
}

static struct switch_port_cfg cfg_none(void)
{
	struct switch_port_cfg c;

	memset(&c, 0, sizeof(c)); /* no locking, no limits */
	return c;
}

static void attach(struct fx *f, unsigned port, const struct switch_port_cfg *c)
{
	char err[128] = "";

	assert_int_equal(switch_port_attach(f->sw, port, c, err, sizeof(err)), 0);
}

/* A table for @size MACs, 300 s aging. */
static struct fdb *fdb_new(unsigned size)
{
	struct fdb *t = malloc(sizeof(*t));

	assert_non_null(t);
	assert_int_equal(fdb_init(t, 300, size), 0);
	return t;
}

static void fdb_free(struct fdb *t)
{
	fdb_destroy(t);
	free(t);
}

/* Learn, look up, move, age out, flush by port. */
static void test_fdb_basic(void **state)
{
	struct fdb *t = fdb_new(4096);

	assert_int_equal(fdb_lookup(t, MAC_A, 0), -1);
	fdb_learn(t, MAC_A, 3, 10);
	fdb_learn(t, MAC_B, 7, 10);
	assert_int_equal(fdb_lookup(t, MAC_A, 11), 3);
	assert_int_equal(fdb_lookup(t, MAC_B, 11), 7);
	fdb_learn(t, MAC_A, 4, 20); /* moved */
	assert_int_equal(fdb_lookup(t, MAC_A, 21), 4);
	assert_int_equal(fdb_lookup(t, MAC_A, 20 + 301), -1); /* aged, even before fdb_age */
	assert_int_equal(fdb_age(t, 10 + 301), 1);		/* B (seen at 10) goes, A (20) stays */
	assert_int_equal(fdb_lookup(t, MAC_B, 311), -1);
	assert_int_equal(fdb_lookup(t, MAC_A, 311), 4);
	fdb_flush_port(t, 4);
	assert_int_equal(fdb_lookup(t, MAC_A, 311), -1);
	fdb_free(t);
}

/* A full bucket gives up its oldest entry, and dump lists live entries with their age. */
static void test_fdb_full_bucket_and_dump(void **state)
{
	struct fdb *t = fdb_new(8192);
	unsigned slots = t->n_buckets * FDB_WAYS, n, live;
	struct fdb_entry *out = calloc(slots, sizeof(*out));

	/* 20000 distinct MACs into 20480 slots: some buckets overflow. */
	assert_int_equal(slots, 20480);
	for (uint32_t i = 0; i < 20000; i++) {
		uint8_t mac[6] = { 0x02, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 1 };

		fdb_learn(t, mac, i % 5, i / 100);
	}
	n = fdb_dump(t, out, slots, 200, &live);
	assert_true(n > 15000 && n <= 20000);
	assert_int_equal(live, n);
	for (unsigned i = 0; i < n; i++) {
		uint32_t id = (uint32_t)out[i].mac[2] << 16 | (uint32_t)out[i].mac[3] << 8 | out[i].mac[4];

		assert_int_equal(out[i].port, id % 5);
		assert_int_equal(out[i].age_s, 200 - id / 100);
	}
	/* the newest MAC always got a slot */
	{
		uint8_t last[6] = { 0x02, 0, 0, (uint8_t)(19999 >> 8), (uint8_t)19999, 1 };
		assert_int_equal(fdb_lookup(t, last, 200), 19999 % 5);
	}
	/* a limit: the first entries, and the count of all of them */
	assert_int_equal(fdb_dump(t, out, 10, 200, &live), 10);
	assert_int_equal(live, n);
	free(out);
	fdb_free(t);
}

/* Unknown unicast and broadcast flood to every port but the ingress one; replies go unicast. */
static void test_learning_flood_then_unicast(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);

	send_frame(f, 0, BCAST, MAC_A);
	assert_int_equal(f->ports[0].got, 0);
	assert_int_equal(f->ports[1].got, 1);
	assert_int_equal(f->ports[2].got, 1);
	send_frame(f, 1, MAC_A, MAC_B); /* A is known on port 0 */
	assert_int_equal(f->ports[0].got, 1);
	assert_int_equal(f->ports[2].got, 1);
	send_frame(f, 0, MAC_B, MAC_A);
	assert_int_equal(f->ports[1].got, 2);
	assert_int_equal(f->ports[2].got, 1);
	send_frame(f, 2, MCAST, MAC_C); /* multicast floods */
	assert_int_equal(f->ports[0].got, 2);
	assert_int_equal(f->ports[1].got, 3);
	{
		static const uint8_t MAC_D[6] = { 0x02, 0, 0, 0, 0, 0xd };

		send_frame(f, 2, MAC_D, MCAST); /* unknown D -> flood; the multicast source is not learned */
		assert_int_equal(f->ports[0].got, 3);
		assert_int_equal(f->ports[1].got, 4);
		assert_int_equal(fdb_lookup(&f->sw->fdb, MCAST, 0), -1);
	}
	fx_free(f);
}

/* A frame for a MAC behind its own ingress port goes nowhere, and is counted. */
static void test_never_back_to_ingress(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);

	send_frame(f, 0, BCAST, MAC_A);
	send_frame(f, 0, BCAST, MAC_B);
	send_frame(f, 0, MAC_A, MAC_B);
	assert_int_equal(f->ports[0].got, 0);
	assert_int_equal(drops(f, 0, DROP_NO_DESTINATION), 1);
	fx_free(f);
}

/* Hub mode sends every frame to every other port, known MAC or not. */
static void test_hub(void **state)
{
	struct fx *f = fx_new(SWITCH_HUB);

	send_frame(f, 0, BCAST, MAC_A);
	send_frame(f, 1, MAC_A, MAC_B);
	assert_int_equal(f->ports[0].got, 1);
	assert_int_equal(f->ports[1].got, 1);
	assert_int_equal(f->ports[2].got, 2);
	fx_free(f);
}

/* With no other port, a flooded frame is a counted drop. */
static void test_alone_counts_no_destination(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);

	switch_port_set(f->sw, 1, NULL);
	switch_port_set(f->sw, 2, NULL);
	send_frame(f, 0, BCAST, MAC_A);
	assert_int_equal(drops(f, 0, DROP_NO_DESTINATION), 1);
	fx_free(f);
}

/* A batch for several destinations is grouped: one tx_burst per destination. */
static void test_batch_grouping(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	static const uint8_t dsts[2][6] = { { 0x02, 0, 0, 0, 0, 0xc }, { 0x02, 0, 0, 0, 0, 0xb } }; /* C, B */
	struct pkt p[4];
	uint8_t buf[4][60];
	struct iovec iov[4];

	send_frame(f, 1, BCAST, MAC_B);
	send_frame(f, 2, BCAST, MAC_C);
	f->ports[0].got = f->ports[1].got = f->ports[2].got = 0;
	burst(p, iov, buf, 4, dsts, 2, MAC_A);
	dp_forward(f->sw, f->ctx, &f->ports[0].port, p, 4);
	assert_int_equal(f->ports[1].got, 2);
	assert_int_equal(f->ports[2].got, 2);
	assert_memory_equal(f->ports[1].last_dst, MAC_B, 6);
	assert_int_equal(f->ctx->ngrp, 0);
	fx_free(f);
}

/* The FDB's hash before keying: Fibonacci hashing of the 48 MAC bits, the same for every vswd. */
static unsigned fixed_bucket(const uint8_t mac[6])
{
	return (unsigned)((fdb_mac(mac) * 0x9e3779b97f4a7c15ull) >> (64 - 12));
}

/*
 * With a fixed multiplier anyone can compute, 8 MACs crafted to share a
 * victim's bucket evict it; with keys drawn at startup they land anywhere.
 */
static void test_fdb_crafted_macs_do_not_evict(void **state)
{
	static const uint8_t victim[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	uint8_t crafted[FDB_WAYS][6];
	unsigned found = 0, same_bucket = 0;
	struct fdb *t = fdb_new(8192), *u = fdb_new(8192); /* 4096 buckets: the 12 bits above */

	for (uint32_t i = 2; found < FDB_WAYS; i++) {
		uint8_t m[6] = { 0x02, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 0x01 };

		if (fixed_bucket(m) == fixed_bucket(victim))
			memcpy(crafted[found++], m, 6);
	}
	assert_int_equal(t->n_buckets, 1u << 12);
	fdb_learn(t, victim, 0, 10);
	for (unsigned i = 0; i < FDB_WAYS; i++) {
		fdb_learn(t, crafted[i], 1, 11);
		same_bucket += fdb_bucket_index(t, crafted[i]) == fdb_bucket_index(t, victim);
	}
	print_message("crafted MACs in the victim's bucket: %u of %u\n", same_bucket, FDB_WAYS);
	assert_int_equal(fdb_lookup(t, victim, 12), 0);
	/* The keys are random: two tables disagree on where a MAC goes. */
	assert_memory_not_equal(t->hash_key, u->hash_key, sizeof(t->hash_key));
	fdb_free(t);
	fdb_free(u);
}

/* A distinct unicast MAC for each @i < 2^40, spread over 02:xx:xx:xx:xx:xx (an odd multiplier mod 2^40 is a bijection). */
static void mac_spread(uint64_t i, uint8_t mac[6])
{
	uint64_t x = i * 0x9e3779b97f4a7c15ull;

	mac[0] = 0x02;
	for (int b = 1; b < 6; b++)
		mac[b] = (uint8_t)(x >> (8 * (b - 1)));
}

/*
 * A million MACs (issue 13): a table sized for 2^20 learns 2^20 distinct
 * MACs from 16 ports and finds every one its bucket had room for (the
 * rest went to full buckets: about 1 %, fdb.h), at least 1,000,000; the
 * ports' counts and fdb_dump's total agree.  The old table had 32768 entries.
 */
static void test_fdb_million(void **state)
{
	enum { N = 1 << 20 };
	struct fdb *t = fdb_new(N);
	uint8_t *per_bucket = calloc(t->n_buckets, 1), mac[6];
	unsigned expected = 0, found = 0, live = 0, owned = 0;
	struct fdb_entry e;

	assert_non_null(per_bucket);
	assert_int_equal(t->n_buckets, N / 2);
	assert_int_equal(t->map_bytes, (size_t)32 << 20);
	for (uint64_t i = 0; i < N; i++) {
		mac_spread(i, mac);
		fdb_learn(t, mac, (unsigned)(i % 16), 1);
		if (per_bucket[fdb_bucket_index(t, mac)] < 255)
			per_bucket[fdb_bucket_index(t, mac)]++;
	}
	for (unsigned b = 0; b < t->n_buckets; b++)
		expected += per_bucket[b] < FDB_WAYS ? per_bucket[b] : FDB_WAYS;
	for (uint64_t i = 0; i < N; i++) {
		mac_spread(i, mac);
		found += fdb_lookup(t, mac, 2) == (int)(i % 16);
	}
	for (unsigned p = 0; p < 16; p++)
		owned += fdb_port_entries(t, p);
	assert_int_equal(fdb_dump(t, &e, 0, 2, &live), 0);
	print_message("%u MACs learned, %u held (%.2f %% in full buckets)\n", N, found, 100.0 * (N - found) / N);
	assert_int_equal(found, expected);
	assert_int_equal(live, expected);
	assert_int_equal(owned, expected);
	assert_true(found >= 1000000);
	free(per_bucket);
	fdb_free(t);
}

/* MAC @i of a run: counting in the last bytes (QEMU's, Docker's), in the first ones, or with a stride. */
static void mac_run(unsigned pattern, uint32_t i, uint8_t mac[6])
{
	static const uint8_t qemu[3] = { 0x52, 0x54, 0x00 };

	memset(mac, 0, 6);
	switch (pattern) {
	case 0: /* 52:54:00:xx:xx:xx, as QEMU and libvirt number guests */
		memcpy(mac, qemu, 3);
		mac[3] = (uint8_t)(i >> 16);
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		break;
	case 1: /* the count in the first bytes */
		mac[0] = (uint8_t)(i >> 15 << 1);
		mac[1] = (uint8_t)(i >> 7);
		mac[2] = (uint8_t)(i << 1);
		mac[5] = 1;
		break;
	case 2: /* a stride of 4 in the middle */
		mac[0] = 0x02;
		mac[2] = (uint8_t)(i >> 14);
		mac[3] = (uint8_t)(i >> 6);
		mac[4] = (uint8_t)(i << 2);
		break;
	default: /* sequential, 02:42:... */
		mac[0] = 0x02;
		mac[1] = 0x42;
		mac[3] = (uint8_t)(i >> 16);
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
	}
}

/*
 * Runs of MACs spread over the buckets like random ones, whatever the
 * keys: 16 tables (16 draws of keys), four patterns, 2 MACs a bucket
 * (load 0.4); the MACs beyond a bucket's ways must stay near the 1.1 %
 * of random MACs.  With one round of the hash (fold_mul(mac ^ k0, k1)),
 * one key in ten puts a run in a fraction of the buckets, 15 % to 50 %
 * lost: this test fails then but for one run in 1500.
 */
static void test_fdb_hash_spreads_sequential_macs(void **state)
{
	double worst = 0;

	for (unsigned k = 0; k < 16; k++) {
		struct fdb *t = fdb_new(8192);
		unsigned n = 2 * t->n_buckets;
		uint16_t *per_bucket = calloc(t->n_buckets, sizeof(*per_bucket));

		for (unsigned pattern = 0; pattern < 4; pattern++) {
			unsigned over = 0;
			double lost;

			memset(per_bucket, 0, t->n_buckets * sizeof(*per_bucket));
			for (uint32_t i = 0; i < n; i++) {
				uint8_t mac[6];

				mac_run(pattern, i, mac);
				per_bucket[fdb_bucket_index(t, mac)]++;
			}
			for (unsigned b = 0; b < t->n_buckets; b++)
				over += per_bucket[b] > FDB_WAYS ? per_bucket[b] - FDB_WAYS : 0;
			lost = 100.0 * over / n;
			if (lost > worst)
				worst = lost;
			assert_true(lost < 3.0);
		}
		free(per_bucket);
		fdb_free(t);
	}
	print_message("worst share of MACs beyond their bucket's ways: %.2f %%\n", worst);
}

/*
 * Aging in slices: each tick looks at 1/(aging / FDB_AGE_PASSES) of the
 * buckets, so expired entries go over a quarter of the aging period,
 * not all in one step; a late tick catches up.  Lookups ignore an expired
 * entry before its slice comes.  The old fdb_age() swept every bucket at
 * each tick.
 */
static void test_fdb_age_in_slices(void **state)
{
	enum { N = 20000, AGING = 100 };
	struct fdb *t = malloc(sizeof(*t));
	unsigned slice, old = 0, dropped = 0, most = 0, ticks_dropping = 0;
	uint8_t mac[6];

	assert_int_equal(fdb_init(t, AGING, 65536), 0);
	slice = (t->n_buckets + AGING / FDB_AGE_PASSES - 1) / (AGING / FDB_AGE_PASSES);
	for (uint32_t i = 0; i < N; i++) {
		mac_spread(i, mac);
		assert_int_equal(fdb_learn(t, mac, i % 4, 0), FDB_ADDED);
	}
	/* Nothing has expired yet (now - seen > aging): the ticks walk without dropping. */
	for (uint32_t now = 1; now <= AGING; now++) {
		if (now == 95)
			for (uint32_t i = 0; i < 100; i++) {
				mac_spread(N + i, mac);
				fdb_learn(t, mac, 5, now); /* fresh ones */
			}
		assert_int_equal(fdb_age_tick(t, now), 0);
		assert_int_equal(t->age_next, now * slice % t->n_buckets);
	}
	for (unsigned p = 0; p < 4; p++)
		old += fdb_port_entries(t, p); /* N, but for the few a fresh one pushed out of a full bucket */
	assert_true(old > N - 10);
	mac_spread(N - 1, mac);
	assert_int_equal(fdb_lookup(t, mac, AGING + 1), -1); /* expired, whether or not its slice came */
	for (uint32_t now = AGING + 1; now <= AGING + AGING / FDB_AGE_PASSES + 1; now++) {
		unsigned n = fdb_age_tick(t, now);

		dropped += n;
		most = n > most ? n : most;
		ticks_dropping += n > 0;
	}
	print_message("%u entries dropped over %u ticks, at most %u in one (slices of %u of %u buckets)\n", dropped,
		      ticks_dropping, most, slice, t->n_buckets);
	assert_int_equal(dropped, old);
	assert_true(most < N / 10);
	assert_true(ticks_dropping >= AGING / FDB_AGE_PASSES - 1);
	for (unsigned p = 0; p < 4; p++)
		assert_int_equal(fdb_port_entries(t, p), 0);
	assert_int_equal(fdb_port_entries(t, 5), 100);
	/* A tick 200 s late does one whole pass, no more. */
	assert_int_equal(fdb_age_tick(t, 400), 100);
	assert_int_equal(fdb_port_entries(t, 5), 0);
	fdb_free(t);
}

/* A port's limit holds in a big table, and aging in slices gives its room back. */
static void test_fdb_port_limit_at_scale(void **state)
{
	struct fdb *t = fdb_new(1 << 18);
	unsigned added = 0, refused = 0;
	uint8_t mac[6];

	fdb_set_limit(t, 1, 1000);
	for (uint32_t i = 0; i < 5000; i++) {
		enum fdb_learn_result r;

		mac_spread(i, mac);
		r = fdb_learn(t, mac, 1, 0);
		added += r == FDB_ADDED;
		refused += r == FDB_REFUSED_LIMIT;
	}
	assert_int_equal(added, 1000);
	assert_int_equal(refused, 4000);
	assert_int_equal(fdb_port_entries(t, 1), 1000);
	mac_spread(0, mac);
	assert_int_equal(fdb_learn(t, mac, 2, 1), FDB_MOVED); /* moving away frees one */
	assert_int_equal(fdb_port_entries(t, 1), 999);
	for (uint32_t now = 1; now <= 300 + 300 / FDB_AGE_PASSES + 1; now++)
		fdb_age_tick(t, now);
	assert_int_equal(fdb_port_entries(t, 1), 0);
	mac_spread(4999, mac);
	assert_int_equal(fdb_learn(t, mac, 1, 400), FDB_ADDED);
	fdb_free(t);
}

/* @n MACs that share @first's bucket, into @out (@first is out[0]). */
static void same_bucket(const struct fdb *t, const uint8_t first[6], uint8_t (*out)[6], unsigned n)
{
	unsigned got = 1, b = fdb_bucket_index(t, first);

	memcpy(out[0], first, 6);
	for (uint32_t i = 1; got < n; i++) {
		uint8_t m[6] = { 0x02, 0x33, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

		assert_true(i < 1u << 24);
		if (fdb_bucket_index(t, m) == b && memcmp(m, first, 6) != 0)
			memcpy(out[got++], m, 6);
	}
}

/* The age fdb_dump() gives (@mac, VLAN 0), or -1 when not listed. */
static int dump_age(struct fdb *t, const uint8_t mac[6], uint32_t now)
{
	struct fdb_entry e[8];
	unsigned n = fdb_dump(t, e, 8, now, NULL);

	for (unsigned i = 0; i < n; i++)
		if (!memcmp(e[i].mac, mac, 6) && e[i].vlan == 0)
			return (int)e[i].age_s;
	return -1;
}

/*
 * A known source seen lately is not written again (fdb_learn_fresh()):
 * its second stays until it is refresh_s old; a station that keeps
 * sending is still never aged out, one that stops ages out on time, and a
 * move to another port is learned at once.
 */
static void test_fdb_refresh_skips_fresh_sources(void **state)
{
	struct fdb *t = fdb_new(4096);
	uint64_t a = fdb_mac(MAC_A);
	struct fdb_bucket *b = fdb_bucket_of(t, a);
	uint32_t now = 0, last = 0;

	assert_int_equal(t->refresh_s, 300 / FDB_REFRESH_DIV);
	assert_int_equal(fdb_learn(t, MAC_A, 1, 0), FDB_ADDED);
	assert_true(fdb_learn_fresh(t, b, fdb_make_key(t, a, 1, 0), 0, 5));
	assert_int_equal(fdb_learn(t, MAC_A, 1, 5), FDB_KNOWN);
	assert_int_equal(dump_age(t, MAC_A, 5), 5); /* not written at 5 */
	assert_false(fdb_learn_fresh(t, b, fdb_make_key(t, a, 1, 0), 0, t->refresh_s)); /* due */
	assert_false(fdb_learn_fresh(t, b, fdb_make_key(t, a, 2, 0), 0, 5));	    /* another port's */
	assert_false(fdb_learn_fresh(t, b, fdb_make_key(t, a, 1, 0), 10, 5));	    /* another VLAN's */

	/* A frame every 10 s for 3 aging periods, the whole table aged at each: never gone, never older than it may be. */
	for (now = 10; now <= 900; now += 10) {
		assert_int_equal(fdb_learn(t, MAC_A, 1, now), FDB_KNOWN);
		assert_int_equal(fdb_age(t, now), 0);
		assert_int_equal(fdb_lookup(t, MAC_A, now), 1);
		assert_true(dump_age(t, MAC_A, now) < (int)t->refresh_s);
		last = now;
	}
	/* Silent from @last: found until aging - refresh_s after its last frame, gone after aging. */
	assert_int_equal(fdb_lookup(t, MAC_A, last + 300 - t->refresh_s), 1);
	assert_int_equal(fdb_lookup(t, MAC_A, last + 301), -1);
	assert_int_equal(fdb_port_entries(t, 1), 1);

	/* A move is learned at once, however fresh the entry was. */
	assert_int_equal(fdb_learn(t, MAC_A, 1, 1000), FDB_KNOWN); /* written again: fresh */
	assert_int_equal(fdb_learn(t, MAC_A, 2, 1001), FDB_MOVED);
	assert_int_equal(fdb_lookup(t, MAC_A, 1001), 2);
	assert_int_equal(fdb_port_entries(t, 1), 0);
	assert_int_equal(fdb_port_entries(t, 2), 1);
	fdb_free(t);
}

/* Non-empty keys in @t's buckets: entries, live or not yet reclaimed. */
static unsigned keys_held(const struct fdb *t)
{
	unsigned n = 0;

	for (unsigned bi = 0; bi < t->n_buckets; bi++)
		for (int i = 0; i < FDB_WAYS; i++)
			n += atomic_load(&t->buckets[bi].key[i]) != 0;
	return n;
}

/*
 * A flush moves the port's generation on and walks nothing (but when
 * every generation is still in use): its entries, locked ones too, are
 * gone at once for lookups, learning, fdb_dump() and the counts; aging
 * reclaims them; a generation comes back only once aging passed over the
 * table, so an old entry never comes back to life.
 */
static void test_fdb_flush_generation(void **state)
{
	static const uint8_t mac_d[6] = { 0x02, 0, 0, 0, 0, 0xd };
	struct fdb *t = fdb_new(4096);
	struct fdb_entry e[8];
	unsigned owner = 0, live = 0;

	assert_int_equal(fdb_learn(t, MAC_A, 3, 10), FDB_ADDED);
	assert_int_equal(fdb_learn(t, MAC_B, 3, 10), FDB_ADDED);
	assert_int_equal(fdb_lock(t, MAC_C, 3, 10, &owner), 0);
	assert_int_equal(fdb_learn(t, mac_d, 4, 10), FDB_ADDED);
	assert_int_equal(fdb_port_entries(t, 3), 2);

	fdb_flush_port(t, 3);
	assert_int_equal(t->flush_walks, 0);
	assert_int_equal(fdb_lookup(t, MAC_A, 11), -1);
	assert_int_equal(fdb_lookup(t, MAC_B, 11), -1);
	assert_int_equal(fdb_lookup(t, MAC_C, 11), -1);
	assert_int_equal(fdb_lookup(t, mac_d, 11), 4);
	assert_int_equal(fdb_port_entries(t, 3), 0);
	assert_int_equal(fdb_dump(t, e, 8, 11, &live), 1);
	assert_int_equal(live, 1);
	assert_int_equal(e[0].port, 4);
	assert_int_equal(keys_held(t), 4); /* not reclaimed yet */

	/* Flushed entries are free ways: learned anew (no move), locked anew by another port. */
	assert_int_equal(fdb_learn(t, MAC_A, 3, 11), FDB_ADDED);
	assert_int_equal(fdb_learn(t, MAC_B, 5, 11), FDB_ADDED);
	assert_int_equal(fdb_lock(t, MAC_C, 6, 11, &owner), 0);
	assert_int_equal(fdb_lookup(t, MAC_A, 11), 3);
	assert_int_equal(fdb_lookup(t, MAC_B, 11), 5);
	assert_int_equal(fdb_lookup(t, MAC_C, 11), 6);
	assert_int_equal(fdb_port_entries(t, 3), 1);
	assert_int_equal(fdb_port_entries(t, 5), 1);
	assert_int_equal(keys_held(t), 4);
	fdb_flush_port(t, 3);
	assert_int_equal(fdb_port_entries(t, 3), 0);
	assert_int_equal(fdb_learn(t, MAC_A, 5, 12), FDB_ADDED); /* over a flushed entry: not a move */
	assert_int_equal(fdb_port_entries(t, 5), 2);

	/* Aging reclaims what flushes left (and counts it nowhere). */
	fdb_flush_port(t, 6);
	assert_int_equal(fdb_age(t, 12), 0);
	assert_int_equal(keys_held(t), 3); /* A and B on 5, D on 4 */
	assert_int_equal(fdb_dump(t, e, 8, 12, &live), 3);

	/* Port 4: seven flushes in a row need no walk; the eighth would reuse D's generation: it walks. */
	for (unsigned i = 0; i < FDB_GENS - 1; i++) {
		fdb_flush_port(t, 4);
		assert_int_equal(fdb_learn(t, mac_d, 4, 12), FDB_ADDED);
		assert_int_equal(fdb_port_entries(t, 4), 1);
	}
	assert_int_equal(t->flush_walks, 0);
	fdb_flush_port(t, 4);
	assert_int_equal(t->flush_walks, 1);
	assert_int_equal(fdb_lookup(t, mac_d, 12), -1); /* generation 0 again, and D of generation 0 is gone */
	assert_int_equal(fdb_port_entries(t, 4), 0);
	assert_int_equal(fdb_learn(t, mac_d, 4, 12), FDB_ADDED);
	/* Once aging passed FDB_GEN_LAPS times, generations are clear again: no walk. */
	for (unsigned i = 0; i < FDB_GEN_LAPS; i++)
		fdb_age(t, 13);
	for (unsigned i = 0; i < FDB_GENS - 1; i++)
		fdb_flush_port(t, 4);
	assert_int_equal(t->flush_walks, 1);
	assert_int_equal(fdb_lookup(t, mac_d, 13), -1);
	assert_int_equal(fdb_port_entries(t, 5), 2);
	fdb_free(t);
}

/* A full bucket gives up its oldest learned entry, never a locked one (however old); all locked: refused. */
static void test_fdb_full_bucket_evicts_oldest_learned(void **state)
{
	struct fdb *t = fdb_new(4096), *u = fdb_new(4096);
	uint8_t m[FDB_WAYS + 2][6];
	unsigned owner;

	same_bucket(t, MAC_A, m, FDB_WAYS + 2);
	assert_int_equal(fdb_lock(t, m[0], 0, 0, &owner), 0); /* seen at 0: the oldest */
	for (unsigned i = 1; i < FDB_WAYS; i++)
		assert_int_equal(fdb_learn(t, m[i], 1, i), FDB_ADDED);
	assert_int_equal(fdb_learn(t, m[FDB_WAYS], 1, 10), FDB_ADDED); /* full: m[1] (seen at 1) goes */
	assert_int_equal(fdb_lookup(t, m[0], 10), 0);
	assert_int_equal(fdb_lookup(t, m[1], 10), -1);
	for (unsigned i = 2; i <= FDB_WAYS; i++)
		assert_int_equal(fdb_lookup(t, m[i], 10), 1);
	/* m[2] refreshed (once refresh_s old: fdb_learn_fresh()): m[3] is the oldest now */
	assert_int_equal(fdb_learn(t, m[2], 1, 2 + t->refresh_s), FDB_KNOWN);
	assert_int_equal(fdb_learn(t, m[FDB_WAYS + 1], 1, 3 + t->refresh_s), FDB_ADDED);
	assert_int_equal(fdb_lookup(t, m[2], 3 + t->refresh_s), 1);
	assert_int_equal(fdb_lookup(t, m[3], 3 + t->refresh_s), -1);
	assert_int_equal(fdb_lookup(t, m[0], 3 + t->refresh_s), 0);
	assert_int_equal(fdb_port_entries(t, 1), FDB_WAYS - 1);

	/* A bucket of locked entries learns nothing and locks nothing more. */
	same_bucket(u, MAC_A, m, FDB_WAYS + 2);
	for (unsigned i = 0; i < FDB_WAYS; i++)
		assert_int_equal(fdb_lock(u, m[i], i, 0, &owner), 0);
	assert_int_equal(fdb_learn(u, m[FDB_WAYS], 1, 1), FDB_REFUSED_FULL);
	assert_int_equal(fdb_lock(u, m[FDB_WAYS + 1], 1, 1, &owner), -ENOSPC);
	for (unsigned i = 0; i < FDB_WAYS; i++)
		assert_int_equal(fdb_lookup(u, m[i], 1), (int)i);
	fdb_free(t);
	fdb_free(u);
}

/*
 * A batch decides what its frames would one by one: 400 frames among 24
 * MACs (multicast ones, moves, frames back to their own port) from three
 * ports, in batches of PKT_BURST on one switch and one frame at a time on
 * another; same verdicts, same table.  The lookup stage hashes and
 * prefetches the whole batch before it learns: this is what must not
 * change.
 */
static void test_decide_batch_as_one_by_one(void **state)
{
	struct fx *f[2] = { fx_new(SWITCH_LEARNING), fx_new(SWITCH_LEARNING) };
	static struct pkt p[2][PKT_BURST];
	uint8_t pool[24][6];
	uint64_t rng = 0x2545f4914f6cdd1dull;

	for (unsigned i = 0; i < 24; i++) {
		uint8_t m[6] = { i % 8 == 7 ? 0x01 : 0x02, 0, 0, 0, 5, (uint8_t)i };

		memcpy(pool[i], m, 6);
	}
	memset(pool[23], 0xff, 6);
	for (unsigned round = 0; round < 400 / PKT_BURST + 1; round++) {
		unsigned in = round % 3;

		for (unsigned i = 0; i < PKT_BURST; i++) {
			unsigned d, s;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			d = (unsigned)(rng % 24);
			s = i && rng % 4 == 0 ? 99 : (unsigned)(rng >> 32) % 24; /* runs of one source too */
			/* Straight into the head, as the parse stage leaves it: switch_decide reads only that. */
			p[0][i].head_off = PKT_HEADROOM;
			p[0][i].head_len = 14;
			memcpy(pkt_head(&p[0][i]), pool[d], 6);
			if (s == 99)
				memcpy(pkt_head(&p[0][i]) + 6, pkt_head(&p[0][i - 1]) + 6, 6);
			else
				memcpy(pkt_head(&p[0][i]) + 6, pool[s], 6);
			p[1][i] = p[0][i];
		}
		{
			struct dp_batch *b = &f[0]->ctx->batch;

			*b = (struct dp_batch){ .in = &f[0]->ports[in].port, .pkts = p[0], .n = PKT_BURST };
			switch_decide(f[0]->sw, f[0]->ctx, b);
		}
		for (unsigned i = 0; i < PKT_BURST; i++) {
			struct dp_batch *b = &f[1]->ctx->batch;

			*b = (struct dp_batch){ .in = &f[1]->ports[in].port, .pkts = &p[1][i], .n = 1 };
			switch_decide(f[1]->sw, f[1]->ctx, b);
			assert_int_equal(f[0]->ctx->batch.dest[i], b->dest[0]);
		}
		for (unsigned i = 0; i < 24; i++)
			assert_int_equal(fdb_lookup(&f[0]->sw->fdb, pool[i], 0), fdb_lookup(&f[1]->sw->fdb, pool[i], 0));
	}
	for (unsigned c = 0; c < SWC__COUNT; c++)
		for (unsigned port = 0; port < 3; port++)
			assert_int_equal(counter(f[0], port, c), counter(f[1], port, c));
	fx_free(f[0]);
	fx_free(f[1]);
}

/* Detaching a slot forgets what it learned (the walk is skipped only for a slot that owns nothing). */
static void test_detach_forgets_learned(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	struct switch_port_cfg c = cfg_none();

	attach(f, 1, &c);
	send_frame(f, 1, BCAST, MAC_B);
	send_frame(f, 2, BCAST, MAC_C);
	assert_int_equal(fdb_port_entries(&f->sw->fdb, 1), 1);
	switch_port_detach(f->sw, 1);
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_B, 0), -1);
	assert_int_equal(fdb_port_entries(&f->sw->fdb, 1), 0);
	attach(f, 1, &c); /* owns nothing: no walk, and nothing else goes */
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_C, 0), 2);
	fx_free(f);
}

/* A MAC taken over by another port moves (live migration), but is counted on the port that took it. */
static void test_mac_move_counted(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);

	send_frame(f, 0, BCAST, MAC_A);
	send_frame(f, 1, BCAST, MAC_A);
	assert_int_equal(fdb_lookup(&f->sw->fdb, MAC_A, 0), 1);
	assert_int_equal(counter(f, 1, SWC_MAC_MOVES), 1);
	assert_int_equal(counter(f, 0, SWC_MAC_MOVES), 0);
	send_frame(f, 1, BCAST, MAC_A); /* refresh: not a move */
	assert_int_equal(counter(f, 1, SWC_MAC_MOVES), 1);
	fx_free(f);
}

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

/* ---- thousands of ports: every slot published ---- */

struct big {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct fake_port *ports;	/* PORT_MAX of them, slot i in ports[i] */
};

static struct big *big_new(void)
{
	struct big *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->sw = malloc(sizeof(*b->sw));
	b->ctx = zalloc64(sizeof(*b->ctx));
	b->ports = calloc(PORT_MAX, sizeof(*b->ports));
	assert_true(b->sw && b->ctx && b->ports);
	assert_int_equal(switch_init(b->sw, SWITCH_LEARNING, 300, 4096), 0);
	for (unsigned i = 0; i < PORT_MAX; i++) {
		b->ports[i].port.id = i;
		b->ports[i].port.ops = &fake_ops;
		snprintf(b->ports[i].port.name, sizeof(b->ports[i].port.name), "p%u", i);
		switch_port_set(b->sw, i, &b->ports[i].port);
	}
	return b;
}

static void big_free(struct big *b)
{
	free(b->ports);
	free(b->ctx);
	switch_destroy(b->sw);
	free(b->sw);
	free(b);
}

/* A frame per entry of @dst (each from @src), in one batch, into slot @in. */
static void big_send(struct big *b, unsigned in, const uint8_t (*dst)[6], unsigned n, const uint8_t src[6])
{
	static uint8_t buf[PKT_BURST][60];
	static struct iovec iov[PKT_BURST];
	static _Alignas(64) struct pkt p[PKT_BURST];

	for (unsigned i = 0; i < n; i++) {
		memset(buf[i], 0, sizeof(buf[i]));
		memcpy(buf[i], dst[i], 6);
		memcpy(buf[i] + 6, src, 6);
		iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = sizeof(buf[i]) };
		pkt_rx_init(&p[i], &iov[i], 1, sizeof(buf[i]), in);
	}
	dp_forward(b->sw, b->ctx, &b->ports[in].port, p, n);
}

/* Frames every port received, and how many ports received none. */
static uint64_t big_got(struct big *b, unsigned *silent)
{
	uint64_t n = 0;

	*silent = 0;
	for (unsigned i = 0; i < PORT_MAX; i++) {
		n += b->ports[i].got;
		*silent += b->ports[i].got == 0;
	}
	return n;
}

static uint64_t big_drops(struct big *b, unsigned port, enum port_drop why)
{
	return atomic_load(&b->ports[port].port.stats.drops[why]);
}

static void big_zero(struct big *b)
{
	for (unsigned i = 0; i < PORT_MAX; i++)
		b->ports[i].got = 0;
}

/* 4,096 ports: a broadcast from the last reaches every other one once; unicast goes first <-> last only. */
static void test_scale_first_to_last(void **state)
{
	struct big *b = big_new();
	const unsigned last = PORT_MAX - 1;
	unsigned silent;

	assert_true(PORT_MAX >= 4096);
	big_send(b, last, &BCAST, 1, MAC_B);
	assert_int_equal(big_got(b, &silent), PORT_MAX - 1);
	assert_int_equal(silent, 1);
	assert_int_equal(b->ports[last].got, 0);
	assert_int_equal(b->ports[0].got, 1);
	assert_int_equal(fdb_lookup(&b->sw->fdb, MAC_B, 0), (int)last);
	big_send(b, 0, &BCAST, 1, MAC_A);
	big_zero(b);

	big_send(b, 0, &MAC_B, 1, MAC_A);
	assert_int_equal(b->ports[last].got, 1);
	assert_memory_equal(b->ports[last].last_dst, MAC_B, 6);
	big_send(b, last, (const uint8_t[][6]){ { 0x02, 0, 0, 0, 0, 0xa }, { 0x02, 0, 0, 0, 0, 0xa } }, 2, MAC_B);
	assert_int_equal(b->ports[0].got, 2);
	assert_int_equal(big_got(b, &silent), 3);
	assert_int_equal(b->ctx->ngrp, 0);
	big_free(b);
}

/*
 * The flood budget at 4,096 ports (default 4,096 copies): the first
 * broadcast reaches all 4,095 other ports, the next ones are
 * `flood_budget` drops, and unicast in the same batch is served.  The
 * rounds pay the copies back, DP_FLOOD_QUEUE_COPIES each (one queue); budget 0 is no
 * limit.
 */
static void test_scale_flood_budget(void **state)
{
	struct big *b = big_new();
	const unsigned last = PORT_MAX - 1;
	const uint8_t dst[4][6] = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, { 0x02, 0, 0, 0, 0, 0xb },
				    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	unsigned silent;

	assert_int_equal(b->sw->flood_budget, SWITCH_DEFAULT_FLOOD_BUDGET);
	assert_string_equal(port_drop_names[DROP_FLOOD_BUDGET], "flood_budget");
	b->sw->flood_budget = 0;
	big_send(b, last, &BCAST, 1, MAC_B); /* MAC_B behind the last port (no budget taken) */
	b->sw->flood_budget = SWITCH_DEFAULT_FLOOD_BUDGET;
	dp_round_start(b->ctx, 1);
	big_zero(b);

	big_send(b, 0, dst, 4, MAC_A);
	assert_int_equal(big_drops(b, 0, DROP_FLOOD_BUDGET), 2);
	assert_int_equal(b->ports[last].got, 2);		/* the broadcast and the unicast, in one burst */
	assert_int_equal(big_got(b, &silent), PORT_MAX - 1 + 1);
	assert_int_equal(silent, 1);				/* the ingress port */
	assert_int_equal(b->ctx->flood_copies, PORT_MAX - 1);

	/* Same round: nothing left. */
	big_send(b, 5, &BCAST, 1, MAC_C);
	assert_int_equal(big_drops(b, 5, DROP_FLOOD_BUDGET), 1);
	assert_true(b->ctx->flood_starved);
	/* One more once the rounds paid back all but the copies of one: 4,094 copies at 128 a round. */
	for (unsigned r = 0; r < (PORT_MAX - 2 + DP_FLOOD_QUEUE_COPIES - 1) / DP_FLOOD_QUEUE_COPIES - 1; r++)
		dp_round_start(b->ctx, 1);
	big_zero(b);
	big_send(b, 5, &BCAST, 1, MAC_C);
	assert_int_equal(big_drops(b, 5, DROP_FLOOD_BUDGET), 2);
	dp_round_start(b->ctx, 1);
	big_zero(b);
	big_send(b, 5, &BCAST, 1, MAC_C);
	assert_int_equal(big_got(b, &silent), PORT_MAX - 1);
	assert_int_equal(b->ports[5].got, 0);

	/* No budget: every frame goes everywhere. */
	b->sw->flood_budget = 0;
	big_zero(b);
	big_send(b, 0, dst, 4, MAC_A);
	assert_int_equal(big_got(b, &silent), 3 * (PORT_MAX - 1) + 1);
	assert_int_equal(big_drops(b, 0, DROP_FLOOD_BUDGET), 2);
	big_free(b);
}

/*
 * A broadcast storm at 4,096 ports beside a unicast stream, a full batch
 * of each every round: unicast gets every frame through, and the floods'
 * copies average at most DP_FLOOD_QUEUE_COPIES a round (the refill of
 * one queue here; after the budget's first burst), twice the unicast
 * batch.  With the budget
 * made again every round, one broadcast a round went out: 4,095 copies,
 * 64 times the unicast batch's work.
 */
static void test_scale_flood_storm_fair(void **state)
{
	enum { ROUNDS = 600 };
	struct big *b = big_new();
	const unsigned last = PORT_MAX - 1, storm = 7;
	static uint8_t bcast[PKT_BURST][6], uni[PKT_BURST][6];
	uint64_t flood = 0, unicast = 0, floods_out;
	unsigned silent;

	for (unsigned i = 0; i < PKT_BURST; i++) {
		memcpy(bcast[i], BCAST, 6);
		memcpy(uni[i], MAC_B, 6);
	}
	b->sw->flood_budget = 0;
	big_send(b, last, &BCAST, 1, MAC_B); /* MAC_B learned behind the last port */
	b->sw->flood_budget = SWITCH_DEFAULT_FLOOD_BUDGET;
	dp_round_start(b->ctx, 1);
	for (unsigned r = 0; r < ROUNDS; r++) {
		dp_round_start(b->ctx, 1);
		big_zero(b);
		big_send(b, storm, bcast, PKT_BURST, MAC_C);
		big_send(b, 0, uni, PKT_BURST, MAC_A);
		unicast += PKT_BURST;
		flood += big_got(b, &silent) - PKT_BURST;
	}
	floods_out = flood / (PORT_MAX - 1);
	printf("storm: %llu unicast frames, %llu broadcasts of %u out (%llu copies), %llu flood_budget drops\n",
	       (unsigned long long)unicast, (unsigned long long)floods_out, ROUNDS * PKT_BURST, (unsigned long long)flood,
	       (unsigned long long)big_drops(b, storm, DROP_FLOOD_BUDGET));
	assert_int_equal(flood % (PORT_MAX - 1), 0); /* whole broadcasts, to every port but the storm's */
	assert_true(floods_out >= 2);		      /* the storm is slowed, not shut out */
	assert_true(flood <= SWITCH_DEFAULT_FLOOD_BUDGET + ROUNDS * DP_FLOOD_QUEUE_COPIES);
	assert_int_equal(big_drops(b, storm, DROP_FLOOD_BUDGET), ROUNDS * PKT_BURST - floods_out);
	assert_int_equal(big_drops(b, 0, DROP_FLOOD_BUDGET), 0);
	big_free(b);
}

/* A port deleted in the middle of 4,096: floods skip it, its MACs are forgotten; back again, it is reached. */
static void test_scale_port_del_middle(void **state)
{
	struct big *b = big_new();
	const unsigned mid = PORT_MAX / 2;
	unsigned silent;

	b->sw->flood_budget = 0;
	big_send(b, mid, &BCAST, 1, MAC_C);
	assert_int_equal(fdb_lookup(&b->sw->fdb, MAC_C, 0), (int)mid);
	switch_port_set(b->sw, mid, NULL);
	switch_port_detach(b->sw, mid);
	assert_int_equal(atomic_load(&b->sw->flood_list)->n, PORT_MAX - 1);
	big_zero(b);
	big_send(b, 0, &BCAST, 1, MAC_A);
	assert_int_equal(big_got(b, &silent), PORT_MAX - 2);
	assert_int_equal(b->ports[mid].got, 0);
	big_send(b, 0, &MAC_C, 1, MAC_A); /* forgotten: flooded, but not to the deleted port */
	assert_int_equal(b->ports[mid].got, 0);
	assert_int_equal(big_got(b, &silent), 2 * (PORT_MAX - 2));

	switch_port_set(b->sw, mid, &b->ports[mid].port);
	assert_int_equal(atomic_load(&b->sw->flood_list)->n, PORT_MAX);
	for (unsigned i = 1; i < PORT_MAX; i++)
		assert_true(atomic_load(&b->sw->flood_list)->slot[i - 1] < atomic_load(&b->sw->flood_list)->slot[i]);
	big_zero(b);
	big_send(b, 0, &BCAST, 1, MAC_A);
	assert_int_equal(b->ports[mid].got, 1);
	assert_int_equal(big_got(b, &silent), PORT_MAX - 1);
	big_free(b);
}

static int parse(const char *json, struct switch_port_cfg *c, char *err, size_t errlen)
{
	struct json_object *o = json_tokener_parse(json);
	int rc;

	assert_non_null(o);
	rc = port_opts_parse(o, c, err, errlen);
	json_object_put(o);
	return rc;
}

/* The generic port options, as vswctl and a config file spell them. */
static void test_port_opts(void **state)
{
	struct switch_port_cfg c;
	char err[256];

	assert_int_equal(parse("{}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.mac_limit, SWITCH_DEFAULT_MAC_LIMIT);
	assert_int_equal(c.flood_rate_pps, SWITCH_DEFAULT_FLOOD_RATE);
	assert_false(c.ip_lock);
	assert_int_equal(c.n_macs, 0);

	assert_int_equal(parse("{\"mac\":\"02:00:00:00:00:0A,02:00:00:00:00:0b\",\"ip\":\"10.0.0.1, fd00::1\","
			       "\"mac_limit\":5,\"flood_rate\":0}",
			       &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.n_macs, 2);
	assert_memory_equal(c.macs[1], MAC_B, 6);
	assert_true(c.ip_lock);
	assert_int_equal(c.n_ip4, 1);
	assert_int_equal(c.ip4[0][3], 1);
	assert_int_equal(c.n_ip6, 1);
	assert_int_equal(c.ip6[0][0], 0xfd);
	assert_int_equal(c.mac_limit, 5);
	assert_int_equal(c.flood_rate_pps, 0);

	assert_int_equal(parse("{\"mac\":[\"02:00:00:00:00:0a\"],\"ip\":[\"10.0.0.1\",\"10.0.0.2\"]}", &c, err,
			       sizeof(err)),
			 0);
	assert_int_equal(c.n_macs, 1);
	assert_int_equal(c.n_ip4, 2);

	static const char *const bad[] = {
		"{\"mac\":\"01:00:5e:00:00:01\"}",	/* multicast */
		"{\"mac\":\"00:00:00:00:00:00\"}",
		"{\"mac\":\"02:00:00:00:00\"}",
		"{\"mac\":\"02:00:00:00:00:0a,\"}",
		"{\"mac\":\"02:00:00:00:00:0a:\"}",
		"{\"mac\":5}",
		"{\"ip\":\"10.0.0.256\"}",
		"{\"ip\":\"\"}",
		"{\"ip\":\"10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,10.0.0.5,10.0.0.6,10.0.0.7,10.0.0.8,10.0.0.9\"}",
		"{\"mac_limit\":-1}",
		"{\"flood_rate\":\"fast\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i], &c, err, sizeof(err)), -1);
		print_message("%s -> %s\n", bad[i], err);
		assert_true(err[0] != '\0');
	}
}

static uint64_t cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

enum { COST_MACS = 1024, COST_ROUNDS = 200, COST_REPEATS = 9 };

static uint8_t cost_macs[2][COST_MACS][6];	/* [0] learned, [1] never seen */

/* Cycles per lookup of the fastest of a few runs: independent lookups (throughput) or each after the last (latency). */
static double lookup_cycles(struct fdb *t, unsigned set, bool chained)
{
	double best = 1e30;
	long sum = 0;

	for (unsigned rep = 0; rep < COST_REPEATS; rep++) {
		unsigned idx = 0;
		uint64_t t0 = cycles();

		for (unsigned r = 0; r < COST_ROUNDS; r++)
			for (unsigned i = 0; i < COST_MACS; i++) {
				int port = fdb_lookup(t, cost_macs[set][chained ? idx : i], 2);

				/* chained: the next MAC depends on this result, so lookups cannot overlap */
				idx = (idx + 1 + (unsigned)(port & 0x10000)) % COST_MACS;
				sum += port;
			}
		double c = (double)(cycles() - t0) / (COST_ROUNDS * COST_MACS);

		if (c < best)
			best = c;
	}
	assert_true(sum != 0);
	return best;
}

/* Not a pass/fail test: the cost of a lookup (hash, bucket scan) in cycles (ns off x86), hits and misses. */
static void test_fdb_lookup_cost(void **state)
{
	struct fdb *t = fdb_new(4096);

	for (unsigned i = 0; i < COST_MACS; i++) {
		uint8_t m[6] = { 0x02, 0x76, 0, (uint8_t)(i >> 8), (uint8_t)i, 1 };

		memcpy(cost_macs[0][i], m, 6);
		m[1] = 0x77;
		memcpy(cost_macs[1][i], m, 6);
		fdb_learn(t, cost_macs[0][i], i % 7, 1);
	}
	print_message("fdb_lookup, cycles (best of %d, %d MACs): hit %.1f, miss %.1f; one after another: hit %.1f, "
		      "miss %.1f\n",
		      COST_REPEATS, COST_MACS, lookup_cycles(t, 0, false), lookup_cycles(t, 1, false),
		      lookup_cycles(t, 0, true), lookup_cycles(t, 1, true));
	fdb_free(t);
}

static void null_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
}

static const struct port_ops null_ops = { .type = "null", .tx_burst = null_tx_burst };

/*
 * Not a pass/fail test: cycles per frame through dp_forward (parse,
 * decide, gather, tx) for ports without options, bursts of 64 unicast
 * frames from one source to 8 known destinations in turn (a lookup per
 * frame, the worst case of the burst cache), the same with one destination
 * (the benchmarks' case), and that again with stage timing on.
 */
static void test_forward_cost(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	static struct pkt p[PKT_BURST];
	static uint8_t bufs[PKT_BURST][60];
	static struct iovec iov[PKT_BURST];
	uint8_t dsts[8][6];

	for (unsigned i = 0; i < 3; i++)
		f->ports[i].port.ops = &null_ops;
	for (unsigned d = 0; d < 8; d++) {
		uint8_t m[6] = { 0x02, 0, 0, 0, 2, (uint8_t)d };

		memcpy(dsts[d], m, 6);
		send_frame(f, 1 + d % 2, BCAST, m);
	}
	for (unsigned pass = 0; pass < 3; pass++) {
		/* 8 destinations, 1, then 1 with stage timing on (a dispatcher's marks, no rx/rx_done here). */
		unsigned spread = pass == 0 ? 8 : 1;
		double best = 1e30;

		if (pass == 2) {
			f->ctx->io.perf = calloc(1, sizeof(*f->ctx->io.perf));
			dp_perf_start(f->ctx->io.perf);
		}

		burst(p, iov, bufs, PKT_BURST, (const uint8_t(*)[6])dsts, spread, MAC_A);
		for (unsigned rep = 0; rep < COST_REPEATS; rep++) {
			uint64_t t0 = cycles();

			for (unsigned r = 0; r < 2000; r++)
				dp_forward(f->sw, f->ctx, &f->ports[0].port, p, PKT_BURST);
			double c = (double)(cycles() - t0) / (2000.0 * PKT_BURST);

			if (c < best)
				best = c;
		}
		print_message("dp_forward, cycles per frame (best of %d), %u destination(s) per burst%s: %.1f\n",
			      COST_REPEATS, spread, pass == 2 ? ", timing on" : "", best);
	}
	free(f->ctx->io.perf);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdb_basic),
		cmocka_unit_test(test_fdb_full_bucket_and_dump),
		cmocka_unit_test(test_learning_flood_then_unicast),
		cmocka_unit_test(test_never_back_to_ingress),
		cmocka_unit_test(test_hub),
		cmocka_unit_test(test_alone_counts_no_destination),
		cmocka_unit_test(test_batch_grouping),
		cmocka_unit_test(test_fdb_crafted_macs_do_not_evict),
		cmocka_unit_test(test_fdb_million),
		cmocka_unit_test(test_fdb_hash_spreads_sequential_macs),
		cmocka_unit_test(test_fdb_age_in_slices),
		cmocka_unit_test(test_fdb_port_limit_at_scale),
		cmocka_unit_test(test_fdb_full_bucket_evicts_oldest_learned),
		cmocka_unit_test(test_fdb_refresh_skips_fresh_sources),
		cmocka_unit_test(test_fdb_flush_generation),
		cmocka_unit_test(test_decide_batch_as_one_by_one),
		cmocka_unit_test(test_detach_forgets_learned),
		cmocka_unit_test(test_mac_move_counted),
		cmocka_unit_test(test_mac_lock),
		cmocka_unit_test(test_ip_lock),
		cmocka_unit_test(test_checked_header_is_delivered),
		cmocka_unit_test(test_rewritten_after_lookup),
		cmocka_unit_test(test_checked_ip_is_delivered),
		cmocka_unit_test(test_mac_limit),
		cmocka_unit_test(test_flood_rate),
		cmocka_unit_test(test_scale_first_to_last),
		cmocka_unit_test(test_scale_flood_budget),
		cmocka_unit_test(test_scale_flood_storm_fair),
		cmocka_unit_test(test_scale_port_del_middle),
		cmocka_unit_test(test_port_opts),
		cmocka_unit_test(test_fdb_lookup_cost),
		cmocka_unit_test(test_forward_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
