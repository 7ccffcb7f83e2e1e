/* fdb.c - MAC learning table with aging, keyed bucket hash, per-port limits and locked entries (see fdb.h). */
#include "switch/fdb.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define KEY_MAC_MASK 0xffffffffffffull
#define KEY_LOCKED (1ull << 48)
#define KEY_PORT_SHIFT 49

_Static_assert(FDB_BUCKETS == 1 << 12, "bucket_index() takes 12 bits");
_Static_assert(FDB_PORTS < 1 << (64 - KEY_PORT_SHIFT), "port + 1 fits in bits 49-63");

/* The high and low halves of a 64 x 64 -> 128-bit product, folded: every input bit reaches every output bit. */
static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * The bucket of a MAC: one folded multiplication with two random 64-bit
 * keys (the mixing step of wyhash, keyed; the Linux bridge salts jhash and
 * OVS seeds its MAC hash the same way).  Its output never leaves the
 * process, so an attacker would have to infer collisions from evictions
 * to aim MACs at a bucket, and the keys change with every start.  Cost
 * measured by test_fdb_lookup_cost: about half a cycle per lookup more
 * than the fixed Fibonacci multiplier it replaces, with which anyone could
 * compute 8 MACs that evict a victim; a second round would cost 2.5 more.
 */
static inline unsigned bucket_index(const struct fdb *f, uint64_t mac)
{
	return (unsigned)(fold_mul(mac ^ f->hash_key[0], f->hash_key[1]) >> (64 - 12));
}

static struct fdb_bucket *bucket_of(struct fdb *f, uint64_t mac)
{
	return &f->buckets[bucket_index(f, mac)];
}

static inline unsigned key_port(uint64_t k)
{
	return (unsigned)(k >> KEY_PORT_SHIFT) - 1;
}

static inline uint64_t make_key(uint64_t mac, unsigned port)
{
	return mac | (uint64_t)(port + 1) << KEY_PORT_SHIFT;
}

/* Keys from getrandom(); should it fail (no entropy source at all), from the clock and addresses. */
static void draw_keys(uint64_t key[2])
{
	if (getrandom(key, 2 * sizeof(key[0]), 0) != 2 * (ssize_t)sizeof(key[0])) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)key;
		key[1] = fold_mul(key[0], 0xbf58476d1ce4e5b9ull ^ (uint64_t)ts.tv_sec);
	}
	key[1] |= 1; /* an odd multiplier: no input bit is shifted out of the product */
}

void fdb_init(struct fdb *f, unsigned aging_s)
{
	memset(f, 0, sizeof(*f));
	f->aging_s = aging_s;
	draw_keys(f->hash_key);
}

unsigned fdb_bucket_index(const struct fdb *f, const uint8_t mac[6])
{
	return bucket_index(f, fdb_mac(mac));
}

static bool expired(const struct fdb *f, uint32_t seen, uint32_t now)
{
	return now - seen > f->aging_s;
}

/* Reserve one learned entry for @port; false when it owns its limit already. */
static bool port_reserve(struct fdb *f, unsigned port)
{
	uint32_t limit = f->port_limit[port];

	if (atomic_fetch_add_explicit(&f->port_entries[port], 1, memory_order_relaxed) < limit || !limit)
		return true;
	atomic_fetch_sub_explicit(&f->port_entries[port], 1, memory_order_relaxed);
	return false;
}

static void port_release(struct fdb *f, unsigned port)
{
	atomic_fetch_sub_explicit(&f->port_entries[port], 1, memory_order_relaxed);
}

/* @old's entry gave way to another (or to none): its port owns one learned entry less. */
static void key_released(struct fdb *f, uint64_t old)
{
	if (old && !(old & KEY_LOCKED))
		port_release(f, key_port(old));
}

