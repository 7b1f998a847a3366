#include "init/scheduling.h"
#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#define BERTH_SCHED_ISO 4 /* reserved by Linux, never implemented */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13
/* Past this id a cpu list is a typo, not a machine (runc's MaxCPU). */
#define MAX_CPU_ID 65536

static const struct {
  const char *name;
  uint32_t value;
} policies[] = {
  { "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO },
  { "SCHED_RR", SCHED_RR },       { "SCHED_BATCH", SCHED_BATCH },
  { "SCHED_ISO", BERTH_SCHED_ISO }, { "SCHED_IDLE", SCHED_IDLE },
  { "SCHED_DEADLINE", SCHED_DEADLINE },
};

static const struct {
  const char *name;
  uint64_t value;
} sched_flags[] = {
  { "SCHED_FLAG_RESET_ON_FORK", 0x01 },  { "SCHED_FLAG_RECLAIM", 0x02 },
  { "SCHED_FLAG_DL_OVERRUN", 0x04 },     { "SCHED_FLAG_KEEP_POLICY", 0x08 },
  { "SCHED_FLAG_KEEP_PARAMS", 0x10 },    { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
  { "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
};

static const struct {
  const char *name;
  int value;
} ioprio_classes[] = {
  { "IOPRIO_CLASS_RT", 1 }, { "IOPRIO_CLASS_BE", 2 }, { "IOPRIO_CLASS_IDLE", 3 },
};

#define N(a) (sizeof (a) / sizeof ((a)[0]))

__attribute__ ((format (printf, 5, 6))) static int
at (struct berth_error *err, enum berth_error_kind kind, const char *base, const char *suffix,
    const char *fmt, ...)
{
  char path[160], msg[256];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  snprintf (path, sizeof path, "%s%s", base, suffix);
  return berth_err_at (err, kind, path, "%s", msg);
}

static int
make_sched (const struct oci_scheduler *s, const char *base, struct sched_plan *out,
            struct berth_error *err)
{
  struct berth_sched_attr *a = &out->attr;
  size_t k;
  bool fair, rt, dl;

  for (k = 0; k < N (policies); k++)
    if (strcmp (s->policy, policies[k].name) == 0)
      break;
  if (k == N (policies))
    return at (err, BERTH_E_VALUE, base, ".scheduler.policy",
               "unknown scheduler policy \"%s\"", s->policy);
  a->size = sizeof *a;
  a->sched_policy = policies[k].value;
  out->policy = policies[k].name;
  fair = a->sched_policy == SCHED_OTHER || a->sched_policy == SCHED_BATCH;
  rt = a->sched_policy == SCHED_FIFO || a->sched_policy == SCHED_RR;
  dl = a->sched_policy == SCHED_DEADLINE;
  for (size_t i = 0; i < s->flags_len; i++)
    {
      char suffix[48];
      for (k = 0; k < N (sched_flags); k++)
        if (strcmp (s->flags[i], sched_flags[k].name) == 0)
          break;
      snprintf (suffix, sizeof suffix, ".scheduler.flags[%zu]", i);
      if (k == N (sched_flags))
        return at (err, BERTH_E_VALUE, base, suffix, "unknown scheduler flag \"%s\"",
                   s->flags[i]);
      a->sched_flags |= sched_flags[k].value;
    }
  /* runc's rules (libcontainer/configs/validate/validator.go, scheduler()). */
  if (fair && s->has_nice && (s->nice < -20 || s->nice > 19))
    return at (err, BERTH_E_RANGE, base, ".scheduler.nice", "%s: nice %d is outside -20..19",
               out->policy, (int) s->nice);
  if (s->has_priority && s->priority != 0 && !rt)
    return at (err, BERTH_E_VALUE, base, ".scheduler.priority",
               "priority is only for SCHED_FIFO and SCHED_RR, not %s", out->policy);
  if (!dl && (s->runtime || s->deadline || s->period))
    return at (err, BERTH_E_VALUE, base,
               s->runtime ? ".scheduler.runtime" : s->deadline ? ".scheduler.deadline"
                                                                : ".scheduler.period",
               "runtime, deadline and period are only for SCHED_DEADLINE, not %s",
               out->policy);
  if (rt)
    {
      /* The kernel's own range; 0 would fail at start with a bare EINVAL. */
      int lo = sched_get_priority_min ((int) a->sched_policy);
      int hi = sched_get_priority_max ((int) a->sched_policy);
      long long prio = s->has_priority ? s->priority : 0;
      if (prio < lo || prio > hi)
        return at (err, BERTH_E_RANGE, base, ".scheduler.priority",
                   "%s: priority %lld is outside %d..%d", out->policy, prio, lo, hi);
    }
  a->sched_nice = s->has_nice ? s->nice : 0;
  a->sched_priority = s->has_priority ? (uint32_t) s->priority : 0;
  a->sched_runtime = s->runtime;
  a->sched_deadline = s->deadline;
  a->sched_period = s->period;
  out->has_sched = true;
  return 0;
}

int
sched_plan_make (const struct oci_process *p, const char *base, struct sched_plan *out,
                 struct berth_error *err)
{
  *out = (struct sched_plan){ 0 };
  snprintf (out->base, sizeof out->base, "%s", base);
  if (p->scheduler && make_sched (p->scheduler, base, out, err) < 0)
    return -1;
  if (p->io_priority)
    {
      const struct oci_io_priority *io = p->io_priority;
      size_t k;
      for (k = 0; k < N (ioprio_classes); k++)
        if (strcmp (io->class, ioprio_classes[k].name) == 0)
          break;
      if (k == N (ioprio_classes))
        return at (err, BERTH_E_VALUE, base, ".ioPriority.class",
                   "unknown I/O priority class \"%s\"", io->class);
      if (io->priority < 0 || io->priority > 7)
        return at (err, BERTH_E_RANGE, base, ".ioPriority.priority",
                   "%d is outside 0..7", (int) io->priority);
      out->has_ioprio = true;
      out->ioprio = (ioprio_classes[k].value << IOPRIO_CLASS_SHIFT) | (int) io->priority;
    }
  return 0;
}

/* Why the kernel said no, in the terms of the config. */
static const char *
sched_refusal (const struct berth_sched_attr *a, int e)
{
  bool rt = a->sched_policy == SCHED_FIFO || a->sched_policy == SCHED_RR;
  if (e == EPERM && rt)
    return "likely reason: the container's cpu cgroup has no real-time budget (on cgroup v1 "
           "with real-time group scheduling cpu.rt_runtime_us is 0 unless "
           "linux.resources.cpu.realtimeRuntime sets it), or berth lacks CAP_SYS_NICE";
  if (e == EPERM && a->sched_policy == SCHED_DEADLINE)
    return "likely reason: SCHED_DEADLINE needs the process to be allowed every CPU of its "
           "root domain, and a cpuset (linux.resources.cpu.cpus) narrows it";
  if (e == EPERM)
    return "likely reason: berth lacks CAP_SYS_NICE";
  if (e == EINVAL && a->sched_policy == BERTH_SCHED_ISO)
    return "Linux does not implement SCHED_ISO";
  if (e == EINVAL && a->sched_policy == SCHED_DEADLINE)
    return "SCHED_DEADLINE needs 1024 <= runtime <= deadline <= period (period 0 means "
           "deadline), in nanoseconds";
  if (e == EBUSY)
    return "the kernel's admission control has no bandwidth left for this runtime/period";
  if (e == EOPNOTSUPP)
    return "this kernel has no utilization clamping (CONFIG_UCLAMP_TASK)";
  return "";
}

int
sched_apply (pid_t pid, const struct sched_plan *plan, struct berth_error *err)
{
  char path[160];

  if (plan->has_sched
      && syscall (SYS_sched_setattr, pid, &plan->attr, 0U) < 0)
    {
      int e = errno;
      const char *why = sched_refusal (&plan->attr, e);
      snprintf (path, sizeof path, "%s.scheduler", plan->base);
      berth_err_sys (err, e, "sched_setattr %s%s%s", plan->policy, *why ? " refused; " : "", why);
      snprintf (err->path, sizeof err->path, "%s", path);
      return -1;
    }
  if (plan->has_ioprio
      && syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, pid, plan->ioprio) < 0)
    {
      int e = errno;
      snprintf (path, sizeof path, "%s.ioPriority", plan->base);
      berth_err_sys (err, e, "ioprio_set%s",
                     e == EPERM ? " refused; IOPRIO_CLASS_RT needs CAP_SYS_ADMIN or CAP_SYS_NICE"
                                : "");
      snprintf (err->path, sizeof err->path, "%s", path);
      return -1;
    }
  return 0;
}

/* ---- CPU lists ------------------------------------------------------------ */

static bool
parse_id (const char *s, size_t len, long *out)
{
  long v = 0;
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++)
    {
      if (!isdigit ((unsigned char) s[i]))
        return false;
      v = v * 10 + (s[i] - '0');
      if (v > MAX_CPU_ID)
        return false;
    }
  *out = v;
  return true;
}

int
cpu_list_parse (const char *s, const char *jpath, struct cpu_list *out, struct berth_error *err)
{
  long lo[256], hi[256], max = -1;
  size_t n = 0;
  const char *p = s;

  *out = (struct cpu_list){ 0 };
  if (s == NULL || s[0] == '\0')
    return 0;
  while (*p)
    {
      const char *end = strchr (p, ','), *dash;
      size_t len = end ? (size_t) (end - p) : strlen (p);
      const char *a = p, *b;
      size_t alen;

      /* runc allows spaces around an element and empty elements. */
      while (len && isspace ((unsigned char) *a))
        a++, len--;
      while (len && isspace ((unsigned char) a[len - 1]))
        len--;
      p = end ? end + 1 : p + strlen (p);
      if (len == 0)
        continue;
      if (n == N (lo))
        return berth_err_at (err, BERTH_E_LIMIT, jpath, "more than %zu ranges in \"%s\"",
                             N (lo), s);
      dash = memchr (a, '-', len);
      alen = dash ? (size_t) (dash - a) : len;
      b = dash ? dash + 1 : a;
      if (!parse_id (a, alen, &lo[n])
          || !parse_id (b, dash ? len - alen - 1 : alen, &hi[n]))
        return berth_err_at (err, BERTH_E_VALUE, jpath,
                             "invalid CPU list \"%s\" (want ids 0..%d and ranges such as "
                             "\"0-3,5\")",
                             s, MAX_CPU_ID);
      if (lo[n] > hi[n])
        return berth_err_at (err, BERTH_E_VALUE, jpath, "invalid CPU range %ld-%ld in \"%s\"",
                             lo[n], hi[n], s);
      if (hi[n] > max)
        max = hi[n];
      n++;
    }
  if (n == 0)
    return berth_err_at (err, BERTH_E_VALUE, jpath, "no CPUs in \"%s\"", s);
  out->set = CPU_ALLOC ((int) max + 1);
  if (out->set == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  out->size = CPU_ALLOC_SIZE ((int) max + 1);
  CPU_ZERO_S (out->size, out->set);
  for (size_t i = 0; i < n; i++)
    for (long c = lo[i]; c <= hi[i]; c++)
      CPU_SET_S ((size_t) c, out->size, out->set);
  return 0;
}

void
cpu_list_free (struct cpu_list *l)
{
  if (l->set)
    CPU_FREE (l->set);
  *l = (struct cpu_list){ 0 };
}

int
affinity_plan_make (const struct oci_process *p, const char *base, struct affinity_plan *out,
                    struct berth_error *err)
{
  const struct oci_cpu_affinity *a = p->exec_cpu_affinity;
  char path[160];

  *out = (struct affinity_plan){ 0 };
  snprintf (out->base, sizeof out->base, "%s", base);
  if (a == NULL)
    return 0;
  snprintf (path, sizeof path, "%s.execCPUAffinity.initial", base);
  if (cpu_list_parse (a->initial, path, &out->initial, err) < 0)
    return -1;
  snprintf (path, sizeof path, "%s.execCPUAffinity.final", base);
  if (cpu_list_parse (a->final, path, &out->final, err) < 0)
    {
      affinity_plan_free (out);
      return -1;
    }
  return 0;
}

void
affinity_plan_free (struct affinity_plan *a)
{
  cpu_list_free (&a->initial);
  cpu_list_free (&a->final);
}

int
affinity_apply (pid_t pid, const struct affinity_plan *a, const char *which,
                struct berth_error *err)
{
  const struct cpu_list *l = strcmp (which, "initial") == 0 ? &a->initial : &a->final;

  if (l->set == NULL)
    return 0;
  if (sched_setaffinity (pid, l->size, l->set) < 0)
    {
      int e = errno;
      berth_err_sys (err, e, "sched_setaffinity%s",
                     e == EINVAL ? " (none of these CPUs is online and allowed by the "
                                   "container's cpuset)"
                                 : "");
      snprintf (err->path, sizeof err->path, "%s.execCPUAffinity.%s", a->base, which);
      return -1;
    }
  return 0;
}

void
affinity_reset (pid_t pid)
{
  size_t size = CPU_ALLOC_SIZE (MAX_CPU_ID);
  cleanup_free cpu_set_t *all = malloc (size);

  if (all == NULL)
    return;
  /* The kernel keeps only what the cgroup's cpuset and the online CPUs
     allow; a failure leaves berth's own affinity, which is no worse. */
  memset (all, 0xff, size);
  (void) sched_setaffinity (pid, size, all);
}
