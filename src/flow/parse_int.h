/* parse_int.h - what the two halves of the flow syntax parser share: its state, value readers, errors (parse.c and parse_act.c only). */
#ifndef VSW_FLOW_PARSE_INT_H
#define VSW_FLOW_PARSE_INT_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/field.h"
#include "flow/parse.h"

/* One parse: the flow_mod being filled, the action list being built. */
struct parser {
	enum flow_parse_cmd cmd;
	const struct flow_names *names;
	struct flow_mod *mod;
	char *err;
	size_t err_size;
	const char *given[FF__COUNT];		/* match fields given: the token, for the prerequisite message */

	struct flow_act *acts;			/* the list being built */
	size_t n_acts, cap_acts;
	uint8_t *notes;
	size_t n_notes, cap_notes;
	unsigned clone_depth;
	bool drop;
};

/* Put a message into p->err (when it has room); returns -EINVAL. */
__attribute__((format(printf, 2, 3))) int flowp_fail(struct parser *p, const char *fmt, ...);

static inline int flowp_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* @s, all of it, as an unsigned number: decimal, or hexadecimal after 0x (as ovs-ofctl reads integers). */
bool flowp_u128(const char *s, flow_u128 *v);
/* flowp_u128() of at most @max. */
bool flowp_uint(const char *s, uint64_t max, uint64_t *v);
/*
 * A port: a number (1 to 65279: 0, OpenFlow's reserved port, is refused), or a name through the caller;
 * in_port, normal, flood, all as *@special (FA_* or -1).
 */
int flowp_port(struct parser *p, const char *s, uint16_t *port, int *special);
/* @s as a value of field @f in its syntax, optionally "/mask" (field units); @what names the token in messages. */
int flowp_field_value(struct parser *p, const struct flow_field *f, char *s, flow_u128 *v, flow_u128 *m,
		      const char *what);
/* "NAME", "NAME[]", "NAME[a..b]" or "NAME[a]": the field and its bits. */
int flowp_subfield(struct parser *p, char *s, const struct flow_field **fp, unsigned *start, unsigned *n);

/* The action list @s (parse_act.c); @top: not inside clone(). */
int flowp_list(struct parser *p, char *s, bool top);
/* The actions gathered, as one allocation. */
int flowp_finish_actions(struct parser *p, struct flow_actions **out);
/* A parser for @cmd filling @mod, messages into @err. */
void flowp_init(struct parser *p, enum flow_parse_cmd cmd, const struct flow_names *names, struct flow_mod *mod,
		char *err, size_t err_size);

#endif
