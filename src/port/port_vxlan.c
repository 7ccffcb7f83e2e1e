/* port_vxlan.c - VXLAN port: frames to and from remote VTEPs (a flood list, learned and static MACs) in one VNI or any (vni=flow), over the kernel's UDP/IP (RFC 7348). */
#include "port/port_vxlan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "packet/ecn.h"
#include "packet/vxlan.h"
#include "packet/vxlan_gso.h"
#include "port/port_types.h"
#include "port/port_vxlan_int.h"
#include "port/vxlan_mtu.h"
#include "port/vtep.h"

/*
 * The kernel owns the underlay: its addresses, routes and neighbours pick
 * the outer Ethernet header and the interface; vsw never answers or sends
 * an ARP or a neighbour solicitation of its own.
 *
 *   switch --tx_burst--> [UDP hdr | VXLAN hdr] + the frame's segments --sendmmsg--> raw IP socket (proto UDP)
 *                                                                                  kernel: IP header, route, neighbour
 *   switch <--rx_burst-- frame = datagram past 8 bytes <--recvmmsg-- UDP socket bound to local:dstport
 *
 * Two sockets, because a UDP socket sends from the one port it is bound
 * to, and RFC 7348 wants the outer source port to vary with the inner
 * flow (section 5: "a hash of fields from the inner packet", so that ECMP
 * on the underlay spreads flows).  Transmit therefore writes its own
 * 8-byte UDP header through a raw socket of protocol UDP (the kernel still
 * builds the IP header, routes and resolves, and refuses to fragment:
 * IP_PMTUDISC_DO / IPV6_DONTFRAG, so an outer packet over the path MTU is
 * an EMSGSIZE, counted too_big); the raw socket's own receive side drops
 * everything through a one-instruction socket filter.  Receive is an
 * ordinary UDP socket, so the kernel checks the outer UDP checksum (and
 * accepts zero: always for IPv4, UDP_NO_CHECK6_RX for IPv6, RFC 7348
 * section 5 "the UDP checksum ... SHOULD be transmitted as zero. When a
 * packet is received with a UDP checksum of zero, it MUST be accepted").
 *
 * Outer UDP checksum on transmit (csum=on, the default): IPv4 sums in
 * software here (pseudo header, UDP + VXLAN header, the inner frame's
 * segments); IPv6 asks the kernel (IPV6_CHECKSUM at offset 6).  csum=off
 * sends zero (for IPv6 the receiver must allow it: Linux's udp6zerocsumrx).
 *
 * One socket per port bound to local:dstport: a second port on the same
 * local address and UDP port is refused (EADDRINUSE).  SO_REUSEPORT would
 * not help: unconnected members of a group are picked by a hash of the
 * datagram, not by its VNI, and connect() would also filter on the remote's
 * source port, which varies.  One port serves many remotes (remote=IP,IP..)
 * and, with vni=flow, every VNI: the flows tell them apart (tun_id,
 * tun_src; set_tunnel), as Open vSwitch's options:key=flow.
 *
 * Remotes (vtep.h): remote= is the port's flood list (none without
 * it); a VNI may have one of its own (tunnel fdb add 00:00:00:00:00:00
 * vni=N remote=IP, once per remote), which replaces the port's for that
 * VNI; a VNI with neither floods nowhere (`no_destination`).  remote=flow
 * (OVS's options:remote_ip=flow) has neither: each frame goes to its own
 * tun_dst, or tun_ipv6_dst on an IPv6 underlay (pkt.tun.dst, from the
 * flows' set_field), a frame without one of the port's family is a
 * `no_tunnel_dst` drop, nothing is learned, and datagrams from any VTEP
 * are received (the flows read tun_src or tun_ipv6_src).  A frame whose
 * inner destination the port's table has (learned from received frames'
 * inner source and outer source address, or static: vswctl tunnel fdb
 * add) goes to that VTEP alone; a broadcast, multicast or unknown
 * destination goes once to each remote of its VNI's flood list
 * (head-end replication: one header built, copied per remote with its
 * checksum, the frame's bytes never copied by us; VX_FLOOD_COPIES
 * datagrams a burst, past that a `flood_budget` drop).
 *
 * Receive checks, on the datagram (untrusted): its source address is a
 * known remote (a flood list's or a static entry's; else `remote` drop;
 * any with remote=flow),
 * it holds a VXLAN header with the I flag and this port's VNI (any, with
 * vni=flow) and an inner Ethernet header (vxlan_hdr_check(); else
 * `short`, `flags` or `vni`).  The inner frame goes to the switch as a
 * view into the datagram's slot, with the outer addresses and VNI as the
 * packet's tunnel metadata (PKT_F_TUNNEL); its source MAC is learned
 * behind the remote it came from (once a second per MAC, one lock per
 * burst when anything changed).
 *
 * Offloads, where the kernel has them (probed once at create; describe
 * says which are on, `stats` counts them):
 *
 *   UDP GSO (UDP_SEGMENT, Linux >= 4.18; csum=on only: the kernel refuses
 *   GSO without checksums): the port takes TSO4/TSO6/ECN/USO and partial
 *   checksums (tx_offload), and a frame that asks for either is cut here
 *   into one or more UDP_SEGMENT payloads (packet/vxlan_gso.h: its
 *   segments back to back, each behind its VXLAN header) sent through a
 *   UDP socket: one sendmsg for up to 64 datagrams, the kernel adding
 *   each one's UDP and IP header and checksum.  A UDP socket sends from
 *   its bound port, so there are VX_GSO_SOCKS of them bound to ports of
 *   src_ports=, the flow's hash picking one: a flow keeps one outer port
 *   and flows still spread, over VX_GSO_SOCKS ports instead of the whole
 *   range.  Finished frames (pure ACKs, small packets) go through their
 *   flow's GSO socket too, whatever flow each is, when that socket has
 *   two or more of one size to one remote in the burst (vx_tx_gather():
 *   one UDP_SEGMENT payload for them, one trip through the kernel's stack
 *   instead of one per frame; vx_gso_small() for a run of one flow on the
 *   ports it does not serve), else through the raw socket with that same
 *   port (vx_sport()), so one inner flow takes one ECMP path whichever way
 *   each frame goes; a flow's frames in the raw socket's batch are sent
 *   before any of its GSO payloads that follow them, and the other way
 *   round.  Without GSO,
 *   tx_offload is 0, the egress fallback hands finished frames
 *   (segmented, checksums complete), and the outer source ports are
 *   still those of the VX_GSO_SOCKS bound sockets, which then send
 *   nothing: an underlay router's ICMP error about a datagram teaches the
 *   kernel the path MTU only through the socket bound to its source port
 *   (vx_open_ports()).
 *
 *   A kernel may refuse UDP_SEGMENT for good on a path (EIO when the
 *   route has an xfrm/IPsec transform, EINVAL, EOPNOTSUPP): the port then
 *   turns GSO off for good (vx_gso_refuse(): one log line, gso_fallbacks,
 *   describe says why, tx_offload 0 so the egress fallback segments from
 *   the next burst on) and sends the refused payloads, the rest of their
 *   round and any frame with a request already on its way a datagram at
 *   a time through the raw socket (vx_gso_resend()): nothing is lost.
 *   Per port, not per remote: tx_offload, which the egress fallback
 *   reads, is the port's, and one underlay usually routes every remote
 *   the same way.  EAGAIN, ENOBUFS (a full queue) stay drops.
 *
 *   UDP GRO (UDP_GRO, Linux >= 5.0): the receive socket may return
 *   several datagrams of one flow in one slot with their size (cmsg);
 *   vxlan_gro_split() cuts them apart and each is checked and
 *   decapsulated alone; then a run of one flow's inner TCP segments
 *   becomes one TSO frame (vxlan_gro_merge(): headers rewritten in the
 *   slot, the view the first frame and the others' payloads, from
 *   rx_miov), so the port makes offload requests (rx_offload).  Without
 *   the kernel's GRO (an underlay device without it, such as a veth with
 *   GRO off, or no UDP_GRO) each segment is a message of its own: on a
 *   port with static remotes the runs among one burst's messages merge
 *   the same way (vx_rx_run(); so rx_packets counts merged frames, not
 *   datagrams, either way).  A slot is 64 KiB either way (a datagram's
 *   largest payload); merging costs 64 KiB of iovecs (rx_miov), kept
 *   whenever a merge can happen (no vlan_vni=; with remote=flow only
 *   GRO's); frames of a slot past the burst wait there for the next
 *   burst (no recvmmsg until they are out).
 *
 * VLANs to VNIs (vlan_vni=10:1010,20:1020; the switch makes the port a
 * trunk of those VLANs, ctl/port_opts.c): one port, one socket, many VNIs,
 * and the learning bridge keeps them apart by VLAN, as a Linux bridge with
 * one vxlan device and `bridge vlan add ... tunnel_info id` does.  A
 * received frame of a mapped VNI gets its VLAN's tag pushed into its head
 * here (an unmapped VNI is a `vni` drop, an inner frame already tagged a
 * `tagged` one: VXLAN carries untagged frames between VLAN-mapped VTEPs);
 * a frame to send must carry a mapped VLAN's tag, which is left out of the
 * datagram (the head is not changed: a flood's other destinations read
 * it), and goes in that VLAN's VNI; else a `vlan_denied` drop.  Under
 * vlan_vni= neither UDP GSO nor the GRO merge is used (the tag would have
 * to come out of every segment and into every merged frame): GRO's
 * datagrams are still cut apart, each a frame.
 *
 * The files: this one makes the port (options, sockets, describe,
 * `stats`, the tunnel fdb); port_vxlan_rx.c is its rx_burst (the receive
 * checks, decapsulation, learning, UDP GRO's split and merge);
 * port_vxlan_tx.c its tx_burst (destinations, head-end replication,
 * encapsulation, the raw socket, and UDP GSO: payloads cut from offloaded
 * frames or glued from runs of small ones, the fallback when the kernel
 * refuses it); port_vxlan_int.h holds the struct they share.
 */

