/* berth — the cgroupfs work that depends on the layout: pure cgroup v2.
 *
 * Contract:
 *  - Only the v2 directory of the cgroup (controller "", cgroup_dir (cg, ""))
 *    is read or written; a cgroup without one has no freezer ("the freezer
 *    controller is not mounted") and no processes to list ("container has no
 *    cgroup").
 *  - freeze writes cgroup.freeze once and waits (5 s at most) for the
 *    "frozen" key of cgroup.events to follow; a freeze that does not
 *    complete is undone.  is_frozen reads that same key.
 *  - kill_all writes cgroup.kill (Linux 5.14; pid by pid where it is
 *    missing or refused).
 *  - cgroupfs_v1.c uses freeze and is_frozen for the unified directory of a
 *    hybrid host that has no v1 freezer.
 *  The driver tables (driver.h) hold these for the cgroupfs driver on a v2
 *  host, and the systemd driver calls them for a cgroup of mode v2.
 */
#ifndef BERTH_CGROUPFS_V2_H
#define BERTH_CGROUPFS_V2_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "error.h"

int cgroupfs_v2_freeze (const struct berth_cgroup *cg, bool freeze, struct berth_error *err);
bool cgroupfs_v2_is_frozen (const struct berth_cgroup *cg);
int cgroupfs_v2_pids (const struct berth_cgroup *cg, pid_t **pids, size_t *n,
                      struct berth_error *err);
int cgroupfs_v2_kill_all (const struct berth_cgroup *cg, long timeout_ms, struct berth_error *err);
int cgroupfs_v2_check_unused (const struct berth_cgroup *cg, struct berth_error *err);

#endif
