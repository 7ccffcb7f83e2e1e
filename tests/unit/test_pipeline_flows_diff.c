/* test_pipeline_flows_diff.c - the flow tables' caches against no cache: random rule sets, with rewrites, and random frames, through the lookup stage twice. */

/*
 * Two switches with the same rules: one answers from its exact-match and
 * megaflow caches and memos, the other runs every frame through the
 * tables (its caches wiped before each batch).  Every frame must leave
 * with the same verdicts and headers, and every rule and table count the
 * same packets and bytes (test_pipeline_flows.c has the directed tests).
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

/* ---- the caches against no cache: random rule sets with rewrites ---- */

#define FRAME_VARS 4096

/*
 * Frame @i of @f from a spec numbered @v (below FRAME_VARS): UDP or
 * TCP/IPv4, tagged or not (twice, now and then), TTL 0, 1, 2, 3, 64,
 * 65, 128 or 129 (a decrement's every bit, and the test at 0 and 1), two
 * destination and two source addresses, two MACs, TCP/UDP port 80 or
 * 443, IPv4 options now and then (a payload 4 bytes shorter: the same
 * length, L4 further on), and a source port among 4 that no rule reads:
 * frames that differ only there share a megaflow.
 */
static struct frame_spec frame_var_spec(unsigned v)
{
	static const uint8_t ttls[8] = { 0, 1, 2, 64, 3, 129, 128, 65 };
	struct frame_spec s = frame_tcp4();

	s.proto = v & 1 ? 17 : 6;
	s.vlan = v & 2 ? 0x2005 : -1;
	s.ttl = ttls[((v >> 2) & 3) | (v >> 9 & 4)];
	s.dst4 = v & 16 ? 0x0a000003 : 0x0a000002;
	s.src[5] = v & 32 ? 2 : 1;
	s.src4 = v & 64 ? 0x0a000003 : 0x0a000009;
	s.dport = v & 128 ? 80 : 443;
	s.sport = (uint16_t)(1000 + ((v >> 8) & 3));
	if ((v & 0x600) == 0x600) {
		s.ip_opts = 4;
		s.payload -= 4;
	}
	if ((v & 0x602) == 0x202)
		s.vlan2 = 0x0007;
	return s;
}

static void frame_var(struct fx *f, unsigned i, unsigned v, unsigned in)
{
	struct frame_spec s = frame_var_spec(v);
	size_t len = frame_build(f->bufs[i], &s);

	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, in);
}

/* Every cache entry of @f's worker forgotten: the next frame is looked up and run. */
static void caches_wipe(struct fx *f)
{
	struct dp_flow *df = f->ctx->flow;

	for (unsigned i = 0; i < DP_FLOW_EMC_ENTRIES; i++)
		df->emc[i].gen = 0;
	for (unsigned i = 0; i < DP_FLOW_MF_ENTRIES; i++)
		df->mf[i].gen = 0;
	for (unsigned i = 0; i < DP_FLOW_HC_ENTRIES; i++)
		df->hc[i].gen = 0;
	df->n_mf_masks = 0;
}

/*
 * The pools: matches on fields the actions below rewrite (nw_dst, nw_src,
 * dl_src, tp_dst, nw_ttl, the tag, reg0) and actions that write the
 * values the matches look for, copy one field into another (move), count
 * the TTL down, push and pop tags: a later table's lookup reads bits an
 * earlier action wrote or copied, and a megaflow of such a run must stand
 * only for the frames the run would treat the same.
 */
static const char *const diff_matches[] = {
	"", "in_port=1,", "in_port=2,", "ip,", "udp,", "tcp,", "ip,nw_dst=10.0.0.3,", "dl_vlan=5,", "vlan_tci=0/0x1000,",
	"ip,nw_ttl=2,", "dl_src=02:00:00:00:00:02,", "reg0=5,", "tcp,tp_dst=80,", "tun_ipv6_dst=fd00::2,",
	"tun_ipv6_dst=fd00::/16,", "ip,nw_src=10.0.0.3,", "reg0=3,", "reg0=2,", "ip,nw_ttl=1,", "reg1=0x50/0xf0,",
	"udp,tp_dst=80,", "ip,nw_dst=10.0.0.2/31,", "dl_vlan=7,",
};
static const char *const diff_acts[] = {
	"mod_dl_src:02:00:00:00:00:aa", "mod_dl_dst:02:00:00:00:00:bb", "mod_nw_dst:10.1.2.3", "mod_nw_src:10.9.9.9",
	"mod_tp_dst:99", "mod_tp_src:7", "dec_ttl", "push_vlan:0x8100", "strip_vlan", "mod_vlan_vid:7",
	"mod_vlan_pcp:3", "mod_nw_tos:16", "mod_nw_ttl:9", "load:5->reg0[]", "set_tunnel:0x42", "output:2",
	"set_field:172.31.0.2->tun_dst", "move:reg0[]->tun_dst[]", "load:0xac1f0003->NXM_NX_TUN_IPV4_DST[]",
	"output:3", "output:4", "normal", "in_port", "flood", "resubmit(,1)", "resubmit(,2)", "clone(output:4)",
	"output:reg0[0..1]", "set_field:fd00::2->tun_ipv6_dst", "move:reg0[]->tun_ipv6_dst[0..31]",
	"mod_nw_dst:10.0.0.3", "mod_dl_src:02:00:00:00:00:02", "mod_tp_dst:80", "mod_nw_ttl:2", "mod_vlan_vid:5",
	"move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[]", "move:NXM_OF_IP_DST[0..7]->reg0[0..7]",
	"move:NXM_NX_IP_TTL[]->reg0[0..7]", "move:reg0[0..7]->NXM_NX_IP_TTL[]", "move:NXM_OF_ETH_SRC[0..7]->reg0[0..7]",
	"move:NXM_OF_TCP_DST[]->reg1[0..15]", "move:reg1[0..15]->NXM_OF_TCP_SRC[]", "move:reg0[0..7]->reg1[4..11]",
	"dec_ttl", "pop_vlan", "push_vlan:0x88a8", "resubmit(,2)", "resubmit(,1)",
	"set_field:10.0.0.2/255.255.255.254->nw_dst", "load:0->reg0[1]",
};

