/* ctl_sock.c - vswd's control socket: who may connect, one request line in, one reply line out, no client holds it. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/commands.h"
#include "ctl/daemon.h"
#include "lib/log.h"

/*
 * Who may connect: root, vswd's own user, and members of the control group
 * (--ctl-group / "ctl_group"; SO_PEERCRED's gid or SO_PEERGROUPS).  The
 * socket is created 0600 (0660 and the group with one) whatever the umask,
 * and every connection's peer is checked anyway, so a socket opened up by
 * hand does not open vswd.
 *
 * A connection: requests are lines of JSON, handled in order; a reply is
 * queued whole and written as the socket drains (a reply may be megabytes:
 * fdb-show), the next request waits for it.  A file may travel with a
 * request (SCM_RIGHTS, one per request): it belongs to the request whose
 * bytes it arrived with.  A connection with no request and no reply
 * progress for CTL_IDLE_S is closed; when every slot is taken, a
 * privileged peer (root, vswd's user) evicts the longest idle connection.
 */

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define CTL_REPLY_MAX (64u << 20)	/* more queued than this: the client is not reading, dropped */

struct ctl_conn {
	struct vswd *v;
	int fd;
	struct ev_handler h;
	uid_t uid;
	gid_t gid;
	bool privileged;
	bool deferred;		/* waiting for room in the graveyard (daemon.h) */
	bool eof;		/* the client sent everything: answer what is buffered, then close */
	uint32_t events;	/* what epoll watches now */
	double last_s;		/* last request bytes or reply progress (monotonic) */
	int passed_fd;		/* -1, or the fd that came with the bytes at buf[fd_off] */
	size_t fd_off;
	char *out;		/* queued reply bytes: out[out_off..out_len) still to send */
	size_t out_len, out_off;
	size_t len;
	char buf[CTL_REQUEST_MAX];
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void conn_close(struct ctl_conn *c)
{
	struct vswd *v = c->v;

	for (unsigned i = 0; i < CTL_CONN_MAX; i++)
		if (v->conns[i] == c)
			v->conns[i] = NULL;
	evloop_del(&v->loop, c->fd);
	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	free(c->out);
	free(c);
}

/* Watch for what the connection waits for: its reply to drain, room in the graveyard, or requests. */
static int conn_watch(struct ctl_conn *c)
{
	uint32_t want = c->out_off < c->out_len ? EPOLLOUT : c->deferred || c->eof ? 0 : EPOLLIN;

	if (want == c->events)
		return 0;
	c->events = want;
	return evloop_mod(&c->v->loop, c->fd, want, &c->h);
}

/* Send what the socket takes of the queued reply. 0, or -1 when the client is gone. */
static int conn_flush(struct ctl_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
		c->last_s = mono_s();
	}
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
	}
	return conn_watch(c) < 0 ? -1 : 0;
}

/* Queue @resp (consumed) and a newline, send what fits. 0, or -1 when the connection must close. */
static int conn_reply(struct ctl_conn *c, struct json_object *resp)
{
	const char *s = json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s);
	char *out;

	if (c->out_len - c->out_off + len + 1 > CTL_REPLY_MAX ||
	    !(out = realloc(c->out, c->out_len + len + 1))) {
		json_object_put(resp);
		return -1;
	}
	memcpy(out + c->out_len, s, len);
	out[c->out_len + len] = '\n';
	c->out = out;
	c->out_len += len + 1;
	json_object_put(resp);
	return conn_flush(c);
}

