#include "init/init.h"
#include "cleanup.h"
#include "init/hooks.h"
#include "init/laststage.h"
#include "base/log.h"
#include "base/trace.h"
#include "init/process.h"
#include "fs/rootfs.h"
#include "init/scheduling.h"
#include "init/sysctl.h"
#include "base/sync.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int
init_direct_clone_flags (const struct ns_plan *ns)
{
  return ns->new_flags & CLONE_NEWPID;
}

int
init_direct_unshare_flags (const struct ns_plan *ns)
{
  /* The cgroup namespace is unshared later, once the init sits in its own
     cgroup, so that the namespace is rooted there.  Making a network
     namespace is most of a clone's cost: in the init, it overlaps the
     runtime's mkdirs and resource writes instead of delaying them. */
  return ns->new_flags & ~(CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME | CLONE_NEWUSER);
}

__attribute__ ((noreturn)) static void
fail (struct init_ctx *ctx, struct berth_error *err)
{
  sync_send (ctx->sync_fd, SYNC_ERROR, err, -1);
  _exit (1);
}


static int
apply_sysctl (const struct oci_config *c, struct berth_error *err)
{
  const struct oci_linux *l = c->linux;
  for (size_t i = 0; l && i < l->sysctl_len; i++)
    {
      const char *key = l->sysctl_keys[i];
      char jpath[256], file[512];

      /* Namespaced sysctls only: the rest would change the host (the rule is
         shared with berth check). */
      if (sysctl_validate (c, i, &(struct berth_reporter){ .err = err }) < 0)
        return -1;
      oci_path_key (jpath, sizeof jpath, ".linux.sysctl", key);
      snprintf (file, sizeof file, "/proc/sys/%s", key);
      for (char *p = file + 10; *p; p++)
        if (*p == '.')
          *p = '/';
      if (write_file_at (AT_FDCWD, file, l->sysctl[i], strlen (l->sysctl[i]), err) < 0)
        {
          snprintf (err->path, sizeof err->path, "%s", jpath);
          return -1;
        }
    }
  return 0;
}

static int
join_session_keyring (const char *id, struct berth_error *err)
{
  char name[300];
  long k;
  snprintf (name, sizeof name, "_ses.%s", id);
  k = syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
  if (k < 0 && errno != ENOSYS && errno != EDQUOT)
    return berth_err_sys (err, errno, "create a session keyring for the container");
  if (k >= 0)
    /* possessor: all; user: view and read, so the container can't tamper
       with another's keys via the user keyring. */
    syscall (SYS_keyctl, KEYCTL_SETPERM, k, 0x3f1f0000, 0, 0);
  return 0;
}

/* Staged start: user and time namespaces must exist before the namespaces
   they own or govern, and pid/time namespaces apply only to children. */