/* Writes for the first table of a pipeline (diff_pipe()): each changes what a later table's match reads. */
static const char *const pipe_writes[] = {
	"move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[]", "move:NXM_OF_IP_DST[0..7]->reg0[0..7]",
	"move:NXM_NX_IP_TTL[]->reg0[0..7]", "move:reg0[0..7]->NXM_NX_IP_TTL[]", "move:NXM_OF_ETH_SRC[0..7]->reg0[0..7]",
	"move:NXM_OF_TCP_DST[]->reg1[0..15]", "move:reg0[0..7]->reg1[4..11]", "move:NXM_OF_IP_DST[]->NXM_OF_IP_SRC[]",
	"mod_nw_dst:10.0.0.3", "dec_ttl", "mod_nw_ttl:2", "push_vlan:0x8100", "pop_vlan", "mod_vlan_vid:5",
	"mod_tp_dst:80", "load:3->reg0[]", "mod_dl_src:02:00:00:00:00:02", "set_field:10.0.0.2/255.255.255.254->nw_dst",
	"move:NXM_OF_UDP_DST[]->reg1[0..15]", "move:NXM_OF_IP_SRC[0..7]->reg0[0..7]",
};
static const char *const pipe_first[] = { "ip,", "tcp,", "udp,", "", "in_port=2,ip," };
static const char *const pipe_outs[] = { "output:2", "output:3", "output:4", "normal", "in_port", "drop" };

#define POOL(p) (p)[rnd(sizeof(p) / sizeof((p)[0]))]

/* Rule @text into both switches (a text the parser refuses: none). */
static void diff_add(struct fx *a, struct fx *b, const char *text)
{
	for (unsigned k = 0; k < 2; k++) {
		struct fx *f = k ? b : a;
		struct flow_mod mod;
		char err[FLOW_ERR_MAX];

		if (flow_parse(text, FLOW_CMD_ADD, NULL, &mod, err, sizeof(err)))
			return;
		assert_int_equal(flow_db_add(f->db, &mod), 0);
		publish(f);
	}
}

/*
 * A pipeline: table 0 rewrites (moves, constants, dec_ttl, tags) and goes
 * on to table 1, whose rules match the fields just written or copied, and
 * sometimes write again and go on to table 2.
 */
static void diff_pipe(struct fx *a, struct fx *b)
{
	char text[512];

	for (unsigned r = 0, nr = 1 + rnd(3); r < nr; r++) {
		unsigned prio = rnd(4) * 10;	/* apart: the order of a call's arguments is the compiler's */
		int len = snprintf(text, sizeof(text), "table=0,priority=%u,%sactions=", prio, POOL(pipe_first));

		for (unsigned i = 0, n = 1 + rnd(3); i < n; i++)
			len += snprintf(text + len, sizeof(text) - (size_t)len, "%s,", POOL(pipe_writes));
		snprintf(text + len, sizeof(text) - (size_t)len, "%s", rnd(4) ? "goto_table:1" : "resubmit(,1),output:4");
		diff_add(a, b, text);
	}
	for (unsigned t = 1; t < 3; t++)
		for (unsigned r = 0, nr = 2 + rnd(4); r < nr; r++) {
			unsigned prio = rnd(4) * 10;
			int len = snprintf(text, sizeof(text), "table=%u,priority=%u,%sactions=", t, prio,
					   POOL(diff_matches));

			if (t == 1 && rnd(3) == 0)
				snprintf(text + len, sizeof(text) - (size_t)len, "%s,goto_table:2", POOL(pipe_writes));
			else
				snprintf(text + len, sizeof(text) - (size_t)len, "%s", POOL(pipe_outs));
			diff_add(a, b, text);
		}
}

/* A rule of table @table from the pools (a text the parser may refuse: then none). */
static void diff_rule(struct fx *a, struct fx *b, unsigned table)
{
	char text[512];
	unsigned prio = rnd(4) * 10;	/* apart: gcc and clang draw the same rule sets */
	int len = snprintf(text, sizeof(text), "table=%u,priority=%u,%sactions=", table, prio, POOL(diff_matches));
	unsigned n = 1 + rnd(4);

	for (unsigned i = 0; i < n; i++)
		len += snprintf(text + len, sizeof(text) - (size_t)len, "%s%s", i ? "," : "", POOL(diff_acts));
	if (table < 2 && rnd(3) == 0)
		snprintf(text + len, sizeof(text) - (size_t)len, ",goto_table:%u", table + 1);
	diff_add(a, b, text);
}

/* What a differential test's cached switch did: frames a cache answered, replays with rewrites, by a megaflow. */
struct diff_tally {
	uint64_t replays, write_replays, mf_write_hits;
};

/*
 * Frame @v (built by @build) from port @in through @a, caches warm, and
 * through @b, caches forgotten first: every frame sent must be the same
 * (port, length, bytes, tunnel key); what @a's caches did into @tally.
 */
