/* berth — cgroup placement on v1, hybrid and v2 hosts: what every layout
 * and driver shares.  The work that differs by layout (freeze, listing and
 * killing processes) is in cgroupfs_v1.h and cgroupfs_v2.h, reached through
 * the driver tables of driver.h.
 *
 * Contract:
 *  - The layout is read from the filesystem (statfs of /sys/fs/cgroup and
 *    /sys/fs/cgroup/unified, and /proc/self/mountinfo for v1 hierarchies),
 *    never assumed.
 *  - cgroup_resolve() turns linux.cgroupsPath (or, when it is empty, the
 *    container id) into one directory per hierarchy.  An absolute path is
 *    taken from the hierarchy's root; a relative one nests, as runc does: on
 *    v1 (and the v1 controllers of a hybrid host) under the caller's own
 *    cgroup in each hierarchy (/proc/self/cgroup), on v2 under the parent of
 *    the caller's cgroup (a cgroup holding processes cannot delegate).  A
 *    path that climbs out with ".." is refused with BERTH_E_VALUE and the
 *    JSON path .linux.cgroupsPath.
 *  - cgroup_create() makes the directories (mkdir -p), remembering which ones
 *    it made, so that a failed create removes exactly those.
 *  - Directories are kept as absolute host paths in `struct berth_cgroup`,
 *    which the state file persists (cgroup_to_strv / cgroup_from_strv).
 *  - cgroup_enter() writes a pid to cgroup.procs in every hierarchy;
 *    cgroup_enter_self() moves the caller: "0" to each v1 hierarchy's tasks
 *    file, and to the v2 directory's cgroup.procs unless the process was
 *    cloned into it (born_in_v2).  Only for a single-threaded process of
 *    berth's that has not yet run anything of the container's, in the
 *    host's mount namespace.
 *  - cgroup_destroy() rmdir()s every directory (never a parent), retrying
 *    for one second in all while the kernel still reports EBUSY; ENOENT is
 *    success.
 *  - The drivers' kill_all (the loop in cgroup_priv.h) is the one place
 *    that kills: every process of the container's cgroup and its
 *    sub-cgroups.  Nothing here touches cgroups outside the resolved paths;
 *    nothing unmounts or remounts host cgroup filesystems.
 */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

enum berth_cgroup_mode {
  BERTH_CGROUP_V1,      /* only v1 hierarchies */
  BERTH_CGROUP_HYBRID,  /* v1 hierarchies plus cgroup2 at /sys/fs/cgroup/unified */
  BERTH_CGROUP_V2,      /* cgroup2 at /sys/fs/cgroup */
};

struct berth_cgroup_dir {
  char *controller;  /* "memory", "cpu,cpuacct", "name=systemd", or "" for the v2 hierarchy */
  char *path;        /* absolute host path of the container's directory */
  bool created;      /* made by this process (removed again on failure) */
  char *created_top; /* topmost directory mkdir -p made for `path` (== path
                        or an ancestor of it), NULL when none: destroy
                        removes the chain up to it */
};

struct berth_cgroup {
  enum berth_cgroup_mode mode;
  struct berth_cgroup_dir *dirs;
  size_t n_dirs;
  bool systemd_unit; /* made by the systemd driver: the v2 directory's name is
                        the unit's, and the unit is stopped through systemd
                        whatever flags later commands are given (the state's
                        "driver=systemd"; cgroup_driver_of in driver.h) */
};

int cgroup_detect_mode (enum berth_cgroup_mode *mode, struct berth_error *err);

/* The cgroup path of `pid` (0: the caller) in systemd's hierarchy, malloc'd: the
   name=systemd line of /proc/PID/cgroup on a v1 or hybrid host, else the
   v2 one. */
int cgroup_path_of (pid_t pid, char **out, struct berth_error *err);
/* The caller's own cgroup in every hierarchy, when it sits at one path in
   all of them (as a unit of the systemd driver does). */
int cgroup_current (struct berth_cgroup *cg, struct berth_error *err);

/* Fill `cg` with the directories for `cgroups_path` (may be NULL/empty: then
   the id, relative). */
int cgroup_resolve (const char *cgroups_path, const char *id, struct berth_cgroup *cg,
                    struct berth_error *err);
int cgroup_create (struct berth_cgroup *cg, struct berth_error *err);
int cgroup_enter (const struct berth_cgroup *cg, pid_t pid, struct berth_error *err);
int cgroup_enter_self (const struct berth_cgroup *cg, bool born_in_v2, struct berth_error *err);
/* The directory for `controller` ("" = v2/unified), or NULL. */
const char *cgroup_dir (const struct berth_cgroup *cg, const char *controller);
/* Remove the directories, sub-cgroups first; the parents mkdir -p made
   above them (created_top) stay, as in runc.  With only_created, only the
   directories flagged created.  EBUSY is retried for one second in all. */
int cgroup_destroy (struct berth_cgroup *cg, bool only_created, struct berth_error *err);
void cgroup_free (struct berth_cgroup *cg);

/* Persist as strings (state file) and back: "mode=v1|hybrid|v2", then per
   directory "controller=path" ("=path" for v2), followed, when mkdir made it,
   by "created:controller=created_top".  *out is also NULL-terminated. */
int cgroup_to_strv (const struct berth_cgroup *cg, char ***out, size_t *n, struct berth_error *err);
int cgroup_from_strv (char *const *v, size_t n, struct berth_cgroup *cg, struct berth_error *err);

/* Whether the v2 directory `dir` lists `ctrl` in its cgroup.controllers
   (false when the file cannot be read). */
bool cgroup_v2_has_controller (const char *dir, const char *ctrl);

#endif
