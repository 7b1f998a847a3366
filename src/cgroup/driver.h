/* berth — the cgroup driver: who makes and removes a container's cgroup.
 *
 * Two managers exist: cgroupfs (berth makes the directories itself) and
 * systemd (--systemd-cgroup: a transient unit, systemd_cgroup.h).  The host's
 * layout (v1, hybrid, v2) is not a driver: it is data of each cgroup
 * (berth_cgroup.mode and one directory per hierarchy; a hybrid container has
 * v1 and v2 directories at once), and both drivers work on every layout
 * through the same cgroupfs mechanics of cgroup.h.
 *
 * Contract:
 *  - The driver is chosen once.  create takes it from the flag
 *    (cgroup_driver_select); every later command from the cgroup the state
 *    recorded (cgroup_driver_of: the "driver=systemd" entry of
 *    cgroup_to_strv), whatever flags that command is given.  No caller asks
 *    which driver it holds: it calls the ops.
 *  - create's order: prepare (before the init exists), and, once the init is
 *    cloned and waiting, attach_init.  prepare either fills `cg` (and makes
 *    its directories) or leaves it empty when the driver can only make the
 *    cgroup with a process in it (systemd); attach_init then fills it.  The
 *    caller records the cgroup, runs check_unused and apply as soon as `cg`
 *    is filled, whichever step filled it.
 *  - prepare and attach_init fail leaving `cg` as destroy(only_created)
 *    needs it; destroy(only_created) undoes a failed create (the directories
 *    it made; systemd's unit, which a create always makes itself);
 *    destroy(!only_created) removes the container's cgroup at delete.
 *  - update writes the files first (they refuse what cannot be applied
 *    before anything changed), then tells the manager.
 *  - Errors are values (struct berth_error); config errors carry their JSON
 *    path and the source "config.json".
 */
#ifndef BERTH_CGROUP_DRIVER_H
#define BERTH_CGROUP_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "error.h"
#include "spec.h"

struct cgroup_driver {
  const char *name; /* "cgroupfs", "systemd" */

  /* berth check: whether the host can use the driver (no bus traffic). */
  int (*available) (struct berth_error *err);
  /* berth check: refuse a cgroupsPath the driver cannot take, making
     nothing; `fs_path` receives the path cgroup_resolve() would place the
     container at (NULL: the default place, when cgroupsPath is not a
     cgroupfs path). */
  int (*check_path) (const char *cgroups_path, const char *id, const char **fs_path,
                     struct berth_error *err);

  /* create, before the init exists (see above). */
  int (*prepare) (const char *cgroups_path, const char *id, struct berth_cgroup *cg,
                  struct berth_error *err);
  /* create: refuse a cgroup that is frozen or already holds processes. */
  int (*check_unused) (const struct berth_cgroup *cg, struct berth_error *err);
  /* create: put the waiting init `pid` in, making the cgroup when prepare
     did not (`r` gives the manager's resource properties). */
  int (*attach_init) (const char *cgroups_path, const char *id, pid_t pid,
                      const struct oci_resources *r, struct berth_cgroup *cg,
                      struct berth_error *err);
  /* create: write linux.resources, before the init runs user code. */
  int (*apply) (const struct berth_cgroup *cg, const struct oci_resources *r,
                struct berth_error *err);

  /* update: apply the sections of `r` to the live cgroup. */
  int (*update) (const struct berth_cgroup *cg, const struct oci_resources *r,
                 struct berth_error *err);
  /* exec: move `pid` into `cg` (the container's cgroup, or sub-cgroups of
     it in the same hierarchies). */
  int (*enter) (const struct berth_cgroup *cg, pid_t pid, struct berth_error *err);
  int (*freeze) (const struct berth_cgroup *cg, bool freeze, struct berth_error *err);
  bool (*is_frozen) (const struct berth_cgroup *cg);
  int (*pids) (const struct berth_cgroup *cg, pid_t **pids, size_t *n, struct berth_error *err);
  int (*kill_all) (const struct berth_cgroup *cg, long timeout_ms, struct berth_error *err);
  int (*destroy) (struct berth_cgroup *cg, bool only_created, struct berth_error *err);
};

/* For create and check: the driver the --systemd-cgroup flag asks for. */
const struct cgroup_driver *cgroup_driver_select (bool systemd_cgroup);
/* For every other command: the driver that made `cg` (as the state holds it). */
const struct cgroup_driver *cgroup_driver_of (const struct berth_cgroup *cg);

#endif
