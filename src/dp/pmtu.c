/* pmtu.c - the tx stage's size check for a destination with a frame limit, and the ICMP answers (see pmtu.h). */
#include "dp/pmtu.h"

#include <stddef.h>
#include <time.h>

#include "dp/dp.h"

/* May one more answer go (DP_PMTU_RATE a second, bursts of DP_PMTU_MAX)?  Reads the clock: too-big frames only. */
static bool rate_admit(struct dp_pmtu *pm)
{
	struct timespec ts;
	uint64_t now_ms, gained;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* vDSO: no syscall */
	now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	gained = (now_ms - pm->refill_ms) * DP_PMTU_RATE / 1000u;
	if (gained) {
		pm->tokens = gained >= DP_PMTU_MAX - pm->tokens ? DP_PMTU_MAX : pm->tokens + (unsigned)gained;
		pm->refill_ms = now_ms;
	}
	if (!pm->tokens)
		return false;
	pm->tokens--;
	return true;
}

/* Answer @p, too big for @out's limit @max, if one is due and allowed. */
static void answer(struct dp_pmtu *pm, struct port *out, unsigned max, struct pkt *p)
{
	unsigned len, a = pm->n;

	if (pm->answering || a == DP_PMTU_MAX)
		return;
	(void)pkt_parsed(p);
	if (max <= p->l3_off)
		return;
	len = icmp_pmtu_build(p, max - p->l3_off, pm->buf[a]);
	if (!len || !rate_admit(pm))
		return;
	pm->iov[a] = (struct iovec){ pm->buf[a], len };
	pkt_rx_init(&pm->pkts[a], &pm->iov[a], 1, len, out->id);
	/* From a tunnel: its key and addresses, so that flows on tun_id / tun_src take the answer as the remote's frames. */
	if (out->ops->answer_tun && out->ops->answer_tun(out, p, &pm->pkts[a].tun))
		pm->pkts[a].flags |= PKT_F_TUNNEL;
	pm->n = a + 1;
	atomic_fetch_add_explicit(&out->stats.tx_pmtu_icmp, 1, memory_order_relaxed);
}

unsigned dp_pmtu_filter(struct dp_pmtu *pm, struct port *out, unsigned max, struct pkt *const *pkts, unsigned n)
{
	unsigned k = 0, big = 0;

	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = pkts[i];

		if (p->len <= max || gso_wire_len(p) <= max) {
			pm->keep[k++] = p;
			continue;
		}
		big++;
		answer(pm, out, max, p);
	}
	if (big)
		port_count_drop(out, DROP_TOO_BIG, big);
	return k;
}

void dp_pmtu_port_too_big(struct port_io *io, struct port *out, struct pkt *pk, unsigned frame_max)
{
	/* The worker's io is its dp_ctx's: the answers go into that worker's room. */
	struct dp_ctx *ctx = (struct dp_ctx *)((char *)io - offsetof(struct dp_ctx, io));

	answer(&ctx->pmtu, out, frame_max, pk);
}