static void diff_frame(struct fx *a, struct fx *b, void (*build)(struct fx *, unsigned, unsigned, unsigned),
		       unsigned iter, unsigned v, unsigned in, struct diff_tally *tally)
{
	struct tx_frame log[LOG_MAX];
	unsigned nlog;
	uint64_t emc_hits = atomic_load(&a->ctx->flow->stats.emc_hits);
	uint64_t mf_hits = atomic_load(&a->ctx->flow->stats.mf_hits);
	uint64_t whole = atomic_load(&a->ctx->flow->stats.whole_batches);
	bool per_frame;

	cur = a;
	build(a, 0, v, in);
	forward(a, in, 1);
	nlog = a->nlog;
	memcpy(log, a->log, nlog * sizeof(log[0]));
	/* A batch answered whole (a memo that writes nothing) leaves memo[] as it was: not a replay with rewrites. */
	per_frame = atomic_load(&a->ctx->flow->stats.whole_batches) == whole;
	tally->replays += atomic_load(&a->ctx->flow->stats.emc_hits) != emc_hits;
	tally->write_replays += per_frame && a->ctx->flow->memo[0].n_rules != FLOW_MEMO_NONE &&
				(a->ctx->flow->memo[0].flags & FLOW_MEMO_F_WRITES);
	tally->mf_write_hits += per_frame && atomic_load(&a->ctx->flow->stats.mf_hits) != mf_hits &&
				(a->ctx->flow->memo[0].flags & FLOW_MEMO_F_WRITES);
	cur = b;
	caches_wipe(b);
	build(b, 0, v, in);
	forward(b, in, 1);
	if (b->nlog != nlog)
		fail_msg("rule set %u, frame %u from %u: %u frames sent cached, %u uncached", iter, v, in, nlog, b->nlog);
	for (unsigned k = 0; k < nlog; k++)
		if (log[k].port != b->log[k].port || log[k].len != b->log[k].len || log[k].tun != b->log[k].tun ||
		    log[k].tun_id != b->log[k].tun_id || log[k].tun_dst != b->log[k].tun_dst ||
		    log[k].tun_ipv6 != b->log[k].tun_ipv6 || memcmp(log[k].tun_dst6, b->log[k].tun_dst6, 16) ||
		    memcmp(log[k].bytes, b->log[k].bytes, log[k].len < FRAME_MAX ? log[k].len : FRAME_MAX))
			fail_msg("rule set %u, frame %u from %u: output %u differs", iter, v, in, k);
}

/* After a rule set's frames: @a (cached) and @b (uncached) counted the same drops, executor counts, misses, rule counts. */
static void diff_counts(struct fx *a, struct fx *b, unsigned iter)
{
	for (unsigned p = 0; p < NPORTS; p++)
		for (unsigned d = 0; d < DROP__COUNT; d++)
			assert_int_equal(port_drops(&a->ports[p], d), port_drops(&b->ports[p], d));
	for (unsigned c = 0; c < FLOW_CNT__COUNT; c++)
		if (a->ctx->flow->x.cnt[c] != b->ctx->flow->x.cnt[c])
			fail_msg("rule set %u: %s %" PRIu64 " cached, %" PRIu64 " uncached", iter, flow_cnt_names[c],
				 a->ctx->flow->x.cnt[c], b->ctx->flow->x.cnt[c]);
	for (unsigned t = 0; t < 3; t++) {
		uint64_t pa, ba, pb, bb;

		assert_int_equal(atomic_load(&a->ctx->flow->x.tables_cnt[t].misses),
				 atomic_load(&b->ctx->flow->x.tables_cnt[t].misses));
		flow_db_table_stats(a->db, t, &pa, &ba);
		flow_db_table_stats(b->db, t, &pb, &bb);
		if (pa != pb || ba != bb)
			fail_msg("rule set %u, table %u: %" PRIu64 "/%" PRIu64 " cached, %" PRIu64 "/%" PRIu64, iter, t, pa,
				 ba, pb, bb);
	}
}

/*
 * The two switches of a differential test's iteration @iter: *@b new,
 * *@a the test's own fixture at the first, new after (so every rule set
 * starts from empty tables); pair_end() puts back what pair_begin() made.
 */
static void pair_begin(void **state, unsigned iter, struct fx **a, struct fx **b)
{
	void *st;

	*a = *state;
	fx_setup(&st);
	*b = st;
	if (iter) {
		fx_setup(&st);
		*a = st;
	}
}

static void pair_end(void **state, unsigned iter, struct fx *a, struct fx *b)
{
	fx_teardown((void **)&b);
	if (iter)
		fx_teardown((void **)&a);
	cur = *state;
}

/* Half the time, both switches' table 0 goes on to table 1 on a miss. */
static void pair_maybe_miss_next(struct fx *a, struct fx *b)
{
	if (rnd(2)) {
		assert_int_equal(flow_db_set_miss(a->db, 0, FLOW_MISS_NEXT), 0);
		assert_int_equal(flow_db_set_miss(b->db, 0, FLOW_MISS_NEXT), 0);
	}
}

/*
 * The same random rule set into both switches: a pipeline of tables
 * (odd @iter) or 2-7 rules, table 0 going on to table 1 on a miss half
 * the time, and one rule more (at least one: a version to look up).
 */
static void pair_rules(struct fx *a, struct fx *b, unsigned iter)
{
	if (iter & 1)
		diff_pipe(a, b);
	else
		for (unsigned r = 0, nr = 2 + rnd(6); r < nr; r++)
			diff_rule(a, b, rnd(3));
	pair_maybe_miss_next(a, b);
	diff_rule(a, b, 1);
}

/*
 * Replay equals running: two switches with the same random rule set
 * (rewrites, VLAN actions, dec_ttl, registers, resubmits, goto_table,
 * misses that continue), the same frames in the same order, one with its
 * caches warm (frames after the first of a key replayed from memos,
 * rewrites included), the other with every cache entry forgotten before
 * each frame: every frame sent is the same (port, length, bytes, tunnel
 * key), and so are the drops by reason, the executor's counts, each
 * table's misses and each rule's packets and bytes.  Half the frames are
 * drawn from 64 specs (the exact-match cache answers their repeats), half
 * from all FRAME_VARS, many of which differ only in bits a run does not
 * read: a megaflow, of a rewriting run too, answers those; it must not
 * answer a frame its run would treat otherwise.
 */
