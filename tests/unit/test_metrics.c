/* test_metrics.c - unit tests of the OpenMetrics writer (ctl/ctl_metrics.c): escapes, families, types, # EOF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ctl/ctl_metrics.h"

/* The text ctl_stats_openmetrics() writes for the stats reply @json (the caller frees it). */
static char *render(const char *json)
{
	struct json_object *r = json_tokener_parse(json);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(r);
	assert_non_null(f);
	assert_int_equal(ctl_stats_openmetrics(r, f), 0);
	fclose(f);
	json_object_put(r);
	return text;
}

/* OpenMetrics' escaped-char: backslash, double quote and newline; nothing else changes. */
static void test_escape_label(void **state)
{
	char buf[64];

	assert_int_equal(om_escape_label(buf, sizeof(buf), "a\"b\\c\nd\te"), 12);
	assert_string_equal(buf, "a\\\"b\\\\c\\nd\te");
	/* Truncated like snprintf (the full length back, a NUL within @len), never inside an escape. */
	assert_int_equal(om_escape_label(buf, 4, "\"\"\""), 6);
	assert_string_equal(buf, "\\\"");
	assert_int_equal(om_escape_label(buf, 4, "ab\""), 4);
	assert_string_equal(buf, "ab");
}

/* A port name with every character that needs escaping arrives escaped in every sample's label. */
static void test_port_label_escaped(void **state)
{
	char *t = render("{\"ok\":true,\"ports\":[{\"name\":\"a\\\"b\\\\c\\nd\",\"rx_packets\":7,"
			 "\"drops\":{\"runt\":2}}],\"workers\":[]}");

	assert_non_null(strstr(t, "vsw_port_rx_packets_total{port=\"a\\\"b\\\\c\\nd\"} 7\n"));
	assert_non_null(strstr(t, "vsw_port_drops_total{port=\"a\\\"b\\\\c\\nd\",reason=\"runt\"} 2\n"));
	free(t);
}

/*
 * Samples of one family stay together though they come from different
 * ports (OpenMetrics: "MetricFamilies MUST NOT be interleaved"); counters
 * are typed counter with _total samples, gauges gauge without; bytes carry
 * their unit; the text ends with # EOF.
 */
static void test_families(void **state)
{
	char *t = render("{\"ok\":true,\"ports\":[{\"name\":\"p\",\"rx_bytes\":1,\"fdb\":{\"entries\":3,\"mac_moves\":4}},"
			 "{\"name\":\"q\",\"rx_bytes\":2,\"fdb\":{\"entries\":5,\"mac_moves\":6}}],"
			 "\"workers\":[{\"id\":1,\"rounds\":9,\"stages\":{\"rx.tap\":{\"cycles\":11}}}]}");
	const char *want = "# TYPE vsw_port_rx_bytes counter\n"
			   "# UNIT vsw_port_rx_bytes bytes\n"
			   "# HELP vsw_port_rx_bytes Bytes into the switch from the port.\n"
			   "vsw_port_rx_bytes_total{port=\"p\"} 1\n"
			   "vsw_port_rx_bytes_total{port=\"q\"} 2\n"
			   "# TYPE vsw_port_fdb_entries gauge\n"
			   "# HELP vsw_port_fdb_entries MAC addresses learned on the port.\n"
			   "vsw_port_fdb_entries{port=\"p\"} 3\n"
			   "vsw_port_fdb_entries{port=\"q\"} 5\n"
			   "# TYPE vsw_port_fdb_mac_moves counter\n"
			   "# HELP vsw_port_fdb_mac_moves MACs the port took over from another port.\n"
			   "vsw_port_fdb_mac_moves_total{port=\"p\"} 4\n"
			   "vsw_port_fdb_mac_moves_total{port=\"q\"} 6\n"
			   "# TYPE vsw_worker_rounds counter\n"
			   "# HELP vsw_worker_rounds Polling rounds of the worker.\n"
			   "vsw_worker_rounds_total{worker=\"1\"} 9\n"
			   "# TYPE vsw_stage_cycles counter\n"
			   "# HELP vsw_stage_cycles Cycle counter ticks spent in a data path stage, while stage timing is on.\n"
			   "vsw_stage_cycles_total{worker=\"1\",stage=\"rx.tap\"} 11\n"
			   "# EOF\n";

	assert_string_equal(t, want);
	free(t);
}

