/* berth — which namespace a sysctl belongs to.
 *
 * Contract: sysctl_namespace() gives the runtime's rule, used by the init
 * (which sets only namespaced sysctls) and by `berth check`: "ipc" for the
 * System V IPC and POSIX message queue ones, "uts" for kernel.hostname and
 * kernel.domainname, "network" for net.*; NULL when it is not namespaced
 * (setting it would change the host).
 */
#ifndef BERTH_SYSCTL_H
#define BERTH_SYSCTL_H

const char *sysctl_namespace (const char *key);

#endif
