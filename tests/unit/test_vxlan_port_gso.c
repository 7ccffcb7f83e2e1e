/* test_vxlan_port_gso.c - unit tests of the vxlan port's UDP GSO and GRO over loopback: TSO frames out as UDP_SEGMENT payloads and back, runs of small frames, the kernel's refusal. */

/*
 * UDP GSO and GRO: a 64 KiB TSO frame leaves as UDP_SEGMENT payloads and
 * arrives, through the receive socket's GRO, as its 46 segments in order,
 * runs of them merged back into TSO frames (taken ten a burst, so a
 * slot's datagrams wait for the next burst), each segment the
 * reference's; csum=off has no GSO.  One inner flow, one outer source
 * port: a flow's TSO frame (a GSO socket) and its finished frame (the raw
 * socket) leave from the same port, and flows spread.  Runs of one flow's
 * finished frames of one size leave as UDP_SEGMENT payloads, two flows'
 * frames each in their order.  A kernel that refuses UDP GSO
 * (SO_NO_CHECK's EINVAL standing for xfrm's EIO): the refused frame still
 * arrives, GSO is off for good and said so; the same with remote=flow.
 * The tests need root (a raw socket) and fail with the reason otherwise.
 *
 * The port's other tests are test_vxlan.c's, the fixtures they share
 * vxlan_fx.h's; the payloads and GRO splits alone, without a port,
 * test_vxlan_gso.c's.
 */

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/gso_ref.h"
#include "../lib/rng.h"
#include "../lib/zalloc.h"
#include "packet/csum.h"
#include "packet/gso.h"
#include "packet/pkt.h"
#include "packet/vnet_hdr.h"
#include "packet/vxlan.h"
#include "packet/vxlan_gso.h"
#include "port/port.h"
#include "port/port_vxlan.h"
#include "vxlan_fx.h"

/*
 * @len bytes of @payload as UDP to 127.0.0.2:47890 (port b of vx_pair())
 * from 127.0.0.1 (its remote's host) on a port of their own, as one
 * UDP_SEGMENT payload of @seg-byte datagrams when @seg is not 0: datagrams
 * no vxlan port would send, from an address the receiver accepts; with
 * the outer TOS @tos (IP_TOS: DSCP and the ECN field).
 */
