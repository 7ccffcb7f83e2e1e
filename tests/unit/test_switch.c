/* test_switch.c - unit tests of the MAC table and of forwarding decisions, with fake ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp/dp.h"
#include "switch/fdb.h"
#include "switch/switch.h"

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
};

static void fake_tx_burst(struct port *p, struct dp_ctx *ctx, struct pkt *const *pkts, unsigned n)
{
	struct fake_port *f = (struct fake_port *)p;

	f->got += n;
	memcpy(f->last_dst, pkts[n - 1]->eth, 6);
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
	f->ctx = calloc(1, sizeof(*f->ctx));
	switch_init(f->sw, mode, 300);
	for (unsigned i = 0; i < 3; i++) {
		f->ports[i].port.id = i;
		f->ports[i].port.ops = &fake_ops;
		atomic_store(&f->sw->ports[i], &f->ports[i].port);
	}
	return f;
}

static void fx_free(struct fx *f)
{
	free(f->sw);
	free(f->ctx);
	free(f);
}

static void send_frame(struct fx *f, unsigned in, const uint8_t dst[6], const uint8_t src[6])
{
	struct pkt p = { .len = 60, .in_port = (uint16_t)in };

	memcpy(p.eth, dst, 6);
	memcpy(p.eth + 6, src, 6);
	switch_forward(f->sw, f->ctx, &f->ports[in].port, &p, 1);
}

static uint64_t drops(struct fx *f, unsigned port, enum port_drop why)
{
	return atomic_load(&f->ports[port].port.stats.drops[why]);
}

/* Learn, look up, move, age out, flush by port. */
static void test_fdb_basic(void **state)
{
	struct fdb *t = malloc(sizeof(*t));

	fdb_init(t, 300);
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
	free(t);
}

/* A full bucket gives up its oldest entry, and dump lists live entries with their age. */
static void test_fdb_full_bucket_and_dump(void **state)
{
	struct fdb *t = malloc(sizeof(*t));
	static struct fdb_entry out[FDB_BUCKETS * FDB_WAYS];
	unsigned n;

	fdb_init(t, 300);
	/* 20000 distinct MACs into 32768 slots: some buckets overflow. */
	for (uint32_t i = 0; i < 20000; i++) {
		uint8_t mac[6] = { 0x02, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 1 };

		fdb_learn(t, mac, i % 5, i / 100);
	}
	n = fdb_dump(t, out, FDB_BUCKETS * FDB_WAYS, 200);
	assert_true(n > 15000 && n <= 20000);
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
	free(t);
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

	atomic_store(&f->sw->ports[1], NULL);
	atomic_store(&f->sw->ports[2], NULL);
	send_frame(f, 0, BCAST, MAC_A);
	assert_int_equal(drops(f, 0, DROP_NO_DESTINATION), 1);
	fx_free(f);
}

/* A batch for several destinations is grouped: one tx_burst per destination. */
static void test_batch_grouping(void **state)
{
	struct fx *f = fx_new(SWITCH_LEARNING);
	struct pkt p[4] = { 0 };

	send_frame(f, 1, BCAST, MAC_B);
	send_frame(f, 2, BCAST, MAC_C);
	f->ports[0].got = f->ports[1].got = f->ports[2].got = 0;
	for (int i = 0; i < 4; i++) {
		memcpy(p[i].eth, i % 2 ? MAC_B : MAC_C, 6);
		memcpy(p[i].eth + 6, MAC_A, 6);
	}
	switch_forward(f->sw, f->ctx, &f->ports[0].port, p, 4);
	assert_int_equal(f->ports[1].got, 2);
	assert_int_equal(f->ports[2].got, 2);
	assert_memory_equal(f->ports[1].last_dst, MAC_B, 6);
	assert_int_equal(f->ctx->ntouched, 0);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
