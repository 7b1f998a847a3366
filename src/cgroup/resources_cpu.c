/* linux.resources.cpu (cpu, cpuset) and .blockIO on v1 (cpu.cfs_*, cpu.rt_*,
   blkio.*) and v2 (cpu.weight, cpu.max, io.*), with runc's conversions and
   its retries for values the kernel checks against each other. */
#include "cleanup.h"
#include "cgroup/resources_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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

/* runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] onto [1, 10000]. */
static uint64_t
shares_to_weight (uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

static int
cpu_max (struct res_ctx *c, const char *dir, const struct oci_cpu *cpu)
{
  char quota[32] = "max", period[32] = "";

  if (cpu->has_quota && cpu->quota > 0)
    snprintf (quota, sizeof quota, "%" PRId64, cpu->quota);
  if (cpu->has_period && cpu->period != 0)
    snprintf (period, sizeof period, " %" PRIu64, cpu->period);
  return res_write (c, cpu->has_quota ? JP ("cpu.quota") : JP ("cpu.period"), dir, "cpu.max",
                    "%s%s", quota, period);
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
                    shares_to_weight (cpu->shares)) < 0)
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

/* ---- block I/O ------------------------------------------------------------------ */

struct throttle_kind {
  const char *jpath, *v1_file, *v2_key;
  size_t off_vec, off_len;
};