static void test_replay_equals_run(void **state)
{
	struct fx *a = *state, *b;
	struct diff_tally tally = { 0 };

	rnd_state = 0x9e3779b9u;
	for (unsigned iter = 0; iter < 200; iter++) {
		pair_begin(state, iter, &a, &b);
		pair_rules(a, b, iter);	/* at least one rule: a version to look up */
		for (unsigned round = 0; round < 3; round++) {
			for (unsigned fr = 0; fr < 96; fr++) {
				unsigned in = rnd(2), v = rnd(2) ? rnd(64) : rnd(FRAME_VARS);

				diff_frame(a, b, frame_var, iter, v, in, &tally);
			}
		}
		diff_counts(a, b, iter);
		pair_end(state, iter, a, b);
	}
	print_message("replay vs run: %" PRIu64 " frames answered by a cache, %" PRIu64 " replayed with rewrites, %" PRIu64
		      " of them by a megaflow\n", tally.replays, tally.write_replays, tally.mf_write_hits);
	assert_true(tally.replays > 10000 && tally.write_replays > 3000 && tally.mf_write_hits > 2000);
}

/*
 * Frame @i of @f from spec @v (below 7 * 1024) for the field pools:
 * TCP, UDP or ICMP over IPv4 (options now and then), a first or later
 * IPv4 fragment, UDP or ICMPv6 over IPv6, ARP request or reply; tagged (PCP 5 or 0) or not; TOS 0, 0x20,
 * 0x22 or 0x82 (DSCP and ECN apart); TTL 1, 63, 64 or 255; two source
 * MACs, two addresses, ICMP echo or reply with code 0 or 3; a source
 * port no rule reads.
 */
static void frame_var_fields(struct fx *f, unsigned i, unsigned v, unsigned in)
{
	static const uint8_t toss[4] = { 0, 0x20, 0x22, 0x82 }, ttls[4] = { 1, 63, 64, 255 };
	struct frame_spec s = frame_tcp4();
	unsigned kind = v % 7;
	size_t len;

	v /= 7;
	s.vlan = v & 1 ? (v & 2 ? 0xa005 : 0x0005) : -1;
	s.tos = toss[(v >> 2) & 3];
	s.ttl = ttls[(v >> 4) & 3];
	s.src[5] = v & 64 ? 2 : 1;
	s.src[0] = v & 64 ? 0x03 : 0x02;
	s.dst4 = v & 128 ? 0x0a000003 : 0x0a000002;
	s.sport = (uint16_t)(1000 + ((v >> 8) & 1));
	s.dst6[15] = v & 128 ? 3 : 5;
	switch (kind) {
	case 0:
		s.tcp_flags = (uint16_t[]){ 0x010, 0x002, 0x012, 0x011 }[(v >> 8) & 3];	/* ACK, SYN, SYN-ACK, FIN */
		break;
	case 1:
		s.proto = 17;
		if (v & 512) {
			s.ip_opts = 4;
			s.payload -= 4;
		}
		break;
	case 2:
		s.proto = 1;
		s.icmp_type = v & 256 ? 8 : 0;
		s.icmp_code = v & 32 ? 3 : 0;
		break;
	case 3:
	case 4:
		s.type = 0x86dd;
		s.proto = kind == 3 ? 17 : 58;
		s.icmp_type = v & 256 ? 128 : 129;
		break;
	case 5:
		s.proto = v & 256 ? 17 : 6;
		s.frag = v & 32 ? 0x0010 : 0x2000;	/* a later fragment (no L4 header), or the first */
		break;
	default:
		s.type = 0x0806;
		s.arp_op = v & 256 ? 2 : 1;
		memcpy(s.sha, s.src, 6);
		s.spa = v & 32 ? 0x0a000003 : 0x0a000001;
		s.tpa = s.dst4;
		break;
	}
	len = frame_build(f->bufs[i], &s);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, in);
}

/*
 * The pools of the second differential test: matches and writes on the
 * fields the first one leaves alone (DSCP and ECN apart, IPv6 addresses
 * and hop limit, ARP, ICMP type and code, every bit of the TCI, a MAC's
 * bits moved within the field, metadata) and resubmits that give the
 * lookup another port.
 */
