/* berth — OCI hooks (config.md "POSIX-platform Hooks").
 *
 * Contract: hooks_run() runs one list of hooks in order, each with the
 * container's state JSON on stdin, exactly its `args` (or just its path) and
 * `env` (or nothing), and killed after `timeout` seconds.  The first hook
 * that fails (non-zero exit, signal, timeout, cannot start) stops the list
 * and is returned as an error naming .hooks.<kind>[i] and the hook's stderr;
 * hooks_run_one() runs hooks[i] alone, for a caller that goes on after a
 * failure (poststop).  With `cwd`, each hook starts there; otherwise in the
 * caller's working directory.
 * Where and in which namespace each list runs, and what its failure means,
 * is the caller's business (container.c, init.c), as config.md lays down.
 */
#ifndef BERTH_HOOKS_H
#define BERTH_HOOKS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

int hooks_run (const struct oci_hook *hooks, size_t n, const char *kind, const char *state_json,
               const char *cwd, struct berth_error *err);
int hooks_run_one (const struct oci_hook *hooks, size_t i, const char *kind,
                   const char *state_json, const char *cwd, struct berth_error *err);

/* The OCI state document handed to hooks (and to a seccomp listener). */
int hooks_state_json (const struct oci_config *c, const char *id, pid_t pid, const char *bundle,
                      const char *status, char **out, struct berth_error *err);

static inline bool
hooks_any (const struct oci_hook *h, size_t n)
{
  (void) h;
  return n > 0;
}

#endif
