/* berth — linux.memoryPolicy: the NUMA memory policy of the container's
 * process (set_mempolicy(2)), which the program inherits across execve.
 *
 * Contract: mempolicy_plan() turns the config into the syscall's arguments,
 * or fails naming the JSON path (unknown mode or flag, a node list that
 * does not parse, nodes where the mode takes none or none where it needs
 * some); it runs in the runtime before anything is made.  mempolicy_apply()
 * makes the call in the init, where the kernel's refusal (a node this host
 * does not have) fails the create.
 */
#ifndef BERTH_MEMPOLICY_H
#define BERTH_MEMPOLICY_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

#define MEMPOLICY_MAX_NODES 1024

struct mempolicy_plan {
  bool set;
  int mode; /* MPOL_* | MPOL_F_* */
  unsigned long nodemask[MEMPOLICY_MAX_NODES / (8 * sizeof (unsigned long))];
  unsigned long maxnode; /* 0 without nodes */
};

int mempolicy_plan (const struct oci_memory_policy *mp, struct mempolicy_plan *out,
                    struct berth_error *err);
int mempolicy_apply (const struct mempolicy_plan *plan, struct berth_error *err);

/* The i-th mode (or, with `flag`, flag) name mempolicy_plan() knows, for
   `features`; NULL past the last. */
const char *mempolicy_name (bool flag, size_t i);

#endif
