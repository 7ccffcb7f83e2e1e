/* fdb.h - the MAC learning table: MAC address -> port, with aging; lock-free for the workers. */
#ifndef VSW_SWITCH_FDB_H
#define VSW_SWITCH_FDB_H

/*
 * A fixed array of buckets, 8 entries each, no allocation after init.
 * Each entry is one 64-bit word (MAC in bits 0-47, port + 1 in bits 48-63;
 * 0 = empty) so a lookup never sees a MAC with half of another's port, plus
 * a last-seen second.  Workers learn and look up concurrently with CAS and
 * relaxed loads; the control thread ages and flushes the same way.  A full
 * bucket gives up its oldest entry.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define FDB_BUCKETS 4096
#define FDB_WAYS 8
#define FDB_DEFAULT_AGING_S 300

struct fdb_bucket {
	_Atomic uint64_t key[FDB_WAYS];
	_Atomic uint32_t seen[FDB_WAYS];
};

struct fdb {
	unsigned aging_s;
	struct fdb_bucket buckets[FDB_BUCKETS];
};

struct fdb_entry {
	uint8_t mac[6];
	unsigned port;
	uint32_t age_s;
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

void fdb_init(struct fdb *f, unsigned aging_s);
/* Remember that @mac was seen behind @port at second @now. */
void fdb_learn(struct fdb *f, const uint8_t mac[6], unsigned port, uint32_t now);
/* The port behind @mac, or -1 when unknown or aged out. */
int fdb_lookup(struct fdb *f, const uint8_t mac[6], uint32_t now);
/* Drop entries older than the aging time; returns how many. */
unsigned fdb_age(struct fdb *f, uint32_t now);
/* Drop every entry of @port (port deleted or reconnected). */
void fdb_flush_port(struct fdb *f, unsigned port);
/* Copy up to @max live entries into @out; returns the count. */
unsigned fdb_dump(struct fdb *f, struct fdb_entry *out, unsigned max, uint32_t now);

#endif
