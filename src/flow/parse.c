/* parse.c - ovs-ofctl flow syntax into a flow_mod: keywords, match fields and masks, prerequisites, the action table. */
#include "flow/parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flow/field.h"

#define NOTE_MAX 1024		/* bytes of one note: action lists stay small */

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

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err_size) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->err_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static flow_u128 ones(unsigned n)
{
	return n >= 128 ? ~(flow_u128)0 : ((flow_u128)1 << n) - 1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* @s, all of it, as an unsigned number: decimal, or hexadecimal after 0x (as ovs-ofctl reads integers). */
static bool parse_u128(const char *s, flow_u128 *v)
{
	flow_u128 x = 0;

	if (!*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return false;
		for (; *s; s++) {
			int d = hexval((unsigned char)*s);

			if (d < 0 || (x >> 124))
				return false;
			x = x << 4 | (flow_u128)d;
		}
	} else {
		for (; *s; s++) {
			if (!isdigit((unsigned char)*s) || x > (~(flow_u128)0 - 9) / 10)
				return false;
			x = x * 10 + (flow_u128)(*s - '0');
		}
	}
	*v = x;
	return true;
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	flow_u128 x;

	if (!parse_u128(s, &x) || x > max)
		return false;
	*v = (uint64_t)x;
	return true;
}

static bool parse_mac(const char *s, flow_u128 *v)
{
	flow_u128 x = 0;

	for (int i = 0; i < 6; i++) {
		int hi = hexval((unsigned char)s[0]), lo;

		if (hi < 0)
			return false;
		lo = hexval((unsigned char)s[1]);
		if (lo >= 0)
			s += 2;
		else {
			lo = hi;
			hi = 0;
			s += 1;
		}
		x = x << 8 | (flow_u128)(hi << 4 | lo);
		if (i < 5 && *s++ != ':')
			return false;
	}
	*v = x;
	return *s == '\0';
}

static flow_u128 be_bytes(const uint8_t *b, unsigned n)
{
	flow_u128 x = 0;

	for (unsigned i = 0; i < n; i++)
		x = x << 8 | b[i];
	return x;
}

/* An IPv4 or IPv6 mask: a prefix length, or an address. */
static bool parse_ip_mask(const char *s, int af, flow_u128 *m)
{
	unsigned bits = af == AF_INET ? 32 : 128;
	uint8_t b[16];
	uint64_t len;

	if (parse_uint(s, bits, &len)) {
		*m = len ? ones(bits) & ~ones(bits - (unsigned)len) : 0;
		return true;
	}
	if (inet_pton(af, s, b) != 1)
		return false;
	*m = be_bytes(b, bits / 8);
	return true;
}

/* A port: a number, or a name through the caller; in_port, normal, flood, all as *@special (FA_* or -1). */
static int parse_port(struct parser *p, const char *s, uint16_t *port, int *special)
{
	static const struct {
		const char *name;
		int type;
	} specials[] = {
		{ "in_port", FA_IN_PORT }, { "normal", FA_NORMAL }, { "flood", FA_FLOOD }, { "all", FA_ALL },
		{ "local", -2 }, { "controller", -2 }, { "table", -2 }, { "any", -2 }, { "none", -2 }, { "unset", -2 },
	};
	uint64_t v;

	*special = -1;
	if (isdigit((unsigned char)s[0])) {
		if (!parse_uint(s, 0xfeff, &v))
			return fail(p, "port \"%s\": not a port number (0 to 65279)", s);
		*port = (uint16_t)v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (strcasecmp(s, specials[i].name) == 0) {
			if (specials[i].type == -2)
				return fail(p, "port \"%s\": not supported by vsw", s);
			*special = specials[i].type;
			return 0;
		}
	if (p->names && p->names->port_by_name && p->names->port_by_name(p->names->arg, s, port) == 0)
		return 0;
	return fail(p, "unknown port \"%s\"", s);
}

/*
 * @s as a value of field @f (its syntax), optionally "/mask": *@v and *@m
 * in field units (a missing mask: every valid bit).  @what names the
 * token in messages.
 */
static int parse_field_value(struct parser *p, const struct flow_field *f, char *s, flow_u128 *v, flow_u128 *m,
			     const char *what)
{
	flow_u128 valid = flow_field_valid(f);
	char *slash = strchr(s, '/');
	bool ok = false, mok = true;
	uint8_t b[16];

	if (slash)
		*slash++ = '\0';
	*m = valid;
	switch (f->syntax) {
	case FS_DEC:
	case FS_HEX:
		ok = parse_u128(s, v);
		if (slash)
			mok = parse_u128(slash, m);
		break;
	case FS_MAC:
		ok = parse_mac(s, v);
		if (slash)
			mok = parse_mac(slash, m);
		break;
	case FS_IPV4:
	case FS_IPV6: {
		int af = f->syntax == FS_IPV4 ? AF_INET : AF_INET6;

		ok = inet_pton(af, s, b) == 1;
		if (ok)
			*v = be_bytes(b, af == AF_INET ? 4 : 16);
		if (slash)
			mok = parse_ip_mask(slash, af, m);
		break;
	}
	case FS_PORT: {
		uint16_t port;
		int special, rc;

		if (slash)
			return fail(p, "%s: a port cannot be masked", what);
		rc = parse_port(p, s, &port, &special);
		if (rc)
			return rc;
		if (special >= 0)
			return fail(p, "%s: \"%s\" is not a port number here", what, s);
		*v = port;
		return 0;
	}
	case FS_FRAG: {
		static const struct {
			const char *name;
			uint8_t v, m;
		} frags[] = {
			{ "no", 0, FLOW_FRAG_ANY },
			{ "yes", FLOW_FRAG_ANY, FLOW_FRAG_ANY },
			{ "first", FLOW_FRAG_ANY, FLOW_FRAG_ANY | FLOW_FRAG_LATER },
			{ "later", FLOW_FRAG_ANY | FLOW_FRAG_LATER, FLOW_FRAG_ANY | FLOW_FRAG_LATER },
			{ "not_later", 0, FLOW_FRAG_LATER },
		};

		for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++)
			if (!slash && strcmp(s, frags[i].name) == 0) {
				*v = frags[i].v;
				*m = frags[i].m;
				return 0;
			}
		ok = parse_u128(s, v);
		if (slash)
			mok = parse_u128(slash, m);
		break;
	}
	}
	if (!ok)
		return fail(p, "%s: bad value \"%s\" for %s", what, s, f->names[0]);
	if (!mok)
		return fail(p, "%s: bad mask \"%s\" for %s", what, slash, f->names[0]);
	if (*v & ~valid) {
		if (f->ofs == offsetof(struct flow_key, nw_tos) && f->n_bits == 8)
			return fail(p, "%s: %s: the ToS must be a multiple of 4 from 0 to 252", what, s);
		return fail(p, "%s: value %s out of range for %s", what, s, f->names[0]);
	}
	if (*m & ~valid)
		return fail(p, "%s: mask %s out of range for %s", what, slash, f->names[0]);
	if (slash && !(f->flags & FF_MASKABLE) && *m != valid && *m != 0)
		return fail(p, "%s: %s cannot be masked", what, f->names[0]);
	*v &= *m;
	return 0;
}

/* Add value @v under mask @m (key bytes) to the match; a bit already matched to another value is an error. */
static int merge(struct parser *p, const struct flow_key *v, const struct flow_key *m, const char *what)
{
	struct flow_match *mm = &p->mod->match;

	for (unsigned i = 0; i < FLOW_KEY_WORDS; i++)
		if (mm->mask.w[i] & m->w[i] & (mm->value.w[i] ^ v->w[i]))
			return fail(p, "%s: contradicts an earlier field of the flow", what);
	for (unsigned i = 0; i < FLOW_KEY_WORDS; i++) {
		mm->mask.w[i] |= m->w[i];
		mm->value.w[i] |= v->w[i] & m->w[i];
	}
	return 0;
}

/* Bits [@start, @start + @n) of @f equal to @v under @m (field units), into the match. */
static int merge_field(struct parser *p, const struct flow_field *f, unsigned start, unsigned n, flow_u128 v,
		       flow_u128 m, const char *what)
{
	struct flow_key kv, km;

	memset(&kv, 0, sizeof(kv));
	memset(&km, 0, sizeof(km));
	flow_field_set128(f, &kv, start, n, v & m);
	flow_field_set128(f, &km, start, n, m);
	return merge(p, &kv, &km, what);
}

/* vlan_tci as key bytes: value and mask, network order. */
static int merge_tci(struct parser *p, uint16_t v, uint16_t m, const char *what)
{
	struct flow_key kv, km;

	memset(&kv, 0, sizeof(kv));
	memset(&km, 0, sizeof(km));
	kv.vlan_tci = htons(v);
	km.vlan_tci = htons(m);
	return merge(p, &kv, &km, what);
}

/*
 * "NAME", "NAME[]", "NAME[a..b]" or "NAME[a]" (@s, NUL-terminated): the
 * field and its bits.  ovs-actions(7), "Field Specifications".
 */
static int parse_subfield(struct parser *p, char *s, const struct flow_field **fp, unsigned *start, unsigned *n)
{
	char *br = strchr(s, '[');
	const struct flow_field *f = flow_field_by_name(s, br ? (size_t)(br - s) : strlen(s));
	uint64_t a, b;

	if (!f)
		return fail(p, "unknown field \"%.*s\"", br ? (int)(br - s) : (int)strlen(s), s);
	*fp = f;
	*start = 0;
	*n = f->n_bits;
	if (!br)
		return 0;
	if (s[strlen(s) - 1] != ']')
		return fail(p, "%s: missing ']'", s);
	s[strlen(s) - 1] = '\0';
	br++;
	if (!*br)
		return 0;
	{
		char *dots = strstr(br, "..");

		if (dots)
			*dots = '\0';
		if (!parse_uint(br, 127, &a) || (dots && !parse_uint(dots + 2, 127, &b)))
			return fail(p, "%s: bad bit range", f->names[0]);
		if (!dots)
			b = a;
	}
	if (a > b || b >= f->n_bits)
		return fail(p, "%s[%u..%u]: bits out of the field's %u", f->names[0], (unsigned)a, (unsigned)b,
			    f->n_bits);
	*start = (unsigned)a;
	*n = (unsigned)(b - a + 1);
	return 0;
}

/* ---- the match part ---- */

static const struct {
	const char *name;
	uint16_t dl_type;
	uint8_t nw_proto;	/* 0: none */
} protocols[] = {
	{ "ip", 0x0800, 0 },	{ "ipv6", 0x86dd, 0 },	{ "arp", 0x0806, 0 },	 { "rarp", 0x8035, 0 },
	{ "icmp", 0x0800, 1 },	{ "tcp", 0x0800, 6 },	{ "udp", 0x0800, 17 },	 { "icmp6", 0x86dd, 58 },
	{ "tcp6", 0x86dd, 6 },	{ "udp6", 0x86dd, 17 },
};

static int match_protocol(struct parser *p, unsigned i, const char *what)
{
	struct flow_key kv, km;

	memset(&kv, 0, sizeof(kv));
	memset(&km, 0, sizeof(km));
	kv.dl_type = htons(protocols[i].dl_type);
	km.dl_type = 0xffff;
	if (protocols[i].nw_proto) {
		kv.nw_proto = protocols[i].nw_proto;
		km.nw_proto = 0xff;
	}
	return merge(p, &kv, &km, what);
}

/* One "field=value" of the match. */
static int match_field(struct parser *p, const struct flow_field *f, char *value, const char *token)
{
	enum flow_field_id id = flow_field_id(f);
	flow_u128 v, m;
	int rc;

	if (!p->given[id])
		p->given[id] = token;
	if (!*value)
		return 0;	/* "field=" alone matches anything, as in ovs-ofctl */
	if (id == FF_DL_VLAN) {
		uint64_t vid;

		/* OpenFlow 1.0: 0xffff means "no tag"; a VID otherwise, with the tag present. */
		if (!parse_uint(value, 0xffff, &vid) || (vid > FLOW_TCI_VID && vid != 0xffff))
			return fail(p, "%s: VLAN ID out of range (0-4095, or 0xffff for none)", token);
		if (vid == 0xffff)
			return merge_tci(p, 0, 0xffff, token);
		return merge_tci(p, (uint16_t)(FLOW_TCI_PRESENT | vid), FLOW_TCI_PRESENT | FLOW_TCI_VID, token);
	}
	rc = parse_field_value(p, f, value, &v, &m, token);
	if (rc)
		return rc;
	if (id == FF_VLAN_PCP)	/* a priority implies a tag */
		return merge_tci(p, (uint16_t)(FLOW_TCI_PRESENT | v << 13), FLOW_TCI_PRESENT | FLOW_TCI_PCP, token);
	return merge_field(p, f, 0, f->n_bits, v, m, token);
}

static int kw_u16(struct parser *p, const char *token, const char *value, uint16_t *out)
{
	uint64_t v;

	if (!parse_uint(value, 0xffff, &v))
		return fail(p, "%s: not a number from 0 to 65535", token);
	*out = (uint16_t)v;
	return 0;
}

/* table=, priority=, cookie=, timeouts, out_port=, and what dump-flows prints that a paste may carry. */
static int match_keyword(struct parser *p, const char *name, char *value, const char *token)
{
	struct flow_mod *mod = p->mod;
	bool del = p->cmd == FLOW_CMD_DELETE;

	if (!strcmp(name, "send_flow_rem") || !strcmp(name, "no_packet_counts") || !strcmp(name, "no_byte_counts")) {
		if (del)
			return fail(p, "%s: only for add-flow and mod-flows", token);
		return 0;	/* no controller, counters are cheap: nothing to do */
	}
	if (!strcmp(name, "reset_counts")) {
		if (del)
			return fail(p, "%s: only for add-flow and mod-flows", token);
		mod->reset_counts = 1;
		return 0;
	}
	if (!strcmp(name, "duration") || !strcmp(name, "n_packets") || !strcmp(name, "n_bytes") ||
	    !strcmp(name, "idle_age") || !strcmp(name, "hard_age"))
		return 0;	/* dump-flows output pasted back (ovs-ofctl ignores them too) */
	if (!value)
		return fail(p, "unsupported field or keyword \"%s\"", token);
	if (!*value)
		return fail(p, "%s: missing value", token);
	if (!strcmp(name, "table")) {
		uint64_t t;

		if (!parse_uint(value, 255, &t))
			return fail(p, "%s: not a table number", token);
		if (t == 255) {
			mod->table = FLOW_TABLE_ANY;	/* ovs-ofctl: every table (del), table 0 (add) */
			return 0;
		}
		if (t >= FLOW_N_TABLES)
			return fail(p, "%s: vsw has tables 0 to %d", token, FLOW_N_TABLES - 1);
		mod->table = (uint8_t)t;
		return 0;
	}
	if (!strcmp(name, "priority"))
		return kw_u16(p, token, value, &mod->priority);
	if (!strcmp(name, "idle_timeout") || !strcmp(name, "hard_timeout")) {
		if (del)
			return fail(p, "%s: only for add-flow and mod-flows", token);
		return kw_u16(p, token, value, name[0] == 'i' ? &mod->idle_timeout_s : &mod->hard_timeout_s);
	}
	if (!strcmp(name, "out_port")) {
		int special;

		if (!del)
			return fail(p, "%s: only for del-flows and dumps", token);
		if (parse_port(p, value, &mod->out_port, &special))
			return -EINVAL;
		if (special >= 0)
			return fail(p, "%s: a port number or name", token);
		return 0;
	}
	if (!strcmp(name, "cookie")) {
		char *slash = strchr(value, '/');
		uint64_t c;

		if (slash)
			*slash++ = '\0';
		if (!parse_uint(value, UINT64_MAX, &c))
			return fail(p, "%s: bad cookie", token);
		if (slash) {
			uint64_t m;

			if (p->cmd == FLOW_CMD_ADD)
				return fail(p, "%s: flow additions cannot use a cookie mask", token);
			if (!strcmp(slash, "-1"))
				m = UINT64_MAX;
			else if (!parse_uint(slash, UINT64_MAX, &m))
				return fail(p, "%s: bad cookie mask", token);
			mod->cookie_match = c & m;	/* only the masked bits mean anything */
			mod->cookie_mask = m;
		} else {
			if (del)
				return fail(p, "%s: cannot set a cookie here (to match one, give a mask: cookie=%s/-1)",
					    token, value);
			mod->cookie = c;
			mod->set_cookie = 1;
		}
		return 0;
	}
	return fail(p, "unsupported field or keyword \"%s\"", name);
}

/* One token of the match part: a protocol, a field (or subfield) with its value, or a keyword. */
static int match_token(struct parser *p, char *tok)
{
	char *eq = strchr(tok, '=');
	const struct flow_field *f;
	char token[96];

	snprintf(token, sizeof(token), "%s", tok);
	if (eq)
		*eq = '\0';
	if (!eq)
		for (unsigned i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
			if (!strcmp(tok, protocols[i].name))
				return match_protocol(p, i, tok);
	if (!eq && (!strcmp(tok, "sctp") || !strcmp(tok, "sctp6")))
		return fail(p, "unsupported field or keyword \"%s\"", tok);
	f = flow_field_by_name(tok, strlen(tok));
	if (f) {
		if (!eq)
			return fail(p, "%s: missing value", tok);
		/* The message names the token as typed; keep it alive past this call (it is in the copy). */
		return match_field(p, f, eq + 1, tok);
	}
	if (strchr(tok, '[')) {
		unsigned start, n;
		flow_u128 v, m;
		char *slash;
		int rc;

		if (!eq)
			return fail(p, "%s: missing value", token);
		rc = parse_subfield(p, tok, &f, &start, &n);
		if (rc)
			return rc;
		if (!(f->flags & FF_MASKABLE))
			return fail(p, "%s: %s cannot be matched in part", token, f->names[0]);
		slash = strchr(eq + 1, '/');
		if (slash)
			*slash++ = '\0';
		m = ones(n);
		if (!parse_u128(eq + 1, &v) || (slash && !parse_u128(slash, &m)))
			return fail(p, "%s: bad value", token);
		if ((v | m) & ~ones(n))
			return fail(p, "%s: value or mask wider than %u bits", token, n);
		if (!p->given[flow_field_id(f)])
			p->given[flow_field_id(f)] = tok;
		return merge_field(p, f, start, n, v, m, token);
	}
	return match_keyword(p, tok, eq ? eq + 1 : NULL, token);
}

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
			return fail((p), "out of memory"), -ENOMEM; \
	} while (0)

/* An FA_SET of bits [@start, @start + @n) of @f to @v under @m (field units). */
static int act_set(struct parser *p, const struct flow_field *f, unsigned start, unsigned n, flow_u128 v, flow_u128 m,
		   enum flow_act_syntax syntax)
{
	struct flow_key kv, km;
	struct flow_act *a;

	NEW_ACT(p, a, FA_SET);
	memset(&kv, 0, sizeof(kv));
	memset(&km, 0, sizeof(km));
	m &= ones(n);
	if (start == 0 && n == f->n_bits)
		m &= flow_field_valid(f);
	flow_field_set128(f, &kv, start, n, v & m);
	flow_field_set128(f, &km, start, n, m);
	a->syntax = (uint8_t)syntax;
	a->field = (uint8_t)flow_field_id(f);
	a->start = (uint8_t)start;
	a->n_bits = (uint8_t)n;
	memcpy(a->val, kv.b + f->ofs, f->len);
	memcpy(a->mask, km.b + f->ofs, f->len);
	return 0;
}

/* A write to @f needs the match to guarantee the field (ovs-actions(7), set_field and load). */
static int check_write(struct parser *p, const struct flow_field *f, const char *what)
{
	if (!(f->flags & FF_WRITABLE))
		return fail(p, "%s: %s is read-only", what, f->names[0]);
	if (!flow_prereq_in_match((enum flow_prereq)f->prereq, &p->mod->match))
		return fail(p, "%s: %s needs %s in the match", what, f->names[0],
			    flow_prereq_name((enum flow_prereq)f->prereq));
	return 0;
}

static int check_read(struct parser *p, const struct flow_field *f, const char *what)
{
	if (!flow_prereq_in_match((enum flow_prereq)f->prereq, &p->mod->match))
		return fail(p, "%s: %s needs %s in the match", what, f->names[0],
			    flow_prereq_name((enum flow_prereq)f->prereq));
	return 0;
}

static int parse_list(struct parser *p, char *s, bool top);

static int do_output(struct parser *p, char *arg, const char *what)
{
	struct flow_act *a;
	uint16_t port;
	int special, rc;

	/* "in_port" is the port of that name (ovs-actions(7)); the field is written in_port[] or NXM_OF_IN_PORT[]. */
	if (strchr(arg, '[') || (flow_field_by_name(arg, strlen(arg)) && strcasecmp(arg, "in_port"))) {
		const struct flow_field *f;
		unsigned start, n;

		rc = parse_subfield(p, arg, &f, &start, &n);
		if (rc)
			return rc;
		if (n > 16)
			return fail(p, "%s: a port is 16 bits, not %u", what, n);
		rc = check_read(p, f, what);
		if (rc)
			return rc;
		NEW_ACT(p, a, FA_OUTPUT_FIELD);
		a->field = (uint8_t)flow_field_id(f);
		a->start = (uint8_t)start;
		a->n_bits = (uint8_t)n;
		return 0;
	}
	rc = parse_port(p, arg, &port, &special);
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
		return fail(p, "output(%s): only output:PORT is supported (no max_len)", arg);
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
			return fail(p, "%s:%s: no mask here", name, arg);
		/*
		 * OpenFlow 1.0 actions: no prerequisite in the match (a packet
		 * without the header is left alone at run time), as ovs-ofctl.
		 */
		rc = parse_field_value(p, f, arg, &v, &m, name);
		if (rc)
			return rc;
		if (mods[i].syntax == FAS_SET_TUNNEL && v > UINT32_MAX)
			return act_set(p, f, 0, f->n_bits, v, m, FAS_SET_TUNNEL64);
		return act_set(p, f, 0, f->n_bits, v, m, mods[i].syntax);
	}
	return fail(p, "unsupported action \"%s\"", name);
}

