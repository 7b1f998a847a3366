/* linux.resources.devices: the rule list berth applies (the user's rules
   after their last reset, runc's default allow-list, and mknod of any node
   last), written to v1's devices.allow / devices.deny in order, or compiled
   into the v2 eBPF filter (bpf_devices.c) that replaces the previous one. */
#include "cgroup/bpf_devices.h"
#include "cleanup.h"
#include "cgroup/resources_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* v1's two files, opened once for the whole list. */
struct v1_files {
  struct res_file allow, deny;
};

static int
write_v1_rule (struct res_ctx *c, const struct v1_files *f, const struct dev_rule *d)
{
  const struct res_file *file = d->allow ? &f->allow : &f->deny;
  char maj[24] = "*", min[24] = "*", acc[4] = "";
  size_t k = 0;

  if (dev_rule_is_reset (d))
    return res_write_to (c, JP ("devices"), file, "a");
  if (d->major >= 0)
    snprintf (maj, sizeof maj, "%" PRId64, d->major);
  if (d->minor >= 0)
    snprintf (min, sizeof min, "%" PRId64, d->minor);
  for (unsigned b = 0; b < 3; b++)
    if (d->access & (1u << b))
      acc[k++] = "mrw"[b];
  /* v1 reads a bare "a" as all devices: a narrower "a" rule is both kinds. */
  if (d->type == 'a')
    return res_write_to (c, JP ("devices"), file, "c %s:%s %s", maj, min, acc) < 0
               ? -1
               : res_write_to (c, JP ("devices"), file, "b %s:%s %s", maj, min, acc);
  return res_write_to (c, JP ("devices"), file, "%c %s:%s %s", d->type, maj, min, acc);
}

static void
v1_files_close (struct v1_files *f)
{
  res_file_close (&f->allow);
  res_file_close (&f->deny);
}

int
res_devices (struct res_ctx *c, const struct oci_resources *r)
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
      __attribute__ ((cleanup (v1_files_close))) struct v1_files f = { { .fd = -1 }, { .fd = -1 } };
      if (res_open (c, JP ("devices"), dir, "devices.allow", &f.allow) < 0
          || res_open (c, JP ("devices"), dir, "devices.deny", &f.deny) < 0)
        return -1;
      for (size_t i = 0; i < reset; i++)
        if (write_v1_rule (c, &f, &rules[i]) < 0)
          return -1;
      for (size_t i = user; i + N_MKNOD < n; i++)
        if (write_v1_rule (c, &f, &rules[i]) < 0)
          return -1;
      for (size_t i = reset; i < n; i++)
        if (write_v1_rule (c, &f, &rules[i]) < 0)
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
