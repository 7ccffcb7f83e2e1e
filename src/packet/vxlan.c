/* vxlan.c - the VXLAN header (RFC 7348): build, check, and the outer source port hash. */
#include "packet/vxlan.h"

#include "packet/pkt.h"

const char *const vxlan_bad_names[VXLAN_BAD__COUNT] = {
	[VXLAN_OK] = "ok", [VXLAN_BAD_SHORT] = "short", [VXLAN_BAD_FLAGS] = "flags", [VXLAN_BAD_VNI] = "vni",
};

void vxlan_hdr_build(uint8_t out[VXLAN_HLEN], uint32_t vni)
{
	out[0] = VXLAN_FLAG_I;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(vni >> 16);
	out[5] = (uint8_t)(vni >> 8);
	out[6] = (uint8_t)vni;
	out[7] = 0;
}

enum vxlan_bad vxlan_hdr_check(const uint8_t *b, size_t len, uint32_t vni, uint32_t *vni_out)
{
	uint32_t got;

	if (len < VXLAN_HLEN + PKT_ETH_HLEN)
		return VXLAN_BAD_SHORT;
	/* "The I flag MUST be set to 1 for a valid VNI"; the R bits and reserved bytes are ignored on receipt. */
	if (!(b[0] & VXLAN_FLAG_I))
		return VXLAN_BAD_FLAGS;
	got = (uint32_t)b[4] << 16 | (uint32_t)b[5] << 8 | b[6];
	if (vni_out)
		*vni_out = got;
	return got == vni ? VXLAN_OK : VXLAN_BAD_VNI;
}

enum vxlan_bad vxlan_decap(const uint8_t *d, size_t len, uint32_t vni, struct iovec *inner)
{
	enum vxlan_bad why = vxlan_hdr_check(d, len, vni, NULL);

	if (why == VXLAN_OK)
		*inner = (struct iovec){ (uint8_t *)d + VXLAN_HLEN, len - VXLAN_HLEN };
	return why;
}

/* One round of a 32-bit mix (murmur3's finalizer): every input bit reaches every output bit. */
static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t hash_bytes(uint32_t h, const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x01000193u; /* FNV-1a over a few bytes: addresses and ports, at most 36 */
	return h;
}

uint16_t vxlan_src_port(struct pkt *p, uint16_t lo, uint16_t hi)
{
	const uint8_t *h = pkt_head(p);
	unsigned flags = pkt_parsed(p);
	uint32_t x = 0x811c9dc5u;

	if (flags & PKT_F_IPV4) {
		x = hash_bytes(x, h + p->l3_off + 12, 8);
		x = hash_bytes(x, &p->ip_proto, 1);
	} else if (flags & PKT_F_IPV6) {
		x = hash_bytes(x, h + p->l3_off + 8, 32);
		x = hash_bytes(x, &p->ip_proto, 1);
	} else {
		x = hash_bytes(x, h, p->head_len < 14 ? p->head_len : 14);
	}
	/* Ports of TCP, UDP and SCTP: the first 4 bytes of each, whole in the head under PKT_F_L4. */
	if ((flags & PKT_F_L4) && (p->ip_proto == 6 || p->ip_proto == 17 || p->ip_proto == 132))
		x = hash_bytes(x, h + p->l4_off, 4);
	if (hi <= lo)
		return lo;
	return (uint16_t)(lo + mix32(x) % ((uint32_t)hi - lo + 1));
}