static int act_vlan(struct parser *p, const char *name, char *arg)
{
	bool vid = !strcasecmp(name, "mod_vlan_vid");
	struct flow_act *a;
	uint64_t v;

	if (!parse_uint(arg, vid ? FLOW_TCI_VID : 7, &v))
		return fail(p, "%s:%s: %s", name, arg, vid ? "a VLAN ID from 0 to 4095" : "a priority from 0 to 7");
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

	if (!parse_uint(arg, 0xffff, &v) || (v != 0x8100 && v != 0x88a8))
		return fail(p, "%s:%s: the TPID must be 0x8100 or 0x88a8", name, arg);
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

			if (!parse_uint(id, UINT16_MAX, &v))
				return fail(p, "dec_ttl(%s): controller ids are numbers", id);
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
		return fail(p, "%s:%s: expected VALUE->FIELD", name, arg);
	*arrow = '\0';
	rc = parse_subfield(p, arrow + 2, &f, &start, &n);
	if (rc)
		return rc;
	rc = check_write(p, f, name);
	if (rc)
		return rc;
	if (load) {
		if (!parse_u128(arg, &v))
			return fail(p, "load:%s: not a number", arg);
		if (v & ~ones(n))
			return fail(p, "load:%s: does not fit in %u bits", arg, n);
		return act_set(p, f, start, n, v, ones(n), FAS_LOAD);
	}
	if (start != 0 || n != f->n_bits)
		return fail(p, "set_field: %s: a whole field (load writes bits)", f->names[0]);
	rc = parse_field_value(p, f, arg, &v, &m, name);
	if (rc)
		return rc;
	return act_set(p, f, 0, n, v, m, FAS_SET_FIELD);
}

