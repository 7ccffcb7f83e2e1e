/* ctl_flows.c - the `flow` commands and `trace`: edits of vswd's flow db, one commit each, published to the workers and saved. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "ctl/commands.h"
#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "dp/flows.h"
#include "flow/field.h"
#include "flow/learn.h"
#include "flow/parse.h"
#include "flow/table.h"
#include "lib/atomic_file.h"
#include "lib/log.h"
#include "lib/strbuf.h"

/*
 * Every change goes the same way (flows_commit):
 *
 *   edit the db (flow_db_add/modify/delete/clear/expire)
 *   flow_db_commit()          a new version, nothing freed yet
 *   sw->flows = that version, or NULL when no rule is left (the workers
 *                             are then the learning bridge alone)
 *   dp_sync()                 no worker still holds the old version
 *   flow_db_reclaim(gen)      free what the commit retired
 *   save the flows file       (when configured: tmp, fsync, rename)
 *
 * so a command's edits are in force for every batch that begins after it
 * returns, and `flow replace` (clear + adds + one commit) is atomic.
 * Ports are named by their vswd names in flows, both ways; a number is a
 * port slot (what `show` prints as the id).  A deleted port's slot stays
 * kept for its name (ctl_ports.c, "Slots and names"), so its rules print
 * that name, and the name still resolves to that slot.
 */

#define FLOWS_FILE_MAX (16u << 20)	/* bytes of a flows file read (replace, load) */
#define TRACE_MAX 16384

/* A table's miss behaviour as `flow mod-table` and the flows file spell it, by enum flow_miss. */
static const char *const miss_names[] = { "drop", "continue", "normal", NULL };

/* The enum flow_miss @word names, or -1. */
static int miss_parse(const char *word)
{
	for (int i = 0; miss_names[i]; i++)
		if (!strcmp(word, miss_names[i]))
			return i;
	return -1;
}

/* ---- port names ---- */

/* A port's slot, or a deleted port's whose slot is kept for its name. */
static int names_port_by_name(void *arg, const char *name, uint16_t *port)
{
	int slot = vswd_port_slot_kept(arg, name, false);

	if (slot < 0)
		return -ENOENT;
	*port = (uint16_t)slot;
	return 0;
}

/* The same, and a name no slot has gets one kept for it (vswd's own files: a port not added yet, or gone). */
static int names_port_keep(void *arg, const char *name, uint16_t *port)
{
	int slot = vswd_port_slot_kept(arg, name, true);

	if (slot < 0)
		return -ENOENT;
	*port = (uint16_t)slot;
	return 0;
}

/* The name of the port in slot @port, or the name its slot is kept for; NULL prints the number. */
static const char *names_port_name(void *arg, uint16_t port)
{
	struct vswd *v = arg;
	struct port *p = port < PORT_MAX ? atomic_load(&v->sw->ports[port]) : NULL;

	if (p)
		return p->name;
	return port < PORT_MAX && v->slot_names[port][0] ? v->slot_names[port] : NULL;
}

static struct flow_names vswd_names(struct vswd *v)
{
	return (struct flow_names){ names_port_by_name, names_port_name, v };
}

struct named_ctx {
	unsigned rule;		/* the rule being printed, from 1 */
	unsigned *last;		/* per slot, the last rule that named it: a rule naming a slot twice counts once */
	unsigned *rules;	/* per slot, how many rules name it */
};

/* flow_format's port_name: count the rule as naming the slot, print nothing. */
static const char *mark_port_name(void *arg, uint16_t port)
{
	struct named_ctx *c = arg;

	if (port < PORT_MAX && c->last[port] != c->rule) {
		c->last[port] = c->rule;
		c->rules[port]++;
	}
	return NULL;
}

static int mark_one(void *arg, const struct flow_rule *r)
{
	struct named_ctx *c = arg;
	struct flow_names names = { NULL, mark_port_name, c };
	struct flow_mod mod;

	c->rule++;
	flow_rule_to_mod(r, &mod);
	flow_format(&mod, true, &names, NULL, 0);
	return 0;
}

/*
 * A rule names a slot when printing it asks for the slot's name (a match
 * on in_port, output, resubmit, a port written by set_field or load): the
 * formatter is the one list of where flows hold ports, so nothing here
 * can miss one it prints.  A pass over every rule: for `show` when a slot
 * is kept for a name with no port, and when every slot is named
 * (ctl_ports.c).
 */
int vswd_flows_count_named(struct vswd *v, unsigned *rules)
{
	struct named_ctx c = { .rule = 0, .last = calloc(PORT_MAX, sizeof(unsigned)), .rules = rules };

	if (!c.last)
		return -ENOMEM;
	memset(rules, 0, PORT_MAX * sizeof(*rules));
	if (v->flows)
		flow_db_foreach(v->flows, NULL, mark_one, &c);
	free(c.last);
	return 0;
}

unsigned vswd_flows_forget_unnamed(struct vswd *v)
{
	unsigned *rules, n = 0;

	/*
	 * At start, from vswd_state_load to the end of vswd_state_restore,
	 * the names given back are the state's ports' and its rules', which
	 * are not in yet: a count now says none of them is named.
	 */
	if (v->state_loaded || v->state_restoring)
		return 0;
	rules = malloc(PORT_MAX * sizeof(*rules));
	if (!rules || vswd_flows_count_named(v, rules) < 0) {
		free(rules);
		return 0;
	}
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (v->slot_names[i][0] && !atomic_load(&v->sw->ports[i]) && !rules[i]) {
			v->slot_names[i][0] = '\0';
			n++;
		}
	free(rules);
	return n;
}

/* ---- the db, its clock, publishing, the file ---- */

static uint64_t flows_clock_ms(void *arg)
{
	struct vswitch *sw = arg;

	return sw->clock_ns() / 1000000; /* the workers' clock for the rules' used time (dp/flows.c) */
}

int vswd_flows_init(struct vswd *v, char *err, size_t errlen)
{
	v->flows = flow_db_create();
	if (!v->flows) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	flow_db_set_clock(v->flows, flows_clock_ms, v->sw);
	return 0;
}

