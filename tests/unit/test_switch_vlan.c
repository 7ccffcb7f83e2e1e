/* test_switch_vlan.c - unit tests of VLANs on ports: options, per-VLAN learning, flooding within a VLAN, tags per egress port. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ctl/port_opts.h"
#include "dp/dp.h"
#include "dp/pipeline.h"
#include "switch/fdb.h"
#include "switch/switch.h"
#include "switch/switch_vlan.h"
#include "../lib/zalloc.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0xc };
static const uint8_t MAC_T[6] = { 0x02, 0, 0, 0, 0, 0x7 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define NPORTS 5
#define FRAME_MAX 512

/* A port that keeps a copy of the last frame the switch sent it, as a real port's tx would copy it. */
struct fake_port {
	struct port port;
	unsigned got;
	uint8_t last[FRAME_MAX];
	uint32_t last_len;
};

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct fake_port *f = (struct fake_port *)p;

	assert_true(n > 0); /* the datapath never hands a port an empty burst */
	f->got += n;
	f->last_len = (uint32_t)pkt_to_buf(pkts[n - 1], f->last, sizeof(f->last));
	assert_int_equal(f->last_len, pkts[n - 1]->len);
}

static const struct port_ops fake_ops = { .type = "fake", .tx_burst = fake_tx_burst };

struct fx {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct fake_port ports[NPORTS];
};

static int parse(const char *json, struct switch_port_cfg *c, char *err, size_t errlen)
{
	struct json_object *o = json_tokener_parse(json);
	int rc;

	assert_non_null(o);
	rc = port_opts_parse(o, c, err, errlen);
	json_object_put(o);
	return rc;
}

/* A switch of NPORTS ports, port i with the options @opts[i] (JSON, as a config entry spells them). */
static struct fx *fx_new(const char *const opts[NPORTS])
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256] = "";

	f->sw = malloc(sizeof(*f->sw));
	f->ctx = zalloc64(sizeof(*f->ctx));
	assert_int_equal(switch_init(f->sw, SWITCH_LEARNING, 300, 4096), 0);
	for (unsigned i = 0; i < NPORTS; i++) {
		struct switch_port_cfg c;

		assert_int_equal(parse(opts[i], &c, err, sizeof(err)), 0);
		assert_int_equal(switch_port_attach(f->sw, i, &c, err, sizeof(err)), 0);
		f->ports[i].port.id = i;
		f->ports[i].port.ops = &fake_ops;
		switch_port_set(f->sw, i, &f->ports[i].port);
	}
	return f;
}

static void fx_free(struct fx *f)
{
	for (unsigned i = 0; i < NPORTS; i++)
		switch_port_detach(f->sw, i);
	assert_int_equal(atomic_load(&f->sw->vlan_ports), 0);
	switch_destroy(f->sw);
	free(f->sw);
	free(f->ctx);
	free(f);
}

static void clear(struct fx *f)
{
	for (unsigned i = 0; i < NPORTS; i++) {
		f->ports[i].got = 0;
		f->ports[i].last_len = 0;
	}
}

static uint64_t drops(struct fx *f, unsigned port, enum port_drop why)
{
	return atomic_load(&f->ports[port].port.stats.drops[why]);
}

/*
 * A frame of @len bytes from @src to @dst, tagged with @tci when @tagged,
 * then an IPv4 ethertype and a byte pattern, into @buf (the tests compare
 * what comes out against the same frame built with another tag).
 */
static uint32_t frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], bool tagged, uint16_t tci,
		      uint32_t len)
{
	uint32_t off = 12;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (tagged) {
		buf[off++] = 0x81;
		buf[off++] = 0x00;
		buf[off++] = (uint8_t)(tci >> 8);
		buf[off++] = (uint8_t)tci;
		len += 4;
	}
	buf[off++] = 0x08;
	buf[off++] = 0x00;
	for (uint32_t i = off; i < len; i++)
		buf[i] = (uint8_t)(i - off + 0x11);
	return len;
}

/* The frame @buf of @len bytes into the switch from port @in, a view of it as a guest buffer would be. */
static void send_buf(struct fx *f, unsigned in, uint8_t *buf, uint32_t len)
{
	struct iovec iov[2] = { { .iov_base = buf, .iov_len = len / 2 }, { .iov_base = buf + len / 2, .iov_len = len - len / 2 } };
	struct pkt p;

	pkt_rx_init(&p, iov, 2, len, in);
	dp_round_start(f->ctx, 1);
	dp_forward(f->sw, f->ctx, &f->ports[in].port, &p, 1);
}

/* Send a frame of @len payload bytes; tagged with @tci when @tagged. */
static void send(struct fx *f, unsigned in, const uint8_t dst[6], const uint8_t src[6], bool tagged, uint16_t tci,
		 uint32_t len)
{
	uint8_t buf[FRAME_MAX];

	clear(f);
	send_buf(f, in, buf, frame(buf, dst, src, tagged, tci, len));
}

/* Port @port got exactly one frame, equal to the frame from @src to @dst with (or without) tag @tci. */
static void got_frame(struct fx *f, unsigned port, const uint8_t dst[6], const uint8_t src[6], bool tagged,
		      uint16_t tci, uint32_t len)
{
	uint8_t want[FRAME_MAX];
	uint32_t n = frame(want, dst, src, tagged, tci, len);

	assert_int_equal(f->ports[port].got, 1);
	assert_int_equal(f->ports[port].last_len, n);
	assert_memory_equal(f->ports[port].last, want, n);
}

static void got_nothing(struct fx *f, unsigned port)
{
	assert_int_equal(f->ports[port].got, 0);
}

/*
 * Ports: 0, 1 access VLAN 10; 2 access VLAN 20; 3 a trunk of 10 and 20;
 * 4 a plain port (a trunk of every VLAN).
 */
static const char *const TENANTS[NPORTS] = {
	"{\"tag\":10}", "{\"tag\":10}", "{\"tag\":20}", "{\"trunks\":\"10,20\"}", "{}",
};

