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
#include "pipeline_flows_fx.h"

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

	add(f, "in_port=1,udp,nw_dst=10.0.0.2,actions=output:3");
	add(f, "in_port=1,udp,nw_dst=10.0.0.3,actions=drop");
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
	add(f, "actions=output:10");
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

	add(f, "in_port=1,udp,actions=output:2,mod_nw_dst:10.0.0.99,mod_dl_dst:02:00:00:00:00:63,output:3,output:4");
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

/*
 * A frame whose partial checksum lies past its L4 header (a tunnel's inner
 * sum: a container's vxlan device leaves it so under a complete outer UDP
 * sum): rewriting the outer address updates the outer UDP sum as a
 * complete one, not as a partial seed, and the request itself is kept.
 */
static void test_rewrite_inner_partial(void **state)
{
	struct fx *f = *state;
	const struct tx_frame *t;

	add(f, "in_port=1,udp,actions=mod_nw_dst:10.0.0.99,mod_tp_dst:4789,output:2");
	frame(f, 0, 1, 2, 2, 0);
	f->pkts[0].csum = PKT_CSUM_PARTIAL;
	f->pkts[0].csum_start = 14 + 20 + 8;	/* the UDP payload's first bytes */
	f->pkts[0].csum_offset = 2;
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 1);
	t = first_to(f, 1);
	assert_int_equal(t->bytes[14 + 19], 99);
	assert_int_equal(t->bytes[14 + 20 + 2] << 8 | t->bytes[14 + 20 + 3], 4789);
	assert_true(frame_csums_ok(t->bytes, t->len));
}

/* push_vlan and mod_vlan_vid in the head's headroom: the frame grows by the tag. */
static void test_push_vlan(void **state)
{
	struct fx *f = *state;
	const struct tx_frame *t;

	add(f, "in_port=1,actions=mod_vlan_vid:42,output:2,strip_vlan,output:3");
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

/*
 * What the poller takes as "this queue sends unicast" (poll.c, the flood
 * budget's queue bucket): the frames grouped to one port, the `normal`
 * copies of a mixed batch among them.  The batch's own n_out counted
 * only the explicit outputs: here none, though three frames went to one
 * port.  Floods and drops are not unicast.
 */
static void test_unicast_out(void **state)
{
	struct fx *f = *state;

	add(f, "priority=10,udp,nw_dst=10.0.0.9,actions=drop");
	add(f, "priority=0,actions=normal");
	frame(f, 0, 3, 0xff, 1, 3); /* teaches 02:..:03 behind port 3 */
	f->ctx->unicast_out = 0;
	forward(f, 3, 1);
	assert_int_equal(f->ctx->unicast_out, 0); /* a broadcast */
	for (unsigned i = 0; i < 3; i++)
		frame(f, i, 1, 3, 2, 0);
	frame(f, 3, 1, 3, 9, 0);
	f->ctx->unicast_out = 0;
	forward(f, 0, 4);
	assert_int_equal(sent_to(f, 3), 3);
	assert_int_equal(f->ctx->batch.n_out, 0);
	assert_int_equal(f->ctx->unicast_out, 3);
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

	add(f, "priority=5,udp,nw_dst=10.0.0.7,actions=output:3,normal");
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

	add(f, "in_port=1,actions=clone(output:4),output:2");
	add(f, "in_port=2,actions=flood");
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

	add(f, "in_port=1,udp,nw_dst=10.0.0.2,actions=in_port");
	add(f, "in_port=1,udp,nw_dst=10.0.0.3,actions=flood");
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
	switch_port_set(f->sw, port + 1, NULL);	/* ports[port] is slot port + 1 (fx_setup()) */
	assert_int_equal(switch_port_attach(f->sw, port + 1, &c, err, sizeof(err)), 0);
	switch_port_set(f->sw, port + 1, &f->ports[port]);
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
	add(f, "priority=10,in_port=1,udp,nw_dst=10.0.0.7,actions=output:4");
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

	add(f, "in_port=1,actions=output:2");
	for (unsigned i = 0; i < 3; i++)
		frame(f, i, 1, 2, 2, 0);
	forward(f, 0, 3);
	assert_int_equal(f->ctx->flow->stats.emc_misses, 3); /* the cache is filled after the batch's probes */
	r = f->ctx->flow->rules[0];	/* the classifier's answer (a batch answered whole writes no rules[]) */
	assert_non_null(r);
	assert_ptr_equal(r, f->ctx->flow->rules[2]);
	for (unsigned i = 0; i < 3; i++)
		frame(f, i, 1, 2, 2, 0);
	f->now_ns = 7000000000ull;
	forward(f, 0, 3);
	assert_int_equal(f->ctx->flow->stats.emc_hits, 3);
	flow_db_rule_stats(r, &packets, &bytes);
	assert_int_equal(packets, 6);
	assert_int_equal(bytes, 6 * f->iov[0].iov_len);
	assert_int_equal(atomic_load(&((struct flow_rule *)r)->used_ms), 7000);
}

/* Frame @i: UDP/IPv4 to 10.0.0.@dst_ip with @payload bytes after its header, from port @in. */
static void frame_sized(struct fx *f, unsigned i, uint8_t dst_ip, unsigned payload, unsigned in)
{
	struct frame_spec s = frame_tcp4();
	size_t len;

	s.proto = 17;
	s.dst4 = 0x0a000000u | dst_ip;
	s.payload = payload;
	len = frame_build(f->bufs[i], &s);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, in);
}

/*
 * Runs of one megaflow's frames in a batch (each frame after the first
 * takes the first's memo and verdict, its counts added once for the run)
 * count exactly what frame by frame would: a batch that mixes frames of
 * four rules and of a table miss, in runs of 1 to 9 frames of different
 * lengths, three times (the first looked up, then from the caches):
 * every rule's packets and bytes, the ports' frames, the drops by reason.
 */
