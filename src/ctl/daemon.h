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

#include <signal.h>
#include <stdbool.h>

#include "ctl/evloop.h"
#include "dp/dp.h"
#include "port/port.h"
#include "switch/switch.h"

#define VSWD_DEFAULT_CTL "/run/vsw/vswd.sock"
#define CTL_CONN_MAX 32
#define CTL_REQUEST_MAX 65536

struct json_object;

struct vswd_config {
	unsigned workers;
	int cpus[DP_WORKERS_MAX];	/* -1: not pinned */
	bool busy_poll;
	enum switch_mode mode;
	unsigned aging_s;
};

struct ctl_conn;

struct vswd {
	struct vswd_config cfg;
	struct evloop loop;
	struct vswitch *sw;
	struct dp dp;
	bool dp_started;
	char ctl_path[108];
	int ctl_fd, timer_fd, signal_fd;
	struct ev_handler ctl_h, timer_h, signal_h;
	struct ctl_conn *conns[CTL_CONN_MAX];
	struct port *graveyard[PORT_MAX];	/* deleted ports, freed after the current event batch */
	unsigned ngrave;
	bool stop;
	unsigned uptime_s;
};

/* Defaults: one worker, event-driven, learning, 300 s aging. */
void vswd_config_default(struct vswd_config *c);

/* Read the "workers", "cpus", "busy_poll", "mode", "aging" keys of a config object. 0 or -1 with @err. */
int vswd_config_from_json(struct vswd_config *c, struct json_object *o, char *err, size_t errlen);

/* Start the switch, the workers and the control socket. 0 or -1 with @err. */
int vswd_start(struct vswd *v, const struct vswd_config *c, const char *ctl_path, char *err, size_t errlen);

/* Add the ports of a config object's "ports" array. 0 or -1 with @err. */
int vswd_add_config_ports(struct vswd *v, struct json_object *o, char *err, size_t errlen);

/* Handle one control request; returns the response object (caller puts it). */
struct json_object *vswd_handle_request(struct vswd *v, struct json_object *req);

/* Run until SIGINT/SIGTERM or v->stop. */
void vswd_run(struct vswd *v);

/* Stop workers, destroy ports, remove the control socket. */
void vswd_shutdown(struct vswd *v);

#endif