static int act_write_metadata(struct parser *p, const char *name, char *arg)
{
	const struct flow_field *f = &flow_fields[FF_METADATA];
	flow_u128 v, m;
	int rc = parse_field_value(p, f, arg, &v, &m, name);

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
		return fail(p, "move:%s: expected SRC->DST", arg);
	*arrow = '\0';
	rc = parse_subfield(p, arg, &src, &ss, &sn);
	if (!rc)
		rc = parse_subfield(p, arrow + 2, &dst, &ds, &dn);
	if (!rc)
		rc = check_read(p, src, name);
	if (!rc)
		rc = check_write(p, dst, name);
	if (rc)
		return rc;
	if (sn != dn)
		return fail(p, "move: %s takes %u bits, %s %u: the widths must be equal", src->names[0], sn,
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

	if (!parse_uint(s, 255, &v))
		return fail(p, "%s: \"%s\" is not a table number", what, s);
	if (v >= FLOW_N_TABLES)
		return fail(p, "%s: vsw has tables 0 to %d", what, FLOW_N_TABLES - 1);
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
			return fail(p, "resubmit(%s,%s): the ct form is not supported by vsw", arg, comma);
		while (*comma == ' ')
			comma++;
		if (*comma && (rc = parse_table(p, comma, "resubmit", &table)))
			return rc;
	}
	while (*arg == ' ')
		arg++;
	if (*arg) {
		rc = parse_port(p, arg, &port, &special);
		if (rc)
			return rc;
		if (special == FA_IN_PORT)
			port = FLOW_PORT_NONE;	/* "in_port" is the same as no port */
		else if (special >= 0)
			return fail(p, "resubmit: %s is not a port to resubmit as", arg);
	}
	if (port == FLOW_PORT_NONE && table == FLOW_TABLE_ANY)
		return fail(p, "resubmit: needs a port or a table");
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
		return fail(p, "goto_table: not inside clone()");
	if (t <= (p->mod->table == FLOW_TABLE_ANY ? 0 : p->mod->table))
		return fail(p, "goto_table:%u: must go to a later table than the flow's", t);
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
		hi = hexval((unsigned char)s[0]);
		lo = hi >= 0 ? hexval((unsigned char)s[1]) : -1;
		if (hi < 0 || lo < 0)
			return fail(p, "note:%s: pairs of hex digits", arg);
		if (n >= NOTE_MAX)
			return fail(p, "note: longer than %d bytes", NOTE_MAX);
		if (p->n_notes == p->cap_notes) {
			size_t cap = p->cap_notes ? 2 * p->cap_notes : 32;
			uint8_t *b = realloc(p->notes, cap);

			if (!b)
				return fail(p, "out of memory"), -ENOMEM;
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
		return fail(p, "clone: nested deeper than %d", FLOW_CLONE_MAX);
	NEW_ACT(p, a, FA_CLONE);
	p->clone_depth++;
	rc = parse_list(p, arg, false);
	p->clone_depth--;
	if (rc)
		return rc;
	if (p->n_acts - at - 1 > UINT16_MAX)
		return fail(p, "clone: too many actions");
	p->acts[at].n = (uint16_t)(p->n_acts - at - 1);
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
	if (!known && s[i])
		return fail(p, "unsupported action \"%.*s\"", (int)i, s);	/* ct(...), learn(...), push:... */
	if (s[i] == '(') {
		size_t len = strlen(s);

		if (s[len - 1] != ')')
			return fail(p, "%s: missing ')'", s);
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
			return fail(p, "%s: takes no argument", s);
		if (d->arg == ARG_REQ && (!arg || (!*arg && strcasecmp(s, "clone"))))
			return fail(p, "%s: needs an argument", s);
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
			int special, rc = parse_port(p, s, &port, &special);

			if (rc)
				return rc;
			NEW_ACT(p, a, FA_OUTPUT);
			a->port = port;
			return 0;
		}
	}
	return fail(p, "unsupported action \"%s\"", s);
}