static void send_from_remote(const void *payload, size_t len, int seg, int tos)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET, .sin_port = htons(47890) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &from.sin_addr);
	inet_pton(AF_INET, "127.0.0.2", &to.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	if (seg)
		assert_int_equal(setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)), 0);
	assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)), 0);
	assert_int_equal(sendto(fd, payload, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
	close(fd);
}

/*
 * Port @b's frames, @burst a call, until @want segments of the TSO frame
 * @f (@len bytes, @g) have come (40 tries): each a tunnel frame, a merged
 * one a TSO request of 1448-byte segments with a partial checksum, every
 * segment the reference's (check_segments()).  Returns the merged frames;
 * *@frames counts them all, *@seen the segments.
 */
static unsigned rx_segments(struct port *b, struct pkt *rx, unsigned burst, const uint8_t *f, size_t len,
			    const struct ref_geom *g, unsigned want, unsigned *seen, unsigned *frames)
{
	struct port_io io = { 0 };
	unsigned merged = 0;

	*seen = *frames = 0;
	for (int tries = 0; *seen < want && tries < 40; tries++) {
		struct pollfd pfd = { .fd = b->ops->rx_fd(b, 0), .events = POLLIN };
		unsigned n = b->ops->rx_burst(b, 0, &io, rx, burst);

		assert_true(n <= burst);
		for (unsigned i = 0; i < n; i++, (*frames)++) {
			assert_true(rx[i].flags & PKT_F_TUNNEL);
			pkt_load(&rx[i]); /* the parse stage's */
			if (rx[i].gso_type) {
				assert_int_equal(gso_check(&rx[i]), GSO_OK);
				assert_int_equal(rx[i].gso_size, 1448);
				assert_int_equal(rx[i].csum, PKT_CSUM_PARTIAL);
				merged++;
			}
			check_segments(&rx[i], f, len, g, 1448, seen, false);
		}
		b->ops->rx_done(b, 0, &io);
		if (!n && b->ops->rx_arm(b, 0) == false)
			poll(&pfd, 1, 50);
	}
	return merged;
}

/* The 64 KiB TSO frame of test_port_gso: 46 segments through UDP GSO, received through GRO ten a burst. */
static void test_port_gso(void **state)
{
	static uint8_t frame[65535], want[65535], got[65535];
	struct pkt *tx = zalloc64(sizeof(*tx)), *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct port_io io = { 0 };
	char err[256] = "", desc[1024];
	unsigned merged = 0;
	struct port *a, *b, *d;
	struct ref_geom g;
	struct iovec iov;
	unsigned seen = 0, frames;
	size_t len;

	vx_pair(&a, &b);
	assert_int_equal(type_stat(a, "udp_gso"), 1);
	assert_int_equal(type_stat(b, "udp_gro"), 1);
	assert_int_equal(atomic_load(&a->tx_offload), GSO_TX_CSUM | GSO_TX_TSO4 | GSO_TX_TSO6 | GSO_TX_ECN | GSO_TX_USO);
	len = ref_frame(frame, &g, false, false, false, 0, 12, 0x18, 65535 - 14 - 20 - 32 - 1, 5);
	iov = (struct iovec){ frame, len };
	pkt_rx_init(tx, &iov, 1, (uint32_t)len, 0);
	pkt_load(tx);
	tx->csum = PKT_CSUM_PARTIAL;
	tx->csum_start = (uint16_t)g.l4;
	tx->csum_offset = 16;
	tx->gso_type = VNET_GSO_TCPV4;
	tx->gso_size = 1448;
	assert_int_equal(gso_check(tx), GSO_OK);
	a->ops->tx_burst(a, &io, &tx, 1);
	assert_int_equal(atomic_load(&a->stats.tx_packets), 46);
	assert_int_equal(type_stat(a, "gso_sends"), 2);
	assert_int_equal(type_stat(a, "gso_segments"), 46);
	/* A frame is a segment, or a run of them merged back (GRO): its own segments are the reference's. */
	merged = rx_segments(b, rx, 10, frame, len, &g, 46, &seen, &frames);
	assert_int_equal(seen, 46);
	assert_true(merged >= 1);
	assert_int_equal(type_stat(b, "gro_merged"), merged);
	assert_true(atomic_load(&b->stats.rx_packets) < 46);
	assert_true(type_stat(b, "gro_receives") >= 1);
	assert_true(b->rx_offload);
	assert_int_equal(type_stat(b, "rx_bad_short"), 0);
	/* 20 small frames with a partial checksum alone: 20 datagrams of one round, their checksums completed. */
	{
		struct pkt *small = zalloc64(20 * sizeof(*small)), *list[20];

		len = ref_frame(frame, &g, false, false, false, 0, 0, 0x10, 100, 9);
		iov = (struct iovec){ frame, len };
		for (unsigned i = 0; i < 20; i++) {
			pkt_rx_init(&small[i], &iov, 1, (uint32_t)len, 0);
			pkt_load(&small[i]);
			small[i].csum = PKT_CSUM_PARTIAL;
			small[i].csum_start = (uint16_t)g.l4;
			small[i].csum_offset = 16;
			list[i] = &small[i];
		}
		atomic_store(&a->stats.tx_packets, 0);
		a->ops->tx_burst(a, &io, list, 20);
		assert_int_equal(atomic_load(&a->stats.tx_packets), 20);
		assert_int_equal(type_stat(a, "gso_sends"), 2);
		ref_segment(frame, len, &g, 65535, 0, want);
		for (int tries = 0, got_n = 0; got_n < 20; tries++) {
			struct pollfd pfd = { .fd = b->ops->rx_fd(b, 0), .events = POLLIN };
			unsigned n = b->ops->rx_burst(b, 0, &io, rx, PKT_BURST);

			assert_true(tries < 40);
			for (unsigned i = 0; i < n; i++, got_n++) {
				pkt_load(&rx[i]); /* the parse stage's: the head of this frame, not a merged one's before */
				assert_int_equal(rx[i].gso_type, 0);
				assert_int_equal(pkt_to_buf(&rx[i], got, sizeof(got)), len);
				assert_memory_equal(got, want, len);
				assert_true(ref_csums_ok(got, len, &g));
			}
			b->ops->rx_done(b, 0, &io);
			if (!n)
				poll(&pfd, 1, 50);
		}
		free(small);
	}
	b->ops->describe(b, desc, sizeof(desc));
	assert_non_null(strstr(desc, " udp_gso on (source ports 49152,"));
	assert_non_null(strstr(desc, ") udp_gro on"));
	b->ops->destroy(b);
	/* csum=off: no GSO (the kernel would refuse it), the frames segmented before the port, as without. */
	d = vx_port("127.0.0.2", "127.0.0.1", "off", err, sizeof(err));
	if (!d)
		fail_msg("port d: %s", err);
	assert_int_equal(type_stat(d, "udp_gso"), 0);
	assert_int_equal(atomic_load(&d->tx_offload), 0);
	d->ops->describe(d, desc, sizeof(desc));
	assert_non_null(strstr(desc, "udp_gso off (csum=off)"));
	/* The outer ports' sockets bound all the same: an underlay router's ICMP error finds one (path MTU). */
	assert_non_null(strstr(desc, "udp_gso off (csum=off) source ports 49152,"));
	d->ops->destroy(d);
	a->ops->destroy(a);
	free(rx);
	free(tx);
}

/*
 * No GRO from the kernel (a sender without UDP GSO over loopback, as an
 * underlay whose driver has no NAPI): a TSO frame's 46 segments come as
 * 46 messages of one datagram each, and the receiving port merges the
 * runs of one burst's messages that continue the stream into TSO frames
 * itself; a message that breaks a run ends it: a segment with a bad
 * checksum goes alone, another VNI's datagram is dropped, counted once.
 */
static void test_port_merge_messages(void **state)
{
	static uint8_t frame[65535], segs[46][1600];
	struct pkt *tx = zalloc64(46 * sizeof(*tx)), *rx = zalloc64(PKT_BURST * sizeof(*rx)), *list[46];
	struct port_io io = { 0 };
	char err[256] = "";
	unsigned merged = 0, seen = 0, frames = 0;
	struct port *a, *b;
	struct ref_geom g;
	struct iovec iov[46];
	size_t len;

	(void)state;
	a = vx_port("127.0.0.1", "127.0.0.2", "off", err, sizeof(err));
	if (!a)
		fail_msg("port a: %s", err);
	b = vx_port("127.0.0.2", "127.0.0.1", "on", err, sizeof(err));
	if (!b)
		fail_msg("port b: %s", err);
	assert_int_equal(type_stat(a, "udp_gso"), 0);
	len = ref_frame(frame, &g, false, false, false, 0, 12, 0x18, 65535 - 14 - 20 - 32 - 1, 5);
	for (unsigned k = 0; k < 46; k++) {
		size_t sl = ref_segment(frame, len, &g, 1448, k, segs[k]);

		assert_true(sl > 0 && sl <= sizeof(segs[k]));
		iov[k] = (struct iovec){ segs[k], sl };
		pkt_rx_init(&tx[k], &iov[k], 1, (uint32_t)sl, 0);
		pkt_load(&tx[k]);
		list[k] = &tx[k];
	}
	a->ops->tx_burst(a, &io, list, 30);
	a->ops->tx_burst(a, &io, list + 30, 16);
	assert_int_equal(atomic_load(&a->stats.tx_packets), 46);
	merged = rx_segments(b, rx, PKT_BURST, frame, len, &g, 46, &seen, &frames);
	assert_int_equal(seen, 46);
	assert_int_equal(type_stat(b, "gro_receives"), 0);	/* the kernel glued nothing */
	assert_true(merged >= 1);
	assert_true(frames <= 46 / VXLAN_GSO_SEGS_MAX + 2);	/* a run a burst: the burst's messages, or the limit */
	assert_int_equal(type_stat(b, "gro_merged"), merged);
	assert_int_equal(atomic_load(&b->stats.rx_packets), frames);

	/* A run broken: a segment whose TCP checksum is wrong ends it; it is a frame of its own, the rest merge. */
	segs[5][g.l4 + 16] ^= 0x55;
	pkt_rx_init(&tx[5], &iov[5], 1, (uint32_t)iov[5].iov_len, 0);
	pkt_load(&tx[5]);
	merged = seen = frames = 0;
	atomic_store(&b->stats.rx_packets, 0);
	a->ops->tx_burst(a, &io, list, 10);
	for (int tries = 0; seen < 10 && tries < 40; tries++) {
		struct pollfd pfd = { .fd = b->ops->rx_fd(b, 0), .events = POLLIN };
		unsigned n = b->ops->rx_burst(b, 0, &io, rx, PKT_BURST);

		for (unsigned i = 0; i < n; i++, frames++) {
			pkt_load(&rx[i]);
			if (rx[i].gso_type) {
				merged++;
				seen += gso_count(&rx[i]);
			} else {
				if (seen == 5)
					assert_int_equal(rx[i].len, iov[5].iov_len);
				seen++;
			}
		}
		b->ops->rx_done(b, 0, &io);
		if (!n && b->ops->rx_arm(b, 0) == false)
			poll(&pfd, 1, 50);
	}
	assert_int_equal(seen, 10);
	assert_int_equal(merged, 2);	/* 0-4 and 6-9 around the bad one */
	assert_int_equal(frames, 3);

	/* A datagram of another VNI from the same host between two halves: dropped, counted once; each half merges. */
	segs[5][g.l4 + 16] ^= 0x55;
	pkt_rx_init(&tx[5], &iov[5], 1, (uint32_t)iov[5].iov_len, 0);
	pkt_load(&tx[5]);
	{
		uint8_t dgram[VXLAN_HLEN + 1600];

		vxlan_hdr_build(dgram, 0x4243);
		memcpy(dgram + VXLAN_HLEN, segs[20], iov[20].iov_len);
		a->ops->tx_burst(a, &io, list, 5);
		send_from_remote(dgram, VXLAN_HLEN + iov[20].iov_len, 0, 0);
		a->ops->tx_burst(a, &io, list + 5, 5);
	}
	merged = rx_segments(b, rx, PKT_BURST, frame, len, &g, 10, &seen, &frames);
	assert_int_equal(seen, 10);
	assert_int_equal(merged, 2);
	assert_int_equal(frames, 2);
	assert_int_equal(type_stat(b, "rx_bad_vni"), 1);
	b->ops->destroy(b);
	a->ops->destroy(a);
	free(rx);
	free(tx);
}

/*
 * Port @b's 60-byte frames into @out (@want of them at most, 40 tries
 * of a burst each): each frame's bytes, in the order they came.  Returns
 * how many came.
 */
static unsigned rx_frames60(struct port *b, struct pkt *rx, unsigned want, uint8_t (*out)[64])
{
	struct port_io io = { 0 };
	unsigned got = 0;

	for (int tries = 0; got < want && tries < 40; tries++) {
		struct pollfd pfd = { .fd = b->ops->rx_fd(b, 0), .events = POLLIN };
		unsigned n = b->ops->rx_burst(b, 0, &io, rx, PKT_BURST);

		for (unsigned i = 0; i < n; i++, got++) {
			assert_true(got < want);
			assert_int_equal(rx[i].len, 60);
			assert_int_equal(pkt_to_buf(&rx[i], out[got], 60), 60);
		}
		b->ops->rx_done(b, 0, &io);
		if (!n && b->ops->rx_arm(b, 0) == false)
			poll(&pfd, 1, 50);
	}
	return got;
}

/*
 * One GRO slot (a UDP_SEGMENT send from a plain socket of the remote's
 * address, looped back whole) of 60-byte UDP frames with, among them,
 * one of another VNI, one whose I flag is clear and a short last piece:
 * the others become packets in order, each bad one is dropped and
 * counted once (the slot's fast loop hands what it cannot take to the
 * general one, which counts).
 */
static void test_port_gro_slot_drops(void **state)
{
	enum { N = 9, SEG = VXLAN_HLEN + 60 };
	static const uint32_t vni[N] = { 0x4242, 0x4242, 0x4242, 0x4343, 0x4242, 0x4242, 0x4242, 0x4242, 0x4242 };
	static uint8_t payload[N * SEG + 10];
	struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));
	uint8_t out[N][64];
	char err[256] = "";
	unsigned got, want = 0, seq[N];
	struct ref_geom g;
	struct port *b;

	(void)state;
	b = vx_port("127.0.0.2", "127.0.0.1", "on", err, sizeof(err));
	if (!b)
		fail_msg("port b: %s", err);
	for (unsigned k = 0; k < N; k++) {
		uint8_t *d = payload + k * SEG;

		vxlan_hdr_build(d, vni[k]);
		assert_int_equal(ref_frame(d + VXLAN_HLEN, &g, false, true, false, 0, 0, 0, 18, 100 + k), 60);
		if (k == 6)
			d[0] = 0; /* the I flag clear */
		if (vni[k] == 0x4242 && k != 6)
			seq[want++] = k;
	}
	memset(payload + N * SEG, 0x08, 10); /* a last piece of 10 bytes: short */
	send_from_remote(payload, sizeof(payload), SEG, 0);
	got = rx_frames60(b, rx, want, out);
	assert_int_equal(got, want);
	for (unsigned k = 0; k < got; k++)
		assert_memory_equal(out[k], payload + seq[k] * SEG + VXLAN_HLEN, 60);
	assert_true(type_stat(b, "gro_receives") >= 1);
	assert_int_equal(type_stat(b, "rx_bad_vni"), 1);
	assert_int_equal(type_stat(b, "rx_bad_flags"), 1);
	assert_int_equal(type_stat(b, "rx_bad_short"), 1);
	b->ops->destroy(b);
	free(rx);
}

