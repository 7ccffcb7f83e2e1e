/* test_flow_actions.c - unit tests of flow/actions: each action on real frames, checksums recomputed from scratch, VLAN tags in the headroom, control flow and its limits, header versions, counters. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/flow_frames.h"
#include "flow/field.h"
#include "flow/learn.h"
#include "flow/parse.h"
#include "packet/csum.h"

#define HEADROOM 16
#define BUF 512

/* A db, an executor and one packet: a frame (all of it, or its first hdr_len bytes) behind HEADROOM bytes. */
struct fx {
	struct flow_db *db;
	struct flow_exec x;
	uint8_t buf[BUF];
	struct flow_pkt pkt;
	struct flow_key key;
	uint8_t orig[2048];		/* the whole frame as built: its tail past the copy is "the rest" */
	size_t orig_len, hdr_len;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->db = flow_db_create();
	assert_non_null(f->db);
	flow_exec_init(&f->x);
	return f;
}

static void fx_free(struct fx *f)
{
	flow_db_destroy(f->db);
	free(f);
}

static void add(struct fx *f, const char *text)
{
	char err[FLOW_ERR_MAX];
	struct flow_mod mod;

	if (flow_parse(text, FLOW_CMD_ADD, NULL, &mod, err, sizeof(err)))
		fail_msg("\"%s\": %s", text, err);
	assert_int_equal(flow_db_add(f->db, &mod), 0);
	assert_true(flow_db_commit(f->db) >= 0);
}

/* The frame @s, its first @hdr_len bytes (0: all) in the buffer after @headroom bytes; the key from them. */
static void load(struct fx *f, const struct frame_spec *s, unsigned headroom, size_t hdr_len, uint16_t in_port)
{
	f->orig_len = frame_build(f->orig, s);
	f->hdr_len = hdr_len && hdr_len < f->orig_len ? hdr_len : f->orig_len;
	assert_true(headroom + f->hdr_len <= BUF);
	memset(f->buf, 0xee, sizeof(f->buf));
	memcpy(f->buf + headroom, f->orig, f->hdr_len);
	f->pkt = (struct flow_pkt){ .buf = f->buf, .cap = BUF, .head = (uint16_t)headroom,
				    .len = (uint16_t)f->hdr_len, .frame_len = (uint32_t)f->orig_len };
	flow_key_extract(&f->key, f->buf + headroom, f->hdr_len, f->orig_len, in_port, &f->pkt.ofs);
}

static unsigned run_from(struct fx *f, uint8_t table)
{
	const struct flow_tables *t = flow_db_tables(f->db);
	unsigned n;

	flow_exec_begin(&f->x, t, 5000);
	n = flow_exec_run(&f->x, &f->pkt, &f->key, table, flow_tables_lookup(t, table, &f->key));
	flow_exec_end(&f->x);
	return n;
}

static unsigned run(struct fx *f)
{
	return run_from(f, 0);
}

/* Output @i's frame, whole: its header bytes (live or snapshot), then the rest of the original. */
static size_t out_frame(struct fx *f, unsigned i, uint8_t *out)
{
	const struct flow_out *o = &f->x.out[i];
	size_t rest = f->orig_len - f->hdr_len;
	const uint8_t *hdr;
	size_t len;

	if (o->snap == FLOW_SNAP_LIVE) {
		hdr = f->pkt.buf + f->pkt.head;
		len = f->pkt.len;
		assert_int_equal(f->pkt.frame_len, len + rest);
	} else {
		assert_true(o->snap < f->x.n_snap);
		hdr = f->x.snap[o->snap].bytes;
		len = f->x.snap[o->snap].len;
		assert_int_equal(f->x.snap[o->snap].frame_len, len + rest);
	}
	memcpy(out, hdr, len);
	memcpy(out + len, f->orig + f->hdr_len, rest);
	return len + rest;
}

/* Output @i is to @port and its frame's checksums are right, recomputed from scratch. */
static void check_out(struct fx *f, unsigned i, enum flow_out_kind kind, uint16_t port, uint8_t *frame,
		      size_t *len)
{
	static uint8_t scratch[2048];

	if (!frame)
		frame = scratch;
	assert_true(i < f->x.n_out);
	assert_int_equal(f->x.out[i].kind, kind);
	if (kind == FLOW_OUT_PORT)
		assert_int_equal(f->x.out[i].port, port);
	*len = out_frame(f, i, frame);
	assert_true(frame_csums_ok(frame, *len));
}

/* The key of @frame equals the executor's key on every packet field (metadata aside). */
static void check_key_follows(struct fx *f, const uint8_t *frame, size_t len)
{
	struct flow_key k;

	flow_key_extract(&k, frame, len, len, ntohs(f->key.in_port), NULL);
	k.metadata = f->key.metadata;
	memcpy(k.regs, f->key.regs, sizeof(k.regs));
	k.tun_id = f->key.tun_id;
	k.tun_src = f->key.tun_src;
	k.tun_dst = f->key.tun_dst;
	memcpy(k.tun_ipv6_src, f->key.tun_ipv6_src, 16);
	memcpy(k.tun_ipv6_dst, f->key.tun_ipv6_dst, 16);
	assert_memory_equal(&k, &f->key, sizeof(k));
}

static void test_outputs(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	size_t len;

	add(f, "in_port=1,actions=output:2,3,output:1,in_port,normal,flood,all,output:2");
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 7);	/* output:1 from port 1 is dropped (OpenFlow) */
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	assert_int_equal(len, f->orig_len);
	assert_memory_equal(fr, f->orig, len);
	check_out(f, 1, FLOW_OUT_PORT, 3, NULL, &len);
	check_out(f, 2, FLOW_OUT_PORT, 1, NULL, &len);	/* in_port: the way back */
	check_out(f, 3, FLOW_OUT_NORMAL, 0, NULL, &len);
	check_out(f, 4, FLOW_OUT_FLOOD, 0, NULL, &len);
	check_out(f, 5, FLOW_OUT_ALL, 0, NULL, &len);
	assert_int_equal(f->x.out[5].in_port, 1);
	assert_int_equal(f->x.n_snap, 0);	/* nothing changed: every output is the live buffer */

	/* No rule: table 0 drops by default. An empty action list: no output. */
	load(f, &s, HEADROOM, 0, 9);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->x.cnt[FLOW_CNT_MISS_DROP], 1);
	add(f, "in_port=9,actions=drop");
	assert_int_equal(run(f), 0);
	assert_int_equal(f->x.cnt[FLOW_CNT_NO_OUTPUT], 1);
	assert_int_equal(f->x.cnt[FLOW_CNT_PACKETS], 3);

	/* The port from a register. */
	add(f, "in_port=5,actions=load:7->reg3[0..15],output:reg3[0..15]");
	load(f, &s, HEADROOM, 0, 5);
	assert_int_equal(run(f), 1);
	assert_int_equal(f->x.out[0].port, 7);
	fx_free(f);
}

static void test_l2_rewrites(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	size_t len;

	add(f, "actions=mod_dl_src:0a:00:00:00:00:01,set_field:0b:00:00:00:00:02->eth_dst,output:2");
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	assert_memory_equal(fr, "\x0b\0\0\0\0\x02\x0a\0\0\0\0\x01", 12);
	assert_memory_equal(fr + 12, f->orig + 12, len - 12);
	check_key_follows(f, fr, len);
	fx_free(f);
}

