/* The systemd cgroup driver's resource properties: linux.resources as the
   properties of a transient unit (StartTransientUnit, SetUnitProperties).
   See systemd_cgroup.h for which, and systemd_priv.h. */
#include "cgroup/systemd_priv.h"
#include "cgroup/convert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- resource properties ------------------------------------------------- */

/* A "0-3,8" list as the byte array systemd's AllowedCPUs takes (bit n of
   byte n/8 for CPU n). */
static int
list_to_mask (const char *list, const char *jpath, uint8_t *mask, size_t *len,
              struct berth_error *err)
{
  const size_t max = 8 * 1024; /* bits: the mask buffer the callers have */
  const char *p = list;

  *len = 0;
  memset (mask, 0, max / 8);
  while (*p)
    {
      char *end;
      unsigned long a = strtoul (p, &end, 10), b = a;
      if (end == p)
        break;
      if (*end == '-')
        {
          p = end + 1;
          b = strtoul (p, &end, 10);
          if (end == p)
            break;
        }
      if (a > b || b >= max)
        break;
      for (unsigned long i = a; i <= b; i++)
        mask[i / 8] |= (uint8_t) (1u << (i % 8));
      *len = *len > b / 8 + 1 ? *len : b / 8 + 1;
      p = end + (*end == ',');
      if (*end != ',' && *end != '\0' && *end != '\n')
        break;
      if (*end != ',')
        return 0;
    }
  return berth_err_at (err, BERTH_E_VALUE, jpath, "\"%s\" is not a list like \"0-3,8\"", list);
}

/* A value of a unified memory/pids file: "max" or a number; false if neither. */
static bool
unified_u64 (const char *v, uint64_t *out)
{
  char *end;

  v += strspn (v, " \t\n");
  if (strncmp (v, "max", 3) == 0 && v[3 + strspn (v + 3, " \t\n")] == '\0')
    return *out = USEC_INFINITY, true;
  errno = 0;
  *out = strtoull (v, &end, 10);
  return errno == 0 && end != v && end[strspn (end, " \t\n")] == '\0';
}

/* One (sv) of a property list: the name and the variant's signature; the
   value follows. */
static void
prop_open (struct props *p, const char *name, const char *sig)
{
  dbus_struct_open (&p->w);
  dbus_put_string (&p->w, name);
  dbus_put_variant (&p->w, sig);
}

void
prop_t (struct props *p, const char *name, uint64_t v)
{
  prop_open (p, name, "t");
  dbus_put_u64 (&p->w, v);
}

void
prop_b (struct props *p, const char *name, bool v)
{
  prop_open (p, name, "b");
  dbus_put_bool (&p->w, v);
}

void
prop_s (struct props *p, const char *name, const char *v)
{
  prop_open (p, name, "s");
  dbus_put_string (&p->w, v);
}

void
prop_as1 (struct props *p, const char *name, const char *v)
{
  prop_open (p, name, "as");
  dbus_array_open (&p->w, 4);
  dbus_put_string (&p->w, v);
  dbus_array_close (&p->w);
}

void
prop_au1 (struct props *p, const char *name, uint32_t v)
{
  prop_open (p, name, "au");
  dbus_array_open (&p->w, 4);
  dbus_put_u32 (&p->w, v);
  dbus_array_close (&p->w);
}

static void
prop_ay (struct props *p, const char *name, const uint8_t *v, size_t n)
{
  prop_open (p, name, "ay");
  dbus_array_open (&p->w, 1);
  for (size_t i = 0; i < n; i++)
    dbus_put_byte (&p->w, v[i]);
  dbus_array_close (&p->w);
}

/* runc's addCpuQuota: systemd takes the quota per second of CPU time, and
   keeps it in whole percent, so round up to the next 10 ms. */