/*
 * RFC 6040 over a GRO slot: one UDP_SEGMENT send under an outer CE of
 * 60-byte inner IPv4 frames, ECT(0), Not-ECT, ECT(1), CE, Not-ECT,
 * ECT(0), and a Not-ECT one of another VNI: the four ECN-capable ones
 * come out CE, in order, their header checksums right; each Not-ECT one
 * is dropped and counted once (rx_bad_ecn, not rx_bad_flags: the drop
 * mark is told apart), the other VNI's as rx_bad_vni.  Then a slot under
 * ECT(1): its ECT(0) packets come out ECT(1), the other VNI's again
 * rx_bad_vni.
 */
static void test_port_gro_slot_ecn(void **state)
{
	enum { N = 7, SEG = VXLAN_HLEN + 60 };
	static const uint8_t inner[N] = { 2, 0, 1, 3, 0, 2, 0 };
	static uint8_t payload[N * SEG];
	struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));
	uint8_t out[N][64];
	char err[256] = "";
	struct port *b;

	(void)state;
	b = vx_port("127.0.0.2", "127.0.0.1", "on", err, sizeof(err));
	if (!b)
		fail_msg("port b: %s", err);
	for (unsigned round = 0; round < 2; round++) {
		const int outer = round ? 0xb8 | 1 : 0xb8 | 3; /* DSCP 46 and ECT(1), then CE */
		unsigned got, want = 0, seq[N];

		for (unsigned k = 0; k < N; k++) {
			uint8_t *d = payload + k * SEG;
			uint16_t c;

			vxlan_hdr_build(d, k == N - 1 ? 0x4343 : 0x4242);
			small_frame(d + VXLAN_HLEN, 60, 1000, k);
			d[VXLAN_HLEN + 15] = (uint8_t)(0x28 | inner[k]); /* DSCP 10 */
			c = csum_ipv4_hdr(d + VXLAN_HLEN + 14, 20);
			memcpy(d + VXLAN_HLEN + 24, &c, 2);
			if ((inner[k] || round) && k != N - 1)
				seq[want++] = k;
		}
		send_from_remote(payload, sizeof(payload), SEG, outer);
		got = rx_frames60(b, rx, want, out);
		assert_int_equal(got, want);
		for (unsigned k = 0; k < got; k++) {
			const uint8_t *want_f = payload + seq[k] * SEG + VXLAN_HLEN;
			unsigned ecn = round ? (inner[seq[k]] == 2 ? 1 : inner[seq[k]]) : 3;

			assert_int_equal(out[k][15], 0x28 | ecn);
			assert_int_equal(csum_fold(csum_add(0, out[k] + 14, 20)), 0xffff);
			assert_memory_equal(out[k] + 16, want_f + 16, 8); /* then the checksum, then as sent */
			assert_memory_equal(out[k] + 26, want_f + 26, 60 - 26);
		}
	}
	assert_true(type_stat(b, "gro_receives") >= 2);
	assert_int_equal(type_stat(b, "rx_bad_ecn"), 2);
	assert_int_equal(type_stat(b, "rx_bad_vni"), 2);
	assert_int_equal(type_stat(b, "rx_bad_flags"), 0);
	b->ops->destroy(b);
	free(rx);
}

/* A UDP socket bound to @ip:47890 in place of a vxlan port: it sees the datagrams' outer headers. */
static int udp_sink(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(47890) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, ip, &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* The next datagram on @fd within 1 s: its outer source port (0: none came), its length in *@len. */
static unsigned sink_sport(int fd, size_t *len)
{
	static uint8_t buf[65536];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	if (poll(&pfd, 1, 1000) != 1)
		return 0;
	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 0)
		return 0;
	if (len)
		*len = (size_t)n;
	return ntohs(from.sin_port);
}

