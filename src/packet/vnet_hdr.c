/* vnet_hdr.c - the virtio-net header: the checks an untrusted one passes, and its encoding. */
#include "packet/vnet_hdr.h"

#include <endian.h>
#include <netinet/in.h>
#include <string.h>

const char *const vnet_bad_names[VNET_BAD__COUNT] = {
	[VNET_OK] = "ok",
	[VNET_BAD_FLAGS] = "flags",
	[VNET_BAD_CSUM] = "csum_not_negotiated",
	[VNET_BAD_CSUM_RANGE] = "csum_range",
	[VNET_BAD_GSO_TYPE] = "gso_type",
	[VNET_BAD_GSO] = "gso_fields",
	[VNET_BAD_HDR_LEN] = "hdr_len",
};

static uint16_t le16_at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static void le16_put(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

enum vnet_bad vnet_hdr_parse_slow(const void *hdr, size_t frame_len, unsigned accept, struct vnet_info *out)
{
	const uint8_t *h = hdr;
	/*
	 * 5.1.6.2.2: "The device MUST ignore flag bits that it does not
	 * recognize."  Those it knows but a driver must not set (DATA_VALID,
	 * RSC_INFO: 5.1.6.2.1) are refused below where the sender may not.
	 */
	unsigned flags = h[0] & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_RSC_INFO),
		 gso = h[1] & ~(unsigned)VIRTIO_NET_HDR_GSO_ECN;
	bool ecn = h[1] & VIRTIO_NET_HDR_GSO_ECN;
	unsigned allowed = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	static const struct {
		enum vnet_gso gso;
		unsigned need;
	} gso_types[] = {
		[VIRTIO_NET_HDR_GSO_NONE] = { VNET_GSO_NONE, 0 },
		[VIRTIO_NET_HDR_GSO_TCPV4] = { VNET_GSO_TCPV4, VNET_ACCEPT_TSO4 },
		[2] = { VNET_GSO_NONE, ~0u },	/* not defined */
		[VIRTIO_NET_HDR_GSO_UDP] = { VNET_GSO_UDP, VNET_ACCEPT_UFO },
		[VIRTIO_NET_HDR_GSO_TCPV6] = { VNET_GSO_TCPV6, VNET_ACCEPT_TSO6 },
		[VIRTIO_NET_HDR_GSO_UDP_L4] = { VNET_GSO_UDP_L4, VNET_ACCEPT_USO },
	};

	if (!flags && h[1] == VIRTIO_NET_HDR_GSO_NONE) {
		*out = (struct vnet_info){ .gso = VNET_GSO_NONE }; /* as vnet_hdr_parse()'s common case */
		return VNET_OK;
	}
	*out = (struct vnet_info){
		.hdr_len = le16_at(h + 2),
		.gso_size = le16_at(h + 4),
		.csum_start = le16_at(h + 6),
		.csum_offset = le16_at(h + 8),
		.gso_ecn = ecn,
	};
	if (flags & ~allowed)
		return VNET_BAD_FLAGS;
	if ((flags & VIRTIO_NET_HDR_F_DATA_VALID) && !(accept & VNET_ACCEPT_DATA_VALID))
		return VNET_BAD_FLAGS;
	if (flags & VIRTIO_NET_HDR_F_DATA_VALID)
		out->flags |= VNET_DATA_VALID;
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(accept & VNET_ACCEPT_CSUM))
			return VNET_BAD_CSUM;
		if ((size_t)out->csum_start + out->csum_offset + 2 > frame_len)
			return VNET_BAD_CSUM_RANGE;
		out->flags |= VNET_NEEDS_CSUM;
	}
	if (gso >= sizeof(gso_types) / sizeof(gso_types[0]) || gso_types[gso].need == ~0u ||
	    (gso_types[gso].need & ~accept))
		return VNET_BAD_GSO_TYPE;
	out->gso = gso_types[gso].gso;
	if (ecn && (out->gso == VNET_GSO_NONE || !(accept & VNET_ACCEPT_ECN)))
		return out->gso == VNET_GSO_NONE ? VNET_BAD_GSO : VNET_BAD_GSO_TYPE;
	if (out->gso != VNET_GSO_NONE) {
		if (!(out->flags & VNET_NEEDS_CSUM) || out->gso_size == 0)
			return VNET_BAD_GSO;
		if (out->hdr_len > frame_len)
			return VNET_BAD_HDR_LEN;
	}
	return VNET_OK;
}

