/* fdb.c - (VLAN, MAC) learning table with aging, keyed bucket hash, per-port limits and locked entries (see fdb.h). */
#include "switch/fdb.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#define KEY_MAC_MASK FDB_KEY_MAC_MASK
#define KEY_LOCKED FDB_KEY_LOCKED
#define KEY_PORT_SHIFT FDB_KEY_PORT_SHIFT

_Static_assert(FDB_PORTS <= FDB_KEY_PORT_MASK + 1, "a port fits in bits 49-60");
_Static_assert(FDB_GENS == 1 << (64 - FDB_KEY_GEN_SHIFT), "a generation fills bits 61-63");

#define HUGE_PAGE (2u << 20)	/* x86-64's and arm64's (4K granule) transparent huge page */

static inline unsigned key_port(uint64_t k)
{
	return (unsigned)(k >> KEY_PORT_SHIFT) & FDB_KEY_PORT_MASK;
}

static inline unsigned key_gen(uint64_t k)
{
	return (unsigned)(k >> FDB_KEY_GEN_SHIFT);
}

/* Is key @k (not empty) of a generation its port left (fdb_flush_port())?  Then it is no entry, but a free way. */
static inline bool key_stale(const struct fdb *f, uint64_t k)
{
	return key_gen(k) != fdb_port_gen(f, key_port(k));
}

static inline uint64_t key_mac(const struct fdb *f, uint64_t mv)
{
	return fdb_key_mac(f, mv);
}

/* The MAC of key @k whose seen word says VLAN @vid: key_mac() undone. */
static inline uint64_t key_mac_undo(const struct fdb *f, uint64_t k, uint32_t vid)
{
	return (k ^ ((uint64_t)vid * f->vlan_mul << 1) ^ (uint64_t)(vid != 0)) & KEY_MAC_MASK;
}

static inline uint64_t make_key(const struct fdb *f, uint64_t mac_vlan, unsigned port, unsigned gen)
{
	return fdb_make_key(f, mac_vlan, port, gen);
}

/* The VLAN ID of an fdb_mac_vlan() word, as the seen word holds it. */
static inline uint32_t mv_vlan(uint64_t mac_vlan)
{
	return (uint32_t)(mac_vlan >> 48) & (FDB_VLANS - 1);
}

/* A seen word: VLAN @vid, second @now. */
static inline uint32_t make_seen(uint32_t vid, uint32_t now)
{
	return vid << FDB_SEEN_SHIFT | (now & FDB_SEEN_SEC_MASK);
}

/* Seconds from seen word @seen to @now (modulo 2^20: see fdb.h). */
static inline uint32_t seen_age(uint32_t seen, uint32_t now)
{
	return (now - seen) & FDB_SEEN_SEC_MASK;
}

/*
 * The bucket's lock word, held by whoever changes a key of it: every
 * learner's install, move and eviction, fdb_lock_vlan(), aging and the
 * flush walk; and by fdb_dump() while it copies a bucket's entries out.  A
 * writer alone in its bucket writes a new entry's seen word, then its key
 * (a lookup reads the key, then the seen word: it finds the new key with
 * its own VLAN, or the old key beside the new seen word, another VLAN: a
 * miss, the frame floods; or an entry about to go, as without VLANs), so
 * a key never sits beside another learner's seen word.  Lookups and the
 * refresh of a known source's second (seen_refresh(): a CAS that keeps
 * the VLAN) take no lock.
 *
 * A worker only tries the lock (bucket_trylock()): when another thread
 * holds it (for a few stores, or longer if it was preempted there) the
 * frame is not learned (FDB_BUSY) and a later one is; no worker ever
 * waits for another.  The control thread waits (bucket_lock()).
 */
static inline bool bucket_trylock(struct fdb_bucket *b)
{
	uint32_t free_word = 0;

	return !atomic_load_explicit(&b->lock, memory_order_relaxed) &&
	       atomic_compare_exchange_strong_explicit(&b->lock, &free_word, 1, memory_order_acquire,
						       memory_order_relaxed);
}

static void bucket_lock(struct fdb_bucket *b)
{
	for (unsigned spins = 0; !bucket_trylock(b); spins++)
		if (spins >= 64)
			sched_yield(); /* the holder may be a preempted worker: let it run */
}

