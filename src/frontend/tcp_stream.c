/* tcp_stream.c - one TCP/IPv4 stream of TSO sends for vsw-bench: build and stamp its frames, check and count what arrives. */
#include "frontend/tcp_stream.h"

#include <string.h>

#include "packet/csum.h"

const char *const tcp_stream_bad_names[TCP_STREAM_BAD__COUNT] = {
	[TCP_STREAM_OK] = "ok",		   [TCP_STREAM_OTHER] = "other",     [TCP_STREAM_BAD_LEN] = "length",
	[TCP_STREAM_BAD_IP_CSUM] = "ip_csum", [TCP_STREAM_BAD_GSO] = "gso",     [TCP_STREAM_BAD_SEG] = "segment",
	[TCP_STREAM_BAD_CSUM] = "tcp_csum",  [TCP_STREAM_BAD_DATA] = "payload",
};

/* Offsets in the frame: IPv4 at 14, TCP at 34. */
enum {
	IP = 14, IP_LEN = 16, IP_ID = 18, IP_CSUM = 24, IP_SRC = 26, IP_DST = 30,
	TCP = 34, TCP_SEQ = 38, TCP_CSUM = 50, PAYLOAD = 54,
};

static unsigned rd16(const uint8_t *b) { return (unsigned)b[0] << 8 | b[1]; }
static uint32_t rd32(const uint8_t *b) { return (uint32_t)rd16(b) << 16 | rd16(b + 2); }

static void wr16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void wr32(uint8_t *b, uint32_t v)
{
	wr16(b, v >> 16);
	wr16(b + 2, v & 0xffff);
}

/* The pseudo-header sum of the frame's addresses for @l4_len bytes of TCP, folded: what NEEDS_CSUM leaves in the field. */
static uint16_t tcp_seed(const uint8_t *f, unsigned l4_len)
{
	return csum_fold(csum_pseudo_ipv4(f + IP_SRC, f + IP_DST, 6, l4_len));
}

static void stamp_at(uint8_t *f, uint32_t seq, uint16_t id)
{
	uint16_t c;

	wr16(f + IP_ID, id);
	c = csum_ipv4_hdr(f + IP, 20);
	memcpy(f + IP_CSUM, &c, 2); /* memory byte order, as csum.h returns it */
	wr32(f + TCP_SEQ, seq);
}

size_t tcp_stream_build(const struct tcp_stream_tx *t, uint8_t *f, struct vnet_info *vi)
{
	uint16_t seed;

	memset(f, 0, PAYLOAD);
	memcpy(f, t->dst, 6);
	memcpy(f + 6, t->src, 6);
	f[12] = 0x08;
	f[IP] = 0x45;
	wr16(f + IP_LEN, 40 + t->send);
	f[IP + 6] = 0x40;	/* DF, as a TCP stack sends */
	f[IP + 8] = 64;
	f[IP + 9] = 6;
	/* 198.18.0.0/15, the benchmarking range (RFC 2544), as vsw-bench's UDP frames */
	f[IP_SRC] = 198, f[IP_SRC + 1] = 18, f[IP_SRC + 3] = 0;
	f[IP_DST] = 198, f[IP_DST + 1] = 19, f[IP_DST + 3] = 1;
	wr16(f + TCP, 1024);
	wr16(f + TCP + 2, 5001);
	f[TCP + 12] = 5 << 4;
	f[TCP + 13] = 0x18;	/* ACK, PSH: segmentation keeps PSH on the last segment only */
	wr16(f + TCP + 14, 0xffff);
	for (unsigned i = 0; i < t->send; i++)
		f[PAYLOAD + i] = tcp_stream_byte(i);
	seed = tcp_seed(f, 20 + t->send);
	memcpy(f + TCP_CSUM, &seed, 2);
	stamp_at(f, t->seq, t->ip_id);
	*vi = (struct vnet_info){
		.flags = VNET_NEEDS_CSUM, .csum_start = TCP, .csum_offset = 16, .hdr_len = PAYLOAD,
	};
	if (t->send > t->mss) {
		vi->gso = VNET_GSO_TCPV4;
		vi->gso_size = (uint16_t)t->mss;
	}
	return PAYLOAD + t->send;
}

void tcp_stream_stamp(const struct tcp_stream_tx *t, uint8_t *f, unsigned ahead)
{
	stamp_at(f, t->seq + ahead * t->send, (uint16_t)(t->ip_id + ahead));
}

void tcp_stream_sent(struct tcp_stream_tx *t, unsigned n)
{
	t->seq += n * t->send;
	t->ip_id = (uint16_t)(t->ip_id + n);
}

