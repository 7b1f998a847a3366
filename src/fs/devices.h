/* berth — device nodes inside the container's /dev.
 *
 * Contract (called by rootfs_prepare, before pivot, with `root_fd` the
 * rootfs; every path is resolved inside it with safepath):
 *  - devices_create() makes each linux.devices entry: mknod of type c/u
 *    (same thing), b or p with fileMode (default 0666, umask not applied)
 *    and, when given, uid/gid; missing parents are created.  A node that
 *    already exists with the same type and major:minor is left alone; any
 *    other object at that path (file, symlink, empty directory, different
 *    device) is replaced.  In a user namespace, where mknod of devices is
 *    not allowed, the host's node of the same path is bind-mounted onto an
 *    empty file instead, and its mode/owner are not touched (they are the
 *    host's).  Errors carry the JSON path .linux.devices[i].
 *  - devices_setup_dev() fills a fresh /dev tmpfs: null zero full random
 *    urandom tty (the kernel's fixed numbers 1:3 1:5 1:7 1:8 1:9 5:0, mode
 *    0666; bind mounts of the host's nodes in a user namespace) unless the
 *    path already exists; the links fd, stdin, stdout, stderr to
 *    /proc/self/fd[/N], core -> /proc/kcore when the host has /proc/kcore,
 *    ptmx -> pts/ptmx when /dev/ptmx does not exist; the directories pts and
 *    shm; and, for a terminal, an empty /dev/console for the caller to
 *    bind-mount the pty onto.
 */
#ifndef BERTH_DEVICES_H
#define BERTH_DEVICES_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

int devices_create (int root_fd, const struct oci_linux *l, bool in_user_ns,
                    struct berth_error *err);
int devices_setup_dev (int root_fd, bool in_user_ns, bool terminal, struct berth_error *err);

#endif
