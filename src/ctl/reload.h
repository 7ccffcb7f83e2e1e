/* reload.h - SIGHUP: apply the port list of a configuration read again (systemctl reload vswd). */
#ifndef VSW_CTL_RELOAD_H
#define VSW_CTL_RELOAD_H

#include <stddef.h>

struct json_object;
struct vswd;

/*
 * Move the ports from configuration @old (what vswd applied last; NULL:
 * none) to @new's "ports":
 *   - a port @old lists and @new does not: deleted;
 *   - one @new lists and @old did not: added (unless a port of that name
 *     exists: one vswctl added, left alone and reported);
 *   - one both list: left alone when the entries are equal and it exists,
 *     else deleted (if there) and added again with @new's keys.
 * Ports vswctl added are never touched.  Deletions go first and are freed
 * before the additions, so that a recreated port may take its own socket
 * path again.  Every entry is tried; 0, or -1 with @err naming the first
 * that failed (the others are applied all the same).  @new's other keys
 * take effect at the next start: a change is logged, not applied.
 */
int vswd_reload_ports(struct vswd *v, struct json_object *old, struct json_object *new, char *err, size_t errlen);

#endif
