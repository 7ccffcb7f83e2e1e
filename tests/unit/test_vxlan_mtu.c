/* test_vxlan_mtu.c - unit tests of a vxlan port's underlay MTU per remote VTEP: each remote's route MTU kept, each frame checked against its own remote's, remote=flow's cache. */

/*
 * In a network namespace of the test's own: a veth d0 (MTU 9000,
 * 10.66.0.1/24, its peer d1 up and unaddressed: what is sent there is
 * dropped, so every send succeeds unless the kernel refuses it) and host
 * routes over it with an MTU each (their neighbours static):
 *
 *   10.66.1.2/32 mtu 1400   "narrow": frames up to 1400 - 36 = 1364
 *   10.66.1.3/32 mtu 9000   "jumbo":  frames up to 8964
 *
 * A port with both as remotes: the port's MTU is the smaller (1400), the
 * jumbo remote's own listed; tx_frame_max 0 (they differ: the port checks
 * each frame itself).  A unicast frame to a MAC behind the jumbo remote
 * goes whole; the same to the narrow one is a too_big drop handed back
 * (port_io.too_big) with 1364; a broadcast of that size sends the jumbo
 * copy and drops the narrow one, answered once; a frame too big for both
 * is two drops, one answer with the smaller limit; a small frame goes to
 * both unchecked.  Both routes at 1400: one limit again, tx_frame_max 1364.
 *
 * remote=flow (the port's own limit: d0's 9000): the first large frame to
 * a destination is a miss (the port's limit, the kernel's EMSGSIZE counts
 * it, no answer) and asks; after a tick the narrow destination's frames
 * are answered with 1364, the jumbo one's cross; small frames never ask;
 * more destinations than the cache holds leave it full, not larger.  With
 * an event loop, the miss wakes the control thread: the destination's
 * MTU is known within 50 ms, no tick; VXLAN_MTU_WAKES wake-ups a tick at
 * most, the tick arms it again.
 */

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vxlan_fx.h"
#include "lib/evloop.h"
#include "port/vxlan_mtu.h"

/* What port_io.too_big was handed: how many times, the last limit. */
static unsigned answered, answered_max;

static void record_too_big(struct port_io *io, struct port *out, struct pkt *pk, unsigned frame_max)
{
	answered++;
	answered_max = frame_max;
}

static uint8_t frame[9100];

/* A frame of @len bytes to MAC ..:@dst (NULL: broadcast) to @p, with tun_dst @tun_dst when not 0. */
static void send_len(struct port *p, const uint8_t *dst, unsigned len, uint32_t tun_dst)
{
	struct pkt *pk = zalloc64(sizeof(*pk));
	struct port_io io = { .too_big = record_too_big };
	struct iovec iov;

	small_frame(frame, len, 1000, len);
	if (dst)
		memcpy(frame, dst, 6);
	else
		memset(frame, 0xff, 6);
	iov = (struct iovec){ frame, len };
	pkt_rx_init(pk, &iov, 1, len, 0);
	pkt_load(pk);
	if (tun_dst) {
		pk->flags |= PKT_F_TUNNEL;
		memset(&pk->tun, 0, sizeof(pk->tun));
		pk->tun.dst.v4 = tun_dst;
	}
	p->ops->tx_burst(p, &io, &pk, 1);
	free(pk);
}

static uint64_t drops(struct port *p, enum port_drop why)
{
	return atomic_load(&p->stats.drops[why]);
}

static int ns_setup(void **state)
{
	if (geteuid() != 0)
		fail_msg("the vxlan MTU test needs root (a raw socket, a network namespace)");
	if (unshare(CLONE_NEWNET) < 0)
		fail_msg("cannot make a network namespace: %s", strerror(errno));
	if (system("ip link set lo up && ip link add d0 mtu 9000 type veth peer name d1 mtu 9000 && "
		   "ip link set d0 up && ip link set d1 up && ip addr add 10.66.0.1/24 dev d0 && "
		   "ip route add 10.66.1.2/32 dev d0 mtu 1400 && ip route add 10.66.1.3/32 dev d0 mtu 9000 && "
		   "ip neigh add 10.66.1.2 lladdr 02:66:00:00:00:02 dev d0 && "
		   "ip neigh add 10.66.1.3 lladdr 02:66:00:00:00:03 dev d0 && "
		   "ip neigh add 10.66.0.9 lladdr 02:66:00:00:00:09 dev d0"))
		fail_msg("cannot make d0, its routes and neighbours with ip(8) (iproute2, a kernel with veth)");
	return 0;
}