#define THROTTLE(m, json, v1, v2)                                                            \
  { JP ("blockIO." json), v1, v2, offsetof (struct oci_block_io, m),                          \
    offsetof (struct oci_block_io, m##_len) }
static const struct throttle_kind throttles[] = {
  THROTTLE (throttle_read_bps_device, "throttleReadBpsDevice", "blkio.throttle.read_bps_device",
            "rbps"),
  THROTTLE (throttle_write_bps_device, "throttleWriteBpsDevice",
            "blkio.throttle.write_bps_device", "wbps"),
  THROTTLE (throttle_read_iops_device, "throttleReadIOPSDevice",
            "blkio.throttle.read_iops_device", "riops"),
  THROTTLE (throttle_write_iops_device, "throttleWriteIOPSDevice",
            "blkio.throttle.write_iops_device", "wiops"),
};

static int
apply_throttles (struct res_ctx *c, const struct res_ctl *ctl, const struct oci_block_io *b)
{
  char jpath[128];

  for (size_t k = 0; k < sizeof throttles / sizeof throttles[0]; k++)
    {
      const struct throttle_kind *t = &throttles[k];
      const struct oci_throttle_device *v
          = *(struct oci_throttle_device *const *) ((const char *) b + t->off_vec);
      size_t n = *(const size_t *) ((const char *) b + t->off_len);
      for (size_t i = 0; i < n; i++)
        {
          int r;
          snprintf (jpath, sizeof jpath, "%s[%zu]", t->jpath, i);
          if (!ctl->v2)
            r = res_write (c, jpath, ctl->dir, t->v1_file, "%" PRId64 ":%" PRId64 " %" PRIu64,
                           v[i].major, v[i].minor, v[i].rate);
          else if (v[i].rate == 0) /* v1's "no limit" */
            r = res_write (c, jpath, ctl->dir, "io.max", "%" PRId64 ":%" PRId64 " %s=max",
                           v[i].major, v[i].minor, t->v2_key);
          else
            r = res_write (c, jpath, ctl->dir, "io.max", "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
                           v[i].major, v[i].minor, t->v2_key, v[i].rate);
          if (r < 0)
            return -1;
        }
    }
  return 0;
}

/* runc: blkio.weight where CFQ has it, else BFQ's blkio.bfq.weight. */
static int
blkio_v1 (struct res_ctx *c, const char *dir, const struct oci_block_io *b)
{
  bool cfq = res_has_file (dir, "blkio.weight");
  const char *wfile = cfq ? "blkio.weight" : "blkio.bfq.weight";
  const char *wdfile = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
  char jpath[128];

  if (b->has_weight && b->weight != 0
      && res_write (c, JP ("blockIO.weight"), dir, wfile, "%" PRIu16, b->weight) < 0)
    return -1;
  if (b->has_leaf_weight && b->leaf_weight != 0
      && res_write (c, JP ("blockIO.leafWeight"), dir, "blkio.leaf_weight", "%" PRIu16,
                    b->leaf_weight) < 0)
    return -1;
  for (size_t i = 0; i < b->weight_device_len; i++)
    {
      const struct oci_weight_device *w = &b->weight_device[i];
      snprintf (jpath, sizeof jpath, JP ("blockIO.weightDevice[%zu]"), i);
      if (w->has_weight && w->weight != 0
          && res_write (c, jpath, dir, wdfile, "%" PRId64 ":%" PRId64 " %" PRIu16, w->major,
                        w->minor, w->weight) < 0)
        return -1;
      if (w->has_leaf_weight && w->leaf_weight != 0
          && res_write (c, jpath, dir, "blkio.leaf_weight_device",
                        "%" PRId64 ":%" PRId64 " %" PRIu16, w->major, w->minor, w->leaf_weight)
                 < 0)
        return -1;
    }
  return 0;
}

/* runc: io.bfq.weight (same scale as v1) where BFQ is there, else io.weight
   through ConvertBlkIOToIOWeightValue; per-device weights only with BFQ. */
static int
blkio_v2 (struct res_ctx *c, const char *dir, const struct oci_block_io *b)
{
  bool bfq = res_has_file (dir, "io.bfq.weight");
  char jpath[128];

  if (b->has_leaf_weight && b->leaf_weight != 0)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, JP ("blockIO.leafWeight"),
                         "cgroup v2 has no leaf weights (blkio.leaf_weight)");
  if (b->has_weight && b->weight != 0 && !bfq && (b->weight < 10 || b->weight > 1000))
    return berth_err_at (c->err, BERTH_E_VALUE, JP ("blockIO.weight"),
                         "%" PRIu16 " is outside the range 10-1000", b->weight);
  if (b->has_weight && b->weight != 0
      && (bfq ? res_write (c, JP ("blockIO.weight"), dir, "io.bfq.weight", "%" PRIu16, b->weight)
              : res_write (c, JP ("blockIO.weight"), dir, "io.weight", "%" PRIu64,
                           1 + ((uint64_t) b->weight - 10) * 9999 / 990))
             < 0)
    return -1;
  for (size_t i = 0; i < b->weight_device_len; i++)
    {
      const struct oci_weight_device *w = &b->weight_device[i];
      snprintf (jpath, sizeof jpath, JP ("blockIO.weightDevice[%zu]"), i);
      if (w->has_leaf_weight && w->leaf_weight != 0)
        return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                             "cgroup v2 has no leaf weights (blkio.leaf_weight_device)");
      if (w->has_weight && w->weight != 0
          && res_write (c, jpath, dir, "io.bfq.weight", "%" PRId64 ":%" PRId64 " %" PRIu16,
                        w->major, w->minor, w->weight) < 0)
        return -1;
    }
  return 0;
}

int
res_block_io (struct res_ctx *c, const struct oci_block_io *b)
{
  struct res_ctl ctl;

  if (!(b->has_weight || b->has_leaf_weight || b->weight_device_len
        || b->throttle_read_bps_device_len || b->throttle_write_bps_device_len
        || b->throttle_read_iops_device_len || b->throttle_write_iops_device_len))
    return 0;
  if (res_locate (c, "blkio", "io", JP ("blockIO"), &ctl) < 0)
    return -1;
  if ((ctl.v2 ? blkio_v2 (c, ctl.dir, b) : blkio_v1 (c, ctl.dir, b)) < 0)
    return -1;
  return apply_throttles (c, &ctl, b);
}
