/* vxlan_mtu.h - a VXLAN port's largest inner frame: the kernel's smallest route MTU to its remote VTEPs (or mtu=), less the outer headers. */
#ifndef VSW_PORT_VXLAN_MTU_H
#define VSW_PORT_VXLAN_MTU_H

/*
 * RFC 7348 4.3: "VTEPs MUST NOT fragment VXLAN packets."  The outer packet
 * is IP + UDP + VXLAN + the inner frame, so the largest inner frame is the
 * underlay path MTU less 36 (IPv4) or 56 (IPv6) bytes, and the inner IP
 * MTU of an untagged frame 14 less: the usual 50 and 70.
 *
 *   underlay MTU   where it comes from
 *   route          the kernel's: IP_MTU / IPV6_MTU of a UDP socket bound to
 *                  local= and connected to each remote VTEP in turn (the
 *                  egress device's MTU, a route's mtu, or a path MTU the
 *                  kernel learned from ICMP on the underlay), the smallest
 *                  over the remotes (flood list and static ones: a flood
 *                  goes to all of them, and one MTU per port keeps the tx
 *                  stage's check a compare), read again every second (port
 *                  tick)
 *   device         remote=flow (no remotes: the flows pick each frame's VTEP):
 *                  the MTU of the device that holds local= (SIOCGIFMTU,
 *                  read again every second), as the route to any VTEP
 *                  leaves by it in the usual underlay; a smaller path MTU
 *                  toward one VTEP is not probed per destination (the
 *                  kernel's EMSGSIZE, too_big, still catches it, with no
 *                  ICMP answer); mtu= lowers it for all
 *   mtu=N          the port's option: a smaller MTU somewhere on the path
 *                  the kernel cannot know (a provider's tunnel); the
 *                  smaller of the two is used
 *
 * The result goes into port.tx_frame_max, where the tx stage checks it
 * and answers the frames over it with ICMP (dp/pmtu.h); the kernel's
 * EMSGSIZE (too_big) still catches what changed in between.
 */

#include <net/if.h>
#include <stdbool.h>
#include <sys/socket.h>

struct port;
struct vtep;

struct vxlan_mtu {
	int fd;			/* UDP, bound to local, connected to one remote after another (never sends), or -1 */
	bool ipv6;
	unsigned conf;		/* mtu= (0: none) */
	unsigned route;		/* the kernel's, last read: the smallest over the remotes (0: unknown) */
	unsigned used;		/* the underlay MTU last applied: the smaller of route and conf (0: none known) */
	unsigned strip;		/* bytes of a frame the port leaves out of the datagram (vlan_vni=: its tag) */
	bool flow;		/* remote=flow: the device MTU of local='s interface instead of routes */
	char ifname[IF_NAMESIZE];	/* that interface ("": not found: unknown) */
	socklen_t alen;
};

/* Open the probe from @local (@alen bytes) with mtu= @conf (0: none), @flow: remote=flow (the device MTU); 0 or -errno. */
int vxlan_mtu_open(struct vxlan_mtu *m, const struct sockaddr *local, socklen_t alen, bool ipv6, unsigned conf,
		   bool flow);

/* The underlay MTU now: the smallest route MTU to @vt's remotes (remote=flow: local='s device MTU), read again, and mtu=, the smaller; 0 when neither is known. */
unsigned vxlan_mtu_read(struct vxlan_mtu *m, const struct vtep *vt);

/* vxlan_mtu_read(), and @p's tx_frame_max from it (0 when unknown: no limit but the kernel's). */
void vxlan_mtu_apply(struct vxlan_mtu *m, const struct vtep *vt, struct port *p);

void vxlan_mtu_close(struct vxlan_mtu *m);

#endif
