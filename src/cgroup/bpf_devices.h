/* berth — device access control on cgroup v2: an eBPF
 * BPF_PROG_TYPE_CGROUP_DEVICE program built from device rules.
 *
 * Contract: the rules are taken in order, as v1's devices.allow/deny would
 * apply them: a later rule overrides an earlier one, a rule for every device
 * and every access ("a *:* rwm") resets the decision for all devices, and a
 * device no rule matches is allowed (a new v1 cgroup inherits "allow all").
 * An allow rule matches a request whose accesses it all grants; a deny rule
 * one that asks for any access it denies.  The program is attached to the
 * cgroup directory with BPF_F_ALLOW_MULTI; programs attached there before
 * (by an earlier create or update) are detached once the new one is in, so
 * the container is never without a filter.
 */
#ifndef BERTH_BPF_DEVICES_H
#define BERTH_BPF_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum {
  DEV_ACC_MKNOD = 1, /* BPF_DEVCG_ACC_* */
  DEV_ACC_READ = 2,
  DEV_ACC_WRITE = 4,
  DEV_ACC_ALL = 7,
};

struct dev_rule {
  char type;     /* 'a' (both), 'c' or 'b' */
  int64_t major; /* -1: any */
  int64_t minor; /* -1: any */
  unsigned access;
  bool allow;
};

/* Whether `r` decides every access to every device. */
bool dev_rule_is_reset (const struct dev_rule *r);

/* Build the program for `rules` (eBPF instructions, malloc'd) without
   loading it: for tests and debugging. */
int bpf_devices_build (const struct dev_rule *rules, size_t n, void **insns, size_t *n_insns,
                       struct berth_error *err);
int bpf_devices_apply (const char *cgroup_dir, const struct dev_rule *rules, size_t n,
                       struct berth_error *err);

#endif
