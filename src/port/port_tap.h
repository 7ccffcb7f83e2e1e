/* port_tap.h - a tap device as a switch port: how the host stack reaches VMs and containers. */
#ifndef VSW_PORT_PORT_TAP_H
#define VSW_PORT_PORT_TAP_H

#include <stddef.h>

struct json_object;
struct port;
struct port_env;

/*
 * `port add NAME tap [ifname=IF]`: create tap IF (default NAME) and bring it
 * up, or attach to an existing single-queue tap.  NULL with a reason in @err.
 */
struct port *port_tap_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			     size_t errlen);

#endif