/* A comma (or blank) separated list, parentheses nesting. */
static int parse_list(struct parser *p, char *s, bool top)
{
	size_t first = p->n_acts;

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
				return fail(p, "unbalanced ')' in the actions");
		}
		if (depth)
			return fail(p, "unbalanced '(' in the actions");
		if (*e)
			*e++ = '\0';
		if (p->n_acts > first && p->acts[p->n_acts - 1].type == FA_GOTO_TABLE)
			return fail(p, "goto_table must be the last action");
		rc = parse_action(p, s);
		if (rc)
			return rc;
		s = e;
	}
	if (top && p->drop && p->n_acts)
		return fail(p, "drop must be the only action");
	if (!top && p->drop)
		return fail(p, "drop inside clone() does nothing: leave it out");
	return 0;
}

static int finish_actions(struct parser *p, struct flow_actions **out)
{
	struct flow_actions *acts = malloc(sizeof(*acts) + p->n_acts * sizeof(acts->a[0]) + p->n_notes);

	if (!acts)
		return fail(p, "out of memory"), -ENOMEM;
	acts->n = (uint32_t)p->n_acts;
	acts->n_note = (uint32_t)p->n_notes;
	if (p->n_acts)
		memcpy(acts->a, p->acts, p->n_acts * sizeof(acts->a[0]));
	if (p->n_notes)
		memcpy(acts->a + p->n_acts, p->notes, p->n_notes);
	*out = acts;
	return 0;
}

