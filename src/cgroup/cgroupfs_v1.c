/* The layout-dependent cgroupfs work of a v1 or hybrid host.  See
   cgroupfs_v1.h for the contract. */
#include "cgroup/cgroupfs_v1.h"
#include "cgroup/cgroup_priv.h"
#include "cgroup/cgroupfs_v2.h"
#include "cleanup.h"
#include "base/utils.h"

#include <stdlib.h>
#include <string.h>

/* The kernel's word on the freeze: "FROZEN" or "THAWED" (or "FREEZING"). */
static bool
freeze_done (const char *dir, bool freeze)
{
  cleanup_free char *path = cgroup_join (dir, "freezer.state");
  cleanup_free char *text = NULL;

  if (path == NULL || cgroup_read_file (path, &text, &(struct berth_error){ 0 }) < 0)
    return false;
  return strcmp (text, freeze ? "FROZEN\n" : "THAWED\n") == 0;
}

int
cgroupfs_v1_freeze (const struct berth_cgroup *cg, bool freeze, struct berth_error *err)
{
  const char *dir = cgroup_dir (cg, "freezer");
  cleanup_free char *path = dir ? cgroup_join (dir, "freezer.state") : NULL;

  /* A hybrid host without a v1 freezer still has the unified one. */
  if (dir == NULL)
    return cgroupfs_v2_freeze (cg, freeze, err);
  if (path == NULL)
    return cgroup_oom (err);
  /* The state may stay FREEZING while tasks are busy in the kernel: write
     again (as runc does) until it settles. */
  return cgroup_freeze_poll (dir, path, freeze, freeze ? "FROZEN" : "THAWED", "THAWED", true,
                             freeze_done, err);
}

bool
cgroupfs_v1_is_frozen (const struct berth_cgroup *cg)
{
  const char *dir = cgroup_dir (cg, "freezer");
  cleanup_free char *path = dir ? cgroup_join (dir, "freezer.state") : NULL;
  char text[64];

  if (dir == NULL)
    return cgroupfs_v2_is_frozen (cg);
  if (path == NULL || read_small (path, text, sizeof text) < 0)
    return false;
  return strcmp (text, "FROZEN\n") == 0 || strcmp (text, "FROZEN") == 0;
}

/* Each hierarchy lists every process of the container: pids, else memory,
   else the first. */
int
cgroupfs_v1_pids (const struct berth_cgroup *cg, pid_t **pids, size_t *n, struct berth_error *err)
{
  const char *dir = cgroup_dir (cg, "pids");

  if (!dir && !(dir = cgroup_dir (cg, "memory")))
    dir = cg->n_dirs ? cg->dirs[0].path : NULL;
  return cgroup_pids_below (dir, pids, n, err);
}

static const struct cgroup_layout v1 = {
  .pids = cgroupfs_v1_pids,
  .is_frozen = cgroupfs_v1_is_frozen,
  .freeze = cgroupfs_v1_freeze,
};

/* A hybrid host's unified directory has cgroup.kill as well. */
int
cgroupfs_v1_kill_all (const struct berth_cgroup *cg, long timeout_ms, struct berth_error *err)
{
  return cgroup_layout_kill_all (&v1, cg, cgroup_dir (cg, ""), timeout_ms, err);
}

int
cgroupfs_v1_check_unused (const struct berth_cgroup *cg, struct berth_error *err)
{
  return cgroup_layout_check_unused (&v1, cg, err);
}
