/* vxlan_mtu.h - a VXLAN port's largest inner frame per remote VTEP: the kernel's route MTU to each (or mtu=), less the outer headers. */
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
 *                  kernel learned from ICMP on the underlay), kept per
 *                  remote (remote_max[]), read again every second (port
 *                  tick); the port's own (route, used, frame_max) is the
 *                  smallest over the remotes, for a remote not read yet
 *   device         remote=flow (no remotes: the flows pick each frame's VTEP):
 *                  the port's is the MTU of the device that holds local=
 *                  (SIOCGIFMTU, read again every second), and each
 *                  destination a frame asked for has its own route MTU in
 *                  a small cache (below)
 *   mtu=N          the port's option: a smaller MTU somewhere on the path
 *                  the kernel cannot know (a provider's tunnel); the
 *                  smaller of the two is used, for every destination
 *
 * The check (RFC 7348 4.3 again; Linux's vxlan checks each destination's
 * route the same way): a frame too big for the remote it goes to is
 * dropped (too_big) and answered with ICMP carrying THAT remote's inner
 * MTU.  The remote is chosen inside the port's tx_burst (its table, its
 * flood list, tun_dst), so the check is there too (port_vxlan_tx.c) and
 * the answer goes back through port_io.too_big (port.h, dp/pmtu.h); a
 * flood copy too big for one remote is that remote's drop only, and the
 * frame is answered once.  While every destination has the same limit,
 * it is also port.tx_frame_max and the tx stage's check (dp/pmtu.h) does
 * the work before the port (a TSO frame answered once, before the egress
 * fallback cuts it); when they differ, tx_frame_max is 0 and the port
 * checks alone.  fit_all gates the port's check: a frame up to it fits
 * any destination, so the common small frame costs one compare.
 *
 * remote=flow's cache: destination address -> largest frame, at most
 * VXLAN_MTU_DSTS of them (VXLAN_MTU_WAYS-way buckets by a hash of the
 * address).  The data path looks a destination up (lock-free: each slot a
 * seqlock, the control thread its one writer) for a frame over fit_all
 * (the least an underlay may carry: 576 / 1280 bytes, less the outer
 * headers); a miss takes the port's limit, asks the control thread
 * (a ring of VXLAN_MTU_ASKS addresses, the transmitting worker its one
 * producer under the port's tx lock) and wakes it (an eventfd its event
 * loop polls, vxlan_mtu_wake_open()), which reads that route at once:
 * no allocation on the data path, and one write() per wake-up, not per
 * frame: the worker writes only when the control thread re-armed the
 * wake-up since the last one (wake_armed: it does so before it drains
 * the ring), so a burst of misses costs one syscall and the control
 * thread one pass; VXLAN_MTU_WAKES a tick at most, then the wake-up waits
 * for the tick (a stream of new destinations makes the control thread
 * read at most that many rings of routes a second, not one per frame).
 * Without an event loop (a unit test of one port) the next tick reads it.  Every tick reads each cached route again and
 * forgets destinations no frame was checked against for
 * VXLAN_MTU_IDLE_S; a full bucket gives up its least recently used entry.
 * So the first large frames to a new VTEP go by the port's limit for the
 * time the control thread takes to answer (milliseconds; up to a second
 * without the wake-up); the kernel's EMSGSIZE, too_big, still refuses
 * what does not fit: never fragmented.
 */

#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "port/vtep.h"

struct port;

#define VXLAN_MTU_WAYS 4		/* remote=flow: destinations per bucket of the cache */
#define VXLAN_MTU_BUCKETS 64		/* a power of two: 256 destinations, 8 KiB a port */
#define VXLAN_MTU_DSTS (VXLAN_MTU_WAYS * VXLAN_MTU_BUCKETS)
#define VXLAN_MTU_ASKS 32		/* misses waiting for the control thread (a power of two) */
#define VXLAN_MTU_IDLE_S 60		/* a destination no frame was checked against for this long is forgotten */
#define VXLAN_MTU_WAKES 64		/* wake-ups of the control thread per tick, at most (then the tick reads the asks) */

/*
 * One destination of the remote=flow cache: its address as two words
 * (IPv4: the address and 0; both 0: an empty slot) and its largest frame.
 * The control thread rewrites a slot between two odd/even steps of seq;
 * a reader that saw seq even and unchanged around its reads holds one
 * version.  used_s is the data path's (a relaxed store once a second).
 */
struct vxlan_mtu_dst {
	atomic_uint seq;
	atomic_uint frame_max;		/* 0: the kernel has no route to it: the port's */
	_Atomic uint64_t key[2];
	atomic_uint used_s;		/* the coarse second a frame was last checked against it */
	unsigned route;			/* control thread: its route MTU last read (0: none) */
};

struct vxlan_mtu_dsts {
	struct vxlan_mtu_dst slot[VXLAN_MTU_DSTS];
	_Atomic uint64_t ask[VXLAN_MTU_ASKS][2];	/* misses: producer the tx side, consumer the tick */
	atomic_uint ask_head, ask_tail;
	uint64_t last_ask[2];		/* tx side (under the port's tx lock): the last address asked for */
	atomic_uint_least64_t asked, evicted;	/* misses asked for; entries given up for a new one (full bucket) */
	int wake_fd;			/* eventfd the control thread polls (-1: none, the tick reads the asks) */
	atomic_uint wake_armed;		/* 1: the next ask writes wake_fd (the control thread sets it, the ask clears it) */
	unsigned wakes;			/* control thread: wake-ups since the last tick (VXLAN_MTU_WAKES at most) */
};

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
	/* what the data path reads (the tick writes them) */
	atomic_uint frame_max;	/* the port's largest frame, from used (0: no limit known) */
	atomic_uint fit_all;	/* a frame up to this fits every destination: no per-destination check */
	atomic_uint remote_max[VTEP_REMOTES_MAX];	/* each remote's largest frame (0: unknown: frame_max) */
	unsigned route_of[VTEP_REMOTES_MAX];	/* control thread: each remote's route MTU last read (0: none) */
	struct vxlan_mtu_dsts *dsts;	/* remote=flow: the destinations' cache (NULL otherwise) */
};

