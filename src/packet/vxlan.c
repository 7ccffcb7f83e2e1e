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

uint32_t vxlan_flow_hash_parsed(struct pkt *p)
{
	const uint8_t *h = pkt_head(p);
	unsigned flags;
	uint64_t a, b = 0;

	flags = pkt_parsed(p);
	if (flags & PKT_F_IPV4) {
		a = vxlan_load64(h + p->l3_off + 12); /* source and destination addresses */
		b = p->ip_proto;
	} else if (flags & PKT_F_IPV6) {
		const uint8_t *ad = h + p->l3_off + 8; /* source and destination addresses, 32 bytes */

		a = vxlan_mix2(vxlan_load64(ad), vxlan_load64(ad + 8)) |
		    (uint64_t)vxlan_mix2(vxlan_load64(ad + 16), vxlan_load64(ad + 24)) << 32;
		b = p->ip_proto;
	} else {
		uint8_t eth[16] = { 0 };

		memcpy(eth, h, p->head_len < 14 ? p->head_len : 14); /* MACs and EtherType */
		a = vxlan_load64(eth);
		b = vxlan_load64(eth + 8);
	}
	/* Ports of TCP, UDP and SCTP: the first 4 bytes of each, whole in the head under PKT_F_L4. */
	if ((flags & PKT_F_L4) && (p->ip_proto == 6 || p->ip_proto == 17 || p->ip_proto == 132)) {
		uint32_t ports;

		memcpy(&ports, h + p->l4_off, 4);
		b |= (uint64_t)ports << 8;
	}
	return vxlan_mix2(a, b);
}
