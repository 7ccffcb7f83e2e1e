/* vswd.c - the vsw daemon: vhost-user ports for VMs joined by a learning switch. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "ctl/config_load.h"
#include "ctl/daemon.h"
#include "ctl/reload.h"
#include "lib/log.h"
#include "port/port_types.h"

static void usage(FILE *f)
{
	char types[2048];

	/* The port types and their keys come from the type table (port_types.c), never from text here. */
	port_types_help(types, sizeof(types), "                    ");
	fprintf(f, "usage: vswd [--ctl PATH] [--ctl-group GROUP] [--config FILE] [--fdb-size MACS] [--flows FILE]\n"
		   "            [--state-dir DIR] [--foreground]\n"
		   "  --ctl PATH      control socket (default " VSWD_DEFAULT_CTL "), mode 0600: root and vswd's\n"
		   "                  user may connect\n"
		   "  --ctl-group GROUP  mode 0660 and this group: its members may connect too (but not name\n"
		   "                  files for vswd to open); overrides the config's \"ctl_group\"\n"
		   "  --config FILE   JSON: {\"workers\":N, \"cpus\":[...], \"busy_poll\":false, \"perf\":true,\n"
		   "                  \"mode\":\"learning\"|\"hub\", \"aging\":300, \"fdb_size\":%u, \"flood_budget\":4096\n"
		   "                  (flood copies per worker round, 0: none), \"ctl_group\":GROUP, \"flows\":FILE,\n"
		   "                  \"state_dir\":DIR,\n"
		   "                  \"ports\":[{\"name\":...,\n"
		   "                  \"type\":TYPE, KEY:VALUE...}]}, TYPE and its KEYs one of:\n"
		   "%s"
		   "                  any port: \"mac\", \"ip\" (lists), \"mac_limit\":N, \"flood_rate\":PPS (0: none),\n"
		   "                  \"tag\":VLAN, \"trunks\":\"10,20,30-40\", \"vlan_mode\":access|trunk|native-tagged|native-untagged,\n"
		   "                  \"ofport_request\":N (its number in flows, 1 to %d; taken: another, logged)\n"
		   "  --fdb-size MACS  the MACs the FDB is sized for (%u to %u, about 32 bytes each, allocated\n"
		   "                  at start); overrides the config's \"fdb_size\"\n"
		   "  --flows FILE    flow rules (docs/FLOWS.md) loaded at start and rewritten on every change;\n"
		   "                  overrides the config's \"flows\"\n"
		   "  --state-dir DIR  save what vswctl configures (ports, flows) to DIR/state.json on every\n"
		   "                  change and restore it at start, after the config's ports (the config wins\n"
		   "                  a name both have); overrides the config's \"state_dir\"\n"
		   "  --foreground    do not detach from the terminal\n",
		FDB_DEFAULT_SIZE, types, PORT_MAX - 1, FDB_SIZE_MIN, FDB_SIZE_MAX);
}

/*
 * A vhost-user port holds about eight fds (its sockets, kick and call
 * eventfds, the workers' dups of the kicks, guest memory): a thousand
 * ports need more than the usual soft limit of 1024.  Up to the hard one.
 */
static void raise_fd_limit(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
			log_warn("cannot raise the open file limit: %s", strerror(errno));
	}
}

/*
 * SIGHUP: read @config again and apply its port list (ctl/reload.h);
 * *@conf, what was applied last, becomes the new file.  A file that does
 * not read or check changes nothing.  systemd hears RELOADING=1 first and
 * READY=1 after, whatever came of it.
 */
