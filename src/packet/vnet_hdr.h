/* vnet_hdr.h - the virtio-net header (virtio 1.3 section 5.1.6): parse and check an untrusted one, build one. */
#ifndef VSW_PACKET_VNET_HDR_H
#define VSW_PACKET_VNET_HDR_H

/*
 * Every frame a vhost-user guest sends, and every frame a tap or
 * AF_PACKET socket with PACKET_VNET_HDR hands over, starts with this
 * header (10 bytes; 12 with num_buffers, which vnet_hdr_* leave to the
 * caller).  Its fields are little-endian (virtio 1.x; a legacy tap on a
 * little-endian host alike):
 *
 *   0       1          2        4          6           8            10           12
 *   | flags | gso_type | hdr_len | gso_size | csum_start | csum_offset | num_buffers |
 *
 * vnet_hdr_parse() reads the header once from private memory, checks it
 * against what the receiver accepts (VNET_ACCEPT_*: what was negotiated,
 * or what the socket was set up for) and returns it as a struct vnet_info,
 * or a reason to drop the frame.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/pkt.h"
#include "vsw/virtio_net.h"

#define VNET_HDR_LEN 10u	/* struct virtio_net_hdr without num_buffers */
#define VNET_HDR_LEN_MRG 12u	/* with num_buffers (VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF) */

/* vnet_info.flags */
#define VNET_NEEDS_CSUM 1u	/* checksum at csum_start + csum_offset left partial (CHECKSUM_PARTIAL) */
#define VNET_DATA_VALID 2u	/* the sender checked the checksum (device to driver, or from the kernel) */

/* vnet_info.gso */
enum vnet_gso {
	VNET_GSO_NONE,
	VNET_GSO_TCPV4,
	VNET_GSO_TCPV6,
	VNET_GSO_UDP,		/* UFO: IP fragmentation of one UDP datagram */
	VNET_GSO_UDP_L4,	/* USO: UDP segmentation */
};

/* A header, converted: host byte order, no wire encoding left. */
struct vnet_info {
	unsigned flags;		/* VNET_NEEDS_CSUM, VNET_DATA_VALID */
	enum vnet_gso gso;
	bool gso_ecn;		/* segments carry ECN CWR (VIRTIO_NET_HDR_GSO_ECN) */
	uint16_t hdr_len;	/* headers before the payload, a hint (5.1.6.2) */
	uint16_t gso_size;	/* payload bytes per segment */
	uint16_t csum_start, csum_offset;
};

/* What a receiver accepts (vnet_hdr_parse()'s @accept): anything else is a drop. */
#define VNET_ACCEPT_CSUM 1u		/* NEEDS_CSUM (VIRTIO_NET_F_CSUM) */
#define VNET_ACCEPT_DATA_VALID 2u	/* DATA_VALID: only from a kernel socket, never from a driver */
#define VNET_ACCEPT_TSO4 4u		/* GSO_TCPV4 (VIRTIO_NET_F_HOST_TSO4) */
#define VNET_ACCEPT_TSO6 8u		/* GSO_TCPV6 (VIRTIO_NET_F_HOST_TSO6) */
#define VNET_ACCEPT_ECN 16u		/* GSO_ECN (VIRTIO_NET_F_HOST_ECN) */
#define VNET_ACCEPT_UFO 32u		/* GSO_UDP (VIRTIO_NET_F_HOST_UFO) */
#define VNET_ACCEPT_USO 64u		/* GSO_UDP_L4 (VIRTIO_NET_F_HOST_USO) */

