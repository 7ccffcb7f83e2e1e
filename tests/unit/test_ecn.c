/* test_ecn.c - unit tests of packet/ecn: RFC 6040's decapsulation table and its rewrite of an inner frame's IP header. */

/*
 * The table: all sixteen combinations against RFC 6040 Figure 4, written
 * out here as the RFC prints it (not derived from the code).  The frame:
 * IPv4 (the header checksum still right after a rewrite, DSCP kept),
 * IPv6 (the traffic class across its two bytes, the flow label kept),
 * behind an 802.1Q or 802.1ad tag or both (QinQ), a Not-ECT packet under CE dropped, ARP
 * and frames too short for their IP header left alone, and no byte read
 * or written past the frame (each truncation, under ASan in make check).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "packet/csum.h"
#include "packet/ecn.h"

enum { NOT = 0, E1 = 1, E0 = 2, CE = 3, DROP = -1 };

/* RFC 6040 Figure 4: rows the arriving inner header, columns the outer (Not-ECT, ECT(0), ECT(1), CE). */
static const struct {
	int inner, out[4];
} figure4[] = {
	{ NOT, { NOT, NOT, NOT, DROP } },
	{ E0, { E0, E0, E1, CE } },
	{ E1, { E1, E1, E1, CE } },
	{ CE, { CE, CE, CE, CE } },
};
static const int columns[4] = { NOT, E0, E1, CE };
/* The cells Figure 4 marks "(!!!)" but the drop: taken as the table says, counted (ECN_FRAME_ODD). */
static const bool odd4[4][4] = {
	{ false, true, true, false },
	{ false, false, false, false },
	{ false, false, false, false },
	{ false, false, true, false },
};

static void test_table(void **state)
{
	(void)state;
	for (unsigned r = 0; r < 4; r++)
		for (unsigned c = 0; c < 4; c++)
			assert_int_equal(ecn_decap((unsigned)columns[c], (unsigned)figure4[r].inner), figure4[r].out[c]);
	/* Only the low two bits of either argument count (a whole TOS byte may be passed). */
	assert_int_equal(ecn_decap(0xb8 | CE, 0x28 | E0), CE);
	for (unsigned r = 0; r < 4; r++)
		for (unsigned c = 0; c < 4; c++)
			assert_int_equal(ecn_odd((unsigned)columns[c], (unsigned)figure4[r].inner), odd4[r][c]);
}

/*
 * An IPv4 frame at @f (@tag: behind a tag of that TPID; 1: behind an
 * 802.1ad and an 802.1Q tag, QinQ) with TOS @tos and a right header
 * checksum: its length.
 */
static size_t ipv4_frame(uint8_t *f, uint8_t tos, unsigned tag)
{
	size_t l3 = 14 + (tag == 1 ? 8 : tag ? 4 : 0);
	uint16_t c;

	memset(f, 0, 100);
	memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02", 12);
	if (tag == 1) {
		f[12] = 0x88, f[13] = 0xa8, f[14] = 0, f[15] = 100;
		f[16] = 0x81, f[17] = 0x00, f[18] = 0, f[19] = 200;
	} else if (tag) {
		f[12] = (uint8_t)(tag >> 8), f[13] = (uint8_t)tag;
		f[14] = 0, f[15] = 7;
	}
	f[l3 - 2] = 0x08, f[l3 - 1] = 0x00;
	f[l3] = 0x45, f[l3 + 1] = tos, f[l3 + 3] = 48, f[l3 + 8] = 64, f[l3 + 9] = 17;
	memcpy(f + l3 + 12, "\x0a\0\0\x01\x0a\0\0\x02", 8);
	c = csum_ipv4_hdr(f + l3, 20);
	memcpy(f + l3 + 10, &c, 2);
	return l3 + 48;
}

