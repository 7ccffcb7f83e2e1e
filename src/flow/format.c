/* format.c - a flow_mod back to ovs-ofctl flow syntax, in a form flow_parse() reads back to the same flow_mod. */
#include "flow/parse.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "flow/field.h"
#include "flow/learn.h"
#include "lib/strbuf.h"

/* Text into a caller's buffer, snprintf-style: what does not fit is counted, not written. */
struct sbuf {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(b->buf, b->size, &b->len, fmt, ap);
	va_end(ap);
}

static size_t done(struct sbuf *b)
{
	if (b->size)
		b->buf[b->len < b->size ? b->len : b->size - 1] = '\0';
	return b->len;
}

static void put_hex(struct sbuf *b, flow_u128 v)
{
	if (v >> 64)
		put(b, "0x%llx%016llx", (unsigned long long)(v >> 64), (unsigned long long)v);
	else
		put(b, "0x%llx", (unsigned long long)v);
}

static void put_port(struct sbuf *b, const struct flow_names *names, uint16_t port)
{
	const char *name = names && names->port_name ? names->port_name(names->arg, port) : NULL;

	if (name)
		put(b, "%s", name);
	else
		put(b, "%u", port);
}

static void put_mac(struct sbuf *b, flow_u128 v)
{
	put(b, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(v >> 40) & 0xff, (unsigned)(v >> 32) & 0xff,
	    (unsigned)(v >> 24) & 0xff, (unsigned)(v >> 16) & 0xff, (unsigned)(v >> 8) & 0xff, (unsigned)v & 0xff);
}

static void put_ip(struct sbuf *b, int af, flow_u128 v)
{
	unsigned n = af == AF_INET ? 4 : 16;
	char text[INET6_ADDRSTRLEN];
	uint8_t bytes[16];

	for (unsigned i = n; i-- > 0;) {
		bytes[i] = (uint8_t)v;
		v >>= 8;
	}
	put(b, "%s", inet_ntop(af, bytes, text, sizeof(text)) ? text : "?");
}

/* A prefix length when @m is one (leading ones, then zeros), else -1. */
static int prefix_len(flow_u128 m, unsigned bits)
{
	for (unsigned n = 0; n <= bits; n++)
		if (m == (flow_ones(bits) & ~flow_ones(bits - n)))
			return (int)n;
	return -1;
}

/* @v under @m of field @f, in its syntax; the mask only when it is not every bit of the field. */
static void put_value(struct sbuf *b, const struct flow_field *f, flow_u128 v, flow_u128 m,
		      const struct flow_names *names)
{
	bool masked = m != flow_field_valid(f);

	switch (f->syntax) {
	case FS_DEC:
		if (!masked) {
			put(b, "%llu", (unsigned long long)v);
			return;
		}
		/* masked decimals print in hex, as ovs-ofctl */
		__attribute__((fallthrough));
	case FS_HEX:
		put_hex(b, v);
		if (masked) {
			put(b, "/");
			put_hex(b, m);
		}
		return;
	case FS_MAC:
		put_mac(b, v);
		if (masked) {
			put(b, "/");
			put_mac(b, m);
		}
		return;
	case FS_IPV4:
	case FS_IPV6: {
		int af = f->syntax == FS_IPV4 ? AF_INET : AF_INET6;
		int plen = prefix_len(m, f->n_bits);

		put_ip(b, af, v);
		if (masked && plen >= 0)
			put(b, "/%d", plen);
		else if (masked) {
			put(b, "/");
			put_ip(b, af, m);
		}
		return;
	}
	case FS_PORT:
		put_port(b, names, (uint16_t)v);
		return;
	case FS_FRAG: {
		const struct flow_frag_name *frags = flow_frag_names;

		for (size_t i = 0; i < FLOW_FRAG_NAMES; i++)
			if (v == frags[i].v && m == frags[i].m) {
				put(b, "%s", frags[i].name);
				return;
			}
		put_hex(b, v);
		put(b, "/");
		put_hex(b, m);
		return;
	}
	case FS_TCP_FLAGS:
		/* As Open vSwitch's format_flags_masked(): "syn|ack" when every flag is matched ("0": none set), else +set-clear. */
		if (m & ~(flow_u128)FLOW_TCP_FLAGS_MASK || !m) {
			put_hex(b, v);	/* bits no flag has (parse refuses them): as numbers, never an empty value */
			put(b, "/");
			put_hex(b, m);
			return;
		}
		if (!masked) {
			if (!v)
				put(b, "0");
			for (unsigned i = 0, n = 0; i < FLOW_TCP_FLAG_BITS; i++)
				if (v & (1u << i))
					put(b, "%s%s", n++ ? "|" : "", flow_tcp_flag_name(i));
			return;
		}
		for (unsigned i = 0; i < FLOW_TCP_FLAG_BITS; i++)
			if (m & (1u << i))
				put(b, "%c%s", v & (1u << i) ? '+' : '-', flow_tcp_flag_name(i));
		return;
	}
}

