/* berth — the cache of compiled seccomp filters (see seccomp_cache.h). */
#include "security/seccomp_cache.h"
#include "security/libseccomp.h"
#include "cleanup.h"
#include "base/log.h"
#include "base/utils.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* File format: this header, then `count` struct sock_filter. */
struct cache_header {
  char magic[8];                   /* CACHE_MAGIC */
  uint32_t version;                /* CACHE_VERSION */
  uint32_t count;                  /* instructions */
  uint8_t key[SHA256_DIGEST_SIZE]; /* the file's name: an entry moved onto another key is refused */
  uint8_t sum[SHA256_DIGEST_SIZE]; /* of the instructions: a torn or altered file is refused */
};
#define CACHE_MAGIC "BERTHBPF"
#define CACHE_VERSION 3u /* 2: the rules hashed with oci_digest, not as JSON; 3: the ENOSYS stub */
/* '@' is outside the container id alphabet (state_validate_id): no container
   can be named like the cache, and `list` skips it. */
#define CACHE_DIR "@seccomp-cache"

static void
hash_field (struct sha256_ctx *c, const char *s)
{
  /* Length-prefixed, so that field boundaries cannot be shifted. */
  uint64_t n = strlen (s);
  sha256_update (c, &n, sizeof n);
  sha256_update (c, s, n);
}

/* dl_iterate_phdr callback: the GNU build id of one loaded object. */
static int
hash_build_id (struct dl_phdr_info *info, size_t size, void *data)
{
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      size_t align = ph->p_align == 8 ? 8 : 4;
      const char *p = (const char *) (info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
      if (ph->p_type != PT_NOTE)
        continue;
      while ((size_t) (end - p) >= sizeof (ElfW (Nhdr)))
        {
          const ElfW (Nhdr) *n = (const void *) p;
          const char *name = p + sizeof *n;
          const char *desc = name + ((n->n_namesz + align - 1) & ~(align - 1));
          if (desc > end || (size_t) (end - desc) < n->n_descsz)
            break;
          if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp (name, "GNU", 4) == 0)
            sha256_update (data, desc, n->n_descsz);
          p = desc + ((n->n_descsz + align - 1) & ~(align - 1));
        }
    }
  return 0;
}

static void
sha256_sink (void *ctx, const void *data, size_t len)
{
  sha256_update (ctx, data, len);
}

/* Everything the BPF depends on: the rules (flags and the listener are
   applied at install time, and leaving them out lets containers that differ
   only in listenerMetadata share an entry), the machine and kernel (libseccomp
   checks actions against the running kernel), libseccomp and berth: their
   versions, and the build ids of the executable and every loaded library, so
   that a rebuilt berth (a developer's, same version string) or a patched
   libseccomp never reads another build's entries. */
int
seccomp_cache_key (const struct libseccomp *lib, const struct oci_seccomp *s,
                   const char *berth_version, uint8_t key[SHA256_DIGEST_SIZE],
                   struct berth_error *err)
{
  struct oci_seccomp rules = *s;
  const struct scmp_version *v = lib->seccomp_version ();
  struct utsname u;
  struct sha256_ctx c;
  char buf[96];

  rules.flags = NULL, rules.flags_len = 0, rules.has_flags = false;
  rules.listener_path = NULL, rules.has_listener_path = false;
  rules.listener_metadata = NULL, rules.has_listener_metadata = false;
  if (uname (&u) < 0)
    return berth_err_sys (err, errno, "uname");
  sha256_init (&c);
  snprintf (buf, sizeof buf, "berth seccomp cache %s v%u", CACHE_MAGIC, CACHE_VERSION);
  hash_field (&c, buf);
  hash_field (&c, berth_version ? berth_version : "");
  snprintf (buf, sizeof buf, "libseccomp %u.%u.%u native 0x%x", v->major, v->minor, v->micro,
            lib->seccomp_arch_native ());
  hash_field (&c, buf);
  hash_field (&c, u.machine);
  hash_field (&c, u.release);
  dl_iterate_phdr (hash_build_id, &c);
  /* The model's own encoding rather than JSON: no allocation, half the bytes. */
  oci_digest (&oci_type_seccomp, &rules, sha256_sink, &c);
  sha256_final (&c, key);
  return 0;
}

/* <root>/@seccomp-cache, made 0700 if absent; refused unless it is a real
   directory of ours that nobody else can write to. */
