/* test_flow_parse.c - unit tests of flow/parse and flow/format: flows from Open vSwitch documentation, values and masks, every refusal, round trips. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow/field.h"
#include "flow/learn.h"
#include "flow/parse.h"

static const char *const port_names[] = { NULL, "vm1", "vm2", "tap0" };

static int by_name(void *arg, const char *name, uint16_t *port)
{
	(void)arg;
	for (uint16_t i = 1; i < 4; i++)
		if (!strcmp(name, port_names[i])) {
			*port = i;
			return 0;
		}
	return -ENOENT;
}

static const char *name_of(void *arg, uint16_t port)
{
	(void)arg;
	return port > 0 && port < 4 ? port_names[port] : NULL;
}

static const struct flow_names names = { by_name, name_of, NULL };

/* Flows as ovs-actions(7), ovs-fields(7) and ovs-ofctl(8) write them (and a few more), all accepted. */
static const char *const good_flows[] = {
	"priority=100,ip,nw_dst=10.0.0.0/8,actions=output:2",
	"in_port=1,actions=output:2",
	"in_port=vm1 actions=output:vm2",
	"dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=drop",
	"tcp,tp_dst=0x1000/0xf000,actions=normal",
	"vlan_tci=0x1000/0x1000,actions=strip_vlan,output:3",
	"table=0,priority=1,action=drop",
	"table=0,priority=10,arp,action=normal",
	"in_port=2,actions=in_port",
	"actions=2,3,4,5,6,in_port",
	"actions=all,in_port",
	"in_port=2,actions=load:0->in_port,2",
	"actions=load:0->in_port,2,3,4,5,6",
	"actions=move:NXM_NX_REG0[0..5]->NXM_NX_REG1[26..31]",
	"actions=move:reg0[0..15]->vlan_tci",
	"actions=set_field:00:11:22:33:44:55->eth_src",
	"actions=load:0x001122334455->eth_src",
	"actions=load:0x001122334455->OXM_OF_ETH_SRC[]",
	"actions=set_field:01:00:00:00:00:00/01:00:00:00:00:00->eth_dst",
	"actions=load:1->eth_dst[40]",
	"ip,actions=set_field:10.0.0.1->nw_dst",
	"actions=resubmit(,1)",
	"actions=resubmit:3",
	"actions=resubmit(vm2,4)",
	"table=1,actions=goto_table:2",
	"udp,tp_dst=53,actions=mod_tp_dst:5353,output:1",
	"udp,udp_src=68,udp_dst=67,actions=flood",
	"tcp,tcp_dst=443,actions=drop",
	"icmp,icmp_type=8,icmp_code=0,actions=normal",
	"arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_sha=02:00:00:00:00:01,arp_tha=00:00:00:00:00:00,actions=flood",
	"arp,nw_src=10.0.0.1,nw_proto=2,actions=normal",
	"ipv6,ipv6_src=2001:db8::/32,actions=drop",
	"tcp6,ipv6_dst=fe80::1,tp_src=22,actions=dec_ttl,normal",
	"icmp6,icmpv6_type=135,actions=normal",
	"tun_id=0x5,tun_src=1.1.1.1,tun_dst=2.2.2.0/24,actions=set_tunnel:0x6,output:1",
	"metadata=0x1/0xff,reg0=5,reg7=0x10/0xf0,actions=write_metadata:0x2/0x3,goto_table:3",
	"reg3[0..7]=0x2a,actions=output:reg3[0..7]",
	"dl_vlan=10,dl_vlan_pcp=3,actions=mod_vlan_vid:20,mod_vlan_pcp:1,push_vlan:0x8100,output:1",
	"dl_vlan=0xffff,actions=mod_vlan_vid:5,output:2",
	"vlan_tci=0,actions=push_vlan:0x88a8,set_field:4102->vlan_vid,output:1",
	"ip,nw_tos=16,nw_ecn=1,nw_ttl=5,ip_frag=no,actions=mod_nw_tos:32,mod_nw_ecn:2,mod_nw_ttl:9",
	"ip,ip_dscp=46,actions=mod_nw_src:192.168.0.1,mod_nw_dst:192.168.0.2,normal",
	"ip,ip_frag=later,actions=drop",
	"ipv6,ip_frag=first,actions=drop",
	"actions=note:00.11.22,clone(mod_dl_dst:02:00:00:00:00:01,output:3),normal",
	"actions=clone(output:vm1),clone(clone(push_vlan:0x8100,output:2)),note:",
	"cookie=0x123,idle_timeout=10,hard_timeout=20,priority=7,actions=drop",
	"cookie=0x0, duration=12.345s, table=0, n_packets=0, n_bytes=0, idle_age=3, priority=100,ip actions=NORMAL",
	"priority=0 actions=NORMAL",
	"dl_type=0x0800,nw_proto=17,actions=FLOOD",
	"eth_src=02:00:00:00:00:01,eth_type=0x86dd,actions=ALL",
	"actions=dec_ttl(1,2),set_tunnel64:0x1122334455667788",
	"reset_counts,send_flow_rem,actions=drop",
	"ip,actions=move:nw_src[]->nw_dst[],move:NXM_OF_IP_DST[0..7]->reg2[8..15]",
	"tcp,actions=load:0x1f90->NXM_OF_TCP_DST[],set_field:8080->tcp_src",
	"ipv6,actions=set_field:2001:db8::1->ipv6_dst,set_field:3->nw_ecn,set_field:5->ip_dscp",
	"in_port=3,dl_src=02:00:00:00:00:05/ff:ff:ff:00:00:00,dl_dst=ff:ff:ff:ff:ff:ff,actions=output:1",
	"ip,nw_dst=10.9.0.2,actions=set_field:192.0.2.7->tun_dst,output:1",
	"actions=load:0xc0000207->NXM_NX_TUN_IPV4_DST[],set_field:0x5->tun_id,output:1",
	"actions=move:reg0[]->tun_dst[],move:tun_src[]->NXM_NX_TUN_IPV4_DST[],load:0x7->tun_dst[0..7]",
	"tun_id=0x5,tun_ipv6_src=fd00::1,tun_ipv6_dst=fd00::/64,actions=set_field:fd00::2->tun_ipv6_dst,output:1",
	"NXM_NX_TUN_IPV6_SRC=fd00::1/::ffff,actions=load:0x2->NXM_NX_TUN_IPV6_DST[0..15],output:1",
	"actions=move:tun_ipv6_src[]->tun_ipv6_dst[],move:reg0[]->tun_ipv6_dst[96..127],output:1",
	"tcp,tcp_flags=+syn-ack,actions=drop",
	"tcp6,tcp_flags=syn|ack,actions=normal",
	"tcp,tcp_flags=0,actions=normal",
	"tcp,tcp_flags=0x002/0x012,tp_dst=80,actions=output:2",
	"tcp,tcp_flags=+ns+[800]-fin,actions=drop",
	"tcp,tcp_flags=fin|0x10|rst,actions=drop",
	"tcp,NXM_NX_TCP_FLAGS=0x4/0x4,actions=move:tcp_flags[]->reg0[0..15],normal",
	"tcp,OXM_OF_TCP_FLAGS=+urg+psh+ece+cwr,actions=normal",
	"tcp,tcp_flags[0..4]=0x2/0x12,actions=drop",
	"icmp6,icmp_type=135,icmp_code=0,actions=normal",
	"actions=clone(drop),clone(clone(drop),output:2),note:00.00.00.00.00.00",
	"icmp6,actions=set_field:136->icmpv6_type,move:icmpv6_code[]->reg0[0..7],normal",
	/* learn: ovs-advanced.rst's table 2, ovs-actions(7)'s example, every kind of spec and argument */
	("table=2 actions=learn(table=10, NXM_OF_VLAN_TCI[0..11], NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[], "
	 "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15]), resubmit(,3)"),
	"udp, actions=learn(dl_type=0x800, nw_proto=17, udp_dst=udp_src)",
	("ip,actions=learn(table=3,priority=7,idle_timeout=10,hard_timeout=20,cookie=0x5,eth_dst=eth_src,"
	 "vlan_tci[0..11],load:0x7->reg1[],load:in_port->reg0[0..15],output:NXM_NX_REG2[0..15],eth_type=0x800,"
	 "ip_dst=10.0.0.1,nw_src=ip_dst,eth_src=00:11:22:33:44:55,in_port=vm2,reg0[3..5]=5)"),
	"actions=learn(send_flow_rem,eth_dst),learn(),clone(learn(table=253,output:in_port[]))",
	"ipv6,actions=learn(table=4,eth_type=0x86dd,ipv6_dst=ipv6_src,load:ipv6_src[64..127]->tun_ipv6_dst[0..63])",
	/* ovs-actions(7): the stack, exit, check_pkt_larger */
	"actions=push:in_port,load:0->in_port,2,3,4,5,6,pop:in_port",
	"actions=push:NXM_NX_REG2[0..5],pop:reg3[],push:eth_src[],pop:reg4[0..15]",
	"actions=check_pkt_larger(1500)->reg0[0],check_pkt_larger(8000)->NXM_NX_REG7[10],resubmit(,1)",
	"actions=output:1,exit",
	"ip,actions=learn(dl_type=0x800,NXM_OF_ETH_TYPE[],NXM_OF_IP_SRC[])",	/* dl_type from the packet: ip's */
};

