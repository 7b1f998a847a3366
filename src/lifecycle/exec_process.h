/* berth — `exec`: the process to run, as runc builds it.
 *
 * Contract: exec_load_process() reads the container's config (*config) and
 * compiles its seccomp filter (*seccomp, NULL without one; from the cache
 * under --root when it can), which the process gets too.  The process
 * (*out) is the --process document, parsed as runc reads it (any file, a
 * pipe included; without `user`, root) and checked, errors naming
 * process.json; or the config's own process, taken out of *config, with
 * args replaced and the command-line overrides applied (runc's
 * getProcess: --tty, --cwd, --env, --user, --additional-gids, --cap,
 * --no-new-privs, --apparmor, --process-label).  No system call beyond
 * reading files.
 */
#ifndef BERTH_EXEC_PROCESS_H
#define BERTH_EXEC_PROCESS_H

#include "error.h"
#include "lifecycle/container.h"
#include "lifecycle/exec.h"
#include "security/seccomp.h"
#include "spec.h"

int exec_load_process (const struct berth_runtime *rt, const struct container *c,
                       const struct exec_options *o, struct oci_config **config,
                       struct berth_seccomp **seccomp, struct oci_process **out,
                       struct berth_error *err);

#endif
