/* berth check: linux.resources and linux.cgroupsPath against this host.
 *
 * The question for each resource property is the one create's
 * cgroup_apply_resources() (resources*.c) will meet: is its controller there
 * (v1 hierarchy first, then cgroup2, as res_locate()), and does a new cgroup
 * get the file it writes?  The container's cgroup does not exist yet, so:
 *  - v1: the files are those of any cgroup below the hierarchy's root (a
 *    root lacks some, e.g. pids.max, blkio.bfq.weight): the nearest
 *    existing ancestor of the container's directory when that is not the
 *    root, else any existing child of the root, else a probe directory made
 *    and removed for the purpose;
 *  - cgroup2: the controller must be in cgroup.controllers of the nearest
 *    existing ancestor (berth enables what the parent offers).  Files are
 *    checked only where an existing non-root ancestor has the controller;
 *    huge page sizes are checked in /sys/kernel/mm/hugepages.
 */
#include "check/check_priv.h"
#include "cgroup/cgroup.h"
#include "cgroup/driver.h"
#include "cleanup.h"
#include "base/utils.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JP(p) ".linux.resources." p

struct cgx {
  struct check_ctx *x;
  struct berth_cgroup cg; /* resolved, not created */
};

/* Where a controller is, as res_locate() would find it. */
struct where {
  const char *ctrl; /* the controller's name as found */
  char dir[PATH_MAX]; /* the directory whose files tell; "" when none does */
  bool v2;
  bool probe;       /* dir is a probe made here: rmdir when done */
};

static bool
is_dir (const char *p)
{
  struct stat st;
  return stat (p, &st) == 0 && S_ISDIR (st.st_mode);
}

static bool
has_file (const char *dir, const char *file)
{
  char p[PATH_MAX + 128];
  snprintf (p, sizeof p, "%s/%s", dir, file);
  return access (p, F_OK) == 0;
}

/* `path` cut back to its nearest existing ancestor (maybe itself). */
static void
nearest_existing (const char *path, char *out, size_t len)
{
  char *slash;

  snprintf (out, len, "%s", path);
  while (!is_dir (out) && (slash = strrchr (out, '/')) != NULL && slash != out)
    *slash = '\0';
}

/* A cgroup filesystem's root is where the parent is another filesystem. */
static bool
is_fs_root (const char *dir)
{
  char parent[PATH_MAX + 4];
  struct stat a, b;

  snprintf (parent, sizeof parent, "%s/..", dir);
  return stat (dir, &a) < 0 || stat (parent, &b) < 0 || a.st_dev != b.st_dev;
}

/* A non-root cgroup of the v1 hierarchy holding `path`. */
static void
v1_sample (const char *path, struct where *w)
{
  cleanup_closedir DIR *d = NULL;
  struct dirent *de;

  nearest_existing (path, w->dir, sizeof w->dir);
  if (!is_fs_root (w->dir))
    return;
  if ((d = opendir (w->dir)) != NULL)
    while ((de = readdir (d)) != NULL)
      if (de->d_type == DT_DIR && de->d_name[0] != '.')
        {
          size_t l = strlen (w->dir);
          snprintf (w->dir + l, sizeof w->dir - l, "/%s", de->d_name);
          return;
        }
  /* An empty hierarchy: a probe shows what a new cgroup gets. */
  {
    size_t l = strlen (w->dir);
    snprintf (w->dir + l, sizeof w->dir - l, "/berth-check-probe.%d", (int) getpid ());
    if (mkdir (w->dir, 0755) == 0)
      w->probe = true;
    else
      w->dir[0] = '\0'; /* cannot tell (not root?): check controllers only */
  }
}

static void
where_done (struct where *w)
{
  if (w->probe)
    rmdir (w->dir);
  w->probe = false;
}

/* Find the controller (`v1` in a v1 hierarchy, else `v2` in cgroup2; either
   may be NULL); an error at `jpath` when the host has neither. */
