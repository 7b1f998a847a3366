/* linux.resources.cpu: the cpu controller on v1 (cpu.shares, cpu.cfs_*,
   cpu.rt_*, cpu.idle) and v2 (cpu.weight, cpu.max, cpu.max.burst, cpu.idle)
   with runc's conversions (convert.h) and its retries for values the kernel
   checks against each other, and the cpuset controller (cpus, then mems). */
#include "cgroup/convert.h"
#include "cgroup/resources_priv.h"

#include <errno.h>
#include <inttypes.h>

/* ---- cpu v1 ------------------------------------------------------------------ */

static int
v1_shares (struct res_ctx *c, const char *dir, uint64_t shares)
{
  uint64_t got;

  if (res_write (c, JP ("cpu.shares"), dir, "cpu.shares", "%" PRIu64, shares) < 0
      || res_read_u64 (dir, "cpu.shares", &got, c->err) < 0)
    return -1;
  /* The kernel clamps silently: report it, as runc does. */
  if (got != shares)
    return berth_err_at (c->err, BERTH_E_VALUE, JP ("cpu.shares"),
                         "the %s allowed cpu-shares is %" PRIu64,
                         shares > got ? "maximum" : "minimum", got);
  return 0;
}

/* Period, burst and quota are checked against each other and the parent:
   when a write of period or burst is refused (EINVAL) and the quota is about
   to change too, retry it after the quota. */
static int
v1_cfs (struct res_ctx *c, const char *dir, const struct oci_cpu *cpu)
{
  bool quota = cpu->has_quota && cpu->quota != 0;
  bool period_later = false, burst_later = false;

  if (cpu->has_period && cpu->period != 0
      && res_write (c, JP ("cpu.period"), dir, "cpu.cfs_period_us", "%" PRIu64, cpu->period) < 0)
    {
      if (c->err->errnum != EINVAL || !quota)
        return -1;
      period_later = true;
    }
  if (cpu->has_burst
      && res_write (c, JP ("cpu.burst"), dir, "cpu.cfs_burst_us", "%" PRIu64, cpu->burst) < 0)
    {
      if (c->err->errnum != EINVAL || !quota)
        return -1;
      burst_later = true;
    }
  if (quota && res_write (c, JP ("cpu.quota"), dir, "cpu.cfs_quota_us", "%" PRId64, cpu->quota) < 0)
    return -1;
  if (period_later
      && res_write (c, JP ("cpu.period"), dir, "cpu.cfs_period_us", "%" PRIu64, cpu->period) < 0)
    return -1;
  if (burst_later
      && res_write (c, JP ("cpu.burst"), dir, "cpu.cfs_burst_us", "%" PRIu64, cpu->burst) < 0)
    return -1;
  return 0;
}

/* The same dance for the realtime period and runtime. */
static int
v1_rt (struct res_ctx *c, const char *dir, const struct oci_cpu *cpu)
{
  bool runtime = cpu->has_realtime_runtime && cpu->realtime_runtime != 0;
  bool period_later = false;

  if (cpu->has_realtime_period && cpu->realtime_period != 0
      && res_write (c, JP ("cpu.realtimePeriod"), dir, "cpu.rt_period_us", "%" PRIu64,
                    cpu->realtime_period) < 0)
    {
      if (c->err->errnum != EINVAL || !runtime)
        return -1;
      period_later = true;
    }
  if (runtime && res_write (c, JP ("cpu.realtimeRuntime"), dir, "cpu.rt_runtime_us", "%" PRId64,
                            cpu->realtime_runtime) < 0)
    return -1;
  if (period_later && res_write (c, JP ("cpu.realtimePeriod"), dir, "cpu.rt_period_us",
                                 "%" PRIu64, cpu->realtime_period) < 0)
    return -1;
  return 0;
}

