/* port_pcap.h - a pcap file as a switch port: replay a file into the switch, record what it sends. */
#ifndef VSW_PORT_PORT_PCAP_H
#define VSW_PORT_PORT_PCAP_H

#include <stddef.h>

struct json_object;
struct port;
struct port_env;

/*
 * `port add NAME pcap [read=FILE [loop=0|1] [pps=N]] [write=FILE]`, at
 * least one of read= and write=:
 *   read=   replay the Ethernet frames of a pcap or pcapng file into the
 *           switch, once (loop=0) or for ever (loop=1), at pps frames per
 *           second or as fast as the switch takes them (pps absent or 0)
 *   write=  record every frame the switch sends the port (created or
 *           truncated, mode 0600; flushed once a second and on deletion)
 * Paths are the daemon's.  NULL with a one-line reason in @err.
 */
struct port *port_pcap_create(const char *name, struct json_object *params, const struct port_env *env, char *err,
			      size_t errlen);

#endif
