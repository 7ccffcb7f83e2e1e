/* port.h - what every port type offers the switch: bursts in and out, a wake-up fd, counters. */
#ifndef VSW_PORT_PORT_H
#define VSW_PORT_PORT_H

/*
 * A frame enters the switch through a port's rx_burst() and leaves through
 * other ports' tx_burst():
 *
 *   worker:  port A rx_burst() --> struct pkt: a view into A's memory (packet/pkt.h)
 *            dp pipeline       --> parse: the first bytes copied into the pkt's head;
 *                                  look up (learn), group by destination: on the head only
 *            port B tx_burst() --> B copies each frame once into its own memory:
 *                                  the head from the pkt, the rest from A's memory
 *            port A rx_done()  --> A releases what the views pointed to
 *
 * The view is iovecs into memory the source port owns (for a vhost-user
 * port, the guest's own tx buffers), so the bulk of a frame between two
 * VMs is copied exactly once, guest to guest; only its first bytes (at
 * most PKT_HEAD_COPY) are copied twice, and those are what the switch
 * decided on and what is delivered, whatever the source writes into its
 * buffer meanwhile.  The switch never learns which port types exist.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "packet/gso.h"
#include "packet/pkt.h"
#include "packet/vnet_hdr.h"

#define PORT_NAME_MAX 32
#define PORT_MAX 4096		/* slots on one switch: 0..4095 (nothing on the data path loops over them) */
/* The first slot vswd gives a port: slot 0 is OpenFlow port 0, reserved (as in Open vSwitch), so 4,095 ports 1..4095. */
#define PORT_FIRST 1
#define PORT_QUEUES_MAX 8	/* rx queues per port */
/* PKT_BURST, PKT_BURST_BYTES, PKT_MAX_FRAME: packet/pkt.h */

/* Why a frame was dropped; every drop is counted under one. */
enum port_drop {
	DROP_NO_RX_BUFFER,	/* destination had no (or not enough) receive buffers */
	DROP_TOO_BIG,		/* larger than the destination can take */
	DROP_PORT_DOWN,		/* destination not connected or not ready */
	DROP_PORT_BROKEN,	/* source or destination broke its ring */
	DROP_BAD_HEADER,	/* a virtio-net header asking for what was not negotiated */
	DROP_RUNT,		/* shorter than an Ethernet header */
	DROP_NO_DESTINATION,	/* flooded with no other port up, or unicast back to its own port */
	DROP_SRC_MAC,		/* source MAC not in the ingress port's mac= list (or ARP sender MAC not its source) */
	DROP_MAC_LOCKED,	/* source MAC locked to another port */
	DROP_SRC_IP,		/* IPv4/IPv6 source or ARP sender address not in the port's ip= list */
	DROP_ETHERTYPE,		/* from a port with ip=: neither IPv4, ARP, RARP nor IPv6, or too short for its header */
	DROP_FLOOD_RATE,	/* broadcast, multicast or unknown unicast over the port's flood_rate */
	DROP_FLOOD_BUDGET,	/* a flood over its worker's or its queue's copy budget (the switch's flood_budget; dp/dp.h) */
	DROP_VLAN_TAGGED,	/* an 802.1Q tag with a VLAN ID on an access port (tag=) */
	DROP_VLAN_DENIED,	/* in a VLAN its port does not trunk (trunks=), or tagged with the reserved VID 4095 */
	DROP_FLOW_MISS,		/* flow tables: a table miss where the table drops */
	DROP_FLOW_DROP,		/* flow tables: the actions sent the frame nowhere (drop, or a limit of the executor) */
	DROP_FLOW_COPIES,	/* flow tables: an output past the worker's pool of frame copies (dp/flows.h) */
	DROP_BAD_OFFLOAD,	/* an offload request (checksum, segmentation) its frame does not match: by reason in offload_bad[] */
	DROP_NO_TUNNEL_DST,	/* to a tunnel port with remote=flow without a tun_dst / tun_ipv6_dst of its family */
	DROP__COUNT
};
extern const char *const port_drop_names[DROP__COUNT];

