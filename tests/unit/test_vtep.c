/* test_vtep.c - unit tests of port/vtep: a VXLAN port's remotes and its table of remote MACs. */

/*
 * Remotes: the flood list first, static-only ones after, found again by
 * address, of the table's family only; a static one nothing names is
 * released, its learned MACs with it, and its slot reused only after a
 * grace period (reclaim), never pointed at by what it had learned.  MACs: learned behind the remote a
 * frame came from, per VNI (the same MAC in two VNIs is two entries),
 * moved when seen behind another VTEP, refreshed once a second, aged out
 * after the aging time; a group MAC is never learned nor found; a static
 * entry never ages and learning never overrides it; del forgets either
 * kind; dump lists the live ones.  Many MACs fit (the table is sized for
 * thousands); static entries stop at a bucket full of them, and the
 * table says so before an add.  Per-VNI flood lists: a VNI without one has none (the port
 * floods to its own), remotes join and leave one at a time or all at
 * once, VNIs do not see each other's; VTEP_FLOOD_VNIS_MAX fit and one
 * more is refused, and after churn (lists made and emptied) every live
 * one is still found; a reader racing a writer that churns other VNIs
 * always finds a live list, with its old or its new mask.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "port/vtep.h"

static union vtep_addr v4(const char *s)
{
	union vtep_addr a;

	memset(&a, 0, sizeof(a));
	a.v4.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, s, &a.v4.sin_addr), 1);
	return a;
}

static uint64_t mac(uint8_t last)
{
	const uint8_t m[6] = { 0x52, 0x54, 0, 0, 0x12, last };

	return vtep_mac(m);
}

static void test_remotes(void **state)
{
	struct vtep *t = malloc(sizeof(*t));
	union vtep_addr a = v4("192.0.2.1"), b = v4("192.0.2.2"), c = v4("192.0.2.3"), six;

	assert_int_equal(vtep_init(t, false), 0);
	assert_int_equal(vtep_remote_add(t, &a, true), 0);
	assert_int_equal(vtep_remote_add(t, &b, true), 1);
	assert_int_equal(vtep_remote_add(t, &a, true), 0);
	assert_int_equal(t->n_flood, 2);
	/* a static-only remote: not in the flood list, and the flood list is closed after it */
	assert_int_equal(vtep_remote_add(t, &c, false), 2);
	assert_int_equal(t->n_flood, 2);
	assert_int_equal(vtep_remote_add(t, &c, false), 2);
	assert_string_equal(t->remotes[2].str, "192.0.2.3");
	assert_int_equal(vtep_remote_find(t, &b, sizeof(struct sockaddr_in)), 1);
	assert_int_equal(vtep_remote_find(t, &c, sizeof(struct sockaddr_in)), 2);
	a = v4("192.0.2.9");
	assert_int_equal(vtep_remote_find(t, &a, sizeof(struct sockaddr_in)), -1);
	assert_int_equal(vtep_remote_find(t, &b, 4), -1);
	memset(&six, 0, sizeof(six));
	six.v6.sin6_family = AF_INET6;
	assert_int_equal(vtep_remote_add(t, &six, false), -EAFNOSUPPORT);
	for (unsigned i = 3; i < VTEP_REMOTES_MAX; i++) {
		a.v4.sin_addr.s_addr = htonl(0xc6336400u + i);
		assert_int_equal(vtep_remote_add(t, &a, false), (int)i);
	}
	a.v4.sin_addr.s_addr = htonl(0xc6336500u);
	assert_int_equal(vtep_remote_add(t, &a, false), -ENOSPC);
	vtep_destroy(t);
	free(t);
}

/* An IPv4 table with remotes 0..3 (192.0.2.1 to .4, the flood list): learning is only behind a live remote. */
static void init4(struct vtep *t)
{
	assert_int_equal(vtep_init(t, false), 0);
	for (unsigned i = 0; i < 4; i++) {
		union vtep_addr a = v4("192.0.2.1");

		a.v4.sin_addr.s_addr = htonl(0xc0000201u + i);
		assert_int_equal(vtep_remote_add(t, &a, true), (int)i);
	}
}

