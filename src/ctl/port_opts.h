/* port_opts.h - the options every port takes whatever its type: MAC/IP locking, FDB and flood limits, VLANs, its number. */
#ifndef VSW_CTL_PORT_OPTS_H
#define VSW_CTL_PORT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "switch/switch.h"

struct json_object;

/* The generic keys port_opts_parse() reads, NULL-terminated (for the check of unknown keys). */
extern const char *const port_opts_keys[];

/* The largest port number a flow may write (docs/FLOWS.md; OpenFlow's OFPP_MAX): ofport_request's range to read. */
#define OFPORT_NUMBER_MAX 65279

/*
 * Read "mac", "ip" (a comma-separated string or an array of strings),
 * "mac_limit", "flood_rate", the VLAN keys and "ofport_request" (a slot:
 * PORT_FIRST to PORT_MAX - 1) from a port-add request or config entry into @c
 * (defaults for absent keys).  0, or -1 with a one-line @err.
 */
int port_opts_parse(struct json_object *o, struct switch_port_cfg *c, char *err, size_t errlen);

/*
 * "02:00:00:00:00:0a" (six pairs of hex digits, either case, colons
 * between, nothing else) into @mac; false for anything else (vswctl
 * tunnel fdb's MACs too: ctl_tunnel.c).
 */
bool port_opts_parse_mac(const char *s, uint8_t mac[6]);

/* @c as the keys port_opts_parse() reads ("mac" and "ip" as arrays, only when set). */
struct json_object *port_opts_json(const struct switch_port_cfg *c);

#endif