static const uint8_t MAC_N[6] = { 0x02, 0, 0, 0, 0, 0x21 }, MAC_J[6] = { 0x02, 0, 0, 0, 0, 0x22 };

static void test_per_remote(void **state)
{
	struct port_vxlan_mtu m[PORT_VXLAN_MTU_MAX];
	struct port *p = vx_named("vm", "10.66.0.1", "10.66.1.2,10.66.1.3", "4242");
	char err[256], desc[512];
	uint64_t sent;

	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, "mtu 1400 (route 1400) frame_max 1364"));
	assert_int_equal(atomic_load(&p->tx_frame_max), 0); /* two limits: the port checks */
	assert_int_equal(port_vxlan_mtu_dump(p, m, PORT_VXLAN_MTU_MAX), 1);
	assert_string_equal(m[0].remote, "10.66.1.3");
	assert_int_equal(m[0].route, 9000);
	assert_int_equal(m[0].mtu, 9000);
	assert_int_equal(m[0].frame_max, 8964);
	assert_false(m[0].flow);
	assert_int_equal(port_vxlan_fdb_add(p, MAC_N, 4242, "10.66.1.2", err, sizeof(err)), 0);
	assert_int_equal(port_vxlan_fdb_add(p, MAC_J, 4242, "10.66.1.3", err, sizeof(err)), 0);

	/* unicast: each to its own remote's limit */
	answered = 0;
	send_len(p, MAC_J, 2000, 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 1);
	assert_int_equal(drops(p, DROP_TOO_BIG), 0);
	send_len(p, MAC_J, 8964, 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 2);
	send_len(p, MAC_J, 8965, 0);
	assert_int_equal(drops(p, DROP_TOO_BIG), 1);
	assert_int_equal(answered, 1);
	assert_int_equal(answered_max, 8964);
	send_len(p, MAC_N, 1364, 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 3);
	send_len(p, MAC_N, 2000, 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 3);
	assert_int_equal(drops(p, DROP_TOO_BIG), 2);
	assert_int_equal(answered, 2);
	assert_int_equal(answered_max, 1364);

	/* flood: the copy that fits goes, the other is its remote's drop; one answer */
	sent = atomic_load(&p->stats.tx_packets);
	send_len(p, NULL, 2000, 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), sent + 1);
	assert_int_equal(drops(p, DROP_TOO_BIG), 3);
	assert_int_equal(answered, 3);
	assert_int_equal(answered_max, 1364);
	/* too big for both: two drops, one answer, the smaller limit */
	send_len(p, NULL, 9000, 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), sent + 1);
	assert_int_equal(drops(p, DROP_TOO_BIG), 5);
	assert_int_equal(answered, 4);
	assert_int_equal(answered_max, 1364);
	/* small: both copies, nothing checked */
	send_len(p, NULL, 1300, 0);
	assert_int_equal(atomic_load(&p->stats.tx_packets), sent + 3);
	assert_int_equal(answered, 4);
	assert_int_equal(drops(p, DROP_NO_DESTINATION) + drops(p, DROP_PORT_BROKEN), 0);

	/* both at 1400 within a tick: one limit, the tx stage's again; none listed */
	assert_int_equal(system("ip route change 10.66.1.3/32 dev d0 mtu 1400"), 0);
	p->ops->tick(p);
	assert_int_equal(atomic_load(&p->tx_frame_max), 1364);
	assert_int_equal(port_vxlan_mtu_dump(p, m, PORT_VXLAN_MTU_MAX), 0);
	send_len(p, MAC_J, 2000, 0);
	assert_int_equal(drops(p, DROP_TOO_BIG), 6);
	assert_int_equal(answered_max, 1364);
	assert_int_equal(system("ip route change 10.66.1.3/32 dev d0 mtu 9000"), 0);
	p->ops->tick(p);
	assert_int_equal(atomic_load(&p->tx_frame_max), 0);
	p->ops->destroy(p);
}

