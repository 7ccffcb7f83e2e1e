/* vswctl.c - command-line client of vswd's control socket. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/commands.h"
#include "ctl/ctl_metrics.h"
#include "ctl/daemon.h"
#include "ctl/port_opts.h"
#include "lib/json_param.h"
#include "port/port_types.h"

/* The commands, their arguments and the port types come from the tables (commands.c, port_types.c). */
static void usage(FILE *f)
{
	size_t need = ctl_commands_help(NULL, 0, "  ");
	char *cmds = malloc(need + 1);

	if (cmds)
		ctl_commands_help(cmds, need + 1, "  ");
	fprintf(f, "usage: vswctl [--ctl PATH] [--json] COMMAND [ARG...]\n"
		   "  --ctl PATH  vswd's control socket (default " VSWD_DEFAULT_CTL ")\n"
		   "  --json      print vswd's reply as JSON (also taken among a command's words)\n"
		   "commands:\n%s",
		cmds ? cmds : "  (out of memory)\n");
	free(cmds);
}

/*
 * Write @s and a newline on @fd; @fd_pass (when >= 0) travels with the
 * first byte (SCM_RIGHTS): vswd gives it to this request.  0 or -1.
 */
static int send_line(int fd, const char *s, int fd_pass)
{
	size_t len = strlen(s), off = 0;
	char *line = malloc(len + 1);
	int rc = 0;

	if (!line)
		return -1;
	memcpy(line, s, len);
	line[len++] = '\n';
	while (off < len && rc == 0) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = { .iov_base = line + off, .iov_len = len - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (off == 0 && fd_pass >= 0) {
			struct cmsghdr *cm;

			memset(&cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf.buf;
			mh.msg_controllen = sizeof(cbuf.buf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd_pass, sizeof(int));
		}
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = -1;
		else
			off += (size_t)n;
	}
	free(line);
	return rc;
}

/* Send one request line (with @fd passed along when >= 0), read one response line; NULL after one message. */
static struct json_object *call_fd(const char *ctl, struct json_object *req, int fd_pass)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	static char buf[1 << 22];
	struct json_object *resp;
	size_t len = 0;
	int fd;

	if (strlen(ctl) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vswctl: control socket path too long\n");
		return NULL;
	}
	strcpy(sa.sun_path, ctl);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		fprintf(stderr, "vswctl: cannot reach vswd at %s: %s%s\n", ctl, strerror(e),
			e == ENOENT || e == ECONNREFUSED ? " (is vswd running? systemctl status vswd)" : "");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (send_line(fd, s, fd_pass) < 0) {
		fprintf(stderr, "vswctl: write: %s\n", strerror(errno));
		close(fd);
		return NULL;
	}
	while (len < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	buf[len] = '\0';
	resp = json_tokener_parse(buf);
	if (!resp)
		fprintf(stderr, "vswctl: %s: %s\n", ctl,
			len ? "the reply is not JSON (is vswd listening there?)" : "vswd closed the connection without a reply");
	return resp;
}

static struct json_object *call(const char *ctl, struct json_object *req)
{
	return call_fd(ctl, req, -1);
}

/* ---- capture: start, wait for the count, the time limit or ^C, stop ---- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A request {"cmd":@cmd, "port":@port}. */
static struct json_object *capture_req(const char *cmd, const char *port)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	json_object_object_add(req, "port", json_object_new_string(port));
	return req;
}

/* Send @req (consumed) with @fd_pass (-1: none); the response, or NULL after a message when none or not ok. */
static struct json_object *capture_call_fd(const char *ctl, struct json_object *req, int fd_pass)
{
	struct json_object *resp, *ok;
	sigset_t stop, old;

	/* ^C waits until the reply is in (it would cut the read short): it is seen after. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &old);
	resp = call_fd(ctl, req, fd_pass);
	sigprocmask(SIG_SETMASK, &old, NULL);
	json_object_put(req);
	if (!resp)
		return NULL; /* call_fd said why */
	if (!json_object_object_get_ex(resp, "ok", &ok) || !json_object_get_boolean(ok)) {
		fprintf(stderr, "vswctl: %s\n", ctl_reply_str(resp, "error"));
		json_object_put(resp);
		return NULL;
	}
	return resp;
}