static inline void bucket_unlock(struct fdb_bucket *b)
{
	atomic_store_explicit(&b->lock, 0, memory_order_release);
}

/* Way @i of @b (its lock held) becomes @key with seen word @seen: the seen word first, then the key. */
static inline void way_write(struct fdb_bucket *b, int i, uint64_t key, uint32_t seen)
{
	atomic_store_explicit(&b->seen[i], seen, memory_order_relaxed);
	atomic_store_explicit(&b->key[i], key, memory_order_release);
}

/*
 * A known entry's second moves on once it is refresh_s old (fdb_learn_fresh()): a CAS from the seen word read
 * with its key, which holds that key's VLAN; a writer that changed the way since wrote another word (or, the
 * same word, the same VLAN: the refresh changes its second only).
 */
static inline void seen_refresh(const struct fdb *f, struct fdb_bucket *b, int i, uint32_t was, uint32_t seen)
{
	if (seen_age(was, seen) >= f->refresh_s)
		atomic_compare_exchange_strong_explicit(&b->seen[i], &was, seen, memory_order_relaxed,
							memory_order_relaxed);
}

/* Keys from getrandom(); should it fail (no entropy source at all), from the clock and addresses. */
static void draw_keys(uint64_t key[3])
{
	if (getrandom(key, 3 * sizeof(key[0]), 0) != 3 * (ssize_t)sizeof(key[0])) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)key;
		key[1] = fdb_fold_mul(key[0], 0xbf58476d1ce4e5b9ull ^ (uint64_t)ts.tv_sec);
		key[2] = fdb_fold_mul(key[1], 0x94d049bb133111ebull);
	}
	/* Odd multipliers: no input bit is shifted out of a product. */
	key[1] |= 1;
	key[2] |= 1;
}

/*
 * @bytes of zeroes, on huge page boundaries when it is worth a huge page:
 * the kernel backs an madvise(MADV_HUGEPAGE) range with huge pages only
 * where they fit whole, and a lookup over a big table would otherwise
 * miss the TLB about as often as the cache.  Every page is touched here,
 * at start: a page's first touch allocates and zeroes it (2 MiB of it
 * with huge pages, tens of microseconds), which must not happen inside a
 * worker's learn.  NULL when out of memory.
 */
static void *map_zeroed(size_t bytes)
{
	size_t extra = bytes >= HUGE_PAGE ? HUGE_PAGE : 0, head;
	char *p = mmap(NULL, bytes + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (extra) {
		head = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
		if (head)
			munmap(p, head);
		if (extra - head)
			munmap(p + head + bytes, extra - head);
		p += head;
		madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without THP (or with it off) small pages do */
	}
	for (size_t off = 0; off < bytes; off += 4096)
		((volatile char *)p)[off] = 0;
	return p;
}

int fdb_init(struct fdb *f, unsigned aging_s, unsigned size)
{
	unsigned n = 1;

	memset(f, 0, sizeof(*f));
	if (size < FDB_SIZE_MIN || size > FDB_SIZE_MAX || aging_s > FDB_AGING_MAX)
		return -EINVAL;
	/* 2.5 entries a MAC at least (fdb.h, sizing): a power of two of buckets >= size / 2. */
	while (n < (size + 1) / 2)
		n <<= 1;
	f->map_bytes = (size_t)n * sizeof(struct fdb_bucket);
	f->buckets = map_zeroed(f->map_bytes);
	if (!f->buckets)
		return -ENOMEM;
	f->n_buckets = n;
	f->bucket_shift = 64 - (unsigned)__builtin_ctz(n);
	f->aging_s = aging_s;
	f->refresh_s = aging_s / FDB_REFRESH_DIV ? aging_s / FDB_REFRESH_DIV : 1;
	f->age_laps = FDB_GEN_LAPS; /* gen_left[][] 0: every generation clear */
	draw_keys(f->hash_key);
	f->vlan_mul = fdb_fold_mul(f->hash_key[1], f->hash_key[2]) | 1; /* odd: 2 x VLAN x it differs for every VLAN */
	return 0;
}

void fdb_destroy(struct fdb *f)
{
	if (f->buckets)
		munmap(f->buckets, f->map_bytes);
	f->buckets = NULL;
	f->n_buckets = 0;
}

unsigned fdb_bucket_index(const struct fdb *f, const uint8_t mac[6])
{
	return (unsigned)(fdb_bucket_of(f, fdb_mac(mac)) - f->buckets);
}

static bool expired(const struct fdb *f, uint32_t seen, uint32_t now)
{
	return seen_age(seen, now) > f->aging_s;
}

/*
 * Reserve one learned entry for @port in its flush epoch now, which goes
 * in *@epoch (the new entry's key holds its generation, the epoch modulo
 * FDB_GENS); false when it owns its limit already.  Epoch and count are
 * one word: a reservation that races a flush counts in the epoch it read,
 * or fails and retries in the new one, so the counts of the current epoch
 * stay exact.  An install that a flush overtook after its reservation is
 * undone (install_check()).
 */
void (*fdb_reserved_hook)(struct fdb *f, unsigned port);

static bool port_reserve(struct fdb *f, unsigned port, uint32_t *epoch)
{
	uint32_t limit = f->port_limit[port];
	uint64_t w = atomic_load_explicit(&f->port_count[port], memory_order_relaxed);

	do {
		if (limit && (uint32_t)w >= limit)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&f->port_count[port], &w, w + 1, memory_order_relaxed,
						       memory_order_relaxed));
	*epoch = (uint32_t)(w >> 32);
	if (__builtin_expect(fdb_reserved_hook != NULL, 0))
		fdb_reserved_hook(f, port);
	return true;
}