static int
cpu_v1 (struct res_ctx *c, const char *dir, const struct oci_cpu *cpu)
{
  if (cpu->has_shares && cpu->shares != 0 && v1_shares (c, dir, cpu->shares) < 0)
    return -1;
  if (v1_cfs (c, dir, cpu) < 0)
    return -1;
  if (cpu->has_idle && res_write (c, JP ("cpu.idle"), dir, "cpu.idle", "%" PRId64, cpu->idle) < 0)
    return -1;
  return v1_rt (c, dir, cpu);
}

/* ---- cpu v2 ------------------------------------------------------------------ */

static int
cpu_max (struct res_ctx *c, const char *dir, const struct oci_cpu *cpu)
{
  char buf[CGCONV_BUF];
  const char *v = cgconv_cpu_max (cpu->has_quota ? cpu->quota : 0,
                                  cpu->has_period ? cpu->period : 0, buf, sizeof buf);

  return v == NULL ? 0
                   : res_write (c, cpu->has_quota ? JP ("cpu.quota") : JP ("cpu.period"), dir,
                                "cpu.max", "%s", v);
}

static int
cpu_v2 (struct res_ctx *c, const char *dir, const struct oci_cpu *cpu)
{
  bool max = (cpu->has_quota && cpu->quota != 0) || (cpu->has_period && cpu->period != 0);
  bool burst_later = false;

  if ((cpu->has_realtime_runtime && cpu->realtime_runtime != 0)
      || (cpu->has_realtime_period && cpu->realtime_period != 0))
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED,
                         cpu->has_realtime_runtime ? JP ("cpu.realtimeRuntime")
                                                   : JP ("cpu.realtimePeriod"),
                         "cgroup v2 has no realtime scheduling limits (cpu.rt_runtime_us)");
  if (cpu->has_shares && cpu->shares != 0
      && res_write (c, JP ("cpu.shares"), dir, "cpu.weight", "%" PRIu64,
                    cgconv_shares_to_weight (cpu->shares)) < 0)
    return -1;
  if (cpu->has_idle && res_write (c, JP ("cpu.idle"), dir, "cpu.idle", "%" PRId64, cpu->idle) < 0)
    return -1;
  if (cpu->has_burst
      && res_write (c, JP ("cpu.burst"), dir, "cpu.max.burst", "%" PRIu64, cpu->burst) < 0)
    {
      if (c->err->errnum != EINVAL || !max)
        return -1;
      burst_later = true;
    }
  if (max && cpu_max (c, dir, cpu) < 0)
    return -1;
  if (burst_later
      && res_write (c, JP ("cpu.burst"), dir, "cpu.max.burst", "%" PRIu64, cpu->burst) < 0)
    return -1;
  return 0;
}

int
res_cpu (struct res_ctx *c, const struct oci_cpu *cpu)
{
  struct res_ctl ctl;

  if (!(cpu->has_shares || cpu->has_quota || cpu->has_period || cpu->has_burst
        || cpu->has_realtime_runtime || cpu->has_realtime_period || cpu->has_idle))
    return 0;
  if (res_locate (c, "cpu", "cpu", JP ("cpu"), &ctl) < 0)
    return -1;
  return ctl.v2 ? cpu_v2 (c, ctl.dir, cpu) : cpu_v1 (c, ctl.dir, cpu);
}

int
res_cpuset (struct res_ctx *c, const struct oci_cpu *cpu)
{
  struct res_ctl ctl;

  if (!(cpu->has_cpus && *cpu->cpus) && !(cpu->has_mems && *cpu->mems))
    return 0;
  if (res_locate (c, "cpuset", "cpuset", cpu->has_cpus ? JP ("cpu.cpus") : JP ("cpu.mems"), &ctl)
      < 0)
    return -1;
  if (cpu->has_cpus && *cpu->cpus
      && res_write (c, JP ("cpu.cpus"), ctl.dir, "cpuset.cpus", "%s", cpu->cpus) < 0)
    return -1;
  if (cpu->has_mems && *cpu->mems
      && res_write (c, JP ("cpu.mems"), ctl.dir, "cpuset.mems", "%s", cpu->mems) < 0)
    return -1;
  return 0;
}
