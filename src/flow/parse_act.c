/* parse_act.c - the action half of the flow syntax: the action table and its compilation into struct flow_act lists. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flow/field.h"
#include "flow/learn.h"
#include "flow/parse_int.h"

#define NOTE_MAX 1024		/* bytes of one note: action lists stay small */

/* ---- the action part ---- */

static struct flow_act *act_new(struct parser *p, enum flow_act_type type)
{
	struct flow_act *a;

	if (p->n_acts == p->cap_acts) {
		size_t cap = p->cap_acts ? 2 * p->cap_acts : 8;
		struct flow_act *n = realloc(p->acts, cap * sizeof(*n));

		if (!n)
			return NULL;
		p->acts = n;
		p->cap_acts = cap;
	}
	a = &p->acts[p->n_acts++];
	memset(a, 0, sizeof(*a));
	a->type = (uint8_t)type;
	a->table = FLOW_TABLE_ANY;
	a->port = FLOW_PORT_NONE;
	return a;
}

#define NEW_ACT(p, a, type)                                       \
	do {                                                      \
		(a) = act_new((p), (type));                       \
		if (!(a))                                         \
			return flowp_fail((p), "out of memory"), -ENOMEM; \
	} while (0)

/* An FA_SET of bits [@start, @start + @n) of @f to @v under @m (field units): flow_act_set(). */
static int act_set(struct parser *p, const struct flow_field *f, unsigned start, unsigned n, flow_u128 v, flow_u128 m,
		   enum flow_act_syntax syntax)
{
	struct flow_act *a;

	NEW_ACT(p, a, FA_SET);
	flow_act_set(a, flow_field_id(f), start, n, v, m, syntax);
	return 0;
}

/* A write to @f needs the match to guarantee the field (ovs-actions(7), set_field and load). */
static int check_write(struct parser *p, const struct flow_field *f, const char *what)
{
	if (f == &flow_fields[FF_TUN_SRC] || f == &flow_fields[FF_TUN_IPV6_SRC])
		return flowp_fail(p, "%s: %s is read-only in vsw (a vxlan port sends from its local= address)", what,
				  f->names[0]);
	if (!(f->flags & FF_WRITABLE))
		return flowp_fail(p, "%s: %s is read-only", what, f->names[0]);
	if (!flow_prereq_in_match((enum flow_prereq)f->prereq, &p->mod->match))
		return flowp_fail(p, "%s: %s needs %s in the match", what, f->names[0],
			    flow_prereq_name((enum flow_prereq)f->prereq));
	return 0;
}

static int check_read(struct parser *p, const struct flow_field *f, const char *what)
{
	if (!flow_prereq_in_match((enum flow_prereq)f->prereq, &p->mod->match))
		return flowp_fail(p, "%s: %s needs %s in the match", what, f->names[0],
			    flow_prereq_name((enum flow_prereq)f->prereq));
	return 0;
}

static int do_output(struct parser *p, char *arg, const char *what)
{
	struct flow_act *a;
	uint16_t port;
	int special, rc;

	/* "in_port" is the port of that name (ovs-actions(7)); the field is written in_port[] or NXM_OF_IN_PORT[]. */
	if (strchr(arg, '[') || (flow_field_by_name(arg, strlen(arg)) && strcasecmp(arg, "in_port"))) {
		const struct flow_field *f;
		unsigned start, n;

		rc = flowp_subfield(p, arg, &f, &start, &n);
		if (rc)
			return rc;
		if (n > 16)
			return flowp_fail(p, "%s: a port is 16 bits, not %u", what, n);
		rc = check_read(p, f, what);
		if (rc)
			return rc;
		NEW_ACT(p, a, FA_OUTPUT_FIELD);
		a->field = (uint8_t)flow_field_id(f);
		a->start = (uint8_t)start;
		a->n_bits = (uint8_t)n;
		return 0;
	}
	rc = flowp_port(p, arg, &port, &special);
	if (rc)
		return rc;
	NEW_ACT(p, a, special >= 0 ? (enum flow_act_type)special : FA_OUTPUT);
	if (special < 0)
		a->port = port;
	return 0;
}

static int act_output(struct parser *p, const char *name, char *arg)
{
	if (strchr(arg, '='))
		return flowp_fail(p, "output(%s): only output:PORT is supported (no max_len)", arg);
	return do_output(p, arg, name);
}

static int act_port_word(struct parser *p, const char *name, char *arg)
{
	(void)arg;
	return do_output(p, (char *)name, name);
}

static int act_drop(struct parser *p, const char *name, char *arg)
{
	p->drop = true;
	return 0;
}

