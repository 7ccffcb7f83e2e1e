/* vxlan_mtu.c - a VXLAN port's largest inner frame from the kernel's route MTU and mtu= (see vxlan_mtu.h). */
#include "port/vxlan_mtu.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "packet/vxlan.h"
#include "port/port.h"
#include "port/vtep.h"

/* The bytes of @sa's address (IPv4 or IPv6) into @out and their count, 0 for another family or none. */
static unsigned addr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa && sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 4;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 16;
	}
	return 0;
}

/*
 * remote=flow: the name of the interface that holds the address of @local
 * (IPv4 or IPv6, as the port's underlay) into m->ifname, else of one whose
 * subnet holds it (127.0.0.9 on lo's 127.0.0.1/8); "" if none.
 */
static void find_ifname(struct vxlan_mtu *m, const struct sockaddr *local)
{
	uint8_t want[16], a[16], mask[16];
	unsigned n = addr_bytes(local, want);
	struct ifaddrs *ifs;

	m->ifname[0] = '\0';
	if (!n || getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		bool same = true, in_subnet = true;

		if (!i->ifa_name || addr_bytes(i->ifa_addr, a) != n)
			continue;
		if (addr_bytes(i->ifa_netmask, mask) != n)
			memset(mask, 0xff, n); /* no mask: the address alone */
		for (unsigned k = 0; k < n; k++) {
			same &= a[k] == want[k];
			in_subnet &= (a[k] & mask[k]) == (want[k] & mask[k]);
		}
		if (same || (!m->ifname[0] && in_subnet))
			snprintf(m->ifname, sizeof(m->ifname), "%s", i->ifa_name);
		if (same)
			break;
	}
	freeifaddrs(ifs);
}

int vxlan_mtu_open(struct vxlan_mtu *m, const struct sockaddr *local, socklen_t alen, bool ipv6, unsigned conf,
		   bool flow)
{
	struct sockaddr_storage l;

	memset(m, 0, sizeof(*m));
	m->ipv6 = ipv6;
	m->conf = conf;
	m->alen = alen;
	m->flow = flow;
	m->fd = -1;
	if (flow) {
		find_ifname(m, local);
		m->dsts = calloc(1, sizeof(*m->dsts));
		if (!m->dsts)
			return -ENOMEM;
		m->dsts->wake_fd = -1;
	}
	m->fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (m->fd < 0)
		return -errno;
	/* From local=, any port: the route the tunnel's packets take (a source-based rule picks it too). */
	memcpy(&l, local, alen);
	if (ipv6)
		((struct sockaddr_in6 *)&l)->sin6_port = 0;
	else
		((struct sockaddr_in *)&l)->sin_port = 0;
	if (bind(m->fd, (struct sockaddr *)&l, alen) < 0) {
		int e = -errno;

		close(m->fd);
		m->fd = -1;
		return e;
	}
	return 0;
}

/*
 * The kernel's route MTU from local= to @a now, or 0 (no route).
 * connect() routes again (a UDP connect sends nothing): the socket's
 * cached route would not see a new route or a path MTU learned since.
 */
static unsigned route_mtu(struct vxlan_mtu *m, const union vtep_addr *a)
{
	int val = 0;
	socklen_t len = sizeof(val);

	if (m->fd < 0 || connect(m->fd, &a->sa, m->alen) < 0 ||
	    getsockopt(m->fd, m->ipv6 ? IPPROTO_IPV6 : IPPROTO_IP, m->ipv6 ? IPV6_MTU : IP_MTU, &val, &len) < 0 ||
	    val <= 0)
		return 0;
	return (unsigned)val;
}

/* @route capped by mtu= (0: neither known). */
static unsigned capped(const struct vxlan_mtu *m, unsigned route)
{
	return m->conf && (!route || m->conf < route) ? m->conf : route;
}