/* Why a header was refused. */
enum vnet_bad {
	VNET_OK,
	VNET_BAD_FLAGS,		/* a flag not allowed from this sender (RSC_INFO, DATA_VALID) */
	VNET_BAD_CSUM,		/* NEEDS_CSUM not accepted here */
	VNET_BAD_CSUM_RANGE,	/* the checksum field not inside the frame */
	VNET_BAD_GSO_TYPE,	/* an undefined gso_type, or one not accepted here */
	VNET_BAD_GSO,		/* segmentation without NEEDS_CSUM, a zero gso_size, or ECN alone */
	VNET_BAD_HDR_LEN,	/* hdr_len past the frame's end in a segmentation request */
	VNET_BAD__COUNT
};
extern const char *const vnet_bad_names[VNET_BAD__COUNT];

/*
 * Check the header at @hdr (at least VNET_HDR_LEN bytes, already a private
 * copy) of a frame of @frame_len bytes (header excluded) against @accept
 * and fill @out.  VNET_OK, or why the frame is to be dropped (@out is then
 * unspecified).  The rules, for a header from a peer we do not trust:
 *   - flags: NEEDS_CSUM only if accepted; DATA_VALID only if accepted
 *     (5.1.6.2.1: "The driver MUST NOT set the VIRTIO_NET_HDR_F_DATA_VALID
 *     and VIRTIO_NET_HDR_F_RSC_INFO bits in flags"), RSC_INFO never;
 *     bits of no defined flag are ignored (5.1.6.2.2: "The device MUST
 *     ignore flag bits that it does not recognize");
 *   - NEEDS_CSUM: csum_start + csum_offset + 2 <= @frame_len;
 *   - gso_type: a defined one that is accepted, ECN only on top of one and
 *     only if accepted; then NEEDS_CSUM set, gso_size > 0, hdr_len <= @frame_len.
 */
enum vnet_bad vnet_hdr_parse_slow(const void *hdr, size_t frame_len, unsigned accept, struct vnet_info *out);

/*
 * vnet_hdr_parse_slow(), with the common case inline: with no flag and no
 * GSO the other fields mean nothing (5.1.6.2) and come back as zero.
 */
static inline enum vnet_bad vnet_hdr_parse(const void *hdr, size_t frame_len, unsigned accept, struct vnet_info *out)
{
	const uint8_t *h = hdr;

	if (h[0] == 0 && h[1] == VIRTIO_NET_HDR_GSO_NONE) {
		*out = (struct vnet_info){ .gso = VNET_GSO_NONE };
		return VNET_OK;
	}
	return vnet_hdr_parse_slow(hdr, frame_len, accept, out);
}

/* Write @in as a VNET_HDR_LEN-byte header at @hdr (num_buffers, if any, is the caller's). */
void vnet_hdr_build(void *hdr, const struct vnet_info *in);

/*
 * The conversion between a header and a packet's offload fields (pkt.h),
 * both ways, for every port that speaks the header (vhost-user, tap,
 * AF_PACKET):
 *
 *   NEEDS_CSUM, csum_start/offset  <->  PKT_CSUM_PARTIAL, csum_start/offset
 *   DATA_VALID                     <->  PKT_CSUM_VERIFIED (to a receiver: @valid_ok)
 *   gso_type | GSO_ECN, gso_size   <->  gso_type | PKT_GSO_ECN, gso_size
 *   hdr_len                         ->  ignored (a hint; vsw parses the headers itself)
 *                                  <-   the end of the L4 header (pkt_parsed())
 *
 * vnet_to_pkt() takes a header vnet_hdr_parse() accepted; a request it
 * sets is still to be checked against the frame (port_offload_rx_ok()).
 */
void vnet_to_pkt(const struct vnet_info *vi, struct pkt *p);

/* Fill @vi for @p as it leaves through a port that took its requests whole; DATA_VALID only if @valid_ok. */
void vnet_from_pkt(struct pkt *p, bool valid_ok, struct vnet_info *vi);

/* True when the header asks for anything (the frame then goes through port_offload_rx_ok()). */
static inline bool vnet_requests(const struct vnet_info *vi)
{
	return (vi->flags & VNET_NEEDS_CSUM) || vi->gso != VNET_GSO_NONE;
}

#endif
