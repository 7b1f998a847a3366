/* berth — linux.resources applied to the container's cgroup.
 *
 * Contract: cgroup_apply_resources() writes every property of `r` that is
 * present to the matching files of the container's cgroup directories, before
 * the container's process runs user code (create) or on a live container
 * (update).
 *  - Each controller is used where the host has it: its v1 hierarchy, else
 *    the cgroup2 directory when that offers it (on a hybrid host, hugetlb
 *    lives only in /sys/fs/cgroup/unified), with v2 file names and runc's
 *    conversions there (convert.h: cpu.weight from shares, memory.swap.max =
 *    swap - limit, io.weight from the blkio weight, "max" for -1).
 *  - Writes that the kernel checks against each other are ordered as runc
 *    orders them: memsw raised before and lowered after the memory limit,
 *    cfs/rt periods retried after the quota/runtime.
 *  - Device rules: runc's default allow-list goes right after the last rule
 *    that decides for every device ("a *:* rwm", typically the leading deny
 *    all), or first, so that the container's /dev stays usable and a later
 *    rule can still deny one of those devices; mknod of any node ("c *:* m",
 *    "b *:* m") comes last, as runc has it.  v1 writes devices.allow /
 *    devices.deny in order (the kernel's lists are incremental, so on update
 *    the new rules apply on top of the current ones); v2 compiles the list
 *    into an eBPF filter (bpf_devices.h) that replaces the previous one.
 *  - A property whose controller or file is absent on this host, or that the
 *    hierarchy cannot express (disableOOMKiller, kernel memory, realtime or
 *    leaf weights on v2; unified keys on v1), is an error naming the
 *    property's JSON path (".linux.resources.memory.limit") and the missing
 *    controller or file; with !update, err->source is "config.json".  The
 *    v1-only swappiness is ignored on v2 with a warning, as runc ignores it.
 *  - With update, memory.checkBeforeUpdate refuses a limit at or below the
 *    current usage instead of letting the kernel reclaim or OOM-kill.
 */
#ifndef BERTH_RESOURCES_H
#define BERTH_RESOURCES_H

#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "error.h"
#include "spec.h"

int cgroup_apply_resources (const struct berth_cgroup *cg, const struct oci_resources *r,
                            bool update, struct berth_error *err);

#endif
