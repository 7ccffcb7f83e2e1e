/* evloop.c - epoll-based event loop of the control thread. */
#include "lib/evloop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

int evloop_init(struct evloop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, struct ev_handler *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events, struct ev_handler *h)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void evloop_del(struct evloop *l, int fd)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event ev[32];
	int n = epoll_wait(l->epfd, ev, 32, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct ev_handler *h = ev[i].data.ptr;

		h->fn(h, ev[i].events);
	}
	return n;
}
