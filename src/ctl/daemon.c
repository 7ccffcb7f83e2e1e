/* daemon.c - vswd's control thread: the configuration, the event loop, the once-a-second tick, start and stop. */
#include "ctl/daemon.h"

#include <errno.h>
#include <grp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ctl/handlers.h"
#include "lib/json_param.h"
#include "lib/log.h"

void vswd_config_default(struct vswd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 1;
	c->perf = DP_PERF_DEFAULT;
	c->perf_every = DP_PERF_EVERY_DEFAULT;
	for (unsigned i = 0; i < DP_WORKERS_MAX; i++)
		c->cpus[i] = -1;
	c->mode = SWITCH_LEARNING;
	c->aging_s = FDB_DEFAULT_AGING_S;
	c->fdb_size = FDB_DEFAULT_SIZE;
	c->flood_budget = SWITCH_DEFAULT_FLOOD_BUDGET;
}

/* ---- small JSON helpers; every field is checked for type and range ---- */

/* Config keys are read with the same checked helpers as port parameters (lib/json_param.h). */
static int json_get_uint(struct json_object *o, const char *key, unsigned lo, unsigned hi, unsigned *out,
			 char *err, size_t errlen)
{
	return json_param_uint(o, key, lo, hi, *out, out, err, errlen);
}

static const char *json_get_str(struct json_object *o, const char *key)
{
	return json_param_str(o, key);
}

int vswd_config_from_json(struct vswd_config *c, struct json_object *o, char *err, size_t errlen)
{
	static const char *const keys[] = { "workers", "cpus", "busy_poll", "perf", "perf_every", "mode", "aging",
					    "fdb_size", "flood_budget", "ctl_group", "flows", "state_dir", "ports", NULL };
	struct json_object *f;
	const char *mode;

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "configuration must be a JSON object");
		return -1;
	}
	if (json_check_keys(o, keys, "the configuration", err, errlen) < 0)
		return -1;
	if (json_object_object_get_ex(o, "ctl_group", &f)) {
		if (!json_object_is_type(f, json_type_string) || !json_object_get_string_len(f) ||
		    json_object_get_string_len(f) >= CTL_GROUP_MAX) {
			snprintf(err, errlen, "\"ctl_group\" must be a group name");
			return -1;
		}
		snprintf(c->ctl_group, sizeof(c->ctl_group), "%s", json_object_get_string(f));
	}
	if (json_object_object_get_ex(o, "flows", &f)) {
		if (!json_object_is_type(f, json_type_string) || !json_object_get_string_len(f) ||
		    json_object_get_string_len(f) >= (int)sizeof(c->flows_path)) {
			snprintf(err, errlen, "\"flows\" must be a file path");
			return -1;
		}
		snprintf(c->flows_path, sizeof(c->flows_path), "%s", json_object_get_string(f));
	}
	if (json_object_object_get_ex(o, "state_dir", &f)) {
		if (!json_object_is_type(f, json_type_string) || !json_object_get_string_len(f) ||
		    json_object_get_string_len(f) >= (int)sizeof(c->state_dir) - 32) {
			snprintf(err, errlen, "\"state_dir\" must be a directory path");
			return -1;
		}
		snprintf(c->state_dir, sizeof(c->state_dir), "%s", json_object_get_string(f));
	}
	if (json_get_uint(o, "workers", 1, DP_WORKERS_MAX, &c->workers, err, errlen) < 0 ||
	    json_get_uint(o, "aging", 1, 86400, &c->aging_s, err, errlen) < 0 ||
	    json_get_uint(o, "perf_every", 1, DP_PERF_EVERY_MAX, &c->perf_every, err, errlen) < 0 ||
	    json_get_uint(o, "fdb_size", FDB_SIZE_MIN, FDB_SIZE_MAX, &c->fdb_size, err, errlen) < 0 ||
	    json_get_uint(o, "flood_budget", 0, 1u << 24, &c->flood_budget, err, errlen) < 0)
		return -1;
	if (c->perf_every & (c->perf_every - 1)) {
		snprintf(err, errlen, "\"perf_every\" must be a power of two");
		return -1;
	}
	if (json_object_object_get_ex(o, "busy_poll", &f)) {
		if (!json_object_is_type(f, json_type_boolean)) {
			snprintf(err, errlen, "\"busy_poll\" must be true or false");
			return -1;
		}
		c->busy_poll = json_object_get_boolean(f);
	}
	if (json_object_object_get_ex(o, "perf", &f)) {
		if (!json_object_is_type(f, json_type_boolean)) {
			snprintf(err, errlen, "\"perf\" must be true or false");
			return -1;
		}
		c->perf = json_object_get_boolean(f);
	}
	mode = json_get_str(o, "mode");
	if (mode && strcmp(mode, "learning") == 0)
		c->mode = SWITCH_LEARNING;
	else if (mode && strcmp(mode, "hub") == 0)
		c->mode = SWITCH_HUB;
	else if (mode || json_object_object_get_ex(o, "mode", NULL)) {
		snprintf(err, errlen, "\"mode\" must be \"learning\" or \"hub\"");
		return -1;
	}
	if (json_object_object_get_ex(o, "cpus", &f)) {
		size_t n;

		if (!json_object_is_type(f, json_type_array) || (n = json_object_array_length(f)) > DP_WORKERS_MAX) {
			snprintf(err, errlen, "\"cpus\" must be an array of at most %d CPU numbers", DP_WORKERS_MAX);
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(f, i);

			if (!json_object_is_type(e, json_type_int) || json_object_get_int(e) < 0 ||
			    json_object_get_int(e) >= CPU_SETSIZE) {
				snprintf(err, errlen, "\"cpus\" entries must be CPU numbers");
				return -1;
			}
			c->cpus[i] = json_object_get_int(e);
		}
	}
	return 0;
}