static void parse_ok(const char *text, enum flow_parse_cmd cmd, struct flow_mod *mod)
{
	char err[FLOW_ERR_MAX];
	int rc = flow_parse(text, cmd, &names, mod, err, sizeof(err));

	if (rc)
		fail_msg("\"%s\": %d %s", text, rc, err);
}

/* @text is refused with a message that contains @needle. */
static void parse_bad(const char *text, enum flow_parse_cmd cmd, const char *needle)
{
	char err[FLOW_ERR_MAX];
	struct flow_mod mod;
	int rc = flow_parse(text, cmd, &names, &mod, err, sizeof(err));

	if (rc != -EINVAL)
		fail_msg("\"%s\": accepted (%d)", text, rc);
	if (!strstr(err, needle))
		fail_msg("\"%s\": message \"%s\" does not name \"%s\"", text, err, needle);
	assert_null(mod.actions);
}

static void test_good_flows(void **state)
{
	for (size_t i = 0; i < sizeof(good_flows) / sizeof(good_flows[0]); i++) {
		struct flow_mod mod;

		parse_ok(good_flows[i], FLOW_CMD_ADD, &mod);
		assert_non_null(mod.actions);
		free(mod.actions);
	}
}

static void test_match_values(void **state)
{
	struct flow_mod m;

	parse_ok("priority=100,ip,nw_dst=10.0.0.0/8,actions=output:2", FLOW_CMD_ADD, &m);
	assert_int_equal(m.priority, 100);
	assert_int_equal(m.table, FLOW_TABLE_ANY);
	assert_int_equal(ntohs(m.match.value.dl_type), 0x0800);
	assert_int_equal(m.match.mask.dl_type, 0xffff);
	assert_int_equal(ntohl(m.match.value.nw_dst), 0x0a000000);
	assert_int_equal(ntohl(m.match.mask.nw_dst), 0xff000000);
	assert_int_equal(m.match.mask.nw_src, 0);
	assert_int_equal(m.actions->n, 1);
	assert_int_equal(m.actions->a[0].type, FA_OUTPUT);
	assert_int_equal(m.actions->a[0].port, 2);
	free(m.actions);

	parse_ok("dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,tcp,tp_dst=0x1000/0xf000,in_port=vm2,actions=drop",
		 FLOW_CMD_ADD, &m);
	assert_memory_equal(m.match.value.dl_dst, "\x01\0\0\0\0\0", 6);
	assert_memory_equal(m.match.mask.dl_dst, "\x01\0\0\0\0\0", 6);
	assert_int_equal(ntohs(m.match.value.tp_dst), 0x1000);
	assert_int_equal(ntohs(m.match.mask.tp_dst), 0xf000);
	assert_int_equal(m.match.value.nw_proto, 6);
	assert_int_equal(ntohs(m.match.value.in_port), 2);
	assert_int_equal(m.match.mask.in_port, 0xffff);
	assert_int_equal(m.actions->n, 0);
	assert_int_equal(m.priority, FLOW_PRIORITY_DEFAULT);
	free(m.actions);

	/* The VLAN views of ovs-fields(7). */
	parse_ok("vlan_tci=0x1000/0x1000,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(ntohs(m.match.value.vlan_tci), 0x1000);
	assert_int_equal(ntohs(m.match.mask.vlan_tci), 0x1000);
	free(m.actions);
	parse_ok("dl_vlan=9,dl_vlan_pcp=7,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(ntohs(m.match.value.vlan_tci), 0xf009);
	assert_int_equal(ntohs(m.match.mask.vlan_tci), 0xffff);
	free(m.actions);
	parse_ok("dl_vlan=0xffff,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(m.match.value.vlan_tci, 0);
	assert_int_equal(m.match.mask.vlan_tci, 0xffff);
	free(m.actions);
	parse_ok("vlan_vid=0x1005,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(ntohs(m.match.value.vlan_tci), 0x1005);
	assert_int_equal(ntohs(m.match.mask.vlan_tci), 0x1fff);
	free(m.actions);

	/* ToS views: nw_tos the DSCP bits in place, ip_dscp shifted, nw_ecn the low two. */
	parse_ok("ip,ip_dscp=46,nw_ecn=1,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(m.match.value.nw_tos, 46 << 2 | 1);
	assert_int_equal(m.match.mask.nw_tos, 0xff);
	free(m.actions);
	parse_ok("ip,nw_tos=184,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(m.match.value.nw_tos, 184);
	assert_int_equal(m.match.mask.nw_tos, 0xfc);
	free(m.actions);

	/* ICMP type in the low byte of tp_src; a register's bits; IPv6 prefixes. */
	parse_ok("icmp,icmp_type=8,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(ntohs(m.match.value.tp_src), 8);
	assert_int_equal(ntohs(m.match.mask.tp_src), 0xff);
	free(m.actions);
	parse_ok("reg3[4..7]=0xa,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(ntohl(m.match.value.regs[3]), 0xa0);
	assert_int_equal(ntohl(m.match.mask.regs[3]), 0xf0);
	free(m.actions);
	parse_ok("ipv6,ipv6_src=2001:db8::/32,ipv6_dst=::1/::ffff,actions=drop", FLOW_CMD_ADD, &m);
	assert_memory_equal(m.match.value.ipv6_src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_memory_equal(m.match.mask.ipv6_src, "\xff\xff\xff\xff\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(m.match.mask.ipv6_dst[15], 0xff);
	assert_int_equal(m.match.mask.ipv6_dst[13], 0);
	free(m.actions);
	parse_ok("ip,ip_frag=first,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(m.match.value.nw_frag, FLOW_FRAG_ANY);
	assert_int_equal(m.match.mask.nw_frag, FLOW_FRAG_ANY | FLOW_FRAG_LATER);
	free(m.actions);
}

/* tcp_flags in each of its forms: the bits matched and how a dump writes them (as ovs-ofctl: names, +set-clear). */
static void test_tcp_flags(void **state)
{
	static const struct {
		const char *text;
		uint16_t v, m;
		const char *shown;
	} cases[] = {
		{ "tcp,tcp_flags=+syn-ack,actions=drop", 0x002, 0x012, "tcp_flags=+syn-ack" },
		{ "tcp,tcp_flags=0x002/0x012,actions=drop", 0x002, 0x012, "tcp_flags=+syn-ack" },
		{ "tcp,tcp_flags=-ack+syn,actions=drop", 0x002, 0x012, "tcp_flags=+syn-ack" },
		{ "tcp,tcp_flags=syn|ack,actions=drop", 0x012, 0xfff, "tcp_flags=syn|ack" },
		{ "tcp,tcp_flags=ack|syn,actions=drop", 0x012, 0xfff, "tcp_flags=syn|ack" },
		{ "tcp,tcp_flags=syn,actions=drop", 0x002, 0xfff, "tcp_flags=syn " },
		{ "tcp,tcp_flags=0x12,actions=drop", 0x012, 0xfff, "tcp_flags=syn|ack" },
		{ "tcp,tcp_flags=0,actions=drop", 0x000, 0xfff, "tcp_flags=0 " },
		{ "tcp,tcp_flags=+fin+syn+rst+psh+ack+urg+ece+cwr+ns+[200]+[400]+[800],actions=drop", 0xfff, 0xfff,
		  "tcp_flags=fin|syn|rst|psh|ack|urg|ece|cwr|ns|[200]|[400]|[800]" },
		{ "tcp6,tcp_flags=-rst,actions=drop", 0x000, 0x004, "tcp6,tcp_flags=-rst" },
		{ "tcp,tcp_flags=0x100/0x100,actions=drop", 0x100, 0x100, "tcp_flags=+ns" },
		/* In part: the bits given, the others any; the whole field, every flag. */
		{ "tcp,tcp_flags[]=0x12,actions=drop", 0x012, 0xfff, "tcp_flags=syn|ack" },
		{ "tcp,tcp_flags[1]=1,actions=drop", 0x002, 0x002, "tcp_flags=+syn" },
		{ "tcp,tcp_flags[0..4]=0x2/0x12,actions=drop", 0x002, 0x012, "tcp_flags=+syn-ack" },
		{ "tcp,tcp_flags[8..11]=0x1,actions=drop", 0x100, 0xf00, "tcp_flags=+ns-[200]-[400]-[800]" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flow_mod m;
		char text[512];

		parse_ok(cases[i].text, FLOW_CMD_ADD, &m);
		assert_int_equal(ntohs(m.match.value.tcp_flags), cases[i].v);
		assert_int_equal(ntohs(m.match.mask.tcp_flags), cases[i].m);
		assert_true(flow_format(&m, true, &names, text, sizeof(text)) < sizeof(text));
		if (!strstr(text, cases[i].shown))
			fail_msg("\"%s\" -> \"%s\": no \"%s\"", cases[i].text, text, cases[i].shown);
		free(m.actions);
	}
}

/* In an icmp6 flow icmp_type and icmp_code are icmpv6_type and icmpv6_code (Open vSwitch's dump-flows writes them so). */
static void test_icmp6_names(void **state)
{
	struct flow_mod a, b;
	char text[256];

	parse_ok("icmp6,icmp_type=135,icmp_code=0,actions=drop", FLOW_CMD_ADD, &a);
	parse_ok("icmp6,icmpv6_type=135,icmpv6_code=0,actions=drop", FLOW_CMD_ADD, &b);
	assert_true(flow_match_equal(&a.match, &b.match));
	assert_true(flow_format(&a, true, &names, text, sizeof(text)) < sizeof(text));
	assert_non_null(strstr(text, "icmp6,icmpv6_type=135,icmpv6_code=0"));
	free(a.actions);
	free(b.actions);
	parse_bad("icmp6,icmp_type=135,icmpv6_type=136,actions=drop", FLOW_CMD_ADD, "contradicts");
}

static void test_keywords(void **state)
{
	struct flow_mod m;

	parse_ok("table=7,priority=65535,cookie=0x1234,idle_timeout=10,hard_timeout=65535,actions=drop", FLOW_CMD_ADD,
		 &m);
	assert_int_equal(m.table, 7);
	assert_int_equal(m.priority, 65535);
	assert_int_equal(m.cookie, 0x1234);
	assert_int_equal(m.idle_timeout_s, 10);
	assert_int_equal(m.hard_timeout_s, 65535);
	free(m.actions);

	parse_ok("cookie=0x5/0xff,tcp,out_port=vm2,table=255", FLOW_CMD_DELETE, &m);
	assert_int_equal(m.cookie_match, 5);
	assert_int_equal(m.cookie_mask, 0xff);
	assert_int_equal(m.out_port, 2);
	assert_int_equal(m.table, FLOW_TABLE_ANY);
	assert_null(m.actions);

	parse_ok("cookie=1/-1,cookie=2,actions=normal", FLOW_CMD_MODIFY, &m);
	assert_int_equal(m.cookie_match, 1);
	assert_int_equal(m.cookie_mask, UINT64_MAX);
	assert_int_equal(m.cookie, 2);
	assert_int_equal(m.set_cookie, 1);
	free(m.actions);

	parse_ok("reset_counts,actions=drop", FLOW_CMD_ADD, &m);
	assert_int_equal(m.reset_counts, 1);
	free(m.actions);
}

static void test_action_values(void **state)
{
	const struct flow_act *a;
	struct flow_mod m;

	parse_ok("ip,actions=mod_nw_tos:32,load:1->eth_dst[40],resubmit(,3),resubmit:2,mod_vlan_vid:100,"
		 "move:reg0[0..5]->reg1[26..31],clone(output:1,output:vm2),note:01.02,push_vlan:0x88a8,strip_vlan,"
		 "set_field:10.0.0.1/255.255.0.0->nw_dst,goto_table:9",
		 FLOW_CMD_ADD, &m);
	assert_int_equal(m.actions->n, 14);
	a = m.actions->a;
	assert_int_equal(a[0].type, FA_SET);
	assert_int_equal(a[0].field, FF_NW_TOS);
	assert_int_equal(a[0].val[0], 32);
	assert_int_equal(a[0].mask[0], 0xfc);	/* the ECN bits stay */
	assert_int_equal(a[1].type, FA_SET);
	assert_int_equal(a[1].field, FF_ETH_DST);
	assert_memory_equal(a[1].val, "\x01\0\0\0\0\0", 6);	/* bit 40: the multicast bit */
	assert_memory_equal(a[1].mask, "\x01\0\0\0\0\0", 6);
	assert_int_equal(a[2].type, FA_RESUBMIT);
	assert_int_equal(a[2].table, 3);
	assert_int_equal(a[2].port, FLOW_PORT_NONE);
	assert_int_equal(a[3].table, FLOW_TABLE_ANY);
	assert_int_equal(a[3].port, 2);
	assert_int_equal(a[4].type, FA_SET_VLAN_VID);
	assert_int_equal(a[4].port, 100);
	assert_int_equal(a[5].type, FA_MOVE);
	assert_int_equal(a[5].src_field, FF_REG0);
	assert_int_equal(a[5].field, FF_REG0 + 1);
	assert_int_equal(a[5].start, 26);
	assert_int_equal(a[5].n_bits, 6);
	assert_int_equal(a[6].type, FA_CLONE);
	assert_int_equal(a[6].n, 2);
	assert_int_equal(a[8].port, 2);
	assert_int_equal(a[9].type, FA_NOTE);
	assert_int_equal(a[9].n, 2);
	assert_memory_equal(flow_actions_notes(m.actions) + a[9].note_ofs, "\x01\x02", 2);
	assert_int_equal(a[10].port, 0x88a8);
	assert_int_equal(a[11].type, FA_POP_VLAN);
	assert_int_equal(a[12].field, FF_IPV4_DST);
	assert_memory_equal(a[12].val, "\x0a\x00\x00\x00", 4);
	assert_memory_equal(a[12].mask, "\xff\xff\x00\x00", 4);
	assert_int_equal(a[13].type, FA_GOTO_TABLE);
	assert_int_equal(a[13].table, 9);
	free(m.actions);
}

/*
 * The destination VTEP from the flows (a vxlan port with remote=flow):
 * set_field, load and move write tun_dst, and the dump prints each back
 * as it was written (fields by their ovs-fields(7) names).
 */
static void test_tun_dst_actions(void **state)
{
	const struct flow_act *a;
	struct flow_mod m;
	char text[512];

	parse_ok("ip,nw_dst=10.9.0.2,actions=set_field:172.31.0.2->tun_dst,load:0xc0000207->NXM_NX_TUN_IPV4_DST[],"
		 "move:reg1[]->tun_dst[],output:1",
		 FLOW_CMD_ADD, &m);
	assert_int_equal(m.actions->n, 4);
	a = m.actions->a;
	assert_int_equal(a[0].type, FA_SET);
	assert_int_equal(a[0].field, FF_TUN_DST);
	assert_memory_equal(a[0].val, "\xac\x1f\x00\x02", 4);
	assert_memory_equal(a[0].mask, "\xff\xff\xff\xff", 4);
	assert_int_equal(a[1].type, FA_SET);
	assert_int_equal(a[1].field, FF_TUN_DST);
	assert_memory_equal(a[1].val, "\xc0\x00\x02\x07", 4);
	assert_int_equal(a[2].type, FA_MOVE);
	assert_int_equal(a[2].src_field, FF_REG0 + 1);
	assert_int_equal(a[2].field, FF_TUN_DST);
	assert_int_equal(a[2].n_bits, 32);
	flow_format(&m, true, &names, text, sizeof(text));
	assert_string_equal(text, "priority=32768,ip,nw_dst=10.9.0.2 actions=set_field:172.31.0.2->tun_dst,"
				  "load:0xc0000207->tun_dst[],move:reg1[]->tun_dst[],output:vm1");
	free(m.actions);

	/* IPv6 underlays (ovs-fields(7) tun_ipv6_src, tun_ipv6_dst): words of their own, masks and prefixes. */
	parse_ok("tun_ipv6_src=fd00::7,tun_ipv6_dst=fd00:1::/32,actions=set_field:fd00::2->tun_ipv6_dst,output:1",
		 FLOW_CMD_ADD, &m);
	assert_memory_equal(m.match.value.tun_ipv6_src, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x07", 16);
	assert_memory_equal(m.match.mask.tun_ipv6_src, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
			    16);
	assert_memory_equal(m.match.value.tun_ipv6_dst, "\xfd\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_memory_equal(m.match.mask.tun_ipv6_dst, "\xff\xff\xff\xff\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(m.match.mask.tun_src | m.match.mask.tun_dst | m.match.mask.ipv6_src[0], 0);
	a = m.actions->a;
	assert_int_equal(a[0].type, FA_SET);
	assert_int_equal(a[0].field, FF_TUN_IPV6_DST);
	assert_memory_equal(a[0].val, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	flow_format(&m, true, &names, text, sizeof(text));
	assert_string_equal(text, "priority=32768,tun_ipv6_src=fd00::7,tun_ipv6_dst=fd00:1::/32 "
				  "actions=set_field:fd00::2->tun_ipv6_dst,output:vm1");
	free(m.actions);
}

/* "in_port" as an action or an output port is the input port, not a field to read a port from. */
static void test_in_port_word(void **state)
{
	struct flow_mod m;

	parse_ok("actions=in_port,output:in_port,IN_PORT,output:in_port[],output:NXM_OF_IN_PORT[]", FLOW_CMD_ADD, &m);
	assert_int_equal(m.actions->n, 5);
	assert_int_equal(m.actions->a[0].type, FA_IN_PORT);
	assert_int_equal(m.actions->a[1].type, FA_IN_PORT);
	assert_int_equal(m.actions->a[2].type, FA_IN_PORT);
	assert_int_equal(m.actions->a[3].type, FA_OUTPUT_FIELD);
	assert_int_equal(m.actions->a[4].type, FA_OUTPUT_FIELD);
	assert_int_equal(m.actions->a[4].field, FF_IN_PORT);
	free(m.actions);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *text;
		enum flow_parse_cmd cmd;
		const char *needle;
	} bad[] = {
		{ "tp_dst=80,actions=drop", FLOW_CMD_ADD, "tp_dst" },
		{ "ip,tp_dst=80,actions=drop", FLOW_CMD_ADD, "tcp" },
		{ "udp,tcp_dst=80,actions=drop", FLOW_CMD_ADD, "tcp_dst" },
		{ "nw_src=1.2.3.4,actions=drop", FLOW_CMD_ADD, "ip or arp" },
		{ "ipv6_src=::1,actions=drop", FLOW_CMD_ADD, "ipv6" },
		{ "ip,icmp_type=8,actions=drop", FLOW_CMD_ADD, "icmp_type" },
		{ "ipv6,icmp_code=0,actions=drop", FLOW_CMD_ADD, "icmp or icmp6" },
		{ "icmp,icmpv6_type=3,actions=drop", FLOW_CMD_ADD, "icmpv6_type" },
		{ "ip,actions=set_field:8->icmp_type", FLOW_CMD_ADD, "needs icmp" },
		/* A write of icmp_type stays ICMPv4's, as Open vSwitch has it (icmpv6_type is the ICMPv6 field to write). */
		{ "icmp6,actions=set_field:136->icmp_type", FLOW_CMD_ADD, "needs icmp" },
		{ "icmp6,actions=move:icmp_code[]->reg0[0..7]", FLOW_CMD_ADD, "icmp_code" },
		{ "ipv6,icmp_code=0,actions=drop", FLOW_CMD_ADD, "\"icmp6,icmp_code\"" },
		{ "arp_sha=00:00:00:00:00:01,actions=drop", FLOW_CMD_ADD, "arp" },
		{ "nw_ttl=3,actions=drop", FLOW_CMD_ADD, "nw_ttl" },
		{ "ip,ct_state=+trk,actions=drop", FLOW_CMD_ADD, "ct_state" },
		{ "sctp,actions=drop", FLOW_CMD_ADD, "sctp" },
		{ "actions=controller", FLOW_CMD_ADD, "controller" },
		{ "actions=output:LOCAL", FLOW_CMD_ADD, "LOCAL" },
		{ "actions=ct(commit)", FLOW_CMD_ADD, "\"ct\"" },
		{ "actions=learn(limit=10,eth_dst)", FLOW_CMD_ADD, "\"limit\"" },
		{ "actions=learn(delete_learned)", FLOW_CMD_ADD, "delete_learned" },
		{ "actions=learn(fin_idle_timeout=5)", FLOW_CMD_ADD, "fin_idle_timeout" },
		{ "actions=learn(result_dst=reg0[1])", FLOW_CMD_ADD, "result_dst" },
		{ "actions=learn(udp_dst=udp_src)", FLOW_CMD_ADD, "udp" },
		{ "udp,actions=learn(udp_dst=udp_src)", FLOW_CMD_ADD, "learned flow's match" },
		{ "udp,actions=learn(dl_type=0x800,udp_dst=udp_src)", FLOW_CMD_ADD, "learned flow's match" },
		{ "actions=learn(eth_dst=eth_src[0..7])", FLOW_CMD_ADD, "widths" },
		{ "actions=learn(load:0x100->reg0[0..7])", FLOW_CMD_ADD, "8 bits" },
		{ "actions=learn(load:in_port->reg0[0..7])", FLOW_CMD_ADD, "widths" },
		{ "actions=learn(load:0x1->nw_proto)", FLOW_CMD_ADD, "read-only" },
		{ "actions=learn(load:0x1)", FLOW_CMD_ADD, "SRC->DST" },
		{ "actions=learn(output:reg0[])", FLOW_CMD_ADD, "16 bits" },
		{ "actions=learn(output)", FLOW_CMD_ADD, "needs a field" },
		{ "actions=learn(eth_dst=01:02:03:04:05:06/ff:ff:ff:00:00:00)", FLOW_CMD_ADD, "no mask" },
		{ "actions=learn(reg0[0..3]=16)", FLOW_CMD_ADD, "4 bits" },
		{ "actions=learn(reg0[0..3]=x)", FLOW_CMD_ADD, "not a number" },
		{ "actions=learn(table=254)", FLOW_CMD_ADD, "0 to 253" },
		{ "actions=learn(priority=65536)", FLOW_CMD_ADD, "priority" },
		{ "actions=learn(foo=1)", FLOW_CMD_ADD, "\"foo\"" },
		{ "actions=learn(NXM_OF_ETH_TYPE[0..7]=0)", FLOW_CMD_ADD, "no mask" },
		{ "actions=learn(in_port[0..7])", FLOW_CMD_ADD, "no mask" },
		{ "ip,actions=learn(dl_type=0x800,nw_src,dl_type=0x86dd)", FLOW_CMD_ADD, "nw_src needs" },
		{ "ip,actions=learn(dl_type=0x800,nw_src,dl_type=reg0[0..15])", FLOW_CMD_ADD, "nw_src needs" },
		{ "ip,actions=learn(dl_type=0x800,load:nw_src[]->nw_dst[],dl_type=0x86dd)", FLOW_CMD_ADD, "nw_dst needs" },
		{ "actions=learn(eth_dst=nosuchfield[])", FLOW_CMD_ADD, "nosuchfield" },
		{ "actions=learn(in_port=nosuchport)", FLOW_CMD_ADD, "nosuchport" },
		{ "actions=learn", FLOW_CMD_ADD, "learn" },
		{ "actions=check_pkt_larger(1500)->reg0[0..1]", FLOW_CMD_ADD, "one bit" },
		{ "actions=check_pkt_larger(70000)->reg0[0]", FLOW_CMD_ADD, "0 to 65535" },
		{ "actions=check_pkt_larger(1500)", FLOW_CMD_ADD, "expected" },
		{ "actions=check_pkt_larger->reg0[0]", FLOW_CMD_ADD, "expected" },
		{ "actions=check_pkt_larger(1500)->nw_proto[0]", FLOW_CMD_ADD, "read-only" },
		{ "actions=pop:nw_proto", FLOW_CMD_ADD, "read-only" },
		{ "actions=push:tcp_dst[]", FLOW_CMD_ADD, "tcp" },
		{ "actions=push:nosuchfield[]", FLOW_CMD_ADD, "nosuchfield" },
		{ "actions=exit:1", FLOW_CMD_ADD, "takes no argument" },
		{ "actions=foo", FLOW_CMD_ADD, "foo" },
		{ "actions=output(port=1,max_len=100)", FLOW_CMD_ADD, "max_len" },
		{ "actions=set_field:1.2.3.4->nw_dst", FLOW_CMD_ADD, "needs ip" },
		{ "actions=load:1->tcp_dst[]", FLOW_CMD_ADD, "tcp" },
		{ "actions=set_field:5->nw_proto", FLOW_CMD_ADD, "read-only" },
		{ "actions=load:0x10000->reg0[0..15]", FLOW_CMD_ADD, "16 bits" },
		{ "actions=move:reg0[0..3]->reg1[0..4]", FLOW_CMD_ADD, "widths" },
		{ "actions=move:reg0[0..32]->reg1[]", FLOW_CMD_ADD, "out of" },
		{ "actions=load:1->reg9[]", FLOW_CMD_ADD, "reg9" },
		{ "in_port=nosuchport,actions=drop", FLOW_CMD_ADD, "nosuchport" },
		{ "actions=output:nosuchport", FLOW_CMD_ADD, "nosuchport" },
		{ "priority=70000,actions=drop", FLOW_CMD_ADD, "priority" },
		{ "table=254,actions=drop", FLOW_CMD_ADD, "0 to 253" },
		{ "ip,nw_tos=5,actions=drop", FLOW_CMD_ADD, "multiple of 4" },
		{ "dl_vlan=5000,actions=drop", FLOW_CMD_ADD, "dl_vlan" },
		{ "dl_vlan_pcp=8,actions=drop", FLOW_CMD_ADD, "out of range" },
		{ "ip,nw_dst=10.0.0.0/33,actions=drop", FLOW_CMD_ADD, "mask" },
		{ "ip,nw_dst=10.0.0.256,actions=drop", FLOW_CMD_ADD, "bad value" },
		{ "dl_src=00:11:22:33:44,actions=drop", FLOW_CMD_ADD, "dl_src" },
		{ "nw_proto=6/0xf,ip,actions=drop", FLOW_CMD_ADD, "cannot be masked" },
		{ "cookie=1/1,actions=drop", FLOW_CMD_ADD, "cookie mask" },
		{ "cookie=1", FLOW_CMD_DELETE, "cookie=1/-1" },
		{ "priority=1,actions=drop", FLOW_CMD_DELETE, "actions" },
		{ "idle_timeout=5", FLOW_CMD_DELETE, "idle_timeout" },
		{ "out_port=1,actions=drop", FLOW_CMD_ADD, "out_port" },
		{ "priority=1", FLOW_CMD_ADD, "must specify an action" },
		{ "actions=drop,output:1", FLOW_CMD_ADD, "drop" },
		{ "actions=clone(drop,output:1)", FLOW_CMD_ADD, "only action in clone()" },
		{ "actions=clone(output:1,drop)", FLOW_CMD_ADD, "only action in clone()" },
		{ "actions=clone(clone(drop),drop),output:1", FLOW_CMD_ADD, "only action in clone()" },
		{ "table=2,actions=goto_table:1", FLOW_CMD_ADD, "later table" },
		{ "actions=goto_table:3,output:1", FLOW_CMD_ADD, "last" },
		{ "actions=clone(goto_table:3)", FLOW_CMD_ADD, "clone" },
		{ "actions=resubmit(1,2,ct)", FLOW_CMD_ADD, "ct" },
		{ "actions=resubmit(,254)", FLOW_CMD_ADD, "0 to 253" },
		{ "actions=resubmit(,)", FLOW_CMD_ADD, "resubmit" },
		{ "actions=clone(clone(clone(clone(clone(output:1)))))", FLOW_CMD_ADD, "deeper" },
		{ "actions=clone(output:1", FLOW_CMD_ADD, "unbalanced '(' in the actions: \"clone(output:1\"" },
		{ "actions=output:1)", FLOW_CMD_ADD, "')'" },
		{ "tcp,udp,actions=drop", FLOW_CMD_ADD, "contradicts" },
		{ "ip,arp,actions=drop", FLOW_CMD_ADD, "arp" },
		{ "dl_vlan=0xffff,dl_vlan_pcp=3,actions=drop", FLOW_CMD_ADD, "contradicts" },
		{ "push_vlan:0x8100,actions=drop", FLOW_CMD_ADD, "push_vlan" },
		{ "actions=push_vlan:0x0800", FLOW_CMD_ADD, "TPID" },
		{ "actions=mod_vlan_vid:4096", FLOW_CMD_ADD, "4095" },
		{ "actions=mod_nw_tos:33", FLOW_CMD_ADD, "multiple of 4" },
		{ "actions=mod_nw_ecn:4", FLOW_CMD_ADD, "out of range" },
		{ "actions=note:0", FLOW_CMD_ADD, "hex" },
		{ "actions=strip_vlan:1", FLOW_CMD_ADD, "no argument" },
		{ "actions=mod_dl_src", FLOW_CMD_ADD, "needs an argument" },
		{ "actions=dec_ttl(x)", FLOW_CMD_ADD, "dec_ttl" },
		{ "check_overlap,actions=drop", FLOW_CMD_ADD, "check_overlap" },
		{ "ip,nw_src,actions=drop", FLOW_CMD_ADD, "missing value" },
		{ "reg0[0..8]=0x200,actions=drop", FLOW_CMD_ADD, "9 bits" },
		/* The outer source is the vxlan port's local=: flows cannot choose it. */
		{ "actions=set_field:fd00::9->tun_ipv6_src,output:1", FLOW_CMD_ADD, "local=" },
		{ "actions=load:1->NXM_NX_TUN_IPV6_SRC[0..7]", FLOW_CMD_ADD, "tun_ipv6_src is read-only" },
		{ "actions=set_field:10.0.0.1->tun_src", FLOW_CMD_ADD, "tun_src is read-only" },
		{ "actions=move:reg0[]->tun_src[]", FLOW_CMD_ADD, "local=" },
		{ "tun_ipv6_dst=10.0.0.1,actions=drop", FLOW_CMD_ADD, "tun_ipv6_dst" },
		{ "tun_ipv6_dst=fd00::/129,actions=drop", FLOW_CMD_ADD, "mask" },
		{ "tcp_flags=+syn,actions=drop", FLOW_CMD_ADD, "needs tcp" },
		{ "udp,tcp_flags=+syn,actions=drop", FLOW_CMD_ADD, "tcp_flags" },
		{ "tcp,tcp_flags=+syn+syn,actions=drop", FLOW_CMD_ADD, "only once" },
		{ "tcp,tcp_flags=+syn-foo,actions=drop", FLOW_CMD_ADD, "\"foo\"" },
		{ "tcp,tcp_flags=+syn|ack,actions=drop", FLOW_CMD_ADD, "\"syn|ack\"" },
		{ "tcp,tcp_flags=syn+ack,actions=drop", FLOW_CMD_ADD, "syn+ack" },
		{ "tcp,tcp_flags=syn|,actions=drop", FLOW_CMD_ADD, "'|'" },
		{ "tcp,tcp_flags=syn||ack,actions=drop", FLOW_CMD_ADD, "bad TCP flags" },
		{ "tcp,tcp_flags=0x1000,actions=drop", FLOW_CMD_ADD, "0x1000" },
		{ "tcp,tcp_flags=0x2/0x1012,actions=drop", FLOW_CMD_ADD, "mask" },
		{ "tcp,tcp_flags=+syn,tcp_flags=-syn,actions=drop", FLOW_CMD_ADD, "contradicts" },
		{ "tcp,actions=set_field:0x2->tcp_flags", FLOW_CMD_ADD, "read-only" },
		{ "tcp,actions=load:1->tcp_flags[1]", FLOW_CMD_ADD, "read-only" },
		{ "tcp,tcp_flags[12]=1,actions=drop", FLOW_CMD_ADD, "does not have" },
		{ "tcp,tcp_flags[12..15]=0/0xf,actions=drop", FLOW_CMD_ADD, "does not have" },
		{ "tcp,tcp_flags[]=0x12/0xffff,actions=drop", FLOW_CMD_ADD, "does not have" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_bad(bad[i].text, bad[i].cmd, bad[i].needle);
}

/* parse -> format -> parse gives the same flow, and formatting is then stable. */
static void round_trip(const char *text, enum flow_parse_cmd cmd)
{
	char t1[1024], t2[1024];
	struct flow_mod a, b;
	bool acts = cmd != FLOW_CMD_DELETE;

	parse_ok(text, cmd, &a);
	assert_true(flow_format(&a, acts, &names, t1, sizeof(t1)) < sizeof(t1));
	parse_ok(t1, cmd, &b);
	if (!flow_match_equal(&a.match, &b.match) || !flow_actions_equal(a.actions, b.actions) ||
	    a.table != b.table || a.priority != b.priority || a.cookie != b.cookie || a.cookie_mask != b.cookie_mask ||
	    a.cookie_match != b.cookie_match || a.idle_timeout_s != b.idle_timeout_s ||
	    a.hard_timeout_s != b.hard_timeout_s || a.out_port != b.out_port)
		fail_msg("\"%s\" -> \"%s\": not the same flow", text, t1);
	flow_format(&b, acts, &names, t2, sizeof(t2));
	if (strcmp(t1, t2))
		fail_msg("\"%s\" -> \"%s\" -> \"%s\"", text, t1, t2);
	free(a.actions);
	free(b.actions);
}

/*
 * learn (flow/learn.h): how the specs compile, and the dump as ovs-ofctl
 * prints the action (learn_format(): table first, fields by their NXM
 * names); 32 specs at most.
 */
static void test_learn(void **state)
{
	const struct flow_act *a;
	struct flow_learn_args g;
	struct flow_mod m;
	char text[1024], many[2048];
	flow_u128 v;
	size_t n = 0;

	parse_ok("table=2 actions=learn(table=10, NXM_OF_VLAN_TCI[0..11], NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[], "
		 "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15]), resubmit(,3)", FLOW_CMD_ADD, &m);
	assert_int_equal(m.actions->n, 5);
	a = m.actions->a;
	assert_int_equal(a[0].type, FA_LEARN);
	assert_int_equal(a[0].table, 10);
	assert_int_equal(a[0].port, FLOW_PRIORITY_DEFAULT);
	assert_int_equal(a[0].n, 3);
	assert_int_equal(a[1].type, FA_LEARN_SPEC);
	assert_int_equal(a[1].syntax, FLK_MATCH_FIELD);
	assert_int_equal(a[1].field, FF_VLAN_TCI);
	assert_int_equal(a[1].src_field, FF_VLAN_TCI);
	assert_int_equal(a[1].n_bits, 12);
	assert_int_equal(a[2].syntax, FLK_MATCH_FIELD);
	assert_int_equal(a[2].field, FF_ETH_DST);
	assert_int_equal(a[2].src_field, FF_ETH_SRC);
	assert_int_equal(a[3].syntax, FLK_LOAD_FIELD);
	assert_int_equal(a[3].field, FF_REG0);
	assert_int_equal(a[3].src_field, FF_IN_PORT);
	assert_int_equal(a[3].n_bits, 16);
	assert_int_equal(a[4].type, FA_RESUBMIT);
	flow_format_actions(m.actions, &names, text, sizeof(text));
	assert_string_equal(text, "learn(table=10,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
				  "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15]),resubmit(,3)");
	free(m.actions);

	parse_ok("ip,actions=learn(table=3,priority=7,idle_timeout=10,hard_timeout=20,cookie=0x5,send_flow_rem,"
		 "eth_type=0x800,ip_dst=10.0.0.1,reg0[3..5]=5,in_port=vm2,load:0x7->reg1[],output:reg2[0..15])",
		 FLOW_CMD_ADD, &m);
	a = m.actions->a;
	assert_int_equal(a[0].n, 6);
	g = flow_learn_args(&a[0]);
	assert_int_equal(g.cookie, 5);
	assert_int_equal(g.idle_timeout_s, 10);
	assert_int_equal(g.hard_timeout_s, 20);
	assert_int_equal(g.send_flow_rem, 1);
	assert_int_equal(a[0].port, 7);
	assert_int_equal(a[2].syntax, FLK_MATCH_IMM);
	memcpy(&v, a[2].val, sizeof(v));
	assert_true(v == 0x0a000001);
	assert_int_equal(a[3].start, 3);
	assert_int_equal(a[3].n_bits, 3);
	assert_int_equal(a[5].syntax, FLK_LOAD_IMM);
	assert_int_equal(a[6].syntax, FLK_OUTPUT);
	assert_int_equal(a[6].src_field, FF_REG0 + 2);
	flow_format_actions(m.actions, &names, text, sizeof(text));
	assert_string_equal(text, "learn(table=3,idle_timeout=10,hard_timeout=20,priority=7,send_flow_rem,cookie=0x5,"
				  "dl_type=0x800,nw_dst=10.0.0.1,NXM_NX_REG0[3..5]=0x5,in_port=vm2,"
				  "load:0x7->NXM_NX_REG1[],output:NXM_NX_REG2[0..15])");
	free(m.actions);

	/* 32 specs: taken; 33: refused. */
	n = (size_t)snprintf(many, sizeof(many), "actions=learn(table=5");
	for (unsigned i = 0; i < 32; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, ",reg%u[%u]=1", i % 8, i / 8);
	snprintf(many + n, sizeof(many) - n, ")");
	parse_ok(many, FLOW_CMD_ADD, &m);
	assert_int_equal(m.actions->a[0].n, FLOW_LEARN_SPECS_MAX);
	free(m.actions);
	snprintf(many + n, sizeof(many) - n, ",reg7[31]=1)");
	parse_bad(many, FLOW_CMD_ADD, "more than 32");
}

static void test_round_trip(void **state)
{
	char text[256];
	struct flow_mod m;

	for (size_t i = 0; i < sizeof(good_flows) / sizeof(good_flows[0]); i++)
		round_trip(good_flows[i], FLOW_CMD_ADD);
	round_trip("cookie=0x5/0xff,tcp,out_port=vm2,table=3,priority=9", FLOW_CMD_DELETE);
	round_trip("in_port=vm1,ip,nw_src=10.0.0.0/255.0.255.0", FLOW_CMD_DELETE);

	parse_ok("table=1,priority=100,in_port=vm1,tcp,nw_dst=10.0.0.0/8,tp_dst=0x1000/0xf000 "
		 "actions=mod_dl_dst:02:00:00:00:00:01,dec_ttl,resubmit(,2),output:2",
		 FLOW_CMD_ADD, &m);
	flow_format(&m, true, &names, text, sizeof(text));
	assert_string_equal(text, "table=1,priority=100,tcp,in_port=vm1,nw_dst=10.0.0.0/8,tp_dst=0x1000/0xf000 "
				  "actions=mod_dl_dst:02:00:00:00:00:01,dec_ttl,resubmit(,2),output:vm2");
	/* Truncation: snprintf's contract. */
	assert_int_equal(flow_format(&m, true, &names, text, 10), strlen("table=1,priority=100,tcp,in_port=vm1,"
									  "nw_dst=10.0.0.0/8,tp_dst=0x1000/0xf000 "
									  "actions=mod_dl_dst:02:00:00:00:00:01,"
									  "dec_ttl,resubmit(,2),output:vm2"));
	assert_int_equal(strlen(text), 9);
	free(m.actions);
}

/*
 * Port 0 is OpenFlow's reserved port, never a port (ports are numbered
 * from 1, as in Open vSwitch; ovs-ofctl calls output:0 an invalid port):
 * wherever a flow names a port, 0 is refused naming the token, not taken
 * as a port no frame comes from.  Written into in_port (set_field, load),
 * 0 is a value, Open vSwitch's way to let output go back to the input
 * port: accepted.
 */
static void test_port_zero(void **state)
{
	static const struct {
		const char *text;
		enum flow_parse_cmd cmd;
	} bad[] = {
		{ "in_port=0,actions=drop", FLOW_CMD_ADD },	 { "in_port=1,actions=output:0", FLOW_CMD_ADD },
		{ "actions=2,0", FLOW_CMD_ADD },		 { "actions=resubmit(0,1)", FLOW_CMD_ADD },
		{ "actions=resubmit:0", FLOW_CMD_ADD },		 { "out_port=0", FLOW_CMD_DELETE },
		{ "in_port=00,actions=drop", FLOW_CMD_ADD },	 { "actions=clone(output:0)", FLOW_CMD_ADD },
	};
	struct flow_mod m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *zero = strstr(bad[i].text, "00") ? "port \"00\"" : "port \"0\"";

		parse_bad(bad[i].text, bad[i].cmd, zero);
		parse_bad(bad[i].text, bad[i].cmd, "0 is OpenFlow's reserved port, never a port (numbers start at 1");
	}
	parse_ok("in_port=1,actions=set_field:0->in_port,output:1", FLOW_CMD_ADD, &m);
	free(m.actions);
	round_trip("in_port=1,actions=set_field:0->in_port,output:1", FLOW_CMD_ADD);
	round_trip("in_port=1,actions=load:0->NXM_OF_IN_PORT[],output:1", FLOW_CMD_ADD);
}

static void test_parse_actions_only(void **state)
{
	struct flow_actions *acts;
	struct flow_match match;
	char err[FLOW_ERR_MAX];

	memset(&match, 0, sizeof(match));
	assert_int_equal(flow_parse_actions("output:1,normal", &match, 0, &names, &acts, err, sizeof(err)), 0);
	assert_int_equal(acts->n, 2);
	free(acts);
	assert_int_equal(flow_parse_actions("set_field:1.1.1.1->nw_src", &match, 0, &names, &acts, err, sizeof(err)),
			 -EINVAL);
	match.mask.dl_type = 0xffff;
	match.value.dl_type = htons(0x0800);
	assert_int_equal(flow_parse_actions("set_field:1.1.1.1->nw_src", &match, 0, &names, &acts, err, sizeof(err)),
			 0);
	free(acts);
	/* No message buffer: still refused. */
	assert_int_equal(flow_parse("actions=bogus", FLOW_CMD_ADD, NULL, &(struct flow_mod){ 0 }, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_flows),
		cmocka_unit_test(test_match_values),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_action_values),
		cmocka_unit_test(test_in_port_word),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_port_zero),
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tcp_flags),
		cmocka_unit_test(test_icmp6_names),
		cmocka_unit_test(test_tun_dst_actions),
		cmocka_unit_test(test_parse_actions_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
