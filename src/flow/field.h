/* field.h - the table of flow fields: names (ovs-fields(7), NXM, OXM), where each lives in the key, what it needs, how it is written. */
#ifndef VSW_FLOW_FIELD_H
#define VSW_FLOW_FIELD_H

/*
 * One row per field a flow can match or an action can write.  A field is
 * @n_bits bits of the big-endian number formed by the @len key bytes at
 * @ofs, starting @shift bits from its least significant end; @valid says
 * which of those bits exist (nw_tos: the six DSCP bits, 0xfc).  Several
 * fields share storage (tp_src, tcp_src, icmp_type; vlan_tci, dl_vlan,
 * vlan_pcp), as in Open vSwitch.  Bit numbers in subfields (reg0[0..15])
 * count from the field's least significant bit.
 *
 * Prerequisites are those of ovs-fields(7): a flow may match tp_dst only
 * if it matches TCP or UDP, and an action may write nw_src only in a flow
 * that matches IPv4.  At run time a write whose prerequisites the packet
 * does not meet is skipped, as Open vSwitch does.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/key.h"

enum flow_field_id {
	FF_IN_PORT,
	FF_ETH_SRC,
	FF_ETH_DST,
	FF_ETH_TYPE,
	FF_VLAN_TCI,
	FF_DL_VLAN,
	FF_VLAN_VID,
	FF_VLAN_PCP,
	FF_IPV4_SRC,
	FF_IPV4_DST,
	FF_IPV6_SRC,
	FF_IPV6_DST,
	FF_NW_PROTO,
	FF_NW_TOS,
	FF_IP_DSCP,
	FF_NW_ECN,
	FF_NW_TTL,
	FF_IP_FRAG,
	FF_TP_SRC,
	FF_TP_DST,
	FF_TCP_SRC,
	FF_TCP_DST,
	FF_UDP_SRC,
	FF_UDP_DST,
	FF_ICMP_TYPE,
	FF_ICMP_CODE,
	FF_ICMPV6_TYPE,
	FF_ICMPV6_CODE,
	FF_ARP_OP,
	FF_ARP_SPA,
	FF_ARP_TPA,
	FF_ARP_SHA,
	FF_ARP_THA,
	FF_TUN_ID,
	FF_TUN_SRC,
	FF_TUN_DST,
	FF_METADATA,
	FF_REG0,
	FF_REG7 = FF_REG0 + 7,
	FF_TUN_IPV6_SRC,	/* after the registers: the ids before them stay what they were */
	FF_TUN_IPV6_DST,
	FF_TCP_FLAGS,		/* after them, for the same reason */
	FF__COUNT
};

/* What a flow must match (or a packet must be) for a field to exist. */
enum flow_prereq {
	FP_NONE,
	FP_IPV4,
	FP_IPV6,
	FP_IP_ANY,		/* IPv4 or IPv6 */
	FP_ARP,			/* ARP or RARP */
	FP_IPV4_ARP,		/* nw_src, nw_dst in a match: IPv4 or ARP */
	FP_IP_ARP,		/* nw_proto in a match: IPv4, IPv6 or ARP (the opcode) */
	FP_L4,			/* TCP or UDP over IPv4 or IPv6 */
	FP_TCP,
	FP_UDP,
	FP_ICMP4,
	FP_ICMP6,
	FP_ICMP_ANY,		/* ICMP or ICMPv6: icmp_type and icmp_code, as Open vSwitch takes (and dumps) them for icmp6 too */
};

/* How a field's values are written in flow syntax. */
enum flow_syntax {
	FS_DEC,
	FS_HEX,
	FS_MAC,
	FS_IPV4,
	FS_IPV6,
	FS_PORT,		/* a port number or a name the caller resolves */
	FS_FRAG,		/* no, yes, first, later, not_later */
	FS_TCP_FLAGS,		/* syn|ack (every flag: these set, the rest clear), +syn-ack (only those), or V/M */
};

#define FF_MASKABLE 0x01	/* value/mask in a match */
#define FF_WRITABLE 0x02	/* set_field, load, move may write it */
#define FF_SETS_TAG 0x04	/* writing it makes a VLAN tag present (dl_vlan, vlan_pcp) */

