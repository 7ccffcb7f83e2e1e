/* fuzz_vxlan_decap.c - libFuzzer target: a hostile UDP GRO buffer cut into datagrams (packet/vxlan_gso), packet/vxlan's decap of each, then the inner frame's load, parse and source-port hash. */

/*
 * What a vxlan port's UDP socket hands it is any bytes from any sender.
 * vxlan_decap() must read nothing before checking the length, accept
 * exactly the payloads with the I flag and the port's VNI (reserved bits
 * ignored) and at least an Ethernet header behind, and give an inner view
 * that is the payload past 8 bytes, inside it.  The inner frame then goes
 * through what the switch does to it (pkt_load(), pkt_parse()) and, on the
 * way out of another vxlan port, vxlan_src_port(), which must stay in its
 * range and read only the head.  RFC 6040's egress (ecn_decap_frame(),
 * on a copy, the outer ECN field the low two bits of the range's lo)
 * must change nothing but the ECN bits of an IPv4 or IPv6 header (behind
 * at most two tags) and IPv4's header checksum, which stays right when it
 * was, and drop exactly a Not-ECT packet under CE.  With UDP GRO the socket hands a buffer
 * of several datagrams and their size (the kernel's, but of any value
 * here): vxlan_gro_split() must cut it into contiguous pieces covering it
 * exactly, each of that size but the last (one piece for a size of zero or
 * past the buffer), handed out at most a burst at a time; each piece is
 * then decapsulated as above.  Then, as the port does, runs of the pieces
 * that decapsulate are offered to vxlan_gro_merge() (which rewrites the
 * first frame in place): a merged frame must be one the switch's offload
 * check accepts (gso_check() GSO_OK), cut into exactly as many segments
 * as it merged, of its length.
 *
 * Input format:
 *
 *   off  size  field
 *     0   u8[3] vni     the port's VNI (big endian)
 *     3   u8[4] range   source port range: lo, hi (big endian u16 each; swapped when lo > hi)
 *     7   u16   gro     the GRO datagram size (big endian; 0: one datagram)
 *     9   ...   payload the UDP payload or GRO buffer (at most 65535 bytes used)
 *
 * The payload is one heap allocation of exactly its length, so ASan sees a
 * read one byte past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/csum.h"
#include "packet/ecn.h"
#include "packet/gso.h"
#include "packet/pkt.h"
#include "packet/vxlan.h"
#include "packet/vxlan_gso.h"

#define HDR 9
#define BURST 64

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs of @n decapsulated inner frames @in (one GRO buffer's, writable) through vxlan_gro_merge(), each merged frame checked. */
static void merge_runs(struct iovec *in, unsigned n)
{
	static struct pkt p;
	static struct iovec out[BURST];

	for (unsigned j = 0, k; j < n; j += k) {
		struct vxlan_tso tso;
		size_t total = 0;

		k = vxlan_gro_merge(in + j, n - j, out, &tso);
		check(k >= 1 && k <= n - j);
		if (k == 1)
			continue;
		for (unsigned i = 0; i < k; i++)
			total += out[i].iov_len;
		check(total == tso.len && total <= 65535 + PKT_ETH_HLEN && out[0].iov_base == in[j].iov_base);
		pkt_rx_init(&p, out, k, tso.len, 1);
		pkt_load(&p);
		p.csum = PKT_CSUM_PARTIAL;
		p.csum_start = tso.csum_start;
		p.csum_offset = tso.csum_offset;
		p.gso_type = tso.gso_type;
		p.gso_size = tso.gso_size;
		check(gso_check(&p) == GSO_OK);
		check(gso_count(&p) == k);
	}
}

/* ecn_decap_frame() of inner frame @f (@len bytes) under outer ECN @outer, on a copy, against a plain restatement. */
static void ecn_check(const uint8_t *f, size_t len, unsigned outer)
{
	static uint8_t c[65536];
	size_t l3 = 14, tos_at = 0;
	unsigned type = len >= 14 ? (unsigned)f[12] << 8 | f[13] : 0, inner = 0;
	bool ip4 = false, ip = false, sum_ok = false;
	enum ecn_frame r;

	memcpy(c, f, len);
	if ((type == 0x8100 || type == 0x88a8) && len >= 18) {
		type = (unsigned)f[16] << 8 | f[17];
		l3 = 18;
		if ((type == 0x8100 || type == 0x88a8) && len >= 22) { /* QinQ: a second tag, no third */
			type = (unsigned)f[20] << 8 | f[21];
			l3 = 22;
		}
	}
	if (type == 0x0800 && len >= l3 + 20 && f[l3] >> 4 == 4) {
		ip = ip4 = true;
		tos_at = l3 + 1;
		inner = f[tos_at] & 3;
		sum_ok = csum_fold(csum_add(0, f + l3, 20)) == 0xffff;
	} else if (type == 0x86dd && len >= l3 + 40 && f[l3] >> 4 == 6) {
		ip = true;
		tos_at = l3 + 1;
		inner = f[tos_at] >> 4 & 3;
	}
	r = ecn_decap_frame(c, len, outer);
	check(r == ECN_FRAME_DROP ? ip && inner == 0 && outer == 3 : !(ip && inner == 0 && outer == 3));
	for (size_t i = 0; i < len; i++) {
		uint8_t mask = r == ECN_FRAME_DROP || !ip ? 0 : i == tos_at ? (ip4 ? 0x03 : 0x30)
			       : ip4 && (i == l3 + 10 || i == l3 + 11) ? 0xff : 0;

		check(((c[i] ^ f[i]) & ~mask) == 0);
	}
	if (r == ECN_FRAME_MARKED) {
		unsigned now = ip4 ? c[tos_at] & 3 : c[tos_at] >> 4 & 3;

		check(ip && (int)now == ecn_decap(outer, inner) && now != inner);
		if (ip4 && sum_ok)
			check(csum_fold(csum_add(0, c + l3, 20)) == 0xffff);
	}
	if (r == ECN_FRAME_KEEP || r == ECN_FRAME_ODD)
		check(!memcmp(c, f, len) && (!ip || ecn_decap(outer, inner) == (int)inner));
	/* "(!!!)" but the drop: an ECT outer over Not-ECT, ECT(1) over CE */
	check((r == ECN_FRAME_ODD) == (ip && ((inner == 0 && (outer == 1 || outer == 2)) || (inner == 3 && outer == 1))));
}