void vswd_flows_destroy(struct vswd *v)
{
	if (v->sw)
		atomic_store(&v->sw->flows, NULL);
	if (v->flows)
		flow_db_destroy(v->flows); /* the workers are stopped */
	v->flows = NULL;
}

struct save_ctx {
	struct vswd *v;
	FILE *f;
};

/*
 * The line the flows file and the state keep for @r, into @buf: 1; 0 for
 * a learned rule (never saved: learned again after a restart, as Open
 * vSwitch's, docs/FLOWS.md "learn"); -E2BIG.
 */
static int saved_line(struct vswd *v, const struct flow_rule *r, char *buf, size_t len)
{
	struct flow_names names = vswd_names(v);
	struct flow_mod mod;

	if (r->learned)
		return 0;
	flow_rule_to_mod(r, &mod);
	return flow_format(&mod, true, &names, buf, len) >= len ? -E2BIG : 1;
}

static int save_one(void *arg, const struct flow_rule *r)
{
	struct save_ctx *s = arg;
	char buf[8192];
	int rc = saved_line(s->v, r, buf, sizeof(buf));

	if (rc <= 0)
		return rc;
	return fprintf(s->f, "%s\n", buf) < 0 ? -EIO : 0;
}

static int flows_fill(void *arg, FILE *f)
{
	struct save_ctx *s = arg;

	s->f = f;
	if (fprintf(f, "# vswd flows: one ovs-ofctl add-flow line each, after the tables' miss behaviour\n"
		       "# (`mod-table N MODE`, those that do not drop); rewritten on every change\n") < 0)
		return -EIO;
	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		enum flow_miss m = flow_db_get_miss(s->v->flows, t);

		if (m != FLOW_MISS_DROP && fprintf(f, "mod-table %u %s\n", t, miss_names[m]) < 0)
			return -EIO;
	}
	return flow_db_foreach(s->v->flows, NULL, save_one, s);
}

/* Every rule into @path as flow syntax, one a line, replaced atomically (lib/atomic_file.h).  0 or -errno. */
static int flows_save(struct vswd *v, const char *path)
{
	struct save_ctx s = { v, NULL };

	return atomic_file_write(path, flows_fill, &s);
}

struct lines_ctx {
	struct vswd *v;
	struct json_object *a;
};

static int line_one(void *arg, const struct flow_rule *r)
{
	struct lines_ctx *l = arg;
	char buf[8192];
	int rc = saved_line(l->v, r, buf, sizeof(buf));

	if (rc <= 0)
		return rc;
	json_object_array_add(l->a, json_object_new_string(buf));
	return 0;
}

struct json_object *vswd_flows_lines(struct vswd *v)
{
	struct lines_ctx l = { v, json_object_new_array() };

	for (unsigned t = 0; l.a && t < FLOW_N_TABLES; t++) {
		enum flow_miss m = flow_db_get_miss(v->flows, t);
		char line[64];

		if (m != FLOW_MISS_DROP) {
			snprintf(line, sizeof(line), "mod-table %u %s", t, miss_names[m]);
			json_object_array_add(l.a, json_object_new_string(line));
		}
	}
	if (!l.a || flow_db_foreach(v->flows, NULL, line_one, &l) < 0) {
		json_object_put(l.a);
		return NULL;
	}
	return l.a;
}

/* Commit the edits, publish them, wait out the old version, free it.  0, or -1 with @err. */
static int flows_publish(struct vswd *v, char *err, size_t errlen)
{
	int64_t gen = flow_db_commit(v->flows);

	if (gen < 0) {
		snprintf(err, errlen, "out of memory: the change is not in force");
		return -1;
	}
	/* release: a worker that sees the pointer sees the version it points to */
	atomic_store_explicit(&v->sw->flows, flow_db_count(v->flows, FLOW_TABLE_ANY) ? flow_db_tables(v->flows) : NULL,
			      memory_order_release);
	if (v->dp_started)
		dp_sync(&v->dp);
	flow_db_reclaim(v->flows, (uint64_t)gen);
	vswd_flows_learn_timer(v);
	return 0;
}

/*
 * flows_publish() of an edit not a learn's (a command, a timeout): what
 * the workers learned from may be gone.  0, or -1 with @err.
 */
static int flows_edit(struct vswd *v, char *err, size_t errlen)
{
	if (flows_publish(v, err, errlen) < 0)
		return -1;
	/* The workers forget what they sent, and a learn queued on an older version is not applied (dp/flows.h). */
	for (unsigned i = 0; i < v->dp.nworkers; i++)
		if (v->dp.workers[i].ctx.flow)
			dp_flow_learn_forget(v->dp.workers[i].ctx.flow);
	v->learn_edit_gen = flow_db_tables(v->flows)->gen;
	return 0;
}

/* flows_edit(), then save (the flows file, the state).  0, or -1 with @err. */
static int flows_commit(struct vswd *v, char *err, size_t errlen)
{
	int rc;

	if (flows_edit(v, err, errlen) < 0)
		return -1;
	if (v->cfg.flows_path[0] && (rc = flows_save(v, v->cfg.flows_path)) < 0) {
		log_err("flows file %s: %s", v->cfg.flows_path, strerror(-rc));
		snprintf(err, errlen, "in force, but not saved to %.200s: %s", v->cfg.flows_path, strerror(-rc));
		return -1;
	}
	return vswd_state_changed(v, err, errlen);
}

void vswd_flows_tick(struct vswd *v)
{
	char err[256];
	size_t learned;
	int n;

	if (!v->flows)
		return;
	learned = flow_db_learned(v->flows);
	n = flow_db_expire(v->flows, flows_clock_ms(v->sw));
	if (n <= 0)
		return;
	/* Learned rules alone: nothing saved changed (they never are), so no file is written again. */
	if ((size_t)n == learned - flow_db_learned(v->flows) ? flows_edit(v, err, sizeof(err)) < 0 :
							       flows_commit(v, err, sizeof(err)) < 0)
		log_err("flow timeouts: %s", err);
}