#define FF_NAMES 5

struct flow_field {
	const char *names[FF_NAMES];	/* [0] is what the formatter prints; the rest are aliases, NXM and OXM names */
	uint8_t ofs, len;		/* key bytes */
	uint8_t shift, n_bits;		/* the field's bits within them */
	uint8_t match_prereq, prereq;	/* for a match; for a write (and at run time) */
	uint8_t syntax, flags;
	uint64_t valid;			/* bits of the field's value that exist (n_bits <= 64; all ones otherwise) */
};

extern const struct flow_field flow_fields[FF__COUNT];

/* The field named @name (any of its names, case-sensitive as OVS), or NULL. */
const struct flow_field *flow_field_by_name(const char *name, size_t len);

static inline enum flow_field_id flow_field_id(const struct flow_field *f)
{
	return (enum flow_field_id)(f - flow_fields);
}

/* True when @p is about the L4 header (TCP, UDP, ICMP): a later fragment, which has none, never meets it. */
static inline bool flow_prereq_l4(enum flow_prereq p)
{
	return p == FP_L4 || p == FP_TCP || p == FP_UDP || p == FP_ICMP4 || p == FP_ICMP6 || p == FP_ICMP_ANY;
}

/* True when @m matches only frames for which @p holds (dl_type and nw_proto matched exactly). */
bool flow_prereq_in_match(enum flow_prereq p, const struct flow_match *m);
/* True when the packet @k describes meets @p (a later fragment has no L4 fields). */
bool flow_prereq_in_key(enum flow_prereq p, const struct flow_key *k);
/* What a flow must match for @p, in words for an error message ("tcp or udp"). */
const char *flow_prereq_name(enum flow_prereq p);

/* A field's value, for fields up to 128 bits (IPv6 addresses). */
typedef unsigned __int128 flow_u128;

/* The low @n bits set (@n <= 128). */
static inline flow_u128 flow_ones(unsigned n)
{
	return n >= 128 ? ~(flow_u128)0 : ((flow_u128)1 << n) - 1;
}

/* Bits [@start, @start + @n) of field @f of @k, as a number (@n <= 128). */
flow_u128 flow_field_get128(const struct flow_field *f, const struct flow_key *k, unsigned start, unsigned n);
/* Store the @n low bits of @v into bits [@start, @start + @n) of field @f of @k (@n <= 128). */
void flow_field_set128(const struct flow_field *f, struct flow_key *k, unsigned start, unsigned n, flow_u128 v);
/* The bits of @f's value that exist (flow_field.valid, or all @n_bits of a field wider than 64). */
flow_u128 flow_field_valid(const struct flow_field *f);

/* Bits [@start, @start + @n) of field @f of @k, as a number (@n <= 64). */
uint64_t flow_field_get_bits(const struct flow_field *f, const struct flow_key *k, unsigned start, unsigned n);
/* ip_frag's keywords (ovs-fields(7)): each a value and a mask of the frag bits. */
struct flow_frag_name {
	const char *name;
	uint8_t v, m;
};
#define FLOW_FRAG_NAMES 5
extern const struct flow_frag_name flow_frag_names[FLOW_FRAG_NAMES];

/*
 * tcp_flags' names, as Open vSwitch's packet_tcp_flag_to_string(): bit 0
 * (0x001) "fin" to bit 8 (0x100) "ns", and the three reserved bits
 * "[200]", "[400]", "[800]".  The name of bit @bit (0-11); the bit (a
 * mask of one) named by the @len bytes at @name, or 0.
 */
#define FLOW_TCP_FLAG_BITS 12
const char *flow_tcp_flag_name(unsigned bit);
unsigned flow_tcp_flag_by_name(const char *name, size_t len);

/* Copy @n bits from @src bit @src_start of @from to @dst bit @dst_start of @to (any widths, fields up to 128 bits). */
void flow_field_copy_bits(const struct flow_field *src, const struct flow_key *from, unsigned src_start,
			  const struct flow_field *dst, struct flow_key *to, unsigned dst_start, unsigned n);

#endif
