/* berth — create's cgroup steps (create_job.h): the driver's prepare and
 * make, the cgroup recorded for delete --force and checked unused, the
 * resources written, and the init placed; shared with restore.
 */
#include "lifecycle/container_priv.h"
#include "lifecycle/create_job.h"
#include "cgroup/cgroup.h"
#include "cgroup/driver.h"
#include "base/log.h"
#include "base/trace.h"
#include "base/utils.h"

#include <fcntl.h>
#include <stdbool.h>

/* Once the driver has made the cgroup (in prepare, or with the init in it
   in attach_init): record it for delete --force, make sure it is the
   container's alone, and write linux.resources, all before the init runs
   anything of the container's. */
int
create_cgroup_ready (struct create_job *j, struct berth_error *err)
{
  const struct oci_linux *l = j->config->linux;

  if (records_save_cgroup (&j->state, &j->cg, err) < 0
      || j->cgd->check_unused (&j->cg, err) < 0)
    return -1;
  TEST_STOP_AT ("create:cgroup");
  if (j->cgd->apply (&j->cg, l ? l->resources : NULL, err) < 0)
    {
      if (err->path[0])
        berth_err_set_source (err, "config.json");
      return -1;
    }
  j->cg_ready = true;
  return 0;
}

/* Put the init, still waiting for its go-ahead, in the container's cgroup;
   a driver that makes the cgroup only with a process in it (systemd's
   unit) makes it now. */
int
create_enter_cgroup (struct create_job *j, pid_t child, struct berth_error *err)
{
  const struct oci_linux *l = j->config->linux;

  if (j->cgd->attach_init (l ? l->cgroups_path : NULL, j->id, child, l ? l->resources : NULL,
                           &j->cg, err) < 0)
    return -1;
  return j->cg_ready ? 0 : create_cgroup_ready (j, err);
}

/* Rootless, a cgroup the host refuses this user is given up for none
   (cgroup_driver_fallback), and cgroup_ready then refuses any resource the
   config asks for. */
static int
fall_back_to_none (struct create_job *j, struct berth_error *err)
{
  const struct oci_linux *l = j->config->linux;
  const char *path = l ? l->cgroups_path : NULL;
  const struct cgroup_driver *none;
  struct berth_error ignored = { 0 };
  char why[1024];

  if (!j->rt->rootless || (none = cgroup_driver_fallback (j->cgd, path, err)) == NULL)
    return -1;
  berth_debug ("rootless: running without a cgroup: %s",
               berth_err_format (err, why, sizeof why));
  (void) j->cgd->destroy (&j->cg, true, &ignored);
  cgroup_free (&j->cg);
  *err = (struct berth_error){ 0 };
  j->cgd = none;
  j->cg_made = true;
  if (none->prepare (path, j->id, &j->cg, err) < 0)
    return -1;
  return create_cgroup_ready (j, err);
}

int
create_prepare_cgroup (struct create_job *j, struct berth_error *err)
{
  const struct oci_linux *l = j->config->linux;

  if (j->cgd->prepare (l ? l->cgroups_path : NULL, j->id, &j->cg, err) == 0)
    return 0;
  return fall_back_to_none (j, err);
}

int
create_make_cgroup (struct create_job *j, struct berth_error *err)
{
  if (!j->cg_made)
    {
      j->cg_made = true;
      if (j->cgd->make && BERTH_TRACED ("cgroup make", j->cgd->make (&j->cg, err)) < 0)
        return fall_back_to_none (j, err);
    }
  if (j->cg.n_dirs > 0 && !j->cg_ready
      && BERTH_TRACED ("cgroup apply", create_cgroup_ready (j, err)) < 0)
    return -1;
  return 0;
}

/* Where the driver has a v2 directory to clone the init (or the first
   child, which forks it) into (clone_into): the cgroup made now, before the
   clone, and *fd opened on that directory; else (or with `not_now`) *fd
   stays -1 and the cgroup is made after the clone. */
int
create_cgroup_for_clone (struct create_job *j, bool not_now, int *fd, struct berth_error *err)
{
  const char *dir;

  *fd = -1;
  if (not_now || !j->cgd->clone_into || !j->cgd->clone_into (&j->cg))
    return 0;
  if (create_make_cgroup (j, err) < 0)
    return -1;
  /* The driver may have fallen back to none. */
  if (j->cgd->clone_into && (dir = j->cgd->clone_into (&j->cg)) != NULL)
    *fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC); /* failing: moved as before */
  return 0;
}