struct mfmt {
	struct sbuf *b;
	const struct flow_match *m;
	const struct flow_names *names;
	bool first;
};

static void sep(struct mfmt *x)
{
	if (!x->first)
		put(x->b, ",");
	x->first = false;
}

/* Field @id of the match, under the name of that row, when it has any mask bit. */
static void put_field(struct mfmt *x, enum flow_field_id id)
{
	const struct flow_field *f = &flow_fields[id];
	flow_u128 v = flow_field_get128(f, &x->m->value, 0, f->n_bits);
	flow_u128 m = flow_field_get128(f, &x->m->mask, 0, f->n_bits);

	if (!m)
		return;
	sep(x);
	put(x->b, "%s=", f->names[0]);
	put_value(x->b, f, v, m, x->names);
}

static void put_vlan(struct mfmt *x)
{
	uint16_t v = ntohs(x->m->value.vlan_tci), m = ntohs(x->m->mask.vlan_tci);

	if (!m)
		return;
	sep(x);
	if (m == 0xffff && v == 0)
		put(x->b, "vlan_tci=0x0000");
	else if ((v & FLOW_TCI_PRESENT) && m == (FLOW_TCI_PRESENT | FLOW_TCI_VID))
		put(x->b, "dl_vlan=%u", v & FLOW_TCI_VID);
	else if ((v & FLOW_TCI_PRESENT) && m == (FLOW_TCI_PRESENT | FLOW_TCI_PCP))
		put(x->b, "dl_vlan_pcp=%u", v >> 13);
	else if ((v & FLOW_TCI_PRESENT) && m == 0xffff)
		put(x->b, "dl_vlan=%u,dl_vlan_pcp=%u", v & FLOW_TCI_VID, v >> 13);
	else
		put(x->b, "vlan_tci=0x%04x/0x%04x", v, m);
}

size_t flow_format_match(const struct flow_match *m, const struct flow_names *names, char *buf, size_t size)
{
	struct sbuf b = { buf, size, 0 };
	struct mfmt x = { &b, m, names, true };
	uint16_t type = ntohs(m->value.dl_type);
	bool type_exact = m->mask.dl_type == 0xffff, proto_exact = m->mask.nw_proto == 0xff;
	bool proto_done = false, arp = type_exact && (type == 0x0806 || type == 0x8035);
	int icmp = 0;

	if (type_exact) {
		const char *name = NULL;
		unsigned proto = proto_exact ? m->value.nw_proto : 256;

		if (type == 0x0800 || type == 0x86dd) {
			bool v6 = type == 0x86dd;

			proto_done = true;
			if (proto == 6)
				name = v6 ? "tcp6" : "tcp";
			else if (proto == 17)
				name = v6 ? "udp6" : "udp";
			else if (proto == (v6 ? 58u : 1u)) {
				name = v6 ? "icmp6" : "icmp";
				icmp = v6 ? 6 : 4;
			} else {
				name = v6 ? "ipv6" : "ip";
				proto_done = false;
			}
		} else if (type == 0x0806) {
			name = "arp";
		} else if (type == 0x8035) {
			name = "rarp";
		}
		sep(&x);
		if (name)
			put(&b, "%s", name);
		else
			put(&b, "dl_type=0x%04x", type);
	}
	put_field(&x, FF_IN_PORT);
	put_vlan(&x);
	put_field(&x, FF_ETH_SRC);
	put_field(&x, FF_ETH_DST);
	if (!type_exact)
		put_field(&x, FF_ETH_TYPE);	/* not from flow syntax (dl_type cannot be masked), but say it */
	put_field(&x, arp ? FF_ARP_SPA : FF_IPV4_SRC);
	put_field(&x, arp ? FF_ARP_TPA : FF_IPV4_DST);
	put_field(&x, FF_IPV6_SRC);
	put_field(&x, FF_IPV6_DST);
	if (!proto_done)
		put_field(&x, arp ? FF_ARP_OP : FF_NW_PROTO);
	if ((m->mask.nw_tos & 0xfc) == 0xfc) {
		sep(&x);
		put(&b, "nw_tos=%u", m->value.nw_tos & 0xfc);
	}
	if ((m->mask.nw_tos & 3) == 3) {
		sep(&x);
		put(&b, "nw_ecn=%u", m->value.nw_tos & 3);
	}
	put_field(&x, FF_NW_TTL);
	put_field(&x, FF_IP_FRAG);
	if (icmp == 4) {
		put_field(&x, FF_ICMP_TYPE);
		put_field(&x, FF_ICMP_CODE);
	} else if (icmp == 6) {
		put_field(&x, FF_ICMPV6_TYPE);
		put_field(&x, FF_ICMPV6_CODE);
	} else {
		put_field(&x, FF_TP_SRC);
		put_field(&x, FF_TP_DST);
	}
	put_field(&x, FF_TCP_FLAGS);
	put_field(&x, FF_ARP_SHA);
	put_field(&x, FF_ARP_THA);
	put_field(&x, FF_TUN_ID);
	put_field(&x, FF_TUN_SRC);
	put_field(&x, FF_TUN_DST);
	put_field(&x, FF_TUN_IPV6_SRC);
	put_field(&x, FF_TUN_IPV6_DST);
	put_field(&x, FF_METADATA);
	for (unsigned r = FF_REG0; r <= FF_REG7; r++)
		put_field(&x, (enum flow_field_id)r);
	return done(&b);
}

