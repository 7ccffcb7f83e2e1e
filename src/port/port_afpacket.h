/* port_afpacket.h - an existing interface (typically a container's veth end) attached through AF_PACKET. */
#ifndef VSW_PORT_PORT_AFPACKET_H
#define VSW_PORT_PORT_AFPACKET_H

#include <stddef.h>

struct json_object;
struct port;
struct port_env;

/* `port add NAME afpacket ifname=IF`.  NULL with a reason in @err. */
struct port *port_afpacket_create(const char *name, struct json_object *params, const struct port_env *env,
				  char *err, size_t errlen);

#endif
