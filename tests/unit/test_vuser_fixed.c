/* test_vuser_fixed.c - unit tests of vuser's fixed buffers (vsw-bench's generator way) against vsw's own device side. */

/*
 * vuser_config.fixed keeps buffer i behind descriptor (split) or buffer id
 * (packed) i: tx buffers keep their frame and are rewritten in place, rx
 * buffers go back to the ring as they came.  The device here is vswd's
 * (vu_dev and its virtqueues), driven by the test: it takes what A sent
 * from the tx ring and writes it into the rx ring, a few frames at a time,
 * sometimes none, so both rings fill, wrap and drain.
 *
 *   - every frame arrives once, in order, with its bytes, for split and
 *     packed rings (a packed ring of 200: not a power of two), mergeable
 *     buffers on and off, 60 to 1,518 bytes;
 *   - tx buffers used out of order (two used entries swapped: allowed,
 *     2.7.8) come back to the free queue and are sent again;
 *   - a device at fault (an id out of range or not in flight, a used index
 *     past what is in flight, a length past the buffer, a frame over two
 *     buffers) breaks the ring with a reason, and nothing more is taken
 *     from it;
 *   - with an mtu past a mergeable buffer (9,000 bytes) each receive buffer
 *     holds a frame whole;
 *   - TSO (vsw-bench --tso): A's frames carry the header they were filled
 *     with, B gets each frame's header, and one asking for what B did not
 *     ack is dropped and counted.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/rng.h"
#include "../lib/vu_serve.h"
#include "vhost_user/vu_dev.h"
#include "vsw/virtio_net.h"
#include "vsw/virtio_spec.h"
#include "vsw/virtq.h"
#include "vsw/vuser.h"
#include "packet/vnet_hdr.h"

#define HDR ((uint32_t)sizeof(struct virtio_net_hdr_v1))

struct fx {
	struct vu_dev d;
	struct vuser *u;
	bool mrg;
	bool split_frames;	/* the device says each frame took two buffers (num_buffers 2) */
	uint8_t tx_hdr[HDR];	/* the header every frame A sends must carry (zero unless set) */
	const struct vnet_info *rx_vi;	/* the header the device writes (NULL: zero) */
	unsigned bad_every;	/* with rx_vi: every this many frames the header asks for UFO, which B did not ack */
	uint64_t rng;
	uint64_t sent, forwarded, received;	/* frames: A sent; the device moved; B took */
};

/* @cfg with fixed buffers, against a device offering the basics and @offloads. */
static struct fx *fx_open_cfg(struct vuser_config cfg, uint64_t offloads)
{
	uint64_t features = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
			    VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
			    VIRTIO_BIT(VIRTIO_F_RING_PACKED) | offloads;
	struct fx *f = calloc(1, sizeof(*f));
	char err[400];

	assert_non_null(f);
	cfg.fixed = true;
	f->mrg = !cfg.no_mrg_rxbuf;
	f->rng = 0x9e3779b97f4a7c15ull ^ (cfg.packed ? 1 : 0) ^ (f->mrg ? 2 : 0) ^ cfg.queue_size ^ cfg.mtu;
	assert_int_equal(vu_dev_init(&f->d, "t", features, 1, NULL, NULL), 0);
	f->u = vu_serve_open(&f->d, &cfg, err, sizeof(err));
	if (!f->u)
		fail_msg("%s", err);
	for (unsigned i = 0; i < 2; i++)
		assert_true(atomic_load(&f->d.vrings[i].live));
	return f;
}

static struct fx *fx_open(bool packed, bool mrg, unsigned qsize)
{
	return fx_open_cfg((struct vuser_config){ .packed = packed, .no_mrg_rxbuf = !mrg, .queue_size = qsize }, 0);
}

static void fx_close(struct fx *f)
{
	vuser_close(f->u);
	vu_dev_detach(&f->d);
	vu_dev_fini(&f->d);
	free(f);
}

static struct vq *rxq(struct fx *f) { return &f->d.vrings[virtio_net_rxq(0)].vq; }
static struct vq *txq(struct fx *f) { return &f->d.vrings[virtio_net_txq(0)].vq; }

/* Frame @seq of @size bytes: its sequence number at 42, the rest a pattern of both. */
static void frame_fill(uint8_t *p, unsigned size, uint64_t seq)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 7 + seq);
	memcpy(p + 42, &seq, 8);
}

