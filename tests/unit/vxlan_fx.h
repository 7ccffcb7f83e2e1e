/* vxlan_fx.h - the fixture the vxlan port tests share: ports over loopback, frames, the port's figures, a TSO frame's segments received. */
#ifndef VSW_TESTS_VXLAN_FX_H
#define VSW_TESTS_VXLAN_FX_H

/*
 * Included by test_vxlan.c (the header, the port) and
 * test_vxlan_port_gso.c (the port's UDP GSO and GRO), after <cmocka.h>.
 * Each test binary is one of them: the statics here are its own, and a
 * helper a file does not call is inline so that it costs no warning.
 * The port tests need root (raw sockets) and say so.
 */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/gso_ref.h"
#include "../lib/zalloc.h"
#include "packet/gso.h"
#include "packet/pkt.h"
#include "packet/vnet_hdr.h"
#include "port/port.h"
#include "port/port_vxlan.h"

static inline struct port *vx_port(const char *local, const char *remote, const char *csum, char *err, size_t errlen)
{
	struct json_object *o = json_object_new_object();
	struct port_env env = { 0 };
	struct port *p;

	json_object_object_add(o, "local", json_object_new_string(local));
	json_object_object_add(o, "remote", json_object_new_string(remote));
	json_object_object_add(o, "vni", json_object_new_int(0x4242));
	json_object_object_add(o, "dstport", json_object_new_int(47890));
	json_object_object_add(o, "csum", json_object_new_string(csum));
	p = port_vxlan_create(csum, o, &env, err, errlen);
	json_object_put(o);
	return p;
}

/* The pair of csum=on ports most port tests use: @a on 127.0.0.1 towards 127.0.0.2, @b the other way (root: raw sockets). */
static inline void vx_pair(struct port **a, struct port **b)
{
	char err[256] = "";

	if (geteuid() != 0)
		fail_msg("the vxlan port test needs root (a raw socket for its transmit side)");
	*a = vx_port("127.0.0.1", "127.0.0.2", "on", err, sizeof(err));
	if (!*a)
		fail_msg("port a: %s", err);
	*b = vx_port("127.0.0.2", "127.0.0.1", "on", err, sizeof(err));
	if (!*b)
		fail_msg("port b: %s", err);
}

/* Up to 1 s for a frame on @p's queue 0: the count received into @pkts. */
static inline unsigned rx_wait(struct port *p, struct pkt *pkts)
{
	struct port_io io = { 0 };
	struct pollfd pfd = { .fd = p->ops->rx_fd(p, 0), .events = POLLIN };

	for (int i = 0; i < 20; i++) {
		unsigned n = p->ops->rx_burst(p, 0, &io, pkts, PKT_BURST);

		if (n)
			return n;
		(void)poll(&pfd, 1, 50);
	}
	return 0;
}

/* @p's own figure @name (port_ops.type_stats, `stats`' "tunnel" object). */
static inline uint64_t type_stat(struct port *p, const char *name)
{
	struct port_type_stat st[PORT_TYPE_STATS_MAX];
	unsigned n = p->ops->type_stats(p, st, PORT_TYPE_STATS_MAX);

	assert_string_equal(p->ops->type_stats_name, "tunnel");
	for (unsigned i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i].value;
	fail_msg("no figure %s", name);
	return 0;
}

/* A port on dstport 47891 with @key (vni: a number or "flow"; vlan_vni: the map) = @val, or NULL with @err. */
static inline struct port *vx_try(const char *name, const char *local, const char *remote, const char *key,
				  const char *val, char *err, size_t errlen)
{
	struct json_object *o = json_object_new_object();
	struct port_env env = { 0 };
	bool number = strcmp(key, "vni") == 0 && strcmp(val, "flow") != 0;
	struct port *p;

	json_object_object_add(o, "local", json_object_new_string(local));
	if (remote)
		json_object_object_add(o, "remote", json_object_new_string(remote));
	json_object_object_add(o, key, number ? json_object_new_int(atoi(val)) : json_object_new_string(val));
	json_object_object_add(o, "dstport", json_object_new_int(47891));
	p = port_vxlan_create(name, o, &env, err, errlen);
	json_object_put(o);
	return p;
}