/* The mod_* actions and set_tunnel: one field, its syntax. */
static const struct {
	const char *name;
	enum flow_field_id field;
	enum flow_act_syntax syntax;
} mods[] = {
	{ "mod_dl_src", FF_ETH_SRC, FAS_MOD_DL_SRC },	 { "mod_dl_dst", FF_ETH_DST, FAS_MOD_DL_DST },
	{ "mod_nw_src", FF_IPV4_SRC, FAS_MOD_NW_SRC },	 { "mod_nw_dst", FF_IPV4_DST, FAS_MOD_NW_DST },
	{ "mod_nw_tos", FF_NW_TOS, FAS_MOD_NW_TOS },	 { "mod_nw_ecn", FF_NW_ECN, FAS_MOD_NW_ECN },
	{ "mod_nw_ttl", FF_NW_TTL, FAS_MOD_NW_TTL },	 { "mod_tp_src", FF_TP_SRC, FAS_MOD_TP_SRC },
	{ "mod_tp_dst", FF_TP_DST, FAS_MOD_TP_DST },	 { "set_tunnel", FF_TUN_ID, FAS_SET_TUNNEL },
	{ "set_tunnel64", FF_TUN_ID, FAS_SET_TUNNEL64 },
};

static int act_mod(struct parser *p, const char *name, char *arg)
{
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		const struct flow_field *f = &flow_fields[mods[i].field];
		flow_u128 v, m;
		int rc;

		if (strcasecmp(name, mods[i].name))
			continue;
		if (strchr(arg, '/'))
			return flowp_fail(p, "%s:%s: no mask here", name, arg);
		/*
		 * OpenFlow 1.0 actions: no prerequisite in the match (a packet
		 * without the header is left alone at run time), as ovs-ofctl.
		 */
		rc = flowp_field_value(p, f, arg, &v, &m, name);
		if (rc)
			return rc;
		if (mods[i].syntax == FAS_SET_TUNNEL && v > UINT32_MAX)
			return act_set(p, f, 0, f->n_bits, v, m, FAS_SET_TUNNEL64);
		return act_set(p, f, 0, f->n_bits, v, m, mods[i].syntax);
	}
	return flowp_fail(p, "unsupported action \"%s\"", name);
}

static int act_vlan(struct parser *p, const char *name, char *arg)
{
	bool vid = !strcasecmp(name, "mod_vlan_vid");
	struct flow_act *a;
	uint64_t v;

	if (!flowp_uint(arg, vid ? FLOW_TCI_VID : 7, &v))
		return flowp_fail(p, "%s:%s: %s", name, arg, vid ? "a VLAN ID from 0 to 4095" : "a priority from 0 to 7");
	NEW_ACT(p, a, vid ? FA_SET_VLAN_VID : FA_SET_VLAN_PCP);
	a->port = (uint16_t)v;
	return 0;
}

static int act_strip_vlan(struct parser *p, const char *name, char *arg)
{
	struct flow_act *a;

	NEW_ACT(p, a, FA_POP_VLAN);
	if (!strcasecmp(name, "strip_vlan"))
		a->syntax = FAS_STRIP_VLAN;
	return 0;
}

static int act_push_vlan(struct parser *p, const char *name, char *arg)
{
	struct flow_act *a;
	uint64_t v;

	if (!flowp_uint(arg, 0xffff, &v) || (v != 0x8100 && v != 0x88a8))
		return flowp_fail(p, "%s:%s: the TPID must be 0x8100 or 0x88a8", name, arg);
	NEW_ACT(p, a, FA_PUSH_VLAN);
	a->port = (uint16_t)v;
	return 0;
}

static int act_dec_ttl(struct parser *p, const char *name, char *arg)
{
	struct flow_act *a;

	/* dec_ttl(ids): controller ids for the packet-in; vsw has no controller, so they only have to be numbers. */
	if (arg) {
		char *save = NULL;

		for (char *id = strtok_r(arg, ", ", &save); id; id = strtok_r(NULL, ", ", &save)) {
			uint64_t v;

			if (!flowp_uint(id, UINT16_MAX, &v))
				return flowp_fail(p, "dec_ttl(%s): controller ids are numbers", id);
		}
	}
	NEW_ACT(p, a, FA_DEC_TTL);
	return 0;
}