static void test_run_counts(void **state)
{
	/* the rules by nw_dst: 2 output:2, 3 output:3, 4 drop, 5 output:2,output:3 (a copy); 6 no rule: a miss */
	static const uint8_t runs[][2] = {	/* nw_dst, frames */
		{ 2, 5 }, { 3, 1 }, { 2, 9 }, { 4, 3 }, { 5, 2 }, { 2, 1 }, { 6, 4 }, { 3, 7 }, { 5, 1 },
		{ 2, 2 }, { 4, 1 }, { 6, 1 }, { 3, 3 }, { 2, 8 }, { 5, 6 }, { 3, 1 }, { 2, 9 },
	};
	struct fx *f = *state;
	uint64_t want_pkts[7] = { 0 }, want_bytes[7] = { 0 };
	const struct flow_rule *rule[7] = { 0 };
	unsigned n = 0, to2 = 0, to3 = 0;

	add(f, "in_port=1,udp,nw_dst=10.0.0.2,actions=output:2");
	add(f, "in_port=1,udp,nw_dst=10.0.0.3,actions=output:3");
	add(f, "in_port=1,udp,nw_dst=10.0.0.4,actions=drop");
	add(f, "in_port=1,udp,nw_dst=10.0.0.5,actions=output:2,output:3");
	for (unsigned r = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
		n += runs[r][1];
	assert_int_equal(n, PKT_BURST);
	for (unsigned round = 0; round < 3; round++) {
		unsigned i = 0;

		for (unsigned r = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
			for (unsigned k = 0; k < runs[r][1]; k++, i++) {
				unsigned dst = runs[r][0], payload = 10 + (i * 7 + round) % 23;

				frame_sized(f, i, (uint8_t)dst, payload, 0);
				want_pkts[dst]++;
				want_bytes[dst] += f->iov[i].iov_len;
				to2 += dst == 2 || dst == 5;
				to3 += dst == 3 || dst == 5;
			}
		forward(f, 0, PKT_BURST);
		if (round)
			assert_int_equal(atomic_load(&f->ctx->flow->stats.emc_misses), PKT_BURST);	/* the first's only */
		assert_int_equal(sent_to(f, 1), to2);
		assert_int_equal(sent_to(f, 2), to3);
		to2 = to3 = 0;
		i = 0;
		for (unsigned r = 0; r < sizeof(runs) / sizeof(runs[0]); r++, i += runs[r - 1][1])
			rule[runs[r][0]] = f->ctx->flow->rules[i];
	}
	assert_null(rule[6]);
	for (unsigned dst = 2; dst <= 5; dst++) {
		uint64_t packets, bytes;

		assert_non_null(rule[dst]);
		flow_db_rule_stats(rule[dst], &packets, &bytes);
		if (packets != want_pkts[dst] || bytes != want_bytes[dst])
			fail_msg("rule to 10.0.0.%u: %" PRIu64 " packets, %" PRIu64 " bytes; want %" PRIu64 ", %" PRIu64, dst,
				 packets, bytes, want_pkts[dst], want_bytes[dst]);
	}
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_DROP), want_pkts[4]);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_MISS), want_pkts[6]);
	assert_int_equal(f->ctx->flow->x.cnt[FLOW_CNT_PACKETS], 3 * PKT_BURST);
	assert_int_equal(f->ctx->flow->x.cnt[FLOW_CNT_MISS_DROP], want_pkts[6]);
	assert_int_equal(atomic_load(&f->ctx->flow->x.tables_cnt[0].misses), want_pkts[6]);
}

/*
 * A commit is in force for the next batch: a frame the cache saw with a
 * rule that was since deleted meets the new version (a miss), and a rule
 * modified gets the frame at once.
 */
static void test_cache_invalidation(void **state)
{
	struct fx *f = *state;

	add(f, "in_port=1,actions=output:2");
	add(f, "in_port=2,actions=output:1"); /* keeps the db non-empty */
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(sent_to(f, 1), 1);
	del(f, "in_port=1");
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_MISS), 1);
	add(f, "in_port=1,actions=output:3");
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

	add(f, "table=0,priority=100,ip,nw_dst=10.0.0.3,actions=output:4");
	add(f, "table=0,priority=10,ip,actions=resubmit(,1)");
	add(f, "table=1,priority=100,ip,nw_dst=10.0.0.4,actions=output:3");
	add(f, "table=1,priority=10,ip,actions=output:2");
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

/* Frame @i: TCP/IPv4 from MAC ..:01 to ..:02, 10.0.0.1:1234 -> 10.0.0.2:80, with TCP flags @flags, tagged @vlan (-1: not). */
static void tcp_frame(struct fx *f, unsigned i, uint16_t flags, int vlan, unsigned in)
{
	struct frame_spec s = frame_tcp4();
	size_t len;

	s.tcp_flags = flags;
	s.vlan = vlan;
	len = frame_build(f->bufs[i], &s);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, in);
}

/*
 * tcp_flags: frames of one connection that differ only in their flags
 * take each its own rule, in one batch (a frame after another of the same
 * addresses and ports is not the earlier one's repeat) and from the
 * caches (a megaflow made by an ACK does not answer a SYN).
 */
static void test_tcp_flags(void **state)
{
	static const uint16_t flags[] = { 0x010, 0x002, 0x018, 0x012, 0x002, 0x010, 0x002, 0x011, 0x102, 0x001 };
	const unsigned n = sizeof(flags) / sizeof(flags[0]);
	struct fx *f = *state;
	const struct dp_flow_stats *st = &f->ctx->flow->stats;
	unsigned want[NPORTS] = { 0 };

	add(f, "table=0,priority=100,tcp,tcp_flags=+syn-ack,actions=output:3");	/* a connection's first segment */
	add(f, "table=0,priority=50,tcp,tcp_flags=fin|ack,actions=output:4");	/* exactly FIN and ACK */
	add(f, "table=0,priority=10,ip,actions=output:2");
	for (unsigned i = 0; i < n; i++)
		want[(flags[i] & 0x012) == 0x002 ? 2 : flags[i] == 0x011 ? 3 : 1]++;
	for (unsigned round = 0; round < 3; round++) {
		uint64_t hits = atomic_load(&st->emc_hits) + atomic_load(&st->mf_hits);

		for (unsigned i = 0; i < n; i++)
			tcp_frame(f, i, flags[i], -1, 0);
		forward(f, 0, n);
		assert_int_equal(f->nlog, n);
		for (unsigned p = 1; p < NPORTS; p++)
			assert_int_equal(sent_to(f, p), want[p]);
		for (unsigned k = 0; k < f->nlog; k++) {
			const uint8_t *l4 = f->log[k].bytes + 14 + 20;
			uint16_t fl = (uint16_t)(((l4[12] & 0x0f) << 8) | l4[13]);

			assert_int_equal(f->log[k].port, (fl & 0x012) == 0x002 ? 2u : fl == 0x011 ? 3u : 1u);
		}
		if (round)
			assert_true(atomic_load(&st->emc_hits) + atomic_load(&st->mf_hits) > hits);
	}
	/* One frame a batch, cached, untagged and tagged: each flag set still finds its rule. */
	for (unsigned tag = 0; tag < 2; tag++)
		for (unsigned i = 0; i < n; i++) {
			tcp_frame(f, 0, flags[i], tag ? 5 : -1, 0);	/* tagged: the walk, not the short way */
			forward(f, 0, 1);
			assert_int_equal(f->nlog, 1);
			assert_int_equal(f->log[0].port, (flags[i] & 0x012) == 0x002 ? 2u : flags[i] == 0x011 ? 3u : 1u);
		}
}

/*
 * The megaflow masks are probed for the in_ports they have megaflows of
 * only (Open vSwitch keeps a classifier per in_port): port 1's frames
 * have a mask of table 0's fields, port 0's one with table 1's nw_dst
 * too, made second; a frame of either is answered by its megaflow after
 * one probe, not after trying the other port's mask first.
 */
static void test_megaflow_masks_per_in_port(void **state)
{
	struct fx *f = *state;
	const struct dp_flow_stats *st = &f->ctx->flow->stats;
	uint64_t mf, probes;

	add(f, "table=0,priority=10,in_port=1,ip,actions=resubmit(,1)");
	add(f, "table=0,priority=10,in_port=2,ip,actions=output:1");
	add(f, "table=1,priority=100,ip,nw_dst=10.0.0.3,actions=output:4");
	add(f, "table=1,priority=10,ip,actions=output:2");
	assert_int_equal(one(f, 1, 2), 0);		/* port 1's megaflow: the first mask */
	assert_int_equal(one(f, 0, 2), 1);		/* port 0's: the second */
	assert_int_equal(f->ctx->flow->n_mf_masks, 2);
	mf = atomic_load(&st->mf_hits);
	probes = atomic_load(&st->mf_probes);
	assert_int_equal(one(f, 0, 2), 1);
	assert_int_equal(atomic_load(&st->mf_hits), mf + 1);
	assert_int_equal(atomic_load(&st->mf_probes), probes + 1);	/* port 1's mask not tried */
	assert_int_equal(one(f, 1, 7), 0);
	assert_int_equal(atomic_load(&st->mf_hits), mf + 2);
	assert_int_equal(atomic_load(&st->mf_probes), probes + 2);
	assert_int_equal(one(f, 0, 3), 3);		/* a miss of port 0's megaflow: probed once, then table 0 */
	assert_int_equal(atomic_load(&st->mf_hits), mf + 2);
	assert_int_equal(atomic_load(&st->mf_probes), probes + 3);
	assert_int_equal(one(f, 0, 3), 3);
	assert_int_equal(atomic_load(&st->mf_hits), mf + 3);
}

