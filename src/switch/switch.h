/* switch.h - the learning bridge (or hub) between ports, with per-port security and VLANs. */
#ifndef VSW_SWITCH_SWITCH_H
#define VSW_SWITCH_SWITCH_H

/*
 * Per-port security (the port's generic options, parsed in ctl/port_opts.c):
 *
 *   mac=M[,M..]     the source MACs the port may use (locked in the FDB:
 *                   never learned elsewhere, never aged, never moved);
 *                   frames from other sources are `src_mac` drops, and the
 *                   port learns nothing else
 *   ip=A[,A..]      the IPv4/IPv6 sources the port may use: IPv4 source,
 *                   ARP sender and IPv6 source must be listed (or be the
 *                   unspecified address); other ethertypes but RARP are
 *                   `ethertype` drops
 *   mac_limit=N     learned FDB entries the port may own (0 = no limit)
 *   flood_rate=PPS  broadcast + multicast + unknown-unicast frames per
 *                   second the port may send (token bucket; 0 = no limit)
 *
 * VLANs (switch_vlan.h), as Open vSwitch ports' tag, trunks and vlan_mode:
 *
 *   tag=N           access port of VLAN N (native VLAN with vlan_mode=native-*)
 *   trunks=L        the VLANs a trunk carries, "10,20,30-40" (empty: all)
 *   vlan_mode=M     access, trunk, native-tagged or native-untagged
 *
 * A port with mac= or ip= is "secured": its frames go through a check
 * (switch_sec.c) of their heads, the private copies of their first bytes
 * that the parse stage made and that the ports deliver (packet/pkt.h), so
 * a guest rewriting its buffer after the check cannot change what is
 * delivered.  A port without them pays nothing for it.
 */

#include <stdatomic.h>
#include <stdbool.h>

#include "port/port.h"
#include "switch/fdb.h"

struct pkt_batch;
struct flow_tables;

enum switch_mode {
	SWITCH_LEARNING,	/* MAC learning; flood broadcast, multicast and unknown unicast */
	SWITCH_HUB,		/* QEMU's hub: every frame to every other port */
};

#define SWITCH_MACS_MAX 8
#define SWITCH_IPS_MAX 8
/*
 * Off unless asked for, as in Open vSwitch and the Linux bridge: an uplink
 * has thousands of MACs behind it, and a limit that drops unknown unicast
 * breaks traffic to a silent host (testpmd's io forwarding, a one-way UDP
 * stream).  Tenant ports set them (docs/VSWD.md, "Port security").
 */
#define SWITCH_DEFAULT_MAC_LIMIT 0
#define SWITCH_DEFAULT_FLOOD_RATE 0
/*
 * Flood copies (frames x destination ports) a worker may make at once,
 * and a queue while another sends unicast (dp/dp.h: the worker's bucket
 * fills up by DP_FLOOD_QUEUE_COPIES per hot queue a round, a queue's by
 * DP_FLOOD_QUEUE_SHARE per poll, and a queue's is also charged each
 * destination port's burst): one full batch of broadcasts on a switch of
 * 64 ports fits the worker's, a broadcast to 1,000 ports leaves room for
 * three more (a queue's: one more, at 2,997 for the first).  0: no limit.
 */
#define SWITCH_DEFAULT_FLOOD_BUDGET 4096

/* How a port maps frames to VLANs (ovs-vswitchd.conf.db(5), Port table, vlan_mode). */
enum switch_vlan_mode {
	SWITCH_VLAN_TRUNK,		/* the VLAN of the 802.1Q header, or 0; sent tagged but VLAN 0 */
	SWITCH_VLAN_ACCESS,		/* VLAN tag=, never sent tagged; a tag with a VLAN ID is a drop */
	SWITCH_VLAN_NATIVE_TAGGED,	/* a trunk whose untagged frames are in VLAN tag= */
	SWITCH_VLAN_NATIVE_UNTAGGED,	/* the same, and VLAN tag= is sent untagged */
};

#define SWITCH_VLANS 4096
#define SWITCH_VLAN_TAG_MAX 4094	/* 4095 is reserved (802.1Q) */

/* A port's security and VLAN options (what the port-add request asked for). */
struct switch_port_cfg {
	unsigned mac_limit;			/* 0: no limit */
	unsigned flood_rate_pps;		/* 0: no limit */
	unsigned n_macs, n_ip4, n_ip6;
	bool ip_lock;				/* ip= given: IP sources are checked */
	uint8_t macs[SWITCH_MACS_MAX][6];
	uint8_t ip4[SWITCH_IPS_MAX][4];
	uint8_t ip6[SWITCH_IPS_MAX][16];
	uint8_t vlan_mode;			/* enum switch_vlan_mode */
	bool has_tag;				/* tag= given */
	uint16_t tag;				/* access: the port's VLAN; native-*: the native VLAN */
	bool trunks_only;			/* trunks= given: only its VLANs (else every VLAN; zeroed: a plain port) */
	uint64_t trunks[SWITCH_VLANS / 64];	/* trunks=, one bit a VLAN */
	bool has_ofport_request;		/* ofport_request= given (ctl/ctl_ports.c gives the slot; not the switch's) */
	uint16_t ofport_request;		/* the OpenFlow port number, i.e. slot, asked for */
};

