/* capture.h - recording the frames a port receives into or gets from the switch into a pcap file. */
#ifndef VSW_PORT_CAPTURE_H
#define VSW_PORT_CAPTURE_H

/*
 * A capture hangs off one port (struct port.capture) and is fed by the
 * datapath (dp/pipeline.c), not by the port, so every port type is covered:
 *
 *   port A rx_burst --> parse --capture_port_rx(A)--> lookup: learn, decide
 *                       tx    --capture_port_tx(B)--> port B tx_burst
 *
 * Each hook is one acquire load of a pointer that is NULL unless someone
 * captures.  Enabled, a burst takes the capture's mutex once (several
 * workers may feed one capture), copies each frame into a scratch buffer,
 * runs the BPF filter (pcap_compile'd on the control thread) and appends
 * the frame with pcap_dump to a stdio buffer; the file is flushed only at
 * stop.  Frames past the count limit are ignored (the capture is "done").
 *
 * Life cycle, all on the control thread:
 *   capture_open()   compile the filter, create the file
 *   atomic_store_explicit(&p->capture, c, memory_order_release)   publish
 *   ... workers call capture_rx()/capture_tx() ...
 *   atomic_store(&p->capture, NULL); dp_sync()   no worker holds c now
 *   capture_close()  flush, close, free
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "port/port.h"

#define CAPTURE_SNAPLEN 65535u	/* bytes kept per frame: every frame the switch carries, whole */

enum capture_dir {
	CAPTURE_RX = 1,		/* frames the port hands the switch */
	CAPTURE_TX = 2,		/* frames the switch hands the port */
	CAPTURE_BOTH = 3,
};

struct capture_config {
	const char *path;	/* the pcap file to create (a new file: see capture_file_create); with @fd, its name */
	bool use_fd;		/* write into @fd (a file the client opened) instead of creating @path */
	int fd;			/* with @use_fd: owned by the capture once capture_open() succeeded */
	const char *filter;	/* a BPF expression (pcap-filter(7)); NULL or "" takes every frame */
	unsigned dir;		/* enum capture_dir bits */
	uint64_t count;		/* stop recording after this many frames; 0: no limit */
};

struct capture_stats {
	uint64_t captured;	/* frames written */
	uint64_t dropped;	/* frames that matched but could not be written (the file failed) */
};

struct capture;

/*
 * Create @path for writing, mode 0600 (captures hold other machines'
 * traffic), as O_CREAT|O_EXCL|O_NOFOLLOW: an existing file is never
 * reused, a symlink never followed.  NULL with a one-line reason in @err.
 */
FILE *capture_file_create(const char *path, char *err, size_t errlen);

/*
 * A stream on @fd, a file a client opened and passed (SCM_RIGHTS): it
 * must be a regular file open for writing, not in append mode.  Takes
 * @fd only on success; NULL with a reason (naming @name) in @err.
 */
FILE *capture_file_adopt(int fd, const char *name, char *err, size_t errlen);

/*
 * Compile the filter and create the file (or adopt @cfg->fd).  NULL with a
 * one-line reason in @err; @cfg->fd is then still the caller's.
 */
struct capture *capture_open(const struct capture_config *cfg, char *err, size_t errlen);

/*
 * Flush and close the file and free @c (no worker may still hold it).
 * Fills @st when non-NULL.  0, or -errno when the file could not be
 * written completely (a one-line reason in @err).
 */
int capture_close(struct capture *c, struct capture_stats *st, char *err, size_t errlen);

/* Counters so far (takes the capture's lock briefly). */
void capture_get_stats(struct capture *c, struct capture_stats *st);

/* True once the count limit was reached: nothing more will be written. */
bool capture_done(struct capture *c);

/* Data path: record the frames of an rx burst (an array) or a tx burst (pointers). */
void capture_rx(struct capture *c, const struct pkt *pkts, unsigned n);
void capture_tx(struct capture *c, struct pkt *const *pkts, unsigned n);

/*
 * The hooks: one load of the port's capture pointer, used once (a second
 * load could see NULL).  The acquire pairs with the release store that
 * published the capture: its filter and file are initialised when seen.
 */
static inline void capture_port_rx(struct port *p, const struct pkt *pkts, unsigned n)
{
	struct capture *c = atomic_load_explicit(&p->capture, memory_order_acquire);

	if (c)
		capture_rx(c, pkts, n);
}

static inline void capture_port_tx(struct port *p, struct pkt *const *pkts, unsigned n)
{
	struct capture *c = atomic_load_explicit(&p->capture, memory_order_acquire);

	if (c)
		capture_tx(c, pkts, n);
}

#endif
