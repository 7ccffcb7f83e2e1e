/* test_vxlan_xdp.c - unit tests of the vxlan port's AF_XDP receive path: the outer header checks (packet/vxlan_outer) and the XDP program's choice of frames (port/vxlan_xdp), run by the kernel on test frames. */

/*
 * vxlan_outer_parse() checks what the kernel's IP and UDP receive would:
 * each test frame passes, then each field spoiled in turn is refused for
 * its reason, and every truncation of a passing frame is refused without
 * reading past it.  The XDP program is loaded and run by the kernel
 * (BPF_PROG_TEST_RUN) with an AF_XDP socket on the loopback's queue 0 in
 * its map: the frames a vxlan port of that address and port is to get are
 * redirected (XDP_REDIRECT), every other one passed to the kernel
 * (XDP_PASS).  Then the port with xdp= on a veth in a network namespace
 * of the test's own: thousands of datagrams through the AF_XDP socket
 * (its frames recycled), fragmented ones through the UDP socket between
 * them.  The program and port tests need root (CAP_BPF, a namespace) and
 * fail with the reason otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/bpf.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>

#include "packet/csum.h"
#include "packet/pkt.h"
#include "packet/vxlan_outer.h"
#include "port/afxdp_sock.h"
#include "port/port.h"
#include "port/port_vxlan.h"
#include "port/vxlan_xdp.h"

static const uint8_t local4[4] = { 192, 168, 78, 2 }, remote4[4] = { 192, 168, 78, 1 };
static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };	/* the frames' destination (outer_frame()) */
static const uint8_t local6[16] = { 0xfd, 0, 0, 0x78, [15] = 2 }, remote6[16] = { 0xfd, 0, 0, 0x78, [15] = 1 };
#define DSTPORT 4789
#define PROG_DATA_MAX 1500u	/* the programs' longest frame here: the kernel's test run splits longer ones than a page */

static void wr16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* The UDP checksum of the datagram at @u (@ulen bytes) from @src to @dst into its field (@zero: leave 0). */
static void udp_sum(uint8_t *u, size_t ulen, const uint8_t *src, const uint8_t *dst, bool v6, bool zero)
{
	uint32_t s = v6 ? csum_pseudo_ipv6(src, dst, 17, (uint32_t)ulen) : csum_pseudo_ipv4(src, dst, 17, (uint32_t)ulen);
	uint16_t c;

	u[6] = u[7] = 0;
	if (zero)
		return;
	c = csum_finish_l4(csum_add(s, u, ulen), CSUM_UDP_OFFSET);
	memcpy(u + 6, &c, 2);
}

/* An underlay frame: Ethernet, IPv4 or IPv6, UDP to local:DSTPORT with @plen bytes of payload. Its length. */
static size_t outer_frame(uint8_t *f, bool v6, size_t plen, bool zero_csum)
{
	size_t l3 = 14, l4 = v6 ? 54 : 34, ulen = 8 + plen;

	memset(f, 0, l4 + ulen);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	wr16(f + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		f[l3] = 0x60;
		wr16(f + l3 + 4, (unsigned)ulen);
		f[l3 + 6] = 17;
		f[l3 + 7] = 64;
		memcpy(f + l3 + 8, remote6, 16);
		memcpy(f + l3 + 24, local6, 16);
	} else {
		uint16_t c;

		f[l3] = 0x45;
		wr16(f + l3 + 2, (unsigned)(20 + ulen));
		wr16(f + l3 + 4, 0x1234);
		f[l3 + 6] = 0x40; /* DF */
		f[l3 + 8] = 64;
		f[l3 + 9] = 17;
		memcpy(f + l3 + 12, remote4, 4);
		memcpy(f + l3 + 16, local4, 4);
		c = csum_ipv4_hdr(f + l3, 20);
		memcpy(f + l3 + 10, &c, 2);
	}
	wr16(f + l4, 51234);
	wr16(f + l4 + 2, DSTPORT);
	wr16(f + l4 + 4, (unsigned)ulen);
	for (size_t i = 0; i < plen; i++)
		f[l4 + 8 + i] = (uint8_t)(i * 7 + 3);
	udp_sum(f + l4, ulen, f + l3 + (v6 ? 8 : 12), f + l3 + (v6 ? 24 : 16), v6, zero_csum);
	return l4 + ulen;
}

