/* berth — create: from a bundle to an init waiting on exec.fifo.
 *
 * The config is loaded and checked, the container's cgroup made by the
 * driver --systemd-cgroup chose (cgroup/driver.h), the init cloned into its
 * namespaces and driven through the sync protocol (hooks, console, seccomp
 * listener) until it is ready; then state.json is written.  Any failure
 * rolls back everything done so far (create_rollback).
 */
#include "lifecycle/container.h"
#include "lifecycle/container_priv.h"
#include "lifecycle/create_job.h"
#include "rules/rules.h"
#include "security/seccomp.h"
#include "cgroup/cgroup.h"
#include "cgroup/driver.h"
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
#include "fs/rootfs.h"
#include "spec.h"
#include "lifecycle/state.h"
#include "security/sealed_exe.h"
#include "base/sync.h"
#include "base/trace.h"
#include "init/terminal.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int
create_load_config (const char *bundle, char *bundle_abs, struct oci_config **out,
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
  if (BERTH_TRACED ("parse", oci_parse_fd (&oci_type_config, fd, "config.json", &obj, err)) < 0)
    return -1;
  if (BERTH_TRACED ("validate", config_rules (obj, &(struct berth_reporter){ .err = err })) < 0)
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
  if (BERTH_TRACED ("hooks prestart",
                    hooks_run (h->prestart, h->prestart_len, "prestart", state, NULL, err)) < 0
      || BERTH_TRACED ("hooks createRuntime",
                       hooks_run (h->create_runtime, h->create_runtime_len, "createRuntime",
                                  state, NULL, err)) < 0)
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

/* ID-mapped mounts that take the container's mapping (rootfs.h), once its
   new user namespace has its maps and before the init may mount. */
static int
idmap_mounts (struct create_job *j, pid_t child, struct berth_error *err)
{
  char path[64];
  cleanup_close int userns = -1;

  if (j->bind_sources == NULL)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/ns/user", (int) child);
  if ((userns = open (path, O_RDONLY | O_CLOEXEC)) < 0)
    return berth_err_sys (err, errno, "open the container's user namespace");
  return rootfs_idmap_bind_sources (j->config, j->bind_sources, userns, err);
}

/* run, when nothing of create's can come between the init's READY and
   start: no hook that runs during create, no host mounts to record after
   READY (a mount namespace of its own), no notify socket to listen on
   first, and the init's pid known at the clone (not forked by a first
   child).  Then state.json is saved, and the exec fifo opened for start,
   while the init sets itself up: from READY it goes straight on to its
   execve instead of waiting for berth to wake, save the state and open
   the fifo.  The state is saved before the fifo is opened, so that the
   init never runs the container's program without one. */
static bool
start_early (const struct create_job *j, bool staged)
{
  const struct oci_hooks *h = j->config->hooks;

  return j->o->hand_over && !staged && j->config->process && !j->mounts_before.ids
         && !j->notify_socket
         && (h == NULL
             || (h->prestart_len == 0 && h->create_runtime_len == 0
                 && h->create_container_len == 0));
}

static int
spawn_init (struct create_job *j, struct berth_error *err)
{
  int sv[2];
  bool staged = (j->ns.new_flags & (CLONE_NEWUSER | 0x80 /* CLONE_NEWTIME */)) || j->ns.in_user_ns;
  int flags = staged ? 0 : init_direct_clone_flags (&j->ns);
  /* Decided before the clone: an init that will move itself, or is cloned
     into its cgroup, does not report its namespaces.  Only into a cgroup
     whose directories are known now (not systemd's unit).  Staged, the
     first child does it while it is still berth's, before any namespace
     of the config's, and the init it forks is born there; not for a
     rootless berth, whose cgroup (if the host gave one) is made before the
     clone and may have fallen back to none. */
  bool self_ok = !staged || !j->rt->rootless;
  int (*enter_self) (const struct berth_cgroup *, bool, struct berth_error *)
      = !self_ok || j->cg.n_dirs == 0 ? NULL : j->cgd->enter_self;
  cleanup_close int sock = -1;
  cleanup_close int fifo = -1, own_pidns = -1, into = -1;
  pid_t child = -1;
  bool born_in = false;

  if (create_cgroup_for_clone (j, !self_ok, &into, err) < 0)
    return -1;

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
  struct berth_trace_span clone_span = berth_trace_begin ("clone");
  if (into >= 0)
    born_in = (child = clone_into_cgroup ((unsigned long) flags, into)) >= 0;
  if (!born_in)
    child = (pid_t) syscall (SYS_clone, (unsigned long) flags | SIGCHLD, NULL, NULL, NULL, 0);
  if (child != 0) /* the child's copy of the span is not the runtime's */
    berth_trace_end (&clone_span);
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
        .unshare_flags = staged ? 0 : init_direct_unshare_flags (&j->ns),
        .preserve_fds = j->o->preserve_fds,
        .no_pivot = j->o->no_pivot,
        .no_new_keyring = j->o->no_new_keyring,
        .bundle = j->bundle,
        .seccomp = j->seccomp,
        .mempolicy = &j->mempolicy,
        .bind_sources = j->bind_sources,
        .cgroup = &j->cg,
        .cgroup_enter_self = enter_self,
        .born_in_cgroup = born_in,
      };
      close (sv[0]);
      close (j->state.dir_fd);
      if (into >= 0) /* a host directory, which the clone has used */
        close (into);
      init_run (&ctx);
    }
  close (sv[1]);
  berth_trace_pid (staged ? BERTH_TRACE_CHILD : BERTH_TRACE_PROCESS, child,
                   staged ? "berth init, first child" : "container init");
  j->first_child = child;
  TEST_STOP_AT ("create:cloned");
  j->child_pidfd = (int) syscall (SYS_pidfd_open, child, 0);

  /* While the init makes its namespaces (unless made for the clone
     above); systemd makes its unit with the init in it
     (create_enter_cgroup). */
  if (create_make_cgroup (j, err) < 0)
    return -1;
  /* The init moves itself once it has GO (cgroup_enter_self says why),
     unless make fell back to another driver. */
  bool init_enters = enter_self && j->cgd->enter_self == enter_self && j->cg_ready;
  /* A move by pid waits for an RCU grace period, which an init still inside
     unshare() holds up (measured: the attach took 0.52 ms against
     0.17 ms): the move once the init has made them. */
  if (!enter_self && !born_in && !staged && init_direct_unshare_flags (&j->ns)
      && BERTH_TRACED ("wait for the namespaces", sync_expect (sock, SYNC_UNSHARED, NULL, NULL, err)) < 0)
    return -1;
  /* Else berth moves it, into every directory (the v2 one it may have been
     cloned into too: a no-op). */
  if (!init_enters && BERTH_TRACED ("cgroup attach", create_enter_cgroup (j, child, err)) < 0)
    return -1;
  TEST_STOP_AT ("create:go");
  /* An init that could not make its namespaces has sent its error and
     exited: the loop below reads it. */
  if (sync_send_value (sock, SYNC_GO, init_enters ? SYNC_GO_ENTER_CGROUP : 0) < 0 && errno != EPIPE)
    return berth_err_sys (err, errno, "start the container's init");
  /* The config as the container was made from it (exec, update and
     delete's hooks need it after the bundle may be gone), written while
     the init sets itself up. */
  if (state_save_config (&j->state, j->config_json, err) < 0)
    return -1;
  if (start_early (j, staged))
    {
      j->init_pid = child;
      if (BERTH_TRACED ("state save", create_save_state (j, err)) < 0)
        return -1;
      j->start_fifo = openat (j->state.dir_fd, EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (j->start_fifo < 0)
        return berth_err_sys (err, errno, "open exec fifo");
    }
  if (staged && (j->ns.new_flags & CLONE_NEWUSER))
    {
      if (sync_expect (sock, SYNC_NEED_MAPS, NULL, NULL, err) < 0)
        return -1;
      if (BERTH_TRACED ("ID maps", ns_write_id_maps (child, j->config->linux, err)) < 0
          || idmap_mounts (j, child, err) < 0)
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
          berth_trace_pid (BERTH_TRACE_PROCESS, sender, "container init");
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

/* run's start needs of the state only what it checks and relays; the
   config's text moves over, emitted once for config.json. */
static int
keep_for_start (struct create_job *j, const struct oci_berth_state *s, struct berth_error *err)
{
  struct oci_berth_state *k = calloc (1, sizeof *k);

  if (k == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  j->saved = k;
  OCI_SET (k, id, strdup (s->id));
  OCI_SET (k, bundle, strdup (s->bundle));
  OCI_SET (k, pid, s->pid);
  OCI_SET (k, pid_start, s->pid_start);
  k->no_process = s->no_process;
  k->has_no_process = s->has_no_process;
  if (s->notify_socket)
    OCI_SET (k, notify_socket, strdup (s->notify_socket));
  OCI_SET (k, config, j->config_json);
  j->config_json = NULL;
  if (k->id == NULL || k->bundle == NULL || (s->notify_socket && k->notify_socket == NULL))
    return berth_err_sys (err, ENOMEM, "out of memory");
  return 0;
}

int
create_save_state (struct create_job *j, struct berth_error *err)
{
  struct oci_berth_state s = { 0 };
  char created[64];
  uint64_t start = 0;
  int r;

  /* Written once the init is ready (run's early start: while it sets
     itself up, start_early).  Before that, a create killed half-way leaves
     no state.json, and 'delete --force' finds the cgroups in the
     write-once record (records_save_cgroup). */
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
    /* For whoever reads the state: "cgroups" then holds "mode=" alone. */
    if (j->cgd->present (&j->cg, "", &(struct berth_error){ 0 }) < 0)
      OCI_SET (&s, no_cgroup, true);
    if (j->host_mounts_len)
      {
        s.host_mounts_len = j->host_mounts_len;
        OCI_SET (&s, host_mounts, j->host_mounts);
      }
    r = state_save (&j->state, &s, err);
    j->state_saved = r == 0;
    for (size_t i = 0; i < n; i++)
      free (cg[i]);
    free (cg);
  }
  if (r == 0 && j->o->hand_over)
    r = keep_for_start (j, &s, err);
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


void
create_rollback (struct create_job *j)
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
  (void) j->cgd->destroy (&j->cg, true, &ignored);
  if (j->mounts_before.ids)
    records_unmount_new_host_mounts (&j->mounts_before, j->rootfs);
  if (j->start_fifo >= 0)
    close (j->start_fifo);
  j->start_fifo = -1;
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
  /* cgroupfs places the directories now, and makes them after the clone,
     while the init makes its namespaces.  Rootless, they are made before:
     a host that refuses them makes the container go on with none
     (fall_back_to_none), and the init must not have copied the others. */
  if (BERTH_TRACED ("cgroup prepare", create_prepare_cgroup (j, err)) < 0
      || (j->rt->rootless && create_make_cgroup (j, err) < 0))
    return -1;
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
  if (rootfs_open_bind_sources (j->config, (j->ns.new_flags & CLONE_NEWUSER) && geteuid () == 0,
                                &j->bind_sources, err) < 0
      || (j->ns.join_fd[NS_USER] >= 0
          && rootfs_idmap_bind_sources (j->config, j->bind_sources, j->ns.join_fd[NS_USER], err)
                 < 0))
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
      if (records_save_host_mounts_base (j->state.dir_fd, j->rootfs, &j->mounts_before, err) < 0)
        return -1;
    }
  r = BERTH_TRACED ("init", spawn_init (j, err));
  /* The init has its copies; the runtime's go now. */
  rootfs_close_bind_sources (j->bind_sources, j->config->mounts_len);
  j->bind_sources = NULL;
  if (r == 0 && j->mounts_before.ids
      && hostmounts_new_within (&j->mounts_before, j->rootfs, &j->host_mounts,
                                &j->host_mounts_len, err) < 0)
    r = -1;
  if (r < 0 || (!j->state_saved && BERTH_TRACED ("state save", create_save_state (j, err)) < 0))
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
  /* First: its end comes after the cleanups below. */
  BERTH_TRACE_SCOPE ("create");
  struct create_job j = { .rt = rt, .id = id, .o = o, .child_pidfd = -1, .console = -1,
                          .start_fifo = -1, .state = { -1, -1, NULL },
                          .cgd = cgroup_driver_select_as (rt->systemd_cgroup, rt->rootless) };
  cleanup_config struct oci_config *config = NULL;
  cleanup_seccomp struct berth_seccomp *seccomp = NULL;
  int r = -1;

  for (int i = 0; i < NS_COUNT; i++)
    j.ns.join_fd[i] = -1;
  if (state_validate_id (id, err) < 0)
    return -1;
  if (create_load_config (o->bundle ? o->bundle : ".", j.bundle, &config, err) < 0
      || check_config_for_create (config, o, err) < 0
      || mempolicy_plan (config->linux ? config->linux->memory_policy : NULL, &j.mempolicy, err)
             < 0
      || rootfs_resolve (config, j.bundle, j.rootfs, err) < 0)
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
      if (BERTH_TRACED ("seccomp compile",
                        seccomp_compile (config->linux->seccomp, &cache, &seccomp, err)) < 0)
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
  if (BERTH_TRACED ("state", state_open (rt->root, id, true, &j.state, err)) < 0)
    {
      ns_plan_close (&j.ns);
      return -1;
    }
  r = create_steps (&j, err);
  ns_plan_close (&j.ns);
  if (r < 0)
    create_rollback (&j);
  else
    {
      out->pid = j.init_pid;
      out->console = j.console;
      if (j.child_pidfd >= 0)
        close (j.child_pidfd);
      if (o->hand_over)
        {
          out->state = j.state;
          out->saved = j.saved;
          out->start_fifo = j.start_fifo;
          j.state = (struct state_handle){ -1, -1, NULL };
          j.saved = NULL;
          j.start_fifo = -1;
        }
    }
  if (j.start_fifo >= 0)
    close (j.start_fifo);
  state_free (j.saved);
  cgroup_free (&j.cg);
  state_close (&j.state);
  free (j.config_json);
  hostmounts_snapshot_free (&j.mounts_before);
  for (size_t i = 0; i < j.host_mounts_len; i++)
    free (j.host_mounts[i]);
  free (j.host_mounts);
  return r;
}