/* Every L3/L4 rewrite over TCP, UDP, UDP without checksum and ICMP, IPv4 with options: checksums from scratch. */
static void test_ipv4_rewrites(void **state)
{
	static const uint8_t protos[] = { 6, 17, 17, 1 };

	for (int i = 0; i < 4; i++) {
		struct fx *f = fx_new();
		struct frame_spec s = frame_tcp4();
		uint8_t fr[2048];
		size_t len;

		s.proto = protos[i];
		s.udp_no_csum = i == 2;
		s.ip_opts = 8;
		s.tos = 0x03;
		s.payload = 33;
		add(f, "ip,actions=mod_nw_src:192.0.2.1,mod_nw_dst:198.51.100.7,mod_nw_tos:184,mod_nw_ttl:3,"
		       "mod_tp_src:4000,mod_tp_dst:4001,output:2");
		add(f, "priority=40000,icmp,actions=mod_nw_src:192.0.2.1,set_field:198.51.100.7->ip_dst,mod_nw_ecn:1,"
		       "set_field:0->icmp_type,set_field:5->icmp_code,output:2");
		load(f, &s, HEADROOM, 0, 1);
		assert_int_equal(run(f), 1);
		check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
		check_key_follows(f, fr, len);
		assert_int_equal(fr_get16(fr + 14 + 12), 0xc000);
		assert_int_equal(fr[14 + 19], 7);
		if (protos[i] == 1) {
			assert_int_equal(fr[14 + 1], 0x01);	/* ECN only: the DSCP bits stay 0 */
			assert_int_equal(fr[14 + 28], 0);
			assert_int_equal(fr[14 + 28 + 1], 5);
		} else {
			assert_int_equal(fr[14 + 1], 184 | 3);	/* DSCP set, the ECN bits kept */
			assert_int_equal(fr[14 + 8], 3);
			assert_int_equal(fr_get16(fr + 14 + 28), 4000);
			assert_int_equal(fr_get16(fr + 14 + 28 + 2), 4001);
		}
		if (i == 2)
			assert_int_equal(fr_get16(fr + 14 + 28 + 6), 0);	/* no UDP checksum: still none */
		fx_free(f);
	}
}

/*
 * An ICMPv4 message that is or becomes all zero bytes (echo reply,
 * identifier, sequence and data zero) sums to +0: its checksum is 0xffff,
 * where RFC 1624's incremental update gives 0x0000 (-0); also when only
 * the message's first bytes are in the buffer (a 128-byte head, as the
 * data path's).  One that sums to -0 without being zero gets 0xffff too,
 * which verifies as 0x0000 would.  (fuzz_flow_exec found the first.)
 */
static void test_icmp_all_zero(void **state)
{
	static const struct {
		uint8_t type, code;
		const char *acts;
		uint16_t want;
	} c[] = {
		{ 8, 0, "set_field:0->icmp_type", 0xffff },			/* becomes all zero */
		{ 0, 0, "set_field:0->icmp_code", 0xffff },			/* was and stays all zero */
		{ 0, 0, "move:NXM_OF_ICMP_CODE[]->NXM_OF_ICMP_TYPE[]", 0xffff },
		{ 8, 0, "set_field:255->icmp_type,set_field:255->icmp_code", 0xffff },	/* sums to -0, not zero */
	};

	(void)state;
	for (unsigned i = 0; i < 2 * sizeof(c) / sizeof(c[0]); i++) {
		const unsigned ci = i % (sizeof(c) / sizeof(c[0]));
		const bool cut = i >= sizeof(c) / sizeof(c[0]);	/* 200 data bytes, the buffer the first 128 */
		struct fx *f = fx_new();
		struct frame_spec s = frame_tcp4();
		char rule[160];
		uint8_t fr[2048];
		uint8_t *ip, *l4;
		size_t len;

		s.proto = 1;
		s.icmp_type = c[ci].type;
		s.icmp_code = c[ci].code;
		s.payload = cut ? 200 : 0;
		f->orig_len = frame_build(f->orig, &s);
		ip = f->orig + 14;
		l4 = ip + 20;
		memset(l4 + 2, 0, 6 + s.payload);	/* checksum, identifier, sequence, data */
		fr_l4_csum(ip, false, 1, l4, 8 + s.payload, false);
		assert_true(frame_csums_ok(f->orig, f->orig_len));
		snprintf(rule, sizeof(rule), "icmp,actions=%s,output:2", c[ci].acts);
		add(f, rule);
		f->hdr_len = cut ? 128 : f->orig_len;
		memset(f->buf, 0xee, sizeof(f->buf));
		memcpy(f->buf + HEADROOM, f->orig, f->hdr_len);
		f->pkt = (struct flow_pkt){ .buf = f->buf, .cap = BUF, .head = HEADROOM, .len = (uint16_t)f->hdr_len,
					    .frame_len = (uint32_t)f->orig_len };
		flow_key_extract(&f->key, f->buf + HEADROOM, f->hdr_len, f->orig_len, 1, &f->pkt.ofs);
		assert_int_equal(run(f), 1);
		check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
		assert_int_equal(fr_get16(fr + 14 + 20 + 2), c[ci].want);
		fx_free(f);
	}
}

static void test_ipv6_rewrites(void **state)
{
	static const uint8_t protos[] = { 6, 17, 58 };

	for (int i = 0; i < 3; i++) {
		struct fx *f = fx_new();
		struct frame_spec s = frame_tcp4();
		uint8_t fr[2048];
		size_t len;

		s.type = 0x86dd;
		s.proto = protos[i];
		s.ext_hdrs = i;		/* L4 behind 0, 1, 2 extension headers */
		s.tos = 0x5a;
		s.icmp_type = 128;
		add(f, "ipv6,actions=set_field:2001:db8::1->ipv6_src,set_field:2001:db8::ff00:2->ipv6_dst,"
		       "mod_nw_tos:32,dec_ttl,output:3");
		add(f, "priority=40000,tcp6,actions=set_field:2001:db8::1->ipv6_src,mod_tp_dst:22,output:3");
		add(f, "priority=40000,icmp6,actions=set_field:2001:db8::1->ipv6_src,set_field:129->icmpv6_type,output:3");
		load(f, &s, HEADROOM, 0, 1);
		assert_int_equal(run(f), 1);
		check_out(f, 0, FLOW_OUT_PORT, 3, fr, &len);
		check_key_follows(f, fr, len);
		assert_int_equal(fr[14 + 8], 0x20);
		assert_int_equal(fr[14 + 23], 1);
		if (protos[i] == 17) {
			assert_int_equal(f->key.nw_tos, 32 | 2);	/* DSCP 8, ECN 2 from 0x5a */
			assert_int_equal(fr[14 + 7], 63);
			assert_int_equal(fr[14 + 39], 2);
		}
		if (protos[i] == 6)
			assert_int_equal(ntohs(f->key.tp_dst), 22);
		if (protos[i] == 58)
			assert_int_equal(ntohs(f->key.tp_src), 129);
		fx_free(f);
	}
}

/*
 * icmp_type and icmp_code matched in an icmp6 flow (as Open vSwitch takes
 * and dumps them) are the ICMPv6 type and code; the rule's writes of
 * icmpv6_type and icmpv6_code rewrite the header with its checksum
 * (pseudo header included).
 */
static void test_icmp6_by_icmp_type(void **state)
{
	for (int hit = 0; hit < 2; hit++) {
		struct fx *f = fx_new();
		struct frame_spec s = frame_tcp4();
		uint8_t fr[2048];
		size_t len;

		s.type = 0x86dd;
		s.proto = 58;
		s.icmp_type = hit ? 128 : 135;
		add(f, "priority=40000,icmp6,icmp_type=128,icmp_code=0,actions=set_field:129->icmpv6_type,"
		       "set_field:3->icmpv6_code,output:3");
		add(f, "priority=100,ipv6,actions=output:2");
		load(f, &s, HEADROOM, 0, 1);
		assert_int_equal(run(f), 1);
		check_out(f, 0, FLOW_OUT_PORT, hit ? 3 : 2, fr, &len);	/* checksums checked there */
		check_key_follows(f, fr, len);
		assert_int_equal(fr[14 + 40], hit ? 129 : 135);
		assert_int_equal(fr[14 + 41], hit ? 3 : 0);
		fx_free(f);
	}
}