static struct json_object *capture_call(const char *ctl, struct json_object *req)
{
	return capture_call_fd(ctl, req, -1);
}

/*
 * Open the capture file as the user running vswctl, to pass to vswd: a new
 * file, or an existing regular file of this user (truncated); never through
 * a symlink, never another user's file.  The fd, or -1 after a message;
 * *@created says whether it is new (removed again if vswd refuses).
 */
static int capture_file_open(const char *path, bool *created)
{
	struct stat st;
	int fd;

	*created = false;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd >= 0) {
		*created = true;
		return fd;
	}
	if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vswctl: %s: %s\n", path, errno == ELOOP ? "a symlink: not followed" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		fprintf(stderr, "vswctl: %s: not a regular file of yours: not reused\n", path);
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) < 0) {
		fprintf(stderr, "vswctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * vswctl capture: the request @cl built (capture-start's keys, --seconds
 * and --stop among the local ones) is sent with the file opened here, then
 * capture-stop with "if_done" polls until the count is reached, the time
 * is up or ^C; capture-stop ends it.  --stop only sends capture-stop.
 * 0, 1 on failure, 2 on usage.
 */
static int cmd_capture(const char *ctl, struct ctl_call *cl, bool json)
{
	const char *port = json_param_str(cl->req, "port"), *file = json_param_str(cl->req, "file");
	const char *dir = json_param_str(cl->req, "dir"), *filter = json_param_str(cl->req, "filter");
	struct json_object *req, *resp = NULL, *f;
	struct sigaction sa = { .sa_handler = on_signal };
	double seconds = 0, deadline;
	char path[PATH_MAX];
	bool created = false;
	int file_fd;

	if (json_object_object_get_ex(cl->local, "seconds", &f))
		seconds = json_object_get_double(f);
	if (json_object_object_get_ex(cl->local, "stop", &f) && json_object_get_boolean(f))
		goto stop;
	if (!file) {
		fprintf(stderr, "vswctl: capture: missing -w FILE.pcap\n");
		return 2;
	}
	/* The name is for vswd's log and messages (vswctl opens the file): an absolute one. */
	if (file[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)) ||
		    snprintf(path, sizeof(path), "%s/%s", cwd, file) >= (int)sizeof(path)) {
			fprintf(stderr, "vswctl: %s: path too long\n", file);
			return 1;
		}
		json_object_object_add(cl->req, "file", json_object_new_string(path));
		file = json_param_str(cl->req, "file");
	}
	file_fd = capture_file_open(file, &created);
	if (file_fd < 0)
		return 1;
	/* Installed before the start: a ^C from here on still stops the capture. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	resp = capture_call_fd(ctl, json_object_get(cl->req), file_fd);
	close(file_fd); /* vswd has its own copy now */
	if (!resp) {
		if (created)
			unlink(file);
		return 1;
	}
	json_object_put(resp);
	resp = NULL;
	fprintf(stderr, "vswctl: capturing %s of %s into %s%s%s; ^C stops\n", dir ? dir : "both", port, file,
		filter && filter[0] ? ", filter: " : "", filter ? filter : "");
	deadline = seconds > 0 ? now_s() + seconds : 0;
	while (!got_signal && !(deadline && now_s() >= deadline)) {
		struct timespec tick = { 0, 50 * 1000 * 1000 };

		nanosleep(&tick, NULL); /* a signal cuts it short */
		if (got_signal)
			continue;
		/* Done when the count is reached or the file failed; an error when the port went away. */
		req = capture_req("capture-stop", port);
		json_object_object_add(req, "if_done", json_object_new_boolean(1));
		resp = capture_call(ctl, req);
		if (!resp)
			return 1; /* vswd gone, or the port deleted (which closed the file) */
		if (json_object_get_boolean(json_object_object_get(resp, "stopped")))
			break;
		json_object_put(resp);
		resp = NULL;
	}