static const char *const fld_matches[] = {
	"", "ip,", "ipv6,", "arp,", "icmp,", "ip,ip_dscp=8,", "ip,nw_ecn=2,", "ip,nw_tos=32,", "ipv6,nw_ttl=63,",
	"ip,nw_ttl=63,", "ip,nw_ttl=64,", "arp,arp_op=2,", "arp,arp_tpa=10.0.0.3,", "arp,arp_spa=10.0.0.0/31,",
	"arp,arp_tha=02:00:00:00:00:01,", "icmp,icmp_type=0,", "icmp,icmp_code=3,", "icmp,icmp_type=3,",
	"ipv6,ipv6_dst=2020::/16,", "ipv6,ipv6_dst=::3/::ff,", "dl_vlan=5,", "vlan_tci=0xa000/0xe000,",
	"vlan_tci=0/0x1000,", "dl_src=02:00:00:00:02:00/ff:00:00:00:ff:00,", "dl_dst=02:00:00:00:00:01,",
	"reg2=0x3/0x3,", "reg3=8,", "in_port=2,", "in_port=4,", "metadata=0x5,", "metadata=0x3/0x3,",
	"icmp6,icmpv6_type=129,", "udp6,udp_dst=80,", "ip,ip_frag=later,", "ip,ip_frag=first,", "tcp,tcp_dst=443,",
	"tcp,tcp_flags=+syn-ack,", "tcp,tcp_flags=fin|ack,", "tcp,tcp_flags=0x010/0x010,", "icmp6,icmp_type=128,",
};
static const char *const fld_writes[] = {
	"mod_nw_ecn:2", "mod_nw_tos:32", "load:1->NXM_OF_IP_TOS[5..7]", "move:NXM_OF_IP_TOS[0..1]->NXM_OF_IP_TOS[6..7]",
	"move:NXM_OF_IP_TOS[]->reg3[0..7]", "dec_ttl", "mod_nw_ttl:63", "load:2->arp_op", "move:arp_spa[]->arp_tpa[]",
	"set_field:02:00:00:00:00:01->arp_tha", "move:arp_sha[]->arp_tha[]", "move:arp_op[]->reg3[0..7]",
	"set_field:0->icmp_type", "move:icmp_code[]->icmp_type[]", "move:icmp_type[]->reg3[0..7]",
	"set_field:3->icmp_code", "move:tcp_flags[0..7]->reg3[0..7]", "set_field:2020::3->ipv6_dst", "move:ipv6_dst[0..7]->reg3[0..7]",
	"move:ipv6_src[120..127]->ipv6_dst[0..7]", "set_field:129->icmpv6_type", "mod_vlan_pcp:5", "mod_vlan_vid:5",
	"strip_vlan", "push_vlan:0x8100", "load:0x1005->vlan_tci", "set_field:0xa000/0xe000->vlan_tci",
	"move:vlan_tci[13..15]->reg2[0..2]", "move:eth_src[0..15]->eth_src[8..23]", "move:eth_src[40..47]->reg2[0..7]",
	"move:reg2[0..7]->eth_dst[0..7]", "move:eth_src[]->eth_dst[]", "mod_dl_dst:02:00:00:00:00:01",
	"write_metadata:0x5", "move:eth_src[0..7]->metadata[0..7]", "move:metadata[0..15]->tp_dst[]",
	"set_field:10.0.0.2/255.255.255.254->nw_dst", "load:8->reg3[]", "set_field:0x2/0x3->nw_tos",
	"load:3->NXM_OF_IP_TOS[0..1]", "move:NXM_NX_IP_TTL[0..1]->NXM_OF_IP_TOS[0..1]", "move:NXM_NX_IP_TTL[]->reg3[0..7]",
	"mod_tp_dst:443", "move:NXM_NX_IP_FRAG[]->reg2[0..1]",
};
static const char *const fld_first[] = { "ip,", "arp,", "ipv6,", "icmp,", "icmp6," };
static const char *const fld_outs[] = {
	"resubmit(,1)", "resubmit(,2)", "resubmit(2,1)", "resubmit(4,2)", "output:2", "output:3", "output:4", "in_port",
	"normal", "flood", "drop",
};

/*
 * A rule of table @table from the field pools (a text the parser refuses:
 * none): table 0 writes and goes on to table 1; later tables match, and
 * now and then write again and go on, else output.
 */
static void fld_rule(struct fx *a, struct fx *b, unsigned table)
{
	char text[512];
	unsigned prio = rnd(4) * 10;
	const char *match = table ? POOL(fld_matches) : "";
	int len = snprintf(text, sizeof(text), "table=%u,priority=%u,%sactions=", table, prio, match);
	unsigned n = table ? rnd(3) : 1 + rnd(3);

	if (!table && rnd(4))
		len = snprintf(text, sizeof(text), "table=0,priority=%u,%sactions=", prio, POOL(fld_first));
	for (unsigned i = 0; i < n; i++)
		len += snprintf(text + len, sizeof(text) - (size_t)len, "%s,", POOL(fld_writes));
	if (table < 2 && (!table || rnd(3) == 0))
		snprintf(text + len, sizeof(text) - (size_t)len, rnd(3) ? "goto_table:%u" : "resubmit(,%u),output:4",
			 table + 1);
	else
		snprintf(text + len, sizeof(text) - (size_t)len, "%s", POOL(fld_outs));
	diff_add(a, b, text);
}

/*
 * Replay equals running on the other fields: test_replay_equals_run()'s
 * two switches with rule sets from the field pools (rewrites of DSCP and
 * ECN, IPv6, ARP, ICMP, the TCI, moves within a field, metadata, then
 * lookups on them) and frames of every kind those pools read.
 */
static void test_replay_equals_run_fields(void **state)
{
	struct fx *a = *state, *b;
	struct diff_tally tally = { 0 };

	rnd_state = 0x85ebca6bu;
	for (unsigned iter = 0; iter < 200; iter++) {
		pair_begin(state, iter, &a, &b);
		for (unsigned r = 0, nr = 1 + rnd(3); r < nr; r++)
			fld_rule(a, b, 0);
		for (unsigned r = 0, nr = 3 + rnd(6); r < nr; r++)
			fld_rule(a, b, 1 + rnd(2));
		pair_maybe_miss_next(a, b);
		fld_rule(a, b, 1);
		for (unsigned round = 0; round < 3; round++)
			for (unsigned fr = 0; fr < 96; fr++) {
				unsigned in = rnd(2) * 3, v = rnd(2) ? rnd(112) : rnd(7 * 1024);

				diff_frame(a, b, frame_var_fields, iter, v, in, &tally);
			}
		diff_counts(a, b, iter);
		pair_end(state, iter, a, b);
	}
	print_message("replay vs run, fields: %" PRIu64 " frames answered by a cache, %" PRIu64
		      " replayed with rewrites, %" PRIu64 " of them by a megaflow\n",
		      tally.replays, tally.write_replays, tally.mf_write_hits);
	assert_true(tally.replays > 5000 && tally.write_replays > 1000 && tally.mf_write_hits > 500);
}

/*
 * Frame @i of @f for the runs' test, from a number @v: frame_var()'s spec
 * @v % FRAME_VARS with (@v / FRAME_VARS) % 8 more payload bytes (another
 * length, of the same megaflow); and by (@v / FRAME_VARS / 8) % 4: 2,
 * from an IPv6 tunnel whose fields are all zero (cacheable, but its
 * outputs still change the frame's tunnel metadata), 3, from an IPv4
 * tunnel with key 0x42 (no cache holds it), else from none.
 */
