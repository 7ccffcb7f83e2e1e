/* gso_ref.h - segmentation and checksums the plain way (one segment at a time, sums from scratch): what packet/gso.c is checked against. */
#ifndef VSW_TESTS_GSO_REF_H
#define VSW_TESTS_GSO_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csum_ref.h"

/* A test frame's layout. */
struct ref_geom {
	unsigned l3, l4, hdr;	/* IP header, L4 header, payload: offsets from the frame's start */
	bool v6, udp;
};

static inline unsigned ref_rd16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

static inline void ref_wr16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* The pseudo-header sum of the L4 segment at @f + g->l4 of @l4_len bytes, folded, big-endian. */
static inline uint16_t ref_pseudo(const uint8_t *f, const struct ref_geom *g, unsigned l4_len)
{
	uint8_t ph[40] = { 0 };
	unsigned proto = g->udp ? 17 : 6;

	if (g->v6) {
		memcpy(ph, f + g->l3 + 8, 32);
		ph[34] = (uint8_t)(l4_len >> 8);
		ph[35] = (uint8_t)l4_len;
		ph[39] = (uint8_t)proto;
		return ref_sum(ph, 40);
	}
	memcpy(ph, f + g->l3 + 12, 8);
	ph[9] = (uint8_t)proto;
	ph[10] = (uint8_t)(l4_len >> 8);
	ph[11] = (uint8_t)l4_len;
	return ref_sum(ph, 12);
}

/*
 * A sender's frame into @f: Ethernet (@tags VLAN tags: 1 an 802.1Q tag, 2
 * an 802.1ad tag and an 802.1Q tag behind it: QinQ), IPv4 (with
 * @ip_opt bytes of options) or IPv6, TCP (@tcp_opt bytes of options, flags
 * @tcp_flags) or UDP, @payload bytes of a pattern from @seed; the L4
 * checksum field holds the pseudo-header sum (CHECKSUM_PARTIAL).  Fills @g;
 * returns the length.
 */
static inline size_t ref_frame(uint8_t *f, struct ref_geom *g, bool v6, bool udp, unsigned tags, unsigned ip_opt,
			       unsigned tcp_opt, unsigned tcp_flags, size_t payload, uint32_t seed)
{
	unsigned l4h = udp ? 8 : 20 + tcp_opt;
	size_t len, l4_len;

	memset(f, 0, 22);
	for (unsigned i = 0; i < 12; i++)
		f[i] = (uint8_t)(0x10 + i);
	g->l3 = 14;
	for (unsigned t = 0; t < tags; t++) {
		ref_wr16(f + g->l3 - 2, t + 1 < tags ? 0x88a8 : 0x8100);
		ref_wr16(f + g->l3, 0x0123 + t);
		g->l3 += 4;
	}
	ref_wr16(f + g->l3 - 2, v6 ? 0x86dd : 0x0800);
	g->v6 = v6;
	g->udp = udp;
	g->l4 = g->l3 + (v6 ? 40 : 20 + ip_opt);
	g->hdr = g->l4 + l4h;
	len = g->hdr + payload;
	l4_len = len - g->l4;
	for (size_t i = g->l3; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		f[i] = (uint8_t)(seed >> 16);
	}
	if (v6) {
		f[g->l3] = 0x60;
		ref_wr16(f + g->l3 + 4, (unsigned)l4_len);
		f[g->l3 + 6] = udp ? 17 : 6;
		f[g->l3 + 7] = 64;
	} else {
		f[g->l3] = (uint8_t)(0x40 | (5 + ip_opt / 4));
		ref_wr16(f + g->l3 + 2, (unsigned)(len - g->l3));
		ref_wr16(f + g->l3 + 6, 0x4000);
		f[g->l3 + 8] = 64;
		f[g->l3 + 9] = udp ? 17 : 6;
		for (unsigned i = 0; i < ip_opt; i++)
			f[g->l3 + 20 + i] = 1; /* NOP options */
		ref_wr16(f + g->l3 + 10, 0);
		ref_put(f + g->l3 + 10, (uint16_t)~ref_sum(f + g->l3, g->l4 - g->l3));
	}
	if (udp) {
		ref_wr16(f + g->l4 + 4, (unsigned)l4_len);
		ref_put(f + g->l4 + 6, ref_pseudo(f, g, (unsigned)l4_len));
	} else {
		f[g->l4 + 12] = (uint8_t)((5 + tcp_opt / 4) << 4);
		f[g->l4 + 13] = (uint8_t)tcp_flags;
		for (unsigned i = 0; i < tcp_opt; i++)
			f[g->l4 + 20 + i] = 1;
		ref_put(f + g->l4 + 16, ref_pseudo(f, g, (unsigned)l4_len));
	}
	return len;
}

/*
 * Segment @k of the @len-byte partial frame @f cut into @mss-byte payloads,
 * into @out: headers copied and fixed one field at a time, checksums from
 * scratch.  Returns its length, 0 past the last segment.
 */
