/* test_dp_pmtu.c - unit tests of the tx stage's size check for a tunnel: too-big frames dropped, counted, and answered with ICMP back through the pipeline. */

/*
 * A learning switch of three ports: 0 a container (sends offload
 * requests), 1 a tunnel whose tx_frame_max is that of a 1500-byte IPv4
 * underlay (1464: 1500 less IPv4 + UDP + VXLAN), 2 another local port.
 * The container's MAC is learned on 0, the remote's on 1.  A 1514-byte
 * frame with DF to the remote: not sent to 1, one too_big drop on 1, and
 * an ICMP "fragmentation needed" with MTU 1450 delivered to port 0 only
 * (the pipeline looked it up as a frame from the tunnel: from the remote's
 * MAC to the container's); the frames that fit go to 1 as they were.  A
 * port without a limit gets the big frame.  A TSO frame whose segments fit
 * (gso_size 1398: 1464-byte segments) goes to the tunnel as segments; one
 * whose segments do not (1448) is dropped and answered.  A batch of many
 * too-big frames makes at most DP_PMTU_MAX answers; every one is counted.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/dp_fixture.h"
#include "../lib/gso_ref.h"
#include "../lib/zalloc.h"
#include "dp/dp.h"
#include "dp/pipeline.h"
#include "packet/vnet_hdr.h"
#include "switch/switch.h"

#define NPORTS 3
#define TUNNEL_MAX 1464u

struct fx {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct port ports[NPORTS];
	struct pkt pkts[PKT_BURST];
	struct iovec iov[PKT_BURST];
	/* What each port got: frames, their lengths, and port 0's first frame. */
	unsigned got[NPORTS], bursts[NPORTS];
	unsigned len1[256];
	uint8_t first0[2048];
	size_t first0_len;
	bool first0_tunnel;	/* port 0's first frame came with tunnel metadata ... */
	uint64_t first0_tun_id;	/* ... this key */
	unsigned own_limit;	/* port 1 checks frames against it in its tx_burst (0: not) */
};

static struct fx *cur;
static uint8_t big[PKT_BURST][1514], small[100], tso[65535], bcast[60];

/* The remote's MAC (ref_frame()'s destination) and the container's (its source). */
static const uint8_t MAC_REMOTE[6] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15 };
static const uint8_t MAC_LOCAL[6] = { 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b };

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct fx *f = cur;

	f->bursts[p->id]++;
	for (unsigned i = 0; i < n; i++) {
		/* A port that picks each frame's destination and checks its limit itself (a vxlan port's remotes). */
		if (p->id == 1 && f->own_limit && pkts[i]->len > f->own_limit) {
			port_count_drop(p, DROP_TOO_BIG, 1);
			port_tx_too_big(io, p, pkts[i], f->own_limit);
			continue;
		}
		if (p->id == 1 && f->got[1] < 256)
			f->len1[f->got[1]] = pkts[i]->len;
		if (p->id == 0 && f->got[0] == 0) {
			f->first0_len = pkt_to_buf(pkts[i], f->first0, sizeof(f->first0));
			f->first0_tunnel = pkts[i]->flags & PKT_F_TUNNEL;
			f->first0_tun_id = pkts[i]->tun.id;
		}
		f->got[p->id]++;
	}
}

/* Port 1 is a tunnel: an answer to a frame too big for it comes back with key 99 (a vxlan port's vx_answer_tun()). */
static bool fake_answer_tun(struct port *p, const struct pkt *pk, struct pkt_tun *tun)
{
	if (p->id != 1)
		return false;
	memset(tun, 0, sizeof(*tun));
	tun->id = 99;
	return true;
}

static const struct port_ops fake_ops = { .type = "fake", .tx_burst = fake_tx_burst, .answer_tun = fake_answer_tun };

/* Frame @i of the batch: @len bytes at @buf from port 0. */
static void rx(struct fx *f, unsigned i, uint8_t *buf, size_t len)
{
	f->iov[i] = (struct iovec){ buf, len };
	pkt_rx_init(&f->pkts[i], &f->iov[i], 1, (uint32_t)len, 0);
}

/* A broadcast from @mac into port @port: the switch learns it there. */
static void teach(struct fx *f, const uint8_t mac[6], unsigned port)
{
	memset(bcast, 0xff, 6);
	memcpy(bcast + 6, mac, 6);
	bcast[12] = 0x88;
	bcast[13] = 0xb5;
	rx(f, 0, bcast, sizeof(bcast));
	dp_forward(f->sw, f->ctx, &f->ports[port], f->pkts, 1);
	memset(f->got, 0, sizeof(f->got));
	memset(f->bursts, 0, sizeof(f->bursts));
}