static void frame_var_run(struct fx *f, unsigned i, unsigned v, unsigned in)
{
	struct frame_spec s = frame_var_spec(v % FRAME_VARS);
	unsigned tun = (v / FRAME_VARS / 8) % 4;
	struct pkt *p = &f->pkts[i];
	size_t len;

	s.payload += (v / FRAME_VARS) % 8;
	len = frame_build(f->bufs[i], &s);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(p, &f->iov[i], 1, (uint32_t)len, in);
	if (tun >= 2) {
		p->flags |= PKT_F_TUNNEL;
		memset(&p->tun, 0, sizeof(p->tun));
		p->tun.ipv6 = tun == 2;
		if (tun == 3) {
			p->tun.id = 0x42;
			p->tun.src.v4 = htonl(0xc0000209u);
			p->tun.dst.v4 = htonl(0xc0000201u);
		}
	}
}

/* What @a and @b sent are the same, frame by frame (port, length, bytes, tunnel metadata). */
static void diff_logs(const struct fx *a, const struct fx *b, unsigned iter, unsigned round)
{
	if (a->nlog != b->nlog)
		fail_msg("rule set %u, batch %u: %u frames sent cached, %u uncached", iter, round, a->nlog, b->nlog);
	for (unsigned k = 0; k < a->nlog; k++) {
		const struct tx_frame *x = &a->log[k], *y = &b->log[k];

		if (x->port != y->port || x->len != y->len || x->tun != y->tun || x->tun_id != y->tun_id ||
		    x->tun_dst != y->tun_dst || x->tun_ipv6 != y->tun_ipv6 || memcmp(x->tun_dst6, y->tun_dst6, 16) ||
		    memcmp(x->bytes, y->bytes, x->len < FRAME_MAX ? x->len : FRAME_MAX))
			fail_msg("rule set %u, batch %u: frame %u sent differs", iter, round, k);
	}
}

#define RUN_BATCH 32

/* The batch @a just forwarded (@n frames from port @in), now through @b with its caches forgotten: the same frames sent. */
static void forward_uncached_same(struct fx *a, struct fx *b, unsigned in, unsigned n, unsigned iter, unsigned round)
{
	cur = b;
	caches_wipe(b);
	forward(b, in, n);
	diff_logs(a, b, iter, round);
}

/*
 * Runs of one megaflow's frames within a batch equal looking every frame
 * up: two switches with the same random rule set (diff_rule(),
 * diff_pipe()) take the same batches of RUN_BATCH frames, runs of 1 to 8
 * frames of one spec, some of another length, or another source port
 * (which no rule reads), now and then from a tunnel; one with its caches
 * warm (a run's frames after the first take its memo and verdict, their
 * counts added once), the other with every cache entry forgotten before
 * each batch (every frame looked up and run).  Every frame sent is the
 * same, in the same order, and so are the drops by reason, the
 * executor's counts, the tables' misses and the rules' packets and bytes.
 */
static void test_runs_equal_uncached(void **state)
{
	struct fx *a = *state, *b;
	uint64_t repeats = 0;

	rnd_state = 0x2545f491u;
	for (unsigned iter = 0; iter < 150; iter++) {
		unsigned pool[8];

		pair_begin(state, iter, &a, &b);
		pair_rules(a, b, iter);
		for (unsigned k = 0; k < 8; k++)
			pool[k] = rnd(FRAME_VARS) + FRAME_VARS * (rnd(3) ? 0 : 8 * (2 + rnd(2)));
		for (unsigned round = 0; round < 6; round++) {
			unsigned in = rnd(2), n = 0;

			while (n < RUN_BATCH) {
				unsigned v = pool[rnd(8)];

				for (unsigned k = 0, len = 1 + rnd(8); k < len && n < RUN_BATCH; k++, n++) {
					unsigned w = v;

					if (!rnd(4))
						w += FRAME_VARS * (1 + rnd(7));		/* longer */
					else if (!rnd(4))
						w ^= rnd(4) << 8;			/* another source port */
					frame_var_run(a, n, w, in);
					frame_var_run(b, n, w, in);
				}
			}
			uint64_t whole = atomic_load(&a->ctx->flow->stats.whole_batches);

			cur = a;
			forward(a, in, n);
			/* run[] says what the per-frame way did; a batch answered whole writes none of it */
			for (unsigned i = 0; atomic_load(&a->ctx->flow->stats.whole_batches) == whole && i < n; i++)
				repeats += a->ctx->flow->run[i] != i;
			forward_uncached_same(a, b, in, n, iter, round);
		}
		diff_counts(a, b, iter);
		pair_end(state, iter, a, b);
	}
	print_message("runs vs uncached: %" PRIu64 " frames took the memo of the frame before\n", repeats);
	assert_true(repeats > 3000);
}

/* Actions that write nothing (a batch of one flow may be answered whole), and a few that do or copy (it may not). */
static const char *const whole_acts[] = {
	"output:2", "output:3", "output:4", "normal", "flood", "all", "in_port", "drop", "resubmit(,1)", "goto_table:2",
	"output:2,output:3", "output:3,normal", "clone(output:4)", "mod_dl_src:02:00:00:00:00:aa,output:2", "dec_ttl,output:3",
	"set_tunnel:0x42,output:2", "output:2", "output:4",
};

/*
 * The same 1 to 5 rules into @a and @b: a match of @matches (@n), in a
 * table below @tables, with actions of whole_acts; table 0's misses going
 * on to table 1 half the time; and table 1's default, of whole_acts too.
 */
static void whole_rules(struct fx *a, struct fx *b, const char *const *matches, unsigned n, unsigned tables)
{
	char text[256];

	for (unsigned r = 0, nr = 1 + rnd(5); r < nr; r++) {
		/* one draw a statement: gcc and clang draw the same rule sets */
		unsigned table = rnd(tables), prio = rnd(4) * 10;
		const char *match = matches[rnd(n)];
		const char *acts = POOL(whole_acts);

		snprintf(text, sizeof(text), "table=%u,priority=%u,%sactions=%s", table, prio, match, acts);
		diff_add(a, b, text);
	}
	pair_maybe_miss_next(a, b);
	snprintf(text, sizeof(text), "table=1,priority=5,actions=%s", POOL(whole_acts));
	diff_add(a, b, text);
}