static bool frame_is(const uint8_t *p, unsigned size, uint64_t seq)
{
	uint64_t s;

	memcpy(&s, p + 42, 8);
	if (s != seq)
		return false;
	for (unsigned i = 0; i < size; i++)
		if ((i < 42 || i >= 50) && p[i] != (uint8_t)(i * 7 + seq))
			return false;
	return true;
}

/* A sends up to @want frames of @size bytes; returns how many. */
static unsigned a_send(struct fx *f, unsigned want, unsigned size)
{
	uint8_t *b[64];
	unsigned k = vuser_fixed_tx_bufs(f->u, 0, b, want);

	assert_true(k <= want);
	for (unsigned i = 0; i < k; i++)
		frame_fill(b[i], size, f->sent + i);
	assert_int_equal(vuser_fixed_tx_send(f->u, 0, k, size), k);
	f->sent += k;
	return k;
}

/* Up to @max one-descriptor chains of @q: vq_pop_burst()'s runs, and vq_pop() where a run stops. */
static unsigned pop_n(struct vq *q, enum vq_dir dir, struct vq_elem *e, struct iovec *iov, unsigned max)
{
	unsigned n = 0;

	while (n < max) {
		n += vq_pop_burst(q, dir, e + n, iov + n, max - n);
		if (n == max || vq_pop(q, &e[n], &iov[n], 1) != 0)
			break;
		assert_int_equal(e[n].out_num + e[n].in_num, 1);
		n++;
	}
	return n;
}

/*
 * The device moves up to @max frames from the tx ring to the rx ring, each
 * checked on the way (header zero, length, bytes); with @swap on a split
 * ring, the last two tx used entries trade places.  Returns the count.
 */
static unsigned dev_forward(struct fx *f, unsigned max, unsigned size, bool swap)
{
	struct vq_elem te[32], re[32];
	struct iovec ti[32], ri[32];
	unsigned n, r;

	if (max > 32)
		max = 32;
	r = pop_n(rxq(f), VQ_DIR_WRITE, re, ri, max);
	n = r ? pop_n(txq(f), VQ_DIR_READ, te, ti, r) : 0;
	while (r > n)
		vq_unpop(rxq(f), &re[--r]);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *in = ti[i].iov_base;
		struct virtio_net_hdr_v1 h = { 0 };

		if (f->rx_vi) {
			vnet_hdr_build(&h, f->rx_vi);
			if (f->bad_every && (f->forwarded + i) % f->bad_every == f->bad_every - 1)
				h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
		}
		h.num_buffers = f->mrg ? 1 + f->split_frames : 0;
		assert_int_equal(ti[i].iov_len, HDR + size);
		assert_memory_equal(in, f->tx_hdr, HDR);
		if (!frame_is(in + HDR, size, f->forwarded + i))
			fail_msg("frame %llu: the device read other bytes", (unsigned long long)(f->forwarded + i));
		assert_true(ri[i].iov_len >= HDR + size);
		memcpy(ri[i].iov_base, &h, HDR);
		memcpy((uint8_t *)ri[i].iov_base + HDR, in + HDR, size);
	}
	if (n) {
		vq_push_n(rxq(f), re, n, HDR + size);
		vq_push_n(txq(f), te, n, 0);
		vq_flush(rxq(f));
		vq_flush(txq(f));
	}
	if (swap && n >= 2 && !txq(f)->packed) {
		struct virtq_used *used = txq(f)->ring.split.used;
		uint16_t mask = (uint16_t)(txq(f)->num - 1), last = (uint16_t)(txq(f)->used_idx - 1);
		struct virtq_used_elem e = used->ring[last & mask];

		used->ring[last & mask] = used->ring[(uint16_t)(last - 1) & mask];
		used->ring[(uint16_t)(last - 1) & mask] = e;
	}
	f->forwarded += n;
	return n;
}

/* The device writes one frame of @size bytes with header @vi into the next receive buffer (it must fit). */
static void dev_inject_rx(struct fx *f, const uint8_t *frame, unsigned size, const struct vnet_info *vi)
{
	struct vq_elem re;
	struct iovec ri;
	struct virtio_net_hdr_v1 h = { 0 };

	assert_int_equal(pop_n(rxq(f), VQ_DIR_WRITE, &re, &ri, 1), 1);
	vnet_hdr_build(&h, vi);
	h.num_buffers = f->mrg ? 1 : 0;
	assert_true(ri.iov_len >= HDR + size);
	memcpy(ri.iov_base, &h, HDR);
	memcpy((uint8_t *)ri.iov_base + HDR, frame, size);
	vq_push_n(rxq(f), &re, 1, HDR + size);
	vq_flush(rxq(f));
}

