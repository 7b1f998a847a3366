/* SHA-256 as specified in FIPS 180-4, section 6.2; written from the
   specification, byte-oriented so that it is endian-neutral. */
#include "base/sha256.h"

#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t
ror (uint32_t x, unsigned n)
{
  return (x >> n) | (x << (32 - n));
}

static void
compress (uint32_t h[8], const uint8_t p[64])
{
  uint32_t w[64], a, b, c, d, e, f, g, hh;

  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16
           | (uint32_t) p[4 * i + 2] << 8 | (uint32_t) p[4 * i + 3];
  for (int i = 16; i < 64; i++)
    {
      uint32_t s0 = ror (w[i - 15], 7) ^ ror (w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = ror (w[i - 2], 17) ^ ror (w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
  a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++)
    {
      uint32_t t1 = hh + (ror (e, 6) ^ ror (e, 11) ^ ror (e, 25)) + ((e & f) ^ (~e & g)) + K[i]
                    + w[i];
      uint32_t t2 = (ror (a, 2) ^ ror (a, 13) ^ ror (a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

#if defined(__x86_64__)
/* The same rounds with the CPU's SHA extensions (Intel SHA-NI, also in AMD
   Zen), several times faster: the seccomp cache hashes its key and checks
   its entry on every create with a profile.  The state is kept as the
   instructions want it, A B E F in one register and C D G H in the other,
   and each SHA256RNDS2 does two rounds. */
__attribute__ ((target ("sha,sse4.1,ssse3"))) static void
compress_shani (uint32_t h[8], const uint8_t *p, size_t blocks)
{
  const __m128i bswap = _mm_set_epi64x (0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i abcd = _mm_shuffle_epi32 (_mm_loadu_si128 ((const __m128i *) &h[0]), 0xb1);
  __m128i efgh = _mm_shuffle_epi32 (_mm_loadu_si128 ((const __m128i *) &h[4]), 0x1b);
  __m128i abef = _mm_alignr_epi8 (abcd, efgh, 8);
  __m128i cdgh = _mm_blend_epi16 (efgh, abcd, 0xf0);

  for (; blocks > 0; blocks--, p += 64)
    {
      __m128i w[4], save_abef = abef, save_cdgh = cdgh;
      for (int g = 0; g < 16; g++)
        {
          __m128i wk;
          if (g < 4)
            w[g] = _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (p + 16 * g)), bswap);
          else
            /* W[t..t+3] from W[t-16..t-13], W[t-15..t-12], W[t-7..t-4]
               and W[t-2], W[t-1]. */
            w[g % 4] = _mm_sha256msg2_epu32 (
                _mm_add_epi32 (_mm_sha256msg1_epu32 (w[g % 4], w[(g + 1) % 4]),
                               _mm_alignr_epi8 (w[(g + 3) % 4], w[(g + 2) % 4], 4)),
                w[(g + 3) % 4]);
          wk = _mm_add_epi32 (w[g % 4], _mm_loadu_si128 ((const __m128i *) &K[4 * g]));
          cdgh = _mm_sha256rnds2_epu32 (cdgh, abef, wk);
          abef = _mm_sha256rnds2_epu32 (abef, cdgh, _mm_shuffle_epi32 (wk, 0x0e));
        }
      abef = _mm_add_epi32 (abef, save_abef);
      cdgh = _mm_add_epi32 (cdgh, save_cdgh);
    }
  abcd = _mm_shuffle_epi32 (abef, 0x1b);
  efgh = _mm_shuffle_epi32 (cdgh, 0xb1);
  _mm_storeu_si128 ((__m128i *) &h[0], _mm_blend_epi16 (abcd, efgh, 0xf0));
  _mm_storeu_si128 ((__m128i *) &h[4], _mm_alignr_epi8 (efgh, abcd, 8));
}

/* Asked of the CPU when a hash needs it, not with __builtin_cpu_supports,
   whose libgcc constructor runs a dozen CPUID instructions (each a trap to
   the hypervisor in a virtual machine) at the start of every berth
   process. */
static bool
have_shani (void)
{
  unsigned a, b, c, d;
  return __get_cpuid (1, &a, &b, &c, &d) && (c & bit_SSE4_1) && (c & bit_SSSE3)
         && __get_cpuid_count (7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

static void
compress_blocks (const struct sha256_ctx *c, uint32_t h[8], const uint8_t *p, size_t blocks)
{
#if defined(__x86_64__)
  if (!c->portable)
    {
      compress_shani (h, p, blocks);
      return;
    }
#else
  (void) c;
#endif
  for (; blocks > 0; blocks--, p += 64)
    compress (h, p);
}

void
sha256_init (struct sha256_ctx *c)
{
  static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
  memcpy (c->h, iv, sizeof iv);
  c->total = 0;
#if defined(__x86_64__)
  c->portable = !have_shani ();
#else
  c->portable = true;
#endif
}

void
sha256_init_portable (struct sha256_ctx *c)
{
  sha256_init (c);
  c->portable = true;
}

void
sha256_update (struct sha256_ctx *c, const void *data, size_t len)
{
  const uint8_t *p = data;
  size_t used = c->total % 64;

  c->total += len;
  if (used)
    {
      size_t n = 64 - used < len ? 64 - used : len;
      memcpy (c->block + used, p, n);
      p += n, len -= n;
      if (used + n < 64)
        return;
      compress_blocks (c, c->h, c->block, 1);
    }
  compress_blocks (c, c->h, p, len / 64);
  p += len - len % 64;
  memcpy (c->block, p, len % 64);
}

void
sha256_final (struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE])
{
  uint64_t bits = c->total * 8;
  size_t used = c->total % 64;
  uint8_t len[8];

  /* 0x80, zeros up to 56 mod 64, then the message length in bits. */
  c->block[used++] = 0x80;
  if (used > 56)
    {
      memset (c->block + used, 0, 64 - used);
      compress_blocks (c, c->h, c->block, 1);
      used = 0;
    }
  memset (c->block + used, 0, 56 - used);
  for (int i = 0; i < 8; i++)
    len[i] = (uint8_t) (bits >> (56 - 8 * i));
  memcpy (c->block + 56, len, 8);
  compress_blocks (c, c->h, c->block, 1);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++)
      out[4 * i + j] = (uint8_t) (c->h[i] >> (24 - 8 * j));
}

void
sha256 (const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE])
{
  struct sha256_ctx c;
  sha256_init (&c);
  sha256_update (&c, data, len);
  sha256_final (&c, out);
}

void
sha256_hex (const uint8_t digest[SHA256_DIGEST_SIZE], char hex[2 * SHA256_DIGEST_SIZE + 1])
{
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
    {
      hex[2 * i] = digits[digest[i] >> 4];
      hex[2 * i + 1] = digits[digest[i] & 15];
    }
  hex[2 * SHA256_DIGEST_SIZE] = '\0';
}
