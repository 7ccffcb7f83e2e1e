/* veth_ns.h - tests that need real interfaces: a network namespace of the test's own with veth pairs. */
#ifndef VSW_TESTS_VETH_NS_H
#define VSW_TESTS_VETH_NS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Move the calling process into a fresh network namespace (needs root),
 * turn IPv6 off there (no router solicitations or MLD on the pair), and
 * make the veth pair @a <-> @b with @queues queues each, both up.  Returns
 * true, or false with the reason in @why (the caller's tests then fail
 * with it).  The namespace and the pair vanish with the process.
 */
bool veth_ns_up(const char *a, const char *b, unsigned queues, char *why, size_t whylen);

/* One more veth pair @a <-> @b with @queues queues each, both up, in the namespace veth_ns_up() made. */
bool veth_ns_pair(const char *a, const char *b, unsigned queues, char *why, size_t whylen);

/* Run a shell command quietly; its exit status. */
int veth_ns_run(const char *cmd);

#endif