unsigned vxlan_mtu_frame_max(const struct vxlan_mtu *m, unsigned mtu)
{
	unsigned outer = m->ipv6 ? VXLAN6_OVERHEAD : VXLAN4_OVERHEAD, max = 0;

	if (mtu > outer + PKT_ETH_HLEN)
		max = mtu - outer + m->strip; /* frames come to the port with what it strips (a tag) */
	/* A datagram holds at most 65535 - 8 bytes of UDP payload: the port refuses more anyway. */
	if (max > 65535u - VXLAN_UDP_HLEN - VXLAN_HLEN)
		max = 65535u - VXLAN_UDP_HLEN - VXLAN_HLEN;
	return max;
}

/* ---- remote=flow: the destinations' cache ---- */

static unsigned dst_bucket(const uint64_t key[2])
{
	uint64_t h = (key[0] ^ (key[1] * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;

	return (unsigned)(h >> 58) & (VXLAN_MTU_BUCKETS - 1);
}

/* The address of @key as a socket address (port 0). */
static void dst_addr(const struct vxlan_mtu *m, const uint64_t key[2], union vtep_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (m->ipv6) {
		a->v6.sin6_family = AF_INET6;
		memcpy(&a->v6.sin6_addr, key, 16);
	} else {
		a->v4.sin_family = AF_INET;
		a->v4.sin_addr.s_addr = (in_addr_t)key[0];
	}
}

/* Ask the control thread for @key's route (the one producer: the tx side under its lock); a full ring drops it: asked again later. */
static void dst_ask(struct vxlan_mtu_dsts *d, const uint64_t key[2])
{
	unsigned h = atomic_load_explicit(&d->ask_head, memory_order_relaxed);
	unsigned t = atomic_load_explicit(&d->ask_tail, memory_order_acquire);

	if (d->last_ask[0] == key[0] && d->last_ask[1] == key[1] && h != t)
		return; /* asked already, not read yet: a stream of misses to one VTEP asks once */
	if (h - t >= VXLAN_MTU_ASKS)
		return;
	atomic_store_explicit(&d->ask[h % VXLAN_MTU_ASKS][0], key[0], memory_order_relaxed);
	atomic_store_explicit(&d->ask[h % VXLAN_MTU_ASKS][1], key[1], memory_order_relaxed);
	/* release: the address before the index that hands it over */
	atomic_store_explicit(&d->ask_head, h + 1, memory_order_release);
	d->last_ask[0] = key[0];
	d->last_ask[1] = key[1];
	atomic_fetch_add_explicit(&d->asked, 1, memory_order_relaxed);
	if (d->wake_fd < 0)
		return;
	/*
	 * seq_cst: the head's store before the flag's read, as vxlan_mtu_wake()
	 * orders its flag's store before its read of the head: either it sees
	 * this address, or this sees the flag it set and wakes it again.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_exchange_explicit(&d->wake_armed, 0, memory_order_relaxed)) {
		uint64_t one = 1;

		(void)!write(d->wake_fd, &one, sizeof(one)); /* non-blocking; a failure leaves it to the tick */
	}
}

unsigned vxlan_mtu_dst_max(struct vxlan_mtu *m, const uint64_t key[2], uint32_t now_s)
{
	struct vxlan_mtu_dsts *d = m->dsts;
	struct vxlan_mtu_dst *e = &d->slot[dst_bucket(key) * VXLAN_MTU_WAYS];

	for (unsigned w = 0; w < VXLAN_MTU_WAYS; w++, e++) {
		unsigned s = atomic_load_explicit(&e->seq, memory_order_acquire), fm;
		uint64_t k0, k1;

		if (s & 1)
			continue; /* being rewritten: a miss this once */
		k0 = atomic_load_explicit(&e->key[0], memory_order_relaxed);
		k1 = atomic_load_explicit(&e->key[1], memory_order_relaxed);
		fm = atomic_load_explicit(&e->frame_max, memory_order_relaxed);
		/* acquire: the reads above complete before seq is read again (the writer's release pairs) */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s || k0 != key[0] || k1 != key[1])
			continue;
		if (atomic_load_explicit(&e->used_s, memory_order_relaxed) != now_s)
			atomic_store_explicit(&e->used_s, now_s, memory_order_relaxed);
		return fm ? fm : atomic_load_explicit(&m->frame_max, memory_order_relaxed);
	}
	dst_ask(d, key);
	return atomic_load_explicit(&m->frame_max, memory_order_relaxed);
}

