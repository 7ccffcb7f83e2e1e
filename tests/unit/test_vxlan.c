/* test_vxlan.c - unit tests of packet/vxlan (the RFC 7348 header, the outer source port) and of the vxlan port over loopback. */

/*
 * The header: built with the I flag, the VNI and every reserved bit zero;
 * checked on receive with nothing read before its length is known, the I
 * flag required, the reserved bits ignored (RFC 7348 section 5: "MUST be
 * set to zero on transmission and ignored on receipt"), another VNI a
 * drop.  The source port: in the configured range, one per inner flow,
 * spread over flows.  The port: two vxlan ports on 127.0.0.1 and
 * 127.0.0.2 (one UDP port, two local addresses) carry a frame each way,
 * whole, with the tunnel metadata, the outer checksum on and off; a frame
 * too big for one datagram is a too_big drop.  Many remotes: a port with
 * two remote VTEPs floods a broadcast or an unknown destination to both,
 * learns an inner source behind the VTEP it came from and then sends to
 * that one only, and a static entry sends to its VTEP (one outside the
 * flood list too).  vni=flow: the frame's tunnel key is the VNI sent, any
 * VNI is received as the frame's tun.id.  Per-VNI flood lists (the zero
 * MAC's entries): a vni=flow port floods VNI A only to A's list, VNI B to
 * B's (a remote outside remote= too), a VNI without one to remote=; a
 * remote taken out of a list, or the whole list, is no longer flooded
 * to; without remote=, a VNI floods to its own list alone (none: a
 * no_destination drop).  remote=flow: each frame to its own tun_dst,
 * none a no_tunnel_dst drop, any VTEP received; the same over IPv6
 * (tun_ipv6_dst) in a network namespace of its own, a TSO frame through
 * UDP GSO and through its refusal among them.  The port tests need root
 * (a raw socket) and fail with the reason otherwise.
 *
 * The port's UDP GSO and GRO over loopback are test_vxlan_port_gso.c's;
 * the fixtures both files use (ports, frames, the port's figures, a TSO
 * frame's segments received), vxlan_fx.h's.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/rng.h"
#include "../lib/zalloc.h"
#include "packet/pkt.h"
#include "packet/vxlan.h"
#include "port/port.h"
#include "port/port_vxlan.h"
#include "port/vtep.h"
#include "vxlan_fx.h"

static void test_hdr_build(void **state)
{
	static const uint32_t vnis[] = { 0, 1, 0x123456, VXLAN_VNI_MAX };
	uint8_t h[VXLAN_HLEN];

	for (size_t i = 0; i < sizeof(vnis) / sizeof(vnis[0]); i++) {
		const uint8_t want[VXLAN_HLEN] = { 0x08, 0, 0, 0, (uint8_t)(vnis[i] >> 16), (uint8_t)(vnis[i] >> 8),
						   (uint8_t)vnis[i], 0 };

		memset(h, 0xff, sizeof(h));
		vxlan_hdr_build(h, vnis[i]);
		assert_memory_equal(h, want, VXLAN_HLEN);
	}
}

static void test_hdr_check(void **state)
{
	uint8_t d[VXLAN_HLEN + PKT_ETH_HLEN] = { 0 };
	uint32_t got = 0;

	vxlan_hdr_build(d, 0xabcdef);
	assert_int_equal(vxlan_hdr_check(d, sizeof(d), 0xabcdef, &got), VXLAN_OK);
	assert_int_equal(got, 0xabcdef);
	/* Every length short of the header and an Ethernet header: short, whatever the bytes say. */
	for (size_t len = 0; len < sizeof(d); len++)
		assert_int_equal(vxlan_hdr_check(d, len, 0xabcdef, NULL), VXLAN_BAD_SHORT);
	/* Another VNI: a drop, and which one it was. */
	assert_int_equal(vxlan_hdr_check(d, sizeof(d), 0xabcdee, &got), VXLAN_BAD_VNI);
	assert_int_equal(got, 0xabcdef);
	/* Reserved bits and bytes set: ignored on receipt. */
	d[0] = 0xff;
	d[1] = d[2] = d[3] = d[7] = 0xff;
	assert_int_equal(vxlan_hdr_check(d, sizeof(d), 0xabcdef, NULL), VXLAN_OK);
	/* The I flag clear: a drop, even with every other bit set. */
	d[0] = 0xf7;
	assert_int_equal(vxlan_hdr_check(d, sizeof(d), 0xabcdef, NULL), VXLAN_BAD_FLAGS);
}

/* An Ethernet + IPv4 + UDP frame from 10.0.0.1:@sport to 10.0.0.2:53, loaded into @p (its bytes in @b). */
static void udp4_frame(struct pkt *p, struct iovec *iov, uint8_t *b, uint16_t sport)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0, 0, 0, 53, 0, 8, 0, 0,
	};

	memset(b, 0, 64);
	memcpy(b, hdr, sizeof(hdr));
	b[34] = (uint8_t)(sport >> 8);
	b[35] = (uint8_t)sport;
	*iov = (struct iovec){ b, 64 };
	pkt_rx_init(p, iov, 1, 64, 0);
	pkt_load(p);
}

static void test_src_port(void **state)
{
	struct pkt *p = zalloc64(sizeof(*p));
	struct iovec iov;
	uint8_t b[64];
	bool seen[16] = { false };
	unsigned distinct = 0;

	for (unsigned f = 0; f < 256; f++) {
		uint16_t a, again;

		udp4_frame(p, &iov, b, (uint16_t)(1000 + f));
		a = vxlan_src_port(p, 49152, 49167);
		assert_in_range(a, 49152, 49167);
		again = vxlan_src_port(p, 49152, 49167);
		assert_int_equal(a, again); /* one flow, one port */
		if (!seen[a - 49152]) {
			seen[a - 49152] = true;
			distinct++;
		}
		assert_int_equal(vxlan_src_port(p, 4789, 4789), 4789);
	}
	/* 256 flows over 16 ports: a hash that spreads reaches them all. */
	assert_int_equal(distinct, 16);
	/* Not IP: the MACs decide, still in range. */
	b[12] = 0x88;
	b[13] = 0xb5;
	pkt_rx_init(p, &iov, 1, 64, 0);
	pkt_load(p);
	assert_in_range(vxlan_src_port(p, 60000, 60009), 60000, 60009);
	free(p);
}

/*
 * vxlan_flow_hash() and vxlan_flow4_of() of an unparsed frame (their raw
 * IPv4 way, vxlan_raw4_l4()) against the same frame parsed first: equal
 * for every frame, and a frame the raw way took left unparsed.  Frames from an IPv4 template with one field at a time
 * (sometimes two) set to a value the parse treats differently: the
 * EtherType (VLAN, IPv6, other), version and IHL, the total length (short,
 * past the frame, past the head), the fragment bits, the protocol (TCP
 * with every data offset, UDP, SCTP, ICMP, other), the frame's and the
 * head's lengths (a frame longer than PKT_HEAD_COPY), random bytes
 * elsewhere.
 */
static uint64_t hash_rng = 0x2545f4914f6cdd1dull;

static uint32_t hash_rnd(void)
{
	return test_rnd(&hash_rng);
}

