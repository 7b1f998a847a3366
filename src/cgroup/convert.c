/* runc's value conversions, once for both drivers (see convert.h). */
#include "cgroup/convert.h"

#include <inttypes.h>
#include <stdio.h>

uint64_t
cgconv_shares_to_weight (uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

bool
cgconv_blkio_weight_valid (uint16_t weight)
{
  return weight == 0 || (weight >= 10 && weight <= 1000);
}

uint64_t
cgconv_blkio_to_io_weight (uint16_t weight)
{
  if (weight == 0)
    return 0;
  return 1 + ((uint64_t) weight - 10) * 9999 / 990;
}

int
cgconv_swap_to_v2 (int64_t memswap, int64_t memory, int64_t *out, const char **why)
{
  *why = NULL;
  if (memory == -1 && memswap == 0)
    *out = -1;
  else if (memswap == -1 || memswap == 0 || memory == -1)
    *out = memswap;
  else if (memory == 0)
    *why = "unable to set swap limit without memory limit";
  else if (memory < 0)
    *why = "invalid memory value";
  else if (memswap < memory)
    *why = "memory+swap limit should be >= memory limit";
  else
    *out = memswap - memory;
  return *why ? -1 : 0;
}

const char *
cgconv_v2_limit (int64_t v, char *buf, size_t len)
{
  if (v == 0)
    return NULL;
  if (v == -1)
    return "max";
  snprintf (buf, len, "%" PRId64, v);
  return buf;
}

const char *
cgconv_pids_max (int64_t limit, char *buf, size_t len)
{
  if (limit <= 0)
    return "max";
  snprintf (buf, len, "%" PRId64, limit);
  return buf;
}

const char *
cgconv_cpu_max (int64_t quota, uint64_t period, char *buf, size_t len)
{
  char q[24] = "max";

  if (quota == 0 && period == 0)
    return NULL;
  if (quota > 0)
    snprintf (q, sizeof q, "%" PRId64, quota);
  if (period != 0)
    snprintf (buf, len, "%s %" PRIu64, q, period);
  else
    snprintf (buf, len, "%s", q);
  return buf;
}

const char *
cgconv_io_max (int64_t major, int64_t minor, const char *key, uint64_t rate, char *buf,
               size_t len)
{
  if (rate == 0)
    snprintf (buf, len, "%" PRId64 ":%" PRId64 " %s=max", major, minor, key);
  else
    snprintf (buf, len, "%" PRId64 ":%" PRId64 " %s=%" PRIu64, major, minor, key, rate);
  return buf;
}
