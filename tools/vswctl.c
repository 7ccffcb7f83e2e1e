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

#include "ctl/daemon.h"
#include "port/port_types.h"

static void usage(FILE *f)
{
	char types[2048];

	/* The port types and their keys come from the type table (port_types.c), never from text here. */
	port_types_help(types, sizeof(types), "    ");
	fprintf(f, "usage: vswctl [--ctl PATH] [--json] COMMAND\n"
		   "  port add NAME TYPE KEY=VALUE..., TYPE one of:\n"
		   "%s"
		   "    any type: [mac=MAC[,MAC..]] [ip=ADDR[,ADDR..]] [mac_limit=N] [flood_rate=PPS]\n"
		   "  port del NAME\n"
		   "  show\n"
		   "  stats [--json]\n"
		   "  fdb show [--limit N]          the first N entries (default %d, at most %d; 0: the count)\n"
		   "  perf show [--json]            data path stage timing, per worker and summed\n"
		   "  perf reset | enable | disable\n"
		   "  capture PORT [--dir rx|tx|both] [--count N] [--seconds S] [BPF-FILTER...] -w FILE.pcap\n"
		   "  capture PORT --stop          end a capture whose vswctl went away\n",
		types, FDB_SHOW_DEFAULT, FDB_SHOW_MAX);
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

/* Send one request line (with @fd passed along when >= 0), read one response line. */
static struct json_object *call_fd(const char *ctl, struct json_object *req, int fd_pass)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	static char buf[1 << 22];
	size_t len = 0;
	int fd;

	if (strlen(ctl) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vswctl: control socket path too long\n");
		return NULL;
	}
	strcpy(sa.sun_path, ctl);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vswctl: cannot reach vswd at %s: %s\n", ctl, strerror(errno));
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
	return json_tokener_parse(buf);
}

static struct json_object *call(const char *ctl, struct json_object *req)
{
	return call_fd(ctl, req, -1);
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *f;

	return json_object_object_get_ex(o, k, &f) ? json_object_get_string(f) : "";
}

static int64_t num(struct json_object *o, const char *k)
{
	struct json_object *f;

	return json_object_object_get_ex(o, k, &f) ? json_object_get_int64(f) : 0;
}

/* A port's generic options under its line: "  mac=... ip=... mac_limit=N flood_rate=N". */
static void print_options(struct json_object *p)
{
	struct json_object *o, *a;

	if (!json_object_object_get_ex(p, "options", &o))
		return;
	printf("%-16s", "");
	for (int k = 0; k < 2; k++) {
		const char *key = k ? "ip" : "mac";

		if (!json_object_object_get_ex(o, key, &a))
			continue;
		printf(" %s=", key);
		for (size_t i = 0; i < json_object_array_length(a); i++)
			printf("%s%s", i ? "," : "", json_object_get_string(json_object_array_get_idx(a, i)));
	}
	printf(" mac_limit=%" PRId64 " flood_rate=%" PRId64 "\n", num(o, "mac_limit"), num(o, "flood_rate"));
}

static void print_show(struct json_object *r)
{
	struct json_object *ports;

	printf("vsw: %s switch, %" PRId64 " worker(s), %s, FDB aging %" PRId64 " s, sized for %" PRId64 " MACs\n",
	       str(r, "mode"), num(r, "workers"),
	       json_object_get_boolean(json_object_object_get(r, "busy_poll")) ? "busy polling" : "event-driven",
	       num(r, "aging"), num(r, "fdb_size"));
	printf("%-16s %-12s %s\n", "PORT", "TYPE", "STATE");
	if (json_object_object_get_ex(r, "ports", &ports))
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *p = json_object_array_get_idx(ports, i);

			printf("%-16s %-12s %s\n", str(p, "name"), str(p, "type"), str(p, "state"));
			print_options(p);
		}
}