static void test_flow_hash_raw(void **state)
{
	static const uint8_t protos[] = { 6, 17, 132, 1, 47, 58 };
	struct pkt *a = zalloc64(sizeof(*a)), *b = zalloc64(sizeof(*b));
	uint8_t frame[256];
	unsigned raw = 0, raw_ports = 0, flow4 = 0;

	(void)state;
	for (unsigned r = 0; r < 200000; r++) {
		unsigned len = 34 + hash_rnd() % 200, what = hash_rnd() % 10, tot;
		struct iovec iov = { frame, len };
		uint64_t x, y;
		bool raw_taken;

		for (unsigned i = 0; i < sizeof(frame); i++)
			frame[i] = (uint8_t)hash_rnd();
		frame[12] = 0x08, frame[13] = 0x00, frame[14] = 0x45;
		frame[20] &= 0x40; /* DF at most: not a fragment */
		frame[21] = 0;
		frame[23] = protos[hash_rnd() % sizeof(protos)];
		frame[46] = (uint8_t)((hash_rnd() % 16) << 4 | (frame[46] & 0xf)); /* TCP: any data offset */
		tot = len - 14 - (hash_rnd() % 4 ? 0 : hash_rnd() % (len - 14 + 1)); /* padding after it, sometimes */
		if (what == 0)
			tot = hash_rnd() % 80; /* short, maybe under the header's 20 */
		else if (what == 1)
			tot = len - 14 + 1 + hash_rnd() % 8; /* past the frame */
		frame[16] = (uint8_t)(tot >> 8), frame[17] = (uint8_t)tot;
		if (what == 2)
			frame[20] |= (uint8_t)(hash_rnd() % 0x20), frame[21] = (uint8_t)hash_rnd(); /* an offset, maybe */
		else if (what == 3)
			frame[20] |= 0x20; /* MF alone: still the first fragment, ports and all */
		else if (what == 4)
			frame[14] = (uint8_t)(hash_rnd() % 2 ? 0x46 : hash_rnd()); /* options, or not IPv4 */
		else if (what == 5)
			frame[12] = (uint8_t)(hash_rnd() % 2 ? 0x81 : 0x86), frame[13] = hash_rnd() % 2 ? 0x00 : 0xdd;
		pkt_rx_init(a, &iov, 1, len, 0);
		pkt_load_head(a);
		pkt_rx_init(b, &iov, 1, len, 0);
		pkt_load(b);
		raw_taken = !a->parsed && vxlan_flow_hash_raw4(a, pkt_head(a), &x, &y);
		if (raw_taken) {
			raw++;
			raw_ports += y > 0xff;
		}
		{
			struct vxlan_flow4 fa, fb;
			bool oa, ob;

			memset(&fa, 0, sizeof(fa));
			memset(&fb, 0, sizeof(fb));
			oa = vxlan_flow4_of(&fa, a); /* before the hash: a is still unparsed */
			ob = vxlan_flow4_of(&fb, b);
			assert_int_equal(oa, ob);
			assert_memory_equal(&fa, &fb, sizeof(fa));
			flow4 += oa;
		}
		assert_int_equal(vxlan_flow_hash(a), vxlan_flow_hash(b));
		assert_false(a->parsed && raw_taken);
	}
	/* The raw way took most frames, with and without their ports: the test reached it. */
	assert_true(raw > 100000);
	assert_true(raw_ports > 30000 && raw - raw_ports > 20000);
	assert_true(flow4 > 20000);
	free(b);
	free(a);
}

/* ---- the port, over loopback ---------------------------------------------------------- */

static void one_way(struct port *a, struct port *b, unsigned len)
{
	struct pkt *tx = zalloc64(sizeof(*tx)), *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct port_io io = { 0 };
	uint8_t *frame = malloc(len), *out = malloc(len);
	struct iovec iov = { frame, len };
	struct pkt *one = tx;
	unsigned n;

	assert_non_null(frame);
	assert_non_null(out);
	for (unsigned i = 0; i < len; i++)
		frame[i] = (uint8_t)(i * 7 + len);
	pkt_rx_init(tx, &iov, 1, len, 0);
	pkt_load(tx);
	a->ops->tx_burst(a, &io, &one, 1);
	assert_int_equal(atomic_load(&a->stats.tx_packets), 1);
	n = rx_wait(b, rx);
	assert_int_equal(n, 1);
	assert_int_equal(rx[0].len, len);
	assert_true(rx[0].flags & PKT_F_TUNNEL);
	assert_int_equal(rx[0].tun.id, 0x4242);
	assert_false(rx[0].tun.ipv6);
	assert_int_equal(pkt_to_buf(&rx[0], out, len), len);
	assert_memory_equal(out, frame, len);
	b->ops->rx_done(b, 0, &io);
	atomic_store(&a->stats.tx_packets, 0);
	free(out);
	free(frame);
	free(rx);
	free(tx);
}

/* A UDP datagram of @len zero bytes from @src to 127.0.0.1:47890 (port a of test_port_loopback). */
static void send_garbage(const char *src, size_t len)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET, .sin_port = htons(47890) };
	uint8_t buf[64] = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, src, &from.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
	close(fd);
}

static void test_port_loopback(void **state)
{
	char err[256] = "";
	struct port *a, *b, *c, *d;
	struct pkt *big = zalloc64(sizeof(*big));
	struct port_io io = { 0 };
	static uint8_t huge[65535 - 16 + 1];
	struct iovec iov = { huge, sizeof(huge) };

	vx_pair(&a, &b);
	one_way(a, b, 60);
	one_way(b, a, 1400);
	one_way(a, b, 9000);
	/* A second port on a local address and UDP port in use: refused, not silently sharing. */
	c = vx_port("127.0.0.1", "127.0.0.3", "on", err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "bind"));
	b->ops->destroy(b);
	/* The checksum off: zero on the wire, accepted. */
	d = vx_port("127.0.0.2", "127.0.0.1", "off", err, sizeof(err));
	if (!d)
		fail_msg("port d: %s", err);
	one_way(d, a, 200);
	one_way(a, d, 200);
	/* An inner frame that cannot fit one UDP datagram with the headers: too_big, nothing sent. */
	huge[12] = 0x88;
	pkt_rx_init(big, &iov, 1, sizeof(huge), 0);
	pkt_load(big);
	a->ops->tx_burst(a, &io, &big, 1);
	assert_int_equal(atomic_load(&a->stats.drops[DROP_TOO_BIG]), 1);
	assert_int_equal(atomic_load(&a->stats.tx_packets), 0);
	d->ops->destroy(d);
	/*
	 * a's own figures: the inner sources of b's and d's frames learned
	 * (two MACs behind its one remote); then a datagram too short for
	 * VXLAN from that remote and one from a stranger, each dropped for its
	 * reason.
	 */
	assert_int_equal(type_stat(a, "fdb_learned"), 2);
	assert_int_equal(type_stat(a, "fdb_learned_entries"), 2);
	assert_int_equal(type_stat(a, "fdb_static_entries"), 0);
	assert_int_equal(type_stat(a, "remotes"), 1);
	assert_int_equal(type_stat(a, "flood_remotes"), 1);
	send_garbage("127.0.0.2", 3);
	send_garbage("127.0.0.3", 60);
	{
		struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));

		assert_int_equal(rx_wait(a, rx), 0);
		free(rx);
	}
	assert_int_equal(type_stat(a, "rx_bad_short"), 1);
	assert_int_equal(type_stat(a, "rx_bad_remote"), 1);
	assert_int_equal(type_stat(a, "rx_bad_flags"), 0);
	a->ops->destroy(a);
	free(big);
}