/* ---- learn (flow/learn.h): the workers queue, the control thread applies ---- */

struct learn_ctx {
	struct vswd *v;
	bool changed, saved_changed;	/* a rule changed; one of those saved (a user's a learn changed) */
};

/* Whether @mod reads back from its dump as itself: a learned rule must be one flow syntax can say (dump, trace). */
static bool learn_expressible(struct vswd *v, const struct flow_mod *mod, char *text, size_t len, char *err,
			      size_t errlen)
{
	struct flow_names names = vswd_names(v);
	struct flow_mod back;
	bool same;

	if (flow_format(mod, true, &names, text, len) >= len) {
		snprintf(err, errlen, "too long");
		return false;
	}
	if (flow_parse(text, FLOW_CMD_ADD, &names, &back, err, errlen) < 0)
		return false;
	same = back.table == mod->table && back.priority == mod->priority && flow_match_equal(&back.match, &mod->match) &&
	       flow_actions_equal(back.actions, mod->actions);
	free(back.actions);
	if (!same)
		snprintf(err, errlen, "it reads back as another rule");
	return same;
}

/* Say why learns fail, once a minute at most (a guest can make them fail as fast as it sends). */
static void learn_fail_log(struct vswd *v, const char *what, const char *text, const char *why)
{
	if (v->learn_logged_s && v->uptime_s - v->learn_logged_s < 60)
		return;
	v->learn_logged_s = v->uptime_s ? v->uptime_s : 1;
	log_warn("learn: %s%s%s%s (such failures are counted in `vswctl stats`, learn; this message once a minute)",
		 what, text ? " \"" : "", text ? text : "", text ? "\"" : "");
	if (why)
		log_warn("learn: %s", why);
}

static void learn_one(void *arg, const struct dp_flow_learn_req *q)
{
	struct learn_ctx *c = arg;
	struct vswd *v = c->v;
	char text[8192], err[FLOW_ERR_MAX];
	struct flow_mod mod;
	int rc;

	if (q->gen < v->learn_edit_gen) {
		v->learn_stale++;	/* its rule (or what it learns from) was edited since: not applied */
		return;
	}
	if (flow_learn_build(q->a, &q->key, &mod) < 0) {
		v->learn_failed++;
		return;
	}
	if (!learn_expressible(v, &mod, text, sizeof(text), err, sizeof(err))) {
		learn_fail_log(v, "a rule that flow syntax cannot say, not added:", text, err);
		free(mod.actions);
		v->learn_failed++;
		return;
	}
	rc = flow_db_learn(v->flows, &mod);
	if (rc == -ENOSPC) {
		snprintf(err, sizeof(err), "no room for another learned rule (%zu there, the most): not added:",
			 flow_db_learned(v->flows));
		learn_fail_log(v, err, text, NULL);
		v->learn_full++;
	} else if (rc < 0) {
		v->learn_failed++;
	} else if (rc == 0) {
		v->learn_refreshed++;
	} else {
		v->learn_added++;
		c->changed = true;
		c->saved_changed |= rc == 2;
	}
}

void vswd_flows_learn(struct vswd *v)
{
	struct learn_ctx c = { v, false, false };
	char err[256];
	unsigned n = 0;

	for (unsigned i = 0; v->flows && i < v->dp.nworkers; i++)
		if (v->dp.workers[i].ctx.flow)
			n += dp_flow_learn_drain(v->dp.workers[i].ctx.flow, learn_one, &c);
	/* Idle: a slower timer (a learn waits VSWD_LEARN_IDLE_MS at most); busy: the fast one again. */
	v->learn_idle = n ? 0 : v->learn_idle + 1;
	if (n || v->learn_idle == VSWD_LEARN_IDLE_TICKS)
		vswd_flows_learn_timer(v);
	/* In force now; learned rules are never saved (docs/FLOWS.md, "learn"), a user's rule a learn changed is. */
	if (c.saved_changed ? flows_commit(v, err, sizeof(err)) < 0 : c.changed && flows_publish(v, err, sizeof(err)) < 0)
		log_err("learn: %s", err);
}

void vswd_flows_learn_timer(struct vswd *v)
{
	/* 0: off; else the period in ms: fast while learns come, slow once none came for a while */
	unsigned want = v->learn_fd < 0 || !v->flows || !flow_db_learning(v->flows) ? 0 :
			v->learn_idle >= VSWD_LEARN_IDLE_TICKS ? VSWD_LEARN_IDLE_MS : VSWD_LEARN_MS;
	struct itimerspec its = { { 0, want * 1000000L }, { 0, want * 1000000L } };

	if (want == v->learn_armed)
		return;
	if (timerfd_settime(v->learn_fd, 0, &its, NULL) < 0) {
		log_err("learn timer: %s", strerror(errno));
		return;
	}
	v->learn_armed = want;
}

/*
 * A `mod-table N MODE` line of a flows file (@s, after "mod-table") into
 * @miss[N]; false when it is not one.
 */
static bool mod_table_line(const char *s, int8_t *miss)
{
	char word[16];
	unsigned table;
	int n = 0, m;

	if (sscanf(s, "%u %15s %n", &table, word, &n) != 2 || s[n] || table >= FLOW_N_TABLES ||
	    (m = miss_parse(word)) < 0)
		return false;
	miss[table] = (int8_t)m;
	return true;
}

/*
 * Parse every line of @text (blank lines and lines starting with '#'
 * skipped) as an add, or as `mod-table N MODE` (a table's miss
 * behaviour), and only then put them in the db, replacing every rule
 * (@replace) or besides them: all or nothing.  A table no line names
 * keeps its miss behaviour (as ovs-ofctl replace-flows leaves the tables'
 * settings alone).  @keep_names: vswd's own file or state, where a port
 * name no slot has is one not added yet (the state's ports come after the
 * flows file) or deleted before the save: its slot is kept for it; in
 * text from a client, such a name is an error, as in `flow add`.  0, or
 * -1 with @err naming the line.
 */