static void put_subfield(struct sbuf *b, const struct flow_field *f, unsigned start, unsigned n)
{
	if (start == 0 && n == f->n_bits)
		put(b, "%s[]", f->names[0]);
	else
		put(b, "%s[%u..%u]", f->names[0], start, start + n - 1);
}

static const char *const mod_names[] = {
	[FAS_MOD_DL_SRC] = "mod_dl_src", [FAS_MOD_DL_DST] = "mod_dl_dst", [FAS_MOD_NW_SRC] = "mod_nw_src",
	[FAS_MOD_NW_DST] = "mod_nw_dst", [FAS_MOD_NW_TOS] = "mod_nw_tos", [FAS_MOD_NW_ECN] = "mod_nw_ecn",
	[FAS_MOD_NW_TTL] = "mod_nw_ttl", [FAS_MOD_TP_SRC] = "mod_tp_src", [FAS_MOD_TP_DST] = "mod_tp_dst",
	[FAS_SET_TUNNEL] = "set_tunnel", [FAS_SET_TUNNEL64] = "set_tunnel64",
};

static void put_set(struct sbuf *b, const struct flow_act *a, const struct flow_names *names)
{
	const struct flow_field *f = &flow_fields[a->field];
	struct flow_key kv, km;
	flow_u128 v, m;

	memset(&kv, 0, sizeof(kv));
	memset(&km, 0, sizeof(km));
	memcpy(kv.b + f->ofs, a->val, f->len);
	memcpy(km.b + f->ofs, a->mask, f->len);
	v = flow_field_get128(f, &kv, a->start, a->n_bits);
	m = flow_field_get128(f, &km, a->start, a->n_bits);
	switch (a->syntax) {
	case FAS_LOAD:
		put(b, "load:");
		put_hex(b, v);
		put(b, "->");
		put_subfield(b, f, a->start, a->n_bits);
		return;
	case FAS_WRITE_METADATA:
		put(b, "write_metadata:");
		put_hex(b, v);
		if (m != flow_ones(64)) {
			put(b, "/");
			put_hex(b, m);
		}
		return;
	case FAS_SET_FIELD:
		put(b, "set_field:");
		put_value(b, f, v, m, names);
		put(b, "->%s", f->names[0]);
		return;
	default:
		if (a->syntax < sizeof(mod_names) / sizeof(mod_names[0]) && mod_names[a->syntax]) {
			put(b, "%s:", mod_names[a->syntax]);
			if (a->syntax == FAS_SET_TUNNEL || a->syntax == FAS_SET_TUNNEL64)
				put_hex(b, v);
			else
				put_value(b, f, v, flow_field_valid(f), names);
			return;
		}
		put(b, "set_field:?");
	}
}