/*
 * Way @i of @b (its lock held) got @port's entry reserved in flush epoch
 * @epoch.  If the port was flushed since the reservation, the entry was
 * learned before the flush: it goes.  Its generation is stale now, unless
 * the port was flushed FDB_GENS times meanwhile (a worker preempted
 * between reservation and install) and the generation came back: then it
 * would be live, and counted by no epoch.  The flush reset the count, so
 * nothing is released.
 */
static inline void install_check(struct fdb *f, struct fdb_bucket *b, int i, unsigned port, uint32_t epoch)
{
	atomic_thread_fence(memory_order_seq_cst); /* the key stored before the epoch is read */
	if ((uint32_t)(atomic_load_explicit(&f->port_count[port], memory_order_relaxed) >> 32) != epoch)
		atomic_store_explicit(&b->key[i], 0, memory_order_relaxed);
}

/* An entry of @port in generation @gen is gone: one less, unless a flush reset the count since. */
static void port_release(struct fdb *f, unsigned port, unsigned gen)
{
	uint64_t w = atomic_load_explicit(&f->port_count[port], memory_order_relaxed);

	do {
		if ((uint32_t)(w >> 32) % FDB_GENS != gen || !(uint32_t)w)
			return;
	} while (!atomic_compare_exchange_weak_explicit(&f->port_count[port], &w, w - 1, memory_order_relaxed,
						       memory_order_relaxed));
}

/* @old's entry gave way to another (or to none): its port owns one learned entry less. */
static void key_released(struct fdb *f, uint64_t old)
{
	if (old && !(old & KEY_LOCKED))
		port_release(f, key_port(old), key_gen(old));
}

/*
 * Way @i of @b (its lock held), which held @old (0: empty), becomes @mv's
 * learned entry behind @port with seen word @seen, within @port's limit
 * (false: over it, nothing changed); @old's port owns one entry less.
 */
static bool way_learn(struct fdb *f, struct fdb_bucket *b, int i, uint64_t old, uint64_t mv, unsigned port,
		      uint32_t seen)
{
	uint32_t epoch;

	if (!port_reserve(f, port, &epoch))
		return false;
	way_write(b, i, make_key(f, mv, port, epoch % FDB_GENS), seen);
	key_released(f, old);
	install_check(f, b, i, port, epoch);
	return true;
}

/*
 * The entry of @mv in @b (its lock held) is @k (another port's, live):
 * move it to @port, within its limit.  The same VLAN: only its second
 * changes besides the port.
 */
static enum fdb_learn_result learn_move(struct fdb *f, struct fdb_bucket *b, int i, uint64_t k, uint64_t mv,
					unsigned port, uint32_t seen)
{
	if (k & KEY_LOCKED)
		return key_port(k) == port ? FDB_KNOWN : FDB_REFUSED_LOCKED;
	return way_learn(f, b, i, k, mv, port, seen) ? FDB_MOVED : FDB_REFUSED_LIMIT;
}

