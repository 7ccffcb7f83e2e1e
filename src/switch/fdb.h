/* fdb.h - the MAC learning table: (VLAN, MAC address) -> port, with aging; lock-free for the workers. */
#ifndef VSW_SWITCH_FDB_H
#define VSW_SWITCH_FDB_H

/*
 * A power-of-two array of buckets, one cache line each, allocated once
 * by fdb_init() (mmap, transparent huge pages asked for when large) and
 * never after; the data path allocates nothing and walks nothing:
 *
 *   buckets[fdb_bucket_index(mac)] (VLAN 0; any VLAN: fdb_bucket_of()), 64 bytes:
 *   +-------+-------+-------+-------+-------+------+------+------+------+------+------+
 *   | key 0 | key 1 | key 2 | key 3 | key 4 |seen 0|seen 1|seen 2|seen 3|seen 4| lock |
 *   +-------+-------+-------+-------+-------+------+------+------+------+------+------+
 *     8 bytes each (below)                    last-seen second, 4 bytes each   writers' (below)
 *
 * Sizing: fdb_init() takes the MACs the table is for (vswd's "fdb_size")
 * and gives it at least 2.5 entries per MAC, rounded up to a power of two
 * of buckets: at that load (<= 0.4) a table holding its size of random
 * MACs finds at most about 1 % of them in a full bucket (Poisson), against
 * 18 % with one entry per MAC.  32 to 64 bytes a MAC; 1M MACs: 2^19
 * buckets, 32 MiB, all resident from the start (no worker takes the page
 * fault of a page's first touch).
 *
 * Each entry is one 64-bit word so a lookup never sees a MAC with half of
 * another's port, plus a word with its VLAN and last-seen second:
 *
 *   key   63 .. 61  60 ...... 49   48    47 ......................... 0
 *          generation    port     locked  MAC ^ mask(VLAN)   (0 = empty entry)
 *   seen  31 ...... 20   19 .............. 0
 *           VLAN ID        second, modulo 2^20 (12 days; aging is at most 1 day)
 *
 * The table is keyed by (VLAN, MAC), as 802.1Q's filtering database with
 * independent learning: the same MAC in two VLANs is two entries, and a
 * lookup in one VLAN never finds the other's.  The VLAN goes into the
 * hash (fdb_mac_vlan(): the ID above the MAC's 48 bits), into the key (the
 * MAC xor a mask of the VLAN: 0 for VLAN 0, else distinct per VLAN with
 * the group bit set, so no unicast MAC gives an empty key), and into the
 * seen word.  A lookup compares keys as it did before there were VLANs,
 * then checks the VLAN ID in the seen word it reads anyway for the age:
 * exact, and the entry stays 12 bytes and a bucket one line.  A learner
 * writes a new entry's seen word before its key, and a lookup reads them
 * the other way round (fdb.c, way_write()).
 *
 * Workers look up with relaxed loads, lock-free.  Whoever changes a key
 * (a worker learning a new source, a move or an eviction; the control
 * thread's aging, locking and flush walks) holds its bucket's lock word,
 * in the line's spare four bytes, for those few stores: writers of one
 * bucket never interleave, so a key always lands beside its own seen
 * word.  A worker only tries the lock: a busy bucket leaves that frame's
 * source unlearned (FDB_BUSY; a later frame learns it) and no worker
 * ever waits for another, even a preempted one.  Learning a source the table holds
 * behind the same port, seen less than refresh_s (aging / 8) ago, is
 * loads and compares only (fdb_learn_fresh()): no store into a line that
 * other workers read, which is what learning costs at scale.  A full bucket gives up its
 * oldest learned entry.  A batch hashes its MACs and prefetches their
 * buckets first (fdb_bucket_of(), then fdb_learn_in() and fdb_lookup_in()
 * on them), so its cache misses overlap.
 *
 * Flushing a port (link down, port deleted) is O(1): each port has a
 * generation (0..FDB_GENS-1), each key the one its port had when it was
 * learned or locked; fdb_flush_port() moves the port's on, and an entry
 * of another generation is no entry for lookups, learning, fdb_dump() or
 * the counts (a free way), until aging or a learner reclaims it.
 *
 * Aging: a lookup ignores an entry older than the aging time by itself;
 * removing it (and freeing its port's count) is the control thread's, a
 * slice of buckets each second (fdb_age_tick()), FDB_AGE_PASSES passes
 * over the table per aging period: no step walks the whole table of a big
 * FDB, and an expired entry is gone at most aging / FDB_AGE_PASSES (+1 s)
 * after it expired.
 *
 * Hostile sources: the bucket of a MAC comes from a keyed hash whose keys
 * are drawn at startup (getrandom), so nobody outside can craft MACs that
 * share a victim's bucket and push it out.  Each port may own at most its
 * limit of learned entries (counted exactly: every change of an entry's
 * port is made under its bucket's lock, and the counts follow it).  A locked entry
 * (a port's configured MAC) never ages (aging keeps its second current,
 * so lookups need not test the bit), is never evicted and never
 * moves: a frame from another port with that source, in that VLAN, is
 * refused.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FDB_WAYS 5			/* entries per bucket: 5 keys and their seconds fill a cache line */
