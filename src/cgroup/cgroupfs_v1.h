/* berth — the cgroupfs work that depends on the layout: v1 hierarchies,
 * alone (v1) or beside cgroup2 at /sys/fs/cgroup/unified (hybrid).
 *
 * Contract:
 *  - Processes are listed from one v1 hierarchy that sees all of them: the
 *    "pids" one, else "memory", else the first directory.
 *  - freeze writes freezer.state (FROZEN/THAWED), again on every poll while
 *    the kernel reports FREEZING, 5 s at most; a freeze that does not
 *    complete is undone.  is_frozen reads freezer.state.
 *  - The unified directory (controller "", which only a hybrid cgroup has)
 *    serves where it does today: freeze and is_frozen when no v1 freezer is
 *    mounted (cgroupfs_v2.h does that work), and cgroup.kill in kill_all.
 *    Without either, freeze fails as unsupported.
 *  The driver tables (driver.h) hold these for the cgroupfs driver on a v1
 *  or hybrid host, and the systemd driver calls them for such a cgroup.
 */
#ifndef BERTH_CGROUPFS_V1_H
#define BERTH_CGROUPFS_V1_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "error.h"

int cgroupfs_v1_freeze (const struct berth_cgroup *cg, bool freeze, struct berth_error *err);
bool cgroupfs_v1_is_frozen (const struct berth_cgroup *cg);
int cgroupfs_v1_pids (const struct berth_cgroup *cg, pid_t **pids, size_t *n,
                      struct berth_error *err);
int cgroupfs_v1_kill_all (const struct berth_cgroup *cg, long timeout_ms, struct berth_error *err);
int cgroupfs_v1_check_unused (const struct berth_cgroup *cg, struct berth_error *err);

#endif