/* B takes what arrived: every frame the next in order, with its bytes. */
static unsigned b_receive(struct fx *f, unsigned size)
{
	struct vuser_frame in[64];
	unsigned n = vuser_fixed_rx(f->u, 0, in, 64);

	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(in[i].len, size);
		if (!frame_is(in[i].data, size, f->received + i))
			fail_msg("frame %llu: B got other bytes", (unsigned long long)(f->received + i));
	}
	f->received += n;
	return n;
}

/* @rounds of traffic of @size-byte frames through @f, drained, every frame checked; closes @f. */
static void traffic(struct fx *f, unsigned rounds, unsigned size, bool swap)
{
	for (unsigned round = 0; round < rounds; round++) {
		unsigned r = test_rnd(&f->rng);

		a_send(f, 1 + r % 40, size);
		/* A quarter of the rounds the device moves nothing: A's ring fills up. */
		if ((r >> 8) % 4)
			dev_forward(f, 1 + (r >> 12) % 48, size, swap && (r >> 20) % 2);
		if ((r >> 24) % 3)
			b_receive(f, size);
	}
	/* Drain: bounded, as everything sent is in one ring or the other. */
	for (unsigned i = 0; i < 1000 && f->received < f->sent; i++) {
		dev_forward(f, 32, size, false);
		b_receive(f, size);
	}
	if (vuser_error(f->u))
		fail_msg("vuser: %s", vuser_error(f->u));
	assert_true(f->sent > rounds * 5);
	assert_int_equal(f->received, f->sent);
	fx_close(f);
}

static void run_traffic(bool packed, bool mrg, unsigned qsize, unsigned size, bool swap)
{
	traffic(fx_open(packed, mrg, qsize), 3000, size, swap);
}

static void test_split_mrg(void **state) { (void)state; run_traffic(false, true, 256, 64, false); }
static void test_split_no_mrg_1518(void **state) { (void)state; run_traffic(false, false, 256, 1518, false); }
static void test_split_60_small_ring(void **state) { (void)state; run_traffic(false, true, 64, 60, false); }
static void test_packed_mrg(void **state) { (void)state; run_traffic(true, true, 256, 64, false); }
static void test_packed_200_no_mrg(void **state) { (void)state; run_traffic(true, false, 200, 1518, false); }

/* Two tx used entries swapped (2.7.8: the device may use buffers in any order): all still sent, once each. */
static void test_split_tx_out_of_order(void **state)
{
	(void)state;
	run_traffic(false, true, 64, 64, true);
}

/* ---- a device at fault ---- */

enum fault { BAD_ID, DUP_ID, PAST_LEN, PAST_IDX };

/* Two frames through, then the device spoils the rx ring's used side: B must stop with a reason. */
static void rx_fault(bool packed, enum fault what, const char *reason)
{
	struct fx *f = fx_open(packed, true, 256);
	struct vq *q = rxq(f);
	struct vuser_frame in[64];
	uint16_t last;

	a_send(f, 2, 64);
	assert_int_equal(dev_forward(f, 2, 64, false), 2);
	last = (uint16_t)(q->used_idx - 1);	/* split: free-running; packed: a position (not 0 here) */
	if (!packed) {
		struct virtq_used *used = q->ring.split.used;
		uint16_t mask = (uint16_t)(q->num - 1);

		switch (what) {
		case BAD_ID: used->ring[last & mask].id = q->num; break;
		case DUP_ID: used->ring[last & mask].id = used->ring[(uint16_t)(last - 1) & mask].id; break;
		case PAST_LEN: used->ring[last & mask].len = 1u << 20; break;
		case PAST_IDX: used->idx = (uint16_t)(used->idx + q->num); break;
		}
	} else {
		struct pvirtq_desc *d = q->ring.packed.desc;

		switch (what) {
		case BAD_ID: d[last].id = (uint16_t)q->num; break;
		case DUP_ID: d[last].id = d[last - 1].id; break;
		case PAST_LEN: d[last].len = 1u << 20; break;
		case PAST_IDX: fail_msg("no used index in a packed ring"); break;
		}
	}
	/* What comes before the fault is taken; the rest is not. */
	(void)vuser_fixed_rx(f->u, 0, in, 64);
	assert_non_null(vuser_error(f->u));
	if (!strstr(vuser_error(f->u), reason))
		fail_msg("vuser_error: \"%s\", expected \"%s\"", vuser_error(f->u), reason);
	assert_int_equal(vuser_fixed_rx(f->u, 0, in, 64), 0);
	a_send(f, 2, 64);
	dev_forward(f, 2, 64, false);
	assert_int_equal(vuser_fixed_rx(f->u, 0, in, 64), 0);
	fx_close(f);
}

