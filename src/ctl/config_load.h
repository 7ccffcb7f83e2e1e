/* config_load.h - reading vswd's JSON configuration file, with errors that name the file, line and what was expected. */
#ifndef VSW_CTL_CONFIG_LOAD_H
#define VSW_CTL_CONFIG_LOAD_H

#include <stddef.h>

struct json_object;

#define CONFIG_FILE_MAX (16u << 20) /* bytes: a configuration of ports, not a data file */

/*
 * Parse the JSON text @text (@len bytes) read from @path.  The object, or
 * NULL with @err saying "PATH:LINE:COLUMN: what is wrong, what was
 * expected" (a truncated file: which object, array or string is left
 * open and where it opened).
 */
struct json_object *config_parse(const char *path, const char *text, size_t len, char *err, size_t errlen);

/* Read and parse the file @path (at most CONFIG_FILE_MAX bytes); NULL with @err as config_parse's. */
struct json_object *config_load(const char *path, char *err, size_t errlen);

#endif