static void learn(struct vtep *t, uint32_t vni, uint64_t m, unsigned remote, uint32_t now)
{
	struct vtep_learn l = { .mac = m, .vni = vni, .remote = (uint8_t)remote };

	vtep_learn(t, &l, 1, now);
}

/*
 * A static remote that nothing names any more is released: no VTEP
 * (not found as a source, not learned behind), its learned entries gone;
 * a learning request of a burst that found it before is refused; its
 * slot is reused only after reclaim (a grace period), and the MACs
 * learned behind it then do not point at the new owner.  The same
 * address again is live at once, in its old slot.  A flood list names
 * its remotes as entries do; the flood list of remote= is never released.
 */
static void test_remote_freed(void **state)
{
	struct vtep *t = malloc(sizeof(*t));
	union vtep_addr x = v4("198.51.100.1"), y = v4("198.51.100.2"), z = v4("198.51.100.3"), w = v4("198.51.100.4");
	uint32_t now = vtep_now_s();
	int rx, ry, rz;

	init4(t);
	rx = vtep_remote_add(t, &x, false);
	assert_int_equal(rx, 4);
	assert_int_equal(vtep_static_add(t, 7, mac(1), (unsigned)rx), 0);
	learn(t, 7, mac(2), (unsigned)rx, now);
	assert_int_equal(vtep_lookup(t, 7, mac(2), now), rx);
	assert_int_equal(vtep_remotes_named(t), 1u << rx);
	/* named by mac(1): stays; the flood list (0..3) never goes */
	assert_int_equal(vtep_remotes_release(t), 0);
	assert_int_equal(vtep_del(t, 7, mac(1)), 0);
	assert_int_equal(vtep_remotes_release(t), 1u << rx);
	assert_false(vtep_remote_live(t, (unsigned)rx));
	assert_int_equal(vtep_remote_count(t), 4);
	assert_int_equal(vtep_remote_find(t, &x, sizeof(struct sockaddr_in)), -1);
	assert_int_equal(vtep_lookup(t, 7, mac(2), now), -1);	/* learned behind it: forgotten */
	learn(t, 7, mac(3), (unsigned)rx, now);			/* a burst that found it before */
	assert_int_equal(vtep_lookup(t, 7, mac(3), now), -1);
	/* retired, not free: a new remote takes another slot until the grace period */
	ry = vtep_remote_add(t, &y, false);
	assert_int_equal(ry, 5);
	assert_int_equal(vtep_remote_reclaim(t), 1u << rx);
	rz = vtep_remote_add(t, &z, false);
	assert_int_equal(rz, rx);				/* the freed slot, reused */
	assert_string_equal(t->remotes[rz].str, "198.51.100.3");
	assert_int_equal(vtep_remote_find(t, &z, sizeof(struct sockaddr_in)), rz);
	assert_int_equal(vtep_remote_find(t, &x, sizeof(struct sockaddr_in)), -1);
	/* what was learned behind x does not point at z, its slot's new owner */
	assert_int_equal(vtep_lookup(t, 7, mac(2), now), -1);
	assert_int_equal(vtep_lookup(t, 7, mac(3), now), -1);
	/* z and y are named by nothing: released together; z again at once, in its slot */
	assert_int_equal(vtep_remotes_release(t), 1u << rz | 1u << ry);
	assert_int_equal(vtep_remote_add(t, &z, false), rz);
	assert_true(vtep_remote_live(t, (unsigned)rz));
	/* a per-VNI flood list names its remote as an entry does */
	assert_int_equal(vtep_flood_add(t, 9, (unsigned)rz), 0);
	assert_int_equal(vtep_remotes_release(t), 0);
	assert_int_equal(vtep_flood_del(t, 9, -1), 0);
	assert_int_equal(vtep_remotes_release(t), 1u << rz);
	/* every slot used: a retired one asks for a grace period (-EAGAIN), then is reused */
	assert_int_equal(vtep_remote_reclaim(t), 1u << rz | 1u << ry);
	for (unsigned i = 0; vtep_remote_count(t) < VTEP_REMOTES_MAX; i++) {
		w.v4.sin_addr.s_addr = htonl(0xc6336400u + i);
		assert_true(vtep_remote_add(t, &w, false) >= 0);
	}
	assert_int_equal(vtep_static_add(t, 7, mac(4), (unsigned)rz), 0);
	assert_int_equal(vtep_remotes_release(t), ~0u & ~0xfu & ~(1u << rz));
	w.v4.sin_addr.s_addr = htonl(0xc6336500u);
	assert_int_equal(vtep_remote_add(t, &w, false), -EAGAIN);
	vtep_remote_reclaim(t);
	assert_int_equal(vtep_remote_add(t, &w, false), 5);	/* the lowest free slot (4 is rz, named) */
	vtep_destroy(t);
	free(t);
}

