/* berth — the container's root after its mounts: rootfs_pivot() enters it
 * (pivot_root, or move + chroot), having first hidden the host's pseudo
 * filesystems mounted below it; rootfs_finalize() then, inside the new root,
 * masks maskedPaths, makes readonlyPaths and root.readonly read-only and sets
 * the root's propagation (contract: rootfs.h).
 */
#include "fs/rootfs.h"
#include "fs/rootfs_priv.h"
#include "cleanup.h"
#include "base/safepath.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
   rootfs_pivot
   ------------------------------------------------------------------------ */

static bool
path_within (const char *p, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

static void
free_strv_n (char **v, size_t n)
{
  for (size_t k = 0; k < n; k++)
    free (v[k]);
  free (v);
}

/* The mount points of every full (root "/") procfs and sysfs mount that is
   not inside `rootfs`, read in one go: the table is about to change. */
static int
host_pseudofs_mounts (const char *rootfs, char ***out, size_t *n_out, struct berth_error *err)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  char **v = NULL;
  size_t cap = 0, n = 0;

  if (f == NULL)
    return berth_err_sys (err, errno, "open /proc/self/mountinfo");
  while (getline (&line, &cap, f) > 0)
    {
      char *save = NULL, *root = NULL, *mp = NULL, *fstype = NULL, **nv;
      bool after_sep = false;
      int k = 0;

      for (char *tok = strtok_r (line, " \n", &save); tok; tok = strtok_r (NULL, " \n", &save), k++)
        if (k == 3)
          root = tok;
        else if (k == 4)
          mp = tok;
        else if (k > 5 && !after_sep && strcmp (tok, "-") == 0)
          after_sep = true;
        else if (after_sep && fstype == NULL)
          fstype = tok;
      if (root == NULL || mp == NULL || fstype == NULL || strcmp (root, "/") != 0
          || (strcmp (fstype, "proc") != 0 && strcmp (fstype, "sysfs") != 0))
        continue;
      mountinfo_unescape (mp);
      if (path_within (mp, rootfs))
        continue;
      nv = realloc (v, (n + 1) * sizeof *v);
      if (nv == NULL || (nv[n] = strdup (mp)) == NULL)
        {
          free_strv_n (nv ? nv : v, n);
          return berth_err_sys (err, ENOMEM, "read /proc/self/mountinfo");
        }
      v = nv;
      n++;
    }
  *out = v;
  *n_out = n;
  return 0;
}

/* runc's msMoveRoot: under chroot the host's mounts stay in the namespace,
   and a full procfs or sysfs mount anywhere in it is what allows the
   container to mount another one.  Detach every full proc/sysfs mount
   outside the rootfs (or, where that is not allowed, cover it with a
   tmpfs). */
static int
hide_host_pseudofs (const char *rootfs, struct berth_error *err)
{
  char **mps = NULL;
  size_t n = 0;
  int r = 0;

  if (host_pseudofs_mounts (rootfs, &mps, &n, err) < 0)
    return -1;
  for (size_t k = 0; k < n && r == 0; k++)
    {
      const char *mp = mps[k];
      if (mount (NULL, mp, NULL, MS_SLAVE | MS_REC, NULL) < 0)
        {
          if (errno == ENOENT) /* gone with a parent detached before */
            continue;
          r = berth_err_sys (err, errno, "make %s a slave mount", mp);
        }
      else if (umount2 (mp, MNT_DETACH) < 0)
        {
          if (errno != EINVAL && errno != EPERM)
            r = berth_err_sys (err, errno, "detach %s", mp);
          else if (mount ("tmpfs", mp, "tmpfs", 0, NULL) < 0)
            r = berth_err_sys (err, errno, "cover %s with a tmpfs", mp);
        }
    }
  free_strv_n (mps, n);
  return r;
}