/* The names of the counters of port_vxlan_int.h, for describe and `stats`. */
static const char *const vx_off_names[VX_OFF__COUNT] = { "gso_sends",	 "gso_segments", "gso_fallbacks", "gso_resent",
							  "gro_receives", "gro_segments", "gro_merged" };
static const char *const vx_rx_bad_names[VX_RX__COUNT] = { "short", "flags", "vni", "remote", "truncated", "tagged", "ecn" };
static const char *const vx_xdp_bad_names[VXO__COUNT] = { "", "xdp_bad_short", "xdp_bad_not_ours", "xdp_bad_ip_header",
							 "xdp_bad_ip_length", "xdp_bad_fragment", "xdp_bad_udp_length",
							 "xdp_bad_udp_csum", "xdp_bad_source" };

static unsigned vx_rx_queues(struct port *p) { return 1; }
static int vx_rx_fd(struct port *p, unsigned q) { return vx_of(p)->rx_ep >= 0 ? vx_of(p)->rx_ep : vx_of(p)->rx_fd; }

static bool vx_rx_arm(struct port *p, unsigned q)
{
	/* Edge-triggered: only an emptied socket signals the next datagram. */
	return !vx_of(p)->drained;
}

static void vx_rx_disarm(struct port *p, unsigned q) {}

