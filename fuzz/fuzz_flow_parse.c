/* fuzz_flow_parse.c - libFuzzer target: flow syntax (flow/parse, flow/format) on any text, with round trips. */

/*
 * What arrives here is what `vswctl flow add|mod|del` and a flows file
 * hand the daemon: text from a user or a file.  The parser must refuse
 * what it does not accept with a message, never read past the text,
 * leak, or accept something its formatter cannot print back: every
 * accepted flow is formatted, parsed again and must give the same flow,
 * and formatting that must give the same text.
 *
 * Input format: byte 0 picks the command (% 3: add, modify, delete) and
 * whether port names resolve (bit 2: vm1, vm2 and uplink are ports 1 to
 * 3); the rest is the flow text (a NUL ends it early).
 *
 * fuzz/make_corpus_flow_parse.py writes the seed corpus: flows from the
 * Open vSwitch documentation (ovs-actions(7), ovs-fields(7),
 * ovs-ofctl(8)) and the tokens vsw refuses.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/parse.h"

#define TEXT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const port_names[] = { NULL, "vm1", "vm2", "uplink" };

static int by_name(void *arg, const char *name, uint16_t *port)
{
	(void)arg;
	for (uint16_t i = 1; i < 4; i++)
		if (!strcmp(name, port_names[i])) {
			*port = i;
			return 0;
		}
	return -ENOENT;
}

static const char *name_of(void *arg, uint16_t port)
{
	(void)arg;
	return port > 0 && port < 4 ? port_names[port] : NULL;
}

static void check(int cond)
{
	if (!cond)
		abort();
}

static bool same(const struct flow_mod *a, const struct flow_mod *b)
{
	return flow_match_equal(&a->match, &b->match) && flow_actions_equal(a->actions, b->actions) &&
	       a->table == b->table && a->priority == b->priority && a->cookie == b->cookie &&
	       a->cookie_match == b->cookie_match && a->cookie_mask == b->cookie_mask &&
	       a->idle_timeout_s == b->idle_timeout_s && a->hard_timeout_s == b->hard_timeout_s &&
	       a->out_port == b->out_port;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct flow_names with = { by_name, name_of, NULL };
	const struct flow_names *names;
	enum flow_parse_cmd cmd;
	struct flow_mod a, b;
	char err[FLOW_ERR_MAX];
	size_t len, n1, n2;
	char *text, *t1, *t2;
	int rc;

	if (size < 1)
		return 0;
	cmd = (enum flow_parse_cmd)(data[0] % 3);
	names = data[0] & 4 ? &with : NULL;
	len = size - 1 < TEXT_MAX ? size - 1 : TEXT_MAX;
	/* Exactly the text's bytes and its NUL on the heap, so ASan sees a read past the end. */
	text = malloc(len + 1);
	check(text != NULL);
	memcpy(text, data + 1, len);
	text[len] = '\0';

	memset(err, 'x', sizeof(err));
	rc = flow_parse(text, cmd, names, &a, err, sizeof(err));
	check(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	if (rc) {
		check(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');	/* always a message */
		check(a.actions == NULL);
		free(text);
		return 0;
	}
	check((cmd == FLOW_CMD_DELETE) == (a.actions == NULL));

	n1 = flow_format(&a, cmd != FLOW_CMD_DELETE, names, NULL, 0);
	t1 = malloc(n1 + 1);
	check(t1 != NULL);
	check(flow_format(&a, cmd != FLOW_CMD_DELETE, names, t1, n1 + 1) == n1);
	check(strlen(t1) == n1);
	rc = flow_parse(t1, cmd, names, &b, err, sizeof(err));
	if (rc)
		abort();	/* what the formatter printed must parse */
	check(same(&a, &b));
	n2 = flow_format(&b, cmd != FLOW_CMD_DELETE, names, NULL, 0);
	t2 = malloc(n2 + 1);
	check(t2 != NULL);
	flow_format(&b, cmd != FLOW_CMD_DELETE, names, t2, n2 + 1);
	check(n1 == n2 && strcmp(t1, t2) == 0);

	/* A buffer too small: cut, terminated, the same length reported. */
	if (n1 > 3) {
		char small[4];

		check(flow_format(&a, cmd != FLOW_CMD_DELETE, names, small, sizeof(small)) == n1);
		check(small[3] == '\0' && memcmp(small, t1, 3) == 0);
	}
	free(t2);
	free(t1);
	free(a.actions);
	free(b.actions);
	free(text);
	return 0;
}