/* One datagram of @len bytes at @d: decap against the plain reference, then what the switch does to the inner frame. */
static bool one_datagram(const uint8_t *d, size_t len, uint32_t vni, unsigned lo, unsigned hi)
{
	static struct pkt p;
	struct iovec inner = { NULL, 0 };
	enum vxlan_bad why;
	int ref;

	why = vxlan_decap(d, len, vni, &inner);
	/* The reference, the plain way. */
	if (len < VXLAN_HLEN + PKT_ETH_HLEN)
		ref = VXLAN_BAD_SHORT;
	else if (!(d[0] & 0x08))
		ref = VXLAN_BAD_FLAGS;
	else if (((uint32_t)d[4] << 16 | (uint32_t)d[5] << 8 | d[6]) != vni)
		ref = VXLAN_BAD_VNI;
	else
		ref = VXLAN_OK;
	check((int)why == ref);
	if (why != VXLAN_OK) {
		check(inner.iov_base == NULL);
		return false;
	}
	check(inner.iov_base == d + VXLAN_HLEN && inner.iov_len == len - VXLAN_HLEN);
	ecn_check(inner.iov_base, inner.iov_len, lo & 3);

	pkt_rx_init(&p, &inner, 1, (uint32_t)inner.iov_len, 1);
	pkt_load(&p);
	check(p.head_len <= p.len && p.len == inner.iov_len);
	{
		uint16_t sp = vxlan_src_port(&p, (uint16_t)lo, (uint16_t)hi);

		check(sp >= lo && sp <= (hi > lo ? hi : lo));
		check(sp == vxlan_src_port(&p, (uint16_t)lo, (uint16_t)hi));
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iovec dg[BURST], in[BURST];
	uint32_t vni;
	unsigned lo, hi, calls = 0;
	size_t len, seg, off = 0, pieces = 0, want;
	uint8_t *d;

	if (size < HDR)
		return 0;
	vni = (uint32_t)data[0] << 16 | (uint32_t)data[1] << 8 | data[2];
	lo = (unsigned)data[3] << 8 | data[4];
	hi = (unsigned)data[5] << 8 | data[6];
	seg = (size_t)data[7] << 8 | data[8];
	if (lo > hi) {
		unsigned t = lo;

		lo = hi;
		hi = t;
	}
	len = size - HDR;
	if (len > 65535)
		len = 65535;
	d = malloc(len ? len : 1);
	check(d != NULL);
	memcpy(d, data + HDR, len);

	/* The pieces: contiguous from the start, each seg bytes but the last, a burst at most per call. */
	want = !len ? 0 : !seg || seg >= len ? 1 : (len + seg - 1) / seg;
	while (off < len) {
		size_t before = off;
		unsigned n = vxlan_gro_split(d, len, seg, &off, dg, BURST), nin = 0;

		check(n >= 1 && n <= BURST && off > before && off <= len && ++calls <= 65536);
		for (unsigned i = 0; i < n; i++) {
			check(dg[i].iov_base == d + before && dg[i].iov_len > 0);
			check(!seg || seg >= len || dg[i].iov_len == seg || (before + dg[i].iov_len == len && dg[i].iov_len < seg));
			before += dg[i].iov_len;
			pieces++;
			if (one_datagram(dg[i].iov_base, dg[i].iov_len, vni, lo, hi))
				in[nin++] = (struct iovec){ (uint8_t *)dg[i].iov_base + VXLAN_HLEN, dg[i].iov_len - VXLAN_HLEN };
		}
		check(before == off);
		/* All the pieces are read: the merge may now rewrite a frame's headers, as the port's does. */
		merge_runs(in, nin);
	}
	check(pieces == want);
	check(vxlan_gro_split(d, len, seg, &off, dg, BURST) == 0);
	free(d);
	return 0;
}