/* The entry of @mac in @b is @k (another port's): move it to @key, within @port's limit. */
static enum fdb_learn_result learn_move(struct fdb *f, struct fdb_bucket *b, int i, uint64_t k, uint64_t key,
					unsigned port, uint32_t now)
{
	if (k & KEY_LOCKED)
		return key_port(k) == port ? FDB_KNOWN : FDB_REFUSED_LOCKED;
	if (!port_reserve(f, port))
		return FDB_REFUSED_LIMIT;
	if (!atomic_compare_exchange_strong(&b->key[i], &k, key)) {
		port_release(f, port); /* another worker changed it first: leave it to them */
		return FDB_KNOWN;
	}
	key_released(f, k);
	atomic_store_explicit(&b->seen[i], now, memory_order_relaxed);
	return FDB_MOVED;
}

enum fdb_learn_result fdb_learn(struct fdb *f, const uint8_t mac[6], unsigned port, uint32_t now)
{
	uint64_t m = fdb_mac(mac), key = make_key(m, port), victim;
	struct fdb_bucket *b = bucket_of(f, m);
	int empty = -1, oldest = -1, slot;
	uint32_t oldest_seen = UINT32_MAX;

	if (!m)
		return FDB_KNOWN; /* 00:00:00:00:00:00 is no station's address (and would look like an empty entry) */

	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);
		uint32_t s = atomic_load_explicit(&b->seen[i], memory_order_relaxed);

		if (k == key) {
			/* Known here: refresh, a store only when the second changed. */
			if (s != now)
				atomic_store_explicit(&b->seen[i], now, memory_order_relaxed);
			return FDB_KNOWN;
		}
		if (k && (k & KEY_MAC_MASK) == m)
			return learn_move(f, b, i, k, key, port, now);
		if (!k && empty < 0)
			empty = i;
		if (k && !(k & KEY_LOCKED) && s < oldest_seen) {
			oldest_seen = s;
			oldest = i;
		}
	}
	/* An empty entry, else the oldest learned one gives way. */
	slot = empty >= 0 ? empty : oldest;
	if (slot < 0)
		return FDB_REFUSED_FULL;
	if (!port_reserve(f, port))
		return FDB_REFUSED_LIMIT;
	victim = empty >= 0 ? 0 : atomic_load_explicit(&b->key[slot], memory_order_relaxed);
	if ((victim & KEY_LOCKED) || !atomic_compare_exchange_strong(&b->key[slot], &victim, key)) {
		port_release(f, port); /* lost a race for the entry: a later frame learns */
		return FDB_KNOWN;
	}
	key_released(f, victim);
	atomic_store_explicit(&b->seen[slot], now, memory_order_relaxed);
	return FDB_ADDED;
}

int fdb_lookup(struct fdb *f, const uint8_t mac[6], uint32_t now)
{
	uint64_t m = fdb_mac(mac);
	struct fdb_bucket *b = bucket_of(f, m);

	/*
	 * No "k != 0" test: an empty entry matches only the all-zero MAC, which
	 * is never learned, and says -1.  No test of the locked bit either:
	 * fdb_age() keeps locked entries' last-seen second current.
	 */
	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);

		if (((k ^ m) & KEY_MAC_MASK) == 0) {
			if (expired(f, atomic_load_explicit(&b->seen[i], memory_order_relaxed), now))
				return -1;
			return (int)(k >> KEY_PORT_SHIFT) - 1;
		}
	}
	return -1;
}

/* Remove learned entries of @m other than way @keep (one a worker added while @m was being locked). */
static void drop_learned_twins(struct fdb *f, struct fdb_bucket *b, uint64_t m, int keep)
{
	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);

		if (i != keep && k && !(k & KEY_LOCKED) && (k & KEY_MAC_MASK) == m &&
		    atomic_compare_exchange_strong(&b->key[i], &k, 0))
			key_released(f, k);
	}
}

