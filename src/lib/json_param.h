/* json_param.h - checked reads of JSON parameters (control requests, config files, port parameters). */
#ifndef VSW_LIB_JSON_PARAM_H
#define VSW_LIB_JSON_PARAM_H

/*
 * Every field of a request or config object is read through these: a
 * value of the wrong type or out of range is an error with a one-line
 * message naming the key, never a silent default; an unknown key is an
 * error naming the valid ones.
 */

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* A string, or NULL when absent or not a string. */
const char *json_param_str(struct json_object *o, const char *key);

/* An unsigned in [lo, hi], @dflt when absent; -1 with @err when present and wrong. */
int json_param_uint(struct json_object *o, const char *key, unsigned lo, unsigned hi, unsigned dflt, unsigned *out,
		    char *err, size_t errlen);

/*
 * Every key of the JSON object @o must be in the NULL-terminated @keys:
 * 0, or -1 with "unknown key "K" in WHAT (valid: ...)" in @err.
 */
int json_check_keys(struct json_object *o, const char *const *keys, const char *what, char *err, size_t errlen);

/* @key is one of the NULL-terminated @keys. */
bool json_key_in(const char *key, const char *const *keys);

/* Append ", KEY" (or "KEY" first) to the string in @buf without overflowing it (for "valid: ..." lists). */
void json_list_add(char *buf, size_t len, const char *key);

#endif
