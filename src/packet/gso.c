/* gso.c - software segmentation and checksum completion: the checks an offload request passes, segments built as private heads over the source's view. */
#include "packet/gso.h"

#include <errno.h>
#include <netinet/in.h>

#include "packet/csum.h"
#include "packet/iov.h"
#include "packet/vnet_hdr.h"

const char *const gso_bad_names[GSO_BAD__COUNT] = {
	[GSO_OK] = "ok",
	[GSO_BAD_CSUM_RANGE] = "csum_range",
	[GSO_BAD_CSUM_FIELD] = "csum_field",
	[GSO_BAD_HEADERS] = "headers",
	[GSO_BAD_TYPE] = "gso_type",
	[GSO_BAD_SIZE] = "gso_size",
	[GSO_BAD_CSUM_PLACE] = "csum_place",
	[GSO_BAD_IP_LEN] = "ip_length",
	[GSO_BAD_VIEW] = "view",
};

#define TCP_CSUM_OFF 16u
#define UDP_CSUM_OFF 6u
#define TCP_FIN 0x01u
#define TCP_PSH 0x08u
#define TCP_CWR 0x80u

/* Where a checked segmentation request's headers lie. */
struct geom {
	unsigned l3, l4;	/* from the frame's start */
	unsigned hdr;		/* headers' end: the payload starts here */
	unsigned mss;		/* payload bytes per segment */
	unsigned nseg;
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	bool v6, udp;
	/* A UDP tunnel's packet (gso_tunnel()): l3, l4 above are the inner headers; these the outer. */
	bool tun;
	bool ov6;		/* the outer IP header is IPv6 */
	bool ocsum;		/* the outer UDP checksum is in use (not zero): computed for each segment */
	unsigned ol3, ol4;	/* outer IP and UDP headers */
};

static unsigned rd16(const uint8_t *b)
{
	return (unsigned)b[0] << 8 | b[1];
}

static void wr16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static bool segmenting(const struct pkt *p)
{
	return (p->gso_type & PKT_GSO_TYPE) != VNET_GSO_NONE;
}

/* Does the IPv4 (@v6 false) or IPv6 datagram at @l3 end where the @len-byte frame does (no padding after it)? */
static bool ip_ends_at(const uint8_t *h, unsigned l3, bool v6, size_t len)
{
	return v6 ? rd16(h + l3 + 4) + 40u == len - l3 : rd16(h + l3 + 2) == len - l3;
}

/*
 * A segment's IP header at @l3 (its transport header at @l4) for the
 * segment's @len bytes: the length, and for IPv4 the ID one more for each
 * segment before (@k: no fixed IDs in virtio) and the header sum.
 */
static void seg_ip(uint8_t *h, unsigned l3, unsigned l4, bool v6, size_t len, unsigned k)
{
	uint16_t c;

	if (v6) {
		wr16(h + l3 + 4, (unsigned)(len - l3 - 40));
		return;
	}
	wr16(h + l3 + 2, (unsigned)(len - l3));
	wr16(h + l3 + 4, (rd16(h + l3 + 4) + k) & 0xffff);
	c = csum_ipv4_hdr(h + l3, l4 - l3);
	memcpy(h + l3 + 10, &c, 2);
}

/* The pseudo-header sum of the IP header at @l3 for @l4_len bytes of @proto. */
static uint32_t seg_pseudo(const uint8_t *h, unsigned l3, bool v6, uint8_t proto, uint32_t l4_len)
{
	return v6 ? csum_pseudo_ipv6(h + l3 + 8, h + l3 + 24, proto, l4_len)
		  : csum_pseudo_ipv4(h + l3 + 12, h + l3 + 16, proto, l4_len);
}

/*
 * The inner IP header of a UDP tunnel's packet whose transport header
 * (@proto) starts at @l4, found by what it says of itself: IPv6 (no
 * extension headers) 40 bytes before with that next header and a payload
 * length reaching the frame's end; or IPv4 whose IHL puts it where it
 * ends at @l4, with that protocol, not a fragment, and a total length
 * reaching the frame's end.  Not before @from (the outer UDP header's
 * end).  Its offset, or 0.
 */
