/* test_pipeline_flows.c - unit tests of the lookup stage with flow tables: verdicts, copies, rewrites, counters, drops, the cache. */

/*
 * dp_forward() with sw->flows published: each frame's outputs become
 * verdicts and tx bursts, a frame with several outputs is sent once per
 * output with the headers that output saw, `normal` is the learning
 * bridge, drops are counted by reason on the ingress port, rules count
 * packets and bytes, and a commit is in force for the next batch (the
 * exact-match cache never answers with a deleted rule).  With no rule the
 * switch is the learning bridge as before.
 */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ctl/port_opts.h"
#include "dp/dp.h"
#include "dp/flows.h"
#include "dp/pipeline.h"
#include "flow/parse.h"
#include "flow/table.h"
#include "switch/switch.h"
#include "../lib/dp_fixture.h"
#include "../lib/flow_frames.h"
#include "../lib/zalloc.h"

#define NPORTS 4
#define LOG_MAX 256
#define FRAME_MAX 128

/* Every frame a port sent, in order: the port, the frame's first bytes and its length. */
struct tx_frame {
	unsigned port;
	uint32_t len;
	bool tun;		/* PKT_F_TUNNEL: tun_id is the frame's tunnel key */
	uint64_t tun_id;
	uint8_t bytes[FRAME_MAX];
};

struct fx {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct flow_db *db;
	struct port ports[NPORTS];
	struct pkt pkts[PKT_BURST];
	uint8_t bufs[PKT_BURST][1600];
	struct iovec iov[PKT_BURST];
	struct tx_frame log[LOG_MAX];
	unsigned nlog, bursts;
	uint64_t now_ns;
};

static struct fx *cur;

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	cur->bursts++;
	for (unsigned i = 0; i < n; i++) {
		struct tx_frame *t = &cur->log[cur->nlog++];

		assert_true(cur->nlog <= LOG_MAX);
		t->port = p->id;
		t->len = pkts[i]->len;
		t->tun = pkts[i]->flags & PKT_F_TUNNEL;
		t->tun_id = t->tun ? pkts[i]->tun.id : 0;
		pkt_to_buf(pkts[i], t->bytes, sizeof(t->bytes));
	}
}

static unsigned fake_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	return 0;
}

static void fake_rx_done(struct port *p, unsigned q, struct port_io *io)
{
}

static const struct port_ops fake_ops = {
	.type = "fake", .rx_burst = fake_rx_burst, .rx_done = fake_rx_done, .tx_burst = fake_tx_burst,
};

static uint64_t fake_clock(void)
{
	return cur->now_ns;
}

static int fx_setup(void **state)
{
	struct fx *f = zalloc64(sizeof(*f));

	assert_int_equal(dp_fixture_init(&f->sw, &f->ctx, SWITCH_LEARNING, f->ports, NPORTS, &fake_ops), 0);
	f->ctx->flow = dp_flow_ctx_new();
	f->db = flow_db_create();
	assert_non_null(f->ctx->flow);
	assert_non_null(f->db);
	f->sw->clock_ns = fake_clock;
	f->now_ns = 5000000000ull;
	cur = f;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	flow_db_destroy(f->db);
	free(f->ctx->flow);
	dp_fixture_destroy(f->sw, f->ctx);
	free(f);
	return 0;
}

/* Commit and publish as the daemon does: NULL while the db holds no rule; no worker here, so reclaim at once. */
static void publish(struct fx *f)
{
	int64_t gen = flow_db_commit(f->db);

	assert_true(gen >= 0);
	atomic_store(&f->sw->flows, flow_db_count(f->db, FLOW_TABLE_ANY) ? flow_db_tables(f->db) : NULL);
	flow_db_reclaim(f->db, (uint64_t)gen);
}

static void add(struct fx *f, const char *text)
{
	struct flow_mod mod;
	char err[FLOW_ERR_MAX];

	if (flow_parse(text, FLOW_CMD_ADD, NULL, &mod, err, sizeof(err)))
		fail_msg("%s: %s", text, err);
	assert_int_equal(flow_db_add(f->db, &mod), 0);
	publish(f);
}

