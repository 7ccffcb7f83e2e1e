/* port_vhost.c - vhost-user port: a VM's virtio-net tx vrings feed the switch, its rx vrings take frames out. */
#include "port/port_vhost.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/evloop.h"
#include "ctl/log.h"
#include "dp/dp.h"
#include "packet/iov.h"
#include "switch/switch.h"
#include "vhost_user/vu_dev.h"
#include "vsw/virtio_net.h"
#include "vsw/virtio_spec.h"

/*
 * Data path, per queue pair q (virtio-net numbering: rx vring 2q, tx vring 2q+1):
 *
 *   guest tx vring --rx_burst--> pkt views into the guest's buffers --> switch
 *   switch --tx_burst--> copy into guest rx vring buffers (mergeable: num_buffers)
 *
 * rx_burst/rx_done of queue q run on the one worker that polls q.  tx_burst
 * may come from any worker, so each rx vring has a spinlock, taken once per
 * burst, never per frame.
 */

#define VP_CHAIN_IOV 256	/* iovecs one chain may need */
#define VP_IOV_POOL 4096	/* iovecs per burst */
#define VP_MERGE_MAX 96		/* receive buffers one frame may span */

/*
 * The features this device offers; checksum and segmentation offloads come
 * later.  MQ (which needs CTRL_VQ; the front end serves the control queue
 * itself) only with more than one queue pair.
 */
#define VIRTIO_F_ANY_LAYOUT 27
#define VP_FEATURES                                                                                     \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ANY_LAYOUT) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | \
	 VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |                          \
	 VIRTIO_BIT(VIRTIO_F_RING_PACKED) | VIRTIO_BIT(VIRTIO_F_IN_ORDER) | VIRTIO_BIT(VIRTIO_NET_F_MTU) | \
	 VIRTIO_BIT(VIRTIO_NET_F_STATUS))
#define VP_FEATURES_MQ (VIRTIO_BIT(VIRTIO_NET_F_MQ) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ))

struct vp_queue {
	/* guest -> switch, owned by one worker */
	unsigned rx_popped;
	struct vq_elem rx_elems[PKT_BURST];
	struct iovec rx_iov[VP_IOV_POOL];
	/* switch -> guest, under tx_lock */
	pthread_spinlock_t tx_lock;
	struct vq_elem tx_elems[VP_MERGE_MAX];
	struct iovec tx_iov[VP_IOV_POOL];
};

struct vhost_port {
	struct port port;
	struct port_env env;
	struct vu_dev dev;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool client;
	unsigned queues;
	int listen_fd;
	struct ev_handler listen_h, conn_h;
	uint64_t sessions;
	char last_error[200];
	atomic_bool dp_error;		/* a worker found a broken ring */
	atomic_bool dp_error_claimed;
	char dp_error_msg[160];
	struct vp_queue *qs;
};

static struct vhost_port *vp_of(struct port *p) { return (struct vhost_port *)p; }

/* ---- data path ---- */

static void vp_dp_error(struct vhost_port *vp, unsigned idx, const char *why)
{
	if (!atomic_exchange(&vp->dp_error_claimed, true)) {
		snprintf(vp->dp_error_msg, sizeof(vp->dp_error_msg), "vring %u: %s", idx, why);
		atomic_store(&vp->dp_error, true);
	}
}

