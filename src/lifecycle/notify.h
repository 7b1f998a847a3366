/* berth — sd_notify passthrough (NOTIFY_SOCKET), as runc does it.
 *
 * Contract: when the caller of create has NOTIFY_SOCKET set (Podman
 * --sdnotify=container, systemd units running a container), the container
 * gets its own socket instead: notify_prepare() adds a read-only bind mount
 * of <state dir>/notify at /run/notify and sets NOTIFY_SOCKET=
 * /run/notify/notify.sock in the process env.  `start` then binds that
 * socket before releasing the process (notify_listen) and, once the process
 * runs, relays the first message holding READY=1 to the caller's socket
 * with MAINPID set to the init's pid (notify_relay_ready), and returns.
 */
#ifndef BERTH_NOTIFY_H
#define BERTH_NOTIFY_H

#include <sys/types.h>

#include "error.h"
#include "spec.h"

#define NOTIFY_DIR "notify"
#define NOTIFY_CONTAINER_PATH "/run/notify/notify.sock"

/* state_dir: absolute host path of the container's state directory. */
int notify_prepare (struct oci_config *c, int state_dir_fd, const char *state_dir,
                    struct berth_error *err);
int notify_listen (int state_dir_fd, int *sock, struct berth_error *err);
/* Waits for READY=1 (or for the init to exit: pidfd). */
int notify_relay_ready (int sock, const char *host_socket, pid_t pid, int pidfd,
                        struct berth_error *err);

#endif
