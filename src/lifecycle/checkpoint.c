/* berth — checkpoint: a running container's process tree dumped by CRIU
   into an image directory (checkpoint.h). */
#include "lifecycle/checkpoint.h"
#include "lifecycle/container.h"
#include "lifecycle/criu_lib.h"
#include "cgroup/cgroup.h"
#include "base/log.h"
#include "base/utils.h"
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
checkpoint_built_in (void)
{
  return true;
}

/* What the image directory held before the dump, so that a failed one
   removes exactly what it added. */
struct dir_before {
  bool made; /* the directory itself is ours */
  char **names;
  size_t n;
};

static void
dir_before_free (struct dir_before *b)
{
  for (size_t i = 0; i < b->n; i++)
    free (b->names[i]);
  free (b->names);
}

static int
dir_names (int fd, char ***names, size_t *n)
{
  DIR *d = fdopendir (dup (fd));
  struct dirent *de;

  *names = NULL;
  *n = 0;
  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    {
      char **v;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if ((v = realloc (*names, (*n + 1) * sizeof *v)) == NULL)
        break;
      *names = v;
      if ((v[*n] = strdup (de->d_name)) == NULL)
        break;
      (*n)++;
    }
  closedir (d);
  return 0;
}

static void
undo_images (int fd, const char *path, const struct dir_before *b)
{
  char **now;
  size_t n;

  if (dir_names (fd, &now, &n) == 0)
    for (size_t i = 0; i < n; i++)
      {
        bool old = false;
        for (size_t k = 0; k < b->n && !old; k++)
          old = strcmp (b->names[k], now[i]) == 0;
        if (!old)
          unlinkat (fd, now[i], 0);
        free (now[i]);
      }
  free (now);
  if (b->made)
    rmdir (path);
}

/* runc's: the init's stdio as /proc shows it, so restore can hand the new
   command's pipes to the same fds. */
static int
save_descriptors (int image_fd, pid_t pid, struct berth_error *err)
{
  char json[3 * (PATH_MAX + 4) + 8] = "[";
  size_t used = 1;

  for (int i = 0; i < 3; i++)
    {
      char link[64], target[PATH_MAX];
      ssize_t n;
      snprintf (link, sizeof link, "/proc/%d/fd/%d", (int) pid, i);
      n = readlink (link, target, sizeof target - 1);
      target[n < 0 ? 0 : n] = '\0';
      /* Paths from /proc: no quote or control character to escape in
         what CRIU keys on (pipe:[N], /dev/null, /dev/pts/N). */
      for (char *p = target; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char) *p < 0x20)
          *p = '?';
      used += (size_t) snprintf (json + used, sizeof json - used, "%s\"%s\"", i ? "," : "",
                                 target);
    }
  snprintf (json + used, sizeof json - used, "]");
  return write_file_atomic (image_fd, CRIU_DESCRIPTORS, json, strlen (json), 0600, err);
}

/* A net or pid namespace the container joined stays outside the images:
   restore puts the tree back into the one its config names. */
static int
external_namespaces (struct criu_lib *lib, const struct oci_config *c, struct berth_error *err)
{
  for (size_t i = 0; c->linux && i < c->linux->namespaces_len; i++)
    {
      const struct oci_namespace *ns = &c->linux->namespaces[i];
      const char *key = criu_lib_ext_ns_key (ns->type);
      char ext[128];
      struct stat st;
      int r;

      if (key == NULL || ns->path == NULL || ns->path[0] == '\0')
        continue;
      if (stat (ns->path, &st) < 0)
        return berth_err_sys (err, errno, "stat the %s namespace %s", ns->type, ns->path);
      snprintf (ext, sizeof ext, "%s[%lu]:%s", strcmp (ns->type, "network") == 0 ? "net" : "pid",
                (unsigned long) st.st_ino, key);
      if ((r = lib->criu_local_add_external (lib->opts, ext)) < 0)
        return berth_err_sys (err, -r, "libcriu: external namespace %s", ext);
    }
  return 0;
}

static int
page_server (struct criu_lib *lib, const char *spec, struct berth_error *err)
{
  cleanup_free char *addr = strdup (spec);
  char *colon = addr ? strrchr (addr, ':') : NULL;
  char *end;
  long port;
  int r;

  if (colon == NULL || colon == addr || colon[1] == '\0')
    return berth_err (err, BERTH_E_USAGE, "use --page-server ADDRESS:PORT to specify page server");
  *colon = '\0';
  port = strtol (colon + 1, &end, 10);
  if (*end || port <= 0 || port > 65535)
    return berth_err (err, BERTH_E_USAGE, "invalid port number in --page-server %s", spec);
  if (addr[0] == '[' && colon[-1] == ']')
    {
      colon[-1] = '\0';
      memmove (addr, addr + 1, strlen (addr));
    }
  if ((r = lib->criu_local_set_page_server_address_port (lib->opts, addr, (int) port)) < 0)
    return berth_err_sys (err, -r, "libcriu: page server %s", spec);
  return 0;
}

struct dump {
  struct container c;
  struct oci_config *config;
  struct criu_lib lib;
  char image_path[PATH_MAX];
  int image_fd, work_fd;
  const char *work_path;
  struct dir_before before;
};