#define FDB_PORTS 4096		/* port numbers 0..4095 (PORT_MAX): an entry's 12-bit port field */
#define FDB_DEFAULT_AGING_S 300
#define FDB_SIZE_MIN 64
#define FDB_SIZE_MAX (1u << 24)	/* 512 MiB of buckets */
#define FDB_DEFAULT_SIZE (1u << 18) /* MACs: a host's ports and an uplink's segment; 8 MiB */
#define FDB_AGE_PASSES 4	/* passes of fdb_age_tick() over the table per aging period */
#define FDB_VLANS 4096		/* 802.1Q VLAN IDs 0..4095 */
#define FDB_SEEN_SHIFT 20	/* seen word: VLAN ID above, second (modulo 2^20) below */
#define FDB_SEEN_SEC_MASK ((1u << FDB_SEEN_SHIFT) - 1)
#define FDB_AGING_MAX (FDB_SEEN_SEC_MASK / 2)	/* ages compare modulo 2^20 */
#define FDB_KEY_MAC_MASK 0xffffffffffffull
#define FDB_KEY_LOCKED (1ull << 48)
#define FDB_KEY_PORT_SHIFT 49
#define FDB_KEY_PORT_MASK 0xfffu
#define FDB_KEY_GEN_SHIFT 61
#define FDB_GENS 8		/* a port's generations an entry tells apart (3 key bits): fdb_flush_port() */
/* Complete aging passes after a flush before its port's old generation may be used again (fdb.c, fdb_flush_port()). */
#define FDB_GEN_LAPS 3
/* A known source is written again once its second is aging / FDB_REFRESH_DIV old (at least 1 s): fdb_learn_fresh(). */
#define FDB_REFRESH_DIV 8

struct fdb_bucket {
	_Atomic uint64_t key[FDB_WAYS];
	_Atomic uint32_t seen[FDB_WAYS];
	_Atomic uint32_t lock;		/* 1 while a writer changes the bucket (fdb.c, bucket_trylock()) */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct fdb_bucket) == 64, "a bucket is one cache line");

struct fdb {
	/* What workers read for every MAC, one line. */
	struct fdb_bucket *buckets;		/* n_buckets of them, mmap'ed by fdb_init() */
	unsigned bucket_shift;			/* 64 - log2(n_buckets): the hash's top bits index */
	unsigned aging_s;
	unsigned refresh_s;			/* a known source's second is rewritten once it is this old (fdb_learn_fresh()) */
	uint64_t hash_key[3];			/* random, drawn by fdb_init() */
	uint64_t vlan_mul;			/* odd: a key's VLAN mask is 2 x VLAN x it (fdb.c key_mac()) */
	unsigned n_buckets;
	size_t map_bytes;
	/* The control thread's aging cursor (fdb_age_tick()). */
	unsigned age_next;			/* the next bucket to age */
	uint32_t age_last_s;			/* the second of the last tick */
	uint32_t age_laps;			/* complete aging passes so far (from FDB_GEN_LAPS) */
	unsigned flush_walks;			/* flushes that walked the table (generations all in use) */
	uint32_t port_limit[FDB_PORTS];		/* learned entries a port may own; 0 = no limit */
	/* Each port's generation: an entry whose key holds another is flushed (absent; reclaimed lazily). */
	_Atomic uint8_t port_gen[FDB_PORTS];
	/* Flush epoch (high 32 bits; its generation: modulo FDB_GENS) and learned (not locked) entries of that epoch the port owns (low 32). */
	_Atomic uint64_t port_count[FDB_PORTS];
	uint32_t gen_left[FDB_PORTS][FDB_GENS];	/* age_laps when the port left each generation (0: never used) */
};

