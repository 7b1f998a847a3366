/* Interim: device rules on v1 only; the rest of linux.resources is refused
   until the cgroups work lands. */
#include "resources.h"
#include "utils.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const default_allow[] = {
  "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
  "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
};

static int
write_rule (const char *dir, bool allow, const char *rule, struct berth_error *err)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, allow ? "devices.allow" : "devices.deny");
  return write_file_at (AT_FDCWD, path, rule, strlen (rule), err);
}

static int
apply_devices (const struct berth_cgroup *cg, const struct oci_resources *r,
               struct berth_error *err)
{
  const char *dir = cgroup_dir (cg, "devices");
  if (dir == NULL)
    return berth_err_at (err, BERTH_E_UNSUPPORTED, ".linux.resources.devices",
                         "device rules need the v1 devices controller on this host");
  for (size_t i = 0; i < r->devices_len; i++)
    {
      const struct oci_device_cgroup *d = &r->devices[i];
      char rule[96], maj[24] = "*", min[24] = "*";
      if (d->has_major && d->major >= 0)
        snprintf (maj, sizeof maj, "%" PRId64, d->major);
      if (d->has_minor && d->minor >= 0)
        snprintf (min, sizeof min, "%" PRId64, d->minor);
      snprintf (rule, sizeof rule, "%s %s:%s %s", d->type ? d->type : "a", maj, min,
                d->access && d->access[0] ? d->access : "rwm");
      if (strcmp (d->type ? d->type : "a", "a") == 0)
        snprintf (rule, sizeof rule, "a");
      if (write_rule (dir, d->allow, rule, err) < 0)
        {
          snprintf (err->path, sizeof err->path, ".linux.resources.devices[%zu]", i);
          return -1;
        }
    }
  for (size_t i = 0; i < sizeof default_allow / sizeof default_allow[0]; i++)
    if (write_rule (dir, true, default_allow[i], err) < 0)
      return -1;
  return 0;
}

int
cgroup_apply_resources (const struct berth_cgroup *cg, const struct oci_resources *r,
                        bool update, struct berth_error *err)
{
  if (r == NULL)
    return 0;
  if (r->memory || r->cpu || r->pids || r->block_io || r->hugepage_limits_len || r->network
      || r->rdma_len || r->unified_len)
    return berth_err_at (err, BERTH_E_UNSUPPORTED, ".linux.resources",
                         "resource limits other than device rules are not supported yet");
  if (r->has_devices && apply_devices (cg, r, err) < 0)
    return -1;
  return 0;
}