static void vx_describe(struct port *p, char *buf, size_t len)
{
	struct vx_port *v = vx_of(p);
	int gso_err = atomic_load_explicit(&v->gso_err, memory_order_relaxed);
	char vni[16];
	int off;

	if (v->vni_flow)
		snprintf(vni, sizeof(vni), "flow");
	else if (v->map)
		snprintf(vni, sizeof(vni), "vlan_vni");
	else
		snprintf(vni, sizeof(vni), "%u", (unsigned)v->vni);
	off = snprintf(buf, len, "vxlan vni %s", vni);
	for (unsigned i = 0; v->map && i < v->map->n && off >= 0 && (size_t)off < len; i++)
		off += snprintf(buf + off, len - (size_t)off, "%s%u:%u", i ? "," : " ", (unsigned)v->map->vids[i],
				(unsigned)v->map->vni_of[v->map->vids[i]]);
	if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " local %s remote %s", v->local_str,
				v->remote_flow ? "flow" : v->vt.n_flood ? "" : "none");
	for (unsigned r = 0; r < v->vt.n_flood && off >= 0 && (size_t)off < len; r++)
		off += snprintf(buf + off, len - (size_t)off, "%s%s", r ? "," : "", v->vt.remotes[r].str);
	if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " dstport %u src_ports %u-%u csum %s", (unsigned)v->dstport,
				(unsigned)v->sport_lo, (unsigned)v->sport_hi, v->csum ? "on" : "off");
	for (unsigned c = 0; c < VTEP__COUNT && off >= 0 && (size_t)off < len; c++) {
		uint64_t k = atomic_load_explicit(&v->vt.counters[c], memory_order_relaxed);

		if (k)
			off += snprintf(buf + off, len - (size_t)off, "; fdb %s: %llu", vtep_counter_names[c],
					(unsigned long long)k);
	}

	if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " mtu %u (route %u%s) frame_max %u", v->mtu.used,
				v->mtu.route, v->mtu.conf ? ", mtu= set" : "",
				atomic_load_explicit(&v->mtu.frame_max, memory_order_relaxed));
	if (gso_err && off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off,
				" udp_gso off (the kernel refused it: %s; offloaded frames segmented in software)",
				vx_errno_name(gso_err));
	else if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " udp_gso %s%s%s", v->n_gso ? "on (source ports " : "off (",
				v->n_gso ? "" : v->gso_off, v->n_gso ? "" : ")");
	for (unsigned s = 0; !gso_err && s < v->n_gso && off >= 0 && (size_t)off < len; s++)
		off += snprintf(buf + off, len - (size_t)off, "%s%u%s", s ? "," : "", (unsigned)v->gso_sport[s],
				s + 1 == v->n_gso ? ")" : "");
	/* Without GSO the outer ports are the same sockets' (vx_open_ports()). */
	for (unsigned s = 0; (gso_err || !v->n_gso) && s < v->n_ports && off >= 0 && (size_t)off < len; s++)
		off += snprintf(buf + off, len - (size_t)off, "%s%u", s ? "," : " source ports ", (unsigned)v->gso_sport[s]);
	if (off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " udp_gro %s", v->gro ? "on" : "off (no UDP_GRO: kernel < 5.0)");
	if (v->xdp && off >= 0 && (size_t)off < len)
		off += snprintf(buf + off, len - (size_t)off, " xdp %s (%u queue%s, driver hook, %llu datagrams)", v->xdp->ifname,
				v->xdp->nq, v->xdp->nq == 1 ? "" : "s",
				(unsigned long long)atomic_load_explicit(&v->xdp_rx, memory_order_relaxed));
	for (unsigned r = 0; r < VX_RX__COUNT && off >= 0 && (size_t)off < len; r++) {
		uint64_t c = atomic_load_explicit(&v->rx_bad[r], memory_order_relaxed);

		if (c)
			off += snprintf(buf + off, len - (size_t)off, "; rx %s: %llu", vx_rx_bad_names[r],
					(unsigned long long)c);
	}
}

/*
 * `stats`' "tunnel" object: received datagrams dropped by reason
 * (rx_bad_REASON, each also a port drop), the tunnel fdb's events
 * (fdb_learned, fdb_moved, fdb_full), the remotes (all, and those of the
 * flood list) and the live entries, learned and static: what describe
 * shows, as numbers; whether UDP GSO and GRO are on (1/0), and their
 * counts (gso_sends: payloads of more than one datagram sent, gso_segments:
 * their datagrams; gso_fallbacks: 1 once the kernel refused GSO for good,
 * gso_resent: datagrams of GSO payloads then sent one by one; gro_receives:
 * slots holding more than one datagram, gro_segments: their datagrams);
 * remote=flow's cache of destinations' MTUs (mtu_cache_entries,
 * mtu_cache_asked: misses handed to the tick, mtu_cache_evicted: entries
 * a full bucket gave up); rx_socket_drops: datagrams the kernel dropped
 * before the port read them (the socket's receive buffer full:
 * SO_MEMINFO's drops, modulo 2^32), which never reach the switch and so
 * are not among its drops.
 */
static unsigned vx_type_stats(struct port *p, struct port_type_stat *out, unsigned max)
{
	static const char *const rx_names[VX_RX__COUNT] = { "rx_bad_short", "rx_bad_flags", "rx_bad_vni",
							     "rx_bad_remote", "rx_bad_truncated", "rx_bad_tagged",
							     "rx_bad_ecn" };
	static const char *const fdb_names[VTEP__COUNT] = { "fdb_learned", "fdb_moved", "fdb_full" };
	struct vx_port *v = vx_of(p);
	unsigned n = 0, learned, statics;

	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t mem_len = sizeof(mem);

	_Static_assert(VX_RX__COUNT + VTEP__COUNT + VX_OFF__COUNT + 12 + VXO__COUNT - 1 <= PORT_TYPE_STATS_MAX,
		       "the figures fit what `stats` asks for");
	if (max < VX_RX__COUNT + VTEP__COUNT + VX_OFF__COUNT + 12 + VXO__COUNT - 1)
		return 0;
	for (unsigned r = 0; r < VX_RX__COUNT; r++)
		out[n++] = (struct port_type_stat){ rx_names[r], atomic_load_explicit(&v->rx_bad[r], memory_order_relaxed) };
	/* taken, but of an ECN combination no compliant ingress sends (RFC 6040's "(!!!)": "SHOULD log") */
	out[n++] = (struct port_type_stat){ "rx_ecn_unexpected", atomic_load_explicit(&v->rx_ecn_odd, memory_order_relaxed) };
	for (unsigned c = 0; c < VTEP__COUNT; c++)
		out[n++] = (struct port_type_stat){ fdb_names[c],
						    atomic_load_explicit(&v->vt.counters[c], memory_order_relaxed) };
	vtep_count(&v->vt, vtep_now_s(), &learned, &statics);
	out[n++] = (struct port_type_stat){ "remotes", vtep_remote_count(&v->vt) };
	out[n++] = (struct port_type_stat){ "flood_remotes", v->vt.n_flood };
	out[n++] = (struct port_type_stat){ "fdb_learned_entries", learned };
	out[n++] = (struct port_type_stat){ "fdb_static_entries", statics };
	if (getsockopt(v->rx_fd, SOL_SOCKET, SO_MEMINFO, mem, &mem_len) < 0)
		mem[SK_MEMINFO_DROPS] = 0;
	out[n++] = (struct port_type_stat){ "rx_socket_drops", mem[SK_MEMINFO_DROPS] };
	out[n++] = (struct port_type_stat){ "udp_gso", vx_gso_on(v) };
	out[n++] = (struct port_type_stat){ "udp_gro", v->gro };
	for (unsigned c = 0; c < VX_OFF__COUNT; c++)
		out[n++] = (struct port_type_stat){ vx_off_names[c],
						    atomic_load_explicit(&v->off_count[c], memory_order_relaxed) };
	/* remote=flow's cache of destinations' MTUs (vxlan_mtu.h): live entries, misses asked for, entries given up */
	out[n++] = (struct port_type_stat){ "mtu_cache_entries", vxlan_mtu_dst_count(&v->mtu) };
	out[n++] = (struct port_type_stat){ "mtu_cache_asked", v->mtu.dsts ? atomic_load_explicit(&v->mtu.dsts->asked,
											  memory_order_relaxed) : 0 };
	out[n++] = (struct port_type_stat){ "mtu_cache_evicted",
					    v->mtu.dsts ? atomic_load_explicit(&v->mtu.dsts->evicted, memory_order_relaxed) : 0 };
	/* xdp=: the datagrams its sockets brought, the frames refused by reason (each also a port drop) */
	out[n++] = (struct port_type_stat){ "xdp_rx", atomic_load_explicit(&v->xdp_rx, memory_order_relaxed) };
	for (unsigned r = 1; r < VXO__COUNT; r++)
		out[n++] = (struct port_type_stat){ vx_xdp_bad_names[r],
						    atomic_load_explicit(&v->xdp_bad[r], memory_order_relaxed) };
	return n;
}