/* Control thread: slot @e becomes @key (0, 0: empty) with @frame_max, route @route, used at @now_s; a seqlock write. */
static void dst_write(struct vxlan_mtu_dst *e, const uint64_t key[2], unsigned frame_max, unsigned route,
		      uint32_t now_s)
{
	unsigned s = atomic_load_explicit(&e->seq, memory_order_relaxed);

	atomic_store_explicit(&e->seq, s + 1, memory_order_relaxed);
	/* release: seq odd is seen before any of the stores below */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&e->key[0], key[0], memory_order_relaxed);
	atomic_store_explicit(&e->key[1], key[1], memory_order_relaxed);
	atomic_store_explicit(&e->frame_max, frame_max, memory_order_relaxed);
	atomic_store_explicit(&e->used_s, now_s, memory_order_relaxed);
	/* release: the stores above before seq even again */
	atomic_store_explicit(&e->seq, s + 2, memory_order_release);
	e->route = route;
}

static bool dst_live(const struct vxlan_mtu_dst *e)
{
	return atomic_load_explicit(&e->key[0], memory_order_relaxed) ||
	       atomic_load_explicit(&e->key[1], memory_order_relaxed);
}

/* Control thread: @key into the cache (its route read now), unless it is there; a full bucket's least recently used goes. */
static void dst_add(struct vxlan_mtu *m, const uint64_t key[2], uint32_t now_s)
{
	struct vxlan_mtu_dst *b = &m->dsts->slot[dst_bucket(key) * VXLAN_MTU_WAYS], *pick = NULL;
	union vtep_addr a;
	unsigned route;

	if (!key[0] && !key[1])
		return;
	for (unsigned w = 0; w < VXLAN_MTU_WAYS; w++) {
		struct vxlan_mtu_dst *e = &b[w];

		if (atomic_load_explicit(&e->key[0], memory_order_relaxed) == key[0] &&
		    atomic_load_explicit(&e->key[1], memory_order_relaxed) == key[1])
			return;
		if (!dst_live(e)) {
			if (!pick || dst_live(pick))
				pick = e;
		} else if (!pick || (dst_live(pick) && (int32_t)(atomic_load_explicit(&pick->used_s, memory_order_relaxed) -
								 atomic_load_explicit(&e->used_s, memory_order_relaxed)) > 0)) {
			pick = e;
		}
	}
	if (dst_live(pick))
		atomic_fetch_add_explicit(&m->dsts->evicted, 1, memory_order_relaxed);
	dst_addr(m, key, &a);
	route = route_mtu(m, &a);
	dst_write(pick, key, vxlan_mtu_frame_max(m, capped(m, route)), route, now_s);
}

/* Control thread: the next ask wakes us again (before the ring is drained: dst_ask()). */
static void wake_arm(struct vxlan_mtu_dsts *d)
{
	if (d->wake_fd < 0)
		return;
	atomic_store_explicit(&d->wake_armed, 1, memory_order_relaxed);
	/* seq_cst: the flag's store before the head's read (dst_ask() pairs) */
	atomic_thread_fence(memory_order_seq_cst);
}

/* Control thread: the destinations asked for added (their routes read now). */
static void dsts_asks(struct vxlan_mtu *m, uint32_t now_s)
{
	struct vxlan_mtu_dsts *d = m->dsts;
	unsigned t = atomic_load_explicit(&d->ask_tail, memory_order_relaxed);
	unsigned h = atomic_load_explicit(&d->ask_head, memory_order_acquire);

	for (; t != h; t++) {
		uint64_t key[2] = { atomic_load_explicit(&d->ask[t % VXLAN_MTU_ASKS][0], memory_order_relaxed),
				    atomic_load_explicit(&d->ask[t % VXLAN_MTU_ASKS][1], memory_order_relaxed) };

		dst_add(m, key, now_s);
	}
	/* release: the slots read before the producer may write them again */
	atomic_store_explicit(&d->ask_tail, t, memory_order_release);
}

