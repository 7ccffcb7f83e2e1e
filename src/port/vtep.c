/* vtep.c - a VXLAN port's remote VTEPs and its table of remote MACs: learn, look up, static entries (vtep.h). */
#include "port/vtep.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <arpa/inet.h>

const char *const vtep_counter_names[VTEP__COUNT] = { "learned", "moved", "table_full" };

#define KEY_VALID (1ull << 63)
#define VAL_STATIC (1ull << 32)
#define VAL_SEEN_SHIFT 33
#define SEEN_MASK 0x7fffffffu		/* seconds modulo 2^31 */

_Static_assert((VTEP_BUCKETS & (VTEP_BUCKETS - 1)) == 0, "buckets: a power of two");
_Static_assert(sizeof(struct vtep_bucket) == 64, "a bucket is one cache line");
_Static_assert(VTEP_REMOTES_MAX <= 255, "a remote index fits a byte of val");
_Static_assert(VTEP_REMOTES_MAX <= 32, "a flood list is a 32-bit mask over the remotes");
_Static_assert((VTEP_FLOOD_SLOTS & (VTEP_FLOOD_SLOTS - 1)) == 0, "flood slots: a power of two");

#define FLOOD_USED (1ull << 63)

int vtep_init(struct vtep *t, bool ipv6)
{
	memset(t, 0, sizeof(*t));
	t->ipv6 = ipv6;
	t->aging_s = VTEP_AGING_S;
	t->buckets = aligned_alloc(64, VTEP_BUCKETS * sizeof(struct vtep_bucket));
	if (!t->buckets)
		return -ENOMEM;
	memset(t->buckets, 0, VTEP_BUCKETS * sizeof(struct vtep_bucket));
	t->flood = aligned_alloc(64, VTEP_FLOOD_SLOTS * sizeof(*t->flood));
	if (!t->flood) {
		free(t->buckets);
		t->buckets = NULL;
		return -ENOMEM;
	}
	memset(t->flood, 0, VTEP_FLOOD_SLOTS * sizeof(*t->flood));
	if (getrandom(t->hash_key, sizeof(t->hash_key), 0) != sizeof(t->hash_key)) {
		/* No entropy yet (early boot): the clock, which a remote sender does not know to the nanosecond. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t->hash_key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull;
		t->hash_key[1] = (uint64_t)ts.tv_sec ^ 0xc2b2ae3d27d4eb4full;
	}
	t->hash_key[1] |= 1;
	pthread_spin_init(&t->lock, PTHREAD_PROCESS_PRIVATE);
	return 0;
}

void vtep_destroy(struct vtep *t)
{
	if (!t->buckets)
		return;
	free(t->buckets);
	t->buckets = NULL;
	free(t->flood);
	t->flood = NULL;
	pthread_spin_destroy(&t->lock);
}

/* The group bit of a MAC in vtep_mac() form (the first byte's low bit). */
static bool mac_group(uint64_t mac)
{
	return mac & 1;
}

uint32_t vtep_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec & SEEN_MASK;
}

static bool addr_eq(const struct vtep *t, const union vtep_addr *a, const union vtep_addr *b)
{
	if (t->ipv6)
		return !memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, 16);
	return a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
}

/* Is remote @r in mask @m (a remote index past the mask's 32 bits never is)? */
static bool in_mask(uint32_t m, unsigned r)
{
	return r < 32 && (m >> r & 1);
}

/* Control thread: remotes[@i] becomes @a (a slot no worker holds: new, or free). */
static void remote_write(struct vtep *t, unsigned i, const union vtep_addr *a)
{
	struct vtep_remote *r = &t->remotes[i];

	memset(&r->addr, 0, sizeof(r->addr));
	r->addr.sa.sa_family = a->sa.sa_family;
	if (t->ipv6)
		r->addr.v6.sin6_addr = a->v6.sin6_addr;
	else
		r->addr.v4.sin_addr = a->v4.sin_addr;
	inet_ntop(a->sa.sa_family, t->ipv6 ? (const void *)&a->v6.sin6_addr : (const void *)&a->v4.sin_addr, r->str,
		  sizeof(r->str));
}

