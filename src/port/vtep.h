/* vtep.h - a VXLAN port's remote VTEPs (its flood list) and the remote MACs behind each, learned and static. */
#ifndef VSW_PORT_VTEP_H
#define VSW_PORT_VTEP_H

/*
 * Two levels, as the Linux bridge with a vxlan device: the switch's FDB
 * says "MAC M is behind port t0" (switch/fdb.h, keyed (VLAN, MAC), nothing
 * tunnel-specific in it, so the other ports pay nothing for tunnels); the
 * vxlan port's own table says "behind t0, (VNI, M) is at VTEP X":
 *
 *   switch FDB  (VLAN, M) -> t0           vtep table (VNI, M) -> remote index -> remotes[i] (IP)
 *
 * The port learns it on receive (the inner source MAC and the outer
 * source IP of each datagram), and reads it on transmit: a unicast inner
 * destination found there goes to that one VTEP; a broadcast, multicast
 * or unknown destination goes once to each remote of the flood list
 * (head-end replication; port_vxlan_tx.c).
 *
 *   remotes[0 .. n_flood)           remote=IP[,IP..] of the port: the flood list (fixed at create)
 *   remotes[n_flood .. n_remotes)   added by static entries (tunnel fdb add ... remote=IP):
 *                                   reached for their MACs, never flooded to; freed when
 *                                   nothing names them, reused by a later add
 *
 * A worker reads a remote by index without a lock, so a slot's address
 * changes only while no worker can hold its index.  The control thread
 * writes them all; a slot's life:
 *
 *            add (address, then the live bit, released)
 *   free ---------------------------------------------> live <----------+
 *    ^                                                   |              | add of the same address:
 *    | vtep_remote_reclaim(),                            | release:     | live again at once (its
 *    | after a grace period (the                         | live bit     | index never named another)
 *    | port's PORT_QUIESCE: dp_sync)                     v cleared      |
 *    +------------------------------------------------ retired ---------+
 *
 * live       vtep_remote_find() matches it (a datagram from it is accepted
 *            and learned behind it), entries and flood lists may name it;
 *            the flood list's (below n_flood) stay live for the port's life
 * retired    no static entry and no flood list names it (vtep_remotes_named()
 *            false); its learned entries went with the live bit (under the
 *            table's lock, which learning takes and checks the bit under:
 *            a learning request of a burst that found it before is refused),
 *            so no entry of the table names it; a worker that looked it up
 *            before may still send to its address (unchanged)
 * free       a grace period passed since: no worker holds its index any
 *            more (a learning request, a lookup's answer, a receive slot's
 *            leftover datagrams: the rx side finds a message's remote again
 *            at each burst), so its address may be rewritten for a new remote
 *
 * n_remotes only grows (the slots ever used: entry first, then the count,
 * released); a reader skips the slots whose live bit is clear.
 *
 * Per-VNI flood lists (tunnel fdb add 00:00:00:00:00:00 vni=N remote=IP,
 * as iproute2's `bridge fdb append 00:00:00:00:00:00 ... dst IP vni N`):
 * a VNI that has one floods to its remotes instead of the port's list.
 * A list is a mask over remotes[] (VTEP_REMOTES_MAX bits), so the whole
 * list of a VNI is one word, read in one load:
 *
 *   flood[VTEP_FLOOD_SLOTS]   63     62 .. 56   55 ........ 32   31 ............ 0
 *                             used   0          VNI              remote mask     (0: never used)
 *
 * Open addressing by a hash of the VNI, linear probing, at most half the
 * slots live (VTEP_FLOOD_VNIS_MAX).  Only the control thread writes
 * (under the lock), each change one release store of a word: a list
 * grows or shrinks in place; a list emptied leaves `used` with mask 0 (a
 * tombstone: probes go on past it, a new VNI may take it); a tombstone
 * whose next slot was never used becomes 0 again (no probe path runs
 * through it).  A VNI never moves, so a reader (the transmitting worker:
 * load words from the VNI's slot until its VNI or a 0, acquire: a remote
 * the mask names was published before it) finds a live list whatever the
 * writer does meanwhile, and sees the old mask or the new one.
 *
 * The MAC table: VTEP_BUCKETS buckets of VTEP_WAYS entries, one cache line
 * each, indexed by a keyed hash of (VNI, MAC) drawn at startup (a remote
 * sender cannot aim MACs at one bucket).  An entry is two words:
 *
 *   key   63    62 ........ 48   47 ............ 0
 *         valid  VNI's low 15    MAC                     (0: empty)
 *   val   63 ........... 33   32      31 ..... 24   23 ...... 0
 *         last-seen second    static  remote index   VNI
 *
 * Writers (the worker receiving on the port, learning; the control
 * thread, static entries) take the table's lock, once per receive burst
 * and only when something changes (a refresh is once a second per MAC).
 * Readers (the transmitting worker) take none: they read key, val, key
 * again, and a writer replacing an entry stores key 0, then val, then the
 * new key (each release), so a reader that sees the same key twice holds
 * that key's val.  A learned entry older than the aging time is ignored
 * by lookups and reused by learning; a static one never ages, is never
 * replaced by learning (it wins over what the wire says) and goes only by
 * vtep_del().  A full bucket gives up its oldest learned entry.
 */

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define VTEP_REMOTES_MAX 32		/* remote VTEPs per port: flood list and static ones */
#define VTEP_WAYS 4			/* entries per bucket: 4 x 16 bytes, one cache line */
#define VTEP_BUCKETS 2048		/* a power of two: 8,192 remote MACs, 128 KiB a port */
#define VTEP_AGING_S 300		/* learned entries, as the switch's FDB default */
#define VTEP_LEARN_MAX 64		/* learning requests per receive burst (PKT_BURST) */
#define VTEP_FLOOD_VNIS_MAX 1024	/* VNIs with a flood list of their own, per port */
#define VTEP_FLOOD_SLOTS (2 * VTEP_FLOOD_VNIS_MAX)	/* a power of two, at most half live: 16 KiB a port */

