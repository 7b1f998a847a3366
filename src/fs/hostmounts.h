/* berth — the mounts a container without a mount namespace of its own
 * leaves in the runtime's (the host's) mount namespace.
 *
 * Contract: hostmounts_snapshot() records the ids of every mount the
 * caller's namespace has; hostmounts_new_within() then lists, as
 * "ID PATH" strings in mountinfo order (parents first), each mount made
 * since whose mount point is `dir` or below it: what create made for the
 * container, kept in its state.  hostmounts_unmount() detaches, children
 * first, each listed mount that is still there with the same id at the
 * same place (never a mount someone else made there since), and reports
 * the first failure.
 */
#ifndef BERTH_HOSTMOUNTS_H
#define BERTH_HOSTMOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct hostmounts_snapshot {
  uint64_t *ids;
  size_t n;
};

int hostmounts_snapshot (struct hostmounts_snapshot *s, struct berth_error *err);
void hostmounts_snapshot_free (struct hostmounts_snapshot *s);
int hostmounts_new_within (const struct hostmounts_snapshot *s, const char *dir, char ***out,
                           size_t *n, struct berth_error *err);
int hostmounts_unmount (char *const *v, size_t n, struct berth_error *err);

#endif
