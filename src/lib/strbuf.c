/* strbuf.c - append formatted text to a fixed buffer (see strbuf.h). */
#include "lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>

void strbuf_vaddf(char *buf, size_t len, size_t *used, const char *fmt, va_list ap)
{
	int n = vsnprintf(*used < len ? buf + *used : NULL, *used < len ? len - *used : 0, fmt, ap);

	if (n > 0)
		*used += (size_t)n;
}

void strbuf_addf(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(buf, len, used, fmt, ap);
	va_end(ap);
}
