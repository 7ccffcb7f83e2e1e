/* fdb.c - MAC learning table with aging (see fdb.h for the layout). */
#include "switch/fdb.h"

#include <string.h>

#define KEY_MAC_MASK 0xffffffffffffull

static struct fdb_bucket *bucket_of(struct fdb *f, uint64_t mac)
{
	/* Fibonacci hashing of the 48 MAC bits. */
	return &f->buckets[(mac * 0x9e3779b97f4a7c15ull) >> (64 - 12)];
}

_Static_assert(FDB_BUCKETS == 1 << 12, "bucket_of() takes 12 bits");

void fdb_init(struct fdb *f, unsigned aging_s)
{
	memset(f, 0, sizeof(*f));
	f->aging_s = aging_s;
}

static bool expired(const struct fdb *f, uint32_t seen, uint32_t now)
{
	return now - seen > f->aging_s;
}

enum fdb_learn_result fdb_learn(struct fdb *f, const uint8_t mac[6], unsigned port, uint32_t now)
{
	uint64_t m = fdb_mac(mac), key = m | (uint64_t)(port + 1) << 48;
	struct fdb_bucket *b = bucket_of(f, m);
	int empty = -1, oldest = 0;
	uint32_t oldest_seen = UINT32_MAX;

	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);
		uint32_t s = atomic_load_explicit(&b->seen[i], memory_order_relaxed);

		if (k && (k & KEY_MAC_MASK) == m) {
			/* Known: refresh (a store only when the second changed), or moved. */
			if (k != key)
				atomic_compare_exchange_strong(&b->key[i], &k, key);
			if (s != now)
				atomic_store_explicit(&b->seen[i], now, memory_order_relaxed);
			return FDB_KNOWN;
		}
		if (!k && empty < 0)
			empty = i;
		if (k && s < oldest_seen) {
			oldest_seen = s;
			oldest = i;
		}
	}
	if (empty >= 0) {
		uint64_t zero = 0;

		if (atomic_compare_exchange_strong(&b->key[empty], &zero, key))
			atomic_store_explicit(&b->seen[empty], now, memory_order_relaxed);
		return FDB_ADDED;
	}
	atomic_store_explicit(&b->key[oldest], key, memory_order_relaxed);
	atomic_store_explicit(&b->seen[oldest], now, memory_order_relaxed);
	return FDB_ADDED;
}

/* ---- stubs: the API of the security work, not implemented yet ---- */
void fdb_seed(struct fdb *f, const uint64_t key[4])
{
	memcpy(f->hash_key, key, sizeof(f->hash_key));
}

unsigned fdb_bucket_index(const struct fdb *f, const uint8_t mac[6])
{
	return (unsigned)((fdb_mac(mac) * 0x9e3779b97f4a7c15ull) >> (64 - 12));
}

void fdb_set_limit(struct fdb *f, unsigned port, unsigned max)
{
}

unsigned fdb_port_entries(struct fdb *f, unsigned port)
{
	return 0;
}

int fdb_lock(struct fdb *f, const uint8_t mac[6], unsigned port, unsigned *owner)
{
	return 0;
}

int fdb_lookup(struct fdb *f, const uint8_t mac[6], uint32_t now)
{
	uint64_t m = fdb_mac(mac);
	struct fdb_bucket *b = bucket_of(f, m);

	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);

		if (k && (k & KEY_MAC_MASK) == m) {
			if (expired(f, atomic_load_explicit(&b->seen[i], memory_order_relaxed), now))
				return -1;
			return (int)(k >> 48) - 1;
		}
	}
	return -1;
}

unsigned fdb_age(struct fdb *f, uint32_t now)
{
	unsigned n = 0;

	for (unsigned bi = 0; bi < FDB_BUCKETS; bi++) {
		struct fdb_bucket *b = &f->buckets[bi];

		for (int i = 0; i < FDB_WAYS; i++) {
			uint64_t k = atomic_load_explicit(&b->key[i], memory_order_relaxed);

			if (k && expired(f, atomic_load_explicit(&b->seen[i], memory_order_relaxed), now) &&
			    atomic_compare_exchange_strong(&b->key[i], &k, 0))
				n++;
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

			if (k && (k >> 48) == port + 1)
				atomic_compare_exchange_strong(&b->key[i], &k, 0);
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

			if (!k || expired(f, s, now))
				continue;
			memcpy(out[n].mac, &k, 6);
			out[n].port = (unsigned)(k >> 48) - 1;
			out[n].age_s = now - s;
			n++;
		}
	}
	return n;
}