static enum vxlan_outer_bad parse(const uint8_t *f, size_t len, bool v6, struct vxlan_outer *o)
{
	/* A heap copy of exactly @len bytes: a read past it is ASan's. */
	uint8_t *c = malloc(len ? len : 1);
	enum vxlan_outer_bad r;

	assert_non_null(c);
	memcpy(c, f, len);
	r = vxlan_outer_parse(c, len, v6, v6 ? local6 : local4, DSTPORT, o);
	if (r == VXO_OK)
		o->payload = f + (o->payload - c);
	free(c);
	return r;
}

static void test_outer_ipv4(void **state)
{
	static uint8_t f[2000];
	struct vxlan_outer o;
	size_t len = outer_frame(f, false, 100, false);

	(void)state;
	assert_int_equal(parse(f, len, false, &o), VXO_OK);
	assert_ptr_equal(o.payload, f + 42);
	assert_int_equal(o.len, 100);
	/* The payload's sum, kept for the inner checks, is its bytes'. */
	assert_true(o.sum_ok);
	assert_int_equal(csum_fold(o.sum), csum_fold(csum_add(0, f + 42, 100)));
	assert_int_equal(o.sport, 51234);
	assert_memory_equal(o.src, remote4, 4);
	/* Ethernet padding past the IP length is not the datagram's. */
	assert_int_equal(parse(f, len + 6, false, &o), VXO_OK);
	assert_int_equal(o.len, 100);
	/* Every truncation is refused. */
	for (size_t l = 0; l < len; l++)
		assert_int_not_equal(parse(f, l, false, &o), VXO_OK);
	/* A zero checksum is none (RFC 768): no sum then. */
	len = outer_frame(f, false, 100, true);
	assert_int_equal(parse(f, len, false, &o), VXO_OK);
	assert_false(o.sum_ok);
	/* Each field spoiled, its reason. */
	struct {
		size_t at;
		uint8_t xor;
		enum vxlan_outer_bad want;
	} cases[] = {
		{ 12, 0x01, VXO_NOT_OURS },	/* ethertype */
		{ 14, 0x10, VXO_IP_HEADER },	/* version 5 */
		{ 14, 0x05 ^ 0x04, VXO_IP_HEADER },	/* IHL 4 */
		{ 24, 0x01, VXO_IP_HEADER },	/* header checksum */
		{ 16, 0x10, VXO_IP_HEADER },	/* total length (the header sum no longer adds) */
		{ 33, 0x01, VXO_IP_HEADER },	/* destination */
		{ 36, 0x01, VXO_NOT_OURS },	/* UDP port */
		{ 39, 0x80, VXO_UDP_LENGTH },	/* UDP length past the IP payload */
		{ 60, 0x01, VXO_UDP_CSUM },	/* payload */
		{ 40, 0x01, VXO_UDP_CSUM },	/* the checksum */
	};
	len = outer_frame(f, false, 100, false);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f[cases[i].at] ^= cases[i].xor;
		assert_int_equal(parse(f, len, false, &o), cases[i].want);
		f[cases[i].at] ^= cases[i].xor;
	}
	/* With their header sums right: a fragment, another destination, a length past the frame, UDP not. */
	struct {
		size_t at;
		uint8_t set;
		enum vxlan_outer_bad want;
	} fixed[] = {
		{ 20, 0x20, VXO_FRAGMENT },	/* MF */
		{ 21, 0x01, VXO_FRAGMENT },	/* offset */
		{ 33, 0x09, VXO_NOT_OURS },	/* destination */
		{ 23, 6, VXO_NOT_OURS },	/* protocol */
		{ 16, 0x08, VXO_IP_LENGTH },	/* total length past the frame */
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		uint8_t was = f[fixed[i].at], was_c[2] = { f[24], f[25] };
		uint16_t c;

		f[fixed[i].at] = fixed[i].set;
		f[24] = f[25] = 0;
		c = csum_ipv4_hdr(f + 14, 20);
		memcpy(f + 24, &c, 2);
		assert_int_equal(parse(f, len, false, &o), fixed[i].want);
		f[fixed[i].at] = was;
		f[24] = was_c[0], f[25] = was_c[1];
	}
	assert_int_equal(parse(f, len, false, &o), VXO_OK);
	/* Sources no host sends from (the kernel's martians), and the port's own address. */
	{
		static const uint8_t srcs[][4] = { { 0, 1, 2, 3 }, { 127, 0, 0, 1 }, { 224, 0, 0, 5 }, { 239, 1, 1, 1 },
						   { 255, 255, 255, 255 }, { 192, 168, 78, 2 },
						   /* then sources the kernel takes: 240/4 but its last address ("class E") */
						   { 240, 0, 0, 1 }, { 255, 255, 255, 254 }, { 223, 255, 255, 255 } };

		for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
			uint8_t g[200];
			size_t l = outer_frame(g, false, 100, false);
			uint16_t c;

			memcpy(g + 26, srcs[i], 4);
			g[24] = g[25] = 0;
			c = csum_ipv4_hdr(g + 14, 20);
			memcpy(g + 24, &c, 2);
			udp_sum(g + 34, 108, g + 26, g + 30, false, false);
			assert_int_equal(parse(g, l, false, &o), i < 6 ? VXO_SOURCE : VXO_OK);
		}
	}
	/* The outer TOS is handed on (RFC 6040's outer ECN field): DSCP 46, CE. */
	{
		uint8_t g[200];
		size_t l = outer_frame(g, false, 100, false);
		uint16_t c;

		assert_int_equal(parse(g, l, false, &o), VXO_OK);
		assert_int_equal(o.tos, 0);
		g[15] = 46 << 2 | 3;
		g[24] = g[25] = 0;
		c = csum_ipv4_hdr(g + 14, 20);
		memcpy(g + 24, &c, 2);
		assert_int_equal(parse(g, l, false, &o), VXO_OK);
		assert_int_equal(o.tos, 46 << 2 | 3);
	}
	/* UDP lengths: under 8; shorter than the IP payload (the rest is not the datagram's, as Linux trims it). */
	{
		uint8_t g[200];
		size_t l = outer_frame(g, false, 100, false);

		wr16(g + 38, 7);
		assert_int_equal(parse(g, l, false, &o), VXO_UDP_LENGTH);
		wr16(g + 38, 8 + 90);
		udp_sum(g + 34, 98, g + 26, g + 30, false, false);
		assert_int_equal(parse(g, l, false, &o), VXO_OK);
		assert_int_equal(o.len, 90);
	}
	/* An odd length, and a checksum that computes to zero, sent as all ones (RFC 768). */
	{
		uint8_t g[200];
		size_t l = outer_frame(g, false, 101, false);
		bool ones = false;

		assert_int_equal(parse(g, l, false, &o), VXO_OK);
		assert_int_equal(o.len, 101);
		for (unsigned k = 0; k < 65536 && !ones; k++) {
			wr16(g + 42, k);	/* the payload's first word moves the sum through every value */
			udp_sum(g + 34, 109, g + 26, g + 30, false, false);
			ones = g[40] == 0xff && g[41] == 0xff;
		}
		assert_true(ones);
		assert_int_equal(parse(g, l, false, &o), VXO_OK);
	}
	/* IPv4 total length under its header and a UDP header. */
	{
		uint8_t g[200];
		size_t l = outer_frame(g, false, 100, false);
		uint16_t c;

		wr16(g + 16, 24);
		g[24] = g[25] = 0;
		c = csum_ipv4_hdr(g + 14, 20);
		memcpy(g + 24, &c, 2);
		assert_int_equal(parse(g, l, false, &o), VXO_IP_LENGTH);
	}
	/* Not of the port's family. */
	assert_int_equal(vxlan_outer_parse(f, len, true, local6, DSTPORT, &o), VXO_NOT_OURS);
}

