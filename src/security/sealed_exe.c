/* berth — re-executing from a sealed copy of the binary (see sealed_exe.h). */
#include "security/sealed_exe.h"

#include "cleanup.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>


#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool
names_ptrace (char *const *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (v[i], "CAP_SYS_PTRACE") == 0)
      return true;
  return false;
}

/* A process without a capabilities object keeps those of its caller:
   all of them, for root. */
static bool
may_ptrace (const struct oci_process *p)
{
  const struct oci_capabilities *c = p ? p->capabilities : NULL;

  if (p == NULL)
    return false;
  if (c == NULL)
    return true;
  return names_ptrace (c->bounding, c->bounding_len) || names_ptrace (c->effective, c->effective_len)
         || names_ptrace (c->permitted, c->permitted_len)
         || names_ptrace (c->inheritable, c->inheritable_len)
         || names_ptrace (c->ambient, c->ambient_len);
}

bool
sealed_exe_needed (const struct oci_config *c, const struct oci_process *p)
{
  /* In a user namespace of its own (new or joined), the container's
     CAP_SYS_PTRACE does not reach berth's processes, whose memory belongs
     to the host's user namespace. */
  for (size_t i = 0; c->linux && i < c->linux->namespaces_len; i++)
    if (strcmp (c->linux->namespaces[i].type, "user") == 0)
      return false;
  return may_ptrace (c->process) || may_ptrace (p);
}

static bool
is_sealed (int exe)
{
  int seals = fcntl (exe, F_GET_SEALS);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

bool
sealed_exe_running (void)
{
  cleanup_close int exe = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  return exe >= 0 && is_sealed (exe);
}

/* How much of the file execve needs: up to the end of the last part a
   program header names.  What follows (debug information, the symbol and
   section tables: half of a static berth built with -g) is never mapped,
   so the copy leaves it out.  Anything unexpected: the whole file. */
static off_t
image_size (int exe, off_t file_size)
{
  Elf64_Ehdr eh;
  Elf64_Phdr ph[32];
  uint64_t end;
  size_t n;

  if (pread (exe, &eh, sizeof eh, 0) != (ssize_t) sizeof eh
      || memcmp (eh.e_ident, ELFMAG, SELFMAG) != 0
      || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof ph[0]
      || eh.e_phnum == 0 || eh.e_phnum > sizeof ph / sizeof ph[0]
      || eh.e_phoff > (uint64_t) file_size)
    return file_size;
  n = (size_t) eh.e_phnum * sizeof ph[0];
  if (pread (exe, ph, n, (off_t) eh.e_phoff) != (ssize_t) n)
    return file_size;
  end = eh.e_phoff + n;
  for (size_t i = 0; i < eh.e_phnum; i++)
    {
      if (ph[i].p_offset > (uint64_t) file_size
          || ph[i].p_filesz > (uint64_t) file_size - ph[i].p_offset)
        return file_size;
      if (ph[i].p_offset + ph[i].p_filesz > end)
        end = ph[i].p_offset + ph[i].p_filesz;
    }
  return end > sizeof eh ? (off_t) end : file_size;
}

int
sealed_exe_reexec (char *const *argv, const sigset_t *mask, struct berth_error *err)
{
  cleanup_close int exe = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  cleanup_close int copy = -1;
  struct stat st;
  off_t left;

  if (exe < 0 || fstat (exe, &st) < 0)
    return berth_err_sys (err, errno, "open /proc/self/exe");
  if (is_sealed (exe))
    return 0; /* already the sealed copy */
  copy = memfd_create ("berth", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (copy < 0)
    return berth_err_sys (err, errno, "memfd_create for a sealed copy of berth");
  for (left = image_size (exe, st.st_size); left > 0;)
    {
      ssize_t n = sendfile (copy, exe, NULL, (size_t) left);
      if (n <= 0)
        return berth_err_sys (err, n < 0 ? errno : EIO, "copy berth's binary to a memfd");
      left -= n;
    }
  if (fcntl (copy, F_ADD_SEALS, SEALS) < 0)
    return berth_err_sys (err, errno, "seal the copy of berth's binary");
  /* MFD_CLOEXEC: the kernel holds the file for the new image, and the
     descriptor does not stay open in it. */
  if (mask)
    sigprocmask (SIG_SETMASK, mask, NULL);
  fexecve (copy, argv, environ);
  return berth_err_sys (err, errno, "re-execute berth from its sealed copy");
}
