/* strbuf.c - append formatted text to a fixed buffer (see strbuf.h). */
#include "lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>

void strbuf_addf(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*used < len ? buf + *used : NULL, *used < len ? len - *used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
}
