/* test_port_tap.c - the tap port against a real tap at MTU 65535 in a network namespace of its own: no read can exceed its slot. */

/*
 *   AF_PACKET socket --> tap "vsw-dpc-tap" (largest MTU) --read()--> tap port slots --> pkt views
 *
 * A slot holds the 12-byte virtio-net header, PKT_MAX_FRAME (65535) frame
 * bytes and one more, and the port used to take read()'s return value as
 * header + frame.  A VLAN-tagged frame may be MTU + 18 bytes (what a packet
 * socket or a bridge lets through); Linux caps a tap's MTU at 65521 (65535
 * minus its 14-byte hard header), so the largest frame is 65539 bytes, a
 * read of 65551 into 65548.  Linux's tun_chr_read_iter returns
 * min(frame, buffer): the copy is truncated at the slot's end and the port
 * passed on a truncated frame of 65536 bytes, one more than anything here
 * may carry.  (A kernel that returned the whole length, as tun_put_user
 * computes it, would have made the view reach 3 bytes past the slot, 17 at
 * MTU 65535.)  The test puts such a frame in the last slot of a burst
 * (after 63 small ones) and reads every view the way a tx port would: a
 * view longer than PKT_MAX_FRAME fails, and under ASan a view past the
 * slots would be a heap-buffer-overflow.  Then a frame of exactly
 * PKT_MAX_FRAME must pass whole.  A TSO frame with a partial checksum
 * comes in whole with its request (TUNSETOFFLOAD) and goes out whole with
 * it.  Needs root for the namespace; fails with the reason otherwise.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/gso_ref.h"
#include "../lib/veth_ns.h"
#include "dp/dp.h"
#include "packet/vnet_hdr.h"
#include "port/port.h"
#include "port/port_tap.h"
#include "../lib/zalloc.h"

#define IF_TAP "vsw-dpc-tap"
#define ETH_TEST 0x88b5		/* local experimental ethertype */
#define MAX_TAGGED (65535 + 14 + 4)	/* at MTU 65535, if the kernel allowed it */

static bool net_ready;
static char net_why[256];

static int group_setup(void **state)
{
	/* The veth pair is not used; the helper gives a namespace with IPv6 off (no stray frames on the tap). */
	net_ready = veth_ns_up("vsw-dpc-v0", "vsw-dpc-v1", 1, net_why, sizeof(net_why));
	return 0;
}

static int set_mtu(const char *ifname, int mtu)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_mtu = mtu;
	rc = ioctl(s, SIOCSIFMTU, &ifr);
	close(s);
	return rc;
}

/* Send a frame of @len bytes (VLAN-tagged when @tagged) out of the tap, i.e. towards the port. */
static void send_frame(int ps, unsigned ifindex, uint8_t *buf, size_t len, bool tagged)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex, .sll_halen = 6 };
	static const uint8_t hdr[12] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02 };

	memset(buf, 0xa5, len);
	memcpy(buf, hdr, sizeof(hdr));
	if (tagged) {
		buf[12] = 0x81, buf[13] = 0x00, buf[14] = 0x00, buf[15] = 0x07;
		buf[16] = ETH_TEST >> 8, buf[17] = ETH_TEST & 0xff;
	} else {
		buf[12] = ETH_TEST >> 8, buf[13] = ETH_TEST & 0xff;
	}
	if (sendto(ps, buf, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len)
		fail_msg("sendto of a %zu-byte frame on %s: %s", len, IF_TAP, strerror(errno));
}

static void test_max_frame_stays_in_its_slot(void **state)
{
	struct port_env env = { 0 };
	struct dp_ctx *ctx = zalloc64(sizeof(*ctx));
	uint8_t *buf = malloc(MAX_TAGGED), *copy = malloc(MAX_TAGGED + 64);
	unsigned ifindex, n, got_big = 0;
	size_t big;
	char err[256];
	int mtu;
	struct port *p;
	int ps;

	assert_true(ctx && buf && copy);
	if (!net_ready)
		fail_msg("cannot run: %s", net_why);
	p = port_tap_create(IF_TAP, NULL, &env, err, sizeof(err)); /* creates tap IF_TAP */
	if (!p)
		fail_msg("cannot make the tap port: %s", err);
	ifindex = if_nametoindex(IF_TAP);
	assert_true(ifindex > 0);
	mtu = 65535;
	if (set_mtu(IF_TAP, mtu) < 0 && errno == EINVAL)
		mtu = 65535 - 14; /* tun's max_mtu */
	if (set_mtu(IF_TAP, mtu) < 0)
		fail_msg("cannot set MTU %d on the tap: %s", mtu, strerror(errno));
	big = (size_t)mtu + 18;
	print_message("tap MTU %d: the largest frame is %zu bytes, a read of %zu into a %u-byte slot\n", mtu, big,
		      big + 12, 12 + PKT_MAX_FRAME + 1);
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	assert_true(ps >= 0);
	/* Drain whatever the kernel sent on its own when the tap came up. */
	while (p->ops->rx_burst(p, 0, &ctx->io, ctx->pkts, PKT_BURST) > 0)
		p->ops->rx_done(p, 0, &ctx->io);

	for (unsigned i = 0; i < PKT_BURST - 1; i++)
		send_frame(ps, ifindex, buf, 60, false);
	send_frame(ps, ifindex, buf, big, true);

	n = p->ops->rx_burst(p, 0, &ctx->io, ctx->pkts, PKT_BURST);
	assert_true(n >= PKT_BURST - 1);
	for (unsigned i = 0; i < n; i++) {
		const struct pkt *pk = &ctx->pkts[i];
		size_t off = 0;

		/* What a tx port does with a view: read all of it. */
		for (unsigned k = 0; k < pk->niov; k++) {
			assert_true(off + pk->iov[k].iov_len <= MAX_TAGGED + 64);
			memcpy(copy + off, pk->iov[k].iov_base, pk->iov[k].iov_len);
			off += pk->iov[k].iov_len;
		}
		if (pk->len > PKT_MAX_FRAME)
			fail_msg("frame %u: a view of %u bytes, more than PKT_MAX_FRAME (%u): a frame cut at its slot's end "
				 "passed on", i, pk->len, PKT_MAX_FRAME);
		assert_int_equal(off, pk->len);
		got_big += pk->len > 60;
	}
	p->ops->rx_done(p, 0, &ctx->io);
	/* The frame larger than PKT_MAX_FRAME does not fit anything here: dropped and counted, not truncated. */
	assert_int_equal(got_big, 0);
	assert_int_equal(n, PKT_BURST - 1);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_TOO_BIG]), 1);

	/* The largest frame that fits (65535 bytes) still passes whole. */
	send_frame(ps, ifindex, buf, PKT_MAX_FRAME, true);
	n = p->ops->rx_burst(p, 0, &ctx->io, ctx->pkts, PKT_BURST);
	assert_int_equal(n, 1);
	assert_int_equal(ctx->pkts[0].len, PKT_MAX_FRAME);
	assert_memory_equal(ctx->pkts[0].iov[0].iov_base, buf, PKT_MAX_FRAME);
	p->ops->rx_done(p, 0, &ctx->io);

	close(ps);
	p->ops->destroy(p);
	free(ctx);
	free(buf);
	free(copy);
}

