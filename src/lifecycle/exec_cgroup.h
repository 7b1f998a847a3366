/* berth — `exec --cgroup`: the cgroup directories the exec'd process enters.
 *
 * Contract: exec_cgroup_place() gives, for each directory of the
 * container's cgroup, the one the process goes into: the container's own,
 * or one below it that --cgroup names, by runc's rules: "PATH" alone (then
 * the only --cgroup) below the container's cgroup in every hierarchy,
 * "ctrl[,ctrl]:PATH" in those controllers' hierarchies only (not on v2,
 * which has one); "/" is the container's cgroup itself; a path that climbs
 * with ".." and a directory that does not exist are refused.  Nothing is
 * made or written.
 */
#ifndef BERTH_EXEC_CGROUP_H
#define BERTH_EXEC_CGROUP_H

#include <stddef.h>

#include "cgroup/cgroup.h"
#include "error.h"

struct exec_cgroup {
  struct berth_cgroup cg; /* the container's mode, with the directories to enter */
  char **paths;           /* per directory, a malloc'd path below the container's, or NULL */
};

int exec_cgroup_place (const struct berth_cgroup *container, char *const *args, size_t n,
                       struct exec_cgroup *out, struct berth_error *err);
void exec_cgroup_free (struct exec_cgroup *ec);

#endif