static unsigned inner_l3(const uint8_t *h, unsigned from, unsigned l4, unsigned len, unsigned proto, bool *v6)
{
	if (l4 >= from + 40 && h[l4 - 40] >> 4 == 6 && h[l4 - 34] == proto && ip_ends_at(h, l4 - 40, true, len)) {
		*v6 = true;
		return l4 - 40;
	}
	for (unsigned ihl = 20; ihl <= 60 && l4 >= from + ihl; ihl += 4) {
		const uint8_t *ip = h + l4 - ihl;

		if (ip[0] == (0x40 | ihl / 4) && ip[9] == proto && ip_ends_at(h, l4 - ihl, false, len) &&
		    !(rd16(ip + 6) & 0x3fff)) {
			*v6 = false;
			return l4 - ihl;
		}
	}
	return 0;
}

/*
 * A segmentation request on a UDP tunnel's packet, as Linux's AF_PACKET
 * and tun give one from a container's or host's vxlan/geneve device
 * (virtio_net_hdr_from_skb(): the inner packet's GSO type, csum_start at
 * the inner transport header, nothing said of the tunnel): the outer
 * headers (@o, @oflags: IP and UDP, whole in the head) are fixed for each
 * segment as the inner ones are.  Fills @g's inner and outer offsets;
 * GSO_OK or why not.  hdr (the inner transport header's end) may lie past
 * the head: gso_check() loads a longer one.
 */
static enum gso_bad geom_tunnel(const struct pkt *p, const struct pkt_l3 *o, unsigned oflags, unsigned type,
				struct geom *g)
{
	const uint8_t *h = pkt_head(p);
	unsigned cs = p->csum_start, proto = type == VNET_GSO_UDP_L4 ? IPPROTO_UDP : IPPROTO_TCP, l3;
	bool v6;

	g->tun = true;
	g->ol3 = o->l3_off;
	g->ol4 = o->l4_off;
	g->ov6 = oflags & PKT_F_IPV6;
	g->ocsum = h[g->ol4 + 6] || h[g->ol4 + 7];
	if (p->csum != PKT_CSUM_PARTIAL || p->csum_offset != (proto == IPPROTO_UDP ? UDP_CSUM_OFF : TCP_CSUM_OFF) ||
	    cs + (proto == IPPROTO_UDP ? 8u : 20u) > p->head_len)
		return GSO_BAD_CSUM_PLACE;
	l3 = inner_l3(h, g->ol4 + 8, cs, p->len, proto, &v6);
	/* The outer UDP sum, done from the bytes up to the inner header, wants them in 16-bit words. */
	if (!l3 || ((cs - g->ol4) & 1))
		return GSO_BAD_HEADERS;
	if ((type == VNET_GSO_TCPV4 && v6) || (type == VNET_GSO_TCPV6 && !v6) ||
	    ((p->gso_type & PKT_GSO_ECN) && proto == IPPROTO_UDP))
		return GSO_BAD_TYPE;
	g->l3 = l3;
	g->l4 = cs;
	g->proto = (uint8_t)proto;
	g->v6 = v6;
	g->udp = proto == IPPROTO_UDP;
	if (g->udp) {
		g->hdr = cs + 8;
	} else {
		g->hdr = cs + (h[cs + 12] >> 4) * 4u;
		if (g->hdr < cs + 20)
			return GSO_BAD_HEADERS;
	}
	/* Both datagrams end where the frame does: each segment's lengths are computed from its own. */
	if (!ip_ends_at(h, g->ol3, g->ov6, p->len) || rd16(h + g->ol4 + 4) != p->len - g->ol4)
		return GSO_BAD_IP_LEN;
	return GSO_OK;
}

/*
 * The geometry of @p's segmentation request, from its head: behind every
 * tag (pkt_parse_l3()), so a QinQ frame's TCP header is found where the
 * parse's one tag stops short of it, and the head read as it is now (a
 * tag pushed for a destination since the parse moves every offset); a UDP
 * tunnel's packet by geom_tunnel().  GSO_OK or why not.
 */
static enum gso_bad geom_of(const struct pkt *p, struct geom *g)
{
	const uint8_t *h = pkt_head(p);
	unsigned type = p->gso_type & PKT_GSO_TYPE, payload;
	struct pkt_l3 o;
	unsigned flags = pkt_parse_l3(p, &o);
	enum gso_bad bad;

