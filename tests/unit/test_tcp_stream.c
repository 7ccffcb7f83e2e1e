/* test_tcp_stream.c - unit tests of frontend/tcp_stream (vsw-bench --tso): sends built right, their segments (packet/gso) accepted, every kind of damage caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frontend/tcp_stream.h"
#include "packet/csum.h"
#include "packet/gso.h"

#define MSS 1448u
#define SEND (45u * MSS)	/* vsw-bench's default: a 65,214-byte frame */

static const uint8_t DST[6] = { 0x02, 0, 0, 0, 0, 0x0b }, SRC[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static uint8_t frame[TCP_STREAM_FRAME_MAX], seg[TCP_STREAM_FRAME_MAX];
static struct pkt src, segs[8];

static struct tcp_stream_tx tx_new(unsigned send)
{
	struct tcp_stream_tx t = { .send = send, .mss = MSS, .seq = 0xfffff000u, .ip_id = 7 };

	memcpy(t.dst, DST, 6);
	memcpy(t.src, SRC, 6);
	return t;
}

static struct tcp_stream_rx rx_new(unsigned send, unsigned every)
{
	struct tcp_stream_rx r = { .send = send, .mss = MSS, .isn = 0xfffff000u, .next_seq = 0xfffff000u,
				   .verify_every = every };

	memcpy(r.dst, DST, 6);
	return r;
}

/* A send as the switch hands it to a peer that acked GUEST_TSO4: whole, header as sent. */
static void test_whole(void **state)
{
	struct tcp_stream_tx t = tx_new(SEND);
	struct tcp_stream_rx r = rx_new(SEND, 1);
	struct vnet_info vi;
	size_t len = tcp_stream_build(&t, frame, &vi);

	assert_int_equal(len, 54 + SEND);
	assert_int_equal(vi.gso, VNET_GSO_TCPV4);
	assert_int_equal(vi.gso_size, MSS);
	assert_int_equal(vi.flags, VNET_NEEDS_CSUM);
	assert_int_equal(vi.csum_start, 34);
	assert_int_equal(vi.csum_offset, 16);
	/* Three sends in a row, the sequence numbers wrapping past 2^32. */
	for (unsigned k = 0; k < 3; k++) {
		tcp_stream_stamp(&t, frame, 0);
		tcp_stream_sent(&t, 1);
		assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_OK);
	}
	assert_int_equal(r.frames, 3);
	assert_int_equal(r.gso_frames, 3);
	assert_int_equal(r.segments, 3 * 45);
	assert_int_equal(r.payload_bytes, 3 * SEND);
	assert_int_equal(r.out_of_order, 0);
	assert_int_equal(r.verified, 3);
	/* The same send again: counted, and out of order. */
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_OK);
	assert_int_equal(r.out_of_order, 1);
}

/*
 * Past 4 GiB the sequence numbers wrap, and a send of 65,160 bytes does
 * not divide 2^32: the payload check follows the stream offset, not the
 * sequence number mod the send (which failed every frame after the first
 * wrap, ~3 s into a 10 Gbit/s run).  Sends 0, 30000, 60000, 90000 and
 * 120000: jumps under 2^31 bytes, the last two past 2^32.
 */
static void test_wrap(void **state)
{
	struct tcp_stream_tx t = tx_new(SEND);
	struct tcp_stream_rx r = rx_new(SEND, 1);
	struct vnet_info vi;
	size_t len = tcp_stream_build(&t, frame, &vi);

	for (unsigned k = 0; k < 5; k++) {
		tcp_stream_stamp(&t, frame, 0);
		assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_OK);
		tcp_stream_sent(&t, 30000);
	}
	assert_int_equal(r.next_off, (uint64_t)4 * 30000 * SEND + SEND);
	assert_int_equal(r.bad[TCP_STREAM_BAD_DATA], 0);
}

/* The segments packet/gso makes for a peer without offloads: finished frames, all accepted, one per mss. */
static void test_segments(void **state)
{
	struct tcp_stream_tx t = tx_new(SEND);
	struct tcp_stream_rx r = rx_new(SEND, 1);
	struct vnet_info vi;
	size_t len = tcp_stream_build(&t, frame, &vi);
	struct iovec iov = { frame, len };
	unsigned n = 0;

	tcp_stream_stamp(&t, frame, 1);	/* the second send: payload starts at stream offset SEND again */
	pkt_rx_init(&src, &iov, 1, (uint32_t)len, 3);
	pkt_load(&src);
	vnet_to_pkt(&vi, &src);
	assert_int_equal(gso_check(&src), GSO_OK);
	assert_int_equal(gso_count(&src), 45);
	r.next_seq = r.isn + SEND;
	for (unsigned k = 0; k < 45; k += n) {
		n = (unsigned)gso_segment(&src, k, segs, 8);
		assert_true(n > 0);
		for (unsigned i = 0; i < n; i++) {
			size_t sl = pkt_to_buf(&segs[i], seg, sizeof(seg));

			assert_int_equal(sl, 54 + MSS);
			assert_int_equal(tcp_stream_check(&r, seg, sl, NULL), TCP_STREAM_OK);
		}
	}
	assert_int_equal(r.frames, 45);
	assert_int_equal(r.gso_frames, 0);
	assert_int_equal(r.segments, 45);
	assert_int_equal(r.payload_bytes, SEND);
	assert_int_equal(r.out_of_order, 0);
	/* A finished segment with one payload byte changed: caught by the checksum first. */
	seg[100] ^= 1;
	assert_int_equal(tcp_stream_check(&r, seg, 54 + MSS, NULL), TCP_STREAM_BAD_CSUM);
	/* The same under DATA_VALID (checksum not looked at): caught by the payload check. */
	assert_int_equal(tcp_stream_check(&r, seg, 54 + MSS, &(struct vnet_info){ .flags = VNET_DATA_VALID }),
			 TCP_STREAM_BAD_DATA);
	assert_int_equal(r.bad[TCP_STREAM_BAD_CSUM], 1);
	assert_int_equal(r.bad[TCP_STREAM_BAD_DATA], 1);
	assert_int_equal(r.payload_bytes, SEND);
}

