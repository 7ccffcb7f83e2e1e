/* fuzz_ctl_state.c - libFuzzer target for vswd's state file reader (STATE_DIR/state.json, read at start). */

/*
 * The state file is read back at every start, and whoever can write the
 * state directory writes it: untrusted.  The input is that file's bytes,
 * restored by vswd_state_restore() into a vswd with no workers and no
 * sockets whose ports are stubs (tests/lib/stub_port.c): the real per-type
 * key tables and the flow parser are checked, no socket or interface is
 * touched; only the state directory (a private temporary one, on
 * /dev/shm when it can) is written.
 *
 * Nearly every mutation breaks the file's checksum, which is checked after
 * everything else, so the first input byte picks options:
 *   bit 0: "seal" the rest: when it parses as an object with "ports" and
 *          "flows", its "checksum" is set to the right one (the file
 *          format's FNV-1a of {"ports":...,"flows":...[,"tunnel_fdb":...]
 *          [,"ofports":...]}, docs/VSWD.md,
 *          computed here again), so the fuzzer reaches the apply phase
 *   bit 1: a port "vm1" from the config file is there before the restore
 *          (the config wins a name; its ports are not saved)
 * What must hold: a refused file (-1) applied nothing (no port, no flow
 * added) and was moved aside with a reason in the error; an accepted one
 * left a state.json which, read again into an empty vswd, is accepted
 * with no failure and gives the same ports at the same numbers (the
 * file's "ofports"); no port is ever at number 0 (OpenFlow's reserved
 * port: a file recording one there, as a vswd before numbers started at 1
 * wrote it, gives it another); after each input every port
 * and flow is deleted, every stub freed, the fd count is back and the
 * directory is emptied.
 *
 * fuzz/make_corpus_ctl_state.py writes the seed corpus.
 */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/daemon.h"
#include "flow/table.h"
#include "../tests/lib/proc_counts.h"
#include "../tests/lib/stub_port.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FDB_SIZE 1024
#define STATE_MAX (256 * 1024)	/* larger inputs are not worth a file write each */

static struct vswd v;
static char dir[64];
static char path[128];

static struct json_object *request(const char *cmd, const char *name)
{
	struct ctl_peer root = { .privileged = true, .fd = -1 };
	struct json_object *req = json_object_new_object(), *resp;

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (name)
		json_object_object_add(req, "name", json_object_new_string(name));
	resp = vswd_handle_request(&v, req, &root);
	json_object_put(req);
	return resp;
}

static unsigned count_ports(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < PORT_MAX; i++)
		n += atomic_load(&v.sw->ports[i]) != NULL;
	return n;
}

static size_t count_flows(void)
{
	struct json_object *lines = vswd_flows_lines(&v);
	size_t n;

	if (!lines)
		abort();
	n = json_object_array_length(lines);
	json_object_put(lines);
	return n;
}

/* Delete every port and flow, free the stubs. */
static void reset(void)
{
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v.sw->ports[i]);

		if (!p)
			continue;
		if (v.ngrave >= VSWD_GRAVE_MAX)
			vswd_free_graveyard(&v);
		json_object_put(request("port-del", p->name));
	}
	vswd_free_graveyard(&v);
	json_object_put(request("flow-del", NULL));
	/* The tables' miss behaviour (a state's `mod-table` lines) back to drop: the next input starts clean. */
	for (unsigned t = 0; t < FLOW_N_TABLES; t++) {
		struct ctl_peer root = { .privileged = true, .fd = -1 };
		struct json_object *req;

		if (flow_db_get_miss(v.flows, t) == FLOW_MISS_DROP)
			continue;
		req = json_object_new_object();
		json_object_object_add(req, "cmd", json_object_new_string("flow-mod-table"));
		json_object_object_add(req, "table", json_object_new_int((int)t));
		json_object_object_add(req, "miss", json_object_new_string("drop"));
		json_object_put(vswd_handle_request(&v, req, &root));
		json_object_put(req);
	}
}

/* Remove every file of the state directory (state.json, .corrupt-*, .unapplied-*, temporaries). */
static void empty_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (!d)
		abort();
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..") != 0)) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static void write_file(const char *p, const void *buf, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* The whole of @p, NUL-terminated, into a new buffer; its length in *@len. */
static char *read_file(const char *p, size_t *len)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0)
		abort();
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
		abort();
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	close(fd);
	return buf;
}

