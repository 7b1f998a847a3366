/* berth — device nodes inside the container's /dev (see devices.h). */
#include "fs/devices.h"
#include "cleanup.h"
#include "base/safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct devnode {
  const char *path;
  mode_t type; /* S_IFCHR, S_IFBLK or S_IFIFO */
  unsigned major, minor;
  mode_t mode;
  bool has_uid, has_gid;
  uid_t uid;
  gid_t gid;
};

/* Name the failing config entry in an error already filled in. */
__attribute__ ((format (printf, 2, 3))) static int
at_path (struct berth_error *err, const char *fmt, ...)
{
  va_list ap;
  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  vsnprintf (err->path, sizeof err->path, fmt, ap);
  va_end (ap);
  berth_err_set_source (err, err->path[0] ? "config.json" : "");
  return -1;
}

static bool
same_node (const struct stat *st, const struct devnode *d)
{
  if ((st->st_mode & S_IFMT) != d->type)
    return false;
  return d->type == S_IFIFO || st->st_rdev == makedev (d->major, d->minor);
}

/* Split a cleaned absolute path into its directory and last name. */
static int
split_path (const char *clean, char **dir, const char **base)
{
  const char *slash = strrchr (clean, '/');
  *base = slash + 1;
  *dir = strndup (clean, slash == clean ? 1 : (size_t) (slash - clean));
  return *dir ? 0 : -1;
}