static void test_outer_ipv6(void **state)
{
	static uint8_t f[2000];
	struct vxlan_outer o;
	size_t len = outer_frame(f, true, 300, false);

	(void)state;
	assert_int_equal(parse(f, len, true, &o), VXO_OK);
	assert_ptr_equal(o.payload, f + 62);
	assert_int_equal(o.len, 300);
	assert_memory_equal(o.src, remote6, 16);
	for (size_t l = 0; l < len; l++)
		assert_int_not_equal(parse(f, l, true, &o), VXO_OK);
	f[100] ^= 0x40;
	assert_int_equal(parse(f, len, true, &o), VXO_UDP_CSUM);
	f[100] ^= 0x40;
	f[14] ^= 0x20;	/* version 4 */
	assert_int_equal(parse(f, len, true, &o), VXO_IP_HEADER);
	f[14] ^= 0x20;
	f[20] = 0;	/* hop-by-hop options: not ours (the program passes it) */
	assert_int_equal(parse(f, len, true, &o), VXO_NOT_OURS);
	f[20] = 17;
	f[18] ^= 0x08;	/* payload length past the frame */
	assert_int_equal(parse(f, len, true, &o), VXO_IP_LENGTH);
	f[18] ^= 0x08;
	/* Martian sources: ::, ::1, multicast, v4-mapped, the port's own. */
	{
		static const uint8_t srcs[][16] = { { 0 }, { [15] = 1 }, { 0xff, 0x02, [15] = 1 },
						    { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 },
						    { 0xfd, 0, 0, 0x78, [15] = 2 } };

		for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
			uint8_t g[500];
			size_t l = outer_frame(g, true, 300, true);

			memcpy(g + 22, srcs[i], 16);
			assert_int_equal(parse(g, l, true, &o), VXO_SOURCE);
		}
	}
	/* A zero checksum: the port accepts it (UDP_NO_CHECK6_RX on its socket). */
	len = outer_frame(f, true, 300, true);
	assert_int_equal(parse(f, len, true, &o), VXO_OK);
	assert_int_equal(o.tos, 0);
	/* The traffic class (across the first two bytes) is handed on: DSCP 46, ECT(1). */
	f[14] = 0x60 | (46 << 2 | 1) >> 4;
	f[15] = (uint8_t)((46 << 2 | 1) << 4);
	assert_int_equal(parse(f, len, true, &o), VXO_OK);
	assert_int_equal(o.tos, 46 << 2 | 1);
}

