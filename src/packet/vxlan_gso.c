/* vxlan_gso.c - VXLAN over the kernel's UDP GSO and GRO: building UDP_SEGMENT payloads, splitting GRO buffers (see vxlan_gso.h). */
#include "packet/vxlan_gso.h"

#include <errno.h>

#include <string.h>

#include "packet/csum.h"
#include "packet/gso.h"
#include "packet/vnet_hdr.h"
#include "packet/vxlan.h"

int vxlan_gso_build(const struct pkt *p, unsigned first, uint32_t vni, struct pkt *scratch, uint8_t *buf, size_t cap,
		    struct vxlan_gso_msg *out)
{
	size_t seg, off = 0;
	unsigned want;
	int m;

	if (cap > VXLAN_GSO_BYTES)
		cap = VXLAN_GSO_BYTES;
	*out = (struct vxlan_gso_msg){ 0 };
	/* The first segment says the size of all but the last: how many fit is known before cutting the rest. */
	/*
	 * Cut with the inner L4 checksum left partial: it is completed below as
	 * each segment is copied into the message (gso_copy_finish()), so the
	 * payload is read once, not once for the checksum and once for the copy.
	 */
	m = gso_segment_partial(p, first, scratch, 1);
	if (m <= 0)
		return m;
	seg = VXLAN_HLEN + scratch[0].len;
	if (seg > cap || seg > UINT16_MAX)
		return -EMSGSIZE;
	want = (unsigned)(cap / seg);
	if (want > VXLAN_GSO_SEGS_MAX)
		want = VXLAN_GSO_SEGS_MAX;
	if (want > 1) {
		int more = gso_segment_partial(p, first + 1, scratch + 1, want - 1);

		if (more < 0)
			return more;
		m += more;
	}
	for (int k = 0; k < m; k++) {
		/* Only the last may be shorter; a longer one would be gso.c's bug, not the frame's. */
		if (VXLAN_HLEN + scratch[k].len > seg || (k < m - 1 && VXLAN_HLEN + scratch[k].len != seg))
			return -EINVAL;
		vxlan_hdr_build(buf + off, vni);
		off += VXLAN_HLEN;
		if (gso_copy_finish(&scratch[k], buf + off) != (int)scratch[k].len)
			return -EINVAL;
		off += scratch[k].len;
	}
	*out = (struct vxlan_gso_msg){
		.len = off, .inner_bytes = off - (size_t)m * VXLAN_HLEN, .seg_bytes = (uint16_t)seg, .segs = (unsigned)m,
	};
	return m;
}

unsigned vxlan_gro_split(uint8_t *buf, size_t len, size_t seg_bytes, size_t *off, struct iovec *out, unsigned max)
{
	unsigned n = 0;

	if (!seg_bytes || seg_bytes > len)
		seg_bytes = len;
	while (n < max && *off < len) {
		size_t l = len - *off < seg_bytes ? len - *off : seg_bytes;

		out[n++] = (struct iovec){ buf + *off, l };
		*off += l;
	}
	return n;
}

/* Where an inner TCP segment's headers are (vxlan_gro_merge()). */
struct seg_geom {
	size_t l4, hdr, payload;
	bool v6;
};

static unsigned rd16(const uint8_t *b) { return (unsigned)b[0] << 8 | b[1]; }
static uint32_t rd32(const uint8_t *b) { return (uint32_t)rd16(b) << 16 | rd16(b + 2); }

/*
 * @f (@len bytes) as an untagged IPv4 (IHL 5, not a fragment) or IPv6 TCP
 * segment whose IP length is the frame's, with correct sums; @fsum, when
 * not NULL, the sum of all its bytes (the TCP checksum then checked from
 * it and the headers' sum).
 */
static bool seg_geom_of(const uint8_t *f, size_t len, const uint32_t *fsum, struct seg_geom *g)
{
	uint32_t sum;

	if (len < PKT_ETH_HLEN + 40)
		return false;
	if (rd16(f + 12) == 0x0800) {
		uint16_t c = csum_ipv4_hdr(f + 14, 20);

		/* version 4, IHL 5; neither MF nor an offset; TCP; the length the frame's (no padding) */
		if (f[14] != 0x45 || (rd16(f + 20) & 0x3fff) || f[23] != 6 || rd16(f + 16) != len - 14 ||
		    memcmp(&c, f + 24, 2) != 0)
			return false;
		g->l4 = 34;
		g->v6 = false;
	} else if (rd16(f + 12) == 0x86dd) {
		if (len < 54 + 20 || f[14] >> 4 != 6 || f[20] != 6 || rd16(f + 18) != len - 54)
			return false;
		g->l4 = 54;
		g->v6 = true;
	} else {
		return false;
	}
	g->hdr = g->l4 + (size_t)(f[g->l4 + 12] >> 4) * 4;
	if (g->hdr < g->l4 + 20 || g->hdr > len)
		return false;
	g->payload = len - g->hdr;
	sum = g->v6 ? csum_pseudo_ipv6(f + 22, f + 38, 6, (uint32_t)(len - g->l4))
		    : csum_pseudo_ipv4(f + 26, f + 30, 6, (uint32_t)(len - g->l4));
	if (fsum)
		return csum_fold((uint32_t)csum_fold(sum) + csum_fold(csum_sub(*fsum, csum_add(0, f, g->l4)))) == 0xffff;
	return csum_fold(csum_add(sum, f + g->l4, len - g->l4)) == 0xffff;
}