/*
 * The ways of @b whose key holds @km (key_mac()'s bits: the MAC in its
 * VLAN; bit i: way i), and among them those whose key is @key; @k gets
 * the keys as read.  No branch on what the ways hold: with addresses
 * spread over a big table the matching way is anyone's guess, and a loop
 * leaving at the first match would pay a mispredicted branch a MAC.  The
 * caller checks the VLAN ID in the seen word of the way it takes.
 */
static inline unsigned ways_matching(const struct fdb_bucket *b, uint64_t km, uint64_t key, uint64_t k[FDB_WAYS],
				     unsigned *exact)
{
	unsigned same = 0, ex = 0;

	for (int i = 0; i < FDB_WAYS; i++) {
		k[i] = atomic_load_explicit(&b->key[i], memory_order_relaxed);
		same |= (unsigned)(((k[i] ^ km) & KEY_MAC_MASK) == 0) << i;
		ex |= (unsigned)(k[i] == key) << i;
	}
	*exact = ex;
	return same;
}

static inline uint32_t seen_after_key(const struct fdb_bucket *b, int i)
{
	return fdb_seen_after_key(b, i);
}

/*
 * The bucket is busy (another thread changes it): the frame is not
 * learned, but it must not pass if its (VLAN, MAC) @km, @vid is locked to
 * another port (locked entries never move, so the check needs no lock).
 */
static enum fdb_learn_result learn_busy(const struct fdb *f, const struct fdb_bucket *b, uint64_t km, uint32_t vid,
					unsigned port)
{
	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);

		if ((k & KEY_LOCKED) && (k & KEY_MAC_MASK) == km && !key_stale(f, k) &&
		    seen_after_key(b, i) >> FDB_SEEN_SHIFT == vid)
			return key_port(k) == port ? FDB_KNOWN : FDB_REFUSED_LOCKED;
	}
	return FDB_BUSY;
}

/* fdb_learn_in() past its known-source test, @b's lock held: @key is @mv's learned key behind @port now. */
static enum fdb_learn_result learn_locked(struct fdb *f, struct fdb_bucket *b, uint64_t mv, uint64_t key,
					  unsigned port, uint32_t now)
{
	uint64_t km = key_mac(f, mv), ks[FDB_WAYS];
	uint32_t vid = mv_vlan(mv), seen = make_seen(vid, now), oldest_age = 0;
	int free_way = -1, oldest = -1, slot;

	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = ks[i] = atomic_load_explicit(&b->key[i], memory_order_relaxed);
		uint32_t s = atomic_load_explicit(&b->seen[i], memory_order_relaxed);
		bool stale = k && key_stale(f, k);

		if (k && (k & KEY_MAC_MASK) == km && s >> FDB_SEEN_SHIFT == vid) {
			if (k == key) {
				seen_refresh(f, b, i, s, seen);
				return FDB_KNOWN;
			}
			if (!stale)
				return learn_move(f, b, i, k, mv, port, seen);
			free_way = i; /* flushed: learned anew in its way (no twin of it is left behind) */
			break;
		}
		if ((!k || stale) && free_way < 0)
			free_way = i;
		if (k && !stale && !(k & KEY_LOCKED) && (oldest < 0 || seen_age(s, now) > oldest_age)) {
			oldest_age = seen_age(s, now);
			oldest = i;
		}
	}
	/* An empty or flushed entry, else the oldest learned one gives way. */
	slot = free_way >= 0 ? free_way : oldest;
	if (slot < 0)
		return FDB_REFUSED_FULL;
	return way_learn(f, b, slot, ks[slot], mv, port, seen) ? FDB_ADDED : FDB_REFUSED_LIMIT;
}

enum fdb_learn_result fdb_learn_in(struct fdb *f, struct fdb_bucket *b, uint64_t mv, unsigned port, uint32_t now)
{
	uint64_t key = make_key(f, mv, port, fdb_port_gen(f, port)), km = key_mac(f, mv), m = mv & KEY_MAC_MASK;
	uint64_t ks[FDB_WAYS];
	uint32_t vid = mv_vlan(mv), seen = make_seen(vid, now);
	unsigned same, exact;
	enum fdb_learn_result r;

