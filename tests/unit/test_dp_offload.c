/* test_dp_offload.c - unit tests of the tx stage's offload fallback: a destination without TSO or checksum offload gets finished frames, one with them the frame whole, from the same batch. */

/*
 * A hub switch of three ports: port 0 hands over a batch (a plain frame,
 * a 64 KiB TSO frame, a frame with a partial checksum, a plain frame);
 * port 1 takes every offload whole, port 2 none.  Port 1 must get the
 * batch's four frames as they are; port 2 the plain frames as they are,
 * the TSO frame as the reference's segments, the partial one completed,
 * in batch order and in bursts of at most DP_OFFLOAD_SEGS; the source's
 * heads and memory untouched, and a header the sender rewrites after the
 * check at rx never reaches anyone.  A request that does not match its frame
 * is refused at rx and counted by its reason.
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
#define MSS 1448u
#define WANT_MAX 64

struct fx {
	struct vswitch *sw;
	struct dp_ctx *ctx;
	struct port ports[NPORTS];
	struct pkt pkts[4];
	struct iovec iov[4][3];
	/* What port 2 must get, frame by frame, and what it got. */
	uint8_t *want[WANT_MAX];
	size_t want_len[WANT_MAX];
	unsigned nwant, got2, got1, bursts2;
	bool whole1[4];
};

static struct fx *cur;
static uint8_t plain[2][60], tso[65535], partial[1500], saved_tso[65535], saved_partial[1500];
static uint8_t want_buf[WANT_MAX][65535], got[65535];

static void fake_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	struct fx *f = cur;

	if (p->id == 1) {
		/* Everything whole: the batch's own packets, in order. */
		for (unsigned i = 0; i < n; i++) {
			assert_ptr_equal(pkts[i], &f->pkts[f->got1]);
			f->got1++;
		}
		return;
	}
	assert_int_equal(p->id, 2);
	assert_true(n <= DP_OFFLOAD_SEGS);
	f->bursts2++;
	for (unsigned i = 0; i < n; i++, f->got2++) {
		assert_true(f->got2 < f->nwant);
		assert_int_equal(pkts[i]->len, f->want_len[f->got2]);
		assert_int_equal(pkt_to_buf(pkts[i], got, sizeof(got)), f->want_len[f->got2]);
		if (memcmp(got, f->want[f->got2], f->want_len[f->got2]))
			fail_msg("frame %u to port 2 differs", f->got2);
		assert_int_equal(gso_needs(pkts[i]), 0);
	}
}

static const struct port_ops fake_ops = { .type = "fake", .tx_burst = fake_tx_burst };

static int fx_setup(void **state)
{
	struct fx *f = zalloc64(sizeof(*f));

	assert_int_equal(dp_fixture_init(&f->sw, &f->ctx, SWITCH_HUB, f->ports, NPORTS, &fake_ops), 0);
	f->ports[0].rx_offload = true;
	atomic_store(&f->ports[1].tx_offload, GSO_TX_ALL);
	cur = f;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dp_fixture_destroy(f->sw, f->ctx);
	free(f);
	return 0;
}

/* Frame @i of the batch: @len bytes at @buf, its view cut in three (one piece odd). */
static void rx(struct fx *f, unsigned i, uint8_t *buf, size_t len)
{
	size_t a = len > 101 ? 101 : len / 2, b = len > 3000 ? 3000 : len;

	f->iov[i][0] = (struct iovec){ buf, a };
	f->iov[i][1] = (struct iovec){ buf + a, b - a };
	f->iov[i][2] = (struct iovec){ buf + b, len - b };
	pkt_rx_init(&f->pkts[i], f->iov[i], 3, (uint32_t)len, 0);
}

static void expect(struct fx *f, const uint8_t *buf, size_t len)
{
	assert_true(f->nwant < WANT_MAX);
	memcpy(want_buf[f->nwant], buf, len);
	f->want[f->nwant] = want_buf[f->nwant];
	f->want_len[f->nwant++] = len;
}