/* A field in a learn spec as ovs-ofctl names it there (mf_format_subfield(): the NXM name, else the OXM one). */
static void put_learn_subfield(struct sbuf *b, const struct flow_field *f, unsigned start, unsigned n)
{
	const char *name = f->names[0];

	for (unsigned i = FF_NAMES; i-- > 0;)
		if (f->names[i] && (!strncmp(f->names[i], "NXM_", 4) ||
				    (!strncmp(f->names[i], "OXM_", 4) && strncmp(name, "NXM_", 4))))
			name = f->names[i];
	if (start == 0 && n == f->n_bits)
		put(b, "%s[]", name);
	else
		put(b, "%s[%u..%u]", name, start, start + n - 1);
}

/* learn(...) as ovs-ofctl prints it (learn_format()): its arguments, then its specs. */
static void put_learn(struct sbuf *b, const struct flow_act *a, const struct flow_names *names)
{
	struct flow_learn_args g = flow_learn_args(a);

	put(b, "learn(table=%u", a->table);
	if (g.idle_timeout_s)
		put(b, ",idle_timeout=%u", g.idle_timeout_s);
	if (g.hard_timeout_s)
		put(b, ",hard_timeout=%u", g.hard_timeout_s);
	if (a->port != FLOW_PRIORITY_DEFAULT)
		put(b, ",priority=%u", a->port);
	if (g.send_flow_rem)
		put(b, ",send_flow_rem");
	if (g.cookie)
		put(b, ",cookie=0x%llx", (unsigned long long)g.cookie);
	for (unsigned i = 1; i <= a->n; i++) {
		const struct flow_act *s = &a[i];
		const struct flow_field *dst = &flow_fields[s->field], *src = &flow_fields[s->src_field];
		flow_u128 v;

		memcpy(&v, s->val, sizeof(v));
		put(b, ",");
		switch ((enum flow_learn_kind)s->syntax) {
		case FLK_MATCH_IMM:
			if (s->start == 0 && s->n_bits == dst->n_bits) {
				put(b, "%s=", dst->names[0]);
				put_value(b, dst, v, flow_field_valid(dst), names);
			} else {
				put_learn_subfield(b, dst, s->start, s->n_bits);
				put(b, "=");
				put_hex(b, v);
			}
			break;
		case FLK_MATCH_FIELD:
			put_learn_subfield(b, dst, s->start, s->n_bits);
			if (s->src_field != s->field || s->src_start != s->start) {
				put(b, "=");
				put_learn_subfield(b, src, s->src_start, s->n_bits);
			}
			break;
		case FLK_LOAD_IMM:
			put(b, "load:");
			put_hex(b, v);
			put(b, "->");
			put_learn_subfield(b, dst, s->start, s->n_bits);
			break;
		case FLK_LOAD_FIELD:
			put(b, "load:");
			put_learn_subfield(b, src, s->src_start, s->n_bits);
			put(b, "->");
			put_learn_subfield(b, dst, s->start, s->n_bits);
			break;
		case FLK_OUTPUT:
			put(b, "output:");
			put_learn_subfield(b, src, s->src_start, s->n_bits);
			break;
		}
	}
	put(b, ")");
}

