/* linux.resources -> cgroup files: the shared helpers, the dispatcher, and
   the small controllers (pids, hugetlb, network, rdma, unified, devices).
   Memory, cpu/cpuset and block I/O have files of their own. */
#include "cgroup/resources.h"
#include "cgroup/bpf_devices.h"
#include "cleanup.h"
#include "base/log.h"
#include "cgroup/resources_priv.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------- */

bool
res_has_file (const char *dir, const char *file)
{
  char path[4096];

  snprintf (path, sizeof path, "%s/%s", dir, file);
  return access (path, F_OK) == 0;
}

/* Whether the v2 directory `dir` has `ctrl` among its cgroup.controllers. */
static bool
v2_has_controller (const char *dir, const char *ctrl)
{
  cleanup_free char *text = NULL;
  char path[4096];
  size_t l = strlen (ctrl);

  snprintf (path, sizeof path, "%s/cgroup.controllers", dir);
  if (read_file_at (AT_FDCWD, path, &text, NULL, &(struct berth_error){ 0 }) < 0)
    return false;
  for (char *p = text; (p = strstr (p, ctrl)) != NULL; p += l)
    if ((p == text || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\n' || p[l] == '\0'))
      return true;
  return false;
}

int
res_locate (struct res_ctx *c, const char *v1, const char *v2, const char *jpath,
            struct res_ctl *out)
{
  const char *udir = c->cg->mode == BERTH_CGROUP_V1 ? NULL : cgroup_dir (c->cg, "");

  out->dir = c->cg->mode == BERTH_CGROUP_V2 || v1 == NULL ? NULL : cgroup_dir (c->cg, v1);
  out->v2 = false;
  if (out->dir)
    return 0;
  if (v2 && udir && v2_has_controller (udir, v2))
    {
      out->dir = udir;
      out->v2 = true;
      return 0;
    }
  if (c->cg->mode == BERTH_CGROUP_V2 && v2)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                         "the %s controller is not enabled for %s (see its cgroup.controllers)",
                         v2, udir ? udir : "the container's cgroup");
  if (c->cg->mode == BERTH_CGROUP_V2)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                         "the %s controller is not mounted on this host (it exists only in "
                         "cgroup v1)", v1);
  return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                       "the %s controller is not mounted on this host", v1 ? v1 : v2);
}

int
res_write (struct res_ctx *c, const char *jpath, const char *dir, const char *file,
           const char *fmt, ...)
{
  char path[4096], val[4096];
  cleanup_close int fd = -1;
  va_list ap;
  ssize_t w;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (val, sizeof val, fmt, ap);
  va_end (ap);
  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (n < 0 || (size_t) n >= sizeof val)
    return berth_err_at (c->err, BERTH_E_LIMIT, jpath, "value for %s too long", path);
  berth_debug ("cgroup: write \"%s\" to %s", val, path);
  if ((fd = open (path, O_WRONLY | O_CLOEXEC)) < 0 && errno == ENOENT)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath, "%s does not exist on this host",
                         path);
  /* Control files take one write each; a short write is a refusal. */
  w = fd < 0 ? -1 : write (fd, val, (size_t) n);
  if (w != n)
    {
      berth_err_sys (c->err, w < 0 ? errno : EIO, "write \"%s\" to %s", val, path);
      snprintf (c->err->path, sizeof c->err->path, "%s", jpath);
      return -1;
    }
  return 0;
}

int
res_read_u64 (const char *dir, const char *file, uint64_t *v, struct berth_error *err)
{
  cleanup_free char *text = NULL;
  char path[4096], *end;

  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (read_file_at (AT_FDCWD, path, &text, NULL, err) < 0)
    return -1;
  if (strncmp (text, "max", 3) == 0)
    return *v = UINT64_MAX, 0;
  errno = 0;
  *v = strtoull (text, &end, 10);
  if (errno || end == text)
    return berth_err (err, BERTH_E_VALUE, "%s: not a number: \"%.32s\"", path, text);
  return 0;
}

