/* daemon.h - vswd: the switch, its workers, its ports and the control socket, run by one control thread. */
#ifndef VSW_CTL_DAEMON_H
#define VSW_CTL_DAEMON_H

/*
 *   control thread (evloop)                      worker threads (dp)
 *   ----------------------------------------     -------------------------
 *   control socket: JSON requests from vswctl    poll port queues, forward
 *   vhost-user sockets: sessions with QEMU/DPDK  through the switch
 *   timer, 1/s: clock, FDB aging, port ticks
 *   signals: SIGINT/SIGTERM end the loop
 */

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "dp/dp.h"
#include "lib/evloop.h"
#include "lib/unix_sock.h"
#include "port/port.h"
#include "switch/switch.h"

#define VSWD_DEFAULT_CTL "/run/vsw/vswd.sock"
#define CTL_CONN_MAX 32
#define CTL_REQUEST_MAX 65536
#define CTL_IDLE_S 10		/* a control connection with no request and no reply progress for this long is closed */
#define CTL_GROUP_MAX 64
#define VSWD_GRAVE_MAX 64	/* deleted ports awaiting destruction (see graveyard) */
#define FDB_SHOW_DEFAULT 65536	/* fdb-show's entries unless "limit" says otherwise (~5 MB of JSON) */
#define FDB_SHOW_MAX 262144	/* and the most it sends (~20 MB, under ctl_sock.c's CTL_REPLY_MAX) */

struct json_object;
struct flow_db;

struct vswd_config {
	unsigned workers;
	int cpus[DP_WORKERS_MAX];	/* -1: not pinned */
	bool busy_poll;
	bool perf;			/* data path stage timing (dp/perf.h); default on, `vswctl perf enable|disable` */
	unsigned perf_every;		/* stages timed in one batch poll of this many (a power of two) */
	enum switch_mode mode;
	unsigned aging_s;
	unsigned flood_budget;		/* flood copies a worker, and a polled queue, may make at once (switch.h, dp/dp.h); 0: no limit */
	unsigned fdb_size;		/* MACs the FDB is sized for (fdb.h), allocated at start */
	char ctl_group[CTL_GROUP_MAX];	/* "": only root and vswd's user may use the control socket */
	char flows_path[PATH_MAX];	/* "": flows are not saved; else loaded at start, rewritten on every change */
	char state_dir[PATH_MAX];	/* "": nothing saved; else DIR/state.json, restored at start, rewritten on every change (state.c) */
};

/*
 * Who sent a control request (SO_PEERCRED of its connection), and the file
 * it passed along (SCM_RIGHTS), if any.  A privileged peer is root or
 * vswd's own user: it may name files for vswd to open.  A member of the
 * control group is not: it passes open files instead (vswctl capture -w).
 * A config file is privileged.
 */
struct ctl_peer {
	uid_t uid;
	gid_t gid;
	bool privileged;
	int fd;		/* -1, or a passed fd; a handler that keeps it sets -1 */
};

struct ctl_conn;
struct port_env;
typedef struct port *(*port_create_hook_fn)(const char *name, const char *type, struct json_object *params,
					      const struct port_env *env, char *err, size_t errlen);

