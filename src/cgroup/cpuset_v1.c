/* berth — a new v1 cpuset's CPUs and memory nodes (see cpuset_v1.h). */
#include "cgroup/cpuset_v1.h"
#include "cgroup/cgroup_priv.h"
#include "cleanup.h"

#include <stdlib.h>
#include <string.h>

static bool
balances (const char *dir)
{
  cleanup_free char *flag = cgroup_join (dir, "cpuset.sched_load_balance");
  cleanup_free char *v = NULL;
  struct berth_error ignored = { 0 };

  return flag && cgroup_read_file (flag, &v, &ignored) == 0 && v[0] == '1';
}

/* A new v1 cpuset cgroup has empty cpuset.cpus/mems and refuses tasks until
   they are set: inherit them from the nearest ancestor that has them.

   Writing cpuset.cpus of a cpuset whose sched_load_balance is 1 (the
   kernel's default for a new one) makes the kernel rebuild the scheduler
   domains of the whole machine, which walks every cpuset and their tasks:
   with 500 containers, 0.4-0.9 ms more for each new one (bench/README.md,
   "Where the growth goes").  Under a parent whose CPUs are balanced
   already, the flag of a child changes nothing in those domains (the
   kernel does not look below a balanced cpuset; cgroup-v1/cpusets.rst,
   1.7), so it is cleared first, while cpuset.cpus is still empty and
   clearing it rebuilds nothing.  Best effort: if it stays 1, the write
   below rebuilds as it always did.  *balanced (may be NULL): whether the
   CPUs of `dir` are balanced, by its own flag or, for one filled here,
   from above. */
int
cpuset_v1_inherit (const char *dir, const char *file, char **value, bool *balanced,
                   struct berth_error *err)
{
  cleanup_free char *path = cgroup_join (dir, file), *parent = strdup (dir);
  cleanup_free char *val = NULL;
  char *slash = parent ? strrchr (parent, '/') : NULL;
  bool cpus = strcmp (file, "cpuset.cpus") == 0, from_above = false;

  if (!path || !parent || cgroup_read_file (path, &val, err) < 0)
    return path && parent ? -1 : cgroup_oom (err);
  if (val[strspn (val, " \n")] != '\0')
    {
      if (balanced)
        *balanced = balances (dir);
      *value = steal_pointer (&val);
      return 0;
    }
  if (slash == NULL || slash == parent)
    return berth_err (err, BERTH_E_SYSTEM, "no ancestor of %s has %s set", dir, file);
  *slash = '\0';
  free (val);
  val = NULL;
  if (cpuset_v1_inherit (parent, file, &val, cpus ? &from_above : NULL, err) < 0)
    return -1;
  if (from_above)
    {
      cleanup_free char *flag = cgroup_join (dir, "cpuset.sched_load_balance");
      struct berth_error ignored = { 0 };
      if (flag)
        (void) cgroup_write_file (flag, "0", &ignored);
    }
  if (cgroup_write_file (path, val, err) < 0)
    return -1;
  if (balanced)
    *balanced = from_above || balances (dir);
  *value = steal_pointer (&val);
  return 0;
}