/*
 * A megaflow's frames share the memo of its first frame in the batch
 * though other megaflows' frames come between (Open vSwitch's batches per
 * flow): each takes that frame's verdict, a port's or a drop, and every
 * rule counts every frame exactly; a `normal` verdict is not taken as it
 * is (the batch turned mixed after it): such a frame goes to the bridge
 * as its first did.
 */
static void test_megaflow_batches_per_flow(void **state)
{
	static const uint8_t dst[] = { 7, 2, 3, 2, 4, 3, 7, 2, 4, 3 };	/* 2, 3 to ports, 4 dropped, 7 normal */
	static const int run[] = { 0, 1, 2, 1, 4, 2, 0, 1, 4, 2 };	/* each frame's first of its megaflow */
	struct fx *f = *state;
	const unsigned n = sizeof(dst);
	uint64_t packets, bytes;
	const struct flow_rule *r;

	add(f, "in_port=1,udp,nw_dst=10.0.0.2,actions=output:2");
	add(f, "in_port=1,udp,nw_dst=10.0.0.3,actions=output:3");
	add(f, "in_port=1,udp,nw_dst=10.0.0.4,actions=drop");
	add(f, "in_port=1,udp,nw_dst=10.0.0.7,actions=normal");
	for (unsigned round = 0; round < 2; round++) {	/* the first makes the megaflows */
		for (unsigned i = 0; i < n; i++)
			frame(f, i, 1, 9, dst[i], 0);
		forward(f, 0, n);
		/* 3 frames each to ports 1 and 2, and the two normal ones flooded to every port but 0 */
		assert_int_equal(sent_to(f, 1), 3 + 2);
		assert_int_equal(sent_to(f, 2), 3 + 2);
		assert_int_equal(sent_to(f, 3), 2);
		assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_DROP), 2 * (round + 1));
	}
	assert_int_equal(atomic_load(&f->ctx->flow->stats.mf_hits), n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(f->ctx->flow->run[i], run[i]);
	for (unsigned i = 0; i < 5; i++) {
		unsigned want = 0;

		r = f->ctx->flow->rules[i];
		for (unsigned j = 0; j < n; j++)
			want += dst[j] == dst[i];
		flow_db_rule_stats(r, &packets, &bytes);
		assert_int_equal(packets, 2 * want);
		assert_int_equal(bytes, 2 * want * f->iov[0].iov_len);
	}
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
	add(f, "table=1,priority=10,in_port=1,actions=output:2");
	add(f, "table=1,priority=10,in_port=2,actions=output:1");
	assert_int_equal(one(f, 0, 2), 1);
	assert_int_equal(one(f, 0, 2), 1);
	assert_true(atomic_load(&f->ctx->flow->stats.mf_hits) > 0);
	/* modified: the new actions at once */
	if (flow_parse("table=1,in_port=1,actions=output:3", FLOW_CMD_MODIFY, NULL, &mod, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(flow_db_modify(f->db, &mod, false), 1);
	publish(f);
	assert_int_equal(one(f, 0, 2), 2);
	assert_int_equal(one(f, 0, 2), 2);
	/* overridden by a rule of a higher priority in the table the resubmit reaches */
	add(f, "table=1,priority=20,ip,nw_dst=10.0.0.2,actions=output:4");
	assert_int_equal(one(f, 0, 2), 3);
	assert_int_equal(one(f, 0, 7), 2);
	/* deleted: a miss, which table 1 ... no: the resubmit's miss does nothing, so the frame goes nowhere */
	del(f, "table=1,priority=20,ip,nw_dst=10.0.0.2");
	del(f, "table=1,in_port=1");
	assert_int_equal(one(f, 0, 2), -1);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_DROP), 1);
	/* and table 0's rule deleted too: table 0's miss drops */
	del(f, "table=0");
	assert_int_equal(one(f, 0, 2), -1);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_MISS), 1);
}

/* Table @table's misses: @miss, committed and published as `vswctl flow mod-table` does. */
static void set_miss(struct fx *f, unsigned table, enum flow_miss miss)
{
	assert_int_equal(flow_db_set_miss(f->db, table, miss), 0);
	publish(f);
}

/*
 * A change of a table's miss behaviour is in force for the next batch as a
 * rule change is: a megaflow or exact-match entry made while table 0
 * dropped its misses never answers after it continues them into table 1
 * (and back), nor after it sends them to `normal`.
 */
static void test_miss_mode_invalidation(void **state)
{
	struct fx *f = *state;
	const struct dp_flow_stats *st = &f->ctx->flow->stats;
	uint64_t mf;

	add(f, "table=0,priority=10,ip,nw_dst=10.0.0.3,actions=output:4");
	add(f, "table=1,priority=10,ip,actions=output:2");
	assert_int_equal(one(f, 0, 2), -1);		/* table 0 misses, drops: made into a megaflow */
	mf = atomic_load(&st->mf_hits);
	assert_int_equal(one(f, 0, 2), -1);
	assert_int_equal(atomic_load(&st->mf_hits), mf + 1);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_MISS), 2);
	set_miss(f, 0, FLOW_MISS_NEXT);
	assert_int_equal(one(f, 0, 2), 1);		/* continued into table 1 at once */
	assert_int_equal(one(f, 0, 2), 1);		/* and from the megaflow of the new version */
	assert_int_equal(atomic_load(&st->mf_hits), mf + 2);
	assert_int_equal(one(f, 0, 3), 3);
	set_miss(f, 1, FLOW_MISS_NEXT);			/* table 1 does not miss .2: nothing changes for it */
	assert_int_equal(one(f, 0, 2), 1);
	set_miss(f, 0, FLOW_MISS_NORMAL);		/* the bridge: an unknown destination floods */
	frame(f, 0, 1, 2, 2, 0);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, NPORTS - 1);
	set_miss(f, 0, FLOW_MISS_DROP);
	assert_int_equal(one(f, 0, 2), -1);
	assert_int_equal(one(f, 0, 2), -1);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_MISS), 4);
}

/*
 * Frame @i's run without any cache, on the published version, by @x: the
 * frame test frame() builds, its key as the lookup stage extracts it, table
 * 0's rule from the classifier, the actions.  The reference a replay must
 * equal.
 */
