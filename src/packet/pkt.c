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

/*
 * What the IP parse found, in one word held in registers: the PKT_F_*
 * flags (bits 0-7), the transport protocol (8-15), the transport header's
 * offset (16-31) or 0.  pkt_parse() stores it in its fields,
 * pkt_parse_l3() in its own.
 */
#define L3_RES(flags, proto, l4) ((uint32_t)(flags) | (uint32_t)(proto) << 8 | (uint32_t)(l4) << 16)

/* RFC 791: version 4, 5 <= IHL, IHL * 4 <= total length <= what the frame holds (the rest is padding). */
static inline uint32_t parse_ipv4(uint32_t len, const uint8_t *h, unsigned off, unsigned hl)
{
	unsigned ihl, tot, end, proto;

	if (off + IPV4_HLEN > hl || h[off] >> 4 != 4)
		return 0;
	ihl = (h[off] & 0xfu) * 4;
	tot = rd16(h + off + 2);
	if (ihl < IPV4_HLEN || tot < ihl || off + tot > len || off + ihl > hl)
		return 0;
	proto = h[off + 9];
	if (rd16(h + off + 6) & IPV4_FRAG_OFFSET)
		return L3_RES(PKT_F_IPV4 | PKT_F_FRAG, proto, 0);
	end = off + tot < hl ? off + tot : hl;
	return L3_RES(PKT_F_IPV4 | pkt_l4_flag(proto, h, off + ihl, end), proto, off + ihl);
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
static inline uint32_t parse_ipv6(uint32_t len, const uint8_t *h, unsigned off, unsigned hl)
{
	unsigned dgram, end, next, at = off + IPV6_HLEN;

	if (off + IPV6_HLEN > hl || h[off] >> 4 != 6)
		return 0;
	dgram = off + IPV6_HLEN + rd16(h + off + 4);
	if (dgram > len)
		return 0;
	end = dgram < hl ? dgram : hl;
	next = h[off + 6];
	for (;;) {
		unsigned xlen = 8;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT)
			break;
		if (at + 8 > end)
			return L3_RES(PKT_F_IPV6, next, 0);
		if (next == IPPROTO_FRAGMENT) {
			if (rd16(h + at + 2) & IPV6_FRAG_OFFSET)
				return L3_RES(PKT_F_IPV6 | PKT_F_FRAG, h[at], 0);
		} else {
			xlen = (h[at + 1] + 1u) * 8;
			if (at + xlen > dgram)
				return L3_RES(PKT_F_IPV6, next, 0);
		}
		next = h[at];
		at += xlen;
	}
	return L3_RES(PKT_F_IPV6 | pkt_l4_flag(next, h, at, end), next, at);
}

/* The IP header at @off (EtherType @type) and what follows it, as L3_RES(). */
static inline uint32_t parse_l3(uint32_t len, const uint8_t *h, unsigned off, unsigned hl, unsigned type)
{
	if (type == ETHERTYPE_IPV4)
		return parse_ipv4(len, h, off, hl);
	if (type == ETHERTYPE_IPV6)
		return parse_ipv6(len, h, off, hl);
	return 0;
}

unsigned pkt_parse(struct pkt *p)
{
	const uint8_t *h = pkt_head(p);
	unsigned hl = p->head_len, off = PKT_ETH_HLEN, flags = p->flags & PKT_F_TUNNEL, type;
	uint32_t r;

	p->vlan_tci = 0;
	if (hl < PKT_ETH_HLEN) {
		/* No port hands over such a frame (a runt is its drop); parsed as nothing. */
		p->ethertype = 0;
		p->l3_off = 0;
		p->l4_off = 0;
		p->ip_proto = 0;
		p->flags = (uint8_t)flags;
		p->parsed = true;
		return flags;
	}
	type = rd16(h + 12);
	if ((type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) && off + PKT_VLAN_HLEN <= hl) {
		/*
		 * One tag; what follows a second one is left unparsed (ethertype:
		 * the inner tag's), as OVS's default vlan-limit of 1 leaves it to
		 * the flows.  The offload checks look behind every tag
		 * (pkt_parse_l3()).
		 */
		p->vlan_tci = (uint16_t)rd16(h + 14);
		type = rd16(h + 16);
		off += PKT_VLAN_HLEN;
		flags |= PKT_F_VLAN;
	}
	p->ethertype = (uint16_t)type;
	p->l3_off = (uint16_t)off;
	r = parse_l3(p->len, h, off, hl, type);
	p->ip_proto = (uint8_t)(r >> 8);
	p->l4_off = (uint16_t)(r >> 16);
	flags |= r & 0xff;
	p->flags = (uint8_t)flags;
	p->parsed = true;
	return flags;
}

unsigned pkt_parse_l3(const struct pkt *p, struct pkt_l3 *o)
{
	const uint8_t *h = pkt_head(p);
	unsigned hl = p->head_len, off = PKT_ETH_HLEN, type;
	uint32_t r;

	if (hl < PKT_ETH_HLEN) {
		*o = (struct pkt_l3){ 0 };
		return 0;
	}
	type = rd16(h + 12);
	/* Every tag the head holds: the head's length bounds the walk. */
	while ((type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) && off + PKT_VLAN_HLEN <= hl) {
		type = rd16(h + off + 2);
		off += PKT_VLAN_HLEN;
	}
	r = parse_l3(p->len, h, off, hl, type);
	o->l3_off = (uint16_t)off;
	o->ip_proto = (uint8_t)(r >> 8);
	o->l4_off = (uint16_t)(r >> 16);
	return r & 0xff;
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

bool pkt_load_long(struct pkt *p, unsigned want)
{
	uint8_t *to;
	size_t more;

	if (want > sizeof(p->buf))
		want = sizeof(p->buf);
	if (want > p->len)
		want = p->len;
	if (want <= p->head_len)
		return true;
	/* The head ends at the buffer's end: the most headroom in front of it. */
	to = p->buf + sizeof(p->buf) - want;
	memmove(to, pkt_head(p), p->head_len);
	p->head_off = (uint16_t)(to - p->buf);
	more = want - p->head_len;
	if (iov_to_buf(p->iov, p->niov, p->view_off, to + p->head_len, more) != more)
		return false;
	p->head_len = (uint16_t)want;
	p->view_off = (uint16_t)(p->view_off + more);
	p->parsed = false;
	return true;
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