/* "V[/M]->FIELD" (set_field) or "V->FIELD[bits]" (load). */
static int act_set_field(struct parser *p, const char *name, char *arg)
{
	bool load = !strcasecmp(name, "load");
	char *arrow = strstr(arg, "->");
	const struct flow_field *f;
	unsigned start, n;
	flow_u128 v, m;
	int rc;

	if (!arrow)
		return flowp_fail(p, "%s:%s: expected VALUE->FIELD", name, arg);
	*arrow = '\0';
	rc = flowp_subfield(p, arrow + 2, &f, &start, &n);
	if (rc)
		return rc;
	rc = check_write(p, f, name);
	if (rc)
		return rc;
	if (load) {
		if (!flowp_u128(arg, &v))
			return flowp_fail(p, "load:%s: not a number", arg);
		if (v & ~flow_ones(n))
			return flowp_fail(p, "load:%s: does not fit in %u bits", arg, n);
		return act_set(p, f, start, n, v, flow_ones(n), FAS_LOAD);
	}
	if (start != 0 || n != f->n_bits)
		return flowp_fail(p, "set_field: %s: a whole field (load writes bits)", f->names[0]);
	rc = flowp_field_value(p, f, arg, &v, &m, name);
	if (rc)
		return rc;
	return act_set(p, f, 0, n, v, m, FAS_SET_FIELD);
}

static int act_write_metadata(struct parser *p, const char *name, char *arg)
{
	const struct flow_field *f = &flow_fields[FF_METADATA];
	flow_u128 v, m;
	int rc = flowp_field_value(p, f, arg, &v, &m, name);

	return rc ? rc : act_set(p, f, 0, 64, v, m, FAS_WRITE_METADATA);
}

static int act_move(struct parser *p, const char *name, char *arg)
{
	char *arrow = strstr(arg, "->");
	const struct flow_field *src, *dst;
	unsigned ss, sn, ds, dn;
	struct flow_act *a;
	int rc;

	if (!arrow)
		return flowp_fail(p, "move:%s: expected SRC->DST", arg);
	*arrow = '\0';
	rc = flowp_subfield(p, arg, &src, &ss, &sn);
	if (!rc)
		rc = flowp_subfield(p, arrow + 2, &dst, &ds, &dn);
	if (!rc)
		rc = check_read(p, src, name);
	if (!rc)
		rc = check_write(p, dst, name);
	if (rc)
		return rc;
	if (sn != dn)
		return flowp_fail(p, "move: %s takes %u bits, %s %u: the widths must be equal", src->names[0], sn,
			    dst->names[0], dn);
	NEW_ACT(p, a, FA_MOVE);
	a->src_field = (uint8_t)flow_field_id(src);
	a->src_start = (uint8_t)ss;
	a->field = (uint8_t)flow_field_id(dst);
	a->start = (uint8_t)ds;
	a->n_bits = (uint8_t)dn;
	return 0;
}

static int parse_table(struct parser *p, const char *s, const char *what, uint8_t *t)
{
	uint64_t v;

	if (!flowp_uint(s, 255, &v))
		return flowp_fail(p, "%s: \"%s\" is not a table number", what, s);
	if (v >= FLOW_N_TABLES)
		return flowp_fail(p, "%s: vsw has tables 0 to %d", what, FLOW_N_TABLES - 1);
	*t = (uint8_t)v;
	return 0;
}

/* resubmit:PORT, resubmit(PORT,TABLE), resubmit(,TABLE), resubmit(PORT,). */
static int act_resubmit(struct parser *p, const char *name, char *arg, bool paren)
{
	uint16_t port = FLOW_PORT_NONE;
	uint8_t table = FLOW_TABLE_ANY;
	char *comma = paren ? strchr(arg, ',') : NULL;
	struct flow_act *a;
	int special, rc;

	if (comma) {
		*comma++ = '\0';
		if (strchr(comma, ','))
			return flowp_fail(p, "resubmit(%s,%s): the ct form is not supported by vsw", arg, comma);
		while (*comma == ' ')
			comma++;
		if (*comma && (rc = parse_table(p, comma, "resubmit", &table)))
			return rc;
	}
	while (*arg == ' ')
		arg++;
	if (*arg) {
		rc = flowp_port(p, arg, &port, &special);
		if (rc)
			return rc;
		if (special == FA_IN_PORT)
			port = FLOW_PORT_NONE;	/* "in_port" is the same as no port */
		else if (special >= 0)
			return flowp_fail(p, "resubmit: %s is not a port to resubmit as", arg);
	}
	if (port == FLOW_PORT_NONE && table == FLOW_TABLE_ANY)
		return flowp_fail(p, "resubmit: needs a port or a table");
	NEW_ACT(p, a, FA_RESUBMIT);
	a->port = port;
	a->table = table;
	return 0;
}

static int act_goto_table(struct parser *p, const char *name, char *arg)
{
	struct flow_act *a;
	uint8_t t;
	int rc = parse_table(p, arg, name, &t);

	if (rc)
		return rc;
	if (p->clone_depth)
		return flowp_fail(p, "goto_table: not inside clone()");
	if (t <= (p->mod->table == FLOW_TABLE_ANY ? 0 : p->mod->table))
		return flowp_fail(p, "goto_table:%u: must go to a later table than the flow's", t);
	NEW_ACT(p, a, FA_GOTO_TABLE);
	a->table = t;
	return 0;
}