static void print_stats(struct json_object *r)
{
	struct json_object *ports;

	printf("%-16s %12s %14s %12s %14s  %s\n", "PORT", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES", "DROPS");
	if (!json_object_object_get_ex(r, "ports", &ports))
		return;
	for (size_t i = 0; i < json_object_array_length(ports); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i), *drops;
		int any = 0;

		printf("%-16s %12" PRId64 " %14" PRId64 " %12" PRId64 " %14" PRId64 "  ", str(p, "name"),
		       num(p, "rx_packets"), num(p, "rx_bytes"), num(p, "tx_packets"), num(p, "tx_bytes"));
		if (json_object_object_get_ex(p, "drops", &drops)) {
			json_object_object_foreach(drops, reason, count)
			{
				if (json_object_get_int64(count)) {
					printf("%s%s=%" PRId64, any ? " " : "", reason, json_object_get_int64(count));
					any = 1;
				}
			}
		}
		printf("%s", any ? "" : "-");
		/* FDB figures that are not drops, when there are any: learned entries, moves, refusals. */
		if (json_object_object_get_ex(p, "fdb", &drops)) {
			json_object_object_foreach(drops, what, count)
			{
				if (json_object_get_int64(count))
					printf(" fdb.%s=%" PRId64, what, json_object_get_int64(count));
			}
		}
		printf("\n");
	}
}

static void print_fdb(struct json_object *r)
{
	struct json_object *e;
	size_t n = 0;

	printf("%-18s %-16s %s\n", "MAC", "PORT", "AGE");
	if (json_object_object_get_ex(r, "entries", &e))
		for (n = 0; n < json_object_array_length(e); n++) {
			struct json_object *x = json_object_array_get_idx(e, n);

			if (json_object_get_boolean(json_object_object_get(x, "locked")))
				printf("%-18s %-16s locked\n", str(x, "mac"), str(x, "port"));
			else
				printf("%-18s %-16s %" PRId64 "\n", str(x, "mac"), str(x, "port"), num(x, "age"));
		}
	/* Only when some were left out: a table under the limit prints as it always did. */
	if ((int64_t)n < num(r, "total"))
		printf("(%zu of %" PRId64 " entries; fdb show --limit N for more)\n", n, num(r, "total"));
}

static double dnum(struct json_object *o, const char *k)
{
	struct json_object *f;

	return json_object_object_get_ex(o, k, &f) ? json_object_get_double(f) : 0;
}

/* One view of perf-show (a worker's, or the total): the points that saw batches, then the latency. */
static void print_perf_view(const char *title, struct json_object *v)
{
	struct json_object *stages, *lat;

	printf("%s\n", title);
	printf("  %-16s %12s %10s %10s %9s %8s %8s %8s\n", "STAGE", "PACKETS", "BATCHES", "CYC/PKT", "NS/PKT",
	       "P50", "P99", "P99.9");
	if (json_object_object_get_ex(v, "stages", &stages)) {
		json_object_object_foreach(stages, name, s)
		{
			if (!num(s, "batches"))
				continue;
			printf("  %-16s %12" PRId64 " %10" PRId64 " %10.1f %9.2f %8" PRId64 " %8" PRId64 " %8" PRId64 "\n",
			       name, num(s, "packets"), num(s, "batches"), dnum(s, "cycles_per_packet"),
			       dnum(s, "ns_per_packet"), num(s, "cycles_per_packet_p50"), num(s, "cycles_per_packet_p99"),
			       num(s, "cycles_per_packet_p99.9"));
		}
	}
	if (json_object_object_get_ex(v, "latency_us", &lat))
		printf("  latency rx pop -> tx publish (us): p50 %.2f  p99 %.2f  p99.9 %.2f  (%" PRId64 " packets)\n",
		       dnum(lat, "p50"), dnum(lat, "p99"), dnum(lat, "p99.9"), num(lat, "packets"));
}

static void print_perf(struct json_object *r)
{
	struct json_object *workers, *total;

	printf("stage timing %s, counter %.3f GHz; percentiles of cycles per packet are bucket upper bounds\n",
	       json_object_get_boolean(json_object_object_get(r, "enabled")) ? "on" : "off",
	       (double)num(r, "tsc_hz") / 1e9);
	if (json_object_object_get_ex(r, "workers", &workers))
		for (size_t i = 0; i < json_object_array_length(workers); i++) {
			struct json_object *w = json_object_array_get_idx(workers, i);
			char title[32];

			snprintf(title, sizeof(title), "worker %" PRId64, num(w, "id"));
			print_perf_view(title, w);
		}
	if (json_object_object_get_ex(r, "total", &total))
		print_perf_view("all workers", total);
}

/* Build a request from the command words; NULL (after a message) when they are wrong. */
static struct json_object *build(int argc, char **argv, int *kind, bool *json)
{
	struct json_object *req = json_object_new_object();