static bool
locate (struct cgx *g, const char *v1, const char *v2, const char *jpath, struct where *w)
{
  const char *dir = NULL, *udir = g->cg.mode == BERTH_CGROUP_V1 ? NULL : cgroup_dir (&g->cg, "");
  char near[PATH_MAX];

  memset (w, 0, sizeof *w);
  if (v1 && g->cg.mode != BERTH_CGROUP_V2 && (dir = cgroup_dir (&g->cg, v1)) != NULL)
    {
      w->ctrl = v1;
      v1_sample (dir, w);
      return true;
    }
  if (v2 && udir)
    {
      nearest_existing (udir, near, sizeof near);
      if (cgroup_v2_has_controller (near, v2))
        {
          w->ctrl = v2;
          w->v2 = true;
          if (!is_fs_root (near))
            snprintf (w->dir, sizeof w->dir, "%s", near);
          return true;
        }
    }
  if (g->cg.mode == BERTH_CGROUP_V2 && v2)
    check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, jpath,
               "needs the %s controller, which %s does not offer (see its cgroup.controllers)",
               v2, udir ? udir : "the container's parent cgroup");
  else if (g->cg.mode == BERTH_CGROUP_V2)
    check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, jpath,
               "needs the %s controller, which exists only in cgroup v1, and this host has "
               "only cgroup v2", v1);
  else
    check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, jpath,
               "needs the %s controller, which is not mounted on this host", v1 ? v1 : v2);
  return false;
}

/* The file must exist in a new cgroup; unknown (no sample) passes. */
static void
need_file (struct cgx *g, const struct where *w, const char *file, const char *jpath)
{
  if (w->dir[0] && !has_file (w->dir, file))
    check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, jpath,
               "the %s controller of this host has no %s", w->ctrl, file);
}

/* One property: v1 file, v2 file (NULL: cgroup v2 cannot do it, `v2_why`
   says why; a warning when `v2_warn`, as create only warns). */
struct prop {
  const char *key, *v1_file, *v2_file, *v2_why;
  bool v2_warn;
};

static const struct prop memory_props[] = {
  { "limit", "memory.limit_in_bytes", "memory.max", NULL, false },
  { "reservation", "memory.soft_limit_in_bytes", "memory.low", NULL, false },
  { "swap", "memory.memsw.limit_in_bytes", "memory.swap.max", NULL, false },
  { "kernel", "memory.kmem.limit_in_bytes", NULL, "cgroup v2 has no kernel memory limit", false },
  { "kernelTCP", "memory.kmem.tcp.limit_in_bytes", NULL, "cgroup v2 has no kernel memory limit",
    false },
  { "swappiness", "memory.swappiness", NULL, "ignored: cgroup v2 has no memory.swappiness",
    true },
  { "disableOOMKiller", "memory.oom_control", NULL, "cgroup v2 cannot disable the OOM killer",
    false },
  { "useHierarchy", "memory.use_hierarchy", "", NULL, false },
};

static const struct prop cpu_props[] = {
  { "shares", "cpu.shares", "cpu.weight", NULL, false },
  { "quota", "cpu.cfs_quota_us", "cpu.max", NULL, false },
  { "burst", "cpu.cfs_burst_us", "cpu.max.burst", NULL, false },
  { "period", "cpu.cfs_period_us", "cpu.max", NULL, false },
  { "realtimeRuntime", "cpu.rt_runtime_us", NULL,
    "cgroup v2 has no realtime scheduling limits", false },
  { "realtimePeriod", "cpu.rt_period_us", NULL, "cgroup v2 has no realtime scheduling limits",
    false },
  { "idle", "cpu.idle", "cpu.idle", NULL, false },
};

