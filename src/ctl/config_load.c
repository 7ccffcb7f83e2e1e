/* config_load.c - reading vswd's JSON configuration file, with errors that name the file, line and what was expected. */
#include "ctl/config_load.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Line and column (from 1) of byte @off of @text. */
static void line_col(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/*
 * json-c says only "continue" when the text ends early: find what is left
 * open by a walk of our own (strings, escapes, brackets), and say what
 * would close it and where it opened.
 */
static void explain_truncated(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	enum { STACK = 64 };
	size_t open_at[STACK], string_at = 0;
	char open_ch[STACK];
	unsigned depth = 0, line, col;
	bool in_str = false, esc = false, any = false;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			any = true;
		if (c == '"') {
			in_str = true;
			string_at = i;
		} else if (c == '{' || c == '[') {
			if (depth < STACK) {
				open_at[depth] = i;
				open_ch[depth] = c;
			}
			depth++;
		} else if ((c == '}' || c == ']') && depth) {
			depth--;
		}
	}
	if (!any) {
		snprintf(err, errlen, "%s: the file is empty: a JSON object {...} expected", path);
		return;
	}
	line_col(text, len, &line, &col);
	if (in_str) {
		unsigned sl, sc;

		line_col(text, string_at, &sl, &sc);
		snprintf(err, errlen, "%s:%u: the file ends inside the string opened at line %u column %u: a closing '\"' expected",
			 path, line, sl, sc);
	} else if (depth && depth <= STACK) {
		unsigned ol, oc;

		line_col(text, open_at[depth - 1], &ol, &oc);
		snprintf(err, errlen, "%s:%u: the file ends inside the %s opened at line %u column %u: a closing '%c' expected "
			 "(is the file cut short?)", path, line, open_ch[depth - 1] == '{' ? "object" : "array", ol, oc,
			 open_ch[depth - 1] == '{' ? '}' : ']');
	} else {
		snprintf(err, errlen, "%s:%u: the file ends inside a value (a literal or number cut short?)", path, line);
	}
}

struct json_object *config_parse(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	enum json_tokener_error e;
	unsigned line, col;
	size_t end;

	if (!tok) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (len > INT32_MAX) {
		json_tokener_free(tok);
		snprintf(err, errlen, "%s: too large", path);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o && e == json_tokener_continue) {
		explain_truncated(path, text, len, err, errlen);
		return NULL;
	}
	if (!o || e != json_tokener_success) {
		/* The byte json-c stopped at (its parse end). */
		size_t at = end < len ? end : len ? len - 1 : 0;
		char c = at < len ? text[at] : ' ', shown[8] = "";

		if (c > ' ' && c < 127)
			snprintf(shown, sizeof(shown), " at '%c'", c);
		line_col(text, at, &line, &col);
		snprintf(err, errlen, "%s:%u:%u: %s%s (JSON: keys in double quotes, ',' between members)", path, line,
			 col, o ? "not JSON" : json_tokener_error_desc(e), shown);
		json_object_put(o);
		return NULL;
	}
	/* One value, then only blanks: text after it is a second config pasted in, or a stray bracket. */
	for (size_t i = end; i < len; i++) {
		unsigned end_line, end_col;
		char c = text[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0')
			continue;
		line_col(text, end ? end - 1 : 0, &end_line, &end_col);
		line_col(text, i, &line, &col);
		snprintf(err, errlen, "%s:%u:%u: text after the end of the configuration, which ends at line %u: "
			 "only blanks expected (a stray '%c'?)", path, line, col, end_line, c > ' ' && c < 127 ? c : '?');
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *config_load(const char *path, char *err, size_t errlen)
{
	struct json_object *o = NULL;
	FILE *f = fopen(path, "re");
	size_t len = 0, cap = 0;
	char *text = NULL;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *t;

			cap = cap ? cap * 2 : 4096;
			if (cap > CONFIG_FILE_MAX + 1)
				cap = CONFIG_FILE_MAX + 1;
			t = len < cap ? realloc(text, cap) : NULL;
			if (!t) {
				snprintf(err, errlen, len < cap ? "%s: out of memory" : "%s: larger than 16 MiB: not a configuration", path);
				goto out_close;
			}
			text = t;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	o = config_parse(path, text ? text : "", len, err, errlen);
out_close:
	fclose(f);
	free(text);
	return o;
}