/* mtu= caps every remote's, the jumbo one's too: one limit. */
static void test_per_remote_capped(void **state)
{
	struct port_vxlan_mtu m[PORT_VXLAN_MTU_MAX];
	struct json_object *o = json_object_new_object();
	struct port_env env = { 0 };
	char err[256];
	struct port *p;

	json_object_object_add(o, "local", json_object_new_string("10.66.0.1"));
	json_object_object_add(o, "remote", json_object_new_string("10.66.1.2,10.66.1.3"));
	json_object_object_add(o, "vni", json_object_new_int(7));
	json_object_object_add(o, "dstport", json_object_new_int(47892));
	json_object_object_add(o, "mtu", json_object_new_int(1300));
	p = port_vxlan_create("capped", o, &env, err, sizeof(err));
	json_object_put(o);
	if (!p)
		fail_msg("port: %s", err);
	assert_int_equal(atomic_load(&p->tx_frame_max), 1264);
	assert_int_equal(port_vxlan_mtu_dump(p, m, PORT_VXLAN_MTU_MAX), 0);
	p->ops->destroy(p);
}

/*
 * remote=flow on an IPv6 underlay: the port's own limit is the MTU of the
 * interface that holds local= (d0's 9000 less the IPv6 outer headers), as
 * for IPv4; it was unknown (the lookup knew only IPv4 addresses).
 */
static void test_remote_flow6_port_mtu(void **state)
{
	struct port *p;
	char err[256] = "", desc[512];

	(void)state;
	if (system("ip addr add fd66::1/64 dev d0 nodad"))
		fail_msg("cannot give d0 an IPv6 address");
	p = vx_try("vf6", "fd66::1", "flow", "vni", "4242", err, sizeof(err));
	if (!p)
		fail_msg("remote=flow on IPv6: %s", err);
	p->ops->describe(p, desc, sizeof(desc));
	if (!strstr(desc, "mtu 9000 (route 9000) frame_max 8944"))
		fail_msg("an IPv6 remote=flow port's limit: %s", desc);
	assert_int_equal(atomic_load(&p->tx_frame_max), 8944);
	p->ops->destroy(p);
	assert_int_equal(system("ip addr del fd66::1/64 dev d0"), 0);
}

/*
 * An ICMP answer to a frame too big for a tunnel port carries the tunnel's
 * metadata as if it came back from where the frame was going (dp/pmtu.c):
 * the frame's VNI, the remote it was going to as tun_src, local= as
 * tun_dst; so flows on tun_id / tun_src (vni=flow, remote=flow) take it.
 */
static void test_answer_tun(void **state)
{
	struct pkt *pk = zalloc64(sizeof(*pk));
	struct pkt_tun tun;
	struct iovec iov;
	struct port *p;
	char err[256] = "";

	small_frame(frame, 1500, 1000, 1);
	memset(frame, 0xff, 6); /* a flood: the VNI's first remote */
	iov = (struct iovec){ frame, 1500 };
	pkt_rx_init(pk, &iov, 1, 1500, 0);
	pkt_load(pk);
	/* vni=4242 remote=10.66.1.2 */
	p = vx_try("vt", "10.66.0.1", "10.66.1.2", "vni", "4242", err, sizeof(err));
	if (!p)
		fail_msg("vni=4242: %s", err);
	assert_true(p->ops->answer_tun(p, pk, &tun));
	assert_int_equal(tun.id, 4242);
	assert_false(tun.ipv6);
	assert_int_equal(tun.src.v4, inet_addr("10.66.1.2"));
	assert_int_equal(tun.dst.v4, inet_addr("10.66.0.1"));
	p->ops->destroy(p);
	/* vni=flow: the frame's key */
	p = vx_try("vt", "10.66.0.1", "10.66.1.3", "vni", "flow", err, sizeof(err));
	if (!p)
		fail_msg("vni=flow: %s", err);
	pk->flags |= PKT_F_TUNNEL;
	memset(&pk->tun, 0, sizeof(pk->tun));
	pk->tun.id = 77;
	assert_true(p->ops->answer_tun(p, pk, &tun));
	assert_int_equal(tun.id, 77);
	assert_int_equal(tun.src.v4, inet_addr("10.66.1.3"));
	p->ops->destroy(p);
	/* remote=flow: the frame's tun_dst; without one, no metadata */
	p = vx_try("vt", "10.66.0.1", "flow", "vni", "5", err, sizeof(err));
	if (!p)
		fail_msg("remote=flow: %s", err);
	pk->tun.dst.v4 = inet_addr("10.66.0.9");
	assert_true(p->ops->answer_tun(p, pk, &tun));
	assert_int_equal(tun.id, 5);
	assert_int_equal(tun.src.v4, inet_addr("10.66.0.9"));
	assert_int_equal(tun.dst.v4, inet_addr("10.66.0.1"));
	pk->flags &= (uint8_t)~PKT_F_TUNNEL;
	assert_false(p->ops->answer_tun(p, pk, &tun));
	p->ops->destroy(p);
	free(pk);
}