static inline struct port *vx_named(const char *name, const char *local, const char *remote, const char *vni)
{
	char err[256] = "";
	struct port *p = vx_try(name, local, remote, "vni", vni, err, sizeof(err));

	if (!p)
		fail_msg("port %s: %s", name, err);
	return p;
}

/* A UDP frame of @len bytes from 10.0.0.1:@sport to 10.0.0.2:53 into @b: sequence number @seq, then bytes from it. */
static inline void small_frame(uint8_t *b, unsigned len, uint16_t sport, unsigned seq)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0, 0, 0, 53, 0, 0, 0, 0,
	};

	memset(b, 0, len);
	memcpy(b, hdr, sizeof(hdr));
	b[16] = (uint8_t)((len - 14) >> 8);
	b[17] = (uint8_t)(len - 14);
	b[34] = (uint8_t)(sport >> 8);
	b[35] = (uint8_t)sport;
	b[38] = (uint8_t)((len - 34) >> 8);
	b[39] = (uint8_t)(len - 34);
	b[42] = (uint8_t)(seq >> 8);
	b[43] = (uint8_t)seq;
	for (unsigned k = 44; k < len; k++)
		b[k] = (uint8_t)(seq * 31 + k);
}

/* @len bytes of ref_frame() at @f as @p, with a TSO request of @mss when @mss is not 0. */
static inline void ref_pkt(struct pkt *p, struct iovec *iov, uint8_t *f, size_t len, const struct ref_geom *g,
			   unsigned mss)
{
	*iov = (struct iovec){ f, len };
	pkt_rx_init(p, iov, 1, (uint32_t)len, 0);
	pkt_load(p);
	if (!mss)
		return;
	p->csum = PKT_CSUM_PARTIAL;
	p->csum_start = (uint16_t)g->l4;
	p->csum_offset = 16;
	p->gso_type = VNET_GSO_TCPV4;
	p->gso_size = (uint16_t)mss;
	assert_int_equal(gso_check(p), GSO_OK);
}

/*
 * Make the kernel refuse UDP GSO on @p's GSO sockets (bound to @local and
 * the ports describe lists): SO_NO_CHECK (IPv6: UDP_NO_CHECK6_TX), which
 * Linux's udp_send_skb() (udp_v6_send_skb()) answers with EINVAL for a
 * UDP_SEGMENT payload, a refusal for good like xfrm's EIO.  How many
 * sockets it found.
 */
static inline unsigned gso_break(struct port *p, const char *local)
{
	char desc[1024], *at;
	unsigned ports[16], n = 0, hit = 0;

	p->ops->describe(p, desc, sizeof(desc));
	at = strstr(desc, "udp_gso on (source ports ");
	assert_non_null(at);
	at += strlen("udp_gso on (source ports ");
	while (n < 16) {
		char *end;

		ports[n++] = (unsigned)strtoul(at, &end, 10);
		if (*end != ',')
			break;
		at = end + 1;
	}
	for (int fd = 3; fd < 1024; fd++) {
		union {
			struct sockaddr sa;
			struct sockaddr_in v4;
			struct sockaddr_in6 v6;
		} a;
		socklen_t al = sizeof(a);
		int type = 0, one = 1;
		socklen_t tl = sizeof(type);
		char ip[INET6_ADDRSTRLEN];
		bool v6;

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_DGRAM ||
		    getsockname(fd, &a.sa, &al) < 0 || (a.sa.sa_family != AF_INET && a.sa.sa_family != AF_INET6))
			continue;
		v6 = a.sa.sa_family == AF_INET6;
		inet_ntop(a.sa.sa_family, v6 ? (void *)&a.v6.sin6_addr : (void *)&a.v4.sin_addr, ip, sizeof(ip));
		for (unsigned i = 0; i < n; i++)
			if (strcmp(ip, local) == 0 && ntohs(v6 ? a.v6.sin6_port : a.v4.sin_port) == ports[i]) {
				/* IPv6: UDP_NO_CHECK6_TX, which udp_v6_send_skb() refuses GSO with */
				assert_int_equal(v6 ? setsockopt(fd, SOL_UDP, UDP_NO_CHECK6_TX, &one, sizeof(one))
						    : setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)),
						 0);
				hit++;
			}
	}
	return hit;
}