/* Segment @f (geometry @g) continues @first (@g0) after @prev (@gp): the same headers but length, ID, sequence and sums. */
static bool seg_follows(const uint8_t *first, const struct seg_geom *g0, const uint8_t *prev, const struct seg_geom *gp,
			const uint8_t *f, const struct seg_geom *g, unsigned k)
{
	size_t t = g0->l4;

	if (g->v6 != g0->v6 || g->hdr != g0->hdr || memcmp(f, first, 14) != 0)
		return false;
	if (g->v6) {
		if (memcmp(f + 14, first + 14, 4) != 0 || memcmp(f + 20, first + 20, 34) != 0)
			return false;
	} else if (memcmp(f + 14, first + 14, 2) != 0 || memcmp(f + 20, first + 20, 4) != 0 ||
		   memcmp(f + 26, first + 26, 8) != 0 || rd16(f + 18) != ((rd16(first + 18) + k) & 0xffff)) {
		return false; /* ToS, DF, TTL, protocol, addresses the same; the ID one more a segment */
	}
	/* TCP: ports, ack, offset, window, urgent pointer and options the same; the sequence follows on */
	return memcmp(f + t, first + t, 4) == 0 && rd32(f + t + 4) == rd32(prev + t + 4) + (uint32_t)gp->payload &&
	       memcmp(f + t + 8, first + t + 8, 5) == 0 && memcmp(f + t + 14, first + t + 14, 2) == 0 &&
	       memcmp(f + t + 18, first + t + 18, g0->hdr - t - 18) == 0;
}

unsigned vxlan_gro_merge(const struct iovec *seg, unsigned n, struct iovec *iov, struct vxlan_tso *tso)
{
	return vxlan_gro_merge_sums(seg, NULL, n, iov, tso);
}

unsigned vxlan_gro_merge_sums(const struct iovec *seg, const uint32_t *sums, unsigned n, struct iovec *iov,
			      struct vxlan_tso *tso)
{
	const uint8_t *first = seg[0].iov_base;
	uint8_t *f0 = seg[0].iov_base;
	struct seg_geom g0, gp, g;
	size_t total;
	unsigned k;
	uint32_t sum;
	uint16_t v;

	if (n < 2 || !seg_geom_of(first, seg[0].iov_len, sums, &g0) || !g0.payload || first[g0.l4 + 13] != 0x10)
		return 1; /* ACK alone: anything else (PSH, FIN, SYN, RST, URG, ECN) ends a run where it is */
	total = seg[0].iov_len;
	gp = g0;
	for (k = 1; k < n; k++) {
		const uint8_t *f = seg[k].iov_base, *prev = seg[k - 1].iov_base;
		uint8_t fl;

		if (gp.payload != g0.payload || !seg_geom_of(f, seg[k].iov_len, sums ? &sums[k] : NULL, &g) ||
		    !seg_follows(first, &g0, prev, &gp, f, &g, k) || !g.payload || g.payload > g0.payload ||
		    total + g.payload - PKT_ETH_HLEN > 65535)
			break;
		fl = f[g.l4 + 13];
		if (fl != 0x10 && fl != 0x18)
			break;
		total += g.payload;
		gp = g;
		if (fl == 0x18) {
			k++;
			break; /* PSH: the sender's end of a write, the last of the run */
		}
	}
	if (k < 2)
		return 1;
	/* The first frame's headers become the merged frame's. */
	if (g0.v6) {
		f0[18] = (uint8_t)((total - 54) >> 8);
		f0[19] = (uint8_t)(total - 54);
	} else {
		f0[16] = (uint8_t)((total - 14) >> 8);
		f0[17] = (uint8_t)(total - 14);
		v = csum_ipv4_hdr(f0 + 14, 20);
		memcpy(f0 + 24, &v, 2);
	}
	f0[g0.l4 + 13] = ((const uint8_t *)seg[k - 1].iov_base)[g0.l4 + 13];
	sum = g0.v6 ? csum_pseudo_ipv6(f0 + 22, f0 + 38, 6, (uint32_t)(total - g0.l4))
		    : csum_pseudo_ipv4(f0 + 26, f0 + 30, 6, (uint32_t)(total - g0.l4));
	v = csum_fold(sum);
	memcpy(f0 + g0.l4 + 16, &v, 2);
	iov[0] = seg[0];
	for (unsigned i = 1; i < k; i++)
		iov[i] = (struct iovec){ (uint8_t *)seg[i].iov_base + g0.hdr, seg[i].iov_len - g0.hdr };
	*tso = (struct vxlan_tso){
		.len = (uint32_t)total, .gso_type = g0.v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4,
		.gso_size = (uint16_t)g0.payload, .csum_start = (uint16_t)g0.l4, .csum_offset = 16,
	};
	return k;
}
