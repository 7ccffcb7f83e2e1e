/* fuzz_packet_csum.c - libFuzzer target: packet/csum and packet/vnet_hdr against a plain reference, on hostile headers and offsets. */

/*
 * What arrives here is what a guest or a kernel socket hands a port: a
 * virtio-net header, a frame, and checksum offsets chosen by the sender.
 * The module must never read or write outside the frame, must refuse
 * every header the rules refuse, and must compute what the one-byte-at-a-
 * time reference computes, however the frame is split into iovecs.
 *
 * Input format:
 *
 *   off  size  field
 *     0   u8[10] a virtio-net header (little-endian fields), as received
 *    10   u8   accept   what the receiver accepts (VNET_ACCEPT_* bits)
 *    11   u8   nsplit   iovec pieces the frame is cut into: 1 + v % 16
 *    12   u8[16] cuts   piece lengths, modulo what is left (the last takes the rest)
 *    28   ...  frame    the frame (at most 4096 bytes used)
 *
 * Checks: vnet_hdr_parse() verdicts against the rules restated here;
 * an accepted NEEDS_CSUM header's completion across the iovecs equals the
 * reference on a flat copy (and leaves every byte outside the field
 * alone); a refused range writes nothing; a built header parses back to the
 * same fields; csum_add_iov() equals the reference for every cut;
 * csum_copy() of each piece (any alignment, any length) copies it exactly
 * into a buffer of just its size and returns the reference sum;
 * csum_complete_guess() never writes outside the frame, changes at most
 * two checksum fields (the frame's and a tunnel's inner frame's), and
 * finds nothing more to do on its own result.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/lib/csum_ref.h"
#include "packet/csum.h"
#include "packet/vnet_hdr.h"

#define HDR 28
#define FRAME_MAX 4096

static void check(int cond)
{
	if (!cond)
		abort();
}

/* The rules of vnet_hdr.h, restated the plain way: true when the header must be accepted. */
static int ref_accepts(const uint8_t *h, size_t len, unsigned acc)
{
	unsigned flags = h[0] & 7u, gso = h[1] & 0x7f, ecn = h[1] & 0x80; /* bits of no flag: ignored (5.1.6.2.2) */
	unsigned hdr_len = h[2] | h[3] << 8, gso_size = h[4] | h[5] << 8;
	unsigned start = h[6] | h[7] << 8, off = h[8] | h[9] << 8;

	if (flags == 0 && h[1] == 0)
		return 1;
	if (flags & ~3u)
		return 0;
	if ((flags & 2) && !(acc & VNET_ACCEPT_DATA_VALID))
		return 0;
	if ((flags & 1) && (!(acc & VNET_ACCEPT_CSUM) || (size_t)start + off + 2 > len))
		return 0;
	switch (gso) {
	case 0: break;
	case 1: if (!(acc & VNET_ACCEPT_TSO4)) return 0; break;
	case 3: if (!(acc & VNET_ACCEPT_UFO)) return 0; break;
	case 4: if (!(acc & VNET_ACCEPT_TSO6)) return 0; break;
	case 5: if (!(acc & VNET_ACCEPT_USO)) return 0; break;
	default: return 0;
	}
	if (ecn && (gso == 0 || !(acc & VNET_ACCEPT_ECN)))
		return 0;
	if (gso && (!(flags & 1) || gso_size == 0 || hdr_len > len))
		return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly the frame's bytes on the heap, so ASan sees a byte past it. */
	uint8_t *frame, *flat, *before;
	struct iovec iov[16];
	struct vnet_info vi, back;
	uint8_t hdr2[VNET_HDR_LEN];
	unsigned accept, nsplit, n = 0;
	size_t len, at = 0, done;
	enum vnet_bad bad;

	if (size < HDR)
		return 0;
	len = size - HDR;
	if (len > FRAME_MAX)
		len = FRAME_MAX;
	accept = data[10] & 0x7f;
	nsplit = 1 + data[11] % 16;
	frame = malloc(len ? len : 1);
	flat = malloc(len ? len : 1);
	before = malloc(len ? len : 1);
	if (!frame || !flat || !before)
		abort();
	memcpy(frame, data + HDR, len);
	memcpy(flat, frame, len);
	memcpy(before, frame, len);
	for (unsigned i = 0; i + 1 < nsplit; i++) {
		size_t take = len - at ? data[12 + i] % (len - at + 1) : 0;

		iov[n++] = (struct iovec){ frame + at, take };
		at += take;
	}
	iov[n++] = (struct iovec){ frame + at, len - at };

	/* Sums over every cut. */
	check(ref_of_mem(csum_fold(csum_add_iov(0, iov, n, 0, len, &done))) == ref_sum(flat, len));
	check(done == len);

	/* Copy-and-sum of every piece, each into a heap buffer of exactly its length (ASan: no byte past it). */
	for (unsigned i = 0; i < n; i++) {
		uint8_t *cp = malloc(iov[i].iov_len ? iov[i].iov_len : 1);

		if (!cp)
			abort();
		check(ref_of_mem(csum_fold(csum_copy(cp, iov[i].iov_base, iov[i].iov_len))) ==
		      ref_sum(iov[i].iov_base, iov[i].iov_len));
		check(memcmp(cp, iov[i].iov_base, iov[i].iov_len) == 0);
		free(cp);
	}

	/* The header: the verdict, and a round trip of what was accepted. */
	bad = vnet_hdr_parse(data, len, accept, &vi);
	check(bad < VNET_BAD__COUNT);
	check((bad == VNET_OK) == ref_accepts(data, len, accept));
	if (bad == VNET_OK) {
		vnet_hdr_build(hdr2, &vi);
		check(vnet_hdr_parse(hdr2, len, accept, &back) == VNET_OK);
		check(memcmp(&vi, &back, sizeof(vi)) == 0 || (vi.flags == back.flags && vi.gso == back.gso &&
							      vi.gso_ecn == back.gso_ecn && vi.hdr_len == back.hdr_len &&
							      vi.gso_size == back.gso_size &&
							      vi.csum_start == back.csum_start &&
							      vi.csum_offset == back.csum_offset));
		if (vi.flags || vi.gso != VNET_GSO_NONE)
			check(hdr2[0] == (data[0] & 3u) && memcmp(hdr2 + 1, data + 1, VNET_HDR_LEN - 1) == 0);
	}

	/* Completion at the header's offsets (whatever the verdict: the function checks its own range). */
	{
		size_t start = data[6] | data[7] << 8, off = data[8] | data[9] << 8;
		int rc = csum_complete(iov, n, len, start, off);

		if (start + off + 2 > len) {
			check(rc == -EINVAL);
			check(memcmp(frame, before, len) == 0);
		} else {
			uint16_t c;

			check(rc == 0);
			c = (uint16_t)~ref_sum(flat + start, len - start);
			ref_put(flat + start + off, c || off != 6 ? c : 0xffff); /* UDP's zero: all ones */
			check(memcmp(frame, flat, len) == 0);
		}
	}

	/*
	 * The AF_XDP guess: at most the two bytes of two checksum fields change
	 * (the frame's, and its tunnel's inner frame's), and completing again
	 * changes nothing.
	 */
	{
		unsigned fields = 0;
		size_t first = 0;

		memcpy(frame, before, len);
		csum_complete_guess(frame, len);
		for (size_t i = 0; i < len; i++)
			if (frame[i] != before[i]) {
				if (!fields || i >= first + 2) {
					fields++;
					first = i;
				}
				check(fields <= 2);
			}
		memcpy(flat, frame, len);
		csum_complete_guess(frame, len);
		check(memcmp(frame, flat, len) == 0);
	}
	free(before);
	free(flat);
	free(frame);
	return 0;
}
