/* berth — commands that act on a live container's cgroup: update, pause,
 * resume, ps.
 *
 * Contract: each takes the container's lock (container_open) for its run and
 * answers with runc's phrases: a stopped container is "container not
 * running"; resume of a container that is not paused is "container not
 * paused".  update applies `delta` (a LinuxResources document, from flags
 * or --resources) merged over the resources the container has now, keeps
 * the merged result in the container's state for the next update, and
 * re-applies only the sections `delta` names (device rules only when they
 * differ from the current ones, so an engine that resends them all does not
 * disturb the container).
 */
#ifndef BERTH_CGROUP_OPS_H
#define BERTH_CGROUP_OPS_H

#include <stddef.h>
#include <sys/types.h>

#include "lifecycle/container.h"
#include "error.h"
#include "spec.h"

int container_update (const struct berth_runtime *rt, const char *id,
                      struct oci_resources *delta, struct berth_error *err);
int container_pause (const struct berth_runtime *rt, const char *id, struct berth_error *err);
int container_resume (const struct berth_runtime *rt, const char *id, struct berth_error *err);
/* Every pid (host pid namespace) in the container's cgroup; malloc'd.  A
   stopped container whose cgroup is gone has none. */
int container_pids (const struct berth_runtime *rt, const char *id, pid_t **pids, size_t *n,
                    struct berth_error *err);

/* Move every property present in `src` into `dst` (objects merge property
   by property, arrays and maps are replaced); what `dst` had in their place
   ends up in `src`, to be freed with it. */
void cgops_merge_move (const struct oci_type *t, void *dst, void *src);

/* update's document work, without a container: merge `delta` into `stored`
   (cgops_merge_move; memory.limit -1 with no swap given lifts swap too, as
   runc) and return what to write: the merged sections `delta` names, the
   device rules only when they differ from the stored ones.  The result
   points into `stored`, which stays the owner. */
struct oci_resources cgops_update_view (struct oci_resources *stored,
                                        struct oci_resources *delta);

#endif