stop:
	if (!resp) {
		resp = capture_call(ctl, capture_req("capture-stop", port));
		if (!resp)
			return 1;
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PRETTY));
	else
		printf("%" PRId64 " frames written%s%s, %" PRId64 " dropped\n", ctl_reply_int(resp, "captured"),
		       file ? " to " : "", file ? file : "", ctl_reply_int(resp, "dropped"));
	json_object_put(resp);
	return 0;
}

/*
 * `vswctl complete port-types` and `vswctl complete port-keys TYPE`: one
 * word a line from the tables (port_types.c, port_opts.c), for the bash
 * completion (dist/vswctl.bash), which so never parses --help's layout.
 * Not a command of vswd: no socket.  0, or 2 with a message.
 */
static int cmd_complete(int argc, char **argv)
{
	const struct port_type *pt;

	if (argc == 2 && strcmp(argv[1], "port-types") == 0) {
		for (size_t i = 0; (pt = port_type_at(i)); i++)
			printf("%s\n", pt->name);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "port-keys") == 0) {
		pt = port_type_find(argv[2]);
		if (!pt) {
			fprintf(stderr, "vswctl: complete: no port type %s (%s)\n", argv[2], port_type_names());
			return 2;
		}
		for (const struct port_param *pp = pt->params; pp->key; pp++)
			printf("%s=\n", pp->key);
		for (const char *const *k = port_opts_keys; *k; k++)
			printf("%s=\n", *k);
		return 0;
	}
	fprintf(stderr, "usage: vswctl complete port-types | port-keys TYPE\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *ctl = VSWD_DEFAULT_CTL;
	struct json_object *resp, *ok;
	struct ctl_call cl;
	bool json = false;
	char err[512];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			ctl = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "complete") == 0)
		return cmd_complete(argc - optind, argv + optind);
	/* The words become a request by the command table; what it refuses vswd would refuse too. */
	if (ctl_build(argc - optind, argv + optind, &cl, err, sizeof(err)) < 0) {
		char syn[512];

		fprintf(stderr, "vswctl: %s\n", err);
		if (cl.cmd && ctl_command_synopsis(cl.cmd, syn, sizeof(syn)) < sizeof(syn))
			fprintf(stderr, "usage: vswctl [--ctl PATH] [--json] %s\n", syn);
		else
			usage(stderr);
		ctl_call_free(&cl);
		return 2;
	}
	json |= cl.json;
	if (cl.cmd->flags & CTL_CMD_CAPTURE) {
		rc = cmd_capture(ctl, &cl, json);
		ctl_call_free(&cl);
		return rc;
	}
	if (cl.cmd->flags & CTL_CMD_FILE_IN) {
		/* Read with our own rights and passed open: vswd opens no path for a peer (commands.h). */
		const char *file = ctl_reply_str(cl.req, "file");
		int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

		if (fd < 0) {
			fprintf(stderr, "vswctl: %s: %s\n", file, strerror(errno));
			ctl_call_free(&cl);
			return 1;
		}
		resp = call_fd(ctl, cl.req, fd);
		close(fd);
	} else {
		resp = call(ctl, cl.req);
	}
	if (!resp) {
		ctl_call_free(&cl); /* call_fd said why, once */
		return 1;
	}
	rc = json_object_object_get_ex(resp, "ok", &ok) && json_object_get_boolean(ok) ? 0 : 1;
	if (!rc && json_object_get_boolean(json_object_object_get(cl.local, "openmetrics"))) {
		if (ctl_stats_openmetrics(resp, stdout) < 0) {
			fprintf(stderr, "vswctl: out of memory\n");
			rc = 1;
		}
	} else if (json)
		printf("%s\n", json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PRETTY));
	else if (rc)
		fprintf(stderr, "vswctl: %s\n", ctl_reply_str(resp, "error"));
	else if (cl.cmd->print)
		cl.cmd->print(resp);
	json_object_put(resp);
	ctl_call_free(&cl);
	return rc;
}