/*
 * RFC 6040 normal mode at the ingress: a burst of one flow's 60-byte
 * frames whose inner ECN fields vary (DSCP 10 on all), two more behind
 * an 802.1Q and an 802.1ad tag, through a port
 * with the default tos=, with tos=184 (DSCP 46) and with tos=inherit,
 * csum=on (UDP GSO: the gathered payloads, a run's shortcut) and off (the
 * raw socket's plain loop): every datagram's outer TOS is the port's DSCP
 * with the inner ECN field (the inner TOS whole with inherit), read at a
 * plain UDP socket in the remote's place (IP_RECVTOS).  A tos= with ECN
 * bits is refused.
 */
static void test_port_ecn_encap(void **state)
{
	enum { N = 19, TAGGED = 16, QINQ = 18 };
	static const uint8_t ecn[N] = { 0, 2, 2, 0, 3, 1, 2, 2, 2, 2, 0, 0, 2, 2, 3, 2, 1, 3, 1 };
	static const char *const toses[] = { NULL, "184", "inherit" };
	static uint8_t frames[N][72];
	struct pkt *tx = zalloc64(N * sizeof(*tx)), *ptr[N];
	struct iovec iov[N];
	struct port_io io = { 0 };
	char err[256] = "";

	(void)state;
	for (unsigned k = 0; k < N; k++) {
		uint16_t c;

		small_frame(frames[k], 60, 1000, k);
		frames[k][15] = (uint8_t)(0x28 | ecn[k]);
		c = csum_ipv4_hdr(frames[k] + 14, 20);
		memcpy(frames[k] + 24, &c, 2);
		if (k == QINQ) {
			/* behind an 802.1ad tag (VLAN 100) and an 802.1Q one (VLAN 200) */
			memmove(frames[k] + 20, frames[k] + 12, 48);
			memcpy(frames[k] + 12, "\x88\xa8\x00\x64\x81\x00\x00\xc8", 8);
		} else if (k >= TAGGED) {
			/* behind an 802.1Q tag, then an 802.1ad one (VLAN 7) */
			memmove(frames[k] + 16, frames[k] + 12, 48);
			frames[k][12] = k == TAGGED ? 0x81 : 0x88;
			frames[k][13] = k == TAGGED ? 0x00 : 0xa8;
			frames[k][14] = 0;
			frames[k][15] = 7;
		}
	}
	for (unsigned csum = 0; csum < 2; csum++) {
		for (unsigned t = 0; t < sizeof(toses) / sizeof(toses[0]); t++) {
			struct json_object *o = json_object_new_object();
			struct port_env env = { 0 };
			int sink = udp_sink("127.0.0.2"), one = 1;
			unsigned seen = 0;
			struct port *a;

			json_object_object_add(o, "local", json_object_new_string("127.0.0.1"));
			json_object_object_add(o, "remote", json_object_new_string("127.0.0.2"));
			json_object_object_add(o, "vni", json_object_new_int(0x4242));
			json_object_object_add(o, "dstport", json_object_new_int(47890));
			json_object_object_add(o, "csum", json_object_new_string(csum ? "on" : "off"));
			if (toses[t])
				json_object_object_add(o, "tos", json_object_new_string(toses[t]));
			a = port_vxlan_create("ecn", o, &env, err, sizeof(err));
			json_object_put(o);
			if (!a)
				fail_msg("port: %s", err);
			assert_int_equal(setsockopt(sink, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one)), 0);
			for (unsigned k = 0; k < N; k++) {
				unsigned len = k == QINQ ? 68 : k >= TAGGED ? 64 : 60;

				iov[k] = (struct iovec){ frames[k], len };
				pkt_rx_init(&tx[k], &iov[k], 1, len, 0);
				pkt_load(&tx[k]);
				ptr[k] = &tx[k];
			}
			a->ops->tx_burst(a, &io, ptr, N);
			for (unsigned k = 0; k < N; k++) {
				uint8_t buf[128], cbuf[CMSG_SPACE(sizeof(int))];
				struct iovec riov = { buf, sizeof(buf) };
				struct msghdr mh = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = cbuf,
						     .msg_controllen = sizeof(cbuf) };
				struct pollfd pfd = { .fd = sink, .events = POLLIN };
				int tos = -1, want;
				unsigned seq, at;
				ssize_t got;

				if (poll(&pfd, 1, 1000) != 1)
					break;
				got = recvmsg(sink, &mh, 0);
				/* a tagged frame's sequence number is 4 bytes on, a QinQ one's 8 */
				at = buf[VXLAN_HLEN + 12] == 0x08 ? 0 : buf[VXLAN_HLEN + 16] == 0x81 ? 8 : 4;
				assert_int_equal(got, VXLAN_HLEN + 60 + at);
				for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
					if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS)
						tos = *CMSG_DATA(cm);
				seq = (unsigned)buf[VXLAN_HLEN + at + 42] << 8 | buf[VXLAN_HLEN + at + 43];
				assert_true(seq < N);
				want = t == 2 ? 0x28 | ecn[seq] : (t == 1 ? 184 : 0) | ecn[seq];
				if (tos != want)
					fail_msg("csum=%s tos=%s: frame %u (inner ECN %u) left with outer TOS %d, not %d",
						 csum ? "on" : "off", toses[t] ? toses[t] : "(default)", seq, ecn[seq], tos, want);
				seen++;
			}
			assert_int_equal(seen, N);
			a->ops->destroy(a);
			close(sink);
		}
	}
	/* tos= is the DSCP: ECN bits in it are refused, with the reason. */
	{
		struct json_object *o = json_object_new_object();
		struct port_env env = { 0 };

		json_object_object_add(o, "local", json_object_new_string("127.0.0.1"));
		json_object_object_add(o, "remote", json_object_new_string("127.0.0.2"));
		json_object_object_add(o, "vni", json_object_new_int(0x4242));
		json_object_object_add(o, "tos", json_object_new_string("185"));
		assert_null(port_vxlan_create("ecn", o, &env, err, sizeof(err)));
		assert_non_null(strstr(err, "ECN bits"));
		json_object_put(o);
	}
	free(tx);
}

/*
 * A burst of runs of two flows' 60-byte frames that leave by different
 * GSO sockets (the streak of one flow's frames must end where the other
 * flow's begin): every datagram leaves from its own flow's outer source
 * port, the inner frame as sent (each socket's payloads go in one send:
 * the flows' order between them is not kept, nor needed).
 */
