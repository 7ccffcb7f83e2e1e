/* switch.c - the learning bridge as the `normal` action: per batch, check, learn, look up, and decide (no tx). */
#include "switch/switch.h"

#include <string.h>
#include <time.h>

#include "packet/batch.h"
#include "lib/prefetch.h"
#include "switch/switch_sec.h"
#include "switch/switch_vlan.h"

_Static_assert(FDB_PORTS >= PORT_MAX, "the FDB keeps a count per port");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "fdb_mac() puts a MAC's first byte, and its group bit, in the word's low bits");

const char *const switch_counter_names[SWC__COUNT] = {
	[SWC_MAC_MOVES] = "mac_moves",
	[SWC_LEARN_LIMIT] = "learn_limit",
	[SWC_LEARN_BUSY] = "learn_busy",
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int switch_init(struct vswitch *sw, enum switch_mode mode, unsigned aging_s, unsigned fdb_size)
{
	sw->mode = mode;
	for (unsigned i = 0; i < PORT_MAX; i++)
		atomic_init(&sw->ports[i], NULL);
	memset(sw->lists, 0, sizeof(sw->lists)); /* no port: nothing counted in any VLAN */
	atomic_init(&sw->flood_list, &sw->lists[0]);
	sw->flood_budget = SWITCH_DEFAULT_FLOOD_BUDGET;
	atomic_init(&sw->now_s, 0);
	atomic_init(&sw->vlan_ports, 0);
	sw->clock_ns = monotonic_ns;
	memset(sw->sp, 0, sizeof(sw->sp));
	atomic_init(&sw->flows, NULL);
	return fdb_init(&sw->fdb, aging_s, fdb_size);
}

void switch_destroy(struct vswitch *sw)
{
	fdb_destroy(&sw->fdb);
}

void switch_port_set(struct vswitch *sw, unsigned slot, struct port *p)
{
	const struct switch_portlist *cur = atomic_load_explicit(&sw->flood_list, memory_order_relaxed);
	struct switch_portlist *next = cur == &sw->lists[0] ? &sw->lists[1] : &sw->lists[0];
	const struct switch_port_cfg *c = &sw->sp[slot].cfg;
	const uint16_t cls = switch_vlan_class(c); /* the slot's entry in vlan_of[], wherever it lands */
	bool placed = !p, was = false;

	/*
	 * The port first, then the list naming it: a worker that finds a slot
	 * in the list finds its port (or NULL, for a port on its way out, which
	 * it skips).  Release: the port's setup before it is seen.
	 */
	atomic_store_explicit(&sw->ports[slot], p, memory_order_release);
	next->n = 0;
	for (unsigned i = 0; i < cur->n; i++) {
		if (cur->slot[i] == slot) {
			was = true;
			continue;
		}
		if (!placed && cur->slot[i] > slot) {
			next->vlan_of[next->n] = cls;
			next->slot[next->n++] = (uint16_t)slot;
			placed = true;
		}
		next->vlan_of[next->n] = cur->vlan_of[i];
		next->slot[next->n++] = cur->slot[i];
	}
	if (!placed) {
		next->vlan_of[next->n] = cls;
		next->slot[next->n++] = (uint16_t)slot;
	}
	/*
	 * The VLAN counts: the other ports' as they were (their options do not
	 * change while they are published), this slot's out and, published,
	 * in again: O(its VLANs), not O(every port's).
	 */
	next->all_vlans = cur->all_vlans;
	memcpy(next->vlan_only, cur->vlan_only, sizeof(next->vlan_only));
	if (was)
		switch_vlan_list_count(next, c, false);
	if (p)
		switch_vlan_list_count(next, c, true);
	atomic_store_explicit(&sw->flood_list, next, memory_order_release);
}

/*
 * May @sp flood one more frame?  A token bucket kept as one word (GCRA):
 * the time the bucket is empty again; each frame pushes it one interval
 * on, and it may run at most flood_burst_ns ahead of now.  The clock is
 * read once per batch, at the first flood frame of a limited port.  Several
 * workers may serve one port's queues: the update is a CAS.
 */
static bool flood_admit(struct vswitch *sw, struct switch_port *sp, uint64_t *now_ns)
{
	uint64_t tat, next;

	if (!*now_ns)
		*now_ns = sw->clock_ns();
	tat = atomic_load_explicit(&sp->flood_tat_ns, memory_order_relaxed);
	do {
		uint64_t start = tat > *now_ns ? tat : *now_ns;

		if (start - *now_ns > sp->flood_burst_ns)
			return false;
		next = start + sp->flood_interval_ns;
	} while (!atomic_compare_exchange_weak_explicit(&sp->flood_tat_ns, &tat, next, memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

/* Learn @src (in bucket @bk) behind @in; false when the frame must not pass (its source is locked to another port). */
static bool learn(struct vswitch *sw, struct switch_port *sp, struct fdb_bucket *bk, uint64_t src, unsigned in,
		  uint32_t now)
{
	switch (fdb_learn_in(&sw->fdb, bk, src, in, now)) {
	case FDB_KNOWN:
	case FDB_ADDED:
		return true;
	case FDB_MOVED:
		atomic_fetch_add_explicit(&sp->counters[SWC_MAC_MOVES], 1, memory_order_relaxed);
		return true;
	case FDB_REFUSED_LIMIT:
		atomic_fetch_add_explicit(&sp->counters[SWC_LEARN_LIMIT], 1, memory_order_relaxed);
		return true;
	case FDB_REFUSED_FULL:
		return true; /* a bucket of locked entries: forwarded, not learned */
	case FDB_BUSY:
		/* Another thread held the bucket (a learner, aging, fdb show): forwarded, a later frame learns. */
		atomic_fetch_add_explicit(&sp->counters[SWC_LEARN_BUSY], 1, memory_order_relaxed);
		return true;
	case FDB_REFUSED_LOCKED:
		break;
	}
	return false;
}

/*
 * VLANs on the switch: each frame of @b from port @sp that no earlier check
 * dropped (with @checked, those whose verdict is PKT_DEST_UNSET) gets its
 * VLAN and PKT_DEST_UNSET, or a drop verdict (switch_vlan.h).
 */
static void vlan_classify(const struct switch_port *sp, struct pkt_batch *b, bool checked)
{
	b->vlan = true;
	for (unsigned i = 0; i < b->n; i++) {
		enum port_drop why = DROP_VLAN_DENIED; /* set by switch_vlan_ingress() when it refuses; gcc -flto cannot see that */

		if (checked && b->dest[i] != PKT_DEST_UNSET)
			continue; /* dropped by the security check */
		if (switch_vlan_ingress(sp, &b->pkts[i], &why))
			b->dest[i] = PKT_DEST_UNSET;
		else
			pkt_batch_drop(b, i, why);
	}
}

/* The VLAN ID the FDB files @p under: pkt.vlan's when VLANs are on, else its tag's (802.1Q), or 0. */
static inline unsigned fdb_vid(const struct pkt *p, bool vlans)
{
	const uint8_t *h = pkt_head(p);

	if (vlans)
		return SWITCH_VID(p->vlan);
	return pkt_vlan_tagged(p) ? ((unsigned)h[14] << 8 | h[15]) & 0xfffu : 0;
}

/*
 * The FDB buckets of the sources and destinations of frames [@from, @to)
 * of @b, into @sb and @db, each one's load started before the first is read: with a big table
 * each is a cache (often a TLB) miss, and asked for together they overlap
 * instead of queueing one behind the other.  Frames of a burst mostly
 * share addresses: a (VLAN, MAC) like the frame before's is not hashed
 * again.  What will not be learned or looked up (multicast: the group
 * bit, bit 0 of the word) is left out.  @sm and @dm get the addresses
 * with their VLAN as words (fdb_mac_vlan()).
 */
static void batch_buckets(const struct fdb *f, const struct pkt_batch *b, unsigned from, unsigned to, bool checked,
			  bool vlans, uint64_t *sm, uint64_t *dm, struct fdb_bucket **sb, struct fdb_bucket **db)
{
	uint64_t last_src = ~0ull, last_dst = ~0ull;
	struct fdb_bucket *s = NULL, *d = NULL;

	for (unsigned i = from; i < to; i++) {
		const struct pkt *p = &b->pkts[i];
		const uint8_t *h = pkt_head(p); /* the private copy (packet/pkt.h) */
		unsigned vid = fdb_vid(p, vlans);
		uint64_t src = fdb_mac_vlan(fdb_mac(h + 6), vid), dst = fdb_mac_vlan(fdb_mac(h), vid);

		sm[i] = src;
		dm[i] = dst;
		if (checked && b->dest[i] != PKT_DEST_UNSET)
			continue; /* dropped by the check */
		if (!(src & 1) && src != last_src) {
			last_src = src;
			s = fdb_bucket_of(f, last_src);
			prefetch_r(s);
		}
		if (!(dst & 1) && dst != last_dst) {
			last_dst = dst;
			d = fdb_bucket_of(f, last_dst);
			prefetch_r(d);
		}
		sb[i] = s;
		db[i] = d;
	}
}

/*
 * How many frames at the head of @b carry frame 0's MACs and EtherType
 * (its first 14 bytes, as two overlapping words), frame 0 included; 1
 * when frame 0 has an 802.1Q tag (so that none of the run has: the FDB
 * files them all under VLAN 0).  Frame 0's verdict is the run's (see
 * switch_decide()): a burst from one guest is mostly one pair of MACs,
 * whatever its L4 flows, and ~8 instructions a frame here replace the
 * ~45 of the per-frame memos below (callgrind, vsw-bench through vswd).
 */
static unsigned batch_head_run(const struct pkt_batch *b)
{
	const uint8_t *h0 = pkt_head(&b->pkts[0]);
	uint64_t a0, c0;
	unsigned i;

	if ((h0[12] << 8 | h0[13]) == PKT_TPID_8021Q)
		return 1;
	memcpy(&a0, h0, 8);
	memcpy(&c0, h0 + 6, 8);
	for (i = 1; i < b->n; i++) {
		const uint8_t *h = pkt_head(&b->pkts[i]);
		uint64_t a, c;

		memcpy(&a, h, 8);
		memcpy(&c, h + 6, 8);
		if ((a ^ a0) | (c ^ c0))
			break;
	}
	return i;
}

void switch_decide(struct vswitch *sw, struct pkt_batch *b)
{
	struct port *in = b->in;
	struct switch_port *sp = &sw->sp[in->id];
	uint32_t now = atomic_load_explicit(&sw->now_s, memory_order_relaxed);
	/* Frames of a burst mostly share addresses: remember the last source learned, destination and its verdict. */
	uint64_t learned = ~0ull, looked_up = ~0ull, now_ns = 0;
	uint16_t looked_up_v = PKT_DEST_FLOOD;
	bool secured = sp->secured;
	/* VLANs on the data path: one load a batch (a switch without VLAN options pays nothing else). */
	bool vlans = atomic_load_explicit(&sw->vlan_ports, memory_order_relaxed) != 0;
	bool checked = secured || vlans;	/* frames that pass a check have PKT_DEST_UNSET, the rest a drop */
	/* Verdicts and their counts in locals: the FDB calls would otherwise make the counts round-trip memory. */
	uint16_t *dest = b->dest;
	unsigned n_out = 0, n_flood = 0, n_drop = 0;
	struct fdb_bucket *sb[PKT_BURST], *db[PKT_BURST];
	/* The port's bits of its learned entries' keys, in its generation now (fdb_make_key()). */
	uint64_t key_port = fdb_make_key(&sw->fdb, 0, in->id, fdb_port_gen(&sw->fdb, in->id));
	uint64_t sm[PKT_BURST], dm[PKT_BURST];

	b->vlan = false;
	if (checked) { /* separate passes, chosen once per batch: other ports pay nothing */
		b->n_drop = 0;
		if (secured)
			switch_sec_check(sp, b);
		if (vlans)
			vlan_classify(sp, b, secured);
		n_drop = b->n_drop;
	}
	if (sw->mode == SWITCH_HUB) {
		for (unsigned i = 0; i < b->n; i++) {
			if (checked && dest[i] != PKT_DEST_UNSET)
				continue; /* dropped by the check */
			dest[i] = PKT_DEST_FLOOD;
			n_flood++;
		}
		b->n_out = 0;
		b->n_flood = n_flood;
		b->n_drop = n_drop;
		return;
	}
	/*
	 * A run of one head at the batch's start (batch_head_run()) and no
	 * checks: frame 0 goes through the loop, the run's other frames take
	 * its verdict, and the loop goes on after the run.  Unless frame 0's
	 * verdict was a flood under a flood rate (each frame asks
	 * flood_admit()): then the loop goes on after frame 0.  Either way the
	 * memos hold frame 0's source and destination, and learning and lookup
	 * are the same as the loop's for the run (its memos skip both for a
	 * frame of the addresses of the one before).
	 */
	unsigned run = !checked && b->n > 1 ? batch_head_run(b) : 1;
	unsigned from = 0, to = run > 1 ? 1 : b->n;

again:
	batch_buckets(&sw->fdb, b, from, to, checked, vlans, sm, dm, sb, db);
	for (unsigned i = from; i < to; i++) {
		uint64_t src, dst;
		uint16_t v;

		if (checked && dest[i] != PKT_DEST_UNSET)
			continue; /* dropped by the check */
		/*
		 * A multicast source address is invalid: never learn it.  A source
		 * locked to another port is not remembered as learned, so each of
		 * its frames comes back here and is dropped.
		 */
		src = sm[i];
		dst = dm[i];
		if (!(src & 1) && src != learned) {
			/* A known source seen lately: loads and compares, nothing written (fdb_learn_fresh()). */
			if (!fdb_learn_fresh(&sw->fdb, sb[i], fdb_key_mac(&sw->fdb, src) | key_port, (uint32_t)(src >> 48),
					     now)) {
				if (!learn(sw, sp, sb[i], src, in->id, now)) {
					dest[i] = PKT_DEST_DROP_WHY(DROP_MAC_LOCKED);
					n_drop++;
					continue;
				}
				looked_up = ~0ull; /* what we just learned may be a destination */
			}
			learned = src;
		}
		if (dst == looked_up) {
			v = looked_up_v;
		} else {
			int out = dst & 1 ? -1 : fdb_lookup_in(&sw->fdb, db[i], dst, now);

			/* A port that no longer carries the VLAN (its options changed) is no destination in it: flood within it. */
			if (vlans && out >= 0 && !switch_vlan_carries(&sw->sp[out], (unsigned)(dst >> 48) & 0xfffu))
				out = -1;
			if (out < 0 || !atomic_load_explicit(&sw->ports[out], memory_order_acquire))
				v = PKT_DEST_FLOOD;
			else if ((unsigned)out == in->id)
				v = PKT_DEST_DROP_WHY(DROP_NO_DESTINATION); /* behind the port it came from: filtered */
			else
				v = (uint16_t)out;
			looked_up = dst;
			looked_up_v = v;
		}
		if (v == PKT_DEST_FLOOD) {
			if (sp->flood_interval_ns && !flood_admit(sw, sp, &now_ns)) {
				dest[i] = PKT_DEST_DROP_WHY(DROP_FLOOD_RATE);
				n_drop++;
			} else {
				dest[i] = PKT_DEST_FLOOD;
				n_flood++;
			}
		} else {
			dest[i] = v;
			if (v == PKT_DEST_DROP_WHY(DROP_NO_DESTINATION))
				n_drop++;
			else
				n_out++;
		}
	}
	if (to < b->n) {
		uint16_t v = dest[0];

		from = 1;
		if (v == PKT_DEST_FLOOD ? !sp->flood_interval_ns : v != PKT_DEST_DROP_WHY(DROP_FLOOD_RATE)) {
			/*
			 * The whole array, a fixed size (a few vector stores, where
			 * a loop to run was ~4 instructions a frame): the loop,
			 * run again from run on, writes every verdict after the
			 * run, and none past b->n is read.
			 */
			for (unsigned i = 0; i < PKT_BURST; i++)
				dest[i] = v;
			if (v == PKT_DEST_FLOOD)
				n_flood += run - 1;
			else if (pkt_dest_is_drop(v))
				n_drop += run - 1;
			else
				n_out += run - 1;
			from = run;
		}
		to = b->n;
		if (from < to)
			goto again;
	}
	b->n_out = n_out;
	b->n_flood = n_flood;
	b->n_drop = n_drop;
}
