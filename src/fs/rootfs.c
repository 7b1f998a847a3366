/* berth — the container's filesystem view (see rootfs.h). */
#include "fs/rootfs.h"
#include "fs/rootfs_priv.h"
#include "fs/copyup.h"
#include "cleanup.h"
#include "security/lsm.h"
#include "fs/devices.h"
#include "fs/mountopts.h"
#include "base/trace.h"
#include "base/safepath.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define ATIME_FLAGS (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)
/* Per-mount flags that a bind remount would silently drop unless passed
   again, and that the kernel locks on mounts inherited by a less privileged
   user namespace. */
#define KEPT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)

struct ctx {
  const struct oci_config *c;
  const struct rootfs_options *o;
  int root_fd;        /* the rootfs, once bound onto itself */
  const char *rootfs; /* its canonical host path */
};

/* Name the failing part of config.json in an error already filled in. */
__attribute__ ((format (printf, 2, 3))) int
rootfs_at_path (struct berth_error *err, const char *fmt, ...)
{
  va_list ap;
  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  vsnprintf (err->path, sizeof err->path, fmt, ap);
  va_end (ap);
  berth_err_set_source (err, "config.json");
  return -1;
}

/* A failed system call while setting up .mounts[i]. */
__attribute__ ((format (printf, 4, 5))) static int
mount_err (struct berth_error *err, int errnum, size_t i, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  berth_err_sys (err, errnum, "%s", msg);
  return rootfs_at_path (err, ".mounts[%zu]", i);
}

static bool
is_dest (const struct oci_mount *m, const char *want)
{
  cleanup_free char *clean = safepath_clean (m->destination);
  return clean && strcmp (clean, want) == 0;
}

/* ------------------------------------------------------------------------
   Destinations
   ------------------------------------------------------------------------ */

static int
dest_dir (struct ctx *x, size_t i, const char *dest, int *fd, struct berth_error *err)
{
  if (safepath_mkdir_p (x->root_fd, dest, 0755, fd, err) < 0)
    {
      berth_err_prefix (err, "mount destination: ");
      return rootfs_at_path (err, ".mounts[%zu].destination", i);
    }
  return 0;
}

static int
dest_file (struct ctx *x, size_t i, const char *dest, int *fd, struct berth_error *err)
{
  if (safepath_mkfile (x->root_fd, dest, 0644, fd, err) < 0)
    {
      berth_err_prefix (err, "mount destination: ");
      return rootfs_at_path (err, ".mounts[%zu].destination", i);
    }
  return 0;
}

/* After a mount, the fd used as its target refers to the directory now
   covered; whatever is done to the new mount needs the path resolved
   again. */
static int
reopen_dest (struct ctx *x, size_t i, const char *dest, int *fd, struct berth_error *err)
{
  *fd = safepath_open (x->root_fd, dest, O_PATH, 0, err);
  if (*fd < 0)
    {
      berth_err_prefix (err, "mount destination: ");
      return rootfs_at_path (err, ".mounts[%zu].destination", i);
    }
  return 0;
}

/* runc refuses to mount proc or sysfs anywhere but on a real directory:
   a symlink or file there has been the vehicle of attacks before. */
static int
check_ordinary_dir (struct ctx *x, size_t i, const char *type, const char *dest,
                    struct berth_error *err)
{
  struct berth_error e = { 0 };
  struct stat st;
  cleanup_close int fd = safepath_open (x->root_fd, dest, O_PATH | O_NOFOLLOW, 0, &e);

  if (fd < 0)
    {
      if (e.errnum == ENOENT)
        return 0;
      *err = e;
      return rootfs_at_path (err, ".mounts[%zu].destination", i);
    }
  if (fstat (fd, &st) < 0)
    return mount_err (err, errno, i, "stat %s", dest);
  if (!S_ISDIR (st.st_mode))
    {
      berth_err (err, BERTH_E_VALUE,
                 "filesystem \"%s\" must be mounted on ordinary directory: %s is not one",
                 type, dest);
      return rootfs_at_path (err, ".mounts[%zu].destination", i);
    }
  return 0;
}

