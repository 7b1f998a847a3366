/* berth — `exec`.  Sequence (see exec.h for the contract):
 *
 *   runtime: lock, status check, build the process, pidfd of the init,
 *            /proc/<pid> and its root, which namespaces differ;
 *            setns(pidfd, CLONE_NEWPID) for our children only, fork
 *            (cloned into the cgroup's v2 directory, where it has one and
 *            the runtime need not set the scheduling once it is in)
 *   child:   execCPUAffinity.initial -> [the same way: into the rest of
 *            the cgroup itself, see cgroup_enter_self] -> setns user, then
 *            the rest -> root
 *            of the init -> then the last stage the init shares
 *            (init/laststage.h): descriptors closed -> setsid -> pty ->
 *            cwd, program, rlimits, oom_score_adj, personality, labels ->
 *            [seccomp with a listener, passed on] -> descriptors
 *            close-on-exec -> [seccomp without no_new_privs] -> user,
 *            capabilities, no_new_privs -> READY, wait for GO -> [seccomp
 *            with no_new_privs] -> execve
 *   runtime: cgroups (unless the child moves itself), scheduler and I/O
 *            priority, execCPUAffinity.final
 *            -> GO (all at once after the fork, while the child sets up,
 *            unless paused, execCPUAffinity.initial or a seccomp listener
 *            ask for them after READY) -> READY -> --pid-file,
 *            --pidfd-socket -> wait for execve
 *            (the sync socket is close-on-exec: EOF means it happened)
 *            -> unlock -> detach, or wait and return the exit status.
 *
 * Forking the process straight into the container's pid namespace (instead
 * of setns in a child and fork again) keeps it our own child, so no
 * subreaper is needed and its parent-death signal points at us.
 * A process that joins a frozen cgroup stops at once: with --ignore-paused
 * it is put in the cgroups only once it has told us it is set up.
 */
#include "lifecycle/exec.h"
#include "base/trace.h"
#include "lifecycle/exec_cgroup.h"
#include "lifecycle/exec_process.h"
#include "cleanup.h"
#include "lifecycle/container.h"
#include "base/log.h"
#include "init/namespaces.h"
#include "init/hooks.h"
#include "init/laststage.h"
#include "init/process.h"
#include "init/scheduling.h"
#include "security/sealed_exe.h"
#include "security/seccomp.h"
#include "base/sync.h"
#include "init/terminal.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the container, seen from the host ------------------------------------ */

struct target {
  int pidfd;   /* the container's init */
  int proc_fd; /* its /proc/<pid> */
  int root_fd; /* its root directory (O_PATH) */
  int join;    /* CLONE_NEW* (but user and pid) that differ from ours */
  bool user;   /* its user namespace differs */
  bool pid;    /* its pid namespace differs */
};

static void
target_close (struct target *t)
{
  int *fds[] = { &t->pidfd, &t->proc_fd, &t->root_fd };
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (*fds[i] >= 0)
      {
        close (*fds[i]);
        *fds[i] = -1;
      }
}