/*
 * Control plane, once a second: the underlay MTU again (a route or a path
 * MTU may have changed); xdp=: the first second with datagrams whose UDP
 * checksum does not add up says so once, with the usual cause: a veth
 * whose peer has transmit checksum offload on hands the kernel's
 * datagrams over with the checksum left for a NIC to finish (only the
 * kernel's own receive knows that; the AF_XDP copy does not).
 */
static void vx_tick(struct port *p)
{
	struct vx_port *v = vx_of(p);

	vxlan_mtu_apply(&v->mtu, &v->vt, p);
	if (v->xdp && !v->xdp_csum_said) {
		uint64_t n = atomic_load_explicit(&v->xdp_bad[VXO_UDP_CSUM], memory_order_relaxed);

		if (n) {
			log_warn("port %s: xdp=%s: %llu datagrams with a wrong UDP checksum dropped (a veth peer with "
				 "transmit checksum offload on leaves them unfinished: ethtool -K PEER tx off)",
				 p->name, v->xdp->ifname, (unsigned long long)n);
			v->xdp_csum_said = true;
		}
	}
}

/* Control thread: the data path asked for a destination's MTU (remote=flow): read now, not at the next tick. */
static void vx_on_mtu_wake(struct ev_handler *h, uint32_t events)
{
	struct vx_port *v = (struct vx_port *)((char *)h - offsetof(struct vx_port, mtu_wake_h));

	vxlan_mtu_wake(&v->mtu, &v->vt, &v->port);
}

static void vx_destroy(struct port *p)
{
	struct vx_port *v = vx_of(p);

	if (v->mtu_wake_fd >= 0)
		evloop_del(v->env.loop, v->mtu_wake_fd);
	vxlan_mtu_close(&v->mtu);	/* closes mtu_wake_fd */
	if (v->xdp) {
		vxlan_xdp_close(v->xdp);
		free(v->xdp);
	}
	free(v->xdp_if);
	if (v->rx_ep >= 0)
		close(v->rx_ep);
	if (v->rx_fd >= 0)
		close(v->rx_fd);
	if (v->tx_fd >= 0)
		close(v->tx_fd);
	for (unsigned s = 0; s < v->n_ports; s++)
		close(v->gso_fd[s]);
	free(v->gso_buf);
	free(v->gso_scratch);
	free(v->rx_miov);
	free(v->rx_slots);
	free(v->map);
	vtep_destroy(&v->vt);
	pthread_spin_destroy(&v->tx_lock);
	free(v);
}

static const struct port_ops vx_port_ops = {
	.type = "vxlan",
	.rx_burst = vx_rx_burst,
	.rx_done = vx_rx_done,
	.tx_burst = vx_tx_burst,
	.rx_queues = vx_rx_queues,
	.rx_fd = vx_rx_fd,
	.rx_arm = vx_rx_arm,
	.rx_disarm = vx_rx_disarm,
	.describe = vx_describe,
	.tick = vx_tick,
	.type_stats = vx_type_stats,
	.type_stats_name = "tunnel",
	.answer_tun = vx_answer_tun,
	.destroy = vx_destroy,
};

/* @s as an IPv4 or IPv6 address into @a (port @port); its family, or -1. */
static int vx_parse_addr(const char *s, uint16_t port, union vtep_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s && inet_pton(AF_INET, s, &a->v4.sin_addr) == 1) {
		a->v4.sin_family = AF_INET;
		a->v4.sin_port = htons(port);
		return AF_INET;
	}
	if (s && inet_pton(AF_INET6, s, &a->v6.sin6_addr) == 1) {
		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_port = htons(port);
		return AF_INET6;
	}
	return -1;
}

/*
 * remote=IP[,IP..] into the flood list of @v->vt (whose family is
 * local='s); none without remote= (a VNI then floods to its own list
 * alone: tunnel fdb add 00:00:00:00:00:00).  0, or -1 with @err.
 */
static int vx_parse_remotes(struct vx_port *v, const char *list, char *err, size_t errlen)
{
	char buf[VTEP_REMOTES_MAX * (INET6_ADDRSTRLEN + 1)], *save = NULL;
	const char *why;
	unsigned n = 0;

	if (!list)
		return 0;
	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "vxlan: remote= must be IP[,IP..] (at most %u)", VTEP_REMOTES_MAX);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *ip = strtok_r(buf, ",", &save); ip; ip = strtok_r(NULL, ",", &save), n++) {
		union vtep_addr a;
		int fam = vx_parse_addr(ip, 0, &a), rc;

		if (fam < 0) {
			snprintf(err, errlen, "vxlan: remote= must be IPv4 or IPv6 addresses (\"%s\")", ip);
			return -1;
		}
		why = vtep_remote_refused(&a, &v->local);
		if (why) {
			snprintf(err, errlen, "vxlan: remote= %s is %s: never a VTEP", ip, why);
			return -1;
		}
		rc = vtep_remote_add(&v->vt, &a, true);
		if (rc == -EAFNOSUPPORT) {
			snprintf(err, errlen, "vxlan: local= and remote= must be of one family (IPv4 or IPv6)");
			return -1;
		}
		if (rc < 0) {
			snprintf(err, errlen, "vxlan: at most %u remotes", VTEP_REMOTES_MAX);
			return -1;
		}
	}
	if (!n) {
		snprintf(err, errlen, "vxlan: remote= must be IP[,IP..]");
		return -1;
	}
	return 0;
}