struct vswd {
	struct vswd_config cfg;
	struct evloop loop;
	struct vswitch *sw;
	struct dp dp;
	bool dp_started;
	char ctl_path[108];
	struct unix_sock_id ctl_id;	/* the socket bound at ctl_path: the only one shutdown unlinks */
	bool has_ctl_gid;
	gid_t ctl_gid;
	int ctl_fd, timer_fd, signal_fd;
	struct ev_handler ctl_h, timer_h, signal_h;
	/*
	 * learn (ctl_flows.c): a timer that takes the workers' learn
	 * requests while a rule learns (learn_armed: its period in ms, 0 off;
	 * VSWD_LEARN_MS, or VSWD_LEARN_IDLE_MS after learn_idle ticks that
	 * found none), the generation of the last edit not a learn's
	 * (requests from older versions are not applied), the counts of
	 * what the requests did, and when a failure was last logged.
	 */
	int learn_fd;
	struct ev_handler learn_h;
	unsigned learn_armed, learn_idle, learn_logged_s;
	uint64_t learn_edit_gen;
	uint64_t learn_added, learn_refreshed, learn_failed, learn_stale, learn_full;
	struct ctl_conn *conns[CTL_CONN_MAX];
	bool conns_deferred;		/* a connection has requests waiting for room in the graveyard */
	/*
	 * Deleted ports, freed after the current event batch.  Full, the
	 * connections stop taking requests until the next batch has freed it.
	 */
	struct port *graveyard[VSWD_GRAVE_MAX];
	unsigned ngrave;
	unsigned refused_peers;		/* connections refused by the peer check, for the rate-limited log */
	double refused_logged_s;
	bool stop;
	bool reload;			/* SIGHUP came: vswd's main loop reads the config again (ctl/reload.h) */
	unsigned uptime_s;
	struct flow_db *flows;		/* the flow tables (ctl_flows.c); published to the workers as sw->flows */
	/* Per slot, the port-add request of a port added at run time, as given (state.c saves them); NULL: none or the config's. */
	struct json_object *state_ports[PORT_MAX];
	/*
	 * Per slot, the name it is kept for: its port's, or a deleted port's
	 * (or, loading flows, a port's not added yet) that flows may still
	 * name; "" for a slot never named.  ctl_ports.c, "Slots and names".
	 */
	char slot_names[PORT_MAX][PORT_NAME_MAX];
	bool state_restoring;		/* state.c is applying the saved state: no save until it is done */
	/*
	 * state.c: the state file read and checked by vswd_state_load() (its
	 * numbers already given back) for vswd_state_restore() to apply; NULL
	 * with state_loaded: none, or refused (state_refused).  While
	 * state_loaded, nothing is saved (the flows file's load commits).
	 */
	struct json_object *state_file;
	bool state_loaded, state_refused;
	/* Tests and fuzzers: called instead of a type's constructor, after the parameters were checked. */
	port_create_hook_fn create_hook;
};

/* Defaults: one worker, event-driven, stage timing on, learning, 300 s aging, an FDB for 256K MACs, a flood budget of 4096. */
void vswd_config_default(struct vswd_config *c);

/*
 * Read the "workers", "cpus", "busy_poll", "perf", "perf_every", "mode", "aging",
 * "fdb_size", "flood_budget", "ctl_group", "flows" keys of a config object ("ports" is read by vswd_add_config_ports); any
 * other key is refused.  0 or -1 with @err.
 */
int vswd_config_from_json(struct vswd_config *c, struct json_object *o, char *err, size_t errlen);

/*
 * The switch and the event loop, no workers, no sockets: enough for
 * vswd_handle_request() and vswd_add_config_ports() (unit tests, fuzzers).
 * 0 or -1 with @err.
 */
int vswd_init(struct vswd *v, const struct vswd_config *c, char *err, size_t errlen);

/* vswd_init, then the workers, the timer, the signals and the control socket. 0 or -1 with @err. */
int vswd_start(struct vswd *v, const struct vswd_config *c, const char *ctl_path, char *err, size_t errlen);

/* Add the ports of a config object's "ports" array (ctl_ports.c). 0 or -1 with @err. */
int vswd_add_config_ports(struct vswd *v, struct json_object *o, char *err, size_t errlen);

/* ctl_flows.c: the flow db (vswd_init), the rules of cfg.flows_path (after the config's ports), timeouts (the tick). 0 or -1 with @err. */
int vswd_flows_init(struct vswd *v, char *err, size_t errlen);
/* The learn timer's work: apply what the workers' learn actions queued (dp/flows.h), publish once. */
void vswd_flows_learn(struct vswd *v);
/* Arm the learn timer while a rule learns, disarm it otherwise (after each change of the rules). */
void vswd_flows_learn_timer(struct vswd *v);
#define VSWD_LEARN_MS 2
#define VSWD_LEARN_IDLE_MS 20
#define VSWD_LEARN_IDLE_TICKS 100
int vswd_flows_load(struct vswd *v, char *err, size_t errlen);
void vswd_flows_tick(struct vswd *v);
void vswd_flows_destroy(struct vswd *v);

/*
 * state.c: the run-time configuration (ports added by request, flows)
 * saved to cfg.state_dir/state.json on every change, restored at start.
 * vswd_state_changed: save now (nothing without a state dir, nor from
 * vswd_state_load until vswd_state_restore is done: the file on disk is
 * the one loaded until what it holds is in force); 0 or -1 with @err
 * ("in force, but not saved").
 * vswd_state_restore: after the config's ports; a file that does not
 * check is moved aside whole and nothing of it is applied; a port or the
 * flows that fail to apply are each logged, the rest applied, and the
 * file kept as state.json.unapplied-TIME.  Returns the failures counted
 * (0: all applied or nothing to apply), or -1 with @err when the file was
 * refused (moved aside, see the log).
 */
