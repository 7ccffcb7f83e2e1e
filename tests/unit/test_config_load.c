/* test_config_load.c - unit tests of config_load.c: a broken config file is named with its line and what was expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ctl/config_load.h"

static char err[512];

/* config_parse() of @text: NULL expected; returns the message. */
static const char *parse_err(const char *text)
{
	struct json_object *o = config_parse("vswd.json", text, strlen(text), err, sizeof(err));

	assert_null(o);
	return err;
}

/* A file cut short names the object left open, where it opened, and the brace that would close it. */
static void test_truncated_object(void **state)
{
	const char *e = parse_err("{\n  \"workers\": 2,\n  \"ports\": [\n    {\"name\": \"a\", \"type\": \"pcap\",\n");

	assert_non_null(strstr(e, "vswd.json:5: "));
	assert_non_null(strstr(e, "object opened at line 4 column 5"));
	assert_non_null(strstr(e, "closing '}' expected"));
	assert_null(strstr(e, "continue"));
}

static void test_truncated_array_and_string(void **state)
{
	assert_non_null(strstr(parse_err("{\"ports\": [\n"), "array opened at line 1 column 11: a closing ']'"));
	assert_non_null(strstr(parse_err("{\"ports\": [{\"name\": \"a\\\"b"), "string opened at line 1 column 21"));
	assert_non_null(strstr(parse_err(" \n\t"), "vswd.json: the file is empty"));
}

/* A syntax error names the line and column of the byte json-c stopped at. */
static void test_syntax_error(void **state)
{
	const char *e = parse_err("{\"workers\": 2,\n \"mode\": \"hub\"\n \"aging\": 3}\n");

	assert_non_null(strstr(e, "vswd.json:3:2: "));
	assert_non_null(strstr(e, "',' expected at '\"'"));
}

/* Text after the object (a second one pasted in, a stray brace) is refused, not ignored. */
static void test_trailing_text(void **state)
{
	const char *e = parse_err("{\"workers\": 2}\n}\n");

	assert_non_null(strstr(e, "vswd.json:2:1: text after the end of the configuration, which ends at line 1"));
}

static void test_good_and_missing_file(void **state)
{
	char path[] = "/tmp/vsw-config-XXXXXX";
	int fd = mkstemp(path);
	struct json_object *o;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"workers\": 2}\n", 15), 15);
	close(fd);
	o = config_load(path, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "workers")), 2);
	json_object_put(o);
	unlink(path);
	assert_null(config_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_object),
		cmocka_unit_test(test_truncated_array_and_string),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_trailing_text),
		cmocka_unit_test(test_good_and_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