static void test_port_run_two_flows(void **state)
{
	enum { RUN = 7, N = 4 * RUN };
	static uint8_t fr[2][64], buf[2048];
	struct pkt *tx = zalloc64(N * sizeof(*tx)), *list[N];
	struct iovec iov[N];
	struct port_io io = { 0 };
	char err[256] = "";
	unsigned sport[2] = { 0, 0 }, seed[2] = { 1, 0 }, got = 0, per[2] = { 0, 0 };
	size_t len[2];
	struct ref_geom g;
	struct port *a;
	int fd;

	(void)state;
	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	a = vx_port("127.0.0.1", "127.0.0.2", "on", err, sizeof(err));
	if (!a)
		fail_msg("port a: %s", err);
	fd = udp_sink("127.0.0.2");
	/* Two flows whose frames leave from different outer ports: each one's port from a frame sent alone. */
	for (unsigned s = 1; s <= 64 && !seed[1]; s++) {
		unsigned f = sport[0] ? 1 : 0, p;
		struct pkt *one = &tx[0];

		len[f] = ref_frame(fr[f], &g, false, false, false, 0, 0, 0x10, 6, s);
		assert_int_equal(len[f], 60);
		ref_pkt(&tx[0], &iov[0], fr[f], len[f], &g, 0);
		a->ops->tx_burst(a, &io, &one, 1);
		p = sink_sport(fd, NULL);
		assert_int_not_equal(p, 0);
		if (f == 0) {
			sport[0] = p;
		} else if (p != sport[0]) {
			sport[1] = p;
			seed[1] = s;
		}
	}
	assert_int_not_equal(seed[1], 0);
	/* A A A .. B B B .. A A A .. B B B .., RUN each; heads loaded, not parsed (the data path parses lazily) */
	for (unsigned i = 0; i < N; i++) {
		unsigned f = i / RUN % 2;

		iov[i] = (struct iovec){ fr[f], len[f] };
		pkt_rx_init(&tx[i], &iov[i], 1, (uint32_t)len[f], 0);
		pkt_load_head(&tx[i]);
		list[i] = &tx[i];
	}
	atomic_store(&a->stats.tx_packets, 0);
	a->ops->tx_burst(a, &io, list, N);
	assert_int_equal(atomic_load(&a->stats.tx_packets), N);
	for (unsigned k = 0; k < N; k++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		unsigned f;
		ssize_t n;

		if (poll(&pfd, 1, 1000) != 1)
			break;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		assert_int_equal(n, VXLAN_HLEN + 60);
		f = !memcmp(buf + VXLAN_HLEN, fr[1], 60);
		if (!f)
			assert_memory_equal(buf + VXLAN_HLEN, fr[0], 60);
		if (ntohs(from.sin_port) != sport[f])
			fail_msg("frame %u (flow %c) left from outer port %u, its flow's is %u", k, f ? 'B' : 'A',
				 ntohs(from.sin_port), sport[f]);
		got++;
		per[f]++;
	}
	assert_int_equal(got, N);
	assert_int_equal(per[0], N / 2);
	assert_int_equal(per[1], N / 2);
	close(fd);
	a->ops->destroy(a);
	free(tx);
}

/*
 * One inner flow, one outer source port (RFC 7348 section 5, for ECMP):
 * a flow's TSO frame (through a UDP GSO socket) and its finished frame
 * (through the raw socket) leave from the same port; 32 flows spread over
 * several of the GSO sockets' ports.
 */
static void test_port_sport_one_flow(void **state)
{
	static uint8_t big[4096], small[256];
	struct pkt *tx = zalloc64(2 * sizeof(*tx));
	struct port_io io = { 0 };
	char err[256] = "";
	unsigned ports[32], distinct = 0;
	struct port *a;
	int fd;

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	a = vx_port("127.0.0.1", "127.0.0.2", "on", err, sizeof(err));
	if (!a)
		fail_msg("port a: %s", err);
	assert_int_equal(type_stat(a, "udp_gso"), 1);
	fd = udp_sink("127.0.0.2");
	for (uint32_t seed = 1; seed <= 32; seed++) {
		struct iovec iov[2];
		struct ref_geom g;
		size_t bl = ref_frame(big, &g, false, false, false, 0, 0, 0x10, 3000, seed);
		size_t sl = ref_frame(small, &g, false, false, false, 0, 0, 0x10, 40, seed);
		struct pkt *one;
		unsigned gso_port, p;

		ref_pkt(&tx[0], &iov[0], big, bl, &g, 1000);
		ref_pkt(&tx[1], &iov[1], small, sl, &g, 0);
		one = &tx[0];
		a->ops->tx_burst(a, &io, &one, 1);
		gso_port = sink_sport(fd, NULL);
		assert_int_not_equal(gso_port, 0);
		for (int k = 1; k < 3; k++)
			assert_int_equal(sink_sport(fd, NULL), gso_port);
		one = &tx[1];
		a->ops->tx_burst(a, &io, &one, 1);
		p = sink_sport(fd, NULL);
		if (p != gso_port)
			fail_msg("flow %u: its TSO frame left from port %u, its finished frame from %u", (unsigned)seed,
				 gso_port, p);
		ports[seed - 1] = p;
		distinct++;
		for (uint32_t i = 0; i + 1 < seed; i++)
			if (ports[i] == p) {
				distinct--;
				break;
			}
	}
	/* 32 flows over the 8 GSO sockets' ports: a hash that spreads reaches several. */
	assert_true(distinct >= 4);
	assert_int_equal(type_stat(a, "gso_sends"), 32);
	close(fd);
	a->ops->destroy(a);
	free(tx);
}

/* The GSO sockets of @p: the source ports its describe lists. */
static unsigned gso_sockets(struct port *p)
{
	char desc[1024], *at;
	unsigned n = 0;

	p->ops->describe(p, desc, sizeof(desc));
	at = strstr(desc, "udp_gso on (source ports ");
	assert_non_null(at);
	at += strlen("udp_gso on (source ports ");
	for (char *end;; at = end + 1) {
		(void)strtoul(at, &end, 10);
		n++;
		if (*end != ',')
			return n;
	}
}

/*
 * Runs of finished frames through the GSO sockets: a burst mixing two
 * flows' runs of one size, lone frames, a frame of another size and runs
 * of the other flow arrives whole, each flow's frames in their order,
 * and the runs went out as UDP_SEGMENT payloads (gso_sends, gso_segments).
 */
static void test_port_small_runs(void **state)
{
	/* flow (0: A, 1: B) and size of each frame of the burst, in order */
	static const uint8_t flow[] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0 };
	static const uint16_t size[] = { 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60,
					 60, 60, 60, 200, 200, 200, 60, 60, 60, 60, 60 };
	enum { N = sizeof(flow) };
	static uint8_t frames[N][200], out[256];
	struct pkt *tx = zalloc64(N * sizeof(*tx)), *list[N], *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct iovec iov[N];
	struct port_io io = { 0 };
	unsigned next[2] = { 0, 0 }, seq[2] = { 0, 0 }, got = 0;
	struct port *a, *b;
	uint16_t sport_b = 2000;
	unsigned socks;

	_Static_assert(sizeof(flow) == sizeof(size) / sizeof(size[0]), "one size a frame");
	vx_pair(&a, &b);
	assert_int_equal(type_stat(a, "udp_gso"), 1);
	/* B on another GSO socket than A (the hash's pick, vx_sport()): two ways out whose order matters */
	socks = gso_sockets(a);
	assert_true(socks >= 2);
	small_frame(frames[0], 60, 1000, 0);
	iov[0] = (struct iovec){ frames[0], 60 };
	pkt_rx_init(&tx[0], &iov[0], 1, 60, 0);
	pkt_load(&tx[0]);
	for (uint32_t ha = vxlan_flow_hash(&tx[0]);; sport_b++) {
		small_frame(frames[1], 60, sport_b, 0);
		iov[1] = (struct iovec){ frames[1], 60 };
		pkt_rx_init(&tx[1], &iov[1], 1, 60, 0);
		pkt_load(&tx[1]);
		if ((uint64_t)ha * socks >> 32 != (uint64_t)vxlan_flow_hash(&tx[1]) * socks >> 32)
			break;
	}
	for (unsigned i = 0; i < N; i++) {
		small_frame(frames[i], size[i], flow[i] ? sport_b : 1000, seq[flow[i]]++);
		iov[i] = (struct iovec){ frames[i], size[i] };
		pkt_rx_init(&tx[i], &iov[i], 1, size[i], 0);
		pkt_load(&tx[i]);
		list[i] = &tx[i];
	}
	a->ops->tx_burst(a, &io, list, N);
	assert_int_equal(atomic_load(&a->stats.tx_packets), N);
	/* Runs of two or more went as UDP_SEGMENT payloads: A's first eight at least. */
	assert_true(type_stat(a, "gso_sends") >= 3);
	assert_true(type_stat(a, "gso_segments") >= 8);
	for (int tries = 0; tries < 40 && got < N; tries++) {
		unsigned n = rx_wait(b, rx);

		for (unsigned k = 0; k < n; k++) {
			unsigned f, q, len = rx[k].len;

			assert_true(len <= sizeof(out));
			assert_int_equal(pkt_to_buf(&rx[k], out, len), len);
			f = out[35] == (sport_b & 0xff) && out[34] == sport_b >> 8;
			q = (unsigned)out[42] << 8 | out[43];
			if (q != next[f])
				fail_msg("flow %c: frame %u arrived where %u was due", f ? 'B' : 'A', q, next[f]);
			next[f]++;
			/* the frame as sent: find it by flow and sequence */
			for (unsigned i = 0, c = 0; i < N; i++)
				if (flow[i] == f && c++ == q) {
					assert_int_equal(len, size[i]);
					assert_memory_equal(out, frames[i], len);
				}
		}
		got += n;
		b->ops->rx_done(b, 0, &io);
	}
	assert_int_equal(got, N);
	assert_int_equal(next[0] + next[1], N);
	a->ops->destroy(a);
	b->ops->destroy(b);
	free(rx);
	free(tx);
}

