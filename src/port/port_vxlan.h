/* port_vxlan.h - a VXLAN tunnel endpoint as a switch port: one VNI to one remote VTEP over the kernel's UDP/IP. */
#ifndef VSW_PORT_PORT_VXLAN_H
#define VSW_PORT_PORT_VXLAN_H

#include <stddef.h>

struct json_object;
struct port;
struct port_env;

/*
 * `port add NAME vxlan local=IP remote=IP vni=N [dstport=4789] [csum=on|off]
 * [ttl=N] [tos=N|inherit] [src_ports=LO-HI] [mtu=N]`: IPv4 or IPv6 underlay (local
 * and remote of one family).  NULL with a reason in @err.
 */
struct port *port_vxlan_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			       size_t errlen);

#endif
