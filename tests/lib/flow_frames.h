/* flow_frames.h - test frames for the flow module: Ethernet, VLAN, IPv4 (options), IPv6 (extension headers), TCP, UDP, ICMP, ARP, built and checked the plain way. */
#ifndef VSW_TESTS_FLOW_FRAMES_H
#define VSW_TESTS_FLOW_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csum_ref.h"

struct frame_spec {
	uint8_t dst[6], src[6];
	int vlan;			/* TCI, or -1 for no tag */
	uint16_t vlan_tpid;		/* 0: 0x8100 */
	int vlan2;			/* a second (inner) tag's TCI, or -1 */
	uint16_t type;			/* Ethertype after the tags */
	/* IPv4 */
	uint32_t src4, dst4;		/* host order */
	uint8_t proto, tos, ttl;
	uint16_t frag;			/* flags and offset field, host order */
	unsigned ip_opts;		/* option bytes (a multiple of 4) */
	/* IPv6 */
	uint8_t src6[16], dst6[16];
	unsigned ext_hdrs;		/* hop-by-hop, then destination options headers, 8 bytes each */
	bool frag6;			/* a fragment header (first fragment) after them */
	/* L4 */
	uint16_t sport, dport;
	uint16_t tcp_flags;		/* TCP: the 12 bits after the data offset (NS ... FIN); frame_tcp4(): PSH|ACK */
	uint8_t icmp_type, icmp_code;
	bool udp_no_csum;
	unsigned payload;		/* bytes after the L4 header */
	/* ARP */
	uint16_t arp_op;
	uint8_t sha[6], tha[6];
	uint32_t spa, tpa;
};

static inline void fr_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fr_put32(uint8_t *p, uint32_t v)
{
	fr_put16(p, (uint16_t)(v >> 16));
	fr_put16(p + 2, (uint16_t)v);
}