static void test_frame_ipv4(void **state)
{
	uint8_t f[100], was[100];
	size_t len;

	(void)state;
	/* Every inner codepoint under every outer one, DSCP 46 around it: the table's answer, the checksum right. */
	for (unsigned tag = 0; tag < 4; tag++) {
		unsigned tpid = tag == 0 ? 0 : tag == 1 ? 0x8100 : tag == 2 ? 0x88a8 : 1 /* QinQ */;
		size_t l3 = tpid == 1 ? 22 : tpid ? 18 : 14;

		for (unsigned r = 0; r < 4; r++) {
			for (unsigned c = 0; c < 4; c++) {
				enum ecn_frame got;

				len = ipv4_frame(f, (uint8_t)(46 << 2 | figure4[r].inner), tpid);
				memcpy(was, f, len);
				got = ecn_decap_frame(f, len, (unsigned)columns[c]);
				if (figure4[r].out[c] == DROP) {
					assert_int_equal(got, ECN_FRAME_DROP);
					assert_memory_equal(f, was, len);
					continue;
				}
				assert_int_equal(got, odd4[r][c] ? ECN_FRAME_ODD
							 : figure4[r].out[c] == figure4[r].inner ? ECN_FRAME_KEEP
												    : ECN_FRAME_MARKED);
				assert_int_equal(f[l3 + 1], 46 << 2 | figure4[r].out[c]);
				/* The header with its checksum sums to all ones (RFC 791). */
				assert_int_equal(csum_fold(csum_add(0, f + l3, 20)), 0xffff);
				/* Nothing else changed. */
				assert_memory_equal(f, was, l3 + 1);
				assert_memory_equal(f + l3 + 12, was + l3 + 12, len - l3 - 12);
			}
		}
	}
}

static void test_frame_ipv6(void **state)
{
	uint8_t f[80], was[80];
	const unsigned tc = 46 << 2 | E0;

	(void)state;
	memset(f, 0, sizeof(f));
	f[12] = 0x86, f[13] = 0xdd;
	f[14] = (uint8_t)(0x60 | tc >> 4);
	f[15] = (uint8_t)((tc & 0x0f) << 4 | 0x0a); /* the flow label's first nibble: kept */
	f[16] = 0xbc, f[17] = 0xde;
	memcpy(was, f, sizeof(f));
	assert_int_equal(ecn_decap_frame(f, 54, CE), ECN_FRAME_MARKED);
	assert_int_equal((f[14] & 0x0f) << 4 | f[15] >> 4, 46 << 2 | CE);
	assert_int_equal(f[15] & 0x0f, 0x0a);
	assert_memory_equal(f + 16, was + 16, sizeof(f) - 16);
	assert_int_equal(f[14], was[14]);
	/* ECT(1) outer over ECT(0): ECT(1); over Not-ECT, nothing; CE over Not-ECT: drop. */
	memcpy(f, was, sizeof(f));
	assert_int_equal(ecn_decap_frame(f, 54, E1), ECN_FRAME_MARKED);
	assert_int_equal(f[15] >> 4 & 3, E1);
	f[15] &= 0xcf;
	memcpy(was, f, sizeof(f));
	assert_int_equal(ecn_decap_frame(f, 54, E1), ECN_FRAME_ODD); /* "(!!!)": left, counted */
	assert_int_equal(ecn_decap_frame(f, 54, NOT), ECN_FRAME_KEEP);
	assert_int_equal(ecn_decap_frame(f, 54, CE), ECN_FRAME_DROP);
	assert_memory_equal(f, was, sizeof(f));
	/* A version that is not 6 is not IPv6: left alone. */
	f[14] = 0x40;
	assert_int_equal(ecn_decap_frame(f, 54, CE), ECN_FRAME_KEEP);
}

static void test_frame_other(void **state)
{
	uint8_t f[100];
	size_t len = ipv4_frame(f, E0, 0);

	(void)state;
	/* Not IP: ARP, an unknown type; IPv4 with another version number. */
	f[12] = 0x08, f[13] = 0x06;
	assert_int_equal(ecn_decap_frame(f, len, CE), ECN_FRAME_KEEP);
	f[13] = 0x00, f[14] = 0x65;
	assert_int_equal(ecn_decap_frame(f, len, CE), ECN_FRAME_KEEP);
	/* Each truncation of a frame (exact allocations: ASan sees a byte past): short of the IP header, kept. */
	for (unsigned tag = 0; tag < 2; tag++) {
		size_t full = ipv4_frame(f, E0, tag ? 0x8100 : 0), l3 = tag ? 18 : 14;

		for (size_t l = 0; l <= full; l++) {
			uint8_t *g = malloc(l ? l : 1);

			memcpy(g, f, l);
			assert_int_equal(ecn_decap_frame(g, l, CE), l >= l3 + 20 ? ECN_FRAME_MARKED : ECN_FRAME_KEEP);
			free(g);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_frame_ipv4),
		cmocka_unit_test(test_frame_ipv6),
		cmocka_unit_test(test_frame_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