int port_vxlan_vlan_vni_parse(const char *s, uint16_t *vids, uint32_t *vnis, unsigned max, char *err, size_t errlen)
{
	unsigned n = 0;

	if (!s || !*s)
		goto bad;
	for (;;) {
		unsigned long vid, vni;
		char *end;

		if (*s < '0' || *s > '9')
			goto bad;
		vid = strtoul(s, &end, 10);
		if (*end != ':' || end[1] < '0' || end[1] > '9')
			goto bad;
		vni = strtoul(end + 1, &end, 10);
		if (vid < 1 || vid > 4094 || vni > VXLAN_VNI_MAX) {
			snprintf(err, errlen, "vxlan: vlan_vni=: VLAN %lu to VNI %lu: VLANs are 1..4094, VNIs 0..%u", vid, vni,
				 VXLAN_VNI_MAX);
			return -1;
		}
		for (unsigned i = 0; i < n; i++) {
			if (vids[i] == vid || vnis[i] == vni) {
				snprintf(err, errlen, "vxlan: vlan_vni=: VLAN %lu or VNI %lu mapped twice (the map is one to one)",
					 vid, vni);
				return -1;
			}
		}
		if (n == max) {
			snprintf(err, errlen, "vxlan: vlan_vni=: at most %u VLANs", max);
			return -1;
		}
		vids[n] = (uint16_t)vid;
		vnis[n++] = (uint32_t)vni;
		if (!*end)
			return (int)n;
		if (*end != ',')
			goto bad;
		s = end + 1;
	}
bad:
	snprintf(err, errlen, "vxlan: vlan_vni= must be VID:VNI[,VID:VNI..] like 10:1010,20:1020");
	return -1;
}

/* vlan_vni= into @v->map (allocated here, at port add); 0, or -1 with @err. */
static int vx_parse_map(struct vx_port *v, const char *list, char *err, size_t errlen)
{
	uint16_t vids[4094];
	uint32_t vnis[4094];
	int n = port_vxlan_vlan_vni_parse(list, vids, vnis, 4094, err, errlen);

	if (n < 0)
		return -1;
	v->map = malloc(sizeof(*v->map));
	if (!v->map) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(v->map->vni_of, 0xff, sizeof(v->map->vni_of));
	memset(v->map->slot, 0, sizeof(v->map->slot));
	v->map->n = (unsigned)n;
	for (int i = 0; i < n; i++) {
		unsigned k = vx_map_hash(vnis[i]);

		while (v->map->slot[k])
			k = (k + 1) & (VX_MAP_SLOTS - 1);
		v->map->slot[k] = VX_MAP_USED | (uint64_t)vnis[i] << 12 | vids[i];
		v->map->vni_of[vids[i]] = vnis[i];
		v->map->vids[i] = vids[i];
	}
	return 0;
}

