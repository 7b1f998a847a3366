/* berth — pseudo-terminals for process.terminal.
 *
 * Contract:
 *  - The pty itself is made in the container, by laststage_terminal().
 *  - terminal_send_fd(): connect to --console-socket and send the master with
 *    SCM_RIGHTS (what containerd's shim and conmon expect).
 *  - terminal_relay(): foreground `run` without a console socket: copy between
 *    our stdio and the master until the container's side closes, with our
 *    terminal in raw mode and its size forwarded on SIGWINCH.
 */
#ifndef BERTH_TERMINAL_H
#define BERTH_TERMINAL_H

#include <stdbool.h>
#include "error.h"
#include "spec.h"

int terminal_send_fd (const char *socket_path, int fd, struct berth_error *err);
/* Connect to a unix stream socket and send `fd` (SCM_RIGHTS) with `payload`;
   `what` names the socket in errors ("pidfd socket"). */
int unix_send_fd (const char *socket_path, int fd, const char *payload, const char *what,
                  struct berth_error *err);
/* Relay until the master reaches EOF/EIO.  pidfd: the process whose end
   also ends the relay. */
int terminal_relay (int master, int pidfd, struct berth_error *err);

#endif
