/* berth — the last stage of a container process, shared by the container's
 * init and by `exec`: from the container's root to execve().
 *
 * Contract: called in the process that will execve, once it is in the
 * container's namespaces and root.  The caller fills a struct laststage and
 * calls the steps in this order, doing its own work (sync messages, waits)
 * in between:
 *
 *   laststage_close_fds     nothing of the runtime's beyond `keep` (any
 *                           number of fds) survives; call it before any
 *                           config path is resolved (CVE-2024-21626)
 *   laststage_terminal      (process.terminal) a pty from the container's
 *                           /dev/ptmx, its peer the controlling terminal and
 *                           fds 0-2; the master returned for the runtime
 *   laststage_prepare       cwd, the program, rlimits, oom_score_adj, [the
 *                           scheduler], personality, [memory policy], LSM
 *                           labels for the execve
 *   laststage_seccomp_listener   a filter with a listener goes in, its fd
 *                           to the runtime over the sync socket, then GO
 *   laststage_fds_for_exec  everything but stdio and the preserved fds
 *                           close-on-exec
 *   laststage_identity      [seccomp, without no_new_privs] user, groups,
 *                           capabilities, umask, no_new_privs [a cwd the
 *                           user could enter and root could not]
 *   laststage_seccomp_last  [seccomp, with no_new_privs]
 *   laststage_exec          execve; returns only on failure
 *
 * Where the filter goes is decided once, by laststage_seccomp_slot().
 * Every step returns <0 with err filled (JSON paths under `base`; a
 * personality error is config.json's); reporting it is the caller's.
 * No step allocates anything the caller must free but `program`, which the
 * execve replaces.
 */
#ifndef BERTH_LASTSTAGE_H
#define BERTH_LASTSTAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "spec.h"

struct berth_seccomp;
struct sched_plan;
struct mempolicy_plan;

enum laststage_cwd {
  /* The init: a missing working directory is made (mode 0755, as root,
     as runc does); one root cannot enter fails the create. */
  LASTSTAGE_CWD_CREATE,
  /* exec: never made; one root may not enter (a root-squashing mount) is
     entered again after the switch to the process' user. */
  LASTSTAGE_CWD_RETRY_AS_USER,
};

/* Where the container's seccomp filter is installed. */
enum laststage_seccomp {
  LASTSTAGE_SECCOMP_NONE,
  /* A listener: early, while the sync socket can still carry its fd to the
     runtime and the process is root with CAP_SYS_ADMIN. */
  LASTSTAGE_SECCOMP_LISTENER,
  /* No no_new_privs: loading needs CAP_SYS_ADMIN, so before the identity
     change drops it. */
  LASTSTAGE_SECCOMP_BEFORE_IDENTITY,
  /* no_new_privs: as late as possible, after the identity change. */
  LASTSTAGE_SECCOMP_AFTER_IDENTITY,
};

struct laststage {
  /* The caller's */
  const struct oci_process *p;
  const char *base;                       /* of JSON paths: ".process" or "" */
  const struct oci_linux *lx;             /* the container's (personality); may be NULL */
  const struct berth_seccomp *seccomp;    /* compiled by the runtime; NULL: none */
  const struct sched_plan *sched;         /* applied in-process; NULL: not here */
  const struct mempolicy_plan *mempolicy; /* NULL: not here */
  int preserve_fds;                       /* fds 3 .. 3+N-1 go to the program */
  bool console;                           /* bind the pty onto /dev/console */
  enum laststage_cwd cwd;
  /* The stage's own */
  unsigned fd_bound;                      /* see laststage_close_fds */
  bool cwd_pending;
  char *program;                          /* found by laststage_prepare */
};

enum laststage_seccomp laststage_seccomp_slot (const struct berth_seccomp *f,
                                               const struct oci_process *p);

/* Close every fd above stdio but the preserved ones and keep[0..n_keep)
   (-1 entries ignored; keep is sorted in place).  close_range(2); on a
   kernel without it, a loop up to the RLIMIT_NOFILE hard limit read here,
   before the process' rlimits apply, which laststage_fds_for_exec reuses. */
void laststage_close_fds (struct laststage *s, int *keep, size_t n_keep);
int laststage_terminal (struct laststage *s, int *master, struct berth_error *err);
int laststage_prepare (struct laststage *s, struct berth_error *err);
/* Nothing unless the slot is LISTENER.  A failure to talk to the runtime
   is an error too (the caller's report then goes nowhere, and it exits). */
int laststage_seccomp_listener (struct laststage *s, int sync_fd, struct berth_error *err);
void laststage_fds_for_exec (struct laststage *s);
int laststage_identity (struct laststage *s, struct berth_error *err);
int laststage_seccomp_last (struct laststage *s, struct berth_error *err);
int laststage_exec (struct laststage *s, struct berth_error *err);

#endif
