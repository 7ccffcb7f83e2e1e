/* icmp_pmtu.c - the ICMP / ICMPv6 answer to an inner frame too big for a tunnel (see icmp_pmtu.h). */
#include "packet/icmp_pmtu.h"

#include <stdbool.h>
#include <string.h>

#include "packet/csum.h"

#define ICMP_HLEN 8u
#define IPV4_HLEN 20u
#define IPV6_HLEN 40u
#define PROTO_ICMP 1u
#define PROTO_ICMPV6 58u
#define ANSWER_TTL 64u

static unsigned rd16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

static void wr16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* The answer's Ethernet header (and tag) into @out: @p's with the MACs swapped; its length. */
static unsigned eth_swap(const uint8_t *h, unsigned l3_off, uint8_t *out, unsigned ethertype)
{
	memcpy(out, h + 6, 6);
	memcpy(out + 6, h, 6);
	memcpy(out + 12, h + 12, l3_off - 12); /* the tag, if any, and the EtherType: the frame's own */
	wr16(out + l3_off - 2, ethertype);
	return l3_off;
}

/* Not a unicast address an IPv4 packet may come from (RFC 1122 3.2.1.3, RFC 5735): no answer to it. */
static bool v4_bad_src(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224; /* "this network", loopback, multicast and class E, broadcast */
}

/* ICMP types that are errors (RFC 792): never answered with another error (RFC 1122 3.2.2). */
static bool icmp4_is_error(unsigned type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The bytes of @p's IP packet an answer quotes: at most @room, the packet's @total length, and what the frame holds. */
static unsigned quote_len(const struct pkt *p, unsigned room, unsigned total)
{
	unsigned quote = room < total ? room : total;

	return quote < p->len - p->l3_off ? quote : p->len - p->l3_off;
}

static unsigned build_v4(struct pkt *p, unsigned flags, unsigned mtu, uint8_t *out)
{
	const uint8_t *h = pkt_head(p), *ip = h + p->l3_off;
	unsigned total = rd16(ip + 2), quote, len, off;
	uint8_t *nip, *icmp;
	uint16_t c;

	if (mtu < ICMP_PMTU_V4_MAX || mtu > 0xffff)
		return 0;
	/* DF alone: no fragment offset, no MF (a fragment's sender chose fragmentation). */
	if ((flags & PKT_F_FRAG) || rd16(ip + 6) != 0x4000)
		return 0;
	if (v4_bad_src(ip + 12) || ip[16] >= 224)
		return 0;
	if (p->ip_proto == PROTO_ICMP && (!(flags & PKT_F_L4) || icmp4_is_error(h[p->l4_off])))
		return 0;
	quote = quote_len(p, ICMP_PMTU_V4_MAX - IPV4_HLEN - ICMP_HLEN, total);

	off = eth_swap(h, p->l3_off, out, 0x0800);
	nip = out + off;
	icmp = nip + IPV4_HLEN;
	len = IPV4_HLEN + ICMP_HLEN + quote;
	if (pkt_copy(p, p->l3_off, &(struct iovec){ icmp + ICMP_HLEN, quote }, 1, 0, quote) != quote)
		return 0;
	icmp[0] = 3; /* destination unreachable */
	icmp[1] = 4; /* fragmentation needed and DF set */
	memset(icmp + 2, 0, 4);
	wr16(icmp + 6, mtu); /* RFC 1191 section 4: "Next-Hop MTU", the low-order 16 bits */
	c = csum_finish(csum_add(0, icmp, ICMP_HLEN + quote));
	memcpy(icmp + 2, &c, 2);

	nip[0] = 0x45;
	nip[1] = 0;
	wr16(nip + 2, len);
	wr16(nip + 4, 0);
	wr16(nip + 6, 0x4000);
	nip[8] = ANSWER_TTL;
	nip[9] = PROTO_ICMP;
	memcpy(nip + 12, ip + 16, 4); /* from the inner destination ... */
	memcpy(nip + 16, ip + 12, 4); /* ... to the inner source */
	c = csum_ipv4_hdr(nip, IPV4_HLEN);
	memcpy(nip + 10, &c, 2);
	return off + len;
}

static bool v6_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

static bool v6_loopback(const uint8_t *a)
{
	static const uint8_t one[16] = { [15] = 1 };

	return memcmp(a, one, 16) == 0;
}

static unsigned build_v6(struct pkt *p, unsigned flags, unsigned mtu, uint8_t *out)
{
	const uint8_t *h = pkt_head(p), *ip = h + p->l3_off;
	unsigned total = IPV6_HLEN + rd16(ip + 4), quote, len, off;
	uint8_t *nip, *icmp;
	uint32_t sum;
	uint16_t c;

	if (mtu < ICMP_PMTU_V6_MAX)
		return 0;
	/* Source: not unspecified, multicast or loopback; destination (our answer's source): not multicast. */
	if (v6_unspecified(ip + 8) || ip[8] == 0xff || v6_loopback(ip + 8) || ip[24] == 0xff)
		return 0;
	/* RFC 4443 2.4(e.1): never in answer to an ICMPv6 error (types 0-127); unknown, if the header is not there. */
	if (p->ip_proto == PROTO_ICMPV6 && (!(flags & PKT_F_L4) || h[p->l4_off] < 128))
		return 0;
	quote = quote_len(p, ICMP_PMTU_V6_MAX - IPV6_HLEN - ICMP_HLEN, total);

	off = eth_swap(h, p->l3_off, out, 0x86dd);
	nip = out + off;
	icmp = nip + IPV6_HLEN;
	len = ICMP_HLEN + quote;
	if (pkt_copy(p, p->l3_off, &(struct iovec){ icmp + ICMP_HLEN, quote }, 1, 0, quote) != quote)
		return 0;
	nip[0] = 0x60;
	nip[1] = nip[2] = nip[3] = 0;
	wr16(nip + 4, len);
	nip[6] = PROTO_ICMPV6;
	nip[7] = ANSWER_TTL;
	memcpy(nip + 8, ip + 24, 16);	/* from the inner destination ... */
	memcpy(nip + 24, ip + 8, 16);	/* ... to the inner source */
	icmp[0] = 2; /* packet too big */
	icmp[1] = 0;
	icmp[2] = icmp[3] = 0;
	icmp[4] = (uint8_t)(mtu >> 24);
	icmp[5] = (uint8_t)(mtu >> 16);
	icmp[6] = (uint8_t)(mtu >> 8);
	icmp[7] = (uint8_t)mtu;
	sum = csum_pseudo_ipv6(nip + 8, nip + 24, PROTO_ICMPV6, len);
	c = csum_finish(csum_add(sum, icmp, len));
	memcpy(icmp + 2, &c, 2);
	return off + IPV6_HLEN + len;
}

unsigned icmp_pmtu_build(struct pkt *p, unsigned mtu, uint8_t *out)
{
	unsigned flags = pkt_parsed(p);

	/* Untagged or one tag: what the answer's room holds (ICMP_PMTU_FRAME_MAX). */
	if (p->l3_off < PKT_ETH_HLEN || p->l3_off > PKT_ETH_HLEN + PKT_VLAN_HLEN)
		return 0;
	/* The answer's source MAC is the frame's destination: not a group address (a flood to the tunnel). */
	if (pkt_head(p)[0] & 1)
		return 0;
	if (flags & PKT_F_IPV4)
		return build_v4(p, flags, mtu, out);
	if (flags & PKT_F_IPV6)
		return build_v6(p, flags, mtu, out);
	return 0;
}