static void del(struct fx *f, const char *text)
{
	struct flow_mod mod;
	char err[FLOW_ERR_MAX];

	if (flow_parse(text, FLOW_CMD_DELETE, NULL, &mod, err, sizeof(err)))
		fail_msg("%s: %s", text, err);
	flow_db_delete(f->db, &mod, false);
	publish(f);
}

/* Frame @i: UDP/IPv4 from MAC ..:@src to MAC ..:@dst (0xff: broadcast), to 10.0.0.@dst_ip, checksums right. */
static void frame(struct fx *f, unsigned i, uint8_t src, uint8_t dst, uint8_t dst_ip, unsigned in)
{
	struct frame_spec s = frame_tcp4();
	size_t len;

	s.proto = 17;
	s.src[5] = src;
	if (dst == 0xff)
		memset(s.dst, 0xff, 6);
	else
		s.dst[5] = dst;
	s.dst4 = 0x0a000000u | dst_ip;
	len = frame_build(f->bufs[i], &s);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, in);
}

static void forward(struct fx *f, unsigned in, unsigned n)
{
	f->nlog = f->bursts = 0;
	dp_round_start(f->ctx, 1);
	dp_forward(f->sw, f->ctx, &f->ports[in], f->pkts, n);
}

/* The frames port @port got, counted. */
static unsigned sent_to(struct fx *f, unsigned port)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->nlog; i++)
		n += f->log[i].port == port;
	return n;
}

static const struct tx_frame *first_to(struct fx *f, unsigned port)
{
	for (unsigned i = 0; i < f->nlog; i++)
		if (f->log[i].port == port)
			return &f->log[i];
	fail_msg("nothing sent to port %u", port);
	return NULL;
}

/* No rule: the learning bridge (an unknown destination floods), and nothing of the flow state is touched. */
static void test_no_rule_is_bridge(void **state)
{
	struct fx *f = *state;

	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_null(atomic_load(&f->sw->flows));
	assert_int_equal(f->nlog, NPORTS - 1);
	assert_int_equal(f->ctx->flow->stats.emc_misses, 0);
}

/* output:P sends there only; a table miss drops (flow_miss); an explicit drop counts flow_drop. */
static void test_output_miss_drop(void **state)
{
	struct fx *f = *state;

	add(f, "in_port=0,udp,nw_dst=10.0.0.2,actions=output:2");
	add(f, "in_port=0,udp,nw_dst=10.0.0.3,actions=drop");
	frame(f, 0, 1, 2, 2, 0);
	frame(f, 1, 1, 2, 3, 0);
	frame(f, 2, 1, 2, 4, 0);
	frame(f, 3, 1, 2, 2, 0);
	forward(f, 0, 4);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(sent_to(f, 2), 2);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_DROP), 1);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_MISS), 1);
	/* output to a port that is not there */
	del(f, "");
	add(f, "actions=output:9");
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(port_drops(&f->ports[0], DROP_NO_DESTINATION), 1);
}

/* Rewrites reach the wire with right checksums; each output gets the headers it saw (a mirror before a rewrite). */
static void test_rewrite_versions(void **state)
{
	struct fx *f = *state;
	const struct tx_frame *t1, *t2;
	uint8_t ip_before[4] = { 10, 0, 0, 2 }, ip_after[4] = { 10, 0, 0, 99 };

	add(f, "in_port=0,udp,actions=output:1,mod_nw_dst:10.0.0.99,mod_dl_dst:02:00:00:00:00:63,output:2,output:3");
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 3);
	t1 = first_to(f, 1);
	t2 = first_to(f, 2);
	assert_memory_equal(t1->bytes + 14 + 16, ip_before, 4);
	assert_int_equal(t1->bytes[5], 2);
	assert_memory_equal(t2->bytes + 14 + 16, ip_after, 4);
	assert_int_equal(t2->bytes[5], 0x63);
	assert_memory_equal(first_to(f, 3)->bytes, t2->bytes, t2->len < FRAME_MAX ? t2->len : FRAME_MAX);
	assert_true(frame_csums_ok(t1->bytes, t1->len));
	assert_true(frame_csums_ok(t2->bytes, t2->len));
}

