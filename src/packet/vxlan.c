/* vxlan.c - the VXLAN header (RFC 7348): build, check, and the outer source port hash. */
#include "packet/vxlan.h"

#include <string.h>

#include "packet/pkt.h"

const char *const vxlan_bad_names[VXLAN_BAD__COUNT] = {
	[VXLAN_OK] = "ok", [VXLAN_BAD_SHORT] = "short", [VXLAN_BAD_FLAGS] = "flags", [VXLAN_BAD_VNI] = "vni",
};

enum vxlan_bad vxlan_decap(const uint8_t *d, size_t len, uint32_t vni, struct iovec *inner)
{
	enum vxlan_bad why = vxlan_hdr_check(d, len, vni, NULL);

	if (why == VXLAN_OK)
		*inner = (struct iovec){ (uint8_t *)d + VXLAN_HLEN, len - VXLAN_HLEN };
	return why;
}

/*
 * Two words to 32 bits: @b folded into @a by an odd multiplier, then the
 * 128-bit product with another folded (high half XOR low half, then its
 * halves): each input bit reaches the high output bits, which
 * vxlan_hash_port() uses.  A few multiplies, no byte loop: this is paid
 * per frame in the encap stage.
 */
static uint32_t mix2(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)(a + b * 0x9e3779b97f4a7c15ull) * 0xc2b2ae3d27d4eb4full;
	uint64_t h = (uint64_t)r ^ (uint64_t)(r >> 64);

	return (uint32_t)(h ^ h >> 32);
}

static uint64_t load64(const uint8_t *b)
{
	uint64_t w;

	memcpy(&w, b, 8);
	return w;
}

uint32_t vxlan_flow_hash(struct pkt *p)
{
	const uint8_t *h = pkt_head(p);
	unsigned flags = pkt_parsed(p);
	uint64_t a, b = 0;

	if (flags & PKT_F_IPV4) {
		a = load64(h + p->l3_off + 12); /* source and destination addresses */
		b = p->ip_proto;
	} else if (flags & PKT_F_IPV6) {
		const uint8_t *ad = h + p->l3_off + 8; /* source and destination addresses, 32 bytes */

		a = mix2(load64(ad), load64(ad + 8)) | (uint64_t)mix2(load64(ad + 16), load64(ad + 24)) << 32;
		b = p->ip_proto;
	} else {
		uint8_t eth[16] = { 0 };

		memcpy(eth, h, p->head_len < 14 ? p->head_len : 14); /* MACs and EtherType */
		a = load64(eth);
		b = load64(eth + 8);
	}
	/* Ports of TCP, UDP and SCTP: the first 4 bytes of each, whole in the head under PKT_F_L4. */
	if ((flags & PKT_F_L4) && (p->ip_proto == 6 || p->ip_proto == 17 || p->ip_proto == 132)) {
		uint32_t ports;

		memcpy(&ports, h + p->l4_off, 4);
		b |= (uint64_t)ports << 8;
	}
	return mix2(a, b);
}
