/* linux.resources.memory on v1 (memory.*_in_bytes, memsw, kmem, oom_control)
   and v2 (memory.max/low/swap.max), with runc's conversions and ordering. */
#include "base/log.h"
#include "cgroup/convert.h"
#include "cgroup/resources_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* checkBeforeUpdate: refuse, rather than have the kernel reclaim or
   OOM-kill, a limit at or below what the container already uses. */
static int
check_usage (struct res_ctx *c, const struct res_ctl *ctl, const struct oci_memory *m)
{
  uint64_t usage = 0, swap = 0;
  int64_t limit = m->has_limit ? m->limit : 0, memsw = m->has_swap ? m->swap : 0;

  if (!c->update || !m->has_check_before_update || !m->check_before_update
      || (limit <= 0 && memsw <= 0))
    return 0;
  if (res_read_u64 (ctl->dir, ctl->v2 ? "memory.current" : "memory.usage_in_bytes", &usage,
                    c->err) < 0)
    return -1;
  if (limit > 0 && usage >= (uint64_t) limit)
    return berth_err_at (c->err, BERTH_E_VALUE, JP ("memory.limit"),
                         "rejecting memory limit %" PRId64 " below current usage %" PRIu64,
                         limit, usage);
  if (memsw <= 0)
    return 0;
  /* v1's memsw counts memory too; v2 counts swap alone. */
  if (res_read_u64 (ctl->dir, ctl->v2 ? "memory.swap.current" : "memory.memsw.usage_in_bytes",
                    &swap, c->err) < 0)
    return c->err->errnum == ENOENT ? 0 : -1;
  if (ctl->v2)
    swap += usage;
  if (swap >= (uint64_t) memsw)
    return berth_err_at (c->err, BERTH_E_VALUE, JP ("memory.swap"),
                         "rejecting memory+swap limit %" PRId64 " below current usage %" PRIu64,
                         memsw, swap);
  return 0;
}

/* ---- v1 -------------------------------------------------------------------- */

static int
v1_limit (struct res_ctx *c, const char *dir, int64_t v)
{
  uint64_t usage = 0, peak = 0;

  if (v == 0
      || res_write (c, JP ("memory.limit"), dir, "memory.limit_in_bytes", "%" PRId64, v) == 0)
    return 0;
  if (c->err->errnum != EBUSY)
    return -1;
  /* EBUSY: the kernel could not reclaim down to the new limit. */
  res_read_u64 (dir, "memory.usage_in_bytes", &usage, &(struct berth_error){ 0 });
  res_read_u64 (dir, "memory.max_usage_in_bytes", &peak, &(struct berth_error){ 0 });
  return berth_err_at (c->err, BERTH_E_VALUE, JP ("memory.limit"),
                       "unable to set memory limit to %" PRId64 " (current usage: %" PRIu64
                       ", peak usage: %" PRIu64 ")",
                       v, usage, peak);
}

static int
v1_swap (struct res_ctx *c, const char *dir, int64_t v)
{
  if (v == 0)
    return 0;
  return res_write (c, JP ("memory.swap"), dir, "memory.memsw.limit_in_bytes", "%" PRId64, v);
}

/* The kernel keeps memsw >= limit at every step: when both change, raise
   memsw first and lower it last (runc's order). */
static int
v1_limit_and_swap (struct res_ctx *c, const char *dir, const struct oci_memory *m)
{
  int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;
  uint64_t cur;

  /* An unlimited memory with no word on swap makes swap unlimited too. */
  if (limit == -1 && swap == 0 && res_has_file (dir, "memory.memsw.limit_in_bytes"))
    swap = -1;
  if (limit != 0 && swap != 0)
    {
      if (res_read_u64 (dir, "memory.limit_in_bytes", &cur, c->err) < 0)
        return -1;
      if (swap == -1 || cur < (uint64_t) swap)
        return v1_swap (c, dir, swap) < 0 ? -1 : v1_limit (c, dir, limit);
    }
  return v1_limit (c, dir, limit) < 0 ? -1 : v1_swap (c, dir, swap);
}