static int
move_root (const struct rootfs_options *o, struct berth_error *err)
{
  cleanup_free char *real = realpath (o->rootfs, NULL);

  if (real == NULL)
    return berth_err_sys (err, errno, "rootfs %s", o->rootfs);
  if (chdir (real) < 0)
    return berth_err_sys (err, errno, "chdir %s", real);
  if (hide_host_pseudofs (real, err) < 0)
    return -1;
  if (mount (real, "/", NULL, MS_MOVE, NULL) < 0)
    return berth_err_sys (err, errno, "move the rootfs %s onto /", real);
  if (chroot (".") < 0)
    return berth_err_sys (err, errno, "chroot into %s", real);
  if (chdir ("/") < 0)
    return berth_err_sys (err, errno, "chdir / in the rootfs");
  return 0;
}

int
rootfs_pivot (const struct rootfs_options *o, struct berth_error *err)
{
  cleanup_close int oldroot = -1, newroot = -1;

  if (o->host_mount_ns)
    {
      /* pivot_root or a move onto / would change the host's root. */
      if (chroot (o->rootfs) < 0)
        return berth_err_sys (err, errno, "chroot into %s", o->rootfs);
      if (chdir ("/") < 0)
        return berth_err_sys (err, errno, "chdir / in the rootfs");
      return 0;
    }
  if (o->no_pivot)
    return move_root (o, err);
  oldroot = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0)
    return berth_err_sys (err, errno, "open /");
  newroot = open (o->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0)
    return berth_err_sys (err, errno, "open the rootfs %s", o->rootfs);
  /* pivot_root(".", ".") stacks the old root on top of the new one, so no
     directory for it is needed inside the rootfs; it is then detached. */
  if (fchdir (newroot) < 0)
    return berth_err_sys (err, errno, "chdir into the rootfs %s", o->rootfs);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return berth_err_sys (err, errno, "pivot_root into %s", o->rootfs);
  /* The kernel does not promise what "." is after pivot_root. */
  if (fchdir (oldroot) < 0)
    return berth_err_sys (err, errno, "chdir to the old root");
  /* rslave rather than rprivate, as runc: the unmount must not reach the
     host, while the host's later unmounts still reach us. */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return berth_err_sys (err, errno, "make the old root a slave mount");
  if (umount2 (".", MNT_DETACH) < 0)
    return berth_err_sys (err, errno, "detach the old root");
  if (chdir ("/") < 0)
    return berth_err_sys (err, errno, "chdir / in the rootfs");
  return 0;
}

/* ------------------------------------------------------------------------
   rootfs_finalize (running inside the new root)
   ------------------------------------------------------------------------ */

/* The container's /dev/null, refused unless it really is the null device:
   whatever it is gets bind-mounted over the masked paths, and a /dev/null
   replaced by, say, a link to a writable procfs file would unmask instead
   of mask. */
static int
open_verified_null (int root, struct berth_error *err)
{
  struct stat st;
  cleanup_close int fd = safepath_open (root, "/dev/null", O_PATH | O_NOFOLLOW, 0, err);

  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return berth_err_sys (err, errno, "stat /dev/null");
  if (!S_ISCHR (st.st_mode) || st.st_rdev != makedev (1, 3))
    return berth_err (err, BERTH_E_VALUE,
                      "/dev/null in the container is not the null device (char 1:3); "
                      "refusing to mask paths with it");
  return steal_fd (&fd);
}

/* Open `path` inside the root; 0 with *fd = -1 when it does not exist. */
static int
open_if_exists (int root, const char *path, int *fd, struct berth_error *err)
{
  struct berth_error e = { 0 };

  *fd = safepath_open (root, path, O_PATH, 0, &e);
  if (*fd >= 0)
    return 0;
  if (e.errnum == ENOENT || e.errnum == ENOTDIR)
    return 0;
  *err = e;
  return -1;
}