/* Control thread, each tick: every entry's route read again, idle ones forgotten, then the destinations asked for added. */
static void dsts_tick(struct vxlan_mtu *m, uint32_t now_s)
{
	struct vxlan_mtu_dsts *d = m->dsts;
	static const uint64_t none[2];

	for (unsigned e = 0; e < VXLAN_MTU_DSTS; e++) {
		struct vxlan_mtu_dst *x = &d->slot[e];
		uint64_t key[2];
		union vtep_addr a;
		unsigned route;

		if (!dst_live(x))
			continue;
		/* signed: a worker may have stamped a second the tick has not read yet */
		if ((int32_t)(now_s - atomic_load_explicit(&x->used_s, memory_order_relaxed)) > VXLAN_MTU_IDLE_S) {
			dst_write(x, none, 0, 0, 0);
			continue;
		}
		key[0] = atomic_load_explicit(&x->key[0], memory_order_relaxed);
		key[1] = atomic_load_explicit(&x->key[1], memory_order_relaxed);
		dst_addr(m, key, &a);
		route = route_mtu(m, &a);
		x->route = route;
		/* the same key: one store, the reader sees the old limit or the new */
		atomic_store_explicit(&x->frame_max, vxlan_mtu_frame_max(m, capped(m, route)), memory_order_relaxed);
	}
	/* a new second of wake-ups (if they ran out), before the ring is drained */
	if (d->wakes >= VXLAN_MTU_WAKES)
		wake_arm(d);
	d->wakes = 0;
	dsts_asks(m, now_s);
}

/* ---- the tick ---- */

