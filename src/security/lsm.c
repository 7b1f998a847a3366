#include "security/lsm.h"
#include "cleanup.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

bool
lsm_apparmor_enabled (void)
{
  cleanup_close int fd = open ("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
  char c = 0;
  return fd >= 0 && read (fd, &c, 1) == 1 && c == 'Y';
}

bool
lsm_selinux_enabled (void)
{
  return access ("/sys/fs/selinux/enforce", F_OK) == 0;
}

static bool
set (const char *s)
{
  return s && s[0];
}

int
lsm_check_host (const struct oci_process *p, const char *base, const struct oci_linux *lx,
                struct berth_error *err)
{
  char path[160];

  if (p && set (p->apparmor_profile) && !lsm_apparmor_enabled ())
    {
      snprintf (path, sizeof path, "%s.apparmorProfile", base);
      return berth_err_at (err, BERTH_E_UNSUPPORTED, path,
                           "AppArmor profile \"%s\": AppArmor is not enabled on this host",
                           p->apparmor_profile);
    }
  if (p && set (p->selinux_label) && !lsm_selinux_enabled ())
    {
      snprintf (path, sizeof path, "%s.selinuxLabel", base);
      return berth_err_at (err, BERTH_E_UNSUPPORTED, path,
                           "SELinux label \"%s\": SELinux is not enabled on this host",
                           p->selinux_label);
    }
  if (lx && set (lx->mount_label) && !lsm_selinux_enabled ())
    return berth_err_at (err, BERTH_E_UNSUPPORTED, ".linux.mountLabel",
                         "SELinux mount label \"%s\": SELinux is not enabled on this host",
                         lx->mount_label);
  return 0;
}

int
lsm_attr_write_at (int proc_fd, const char *rel, const char *value, struct berth_error *err)
{
  struct open_how how = { .flags = O_WRONLY | O_CLOEXEC,
                          .resolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS
                                     | RESOLVE_NO_SYMLINKS };
  struct statfs sfs;
  cleanup_close int fd = -1;
  size_t len = strlen (value);
  ssize_t n;

  /* The root of a procfs, and a path that stays on that one mount: the
     container could have put any file (a procfs one too, such as
     /proc/sys/kernel/core_pattern) over the attr file. */
  if (!is_procfs_root (proc_fd))
    return berth_err (err, BERTH_E_UNSUPPORTED,
                      "refusing to write %s: /proc is not the root of a procfs", rel);
  fd = (int) syscall (SYS_openat2, proc_fd, rel, &how, sizeof how);
  if (fd < 0 && errno == EXDEV)
    return berth_err (err, BERTH_E_UNSUPPORTED,
                      "refusing to write /proc/%s: something is mounted over it", rel);
  if (fd < 0)
    return berth_err_sys (err, errno, "open /proc/%s", rel);
  if (fstatfs (fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
    return berth_err (err, BERTH_E_UNSUPPORTED, "refusing to write /proc/%s: not on procfs",
                      rel);
  n = write (fd, value, len);
  if (n < 0)
    return berth_err_sys (err, errno, "write \"%s\" to /proc/%s", value, rel);
  if ((size_t) n != len)
    return berth_err (err, BERTH_E_SYSTEM, "short write to /proc/%s", rel);
  return 0;
}

static int
attr_write (int proc_fd, const char *attr, const char *value, const char *jpath,
            struct berth_error *err)
{
  char rel[96];
  /* By thread id, not through the thread-self symlink, which the lookup
     refuses to follow; a /proc of another pid namespace then names no file
     of ours, and the kernel lets nobody write another task's attr. */
  snprintf (rel, sizeof rel, "%d/attr/%s", (int) gettid (), attr);
  if (lsm_attr_write_at (proc_fd, rel, value, err) == 0)
    return 0;
  snprintf (err->path, sizeof err->path, "%s", jpath);
  return -1;
}

int
lsm_apply_exec_labels (const struct oci_process *p, const char *base, struct berth_error *err)
{
  cleanup_close int proc_fd = -1;
  char jpath[160];

  if (!set (p->apparmor_profile) && !set (p->selinux_label))
    return 0;
  proc_fd = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (set (p->apparmor_profile))
    {
      cleanup_free char *value = NULL;
      snprintf (jpath, sizeof jpath, "%s.apparmorProfile", base);
      if (proc_fd < 0)
        return berth_err_at (err, BERTH_E_SYSTEM, jpath,
                             "the container has no /proc to set the AppArmor profile through");
      if (asprintf (&value, "exec %s", p->apparmor_profile) < 0)
        return berth_err_sys (err, ENOMEM, "out of memory");
      if (attr_write (proc_fd, "apparmor/exec", value, jpath, err) < 0)
        {
          /* Kernels before 5.1 have only the shared attr/exec. */
          if (err->errnum != ENOENT)
            return -1;
          berth_err_clear (err);
          if (attr_write (proc_fd, "exec", value, jpath, err) < 0)
            return -1;
        }
    }
  if (set (p->selinux_label))
    {
      snprintf (jpath, sizeof jpath, "%s.selinuxLabel", base);
      if (proc_fd < 0)
        return berth_err_at (err, BERTH_E_SYSTEM, jpath,
                             "the container has no /proc to set the SELinux label through");
      /* Not keycreate: execve resets it, and runc's use of it (labelling
         the session keyring) would need it before the keyring is joined,
         when the container's /proc is not there yet. */
      if (attr_write (proc_fd, "exec", p->selinux_label, jpath, err) < 0)
        return -1;
    }
  return 0;
}

int
lsm_mount_data (const char *data, const char *label, char **out, struct berth_error *err)
{
  int n;

  *out = NULL;
  if (!set (label))
    return 0;
  if (set (data))
    n = asprintf (out, "%s,context=\"%s\"", data, label);
  else
    n = asprintf (out, "context=\"%s\"", label);
  return n < 0 ? berth_err_sys (err, ENOMEM, "out of memory") : 0;
}
