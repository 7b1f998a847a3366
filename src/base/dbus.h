/* berth — a D-Bus client of the smallest useful kind, for the systemd
 * cgroup driver: berth links no D-Bus library.
 *
 * Contract:
 *  - One connection over a unix socket (unix:path= or unix:abstract=, the
 *    first of an address list that connects), authenticated with EXTERNAL
 *    and no identity of berth's own, so the peer goes by the socket's
 *    credentials (SO_PEERCRED): from a user namespace that is the outer
 *    uid, the one the bus knows.  `hello` for a bus (dbus-daemon,
 *    dbus-broker), not for a peer such as systemd's private socket.
 *  - Method calls block until their reply, error or deadline; every signal
 *    read meanwhile goes to the connection's on_signal (if any), so a
 *    signal that arrives before the reply of the call it follows is not
 *    lost.  No server side, and no unix fds: the connection asks for fd
 *    passing as sd-bus does (see authenticate), but berth sends none, and
 *    any that came would be dropped by the kernel (recv has no room for
 *    them).  Messages in this host's byte order (the only order a local
 *    peer sends: both ends share the CPU).  --debug logs each call and
 *    each message received.
 *  - Bodies are written with dbus_put_* in the order of the signature the
 *    caller gives, and read with dbus_get_* the same way; both check
 *    bounds, and the first failure sticks (w->r, rd->r).
 *  - Failure is < 0 with err filled; a D-Bus error reply also sets the
 *    reply's error_name and error_message (within the reply's buffer).
 */
#ifndef BERTH_DBUS_H
#define BERTH_DBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct dbus_msg {
  char *buf;               /* the whole message; owned */
  size_t len;
  uint8_t type;            /* 1 call, 2 return, 3 error, 4 signal */
  uint32_t reply_serial;
  const char *path, *interface, *member, *error_name, *signature; /* NULL when absent */
  const char *body;
  size_t body_len;
};

struct dbus_conn {
  int fd;
  uint32_t serial;
  void (*on_signal) (void *data, const struct dbus_msg *m);
  void *data;
};

struct dbus_writer {
  char *buf;
  size_t len, cap;
  size_t arrays[8]; /* where each open array's length is, and its start */
  size_t starts[8];
  int depth;
  int r; /* 0, or the first failure (-ENOMEM, -E2BIG) */
};

struct dbus_reader {
  const char *buf;
  size_t pos, len;
  int r; /* 0, or -EBADMSG once a value was not there */
};

struct dbus_reply {
  struct dbus_msg m;
  const char *error_message; /* an error reply's first string, if any */
};

/* Connect to the first address of `address` that connects. */
int dbus_connect (struct dbus_conn *c, const char *address, bool hello, struct berth_error *err);
void dbus_close (struct dbus_conn *c);
/* The pid at the other end of the socket (SO_PEERCRED); 0 when not known
   (from another pid namespace). */
pid_t dbus_peer_pid (const struct dbus_conn *c);

void dbus_put_byte (struct dbus_writer *w, uint8_t v);
void dbus_put_bool (struct dbus_writer *w, bool v);
void dbus_put_u32 (struct dbus_writer *w, uint32_t v);
void dbus_put_u64 (struct dbus_writer *w, uint64_t v);
void dbus_put_string (struct dbus_writer *w, const char *s); /* s and o */
void dbus_put_signature (struct dbus_writer *w, const char *sig);
/* An array of elements aligned to `align` (8 for structs and dict entries). */
void dbus_array_open (struct dbus_writer *w, size_t align);
void dbus_array_close (struct dbus_writer *w);
void dbus_struct_open (struct dbus_writer *w);
/* A variant's signature; its one value follows. */
void dbus_put_variant (struct dbus_writer *w, const char *sig);
void dbus_writer_free (struct dbus_writer *w);

/* Call `member`; `sig` and `body` may be NULL for no arguments.  With
   `reply` NULL the reply is waited for and dropped.  timeout_ms < 0: no
   deadline. */
int dbus_call (struct dbus_conn *c, const char *dest, const char *path, const char *interface,
               const char *member, const char *sig, const struct dbus_writer *body,
               int timeout_ms, struct dbus_reply *reply, struct berth_error *err);
/* Read messages until `done(data)` is true or the deadline passes (then
   -ETIMEDOUT in err), handing signals to on_signal. */
int dbus_wait (struct dbus_conn *c, bool (*done) (void *data), void *data, int timeout_ms,
               struct berth_error *err);
void dbus_reply_free (struct dbus_reply *r);

void dbus_reader_init (struct dbus_reader *rd, const struct dbus_msg *m);
uint8_t dbus_get_byte (struct dbus_reader *rd);
uint32_t dbus_get_u32 (struct dbus_reader *rd);
const char *dbus_get_string (struct dbus_reader *rd); /* s and o */
const char *dbus_get_signature (struct dbus_reader *rd); /* g, and a variant's */

#endif
