/* fuzz_flow_exec.c - libFuzzer target: flow key extraction and action execution on hostile frames. */

/*
 * A frame from a guest or the wire goes through flow_key_extract() and a
 * rule's actions (flow_exec_run): every read and write must stay inside
 * the copy of its first bytes and the headroom, and the result must still
 * be a frame the key describes.  Checks after each run:
 *
 *   - every output's bytes are a live buffer inside the caller's buffer or
 *     a snapshot no longer than FLOW_HDR_MAX, and its length plus the
 *     untouched rest of the frame is the frame length it reports;
 *   - the key equals what flow_key_extract() makes of the final frame
 *     (packet fields; metadata and registers are the key's own);
 *   - when the copy is the whole frame and its checksums were right before
 *     (verified the same way: IPv4 header, TCP/UDP/ICMP/ICMPv6 with their
 *     pseudo-headers), they are right in every output;
 *   - when the run has a memo, replaying it on the same frame again
 *     (flow_exec_replay_acts() for a run that rewrote, flow_exec_replay()
 *     otherwise) gives the same outputs, bytes, key and counts;
 *   - when its wc stands for the whole run (flow_exec_wc_exact(): a
 *     megaflow would take the memo), a frame with a few bits flipped
 *     whose key is still the same on wc's bits and whose shape still
 *     fits the memo gets from the replay what a run of its own gives:
 *     outputs, bytes, key and counts (mf_check()).
 *
 * Input format:
 *
 *   byte 0: the program (% PROGRAMS; in_port is the program + 1: numbers start at 1): which rules run, see rules[]
 *   byte 1: bit 0: the L4 checksum is partial (FLOW_PKT_CSUM_PARTIAL; the
 *           checksum check is skipped); bits 1-2: headroom 0, 2, 4, 16;
 *           bit 3: fix the frame's checksums first; bits 4-7: copy only
 *           the first 14 + 16 * v bytes (0: all)
 *   then the frame (at most FRAME_MAX bytes).
 *
 * fuzz/make_corpus_flow_exec.py writes the seed corpus.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/lib/csum_ref.h"
#include "flow/learn.h"
#include "flow/parse.h"

#define FRAME_MAX 1600
#define PROGRAMS 25

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rules by in_port (the program + 1), and the tables they resubmit to. */
static const char *const rules[] = {
	"in_port=1,actions=output:2",
	"in_port=2,actions=mod_dl_src:02:00:00:00:00:aa,mod_dl_dst:02:00:00:00:00:bb,output:3,in_port",
	"in_port=3,ip,actions=mod_nw_src:192.0.2.1,mod_nw_dst:198.51.100.2,mod_nw_tos:32,mod_nw_ecn:1,output:4,"
	"mod_nw_ttl:7,dec_ttl,output:2",
	"in_port=3,ipv6,actions=set_field:2001:db8::1->ipv6_src,set_field:2001:db8::2->ipv6_dst,mod_nw_tos:8,"
	"dec_ttl,output:2",
	"in_port=3,arp,actions=set_field:10.0.0.9->arp_spa,move:arp_sha[]->arp_tha[],load:2->arp_op,"
	"set_field:02:00:00:00:00:09->arp_sha,set_field:10.0.0.1->arp_tpa,in_port",
	"in_port=4,tcp,actions=mod_tp_src:1,mod_tp_dst:2,output:2",
	"in_port=4,udp,actions=mod_tp_src:3,set_field:4->udp_dst,output:2",
	"in_port=4,tcp6,actions=set_field:5->tcp_src,mod_tp_dst:6,output:2",
	"in_port=4,udp6,actions=mod_tp_src:7,output:2",
	"in_port=4,icmp,actions=set_field:0->icmp_type,set_field:1->icmp_code,mod_nw_dst:10.1.1.1,output:2",
	"in_port=4,icmp6,actions=set_field:129->icmpv6_type,set_field:2001:db8::3->ipv6_dst,output:2",
	"in_port=5,actions=push_vlan:0x8100,mod_vlan_vid:5,output:2,strip_vlan,output:3,mod_vlan_pcp:3,output:4,"
	"push_vlan:0x88a8,output:5,load:0->vlan_tci,output:6",
	"in_port=6,actions=clone(mod_dl_dst:02:00:00:00:00:01,push_vlan:0x8100,output:2),mod_vlan_vid:9,output:3,"
	"clone(strip_vlan,output:4),output:5",
	"in_port=7,actions=load:6->reg0[],resubmit(,1),resubmit(,2)",
	"table=1,reg0=6,ip,actions=dec_ttl,mod_nw_dst:10.6.6.6,output:8",
	"table=1,reg0=6,ipv6,actions=dec_ttl,output:8",
	"table=2,reg0=6,actions=move:reg0[0..15]->reg1[0..15],output:reg1[0..15]",
	"in_port=8,actions=set_field:0x1005->vlan_vid,output:2,set_field:3->vlan_pcp,output:3,"
	"set_field:5->vlan_vid,output:4,set_field:9->dl_vlan,output:5",
	"in_port=9,actions=move:eth_src[]->eth_dst[],load:0xffff->reg2[0..15],move:reg2[0..15]->vlan_tci,output:2",
	"in_port=9,tcp,actions=move:tp_src[]->tp_dst[],move:eth_src[]->eth_dst[],output:2",
	"in_port=10,actions=normal,flood,all,output:10",
	"in_port=11,actions=resubmit(,0)",
	"in_port=12,actions=output:2,resubmit(,0)",
	"in_port=13,ip,actions=move:nw_src[]->nw_dst[],move:nw_dst[0..7]->nw_src[24..31],set_field:0x10->nw_tos,"
	"output:2",
	"in_port=13,ipv6,actions=move:ipv6_src[0..63]->ipv6_dst[64..127],move:nw_ttl[]->reg3[0..7],output:2",
	"in_port=14,actions=goto_table:3",
	"table=4,actions=push_vlan:0x8100,push_vlan:0x8100,output:2,pop_vlan,output:3,pop_vlan,pop_vlan,output:4",
	"in_port=15,actions=mod_vlan_vid:1,mod_vlan_pcp:1,clone(clone(mod_dl_src:02:00:00:00:00:0e,output:2),"
	"strip_vlan,output:3),output:4,dec_ttl,output:5",
	"in_port=16,actions=set_field:0x77->tun_id,set_field:192.0.2.7->tun_dst,output:3,move:reg0[]->tun_dst[],"
	"write_metadata:0x5/0xff,mod_dl_dst:ff:ff:ff:ff:ff:ff,flood",
	"priority=40000,in_port=16,ipv6,actions=set_field:fd00::2->tun_ipv6_dst,output:3,output:4,"
	"move:reg0[]->tun_ipv6_dst[0..31],output:5",
	/* Lookups after rewrites (mf_check()): on a counted-down TTL, a moved byte, a field set to a value. */
	"priority=40000,in_port=10,ip,actions=dec_ttl,resubmit(,5),mod_dl_dst:02:00:00:00:00:05,output:5",
	"table=5,priority=20,ip,nw_ttl=1,actions=output:3",
	"table=5,priority=10,ip,nw_ttl=129,actions=output:4",
	"priority=40000,in_port=1,ip,actions=move:nw_src[0..7]->reg0[0..7],mod_nw_src:10.0.0.1,"
	"move:nw_ttl[]->reg1[8..15],resubmit(,6)",
	"table=6,priority=30,reg0=3,actions=output:3",
	"table=6,priority=20,reg1=0x4000/0xc000,actions=mod_nw_ttl:9,output:6",
	"table=6,priority=10,ip,nw_src=10.0.0.1,actions=output:4",
	/* More lookups after rewrites: ECN and DSCP bits, a move inside one field, a moved copy moved again. */
	"in_port=17,ip,actions=mod_nw_ecn:2,move:nw_tos[0..1]->nw_tos[6..7],resubmit(,7),output:2",
	"in_port=17,ipv6,actions=load:1->nw_tos[5..7],dec_ttl,resubmit(,7)",
	"table=7,priority=30,ip,ip_dscp=32,nw_ecn=2,actions=output:3",
	"table=7,priority=20,ip,ip_dscp=8,actions=output:4",
	"table=7,priority=20,ipv6,nw_ttl=63,ip_dscp=8,actions=output:5",
	"table=7,priority=10,ipv6,nw_ttl=1,actions=output:6",
	"in_port=18,actions=move:eth_src[0..15]->eth_src[8..23],move:eth_src[8..15]->reg2[0..7],"
	"move:reg2[0..3]->reg2[4..7],resubmit(,8)",
	"table=8,priority=30,reg2=0x55/0xff,actions=output:3",
	"table=8,priority=20,dl_src=00:00:00:00:05:00/00:00:00:00:0f:00,actions=mod_dl_dst:02:00:00:00:00:08,output:4",
	"table=8,priority=10,dl_src=00:00:00:01:00:00/00:00:00:01:00:00,actions=output:5",
	/* ARP and ICMP fields rewritten, then looked up. */
	"in_port=19,arp,actions=move:arp_spa[0..7]->arp_tpa[24..31],load:2->arp_op,resubmit(,9)",
	"in_port=19,icmp,actions=move:icmp_code[]->icmp_type[],set_field:10.0.0.0/255.0.0.0->nw_dst,resubmit(,9)",
	"table=9,priority=30,arp,arp_tpa=5.0.0.0/8,actions=output:3",
	"table=9,priority=20,arp,arp_op=2,arp_sha=00:00:00:00:00:01/00:00:00:00:00:01,actions=output:4",
	"table=9,priority=30,icmp,icmp_type=8,actions=output:3",
	"table=9,priority=20,icmp,nw_dst=10.0.0.1,actions=output:4",
	/* learn: the rule each run makes from its key (learn_check()), after rewrites and inside clone(). */
	"in_port=25,actions=learn(table=20,idle_timeout=5,vlan_tci[0..11],eth_dst=eth_src,load:in_port->reg0[0..15],"
	"output:in_port[]),mod_vlan_vid:7,clone(learn(table=21,dl_vlan,eth_src=eth_dst,load:0x5->reg1[])),output:2",
	"priority=40000,in_port=25,ip,actions=mod_nw_src:10.0.0.1,learn(table=22,eth_type=0x800,nw_dst=nw_src,"
	"nw_src=10.0.0.1,load:nw_dst[]->reg1[],load:nw_ttl[]->reg2[0..7],output:reg3[0..15]),output:3",
	"priority=40000,in_port=25,ipv6,actions=learn(table=23,eth_type=0x86dd,ipv6_dst=ipv6_src,"
	"load:ipv6_src[0..63]->metadata[],NXM_NX_REG0[0..7]=0x5),output:4",
	/* Fields whose bits are not all the field's (tcp_flags' 12 of 16, nw_tos' 6 of 8), and a part of one. */
	"priority=40001,in_port=25,tcp,actions=learn(table=21,dl_type=0x800,nw_proto=6,NXM_NX_TCP_FLAGS[],nw_tos,"
	"nw_ecn,tcp_src[0..7],ip_frag),output:5",
	/* The stack into a header (its checksum follows), check_pkt_larger, exit. */
	"priority=40000,in_port=25,udp,actions=push:udp_src[],push:reg0[],check_pkt_larger(100)->reg0[3],pop:reg1[],"
	"pop:udp_dst[],output:2,pop:reg2[],exit,output:3",
	"table=9,priority=10,ip,nw_dst=10.0.0.0/8,actions=output:5",
	/* Tags set on a frame with or without one, then looked up on every bit of the TCI. */
	"in_port=20,actions=mod_vlan_pcp:5,resubmit(,10),set_field:0x1003/0x1fff->vlan_tci,resubmit(,10)",
	"table=10,priority=30,vlan_tci=0xb000/0xf0ff,actions=output:3",
	"table=10,priority=20,vlan_tci=0x1003/0x1fff,actions=output:4",
	"table=10,priority=10,vlan_tci=0x0001/0x0001,actions=output:5",
	/* A resubmit's port after a rewrite, in_port read by a lookup and by output. */
	"in_port=21,actions=mod_dl_dst:02:00:00:00:00:14,resubmit(4,11),resubmit(,11),move:eth_src[0..1]->reg3[0..1],"
	"resubmit(,11)",
	"table=11,priority=30,in_port=4,dl_dst=02:00:00:00:00:14,actions=output:21",
	"table=11,priority=20,in_port=21,reg3=0,actions=output:4",
	"table=11,priority=10,reg3=1,actions=in_port,output:3",
	/* dec_ttl stopping a resubmitted list only, the outer one going on; a miss that continues. */
	"in_port=22,ip,actions=resubmit(,12),output:4,goto_table:13",
	"table=12,priority=10,ip,actions=dec_ttl,resubmit(,14),output:3",
	"table=14,priority=20,ip,nw_ttl=0,actions=output:5",
	"table=14,priority=10,ip,nw_ttl=128,actions=output:6",
	"table=14,priority=10,tcp,tcp_src=0x100/0x100,actions=mod_tp_dst:443",
	"table=15,priority=10,ip,nw_ttl=127,actions=output:7",
	"table=15,priority=5,tcp,tp_dst=443,actions=output:8",
	/* IPv6 addresses moved about, then looked up. */
	"in_port=23,ipv6,actions=move:ipv6_src[120..127]->ipv6_dst[0..7],move:ipv6_dst[64..95]->reg4[],resubmit(,16)",
	"table=16,priority=20,ipv6,ipv6_dst=::5/::ff,actions=output:3",
	"table=16,priority=10,reg4=0x2000000/0xff000000,actions=output:4",
	/* Two tables' worth of rewrites chained by goto_table; a flood and normal after them. */
	"in_port=24,actions=mod_dl_src:02:00:00:00:00:17,move:eth_dst[40..47]->reg5[0..7],goto_table:17",
	"table=17,priority=20,ip,reg5=1/1,actions=move:reg5[0..7]->nw_ttl[],goto_table:18",
	"table=17,priority=10,actions=normal,flood",
	"table=18,priority=20,ip,nw_ttl=3,actions=output:3",
	"table=18,priority=10,ip,nw_ttl=9,actions=dec_ttl,output:4",
};

