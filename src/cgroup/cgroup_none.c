/* The "none" cgroup table: a rootless container the host would not give a
   cgroup (driver.h, cgroup_driver_fallback).  Its init stays in the cgroup
   of whoever ran create, as with runc's rootless cgroupfs managers; what
   needs a cgroup of the container's own is refused, each with one line
   that says why. */
#include "cgroup/cgroup_none.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Why the host gave none, from its layout. */
static const char *
no_cgroup_reason (enum berth_cgroup_mode mode)
{
  return mode == BERTH_CGROUP_V2 ? "cgroup v2 without a subtree delegated to this user"
                                 : "cgroup v1 without delegation";
}

static int
no_cgroup (const struct berth_cgroup *cg, const char *what, struct berth_error *err)
{
  return berth_err (err, BERTH_E_UNSUPPORTED,
                    "cannot %s: the container has no cgroup (rootless, and none could be "
                    "created on this host: %s)",
                    what, no_cgroup_reason (cg->mode));
}

/* The first property of `obj` (of type `t`) that is present, in the order
   spec.h declares them, its JSON path appended to path[0..used); the
   device rules (at the top level) are skipped: runc's rootless managers
   ignore them, and a user namespace could not use a device it was not
   given anyway.  False when nothing is present. */
static bool
first_present (const struct oci_type *t, const void *obj, bool top, char *path, size_t size,
               size_t used)
{
  for (size_t i = 0; i < t->n_fields; i++)
    {
      const struct oci_field *f = &t->fields[i];
      const char *base = obj;
      size_t len = f->len_off ? *(const size_t *) (base + f->len_off) : 0;
      int n;

      if (!*(const bool *) (base + f->has_off) || (top && strcmp (f->key, "devices") == 0))
        continue;
      n = oci_path_key (path + used, size - used, "", f->key);
      if (n < 0 || (size_t) n >= size - used)
        return true; /* a path this long is still a property asked for */
      if (f->kind == OCI_K_OBJ)
        {
          if (*(void *const *) (base + f->off) != NULL
              && first_present (f->sub, *(void *const *) (base + f->off), false, path, size,
                             used + (size_t) n))
            return true;
          continue;
        }
      if (f->len_off && len == 0)
        continue;
      if (f->kind == OCI_K_OBJVEC)
        snprintf (path + used + n, size - used - (size_t) n, "[0]");
      else if (f->kind == OCI_K_OBJMAP || f->kind == OCI_K_STRMAP)
        oci_path_key (path + used + n, size - used - (size_t) n, "",
                      (*(char **const *) (base + f->keys_off))[0]);
      return true;
    }
  path[used] = '\0';
  return false;
}

static int
none_available (struct berth_error *err)
{
  (void) err;
  return 0;
}

static int
none_check_path (const char *cgroups_path, const char *id, const char **fs_path,
                 struct berth_error *err)
{
  (void) cgroups_path, (void) id, (void) err;
  *fs_path = NULL;
  return 0;
}

/* No directory: only the layout, for the reason the errors give. */
static int
none_prepare (const char *cgroups_path, const char *id, struct berth_cgroup *cg,
              struct berth_error *err)
{
  (void) cgroups_path, (void) id, (void) err;
  memset (cg, 0, sizeof *cg);
  if (cgroup_detect_mode (&cg->mode, &(struct berth_error){ 0 }) < 0)
    cg->mode = BERTH_CGROUP_V1;
  return 0;
}

static int
none_nothing (const struct berth_cgroup *cg, struct berth_error *err)
{
  (void) cg, (void) err;
  return 0;
}

static int
none_attach_init (const char *cgroups_path, const char *id, pid_t pid,
                  const struct oci_resources *r, struct berth_cgroup *cg, struct berth_error *err)
{
  (void) cgroups_path, (void) id, (void) pid, (void) r, (void) cg, (void) err;
  return 0;
}

/* linux.resources cannot be applied: refused, naming the first property
   asked for, before the init runs anything (runc finds out later, at the
   first file it cannot write). */
static int
none_apply (const struct berth_cgroup *cg, const struct oci_resources *r,
            struct berth_error *err)
{
  char path[256] = ".linux.resources";

  if (r == NULL || !first_present (&oci_type_resources, r, true, path, sizeof path,
                                   strlen (path)))
    return 0;
  return berth_err_at (err, BERTH_E_UNSUPPORTED, path,
                       "cannot apply: no cgroup can be created for a rootless container on "
                       "this host (%s)",
                       no_cgroup_reason (cg->mode));
}

static int
none_update (const struct berth_cgroup *cg, const struct oci_resources *r,
             struct berth_error *err)
{
  (void) r;
  return no_cgroup (cg, "update its resources", err);
}

/* exec'd processes stay where the caller is, as the init did. */
static int
none_enter (const struct berth_cgroup *cg, pid_t pid, struct berth_error *err)
{
  (void) cg, (void) pid, (void) err;
  return 0;
}

static int
none_freeze (const struct berth_cgroup *cg, bool freeze, struct berth_error *err)
{
  return no_cgroup (cg, freeze ? "pause it" : "resume it", err);
}

static bool
none_is_frozen (const struct berth_cgroup *cg)
{
  (void) cg;
  return false;
}

static int
none_pids (const struct berth_cgroup *cg, pid_t **pids, size_t *n, struct berth_error *err)
{
  *pids = NULL;
  *n = 0;
  return no_cgroup (cg, "list its processes", err);
}

/* Nothing known beyond the init, which the caller kills itself. */
static int
none_kill_all (const struct berth_cgroup *cg, long timeout_ms, struct berth_error *err)
{
  (void) cg, (void) timeout_ms, (void) err;
  return 0;
}

static int
none_destroy (struct berth_cgroup *cg, bool only_created, struct berth_error *err)
{
  (void) cg, (void) only_created, (void) err;
  return 0;
}

static int
none_present (const struct berth_cgroup *cg, const char *what, struct berth_error *err)
{
  return no_cgroup (cg, what, err);
}

const struct cgroup_driver cgroup_none_driver = {
  .name = "none",
  .available = none_available,
  .check_path = none_check_path,
  .prepare = none_prepare,
  .check_unused = none_nothing,
  .attach_init = none_attach_init,
  .apply = none_apply,
  .update = none_update,
  .enter = none_enter,
  .freeze = none_freeze,
  .is_frozen = none_is_frozen,
  .pids = none_pids,
  .kill_all = none_kill_all,
  .destroy = none_destroy,
  .present = none_present,
};