static void test_remote_flow(void **state)
{
	struct port_vxlan_mtu m[PORT_VXLAN_MTU_MAX];
	struct port *p;
	char err[256] = "", desc[512];
	uint32_t narrow = inet_addr("10.66.1.2"), jumbo = inet_addr("10.66.1.3");
	unsigned n;

	p = vx_try("vf", "10.66.0.1", "flow", "vni", "4242", err, sizeof(err));
	if (!p)
		fail_msg("remote=flow: %s", err);
	p->ops->describe(p, desc, sizeof(desc));
	assert_non_null(strstr(desc, "mtu 9000 (route 9000) frame_max 8964")); /* d0's, which holds local= */
	assert_int_equal(atomic_load(&p->tx_frame_max), 8964);

	/* a miss: the port's limit; the kernel refuses it (EMSGSIZE), unanswered; asked for once */
	answered = 0;
	send_len(p, NULL, 2000, narrow);
	send_len(p, NULL, 2000, narrow);
	assert_int_equal(drops(p, DROP_TOO_BIG), 2);
	assert_int_equal(answered, 0);
	assert_int_equal(type_stat(p, "mtu_cache_asked"), 1);
	/* small frames never ask */
	send_len(p, NULL, 500, inet_addr("10.66.0.9"));
	assert_int_equal(type_stat(p, "mtu_cache_asked"), 1);
	p->ops->tick(p);
	assert_int_equal(type_stat(p, "mtu_cache_entries"), 1);
	assert_int_equal(atomic_load(&p->tx_frame_max), 0); /* a destination of its own limit: the port checks */
	n = port_vxlan_mtu_dump(p, m, PORT_VXLAN_MTU_MAX);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].remote, "10.66.1.2");
	assert_int_equal(m[0].mtu, 1400);
	assert_int_equal(m[0].frame_max, 1364);
	assert_true(m[0].flow);

	/* a hit: answered with the destination's limit */
	send_len(p, NULL, 2000, narrow);
	assert_int_equal(drops(p, DROP_TOO_BIG), 3);
	assert_int_equal(answered, 1);
	assert_int_equal(answered_max, 1364);
	send_len(p, NULL, 1364, narrow);
	assert_int_equal(drops(p, DROP_TOO_BIG), 3);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 2);
	/* the jumbo destination: its own limit (the port's here: not listed) */
	send_len(p, NULL, 8000, jumbo);
	p->ops->tick(p);
	assert_int_equal(type_stat(p, "mtu_cache_entries"), 2);
	send_len(p, NULL, 8964, jumbo);
	send_len(p, NULL, 8965, jumbo);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 4);
	assert_int_equal(answered, 2);
	assert_int_equal(answered_max, 8964);
	assert_int_equal(port_vxlan_mtu_dump(p, m, PORT_VXLAN_MTU_MAX), 1);

	/* the route changes: the next tick reads it again */
	assert_int_equal(system("ip route change 10.66.1.2/32 dev d0 mtu 2000"), 0);
	p->ops->tick(p);
	send_len(p, NULL, 1964, narrow);
	assert_int_equal(answered, 2);
	assert_int_equal(atomic_load(&p->stats.tx_packets), 5);
	assert_int_equal(system("ip route change 10.66.1.2/32 dev d0 mtu 1400"), 0);

	/* bounded: far more destinations than the cache holds, a tick every ring's worth */
	for (unsigned k = 0; k < 2 * VXLAN_MTU_DSTS; k++) {
		send_len(p, NULL, 1000, htonl(0x0a430000u + k + 1)); /* 10.67.x.y: no route, the port's limit */
		if (k % VXLAN_MTU_ASKS == VXLAN_MTU_ASKS - 1)
			p->ops->tick(p);
	}
	p->ops->tick(p);
	assert_true(type_stat(p, "mtu_cache_entries") <= VXLAN_MTU_DSTS);
	assert_true(type_stat(p, "mtu_cache_evicted") > 0);
	assert_int_equal(type_stat(p, "mtu_cache_asked"), 2 + 2 * VXLAN_MTU_DSTS);
	p->ops->destroy(p);
}

