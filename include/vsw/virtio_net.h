/* virtio_net.h - virtio-net device wire format (virtio 1.3 section 5.1). */
#ifndef VSW_VIRTIO_NET_H
#define VSW_VIRTIO_NET_H

#include <stdint.h>

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_GUEST_USO4 54
#define VIRTIO_NET_F_GUEST_USO6 55
#define VIRTIO_NET_F_HOST_USO 56

/*
 * 5.1.6: every buffer on a receiveq or transmitq starts with this header.
 * With VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF it is 12 bytes (with
 * num_buffers), otherwise (legacy, no mergeable buffers) 10.
 */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* flags (5.1.6) */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1	/* csum_start/csum_offset name a checksum to complete */
#define VIRTIO_NET_HDR_F_DATA_VALID 2	/* device to driver only: the checksum was checked */
#define VIRTIO_NET_HDR_F_RSC_INFO 4	/* device to driver only: coalesced segments */
/* gso_type (5.1.6) */
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#define VIRTIO_NET_HDR_GSO_ECN 0x80	/* or-ed into the above: the segments carry ECN CWR */

/* Queue numbering (5.1.2): receiveq1, transmitq1, receiveq2, ... */
static inline unsigned virtio_net_rxq(unsigned pair) { return 2 * pair; }
static inline unsigned virtio_net_txq(unsigned pair) { return 2 * pair + 1; }

#endif
