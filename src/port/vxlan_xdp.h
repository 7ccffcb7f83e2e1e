/* vxlan_xdp.h - the vxlan port's AF_XDP receive path: an XDP program on the underlay interface hands the datagrams to local:dstport to AF_XDP sockets, one a queue, and every other frame to the kernel. */
#ifndef VSW_PORT_VXLAN_XDP_H
#define VSW_PORT_VXLAN_XDP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port/afxdp_sock.h"

/*
 * `xdp=IFNAME` on a vxlan port: the datagrams for the port skip the
 * kernel's IP and UDP receive (the route lookup, the socket queue, the
 * wake-up and recvmmsg's copy, per datagram) and come to the port through
 * AF_XDP sockets on IFNAME, the interface the underlay reaches local=
 * through.  The kernel still owns the interface: ARP, neighbour discovery,
 * routing and every other frame pass to it, and so does what the program
 * does not recognise; those datagrams of ours reach the port's UDP socket,
 * which stays open.  Sending is unchanged (the kernel's UDP and IP output).
 *
 * The program (built here, with the port's address and port in it) takes a
 * frame when it is, with nothing in between:
 *
 *   Ethernet (untagged) | IPv4, IHL 5, not a fragment, UDP, to local= | UDP to dstport= |
 *   Ethernet (untagged) | IPv6, next header UDP, to local=            | UDP to dstport= |
 *
 * and no longer than a UMEM frame holds (VXLAN_XDP_DATA_MAX: a longer one
 * passes, so a jumbo underlay works, through the socket), and sends it to
 * the socket of its receive queue (bpf_redirect_map() on an XSKMAP), or to
 * the kernel when that queue has none (more queues than VXLAN_XDP_QUEUES).
 * The program's check is only where to send a frame: the port checks it
 * as the kernel would have (packet/vxlan_outer.h).
 *
 * Also in the program: the frame is to the interface's own MAC (the
 * kernel drops another host's).  In the driver's hook only: the generic
 * one runs after GRO, which may have merged the port's datagrams.  Copy
 * mode (a frame is copied into the UMEM: no zero-copy support needed).
 * Needs CAP_NET_ADMIN and CAP_BPF (root), Linux 5.9 (an XDP bpf_link) and
 * no other XDP program on the interface.
 */
#define VXLAN_XDP_QUEUES 8u		/* sockets at most: the interface's first receive queues */
#define VXLAN_XDP_FRAME 4096u		/* a UMEM frame (chunk) */
#define VXLAN_XDP_DATA_MAX (VXLAN_XDP_FRAME - 256u)	/* a frame's room past XDP_PACKET_HEADROOM */
#define VXLAN_XDP_RING 2048u		/* the fill and rx rings of a socket, and its frames */

struct vxlan_xdp_queue {
	struct afxdp_sock sock;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint8_t *umem;			/* VXLAN_XDP_RING frames of VXLAN_XDP_FRAME */
};

struct vxlan_xdp {
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	int map_fd, prog_fd, link_fd;	/* -1: none */
	unsigned nq;			/* sockets: queues 0..nq-1 */
	unsigned next_q;		/* where the next vxlan_xdp_rx() starts */
	struct vxlan_xdp_queue q[VXLAN_XDP_QUEUES];
};

/* A received frame: where it is, and what to give back. */
struct vxlan_xdp_frame {
	const uint8_t *data;
	uint32_t len;
	uint16_t q;
	uint64_t addr;			/* its UMEM address (the descriptor's) */
};

/*
 * Load the program for frames to @mac with datagrams of family @ipv6 to
 * @local (4 or 16 bytes, as on the wire) port @dstport (host order), of at most
 * @data_max bytes (VXLAN_XDP_DATA_MAX; a longer frame passes), into
 * XSKMAP @map_fd.  The program fd, or -errno with the verifier's log in
 * @log.
 */
int vxlan_xdp_prog_load(int map_fd, const uint8_t mac[6], bool ipv6, const uint8_t *local, uint16_t dstport,
			unsigned data_max, char *log, size_t loglen);

/*
 * Set @x up on interface @ifname: the map, the program (attached through a
 * bpf_link, so it goes when the fd closes or the process dies), a socket
 * on each receive queue (up to VXLAN_XDP_QUEUES) with its fill ring full.
 * 0, or -1 with the reason in @err and nothing left open.
 */
int vxlan_xdp_open(struct vxlan_xdp *x, const char *ifname, bool ipv6, const uint8_t *local, uint16_t dstport,
		   char *err, size_t errlen);
void vxlan_xdp_close(struct vxlan_xdp *x);

/* Up to @max received frames into @out, from the queues in turn; each is the caller's until vxlan_xdp_recycle(). */
unsigned vxlan_xdp_rx(struct vxlan_xdp *x, struct vxlan_xdp_frame *out, unsigned max);

/* Frames back to their queues' fill rings. */
void vxlan_xdp_recycle(struct vxlan_xdp *x, const struct vxlan_xdp_frame *fr, unsigned n);

#endif