static void
prop_cpu_quota (struct props *p, int64_t quota, uint64_t period)
{
  uint64_t per_sec = USEC_INFINITY;

  if (period)
    prop_t (p, "CPUQuotaPeriodUSec", period);
  if (quota == 0 && period == 0)
    return;
  if (quota > 0)
    {
      per_sec = (uint64_t) quota * 1000000 / (period ? period : 100000);
      if (per_sec % 10000)
        per_sec = (per_sec / 10000 + 1) * 10000;
    }
  prop_t (p, "CPUQuotaPerSecUSec", per_sec);
}

static const struct {
  const char *file, *prop;
} unified_props[] = {
  { "memory.max", "MemoryMax" },   { "memory.high", "MemoryHigh" },
  { "memory.low", "MemoryLow" },   { "memory.min", "MemoryMin" },
  { "memory.swap.max", "MemorySwapMax" }, { "pids.max", "TasksMax" },
  { "cpu.weight", "CPUWeight" },
};

/* Values the properties cannot take are left out: cgroup_apply_resources
   reports them, naming their JSON path, right after. */
int
sd_append_resources (struct props *p, const struct oci_resources *r, struct berth_error *err)
{
  uint8_t mask[1024]; /* 8192 CPUs or memory nodes */
  size_t n;

  if (r == NULL)
    return 0;
  if (r->memory)
    {
      const struct oci_memory *m = r->memory;
      int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0, v2swap;
      const char *why;
      if (limit > 0 || limit == -1)
        prop_t (p, "MemoryMax", limit > 0 ? (uint64_t) limit : USEC_INFINITY);
      if (m->has_reservation && (m->reservation > 0 || m->reservation == -1))
        prop_t (p, "MemoryLow", m->reservation > 0 ? (uint64_t) m->reservation : USEC_INFINITY);
      /* memory+swap to swap alone; only "max" or a swap beside a memory limit. */
      if (cgconv_swap_to_v2 (swap, limit, &v2swap, &why) == 0
          && (v2swap == -1 || (limit > 0 && swap > 0)))
        prop_t (p, "MemorySwapMax", v2swap == -1 ? USEC_INFINITY : (uint64_t) v2swap);
    }
  if (r->cpu)
    {
      const struct oci_cpu *c = r->cpu;
      /* On v1 systemd would turn CPUWeight back into shares by a scale of
         its own; CPUShares keeps the config's value. */
      if (c->has_shares && c->shares)
        prop_t (p, p->b->legacy ? "CPUShares" : "CPUWeight",
                p->b->legacy ? c->shares : cgconv_shares_to_weight (c->shares));
      prop_cpu_quota (p, c->has_quota ? c->quota : 0, c->has_period ? c->period : 0);
      if (c->has_cpus && *c->cpus)
        {
          if (list_to_mask (c->cpus, ".linux.resources.cpu.cpus", mask, &n, err) < 0)
            return -1;
          prop_ay (p, "AllowedCPUs", mask, n);
        }
      if (c->has_mems && *c->mems)
        {
          if (list_to_mask (c->mems, ".linux.resources.cpu.mems", mask, &n, err) < 0)
            return -1;
          prop_ay (p, "AllowedMemoryNodes", mask, n);
        }
    }
  if (r->pids && r->pids->has_limit)
    prop_t (p, "TasksMax", r->pids->limit > 0 ? (uint64_t) r->pids->limit : USEC_INFINITY);
  /* The v2 io.weight scale; v1 keeps the blkio scale. */
  if (r->block_io && r->block_io->has_weight && r->block_io->weight
      && cgconv_blkio_weight_valid (r->block_io->weight))
    prop_t (p, p->b->legacy ? "BlockIOWeight" : "IOWeight",
            p->b->legacy ? r->block_io->weight : cgconv_blkio_to_io_weight (r->block_io->weight));
  /* On a hybrid host "unified" names the controller-less v2 hierarchy. */
  for (size_t i = 0; !p->b->legacy && i < r->unified_len; i++)
    {
      uint64_t v;
      for (size_t k = 0; k < sizeof unified_props / sizeof unified_props[0]; k++)
        if (strcmp (r->unified_keys[i], unified_props[k].file) == 0
            && unified_u64 (r->unified[i], &v))
          prop_t (p, unified_props[k].prop, v);
    }
  return 0;
}