union vtep_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

struct vtep_remote {
	union vtep_addr addr;		/* port 0: the raw socket's destination */
	char str[INET6_ADDRSTRLEN];
};

struct vtep_entry_word {
	_Atomic uint64_t key, val;
};

struct vtep_bucket {
	struct vtep_entry_word e[VTEP_WAYS];
} __attribute__((aligned(64)));

/* Events of the table, for the port's describe. */
enum vtep_counter {
	VTEP_LEARNED,		/* entries added by learning */
	VTEP_MOVED,		/* a learned MAC seen behind another VTEP */
	VTEP_FULL,		/* not learned: every entry of the bucket static */
	VTEP__COUNT
};
extern const char *const vtep_counter_names[VTEP__COUNT];

struct vtep {
	bool ipv6;
	unsigned n_flood;			/* remotes[0 .. n_flood): the flood list */
	_Atomic unsigned n_remotes;		/* slots ever used: entries below that are complete */
	_Atomic uint32_t live;			/* bit r: remotes[r] is a VTEP now (above) */
	uint32_t retired;			/* control thread: released, free after a grace period */
	struct vtep_remote remotes[VTEP_REMOTES_MAX];
	uint64_t hash_key[2];
	unsigned aging_s;
	pthread_spinlock_t lock;		/* writers of the MAC table */
	atomic_uint_least64_t counters[VTEP__COUNT];
	struct vtep_bucket *buckets;		/* VTEP_BUCKETS */
	_Atomic uint64_t *flood;		/* VTEP_FLOOD_SLOTS: the per-VNI flood lists */
	unsigned n_flood_vnis;			/* live lists (control thread) */
};

/* One per-VNI flood list as `tunnel fdb show` lists it: bit r of @remotes is remotes[r]. */
struct vtep_flood {
	uint32_t vni;
	uint32_t remotes;
};

/* A learning request (the receive side gathers a burst of them, vtep_learn() applies them at once). */
struct vtep_learn {
	uint64_t mac;				/* vtep_mac() form */
	uint32_t vni;
	uint8_t remote;
};

/* One entry as `tunnel fdb show` lists it. */
struct vtep_entry {
	uint8_t mac[6];
	uint32_t vni;
	unsigned remote;			/* index into remotes[] */
	bool is_static;
	uint32_t age_s;
};

/* An empty table for an IPv4 (@ipv6 false) or IPv6 underlay.  0 or -ENOMEM. */
int vtep_init(struct vtep *t, bool ipv6);
void vtep_destroy(struct vtep *t);

/* A MAC address as the 48 low bits of a word (the first byte lowest). */
static inline uint64_t vtep_mac(const uint8_t mac[6])
{
	uint64_t m = 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t lo;
	uint16_t hi;

	/*
	 * Two loads put together in a register: six bytes copied into a
	 * zeroed word went through the stack (two stores and a load the store
	 * buffer cannot forward, a stall per MAC on the VXLAN data path).
	 */
	memcpy(&lo, mac, 4);
	memcpy(&hi, mac + 4, 2);
	m = (uint64_t)lo | (uint64_t)hi << 32;
#else
	for (unsigned i = 0; i < 6; i++)
		m |= (uint64_t)mac[i] << (8 * i);
#endif
	return m;
}

/* The coarse monotonic second the table ages by (a vDSO read: once per burst). */
uint32_t vtep_now_s(void);

/*
 * Control thread: the index of remote @a (its family must be the table's),
 * made when new in a free slot or appended (in the flood list with
 * @flood, which only the port's remote= may ask for, before any other).
 * -EAFNOSUPPORT; -ENOSPC: VTEP_REMOTES_MAX live ones; -EAGAIN: no free
 * slot, but retired ones: after a grace period and vtep_remote_reclaim(),
 * ask again.
 */
int vtep_remote_add(struct vtep *t, const union vtep_addr *a, bool flood);