/* push_vlan and mod_vlan_vid in the head's headroom: the frame grows by the tag. */
static void test_push_vlan(void **state)
{
	struct fx *f = *state;
	const struct tx_frame *t;

	add(f, "in_port=0,actions=mod_vlan_vid:42,output:1,strip_vlan,output:2");
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 2);
	t = first_to(f, 1);
	assert_int_equal(t->len, f->iov[0].iov_len + 4);
	assert_int_equal(fr_get16(t->bytes + 12), 0x8100);
	assert_int_equal(fr_get16(t->bytes + 14) & 0xfff, 42);
	assert_int_equal(fr_get16(t->bytes + 16), 0x0800);
	t = first_to(f, 2);
	assert_int_equal(t->len, f->iov[0].iov_len);
	assert_memory_equal(t->bytes, f->bufs[0], 60);
}

/* normal: the bridge learns and forwards; a batch mixing normal with other outputs copies the normal frames. */
static void test_normal(void **state)
{
	struct fx *f = *state;

	add(f, "priority=0,actions=normal");
	frame(f, 0, 3, 0xff, 1, 3); /* teaches 02:..:03 behind port 3 */
	forward(f, 3, 1);
	assert_int_equal(f->nlog, NPORTS - 1);
	frame(f, 0, 1, 3, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(f->log[0].port, 3);
	assert_int_equal(f->ctx->flow->normal.n, 0); /* all normal: the batch itself, no copy */
	/* the only rule, match-all normal: the bridge without keys or lookups, and the rule counts */
	assert_non_null(atomic_load(&f->sw->flows)->only_normal);
	assert_int_equal(f->ctx->flow->stats.emc_misses, 0);
	{
		uint64_t packets, bytes;

		flow_db_rule_stats(atomic_load(&f->sw->flows)->only_normal, &packets, &bytes);
		assert_int_equal(packets, 2);
		assert_int_equal(bytes, 2 * f->iov[0].iov_len);
	}

	add(f, "priority=5,udp,nw_dst=10.0.0.7,actions=output:2,normal");
	frame(f, 0, 1, 3, 2, 0);
	frame(f, 1, 1, 3, 7, 0);
	frame(f, 2, 1, 3, 2, 0);
	forward(f, 0, 3);
	assert_int_equal(sent_to(f, 3), 3);
	assert_int_equal(sent_to(f, 2), 1);
	assert_int_equal(f->ctx->flow->normal.n, 3);
	assert_null(atomic_load(&f->sw->flows)->only_normal);
	/* all three go to normal alone again: the batch itself */
	for (unsigned i = 0; i < 3; i++)
		frame(f, i, 1, 3, 2, 0);
	forward(f, 0, 3);
	assert_int_equal(sent_to(f, 3), 3);
	assert_int_equal(f->ctx->flow->normal.n, 0);
}

/* clone(output:P) mirrors; flood and all go everywhere but the ingress port. */
static void test_mirror_flood(void **state)
{
	struct fx *f = *state;

	add(f, "in_port=0,actions=clone(output:3),output:1");
	add(f, "in_port=1,actions=flood");
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(sent_to(f, 3), 1);
	assert_int_equal(sent_to(f, 1), 1);
	frame(f, 0, 1, 2, 2, 1);
	forward(f, 1, 1);
	assert_int_equal(f->nlog, NPORTS - 1);
	assert_int_equal(sent_to(f, 1), 0);
}

/* in_port sends back out the ingress port, and a flood of the same batch still leaves that port out. */
static void test_in_port_and_flood(void **state)
{
	struct fx *f = *state;

	add(f, "in_port=0,udp,nw_dst=10.0.0.2,actions=in_port");
	add(f, "in_port=0,udp,nw_dst=10.0.0.3,actions=flood");
	frame(f, 0, 1, 2, 2, 0);
	frame(f, 1, 1, 2, 3, 0);
	forward(f, 0, 2);
	assert_int_equal(sent_to(f, 0), 1);
	assert_int_equal(first_to(f, 0)->bytes[14 + 19], 2); /* the in_port frame, not the flood */
	assert_int_equal(sent_to(f, 1), 1);
	assert_int_equal(sent_to(f, 2), 1);
	assert_int_equal(sent_to(f, 3), 1);
}

/* Port @port's VLAN options (JSON, as a config entry spells them), attached while its slot is unpublished. */
static void vlan_opts(struct fx *f, unsigned port, const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	struct switch_port_cfg c;
	char err[256];

	assert_non_null(o);
	assert_int_equal(port_opts_parse(o, &c, err, sizeof(err)), 0);
	json_object_put(o);
	switch_port_set(f->sw, port, NULL);
	assert_int_equal(switch_port_attach(f->sw, port, &c, err, sizeof(err)), 0);
	switch_port_set(f->sw, port, &f->ports[port]);
}

/*
 * VLAN ports: `normal` keeps a frame in its VLAN, tagged on a trunk (the
 * normal pool's frames, in a batch mixed with an explicit output); the
 * explicit output sends its frame as the flow left it, across VLANs.
 */
static void test_vlans(void **state)
{
	struct fx *f = *state;
	const struct tx_frame *t;

	vlan_opts(f, 0, "{\"tag\":10}");
	vlan_opts(f, 1, "{\"tag\":10}");
	vlan_opts(f, 2, "{\"trunks\":\"10,20\"}");
	vlan_opts(f, 3, "{\"tag\":20}");
	add(f, "priority=0,actions=normal");
	add(f, "priority=10,in_port=0,udp,nw_dst=10.0.0.7,actions=output:3");
	frame(f, 0, 1, 0xff, 2, 0);
	frame(f, 1, 1, 2, 7, 0);
	forward(f, 0, 2);
	assert_int_equal(sent_to(f, 1), 1);
	assert_int_equal(first_to(f, 1)->len, f->iov[0].iov_len);
	t = first_to(f, 2);
	assert_int_equal(sent_to(f, 2), 1);
	assert_int_equal(t->len, f->iov[0].iov_len + 4);
	assert_int_equal(fr_get16(t->bytes + 12), 0x8100);
	assert_int_equal(fr_get16(t->bytes + 14) & 0xfff, 10);
	t = first_to(f, 3);
	assert_int_equal(sent_to(f, 3), 1);
	assert_int_equal(t->len, f->iov[1].iov_len);
	assert_memory_equal(t->bytes, f->bufs[1], 60);
	for (unsigned i = 0; i < NPORTS; i++)
		switch_port_detach(f->sw, i);
}

/* Per-rule packets, bytes and used time. */
static void test_counters(void **state)
{
	struct fx *f = *state;
	const struct flow_rule *r;
	uint64_t packets, bytes;

	add(f, "in_port=0,actions=output:1");
	for (unsigned i = 0; i < 3; i++)
		frame(f, i, 1, 2, 2, 0);
	forward(f, 0, 3);
	assert_int_equal(f->ctx->flow->stats.emc_misses, 3); /* the cache is filled after the batch's probes */
	for (unsigned i = 0; i < 3; i++)
		frame(f, i, 1, 2, 2, 0);
	f->now_ns = 7000000000ull;
	forward(f, 0, 3);
	assert_int_equal(f->ctx->flow->stats.emc_hits, 3);
	r = f->ctx->flow->rules[0];
	assert_non_null(r);
	assert_ptr_equal(r, f->ctx->flow->rules[2]);
	flow_db_rule_stats(r, &packets, &bytes);
	assert_int_equal(packets, 6);
	assert_int_equal(bytes, 6 * f->iov[0].iov_len);
	assert_int_equal(atomic_load(&((struct flow_rule *)r)->used_ms), 7000);
}

/*
 * A commit is in force for the next batch: a frame the cache saw with a
 * rule that was since deleted meets the new version (a miss), and a rule
 * modified gets the frame at once.
 */
static void test_cache_invalidation(void **state)
{
	struct fx *f = *state;

	add(f, "in_port=0,actions=output:1");
	add(f, "in_port=1,actions=output:0"); /* keeps the db non-empty */
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(sent_to(f, 1), 1);
	del(f, "in_port=0");
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_MISS), 1);
	add(f, "in_port=0,actions=output:2");
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(sent_to(f, 2), 1);
	/* the last rule gone: the bridge again (flood of an unknown destination) */
	del(f, "");
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_null(atomic_load(&f->sw->flows));
	assert_int_equal(f->nlog, NPORTS - 1);
}

