/* port_vhost.h - a VM's virtio-net device over vhost-user, as a switch port. */
#ifndef VSW_PORT_PORT_VHOST_H
#define VSW_PORT_PORT_VHOST_H

#include <stdbool.h>
#include <stddef.h>

#include "port/port.h"

struct vhost_port_config {
	const char *name;
	const char *path;	/* the vhost-user socket */
	bool client;		/* vswd connects (and reconnects every second) instead of listening */
	unsigned queues;	/* queue pairs offered (VHOST_USER_PROTOCOL_F_MQ) */
};

/*
 * Create the port: listen on (server) or start connecting to (client) the
 * socket.  Returns the port, or NULL with a one-line reason in @err.
 */
struct port *port_vhost_create(const struct vhost_port_config *cfg, const struct port_env *env, char *err,
			       size_t errlen);

#endif
