/* berth — the private channel between the runtime and the container's init
 * while the container is being created.
 *
 * Contract: a SOCK_SEQPACKET socketpair; each message is one struct
 * sync_msg, optionally carrying one fd (SCM_RIGHTS).  The runtime's end has
 * SO_PASSCRED, so the kernel tells it the sender's pid in the runtime's own
 * pid namespace, whatever namespace the init is in.  An error in the init
 * travels as a whole struct berth_error, so the runtime reports it as if it
 * were its own.
 */
#ifndef BERTH_SYNC_H
#define BERTH_SYNC_H

#include <sys/types.h>
#include "error.h"

/* GO's value when the process is to move itself into its cgroup. */
#define SYNC_GO_ENTER_CGROUP 1

enum sync_kind {
  SYNC_GO = 1,        /* runtime -> init: cgroup placed (or, value
                         SYNC_GO_ENTER_CGROUP, made for the init to enter
                         itself), maps written; go on */
  SYNC_NEED_MAPS,     /* first child -> runtime: user namespace made; write maps */
  SYNC_CONSOLE,       /* init -> runtime: carries the pty master */
  SYNC_READY,         /* init -> runtime: set up, now waiting for start */
  SYNC_HOOKS,         /* init -> runtime: mounts done; run prestart/createRuntime;
                         the runtime answers GO with the init's pid in `value` */
  SYNC_SECCOMP,       /* init -> runtime: carries the seccomp listener fd; answered GO */
  SYNC_ERROR,         /* either way: carries err */
  SYNC_UNSHARED,      /* init -> runtime: its new namespaces are made (direct path) */
};

struct sync_msg {
  enum sync_kind kind;
  int value;
  struct berth_error err;
};

int sync_pair (int fds[2], struct berth_error *err);
/* Returns 0, or -1 with errno. */
int sync_send (int sock, enum sync_kind kind, const struct berth_error *e, int fd);
int sync_send_value (int sock, enum sync_kind kind, int value);
/* Receives one message; *fd gets a passed fd or -1; *pid the sender's pid (in
   the receiver's pid namespace) when the socket has SO_PASSCRED.  A closed
   peer is an error of kind BERTH_E_CHILD. */
int sync_recv (int sock, struct sync_msg *m, int *fd, pid_t *pid, struct berth_error *err);
/* Wait for `want`; a SYNC_ERROR from the peer becomes *err. */
int sync_expect (int sock, enum sync_kind want, int *fd, pid_t *pid, struct berth_error *err);
/* The same, giving the value the message carries. */
int sync_expect_value (int sock, enum sync_kind want, int *fd, pid_t *pid, int *value,
                       struct berth_error *err);

/* Send `data` with one fd (SCM_RIGHTS; none when fd < 0) over a connected
   unix socket; 0 when all of it went, -1 with errno otherwise.  Also for
   sockets other than the sync channel (the console socket). */
int fd_send (int sock, int fd, const void *data, size_t len);

#endif
