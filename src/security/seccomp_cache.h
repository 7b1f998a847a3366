/* berth — the compiled seccomp filters kept under the state root, so that
 * a profile libseccomp already compiled is read back instead of built again.
 *
 * Contract:
 *  - Entries live in <root>/@seccomp-cache (0700, owned by the caller; a
 *    directory anyone else could write to is not used), one file per key:
 *    a header (magic, format version, the key, a SHA-256 of the program)
 *    then the classic BPF instructions.
 *  - The key covers everything the program depends on: the rules (not the
 *    flags nor the listener, applied at install time), the machine, the
 *    kernel release, libseccomp's version and the build ids of every loaded
 *    object, berth's version.
 *  - A read accepts only a regular file of ours with the right size, magic,
 *    version, key and checksum; anything else is a miss.  A write goes
 *    through a temporary file and a rename, then keeps the newest entries.
 *  - Failures of the cache are never errors of the container: a miss, or a
 *    debug line.
 */
#ifndef BERTH_SECCOMP_CACHE_H
#define BERTH_SECCOMP_CACHE_H

#include "security/seccomp.h"
#include "base/sha256.h"

/* The kernel's limit for one filter (BPF_MAXINSNS). */
#define SECCOMP_MAX_INSNS 4096

struct libseccomp;
/* `lib` open (libseccomp.h): the key names the loaded libseccomp. */
int seccomp_cache_key (const struct libseccomp *lib, const struct oci_seccomp *s,
                       const char *berth_version, uint8_t key[SHA256_DIGEST_SIZE],
                       struct berth_error *err);
/* The cache directory under `root`, made if absent; -1 when unusable. */
int seccomp_cache_dir (const char *root);
/* 0 and f->insns, f->len filled when `name` is a valid entry for `key`. */
int seccomp_cache_read (int dir, const char *name, const uint8_t key[SHA256_DIGEST_SIZE],
                        struct berth_seccomp *f);
void seccomp_cache_write (int dir, const char *name, const uint8_t key[SHA256_DIGEST_SIZE],
                          const struct berth_seccomp *f);

#endif