/* ---- the XDP program, run by the kernel ---- */

struct prog_fx {
	int map_fd, prog_fd;
	struct afxdp_sock sock;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	void *umem;
};

static void prog_setup(struct prog_fx *x, bool v6)
{
	struct afxdp_sock_config c = { .umem_bytes = 64 * 4096, .frame_bytes = 4096, .rx_entries = 64,
				       .tx_entries = 64, .ifindex = 1, .qid = 0, .bind_flags = XDP_COPY };
	static char log[65536];
	int rc;

	if (geteuid() != 0)
		fail_msg("the XDP program tests need root (CAP_BPF)");
	x->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "t_xsks", 4, 4, VXLAN_XDP_QUEUES, NULL);
	assert_true(x->map_fd >= 0);
	log[0] = '\0';
	x->prog_fd = vxlan_xdp_prog_load(x->map_fd, our_mac, v6, v6 ? local6 : local4, DSTPORT, PROG_DATA_MAX, log,
					 sizeof(log));
	if (x->prog_fd < 0)
		fail_msg("program: %s\n%s", strerror(-x->prog_fd), log);
	x->umem = mmap(NULL, c.umem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(x->umem != MAP_FAILED);
	c.umem = x->umem;
	c.ifindex = if_nametoindex("lo");
	/* A socket closed by the test before lets go of the queue when a kernel workqueue gets to it. */
	for (int tries = 0; (rc = afxdp_sock_open(&x->sock, &c, &x->fill, &x->comp, &x->rx, &x->tx)) == -EBUSY &&
			    tries < 200; tries++)
		usleep(10000);
	if (rc < 0)
		fail_msg("AF_XDP socket on lo: %s", strerror(-rc));
	assert_int_equal(bpf_map_update_elem(x->map_fd, &(uint32_t){ 0 }, &x->sock.fd, 0), 0);
}

