/* berth — linux.resources applied to the container's cgroup.
 *
 * Contract: cgroup_apply_resources() writes every property of `r` that is
 * present to the matching files of the container's cgroup directories (v1
 * files on v1 hierarchies, v2 files with runc's conversions on a v2
 * hierarchy), before the container's process runs user code.  The device
 * rules always get runc's default allow-list appended (the devices berth
 * creates in /dev must stay usable).  A property whose controller or file is
 * absent on this host is an error naming the property's JSON path and the
 * missing file; with `update`, the same, for a running container.
 */
#ifndef BERTH_RESOURCES_H
#define BERTH_RESOURCES_H

#include <stdbool.h>

#include "cgroup.h"
#include "error.h"
#include "spec.h"

int cgroup_apply_resources (const struct berth_cgroup *cg, const struct oci_resources *r,
                            bool update, struct berth_error *err);

#endif
