/* The layout-dependent cgroupfs work of a pure cgroup v2 host.  See
   cgroupfs_v2.h for the contract. */
#include "cgroup/cgroupfs_v2.h"
#include "cgroup/cgroup_priv.h"
#include "cleanup.h"
#include "base/utils.h"

#include <stdlib.h>
#include <string.h>

/* The kernel's word on the freeze: the "frozen" key of cgroup.events. */
static bool
freeze_done (const char *dir, bool freeze)
{
  cleanup_free char *path = cgroup_join (dir, "cgroup.events");
  cleanup_free char *text = NULL;
  const char *want = freeze ? "frozen 1\n" : "frozen 0\n";

  if (path == NULL || cgroup_read_file (path, &text, &(struct berth_error){ 0 }) < 0)
    return false;
  for (const char *p = text; p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, want, strlen (want)) == 0)
      return true;
  return false;
}

int
cgroupfs_v2_freeze (const struct berth_cgroup *cg, bool freeze, struct berth_error *err)
{
  const char *dir = cgroup_dir (cg, "");
  cleanup_free char *path = dir ? cgroup_join (dir, "cgroup.freeze") : NULL;

  if (dir == NULL)
    return berth_err (err, BERTH_E_UNSUPPORTED,
                      "the freezer controller is not mounted on this host");
  if (path == NULL)
    return cgroup_oom (err);
  /* One write; the kernel then takes its time. */
  return cgroup_freeze_poll (dir, path, freeze, freeze ? "1" : "0", "0", false, freeze_done, err);
}

bool
cgroupfs_v2_is_frozen (const struct berth_cgroup *cg)
{
  const char *dir = cgroup_dir (cg, "");
  cleanup_free char *path = dir ? cgroup_join (dir, "cgroup.events") : NULL;
  char text[256];

  if (path == NULL || read_small (path, text, sizeof text) < 0)
    return false;
  return strncmp (text, "frozen 1\n", 9) == 0 || strstr (text, "\nfrozen 1\n") != NULL;
}

/* Every directory of a v2 cgroup is the one hierarchy's. */
int
cgroupfs_v2_pids (const struct berth_cgroup *cg, pid_t **pids, size_t *n, struct berth_error *err)
{
  return cgroup_pids_below (cgroup_dir (cg, ""), pids, n, err);
}

static const struct cgroup_layout v2 = {
  .pids = cgroupfs_v2_pids,
  .is_frozen = cgroupfs_v2_is_frozen,
  .freeze = cgroupfs_v2_freeze,
};

int
cgroupfs_v2_kill_all (const struct berth_cgroup *cg, long timeout_ms, struct berth_error *err)
{
  return cgroup_layout_kill_all (&v2, cg, cgroup_dir (cg, ""), timeout_ms, err);
}

int
cgroupfs_v2_check_unused (const struct berth_cgroup *cg, struct berth_error *err)
{
  return cgroup_layout_check_unused (&v2, cg, err);
}