int
seccomp_cache_dir (const char *root)
{
  struct berth_error ignored = { 0 };
  cleanup_close int fd = -1;
  char path[PATH_MAX];
  struct stat st;

  if ((size_t) snprintf (path, sizeof path, "%s/" CACHE_DIR, root) >= sizeof path)
    return -1;
  /* One open when it exists, as it does after the first profile. */
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    {
      /* As state_root_open() would: the first create may come before it. */
      (void) mkdir_p (root, 0700, &ignored);
      if (mkdir (path, 0700) < 0 && errno != EEXIST)
        return -1;
      fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  if (fd < 0 || fstat (fd, &st) < 0)
    return -1;
  if (st.st_uid != geteuid () || (st.st_mode & 022))
    {
      berth_debug ("seccomp cache %s/" CACHE_DIR " is not private to uid %u: not used", root,
                   (unsigned) geteuid ());
      return -1;
    }
  return steal_fd (&fd);
}

/* 0 and f->insns filled when `name` is a valid entry for `key`; -1 else. */
int
seccomp_cache_read (int dir, const char *name, const uint8_t key[SHA256_DIGEST_SIZE],
            struct berth_seccomp *f)
{
  cleanup_close int fd = openat (dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  cleanup_free struct sock_filter *insns = NULL;
  struct cache_header h;
  uint8_t sum[SHA256_DIGEST_SIZE];
  struct stat st;
  size_t body;
  const char *why;

  if (fd < 0)
    return -1; /* absent (the common miss), or a symlink: ELOOP */
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    why = "not a regular file";
  else if (st.st_uid != geteuid () || (st.st_mode & 022))
    why = "wrong owner or writable by others";
  else if ((size_t) st.st_size < sizeof h
           || (st.st_size - sizeof h) % sizeof (struct sock_filter) != 0
           || (body = (size_t) st.st_size - sizeof h) / sizeof (struct sock_filter) > SECCOMP_MAX_INSNS
           || body == 0)
    why = "bad size";
  else if (pread (fd, &h, sizeof h, 0) != (ssize_t) sizeof h
           || memcmp (h.magic, CACHE_MAGIC, 8) != 0 || h.version != CACHE_VERSION
           || h.count != body / sizeof (struct sock_filter))
    why = "bad header";
  else if (memcmp (h.key, key, SHA256_DIGEST_SIZE) != 0)
    why = "key mismatch";
  else if ((insns = malloc (body)) == NULL
           || pread (fd, insns, body, sizeof h) != (ssize_t) body)
    why = "short read";
  else if (sha256 (insns, body, sum), memcmp (sum, h.sum, sizeof sum) != 0)
    why = "checksum mismatch";
  else
    {
      f->insns = steal_pointer (&insns);
      f->len = (unsigned short) h.count;
      f->from_cache = true;
      return 0;
    }
  berth_debug ("seccomp cache entry %s: %s: recompiling", name, why);
  return -1;
}

/* One entry per profile and per build of berth and libseccomp: after
   upgrades the cache holds entries no key will name again.  After each
   write, keep the CACHE_KEEP most recently written entries and remove
   temporary files older than a minute (a write that died half-way).  A
   profile still in use that falls out is compiled and written again. */
#define CACHE_KEEP 64

struct cache_entry {
  char name[2 * SHA256_DIGEST_SIZE + 8];
  struct timespec written;
};

static int
older_first (const void *a, const void *b)
{
  const struct timespec *x = &((const struct cache_entry *) a)->written;
  const struct timespec *y = &((const struct cache_entry *) b)->written;
  if (x->tv_sec != y->tv_sec)
    return x->tv_sec < y->tv_sec ? -1 : 1;
  return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

static void
cache_prune (int dir)
{
  int fd = openat (dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_closedir DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  cleanup_free struct cache_entry *e = NULL;
  size_t n = 0, cap = 0;
  struct timespec now;
  struct dirent *de;

  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  clock_gettime (CLOCK_REALTIME, &now);
  while ((de = readdir (d)) != NULL)
    {
      size_t len = strlen (de->d_name);
      struct stat st;
      if (fstatat (dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
        continue;
      if (de->d_name[0] == '.' && len > 4 && strcmp (de->d_name + len - 4, ".tmp") == 0)
        {
          if (st.st_mtim.tv_sec < now.tv_sec - 60)
            unlinkat (dir, de->d_name, 0);
          continue;
        }
      if (len != 2 * SHA256_DIGEST_SIZE + 4 || strcmp (de->d_name + len - 4, ".bpf") != 0)
        continue;
      if (n == cap)
        {
          struct cache_entry *g = reallocarray (e, cap = cap ? 2 * cap : 64, sizeof *e);
          if (g == NULL)
            return;
          e = g;
        }
      memcpy (e[n].name, de->d_name, len + 1);
      e[n++].written = st.st_mtim;
    }
  if (n <= CACHE_KEEP)
    return;
  qsort (e, n, sizeof *e, older_first);
  for (size_t i = 0; i < n - CACHE_KEEP; i++)
    {
      berth_debug ("seccomp cache: removing %s, %zu entries are kept", e[i].name,
                   (size_t) CACHE_KEEP);
      unlinkat (dir, e[i].name, 0);
    }
}

/* Temporary file and rename: readers see the old entry or the new one.  No
   fsync: a file torn by a crash fails the checksum and is rewritten. */
void
seccomp_cache_write (int dir, const char *name, const uint8_t key[SHA256_DIGEST_SIZE],
             const struct berth_seccomp *f)
{
  struct cache_header h = { .version = CACHE_VERSION, .count = f->len };
  size_t body = f->len * sizeof (struct sock_filter);
  char tmp[128];
  cleanup_close int fd = -1;

  memcpy (h.magic, CACHE_MAGIC, 8);
  memcpy (h.key, key, SHA256_DIGEST_SIZE);
  sha256 (f->insns, body, h.sum);
  snprintf (tmp, sizeof tmp, ".%.16s.%d.tmp", name, (int) getpid ());
  unlinkat (dir, tmp, 0); /* a leftover of a crashed process with our pid */
  fd = openat (dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, &h, sizeof h) != (ssize_t) sizeof h
      || write (fd, f->insns, body) != (ssize_t) body || renameat (dir, tmp, dir, name) < 0)
    {
      berth_debug ("seccomp cache: cannot store %s: %s", name, strerror (errno));
      unlinkat (dir, tmp, 0);
      return;
    }
  cache_prune (dir);
}
