/* berth — runc's conversions from the spec's (cgroup v1 shaped) resource
 * values to what cgroup v2 files and systemd properties take.
 *
 * Contract: pure functions of their arguments (no I/O, no state), shared by
 * the cgroupfs writers (resources_*.c) and the systemd driver, so that both
 * drivers convert a value the same way.  Each states runc's function it
 * follows and the runc version whose values it gives where runc changed
 * them; tests/unit/test-convert.c checks them against runc's own tables.
 * A string result goes to the caller's buffer (CGCONV_BUF bytes suffice).
 */
#ifndef BERTH_CGROUP_CONVERT_H
#define BERTH_CGROUP_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGCONV_BUF 64

/* cpu.shares [2, 262144] onto cpu.weight [1, 10000], linearly, values
   outside clamped; 0 (unset) stays 0.  This is runc's
   ConvertCPUSharesToCgroupV2Value up to runc 1.3.1 (1024 -> 39); runc
   1.3.2 and later use a curve through (1024, 100) instead. */
uint64_t cgconv_shares_to_weight (uint64_t shares);

/* Whether a blkio weight can be converted: 0 (unset) or 10..1000. */
bool cgconv_blkio_weight_valid (uint16_t weight);
/* blkio.weight [10, 1000] onto io.weight [1, 10000], linearly; 0 stays 0
   (runc's ConvertBlkIOToIOWeightValue).  Only for valid weights. */
uint64_t cgconv_blkio_to_io_weight (uint16_t weight);

/* runc's ConvertMemorySwapToCgroupV2Value: the spec's swap is memory+swap,
   v2's memory.swap.max is swap alone.  0 is unset and -1 unlimited in both.
   Unlimited memory with swap unset gives unlimited swap; unlimited or unset
   swap, or unlimited memory, keep the swap value as it is; otherwise swap
   - memory, refused (-1, *why set to runc's message) when memory is unset
   or negative or above swap. */
int cgconv_swap_to_v2 (int64_t memswap, int64_t memory, int64_t *out, const char **why);

/* A v2 limit file's value: -1 is "max", 0 is unset (NULL: write nothing),
   anything else the number, in `buf`. */
const char *cgconv_v2_limit (int64_t v, char *buf, size_t len);

/* pids.max from pids.limit: 0 and negative are "max".  runc up to 1.3
   writes "max" for a negative limit and nothing for 0 (a new cgroup's
   pids.max is "max" already); runc 1.4 writes "1" for 0. */
const char *cgconv_pids_max (int64_t limit, char *buf, size_t len);

/* cpu.max from quota and period (0: unset): NULL when both are unset, else
   "QUOTA[ PERIOD]" with "max" for a quota <= 0; an unset period is left
   out, so that the kernel keeps the current one (runc, since 1.1 at least,
   writes its default " 100000" instead: the same on a new cgroup). */
const char *cgconv_cpu_max (int64_t quota, uint64_t period, char *buf, size_t len);

/* One io.max line from a blkio throttle: "MAJ:MIN KEY=RATE" with KEY one of
   rbps, wbps, riops, wiops; a rate of 0 (v1's "no limit") is "max". */
const char *cgconv_io_max (int64_t major, int64_t minor, const char *key, uint64_t rate,
                           char *buf, size_t len);

#endif