static void test_split_bad_id(void **state) { (void)state; rx_fault(false, BAD_ID, "rx ring: device used a buffer that is not in flight"); }
static void test_split_dup_id(void **state) { (void)state; rx_fault(false, DUP_ID, "rx ring: device used a buffer that is not in flight"); }
static void test_split_past_len(void **state) { (void)state; rx_fault(false, PAST_LEN, "rx ring: device wrote past a buffer"); }
static void test_split_past_idx(void **state) { (void)state; rx_fault(false, PAST_IDX, "past the buffers in flight"); }
static void test_packed_bad_id(void **state) { (void)state; rx_fault(true, BAD_ID, "rx ring: device used a buffer id that is not in flight"); }
static void test_packed_dup_id(void **state) { (void)state; rx_fault(true, DUP_ID, "not in flight"); }
static void test_packed_past_len(void **state) { (void)state; rx_fault(true, PAST_LEN, "device wrote past a buffer"); }

/* A device that says a frame took several buffers, though each fits one: the ring breaks, no buffer is read. */
static void test_frame_over_buffers(void **state)
{
	struct fx *f = fx_open(false, true, 256);
	struct vuser_frame in[64];

	(void)state;
	a_send(f, 4, 64);
	f->split_frames = true;
	assert_int_equal(dev_forward(f, 4, 64, false), 4);
	assert_int_equal(vuser_fixed_rx(f->u, 0, in, 64), 0);
	assert_non_null(vuser_error(f->u));
	assert_non_null(strstr(vuser_error(f->u), "rx ring: a frame over several buffers"));
	assert_int_equal(vuser_fixed_rx(f->u, 0, in, 64), 0);
	fx_close(f);
}

/* The copying bursts refuse a fixed front end, and fixed buffers refuse in_order. */
static void test_ways_apart(void **state)
{
	struct fx *f = fx_open(false, true, 256);
	uint8_t frame[64] = { 0 };
	struct vuser_frame out = { frame, sizeof(frame) }, in[4];
	struct vuser_config cfg = { .path = "/nonexistent", .fixed = true, .in_order = true };
	char err[200];

	(void)state;
	assert_int_equal(vuser_tx_burst(f->u, 0, &out, 1), 0);
	assert_int_equal(vuser_rx_burst(f->u, 0, in, 4), 0);
	assert_null(vuser_error(f->u));
	fx_close(f);
	assert_null(vuser_open(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "fixed buffers"));
}

/* Frames of 9,000 bytes with mergeable buffers: each receive buffer is sized to hold one whole. */
static void test_mrg_mtu_9000(void **state)
{
	(void)state;
	for (unsigned packed = 0; packed < 2; packed++)
		traffic(fx_open_cfg((struct vuser_config){ .packed = packed, .queue_size = 128, .mtu = 9000 }, 0), 500,
			9000, false);
}

/* A TSO send as vsw-bench's: 45 segments of 1,448 bytes behind Ethernet, IPv4 and TCP headers. */
#define TSO_SEND (14 + 20 + 20 + 45 * 1448)
static const struct vnet_info tso_vi = { .flags = VNET_NEEDS_CSUM, .gso = VNET_GSO_TCPV4, .hdr_len = 54,
					 .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };

/* A front end acking TSO4 both ways with an mtu of @mtu (0: the default, 1500). */
static struct fx *fx_open_tso(bool packed, uint32_t mtu)
{
	uint64_t offloads = VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) |
			    VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
	struct fx *f = fx_open_cfg((struct vuser_config){ .packed = packed, .queue_size = 64, .mtu = mtu, .tso4 = true },
				   offloads);

	assert_true(vuser_features(f->u) & VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4));
	return f;
}

/*
 * TSO through fixed buffers (vsw-bench --tso): every frame A sends carries
 * the header vuser_fixed_tx_fill() was given; B gets each frame's header
 * with vuser_fixed_rx_vnet(), and a frame whose header asks for what B did
 * not ack (UFO) is dropped and counted, the ring left working.
 */