/* Frames from port @in to 10.0.0.@dst_ip, one batch each, port by port: where each went (the port, or -1: dropped). */
static int one(struct fx *f, unsigned in, uint8_t dst_ip)
{
	frame(f, 0, 1, 2, dst_ip, in);
	forward(f, in, 1);
	return f->nlog ? (int)f->log[0].port : -1;
}

/*
 * A megaflow stands only for the keys its lookups could not tell apart:
 * a frame that differs in a bit a higher-priority subtable looks at (here
 * nw_dst), in a table a resubmit reaches, or in in_port (an output to it
 * is dropped), gets its own answer; frames it does stand for are answered
 * from it, and counted exactly on every rule of the run.
 */
static void test_megaflow_masks(void **state)
{
	struct fx *f = *state;
	const struct dp_flow_stats *st = &f->ctx->flow->stats;
	uint64_t packets, bytes, mf;
	const struct flow_rule *r0;

	add(f, "table=0,priority=100,ip,nw_dst=10.0.0.3,actions=output:3");
	add(f, "table=0,priority=10,ip,actions=resubmit(,1)");
	add(f, "table=1,priority=100,ip,nw_dst=10.0.0.4,actions=output:2");
	add(f, "table=1,priority=10,ip,actions=output:1");
	assert_int_equal(one(f, 0, 2), 1);		/* makes the megaflow of 10.0.0.2 */
	mf = atomic_load(&st->mf_hits);
	assert_int_equal(one(f, 0, 2), 1);
	assert_int_equal(atomic_load(&st->mf_hits), mf + 1);	/* answered by it */
	assert_int_equal(one(f, 0, 3), 3);		/* table 0 looked at nw_dst */
	assert_int_equal(one(f, 0, 4), 2);		/* so did table 1, through the resubmit */
	assert_int_equal(one(f, 0, 5), 1);
	assert_int_equal(one(f, 1, 2), -1);		/* output:1 from port 1: dropped, whatever port 0's frames did */
	assert_int_equal(port_drops(&f->ports[1], DROP_FLOW_DROP), 1);
	assert_int_equal(one(f, 1, 2), -1);
	assert_int_equal(port_drops(&f->ports[1], DROP_FLOW_DROP), 2);
	assert_int_equal(one(f, 0, 6), 1);
	/* table 0 looks at nw_dst whole: one megaflow per address and port, answering the second .2 of each port */
	assert_int_equal(atomic_load(&st->mf_hits), mf + 2);

	/* counts: the resubmitting rule had every frame of its runs, replayed or not */
	r0 = f->ctx->flow->rules[0];
	assert_non_null(r0);
	flow_db_rule_stats(r0, &packets, &bytes);
	assert_int_equal(packets, 7);			/* .2 twice, .4, .5, .2 from port 1 twice, .6 */
	assert_int_equal(bytes, 7 * f->iov[0].iov_len);
}

