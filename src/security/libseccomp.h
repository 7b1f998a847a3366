/* berth — libseccomp, linked into a static berth (meson -Dstatic, the
 * default), else loaded with dlopen() on use: only configs with
 * linux.seccomp, `berth --version`, `features` and `check` need it, so no
 * other command of a dynamic berth pays for loading and relocating it.
 * Private to security/.
 *
 * Contract: libseccomp_open() fills one table of the functions berth calls
 * (each member has the type of the header's prototype, so a mismatch is a
 * compile error); the caller owns the table, there is no global state.
 * Static, it cannot fail.  Dynamic, the library is opened RTLD_NODELETE:
 * opening it again in one process (rules, then compile) is a reference
 * count, and the container's init, cloned from the runtime, inherits it
 * mapped as when it was linked; failure is one line naming libseccomp.so.2.  Types, constants and the
 * SCMP_* macros still come from <seccomp.h> (through security/seccomp.h).
 */
#ifndef BERTH_LIBSECCOMP_H
#define BERTH_LIBSECCOMP_H

#include "security/seccomp.h"

#define LIBSECCOMP_SYMBOLS(X)                                                              \
  X (seccomp_version)                                                                      \
  X (seccomp_arch_native)                                                                  \
  X (seccomp_arch_resolve_name)                                                            \
  X (seccomp_syscall_resolve_name)                                                         \
  X (seccomp_syscall_resolve_name_arch)                                                    \
  X (seccomp_init)                                                                         \
  X (seccomp_release)                                                                      \
  X (seccomp_attr_set)                                                                     \
  X (seccomp_arch_add)                                                                     \
  X (seccomp_rule_add_array)                                                               \
  X (seccomp_export_bpf)

struct libseccomp {
  void *dl;
#define LIBSECCOMP_MEMBER(f) __typeof__ (f) *f;
  LIBSECCOMP_SYMBOLS (LIBSECCOMP_MEMBER)
#undef LIBSECCOMP_MEMBER
};

int libseccomp_open (struct libseccomp *lib, struct berth_error *err);
/* Drops the reference (the library stays mapped); fine on a failed open. */
void libseccomp_close (struct libseccomp *lib);
#define cleanup_libseccomp __attribute__ ((cleanup (libseccomp_close)))

#endif