/* Two tenants on access ports: a broadcast stays in its VLAN, untagged on access ports and tagged on trunks. */
static void test_vlan_access_flood_stays_in_vlan(void **state)
{
	struct fx *f = fx_new(TENANTS);

	/* A 200-byte frame: the head (128 bytes) and the view's rest both go out. */
	send(f, 0, BCAST, MAC_A, false, 0, 200);
	got_frame(f, 1, BCAST, MAC_A, false, 0, 200);
	got_nothing(f, 2);
	got_frame(f, 3, BCAST, MAC_A, true, 10, 200);
	got_frame(f, 4, BCAST, MAC_A, true, 10, 200);

	send(f, 2, BCAST, MAC_C, false, 0, 60);
	got_nothing(f, 0);
	got_nothing(f, 1);
	got_frame(f, 3, BCAST, MAC_C, true, 20, 60);
	got_frame(f, 4, BCAST, MAC_C, true, 20, 60);
	fx_free(f);
}

/* Learning is per VLAN: a MAC known in VLAN 10 is unknown in VLAN 20, and a tenant cannot reach the other. */
static void test_vlan_tenants_isolated(void **state)
{
	struct fx *f = fx_new(TENANTS);

	send(f, 0, BCAST, MAC_A, false, 0, 60); /* A learned in VLAN 10 on port 0 */
	send(f, 1, MAC_A, MAC_B, false, 0, 60);
	got_frame(f, 0, MAC_A, MAC_B, false, 0, 60);
	for (unsigned i = 2; i < NPORTS; i++)
		got_nothing(f, i); /* unicast: only A's port */

	/* From VLAN 20 to A: unknown there, flooded in VLAN 20 only (never to ports 0 and 1). */
	send(f, 2, MAC_A, MAC_C, false, 0, 60);
	got_nothing(f, 0);
	got_nothing(f, 1);
	got_frame(f, 3, MAC_A, MAC_C, true, 20, 60);
	assert_int_equal(fdb_lookup_in(&f->sw->fdb, fdb_bucket_of(&f->sw->fdb, fdb_mac_vlan(fdb_mac(MAC_A), 10)),
				       fdb_mac_vlan(fdb_mac(MAC_A), 10), 0),
			 0);
	assert_int_equal(fdb_lookup_in(&f->sw->fdb, fdb_bucket_of(&f->sw->fdb, fdb_mac_vlan(fdb_mac(MAC_A), 20)),
				       fdb_mac_vlan(fdb_mac(MAC_A), 20), 0),
			 -1);

	/* The same MAC in VLAN 20 behind port 2: its own entry; VLAN 10's still goes to port 0. */
	send(f, 2, BCAST, MAC_A, false, 0, 60);
	send(f, 3, MAC_A, MAC_B, true, 20, 60);
	got_frame(f, 2, MAC_A, MAC_B, false, 0, 60);
	got_nothing(f, 0);
	send(f, 3, MAC_A, MAC_B, true, 10, 60);
	got_frame(f, 0, MAC_A, MAC_B, false, 0, 60);
	got_nothing(f, 2);
	fx_free(f);
}

/* A trunk's tagged frames go to access ports untagged, and a unicast reply goes back tagged. */
static void test_vlan_trunk_to_access(void **state)
{
	struct fx *f = fx_new(TENANTS);

	send(f, 3, BCAST, MAC_T, true, 10, 200);
	got_frame(f, 0, BCAST, MAC_T, false, 0, 200);
	got_frame(f, 1, BCAST, MAC_T, false, 0, 200);
	got_nothing(f, 2);
	got_frame(f, 4, BCAST, MAC_T, true, 10, 200);
	send(f, 0, MAC_T, MAC_A, false, 0, 60);
	got_frame(f, 3, MAC_T, MAC_A, true, 10, 60);
	got_nothing(f, 4);
	/* The priority of a tagged frame survives the trunk: PCP 5 in, PCP 5 out. */
	send(f, 3, BCAST, MAC_T, true, 0xa014, 60);
	got_frame(f, 2, BCAST, MAC_T, false, 0, 60);
	got_frame(f, 4, BCAST, MAC_T, true, 0xa014, 60);
	fx_free(f);
}

/* Drops by reason: a tag on an access port, a VLAN a trunk does not carry, untagged on such a trunk, VID 4095. */
static void test_vlan_ingress_drops(void **state)
{
	struct fx *f = fx_new(TENANTS);

	send(f, 0, BCAST, MAC_A, true, 10, 60); /* OVS: dropped even with the port's own VLAN */
	assert_int_equal(drops(f, 0, DROP_VLAN_TAGGED), 1);
	send(f, 3, BCAST, MAC_T, true, 30, 60);
	assert_int_equal(drops(f, 3, DROP_VLAN_DENIED), 1);
	send(f, 3, BCAST, MAC_T, false, 0, 60); /* VLAN 0, not in trunks=10,20 */
	assert_int_equal(drops(f, 3, DROP_VLAN_DENIED), 2);
	send(f, 4, BCAST, MAC_T, true, 0xfff, 60);
	assert_int_equal(drops(f, 4, DROP_VLAN_DENIED), 1);
	for (unsigned i = 0; i < NPORTS; i++)
		assert_int_equal(f->ports[i].got, 0);

	/* Priority-tagged (VID 0) on an access port: in its VLAN, the priority kept where it is sent tagged. */
	send(f, 0, BCAST, MAC_A, true, 0xa000, 60);
	assert_int_equal(drops(f, 0, DROP_VLAN_TAGGED), 1);
	got_frame(f, 1, BCAST, MAC_A, false, 0, 60);
	got_frame(f, 3, BCAST, MAC_A, true, 0xa00a, 60);
	fx_free(f);
}

