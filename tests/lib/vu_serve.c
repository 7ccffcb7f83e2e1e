/* vu_serve.c - vuser_open() served by an in-process vhost-user device (vu_dev). */
#include "vu_serve.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct serve_run {
	struct vuser_config cfg;
	struct vuser *u;
	char err[160];
	atomic_bool done;
};

static void *open_thread(void *arg)
{
	struct serve_run *r = arg;

	r->u = vuser_open(&r->cfg, r->err, sizeof(r->err));
	atomic_store(&r->done, true);
	return NULL;
}

struct vuser *vu_serve_open(struct vu_dev *d, const struct vuser_config *cfg, char *err, size_t errlen)
{
	static atomic_uint seq;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct serve_run r = { .cfg = *cfg };
	pthread_t t;
	int lfd, fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/vsw-serve-%d-%u.sock", (int)getpid(), atomic_fetch_add(&seq, 1));
	r.cfg.path = sa.sun_path;
	r.cfg.server = false;
	if (!r.cfg.connect_timeout_ms)
		r.cfg.connect_timeout_ms = 5000;
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0 ||
	    pthread_create(&t, NULL, open_thread, &r) != 0) {
		snprintf(err, errlen, "listening socket or thread");
		if (lfd >= 0)
			close(lfd);
		unlink(sa.sun_path);
		return NULL;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	close(lfd);
	unlink(sa.sun_path);
	if (fd >= 0) {
		vu_dev_attach(d, fd);
		/* Bounded: 5 s of messages at most. */
		for (int i = 0; i < 1000 && !atomic_load(&r.done); i++) {
			struct timespec ms = { 0, 5 * 1000 * 1000 };

			if (vu_dev_on_readable(d) < 0)
				break;
			nanosleep(&ms, NULL);
		}
	}
	pthread_join(t, NULL);
	if (!r.u)
		snprintf(err, errlen, "vuser_open: %s (device: %s)", r.err, d->error);
	return r.u;
}