void vnet_hdr_build(void *hdr, const struct vnet_info *in)
{
	static const uint8_t wire_gso[] = {
		[VNET_GSO_NONE] = VIRTIO_NET_HDR_GSO_NONE,
		[VNET_GSO_TCPV4] = VIRTIO_NET_HDR_GSO_TCPV4,
		[VNET_GSO_TCPV6] = VIRTIO_NET_HDR_GSO_TCPV6,
		[VNET_GSO_UDP] = VIRTIO_NET_HDR_GSO_UDP,
		[VNET_GSO_UDP_L4] = VIRTIO_NET_HDR_GSO_UDP_L4,
	};
	uint8_t *h = hdr;

	h[0] = (uint8_t)(((in->flags & VNET_NEEDS_CSUM) ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0) |
			 ((in->flags & VNET_DATA_VALID) ? VIRTIO_NET_HDR_F_DATA_VALID : 0));
	h[1] = (uint8_t)(((unsigned)in->gso < sizeof(wire_gso) ? wire_gso[in->gso] : 0) |
			 (in->gso_ecn ? VIRTIO_NET_HDR_GSO_ECN : 0));
	le16_put(h + 2, in->hdr_len);
	le16_put(h + 4, in->gso_size);
	le16_put(h + 6, in->csum_start);
	le16_put(h + 8, in->csum_offset);
}

void vnet_to_pkt(const struct vnet_info *vi, struct pkt *p)
{
	if (vi->flags & VNET_NEEDS_CSUM) {
		p->csum = PKT_CSUM_PARTIAL;
		p->csum_start = vi->csum_start;
		p->csum_offset = vi->csum_offset;
	} else if (vi->flags & VNET_DATA_VALID) {
		p->csum = PKT_CSUM_VERIFIED;
	}
	p->gso_type = (uint8_t)(vi->gso | (vi->gso_ecn ? PKT_GSO_ECN : 0));
	p->gso_size = vi->gso != VNET_GSO_NONE ? vi->gso_size : 0;
}

void vnet_from_pkt(struct pkt *p, bool valid_ok, struct vnet_info *vi)
{
	*vi = (struct vnet_info){ .gso = VNET_GSO_NONE };
	if (p->csum == PKT_CSUM_PARTIAL) {
		vi->flags = VNET_NEEDS_CSUM;
		vi->csum_start = p->csum_start;
		vi->csum_offset = p->csum_offset;
	} else if (p->csum == PKT_CSUM_VERIFIED && valid_ok) {
		vi->flags = VNET_DATA_VALID;
	}
	if ((p->gso_type & PKT_GSO_TYPE) == VNET_GSO_NONE)
		return;
	/* A tunnel's packet (PKT_GSO_TUNNEL) goes as Linux gave it: the inner type, csum_start at the inner header. */
	vi->gso = (enum vnet_gso)(p->gso_type & PKT_GSO_TYPE);
	vi->gso_ecn = p->gso_type & PKT_GSO_ECN;
	vi->gso_size = p->gso_size;
	/*
	 * Checked at rx (gso_check()): the checksum starts at the L4 header,
	 * which is whole in the head (behind every tag: a QinQ frame's too;
	 * a tag pushed since moved csum_start with it).
	 */
	vi->hdr_len = (uint16_t)(p->csum_start +
				 (vi->gso == VNET_GSO_UDP_L4 ? 8u : (pkt_head(p)[p->csum_start + 12] >> 4) * 4u));
}