/*
 * The frame limit the tx stage checks (port.tx_frame_max, dp/pmtu.h): the
 * route's MTU to the remote less the outer IP + UDP + VXLAN headers; over
 * loopback (MTU 65536, an IPv4 route's at most 65535); mtu= lowers it.
 */
static void test_port_frame_max(void **state)
{
	struct json_object *o = json_object_new_object();
	struct port_env env = { 0 };
	char err[256], desc[512];
	struct port *p;

	json_object_object_add(o, "local", json_object_new_string("127.0.0.1"));
	json_object_object_add(o, "remote", json_object_new_string("127.0.0.2"));
	json_object_object_add(o, "vni", json_object_new_int(7));
	json_object_object_add(o, "dstport", json_object_new_int(47891));
	p = port_vxlan_create("mtu", o, &env, err, sizeof(err));
	if (!p)
		fail_msg("port: %s", err);
	assert_int_equal(atomic_load(&p->tx_frame_max), 65535 - VXLAN4_OVERHEAD); /* lo: 65536, IPv4 caps at 65535 */
	p->ops->destroy(p);

	json_object_object_add(o, "mtu", json_object_new_int(1400));
	p = port_vxlan_create("mtu", o, &env, err, sizeof(err));
	if (!p)
		fail_msg("port: %s", err);
	assert_int_equal(atomic_load(&p->tx_frame_max), 1400 - VXLAN4_OVERHEAD);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, "mtu 1400 (route 65535, mtu= set) frame_max 1364"));
	p->ops->tick(p);
	assert_int_equal(atomic_load(&p->tx_frame_max), 1364);
	p->ops->destroy(p);

	/* Below the IPv4 minimum: refused. */
	json_object_object_add(o, "mtu", json_object_new_int(500));
	assert_null(port_vxlan_create("mtu", o, &env, err, sizeof(err)));
	json_object_put(o);
}

/* Frame from MAC ..:@src to @dst (NULL: broadcast) into @pk over @buf; with @tun, tunnel key @tun_id. */
static void mkframe(struct pkt *pk, uint8_t *buf, struct iovec *iov, uint8_t src, const uint8_t *dst, bool tun,
		    uint64_t tun_id)
{
	memset(buf, 0, 64);
	if (dst)
		memcpy(buf, dst, 6);
	else
		memset(buf, 0xff, 6);
	buf[6] = 0x02;
	buf[11] = src;
	buf[12] = 0x88;
	buf[13] = 0xb5;
	*iov = (struct iovec){ buf, 64 };
	pkt_rx_init(pk, iov, 1, 64, 0);
	pkt_load(pk);
	if (tun) {
		pk->flags |= PKT_F_TUNNEL;
		memset(&pk->tun, 0, sizeof(pk->tun));
		pk->tun.id = tun_id;
	}
}

static void send1(struct port *p, uint8_t src, const uint8_t *dst, bool tun, uint64_t tun_id)
{
	struct pkt *pk = zalloc64(sizeof(*pk));
	uint8_t buf[64];
	struct iovec iov;
	struct port_io io = { 0 };

	mkframe(pk, buf, &iov, src, dst, tun, tun_id);
	p->ops->tx_burst(p, &io, &pk, 1);
	free(pk);
}

/* Frames @p receives within 0.2 s (all of them, drained); the first one's source MAC's last byte and tunnel into @first. */
static unsigned recv_all(struct port *p, struct pkt *first)
{
	struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct port_io io = { 0 };
	struct pollfd pfd = { .fd = p->ops->rx_fd(p, 0), .events = POLLIN };
	unsigned total = 0;

	for (int i = 0; i < 4; i++) {
		unsigned n = p->ops->rx_burst(p, 0, &io, rx, PKT_BURST);

		if (n && !total && first) {
			*first = rx[0];
			first->iov = NULL;
		}
		total += n;
		p->ops->rx_done(p, 0, &io);
		if (!n)
			(void)poll(&pfd, 1, 50);
	}
	free(rx);
	return total;
}

/*
 * recv_all() for a check that expects @want frames: waits up to 2 s for
 * them (a loaded machine can hold a datagram past recv_all()'s 200 ms),
 * then takes what else is there, so one too many still fails the check.
 */
static unsigned recv_want(struct port *p, struct pkt *first, unsigned want)
{
	unsigned total = recv_all(p, first);

	for (int i = 0; i < 10 && total < want; i++)
		total += recv_all(p, total ? NULL : first);
	return total;
}

static void test_port_remotes(void **state)
{
	const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb }, mac_y[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	const uint8_t mac_z[6] = { 0x02, 0, 0, 0, 0, 0x78 };
	struct port *a, *b, *c, *d;
	struct pkt *got = zalloc64(sizeof(*got));
	struct vtep_entry e[8];
	char err[256];

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	a = vx_named("a", "127.0.0.1", "127.0.0.2,127.0.0.3", "4242");
	b = vx_named("b", "127.0.0.2", "127.0.0.1", "4242");
	c = vx_named("c", "127.0.0.3", "127.0.0.1", "4242");
	d = vx_named("d", "127.0.0.4", "127.0.0.1", "4242");
	/* a broadcast: one datagram to each remote of the flood list */
	send1(a, 1, NULL, false, 0);
	assert_int_equal(atomic_load(&a->stats.tx_packets), 2);
	assert_int_equal(recv_want(b, NULL, 1), 1);
	assert_int_equal(recv_want(c, NULL, 1), 1);
	/* b's frame from MAC ..:0b: a learns it behind 127.0.0.2 */
	send1(b, 0xb, NULL, false, 0);
	assert_int_equal(recv_want(a, got, 1), 1);
	assert_int_equal(got->tun.src.v4, htonl(0x7f000002));
	assert_int_equal(got->tun.id, 4242);
	/* unicast to it: to b alone */
	send1(a, 1, mac_b, false, 0);
	assert_int_equal(recv_want(b, NULL, 1), 1);
	assert_int_equal(recv_all(c, NULL), 0);
	/* an unknown unicast: flooded */
	send1(a, 1, mac_y, false, 0);
	assert_int_equal(recv_want(b, NULL, 1), 1);
	assert_int_equal(recv_want(c, NULL, 1), 1);
	/* static: ..:77 behind c, ..:78 behind d (not in the flood list: reached for that MAC only) */
	assert_int_equal(port_vxlan_fdb_add(a, mac_y, 4242, "127.0.0.3", err, sizeof(err)), 0);
	assert_int_equal(port_vxlan_fdb_add(a, mac_z, 4242, "127.0.0.4", err, sizeof(err)), 0);
	assert_int_equal(port_vxlan_fdb_add(a, mac_z, 7, "127.0.0.4", err, sizeof(err)), -EINVAL);
	send1(a, 1, mac_y, false, 0);
	assert_int_equal(recv_all(b, NULL), 0);
	assert_int_equal(recv_want(c, NULL, 1), 1);
	send1(a, 1, mac_z, false, 0);
	assert_int_equal(recv_want(d, NULL, 1), 1);
	assert_int_equal(recv_all(b, NULL) + recv_all(c, NULL), 0);
	send1(a, 1, NULL, false, 0);
	assert_int_equal(recv_all(d, NULL), 0);
	assert_int_equal(recv_all(b, NULL) + recv_all(c, NULL), 2);
	/* static wins over learning: ..:77 seen from b stays behind c */
	send1(b, 0x77, NULL, false, 0);
	assert_int_equal(recv_want(a, NULL, 1), 1);
	send1(a, 1, mac_y, false, 0);
	assert_int_equal(recv_want(c, NULL, 1), 1);
	assert_int_equal(recv_all(b, NULL), 0);
	assert_int_equal(port_vxlan_fdb_dump(a, e, 8), 3);
	assert_int_equal(port_vxlan_fdb_del(a, mac_y, 4242, NULL), 0);
	assert_int_equal(port_vxlan_fdb_dump(a, e, 8), 2);
	d->ops->destroy(d);
	c->ops->destroy(c);
	b->ops->destroy(b);
	a->ops->destroy(a);
	free(got);
}