/* A send small enough to be one segment: no GSO, a partial checksum whose completion is right. */
static void test_one_segment(void **state)
{
	struct tcp_stream_tx t = tx_new(1000);
	struct tcp_stream_rx r = rx_new(1000, 1);
	struct vnet_info vi;
	size_t len = tcp_stream_build(&t, frame, &vi);

	assert_int_equal(vi.gso, VNET_GSO_NONE);
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_OK);
	assert_int_equal(csum_complete_buf(frame, len, vi.csum_start, vi.csum_offset), 0);
	assert_int_equal(tcp_stream_check(&r, frame, len, NULL), TCP_STREAM_OK);
	assert_int_equal(r.segments, 2);
}

/* Every kind of damage, one at a time, with checks on every frame. */
static void test_bad(void **state)
{
	struct tcp_stream_tx t = tx_new(SEND);
	struct tcp_stream_rx r = rx_new(SEND, 1);
	struct vnet_info vi, v;
	size_t len = tcp_stream_build(&t, frame, &vi);

	/* A whole send that lost its header on the way: bigger than a segment may be. */
	assert_int_equal(tcp_stream_check(&r, frame, len, NULL), TCP_STREAM_BAD_SEG);
	v = vi, v.gso = VNET_GSO_TCPV6;
	assert_int_equal(tcp_stream_check(&r, frame, len, &v), TCP_STREAM_BAD_GSO);
	v = vi, v.flags = 0;
	assert_int_equal(tcp_stream_check(&r, frame, len, &v), TCP_STREAM_BAD_GSO);
	v = vi, v.csum_offset = 6;
	assert_int_equal(tcp_stream_check(&r, frame, len, &v), TCP_STREAM_BAD_GSO);
	assert_int_equal(tcp_stream_check(&r, frame, len - 1, &vi), TCP_STREAM_BAD_LEN);
	frame[60] ^= 0xff;
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_BAD_DATA);
	frame[60] ^= 0xff;
	frame[50] ^= 1;		/* the seed */
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_BAD_CSUM);
	frame[50] ^= 1;
	frame[22] ^= 1;		/* the TTL, under the IPv4 header checksum */
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_BAD_IP_CSUM);
	frame[22] ^= 1;
	assert_int_equal(r.payload_bytes, 0);
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_OK);
	/* Not the stream's: another destination, a UDP frame. */
	frame[0] ^= 1;
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_OTHER);
	frame[0] ^= 1;
	frame[23] = 17;
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_OTHER);
	assert_int_equal(r.other, 2);
	assert_int_equal(r.frames, 9);
}

/* The seed without the length (TSO hardware's convention): taken on a GSO frame and counted, refused on one segment. */
static void test_seed_no_len(void **state)
{
	struct tcp_stream_tx t = tx_new(SEND);
	struct tcp_stream_rx r = rx_new(SEND, 1);
	struct vnet_info vi;
	size_t len = tcp_stream_build(&t, frame, &vi);
	uint16_t c = csum_fold(csum_pseudo_ipv4(frame + 26, frame + 30, 6, 0));

	memcpy(frame + 50, &c, 2);
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_OK);
	assert_int_equal(r.seed_no_len, 1);
	t = tx_new(1000);
	r = rx_new(1000, 1);
	len = tcp_stream_build(&t, frame, &vi);
	memcpy(frame + 50, &c, 2);
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_BAD_CSUM);
	assert_int_equal(r.seed_no_len, 0);
}

/* verify_every 4: checksums and payload of frames 1, 5, 9...; the headers of all. */
static void test_sampled(void **state)
{
	struct tcp_stream_tx t = tx_new(SEND);
	struct tcp_stream_rx r = rx_new(SEND, 4);
	struct vnet_info vi;
	size_t len = tcp_stream_build(&t, frame, &vi);

	frame[60] ^= 0xff;
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_BAD_DATA);
	for (unsigned k = 0; k < 3; k++)
		assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_OK);
	assert_int_equal(tcp_stream_check(&r, frame, len, &vi), TCP_STREAM_BAD_DATA);
	assert_int_equal(r.verified, 2);
	assert_int_equal(tcp_stream_check(&r, frame, len, NULL), TCP_STREAM_BAD_SEG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_one_segment),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_seed_no_len),
		cmocka_unit_test(test_sampled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