/* Is remotes[@r] a VTEP now (live, above)?  Any thread. */
static inline bool vtep_remote_live(const struct vtep *t, unsigned r)
{
	return r < VTEP_REMOTES_MAX && (atomic_load_explicit(&t->live, memory_order_acquire) >> r & 1);
}

/* The live remotes, counted. */
static inline unsigned vtep_remote_count(const struct vtep *t)
{
	return (unsigned)__builtin_popcount(atomic_load_explicit(&t->live, memory_order_acquire));
}

/* Control thread: the remotes a static entry or a per-VNI flood list names (bit r: remotes[r]). */
uint32_t vtep_remotes_named(struct vtep *t);

/*
 * Control thread, after an entry or a flood list went: every live remote
 * past the flood list that nothing names (vtep_remotes_named()) stops
 * being a VTEP: retired, its learned entries forgotten.  Returns them (a
 * mask, 0: none).
 */
uint32_t vtep_remotes_release(struct vtep *t);

/*
 * Control thread, after a grace period that began after the last
 * vtep_remotes_release(): the retired slots become free.  Returns them (a
 * mask), for what the caller keeps per remote (its MTU).
 */
uint32_t vtep_remote_reclaim(struct vtep *t);

/*
 * Why @a can never be a remote VTEP of a port whose local= is @local, or
 * NULL when it can: the unspecified address (0.0.0.0, ::), the limited
 * broadcast (255.255.255.255), a multicast address (vsw has no
 * multicast-group port: a flood goes to each remote by unicast), or
 * local= itself (the port would send to itself).  Loopback addresses are
 * fine (tests run VTEPs on 127.x and ::1).  Both of the table's family.
 */
const char *vtep_remote_refused(const union vtep_addr *a, const union vtep_addr *local);

/* The index of the remote a datagram came from (@a, @len from recvmmsg), or -1: not a known VTEP. */
int vtep_remote_find(const struct vtep *t, const union vtep_addr *a, unsigned len);

/* The remote behind (@vni, @mac) now, or -1 (unknown, aged out, a group MAC never is found). */
int vtep_lookup(const struct vtep *t, uint32_t vni, uint64_t mac, uint32_t now_s);

/*
 * Does (@vni, @mac) seen from @remote change the table (new, moved, or
 * not refreshed this second)?  False for a group or zero MAC and for a
 * static entry.  Lock-free: the receive side asks it per frame.
 */
bool vtep_learn_wanted(const struct vtep *t, uint32_t vni, uint64_t mac, unsigned remote, uint32_t now_s);

/* Apply @n learning requests under the lock, once. */
void vtep_learn(struct vtep *t, const struct vtep_learn *l, unsigned n, uint32_t now_s);

/* Control thread: (@vni, @mac) at remote @remote for good (replaces a learned entry).  0 or -ENOSPC. */
int vtep_static_add(struct vtep *t, uint32_t vni, uint64_t mac, unsigned remote);

/*
 * Control thread: would vtep_static_add() of (@vni, @mac) find room (its
 * entry, or a bucket not all static)?  Asked before a remote is made for
 * it: a remote made for a refused add would stay until the next delete.
 */
bool vtep_static_fits(struct vtep *t, uint32_t vni, uint64_t mac);

/* Control thread: forget (@vni, @mac), static or learned.  0 or -ENOENT. */
int vtep_del(struct vtep *t, uint32_t vni, uint64_t mac);

/* Control thread: the live entries, learned and static, counted (a walk of the table, as vtep_dump()). */
void vtep_count(const struct vtep *t, uint32_t now_s, unsigned *learned, unsigned *statics);

/* Control thread: up to @max live entries into @out; returns the count. */
unsigned vtep_dump(const struct vtep *t, struct vtep_entry *out, unsigned max, uint32_t now_s);

/*
 * Control thread: remote @remote (an index of remotes[]) joins @vni's
 * flood list (made when new).  0, -ENOSPC (VTEP_FLOOD_VNIS_MAX lists), -EINVAL.
 */
int vtep_flood_add(struct vtep *t, uint32_t vni, unsigned remote);

/* Control thread: would vtep_flood_add() to @vni find room (its list, or fewer than VTEP_FLOOD_VNIS_MAX)? */
bool vtep_flood_fits(struct vtep *t, uint32_t vni);

/* Control thread: remote @remote (every one, when negative) leaves @vni's flood list.  0 or -ENOENT. */
int vtep_flood_del(struct vtep *t, uint32_t vni, int remote);

/* @vni's flood list as a mask over remotes[], or 0: none (flood to the port's, remotes[0 .. n_flood)).  Lock-free. */
uint32_t vtep_flood_mask(const struct vtep *t, uint32_t vni);

/* The port's flood list, remotes[0 .. n_flood), as a mask over remotes[]. */
static inline uint32_t vtep_port_flood(const struct vtep *t)
{
	return t->n_flood >= 32 ? ~0u : (1u << t->n_flood) - 1;
}

/* Control thread: up to @max per-VNI flood lists into @out; returns the count. */
unsigned vtep_flood_dump(const struct vtep *t, struct vtep_flood *out, unsigned max);

#endif