/* Open the probe from @local (@alen bytes) with mtu= @conf (0: none), @flow: remote=flow (the device MTU, the cache); 0 or -errno. */
int vxlan_mtu_open(struct vxlan_mtu *m, const struct sockaddr *local, socklen_t alen, bool ipv6, unsigned conf,
		   bool flow);

/*
 * The underlay MTU now: the smallest route MTU to @vt's remotes, each
 * kept in route_of[] (remote=flow: local='s device MTU; the cache's
 * asked-for destinations added and every entry's route read again, idle
 * ones forgotten), and mtu=, the smaller; 0 when neither is known.
 */
unsigned vxlan_mtu_read(struct vxlan_mtu *m, const struct vtep *vt);

/*
 * vxlan_mtu_read(), and what the data path reads from it: frame_max,
 * remote_max[], fit_all, and @p's tx_frame_max (the one limit when every
 * destination has it, else 0: the port checks each frame itself).
 */
void vxlan_mtu_apply(struct vxlan_mtu *m, const struct vtep *vt, struct port *p);

void vxlan_mtu_close(struct vxlan_mtu *m);

/*
 * remote=flow: an eventfd the data path writes when it asks for a
 * destination (at most once per vxlan_mtu_wake()), for the control
 * thread's event loop; its fd, or -errno (-EINVAL without the cache).
 * Closed by vxlan_mtu_close().
 */
int vxlan_mtu_wake_open(struct vxlan_mtu *m);

/*
 * Control thread, when that fd is readable: read it, re-arm the wake-up,
 * add the destinations asked for (their routes read now) and publish
 * what the data path reads, as vxlan_mtu_apply() does without reading
 * every route again.
 */
void vxlan_mtu_wake(struct vxlan_mtu *m, const struct vtep *vt, struct port *p);

/* The largest frame an underlay MTU of @mtu carries for @m's port (0: @mtu unknown or too small: no limit). */
unsigned vxlan_mtu_frame_max(const struct vxlan_mtu *m, unsigned mtu);

/* The largest frame to remote @r (an index of the port's remotes): its own, else the port's; 0: no limit known. */
static inline unsigned vxlan_mtu_remote_max(const struct vxlan_mtu *m, unsigned r)
{
	unsigned x = atomic_load_explicit(&m->remote_max[r], memory_order_relaxed);

	return x ? x : atomic_load_explicit(&m->frame_max, memory_order_relaxed);
}

/* remote=flow: address @a (of the port's family) as the cache's key. */
static inline void vxlan_mtu_key(const union vtep_addr *a, bool ipv6, uint64_t key[2])
{
	if (ipv6) {
		memcpy(key, &a->v6.sin6_addr, 16);
	} else {
		key[0] = a->v4.sin_addr.s_addr;
		key[1] = 0;
	}
}

/*
 * remote=flow, the data path (under the port's tx lock): the largest
 * frame to destination @key (vxlan_mtu_key()) as the cache has it, else
 * the port's (and the destination asked for: the next tick reads its
 * route); 0: no limit known.  @now_s: vtep_now_s(), marks it used.  No
 * syscall, no allocation, no lock.
 */
unsigned vxlan_mtu_dst_max(struct vxlan_mtu *m, const uint64_t key[2], uint32_t now_s);

/* remote=flow: the cache's live destinations (control thread; 0 without the cache). */
unsigned vxlan_mtu_dst_count(const struct vxlan_mtu *m);

/* A destination's MTU as `show` lists it where it differs from the port's. */
struct vxlan_mtu_entry {
	union vtep_addr addr;	/* port 0 */
	int remote;		/* its index of the port's remotes, or -1: remote=flow's cache */
	unsigned route;		/* the kernel's route MTU to it */
	unsigned mtu;		/* that, capped by mtu= */
	unsigned frame_max;
};

/* Control thread: up to @max destinations of @vt (or the cache) whose MTU is not the port's (used) into @out; their count. */
unsigned vxlan_mtu_dump(const struct vxlan_mtu *m, const struct vtep *vt, struct vxlan_mtu_entry *out, unsigned max);

#endif
