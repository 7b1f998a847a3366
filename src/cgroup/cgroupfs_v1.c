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

/* "0" written to a v1 hierarchy's tasks file moves the writing thread
   (all of a process of ours, which has one) without taking the global lock
   that every move by pid takes for writing.  That lock's first writer after
   a quiet spell waits for a full RCU grace period: 7 ms on the development
   machine, where moving oneself takes 0.02 ms (bench/README.md).  A hybrid
   host's unified directory has no such file: a process is best cloned into
   it (clone_into), else it writes cgroup.procs as a move by pid would. */
int
cgroupfs_v1_enter_self (const struct berth_cgroup *cg, bool born_in_v2, struct berth_error *err)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      const struct berth_cgroup_dir *d = &cg->dirs[i];
      if (!*d->controller && born_in_v2)
        continue;
      cleanup_free char *file = cgroup_join (d->path, *d->controller ? "tasks" : "cgroup.procs");

      if (file == NULL || cgroup_write_file (file, "0", err) < 0)
        return file ? -1 : cgroup_oom (err);
    }
  return 0;
}

int
cgroupfs_v1_check_unused (const struct berth_cgroup *cg, struct berth_error *err)
{
  return cgroup_layout_check_unused (&v1, cg, err);
}