	if (argc >= 1 && strcmp(argv[argc - 1], "--json") == 0) {
		*json = true;
		argc--;
	}
	if (argc == 1 && strcmp(argv[0], "show") == 0) {
		json_object_object_add(req, "cmd", json_object_new_string("show"));
		*kind = 1;
	} else if (argc == 1 && strcmp(argv[0], "stats") == 0) {
		json_object_object_add(req, "cmd", json_object_new_string("stats"));
		*kind = 2;
	} else if ((argc == 2 || (argc == 4 && strcmp(argv[2], "--limit") == 0)) && strcmp(argv[0], "fdb") == 0 &&
		   strcmp(argv[1], "show") == 0) {
		json_object_object_add(req, "cmd", json_object_new_string("fdb-show"));
		if (argc == 4) {
			char *end;
			long n = strtol(argv[3], &end, 10);

			if (*end || end == argv[3] || n < 0 || n > FDB_SHOW_MAX) {
				fprintf(stderr, "vswctl: --limit: a count from 0 to %d\n", FDB_SHOW_MAX);
				json_object_put(req);
				return NULL;
			}
			json_object_object_add(req, "limit", json_object_new_int64(n));
		}
		*kind = 3;
	} else if (argc == 2 && strcmp(argv[0], "perf") == 0 && strcmp(argv[1], "show") == 0) {
		json_object_object_add(req, "cmd", json_object_new_string("perf-show"));
		*kind = 4;
	} else if (argc == 2 && strcmp(argv[0], "perf") == 0 && strcmp(argv[1], "reset") == 0) {
		json_object_object_add(req, "cmd", json_object_new_string("perf-reset"));
	} else if (argc == 2 && strcmp(argv[0], "perf") == 0 &&
		   (strcmp(argv[1], "enable") == 0 || strcmp(argv[1], "disable") == 0)) {
		json_object_object_add(req, "cmd", json_object_new_string("perf-set"));
		json_object_object_add(req, "enabled", json_object_new_boolean(strcmp(argv[1], "enable") == 0));
	} else if (argc == 3 && strcmp(argv[0], "port") == 0 && strcmp(argv[1], "del") == 0) {
		json_object_object_add(req, "cmd", json_object_new_string("port-del"));
		json_object_object_add(req, "name", json_object_new_string(argv[2]));
	} else if (argc >= 4 && strcmp(argv[0], "port") == 0 && strcmp(argv[1], "add") == 0) {
		json_object_object_add(req, "cmd", json_object_new_string("port-add"));
		json_object_object_add(req, "name", json_object_new_string(argv[2]));
		json_object_object_add(req, "type", json_object_new_string(argv[3]));
		for (int i = 4; i < argc; i++) {
			char *eq = strchr(argv[i], '=');
			char *end;
			long v;

			if (!eq || eq == argv[i]) {
				fprintf(stderr, "vswctl: expected key=value, got %s\n", argv[i]);
				json_object_put(req);
				return NULL;
			}
			*eq = '\0';
			v = strtol(eq + 1, &end, 10);
			if (*end == '\0' && end != eq + 1)
				json_object_object_add(req, argv[i], json_object_new_int64(v));
			else
				json_object_object_add(req, argv[i], json_object_new_string(eq + 1));
		}
	} else {
		usage(stderr);
		json_object_put(req);
		return NULL;
	}
	return req;
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
	if (!resp) {
		fprintf(stderr, "vswctl: no valid response from vswd\n");
		return NULL;
	}
	if (!json_object_object_get_ex(resp, "ok", &ok) || !json_object_get_boolean(ok)) {
		fprintf(stderr, "vswctl: %s\n", str(resp, "error"));
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

static int capture_usage(void)
{
	usage(stderr);
	return 2;
}

/* vswctl capture PORT [--dir D] [--count N] [--seconds S] [--stop] [FILTER...] -w FILE: 0, 1 on failure, 2 on usage. */
static int cmd_capture(const char *ctl, int argc, char **argv, bool json)
{
	const char *port, *file = NULL, *dir = "both";
	char filter[CTL_REQUEST_MAX / 2] = "", path[PATH_MAX];
	struct json_object *req, *resp = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long count = 0;
	double seconds = 0, deadline;
	bool stop_only = false, filter_only = false, created = false;
	int file_fd;

	if (argc < 2)
		return capture_usage();
	port = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool has_val = i + 1 < argc;
		char *end;

		if (!filter_only && strcmp(a, "--") == 0) {
			filter_only = true;
		} else if (!filter_only && strcmp(a, "-w") == 0 && has_val) {
			file = argv[++i];
		} else if (!filter_only && strcmp(a, "--dir") == 0 && has_val) {
			dir = argv[++i];
			if (strcmp(dir, "rx") != 0 && strcmp(dir, "tx") != 0 && strcmp(dir, "both") != 0)
				return capture_usage();
		} else if (!filter_only && strcmp(a, "--count") == 0 && has_val) {
			errno = 0;
			count = strtoull(argv[++i], &end, 10);
			if (errno || *end || count == 0 || count > UINT32_MAX || argv[i][0] == '-') {
				fprintf(stderr, "vswctl: --count wants a number from 1 to %u\n", UINT32_MAX);
				return 2;
			}
		} else if (!filter_only && strcmp(a, "--seconds") == 0 && has_val) {
			seconds = strtod(argv[++i], &end);
			if (*end || !(seconds > 0)) {
				fprintf(stderr, "vswctl: --seconds wants a positive number\n");
				return 2;
			}
		} else if (!filter_only && strcmp(a, "--stop") == 0) {
			stop_only = true;
		} else if (!filter_only && strcmp(a, "--json") == 0) {
			json = true;
		} else if (!filter_only && a[0] == '-') {
			return capture_usage();
		} else {
			if (strlen(filter) + strlen(a) + 2 > sizeof(filter)) {
				fprintf(stderr, "vswctl: filter too long\n");
				return 2;
			}
			if (filter[0])
				strcat(filter, " ");
			strcat(filter, a);
		}
	}
	if (stop_only)
		goto stop;
	if (!file)
		return capture_usage();
	/* The name is for vswd's log and messages (vswctl opens the file): an absolute one. */
	if (file[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)) ||
		    snprintf(path, sizeof(path), "%s/%s", cwd, file) >= (int)sizeof(path)) {
			fprintf(stderr, "vswctl: %s: path too long\n", file);
			return 1;
		}
		file = path;
	}
	file_fd = capture_file_open(file, &created);
	if (file_fd < 0)
		return 1;
	req = capture_req("capture-start", port);
	json_object_object_add(req, "file", json_object_new_string(file));
	json_object_object_add(req, "dir", json_object_new_string(dir));
	json_object_object_add(req, "filter", json_object_new_string(filter));
	if (count)
		json_object_object_add(req, "count", json_object_new_int64((int64_t)count));
	/* Installed before the start: a ^C from here on still stops the capture. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	resp = capture_call_fd(ctl, req, file_fd);
	close(file_fd); /* vswd has its own copy now */
	if (!resp) {
		if (created)
			unlink(file);
		return 1;
	}
	json_object_put(resp);
	resp = NULL;
	fprintf(stderr, "vswctl: capturing %s of %s into %s%s%s; ^C stops\n", dir, port, file,
		filter[0] ? ", filter: " : "", filter);
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
		printf("%" PRId64 " frames written%s%s, %" PRId64 " dropped\n", num(resp, "captured"),
		       file ? " to " : "", file ? file : "", num(resp, "dropped"));
	json_object_put(resp);
	return 0;
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
	struct json_object *req, *resp, *ok;
	bool json = false;
	int opt, kind = 0, rc;

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
	if (argc - optind >= 1 && strcmp(argv[optind], "capture") == 0)
		return cmd_capture(ctl, argc - optind, argv + optind, json);
	req = build(argc - optind, argv + optind, &kind, &json);
	if (!req)
		return 2;
	resp = call(ctl, req);
	json_object_put(req);
	if (!resp) {
		fprintf(stderr, "vswctl: no valid response from vswd\n");
		return 1;
	}
	rc = json_object_object_get_ex(resp, "ok", &ok) && json_object_get_boolean(ok) ? 0 : 1;
	if (json)
		printf("%s\n", json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PRETTY));
	else if (rc)
		fprintf(stderr, "vswctl: %s\n", str(resp, "error"));
	else if (kind == 1)
		print_show(resp);
	else if (kind == 2)
		print_stats(resp);
	else if (kind == 3)
		print_fdb(resp);
	else if (kind == 4)
		print_perf(resp);
	json_object_put(resp);
	return rc;
}
