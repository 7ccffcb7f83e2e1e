/* fdb.h - the MAC learning table: MAC address -> port, with aging; lock-free for the workers. */
#ifndef VSW_SWITCH_FDB_H
#define VSW_SWITCH_FDB_H

/*
 * A fixed array of buckets, 8 entries each, no allocation after init.
 * Each entry is one 64-bit word so a lookup never sees a MAC with half of
 * another's port, plus a last-seen second:
 *
 *   63 ........ 49   48    47 ................................. 0
 *     port + 1      locked  MAC                (0 = empty entry)
 *
 * Workers learn and look up concurrently with CAS and relaxed loads; the
 * control thread ages and flushes the same way.  A full bucket gives up its
 * oldest learned entry.
 *
 * Hostile sources: the bucket of a MAC comes from a keyed hash whose keys
 * are drawn at startup (getrandom), so nobody outside can craft MACs that
 * share a victim's bucket and push it out.  Each port may own at most its
 * limit of learned entries (counted exactly: every change of an entry's
 * port is a successful CAS, and the counts follow it).  A locked entry
 * (a port's configured MAC) never ages (fdb_age() keeps its second
 * current, so lookups need not test the bit), is never evicted and never
 * moves: a frame from another port with that source is refused.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define FDB_BUCKETS 4096
#define FDB_WAYS 8
#define FDB_PORTS 4096		/* port numbers 0..4095 (PORT_MAX); an entry's 15-bit port field would take 32766 */
#define FDB_DEFAULT_AGING_S 300

struct fdb_bucket {
	_Atomic uint64_t key[FDB_WAYS];
	_Atomic uint32_t seen[FDB_WAYS];
};

struct fdb {
	unsigned aging_s;
	uint64_t hash_key[2];			/* random, drawn by fdb_init() */
	uint32_t port_limit[FDB_PORTS];		/* learned entries a port may own; 0 = no limit */
	_Atomic uint32_t port_entries[FDB_PORTS];	/* learned (not locked) entries each port owns */
	struct fdb_bucket buckets[FDB_BUCKETS];
};

struct fdb_entry {
	uint8_t mac[6];
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

/* An empty table with fresh random hash keys. */
void fdb_init(struct fdb *f, unsigned aging_s);
/* The bucket @mac falls in (tests, benchmarks). */
unsigned fdb_bucket_index(const struct fdb *f, const uint8_t mac[6]);
/* Remember that @mac was seen behind @port at second @now. */
enum fdb_learn_result fdb_learn(struct fdb *f, const uint8_t mac[6], unsigned port, uint32_t now);
/* The port behind @mac, or -1 when unknown or aged out. */
int fdb_lookup(struct fdb *f, const uint8_t mac[6], uint32_t now);
/* Drop learned entries older than the aging time; returns how many. */
unsigned fdb_age(struct fdb *f, uint32_t now);
/* Drop every entry of @port, locked ones too (port deleted or reconnected). */
void fdb_flush_port(struct fdb *f, unsigned port);
/* Copy up to @max live entries into @out; returns the count. */
unsigned fdb_dump(struct fdb *f, struct fdb_entry *out, unsigned max, uint32_t now);

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

#endif