static void run_uncached(struct fx *f, struct flow_exec *x, uint8_t src, uint8_t dst, uint8_t dst_ip, unsigned in)
{
	const struct flow_tables *t = atomic_load(&f->sw->flows);
	uint8_t buf[PKT_HEADROOM + 256];
	struct flow_key k;
	struct flow_pkt fp;

	frame(f, 0, src, dst, dst_ip, in);
	memcpy(buf + PKT_HEADROOM, f->bufs[0], f->iov[0].iov_len);
	fp = (struct flow_pkt){ .buf = buf, .cap = sizeof(buf), .head = PKT_HEADROOM,
				.len = (uint16_t)f->iov[0].iov_len, .frame_len = (uint32_t)f->iov[0].iov_len };
	flow_key_extract(&k, buf + PKT_HEADROOM, fp.len, fp.len, (uint16_t)(in + 1), &fp.ofs); /* ports[in]: port in + 1 */
	flow_exec_run(x, &fp, &k, 0, flow_tables_lookup(t, 0, &k));
}

/*
 * Per table lookups and misses are counted exactly on the cached path: the
 * same frames, several times over (so most are answered by a megaflow or
 * the exact-match cache and replayed), give the counts of the same frames
 * run one by one without a cache, table by table (misses, and the packets
 * the table's rules matched: a table's lookups are their sum), and the
 * same executor counts.  The rules look tables up through resubmit, goto_table, a miss
 * that continues (table 0 and table 3), a resubmit that misses, and one
 * run with more lookups than a memo holds.
 */
static void test_table_counts_cached_equal_uncached(void **state)
{
	struct fx *f = *state;
	struct flow_exec *ref = zalloc64(sizeof(*ref));
	const struct flow_exec *x = &f->ctx->flow->x;
	uint64_t total = 0;

	flow_exec_init(ref);
	add(f, "table=0,priority=100,ip,nw_dst=10.0.0.3,actions=resubmit(,1),resubmit(,2),output:2");
	add(f, "table=0,priority=50,ip,nw_dst=10.0.0.4,actions=goto_table:3");
	add(f, "table=0,priority=40,ip,nw_dst=10.0.0.5,actions=resubmit(,5)");
	add(f, "table=0,priority=40,ip,nw_dst=10.0.0.6,actions=resubmit(,1),resubmit(,2),resubmit(,5),output:3");
	add(f, "table=1,priority=10,ip,nw_dst=10.0.0.7,actions=output:4");
	add(f, "table=1,priority=5,in_port=2,actions=goto_table:2");
	add(f, "table=2,priority=5,ip,nw_dst=10.0.0.3,actions=output:3");
	add(f, "table=2,priority=5,ip,nw_dst=10.0.0.8,actions=drop");
	add(f, "table=4,priority=5,actions=output:1");
	set_miss(f, 0, FLOW_MISS_NEXT);
	set_miss(f, 3, FLOW_MISS_NEXT);
	flow_exec_begin(ref, atomic_load(&f->sw->flows), 0);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned in = 0; in < 2; in++) {
			unsigned n = 0;

			for (uint8_t ip = 2; ip <= 9; ip++)
				run_uncached(f, ref, 1, 2, ip, in);
			for (uint8_t ip = 2; ip <= 9; ip++)
				frame(f, n++, 1, 2, ip, in);
			forward(f, in, n);
		}
	}
	assert_true(atomic_load(&f->ctx->flow->stats.emc_hits) >= 2 * 2 * 8);	/* rounds 2 and 3: cached */
	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		uint64_t m = atomic_load(&x->tables_cnt[t].misses), rm = atomic_load(&ref->tables_cnt[t].misses);
		uint64_t matched, bytes, ref_matched = 0;

		/* the reference gathered its rules' counts in its slots, never flushed (fewer rules than slots) */
		flow_db_table_stats(f->db, t, &matched, &bytes);
		for (unsigned i = 0; i < ref->n_stats; i++)
			if (ref->stats[i].rule->table == t)
				ref_matched += ref->stats[i].packets;
		if (m != rm || matched != ref_matched)
			fail_msg("table %u: cached %" PRIu64 " matched, %" PRIu64 " misses; uncached %" PRIu64 ", %" PRIu64,
				 t, matched, m, ref_matched, rm);
		total += matched + m;
	}
	assert_true(ref->n_stats < FLOW_STATS_SLOTS);
	assert_true(atomic_load(&x->tables_cnt[0].misses) > 0);	/* table 0 continues: its misses count too */
	assert_true(atomic_load(&x->tables_cnt[3].misses) > 0 && atomic_load(&x->tables_cnt[5].misses) > 0);
	assert_true(total > 3 * 2 * 8);
	assert_int_equal(x->cnt[FLOW_CNT_PACKETS], ref->cnt[FLOW_CNT_PACKETS]);
	assert_int_equal(x->cnt[FLOW_CNT_MISS_DROP], ref->cnt[FLOW_CNT_MISS_DROP]);
	assert_int_equal(x->cnt[FLOW_CNT_NO_OUTPUT], ref->cnt[FLOW_CNT_NO_OUTPUT]);
	free(ref);
}


/* Frame @i: UDP/IPv4 @src4 -> @dst4 (host order), ports @sport -> 1001, TTL @ttl, MACs ..:01 -> ..:02. */
static void frame_udp(struct fx *f, unsigned i, uint32_t src4, uint32_t dst4, uint16_t sport, uint8_t ttl)
{
	struct frame_spec s = frame_tcp4();
	size_t len;

	s.proto = 17;
	s.src4 = src4;
	s.dst4 = dst4;
	s.sport = sport;
	s.dport = 1001;
	s.ttl = ttl;
	len = frame_build(f->bufs[i], &s);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, 0);
}

/* The one frame sent, to port @port, with TTL @ttl and dl_dst ..:bb; its IPv4 header checksum right. */
static void sent_rewritten(struct fx *f, unsigned port, uint8_t ttl)
{
	const uint8_t *ip = f->log[0].bytes + 14;
	uint32_t sum = 0;

	assert_int_equal(f->nlog, 1);
	assert_int_equal(f->log[0].port, port);
	assert_int_equal(f->log[0].bytes[5], 0xbb);
	assert_int_equal(ip[8], ttl);
	for (unsigned k = 0; k < 20; k += 2)
		sum += (uint32_t)(ip[k] << 8 | ip[k + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff);
}

/* Frame @i: TCP/IPv4 10.0.0.1:1234 -> 10.0.0.2:80 with @payload bytes after the TCP header. */
static void frame_tcp_len(struct fx *f, unsigned i, unsigned payload)
{
	struct frame_spec s = frame_tcp4();
	size_t len;

	s.payload = payload;
	len = frame_build(f->bufs[i], &s);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, 0);
}

/* True when the one frame forwarded from port 0 was replayed from a memo, not run (a run sets x.resubmits). */
static bool forward_replayed(struct fx *f)
{
	f->ctx->flow->x.resubmits = 12345;
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(f->log[0].bytes[5], 0xbb);
	return f->ctx->flow->x.resubmits == 12345;
}

/*
 * A flow's frames of other lengths than its first are replayed too: a
 * rewriting run's memo fits only frames shaped as the one it was made
 * from (flow_memo_acts_fit(): the head's length among them), and a TCP
 * flow's first frame (a SYN, 54 bytes here) is shorter than the head
 * copy its data frames fill (PKT_HEAD_COPY).  Once the SYN's run made a
 * megaflow, every data frame of the flow fell in it, did not fit, and
 * ran the whole pipeline, with no memo kept anywhere (a megaflow hit
 * never reaches the exact-match cache), for as long as the megaflow
 * lived: its hits kept it from being replaced.
 */
