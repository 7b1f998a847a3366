/* linux.resources -> cgroup files: the dispatcher, which applies the
   controllers in runc's order, and the small controllers (pids, hugetlb,
   network, rdma, unified).  Memory, cpu and cpuset, block I/O and devices
   have files of their own (resources_memory.c, resources_cpu.c,
   resources_io.c, resources_devices.c); the helpers they share are in
   resources_files.c. */
#include "cgroup/resources.h"
#include "cgroup/convert.h"
#include "cgroup/resources_priv.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- pids, hugetlb, network, rdma, unified ---------------------------------- */

static int
apply_pids (struct res_ctx *c, const struct oci_pids *p)
{
  struct res_ctl ctl;
  char buf[CGCONV_BUF];

  if (!p->has_limit)
    return 0;
  if (res_locate (c, "pids", "pids", JP ("pids.limit"), &ctl) < 0)
    return -1;
  return res_write (c, JP ("pids.limit"), ctl.dir, "pids.max", "%s",
                    cgconv_pids_max (p->limit, buf, sizeof buf));
}

/* "2MB", "1GB", "64KB": the kernel's names for huge page sizes. */
static bool
valid_page_size (const char *s)
{
  size_t digits = strspn (s, "0123456789");
  return digits > 0 && strchr ("KMGT", s[digits]) && s[digits] && strcmp (s + digits + 1, "B") == 0;
}

static int
apply_hugetlb (struct res_ctx *c, const struct oci_resources *r)
{
  struct res_ctl ctl;
  char jpath[96], file[96], rsvd[96];

  for (size_t i = 0; i < r->hugepage_limits_len; i++)
    {
      const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
      snprintf (jpath, sizeof jpath, JP ("hugepageLimits[%zu]"), i);
      if (res_locate (c, "hugetlb", "hugetlb", jpath, &ctl) < 0)
        return -1;
      if (!valid_page_size (h->page_size))
        return berth_err_at (c->err, BERTH_E_VALUE, jpath,
                             "pageSize \"%s\" is not a huge page size like \"2MB\" or \"1GB\"",
                             h->page_size);
      snprintf (file, sizeof file, "hugetlb.%s.%s", h->page_size,
                ctl.v2 ? "max" : "limit_in_bytes");
      if (!res_has_file (ctl.dir, file))
        return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                             "this host has no %s huge pages (%s/%s does not exist)",
                             h->page_size, ctl.dir, file);
      if (res_write (c, jpath, ctl.dir, file, "%" PRIu64, h->limit) < 0)
        return -1;
      /* Reservations are charged separately where the kernel has them (as runc). */
      snprintf (rsvd, sizeof rsvd, "hugetlb.%s.rsvd.%s", h->page_size,
                ctl.v2 ? "max" : "limit_in_bytes");
      if (res_has_file (ctl.dir, rsvd)
          && res_write (c, jpath, ctl.dir, rsvd, "%" PRIu64, h->limit) < 0)
        return -1;
    }
  return 0;
}

static int
apply_network (struct res_ctx *c, const struct oci_network *n)
{
  struct res_ctl ctl;
  char jpath[96];

  if (n->has_class_id
      && (res_locate (c, "net_cls", NULL, JP ("network.classID"), &ctl) < 0
          || res_write (c, JP ("network.classID"), ctl.dir, "net_cls.classid", "%" PRIu32,
                        n->class_id) < 0))
    return -1;
  for (size_t i = 0; i < n->priorities_len; i++)
    {
      snprintf (jpath, sizeof jpath, JP ("network.priorities[%zu]"), i);
      if (res_locate (c, "net_prio", NULL, jpath, &ctl) < 0
          || res_write (c, jpath, ctl.dir, "net_prio.ifpriomap", "%s %" PRIu32,
                        n->priorities[i].name, n->priorities[i].priority) < 0)
        return -1;
    }
  return 0;
}