static void prog_teardown(struct prog_fx *x)
{
	afxdp_sock_close(&x->sock);
	munmap(x->umem, 64 * 4096);
	close(x->prog_fd);
	close(x->map_fd);
}

/* What the program returns for frame @f (@len bytes). */
static int verdict(const struct prog_fx *x, const uint8_t *f, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len, .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(x->prog_fd, &o), 0);
	return (int)o.retval;
}

static void test_prog_ipv4(void **state)
{
	static uint8_t f[VXLAN_XDP_FRAME + 100];
	struct prog_fx x;
	size_t len;

	(void)state;
	prog_setup(&x, false);
	len = outer_frame(f, false, 100, false);
	assert_int_equal(verdict(&x, f, len), XDP_REDIRECT);
	/* The program looks at where a datagram goes, not at its sums: the port checks those. */
	f[24] ^= 1;
	assert_int_equal(verdict(&x, f, len), XDP_REDIRECT);
	f[24] ^= 1;
	/* The longest frame it is to take, and one byte more (the kernel's then). */
	len = outer_frame(f, false, PROG_DATA_MAX - 42, false);
	assert_int_equal(verdict(&x, f, len), XDP_REDIRECT);
	len = outer_frame(f, false, PROG_DATA_MAX - 41, false);
	assert_int_equal(verdict(&x, f, len), XDP_PASS);
	len = outer_frame(f, false, 100, false);
	struct {
		size_t at;
		uint8_t set;
	} pass[] = {
		{ 12, 0x81 },	/* 802.1Q tag (0x8100) */
		{ 13, 0x06 },	/* ARP */
		{ 14, 0x46 },	/* IPv4 options */
		{ 20, 0x20 },	/* MF */
		{ 21, 0x08 },	/* offset */
		{ 23, 6 },	/* TCP */
		{ 33, 9 },	/* to another address */
		{ 37, 0xb6 },	/* to another port */
		{ 0, 0xff },	/* to another MAC (its first byte: broadcast) */
		{ 5, 0x03 },	/* ... its last */
	};
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		uint8_t was = f[pass[i].at];

		f[pass[i].at] = pass[i].set;
		assert_int_equal(verdict(&x, f, len), XDP_PASS);
		f[pass[i].at] = was;
	}
	assert_int_equal(verdict(&x, f, len), XDP_REDIRECT);
	/* Too short for its headers. */
	for (size_t l = 14; l < 42; l++)
		assert_int_equal(verdict(&x, f, l), XDP_PASS);
	/* An IPv6 datagram to the port's port: another family's. */
	len = outer_frame(f, true, 100, false);
	assert_int_equal(verdict(&x, f, len), XDP_PASS);
	/* No socket in the map for the queue: the kernel's. */
	assert_int_equal(bpf_map_delete_elem(x.map_fd, &(uint32_t){ 0 }), 0);
	len = outer_frame(f, false, 100, false);
	assert_int_equal(verdict(&x, f, len), XDP_PASS);
	prog_teardown(&x);
}

static void test_prog_ipv6(void **state)
{
	static uint8_t f[2000];
	struct prog_fx x;
	size_t len;

	(void)state;
	prog_setup(&x, true);
	len = outer_frame(f, true, 100, false);
	assert_int_equal(verdict(&x, f, len), XDP_REDIRECT);
	struct {
		size_t at;
		uint8_t set;
	} pass[] = {
		{ 14, 0x40 },	/* version 4 */
		{ 20, 0 },	/* hop-by-hop options first */
		{ 53, 3 },	/* to another address (its last byte) */
		{ 38, 0xfe },	/* ... its first */
		{ 57, 0xb6 },	/* to another port */
		{ 3, 0x01 },	/* to another MAC */
		{ 15, 0x0f },	/* the traffic class's low bits and the flow label: still ours (below) */
	};
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		uint8_t was = f[pass[i].at];

		f[pass[i].at] = pass[i].set;
		assert_int_equal(verdict(&x, f, len), pass[i].at == 15 ? XDP_REDIRECT : XDP_PASS);
		f[pass[i].at] = was;
	}
	f[14] = 0x6f;	/* the traffic class's high bits: ours */
	assert_int_equal(verdict(&x, f, len), XDP_REDIRECT);
	f[14] = 0x60;
	assert_int_equal(verdict(&x, f, len), XDP_REDIRECT);
	len = outer_frame(f, false, 100, false);
	assert_int_equal(verdict(&x, f, len), XDP_PASS);
	prog_teardown(&x);
}