	if (!(flags & (PKT_F_IPV4 | PKT_F_IPV6)) || (flags & PKT_F_FRAG) || !(flags & PKT_F_L4))
		return GSO_BAD_HEADERS;
	g->tun = false;
	g->l3 = o.l3_off;
	g->l4 = o.l4_off;
	g->proto = o.ip_proto;
	g->v6 = flags & PKT_F_IPV6;
	g->udp = o.ip_proto == IPPROTO_UDP;
	/* The sum starts past the outer UDP header: a tunnel's packet, whatever the type says (it names the inner). */
	if (g->udp && type != VNET_GSO_UDP && p->csum == PKT_CSUM_PARTIAL && p->csum_start > g->l4 + 8) {
		bad = geom_tunnel(p, &o, flags, type, g);
		if (bad != GSO_OK)
			return bad;
		goto cut;
	}
	switch (type) {
	case VNET_GSO_TCPV4:
	case VNET_GSO_TCPV6:
		if (o.ip_proto != IPPROTO_TCP || g->v6 != (type == VNET_GSO_TCPV6))
			return GSO_BAD_TYPE;
		g->hdr = g->l4 + (h[g->l4 + 12] >> 4) * 4u; /* PKT_F_L4: the whole TCP header is in the head */
		break;
	case VNET_GSO_UDP_L4:
		if (!g->udp || (p->gso_type & PKT_GSO_ECN))
			return GSO_BAD_TYPE;
		g->hdr = g->l4 + 8;
		break;
	default:
		return GSO_BAD_TYPE; /* UFO (IP fragments of one datagram): not taken anywhere here */
	}
	/* A segment's IP length is computed from the frame's: the frame must end where the IP datagram does. */
	if (!ip_ends_at(h, g->l3, g->v6, p->len))
		return GSO_BAD_IP_LEN;
	if (p->csum != PKT_CSUM_PARTIAL || p->csum_start != g->l4 ||
	    p->csum_offset != (g->udp ? UDP_CSUM_OFF : TCP_CSUM_OFF))
		return GSO_BAD_CSUM_PLACE;
cut:
	if (g->hdr > p->len || g->hdr > p->head_len)
		return GSO_BAD_HEADERS;
	g->mss = p->gso_size;
	if (g->mss == 0)
		return GSO_BAD_SIZE;
	payload = p->len - g->hdr;
	g->nseg = payload ? (payload + g->mss - 1) / g->mss : 1;
	if (g->nseg > GSO_SEGS_MAX)
		return GSO_BAD_SIZE;
	return GSO_OK;
}

/*
 * Where a checksum-only request (no segmentation) may have its sum written:
 * nowhere the switch read to decide the frame's way, since the sum is
 * written at egress, after the checks (port security's MACs and IP
 * addresses, VLAN tags, the flows' fields).  So the sum starts at L3 or
 * after, and its field is the L4 header's own checksum field or lies past
 * the L4 header (an inner checksum of a tunnelled packet); for a protocol
 * vsw does not parse, anywhere from the L4 header on; without an L4
 * header in sight, past the IP header; and not in an ARP frame's 28 bytes
 * (the switch reads its sender, the flows its fields).  Linux's
 * virtio_net_hdr_to_skb() is looser (a transport offset of 20 or more
 * from the frame's start); a driver's request that points anywhere else
 * is not a checksum its stack would ask for.  A QinQ frame is judged by
 * its headers behind the second tag (pkt_parse_l3()), as a frame with
 * one tag by those behind it.
 */
static bool csum_place_ok(struct pkt *p)
{
	unsigned flags = pkt_parsed(p), l3 = p->l3_off, l4 = p->l4_off, proto = p->ip_proto;
	unsigned f = (unsigned)p->csum_start + p->csum_offset; /* the field's first byte */
	const uint8_t *h = pkt_head(p);

	if ((flags & PKT_F_VLAN) && (p->ethertype == PKT_TPID_8021Q || p->ethertype == PKT_TPID_8021AD)) {
		struct pkt_l3 o;

		flags = pkt_parse_l3(p, &o);
		l3 = o.l3_off;
		l4 = o.l4_off;
		proto = o.ip_proto;
	}

	if (p->csum_start < l3 || !l3)
		return false;
	if (!(flags & (PKT_F_IPV4 | PKT_F_IPV6)))
		return f >= l3 + 28u;
	if (!(flags & PKT_F_L4))
		return f >= l3 + ((flags & PKT_F_IPV4) ? (h[l3] & 0xfu) * 4u : 40u);
	if (f < l4)
		return false;
	switch (proto) {
	case IPPROTO_TCP:
		return f == l4 + TCP_CSUM_OFF || f >= l4 + (h[l4 + 12] >> 4) * 4u;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		return f == l4 + UDP_CSUM_OFF || f >= l4 + 8u;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return f == l4 + 2u || f >= l4 + 8u;
	case IPPROTO_SCTP:
		return f == l4 + 8u || f >= l4 + 12u; /* ports, verification tag */
	default:
		return true;
	}
}

