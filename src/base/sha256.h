/* berth — SHA-256 (FIPS 180-4), for content-addressed caches.
 *
 * Contract: a plain streaming hash: init, update any number of times with any
 * chunking, final.  Used where a collision would be a security problem (the
 * seccomp cache is keyed by it: a collision would load the wrong filter), so
 * not replaceable by a fast non-cryptographic hash.  No allocation, no state
 * outside the context.
 */
#ifndef BERTH_SHA256_H
#define BERTH_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256_ctx {
  uint32_t h[8];
  uint64_t total;      /* bytes hashed so far */
  uint8_t block[64];   /* pending input, `total % 64` bytes of it used */
  bool portable;       /* the plain C rounds: asked for, or the CPU has no SHA-NI */
};

/* Uses the CPU's SHA instructions where it has them (x86-64 SHA-NI). */
void sha256_init (struct sha256_ctx *c);
/* The plain C rounds whatever the CPU, so that tests cover both. */
void sha256_init_portable (struct sha256_ctx *c);
void sha256_update (struct sha256_ctx *c, const void *data, size_t len);
void sha256_final (struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);
/* One-shot. */
void sha256 (const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);
/* 64 lowercase hex digits and a NUL into hex[65]. */
void sha256_hex (const uint8_t digest[SHA256_DIGEST_SIZE], char hex[2 * SHA256_DIGEST_SIZE + 1]);

#endif
