/* poll.c - a worker's hot and cold queues: idle ports cost a round nothing, a kick warms its queue (see poll.h). */
#include "dp/poll.h"

#include "dp/pipeline.h"

static inline void rxq_disarm(const struct dp_rxq *r)
{
	r->port->ops->rx_disarm(r->port, r->q);
}

void dp_poll_reset(struct dp_poll *ps, const struct dp_rxq_list *l, uint64_t now)
{
	ps->list = l;
	ps->seq = l->seq;
	ps->nhot = l->n;
	ps->ncold = 0;
	ps->start = 0;
	ps->sweep = 0;
	ps->unicast_queues = 0;
	ps->nwake = 0;
	ps->next_check = now + ps->check_every;
	ps->next_kicks = now;
	ps->idle_rounds = 0;
	ps->nkept = 0;
	for (unsigned x = 0; x < l->n; x++) {
		ps->hot[x] = (uint16_t)x;
		ps->at[x] = (uint16_t)x;
		ps->last[x] = now;
		ps->flood_debt[x] = 0;
		ps->unicast[x] = 0;
		/* Carried over from the last list armed, or new: polled from now on, so no kicks. */
		rxq_disarm(&l->rxq[x]);
	}
}

unsigned dp_poll_round(struct dp_poll *ps, struct vswitch *sw, struct dp_ctx *ctx, uint64_t now)
{
	const struct dp_rxq_list *l = ps->list;
	unsigned moved = 0, nhot = ps->nhot, i = ps->start < nhot ? ps->start : 0;
	bool starved = false;

	for (unsigned c = 0; c < nhot; c++) {
		unsigned x = ps->hot[i];
		const struct dp_rxq *r = &l->rxq[x];
		unsigned m;

		dp_perf_pick(ctx);
		/* Its floods held to its share while another queue sends unicast (dp.h). */
		dp_queue_start(ctx, &ps->flood_debt[x], ps->unicast_queues > ps->unicast[x]);
		ctx->unicast_out = 0;
		m = dp_process_batch(sw, ctx, r->port, r->q);

		if (m) {
			/* Until its next batch or until it turns cold: a queue the sender keeps short still counts. */
			uint8_t u = ctx->unicast_out != 0;

			ps->unicast_queues += u - ps->unicast[x];
			ps->unicast[x] = u;
			ps->last[x] = now;
			moved += m;
		}
		/* The first queue whose floods were all refused begins the next round: flooding ports take turns. */
		if (ctx->flood_starved && !starved) {
			starved = true;
			ps->start = i;
		}
		if (++i == nhot)
			i = 0;
	}
	return moved;
}

/* Take hot[i] out of the hot set (the last one fills its place). */
static void hot_remove(struct dp_poll *ps, unsigned i)
{
	unsigned last = ps->hot[--ps->nhot];

	ps->hot[i] = (uint16_t)last;
	ps->at[last] = (uint16_t)i;
}

/* Queue @x turns hot: notifications off, polled every round. */
static void warm(struct dp_poll *ps, unsigned x, uint64_t now)
{
	unsigned a = ps->at[x], c, last;

	if (!(a & DP_POLL_COLD))
		return;
	c = a & ~DP_POLL_COLD;
	last = ps->cold[--ps->ncold];
	ps->cold[c] = (uint16_t)last;
	ps->at[last] = (uint16_t)(DP_POLL_COLD | c);
	rxq_disarm(&ps->list->rxq[x]);
	ps->at[x] = (uint16_t)ps->nhot;
	ps->hot[ps->nhot++] = (uint16_t)x;
	ps->last[x] = now;
}

/* Queue @x idle a while: its floods start again on a full bucket, its unicast counts no more. */
static void idle_reset(struct dp_poll *ps, unsigned x)
{
	ps->flood_debt[x] = 0;
	ps->unicast_queues -= ps->unicast[x];
	ps->unicast[x] = 0;
}

/*
 * Hot queues idle for cold_after turn cold, armed; one that has frames
 * after all stays (disarmed again).  On a busy-polling worker that had
 * idle rounds since the last check, an idle queue whose poll is cheap
 * (rx_poll_cheap) stays too while DP_HOT_KEEP or fewer queues are hot,
 * busy ones included; it is idle all the same (idle_reset(), and not one
 * of the queues the worker's flood bucket grows by: ps->nkept).
 */