/* Only the first bytes in the buffer: the rest of the frame is elsewhere and never touched; checksums still right. */
static void test_partial_copy(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	size_t len;

	s.payload = 900;
	s.vlan = 12;
	add(f, "tcp,actions=mod_nw_dst:10.9.9.9,mod_tp_src:1,strip_vlan,dec_ttl,output:4");
	load(f, &s, HEADROOM, 128, 1);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 4, fr, &len);
	assert_int_equal(len, f->orig_len - 4);
	assert_int_equal(fr_get16(fr + 12), 0x0800);
	assert_int_equal(fr[14 + 8], 63);
	check_key_follows(f, fr, len);
	fx_free(f);
}

static void test_vlan_actions(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	size_t len;

	/* Untagged: mod_vlan_vid pushes a tag (priority 0), a later L3 rewrite finds IP 4 bytes further. */
	add(f, "in_port=1,actions=mod_vlan_vid:100,mod_nw_dst:10.0.0.99,output:2");
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	assert_int_equal(len, f->orig_len + 4);
	assert_int_equal(fr_get16(fr + 12), 0x8100);
	assert_int_equal(fr_get16(fr + 14), 100);
	assert_int_equal(fr_get16(fr + 16), 0x0800);
	assert_int_equal(fr[18 + 19], 99);
	assert_int_equal(f->pkt.head, HEADROOM - 4);
	assert_int_equal(ntohs(f->key.vlan_tci), 0x1000 | 100);
	check_key_follows(f, fr, len);

	/* Tagged: priority rewritten in place, then the VID; pop; push 802.1ad; a second push nests. */
	s.vlan = 0x2005;	/* PCP 1, VID 5 */
	add(f, "in_port=2,actions=mod_vlan_pcp:6,output:3,set_field:4103->vlan_vid,output:3,strip_vlan,output:3,"
	       "push_vlan:0x88a8,output:3,push_vlan:0x8100,mod_vlan_vid:9,output:3");
	load(f, &s, 8, 0, 2);
	assert_int_equal(run(f), 5);
	check_out(f, 0, FLOW_OUT_PORT, 3, fr, &len);
	assert_int_equal(fr_get16(fr + 14), 0xc005);
	check_out(f, 1, FLOW_OUT_PORT, 3, fr, &len);
	assert_int_equal(fr_get16(fr + 14), 0xc007);
	check_out(f, 2, FLOW_OUT_PORT, 3, fr, &len);
	assert_int_equal(len, f->orig_len - 4);
	assert_int_equal(fr_get16(fr + 12), 0x0800);
	check_out(f, 3, FLOW_OUT_PORT, 3, fr, &len);
	assert_int_equal(fr_get16(fr + 12), 0x88a8);
	assert_int_equal(fr_get16(fr + 14), 0);
	check_out(f, 4, FLOW_OUT_PORT, 3, fr, &len);
	assert_int_equal(len, f->orig_len + 4);
	assert_int_equal(fr_get16(fr + 12), 0x8100);
	assert_int_equal(fr_get16(fr + 14), 9);
	assert_int_equal(fr_get16(fr + 16), 0x88a8);
	assert_int_equal(ntohs(f->key.dl_type), 0x88a8);	/* the key follows one tag */
	assert_int_equal(f->pkt.head, 4);

	/* load 0 into vlan_tci pops; no headroom for a push ends the packet's processing. */
	add(f, "in_port=4,actions=load:0->vlan_tci,output:1,push_vlan:0x8100,output:5");
	load(f, &s, 0, 0, 4);
	assert_int_equal(run(f), 2);
	check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);
	assert_int_equal(fr_get16(fr + 12), 0x0800);
	check_out(f, 1, FLOW_OUT_PORT, 5, fr, &len);
	assert_int_equal(fr_get16(fr + 12), 0x8100);
	assert_int_equal(f->x.cnt[FLOW_CNT_HEADROOM], 0);	/* the pop made 4 bytes of room */
	s.vlan = -1;
	load(f, &s, 2, 0, 4);
	assert_int_equal(run(f), 1);
	assert_int_equal(f->x.cnt[FLOW_CNT_HEADROOM], 1);
	fx_free(f);
}

static void test_dec_ttl(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	size_t len;

	/* TTL 1: no decrement, the list stops; the outer list goes on after its resubmit. */
	add(f, "table=0,actions=output:5,resubmit(,1),output:6");
	add(f, "table=1,ip,actions=dec_ttl,output:7");
	add(f, "table=1,ipv6,actions=dec_ttl,output:7");
	s.ttl = 1;
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 2);
	assert_int_equal(f->x.out[0].port, 5);
	assert_int_equal(f->x.out[1].port, 6);
	assert_int_equal(f->x.cnt[FLOW_CNT_TTL], 1);
	s.ttl = 2;
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 3);
	check_out(f, 1, FLOW_OUT_PORT, 7, fr, &len);
	assert_int_equal(fr[14 + 8], 1);
	s.ttl = 0;
	s.type = 0x86dd;
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 2);
	assert_int_equal(f->x.cnt[FLOW_CNT_TTL], 2);
	/* Not IP: nothing to decrement, nothing stops. */
	s.type = 0x0806;
	load(f, &s, HEADROOM, 0, 1);
	add(f, "table=1,arp,actions=dec_ttl,output:8");
	assert_int_equal(run(f), 3);
	fx_free(f);
}

static void test_registers_and_pipeline(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();

	/* Table 0 classifies into reg0 and metadata, table 1 forwards on them; resubmit:PORT looks up as that port. */
	add(f, "table=0,in_port=1,ip,actions=load:0x2a->reg0[0..15],write_metadata:0x5/0xff,"
	       "move:NXM_OF_IP_SRC[24..31]->reg1[0..7],set_tunnel:0x77,goto_table:1");
	add(f, "table=1,reg0=0x2a,metadata=0x5/0xff,reg1=0x0a,tun_id=0x77,actions=resubmit:9,output:2");
	add(f, "table=1,priority=40000,in_port=9,reg0=0x2a,actions=output:3");
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 2);
	assert_int_equal(f->x.out[0].port, 3);
	assert_int_equal(f->x.out[1].port, 2);
	assert_int_equal(ntohs(f->key.in_port), 1);	/* resubmit:9 changed it only for the lookup */
	assert_int_equal(ntohl(f->key.regs[0]), 0x2a);
	assert_int_equal(ntohl(f->key.regs[1]), 0x0a);
	assert_int_equal(be64toh(f->key.metadata), 5);
	assert_int_equal(be64toh(f->key.tun_id), 0x77);
	assert_memory_equal(f->buf + HEADROOM, f->orig, f->orig_len);	/* metadata only: the frame is as it was */

	/* A miss in a resubmit does nothing; goto_table honours the table's miss behaviour. */
	add(f, "table=0,in_port=2,actions=resubmit(,5),output:4,goto_table:6");
	assert_int_equal(flow_db_set_miss(f->db, 6, FLOW_MISS_NEXT), 0);
	assert_int_equal(flow_db_set_miss(f->db, 5, FLOW_MISS_NORMAL), 0);
	assert_true(flow_db_commit(f->db) >= 0);
	add(f, "table=7,actions=output:8");
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), 2);
	assert_int_equal(f->x.out[0].port, 4);
	assert_int_equal(f->x.out[1].port, 8);
	assert_int_equal(flow_db_set_miss(f->db, 6, FLOW_MISS_NORMAL), 0);
	assert_true(flow_db_commit(f->db) >= 0);
	assert_int_equal(run(f), 2);
	assert_int_equal(f->x.out[1].kind, FLOW_OUT_NORMAL);
	/* The first table's miss too: 0 to 5 continue, 6 is the learning bridge. */
	for (unsigned t = 0; t <= 5; t++)
		assert_int_equal(flow_db_set_miss(f->db, t, FLOW_MISS_NEXT), 0);
	assert_true(flow_db_commit(f->db) >= 0);
	load(f, &s, HEADROOM, 0, 3);
	assert_int_equal(run(f), 1);
	assert_int_equal(f->x.out[0].kind, FLOW_OUT_NORMAL);
	fx_free(f);
}