/* Frames each of @n ports receives, as one number: port i's count in decimal digit i (from the left). */
static unsigned recv_each(struct port *const *ps, unsigned n)
{
	unsigned r = 0;

	for (unsigned i = 0; i < n; i++)
		r = r * 10 + recv_all(ps[i], NULL);
	return r;
}

/* The first frame @p receives, taken as soon as it is there (up to 2 s): 1, else 0. */
static unsigned recv_first(struct port *p)
{
	struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct port_io io = { 0 };
	struct pollfd pfd = { .fd = p->ops->rx_fd(p, 0), .events = POLLIN };
	unsigned n = 0;

	for (int i = 0; i < 200 && !n; i++) {
		n = p->ops->rx_burst(p, 0, &io, rx, PKT_BURST);
		p->ops->rx_done(p, 0, &io);
		if (!n)
			(void)poll(&pfd, 1, 10);
	}
	free(rx);
	return n;
}

/*
 * One inner destination, each change of where it is known answered by
 * the very next burst: learned, moved, static, deleted, a flood list
 * added and removed.  Nothing on the transmit side may keep an older
 * answer (a memo of a burst's, or one kept across bursts while the
 * second stays: tried, no measurable gain).  Each step sends once right
 * before the change and once right after, well under a millisecond
 * apart (recv_first(): a learned source is taken as it arrives), and
 * only then waits for what arrived.
 */
static void test_port_remote_kept(void **state)
{
	const uint8_t mac_x[6] = { 0x02, 0, 0, 0, 0, 0x5a }, mac_z[6] = { 0x02, 0, 0, 0, 0, 0x5b }, zero[6] = { 0 };
	struct port *a, *rx[3];
	char err[256];

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	a = vx_named("a", "127.0.0.21", "127.0.0.22,127.0.0.23", "4242");
	rx[0] = vx_named("b", "127.0.0.22", "127.0.0.21", "4242");
	rx[1] = vx_named("c", "127.0.0.23", "127.0.0.21", "4242");
	rx[2] = vx_named("d", "127.0.0.24", "127.0.0.21", "4242");
	/* d a remote from the start (a static MAC behind it): no change below adds or releases a remote */
	assert_int_equal(port_vxlan_fdb_add(a, mac_z, 4242, "127.0.0.24", err, sizeof(err)), 0);
	/* unknown: flooded to b and c (recv_each(): a digit a port, b's the hundreds) */
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(recv_each(rx, 3), 110);
	/* learned behind b: flooded, then b alone */
	send1(a, 1, mac_x, false, 0);
	send1(rx[0], 0x5a, NULL, false, 0);
	assert_int_equal(recv_first(a), 1);
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(recv_each(rx, 3), 210);
	/* moved behind c (a frame to Z behind d first: X's next lookup is a fresh one, which a memo would then keep) */
	send1(a, 1, mac_z, false, 0);
	send1(a, 1, mac_x, false, 0);
	send1(rx[1], 0x5a, NULL, false, 0);
	assert_int_equal(recv_first(a), 1);
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(recv_each(rx, 3), 111);
	/* static behind d */
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(port_vxlan_fdb_add(a, mac_x, 4242, "127.0.0.24", err, sizeof(err)), 0);
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(recv_each(rx, 3), 11);
	/* deleted: flooded to the port's list again */
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(port_vxlan_fdb_del(a, mac_x, 4242, NULL), 0);
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(recv_each(rx, 3), 111);
	/* a flood list for the VNI: d alone; and gone again: b and c */
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(port_vxlan_fdb_add(a, zero, 4242, "127.0.0.24", err, sizeof(err)), 0);
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(recv_each(rx, 3), 111);
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(port_vxlan_fdb_del(a, zero, 4242, NULL), 0);
	send1(a, 1, mac_x, false, 0);
	assert_int_equal(recv_each(rx, 3), 111);
	for (unsigned i = 0; i < 3; i++)
		rx[i]->ops->destroy(rx[i]);
	a->ops->destroy(a);
}

static void test_port_vni_flow(void **state)
{
	struct port *e, *f, *g;
	struct pkt *got = zalloc64(sizeof(*got));

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	e = vx_named("e", "127.0.0.5", "127.0.0.6", "flow");
	f = vx_named("f", "127.0.0.6", "127.0.0.5", "4242");
	/* the frame's key is the VNI sent: 4242 reaches f, 77 is f's vni drop */
	send1(e, 1, NULL, true, 4242);
	assert_int_equal(recv_want(f, got, 1), 1);
	assert_int_equal(got->tun.id, 4242);
	send1(e, 1, NULL, true, 77);
	assert_int_equal(recv_all(f, NULL), 0);
	assert_int_equal(atomic_load(&f->stats.drops[DROP_BAD_HEADER]), 1);
	/* any VNI in: the frame's tun.id */
	send1(f, 2, NULL, false, 0);
	assert_int_equal(recv_want(e, got, 1), 1);
	assert_int_equal(got->tun.id, 4242);
	assert_int_equal(port_vxlan_vni(e), -1);
	assert_int_equal(port_vxlan_vni(f), 4242);
	f->ops->destroy(f);
	g = vx_named("g", "127.0.0.6", "127.0.0.5", "99");
	send1(e, 1, NULL, true, 99);
	assert_int_equal(recv_want(g, NULL, 1), 1);
	send1(g, 3, NULL, false, 0);
	assert_int_equal(recv_want(e, got, 1), 1);
	assert_int_equal(got->tun.id, 99);
	/* no key: VNI 0 (OVS key=flow), which g does not serve */
	send1(e, 1, NULL, false, 0);
	assert_int_equal(recv_all(g, NULL), 0);
	g->ops->destroy(g);
	e->ops->destroy(e);
	free(got);
}

/* A broadcast from MAC ..:@src through @p whose tunnel metadata says tun_dst @dst (host order; 0: none) with key @vni. */
static void send_to_dst(struct port *p, uint8_t src, uint32_t dst, uint64_t vni)
{
	struct pkt *pk = zalloc64(sizeof(*pk));
	uint8_t buf[64];
	struct iovec iov;
	struct port_io io = { 0 };

	mkframe(pk, buf, &iov, src, NULL, true, vni);
	pk->tun.dst.v4 = htonl(dst);
	p->ops->tx_burst(p, &io, &pk, 1);
	free(pk);
}

/*
 * remote=flow (OVS's options:remote_ip=flow): each frame goes to its own
 * tun_dst, one VTEP for one frame and another for the next; a frame
 * without one (no tunnel metadata, or 0.0.0.0) or with one a static
 * remote= would be refused (multicast, broadcast, its own local=) is a
 * no_tunnel_dst drop;
 * any VTEP is received, the frame carrying its outer source as tun_src;
 * the port has no table and no flood list (tunnel fdb add is refused),
 * describe says
 * "remote flow", and the underlay MTU is local='s device's (lo here).
 */
