/* berth — the last stage, shared by the init and exec (see laststage.h). */
#include "init/laststage.h"
#include "cleanup.h"
#include "base/trace.h"
#include "base/log.h"
#include "base/utils.h"
#include "init/mempolicy.h"
#include "init/process.h"
#include "init/scheduling.h"
#include "security/lsm.h"
#include "security/seccomp.h"
#include "base/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum laststage_seccomp
laststage_seccomp_slot (const struct berth_seccomp *f, const struct oci_process *p)
{
  if (f == NULL || p == NULL)
    return LASTSTAGE_SECCOMP_NONE;
  if (f->listener)
    return LASTSTAGE_SECCOMP_LISTENER;
  return p->no_new_privileges ? LASTSTAGE_SECCOMP_AFTER_IDENTITY
                              : LASTSTAGE_SECCOMP_BEFORE_IDENTITY;
}

/* ---- descriptors ---------------------------------------------------------- */

/* Only for the fallback loops, on kernels without close_range (5.9): no fd
   can have been opened at or above the RLIMIT_NOFILE hard limit in force
   when it was opened.  Read before the process' own rlimits apply (they may
   lower it below fds the runtime handed down); capped, so that an unlimited
   hard limit does not mean 2^31 system calls. */
static unsigned
fd_bound (struct laststage *s)
{
  struct rlimit r;

  if (s->fd_bound)
    return s->fd_bound;
  s->fd_bound = 1u << 20;
  if (getrlimit (RLIMIT_NOFILE, &r) == 0 && r.rlim_max != RLIM_INFINITY
      && r.rlim_max < s->fd_bound)
    s->fd_bound = (unsigned) r.rlim_max;
  return s->fd_bound;
}

static void
close_between (struct laststage *s, unsigned lo, unsigned hi)
{
  if (lo > hi)
    return;
  if (syscall (SYS_close_range, lo, hi, 0) == 0)
    return;
  for (unsigned fd = lo, top = fd_bound (s); fd <= hi && fd < top; fd++)
    close ((int) fd);
}

void
laststage_close_fds (struct laststage *s, int *keep, size_t n_keep)
{
  BERTH_TRACE_SCOPE ("close fds");
  unsigned lo = 3u + (unsigned) s->preserve_fds;

  (void) fd_bound (s);
  /* Insertion sort: a handful of fds, one per bind mount at most. */
  for (size_t i = 1; i < n_keep; i++)
    {
      int v = keep[i];
      size_t j = i;
      for (; j > 0 && keep[j - 1] > v; j--)
        keep[j] = keep[j - 1];
      keep[j] = v;
    }
  for (size_t i = 0; i < n_keep; i++)
    {
      if (keep[i] < (int) lo)
        continue;
      close_between (s, lo, (unsigned) keep[i] - 1);
      lo = (unsigned) keep[i] + 1;
    }
  close_between (s, lo, ~0u);
}