/*
 * A commit is in force for the next batch with megaflows too: a flow
 * modified, deleted, or overridden by a new rule of a higher priority is
 * never applied from a megaflow made on an older version.
 */
static void test_megaflow_invalidation(void **state)
{
	struct fx *f = *state;
	struct flow_mod mod;
	char err[FLOW_ERR_MAX];

	add(f, "table=0,priority=10,ip,actions=resubmit(,1)");
	add(f, "table=1,priority=10,in_port=0,actions=output:1");
	add(f, "table=1,priority=10,in_port=1,actions=output:0");
	assert_int_equal(one(f, 0, 2), 1);
	assert_int_equal(one(f, 0, 2), 1);
	assert_true(atomic_load(&f->ctx->flow->stats.mf_hits) > 0);
	/* modified: the new actions at once */
	if (flow_parse("table=1,in_port=0,actions=output:2", FLOW_CMD_MODIFY, NULL, &mod, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(flow_db_modify(f->db, &mod, false), 1);
	publish(f);
	assert_int_equal(one(f, 0, 2), 2);
	assert_int_equal(one(f, 0, 2), 2);
	/* overridden by a rule of a higher priority in the table the resubmit reaches */
	add(f, "table=1,priority=20,ip,nw_dst=10.0.0.2,actions=output:3");
	assert_int_equal(one(f, 0, 2), 3);
	assert_int_equal(one(f, 0, 7), 2);
	/* deleted: a miss, which table 1 ... no: the resubmit's miss does nothing, so the frame goes nowhere */
	del(f, "table=1,priority=20,ip,nw_dst=10.0.0.2");
	del(f, "table=1,in_port=0");
	assert_int_equal(one(f, 0, 2), -1);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_DROP), 1);
	/* and table 0's rule deleted too: table 0's miss drops */
	del(f, "table=0");
	assert_int_equal(one(f, 0, 2), -1);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_MISS), 1);
}

