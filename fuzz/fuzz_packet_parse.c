/* fuzz_packet_parse.c - libFuzzer target: packet/pkt (head copy, parse, copies out) on hostile frames cut into hostile iovecs. */

/*
 * What arrives here is what a guest or the wire hands a port: any bytes,
 * any length, in as many pieces as a descriptor chain allows.  pkt_load()
 * must copy exactly min(len, PKT_HEAD_COPY) bytes into the head whatever
 * the cuts; pkt_parse() must read nothing outside the head, agree with a
 * plain reference parser restated here, and never leave an offset or a
 * flag that claims more than the head holds (nor pkt_parse_l3(), its walk
 * behind every tag); pkt_to_buf(), pkt_copy() and
 * pkt_segs() must give back the frame (head from the private copy, the
 * rest from the view), also after a push into the headroom; the VXLAN
 * flow hash and vxlan_flow4_of() of the frame unparsed (vxlan_raw4_l4())
 * must be the parsed frame's.
 *
 * Input format:
 *
 *   off  size  field
 *     0   u8   nsplit   iovec pieces the frame is cut into: 1 + v % 16
 *     1   u8[16] cuts   piece lengths, modulo what is left (the last takes the rest)
 *    17   u8   push     bytes pushed in front after the load (v % 80; 0: none)
 *    18   u8[2] range   pkt_copy() offset and length, as fractions of the frame (v / 255)
 *    20   ...  frame    the frame (at most 4096 bytes used)
 *
 * The frame's bytes are one heap allocation of exactly its length, so
 * ASan sees a read one byte past it; the parse only ever reads the head.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/pkt.h"
#include "packet/vxlan.h"

#define HDR 20
#define FRAME_MAX 4096

static void check(int cond)
{
	if (!cond)
		abort();
}

static unsigned be16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

/* The parse, restated the plain way over a flat copy of the head (@hl bytes of the @len-byte frame). */
struct ref {
	unsigned flags, type, tci, l3, l4, proto;
};

static unsigned ref_l4(unsigned proto, const uint8_t *h, unsigned at, unsigned end)
{
	unsigned need = 0;

	if (proto == 6) {
		if (at + 20 > end || (h[at + 12] >> 4) < 5)
			return 0;
		need = (h[at + 12] >> 4) * 4u;
	} else if (proto == 17 || proto == 1 || proto == 58) {
		need = 8;
	} else if (proto == 132) {
		need = 12;
	}
	return need && at + need <= end ? PKT_F_L4 : 0;
}