static void test_fallback_per_destination(void **state)
{
	struct fx *f = *state;
	struct ref_geom g, gp;
	size_t tso_len = ref_frame(tso, &g, false, false, false, 0, 12, 0x18, 65535 - 14 - 20 - 32, 5);
	size_t p_len = ref_frame(partial, &gp, true, true, true, 0, 0, 0, 1400, 9);
	unsigned nseg;

	memset(plain, 0xab, sizeof(plain));
	memset(tso, 0xff, 6); /* broadcast: the hub floods anyway */
	memcpy(saved_tso, tso, tso_len);
	memcpy(saved_partial, partial, p_len);
	rx(f, 0, plain[0], sizeof(plain[0]));
	rx(f, 1, tso, tso_len);
	f->pkts[1].csum = PKT_CSUM_PARTIAL;
	f->pkts[1].csum_start = (uint16_t)g.l4;
	f->pkts[1].csum_offset = 16;
	f->pkts[1].gso_type = VNET_GSO_TCPV4;
	f->pkts[1].gso_size = MSS;
	assert_true(port_offload_rx_ok(&f->ports[0], &f->pkts[1]));
	/* The sender rewrites its header after the check: what was checked is what goes out (no second load). */
	tso[g.l3 + 8] ^= 0xff;
	rx(f, 2, partial, p_len);
	f->pkts[2].csum = PKT_CSUM_PARTIAL;
	f->pkts[2].csum_start = (uint16_t)gp.l4;
	f->pkts[2].csum_offset = 6;
	assert_true(port_offload_rx_ok(&f->ports[0], &f->pkts[2]));
	rx(f, 3, plain[1], sizeof(plain[1]));

	expect(f, plain[0], sizeof(plain[0]));
	nseg = (unsigned)((tso_len - g.hdr + MSS - 1) / MSS);
	for (unsigned k = 0; k < nseg; k++) {
		uint8_t seg[2048];

		expect(f, seg, ref_segment(saved_tso, tso_len, &g, MSS, k, seg));
	}
	{
		uint8_t done[1500];
		uint16_t c;

		memcpy(done, partial, p_len);
		ref_wr16(done + gp.l4 + 6, 0);
		c = (uint16_t)~ref_add(ref_pseudo(done, &gp, (unsigned)(p_len - gp.l4)),
				      ref_sum(done + gp.l4, p_len - gp.l4));
		ref_put(done + gp.l4 + 6, c ? c : 0xffff);
		expect(f, done, p_len);
	}
	expect(f, plain[1], sizeof(plain[1]));

	dp_forward(f->sw, f->ctx, &f->ports[0], f->pkts, 4);
	assert_int_equal(f->got1, 4);
	assert_int_equal(f->got2, f->nwant);
	assert_int_equal(f->bursts2, (f->nwant + DP_OFFLOAD_SEGS - 1) / DP_OFFLOAD_SEGS);
	/* The source's memory and the frames' own heads (port 1's bytes) are as they came. */
	tso[g.l3 + 8] ^= 0xff;
	assert_memory_equal(tso, saved_tso, tso_len);
	assert_memory_equal(partial, saved_partial, p_len);
	assert_int_equal(f->pkts[1].gso_type, VNET_GSO_TCPV4);
	assert_memory_equal(pkt_head(&f->pkts[1]), saved_tso, f->pkts[1].head_len);
	assert_memory_equal(pkt_head(&f->pkts[2]), saved_partial, f->pkts[2].head_len);
	for (unsigned r = 0; r < DROP__COUNT; r++)
		assert_int_equal(atomic_load(&f->ports[0].stats.drops[r]), 0);
}

/* A request its frame does not match: refused at rx, counted by reason on the source. */
static void test_bad_request_counted(void **state)
{
	struct fx *f = *state;
	struct ref_geom g;
	size_t len = ref_frame(tso, &g, true, false, false, 0, 0, 0x10, 5000, 3);

	rx(f, 0, tso, len);
	f->pkts[0].csum = PKT_CSUM_PARTIAL;
	f->pkts[0].csum_start = (uint16_t)g.l4;
	f->pkts[0].csum_offset = 16;
	f->pkts[0].gso_type = VNET_GSO_TCPV4; /* on IPv6 */
	f->pkts[0].gso_size = MSS;
	assert_false(port_offload_rx_ok(&f->ports[0], &f->pkts[0]));
	f->pkts[0].gso_type = VNET_GSO_TCPV6;
	f->pkts[0].gso_size = 0;
	assert_false(port_offload_rx_ok(&f->ports[0], &f->pkts[0]));
	f->pkts[0].gso_size = MSS;
	assert_true(port_offload_rx_ok(&f->ports[0], &f->pkts[0]));
	assert_int_equal(atomic_load(&f->ports[0].stats.drops[DROP_BAD_OFFLOAD]), 2);
	assert_int_equal(atomic_load(&f->ports[0].stats.offload_bad[GSO_BAD_TYPE]), 1);
	assert_int_equal(atomic_load(&f->ports[0].stats.offload_bad[GSO_BAD_SIZE]), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fallback_per_destination, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_request_counted, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