static inline size_t ref_segment(const uint8_t *f, size_t len, const struct ref_geom *g, unsigned mss, unsigned k,
				 uint8_t *out)
{
	size_t payload = len - g->hdr, ps = (size_t)k * mss, plen, slen, l4_len;
	size_t nseg = payload ? (payload + mss - 1) / mss : 1;
	unsigned csum_at;

	if (k >= nseg)
		return 0;
	plen = payload - ps < mss ? payload - ps : mss;
	slen = g->hdr + plen;
	l4_len = slen - g->l4;
	memcpy(out, f, g->hdr);
	memcpy(out + g->hdr, f + g->hdr + ps, plen);
	if (g->v6) {
		ref_wr16(out + g->l3 + 4, (unsigned)(slen - g->l3 - 40));
	} else {
		ref_wr16(out + g->l3 + 2, (unsigned)(slen - g->l3));
		ref_wr16(out + g->l3 + 4, (ref_rd16(f + g->l3 + 4) + k) & 0xffff);
		ref_wr16(out + g->l3 + 10, 0);
		ref_put(out + g->l3 + 10, (uint16_t)~ref_sum(out + g->l3, g->l4 - g->l3));
	}
	if (g->udp) {
		ref_wr16(out + g->l4 + 4, (unsigned)l4_len);
		csum_at = g->l4 + 6;
	} else {
		uint32_t seq = (uint32_t)ref_rd16(f + g->l4 + 4) << 16 | ref_rd16(f + g->l4 + 6);

		seq += (uint32_t)(k * mss);
		ref_wr16(out + g->l4 + 4, seq >> 16);
		ref_wr16(out + g->l4 + 6, seq & 0xffff);
		if (k > 0)
			out[g->l4 + 13] &= 0x7f;	/* CWR */
		if (k + 1 < nseg)
			out[g->l4 + 13] &= ~0x09u;	/* FIN, PSH */
		csum_at = g->l4 + 16;
	}
	ref_wr16(out + csum_at, 0);
	{
		uint16_t c = (uint16_t)~ref_add(ref_pseudo(out, g, (unsigned)l4_len), ref_sum(out + g->l4, l4_len));

		ref_put(out + csum_at, c || !g->udp ? c : 0xffff); /* UDP's zero is all ones (RFC 768); TCP's stays */
	}
	return slen;
}

/*
 * The reference's segment @k of a tunnel frame (@o outer bytes, outer IP at
 * @ol3, UDP at @ol4) whose inner packet @inner (@ilen bytes, layout @g) is
 * cut at @mss: the inner segment the plain way, the outer headers' lengths,
 * an IPv4 ID one more a segment and its header sum, and the outer UDP sum
 * over the whole segment from scratch when the frame had one.  Its length.
 */
static inline size_t ref_tunnel_segment(const uint8_t *f, size_t o, unsigned ol3, unsigned ol4, bool ov6,
					 bool ocsum, const uint8_t *inner, size_t ilen, const struct ref_geom *g,
					 unsigned mss, unsigned k, uint8_t *out)
{
	size_t il = ref_segment(inner, ilen, g, mss, k, out + o), len = o + il;
	struct ref_geom og = { .l3 = ol3, .l4 = ol4, .v6 = ov6, .udp = true };

	if (!il)
		return 0;
	memcpy(out, f, o);
	if (ov6) {
		ref_wr16(out + ol3 + 4, (unsigned)(len - ol3 - 40));
	} else {
		ref_wr16(out + ol3 + 2, (unsigned)(len - ol3));
		ref_wr16(out + ol3 + 4, (ref_rd16(f + ol3 + 4) + k) & 0xffff);
		ref_wr16(out + ol3 + 10, 0);
		ref_put(out + ol3 + 10, (uint16_t)~ref_sum(out + ol3, (out[ol3] & 0xfu) * 4u));
	}
	ref_wr16(out + ol4 + 4, (unsigned)(len - ol4));
	if (ocsum) {
		uint16_t c;

		ref_wr16(out + ol4 + 6, 0);
		c = (uint16_t)~ref_add(ref_pseudo(out, &og, (unsigned)(len - ol4)), ref_sum(out + ol4, len - ol4));
		ref_put(out + ol4 + 6, c ? c : 0xffff);
	}
	return len;
}

/* True when the finished frame @f (@len bytes, layout @g) has a correct IPv4 header sum and L4 checksum. */
static inline bool ref_csums_ok(const uint8_t *f, size_t len, const struct ref_geom *g)
{
	if (!g->v6 && ref_sum(f + g->l3, g->l4 - g->l3) != 0xffff)
		return false;
	return ref_add(ref_pseudo(f, g, (unsigned)(len - g->l4)), ref_sum(f + g->l4, len - g->l4)) == 0xffff;
}

#endif