/* Where the resolved fd lies, as a path inside the container. */
static int
container_path (struct ctx *x, int fd, char out[PATH_MAX])
{
  char fdpath[SAFEPATH_FD_PATH_LEN], link[PATH_MAX];
  size_t rl = strlen (x->rootfs);
  ssize_t n = readlink (safepath_fd_path (fd, fdpath), link, sizeof link - 1);

  if (n < 0)
    return -1;
  link[n] = '\0';
  if (strcmp (x->rootfs, "/") == 0)
    rl = 0;
  else if (strncmp (link, x->rootfs, rl) != 0 || (link[rl] != '/' && link[rl] != '\0'))
    {
      errno = EXDEV;
      return -1;
    }
  snprintf (out, PATH_MAX, "%s", link[rl] ? link + rl : "/");
  return 0;
}

/* runc's checkProcMount: /proc may only get a procfs, and nothing may be
   mounted inside it but the files lxcfs emulates; anything else would let
   the container shadow /proc/self/attr and friends.  The check is on the
   resolved location, so a symlink into /proc cannot get round it. */
static int
check_proc_dest (struct ctx *x, size_t i, int fd, const char *type, const char *bind_source,
                 int bind_tree, struct berth_error *err)
{
  static const char *const lxcfs_files[] = {
    "/proc/cpuinfo",      "/proc/diskstats",      "/proc/meminfo",
    "/proc/stat",         "/proc/swaps",          "/proc/uptime",
    "/proc/loadavg",      "/proc/slabinfo",       "/proc/pressure/cpu",
    "/proc/pressure/io",  "/proc/pressure/memory", "/proc/net/dev",
    "/proc/sys/kernel/ns_last_pid",
  };
  char where[PATH_MAX];

  if (container_path (x, fd, where) < 0)
    return mount_err (err, errno, i, "locate mount destination %s", x->c->mounts[i].destination);
  if (strcmp (where, "/proc") == 0)
    {
      struct statfs sfs;
      if (strcmp (type, "proc") == 0)
        return 0;
      if (bind_source
          && (bind_tree >= 0 ? fstatfs (bind_tree, &sfs) : statfs (bind_source, &sfs)) == 0
          && sfs.f_type == PROC_SUPER_MAGIC)
        return 0;
      berth_err (err, BERTH_E_VALUE, "%s cannot be mounted on /proc: it is not a procfs",
                 bind_source ? bind_source : type);
      return rootfs_at_path (err, ".mounts[%zu]", i);
    }
  if (strncmp (where, "/proc/", 6) != 0)
    return 0;
  for (size_t k = 0; k < sizeof lxcfs_files / sizeof lxcfs_files[0]; k++)
    if (strcmp (where, lxcfs_files[k]) == 0)
      return 0;
  berth_err (err, BERTH_E_VALUE,
             "destination %s is %s, inside /proc, where only the files lxcfs emulates "
             "may be mounted",
             x->c->mounts[i].destination, where);
  return rootfs_at_path (err, ".mounts[%zu].destination", i);
}

/* ------------------------------------------------------------------------
   Mount operations
   ------------------------------------------------------------------------ */