/* note:[hh]... with optional dots between byte pairs. */
static int act_note(struct parser *p, const char *name, char *arg)
{
	struct flow_act *a;
	size_t start = p->n_notes, n = 0;

	for (const char *s = arg ? arg : ""; *s;) {
		int hi, lo;

		if (*s == '.') {
			s++;
			continue;
		}
		hi = flowp_hexval((unsigned char)s[0]);
		lo = hi >= 0 ? flowp_hexval((unsigned char)s[1]) : -1;
		if (hi < 0 || lo < 0)
			return flowp_fail(p, "note:%s: pairs of hex digits", arg);
		if (n >= NOTE_MAX)
			return flowp_fail(p, "note: longer than %d bytes", NOTE_MAX);
		if (p->n_notes == p->cap_notes) {
			size_t cap = p->cap_notes ? 2 * p->cap_notes : 32;
			uint8_t *b = realloc(p->notes, cap);

			if (!b)
				return flowp_fail(p, "out of memory"), -ENOMEM;
			p->notes = b;
			p->cap_notes = cap;
		}
		p->notes[p->n_notes++] = (uint8_t)(hi << 4 | lo);
		n++;
		s += 2;
	}
	NEW_ACT(p, a, FA_NOTE);
	a->note_ofs = (uint32_t)start;
	a->n = (uint16_t)n;
	return 0;
}

static int act_clone(struct parser *p, const char *name, char *arg)
{
	size_t at = p->n_acts;
	struct flow_act *a;
	int rc;

	if (p->clone_depth >= FLOW_CLONE_MAX)
		return flowp_fail(p, "clone: nested deeper than %d", FLOW_CLONE_MAX);
	NEW_ACT(p, a, FA_CLONE);
	p->clone_depth++;
	rc = flowp_list(p, arg, false);
	p->clone_depth--;
	if (rc)
		return rc;
	if (p->n_acts - at - 1 > UINT16_MAX)
		return flowp_fail(p, "clone: too many actions");
	p->acts[at].n = (uint16_t)(p->n_acts - at - 1);
	return 0;
}


/* ---- learn ---- */

/* True when @s names a field ("NAME" or "NAME[...]"): a learn spec's source, not a constant. */
static bool names_field(const char *s)
{
	const char *br = strchr(s, '[');

	return flow_field_by_name(s, br ? (size_t)(br - s) : strlen(s)) != NULL;
}

/* A learn spec's field the new rule matches or loads needs what the new rule's match has so far (@tmpl). */
static int learn_check_dst(struct parser *p, const struct flow_field *f, const struct flow_match *tmpl, bool load)
{
	enum flow_prereq need = (enum flow_prereq)(load ? f->prereq : f->match_prereq);

	if (load && !(f->flags & FF_WRITABLE))
		return flowp_fail(p, "learn: load: %s is read-only", f->names[0]);
	if (!flow_prereq_in_match(need, tmpl))
		return flowp_fail(p, "learn: %s needs %s in the learned flow's match (give it as a value first, e.g. "
			    "\"dl_type=0x800\")", f->names[0], flow_prereq_name(need));
	return 0;
}

/* The learned flow's match as its constants so far say: what learn_check_dst() tests. */
static void learn_tmpl_add(struct flow_match *tmpl, const struct flow_field *f, unsigned start, unsigned n,
			   flow_u128 v)
{
	flow_field_set128(f, &tmpl->value, start, n, v);
	flow_field_set128(f, &tmpl->mask, start, n, flow_ones(n));
}

