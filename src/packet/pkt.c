/* pkt.c - the packet: its head copied from the view, the head parsed, and the frame copied out (head, then view). */
#include "packet/pkt.h"

#include <netinet/in.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100	/* 802.1Q */
#define ETHERTYPE_QINQ 0x88a8	/* 802.1ad, the outer tag of two */
#define IPV4_HLEN 20u
#define IPV6_HLEN 40u
#define IPV4_FRAG_OFFSET 0x1fff	/* in the flags + fragment offset word */
#define IPV6_FRAG_OFFSET 0xfff8	/* in the fragment header's offset word */

static inline unsigned rd16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

/* RFC 791: version 4, 5 <= IHL, IHL * 4 <= total length <= what the frame holds (the rest is padding). */
static unsigned parse_ipv4(struct pkt *p, const uint8_t *h, unsigned off, unsigned hl)
{
	unsigned ihl, tot, end;

	if (off + IPV4_HLEN > hl || h[off] >> 4 != 4)
		return 0;
	ihl = (h[off] & 0xfu) * 4;
	tot = rd16(h + off + 2);
	if (ihl < IPV4_HLEN || tot < ihl || off + tot > p->len || off + ihl > hl)
		return 0;
	p->ip_proto = h[off + 9];
	if (rd16(h + off + 6) & IPV4_FRAG_OFFSET)
		return PKT_F_IPV4 | PKT_F_FRAG;
	p->l4_off = (uint16_t)(off + ihl);
	end = off + tot < hl ? off + tot : hl;
	return PKT_F_IPV4 | pkt_l4_flag(p->ip_proto, h, off + ihl, end);
}

/*
 * RFC 8200: version 6, the payload inside the frame; then the extension
 * headers vsw can step over (hop-by-hop, routing, destination options,
 * fragment), each at least 8 bytes, read within the head: the head's size
 * bounds the walk.  One whose first 8 bytes are past the head, or that
 * claims more than the payload, ends it: ip_proto is then that header's
 * number and l4_off stays 0.  A transport header may start past the head
 * (long options): l4_off says where, PKT_F_L4 stays clear.
 */
static unsigned parse_ipv6(struct pkt *p, const uint8_t *h, unsigned off, unsigned hl)
{
	unsigned dgram, end, next, at = off + IPV6_HLEN;

	if (off + IPV6_HLEN > hl || h[off] >> 4 != 6)
		return 0;
	dgram = off + IPV6_HLEN + rd16(h + off + 4);
	if (dgram > p->len)
		return 0;
	end = dgram < hl ? dgram : hl;
	next = h[off + 6];
	for (;;) {
		unsigned xlen = 8;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT)
			break;
		if (at + 8 > end)
			goto stop;
		if (next == IPPROTO_FRAGMENT) {
			if (rd16(h + at + 2) & IPV6_FRAG_OFFSET) {
				p->ip_proto = h[at];
				return PKT_F_IPV6 | PKT_F_FRAG;
			}
		} else {
			xlen = (h[at + 1] + 1u) * 8;
			if (at + xlen > dgram)
				goto stop;
		}
		next = h[at];
		at += xlen;
	}
	p->ip_proto = (uint8_t)next;
	p->l4_off = (uint16_t)at;
	return PKT_F_IPV6 | pkt_l4_flag(next, h, at, end);

stop:
	p->ip_proto = (uint8_t)next;
	return PKT_F_IPV6;
}

unsigned pkt_parse(struct pkt *p)
{
	const uint8_t *h = pkt_head(p);
	unsigned hl = p->head_len, off = PKT_ETH_HLEN, flags = p->flags & PKT_F_TUNNEL, type;

	p->vlan_tci = 0;
	p->l4_off = 0;
	p->ip_proto = 0;
	if (hl < PKT_ETH_HLEN) {
		/* No port hands over such a frame (a runt is its drop); parsed as nothing. */
		p->ethertype = 0;
		p->l3_off = 0;
		p->flags = (uint8_t)flags;
		p->parsed = true;
		return flags;
	}
	type = rd16(h + 12);
	if ((type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) && off + PKT_VLAN_HLEN <= hl) {
		/* One tag; what follows a second one is left unparsed (ethertype: the inner tag's). */
		p->vlan_tci = (uint16_t)rd16(h + 14);
		type = rd16(h + 16);
		off += PKT_VLAN_HLEN;
		flags |= PKT_F_VLAN;
	}
	p->ethertype = (uint16_t)type;
	p->l3_off = (uint16_t)off;
	if (type == ETHERTYPE_IPV4)
		flags |= parse_ipv4(p, h, off, hl);
	else if (type == ETHERTYPE_IPV6)
		flags |= parse_ipv6(p, h, off, hl);
	p->flags = (uint8_t)flags;
	p->parsed = true;
	return flags;
}

