/* port.c - names and helpers shared by every port type. */
#include "port/port.h"

#include <errno.h>
#include <sys/socket.h>

const char *const port_drop_names[DROP__COUNT] = {
	[DROP_NO_RX_BUFFER] = "no_rx_buffer",
	[DROP_TOO_BIG] = "too_big",
	[DROP_PORT_DOWN] = "port_down",
	[DROP_PORT_BROKEN] = "port_broken",
	[DROP_BAD_HEADER] = "bad_header",
	[DROP_RUNT] = "runt",
	[DROP_NO_DESTINATION] = "no_destination",
	[DROP_SRC_MAC] = "src_mac",
	[DROP_MAC_LOCKED] = "mac_locked",
	[DROP_SRC_IP] = "src_ip",
	[DROP_ETHERTYPE] = "ethertype",
	[DROP_FLOOD_RATE] = "flood_rate",
	[DROP_FLOOD_BUDGET] = "flood_budget",
	[DROP_VLAN_TAGGED] = "vlan_tagged",
	[DROP_VLAN_DENIED] = "vlan_denied",
	[DROP_FLOW_MISS] = "flow_miss",
	[DROP_FLOW_DROP] = "flow_drop",
	[DROP_FLOW_COPIES] = "flow_copies",
	[DROP_BAD_OFFLOAD] = "bad_offload",
	[DROP_NO_TUNNEL_DST] = "no_tunnel_dst",
};

unsigned port_sendmmsg(int fd, struct mmsghdr *msgs, unsigned m, size_t hdr_len, uint64_t *bytes,
		       unsigned drops[DROP__COUNT])
{
	unsigned off = 0, sent = 0;

	while (off < m) {
		int rc = sendmmsg(fd, msgs + off, m - off, MSG_DONTWAIT);

		if (rc > 0) {
			for (unsigned j = off; j < off + (unsigned)rc; j++)
				*bytes += msgs[j].msg_len - hdr_len;
			sent += (unsigned)rc;
			off += (unsigned)rc;
			continue;
		}
		if (rc < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			drops[DROP_NO_RX_BUFFER] += m - off;
			break;
		}
		if (rc < 0 && (errno == ENETDOWN || errno == ENXIO || errno == ENETUNREACH || errno == EHOSTUNREACH)) {
			drops[DROP_PORT_DOWN] += m - off;
			break;
		}
		drops[rc < 0 && errno == EMSGSIZE ? DROP_TOO_BIG : DROP_PORT_BROKEN]++;
		off++;
	}
	return sent;
}