enum gso_bad gso_check(struct pkt *p)
{
	struct geom g;

	if (p->csum == PKT_CSUM_PARTIAL && (size_t)p->csum_start + p->csum_offset + 2 > p->len)
		return GSO_BAD_CSUM_RANGE;
	p->gso_type &= (uint8_t)~PKT_GSO_TUNNEL; /* this check's to say, not the medium's */
	if (p->gso_type == PKT_GSO_ECN)
		return GSO_BAD_TYPE; /* ECN on top of no segmentation */
	if (segmenting(p)) {
		enum gso_bad bad;

		/*
		 * Headers that may reach past the head (a tunnel's: an IPv6 VXLAN
		 * header and inner IPv6 + TCP make 156 bytes and more): a longer
		 * one, so that each segment's headers come from it.
		 */
		if (p->csum == PKT_CSUM_PARTIAL && p->csum_start + 60u > p->head_len && p->len > p->head_len &&
		    !pkt_load_long(p, PKT_HEAD_LONG))
			return GSO_BAD_VIEW;
		pkt_parsed(p);
		bad = geom_of(p, &g);
		if (bad == GSO_OK && g.tun)
			p->gso_type |= PKT_GSO_TUNNEL;
		return bad;
	}
	if (p->csum == PKT_CSUM_PARTIAL && (size_t)p->csum_start + p->csum_offset + 2 > GSO_CSUM_FIELD_MAX)
		return GSO_BAD_CSUM_FIELD;
	if (p->csum == PKT_CSUM_PARTIAL && !csum_place_ok(p))
		return GSO_BAD_CSUM_PLACE;
	return GSO_OK;
}

unsigned gso_seg_len(const struct pkt *p)
{
	struct geom g;

	if (!segmenting(p) || geom_of(p, &g) != GSO_OK)
		return p->len; /* checked at rx: only a frame with no segmentation */
	return g.hdr + g.mss < p->len ? g.hdr + g.mss : p->len;
}

unsigned gso_count(const struct pkt *p)
{
	struct geom g;

	if (!segmenting(p))
		return 1;
	return geom_of(p, &g) == GSO_OK ? g.nseg : 0;
}

bool gso_pkt_sum(const struct pkt *p, size_t off, size_t len, uint32_t *sum)
{
	size_t end = off + len, in_head, got;
	uint32_t s = 0;
	uint16_t v;

	if (end > p->len)
		return false;
	in_head = off < p->head_len ? (end < p->head_len ? end : p->head_len) - off : 0;
	if (in_head)
		s = csum_add(0, pkt_head(p) + off, in_head);
	if (in_head == len) {
		*sum = s;
		return true;
	}
	/* The rest from the view: frame byte f >= head_len is view byte view_off + (f - head_len). */
	off += in_head;
	v = csum_fold(csum_add_iov(0, p->iov, p->niov, p->view_off + (off - p->head_len), end - off, &got));
	if (got != end - off)
		return false;
	if (in_head & 1)
		v = (uint16_t)(v << 8 | v >> 8); /* it starts at an odd position of the summed bytes */
	*sum = csum_add(s, &v, 2);
	return true;
}

int gso_copy_finish(const struct pkt *s, uint8_t *buf)
{
	size_t start = s->csum_start, left, done;
	uint16_t c, part;
	uint64_t acc;

	if (s->csum == PKT_CSUM_NONE)
		return (int)pkt_to_buf(s, buf, s->len); /* a finished frame (complete_one()'s clone): a copy */
	if (s->csum != PKT_CSUM_PARTIAL || s->len < s->head_len || start + s->csum_offset + 2 > s->head_len)
		return -EINVAL;
	/* The head (headers, and payload bytes it holds) with fixed-size moves; its L4 part summed from the copy. */
	pkt_copy_small(buf, pkt_head(s), s->head_len);
	acc = csum_add(0, buf + start, s->head_len - start);
	/*
	 * The view: copied and summed in one pass (csum_copy_iov()), its sum
	 * swapped when it starts at an odd position of the L4 bytes
	 * (csum_add_at()'s rule).  The field holds the seed: it is summed as
	 * it is, as finish_l4() sums it.
	 */
	left = s->len - s->head_len;
	part = csum_fold(csum_copy_iov(buf + s->head_len, s->iov, s->niov, s->view_off, left, &done));
	if (done != left)
		return -EINVAL;
	if ((s->head_len - start) & 1)
		part = (uint16_t)(part << 8 | part >> 8);
	acc += part;
	c = csum_finish_l4_64(acc, s->csum_offset);
	memcpy(buf + start + s->csum_offset, &c, 2);
	return (int)s->len;
}