/*
 * remote=flow with the daemon's event loop: the first large frame to a
 * new destination wakes the control thread (the port's eventfd on the
 * loop), which reads that route at once: the destination's MTU is known
 * within 50 ms of the frame, not at the next tick (a second later; on
 * main nothing on the loop fired and the cache stayed empty until a tick).
 */
static void test_remote_flow_wake(void **state)
{
	struct json_object *o = json_object_new_object();
	struct evloop loop;
	struct port_env env = { .loop = &loop };
	struct port *p;
	char err[256] = "";
	uint32_t narrow = inet_addr("10.66.1.2");
	struct timespec t0, t;
	double ms = 0;
	unsigned wakes;

	assert_int_equal(evloop_init(&loop), 0);
	json_object_object_add(o, "local", json_object_new_string("10.66.0.1"));
	json_object_object_add(o, "remote", json_object_new_string("flow"));
	json_object_object_add(o, "vni", json_object_new_int(4242));
	json_object_object_add(o, "dstport", json_object_new_int(47893));
	p = port_vxlan_create("vw", o, &env, err, sizeof(err));
	json_object_put(o);
	if (!p)
		fail_msg("remote=flow: %s", err);
	answered = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_len(p, NULL, 2000, narrow);	/* a miss: the port's limit, the kernel refuses it; asked */
	assert_int_equal(type_stat(p, "mtu_cache_asked"), 1);
	while (type_stat(p, "mtu_cache_entries") == 0 && ms < 1000) {
		evloop_run_once(&loop, 5);
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6;
	}
	print_message("the destination's MTU known %.3f ms after the first frame\n", ms);
	assert_int_equal(type_stat(p, "mtu_cache_entries"), 1);
	/* Long before the port's tick (1 s) would have: the wake-up did it (a loaded machine may take tens of ms). */
	assert_true(ms < 500);
	/* the next large frame is answered with its own limit, no tick in between */
	send_len(p, NULL, 2000, narrow);
	assert_int_equal(answered, 1);
	assert_int_equal(answered_max, 1364);
	/* a second new destination: the wake-up was armed again */
	send_len(p, NULL, 2000, inet_addr("10.66.1.3"));
	assert_int_equal(evloop_run_once(&loop, 50) > 0, true);
	assert_int_equal(type_stat(p, "mtu_cache_entries"), 2);
	/* bounded: VXLAN_MTU_WAKES wake-ups a tick, however many new destinations; then the tick re-arms it */
	wakes = 2;
	for (unsigned k = 0; k < VXLAN_MTU_WAKES + 8; k++) {
		send_len(p, NULL, 2000, htonl(0x0a430000u + k + 1));
		wakes += evloop_run_once(&loop, 2) > 0;
	}
	assert_int_equal(wakes, VXLAN_MTU_WAKES);
	p->ops->tick(p);
	send_len(p, NULL, 2000, htonl(0x0a440001u));
	assert_int_equal(evloop_run_once(&loop, 50) > 0, true);
	p->ops->destroy(p);
	close(loop.epfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_remote),
		cmocka_unit_test(test_per_remote_capped),
		cmocka_unit_test(test_remote_flow),
		cmocka_unit_test(test_answer_tun),
		cmocka_unit_test(test_remote_flow_wake),
		cmocka_unit_test(test_remote_flow6_port_mtu),
	};

	return cmocka_run_group_tests(tests, ns_setup, NULL);
}