/* One spec of learn(): @name, and @value (NULL: none) after its '=' or ':'. */
static int learn_spec(struct parser *p, char *name, char *value, struct flow_match *tmpl)
{
	const struct flow_field *dst, *src;
	unsigned ds, dn, ss, sn;
	flow_u128 v, m;
	struct flow_act *a;
	int rc;

	if (!strcasecmp(name, "load")) {
		char *arrow = value ? strstr(value, "->") : NULL;

		if (!arrow)
			return flowp_fail(p, "learn: load:%s: expected SRC->DST", value ? value : "");
		*arrow = '\0';
		rc = flowp_subfield(p, arrow + 2, &dst, &ds, &dn);
		if (!rc)
			rc = learn_check_dst(p, dst, tmpl, true);
		if (rc)
			return rc;
		if (!names_field(value)) {
			if (!flowp_u128(value, &v))
				return flowp_fail(p, "learn: load:%s: neither a field nor a number", value);
			if (v & ~flow_ones(dn))
				return flowp_fail(p, "learn: load:%s: does not fit in %u bits", value, dn);
			NEW_ACT(p, a, FA_LEARN_SPEC);
			a->syntax = FLK_LOAD_IMM;
			memcpy(a->val, &v, sizeof(v));
		} else {
			rc = flowp_subfield(p, value, &src, &ss, &sn);
			if (!rc)
				rc = check_read(p, src, "learn");
			if (rc)
				return rc;
			if (sn != dn)
				return flowp_fail(p, "learn: load: %s takes %u bits, %s %u: the widths must be equal",
					    src->names[0], sn, dst->names[0], dn);
			NEW_ACT(p, a, FA_LEARN_SPEC);
			a->syntax = FLK_LOAD_FIELD;
			a->src_field = (uint8_t)flow_field_id(src);
			a->src_start = (uint8_t)ss;
		}
		a->field = (uint8_t)flow_field_id(dst);
		a->start = (uint8_t)ds;
		a->n_bits = (uint8_t)dn;
		return 0;
	}
	if (!strcasecmp(name, "output")) {
		if (!value || !*value)
			return flowp_fail(p, "learn: output: needs a field");
		rc = flowp_subfield(p, value, &src, &ss, &sn);
		if (!rc)
			rc = check_read(p, src, "learn");
		if (rc)
			return rc;
		if (sn > 16)
			return flowp_fail(p, "learn: output:%s: a port is 16 bits, not %u", src->names[0], sn);
		NEW_ACT(p, a, FA_LEARN_SPEC);
		a->syntax = FLK_OUTPUT;
		a->src_field = (uint8_t)flow_field_id(src);
		a->src_start = (uint8_t)ss;
		a->n_bits = (uint8_t)sn;
		return 0;
	}
	if (!names_field(name))
		return flowp_fail(p, "learn: unsupported argument or field \"%s\"", name);
	rc = flowp_subfield(p, name, &dst, &ds, &dn);
	if (!rc)
		rc = learn_check_dst(p, dst, tmpl, false);
	if (rc)
		return rc;
	if ((ds || dn != dst->n_bits) && !(dst->flags & FF_MASKABLE))
		return flowp_fail(p, "learn: %s takes no mask: the learned flow matches all of it or none", dst->names[0]);
	if (value && *value && !names_field(value)) {
		/* A constant: the field's own syntax for all of it, a number for some of its bits. */
		if (ds == 0 && dn == dst->n_bits) {
			char token[128];

			snprintf(token, sizeof(token), "learn: %s", name);
			rc = flowp_field_value(p, dst, value, &v, &m, token);
			if (rc)
				return rc;
			if ((m & flow_field_valid(dst)) != flow_field_valid(dst))
				return flowp_fail(p, "learn: %s=%s: a learned match takes no mask", name, value);
		} else if (!flowp_u128(value, &v)) {
			return flowp_fail(p, "learn: %s=%s: not a number", name, value);
		} else if (v & ~flow_ones(dn)) {
			return flowp_fail(p, "learn: %s=%s: does not fit in %u bits", name, value, dn);
		}
		NEW_ACT(p, a, FA_LEARN_SPEC);
		a->syntax = FLK_MATCH_IMM;
		memcpy(a->val, &v, sizeof(v));
		learn_tmpl_add(tmpl, dst, ds, dn, v);
	} else {
		src = dst;
		ss = ds;
		sn = dn;
		if (value && *value && (rc = flowp_subfield(p, value, &src, &ss, &sn)))
			return rc;
		if ((rc = check_read(p, src, "learn")))
			return rc;
		if (sn != dn)
			return flowp_fail(p, "learn: %s takes %u bits, %s %u: the widths must be equal", dst->names[0], dn,
				    src->names[0], sn);
		NEW_ACT(p, a, FA_LEARN_SPEC);
		a->syntax = FLK_MATCH_FIELD;
		a->src_field = (uint8_t)flow_field_id(src);
		a->src_start = (uint8_t)ss;
		/*
		 * The packet gives these bits: the constant the rule's own match
		 * pins them to (ip,...,learn(...,NXM_OF_ETH_TYPE[],...): 0x800),
		 * or none any more.
		 */
		if (flow_field_get128(src, &p->mod->match.mask, ss, sn) == flow_ones(sn)) {
			learn_tmpl_add(tmpl, dst, ds, dn, flow_field_get128(src, &p->mod->match.value, ss, sn));
		} else {
			flow_field_set128(dst, &tmpl->value, ds, dn, 0);
			flow_field_set128(dst, &tmpl->mask, ds, dn, 0);
		}
	}
	a->field = (uint8_t)flow_field_id(dst);
	a->start = (uint8_t)ds;
	a->n_bits = (uint8_t)dn;
	return 0;
}