static void cool(struct dp_poll *ps, uint64_t now)
{
	const struct dp_rxq_list *l = ps->list;
	const bool keep = ps->keep_cheap && ps->idle_rounds;

	ps->idle_rounds = 0;
	ps->nkept = 0;
	for (unsigned i = 0; i < ps->nhot;) {
		unsigned x = ps->hot[i];
		const struct dp_rxq *r = &l->rxq[x];

		if (now - ps->last[x] < ps->cold_after) {
			i++;
			continue;
		}
		if (keep && ps->nhot <= DP_HOT_KEEP && r->port->ops->rx_poll_cheap &&
		    r->port->ops->rx_poll_cheap(r->port, r->q)) {
			idle_reset(ps, x);
			ps->nkept++;
			i++;
			continue;
		}
		/*
		 * Enable, then re-check (rx_arm): a frame that came meanwhile is
		 * seen here or kicks.  True also means "poll me, no kick will
		 * come" (a port without a wake-up fd that has frames to give).
		 */
		if (r->port->ops->rx_arm(r->port, r->q)) {
			rxq_disarm(r);
			ps->last[x] = now;
			i++;
			continue;
		}
		hot_remove(ps, i);
		idle_reset(ps, x);
		ps->at[x] = (uint16_t)(DP_POLL_COLD | ps->ncold);
		ps->cold[ps->ncold++] = (uint16_t)x;
	}
	if (ps->start >= ps->nhot)
		ps->start = 0;
}

/* The queue a kick named, if it is on this list. */
static void warm_key(struct dp_poll *ps, uint64_t key, uint64_t now)
{
	const struct dp_rxq_list *l = ps->list;
	unsigned slot = (unsigned)(key >> 32), q = (unsigned)key;

	if (key == DP_POLL_KEY_WAKE || slot >= PORT_MAX)
		return;
	/*
	 * An event may name a queue of an older list (read before a rebuild):
	 * it then warms whatever has that name now, or nothing; one needless
	 * poll at worst.
	 */
	for (unsigned x = l->first[slot]; x < l->n && l->rxq[x].slot == slot; x++)
		if (l->rxq[x].q == q) {
			warm(ps, x, now);
			return;
		}
}

/* Which cold queues were kicked: they turn hot (the rest of the events stay queued for the next look). */
static void warm_kicked(struct dp_poll *ps, int epfd, uint64_t now)
{
	struct epoll_event ev[DP_WAKE_EVENTS];
	int n = epoll_wait(epfd, ev, DP_WAKE_EVENTS, 0);

	for (int k = 0; k < n; k++)
		warm_key(ps, ev[k].data.u64, now);
}

void dp_poll_kicks(struct dp_poll *ps, int epfd, uint64_t now)
{
	ps->idle_rounds++;
	if (!ps->ncold || now < ps->next_kicks)
		return;
	ps->next_kicks = now + ps->kicks_idle;
	warm_kicked(ps, epfd, now);
}

unsigned dp_poll_check(struct dp_poll *ps, struct vswitch *sw, struct dp_ctx *ctx, int epfd, uint64_t now)
{
	unsigned moved = 0;

	ps->next_check = now + ps->check_every;
	cool(ps, now);
	if (!ps->ncold)
		return 0;
	/* One syscall for every cold queue. */
	warm_kicked(ps, epfd, now);
	/* And one in turn, polled: a kick lost (a driver that missed our enable) delays it, never strands it. */
	if (ps->ncold) {
		unsigned x, m;

		if (ps->sweep >= ps->ncold)
			ps->sweep = 0;
		x = ps->cold[ps->sweep++];
		dp_perf_pick(ctx);
		dp_queue_start(ctx, &ps->flood_debt[x], ps->unicast_queues > 0);
		m = dp_process_batch(sw, ctx, ps->list->rxq[x].port, ps->list->rxq[x].q);
		if (m) {
			warm(ps, x, now);
			moved += m;
		}
	}
	return moved;
}

bool dp_poll_arm(struct dp_poll *ps)
{
	const struct dp_rxq_list *l = ps->list;
	bool pending = false;

	for (unsigned i = 0; i < ps->nhot; i++) {
		const struct dp_rxq *r = &l->rxq[ps->hot[i]];

		pending |= r->port->ops->rx_arm(r->port, r->q);
	}
	return pending;
}

void dp_poll_disarm(struct dp_poll *ps)
{
	for (unsigned i = 0; i < ps->nhot; i++)
		rxq_disarm(&ps->list->rxq[ps->hot[i]]);
}

void dp_poll_woken(struct dp_poll *ps, const struct epoll_event *ev, int n)
{
	for (int k = 0; k < n && ps->nwake < DP_WAKE_EVENTS; k++)
		if (ev[k].data.u64 != DP_POLL_KEY_WAKE)
			ps->wake[ps->nwake++] = ev[k].data.u64;
}

void dp_poll_warm_woken(struct dp_poll *ps, uint64_t now)
{
	for (unsigned k = 0; k < ps->nwake; k++)
		warm_key(ps, ps->wake[k], now);
	ps->nwake = 0;
}
