/* berth — the ENOSYS stub in front of a seccomp filter.
 *
 * Contract: seccomp_enosys_prepend() puts, in front of a classic BPF
 * seccomp program, a few instructions that return -ENOSYS for a system call
 * whose number is above the highest one the profile names on the calling
 * architecture (for each architecture in `arches`), so that a program
 * falls back from a call newer than the profile (clone3 -> clone) instead
 * of failing with the profile's default errno; any other call, and x86-64's
 * x32 calls, go on to the program unchanged.  As runc does, and only when
 * the caller decides the default action needs it (seccomp.c).
 * The program stays within `max_insns`, else it fails.
 */
#ifndef BERTH_SECCOMP_ENOSYS_H
#define BERTH_SECCOMP_ENOSYS_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct enosys_arch {
  uint32_t audit_arch; /* AUDIT_ARCH_* (libseccomp's SCMP_ARCH_* are the same values) */
  uint32_t max_nr;     /* the highest syscall number the profile names there */
};

/* *insns (malloc'd, *len instructions) is replaced by a new program. */
int seccomp_enosys_prepend (const struct enosys_arch *arches, size_t n, struct sock_filter **insns,
                            unsigned short *len, size_t max_insns, struct berth_error *err);

#endif