	if (!m)
		return FDB_KNOWN; /* 00:00:00:00:00:00 is no station's address (and would look like an empty entry) */

	/*
	 * Known here, the usual case: refresh, a store only when the second
	 * is refresh_s old.  Taken only when the first way holding the (VLAN,
	 * MAC) is this port's learned entry, as learn_locked() would find it.
	 */
	same = ways_matching(b, km, key, ks, &exact);
	if (same & -same & exact) {
		int i = __builtin_ctz(same);
		uint32_t s = seen_after_key(b, i);

		if (s >> FDB_SEEN_SHIFT == vid) {
			seen_refresh(f, b, i, s, seen);
			return FDB_KNOWN;
		}
	}
	if (!bucket_trylock(b))
		return learn_busy(f, b, km, vid, port);
	r = learn_locked(f, b, mv, key, port, now);
	bucket_unlock(b);
	return r;
}

enum fdb_learn_result fdb_learn(struct fdb *f, const uint8_t mac[6], unsigned port, uint32_t now)
{
	uint64_t m = fdb_mac(mac);

	return fdb_learn_in(f, fdb_bucket_of(f, m), m, port, now);
}

int fdb_lookup(struct fdb *f, const uint8_t mac[6], uint32_t now)
{
	uint64_t m = fdb_mac(mac);

	return fdb_lookup_in(f, fdb_bucket_of(f, m), m, now);
}

/*
 * Remove learned entries of key bits @km in VLAN @vid other than way @keep
 * (a twin of a locked entry, learned before the lock; @b's lock held).
 */
static void drop_learned_twins(struct fdb *f, struct fdb_bucket *b, uint64_t km, uint32_t vid, int keep)
{
	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);
		uint32_t s = atomic_load_explicit(&b->seen[i], memory_order_relaxed);

		if (i != keep && k && !(k & KEY_LOCKED) && (k & KEY_MAC_MASK) == km && s >> FDB_SEEN_SHIFT == vid) {
			atomic_store_explicit(&b->key[i], 0, memory_order_relaxed);
			key_released(f, k);
		}
	}
}

/* Has way @k, @seen of a bucket anything for aging to do: a flushed entry, a locked one, an expired one? */
static inline bool way_due(const struct fdb *f, uint64_t k, uint32_t seen, uint32_t now)
{
	return k && (key_stale(f, k) || (k & KEY_LOCKED) || expired(f, seen, now));
}

/* Age bucket @b, its lock held; returns the entries dropped. */
static unsigned age_bucket(struct fdb *f, struct fdb_bucket *b, uint32_t now)
{
	unsigned n = 0;

	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);
		uint32_t s = atomic_load_explicit(&b->seen[i], memory_order_relaxed);

		/*
		 * A flushed entry (its port's generation moved on) is
		 * reclaimed: no port counts it any more.  A locked entry is
		 * kept current (lookups do not test the bit), and a learned
		 * twin of it goes.
		 */
		if (k && key_stale(f, k)) {
			atomic_store_explicit(&b->key[i], 0, memory_order_relaxed);
		} else if (k & KEY_LOCKED) {
			atomic_store_explicit(&b->seen[i], make_seen(s >> FDB_SEEN_SHIFT, now), memory_order_relaxed);
			drop_learned_twins(f, b, k & KEY_MAC_MASK, s >> FDB_SEEN_SHIFT, i);
		} else if (k && expired(f, s, now)) {
			atomic_store_explicit(&b->key[i], 0, memory_order_relaxed);
			key_released(f, k);
			n++;
		}
	}
	return n;
}

/*
 * Age buckets @first to @first + @count - 1 (no wrap); returns the entries
 * dropped.  A bucket with nothing to do is only read; one with something
 * is locked and looked at again.
 */
static unsigned age_buckets(struct fdb *f, unsigned first, unsigned count, uint32_t now)
{
	unsigned n = 0;

	for (unsigned bi = first; bi < first + count; bi++) {
		struct fdb_bucket *b = &f->buckets[bi];
		bool due = false;

		for (int i = 0; i < FDB_WAYS && !due; i++)
			due = way_due(f, atomic_load_explicit(&b->key[i], memory_order_relaxed),
				      atomic_load_explicit(&b->seen[i], memory_order_relaxed), now);
		if (!due)
			continue;
		bucket_lock(b);
		n += age_bucket(f, b, now);
		bucket_unlock(b);
	}
	return n;
}