/* Best effort: one error line to a client about to be dropped. */
static void send_refusal(int fd, const char *msg)
{
	struct json_object *r = ctl_reply_error(msg);
	const char *s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);

	if (send(fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
		(void)!send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	json_object_put(r);
}

/*
 * Handle the complete lines in the buffer, in order, while no reply is
 * queued and the graveyard has room.  0, or -1 when @c was closed.
 */
static int conn_process(struct ctl_conn *c)
{
	struct vswd *v = c->v;
	char *nl;

	while (c->out_off == c->out_len && (nl = memchr(c->buf, '\n', c->len))) {
		size_t line = (size_t)(nl - c->buf);
		struct ctl_peer peer = { .uid = c->uid, .gid = c->gid, .privileged = c->privileged, .fd = -1 };
		struct json_tokener *tok;
		struct json_object *req, *resp;

		if (v->ngrave >= VSWD_GRAVE_MAX) {
			c->deferred = v->conns_deferred = true;
			return conn_watch(c) < 0 ? (conn_close(c), -1) : 0;
		}
		if (c->passed_fd >= 0 && c->fd_off <= line) {
			peer.fd = c->passed_fd;
			c->passed_fd = -1;
		}
		tok = json_tokener_new();
		req = tok ? json_tokener_parse_ex(tok, c->buf, (int)line) : NULL;
		if (!req || json_tokener_get_parse_end(tok) != line)
			resp = ctl_reply_error("request is not one JSON value on one line");
		else
			resp = v->stop ? ctl_reply_error("shutting down") : vswd_handle_request(v, req, &peer);
		json_object_put(req);
		if (tok)
			json_tokener_free(tok);
		if (peer.fd >= 0)
			close(peer.fd); /* passed with a request that did not keep it */
		memmove(c->buf, nl + 1, c->len - line - 1);
		c->len -= line + 1;
		if (c->passed_fd >= 0)
			c->fd_off -= line + 1;
		if (conn_reply(c, resp) < 0) {
			conn_close(c);
			return -1;
		}
	}
	if (c->len == sizeof(c->buf) && !memchr(c->buf, '\n', c->len)) {
		send_refusal(c->fd, "request longer than 64 KiB");
		conn_close(c);
		return -1;
	}
	if (c->eof && c->out_off == c->out_len) {
		conn_close(c); /* every complete request answered; a partial last line is dropped */
		return -1;
	}
	return conn_watch(c) < 0 ? (conn_close(c), -1) : 0;
}

/* Read request bytes and at most one passed fd per request. 0, or -1 when @c was closed. */
static int conn_read(struct ctl_conn *c)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = c->buf + c->len, .iov_len = sizeof(c->buf) - c->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf) };
	bool too_many = false;
	ssize_t n;

	if (iov.iov_len == 0)
		return 0; /* full of requests waiting their turn */
	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
		int fds[4];
		size_t nfds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(cm), nfds * sizeof(int));
		for (size_t i = 0; i < nfds; i++) {
			if (c->passed_fd < 0 && !too_many) {
				c->passed_fd = fds[i];
				c->fd_off = c->len;
			} else {
				close(fds[i]);
				too_many = true;
			}
		}
	}
	if (n < 0) {
		conn_close(c);
		return -1;
	}
	if (n == 0) {
		c->eof = true; /* the requests already in the buffer are still answered */
		return 0;
	}
	if (too_many || (mh.msg_flags & MSG_CTRUNC)) {
		send_refusal(c->fd, "at most one file per request");
		conn_close(c);
		return -1;
	}
	c->len += (size_t)n;
	c->last_s = mono_s();
	return 0;
}

static void conn_on_event(struct ev_handler *h, uint32_t events)
{
	struct ctl_conn *c = (struct ctl_conn *)((char *)h - offsetof(struct ctl_conn, h));

	if (c->out_off < c->out_len) {
		if (conn_flush(c) < 0) {
			conn_close(c);
			return;
		}
		if (c->out_off < c->out_len)
			return;
	} else if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && conn_read(c) < 0) {
		return;
	}
	conn_process(c);
}

/* Is the peer root, vswd's user or in the control group?  Fills @uid, @gid, @privileged. */
static bool peer_allowed(struct vswd *v, int fd, uid_t *uid, gid_t *gid, bool *privileged)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t groups[256], *g = groups;
	bool ok = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	*uid = cr.uid;
	*gid = cr.gid;
	*privileged = cr.uid == 0 || cr.uid == geteuid();
	if (*privileged)
		return true;
	if (!v->has_ctl_gid)
		return false;
	if (cr.gid == v->ctl_gid)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		if (errno != ERANGE || !(g = malloc(len)) || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0)
			goto out_free;
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !ok; i++)
		ok = g[i] == v->ctl_gid;
out_free:
	if (g != groups)
		free(g);
	return ok;
}

/* Log refused peers at most once a second, with how many were refused in between. */
static void log_refused(struct vswd *v, uid_t uid, gid_t gid)
{
	double now = mono_s();

	v->refused_peers++;
	if (now - v->refused_logged_s < 1.0)
		return;
	log_warn("control socket: refused uid %u gid %u (not root, vswd's user or in the control group; %u refused "
		 "since the last report)", (unsigned)uid, (unsigned)gid, v->refused_peers);
	v->refused_peers = 0;
	v->refused_logged_s = now;
}