static void test_port_remote_flow(void **state)
{
	const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x11 };
	struct port *p, *q, *r;
	struct pkt *got = zalloc64(sizeof(*got));
	char err[256] = "", desc[1024];

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	p = vx_try("p", "127.0.0.41", "flow", "vni", "flow", err, sizeof(err));
	if (!p)
		fail_msg("remote=flow: %s", err);
	q = vx_named("q", "127.0.0.42", "127.0.0.41", "4242");
	r = vx_named("r", "127.0.0.43", "127.0.0.41", "4242");
	send_to_dst(p, 1, 0x7f00002a, 4242);
	assert_int_equal(recv_want(q, got, 1), 1);
	assert_int_equal(got->tun.src.v4, htonl(0x7f000029));
	assert_int_equal(recv_all(r, NULL), 0);
	send_to_dst(p, 1, 0x7f00002b, 4242);
	assert_int_equal(recv_want(r, NULL, 1), 1);
	assert_int_equal(recv_all(q, NULL), 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 2);
	/* no tun_dst: dropped by name, nothing sent */
	send1(p, 1, NULL, false, 0);
	send_to_dst(p, 1, 0, 4242);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_TUNNEL_DST]), 2);
	/* nor one a static remote= would be refused: multicast, broadcast, the port's own local= (a loop) */
	send_to_dst(p, 1, 0xe0000001, 4242);
	send_to_dst(p, 1, 0xefffffff, 4242);
	send_to_dst(p, 1, 0xffffffff, 4242);
	send_to_dst(p, 1, 0x7f000029, 4242);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_TUNNEL_DST]), 6);
	assert_int_equal(recv_all(p, NULL), 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 2);
	assert_int_equal(recv_all(q, NULL) + recv_all(r, NULL), 0);
	/* any VTEP in, its address as tun_src, nothing learned */
	send1(q, 0x21, NULL, false, 0);
	assert_int_equal(recv_want(p, got, 1), 1);
	assert_int_equal(got->tun.src.v4, htonl(0x7f00002a));
	assert_int_equal(got->tun.dst.v4, htonl(0x7f000029));
	assert_int_equal(got->tun.id, 4242);
	send1(r, 0x22, NULL, false, 0);
	assert_int_equal(recv_want(p, got, 1), 1);
	assert_int_equal(got->tun.src.v4, htonl(0x7f00002b));
	assert_int_equal(atomic_load(&p->stats.drops[DROP_SRC_IP]), 0);
	assert_int_equal(port_vxlan_fdb_add(p, mac, 4242, "127.0.0.42", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "remote=flow"));
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, " remote flow "));
	assert_true(atomic_load(&p->tx_frame_max) > 1500);	/* lo's MTU, less the outer headers */
	r->ops->destroy(r);
	q->ops->destroy(q);
	p->ops->destroy(p);
	free(got);
}

static void test_port_vni_flood(void **state)
{
	static const uint8_t zero[6] = { 0 }, mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	const uint8_t unknown[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	struct port *h, *rx[3];
	struct vtep_flood f[4];
	char err[256];

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	h = vx_named("h", "127.0.0.11", "127.0.0.12,127.0.0.13", "flow");
	rx[0] = vx_named("j", "127.0.0.12", "127.0.0.11", "flow");
	rx[1] = vx_named("k", "127.0.0.13", "127.0.0.11", "flow");
	rx[2] = vx_named("l", "127.0.0.14", "127.0.0.11", "flow");
	/* VNI 100: j; VNI 200: k and l (l outside remote=) */
	assert_int_equal(port_vxlan_fdb_add(h, zero, 100, "127.0.0.12", err, sizeof(err)), 0);
	assert_int_equal(port_vxlan_fdb_add(h, zero, 200, "127.0.0.13", err, sizeof(err)), 0);
	assert_int_equal(port_vxlan_fdb_add(h, zero, 200, "127.0.0.14", err, sizeof(err)), 0);
	send1(h, 1, NULL, true, 100);
	assert_int_equal(recv_each(rx, 3), 100);
	send1(h, 1, NULL, true, 200);
	assert_int_equal(recv_each(rx, 3), 11);
	send1(h, 1, unknown, true, 100);
	assert_int_equal(recv_each(rx, 3), 100);
	send1(h, 1, mcast, true, 200);
	assert_int_equal(recv_each(rx, 3), 11);
	assert_int_equal(atomic_load(&h->stats.tx_packets), 6);
	/* a VNI without a list: the port's, remote= */
	send1(h, 1, NULL, true, 300);
	assert_int_equal(recv_each(rx, 3), 110);
	/* one remote out of VNI 200's list, then VNI 100's list as a whole: back to remote= */
	assert_int_equal(port_vxlan_fdb_del(h, zero, 200, "127.0.0.13"), 0);
	assert_int_equal(port_vxlan_fdb_del(h, zero, 200, "127.0.0.13"), -ENOENT);
	assert_int_equal(port_vxlan_fdb_del(h, zero, 200, "127.0.0.99"), -ENOENT);
	send1(h, 1, NULL, true, 200);
	assert_int_equal(recv_each(rx, 3), 1);
	assert_int_equal(port_vxlan_fdb_del(h, zero, 100, NULL), 0);
	assert_int_equal(port_vxlan_fdb_del(h, zero, 100, NULL), -ENOENT);
	send1(h, 1, NULL, true, 100);
	assert_int_equal(recv_each(rx, 3), 110);
	assert_int_equal(port_vxlan_flood_dump(h, f, 4), 1);
	assert_int_equal(f[0].vni, 200);
	assert_string_equal(port_vxlan_remote_str(h, (unsigned)__builtin_ctz(f[0].remotes)), "127.0.0.14");
	/* learning still wins for unicast: l's MAC ..:33 in VNI 200 goes to l alone */
	send1(rx[2], 0x33, NULL, true, 200);
	assert_int_equal(recv_want(h, NULL, 1), 1);
	send1(h, 1, (const uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x33 }, true, 200);
	assert_int_equal(recv_each(rx, 3), 1);
	/* an address of another family: refused */
	assert_int_equal(port_vxlan_fdb_add(h, zero, 100, "2001:db8::1", err, sizeof(err)), -EAFNOSUPPORT);
	for (unsigned i = 0; i < 3; i++)
		rx[i]->ops->destroy(rx[i]);
	h->ops->destroy(h);
}

/*
 * A tunnel fdb add the port refuses (here: VTEP_FLOOD_VNIS_MAX VNIs
 * already have a flood list) leaves the port as it was: its remote is not
 * appended, so datagrams from that address are still `remote` drops, not
 * frames from a known VTEP; once there is room, the same add takes.
 */
static void test_port_fdb_refused(void **state)
{
	static const uint8_t zero[6] = { 0 };
	struct port *r, *s;
	char err[256];

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	r = vx_named("r", "127.0.0.31", "127.0.0.32", "flow");
	s = vx_named("s", "127.0.0.33", "127.0.0.31", "flow");
	send1(s, 1, NULL, true, 7);
	assert_int_equal(recv_all(r, NULL), 0); /* not a VTEP of r's */
	for (unsigned vni = 0; vni < VTEP_FLOOD_VNIS_MAX; vni++)
		assert_int_equal(port_vxlan_fdb_add(r, zero, vni, "127.0.0.32", err, sizeof(err)), 0);
	assert_int_equal(port_vxlan_fdb_add(r, zero, 5000, "127.0.0.33", err, sizeof(err)), -ENOSPC);
	assert_string_equal(port_vxlan_remote_str(r, 1), "?");
	send1(s, 1, NULL, true, 7);
	assert_int_equal(recv_all(r, NULL), 0);
	assert_int_equal(port_vxlan_fdb_del(r, zero, 0, NULL), 0);
	assert_int_equal(port_vxlan_fdb_add(r, zero, 5000, "127.0.0.33", err, sizeof(err)), 0);
	assert_string_equal(port_vxlan_remote_str(r, 1), "127.0.0.33");
	send1(s, 1, NULL, true, 7);
	assert_int_equal(recv_all(r, NULL), 1);
	s->ops->destroy(s);
	r->ops->destroy(r);
}

/*
 * Datagrams the kernel drops before the port reads them (its socket's
 * receive buffer full: a burst the worker did not keep up with, or a
 * flood from the underlay) are counted too, in `stats`' rx_socket_drops.
 */
static void test_port_socket_drops(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(47891) };
	static uint8_t buf[1400];
	struct port *q;
	int fd;

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	q = vx_named("q", "127.0.0.41", "127.0.0.42", "7");
	assert_int_equal(type_stat(q, "rx_socket_drops"), 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.41", &to.sin_addr);
	/* far more than the receive buffer holds (4 MiB at most), none read */
	for (unsigned i = 0; i < 20000; i++)
		(void)sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to));
	close(fd);
	assert_true(type_stat(q, "rx_socket_drops") > 0);
	q->ops->destroy(q);
}