static void test_learn_lookup(void **state)
{
	struct vtep *t = malloc(sizeof(*t));
	const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, mcast[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	uint32_t now = 1000;

	init4(t);
	assert_int_equal(vtep_lookup(t, 10, mac(1), now), -1);
	assert_true(vtep_learn_wanted(t, 10, mac(1), 0, now));
	learn(t, 10, mac(1), 0, now);
	learn(t, 10, mac(2), 1, now);
	assert_int_equal(vtep_lookup(t, 10, mac(1), now), 0);
	assert_int_equal(vtep_lookup(t, 10, mac(2), now), 1);
	/* another VNI: another entry */
	assert_int_equal(vtep_lookup(t, 20, mac(1), now), -1);
	assert_int_equal(vtep_lookup(t, 10 + 0x8000, mac(1), now), -1); /* same low 15 bits of VNI */
	learn(t, 20, mac(1), 1, now);
	assert_int_equal(vtep_lookup(t, 20, mac(1), now), 1);
	assert_int_equal(vtep_lookup(t, 10, mac(1), now), 0);
	/* refreshed once a second, not per frame */
	assert_false(vtep_learn_wanted(t, 10, mac(1), 0, now));
	assert_true(vtep_learn_wanted(t, 10, mac(1), 0, now + 1));
	/* moved behind another VTEP */
	assert_true(vtep_learn_wanted(t, 10, mac(1), 1, now));
	learn(t, 10, mac(1), 1, now);
	assert_int_equal(vtep_lookup(t, 10, mac(1), now), 1);
	assert_int_equal(atomic_load(&t->counters[VTEP_MOVED]), 1);
	/* group MACs: never learned, never found */
	assert_false(vtep_learn_wanted(t, 10, vtep_mac(bcast), 0, now));
	assert_false(vtep_learn_wanted(t, 10, vtep_mac(mcast), 0, now));
	assert_int_equal(vtep_lookup(t, 10, vtep_mac(bcast), now), -1);
	/* aging: alive at the aging time, gone after it; then learned again in its place */
	assert_int_equal(vtep_lookup(t, 10, mac(2), now + VTEP_AGING_S), 1);
	assert_int_equal(vtep_lookup(t, 10, mac(2), now + VTEP_AGING_S + 1), -1);
	learn(t, 10, mac(2), 0, now + VTEP_AGING_S + 1);
	assert_int_equal(vtep_lookup(t, 10, mac(2), now + VTEP_AGING_S + 1), 0);
	vtep_destroy(t);
	free(t);
}

static void test_static(void **state)
{
	struct vtep *t = malloc(sizeof(*t));
	struct vtep_entry out[8];
	uint32_t now = vtep_now_s();
	unsigned n, learned, statics;

	init4(t);
	learn(t, 10, mac(1), 0, now);
	/* static replaces the learned entry and wins over learning after */
	assert_int_equal(vtep_static_add(t, 10, mac(1), 2), 0);
	assert_int_equal(vtep_lookup(t, 10, mac(1), now), 2);
	assert_false(vtep_learn_wanted(t, 10, mac(1), 0, now));
	learn(t, 10, mac(1), 0, now);
	assert_int_equal(vtep_lookup(t, 10, mac(1), now), 2);
	/* never ages */
	assert_int_equal(vtep_lookup(t, 10, mac(1), now + 10 * VTEP_AGING_S), 2);
	learn(t, 10, mac(3), 1, now);
	n = vtep_dump(t, out, 8, now + 5);
	assert_int_equal(n, 2);
	vtep_count(t, now + 5, &learned, &statics);
	assert_int_equal(learned, 1);
	assert_int_equal(statics, 1);
	vtep_count(t, now + VTEP_AGING_S + 1, &learned, &statics);	/* the learned one aged out, as dump sees it */
	assert_int_equal(learned, 0);
	assert_int_equal(statics, 1);
	for (unsigned i = 0; i < n; i++) {
		if (out[i].is_static) {
			assert_int_equal(out[i].mac[5], 1);
			assert_int_equal(out[i].remote, 2);
			assert_int_equal(out[i].vni, 10);
		} else {
			assert_int_equal(out[i].mac[5], 3);
			assert_int_equal(out[i].age_s, 5);
		}
	}
	assert_int_equal(vtep_del(t, 10, mac(1)), 0);
	assert_int_equal(vtep_del(t, 10, mac(1)), -ENOENT);
	assert_int_equal(vtep_lookup(t, 10, mac(1), now), -1);
	assert_int_equal(vtep_del(t, 10, mac(3)), 0);
	assert_int_equal(vtep_dump(t, out, 8, now), 0);
	vtep_destroy(t);
	free(t);
}

/*
 * Static entries from the control socket are bounded: added until a
 * bucket holds static entries only, the next MAC of that bucket is
 * refused (-ENOSPC), and vtep_static_fits() said so beforehand (the port
 * asks it before it appends a remote); a MAC already there still fits.
 * Learning into that bucket is refused too, counted (fdb_full).
 */
static void test_static_full(void **state)
{
	struct vtep *t = malloc(sizeof(*t));
	uint64_t m = 0;
	unsigned i;

	init4(t);
	for (i = 0; i < VTEP_BUCKETS * VTEP_WAYS; i++) {
		m = 0x020000000000ull | (uint64_t)i << 8;
		if (!vtep_static_fits(t, 5, m))
			break;
		assert_int_equal(vtep_static_add(t, 5, m, 0), 0);
	}
	assert_true(i < VTEP_BUCKETS * VTEP_WAYS); /* some bucket fills long before the table does */
	assert_int_equal(vtep_static_add(t, 5, m, 0), -ENOSPC);
	assert_true(vtep_static_fits(t, 5, 0x020000000000ull)); /* the first one: there already */
	{
		struct vtep_learn l = { .mac = m, .vni = 5, .remote = 1 };

		vtep_learn(t, &l, 1, vtep_now_s());
		assert_int_equal(atomic_load(&t->counters[VTEP_FULL]), 1);
		assert_int_equal(vtep_lookup(t, 5, m, vtep_now_s()), -1);
	}
	vtep_destroy(t);
	free(t);
}

/*
 * Thousands of MACs over a few VNIs fit: at a quarter of the table, (almost) none is lost to a full bucket
 * (at most 1 %).  Under 16 fixed hash keys, so that every run is the same: the key vtep_init() draws made
 * this fail about once in 600 runs (of 20,000 random keys, 34 lost 21 to 27 of the 2,048 MACs, the
 * mean being 9).
 */
static void test_many(void **state)
{
	struct vtep *t = malloc(sizeof(*t));
	unsigned total = VTEP_BUCKETS * VTEP_WAYS / 4;
	uint64_t seed = 0x7665746570ull; /* splitmix64 */

	for (unsigned k = 0; k < 16; k++) {
		unsigned found = 0;

		init4(t);
		for (unsigned j = 0; j < 2; j++) {
			uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			t->hash_key[j] = z ^ (z >> 31);
		}
		for (unsigned i = 0; i < total; i++)
			learn(t, i % 4, 0x020000000000ull | (uint64_t)i << 8, i % 3, 100);
		for (unsigned i = 0; i < total; i++)
			found += vtep_lookup(t, i % 4, 0x020000000000ull | (uint64_t)i << 8, 100) == (int)(i % 3);
		print_message("key %u: %u of %u MACs lost\n", k, total - found, total);
		assert_in_range(found, total - total / 100, total);
		vtep_destroy(t);
	}
	free(t);
}

static void test_flood_lists(void **state)
{
	struct vtep *t = malloc(sizeof(*t));
	struct vtep_flood out[4];

	assert_int_equal(vtep_init(t, false), 0);
	assert_int_equal(vtep_flood_mask(t, 100), 0);
	assert_int_equal(vtep_flood_add(t, 100, 2), 0);
	assert_int_equal(vtep_flood_add(t, 100, 3), 0);
	assert_int_equal(vtep_flood_add(t, 100, 3), 0); /* again: no change */
	assert_int_equal(vtep_flood_add(t, 200, 4), 0);
	assert_int_equal(vtep_flood_add(t, 0, 31), 0);
	assert_int_equal(vtep_flood_add(t, 300, VTEP_REMOTES_MAX), -EINVAL);
	assert_int_equal(vtep_flood_mask(t, 100), 0xc);
	assert_int_equal(vtep_flood_mask(t, 200), 0x10);
	assert_int_equal(vtep_flood_mask(t, 0), 0x80000000u);
	assert_int_equal(vtep_flood_mask(t, 300), 0);
	assert_int_equal(vtep_flood_dump(t, out, 4), 3);
	/* one remote out, then the rest */
	assert_int_equal(vtep_flood_del(t, 100, 2), 0);
	assert_int_equal(vtep_flood_del(t, 100, 2), -ENOENT);
	assert_int_equal(vtep_flood_mask(t, 100), 0x8);
	assert_int_equal(vtep_flood_del(t, 100, 3), 0);
	assert_int_equal(vtep_flood_mask(t, 100), 0);
	assert_int_equal(vtep_flood_del(t, 100, -1), -ENOENT);
	/* the whole list at once */
	assert_int_equal(vtep_flood_add(t, 200, 5), 0);
	assert_int_equal(vtep_flood_del(t, 200, -1), 0);
	assert_int_equal(vtep_flood_mask(t, 200), 0);
	assert_int_equal(vtep_flood_dump(t, out, 4), 1);
	assert_int_equal(out[0].vni, 0);
	assert_int_equal(out[0].remotes, 0x80000000u);
	/* the MAC table is another thing */
	assert_int_equal(vtep_lookup(t, 0, 0, vtep_now_s()), -1);
	vtep_destroy(t);
	free(t);
}

/* A VNI's expected mask in test_flood_limit: a few bits, different per VNI. */
static uint32_t flood_of(uint32_t vni)
{
	return (1u << (vni % 32)) | (1u << ((vni / 32) % 32));
}

static void test_flood_limit(void **state)
{
	struct vtep *t = malloc(sizeof(*t));
	unsigned found = 0;

	assert_int_equal(vtep_init(t, false), 0);
	for (uint32_t i = 0; i < VTEP_FLOOD_VNIS_MAX; i++) {
		uint32_t vni = i * 4099u % 0x1000000u;

		assert_int_equal(vtep_flood_add(t, vni, vni % 32), 0);
		assert_int_equal(vtep_flood_add(t, vni, (vni / 32) % 32), 0);
	}
	assert_int_equal(vtep_flood_add(t, 0xfffffe, 1), -ENOSPC);
	assert_int_equal(vtep_flood_add(t, 0, 9), 0); /* a remote more in a list there is: fine */
	assert_int_equal(vtep_flood_del(t, 0, 9), 0);
	/* churn: every other list emptied (tombstones), new VNIs in their place, all found */
	for (uint32_t i = 0; i < VTEP_FLOOD_VNIS_MAX; i += 2)
		assert_int_equal(vtep_flood_del(t, i * 4099u % 0x1000000u, -1), 0);
	assert_int_equal(t->n_flood_vnis, VTEP_FLOOD_VNIS_MAX / 2);
	for (uint32_t i = 0; i < VTEP_FLOOD_VNIS_MAX / 2; i++)
		assert_int_equal(vtep_flood_add(t, 0x800000 + i, i % 32), 0);
	assert_int_equal(vtep_flood_add(t, 0xfffffe, 1), -ENOSPC);
	for (uint32_t i = 0; i < VTEP_FLOOD_VNIS_MAX; i++) {
		uint32_t vni = i * 4099u % 0x1000000u;

		found += vtep_flood_mask(t, vni) == (i % 2 ? flood_of(vni) : 0);
		found += vtep_flood_mask(t, 0x800000 + i) == (i < VTEP_FLOOD_VNIS_MAX / 2 ? 1u << (i % 32) : 0);
	}
	assert_int_equal(found, 2 * VTEP_FLOOD_VNIS_MAX);
	/* all gone: the table is empty again (never-used slots, not tombstones) */
	for (uint32_t i = 1; i < VTEP_FLOOD_VNIS_MAX; i += 2)
		assert_int_equal(vtep_flood_del(t, i * 4099u % 0x1000000u, -1), 0);
	for (uint32_t i = 0; i < VTEP_FLOOD_VNIS_MAX / 2; i++)
		assert_int_equal(vtep_flood_del(t, 0x800000 + i, -1), 0);
	for (unsigned i = 0; i < VTEP_FLOOD_SLOTS; i++)
		assert_int_equal(atomic_load(&t->flood[i]), 0);
	vtep_destroy(t);
	free(t);
}

struct flood_race {
	struct vtep *t;
	atomic_bool stop;
	unsigned long reads, bad;
};

/* The reader: VNIs 1..64 always have a list, of mask 0x3 or 0x7; count any other answer. */
static void *flood_reader(void *arg)
{
	struct flood_race *r = arg;

	while (!atomic_load(&r->stop)) {
		for (uint32_t vni = 1; vni <= 64; vni++) {
			uint32_t m = vtep_flood_mask(r->t, vni);

			r->bad += m != 0x3 && m != 0x7;
			r->reads++;
		}
	}
	return NULL;
}

static void test_flood_race(void **state)
{
	struct flood_race r = { .t = malloc(sizeof(*r.t)) };
	pthread_t th;

	assert_int_equal(vtep_init(r.t, false), 0);
	for (uint32_t vni = 1; vni <= 64; vni++) {
		assert_int_equal(vtep_flood_add(r.t, vni, 0), 0);
		assert_int_equal(vtep_flood_add(r.t, vni, 1), 0);
	}
	assert_int_equal(pthread_create(&th, NULL, flood_reader, &r), 0);
	/* the writer: 900 other lists made and emptied around them (clusters, tombstones, their clearing), their masks changed */
	for (unsigned round = 0; round < 200; round++) {
		for (uint32_t i = 0; i < 900; i++)
			assert_int_equal(vtep_flood_add(r.t, 1000 + (round % 7) * 900 + i, i % 32), 0);
		for (uint32_t vni = 1; vni <= 64; vni++)
			assert_int_equal(round % 2 ? vtep_flood_del(r.t, vni, 2) : vtep_flood_add(r.t, vni, 2), 0);
		for (uint32_t i = 0; i < 900; i++)
			assert_int_equal(vtep_flood_del(r.t, 1000 + (round % 7) * 900 + i, -1), 0);
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	assert_true(r.reads > 0);
	assert_int_equal(r.bad, 0);
	vtep_destroy(r.t);
	free(r.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remotes),
		cmocka_unit_test(test_remote_freed),
		cmocka_unit_test(test_learn_lookup),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_static_full),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_flood_lists),
		cmocka_unit_test(test_flood_limit),
		cmocka_unit_test(test_flood_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
