/* berth — restore: a new container from a bundle and CRIU's images
   (checkpoint.h).  The container is made through create's steps
   (create_job.h) with CRIU in the place of the init's clone. */
#include "lifecycle/checkpoint.h"
#include "lifecycle/container_priv.h"
#include "lifecycle/create_job.h"
#include "lifecycle/criu_lib.h"
#include "base/log.h"
#include "base/safepath.h"
#include "base/utils.h"
#include "cleanup.h"
#include "fs/mountopts.h"
#include "fs/rootfs.h"
#include "init/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CRIU_ROOT "criu-root"

struct restore_job {
  struct create_job j;
  const struct restore_options *o;
  struct criu_lib lib;
  int image_fd, work_fd;
  const char *work_path;
  pid_t holder;  /* keeps the cgroup (a systemd unit) until the tree is in it */
  char root[PATH_MAX]; /* CRIU's root: the rootfs bound below the state directory */
  bool root_mounted;
  int ns_fds[2];
  struct created *out;
};

/* CRIU wants its root to be a mount point whose parent is not overmounted
   (runc's reason for the same bind mount). */
static int
mount_criu_root (struct restore_job *r, struct berth_error *err)
{
  char dir[64], real[PATH_MAX];
  ssize_t n;

  snprintf (dir, sizeof dir, "/proc/self/fd/%d", r->j.state.dir_fd);
  if ((n = readlink (dir, real, sizeof real - sizeof CRIU_ROOT - 2)) < 0)
    return berth_err_sys (err, errno, "the state directory's path");
  real[n] = '\0';
  if ((size_t) snprintf (r->root, sizeof r->root, "%s/" CRIU_ROOT, real) >= sizeof r->root)
    return berth_err (err, BERTH_E_VALUE, "the state directory's path is too long");
  if (mkdirat (r->j.state.dir_fd, CRIU_ROOT, 0755) < 0)
    return berth_err_sys (err, errno, "create %s", r->root);
  if (mount (r->j.rootfs, r->root, NULL, MS_BIND | MS_REC, NULL) < 0)
    return berth_err_sys (err, errno, "bind the rootfs %s to %s", r->j.rootfs, r->root);
  r->root_mounted = true;
  return 0;
}

static void
umount_criu_root (struct restore_job *r)
{
  if (r->root_mounted)
    umount2 (r->root, MNT_DETACH);
  r->root_mounted = false;
  unlinkat (r->j.state.dir_fd, CRIU_ROOT, AT_REMOVEDIR);
}

static bool
under_tmpfs (const struct oci_config *c, const char *dest)
{
  for (size_t i = 0; i < c->mounts_len; i++)
    {
      const struct oci_mount *m = &c->mounts[i];
      size_t n = m->destination ? strlen (m->destination) : 0;
      if (n && !mount_is_bind (m) && m->type && strcmp (m->type, "tmpfs") == 0
          && strncmp (dest, m->destination, n) == 0 && dest[n] == '/')
        return true;
    }
  return false;
}

/* The mount points CRIU mounts on, as create makes them; not those on a
   tmpfs, whose content CRIU restores itself. */
