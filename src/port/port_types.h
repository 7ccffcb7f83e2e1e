/* port_types.h - the port types vswd knows, and how each is created from its parameters. */
#ifndef VSW_PORT_PORT_TYPES_H
#define VSW_PORT_PORT_TYPES_H

#include <stddef.h>

#include "port/port.h"

struct json_object;
struct port_env;

/*
 * A constructor gets the port's name and the request or config object that
 * describes it (its type-specific keys: "path", "ifname", ...), and returns
 * the port or NULL with a one-line reason in @err.  Constructors run on the
 * control thread; the JSON never reaches the data path.
 */
typedef struct port *(*port_create_fn)(const char *name, struct json_object *params, const struct port_env *env,
				       char *err, size_t errlen);

struct port_type {
	const char *name;
	port_create_fn create;
};

/* The type called @name, or NULL. */
const struct port_type *port_type_find(const char *name);

/* "vhost-user, tap, ..." for error messages. */
const char *port_type_names(void);

/* Parameter helpers for constructors: a string, or NULL when absent or not a string. */
const char *port_param_str(struct json_object *params, const char *key);
/* An unsigned in [lo, hi], @dflt when absent; -1 with @err when present and wrong. */
int port_param_uint(struct json_object *params, const char *key, unsigned lo, unsigned hi, unsigned dflt,
		    unsigned *out, char *err, size_t errlen);

#endif
