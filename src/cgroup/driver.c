/* The cgroup drivers' operation tables (the none table is in
   cgroup_none.c), and the choice between them.  See driver.h for the
   contract. */
#include "cgroup/driver.h"
#include "cgroup/cgroupfs_v1.h"
#include "cgroup/cgroupfs_v2.h"
#include "cgroup/cgroup_none.h"
#include "cgroup/resources.h"
#include "cgroup/systemd_cgroup.h"
#include "cleanup.h"
#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- shared by all three: the cgroupfs mechanics of cgroup.h ---------------- */

static int
has_cgroup (const struct berth_cgroup *cg, const char *what, struct berth_error *err)
{
  (void) cg, (void) what, (void) err;
  return 0;
}

static int
apply_files (const struct berth_cgroup *cg, const struct oci_resources *r,
             struct berth_error *err)
{
  return cgroup_apply_resources (cg, r, false, err);
}

/* ---- cgroupfs: berth makes the directories (v1 and hybrid, or v2) ------------ */

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
  return 0;
}

static const char *
fs_clone_into (const struct berth_cgroup *cg)
{
  return cgroup_dir (cg, "");
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

/* v1 hierarchies, alone or with the unified v2 one of a hybrid host. */
static const struct cgroup_driver cgroupfs_v1_driver = {
  .name = "cgroupfs-v1",
  .available = fs_available,
  .check_path = fs_check_path,
  .prepare = fs_prepare,
  .make = cgroup_create,
  .check_unused = cgroupfs_v1_check_unused,
  .attach_init = fs_attach_init,
  .enter_self = cgroup_enter_self,
  .clone_into = fs_clone_into,
  .apply = apply_files,
  .update = fs_update,
  .enter = cgroup_enter,
  .freeze = cgroupfs_v1_freeze,
  .is_frozen = cgroupfs_v1_is_frozen,
  .pids = cgroupfs_v1_pids,
  .kill_all = cgroupfs_v1_kill_all,
  .destroy = cgroup_destroy,
  .present = has_cgroup,
};

static const struct cgroup_driver cgroupfs_v2_driver = {
  .name = "cgroupfs-v2",
  .available = fs_available,
  .check_path = fs_check_path,
  .prepare = fs_prepare,
  .make = cgroup_create,
  .check_unused = cgroupfs_v2_check_unused,
  .attach_init = fs_attach_init,
  .enter_self = cgroup_enter_self,
  .clone_into = fs_clone_into,
  .apply = apply_files,
  .update = fs_update,
  .enter = cgroup_enter,
  .freeze = cgroupfs_v2_freeze,
  .is_frozen = cgroupfs_v2_is_frozen,
  .pids = cgroupfs_v2_pids,
  .kill_all = cgroupfs_v2_kill_all,
  .destroy = cgroup_destroy,
  .present = has_cgroup,
};

/* The layout is the host's: every cgroup of one host has the same. */
static const struct cgroup_driver *
cgroupfs_for (enum berth_cgroup_mode mode)
{
  return mode == BERTH_CGROUP_V2 ? &cgroupfs_v2_driver : &cgroupfs_v1_driver;
}

/* ---- systemd ------------------------------------------------------------------- */

/* Only the names: no bus traffic, nothing made. */
static int
sd_check_path (const char *cgroups_path, const char *id, const char **fs_path,
               struct berth_error *err)
{
  cleanup_free char *unit = NULL, *slice = NULL;

  *fs_path = NULL; /* "slice:prefix:name" is no cgroupfs path */
  return systemd_cgroup_names (cgroups_path, id, false, &unit, &slice, err);
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

/* The unit's cgroup is worked on as any other of its layout: systemd only
   placed it. */
static int
sd_freeze (const struct berth_cgroup *cg, bool freeze, struct berth_error *err)
{
  return cgroupfs_for (cg->mode)->freeze (cg, freeze, err);
}

static bool
sd_is_frozen (const struct berth_cgroup *cg)
{
  return cgroupfs_for (cg->mode)->is_frozen (cg);
}

static int
sd_pids (const struct berth_cgroup *cg, pid_t **pids, size_t *n, struct berth_error *err)
{
  return cgroupfs_for (cg->mode)->pids (cg, pids, n, err);
}

static int
sd_kill_all (const struct berth_cgroup *cg, long timeout_ms, struct berth_error *err)
{
  return cgroupfs_for (cg->mode)->kill_all (cg, timeout_ms, err);
}

/* A unit is always this create's own: stopping it (and removing what
   directories remain) is the whole undo. */
static int
sd_destroy (struct berth_cgroup *cg, bool only_created, struct berth_error *err)
{
  (void) only_created;
  return systemd_cgroup_destroy (cg, err);
}

static int
sd_attach_init (const char *cgroups_path, const char *id, pid_t pid,
                const struct oci_resources *r, struct berth_cgroup *cg, struct berth_error *err)
{
  return systemd_cgroup_create (cgroups_path, id, false, pid, r, cg, err);
}

/* Placement is systemd's; everything done to the live cgroup is the same
   file work as with cgroupfs on the cgroup's layout (as runc's systemd
   drivers do). */
static const struct cgroup_driver systemd_driver = {
  .name = "systemd",
  .available = systemd_cgroup_available,
  .check_path = sd_check_path,
  .prepare = sd_prepare,
  .check_unused = sd_check_unused,
  .attach_init = sd_attach_init,
  .enter_self = cgroup_enter_self, /* exec only: create's cgroup is the unit's, made with the init */
  .clone_into = fs_clone_into,
  .apply = apply_files,
  .update = sd_update,
  .enter = cgroup_enter,
  .freeze = sd_freeze,
  .is_frozen = sd_is_frozen,
  .pids = sd_pids,
  .kill_all = sd_kill_all,
  .destroy = sd_destroy,
  .present = has_cgroup,
};

/* ---- systemd, rootless: the user's own manager ------------------------------------ */

static int
sdu_check_path (const char *cgroups_path, const char *id, const char **fs_path,
                struct berth_error *err)
{
  cleanup_free char *unit = NULL, *slice = NULL;

  *fs_path = NULL;
  return systemd_cgroup_names (cgroups_path, id, true, &unit, &slice, err);
}

/* As sd_prepare, and a v1 host is refused before the init exists; root in
   a user namespace may yet turn out to be the system manager's
   (systemd_cgroup_create asks the bus), and is refused there if not. */
static int
sdu_prepare (const char *cgroups_path, const char *id, struct berth_cgroup *cg,
             struct berth_error *err)
{
  enum berth_cgroup_mode mode;
  const char *ignored;

  memset (cg, 0, sizeof *cg);
  if (sdu_check_path (cgroups_path, id, &ignored, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      return -1;
    }
  if (geteuid () == 0)
    return 0;
  if (cgroup_detect_mode (&mode, err) < 0)
    return -1;
  return systemd_cgroup_user_check (mode, err);
}

static int
sdu_attach_init (const char *cgroups_path, const char *id, pid_t pid,
                 const struct oci_resources *r, struct berth_cgroup *cg, struct berth_error *err)
{
  return systemd_cgroup_create (cgroups_path, id, true, pid, r, cg, err);
}

/* The device rules are left out, as runc's rootless managers ignore them:
   an unprivileged user cannot attach the v2 device filter (BPF), and a
   user namespace could not use a device it was not given anyway. */
static int
sdu_files (const struct berth_cgroup *cg, const struct oci_resources *r, bool update,
           struct berth_error *err)
{
  struct oci_resources no_devices;

  if (r == NULL)
    return 0;
  no_devices = *r;
  no_devices.has_devices = false;
  return cgroup_apply_resources (cg, &no_devices, update, err);
}

static int
sdu_apply (const struct berth_cgroup *cg, const struct oci_resources *r,
           struct berth_error *err)
{
  return sdu_files (cg, r, false, err);
}

static int
sdu_update (const struct berth_cgroup *cg, const struct oci_resources *r,
            struct berth_error *err)
{
  if (sdu_files (cg, r, true, err) < 0)
    return -1;
  return systemd_cgroup_unit (cg) ? systemd_cgroup_update (cg, r, err) : 0;
}

/* exec: moving a process needs write access to the cgroup.procs of the
   common ancestor of where it is and the unit, which a user outside the
   manager's subtree (a login session's scope) lacks.  As runc's exec, the
   process then stays where it is. */
static int
sdu_enter (const struct berth_cgroup *cg, pid_t pid, struct berth_error *err)
{
  char why[1024];

  if (cgroup_enter (cg, pid, err) == 0)
    return 0;
  if (err->errnum != EACCES && err->errnum != EPERM && err->errnum != EROFS)
    return -1;
  berth_debug ("rootless: process %d stays outside the container's cgroup: %s", (int) pid,
               berth_err_format (err, why, sizeof why));
  berth_err_clear (err);
  return 0;
}

static const struct cgroup_driver systemd_user_driver = {
  .name = "systemd-user",
  .available = systemd_cgroup_available,
  .check_path = sdu_check_path,
  .prepare = sdu_prepare,
  .check_unused = sd_check_unused,
  .attach_init = sdu_attach_init,
  .apply = sdu_apply,
  .update = sdu_update,
  .enter = sdu_enter,
  .freeze = sd_freeze,
  .is_frozen = sd_is_frozen,
  .pids = sd_pids,
  .kill_all = sd_kill_all,
  .destroy = sd_destroy,
  .present = has_cgroup,
};

/* ---- the choice ---------------------------------------------------------------- */

const struct cgroup_driver *
cgroup_driver_select (bool systemd_cgroup)
{
  enum berth_cgroup_mode mode = BERTH_CGROUP_V1;

  if (systemd_cgroup)
    return &systemd_driver;
  /* A host whose layout cannot be read gets the v1 table: its prepare
     (cgroup_resolve) reads the layout again and reports why it cannot. */
  if (cgroup_detect_mode (&mode, &(struct berth_error){ 0 }) < 0)
    return &cgroupfs_v1_driver;
  return cgroupfs_for (mode);
}

const struct cgroup_driver *
cgroup_driver_select_as (bool systemd_cgroup, bool rootless)
{
  if (systemd_cgroup && rootless)
    return &systemd_user_driver;
  return cgroup_driver_select (systemd_cgroup);
}

const struct cgroup_driver *
cgroup_driver_fallback (const struct cgroup_driver *d, const char *cgroups_path,
                        const struct berth_error *err)
{
  if (d == &systemd_driver || d == &systemd_user_driver || (cgroups_path && cgroups_path[0]))
    return NULL;
  if (err->errnum != EACCES && err->errnum != EPERM && err->errnum != EROFS)
    return NULL;
  return &cgroup_none_driver;
}

const struct cgroup_driver *
cgroup_driver_of (const struct berth_cgroup *cg)
{
  if (cg->systemd_unit)
    return systemd_cgroup_user (cg) ? &systemd_user_driver : &systemd_driver;
  return cg->n_dirs ? cgroupfs_for (cg->mode) : &cgroup_none_driver;
}