/* Checksums and payload of one frame of @payload bytes at stream offset @x (mod r->send); its header @vi. */
static bool same_sum(uint16_t a, uint16_t b)
{
	return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

static enum tcp_stream_bad verify(struct tcp_stream_rx *r, const uint8_t *f, unsigned payload, uint32_t x,
				  const struct vnet_info *vi)
{
	uint16_t c;

	memcpy(&c, f + IP_CSUM, 2);
	if (c != csum_ipv4_hdr(f + IP, 20))
		return TCP_STREAM_BAD_IP_CSUM;
	memcpy(&c, f + TCP_CSUM, 2);
	if (vi->flags & VNET_NEEDS_CSUM) {
		/*
		 * Partial: the field must hold this frame's seed (0 and 0xffff
		 * are the same sum), so that summing from csum_start completes
		 * it.  A GSO frame's seed is the segmenter's to redo (virtio
		 * says nothing of it): the TSO hardware convention, the seed
		 * without the length (DPDK's rte_ipv4_phdr_cksum() for
		 * TX_TCP_SEG), is taken too, and counted.
		 */
		if (!same_sum(c, tcp_seed(f, 20 + payload))) {
			if (vi->gso == VNET_GSO_NONE || !same_sum(c, tcp_seed(f, 0)))
				return TCP_STREAM_BAD_CSUM;
			r->seed_no_len++;
		}
	} else if (!(vi->flags & VNET_DATA_VALID)) {
		uint32_t sum = csum_pseudo_ipv4(f + IP_SRC, f + IP_DST, 6, 20 + payload);

		if (csum_fold(csum_add(sum, f + TCP, 20 + payload)) != 0xffff)
			return TCP_STREAM_BAD_CSUM;
	}
	for (unsigned i = 0; i < payload; i++) {
		if (f[PAYLOAD + i] != tcp_stream_byte(x))
			return TCP_STREAM_BAD_DATA;
		if (++x == r->send)
			x = 0;
	}
	return TCP_STREAM_OK;
}

enum tcp_stream_bad tcp_stream_check(struct tcp_stream_rx *r, const uint8_t *f, size_t len,
				     const struct vnet_info *vi)
{
	static const struct vnet_info none;
	unsigned ip_len, payload, segs = 1, every = r->verify_every ? r->verify_every : 1;
	enum tcp_stream_bad bad = TCP_STREAM_OK;
	uint32_t seq;
	int64_t off;

	if (!vi)
		vi = &none;
	if (len < PAYLOAD || memcmp(f, r->dst, 6) != 0 || f[12] != 0x08 || f[13] != 0 || f[IP] != 0x45 ||
	    f[IP + 9] != 6 || (rd16(f + IP + 6) & 0x3fff) != 0 || f[TCP + 12] >> 4 != 5) {
		r->other++;
		return TCP_STREAM_OTHER;
	}
	r->frames++;
	ip_len = rd16(f + IP_LEN);
	payload = ip_len > 40 ? ip_len - 40 : 0;
	seq = rd32(f + TCP_SEQ);
	/* The frame's stream offset: next_off moved by the (signed, 32-bit) distance from next_seq. */
	off = (int64_t)r->next_off + (int32_t)(seq - r->next_seq);
	/* Ethernet pads a short frame to 60 bytes: only then may the IPv4 datagram end before it. */
	if (!payload || IP + ip_len > len || (IP + ip_len < len && len > 60))
		bad = TCP_STREAM_BAD_LEN;
	else if (vi->gso != VNET_GSO_NONE) {
		if (vi->gso != VNET_GSO_TCPV4 || vi->gso_ecn || !(vi->flags & VNET_NEEDS_CSUM) || vi->csum_start != TCP ||
		    vi->csum_offset != 16 || !vi->gso_size)
			bad = TCP_STREAM_BAD_GSO;
		else
			segs = (payload + vi->gso_size - 1) / vi->gso_size;
	} else if (payload > r->mss)
		bad = TCP_STREAM_BAD_SEG;
	if (!bad && (vi->flags & VNET_NEEDS_CSUM) && (vi->csum_start != TCP || vi->csum_offset != 16))
		bad = TCP_STREAM_BAD_CSUM;
	if (!bad && ((r->frames - 1) & (every - 1)) == 0) {
		bad = verify(r, f, payload, r->send && off >= 0 ? (uint32_t)((uint64_t)off % r->send) : 0, vi);
		r->verified++;
	}
	if (bad) {
		r->bad[bad]++;
		return bad;
	}
	if ((int32_t)(seq - r->next_seq) < 0)
		r->out_of_order++;
	r->next_seq = seq + payload;
	if (off >= 0)
		r->next_off = (uint64_t)off + payload;
	r->gso_frames += vi->gso != VNET_GSO_NONE;
	r->segments += segs;
	r->payload_bytes += payload;
	return TCP_STREAM_OK;
}