static void tso_fixed(bool packed)
{
	struct fx *f = fx_open_tso(packed, TSO_SEND);
	static uint8_t tmpl[TSO_SEND];
	struct vuser_frame in[64];
	struct vnet_info vin[64];
	uint64_t bad = 0;
	struct vuser_stats st;

	vnet_hdr_build(f->tx_hdr, &tso_vi);
	frame_fill(tmpl, TSO_SEND, 0);
	vuser_fixed_tx_fill(f->u, 0, tmpl, TSO_SEND, &tso_vi);
	f->rx_vi = &tso_vi;
	f->bad_every = 5;
	for (unsigned round = 0; round < 300; round++) {
		unsigned r = test_rnd(&f->rng), n;

		a_send(f, 1 + r % 6, TSO_SEND);
		dev_forward(f, 1 + (r >> 8) % 8, TSO_SEND, false);
		n = vuser_fixed_rx_vnet(f->u, 0, in, vin, 64);
		for (unsigned i = 0; i < n; i++, f->received++) {
			if (f->received % 5 == 4) {
				f->received++;	/* the device's UFO header: not handed out */
				bad++;
			}
			assert_int_equal(in[i].len, TSO_SEND);
			assert_true(frame_is(in[i].data, TSO_SEND, f->received));
			assert_int_equal(vin[i].gso, VNET_GSO_TCPV4);
			assert_int_equal(vin[i].gso_size, 1448);
			assert_int_equal(vin[i].flags, VNET_NEEDS_CSUM);
			assert_int_equal(vin[i].csum_start, 34);
			assert_int_equal(vin[i].csum_offset, 16);
		}
	}
	if (vuser_error(f->u))
		fail_msg("vuser: %s", vuser_error(f->u));
	vuser_get_stats(f->u, &st);
	assert_true(f->received > 300);
	/* Every fifth frame the device sent was refused; one waiting at the end may not have been reached. */
	assert_true(st.rx_bad_hdr == bad || st.rx_bad_hdr == bad + 1);
	assert_true(bad >= f->received / 5 - 1);
	fx_close(f);
}

static void test_tso_fixed_split(void **state) { (void)state; tso_fixed(false); }
static void test_tso_fixed_packed(void **state) { (void)state; tso_fixed(true); }

/* GUEST_TSO4 with the default mtu (1500): a receive buffer still holds a 64 KiB GSO frame whole (5.1.6.3.1). */
static void test_tso_fixed_small_mtu(void **state)
{
	static uint8_t tmpl[TSO_SEND];

	(void)state;
	frame_fill(tmpl, TSO_SEND, 0);
	for (unsigned packed = 0; packed < 2; packed++) {
		struct fx *f = fx_open_tso(packed, 0);
		struct vuser_frame in[64];
		struct vnet_info vin[64];

		dev_inject_rx(f, tmpl, TSO_SEND, &tso_vi);
		assert_int_equal(vuser_fixed_rx_vnet(f->u, 0, in, vin, 64), 1);
		assert_int_equal(in[0].len, TSO_SEND);
		assert_memory_equal(in[0].data, tmpl, TSO_SEND);
		assert_int_equal(vin[0].gso, VNET_GSO_TCPV4);
		assert_null(vuser_error(f->u));
		fx_close(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_mrg),
		cmocka_unit_test(test_split_no_mrg_1518),
		cmocka_unit_test(test_split_60_small_ring),
		cmocka_unit_test(test_packed_mrg),
		cmocka_unit_test(test_packed_200_no_mrg),
		cmocka_unit_test(test_split_tx_out_of_order),
		cmocka_unit_test(test_split_bad_id),
		cmocka_unit_test(test_split_dup_id),
		cmocka_unit_test(test_split_past_len),
		cmocka_unit_test(test_split_past_idx),
		cmocka_unit_test(test_packed_bad_id),
		cmocka_unit_test(test_packed_dup_id),
		cmocka_unit_test(test_packed_past_len),
		cmocka_unit_test(test_frame_over_buffers),
		cmocka_unit_test(test_ways_apart),
		cmocka_unit_test(test_mrg_mtu_9000),
		cmocka_unit_test(test_tso_fixed_split),
		cmocka_unit_test(test_tso_fixed_packed),
		cmocka_unit_test(test_tso_fixed_small_mtu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