static void vp_notify(struct vu_vring *vr)
{
	uint64_t one = 1;

	/* At most one eventfd write per burst, and only when the driver asked (EVENT_IDX or flags). */
	if (vr->call_fd >= 0 && vq_need_notify(&vr->vq) && write(vr->call_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the guest will see it anyway. */
	}
}

static unsigned vp_rx_burst(struct port *p, unsigned q, struct dp_ctx *ctx, struct pkt *pkts, unsigned max)
{
	struct vhost_port *vp = vp_of(p);
	struct vp_queue *qs = &vp->qs[q];
	unsigned idx = virtio_net_txq(q), hdr_len, used = 0, n = 0;
	struct vu_vring *vr = &vp->dev.vrings[idx];
	uint64_t bytes = 0;

	qs->rx_popped = 0;
	if (!atomic_load_explicit(&vr->live, memory_order_acquire))
		return 0;
	hdr_len = vu_dev_net_hdr_len(&vp->dev);
	while (qs->rx_popped < max && bytes < PKT_BURST_BYTES && VP_IOV_POOL - used >= VP_CHAIN_IOV) {
		struct vq_elem *e = &qs->rx_elems[qs->rx_popped];
		struct iovec *iov = &qs->rx_iov[used];
		struct virtio_net_hdr_v1 h = { 0 };
		struct pkt *pk = &pkts[n];
		size_t skip = hdr_len;
		unsigned k = 0;
		int rc = vq_pop(&vr->vq, e, iov, VP_CHAIN_IOV);

		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			vp_dp_error(vp, idx, vq_error(&vr->vq));
			break;
		}
		qs->rx_popped++;
		used += e->out_num + e->in_num;
		if (e->out_len < hdr_len + 14) {
			port_count_drop(p, DROP_RUNT, 1);
			continue;
		}
		/* The header, copied once into private memory (5.1.6.2). */
		iov_to_buf(iov, e->out_num, 0, &h, hdr_len);
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE || (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			port_count_drop(p, DROP_BAD_HEADER, 1); /* offloads were not negotiated */
			continue;
		}
		if (e->out_len - hdr_len > PKT_MAX_FRAME) {
			port_count_drop(p, DROP_TOO_BIG, 1);
			continue;
		}
		/* The view starts after the header, in place. */
		while (skip >= iov[k].iov_len) {
			skip -= iov[k].iov_len;
			k++;
		}
		iov[k].iov_base = (char *)iov[k].iov_base + skip;
		iov[k].iov_len -= skip;
		pk->iov = &iov[k];
		pk->niov = (uint16_t)(e->out_num - k);
		pk->len = e->out_len - hdr_len;
		pk->in_port = (uint16_t)p->id;
		iov_to_buf(pk->iov, pk->niov, 0, pk->eth, sizeof(pk->eth));
		bytes += pk->len;
		n++;
	}
	port_count(&p->stats.rx_packets, n);
	port_count(&p->stats.rx_bytes, bytes);
	return n;
}

static void vp_rx_done(struct port *p, unsigned q, struct dp_ctx *ctx)
{
	struct vhost_port *vp = vp_of(p);
	struct vp_queue *qs = &vp->qs[q];
	struct vu_vring *vr = &vp->dev.vrings[virtio_net_txq(q)];

	if (!qs->rx_popped)
		return;
	/* Transmit buffers are only read: used length 0. */
	for (unsigned i = 0; i < qs->rx_popped; i++)
		vq_push(&vr->vq, &qs->rx_elems[i], 0);
	vq_flush(&vr->vq);
	vp_notify(vr);
	qs->rx_popped = 0;
}

/*
 * Copy one frame into the guest's receive buffers: one buffer without
 * VIRTIO_NET_F_MRG_RXBUF, as many as it takes with it (all but the last
 * filled completely, 5.1.6.4.2).  Returns 0, or the drop reason.
 */