int vtep_remote_add(struct vtep *t, const union vtep_addr *a, bool flood)
{
	unsigned n = atomic_load_explicit(&t->n_remotes, memory_order_relaxed);
	uint32_t live = atomic_load_explicit(&t->live, memory_order_relaxed), slots, spare;

	if (a->sa.sa_family != (t->ipv6 ? AF_INET6 : AF_INET))
		return -EAFNOSUPPORT;
	for (unsigned i = 0; i < n; i++) {
		if (!addr_eq(t, &t->remotes[i].addr, a))
			continue;
		if (!in_mask(live, i)) {
			/* retired or free with this very address: its index never named another, live again at once */
			t->retired &= ~(1u << i);
			atomic_fetch_or_explicit(&t->live, 1u << i, memory_order_release);
		}
		return (int)i;
	}
	if (flood && n != t->n_flood)
		return -ENOSPC;
	slots = n >= 32 ? ~0u : (1u << n) - 1;
	spare = slots & ~live & ~t->retired;	/* free: a grace period passed since they were retired */
	if (spare) {
		unsigned i = (unsigned)__builtin_ctz(spare);

		remote_write(t, i, a);
		/* release: the address before the bit that makes a worker read it */
		atomic_fetch_or_explicit(&t->live, 1u << i, memory_order_release);
		return (int)i;
	}
	if (n == VTEP_REMOTES_MAX)
		return t->retired ? -EAGAIN : -ENOSPC;
	remote_write(t, n, a);
	if (flood)
		t->n_flood++;
	atomic_fetch_or_explicit(&t->live, 1u << n, memory_order_relaxed);
	/* The entry (and its bit) before the count: a worker that sees the count reads a complete remote. */
	atomic_store_explicit(&t->n_remotes, n + 1, memory_order_release);
	return (int)n;
}

const char *vtep_remote_refused(const union vtep_addr *a, const union vtep_addr *local)
{
	uint32_t h;

	if (a->sa.sa_family == AF_INET6) {
		const struct in6_addr *x = &a->v6.sin6_addr;

		if (IN6_IS_ADDR_UNSPECIFIED(x))
			return "the unspecified address";
		if (IN6_IS_ADDR_MULTICAST(x))
			return "a multicast address (vsw floods to each remote by unicast: it has no multicast group)";
		if (local->sa.sa_family == AF_INET6 && !memcmp(x, &local->v6.sin6_addr, sizeof(*x)))
			return "the port's own local= address (a loop)";
		return NULL;
	}
	h = ntohl(a->v4.sin_addr.s_addr);
	if (!h)
		return "the unspecified address";
	if (h == 0xffffffffu)
		return "the limited broadcast address";
	if ((h >> 28) == 0xe)
		return "a multicast address (vsw floods to each remote by unicast: it has no multicast group)";
	if (local->sa.sa_family == AF_INET && a->v4.sin_addr.s_addr == local->v4.sin_addr.s_addr)
		return "the port's own local= address (a loop)";
	return NULL;
}

int vtep_remote_find(const struct vtep *t, const union vtep_addr *a, unsigned len)
{
	unsigned n = atomic_load_explicit(&t->n_remotes, memory_order_acquire);
	/* acquire: a slot's address before its bit (a reused slot's new one) */
	uint32_t live = atomic_load_explicit(&t->live, memory_order_acquire);

	if (t->ipv6 ? len < sizeof(struct sockaddr_in6) || a->sa.sa_family != AF_INET6
		    : len < sizeof(struct sockaddr_in) || a->sa.sa_family != AF_INET)
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (in_mask(live, i) && addr_eq(t, &t->remotes[i].addr, a))
			return (int)i;
	return -1;
}

/* The key word of (@vni, @mac). */
static uint64_t key_of(uint32_t vni, uint64_t mac)
{
	return KEY_VALID | (uint64_t)(vni & 0x7fff) << 48 | mac;
}

static struct vtep_bucket *bucket_of(const struct vtep *t, uint64_t key, uint32_t vni)
{
	unsigned __int128 r = (unsigned __int128)(key ^ t->hash_key[0] ^ (uint64_t)vni << 40) * t->hash_key[1];
	uint64_t h = (uint64_t)r ^ (uint64_t)(r >> 64);

	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ull;
	return &t->buckets[h >> (64 - __builtin_ctz(VTEP_BUCKETS))];
}

static uint64_t val_of(uint32_t vni, unsigned remote, bool is_static, uint32_t now_s)
{
	return (vni & 0xffffffu) | (uint64_t)remote << 24 | (is_static ? VAL_STATIC : 0) |
	       (uint64_t)(now_s & SEEN_MASK) << VAL_SEEN_SHIFT;
}

