/* iov.c - copying between scatter-gather lists and flat buffers. */
#include "packet/iov.h"

#include <string.h>

size_t iov_size(const struct iovec *iov, unsigned n)
{
	size_t total = 0;

	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	return total;
}

/* Find the entry holding byte @off; updates @off to the offset inside it. */
static unsigned iov_seek(const struct iovec *iov, unsigned n, size_t *off)
{
	unsigned i = 0;

	while (i < n && *off >= iov[i].iov_len) {
		*off -= iov[i].iov_len;
		i++;
	}
	return i;
}

size_t iov_copy(const struct iovec *dst, unsigned dn, size_t doff,
		const struct iovec *src, unsigned sn, size_t soff, size_t len)
{
	unsigned di = iov_seek(dst, dn, &doff), si = iov_seek(src, sn, &soff);
	size_t done = 0;

	while (done < len && di < dn && si < sn) {
		size_t dleft = dst[di].iov_len - doff, sleft = src[si].iov_len - soff;
		size_t chunk = dleft < sleft ? dleft : sleft;

		if (chunk > len - done)
			chunk = len - done;
		memcpy((char *)dst[di].iov_base + doff, (const char *)src[si].iov_base + soff, chunk);
		done += chunk;
		doff += chunk;
		soff += chunk;
		if (doff == dst[di].iov_len) {
			di++;
			doff = 0;
		}
		if (soff == src[si].iov_len) {
			si++;
			soff = 0;
		}
	}
	return done;
}

size_t iov_from_buf(const struct iovec *dst, unsigned dn, size_t doff, const void *buf, size_t len)
{
	struct iovec src = { .iov_base = (void *)buf, .iov_len = len };

	return iov_copy(dst, dn, doff, &src, 1, 0, len);
}

size_t iov_to_buf(const struct iovec *src, unsigned sn, size_t soff, void *buf, size_t len)
{
	struct iovec dst = { .iov_base = buf, .iov_len = len };

	return iov_copy(&dst, 1, 0, src, sn, soff, len);
}