/* Every present field of `obj` (of type `t`) that has a row in `props`. */
static void
check_props (struct cgx *g, const struct oci_type *t, const void *obj, const char *base,
             const struct prop *props, size_t n, const struct where *w)
{
  char jpath[128];

  for (size_t i = 0; i < t->n_fields; i++)
    {
      const struct oci_field *f = &t->fields[i];
      if (!*(const bool *) ((const char *) obj + f->has_off))
        continue;
      for (size_t k = 0; k < n; k++)
        {
          const struct prop *p = &props[k];
          if (strcmp (p->key, f->key) != 0)
            continue;
          CHECK_PATHF (jpath, "%s.%s", base, f->key);
          if (!w->v2)
            need_file (g, w, p->v1_file, jpath);
          else if (p->v2_file && p->v2_file[0])
            need_file (g, w, p->v2_file, jpath);
          else if (p->v2_file == NULL)
            check_add (g->x, p->v2_warn ? CHECK_WARNING : CHECK_ERROR, BERTH_E_UNSUPPORTED,
                       jpath, "%s", p->v2_why);
        }
    }
}

static void
check_memory_cpu (struct cgx *g, const struct oci_resources *r)
{
  struct where w;

  if (r->memory && locate (g, "memory", "memory", JP ("memory"), &w))
    {
      const struct oci_memory *m = r->memory;
      /* cgroup v2 refuses only a true disableOOMKiller (resources_memory.c). */
      struct oci_memory copy = *m;
      if (w.v2 && copy.has_disable_oom_killer && !copy.disable_oom_killer)
        copy.has_disable_oom_killer = false;
      check_props (g, &oci_type_memory, &copy, JP ("memory"), memory_props,
                   sizeof memory_props / sizeof memory_props[0], &w);
      where_done (&w);
    }
  if (r->cpu && (r->cpu->has_shares || r->cpu->has_quota || r->cpu->has_burst
                 || r->cpu->has_period || r->cpu->has_realtime_runtime
                 || r->cpu->has_realtime_period || r->cpu->has_idle)
      && locate (g, "cpu", "cpu", JP ("cpu"), &w))
    {
      struct oci_cpu copy = *r->cpu;
      /* v2 refuses realtime values only when they are not 0. */
      if (w.v2 && copy.realtime_runtime == 0)
        copy.has_realtime_runtime = false;
      if (w.v2 && copy.realtime_period == 0)
        copy.has_realtime_period = false;
      check_props (g, &oci_type_cpu, &copy, JP ("cpu"), cpu_props,
                   sizeof cpu_props / sizeof cpu_props[0], &w);
      where_done (&w);
    }
  if (r->cpu && (r->cpu->has_cpus || r->cpu->has_mems)
      && locate (g, "cpuset", "cpuset", r->cpu->has_cpus ? JP ("cpu.cpus") : JP ("cpu.mems"), &w))
    {
      if (r->cpu->has_cpus)
        need_file (g, &w, "cpuset.cpus", JP ("cpu.cpus"));
      if (r->cpu->has_mems)
        need_file (g, &w, "cpuset.mems", JP ("cpu.mems"));
      where_done (&w);
    }
  if (r->pids && r->pids->has_limit && locate (g, "pids", "pids", JP ("pids.limit"), &w))
    {
      need_file (g, &w, "pids.max", JP ("pids.limit"));
      where_done (&w);
    }
}