unsigned fdb_age(struct fdb *f, uint32_t now)
{
	unsigned n = 0;

	for (unsigned bi = 0; bi < FDB_BUCKETS; bi++) {
		struct fdb_bucket *b = &f->buckets[bi];

		for (int i = 0; i < FDB_WAYS; i++) {
			uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);

			/*
			 * A locked entry is kept current (lookups do not test the
			 * bit), and a learned twin of it (learned while it was
			 * being locked) goes.
			 */
			if (k & KEY_LOCKED) {
				atomic_store_explicit(&b->seen[i], now, memory_order_relaxed);
				drop_learned_twins(f, b, k & KEY_MAC_MASK, i);
			} else if (k && expired(f, atomic_load_explicit(&b->seen[i], memory_order_relaxed), now) &&
				 atomic_compare_exchange_strong(&b->key[i], &k, 0)) {
				key_released(f, k);
				n++;
			}
		}
	}
	return n;
}

void fdb_flush_port(struct fdb *f, unsigned port)
{
	for (unsigned bi = 0; bi < FDB_BUCKETS; bi++) {
		struct fdb_bucket *b = &f->buckets[bi];

		for (int i = 0; i < FDB_WAYS; i++) {
			uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);

			if (k && key_port(k) == port && atomic_compare_exchange_strong(&b->key[i], &k, 0))
				key_released(f, k);
		}
	}
}

unsigned fdb_dump(struct fdb *f, struct fdb_entry *out, unsigned max, uint32_t now)
{
	unsigned n = 0;

	for (unsigned bi = 0; bi < FDB_BUCKETS && n < max; bi++) {
		struct fdb_bucket *b = &f->buckets[bi];

		for (int i = 0; i < FDB_WAYS && n < max; i++) {
			uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);
			uint32_t s = atomic_load_explicit(&b->seen[i], memory_order_relaxed);
			bool locked = k & KEY_LOCKED;

			if (!k || (!locked && expired(f, s, now)))
				continue;
			memcpy(out[n].mac, &k, 6);
			out[n].locked = locked;
			out[n].port = key_port(k);
			out[n].age_s = locked ? 0 : now - s;
			n++;
		}
	}
	return n;
}

void fdb_set_limit(struct fdb *f, unsigned port, unsigned max)
{
	f->port_limit[port] = max;
}

unsigned fdb_port_entries(struct fdb *f, unsigned port)
{
	return atomic_load_explicit(&f->port_entries[port], memory_order_relaxed);
}

int fdb_lock(struct fdb *f, const uint8_t mac[6], unsigned port, uint32_t now, unsigned *owner)
{
	uint64_t m = fdb_mac(mac), key = make_key(m, port) | KEY_LOCKED;
	struct fdb_bucket *b = bucket_of(f, m);

	/* Workers may be learning into this bucket meanwhile: every change is a CAS, retried until one lands. */
	for (;;) {
		int same = -1, empty = -1, oldest = -1, slot;
		uint32_t oldest_seen = UINT32_MAX;
		uint64_t saw[FDB_WAYS];

		for (int i = 0; i < FDB_WAYS; i++) {
			uint32_t s = atomic_load_explicit(&b->seen[i], memory_order_relaxed);
			uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);

			saw[i] = k;
			if (k && (k & KEY_MAC_MASK) == m) {
				if (k & KEY_LOCKED) {
					*owner = key_port(k);
					return key_port(k) == port ? 0 : -EEXIST;
				}
				if (same < 0)
					same = i; /* learned somewhere: becomes the locked entry */
			} else if (!k) {
				if (empty < 0)
					empty = i;
			} else if (!(k & KEY_LOCKED) && s < oldest_seen) {
				oldest_seen = s;
				oldest = i;
			}
		}
		slot = same >= 0 ? same : empty >= 0 ? empty : oldest;
		if (slot < 0)
			return -ENOSPC;
		/* Current first: a lookup may find the key as soon as it is stored. */
		atomic_store_explicit(&b->seen[slot], now, memory_order_relaxed);
		if (atomic_compare_exchange_strong(&b->key[slot], &saw[slot], key)) {
			key_released(f, saw[slot]);
			drop_learned_twins(f, b, m, slot);
			return 0;
		}
	}
}