/* More outputs than a batch's copy pool holds: the rest are flow_copies drops, nothing overflows. */
static void test_copy_pool_full(void **state)
{
	struct fx *f = *state;

	add(f, "in_port=0,actions=output:1,output:2,output:3");
	for (unsigned i = 0; i < PKT_BURST; i++)
		frame(f, i, 1, 2, 2, 0);
	forward(f, 0, PKT_BURST);
	/* each frame takes itself to port 1; DP_FLOW_COPIES copies go out, the rest are counted */
	assert_int_equal(f->nlog, PKT_BURST + DP_FLOW_COPIES);
	assert_int_equal(sent_to(f, 1), PKT_BURST);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_COPIES), 2 * PKT_BURST - DP_FLOW_COPIES);
}

/* Frame @i came in a tunnel: key @id, outer 192.0.2.@src -> 192.0.2.1 (what a vxlan port's rx sets). */
static void tunneled(struct fx *f, unsigned i, uint64_t id, uint8_t src)
{
	struct pkt *p = &f->pkts[i];

	p->flags |= PKT_F_TUNNEL;
	memset(&p->tun, 0, sizeof(p->tun));
	p->tun.id = id;
	p->tun.src.v4 = htonl(0xc0000200u | src);
	p->tun.dst.v4 = htonl(0xc0000201u);
}

/*
 * A tunnel port's frames carry their key and outer addresses: flows match
 * tun_id, tun_src, tun_dst (ovs-fields(7), no prerequisite), a frame that
 * came in no tunnel has them zero, and set_tunnel / set_field->tun_id give
 * the frame the key its tunnel output sends it with (vni=flow).
 */
static void test_tunnel_fields(void **state)
{
	struct fx *f = *state;

	add(f, "priority=10,tun_id=0x10,actions=output:1");
	add(f, "priority=10,tun_id=0x20,tun_src=192.0.2.7,actions=output:2");
	add(f, "priority=10,tun_id=0x20,tun_dst=192.0.2.9,actions=drop");
	add(f, "priority=5,in_port=3,actions=set_tunnel:0x30,output:0");
	add(f, "priority=5,in_port=2,actions=set_field:0x40->tun_id,output:0,set_tunnel:0x41,output:1");
	add(f, "priority=0,actions=drop");
	frame(f, 0, 1, 2, 2, 0);
	tunneled(f, 0, 0x10, 5);
	frame(f, 1, 1, 2, 2, 0);
	tunneled(f, 1, 0x20, 7);
	frame(f, 2, 1, 2, 2, 0);
	tunneled(f, 2, 0x20, 8);
	frame(f, 3, 1, 2, 2, 0); /* no tunnel: tun_id 0 */
	forward(f, 0, 4);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(sent_to(f, 1), 1);
	assert_int_equal(first_to(f, 1)->tun_id, 0x10);
	assert_int_equal(sent_to(f, 2), 1);
	assert_int_equal(first_to(f, 2)->tun_id, 0x20);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_MISS), 0);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_DROP), 2);
	/* set_tunnel on a frame from no tunnel: it leaves with that key */
	frame(f, 0, 3, 2, 2, 3);
	forward(f, 3, 1);
	assert_int_equal(f->nlog, 1);
	assert_true(f->log[0].tun);
	assert_int_equal(f->log[0].tun_id, 0x30);
	/* each output sends the key set before it */
	frame(f, 0, 4, 2, 2, 2);
	forward(f, 2, 1);
	assert_int_equal(f->nlog, 2);
	assert_true(first_to(f, 0)->tun);
	assert_int_equal(first_to(f, 0)->tun_id, 0x40);
	assert_int_equal(first_to(f, 1)->tun_id, 0x41);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_rule_is_bridge, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_output_miss_drop, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_versions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_push_vlan, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_normal, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mirror_flood, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_in_port_and_flood, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_vlans, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_counters, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cache_invalidation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_masks, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_invalidation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_copy_pool_full, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_fields, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
