/* evloop.h - the control thread's event loop: epoll over sockets, one callback per fd. */
#ifndef VSW_LIB_EVLOOP_H
#define VSW_LIB_EVLOOP_H

#include <stdint.h>

struct ev_handler {
	void (*fn)(struct ev_handler *h, uint32_t events);
};

struct evloop {
	int epfd;
};

int evloop_init(struct evloop *l);
/* Watch @fd for @events (EPOLLIN...), calling @h->fn. 0 or -errno. */
int evloop_add(struct evloop *l, int fd, uint32_t events, struct ev_handler *h);
/* Change what @fd is watched for (0: only errors and hang-ups). 0 or -errno. */
int evloop_mod(struct evloop *l, int fd, uint32_t events, struct ev_handler *h);
void evloop_del(struct evloop *l, int fd);
/* Wait up to @timeout_ms and dispatch what fired; returns events handled or -errno. */
int evloop_run_once(struct evloop *l, int timeout_ms);

#endif