/*
 * Each output carries tun_id and tun_dst as they were when it was made
 * (a vxlan port with remote=flow sends to that tun_dst): set_field, load
 * and move write tun_dst, a later write does not change an earlier
 * output's, and the frame's bytes are untouched (metadata only).  A run
 * whose outputs carry tunnel metadata gets a memo only with its actions
 * (their replay makes the outputs again), never the outputs alone.
 */
static void test_tun_dst_outputs(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	struct flow_memo m;
	struct flow_memo_acts ma;

	add(f, "in_port=1,actions=set_field:172.31.0.2->tun_dst,output:2,load:0xac1f0003->NXM_NX_TUN_IPV4_DST[],"
	       "set_tunnel:0x64,output:3,move:reg2[]->tun_dst[],output:4,output:5");
	add(f, "in_port=2,actions=load:0xac1f0009->reg2[],resubmit(,1)");
	add(f, "table=1,actions=move:reg2[]->tun_dst[],output:6");
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 4);
	assert_int_equal(f->x.out[0].port, 2);
	assert_int_equal(ntohl(f->x.out[0].tun_dst), 0xac1f0002);
	assert_int_equal(f->x.out[0].tun_id, 0);
	assert_int_equal(ntohl(f->x.out[1].tun_dst), 0xac1f0003);
	assert_int_equal(be64toh(f->x.out[1].tun_id), 0x64);
	assert_int_equal(f->x.out[2].tun_dst, 0);	/* reg2 is 0: tun_dst cleared (remote=flow drops it) */
	assert_int_equal(f->x.out[3].tun_dst, 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(f->x.out[i].snap, FLOW_SNAP_LIVE);	/* metadata: no header version */
	assert_memory_equal(f->buf + HEADROOM, f->orig, f->orig_len);

	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), 1);
	assert_int_equal(f->x.out[0].port, 6);
	assert_int_equal(ntohl(f->x.out[0].tun_dst), 0xac1f0009);
	assert_int_equal(ntohl(f->key.tun_dst), 0xac1f0009);
	/* a writing run: its memo replays the actions, not stored outputs */
	assert_true(flow_exec_memo(&f->x, &m, &ma));
	assert_true(m.flags & FLOW_MEMO_F_WRITES);
	assert_false(flow_exec_memo(&f->x, &m, NULL));
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(flow_exec_replay_acts(&f->x, &m, &ma, &f->pkt, &f->key), 1);
	assert_int_equal(ntohl(f->x.out[0].tun_dst), 0xac1f0009);

	/* A frame that came in a tunnel keeps its tun_dst through a plain output, and no stored-output memo has it. */
	add(f, "in_port=7,actions=output:1");
	load(f, &s, HEADROOM, 0, 7);
	f->key.tun_dst = htonl(0xc0000201);
	assert_int_equal(run(f), 1);
	assert_int_equal(ntohl(f->x.out[0].tun_dst), 0xc0000201);
	assert_false(flow_exec_memo(&f->x, &m, &ma));
	f->key.tun_dst = 0;
	assert_int_equal(run(f), 1);
	assert_true(flow_exec_memo(&f->x, &m, &ma));
	assert_false(m.flags & FLOW_MEMO_F_WRITES);
	assert_int_equal(flow_exec_replay(&f->x, &m, f->orig_len), 1);
	assert_int_equal(f->x.out[0].port, 1);
	assert_int_equal(f->x.out[0].tun_dst, 0);
	fx_free(f);
}

static const uint8_t fd00_2[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

/*
 * An IPv6 tun_dst (tun_ipv6_dst) does not fit an output: each output has
 * the index of its value in the run's table (flow_out.tun6, 0: none),
 * consecutive outputs with one value share an entry, a later write does
 * not change an earlier output's, and a replay of the actions makes the
 * same table.  A frame from an IPv6 tunnel keeps its tun_ipv6_dst through
 * a plain output, and a run with it gets no stored-output memo.
 */
static void test_tun6_outputs(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	struct flow_memo m;
	struct flow_memo_acts ma;

	add(f, "in_port=1,actions=set_field:fd00::2->tun_ipv6_dst,output:2,output:3,"
	       "load:0x3->NXM_NX_TUN_IPV6_DST[0..7],output:4,move:reg2[]->tun_ipv6_dst[0..31],output:5,"
	       "set_field:::->tun_ipv6_dst,output:6");
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 5);
	assert_int_equal(f->x.n_tun6, 3);
	assert_int_equal(f->x.out[0].tun6, 1);
	assert_int_equal(f->x.out[1].tun6, 1);
	assert_memory_equal(f->x.tun6_dst[0], fd00_2, 16);
	assert_int_equal(f->x.out[2].tun6, 2);
	assert_memory_equal(f->x.tun6_dst[1], "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x03", 16);
	assert_int_equal(f->x.out[3].tun6, 3);	/* reg2 is 0: the low 32 bits cleared */
	assert_memory_equal(f->x.tun6_dst[2], "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(f->x.out[4].tun6, 0);	/* zero: none (remote=flow drops it) */
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(f->x.out[i].tun_dst, 0);
		assert_int_equal(f->x.out[i].snap, FLOW_SNAP_LIVE);
	}
	assert_memory_equal(f->buf + HEADROOM, f->orig, f->orig_len);

	add(f, "in_port=3,actions=output:2,set_field:fd00::2->tun_ipv6_dst,output:4,output:5");
	load(f, &s, HEADROOM, 0, 3);
	assert_int_equal(run(f), 3);
	assert_true(flow_exec_memo(&f->x, &m, &ma));
	assert_true(m.flags & FLOW_MEMO_F_WRITES);
	load(f, &s, HEADROOM, 0, 3);
	assert_int_equal(flow_exec_replay_acts(&f->x, &m, &ma, &f->pkt, &f->key), 3);
	assert_int_equal(f->x.n_tun6, 1);
	assert_int_equal(f->x.out[0].tun6, 0);
	assert_int_equal(f->x.out[1].tun6, 1);
	assert_int_equal(f->x.out[2].tun6, 1);
	assert_memory_equal(f->x.tun6_dst[0], fd00_2, 16);

	add(f, "in_port=7,actions=output:1");
	load(f, &s, HEADROOM, 0, 7);
	memcpy(f->key.tun_ipv6_dst, fd00_2, 16);
	assert_int_equal(run(f), 1);
	assert_int_equal(f->x.out[0].tun6, 1);
	assert_memory_equal(f->x.tun6_dst[0], fd00_2, 16);
	assert_false(flow_exec_memo(&f->x, &m, &ma));
	fx_free(f);
}

