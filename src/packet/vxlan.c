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