void
laststage_fds_for_exec (struct laststage *s)
{
  unsigned first = 3u + (unsigned) s->preserve_fds;

  if (syscall (SYS_close_range, first, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
    for (unsigned fd = first, top = fd_bound (s); fd < top; fd++)
      fcntl ((int) fd, F_SETFD, FD_CLOEXEC);
  for (int fd = 3; fd < (int) first; fd++)
    fcntl (fd, F_SETFD, 0);
}

/* ---- the terminal --------------------------------------------------------- */

/* The peer straight from the master: TIOCGPTPEER opens it in the master's
   own devpts instance, with no path in the container to trust (a
   /dev/pts/N by name may be another instance's, or whatever the image put
   there).  Kernels before 4.13 lack the ioctl (ENOTTY, or EINVAL from some
   drivers); only there is the peer opened by its name, which *name then
   holds (empty otherwise). */
static int
open_peer (int m, char *name, size_t len, struct berth_error *err)
{
  int s = ioctl (m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);

  name[0] = '\0';
  if (s >= 0)
    return s;
  if (errno != ENOTTY && errno != EINVAL)
    return berth_err_sys (err, errno, "open the pty's peer");
  if (ptsname_r (m, name, len) != 0)
    return berth_err_sys (err, errno, "set up the pty");
  if ((s = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
    return berth_err_sys (err, errno, "open %s", name);
  return s;
}

/* The init's pty is the container's console too.  A /dev/console that is
   missing (no terminal node was made) is left alone. */
static int
bind_console (int s, const char *name, struct berth_error *err)
{
  cleanup_close int target = open ("/dev/console", O_PATH | O_CLOEXEC);
  cleanup_close int tree = -1;

  if (target < 0)
    return 0;
  if (name[0])
    {
      /* Pre-4.13 kernels have no open_tree (5.2) either. */
      if (mount (name, "/dev/console", NULL, MS_BIND, NULL) < 0)
        return berth_err_sys (err, errno, "bind %s onto /dev/console", name);
      return 0;
    }
  tree = open_tree (s, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0
      || move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return berth_err_sys (err, errno, "bind the pty onto /dev/console");
  return 0;
}

static int
terminal (struct laststage *s, int *master, struct berth_error *err)
{
  const struct oci_process *p = s->p;
  /* O_NONBLOCK: a FIFO planted at /dev/ptmx must not hang the open. */
  cleanup_close int m = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  cleanup_close int peer = -1;
  char name[64];
  struct stat st;

  if (m < 0)
    return berth_err_sys (err, errno, "open /dev/ptmx in the container (is devpts mounted?)");
  if (fstat (m, &st) < 0 || !S_ISCHR (st.st_mode) || unlockpt (m) < 0)
    return berth_err (err, BERTH_E_VALUE, "/dev/ptmx in the container is not a pty multiplexer");
  fcntl (m, F_SETFL, fcntl (m, F_GETFL) & ~O_NONBLOCK);
  if ((peer = open_peer (m, name, sizeof name, err)) < 0)
    return -1;
  /* The process' user owns its terminal, as with runc (the group stays
     devpts' own, tty); an unmapped uid leaves it to root.  The pty is the
     one just made, never the caller's stdio, which may be a host file. */
  if (p->user && fchown (peer, p->user->uid, (gid_t) -1) < 0)
    berth_debug ("chown the pty to %u: %s", p->user->uid, strerror (errno));
  if (s->console && bind_console (peer, name, err) < 0)
    return -1;
  if (p->console_size)
    {
      struct winsize ws = { .ws_row = (unsigned short) p->console_size->height,
                            .ws_col = (unsigned short) p->console_size->width };
      if (ioctl (peer, TIOCSWINSZ, &ws) < 0)
        return berth_err_sys (err, errno, "set the console size");
    }
  if (ioctl (peer, TIOCSCTTY, 0) < 0)
    return berth_err_sys (err, errno, "make the pty the controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2 (peer, i) < 0)
      return berth_err_sys (err, errno, "dup the pty onto fd %d", i);
  *master = steal_fd (&m);
  return 0;
}

int
laststage_terminal (struct laststage *s, int *master, struct berth_error *err)
{
  if (terminal (s, master, err) < 0)
    {
      snprintf (err->path, sizeof err->path, "%s.terminal", s->base);
      return -1;
    }
  return 0;
}

/* ---- before the identity change ------------------------------------------- */

int
laststage_prepare (struct laststage *s, struct berth_error *err)
{
  BERTH_TRACE_SCOPE ("cwd, program, rlimits, labels");
  const struct oci_process *p = s->p;
  bool create = s->cwd == LASTSTAGE_CWD_CREATE;

  if (process_enter_cwd (p, s->base, create, err) < 0)
    {
      if (create || (err->errnum != EACCES && err->errnum != EPERM))
        return -1;
      *err = (struct berth_error){ 0 };
      s->cwd_pending = true;
    }
  /* rlimits before the scheduler: RLIMIT_RTPRIO and RLIMIT_NICE bound what
     a process without CAP_SYS_NICE over the host may ask for.  Personality
     before any seccomp filter, which may limit personality(2). */
  if (process_find_program (p, s->base, &s->program, err) < 0
      || process_apply_rlimits (p, s->base, err) < 0
      || process_apply_oom_score_adj (p, s->base, err) < 0
      || (s->sched && sched_apply (0, s->sched, err) < 0))
    return -1;
  if (process_apply_personality (s->lx, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      return -1;
    }
  if ((s->mempolicy && mempolicy_apply (s->mempolicy, err) < 0)
      || lsm_apply_exec_labels (p, s->base, err) < 0)
    return -1;
  return 0;
}

/* ---- seccomp and identity ------------------------------------------------- */

static int
install_at (struct laststage *s, enum laststage_seccomp slot, struct berth_error *err)
{
  int unused;

  if (laststage_seccomp_slot (s->seccomp, s->p) != slot)
    return 0;
  return seccomp_install (s->seccomp, &unused, err);
}

int
laststage_seccomp_listener (struct laststage *s, int sync_fd, struct berth_error *err)
{
  int listener = -1;

  if (laststage_seccomp_slot (s->seccomp, s->p) != LASTSTAGE_SECCOMP_LISTENER)
    return 0;
  if (seccomp_install (s->seccomp, &listener, err) < 0)
    return -1;
  if (sync_send (sync_fd, SYNC_SECCOMP, NULL, listener) < 0)
    {
      berth_err_sys (err, errno, "pass the seccomp listener to the runtime");
      close (listener);
      return -1;
    }
  close (listener);
  return sync_expect (sync_fd, SYNC_GO, NULL, NULL, err);
}

int
laststage_identity (struct laststage *s, struct berth_error *err)
{
  BERTH_TRACE_SCOPE ("user, capabilities");
  if (install_at (s, LASTSTAGE_SECCOMP_BEFORE_IDENTITY, err) < 0
      || process_apply_identity (s->p, s->base, err) < 0)
    return -1;
  /* As runc: a working directory root could not enter, as the user. */
  if (s->cwd_pending && process_enter_cwd (s->p, s->base, false, err) < 0)
    return -1;
  s->cwd_pending = false;
  return 0;
}

int
laststage_seccomp_last (struct laststage *s, struct berth_error *err)
{
  return install_at (s, LASTSTAGE_SECCOMP_AFTER_IDENTITY, err);
}

int
laststage_exec (struct laststage *s, struct berth_error *err)
{
  berth_trace_instant ("execve");
  return process_exec (s->p, s->program, err);
}