/* native-untagged and native-tagged: untagged ingress is the native VLAN; its egress form is the mode's. */
static void test_vlan_native(void **state)
{
	static const char *const opts[NPORTS] = {
		"{\"tag\":10}", "{\"tag\":20}", "{\"vlan_mode\":\"native-untagged\",\"tag\":10,\"trunks\":[20]}",
		"{\"vlan_mode\":\"native-tagged\",\"tag\":10,\"trunks\":\"20\"}", "{\"tag\":30}",
	};
	struct fx *f = fx_new(opts);

	send(f, 2, BCAST, MAC_T, false, 0, 60); /* native VLAN 10 */
	got_frame(f, 0, BCAST, MAC_T, false, 0, 60);
	got_nothing(f, 1);
	got_frame(f, 3, BCAST, MAC_T, true, 10, 60);
	got_nothing(f, 4);

	send(f, 0, BCAST, MAC_A, false, 0, 60);
	got_frame(f, 2, BCAST, MAC_A, false, 0, 60); /* native-untagged: VLAN 10 leaves untagged */
	got_frame(f, 3, BCAST, MAC_A, true, 10, 60);

	send(f, 1, BCAST, MAC_B, false, 0, 60);
	got_frame(f, 2, BCAST, MAC_B, true, 20, 60); /* another trunked VLAN: tagged */
	got_frame(f, 3, BCAST, MAC_B, true, 20, 60);
	got_nothing(f, 0);

	send(f, 3, BCAST, MAC_C, true, 30, 60); /* not trunked */
	assert_int_equal(drops(f, 3, DROP_VLAN_DENIED), 1);
	fx_free(f);
}

/* Without any VLAN option frames pass as they came, and the FDB still keeps VLANs apart. */
static void test_vlan_off_transparent(void **state)
{
	static const char *const opts[NPORTS] = { "{}", "{}", "{}", "{}", "{}" };
	struct fx *f = fx_new(opts);

	assert_int_equal(atomic_load(&f->sw->vlan_ports), 0);
	send(f, 0, BCAST, MAC_A, true, 10, 60);
	got_frame(f, 1, BCAST, MAC_A, true, 10, 60);
	send(f, 1, BCAST, MAC_A, true, 20, 60);
	send(f, 2, MAC_A, MAC_B, true, 10, 60);
	got_frame(f, 0, MAC_A, MAC_B, true, 10, 60);
	got_nothing(f, 1);
	got_nothing(f, 3);
	send(f, 2, MAC_A, MAC_B, true, 20, 60);
	got_frame(f, 1, MAC_A, MAC_B, true, 20, 60);
	got_nothing(f, 0);
	fx_free(f);
}

/*
 * One batch from the trunk mixing VLANs, floods and a unicast: each port
 * gets the frames of its VLANs only, each in its form, in batch order
 * (the groups filtered in place, the flood list per port).
 */
static void test_vlan_mixed_batch(void **state)
{
	struct fx *f = fx_new(TENANTS);
	uint8_t bufs[5][FRAME_MAX];
	struct iovec iov[5];
	struct pkt *p = zalloc64(5 * sizeof(*p));
	uint32_t len[5];

	send(f, 0, BCAST, MAC_A, false, 0, 60); /* A learned in VLAN 10 on port 0 */
	clear(f);
	len[0] = frame(bufs[0], BCAST, MAC_T, true, 10, 60);
	len[1] = frame(bufs[1], BCAST, MAC_T, true, 20, 60);
	len[2] = frame(bufs[2], MAC_A, MAC_T, true, 10, 60);
	len[3] = frame(bufs[3], BCAST, MAC_T, true, 30, 60); /* not trunked: dropped */
	len[4] = frame(bufs[4], BCAST, MAC_T, true, 20, 100);
	for (unsigned i = 0; i < 5; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = len[i] };
		pkt_rx_init(&p[i], &iov[i], 1, len[i], 3);
	}
	dp_round_start(f->ctx, 1);
	dp_forward(f->sw, f->ctx, &f->ports[3].port, p, 5);
	assert_int_equal(drops(f, 3, DROP_VLAN_DENIED), 1);
	assert_int_equal(f->ports[0].got, 2); /* the VLAN 10 flood and the unicast, untagged */
	assert_int_equal(f->ports[0].last_len, 60);
	assert_memory_equal(f->ports[0].last, MAC_A, 6);
	assert_int_equal(f->ports[1].got, 1); /* the VLAN 10 flood */
	assert_int_equal(f->ports[2].got, 2); /* the VLAN 20 floods, untagged */
	assert_int_equal(f->ports[2].last_len, 100);
	assert_int_equal(f->ports[3].got, 0);
	got_nothing(f, 3);
	assert_int_equal(f->ports[4].got, 3); /* every flood, tagged */
	assert_int_equal(f->ports[4].last_len, 104);
	assert_int_equal(f->ports[4].last[15], 20);
	free(p);
	fx_free(f);
}

/* A hub floods within the VLAN too. */
static void test_vlan_hub(void **state)
{
	struct fx *f = fx_new(TENANTS);

	f->sw->mode = SWITCH_HUB;
	send(f, 0, MAC_B, MAC_A, false, 0, 60);
	got_frame(f, 1, MAC_B, MAC_A, false, 0, 60);
	got_nothing(f, 2);
	got_frame(f, 3, MAC_B, MAC_A, true, 10, 60);
	send(f, 0, MAC_B, MAC_A, true, 20, 60);
	assert_int_equal(drops(f, 0, DROP_VLAN_TAGGED), 1);
	fx_free(f);
}