unsigned fdb_age(struct fdb *f, uint32_t now)
{
	unsigned n = age_buckets(f, 0, f->n_buckets, now);

	f->age_next = 0;
	f->age_laps++;
	return n;
}

unsigned fdb_age_tick(struct fdb *f, uint32_t now)
{
	uint32_t pass_s = f->aging_s / FDB_AGE_PASSES ? f->aging_s / FDB_AGE_PASSES : 1;
	uint64_t due = ((uint64_t)f->n_buckets * (now - f->age_last_s) + pass_s - 1) / pass_s;
	unsigned n = 0;

	/* A late tick (a busy control thread) catches up, up to one whole pass. */
	f->age_last_s = now;
	if (due > f->n_buckets)
		due = f->n_buckets;
	while (due) {
		unsigned count = f->n_buckets - f->age_next < due ? f->n_buckets - f->age_next : (unsigned)due;

		n += age_buckets(f, f->age_next, count, now);
		f->age_next = (f->age_next + count) & (f->n_buckets - 1);
		f->age_laps += !f->age_next; /* a pass complete: flushed generations may come back (fdb_flush_port()) */
		due -= count;
	}
	return n;
}

/* Is key @k an entry @port left behind in a generation other than its live one, @live? */
static inline bool left_behind(uint64_t k, unsigned port, unsigned live)
{
	return k && key_port(k) == port && key_gen(k) != live;
}

/*
 * A flush moves the port's generation on; its old entries stay in their
 * buckets, absent to everyone, until aging reclaims them (age_buckets()
 * drops them in the next pass) or a learner takes their way.  A
 * generation may come back once FDB_GEN_LAPS passes completed after the
 * port left it: by then each bucket was aged at least once after the
 * flush, so none of its entries is left to come back to life (an install
 * reserved before the flush and landing after it removes itself:
 * install_check()).  When the next generation is not clear yet (more than
 * FDB_GENS - 1 flushes of the port in that time), the flush walks the
 * table and drops the port's entries of every other generation, as every
 * flush did before there were generations.
 */
void fdb_flush_port(struct fdb *f, unsigned port)
{
	unsigned old = fdb_port_gen(f, port), gen = (old + 1) % FDB_GENS;
	uint32_t epoch;

	if (f->gen_left[port][gen] && f->age_laps < f->gen_left[port][gen] + FDB_GEN_LAPS) {
		/* Before the new generation is published: entries the port left behind in any but the live one go. */
		f->flush_walks++;
		for (unsigned bi = 0; bi < f->n_buckets; bi++) {
			struct fdb_bucket *b = &f->buckets[bi];
			bool due = false;

			/* As age_buckets(): a bucket with none of them is only read; one with some is locked and looked at again. */
			for (int i = 0; i < FDB_WAYS && !due; i++)
				due = left_behind(atomic_load_explicit(&b->key[i], memory_order_relaxed), port, old);
			if (!due)
				continue;
			bucket_lock(b);
			for (int i = 0; i < FDB_WAYS; i++)
				if (left_behind(atomic_load_explicit(&b->key[i], memory_order_relaxed), port, old))
					atomic_store_explicit(&b->key[i], 0, memory_order_relaxed); /* flushed: counted nowhere */
			bucket_unlock(b);
		}
		for (unsigned g = 0; g < FDB_GENS; g++)
			f->gen_left[port][g] = 0;
	}
	f->gen_left[port][old] = f->age_laps;
	/* Epoch and count reset in one store: a learner reserves in the old one or in the new (port_reserve()). */
	epoch = (uint32_t)(atomic_load_explicit(&f->port_count[port], memory_order_relaxed) >> 32) + 1;
	atomic_store_explicit(&f->port_count[port], (uint64_t)epoch << 32, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst); /* pairs with install_check()'s: its key or our epoch is seen */
	atomic_store_explicit(&f->port_gen[port], (uint8_t)gen, memory_order_release);
}

