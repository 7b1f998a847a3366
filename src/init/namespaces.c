#include "init/namespaces.h"
#include "cleanup.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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

static int
write_map (pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
           struct berth_error *err)
{
  char path[64], buf[4096];
  size_t used = 0;
  cleanup_close int fd = -1;

  for (size_t i = 0; i < n; i++)
    {
      int r = snprintf (buf + used, sizeof buf - used, "%u %u %u\n", m[i].container_id,
                        m[i].host_id, m[i].size);
      if (r < 0 || (size_t) r >= sizeof buf - used)
        return berth_err (err, BERTH_E_LIMIT, "too many ID mappings for %s", file);
      used += (size_t) r;
    }
  if (used == 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return berth_err_sys (err, errno, "open %s", path);
  if (write (fd, buf, used) != (ssize_t) used)
    return berth_err_sys (err, errno, "write %s (\"%.*s\")", path, (int) strcspn (buf, "\n"), buf);
  return 0;
}

int
ns_write_id_maps (pid_t pid, const struct oci_linux *l, struct berth_error *err)
{
  if (write_map (pid, "uid_map", l->uid_mappings, l->uid_mappings_len, err) < 0)
    {
      snprintf (err->path, sizeof err->path, ".linux.uidMappings");
      return -1;
    }
  if (write_map (pid, "gid_map", l->gid_mappings, l->gid_mappings_len, err) < 0)
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