/* The FDB's (VLAN, MAC) keys: the same MAC in two VLANs is two entries, dumped with their VLANs; locks too. */
static void test_fdb_vlan_keys(void **state)
{
	struct fdb *t = malloc(sizeof(*t));
	struct fdb_entry e[4];
	uint64_t m = fdb_mac(MAC_A), a10 = fdb_mac_vlan(m, 10), a20 = fdb_mac_vlan(m, 20);
	uint64_t b10 = fdb_mac_vlan(fdb_mac(MAC_B), 10), b20 = fdb_mac_vlan(fdb_mac(MAC_B), 20);
	unsigned owner = 0, n;

	assert_int_equal(fdb_init(t, 300, 4096), 0);
	assert_int_equal(fdb_learn_in(t, fdb_bucket_of(t, a10), a10, 1, 100), FDB_ADDED);
	assert_int_equal(fdb_learn_in(t, fdb_bucket_of(t, a20), a20, 2, 100), FDB_ADDED);
	assert_int_equal(fdb_learn_in(t, fdb_bucket_of(t, a20), a20, 2, 101), FDB_KNOWN);
	assert_int_equal(fdb_lookup_in(t, fdb_bucket_of(t, a10), a10, 101), 1);
	assert_int_equal(fdb_lookup_in(t, fdb_bucket_of(t, a20), a20, 101), 2);
	assert_int_equal(fdb_lookup(t, MAC_A, 101), -1); /* VLAN 0 */
	n = fdb_dump(t, e, 4, 101, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].vlan + e[1].vlan, 30);
	assert_int_equal(e[0].vlan == 10 ? e[0].port : e[1].port, 1);
	assert_int_equal(fdb_port_entries(t, 1), 1);
	assert_int_equal(fdb_port_entries(t, 2), 1);
	/* Moving within a VLAN moves that entry only. */
	assert_int_equal(fdb_learn_in(t, fdb_bucket_of(t, a10), a10, 3, 102), FDB_MOVED);
	assert_int_equal(fdb_lookup_in(t, fdb_bucket_of(t, a20), a20, 102), 2);
	assert_int_equal(fdb_port_entries(t, 1), 0);
	/* Aging is per entry, and seconds wrap around 2^20 without aging anything early. */
	assert_int_equal(fdb_age(t, 100 + 300), 0); /* a20 is of 100: at 101 it was fresh, not written again */
	assert_int_equal(fdb_age(t, 103 + 300), 2);
	assert_int_equal(fdb_learn_in(t, fdb_bucket_of(t, a10), a10, 1, (1u << 20) - 1), FDB_ADDED);
	assert_int_equal(fdb_lookup_in(t, fdb_bucket_of(t, a10), a10, (1u << 20) + 5), 1);
	assert_int_equal(fdb_age(t, (1u << 20) + 5), 0);
	/* Locks are per (VLAN, MAC): port 4's MAC in VLAN 10 is refused to port 5 there, not in VLAN 20. */
	assert_int_equal(fdb_lock_vlan(t, MAC_B, 10, 4, 200, &owner), 0);
	assert_int_equal(fdb_lock_vlan(t, MAC_B, 10, 5, 200, &owner), -EEXIST);
	assert_int_equal(owner, 4);
	assert_int_equal(fdb_learn_in(t, fdb_bucket_of(t, b10), b10, 5, 200), FDB_REFUSED_LOCKED);
	assert_int_equal(fdb_learn_in(t, fdb_bucket_of(t, b20), b20, 5, 200), FDB_ADDED);
	assert_int_equal(fdb_lookup_in(t, fdb_bucket_of(t, b10), b10, 200), 4);
	assert_int_equal(fdb_lookup_in(t, fdb_bucket_of(t, b20), b20, 200), 5);
	fdb_destroy(t);
	free(t);
}

enum { RACE_MACS = 64, RACE_ROUNDS = 20000 };

struct race {
	struct fdb *t;
	unsigned vid, port;
	atomic_bool stop;
	atomic_uint wrong;
	atomic_uint passes;	/* race_learner_until: whole passes over the MAC set */
};

static uint64_t race_mac(unsigned i)
{
	uint8_t m[6] = { 0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };

	return fdb_mac(m);
}

/* Learn every MAC of the set in one VLAN on one port, over and over, the seconds moving on (evictions, refreshes). */
static void *race_learner(void *arg)
{
	struct race *r = arg;

	for (unsigned round = 0; round < RACE_ROUNDS / 10; round++)
		for (unsigned i = 0; i < RACE_MACS; i++) {
			uint64_t mv = fdb_mac_vlan(race_mac(i), r->vid);

			fdb_learn_in(r->t, fdb_bucket_of(r->t, mv), mv, r->port, round / 50);
		}
	return NULL;
}

/*
 * Two workers learn the same MACs, one in VLAN 10 behind port 1, the
 * other in VLAN 20 behind port 2, into a table too small for them (ways
 * evicted and refilled under the lookups); a lookup in VLAN 10 must never
 * say port 2, nor one in VLAN 20 port 1; the ports' counts match the
 * table at the end.
 */
static void test_fdb_vlan_race(void **state)
{
	struct fdb *t = malloc(sizeof(*t));
	struct race a = { .vid = 10, .port = 1 }, b = { .vid = 20, .port = 2 };
	struct fdb_entry *e = calloc(1024, sizeof(*e));
	pthread_t ta, tb;
	unsigned wrong = 0, n, live, per[3] = { 0 };

	assert_int_equal(fdb_init(t, 300, FDB_SIZE_MIN), 0);
	a.t = b.t = t;
	assert_int_equal(pthread_create(&ta, NULL, race_learner, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, race_learner, &b), 0);
	for (unsigned round = 0; round < RACE_ROUNDS; round++)
		for (unsigned i = 0; i < RACE_MACS; i += 7) {
			uint64_t m10 = fdb_mac_vlan(race_mac(i), 10), m20 = fdb_mac_vlan(race_mac(i), 20);
			int p10 = fdb_lookup_in(t, fdb_bucket_of(t, m10), m10, RACE_ROUNDS / 500);
			int p20 = fdb_lookup_in(t, fdb_bucket_of(t, m20), m20, RACE_ROUNDS / 500);

			wrong += (p10 != -1 && p10 != 1) + (p20 != -1 && p20 != 2);
		}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(wrong, 0);
	n = fdb_dump(t, e, 1024, RACE_ROUNDS / 500, &live);
	assert_int_equal(n, live);
	for (unsigned i = 0; i < n; i++) {
		assert_true(e[i].port == 1 || e[i].port == 2);
		assert_int_equal(e[i].vlan, e[i].port == 1 ? 10 : 20);
		per[e[i].port]++;
	}
	assert_true(per[1] > 0 && per[2] > 0);
	assert_int_equal(fdb_port_entries(t, 1), per[1]);
	assert_int_equal(fdb_port_entries(t, 2), per[2]);
	print_message("race: %u entries in VLAN 10, %u in VLAN 20 (of %u MACs each)\n", per[1], per[2], RACE_MACS);
	free(e);
	fdb_destroy(t);
	free(t);
}