static void reload(struct vswd *v, const char *config, struct json_object **conf)
{
	struct vswd_config check;
	struct json_object *fresh;
	struct timespec ts;
	char err[512];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	if (!config) {
		log_warn("reload: started without --config: nothing to read");
		goto out_ready;
	}
	log_info("reload: reading %s", config);
	fresh = config_load(config, err, sizeof(err));
	if (!fresh) {
		log_err("reload: %s; nothing changed", err);
		goto out_ready;
	}
	vswd_config_default(&check);
	if (vswd_config_from_json(&check, fresh, err, sizeof(err)) < 0) {
		log_err("reload: %s: %s; nothing changed", config, err);
		json_object_put(fresh);
		goto out_ready;
	}
	if (vswd_reload_ports(v, *conf, fresh, err, sizeof(err)) < 0)
		log_err("reload: %s: %s", config, err);
	json_object_put(*conf);
	*conf = fresh;
out_ready:
	sd_notify(0, "READY=1");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "ctl-group", required_argument, NULL, 'g' },
		{ "config", required_argument, NULL, 'f' },
		{ "fdb-size", required_argument, NULL, 's' },
		{ "flows", required_argument, NULL, 'w' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *ctl = VSWD_DEFAULT_CTL, *config = NULL, *group = NULL, *fdb_size = NULL, *flows = NULL, *state_dir = NULL;
	struct json_object *conf = NULL;
	struct vswd_config cfg;
	bool foreground = false;
	static struct vswd v;
	char err[256];
	int opt;

	while ((opt = getopt_long(argc, argv, "c:g:f:s:w:S:Fh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			ctl = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'f':
			config = optarg;
			break;
		case 's':
			fdb_size = optarg;
			break;
		case 'w':
			flows = optarg;
			break;
		case 'S':
			state_dir = optarg;
			break;
		case 'F':
			foreground = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	vswd_config_default(&cfg);
	if (config) {
		conf = config_load(config, err, sizeof(err));
		if (!conf) {
			fprintf(stderr, "vswd: %s\n", err);
			return 1;
		}
		if (vswd_config_from_json(&cfg, conf, err, sizeof(err)) < 0) {
			fprintf(stderr, "vswd: %s: %s\n", config, err);
			json_object_put(conf);
			return 1;
		}
	}
	if (group) {
		if (!group[0] || strlen(group) >= sizeof(cfg.ctl_group)) {
			fprintf(stderr, "vswd: --ctl-group: a group name of 1 to %zu bytes\n", sizeof(cfg.ctl_group) - 1);
			json_object_put(conf);
			return 2;
		}
		snprintf(cfg.ctl_group, sizeof(cfg.ctl_group), "%s", group);
	}
	if (fdb_size) {
		char *end;
		unsigned long n = strtoul(fdb_size, &end, 10);

		if (*end || end == fdb_size || fdb_size[0] == '-' || n < FDB_SIZE_MIN || n > FDB_SIZE_MAX) {
			fprintf(stderr, "vswd: --fdb-size: a count of MACs from %u to %u\n", FDB_SIZE_MIN, FDB_SIZE_MAX);
			json_object_put(conf);
			return 2;
		}
		cfg.fdb_size = (unsigned)n;
	}
	if (flows) {
		if (!flows[0] || strlen(flows) >= sizeof(cfg.flows_path)) {
			fprintf(stderr, "vswd: --flows: a file path\n");
			json_object_put(conf);
			return 2;
		}
		snprintf(cfg.flows_path, sizeof(cfg.flows_path), "%s", flows);
	}
	if (state_dir) {
		if (!state_dir[0] || strlen(state_dir) >= sizeof(cfg.state_dir) - 32) {
			fprintf(stderr, "vswd: --state-dir: a directory path\n");
			json_object_put(conf);
			return 2;
		}
		snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", state_dir);
	}
	raise_fd_limit();
	if (!foreground && daemon(1, 1) < 0) {
		perror("vswd: daemon");
		return 1;
	}
	if (vswd_start(&v, &cfg, ctl, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out_shutdown;
	}
	/*
	 * The state file first read and checked, and its port numbers given
	 * back to their names: the config's ports and the state's take them
	 * whatever order they come in.  A refused file is moved aside (logged).
	 */
	vswd_state_load(&v, err, sizeof(err));
	if (conf && vswd_add_config_ports(&v, conf, err, sizeof(err)) < 0) {
		log_err("%s: %s", config, err);
		goto out_shutdown;
	}
	/* After the config's ports: the flows name them. */
	if (vswd_flows_load(&v, err, sizeof(err)) < 0) {
		log_err("flows: %s", err);
		goto out_shutdown;
	}
	/*
	 * Last, what vswctl configured before the stop: it may name the
	 * config's ports in its flows.  A refused file was moved aside and a
	 * port that failed was left out (both logged): vswd runs with the rest.
	 * The file is rewritten with every port's number, the config's too.
	 */
	vswd_state_restore(&v, err, sizeof(err));
	log_info("ready: control socket %s, %u worker(s), %s", ctl, cfg.workers,
		 cfg.busy_poll ? "busy polling" : "event-driven");
	/* systemd (Type=notify): the socket listens and the configured ports are there. */
	sd_notifyf(0, "READY=1\nSTATUS=control socket %s, %u worker(s)", ctl, cfg.workers);
	while (!v.stop) {
		vswd_run_once(&v, 1000);
		if (v.reload) {
			v.reload = false;
			reload(&v, config, &conf);
		}
	}
	sd_notify(0, "STOPPING=1");
	json_object_put(conf);
	vswd_shutdown(&v);
	log_info("stopped");
	return 0;

out_shutdown:
	vswd_shutdown(&v);
	json_object_put(conf);
	return 1;
}