/* A free slot, or for a privileged peer the slot of the longest idle connection (an unprivileged one first). */
static int conn_slot(struct vswd *v, bool privileged)
{
	int victim = -1;

	for (int i = 0; i < CTL_CONN_MAX; i++)
		if (!v->conns[i])
			return i;
	if (!privileged)
		return -1;
	for (int i = 0; i < CTL_CONN_MAX; i++) {
		struct ctl_conn *c = v->conns[i], *w = victim >= 0 ? v->conns[victim] : NULL;

		if (!w || (w->privileged && !c->privileged) ||
		    (w->privileged == c->privileged && c->last_s < w->last_s))
			victim = i;
	}
	log_warn("control socket: every connection slot taken: the longest idle one (uid %u) closed for a "
		 "privileged client", (unsigned)v->conns[victim]->uid);
	conn_close(v->conns[victim]);
	return victim;
}

static void ctl_on_accept(struct ev_handler *h, uint32_t events)
{
	struct vswd *v = (struct vswd *)((char *)h - offsetof(struct vswd, ctl_h));
	int fd = accept4(v->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct ctl_conn *c;
	bool privileged = false;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int slot;

	if (fd < 0)
		return;
	if (!peer_allowed(v, fd, &uid, &gid, &privileged)) {
		send_refusal(fd, "permission denied: only root, vswd's user and the control group may use vswd");
		log_refused(v, uid, gid);
		close(fd);
		return;
	}
	slot = conn_slot(v, privileged);
	c = slot >= 0 ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		send_refusal(fd, slot < 0 ? "too many control connections" : "out of memory");
		close(fd);
		return;
	}
	c->v = v;
	c->fd = fd;
	c->uid = uid;
	c->gid = gid;
	c->privileged = privileged;
	c->passed_fd = -1;
	c->last_s = mono_s();
	c->h.fn = conn_on_event;
	c->events = EPOLLIN;
	v->conns[slot] = c;
	if (evloop_add(&v->loop, fd, EPOLLIN, &c->h) < 0)
		conn_close(c);
}

int ctl_sock_listen(struct vswd *v, const char *path, char *err, size_t errlen)
{
	char dir[sizeof(v->ctl_path)];
	char *slash;

	if (strlen(path) >= sizeof(v->ctl_path)) {
		snprintf(err, errlen, "control socket path too long");
		return -1;
	}
	strcpy(v->ctl_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755); /* /run/vsw on a fresh machine */
	}
	/* 0600 from the start, whatever the umask; the group's bits only once the group is set. */
	v->ctl_fd = unix_sock_listen(path, 16, 0600, &v->ctl_id, err, errlen);
	if (v->ctl_fd < 0)
		return -1;
	if (v->has_ctl_gid && unix_sock_set_group(path, &v->ctl_id, v->ctl_gid, 0660, err, errlen) < 0)
		return -1;
	v->ctl_h.fn = ctl_on_accept;
	if (evloop_add(&v->loop, v->ctl_fd, EPOLLIN, &v->ctl_h) < 0) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void ctl_sock_tick(struct vswd *v)
{
	double now = mono_s();

	for (unsigned i = 0; i < CTL_CONN_MAX; i++) {
		struct ctl_conn *c = v->conns[i];

		if (c && !c->deferred && now - c->last_s > CTL_IDLE_S)
			conn_close(c);
	}
}

void ctl_sock_resume(struct vswd *v)
{
	if (!v->conns_deferred)
		return;
	v->conns_deferred = false;
	for (unsigned i = 0; i < CTL_CONN_MAX; i++) {
		struct ctl_conn *c = v->conns[i];

		if (!c || !c->deferred)
			continue;
		c->deferred = false;
		if (conn_watch(c) < 0) {
			conn_close(c);
			continue;
		}
		conn_process(c);
	}
}

void ctl_sock_close(struct vswd *v)
{
	for (unsigned i = 0; i < CTL_CONN_MAX; i++)
		if (v->conns[i])
			conn_close(v->conns[i]);
	if (v->ctl_fd >= 0) {
		close(v->ctl_fd);
		unix_sock_unlink(v->ctl_path, &v->ctl_id);
		v->ctl_fd = -1;
	}
}