static int flows_load_text(struct vswd *v, char *text, bool replace, bool keep_names, const char *what, char *err,
			   size_t errlen)
{
	struct flow_names names = vswd_names(v);
	struct flow_mod *mods = NULL;
	size_t n = 0, cap = 0, line = 0;
	char perr[FLOW_ERR_MAX];
	int8_t miss[FLOW_N_TABLES];
	int rc = -1;

	memset(miss, -1, sizeof(miss));
	if (keep_names)
		names.port_by_name = names_port_keep;

	for (char *l = text, *eol; l; l = eol ? eol + 1 : NULL) {
		char *s = l + strspn(l, " \t\r");

		eol = strchr(l, '\n');
		if (eol)
			*eol = '\0';
		line++;
		if (!*s || *s == '#')
			continue;
		if (!strncmp(s, "mod-table", 9) && (s[9] == ' ' || s[9] == '\t')) {
			if (!mod_table_line(s + 10, miss)) {
				snprintf(err, errlen, "%s, line %zu: mod-table TABLE (0-253) drop|continue|normal", what,
					 line);
				goto out_free;
			}
			continue;
		}
		if (n == cap) {
			struct flow_mod *m = realloc(mods, (cap = cap ? 2 * cap : 64) * sizeof(*mods));

			if (!m) {
				snprintf(err, errlen, "out of memory");
				goto out_free;
			}
			mods = m;
		}
		if (flow_parse(s, FLOW_CMD_ADD, &names, &mods[n], perr, sizeof(perr)) < 0) {
			snprintf(err, errlen, "%s, line %zu: %s", what, line, perr);
			goto out_free;
		}
		n++;
	}
	if (replace)
		flow_db_clear(v->flows);
	for (unsigned t = 0; t < FLOW_N_TABLES; t++)
		if (miss[t] >= 0)
			flow_db_set_miss(v->flows, t, (enum flow_miss)miss[t]);
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		/* the db owns each add's actions, even on error: every one goes either there or to free() */
		if (rc == 0 && flow_db_add(v->flows, &mods[i]) < 0) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		} else if (rc != 0) {
			free(mods[i].actions);
		}
	}
	n = 0;
	if (rc == 0)
		rc = flows_commit(v, err, errlen);
out_free:
	for (size_t i = 0; i < n; i++)
		free(mods[i].actions);
	free(mods);
	return rc;
}

/* The contents of @fd (a regular file, at most FLOWS_FILE_MAX bytes), NUL-terminated; NULL with @err. */
static char *read_flows_fd(int fd, const char *what, char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FLOWS_FILE_MAX) {
		snprintf(err, errlen, "%.200s: not a regular file of at most %u bytes", what, FLOWS_FILE_MAX);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = pread(fd, buf + len, (size_t)st.st_size - len, (off_t)len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* the file shrank: what was there */
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(err, errlen, "%.200s: a NUL byte in the file", what);
		free(buf);
		return NULL;
	}
	return buf;
}

int vswd_flows_load(struct vswd *v, char *err, size_t errlen)
{
	const char *path = v->cfg.flows_path;
	char *text;
	int fd, rc;

	if (!path[0])
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0; /* nothing saved yet: the first change creates it */
	if (fd < 0) {
		snprintf(err, errlen, "%.200s: %s", path, strerror(errno));
		return -1;
	}
	text = read_flows_fd(fd, path, err, errlen);
	close(fd);
	if (!text)
		return -1;
	rc = flows_load_text(v, text, true, true, path, err, errlen);
	free(text);
	return rc;
}

int vswd_flows_restore(struct vswd *v, struct json_object *lines, const char *what, char *err, size_t errlen)
{
	size_t len = 1, n = json_object_array_length(lines);
	char *text, *at;
	int rc;

	for (size_t i = 0; i < n; i++)
		len += strlen(json_object_get_string(json_object_array_get_idx(lines, i))) + 1;
	text = at = malloc(len);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *l = json_object_get_string(json_object_array_get_idx(lines, i));
		size_t ll = strlen(l);

		memcpy(at, l, ll);
		at[ll] = '\n';
		at += ll + 1;
	}
	*at = '\0';
	rc = flows_load_text(v, text, true, true, what, err, errlen);
	free(text);
	return rc;
}

/* ---- the commands ---- */

static struct json_object *reply_count(const char *key, int n)
{
	struct json_object *r = ctl_reply_ok();

	json_object_object_add(r, key, json_object_new_int(n));
	return r;
}

static const char *req_str(struct json_object *req, const char *key)
{
	struct json_object *f;

	return json_object_object_get_ex(req, key, &f) ? json_object_get_string(f) : "";
}

struct json_object *ctl_flow_edit(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	const char *cmd = req_str(req, "cmd");
	bool add = !strcmp(cmd, "flow-add"), del = !strncmp(cmd, "flow-del", 8);
	bool strict = strstr(cmd, "-strict") != NULL;
	struct flow_names names = vswd_names(v);
	struct flow_mod mod;
	char err[FLOW_ERR_MAX + 64];
	int n;

	(void)peer;
	if (flow_parse(req_str(req, "flow"), add ? FLOW_CMD_ADD : del ? FLOW_CMD_DELETE : FLOW_CMD_MODIFY, &names,
		       &mod, err, sizeof(err)) < 0)
		return ctl_reply_error(err);
	if (add)
		n = flow_db_add(v->flows, &mod) < 0 ? -ENOMEM : 1;
	else if (del)
		n = flow_db_delete(v->flows, &mod, strict);
	else
		n = flow_db_modify(v->flows, &mod, strict);
	if (n < 0)
		return ctl_reply_error("out of memory");
	if (flows_commit(v, err, sizeof(err)) < 0)
		return ctl_reply_error(err);
	return reply_count("rules", n);
}