/* The GSO socket vxlan port @p (@socks of them) picks for a 60-byte small_frame() from UDP port @sport. */
static unsigned sock_of(unsigned socks, uint16_t sport)
{
	static uint8_t f[60];
	struct pkt *pk = zalloc64(sizeof(*pk));
	struct iovec iov = { f, 60 };
	unsigned s;

	small_frame(f, 60, sport, 0);
	pkt_rx_init(pk, &iov, 1, 60, 0);
	pkt_load(pk);
	s = (unsigned)((uint64_t)vxlan_flow_hash(pk) * socks >> 32);
	free(pk);
	return s;
}

/*
 * Port @a's VNI floods to two remotes: b's host, and 127.0.0.3, where
 * nobody listens (a broadcast leaves as two copies through the raw
 * socket); destination @mac is behind b's host (a static entry).
 */
static void flood_two(struct port *a, const uint8_t mac[6])
{
	char err[256] = "";

	for (unsigned k = 0; k < 2; k++)
		if (port_vxlan_fdb_add(a, (const uint8_t[6]){ 0 }, 0x4242, k ? "127.0.0.3" : "127.0.0.2", err, sizeof(err)))
			fail_msg("flood list: %s", err);
	if (port_vxlan_fdb_add(a, mac, 0x4242, "127.0.0.2", err, sizeof(err)))
		fail_msg("static entry: %s", err);
}

/*
 * Frames of many inner flows gathered by GSO socket (vx_tx_gather()):
 * two flows' lone frames of one size on one socket leave as one
 * UDP_SEGMENT payload of two datagrams, lone frames each on a socket of
 * their own through the raw socket; then bursts of 1 to 64 frames of 24
 * flows in a random order, of three sizes, some with a partial checksum
 * and some broadcasts flooded to two remotes (the transmit loop's other
 * ways, between which the common frames are gathered again), arrive
 * whole, each flow's in its order, many of them glued into payloads.
 */
static void test_port_gather_many_flows(void **state)
{
	enum { FLOWS = 24, N = PKT_BURST, BURSTS = 40 };
	static const uint16_t sizes[] = { 60, 60, 60, 60, 200, 61 };
	static uint8_t frames[N][200], out[256];
	struct pkt *tx = zalloc64(N * sizeof(*tx)), *list[N], *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct iovec iov[N];
	struct port_io io = { 0 };
	unsigned seq[FLOWS] = { 0 }, next[FLOWS] = { 0 }, socks, sk[FLOWS], lone[3] = { 0 }, pair[2] = { 0 }, nl = 0, np = 0;
	uint64_t rnd = 7, sends, segments, total = 0, copies = 0, packets;
	struct port *a, *b;

	(void)state;
	vx_pair(&a, &b);
	socks = gso_sockets(a);
	assert_true(socks >= 4);
	for (unsigned f = 0; f < FLOWS; f++)
		sk[f] = sock_of(socks, (uint16_t)(1000 + f));
	/* three flows of three sockets, and two flows of one socket that none of the three has */
	for (unsigned f = 0; f < FLOWS && np < 2; f++)
		for (unsigned g = f + 1; g < FLOWS && np < 2; g++)
			if (sk[f] == sk[g]) {
				pair[0] = f;
				pair[1] = g;
				np = 2;
			}
	assert_int_equal(np, 2);
	for (unsigned f = 0; f < FLOWS && nl < 3; f++) {
		bool fresh = sk[f] != sk[pair[0]];

		for (unsigned j = 0; j < nl; j++)
			fresh = fresh && sk[lone[j]] != sk[f];
		if (fresh)
			lone[nl++] = f;
	}
	assert_int_equal(nl, 3);
	for (unsigned round = 0; round < 2; round++) {
		const unsigned *fl = round ? pair : lone, n = round ? 2 : 3;

		sends = type_stat(a, "gso_sends");
		segments = type_stat(a, "gso_segments");
		for (unsigned i = 0; i < n; i++) {
			small_frame(frames[i], 60, (uint16_t)(1000 + fl[i]), 0);
			iov[i] = (struct iovec){ frames[i], 60 };
			pkt_rx_init(&tx[i], &iov[i], 1, 60, 0);
			pkt_load_head(&tx[i]);
			list[i] = &tx[i];
		}
		a->ops->tx_burst(a, &io, list, n);
		assert_int_equal(type_stat(a, "gso_sends") - sends, round);
		assert_int_equal(type_stat(a, "gso_segments") - segments, round ? 2 : 0);
		for (unsigned got = 0, tries = 0; got < n; tries++) {
			unsigned k = rx_wait(b, rx);

			assert_true(tries < 10);
			for (unsigned j = 0; j < k; j++) {
				unsigned f = 0, len = rx[j].len;

				assert_int_equal(pkt_to_buf(&rx[j], out, len), len);
				while (f < n && out[35] != (uint8_t)(1000 + fl[f]))
					f++;
				assert_true(f < n);
				assert_memory_equal(out, frames[f], 60);
			}
			got += k;
			b->ops->rx_done(b, 0, &io);
		}
	}
	flood_two(a, frames[0]);
	sends = type_stat(a, "gso_sends");
	segments = type_stat(a, "gso_segments");
	packets = atomic_load(&a->stats.tx_packets);
	for (unsigned burst = 0; burst < BURSTS; burst++) {
		unsigned n = 1 + test_rnd(&rnd) % N, who[N], nth[N], got = 0;

		for (unsigned i = 0; i < n; i++) {
			unsigned f = test_rnd(&rnd) % FLOWS, len = sizes[test_rnd(&rnd) % 6];

			who[i] = f;
			nth[i] = seq[f];
			small_frame(frames[i], len, (uint16_t)(1000 + f), seq[f]++);
			if (test_rnd(&rnd) % 20 == 0) {
				memset(frames[i], 0xff, 6); /* a broadcast: two copies through the raw socket */
				copies++;
			}
			iov[i] = (struct iovec){ frames[i], len };
			pkt_rx_init(&tx[i], &iov[i], 1, len, 0);
			pkt_load_head(&tx[i]);
			if (test_rnd(&rnd) % 20 == 0) {
				/* a partial UDP checksum to complete: vx_gso_frame()'s way */
				tx[i].csum = PKT_CSUM_PARTIAL;
				tx[i].csum_start = 34;
				tx[i].csum_offset = 6;
			}
			list[i] = &tx[i];
		}
		a->ops->tx_burst(a, &io, list, n);
		total += n;
		for (int tries = 0; tries < 20 && got < n; tries++) {
			unsigned k = rx_wait(b, rx);

			for (unsigned j = 0; j < k; j++) {
				unsigned len = rx[j].len, f, q, i = 0;

				assert_true(len <= sizeof(out));
				assert_int_equal(pkt_to_buf(&rx[j], out, len), len);
				f = ((unsigned)out[34] << 8 | out[35]) - 1000;
				q = (unsigned)out[42] << 8 | out[43];
				assert_true(f < FLOWS);
				if (q != next[f])
					fail_msg("burst %u, flow %u: frame %u arrived where %u was due", burst, f, q, next[f]);
				next[f]++;
				while (i < n && (who[i] != f || nth[i] != q))
					i++;
				assert_true(i < n);
				assert_int_equal(len, tx[i].len);
				/* all but the UDP checksum, which a partial one had completed */
				assert_memory_equal(out, frames[i], 40);
				assert_memory_equal(out + 42, frames[i] + 42, len - 42);
			}
			got += k;
			b->ops->rx_done(b, 0, &io);
		}
		assert_int_equal(got, n);
	}
	/*
	 * Glued across flows: a quarter of the frames at least went in
	 * payloads of two datagrams or more (38 % here; runs of one flow
	 * alone, one frame in 24 follows its flow's: a few percent).
	 */
	assert_true(type_stat(a, "gso_segments") - segments >= total / 4);
	assert_int_equal(atomic_load(&a->stats.tx_packets) - packets, total + copies);
	a->ops->destroy(a);
	b->ops->destroy(b);
	free(rx);
	free(tx);
}

