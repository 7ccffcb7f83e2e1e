/* vxlan.h - the VXLAN header (RFC 7348): build it, check it on receive, and the outer UDP source port of a frame. */
#ifndef VSW_PACKET_VXLAN_H
#define VSW_PACKET_VXLAN_H

/*
 * RFC 7348 section 5, the 8 bytes after the outer UDP header:
 *
 *    0                   1                   2                   3
 *   |R|R|R|R|I|R|R|R|            Reserved                           |
 *   |                VXLAN Network Identifier (VNI) |   Reserved    |
 *
 * "Flags (8 bits): where the I flag MUST be set to 1 for a valid VXLAN
 * Network ID (VNI).  The other 7 bits (designated "R") are reserved
 * fields and MUST be set to zero on transmission and ignored on
 * receipt."  Reserved fields likewise: "MUST be set to zero on
 * transmission and ignored on receipt."  So a receiver checks the I flag
 * and the VNI and nothing else; vxlan_hdr_check() does exactly that (a
 * reserved bit set is accepted, as the RFC asks and as Linux does).
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VXLAN_HLEN 8u
#define VXLAN_UDP_HLEN 8u
#define VXLAN_FLAG_I 0x08u
#define VXLAN_VNI_MAX 0xffffffu
#define VXLAN_PORT 4789u	/* IANA */
/* Outer header bytes in front of an inner frame: IP + UDP + VXLAN (the outer Ethernet is the kernel's). */
#define VXLAN4_OVERHEAD (20u + VXLAN_UDP_HLEN + VXLAN_HLEN)
#define VXLAN6_OVERHEAD (40u + VXLAN_UDP_HLEN + VXLAN_HLEN)

/* What vxlan_hdr_check() found: OK, or why the datagram is dropped (each counted by the port). */
enum vxlan_bad {
	VXLAN_OK,
	VXLAN_BAD_SHORT,	/* shorter than the VXLAN header and an inner Ethernet header */
	VXLAN_BAD_FLAGS,	/* the I flag clear */
	VXLAN_BAD_VNI,		/* not the VNI this port serves */
	VXLAN_BAD__COUNT
};
extern const char *const vxlan_bad_names[VXLAN_BAD__COUNT];

struct pkt;

/* The 8-byte header for @vni (at most VXLAN_VNI_MAX) into @out: I flag, VNI, reserved bits zero. */
void vxlan_hdr_build(uint8_t out[VXLAN_HLEN], uint32_t vni);

/*
 * A received UDP payload of @len bytes at @b (untrusted): VXLAN_OK when it
 * holds a VXLAN header with the I flag and @vni followed by at least an
 * Ethernet header; the first reason it fails otherwise.  Reads nothing
 * before checking @len.  The VNI found goes into *@vni_out when not NULL
 * (for VXLAN_OK and VXLAN_BAD_VNI).
 */
enum vxlan_bad vxlan_hdr_check(const uint8_t *b, size_t len, uint32_t vni, uint32_t *vni_out);

/*
 * Decapsulate a received UDP payload (@len bytes at @d, untrusted):
 * vxlan_hdr_check(), and on VXLAN_OK the inner frame as *@inner (inside
 * @d, at least an Ethernet header).  *@inner is left alone otherwise.
 */
enum vxlan_bad vxlan_decap(const uint8_t *d, size_t len, uint32_t vni, struct iovec *inner);

/*
 * The outer UDP source port for a frame, in [@lo, @hi] (RFC 7348: "it is
 * recommended that the UDP source port number be calculated using a hash
 * of fields from the inner packet"): a hash of the inner IP addresses and
 * L4 ports when the head has them, else of the MACs and EtherType, so one
 * inner flow keeps one outer port (no reordering by ECMP on the underlay)
 * and different flows spread.  Reads the head only (parses it if needed).
 */
uint16_t vxlan_src_port(struct pkt *p, uint16_t lo, uint16_t hi);

#endif