/* Learn every MAC of the set in one VLAN on one port until told to stop (the second: 10). */
static void *race_learner_until(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		for (unsigned i = 0; i < RACE_MACS; i++) {
			uint64_t mv = fdb_mac_vlan(race_mac(i), r->vid);

			fdb_learn_in(r->t, fdb_bucket_of(r->t, mv), mv, r->port, 10);
		}
		atomic_fetch_add(&r->passes, 1);
	}
	return NULL;
}

/*
 * Two learners as above while the control thread flushes port 1 over and
 * over (each flush moves its generation on; now and then every
 * generation is in use and a flush walks) and ages the table (which
 * reclaims what the flushes left): a lookup never says another VLAN's
 * port, and at the end the ports' counts are exactly their live entries:
 * a learner's reservation that raced a flush counted in the generation its
 * entry holds, or in none.
 */
static void test_fdb_flush_race(void **state)
{
	struct fdb *t = malloc(sizeof(*t));
	struct race a = { .vid = 10, .port = 1 }, b = { .vid = 20, .port = 2 };
	struct fdb_entry *e = calloc(1024, sizeof(*e));
	pthread_t ta, tb;
	unsigned wrong = 0, n, live, per[3] = { 0 }, flushes = 0;

	assert_int_equal(fdb_init(t, 300, FDB_SIZE_MIN), 0);
	a.t = b.t = t;
	assert_int_equal(pthread_create(&ta, NULL, race_learner_until, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, race_learner_until, &b), 0);
	for (unsigned round = 0; round < RACE_ROUNDS; round++) {
		for (unsigned i = 0; i < RACE_MACS; i += 7) {
			uint64_t m10 = fdb_mac_vlan(race_mac(i), 10), m20 = fdb_mac_vlan(race_mac(i), 20);
			int p10 = fdb_lookup_in(t, fdb_bucket_of(t, m10), m10, 10);
			int p20 = fdb_lookup_in(t, fdb_bucket_of(t, m20), m20, 10);

			wrong += (p10 != -1 && p10 != 1) + (p20 != -1 && p20 != 2);
		}
		if (round % 16 == 0) {
			fdb_flush_port(t, 1);
			flushes++;
		}
		if (round % 64 == 32)
			fdb_age(t, 10);
	}
	/*
	 * On a loaded machine a learner may not have run yet: give each one
	 * whole pass (bounded, 10 s), so that port 2's entries are there.
	 */
	for (unsigned ms = 0; ms < 10000 && !(atomic_load(&a.passes) && atomic_load(&b.passes)); ms++)
		usleep(1000);
	atomic_store(&a.stop, true);
	atomic_store(&b.stop, true);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(wrong, 0);
	n = fdb_dump(t, e, 1024, 10, &live);
	assert_int_equal(n, live);
	for (unsigned i = 0; i < n; i++) {
		assert_true(e[i].port == 1 || e[i].port == 2);
		assert_int_equal(e[i].vlan, e[i].port == 1 ? 10 : 20);
		per[e[i].port]++;
	}
	assert_true(per[2] > 0);
	assert_int_equal(fdb_port_entries(t, 1), per[1]);
	assert_int_equal(fdb_port_entries(t, 2), per[2]);
	print_message("flush race: %u flushes (%u walked), %u entries of port 1 and %u of port 2 at the end\n", flushes,
		      t->flush_walks, per[1], per[2]);
	free(e);
	fdb_destroy(t);
	free(t);
}

/* Learn the MACs race_mac(first .. first + RACE_MACS - 1) in one VLAN on one port, all in one second, until told to stop. */
struct race_same {
	struct race r;
	unsigned first;
};

static void *race_learner_second(void *arg)
{
	struct race_same *rs = arg;

	while (!atomic_load(&rs->r.stop)) {
		for (unsigned i = 0; i < RACE_MACS; i++) {
			uint64_t mv = fdb_mac_vlan(race_mac(rs->first + i), rs->r.vid);

			fdb_learn_in(rs->r.t, fdb_bucket_of(rs->r.t, mv), mv, rs->r.port, 10);
		}
		atomic_fetch_add(&rs->r.passes, 1);
	}
	return NULL;
}

/*
 * Two learners in one VLAN (10, ports 1 and 3, MACs of their own) and one
 * in another (20, port 2) race for the ways of a table far too small,
 * all in one second (the seen words of one VLAN all equal: a
 * compare-and-swap of a seen word could not tell two learners apart),
 * while the control thread flushes the three ports and ages.  At the end
 * every entry of ports 1 and 3 is in VLAN 10, every entry of port 2 in
 * VLAN 20, and each port's count is its live entries.
 */
static void test_fdb_same_vlan_race(void **state)
{
	struct fdb *t = malloc(sizeof(*t));
	struct race_same a = { .r = { .vid = 10, .port = 1 }, .first = 0 };
	struct race_same c = { .r = { .vid = 10, .port = 3 }, .first = RACE_MACS };
	struct race_same b = { .r = { .vid = 20, .port = 2 }, .first = 2 * RACE_MACS };
	struct fdb_entry *e = calloc(1024, sizeof(*e));
	pthread_t ta, tb, tc;
	unsigned n, live, per[4] = { 0 }, bad = 0;

	assert_int_equal(fdb_init(t, 300, FDB_SIZE_MIN), 0);
	a.r.t = b.r.t = c.r.t = t;
	assert_int_equal(pthread_create(&ta, NULL, race_learner_second, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, race_learner_second, &b), 0);
	assert_int_equal(pthread_create(&tc, NULL, race_learner_second, &c), 0);
	for (unsigned round = 0; round < RACE_ROUNDS / 4; round++) {
		fdb_flush_port(t, 1 + round % 3);
		if (round % 64 == 32)
			fdb_age(t, 10);
		if (round % 8 == 0)
			sched_yield();
	}
	for (unsigned ms = 0; ms < 10000 && !(atomic_load(&a.r.passes) && atomic_load(&b.r.passes) &&
					       atomic_load(&c.r.passes)); ms++)
		usleep(1000);
	atomic_store(&a.r.stop, true);
	atomic_store(&b.r.stop, true);
	atomic_store(&c.r.stop, true);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_join(tc, NULL);
	n = fdb_dump(t, e, 1024, 10, &live);
	assert_int_equal(n, live);
	for (unsigned i = 0; i < n; i++) {
		assert_true(e[i].port >= 1 && e[i].port <= 3);
		bad += e[i].vlan != (e[i].port == 2 ? 20 : 10);
		per[e[i].port]++;
	}
	print_message("same-VLAN race: %u entries of port 1, %u of port 3 (VLAN 10), %u of port 2 (VLAN 20), %u in the wrong VLAN\n",
		      per[1], per[3], per[2], bad);
	assert_int_equal(bad, 0);
	for (unsigned p = 1; p <= 3; p++)
		assert_int_equal(fdb_port_entries(t, p), per[p]);
	free(e);
	fdb_destroy(t);
	free(t);
}

