/* The two cgroup drivers' operation tables, and the choice between them.
   See driver.h for the contract. */
#include "cgroup/driver.h"
#include "cgroup/resources.h"
#include "cgroup/systemd_cgroup.h"
#include "cleanup.h"

#include <stdlib.h>
#include <string.h>

/* ---- shared by both: the cgroupfs mechanics of cgroup.h -------------------- */

static int
apply_files (const struct berth_cgroup *cg, const struct oci_resources *r,
             struct berth_error *err)
{
  return cgroup_apply_resources (cg, r, false, err);
}

/* ---- cgroupfs ------------------------------------------------------------------ */

static int
fs_available (struct berth_error *err)
{
  (void) err;
  return 0;
}

static int
fs_check_path (const char *cgroups_path, const char *id, const char **fs_path,
               struct berth_error *err)
{
  (void) id, (void) err;
  *fs_path = cgroups_path; /* cgroup_resolve itself says what is wrong with it */
  return 0;
}

static int
fs_prepare (const char *cgroups_path, const char *id, struct berth_cgroup *cg,
            struct berth_error *err)
{
  if (cgroup_resolve (cgroups_path, id, cg, err) < 0)
    {
      berth_err_set_source (err, err->path[0] ? "config.json" : "");
      return -1;
    }
  return cgroup_create (cg, err);
}

/* The directories exist already: the init only joins them. */
static int
fs_attach_init (const char *cgroups_path, const char *id, pid_t pid,
                const struct oci_resources *r, struct berth_cgroup *cg, struct berth_error *err)
{
  (void) cgroups_path, (void) id, (void) r;
  return cgroup_enter (cg, pid, err);
}

static int
fs_update (const struct berth_cgroup *cg, const struct oci_resources *r, struct berth_error *err)
{
  return cgroup_apply_resources (cg, r, true, err);
}

static const struct cgroup_driver cgroupfs_driver = {
  .name = "cgroupfs",
  .available = fs_available,
  .check_path = fs_check_path,
  .prepare = fs_prepare,
  .check_unused = cgroup_check_unused,
  .attach_init = fs_attach_init,
  .apply = apply_files,
  .update = fs_update,
  .enter = cgroup_enter,
  .freeze = cgroup_freeze,
  .is_frozen = cgroup_is_frozen,
  .pids = cgroup_pids,
  .kill_all = cgroup_kill_all,
  .destroy = cgroup_destroy,
};

/* ---- systemd ------------------------------------------------------------------- */

/* Only the names: no bus traffic, nothing made. */
static int
sd_check_path (const char *cgroups_path, const char *id, const char **fs_path,
               struct berth_error *err)
{
  cleanup_free char *unit = NULL, *slice = NULL;

  *fs_path = NULL; /* "slice:prefix:name" is no cgroupfs path */
  return systemd_cgroup_names (cgroups_path, id, &unit, &slice, err);
}

/* The unit can only be started with a process in it: attach_init makes
   it.  Here the path is only checked, so that a bad one is refused before
   anything is started. */
static int
sd_prepare (const char *cgroups_path, const char *id, struct berth_cgroup *cg,
            struct berth_error *err)
{
  const char *ignored;

  memset (cg, 0, sizeof *cg);
  if (sd_check_path (cgroups_path, id, &ignored, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      return -1;
    }
  return 0;
}

/* The unit is new, with only the init in it: systemd refuses a name in use
   (systemd_cgroup_create), so there is nothing left to check. */
static int
sd_check_unused (const struct berth_cgroup *cg, struct berth_error *err)
{
  (void) cg, (void) err;
  return 0;
}

static int
sd_update (const struct berth_cgroup *cg, const struct oci_resources *r, struct berth_error *err)
{
  /* The files first, as their checks (checkBeforeUpdate) refuse before
     systemd has changed anything; systemd then sets the same values (CPU
     quota rounded to whole percent). */
  if (cgroup_apply_resources (cg, r, true, err) < 0)
    return -1;
  if (systemd_cgroup_unit (cg) && systemd_cgroup_update (cg, r, err) < 0)
    return -1;
  return 0;
}

/* A unit is always this create's own: stopping it (and removing what
   directories remain) is the whole undo. */
static int
sd_destroy (struct berth_cgroup *cg, bool only_created, struct berth_error *err)
{
  (void) only_created;
  return systemd_cgroup_destroy (cg, err);
}

/* Placement is systemd's; everything done to the live cgroup is the same
   file work as with cgroupfs (as runc's systemd drivers do). */
static const struct cgroup_driver systemd_driver = {
  .name = "systemd",
  .available = systemd_cgroup_available,
  .check_path = sd_check_path,
  .prepare = sd_prepare,
  .check_unused = sd_check_unused,
  .attach_init = systemd_cgroup_create,
  .apply = apply_files,
  .update = sd_update,
  .enter = cgroup_enter,
  .freeze = cgroup_freeze,
  .is_frozen = cgroup_is_frozen,
  .pids = cgroup_pids,
  .kill_all = cgroup_kill_all,
  .destroy = sd_destroy,
};

/* ---- the choice ---------------------------------------------------------------- */

const struct cgroup_driver *
cgroup_driver_select (bool systemd_cgroup)
{
  return systemd_cgroup ? &systemd_driver : &cgroupfs_driver;
}

const struct cgroup_driver *
cgroup_driver_of (const struct berth_cgroup *cg)
{
  return cg->systemd_unit ? &systemd_driver : &cgroupfs_driver;
}
