/* The ENOSYS stub: see seccomp_enosys.h. */
#include "security/seccomp_enosys.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>

#define X32_SYSCALL_BIT 0x40000000u

/* Per architecture: load arch, compare, load nr, [x32 test], compare, ret.
   The jumps are relative and short (the stub is a few dozen instructions
   at most), and the program after it loads what it needs itself. */
#define BLOCK_LEN(a) ((a) == AUDIT_ARCH_X86_64 ? 6u : 5u)

int
seccomp_enosys_prepend (const struct enosys_arch *arches, size_t n, struct sock_filter **insns,
                        unsigned short *len, size_t max_insns, struct berth_error *err)
{
  size_t stub = 0, at = 0;
  struct sock_filter *out;

  for (size_t i = 0; i < n; i++)
    stub += BLOCK_LEN (arches[i].audit_arch);
  if (stub == 0)
    return 0;
  if (stub > 255) /* a jump's offset is one byte */
    return berth_err_at (err, BERTH_E_LIMIT, ".linux.seccomp.architectures",
                         "too many architectures");
  if (stub + *len > max_insns)
    return berth_err_at (err, BERTH_E_LIMIT, ".linux.seccomp",
                         "the filter has %zu instructions; the kernel takes %zu at most",
                         stub + *len, max_insns);
  if ((out = malloc ((stub + *len) * sizeof *out)) == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      uint32_t a = arches[i].audit_arch;
      size_t end = at + BLOCK_LEN (a); /* the next block, or the program */
      /* jt/jf count from the instruction after the jump. */
#define TO(target) ((unsigned char) ((target) - (at + 1)))
      out[at] = (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS,
                                               offsetof (struct seccomp_data, arch));
      at++;
      out[at] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, a, 0, TO (end));
      at++;
      out[at] = (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS,
                                               offsetof (struct seccomp_data, nr));
      at++;
      if (a == AUDIT_ARCH_X86_64)
        {
          out[at] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT,
                                                   TO (stub), 0);
          at++;
        }
      out[at] = (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JGT | BPF_K, arches[i].max_nr, 0,
                                               TO (stub));
      at++;
      out[at] = (struct sock_filter) BPF_STMT (BPF_RET | BPF_K,
                                               SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
      at++;
#undef TO
    }
  memcpy (out + stub, *insns, *len * sizeof *out);
  free (*insns);
  *insns = out;
  *len = (unsigned short) (stub + *len);
  return 0;
}
