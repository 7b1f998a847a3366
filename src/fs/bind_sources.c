/* berth — bind sources the runtime opens for the init, and ID-mapped mounts
 * (see rootfs.h, rootfs_open_bind_sources). */
#include "fs/rootfs.h"
#include "base/idmap.h"
#include "fs/rootfs_priv.h"
#include "fs/mountopts.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A user namespace holding the mount's own mappings: a child made in a new
   one only to carry it while its maps are written and it is opened (the
   mapping is the namespace's, the fd keeps it alive); then it is killed. */
static int
mapping_userns (const struct oci_mount *m, size_t i, int *out, struct berth_error *err)
{
  char path[64];
  int status, r = 0;
  pid_t pid = (pid_t) syscall (SYS_clone, (unsigned long) (CLONE_NEWUSER | SIGCHLD), NULL, NULL,
                               NULL, 0);

  if (pid < 0)
    {
      berth_err_sys (err, errno, "create a user namespace for the mount's mappings");
      return rootfs_at_path (err, ".mounts[%zu].uidMappings", i);
    }
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      for (;;)
        pause ();
    }
  if (id_map_write (pid, "uid_map", m->uid_mappings, m->uid_mappings_len, err) < 0)
    r = rootfs_at_path (err, ".mounts[%zu].uidMappings", i);
  else if (id_map_write (pid, "gid_map", m->gid_mappings, m->gid_mappings_len, err) < 0)
    r = rootfs_at_path (err, ".mounts[%zu].gidMappings", i);
  else
    {
      snprintf (path, sizeof path, "/proc/%d/ns/user", (int) pid);
      if ((*out = open (path, O_RDONLY | O_CLOEXEC)) < 0)
        {
          berth_err_sys (err, errno, "open %s", path);
          r = rootfs_at_path (err, ".mounts[%zu].uidMappings", i);
        }
    }
  kill (pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return r;
}

/* MOUNT_ATTR_IDMAP on the detached tree: the kernel takes it only on a
   mount not yet attached anywhere, from a caller privileged over both the
   tree and `userns`, here the host's root.  EINVAL: the filesystem has no
   ID-mapped mounts (sysfs, ...); EPERM: the caller lacks CAP_SYS_ADMIN in
   the user namespace owning the filesystem (a runtime in a user namespace
   of its own over the host's filesystems) or in `userns`. */
static int
set_idmap (const struct oci_mount *m, size_t i, int tree, int userns, bool recursive,
           struct berth_error *err)
{
  struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns };

  if (mount_setattr (tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) == 0)
    return 0;
  if (errno == EINVAL)
    berth_err_sys (err, errno,
                   "ID-map the bind mount of %s: its filesystem%s refuses ID-mapped mounts",
                   m->source, recursive ? " (or that of a mount below it: ridmap)" : "");
  else if (errno == EPERM)
    berth_err_sys (err, errno,
                   "ID-map the bind mount of %s: the kernel ID-maps a mount only for a caller "
                   "with CAP_SYS_ADMIN in the user namespace that owns its filesystem%s",
                   m->source, recursive ? " (and every mount below it: ridmap)" : "");
  else
    berth_err_sys (err, errno, "ID-map the bind mount of %s", m->source);
  return rootfs_at_path (err, ".mounts[%zu]", i);
}

static bool
own_mappings (const struct oci_mount *m)
{
  return m->uid_mappings_len || m->gid_mappings_len;
}

/* One source, opened (and ID-mapped when its mappings are its own). */
static int
open_source (const struct oci_mount *m, size_t i, const struct mount_opts *opts, int *out,
             struct berth_error *err)
{
  cleanup_close int tree = -1, userns = -1;

  if (mount_is_idmapped (m) && geteuid () != 0)
    {
      /* Not even from the container's user namespace: the source's
         filesystem is the host's (its superblock's user namespace is the
         initial one), and the kernel wants CAP_SYS_ADMIN there. */
      berth_err (err, BERTH_E_UNSUPPORTED,
                 "ID-map the bind mount of %s: not possible rootless: the kernel ID-maps a "
                 "mount only for a caller with CAP_SYS_ADMIN in the user namespace that owns "
                 "its filesystem, the host's for a host path",
                 m->source);
      return rootfs_at_path (err, ".mounts[%zu]", i);
    }
  tree = open_tree (AT_FDCWD, m->source,
                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((opts->flags & MS_REC) ? AT_RECURSIVE : 0));
  if (tree < 0)
    {
      berth_err_sys (err, errno, "bind-mount source %s", m->source);
      return rootfs_at_path (err, ".mounts[%zu].source", i);
    }
  if (own_mappings (m)
      && (mapping_userns (m, i, &userns, err) < 0
          || set_idmap (m, i, tree, userns, opts->ridmap, err) < 0))
    return -1;
  *out = steal_fd (&tree);
  return 0;
}

int
rootfs_open_bind_sources (const struct oci_config *c, bool all, int **fds, struct berth_error *err)
{
  cleanup_free int *v = NULL;
  bool any = false;

  *fds = NULL;
  for (size_t i = 0; i < c->mounts_len; i++)
    any |= mount_is_bind (&c->mounts[i]) && (all || mount_is_idmapped (&c->mounts[i]));
  if (!any)
    return 0;
  if ((v = malloc (c->mounts_len * sizeof *v)) == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  for (size_t i = 0; i < c->mounts_len; i++)
    v[i] = -1;
  for (size_t i = 0; i < c->mounts_len; i++)
    {
      const struct oci_mount *m = &c->mounts[i];
      cleanup_mount_opts struct mount_opts opts = { 0 };
      if (!mount_is_bind (m) || m->source == NULL || m->source[0] == '\0'
          || !(all || mount_is_idmapped (m)))
        continue;
      if (mount_opts_parse (m->options, m->options_len, "", &opts, &(struct berth_error){ 0 }) < 0)
        continue; /* the init reports it, with its path */
      if (open_source (m, i, &opts, &v[i], err) < 0)
        {
          rootfs_close_bind_sources (steal_pointer (&v), c->mounts_len);
          return -1;
        }
    }
  *fds = steal_pointer (&v);
  return 0;
}

int
rootfs_idmap_bind_sources (const struct oci_config *c, const int *fds, int userns,
                           struct berth_error *err)
{
  for (size_t i = 0; fds && i < c->mounts_len; i++)
    {
      const struct oci_mount *m = &c->mounts[i];
      cleanup_mount_opts struct mount_opts opts = { 0 };

      if (fds[i] < 0 || !mount_is_idmapped (m) || own_mappings (m))
        continue;
      if (mount_opts_parse (m->options, m->options_len, "", &opts, err) < 0
          || set_idmap (m, i, fds[i], userns, opts.ridmap, err) < 0)
        return -1;
    }
  return 0;
}

void
rootfs_close_bind_sources (int *fds, size_t n)
{
  for (size_t i = 0; fds && i < n; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  free (fds);
}
