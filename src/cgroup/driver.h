/* berth — the cgroup driver: who makes and removes a container's cgroup,
 * and how its files are worked on.
 *
 * Four tables (five: systemd has a rootless variant):
 *  - cgroupfs-v1: berth makes the directories, on a v1 or hybrid host (the
 *    v1 hierarchies, plus the unified v2 directory of a hybrid one:
 *    cgroupfs_v1.h);
 *  - cgroupfs-v2: berth makes the directories, on a pure v2 host
 *    (cgroupfs_v2.h);
 *  - systemd (--systemd-cgroup: a transient unit, systemd_cgroup.h) on any
 *    layout: its freeze, is_frozen, pids and kill_all are those of the
 *    cgroupfs table of the cgroup's layout (berth_cgroup.mode).  Rootless,
 *    its systemd-user variant: the unit is the user's manager's, on v2
 *    only; the device rules are not applied and an exec'd process the host
 *    will not move stays outside (both as runc's rootless managers).
 *  - none (cgroup_none.c): no cgroup at all, for a rootless container the
 *    host refuses one (cgroup_driver_fallback); what needs a cgroup is
 *    refused with one line, linux.resources (but its device rules) included.
 * Placement, mkdir/rmdir, entering and the resource files (cgroup.h,
 * resources.h) are the same for the first three.
 *
 * Contract:
 *  - The driver is chosen once.  create takes it from the flag and the
 *    host's layout (cgroup_driver_select); every later command from the
 *    cgroup the state recorded (cgroup_driver_of: its "mode=" and
 *    "driver=systemd" entries of cgroup_to_strv), whatever flags that
 *    command is given.  No caller asks which driver it holds, nor which
 *    layout the cgroup has, for what the ops do: it calls the ops.
 *  - A recorded cgroup with no directory that is not a systemd unit's is
 *    the none table's (its record is "mode=..." alone).
 *  - create's order: prepare (before the init exists), make (before or
 *    after the clone: the init makes its namespaces meanwhile) and, once the
 *    init is cloned and waiting, attach_init.  When berth is not rootless,
 *    a driver may spare the move by pid of its child (the init, or the
 *    first child that forks an init in a user or time namespace, which
 *    moves before it makes any): with clone_into, create makes the cgroup
 *    before the clone and the child is cloned into that directory; with
 *    enter_self, the child, told so with GO, moves itself into the rest;
 *    both need the directories prepared before the clone (not systemd's
 *    unit, which systemd makes with the init in it).  The runtime then skips attach_init; exec, whose
 *    cgroup exists, likewise skips enter.  prepare either fills `cg`
 *    (making nothing yet) or leaves it empty when the driver can only make
 *    the cgroup with a process in it (systemd); make, where the driver has
 *    one, makes the directories `cg` names; attach_init fills an empty `cg`.
 *    The caller records the cgroup, runs check_unused and apply as soon as
 *    `cg` is filled and made, whichever step did it.
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
  const char *name; /* "cgroupfs-v1", "cgroupfs-v2", "systemd" */

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
  /* create: make the directories prepare placed (NULL: nothing to make). */
  int (*make) (struct berth_cgroup *cg, struct berth_error *err);
  /* create: refuse a cgroup that is frozen or already holds processes. */
  int (*check_unused) (const struct berth_cgroup *cg, struct berth_error *err);
  /* create: put the waiting init `pid` in, making the cgroup when prepare
     did not (`r` gives the manager's resource properties). */
  int (*attach_init) (const char *cgroups_path, const char *id, pid_t pid,
                      const struct oci_resources *r, struct berth_cgroup *cg,
                      struct berth_error *err);
  /* create and exec, run by the process being placed, instead of
     attach_init or enter by its pid: move the caller into `cg`, made
     already, but the v2 directory it was cloned into (cgroup_enter_self,
     cgroup.h, says why); NULL where the driver cannot (systemd-user, none). */
  int (*enter_self) (const struct berth_cgroup *cg, bool born_in_v2, struct berth_error *err);
  /* create and exec: the v2 directory of `cg` a new process can be cloned
     straight into (clone3's CLONE_INTO_CGROUP, which takes no lock that
     waits for a grace period): the cgroup itself on v2, its unified part
     on a hybrid host; NULL where there is none (pure v1, an empty `cg`,
     systemd-user, none).  enter_self then skips it (born_in_v2). */
  const char *(*clone_into) (const struct berth_cgroup *cg);
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
  /* Before reading the cgroup's own files (events' statistics): refuse,
     saying `what` cannot be done, when the container has no cgroup. */
  int (*present) (const struct berth_cgroup *cg, const char *what, struct berth_error *err);
};

/* For create and check: the driver the --systemd-cgroup flag asks for, for
   this host's layout. */
const struct cgroup_driver *cgroup_driver_select (bool systemd_cgroup);
/* For create: the same, the systemd-user table when rootless (runc's
   --rootless, given or detected) with --systemd-cgroup. */
const struct cgroup_driver *cgroup_driver_select_as (bool systemd_cgroup, bool rootless);
/* For create, rootless (runc's --rootless, given or detected): `d`'s
   prepare or make failed with `err`.  When the host refused an unprivileged user
   the cgroup (EACCES, EPERM, EROFS) and the config named none
   (linux.cgroupsPath empty), the none table to go on with, as runc's
   rootless cgroupfs managers ignore that failure; else NULL.  The systemd
   driver has no fallback. */
const struct cgroup_driver *cgroup_driver_fallback (const struct cgroup_driver *d,
                                                    const char *cgroups_path,
                                                    const struct berth_error *err);
/* For every other command: the driver that made `cg` (as the state holds it). */
const struct cgroup_driver *cgroup_driver_of (const struct berth_cgroup *cg);

#endif