/*
 * Batches of one flow, or of one megaflow, equal looking every frame up:
 * two switches with the same random rule set, mostly of actions that
 * write nothing (so a batch's megaflow memo may answer it whole,
 * one_megaflow() in dp/flows.c), take the same batches of 1 to RUN_BATCH
 * frames: one spec throughout, of several lengths (the key is the same),
 * or in half the batches with several source ports too (which no rule
 * reads: other keys, often the same megaflow), and now and then one
 * frame of another spec (one field apart, which some masks read and
 * others do not, or any), or of a tunnel, somewhere in it; in one rule
 * set of five the ingress ports are secured (mac=, so part of the frames
 * are src_mac drops, and no batch may be answered whole).  One switch has
 * its caches warm, the other forgets them before each batch: every frame
 * sent is the same, and so are the drops by reason, the executor's
 * counts, the tables' misses and the rules' packets and bytes.  A batch
 * answered whole counts what the per-frame way would: a megaflow hit
 * (and a cache hit) for each of its frames, no miss.
 */
static void test_one_megaflow_batches(void **state)
{
	struct fx *a = *state, *b;
	uint64_t whole = 0, whole_frames = 0, batches = 0, whole_keys = 0, whole_heads = 0;

	rnd_state = 0x27d4eb2fu;
	for (unsigned iter = 0; iter < 150; iter++) {
		pair_begin(state, iter, &a, &b);
		if (iter % 4 == 3) {
			pair_rules(a, b, iter);
		} else {
			whole_rules(a, b, diff_matches, sizeof(diff_matches) / sizeof(diff_matches[0]), 3);
		}
		/* Flows met again (their megaflows answer): one untagged without IPv4 options (the key's short way), one of any spec. */
		unsigned pool[2] = { rnd(FRAME_VARS) & ~0x402u, rnd(FRAME_VARS) };

		if (iter % 5 == 4) {
			/* Both ingress ports secured, port N locked to source MAC ..:0N: the others are src_mac drops. */
			char err[128];

			for (unsigned k = 0; k < 2; k++)
				for (unsigned port = 1; port <= 2; port++) {
					struct switch_port_cfg c = { .n_macs = 1, .macs = { { 0x02, 0, 0, 0, 0, (uint8_t)port } } };

					assert_int_equal(switch_port_attach((k ? b : a)->sw, port, &c, err, sizeof(err)), 0);
				}
		}

		for (unsigned round = 0; round < 12; round++) {
			unsigned in = rnd(2), n = 1 + (rnd(4) ? RUN_BATCH - 1 : rnd(RUN_BATCH));
			unsigned v = pool[rnd(2)], odd = rnd(3) ? RUN_BATCH : rnd(n), ports = rnd(2), keys = 0;
			struct dp_flow_stats *st = &a->ctx->flow->stats;
			uint64_t w0 = atomic_load(&st->whole_batches), h0 = atomic_load(&st->emc_hits);
			uint64_t m0 = atomic_load(&st->mf_hits), x0 = atomic_load(&st->emc_misses);

			for (unsigned i = 0; i < n; i++) {
				unsigned w = v + FRAME_VARS * rnd(8);	/* another length, the same key */

				if (ports)
					w ^= rnd(2) << 8;	/* another source port (frame_var_spec()'s bit 8 alone): another key */
				keys |= 1u << ((w >> 8) & 1);

				if (i == odd)	/* another flow: one field apart (some masks read it), any; or from a tunnel */
					w = rnd(3) == 0 ? v ^ 1u << rnd(8) : rnd(2) ? rnd(FRAME_VARS) : v + FRAME_VARS * 8 * (2 + rnd(2));
				frame_var_run(a, i, w, in);
				frame_var_run(b, i, w, in);
			}
			cur = a;
			/*
			 * Frame 1's key words marked: a batch answered whole with
			 * frames of two keys and the mark still there was found
			 * by its heads (heads_in_megaflow()), no key made.  Only
			 * the frame's words: the rest are the slot's (key_tail).
			 */
			memset(a->ctx->flow->keys[1].w, 0x5a, FLOW_KEY_FRAME_WORDS * 8);
			forward(a, in, n);
			batches++;
			if (atomic_load(&st->whole_batches) != w0) {
				assert_int_equal(atomic_load(&st->whole_batches), w0 + 1);
				assert_int_equal(atomic_load(&st->emc_hits), h0 + n);
				assert_int_equal(atomic_load(&st->mf_hits), m0 + n);
				assert_int_equal(atomic_load(&st->emc_misses), x0);
				whole++;
				whole_frames += n;
				whole_keys += keys == 3;	/* frames of two keys: found with their keys made, or by their heads */
				if (keys == 3) {
					const uint8_t *k1 = (const uint8_t *)a->ctx->flow->keys[1].w;
					bool marked = true;

					for (unsigned j = 0; j < FLOW_KEY_FRAME_WORDS * 8; j++)
						marked &= k1[j] == 0x5a;
					whole_heads += marked;
				}
			}
			forward_uncached_same(a, b, in, n, iter, round);
		}
		diff_counts(a, b, iter);
		pair_end(state, iter, a, b);
	}
	print_message("one-megaflow batches: %" PRIu64 " of %" PRIu64 " batches (%" PRIu64 " frames) answered whole, %" PRIu64
		      " of them of several keys, %" PRIu64 " of those by their heads\n", whole, batches, whole_frames,
		      whole_keys, whole_heads);
	assert_true(whole > 200 && whole < batches / 2 && whole_frames > 4000 && whole_keys > 50);
	assert_true(whole_heads > 20 && whole_heads < whole_keys);
}

/*
 * Two megaflows of @f's version and of one mask trade places, as
 * mf_insert() would reuse a place for another megaflow (the seq moves on
 * by 2): whatever still points at a place (the head cache) must see it
 * is another megaflow now.  False when there are not two such.
 */
