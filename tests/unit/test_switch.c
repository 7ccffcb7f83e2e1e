/* test_switch.c - unit tests of forwarding decisions with fake ports: learning, flooding, the hub, batches, detach, port options, and the cost of a frame. */
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

#include "ctl/port_opts.h"

#include "switch_fx.h"

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
			struct pkt_batch *b = &f[0]->ctx->batch;

			*b = (struct pkt_batch){ .in = &f[0]->ports[in].port, .pkts = p[0], .n = PKT_BURST };
			switch_decide(f[0]->sw, b);
		}
		for (unsigned i = 0; i < PKT_BURST; i++) {
			struct pkt_batch *b = &f[1]->ctx->batch;

			*b = (struct pkt_batch){ .in = &f[1]->ports[in].port, .pkts = &p[1][i], .n = 1 };
			switch_decide(f[1]->sw, b);
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

/*
 * A batch of one head (all frames of frame 0's MACs and EtherType: frame
 * 0 is decided, the others take its verdict) decides what its frames
 * would one by one, and so do batches that only nearly are one: a last
 * frame of another destination, another EtherType, a tagged frame 0.
 * Known unicast, unknown and multicast destinations, a destination
 * behind the ingress port; verdicts, counts and table alike.
 */
static void test_decide_one_head_batch_as_one_by_one(void **state)
{
	struct fx *f[2] = { fx_new(SWITCH_LEARNING), fx_new(SWITCH_LEARNING) };
	static const struct {
		const uint8_t *dst;
		unsigned in;		/* the batch's ingress port */
		int odd;		/* 0 alike; the last frame 1 to MAC_C, 2 another EtherType, 5 from MAC_C, 6 tagged;
				   3 every frame tagged, 7 too and the last in another VLAN; 4 frames 10.. to C */
		unsigned first;		/* frame 0's verdict */
	} cases[] = {
		{ MAC_B, 0, 0, 1 }, { MAC_C, 0, 0, PKT_DEST_FLOOD }, { MCAST, 0, 0, PKT_DEST_FLOOD },
		{ BCAST, 2, 0, PKT_DEST_FLOOD }, { MAC_A, 0, 0, PKT_DEST_DROP_WHY(DROP_NO_DESTINATION) },
		{ MAC_B, 0, 1, 1 }, { MAC_B, 0, 2, 1 }, { MAC_B, 0, 3, PKT_DEST_FLOOD }, { MAC_B, 0, 4, 1 },
		{ MAC_B, 0, 5, 1 }, { MAC_B, 0, 6, 1 }, { MAC_B, 0, 7, PKT_DEST_FLOOD }, { MAC_B, 2, 0, 1 },
	};
	static struct pkt p[2][20];

	for (unsigned k = 0; k < 2; k++) {
		send_frame(f[k], 1, BCAST, MAC_B);	/* B behind port 1 */
		send_frame(f[k], 0, BCAST, MAC_A);	/* A behind port 0: A -> A from port 0 is filtered */
	}
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct pkt_batch *b = &f[0]->ctx->batch;
		unsigned n_out = 0, n_flood = 0, n_drop = 0;

		for (unsigned i = 0; i < 20; i++) {
			uint8_t *h;

			p[0][i] = (struct pkt){ .head_off = PKT_HEADROOM, .head_len = 18 };
			h = pkt_head(&p[0][i]);
			memset(h, 0, 18);
			memcpy(h, (cases[c].odd == 1 && i == 19) || (cases[c].odd == 4 && i >= 10) ? MAC_C : cases[c].dst, 6);
			memcpy(h + 6, cases[c].odd == 5 && i == 19 ? MAC_C : MAC_A, 6);
			h[12] = 0x08;
			h[13] = cases[c].odd == 2 && i == 19 ? 0x06 : 0x00;
			if (cases[c].odd == 3 || cases[c].odd == 7 || (cases[c].odd == 6 && i == 19)) {
				h[12] = 0x81;
				h[15] = cases[c].odd == 7 && i == 19 ? 6 : 5;	/* VLAN 5: filed apart from VLAN 0's */
			}
			p[1][i] = p[0][i];
		}
		*b = (struct pkt_batch){ .in = &f[0]->ports[cases[c].in].port, .pkts = p[0], .n = 20 };
		switch_decide(f[0]->sw, b);
		assert_int_equal(b->dest[0], cases[c].first);
		assert_int_equal(b->dest[9], cases[c].first);
		if (cases[c].odd == 1 || cases[c].odd == 4 || cases[c].odd == 6)
			assert_int_equal(b->dest[19], PKT_DEST_FLOOD);	/* C is unknown, and so is B in VLAN 5 (and 6) */
		else
			assert_int_equal(b->dest[19], cases[c].first);
		for (unsigned i = 0; i < 20; i++) {
			struct pkt_batch *one = &f[1]->ctx->batch;

			*one = (struct pkt_batch){ .in = &f[1]->ports[cases[c].in].port, .pkts = &p[1][i], .n = 1 };
			switch_decide(f[1]->sw, one);
			assert_int_equal(b->dest[i], one->dest[0]);
			n_out += one->n_out;
			n_flood += one->n_flood;
			n_drop += one->n_drop;
		}
		assert_int_equal(b->n_out, n_out);
		assert_int_equal(b->n_flood, n_flood);
		assert_int_equal(b->n_drop, n_drop);
		assert_int_equal(fdb_lookup(&f[0]->sw->fdb, MAC_A, 0), fdb_lookup(&f[1]->sw->fdb, MAC_A, 0));
		assert_int_equal(fdb_lookup(&f[0]->sw->fdb, MAC_C, 0), fdb_lookup(&f[1]->sw->fdb, MAC_C, 0));
		assert_int_equal(fdb_port_entries(&f[0]->sw->fdb, 0), fdb_port_entries(&f[1]->sw->fdb, 0));
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
		cmocka_unit_test(test_learning_flood_then_unicast),
		cmocka_unit_test(test_never_back_to_ingress),
		cmocka_unit_test(test_hub),
		cmocka_unit_test(test_alone_counts_no_destination),
		cmocka_unit_test(test_batch_grouping),
		cmocka_unit_test(test_decide_batch_as_one_by_one),
		cmocka_unit_test(test_decide_one_head_batch_as_one_by_one),
		cmocka_unit_test(test_detach_forgets_learned),
		cmocka_unit_test(test_mac_move_counted),
		cmocka_unit_test(test_port_opts),
		cmocka_unit_test(test_forward_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
