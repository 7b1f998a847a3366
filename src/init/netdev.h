/* berth — linux.netDevices: host network interfaces moved into the
 * container's network namespace (config-linux.md "Network Devices").
 *
 * Contract: netdev_check() runs in the runtime before anything is made:
 * each named interface exists on the host, each new name is a valid
 * interface name, and the container has a network namespace of its own
 * (new or joined).  netdev_move_all() runs in the runtime once the init's
 * namespaces exist (`netns` is an fd of the init's network namespace):
 * for each device it first checks that the new name is free there (unless
 * it is a "%d" template, which the kernel completes), then moves and
 * renames it in one request, adds back its permanent addresses of global
 * scope (a move drops them) and sets it up.  Nothing is moved back at
 * delete (the spec forbids it): a virtual device dies with the namespace,
 * a physical one returns to the host by itself.  Errors name the JSON path
 * .linux.netDevices["NAME"].
 */
#ifndef BERTH_NETDEV_H
#define BERTH_NETDEV_H

#include "error.h"
#include "spec.h"

int netdev_check (const struct oci_config *c, struct berth_error *err);
int netdev_move_all (const struct oci_linux *l, int netns, struct berth_error *err);

#endif