static void put_list(struct sbuf *b, const struct flow_actions *acts, uint32_t from, uint32_t n,
		     const struct flow_names *names)
{
	for (uint32_t i = from; i < from + n; i++) {
		const struct flow_act *a = &acts->a[i];

		if (i != from)
			put(b, ",");
		switch ((enum flow_act_type)a->type) {
		case FA_OUTPUT:
			put(b, "output:");
			put_port(b, names, a->port);
			break;
		case FA_OUTPUT_FIELD:
			put(b, "output:");
			put_subfield(b, &flow_fields[a->field], a->start, a->n_bits);
			break;
		case FA_IN_PORT:
			put(b, "in_port");
			break;
		case FA_NORMAL:
			put(b, "normal");
			break;
		case FA_FLOOD:
			put(b, "flood");
			break;
		case FA_ALL:
			put(b, "all");
			break;
		case FA_SET:
			put_set(b, a, names);
			break;
		case FA_MOVE:
			put(b, "move:");
			put_subfield(b, &flow_fields[a->src_field], a->src_start, a->n_bits);
			put(b, "->");
			put_subfield(b, &flow_fields[a->field], a->start, a->n_bits);
			break;
		case FA_PUSH_VLAN:
			put(b, "push_vlan:0x%04x", a->port);
			break;
		case FA_POP_VLAN:
			put(b, "%s", a->syntax == FAS_STRIP_VLAN ? "strip_vlan" : "pop_vlan");
			break;
		case FA_SET_VLAN_VID:
			put(b, "mod_vlan_vid:%u", a->port);
			break;
		case FA_SET_VLAN_PCP:
			put(b, "mod_vlan_pcp:%u", a->port);
			break;
		case FA_DEC_TTL:
			put(b, "dec_ttl");
			break;
		case FA_RESUBMIT:
			if (a->table == FLOW_TABLE_ANY) {
				put(b, "resubmit:");
				put_port(b, names, a->port);
			} else {
				put(b, "resubmit(");
				if (a->port != FLOW_PORT_NONE)
					put_port(b, names, a->port);
				put(b, ",%u)", a->table);
			}
			break;
		case FA_GOTO_TABLE:
			put(b, "goto_table:%u", a->table);
			break;
		case FA_CLONE:
			put(b, "clone(");
			put_list(b, acts, i + 1, a->n, names);
			put(b, ")");
			i += a->n;
			break;
		case FA_NOTE: {
			const uint8_t *note = flow_actions_notes(acts) + a->note_ofs;

			put(b, "note:");
			for (unsigned k = 0; k < a->n; k++)
				put(b, k ? ".%02x" : "%02x", note[k]);
			break;
		}
		case FA_LEARN:
			put_learn(b, a, names);
			i += a->n;
			break;
		case FA_LEARN_SPEC:
			put(b, "?");	/* never alone: put_learn() prints them */
			break;
		case FA_PUSH:
		case FA_POP:
			put(b, a->type == FA_PUSH ? "push:" : "pop:");
			put_subfield(b, &flow_fields[a->field], a->start, a->n_bits);
			break;
		case FA_EXIT:
			put(b, "exit");
			break;
		case FA_CHECK_PKT_LARGER:
			put(b, "check_pkt_larger(%u)->", a->port);
			put_subfield(b, &flow_fields[a->field], a->start, a->n_bits);
			break;
		}
	}
}

size_t flow_format_actions(const struct flow_actions *acts, const struct flow_names *names, char *buf, size_t size)
{
	struct sbuf b = { buf, size, 0 };

	if (!acts || !acts->n)
		put(&b, "drop");
	else
		put_list(&b, acts, 0, acts->n, names);
	return done(&b);
}

size_t flow_format(const struct flow_mod *mod, bool with_actions, const struct flow_names *names, char *buf,
		   size_t size)
{
	struct sbuf b = { buf, size, 0 };
	size_t n;

	if (mod->table != FLOW_TABLE_ANY)
		put(&b, "table=%u,", mod->table);
	put(&b, "priority=%u", mod->priority);
	if (with_actions && (mod->cookie || mod->set_cookie))
		put(&b, ",cookie=0x%llx", (unsigned long long)mod->cookie);
	if (mod->cookie_mask)
		put(&b, ",cookie=0x%llx/0x%llx", (unsigned long long)mod->cookie_match,
		    (unsigned long long)mod->cookie_mask);
	if (with_actions && mod->idle_timeout_s)
		put(&b, ",idle_timeout=%u", mod->idle_timeout_s);
	if (with_actions && mod->hard_timeout_s)
		put(&b, ",hard_timeout=%u", mod->hard_timeout_s);
	if (!with_actions && mod->out_port != FLOW_PORT_NONE) {
		put(&b, ",out_port=");
		put_port(&b, names, mod->out_port);
	}
	n = flow_format_match(&mod->match, names, NULL, 0);
	if (n) {
		put(&b, ",");
		if (b.len + n < b.size)
			flow_format_match(&mod->match, names, b.buf + b.len, b.size - b.len);
		b.len += n;
	}
	if (with_actions) {
		put(&b, " actions=");
		n = flow_format_actions(mod->actions, names, NULL, 0);
		if (b.len + n < b.size)
			flow_format_actions(mod->actions, names, b.buf + b.len, b.size - b.len);
		b.len += n;
	}
	return done(&b);
}