static void test_limits(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();

	/* A resubmit loop that nests: 64 lists deep, then the packet's processing ends. */
	add(f, "in_port=1,actions=output:2,resubmit(,0),output:3");
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), FLOW_DEPTH_MAX);
	assert_int_equal(f->x.cnt[FLOW_CNT_DEPTH], 1);
	/* A tail loop does not nest: it runs into the resubmit limit. */
	add(f, "in_port=2,actions=resubmit(,0)");
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->x.cnt[FLOW_CNT_RESUBMITS], 1);
	assert_int_equal(f->x.cnt[FLOW_CNT_NO_OUTPUT], 0);	/* the limit is the reason counted */
	/* A long forward pipeline: every table resubmits to the next one as its last action. */
	for (unsigned t = 10; t < 200; t++) {
		char text[64];

		snprintf(text, sizeof(text), "table=%u,actions=resubmit(,%u)", t, t + 1);
		add(f, text);
	}
	add(f, "table=200,actions=output:9");
	add(f, "in_port=3,actions=goto_table:10");
	load(f, &s, HEADROOM, 0, 3);
	assert_int_equal(run(f), 1);
	assert_int_equal(f->x.out[0].port, 9);
	/* Outputs past FLOW_OUT_MAX are dropped and counted. */
	add(f, "in_port=4,actions=flood,flood,flood,flood,flood,flood,flood,flood,resubmit(,1),resubmit(,1)");
	add(f, "table=1,actions=all,all,all,all,all,all,all,all,all,all,all,all,all,all,all,all,all,all,all,all,"
	       "all,all,all,all,all,all,all,all,all,all,all,all");
	load(f, &s, HEADROOM, 0, 4);
	assert_int_equal(run(f), FLOW_OUT_MAX);
	assert_int_equal(f->x.cnt[FLOW_CNT_OUT_FULL], 8);
	/* Headers past FLOW_HDR_MAX are not run at all. */
	f->pkt.len = FLOW_HDR_MAX + 1;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->x.cnt[FLOW_CNT_HDR_TOO_BIG], 1);
	fx_free(f);
}

/* Outputs keep the headers they saw: later changes copy them first; clone() restores what it changed. */
static void test_header_versions(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	size_t len;

	add(f, "in_port=1,tcp,actions=mod_dl_dst:00:00:00:00:00:0a,output:2,mod_dl_dst:00:00:00:00:00:0b,output:3,"
	       "output:4,mod_nw_dst:10.1.1.1,output:5");
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 4);
	assert_int_equal(f->x.n_snap, 2);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	assert_int_equal(fr[5], 0x0a);
	assert_int_equal(f->x.out[0].snap, 0);
	check_out(f, 1, FLOW_OUT_PORT, 3, fr, &len);
	assert_int_equal(fr[5], 0x0b);
	assert_int_equal(fr[14 + 19], 2);
	assert_int_equal(f->x.out[1].snap, f->x.out[2].snap);	/* nothing changed between them */
	check_out(f, 3, FLOW_OUT_PORT, 5, fr, &len);
	assert_int_equal(f->x.out[3].snap, FLOW_SNAP_LIVE);
	assert_int_equal(fr[14 + 19], 1);

	/* More versions than snapshots: the packet's processing ends there. */
	add(f, "in_port=2,actions=output:1,mod_dl_dst:00:00:00:00:00:01,output:1,mod_dl_dst:00:00:00:00:00:02,"
	       "output:1,mod_dl_dst:00:00:00:00:00:03,output:1,mod_dl_dst:00:00:00:00:00:04,output:1,"
	       "mod_dl_dst:00:00:00:00:00:05,output:1,mod_dl_dst:00:00:00:00:00:06,output:1");
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), FLOW_SNAP_MAX + 1);
	assert_int_equal(f->x.cnt[FLOW_CNT_SNAP_FULL], 1);

	/* clone(): a mirror with other headers, then the original goes on unchanged. */
	add(f, "in_port=3,tcp,actions=clone(push_vlan:0x8100,mod_vlan_vid:7,mod_tp_dst:8080,output:9),"
	       "clone(load:5->reg2[],output:reg2[0..15]),mod_nw_ttl:9,output:2");
	load(f, &s, HEADROOM, 0, 3);
	assert_int_equal(run(f), 3);
	check_out(f, 0, FLOW_OUT_PORT, 9, fr, &len);
	assert_int_equal(len, f->orig_len + 4);
	assert_int_equal(fr_get16(fr + 14), 7);
	assert_int_equal(fr_get16(fr + 18 + 22), 8080);
	check_out(f, 1, FLOW_OUT_PORT, 5, fr, &len);
	assert_memory_equal(fr, f->orig, len);
	check_out(f, 2, FLOW_OUT_PORT, 2, fr, &len);
	assert_int_equal(len, f->orig_len);
	assert_int_equal(fr[14 + 8], 9);
	assert_int_equal(fr_get16(fr + 14 + 22), 80);
	assert_int_equal(f->key.regs[2], 0);	/* the clone's register write is gone too */
	assert_int_equal(f->pkt.head, HEADROOM);

	/* clone(drop), as ovs-ofctl prints an empty clone: nothing run, nothing saved, no snapshot taken. */
	add(f, "in_port=4,tcp,actions=output:1,clone(drop),output:2,clone(drop),output:3,clone(),output:5,"
	       "clone(drop),output:6,clone(drop),output:7,clone(drop),output:9");
	load(f, &s, HEADROOM, 0, 4);
	assert_int_equal(run(f), 7);
	assert_int_equal(f->x.n_snap, 0);
	assert_int_equal(f->x.cnt[FLOW_CNT_SNAP_FULL], 1);	/* the case above's, none more */
	check_out(f, 6, FLOW_OUT_PORT, 9, fr, &len);
	assert_memory_equal(fr, f->orig, len);
	fx_free(f);
}

static void test_arp_rewrites(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	size_t len;

	s.type = 0x0806;
	s.arp_op = 1;
	s.spa = 0x0a000001;
	s.tpa = 0x0a000002;
	memcpy(s.sha, "\x02\0\0\0\0\x01", 6);
	/* An ARP responder: request in, reply out. */
	add(f, "arp,arp_op=1,arp_tpa=10.0.0.2,actions=move:eth_src[]->eth_dst[],mod_dl_src:02:00:00:00:00:99,"
	       "load:2->arp_op,move:arp_sha[]->arp_tha[],set_field:02:00:00:00:00:99->arp_sha,"
	       "move:arp_spa[]->arp_tpa[],set_field:10.0.0.2->arp_spa,in_port");
	load(f, &s, HEADROOM, 0, 6);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 6, fr, &len);
	assert_memory_equal(fr, "\x02\0\0\0\0\x01\x02\0\0\0\0\x99", 12);
	assert_int_equal(fr_get16(fr + 14 + 6), 2);
	assert_memory_equal(fr + 14 + 8, "\x02\0\0\0\0\x99\x0a\0\0\x02\x02\0\0\0\0\x01\x0a\0\0\x01", 20);
	check_key_follows(f, fr, len);
	/* mod_nw_src on ARP is an IPv4 action: nothing happens. */
	add(f, "arp,arp_op=2,actions=mod_nw_src:1.2.3.4,output:1");
	s.arp_op = 2;
	load(f, &s, HEADROOM, 0, 6);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);
	assert_memory_equal(fr, f->orig, len);
	fx_free(f);
}

