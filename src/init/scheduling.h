/* berth — the process' CPU scheduling: process.scheduler (sched_setattr),
 * process.ioPriority (ioprio_set) and process.execCPUAffinity
 * (sched_setaffinity).
 *
 * Contract:
 *  - sched_plan_make() checks a process' scheduler and ioPriority by
 *    runc's rules (libcontainer/configs/validate: nice in -20..19 for
 *    SCHED_OTHER and SCHED_BATCH, priority only for SCHED_FIFO and
 *    SCHED_RR, runtime/deadline/period only for SCHED_DEADLINE), plus the
 *    kernel's priority range for FIFO and RR, and turns them into the values
 *    the kernel takes.  No system call; errors carry base + the JSON path.
 *  - affinity_plan_make() parses execCPUAffinity's cpu lists ("0-3,5";
 *    runc's syntax: spaces around and empty elements allowed, ids up to
 *    65536).  An empty or absent list is "not set".
 *  - sched_apply() sets the scheduler, then the I/O priority, of `pid` (0:
 *    the caller).  A refusal from the kernel is one error naming the JSON
 *    path and the likely reason (no real-time budget in the cgroup, no
 *    CAP_SYS_NICE, a cpuset narrower than the root domain).
 *  - affinity_apply() sets one list on `pid`; affinity_reset() allows every
 *    CPU (what the cgroup's cpuset permits), as runc does for an exec'd
 *    process that has no execCPUAffinity.
 */
#ifndef BERTH_SCHEDULING_H
#define BERTH_SCHEDULING_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* struct sched_attr of sched_setattr(2), up to the utilization clamps. */
struct berth_sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

struct sched_plan {
  bool has_sched;
  struct berth_sched_attr attr;
  const char *policy; /* the config's name, for messages */
  bool has_ioprio;
  int ioprio; /* IOPRIO_PRIO_VALUE (class, level) */
  char base[64];
};

int sched_plan_make (const struct oci_process *p, const char *base, struct sched_plan *out,
                     struct berth_error *err);
int sched_apply (pid_t pid, const struct sched_plan *plan, struct berth_error *err);

struct cpu_list {
  cpu_set_t *set; /* NULL: not set */
  size_t size;    /* bytes, for sched_setaffinity */
};

struct affinity_plan {
  struct cpu_list initial, final;
  char base[64];
};

/* Parse one list; `jpath` names it in errors. */
int cpu_list_parse (const char *s, const char *jpath, struct cpu_list *out,
                    struct berth_error *err);
void cpu_list_free (struct cpu_list *l);

int affinity_plan_make (const struct oci_process *p, const char *base, struct affinity_plan *out,
                        struct berth_error *err);
void affinity_plan_free (struct affinity_plan *a);
/* which: "initial" or "final" (the property, for the error's path). */
int affinity_apply (pid_t pid, const struct affinity_plan *a, const char *which,
                    struct berth_error *err);
void affinity_reset (pid_t pid);

#define cleanup_affinity_plan __attribute__ ((cleanup (affinity_plan_free)))

#endif