static int vp_deliver(struct vhost_port *vp, struct vp_queue *qs, struct vu_vring *vr, const struct pkt *pk,
		      unsigned idx)
{
	struct vu_dev *d = &vp->dev;
	bool mrg = vu_has_feature(d, VIRTIO_NET_F_MRG_RXBUF);
	unsigned hdr_len = vu_dev_net_hdr_len(d), nb = 0, used = 0;
	uint32_t max_frame = d->mtu ? d->mtu + 18 : PKT_MAX_FRAME;
	uint64_t need = hdr_len + pk->len, got = 0;
	struct virtio_net_hdr_v1 h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	size_t copied = 0;

	if (pk->len > max_frame)
		return DROP_TOO_BIG;
	while (got < need) {
		struct vq_elem *e = &qs->tx_elems[nb];
		int rc;

		if (nb == VP_MERGE_MAX || VP_IOV_POOL - used < VP_CHAIN_IOV)
			goto out_unpop_no_buffer;
		rc = vq_pop(&vr->vq, e, &qs->tx_iov[used], VP_CHAIN_IOV);
		if (rc == -EAGAIN)
			goto out_unpop_no_buffer;
		if (rc < 0) {
			vp_dp_error(vp, idx, vq_error(&vr->vq));
			return DROP_PORT_BROKEN;
		}
		if (e->in_len == 0) {
			vp_dp_error(vp, idx, "receive buffer with no device-writable part");
			return DROP_PORT_BROKEN;
		}
		got += e->in_len;
		used += e->out_num + e->in_num;
		nb++;
		if (!mrg)
			break;
	}
	if (got < need) {
		while (nb)
			vq_unpop(&vr->vq, &qs->tx_elems[--nb]);
		return DROP_TOO_BIG;
	}
	/* 5.1.6.4.2: "the device MUST set num_buffers to ... the number of buffers the packet is spread over". */
	h.num_buffers = (uint16_t)nb;
	used = 0;
	for (unsigned b = 0; b < nb; b++) {
		struct vq_elem *e = &qs->tx_elems[b];
		struct iovec *in = &qs->tx_iov[used + e->out_num];
		size_t off = b == 0 ? hdr_len : 0, take = e->in_len - off;

		if (take > pk->len - copied)
			take = pk->len - copied;
		if (b == 0)
			iov_from_buf(in, e->in_num, 0, &h, hdr_len);
		copied += iov_copy(in, e->in_num, off, pk->iov, pk->niov, copied, take);
		vq_push(&vr->vq, e, (uint32_t)(off + take));
		used += e->out_num + e->in_num;
	}
	return -1;

out_unpop_no_buffer:
	while (nb)
		vq_unpop(&vr->vq, &qs->tx_elems[--nb]);
	return DROP_NO_RX_BUFFER;
}

static void vp_tx_burst(struct port *p, struct dp_ctx *ctx, struct pkt *const *pkts, unsigned n)
{
	struct vhost_port *vp = vp_of(p);
	unsigned qp = ctx->worker_id % vp->queues, idx = virtio_net_rxq(qp), sent = 0;
	struct vu_vring *vr = &vp->dev.vrings[idx];
	unsigned drops[DROP__COUNT] = { 0 };
	uint64_t bytes = 0;
	struct vp_queue *qs;

	if (!atomic_load_explicit(&vr->live, memory_order_acquire)) {
		qp = 0;
		idx = virtio_net_rxq(0);
		vr = &vp->dev.vrings[idx];
		if (!atomic_load_explicit(&vr->live, memory_order_acquire)) {
			port_count_drop(p, DROP_PORT_DOWN, n);
			return;
		}
	}
	qs = &vp->qs[qp];
	pthread_spin_lock(&qs->tx_lock);
	for (unsigned i = 0; i < n; i++) {
		int why = vq_broken(&vr->vq) ? DROP_PORT_BROKEN : vp_deliver(vp, qs, vr, pkts[i], idx);

		if (why >= 0) {
			drops[why]++;
			continue;
		}
		sent++;
		bytes += pkts[i]->len;
	}
	vq_flush(&vr->vq);
	vp_notify(vr);
	pthread_spin_unlock(&qs->tx_lock);
	port_count(&p->stats.tx_packets, sent);
	port_count(&p->stats.tx_bytes, bytes);
	port_count_drops(p, drops);
}

static unsigned vp_rx_queues(struct port *p)
{
	return vp_of(p)->queues;
}

static int vp_rx_fd(struct port *p, unsigned q)
{
	struct vu_vring *vr = &vp_of(p)->dev.vrings[virtio_net_txq(q)];

	return atomic_load(&vr->live) ? vr->kick_fd : -1;
}

static bool vp_rx_arm(struct port *p, unsigned q)
{
	struct vu_vring *vr = &vp_of(p)->dev.vrings[virtio_net_txq(q)];

	if (!atomic_load_explicit(&vr->live, memory_order_acquire))
		return false;
	if (vr->kick_fd < 0)
		return true; /* the front end asked for polling: no kick will ever come */
	return vq_kick_enable(&vr->vq);
}

static void vp_rx_disarm(struct port *p, unsigned q)
{
	struct vu_vring *vr = &vp_of(p)->dev.vrings[virtio_net_txq(q)];

	if (atomic_load_explicit(&vr->live, memory_order_acquire))
		vq_kick_disable(&vr->vq);
}

/* ---- control plane ---- */

static void vp_quiesce(void *arg)
{
	struct vhost_port *vp = arg;

	dp_sync(vp->env.dp);
}

