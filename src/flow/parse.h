/* parse.h - ovs-ofctl flow syntax: text to a flow_mod (match, table, priority, cookie, timeouts, actions), and a flow_mod back to text. */
#ifndef VSW_FLOW_PARSE_H
#define VSW_FLOW_PARSE_H

/*
 * What `ovs-ofctl add-flow`, `mod-flows` and `del-flows` accept, for the
 * fields and actions vsw implements (docs/FLOWS.md lists them), so a flow
 * pasted from Open vSwitch documentation means the same here:
 *
 *   table=1,priority=100,cookie=0x5,tcp,in_port=vm1,nw_dst=10.0.0.0/8,tp_dst=0x1000/0xf000
 *       actions=mod_dl_dst:02:00:00:00:00:01,dec_ttl,resubmit(,2),output:2
 *
 * Every token goes through one table (fields: field.h; keywords and
 * actions: parse.c); a token vsw does not know is an error that names it,
 * never silently ignored, as are a field without its prerequisites
 * (tp_dst without tcp or udp) and an action writing a field the match does
 * not guarantee (set_field:...->nw_dst without ip).  Runs on the control
 * thread and allocates.  flow_format() prints a flow_mod so that parsing
 * the text gives the same flow_mod back.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/table.h"

enum flow_parse_cmd {
	FLOW_CMD_ADD,			/* add-flow: actions required, a cookie without mask */
	FLOW_CMD_MODIFY,		/* mod-flows: actions required, cookie=V sets, cookie=V/M matches */
	FLOW_CMD_DELETE,		/* del-flows and dump filters: no actions, no timeouts, cookie=V/M only */
};

/* Port names (any may be NULL: numbers only). */
struct flow_names {
	/* The number of port @name: 0, or -ENOENT. */
	int (*port_by_name)(void *arg, const char *name, uint16_t *port);
	/* The name of port @port, or NULL to print the number. */
	const char *(*port_name)(void *arg, uint16_t port);
	void *arg;
};

#define FLOW_ERR_MAX 256

/*
 * Parse @text for @cmd into @mod (its actions allocated: the caller frees
 * them with free() or hands them to the db).  0; -EINVAL with a message in
 * @err (@err_size bytes, may be 0) naming the token at fault; -ENOMEM.
 */
int flow_parse(const char *text, enum flow_parse_cmd cmd, const struct flow_names *names, struct flow_mod *mod,
	       char *err, size_t err_size);

/* Only an action list ("output:1,drop"...) for a flow whose match is @match in @table: into *@out. Same returns. */
int flow_parse_actions(const char *text, const struct flow_match *match, uint8_t table, const struct flow_names *names,
		       struct flow_actions **out, char *err, size_t err_size);

/*
 * @mod as flow syntax into @buf (@size bytes, NUL-terminated when size >
 * 0): "table=T, priority=P[, cookie=C][, idle_timeout=..], MATCH
 * actions=ACTIONS" (@with_actions false: no actions part, for delete
 * filters).  Returns the length the whole text needs, as snprintf().
 */
size_t flow_format(const struct flow_mod *mod, bool with_actions, const struct flow_names *names, char *buf,
		   size_t size);
size_t flow_format_match(const struct flow_match *m, const struct flow_names *names, char *buf, size_t size);
size_t flow_format_actions(const struct flow_actions *acts, const struct flow_names *names, char *buf, size_t size);

#endif
