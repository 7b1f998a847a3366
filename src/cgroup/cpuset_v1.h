/* berth — a new v1 cpuset's CPUs and memory nodes.
 *
 * Contract: cpuset_v1_inherit fills the empty `file` (cpuset.cpus or
 * cpuset.mems) of the cpuset at `dir`, and of every empty ancestor on the
 * way, from the nearest ancestor that has it; a directory that has it
 * already is left alone.  *value receives what `dir` holds afterwards;
 * *balanced (may be NULL; cpuset.cpus only) whether the CPUs of `dir` are
 * load-balanced, by its own sched_load_balance or from above.  Before it
 * writes cpuset.cpus of a cpuset whose parent's CPUs are balanced, it
 * clears that cpuset's sched_load_balance (best effort), so that the
 * kernel does not rebuild the scheduler domains of the whole machine for
 * it.  Errors: BERTH_E_SYSTEM when no ancestor has `file`, else the
 * file's errno.
 */
#ifndef BERTH_CPUSET_V1_H
#define BERTH_CPUSET_V1_H

#include <stdbool.h>

#include "error.h"

int cpuset_v1_inherit (const char *dir, const char *file, char **value, bool *balanced,
                       struct berth_error *err);

#endif
