/* stub_port.h - a port that moves no frames, for tests and fuzzers of the control plane (vswd.create_hook). */
#ifndef VSW_TESTS_STUB_PORT_H
#define VSW_TESTS_STUB_PORT_H

#include <stddef.h>

struct json_object;
struct port_env;

/*
 * A port_create_hook_fn (ctl/daemon.h): a port of no queues that touches
 * no file, socket or interface.  It reads the parameters its real type
 * would read, with the same checked helpers, so a value of the wrong type
 * or range is still refused.  Counts live stub ports in stub_ports_live.
 */
struct port *stub_port_create(const char *name, const char *type, struct json_object *params,
			      const struct port_env *env, char *err, size_t errlen);

extern int stub_ports_live;

#endif
