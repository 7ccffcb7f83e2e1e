/* strbuf.h - append formatted text to a fixed buffer, counting what did not fit (for sizing it first). */
#ifndef VSW_LIB_STRBUF_H
#define VSW_LIB_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * snprintf() at *@used in @buf (@len bytes), then *@used grows by what
 * the text needs, whether it fitted or not: called with @buf NULL and @len
 * 0, it measures.  The text is NUL-terminated while it fits.
 */
__attribute__((format(printf, 4, 5))) void strbuf_addf(char *buf, size_t len, size_t *used, const char *fmt, ...);
/* strbuf_addf() with a va_list, for wrappers of their own. */
__attribute__((format(printf, 4, 0))) void strbuf_vaddf(char *buf, size_t len, size_t *used, const char *fmt,
							va_list ap);

#endif