static void test_megaflow_other_lengths(void **state)
{
	struct fx *f = *state;
	unsigned replayed = 0;

	add(f, "table=0,priority=10,ip,actions=mod_dl_dst:02:00:00:00:00:bb,resubmit(,1)");
	add(f, "table=1,priority=10,ip,actions=output:3");
	frame_tcp_len(f, 0, 0);
	assert_false(forward_replayed(f));	/* the SYN: run, a megaflow made */
	frame_tcp_len(f, 0, 0);
	assert_true(forward_replayed(f));	/* another like it: replayed */
	for (unsigned k = 0; k < 8; k++) {
		frame_tcp_len(f, 0, 1000);
		replayed += forward_replayed(f);
		assert_int_equal(f->log[0].len, 14 + 20 + 20 + 1000);
	}
	/* The first data frame runs; the others are replayed (from any cache). */
	print_message("data frames of the flow replayed: %u of 8\n", replayed);
	if (replayed < 7)
		fail_msg("%u of 8 data frames replayed", replayed);
}

/*
 * A rule set that rewrites (mod_dl_dst, dec_ttl, then a resubmit) and
 * 10,000 flows, twice the exact-match cache: one megaflow answers them
 * all (its mask: in_port, what the lookups read, and the whole TTL,
 * which dec_ttl tests), each frame rewritten from its own bytes.  Frames
 * of one flow that differ only in a bit the run reads never share one:
 * TTL 1 (dec_ttl stops: nothing sent) and TTL 64 and 2 each get their own.
 */
static void test_megaflow_rewrites(void **state)
{
	struct fx *f = *state;
	const struct dp_flow_stats *st = &f->ctx->flow->stats;
	struct dp_flow_mf_view *v = calloc(DP_FLOW_MF_ENTRIES, sizeof(*v));
	uint64_t mf0, miss0, ttl0, mf1, miss1;
	bool seen[3] = { false };
	unsigned n;

	add(f, "table=0,priority=300,udp,nw_dst=10.0.0.0/8,actions=mod_dl_dst:02:00:00:00:00:bb,dec_ttl,resubmit(,1)");
	add(f, "table=0,priority=0,actions=drop");
	add(f, "table=1,priority=200,in_port=1,ip,actions=output:2");
	add(f, "table=1,priority=0,actions=drop");
	mf0 = atomic_load(&st->mf_hits);
	miss0 = atomic_load(&st->emc_misses);
	for (unsigned round = 0; round < 2; round++)
		for (unsigned base = 0; base < 10000; base += PKT_BURST) {
			unsigned nb = 10000 - base < PKT_BURST ? 10000 - base : PKT_BURST;

			for (unsigned i = 0; i < nb; i++) {
				unsigned flow = base + i;

				frame_udp(f, i, 0x0afe0000u, 0x0a010000u | (flow >> 2), (uint16_t)(1000 + (flow & 3)), 64);
			}
			forward(f, 0, nb);
			assert_int_equal(f->nlog, nb);
			for (unsigned i = 0; i < nb; i++) {
				assert_int_equal(f->log[i].port, 1);
				assert_int_equal(f->log[i].bytes[5], 0xbb);
				assert_int_equal(f->log[i].bytes[14 + 8], 63);
				assert_int_equal(f->log[i].bytes[14 + 19], (uint8_t)((base + i) >> 2));	/* its own address */
			}
		}
	mf1 = atomic_load(&st->mf_hits) - mf0;
	miss1 = atomic_load(&st->emc_misses) - miss0;
	print_message("10,000 flows twice through mod_dl_dst,dec_ttl: %" PRIu64 " megaflow hits, %" PRIu64
		      " classifier lookups\n", mf1, miss1);
	/* the first batch is looked up (no megaflow yet when its frames were), every later frame hits */
	assert_int_equal(miss1, PKT_BURST);
	assert_int_equal(mf1, 20000 - PKT_BURST);
	n = dp_flow_mf_read(f->ctx->flow, atomic_load(&f->sw->flows), v, DP_FLOW_MF_ENTRIES);
	assert_int_equal(n, 1);
	assert_true(v[0].memo.flags & FLOW_MEMO_F_WRITES);
	assert_int_equal(v[0].mask.nw_ttl, 0xff);
	assert_int_equal(v[0].mask.nw_dst, htonl(0xff000000));
	assert_int_equal(v[0].mask.tp_src, 0);
	assert_int_equal(v[0].mask.nw_src, 0);

	/* TTL 1: another megaflow, dec_ttl stops the list (nothing sent), and its next frame is answered by it */
	mf0 = atomic_load(&st->mf_hits);
	miss0 = atomic_load(&st->emc_misses);
	ttl0 = f->ctx->flow->x.cnt[FLOW_CNT_TTL];
	frame_udp(f, 0, 0x0afe0000u, 0x0a010005u, 1000, 1);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(atomic_load(&st->mf_hits), mf0);
	assert_int_equal(atomic_load(&st->emc_misses), miss0 + 1);
	frame_udp(f, 0, 0x0afe0000u, 0x0a010006u, 1001, 1);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 0);
	assert_int_equal(atomic_load(&st->mf_hits), mf0 + 1);
	assert_int_equal(f->ctx->flow->x.cnt[FLOW_CNT_TTL], ttl0 + 2);
	/* TTL 64 again: the first megaflow; TTL 2: a third (sent with TTL 1) */
	frame_udp(f, 0, 0x0afe0000u, 0x0a010005u, 1000, 64);
	forward(f, 0, 1);
	sent_rewritten(f, 1, 63);
	assert_int_equal(atomic_load(&st->mf_hits), mf0 + 2);
	frame_udp(f, 0, 0x0afe0000u, 0x0a010005u, 1000, 2);
	forward(f, 0, 1);
	sent_rewritten(f, 1, 1);
	assert_int_equal(atomic_load(&st->mf_hits), mf0 + 2);
	assert_int_equal(atomic_load(&st->emc_misses), miss0 + 2);
	n = dp_flow_mf_read(f->ctx->flow, atomic_load(&f->sw->flows), v, DP_FLOW_MF_ENTRIES);
	assert_int_equal(n, 3);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(v[i].mask.nw_ttl, 0xff);
		seen[0] |= v[i].key.nw_ttl == 64;
		seen[1] |= v[i].key.nw_ttl == 1;
		seen[2] |= v[i].key.nw_ttl == 2;
	}
	assert_true(seen[0] && seen[1] && seen[2]);
	free(v);
}

/*
 * A lookup after a move depends on the move's source, and one after a
 * constant on nothing: table 0 copies nw_src's low byte into reg0 and
 * sets nw_src, table 1 matches reg0 and the new nw_src.  The megaflow
 * holds nw_src's low byte only: frames that differ elsewhere in nw_src or
 * in nw_dst share it; one whose low byte differs does not.
 */