/* learn(ARG,...): ovs-actions(7), "The learn action"; see flow/learn.h. */
static int act_learn(struct parser *p, const char *name, char *arg)
{
	struct flow_learn_args g;
	struct flow_match tmpl;
	size_t at = p->n_acts;
	uint16_t priority = FLOW_PRIORITY_DEFAULT;
	uint8_t table = 1;
	struct flow_act *a;
	uint64_t v;
	int rc;

	memset(&g, 0, sizeof(g));	/* padding too: actions compare as bytes */
	memset(&tmpl, 0, sizeof(tmpl));
	NEW_ACT(p, a, FA_LEARN);
	while (arg && *arg) {
		char *item = arg, *end = strchr(arg, ','), *value;
		size_t k;

		if (end)
			*end++ = '\0';
		arg = end;
		while (isspace((unsigned char)*item))
			item++;
		for (k = strlen(item); k && isspace((unsigned char)item[k - 1]); k--)
			item[k - 1] = '\0';
		if (!*item)
			continue;
		/* NAME=VALUE or NAME:VALUE (load:, output:); '=' inside "->" or brackets is not a separator */
		k = strcspn(item, "=:");
		value = item[k] ? item + k + 1 : NULL;
		if (value) {
			item[k] = '\0';
			while (isspace((unsigned char)*value))
				value++;
		}
		if (!strcasecmp(item, "table")) {
			if (!value || (rc = parse_table(p, value, "learn: table", &table)))
				return value ? rc : flowp_fail(p, "learn: table needs a number");
		} else if (!strcasecmp(item, "priority")) {
			if (!value || !flowp_uint(value, 65535, &v))
				return flowp_fail(p, "learn: priority=%s: 0 to 65535", value ? value : "");
			priority = (uint16_t)v;
		} else if (!strcasecmp(item, "idle_timeout") || !strcasecmp(item, "hard_timeout")) {
			if (!value || !flowp_uint(value, 65535, &v))
				return flowp_fail(p, "learn: %s=%s: seconds, 0 to 65535", item, value ? value : "");
			*(!strcasecmp(item, "idle_timeout") ? &g.idle_timeout_s : &g.hard_timeout_s) = (uint16_t)v;
		} else if (!strcasecmp(item, "cookie")) {
			if (!value || !flowp_uint(value, UINT64_MAX, &v))
				return flowp_fail(p, "learn: cookie=%s: a number", value ? value : "");
			g.cookie = v;
		} else if (!strcasecmp(item, "send_flow_rem") && !value) {
			g.send_flow_rem = 1;	/* kept for the dump: vsw has no controller to send it to */
		} else if (!strcasecmp(item, "fin_idle_timeout") || !strcasecmp(item, "fin_hard_timeout") ||
			   !strcasecmp(item, "delete_learned") || !strcasecmp(item, "limit") ||
			   !strcasecmp(item, "result_dst")) {
			return flowp_fail(p, "learn: \"%s\" is not supported by vsw", item);
		} else {
			if (p->n_acts - at - 1 >= FLOW_LEARN_SPECS_MAX)
				return flowp_fail(p, "learn: more than %d specs", FLOW_LEARN_SPECS_MAX);
			rc = learn_spec(p, item, value, &tmpl);
			if (rc)
				return rc;
		}
	}
	/*
	 * Each field the learned flow matches or loads, against its match as
	 * the specs left it: a later spec may have changed a constant an
	 * earlier one relied on (dl_type=0x800,nw_src,dl_type=0x86dd).
	 */
	for (size_t i = at + 1; i < p->n_acts; i++) {
		const struct flow_act *sp = &p->acts[i];
		bool load = sp->syntax == FLK_LOAD_FIELD || sp->syntax == FLK_LOAD_IMM;

		if (sp->syntax != FLK_OUTPUT && (rc = learn_check_dst(p, &flow_fields[sp->field], &tmpl, load)))
			return rc;
	}
	a = &p->acts[at];	/* the specs may have moved the list */
	a->table = table;
	a->port = priority;
	a->n = (uint16_t)(p->n_acts - at - 1);
	memcpy(a->val, &g, sizeof(g));
	return 0;
}

/* push:SRC[a..b] (a field the match has) and pop:DST[a..b] (a field the match lets it write). */
static int act_stack(struct parser *p, const char *name, char *arg)
{
	bool push = !strcasecmp(name, "push");
	const struct flow_field *f;
	struct flow_act *a;
	unsigned start, n;
	int rc = flowp_subfield(p, arg, &f, &start, &n);

	if (!rc)
		rc = push ? check_read(p, f, name) : check_write(p, f, name);
	if (rc)
		return rc;
	NEW_ACT(p, a, push ? FA_PUSH : FA_POP);
	a->field = (uint8_t)flow_field_id(f);
	a->start = (uint8_t)start;
	a->n_bits = (uint8_t)n;
	return 0;
}