/* A 20 KB TSO frame from the host stack's side in and out whole: the request is the packet's, then the header's. */
static void test_gso_whole_both_ways(void **state)
{
	static uint8_t frame[20000], back[VNET_HDR_LEN + 65536];
	struct dp_ctx *ctx = zalloc64(sizeof(*ctx));
	struct port_env env = { 0 };
	struct vnet_info vi = { .flags = VNET_NEEDS_CSUM, .gso = VNET_GSO_TCPV6, .gso_size = 1200 }, got;
	struct ref_geom g;
	size_t len = ref_frame(frame, &g, true, false, false, 0, 0, 0x10, 20000 - 74, 3);
	uint8_t hdr[VNET_HDR_LEN];
	struct iovec out[2] = { { hdr, sizeof(hdr) }, { frame, len } };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(0x86dd) };
	struct pkt *pp;
	unsigned n = 0;
	int one = 1, ps;
	char err[256];
	struct port *p;

	if (!net_ready)
		fail_msg("cannot run: %s", net_why);
	p = port_tap_create("vsw-dpc-tso", NULL, &env, err, sizeof(err));
	if (!p)
		fail_msg("cannot make the tap port: %s", err);
	assert_true(atomic_load(&p->tx_offload) & (GSO_TX_CSUM | GSO_TX_TSO4 | GSO_TX_TSO6));
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x86dd));
	assert_true(ps >= 0);
	sll.sll_ifindex = (int)if_nametoindex("vsw-dpc-tso");
	assert_int_equal(setsockopt(ps, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)), 0);
	assert_int_equal(setsockopt(ps, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)), 0);
	assert_int_equal(bind(ps, (struct sockaddr *)&sll, sizeof(sll)), 0);
	while (p->ops->rx_burst(p, 0, &ctx->io, ctx->pkts, PKT_BURST) > 0)
		p->ops->rx_done(p, 0, &ctx->io);

	vi.hdr_len = (uint16_t)g.hdr;
	vi.csum_start = (uint16_t)g.l4;
	vi.csum_offset = 16;
	vnet_hdr_build(hdr, &vi);
	assert_int_equal(writev(ps, out, 2), (ssize_t)(sizeof(hdr) + len));
	for (int t = 0; t < 1000 && !n; t++) {
		n = p->ops->rx_burst(p, 0, &ctx->io, ctx->pkts, PKT_BURST);
		if (!n)
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	assert_int_equal(n, 1);
	assert_int_equal(ctx->pkts[0].len, len);
	assert_int_equal(ctx->pkts[0].gso_type, VNET_GSO_TCPV6);
	assert_int_equal(ctx->pkts[0].gso_size, 1200);
	assert_int_equal(ctx->pkts[0].csum, PKT_CSUM_PARTIAL);
	assert_int_equal(ctx->pkts[0].csum_start, g.l4);

	pkt_load(&ctx->pkts[0]);
	pp = &ctx->pkts[0];
	p->ops->tx_burst(p, &ctx->io, &pp, 1);
	p->ops->rx_done(p, 0, &ctx->io);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 1);
	assert_true(poll(&(struct pollfd){ .fd = ps, .events = POLLIN }, 1, 1000) == 1);
	assert_int_equal(recv(ps, back, sizeof(back), 0), (ssize_t)(VNET_HDR_LEN + len));
	assert_int_equal(vnet_hdr_parse(back, len, VNET_ACCEPT_CSUM | VNET_ACCEPT_DATA_VALID | VNET_ACCEPT_TSO6, &got),
			 VNET_OK);
	assert_int_equal(got.gso, VNET_GSO_TCPV6);
	assert_int_equal(got.gso_size, 1200);
	memcpy(back + VNET_HDR_LEN + g.l4 + 16, frame + g.l4 + 16, 2);
	assert_memory_equal(back + VNET_HDR_LEN, frame, len);
	close(ps);
	p->ops->destroy(p);
	free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_frame_stays_in_its_slot),
		cmocka_unit_test(test_gso_whole_both_ways),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
