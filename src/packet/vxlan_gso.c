/* vxlan_gso.c - VXLAN over the kernel's UDP GSO and GRO: building UDP_SEGMENT payloads, splitting GRO buffers (see vxlan_gso.h). */
#include "packet/vxlan_gso.h"

#include <errno.h>

#include "packet/gso.h"
#include "packet/vxlan.h"

int vxlan_gso_build(const struct pkt *p, unsigned first, uint32_t vni, struct pkt *scratch, uint8_t *buf, size_t cap,
		    struct vxlan_gso_msg *out)
{
	size_t seg, off = 0;
	unsigned want;
	int m;

	if (cap > VXLAN_GSO_BYTES)
		cap = VXLAN_GSO_BYTES;
	*out = (struct vxlan_gso_msg){ 0 };
	/* The first segment says the size of all but the last: how many fit is known before cutting the rest. */
	m = gso_segment(p, first, scratch, 1);
	if (m <= 0)
		return m;
	seg = VXLAN_HLEN + scratch[0].len;
	if (seg > cap || seg > UINT16_MAX)
		return -EMSGSIZE;
	want = (unsigned)(cap / seg);
	if (want > VXLAN_GSO_SEGS_MAX)
		want = VXLAN_GSO_SEGS_MAX;
	if (want > 1) {
		int more = gso_segment(p, first + 1, scratch + 1, want - 1);

		if (more < 0)
			return more;
		m += more;
	}
	for (int k = 0; k < m; k++) {
		/* Only the last may be shorter; a longer one would be gso.c's bug, not the frame's. */
		if (VXLAN_HLEN + scratch[k].len > seg || (k < m - 1 && VXLAN_HLEN + scratch[k].len != seg))
			return -EINVAL;
		vxlan_hdr_build(buf + off, vni);
		off += VXLAN_HLEN;
		if (pkt_to_buf(&scratch[k], buf + off, scratch[k].len) != scratch[k].len)
			return -EINVAL;
		off += scratch[k].len;
	}
	*out = (struct vxlan_gso_msg){
		.len = off, .inner_bytes = off - (size_t)m * VXLAN_HLEN, .seg_bytes = (uint16_t)seg, .segs = (unsigned)m,
	};
	return m;
}

unsigned vxlan_gro_split(uint8_t *buf, size_t len, size_t seg_bytes, size_t *off, struct iovec *out, unsigned max)
{
	unsigned n = 0;

	if (!seg_bytes || seg_bytes > len)
		seg_bytes = len;
	while (n < max && *off < len) {
		size_t l = len - *off < seg_bytes ? len - *off : seg_bytes;

		out[n++] = (struct iovec){ buf + *off, l };
		*off += l;
	}
	return n;
}