static uint32_t val_vni(uint64_t v) { return (uint32_t)v & 0xffffffu; }
static unsigned val_remote(uint64_t v) { return (unsigned)(v >> 24) & 0xff; }
static bool val_static(uint64_t v) { return v & VAL_STATIC; }
static uint32_t val_seen(uint64_t v) { return (uint32_t)(v >> VAL_SEEN_SHIFT) & SEEN_MASK; }

static uint32_t age_of(uint64_t v, uint32_t now_s)
{
	return (now_s - val_seen(v)) & SEEN_MASK;
}

static bool val_live(const struct vtep *t, uint64_t v, uint32_t now_s)
{
	return val_static(v) || age_of(v, now_s) <= t->aging_s;
}

/*
 * The val of (@vni, @key) as one consistent read (key, val, key again: see
 * vtep.h), or 0 when absent (0 is no entry's val: a valid entry of VNI 0,
 * remote 0 and second 0 reads as absent for at most that second).
 */
static uint64_t find(const struct vtep *t, uint32_t vni, uint64_t key)
{
	const struct vtep_bucket *b = bucket_of(t, key, vni);

	for (unsigned w = 0; w < VTEP_WAYS; w++) {
		const struct vtep_entry_word *e = &b->e[w];
		uint64_t v;

		if (atomic_load_explicit(&e->key, memory_order_acquire) != key)
			continue;
		v = atomic_load_explicit(&e->val, memory_order_acquire);
		if (atomic_load_explicit(&e->key, memory_order_relaxed) != key)
			continue;
		if (val_vni(v) == vni)
			return v;
	}
	return 0;
}

int vtep_lookup(const struct vtep *t, uint32_t vni, uint64_t mac, uint32_t now_s)
{
	uint64_t v;

	if (mac_group(mac))
		return -1;
	v = find(t, vni, key_of(vni, mac));
	if (!v || !val_live(t, v, now_s))
		return -1;
	return (int)val_remote(v);
}

bool vtep_learn_wanted(const struct vtep *t, uint32_t vni, uint64_t mac, unsigned remote, uint32_t now_s)
{
	uint64_t v;

	if (mac_group(mac) || !mac)
		return false;
	v = find(t, vni, key_of(vni, mac));
	if (!v)
		return true;
	if (val_static(v))
		return false;
	return val_remote(v) != remote || val_seen(v) != (now_s & SEEN_MASK);
}

/* Under the lock: the entry of (@vni, @key) in @b, or NULL. */
static struct vtep_entry_word *find_locked(struct vtep_bucket *b, uint32_t vni, uint64_t key)
{
	for (unsigned w = 0; w < VTEP_WAYS; w++)
		if (atomic_load_explicit(&b->e[w].key, memory_order_relaxed) == key &&
		    val_vni(atomic_load_explicit(&b->e[w].val, memory_order_relaxed)) == vni)
			return &b->e[w];
	return NULL;
}

/* Under the lock: the entry a new one takes in @b (empty, else the oldest learned), or NULL (all static). */
static struct vtep_entry_word *victim(const struct vtep *t, struct vtep_bucket *b, uint32_t now_s)
{
	struct vtep_entry_word *best = NULL;
	uint32_t best_age = 0;

	for (unsigned w = 0; w < VTEP_WAYS; w++) {
		struct vtep_entry_word *e = &b->e[w];
		uint64_t v = atomic_load_explicit(&e->val, memory_order_relaxed);

		if (!atomic_load_explicit(&e->key, memory_order_relaxed))
			return e;
		if (val_static(v))
			continue;
		if (!best || age_of(v, now_s) > best_age) {
			best = e;
			best_age = age_of(v, now_s);
		}
	}
	return best;
}

/* Under the lock: @e becomes (@key, @val); a reader sees the old pair or the new one, never a mix. */
static void install(struct vtep_entry_word *e, uint64_t key, uint64_t val)
{
	if (atomic_load_explicit(&e->key, memory_order_relaxed) == key) {
		atomic_store_explicit(&e->val, val, memory_order_release);
		return;
	}
	atomic_store_explicit(&e->key, 0, memory_order_relaxed);
	/* val's release orders the key's clearing before it; the key's orders val before the new key */
	atomic_store_explicit(&e->val, val, memory_order_release);
	atomic_store_explicit(&e->key, key, memory_order_release);
}

