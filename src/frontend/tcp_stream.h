/* tcp_stream.h - one TCP/IPv4 stream of TSO sends for vsw-bench: the frames it sends and the check of what arrives, whole or segmented. */
#ifndef VSW_FRONTEND_TCP_STREAM_H
#define VSW_FRONTEND_TCP_STREAM_H

/*
 * What a guest's TCP stack hands its virtio-net device with TSO on: one
 * frame per send, up to 64 KiB, its virtio-net header asking for the rest
 * (virtio 1.3 section 5.1.6.2):
 *
 *   | eth 14 | ipv4 20 | tcp 20 | payload: send bytes, cut every mss by whoever segments |
 *   header: NEEDS_CSUM, csum_start 34, csum_offset 16 (the TCP field holds the
 *           pseudo-header sum, as Linux leaves it); GSO_TCPV4, gso_size mss
 *
 * Every send carries the same number of payload bytes; the payload byte at
 * stream offset x is tcp_stream_byte(x % send): a receiver can check any
 * frame, a whole send or one segment of it, from its sequence number alone.
 *
 * The receiver counts what arrives: whole sends (its peer acked
 * GUEST_TSO4: the header still asks for segmentation) or segments (the
 * switch cut them: finished checksums, or NEEDS_CSUM under GUEST_CSUM),
 * payload bytes, and anything that does not match the stream as bad.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/vnet_hdr.h"

#define TCP_STREAM_HDR 54u		/* Ethernet + IPv4 + TCP, no options */
#define TCP_STREAM_FRAME_MAX (14u + 65535u)	/* the IPv4 total length caps a send */

struct tcp_stream_tx {
	uint8_t dst[6], src[6];
	unsigned send;			/* payload bytes per send */
	unsigned mss;			/* gso_size */
	uint32_t seq;			/* of the next send */
	uint16_t ip_id;
};

/* The payload byte at stream offset @x (x counted from the first send's first byte, modulo the send size). */
static inline uint8_t tcp_stream_byte(uint32_t x)
{
	return (uint8_t)(x ^ x >> 8 ^ 0x5a);
}

/*
 * Build a send's frame in @f (TCP_STREAM_HDR + @t->send bytes; the payload
 * written once, here) and its request in @vi: NEEDS_CSUM always, GSO_TCPV4
 * when the payload is more than one mss.  Returns the frame length.
 */
size_t tcp_stream_build(const struct tcp_stream_tx *t, uint8_t *f, struct vnet_info *vi);

/*
 * Make the frame built in @f the send @ahead places after @t's next one:
 * sequence number, IPv4 id and header checksum (the payload and the TCP
 * seed stay).  tcp_stream_sent() then moves @t past the @n that went.
 */
void tcp_stream_stamp(const struct tcp_stream_tx *t, uint8_t *f, unsigned ahead);
void tcp_stream_sent(struct tcp_stream_tx *t, unsigned n);

/* Why a received frame does not belong to the stream, or is broken. */
enum tcp_stream_bad {
	TCP_STREAM_OK,
	TCP_STREAM_OTHER,	/* not IPv4/TCP to the stream's destination: not ours (counted apart) */
	TCP_STREAM_BAD_LEN,	/* the IPv4 length is not the frame's, or no payload */
	TCP_STREAM_BAD_IP_CSUM,	/* the IPv4 header checksum */
	TCP_STREAM_BAD_GSO,	/* a GSO frame asking other than NEEDS_CSUM at 34/16 and TCPV4 */
	TCP_STREAM_BAD_SEG,	/* a finished frame larger than one mss: a send passed whole without its header */
	TCP_STREAM_BAD_CSUM,	/* the TCP checksum: finished and wrong, or partial on a wrong seed */
	TCP_STREAM_BAD_DATA,	/* payload bytes not the stream's */
	TCP_STREAM_BAD__COUNT
};
extern const char *const tcp_stream_bad_names[TCP_STREAM_BAD__COUNT];

struct tcp_stream_rx {
	uint8_t dst[6];			/* the stream's destination MAC */
	unsigned send, mss;		/* as the sender's */
	uint32_t isn;			/* the first send's sequence number */
	unsigned verify_every;		/* checksums and payload of one frame in this many (1: all; a power of 2) */
	/* counts */
	uint64_t frames, gso_frames, segments, payload_bytes, out_of_order, verified, other;
	uint64_t seed_no_len;		/* GSO frames whose TCP field held the pseudo-header sum without the length */
	uint64_t bad[TCP_STREAM_BAD__COUNT];
	uint32_t next_seq;
	uint64_t next_off;		/* next_seq's offset in the stream from isn (0 with next_seq = isn): 64 bits, */
					/* since the sequence numbers wrap every 4 GiB and a send's size need not divide 2^32 */
};

/*
 * Check the @len bytes at @f with their header @vi (NULL: none, all zero)
 * and count them in @r.  A GSO frame counts as the segments it would be
 * cut into.  TCP_STREAM_OK, or what was wrong (counted in r->bad[], or in
 * r->other for a frame that is not the stream's).
 */
enum tcp_stream_bad tcp_stream_check(struct tcp_stream_rx *r, const uint8_t *f, size_t len,
				     const struct vnet_info *vi);

#endif