/*
 * Finished frames too big to glue (two of them over a payload's
 * VXLAN_GSO_BYTES) through the common frames' loop: two of 40,000 and two
 * of 65,490 bytes of one flow, then two small ones, arrive whole and in
 * order (the gather once took a payload of room for none of them, and
 * looped).
 */
static void test_port_gather_big_frames(void **state)
{
	enum { N = 6 };
	static const unsigned size[N] = { 40000, 40000, 65490, 65490, 60, 60 };
	uint8_t *fr[N], *out = malloc(65536);
	struct pkt *tx = zalloc64(N * sizeof(*tx)), *list[N], *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct iovec iov[N];
	struct port_io io = { 0 };
	unsigned got = 0;
	struct port *a, *b;

	(void)state;
	assert_non_null(out);
	vx_pair(&a, &b);
	for (unsigned i = 0; i < N; i++) {
		fr[i] = malloc(size[i]);
		assert_non_null(fr[i]);
		small_frame(fr[i], size[i], 1000, i);
		iov[i] = (struct iovec){ fr[i], size[i] };
		pkt_rx_init(&tx[i], &iov[i], 1, size[i], 0);
		pkt_load_head(&tx[i]);
		list[i] = &tx[i];
	}
	a->ops->tx_burst(a, &io, list, N);
	assert_int_equal(atomic_load(&a->stats.tx_packets), N);
	for (int tries = 0; tries < 20 && got < N; tries++) {
		unsigned n = rx_wait(b, rx);

		for (unsigned k = 0; k < n; k++, got++) {
			unsigned l = rx[k].len;

			assert_int_equal(pkt_to_buf(&rx[k], out, l), l);
			assert_int_equal(out[43], got);
			assert_int_equal(l, size[got]);
			assert_memory_equal(out, fr[got], l);
		}
		b->ops->rx_done(b, 0, &io);
	}
	assert_int_equal(got, N);
	a->ops->destroy(a);
	b->ops->destroy(b);
	for (unsigned i = 0; i < N; i++)
		free(fr[i]);
	free(out);
	free(rx);
	free(tx);
}

/*
 * The kernel's first refusal of UDP GSO in the middle of a burst, and a
 * flow's frame with an offload request after it (still cut into the
 * round: GSO had been on when the burst began) followed by a finished
 * frame of that flow: [G1 G2] glued (a UDP_SEGMENT payload), broadcast
 * B (copies: the round is flushed first, and refused), F1 with a
 * partial checksum (the round), F2 finished.  F2 waits for the round
 * (the GSO-off loop took it onto the raw batch, sent first, until it
 * waited for a round to be empty): F's frames arrive in order.
 */
static void test_port_gso_refused_round_waits(void **state)
{
	enum { N = 5 };
	static uint8_t fr[N][64], out[256];
	static const uint16_t sport[N] = { 2000, 2000, 3000, 1000, 1000 };
	static const uint8_t seq[N] = { 0, 1, 0, 0, 1 };
	struct pkt *tx = zalloc64(N * sizeof(*tx)), *list[N], *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct iovec iov[N];
	struct port_io io = { 0 };
	unsigned socks, got = 0, next_f = 0, seen = 0;
	struct port *a, *b;

	(void)state;
	vx_pair(&a, &b);
	socks = gso_sockets(a);
	for (unsigned i = 0; i < N; i++) {
		small_frame(fr[i], 60, sport[i], seq[i]);
		if (i == 2)
			memset(fr[i], 0xff, 6); /* B: a broadcast */
		iov[i] = (struct iovec){ fr[i], 60 };
		pkt_rx_init(&tx[i], &iov[i], 1, 60, 0);
		pkt_load_head(&tx[i]);
		list[i] = &tx[i];
	}
	tx[3].csum = PKT_CSUM_PARTIAL; /* F1 */
	tx[3].csum_start = 34;
	tx[3].csum_offset = 6;
	flood_two(a, fr[0]);
	assert_int_equal(gso_break(a, "127.0.0.1"), socks);
	a->ops->tx_burst(a, &io, list, N);
	assert_int_equal(type_stat(a, "gso_fallbacks"), 1);
	assert_int_equal(atomic_load(&a->stats.tx_packets), N + 1); /* B twice */
	for (int tries = 0; tries < 10 && got < N; tries++) {
		unsigned n = rx_wait(b, rx);

		for (unsigned k = 0; k < n; k++, got++) {
			unsigned l = rx[k].len;

			assert_int_equal(l, 60);
			assert_int_equal(pkt_to_buf(&rx[k], out, l), l);
			if ((out[34] << 8 | out[35]) != 1000)
				continue;
			if (out[43] != next_f)
				fail_msg("flow F: frame %u arrived where %u was due", out[43], next_f);
			next_f++;
			seen++;
		}
		b->ops->rx_done(b, 0, &io);
	}
	assert_int_equal(got, N);
	assert_int_equal(seen, 2);
	b->ops->destroy(b);
	a->ops->destroy(a);
	free(rx);
	free(tx);
}