/* ---- the control thread ---- */

static void on_timer(struct ev_handler *h, uint32_t events)
{
	struct vswd *v = (struct vswd *)((char *)h - offsetof(struct vswd, timer_h));
	uint64_t ticks;

	if (read(v->timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	v->uptime_s += (unsigned)ticks;
	atomic_store_explicit(&v->sw->now_s, v->uptime_s, memory_order_relaxed);
	fdb_age_tick(&v->sw->fdb, v->uptime_s); /* a slice of the table: see fdb.h, "Aging" */
	vswd_flows_tick(v); /* idle and hard timeouts */
	if (v->dp_started)
		dp_watchdog(&v->dp); /* before the ports' ticks, which close what it marks broken */
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);

		if (p && p->ops->tick)
			p->ops->tick(p);
	}
	ctl_sock_tick(v);
}

static void on_learn_timer(struct ev_handler *h, uint32_t events)
{
	struct vswd *v = (struct vswd *)((char *)h - offsetof(struct vswd, learn_h));
	uint64_t ticks;

	if (read(v->learn_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	vswd_flows_learn(v);
}

static void on_signal(struct ev_handler *h, uint32_t events)
{
	struct vswd *v = (struct vswd *)((char *)h - offsetof(struct vswd, signal_h));
	struct signalfd_siginfo si;

	if (read(v->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		v->reload = true; /* the main loop's, after this batch of events */
		return;
	}
	log_info("signal %u: shutting down", si.ssi_signo);
	v->stop = true;
}

int vswd_init(struct vswd *v, const struct vswd_config *c, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->cfg = *c;
	v->ctl_fd = v->timer_fd = v->signal_fd = v->learn_fd = -1;
	v->loop.epfd = -1;
	v->sw = malloc(sizeof(*v->sw));
	if (!v->sw || evloop_init(&v->loop) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (switch_init(v->sw, c->mode, c->aging_s, c->fdb_size) < 0) {
		snprintf(err, errlen, "cannot allocate an FDB for %u MACs", c->fdb_size);
		free(v->sw);
		v->sw = NULL;
		return -1;
	}
	v->sw->flood_budget = c->flood_budget;
	v->dp.sw = v->sw;
	if (vswd_flows_init(v, err, errlen) < 0)
		return -1;
	if (c->ctl_group[0]) {
		struct group gr, *res = NULL;
		char buf[4096];

		if (getgrnam_r(c->ctl_group, &gr, buf, sizeof(buf), &res) != 0 || !res) {
			snprintf(err, errlen, "control group %.64s: no such group", c->ctl_group);
			return -1;
		}
		v->has_ctl_gid = true;
		v->ctl_gid = gr.gr_gid;
	}
	return 0;
}

int vswd_start(struct vswd *v, const struct vswd_config *c, const char *ctl_path, char *err, size_t errlen)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	sigset_t mask;

	if (vswd_init(v, c, err, errlen) < 0)
		return -1;
	/* Before any thread starts, so that only the signalfd sees SIGINT/SIGTERM/SIGHUP. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if (dp_start(&v->dp, v->sw, c->workers, c->cpus, c->busy_poll) < 0) {
		snprintf(err, errlen, "cannot start %u workers", c->workers);
		return -1;
	}
	v->dp_started = true;
	dp_perf_set(&v->dp, c->perf);
	dp_perf_every(&v->dp, c->perf_every);	/* checked when the configuration was read */

	v->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	v->timer_h.fn = on_timer;
	if (v->timer_fd < 0 || timerfd_settime(v->timer_fd, 0, &its, NULL) < 0 ||
	    evloop_add(&v->loop, v->timer_fd, EPOLLIN, &v->timer_h) < 0) {
		snprintf(err, errlen, "timer: %s", strerror(errno));
		return -1;
	}
	/* learn's: armed while a rule learns (vswd_flows_learn_timer()) */
	v->learn_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	v->learn_h.fn = on_learn_timer;
	if (v->learn_fd < 0 || evloop_add(&v->loop, v->learn_fd, EPOLLIN, &v->learn_h) < 0) {
		snprintf(err, errlen, "learn timer: %s", strerror(errno));
		return -1;
	}
	vswd_flows_learn_timer(v);
	v->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	v->signal_h.fn = on_signal;
	if (v->signal_fd < 0 || evloop_add(&v->loop, v->signal_fd, EPOLLIN, &v->signal_h) < 0) {
		snprintf(err, errlen, "signals: %s", strerror(errno));
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return ctl_sock_listen(v, ctl_path, err, errlen);
}

void vswd_free_graveyard(struct vswd *v)
{
	while (v->ngrave) {
		struct port *p = v->graveyard[--v->ngrave];

		ctl_capture_end_with_port(p);
		p->ops->destroy(p);
	}
}

void vswd_run_once(struct vswd *v, int timeout_ms)
{
	/* Connections waiting for room in the graveyard: do not sleep, it is freed after this batch. */
	evloop_run_once(&v->loop, v->conns_deferred ? 0 : timeout_ms);
	vswd_free_graveyard(v);
	ctl_sock_resume(v);
}

void vswd_run(struct vswd *v)
{
	while (!v->stop)
		vswd_run_once(v, 1000);
}

void vswd_shutdown(struct vswd *v)
{
	for (unsigned i = 0; i < PORT_MAX && v->sw; i++) {
		struct port *p = atomic_load(&v->sw->ports[i]);

		if (p)
			switch_port_set(v->sw, i, NULL);
		if (p && v->dp_started)
			dp_rebuild_port(&v->dp, p);
		if (p) {
			ctl_capture_end_with_port(p);
			p->ops->destroy(p);
		}
		json_object_put(v->state_ports[i]);
		v->state_ports[i] = NULL;
	}
	json_object_put(v->state_file); /* loaded, never restored (vswd stopped between the two) */
	v->state_file = NULL;
	vswd_free_graveyard(v);
	if (v->dp_started)
		dp_stop(&v->dp);
	vswd_flows_destroy(v);
	ctl_sock_close(v);
	if (v->timer_fd >= 0)
		close(v->timer_fd);
	if (v->learn_fd >= 0)
		close(v->learn_fd);
	if (v->signal_fd >= 0)
		close(v->signal_fd);
	if (v->loop.epfd >= 0)
		close(v->loop.epfd);
	if (v->sw)
		switch_destroy(v->sw);
	free(v->sw);
	v->sw = NULL;
}