/* The options into @v; 0, or -1 with @err. */
static int vx_parse(struct vx_port *v, struct json_object *params, char *err, size_t errlen)
{
	const char *local = port_param_str(params, "local"), *remote = port_param_str(params, "remote");
	const char *csum = port_param_str(params, "csum"), *tos = port_param_str(params, "tos");
	const char *range = port_param_str(params, "src_ports"), *vni_str = port_param_str(params, "vni");
	const char *map = port_param_str(params, "vlan_vni"), *xdp = port_param_str(params, "xdp");
	unsigned vni = 0, dstport, ttl, mtu, lo = 49152, hi = 65535, tosv = 0;
	bool vni_flow = vni_str && strcmp(vni_str, "flow") == 0, remote_flow = remote && strcmp(remote, "flow") == 0;
	int fl;
	char tail;

	unsigned probe;

	/* vni= given in any form (a config file's may be a number): a sentinel default tells. */
	if (map && (vni_str || port_param_uint(params, "vni", 0, ~0u - 1, ~0u, &probe, err, errlen) < 0 || probe != ~0u)) {
		snprintf(err, errlen, "vxlan: vlan_vni= takes the place of vni= (give one of them)");
		return -1;
	}
	if (map && vx_parse_map(v, map, err, errlen) < 0)
		return -1;
	if ((!vni_flow && !map &&
	     port_param_uint(params, "vni", 0, VXLAN_VNI_MAX, VXLAN_VNI_MAX + 1, &vni, err, errlen) < 0) ||
	    port_param_uint(params, "dstport", 1, 65535, VXLAN_PORT, &dstport, err, errlen) < 0 ||
	    port_param_uint(params, "ttl", 1, 255, 64, &ttl, err, errlen) < 0 ||
	    port_param_uint(params, "mtu", 576, 65535, 0, &mtu, err, errlen) < 0)
		return -1;
	v->mtu.conf = mtu;
	if (vni > VXLAN_VNI_MAX && !map) {
		snprintf(err, errlen, "vxlan: vni= (0..%u, or flow) or vlan_vni= is required", VXLAN_VNI_MAX);
		return -1;
	}
	fl = vx_parse_addr(local, 0, &v->local);
	if (fl < 0) {
		snprintf(err, errlen, "vxlan: local= must be an IPv4 or IPv6 address");
		return -1;
	}
	if (vtep_init(&v->vt, fl == AF_INET6) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!remote_flow && vx_parse_remotes(v, remote, err, errlen) < 0)
		return -1;
	if (csum && strcmp(csum, "on") != 0 && strcmp(csum, "off") != 0) {
		snprintf(err, errlen, "vxlan: csum= must be on or off");
		return -1;
	}
	if (tos && strcmp(tos, "inherit") != 0 && (sscanf(tos, "%u%c", &tosv, &tail) != 1 || tosv > 255)) {
		snprintf(err, errlen, "vxlan: tos= must be 0..255 or inherit");
		return -1;
	}
	if (tosv & ECN_MASK) {
		/* As OVS's options:tos: "ECN part must be zero" (the inner packet's ECN field goes to the outer header). */
		snprintf(err, errlen, "vxlan: tos=%u has ECN bits set: tos= takes the DSCP (a multiple of 4), "
			 "the ECN field is copied from the inner packet (RFC 6040)", tosv);
		return -1;
	}
	if (range && (sscanf(range, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1 || lo > hi || hi > 65535)) {
		snprintf(err, errlen, "vxlan: src_ports= must be LO-HI with 1 <= LO <= HI <= 65535");
		return -1;
	}
	v->ipv6 = fl == AF_INET6;
	v->alen = v->ipv6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	v->vni = vni;
	v->vni_flow = vni_flow;
	v->remote_flow = remote_flow;
	v->dstport = (uint16_t)dstport;
	v->ttl = (int)ttl;
	v->csum = !csum || strcmp(csum, "on") == 0;
	v->tos_inherit = tos && strcmp(tos, "inherit") == 0;
	v->tos = (int)tosv;
	v->sport_lo = (uint16_t)lo;
	v->sport_hi = (uint16_t)hi;
	if (xdp && !(v->xdp_if = strdup(xdp))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	inet_ntop(fl, vx_local_bytes(v), v->local_str, sizeof(v->local_str));
	return 0;
}

static int setopt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

/* The receive socket: UDP, bound to local:dstport, zero checksums accepted. NULL @what on success. */
static const char *vx_open_rx(struct vx_port *v)
{
	union vtep_addr bind_to = v->local;

	v->rx_fd = socket(v->ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (v->rx_fd < 0)
		return "UDP socket";
	if (v->ipv6) {
		bind_to.v6.sin6_port = htons(v->dstport);
		if (setopt(v->rx_fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)
			return "IPV6_V6ONLY";
		if (setopt(v->rx_fd, IPPROTO_UDP, UDP_NO_CHECK6_RX, 1) < 0)
			return "UDP_NO_CHECK6_RX";
	} else {
		bind_to.v4.sin_port = htons(v->dstport);
	}
	/* Each datagram's outer ECN field, for RFC 6040's decapsulation (vx_rx_ecn()). */
	if (v->ipv6 ? setopt(v->rx_fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1) < 0 : setopt(v->rx_fd, IPPROTO_IP, IP_RECVTOS, 1) < 0)
		return v->ipv6 ? "IPV6_RECVTCLASS" : "IP_RECVTOS";
	/* A burst of 64 full datagrams and more: the kernel's default (~200 KiB) drops under a TCP window. */
	(void)setopt(v->rx_fd, SOL_SOCKET, SO_RCVBUF, 4 << 20);
	if (bind(v->rx_fd, &bind_to.sa, v->alen) < 0)
		return "bind local:dstport";
	return NULL;
}

/* The transmit socket: raw IP, protocol UDP, our UDP header, never fragmented. NULL @what on success. */
static const char *vx_open_tx(struct vx_port *v)
{
	/* Accept nothing: this socket only sends (its receive side would get a copy of every UDP datagram). */
	struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop_all };
	union vtep_addr bind_to = v->local;

	v->tx_fd = socket(v->ipv6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (v->tx_fd < 0)
		return "raw socket (needs CAP_NET_RAW)";
	if (setsockopt(v->tx_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return "SO_ATTACH_FILTER";
	(void)setopt(v->tx_fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
	if (v->ipv6) {
		if (setopt(v->tx_fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO) < 0 ||
		    setopt(v->tx_fd, IPPROTO_IPV6, IPV6_DONTFRAG, 1) < 0)
			return "IPV6_DONTFRAG";
		if (setopt(v->tx_fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, v->ttl) < 0 ||
		    setopt(v->tx_fd, IPPROTO_IPV6, IPV6_TCLASS, v->tos) < 0)
			return "IPV6_UNICAST_HOPS/IPV6_TCLASS";
		/* The kernel fills the UDP checksum at offset 6 (a computed zero goes out as 0xffff). */
		if (v->csum && setopt(v->tx_fd, IPPROTO_IPV6, IPV6_CHECKSUM, 6) < 0)
			return "IPV6_CHECKSUM";
	} else {
		if (setopt(v->tx_fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO) < 0)
			return "IP_MTU_DISCOVER";
		if (setopt(v->tx_fd, IPPROTO_IP, IP_TTL, v->ttl) < 0 || setopt(v->tx_fd, IPPROTO_IP, IP_TOS, v->tos) < 0)
			return "IP_TTL/IP_TOS";
	}
	/* The outer source address: local= (the kernel then routes from it). */
	if (bind(v->tx_fd, &bind_to.sa, v->alen) < 0)
		return "bind local";
	/*
	 * A raw socket of protocol UDP is handed a clone of every UDP datagram
	 * to its address (raw_v4_input(), ipv6_raw_deliver()); the filter drops
	 * each only after the clone, some 6 % of a CPU under a tunnel's TCP.
	 * The kernel clones only to a raw socket whose peer, when it has one, is
	 * the datagram's source: connected to local= itself, it gets none of a
	 * remote VTEP's.  Every send names its destination, so the peer is never
	 * used; where connect() fails, the filter still drops all.
	 */
	(void)connect(v->tx_fd, &bind_to.sa, v->alen);
	return NULL;
}

/*
 * VX_GSO_SOCKS UDP sockets bound to local= and ports spread over
 * src_ports= (a port in use is skipped for the next one), each with the
 * raw socket's TTL, TOS and no fragmentation, receiving nothing: the
 * outer source ports (vx_hash_sport()), whether UDP GSO is on or not.
 * GSO sends through them; but they are there for the kernel's ICMP errors
 * too.  An underlay router's "fragmentation needed" / "packet too big"
 * about one of our datagrams reaches the kernel's UDP error handler,
 * which updates the route's path MTU (vxlan_mtu.c reads it) only through
 * the socket bound to the datagram's source port: with none (a port
 * drawn from the whole range) it counts an InErrors and forgets it, and
 * the raw socket, connected to local= (vx_open_tx()), is matched by no
 * error either.  So with csum=off or vlan_vni= too the outer ports are
 * these; n_ports 0 (none could be bound) is the only case of the whole
 * range.
 */
static void vx_open_ports(struct vx_port *v)
{
	struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop_all };
	unsigned range = (unsigned)v->sport_hi - v->sport_lo + 1;

	for (unsigned k = 0; k < VX_GSO_SOCKS && k < range; k++) {
		int fd = socket(v->ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
		bool ok = fd >= 0;

		ok = ok && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0;
		(void)(ok && setopt(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20));
		if (ok && v->ipv6)
			ok = setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == 0 &&
			     setopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO) == 0 &&
			     setopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, 1) == 0 &&
			     setopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, v->ttl) == 0 &&
			     setopt(fd, IPPROTO_IPV6, IPV6_TCLASS, v->tos) == 0;
		else if (ok)
			ok = setopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO) == 0 &&
			     setopt(fd, IPPROTO_IP, IP_TTL, v->ttl) == 0 && setopt(fd, IPPROTO_IP, IP_TOS, v->tos) == 0;
		/* Ports spread over the range; a taken one: the next, a few times. */
		for (unsigned t = 0, base = (unsigned)((uint64_t)range * k / VX_GSO_SOCKS); ok && t < 16; t++) {
			union vtep_addr a = v->local;
			uint16_t port = (uint16_t)(v->sport_lo + (base + t) % range);

			if (v->ipv6)
				a.v6.sin6_port = htons(port);
			else
				a.v4.sin_port = htons(port);
			if (bind(fd, &a.sa, v->alen) == 0) {
				v->gso_sport[v->n_ports] = port;
				v->gso_fd[v->n_ports++] = fd;
				fd = -1;
				break;
			}
		}
		if (fd >= 0)
			close(fd);
	}
}

/*
 * UDP GSO through the sockets of vx_open_ports(), and what sending needs:
 * the buffers.  GSO stays off (gso_off says why) when csum=off (the
 * kernel refuses UDP_SEGMENT without checksums), with vlan_vni=, when the
 * kernel does not take UDP_SEGMENT (before 4.18) or when no port is free;
 * the port works without it.
 */
static void vx_open_gso(struct vx_port *v)
{
	if (!v->csum) {
		v->gso_off = "csum=off";
		return;
	}
	if (v->map) {
		v->gso_off = "vlan_vni=";
		return;
	}
	if (!v->n_ports) {
		v->gso_off = "no free source port";
		return;
	}
	if (setopt(v->gso_fd[0], SOL_UDP, UDP_SEGMENT, 0) < 0) {
		v->gso_off = "no UDP_SEGMENT: kernel < 4.18";
		return;
	}
	v->gso_buf = malloc(VX_GSO_ARENA);
	v->gso_scratch = aligned_alloc(_Alignof(struct pkt), sizeof(struct pkt) * VXLAN_GSO_SEGS_MAX);
	if (!v->gso_buf || !v->gso_scratch) {
		v->gso_off = "out of memory";
		return;
	}
	v->n_gso = v->n_ports;
	atomic_store_explicit(&v->port.tx_offload, VX_GSO_TX_OFFLOAD, memory_order_relaxed);
}

/*
 * xdp=IFNAME: the program and sockets on IFNAME (vxlan_xdp.h), and one fd
 * for the worker to wait on that is readable when the UDP socket or any of
 * them is (an epoll of them, level-triggered inside).  0, or -1 with @err.
 */
static int vx_open_xdp(struct vx_port *v, char *err, size_t errlen)
{
	const uint8_t *local = vx_local_bytes(v);
	struct epoll_event ev = { .events = EPOLLIN };

	v->xdp = calloc(1, sizeof(*v->xdp));
	if (!v->xdp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (vxlan_xdp_open(v->xdp, v->xdp_if, v->ipv6, local, v->dstport, err, errlen) < 0) {
		free(v->xdp);
		v->xdp = NULL;
		return -1;
	}
	v->rx_ep = epoll_create1(EPOLL_CLOEXEC);
	if (v->rx_ep < 0 || epoll_ctl(v->rx_ep, EPOLL_CTL_ADD, v->rx_fd, &ev) < 0)
		goto fail;
	for (unsigned i = 0; i < v->xdp->nq; i++)
		if (epoll_ctl(v->rx_ep, EPOLL_CTL_ADD, v->xdp->q[i].sock.fd, &ev) < 0)
			goto fail;
	return 0;
fail:
	snprintf(err, errlen, "xdp=%s: epoll: %s", v->xdp_if, strerror(errno));
	return -1;
}

struct port *port_vxlan_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			       size_t errlen)
{
	struct vx_port *v = calloc(1, sizeof(*v));
	const char *what;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->rx_fd = v->tx_fd = v->mtu.fd = v->mtu_wake_fd = v->rx_ep = -1;
	v->env = *env;
	pthread_spin_init(&v->tx_lock, PTHREAD_PROCESS_PRIVATE);
	snprintf(v->port.name, sizeof(v->port.name), "%s", name);
	v->port.ops = &vx_port_ops;
	v->port.rx_offload = false;
	atomic_init(&v->port.tx_offload, 0);
	if (vx_parse(v, params, err, errlen) < 0)
		goto out_free;
	v->rx_slots = malloc((size_t)PKT_BURST * VX_RX_SLOT);
	if (!v->rx_slots) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	for (unsigned i = 0; i < PKT_BURST; i++)
		v->rx_iov[i] = (struct iovec){ v->rx_slots + (size_t)i * VX_RX_SLOT, VX_RX_SLOT };
	v->drained = false;
	what = vx_open_rx(v);
	if (!what)
		what = vx_open_tx(v);
	if (!what) {
		vx_open_ports(v);
		vx_open_gso(v);
		/*
		 * UDP GRO: the kernel may glue a flow's datagrams in one slot
		 * (vx_rx_burst() cuts them apart).  Runs of inner TCP segments,
		 * of a slot or of a burst's messages, merge into TSO frames (GRO
		 * or not): the port then makes offload requests.
		 */
		v->gro = setopt(v->rx_fd, SOL_UDP, UDP_GRO, 1) == 0;
		if (!v->map && (v->gro || !v->remote_flow))
			v->rx_miov = malloc(VX_RX_MIOV * sizeof(*v->rx_miov));
		v->port.rx_offload = v->rx_miov != NULL;
		vx_rx_init(v);
		vx_tx_init(v);
	}
	if (!what) {
		int e = vxlan_mtu_open(&v->mtu, &v->local.sa, v->alen, v->ipv6, v->mtu.conf, v->remote_flow);

		errno = -e;
		what = e < 0 ? "MTU probe socket" : NULL;
		v->mtu.strip = v->map ? PKT_VLAN_HLEN : 0;
		vxlan_mtu_apply(&v->mtu, &v->vt, &v->port);
	}
	if (!what && v->remote_flow && env->loop) {
		/* A destination the data path asks for is read within milliseconds, not at the next tick (vxlan_mtu.h). */
		int fd = vxlan_mtu_wake_open(&v->mtu), e = fd;

		v->mtu_wake_h.fn = vx_on_mtu_wake;
		if (fd >= 0)
			e = evloop_add(env->loop, fd, EPOLLIN, &v->mtu_wake_h);
		if (e < 0) {
			errno = -e;
			what = "MTU wake-up eventfd"; /* closed with the probe by vxlan_mtu_close() */
		} else {
			v->mtu_wake_fd = fd;
		}
	}
	if (what) {
		snprintf(err, errlen, "vxlan %s:%u: %s: %s", v->local_str, (unsigned)v->dstport, what, strerror(errno));
		goto out_free;
	}
	if (v->xdp_if && vx_open_xdp(v, err, errlen) < 0)
		goto out_free;
	return &v->port;

out_free:
	vx_destroy(&v->port);
	return NULL;
}

/* ---- the tunnel fdb, for the control thread (vswctl tunnel fdb) ---------------------------------------------- */

bool port_is_vxlan(const struct port *p)
{
	return p->ops == &vx_port_ops;
}

int port_vxlan_vni(const struct port *p)
{
	const struct vx_port *v = (const struct vx_port *)p;

	return v->vni_flow || v->map ? -1 : (int)v->vni;
}

/*
 * Control thread, after a grace period (PORT_QUIESCE): the retired
 * remotes' slots free for new ones, and their MTUs forgotten (a new
 * remote there goes by the port's until the next tick reads its own).
 */
static void vx_remotes_reclaim(struct vx_port *v)
{
	for (uint32_t m = vtep_remote_reclaim(&v->vt); m; m &= m - 1) {
		unsigned r = (unsigned)__builtin_ctz(m);

		atomic_store_explicit(&v->mtu.remote_max[r], 0, memory_order_relaxed);
		v->mtu.route_of[r] = 0;
	}
}

int port_vxlan_fdb_add(struct port *p, const uint8_t mac[6], uint32_t vni, const char *remote, char *err,
		       size_t errlen)
{
	struct vx_port *v = vx_of(p);
	bool flood = !vtep_mac(mac);	/* 00:00:00:00:00:00: a flood destination of the VNI (bridge fdb append) */
	const char *why;
	union vtep_addr a;
	int r;

	if (v->remote_flow) {
		/* As OVS's remote_ip=flow: no table and no flood list, the flows pick each frame's VTEP. */
		snprintf(err, errlen, "port %s has remote=flow: the flows choose the VTEP (set_field:IP->tun_dst)",
			 p->name);
		return -EINVAL;
	}
	if (v->map && (vni > VXLAN_VNI_MAX || !vx_map_vid(v->map, (uint32_t)vni))) {
		snprintf(err, errlen, "port %s maps no VLAN to VNI %u (vlan_vni=)", p->name, (unsigned)vni);
		return -EINVAL;
	}
	if (!v->vni_flow && !v->map && vni != v->vni) {
		snprintf(err, errlen, "port %s serves VNI %u only (vni=flow serves any)", p->name, (unsigned)v->vni);
		return -EINVAL;
	}
	if (vni > VXLAN_VNI_MAX || (mac[0] & 1 && !flood)) {
		snprintf(err, errlen, "%s", vni > VXLAN_VNI_MAX ? "vni must be 0..16777215" : "a group MAC cannot be static");
		return -EINVAL;
	}
	if (vx_parse_addr(remote, 0, &a) < 0) {
		snprintf(err, errlen, "remote= must be an IPv4 or IPv6 address");
		return -EINVAL;
	}
	why = vtep_remote_refused(&a, &v->local);
	if (why) {
		snprintf(err, errlen, "remote=%s is %s: never a VTEP", remote, why);
		return -EINVAL;
	}
	/* Room first: a remote made for a refused add would stay until the next delete releases it (vtep.h). */
	if (flood ? !vtep_flood_fits(&v->vt, vni) : !vtep_static_fits(&v->vt, vni, vtep_mac(mac)))
		goto out_full;
	r = vtep_remote_add(&v->vt, &a, false);
	if (r == -EAGAIN) {
		/* No free slot, retired ones: once no worker holds their index (a grace period), one is reused. */
		port_env_changed(&v->env, p, PORT_QUIESCE);
		vx_remotes_reclaim(v);
		r = vtep_remote_add(&v->vt, &a, false);
	}
	if (r < 0) {
		snprintf(err, errlen, "%s", r == -EAFNOSUPPORT ? "remote= must be of local='s family"
							       : "too many remotes on this port (32 at once)");
		return r;
	}
	r = flood ? vtep_flood_add(&v->vt, vni, (unsigned)r) : vtep_static_add(&v->vt, vni, vtep_mac(mac), (unsigned)r);
	if (r == -ENOSPC)
		goto out_full;
	if (r < 0)
		snprintf(err, errlen, "%s", strerror(-r));
	return r;

out_full:
	if (flood)
		snprintf(err, errlen, "at most %u VNIs with a flood list of their own on a port", VTEP_FLOOD_VNIS_MAX);
	else
		snprintf(err, errlen, "the port's table has no room for this MAC (its bucket holds static entries only)");
	return -ENOSPC;
}

int port_vxlan_fdb_del(struct port *p, const uint8_t mac[6], uint32_t vni, const char *remote)
{
	struct vx_port *v = vx_of(p);
	union vtep_addr a;
	int r = -1;

	if (vtep_mac(mac))
		r = vtep_del(&v->vt, vni, vtep_mac(mac));
	else if (!remote)
		r = vtep_flood_del(&v->vt, vni, -1);
	else if (vx_parse_addr(remote, 0, &a) >= 0 &&
		 (r = vtep_remote_find(&v->vt, &a, v->alen)) >= 0)
		r = vtep_flood_del(&v->vt, vni, r);
	if (r < 0)
		return -ENOENT;
	/* A static remote nothing names any more is no VTEP: its datagrams are refused, its slot reused later (vtep.h). */
	vtep_remotes_release(&v->vt);
	return 0;
}

unsigned port_vxlan_flood_dump(struct port *p, struct vtep_flood *out, unsigned max)
{
	return vtep_flood_dump(&vx_of(p)->vt, out, max);
}

unsigned port_vxlan_fdb_dump(struct port *p, struct vtep_entry *out, unsigned max)
{
	return vtep_dump(&vx_of(p)->vt, out, max, vtep_now_s());
}

const char *port_vxlan_remote_str(struct port *p, unsigned r)
{
	struct vx_port *v = vx_of(p);

	return r < atomic_load_explicit(&v->vt.n_remotes, memory_order_acquire) ? v->vt.remotes[r].str : "?";
}

unsigned port_vxlan_mtu_dump(struct port *p, struct port_vxlan_mtu *out, unsigned max)
{
	struct vx_port *v = vx_of(p);
	struct vxlan_mtu_entry e[PORT_VXLAN_MTU_MAX];
	unsigned n = vxlan_mtu_dump(&v->mtu, &v->vt, e, max < PORT_VXLAN_MTU_MAX ? max : PORT_VXLAN_MTU_MAX);

	_Static_assert(sizeof(out->remote) >= INET6_ADDRSTRLEN, "an address fits");
	_Static_assert(PORT_VXLAN_MTU_MAX == VTEP_REMOTES_MAX + VXLAN_MTU_DSTS, "every remote and destination fits");
	for (unsigned i = 0; i < n; i++) {
		out[i] = (struct port_vxlan_mtu){ .flow = e[i].remote < 0, .route = e[i].route, .mtu = e[i].mtu,
						  .frame_max = e[i].frame_max };
		inet_ntop(v->ipv6 ? AF_INET6 : AF_INET,
			  v->ipv6 ? (const void *)&e[i].addr.v6.sin6_addr : (const void *)&e[i].addr.v4.sin_addr,
			  out[i].remote, sizeof(out[i].remote));
	}
	return n;
}