unsigned vxlan_mtu_read(struct vxlan_mtu *m, const struct vtep *vt)
{
	unsigned n = atomic_load_explicit(&vt->n_remotes, memory_order_acquire);

	/* One remote after another, each kept; the smallest is the port's. */
	m->route = 0;
	for (unsigned r = 0; r < n; r++) {
		unsigned mtu;

		if (!vtep_remote_live(vt, r)) {
			m->route_of[r] = 0; /* freed: no VTEP, counts for nothing */
			continue;
		}
		mtu = route_mtu(m, &vt->remotes[r].addr);

		m->route_of[r] = mtu;
		if (mtu && (!m->route || mtu < m->route))
			m->route = mtu;
	}
	if (m->flow && m->ifname[0] && m->fd >= 0) {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", m->ifname);
		if (ioctl(m->fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
			m->route = (unsigned)ifr.ifr_mtu;
	}
	if (m->dsts)
		dsts_tick(m, vtep_now_s());
	return capped(m, m->route);
}

/* What the data path reads, from m->used and what was read of each destination: frame_max, remote_max[], fit_all, @p's tx_frame_max. */
static void publish(struct vxlan_mtu *m, const struct vtep *vt, struct port *p)
{
	unsigned n = atomic_load_explicit(&vt->n_remotes, memory_order_acquire);
	unsigned max = vxlan_mtu_frame_max(m, m->used), fit = max ? max : ~0u;
	bool one = true;	/* every destination has the port's limit */

	atomic_store_explicit(&m->frame_max, max, memory_order_relaxed);
	for (unsigned r = 0; r < n; r++) {
		unsigned own = vxlan_mtu_frame_max(m, capped(m, m->route_of[r]));

		if (!m->route_of[r] && !vtep_remote_live(vt, r)) {
			/* freed: the port's limit for a worker that still sends to it; no part in the port's */
			atomic_store_explicit(&m->remote_max[r], 0, memory_order_relaxed);
			continue;
		}
		atomic_store_explicit(&m->remote_max[r], own, memory_order_relaxed);
		if (own && own != max)
			one = false;
		if (own && own < fit)
			fit = own;
	}
	if (m->dsts) {
		/* A destination not asked for yet may be narrower than any known: only what every underlay carries fits all. */
		unsigned least = vxlan_mtu_frame_max(m, m->ipv6 ? 1280u : 576u);

		if (least < fit)
			fit = least;
		for (unsigned e = 0; e < VXLAN_MTU_DSTS && one; e++) {
			const struct vxlan_mtu_dst *x = &m->dsts->slot[e];
			unsigned own = atomic_load_explicit(&x->frame_max, memory_order_relaxed);

			if (dst_live(x) && own && own != max)
				one = false;
		}
	}
	atomic_store_explicit(&m->fit_all, fit, memory_order_relaxed);
	atomic_store_explicit(&p->tx_frame_max, one ? max : 0, memory_order_relaxed);
}

void vxlan_mtu_apply(struct vxlan_mtu *m, const struct vtep *vt, struct port *p)
{
	m->used = vxlan_mtu_read(m, vt);
	publish(m, vt, p);
}

int vxlan_mtu_wake_open(struct vxlan_mtu *m)
{
	if (!m->dsts)
		return -EINVAL;
	m->dsts->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->dsts->wake_fd < 0)
		return -errno;
	atomic_store_explicit(&m->dsts->wake_armed, 1, memory_order_relaxed);
	return m->dsts->wake_fd;
}

void vxlan_mtu_wake(struct vxlan_mtu *m, const struct vtep *vt, struct port *p)
{
	uint64_t count;

	if (!m->dsts || m->dsts->wake_fd < 0)
		return;
	(void)!read(m->dsts->wake_fd, &count, sizeof(count));
	if (++m->dsts->wakes < VXLAN_MTU_WAKES)
		wake_arm(m->dsts);
	dsts_asks(m, vtep_now_s());
	publish(m, vt, p);
}

unsigned vxlan_mtu_dst_count(const struct vxlan_mtu *m)
{
	unsigned n = 0;

	for (unsigned e = 0; m->dsts && e < VXLAN_MTU_DSTS; e++)
		n += dst_live(&m->dsts->slot[e]);
	return n;
}

unsigned vxlan_mtu_dump(const struct vxlan_mtu *m, const struct vtep *vt, struct vxlan_mtu_entry *out, unsigned max)
{
	unsigned n = atomic_load_explicit(&vt->n_remotes, memory_order_acquire), k = 0;

	for (unsigned r = 0; r < n && k < max; r++) {
		unsigned mtu = capped(m, m->route_of[r]);

		if (!m->route_of[r] || mtu == m->used || !vtep_remote_live(vt, r))
			continue;
		out[k++] = (struct vxlan_mtu_entry){ vt->remotes[r].addr, (int)r, m->route_of[r], mtu,
						     vxlan_mtu_frame_max(m, mtu) };
	}
	for (unsigned e = 0; m->dsts && e < VXLAN_MTU_DSTS && k < max; e++) {
		const struct vxlan_mtu_dst *x = &m->dsts->slot[e];
		uint64_t key[2] = { atomic_load_explicit(&x->key[0], memory_order_relaxed),
				    atomic_load_explicit(&x->key[1], memory_order_relaxed) };
		unsigned mtu = capped(m, x->route);

		if ((!key[0] && !key[1]) || !x->route || mtu == m->used)
			continue;
		out[k] = (struct vxlan_mtu_entry){ .remote = -1, .route = x->route, .mtu = mtu,
						   .frame_max = vxlan_mtu_frame_max(m, mtu) };
		dst_addr(m, key, &out[k].addr);
		k++;
	}
	return k;
}

void vxlan_mtu_close(struct vxlan_mtu *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->dsts && m->dsts->wake_fd >= 0)
		close(m->dsts->wake_fd);
	free(m->dsts);
	m->dsts = NULL;
}
