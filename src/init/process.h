/* berth — the last steps before the container's process runs: rlimits,
 * user and groups, capabilities, no_new_privs, the program's path.
 *
 * Contract: called in the process that will execve (the container's init, or
 * an exec'd process), after it has entered the container's root, by the
 * last stage (laststage.h), which puts them in order.  Each
 * function applies one facility from struct oci_process; errors carry the
 * JSON path of the property that could not be applied (linux.personality's
 * are ".linux.personality...", whatever the base).  Unknown capability
 * names are skipped with a warning (config.md: runtimes SHOULD NOT fail).
 */
#ifndef BERTH_PROCESS_H
#define BERTH_PROCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "spec.h"

/* base: ".process" for config.json, "" for an exec --process file. */
int process_find_program (const struct oci_process *p, const char *base, char **path,
                          struct berth_error *err);
/* The same rule (args[0] with a slash taken as it is, else looked for in
   the process's PATH or the default one) and the same errors, with `probe`
   deciding what a path is: 0 an executable file (or one the caller cannot
   rule out), -1 something else, an errno why it cannot be reached.  process_find_program() probes in the calling process; `berth
   check` probes the rootfs from outside. */
int process_find_program_with (const struct oci_process *p, const char *base,
                               int (*probe) (void *ctx, const char *path), void *ctx,
                               char **path, struct berth_error *err);
/* A capability name as the capability sets take it: a CAP_ name libcap
   knows (its number into *cap), within this kernel's range.  create skips
   the others with a warning (config.md: runtimes SHOULD NOT fail). */
enum process_cap_name { PROCESS_CAP_OK, PROCESS_CAP_UNKNOWN, PROCESS_CAP_NOT_IN_KERNEL };
enum process_cap_name process_cap_resolve (const char *name, int *cap);
/* Enter p->cwd, resolved inside the process's root as every config path is
   (safepath: no symlink or magic link leads out of it), then check that the
   kernel sees the new working directory under that root.  With `create`, a
   missing directory is made (mode 0755, as runc).  Call it only after
   laststage_close_fds: until then a /proc/self/fd link could name a runtime
   directory.  An EACCES/EPERM from entering it (a root-squashing mount) is
   returned with err->errnum set, so that exec can retry as the user. */
int process_enter_cwd (const struct oci_process *p, const char *base, bool create,
                       struct berth_error *err);
/* The check process_enter_cwd ends with: the working directory lies under
   the process's root ("cwd" only names it in the error). */
int process_check_cwd (const char *cwd, const char *base, struct berth_error *err);
int process_apply_rlimits (const struct oci_process *p, const char *base, struct berth_error *err);
int process_apply_oom_score_adj (const struct oci_process *p, const char *base,
                                 struct berth_error *err);
/* What create and exec refuse before anything is set up: scheduler,
   ioPriority and execCPUAffinity that cannot be applied as written,
   labels this host cannot honour (l may be NULL). */
int process_check (const struct oci_process *p, const char *base, const struct oci_linux *l,
                   struct berth_error *err);
/* linux.personality: the persona for personality(2), checked (domain
   LINUX or LINUX32; flags, of which the spec defines none, refused).  A
   rule of the config, not of its process: create checks it with or
   without one. */
int process_personality (const struct oci_linux *l, unsigned long *persona,
                         struct berth_error *err);
/* Set it for the calling process (and so for the program it execs); nothing
   when the config has no personality. */
int process_apply_personality (const struct oci_linux *l, struct berth_error *err);
/* Bounding set, user and groups, the other capability sets, umask,
   no_new_privs; in that order, which is the only one that works. */
int process_apply_identity (const struct oci_process *p, const char *base,
                            struct berth_error *err);
/* execve with the process' env (HOME added from the container's
   /etc/passwd when absent, as runc does).  Returns only on failure. */
int process_exec (const struct oci_process *p, const char *program, struct berth_error *err);

#endif