static void learn_one(struct vtep *t, const struct vtep_learn *l, uint32_t now_s)
{
	uint64_t key = key_of(l->vni, l->mac);
	struct vtep_bucket *b = bucket_of(t, key, l->vni);
	struct vtep_entry_word *e;

	/* A request of a burst that found its remote before it was released: the remote is no VTEP now. */
	if (!in_mask(atomic_load_explicit(&t->live, memory_order_relaxed), l->remote))
		return;
	e = find_locked(b, l->vni, key);
	if (e) {
		uint64_t v = atomic_load_explicit(&e->val, memory_order_relaxed);

		if (val_static(v))
			return; /* static wins over what the wire says */
		if (val_remote(v) != l->remote && val_live(t, v, now_s))
			atomic_fetch_add_explicit(&t->counters[VTEP_MOVED], 1, memory_order_relaxed);
		atomic_store_explicit(&e->val, val_of(l->vni, l->remote, false, now_s), memory_order_release);
		return;
	}
	e = victim(t, b, now_s);
	if (!e) {
		atomic_fetch_add_explicit(&t->counters[VTEP_FULL], 1, memory_order_relaxed);
		return;
	}
	install(e, key, val_of(l->vni, l->remote, false, now_s));
	atomic_fetch_add_explicit(&t->counters[VTEP_LEARNED], 1, memory_order_relaxed);
}

void vtep_learn(struct vtep *t, const struct vtep_learn *l, unsigned n, uint32_t now_s)
{
	if (!n)
		return;
	pthread_spin_lock(&t->lock);
	for (unsigned i = 0; i < n; i++)
		learn_one(t, &l[i], now_s);
	pthread_spin_unlock(&t->lock);
}

int vtep_static_add(struct vtep *t, uint32_t vni, uint64_t mac, unsigned remote)
{
	uint64_t key = key_of(vni, mac);
	struct vtep_bucket *b = bucket_of(t, key, vni);
	struct vtep_entry_word *e;
	int rc = 0;

	pthread_spin_lock(&t->lock);
	e = find_locked(b, vni, key);
	if (!e)
		e = victim(t, b, vtep_now_s());
	if (e)
		install(e, key, val_of(vni, remote, true, 0));
	else
		rc = -ENOSPC;
	pthread_spin_unlock(&t->lock);
	return rc;
}

bool vtep_static_fits(struct vtep *t, uint32_t vni, uint64_t mac)
{
	uint64_t key = key_of(vni, mac);
	struct vtep_bucket *b = bucket_of(t, key, vni);
	bool fits;

	pthread_spin_lock(&t->lock);
	fits = find_locked(b, vni, key) || victim(t, b, vtep_now_s());
	pthread_spin_unlock(&t->lock);
	return fits;
}

int vtep_del(struct vtep *t, uint32_t vni, uint64_t mac)
{
	uint64_t key = key_of(vni, mac);
	struct vtep_entry_word *e;
	int rc = -ENOENT;

	pthread_spin_lock(&t->lock);
	e = find_locked(bucket_of(t, key, vni), vni, key);
	if (e) {
		atomic_store_explicit(&e->key, 0, memory_order_release);
		rc = 0;
	}
	pthread_spin_unlock(&t->lock);
	return rc;
}

/* Under the lock: the remotes a static entry or a per-VNI flood list names (a mask). */
static uint32_t named_locked(const struct vtep *t)
{
	uint32_t named = 0;

	for (unsigned i = 0; i < VTEP_BUCKETS * VTEP_WAYS; i++) {
		const struct vtep_entry_word *e = &t->buckets[i / VTEP_WAYS].e[i % VTEP_WAYS];
		uint64_t v = atomic_load_explicit(&e->val, memory_order_relaxed);

		if (atomic_load_explicit(&e->key, memory_order_relaxed) && val_static(v) && val_remote(v) < 32)
			named |= 1u << val_remote(v);
	}
	for (unsigned i = 0; i < VTEP_FLOOD_SLOTS; i++)
		named |= (uint32_t)atomic_load_explicit(&t->flood[i], memory_order_relaxed);
	return named;
}