static int act_exit(struct parser *p, const char *name, char *arg)
{
	struct flow_act *a;

	(void)name;
	(void)arg;
	NEW_ACT(p, a, FA_EXIT);
	return 0;
}

/* check_pkt_larger(LEN)->DST[bit]: @rest is "(LEN)->DST[bit]" (ovs-actions(7)). */
static int act_check_pkt_larger(struct parser *p, char *rest)
{
	char *close = strchr(rest, ')');
	const struct flow_field *f;
	struct flow_act *a;
	unsigned start, n;
	uint64_t len;
	int rc;

	if (rest[0] != '(' || !close || strncmp(close + 1, "->", 2))
		return flowp_fail(p, "check_pkt_larger%s: expected check_pkt_larger(LEN)->DST[BIT]", rest);
	*close = '\0';
	if (!flowp_uint(rest + 1, 65535, &len))
		return flowp_fail(p, "check_pkt_larger(%s): a length from 0 to 65535", rest + 1);
	rc = flowp_subfield(p, close + 3, &f, &start, &n);
	if (!rc)
		rc = check_write(p, f, "check_pkt_larger");
	if (rc)
		return rc;
	if (n != 1)
		return flowp_fail(p, "check_pkt_larger: %s takes %u bits: the destination is one bit", f->names[0], n);
	NEW_ACT(p, a, FA_CHECK_PKT_LARGER);
	a->field = (uint8_t)flow_field_id(f);
	a->start = (uint8_t)start;
	a->n_bits = 1;
	a->port = (uint16_t)len;
	return 0;
}

enum arg_kind { ARG_NONE, ARG_REQ, ARG_OPT };

/* Every action vsw knows; anything else is refused by name. */
static const struct action_def {
	const char *name;
	enum arg_kind arg;
	int (*fn)(struct parser *p, const char *name, char *arg);
} action_defs[] = {
	{ "output", ARG_REQ, act_output },
	{ "normal", ARG_NONE, act_port_word },
	{ "flood", ARG_NONE, act_port_word },
	{ "all", ARG_NONE, act_port_word },
	{ "in_port", ARG_NONE, act_port_word },
	{ "drop", ARG_NONE, act_drop },
	{ "mod_vlan_vid", ARG_REQ, act_vlan },
	{ "mod_vlan_pcp", ARG_REQ, act_vlan },
	{ "strip_vlan", ARG_NONE, act_strip_vlan },
	{ "pop_vlan", ARG_NONE, act_strip_vlan },
	{ "push_vlan", ARG_REQ, act_push_vlan },
	{ "mod_dl_src", ARG_REQ, act_mod },
	{ "mod_dl_dst", ARG_REQ, act_mod },
	{ "mod_nw_src", ARG_REQ, act_mod },
	{ "mod_nw_dst", ARG_REQ, act_mod },
	{ "mod_nw_tos", ARG_REQ, act_mod },
	{ "mod_nw_ecn", ARG_REQ, act_mod },
	{ "mod_nw_ttl", ARG_REQ, act_mod },
	{ "mod_tp_src", ARG_REQ, act_mod },
	{ "mod_tp_dst", ARG_REQ, act_mod },
	{ "set_tunnel", ARG_REQ, act_mod },
	{ "set_tunnel64", ARG_REQ, act_mod },
	{ "dec_ttl", ARG_OPT, act_dec_ttl },
	{ "set_field", ARG_REQ, act_set_field },
	{ "load", ARG_REQ, act_set_field },
	{ "move", ARG_REQ, act_move },
	{ "write_metadata", ARG_REQ, act_write_metadata },
	{ "resubmit", ARG_REQ, NULL },	/* two forms: act_resubmit */
	{ "goto_table", ARG_REQ, act_goto_table },
	{ "note", ARG_OPT, act_note },
	{ "clone", ARG_REQ, act_clone },
	{ "learn", ARG_REQ, act_learn },
	{ "push", ARG_REQ, act_stack },
	{ "pop", ARG_REQ, act_stack },
	{ "exit", ARG_NONE, act_exit },
	/* check_pkt_larger(LEN)->DST has its own syntax: parse_action() takes it first (act_check_pkt_larger) */
};