/* Bind the host's node onto an empty file: the user-namespace way. */
static int
bind_host_node (int dir, const char *base, const struct devnode *d, struct berth_error *err)
{
  char fdpath[SAFEPATH_FD_PATH_LEN];
  cleanup_close int fd = -1;
  struct stat st;

  if (mknodat (dir, base, S_IFREG | 0600, 0) < 0)
    return berth_err_sys (err, errno, "create mount target for device %s", d->path);
  fd = openat (dir, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return berth_err_sys (err, errno, "open mount target for device %s", d->path);
  if (!S_ISREG (st.st_mode))
    return berth_err_sys (err, EEXIST, "mount target for device %s was replaced", d->path);
  if (mount (d->path, safepath_fd_path (fd, fdpath), NULL, MS_BIND, NULL) < 0)
    return berth_err_sys (err, errno, "bind-mount host device %s", d->path);
  return 0;
}

static int
mknod_node (int dir, const char *base, const struct devnode *d, struct berth_error *err)
{
  char fdpath[SAFEPATH_FD_PATH_LEN];
  cleanup_close int fd = -1;
  struct stat st;

  if (mknodat (dir, base, d->type | (d->mode & 07777), makedev (d->major, d->minor)) < 0)
    return berth_err_sys (err, errno, "mknod %s", d->path);
  fd = openat (dir, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return berth_err_sys (err, errno, "open device %s", d->path);
  if (!same_node (&st, d))
    return berth_err_sys (err, EEXIST, "device %s was replaced while being created", d->path);
  /* mknod honours the umask; the spec's fileMode is meant literally.  An
     O_PATH fd cannot be fchmod()ed, its magic link can be chmod()ed, and
     it is known to be our new node (not a symlink, checked above). */
  if (chmod (safepath_fd_path (fd, fdpath), d->mode & 07777) < 0)
    return berth_err_sys (err, errno, "chmod device %s", d->path);
  if ((d->has_uid || d->has_gid)
      && fchownat (fd, "", d->has_uid ? d->uid : (uid_t) -1, d->has_gid ? d->gid : (gid_t) -1,
                   AT_EMPTY_PATH) < 0)
    return berth_err_sys (err, errno, "chown device %s", d->path);
  return 0;
}

/* keep_any: an existing object of any kind at the path wins (used for the
   defaults, so that linux.devices and config mounts take precedence). */
static int
make_node (int root_fd, const struct devnode *d, bool in_user_ns, bool keep_any,
           struct berth_error *err)
{
  cleanup_free char *clean = safepath_clean (d->path);
  cleanup_free char *dirname = NULL;
  cleanup_close int dir = -1;
  const char *base;
  struct stat st;

  if (clean == NULL || split_path (clean, &dirname, &base) < 0)
    return berth_err_sys (err, ENOMEM, "create device %s", d->path);
  if (base[0] == '\0')
    return berth_err (err, BERTH_E_VALUE, "device path \"%s\" names the root", d->path);
  if (safepath_mkdir_p (root_fd, dirname, 0755, &dir, err) < 0)
    {
      berth_err_prefix (err, "create device %s: ", d->path);
      return -1;
    }

  /* Never follows a symlink at the path: it is replaced, not written
     through. */
  if (fstatat (dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (keep_any || same_node (&st, d))
        return 0;
      if (unlinkat (dir, base, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) < 0)
        return berth_err_sys (err, errno, "replace existing %s with a device", d->path);
    }
  else if (errno != ENOENT)
    return berth_err_sys (err, errno, "stat %s", d->path);

  /* FIFOs may be made in any user namespace. */
  if (in_user_ns && d->type != S_IFIFO)
    return bind_host_node (dir, base, d, err);
  return mknod_node (dir, base, d, err);
}

int
devices_create (int root_fd, const struct oci_linux *l, bool in_user_ns,
                struct berth_error *err)
{
  if (l == NULL)
    return 0;
  for (size_t i = 0; i < l->devices_len; i++)
    {
      const struct oci_device *od = &l->devices[i];
      struct devnode d = {
        .path = od->path,
        .major = (unsigned) od->major,
        .minor = (unsigned) od->minor,
        .mode = od->has_file_mode ? od->file_mode : 0666,
        .has_uid = od->has_uid,
        .has_gid = od->has_gid,
        .uid = od->uid,
        .gid = od->gid,
      };

      switch (od->type[0])
        {
        case 'c':
        case 'u':
          d.type = S_IFCHR;
          break;
        case 'b':
          d.type = S_IFBLK;
          break;
        case 'p':
          d.type = S_IFIFO;
          d.major = d.minor = 0;
          break;
        default:
          berth_err (err, BERTH_E_VALUE, "device type \"%s\" (want c, b, u or p)", od->type);
          return at_path (err, ".linux.devices[%zu].type", i);
        }
      if (od->major < 0 || od->minor < 0 || od->major > 0xfff || od->minor > 0xfffff)
        {
          berth_err (err, BERTH_E_RANGE, "device number %lld:%lld out of range",
                     (long long) od->major, (long long) od->minor);
          return at_path (err, ".linux.devices[%zu]", i);
        }
      if (make_node (root_fd, &d, in_user_ns, false, err) < 0)
        return at_path (err, ".linux.devices[%zu]", i);
    }
  return 0;
}

static int
symlink_if_missing (int dev, const char *target, const char *name, struct berth_error *err)
{
  if (symlinkat (target, dev, name) < 0 && errno != EEXIST)
    return berth_err_sys (err, errno, "symlink /dev/%s -> %s", name, target);
  return 0;
}

int
devices_setup_dev (int root_fd, bool in_user_ns, bool terminal, struct berth_error *err)
{
  static const struct {
    const char *path;
    unsigned major, minor;
  } defaults[] = {
    { "/dev/null", 1, 3 },    { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
    { "/dev/random", 1, 8 },  { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
  };
  static const char *const links[][2] = {
    { "/proc/self/fd", "fd" },
    { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" },
    { "/proc/self/fd/2", "stderr" },
  };
  cleanup_close int dev = -1;
  struct stat st;

  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    {
      struct devnode d = {
        .path = defaults[i].path,
        .type = S_IFCHR,
        .major = defaults[i].major,
        .minor = defaults[i].minor,
        .mode = 0666,
      };
      if (make_node (root_fd, &d, in_user_ns, true, err) < 0)
        return -1;
    }

  if (safepath_mkdir_p (root_fd, "/dev", 0755, &dev, err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    if (symlink_if_missing (dev, links[i][0], links[i][1], err) < 0)
      return -1;
  /* runc links /dev/core only where the host has a /proc/kcore to point
     at; this runs before pivot_root, so /proc is still the host's. */
  if (access ("/proc/kcore", F_OK) == 0 && symlink_if_missing (dev, "/proc/kcore", "core", err) < 0)
    return -1;
  /* A ptmx node from linux.devices is respected; otherwise the devpts
     instance's multiplexer is the one to use. */
  if (fstatat (dev, "ptmx", &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno != ENOENT)
        return berth_err_sys (err, errno, "stat /dev/ptmx");
      if (symlink_if_missing (dev, "pts/ptmx", "ptmx", err) < 0)
        return -1;
    }
  if (mkdirat (dev, "pts", 0755) < 0 && errno != EEXIST)
    return berth_err_sys (err, errno, "mkdir /dev/pts");
  if (mkdirat (dev, "shm", 0755) < 0 && errno != EEXIST)
    return berth_err_sys (err, errno, "mkdir /dev/shm");
  if (terminal && mknodat (dev, "console", S_IFREG | 0666, 0) < 0 && errno != EEXIST)
    return berth_err_sys (err, errno, "create /dev/console");
  return 0;
}