struct json_object *ctl_flow_replace(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	const char *file = req_str(req, "file");
	char err[FLOW_ERR_MAX + 300], *text;
	int fd = peer->fd;

	/* The file is read through the descriptor the peer opened; vswd opens a path only for a privileged one. */
	if (fd < 0 && !peer->privileged)
		return ctl_reply_error("flow replace: pass the file open (vswctl does), an unprivileged peer may not name one");
	if (fd < 0 && (fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(err, sizeof(err), "%.200s: %s", file, strerror(errno));
		return ctl_reply_error(err);
	}
	text = read_flows_fd(fd, file, err, sizeof(err));
	if (fd != peer->fd)
		close(fd);
	if (!text)
		return ctl_reply_error(err);
	if (flows_load_text(v, text, true, false, file, err, sizeof(err)) < 0) {
		free(text);
		return ctl_reply_error(err);
	}
	free(text);
	return reply_count("rules", (int)flow_db_count(v->flows, FLOW_TABLE_ANY));
}

struct dump_ctx {
	struct vswd *v;
	struct json_object *flows;
	uint64_t now_ms;
};

static int dump_one(void *arg, const struct flow_rule *r)
{
	struct dump_ctx *d = arg;
	struct flow_names names = vswd_names(d->v);
	struct flow_mod mod;
	uint64_t packets, bytes, used;
	char head[160], buf[8192];

	flow_rule_to_mod(r, &mod);
	flow_db_rule_stats(r, &packets, &bytes);
	used = atomic_load_explicit(&((struct flow_rule *)r)->used_ms, memory_order_relaxed);
	if (used < r->modified_ms)
		used = r->modified_ms;
	snprintf(head, sizeof(head), "duration=%.3fs, n_packets=%" PRIu64 ", n_bytes=%" PRIu64 ", idle_age=%" PRIu64 ", ",
		 (double)(d->now_ms - r->created_ms) / 1000.0, packets, bytes, (d->now_ms - used) / 1000);
	if (flow_format(&mod, true, &names, buf, sizeof(buf)) >= sizeof(buf))
		snprintf(buf, sizeof(buf), "table=%u, priority=%u (too long to print)", r->table, r->priority);
	{
		size_t hl = strlen(head), bl = strlen(buf);
		char *line = malloc(hl + bl + 1);

		if (!line)
			return -ENOMEM;
		memcpy(line, head, hl);
		memcpy(line + hl, buf, bl + 1);
		json_object_array_add(d->flows, json_object_new_string(line));
		free(line);
	}
	return 0;
}

struct json_object *ctl_flow_dump(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	struct flow_names names = vswd_names(v);
	struct dump_ctx d = { v, json_object_new_array(), flows_clock_ms(v->sw) };
	const char *filter = req_str(req, "flow");
	struct flow_mod mod;
	struct json_object *f, *r;
	char err[FLOW_ERR_MAX];

	(void)peer;
	if (flow_parse(filter, FLOW_CMD_DELETE, &names, &mod, err, sizeof(err)) < 0) {
		json_object_put(d.flows);
		return ctl_reply_error(err);
	}
	if (json_object_object_get_ex(req, "table", &f))
		mod.table = (uint8_t)json_object_get_int(f);
	if (flow_db_foreach(v->flows, &mod, dump_one, &d) < 0) {
		json_object_put(d.flows);
		return ctl_reply_error("out of memory");
	}
	r = ctl_reply_ok();
	json_object_object_add(r, "flows", d.flows);
	return r;
}

void ctl_flow_dump_print(struct json_object *reply)
{
	struct json_object *a;

	if (!json_object_object_get_ex(reply, "flows", &a))
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++)
		printf(" %s\n", json_object_get_string(json_object_array_get_idx(a, i)));
}

struct json_object *ctl_flow_mod_table(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	struct json_object *f;
	char err[FLOW_ERR_MAX + 300];
	int table = json_object_object_get_ex(req, "table", &f) ? json_object_get_int(f) : -1;
	int miss = miss_parse(req_str(req, "miss"));

	(void)peer;
	if (miss < 0 || flow_db_set_miss(v->flows, (unsigned)table, (enum flow_miss)miss) < 0)
		return ctl_reply_error("flow mod-table: TABLE (0-253) drop|continue|normal");
	if (flows_commit(v, err, sizeof(err)) < 0)
		return ctl_reply_error(err);
	return ctl_reply_ok();
}

struct json_object *vswd_flow_tables_json(struct vswd *v)
{
	struct json_object *arr = json_object_new_array();
	uint64_t packets[FLOW_N_TABLES], bytes[FLOW_N_TABLES], lookups[FLOW_N_TABLES], misses[FLOW_N_TABLES] = { 0 };
	unsigned last = 0;

	/* Misses: each worker's executor counts its own (flow_table_counts); the sums.  Lookups: matched + misses. */
	for (unsigned i = 0; i < v->dp.nworkers; i++) {
		const struct dp_flow *f = v->dp.workers[i].ctx.flow;

		for (unsigned t = 0; f && t < FLOW_N_TABLES; t++)
			misses[t] += atomic_load_explicit(&f->x.tables_cnt[t].misses, memory_order_relaxed);
	}
	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		flow_db_table_stats(v->flows, t, &packets[t], &bytes[t]);
		lookups[t] = packets[t] + misses[t];
		if (flow_db_count(v->flows, t) || packets[t] || lookups[t] ||
		    flow_db_get_miss(v->flows, t) != FLOW_MISS_DROP)
			last = t;
	}
	for (unsigned t = 0; t <= last; t++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "table", json_object_new_int((int)t));
		json_object_object_add(o, "flows", json_object_new_int64(flow_db_count(v->flows, t)));
		json_object_object_add(o, "miss", json_object_new_string(miss_names[flow_db_get_miss(v->flows, t)]));
		json_object_object_add(o, "lookups", json_object_new_int64((int64_t)lookups[t]));
		json_object_object_add(o, "misses", json_object_new_int64((int64_t)misses[t]));
		json_object_object_add(o, "matched_packets", json_object_new_int64((int64_t)packets[t]));
		json_object_object_add(o, "matched_bytes", json_object_new_int64((int64_t)bytes[t]));
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *ctl_flow_dump_tables(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	struct json_object *r = ctl_reply_ok();

	(void)req;
	(void)peer;
	json_object_object_add(r, "tables", vswd_flow_tables_json(v));
	return r;
}

