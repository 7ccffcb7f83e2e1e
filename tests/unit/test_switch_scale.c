/* test_switch_scale.c - unit tests of a switch of PORT_MAX ports: every slot published, the flood budget, fairness in a storm, a port deleted in the middle. */
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
		dp_round_start(b->ctx, 2);
		big_zero(b);
		dp_queue_start(b->ctx, &q_storm, true);
		big_send(b, storm, bcast, PKT_BURST, MAC_C);
		dp_queue_start(b->ctx, &q_uni, false);
		big_send(b, 0, uni, PKT_BURST, MAC_A);
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
		cmocka_unit_test(test_scale_port_del_middle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
