/* pipeline_flows_fx.h - the fixture of the flow-table pipeline tests (test_pipeline_flows.c, test_pipeline_flows_diff.c): a switch of fake ports whose tx bursts are logged, rules added and published as vswctl does, frames built and forwarded. */
#ifndef VSW_TESTS_PIPELINE_FLOWS_FX_H
#define VSW_TESTS_PIPELINE_FLOWS_FX_H

#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "ctl/port_opts.h"
#include "dp/dp.h"
#include "dp/flows.h"
#include "dp/pipeline.h"
#include "flow/parse.h"
#include "flow/table.h"
#include "switch/switch.h"
#include "../lib/dp_fixture.h"
#include "../lib/flow_frames.h"
#include "../lib/zalloc.h"

#define NPORTS 4
#define LOG_MAX 1024
#define FRAME_MAX 128

/* Every frame a port sent, in order: the port, the frame's first bytes and its length. */
struct tx_frame {
	unsigned port;
	uint32_t len;
	bool tun;		/* PKT_F_TUNNEL: tun_id is the frame's tunnel key, tun_dst (IPv4, big-endian) its VTEP */
	bool tun_ipv6;		/* ... or tun_dst6 (IPv6) */
	uint64_t tun_id;
	uint32_t tun_dst;
	uint8_t tun_dst6[16];
	uint8_t bytes[FRAME_MAX];
};

struct fx {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct flow_db *db;
	struct port ports[NPORTS];
	struct pkt pkts[PKT_BURST];
	uint8_t bufs[PKT_BURST][1600];
	struct iovec iov[PKT_BURST];
	struct tx_frame log[LOG_MAX];
	unsigned nlog, bursts;
	uint64_t now_ns;
};

static struct fx *cur;

static inline void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	cur->bursts++;
	for (unsigned i = 0; i < n; i++) {
		struct tx_frame *t = &cur->log[cur->nlog++];

		assert_true(cur->nlog <= LOG_MAX);
		t->port = (unsigned)(p - cur->ports);	/* the index in ports[]: OpenFlow port p->id is one more */
		t->len = pkts[i]->len;
		t->tun = pkts[i]->flags & PKT_F_TUNNEL;
		t->tun_id = t->tun ? pkts[i]->tun.id : 0;
		t->tun_dst = t->tun && !pkts[i]->tun.ipv6 ? pkts[i]->tun.dst.v4 : 0;
		t->tun_ipv6 = t->tun && pkts[i]->tun.ipv6;
		memset(t->tun_dst6, 0, 16);
		if (t->tun_ipv6)
			memcpy(t->tun_dst6, pkts[i]->tun.dst.v6, 16);
		pkt_to_buf(pkts[i], t->bytes, sizeof(t->bytes));
	}
}

static inline unsigned fake_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	return 0;
}

static inline void fake_rx_done(struct port *p, unsigned q, struct port_io *io)
{
}

static const struct port_ops fake_ops = {
	.type = "fake", .rx_burst = fake_rx_burst, .rx_done = fake_rx_done, .tx_burst = fake_tx_burst,
};

static inline uint64_t fake_clock(void)
{
	return cur->now_ns;
}

static inline int fx_setup(void **state)
{
	struct fx *f = zalloc64(sizeof(*f));

	assert_int_equal(dp_fixture_init(&f->sw, &f->ctx, SWITCH_LEARNING, f->ports, 0, &fake_ops), 0);
	/* ports[i] is OpenFlow port i + 1 (numbers start at 1, as in Open vSwitch: the flows below say so) */
	for (unsigned i = 0; i < NPORTS; i++) {
		f->ports[i].id = i + 1;
		f->ports[i].ops = &fake_ops;
		switch_port_set(f->sw, i + 1, &f->ports[i]);
	}
	f->ctx->flow = dp_flow_ctx_new();
	f->db = flow_db_create();
	assert_non_null(f->ctx->flow);
	assert_non_null(f->db);
	f->sw->clock_ns = fake_clock;
	f->now_ns = 5000000000ull;
	cur = f;
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;

	flow_db_destroy(f->db);
	free(f->ctx->flow);
	dp_fixture_destroy(f->sw, f->ctx);
	free(f);
	return 0;
}

/* Commit and publish as the daemon does: NULL while the db holds no rule; no worker here, so reclaim at once. */
static inline void publish(struct fx *f)
{
	int64_t gen = flow_db_commit(f->db);

	assert_true(gen >= 0);
	atomic_store(&f->sw->flows, flow_db_count(f->db, FLOW_TABLE_ANY) ? flow_db_tables(f->db) : NULL);
	flow_db_reclaim(f->db, (uint64_t)gen);
}

static inline void add(struct fx *f, const char *text)
{
	struct flow_mod mod;
	char err[FLOW_ERR_MAX];

	if (flow_parse(text, FLOW_CMD_ADD, NULL, &mod, err, sizeof(err)))
		fail_msg("%s: %s", text, err);
	assert_int_equal(flow_db_add(f->db, &mod), 0);
	publish(f);
}

static inline void del(struct fx *f, const char *text)
{
	struct flow_mod mod;
	char err[FLOW_ERR_MAX];

	if (flow_parse(text, FLOW_CMD_DELETE, NULL, &mod, err, sizeof(err)))
		fail_msg("%s: %s", text, err);
	flow_db_delete(f->db, &mod, false);
	publish(f);
}

/* Frame @i: UDP/IPv4 from MAC ..:@src to MAC ..:@dst (0xff: broadcast), to 10.0.0.@dst_ip, checksums right. */
static inline void frame(struct fx *f, unsigned i, uint8_t src, uint8_t dst, uint8_t dst_ip, unsigned in)
{
	struct frame_spec s = frame_tcp4();
	size_t len;

	s.proto = 17;
	s.src[5] = src;
	if (dst == 0xff)
		memset(s.dst, 0xff, 6);
	else
		s.dst[5] = dst;
	s.dst4 = 0x0a000000u | dst_ip;
	len = frame_build(f->bufs[i], &s);
	f->iov[i] = (struct iovec){ .iov_base = f->bufs[i], .iov_len = len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, in);
}

static inline void forward(struct fx *f, unsigned in, unsigned n)
{
	f->nlog = f->bursts = 0;
	dp_round_start(f->ctx, 1);
	dp_forward(f->sw, f->ctx, &f->ports[in], f->pkts, n);
}

/* The frames port @port got, counted. */
static inline unsigned sent_to(struct fx *f, unsigned port)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->nlog; i++)
		n += f->log[i].port == port;
	return n;
}

static inline const struct tx_frame *first_to(struct fx *f, unsigned port)
{
	for (unsigned i = 0; i < f->nlog; i++)
		if (f->log[i].port == port)
			return &f->log[i];
	fail_msg("nothing sent to port %u", port);
	return NULL;
}

/* A seeded xorshift (set rnd_state): the same draws every run. */
static uint32_t rnd_state;

static inline uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

#endif