/* Where "actions=" (or "action=") starts in @s, at a token boundary; NULL when absent. */
static char *find_actions(char *s)
{
	for (char *at = strstr(s, "action"); at; at = strstr(at + 1, "action")) {
		char *after = at + 6;

		if (at != s && at[-1] != ',' && !isspace((unsigned char)at[-1]))
			continue;
		if (*after == 's')
			after++;
		while (isspace((unsigned char)*after))
			after++;
		if (*after == '=') {
			*at = '\0';
			return after + 1;
		}
	}
	return NULL;
}

/* Every match field given has its prerequisites in the match (ovs-fields(7)). */
static int check_prereqs(struct parser *p)
{
	for (unsigned i = 0; i < FF__COUNT; i++) {
		const struct flow_field *f = &flow_fields[i];

		if (p->given[i] && !flow_prereq_in_match((enum flow_prereq)f->match_prereq, &p->mod->match))
			return fail(p, "%s: needs %s in the flow (e.g. \"%s,%s\")", p->given[i],
				    flow_prereq_name((enum flow_prereq)f->match_prereq),
				    f->match_prereq == FP_L4 ? "tcp" :
				    f->match_prereq == FP_TCP ? "tcp" :
				    f->match_prereq == FP_UDP ? "udp" :
				    f->match_prereq == FP_ICMP4 ? "icmp" :
				    f->match_prereq == FP_ICMP6 ? "icmp6" :
				    f->match_prereq == FP_IPV6 ? "ipv6" :
				    f->match_prereq == FP_ARP ? "arp" : "ip",
				    p->given[i]);
	}
	return 0;
}