static struct flow_db *db;
static struct flow_exec x;
/* The buffer before a run, and what the run counted (x's counters are cumulative): for replay_check(). */
static uint8_t saved[FLOW_HDR_MAX + 64];
static uint64_t x_delta[FLOW_CNT__COUNT], misses_delta[FLOW_N_TABLES];

/* A broken invariant: say which, then abort (libFuzzer keeps the input). */
#define check(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);      \
			abort();                                                         \
		}                                                                        \
	} while (0)

static void learn_check(void *arg, const struct flow_act *a, const struct flow_key *k);

static void setup(void)
{
	char err[FLOW_ERR_MAX];

	db = flow_db_create();
	check(db != NULL);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct flow_mod mod;

		if (flow_parse(rules[i], FLOW_CMD_ADD, NULL, &mod, err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", rules[i], err);
			abort();
		}
		check(flow_db_add(db, &mod) == 0);
	}
	check(flow_db_set_miss(db, 3, FLOW_MISS_NEXT) == 0);	/* goto_table:3 misses into table 4 */
	check(flow_db_set_miss(db, 13, FLOW_MISS_NEXT) == 0);	/* goto_table:13 misses on into 14, 15 */
	check(flow_db_set_miss(db, 14, FLOW_MISS_NEXT) == 0);
	check(flow_db_commit(db) > 0);
	flow_exec_init(&x);
	x.learn = learn_check;
}

