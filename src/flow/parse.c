/* parse.c - ovs-ofctl flow syntax into a flow_mod: values, match fields and masks, keywords, prerequisites (the actions: parse_act.c). */
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
#include "flow/parse_int.h"

int flowp_fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err_size) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->err_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* @s, all of it, as an unsigned number: decimal, or hexadecimal after 0x (as ovs-ofctl reads integers). */
bool flowp_u128(const char *s, flow_u128 *v)
{
	flow_u128 x = 0;

	if (!*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return false;
		for (; *s; s++) {
			int d = flowp_hexval((unsigned char)*s);

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

bool flowp_uint(const char *s, uint64_t max, uint64_t *v)
{
	flow_u128 x;

	if (!flowp_u128(s, &x) || x > max)
		return false;
	*v = (uint64_t)x;
	return true;
}

static bool parse_mac(const char *s, flow_u128 *v)
{
	flow_u128 x = 0;

	for (int i = 0; i < 6; i++) {
		int hi = flowp_hexval((unsigned char)s[0]), lo;

		if (hi < 0)
			return false;
		lo = flowp_hexval((unsigned char)s[1]);
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

	if (flowp_uint(s, bits, &len)) {
		*m = len ? flow_ones(bits) & ~flow_ones(bits - (unsigned)len) : 0;
		return true;
	}
	if (inet_pton(af, s, b) != 1)
		return false;
	*m = be_bytes(b, bits / 8);
	return true;
}

/*
 * A port: a number, or a name through the caller; in_port, normal, flood,
 * all as *@special (FA_* or -1).  Numbers are 1 to 65279: 0 is OpenFlow's
 * reserved port, never a port (ovs-ofctl refuses output:0 as an invalid
 * port), and vsw numbers its ports from 1 as Open vSwitch does; a flow
 * written for a vsw that numbered from 0 would otherwise quietly mean
 * nothing, so the token is refused, by name.
 */
int flowp_port(struct parser *p, const char *s, uint16_t *port, int *special)
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
		if (!flowp_uint(s, 0xfeff, &v))
			return flowp_fail(p, "port \"%s\": not a port number (1 to 65279)", s);
		if (!v)
			return flowp_fail(p, "port \"%s\": 0 is OpenFlow's reserved port, never a port (numbers start at 1, "
				      "as in Open vSwitch)", s);
		*port = (uint16_t)v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (strcasecmp(s, specials[i].name) == 0) {
			if (specials[i].type == -2)
				return flowp_fail(p, "port \"%s\": not supported by vsw", s);
			*special = specials[i].type;
			return 0;
		}
	if (p->names && p->names->port_by_name && p->names->port_by_name(p->names->arg, s, port) == 0)
		return 0;
	return flowp_fail(p, "unknown port \"%s\"", s);
}

/*
 * tcp_flags written with names (@s, NUL-terminated, no '/'), as Open
 * vSwitch's parse_flags(): "+syn-ack" matches the flags named (SYN set,
 * ACK clear) and no other; "syn|ack" (names or numbers, '|' between)
 * matches every flag, those given set and the rest clear.
 */
static int parse_tcp_flags(struct parser *p, char *s, flow_u128 *v, flow_u128 *m, const char *what)
{
	unsigned flags = 0, mask = 0;

	if (*s == '+' || *s == '-') {
		while (*s) {	/* at a '+' or '-': the first, or where the name before stopped */
			bool set = *s == '+';
			size_t len;
			unsigned bit;

			s++;
			len = strcspn(s, "+-");
			bit = flow_tcp_flag_by_name(s, len);
			if (!bit)
				return flowp_fail(p, "%s: unknown TCP flag \"%.*s\" (fin, syn, rst, psh, ack, urg, ece, "
						  "cwr, ns)", what, (int)len, s);
			if (mask & bit)
				return flowp_fail(p, "%s: each TCP flag can be given only once", what);
			mask |= bit;
			if (set)
				flags |= bit;
			s += len;
		}
		*v = flags;
		*m = mask;
		return 0;
	}
	while (*s) {
		size_t len = strcspn(s, "|");
		unsigned bit = flow_tcp_flag_by_name(s, len);
		char num[24];
		flow_u128 n;

		if (!bit) {
			if (!len || len >= sizeof(num))
				return flowp_fail(p, "%s: bad TCP flags", what);
			memcpy(num, s, len);
			num[len] = '\0';
			if (!flowp_u128(num, &n) || n & ~(flow_u128)FLOW_TCP_FLAGS_MASK)
				return flowp_fail(p, "%s: unknown TCP flag \"%s\" (fin, syn, rst, psh, ack, urg, ece, cwr, "
						  "ns, or a number below 0x1000)", what, num);
			bit = (unsigned)n;
		}
		flags |= bit;
		s += len;
		if (*s == '|' && !*++s)
			return flowp_fail(p, "%s: a TCP flag must follow '|'", what);
	}
	*v = flags;
	*m = FLOW_TCP_FLAGS_MASK;
	return 0;
}

/*
 * @s as a value of field @f (its syntax), optionally "/mask": *@v and *@m
 * in field units (a missing mask: every valid bit).  @what names the
 * token in messages.
 */
int flowp_field_value(struct parser *p, const struct flow_field *f, char *s, flow_u128 *v, flow_u128 *m,
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
	case FS_TCP_FLAGS:
		if (!slash)
			return parse_tcp_flags(p, s, v, m, what);
		__attribute__((fallthrough));	/* V/M: numbers */
	case FS_DEC:
	case FS_HEX:
		ok = flowp_u128(s, v);
		if (slash)
			mok = flowp_u128(slash, m);
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
			return flowp_fail(p, "%s: a port cannot be masked", what);
		/*
		 * set_field:0->in_port is Open vSwitch's way to let output:N
		 * send back where the frame came from (ovs-actions(7), output:
		 * "to the input port ... is dropped"; load:0->NXM_OF_IN_PORT[]
		 * reads a number, not a port): a value written, not a port.
		 */
		if (strcasecmp(what, "set_field") == 0 && strcmp(s, "0") == 0) {
			*v = 0;
			return 0;
		}
		rc = flowp_port(p, s, &port, &special);
		if (rc)
			return rc;
		if (special >= 0)
			return flowp_fail(p, "%s: \"%s\" is not a port number here", what, s);
		*v = port;
		return 0;
	}
	case FS_FRAG: {
		const struct flow_frag_name *frags = flow_frag_names;

		for (size_t i = 0; i < FLOW_FRAG_NAMES; i++)
			if (!slash && strcmp(s, frags[i].name) == 0) {
				*v = frags[i].v;
				*m = frags[i].m;
				return 0;
			}
		ok = flowp_u128(s, v);
		if (slash)
			mok = flowp_u128(slash, m);
		break;
	}
	}
	if (!ok)
		return flowp_fail(p, "%s: bad value \"%s\" for %s", what, s, f->names[0]);
	if (!mok)
		return flowp_fail(p, "%s: bad mask \"%s\" for %s", what, slash, f->names[0]);
	if (*v & ~valid) {
		if (f->ofs == offsetof(struct flow_key, nw_tos) && f->n_bits == 8)
			return flowp_fail(p, "%s: %s: the ToS must be a multiple of 4 from 0 to 252", what, s);
		return flowp_fail(p, "%s: value %s out of range for %s", what, s, f->names[0]);
	}
	if (*m & ~valid)
		return flowp_fail(p, "%s: mask %s out of range for %s", what, slash, f->names[0]);
	if (slash && !(f->flags & FF_MASKABLE) && *m != valid && *m != 0)
		return flowp_fail(p, "%s: %s cannot be masked", what, f->names[0]);
	*v &= *m;
	return 0;
}

/* Add value @v under mask @m (key bytes) to the match; a bit already matched to another value is an error. */
static int merge(struct parser *p, const struct flow_key *v, const struct flow_key *m, const char *what)
{
	struct flow_match *mm = &p->mod->match;

	for (unsigned i = 0; i < FLOW_KEY_WORDS; i++)
		if (mm->mask.w[i] & m->w[i] & (mm->value.w[i] ^ v->w[i]))
			return flowp_fail(p, "%s: contradicts an earlier field of the flow", what);
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
int flowp_subfield(struct parser *p, char *s, const struct flow_field **fp, unsigned *start, unsigned *n)
{
	char *br = strchr(s, '[');
	const struct flow_field *f = flow_field_by_name(s, br ? (size_t)(br - s) : strlen(s));
	uint64_t a, b;

	if (!f)
		return flowp_fail(p, "unknown field \"%.*s\"", br ? (int)(br - s) : (int)strlen(s), s);
	*fp = f;
	*start = 0;
	*n = f->n_bits;
	if (!br)
		return 0;
	if (s[strlen(s) - 1] != ']')
		return flowp_fail(p, "%s: missing ']'", s);
	s[strlen(s) - 1] = '\0';
	br++;
	if (!*br)
		return 0;
	{
		char *dots = strstr(br, "..");

		if (dots)
			*dots = '\0';
		if (!flowp_uint(br, 127, &a) || (dots && !flowp_uint(dots + 2, 127, &b)))
			return flowp_fail(p, "%s: bad bit range", f->names[0]);
		if (!dots)
			b = a;
	}
	if (a > b || b >= f->n_bits)
		return flowp_fail(p, "%s[%u..%u]: bits out of the field's %u", f->names[0], (unsigned)a, (unsigned)b,
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
		if (!flowp_uint(value, 0xffff, &vid) || (vid > FLOW_TCI_VID && vid != 0xffff))
			return flowp_fail(p, "%s: VLAN ID out of range (0-4095, or 0xffff for none)", token);
		if (vid == 0xffff)
			return merge_tci(p, 0, 0xffff, token);
		return merge_tci(p, (uint16_t)(FLOW_TCI_PRESENT | vid), FLOW_TCI_PRESENT | FLOW_TCI_VID, token);
	}
	rc = flowp_field_value(p, f, value, &v, &m, token);
	if (rc)
		return rc;
	if (id == FF_VLAN_PCP)	/* a priority implies a tag */
		return merge_tci(p, (uint16_t)(FLOW_TCI_PRESENT | v << 13), FLOW_TCI_PRESENT | FLOW_TCI_PCP, token);
	return merge_field(p, f, 0, f->n_bits, v, m, token);
}

static int kw_u16(struct parser *p, const char *token, const char *value, uint16_t *out)
{
	uint64_t v;

	if (!flowp_uint(value, 0xffff, &v))
		return flowp_fail(p, "%s: not a number from 0 to 65535", token);
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
			return flowp_fail(p, "%s: only for add-flow and mod-flows", token);
		return 0;	/* no controller, counters are cheap: nothing to do */
	}
	if (!strcmp(name, "reset_counts")) {
		if (del)
			return flowp_fail(p, "%s: only for add-flow and mod-flows", token);
		mod->reset_counts = 1;
		return 0;
	}
	if (!strcmp(name, "duration") || !strcmp(name, "n_packets") || !strcmp(name, "n_bytes") ||
	    !strcmp(name, "idle_age") || !strcmp(name, "hard_age"))
		return 0;	/* dump-flows output pasted back (ovs-ofctl ignores them too) */
	if (!value)
		return flowp_fail(p, "unsupported field or keyword \"%s\"", token);
	if (!*value)
		return flowp_fail(p, "%s: missing value", token);
	if (!strcmp(name, "table")) {
		uint64_t t;

		if (!flowp_uint(value, 255, &t))
			return flowp_fail(p, "%s: not a table number", token);
		if (t == 255) {
			mod->table = FLOW_TABLE_ANY;	/* ovs-ofctl: every table (del), table 0 (add) */
			return 0;
		}
		if (t >= FLOW_N_TABLES)
			return flowp_fail(p, "%s: vsw has tables 0 to %d", token, FLOW_N_TABLES - 1);
		mod->table = (uint8_t)t;
		return 0;
	}
	if (!strcmp(name, "priority"))
		return kw_u16(p, token, value, &mod->priority);
	if (!strcmp(name, "idle_timeout") || !strcmp(name, "hard_timeout")) {
		if (del)
			return flowp_fail(p, "%s: only for add-flow and mod-flows", token);
		return kw_u16(p, token, value, name[0] == 'i' ? &mod->idle_timeout_s : &mod->hard_timeout_s);
	}
	if (!strcmp(name, "out_port")) {
		int special;

		if (!del)
			return flowp_fail(p, "%s: only for del-flows and dumps", token);
		if (flowp_port(p, value, &mod->out_port, &special))
			return -EINVAL;
		if (special >= 0)
			return flowp_fail(p, "%s: a port number or name", token);
		return 0;
	}
	if (!strcmp(name, "cookie")) {
		char *slash = strchr(value, '/');
		uint64_t c;

		if (slash)
			*slash++ = '\0';
		if (!flowp_uint(value, UINT64_MAX, &c))
			return flowp_fail(p, "%s: bad cookie", token);
		if (slash) {
			uint64_t m;

			if (p->cmd == FLOW_CMD_ADD)
				return flowp_fail(p, "%s: flow additions cannot use a cookie mask", token);
			if (!strcmp(slash, "-1"))
				m = UINT64_MAX;
			else if (!flowp_uint(slash, UINT64_MAX, &m))
				return flowp_fail(p, "%s: bad cookie mask", token);
			mod->cookie_match = c & m;	/* only the masked bits mean anything */
			mod->cookie_mask = m;
		} else {
			if (del)
				return flowp_fail(p, "%s: cannot set a cookie here (to match one, give a mask: cookie=%s/-1)",
					    token, value);
			mod->cookie = c;
			mod->set_cookie = 1;
		}
		return 0;
	}
	return flowp_fail(p, "unsupported field or keyword \"%s\"", name);
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
		return flowp_fail(p, "unsupported field or keyword \"%s\"", tok);
	f = flow_field_by_name(tok, strlen(tok));
	if (f) {
		if (!eq)
			return flowp_fail(p, "%s: missing value", tok);
		/* The message names the token as typed; keep it alive past this call (it is in the copy). */
		return match_field(p, f, eq + 1, tok);
	}
	if (strchr(tok, '[')) {
		unsigned start, n;
		flow_u128 v, m, valid;
		char *slash;
		int rc;

		if (!eq)
			return flowp_fail(p, "%s: missing value", token);
		rc = flowp_subfield(p, tok, &f, &start, &n);
		if (rc)
			return rc;
		if (!(f->flags & FF_MASKABLE))
			return flowp_fail(p, "%s: %s cannot be matched in part", token, f->names[0]);
		slash = strchr(eq + 1, '/');
		if (slash)
			*slash++ = '\0';
		/* The bits of the part that exist (tcp_flags: 12 of its 16): a value or mask past them matches nothing. */
		valid = (flow_field_valid(f) >> start) & flow_ones(n);
		m = valid;
		if (!flowp_u128(eq + 1, &v) || (slash && !flowp_u128(slash, &m)))
			return flowp_fail(p, "%s: bad value", token);
		if ((v | m) & ~flow_ones(n))
			return flowp_fail(p, "%s: value or mask wider than %u bits", token, n);
		if ((v | m) & ~valid)
			return flowp_fail(p, "%s: value or mask sets bits %s does not have", token, f->names[0]);
		if (!p->given[flow_field_id(f)])
			p->given[flow_field_id(f)] = tok;
		return merge_field(p, f, start, n, v, m, token);
	}
	return match_keyword(p, tok, eq ? eq + 1 : NULL, token);
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
			return flowp_fail(p, "%s: needs %s in the flow (e.g. \"%s,%s\")", p->given[i],
				    flow_prereq_name((enum flow_prereq)f->match_prereq),
				    f->match_prereq == FP_L4 ? "tcp" :
				    f->match_prereq == FP_TCP ? "tcp" :
				    f->match_prereq == FP_UDP ? "udp" :
				    f->match_prereq == FP_ICMP4 ? "icmp" :
				    f->match_prereq == FP_ICMP_ANY ?
				    (flow_prereq_in_match(FP_IPV6, &p->mod->match) ? "icmp6" : "icmp") :
				    f->match_prereq == FP_ICMP6 ? "icmp6" :
				    f->match_prereq == FP_IPV6 ? "ipv6" :
				    f->match_prereq == FP_ARP ? "arp" : "ip",
				    p->given[i]);
	}
	return 0;
}