/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum; address changes update it, port changes leave it. */
static void test_csum_partial(void **state)
{
	static const uint8_t protos[] = { 6, 17 };

	for (int v6 = 0; v6 < 2; v6++)
		for (int i = 0; i < 2; i++) {
			struct fx *f = fx_new();
			struct frame_spec s = frame_tcp4();
			unsigned l3 = 14, l4, at;
			uint8_t fr[2048];
			size_t len;

			s.proto = protos[i];
			if (v6)
				s.type = 0x86dd;
			add(f, "ip,actions=mod_nw_dst:10.7.7.7,mod_tp_src:999,output:1");
			add(f, "ipv6,actions=set_field:2001:db8::7->ipv6_dst,mod_tp_src:999,output:1");
			load(f, &s, HEADROOM, 0, 2);
			l4 = f->pkt.ofs.l4;
			at = l4 + (s.proto == 6 ? 16 : 6);
			/* Make it partial: the field holds the folded pseudo-header sum, as a sender leaves it. */
			fr_put16(f->buf + HEADROOM + at,
				 fr_pseudo(f->buf + HEADROOM + l3, v6, s.proto, (unsigned)f->orig_len - l4));
			f->pkt.flags = FLOW_PKT_CSUM_PARTIAL;
			assert_int_equal(run(f), 1);
			len = out_frame(f, 0, fr);
			assert_int_equal(fr_get16(fr + at),
					 fr_pseudo(fr + l3, v6, s.proto, (unsigned)f->orig_len - l4));
			/* Completed now, it is right. */
			assert_int_equal(csum_complete_buf(fr, len, l4, at - l4), 0);
			assert_true(frame_csums_ok(fr, len));
			fx_free(f);
		}
}

static void test_counters(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	const struct flow_tables *t;
	const struct flow_rule *r0, *r1;
	uint64_t p, b;

	add(f, "table=0,actions=resubmit(,1),resubmit(,1)");
	add(f, "table=1,actions=output:2");
	load(f, &s, HEADROOM, 0, 1);
	t = flow_db_tables(f->db);
	r0 = flow_tables_lookup(t, 0, &f->key);
	r1 = flow_tables_lookup(t, 1, &f->key);
	flow_exec_begin(&f->x, t, 7000);
	for (int i = 0; i < 3; i++)
		flow_exec_run(&f->x, &f->pkt, &f->key, 0, r0);
	flow_db_rule_stats(r0, &p, &b);
	assert_int_equal(p, 0);		/* gathered by the executor, published at the end of the batch */
	flow_exec_end(&f->x);
	flow_db_rule_stats(r0, &p, &b);
	assert_int_equal(p, 3);
	assert_int_equal(b, 3 * f->orig_len);
	flow_db_rule_stats(r1, &p, &b);
	assert_int_equal(p, 6);
	assert_int_equal(atomic_load(&((struct flow_rule *)r1)->used_ms), 7000);
	fx_free(f);
}

/* A copy cut short, or headers that did not parse: writes that have no bytes to go to are skipped. */
static void test_short_headers(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	size_t len;

	add(f, "actions=mod_nw_src:1.1.1.1,mod_tp_dst:7,dec_ttl,mod_vlan_pcp:3,output:2");
	load(f, &s, HEADROOM, 36, 1);	/* the TCP header is cut */
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	assert_int_equal(fr_get16(fr + 12), 0x8100);
	assert_int_equal(fr[18 + 8], 63);			/* the IPv4 header is all there: TTL done */
	assert_int_equal(fr_get16(fr + 18 + 12), 0x0a00);	/* the TCP checksum is not: no address change */
	assert_int_equal(fr_get16(fr + 18 + 22), 80);	/* the port, past the copy: untouched */
	assert_int_equal(f->x.cnt[FLOW_CNT_CUT_SKIP], 2);
	load(f, &s, HEADROOM, 12, 1);	/* not even an Ethernet header */
	assert_int_equal(run(f), 1);
	assert_memory_equal(f->buf + HEADROOM, f->orig, 12);
	fx_free(f);
}

/*
 * The VLAN pipeline of Open vSwitch's advanced tutorial (ovs-advanced.rst),
 * as written there, with its learned table 10 given as fixed rules: port
 * 1 a trunk, port 2 an access port in VLAN 20, ports 3 and 4 in VLAN 30.
 */
static void test_ovs_vlan_tutorial(void **state)
{
	static const char *const flows[] = {
		"table=0, dl_src=01:00:00:00:00:00/01:00:00:00:00:00, actions=drop",
		"table=0, dl_dst=01:80:c2:00:00:00/ff:ff:ff:ff:ff:f0, actions=drop",
		"table=0, priority=0, actions=resubmit(,1)",
		"table=1, priority=0, actions=drop",
		"table=1, priority=99, in_port=1, actions=resubmit(,2)",
		"table=1, priority=99, in_port=2, vlan_tci=0, actions=mod_vlan_vid:20, resubmit(,2)",
		"table=1, priority=99, in_port=3, vlan_tci=0, actions=mod_vlan_vid:30, resubmit(,2)",
		"table=1, priority=99, in_port=4, vlan_tci=0, actions=mod_vlan_vid:30, resubmit(,2)",
		"table=2 actions=resubmit(,3)",	/* learn(...) in the tutorial: table 10 below is what it learned */
		"table=3 priority=50 actions=resubmit(,10), resubmit(,4)",
		"table=3 priority=99 dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=resubmit(,4)",
		"table=10, vlan_tci=0x0014/0x0fff,dl_dst=50:00:00:00:00:02 actions=load:0x2->NXM_NX_REG0[0..15]",
		"table=10, vlan_tci=0x001e/0x0fff,dl_dst=50:00:00:00:00:01 actions=load:0x1->NXM_NX_REG0[0..15]",
		"table=4 reg0=1 actions=1",
		"table=4 reg0=2 actions=strip_vlan,2",
		"table=4 reg0=3 actions=strip_vlan,3",
		"table=4 reg0=4 actions=strip_vlan,4",
		"table=4 reg0=0 priority=99 dl_vlan=20 actions=1,strip_vlan,2",
		"table=4 reg0=0 priority=99 dl_vlan=30 actions=1,strip_vlan,3,4",
		"table=4 reg0=0 priority=50            actions=1",
	};
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	size_t len;

	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++)
		add(f, flows[i]);

	/* A broadcast from access port 2: to the trunk tagged 20, not back to 2, never to VLAN 30. */
	memset(s.dst, 0xff, 6);
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);
	assert_int_equal(fr_get16(fr + 12), 0x8100);
	assert_int_equal(fr_get16(fr + 14) & 0xfff, 20);

	/* A broadcast on the trunk in VLAN 30: untagged to 3 and 4, not back to 1. */
	s.vlan = 30;
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 2);
	check_out(f, 0, FLOW_OUT_PORT, 3, fr, &len);
	assert_int_equal(fr_get16(fr + 12), 0x0800);
	check_out(f, 1, FLOW_OUT_PORT, 4, fr, &len);
	assert_memory_equal(fr + 12, f->orig + 16, len - 12);

	/* A tagged frame on an access port: dropped at ingress. A multicast source: dropped. */
	load(f, &s, HEADROOM, 0, 3);
	assert_int_equal(run(f), 0);
	s.vlan = -1;
	s.src[0] = 1;
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), 0);
	s.src[0] = 2;

	/* Known unicast: from the trunk in VLAN 20 to the learned port 2, untagged; to 50:..:01 in VLAN 30, port 1. */
	memcpy(s.dst, "\x50\0\0\0\0\x02", 6);
	s.vlan = 20;
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	assert_int_equal(len, f->orig_len - 4);
	s.vlan = -1;
	memcpy(s.dst, "\x50\0\0\0\0\x01", 6);
	load(f, &s, HEADROOM, 0, 4);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);
	assert_int_equal(fr_get16(fr + 14), 30);
	/* The same destination from VLAN 20 is not known there: flooded in VLAN 20 only. */
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);
	assert_int_equal(fr_get16(fr + 14), 20);
	fx_free(f);
}