/* A MAC of race_mac()'s kind, the first from @from on, whose (VLAN @vid, MAC) falls in bucket @b. */
static uint64_t mac_in_bucket(struct fdb *t, const struct fdb_bucket *b, unsigned vid, unsigned from)
{
	for (unsigned i = from; i < (1u << 20); i++) {
		uint8_t m[6] = { 0x02, 0, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		uint64_t mv = fdb_mac_vlan(fdb_mac(m), vid);

		if (fdb_bucket_of(t, mv) == b)
			return mv;
	}
	fail_msg("no MAC of the bucket");
	return 0;
}

/*
 * A bucket whose lock another thread holds (a writer between its stores,
 * or preempted there): a worker's learn changes nothing in it and says
 * FDB_BUSY, except that a source locked to another port is still refused
 * and the owner's frame known; a known source whose second is fresh is
 * known without the lock; lookups answer.  Once the lock is free, the
 * same learn lands.
 */
static void test_fdb_busy_bucket_left_alone(void **state)
{
	struct fdb *t = malloc(sizeof(*t));
	const uint32_t now = 100;
	struct fdb_bucket *b;
	uint64_t known, fresh, locked_mv, key0;
	uint8_t locked_mac[6];
	unsigned owner;

	assert_int_equal(fdb_init(t, 300, 4096), 0);
	known = fdb_mac_vlan(race_mac(1), 20);
	b = fdb_bucket_of(t, known);
	fresh = mac_in_bucket(t, b, 20, 2);
	locked_mv = mac_in_bucket(t, b, 0, 3);
	memcpy(locked_mac, &locked_mv, 6);
	assert_int_equal(fdb_learn_in(t, b, known, 2, now), FDB_ADDED);
	assert_int_equal(fdb_lock(t, locked_mac, 4, now, &owner), 0);
	key0 = atomic_load(&b->key[0]);

	atomic_store(&b->lock, 1); /* another writer holds the bucket */
	assert_int_equal(fdb_learn_in(t, b, fresh, 3, now), FDB_BUSY);
	assert_int_equal(fdb_learn_in(t, b, known, 5, now), FDB_BUSY); /* a move waits too */
	assert_int_equal(fdb_learn_in(t, b, known, 2, now + 1), FDB_KNOWN); /* fresh: no lock needed */
	assert_int_equal(fdb_learn_in(t, b, locked_mv, 5, now), FDB_REFUSED_LOCKED);
	assert_int_equal(fdb_learn_in(t, b, locked_mv, 4, now), FDB_KNOWN);
	assert_int_equal(fdb_lookup_in(t, b, known, now), 2);
	assert_int_equal(fdb_lookup_in(t, b, fresh, now), -1);
	assert_int_equal(fdb_port_entries(t, 3), 0);
	assert_int_equal(fdb_port_entries(t, 5), 0);
	assert_int_equal(atomic_load(&b->key[0]), key0);
	assert_int_equal(atomic_load(&b->lock), 1);

	atomic_store(&b->lock, 0);
	assert_int_equal(fdb_learn_in(t, b, fresh, 3, now), FDB_ADDED);
	assert_int_equal(fdb_learn_in(t, b, known, 5, now), FDB_MOVED);
	assert_int_equal(fdb_lookup_in(t, b, fresh, now), 3);
	assert_int_equal(fdb_lookup_in(t, b, known, now), 5);
	assert_int_equal(fdb_port_entries(t, 2), 0);
	assert_int_equal(fdb_port_entries(t, 5), 1);
	assert_int_equal(atomic_load(&b->lock), 0); /* every writer let go */
	fdb_destroy(t);
	free(t);
}

/* A (VLAN 10, MAC) from race_mac(*@next) on whose bucket is none of @used (*@n of them); its bucket joins them. */
static uint64_t mac_apart(struct fdb *t, const struct fdb_bucket **used, unsigned *n, unsigned *next)
{
	for (;; (*next)++) {
		uint64_t mv = fdb_mac_vlan(race_mac(*next), 10);
		const struct fdb_bucket *b = fdb_bucket_of(t, mv);
		unsigned i = 0;

		while (i < *n && used[i] != b)
			i++;
		if (i == *n) {
			used[(*n)++] = b;
			(*next)++;
			return mv;
		}
	}
}

static unsigned hook_flushes;

/* fdb_reserved_hook: the port is flushed hook_flushes times between a learner's reservation and its install. */
static void flush_in_between(struct fdb *f, unsigned port)
{
	for (unsigned i = 0; i < hook_flushes; i++)
		fdb_flush_port(f, port);
}

/*
 * A learner that reserved its entry before a flush and installs it after
 * (a worker preempted in between) leaves no entry behind: after one flush
 * its generation is stale anyway; after FDB_GENS flushes the generation
 * has come back and its entry would be live, counted in no epoch (the
 * port's count one below its live entries: test_fdb_same_vlan_race's
 * failure before install_check()).  A move is undone the same way.
 */
static void test_fdb_install_overtaken_by_flush(void **state)
{
	struct fdb *t = malloc(sizeof(*t));
	struct fdb_entry e[8];
	const unsigned flushes[] = { 1, FDB_GENS, 2 * FDB_GENS };
	unsigned live;

	const struct fdb_bucket *used[8];
	unsigned n_used = 0, next_mac = 40;

	assert_int_equal(fdb_init(t, 300, 4096), 0);
	for (unsigned c = 0; c < sizeof(flushes) / sizeof(flushes[0]); c++) {
		/*
		 * Every MAC in a bucket of its own: the hook flushes while the
		 * learner holds its bucket, and a flush that walks the table
		 * locks each bucket holding an old entry of the port.
		 */
		uint64_t mv = mac_apart(t, used, &n_used, &next_mac), moved = mac_apart(t, used, &n_used, &next_mac);
		struct fdb_bucket *b = fdb_bucket_of(t, mv), *bm = fdb_bucket_of(t, moved);

		assert_int_equal(fdb_learn_in(t, bm, moved, 2, 100), FDB_ADDED);
		hook_flushes = flushes[c];
		fdb_reserved_hook = flush_in_between;
		assert_int_equal(fdb_learn_in(t, b, mv, 1, 100), FDB_ADDED);
		assert_int_equal(fdb_learn_in(t, bm, moved, 1, 100), FDB_MOVED);
		fdb_reserved_hook = NULL;
		assert_int_equal(fdb_lookup_in(t, b, mv, 100), -1);
		assert_int_equal(fdb_lookup_in(t, bm, moved, 100), -1);
		assert_int_equal(fdb_port_entries(t, 1), 0);
		assert_int_equal(fdb_port_entries(t, 2), 0);
		/* Port 2 flushed nothing: its entry of moved went with the move. */
		assert_int_equal(fdb_dump(t, e, 8, 100, &live), 0);
		assert_int_equal(live, 0);
		/* Learned again, with no flush in between: there. */
		assert_int_equal(fdb_learn_in(t, b, mv, 1, 100), FDB_ADDED);
		assert_int_equal(fdb_lookup_in(t, b, mv, 100), 1);
		assert_int_equal(fdb_port_entries(t, 1), 1);
		fdb_flush_port(t, 1);
		fdb_flush_port(t, 2);
	}
	fdb_destroy(t);
	free(t);
}

static atomic_bool bucket_released;

/* Holds bucket @arg's lock for 50 ms, as a preempted worker would, then lets go and says so. */
static void *hold_bucket(void *arg)
{
	struct fdb_bucket *b = arg;

	usleep(50 * 1000);
	atomic_store(&bucket_released, true);
	atomic_store(&b->lock, 0);
	return NULL;
}

/*
 * The control thread waits for a bucket's lock (it must not skip a bucket:
 * aging passes let flushed generations come back): aging and locking a MAC
 * into a held bucket return only once it is free, with their work done.
 */
static void test_fdb_control_waits_for_bucket(void **state)
{
	struct fdb *t = malloc(sizeof(*t));
	struct fdb_bucket *b;
	uint64_t old, lmv;
	uint8_t mac[6];
	pthread_t th;
	unsigned owner;

	assert_int_equal(fdb_init(t, 300, 4096), 0);
	old = fdb_mac_vlan(race_mac(7), 0);
	b = fdb_bucket_of(t, old);
	lmv = mac_in_bucket(t, b, 0, 8);
	memcpy(mac, &lmv, 6);
	assert_int_equal(fdb_learn_in(t, b, old, 1, 10), FDB_ADDED);

	atomic_store(&b->lock, 1);
	atomic_store(&bucket_released, false);
	assert_int_equal(pthread_create(&th, NULL, hold_bucket, b), 0);
	assert_int_equal(fdb_age(t, 1000), 1); /* the entry aged ... */
	assert_true(atomic_load(&bucket_released)); /* ... once the holder let go */
	assert_int_equal(atomic_load(&b->lock), 0);
	pthread_join(th, NULL);
	assert_int_equal(fdb_port_entries(t, 1), 0);

	atomic_store(&b->lock, 1);
	atomic_store(&bucket_released, false);
	assert_int_equal(pthread_create(&th, NULL, hold_bucket, b), 0);
	assert_int_equal(fdb_lock(t, mac, 2, 1000, &owner), 0);
	assert_true(atomic_load(&bucket_released));
	assert_int_equal(atomic_load(&b->lock), 0);
	pthread_join(th, NULL);
	assert_int_equal(fdb_lookup_in(t, b, lmv, 1000), 2);
	fdb_destroy(t);
	free(t);
}

/* Options of any shape switch_vlan_carries() reads, drawn from a few VLANs so that ports share them. */
static void random_vlan_cfg(struct switch_port_cfg *c, unsigned *seed)
{
	static const unsigned vids[] = { 0, 1, 2, 10, 63, 64, 100, 4094 };

	memset(c, 0, sizeof(*c));
	c->vlan_mode = (uint8_t)(rand_r(seed) % 4);
	c->tag = (uint16_t)vids[1 + rand_r(seed) % 7];
	c->has_tag = c->vlan_mode != SWITCH_VLAN_TRUNK;
	if (c->vlan_mode == SWITCH_VLAN_TRUNK)
		c->tag = 0;
	if (c->vlan_mode != SWITCH_VLAN_ACCESS && rand_r(seed) % 3) {
		c->trunks_only = true;
		for (unsigned k = rand_r(seed) % 4; k; k--) {
			unsigned v = vids[rand_r(seed) % 8];

			c->trunks[v / 64] |= 1ull << (v % 64);
		}
	}
}

/*
 * The flood list's VLAN view (switch_portlist.vlan_only/all_vlans and
 * vlan_of[]) says what switch_vlan_carries() says, for every VLAN, through
 * random attaches and removals of ports of every mode: the flood's
 * fan-out and its pass rest on it (dp/egress.c).
 */
static void test_flood_list_vlans(void **state)
{
	struct vswitch *sw = malloc(sizeof(*sw));
	static struct port ports[48];
	unsigned seed = 42, checked = 0;
	char err[128] = "";

	assert_non_null(sw);
	assert_int_equal(switch_init(sw, SWITCH_LEARNING, 300, 4096), 0);
	for (unsigned step = 0; step < 150; step++) {
		unsigned slot = 1 + (unsigned)rand_r(&seed) % 47;
		const struct switch_portlist *l;

		if (atomic_load(&sw->ports[slot])) {
			switch_port_set(sw, slot, NULL);
			switch_port_detach(sw, slot);
		} else {
			struct switch_port_cfg c;

			random_vlan_cfg(&c, &seed);
			assert_int_equal(switch_port_attach(sw, slot, &c, err, sizeof(err)), 0);
			ports[slot].id = slot;
			switch_port_set(sw, slot, &ports[slot]);
		}
		l = atomic_load(&sw->flood_list);
		for (unsigned vid = 0; vid < SWITCH_VLANS; vid++) {
			unsigned want = 0;

			for (unsigned i = 0; i < l->n; i++) {
				bool carries = switch_vlan_carries(&sw->sp[l->slot[i]], vid);
				unsigned cls = l->vlan_of[i];

				want += carries;
				assert_int_equal(cls == vid || cls == SWITCH_LIST_VLAN_ALL ||
							 (cls == SWITCH_LIST_VLAN_SOME && carries),
						 carries);
				assert_true(cls < SWITCH_VLANS || cls == SWITCH_LIST_VLAN_ALL || cls == SWITCH_LIST_VLAN_SOME);
			}
			assert_int_equal(switch_list_carrying(l, vid), want);
			checked += want;
		}
	}
	assert_true(checked > 10000); /* ports were there, in many VLANs */
	switch_destroy(sw);
	free(sw);
}

/* tag=, trunks= and vlan_mode= as a config entry and vswctl spell them, and what is refused. */
static void test_vlan_port_opts(void **state)
{
	static const char *const bad[] = {
		"{\"tag\":4095}", "{\"tag\":\"10\"}", "{\"trunks\":\"10-\"}", "{\"trunks\":\"20-10\"}",
		"{\"trunks\":\"1,,2\"}", "{\"trunks\":\"4095\"}", "{\"trunks\":-1}", "{\"trunks\":{}}",
		"{\"tag\":10,\"trunks\":\"20\"}", "{\"vlan_mode\":\"trunk\",\"tag\":10}",
		"{\"vlan_mode\":\"native-tagged\"}", "{\"vlan_mode\":\"access\"}",
		"{\"vlan_mode\":\"dot1q-tunnel\",\"tag\":10}", "{\"vlan_vni\":\"10:1\",\"tag\":10}",
		"{\"vlan_vni\":\"10:1,10:2\"}",
	};
	struct switch_port_cfg c;
	struct json_object *j;
	char err[256];

	assert_int_equal(parse("{}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.vlan_mode, SWITCH_VLAN_TRUNK);
	assert_false(c.trunks_only);
	j = port_opts_json(&c);
	assert_false(json_object_object_get_ex(j, "vlan_mode", NULL)); /* a plain port shows no VLAN options */
	json_object_put(j);

	assert_int_equal(parse("{\"tag\":10}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.vlan_mode, SWITCH_VLAN_ACCESS);
	assert_int_equal(c.tag, 10);

	assert_int_equal(parse("{\"trunks\":\" 10, 20,30-40 ,4094\"}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.vlan_mode, SWITCH_VLAN_TRUNK);
	assert_true(c.trunks_only);
	j = port_opts_json(&c);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "trunks")), "10,20,30-40,4094");
	assert_string_equal(json_object_get_string(json_object_object_get(j, "vlan_mode")), "trunk");
	json_object_put(j);
	assert_int_equal(parse("{\"trunks\":\"\"}", &c, err, sizeof(err)), 0);
	assert_false(c.trunks_only); /* empty: every VLAN, as OVS */

	assert_int_equal(parse("{\"vlan_mode\":\"native-untagged\",\"tag\":5,\"trunks\":[6,\"7-8\"]}", &c, err,
			       sizeof(err)),
			 0);
	assert_int_equal(c.vlan_mode, SWITCH_VLAN_NATIVE_UNTAGGED);
	j = port_opts_json(&c);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "trunks")), "6-8");
	assert_int_equal(json_object_get_int(json_object_object_get(j, "tag")), 5);
	json_object_put(j);

	/* a vxlan port's vlan_vni=: a trunk of the VLANs it maps, unless trunks= says otherwise */
	assert_int_equal(parse("{\"vlan_vni\":\"10:1010,4094:7\"}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.vlan_mode, SWITCH_VLAN_TRUNK);
	assert_true(c.trunks_only);
	j = port_opts_json(&c);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "trunks")), "10,4094");
	json_object_put(j);
	assert_int_equal(parse("{\"vlan_vni\":\"10:1010\",\"trunks\":\"10,11\"}", &c, err, sizeof(err)), 0);
	j = port_opts_json(&c);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "trunks")), "10-11");
	json_object_put(j);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i], &c, err, sizeof(err)), -1);
		printf("%s -> %s\n", bad[i], err);
		assert_true(err[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vlan_access_flood_stays_in_vlan),
		cmocka_unit_test(test_vlan_tenants_isolated),
		cmocka_unit_test(test_vlan_trunk_to_access),
		cmocka_unit_test(test_vlan_ingress_drops),
		cmocka_unit_test(test_vlan_native),
		cmocka_unit_test(test_vlan_off_transparent),
		cmocka_unit_test(test_vlan_mixed_batch),
		cmocka_unit_test(test_vlan_hub),
		cmocka_unit_test(test_fdb_vlan_keys),
		cmocka_unit_test(test_fdb_vlan_race),
		cmocka_unit_test(test_fdb_flush_race),
		cmocka_unit_test(test_fdb_same_vlan_race),
		cmocka_unit_test(test_fdb_busy_bucket_left_alone),
		cmocka_unit_test(test_fdb_install_overtaken_by_flush),
		cmocka_unit_test(test_fdb_control_waits_for_bucket),
		cmocka_unit_test(test_vlan_port_opts),
		cmocka_unit_test(test_flood_list_vlans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