/* @s: a copy of @p's metadata (line 0, and the tunnel line under PKT_F_TUNNEL), nothing left to offload. */
static void meta_copy(struct pkt *s, const struct pkt *p)
{
	memcpy(s, p, offsetof(struct pkt, tun));
	if (p->flags & PKT_F_TUNNEL)
		s->tun = p->tun;
	s->csum = PKT_CSUM_NONE;
	s->gso_type = VNET_GSO_NONE;
	s->gso_size = 0;
	s->csum_start = 0;
	s->csum_offset = 0;
}

/* Complete the checksum of @s at @start + @off (inside its head) over the bytes from @start, with @seed in the field. */
static bool finish_l4(struct pkt *s, unsigned start, unsigned off, uint32_t seed)
{
	uint8_t *field = pkt_head(s) + start + off;
	uint16_t c = csum_fold(seed);
	uint32_t sum;

	memcpy(field, &c, 2);
	if (!gso_pkt_sum(s, start, s->len - start, &sum))
		return false;
	c = csum_finish_l4(sum, off);
	memcpy(field, &c, 2);
	return true;
}

/*
 * A clone of @p (a partial checksum, no segmentation) with the checksum
 * completed in its own head.  A field past @p's head (an inner checksum
 * behind a long tunnel header, IPv6 extension headers; gso_check() lets
 * it reach GSO_CSUM_FIELD_MAX) gets the clone a longer head: the bytes up
 * to the field's end read from the view by pkt_load_long(), the head at
 * the buffer's end (its headroom is spent: nothing pushes after this).
 */
static int complete_one(const struct pkt *p, struct pkt *s)
{
	size_t end = (size_t)p->csum_start + p->csum_offset + 2;
	uint32_t sum;
	uint16_t c;

	meta_copy(s, p);
	if (end > p->head_len) {
		if (end > sizeof(s->buf) || end > p->len)
			return -EINVAL;
		s->head_off = (uint16_t)(sizeof(s->buf) - end); /* where pkt_load_long() puts it: no second move */
	}
	memcpy(pkt_head(s), pkt_head(p), p->head_len);
	if (end > p->head_len && !pkt_load_long(s, (unsigned)end))
		return -EINVAL;
	/* The field holds the sender's seed (the pseudo-header sum): it is summed as it is (csum.h). */
	if (!gso_pkt_sum(s, p->csum_start, s->len - p->csum_start, &sum))
		return -EINVAL;
	c = csum_finish_l4(sum, p->csum_offset);
	memcpy(pkt_head(s) + p->csum_start + p->csum_offset, &c, 2);
	return 1;
}

/* Leave @s's L4 checksum at @start + @off for its destination: the field holds the folded pseudo-header sum @seed. */
static bool leave_l4(struct pkt *s, unsigned start, unsigned off, uint32_t seed)
{
	uint16_t c = csum_fold(seed);

	memcpy(pkt_head(s) + start + off, &c, 2);
	s->csum = PKT_CSUM_PARTIAL;
	s->csum_start = (uint16_t)start;
	s->csum_offset = (uint16_t)off;
	return true;
}

/*
 * A tunnel's segment @s (geometry @g; @k-th): the outer IP and UDP headers
 * for its length, and the outer UDP checksum when the sender used one,
 * from the headers alone (RFC 7348 allows it zero over IPv4; RFC 6935
 * over IPv6 only by configuration: a zero one stays zero): the inner
 * transport bytes, completed or still partial, sum to the complement of
 * their pseudo-header sum @inner_seed, so the payload is not read again
 * (Linux's local checksum offload, Documentation/networking/checksum-offloads.rst).
 */
