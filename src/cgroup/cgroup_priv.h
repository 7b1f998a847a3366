/* berth — what cgroup.c shares with the two cgroupfs layouts
 * (cgroupfs_v1.c, cgroupfs_v2.c); not an API outside src/cgroup/.
 *
 * Contract:
 *  - The file helpers follow cgroupfs rules: a read goes to EOF (st_size
 *    is 0), a write is one write() and a short one fails.
 *  - The loops here are the layouts' common part: each layout gives its
 *    own pids/is_frozen/freeze (struct cgroup_layout), so that no function
 *    here asks which layout a cgroup has.
 */
#ifndef BERTH_CGROUP_PRIV_H
#define BERTH_CGROUP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "error.h"

int cgroup_oom (struct berth_error *err);
/* dir/file, malloc'd; NULL when out of memory. */
char *cgroup_join (const char *dir, const char *file);
int cgroup_read_file (const char *path, char **out, struct berth_error *err);
int cgroup_write_file (const char *path, const char *s, struct berth_error *err);

/* Every pid in `dir` and the cgroups below it; `dir` NULL is a container
   without a cgroup (BERTH_E_STATE).  *pids is malloc'd. */
int cgroup_pids_below (const char *dir, pid_t **pids, size_t *n, struct berth_error *err);

/* Freeze or thaw through the control file `path` of the cgroup `dir`:
   write `value` (again at every poll when `rewrite`: v1's freezer may stay
   FREEZING while tasks are busy in the kernel), then poll done(dir, freeze)
   with a growing step, 5 s in all.  A freeze that does not settle writes
   `undo` and fails naming the file. */
int cgroup_freeze_poll (const char *dir, const char *path, bool freeze, const char *value,
                        const char *undo, bool rewrite, bool (*done) (const char *dir, bool freeze),
                        struct berth_error *err);

/* A layout's answers to the loops below. */
struct cgroup_layout {
  int (*pids) (const struct berth_cgroup *cg, pid_t **pids, size_t *n, struct berth_error *err);
  bool (*is_frozen) (const struct berth_cgroup *cg);
  int (*freeze) (const struct berth_cgroup *cg, bool freeze, struct berth_error *err);
};

/* SIGKILL every process of the container's cgroup and its sub-cgroups
   (cgroup.kill of `kill_dir` when it is given and the kernel has it, else
   pid by pid), thawing a frozen one, again until the cgroup is empty or
   `timeout_ms` has passed (then fails naming what is left).  A cgroup that
   no longer exists is empty. */
int cgroup_layout_kill_all (const struct cgroup_layout *l, const struct berth_cgroup *cg,
                            const char *kill_dir, long timeout_ms, struct berth_error *err);
/* For a new container: fails, in runc's words, when the cgroup (which may
   have existed before create) is frozen, or holds processes (runc 1.2
   refuses what 1.1 warned about: they would share the container's limits
   and be killed with it). */
int cgroup_layout_check_unused (const struct cgroup_layout *l, const struct berth_cgroup *cg,
                                struct berth_error *err);

#endif