static int
make_mountpoints (struct restore_job *r, struct berth_error *err)
{
  const struct oci_config *c = r->j.config;
  cleanup_close int root = open (r->root, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (root < 0)
    return berth_err_sys (err, errno, "open %s", r->root);
  for (size_t i = 0; i < c->mounts_len; i++)
    {
      const struct oci_mount *m = &c->mounts[i];
      struct stat st;
      int fd = -1, rc;

      if (m->destination == NULL || under_tmpfs (c, m->destination))
        continue;
      if (mount_is_bind (m) && m->source && stat (m->source, &st) == 0 && !S_ISDIR (st.st_mode))
        rc = safepath_mkfile (root, m->destination, 0644, &fd, err);
      else
        rc = safepath_mkdir_p (root, m->destination, 0755, &fd, err);
      if (rc < 0)
        {
          berth_err_prefix (err, "restore: mount point %s: ", m->destination);
          return -1;
        }
      close (fd);
    }
  return 0;
}

/* Joined namespaces: net and pid handed to CRIU as runc's external keys,
   the others joined by CRIU itself. */
static int
namespaces (struct restore_job *r, struct berth_error *err)
{
  const struct oci_linux *l = r->j.config->linux;
  struct criu_lib *lib = &r->lib;
  int k = 0, rc;

  for (size_t i = 0; l && i < l->namespaces_len; i++)
    {
      const struct oci_namespace *ns = &l->namespaces[i];
      const char *key = criu_lib_ext_ns_key (ns->type);
      int t;

      if (ns->path == NULL || ns->path[0] == '\0')
        continue;
      if (key)
        {
          /* Inherited by CRIU's process: no O_CLOEXEC. */
          int fd = open (ns->path, O_RDONLY);
          if (fd < 0)
            return berth_err_sys (err, errno, "open the %s namespace %s", ns->type, ns->path);
          r->ns_fds[k++] = fd;
          if ((rc = lib->criu_local_add_inherit_fd (lib->opts, fd, key)) < 0)
            return berth_err_sys (err, -rc, "libcriu: inherit %s", key);
          continue;
        }
      if ((t = ns_from_type (ns->type)) < 0 || strcmp (ns->type, "cgroup") == 0)
        return berth_err (err, BERTH_E_UNSUPPORTED,
                          "restore cannot join a %s namespace by path (CRIU cannot)", ns->type);
      if ((rc = lib->criu_local_join_ns_add (lib->opts, ns_proc_name (t), ns->path, NULL)) < 0)
        return berth_err_sys (err, -rc, "libcriu: join the %s namespace %s", ns->type, ns->path);
    }
  return 0;
}

/* The cgroup the holder was put in, from /proc: CRIU places the restored
   tree below it in every hierarchy. */
static int
cgroup_roots (struct restore_job *r, struct berth_error *err)
{
  char path[64];
  cleanup_free char *text = NULL;
  size_t len;
  int rc;

  if (r->j.cg.n_dirs == 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/cgroup", (int) r->holder);
  if (read_file_at (AT_FDCWD, path, &text, &len, err) < 0)
    return -1;
  for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n"))
    {
      char *ctrl = strchr (line, ':'), *dir;
      if (ctrl == NULL || (dir = strchr (++ctrl, ':')) == NULL)
        continue;
      *dir++ = '\0';
      if ((rc = r->lib.criu_local_add_cg_root (r->lib.opts, ctrl[0] ? ctrl : NULL, dir)) < 0)
        return berth_err_sys (err, -rc, "libcriu: cgroup root %s", dir);
    }
  return 0;
}

/* The checkpointed init's stdio: each pipe is given the fd of ours with
   the same number (runc's descriptors.json). */
static int
inherit_stdio (struct restore_job *r, struct berth_error *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  int fd = 0, rc;

  if (read_file_at (r->image_fd, CRIU_DESCRIPTORS, &text, &len, err) < 0)
    return -1;
  for (char *p = text; (p = strchr (p, '"')) != NULL && fd < 3; fd++)
    {
      char *end = strchr (++p, '"');
      if (end == NULL)
        break;
      *end = '\0';
      if (strncmp (p, "pipe:", 5) == 0
          && (rc = r->lib.criu_local_add_inherit_fd (r->lib.opts, fd, p)) < 0)
        return berth_err_sys (err, -rc, "libcriu: inherit %s", p);
      p = end + 1;
    }
  return 0;
}

/* libcriu delivers the terminal's new master only to a caller that takes
   notifications; it keeps the fd for criu_get_orphan_pts_master_fd. */
static int
notified (char *action, criu_notify_arg_t na)
{
  (void) action, (void) na;
  return 0;
}

static int
hold_cgroup (struct restore_job *r, struct berth_error *err)
{
  r->holder = fork ();
  if (r->holder < 0)
    return berth_err_sys (err, errno, "fork");
  if (r->holder == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      for (;;)
        pause ();
    }
  return create_enter_cgroup (&r->j, r->holder, err);
}

static void
release_holder (struct restore_job *r)
{
  if (r->holder > 0)
    {
      kill (r->holder, SIGKILL);
      waitpid (r->holder, NULL, 0);
    }
  r->holder = 0;
}

static int
run_criu_restore (struct restore_job *r, struct berth_error *err)
{
  const struct restore_options *o = r->o;
  struct criu_lib *lib = &r->lib;
  int rc;

  if (mount_criu_root (r, err) < 0 || make_mountpoints (r, err) < 0
      || criu_lib_common (lib, &o->criu, r->image_fd, r->work_fd, CRIU_RESTORE_LOG, r->root, err)
             < 0
      || criu_lib_ext_mounts (lib, r->j.config, 0, err) < 0 || namespaces (r, err) < 0
      || cgroup_roots (r, err) < 0 || inherit_stdio (r, err) < 0)
    return -1;
  lib->criu_local_set_evasive_devices (lib->opts, true);
  lib->criu_local_set_notify_cb (lib->opts, notified);
  if (o->lsm_profile && (rc = lib->criu_local_set_lsm_profile (lib->opts, o->lsm_profile)) < 0)
    return berth_err_sys (err, -rc, "libcriu: --lsm-profile %s", o->lsm_profile);
  if (o->lsm_mount_context
      && (rc = lib->criu_local_set_lsm_mount_context (lib->opts, o->lsm_mount_context)) < 0)
    return berth_err_sys (err, -rc, "libcriu: --lsm-mount-context %s", o->lsm_mount_context);
  rc = lib->criu_local_restore_child (lib->opts);
  umount_criu_root (r);
  if (rc <= 0)
    return criu_lib_failed (rc ? rc : -ECHILD, "restore", r->work_fd, CRIU_RESTORE_LOG,
                            r->work_path, err);
  r->j.init_pid = rc;
  r->j.child_pidfd = (int) syscall (SYS_pidfd_open, rc, 0);
  return 0;
}

/* The terminal's master, when the tree had one. */
static int
hand_console (struct restore_job *r, struct berth_error *err)
{
  int fd = r->lib.criu_get_orphan_pts_master_fd ();

  if (fd < 0 || fcntl (fd, F_GETFD) < 0)
    return 0;
  if (r->o->create.console_socket && terminal_send_fd (r->o->create.console_socket, fd, err) < 0)
    return -1;
  if (r->o->create.keep_console)
    r->out->console = fd;
  else
    close (fd);
  return 0;
}

static int
restore_steps (struct restore_job *r, struct berth_error *err)
{
  struct create_job *j = &r->j;
  int rc;

  if (create_prepare_cgroup (j, err) < 0 || create_make_cgroup (j, err) < 0
      || hold_cgroup (r, err) < 0
      || oci_emit (&oci_type_config, j->config, NULL, &j->config_json, NULL, err) < 0
      || state_save_config (&j->state, j->config_json, err) < 0)
    return -1;
  rc = run_criu_restore (r, err);
  umount_criu_root (r);
  release_holder (r);
  if (rc < 0 || create_save_state (j, err) < 0 || hand_console (r, err) < 0)
    return -1;
  if (r->o->create.pid_file && write_pid_file (r->o->create.pid_file, j->init_pid, err) < 0)
    return -1;
  r->out->pid = j->init_pid;
  return 0;
}

static int
open_dirs (struct restore_job *r, char *image_path, struct berth_error *err)
{
  const struct criu_options *o = &r->o->criu;

  if (criu_lib_image_path (o->image_path, image_path, err) < 0)
    return -1;
  if ((r->image_fd = open (image_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return berth_err_sys (err, errno, "restore: the image directory %s", image_path);
  if (faccessat (r->image_fd, CRIU_DESCRIPTORS, F_OK, 0) < 0)
    return berth_err (err, BERTH_E_NOT_FOUND,
                      "restore: %s holds no checkpoint (no %s)", image_path, CRIU_DESCRIPTORS);
  r->work_fd = r->image_fd;
  r->work_path = image_path;
  return criu_lib_work_dir (o->work_path, &r->work_fd, &r->work_path, err);
}

int
container_restore (const struct berth_runtime *rt, const char *id, const struct restore_options *o,
                   struct created *out, struct berth_error *err)
{
  struct restore_job r = { .o = o, .image_fd = -1, .work_fd = -1, .ns_fds = { -1, -1 },
                           .out = out };
  struct create_job *j = &r.j;
  cleanup_config struct oci_config *config = NULL;
  char image_path[PATH_MAX];
  int rc = -1;

  *j = (struct create_job){ .rt = rt, .id = id, .o = &o->create, .child_pidfd = -1,
                            .console = -1, .state = { -1, -1, NULL },
                            .cgd = cgroup_driver_select_as (rt->systemd_cgroup, rt->rootless) };
  out->pid = 0;
  out->console = -1;
  for (int i = 0; i < NS_COUNT; i++)
    j->ns.join_fd[i] = -1;
  if (state_validate_id (id, err) < 0)
    return -1;
  if (create_load_config (o->create.bundle ? o->create.bundle : ".", j->bundle, &config, err) < 0
      || rootfs_resolve (config, j->bundle, j->rootfs, err) < 0 || ns_plan (config, &j->ns, err) < 0)
    {
      if (err->path[0])
        berth_err_set_source (err, "config.json");
      return -1;
    }
  j->config = config;
  /* CRIU's check, and the images, before anything is made. */
  if (criu_lib_open (rt->criu, &r.lib, err) == 0 && open_dirs (&r, image_path, err) == 0
      && state_open (rt->root, id, true, &j->state, err) == 0)
    {
      rc = restore_steps (&r, err);
      if (rc < 0)
        {
          umount_criu_root (&r);
          release_holder (&r);
          create_rollback (j);
        }
    }
  ns_plan_close (&j->ns);
  criu_lib_close (&r.lib);
  for (int i = 0; i < 2; i++)
    if (r.ns_fds[i] >= 0)
      close (r.ns_fds[i]);
  if (r.work_fd >= 0 && r.work_fd != r.image_fd)
    close (r.work_fd);
  if (r.image_fd >= 0)
    close (r.image_fd);
  if (rc == 0 && j->child_pidfd >= 0)
    close (j->child_pidfd);
  cgroup_free (&j->cg);
  state_close (&j->state);
  free (j->config_json);
  return rc;
}
