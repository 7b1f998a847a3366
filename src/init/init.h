/* berth — the container's init, from clone() to execve().
 *
 * Contract: init_run() runs in the freshly cloned child (which shares no
 * memory with the runtime, only a copy) and never returns to the runtime's
 * code: it execs the container's program or _exits.  Sequence, as a list:
 *   [staged: join path namespaces, unshare user ns and wait for the maps,
 *    unshare the rest, write time offsets, fork the real init]
 *   [direct: unshare the namespaces the clone did not make (all new ones but
 *    pid, cgroup, time, user), while the runtime makes the cgroup]
 *   wait for GO (cgroup placed) -> [move itself into the cgroup, but the
 *   v2 directory it may have been cloned into: cgroup_enter_self]
 *   -> join path namespaces -> close every fd
 *   but stdio, the preserved ones, the sync socket, exec.fifo (O_PATH),
 *   the log and the bind sources -> unshare cgroup ns
 *   -> setsid -> session keyring -> rootfs (mounts, devices, pivot) -> pty
 *   -> hostname, domainname, sysctl -> masked/readonly paths, ro root -> cwd
 *   (resolved inside the root, then checked to be under it)
 *   -> find the program -> rlimits, oom_score_adj, scheduler,
 *   personality, memory policy, labels -> [seccomp with a listener] -> READY
 *   -> block on exec.fifo until `start` -> [seccomp without no_new_privs]
 *   -> user, capabilities, no_new_privs -> [seccomp with no_new_privs] ->
 *   startContainer hooks -> execve.  The steps from the fd closing to the
 *   execve are init/laststage.h's, shared with `exec`.
 * Any failure before READY is sent to the runtime as a berth_error.
 */
#ifndef BERTH_INIT_H
#define BERTH_INIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "init/mempolicy.h"
#include "init/namespaces.h"
#include "spec.h"

struct berth_seccomp;
struct berth_cgroup;

struct init_ctx {
  const struct oci_config *config;
  const char *id;
  const char *rootfs;     /* absolute host path */
  int sync_fd;            /* the init's end of the sync channel */
  int exec_fifo_fd;       /* O_PATH, of exec.fifo itself: never a directory */
  struct ns_plan *ns;
  bool staged;            /* two-step start: user or time namespace involved */
  int unshare_flags;      /* direct path: init_direct_unshare_flags() */
  int preserve_fds;       /* fds 3 .. 3+N-1 stay open in the container */
  bool no_pivot;
  bool no_new_keyring;
  const struct berth_seccomp *seccomp; /* compiled by the runtime; NULL: none */
  const struct mempolicy_plan *mempolicy; /* planned by the runtime; may be unset */
  const int *bind_sources; /* per mount, the runtime's detached source, or -1; may be NULL */
  const struct berth_cgroup *cgroup;   /* the container's cgroup directories */
  /* Direct path: the cgroup driver's enter_self, which the init calls when
     GO says so; NULL when the runtime places the init (driver.h). */
  int (*cgroup_enter_self) (const struct berth_cgroup *cg, bool born_in_v2,
                            struct berth_error *err);
  bool born_in_cgroup;    /* cloned into the cgroup's v2 directory */
  const char *bundle;     /* absolute, for the hooks' state */
  pid_t host_pid;         /* the init's pid as the runtime sees it (known once
                             the runtime answers SYNC_HOOKS) */
};

__attribute__ ((noreturn)) void init_run (struct init_ctx *ctx);

/* The direct (single clone) path: the new namespaces the clone itself
   makes (only the pid namespace, which unshare cannot give the caller) and
   those the init unshares at once, in parallel with the runtime's cgroup
   work, before it waits for GO. */
int init_direct_clone_flags (const struct ns_plan *ns);
int init_direct_unshare_flags (const struct ns_plan *ns);

#endif