/* One line per table, as `ovs-ofctl dump-tables` says it: rules (active), lookups, matched, the miss behaviour. */
void ctl_flow_dump_tables_print(struct json_object *reply)
{
	struct json_object *a;

	if (!json_object_object_get_ex(reply, "tables", &a))
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *t = json_object_array_get_idx(a, i), *f;
		const char *keys[] = { "table", "flows", "lookups", "misses", "matched_packets", "matched_bytes", "miss" };
		const char *words[] = { " table ", ": active=", ", lookup=", ", missed=", ", matched=", " (bytes ",
					"), miss=" };

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (json_object_object_get_ex(t, keys[k], &f))
				printf("%s%s", words[k], json_object_get_string(f));
		printf("\n");
	}
}

/*
 * What a megaflow's run does, as an action list: its outputs, or drop (and
 * why); a run that rewrites replays its rules' actions, which the copy
 * does not hold (pointers into the rules are not followed): said so.
 */
static void memo_actions(struct vswd *v, const struct flow_memo *m, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (m->flags & FLOW_MEMO_F_WRITES) {
		strbuf_addf(buf, len, &used, "(the actions of its %u rule(s), with rewrites)", m->n_rules);
		return;
	}
	for (unsigned i = 0; i < m->n_out && i < FLOW_MEMO_OUTS; i++) {
		const struct flow_memo_out *o = &m->out[i];
		const char *pn = o->kind == FLOW_OUT_PORT ? names_port_name(v, o->port) : NULL;

		strbuf_addf(buf, len, &used, "%s", i ? "," : "");
		if (o->kind == FLOW_OUT_NORMAL)
			strbuf_addf(buf, len, &used, "normal");
		else if (o->kind == FLOW_OUT_FLOOD)
			strbuf_addf(buf, len, &used, "flood");
		else if (o->kind == FLOW_OUT_ALL)
			strbuf_addf(buf, len, &used, "all");
		else if (pn)
			strbuf_addf(buf, len, &used, "output:%s", pn);
		else
			strbuf_addf(buf, len, &used, "output:%u", o->port);
	}
	if (!m->n_out)
		strbuf_addf(buf, len, &used, "drop%s", m->miss_drops ? " (table miss)" : "");
}

struct json_object *ctl_flow_dump_cache(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	struct flow_names names = vswd_names(v);
	const struct flow_tables *t = atomic_load_explicit(&v->sw->flows, memory_order_acquire);
	struct dp_flow_mf_view *views = malloc(DP_FLOW_MF_ENTRIES * sizeof(*views));
	struct json_object *r, *workers;
	char match[4096], acts[512], line[4800];

	(void)req;
	(void)peer;
	if (!views)
		return ctl_reply_error("out of memory");
	r = ctl_reply_ok();
	workers = json_object_new_array();
	for (unsigned i = 0; i < v->dp.nworkers; i++) {
		const struct dp_flow *f = v->dp.workers[i].ctx.flow;
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		unsigned n = f && t ? dp_flow_mf_read(f, t, views, DP_FLOW_MF_ENTRIES) : 0;

		for (unsigned k = 0; k < n; k++) {
			struct flow_match m = { .value = views[k].key, .mask = views[k].mask };

			flow_format_match(&m, &names, match, sizeof(match));
			memo_actions(v, &views[k].memo, acts, sizeof(acts));
			snprintf(line, sizeof(line), "%s actions=%s", match, acts);
			json_object_array_add(a, json_object_new_string(line));
		}
		json_object_object_add(o, "id", json_object_new_int((int)i));
		json_object_object_add(o, "megaflows", a);
		json_object_array_add(workers, o);
	}
	free(views);
	json_object_object_add(r, "workers", workers);
	return r;
}

/* Per worker: its megaflows, one a line, as `ovs-appctl dpctl/dump-flows` lists a datapath's. */
void ctl_flow_dump_cache_print(struct json_object *reply)
{
	struct json_object *w;

	if (!json_object_object_get_ex(reply, "workers", &w))
		return;
	for (size_t i = 0; i < json_object_array_length(w); i++) {
		struct json_object *o = json_object_array_get_idx(w, i), *a = NULL, *id = NULL;
		size_t n;

		json_object_object_get_ex(o, "megaflows", &a);
		json_object_object_get_ex(o, "id", &id);
		n = a ? json_object_array_length(a) : 0;
		printf("worker %s: %zu megaflow%s\n", id ? json_object_get_string(id) : "?", n, n == 1 ? "" : "s");
		for (size_t k = 0; k < n; k++)
			printf(" %s\n", json_object_get_string(json_object_array_get_idx(a, k)));
	}
}

