/* dp_fixture.c - a small data path for unit tests: a switch, a worker's dp_ctx and ports 0..N-1 of fake ops. */

#include <errno.h>
#include <stdlib.h>

#include "dp/dp.h"
#include "dp_fixture.h"
#include "zalloc.h"

int dp_fixture_init(struct vswitch **sw, struct dp_ctx **ctx, enum switch_mode mode,
		    struct port *ports, unsigned nports, const struct port_ops *ops)
{
	int rc;

	*sw = zalloc64(sizeof(**sw));
	*ctx = zalloc64(sizeof(**ctx)); /* holds packets: aligned as they are */
	if (!*sw || !*ctx) {
		rc = -ENOMEM;
		goto out_free;
	}
	(*ctx)->io.too_big = dp_pmtu_port_too_big; /* as dp.c gives each worker */
	rc = switch_init(*sw, mode, 300, 4096);
	if (rc)
		goto out_free;
	for (unsigned i = 0; i < nports; i++) {
		ports[i].id = i;
		ports[i].ops = ops;
		switch_port_set(*sw, i, &ports[i]);
	}
	return 0;

out_free:
	free(*sw);
	free(*ctx);
	*sw = NULL;
	*ctx = NULL;
	return rc;
}

void dp_fixture_destroy(struct vswitch *sw, struct dp_ctx *ctx)
{
	switch_destroy(sw);
	free(sw);
	free(ctx);
}
