/* field.c - the flow field table, prerequisites, and bit access to fields of a key. */
#include "flow/field.h"

#include <arpa/inet.h>
#include <string.h>

#define KOFS(m) ((uint8_t)offsetof(struct flow_key, m))
#define KLEN(m) ((uint8_t)sizeof(((struct flow_key *)0)->m))
#define ALL ~0ull

/* A field that is its storage: @bits of the member @m. */
#define WHOLE(m, bits) .ofs = KOFS(m), .len = KLEN(m), .shift = 0, .n_bits = (bits)

#define REG(i)                                                                                          \
	[FF_REG0 + i] = { { "reg" #i, "NXM_NX_REG" #i }, .ofs = (uint8_t)(KOFS(regs) + 4 * (i)), .len = 4,  \
			  .n_bits = 32, .syntax = FS_HEX, .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffffffffull }

const struct flow_field flow_fields[FF__COUNT] = {
	[FF_IN_PORT] = { { "in_port", "NXM_OF_IN_PORT", "OXM_OF_IN_PORT" }, WHOLE(in_port, 16), .syntax = FS_PORT,
			 .flags = FF_WRITABLE, .valid = 0xffff },
	[FF_ETH_SRC] = { { "dl_src", "eth_src", "NXM_OF_ETH_SRC", "OXM_OF_ETH_SRC" }, WHOLE(dl_src, 48),
			 .syntax = FS_MAC, .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffffffffffffull },
	[FF_ETH_DST] = { { "dl_dst", "eth_dst", "NXM_OF_ETH_DST", "OXM_OF_ETH_DST" }, WHOLE(dl_dst, 48),
			 .syntax = FS_MAC, .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffffffffffffull },
	[FF_ETH_TYPE] = { { "dl_type", "eth_type", "NXM_OF_ETH_TYPE", "OXM_OF_ETH_TYPE" }, WHOLE(dl_type, 16),
			  .syntax = FS_HEX, .valid = 0xffff },
	[FF_VLAN_TCI] = { { "vlan_tci", "NXM_OF_VLAN_TCI" }, WHOLE(vlan_tci, 16), .syntax = FS_HEX,
			  .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffff },
	[FF_DL_VLAN] = { { "dl_vlan" }, WHOLE(vlan_tci, 12), .syntax = FS_DEC, .flags = FF_WRITABLE | FF_SETS_TAG,
			 .valid = 0xfff },
	[FF_VLAN_VID] = { { "vlan_vid", "OXM_OF_VLAN_VID" }, WHOLE(vlan_tci, 13), .syntax = FS_DEC,
			  .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0x1fff },
	[FF_VLAN_PCP] = { { "dl_vlan_pcp", "vlan_pcp", "OXM_OF_VLAN_PCP" }, .ofs = KOFS(vlan_tci), .len = 2,
			  .shift = 13, .n_bits = 3, .syntax = FS_DEC, .flags = FF_WRITABLE | FF_SETS_TAG, .valid = 7 },
	[FF_IPV4_SRC] = { { "nw_src", "ip_src", "NXM_OF_IP_SRC", "OXM_OF_IPV4_SRC" }, WHOLE(nw_src, 32),
			  .match_prereq = FP_IPV4_ARP, .prereq = FP_IPV4, .syntax = FS_IPV4,
			  .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffffffffull },
	[FF_IPV4_DST] = { { "nw_dst", "ip_dst", "NXM_OF_IP_DST", "OXM_OF_IPV4_DST" }, WHOLE(nw_dst, 32),
			  .match_prereq = FP_IPV4_ARP, .prereq = FP_IPV4, .syntax = FS_IPV4,
			  .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffffffffull },
	[FF_IPV6_SRC] = { { "ipv6_src", "NXM_NX_IPV6_SRC", "OXM_OF_IPV6_SRC" }, WHOLE(ipv6_src, 128),
			  .match_prereq = FP_IPV6, .prereq = FP_IPV6, .syntax = FS_IPV6,
			  .flags = FF_MASKABLE | FF_WRITABLE, .valid = ALL },
	[FF_IPV6_DST] = { { "ipv6_dst", "NXM_NX_IPV6_DST", "OXM_OF_IPV6_DST" }, WHOLE(ipv6_dst, 128),
			  .match_prereq = FP_IPV6, .prereq = FP_IPV6, .syntax = FS_IPV6,
			  .flags = FF_MASKABLE | FF_WRITABLE, .valid = ALL },
	[FF_NW_PROTO] = { { "nw_proto", "ip_proto", "NXM_OF_IP_PROTO", "OXM_OF_IP_PROTO" }, WHOLE(nw_proto, 8),
			  .match_prereq = FP_IP_ARP, .prereq = FP_IP_ANY, .syntax = FS_DEC, .valid = 0xff },
	[FF_NW_TOS] = { { "nw_tos", "NXM_OF_IP_TOS" }, WHOLE(nw_tos, 8), .match_prereq = FP_IP_ANY,
			.prereq = FP_IP_ANY, .syntax = FS_DEC, .flags = FF_WRITABLE, .valid = 0xfc },
	[FF_IP_DSCP] = { { "ip_dscp", "OXM_OF_IP_DSCP" }, .ofs = KOFS(nw_tos), .len = 1, .shift = 2, .n_bits = 6,
			 .match_prereq = FP_IP_ANY, .prereq = FP_IP_ANY, .syntax = FS_DEC, .flags = FF_WRITABLE,
			 .valid = 0x3f },
	[FF_NW_ECN] = { { "nw_ecn", "ip_ecn", "NXM_NX_IP_ECN", "OXM_OF_IP_ECN" }, WHOLE(nw_tos, 2),
			.match_prereq = FP_IP_ANY, .prereq = FP_IP_ANY, .syntax = FS_DEC, .flags = FF_WRITABLE,
			.valid = 3 },
	[FF_NW_TTL] = { { "nw_ttl", "NXM_NX_IP_TTL" }, WHOLE(nw_ttl, 8), .match_prereq = FP_IP_ANY,
			.prereq = FP_IP_ANY, .syntax = FS_DEC, .flags = FF_WRITABLE, .valid = 0xff },
	[FF_IP_FRAG] = { { "ip_frag", "nw_frag", "NXM_NX_IP_FRAG" }, WHOLE(nw_frag, 2), .match_prereq = FP_IP_ANY,
			 .prereq = FP_IP_ANY, .syntax = FS_FRAG, .flags = FF_MASKABLE, .valid = 3 },
	[FF_TP_SRC] = { { "tp_src" }, WHOLE(tp_src, 16), .match_prereq = FP_L4, .prereq = FP_L4, .syntax = FS_DEC,
			.flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffff },
	[FF_TP_DST] = { { "tp_dst" }, WHOLE(tp_dst, 16), .match_prereq = FP_L4, .prereq = FP_L4, .syntax = FS_DEC,
			.flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffff },
	[FF_TCP_SRC] = { { "tcp_src", "NXM_OF_TCP_SRC", "OXM_OF_TCP_SRC" }, WHOLE(tp_src, 16), .match_prereq = FP_TCP,
			 .prereq = FP_TCP, .syntax = FS_DEC, .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffff },
	[FF_TCP_DST] = { { "tcp_dst", "NXM_OF_TCP_DST", "OXM_OF_TCP_DST" }, WHOLE(tp_dst, 16), .match_prereq = FP_TCP,
			 .prereq = FP_TCP, .syntax = FS_DEC, .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffff },
	[FF_UDP_SRC] = { { "udp_src", "NXM_OF_UDP_SRC", "OXM_OF_UDP_SRC" }, WHOLE(tp_src, 16), .match_prereq = FP_UDP,
			 .prereq = FP_UDP, .syntax = FS_DEC, .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffff },
	[FF_UDP_DST] = { { "udp_dst", "NXM_OF_UDP_DST", "OXM_OF_UDP_DST" }, WHOLE(tp_dst, 16), .match_prereq = FP_UDP,
			 .prereq = FP_UDP, .syntax = FS_DEC, .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffff },
	/*
	 * icmp_type and icmp_code matched in an icmp6 flow are the ICMPv6 type
	 * and code (the same key bytes): Open vSwitch takes them so and its
	 * dump-flows writes ICMPv6 matches that way (icmp6,icmp_type=135).  A
	 * write stays ICMPv4's (OVS refuses set_field:..->icmp_type in an icmp6
	 * flow: icmpv6_type is the field to write).
	 */
	[FF_ICMP_TYPE] = { { "icmp_type", "NXM_OF_ICMP_TYPE", "OXM_OF_ICMPV4_TYPE" }, WHOLE(tp_src, 8),
			   .match_prereq = FP_ICMP_ANY, .prereq = FP_ICMP4, .syntax = FS_DEC, .flags = FF_WRITABLE,
			   .valid = 0xff },
	[FF_ICMP_CODE] = { { "icmp_code", "NXM_OF_ICMP_CODE", "OXM_OF_ICMPV4_CODE" }, WHOLE(tp_dst, 8),
			   .match_prereq = FP_ICMP_ANY, .prereq = FP_ICMP4, .syntax = FS_DEC, .flags = FF_WRITABLE,
			   .valid = 0xff },
	[FF_ICMPV6_TYPE] = { { "icmpv6_type", "NXM_NX_ICMPV6_TYPE", "OXM_OF_ICMPV6_TYPE" }, WHOLE(tp_src, 8),
			     .match_prereq = FP_ICMP6, .prereq = FP_ICMP6, .syntax = FS_DEC, .flags = FF_WRITABLE,
			     .valid = 0xff },
	[FF_ICMPV6_CODE] = { { "icmpv6_code", "NXM_NX_ICMPV6_CODE", "OXM_OF_ICMPV6_CODE" }, WHOLE(tp_dst, 8),
			     .match_prereq = FP_ICMP6, .prereq = FP_ICMP6, .syntax = FS_DEC, .flags = FF_WRITABLE,
			     .valid = 0xff },
	[FF_ARP_OP] = { { "arp_op", "NXM_OF_ARP_OP", "OXM_OF_ARP_OP" }, WHOLE(nw_proto, 8), .match_prereq = FP_ARP,
			.prereq = FP_ARP, .syntax = FS_DEC, .flags = FF_WRITABLE, .valid = 0xff },
	[FF_ARP_SPA] = { { "arp_spa", "NXM_OF_ARP_SPA", "OXM_OF_ARP_SPA" }, WHOLE(nw_src, 32), .match_prereq = FP_ARP,
			 .prereq = FP_ARP, .syntax = FS_IPV4, .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffffffffull },
	[FF_ARP_TPA] = { { "arp_tpa", "NXM_OF_ARP_TPA", "OXM_OF_ARP_TPA" }, WHOLE(nw_dst, 32), .match_prereq = FP_ARP,
			 .prereq = FP_ARP, .syntax = FS_IPV4, .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffffffffull },
	[FF_ARP_SHA] = { { "arp_sha", "NXM_NX_ARP_SHA", "OXM_OF_ARP_SHA" }, WHOLE(arp_sha, 48), .match_prereq = FP_ARP,
			 .prereq = FP_ARP, .syntax = FS_MAC, .flags = FF_MASKABLE | FF_WRITABLE,
			 .valid = 0xffffffffffffull },
	[FF_ARP_THA] = { { "arp_tha", "NXM_NX_ARP_THA", "OXM_OF_ARP_THA" }, WHOLE(arp_tha, 48), .match_prereq = FP_ARP,
			 .prereq = FP_ARP, .syntax = FS_MAC, .flags = FF_MASKABLE | FF_WRITABLE,
			 .valid = 0xffffffffffffull },
	[FF_TUN_ID] = { { "tun_id", "tunnel_id", "NXM_NX_TUN_ID", "OXM_OF_TUNNEL_ID" }, WHOLE(tun_id, 64),
			.syntax = FS_HEX, .flags = FF_MASKABLE | FF_WRITABLE, .valid = ALL },
	/* The outer source is always the vxlan port's local=: tun_src and tun_ipv6_src are read-only (check_write). */
	[FF_TUN_SRC] = { { "tun_src", "NXM_NX_TUN_IPV4_SRC" }, WHOLE(tun_src, 32), .syntax = FS_IPV4,
			 .flags = FF_MASKABLE, .valid = 0xffffffffull },
	[FF_TUN_DST] = { { "tun_dst", "NXM_NX_TUN_IPV4_DST" }, WHOLE(tun_dst, 32), .syntax = FS_IPV4,
			 .flags = FF_MASKABLE | FF_WRITABLE, .valid = 0xffffffffull },
	[FF_METADATA] = { { "metadata", "OXM_OF_METADATA" }, WHOLE(metadata, 64), .syntax = FS_HEX,
			  .flags = FF_MASKABLE | FF_WRITABLE, .valid = ALL },
	REG(0), REG(1), REG(2), REG(3), REG(4), REG(5), REG(6), REG(7),
	[FF_TUN_IPV6_SRC] = { { "tun_ipv6_src", "NXM_NX_TUN_IPV6_SRC" }, WHOLE(tun_ipv6_src, 128),
			      .syntax = FS_IPV6, .flags = FF_MASKABLE, .valid = ALL },
	[FF_TUN_IPV6_DST] = { { "tun_ipv6_dst", "NXM_NX_TUN_IPV6_DST" }, WHOLE(tun_ipv6_dst, 128),
			      .syntax = FS_IPV6, .flags = FF_MASKABLE | FF_WRITABLE, .valid = ALL },
	/* Read-only, as in Open vSwitch: a flow may match and move it, not write it. */
	[FF_TCP_FLAGS] = { { "tcp_flags", "NXM_NX_TCP_FLAGS", "OXM_OF_TCP_FLAGS" }, WHOLE(tcp_flags, 16),
			   .match_prereq = FP_TCP, .prereq = FP_TCP, .syntax = FS_TCP_FLAGS, .flags = FF_MASKABLE,
			   .valid = FLOW_TCP_FLAGS_MASK },
};

static const char *const tcp_flag_names[FLOW_TCP_FLAG_BITS] = {
	"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]",
};

const char *flow_tcp_flag_name(unsigned bit)
{
	return bit < FLOW_TCP_FLAG_BITS ? tcp_flag_names[bit] : NULL;
}

unsigned flow_tcp_flag_by_name(const char *name, size_t len)
{
	for (unsigned i = 0; i < FLOW_TCP_FLAG_BITS; i++)
		if (strlen(tcp_flag_names[i]) == len && memcmp(tcp_flag_names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

const struct flow_field *flow_field_by_name(const char *name, size_t len)
{
	for (unsigned i = 0; i < FF__COUNT; i++)
		for (unsigned j = 0; j < FF_NAMES && flow_fields[i].names[j]; j++)
			if (strlen(flow_fields[i].names[j]) == len && memcmp(flow_fields[i].names[j], name, len) == 0)
				return &flow_fields[i];
	return NULL;
}

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_RARP 0x8035
#define ETH_P_IPV6 0x86dd

/* The prerequisite @p on an exact dl_type @type and nw_proto @proto (-1 when not known exactly). */
static bool prereq_holds(enum flow_prereq p, int type, int proto)
{
	bool v4 = type == ETH_P_IP, v6 = type == ETH_P_IPV6, arp = type == ETH_P_ARP || type == ETH_P_RARP;

	switch (p) {
	case FP_NONE:
		return true;
	case FP_IPV4:
		return v4;
	case FP_IPV6:
		return v6;
	case FP_IP_ANY:
		return v4 || v6;
	case FP_ARP:
		return arp;
	case FP_IPV4_ARP:
		return v4 || arp;
	case FP_IP_ARP:
		return v4 || v6 || arp;
	case FP_L4:
		return (v4 || v6) && (proto == 6 || proto == 17);
	case FP_TCP:
		return (v4 || v6) && proto == 6;
	case FP_UDP:
		return (v4 || v6) && proto == 17;
	case FP_ICMP4:
		return v4 && proto == 1;
	case FP_ICMP6:
		return v6 && proto == 58;
	case FP_ICMP_ANY:
		return (v4 && proto == 1) || (v6 && proto == 58);
	}
	return false;
}

bool flow_prereq_in_match(enum flow_prereq p, const struct flow_match *m)
{
	int type = m->mask.dl_type == 0xffff ? ntohs(m->value.dl_type) : -1;
	int proto = m->mask.nw_proto == 0xff ? m->value.nw_proto : -1;

	return prereq_holds(p, type, proto);
}

bool flow_prereq_in_key(enum flow_prereq p, const struct flow_key *k)
{
	if (flow_prereq_l4(p) && (k->nw_frag & FLOW_FRAG_LATER))
		return false;	/* a later fragment carries no L4 header */
	return prereq_holds(p, ntohs(k->dl_type), k->nw_proto);
}

const char *flow_prereq_name(enum flow_prereq p)
{
	static const char *const names[] = {
		[FP_NONE] = "nothing",
		[FP_IPV4] = "ip",
		[FP_IPV6] = "ipv6",
		[FP_IP_ANY] = "ip or ipv6",
		[FP_ARP] = "arp",
		[FP_IPV4_ARP] = "ip or arp",
		[FP_IP_ARP] = "ip, ipv6 or arp",
		[FP_L4] = "tcp, udp, tcp6 or udp6",
		[FP_TCP] = "tcp or tcp6",
		[FP_UDP] = "udp or udp6",
		[FP_ICMP4] = "icmp",
		[FP_ICMP6] = "icmp6",
		[FP_ICMP_ANY] = "icmp or icmp6",
	};

	return p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}

/* The @len (<= 16) key bytes at @ofs as a big-endian number. */
static unsigned __int128 load_be(const uint8_t *b, unsigned len)
{
	unsigned __int128 v = 0;

	for (unsigned i = 0; i < len; i++)
		v = v << 8 | b[i];
	return v;
}

static void store_be(uint8_t *b, unsigned len, unsigned __int128 v)
{
	for (unsigned i = len; i-- > 0;) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
}

static unsigned __int128 get128(const struct flow_field *f, const struct flow_key *k, unsigned start, unsigned n)
{
	return (load_be(k->b + f->ofs, f->len) >> (f->shift + start)) & flow_ones(n);
}

static void set128(const struct flow_field *f, struct flow_key *k, unsigned start, unsigned n, unsigned __int128 v)
{
	unsigned sh = f->shift + start;
	unsigned __int128 m = flow_ones(n) << sh, cur = load_be(k->b + f->ofs, f->len);

	store_be(k->b + f->ofs, f->len, (cur & ~m) | ((v << sh) & m));
}

flow_u128 flow_field_get128(const struct flow_field *f, const struct flow_key *k, unsigned start, unsigned n)
{
	return get128(f, k, start, n);
}

void flow_field_set128(const struct flow_field *f, struct flow_key *k, unsigned start, unsigned n, flow_u128 v)
{
	set128(f, k, start, n, v);
}

flow_u128 flow_field_valid(const struct flow_field *f)
{
	return f->n_bits > 64 ? flow_ones(f->n_bits) : f->valid;
}

uint64_t flow_field_get_bits(const struct flow_field *f, const struct flow_key *k, unsigned start, unsigned n)
{
	return (uint64_t)get128(f, k, start, n);
}

void flow_field_copy_bits(const struct flow_field *src, const struct flow_key *from, unsigned src_start,
			  const struct flow_field *dst, struct flow_key *to, unsigned dst_start, unsigned n)
{
	set128(dst, to, dst_start, n, get128(src, from, src_start, n));
}

const struct flow_frag_name flow_frag_names[FLOW_FRAG_NAMES] = {
	{ "no", 0, FLOW_FRAG_ANY },
	{ "yes", FLOW_FRAG_ANY, FLOW_FRAG_ANY },
	{ "first", FLOW_FRAG_ANY, FLOW_FRAG_ANY | FLOW_FRAG_LATER },
	{ "later", FLOW_FRAG_ANY | FLOW_FRAG_LATER, FLOW_FRAG_ANY | FLOW_FRAG_LATER },
	{ "not_later", 0, FLOW_FRAG_LATER },
};
