/* port_opts.c - the options every port takes whatever its type (stub). */
#include "ctl/port_opts.h"

#include <json-c/json.h>

const char *const port_opts_keys[] = { "mac", "ip", "mac_limit", "flood_rate", NULL };

int port_opts_parse(struct json_object *o, struct switch_port_cfg *c, char *err, size_t errlen)
{
	switch_port_cfg_default(c);
	return 0;
}