void flowp_init(struct parser *p, enum flow_parse_cmd cmd, const struct flow_names *names,
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
	flowp_init(&p, cmd, names, mod, err, err_size);
	copy = strdup(text);
	if (!copy)
		return flowp_fail(&p, "out of memory"), -ENOMEM;
	acts_text = find_actions(copy);
	if (cmd != FLOW_CMD_DELETE && !acts_text) {
		rc = flowp_fail(&p, "must specify an action (actions=...)");
		goto out;
	}
	if (cmd == FLOW_CMD_DELETE && acts_text) {
		rc = flowp_fail(&p, "actions: not in a delete or a dump (a match only)");
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
		rc = flowp_list(&p, acts_text, true);
		if (!rc)
			rc = flowp_finish_actions(&p, &mod->actions);
	}
out:
	free(p.acts);
	free(p.notes);
	free(copy);
	return rc;
}

int flow_parse_actions(const char *text, const struct flow_match *match, uint8_t table, const struct flow_names *names,
		       struct flow_actions **out, char *err, size_t err_size)
{
	struct flow_mod mod = { .match = *match, .table = table };
	struct parser p;
	char *copy;
	int rc;

	flowp_init(&p, FLOW_CMD_ADD, names, &mod, err, err_size);
	copy = strdup(text);
	if (!copy)
		return flowp_fail(&p, "out of memory"), -ENOMEM;
	rc = flowp_list(&p, copy, true);
	if (!rc)
		rc = flowp_finish_actions(&p, out);
	free(p.acts);
	free(p.notes);
	free(copy);
	return rc;
}