struct fdb_entry {
	uint8_t mac[6];
	uint16_t vlan;
	bool locked;
	unsigned port;
	uint32_t age_s;
};

/* What fdb_learn() did. */
enum fdb_learn_result {
	FDB_KNOWN,		/* already there, on this port (refreshed) */
	FDB_ADDED,		/* new entry */
	FDB_MOVED,		/* was on another port, now on this one */
	FDB_REFUSED_LIMIT,	/* the port owns its limit of entries already: not learned */
	FDB_REFUSED_LOCKED,	/* locked to another port: not learned, and the frame must not pass */
	FDB_REFUSED_FULL,	/* every entry of the bucket is locked */
	FDB_BUSY,		/* another thread was changing the bucket: not learned (a later frame is) */
};

/* A MAC address as the 48 low bits of a word, the form keys take. */
static inline uint64_t fdb_mac(const uint8_t mac[6])
{
	uint32_t lo;
	uint16_t hi;

	/* Two loads combined in registers: a 6-byte memcpy into a zeroed word would stall on store forwarding. */
	memcpy(&lo, mac, 4);
	memcpy(&hi, mac + 4, 2);
	return lo | (uint64_t)hi << 32;
}

/* (VLAN @vid, MAC @mac in fdb_mac() form) as one word: the form the bucket hash, learn and lookup take. */
static inline uint64_t fdb_mac_vlan(uint64_t mac, unsigned vid)
{
	return mac | (uint64_t)(vid & (FDB_VLANS - 1)) << 48;
}

