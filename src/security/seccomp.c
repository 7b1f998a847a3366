/* linux.seccomp: libseccomp (linked in or loaded on use, libseccomp.h) builds the filter
   in the runtime; the container only loads the exported BPF with
   seccomp(2).  See seccomp.h (which also brings in libseccomp's header). */
#include "security/seccomp.h"
#include "security/libseccomp.h"
#include "cleanup.h"
#include "security/seccomp_cache.h"
#include "security/seccomp_enosys.h"
#include "base/trace.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/utils.h"

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define BASE ".linux.seccomp"

/* A filter being built, released with the library it came from. */
struct scmp {
  const struct libseccomp *lib;
  scmp_filter_ctx ctx;
};

static void
scmp_releasep (struct scmp *f)
{
  if (f->ctx)
    f->lib->seccomp_release (f->ctx);
}
#define cleanup_scmp __attribute__ ((cleanup (scmp_releasep)))

/* ---- the config, checked ------------------------------------------------ */

const char *
seccomp_notify_refusal (const char *syscall)
{
  if (strcmp (syscall, "write") == 0)
    return "SCMP_ACT_NOTIFY cannot be used for the write syscall: berth's init writes to its "
           "exec fifo after the filter is in";
  if (strcmp (syscall, "sendmsg") == 0)
    return "SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall: berth passes the listener "
           "fd to the runtime with it";
  return NULL;
}

/* ---- the names berth knows: one table each, for create, check and
   `berth features` (which lists them in these orders) ---------------------- */

/* For an action with `ret`, errnoRet goes into the low 16 bits
   (SECCOMP_RET_DATA); absent, it is EPERM (for TRACE too, as runc). */
static const struct {
  const char *name;
  uint32_t act;
  bool ret;
} actions[] = {
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0), true },
  { "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false }, /* KILL is KILL_THREAD */
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
  { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0), true },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
};

static const struct {
  const char *name;
  enum scmp_compare op;
} operators[] = {
  { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE },
  { "SCMP_CMP_GT", SCMP_CMP_GT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  { "SCMP_CMP_NE", SCMP_CMP_NE },
};

/* TSYNC is accepted and moot: the installing process is single-threaded
   (as runc).  `libseccomp` is the version (major * 100 + minor) that can
   apply the flag. */
static const struct {
  const char *name;
  unsigned value;
  unsigned libseccomp;
} flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", 0, 0 },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG, 0 },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW, 0 },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, 206 },
};

/* The architectures `features` offers, when libseccomp knows them;
   resolve_arch() takes any SCMP_ARCH_ name libseccomp knows. */
static const char *const arch_names[] = {
  "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",         "SCMP_ARCH_AARCH64",   "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
};

#define LEN(a) (sizeof (a) / sizeof (a)[0])

/* An action name and its errno value as libseccomp's action word; false
   when the name is not an action. */
static bool
resolve_action (const char *name, bool has_ret, uint32_t ret, uint32_t *out)
{
  for (size_t i = 0; i < LEN (actions); i++)
    if (strcmp (name, actions[i].name) == 0)
      {
        *out = actions[i].act;
        if (actions[i].ret)
          *out |= (has_ret ? ret : EPERM) & 0xffffu;
        return true;
      }
  return false;
}

static bool
action_takes_ret (const char *name)
{
  for (size_t i = 0; i < LEN (actions); i++)
    if (strcmp (name, actions[i].name) == 0)
      return actions[i].ret;
  return false;
}