static void test_megaflow_move(void **state)
{
	struct fx *f = *state;
	const struct dp_flow_stats *st = &f->ctx->flow->stats;
	struct dp_flow_mf_view *v = calloc(DP_FLOW_MF_ENTRIES, sizeof(*v));
	static const struct {
		uint32_t src, dst;
		unsigned port;
		bool hit;
	} fr[] = {
		{ 0x0a000003, 0x0a000002, 2, false }, { 0x0a000003, 0x0a000004, 2, true },
		{ 0x0a000103, 0x0a000004, 2, true },  { 0x0a000009, 0x0a000002, 1, false },
		{ 0x0b000009, 0x0a000005, 1, true },  { 0x0a000103, 0x0a000002, 2, true },
	};
	unsigned n;

	add(f, "table=0,priority=10,ip,actions=move:NXM_OF_IP_SRC[0..7]->reg0[0..7],mod_nw_src:10.9.9.9,"
	       "mod_dl_dst:02:00:00:00:00:bb,goto_table:1");
	add(f, "table=1,priority=20,reg0=3,actions=output:3");
	add(f, "table=1,priority=10,ip,nw_src=10.9.9.9,actions=output:2");
	for (unsigned i = 0; i < sizeof(fr) / sizeof(fr[0]); i++) {
		uint64_t mf = atomic_load(&st->mf_hits);

		frame_udp(f, 0, fr[i].src, fr[i].dst, 1000, 64);
		forward(f, 0, 1);
		assert_int_equal(f->nlog, 1);
		assert_int_equal(f->log[0].port, fr[i].port);
		assert_int_equal(f->log[0].bytes[5], 0xbb);
		assert_int_equal(atomic_load(&st->mf_hits), mf + fr[i].hit);
	}
	n = dp_flow_mf_read(f->ctx->flow, atomic_load(&f->sw->flows), v, DP_FLOW_MF_ENTRIES);
	assert_int_equal(n, 2);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(v[i].mask.nw_src, htonl(0xff));
		assert_int_equal(v[i].mask.nw_dst, 0);
		assert_true(v[i].memo.flags & FLOW_MEMO_F_WRITES);
	}
	free(v);
}

/*
 * The control thread's view of a worker's megaflows (vswctl flow
 * dump-cache): each one's key on its mask's bits, the mask, the run's
 * outputs; only the published version's.
 */
static void test_megaflow_read(void **state)
{
	struct fx *f = *state;
	struct dp_flow_mf_view *v = calloc(DP_FLOW_MF_ENTRIES, sizeof(*v));
	const struct flow_tables *t;
	bool seen2 = false, seen5 = false;
	unsigned n;

	assert_non_null(v);
	add(f, "table=0,priority=100,ip,nw_dst=10.0.0.3,actions=output:4");
	add(f, "table=0,priority=10,ip,actions=resubmit(,1)");
	add(f, "table=1,priority=10,ip,actions=output:2");
	t = atomic_load(&f->sw->flows);
	assert_int_equal(dp_flow_mf_read(f->ctx->flow, t, v, DP_FLOW_MF_ENTRIES), 0);
	assert_int_equal(one(f, 0, 2), 1);
	assert_int_equal(one(f, 0, 5), 1);
	assert_int_equal(one(f, 0, 5), 1);
	n = dp_flow_mf_read(f->ctx->flow, t, v, DP_FLOW_MF_ENTRIES);
	assert_int_equal(n, 2);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(v[i].mask.in_port, 0xffff);
		assert_int_equal(v[i].key.in_port, htons(1));		/* ports[0] */
		assert_int_equal(v[i].mask.nw_dst, 0xffffffff);	/* table 0's priority 100 rule looked at it */
		assert_int_equal(v[i].mask.nw_src, 0);
		assert_int_equal(v[i].memo.n_out, 1);
		assert_int_equal(v[i].memo.out[0].port, 2);		/* output:2, ports[1] */
		seen2 |= v[i].key.nw_dst == htonl(0x0a000002);
		seen5 |= v[i].key.nw_dst == htonl(0x0a000005);
	}
	assert_true(seen2 && seen5);
	assert_int_equal(dp_flow_mf_read(f->ctx->flow, t, v, 1), 1);
	/* a new version: the old megaflows are not shown */
	add(f, "table=1,priority=20,ip,nw_dst=10.0.0.9,actions=output:3");
	assert_int_equal(dp_flow_mf_read(f->ctx->flow, atomic_load(&f->sw->flows), v, DP_FLOW_MF_ENTRIES), 0);
	free(v);
}

struct mf_reader {
	const struct dp_flow *flow;
	const struct flow_tables *t;
	atomic_bool stop;
	unsigned long reads, views, wrong;
};

/* Read the megaflows over and over while the worker makes them: every view must be one megaflow, whole. */
static void *mf_reader_main(void *arg)
{
	struct mf_reader *r = arg;
	struct dp_flow_mf_view *v = calloc(DP_FLOW_MF_ENTRIES, sizeof(*v));

	while (v && !atomic_load(&r->stop)) {
		unsigned n = dp_flow_mf_read(r->flow, r->t, v, DP_FLOW_MF_ENTRIES);

		for (unsigned i = 0; i < n; i++) {
			unsigned host = ntohl(v[i].key.nw_dst) & 0xff;

			/* the rule set below: 10.0.0.H goes to port 2 + H % 4, none (a miss) when H % 4 is 3 */
			bool miss = (host & 3) == 3;

			if (v[i].memo.n_out != !miss || (!miss && v[i].memo.out[0].port != 2 + (host & 3)) ||
			    (miss && !v[i].memo.miss_drops) ||
			    v[i].mask.nw_dst != 0xffffffff || (ntohl(v[i].key.nw_dst) >> 8) != 0x0a0000)
				r->wrong++;
		}
		r->reads++;
		r->views += n;
	}
	free(v);
	return NULL;
}

/*
 * A dump-cache while the worker churns its megaflows (more keys than
 * entries: every insert evicts one) sees every megaflow it returns whole:
 * no key of one with the outputs of another.
 */
static void test_megaflow_read_concurrent(void **state)
{
	struct fx *f = *state;
	struct mf_reader r = { .flow = f->ctx->flow };
	pthread_t th;
	char text[128];

	for (unsigned h = 0; h < 3; h++) {
		snprintf(text, sizeof(text), "priority=%u,ip,nw_dst=10.0.0.%u/0.0.0.3,actions=output:%u", 10 + h, h, 2 + h);
		add(f, text);
	}
	add(f, "priority=20,ip,nw_dst=10.0.0.0/24,nw_src=10.0.0.99,actions=drop");	/* every lookup reads nw_dst whole */
	add(f, "priority=20,ip,nw_dst=10.0.0.255,actions=drop");
	add(f, "priority=20,dl_src=02:00:00:00:00:ff,actions=drop");	/* and dl_src whole: 64k megaflows */
	r.t = atomic_load(&f->sw->flows);
	assert_int_equal(pthread_create(&th, NULL, mf_reader_main, &r), 0);
	for (unsigned round = 0; round < 2000; round++) {
		for (unsigned i = 0; i < PKT_BURST; i++) {
			unsigned k = round * PKT_BURST + i;

			frame(f, i, (uint8_t)(k / 255 % 255), 2, (uint8_t)(k % 255), 0);
		}
		forward(f, 0, PKT_BURST);
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	print_message("dump-cache under churn: %lu reads, %lu megaflows seen, %lu wrong\n", r.reads, r.views, r.wrong);
	assert_int_equal(r.wrong, 0);
	assert_true(r.reads > 0 && atomic_load(&f->ctx->flow->stats.emc_misses) > 2000 * PKT_BURST / 2);
}

/* Frame @i: a UDP flow from 10.@net.x.y (@flow: x.y), so each @flow is a 5-tuple of its own. */
static void frame_flow(struct fx *f, unsigned i, unsigned net, unsigned flow, unsigned in)
{
	struct frame_spec s = frame_tcp4();
	size_t len;

	s.proto = 17;
	s.src4 = 0x0a000000u | net << 16 | (flow & 0xffff);
	len = frame_build(f->bufs[i], &s);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, in);
}

