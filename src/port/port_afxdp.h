/* port_afxdp.h - an existing network interface (typically a container's veth) as a switch port, over AF_XDP. */
#ifndef VSW_PORT_PORT_AFXDP_H
#define VSW_PORT_PORT_AFXDP_H

#include <stddef.h>

#include "port/port.h"

struct json_object;

/*
 * Attach an AF_XDP socket to one receive queue of an interface, with
 * libxdp's default XDP program on the interface redirecting that queue's
 * frames to the socket.  @params: "ifname" (required), "queue" (0 to 255,
 * default 0), "mode" ("native", "skb" or "auto": native, falling back to
 * skb), "zerocopy" ("auto", "on" or "off").  Returns the port, or NULL
 * with one line in @err saying why, having released everything it took.
 */
struct port *port_afxdp_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			       size_t errlen);

#endif