/* ref_frame()'s IPv4 addresses made 10.0.0.1 -> 10.0.0.2 (its pattern may be multicast), sums fixed. */
static void addrs(uint8_t *fr, const struct ref_geom *g, size_t len)
{
	memcpy(fr + g->l3 + 12, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	ref_wr16(fr + g->l3 + 10, 0);
	ref_put(fr + g->l3 + 10, (uint16_t)~ref_sum(fr + g->l3, g->l4 - g->l3));
	if (!g->udp)
		ref_put(fr + g->l4 + 16, ref_pseudo(fr, g, (unsigned)(len - g->l4)));
}

static int fx_setup(void **state)
{
	struct fx *f = zalloc64(sizeof(*f));

	assert_int_equal(dp_fixture_init(&f->sw, &f->ctx, SWITCH_LEARNING, f->ports, NPORTS, &fake_ops), 0);
	f->ports[0].rx_offload = true;
	atomic_store(&f->ports[1].tx_frame_max, TUNNEL_MAX);
	cur = f;
	*state = f;
	teach(f, MAC_LOCAL, 0);
	teach(f, MAC_REMOTE, 1);
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dp_fixture_destroy(f->sw, f->ctx);
	free(f);
	return 0;
}

/* Port 0's first frame is an ICMP "fragmentation needed" from 10.0.0.2 to 10.0.0.1 with @mtu, quoting @orig. */
static void assert_frag_needed(struct fx *f, unsigned mtu, const uint8_t *orig)
{
	static const uint8_t addrs_back[8] = { 10, 0, 0, 2, 10, 0, 0, 1 };
	const uint8_t *ip = f->first0 + 14, *icmp = ip + 20;

	assert_int_equal(f->first0_len, 14 + 576);
	assert_memory_equal(f->first0, MAC_LOCAL, 6);
	assert_memory_equal(f->first0 + 6, MAC_REMOTE, 6);
	assert_memory_equal(ip + 12, addrs_back, 8);
	assert_int_equal(icmp[0], 3);
	assert_int_equal(icmp[1], 4);
	assert_int_equal(ref_rd16(icmp + 6), mtu);
	assert_memory_equal(icmp + 8, orig + 14, 40); /* the original IP and TCP headers */
}

static void test_too_big_answered(void **state)
{
	struct fx *f = *state;
	struct ref_geom g;
	size_t len = ref_frame(big[0], &g, false, false, false, 0, 0, 0x10, 1514 - 54, 1);

	addrs(big[0], &g, len);
	assert_int_equal(len, 1514);
	memset(small, 0, sizeof(small));
	memcpy(small, MAC_REMOTE, 6);
	memcpy(small + 6, MAC_LOCAL, 6);
	rx(f, 0, small, sizeof(small));
	rx(f, 1, big[0], len);
	rx(f, 2, small, sizeof(small));
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 3);

	assert_int_equal(f->got[1], 2); /* the frames that fit */
	assert_int_equal(f->len1[0], sizeof(small));
	assert_int_equal(f->len1[1], sizeof(small));
	assert_int_equal(port_drops(&f->ports[1], DROP_TOO_BIG), 1);
	assert_int_equal(atomic_load(&f->ports[1].stats.tx_pmtu_icmp), 1);
	/* the answer came back as from the tunnel: its metadata (flows on tun_id take it) */
	assert_true(f->first0_tunnel);
	assert_int_equal(f->first0_tun_id, 99);
	/* The answer: to the container only (looked up from the tunnel: unicast to the learned port). */
	assert_int_equal(f->got[0], 1);
	assert_int_equal(f->got[2], 0);
	assert_frag_needed(f, TUNNEL_MAX - 14, big[0]);
	assert_int_equal(f->ctx->pmtu.n, 0);
	/* The remote's MAC is still where it was: the answer came from the tunnel. */
	assert_int_equal(port_drops(&f->ports[0], DROP_TOO_BIG), 0);

	/* No limit: the same frame goes whole. */
	memset(f->got, 0, sizeof(f->got));
	atomic_store(&f->ports[1].tx_frame_max, 0);
	rx(f, 0, big[0], len);
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 1);
	assert_int_equal(f->got[1], 1);
	assert_int_equal(f->len1[0], 1514);
	assert_int_equal(f->got[0], 0);
	assert_int_equal(port_drops(&f->ports[1], DROP_TOO_BIG), 1);
}

/*
 * A port that checks each frame against its own destination's limit
 * (tx_frame_max 0: the tx stage lets the frame through) and hands the one
 * too big back through port_io.too_big: answered as the tx stage answers,
 * with that limit, to the sender only; the drop is the port's.
 */
