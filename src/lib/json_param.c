/* json_param.c - checked reads of JSON parameters: strings, bounded unsigneds, the check of unknown keys. */
#include "lib/json_param.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

bool json_key_in(const char *key, const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

void json_list_add(char *buf, size_t len, const char *key)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, "%s%s", used ? ", " : "", key);
}

int json_check_keys(struct json_object *o, const char *const *keys, const char *what, char *err, size_t errlen)
{
	json_object_object_foreach(o, key, val)
	{
		char valid[160] = "";

		(void)val;
		if (json_key_in(key, keys))
			continue;
		for (size_t i = 0; keys[i]; i++)
			if (strcmp(keys[i], "cmd") != 0)
				json_list_add(valid, sizeof(valid), keys[i]);
		snprintf(err, errlen, "unknown key \"%.40s\" in %s (valid: %s)", key, what, valid[0] ? valid : "none");
		return -1;
	}
	return 0;
}

const char *json_param_str(struct json_object *o, const char *key)
{
	struct json_object *f;

	if (!json_object_object_get_ex(o, key, &f) || !json_object_is_type(f, json_type_string))
		return NULL;
	return json_object_get_string(f);
}

int json_param_uint(struct json_object *o, const char *key, unsigned lo, unsigned hi, unsigned dflt, unsigned *out,
		    char *err, size_t errlen)
{
	struct json_object *f;
	int64_t v;

	*out = dflt;
	if (!json_object_object_get_ex(o, key, &f))
		return 0;
	if (!json_object_is_type(f, json_type_int) || (v = json_object_get_int64(f)) < lo || v > hi) {
		snprintf(err, errlen, "\"%s\" must be an integer from %u to %u", key, lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}