/* Per-port events that are not drops. */
enum switch_counter {
	SWC_MAC_MOVES,		/* MACs this port took over from another port */
	SWC_LEARN_LIMIT,	/* learning refused: the port owns mac_limit entries */
	SWC_LEARN_BUSY,		/* not learned: another thread held the MAC's bucket (a later frame learns) */
	SWC__COUNT
};
extern const char *const switch_counter_names[SWC__COUNT];

/* What the switch keeps for one port slot (written by the control thread while the slot is unpublished). */
struct switch_port {
	bool secured;				/* mac= or ip= set: frames go through switch_sec_check() */
	bool vlan;				/* not a trunk of every VLAN: frames go through switch_vlan_classify() */
	struct switch_port_cfg cfg;
	uint64_t flood_interval_ns;		/* 0: unlimited */
	uint64_t flood_burst_ns;		/* how far ahead of now the bucket may run */
	_Atomic uint64_t flood_tat_ns;		/* when the bucket is next empty (GCRA) */
	atomic_uint_least64_t counters[SWC__COUNT];
};

/* switch_portlist.vlan_of[]: a port that carries every VLAN, or some it needs switch_vlan_carries() to tell. */
#define SWITCH_LIST_VLAN_ALL 0xffffu
#define SWITCH_LIST_VLAN_SOME 0xfffeu

/*
 * The slots a flood goes to: every published port, in slot order; and, so
 * that a flood in one VLAN costs what it reaches, each one's VLANs in a
 * compact form beside it and how many ports carry each VLAN (the flood's
 * fan-out, dp/egress.c).  Built by switch_port_set() from the ports'
 * switch_port_cfg, which changes only while a port is unpublished.
 */
struct switch_portlist {
	unsigned n;
	unsigned all_vlans;			/* ports that carry every VLAN (plain ports, trunks without trunks=) */
	uint16_t vlan_only[SWITCH_VLANS];	/* the other ports that carry VLAN v (access, trunks=, native) */
	uint16_t slot[PORT_MAX];
	uint16_t vlan_of[PORT_MAX];		/* slot[i]'s VLAN: an access port's tag, or SWITCH_LIST_VLAN_* */
};

/* Ports on @l that carry VLAN @vid. */
static inline unsigned switch_list_carrying(const struct switch_portlist *l, unsigned vid)
{
	return l->all_vlans + l->vlan_only[vid];
}

struct vswitch {
	enum switch_mode mode;
	_Atomic(struct port *) ports[PORT_MAX];	/* published by the control thread (switch_port_set), read by workers */
	_Atomic(const struct switch_portlist *) flood_list;	/* one of lists[], republished with every change */
	struct switch_portlist lists[2];
	unsigned flood_budget;			/* a worker's and each polled queue's bucket of flood copies (dp/dp.h); 0: no limit */
	atomic_uint now_s;			/* coarse clock for aging, ticked by the control thread */
	atomic_uint vlan_ports;			/* attached ports with switch_port.vlan: VLANs on the data path when not 0 */
	uint64_t (*clock_ns)(void);		/* monotonic; read at most once per batch, for flood_rate */
	struct switch_port sp[PORT_MAX];
	struct fdb fdb;
	/* The flow tables the workers use (dp/flows.h), published by the control thread; NULL: no rule, the bridge alone. */
	_Atomic(const struct flow_tables *) flows;
};

/* A switch with no port and an empty FDB for @fdb_size MACs (fdb.h).  0, -EINVAL or -ENOMEM. */
int switch_init(struct vswitch *sw, enum switch_mode mode, unsigned aging_s, unsigned fdb_size);

/* Free the FDB (no worker may use the switch any more). */
void switch_destroy(struct vswitch *sw);

/*
 * Control thread: publish @p in slot @slot (NULL: empty the slot) and the
 * flood list that follows, in O(ports) (and the VLANs their trunks= name).  Two lists take turns, so while
 * workers run, a grace period (dp_sync) must pass before the next call:
 * a worker may still read the list this call replaced.
 */
void switch_port_set(struct vswitch *sw, unsigned slot, struct port *p);

/* Defaults for a port that asked for nothing: no locking, default limits. */
void switch_port_cfg_default(struct switch_port_cfg *c);

/*
 * Control thread, before the port in slot @port is published: forget the
 * slot's FDB entries and counters, apply @c, lock its MACs.  0, or -1 with
 * @err (a MAC is locked to another port; then nothing is applied).
 */
int switch_port_attach(struct vswitch *sw, unsigned port, const struct switch_port_cfg *c, char *err,
		       size_t errlen);

/* Control thread, once the port is unpublished and a grace period passed: forget the slot. */
void switch_port_detach(struct vswitch *sw, unsigned port);

/*
 * The `normal` action, the lookup stage of the pipeline (dp/pipeline.c):
 * decide where each frame of @b goes, without sending anything.  Checks
 * the frames of a secured port (switch_sec.c), learns their sources, looks
 * up their destinations (the batch's buckets prefetched first, so their
 * cache misses overlap), and writes one verdict per frame (packet/batch.h):
 * one port, flood (hub mode: always), or a drop with its reason (locked
 * source, over the flood rate, unicast back to the ingress port, or the
 * security check's).  Counts learning events (SWC_*); the datapath counts
 * the drops and sends.  No allocation, no lock.
 */
void switch_decide(struct vswitch *sw, struct pkt_batch *b);

#endif
