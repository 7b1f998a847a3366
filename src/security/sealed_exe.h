/* berth — the runtime binary as the container can see it (CVE-2019-5736).
 *
 * The container's init is a clone of `berth create` until `start` execs the
 * user's program, and `berth exec` clones one into the container too; their
 * /proc/<pid>/exe is berth's own binary on the host.  A container process
 * that can open that link could wait for berth to exit and then write the
 * host's binary.  Two defences, chosen per container:
 *
 *  - Always: every berth process inside the container is non-dumpable
 *    (init.c, exec.c), so opening /proc/<pid>/exe needs CAP_SYS_PTRACE in
 *    the user namespace berth runs in.  This costs nothing.
 *  - When that is not enough, i.e. a container without a user namespace of
 *    its own whose processes may hold CAP_SYS_PTRACE (any capability set of
 *    the config or of the exec'd process names it: `--privileged`),
 *    sealed_exe_reexec() re-executes berth from a sealed memfd copy of
 *    itself before it does anything else for that container.  /proc/<pid>/exe
 *    then names the copy, which no one can write (F_SEAL_WRITE) and which is
 *    not the host's file.  Only such containers pay for the copy and the
 *    extra execve (bench/bench.py --variants measures it).
 *
 * A read-only bind mount of the binary (runc ≥ 1.2) was not chosen: it needs
 * a mount namespace of berth's own around create and exec, which costs more
 * than the copy and is paid by everyone.
 */
#ifndef BERTH_SEALED_EXE_H
#define BERTH_SEALED_EXE_H

#include <signal.h>
#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* Whether processes of a container with config `c` (and, for exec, the
   process `p`, may be NULL) can reach a non-dumpable berth process through
   /proc: no user namespace, and CAP_SYS_PTRACE in some capability set. */
bool sealed_exe_needed (const struct oci_config *c, const struct oci_process *p);

/* Re-executes argv from a sealed memfd copy of /proc/self/exe, unless this
   process already runs from one (then returns 0).  `mask` (may be NULL) is
   the signal mask to exec with, as the mask survives execve.  Returns only
   on error. */
int sealed_exe_reexec (char *const *argv, const sigset_t *mask, struct berth_error *err);

/* Whether this process runs from the sealed copy already. */
bool sealed_exe_running (void);

#endif