/* ---- the port with xdp= on a veth, in a network namespace of its own ---- */

/* The figure @name of `stats`' tunnel object of port @p (0 when it has none). */
static uint64_t tunnel_stat(struct port *p, const char *name)
{
	struct port_type_stat st[PORT_TYPE_STATS_MAX];
	unsigned n = p->ops->type_stats(p, st, PORT_TYPE_STATS_MAX);

	for (unsigned i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i].value;
	return 0;
}

/* The namespace of the veth's other end (the remote host), named for ip(8). */
static char peer_ns[40];

/* A UDP socket on 192.168.90.2, in peer_ns, sending to the port's 192.168.90.1:47890, allowed to fragment. */
static int sender(void)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	char path[80];
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), other, fd, dont = IP_PMTUDISC_DONT;

	snprintf(path, sizeof(path), "/run/netns/%s", peer_ns);
	other = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(self >= 0 && other >= 0);
	/* The socket is of the namespace it is made in. */
	assert_int_equal(setns(other, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	close(other);
	close(self);
	assert_true(fd >= 0);
	inet_pton(AF_INET, "192.168.90.2", &me.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &dont, sizeof(dont)), 0);
	return fd;
}

/* A VXLAN datagram of VNI 0x4242 holding an inner frame of @inner bytes whose bytes after the MACs are @tag. */
static size_t vx_dgram(uint8_t *d, size_t inner, uint8_t tag)
{
	static const uint8_t hdr[8] = { 0x08, 0, 0, 0, 0x00, 0x42, 0x42, 0 };

	memcpy(d, hdr, 8);
	memcpy(d + 8, "\x02\x00\x00\x00\x00\x0a\x02\x00\x00\x00\x00\x0b", 12);
	d[20] = 0x88, d[21] = 0xb5;
	memset(d + 22, tag, inner - 14);
	return 8 + inner;
}

/* A VXLAN datagram of VNI 0x4242 holding an inner IPv4 UDP frame (48 bytes of IP) with TOS @tos from 10.0.@id.1, its header checksum right. */
static size_t ecn_dgram(uint8_t *d, uint8_t tos, uint8_t id)
{
	uint16_t c;

	vx_dgram(d, 62, 0);
	d[20] = 0x08, d[21] = 0x00;
	d[22] = 0x45, d[23] = tos, d[25] = 48, d[30] = 64, d[31] = 17;
	memcpy(d + 34, "\x0a\0\0\x01\x0a\0\0\x02", 8);
	d[36] = id;
	c = csum_ipv4_hdr(d + 22, 20);
	memcpy(d + 32, &c, 2);
	return 8 + 62;
}

/*
 * RFC 6040 at @p (receiving on 192.168.90.1): datagrams sent from @fd with
 * an outer ECN field (IP_TOS) over inner IPv4 packets: CE over ECT(0)
 * comes out CE, ECT(1) over ECT(0) comes out ECT(1), each with its header
 * checksum right; CE over Not-ECT is dropped (rx_bad_ecn, a bad_header
 * drop); CE over a frame that is not IP leaves it as it is.
 */