/* This process's raw sockets of protocol UDP bound to @addr, into @fds (at most @max); how many. */
static unsigned raw_udp_fds(const char *addr, int *fds, unsigned max)
{
	unsigned n = 0;

	for (int fd = 3; fd < 1024 && n < max; fd++) {
		struct sockaddr_in a;
		socklen_t alen = sizeof(a);
		int type = 0, proto = 0;
		socklen_t l1 = sizeof(type), l2 = sizeof(proto);
		char ip[INET_ADDRSTRLEN];

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) || type != SOCK_RAW ||
		    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l2) || proto != IPPROTO_UDP ||
		    getsockname(fd, (struct sockaddr *)&a, &alen) || a.sin_family != AF_INET ||
		    !inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip)) || strcmp(ip, addr))
			continue;
		fds[n++] = fd;
	}
	return n;
}

/* Whether a UDP datagram from @from to @addr reaches raw socket @fd (its filter taken off first). */
static bool raw_gets_udp(int fd, const char *from, const char *addr)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(47999) }, me = { .sin_family = AF_INET };
	uint8_t buf[64] = { 0 };
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	bool got = false;

	assert_true(u >= 0);
	/* The option's value is not read, but the kernel wants an int's room. */
	(void)setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &(int){ 0 }, sizeof(int));
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	inet_pton(AF_INET, from, &me.sin_addr);
	assert_int_equal(bind(u, (struct sockaddr *)&me, sizeof(me)), 0);
	inet_pton(AF_INET, addr, &to.sin_addr);
	assert_int_equal(sendto(u, buf, 16, 0, (struct sockaddr *)&to, sizeof(to)), 16);
	for (int i = 0; i < 20 && !got; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		got = poll(&p, 1, 5) == 1 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0;
	}
	close(u);
	return got;
}

/*
 * The transmit side's raw socket is handed no clone of the datagrams that
 * reach its address from a remote VTEP (the kernel's raw delivery, a cost
 * a datagram): it is connected to its own address.  The control: a raw
 * socket bound alike, not connected, gets one.
 */
static void test_port_raw_tx_deaf(void **state)
{
	struct sockaddr_in at = { .sin_family = AF_INET };
	int fds[4], control;
	struct port *q;

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	q = vx_named("q", "127.0.0.43", "127.0.0.44", "7");
	assert_int_equal(raw_udp_fds("127.0.0.43", fds, 4), 1);
	assert_false(raw_gets_udp(fds[0], "127.0.0.44", "127.0.0.43"));
	control = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	assert_true(control >= 0);
	inet_pton(AF_INET, "127.0.0.43", &at.sin_addr);
	assert_int_equal(bind(control, (struct sockaddr *)&at, sizeof(at)), 0);
	assert_true(raw_gets_udp(control, "127.0.0.44", "127.0.0.43"));
	close(control);
	q->ops->destroy(q);
}

/* Without remote=: no port flood list; a VNI floods to its own list alone, a VNI without one nowhere. */
static void test_port_no_remote(void **state)
{
	static const uint8_t zero[6] = { 0 };
	struct port *m, *n;
	struct pkt *got = zalloc64(sizeof(*got));
	char err[256], desc[512];

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	m = vx_named("m", "127.0.0.15", NULL, "flow");
	n = vx_named("n", "127.0.0.16", "127.0.0.15", "flow");
	m->ops->describe(m, desc, sizeof(desc));
	assert_non_null(strstr(desc, "remote none"));
	send1(m, 1, NULL, true, 100);
	assert_int_equal(atomic_load(&m->stats.drops[DROP_NO_DESTINATION]), 1);
	assert_int_equal(recv_all(n, NULL), 0);
	/* n is nobody's VTEP yet: its frames are a remote drop */
	send1(n, 2, NULL, true, 100);
	assert_int_equal(recv_all(m, NULL), 0);
	assert_int_equal(port_vxlan_fdb_add(m, zero, 100, "127.0.0.16", err, sizeof(err)), 0);
	send1(m, 1, NULL, true, 100);
	assert_int_equal(recv_want(n, got, 1), 1);
	assert_int_equal(got->tun.id, 100);
	send1(m, 1, NULL, true, 200);
	assert_int_equal(recv_all(n, NULL), 0);
	assert_int_equal(atomic_load(&m->stats.drops[DROP_NO_DESTINATION]), 2);
	/* a list's remote is a known source: n's frame gets in, its MAC is learned, unicast to it goes */
	send1(n, 2, NULL, true, 100);
	assert_int_equal(recv_want(m, got, 1), 1);
	send1(m, 1, (const uint8_t[6]){ 0x02, 0, 0, 0, 0, 2 }, true, 100);
	assert_int_equal(recv_want(n, NULL, 1), 1);
	n->ops->destroy(n);
	m->ops->destroy(m);
	free(got);
}

/* Frame from MAC ..:@src in @vni, its tunnel metadata an IPv6 tun_ipv6_dst of @dst (NULL: ::), sent by @p. */
static void send_to_dst6(struct port *p, uint8_t src, const char *dst, uint64_t vni)
{
	struct pkt *pk = zalloc64(sizeof(*pk));
	uint8_t buf[64];
	struct iovec iov;
	struct port_io io = { 0 };

	mkframe(pk, buf, &iov, src, NULL, true, vni);
	pk->tun.ipv6 = true;
	if (dst)
		assert_int_equal(inet_pton(AF_INET6, dst, pk->tun.dst.v6), 1);
	p->ops->tx_burst(p, &io, &pk, 1);
	free(pk);
}

static bool is_addr6(const uint8_t *a, const char *text)
{
	uint8_t b[16];

	return inet_pton(AF_INET6, text, b) == 1 && !memcmp(a, b, 16);
}

