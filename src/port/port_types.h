/* port_types.h - the port types vswd knows, and how each is created from its parameters. */
#ifndef VSW_PORT_PORT_TYPES_H
#define VSW_PORT_PORT_TYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/json_param.h"
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

/* One parameter a port type accepts. */
struct port_param {
	const char *key;
	unsigned flags;		/* PORT_PARAM_* */
	const char *value;	/* what the value looks like, for --help: "SOCK", "server|client", "N" */
};

/* The value names a file vswd opens: only a privileged client (root, vswd's user) may name one. */
#define PORT_PARAM_FILE 1u
/* The type needs this key (for --help; the constructor checks). */
#define PORT_PARAM_REQUIRED 2u

struct port_type {
	const char *name;
	port_create_fn create;
	const struct port_param *params;	/* every key the type reads, ending with { NULL } */
	const char *summary;			/* one line for --help: what the port connects to */
};

/* The type called @name, or NULL. */
const struct port_type *port_type_find(const char *name);

/* The @i-th registered type, or NULL past the last: for listings. */
const struct port_type *port_type_at(size_t i);

/*
 * The port types for --help, from the table: per type one line
 * "@prefix NAME KEY=VALUE [KEY=VALUE]..." (optional keys in brackets) and
 * one with its summary.  Like snprintf(): writes at most @len bytes (NUL included) into @buf and
 * returns the length the whole text needs.
 */
size_t port_types_help(char *buf, size_t len, const char *prefix);

/*
 * Check a port-add request or config entry against @pt's table before its
 * constructor runs: every key must be a common one (cmd, name, type), one
 * of the switch's own port settings (@switch_keys, NULL-terminated, may be
 * NULL) or one of the type's, and a PORT_PARAM_FILE key needs @privileged.
 * 0, or -1 with a message naming the key and the valid ones in @err.
 */
int port_type_check(const struct port_type *pt, struct json_object *params, const char *const *switch_keys,
		    bool privileged, char *err, size_t errlen);

/* "vhost-user, tap, ..." for error messages. */
const char *port_type_names(void);

/* Parameter helpers for constructors (lib/json_param.h): a string, or NULL when absent or not a string. */
static inline const char *port_param_str(struct json_object *params, const char *key)
{
	return json_param_str(params, key);
}

/* An unsigned in [lo, hi], @dflt when absent; -1 with @err when present and wrong. */
static inline int port_param_uint(struct json_object *params, const char *key, unsigned lo, unsigned hi,
				  unsigned dflt, unsigned *out, char *err, size_t errlen)
{
	return json_param_uint(params, key, lo, hi, dflt, out, err, errlen);
}

#endif