/* One action: "name", "name:arg" or "name(args)"; a bare number or port name outputs. */
static int parse_action(struct parser *p, char *s)
{
	size_t i = strcspn(s, ":(");
	char *arg = NULL;
	bool paren = false, known = false;

	for (size_t k = 0; k < sizeof(action_defs) / sizeof(action_defs[0]); k++)
		if (strlen(action_defs[k].name) == i && !strncasecmp(s, action_defs[k].name, i))
			known = true;
	if (!strncasecmp(s, "check_pkt_larger", 16) && strchr("(:-", s[16]))	/* s[16] '\0' too */
		return act_check_pkt_larger(p, s + 16);
	if (!known && s[i])
		return flowp_fail(p, "unsupported action \"%.*s\"", (int)i, s);	/* ct(...), sample(...) ... */
	if (s[i] == '(') {
		size_t len = strlen(s);

		if (s[len - 1] != ')')
			return flowp_fail(p, "%s: missing ')'", s);
		s[len - 1] = '\0';
		paren = true;
		arg = s + i + 1;
		s[i] = '\0';
	} else if (s[i] == ':') {
		arg = s + i + 1;
		s[i] = '\0';
	}
	for (size_t k = 0; k < sizeof(action_defs) / sizeof(action_defs[0]); k++) {
		const struct action_def *d = &action_defs[k];

		if (strcasecmp(s, d->name))
			continue;
		if (d->arg == ARG_NONE && arg)
			return flowp_fail(p, "%s: takes no argument", s);
		if (d->arg == ARG_REQ && (!arg || (!*arg && strcasecmp(s, "clone") && strcasecmp(s, "learn"))))
			return flowp_fail(p, "%s: needs an argument", s);
		if (!d->fn)
			return act_resubmit(p, s, arg, paren);
		return d->fn(p, s, arg);
	}
	if (!arg) {
		/* A bare port: a number, or a name the caller knows (ovs-ofctl does the same). */
		uint16_t port;
		struct flow_act *a;

		if (isdigit((unsigned char)s[0]) ||
		    (p->names && p->names->port_by_name && p->names->port_by_name(p->names->arg, s, &port) == 0)) {
			int special, rc = flowp_port(p, s, &port, &special);

			if (rc)
				return rc;
			NEW_ACT(p, a, FA_OUTPUT);
			a->port = port;
			return 0;
		}
	}
	return flowp_fail(p, "unsupported action \"%s\"", s);
}

/* A comma (or blank) separated list, parentheses nesting. */
int flowp_list(struct parser *p, char *s, bool top)
{
	size_t first = p->n_acts;
	bool outer_drop = p->drop;	/* a clone's list: its own drop, the outer one's put back after */

	if (!top)
		p->drop = false;

	while (*s) {
		int depth = 0;
		char *e = s;
		int rc;

		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		for (e = s; *e && (depth || (*e != ',' && !isspace((unsigned char)*e))); e++) {
			if (*e == '(')
				depth++;
			else if (*e == ')' && --depth < 0)
				return flowp_fail(p, "unbalanced ')' in the actions: \"%.*s\"", (int)(e - s + 1), s);
		}
		if (depth)
			return flowp_fail(p, "unbalanced '(' in the actions: \"%.64s\"", s);
		if (*e)
			*e++ = '\0';
		if (p->n_acts > first && p->acts[p->n_acts - 1].type == FA_GOTO_TABLE)
			return flowp_fail(p, "goto_table must be the last action");
		rc = parse_action(p, s);
		if (rc)
			return rc;
		s = e;
	}
	if (top && p->drop && p->n_acts)
		return flowp_fail(p, "drop must be the only action");
	/* clone(drop) is an empty clone, as Open vSwitch writes one in its dumps; drop beside other actions is not. */
	if (!top && p->drop && p->n_acts > first)
		return flowp_fail(p, "drop must be the only action in clone()");
	if (!top)
		p->drop = outer_drop;
	return 0;
}

int flowp_finish_actions(struct parser *p, struct flow_actions **out)
{
	struct flow_actions *acts = malloc(sizeof(*acts) + p->n_acts * sizeof(acts->a[0]) + p->n_notes);

	if (!acts)
		return flowp_fail(p, "out of memory"), -ENOMEM;
	acts->n = (uint32_t)p->n_acts;
	acts->n_note = (uint32_t)p->n_notes;
	if (p->n_acts)
		memcpy(acts->a, p->acts, p->n_acts * sizeof(acts->a[0]));
	if (p->n_notes)
		memcpy(acts->a + p->n_acts, p->notes, p->n_notes);
	*out = acts;
	return 0;
}

bool flow_actions_equal(const struct flow_actions *a, const struct flow_actions *b)
{
	if (!a || !b)
		return a == b;
	/* Every act is zeroed before it is filled (act_new): whole structs compare. */
	return a->n == b->n && a->n_note == b->n_note &&
	       memcmp(a->a, b->a, a->n * sizeof(a->a[0]) + a->n_note) == 0;
}