/* The learn callback of test_learn_tutorial(): each learn the run reached, built and applied at once. */
struct learned {
	struct fx *f;
	unsigned calls;
	int last_rc;		/* flow_db_learn()'s answer to the last one: 1 an edit, 0 a refresh */
	char text[512];		/* the last rule, as a dump line */
};

static void learn_apply(void *arg, const struct flow_act *a, const struct flow_key *k)
{
	struct learned *l = arg;
	struct flow_mod mod;

	struct flow_mod back;
	char err[FLOW_ERR_MAX];

	l->calls++;
	assert_int_equal(flow_learn_build(a, k, &mod), 0);
	flow_format(&mod, true, NULL, l->text, sizeof(l->text));
	/* Every rule a learn makes reads back from its dump as itself. */
	if (flow_parse(l->text, FLOW_CMD_ADD, NULL, &back, err, sizeof(err)))
		fail_msg("%s: %s", l->text, err);
	assert_true(flow_match_equal(&back.match, &mod.match) && flow_actions_equal(back.actions, mod.actions));
	free(back.actions);
	l->last_rc = flow_db_learn(l->f->db, &mod);
	assert_true(l->last_rc >= 0);
	assert_true(flow_db_commit(l->f->db) >= 0);
}

static int rule_packets(void *arg, const struct flow_rule *r)
{
	uint64_t bytes;

	flow_db_rule_stats(r, (uint64_t *)arg, &bytes);
	return 0;
}

static uint64_t test_now_ms;

static uint64_t test_clock(void *arg)
{
	(void)arg;
	return test_now_ms;
}

/*
 * The same tutorial with its real table 2, learn(...), as written there:
 * what traffic learns into table 10 (the rule, as ovs-ofctl's dump says
 * it), the unicast it then sends to one port, a MAC that moves, a learn
 * that changes nothing (a refresh: the hard timeout starts again), no memo
 * for a run that learns, and learn inside clone().
 */
static void test_learn_tutorial(void **state)
{
	static const char *const flows[] = {
		"table=0, priority=0, actions=resubmit(,1)",
		"table=1, priority=99, in_port=1, actions=resubmit(,2)",
		"table=1, priority=99, in_port=2, vlan_tci=0, actions=mod_vlan_vid:20, resubmit(,2)",
		("table=2 actions=learn(table=10, NXM_OF_VLAN_TCI[0..11], NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[], "
		 "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15]), resubmit(,3)"),
		"table=3 priority=50 actions=resubmit(,10), resubmit(,4)",
		"table=4 reg0=1 actions=1",
		"table=4 reg0=2 actions=strip_vlan,2",
		"table=4 reg0=0 priority=99 dl_vlan=20 actions=1,strip_vlan,2",
	};
	struct fx *f = fx_new();
	struct learned l = { f, 0, 0, "" };
	struct frame_spec s = frame_tcp4();
	struct flow_memo memo;
	struct flow_memo_acts ma;
	uint8_t fr[2048];
	size_t len;

	test_now_ms = 1000;
	flow_db_set_clock(f->db, test_clock, NULL);
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++)
		add(f, flows[i]);
	assert_int_equal(flow_db_learning(f->db), 1);
	f->x.learn = learn_apply;
	f->x.learn_arg = &l;

	/* 50:..:02 on access port 2 broadcasts: flooded in VLAN 20 (the trunk), and learned there. */
	memcpy(s.src, "\x50\0\0\0\0\x02", 6);
	memset(s.dst, 0xff, 6);
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);
	assert_false(flow_exec_memo(&f->x, &memo, &ma));	/* a run that learns is no memo: the next frame learns too */
	assert_int_equal(l.calls, 1);
	assert_int_equal(l.last_rc, 1);
	assert_string_equal(l.text, "table=10,priority=32768,vlan_tci=0x0014/0x0fff,dl_dst=50:00:00:00:00:02 "
				    "actions=load:0x2->reg0[0..15]");
	assert_int_equal(flow_db_count(f->db, 10), 1);

	/* The trunk in VLAN 20 to 50:..:02: table 10 knows it: port 2 alone, untagged. */
	memcpy(s.src, "\x50\0\0\0\0\x01", 6);
	memcpy(s.dst, "\x50\0\0\0\0\x02", 6);
	s.vlan = 20;
	load(f, &s, HEADROOM, 0, 1);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	assert_int_equal(len, f->orig_len - 4);
	assert_int_equal(l.calls, 2);	/* and 50:..:01 learned at port 1 */
	assert_string_equal(l.text, "table=10,priority=32768,vlan_tci=0x0014/0x0fff,dl_dst=50:00:00:00:00:01 "
				    "actions=load:0x1->reg0[0..15]");
	assert_int_equal(flow_db_count(f->db, 10), 2);

	/* 50:..:02 again from port 2, 9 s later: the same rule, refreshed (no edit, its hard timeout restarts). */
	test_now_ms = 10000;
	memcpy(s.src, "\x50\0\0\0\0\x02", 6);
	memcpy(s.dst, "\x50\0\0\0\0\x01", 6);
	s.vlan = -1;
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);	/* to the learned trunk, tagged 20 */
	assert_int_equal(fr_get16(fr + 14) & 0xfff, 20);
	assert_int_equal(l.last_rc, 0);
	assert_int_equal(flow_db_count(f->db, 10), 2);

	/* It moves to the trunk: the rule changes (load:0x1), keeping its count (the unicast above). */
	memcpy(s.src, "\x50\0\0\0\0\x02", 6);
	memcpy(s.dst, "\xff\xff\xff\xff\xff\xff", 6);
	s.vlan = 20;
	load(f, &s, HEADROOM, 0, 1);
	run(f);
	assert_int_equal(l.last_rc, 1);
	assert_string_equal(l.text, "table=10,priority=32768,vlan_tci=0x0014/0x0fff,dl_dst=50:00:00:00:00:02 "
				    "actions=load:0x1->reg0[0..15]");
	assert_int_equal(flow_db_count(f->db, 10), 2);
	{
		struct flow_mod want;
		char err[FLOW_ERR_MAX];
		uint64_t packets = 0;

		assert_int_equal(flow_parse("table=10,vlan_tci=0x0014/0x0fff,dl_dst=50:00:00:00:00:02", FLOW_CMD_DELETE,
					    NULL, &want, err, sizeof(err)), 0);
		assert_int_equal(flow_db_foreach(f->db, &want, rule_packets, &packets), 0);
		assert_int_equal(packets, 1);
	}

	/* A hard timeout restarts with each refresh (Open vSwitch's learn refresh). */
	test_now_ms = 1000;
	add(f, "table=0, priority=20, in_port=4, actions=learn(table=6,hard_timeout=10,eth_dst=eth_src,output:in_port[])");
	s.vlan = -1;
	memcpy(s.src, "\x50\0\0\0\0\x04", 6);
	load(f, &s, HEADROOM, 0, 4);
	run(f);
	assert_int_equal(l.last_rc, 1);
	assert_string_equal(l.text, "table=6,priority=32768,hard_timeout=10,dl_dst=50:00:00:00:00:04 actions=output:4");
	test_now_ms = 9000;
	load(f, &s, HEADROOM, 0, 4);
	run(f);
	assert_int_equal(l.last_rc, 0);
	assert_int_equal(flow_db_expire(f->db, 11000), 0);	/* 10 s after the learn, 2 s after the refresh */
	assert_int_equal(flow_db_expire(f->db, 18999), 0);
	assert_int_equal(flow_db_expire(f->db, 19000), 1);
	assert_true(flow_db_commit(f->db) >= 0);
	assert_int_equal(flow_db_count(f->db, 6), 0);

	/* learn inside clone(): it runs, the clone's output too. */
	add(f, "table=0, priority=10, in_port=3, actions=clone(learn(table=5,eth_dst=eth_src,output:in_port[])),output:1");
	assert_int_equal(flow_db_learning(f->db), 3);
	s.vlan = -1;
	memcpy(s.src, "\x50\0\0\0\0\x03", 6);
	load(f, &s, HEADROOM, 0, 3);
	l.calls = 0;
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);
	assert_int_equal(l.calls, 1);
	assert_string_equal(l.text, "table=5,priority=32768,dl_dst=50:00:00:00:00:03 actions=output:3");
	/* A load of nw_tos in the learned rule: its DSCP bits, as `load` writes them (the rule reads back). */
	add(f, "table=0, priority=30, in_port=4, ip, actions=learn(table=7,eth_type=0x800,NXM_OF_IP_DST[]=NXM_OF_IP_SRC[],"
	       "load:NXM_OF_IP_TOS[]->NXM_OF_IP_TOS[])");
	s.tos = 0xb9;
	load(f, &s, HEADROOM, 0, 4);
	run(f);
	assert_string_equal(l.text, "table=7,priority=32768,ip,nw_dst=10.0.0.1 actions=load:0xb8->nw_tos[]");
	flow_db_clear(f->db);
	assert_int_equal(flow_db_learning(f->db), 0);
	fx_free(f);
}

