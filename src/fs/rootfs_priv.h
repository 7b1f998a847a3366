/* berth — internals shared by rootfs.c (the mounts, before pivot) and
 * pivot.c (entering the root, then masking it), not an API.
 */
#ifndef BERTH_ROOTFS_PRIV_H
#define BERTH_ROOTFS_PRIV_H

#include "error.h"
#include "spec.h"

/* Name the failing part of config.json in an error already filled in; -1. */
__attribute__ ((format (printf, 2, 3))) int rootfs_at_path (struct berth_error *err,
                                                            const char *fmt, ...);

/* Remount the bind mount `fd` (or `target`, when not NULL) with `flags`,
   keeping the per-mount flags it has unless `cleared` names them, and
   retrying with every locked flag kept (mounts inherited by a user
   namespace).  -1 with errno. */
int rootfs_remount_bind (int fd, const char *target, unsigned long flags, unsigned long cleared);

/* linux.rootfsPropagation as mount(2) flags, 0 when unset. */
unsigned long rootfs_configured_propagation (const struct oci_config *c);

#endif