static void
check_block_io (struct cgx *g, const struct oci_block_io *b)
{
  static const struct {
    const char *key, *v1_file;
    size_t len_off;
  } throttles[] = {
    { "throttleReadBpsDevice", "blkio.throttle.read_bps_device",
      offsetof (struct oci_block_io, throttle_read_bps_device_len) },
    { "throttleWriteBpsDevice", "blkio.throttle.write_bps_device",
      offsetof (struct oci_block_io, throttle_write_bps_device_len) },
    { "throttleReadIOPSDevice", "blkio.throttle.read_iops_device",
      offsetof (struct oci_block_io, throttle_read_iops_device_len) },
    { "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device",
      offsetof (struct oci_block_io, throttle_write_iops_device_len) },
  };
  bool leaf = b->has_leaf_weight && b->leaf_weight;
  struct where w;
  char jpath[128];

  for (size_t i = 0; i < b->weight_device_len; i++)
    leaf |= b->weight_device[i].has_leaf_weight && b->weight_device[i].leaf_weight;
  if (!(b->has_weight || b->has_leaf_weight || b->weight_device_len
        || b->throttle_read_bps_device_len || b->throttle_write_bps_device_len
        || b->throttle_read_iops_device_len || b->throttle_write_iops_device_len))
    return;
  if (!locate (g, "blkio", "io", JP ("blockIO"), &w))
    return;
  /* runc's choices (resources_cpu.c): CFQ's blkio.weight, else BFQ's; on v2
     io.bfq.weight, else io.weight.  Unknown (no sample dir) passes. */
  if (b->has_weight && b->weight && w.dir[0]
      && !(w.v2 ? has_file (w.dir, "io.bfq.weight") || has_file (w.dir, "io.weight")
                : has_file (w.dir, "blkio.weight") || has_file (w.dir, "blkio.bfq.weight")))
    check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, JP ("blockIO.weight"),
               "the %s controller of this host has no %s (needs CFQ or BFQ)", w.ctrl,
               w.v2 ? "io.weight or io.bfq.weight" : "blkio.weight or blkio.bfq.weight");
  if (leaf && w.v2)
    check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, JP ("blockIO.leafWeight"),
               "cgroup v2 has no leaf weights");
  else if (b->has_leaf_weight && b->leaf_weight)
    need_file (g, &w, "blkio.leaf_weight", JP ("blockIO.leafWeight"));
  for (size_t i = 0; i < b->weight_device_len; i++)
    if (b->weight_device[i].has_weight && b->weight_device[i].weight)
      {
        CHECK_PATHF (jpath, JP ("blockIO.weightDevice[%zu]"), i);
        if (w.v2)
          need_file (g, &w, "io.bfq.weight", jpath);
        else if (w.dir[0] && !has_file (w.dir, "blkio.weight_device")
                 && !has_file (w.dir, "blkio.bfq.weight_device"))
          need_file (g, &w, "blkio.weight_device", jpath);
      }
  for (size_t k = 0; k < sizeof throttles / sizeof throttles[0]; k++)
    if (*(const size_t *) ((const char *) b + throttles[k].len_off))
      {
        CHECK_PATHF (jpath, JP ("blockIO.%s"), throttles[k].key);
        need_file (g, &w, w.v2 ? "io.max" : throttles[k].v1_file, jpath);
      }
  where_done (&w);
}

/* "2MB" -> 2048 (kB), 0 when it is not a huge page size. */
static unsigned long long
page_size_kb (const char *s)
{
  char *end;
  unsigned long long v = strtoull (s, &end, 10);
  const char *units = "KMGT", *u;

  if (end == s || *end == '\0' || (u = strchr (units, *end)) == NULL || strcmp (end + 1, "B"))
    return 0;
  for (; u > units; u--)
    v *= 1024;
  return v;
}

static void
check_small_controllers (struct cgx *g, const struct oci_resources *r)
{
  struct where w;
  char jpath[300], file[128];

  for (size_t i = 0; i < r->hugepage_limits_len; i++)
    {
      const char *size = r->hugepage_limits[i].page_size;
      unsigned long long kb = page_size_kb (size);
      CHECK_PATHF (jpath, JP ("hugepageLimits[%zu].pageSize"), i);
      if (kb == 0)
        {
          check_add (g->x, CHECK_ERROR, BERTH_E_VALUE, jpath,
                     "\"%s\" is not a huge page size like \"2MB\" or \"1GB\"", size);
          continue;
        }
      CHECK_PATHF (file, "/sys/kernel/mm/hugepages/hugepages-%llukB", kb);
      if (!is_dir (file))
        check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, jpath,
                   "this host has no %s huge pages (%s does not exist)", size, file);
      CHECK_PATHF (jpath, JP ("hugepageLimits[%zu]"), i);
      if (locate (g, "hugetlb", "hugetlb", jpath, &w))
        where_done (&w);
    }
  if (r->network && r->network->has_class_id
      && locate (g, "net_cls", NULL, JP ("network.classID"), &w))
    {
      need_file (g, &w, "net_cls.classid", JP ("network.classID"));
      where_done (&w);
    }
  if (r->network && r->network->priorities_len
      && locate (g, "net_prio", NULL, JP ("network.priorities"), &w))
    {
      need_file (g, &w, "net_prio.ifpriomap", JP ("network.priorities"));
      where_done (&w);
    }
  for (size_t i = 0; i < r->rdma_len; i++)
    {
      oci_path_key (jpath, sizeof jpath, JP ("rdma"), r->rdma_keys[i]);
      if (locate (g, "rdma", "rdma", jpath, &w))
        where_done (&w);
    }
  if (r->devices_len && g->cg.mode == BERTH_CGROUP_V1
      && locate (g, "devices", NULL, JP ("devices"), &w))
    where_done (&w);
}

