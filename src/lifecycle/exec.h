/* berth — `exec`: run another process inside an existing container.
 *
 * Contract:
 *  - exec_run() locks the container only while it sets the process up, and
 *    refuses a stopped container ("cannot exec in a stopped container") and a
 *    paused one unless ignore_paused; a created container is accepted, as
 *    runc does.
 *  - The process is the --process document (process.json), or the
 *    container's own config process with args replaced and the command-line
 *    overrides applied, as runc builds it.
 *  - It joins every namespace of the container's init that differs from
 *    berth's own (found through a pidfd, so a recycled pid is never joined),
 *    enters the init's root, and is placed in the container's cgroups before
 *    it execs, under the container's seccomp filter (a listener goes to
 *    listenerPath with this process' pid).  execCPUAffinity.initial is its
 *    affinity until then, .final (or, without either, every CPU, as runc)
 *    after; the scheduler and I/O priority are set once it is in the
 *    cgroup; the container's linux.personality and the process' labels
 *    apply to it as to the init.  It never inherits one of
 *    berth's descriptors: only stdio and the preserved fds 3..3+N-1 survive
 *    execve.  Nothing on the host is chowned or chmodded.
 *  - Errors up to and including execve come back as values; attached, the
 *    return value is the process' exit status (128+N for a signal); detached,
 *    0 once the program is running.
 */
#ifndef BERTH_EXEC_H
#define BERTH_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lifecycle/container.h"
#include "error.h"

struct exec_options {
  const char *process_file; /* -p: a process.json; the overrides below are then ignored */
  char *const *args;        /* the command, when there is no process file */
  size_t n_args;

  /* runner flags: apply with or without a process file */
  const char *console_socket;
  const char *pid_file;
  const char *pidfd_socket;
  bool detach;
  bool ignore_paused;
  int preserve_fds;
  char *const *cgroups; /* --cgroup [controllers:]path, repeatable */
  size_t n_cgroups;

  /* process overrides (runc's getProcess) */
  bool tty; /* without it no tty, whatever the config says (runc) */
  const char *cwd;
  char *const *env; /* K=V, appended, replacing an existing K */
  size_t n_env;
  bool user_set;
  uint32_t uid;
  bool gid_set;
  uint32_t gid;
  const uint32_t *additional_gids;
  size_t n_additional_gids;
  char *const *caps; /* added to bounding, effective, permitted (and ambient) */
  size_t n_caps;
  bool no_new_privs;
  const char *apparmor;
  const char *process_label;
};

/* Returns the process' exit status (attached), 0 (detached), or -1. */
int exec_run (const struct berth_runtime *rt, const char *id, const struct exec_options *o,
              struct berth_error *err);

#endif