struct port_stats {
	atomic_uint_least64_t rx_packets, rx_bytes;	/* into the switch from this port */
	atomic_uint_least64_t tx_packets, tx_bytes;	/* out of the switch into this port */
	atomic_uint_least64_t drops[DROP__COUNT];
	atomic_uint_least64_t offload_bad[GSO_BAD__COUNT];	/* DROP_BAD_OFFLOAD, by gso_check()'s reason */
	atomic_uint_least64_t tx_pmtu_icmp;	/* its too_big drops answered with ICMP (dp/pmtu.h) */
};

/*
 * One direction of one queue of a port with queues (a vhost-user port's
 * queue pairs, an afxdp port's sockets), kept in the port's own per-queue
 * struct next to what it counts.  Its writer is one thread at a time: rx
 * the worker that polls the queue, tx whoever holds the queue's tx lock;
 * so port_count_owned() adds without a locked instruction.  The port's
 * stats stay the totals.
 */
struct port_queue_count {
	atomic_uint_least64_t packets, bytes;
};

/*
 * One figure of a port type's own (port_ops.type_stats), for `stats`: a
 * counter, or a gauge when @name ends in "entries" or "remotes" (what
 * ctl_metrics.c types as a gauge).
 */
struct port_type_stat {
	const char *name;
	uint64_t value;
};
#define PORT_TYPE_STATS_MAX 48

/* A queue's counters as the control thread reads them (port_ops.queue_stats). */
struct port_queue_stats {
	uint64_t rx_packets, rx_bytes;	/* into the switch from this queue */
	uint64_t tx_packets, tx_bytes;	/* out of the switch into it */
};

struct port;
struct capture;
struct evloop;

/*
 * What a port names in port_io.blame around a syscall on an fd its peer
 * controls (a vhost-user call eventfd the peer may have made blocking).
 * The data path's watchdog calls ->stalled on the control thread while
 * the worker is still in that syscall: it marks the port broken and
 * returns; no locks, no waiting.
 */
struct port_blame {
	struct port *port;
	void (*stalled)(const struct port_blame *b, unsigned worker, unsigned ms);
};

/* What a port op learns about the worker calling it: the worker's own, read by the port and the watchdog. */
struct dp_perf;

struct port_io {
	unsigned worker_id;			/* picks the port's tx queue: worker_id % queues */
	_Atomic(const struct port_blame *) blame; /* set around a syscall that might block; see port_blame */
	struct dp_perf *perf;			/* the worker's stage timing (lib/perf.h), or NULL when off */
	/*
	 * The data path's answer to a frame a tx_burst found too big for the
	 * destination it chose (port_tx_too_big()), or NULL: none (a unit test
	 * of one port).  Set by the data path, which owns the answers; a port
	 * never includes it.
	 */
	void (*too_big)(struct port_io *io, struct port *out, struct pkt *pk, unsigned frame_max);
};

/*
 * A tx_burst that picks each frame's destination itself (a tunnel's remote
 * VTEP, each behind its own path MTU) found @pk too big for it: larger
 * than @frame_max, that destination's largest frame.  The port counts the
 * drop (too_big) and calls this once per frame (a flood too big for several
 * remotes: once, with the smallest of their limits); the data path may
 * answer the sender with ICMP as its own tx stage check does (dp/pmtu.h),
 * reading @pk before this returns and keeping nothing of it.  No
 * allocation, no syscall: the answer is queued in the worker's room.
 */
static inline void port_tx_too_big(struct port_io *io, struct port *out, struct pkt *pk, unsigned frame_max)
{
	if (io->too_big)
		io->too_big(io, out, pk, frame_max);
}

/* A port's news for the control plane (port_env.changed), on the control thread. */
enum port_change {
	PORT_QUIESCE,		/* about to change rings or memory the workers use: wait until none can (grace period) */
	PORT_RINGS_CHANGED,	/* queues appeared, went or moved: recompute which worker polls what */
	PORT_LINK_DOWN,		/* the peer went away: forget the MAC addresses learned on the port */
};

/* What a port needs from the daemon around it (control plane). */
struct port_env {
	struct evloop *loop;
	/* Called for every enum port_change; the daemon owns the switch and the data path and acts on them. */
	void (*changed)(void *opaque, struct port *p, enum port_change what);
	void *opaque;
};

/* Tell the daemon (a no-op when nobody listens: unit tests of one port). */
static inline void port_env_changed(const struct port_env *env, struct port *p, enum port_change what)
{
	if (env->changed)
		env->changed(env->opaque, p, what);
}