static void vp_rings_changed(void *arg)
{
	struct vhost_port *vp = arg;

	/* We never wait for receive buffers: ask the guest not to kick its rx vrings. */
	for (unsigned q = 0; q < vp->queues; q++) {
		struct vu_vring *vr = &vp->dev.vrings[virtio_net_rxq(q)];

		pthread_spin_lock(&vp->qs[q].tx_lock);
		if (atomic_load(&vr->live))
			vq_kick_disable(&vr->vq);
		pthread_spin_unlock(&vp->qs[q].tx_lock);
	}
	dp_rebuild(vp->env.dp);
}

static const struct vu_dev_ops vp_dev_ops = {
	.quiesce = vp_quiesce,
	.rings_changed = vp_rings_changed,
};

static void vp_end_session(struct vhost_port *vp, int rc)
{
	const char *why = vp->dev.error[0] ? vp->dev.error : strerror(-rc);

	if (rc == -ECONNRESET && !vp->dev.error[0]) {
		log_info("port %s: front end disconnected", vp->port.name);
		snprintf(vp->last_error, sizeof(vp->last_error), "front end disconnected");
	} else {
		log_warn("port %s: broken: %s; session closed", vp->port.name, why);
		snprintf(vp->last_error, sizeof(vp->last_error), "broken: %s", why);
	}
	evloop_del(vp->env.loop, vp->dev.fd);
	vu_dev_detach(&vp->dev);
	fdb_flush_port(&vp->env.sw->fdb, vp->port.id);
	atomic_store(&vp->dp_error, false);
	atomic_store(&vp->dp_error_claimed, false);
}

