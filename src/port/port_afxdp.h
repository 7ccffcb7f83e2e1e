/* port_afxdp.h - an existing network interface (typically a container's veth) as a switch port, over AF_XDP. */
#ifndef VSW_PORT_PORT_AFXDP_H
#define VSW_PORT_PORT_AFXDP_H

#include <stddef.h>

#include "port/port.h"

struct json_object;

/*
 * Attach AF_XDP sockets to the receive queues of an interface, with
 * libxdp's default XDP program on the interface redirecting each queue's
 * frames to its socket: by default one socket per rx queue the interface
 * has (at most PORT_QUEUES_MAX; the port's rx queues), with "queue" only
 * that queue.  A frame leaves through the socket of the sending worker's
 * index modulo the number of sockets.  @params: "ifname" (required),
 * "queue" (0 to 255; default: every queue), "mode" ("native", "skb" or
 * "auto": native, falling back to skb), "zerocopy" ("auto", "on" or
 * "off").  Returns the port, or NULL with one line in @err saying why,
 * having released everything it took.
 */
struct port *port_afxdp_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			       size_t errlen);

#endif
