/* commands.h - the control commands: one table vswctl builds requests and its usage from, vswd checks and dispatches by. */
#ifndef VSW_CTL_COMMANDS_H
#define VSW_CTL_COMMANDS_H

/*
 *   vswctl                                   vswd
 *   ---------------------------------------  ---------------------------------------------
 *   argv --ctl_build()--> request ---------> ctl_request_check() --> handle() --> reply
 *          (words, positionals, options)        (every key, type, range,      |
 *   --help <--ctl_commands_help()                length; port keys by type)   |
 *   text   <--print(reply) <------------------------------------------------ reply
 *
 * One row of ctl_commands[] per request "cmd": the words vswctl knows it
 * by, its arguments (the request's keys, their types and bounds, how they
 * are spelled on the command line), the handler, the reply's text form and
 * one line of help.  vswctl runs the same check on the request it built
 * before sending it, so a command line vswctl accepts is a request vswd
 * accepts (test_ctl checks this for every row).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct vswd;
struct ctl_peer;

enum ctl_arg_type {
	CTL_STR,	 /* a JSON string of min..max bytes */
	CTL_UINT,	 /* a JSON integer in [min, max] */
	CTL_BOOL,	 /* true or false; an option without a value, or (positional) one of the two @choices words */
	CTL_ENUM,	 /* a JSON string, one of @choices */
	CTL_WORDS,	 /* the remaining words joined by blanks (a BPF filter); a JSON string of min..max bytes */
	CTL_PORT_PARAMS, /* the remaining KEY=VALUE words: keys of the port's type and the generic port options */
	CTL_SECONDS,	 /* a positive number of seconds (vswctl's own: CTL_ARG_LOCAL) */
};

#define CTL_ARG_REQUIRED 1u /* a request without it is refused, a command line without it too */
#define CTL_ARG_LOCAL 2u    /* vswctl's own, never sent (capture's --seconds, --stop) */

struct ctl_arg {
	const char *key;		/* the request's key (CTL_ARG_LOCAL: vswctl's name for it) */
	enum ctl_arg_type type;
	unsigned flags;			/* CTL_ARG_* */
	const char *opt;		/* "--dir", "-w": given as an option; NULL: positional, in table order */
	const char *meta;		/* the value in the usage ("NAME", "N"); NULL for an enum: its choices */
	uint32_t min, max;		/* CTL_UINT: the range; CTL_STR, CTL_WORDS: the length in bytes */
	const char *const *choices;	/* CTL_ENUM: the values; positional CTL_BOOL: { false word, true word }; NULL-ended */
};

/* Runs once the request passed its row's check; returns the reply object (the caller puts it). */
typedef struct json_object *(*ctl_handler_fn)(struct vswd *v, struct json_object *req, struct ctl_peer *peer);
/* Prints an "ok" reply as text on stdout (vswctl without --json). */
typedef void (*ctl_print_fn)(struct json_object *reply);

/* vswctl runs it as a capture: opens the file, passes it along, polls capture-stop until done (vswctl.c). */
#define CTL_CMD_CAPTURE 1u
/* vswctl opens the request's "file" for reading and passes it along (flow replace): vswd never opens it for the peer. */
#define CTL_CMD_FILE_IN 2u

struct ctl_command {
	const char *cmd;		/* the request's "cmd" */
	const char *words;		/* vswctl's words ("port add"); NULL: sent by another command (capture-stop) */
	const struct ctl_arg *args;	/* ending with { 0 } */
	ctl_handler_fn handle;
	ctl_print_fn print;		/* NULL: nothing to print but errors */
	unsigned flags;			/* CTL_CMD_* */
	const char *help;		/* one line for --help */
};

extern const struct ctl_command ctl_commands[];
extern const size_t ctl_ncommands;

/* The row whose "cmd" is @cmd, or NULL. */
const struct ctl_command *ctl_command_find(const char *cmd);

/*
 * Check @req, a JSON object, against @c's row: every key is "cmd" or one
 * of the row's (a CTL_PORT_PARAMS row: or a key the port's type or the
 * generic port options take, a file-naming one only when @privileged),
 * every value has its type, range and length, every required key is
 * there.  0, or -1 with a one-line @err naming the command and the key.
 */
int ctl_request_check(const struct ctl_command *c, struct json_object *req, bool privileged, char *err,
		      size_t errlen);

/* What a command line became. */
struct ctl_call {
	const struct ctl_command *cmd;
	struct json_object *req;	/* the request to send: "cmd" and the arguments given */
	struct json_object *local;	/* the CTL_ARG_LOCAL arguments given, by key */
	bool json;			/* --json was among the words */
};

/*
 * Build the request for the command words @argv[0..@argc): the row whose
 * words are the longest prefix of them, then its positionals in order,
 * its options anywhere (and --json), "--" ending the options; the request
 * then passes ctl_request_check() as a privileged peer's would (vswd
 * decides on files).  0, or -1 with a one-line @err (@call->cmd set when
 * the words named a command); ctl_call_free() either way.
 */
int ctl_build(int argc, char *const *argv, struct ctl_call *call, char *err, size_t errlen);
void ctl_call_free(struct ctl_call *call);

/*
 * The usage line of @c ("port add NAME TYPE [KEY=VALUE...]").  Like
 * snprintf(): at most @len bytes, returns the length the whole needs.
 */
size_t ctl_command_synopsis(const struct ctl_command *c, char *buf, size_t len);

/*
 * --help for every row with words: per command its synopsis and help line,
 * for port add the port types with their keys (port_types_help()), each
 * line starting with @prefix.  Like snprintf().
 */
size_t ctl_commands_help(char *buf, size_t len, const char *prefix);

/* {"ok":true} and {"ok":false,"error":@msg}: the two shapes every reply starts from. */
struct json_object *ctl_reply_ok(void);
struct json_object *ctl_reply_error(const char *msg);

/* For printers: a reply's field @k as a string ("" when absent), an integer or a double (0 when absent). */
const char *ctl_reply_str(struct json_object *o, const char *k);
int64_t ctl_reply_int(struct json_object *o, const char *k);
double ctl_reply_double(struct json_object *o, const char *k);

#endif