/* The head, copied from the view: pkt_load() without the parse, inline in the burst's loop. */
static inline void load(struct pkt *p)
{
	uint32_t n = p->len < PKT_HEAD_COPY ? p->len : PKT_HEAD_COPY;
	uint8_t *h = p->buf + PKT_HEADROOM;

	p->head_off = PKT_HEADROOM;
	p->head_len = (uint16_t)n;
	p->view_off = (uint16_t)n;
	/* The one read of the frame's first bytes from the source's memory. */
	if (p->iov[0].iov_len >= n)
		pkt_copy_small(h, p->iov[0].iov_base, n);
	else
		iov_to_buf(p->iov, p->niov, 0, h, n);
	p->parsed = false;
	p->loaded = true;
}

void pkt_load_head(struct pkt *p)
{
	load(p);
}

void pkt_load(struct pkt *p)
{
	load(p);
	pkt_parse(p);
}

void pkt_load_burst(struct pkt *pkts, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		/* A frame loaded at rx (an offload request checked, a tag pushed) is never read twice. */
		if (!pkts[i].loaded)
			load(&pkts[i]);
}

/*
 * The one walk over a frame's segments, in order: the head (the private
 * copy), then the view from view_off on, cut at the frame's end.
 * pkt_copy() and pkt_segs() are both this walk.
 */
struct seg_walk {
	const struct pkt *p;
	unsigned i;		/* next view entry */
	size_t skip;		/* view bytes still to pass over (what the head holds) */
	size_t rest;		/* frame bytes after the head still to give */
	bool head_done;
};

static void seg_start(struct seg_walk *w, const struct pkt *p)
{
	*w = (struct seg_walk){ .p = p, .skip = p->view_off, .rest = p->len - p->head_len };
}

/* The next non-empty segment into *@seg; false at the frame's end (or the view's, if shorter). */
static bool seg_next(struct seg_walk *w, struct iovec *seg)
{
	const struct pkt *p = w->p;

	if (!w->head_done) {
		w->head_done = true;
		*seg = (struct iovec){ .iov_base = pkt_head(p), .iov_len = p->head_len };
		if (p->head_len)
			return true;
	}
	for (; w->i < p->niov && w->rest; w->i++) {
		size_t l = p->iov[w->i].iov_len;

		if (w->skip >= l) {
			w->skip -= l;
			continue;
		}
		l -= w->skip;
		if (l > w->rest)
			l = w->rest;
		*seg = (struct iovec){ .iov_base = (uint8_t *)p->iov[w->i].iov_base + w->skip, .iov_len = l };
		w->skip = 0;
		w->rest -= l;
		w->i++;
		return true;
	}
	return false;
}

size_t pkt_copy(const struct pkt *p, size_t off, const struct iovec *dst, unsigned dn, size_t doff, size_t len)
{
	struct seg_walk w;
	struct iovec seg;
	size_t done = 0;

	seg_start(&w, p);
	while (done < len && seg_next(&w, &seg)) {
		size_t take, got;

		if (off >= seg.iov_len) {
			off -= seg.iov_len;
			continue;
		}
		take = seg.iov_len - off < len - done ? seg.iov_len - off : len - done;
		got = iov_from_buf(dst, dn, doff + done, (const uint8_t *)seg.iov_base + off, take);
		done += got;
		if (got < take)
			break; /* @dst is full */
		off = 0;
	}
	return done;
}

int pkt_segs_walk(const struct pkt *p, struct iovec *out, unsigned max)
{
	struct seg_walk w;
	struct iovec seg;
	unsigned n = 0;

	seg_start(&w, p);
	while (seg_next(&w, &seg)) {
		if (n == max)
			return -1;
		out[n++] = seg;
	}
	return (int)n;
}