static void ecn_check(struct port *p, int fd, const struct sockaddr_in *to)
{
	static const struct {
		int outer;
		uint8_t inner, want;	/* want 0xff: dropped */
	} cases[] = { { 3, 0xb8 | 2, 0xb8 | 3 }, { 3, 0xb8, 0xff }, { 1, 0x02, 0x01 }, { 2, 0x00, 0x00 }, { 3, 0x03, 0x03 } };
	struct pkt *rx = calloc(PKT_BURST, sizeof(*rx));
	struct port_io io = { 0 };
	uint64_t drops = atomic_load(&p->stats.drops[DROP_BAD_HEADER]);
	unsigned got = 0, want = 0, zero = 0;
	uint8_t d[120];

	assert_non_null(rx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t l = ecn_dgram(d, cases[i].inner, (uint8_t)i); /* the inner source tells the cases apart */

		assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_TOS, &cases[i].outer, sizeof(int)), 0);
		assert_int_equal(sendto(fd, d, l, 0, (const struct sockaddr *)to, sizeof(*to)), (ssize_t)l);
		want += cases[i].want != 0xff;
	}
	/* and CE over a frame that is not IP */
	vx_dgram(d, 100, 0x5a);
	assert_int_equal(sendto(fd, d, 108, 0, (const struct sockaddr *)to, sizeof(*to)), 108);
	want++;
	assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_TOS, &zero, sizeof(int)), 0);
	for (int idle = 0; got < want && idle < 40;) {
		struct pollfd pfd = { .fd = p->ops->rx_fd(p, 0), .events = POLLIN };
		unsigned n = p->ops->rx_burst(p, 0, &io, rx, PKT_BURST);

		for (unsigned k = 0; k < n; k++, got++) {
			const uint8_t *f = rx[k].iov[0].iov_base;

			assert_true(rx[k].iov[0].iov_len >= 34);
			if (f[12] == 0x88) {
				assert_int_equal(f[14], 0x5a);
				continue;
			}
			assert_true(f[28] < sizeof(cases) / sizeof(cases[0]));
			assert_int_not_equal(cases[f[28]].want, 0xff);
			assert_int_equal(f[15], cases[f[28]].want);
			assert_int_equal(csum_fold(csum_add(0, f + 14, 20)), 0xffff);
		}
		p->ops->rx_done(p, 0, &io);
		if (!n) {
			idle++;
			(void)poll(&pfd, 1, 50);
		}
	}
	assert_int_equal(got, want);
	assert_int_equal(tunnel_stat(p, "rx_bad_ecn"), 1);
	assert_int_equal(tunnel_stat(p, "rx_ecn_unexpected"), 1); /* ECT(0) over Not-ECT: "(!!!)", taken */
	assert_int_equal(atomic_load(&p->stats.drops[DROP_BAD_HEADER]), drops + 1);
	free(rx);
}

/* Frames of @p until @want came or 2 s passed: how many, by inner length (@n_small of 100 bytes, @n_big of 1900). */
static void drain(struct port *p, unsigned want, unsigned *n_small, unsigned *n_big)
{
	struct pkt *rx = calloc(PKT_BURST, sizeof(*rx));
	struct port_io io = { 0 };

	assert_non_null(rx);
	for (int idle = 0; *n_small + *n_big < want && idle < 40;) {
		struct pollfd pfd = { .fd = p->ops->rx_fd(p, 0), .events = POLLIN };
		unsigned n = p->ops->rx_burst(p, 0, &io, rx, PKT_BURST);

		for (unsigned i = 0; i < n; i++) {
			const uint8_t *f = rx[i].iov[0].iov_base;

			assert_true(rx[i].iov[0].iov_len >= 14 && f[12] == 0x88 && f[13] == 0xb5);
			if (rx[i].len == 100)
				(*n_small)++;
			else if (rx[i].len == 1900)
				(*n_big)++;
			else
				fail_msg("an inner frame of %u bytes", rx[i].len);
		}
		p->ops->rx_done(p, 0, &io);
		if (!n) {
			idle++;
			(void)poll(&pfd, 1, 50);
		}
	}
	free(rx);
}

/*
 * The port with xdp= on a veth: 5,000 datagrams, more than twice the
 * UMEM's frames, all come through the AF_XDP socket (so each frame went
 * back to the fill ring), and datagrams the program passes to the kernel
 * (2,000-byte ones the sender's IP fragments) come through the UDP socket
 * between them, each inner frame whole.  Then the program and sockets go
 * with the port: the same datagrams reach a port without xdp=.
 */