static int
resolve_op (const char *name, enum scmp_compare *out)
{
  for (size_t i = 0; i < LEN (operators); i++)
    if (strcmp (name, operators[i].name) == 0)
      return *out = operators[i].op, 0;
  return -1;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token, 0 when unknown. */
static uint32_t
resolve_arch (const struct libseccomp *lib, const char *name)
{
  char lower[32];
  size_t i;

  if (strncmp (name, "SCMP_ARCH_", 10) != 0 || strlen (name + 10) >= sizeof lower)
    return 0;
  for (i = 0; name[10 + i]; i++)
    lower[i] = (char) tolower ((unsigned char) name[10 + i]);
  lower[i] = '\0';
  return lib->seccomp_arch_resolve_name (lower);
}

static bool
libseccomp_at_least (const struct libseccomp *lib, unsigned version)
{
  const struct scmp_version *v = lib->seccomp_version ();
  return v->major * 100 + v->minor >= version;
}

/* The flag's index in flags[], -1 when berth does not know it. */
static int
flag_index (const char *name)
{
  for (size_t i = 0; i < LEN (flags); i++)
    if (strcmp (name, flags[i].name) == 0)
      return (int) i;
  return -1;
}

const char *
seccomp_name (enum seccomp_name_set set, size_t i)
{
  switch (set)
    {
    case SECCOMP_ACTIONS:
      return i < LEN (actions) ? actions[i].name : NULL;
    case SECCOMP_OPERATORS:
      return i < LEN (operators) ? operators[i].name : NULL;
    case SECCOMP_FLAGS:
      return i < LEN (flags) ? flags[i].name : NULL;
    case SECCOMP_ARCHES:
      return i < LEN (arch_names) ? arch_names[i] : NULL;
    }
  return NULL;
}

static bool
flag_supported (const struct libseccomp *lib, const char *name)
{
  int f = flag_index (name);
  return f >= 0 && libseccomp_at_least (lib, flags[f].libseccomp);
}

/* For the answers that cannot be errors: without libseccomp, no flag can be
   applied and no architecture is known (create refuses linux.seccomp). */
static bool
open_quietly (struct libseccomp *lib)
{
  struct berth_error ignored = { 0 };
  return libseccomp_open (lib, &ignored) == 0;
}

bool
seccomp_flag_supported (const char *name)
{
  cleanup_libseccomp struct libseccomp lib = { 0 };
  return open_quietly (&lib) && flag_supported (&lib, name);
}

bool
seccomp_arch_known (const char *name)
{
  cleanup_libseccomp struct libseccomp lib = { 0 };
  return open_quietly (&lib) && resolve_arch (&lib, name) != 0;
}

bool
seccomp_library_version (char *buf, size_t size)
{
  cleanup_libseccomp struct libseccomp lib = { 0 };
  const struct scmp_version *v;

  if (!open_quietly (&lib))
    return false;
  v = lib.seccomp_version ();
  snprintf (buf, size, "%u.%u.%u", v->major, v->minor, v->micro);
  return true;
}


static int
validate_action (const char *name, bool has_ret, uint32_t ret, const char *path,
                 const char *ret_path, struct berth_reporter *rep)
{
  uint32_t act;

  if (!resolve_action (name, has_ret, ret, &act))
    BERTH_REPORT (BERTH_E_VALUE, path, "unknown seccomp action \"%s\"", name);
  else if (action_takes_ret (name) && has_ret && ret > 0xffff)
    /* SECCOMP_RET_DATA has 16 bits; a wider value would silently change. */
    BERTH_REPORT (BERTH_E_RANGE, ret_path, "%u does not fit in 16 bits", ret);
  return 0;
}

static int
validate_syscall (const struct libseccomp *lib, const struct oci_seccomp *s, size_t i,
                  struct berth_reporter *rep)
{
  const struct oci_syscall *sc = &s->syscalls[i];
  bool notify = strcmp (sc->action, "SCMP_ACT_NOTIFY") == 0;
  char path[160], ret_path[160];

  snprintf (path, sizeof path, BASE ".syscalls[%zu].action", i);
  snprintf (ret_path, sizeof ret_path, BASE ".syscalls[%zu].errnoRet", i);
  if (validate_action (sc->action, sc->has_errno_ret, sc->errno_ret, path, ret_path, rep) < 0)
    return -1;
  if (notify && (s->listener_path == NULL || s->listener_path[0] == '\0'))
    /* config-linux.md: the runtime MUST error. */
    BERTH_REPORT (BERTH_E_MISSING, path, "SCMP_ACT_NOTIFY needs " BASE ".listenerPath");
  for (size_t j = 0; notify && j < sc->names_len; j++)
    {
      const char *why = seccomp_notify_refusal (sc->names[j]);
      snprintf (path, sizeof path, BASE ".syscalls[%zu].names[%zu]", i, j);
      if (why)
        BERTH_REPORT (BERTH_E_UNSUPPORTED, path, "%s", why);
    }
  for (size_t j = 0; rep->collect && j < sc->names_len; j++)
    if (lib->seccomp_syscall_resolve_name (sc->names[j]) == __NR_SCMP_ERROR)
      {
        /* create skips them (debug log), as runc does: a profile names
           syscalls of every architecture and kernel. */
        snprintf (path, sizeof path, BASE ".syscalls[%zu].names[%zu]", i, j);
        if (berth_reporter_warn (rep, BERTH_E_VALUE, path,
                                 "unknown syscall \"%s\" (libseccomp does not know it; skipped)",
                                 sc->names[j])
            < 0)
          return -1;
      }
  for (size_t j = 0; j < sc->args_len; j++)
    {
      enum scmp_compare op;
      snprintf (path, sizeof path, BASE ".syscalls[%zu].args[%zu].op", i, j);
      if (resolve_op (sc->args[j].op, &op) < 0)
        BERTH_REPORT (BERTH_E_VALUE, path, "unknown seccomp operator \"%s\"", sc->args[j].op);
      /* add_rule() counts conditions per index in an array of 6. */
      snprintf (path, sizeof path, BASE ".syscalls[%zu].args[%zu].index", i, j);
      if (sc->args[j].index > 5)
        BERTH_REPORT (BERTH_E_RANGE, path, "%u is not a syscall argument index (0..5)",
                sc->args[j].index);
    }
  return 0;
}

static int
validate (const struct libseccomp *lib, const struct oci_seccomp *s, struct berth_reporter *rep)
{
  char path[160];

  if (validate_action (s->default_action, s->has_default_errno_ret, s->default_errno_ret,
                       BASE ".defaultAction", BASE ".defaultErrnoRet", rep)
      < 0)
    return -1;
  if (strcmp (s->default_action, "SCMP_ACT_NOTIFY") == 0)
    BERTH_REPORT (BERTH_E_VALUE, BASE ".defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
  for (size_t i = 0; i < s->flags_len; i++)
    {
      const char *fl = s->flags[i];
      const struct scmp_version *v = lib->seccomp_version ();
      snprintf (path, sizeof path, BASE ".flags[%zu]", i);
      int f = flag_index (fl);
      if (f < 0)
        BERTH_REPORT (BERTH_E_VALUE, path, "unknown seccomp flag \"%s\"", fl);
      else if (!flag_supported (lib, fl))
        BERTH_REPORT (BERTH_E_UNSUPPORTED, path,
                "%s is not supported by libseccomp %u.%u.%u (needs %u.%u)", fl, v->major,
                v->minor, v->micro, flags[f].libseccomp / 100, flags[f].libseccomp % 100);
    }
  for (size_t i = 0; i < s->architectures_len; i++)
    if (resolve_arch (lib, s->architectures[i]) == 0)
      {
        snprintf (path, sizeof path, BASE ".architectures[%zu]", i);
        BERTH_REPORT (BERTH_E_VALUE, path, "unknown architecture \"%s\"", s->architectures[i]);
      }
  for (size_t i = 0; i < s->syscalls_len; i++)
    if (validate_syscall (lib, s, i, rep) < 0)
      return -1;
  return 0;
}

int
seccomp_validate (const struct oci_seccomp *s, struct berth_reporter *rep)
{
  struct berth_error e = { 0 };
  cleanup_libseccomp struct libseccomp lib = { 0 };

  /* Collecting (check), the rest needs the library: one error says why. */
  if (libseccomp_open (&lib, &e) < 0)
    BERTH_REPORT (e.kind, BASE, "%s", e.msg);
  return lib.seccomp_init ? validate (&lib, s, rep) : 0; /* the table is filled */
}

/* Everything that can be wrong with the config, found without building the
   filter, so that a cache hit reports the same errors as a compilation;
   then the default action and the flags for seccomp(2). */
static int
check (const struct libseccomp *lib, const struct oci_seccomp *s, struct berth_seccomp *f,
       uint32_t *def, struct berth_error *err)
{
  struct berth_reporter stop = { .err = err };

  if (validate (lib, s, &stop) < 0)
    return -1;
  (void) resolve_action (s->default_action, s->has_default_errno_ret, s->default_errno_ret, def);
  for (size_t i = 0; i < s->flags_len; i++)
    f->flags |= flags[flag_index (s->flags[i])].value; /* known: validated */
  for (size_t i = 0; i < s->syscalls_len; i++)
    f->listener |= strcmp (s->syscalls[i].action, "SCMP_ACT_NOTIFY") == 0;
  if (f->listener)
    f->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  else if (f->flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    /* The kernel refuses the flag without a listener; it has no meaning then. */
    f->flags &= ~(unsigned) SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  return 0;
}

/* ---- building the filter with libseccomp -------------------------------- */

static int
add_rule (const struct scmp *ctx, size_t i, size_t j, const char *name, uint32_t act, int nr,
          const struct oci_syscall *sc, struct berth_error *err)
{
  cleanup_free struct scmp_arg_cmp *cmp = calloc (sc->args_len + 1, sizeof *cmp);
  unsigned per_index[6] = { 0 };
  bool split = false;
  int r = 0;

  if (cmp == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  for (size_t k = 0; k < sc->args_len; k++)
    {
      const struct oci_seccomp_arg *a = &sc->args[k];
      enum scmp_compare op = SCMP_CMP_EQ;
      (void) resolve_op (a->op, &op); /* checked by check() */
      cmp[k] = (struct scmp_arg_cmp) { .arg = a->index, .op = op, .datum_a = a->value };
      if (op == SCMP_CMP_MASKED_EQ)
        cmp[k].datum_b = a->value_two; /* `value` is the mask, as in runc */
      if (++per_index[a->index] > 1)
        split = true;
    }
  if (!split)
    r = ctx->lib->seccomp_rule_add_array (ctx->ctx, act, nr, (unsigned) sc->args_len, cmp);
  else
    /* runc's behaviour: each condition becomes a rule of its own (the
       conditions are OR-ed instead of AND-ed), since libseccomp refuses two
       comparisons of one argument in one rule. */
    for (size_t k = 0; k < sc->args_len && r == 0; k++)
      r = ctx->lib->seccomp_rule_add_array (ctx->ctx, act, nr, 1, &cmp[k]);
  if (r < 0)
    {
      berth_err_sys (err, -r, "libseccomp refused the rule for \"%s\"", name);
      snprintf (err->path, sizeof err->path, BASE ".syscalls[%zu].names[%zu]", i, j);
      return -1;
    }
  return 0;
}

/* Export through a memfd: libseccomp 2.5 has no seccomp_export_bpf_mem. */
static int
export_bpf (const struct scmp *ctx, struct berth_seccomp *f, struct berth_error *err)
{
  cleanup_close int fd = memfd_create ("berth-seccomp", MFD_CLOEXEC);
  struct stat st;
  int r;

  if (fd < 0)
    return berth_err_sys (err, errno, "memfd_create");
  if ((r = ctx->lib->seccomp_export_bpf (ctx->ctx, fd)) < 0)
    return berth_err_sys (err, -r, "export the seccomp filter");
  if (fstat (fd, &st) < 0)
    return berth_err_sys (err, errno, "fstat the exported seccomp filter");
  if (st.st_size <= 0 || st.st_size % sizeof (struct sock_filter) != 0)
    return berth_err (err, BERTH_E_SYSTEM, "libseccomp exported %lld bytes of BPF",
                      (long long) st.st_size);
  if (st.st_size / sizeof (struct sock_filter) > SECCOMP_MAX_INSNS)
    return berth_err_at (err, BERTH_E_LIMIT, BASE,
                         "the filter has %lld instructions; the kernel takes %d at most",
                         (long long) (st.st_size / sizeof (struct sock_filter)), SECCOMP_MAX_INSNS);
  f->insns = malloc ((size_t) st.st_size);
  if (f->insns == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  if (pread (fd, f->insns, (size_t) st.st_size, 0) != st.st_size)
    return berth_err_sys (err, errno ? errno : EIO, "read the exported seccomp filter");
  f->len = (unsigned short) (st.st_size / sizeof (struct sock_filter));
  return 0;
}

/* runc's rule: a syscall newer than the profile gets ENOSYS (so that libc
   falls back) unless the default already lets it through or says ENOSYS. */
static bool
needs_enosys (uint32_t def)
{
  return def != SCMP_ACT_ALLOW && def != SCMP_ACT_LOG
         && (def & 0xffff0000u) != SCMP_ACT_TRACE (0)
         && def != SCMP_ACT_ERRNO (ENOSYS);
}

/* The stub for the native architecture and each listed one, each with the
   highest number the profile names there. */
static int
prepend_enosys (const struct libseccomp *lib, const struct oci_seccomp *s, struct berth_seccomp *f,
                struct berth_error *err)
{
  struct enosys_arch arches[1 + 32];
  size_t n = 0;

  for (size_t i = 0; i <= s->architectures_len && n < sizeof arches / sizeof arches[0]; i++)
    {
      uint32_t a = i == 0 ? lib->seccomp_arch_native ()
                          : resolve_arch (lib, s->architectures[i - 1]);
      bool seen = false, named = false;
      uint32_t max = 0;
      for (size_t k = 0; k < n; k++)
        seen |= arches[k].audit_arch == a;
      /* x32's calls come as x86-64's, with a bit in the number (the stub
         leaves them to the filter); libseccomp's token for it is no
         audit arch. */
      if (seen || a == 0 || a == SCMP_ARCH_X32)
        continue;
      for (size_t r = 0; r < s->syscalls_len; r++)
        for (size_t j = 0; j < s->syscalls[r].names_len; j++)
          {
            int nr = lib->seccomp_syscall_resolve_name_arch (a, s->syscalls[r].names[j]);
            if (nr >= 0 && (!named || (uint32_t) nr > max))
              max = (uint32_t) nr, named = true;
          }
      if (named)
        arches[n++] = (struct enosys_arch){ a, max };
    }
  return seccomp_enosys_prepend (arches, n, &f->insns, &f->len, SECCOMP_MAX_INSNS, err);
}

static int
build (const struct libseccomp *lib, const struct oci_seccomp *s, uint32_t def,
       struct berth_seccomp *f, struct berth_error *err)
{
  cleanup_scmp struct scmp ctx = { lib, lib->seccomp_init (def) };
  int r;

  /* A binary tree of syscall numbers rather than libseccomp's default
     linear list: the kernel evaluates it for every syscall the filter does
     not cache, and emulates it for every syscall number when the filter is
     attached; with Podman's ~350 names that attach took measurably less
     (bench/bench.py --variants). */
  if (ctx.ctx && (r = lib->seccomp_attr_set (ctx.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
    return berth_err_sys (err, -r, "libseccomp: select the binary tree optimisation");
  if (ctx.ctx == NULL)
    return berth_err_at (err, BERTH_E_VALUE, BASE ".defaultAction",
                         "libseccomp cannot make a filter with default action %s",
                         s->default_action);
  for (size_t i = 0; i < s->architectures_len; i++)
    if ((r = lib->seccomp_arch_add (ctx.ctx, resolve_arch (lib, s->architectures[i]))) < 0
        && r != -EEXIST)
      {
        berth_err_sys (err, -r, "add architecture %s", s->architectures[i]);
        snprintf (err->path, sizeof err->path, BASE ".architectures[%zu]", i);
        return -1;
      }
  for (size_t i = 0; i < s->syscalls_len; i++)
    {
      const struct oci_syscall *sc = &s->syscalls[i];
      uint32_t act = 0;
      (void) resolve_action (sc->action, sc->has_errno_ret, sc->errno_ret, &act);
      if (act == def)
        /* A no-op, and libseccomp refuses it. */
        continue;
      for (size_t j = 0; j < sc->names_len; j++)
        {
          int nr = lib->seccomp_syscall_resolve_name (sc->names[j]);
          if (nr == __NR_SCMP_ERROR)
            {
              berth_debug (BASE ".syscalls[%zu].names[%zu]: unknown system call \"%s\" skipped",
                           i, j, sc->names[j]);
              continue;
            }
          if (add_rule (&ctx, i, j, sc->names[j], act, nr, sc, err) < 0)
            return -1;
        }
    }
  if (export_bpf (&ctx, f, err) < 0)
    return -1;
  return needs_enosys (def) ? prepend_enosys (lib, s, f, err) : 0;
}

/* ---- compile, install ------------------------------------------------- */

int
seccomp_compile (const struct oci_seccomp *s, const struct seccomp_cache *cache,
                 struct berth_seccomp **out, struct berth_error *err)
{
  struct berth_seccomp *f = calloc (1, sizeof *f);
  cleanup_seccomp struct berth_seccomp *owned = f;
  cleanup_libseccomp struct libseccomp lib = { 0 };
  cleanup_close int dir = -1;
  uint8_t key[SHA256_DIGEST_SIZE];
  char name[2 * SHA256_DIGEST_SIZE + 8];
  uint32_t def;

  if (f == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  /* A cache hit needs it too: check() and the key ask libseccomp. */
  if (libseccomp_open (&lib, err) < 0)
    {
      snprintf (err->path, sizeof err->path, BASE);
      return -1;
    }
  if (check (&lib, s, f, &def, err) < 0)
    return -1;
  if (cache && cache->root)
    {
      if (seccomp_cache_key (&lib, s, cache->berth_version, key, err) < 0)
        return -1;
      sha256_hex (key, name);
      strcat (name, ".bpf");
      dir = seccomp_cache_dir (cache->root);
      if (dir >= 0 && seccomp_cache_read (dir, name, key, f) == 0)
        {
          berth_debug ("seccomp: filter of %u instructions read from the cache (%s)", f->len,
                       name);
          *out = steal_pointer (&owned);
          return 0;
        }
    }
  if (build (&lib, s, def, f, err) < 0)
    return -1;
  berth_debug ("seccomp: filter of %u instructions compiled by libseccomp", f->len);
  if (dir >= 0)
    seccomp_cache_write (dir, name, key, f);
  *out = steal_pointer (&owned);
  return 0;
}

void
seccomp_drop_rules (struct oci_seccomp *s)
{
  for (size_t i = 0; i < oci_type_seccomp.n_fields; i++)
    if (oci_type_seccomp.fields[i].off == offsetof (struct oci_seccomp, syscalls))
      oci_field_clear (&oci_type_seccomp.fields[i], s);
}

void
seccomp_free (struct berth_seccomp *f)
{
  free (f->insns);
  free (f);
}

int
seccomp_install (const struct berth_seccomp *f, int *listener_fd, struct berth_error *err)
{
  struct sock_fprog prog = { .len = f->len, .filter = f->insns };
  long r;
  BERTH_TRACE_SCOPE ("seccomp load");

  *listener_fd = -1;
  /* Not libseccomp's seccomp_load(): it would set no_new_privs on its own. */
  r = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog);
  if (r < 0)
    {
      int e = errno;
      if (e == EACCES)
        berth_err_sys (err, e, "load the seccomp filter (it needs noNewPrivileges or "
                               "CAP_SYS_ADMIN at that point)");
      else if (e == EINVAL && f->flags)
        berth_err_sys (err, e, "load the seccomp filter (does the kernel support flags 0x%x?)",
                       f->flags);
      else
        berth_err_sys (err, e, "load the seccomp filter");
      snprintf (err->path, sizeof err->path, BASE);
      return -1;
    }
  if (f->listener)
    *listener_fd = (int) r;
  return 0;
}

/* ---- the listener ------------------------------------------------------ */

static void
gen_str (yajl_gen g, const char *s)
{
  yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

int
seccomp_listener_message (const struct oci_seccomp *s, pid_t pid, const char *state_json,
                          char **out, struct berth_error *err)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  const unsigned char *buf;
  size_t len;
  int r = 0;

  if (g == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  yajl_gen_map_open (g);
  gen_str (g, "ociVersion");
  gen_str (g, OCI_SPEC_VERSION);
  gen_str (g, "fds");
  yajl_gen_array_open (g);
  gen_str (g, "seccompFd");
  yajl_gen_array_close (g);
  gen_str (g, "pid");
  yajl_gen_integer (g, pid);
  gen_str (g, "metadata"); /* "" when absent, as runc sends it */
  gen_str (g, s->listener_metadata ? s->listener_metadata : "");
  yajl_gen_map_close (g);
  /* The state is already JSON: drop the closing brace and append it. */
  if (yajl_gen_get_buf (g, &buf, &len) != yajl_gen_status_ok || len < 2
      || asprintf (out, "%.*s,\"state\":%s}", (int) len - 1, (const char *) buf, state_json) < 0)
    r = berth_err_sys (err, ENOMEM, "build the seccomp listener message");
  yajl_gen_free (g);
  return r;
}

int
seccomp_send_listener (const char *listener_path, int fd, const char *message,
                       struct berth_error *err)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  cleanup_close int sock = -1;
  cleanup_close int dirfd = -1;
  union { struct cmsghdr h; char buf[CMSG_SPACE (sizeof (int))]; } ctl;
  size_t len = strlen (message), done = 0;

  if (strlen (listener_path) < sizeof sa.sun_path)
    strcpy (sa.sun_path, listener_path);
  else
    {
      /* Too long for sun_path: name it through an fd of its directory. */
      const char *slash = strrchr (listener_path, '/');
      cleanup_free char *d = slash ? strndup (listener_path, (size_t) (slash - listener_path))
                                   : NULL;
      if (d == NULL || (dirfd = open (d[0] ? d : "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0
          || (size_t) snprintf (sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dirfd,
                                slash + 1) >= sizeof sa.sun_path)
        {
          berth_err_sys (err, errno ? errno : ENAMETOOLONG, "seccomp listener %s", listener_path);
          snprintf (err->path, sizeof err->path, BASE ".listenerPath");
          return -1;
        }
    }
  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0 || connect (sock, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      berth_err_sys (err, errno,
                     "failed to connect with seccomp agent specified in the seccomp profile: "
                     "connect to %s",
                     listener_path);
      snprintf (err->path, sizeof err->path, BASE ".listenerPath");
      return -1;
    }
  while (done < len)
    {
      struct iovec iov = { (char *) message + done, len - done };
      struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
      ssize_t n;
      if (done == 0)
        {
          /* The fd rides with the first byte of the message. */
          memset (&ctl, 0, sizeof ctl);
          m.msg_control = ctl.buf;
          m.msg_controllen = sizeof ctl.buf;
          CMSG_FIRSTHDR (&m)->cmsg_level = SOL_SOCKET;
          CMSG_FIRSTHDR (&m)->cmsg_type = SCM_RIGHTS;
          CMSG_FIRSTHDR (&m)->cmsg_len = CMSG_LEN (sizeof (int));
          memcpy (CMSG_DATA (CMSG_FIRSTHDR (&m)), &fd, sizeof (int));
        }
      n = sendmsg (sock, &m, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          berth_err_sys (err, errno, "send to the seccomp listener %s", listener_path);
          snprintf (err->path, sizeof err->path, BASE ".listenerPath");
          return -1;
        }
      done += (size_t) n;
    }
  return 0;
}