/*
 * The kernel's first refusal of UDP GSO while the raw socket's batch
 * waits: frame X alone (the raw socket), a run of flow Y (a GSO payload),
 * then broadcast Z, flooded to two remotes (copies: the raw socket, no
 * GSO socket known), which flushes the GSO round before it joins the
 * batch.  The refused payload is resent a datagram at a time; X's
 * message, not sent yet, stays X's: all five frames arrive once each
 * (the resend wrote over the batch's first messages, and X was lost while
 * counted as sent, until it got messages of its own).
 */
static void test_port_gso_refused_raw_waiting(void **state)
{
	enum { N = 5 };
	static const unsigned size[N] = { 60, 60, 60, 60, 70 };
	static uint8_t fr[N][70], out[256];
	struct pkt *tx = zalloc64(N * sizeof(*tx)), *list[N], *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct iovec iov[N];
	struct port_io io = { 0 };
	uint16_t sport[N] = { 0, 1000, 1000, 1000, 0 };
	unsigned socks, sy, got = 0, seen[N] = { 0 };
	struct port *a, *b;

	(void)state;
	vx_pair(&a, &b);
	socks = gso_sockets(a);
	assert_true(socks >= 2);
	sy = sock_of(socks, 1000);
	for (uint16_t p = 2000; !sport[0] || !sport[4]; p++) {
		if (!sport[0] && sock_of(socks, p) != sy)
			sport[0] = p;
		else if (!sport[4] && sock_of(socks, p) == sy)
			sport[4] = p;
		assert_true(p < 3000);
	}
	for (unsigned i = 0; i < N; i++) {
		small_frame(fr[i], size[i], sport[i], i);
		if (i == N - 1)
			memset(fr[i], 0xff, 6); /* Z: a broadcast */
		iov[i] = (struct iovec){ fr[i], size[i] };
		pkt_rx_init(&tx[i], &iov[i], 1, size[i], 0);
		pkt_load_head(&tx[i]);
		list[i] = &tx[i];
	}
	flood_two(a, fr[0]); /* Z, a broadcast, leaves as two copies */
	assert_int_equal(gso_break(a, "127.0.0.1"), socks);
	a->ops->tx_burst(a, &io, list, N);
	assert_int_equal(type_stat(a, "gso_fallbacks"), 1);
	assert_int_equal(type_stat(a, "gso_resent"), 3);
	assert_int_equal(atomic_load(&a->stats.tx_packets), N + 1); /* Z twice */
	for (int tries = 0; tries < 10 && got < N; tries++) {
		unsigned n = rx_wait(b, rx);

		for (unsigned k = 0; k < n; k++, got++) {
			unsigned q, l = rx[k].len;

			assert_true(l == 60 || l == 70);
			assert_int_equal(pkt_to_buf(&rx[k], out, l), l);
			q = out[43];
			assert_true(q < N && size[q] == l);
			assert_memory_equal(out, fr[q], l);
			seen[q]++;
		}
		b->ops->rx_done(b, 0, &io);
	}
	for (unsigned q = 0; q < N; q++)
		if (seen[q] != 1)
			fail_msg("frame %u arrived %u times", q, seen[q]);
	b->ops->destroy(b);
	a->ops->destroy(a);
	free(rx);
	free(tx);
}

/*
 * A kernel that refuses UDP GSO for good (here EINVAL: SO_NO_CHECK on the
 * GSO sockets; xfrm's EIO takes the same path): the refused 46-segment
 * TSO frame still arrives whole, a datagram at a time through the raw
 * socket with correct outer checksums; GSO is off from then on
 * (tx_offload 0, udp_gso 0, describe says why, gso_fallbacks 1 however
 * many refusals), and a TSO frame already on its way afterwards goes the
 * same way.  Nothing is dropped.
 */
static void test_port_gso_refused(void **state)
{
	static uint8_t frame[65535];
	struct pkt *tx = zalloc64(sizeof(*tx));
	struct port_io io = { 0 };
	char desc[1024];
	struct port *a, *b;
	struct ref_geom g;
	struct iovec iov;
	size_t len;

	vx_pair(&a, &b);
	assert_int_equal(type_stat(a, "udp_gso"), 1);
	assert_int_equal(gso_break(a, "127.0.0.1"), 8);
	len = ref_frame(frame, &g, false, false, false, 0, 12, 0x18, 65535 - 14 - 20 - 32 - 1, 5);
	ref_pkt(tx, &iov, frame, len, &g, 1448);
	a->ops->tx_burst(a, &io, &tx, 1);
	for (unsigned r = 0; r < DROP__COUNT; r++)
		if (atomic_load(&a->stats.drops[r]))
			fail_msg("drop %s: %llu", port_drop_names[r], (unsigned long long)atomic_load(&a->stats.drops[r]));
	assert_int_equal(atomic_load(&a->stats.tx_packets), 46);
	assert_int_equal(type_stat(a, "gso_fallbacks"), 1);
	assert_int_equal(type_stat(a, "gso_resent"), 46);
	assert_int_equal(type_stat(a, "gso_sends"), 0);
	assert_int_equal(type_stat(a, "udp_gso"), 0);
	assert_int_equal(atomic_load(&a->tx_offload), 0);
	a->ops->describe(a, desc, sizeof(desc));
	assert_non_null(strstr(desc, " udp_gso off (the kernel refused it: EINVAL;"));
	recv_segments(b, frame, len, &g, 1448, 46);
	/* A frame with a request already on its way (the egress fallback read tx_offload before): the same. */
	ref_pkt(tx, &iov, frame, len, &g, 1448);
	a->ops->tx_burst(a, &io, &tx, 1);
	assert_int_equal(atomic_load(&a->stats.tx_packets), 92);
	assert_int_equal(type_stat(a, "gso_fallbacks"), 1);
	assert_int_equal(type_stat(a, "gso_resent"), 92);
	recv_segments(b, frame, len, &g, 1448, 46);
	b->ops->destroy(b);
	a->ops->destroy(a);
	free(tx);
}

/*
 * remote=flow with offloads: a TSO frame whose tun_dst is 127.0.0.46
 * leaves as UDP GSO payloads to that VTEP, and arrives as its 46
 * segments; once the kernel refuses UDP GSO, the next such frame is
 * resent a datagram at a time through the raw socket, to the same
 * tun_dst.
 */
static void test_port_remote_flow_gso(void **state)
{
	char err[256] = "";
	struct port *a, *b;

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	a = vx_try("fa", "127.0.0.45", "flow", "vni", "4242", err, sizeof(err));
	if (!a)
		fail_msg("port fa: %s", err);
	b = vx_named("fb", "127.0.0.46", "127.0.0.45", "4242");
	flow_gso_rounds(a, b, "127.0.0.45", "127.0.0.46");
	b->ops->destroy(b);
	a->ops->destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_gso),
		cmocka_unit_test(test_port_merge_messages),
		cmocka_unit_test(test_port_gro_slot_drops),
		cmocka_unit_test(test_port_gro_slot_ecn),
		cmocka_unit_test(test_port_ecn_encap),
		cmocka_unit_test(test_port_sport_one_flow),
		cmocka_unit_test(test_port_run_two_flows),
		cmocka_unit_test(test_port_small_runs),
		cmocka_unit_test(test_port_gather_many_flows),
		cmocka_unit_test(test_port_gather_big_frames),
		cmocka_unit_test(test_port_gso_refused),
		cmocka_unit_test(test_port_gso_refused_raw_waiting),
		cmocka_unit_test(test_port_gso_refused_round_waits),
		cmocka_unit_test(test_port_remote_flow_gso),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