/* Frames of @n random flows of @flows from 10.@net/16 forwarded as one batch; returns the table lookups (misses). */
static uint64_t flows_batch(struct fx *f, unsigned net, unsigned flows, unsigned n)
{
	uint64_t m0 = atomic_load(&f->ctx->flow->stats.emc_misses);

	for (unsigned i = 0; i < n; i++)
		frame_flow(f, i, net, rnd(flows), 0);
	forward(f, 0, n);
	assert_int_equal(sent_to(f, 1), n);
	return atomic_load(&f->ctx->flow->stats.emc_misses) - m0;
}

/*
 * A storm of new flows (one frame each, every one its own exact-match
 * entry and megaflow: the rule set reads nw_src whole) next to 200
 * established flows that fit both caches: the storm, 16 new flows to a
 * batch of 64 established frames, 9,600 new flows in all (several times
 * both caches), must not evict the established entries (issue 14 item 6).
 */
static void test_storm_keeps_established(void **state)
{
	struct fx *f = *state;
	uint64_t est_misses = 0;
	unsigned fresh = 0;

	add(f, "priority=300,udp,tp_src=7,tp_dst=7,actions=drop");	/* every megaflow holds both ports */
	add(f, "priority=200,ip,nw_src=192.0.2.1,actions=drop");	/* ... and the whole source address */
	add(f, "priority=10,ip,actions=output:2");
	rnd_state = 12345;
	for (unsigned r = 0; r < 50; r++)
		flows_batch(f, 1, 200, PKT_BURST);	/* warm: every flow cached, hit a few times */
	for (unsigned r = 0; r < 600; r++) {
		est_misses += flows_batch(f, 1, 200, PKT_BURST);
		for (unsigned i = 0; i < 16; i++)
			frame_flow(f, i, 2, fresh++, 0);
		forward(f, 0, 16);
	}
	print_message("established frames looked up in the table during the storm: %" PRIu64 " of %u\n", est_misses,
		      600 * PKT_BURST);
	assert_true(est_misses <= 600 * PKT_BURST / 500);	/* replaced at random: 836 */
}

/*
 * Every place of both caches held by an entry of the version in force
 * with the most hits, for keys no frame has: new flows still get in, as
 * each frame that is refused a place halves the count of an entry there
 * (a cache that never let a used entry go would look up every one of
 * their frames for ever).
 */
static void test_cache_ages_out_unused(void **state)
{
	struct fx *f = *state;
	struct dp_flow *df = f->ctx->flow;
	const struct flow_tables *t;
	uint64_t late = 0;

	add(f, "priority=300,udp,tp_src=7,tp_dst=7,actions=drop");
	add(f, "priority=200,ip,nw_src=192.0.2.1,actions=drop");
	add(f, "priority=10,ip,actions=output:2");
	rnd_state = 777;
	flows_batch(f, 1, 1, 1);	/* the version's megaflow mask */
	t = atomic_load(&f->sw->flows);
	assert_int_equal(df->n_mf_masks, 1);
	for (unsigned i = 0; i < DP_FLOW_EMC_ENTRIES; i++) {
		df->emc[i].gen = t->gen + 1;
		df->emc[i].tables = t;
		memset(df->emc[i].key, 0xee, sizeof(df->emc[i].key));
		df->emc[i].hits = DP_FLOW_HITS_MAX;
	}
	for (unsigned i = 0; i < DP_FLOW_MF_ENTRIES; i++) {
		df->mf[i].gen = t->gen + 1;
		df->mf[i].tables = t;
		df->mf[i].mask = 0;
		memset(df->mf[i].key, 0xee, sizeof(df->mf[i].key));
		df->mf[i].hits = DP_FLOW_HITS_MAX;
	}
	assert_int_equal(flows_batch(f, 3, 100, PKT_BURST), PKT_BURST);	/* none of them cached yet */
	for (unsigned r = 0; r < 100; r++) {
		uint64_t m = flows_batch(f, 3, 100, PKT_BURST);

		if (r >= 90)
			late += m;
	}
	print_message("lookups of 100 new flows after 90 batches: %" PRIu64 " of %u\n", late, 10 * PKT_BURST);
	assert_int_equal(late, 0);
}