unsigned fdb_dump(struct fdb *f, struct fdb_entry *out, unsigned max, uint32_t now, unsigned *live)
{
	unsigned n = 0, all = 0;

	for (unsigned bi = 0; bi < f->n_buckets && (n < max || live); bi++) {
		struct fdb_bucket *b = &f->buckets[bi];
		bool held = false;

		/*
		 * Entries copied out are read under the bucket's lock, which every
		 * writer of a key holds: a way replaced between the reads of its
		 * key and of its seen word gave the old key the new entry's VLAN,
		 * and the MAC decoded with it was one nobody sent.  An empty
		 * bucket is only read, and so is one only counted (past @max, or
		 * @max 0): a torn pair there changes the count by an expiry at
		 * most.  A learner that finds the bucket locked skips that learn
		 * (FDB_BUSY, counted as learn_busy; a later frame learns); the
		 * refresh of a second needs no lock.
		 */
		for (int i = 0; i < FDB_WAYS && n < max && !held; i++)
			held = atomic_load_explicit(&b->key[i], memory_order_relaxed) != 0;
		if (held)
			bucket_lock(b);
		for (int i = 0; i < FDB_WAYS; i++) {
			uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed), mac;
			uint32_t s = atomic_load_explicit(&b->seen[i], memory_order_relaxed);
			bool locked = k & KEY_LOCKED;

			if (!k || (!locked && expired(f, s, now)) || key_stale(f, k))
				continue;
			all++;
			if (n == max)
				continue;
			mac = key_mac_undo(f, k, s >> FDB_SEEN_SHIFT);
			memcpy(out[n].mac, &mac, 6);
			out[n].vlan = (uint16_t)(s >> FDB_SEEN_SHIFT);
			out[n].locked = locked;
			out[n].port = key_port(k);
			out[n].age_s = locked ? 0 : seen_age(s, now);
			n++;
		}
		if (held)
			bucket_unlock(b);
	}
	if (live)
		*live = all;
	return n;
}

void fdb_set_limit(struct fdb *f, unsigned port, unsigned max)
{
	f->port_limit[port] = max;
}

unsigned fdb_port_entries(struct fdb *f, unsigned port)
{
	return (uint32_t)atomic_load_explicit(&f->port_count[port], memory_order_relaxed);
}

int fdb_lock(struct fdb *f, const uint8_t mac[6], unsigned port, uint32_t now, unsigned *owner)
{
	return fdb_lock_vlan(f, mac, 0, port, now, owner);
}

int fdb_lock_vlan(struct fdb *f, const uint8_t mac[6], unsigned vid, unsigned port, uint32_t now, unsigned *owner)
{
	uint64_t mv = fdb_mac_vlan(fdb_mac(mac), vid), km = key_mac(f, mv);
	uint64_t key = make_key(f, mv, port, fdb_port_gen(f, port)) | KEY_LOCKED;
	struct fdb_bucket *b = fdb_bucket_of(f, mv);
	uint32_t seen = make_seen(mv_vlan(mv), now);
	int same = -1, empty = -1, oldest = -1, slot, rc = 0;
	uint32_t oldest_age = 0;
	uint64_t old;

	/* Workers may be learning into this bucket meanwhile: they leave it alone while it is locked. */
	bucket_lock(b);
	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);
		uint32_t s = atomic_load_explicit(&b->seen[i], memory_order_relaxed);
		bool stale = k && key_stale(f, k); /* flushed: a free way */

		if (k && (k & KEY_MAC_MASK) == km && s >> FDB_SEEN_SHIFT == mv_vlan(mv)) {
			if ((k & KEY_LOCKED) && !stale) {
				*owner = key_port(k);
				rc = key_port(k) == port ? 0 : -EEXIST;
				goto out;
			}
			if (same < 0)
				same = i; /* learned somewhere (or flushed): becomes the locked entry */
		} else if (!k || stale) {
			if (empty < 0)
				empty = i;
		} else if (!(k & KEY_LOCKED) && (oldest < 0 || seen_age(s, now) > oldest_age)) {
			oldest_age = seen_age(s, now);
			oldest = i;
		}
	}
	slot = same >= 0 ? same : empty >= 0 ? empty : oldest;
	if (slot < 0) {
		rc = -ENOSPC;
		goto out;
	}
	old = atomic_load_explicit(&b->key[slot], memory_order_relaxed);
	way_write(b, slot, key, seen);
	key_released(f, old);
	drop_learned_twins(f, b, km, mv_vlan(mv), slot);
out:
	bucket_unlock(b);
	return rc;
}
