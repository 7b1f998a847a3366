#include "init/namespaces.h"
#include "base/idmap.h"
#include "cleanup.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The spec's type names are libocispec's (oci_namespace_flag()). */
static const struct {
  const char *proc_name;
  int flag;
} ns_table[NS_COUNT] = {
  [NS_USER] = { "user", CLONE_NEWUSER },  [NS_PID] = { "pid", CLONE_NEWPID },
  [NS_NET] = { "net", CLONE_NEWNET },     [NS_IPC] = { "ipc", CLONE_NEWIPC },
  [NS_UTS] = { "uts", CLONE_NEWUTS },     [NS_MNT] = { "mnt", CLONE_NEWNS },
  [NS_CGROUP] = { "cgroup", CLONE_NEWCGROUP }, [NS_TIME] = { "time", CLONE_NEWTIME },
};

int
ns_clone_flag (enum berth_ns ns)
{
  return ns_table[ns].flag;
}

const char *
ns_proc_name (enum berth_ns ns)
{
  return ns_table[ns].proc_name;
}

const char *
ns_type_name (enum berth_ns ns)
{
  return oci_namespace_type (ns_table[ns].flag);
}

int
ns_from_type (const char *type)
{
  int flag = oci_namespace_flag (type);

  for (int k = 0; flag > 0 && k < NS_COUNT; k++)
    if (ns_table[k].flag == flag)
      return k;
  return -1;
}

void
ns_plan_close (struct ns_plan *p)
{
  for (int i = 0; i < NS_COUNT; i++)
    if (p->join_fd[i] >= 0)
      {
        close (p->join_fd[i]);
        p->join_fd[i] = -1;
      }
}

int
ns_open_path (const struct oci_namespace *n, size_t i, struct berth_error *err)
{
  int k = ns_from_type (n->type), type;
  cleanup_close int fd = -1;
  char jpath[64];

  snprintf (jpath, sizeof jpath, ".linux.namespaces[%zu].path", i);
  if (k < 0)
    return berth_err_at (err, BERTH_E_VALUE, jpath, "unknown namespace type \"%s\"", n->type);
  fd = open (n->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      berth_err_sys (err, errno, "open %s namespace %s", n->type, n->path);
      snprintf (err->path, sizeof err->path, "%s", jpath);
      return -1;
    }
  type = ioctl (fd, NS_GET_NSTYPE);
  if (type < 0)
    return berth_err_at (err, BERTH_E_VALUE, jpath, "%s is not a namespace", n->path);
  if (type != ns_table[k].flag)
    {
      const char *actual = oci_namespace_type (type);
      return berth_err_at (err, BERTH_E_VALUE, jpath, "%s is not a %s namespace (it is %s)",
                           n->path, n->type, actual ? actual : "another type");
    }
  return steal_fd (&fd);
}

int
ns_plan (const struct oci_config *c, struct ns_plan *p, struct berth_error *err)
{
  const struct oci_linux *l = c->linux;

  p->new_flags = 0;
  p->in_user_ns = false;
  for (int i = 0; i < NS_COUNT; i++)
    p->join_fd[i] = -1;
  for (size_t i = 0; l && i < l->namespaces_len; i++)
    {
      const struct oci_namespace *n = &l->namespaces[i];
      char jpath[64];
      int k, fd;

      k = ns_from_type (n->type);
      snprintf (jpath, sizeof jpath, ".linux.namespaces[%zu].path", i);
      if (k < 0)
        return berth_err_at (err, BERTH_E_VALUE, jpath, "unknown namespace type \"%s\"", n->type);
      if (k == NS_USER)
        p->in_user_ns = true;
      if (n->path == NULL || n->path[0] == '\0')
        {
          p->new_flags |= ns_table[k].flag;
          continue;
        }
      fd = ns_open_path (n, i, err);
      if (fd < 0)
        {
          ns_plan_close (p);
          return -1;
        }
      p->join_fd[k] = fd;
    }
  return 0;
}

int
ns_join (struct ns_plan *p, bool skip_user, struct berth_error *err)
{
  /* user first (it grants the rights for the rest); mount last, since after
     it paths no longer mean what they did. */
  static const enum berth_ns order[] = { NS_USER, NS_NET, NS_IPC, NS_UTS, NS_CGROUP, NS_MNT };

  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    {
      enum berth_ns k = order[i];
      if (p->join_fd[k] < 0 || (k == NS_USER && skip_user))
        continue;
      if (setns (p->join_fd[k], ns_table[k].flag) < 0)
        return berth_err_sys (err, errno, "join %s namespace", ns_type_name (k));
      close (p->join_fd[k]);
      p->join_fd[k] = -1;
    }
  return 0;
}

/* The first of $PATH's directories that has `name`, executable. */
static bool
find_in_path (const char *name, char *out, size_t size)
{
  const char *path = getenv ("PATH");

  for (const char *p = path ? path : "/usr/bin:/bin"; *p;)
    {
      size_t n = strcspn (p, ":");
      if (n && (size_t) snprintf (out, size, "%.*s/%s", (int) n, p, name) < size
          && access (out, X_OK) == 0)
        return true;
      p += n + (p[n] == ':');
    }
  return false;
}

/* newuidmap / newgidmap (shadow's uidmap package, setuid root): they write
   the ranges /etc/subuid and /etc/subgid grant the caller.  Their
   complaint, one line, is the error. */
static int
run_map_tool (const char *tool, pid_t pid, const char *file, const char *buf,
              struct berth_error *err)
{
  char exe[4096], out[512] = "", *argv[3 + 3 * 340 + 1], pidstr[16], copy[4096];
  int pipefd[2], status;
  size_t argc = 0, got = 0;
  ssize_t r;
  pid_t child;