/* The file format's checksum (state.c): FNV-1a 64 of {"ports":P,"flows":F[,"tunnel_fdb":T][,"ofports":O]} printed plain. */
static void seal(struct json_object *o)
{
	struct json_object *ports, *flows, *body, *f;
	const char *s;
	uint64_t h = 0xcbf29ce484222325ull;
	char sum[32];

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "ports", &ports) ||
	    !json_object_object_get_ex(o, "flows", &flows))
		return;
	body = json_object_new_object();
	json_object_object_add(body, "ports", json_object_get(ports));
	json_object_object_add(body, "flows", json_object_get(flows));
	if (json_object_object_get_ex(o, "tunnel_fdb", &f))
		json_object_object_add(body, "tunnel_fdb", json_object_get(f));
	if (json_object_object_get_ex(o, "ofports", &f))
		json_object_object_add(body, "ofports", json_object_get(f));
	for (s = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE); *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	json_object_put(body);
	snprintf(sum, sizeof(sum), "fnv1a64:%016" PRIx64, h);
	json_object_object_add(o, "checksum", json_object_new_string(sum));
}

/* The input as the file to restore: as it is, or sealed (option bit 0). */
static void write_state(const uint8_t *data, size_t size, bool sealed)
{
	struct json_tokener *tok;
	struct json_object *o;
	const char *text;

	if (!sealed) {
		write_file(path, data, size);
		return;
	}
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	seal(o);
	text = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	if (text)
		write_file(path, text, strlen(text));
	else
		write_file(path, data, size);
	json_object_put(o);
}

/* Port "vm1" as the config file adds it (option bit 1): not saved in the state. */
static void add_config_port(void)
{
	struct json_object *conf = json_tokener_parse("{\"ports\":[{\"name\":\"vm1\",\"type\":\"tap\","
						      "\"ifname\":\"vsw-vm1\"}]}");
	char err[256];

	if (!conf || vswd_add_config_ports(&v, conf, err, sizeof(err)) < 0)
		abort();
	json_object_put(conf);
}

/* Each slot's port name ("" for none) into @names, to compare the numbers two restores gave. */
static void port_names(char (*names)[PORT_NAME_MAX])
{
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct port *p = atomic_load(&v.sw->ports[i]);

		snprintf(names[i], PORT_NAME_MAX, "%s", p ? p->name : "");
	}
}

/* At exit: the temporary state directory goes (it is empty between inputs). */
static void remove_dir(void)
{
	empty_dir();
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char names[PORT_MAX][PORT_NAME_MAX], names_again[PORT_MAX][PORT_NAME_MAX];
	unsigned ports_before, ports_after;
	size_t flows_before, saved_len;
	char err[1024], *saved;
	int base_fds, rc;

	if (!v.sw) {
		struct vswd_config cfg;

		/* On tmpfs when there is one: every change is saved with fsync, a no-op there. */
		snprintf(dir, sizeof(dir), "/dev/shm/vsw-fuzz-state.XXXXXX");
		if (!mkdtemp(dir)) {
			snprintf(dir, sizeof(dir), "/tmp/vsw-fuzz-state.XXXXXX");
			if (!mkdtemp(dir))
				abort();
		}
		atexit(remove_dir);
		snprintf(path, sizeof(path), "%s/state.json", dir);
		vswd_config_default(&cfg);
		cfg.fdb_size = FUZZ_FDB_SIZE;
		snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", dir);
		if (vswd_init(&v, &cfg, err, sizeof(err)) < 0)
			abort();
		v.create_hook = stub_port_create;
	}
	if (size < 1 || size > STATE_MAX)
		return 0;
	base_fds = proc_count_fds();
	if (data[0] & 2)
		add_config_port();
	empty_dir();
	write_state(data + 1, size - 1, data[0] & 1);
	ports_before = count_ports();
	flows_before = count_flows();

	err[0] = '\0';
	rc = vswd_state_restore(&v, err, sizeof(err));
	if (rc < 0) {
		/* Refused whole: nothing of it applied, the file moved aside, the reason said. */
		if (count_ports() != ports_before || count_flows() != flows_before || exists(path) || !err[0])
			abort();
	} else {
		/*
		 * What vswd wrote back is a file it accepts whole, with no failure, into
		 * a vswd of the same config (its flows may name the config's ports),
		 * and which gives the same ports.
		 */
		if (!exists(path) || atomic_load(&v.sw->ports[0]))
			abort();
		ports_after = count_ports();
		port_names(names);
		saved = read_file(path, &saved_len);
		reset();
		if (data[0] & 2)
			add_config_port();
		empty_dir();
		write_file(path, saved, saved_len);
		free(saved);
		if (vswd_state_restore(&v, err, sizeof(err)) != 0 || count_ports() != ports_after)
			abort();
		port_names(names_again);
		if (memcmp(names, names_again, sizeof(names)) != 0)
			abort(); /* a port came back with another number than the one the file recorded */
	}
	reset();
	empty_dir();
	if (stub_ports_live != 0 || proc_count_fds() != base_fds)
		abort();
	return 0;
}
