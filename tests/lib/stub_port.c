/* stub_port.c - a port that moves no frames, for tests and fuzzers of the control plane. */
#include "stub_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port/port.h"
#include "port/port_types.h"

int stub_ports_live;

static unsigned stub_rx_burst(struct port *p, unsigned q, struct port_io *io, struct pkt *pkts, unsigned max)
{
	return 0;
}

static void stub_rx_done(struct port *p, unsigned q, struct port_io *io)
{
}

static void stub_tx_burst(struct port *p, struct port_io *io, struct pkt *const *pkts, unsigned n)
{
	port_count_drop(p, DROP_PORT_DOWN, n);
}

static unsigned stub_rx_queues(struct port *p)
{
	return 0;
}

static int stub_rx_fd(struct port *p, unsigned q)
{
	return -1;
}

static bool stub_rx_arm(struct port *p, unsigned q)
{
	return false;
}

static void stub_rx_disarm(struct port *p, unsigned q)
{
}

static void stub_describe(struct port *p, char *buf, size_t len)
{
	snprintf(buf, len, "stub");
}

static void stub_destroy(struct port *p)
{
	stub_ports_live--;
	free(p);
}

static const struct port_ops stub_ops = {
	.type = "stub",
	.rx_burst = stub_rx_burst,
	.rx_done = stub_rx_done,
	.tx_burst = stub_tx_burst,
	.rx_queues = stub_rx_queues,
	.rx_fd = stub_rx_fd,
	.rx_arm = stub_rx_arm,
	.rx_disarm = stub_rx_disarm,
	.describe = stub_describe,
	.destroy = stub_destroy,
};

struct port *stub_port_create(const char *name, const char *type, struct json_object *params,
			      const struct port_env *env, char *err, size_t errlen)
{
	unsigned u;
	struct port *p;

	/* The numeric parameters the real constructors read, through the same checks. */
	if (port_param_uint(params, "queues", 1, PORT_QUEUES_MAX, 1, &u, err, errlen) < 0 ||
	    port_param_uint(params, "pps", 0, 10000000, 0, &u, err, errlen) < 0 ||
	    (strcmp(type, "afxdp") == 0 && port_param_uint(params, "queue", 0, 63, 0, &u, err, errlen) < 0))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->ops = &stub_ops;
	stub_ports_live++;
	return p;
}