static void test_port_hands_back(void **state)
{
	struct fx *f = *state;
	struct ref_geom g;
	size_t len = ref_frame(big[0], &g, false, false, false, 0, 0, 0x10, 1514 - 54, 1);

	addrs(big[0], &g, len);
	atomic_store(&f->ports[1].tx_frame_max, 0);
	f->own_limit = 1364;	/* a remote behind a 1400-byte path */
	memset(small, 0, sizeof(small));
	memcpy(small, MAC_REMOTE, 6);
	memcpy(small + 6, MAC_LOCAL, 6);
	rx(f, 0, big[0], len);
	rx(f, 1, small, sizeof(small));
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 2);

	assert_int_equal(f->got[1], 1);
	assert_int_equal(f->len1[0], sizeof(small));
	assert_int_equal(port_drops(&f->ports[1], DROP_TOO_BIG), 1);
	assert_int_equal(atomic_load(&f->ports[1].stats.tx_pmtu_icmp), 1);
	assert_int_equal(f->got[0], 1);
	assert_int_equal(f->got[2], 0);
	assert_frag_needed(f, 1364 - 14, big[0]);
	assert_int_equal(f->ctx->pmtu.n, 0);

	/* No one to answer (a port's unit test): counted, not answered. */
	memset(f->got, 0, sizeof(f->got));
	f->ctx->io.too_big = NULL;
	rx(f, 0, big[0], len);
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 1);
	assert_int_equal(port_drops(&f->ports[1], DROP_TOO_BIG), 2);
	assert_int_equal(atomic_load(&f->ports[1].stats.tx_pmtu_icmp), 1);
	assert_int_equal(f->got[0], 0);
}

/* A TSO frame: its segments' size decides (headers + gso_size), not the frame's. */
static void test_tso_by_segment(void **state)
{
	struct fx *f = *state;
	struct ref_geom g;
	size_t len = ref_frame(tso, &g, false, false, false, 0, 0, 0x10, 20000, 7);

	addrs(tso, &g, len);
	rx(f, 0, tso, len);
	f->pkts[0].csum = PKT_CSUM_PARTIAL;
	f->pkts[0].csum_start = (uint16_t)g.l4;
	f->pkts[0].csum_offset = 16;
	f->pkts[0].gso_type = VNET_GSO_TCPV4;
	f->pkts[0].gso_size = TUNNEL_MAX - 54 - 12; /* 1398 + 54 = 1452: fits */
	assert_true(port_offload_rx_ok(&f->ports[0], &f->pkts[0]));
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 1);
	assert_int_equal(f->got[1], (20000 + 1397) / 1398);
	for (unsigned k = 0; k < f->got[1]; k++)
		assert_true(f->len1[k] <= TUNNEL_MAX);
	assert_int_equal(f->got[0], 0);
	assert_int_equal(port_drops(&f->ports[1], DROP_TOO_BIG), 0);

	/* Segments of 1448 + 54 = 1502 bytes: too big, answered once for the whole frame. */
	memset(f->got, 0, sizeof(f->got));
	rx(f, 0, tso, len);
	f->pkts[0].csum = PKT_CSUM_PARTIAL;
	f->pkts[0].csum_start = (uint16_t)g.l4;
	f->pkts[0].csum_offset = 16;
	f->pkts[0].gso_type = VNET_GSO_TCPV4;
	f->pkts[0].gso_size = 1448;
	assert_true(port_offload_rx_ok(&f->ports[0], &f->pkts[0]));
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 1);
	assert_int_equal(f->got[1], 0);
	assert_int_equal(port_drops(&f->ports[1], DROP_TOO_BIG), 1);
	assert_int_equal(f->got[0], 1);
	assert_frag_needed(f, TUNNEL_MAX - 14, tso);
}

/* A batch of too-big frames: every one counted, at most DP_PMTU_MAX answered. */
static void test_answers_bounded(void **state)
{
	struct fx *f = *state;
	struct ref_geom g;
	unsigned n = 20;

	for (unsigned i = 0; i < n; i++) {
		size_t len = ref_frame(big[i], &g, false, false, false, 0, 0, 0x10, 1514 - 54, i + 1);

		addrs(big[i], &g, len);
		rx(f, i, big[i], len);
	}
	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, n);
	assert_int_equal(f->got[1], 0);
	assert_int_equal(port_drops(&f->ports[1], DROP_TOO_BIG), n);
	assert_int_equal(f->got[0], DP_PMTU_MAX);
	assert_int_equal(atomic_load(&f->ports[1].stats.tx_pmtu_icmp), DP_PMTU_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_too_big_answered, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tso_by_segment, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_port_hands_back, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_answers_bounded, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
