/* berth — which namespace a sysctl belongs to.
 *
 * Contract: sysctl_namespace() gives the runtime's rule, used by the init
 * (which sets only namespaced sysctls) and by `berth check`: "ipc" for the
 * System V IPC and POSIX message queue ones, "uts" for kernel.hostname and
 * kernel.domainname, "network" for net.*; NULL when it is not namespaced
 * (setting it would change the host).
 * sysctl_validate() is the rule for linux.sysctl's i-th key, for the init
 * (which stops at the first problem) and for `berth check` (collecting): a
 * name with no "..", no "/", namespaced, and the container has that
 * namespace.  It returns -1 when the reporter stops, 1 when it collected a
 * problem, 0 when the key is fine.
 */
#ifndef BERTH_SYSCTL_H
#define BERTH_SYSCTL_H

#include <stddef.h>

#include "error.h"
#include "spec.h"

const char *sysctl_namespace (const char *key);
int sysctl_validate (const struct oci_config *c, size_t i, struct berth_reporter *rep);

#endif