static void
check_unified (struct cgx *g, const struct oci_resources *r)
{
  const char *udir = g->cg.mode == BERTH_CGROUP_V1 ? NULL : cgroup_dir (&g->cg, "");
  char jpath[300], near[PATH_MAX];

  for (size_t i = 0; i < r->unified_len; i++)
    {
      const char *key = r->unified_keys[i];
      oci_path_key (jpath, sizeof jpath, JP ("unified"), key);
      if (udir == NULL)
        {
          check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, jpath,
                     "invalid configuration: cannot use unified on cgroup v1");
          continue;
        }
      if (strchr (key, '/') || key[0] == '.' || !strchr (key, '.'))
        {
          check_add (g->x, CHECK_ERROR, BERTH_E_VALUE, jpath,
                     "must name a cgroup v2 file as CONTROLLER.PARAMETER");
          continue;
        }
      /* "memory.high" needs the memory controller; "cgroup.*" files are
         always there. */
      if (strncmp (key, "cgroup.", 7) != 0)
        {
          char ctrl[64];
          snprintf (ctrl, sizeof ctrl, "%.*s", (int) strcspn (key, "."), key);
          nearest_existing (udir, near, sizeof near);
          if (!cgroup_v2_has_controller (near, ctrl))
            check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, jpath,
                       "needs the %s controller, which %s does not offer", ctrl, near);
          else if (!is_fs_root (near) && !has_file (near, key))
            check_add (g->x, CHECK_ERROR, BERTH_E_UNSUPPORTED, jpath,
                       "cgroup v2 on this host has no file %s", key);
        }
    }
}

void
check_cgroups (struct check_ctx *x)
{
  const struct oci_linux *l = x->c->linux;
  const struct cgroup_driver *d = cgroup_driver_select (x->o->systemd_cgroup);
  const char *path = NULL;
  struct cgx g = { .x = x };
  struct berth_error e = { 0 };

  if (d->check_path (l ? l->cgroups_path : NULL, "berth-check", &path, &e) < 0)
    check_add_error (x, CHECK_ERROR, &e, ".linux.cgroupsPath");
  else if (d->available (&e) < 0)
    check_add_error (x, CHECK_ERROR, &e, NULL);

  /* The id only names the last directory, which is never looked at.  A bad
     cgroupsPath is one problem: the resources are still checked, where a
     container without one would go. */
  if (cgroup_resolve (path, "berth-check", &g.cg, &e) < 0)
    {
      check_add_error (x, CHECK_ERROR, &e, path ? ".linux.cgroupsPath" : NULL);
      if (path == NULL || cgroup_resolve (NULL, "berth-check", &g.cg, &e) < 0)
        return;
    }
  if (l && l->resources)
    {
      check_memory_cpu (&g, l->resources);
      if (l->resources->block_io)
        check_block_io (&g, l->resources->block_io);
      check_small_controllers (&g, l->resources);
      check_unified (&g, l->resources);
    }
  cgroup_free (&g.cg);
}
