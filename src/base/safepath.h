/* berth — paths resolved inside a root directory, never outside it.
 *
 * Contract:
 *  - `root_fd` is a directory fd (O_PATH is enough) standing for "/".  Every
 *    `path` (absolute or relative, it makes no difference) is resolved as if
 *    root_fd were the process's root: "..", absolute symlinks and relative
 *    symlinks that climb are all clamped to root_fd, so the result is always
 *    inside it.  Symlinks are followed, but only ever inside the root, which
 *    is what a mount destination "/evil/x" with evil -> /tmp/outside must
 *    mean: <root>/tmp/outside/x.
 *  - The kernel does it when it can (openat2 with RESOLVE_IN_ROOT |
 *    RESOLVE_NO_MAGICLINKS).  When openat2 is unavailable (ENOSYS) the same
 *    rules are applied by a userspace walk that opens every component with
 *    O_NOFOLLOW and expands symlinks itself (at most 40, then ELOOP); procfs
 *    magic links are then read as plain text and clamped like any symlink.
 *  - Creation (mkdir_p, mkfile) happens only with *at() calls on directory
 *    fds that were themselves resolved by these rules, with O_NOFOLLOW / O_EXCL
 *    on the new name; a dangling symlink on the way is followed (inside the
 *    root) and its target is created, as `mkdir -p` would through a chroot.
 *  - Every returned fd is O_CLOEXEC and owned by the caller.  Failures return
 *    -1 with a BERTH_E_SYSTEM error whose errnum is the errno (so callers can
 *    test for ENOENT); nothing prints.
 *  - Mounting onto a resolved fd goes through its magic link
 *    "/proc/self/fd/N" (safepath_fd_path), so that what is mounted on is the
 *    verified inode, not a path string the container could swap.  That needs
 *    a procfs at /proc in the caller's current root.
 */
#ifndef BERTH_SAFEPATH_H
#define BERTH_SAFEPATH_H

#include <sys/types.h>

#include "error.h"

/* open(2) of `path` inside the root; `flags` are open flags (O_PATH,
   O_DIRECTORY, O_NOFOLLOW for the last component, O_CREAT with `mode`...).
   Returns the fd or -1. */
int safepath_open (int root_fd, const char *path, int flags, mode_t mode,
                   struct berth_error *err);

/* The userspace walk safepath_open falls back on; exported so that tests
   can exercise it on kernels that do have openat2. */
int safepath_open_walk (int root_fd, const char *path, int flags, mode_t mode,
                        struct berth_error *err);

/* mkdir -p inside the root (`mode` before umask).  On success *out_fd is an
   O_PATH | O_DIRECTORY fd of the final directory. */
int safepath_mkdir_p (int root_fd, const char *path, mode_t mode, int *out_fd,
                      struct berth_error *err);

/* Make sure `path` exists: parents as with safepath_mkdir_p (0755), then an
   empty regular file with `mode` if nothing is there.  An existing object of
   any type is accepted (the caller checks its type).  On success *out_fd is
   an O_PATH fd of it. */
int safepath_mkfile (int root_fd, const char *path, mode_t mode, int *out_fd,
                     struct berth_error *err);

/* The lexically cleaned absolute form of `path` ("//dev/./" -> "/dev",
   "/a/../b" -> "/b"; ".." at the top stays at "/"), malloc'd, or NULL when
   out of memory.  For comparing destinations, never for opening. */
char *safepath_clean (const char *path);

/* "/proc/self/fd/N" for fd, written into buf (which is returned). */
#define SAFEPATH_FD_PATH_LEN 32
const char *safepath_fd_path (int fd, char buf[SAFEPATH_FD_PATH_LEN]);

#endif