int vswd_state_changed(struct vswd *v, char *err, size_t errlen);
int vswd_state_restore(struct vswd *v, char *err, size_t errlen);
/*
 * The first half of vswd_state_restore(), before any port is added (the
 * config's included): read and check the file (a refused one is moved
 * aside then, as above), and give each name the port number the file
 * recorded for it ("ofports"), so that every port and kept name gets its
 * number back whatever order they come in.  An entry that cannot be
 * given (past PORT_MAX, its number or its name already taken) is logged
 * and left out.  0 (also: no file), or -1 with @err when refused.
 * vswd_state_restore() calls it when it was not called.
 */
int vswd_state_load(struct vswd *v, char *err, size_t errlen);
/* Record @req (copied, without "cmd") as the run-time request of the port in @slot; NULL forgets it. */
void vswd_state_port_set(struct vswd *v, unsigned slot, struct json_object *req);

/* ctl_flows.c for state.c: every rule as a flow line (a new array, NULL: out of memory); replace the rules with @lines, all or nothing. */
struct json_object *vswd_flows_lines(struct vswd *v);
int vswd_flows_restore(struct vswd *v, struct json_object *lines, const char *what, char *err, size_t errlen);
/*
 * ctl_flows.c: the flow tables as `ovs-ofctl dump-tables` counts them
 * (`stats` "tables", `flow dump-tables`): tables 0 to the last that has
 * rules, lookups, matched packets or a miss behaviour other than drop,
 * each with its rules ("flows", a gauge), its miss behaviour, its misses
 * (the workers' executors', summed: struct flow_table_counts), the
 * packets and bytes its rules matched, deleted rules' included
 * (flow_db_table_stats()), and its lookups: matched packets + misses.
 */
struct json_object *vswd_flow_tables_json(struct vswd *v);

/* The slot of the port called @name, or -1 (ctl_ports.c). */
int vswd_port_slot(struct vswd *v, const char *name);

/* ctl_ports.c: @name is a valid port name (1 to PORT_NAME_MAX - 1 letters, digits, '-', '_', '.'). */
bool vswd_port_name_valid(const char *name);

/*
 * ctl_ports.c, for the flows: the slot kept for @name, its port's or a
 * deleted port's; with @keep, a name no slot has gets one kept for it
 * (flows loaded from vswd's own files, naming a port not added yet).
 * -1: none.
 */
int vswd_port_slot_kept(struct vswd *v, const char *name, bool keep);

/* ctl_flows.c, for ctl_ports.c (`show`): into @rules (PORT_MAX of them), how many rules name each slot; 0, or -ENOMEM. */
int vswd_flows_count_named(struct vswd *v, unsigned *rules);

/*
 * ctl_ports.c, for `show` and state.c: when some slot is kept for a name
 * without a port, how many rules name each slot, into *@rules (PORT_MAX
 * counts, the caller frees them); else *@rules NULL (no pass over the
 * rules).  0, or -ENOMEM (*@rules NULL).
 */
int vswd_kept_rule_counts(struct vswd *v, unsigned **rules);

/*
 * ctl_flows.c, for ctl_ports.c: forget the names kept for slots with no
 * port that no rule names; how many.  None at start (state loaded, not
 * restored yet): the rules that name them are not loaded.
 */
unsigned vswd_flows_forget_unnamed(struct vswd *v);

/*
 * Handle one control request from @peer; returns the response object
 * (caller puts it).  The request is checked against its command's row of
 * the table first (commands.c: keys, types, ranges, lengths), then handed
 * to the row's handler.
 */
struct json_object *vswd_handle_request(struct vswd *v, struct json_object *req, struct ctl_peer *peer);

/* Destroy the ports deleted so far (no event of the current batch may name them any more). */
void vswd_free_graveyard(struct vswd *v);

/* Control socket (ctl_sock.c): listen on @path, mode 0600 or 0660 with the group. 0 or -1 with @err. */
int ctl_sock_listen(struct vswd *v, const char *path, char *err, size_t errlen);
/* Once a second: close idle connections. */
void ctl_sock_tick(struct vswd *v);
/* Give deferred connections their turn (after the graveyard was freed). */
void ctl_sock_resume(struct vswd *v);
/* Close every connection and the socket, unlink it if it is still ours. */
void ctl_sock_close(struct vswd *v);

/* One batch of events (waiting up to @timeout_ms), then free the deleted ports and resume deferred clients. */
void vswd_run_once(struct vswd *v, int timeout_ms);

/* Run until SIGINT/SIGTERM or v->stop. */
void vswd_run(struct vswd *v);

/* Stop workers, destroy ports, remove the control socket. */
void vswd_shutdown(struct vswd *v);

#endif