static void outer_fix(struct pkt *s, const struct geom *g, unsigned k, uint32_t inner_seed)
{
	uint8_t *h = pkt_head(s);
	unsigned ulen = s->len - g->ol4;
	uint32_t sum;
	uint16_t c;

	seg_ip(h, g->ol3, g->ol4, g->ov6, s->len, k);
	wr16(h + g->ol4 + 4, ulen);
	if (!g->ocsum)
		return;
	sum = seg_pseudo(h, g->ol3, g->ov6, IPPROTO_UDP, ulen);
	memset(h + g->ol4 + 6, 0, 2);
	sum = csum_add(sum, h + g->ol4, g->l4 - g->ol4); /* an even count (geom_tunnel()) */
	c = (uint16_t)~csum_fold(inner_seed);
	sum = csum_add(sum, &c, 2);
	c = (uint16_t)~csum_fold(sum);
	if (!c)
		c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	memcpy(h + g->ol4 + 6, &c, 2);
}

/* Segment @k of @p (geometry @g) into @s, its L4 checksum completed or, with @partial, left partial. */
static bool build_seg(const struct pkt *p, const struct geom *g, unsigned k, struct pkt *s, bool partial)
{
	bool (*l4_sum)(struct pkt *, unsigned, unsigned, uint32_t) = partial ? leave_l4 : finish_l4;

	size_t ps = g->hdr + (size_t)k * g->mss, pe = ps + g->mss < p->len ? ps + g->mss : p->len;
	size_t in_head = ps < p->head_len ? (pe < p->head_len ? pe : p->head_len) - ps : 0;
	size_t hl = g->hdr + in_head, l4_len;
	bool last = k + 1 == g->nseg;
	uint8_t *h, *l4;
	uint32_t seed;

	meta_copy(s, p);
	s->len = (uint32_t)(g->hdr + (pe - ps));
	s->head_len = (uint16_t)hl;
	/* Where the source's head sat, or lower when it is longer than a head (a pushed header and payload). */
	s->head_off = (uint16_t)(hl <= sizeof(s->buf) - PKT_HEADROOM ? PKT_HEADROOM : sizeof(s->buf) - hl);
	s->view_off = (uint16_t)(p->view_off + (ps > p->head_len ? ps - p->head_len : 0));
	h = pkt_head(s);
	memcpy(h, pkt_head(p), g->hdr);
	memcpy(h + g->hdr, pkt_head(p) + ps, in_head);
	l4 = h + g->l4;
	l4_len = s->len - g->l4;
	seg_ip(h, g->l3, g->l4, g->v6, s->len, k);
	seed = seg_pseudo(h, g->l3, g->v6, g->proto, (uint32_t)l4_len);
	if (g->tun)
		outer_fix(s, g, k, seed);
	if (g->udp) {
		wr16(l4 + 4, (unsigned)l4_len);
		return l4_sum(s, g->l4, UDP_CSUM_OFF, seed);
	}
	{
		uint32_t seq = (uint32_t)rd16(l4 + 4) << 16 | rd16(l4 + 6);

		seq += (uint32_t)k * g->mss;
		wr16(l4 + 4, seq >> 16);
		wr16(l4 + 6, seq & 0xffff);
	}
	/* What the sender's stack would have sent: CWR on the first segment only, FIN and PSH on the last. */
	if (k)
		l4[13] &= (uint8_t)~TCP_CWR;
	if (!last)
		l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
	return l4_sum(s, g->l4, TCP_CSUM_OFF, seed);
}

/* gso_segment() and gso_segment_partial(): @partial leaves the segments' L4 checksums to the destination. */
static int segment(const struct pkt *p, unsigned first, struct pkt *out, unsigned max, bool partial)
{
	struct geom g;
	unsigned n = 0;

	if (!segmenting(p))
		return first == 0 && max ? complete_one(p, out) : 0;
	if (geom_of(p, &g) != GSO_OK)
		return -EINVAL;
	for (unsigned k = first; k < g.nseg && n < max; k++, n++)
		if (!build_seg(p, &g, k, &out[n], partial))
			return -EINVAL;
	return (int)n;
}

int gso_segment(const struct pkt *p, unsigned first, struct pkt *out, unsigned max)
{
	return segment(p, first, out, max, false);
}

int gso_segment_partial(const struct pkt *p, unsigned first, struct pkt *out, unsigned max)
{
	return segment(p, first, out, max, true);
}