  if (!find_in_path (tool, exe, sizeof exe))
    return berth_err (err, BERTH_E_UNSUPPORTED,
                      "%s: writing it is not permitted to this user, and %s (package uidmap) "
                      "is not in $PATH to write it from /etc/sub%cid",
                      file, tool, file[0]);
  snprintf (pidstr, sizeof pidstr, "%d", (int) pid);
  snprintf (copy, sizeof copy, "%s", buf);
  argv[argc++] = (char *) tool;
  argv[argc++] = pidstr;
  for (char *save = NULL, *t = strtok_r (copy, " \n", &save);
       t && argc < sizeof argv / sizeof argv[0] - 1; t = strtok_r (NULL, " \n", &save))
    argv[argc++] = t;
  argv[argc] = NULL;
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return berth_err_sys (err, errno, "pipe for %s", tool);
  child = fork ();
  if (child < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      return berth_err_sys (err, errno, "fork for %s", tool);
    }
  if (child == 0)
    {
      dup2 (pipefd[1], STDOUT_FILENO);
      dup2 (pipefd[1], STDERR_FILENO);
      execv (exe, argv);
      _exit (127);
    }
  close (pipefd[1]);
  while ((r = read (pipefd[0], out + got, sizeof out - 1 - got)) > 0
         || (r < 0 && errno == EINTR))
    got += r > 0 ? (size_t) r : 0;
  close (pipefd[0]);
  out[got] = '\0';
  out[strcspn (out, "\n")] = '\0';
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      return berth_err_sys (err, errno, "wait for %s", tool);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  return berth_err (err, BERTH_E_VALUE, "%s refused the mapping: %s", tool,
                    out[0] ? out : "(it said nothing)");
}

/* Whether this process holds `cap` (effective) in its user namespace. */
static bool
have_cap (int cap)
{
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2] = { { 0 } };

  if (syscall (SYS_capget, &h, d) < 0)
    return false;
  return d[cap / 32].effective & (1U << (cap % 32));
}

/* One of the two maps.  Written directly when the kernel lets this
   process: root, or (rootless) its own id alone, for which a gid map
   first needs setgroups "deny" without CAP_SETGID.  Anything else, for a
   user other than root, goes through newuidmap/newgidmap, as runc does. */
static int
write_map (pid_t pid, bool gid, const struct oci_id_mapping *m, size_t n,
           struct berth_error *err)
{
  const char *file = gid ? "gid_map" : "uid_map";
  char buf[4096];
  size_t used;
  int e;

  if (id_map_format (file, m, n, buf, sizeof buf, &used, err) < 0)
    return -1;
  if (used == 0)
    return 0;
  if (gid && n == 1 && m[0].size == 1 && m[0].host_id == getegid () && !have_cap (CAP_SETGID)
      && id_map_write_file (pid, "setgroups", "deny", 4, err) != 0)
    return -1;
  e = id_map_write_file (pid, file, buf, used, err);
  if (e == 0 || geteuid () == 0 || (e != EPERM && e != EACCES))
    return e ? -1 : 0;
  *err = (struct berth_error){ 0 };
  return run_map_tool (gid ? "newgidmap" : "newuidmap", pid, file, buf, err);
}

bool
ns_setgroups_denied (void)
{
  char buf[16] = "";
  cleanup_close int fd = open ("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

  return fd >= 0 && read (fd, buf, sizeof buf - 1) > 0 && strncmp (buf, "deny", 4) == 0;
}

int
ns_write_id_maps (pid_t pid, const struct oci_linux *l, struct berth_error *err)
{
  if (write_map (pid, false, l->uid_mappings, l->uid_mappings_len, err) < 0)
    {
      snprintf (err->path, sizeof err->path, ".linux.uidMappings");
      return -1;
    }
  if (write_map (pid, true, l->gid_mappings, l->gid_mappings_len, err) < 0)
    {
      snprintf (err->path, sizeof err->path, ".linux.gidMappings");
      return -1;
    }
  return 0;
}

int
ns_write_time_offsets (const struct oci_linux *l, struct berth_error *err)
{
  char buf[256];
  size_t used = 0;

  for (size_t i = 0; i < l->time_offsets_len; i++)
    {
      const struct oci_time_offset *o = &l->time_offsets[i];
      int r = snprintf (buf + used, sizeof buf - used, "%s %lld %u\n", l->time_offsets_keys[i],
                        (long long) o->secs, o->nanosecs);
      if (r < 0 || (size_t) r >= sizeof buf - used)
        return berth_err_at (err, BERTH_E_LIMIT, ".linux.timeOffsets", "too many offsets");
      used += (size_t) r;
    }
  if (used && write_file_at (AT_FDCWD, "/proc/self/timens_offsets", buf, used, err) < 0)
    {
      snprintf (err->path, sizeof err->path, ".linux.timeOffsets");
      return -1;
    }
  return 0;
}

int
ns_check_mount_inherited (const struct oci_config *c, bool *inherits, struct berth_error *err)
{
  const struct oci_linux *l = c->linux;
  bool mount = false, new_user = false;

  for (size_t i = 0; l && i < l->namespaces_len; i++)
    {
      mount |= strcmp (l->namespaces[i].type, "mount") == 0;
      new_user |= strcmp (l->namespaces[i].type, "user") == 0 && l->namespaces[i].path == NULL;
    }
  *inherits = !mount;
  if (!mount && new_user)
    return berth_err_at (err, BERTH_E_UNSUPPORTED, ".linux.namespaces",
                         "a new user namespace needs a mount namespace of its own "
                         "(add {\"type\": \"mount\"})");
  return 0;
}