static bool megaflows_trade(struct fx *f)
{
	struct dp_flow *df = f->ctx->flow;
	struct dp_flow_mf *x = NULL;

	for (unsigned i = 0; i < DP_FLOW_MF_ENTRIES; i++) {
		struct dp_flow_mf *y = &df->mf[i];

		if (y->gen != df->mf_gen || y->tables != df->mf_tables)
			continue;
		if (!x) {
			x = y;
			continue;
		}
		if (y->mask != x->mask || !memcmp(&x->memo, &y->memo, sizeof(x->memo)))
			continue;
		{
			uint64_t key[DP_FLOW_EMC_WORDS];
			const struct flow_rule *rule = x->rule;
			struct flow_memo memo = x->memo;

			memcpy(key, x->key, sizeof(key));
			memcpy(x->key, y->key, sizeof(key));
			memcpy(y->key, key, sizeof(key));
			x->rule = y->rule;
			y->rule = rule;
			x->memo = y->memo;
			y->memo = memo;
			atomic_store(&x->seq, atomic_load(&x->seq) + 2);
			atomic_store(&y->seq, atomic_load(&y->seq) + 2);
		}
		return true;
	}
	return false;
}

/* Matches that split the short way's frames by address and port: one mask, several megaflows. */
static const char *const many_matches[] = {
	"ip,nw_dst=10.0.0.2,", "ip,nw_dst=10.0.0.3,", "udp,tp_dst=80,", "tcp,tp_dst=443,", "ip,nw_src=10.0.0.3,",
	"ip,nw_dst=10.0.0.2,nw_src=10.0.0.9,", "udp,", "",
};

/*
 * Batches of many megaflows of one mask equal looking every frame up:
 * two switches with the same random rule set (matches on the
 * destination and source addresses and ports, so a rule set's megaflows
 * share a mask and frames to other addresses fall in other ones; actions
 * that write nothing mostly, so their memos may answer a batch whole,
 * and a few that write) take the same full batches of frames of the
 * short way's shape drawn from eight specs (two destinations, two
 * sources, two ports, UDP or TCP in one rule set of two) at several
 * lengths, now and then one frame from a tunnel or of another spec.  One
 * switch has its caches warm: after the first batches, each frame of a
 * batch of several megaflows is found by its head in the head cache
 * (heads_in_megaflows() in dp/flows.c); the other forgets every cache
 * before each batch.  Every frame sent is the same, and so are the drops
 * by reason, the executor's counts, the tables' misses and the rules'
 * packets and bytes; a batch answered by its heads counts a megaflow hit
 * for each frame and no miss.  In one rule set of three, before every
 * fourth batch, two megaflows of the warm switch with different memos
 * trade places (megaflows_trade()): the head cache must not answer with
 * what its place holds now; in one of ten, its count of batches wraps.
 */
static void test_many_megaflow_batches(void **state)
{
	struct fx *a = *state, *b;
	uint64_t heads = 0, batches = 0, traded = 0;

	rnd_state = 0x6b43a9b5u;
	for (unsigned iter = 0; iter < 120; iter++) {
		/* Untagged, no IPv4 options; destination (16), source (64), port (128); UDP (1) in half the rule sets. */
		unsigned base = (iter & 1) | (rnd(4) << 8), spec[8];

		pair_begin(state, iter, &a, &b);
		/* The batch count of the head cache's groups wraps within a rule set of ten (it does after 2^32 batches). */
		if (iter % 10 == 0)
			a->ctx->flow->hc_mark = UINT32_MAX - rnd(8);
		whole_rules(a, b, many_matches, sizeof(many_matches) / sizeof(many_matches[0]), 2);
		for (unsigned k = 0; k < 8; k++)
			spec[k] = base | (k & 1 ? 16 : 0) | (k & 2 ? 64 : 0) | (k & 4 ? 128 : 0);
		for (unsigned round = 0; round < 16; round++) {
			unsigned in = rnd(2), n = RUN_BATCH, odd = rnd(4) ? RUN_BATCH : rnd(n);
			struct dp_flow_stats *st = &a->ctx->flow->stats;
			uint64_t h0 = atomic_load(&st->head_batches), e0 = atomic_load(&st->emc_hits);
			uint64_t m0 = atomic_load(&st->mf_hits), x0 = atomic_load(&st->emc_misses);

			for (unsigned i = 0; i < n; i++) {
				/* one of the specs, at one of 8 lengths (one draw a statement: gcc and clang alike) */
				unsigned w = spec[rnd(8)];

				w += FRAME_VARS * rnd(8);

				if (i == odd)	/* from a tunnel, or any spec */
					w = rnd(2) ? w % FRAME_VARS + FRAME_VARS * 8 * (2 + rnd(2)) : rnd(FRAME_VARS);
				frame_var_run(a, i, w, in);
				frame_var_run(b, i, w, in);
			}
			cur = a;
			traded += iter % 3 == 0 && round % 4 == 3 && megaflows_trade(a);
			forward(a, in, n);
			batches++;
			if (atomic_load(&st->head_batches) != h0) {
				assert_int_equal(atomic_load(&st->head_batches), h0 + 1);
				assert_int_equal(atomic_load(&st->emc_hits), e0 + n);
				assert_int_equal(atomic_load(&st->mf_hits), m0 + n);
				assert_int_equal(atomic_load(&st->emc_misses), x0);
				heads++;
			}
			forward_uncached_same(a, b, in, n, iter, round);
		}
		diff_counts(a, b, iter);
		pair_end(state, iter, a, b);
	}
	print_message("many-megaflow batches: %" PRIu64 " of %" PRIu64 " answered by their heads; megaflows traded "
		      "places %" PRIu64 " times\n", heads, batches, traded);
	assert_true(heads > 80 && heads < batches && traded > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replay_equals_run, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_replay_equals_run_fields, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_runs_equal_uncached, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_megaflow_batches, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_many_megaflow_batches, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