static void vp_on_conn(struct ev_handler *h, uint32_t events)
{
	struct vhost_port *vp = (struct vhost_port *)((char *)h - offsetof(struct vhost_port, conn_h));
	int rc;

	if (vp->dev.fd < 0)
		return;
	rc = vu_dev_on_readable(&vp->dev);
	if (rc == 0 && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		rc = -ECONNRESET;
	if (rc < 0)
		vp_end_session(vp, rc);
}

static void vp_attach(struct vhost_port *vp, int fd)
{
	vu_dev_attach(&vp->dev, fd);
	vp->sessions++;
	vp->last_error[0] = '\0';
	if (evloop_add(vp->env.loop, fd, EPOLLIN, &vp->conn_h) < 0) {
		log_err("port %s: cannot watch its socket", vp->port.name);
		vu_dev_detach(&vp->dev);
		return;
	}
	log_info("port %s: front end connected", vp->port.name);
}

static void vp_on_listen(struct ev_handler *h, uint32_t events)
{
	struct vhost_port *vp = (struct vhost_port *)((char *)h - offsetof(struct vhost_port, listen_h));
	int fd = accept4(vp->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (vp->dev.fd >= 0) {
		log_warn("port %s: second front end refused while one is connected", vp->port.name);
		close(fd);
		return;
	}
	vp_attach(vp, fd);
}

static int unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static void vp_try_connect(struct vhost_port *vp)
{
	struct sockaddr_un sa;
	int fd;

	if (unix_addr(&sa, vp->path) < 0)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	vp_attach(vp, fd);
}

static void vp_tick(struct port *p)
{
	struct vhost_port *vp = vp_of(p);

	if (vp->dev.fd >= 0 && atomic_load(&vp->dp_error)) {
		vu_dev_fail(&vp->dev, "%s", vp->dp_error_msg);
		vp_end_session(vp, -EPROTO);
	}
	if (vp->dev.fd >= 0 && vu_dev_mem_faulted(&vp->dev)) {
		vu_dev_fail(&vp->dev, "guest memory shrank under its mapping (the front end truncated its file)");
		vp_end_session(vp, -EPROTO);
	}
	if (vp->client && vp->dev.fd < 0)
		vp_try_connect(vp);
}

static void vp_describe(struct port *p, char *buf, size_t len)
{
	struct vhost_port *vp = vp_of(p);
	const char *mode = vp->client ? "client" : "server";

	if (vp->dev.fd >= 0)
		snprintf(buf, len, "connected (%s %s, %llu messages)", mode, vp->path,
			 (unsigned long long)vp->dev.messages);
	else if (vp->last_error[0])
		snprintf(buf, len, "%s (%s %s, waiting)", vp->last_error, mode, vp->path);
	else
		snprintf(buf, len, "waiting (%s %s)", mode, vp->path);
}

static void vp_destroy(struct port *p)
{
	struct vhost_port *vp = vp_of(p);

	if (vp->dev.fd >= 0) {
		evloop_del(vp->env.loop, vp->dev.fd);
		vu_dev_detach(&vp->dev);
	}
	if (vp->listen_fd >= 0) {
		evloop_del(vp->env.loop, vp->listen_fd);
		close(vp->listen_fd);
		unlink(vp->path);
	}
	vu_dev_fini(&vp->dev);
	for (unsigned q = 0; q < vp->queues; q++)
		pthread_spin_destroy(&vp->qs[q].tx_lock);
	free(vp->qs);
	free(vp);
}

static const struct port_ops vhost_port_ops = {
	.type = "vhost-user",
	.rx_burst = vp_rx_burst,
	.rx_done = vp_rx_done,
	.tx_burst = vp_tx_burst,
	.rx_queues = vp_rx_queues,
	.rx_fd = vp_rx_fd,
	.rx_arm = vp_rx_arm,
	.rx_disarm = vp_rx_disarm,
	.describe = vp_describe,
	.tick = vp_tick,
	.destroy = vp_destroy,
};

static int vp_listen(struct vhost_port *vp, char *err, size_t errlen)
{
	struct sockaddr_un sa;

	if (unix_addr(&sa, vp->path) < 0) {
		snprintf(err, errlen, "socket path too long");
		return -1;
	}
	vp->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (vp->listen_fd < 0)
		goto out_errno;
	unlink(vp->path); /* a stale socket of an earlier run */
	if (bind(vp->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(vp->listen_fd, 4) < 0)
		goto out_errno;
	if (evloop_add(vp->env.loop, vp->listen_fd, EPOLLIN, &vp->listen_h) < 0)
		goto out_errno;
	return 0;

out_errno:
	snprintf(err, errlen, "cannot listen on %s: %s", vp->path, strerror(errno));
	if (vp->listen_fd >= 0)
		close(vp->listen_fd);
	vp->listen_fd = -1;
	return -1;
}

struct port *port_vhost_create(const struct vhost_port_config *cfg, const struct port_env *env, char *err,
			       size_t errlen)
{
	struct vhost_port *vp;
	unsigned queues = cfg->queues ? cfg->queues : 1;

	if (queues > VU_MAX_QUEUE_PAIRS) {
		snprintf(err, errlen, "queues=%u: at most %d", queues, VU_MAX_QUEUE_PAIRS);
		return NULL;
	}
	if (!cfg->path || strlen(cfg->path) >= sizeof(vp->path)) {
		snprintf(err, errlen, "vhost-user port needs path= (at most %zu bytes)", sizeof(vp->path) - 1);
		return NULL;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		goto out_nomem;
	vp->qs = calloc(queues, sizeof(*vp->qs));
	if (!vp->qs || vu_dev_init(&vp->dev, vp->port.name, VP_FEATURES | (queues > 1 ? VP_FEATURES_MQ : 0), queues,
					&vp_dev_ops, vp) < 0)
		goto out_nomem;
	snprintf(vp->port.name, sizeof(vp->port.name), "%s", cfg->name);
	vp->port.ops = &vhost_port_ops;
	vp->env = *env;
	strcpy(vp->path, cfg->path);
	vp->client = cfg->client;
	vp->queues = queues;
	vp->listen_fd = -1;
	vp->listen_h.fn = vp_on_listen;
	vp->conn_h.fn = vp_on_conn;
	for (unsigned q = 0; q < queues; q++)
		pthread_spin_init(&vp->qs[q].tx_lock, PTHREAD_PROCESS_PRIVATE);
	if (!vp->client && vp_listen(vp, err, errlen) < 0) {
		vp_destroy(&vp->port);
		return NULL;
	}
	if (vp->client)
		vp_try_connect(vp);
	return &vp->port;

out_nomem:
	snprintf(err, errlen, "out of memory");
	if (vp) {
		free(vp->qs);
		vu_dev_fini(&vp->dev);
	}
	free(vp);
	return NULL;
}