/* The high and low halves of a 64 x 64 -> 128-bit product, folded: every input bit reaches every output bit. */
static inline uint64_t fdb_fold_mul(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * The bucket of a (VLAN, MAC) (fdb_mac_vlan() form; VLAN 0: fdb_mac()'s): a folded multiplication with a
 * random key, an xor-shift, another with a second key, the top bits (the
 * mixing step of wyhash, keyed, twice; the Linux bridge salts jhash and
 * OVS seeds its MAC hash the same way).  Its output never leaves the
 * process, so an attacker would have to infer collisions from evictions
 * to aim MACs at a bucket, and the keys change with every start.
 *
 * One round is not enough: the product of a 48-bit MAC and a key has a
 * high half that hardly varies, so the index came from the low half
 * alone, a multiplicative hash whose runs of MACs (52:54:00:..:01, :02,
 * ...) fall in few buckets for some keys: up to half of 1M sequential
 * MACs lost to full buckets, against 1 % for random ones
 * (test_fdb_hash_spreads_sequential_macs).  The second round costs a
 * few cycles of latency, which a batch overlaps.
 */
static inline struct fdb_bucket *fdb_bucket_of(const struct fdb *f, uint64_t mac)
{
	uint64_t h = fdb_fold_mul(mac ^ f->hash_key[0], f->hash_key[1]);

	h ^= h >> 29;
	return &f->buckets[fdb_fold_mul(h, f->hash_key[2]) >> f->bucket_shift];
}

/*
 * The 48 bits a key holds for (VLAN, MAC) @mv: the MAC xor the VLAN's
 * mask, 0 for VLAN 0 and otherwise (2 x VLAN x an odd random) with bit 0
 * set (above).  Distinct VLANs have distinct masks, so with the VLAN ID
 * of the seen word the pair is exact; and a unicast MAC never gives 0, the
 * empty entry's bits (VLAN 0: the MAC; any other: bit 0 set).
 */
static inline uint64_t fdb_key_mac(const struct fdb *f, uint64_t mv)
{
	uint64_t vid = mv >> 48;

	return (mv ^ (vid * f->vlan_mul << 1) ^ (uint64_t)(vid != 0)) & FDB_KEY_MAC_MASK;
}

/* @port's generation now (fdb_flush_port() moves it on). */
static inline unsigned fdb_port_gen(const struct fdb *f, unsigned port)
{
	return atomic_load_explicit(&f->port_gen[port], memory_order_relaxed);
}

/* The learned entry's key for (VLAN, MAC) @mv behind @port in its generation @gen (fdb_port_gen()). */
static inline uint64_t fdb_make_key(const struct fdb *f, uint64_t mv, unsigned port, unsigned gen)
{
	return fdb_key_mac(f, mv) | (uint64_t)port << FDB_KEY_PORT_SHIFT | (uint64_t)gen << FDB_KEY_GEN_SHIFT;
}

/*
 * The first way of @b whose key holds key bits @km, its key in *@k; -1
 * when none.  No branch on what the ways hold: with addresses spread over
 * a big table the matching way is anyone's guess, and a loop leaving at
 * the first match would pay a mispredicted branch a MAC.  The five
 * compares are independent, gathered into a mask; a chain of conditional
 * moves picking the way and its key instead made the spread case of
 * bench_fdb 50 % slower (a dependency through every way).
 */
static inline int fdb_way_of(const struct fdb_bucket *b, uint64_t km, uint64_t *k)
{
	unsigned same = 0;
	int i;

#pragma GCC unroll 8
	for (int w = 0; w < FDB_WAYS; w++)
		same |= (unsigned)(((atomic_load_explicit(&b->key[w], memory_order_relaxed) ^ km) & FDB_KEY_MAC_MASK) == 0)
			<< w;
	if (!same)
		return -1;
	i = __builtin_ctz(same);
	/* Loaded again: should the way have changed meanwhile (a move, an eviction), it is a miss. */
	*k = atomic_load_explicit(&b->key[i], memory_order_relaxed);
	return ((*k ^ km) & FDB_KEY_MAC_MASK) == 0 ? i : -1;
}

/* Way @i's seen word, read after its key was (a writer stores them the other way round: fdb.c, way_write()). */
static inline uint32_t fdb_seen_after_key(const struct fdb_bucket *b, int i)
{
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&b->seen[i], memory_order_relaxed);
}

/*
 * Is (VLAN @vid, key @key: fdb_make_key()) the first entry of its
 * (VLAN, MAC) in @b, seen less than refresh_s ago?  Then learning it again
 * writes nothing, and the data path's learn of a known source is these
 * loads and compares: no store into a line other workers read.  A station
 * that keeps sending is written again every refresh_s seconds
 * (aging / FDB_REFRESH_DIV), so its entry never ages; one that went silent
 * ages out between aging - refresh_s and aging seconds after its last
 * frame.  A move to another port, a new or an aged entry is never fresh:
 * fdb_learn_in() learns it at once.
 */
static inline bool fdb_learn_fresh(const struct fdb *f, const struct fdb_bucket *b, uint64_t key, uint32_t vid,
				   uint32_t now)
{
	uint64_t k;
	int i = fdb_way_of(b, key, &k);
	uint32_t s;

	if (i < 0 || k != key)
		return false;
	s = fdb_seen_after_key(b, i);
	return s >> FDB_SEEN_SHIFT == vid && ((now - s) & FDB_SEEN_SEC_MASK) < f->refresh_s;
}

/*
 * The port behind (VLAN, MAC) @mv (fdb_mac_vlan() form) in its bucket @b
 * (fdb_bucket_of(), computed and prefetched by a batch), or -1 when
 * unknown or aged out.
 */
static inline int fdb_lookup_in(const struct fdb *f, const struct fdb_bucket *b, uint64_t mv, uint32_t now)
{
	uint64_t k;
	int i = fdb_way_of(b, fdb_key_mac(f, mv), &k);
	uint32_t s;

	unsigned port;

	/*
	 * An empty entry matches only key bits 0, which no unicast MAC gives
	 * in any VLAN but 00:00:00:00:00:00 in VLAN 0 (fdb_key_mac()): one test
	 * of the key taken, not of each way.  No test of the locked bit: aging
	 * keeps locked entries' last-seen second current.
	 */
	if (i < 0 || !k)
		return -1;
	s = fdb_seen_after_key(b, i);
	port = (unsigned)(k >> FDB_KEY_PORT_SHIFT) & FDB_KEY_PORT_MASK;
	/* Another VLAN's key with the same bits would need its MAC to differ by exactly the masks' xor: checked all the same. */
	if (s >> FDB_SEEN_SHIFT != ((mv >> 48) & (FDB_VLANS - 1)) || ((now - s) & FDB_SEEN_SEC_MASK) > f->aging_s ||
	    k >> FDB_KEY_GEN_SHIFT != fdb_port_gen(f, port))
		return -1; /* another VLAN's, aged, or flushed */
	return (int)port;
}

/*
 * An empty table for @size MACs (FDB_SIZE_MIN..FDB_SIZE_MAX; see the
 * sizing above), with fresh random hash keys.  0, -EINVAL or -ENOMEM.
 */
int fdb_init(struct fdb *f, unsigned aging_s, unsigned size);
/* Unmap the buckets (no worker may use the table any more). */
void fdb_destroy(struct fdb *f);
/* The bucket @mac falls in, in VLAN 0 (tests, benchmarks). */
unsigned fdb_bucket_index(const struct fdb *f, const uint8_t mac[6]);
/* Remember that @mac was seen behind @port at second @now, in VLAN 0. */
enum fdb_learn_result fdb_learn(struct fdb *f, const uint8_t mac[6], unsigned port, uint32_t now);
/* The port behind @mac in VLAN 0, or -1 when unknown or aged out. */
int fdb_lookup(struct fdb *f, const uint8_t mac[6], uint32_t now);
/*
 * The same for a (VLAN, MAC) in fdb_mac_vlan() form whose bucket @b
 * (fdb_bucket_of()) a batch computed and prefetched.  A batch tries
 * fdb_learn_fresh() first and comes here when it says no.
 */
enum fdb_learn_result fdb_learn_in(struct fdb *f, struct fdb_bucket *b, uint64_t mac_vlan, unsigned port,
				   uint32_t now);
/*
 * Tests only: called by a learner right after it reserved an entry for
 * @port and before it installs it (a worker preempted there), so a test can
 * flush the port in between.  NULL otherwise.
 */
extern void (*fdb_reserved_hook)(struct fdb *f, unsigned port);
/* Drop learned entries older than the aging time, the whole table at once (tests); returns how many. */
unsigned fdb_age(struct fdb *f, uint32_t now);
/*
 * Control thread, once a second: age the buckets due since the last tick
 * (a pass over the table every aging / FDB_AGE_PASSES seconds, at least
 * one a second); returns the entries dropped.
 */
unsigned fdb_age_tick(struct fdb *f, uint32_t now);
/*
 * Drop every entry of @port, locked ones too (port deleted or
 * reconnected), in O(1): the port's generation moves on, which makes
 * them absent to lookups, learning, fdb_dump() and the counts at once;
 * aging reclaims them.  Should every generation still have entries (more
 * than FDB_GENS - 1 flushes of the port within FDB_GEN_LAPS aging
 * passes), it walks the table instead (milliseconds at 1M MACs).
 */
void fdb_flush_port(struct fdb *f, unsigned port);
/*
 * Copy up to @max live entries into @out; returns the count copied.  With
 * @live, the table's live entries all told (the walk goes on past @max).
 * Control thread: each non-empty bucket whose entries are copied out is
 * read under its lock, so an entry is never a key paired with another
 * entry's seen word (buckets only counted are read without it).
 */
unsigned fdb_dump(struct fdb *f, struct fdb_entry *out, unsigned max, uint32_t now, unsigned *live);

/* Control thread: at most @max learned entries for @port (0 = no limit). */
void fdb_set_limit(struct fdb *f, unsigned port, unsigned max);
/* Learned entries @port owns now. */
unsigned fdb_port_entries(struct fdb *f, unsigned port);
/*
 * Control thread: lock @mac to @port (it replaces a learned entry for it).
 * 0; -EEXIST when locked to another port (that port in *@owner); -ENOSPC
 * when every entry of its bucket is locked.
 */
int fdb_lock(struct fdb *f, const uint8_t mac[6], unsigned port, uint32_t now, unsigned *owner);
/* The same in VLAN @vid (locks are per (VLAN, MAC), as entries are). */
int fdb_lock_vlan(struct fdb *f, const uint8_t mac[6], unsigned vid, unsigned port, uint32_t now, unsigned *owner);

#endif
