/* berth — the container's filesystem view, set up inside its new mount
 * namespace by the container's init before pivot_root.
 *
 * Contract:
 *  - Called in the child, after it has entered (or unshared) its mount
 *    namespace, still running as host root with the host's / visible.
 *  - rootfs_prepare() does, in order: set / to rootfsPropagation (default
 *    rslave, as runc) recursively so nothing leaks to the host; bind the
 *    rootfs onto itself (so it is a mount point); every entry of
 *    config.mounts in order (bind/rbind, tmpfs, proc, sysfs, devpts, mqueue,
 *    cgroup, any other fs type) with all standard options, propagation flags
 *    and recursive attributes (rro, rnosuid, ... via mount_setattr);
 *    the default /dev entries when /dev is a tmpfs from the config (null,
 *    zero, full, random, urandom, tty as bind mounts from the host — or mknod
 *    when not in a user namespace — plus /dev/ptmx -> pts/ptmx, /dev/fd,
 *    stdin/stdout/stderr links, /dev/shm and /dev/pts dirs, /dev/console for
 *    terminals); linux.devices (mknod with mode/uid/gid, or bind mount of the
 *    host node inside a user namespace).
 *  - Every destination is resolved inside the rootfs without following any
 *    symlink out of it (openat2 RESOLVE_IN_ROOT, creating missing
 *    components), and the mount is made onto /proc/self/fd/N of the verified
 *    fd, never onto a path string the container could swap.
 *  - rootfs_pivot() enters the rootfs: pivot_root (or, with no_pivot, move
 *    the rootfs onto / and chroot, as runc --no-pivot), then detaches the old
 *    root.
 *  - rootfs_finalize() runs after pivot: maskedPaths (/dev/null over files,
 *    read-only empty tmpfs over directories), readonlyPaths (bind + remount
 *    ro), root.readonly (remount / ro), and the rootfs propagation.
 *  - Errors name the mount with its JSON path (.mounts[3].destination) and the
 *    failing operation.
 */
#ifndef BERTH_ROOTFS_H
#define BERTH_ROOTFS_H

#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "error.h"
#include "spec.h"

struct rootfs_options {
  const char *rootfs;    /* absolute host path of the rootfs */
  bool no_pivot;
  bool in_user_ns;       /* devices are bind-mounted instead of mknod */
  /* No mount namespace of its own: the mounts are made in the runtime's
     (the runtime records and removes them, hostmounts.h), nothing of the
     host's propagation is touched, and the root is entered with chroot. */
  bool host_mount_ns;
  bool terminal;         /* create /dev/console mount target */
  /* The container's cgroup directories (host paths): a "cgroup" mount on a
     v1 or hybrid host shows each hierarchy from the container's own cgroup,
     as runc does.  NULL: bind the host's tree. */
  const struct berth_cgroup *cgroup;
  /* One per mount: a detached copy of a bind mount's source made by the
     runtime (rootfs_open_bind_sources), ID-mapped already when the mount
     is, or -1; NULL: none. */
  const int *bind_sources;
};

/* root.path as the host path of an existing directory, into rootfs (of
   PATH_MAX), a relative path taken from the bundle (`bundle_abs`, an
   absolute path); errors name ".root.path". */
int rootfs_resolve (const struct oci_config *c, const char *bundle_abs, char *rootfs,
                    struct berth_error *err);

/* Bind sources opened by the runtime (bind_sources.c).  In the runtime,
   before the init is cloned, as the host's root: each bind mount's source
   as a detached copy (open_tree(OPEN_TREE_CLONE), AT_RECURSIVE for rbind).
   `all` (the container has a user namespace of its own): every bind mount,
   so that a source only the host's root can reach still mounts (runc does
   the same since 1.1); otherwise the ID-mapped ones only.  *fds has
   c->mounts_len entries, -1 for the others, or is NULL when no mount needs
   one; the init inherits them and attaches each with move_mount onto its
   verified destination fd (mount_bind); free with rootfs_close_bind_sources.
   Errors name .mounts[i].source.

   ID-mapped mounts ("idmap", "ridmap", mounts[].uidMappings/gidMappings):
   the kernel maps only a detached mount (MOUNT_ATTR_IDMAP through
   mount_setattr), and only for a caller privileged over that mount and the
   mapping's user namespace: the host's root, so the runtime does it, on
   these very copies, before the init may attach them.  Which namespace:
    - the mount has mappings of its own: one made for them, here (a child
      cloned into a new user namespace, its maps written, the namespace
      opened, the child killed);
    - otherwise the container's (runc): rootfs_idmap_bind_sources(), called
      by create with the namespace joined (before the clone) or the new one
      once its maps are written (before the init is let go).
   ridmap maps every mount of the copied tree (AT_RECURSIVE), idmap the top
   one only: with "rbind" the mounts below stay unmapped, with "bind" there
   are none below (both as runc).  A filesystem the kernel will not ID-map
   (EINVAL) is an error at .mounts[i], and so is a caller the kernel finds
   unprivileged (EPERM).  Not rootless: the kernel wants CAP_SYS_ADMIN in
   the user namespace owning the mount's filesystem (the initial one for a
   host path, ext4 or the host's tmpfs) and in the mapping's; a rootless
   runtime has it in neither, nor does its container's user namespace help
   (open_tree works there, mount_setattr is EPERM: kernel 6.18), so a
   non-root runtime refuses every ID-mapped mount before it makes anything,
   in one line naming .mounts[i]. */
int rootfs_open_bind_sources (const struct oci_config *c, bool all, int **fds,
                              struct berth_error *err);
int rootfs_idmap_bind_sources (const struct oci_config *c, const int *fds, int userns_fd,
                               struct berth_error *err);
void rootfs_close_bind_sources (int *fds, size_t n);

int rootfs_prepare (const struct oci_config *c, const struct rootfs_options *o,
                    struct berth_error *err);
int rootfs_pivot (const struct rootfs_options *o, struct berth_error *err);
int rootfs_finalize (const struct oci_config *c, struct berth_error *err);

#endif
