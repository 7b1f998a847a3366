/* berth — the write-once records of a container (see container_priv.h):
 * its cgroup and, without a mount namespace, the host's mounts before the
 * init, for a 'delete --force' that finds no usable state.json. */
#include "lifecycle/container_priv.h"
#include "cgroup/driver.h"
#include "cleanup.h"
#include "fs/hostmounts.h"
#include "base/utils.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Without a mount namespace, the init mounts into the runtime's.  Before
   it runs, the ids of every mount already there are kept, and written down
   (with the rootfs) for a delete --force that finds no state.json after a
   crash; what is new below the rootfs afterwards is the container's. */
#define HOST_MOUNTS_RECORD "hostmounts"

int
records_save_host_mounts_base (int dir_fd, const char *rootfs,
                               struct hostmounts_snapshot *before, struct berth_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len = strlen (rootfs) + 2, off;

  if (hostmounts_snapshot (before, err) < 0)
    return -1;
  len += before->n * 21;
  if ((buf = malloc (len)) == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  off = (size_t) sprintf (buf, "%s\n", rootfs);
  for (size_t i = 0; i < before->n; i++)
    off += (size_t) sprintf (buf + off, "%" PRIu64 "\n", before->ids[i]);
  return write_file_atomic (dir_fd, HOST_MOUNTS_RECORD, buf, off, 0600, err);
}

void
records_unmount_new_host_mounts (const struct hostmounts_snapshot *before, const char *rootfs)
{
  struct berth_error ignored = { 0 };
  char **v = NULL;
  size_t n = 0;

  if (hostmounts_new_within (before, rootfs, &v, &n, &ignored) < 0)
    return;
  (void) hostmounts_unmount (v, n, &ignored);
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

/* delete --force with no usable state.json: the record instead. */
void
records_remove_host_mounts (const struct state_handle *h)
{
  struct berth_error ignored = { 0 };
  struct hostmounts_snapshot before = { NULL, 0 };
  cleanup_free char *buf = NULL;
  char *save = NULL, *rootfs;

  if (read_file_at (h->dir_fd, HOST_MOUNTS_RECORD, &buf, NULL, &ignored) < 0
      || (rootfs = strtok_r (buf, "\n", &save)) == NULL)
    return;
  for (char *l = strtok_r (NULL, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    {
      uint64_t *v = realloc (before.ids, (before.n + 1) * sizeof *v);
      if (v == NULL)
        break;
      before.ids = v;
      before.ids[before.n++] = strtoull (l, NULL, 10);
    }
  if (before.n)
    records_unmount_new_host_mounts (&before, rootfs);
  hostmounts_snapshot_free (&before);
}


/* A second record of the cgroup directories, written once at create and
   never rewritten, so that 'delete --force' can still find them when
   state.json is corrupt. */
#define CGROUP_RECORD "cgroups"

int
records_save_cgroup (const struct state_handle *h, const struct berth_cgroup *cg,
                struct berth_error *err)
{
  char **v = NULL;
  size_t n = 0, len = 0;
  cleanup_free char *buf = NULL;
  int r = -1;

  if (cgroup_to_strv (cg, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    len += strlen (v[i]) + 1;
  buf = malloc (len + 1);
  if (buf == NULL)
    berth_err_sys (err, ENOMEM, "out of memory");
  else
    {
      size_t off = 0;
      for (size_t i = 0; i < n; i++)
        off += (size_t) sprintf (buf + off, "%s\n", v[i]);
      r = write_file_atomic (h->dir_fd, CGROUP_RECORD, buf, off, 0600, err);
    }
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
  return r;
}

void
records_remove_cgroup (const struct state_handle *h)
{
  struct berth_error ignored = { 0 };
  cleanup_free char *buf = NULL;
  char *lines[64];
  size_t n = 0;
  char *save = NULL;
  struct berth_cgroup cg = { 0 };
  const struct cgroup_driver *driver;

  if (read_file_at (h->dir_fd, CGROUP_RECORD, &buf, NULL, &ignored) < 0)
    return;
  for (char *l = strtok_r (buf, "\n", &save); l && n < 64; l = strtok_r (NULL, "\n", &save))
    lines[n++] = l;
  if (cgroup_from_strv (lines, n, &cg, &ignored) < 0)
    return;
  driver = cgroup_driver_of (&cg);
  (void) driver->kill_all (&cg, 2000, &ignored);
  (void) driver->destroy (&cg, false, &ignored);
  cgroup_free (&cg);
}
