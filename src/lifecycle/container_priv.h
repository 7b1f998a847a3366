/* berth — what the files of the container lifecycle share (container.c,
 * container_create.c, container_records.c, container_state.c).  Not for
 * other modules: they go through container.h.
 */
#ifndef BERTH_CONTAINER_PRIV_H
#define BERTH_CONTAINER_PRIV_H

#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "error.h"
#include "fs/hostmounts.h"
#include "lifecycle/state.h"

struct berth_runtime;

/* The fifo the init blocks on until start (in the state directory). */
#define EXEC_FIFO "exec.fifo"

static inline int
pidfd_signal (int pidfd, int sig)
{
  return (int) syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Lock and load a container and compute its status (container.c). */
int container_load_with_status (const struct berth_runtime *rt, const char *id,
                                struct state_handle *h, struct oci_berth_state **s,
                                const char **status, struct berth_error *err);

/* ---- the write-once records (container_records.c) ------------------------
   Written at create beside state.json and never rewritten, so that
   'delete --force' can still undo a create whose state.json is missing
   (killed half-way) or corrupt. */

/* The cgroup, as cgroup_to_strv gives it (driver included). */
int records_save_cgroup (const struct state_handle *h, const struct berth_cgroup *cg,
                         struct berth_error *err);
/* Kill what the recorded cgroup holds and remove it with its driver. */
void records_remove_cgroup (const struct state_handle *h);

/* Without a mount namespace, the init mounts into the runtime's: the
   rootfs and the ids of every mount there before the init runs
   (`before`, taken here). */
int records_save_host_mounts_base (int dir_fd, const char *rootfs,
                                   struct hostmounts_snapshot *before, struct berth_error *err);
/* Unmount what is new below `rootfs` since `before`. */
void records_unmount_new_host_mounts (const struct hostmounts_snapshot *before,
                                      const char *rootfs);
/* The same, from the record. */
void records_remove_host_mounts (const struct state_handle *h);

#endif
