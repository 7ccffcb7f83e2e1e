/* vxlan_gso.h - VXLAN over the kernel's UDP GSO and GRO: a TSO frame's segments as one UDP_SEGMENT payload, a GRO buffer cut back into datagrams. */
#ifndef VSW_PACKET_VXLAN_GSO_H
#define VSW_PACKET_VXLAN_GSO_H

/*
 * Transmit (UDP_SEGMENT, Linux >= 4.18): one sendmsg carries a payload the
 * kernel cuts every gso_size bytes, each piece one datagram with its own
 * UDP and IP header.  For a frame with a segmentation request (TSO/USO),
 * the payload is the frame's segments (packet/gso.h) back to back, each
 * behind its VXLAN header:
 *
 *   buf:  | VXLAN | segment 0 | VXLAN | segment 1 | ... | VXLAN | last |
 *          <--- seg_bytes ---> <--- seg_bytes --->        <= seg_bytes
 *
 * All pieces but the last are seg_bytes long (gso_segment() cuts every
 * segment but the last at gso_size payload bytes behind the same
 * headers), which is what UDP_SEGMENT needs; the kernel also wants at most
 * VXLAN_GSO_SEGS_MAX pieces (UDP_MAX_SEGMENTS) and the whole payload in
 * one IP packet's length (VXLAN_GSO_BYTES): a bigger frame makes several
 * payloads.
 *
 * Receive (UDP_GRO, Linux >= 5.0): one recvmsg may return several
 * datagrams of one flow glued together, with their size (the cmsg's
 * gso_size; the last may be shorter).  vxlan_gro_split() cuts them apart
 * again, each then checked and decapsulated like any datagram.  Both the
 * buffer and the size come from the wire (through the kernel): a size of
 * zero or past the buffer means one datagram, nothing is read past @len.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "packet/pkt.h"

#define VXLAN_GSO_SEGS_MAX 64u		/* UDP_MAX_SEGMENTS (include/linux/udp.h) */
#define VXLAN_GSO_BYTES (65535u - 48u)	/* one IPv4 or IPv6 packet's UDP payload, with room to spare */

/* One UDP_SEGMENT payload built by vxlan_gso_build(). */
struct vxlan_gso_msg {
	size_t len;		/* payload bytes in the buffer */
	size_t inner_bytes;	/* of which inner frame bytes (len less the VXLAN headers) */
	uint16_t seg_bytes;	/* UDP_SEGMENT: VXLAN header + one segment's frame (the last may be shorter) */
	unsigned segs;		/* pieces (datagrams on the wire) */
};

/*
 * Segments @first.. of @p (its offload request checked: gso_check()) as one
 * UDP GSO payload in @buf (@cap bytes, at most VXLAN_GSO_BYTES used), each
 * behind a VXLAN header for @vni, as many as fit (VXLAN_GSO_SEGS_MAX at
 * most); @scratch has room for VXLAN_GSO_SEGS_MAX packets (nothing is
 * allocated).  Returns the segments written (the next call starts at
 * @first plus that), 0 when @p has none from @first, -EMSGSIZE when one
 * segment does not fit @cap, -EINVAL when @p's view holds less than the
 * frame claims.  A frame with only a partial checksum is one segment,
 * its checksum completed.
 */
int vxlan_gso_build(const struct pkt *p, unsigned first, uint32_t vni, struct pkt *scratch, uint8_t *buf, size_t cap,
		    struct vxlan_gso_msg *out);

/*
 * The datagrams of a received buffer of @len bytes at @buf (a UDP GRO
 * batch of @seg_bytes each, the last possibly shorter; @seg_bytes 0 or
 * >= @len: one datagram) from offset *@off on, into @out (room for @max):
 * returns how many, *@off moved past them (== @len when all are out).
 */
unsigned vxlan_gro_split(uint8_t *buf, size_t len, size_t seg_bytes, size_t *off, struct iovec *out, unsigned max);

/* What vxlan_gro_merge() made of a run of inner TCP segments: the TSO request of the merged frame (pkt.h's offload fields). */
struct vxlan_tso {
	uint32_t len;		/* the merged frame's bytes */
	uint8_t gso_type;	/* VNET_GSO_TCPV4 or VNET_GSO_TCPV6 */
	uint16_t gso_size;	/* the first segment's payload: all but the last carry as much */
	uint16_t csum_start;	/* the TCP header; its checksum field holds the pseudo header's sum (partial) */
	uint16_t csum_offset;
};

/*
 * Inner frames @seg[0..@n) (decapsulated datagrams of one GRO buffer, or
 * of consecutive messages: they need not be contiguous; in memory the
 * port owns) that continue one TCP stream: how many, from the first, make
 * one TSO frame (1: leave them alone; only @seg[0]'s headers are written,
 * and only then).  They merge when each
 * is an untagged IPv4 (no options, not a fragment) or IPv6 (no extension
 * header) TCP segment with correct IPv4 header and TCP checksums, the
 * same Ethernet, IP (IPv4 ID one more each time) and TCP headers as the
 * first but sequence numbers that follow on, ACK as the only flag (the
 * last may add PSH), and the first's payload size (the last may carry
 * less), at most 65535 bytes of IP packet in all.  Then the first
 * frame's headers are rewritten in place (IP length and IPv4 header
 * checksum, the last's flags, the TCP checksum field set to the pseudo
 * header's sum), @iov gets the first frame whole and the others'
 * payloads (room for @n), and @tso the request.
 */
unsigned vxlan_gro_merge(const struct iovec *seg, unsigned n, struct iovec *iov, struct vxlan_tso *tso);

/*
 * vxlan_gro_merge() with each segment's sum known (@sums[k]: csum_add()
 * of all of seg[k]'s bytes, as the outer UDP checksum's check leaves it,
 * packet/vxlan_outer.h): the TCP checksums are checked from them and the
 * headers' sums, without a pass over the payloads.  The same result.
 */
unsigned vxlan_gro_merge_sums(const struct iovec *seg, const uint32_t *sums, unsigned n, struct iovec *iov,
			      struct vxlan_tso *tso);

#endif