/*
 * remote=flow over an IPv6 underlay: in a network namespace of its own
 * (so its addresses fd00::41-43 on lo touch nothing else; the test runs
 * last, the rest of the process stays in it), each frame goes to its own
 * tun_ipv6_dst; a frame with an unspecified one, none, or only an IPv4
 * tun_dst is a no_tunnel_dst drop (never sent anywhere); any VTEP is
 * received with its outer addresses in tun.src/dst .v6; and a TSO frame
 * to a tun_ipv6_dst leaves as UDP GSO payloads, then, once the kernel
 * refuses GSO, a datagram at a time to the same address.
 */
static void test_port_remote_flow6(void **state)
{
	struct pkt *got = zalloc64(sizeof(*got));
	struct port *p, *q, *r;
	char err[256] = "";

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket, a network namespace)");
	if (unshare(CLONE_NEWNET) < 0)
		fail_msg("cannot make a network namespace: %s", strerror(errno));
	if (system("ip link set lo up && ip -6 addr add fd00::41/128 dev lo nodad && "
		   "ip -6 addr add fd00::42/128 dev lo nodad && ip -6 addr add fd00::43/128 dev lo nodad"))
		fail_msg("cannot put fd00::41-43 on lo with ip(8) (is iproute2 installed?)");
	p = vx_try("p6", "fd00::41", "flow", "vni", "flow", err, sizeof(err));
	if (!p)
		fail_msg("remote=flow over IPv6: %s", err);
	q = vx_named("q6", "fd00::42", "fd00::41", "4242");
	r = vx_named("r6", "fd00::43", "fd00::41", "4242");
	send_to_dst6(p, 1, "fd00::42", 4242);
	assert_int_equal(recv_want(q, got, 1), 1);
	assert_true(got->tun.ipv6);
	assert_true(is_addr6(got->tun.src.v6, "fd00::41"));
	assert_int_equal(recv_all(r, NULL), 0);
	send_to_dst6(p, 1, "fd00::43", 4242);
	assert_int_equal(recv_want(r, NULL, 1), 1);
	assert_int_equal(recv_all(q, NULL), 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 2);
	/* none of the port's family: dropped by name, nothing sent */
	send_to_dst6(p, 1, NULL, 4242);
	send1(p, 1, NULL, false, 0);
	send_to_dst(p, 1, 0x7f00002a, 4242);	/* an IPv4 tun_dst on an IPv6 port */
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_TUNNEL_DST]), 3);
	/* nor a multicast one, nor the port's own local= */
	send_to_dst6(p, 1, "ff02::1", 4242);
	send_to_dst6(p, 1, "fd00::41", 4242);
	assert_int_equal(atomic_load(&p->stats.drops[DROP_NO_TUNNEL_DST]), 5);
	assert_int_equal(recv_all(p, NULL), 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 2);
	assert_int_equal(recv_all(q, NULL) + recv_all(r, NULL), 0);
	/* any VTEP in, its address as the frame's tunnel source */
	send1(q, 0x21, NULL, false, 0);
	assert_int_equal(recv_want(p, got, 1), 1);
	assert_true(got->tun.ipv6);
	assert_true(is_addr6(got->tun.src.v6, "fd00::42"));
	assert_true(is_addr6(got->tun.dst.v6, "fd00::41"));
	assert_int_equal(got->tun.id, 4242);
	send1(r, 0x22, NULL, false, 0);
	assert_int_equal(recv_want(p, got, 1), 1);
	assert_true(is_addr6(got->tun.src.v6, "fd00::43"));
	r->ops->destroy(r);
	p->ops->destroy(p);

	/* a TSO frame: GSO payloads to its tun_ipv6_dst, then resent a datagram at a time */
	p = vx_try("p6", "fd00::41", "flow", "vni", "4242", err, sizeof(err));
	if (!p)
		fail_msg("remote=flow over IPv6: %s", err);
	flow_gso_rounds(p, q, "fd00::41", "fd00::42");
	q->ops->destroy(q);
	p->ops->destroy(p);
	free(got);
}

/* A port with vlan_vni=@map (no vni=), or NULL with the refusal in @err. */
static struct port *vx_mapped(const char *name, const char *local, const char *remote, const char *map, char *err,
			      size_t errlen)
{
	return vx_try(name, local, remote, "vlan_vni", map, err, errlen);
}

/* A frame with an 802.1Q tag of @vid (or none: 0) from MAC ..:@src, broadcast, sent by @p. */
static void send_tagged(struct port *p, uint8_t src, unsigned vid, const uint8_t *inner_tag)
{
	struct pkt *pk = zalloc64(sizeof(*pk));
	uint8_t buf[64];
	struct iovec iov;
	struct port_io io = { 0 };

	mkframe(pk, buf, &iov, src, NULL, false, 0);
	if (inner_tag) {
		/* the frame itself carries a tag (what a VLAN-mapped VTEP never sends) */
		memcpy(buf + 12, inner_tag, 4);
		pkt_rx_init(pk, &iov, 1, 64, 0);
		pkt_load(pk);
	}
	if (vid)
		assert_int_equal(pkt_vlan_push(pk, (uint16_t)vid), 0);
	p->ops->tx_burst(p, &io, &pk, 1);
	free(pk);
}

/* The first frame @p receives within 1 s, its bytes (up to @max) into @out: its length, 0 for none. */
static unsigned recv_bytes(struct port *p, uint8_t *out, unsigned max)
{
	struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct port_io io = { 0 };
	unsigned n = rx_wait(p, rx), len = 0;

	if (n) {
		len = rx[0].len;
		assert_true(len <= max);
		assert_int_equal(pkt_to_buf(&rx[0], out, len), len);
	}
	p->ops->rx_done(p, 0, &io);
	free(rx);
	return len;
}