/* More outputs than a batch's copy pool holds: the rest are flow_copies drops, nothing overflows. */
static void test_copy_pool_full(void **state)
{
	struct fx *f = *state;

	add(f, "in_port=1,actions=output:2,output:3,output:4");
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

	add(f, "priority=10,tun_id=0x10,actions=output:2");
	add(f, "priority=10,tun_id=0x20,tun_src=192.0.2.7,actions=output:3");
	add(f, "priority=10,tun_id=0x20,tun_dst=192.0.2.9,actions=drop");
	add(f, "priority=5,in_port=4,actions=set_tunnel:0x30,output:1");
	add(f, "priority=5,in_port=3,actions=set_field:0x40->tun_id,output:1,set_tunnel:0x41,output:2");
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

/*
 * A key slot that a frame from a tunnel used has its tunnel words zeroed
 * for the next frame in it, which came in no tunnel: that one's tun_id is
 * 0 (dp_flow.key_tail; the other frames' extraction writes only their
 * own headers' words).
 */
static void test_tunnel_slot_reused(void **state)
{
	struct fx *f = *state;

	add(f, "priority=10,tun_id=0x10,actions=output:2");
	add(f, "priority=0,actions=output:3");
	for (unsigned round = 0; round < 2; round++) {
		frame(f, 0, 1, 2, 2, 0);
		tunneled(f, 0, 0x10, 5);
		forward(f, 0, 1);
		assert_int_equal(sent_to(f, 1), 1);
		frame(f, 0, 1, 2, 2, 0); /* the same slot, no tunnel */
		forward(f, 0, 1);
		assert_int_equal(sent_to(f, 1), 0);
		assert_int_equal(sent_to(f, 2), 1);
	}
}

/*
 * The destination VTEP from the flows: set_field->tun_dst (or load, move)
 * gives the frame the tun_dst its output to a remote=flow port sends it
 * to, each output the one set before it; a frame that came in a tunnel
 * keeps its outer destination unless the flows change it; and the same
 * key again, answered by the caches (a memo replaying the actions), sends
 * to the same VTEP.
 */
static void test_tunnel_dst(void **state)
{
	struct fx *f = *state;

	add(f, "priority=10,ip,nw_dst=10.0.0.2,actions=set_field:172.31.0.2->tun_dst,output:2");
	add(f, "priority=10,ip,nw_dst=10.0.0.3,actions=load:0xac1f0003->NXM_NX_TUN_IPV4_DST[],set_tunnel:0x7,output:2,"
	       "set_field:172.31.0.4->tun_dst,output:3");
	add(f, "priority=10,tun_id=0x20,actions=output:4");
	add(f, "priority=0,actions=output:2");
	for (unsigned round = 0; round < 3; round++) {
		frame(f, 0, 1, 2, 2, 0);
		frame(f, 1, 1, 2, 3, 0);
		frame(f, 2, 1, 2, 4, 0);
		forward(f, 0, 3);
		const struct tx_frame *p1 = first_to(f, 1);	/* port 1's three, in batch order */

		assert_int_equal(f->nlog, 4);
		assert_int_equal(sent_to(f, 1), 3);
		assert_true(p1[0].tun);
		assert_int_equal(ntohl(p1[0].tun_dst), 0xac1f0002);
		assert_int_equal(p1[0].tun_id, 0);
		assert_int_equal(p1[1].port, 1);
		assert_int_equal(ntohl(p1[1].tun_dst), 0xac1f0003);
		assert_int_equal(p1[1].tun_id, 7);
		assert_int_equal(p1[2].port, 1);
		assert_false(p1[2].tun);	/* no tun_dst set: no tunnel metadata (remote=flow drops it) */
		assert_int_equal(ntohl(first_to(f, 2)->tun_dst), 0xac1f0004);
		assert_int_equal(first_to(f, 2)->tun_id, 7);
	}
	assert_true(atomic_load(&f->ctx->flow->stats.emc_hits) >= 6);
	/* from a tunnel: the outer destination stays */
	frame(f, 0, 1, 2, 9, 1);
	tunneled(f, 0, 0x20, 5);
	forward(f, 1, 1);
	assert_int_equal(f->nlog, 1);
	assert_int_equal(ntohl(f->log[0].tun_dst), 0xc0000201);
	assert_int_equal(f->log[0].tun_id, 0x20);
}

/* Frame @i came in an IPv6 tunnel: key @id, outer fd00::@src -> fd00::1. */
static void tunneled6(struct fx *f, unsigned i, uint64_t id, uint8_t src)
{
	struct pkt *p = &f->pkts[i];

	p->flags |= PKT_F_TUNNEL;
	memset(&p->tun, 0, sizeof(p->tun));
	p->tun.id = id;
	p->tun.ipv6 = true;
	memcpy(p->tun.src.v6, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15);
	p->tun.src.v6[15] = src;
	memcpy(p->tun.dst.v6, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
}

static const uint8_t fd00_2[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t fd00_3[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };

/*
 * IPv6 underlays (ovs-fields(7) tun_ipv6_src, tun_ipv6_dst): a frame from
 * one matches its outer addresses there, tun_src/tun_dst stay 0 (and an
 * IPv4 tunnel's frame has no tun_ipv6_*); set_field->tun_ipv6_dst gives
 * each output the IPv6 VTEP set before it, an IPv4 tun_dst wins over it
 * (Open vSwitch's flow_tnl_dst()) until the flows clear it, a frame from
 * an IPv6 tunnel keeps its outer destination unless the flows change it,
 * and the caches (the same keys again) send the same.
 */
static void test_tunnel_ipv6(void **state)
{
	struct fx *f = *state;

	add(f, "priority=20,tun_ipv6_src=fd00::7,tun_src=0.0.0.0,actions=output:2");
	add(f, "priority=20,tun_ipv6_dst=fd00::/16,tun_id=0x21,actions=drop");
	add(f, "priority=20,tun_src=192.0.2.7,tun_ipv6_src=::/::,tun_ipv6_dst=::,actions=output:3");
	add(f, "priority=10,ip,nw_dst=10.0.0.2,actions=set_field:fd00::2->tun_ipv6_dst,output:2,"
	       "set_field:fd00::3->tun_ipv6_dst,output:3");
	add(f, "priority=10,ip,nw_dst=10.0.0.3,actions=set_field:fd00::2->tun_ipv6_dst,"
	       "set_field:172.31.0.2->tun_dst,output:2");
	add(f, "priority=10,ip,nw_dst=10.0.0.4,actions=set_field:fd00::2->tun_ipv6_dst,output:2,"
	       "set_field:0.0.0.0->tun_dst,output:3");
	add(f, "priority=0,actions=drop");
	frame(f, 0, 1, 2, 9, 0);
	tunneled6(f, 0, 0x20, 7);
	frame(f, 1, 1, 2, 9, 0);
	tunneled6(f, 1, 0x21, 8);
	frame(f, 2, 1, 2, 9, 0);
	tunneled(f, 2, 0x20, 7);
	forward(f, 0, 3);
	assert_int_equal(f->nlog, 2);
	assert_int_equal(sent_to(f, 1), 1);
	assert_true(first_to(f, 1)->tun_ipv6);	/* it keeps its outer destination */
	assert_memory_equal(first_to(f, 1)->tun_dst6, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	assert_int_equal(sent_to(f, 2), 1);
	assert_false(first_to(f, 2)->tun_ipv6);
	assert_int_equal(port_drops(&f->ports[0], DROP_FLOW_DROP), 1);
	for (unsigned round = 0; round < 3; round++) {
		frame(f, 0, 1, 2, 2, 0);
		frame(f, 1, 1, 2, 3, 0);
		forward(f, 0, 2);
		assert_int_equal(f->nlog, 3);
		assert_int_equal(sent_to(f, 1), 2);
		assert_true(first_to(f, 1)[0].tun_ipv6);
		assert_memory_equal(first_to(f, 1)[0].tun_dst6, fd00_2, 16);
		assert_false(first_to(f, 1)[1].tun_ipv6);	/* the IPv4 tun_dst wins */
		assert_int_equal(ntohl(first_to(f, 1)[1].tun_dst), 0xac1f0002);
		assert_true(first_to(f, 2)->tun_ipv6);
		assert_memory_equal(first_to(f, 2)->tun_dst6, fd00_3, 16);
	}
	assert_true(atomic_load(&f->ctx->flow->stats.emc_hits) >= 4);
	/* from an IPv6 tunnel, to a new IPv6 VTEP */
	frame(f, 0, 1, 2, 2, 0);
	tunneled6(f, 0, 0x22, 9);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 2);
	assert_memory_equal(first_to(f, 1)->tun_dst6, fd00_2, 16);
	assert_int_equal(first_to(f, 1)->tun_id, 0x22);
	assert_memory_equal(first_to(f, 2)->tun_dst6, fd00_3, 16);
	/* from an IPv4 tunnel: its tun_dst wins until the flows clear it (an IPv4-to-IPv6 gateway) */
	frame(f, 0, 1, 2, 4, 0);
	tunneled(f, 0, 0x23, 9);
	forward(f, 0, 1);
	assert_int_equal(f->nlog, 2);
	assert_false(first_to(f, 1)->tun_ipv6);
	assert_int_equal(ntohl(first_to(f, 1)->tun_dst), 0xc0000201);
	assert_true(first_to(f, 2)->tun_ipv6);
	assert_memory_equal(first_to(f, 2)->tun_dst6, fd00_2, 16);
	assert_int_equal(first_to(f, 2)->tun_id, 0x23);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_rule_is_bridge, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_dst, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_output_miss_drop, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_versions, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_inner_partial, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_push_vlan, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_normal, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unicast_out, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mirror_flood, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_in_port_and_flood, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_vlans, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_counters, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_run_counts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cache_invalidation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_masks, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_masks_per_in_port, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_batches_per_flow, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_invalidation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_miss_mode_invalidation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_table_counts_cached_equal_uncached, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_rewrites, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_other_lengths, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_move, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_read, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_megaflow_read_concurrent, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_storm_keeps_established, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cache_ages_out_unused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_copy_pool_full, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_fields, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_slot_reused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tunnel_ipv6, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_flags, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