/* ---- trace ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The IPv4 header checksum of the 20 bytes at @ip. */
static uint16_t ip4_csum(const uint8_t *ip)
{
	uint32_t s = 0;

	for (unsigned i = 0; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The L4 header bytes of @proto the trace frame carries. */
static unsigned l4_bytes(uint8_t proto)
{
	return proto == 6 ? 20 : proto == 17 || proto == 1 || proto == 58 ? 8 : 0;
}

static void put_l4(uint8_t *l4, const struct flow_key *k)
{
	if (k->nw_proto == 1 || k->nw_proto == 58) {
		l4[0] = (uint8_t)ntohs(k->tp_src);
		l4[1] = (uint8_t)ntohs(k->tp_dst);
		return;
	}
	memcpy(l4, &k->tp_src, 2);
	memcpy(l4 + 2, &k->tp_dst, 2);
	if (k->nw_proto == 6) {
		uint16_t flags = ntohs(k->tcp_flags);

		l4[12] = (uint8_t)(0x50 | (flags >> 8 & 0x0f));	/* data offset 5; NS and the reserved bits */
		l4[13] = (uint8_t)flags;
	} else if (k->nw_proto == 17)
		put16(l4 + 4, 8);
}

/* A frame with the header values of @k (what a trace's match gave), into @f (128 bytes); its length. */
static size_t trace_frame(const struct flow_key *k, uint8_t *f)
{
	uint16_t tci = ntohs(k->vlan_tci), type = ntohs(k->dl_type);
	size_t o = 12;

	memset(f, 0, 128);
	memcpy(f, k->dl_dst, 6);
	memcpy(f + 6, k->dl_src, 6);
	/*
	 * A tag when the TCI says one (the present bit), or gives a VID or a
	 * priority: `vlan_tci=20`, as Open vSwitch's tutorial traces a frame
	 * of VLAN 20 (ofproto/trace keeps such a TCI as given; a frame has the
	 * tag or not).
	 */
	if (tci & (FLOW_TCI_PRESENT | FLOW_TCI_VID | FLOW_TCI_PCP)) {
		put16(f + o, 0x8100);
		put16(f + o + 2, tci & (uint16_t)~FLOW_TCI_PRESENT);
		o += 4;
	}
	put16(f + o, type);
	o += 2;
	if (type == 0x0800) {
		uint8_t *ip = f + o;
		unsigned l4 = l4_bytes(k->nw_proto);

		ip[0] = 0x45;
		ip[1] = k->nw_tos;
		put16(ip + 2, (uint16_t)(20 + l4));
		ip[8] = k->nw_ttl ? k->nw_ttl : 64;
		ip[9] = k->nw_proto;
		memcpy(ip + 12, &k->nw_src, 4);
		memcpy(ip + 16, &k->nw_dst, 4);
		put16(ip + 10, ip4_csum(ip));
		put_l4(ip + 20, k);
		o += 20 + l4;
	} else if (type == 0x86dd) {
		uint8_t *ip = f + o;
		unsigned l4 = l4_bytes(k->nw_proto);

		ip[0] = (uint8_t)(0x60 | k->nw_tos >> 4);
		ip[1] = (uint8_t)(k->nw_tos << 4);
		put16(ip + 4, (uint16_t)l4);
		ip[6] = k->nw_proto;
		ip[7] = k->nw_ttl ? k->nw_ttl : 64;
		memcpy(ip + 8, k->ipv6_src, 16);
		memcpy(ip + 24, k->ipv6_dst, 16);
		put_l4(ip + 40, k);
		o += 40 + l4;
	} else if (type == 0x0806) {
		uint8_t *a = f + o;

		put16(a, 1);
		put16(a + 2, 0x0800);
		a[4] = 6;
		a[5] = 4;
		put16(a + 6, k->nw_proto);
		memcpy(a + 8, k->arp_sha, 6);
		memcpy(a + 14, &k->nw_src, 4);
		memcpy(a + 18, k->arp_tha, 6);
		memcpy(a + 24, &k->nw_dst, 4);
		o += 28;
	}
	return o < 60 ? 60 : o;
}

struct trace_ctx {
	struct vswd *v;
	char *buf;
	size_t len, used;
};

static const char *const miss_words[] = { "drop", "continue in the next table", "normal" };

static void trace_table(void *arg, unsigned table, const struct flow_rule *rule, const struct flow_key *k)
{
	struct trace_ctx *t = arg;
	struct flow_names names = vswd_names(t->v);
	struct flow_mod mod;
	char buf[8192];

	(void)k;
	if (!rule) {
		const struct flow_tables *ft = flow_db_tables(t->v->flows);

		strbuf_addf(t->buf, t->len, &t->used, "%2u. No match: the table's miss: %s.\n", table,
			    miss_words[ft->miss[table] < 3 ? ft->miss[table] : 0]);
		return;
	}
	flow_rule_to_mod(rule, &mod);
	flow_format_match(&rule->match, &names, buf, sizeof(buf));
	strbuf_addf(t->buf, t->len, &t->used, "%2u. %s, priority %u, cookie %#" PRIx64 "\n", table, buf[0] ? buf : "(any)",
		    rule->priority, rule->cookie);
	flow_format_actions(rule->actions, &names, buf, sizeof(buf));
	strbuf_addf(t->buf, t->len, &t->used, "    actions=%s\n", buf);
}

/* A learn action the trace reaches: the rule it would add or refresh (not applied: a trace changes nothing). */
static void trace_learn(void *arg, const struct flow_act *a, const struct flow_key *k)
{
	struct trace_ctx *t = arg;
	struct flow_names names = vswd_names(t->v);
	struct flow_mod mod;
	char buf[8192];

	if (flow_learn_build(a, k, &mod) < 0) {
		strbuf_addf(t->buf, t->len, &t->used, "    learn: out of memory\n");
		return;
	}
	flow_format_match(&mod.match, &names, buf, sizeof(buf));
	strbuf_addf(t->buf, t->len, &t->used, "    learn: -> table=%u %s%spriority=%u", mod.table, buf, buf[0] ? " " : "",
		    mod.priority);
	flow_format_actions(mod.actions, &names, buf, sizeof(buf));
	strbuf_addf(t->buf, t->len, &t->used, " actions=%s (not applied: a trace learns nothing)\n", buf);
	free(mod.actions);
}

/* The fields of @b that differ from @a, as a match text ("" when none). */
static void key_diff(const struct flow_key *a, const struct flow_key *b, const struct flow_names *names, char *buf,
		     size_t len)
{
	struct flow_match m;

	memset(&m, 0, sizeof(m));
	for (unsigned i = 0; i < FF__COUNT; i++) {
		const struct flow_field *f = &flow_fields[i];

		if (f->len && memcmp(a->b + f->ofs, b->b + f->ofs, f->len)) {
			memset(m.mask.b + f->ofs, 0xff, f->len);
			memcpy(m.value.b + f->ofs, b->b + f->ofs, f->len);
		}
	}
	flow_format_match(&m, names, buf, len);
}

/* Whether slot @port has a port; a name without one is absent (its slot kept for it), a number without one no port. */
static bool trace_port_live(struct vswd *v, unsigned port)
{
	return port < PORT_MAX && atomic_load(&v->sw->ports[port]);
}

struct json_object *ctl_trace(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	struct flow_names names = vswd_names(v);
	const struct flow_tables *ft = flow_db_tables(v->flows);
	struct trace_ctx t = { v, NULL, TRACE_MAX, 0 };
	struct flow_exec *x;
	struct flow_mod mod;
	struct flow_key key, key0;
	struct flow_pkt fp;
	uint8_t frame[128 + 64], buf[FLOW_HDR_MAX + 64];
	char err[FLOW_ERR_MAX], text[8192];
	struct json_object *r;
	size_t len;

	(void)peer;
	if (flow_parse(req_str(req, "flow"), FLOW_CMD_DELETE, &names, &mod, err, sizeof(err)) < 0)
		return ctl_reply_error(err);
	x = malloc(sizeof(*x));
	t.buf = malloc(TRACE_MAX);
	if (!x || !t.buf) {
		free(x);
		free(t.buf);
		return ctl_reply_error("out of memory");
	}
	t.buf[0] = '\0';
	/* The frame the match describes, and its key as the data path would extract it, with the metadata given. */
	len = trace_frame(&mod.match.value, frame);
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 64, frame, len);
	fp = (struct flow_pkt){ .buf = buf, .cap = sizeof(buf), .head = 64, .len = (uint16_t)len, .frame_len = (uint32_t)len };
	flow_key_extract(&key, buf + 64, len, len, ntohs(mod.match.value.in_port), &fp.ofs);
	memcpy(&key.tun_id, &mod.match.value.tun_id, sizeof(key) - offsetof(struct flow_key, tun_id));
	key0 = key;
	flow_format_match(&(struct flow_match){ .value = key, .mask = mod.match.mask }, &names, text, sizeof(text));
	strbuf_addf(t.buf, t.len, &t.used, "Flow: %s\n", text);
	if (mod.match.mask.in_port && !trace_port_live(v, ntohs(mod.match.value.in_port))) {
		const char *pn = names_port_name(v, ntohs(mod.match.value.in_port));

		/* in_port=9 or a deleted port's name: the rules still run, as the user asked, but say so (`show`'s word) */
		if (pn)
			strbuf_addf(t.buf, t.len, &t.used, "(in_port %s is absent: no frame comes in from it)\n", pn);
		else
			strbuf_addf(t.buf, t.len, &t.used, "(in_port %u: no such port: no frame comes in from it)\n",
				    ntohs(mod.match.value.in_port));
	}
	strbuf_addf(t.buf, t.len, &t.used, "\nbridge(\"vsw\")\n-------------\n");
	if (!flow_db_count(v->flows, FLOW_TABLE_ANY)) {
		strbuf_addf(t.buf, t.len, &t.used, "No flow rule: the learning bridge (normal) for every frame.\n\n"
						   "Datapath actions: normal\n");
		goto out_reply;
	}
	flow_exec_init(x);
	x->trace = trace_table;
	x->trace_arg = &t;
	x->learn = trace_learn;
	x->learn_arg = &t;
	flow_exec_begin(x, ft, flows_clock_ms(v->sw));
	flow_exec_run(x, &fp, &key, 0, flow_tables_lookup(ft, 0, &key));
	/* no flow_exec_end(): a trace counts on no rule */
	key_diff(&key0, &key, &names, text, sizeof(text));
	strbuf_addf(t.buf, t.len, &t.used, "\nFinal flow: %s\n", text[0] ? text : "unchanged");
	strbuf_addf(t.buf, t.len, &t.used, "Datapath actions: ");
	for (unsigned i = 0; i < x->n_out; i++) {
		const struct flow_out *o = &x->out[i];
		const char *pn = o->kind == FLOW_OUT_PORT ? names_port_name(v, o->port) : NULL;

		strbuf_addf(t.buf, t.len, &t.used, "%s", i ? "," : "");
		if (o->tun_dst || o->tun6) {
			/* The tunnel a remote=flow port sends it in, as ofproto/trace's set(tunnel(...)); IPv4 first, as the port */
			char ip[INET6_ADDRSTRLEN];

			if (o->tun_dst)
				inet_ntop(AF_INET, &o->tun_dst, ip, sizeof(ip));
			else
				inet_ntop(AF_INET6, x->tun6_dst[o->tun6 - 1], ip, sizeof(ip));
			strbuf_addf(t.buf, t.len, &t.used, "set(tunnel(tun_id=0x%" PRIx64 ",%s=%s)),", be64toh(o->tun_id),
				    o->tun_dst ? "dst" : "ipv6_dst", ip);
		}
		if (o->kind == FLOW_OUT_NORMAL)
			strbuf_addf(t.buf, t.len, &t.used, "normal");
		else if (o->kind == FLOW_OUT_FLOOD)
			strbuf_addf(t.buf, t.len, &t.used, "flood");
		else if (o->kind == FLOW_OUT_ALL)
			strbuf_addf(t.buf, t.len, &t.used, "all");
		else if (pn)
			strbuf_addf(t.buf, t.len, &t.used, "output:%s", pn);
		else
			strbuf_addf(t.buf, t.len, &t.used, "output:%u", o->port);
		if (o->kind == FLOW_OUT_PORT && !trace_port_live(v, o->port))
			strbuf_addf(t.buf, t.len, &t.used, " (%s: a no_destination drop)", pn ? "absent" : "no such port");
		if (o->snap != FLOW_SNAP_LIVE)
			strbuf_addf(t.buf, t.len, &t.used, "(headers before the later rewrites)");
	}
	strbuf_addf(t.buf, t.len, &t.used, "%s\n", x->n_out ? "" : "drop");
out_reply:
	r = ctl_reply_ok();
	json_object_object_add(r, "trace", json_object_new_string(t.buf));
	free(t.buf);
	free(x);
	return r;
}

void ctl_trace_print(struct json_object *reply)
{
	fputs(ctl_reply_str(reply, "trace"), stdout);
}