struct port_ops {
	const char *type;
	/*
	 * Frames from queue @q into the switch: at most @max, each of at least
	 * PKT_ETH_HLEN bytes (shorter ones are the port's `runt` drops), set
	 * with pkt_rx_init(); views valid until rx_done().
	 */
	unsigned (*rx_burst)(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max);
	void (*rx_done)(struct port *p, unsigned q, struct port_io *io);
	/*
	 * Frames out of the switch into the port: copy each through
	 * pkt_to_buf(), pkt_copy() or pkt_segs() (the head from the pkt, never
	 * the source's first bytes again), count every drop; the tx queue is
	 * io->worker_id's.
	 */
	void (*tx_burst)(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n);
	/* Number of rx queues a worker may poll now. */
	unsigned (*rx_queues)(struct port *p);
	/* fd readable when queue @q has frames, or -1 when it must be polled. */
	int (*rx_fd)(struct port *p, unsigned q);
	/* Ask for a wake-up on queue @q; true when frames are already waiting. */
	bool (*rx_arm)(struct port *p, unsigned q);
	void (*rx_disarm)(struct port *p, unsigned q);
	/*
	 * Optional (NULL: never): true when polling queue @q while it is idle
	 * is a read of a ring shared with the peer, no syscall, and the queue
	 * can have frames (a vhost-user queue not live cannot).  A
	 * busy-polling worker with idle rounds keeps a few such queues polled
	 * every round however idle (DP_HOT_KEEP, dp/dp.h), as DPDK's and
	 * OVS's poll loops do all of theirs: a frame on a quiet port is seen
	 * in the next round, not when a kick is read.
	 */
	bool (*rx_poll_cheap)(struct port *p, unsigned q);
	/* Control plane: one line of state ("connected", "broken: ...") into @buf. */
	void (*describe)(struct port *p, char *buf, size_t len);
	/* Control plane, once a second: reconnect, report what the data path found. */
	void (*tick)(struct port *p);
	/*
	 * Control plane, optional (NULL: a port without queues of its own):
	 * each queue's counters into @out, at most @max; returns the queues.
	 */
	unsigned (*queue_stats)(struct port *p, struct port_queue_stats *out, unsigned max);
	/*
	 * Control plane, optional: the port type's own figures into @out, at
	 * most @max; returns them.  `stats` shows them in an object named
	 * @type_stats_name in the port's ("tunnel" for vxlan).
	 */
	unsigned (*type_stats)(struct port *p, struct port_type_stat *out, unsigned max);
	const char *type_stats_name;
	/*
	 * Data path, optional (a tunnel): the tunnel metadata of an ICMP
	 * answer (dp/pmtu.h) to frame @pk, too big for its way out of this
	 * port, into *@tun: as if the answer came back through the tunnel
	 * from where @pk was going.  False: none (the answer goes without).
	 */
	bool (*answer_tun)(struct port *p, const struct pkt *pk, struct pkt_tun *tun);
	void (*destroy)(struct port *p);
};

struct port {
	char name[PORT_NAME_MAX];
	unsigned id;			/* slot on the switch */
	const struct port_ops *ops;
	struct port_stats stats;
	_Atomic(struct capture *) capture;	/* NULL, or what the switch records this port's frames into (capture.h) */
	/*
	 * Offloads (packet/gso.h): the GSO_TX_* requests its tx_burst takes
	 * whole (what a frame needs beyond them is done in software just
	 * before it, dp/offload.c), and whether its rx_burst hands frames with
	 * requests at all (false: the tx stage never looks).
	 */
	atomic_uint tx_offload;
	bool rx_offload;
	/*
	 * The largest frame its tx_burst can send (0: no limit): the tx stage
	 * drops bigger ones (too_big) and answers their IP senders with ICMP
	 * (dp/pmtu.h).  A tunnel's underlay MTU less its outer headers.
	 */
	atomic_uint tx_frame_max;
	/*
	 * Its DROP_BAD_HEADER drops of a virtio-net header (vhost-user, tap,
	 * AF_PACKET), by vnet_hdr_parse()'s reason (port_count_bad_header());
	 * a stats counter, kept last so that the fields above keep their lines;
	 * eight of them (VNET_BAD__COUNT used): the struct grows by one whole
	 * line, so each port type's own fields after it keep their places in
	 * theirs (a hot field's line mates move the data path's cycles).
	 */
	atomic_uint_least64_t header_bad[8];
};
_Static_assert(VNET_BAD__COUNT <= 8, "port.header_bad holds every reason");