static int
mask_path (int root, const char *path, int *null_fd, size_t i, struct berth_error *err)
{
  char target[SAFEPATH_FD_PATH_LEN], source[SAFEPATH_FD_PATH_LEN];
  cleanup_close int fd = -1;
  struct stat st;

  if (open_if_exists (root, path, &fd, err) < 0)
    return rootfs_at_path (err, ".linux.maskedPaths[%zu]", i);
  if (fd < 0)
    return 0;
  if (fstat (fd, &st) < 0)
    {
      berth_err_sys (err, errno, "stat %s", path);
      return rootfs_at_path (err, ".linux.maskedPaths[%zu]", i);
    }
  safepath_fd_path (fd, target);
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", target, "tmpfs", MS_RDONLY, NULL) < 0)
        {
          berth_err_sys (err, errno, "mask %s with a read-only tmpfs", path);
          return rootfs_at_path (err, ".linux.maskedPaths[%zu]", i);
        }
      return 0;
    }
  if (*null_fd < 0)
    {
      *null_fd = open_verified_null (root, err);
      if (*null_fd < 0)
        return rootfs_at_path (err, ".linux.maskedPaths[%zu]", i);
    }
  if (mount (safepath_fd_path (*null_fd, source), target, NULL, MS_BIND, NULL) < 0)
    {
      berth_err_sys (err, errno, "mask %s with /dev/null", path);
      return rootfs_at_path (err, ".linux.maskedPaths[%zu]", i);
    }
  return 0;
}

static int
readonly_path (int root, const char *path, size_t i, struct berth_error *err)
{
  char target[SAFEPATH_FD_PATH_LEN];
  cleanup_close int fd = -1, top = -1;

  if (open_if_exists (root, path, &fd, err) < 0)
    return rootfs_at_path (err, ".linux.readonlyPaths[%zu]", i);
  if (fd < 0)
    return 0;
  safepath_fd_path (fd, target);
  if (mount (target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    {
      berth_err_sys (err, errno, "bind-mount %s onto itself", path);
      return rootfs_at_path (err, ".linux.readonlyPaths[%zu]", i);
    }
  top = safepath_open (root, path, O_PATH, 0, err);
  if (top < 0)
    return rootfs_at_path (err, ".linux.readonlyPaths[%zu]", i);
  if (rootfs_remount_bind (top, NULL, MS_RDONLY, 0) < 0)
    {
      berth_err_sys (err, errno, "remount %s read-only", path);
      return rootfs_at_path (err, ".linux.readonlyPaths[%zu]", i);
    }
  return 0;
}

/* stdio on the host's /dev/null (an engine's stdin, say) is given the
   container's own instead, as runc does: CRIU cannot dump an fd of a mount
   outside the container, and the container then holds nothing of the
   host's /dev.  Best effort: a root without a null device keeps them. */
static void
reopen_dev_null (int root)
{
  struct berth_error ignored = { 0 };
  cleanup_close int null = safepath_open (root, "/dev/null", O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0,
                                          &ignored);
  struct stat ours, st;

  if (null < 0 || fstat (null, &ours) < 0 || !S_ISCHR (ours.st_mode)
      || ours.st_rdev != makedev (1, 3))
    return;
  for (int fd = 0; fd < 3; fd++)
    if (fstat (fd, &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == ours.st_rdev
        && (st.st_dev != ours.st_dev || st.st_ino != ours.st_ino))
      dup3 (null, fd, 0);
}

int
rootfs_finalize (const struct oci_config *c, struct berth_error *err)
{
  const struct oci_linux *l = c->linux;
  unsigned long prop = rootfs_configured_propagation (c);
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int null_fd = -1;

  if (root < 0)
    return berth_err_sys (err, errno, "open /");
  reopen_dev_null (root);
  for (size_t i = 0; l && i < l->masked_paths_len; i++)
    if (mask_path (root, l->masked_paths[i], &null_fd, i, err) < 0)
      return -1;
  for (size_t i = 0; l && i < l->readonly_paths_len; i++)
    if (readonly_path (root, l->readonly_paths[i], i, err) < 0)
      return -1;
  /* "/" by name: it cannot be swapped, and this works without a /proc. */
  if (c->root && c->root->readonly && rootfs_remount_bind (root, "/", MS_RDONLY, 0) < 0)
    {
      berth_err_sys (err, errno, "remount / read-only");
      return rootfs_at_path (err, ".root.readonly");
    }
  /* Applied again now that the rootfs is "/" (rootfs_prepare set it on the
     host's "/").  Private is already the case since make_parent_private. */
  if (prop && !(prop & MS_PRIVATE) && mount (NULL, "/", NULL, prop, NULL) < 0)
    {
      berth_err_sys (err, errno, "set the propagation of the container's /");
      return rootfs_at_path (err, ".linux.rootfsPropagation");
    }
  return 0;
}