static void
stage_one (struct init_ctx *ctx)
{
  struct berth_error err = { 0 };
  const struct oci_linux *l = ctx->config->linux;
  int rest = ctx->ns->new_flags & ~(CLONE_NEWUSER | CLONE_NEWCGROUP);
  pid_t child;
  int status;

  int go = 0;

  if (sync_expect_value (ctx->sync_fd, SYNC_GO, NULL, NULL, &go, &err) < 0)
    _exit (1);
  /* Still the runtime's creds and mounts: the init forked below is born in
     the cgroup. */
  if (go == SYNC_GO_ENTER_CGROUP
      && BERTH_TRACED ("cgroup enter", ctx->cgroup_enter_self (ctx->cgroup, ctx->born_in_cgroup, &err)) < 0)
    fail (ctx, &err);
  if (ns_join (ctx->ns, false, &err) < 0)
    fail (ctx, &err);
  if (ctx->ns->new_flags & CLONE_NEWUSER)
    {
      /* A runtime that is not the host's root opens this process's
         /proc/PID/uid_map (as newuidmap, which checks that the caller owns
         it) only while it is dumpable; nothing of the container runs yet. */
      bool unprivileged = geteuid () != 0;

      if (unshare (CLONE_NEWUSER) < 0)
        {
          berth_err_sys (&err, errno, "create the user namespace");
          fail (ctx, &err);
        }
      if (unprivileged)
        prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
      if (sync_send (ctx->sync_fd, SYNC_NEED_MAPS, NULL, -1) < 0
          || sync_expect (ctx->sync_fd, SYNC_GO, NULL, NULL, &err) < 0)
        _exit (1);
      if (unprivileged)
        prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
  if (ctx->ns->in_user_ns && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    {
      berth_err_sys (&err, errno, "become root in the user namespace (is 0 mapped?)");
      fail (ctx, &err);
    }
  if (rest && unshare (rest) < 0)
    {
      berth_err_sys (&err, errno, "create namespaces (flags 0x%x)", rest);
      fail (ctx, &err);
    }
  if ((rest & CLONE_NEWTIME) && l && ns_write_time_offsets (l, &err) < 0)
    fail (ctx, &err);

  child = fork ();
  if (child < 0)
    {
      berth_err_sys (&err, errno, "fork the container's init");
      fail (ctx, &err);
    }
  if (child == 0)
    berth_trace_role (BERTH_TRACE_PROCESS);
  if (child > 0)
    {
      /* The init reports to the runtime itself; this process only has to
         outlive the fork so the init gets reparented cleanly. */
      _exit (0);
    }
  (void) status;
}

static int
loopback_up (struct berth_error *err)
{
  struct ifreq ifr = { 0 };
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (s < 0)
    return berth_err_sys (err, errno, "socket for bringing lo up");
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    return berth_err_sys (err, errno, "read the flags of lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    return berth_err_sys (err, errno, "bring lo up");
  return 0;
}

/* prestart and createRuntime run in the runtime's namespaces (the runtime
   runs them while we wait); createContainer runs here, in the container's
   namespaces, before pivot_root, as config.md orders, with the container's
   root as its working directory, as runc runs it (hooks written for runc
   copy files into the rootfs by relative paths). */
static void
run_create_hooks (struct init_ctx *ctx, struct berth_error *err)
{
  const struct oci_hooks *h = ctx->config->hooks;
  struct sync_msg m;
  cleanup_free char *state = NULL;

  if (sync_send (ctx->sync_fd, SYNC_HOOKS, NULL, -1) < 0)
    _exit (1);
  if (sync_recv (ctx->sync_fd, &m, NULL, NULL, err) < 0)
    _exit (1);
  if (m.kind != SYNC_GO)
    _exit (1);
  ctx->host_pid = m.value;
  if (h == NULL || h->create_container_len == 0)
    return;
  /* Step 5, after step 2: "created" (see run_runtime_hooks). */
  if (hooks_state_json (ctx->config, ctx->id, ctx->host_pid, ctx->bundle, "created", &state,
                        err) < 0
      || hooks_run (h->create_container, h->create_container_len, "createContainer", state,
                    ctx->rootfs, err)
             < 0)
    fail (ctx, err);
}

/* The init holds exec.fifo as an O_PATH descriptor of the fifo itself,
   never a directory of the runtime's, and opens it for writing (which
   blocks until `start` opens it for reading) through a procfs: the
   container's /proc, checked to be the root of a procfs.  A container
   without one gets a private, detached procfs instance, made before
   pivot_root: in a user namespace the kernel refuses a new procfs once no
   full one is visible in the mount namespace. */
static int
private_procfs (const char *rootfs, int *out, struct berth_error *err)
{
  char path[PATH_MAX];
  cleanup_close int proc = -1, fs = -1;

  *out = -1;
  snprintf (path, sizeof path, "%s/proc", rootfs);
  proc = open (path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (proc >= 0 && is_procfs_root (proc))
    return 0;
  fs = (int) syscall (SYS_fsopen, "proc", FSOPEN_CLOEXEC);
  if (fs < 0 || syscall (SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0
      || (*out = (int) syscall (SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0)) < 0)
    return berth_err_sys (err, errno,
                          "the container has no procfs at /proc, and a private one for "
                          "reaching exec.fifo could not be made");
  return 0;
}

/* While the open blocks the init holds that procfs root (the container's
   own), and resolves no config path. */
static int
open_exec_fifo (int path_fd, int private_proc)
{
  char rel[48];
  cleanup_close int proc = -1;

  snprintf (rel, sizeof rel, "thread-self/fd/%d", path_fd);
  if (private_proc >= 0)
    return openat (private_proc, rel, O_WRONLY | O_CLOEXEC);
  proc = open ("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (proc < 0 || !is_procfs_root (proc))
    return -1;
  return openat (proc, rel, O_WRONLY | O_CLOEXEC);
}

/* After start: a failure here is written to exec.fifo, where `start` waits
   for it (or for the end of file that a successful execve produces). */
__attribute__ ((noreturn)) static void
fail_started (int fifo, struct berth_error *err)
{
  char line[1200];
  berth_err_format (err, line, sizeof line);
  (void) write_all (fifo, line, strlen (line));
  _exit (127);
}

__attribute__ ((noreturn)) void
init_run (struct init_ctx *ctx)
{
  const struct oci_config *c = ctx->config;
  const struct oci_process *p = c->process;
  struct berth_error err = { 0 };
  struct rootfs_options ro = {
    .rootfs = ctx->rootfs,
    .no_pivot = ctx->no_pivot,
    /* Devices are bound from the host, not made, in the container's user
       namespace, and also when the runtime itself runs in one (rootless
       Podman calls it as root of its own): mknod is not permitted there. */
    .in_user_ns = ctx->ns->in_user_ns || running_in_user_ns (),
    .host_mount_ns = ns_host_mount (ctx->ns),
    .terminal = p && p->terminal,
    .cgroup = ctx->cgroup,
    .bind_sources = ctx->bind_sources,
  };
  struct berth_cgroup own_cgroup = { 0 };
  struct sched_plan sched;
  struct laststage ls = {
    .p = p,
    .base = ".process",
    .lx = c->linux,
    .seccomp = ctx->seccomp,
    .sched = &sched,
    .mempolicy = ctx->mempolicy,
    .preserve_fds = ctx->preserve_fds,
    .console = true,
    .cwd = LASTSTAGE_CWD_CREATE,
  };
  int fifo, private_proc = -1;

  berth_trace_role (ctx->staged ? BERTH_TRACE_CHILD : BERTH_TRACE_PROCESS);
  /* Die with the runtime while it still supervises us. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* Until execve this process is berth: its /proc/PID/exe is berth's binary
     on the host.  Non-dumpable, no process in the container (which lacks
     CAP_SYS_PTRACE over the host's user namespace) can open it, so it cannot
     overwrite the runtime (runc CVE-2019-5736).  execve resets this. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (ctx->staged)
    stage_one (ctx);
  else
    {
      if (ctx->unshare_flags
          && BERTH_TRACED ("new namespaces", unshare (ctx->unshare_flags)) < 0)
        {
          berth_err_sys (&err, errno, "create the container's namespaces (0x%x)",
                         ctx->unshare_flags);
          fail (ctx, &err);
        }
      int go = 0;
      /* The runtime waits for our namespaces only to move us by pid. */
      if (ctx->unshare_flags && !ctx->cgroup_enter_self && !ctx->born_in_cgroup
          && sync_send (ctx->sync_fd, SYNC_UNSHARED, NULL, -1) < 0)
        _exit (1);
      if (sync_expect_value (ctx->sync_fd, SYNC_GO, NULL, NULL, &go, &err) < 0)
        _exit (1);
      /* Before anything that the cgroup should count or limit, and while
         the host's cgroup mounts are still where the paths say. */
      if (go == SYNC_GO_ENTER_CGROUP
          && BERTH_TRACED ("cgroup enter", ctx->cgroup_enter_self (ctx->cgroup, ctx->born_in_cgroup, &err)) < 0)
        fail (ctx, &err);
      if (BERTH_TRACED ("namespaces", ns_join (ctx->ns, false, &err)) < 0)
        fail (ctx, &err);
    }
  /* From here on the init holds nothing of the runtime's but what it
     needs: no directory of the host (the state root, the state directory)
     that a config path such as process.cwd = /proc/self/fd/N could
     reach (CVE-2024-21626). */
  {
    int keep[3 + c->mounts_len];
    size_t n = 0;
    keep[n++] = ctx->sync_fd;
    keep[n++] = ctx->exec_fifo_fd;
    keep[n++] = berth_log_fd ();
    for (size_t i = 0; ctx->bind_sources && i < c->mounts_len; i++)
      if (ctx->bind_sources[i] >= 0)
        keep[n++] = ctx->bind_sources[i];
    laststage_close_fds (&ls, keep, n);
  }
  /* The runtime makes the cgroup after the clone that copied ctx->cgroup
     (and systemd's exists only once systemd placed this process): a v1
     "cgroup" mount needs its directories, which are where this process now
     is (read before the cgroup namespace hides the path). */
  if (ro.cgroup && ro.cgroup->n_dirs == 0
      && cgroup_current (&own_cgroup, &(struct berth_error){ 0 }) == 0)
    ro.cgroup = &own_cgroup;
  /* A new network namespace starts with lo down; runc brings it up, and
     programs expect 127.0.0.1 to work even with no other network. */
  if ((ctx->ns->new_flags & CLONE_NEWNET)
      && BERTH_TRACED ("loopback up", loopback_up (&err)) < 0)
    fail (ctx, &err);
  if ((ctx->ns->new_flags & CLONE_NEWCGROUP) && unshare (CLONE_NEWCGROUP) < 0)
    {
      berth_err_sys (&err, errno, "create the cgroup namespace");
      fail (ctx, &err);
    }
  if (setsid () < 0)
    {
      berth_err_sys (&err, errno, "setsid");
      fail (ctx, &err);
    }
  if (!ctx->no_new_keyring
      && BERTH_TRACED ("session keyring", join_session_keyring (ctx->id, &err)) < 0)
    fail (ctx, &err);

  if (BERTH_TRACED ("rootfs", rootfs_prepare (c, &ro, &err)) < 0)
    fail (ctx, &err);
  /* Detached copies of host trees: never past the mounts. */
  for (size_t i = 0; ctx->bind_sources && i < c->mounts_len; i++)
    if (ctx->bind_sources[i] >= 0)
      close (ctx->bind_sources[i]);
  /* The runtime moves linux.netDevices in at this stop too. */
  if (c->hooks || (c->linux && c->linux->net_devices_len))
    {
      BERTH_TRACE_SCOPE ("hooks createContainer");
      run_create_hooks (ctx, &err);
    }
  if (private_procfs (ctx->rootfs, &private_proc, &err) < 0
      || BERTH_TRACED ("pivot", rootfs_pivot (&ro, &err)) < 0)
    fail (ctx, &err);
  if (p && p->terminal)
    {
      int master = -1;
      if (laststage_terminal (&ls, &master, &err) < 0)
        fail (ctx, &err);
      if (sync_send (ctx->sync_fd, SYNC_CONSOLE, NULL, master) < 0)
        _exit (1);
      close (master);
    }
  if (c->hostname && c->hostname[0] && sethostname (c->hostname, strlen (c->hostname)) < 0)
    {
      berth_err_sys (&err, errno, "sethostname");
      snprintf (err.path, sizeof err.path, ".hostname");
      fail (ctx, &err);
    }
  if (c->domainname && c->domainname[0]
      && setdomainname (c->domainname, strlen (c->domainname)) < 0)
    {
      berth_err_sys (&err, errno, "setdomainname");
      snprintf (err.path, sizeof err.path, ".domainname");
      fail (ctx, &err);
    }
  if (apply_sysctl (c, &err) < 0
      || BERTH_TRACED ("masked, readonly paths", rootfs_finalize (c, &err)) < 0)
    fail (ctx, &err);
  /* Scheduling here, in the init's cgroup (whose real-time budget decides
     whether SCHED_FIFO is allowed) and while the init still holds
     CAP_SYS_NICE; personality before any seccomp filter, which may limit
     personality(2).  execCPUAffinity is not for the init (config.md).
     The labels, for the execve at start, before the create returns so that
     a profile the kernel refuses fails the create, as in runc. */
  TEST_STOP_AT ("init:cwd");
  if (p
      && (sched_plan_make (p, ".process", &sched, &err) < 0 || laststage_prepare (&ls, &err) < 0
          || laststage_seccomp_listener (&ls, ctx->sync_fd, &err) < 0))
    fail (ctx, &err);
  /* Everything the runtime opened goes away at execve; the preserved fds
     and stdio stay. */
  laststage_fds_for_exec (&ls);
  /* From here the init outlives `create`. */
  prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (sync_send (ctx->sync_fd, SYNC_READY, NULL, -1) < 0)
    _exit (1);
  close (ctx->sync_fd);
  /* A config without a process is a container to create, never to start
     (config.md: process is REQUIRED when start is called; `start` refuses).
     The init holds the namespaces until delete kills it. */
  if (p == NULL)
    for (;;)
      pause ();

  /* Blocks until `start` opens the other end. */
  fifo = BERTH_TRACED ("wait for start", open_exec_fifo (ctx->exec_fifo_fd, private_proc));
  if (fifo < 0 || write (fifo, "0", 1) != 1)
    _exit (1);
  close (ctx->exec_fifo_fd);
  if (private_proc >= 0)
    close (private_proc);

  if (laststage_identity (&ls, &err) < 0 || laststage_seccomp_last (&ls, &err) < 0)
    fail_started (fifo, &err);
  /* As runc: with the filter in, as the process' user, with its
     capabilities, right before the execve (a hook the filter forbids
     fails). */
  if (c->hooks && c->hooks->start_container_len)
    {
      cleanup_free char *state = NULL;
      BERTH_TRACE_SCOPE ("hooks startContainer");
      if (hooks_state_json (c, ctx->id, ctx->host_pid, ctx->bundle, "created", &state, &err) < 0
          || hooks_run (c->hooks->start_container, c->hooks->start_container_len,
                        "startContainer", state, NULL, &err) < 0)
        fail_started (fifo, &err);
    }
  laststage_exec (&ls, &err);
  fail_started (fifo, &err);
}