static unsigned long
mount_flags_of (int fd)
{
  struct statvfs s;
  unsigned long f = 0;

  if (fstatvfs (fd, &s) < 0)
    return 0;
  if (s.f_flag & ST_RDONLY)
    f |= MS_RDONLY;
  if (s.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (s.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

/* MS_REMOUNT|MS_BIND sets the mount's flags to exactly those given, so a
   bind of a nosuid source remounted "ro" would lose nosuid.  The flags the
   mount already has (read from the mount itself, which a bind copies from
   its source) are kept unless an option cleared them explicitly.  If the
   kernel still says EPERM, the mount is one inherited into a user namespace
   whose flags (atime included) are locked: try once more keeping all of
   them, as runc does.  `target` is the mount to change, NULL for fd's
   magic link.  -1 with errno. */
int
rootfs_remount_bind (int fd, const char *target, unsigned long flags, unsigned long cleared)
{
  char fdpath[SAFEPATH_FD_PATH_LEN];
  unsigned long have = mount_flags_of (fd);
  unsigned long first = flags | (have & KEPT_FLAGS & ~cleared) | MS_BIND | MS_REMOUNT;
  unsigned long locked
      = (flags & ~ATIME_FLAGS) | (have & (KEPT_FLAGS | ATIME_FLAGS)) | MS_BIND | MS_REMOUNT;

  if (target == NULL)
    target = safepath_fd_path (fd, fdpath);
  if (mount (NULL, target, NULL, first, NULL) == 0)
    return 0;
  if (errno != EPERM || locked == first)
    return -1;
  return mount (NULL, target, NULL, locked, NULL);
}

/* Propagation changes (each its own mount call, in the order given) and
   the recursive attributes, on the mount just made at dest. */
static int
finish_mount (struct ctx *x, size_t i, const char *dest, const struct mount_opts *opts,
              uint64_t extra_set, struct berth_error *err)
{
  char fdpath[SAFEPATH_FD_PATH_LEN];
  cleanup_close int fd = -1;
  struct mount_attr attr = {
    .attr_set = opts->rec_set | extra_set,
    .attr_clr = opts->rec_clr,
  };

  if (opts->n_propagation == 0 && attr.attr_set == 0 && attr.attr_clr == 0)
    return 0;
  if (reopen_dest (x, i, dest, &fd, err) < 0)
    return -1;
  safepath_fd_path (fd, fdpath);
  for (size_t k = 0; k < opts->n_propagation; k++)
    if (mount (NULL, fdpath, NULL, opts->propagation[k], NULL) < 0)
      return mount_err (err, errno, i, "change the propagation of %s", dest);
  if ((attr.attr_set || attr.attr_clr)
      && mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    return mount_err (err, errno, i, "set recursive mount attributes on %s", dest);
  return 0;
}

static int
mount_bind (struct ctx *x, size_t i, const char *dest, const struct mount_opts *opts,
            struct berth_error *err)
{
  const char *source = x->c->mounts[i].source;
  unsigned long extra = opts->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  char fdpath[SAFEPATH_FD_PATH_LEN];
  cleanup_close int fd = -1;
  struct stat st;
  int tree = x->o->bind_sources ? x->o->bind_sources[i] : -1;

  /* A relative source is relative to the bundle, the caller's cwd. */
  if ((tree >= 0 ? fstat (tree, &st) : stat (source, &st)) < 0)
    {
      berth_err_sys (err, errno, "bind-mount source %s", source);
      return rootfs_at_path (err, ".mounts[%zu].source", i);
    }
  if ((S_ISDIR (st.st_mode) ? dest_dir : dest_file) (x, i, dest, &fd, err) < 0)
    return -1;
  if (check_proc_dest (x, i, fd, "bind", source, tree, err) < 0)
    return -1;
  if (tree < 0 && mount_is_idmapped (&x->c->mounts[i]))
    {
      /* Only the runtime can map it (rootfs.h): never bind it unmapped. */
      berth_err (err, BERTH_E_UNSUPPORTED, "ID-mapped mount without the runtime's mapped source");
      return rootfs_at_path (err, ".mounts[%zu]", i);
    }
  if (tree >= 0)
    {
      /* The runtime's detached copy, attached here. */
      if (move_mount (tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return mount_err (err, errno, i, "bind-mount %s on %s", source, dest);
    }
  else if (mount (source, safepath_fd_path (fd, fdpath), NULL, MS_BIND | (opts->flags & MS_REC),
                  NULL)
           < 0)
    return mount_err (err, errno, i, "bind-mount %s on %s", source, dest);

  /* A bind mount ignores every flag but MS_REC: they need a remount. */
  if (extra)
    {
      cleanup_close int top = -1;
      if (reopen_dest (x, i, dest, &top, err) < 0)
        return -1;
      if (rootfs_remount_bind (top, NULL, extra, opts->cleared) < 0)
        return mount_err (err, errno, i, "remount %s with its options", dest);
    }
  return finish_mount (x, i, dest, opts, 0, err);
}

/* The recursive attributes equivalent to a mount's plain flags, for
   applying them to a whole bound tree at once. */
static uint64_t
attrs_of_flags (unsigned long flags)
{
  uint64_t a = 0;
  if (flags & MS_RDONLY)
    a |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID)
    a |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV)
    a |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC)
    a |= MOUNT_ATTR_NOEXEC;
  return a;
}

/* The host's tree at `src`, recursively, with the mount's flags applied to
   every mount in it (a plain remount would reach the top one only). */
static int
rbind_host (struct ctx *x, size_t i, const char *src, const char *dest,
            const struct mount_opts *opts, struct berth_error *err)
{
  char fdpath[SAFEPATH_FD_PATH_LEN];
  cleanup_close int fd = -1;

  if (dest_dir (x, i, dest, &fd, err) < 0)
    return -1;
  if (mount (src, safepath_fd_path (fd, fdpath), NULL, MS_BIND | MS_REC, NULL) < 0)
    return mount_err (err, errno, i, "bind-mount %s on %s", src, dest);
  return finish_mount (x, i, dest, opts, attrs_of_flags (opts->flags), err);
}

/* tmpcopyup (Podman adds it to every --tmpfs and --read-only mount): the
   new tmpfs starts with what the image had at the destination.  The tmpfs
   is mounted writable for the copy, then remounted with the flags asked. */
static int
mount_tmpfs_copyup (struct ctx *x, size_t i, const char *dest, int dest_fd, unsigned long flags,
                    const struct mount_opts *opts, struct berth_error *err)
{
  char fdpath[SAFEPATH_FD_PATH_LEN];
  cleanup_close int below = openat (dest_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int top = -1;

  if (below < 0)
    return mount_err (err, errno, i, "open %s for tmpcopyup", dest);
  if (mount ("tmpfs", safepath_fd_path (dest_fd, fdpath), "tmpfs", flags & ~MS_RDONLY,
             opts->data)
      < 0)
    return mount_err (err, errno, i, "mount \"tmpfs\" on %s", dest);
  if (reopen_dest (x, i, dest, &top, err) < 0)
    return -1;
  {
    cleanup_close int rw = openat (top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rw < 0 || copy_tree (below, rw, err) < 0)
      {
        if (rw < 0)
          berth_err_sys (err, errno, "open the new tmpfs on %s", dest);
        return rootfs_at_path (err, ".mounts[%zu]", i);
      }
  }
  if ((flags & MS_RDONLY)
      && mount (NULL, safepath_fd_path (top, fdpath), NULL, flags | MS_REMOUNT, opts->data) < 0)
    return mount_err (err, errno, i, "remount %s read-only", dest);
  return finish_mount (x, i, dest, opts, 0, err);
}

static int
mount_fresh (struct ctx *x, size_t i, const char *type, const char *dest,
             const struct mount_opts *opts, struct berth_error *err)
{
  const struct oci_mount *m = &x->c->mounts[i];
  const char *source = m->source && m->source[0] ? m->source : type;
  unsigned long flags = opts->flags;
  char fdpath[SAFEPATH_FD_PATH_LEN];
  cleanup_close int fd = -1;

  /* Devices are made in /dev after all mounts; rootfs_prepare remounts it
     read-only afterwards if asked. */
  if (strcmp (dest, "/dev") == 0 && strcmp (type, "tmpfs") == 0)
    flags &= ~MS_RDONLY;
  if ((strcmp (type, "proc") == 0 || strcmp (type, "sysfs") == 0)
      && check_ordinary_dir (x, i, type, dest, err) < 0)
    return -1;
  if (dest_dir (x, i, dest, &fd, err) < 0)
    return -1;
  if (check_proc_dest (x, i, fd, type, NULL, -1, err) < 0)
    return -1;
  if (opts->tmpcopyup && strcmp (type, "tmpfs") == 0)
    return mount_tmpfs_copyup (x, i, dest, fd, flags, opts, err);
  if (mount (source, safepath_fd_path (fd, fdpath), type, flags, opts->data) < 0)
    return mount_err (err, errno, i, "mount \"%s\" on %s", type, dest);
  return finish_mount (x, i, dest, opts, 0, err);
}

/* The "cgroup" mount.  On a v1 or hybrid host: mount_cgroup_v1, the
   container's own directories, as runc does.  On a cgroup2 host a fresh
   cgroup2 mount (rooted at the container's cgroup when it has a cgroup
   namespace); where the kernel refuses it (EPERM), the host's tree is bound
   read-only instead, as when berth has no cgroup to show. */
/* v1 and hybrid: a tmpfs holding one directory per hierarchy, each a bind
   of the container's own cgroup there (so /sys/fs/cgroup/memory/
   memory.limit_in_bytes is the container's limit, and the host's tree stays
   out of sight), plus runc's symlinks for combined hierarchies. */
static int
mount_cgroup_v1 (struct ctx *x, size_t i, const char *dest, const struct mount_opts *opts,
                 struct berth_error *err)
{
  const struct berth_cgroup *cg = x->o->cgroup;
  char fdpath[SAFEPATH_FD_PATH_LEN];
  cleanup_close int fd = -1;
  cleanup_close int top = -1;

  if (dest_dir (x, i, dest, &fd, err) < 0)
    return -1;
  if (mount ("tmpfs", safepath_fd_path (fd, fdpath), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
             "mode=755")
      < 0)
    return mount_err (err, errno, i, "mount a tmpfs on %s", dest);
  if (reopen_dest (x, i, dest, &top, err) < 0)
    return -1;
  for (size_t k = 0; k < cg->n_dirs; k++)
    {
      const char *ctrl = cg->dirs[k].controller;
      const char *name = ctrl[0] == '\0' ? "unified"
                         : strncmp (ctrl, "name=", 5) == 0 ? ctrl + 5
                                                           : ctrl;
      char sub[PATH_MAX];
      cleanup_close int sfd = -1;

      snprintf (sub, sizeof sub, "%s/%s", dest, name);
      if (dest_dir (x, i, sub, &sfd, err) < 0)
        return -1;
      if (mount (cg->dirs[k].path, safepath_fd_path (sfd, fdpath), NULL, MS_BIND | MS_REC, NULL)
          < 0)
        return mount_err (err, errno, i, "bind-mount %s on %s", cg->dirs[k].path, sub);
      if (strchr (name, ','))
        {
          char parts[128];
          char *save = NULL;
          snprintf (parts, sizeof parts, "%s", name);
          for (char *p = strtok_r (parts, ",", &save); p; p = strtok_r (NULL, ",", &save))
            if (symlinkat (name, top, p) < 0 && errno != EEXIST)
              return mount_err (err, errno, i, "symlink %s/%s", dest, p);
        }
    }
  return finish_mount (x, i, dest, opts, attrs_of_flags (opts->flags), err);
}

static int
mount_cgroup (struct ctx *x, size_t i, const char *dest, const struct mount_opts *opts,
              struct berth_error *err)
{
  struct statfs sfs;

  if (statfs ("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
    {
      char fdpath[SAFEPATH_FD_PATH_LEN];
      cleanup_close int fd = -1;

      if (dest_dir (x, i, dest, &fd, err) < 0)
        return -1;
      if (mount ("cgroup2", safepath_fd_path (fd, fdpath), "cgroup2", opts->flags, opts->data)
          == 0)
        return finish_mount (x, i, dest, opts, 0, err);
      if (errno != EPERM)
        return mount_err (err, errno, i, "mount \"cgroup2\" on %s", dest);
    }
  if (x->o->cgroup && x->o->cgroup->mode != BERTH_CGROUP_V2 && x->o->cgroup->n_dirs)
    return mount_cgroup_v1 (x, i, dest, opts, err);
  return rbind_host (x, i, "/sys/fs/cgroup", dest, opts, err);
}

static int
mount_one (struct ctx *x, size_t i, struct berth_error *err)
{
  const struct oci_mount *m = &x->c->mounts[i];
  const char *type = m->type ? m->type : "";
  cleanup_mount_opts struct mount_opts opts = { 0 };
  cleanup_free char *dest = NULL;
  char jpath[64];

  /* mount_validate_config() has passed this mount (rootfs_prepare). */
  snprintf (jpath, sizeof jpath, ".mounts[%zu].options", i);
  if (mount_opts_parse (m->options, m->options_len, jpath, &opts, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      return -1;
    }
  dest = safepath_clean (m->destination);
  if (dest == NULL)
    return mount_err (err, ENOMEM, i, "mount %s", m->destination);

  if (strcmp (type, "bind") == 0 || (opts.flags & MS_BIND))
    return mount_bind (x, i, dest, &opts, err);
  if (strcmp (type, "cgroup") == 0)
    return mount_cgroup (x, i, dest, &opts, err);
  if (strcmp (type, "sysfs") == 0)
    {
      /* Without a new network namespace the kernel refuses sysfs (EPERM);
         runc then binds the host's /sys instead. */
      struct berth_error before = *err;
      if (mount_fresh (x, i, type, dest, &opts, err) == 0)
        return 0;
      if (err->errnum != EPERM || err->kind != BERTH_E_SYSTEM)
        return -1;
      *err = before;
      return rbind_host (x, i, "/sys", dest, &opts, err);
    }
  /* linux.mountLabel, as runc: context= on the fresh mounts whose
     filesystem takes it (proc and mqueue do not).  create has refused the
     label already when the host has no SELinux. */
  if (x->c->linux && x->c->linux->mount_label && x->c->linux->mount_label[0]
      && strcmp (type, "proc") != 0 && strcmp (type, "mqueue") != 0)
    {
      char *data = NULL;
      if (lsm_mount_data (opts.data, x->c->linux->mount_label, &data, err) < 0)
        return -1;
      free (opts.data);
      opts.data = data;
    }
  return mount_fresh (x, i, type, dest, &opts, err);
}

/* /dev was mounted writable so that devices could be made in it. */
static int
dev_readonly (struct ctx *x, struct berth_error *err)
{
  for (size_t i = x->c->mounts_len; i-- > 0;)
    {
      const struct oci_mount *m = &x->c->mounts[i];
      cleanup_mount_opts struct mount_opts opts = { 0 };
      char fdpath[SAFEPATH_FD_PATH_LEN];
      cleanup_close int fd = -1;

      if (!is_dest (m, "/dev"))
        continue;
      if (mount_is_bind (m) || m->type == NULL || strcmp (m->type, "tmpfs") != 0)
        return 0;
      if (mount_opts_parse (m->options, m->options_len, "", &opts, err) < 0)
        return rootfs_at_path (err, ".mounts[%zu].options", i);
      if (!(opts.flags & MS_RDONLY))
        return 0;
      if (reopen_dest (x, i, "/dev", &fd, err) < 0)
        return -1;
      if (mount (NULL, safepath_fd_path (fd, fdpath), NULL, opts.flags | MS_REMOUNT, opts.data) < 0)
        return mount_err (err, errno, i, "remount /dev read-only");
      return 0;
    }
  return 0;
}

/* ------------------------------------------------------------------------
   rootfs_prepare
   ------------------------------------------------------------------------ */

unsigned long
rootfs_configured_propagation (const struct oci_config *c)
{
  if (c->linux && c->linux->rootfs_propagation && c->linux->rootfs_propagation[0])
    return mount_propagation_flags (c->linux->rootfs_propagation);
  return 0;
}

/* pivot_root refuses a new root whose parent mount is shared, and a shared
   parent would also carry the rootfs bind to the host: make the mount that
   holds the rootfs private (the first ancestor that is a mount point). */
static int
make_parent_private (const char *rootfs, struct berth_error *err)
{
  char p[PATH_MAX];

  snprintf (p, sizeof p, "%s", rootfs);
  for (;;)
    {
      char *slash;
      if (mount (NULL, p, NULL, MS_PRIVATE, NULL) == 0)
        return 0;
      if (errno != EINVAL || strcmp (p, "/") == 0)
        return berth_err_sys (err, errno, "make the mount holding %s private", rootfs);
      slash = strrchr (p, '/');
      slash[slash == p ? 1 : 0] = '\0';
    }
}

int
rootfs_prepare (const struct oci_config *c, const struct rootfs_options *o,
                struct berth_error *err)
{
  unsigned long prop = MS_SLAVE | MS_REC;
  cleanup_free char *real = NULL;
  cleanup_close int root_fd = -1;
  struct ctx x = { c, o, -1, NULL };
  ssize_t dev = -1;

  if (mount_validate_config (c, &(struct berth_reporter){ .err = err }) < 0)
    {
      berth_err_set_source (err, "config.json");
      return -1;
    }
  if (rootfs_configured_propagation (c))
    prop = rootfs_configured_propagation (c); /* valid: checked above */
  if (!o->host_mount_ns && mount (NULL, "/", NULL, prop, NULL) < 0)
    return berth_err_sys (err, errno, "set the propagation of /");

  real = realpath (o->rootfs, NULL);
  if (real == NULL)
    {
      berth_err_sys (err, errno, "rootfs %s", o->rootfs);
      return rootfs_at_path (err, ".root.path");
    }
  if (!o->host_mount_ns && make_parent_private (real, err) < 0)
    return -1;
  if (mount (real, real, NULL, MS_BIND | MS_REC, NULL) < 0)
    return berth_err_sys (err, errno, "bind-mount the rootfs %s onto itself", real);
  /* In the host's namespace, only this new mount is made private: what is
     mounted below it then reaches no other namespace. */
  if (o->host_mount_ns && mount (NULL, real, NULL, MS_PRIVATE, NULL) < 0)
    return berth_err_sys (err, errno, "make the rootfs mount %s private", real);
  root_fd = open (real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return berth_err_sys (err, errno, "open the rootfs %s", real);
  x.root_fd = root_fd;
  x.rootfs = real;

  struct berth_trace_span mounts = berth_trace_begin ("mounts");
  for (size_t i = 0; i < c->mounts_len; i++)
    {
      if (mount_one (&x, i, err) < 0)
        return -1;
      if (is_dest (&c->mounts[i], "/dev"))
        dev = (ssize_t) i;
    }
  berth_trace_end (&mounts);
  BERTH_TRACE_SCOPE ("devices, /dev");

  /* As runc: devices are made unless /dev is the host's (a bind mount),
     the default set only when /dev is a fresh tmpfs. */
  if (dev < 0 || !mount_is_bind (&c->mounts[dev]))
    {
      if (devices_create (root_fd, c->linux, o->in_user_ns, err) < 0)
        return -1;
    }
  if (dev >= 0 && c->mounts[dev].type && strcmp (c->mounts[dev].type, "tmpfs") == 0
      && !mount_is_bind (&c->mounts[dev]))
    {
      if (devices_setup_dev (root_fd, o->in_user_ns, o->terminal, err) < 0)
        return rootfs_at_path (err, ".mounts[%zd]", dev);
      if (dev_readonly (&x, err) < 0)
        return -1;
    }
  return 0;
}

/* The rule create applies and check reports: root.path, relative to the
   bundle, names an existing directory. */
int
rootfs_resolve (const struct oci_config *c, const char *bundle_abs, char *rootfs,
                struct berth_error *err)
{
  char joined[PATH_MAX];
  struct stat st;
  int n;

  if (c->root->path[0] == '/')
    n = snprintf (joined, sizeof joined, "%s", c->root->path);
  else
    n = snprintf (joined, sizeof joined, "%s/%s", bundle_abs, c->root->path);
  if (n < 0 || (size_t) n >= sizeof joined)
    return berth_err_at (err, BERTH_E_VALUE, ".root.path", "path too long");
  if (realpath (joined, rootfs) == NULL || stat (rootfs, &st) < 0)
    {
      berth_err_sys (err, errno, "rootfs %s", joined);
      snprintf (err->path, sizeof err->path, ".root.path");
      berth_err_set_source (err, "config.json");
      return -1;
    }
  if (!S_ISDIR (st.st_mode))
    {
      berth_err_at (err, BERTH_E_VALUE, ".root.path", "rootfs %s is not a directory", rootfs);
      berth_err_set_source (err, "config.json");
      return -1;
    }
  return 0;
}