/* rx_poll_cheap of a port type whose every queue always qualifies (its rx ring is a mapping of the kernel's). */
static inline bool port_rx_poll_cheap_always(struct port *p, unsigned q)
{
	return true;
}

static inline void port_count_drop(struct port *p, enum port_drop why, unsigned n)
{
	atomic_fetch_add_explicit(&p->stats.drops[why], n, memory_order_relaxed);
}

/* Add a burst's drops, counted per reason in @drops, to the port's counters. */
/*
 * Send @m prepared messages through @fd with sendmmsg(), each headed by
 * @hdr_len bytes of our own (not counted in @bytes).  sendmmsg() stops at
 * the first message the kernel refuses: that one is counted by its reason
 * (EMSGSIZE: too_big, never fragmented; else port_broken) and the rest go
 * on; a full socket (no_rx_buffer) or a link or route down (port_down)
 * ends the burst, the rest counted so.  Each round sends or skips at
 * least one, so this ends.  Returns the messages sent.
 */
struct mmsghdr;
unsigned port_sendmmsg(int fd, struct mmsghdr *msgs, unsigned m, size_t hdr_len, uint64_t *bytes,
		       unsigned drops[DROP__COUNT]);

static inline void port_count_drops(struct port *p, const unsigned drops[DROP__COUNT])
{
	unsigned any = 0;

	/*
	 * Most bursts drop nothing: one pass of ORs without a branch (a few
	 * vector ORs), instead of a test and a branch for each reason every
	 * burst (~140 instructions of a vxlan port's burst of 8 frames;
	 * callgrind, bench_vxlan -b 8).
	 */
	for (unsigned r = 0; r < DROP__COUNT; r++)
		any |= drops[r];
	if (!any)
		return;
	for (unsigned r = 0; r < DROP__COUNT; r++)
		if (drops[r])
			port_count_drop(p, (enum port_drop)r, drops[r]);
}

/*
 * A port's rx_burst, for a frame @pk (set with pkt_rx_init()) whose medium
 * asked for an offload: copy its head and check the request against it
 * (gso_check(): the one check at the boundary, for whatever the source
 * is).  False, the drop counted by reason, when the frame is to go.
 */
static inline bool port_offload_rx_ok(struct port *p, struct pkt *pk)
{
	enum gso_bad why;

	pkt_load(pk);
	why = gso_check(pk);
	if (why == GSO_OK)
		return true;
	atomic_fetch_add_explicit(&p->stats.offload_bad[why], 1, memory_order_relaxed);
	port_count_drop(p, DROP_BAD_OFFLOAD, 1);
	return false;
}

/* A frame dropped at rx for its virtio-net header (@why: vnet_hdr_parse()'s reason): a bad_header drop, by reason. */
static inline void port_count_bad_header(struct port *p, enum vnet_bad why)
{
	if ((unsigned)why < VNET_BAD__COUNT)
		atomic_fetch_add_explicit(&p->header_bad[why], 1, memory_order_relaxed);
	port_count_drop(p, DROP_BAD_HEADER, 1);
}

static inline void port_count(atomic_uint_least64_t *ctr, uint64_t n)
{
	atomic_fetch_add_explicit(ctr, n, memory_order_relaxed);
}

/* Add to a counter of one writer at a time (struct port_queue_count): a plain load and store, no locked add. */
static inline void port_count_owned(atomic_uint_least64_t *ctr, uint64_t n)
{
	atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + n, memory_order_relaxed);
}

/* A burst of @pkts frames and @bytes bytes through one queue's direction @c. */
static inline void port_queue_count(struct port_queue_count *c, unsigned pkts, uint64_t bytes)
{
	port_count_owned(&c->packets, pkts);
	port_count_owned(&c->bytes, bytes);
}

/* What a port_queue_count holds now (control thread). */
static inline uint64_t port_queue_read(atomic_uint_least64_t *ctr)
{
	return atomic_load_explicit(ctr, memory_order_relaxed);
}

#endif
