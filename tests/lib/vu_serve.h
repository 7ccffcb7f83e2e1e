/* vu_serve.h - vuser_open() served by an in-process vhost-user device (vu_dev): a test as both ends of a session. */
#ifndef VSW_TESTS_VU_SERVE_H
#define VSW_TESTS_VU_SERVE_H

#include <stddef.h>

#include "vhost_user/vu_dev.h"
#include "vsw/vuser.h"

/*
 * Open a front end with @cfg (its path is ignored: a socket of our own)
 * while @d, initialised and not attached, handles its messages from this
 * thread; @d stays attached to the session.  NULL with @err (the front
 * end's reason and the device's) on failure.
 */
struct vuser *vu_serve_open(struct vu_dev *d, const struct vuser_config *cfg, char *err, size_t errlen);

#endif