uint32_t vtep_remotes_named(struct vtep *t)
{
	uint32_t named;

	pthread_spin_lock(&t->lock);
	named = named_locked(t);
	pthread_spin_unlock(&t->lock);
	return named;
}

uint32_t vtep_remotes_release(struct vtep *t)
{
	uint32_t flood = vtep_port_flood(t), gone;

	/*
	 * Under the lock learning takes: a request applied before is forgotten
	 * below, one after sees the bit clear (learn_one()).  Two walks of the
	 * table (8,192 entries) with the lock held, per delete: a burst's
	 * learning may wait for them (tens of microseconds).
	 */
	pthread_spin_lock(&t->lock);
	gone = atomic_load_explicit(&t->live, memory_order_relaxed) & ~flood & ~named_locked(t);
	if (gone) {
		atomic_fetch_and_explicit(&t->live, ~gone, memory_order_release);
		for (unsigned i = 0; i < VTEP_BUCKETS * VTEP_WAYS; i++) {
			struct vtep_entry_word *e = &t->buckets[i / VTEP_WAYS].e[i % VTEP_WAYS];

			if (atomic_load_explicit(&e->key, memory_order_relaxed) &&
			    in_mask(gone, val_remote(atomic_load_explicit(&e->val, memory_order_relaxed))))
				atomic_store_explicit(&e->key, 0, memory_order_release);
		}
	}
	pthread_spin_unlock(&t->lock);
	t->retired |= gone;
	return gone;
}

uint32_t vtep_remote_reclaim(struct vtep *t)
{
	uint32_t m = t->retired;

	t->retired = 0;
	return m;
}

void vtep_count(const struct vtep *t, uint32_t now_s, unsigned *learned, unsigned *statics)
{
	*learned = *statics = 0;
	for (unsigned i = 0; i < VTEP_BUCKETS; i++) {
		for (unsigned w = 0; w < VTEP_WAYS; w++) {
			const struct vtep_entry_word *e = &t->buckets[i].e[w];
			uint64_t k = atomic_load_explicit(&e->key, memory_order_acquire);
			uint64_t v = atomic_load_explicit(&e->val, memory_order_acquire);

			if (!k || atomic_load_explicit(&e->key, memory_order_relaxed) != k || !val_live(t, v, now_s))
				continue;
			if (val_static(v))
				(*statics)++;
			else
				(*learned)++;
		}
	}
}

unsigned vtep_dump(const struct vtep *t, struct vtep_entry *out, unsigned max, uint32_t now_s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < VTEP_BUCKETS && n < max; i++) {
		for (unsigned w = 0; w < VTEP_WAYS && n < max; w++) {
			const struct vtep_entry_word *e = &t->buckets[i].e[w];
			uint64_t k = atomic_load_explicit(&e->key, memory_order_acquire);
			uint64_t v = atomic_load_explicit(&e->val, memory_order_acquire);
			struct vtep_entry *o = &out[n];

			if (!k || atomic_load_explicit(&e->key, memory_order_relaxed) != k || !val_live(t, v, now_s))
				continue;
			for (unsigned j = 0; j < 6; j++)
				o->mac[j] = (uint8_t)(k >> (8 * j));
			o->vni = val_vni(v);
			o->remote = val_remote(v);
			o->is_static = val_static(v);
			o->age_s = o->is_static ? 0 : age_of(v, now_s);
			n++;
		}
	}
	return n;
}

/* ---- per-VNI flood lists (vtep.h) ---------------------------------------------------------------------------- */

/* The first slot of @vni's probe path (VNIs are the operator's, not the wire's: a plain multiplicative hash). */
static unsigned flood_home(uint32_t vni)
{
	return (unsigned)(((uint64_t)vni * 0x9e3779b97f4a7c15ull) >> (64 - __builtin_ctz(VTEP_FLOOD_SLOTS)));
}

static unsigned flood_next(unsigned i)
{
	return (i + 1) & (VTEP_FLOOD_SLOTS - 1);
}

static uint32_t flood_vni(uint64_t w) { return (uint32_t)(w >> 32) & 0xffffffu; }

static uint64_t flood_word(uint32_t vni, uint32_t mask)
{
	return FLOOD_USED | (uint64_t)(vni & 0xffffffu) << 32 | mask;
}