static int
open_images (struct dump *d, const struct checkpoint_options *o, struct berth_error *err)
{
  const char *p = o->criu.image_path;
  struct stat st;

  if (criu_lib_image_path (p, d->image_path, err) < 0)
    return -1;
  if (mkdir (d->image_path, 0700) == 0)
    d->before.made = true;
  else if (errno != EEXIST)
    return berth_err_sys (err, errno, "create the image directory %s", d->image_path);
  d->image_fd = open (d->image_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d->image_fd < 0)
    {
      berth_err_sys (err, errno, "open the image directory %s", d->image_path);
      if (d->before.made)
        rmdir (d->image_path);
      d->before.made = false;
      return -1;
    }
  dir_names (d->image_fd, &d->before.names, &d->before.n);
  if (o->parent_path
      && (fstatat (d->image_fd, o->parent_path, &st, 0) < 0 || !S_ISDIR (st.st_mode)))
    return berth_err_sys (err, errno ? errno : ENOTDIR, "invalid --parent-path: %s/%s",
                          d->image_path, o->parent_path);
  d->work_path = d->image_path;
  d->work_fd = d->image_fd;
  return criu_lib_work_dir (o->criu.work_path, &d->work_fd, &d->work_path, err);
}

/* The dump itself, once CRIU is loaded and checked and the directories
   are open. */
static int
dump (struct dump *d, const struct checkpoint_options *o, struct berth_error *err)
{
  struct criu_lib *lib = &d->lib;
  pid_t pid = d->c.saved->pid;
  const char *freezer;
  int r;

  if (criu_lib_common (lib, &o->criu, d->image_fd, d->work_fd, CRIU_DUMP_LOG, d->c.saved->rootfs,
                       err) < 0)
    return -1;
  lib->criu_local_set_pid (lib->opts, pid);
  lib->criu_local_set_leave_running (lib->opts, o->leave_running);
  if (o->parent_path)
    {
      if ((r = lib->criu_local_set_parent_images (lib->opts, o->parent_path)) < 0)
        return berth_err_sys (err, -r, "libcriu: --parent-path");
      lib->criu_local_set_track_mem (lib->opts, true);
    }
  if (o->pre_dump)
    lib->criu_local_set_track_mem (lib->opts, true);
  if (o->page_server && page_server (lib, o->page_server, err) < 0)
    return -1;
  if (external_namespaces (lib, d->config, err) < 0)
    return -1;
  /* CRIU freezes the tree through the cgroup's freezer (v2: cgroup.freeze)
     rather than with ptrace, one task at a time. */
  freezer = cgroup_dir (&d->c.cgroup, d->c.cgroup.mode == BERTH_CGROUP_V2 ? "" : "freezer");
  if (freezer && !d->c.saved->no_cgroup
      && (r = lib->criu_local_set_freeze_cgroup (lib->opts, freezer)) < 0)
    return berth_err_sys (err, -r, "libcriu: freeze cgroup %s", freezer);
  if (!o->pre_dump)
    {
      if (criu_lib_ext_mounts (lib, d->config, pid, err) < 0
          || save_descriptors (d->image_fd, pid, err) < 0)
        return -1;
      r = lib->criu_local_dump (lib->opts);
    }
  else
    r = lib->criu_local_pre_dump (lib->opts);
  if (r < 0)
    /* In the image directory the log goes with the images; its last error
       is the message. */
    return criu_lib_failed (r, o->pre_dump ? "pre-dump" : "dump", d->work_fd, CRIU_DUMP_LOG,
                            d->work_fd == d->image_fd ? NULL : d->work_path, err);
  return 0;
}

static int
check_options (const struct checkpoint_options *o, struct berth_error *err)
{
  if (o->parent_path && o->parent_path[0] == '/')
    return berth_err (err, BERTH_E_USAGE, "--parent-path must be relative");
  /* libcriu 3.17 has no call for lazy pages (CRIU's RPC does). */
  if (o->criu.lazy_pages)
    return berth_err (err, BERTH_E_UNSUPPORTED,
                      "--lazy-pages is not supported: libcriu has no call for it");
  return 0;
}

int
container_checkpoint (const struct berth_runtime *rt, const char *id,
                      const struct checkpoint_options *o, struct berth_error *err)
{
  struct dump d = { .image_fd = -1, .work_fd = -1 };
  bool destroy = !(o->leave_running || o->pre_dump);
  int r = -1;

  if (check_options (o, err) < 0 || container_open (rt, id, &d.c, err) < 0)
    return -1;
  if (strcmp (d.c.status, "running") != 0 && strcmp (d.c.status, "paused") != 0)
    berth_err (err, BERTH_E_STATE, "container cannot be checkpointed in %s state", d.c.status);
  else if (container_config (&d.c, &d.config, err) == 0 && criu_lib_open (rt->criu, &d.lib, err) == 0)
    {
      if (open_images (&d, o, err) == 0 && dump (&d, o, err) == 0)
        r = 0;
      else if (d.image_fd >= 0)
        undo_images (d.image_fd, d.image_path, &d.before);
      else if (d.before.made)
        rmdir (d.image_path);
    }
  criu_lib_close (&d.lib);
  if (d.work_fd >= 0 && d.work_fd != d.image_fd)
    close (d.work_fd);
  if (d.image_fd >= 0)
    close (d.image_fd);
  dir_before_free (&d.before);
  if (d.config)
    oci_config_free (d.config);
  container_close (&d.c);
  /* CRIU killed the tree; the rest goes as delete --force takes it. */
  if (r == 0 && destroy)
    return container_delete (rt, id, true, err);
  return r;
}