static int
apply_rdma (struct res_ctx *c, const struct oci_resources *r)
{
  struct res_ctl ctl;
  char jpath[300], handles[32] = "", objects[32] = "";

  for (size_t i = 0; i < r->rdma_len; i++)
    {
      const struct oci_rdma *d = &r->rdma[i];
      oci_path_key (jpath, sizeof jpath, JP ("rdma"), r->rdma_keys[i]);
      if (res_locate (c, "rdma", "rdma", jpath, &ctl) < 0)
        return -1;
      if (d->has_hca_handles)
        snprintf (handles, sizeof handles, " hca_handle=%" PRIu32, d->hca_handles);
      if (d->has_hca_objects)
        snprintf (objects, sizeof objects, " hca_object=%" PRIu32, d->hca_objects);
      if ((d->has_hca_handles || d->has_hca_objects)
          && res_write (c, jpath, ctl.dir, "rdma.max", "%s%s%s", r->rdma_keys[i], handles,
                        objects) < 0)
        return -1;
    }
  return 0;
}

/* runc's rules: a key names a file of the v2 directory, without slashes;
   a multi-line value is written line by line. */
static bool
file_in (const char *dir, const char *name)
{
  char path[PATH_MAX];
  return (size_t) snprintf (path, sizeof path, "%s/%s", dir, name) < sizeof path
         && access (path, F_OK) == 0;
}

static int
apply_unified (struct res_ctx *c, const struct oci_resources *r)
{
  const char *dir = c->cg->mode == BERTH_CGROUP_V1 ? NULL : cgroup_dir (c->cg, "");
  char jpath[300];

  for (size_t i = 0; i < r->unified_len; i++)
    {
      const char *key = r->unified_keys[i], *v = r->unified[i];
      oci_path_key (jpath, sizeof jpath, JP ("unified"), key);
      if (dir == NULL)
        return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                             "invalid configuration: cannot use unified on cgroup v1");
      if (strchr (key, '/') || key[0] == '.' || !strchr (key, '.'))
        return berth_err_at (c->err, BERTH_E_VALUE, jpath,
                             "must name a cgroup v2 file as CONTROLLER.PARAMETER");
      /* A hybrid host is cgroup v1 to runc; its cgroup2 hierarchy holds
         only the controllers no v1 hierarchy took. */
      if (c->cg->mode == BERTH_CGROUP_HYBRID && !file_in (dir, key))
        return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                             "invalid configuration: cannot use unified on cgroup v1: this "
                             "hybrid host's cgroup2 hierarchy has no %s",
                             key);
      do
        {
          size_t l = strcspn (v, "\n");
          if (l && res_write (c, jpath, dir, key, "%.*s", (int) l, v) < 0)
            return -1;
          v += l + (v[l] == '\n');
        }
      while (*v);
    }
  return 0;
}

/* ---- entry point ---------------------------------------------------------------- */

int
cgroup_apply_resources (const struct berth_cgroup *cg, const struct oci_resources *r,
                        bool update, struct berth_error *err)
{
  struct res_ctx c = { cg, update, err };
  int ret;

  if (r == NULL)
    return 0;
  /* runc's v1 order: cpuset before the rest, devices early, unified last so
     that it overrides. */
  ret = (r->cpu ? res_cpuset (&c, r->cpu) : 0) < 0 || (r->has_devices && res_devices (&c, r) < 0)
                || (r->memory && res_memory (&c, r->memory) < 0)
                || (r->cpu && res_cpu (&c, r->cpu) < 0) || (r->pids && apply_pids (&c, r->pids) < 0)
                || (r->block_io && res_block_io (&c, r->block_io) < 0)
                || apply_hugetlb (&c, r) < 0 || (r->network && apply_network (&c, r->network) < 0)
                || apply_rdma (&c, r) < 0 || apply_unified (&c, r) < 0
            ? -1
            : 0;
  if (ret < 0 && !update)
    berth_err_set_source (err, "config.json");
  return ret;
}
