/* port.c - names shared by every port type. */
#include "port/port.h"

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
};