/*
 * A learn the run reached: the rule it makes has a normalized match, is
 * one of the tables the rules name, and reads back from its dump as
 * itself (a learned rule is one flow syntax can say: `flow dump` and the
 * flows file hold it).
 */
static void learn_check(void *arg, const struct flow_act *a, const struct flow_key *k)
{
	struct flow_mod mod, back;
	char text[4096], err[FLOW_ERR_MAX];

	(void)arg;
	check(a->type == FA_LEARN);
	check(flow_learn_build(a, k, &mod) == 0);
	check(mod.table >= 20 && mod.table <= 23);
	for (unsigned i = 0; i < FLOW_KEY_WORDS; i++)
		check(!(mod.match.value.w[i] & ~mod.match.mask.w[i]));
	check(flow_format(&mod, true, NULL, text, sizeof(text)) < sizeof(text));
	if (flow_parse(text, FLOW_CMD_ADD, NULL, &back, err, sizeof(err))) {
		fprintf(stderr, "learned rule \"%s\" does not parse: %s\n", text, err);
		abort();
	}
	check(flow_match_equal(&mod.match, &back.match) && back.table == mod.table && back.priority == mod.priority &&
	      back.idle_timeout_s == mod.idle_timeout_s && flow_actions_equal(mod.actions, back.actions));
	free(back.actions);
	free(mod.actions);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The L4 checksum field of what @k and @o describe, and whether a pseudo-header counts; NULL when none. */
static uint8_t *l4_field(uint8_t *f, const struct flow_key *k, const struct flow_ofs *o, bool *pseudo)
{
	*pseudo = k->nw_proto != 1;
	if (o->l4 == FLOW_OFS_NONE)
		return NULL;
	switch (k->nw_proto) {
	case 6:
		return f + o->l4 + 16;
	case 17:
		return f + o->l4 + 6;
	case 1:
	case 58:
		return f + o->l4 + 2;
	}
	return NULL;
}

/* The pseudo-header sum (big-endian, folded) of the packet @k and @o describe. */
static uint16_t pseudo_sum(const uint8_t *f, const struct flow_key *k, const struct flow_ofs *o)
{
	uint8_t ph[40];

	if (k->dl_type == htons(0x86dd)) {
		memcpy(ph, f + o->l3 + 8, 32);
		ph[32] = (uint8_t)(o->l4_len >> 24);
		ph[33] = (uint8_t)(o->l4_len >> 16);
		ph[34] = (uint8_t)(o->l4_len >> 8);
		ph[35] = (uint8_t)o->l4_len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = k->nw_proto;
		return ref_sum(ph, 40);
	}
	memcpy(ph, f + o->l3 + 12, 8);
	ph[8] = 0;
	ph[9] = k->nw_proto;
	ph[10] = (uint8_t)(o->l4_len >> 8);
	ph[11] = (uint8_t)o->l4_len;
	return ref_sum(ph, 12);
}

/*
 * The checksums of the @len-byte frame @f as its own parse sees them
 * once every VLAN tag is taken out (a tag the key does not parse, the
 * second of two, must not hide a wrong checksum that a pop later
 * exposes): fix them (@fix) or say whether they are right.  Only headers
 * wholly in the frame count; a UDP/IPv4 checksum of zero means none.
 */
static bool csums_untagged(uint8_t *f, size_t len, bool fix);

static bool csums(uint8_t *f, size_t len, bool fix)
{
	static uint8_t s[FRAME_MAX + 64];
	size_t tags = 0;
	bool ok;

	while (tags < 8 && 12 + 4 * (tags + 1) + 2 <= len) {
		uint16_t type = rd16(f + 12 + 4 * tags);

		if (type != 0x8100 && type != 0x88a8)
			break;
		tags++;
	}
	if (!tags)
		return csums_untagged(f, len, fix);
	memcpy(s, f, 12);
	memcpy(s + 12, f + 12 + 4 * tags, len - 12 - 4 * tags);
	ok = csums_untagged(s, len - 4 * tags, fix);
	if (fix)
		memcpy(f + 12 + 4 * tags, s + 12, len - 12 - 4 * tags);
	return ok;
}

static bool csums_untagged(uint8_t *f, size_t len, bool fix)
{
	struct flow_key k;
	struct flow_ofs o;
	bool pseudo, ok = true;
	uint8_t *c;

	flow_key_extract(&k, f, len, len, 0, &o);
	if (k.dl_type == htons(0x0800) && o.l3 != FLOW_OFS_NONE) {
		size_t ihl = (f[o.l3] & 15u) * 4;

		if (fix) {
			f[o.l3 + 10] = f[o.l3 + 11] = 0;
			ref_put(f + o.l3 + 10, (uint16_t)~ref_sum(f + o.l3, ihl));
		}
		ok = ref_sum(f + o.l3, ihl) == 0xffff;
	}
	c = l4_field(f, &k, &o, &pseudo);
	if (!c || (size_t)o.l4 + o.l4_len > len)
		return ok;
	if (k.nw_proto == 17 && k.dl_type == htons(0x0800) && rd16(c) == 0)
		return ok;
	if (fix) {
		uint16_t s;

		c[0] = c[1] = 0;
		s = ref_sum(f + o.l4, o.l4_len);
		if (pseudo)
			s = ref_add(s, pseudo_sum(f, &k, &o));
		s = (uint16_t)~s;
		if (k.nw_proto == 17 && s == 0)
			s = 0xffff;
		ref_put(c, s);
	}
	{
		uint16_t s = ref_sum(f + o.l4, o.l4_len);

		if (pseudo)
			s = ref_add(s, pseudo_sum(f, &k, &o));
		return ok && s == 0xffff;
	}
}

/*
 * The run just made (x, on @pkt and @key from @pkt0 and @key0, whose
 * buffer @buf held the frame's bytes before) against its memo's replay on
 * the same frame again: flow_exec_replay_acts() for a run that wrote,
 * flow_exec_replay() for one that did not.  The outputs (kind, port,
 * in_port, tun_id, the bytes each one saw), the final frame and key, the
 * executor's counts and each table's misses must be the run's.
 */
static void replay_check(const uint8_t *buf, unsigned cap, const struct flow_pkt *pkt0, const struct flow_key *key0,
			 const struct flow_pkt *pkt, const struct flow_key *key)
{
	static struct flow_exec y;
	struct flow_memo m;
	struct flow_memo_acts ma;
	struct flow_pkt p2 = *pkt0;
	struct flow_key k2 = *key0;
	uint8_t *b2;
	unsigned n;

	if (!flow_exec_memo(&x, &m, &ma))
		return;
	b2 = malloc(cap ? cap : 1);
	check(b2 != NULL);
	memcpy(b2, saved, cap);
	p2.buf = b2;
	flow_exec_init(&y);
	flow_exec_begin(&y, flow_db_tables(db), 1);
	if (m.flags & FLOW_MEMO_F_WRITES) {
		check(flow_memo_acts_fit(&ma, &p2));
		n = flow_exec_replay_acts(&y, &m, &ma, &p2, &k2);
	} else {
		n = flow_exec_replay(&y, &m, p2.frame_len);
		check(memcmp(b2, buf, cap) == 0);	/* nothing written: the run wrote nothing either */
	}
	y.n_stats = 0;	/* the rules' counts are the run's: not added twice */
	check(n == x.n_out);
	for (unsigned i = 0; i < n; i++) {
		const struct flow_out *a = &x.out[i], *b = &y.out[i];

		check(a->kind == b->kind && a->port == b->port && a->in_port == b->in_port && a->tun_id == b->tun_id &&
		      a->tun_dst == b->tun_dst && a->tun6 == b->tun6);
		if (a->tun6)
			check(a->tun6 <= x.n_tun6 && !memcmp(x.tun6_dst[a->tun6 - 1], y.tun6_dst[b->tun6 - 1], 16));
		if (m.flags & FLOW_MEMO_F_WRITES) {
			check(a->snap == b->snap);
			if (a->snap != FLOW_SNAP_LIVE)
				check(x.snap[a->snap].len == y.snap[b->snap].len &&
				      !memcmp(x.snap[a->snap].bytes, y.snap[b->snap].bytes, x.snap[a->snap].len));
		}
	}
	if (m.flags & FLOW_MEMO_F_WRITES) {
		check(p2.head == pkt->head && p2.len == pkt->len && p2.frame_len == pkt->frame_len);
		check(memcmp(b2 + p2.head, buf + pkt->head, pkt->len) == 0);
		check(memcmp(&k2, key, sizeof(k2)) == 0);
	}
	for (unsigned c = 0; c < FLOW_CNT__COUNT; c++)
		check(y.cnt[c] == x_delta[c]);
	for (unsigned t = 0; t < FLOW_N_TABLES; t++)
		check(atomic_load(&y.tables_cnt[t].misses) == misses_delta[t]);
	free(b2);
}

/* @a and @b (executors after a run each on their own copy @ba, @bb of one frame, final @pa, @pb): the same outputs and bytes. */
static void same_outputs(const struct flow_exec *a, const uint8_t *ba, const struct flow_pkt *pa,
			 const struct flow_exec *b, const uint8_t *bb, const struct flow_pkt *pb)
{
	check(a->n_out == b->n_out);
	for (unsigned i = 0; i < a->n_out; i++) {
		const struct flow_out *oa = &a->out[i], *ob = &b->out[i];

		check(oa->kind == ob->kind && oa->port == ob->port && oa->in_port == ob->in_port &&
		      oa->tun_id == ob->tun_id && oa->tun_dst == ob->tun_dst && oa->snap == ob->snap);
		if (oa->snap != FLOW_SNAP_LIVE)
			check(a->snap[oa->snap].len == b->snap[ob->snap].len &&
			      !memcmp(a->snap[oa->snap].bytes, b->snap[ob->snap].bytes, a->snap[oa->snap].len));
	}
	check(pa->head == pb->head && pa->len == pb->len && pa->frame_len == pb->frame_len);
	check(!memcmp(ba + pa->head, bb + pb->head, pa->len));
}

/*
 * The megaflow check: the run of x (input @key0, the bytes in saved[],
 * @pkt0's shape) depended only on the bits of @wc.  A few copies of the
 * frame, each with one byte changed: one whose key agrees with @key0 on
 * @wc and whose shape fits the memo is replayed from the memo (executor
 * y) and run on its own (executor z); both must do the same.  @sel picks
 * the bytes and bits.
 */
static void mf_check(unsigned cap, const struct flow_pkt *pkt0, const struct flow_key *key0,
		     const struct flow_key *wc, unsigned sel)
{
	static struct flow_exec y, z;
	static uint8_t by[FLOW_HDR_MAX + 64], bz[FLOW_HDR_MAX + 64];
	const struct flow_tables *t = flow_db_tables(db);
	struct flow_memo m;
	struct flow_memo_acts ma;

	if (!flow_exec_memo(&x, &m, &ma) || !flow_exec_wc_exact(&x) || !pkt0->len || pkt0->ofs.truncated)
		return;
	for (unsigned j = 0; j < 8; j++) {
		unsigned at = pkt0->head + (sel + j * 37u) % pkt0->len;
		struct flow_pkt py = *pkt0, pz;
		struct flow_key ky, kz;
		bool same = true;
		unsigned ny, nz;

		memcpy(by, saved, cap);
		by[at] ^= (uint8_t)(1u << ((sel >> 3) + j) % 8);
		py.buf = by;
		flow_key_extract(&ky, by + py.head, py.len, py.frame_len, ntohs(key0->in_port), &py.ofs);
		for (unsigned w = 0; w < FLOW_KEY_WORDS; w++)
			same &= !((ky.w[w] ^ key0->w[w]) & wc->w[w]);
		if (!same || py.ofs.truncated || ((m.flags & FLOW_MEMO_F_WRITES) && !flow_memo_acts_fit(&ma, &py)))
			continue;	/* another megaflow's frame, or one the replay would run */
		memcpy(bz, by, cap);
		pz = py;
		pz.buf = bz;
		kz = ky;
		flow_exec_init(&y);
		flow_exec_init(&z);
		flow_exec_begin(&y, t, 1);
		flow_exec_begin(&z, t, 1);
		if (m.flags & FLOW_MEMO_F_WRITES)
			ny = flow_exec_replay_acts(&y, &m, &ma, &py, &ky);
		else
			ny = flow_exec_replay(&y, &m, py.frame_len);
		nz = flow_exec_run(&z, &pz, &kz, 0, flow_tables_lookup(t, 0, &kz));
		y.n_stats = z.n_stats = 0;	/* not counted on the rules */
		check(ny == nz);
		same_outputs(&y, by, &py, &z, bz, &pz);
		if (m.flags & FLOW_MEMO_F_WRITES)
			check(!memcmp(&ky, &kz, sizeof(ky)));
		for (unsigned c = 0; c < FLOW_CNT__COUNT; c++)
			check(y.cnt[c] == z.cnt[c]);
		for (unsigned tb = 0; tb < FLOW_N_TABLES; tb++)
			check(atomic_load(&y.tables_cnt[tb].misses) == atomic_load(&z.tables_cnt[tb].misses));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned headrooms[4] = { 0, 2, 4, 16 };
	static uint8_t whole[FRAME_MAX + 64];
	uint8_t *buf;
	const struct flow_tables *t;
	struct flow_pkt pkt, pkt0;
	struct flow_key key, key0, again, wc;
	size_t frame_len, hdr_len, rest;
	unsigned headroom, cap, n;
	bool partial, valid;
	uint8_t prog;

	if (!db)
		setup();
	if (size < 2)
		return 0;
	prog = data[0] % PROGRAMS;
	partial = data[1] & 1;
	headroom = headrooms[(data[1] >> 1) & 3];
	frame_len = size - 2 < FRAME_MAX ? size - 2 : FRAME_MAX;
	memcpy(whole, data + 2, frame_len);
	if (data[1] & 8)
		csums(whole, frame_len, true);
	valid = csums(whole, frame_len, false);
	hdr_len = data[1] >> 4 ? 14 + 16u * (data[1] >> 4) : frame_len;
	if (hdr_len > frame_len)
		hdr_len = frame_len;
	if (hdr_len > FLOW_HDR_MAX)
		hdr_len = FLOW_HDR_MAX;
	rest = frame_len - hdr_len;

	/* Exactly headroom + the copy on the heap, so ASan sees a step outside. */
	cap = headroom + (unsigned)hdr_len;
	buf = malloc(cap ? cap : 1);
	check(buf != NULL);
	memcpy(buf + headroom, whole, hdr_len);
	pkt = (struct flow_pkt){ .buf = buf, .cap = (uint16_t)cap, .head = (uint16_t)headroom,
				 .len = (uint16_t)hdr_len, .flags = partial ? FLOW_PKT_CSUM_PARTIAL : 0,
				 .frame_len = (uint32_t)frame_len };
	flow_key_extract(&key, buf + headroom, hdr_len, frame_len, prog + 1u, &pkt.ofs);

	t = flow_db_tables(db);
	key0 = key;
	pkt0 = pkt;
	memcpy(saved, buf, cap);
	for (unsigned c = 0; c < FLOW_CNT__COUNT; c++)
		x_delta[c] = x.cnt[c];
	for (unsigned i = 0; i < FLOW_N_TABLES; i++)
		misses_delta[i] = atomic_load(&x.tables_cnt[i].misses);
	flow_exec_begin(&x, t, 1);
	/* What the run read, as for a megaflow (dp/flows.c): table 0's lookup, the rest by the executor, in_port. */
	memset(&wc, 0, sizeof(wc));
	x.wc = &wc;
	n = flow_exec_run(&x, &pkt, &key, 0, flow_tables_lookup_wc(t, 0, &key, &wc));
	x.wc = NULL;
	wc.in_port = 0xffff;
	flow_exec_end(&x);
	for (unsigned c = 0; c < FLOW_CNT__COUNT; c++)
		x_delta[c] = x.cnt[c] - x_delta[c];
	for (unsigned i = 0; i < FLOW_N_TABLES; i++)
		misses_delta[i] = atomic_load(&x.tables_cnt[i].misses) - misses_delta[i];
	replay_check(buf, cap, &pkt0, &key0, &pkt, &key);
	mf_check(cap, &pkt0, &key0, &wc, frame_len ? whole[frame_len - 1] : 0);

	check(n == x.n_out && n <= FLOW_OUT_MAX && x.n_snap <= FLOW_SNAP_MAX);
	check(pkt.head + (unsigned)pkt.len <= cap && pkt.len <= FLOW_HDR_MAX);
	check(pkt.frame_len == pkt.len + rest);
	for (unsigned i = 0; i < n; i++) {
		const struct flow_out *o = &x.out[i];
		static uint8_t out[FRAME_MAX + 64];
		const uint8_t *hdr;
		size_t len;

		if (o->snap == FLOW_SNAP_LIVE) {
			hdr = buf + pkt.head;
			len = pkt.len;
		} else {
			check(o->snap < x.n_snap);
			hdr = x.snap[o->snap].bytes;
			len = x.snap[o->snap].len;
			check(len <= FLOW_HDR_MAX && x.snap[o->snap].frame_len == len + rest);
		}
		if (!rest && valid && !partial) {
			memcpy(out, hdr, len);
			check(csums(out, len, false));
		}
	}

	/* The key describes the final frame (its own fields: metadata and registers aside). */
	flow_key_extract(&again, buf + pkt.head, pkt.len, pkt.frame_len, ntohs(key.in_port), NULL);
	again.tun_id = key.tun_id;
	again.tun_src = key.tun_src;
	again.tun_dst = key.tun_dst;
	memcpy(again.tun_ipv6_src, key.tun_ipv6_src, 16);
	memcpy(again.tun_ipv6_dst, key.tun_ipv6_dst, 16);
	again.metadata = key.metadata;
	memcpy(again.regs, key.regs, sizeof(again.regs));
	if (!x.stop)
		check(memcmp(&again, &key, sizeof(key)) == 0);
	free(buf);
	return 0;
}
