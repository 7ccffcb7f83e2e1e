/* ctl_capture.c - the `capture` commands: a port's frames into a pcap file (port/capture.h), started and stopped. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "ctl/commands.h"
#include "ctl/daemon.h"
#include "ctl/handlers.h"
#include "lib/json_param.h"
#include "lib/log.h"
#include "port/capture.h"


/* The port called @name, or NULL with "no port NAME" in @err. */
static struct port *port_named(struct vswd *v, const char *name, char *err, size_t errlen)
{
	int slot = vswd_port_slot(v, name);

	if (slot < 0) {
		snprintf(err, errlen, "no port %.64s", name);
		return NULL;
	}
	return atomic_load(&v->sw->ports[slot]);
}

/*
 * {"cmd":"capture-start", "port":P, "file":F, "dir":"rx"|"tx"|"both", "count":N, "filter":BPF}
 * (the table in commands.c checked the keys and types).  With a file
 * passed along (SCM_RIGHTS, what vswctl does) F only names it; without,
 * vswd creates F itself, a new file only, and only for a privileged peer
 * (port/capture.h: capture_file_create).
 */
static int capture_start(struct vswd *v, struct json_object *req, struct ctl_peer *peer, char *err, size_t errlen)
{
	const char *name = json_param_str(req, "port"), *dir = json_param_str(req, "dir");
	struct capture_config cc = { .path = json_param_str(req, "file"), .filter = json_param_str(req, "filter"),
				     .dir = CAPTURE_BOTH, .use_fd = peer->fd >= 0, .fd = peer->fd };
	struct port *p = port_named(v, name, err, errlen);
	unsigned count = 0;
	struct capture *c;

	if (!p)
		return -1;
	if (atomic_load(&p->capture)) {
		snprintf(err, errlen, "port %s is already capturing", name);
		return -1;
	}
	if (dir && strcmp(dir, "rx") == 0)
		cc.dir = CAPTURE_RX;
	else if (dir && strcmp(dir, "tx") == 0)
		cc.dir = CAPTURE_TX;
	if (json_param_uint(req, "count", 0, UINT32_MAX, 0, &count, err, errlen) < 0)
		return -1;
	if (!cc.use_fd && !peer->privileged) {
		snprintf(err, errlen, "only root or vswd's own user may name a file for vswd to create: pass an open "
				      "file (vswctl capture -w does)");
		return -1;
	}
	cc.count = count;
	c = capture_open(&cc, err, errlen);
	if (!c)
		return -1;
	if (cc.use_fd)
		peer->fd = -1; /* the capture's now */
	/* Release: the capture's filter and file before the pointer (pairs with the hooks' acquire). */
	atomic_store_explicit(&p->capture, c, memory_order_release);
	log_info("port %s: capturing %s into %s%s", name, cc.dir == CAPTURE_BOTH ? "rx and tx" : dir,
		 cc.path ? cc.path : "a file", cc.use_fd ? " (opened by the client)" : "");
	return 0;
}

struct json_object *ctl_capture_start(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	char err[256] = "";

	return capture_start(v, req, peer, err, sizeof(err)) < 0 ? ctl_reply_error(err) : ctl_reply_ok();
}

/*
 * {"cmd":"capture-stop", "port":P, "if_done":false}: stop, close the file,
 * report the counts.  With "if_done":true only a capture that reached its
 * count is stopped; otherwise the reply is its progress ("stopped":false).
 */
struct json_object *ctl_capture_stop(struct vswd *v, struct json_object *req, struct ctl_peer *peer)
{
	const char *name = json_param_str(req, "port");
	struct json_object *r, *f = NULL;
	struct capture_stats st;
	char err[256];
	struct capture *c;
	struct port *p = port_named(v, name, err, sizeof(err));
	bool stopped = true;

	if (!p)
		return ctl_reply_error(err);
	c = atomic_load(&p->capture);
	if (!c) {
		snprintf(err, sizeof(err), "port %s is not capturing", name);
		return ctl_reply_error(err);
	}
	if (json_object_object_get_ex(req, "if_done", &f) && json_object_get_boolean(f) && !capture_done(c)) {
		capture_get_stats(c, &st);
		r = ctl_reply_ok();
		stopped = false;
	} else {
		atomic_store(&p->capture, NULL);
		dp_sync(&v->dp); /* no worker holds c any more */
		r = capture_close(c, &st, err, sizeof(err)) < 0 ? ctl_reply_error(err) : ctl_reply_ok();
		log_info("port %s: capture stopped, %llu frames written, %llu dropped", name,
			 (unsigned long long)st.captured, (unsigned long long)st.dropped);
	}
	json_object_object_add(r, "stopped", json_object_new_boolean(stopped));
	json_object_object_add(r, "captured", json_object_new_int64((int64_t)st.captured));
	json_object_object_add(r, "dropped", json_object_new_int64((int64_t)st.dropped));
	return r;
}

/* A port going away ends its capture; no worker may hold the port any more. */
void ctl_capture_end_with_port(struct port *p)
{
	struct capture *c = atomic_exchange(&p->capture, NULL);
	struct capture_stats st;
	char err[256];

	if (!c)
		return;
	if (capture_close(c, &st, err, sizeof(err)) < 0)
		log_warn("port %s: %s", p->name, err);
	log_info("port %s: capture ended with the port, %llu frames written", p->name, (unsigned long long)st.captured);
}