static inline uint16_t fr_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The defaults of a spec: a TCP/IPv4 frame between two fixed MACs, no tag. */
static inline struct frame_spec frame_tcp4(void)
{
	struct frame_spec s = { .vlan = -1, .vlan2 = -1, .type = 0x0800, .proto = 6, .ttl = 64,
				.src4 = 0x0a000001, .dst4 = 0x0a000002, .sport = 1234, .dport = 80, .tcp_flags = 0x018,
				.payload = 10 };

	memcpy(s.dst, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(s.src, "\x02\x00\x00\x00\x00\x01", 6);
	for (int i = 0; i < 16; i++) {
		s.src6[i] = (uint8_t)(0x20 + i);
		s.dst6[i] = (uint8_t)(0x40 + i);
	}
	return s;
}

/* The L4 header length of @proto (ICMP and ICMPv6: 8). */
static inline unsigned fr_l4_hlen(uint8_t proto)
{
	return proto == 6 ? 20 : proto == 17 ? 8 : proto == 1 || proto == 58 ? 8 : 0;
}

/* Sum of the pseudo-header (big-endian, folded), per RFC 793/768 and RFC 8200 8.1. */
static inline uint16_t fr_pseudo(const uint8_t *ip, bool v6, uint8_t proto, unsigned l4_len)
{
	uint8_t ph[40];

	if (v6) {
		memcpy(ph, ip + 8, 32);
		fr_put32(ph + 32, l4_len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = proto;
		return ref_sum(ph, 40);
	}
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = proto;
	fr_put16(ph + 10, (uint16_t)l4_len);
	return ref_sum(ph, 12);
}

/* Fill the L4 checksum of the segment at @l4 (@l4_len bytes) from scratch. */
static inline void fr_l4_csum(uint8_t *ip, bool v6, uint8_t proto, uint8_t *l4, unsigned l4_len, bool udp_none)
{
	unsigned at = proto == 6 ? 16 : proto == 17 ? 6 : 2;
	uint16_t s;

	l4[at] = l4[at + 1] = 0;
	if (proto == 17 && udp_none)
		return;
	s = ref_sum(l4, l4_len);
	if (proto != 1)
		s = ref_add(s, fr_pseudo(ip, v6, proto, l4_len));
	s = (uint16_t)~s;
	if (proto == 17 && s == 0)
		s = 0xffff;
	fr_put16(l4 + at, s);
}

/* The frame @s describes into @out (at least 1600 bytes); its length. */
static inline size_t frame_build(uint8_t *out, const struct frame_spec *s)
{
	size_t n = 12;
	uint8_t *ip, *l4 = NULL;
	unsigned l4_len = 0, hl = fr_l4_hlen(s->proto);

	memcpy(out, s->dst, 6);
	memcpy(out + 6, s->src, 6);
	if (s->vlan >= 0) {
		fr_put16(out + n, s->vlan_tpid ? s->vlan_tpid : 0x8100);
		fr_put16(out + n + 2, (uint16_t)s->vlan);
		n += 4;
	}
	if (s->vlan2 >= 0) {
		fr_put16(out + n, 0x8100);
		fr_put16(out + n + 2, (uint16_t)s->vlan2);
		n += 4;
	}
	fr_put16(out + n, s->type);
	n += 2;
	ip = out + n;
	if (s->type == 0x0800) {
		unsigned ihl = 20 + s->ip_opts;

		l4_len = hl + s->payload;
		memset(ip, 0, ihl);
		ip[0] = (uint8_t)(0x40 | ihl / 4);
		ip[1] = s->tos;
		fr_put16(ip + 2, (uint16_t)(ihl + l4_len));
		fr_put16(ip + 4, 0x1234);
		fr_put16(ip + 6, s->frag);
		ip[8] = s->ttl;
		ip[9] = s->proto;
		fr_put32(ip + 12, s->src4);
		fr_put32(ip + 16, s->dst4);
		for (unsigned i = 20; i < ihl; i++)
			ip[i] = 1;	/* NOP options */
		fr_put16(ip + 10, (uint16_t)~ref_sum(ip, ihl));
		l4 = ip + ihl;
		n += ihl;
	} else if (s->type == 0x86dd) {
		unsigned ext = 8 * s->ext_hdrs + (s->frag6 ? 8 : 0);
		uint8_t *e = ip + 40;

		l4_len = hl + s->payload;
		memset(ip, 0, 40 + ext);
		fr_put32(ip, 0x60000000u | (uint32_t)s->tos << 20 | 0x12345);
		fr_put16(ip + 4, (uint16_t)(ext + l4_len));
		ip[7] = s->ttl;
		memcpy(ip + 8, s->src6, 16);
		memcpy(ip + 24, s->dst6, 16);
		ip[6] = s->ext_hdrs ? 0 : s->frag6 ? 44 : s->proto;
		for (unsigned i = 0; i < s->ext_hdrs; i++, e += 8)
			e[0] = i + 1 < s->ext_hdrs ? 60 : s->frag6 ? 44 : s->proto;
		if (s->frag6) {
			e[0] = s->proto;
			fr_put16(e + 2, 0x0001);	/* offset 0, more fragments */
			e += 8;
		}
		l4 = e;
		n += 40 + ext;
	} else if (s->type == 0x0806 || s->type == 0x8035) {
		fr_put16(ip, 1);
		fr_put16(ip + 2, 0x0800);
		ip[4] = 6;
		ip[5] = 4;
		fr_put16(ip + 6, s->arp_op);
		memcpy(ip + 8, s->sha, 6);
		fr_put32(ip + 14, s->spa);
		memcpy(ip + 18, s->tha, 6);
		fr_put32(ip + 24, s->tpa);
		n += 28;
	} else {
		memset(ip, 0xab, 46);
		n += 46;
	}
	if (l4) {
		memset(l4, 0, hl);
		if (s->proto == 6) {
			fr_put16(l4, s->sport);
			fr_put16(l4 + 2, s->dport);
			fr_put32(l4 + 4, 0x01020304);
			l4[12] = (uint8_t)(0x50 | ((s->tcp_flags >> 8) & 0x0f));
			l4[13] = (uint8_t)s->tcp_flags;
			fr_put16(l4 + 14, 512);
		} else if (s->proto == 17) {
			fr_put16(l4, s->sport);
			fr_put16(l4 + 2, s->dport);
			fr_put16(l4 + 4, (uint16_t)l4_len);
		} else if (s->proto == 1 || s->proto == 58) {
			l4[0] = s->icmp_type;
			l4[1] = s->icmp_code;
			fr_put16(l4 + 4, 0x4242);
		}
		for (unsigned i = 0; i < s->payload; i++)
			l4[hl + i] = (uint8_t)(i * 7 + 3);
		if (hl)
			fr_l4_csum(ip, s->type == 0x86dd, s->proto, l4, l4_len, s->udp_no_csum);
		n += l4_len;
	}
	return n;
}

/*
 * True when every checksum of @f (@len bytes) is right, recomputed from
 * scratch: the IPv4 header's, and TCP/UDP/ICMP/ICMPv6 over IPv4 or IPv6
 * (one tag, no IPv6 extension headers but hop-by-hop/destination/fragment).
 * A frame with nothing checksummed is right.
 */
static inline bool frame_csums_ok(const uint8_t *f, size_t len)
{
	size_t off = 12;
	uint16_t type = fr_get16(f + off);
	const uint8_t *ip;
	uint8_t proto;
	unsigned l4_len;
	const uint8_t *l4;
	uint16_t s;
	bool v6;

	while (type == 0x8100 || type == 0x88a8) {
		off += 4;
		type = fr_get16(f + off);
	}
	off += 2;
	ip = f + off;
	if (type == 0x0800) {
		unsigned ihl = (ip[0] & 15u) * 4;

		if (ref_sum(ip, ihl) != 0xffff)
			return false;
		if (fr_get16(ip + 6) & 0x1fff)
			return true;	/* a later fragment: no L4 header */
		proto = ip[9];
		l4 = ip + ihl;
		l4_len = fr_get16(ip + 2) - ihl;
		v6 = false;
	} else if (type == 0x86dd) {
		const uint8_t *e = ip + 40;

		proto = ip[6];
		l4_len = fr_get16(ip + 4);
		while (proto == 0 || proto == 60 || proto == 44) {
			unsigned el = proto == 44 ? 8 : (e[1] + 1u) * 8;

			proto = e[0];
			e += el;
			l4_len -= el;
		}
		l4 = e;
		v6 = true;
	} else {
		return true;
	}
	if (proto != 6 && proto != 17 && proto != 1 && proto != 58)
		return true;
	if ((size_t)(l4 - f) + l4_len > len)
		return false;
	if (proto == 17 && !v6 && fr_get16(l4 + 6) == 0)
		return true;	/* no UDP checksum */
	s = ref_sum(l4, l4_len);
	if (proto != 1)
		s = ref_add(s, fr_pseudo(ip, v6, proto, l4_len));
	return s == 0xffff;
}

#endif
