#include "lifecycle/container.h"
#include "security/seccomp.h"
#include "cgroup/cgroup.h"
#include "cleanup.h"
#include "init/hooks.h"
#include "fs/hostmounts.h"
#include "init/mempolicy.h"
#include "init/init.h"
#include "base/log.h"
#include "init/namespaces.h"
#include "init/netdev.h"
#include "lifecycle/notify.h"
#include "init/process.h"
#include "cgroup/resources.h"
#include "fs/rootfs.h"
#include "spec.h"
#include "lifecycle/state.h"
#include "security/sealed_exe.h"
#include "cgroup/systemd_cgroup.h"
#include "base/sync.h"
#include "init/terminal.h"
#include "base/utils.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

OCI_DEFINE_TYPE (runc_state)

#define EXEC_FIFO "exec.fifo"

static int record_cgroups (const struct state_handle *h, const struct berth_cgroup *cg,
                           struct berth_error *err);
static void thaw_if_frozen (const struct oci_berth_state *s);

static int
pidfd_signal (int pidfd, int sig)
{
  return (int) syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* ---- create ------------------------------------------------------------ */

static int
load_bundle_config (const char *bundle, char *bundle_abs, struct oci_config **out,
                    struct berth_error *err)
{
  cleanup_close int dirfd = -1;
  cleanup_close int fd = -1;
  void *obj = NULL;

  if (realpath (bundle, bundle_abs) == NULL)
    return berth_err_sys (err, errno, "bundle %s", bundle);
  dirfd = open (bundle_abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return berth_err_sys (err, errno, "bundle %s", bundle_abs);
  fd = openat (dirfd, "config.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT)
    return berth_err (err, BERTH_E_NOT_FOUND, "config.json not found in bundle %s", bundle_abs);
  if (fd < 0 && errno == ELOOP)
    return berth_err (err, BERTH_E_VALUE,
                      "config.json in %s is a symbolic link; berth reads only a regular file",
                      bundle_abs);
  if (fd < 0)
    return berth_err_sys (err, errno, "open %s/config.json", bundle_abs);
  if (oci_parse_fd (&oci_type_config, fd, "config.json", &obj, err) < 0)
    return -1;
  if (oci_config_validate (obj, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      oci_config_free (obj);
      return -1;
    }
  *out = obj;
  return 0;
}

static int
check_config_for_create (const struct oci_config *c, const struct create_options *o,
                         struct berth_error *err)
{
  const struct oci_linux *l = c->linux;

  /* Without one the mount namespace is inherited (config-linux.md): the
     mounts go into the runtime's, recorded and removed at delete. */
  if (ns_check_mount_inherited (c, &(bool){ false }, err) < 0)
    return -1;
  if (c->process && c->process->terminal && o->console_socket == NULL && !o->keep_console)
    return berth_err_at (err, BERTH_E_VALUE, ".process.terminal",
                         "a terminal was requested but there is nobody to hand it to: "
                         "pass --console-socket, or use 'run' in the foreground");
  /* Properties berth cannot apply yet are refused rather than ignored
     (runtime.md: an unsupported property MUST be an error). */
  if (netdev_check (c, err) < 0)
    return -1;
  if (l && l->intel_rdt)
    return berth_err_at (err, BERTH_E_UNSUPPORTED, ".linux.intelRdt", "not supported by berth yet");
  /* Without a process the container can be created, not started
     (config.md: REQUIRED when start is called). */
  return c->process ? process_check (c->process, ".process", l, err) : 0;
}

static int
resolve_rootfs (const struct oci_config *c, const char *bundle_abs, char *rootfs,
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

struct create_job {
  const char *notify_socket; /* the caller's NOTIFY_SOCKET, relayed at start */
  const struct berth_runtime *rt;
  const char *id;
  const struct create_options *o;
  struct oci_config *config;
  char bundle[PATH_MAX];
  char rootfs[PATH_MAX];
  struct state_handle state;
  struct berth_cgroup cg;
  struct ns_plan ns;
  pid_t first_child;
  int child_pidfd;
  pid_t init_pid;
  int console;
  const struct berth_seccomp *seccomp;
  struct mempolicy_plan mempolicy;
  int *bind_sources; /* rootfs_open_bind_sources, until the init is cloned */
  /* Without a mount namespace: the host's mounts before the init, and the
     ones it made (hostmounts.h). */
  struct hostmounts_snapshot mounts_before;
  char **host_mounts;
  size_t host_mounts_len;
  char *config_json; /* for state.json; emitted before the init is cloned */
};

/* linux.netDevices, into the init's network namespace once it exists, and
   before the hooks (which may configure the network). */
static int
move_net_devices (struct create_job *j, pid_t init, struct berth_error *err)
{
  const struct oci_linux *l = j->config->linux;
  char path[64];
  cleanup_close int netns = -1;

  if (l == NULL || l->net_devices_len == 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int) init);
  if ((netns = open (path, O_RDONLY | O_CLOEXEC)) < 0)
    return berth_err_sys (err, errno, "open the network namespace of the container's init");
  if (netdev_move_all (l, netns, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      return -1;
    }
  return 0;
}

/* prestart (deprecated, still honoured) and createRuntime: in the runtime's
   namespaces, once the container's namespaces and mounts exist. */
static int
run_runtime_hooks (struct create_job *j, pid_t pid, struct berth_error *err)
{
  const struct oci_hooks *h = j->config->hooks;
  cleanup_free char *state = NULL;

  if (h == NULL || (h->prestart_len == 0 && h->create_runtime_len == 0))
    return 0;
  /* runtime.md: "creating" is step 2 of the lifecycle, "created" is after
     it, and these hooks are steps 3 and 4 (runc says "creating"; crun and
     runtime-tools' hooks_stdin say "created"). */
  if (hooks_state_json (j->config, j->id, pid, j->bundle, "created", &state, err) < 0)
    return -1;
  if (hooks_run (h->prestart, h->prestart_len, "prestart", state, NULL, err) < 0
      || hooks_run (h->create_runtime, h->create_runtime_len, "createRuntime", state, NULL, err)
             < 0)
    return -1;
  return 0;
}

/* runtime-spec: the listener gets the containerProcessState and the fd. */
static int
send_seccomp_listener (struct create_job *j, pid_t pid, int fd, struct berth_error *err)
{
  const struct oci_seccomp *s = j->config->linux->seccomp;
  cleanup_free char *state = NULL, *msg = NULL;

  if (hooks_state_json (j->config, j->id, pid, j->bundle, "creating", &state, err) < 0
      || seccomp_listener_message (s, pid, state, &msg, err) < 0
      || seccomp_send_listener (s->listener_path, fd, msg, err) < 0)
    {
      if (err->path[0])
        berth_err_set_source (err, "config.json");
      return -1;
    }
  return 0;
}

static int save_created_state (struct create_job *j, struct berth_error *err);

/* Put the init, still waiting for its go-ahead, in the container's cgroup.
   With the systemd driver the cgroup is made only now, by systemd, as a
   unit that holds the init from the start; linux.resources go in before the
   init runs anything of the container's. */
static int
enter_cgroup (struct create_job *j, pid_t child, struct berth_error *err)
{
  const struct oci_linux *l = j->config->linux;
  const struct oci_resources *res = l ? l->resources : NULL;

  if (!j->rt->systemd_cgroup)
    return cgroup_enter (&j->cg, child, err);
  if (systemd_cgroup_create (l ? l->cgroups_path : NULL, j->id, child, res, &j->cg, err) < 0
      || record_cgroups (&j->state, &j->cg, err) < 0)
    return -1;
  TEST_STOP_AT ("create:cgroup");
  if (cgroup_apply_resources (&j->cg, res, false, err) < 0)
    {
      if (err->path[0])
        berth_err_set_source (err, "config.json");
      return -1;
    }
  return 0;
}

static int
spawn_init (struct create_job *j, struct berth_error *err)
{
  int sv[2];
  bool staged = (j->ns.new_flags & (CLONE_NEWUSER | 0x80 /* CLONE_NEWTIME */)) || j->ns.in_user_ns;
  int flags = staged ? 0 : init_direct_clone_flags (&j->ns);
  cleanup_close int sock = -1;
  cleanup_close int fifo = -1, own_pidns = -1;
  pid_t child;

  /* A joined pid namespace is for the init only: ours is restored right
     after the clone, so that the hooks and any other child of ours (a
     sanitizer's helper thread at exit too) stay in the runtime's. */
  if (j->ns.join_fd[NS_PID] >= 0
      && ((own_pidns = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) < 0
          || setns (j->ns.join_fd[NS_PID], CLONE_NEWPID) < 0))
    return berth_err_sys (err, errno, "join pid namespace");
  /* The init gets the fifo itself, never a directory of ours (the flock
     lives on the state directory's description, and a directory fd would
     be a way out of the container's root). */
  fifo = openat (j->state.dir_fd, EXEC_FIFO, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fifo < 0)
    return berth_err_sys (err, errno, "open exec fifo");
  if (sync_pair (sv, err) < 0)
    return -1;
  sock = sv[0];
  child = (pid_t) syscall (SYS_clone, (unsigned long) flags | SIGCHLD, NULL, NULL, NULL, 0);
  if (child != 0 && own_pidns >= 0 && setns (own_pidns, CLONE_NEWPID) < 0)
    berth_warn ("could not return to the runtime's pid namespace: %s", strerror (errno));
  if (child < 0)
    {
      close (sv[1]);
      return berth_err_sys (err, errno, "clone the container's init (namespaces 0x%x)", flags);
    }
  if (child == 0)
    {
      struct init_ctx ctx = {
        .config = j->config,
        .id = j->id,
        .rootfs = j->rootfs,
        .sync_fd = sv[1],
        .exec_fifo_fd = fifo,
        .ns = &j->ns,
        .staged = staged,
        .preserve_fds = j->o->preserve_fds,
        .no_pivot = j->o->no_pivot,
        .no_new_keyring = j->o->no_new_keyring,
        .bundle = j->bundle,
        .seccomp = j->seccomp,
        .mempolicy = &j->mempolicy,
        .bind_sources = j->bind_sources,
        .cgroup = &j->cg,
      };
      close (sv[0]);
      close (j->state.dir_fd);
      init_run (&ctx);
    }
  close (sv[1]);
  j->first_child = child;
  TEST_STOP_AT ("create:cloned");
  j->child_pidfd = (int) syscall (SYS_pidfd_open, child, 0);

  if (enter_cgroup (j, child, err) < 0)
    return -1;
  if (sync_send (sock, SYNC_GO, NULL, -1) < 0)
    return berth_err_sys (err, errno, "start the container's init");
  if (staged && (j->ns.new_flags & CLONE_NEWUSER))
    {
      if (sync_expect (sock, SYNC_NEED_MAPS, NULL, NULL, err) < 0)
        return -1;
      if (ns_write_id_maps (child, j->config->linux, err) < 0)
        {
          berth_err_set_source (err, "config.json");
          return -1;
        }
      if (sync_send (sock, SYNC_GO, NULL, -1) < 0)
        return berth_err_sys (err, errno, "start the container's init");
    }
  for (;;)
    {
      struct sync_msg m;
      int fd = -1;
      pid_t sender = 0;

      if (sync_recv (sock, &m, &fd, &sender, err) < 0)
        return -1;
      if (m.kind == SYNC_ERROR)
        {
          *err = m.err;
          if (err->path[0] && err->source[0] == '\0')
            berth_err_set_source (err, "config.json");
          return -1;
        }
      if (m.kind == SYNC_CONSOLE)
        {
          int r = 0;
          if (j->o->console_socket)
            r = terminal_send_fd (j->o->console_socket, fd, err);
          if (j->o->keep_console && j->console < 0)
            j->console = fd;
          else
            close (fd);
          if (r < 0)
            return -1;
          continue;
        }
      if (m.kind == SYNC_HOOKS)
        {
          if (move_net_devices (j, sender, err) < 0 || run_runtime_hooks (j, sender, err) < 0)
            return -1;
          if (sync_send_value (sock, SYNC_GO, sender) < 0)
            return berth_err_sys (err, errno, "resume the container's init");
          continue;
        }
      if (m.kind == SYNC_SECCOMP)
        {
          int r = send_seccomp_listener (j, sender, fd, err);
          close (fd);
          if (r < 0)
            return -1;
          if (sync_send (sock, SYNC_GO, NULL, -1) < 0)
            return berth_err_sys (err, errno, "resume the container's init");
          continue;
        }
      if (m.kind == SYNC_READY)
        {
          j->init_pid = sender;
          TEST_STOP_AT ("create:ready");
          break;
        }
      return berth_err (err, BERTH_E_CHILD, "unexpected message %d from the container's init",
                        (int) m.kind);
    }
  if (staged)
    {
      /* The first child only forked the init; reap it. */
      waitpid (child, NULL, 0);
      close (j->child_pidfd);
      j->child_pidfd = (int) syscall (SYS_pidfd_open, j->init_pid, 0);
    }
  return 0;
}

static int
save_created_state (struct create_job *j, struct berth_error *err)
{
  struct oci_berth_state s = { 0 };
  char created[64];
  uint64_t start = 0;
  int r;

  /* Written once the init is ready.  Before that, a create killed half-way
     leaves no state.json, and 'delete --force' finds the cgroups in the
     write-once record (record_cgroups). */
  if (proc_stat (j->init_pid, &start, NULL) < 0)
    return berth_err (err, BERTH_E_CHILD, "the container's init (pid %d) exited during create",
                      (int) j->init_pid);
  rfc3339_now (created, sizeof created);
  OCI_SET (&s, id, (char *) j->id);
  OCI_SET (&s, pid, j->init_pid);
  OCI_SET (&s, pid_start, start);
  OCI_SET (&s, bundle, j->bundle);
  OCI_SET (&s, rootfs, j->rootfs);
  OCI_SET (&s, created, created);
  if (j->notify_socket)
    OCI_SET (&s, notify_socket, (char *) j->notify_socket);
  /* The config as the container was made from it: exec, update and delete's
     hooks need it after the bundle may be gone. */
  OCI_SET (&s, config, j->config_json);
  if (j->config->annotations_len)
    {
      s.annotations_keys = j->config->annotations_keys;
      s.annotations_len = j->config->annotations_len;
      OCI_SET (&s, annotations, j->config->annotations);
    }
  {
    char **cg = NULL;
    size_t n = 0;
    if (cgroup_to_strv (&j->cg, &cg, &n, err) < 0)
      return -1;
    s.cgroups_len = n;
    OCI_SET (&s, cgroups, cg);
    OCI_SET (&s, host_pid_ns, !(j->ns.new_flags & CLONE_NEWPID) && j->ns.join_fd[NS_PID] < 0);
    OCI_SET (&s, joined_pid_ns, j->ns.join_fd[NS_PID] >= 0);
    if (j->config->process == NULL)
      OCI_SET (&s, no_process, true);
    if (j->host_mounts_len)
      {
        s.host_mounts_len = j->host_mounts_len;
        OCI_SET (&s, host_mounts, j->host_mounts);
      }
    r = state_save (&j->state, &s, err);
    for (size_t i = 0; i < n; i++)
      free (cg[i]);
    free (cg);
  }
  return r;
}

static int
prepare_notify (struct create_job *j, struct berth_error *err)
{
  char root[PATH_MAX], dir[PATH_MAX + 300];
  struct stat st;

  /* Checked now: found out only at start, a bad socket would leave a
     started container behind a failed command. */
  if (j->notify_socket[0] != '@'
      && (stat (j->notify_socket, &st) < 0 || !S_ISSOCK (st.st_mode)))
    return berth_err (err, BERTH_E_VALUE, "NOTIFY_SOCKET %s is not a unix socket",
                      j->notify_socket);
  if (realpath (j->rt->root, root) == NULL)
    return berth_err_sys (err, errno, "state root %s", j->rt->root);
  snprintf (dir, sizeof dir, "%s/%s", root, j->id);
  return notify_prepare (j->config, j->state.dir_fd, dir, err);
}

static int
send_pidfd (const char *socket_path, const struct create_job *j, struct berth_error *err)
{
  cleanup_close int pidfd = (int) syscall (SYS_pidfd_open, j->init_pid, 0);

  if (pidfd < 0)
    return berth_err_sys (err, errno, "pidfd_open of the container's init");
  return unix_send_fd (socket_path, pidfd, "pidfd", "pidfd socket", err);
}

/* Without a mount namespace, the init mounts into the runtime's.  Before
   it runs, the ids of every mount already there are kept, and written down
   (with the rootfs) for a delete --force that finds no state.json after a
   crash; what is new below the rootfs afterwards is the container's. */
#define HOST_MOUNTS_RECORD "hostmounts"

static int
record_host_mounts_base (struct create_job *j, struct berth_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len = strlen (j->rootfs) + 2, off;

  if (hostmounts_snapshot (&j->mounts_before, err) < 0)
    return -1;
  len += j->mounts_before.n * 21;
  if ((buf = malloc (len)) == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  off = (size_t) sprintf (buf, "%s\n", j->rootfs);
  for (size_t i = 0; i < j->mounts_before.n; i++)
    off += (size_t) sprintf (buf + off, "%" PRIu64 "\n", j->mounts_before.ids[i]);
  return write_file_atomic (j->state.dir_fd, HOST_MOUNTS_RECORD, buf, off, 0600, err);
}

static void
unmount_new_host_mounts (const struct hostmounts_snapshot *before, const char *rootfs)
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
static void
remove_recorded_host_mounts (const struct state_handle *h)
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
    unmount_new_host_mounts (&before, rootfs);
  hostmounts_snapshot_free (&before);
}

static void
rollback_create (struct create_job *j)
{
  struct berth_error ignored = { 0 };

  if (j->child_pidfd >= 0)
    {
      pidfd_signal (j->child_pidfd, SIGKILL);
      close (j->child_pidfd);
      j->child_pidfd = -1;
    }
  if (j->first_child > 0)
    waitpid (j->first_child, NULL, 0);
  if (j->init_pid > 0 && j->init_pid != j->first_child)
    kill (j->init_pid, SIGKILL);
  if (j->rt->systemd_cgroup)
    systemd_cgroup_destroy (&j->cg, &ignored);
  else
    cgroup_destroy (&j->cg, true, &ignored);
  if (j->mounts_before.ids)
    unmount_new_host_mounts (&j->mounts_before, j->rootfs);
  if (j->state.dir_fd >= 0)
    state_remove (&j->state, &ignored);
  if (j->console >= 0)
    close (j->console);
  j->console = -1;
}

/* The steps of create after the state directory exists, in order; the
   caller rolls back whatever they did when one fails. */
static int
create_steps (struct create_job *j, struct berth_error *err)
{
  const struct oci_linux *l = j->config->linux;
  int r;

  TEST_STOP_AT ("create:state-dir");
  j->notify_socket = getenv ("NOTIFY_SOCKET");
  if (j->notify_socket && j->notify_socket[0] == '\0')
    j->notify_socket = NULL;
  /* 0622 whatever the umask: an init in a user namespace opens it as an
     unmapped "other". */
  if (mkfifoat (j->state.dir_fd, EXEC_FIFO, 0622) < 0
      || fchmodat (j->state.dir_fd, EXEC_FIFO, 0622, 0) < 0)
    return berth_err_sys (err, errno, "create exec fifo");
  if (j->notify_socket && prepare_notify (j, err) < 0)
    return -1;
  if (j->rt->systemd_cgroup)
    {
      /* Only a check of the path here: systemd makes the cgroup with the
         init in it (enter_cgroup). */
      cleanup_free char *unit = NULL, *slice = NULL;
      if (systemd_cgroup_names (l ? l->cgroups_path : NULL, j->id, &unit, &slice, err) < 0)
        {
          berth_err_set_source (err, "config.json");
          return -1;
        }
    }
  else
    {
      if (cgroup_resolve (l ? l->cgroups_path : NULL, j->id, &j->cg, err) < 0)
        {
          berth_err_set_source (err, err->path[0] ? "config.json" : "");
          return -1;
        }
      if (cgroup_create (&j->cg, err) < 0 || record_cgroups (&j->state, &j->cg, err) < 0
          || cgroup_check_unused (&j->cg, err) < 0)
        return -1;
      TEST_STOP_AT ("create:cgroup");
      if (cgroup_apply_resources (&j->cg, l ? l->resources : NULL, false, err) < 0)
        {
          if (err->path[0])
            berth_err_set_source (err, "config.json");
          return -1;
        }
    }
  /* Before the clone: the buffer is written here, not in pages the parent
     then shares copy-on-write with the init (every page either of them
     writes after the clone is copied, and with Podman's seccomp profile the
     config is 10 KB of JSON). */
  if (oci_emit (&oci_type_config, j->config, NULL, &j->config_json, NULL, err) < 0)
    return -1;
  /* For the same reason: the init loads the compiled filter and never reads
     the rules, Podman's 437 syscall names in as many allocations.  Freed
     now, neither process touches their pages again. */
  if (l && l->seccomp)
    seccomp_drop_rules (l->seccomp);
  /* In a user namespace of its own the init is no longer the host's root:
     the sources are taken now, as the host's root. */
  if ((j->ns.new_flags & CLONE_NEWUSER) && geteuid () == 0
      && rootfs_open_bind_sources (j->config, &j->bind_sources, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      return -1;
    }
  if (ns_host_mount (&j->ns))
    {
      /* Every mount made below the rootfs during create is taken for the
         container's: not the host's whole tree. */
      if (strcmp (j->rootfs, "/") == 0)
        {
          berth_err_at (err, BERTH_E_UNSUPPORTED, ".root.path",
                        "without a mount namespace of its own the root cannot be the host's /");
          berth_err_set_source (err, "config.json");
          return -1;
        }
      if (record_host_mounts_base (j, err) < 0)
        return -1;
    }
  r = spawn_init (j, err);
  /* The init has its copies; the runtime's go now. */
  rootfs_close_bind_sources (j->bind_sources, j->config->mounts_len);
  j->bind_sources = NULL;
  if (r == 0 && j->mounts_before.ids
      && hostmounts_new_within (&j->mounts_before, j->rootfs, &j->host_mounts,
                                &j->host_mounts_len, err) < 0)
    r = -1;
  if (r < 0 || save_created_state (j, err) < 0)
    return -1;
  if (j->o->pid_file && write_pid_file (j->o->pid_file, j->init_pid, err) < 0)
    return -1;
  if (j->o->pidfd_socket && send_pidfd (j->o->pidfd_socket, j, err) < 0)
    return -1;
  return 0;
}

int
container_create (const struct berth_runtime *rt, const char *id, const struct create_options *o,
                  struct created *out, struct berth_error *err)
{
  struct create_job j = { .rt = rt, .id = id, .o = o, .child_pidfd = -1, .console = -1,
                          .state = { -1, -1, NULL } };
  cleanup_config struct oci_config *config = NULL;
  cleanup_seccomp struct berth_seccomp *seccomp = NULL;
  int r = -1;

  for (int i = 0; i < NS_COUNT; i++)
    j.ns.join_fd[i] = -1;
  if (state_validate_id (id, err) < 0)
    return -1;
  if (load_bundle_config (o->bundle ? o->bundle : ".", j.bundle, &config, err) < 0
      || check_config_for_create (config, o, err) < 0
      || mempolicy_plan (config->linux ? config->linux->memory_policy : NULL, &j.mempolicy, err)
             < 0
      || resolve_rootfs (config, j.bundle, j.rootfs, err) < 0)
    {
      if (err->path[0])
        berth_err_set_source (err, "config.json");
      return -1;
    }
  j.config = config;
  if (rt->argv && sealed_exe_needed (config, NULL) && sealed_exe_reexec (rt->argv, NULL, err) < 0)
    return -1;
  if (config->linux && config->linux->seccomp)
    {
      struct seccomp_cache cache = { .root = rt->root, .berth_version = BERTH_VERSION };
      if (seccomp_compile (config->linux->seccomp, &cache, &seccomp, err) < 0)
        {
          berth_err_set_source (err, "config.json");
          return -1;
        }
      j.seccomp = seccomp;
    }
  if (ns_plan (config, &j.ns, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      return -1;
    }
  if (state_open (rt->root, id, true, &j.state, err) < 0)
    {
      ns_plan_close (&j.ns);
      return -1;
    }
  r = create_steps (&j, err);
  ns_plan_close (&j.ns);
  if (r < 0)
    rollback_create (&j);
  else
    {
      out->pid = j.init_pid;
      out->console = j.console;
      if (j.child_pidfd >= 0)
        close (j.child_pidfd);
    }
  cgroup_free (&j.cg);
  state_close (&j.state);
  free (j.config_json);
  hostmounts_snapshot_free (&j.mounts_before);
  for (size_t i = 0; i < j.host_mounts_len; i++)
    free (j.host_mounts[i]);
  free (j.host_mounts);
  return r;
}

/* ---- start, kill, delete ------------------------------------------------ */

/* The one way to load a container: lock, state, cgroup, status.  With
   cg NULL the cgroup is only consulted for the status. */
static int
open_container_state (const struct berth_runtime *rt, const char *id, struct state_handle *h,
                      struct oci_berth_state **s, struct berth_cgroup *cg, const char **status,
                      struct berth_error *err)
{
  struct berth_cgroup local = { 0 };
  struct berth_cgroup *g = cg ? cg : &local;
  bool frozen = false;

  if (state_open (rt->root, id, false, h, err) < 0 || state_load (h, s, err) < 0)
    return -1;
  if (cgroup_from_strv ((*s)->cgroups, (*s)->cgroups_len, g, err) == 0)
    frozen = cgroup_is_frozen (g);
  else if (cg)
    return -1;
  cgroup_free (&local);
  *status = state_status (h, *s, frozen);
  return 0;
}

static int
load_with_status (const struct berth_runtime *rt, const char *id, struct state_handle *h,
                  struct oci_berth_state **s, const char **status, struct berth_error *err)
{
  return open_container_state (rt, id, h, s, NULL, status, err);
}

int
container_open (const struct berth_runtime *rt, const char *id, struct container *c,
                struct berth_error *err)
{
  memset (c, 0, sizeof *c);
  c->state.root_fd = c->state.dir_fd = -1;
  if (open_container_state (rt, id, &c->state, &c->saved, &c->cgroup, &c->status, err) < 0)
    {
      container_close (c);
      return -1;
    }
  return 0;
}

void
container_close (struct container *c)
{
  cgroup_free (&c->cgroup);
  state_free (c->saved);
  c->saved = NULL;
  state_close (&c->state);
}

int
container_config (const struct container *c, struct oci_config **out, struct berth_error *err)
{
  if (c->saved->config == NULL)
    return berth_err (err, BERTH_E_STATE, "the state of container %s has no config",
                      c->saved->id);
  return oci_config_parse_data (c->saved->config, strlen (c->saved->config), out, err);
}

/* After the go-ahead the init runs startContainer hooks, drops privileges
   and execs; the fifo closes at execve (O_CLOEXEC), and anything written to
   it first is the init's error. */
static int
wait_for_exec (int fifo, struct berth_error *err)
{
  char msg[1200];
  size_t used = 0;
  int flags = fcntl (fifo, F_GETFL);

  fcntl (fifo, F_SETFL, flags & ~O_NONBLOCK);
  for (;;)
    {
      ssize_t n = read (fifo, msg + used, sizeof msg - 1 - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      used += (size_t) n;
      if (used == sizeof msg - 1)
        break;
    }
  if (used == 0)
    return 0;
  msg[used] = '\0';
  return berth_err (err, BERTH_E_CHILD, "the container's process did not start: %s", msg);
}

static int
saved_config (const struct oci_berth_state *s, struct oci_config **out, struct berth_error *err)
{
  *out = NULL;
  if (s->config == NULL)
    return 0;
  return oci_config_parse_data (s->config, strlen (s->config), out, err);
}

/* poststart: a failure stops the container (runtime-spec 1.3.0). */
static int
run_poststart (const struct oci_berth_state *s, int pidfd, struct berth_error *err)
{
  cleanup_config struct oci_config *c = NULL;
  cleanup_free char *state = NULL;

  if (s->config == NULL || strstr (s->config, "\"poststart\"") == NULL)
    return 0;
  if (saved_config (s, &c, err) < 0)
    return -1;
  if (c->hooks == NULL || c->hooks->poststart_len == 0)
    return 0;
  if (hooks_state_json (c, s->id, s->pid, s->bundle, "running", &state, err) < 0)
    return -1;
  if (hooks_run (c->hooks->poststart, c->hooks->poststart_len, "poststart", state, NULL, err) < 0)
    {
      if (pidfd >= 0)
        pidfd_signal (pidfd, SIGKILL);
      berth_err_prefix (err, "container stopped: ");
      return -1;
    }
  return 0;
}

/* poststop: after the container is gone.  A failing hook is a warning and
   the rest still run (runtime.md, lifecycle step 13). */
static void
run_poststop (const struct oci_berth_state *s)
{
  cleanup_config struct oci_config *c = NULL;
  cleanup_free char *state = NULL;
  struct berth_error err = { 0 };
  char line[1200];

  if (s->config == NULL || strstr (s->config, "\"poststop\"") == NULL)
    return;
  if (saved_config (s, &c, &err) < 0 || c->hooks == NULL || c->hooks->poststop_len == 0)
    return;
  if (hooks_state_json (c, s->id, 0, s->bundle, "stopped", &state, &err) < 0)
    {
      berth_warn ("%s", berth_err_format (&err, line, sizeof line));
      return;
    }
  for (size_t i = 0; i < c->hooks->poststop_len; i++)
    if (hooks_run_one (c->hooks->poststop, i, "poststop", state, NULL, &err) < 0)
      {
        berth_warn ("%s", berth_err_format (&err, line, sizeof line));
        err = (struct berth_error){ 0 };
      }
}

int
container_start (const struct berth_runtime *rt, const char *id, struct berth_error *err)
{
  cleanup_state_handle struct state_handle h = { -1, -1, NULL };
  cleanup_state struct oci_berth_state *s = NULL;
  cleanup_close int fifo = -1;
  cleanup_close int pidfd = -1;
  cleanup_close int notify = -1;
  const char *status;
  char byte;

  if (load_with_status (rt, id, &h, &s, &status, err) < 0)
    return -1;
  if (strcmp (status, "stopped") == 0)
    return berth_err (err, BERTH_E_STATE, "cannot start a container that has stopped");
  if (strcmp (status, "created") != 0)
    return berth_err (err, BERTH_E_STATE, "cannot start an already %s container", status);
  if (s->no_process)
    {
      berth_err_at (err, BERTH_E_MISSING, ".process",
                    "cannot start a container without a process (config.md: process is "
                    "required when start is called); remove it with delete --force");
      berth_err_set_source (err, "config.json");
      return -1;
    }
  pidfd = pidfd_for (s->pid, s->pid_start);
  if (s->notify_socket && notify_listen (h.dir_fd, &notify, err) < 0)
    return -1;
  fifo = openat (h.dir_fd, EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0)
    return berth_err_sys (err, errno, "open exec fifo");
  for (;;)
    {
      struct pollfd fds[2] = { { fifo, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return berth_err_sys (err, errno, "wait for the container's init");
        }
      if (fds[0].revents & POLLIN)
        break;
      if (fds[1].revents || (fds[0].revents & POLLHUP))
        return berth_err (err, BERTH_E_STATE, "cannot start a container that has stopped");
    }
  if (read (fifo, &byte, 1) != 1)
    return berth_err_sys (err, errno, "read exec fifo");
  unlinkat (h.dir_fd, EXEC_FIFO, 0);
  if (wait_for_exec (fifo, err) < 0)
    return -1;
  if (notify >= 0 && notify_relay_ready (notify, s->notify_socket, s->pid, pidfd, err) < 0)
    return -1;
  return run_poststart (s, pidfd, err);
}

/* Every process of the cgroup, as runc's kill --all; a cgroup that is gone
   has none. */
static int
signal_all (const struct oci_berth_state *s, int sig, struct berth_error *err)
{
  struct berth_cgroup cg = { 0 };
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  int r;

  if (cgroup_from_strv (s->cgroups, s->cgroups_len, &cg, err) < 0)
    return -1;
  r = cgroup_pids (&cg, &pids, &n, err);
  cgroup_free (&cg);
  if (r < 0)
    return err->errnum == ENOENT ? 0 : -1;
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return berth_err_sys (err, errno, "signal process %d", (int) pids[i]);
  return 0;
}

int
container_kill (const struct berth_runtime *rt, const char *id, int sig, bool all,
                struct berth_error *err)
{
  cleanup_state_handle struct state_handle h = { -1, -1, NULL };
  cleanup_state struct oci_berth_state *s = NULL;
  cleanup_close int pidfd = -1;
  const char *status;

  if (load_with_status (rt, id, &h, &s, &status, err) < 0)
    return -1;
  /* runc signals what is left in the cgroup even once the init is gone:
     the children of an init that shared a pid namespace outlive it, and
     engines (containerd's shim) send KILL --all to end them. */
  if (strcmp (status, "stopped") == 0 && !all)
    return berth_err (err, BERTH_E_STATE, "container not running");
  if (all)
    {
      int r = signal_all (s, sig, err);
      if (r == 0 && sig == SIGKILL)
        thaw_if_frozen (s);
      return r;
    }
  pidfd = pidfd_for (s->pid, s->pid_start);
  if (pidfd < 0)
    return berth_err (err, BERTH_E_STATE, "container not running");
  if (pidfd_signal (pidfd, sig) < 0)
    {
      if (errno == ESRCH)
        return berth_err (err, BERTH_E_STATE, "container not running");
      return berth_err_sys (err, errno, "unable to signal init");
    }
  return 0;
}

/* A paused container's v1 freezer holds its tasks, SIGKILL included,
   until thawed (runc thaws too). */
static void
thaw_if_frozen (const struct oci_berth_state *s)
{
  struct berth_cgroup cg = { 0 };
  struct berth_error ignored = { 0 };

  if (cgroup_from_strv (s->cgroups, s->cgroups_len, &cg, &ignored) < 0)
    return;
  if (cgroup_is_frozen (&cg))
    (void) cgroup_freeze (&cg, false, &ignored);
  cgroup_free (&cg);
}

/* Without a pid namespace of its own (the host's, or one it joined), a
   container's processes do not die with its init. */
static bool
shares_pid_ns (const struct oci_berth_state *s)
{
  return s->host_pid_ns || s->joined_pid_ns;
}

/* What the cgroup still holds, SIGKILLed until it is empty: 2 s at most,
   so that delete, with the cgroup's removal after it, stays well inside
   the 10 s containerd's shim allows. */
static int
kill_leftovers (const struct oci_berth_state *s, struct berth_error *err)
{
  struct berth_cgroup cg = { 0 };
  int r;

  if (cgroup_from_strv (s->cgroups, s->cgroups_len, &cg, err) < 0)
    return -1;
  r = cgroup_kill_all (&cg, 2000, err);
  cgroup_free (&cg);
  if (r < 0)
    berth_err_prefix (err, "container %s", s->id);
  return r;
}

/* SIGKILL the init (and, when it shares a pid namespace, every process of
   the cgroup, since they do not die with it) and wait for it. */
static int
kill_and_wait (const struct oci_berth_state *s, struct berth_error *err)
{
  cleanup_close int pidfd = pidfd_for (s->pid, s->pid_start);
  struct pollfd p;

  if (shares_pid_ns (s) && kill_leftovers (s, err) < 0)
    return -1;
  if (pidfd < 0)
    return 0;
  if (pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
    return berth_err_sys (err, errno, "kill the container's init");
  thaw_if_frozen (s);
  p.fd = pidfd;
  p.events = POLLIN;
  if (poll (&p, 1, 10000) == 0)
    return berth_err (err, BERTH_E_STATE, "the container's init (pid %d) did not die in 10s",
                      (int) s->pid);
  return 0;
}

/* A second record of the cgroup directories, written once at create and
   never rewritten, so that 'delete --force' can still find them when
   state.json is corrupt. */
#define CGROUP_RECORD "cgroups"

static int
record_cgroups (const struct state_handle *h, const struct berth_cgroup *cg,
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

static void
remove_recorded_cgroups (const struct state_handle *h)
{
  struct berth_error ignored = { 0 };
  cleanup_free char *buf = NULL;
  char *lines[64];
  size_t n = 0;
  char *save = NULL;
  struct berth_cgroup cg = { 0 };

  if (read_file_at (h->dir_fd, CGROUP_RECORD, &buf, NULL, &ignored) < 0)
    return;
  for (char *l = strtok_r (buf, "\n", &save); l && n < 64; l = strtok_r (NULL, "\n", &save))
    lines[n++] = l;
  if (cgroup_from_strv (lines, n, &cg, &ignored) < 0)
    return;
  (void) cgroup_kill_all (&cg, 2000, &ignored);
  systemd_cgroup_destroy (&cg, &ignored);
  cgroup_free (&cg);
}

int
container_delete (const struct berth_runtime *rt, const char *id, bool force,
                  struct berth_error *err)
{
  cleanup_state_handle struct state_handle h = { -1, -1, NULL };
  cleanup_state struct oci_berth_state *s = NULL;
  struct berth_cgroup cg = { 0 };
  const char *status;
  int r;

  if (load_with_status (rt, id, &h, &s, &status, err) < 0)
    {
      if (err->kind == BERTH_E_NOT_FOUND && force)
        return 0;
      if (force && h.dir_fd >= 0)
        {
          /* No usable state (an interrupted create, a corrupt file): remove
             what there is. */
          berth_warn ("container %s: %s; removing what it recorded", id, err->msg);
          remove_recorded_cgroups (&h);
          remove_recorded_host_mounts (&h);
          return state_remove (&h, err);
        }
      return -1;
    }
  /* runtime-spec: deleting a container that is not stopped MUST fail
     (runc also deletes "created" ones; engines pass --force for that). */
  if (strcmp (status, "stopped") != 0 && !force)
    return berth_err (err, BERTH_E_STATE,
                      "cannot delete container %s that is not stopped: %s (use --force)", id,
                      status);
  if (strcmp (status, "stopped") != 0 ? kill_and_wait (s, err) < 0
                                      : shares_pid_ns (s) && kill_leftovers (s, err) < 0)
    return -1;
  if (cgroup_from_strv (s->cgroups, s->cgroups_len, &cg, err) < 0)
    return -1;
  /* A unit of the systemd driver is stopped through systemd, so that it
     does not linger (failed) and the id can be used again; the record says
     so, whether or not this delete was given --systemd-cgroup. */
  r = systemd_cgroup_destroy (&cg, err);
  cgroup_free (&cg);
  /* What create mounted in the host's namespace (no mount namespace). */
  if (r == 0 && s->host_mounts_len
      && hostmounts_unmount (s->host_mounts, s->host_mounts_len, err) < 0)
    r = -1;
  if (r < 0 || state_remove (&h, err) < 0)
    return -1;
  run_poststop (s);
  return 0;
}

/* ---- state and list ----------------------------------------------------- */

static int
to_runc_state (const struct oci_berth_state *s, const char *status, const char *owner,
               struct oci_runc_state **out, struct berth_error *err)
{
  struct oci_runc_state *r = calloc (1, sizeof *r);
  bool stopped = strcmp (status, "stopped") == 0;

  if (r == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  OCI_SET (r, oci_version, strdup (OCI_SPEC_VERSION));
  OCI_SET (r, id, strdup (s->id));
  OCI_SET (r, pid, stopped ? 0 : s->pid);
  OCI_SET (r, status, strdup (status));
  OCI_SET (r, bundle, strdup (s->bundle));
  OCI_SET (r, rootfs, strdup (s->rootfs ? s->rootfs : ""));
  OCI_SET (r, created, strdup (s->created ? s->created : ""));
  OCI_SET (r, owner, strdup (owner));
  if (s->annotations_len)
    {
      r->annotations_keys = calloc (s->annotations_len + 1, sizeof (char *));
      r->annotations = calloc (s->annotations_len + 1, sizeof (char *));
      r->annotations_len = s->annotations_len;
      r->has_annotations = true;
      for (size_t i = 0; r->annotations_keys && r->annotations && i < s->annotations_len; i++)
        {
          r->annotations_keys[i] = strdup (s->annotations_keys[i]);
          r->annotations[i] = strdup (s->annotations[i]);
        }
    }
  *out = r;
  return 0;
}

void
container_state_free (struct oci_runc_state *s)
{
  oci_free (&oci_type_runc_state, s);
}

int
container_state (const struct berth_runtime *rt, const char *id, struct oci_runc_state **out,
                 struct berth_error *err)
{
  cleanup_state_handle struct state_handle h = { -1, -1, NULL };
  cleanup_state struct oci_berth_state *s = NULL;
  const char *status;

  if (load_with_status (rt, id, &h, &s, &status, err) < 0)
    return -1;
  return to_runc_state (s, status, "", out, err);
}

static int
compare_ids (const void *a, const void *b)
{
  const struct oci_runc_state *x = *(struct oci_runc_state *const *) a;
  const struct oci_runc_state *y = *(struct oci_runc_state *const *) b;
  return strcmp (x->id, y->id);
}

int
container_list (const struct berth_runtime *rt, struct oci_runc_state ***out, size_t *count,
                struct berth_error *err)
{
  cleanup_closedir DIR *d = opendir (rt->root);
  struct oci_runc_state **v = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;

  *out = NULL;
  *count = 0;
  if (d == NULL)
    return errno == ENOENT ? 0 : berth_err_sys (err, errno, "open %s", rt->root);
  while ((de = readdir (d)) != NULL)
    {
      struct state_handle h = { dirfd (d), -1, de->d_name };
      struct oci_berth_state *s = NULL;
      struct berth_cgroup cg = { 0 };
      struct berth_error ignored = { 0 };
      struct oci_runc_state *r = NULL;
      struct stat st;
      struct passwd *pw;
      char owner[32];
      bool frozen = false;

      if (de->d_name[0] == '.' || state_validate_id (de->d_name, &ignored) < 0)
        continue;
      h.dir_fd = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (h.dir_fd < 0)
        continue;
      /* Reading without the lock is safe: state.json is replaced atomically. */
      if (state_load (&h, &s, &ignored) < 0)
        {
          close (h.dir_fd);
          continue;
        }
      if (cgroup_from_strv (s->cgroups, s->cgroups_len, &cg, &ignored) == 0)
        {
          frozen = cgroup_is_frozen (&cg);
          cgroup_free (&cg);
        }
      fstat (h.dir_fd, &st);
      pw = getpwuid (st.st_uid);
      snprintf (owner, sizeof owner, "%s", pw ? pw->pw_name : "#");
      if (!pw)
        snprintf (owner, sizeof owner, "#%u", (unsigned) st.st_uid);
      if (to_runc_state (s, state_status (&h, s, frozen), owner, &r, err) < 0)
        {
          close (h.dir_fd);
          state_free (s);
          break;
        }
      close (h.dir_fd);
      state_free (s);
      if (n == cap)
        {
          struct oci_runc_state **nv = realloc (v, (cap = cap ? cap * 2 : 16) * sizeof *v);
          if (nv == NULL)
            {
              container_state_free (r);
              break;
            }
          v = nv;
        }
      v[n++] = r;
    }
  if (n)
    qsort (v, n, sizeof *v, compare_ids);
  *out = v;
  *count = n;
  return 0;
}

/* ---- run in the foreground ----------------------------------------------- */

int
container_wait (pid_t pid, int console, struct berth_error *err)
{
  static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
  cleanup_close int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  cleanup_close int sfd = -1;
  sigset_t mask;
  int status = 0;

  if (pidfd < 0)
    return berth_err_sys (err, errno, "watch the container's init");
  sigemptyset (&mask);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    sigaddset (&mask, forwarded[i]);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  if (console >= 0)
    terminal_relay (console, pidfd, err);
  for (;;)
    {
      struct pollfd fds[2] = { { pidfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
      struct signalfd_siginfo si;
      if (poll (fds, 2, -1) < 0 && errno != EINTR)
        return berth_err_sys (err, errno, "wait for the container");
      while (read (sfd, &si, sizeof si) == (ssize_t) sizeof si)
        pidfd_signal (pidfd, (int) si.ssi_signo);
      if (fds[0].revents & POLLIN)
        break;
    }
  if (waitpid (pid, &status, 0) < 0)
    return berth_err_sys (err, errno, "wait for the container's init");
  sigprocmask (SIG_UNBLOCK, &mask, NULL);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}
