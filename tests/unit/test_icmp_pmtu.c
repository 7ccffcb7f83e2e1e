/* test_icmp_pmtu.c - unit tests of packet/icmp_pmtu: the ICMP / ICMPv6 answer to an inner frame too big for a tunnel. */

/*
 * A 1500-byte IPv4 TCP frame with DF and an IPv6 one, each too big for an
 * MTU of 1400: the answer swaps the MACs and the IP addresses, carries
 * type 3 code 4 with the MTU in 16 bits (IPv4) or type 2 with it in 32
 * bits (IPv6), valid checksums (checked by the plain RFC 1071 sum of
 * tests/lib/csum_ref.h), the original packet quoted from its IP header on
 * and the answer cut at 576 / 1280 bytes; a VLAN tag stays.  No answer
 * without DF, to a fragment, below the minimum MTU, to an ICMP error, to
 * a multicast source or destination, from a group MAC address.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../lib/csum_ref.h"
#include "../lib/zalloc.h"
#include "packet/icmp_pmtu.h"
#include "packet/pkt.h"

#define FRAME_LEN 1514u

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb };

/* An Ethernet (+ tag when @tag) + IPv4 + TCP frame of @len bytes from 10.0.0.1 to 10.0.0.2, with @frag as flags/offset. */
static unsigned v4_frame(uint8_t *b, unsigned len, bool tag, unsigned frag, uint8_t proto)
{
	unsigned l3 = tag ? 18 : 14, iplen = len - l3;

	memset(b, 0, len);
	memcpy(b, mac_b, 6);
	memcpy(b + 6, mac_a, 6);
	if (tag) {
		b[12] = 0x81;
		b[14] = 0x00;
		b[15] = 42;
	}
	b[l3 - 2] = 0x08;
	b[l3] = 0x45;
	ref_put(b + l3 + 2, (uint16_t)iplen);
	ref_put(b + l3 + 6, (uint16_t)frag);
	b[l3 + 8] = 64;
	b[l3 + 9] = proto;
	memcpy(b + l3 + 12, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	ref_put(b + l3 + 10, (uint16_t)~ref_sum(b + l3, 20));
	b[l3 + 20 + 12] = 0x50; /* TCP data offset 5 (or an ICMP type byte further on) */
	for (unsigned i = l3 + 40; i < len; i++)
		b[i] = (uint8_t)i;
	return len;
}

/* An Ethernet + IPv6 frame of @len bytes, next header @proto (its first byte @type), from 2001:db8::1 to 2001:db8::2. */
static unsigned v6_frame(uint8_t *b, unsigned len, uint8_t proto, uint8_t type)
{
	memset(b, 0, len);
	memcpy(b, mac_b, 6);
	memcpy(b + 6, mac_a, 6);
	b[12] = 0x86;
	b[13] = 0xdd;
	b[14] = 0x60;
	ref_put(b + 18, (uint16_t)(len - 54));
	b[20] = proto;
	b[21] = 64;
	memcpy(b + 22, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
	b[37] = 1;
	memcpy(b + 38, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
	b[53] = 2;
	b[54] = type;
	b[54 + 12] = 0x50;
	for (unsigned i = 54 + 20; i < len; i++)
		b[i] = (uint8_t)i;
	return len;
}

static struct pkt *load(uint8_t *b, unsigned len, struct iovec *iov)
{
	struct pkt *p = zalloc64(sizeof(*p));

	*iov = (struct iovec){ b, len };
	pkt_rx_init(p, iov, 1, len, 0);
	pkt_load(p);
	return p;
}

static void test_ipv4_frag_needed(void **state)
{
	static uint8_t b[FRAME_LEN], out[ICMP_PMTU_FRAME_MAX];
	struct iovec iov;
	struct pkt *p = load(b, v4_frame(b, FRAME_LEN, false, 0x4000, 6), &iov);
	unsigned n = icmp_pmtu_build(p, 1400, out);
	const uint8_t *ip = out + 14, *icmp = ip + 20;

	assert_int_equal(n, 14 + 576);
	assert_memory_equal(out, mac_a, 6);
	assert_memory_equal(out + 6, mac_b, 6);
	assert_int_equal(out[12] << 8 | out[13], 0x0800);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[2] << 8 | ip[3], 576);
	assert_int_equal(ip[9], 1);
	assert_memory_equal(ip + 12, b + 14 + 16, 4); /* from the inner destination */
	assert_memory_equal(ip + 16, b + 14 + 12, 4); /* to the inner source */
	assert_int_equal(ref_sum(ip, 20), 0xffff);
	assert_int_equal(icmp[0], 3);
	assert_int_equal(icmp[1], 4);
	assert_int_equal(icmp[4] << 8 | icmp[5], 0);
	assert_int_equal(icmp[6] << 8 | icmp[7], 1400);
	assert_int_equal(ref_sum(icmp, 576 - 20), 0xffff);
	assert_memory_equal(icmp + 8, b + 14, 576 - 28); /* the original, from its IP header on */
	free(p);
}

static void test_ipv4_small_and_tagged(void **state)
{
	static uint8_t b[FRAME_LEN], out[ICMP_PMTU_FRAME_MAX];
	struct iovec iov;
	struct pkt *p = load(b, v4_frame(b, 200, true, 0x4000, 6), &iov);
	unsigned n = icmp_pmtu_build(p, 600, out);

	/* A short original is quoted whole; the tag stays. */
	assert_int_equal(n, 18 + 20 + 8 + 182);
	assert_int_equal(out[12] << 8 | out[13], 0x8100);
	assert_int_equal(out[14] << 8 | out[15], 42);
	assert_int_equal(out[16] << 8 | out[17], 0x0800);
	assert_memory_equal(out + 18 + 28, b + 18, 182);
	assert_int_equal(ref_sum(out + 18 + 20, 8 + 182), 0xffff);
	free(p);
}

static void test_ipv4_no_answer(void **state)
{
	static uint8_t b[FRAME_LEN], out[ICMP_PMTU_FRAME_MAX];
	struct iovec iov;
	struct pkt *p;

	/* Without DF: the sender lets the path fragment; vsw drops, silently. */
	p = load(b, v4_frame(b, FRAME_LEN, false, 0, 6), &iov);
	assert_int_equal(icmp_pmtu_build(p, 1400, out), 0);
	free(p);
	/* DF with MF: a fragment. */
	p = load(b, v4_frame(b, FRAME_LEN, false, 0x6000, 6), &iov);
	assert_int_equal(icmp_pmtu_build(p, 1400, out), 0);
	free(p);
	/* An MTU under 576. */
	p = load(b, v4_frame(b, FRAME_LEN, false, 0x4000, 6), &iov);
	assert_int_equal(icmp_pmtu_build(p, 575, out), 0);
	assert_int_equal(icmp_pmtu_build(p, 576, out), 14 + 576);
	free(p);
	/* An ICMP error (type 3): no error about an error; an echo request is answered. */
	v4_frame(b, FRAME_LEN, false, 0x4000, 1);
	b[34] = 3;
	p = load(b, FRAME_LEN, &iov);
	assert_int_equal(icmp_pmtu_build(p, 1400, out), 0);
	free(p);
	b[34] = 8;
	ref_put(b + 24, 0);
	ref_put(b + 24, (uint16_t)~ref_sum(b + 14, 20));
	p = load(b, FRAME_LEN, &iov);
	assert_int_equal(icmp_pmtu_build(p, 1400, out), 14 + 576);
	free(p);
	/* A multicast destination: nobody to answer from. */
	v4_frame(b, FRAME_LEN, false, 0x4000, 6);
	b[30] = 239;
	ref_put(b + 24, 0);
	ref_put(b + 24, (uint16_t)~ref_sum(b + 14, 20));
	p = load(b, FRAME_LEN, &iov);
	assert_int_equal(icmp_pmtu_build(p, 1400, out), 0);
	free(p);
	/* A broadcast MAC (a frame flooded to the tunnel): the answer would come from it. */
	v4_frame(b, FRAME_LEN, false, 0x4000, 6);
	memset(b, 0xff, 6);
	p = load(b, FRAME_LEN, &iov);
	assert_int_equal(icmp_pmtu_build(p, 1400, out), 0);
	free(p);
	/* Not IP at all. */
	b[12] = 0x88;
	b[13] = 0xb5;
	p = load(b, FRAME_LEN, &iov);
	assert_int_equal(icmp_pmtu_build(p, 1400, out), 0);
	free(p);
}

static void test_ipv6_packet_too_big(void **state)
{
	static uint8_t b[FRAME_LEN], out[ICMP_PMTU_FRAME_MAX], pseudo[40];
	struct iovec iov;
	struct pkt *p = load(b, v6_frame(b, FRAME_LEN, 6, 0), &iov);
	unsigned n = icmp_pmtu_build(p, 1380, out);
	const uint8_t *ip = out + 14, *icmp = ip + 40;
	unsigned plen = 1280 - 40;

	assert_int_equal(n, 14 + 1280);
	assert_memory_equal(out, mac_a, 6);
	assert_int_equal(out[12] << 8 | out[13], 0x86dd);
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(ip[4] << 8 | ip[5], plen);
	assert_int_equal(ip[6], 58);
	assert_memory_equal(ip + 8, b + 22 + 16, 16);
	assert_memory_equal(ip + 24, b + 22, 16);
	assert_int_equal(icmp[0], 2);
	assert_int_equal(icmp[1], 0);
	assert_int_equal((uint32_t)icmp[4] << 24 | icmp[5] << 16 | icmp[6] << 8 | icmp[7], 1380);
	assert_memory_equal(icmp + 8, b + 14, plen - 8);
	/* RFC 4443 2.3: the checksum covers the pseudo-header (RFC 8200 8.1) and the message. */
	memcpy(pseudo, ip + 8, 32);
	ref_put(pseudo + 34, (uint16_t)plen);
	pseudo[39] = 58;
	assert_int_equal(ref_add(ref_sum(pseudo, 40), ref_sum(icmp, plen)), 0xffff);
	free(p);
}

static void test_ipv6_no_answer(void **state)
{
	static uint8_t b[FRAME_LEN], out[ICMP_PMTU_FRAME_MAX];
	struct iovec iov;
	struct pkt *p;

	/* Below the IPv6 minimum MTU. */
	p = load(b, v6_frame(b, FRAME_LEN, 6, 0), &iov);
	assert_int_equal(icmp_pmtu_build(p, 1279, out), 0);
	free(p);
	/* An ICMPv6 error (type 1); an echo request (128) is answered. */
	p = load(b, v6_frame(b, FRAME_LEN, 58, 1), &iov);
	assert_int_equal(icmp_pmtu_build(p, 1380, out), 0);
	free(p);
	p = load(b, v6_frame(b, FRAME_LEN, 58, 128), &iov);
	assert_int_equal(icmp_pmtu_build(p, 1380, out), 14 + 1280);
	free(p);
	/* A multicast source or destination. */
	v6_frame(b, FRAME_LEN, 6, 0);
	b[22] = 0xff;
	p = load(b, FRAME_LEN, &iov);
	assert_int_equal(icmp_pmtu_build(p, 1380, out), 0);
	free(p);
	v6_frame(b, FRAME_LEN, 6, 0);
	b[38] = 0xff;
	p = load(b, FRAME_LEN, &iov);
	assert_int_equal(icmp_pmtu_build(p, 1380, out), 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_frag_needed),
		cmocka_unit_test(test_ipv4_small_and_tagged),
		cmocka_unit_test(test_ipv4_no_answer),
		cmocka_unit_test(test_ipv6_packet_too_big),
		cmocka_unit_test(test_ipv6_no_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