/* vlan_vni=: VNIs in as tags, tags out as VNIs (untagged on the wire), the rest dropped by reason. */
static void test_port_vlan_vni(void **state)
{
	static const uint8_t tag7[4] = { 0x81, 0x00, 0x00, 0x07 };
	struct port *m, *f, *g;
	struct pkt *got = zalloc64(sizeof(*got));
	char err[256], desc[512];
	uint8_t out[256];	/* more than the frame: gcc -O2 with ASan cannot see len is 64 in pkt_copy_small() (-Warray-bounds) */
	const uint8_t *h;

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	/* refused: not one to one, out of range, not a list, with vni= too */
	assert_null(vx_mapped("x", "127.0.0.7", "127.0.0.8", "10:1,10:2", err, sizeof(err)));
	assert_non_null(strstr(err, "twice"));
	assert_null(vx_mapped("x", "127.0.0.7", "127.0.0.8", "10:1,20:1", err, sizeof(err)));
	assert_null(vx_mapped("x", "127.0.0.7", "127.0.0.8", "0:5", err, sizeof(err)));
	assert_null(vx_mapped("x", "127.0.0.7", "127.0.0.8", "4095:5", err, sizeof(err)));
	assert_null(vx_mapped("x", "127.0.0.7", "127.0.0.8", "10:16777216", err, sizeof(err)));
	assert_null(vx_mapped("x", "127.0.0.7", "127.0.0.8", "10", err, sizeof(err)));
	assert_null(vx_mapped("x", "127.0.0.7", "127.0.0.8", "10:1,", err, sizeof(err)));
	assert_null(vx_mapped("x", "127.0.0.7", "127.0.0.8", "", err, sizeof(err)));
	{
		struct json_object *o = json_object_new_object();
		struct port_env env = { 0 };

		json_object_object_add(o, "local", json_object_new_string("127.0.0.7"));
		json_object_object_add(o, "vlan_vni", json_object_new_string("10:1"));
		json_object_object_add(o, "vni", json_object_new_int(1));
		assert_null(port_vxlan_create("x", o, &env, err, sizeof(err)));
		assert_non_null(strstr(err, "vlan_vni="));
		json_object_put(o);
	}

	m = vx_mapped("m", "127.0.0.7", "127.0.0.8", "10:4242,20:99", err, sizeof(err));
	if (!m)
		fail_msg("vlan_vni port: %s", err);
	f = vx_named("f", "127.0.0.8", "127.0.0.7", "4242");
	assert_int_equal(port_vxlan_vni(m), -1);
	/* Under the map, no UDP GSO and no GRO merge (the tag would have to go out of every segment, into every merge). */
	assert_int_equal(type_stat(m, "udp_gso"), 0);
	assert_int_equal(atomic_load(&m->tx_offload), 0);
	assert_false(m->rx_offload);
	m->ops->describe(m, desc, sizeof(desc));
	assert_non_null(strstr(desc, "vni vlan_vni 10:4242,20:99 local 127.0.0.7"));
	/* the tag the port strips is not counted against the underlay: 4 bytes more than an unmapped port's */
	assert_int_equal(atomic_load(&m->tx_frame_max), atomic_load(&f->tx_frame_max) + 4);

	/* in: f's untagged frame in VNI 4242 comes out of m tagged VLAN 10, 4 bytes longer */
	send1(f, 0xf, NULL, false, 0);
	assert_int_equal(recv_want(m, got, 1), 1);
	assert_true(pkt_vlan_tagged(got));
	h = pkt_head(got);
	assert_int_equal(h[14] << 8 | h[15], 10);
	assert_int_equal(h[16] << 8 | h[17], 0x88b5);
	assert_int_equal(h[11], 0xf);
	assert_int_equal(got->len, 68);
	assert_int_equal(got->tun.id, 4242);
	assert_true(got->loaded);

	/* out: VLAN 10's frame reaches f in VNI 4242 without its tag, byte for byte what was tagged */
	send_tagged(m, 1, 10, NULL);
	assert_int_equal(recv_bytes(f, out, sizeof(out)), 64);
	assert_int_equal(out[0] & out[5], 0xff);
	assert_int_equal(out[11], 1);
	assert_int_equal(out[12] << 8 | out[13], 0x88b5);
	/* VLAN 20 goes in VNI 99, which f does not serve (its vni drop) */
	send_tagged(m, 1, 20, NULL);
	assert_int_equal(recv_all(f, NULL), 0);
	assert_int_equal(atomic_load(&f->stats.drops[DROP_BAD_HEADER]), 1);
	/* untagged, or a VLAN with no VNI: not sent */
	send_tagged(m, 1, 0, NULL);
	send_tagged(m, 1, 30, NULL);
	assert_int_equal(atomic_load(&m->stats.drops[DROP_VLAN_DENIED]), 2);
	assert_int_equal(atomic_load(&m->stats.tx_packets), 2);

	/* an inner frame that carries a tag already: dropped as tagged */
	send_tagged(f, 0xf, 0, tag7);
	assert_int_equal(recv_all(m, NULL), 0);
	assert_int_equal(atomic_load(&m->stats.drops[DROP_VLAN_TAGGED]), 1);
	assert_int_equal(type_stat(m, "rx_bad_tagged"), 1);
	/* an unmapped VNI: a vni drop */
	f->ops->destroy(f);
	g = vx_named("g", "127.0.0.8", "127.0.0.7", "77");
	send1(g, 0xf, NULL, false, 0);
	assert_int_equal(recv_all(m, NULL), 0);
	assert_int_equal(type_stat(m, "rx_bad_vni"), 1);
	/* static entries: in a mapped VNI only */
	assert_int_equal(port_vxlan_fdb_add(m, (const uint8_t[6]){ 2, 0, 0, 0, 0, 9 }, 99, "127.0.0.8", err,
					    sizeof(err)), 0);
	assert_int_equal(port_vxlan_fdb_add(m, (const uint8_t[6]){ 2, 0, 0, 0, 0, 9 }, 77, "127.0.0.8", err,
					    sizeof(err)), -EINVAL);
	g->ops->destroy(g);
	m->ops->destroy(m);
	free(got);
}

/*
 * The outer UDP checksum (csum=on, IPv4) between VTEPs whose pseudo
 * header sums near 2^32: 10.0.254.200 -> 10.0.0.55 (on lo in a network
 * namespace of the test's own).  vx_csum4() once added that sum to the
 * datagram's in 32 bits and lost the carry: at some lengths (a UDP length
 * of 256 among them) the checksum was wrong and the receiving kernel
 * dropped the datagram.  Every length from 60 to 400 bytes must arrive.
 */
static void test_port_csum_carry(void **state)
{
	static uint8_t frame[400];
	struct pkt *tx = zalloc64(sizeof(*tx)), *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct port_io io = { 0 };
	unsigned got = 0, sent = 0;
	struct port *a, *b;
	struct iovec iov;

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket, a network namespace)");
	if (unshare(CLONE_NEWNET) < 0)
		fail_msg("cannot make a network namespace: %s", strerror(errno));
	if (system("ip link set lo up && ip addr add 10.0.254.200/32 dev lo && ip addr add 10.0.0.55/32 dev lo"))
		fail_msg("cannot put 10.0.254.200 and 10.0.0.55 on lo with ip(8) (is iproute2 installed?)");
	a = vx_named("carry-a", "10.0.254.200", "10.0.0.55", "4242");
	b = vx_named("carry-b", "10.0.0.55", "10.0.254.200", "4242");
	for (unsigned len = 60; len <= sizeof(frame); len++) {
		struct pkt *one = tx;

		small_frame(frame, len, 1000, len);
		memset(frame + 44, 0xff, len - 44); /* a datagram sum near 0xffff: with the pseudo header's, past 2^32 */
		iov = (struct iovec){ frame, len };
		pkt_rx_init(tx, &iov, 1, len, 0);
		pkt_load(tx);
		a->ops->tx_burst(a, &io, &one, 1); /* alone: the raw socket, vsw's own checksum */
		sent++;
		got += rx_wait(b, rx); /* a dropped one costs its second of waiting: a failing run is slow, a good one not */
		b->ops->rx_done(b, 0, &io);
	}
	assert_int_equal(got, sent);
	a->ops->destroy(a);
	b->ops->destroy(b);
	free(rx);
	free(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_build),
		cmocka_unit_test(test_hdr_check),
		cmocka_unit_test(test_src_port),
		cmocka_unit_test(test_flow_hash_raw),
		cmocka_unit_test(test_port_loopback),
		cmocka_unit_test(test_port_frame_max),
		cmocka_unit_test(test_port_remotes),
		cmocka_unit_test(test_port_remote_kept),
		cmocka_unit_test(test_port_vni_flow),
		cmocka_unit_test(test_port_remote_flow),
		cmocka_unit_test(test_port_vni_flood),
		cmocka_unit_test(test_port_no_remote),
		cmocka_unit_test(test_port_fdb_refused),
		cmocka_unit_test(test_port_socket_drops),
		cmocka_unit_test(test_port_raw_tx_deaf),
		cmocka_unit_test(test_port_vlan_vni),
		cmocka_unit_test(test_port_remote_flow6),	/* last two: they move the process to network namespaces */
		cmocka_unit_test(test_port_csum_carry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