static int
memory_v1 (struct res_ctx *c, const char *dir, const struct oci_memory *m)
{
  if (v1_limit_and_swap (c, dir, m) < 0)
    return -1;
  if (m->has_reservation && m->reservation != 0
      && res_write (c, JP ("memory.reservation"), dir, "memory.soft_limit_in_bytes",
                    "%" PRId64, m->reservation) < 0)
    return -1;
  /* Deprecated by the kernel (writes may be no-ops), refused only where the
     file is gone. */
  if (m->has_kernel && res_write (c, JP ("memory.kernel"), dir, "memory.kmem.limit_in_bytes",
                                  "%" PRId64, m->kernel) < 0)
    return -1;
  if (m->has_kernel_tcp
      && res_write (c, JP ("memory.kernelTCP"), dir, "memory.kmem.tcp.limit_in_bytes",
                    "%" PRId64, m->kernel_tcp) < 0)
    return -1;
  if (m->has_disable_oom_killer && m->disable_oom_killer
      && res_write (c, JP ("memory.disableOOMKiller"), dir, "memory.oom_control", "1") < 0)
    return -1;
  /* The kernel has always-on hierarchy now; only "true" is meaningful. */
  if (m->has_use_hierarchy && m->use_hierarchy
      && res_write (c, JP ("memory.useHierarchy"), dir, "memory.use_hierarchy", "1") < 0)
    return -1;
  if (!m->has_swappiness || m->swappiness == UINT64_MAX) /* -1 in Go: unset */
    return 0;
  if (m->swappiness > 100)
    return berth_err_at (c->err, BERTH_E_VALUE, JP ("memory.swappiness"),
                         "invalid memory swappiness value: %" PRIu64 " (valid range is 0-100)",
                         m->swappiness);
  return res_write (c, JP ("memory.swappiness"), dir, "memory.swappiness", "%" PRIu64,
                    m->swappiness);
}

/* ---- v2 -------------------------------------------------------------------- */

static int
v2_unsupported (struct res_ctx *c, const struct oci_memory *m)
{
  if (m->has_kernel || m->has_kernel_tcp)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED,
                         m->has_kernel ? JP ("memory.kernel") : JP ("memory.kernelTCP"),
                         "cgroup v2 has no kernel memory limit (memory.kmem.* files)");
  if (m->has_disable_oom_killer && m->disable_oom_killer)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, JP ("memory.disableOOMKiller"),
                         "cgroup v2 cannot disable the OOM killer (it has no memory.oom_control)");
  if (m->has_swappiness && m->swappiness != UINT64_MAX)
    berth_warn ("%s: ignored: cgroup v2 has no memory.swappiness (as runc)",
                JP ("memory.swappiness"));
  return 0;
}

static int
memory_v2 (struct res_ctx *c, const char *dir, const struct oci_memory *m)
{
  int64_t limit = m->has_limit ? m->limit : 0, swap = 0;
  char buf[CGCONV_BUF];
  const char *s, *why;

  if (v2_unsupported (c, m) < 0)
    return -1;
  if ((m->has_swap || limit == -1)
      && cgconv_swap_to_v2 (m->has_swap ? m->swap : 0, limit, &swap, &why) < 0)
    return berth_err_at (c->err, BERTH_E_VALUE, JP ("memory.swap"), "%s", why);
  s = cgconv_v2_limit (swap, buf, sizeof buf);
  if (s == NULL && m->has_swap && m->swap > 0) /* memory == memory+swap: no swap */
    s = "0";
  if (s && res_write (c, JP ("memory.swap"), dir, "memory.swap.max", "%s", s) < 0)
    {
      /* No swap accounting: "no limit" and "no swap" are both what it is. */
      if (c->err->kind != BERTH_E_UNSUPPORTED || (strcmp (s, "max") && strcmp (s, "0")))
        return -1;
      berth_err_clear (c->err);
    }
  if ((s = cgconv_v2_limit (limit, buf, sizeof buf))
      && res_write (c, JP ("memory.limit"), dir, "memory.max", "%s", s) < 0)
    return -1;
  if ((s = cgconv_v2_limit (m->has_reservation ? m->reservation : 0, buf, sizeof buf))
      && res_write (c, JP ("memory.reservation"), dir, "memory.low", "%s", s) < 0)
    return -1;
  return 0;
}

int
res_memory (struct res_ctx *c, const struct oci_memory *m)
{
  struct res_ctl ctl;

  if (!(m->has_limit || m->has_reservation || m->has_swap || m->has_kernel || m->has_kernel_tcp
        || m->has_swappiness || m->has_disable_oom_killer || m->has_use_hierarchy))
    return 0;
  if (res_locate (c, "memory", "memory", JP ("memory"), &ctl) < 0 || check_usage (c, &ctl, m) < 0)
    return -1;
  return ctl.v2 ? memory_v2 (c, ctl.dir, m) : memory_v1 (c, ctl.dir, m);
}
