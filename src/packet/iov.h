/* iov.h - copying between scatter-gather lists and flat buffers, bounded by both sides. */
#ifndef VSW_PACKET_IOV_H
#define VSW_PACKET_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Total bytes in @n iovecs. */
size_t iov_size(const struct iovec *iov, unsigned n);

/*
 * Copy up to @len bytes from @src (starting @soff bytes in) to @dst
 * (starting @doff bytes in).  Returns the bytes copied: less than @len
 * only when one side ran out.
 */
size_t iov_copy(const struct iovec *dst, unsigned dn, size_t doff,
		const struct iovec *src, unsigned sn, size_t soff, size_t len);

/* Copy @len bytes of @buf into @dst at @doff; returns bytes copied. */
size_t iov_from_buf(const struct iovec *dst, unsigned dn, size_t doff, const void *buf, size_t len);

/* Copy up to @len bytes from @src at @soff into @buf; returns bytes copied. */
size_t iov_to_buf(const struct iovec *src, unsigned sn, size_t soff, void *buf, size_t len);

#endif
