/* test_pipeline_learn.c - unit tests of learn on the data path: the workers' queue of learns for the control thread, its repeats, what it forgets, when it is full. */

/*
 * dp_forward() with a rule that learns (dp/flows.h, "learn on the data
 * path"): the frames run their actions every time, each worker queues a
 * learn only when its rule would differ from the one it queued for that
 * match within the second, forgets that after an edit, counts a learn its
 * full queue drops, and dp_flow_learn_drain() hands them to the control
 * thread in order, tagged with the version they ran on.  The control
 * thread's side is in test_ctl_flows.c (test_learn_control).
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "dp/dp.h"
#include "dp/flows.h"
#include "flow/learn.h"
#include "flow/parse.h"
#include "flow/table.h"
#include "pipeline_flows_fx.h"

/* test_learn_queue(): the learns drained, kept as dump text. */
struct drained {
	uint64_t gen;		/* the version the learns ran on */
	unsigned n;
	char text[DP_FLOW_LEARN_QUEUE * 2][256];
};

static void drain_one(void *arg, const struct dp_flow_learn_req *q)
{
	struct drained *d = arg;
	struct flow_mod mod;

	assert_int_equal(q->a[0].type, FA_LEARN);
	assert_int_equal(q->gen, d->gen);
	assert_int_equal(flow_learn_build(q->a, &q->key, &mod), 0);
	assert_true(d->n < sizeof(d->text) / sizeof(d->text[0]));
	flow_format(&mod, true, NULL, d->text[d->n++], sizeof(d->text[0]));
	free(mod.actions);
}

/*
 * learn on the data path (dp/flows.h): every frame of a learning flow runs
 * its actions (no cache answers it), a worker queues one learn per rule
 * it would make and second (a repeat is not queued), forgets that after
 * an edit (dp_flow_learn_forget()), and counts a learn its full queue
 * had no room for; the control thread drains them in order.
 */
static void test_learn_queue(void **state)
{
	struct fx *f = *state;
	struct dp_flow *fl = f->ctx->flow;
	struct drained *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	add(f, "table=0,actions=learn(table=10,eth_dst=eth_src,load:in_port->reg0[0..15]),flood");
	d->gen = flow_db_tables(f->db)->gen;
	/* A batch of 8 frames from 2 MACs, twice: 2 learns queued, both frames forwarded each time. */
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < 8; i++)
			frame(f, i, (uint8_t)(0x10 + i % 2), 0xff, 9, 1);
		forward(f, 0, 8);
		assert_int_equal(f->nlog, 8 * (NPORTS - 1));
	}
	assert_int_equal(atomic_load(&fl->learn_sent), 2);
	assert_int_equal(dp_flow_learn_drain(fl, drain_one, d), 2);
	assert_int_equal(dp_flow_learn_drain(fl, drain_one, d), 0);
	assert_string_equal(d->text[0], "table=10,priority=32768,dl_dst=02:00:00:00:00:10 actions=load:0x1->reg0[0..15]");
	assert_string_equal(d->text[1], "table=10,priority=32768,dl_dst=02:00:00:00:00:11 actions=load:0x1->reg0[0..15]");

	/* A second later: the same learns again (a refresh of their rules' hard timeouts). */
	f->now_ns += 1000000000ull;
	frame(f, 0, 0x10, 0xff, 9, 1);
	forward(f, 0, 1);
	assert_int_equal(atomic_load(&fl->learn_sent), 3);
	/* The same MAC from another port: another rule, queued at once. */
	frame(f, 0, 0x10, 0xff, 9, 2);
	forward(f, 1, 1);
	assert_int_equal(atomic_load(&fl->learn_sent), 4);
	/* An edit: what was sent is forgotten, the next frame learns again. */
	dp_flow_learn_forget(fl);
	frame(f, 0, 0x10, 0xff, 9, 2);
	forward(f, 1, 1);
	assert_int_equal(atomic_load(&fl->learn_sent), 5);
	assert_int_equal(dp_flow_learn_drain(fl, drain_one, d), 3);
	assert_string_equal(d->text[3], "table=10,priority=32768,dl_dst=02:00:00:00:00:10 actions=load:0x2->reg0[0..15]");
	/* It moves back to port 1 within the second: learned again at once (the match's place keeps the rest). */
	frame(f, 0, 0x10, 0xff, 9, 1);
	forward(f, 0, 1);
	assert_int_equal(atomic_load(&fl->learn_sent), 6);
	assert_int_equal(dp_flow_learn_drain(fl, drain_one, d), 1);
	assert_string_equal(d->text[5], "table=10,priority=32768,dl_dst=02:00:00:00:00:10 actions=load:0x1->reg0[0..15]");

	/* The queue full (the control thread away): each learn past it counted, none lost silently. */
	for (unsigned k = 0; k < DP_FLOW_LEARN_QUEUE + 10; k++) {
		frame(f, 0, (uint8_t)k, 0xff, 9, 1);
		f->bufs[0][6] = 0x06;	/* another MAC each time: 06:00:00:00:00:k */
		f->bufs[0][10] = (uint8_t)(k >> 8);
		forward(f, 0, 1);
	}
	assert_int_equal(atomic_load(&fl->learn_full), 10);
	d->n = 0;
	assert_int_equal(dp_flow_learn_drain(fl, drain_one, d), DP_FLOW_LEARN_QUEUE);
	assert_string_equal(d->text[0], "table=10,priority=32768,dl_dst=06:00:00:00:00:00 actions=load:0x1->reg0[0..15]");
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_learn_queue, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
