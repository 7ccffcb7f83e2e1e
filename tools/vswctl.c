/* vswctl.c - command-line client of vswd's control socket. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/daemon.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vswctl [--ctl PATH] [--json] COMMAND\n"
		   "  port add NAME vhost-user path=SOCK [mode=server|client] [queues=N]\n"
		   "  port del NAME\n"
		   "  show\n"
		   "  stats [--json]\n"
		   "  fdb show\n");
}

/* Send one request line, read one response line. */
static struct json_object *call(const char *ctl, struct json_object *req)
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
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s) || write(fd, "\n", 1) != 1) {
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

static void print_show(struct json_object *r)
{
	struct json_object *ports;

	printf("vsw: %s switch, %" PRId64 " worker(s), %s, FDB aging %" PRId64 " s\n", str(r, "mode"),
	       num(r, "workers"), json_object_get_boolean(json_object_object_get(r, "busy_poll")) ? "busy polling"
												   : "event-driven",
	       num(r, "aging"));
	printf("%-16s %-12s %s\n", "PORT", "TYPE", "STATE");
	if (json_object_object_get_ex(r, "ports", &ports))
		for (size_t i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *p = json_object_array_get_idx(ports, i);

			printf("%-16s %-12s %s\n", str(p, "name"), str(p, "type"), str(p, "state"));
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
		printf("%s\n", any ? "" : "-");
	}
}

static void print_fdb(struct json_object *r)
{
	struct json_object *e;

	printf("%-18s %-16s %s\n", "MAC", "PORT", "AGE");
	if (json_object_object_get_ex(r, "entries", &e))
		for (size_t i = 0; i < json_object_array_length(e); i++) {
			struct json_object *x = json_object_array_get_idx(e, i);

			printf("%-18s %-16s %" PRId64 "\n", str(x, "mac"), str(x, "port"), num(x, "age"));
		}
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
	} else if (argc == 2 && strcmp(argv[0], "fdb") == 0 && strcmp(argv[1], "show") == 0) {
		json_object_object_add(req, "cmd", json_object_new_string("fdb-show"));
		*kind = 3;
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
	json_object_put(resp);
	return rc;
}