/* A number the writer has no help for still becomes a sample, its help naming where it is in the reply. */
static void test_unknown_counter(void **state)
{
	char *t = render("{\"ok\":true,\"ports\":[{\"name\":\"p\",\"vlan\":{\"tagged.in\":5}}],\"workers\":[]}");

	assert_non_null(strstr(t, "# TYPE vsw_port_vlan_tagged_in counter\n"
				  "# HELP vsw_port_vlan_tagged_in vswctl stats --json: ports[].vlan.tagged.in.\n"
				  "vsw_port_vlan_tagged_in_total{port=\"p\"} 5\n# EOF\n"));
	free(t);
}

/*
 * The flow tables: one family per key labelled by table (flows a gauge,
 * matched counts counters); a vxlan port's "tunnel" object: its counts of
 * things (remotes, *_entries) gauges, its events counters.
 */
static void test_tables_and_tunnel(void **state)
{
	char *t = render("{\"ok\":true,\"ports\":[{\"name\":\"vx\",\"tunnel\":{\"rx_bad_short\":3,\"remotes\":2,"
			 "\"fdb_static_entries\":1}}],\"workers\":[],\"tables\":[{\"table\":0,\"flows\":2,"
			 "\"matched_packets\":6,\"matched_bytes\":480},{\"table\":1,\"flows\":0,\"matched_packets\":0,"
			 "\"matched_bytes\":0}]}");
	const char *want =
		"# TYPE vsw_port_tunnel_rx_bad_short counter\n"
		"# HELP vsw_port_tunnel_rx_bad_short VXLAN datagrams dropped: too short for the VXLAN and Ethernet headers.\n"
		"vsw_port_tunnel_rx_bad_short_total{port=\"vx\"} 3\n"
		"# TYPE vsw_port_tunnel_remotes gauge\n"
		"# HELP vsw_port_tunnel_remotes Remote VTEPs the port knows: its flood list and static entries' remotes.\n"
		"vsw_port_tunnel_remotes{port=\"vx\"} 2\n"
		"# TYPE vsw_port_tunnel_fdb_static_entries gauge\n"
		"# HELP vsw_port_tunnel_fdb_static_entries Static entries of the tunnel fdb (tunnel fdb add).\n"
		"vsw_port_tunnel_fdb_static_entries{port=\"vx\"} 1\n"
		"# TYPE vsw_table_flows gauge\n"
		"# HELP vsw_table_flows Flows (rules) in the OpenFlow table.\n"
		"vsw_table_flows{table=\"0\"} 2\n"
		"vsw_table_flows{table=\"1\"} 0\n"
		"# TYPE vsw_table_matched_packets counter\n"
		"# HELP vsw_table_matched_packets Frames the table's rules matched, deleted rules' included.\n"
		"vsw_table_matched_packets_total{table=\"0\"} 6\n"
		"vsw_table_matched_packets_total{table=\"1\"} 0\n"
		"# TYPE vsw_table_matched_bytes counter\n"
		"# UNIT vsw_table_matched_bytes bytes\n"
		"# HELP vsw_table_matched_bytes Bytes of the frames the table's rules matched, deleted rules' included.\n"
		"vsw_table_matched_bytes_total{table=\"0\"} 480\n"
		"vsw_table_matched_bytes_total{table=\"1\"} 0\n"
		"# EOF\n";

	assert_string_equal(t, want);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_label),
		cmocka_unit_test(test_port_label_escaped),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_unknown_counter),
		cmocka_unit_test(test_tables_and_tunnel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