/* @max_tags: 1 as pkt_parse(), more as pkt_parse_l3() (every tag; the head bounds them). */
static void ref_parse(const uint8_t *h, unsigned hl, unsigned len, unsigned max_tags, struct ref *r)
{
	unsigned off = 14;

	memset(r, 0, sizeof(*r));
	if (hl < 14)
		return;
	r->type = be16(h + 12);
	for (unsigned t = 0; t < max_tags && (r->type == 0x8100 || r->type == 0x88a8) && hl >= off + 4; t++) {
		r->flags |= PKT_F_VLAN;
		if (!t)
			r->tci = be16(h + 14);
		r->type = be16(h + off + 2);
		off += 4;
	}
	r->l3 = off;
	if (r->type == 0x0800 && hl >= off + 20 && h[off] >> 4 == 4) {
		unsigned ihl = (h[off] & 15) * 4u, tot = be16(h + off + 2);

		if (ihl < 20 || tot < ihl || off + tot > len)
			return;
		r->flags |= PKT_F_IPV4;
		r->proto = h[off + 9];
		if (be16(h + off + 6) & 0x1fff) {
			r->flags |= PKT_F_FRAG;
			return;
		}
		r->l4 = off + ihl;
		r->flags |= ref_l4(r->proto, h, off + ihl, off + tot < hl ? off + tot : hl);
	} else if (r->type == 0x86dd && hl >= off + 40 && h[off] >> 4 == 6) {
		unsigned dgram = off + 40 + be16(h + off + 4), end, at = off + 40, next = h[off + 6];

		if (dgram > len)
			return;
		r->flags |= PKT_F_IPV6;
		end = dgram < hl ? dgram : hl;
		while (next == 0 || next == 43 || next == 60 || next == 44) {
			unsigned xlen;

			if (at + 8 > end) {
				r->proto = next;
				return;
			}
			xlen = next == 44 ? 8 : (h[at + 1] + 1u) * 8;
			if (at + xlen > dgram) {
				r->proto = next;
				return;
			}
			if (next == 44 && (be16(h + at + 2) & 0xfff8)) {
				r->flags |= PKT_F_FRAG;
				r->proto = h[at];
				return;
			}
			next = h[at];
			at += xlen;
		}
		r->proto = next;
		r->l4 = at;
		r->flags |= ref_l4(next, h, at, end);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt p;
	struct iovec iov[16], segs[18];
	unsigned nsplit, n = 0, push;
	uint8_t *frame, *out;
	size_t len, at = 0, off, take, got;
	struct ref r;
	int ns;

	if (size < HDR)
		return 0;
	len = size - HDR;
	if (len > FRAME_MAX)
		len = FRAME_MAX;
	if (len < PKT_ETH_HLEN)
		return 0; /* no port hands the switch a runt */
	nsplit = 1 + data[0] % 16;
	push = data[17] % 80;
	frame = malloc(len);
	out = malloc(len + push + 1);
	check(frame && out);
	memcpy(frame, data + HDR, len);
	for (unsigned i = 0; i + 1 < nsplit; i++) {
		size_t cut = len - at ? data[1 + i] % (len - at + 1) : 0;

		iov[n++] = (struct iovec){ frame + at, cut };
		at += cut;
	}
	iov[n++] = (struct iovec){ frame + at, len - at };

	/* The head: exactly the first bytes, whatever the cuts. */
	pkt_rx_init(&p, iov, n, (uint32_t)len, 1);
	pkt_load(&p);
	check(p.head_len == (len < PKT_HEAD_COPY ? len : PKT_HEAD_COPY));
	check(p.view_off == p.head_len && p.head_off == PKT_HEADROOM);
	check(memcmp(pkt_head(&p), frame, p.head_len) == 0);

	/* The parse, against the reference; nothing it claims lies past the head. */
	ref_parse(frame, p.head_len, (unsigned)len, 1, &r);
	check(p.flags == r.flags && p.ethertype == r.type && p.vlan_tci == r.tci && p.l3_off == r.l3 &&
	      p.l4_off == r.l4 && p.ip_proto == r.proto);
	check(p.l3_off <= p.head_len && p.l4_off <= len);
	if (p.flags & PKT_F_L4)
		check(p.l4_off + 8u <= p.head_len);
	check(pkt_parse(&p) == p.flags); /* idempotent */

	/* Behind every tag (the offload checks' parse): the reference's too, and nothing past the head. */
	{
		struct pkt_l3 o;
		unsigned f = pkt_parse_l3(&p, &o);

		ref_parse(frame, p.head_len, (unsigned)len, 64, &r);
		check(f == (r.flags & ~PKT_F_VLAN) && o.l3_off == r.l3 && o.l4_off == r.l4 && o.ip_proto == r.proto);
		check(o.l3_off <= p.head_len && o.l4_off <= len);
		if (f & PKT_F_L4)
			check(o.l4_off + 8u <= p.head_len);
	}

	/* The VXLAN flow hash and flow4 of the frame unparsed (their raw IPv4 way) are the parsed frame's. */
	{
		static struct pkt q;
		struct vxlan_flow4 fq, fp;
		int oq, op;

		pkt_rx_init(&q, iov, n, (uint32_t)len, 1);
		pkt_load_head(&q);
		memset(&fq, 0, sizeof(fq));
		memset(&fp, 0, sizeof(fp));
		oq = vxlan_flow4_of(&fq, &q);
		op = vxlan_flow4_of(&fp, &p);
		check(oq == op && memcmp(&fq, &fp, sizeof(fq)) == 0);
		check(vxlan_flow_hash(&q) == vxlan_flow_hash(&p));
	}

	/* A source rewriting its buffer now changes nothing delivered from the head. */
	memset(frame, 0xa5, p.head_len);

	/* A push (a tag, an outer header): the copies give the pushed bytes, then the frame. */
	if (push) {
		uint8_t *h = pkt_push(&p, push);

		check(h != NULL);
		memset(h, 0x77, push);
	}
	memset(out, 0, len + push + 1);
	check(pkt_to_buf(&p, out, len + push + 1) == len + push);
	for (unsigned i = 0; i < push; i++)
		check(out[i] == 0x77);
	check(memcmp(out + push, data + HDR, len) == 0);

	off = (len + push) * data[18] / 255;
	take = (len + push) * data[19] / 255 + 1;
	memset(out, 0, len + push + 1);
	got = pkt_copy(&p, off, &(struct iovec){ out, len + push + 1 }, 1, 0, take);
	check(got == (take < len + push - off ? take : len + push - off));
	for (size_t i = off; i < off + got; i++)
		check(out[i - off] == (i < push ? 0x77 : data[HDR + i - push]));

	ns = pkt_segs(&p, segs, 18);
	check(ns >= 1);
	check(iov_size(segs, (unsigned)ns) == len + push);
	check(iov_to_buf(segs, (unsigned)ns, push, out, len) == len);
	check(memcmp(out, data + HDR, len) == 0);

	free(out);
	free(frame);
	return 0;
}
