/* vxlan_mtu.c - a VXLAN port's largest inner frame from the kernel's route MTU and mtu= (see vxlan_mtu.h). */
#include "port/vxlan_mtu.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "packet/vxlan.h"
#include "port/port.h"
#include "port/vtep.h"

/*
 * remote=flow: the name of the interface that holds the IPv4 address of
 * @local into m->ifname, else of one whose subnet holds it (127.0.0.9 on
 * lo's 127.0.0.1/8); "" if none.
 */
static void find_ifname(struct vxlan_mtu *m, const struct sockaddr *local)
{
	in_addr_t want = ((const struct sockaddr_in *)local)->sin_addr.s_addr;
	struct ifaddrs *ifs;

	m->ifname[0] = '\0';
	if (m->ipv6 || getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		in_addr_t a, mask;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_name)
			continue;
		a = ((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		mask = i->ifa_netmask ? ((const struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr : 0xffffffffu;
		if (a == want || (!m->ifname[0] && (a & mask) == (want & mask)))
			snprintf(m->ifname, sizeof(m->ifname), "%s", i->ifa_name);
		if (a == want)
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
	if (flow)
		find_ifname(m, local);
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

unsigned vxlan_mtu_read(struct vxlan_mtu *m, const struct vtep *vt)
{
	unsigned n = atomic_load_explicit(&vt->n_remotes, memory_order_acquire), mtu;

	/*
	 * connect() routes again (a UDP connect sends nothing): the socket's
	 * cached route would not see a new route or a path MTU learned since.
	 * One remote after another; the smallest MTU wins.
	 */
	m->route = 0;
	for (unsigned r = 0; m->fd >= 0 && r < n; r++) {
		int val = 0;
		socklen_t len = sizeof(val);

		if (connect(m->fd, &vt->remotes[r].addr.sa, m->alen) == 0 &&
		    getsockopt(m->fd, m->ipv6 ? IPPROTO_IPV6 : IPPROTO_IP, m->ipv6 ? IPV6_MTU : IP_MTU, &val, &len) == 0 &&
		    val > 0 && (!m->route || (unsigned)val < m->route))
			m->route = (unsigned)val;
	}
	if (m->flow && m->ifname[0] && m->fd >= 0) {
		struct ifreq ifr;

		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", m->ifname);
		if (ioctl(m->fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
			m->route = (unsigned)ifr.ifr_mtu;
	}
	mtu = m->route;
	if (m->conf && (!mtu || m->conf < mtu))
		mtu = m->conf;
	return mtu;
}

void vxlan_mtu_apply(struct vxlan_mtu *m, const struct vtep *vt, struct port *p)
{
	unsigned mtu = vxlan_mtu_read(m, vt), outer = m->ipv6 ? VXLAN6_OVERHEAD : VXLAN4_OVERHEAD, max = 0;

	m->used = mtu;
	if (mtu > outer + PKT_ETH_HLEN)
		max = mtu - outer + m->strip; /* frames come to the port with what it strips (a tag) */
	/* A datagram holds at most 65535 - 8 bytes of UDP payload: the port refuses more anyway. */
	if (max > 65535u - VXLAN_UDP_HLEN - VXLAN_HLEN)
		max = 65535u - VXLAN_UDP_HLEN - VXLAN_HLEN;
	atomic_store_explicit(&p->tx_frame_max, max, memory_order_relaxed);
}

void vxlan_mtu_close(struct vxlan_mtu *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}