/* ---- pids, hugetlb, network, rdma, unified ---------------------------------- */

static int
apply_pids (struct res_ctx *c, const struct oci_pids *p)
{
  struct res_ctl ctl;

  if (!p->has_limit)
    return 0;
  if (res_locate (c, "pids", "pids", JP ("pids.limit"), &ctl) < 0)
    return -1;
  /* runc: 0 and -1 both mean "no limit". */
  if (p->limit <= 0)
    return res_write (c, JP ("pids.limit"), ctl.dir, "pids.max", "max");
  return res_write (c, JP ("pids.limit"), ctl.dir, "pids.max", "%" PRId64, p->limit);
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

/* ---- devices ------------------------------------------------------------------ */

/* runc's AllowedDevices: the nodes berth makes in /dev ... */
static const struct dev_rule default_rules[] = {
  { 'c', 1, 3, DEV_ACC_ALL, true },    { 'c', 1, 5, DEV_ACC_ALL, true },
  { 'c', 1, 7, DEV_ACC_ALL, true },    { 'c', 1, 8, DEV_ACC_ALL, true },
  { 'c', 1, 9, DEV_ACC_ALL, true },    { 'c', 5, 0, DEV_ACC_ALL, true },
  { 'c', 5, 1, DEV_ACC_ALL, true },    { 'c', 5, 2, DEV_ACC_ALL, true },
  { 'c', 136, -1, DEV_ACC_ALL, true }, { 'c', 10, 200, DEV_ACC_ALL, true },
};
/* ... and mknod of any node, which runc lets no rule take away (berth's own
   setup of /dev needs it once the filter is in place). */
static const struct dev_rule mknod_rules[] = {
  { 'c', -1, -1, DEV_ACC_MKNOD, true },
  { 'b', -1, -1, DEV_ACC_MKNOD, true },
};
#define N_DEFAULT (sizeof default_rules / sizeof default_rules[0])
#define N_MKNOD (sizeof mknod_rules / sizeof mknod_rules[0])

bool
dev_rule_is_reset (const struct dev_rule *r)
{
  return r->type == 'a' && r->major < 0 && r->minor < 0 && r->access == DEV_ACC_ALL;
}

static int
parse_rule (struct res_ctx *c, const struct oci_device_cgroup *d, size_t i, struct dev_rule *out)
{
  const char *t = d->type && *d->type ? d->type : "a";
  const char *a = d->access && *d->access ? d->access : "rwm";
  char jpath[96];

  out->allow = d->allow;
  out->major = d->has_major && d->major >= 0 ? d->major : -1;
  out->minor = d->has_minor && d->minor >= 0 ? d->minor : -1;
  out->type = t[0];
  out->access = 0;
  if (t[1] != '\0' || !strchr ("abc", t[0]))
    {
      snprintf (jpath, sizeof jpath, JP ("devices[%zu].type"), i);
      return berth_err_at (c->err, BERTH_E_VALUE, jpath, "\"%s\" is not one of a, b, c", t);
    }
  for (; *a; a++)
    {
      const char *p = strchr ("mrw", *a);
      if (p == NULL)
        {
          snprintf (jpath, sizeof jpath, JP ("devices[%zu].access"), i);
          return berth_err_at (c->err, BERTH_E_VALUE, jpath,
                               "\"%s\" has a letter other than r, w, m", d->access);
        }
      out->access |= 1u << (p - "mrw");
    }
  return 0;
}

/* The effective list: rules before the last reset ("a *:* rwm") no longer
   matter; runc's defaults come right after it (or first), so that the
   container's /dev stays usable after a "deny all" and a later rule can
   still take one of them away; mknod of any node comes last, as in runc. */
static int
build_rules (struct res_ctx *c, const struct oci_resources *r, struct dev_rule **out, size_t *n)
{
  cleanup_free struct dev_rule *user = calloc (r->devices_len + 1, sizeof *user);
  cleanup_free struct dev_rule *v = calloc (r->devices_len + N_DEFAULT + N_MKNOD, sizeof *v);
  size_t from = 0, k = 0;

  if (v == NULL || user == NULL)
    return berth_err_sys (c->err, ENOMEM, "out of memory");
  for (size_t i = 0; i < r->devices_len; i++)
    {
      if (parse_rule (c, &r->devices[i], i, &user[i]) < 0)
        return -1;
      if (dev_rule_is_reset (&user[i]))
        from = i + 1;
    }
  if (from)
    v[k++] = user[from - 1];
  memcpy (&v[k], default_rules, sizeof default_rules);
  k += N_DEFAULT;
  for (; from < r->devices_len; from++)
    v[k++] = user[from];
  memcpy (&v[k], mknod_rules, sizeof mknod_rules);
  *n = k + N_MKNOD;
  *out = steal_pointer (&v);
  return 0;
}

static int
write_v1_rule (struct res_ctx *c, const char *dir, const struct dev_rule *d)
{
  const char *file = d->allow ? "devices.allow" : "devices.deny";
  char maj[24] = "*", min[24] = "*", acc[4] = "";
  size_t k = 0;

  if (dev_rule_is_reset (d))
    return res_write (c, JP ("devices"), dir, file, "a");
  if (d->major >= 0)
    snprintf (maj, sizeof maj, "%" PRId64, d->major);
  if (d->minor >= 0)
    snprintf (min, sizeof min, "%" PRId64, d->minor);
  for (unsigned b = 0; b < 3; b++)
    if (d->access & (1u << b))
      acc[k++] = "mrw"[b];
  /* v1 reads a bare "a" as all devices: a narrower "a" rule is both kinds. */
  if (d->type == 'a')
    return res_write (c, JP ("devices"), dir, file, "c %s:%s %s", maj, min, acc) < 0
               ? -1
               : res_write (c, JP ("devices"), dir, file, "b %s:%s %s", maj, min, acc);
  return res_write (c, JP ("devices"), dir, file, "%c %s:%s %s", d->type, maj, min, acc);
}

static int
apply_devices (struct res_ctx *c, const struct oci_resources *r)
{
  cleanup_free struct dev_rule *rules = NULL;
  const char *dir = c->cg->mode == BERTH_CGROUP_V2 ? NULL : cgroup_dir (c->cg, "devices");
  size_t n = 0;

  if (build_rules (c, r, &rules, &n) < 0)
    return -1;
  if (dir)
    {
      /* v1's devices.list keeps each rule where it was first written.  The
         user's rules (after the reset) go in once before the defaults, so
         that the list shows them first and in their order, as the config
         lists them, and again after, where they take effect: the kernel
         applies each write to the exact device it names, so the result is
         that of defaults-then-user alone. */
      size_t reset = n > 0 && dev_rule_is_reset (&rules[0]), user = reset + N_DEFAULT;
      for (size_t i = 0; i < reset; i++)
        if (write_v1_rule (c, dir, &rules[i]) < 0)
          return -1;
      for (size_t i = user; i + N_MKNOD < n; i++)
        if (write_v1_rule (c, dir, &rules[i]) < 0)
          return -1;
      for (size_t i = reset; i < n; i++)
        if (write_v1_rule (c, dir, &rules[i]) < 0)
          return -1;
      return 0;
    }
  /* No v1 devices hierarchy: the eBPF filter on the v2 directory (on a
     hybrid host the kernel consults it as well). */
  if ((dir = c->cg->mode == BERTH_CGROUP_V1 ? NULL : cgroup_dir (c->cg, "")) == NULL)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, JP ("devices"),
                         "the devices controller is not mounted on this host");
  if (bpf_devices_apply (dir, rules, n, c->err) < 0)
    {
      snprintf (c->err->path, sizeof c->err->path, "%s", JP ("devices"));
      return -1;
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
  ret = (r->cpu ? res_cpuset (&c, r->cpu) : 0) < 0 || (r->has_devices && apply_devices (&c, r) < 0)
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
