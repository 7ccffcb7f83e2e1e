/* test_switch_scale.c - unit tests of a switch of PORT_MAX ports: every slot published, the flood budget, fairness in a storm, floods within VLANs, a port deleted in the middle. */
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

/* ---- thousands of ports: every slot published ---- */

/* What a lone broadcast to every other port costs a queue's bucket: its copies and its ports' bursts. */
#define BCAST_COST ((PORT_MAX - 1) * (1 + DP_FLOOD_VISIT_COPIES))

struct big {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct fake_port *ports;	/* PORT_MAX of them, slot i in ports[i] */
};

/* A switch with every slot published, each with the options @cfg_of gives it (NULL: none). */
static struct big *big_new_with(void (*cfg_of)(unsigned slot, struct switch_port_cfg *c))
{
	struct big *b = calloc(1, sizeof(*b));
	struct switch_port_cfg c;

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
		if (cfg_of) {
			char err[128] = "";

			cfg_of(i, &c);
			assert_int_equal(switch_port_attach(b->sw, i, &c, err, sizeof(err)), 0);
		}
		switch_port_set(b->sw, i, &b->ports[i].port);
	}
	return b;
}

static struct big *big_new(void)
{
	return big_new_with(NULL);
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
 * A storm's frames: a full batch of broadcasts in @bcast, one of unicast
 * to MAC_B in @uni, which the switch learns behind the last port.
 */
static void storm_frames(struct big *b, uint8_t (*bcast)[6], uint8_t (*uni)[6])
{
	for (unsigned i = 0; i < PKT_BURST; i++) {
		memcpy(bcast[i], BCAST, 6);
		memcpy(uni[i], MAC_B, 6);
	}
	b->sw->flood_budget = 0;
	big_send(b, PORT_MAX - 1, &BCAST, 1, MAC_B);
	b->sw->flood_budget = SWITCH_DEFAULT_FLOOD_BUDGET;
}

/*
 * A round of two hot queues: slot @storm's batch of broadcasts @bcast
 * (from MAC_C), held by its queue's bucket *@q_storm as the poller holds
 * a queue beside unicast, then slot @uni_in's batch @uni (from MAC_A),
 * its bucket *@q_uni not holding it.
 */
static void storm_round(struct big *b, unsigned storm, unsigned *q_storm, uint8_t (*bcast)[6], unsigned uni_in,
			unsigned *q_uni, uint8_t (*uni)[6])
{
	dp_round_start(b->ctx, 2);
	big_zero(b);
	dp_queue_start(b->ctx, q_storm, true);
	big_send(b, storm, bcast, PKT_BURST, MAC_C);
	dp_queue_start(b->ctx, q_uni, false);
	big_send(b, uni_in, uni, PKT_BURST, MAC_A);
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
	const unsigned storm = 7;
	static uint8_t bcast[PKT_BURST][6], uni[PKT_BURST][6];
	uint64_t flood = 0, unicast = 0, floods_out;
	unsigned silent;

	storm_frames(b, bcast, uni);
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
	/* The first on a full bucket, then one each time the rounds paid a whole one back. */
	assert_true(floods_out <= 1 + ROUNDS * DP_FLOOD_QUEUE_COPIES / (PORT_MAX - 1));
	assert_int_equal(big_drops(b, storm, DROP_FLOOD_BUDGET), ROUNDS * PKT_BURST - floods_out);
	assert_int_equal(big_drops(b, 0, DROP_FLOOD_BUDGET), 0);
	big_free(b);
}

/*
 * The storm beside unicast again, the storm's batches held by its own
 * queue's bucket as the poller holds them while another queue sends
 * unicast (dp_queue_start, poll.c): its floods cost at most
 * DP_FLOOD_QUEUE_SHARE a poll (a unicast batch's work) after its bucket's
 * first burst, not the worker's refill of both queues
 * (2 * DP_FLOOD_QUEUE_COPIES copies), which let one port broadcasting to
 * 1,000 take 92 % of a worker beside unicast.
 */
static void test_scale_flood_queue_share(void **state)
{
	enum { ROUNDS = 800 };
	struct big *b = big_new();
	const unsigned last = PORT_MAX - 1, storm = 7;
	static uint8_t bcast[PKT_BURST][6], uni[PKT_BURST][6];
	unsigned q_storm = 0, q_uni = 0, silent;
	uint64_t flood = 0, floods_out;

	storm_frames(b, bcast, uni);
	for (unsigned r = 0; r < ROUNDS; r++) {
		storm_round(b, storm, &q_storm, bcast, 0, &q_uni, uni);
		assert_int_equal(b->ports[last].got, PKT_BURST + (b->ports[0].got ? 1 : 0));
		flood += big_got(b, &silent) - PKT_BURST;
	}
	floods_out = flood / (PORT_MAX - 1);
	printf("queue share: %llu broadcasts of %u out in %u rounds; the worker's bucket alone: one per %u rounds\n",
	       (unsigned long long)floods_out, ROUNDS * PKT_BURST, ROUNDS,
	       (PORT_MAX - 1 + 2 * DP_FLOOD_QUEUE_COPIES - 1) / (2 * DP_FLOOD_QUEUE_COPIES));
	assert_int_equal(flood % (PORT_MAX - 1), 0);
	assert_true(floods_out >= 2);
	/* The first on a full bucket, then one each time the share paid a whole one back. */
	assert_true(floods_out <= 1 + ROUNDS * DP_FLOOD_QUEUE_SHARE / BCAST_COST);
	assert_int_equal(big_drops(b, storm, DROP_FLOOD_BUDGET), ROUNDS * PKT_BURST - floods_out);
	assert_int_equal(big_drops(b, 0, DROP_FLOOD_BUDGET), 0);
	assert_int_equal(q_uni, 0); /* unicast costs no bucket anything */
	big_free(b);
}

/*
 * Two ports flooding full batches to each other (a two-port switch's
 * unknown unicast, testpmd's flowgen), held to their share: each batch
 * costs PKT_BURST copies and one burst, what a poll pays back: never
 * refused.  Two storms on a big switch, each held: each gets its own
 * share, whichever is served first.
 */
static void test_scale_flood_queue_small(void **state)
{
	enum { ROUNDS = 500 };
	struct big *b = big_new();
	static uint8_t unknown[PKT_BURST][6];
	unsigned qa = 0, qb = 0, silent;
	uint64_t flood_a = 0, flood_b = 0;

	for (unsigned i = 0; i < PKT_BURST; i++)
		memcpy(unknown[i], (const uint8_t[6]){ 0x02, 0, 0, 0, 1, (uint8_t)i }, 6);
	for (unsigned i = 2; i < PORT_MAX; i++)
		switch_port_set(b->sw, i, NULL);
	assert_int_equal(atomic_load(&b->sw->flood_list)->n, 2);
	for (unsigned r = 0; r < ROUNDS; r++) {
		dp_round_start(b->ctx, 2);
		big_zero(b);
		dp_queue_start(b->ctx, &qa, true);
		big_send(b, 0, unknown, PKT_BURST, MAC_A);
		dp_queue_start(b->ctx, &qb, true);
		big_send(b, 1, unknown, PKT_BURST, MAC_B);
		assert_int_equal(b->ports[0].got, PKT_BURST);
		assert_int_equal(b->ports[1].got, PKT_BURST);
	}
	assert_int_equal(big_drops(b, 0, DROP_FLOOD_BUDGET) + big_drops(b, 1, DROP_FLOOD_BUDGET), 0);
	assert_int_equal(qa, PKT_BURST + DP_FLOOD_VISIT_COPIES); /* each poll pays the last batch back whole */
	big_free(b);

	b = big_new();
	qa = qb = 0;
	for (unsigned r = 0; r < ROUNDS; r++) {
		dp_round_start(b->ctx, 2);
		big_zero(b);
		dp_queue_start(b->ctx, &qa, true);
		big_send(b, 3, &BCAST, 1, MAC_A);
		flood_a += big_got(b, &silent);
		big_zero(b);
		dp_queue_start(b->ctx, &qb, true);
		big_send(b, 4, &BCAST, 1, MAC_B);
		flood_b += big_got(b, &silent);
	}
	flood_a /= PORT_MAX - 1;
	flood_b /= PORT_MAX - 1;
	printf("two storms: %llu and %llu broadcasts in %u rounds\n", (unsigned long long)flood_a,
	       (unsigned long long)flood_b, ROUNDS);
	assert_true(flood_a >= 2 && flood_b >= 2);
	assert_true(flood_a <= 1 + ROUNDS * DP_FLOOD_QUEUE_SHARE / BCAST_COST);
	assert_true(flood_b <= 1 + ROUNDS * DP_FLOOD_QUEUE_SHARE / BCAST_COST);
	big_free(b);
}

/* ---- VLANs: a flood costs and reaches the ports of its VLAN ---- */

/*
 * Tenants on a switch of 4,096: access ports of VLAN 20, but 1 and 2 in
 * VLAN 10, 3 alone in 30, 4 a trunk of 10 and 99, 5 native-untagged in 40
 * with trunks=10,99, and 6 a plain port (every VLAN).
 */
static void tenants(unsigned slot, struct switch_port_cfg *c)
{
	*c = cfg_none();
	if (slot == 6)
		return;
	c->vlan_mode = SWITCH_VLAN_ACCESS;
	c->has_tag = true;
	c->tag = slot == 1 || slot == 2 ? 10 : slot == 3 ? 30 : 20;
	if (slot == 4 || slot == 5) {
		c->vlan_mode = slot == 4 ? SWITCH_VLAN_TRUNK : SWITCH_VLAN_NATIVE_UNTAGGED;
		c->has_tag = slot == 5;
		c->tag = slot == 5 ? 40 : 0;
		c->trunks_only = true;
		c->trunks[10 / 64] |= 1ull << (10 % 64);
		c->trunks[99 / 64] |= 1ull << (99 % 64);
	}
}

/* Broadcasts into slot @in, one per entry of @tci (802.1Q TCI; PKT_VLAN_NONE: untagged), in one batch. */
static void big_send_tagged(struct big *b, unsigned in, const unsigned *tci, unsigned n, const uint8_t src[6])
{
	static uint8_t buf[PKT_BURST][64];
	static struct iovec iov[PKT_BURST];
	static _Alignas(64) struct pkt p[PKT_BURST];

	for (unsigned i = 0; i < n; i++) {
		uint8_t *h = buf[i];
		unsigned off = 12;

		memset(h, 0, sizeof(buf[i]));
		memcpy(h, BCAST, 6);
		memcpy(h + 6, src, 6);
		if (tci[i] != PKT_VLAN_NONE) {
			h[12] = 0x81;
			h[14] = (uint8_t)(tci[i] >> 8);
			h[15] = (uint8_t)tci[i];
			off = 16;
		}
		h[off] = 0x08;
		iov[i] = (struct iovec){ .iov_base = h, .iov_len = sizeof(buf[i]) };
		pkt_rx_init(&p[i], &iov[i], 1, sizeof(buf[i]), in);
	}
	dp_forward(b->sw, b->ctx, &b->ports[in].port, p, n);
}

/*
 * A broadcast reaches the ports of its VLAN and is charged their number
 * of copies, not the switch's: a flood that finds no other port of its
 * VLAN is a `no_destination` drop; a trunk's batch of several VLANs goes
 * to each VLAN's ports.
 */
static void test_scale_vlan_flood_reach(void **state)
{
	struct big *b = big_new_with(tenants);
	const struct switch_portlist *l = atomic_load(&b->sw->flood_list);
	const unsigned mixed[4] = { 10, 99, PKT_VLAN_NONE, 0x2000 | 10 };
	unsigned silent;

	assert_int_equal(switch_list_carrying(l, 10), 5); /* 1, 2, 4, 5, 6 */
	assert_int_equal(switch_list_carrying(l, 20), PORT_MAX - 5);
	assert_int_equal(switch_list_carrying(l, 30), 2);
	assert_int_equal(switch_list_carrying(l, 40), 2);
	assert_int_equal(switch_list_carrying(l, 99), 3);
	assert_int_equal(switch_list_carrying(l, 0), 1);

	dp_round_start(b->ctx, 1);
	big_send(b, 1, &BCAST, 1, MAC_A);
	assert_int_equal(big_got(b, &silent), 4);
	assert_int_equal(b->ports[2].got + b->ports[4].got + b->ports[5].got + b->ports[6].got, 4);
	assert_int_equal(b->ctx->flood_copies, 4);
	big_zero(b);
	big_send(b, 3, &BCAST, 1, MAC_C);
	assert_int_equal(big_got(b, &silent), 1);
	assert_int_equal(b->ports[6].got, 1);
	assert_int_equal(b->ctx->flood_copies, 5);

	/* Alone in VLAN 30 once the plain port goes: nobody to flood to, counted. */
	switch_port_set(b->sw, 6, NULL);
	big_zero(b);
	big_send(b, 3, &BCAST, 1, MAC_C);
	assert_int_equal(big_got(b, &silent), 0);
	assert_int_equal(big_drops(b, 3, DROP_NO_DESTINATION), 1);
	assert_int_equal(big_drops(b, 3, DROP_FLOOD_BUDGET), 0);
	assert_int_equal(b->ctx->flood_copies, 5);

	/* VLAN 20: every other port of it, within the budget (4,089 copies of 4,096). */
	dp_round_start(b->ctx, 1);
	big_send(b, 7, &BCAST, 1, MAC_B);
	assert_int_equal(big_got(b, &silent), PORT_MAX - 7);
	assert_int_equal(b->ports[0].got, 1);
	assert_int_equal(b->ports[1].got + b->ports[4].got, 0);
	assert_int_equal(b->ctx->flood_copies, PORT_MAX - 7);
	assert_int_equal(big_drops(b, 7, DROP_FLOOD_BUDGET), 0);

	/* The trunk's batch of VLANs 10, 99, 0 (untagged: not its) and 10 again (with a priority). */
	switch_port_set(b->sw, 6, &b->ports[6].port);
	b->sw->flood_budget = 0;
	big_zero(b);
	big_send_tagged(b, 4, mixed, 4, MAC_C);
	assert_int_equal(b->ports[1].got, 2);
	assert_int_equal(b->ports[2].got, 2);
	assert_int_equal(b->ports[5].got, 3);
	assert_int_equal(b->ports[6].got, 3);
	assert_int_equal(big_got(b, &silent), 10);
	assert_int_equal(big_drops(b, 4, DROP_VLAN_DENIED), 1); /* untagged: VLAN 0, not in its trunks= */
	switch_port_set(b->sw, 6, NULL);
	big_zero(b);
	big_send_tagged(b, 4, mixed, 4, MAC_C);
	assert_int_equal(big_got(b, &silent), 7);
	assert_int_equal(b->ports[5].got, 3);
	assert_int_equal(big_drops(b, 4, DROP_NO_DESTINATION), 0);
	assert_int_equal(big_drops(b, 4, DROP_VLAN_DENIED), 2);
	big_free(b);
}

/*
 * A storm in a VLAN of four ports on a switch of 4,096, beside unicast in
 * another VLAN, held to its queue's share: it pays its copies, its bursts
 * and the flood pass's walk past the 4,091 ports of other VLANs, not the
 * 4,094 copies a broadcast to the whole switch costs, so it gets a share
 * of the poll's work: at least a broadcast a poll (5 in 800 polls when
 * every port was charged as a copy).  The flood pass's cycles a port of
 * another VLAN are printed.
 */
static void test_scale_vlan_flood_queue_share(void **state)
{
	enum { ROUNDS = 800, TIMED = 2000 };
	struct big *b = big_new_with(tenants);
	const unsigned last = PORT_MAX - 1, storm = 1, fan = 3, skip = PORT_MAX - 1 - 1 - fan;
	const unsigned first = fan * (1 + DP_FLOOD_VISIT_COPIES) + skip / DP_FLOOD_SKIPS_PER_COPY;
	static uint8_t bcast[PKT_BURST][6], uni[PKT_BURST][6];
	unsigned q_storm = 0, q_uni = 0, silent, batches = 0;
	uint64_t floods_out = 0, t;

	storm_frames(b, bcast, uni);
	switch_port_set(b->sw, 6, NULL); /* VLAN 10: 1 (the storm), 2, 4, 5 */
	for (unsigned r = 0; r < ROUNDS; r++) {
		storm_round(b, storm, &q_storm, bcast, 7, &q_uni, uni);
		assert_int_equal(b->ports[last].got, PKT_BURST);
		assert_int_equal(b->ports[4].got, b->ports[2].got);
		assert_int_equal(b->ports[5].got, b->ports[2].got);
		assert_int_equal(big_got(b, &silent), PKT_BURST + fan * b->ports[2].got);
		floods_out += b->ports[2].got;
		batches += b->ports[2].got > 0;
	}
	printf("VLAN storm: %llu broadcasts of %u out in %u rounds (%u batches), first of a batch %u copies\n",
	       (unsigned long long)floods_out, ROUNDS * PKT_BURST, ROUNDS, batches, first);
	assert_true(floods_out >= ROUNDS);
	/* What the storm was charged: its bucket's depth and the polls' refills, and one frame's overshoot. */
	assert_true(floods_out * fan + batches * (uint64_t)(first - fan) <=
		    SWITCH_DEFAULT_FLOOD_BUDGET + (uint64_t)ROUNDS * DP_FLOOD_QUEUE_SHARE + first);
	assert_int_equal(big_drops(b, storm, DROP_FLOOD_BUDGET), ROUNDS * PKT_BURST - floods_out);
	assert_int_equal(big_drops(b, 7, DROP_FLOOD_BUDGET), 0);

	/* The flood pass alone, unbudgeted: what walking past a port of another VLAN costs. */
	b->sw->flood_budget = 0;
	t = cycles();
	for (unsigned r = 0; r < TIMED; r++)
		big_send(b, storm, &BCAST, 1, MAC_C);
	t = cycles() - t;
	printf("VLAN flood pass at %u ports: %.1f cycles a broadcast, %.2f a port of another VLAN\n", PORT_MAX,
	       (double)t / TIMED, (double)t / TIMED / skip);
	big_free(b);
}

/* The cheapest of @reps timed passes of @n broadcasts each, from slot @in in the VLANs of @tci (cycles a pass). */
static uint64_t flood_pass_cycles(struct big *b, unsigned in, const unsigned *tci, unsigned n, unsigned reps)
{
	uint64_t best = UINT64_MAX;

	for (unsigned r = 0; r < reps; r++) {
		uint64_t t = cycles();

		for (unsigned k = 0; k < 20; k++)
			big_send_tagged(b, in, tci, n, MAC_C);
		t = (cycles() - t) / 20;
		best = t < best ? t : best;
	}
	return best;
}

/*
 * A trunk's batch of floods in two VLANs (10 to three ports, 99 to one):
 * the queue's bucket pays each VLAN's bursts once and the pass's walk
 * once, whatever the frames' order; and the pass costs about what a pass
 * of one VLAN does (a port of neither VLAN passed on its two bytes in the
 * list, not by each frame's test), timed.
 */
static void test_scale_vlan_flood_mixed(void **state)
{
	struct big *b = big_new_with(tenants);
	const unsigned fan10 = 3, fan99 = 1, skip10 = PORT_MAX - 1 - 1 - fan10;
	const unsigned want = PKT_BURST / 2 * (fan10 + fan99) + (fan10 + fan99) * DP_FLOOD_VISIT_COPIES +
			      skip10 / DP_FLOOD_SKIPS_PER_COPY;
	unsigned interleaved[PKT_BURST], sorted[PKT_BURST], one[PKT_BURST], q, silent;
	uint64_t c_one, c_two;

	for (unsigned i = 0; i < PKT_BURST; i++) {
		interleaved[i] = i % 2 ? 99 : 10;
		sorted[i] = i < PKT_BURST / 2 ? 10 : 99;
		one[i] = 10;
	}
	switch_port_set(b->sw, 6, NULL); /* VLAN 10: 1, 2, 4 (the trunk), 5; VLAN 99: 4, 5 */
	for (unsigned k = 0; k < 2; k++) {
		q = 0;
		dp_round_start(b->ctx, 1);
		dp_queue_start(b->ctx, &q, true);
		big_zero(b);
		big_send_tagged(b, 4, k ? sorted : interleaved, PKT_BURST, MAC_C);
		assert_int_equal(q, want);
		assert_int_equal(b->ports[5].got, PKT_BURST);
		assert_int_equal(b->ports[1].got, PKT_BURST / 2);
		assert_int_equal(big_got(b, &silent), PKT_BURST / 2 * (fan10 + fan99));
	}
	b->sw->flood_budget = 0;
	c_one = flood_pass_cycles(b, 4, one, PKT_BURST, 7);
	c_two = flood_pass_cycles(b, 4, interleaved, PKT_BURST, 7);
	printf("flood pass at %u ports, a batch of %u: one VLAN %llu cycles, two VLANs %llu\n", PORT_MAX, PKT_BURST,
	       (unsigned long long)c_one, (unsigned long long)c_two);
	/* Each frame tested at each port: 20-40x (a pass per frame); the walk once: about 1x. */
	assert_true(c_two < 8 * c_one);
	big_free(b);
}

static uint64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every port a trunk of VLANs 1-4094 (trunks=1-4094). */
static void full_trunk(unsigned slot, struct switch_port_cfg *c)
{
	*c = cfg_none();
	c->trunks_only = true;
	for (unsigned v = 1; v <= SWITCH_VLAN_TAG_MAX; v++)
		c->trunks[v / 64] |= 1ull << (v % 64);
}

/*
 * Publishing a port counts its VLANs into the flood list, not every
 * port's again: at 4,096 ports that are trunks of 4,094 VLANs each, a
 * port out and back in takes well under a millisecond (counting every
 * port's took ~20 ms a call, 30 s to build the switch).  Each VLAN then
 * counts every port.
 */
static void test_scale_port_set_trunks(void **state)
{
	uint64_t t0 = ns_now(), built, best = UINT64_MAX;
	struct big *b = big_new_with(full_trunk);
	const struct switch_portlist *l;

	built = ns_now() - t0;
	for (unsigned r = 0; r < 9; r++) {
		uint64_t t = ns_now();

		switch_port_set(b->sw, 100, NULL);
		switch_port_set(b->sw, 100, &b->ports[100].port);
		t = ns_now() - t;
		best = t < best ? t : best;
	}
	printf("4,096 trunks of 4,094 VLANs: built in %.1f ms, a port out and in again %.3f ms\n", built / 1e6,
	       best / 1e6);
	assert_true(best < 5000000);
	l = atomic_load(&b->sw->flood_list);
	assert_int_equal(l->n, PORT_MAX);
	assert_int_equal(switch_list_carrying(l, 1), PORT_MAX);
	assert_int_equal(switch_list_carrying(l, SWITCH_VLAN_TAG_MAX), PORT_MAX);
	assert_int_equal(switch_list_carrying(l, 0), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_first_to_last),
		cmocka_unit_test(test_scale_flood_budget),
		cmocka_unit_test(test_scale_flood_storm_fair),
		cmocka_unit_test(test_scale_flood_queue_share),
		cmocka_unit_test(test_scale_flood_queue_small),
		cmocka_unit_test(test_scale_vlan_flood_reach),
		cmocka_unit_test(test_scale_vlan_flood_queue_share),
		cmocka_unit_test(test_scale_vlan_flood_mixed),
		cmocka_unit_test(test_scale_port_set_trunks),
		cmocka_unit_test(test_scale_port_del_middle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
