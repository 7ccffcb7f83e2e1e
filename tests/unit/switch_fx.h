/* switch_fx.h - the fixture the switch tests share: three fake ports on a switch, frames to send, a table of MACs. */
#ifndef VSW_TESTS_SWITCH_FX_H
#define VSW_TESTS_SWITCH_FX_H

/*
 * Included by test_switch.c (forwarding), test_switch_fdb.c (the MAC
 * table), test_switch_sec.c (port security) and test_switch_scale.c
 * (thousands of ports), after <cmocka.h>.  Each test binary is one of
 * them: the statics here are its own, and a helper a file does not call
 * is inline so that it costs no warning.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "dp/dp.h"
#include "dp/pipeline.h"
#include "switch/fdb.h"
#include "switch/switch.h"
#include "../lib/zalloc.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0xc };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

/* A port that records what the switch sends it. */
struct fake_port {
	struct port port;
	unsigned got;
	uint8_t last_dst[6];
	uint8_t last_frame[256];	/* the bytes a real port would copy out of the last frame's view */
	uint32_t last_len;
	void (*before_copy)(void);	/* runs before the copy: a guest rewriting its buffer meanwhile */
};

static inline void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct fake_port *f = (struct fake_port *)p;
	const struct pkt *last = pkts[n - 1];

	f->got += n;
	memcpy(f->last_dst, pkt_head(last), 6);
	if (f->before_copy)
		f->before_copy();
	f->last_len = last->len;
	pkt_to_buf(last, f->last_frame, sizeof(f->last_frame));
}

static const struct port_ops fake_ops = { .type = "fake", .tx_burst = fake_tx_burst };

struct fx {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct fake_port ports[3];
};

static inline struct fx *fx_new(enum switch_mode mode)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->sw = malloc(sizeof(*f->sw));
	f->ctx = zalloc64(sizeof(*f->ctx));
	assert_int_equal(switch_init(f->sw, mode, 300, 4096), 0);
	for (unsigned i = 0; i < 3; i++) {
		f->ports[i].port.id = i;
		f->ports[i].port.ops = &fake_ops;
		switch_port_set(f->sw, i, &f->ports[i].port);
	}
	return f;
}

static inline void fx_free(struct fx *f)
{
	switch_destroy(f->sw);
	free(f->sw);
	free(f->ctx);
	free(f);
}

static inline uint64_t drops(struct fx *f, unsigned port, enum port_drop why)
{
	return atomic_load(&f->ports[port].port.stats.drops[why]);
}

static inline uint64_t counter(struct fx *f, unsigned port, enum switch_counter c)
{
	return atomic_load(&f->sw->sp[port].counters[c]);
}

/* A frame whose bytes are @buf: the switch sees a view of them, as of a guest's buffer. */
static inline void send_buf(struct fx *f, unsigned in, uint8_t *buf, uint32_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct pkt p;

	pkt_rx_init(&p, &iov, 1, len, in);
	dp_forward(f->sw, f->ctx, &f->ports[in].port, &p, 1);
}

static inline void send_frame(struct fx *f, unsigned in, const uint8_t dst[6], const uint8_t src[6])
{
	uint8_t buf[60] = { 0 };

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	send_buf(f, in, buf, sizeof(buf));
}

/* @n 60-byte frames in @bufs, frame i from @src to @dsts[i % @ndst], as views in @p for dp_forward(). */
static inline void burst(struct pkt *p, struct iovec *iov, uint8_t (*bufs)[60], unsigned n, const uint8_t (*dsts)[6],
		  unsigned ndst, const uint8_t src[6])
{
	for (unsigned i = 0; i < n; i++) {
		memset(bufs[i], 0, 60);
		memcpy(bufs[i], dsts[i % ndst], 6);
		memcpy(bufs[i] + 6, src, 6);
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = 60 };
		pkt_rx_init(&p[i], &iov[i], 1, 60, 0);
	}
}

/* Ethernet header into @buf; returns the header length. */
static inline uint32_t eth_hdr(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = (uint8_t)(type >> 8);
	buf[13] = (uint8_t)type;
	return 14;
}

/* A 60-byte IPv4 frame from @sip. */
static inline uint32_t ip4_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], const uint8_t sip[4])
{
	memset(buf, 0, 60);
	eth_hdr(buf, dst, src, 0x0800);
	buf[14] = 0x45;
	buf[14 + 9] = 17;
	memcpy(buf + 14 + 12, sip, 4);
	memcpy(buf + 14 + 16, (const uint8_t[4]){ 10, 0, 0, 99 }, 4);
	return 60;
}

/* An ARP request: sender @sha/@spa. */
static inline uint32_t arp_frame(uint8_t *buf, const uint8_t src[6], const uint8_t sha[6], const uint8_t spa[4])
{
	static const uint8_t arp_head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

	memset(buf, 0, 60);
	eth_hdr(buf, BCAST, src, 0x0806);
	memcpy(buf + 14, arp_head, 8);
	memcpy(buf + 22, sha, 6);
	memcpy(buf + 28, spa, 4);
	memcpy(buf + 38, (const uint8_t[4]){ 10, 0, 0, 99 }, 4);
	return 60;
}

/* An 80-byte IPv6 frame from @sip. */
static inline uint32_t ip6_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], const uint8_t sip[16])
{
	memset(buf, 0, 80);
	eth_hdr(buf, dst, src, 0x86dd);
	buf[14] = 0x60;
	buf[14 + 6] = 17;
	memcpy(buf + 14 + 8, sip, 16);
	return 80;
}

static inline struct switch_port_cfg cfg_none(void)
{
	struct switch_port_cfg c;

	memset(&c, 0, sizeof(c)); /* no locking, no limits */
	return c;
}

static inline void attach(struct fx *f, unsigned port, const struct switch_port_cfg *c)
{
	char err[128] = "";

	assert_int_equal(switch_port_attach(f->sw, port, c, err, sizeof(err)), 0);
}

/* A table for @size MACs, 300 s aging. */
static inline struct fdb *fdb_new(unsigned size)
{
	struct fdb *t = malloc(sizeof(*t));

	assert_non_null(t);
	assert_int_equal(fdb_init(t, 300, size), 0);
	return t;
}

static inline void fdb_free(struct fdb *t)
{
	fdb_destroy(t);
	free(t);
}

/* The clock of the cost tests (not pass/fail): the TSC, or nanoseconds off x86. */
static inline uint64_t cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

/* The cost tests print the best of this many runs. */
enum { COST_REPEATS = 9 };

#endif