uint32_t vtep_flood_mask(const struct vtep *t, uint32_t vni)
{
	unsigned i = flood_home(vni);

	for (unsigned k = 0; k < VTEP_FLOOD_SLOTS; k++, i = flood_next(i)) {
		/* acquire: the remotes the mask names were published (n_remotes, released) before this word */
		uint64_t w = atomic_load_explicit(&t->flood[i], memory_order_acquire);

		if (!w)
			return 0;
		if ((uint32_t)w && flood_vni(w) == vni)
			return (uint32_t)w;
	}
	return 0;
}

/* Under the lock: the slot of @vni's live list, or -1. */
static int flood_find_locked(const struct vtep *t, uint32_t vni)
{
	unsigned i = flood_home(vni);

	for (unsigned k = 0; k < VTEP_FLOOD_SLOTS; k++, i = flood_next(i)) {
		uint64_t w = atomic_load_explicit(&t->flood[i], memory_order_relaxed);

		if (!w)
			return -1;
		if ((uint32_t)w && flood_vni(w) == vni)
			return (int)i;
	}
	return -1;
}

int vtep_flood_add(struct vtep *t, uint32_t vni, unsigned remote)
{
	uint32_t bit = 1u << (remote & 31);
	int rc = 0, s;

	if (remote >= VTEP_REMOTES_MAX)
		return -EINVAL;
	pthread_spin_lock(&t->lock);
	s = flood_find_locked(t, vni);
	if (s >= 0) {
		uint64_t w = atomic_load_explicit(&t->flood[s], memory_order_relaxed);

		atomic_store_explicit(&t->flood[s], w | bit, memory_order_release);
	} else if (t->n_flood_vnis == VTEP_FLOOD_VNIS_MAX) {
		rc = -ENOSPC;
	} else {
		unsigned i = flood_home(vni);

		/* the first free slot of the path: a tombstone or a never-used one (there is one: half are free) */
		while ((uint32_t)atomic_load_explicit(&t->flood[i], memory_order_relaxed))
			i = flood_next(i);
		atomic_store_explicit(&t->flood[i], flood_word(vni, bit), memory_order_release);
		t->n_flood_vnis++;
	}
	pthread_spin_unlock(&t->lock);
	return rc;
}

bool vtep_flood_fits(struct vtep *t, uint32_t vni)
{
	bool fits;

	pthread_spin_lock(&t->lock);
	fits = flood_find_locked(t, vni) >= 0 || t->n_flood_vnis < VTEP_FLOOD_VNIS_MAX;
	pthread_spin_unlock(&t->lock);
	return fits;
}

int vtep_flood_del(struct vtep *t, uint32_t vni, int remote)
{
	uint64_t w;
	int s;

	pthread_spin_lock(&t->lock);
	s = flood_find_locked(t, vni);
	w = s >= 0 ? atomic_load_explicit(&t->flood[s], memory_order_relaxed) : 0;
	if (s < 0 || (remote >= 0 && (remote >= VTEP_REMOTES_MAX || !(w & (1u << remote))))) {
		pthread_spin_unlock(&t->lock);
		return -ENOENT;
	}
	w = remote >= 0 ? w & ~(uint64_t)(1u << remote) : FLOOD_USED;
	if (!(uint32_t)w) {
		unsigned i = (unsigned)s;

		atomic_store_explicit(&t->flood[i], FLOOD_USED, memory_order_release);
		t->n_flood_vnis--;
		/* a tombstone whose next slot was never used is on no probe path: never used again, and so back */
		for (unsigned k = 0; k < VTEP_FLOOD_SLOTS; k++, i = (i - 1) & (VTEP_FLOOD_SLOTS - 1)) {
			if (atomic_load_explicit(&t->flood[i], memory_order_relaxed) != FLOOD_USED ||
			    atomic_load_explicit(&t->flood[flood_next(i)], memory_order_relaxed))
				break;
			atomic_store_explicit(&t->flood[i], 0, memory_order_release);
		}
	} else {
		atomic_store_explicit(&t->flood[s], w, memory_order_release);
	}
	pthread_spin_unlock(&t->lock);
	return 0;
}

unsigned vtep_flood_dump(const struct vtep *t, struct vtep_flood *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < VTEP_FLOOD_SLOTS && n < max; i++) {
		uint64_t w = atomic_load_explicit(&t->flood[i], memory_order_acquire);

		if ((uint32_t)w)
			out[n++] = (struct vtep_flood){ flood_vni(w), (uint32_t)w };
	}
	return n;
}