/*
 * The inner segments of received packet @p (loaded), itself or a merged
 * run cut again, are the next of TSO frame @f's (@len bytes, @mss) in
 * order: *@seen counts them; @csums: their checksums are checked too.
 */
static inline void check_segments(struct pkt *p, const uint8_t *f, size_t len, const struct ref_geom *g,
				  unsigned mss, unsigned *seen, bool csums)
{
	static uint8_t want[65535], got[65535];
	struct pkt *seg = zalloc64(sizeof(*seg));
	unsigned k_max = p->gso_type ? gso_count(p) : 1;

	for (unsigned k = 0; k < k_max; k++, (*seen)++) {
		size_t wl = ref_segment(f, len, g, mss, *seen, want);
		const struct pkt *one = p;

		if (p->gso_type) {
			assert_int_equal(gso_segment(p, k, seg, 1), 1);
			one = seg;
		}
		assert_int_equal(one->len, wl);
		assert_int_equal(pkt_to_buf(one, got, sizeof(got)), wl);
		assert_memory_equal(got, want, wl);
		if (csums)
			assert_true(ref_csums_ok(got, wl, g));
	}
	free(seg);
}

/* @nseg segments of TSO frame @f (@len bytes, @mss) received on @b in order, each the reference's (merged runs cut again). */
static inline void recv_segments(struct port *b, const uint8_t *f, size_t len, const struct ref_geom *g,
				 unsigned mss, unsigned nseg)
{
	struct pkt *rx = zalloc64(PKT_BURST * sizeof(*rx));
	struct port_io io = { 0 };
	unsigned seen = 0;

	for (int tries = 0; seen < nseg && tries < 40; tries++) {
		struct pollfd pfd = { .fd = b->ops->rx_fd(b, 0), .events = POLLIN };
		unsigned n = b->ops->rx_burst(b, 0, &io, rx, PKT_BURST);

		for (unsigned i = 0; i < n; i++) {
			pkt_load(&rx[i]);
			check_segments(&rx[i], f, len, g, mss, &seen, true);
		}
		b->ops->rx_done(b, 0, &io);
		if (!n)
			(void)poll(&pfd, 1, 50);
	}
	assert_int_equal(seen, nseg);
	free(rx);
}

/*
 * remote=flow port @a (on @local) sends a 64 KiB TSO frame to tun_dst /
 * tun_ipv6_dst @dst, where port @b listens: as GSO payloads, then again
 * with the kernel refusing GSO (gso_break()), resent a datagram at a
 * time; both times its 46 segments arrive whole, nothing dropped.
 */
static inline void flow_gso_rounds(struct port *a, struct port *b, const char *local, const char *dst)
{
	static uint8_t frame[65535];
	struct pkt *tx = zalloc64(sizeof(*tx));
	struct port_io io = { 0 };
	bool v6 = strchr(dst, ':') != NULL;
	struct ref_geom g;
	struct iovec iov;
	size_t len;

	assert_int_equal(type_stat(a, "udp_gso"), 1);
	len = ref_frame(frame, &g, false, false, false, 0, 12, 0x18, 65535 - 14 - 20 - 32 - 1, 5);
	for (unsigned round = 0; round < 2; round++) {
		if (round)
			assert_int_equal(gso_break(a, local), 8);
		ref_pkt(tx, &iov, frame, len, &g, 1448);
		tx->flags |= PKT_F_TUNNEL;
		memset(&tx->tun, 0, sizeof(tx->tun));
		tx->tun.ipv6 = v6;
		assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, dst, v6 ? (void *)tx->tun.dst.v6 : &tx->tun.dst.v4), 1);
		a->ops->tx_burst(a, &io, &tx, 1);
		for (unsigned r = 0; r < DROP__COUNT; r++)
			if (atomic_load(&a->stats.drops[r]))
				fail_msg("drop %s: %llu", port_drop_names[r],
					 (unsigned long long)atomic_load(&a->stats.drops[r]));
		assert_int_equal(atomic_load(&a->stats.tx_packets), 46 * (round + 1));
		assert_int_equal(type_stat(a, round ? "gso_resent" : "gso_segments"), 46);
		recv_segments(b, frame, len, &g, 1448, 46);
	}
	free(tx);
}

#endif
