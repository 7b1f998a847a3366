/* berth — linux.seccomp: compile in the runtime, install in the container.
 *
 * Contract: two steps, so that libseccomp's expensive work happens in the
 * runtime before clone() and can be cached, and the container's process does
 * only one system call.  libseccomp is linked into a static berth; a
 * dynamic one loads libseccomp.so.2 with dlopen() in the functions that
 * need it (libseccomp.h): a config without linux.seccomp never loads it;
 * with one, create fails before clone() with one line naming it when it
 * cannot be loaded.
 *
 *   seccomp_compile()  (runtime, before clone/fork) checks the whole
 *       oci_seccomp, builds the filter with libseccomp and exports it as
 *       classic BPF into a struct berth_seccomp, or loads that BPF from the
 *       cache under the state root.  Every config error is reported here,
 *       with the JSON path of the property (".linux.seccomp.flags[1]").
 *   seccomp_install()  (container process, inherits the struct through
 *       fork/clone) loads the BPF with seccomp(2).  It needs no_new_privs or
 *       CAP_SYS_ADMIN in the process' user namespace; no libseccomp call, no
 *       allocation.
 *
 * Semantics follow runc: KILL is KILL_THREAD; ERRNO and TRACE return
 * errnoRet (defaultErrnoRet for the default action), EPERM when absent;
 * unknown syscall names are skipped (logged at debug level); a rule whose
 * action equals the default action is skipped; a rule naming one argument
 * index twice becomes one rule per condition (libseccomp refuses two
 * comparisons of one argument in one rule); the native architecture is
 * always in the filter; SECCOMP_FILTER_FLAG_TSYNC is accepted and has no
 * effect (the process installing the filter is single-threaded).
 */

/* src/ is on the include path, so this file shadows libseccomp's <seccomp.h>
   (for its types, constants and macros; its functions are called through
   struct libseccomp): pull the real one in, from
   outside the guard so that it also happens when this file is first reached
   as "seccomp.h" from src/, where include_next starts over and finds this
   file once more. */
#include_next <seccomp.h>

#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

struct berth_seccomp {
  struct sock_filter *insns; /* the classic BPF program, malloc'd */
  unsigned short len;        /* instructions */
  unsigned int flags;        /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  bool listener;             /* a rule is SCMP_ACT_NOTIFY: install returns a listener fd */
  bool from_cache;           /* the BPF was read from the cache (tests, debug) */
};

struct seccomp_cache {
  const char *root;          /* the runtime's state root (--root); NULL: no cache */
  const char *berth_version; /* part of the key: a new berth never reads an old entry */
};

/* Check `s` and produce its filter.  With `cache` (and cache->root), the BPF
   is read from <root>/@seccomp-cache/<sha256>.bpf when a valid entry exists,
   otherwise compiled and stored there; cache problems are never errors, they
   only cost a compilation (and a debug line).  *out is freed with
   seccomp_free(). */
int seccomp_compile (const struct oci_seccomp *s, const struct seccomp_cache *cache,
                     struct berth_seccomp **out, struct berth_error *err);
/* linux.seccomp's rules, the ones seccomp_compile() applies first (it stops
   at the first problem) and `berth check` applies with a collecting
   reporter: actions, errnoRet range, operators, argument indexes,
   architectures and flags as libseccomp knows them, SCMP_ACT_NOTIFY's
   conditions.  Collecting, it also warns of syscall names libseccomp does
   not know (create skips them).  Without libseccomp, one error at
   .linux.seccomp says so and nothing else is checked. */
int seccomp_validate (const struct oci_seccomp *s, struct berth_reporter *rep);
/* The names of linux.seccomp's closed sets, from the tables the rules above
   use, for `berth features`: the i-th of a set, NULL past its end. */
enum seccomp_name_set { SECCOMP_ACTIONS, SECCOMP_OPERATORS, SECCOMP_FLAGS, SECCOMP_ARCHES };
const char *seccomp_name (enum seccomp_name_set set, size_t i);
/* A flag create applies with the running libseccomp (it refuses the
   others named in SECCOMP_FLAGS); an architecture libseccomp knows. */
bool seccomp_flag_supported (const char *name);
bool seccomp_arch_known (const char *name);
/* libseccomp's version, "2.5.4" (`--version`, `features`); false when the
   library cannot be loaded (then the two above are false for every name). */
bool seccomp_library_version (char *buf, size_t size);
void seccomp_free (struct berth_seccomp *f);
/* Free s->syscalls, the bulk of a profile, once the filter is compiled and
   the config emitted for state.json: nothing after that reads the rules. */
void seccomp_drop_rules (struct oci_seccomp *s);

/* Load the filter into the calling thread (the caller is single-threaded).
   *listener_fd is the notification fd (O_CLOEXEC) when f->listener, else -1.
   Async-signal-safe: fine between clone() and execve(). */
/* Why `syscall` cannot take SCMP_ACT_NOTIFY, or NULL: berth's own calls
   after the filter is in (the init's write to exec.fifo, its sendmsg of the
   listener fd) would wait for an agent that cannot have the fd yet. */
const char *seccomp_notify_refusal (const char *syscall);

int seccomp_install (const struct berth_seccomp *f, int *listener_fd, struct berth_error *err);

/* The runtime-spec "containerProcessState" document sent to listenerPath:
   {"ociVersion","fds":["seccompFd"],"pid","metadata","state"}; `state_json`
   is the container's OCI state (runtime.md "State"), inserted verbatim. */
int seccomp_listener_message (const struct oci_seccomp *s, pid_t pid, const char *state_json,
                              char **out, struct berth_error *err);
/* Connect to the unix stream socket `listener_path`, send `message` (from
   seccomp_listener_message) with `fd` attached (SCM_RIGHTS), close.  Paths
   longer than sun_path are reached through their directory. */
int seccomp_send_listener (const char *listener_path, int fd, const char *message,
                           struct berth_error *err);

static inline void
seccomp_freep (struct berth_seccomp **f)
{
  if (*f)
    seccomp_free (*f);
}
#define cleanup_seccomp __attribute__ ((cleanup (seccomp_freep)))

#endif