static void test_port_xdp(void **state)
{
	struct json_object *o;
	struct port_env env = { 0 };
	char err[256] = "", desc[512], cmd[600];
	unsigned small = 0, big = 0;
	static uint8_t d[4000];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(47890) };
	struct port *p;
	int fd;

	if (geteuid() != 0)
		fail_msg("the xdp= port test needs root (a network namespace, XDP)");
	if (unshare(CLONE_NEWNET) < 0)
		fail_msg("cannot make a network namespace: %s", strerror(errno));
	snprintf(peer_ns, sizeof(peer_ns), "vsw-xdp-test-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "ip link set lo up && ip netns add %1$s && ip link add xa type veth peer name xb netns %1$s && "
		 "ip addr add 192.168.90.1/24 dev xa && ip -n %1$s addr add 192.168.90.2/24 dev xb && "
		 "ethtool -K xa tx off >/dev/null && ip netns exec %1$s ethtool -K xb tx off >/dev/null && "
		 "ip link set xa up && ip -n %1$s link set xb up && ip -n %1$s link set lo up", peer_ns);
	if (system(cmd))
		fail_msg("cannot set up the veth pair with ip(8) and ethtool(8)");
	o = json_object_new_object();
	json_object_object_add(o, "local", json_object_new_string("192.168.90.1"));
	json_object_object_add(o, "remote", json_object_new_string("192.168.90.2"));
	json_object_object_add(o, "vni", json_object_new_int(0x4242));
	json_object_object_add(o, "dstport", json_object_new_int(47890));
	json_object_object_add(o, "xdp", json_object_new_string("xa"));
	p = port_vxlan_create("x", o, &env, err, sizeof(err));
	if (!p)
		fail_msg("port with xdp=xa: %s", err);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, "xdp xa (1 queue, driver hook"));
	fd = sender();
	inet_pton(AF_INET, "192.168.90.1", &to.sin_addr);
	/* in rounds of 100 and one fragmented datagram, drained after each: the socket's buffer never fills */
	for (unsigned r = 0; r < 50; r++) {
		size_t l;

		for (unsigned i = 0; i < 100; i++) {
			l = vx_dgram(d, 100, (uint8_t)i);
			assert_int_equal(sendto(fd, d, l, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)l);
		}
		l = vx_dgram(d, 1900, 0xee);
		assert_int_equal(sendto(fd, d, l, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)l);
		drain(p, (r + 1) * 101, &small, &big);
	}
	assert_int_equal(small, 5000);
	assert_int_equal(big, 50);
	assert_int_equal(tunnel_stat(p, "xdp_rx"), 5000);	/* the fragments went the kernel's way */
	assert_int_equal(atomic_load(&p->stats.rx_packets), 5050);
	ecn_check(p, fd, &to);
	assert_int_equal(tunnel_stat(p, "xdp_rx"), 5006);	/* they came through the program */
	p->ops->destroy(p);
	/* the program went with the port: a port without xdp= gets the same datagrams through its socket */
	json_object_object_del(o, "xdp");
	p = port_vxlan_create("y", o, &env, err, sizeof(err));
	if (!p)
		fail_msg("port without xdp=: %s", err);
	small = big = 0;
	for (unsigned i = 0; i < 10; i++) {
		size_t l = vx_dgram(d, 100, 1);

		assert_int_equal(sendto(fd, d, l, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)l);
	}
	drain(p, 10, &small, &big);
	assert_int_equal(small, 10);
	assert_int_equal(tunnel_stat(p, "xdp_rx"), 0);
	ecn_check(p, fd, &to);
	assert_int_equal(system("ip link show xa | grep -q ' xdp '"), 256); /* grep found nothing: exit 1 */
	p->ops->destroy(p);
	close(fd);
	json_object_put(o);
	snprintf(cmd, sizeof(cmd), "ip netns del %s", peer_ns);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outer_ipv4),
		cmocka_unit_test(test_outer_ipv6),
		cmocka_unit_test(test_prog_ipv4),
		cmocka_unit_test(test_prog_ipv6),
		cmocka_unit_test(test_port_xdp),	/* last: it moves the process to a network namespace */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