static int
open_target (const struct container *c, struct target *t, struct berth_error *err)
{
  char path[64], self[64];

  t->pidfd = pidfd_for (c->saved->pid, c->saved->pid_start);
  if (t->pidfd < 0)
    return berth_err (err, BERTH_E_STATE, "cannot exec in a stopped container");
  snprintf (path, sizeof path, "/proc/%d", (int) c->saved->pid);
  t->proc_fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  /* The pidfd was taken while the pid was the init's; if the init is still
     there now, the pid cannot have been recycled in between, so the
     directory is the init's. */
  if (t->proc_fd < 0 || syscall (SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) < 0)
    return berth_err (err, BERTH_E_STATE, "cannot exec in a stopped container");
  t->root_fd = openat (t->proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (t->root_fd < 0)
    return berth_err_sys (err, errno, "open the root of the container's init (%s/root)", path);

  for (int k = 0; k < NS_COUNT; k++)
    {
      struct stat mine, theirs;
      char ns[32];
      snprintf (ns, sizeof ns, "ns/%s", ns_proc_name ((enum berth_ns) k));
      if (fstatat (t->proc_fd, ns, &theirs, 0) < 0)
        {
          if (errno == ENOENT) /* a kernel without this namespace type */
            continue;
          return berth_err_sys (err, errno, "%s/%s of the container's init", path, ns);
        }
      snprintf (self, sizeof self, "/proc/self/%s", ns);
      if (stat (self, &mine) < 0)
        return berth_err_sys (err, errno, "%s", self);
      if (mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino)
        continue;
      if (k == NS_USER)
        t->user = true;
      else if (k == NS_PID)
        t->pid = true;
      else
        t->join |= ns_clone_flag ((enum berth_ns) k);
    }
  return 0;
}

/* ---- the child: from berth's copy to the container's program -------------- */

struct child_ctx {
  const struct oci_process *p;
  const struct exec_options *o;
  struct target *t;
  int sock;
  const sigset_t *sigmask; /* the caller's, for the program */
  int lock_fds[2];         /* the container's state lock, held by berth */
  const struct berth_seccomp *seccomp; /* the container's filter, or NULL */
  const struct oci_linux *lx;          /* the container's, for linux.personality */
  const struct affinity_plan *affinity;
  /* The driver's enter_self and the cgroup, when the process moves itself
     (spawn); NULL when berth moves it. */
  int (*cgroup_enter_self) (const struct berth_cgroup *cg, bool born_in_v2,
                            struct berth_error *err);
  const struct berth_cgroup *cg;
  bool born_in_cgroup; /* cloned into the cgroup's v2 directory */
};

__attribute__ ((noreturn)) static void
child_fail (struct child_ctx *ctx, struct berth_error *err)
{
  sync_send (ctx->sock, SYNC_ERROR, err, -1);
  _exit (127);
}

/* A failed system call (errno), at the JSON path `at` (may be NULL). */
__attribute__ ((noreturn, format (printf, 3, 4))) static void
child_fail_sys (struct child_ctx *ctx, const char *at, const char *fmt, ...)
{
  struct berth_error err = { .errnum = errno, .kind = BERTH_E_SYSTEM };
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (err.msg, sizeof err.msg, fmt, ap);
  va_end (ap);
  snprintf (err.path, sizeof err.path, "%s", at ? at : "");
  child_fail (ctx, &err);
}

__attribute__ ((noreturn)) static void
child_run (struct child_ctx *ctx)
{
  const struct oci_process *p = ctx->p;
  struct target *t = ctx->t;
  struct berth_error err = { 0 };
  /* The exec'd process' errors name paths without a base, for a
     process.json and the config's process alike.  Nothing is bound onto
     /dev/console: that is the init's console, shared by the whole
     container. */
  struct laststage ls = {
    .p = p,
    .base = "",
    .lx = ctx->lx,
    .seccomp = ctx->seccomp,
    .preserve_fds = ctx->o->preserve_fds,
    .cwd = LASTSTAGE_CWD_RETRY_AS_USER,
  };

  /* Die with berth until execve (should berth die before this, the GO
     below never comes); keep the container's processes from ptracing us,
     and so from reaching our host fds, meanwhile. */
  berth_trace_role (BERTH_TRACE_PROCESS);
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  sigprocmask (SIG_SETMASK, ctx->sigmask, NULL);
  /* Our copy of the lock's descriptor would keep the container locked after
     berth lets go: with --ignore-paused, until the process runs, which
     needs `resume`, which needs the lock. */
  for (int i = 0; i < 2; i++)
    if (ctx->lock_fds[i] >= 0)
      close (ctx->lock_fds[i]);

  /* execCPUAffinity.initial: the affinity of everything that happens
     before the process joins the container's cgroup. */
  if (affinity_apply (0, ctx->affinity, "initial", &err) < 0)
    child_fail (ctx, &err);
  /* While the host's cgroup mounts are still where the paths say. */
  if (ctx->cgroup_enter_self
      && BERTH_TRACED ("cgroup enter", ctx->cgroup_enter_self (ctx->cg, ctx->born_in_cgroup, &err)) < 0)
    child_fail (ctx, &err);
  /* The user namespace first: it grants the rights to join the others. */
  struct berth_trace_span join = berth_trace_begin ("join namespaces, root");
  if (t->user && setns (t->pidfd, CLONE_NEWUSER) < 0)
    child_fail_sys (ctx, NULL, "join the container's user namespace");
  if (t->user && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    child_fail_sys (ctx, NULL, "become root in the container's user namespace (is 0 mapped?)");
  if (t->join && setns (t->pidfd, t->join) < 0)
    child_fail_sys (ctx, NULL, "join the container's namespaces (0x%x)", (unsigned) t->join);
  /* The init's root, whether it got there by pivot_root or chroot. */
  if (fchdir (t->root_fd) < 0 || chroot (".") < 0 || chdir ("/") < 0)
    child_fail_sys (ctx, NULL, "enter the container's root");
  target_close (t);
  berth_trace_end (&join);
  /* Nothing of berth's beyond the sync socket and the log from here: no
     directory of the host for a /proc/self/fd path in --cwd or
     process.json to reach (CVE-2024-21626). */
  {
    int keep[] = { ctx->sock, berth_log_fd () };
    laststage_close_fds (&ls, keep, sizeof keep / sizeof keep[0]);
  }
  if (setsid () < 0)
    child_fail_sys (ctx, NULL, "setsid");
  if (p->terminal)
    {
      int master = -1;
      if (laststage_terminal (&ls, &master, &err) < 0)
        child_fail (ctx, &err);
      if (sync_send (ctx->sock, SYNC_CONSOLE, NULL, master) < 0)
        _exit (127);
      close (master);
    }
  /* As runc: the working directory as root when root may enter it, else
     after the switch to the user (a root-squashing mount, say).  Unlike the
     init's, it is not created.  The scheduler is set by berth once the
     process is in the cgroup. */
  TEST_STOP_AT ("exec:cwd");
  if (laststage_prepare (&ls, &err) < 0 || laststage_seccomp_listener (&ls, ctx->sock, &err) < 0)
    child_fail (ctx, &err);
  laststage_fds_for_exec (&ls);
  if (laststage_identity (&ls, &err) < 0)
    child_fail (ctx, &err);

  /* From here berth's death shows as EOF on the socket.  The signal must
     go now: a process that joins a frozen cgroup waits for GO until the
     container is resumed, long after a detached berth has exited. */
  prctl (PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (sync_send (ctx->sock, SYNC_READY, NULL, -1) < 0
      || sync_expect (ctx->sock, SYNC_GO, NULL, NULL, &err) < 0)
    _exit (127);
  /* With no_new_privs, the filter last, after GO: the sync is not
     filtered. */
  if (laststage_seccomp_last (&ls, &err) < 0)
    child_fail (ctx, &err);
  laststage_exec (&ls, &err);
  child_fail (ctx, &err);
}

/* ---- the runtime's side --------------------------------------------------- */

/* runc's checkTerminal. */
static int
check_terminal (const struct oci_process *p, const struct exec_options *o,
                struct berth_error *err)
{
  if (o->detach && p->terminal && o->console_socket == NULL)
    return berth_err (err, BERTH_E_USAGE,
                      "cannot allocate tty if berth will detach without setting console socket");
  if ((!o->detach || !p->terminal) && o->console_socket)
    return berth_err (err, BERTH_E_USAGE,
                      "cannot use console socket if berth will not detach or allocate tty");
  return 0;
}

/* The preserved fds must be the caller's: were one of them closed, a
   descriptor berth opens could take its number and reach the container. */
static int
check_preserved (int n, struct berth_error *err)
{
  for (int fd = 3; fd < 3 + n; fd++)
    if (fcntl (fd, F_GETFD) < 0 || fd == berth_log_fd ())
      return berth_err (err, BERTH_E_USAGE, "--preserve-fds %d: fd %d is not open%s", n, fd,
                        fd == berth_log_fd () ? " (it is berth's log)" : "");
  return 0;
}

struct job {
  struct container c;
  struct oci_config *config;      /* the container's, as created */
  struct berth_seccomp *seccomp;  /* its compiled linux.seccomp, or NULL */
  struct oci_process *p;
  struct target t;
  struct exec_cgroup cg;          /* c.cgroup's directories, or --cgroup's */
  int sock;
  pid_t child;
  bool child_failed; /* it sent SYNC_ERROR */
  bool child_enters; /* it moves itself into its cgroup (spawn) */
  int child_pidfd;
  int console;
  struct sched_plan sched;        /* scheduler and ioPriority */
  struct affinity_plan affinity;  /* execCPUAffinity */
};

/* runtime-spec: the listener gets the containerProcessState (this process'
   pid, the container's state) and the fd. */
static int
send_seccomp_listener (struct job *j, int fd, struct berth_error *err)
{
  const struct oci_seccomp *s = j->config->linux->seccomp;
  cleanup_free char *state = NULL, *msg = NULL;

  if (hooks_state_json (j->config, j->c.saved->id, j->c.saved->pid, j->c.saved->bundle,
                        j->c.status, &state, err) < 0
      || seccomp_listener_message (s, j->child, state, &msg, err) < 0
      || seccomp_send_listener (s->listener_path, fd, msg, err) < 0)
    {
      if (err->path[0])
        berth_err_set_source (err, "config.json");
      return -1;
    }
  return 0;
}

/* Until READY: relay the pty, pass a seccomp listener on, take the child's
   errors. */
static int
await_ready (struct job *j, const struct exec_options *o, struct berth_error *err)
{
  for (;;)
    {
      struct sync_msg m;
      int fd = -1;

      if (sync_recv (j->sock, &m, &fd, NULL, err) < 0)
        {
          if (err->kind == BERTH_E_CHILD)
            berth_err (err, BERTH_E_CHILD,
                       "the process died while it was set up in the container");
          return -1;
        }
      if (m.kind == SYNC_ERROR)
        {
          *err = m.err;
          j->child_failed = true;
          if (o->process_file && err->path[0] && !err->source[0])
            berth_err_set_source (err, "process.json");
          return -1;
        }
      if (m.kind == SYNC_CONSOLE && fd >= 0)
        {
          int r = 0;
          if (o->console_socket)
            r = terminal_send_fd (o->console_socket, fd, err);
          if (j->console < 0 && !o->detach)
            j->console = fd;
          else
            close (fd);
          if (r < 0)
            return -1;
          continue;
        }
      if (m.kind == SYNC_SECCOMP && fd >= 0)
        {
          int r = send_seccomp_listener (j, fd, err);
          close (fd);
          if (r < 0)
            return -1;
          if (sync_send (j->sock, SYNC_GO, NULL, -1) < 0)
            return berth_err_sys (err, errno, "resume the exec'd process");
          continue;
        }
      if (fd >= 0)
        close (fd);
      if (m.kind == SYNC_READY)
        return 0;
      return berth_err (err, BERTH_E_CHILD, "unexpected message %d from the exec'd process",
                        (int) m.kind);
    }
}

/* Scheduling once the process is in the container's cgroup, whose
   real-time budget and cpuset are what the kernel checks it against, and
   from here, where CAP_SYS_NICE is certain.  Without execCPUAffinity the
   affinity is reset, as runc does, so that berth's own is not inherited. */
static int
apply_scheduling (struct job *j, const struct exec_options *o, struct berth_error *err)
{
  int r;

  if (j->affinity.initial.set == NULL && j->affinity.final.set == NULL)
    affinity_reset (j->child);
  r = sched_apply (j->child, &j->sched, err) < 0
              || affinity_apply (j->child, &j->affinity, "final", err) < 0
          ? -1
          : 0;
  if (r < 0)
    berth_err_set_source (err, o->process_file ? "process.json" : "config.json");
  return r;
}

/* The process into the container's cgroups, its scheduling, then GO. */
static int
go_ahead (struct job *j, const struct exec_options *o, struct berth_error *err)
{
  if ((!j->child_enters
       && BERTH_TRACED ("cgroup enter", j->c.cgroup_driver->enter (&j->cg.cg, j->child, err)) < 0)
      || apply_scheduling (j, o, err) < 0)
    return -1;
  /* EPIPE: the child failed and exited; await_ready reads why. */
  if (sync_send (j->sock, SYNC_GO, NULL, -1) < 0 && errno != EPIPE)
    return berth_err_sys (err, errno, "start the exec'd process");
  return 0;
}

static int
spawn (struct job *j, const struct exec_options *o, bool paused, const sigset_t *sigmask,
       struct berth_error *err)
{
  int sv[2];
  struct child_ctx ctx = { j->p,
                           o,
                           &j->t,
                           -1,
                           sigmask,
                           { j->c.state.dir_fd, j->c.state.root_fd },
                           j->seccomp,
                           j->config->linux,
                           &j->affinity };

  /* The cgroups, the scheduler and GO at once, while the child sets itself
     up: it then finds GO waiting and execs without a round trip.  Not when
     the container is paused (a process in a frozen cgroup stops before it
     could say it is set up), nor with execCPUAffinity.initial (which holds
     until the process is in the cgroup), nor with a seccomp listener (whose
     relay takes the GO the child waits for first). */
  bool early = !paused && j->affinity.initial.set == NULL
               && laststage_seccomp_slot (j->seccomp, j->p) != LASTSTAGE_SECCOMP_LISTENER;
  /* Then the child places itself, so that no move by pid waits for a
     grace period (cgroup_enter_self in cgroup.h): cloned into the cgroup's
     v2 directory (clone_into), moving itself into the rest (enter_self).
     Not when berth must set its scheduling once it is in. */
  const struct cgroup_driver *cgd = j->c.cgroup_driver;
  bool self = early && !j->sched.has_sched && !j->sched.has_ioprio
              && j->affinity.final.set == NULL;
  const char *into_dir = self && cgd->clone_into ? cgd->clone_into (&j->cg.cg) : NULL;
  cleanup_close int into = into_dir ? open (into_dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
  bool born_in = false;
  ctx.cgroup_enter_self = self ? cgd->enter_self : NULL;
  ctx.cg = &j->cg.cg;

  if (sync_pair (sv, err) < 0)
    return -1;
  j->sock = sv[0];
  ctx.sock = sv[1];
  /* pid namespaces apply to children: ours go straight into the
     container's, and our own pid namespace does not change.  Our own is
     restored for later children right after the fork (a sanitizer's
     helper thread at exit must not land in the container). */
  cleanup_close int own_pidns = j->t.pid ? open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC) : -1;
  /* Rootless, the container's pid namespace is joined only with the rights
     its user namespace gives: joined here for good (a user owns those it
     made), and not again by the child.  Ours then stays out of reach. */
  if (j->t.pid && j->t.user && geteuid () != 0)
    {
      if (setns (j->t.pidfd, CLONE_NEWUSER) < 0)
        {
          close (sv[1]);
          return berth_err_sys (err, errno, "join the container's user namespace");
        }
      j->t.user = false;
    }
  if (j->t.pid && (own_pidns < 0 || setns (j->t.pidfd, CLONE_NEWPID) < 0))
    {
      close (sv[1]);
      return berth_err_sys (err, errno, "join the container's pid namespace");
    }
  struct berth_trace_span fork_span = berth_trace_begin ("fork");
  if (into >= 0)
    born_in = (j->child = clone_into_cgroup (0, into)) >= 0;
  if (!born_in) /* a refused clone3: moved by pid, or by itself */
    j->child = fork ();
  if (j->child != 0) /* the child's copy of the span is not the runtime's */
    berth_trace_end (&fork_span);
  if (j->child > 0)
    berth_trace_pid (BERTH_TRACE_PROCESS, j->child, "exec'd process");
  if (j->child != 0 && own_pidns >= 0)
    setns (own_pidns, CLONE_NEWPID);
  if (j->child < 0)
    {
      close (sv[1]);
      return berth_err_sys (err, errno, "fork the exec'd process");
    }
  /* It moves itself into what the clone did not cover; else berth moves it
     (into the v2 directory it may be in already too: a no-op). */
  j->child_enters = ctx.cgroup_enter_self != NULL;
  if (j->child == 0)
    {
      close (sv[0]);
      if (into >= 0) /* a host directory, which the clone has used */
        close (into);
      ctx.born_in_cgroup = born_in;
      child_run (&ctx);
    }
  close (sv[1]);
  j->child_pidfd = (int) syscall (SYS_pidfd_open, j->child, 0);
  if (j->child_pidfd < 0)
    return berth_err_sys (err, errno, "pidfd_open the exec'd process");

  if (early && go_ahead (j, o, err) < 0)
    {
      /* A child that failed first (its cwd, say) is why: its error is the
         one to tell. */
      struct berth_error child_err = { 0 };
      if (await_ready (j, o, &child_err) < 0 && j->child_failed)
        *err = child_err;
      return -1;
    }
  if (BERTH_TRACED ("wait for the process", await_ready (j, o, err)) < 0
      || (o->pid_file && write_pid_file (o->pid_file, j->child, err) < 0)
      || (o->pidfd_socket
          && unix_send_fd (o->pidfd_socket, j->child_pidfd, "pidfd", "pidfd socket", err) < 0)
      || (!early && go_ahead (j, o, err) < 0))
    return -1;
  /* A frozen process will exec when the container is resumed; nothing to
     wait for now. */
  if (paused)
    return 0;
  /* execve closes the child's end: EOF.  A failing execve sends an error. */
  {
    struct sync_msg m;
    struct berth_error eof = { 0 };
    BERTH_TRACE_SCOPE ("wait for execve");
    if (sync_recv (j->sock, &m, NULL, NULL, &eof) < 0)
      return eof.kind == BERTH_E_CHILD ? 0 : (*err = eof, -1);
    if (m.kind == SYNC_ERROR)
      {
        *err = m.err;
        return -1;
      }
  }
  return 0;
}

static void
job_cleanup (struct job *j, bool kill_child)
{
  if (kill_child && j->child > 0)
    {
      if (j->child_pidfd >= 0)
        syscall (SYS_pidfd_send_signal, j->child_pidfd, SIGKILL, NULL, 0);
      else
        kill (j->child, SIGKILL);
      waitpid (j->child, NULL, 0);
    }
  if (j->child_pidfd >= 0)
    close (j->child_pidfd);
  if (j->sock >= 0)
    close (j->sock);
  if (j->console >= 0 && kill_child)
    close (j->console);
  j->child_pidfd = j->sock = -1;
  target_close (&j->t);
  if (j->p)
    oci_free (&oci_type_process, j->p);
  if (j->config)
    oci_config_free (j->config);
  if (j->seccomp)
    seccomp_free (j->seccomp);
  affinity_plan_free (&j->affinity);
  j->p = NULL;
  j->config = NULL;
  j->seccomp = NULL;
  exec_cgroup_free (&j->cg);
  if (j->c.saved)
    container_close (&j->c);
}

/* What sched_apply and affinity_apply need, checked by exec_load_process. */
static int
exec_plans (struct job *j, const struct exec_options *o, struct berth_error *err)
{
  const char *base = o->process_file ? "" : ".process";

  if (sched_plan_make (j->p, base, &j->sched, err) < 0
      || affinity_plan_make (j->p, base, &j->affinity, err) < 0)
    {
      berth_err_set_source (err, o->process_file ? "process.json" : "config.json");
      return -1;
    }
  return 0;
}

/* `exec -p FILE` has read FILE by the time it knows the process needs the
   sealed copy (its capabilities decide), and the copy must not read it
   again: a pipe is empty by then, and a file may have changed.  The copy
   gets the process as parsed, in a memfd named in place of FILE on its
   command line, above the preserved fds (process_fds_for_exec() closes it). */
static int
reexec_sealed (char *const *argv, const struct exec_options *o, const struct oci_process *p,
               const sigset_t *mask, struct berth_error *err)
{
  cleanup_free char *json = NULL, *arg = NULL;
  cleanup_free char **copy = NULL;
  cleanup_close int mem = -1;
  size_t len = 0, n = 0;
  int fd;

  if (o->process_file == NULL || sealed_exe_running ())
    return sealed_exe_reexec (argv, mask, err);
  if (oci_emit (&oci_type_process, p, NULL, &json, &len, err) < 0)
    return -1;
  mem = memfd_create ("berth-process", MFD_CLOEXEC);
  if (mem < 0 || write_all (mem, json, len) < 0)
    return berth_err_sys (err, errno, "keep the process for the sealed copy of berth");
  /* Not close-on-exec: the copy opens it. */
  fd = fcntl (mem, F_DUPFD, 3 + o->preserve_fds);
  if (fd < 0)
    return berth_err_sys (err, errno, "keep the process for the sealed copy of berth");
  while (argv[n])
    n++;
  copy = calloc (n + 1, sizeof *copy);
  if (copy == NULL)
    {
      close (fd);
      return berth_err_sys (err, ENOMEM, "out of memory");
    }
  for (size_t i = 0; i < n; i++)
    {
      /* process_file points into the argument that held it: "-p FILE",
         "-pFILE", "--process FILE" or "--process=FILE". */
      uintptr_t a = (uintptr_t) argv[i], f = (uintptr_t) o->process_file;
      copy[i] = argv[i];
      if (arg == NULL && f >= a && f <= a + strlen (argv[i]))
        {
          if (asprintf (&arg, "%.*s/proc/self/fd/%d", (int) (f - a), argv[i], fd) < 0)
            {
              arg = NULL;
              close (fd);
              return berth_err_sys (err, ENOMEM, "out of memory");
            }
          copy[i] = arg;
        }
    }
  sealed_exe_reexec (copy, mask, err);
  close (fd);
  return -1;
}

int
exec_run (const struct berth_runtime *rt, const char *id, const struct exec_options *o,
          struct berth_error *err)
{
  /* container_wait's forwarded signals: held from the start, so that one
     sent while the process is being set up reaches it rather than killing
     berth alone. */
  static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
  struct job j = { .sock = -1, .child_pidfd = -1, .console = -1,
                   .t = { -1, -1, -1, 0, false, false } };
  sigset_t hold, saved;
  bool paused;
  int console, status;

  if (check_preserved (o->preserve_fds, err) < 0)
    return -1;
  sigemptyset (&hold);
  if (!o->detach)
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
      sigaddset (&hold, forwarded[i]);
  if (BERTH_TRACED ("state", container_open (rt, id, &j.c, err)) < 0)
    return -1;
  sigprocmask (SIG_BLOCK, &hold, &saved);
  paused = strcmp (j.c.status, "paused") == 0;
  if (strcmp (j.c.status, "stopped") == 0)
    berth_err (err, BERTH_E_STATE, "cannot exec in a stopped container");
  else if (paused && !o->ignore_paused)
    berth_err (err, BERTH_E_STATE,
               "cannot exec in a paused container (use --ignore-paused to override)");
  else if (BERTH_TRACED ("process, seccomp compile",
                         exec_load_process (rt, &j.c, o, &j.config, &j.seccomp, &j.p, err)) == 0
           && (rt->argv == NULL || !sealed_exe_needed (j.config, j.p)
               || reexec_sealed (rt->argv, o, j.p, &saved, err) == 0)
           && exec_plans (&j, o, err) == 0 && check_terminal (j.p, o, err) == 0
           && BERTH_TRACED ("cgroup", exec_cgroup_place (&j.c.cgroup, o->cgroups, o->n_cgroups, &j.cg, err)) == 0
           && open_target (&j.c, &j.t, err) == 0
           && BERTH_TRACED ("spawn", spawn (&j, o, paused, &saved, err)) == 0)
    {
      console = j.console;
      j.console = -1;
      /* Unlock before waiting: `state`, `kill` and `delete` must not block
         behind a long-running exec. */
      job_cleanup (&j, false);
      if (o->detach)
        {
          if (console >= 0)
            close (console);
          sigprocmask (SIG_SETMASK, &saved, NULL);
          return 0;
        }
      status = container_wait (j.child, console, err);
      if (console >= 0)
        close (console);
      return status;
    }
  job_cleanup (&j, true);
  sigprocmask (SIG_SETMASK, &saved, NULL);
  return -1;
}
