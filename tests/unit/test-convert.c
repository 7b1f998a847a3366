/* Unit test of src/cgroup/convert.c: runc's conversions, table-driven.
 *
 * The values are the cases of runc's own tests (opencontainers/cgroups
 * utils_test.go: TestConvertCPUSharesToCgroupV2Value,
 * TestConvertMemorySwapToCgroupV2Value, TestConvertBlkIOToIOWeightValue) and
 * of what runc's fs2 writers put in cpu.max, pids.max and io.max.  Where
 * berth keeps an older runc's value than runc's current one, the row says
 * so and holds berth's value (see convert.h).
 */
#include "cgroup/convert.h"
#include "tap.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void
test_shares (void)
{
  static const struct {
    uint64_t shares, weight;
    const char *note;
  } t[] = {
    { 0, 0, "unset" },
    { 1, 1, "below the minimum" },
    { 2, 1, "minimum" },
    { 3, 1, "just above the minimum (runc >= 1.3.2: 2)" },
    { 1024, 39, "default (runc >= 1.3.2: 100)" },
    { 262143, 9999, "just below the maximum (runc >= 1.3.2: 10000)" },
    { 262144, 10000, "maximum" },
    { 262145, 10000, "above the maximum" },
    { UINT64_MAX, 10000, "far above the maximum" },
  };

  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    {
      uint64_t got = cgconv_shares_to_weight (t[i].shares);
      tap_ok (got == t[i].weight, "shares %" PRIu64 " -> weight %" PRIu64 " (%s): got %" PRIu64,
              t[i].shares, t[i].weight, t[i].note, got);
    }
}

static void
test_blkio (void)
{
  static const struct {
    uint16_t blkio;
    bool valid;
    uint64_t io;
  } t[] = {
    { 0, true, 0 },   { 10, true, 1 },     { 1000, true, 10000 }, { 500, true, 4950 },
    { 9, false, 0 },  { 1001, false, 0 },  { 1, false, 0 },
  };

  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    {
      bool valid = cgconv_blkio_weight_valid (t[i].blkio);
      tap_ok (valid == t[i].valid, "blkio weight %u is %svalid", t[i].blkio, t[i].valid ? "" : "in");
      if (t[i].valid)
        tap_ok (cgconv_blkio_to_io_weight (t[i].blkio) == t[i].io,
                "blkio weight %u -> io.weight %" PRIu64 ": got %" PRIu64, t[i].blkio, t[i].io,
                cgconv_blkio_to_io_weight (t[i].blkio));
    }
}

static void
test_swap (void)
{
  static const struct {
    const char *descr;
    int64_t memswap, memory, expected;
    const char *err; /* NULL: success */
  } t[] = {
    { "all unset", 0, 0, 0, NULL },
    { "unlimited memory+swap, unset memory", -1, 0, -1, NULL },
    { "unlimited memory", 300, -1, 300, NULL },
    { "all unlimited", -1, -1, -1, NULL },
    { "negative memory+swap", -2, 0, 0, "unable to set swap limit without memory limit" },
    { "unlimited memory+swap, set memory", -1, 1000, -1, NULL },
    { "memory+swap == memory", 1000, 1000, 0, NULL },
    { "memory+swap > memory", 500, 200, 300, NULL },
    { "memory+swap < memory", 300, 400, 0, "memory+swap limit should be >= memory limit" },
    { "unset memory", 300, 0, 0, "unable to set swap limit without memory limit" },
    { "negative memory", 300, -300, 0, "invalid memory value" },
    { "unlimited memory, unset swap", 0, -1, -1, NULL },
  };

  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    {
      int64_t got = 12345;
      const char *why = "not set";
      int r = cgconv_swap_to_v2 (t[i].memswap, t[i].memory, &got, &why);
      if (t[i].err)
        tap_ok (r < 0 && why && strcmp (why, t[i].err) == 0,
                "swap %" PRId64 ", memory %" PRId64 " (%s): refused: %s", t[i].memswap,
                t[i].memory, t[i].descr, r < 0 && why ? why : "(accepted)");
      else
        tap_ok (r == 0 && why == NULL && got == t[i].expected,
                "swap %" PRId64 ", memory %" PRId64 " (%s) -> %" PRId64 ": got %" PRId64,
                t[i].memswap, t[i].memory, t[i].descr, t[i].expected, got);
    }
}

static void
test_strings (void)
{
  char buf[CGCONV_BUF];
  static const struct {
    int64_t quota;
    uint64_t period;
    const char *want; /* NULL: nothing to write */
  } cpu[] = {
    { 0, 0, NULL },
    { 50000, 0, "50000" }, /* runc appends its default period: "50000 100000" */
    { 50000, 100000, "50000 100000" },
    { -1, 0, "max" },
    { -1, 250000, "max 250000" },
    { 0, 250000, "max 250000" },
    { -5, 10000, "max 10000" },
  };
  static const struct {
    int64_t v;
    const char *limit, *pids; /* limit NULL: unset */
  } num[] = {
    { 0, NULL, "max" }, /* runc <= 1.3 writes no pids.max for 0, runc >= 1.4 "1" */
    { -1, "max", "max" },
    { 1, "1", "1" },
    { 1073741824, "1073741824", "1073741824" },
    { INT64_MAX, "9223372036854775807", "9223372036854775807" },
  };
  static const struct {
    int64_t maj, min;
    const char *key;
    uint64_t rate;
    const char *want;
  } io[] = {
    { 8, 0, "rbps", 1048576, "8:0 rbps=1048576" },
    { 8, 16, "wiops", 0, "8:16 wiops=max" },
    { 253, 1, "riops", 300, "253:1 riops=300" },
  };

  for (size_t i = 0; i < sizeof cpu / sizeof cpu[0]; i++)
    {
      const char *got = cgconv_cpu_max (cpu[i].quota, cpu[i].period, buf, sizeof buf);
      tap_ok (cpu[i].want ? got && strcmp (got, cpu[i].want) == 0 : got == NULL,
              "cpu.max of quota %" PRId64 ", period %" PRIu64 " is %s: got %s", cpu[i].quota,
              cpu[i].period, cpu[i].want ? cpu[i].want : "(nothing)", got ? got : "(nothing)");
    }
  for (size_t i = 0; i < sizeof num / sizeof num[0]; i++)
    {
      const char *l = cgconv_v2_limit (num[i].v, buf, sizeof buf);
      tap_ok (num[i].limit ? l && strcmp (l, num[i].limit) == 0 : l == NULL,
              "v2 limit %" PRId64 " is %s: got %s", num[i].v, num[i].limit ? num[i].limit : "(nothing)",
              l ? l : "(nothing)");
      l = cgconv_pids_max (num[i].v, buf, sizeof buf);
      tap_ok (strcmp (l, num[i].pids) == 0, "pids.max of %" PRId64 " is %s: got %s", num[i].v,
              num[i].pids, l);
    }
  for (size_t i = 0; i < sizeof io / sizeof io[0]; i++)
    {
      const char *got = cgconv_io_max (io[i].maj, io[i].min, io[i].key, io[i].rate, buf, sizeof buf);
      tap_ok (strcmp (got, io[i].want) == 0, "io.max line \"%s\": got \"%s\"", io[i].want, got);
    }
}

int
main (void)
{
  test_shares ();
  test_blkio ();
  test_swap ();
  test_strings ();
  return tap_done ();
}