static uint64_t reg(const struct fx *f, unsigned r)
{
	return flow_field_get_bits(&flow_fields[FF_REG0 + r], &f->key, 0, 32);
}

/*
 * push/pop, exit and check_pkt_larger (ovs-actions(7)): ovs-actions(7)'s
 * example of outputs back to the input port through a pushed in_port, a
 * pop of fewer or more bits than pushed, the stack's two errors, exit
 * ending the outer lists too, and the length without the VLAN tag.
 */
static void test_stack_exit_pkt_larger(void **state)
{
	struct fx *f = fx_new();
	struct frame_spec s = frame_tcp4();
	uint8_t fr[2048];
	char text[2048];
	size_t len, n;
	uint32_t flen;

	add(f, "in_port=2,actions=push:in_port,load:0->in_port,2,pop:in_port,2,output:3");
	add(f, "in_port=4,actions=load:0x12345678->reg0[],load:0xffffffff->reg2[],push:reg0[],pop:reg1[0..7],"
	       "push:reg0[0..7],pop:reg2[],resubmit(,1)");
	add(f, "table=1,reg1=0x78,reg2=0x78,actions=output:1");
	add(f, "in_port=5,actions=output:2,resubmit(,1),output:3");
	add(f, "table=1,in_port=5,actions=output:4,exit,output:6");
	add(f, "in_port=6,actions=output:2,pop:reg0[],output:3");

	/* Out to the input port (in_port 0 for the while), then not again: the stack put in_port back. */
	load(f, &s, HEADROOM, 0, 2);
	assert_int_equal(run(f), 2);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	check_out(f, 1, FLOW_OUT_PORT, 3, fr, &len);
	assert_int_equal(ntohs(f->key.in_port), 2);
	/* 32 bits pushed, 8 popped: the low 8; 8 pushed, 32 popped: zeros on the left. */
	load(f, &s, HEADROOM, 0, 4);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);
	assert_int_equal(reg(f, 1), 0x78);
	assert_int_equal(reg(f, 2), 0x78);
	/* exit in the resubmitted table: its outputs so far, nothing after, in that list or the outer one. */
	load(f, &s, HEADROOM, 0, 5);
	assert_int_equal(run(f), 2);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	check_out(f, 1, FLOW_OUT_PORT, 4, fr, &len);
	/* A pop of the empty stack ends processing, counted; the output before it stays. */
	load(f, &s, HEADROOM, 0, 6);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	assert_int_equal(f->x.cnt[FLOW_CNT_STACK], 1);
	/* FLOW_STACK_MAX pushes fit; one more ends processing, counted. */
	n = (size_t)snprintf(text, sizeof(text), "in_port=7,actions=output:2");
	for (unsigned i = 0; i <= FLOW_STACK_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ",push:reg0[]");
	snprintf(text + n, sizeof(text) - n, ",output:3");
	add(f, text);
	load(f, &s, HEADROOM, 0, 7);
	assert_int_equal(run(f), 1);
	assert_int_equal(f->x.cnt[FLOW_CNT_STACK], 2);

	/* clone() keeps the stack as it was (ovs-actions(7)): a pop inside takes nothing from the outer one. */
	add(f, "in_port=9,actions=load:5->reg0[],push:reg0[],clone(pop:reg1[],output:7),pop:reg2[],output:8");
	load(f, &s, HEADROOM, 0, 9);
	assert_int_equal(run(f), 2);
	check_out(f, 0, FLOW_OUT_PORT, 7, fr, &len);
	check_out(f, 1, FLOW_OUT_PORT, 8, fr, &len);
	assert_int_equal(reg(f, 2), 5);
	assert_int_equal(f->x.cnt[FLOW_CNT_STACK], 2);
	/* A pop into nw_tos writes its DSCP bits, as load does: the ECN bits stay. */
	add(f, "in_port=10,ip,actions=load:0xff->reg0[0..7],push:reg0[0..7],pop:nw_tos[],output:2");
	s.tos = 0x01;
	load(f, &s, HEADROOM, 0, 10);
	assert_int_equal(run(f), 1);
	check_out(f, 0, FLOW_OUT_PORT, 2, fr, &len);
	assert_int_equal(fr[14 + 1], 0xfd);
	s.tos = 0;

	/* check_pkt_larger: the frame's length, a tag not counted. */
	flen = (uint32_t)frame_build(fr, &s);
	snprintf(text, sizeof(text), "in_port=8,actions=check_pkt_larger(%u)->reg3[0],check_pkt_larger(%u)->reg3[1],"
		 "check_pkt_larger(0)->reg3[31],resubmit(,1)", flen - 1, flen);
	add(f, text);
	add(f, "table=1,in_port=8,reg3=0x80000001,actions=output:1");
	for (int tag = 0; tag < 2; tag++) {
		s.vlan = tag ? 9 : -1;
		load(f, &s, HEADROOM, 0, 8);
		assert_int_equal((uint32_t)f->orig_len, flen + (tag ? 4u : 0u));
		assert_int_equal(run(f), 1);
		check_out(f, 0, FLOW_OUT_PORT, 1, fr, &len);
		assert_int_equal(reg(f, 3), 0x80000001);
	}
	/* A segmentation request: its largest segment on the wire is what counts (seg_len), not the whole frame. */
	s.vlan = -1;
	load(f, &s, HEADROOM, 0, 8);
	f->pkt.frame_len = 65000;
	f->pkt.seg_len = flen;
	assert_int_equal(run(f), 1);
	assert_int_equal(reg(f, 3), 0x80000001);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outputs),
		cmocka_unit_test(test_l2_rewrites),
		cmocka_unit_test(test_ipv4_rewrites),
		cmocka_unit_test(test_icmp_all_zero),
		cmocka_unit_test(test_ipv6_rewrites),
		cmocka_unit_test(test_icmp6_by_icmp_type),
		cmocka_unit_test(test_partial_copy),
		cmocka_unit_test(test_vlan_actions),
		cmocka_unit_test(test_dec_ttl),
		cmocka_unit_test(test_registers_and_pipeline),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_header_versions),
		cmocka_unit_test(test_arp_rewrites),
		cmocka_unit_test(test_csum_partial),
		cmocka_unit_test(test_tun_dst_outputs),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_short_headers),
		cmocka_unit_test(test_ovs_vlan_tutorial),
		cmocka_unit_test(test_learn_tutorial),
		cmocka_unit_test(test_stack_exit_pkt_larger),
		cmocka_unit_test(test_tun6_outputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