static void parser_init(struct parser *p, enum flow_parse_cmd cmd, const struct flow_names *names,
			struct flow_mod *mod, char *err, size_t err_size)
{
	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	p->names = names;
	p->mod = mod;
	p->err = err;
	p->err_size = err_size;
	if (err_size)
		err[0] = '\0';
}

int flow_parse(const char *text, enum flow_parse_cmd cmd, const struct flow_names *names, struct flow_mod *mod,
	       char *err, size_t err_size)
{
	struct parser p;
	char *copy, *acts_text, *s, *tok;
	int rc = 0;

	memset(mod, 0, sizeof(*mod));
	mod->table = FLOW_TABLE_ANY;
	mod->priority = FLOW_PRIORITY_DEFAULT;
	mod->out_port = FLOW_PORT_NONE;
	parser_init(&p, cmd, names, mod, err, err_size);
	copy = strdup(text);
	if (!copy)
		return fail(&p, "out of memory"), -ENOMEM;
	acts_text = find_actions(copy);
	if (cmd != FLOW_CMD_DELETE && !acts_text) {
		rc = fail(&p, "must specify an action (actions=...)");
		goto out;
	}
	if (cmd == FLOW_CMD_DELETE && acts_text) {
		rc = fail(&p, "actions: not in a delete or a dump (a match only)");
		goto out;
	}
	for (s = copy; (tok = strsep(&s, ", \t\r\n"));) {
		if (!*tok)
			continue;
		rc = match_token(&p, tok);
		if (rc)
			goto out;
	}
	rc = check_prereqs(&p);
	if (rc)
		goto out;
	if (acts_text) {
		rc = parse_list(&p, acts_text, true);
		if (!rc)
			rc = finish_actions(&p, &mod->actions);
	}
out:
	free(p.acts);
	free(p.notes);
	free(copy);
	return rc;
}

bool flow_actions_equal(const struct flow_actions *a, const struct flow_actions *b)
{
	if (!a || !b)
		return a == b;
	/* Every act is zeroed before it is filled (act_new): whole structs compare. */
	return a->n == b->n && a->n_note == b->n_note &&
	       memcmp(a->a, b->a, a->n * sizeof(a->a[0]) + a->n_note) == 0;
}

int flow_parse_actions(const char *text, const struct flow_match *match, uint8_t table, const struct flow_names *names,
		       struct flow_actions **out, char *err, size_t err_size)
{
	struct flow_mod mod = { .match = *match, .table = table };
	struct parser p;
	char *copy;
	int rc;

	parser_init(&p, FLOW_CMD_ADD, names, &mod, err, err_size);
	copy = strdup(text);
	if (!copy)
		return fail(&p, "out of memory"), -ENOMEM;
	rc = parse_list(&p, copy, true);
	if (!rc)
		rc = finish_actions(&p, out);
	free(p.acts);
	free(p.notes);
	free(copy);
	return rc;
}
