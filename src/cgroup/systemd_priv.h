/* berth — the systemd cgroup driver's private parts: libsystemd's
 * functions as loaded with dlopen() (one table per connection), and the
 * resource properties of a unit (systemd_props.c).  Only
 * systemd_cgroup.c and systemd_props.c include this. */
#ifndef BERTH_SYSTEMD_PRIV_H
#define BERTH_SYSTEMD_PRIV_H

#include <stdbool.h>
#include <stdint.h>

/* Types and prototypes only: nothing here links against libsystemd. */
#include <systemd/sd-bus.h>

#include "error.h"
#include "spec.h"

#define USEC_INFINITY UINT64_MAX

/* ---- libsystemd, loaded on use ------------------------------------------- */

/* Every libsystemd function the driver calls.  Each is a member of struct
   sdbus of the function's own type (typeof of the header's prototype), so a
   mismatch is a compile error, and there is no global state: one table per
   connection, made and dropped within a single driver call (a berth process
   makes at most a handful). */
#define SD_SYMBOLS(X)                                                                      \
  X (sd_bus_open_system)                                                                   \
  X (sd_bus_open_user)                                                                     \
  X (sd_bus_get_property_string)                                                           \
  X (sd_bus_get_owner_creds)                                                               \
  X (sd_bus_creds_get_owner_uid)                                                           \
  X (sd_bus_creds_unref)                                                                   \
  X (sd_bus_new)                                                                           \
  X (sd_bus_set_address)                                                                   \
  X (sd_bus_start)                                                                         \
  X (sd_bus_flush_close_unref)                                                             \
  X (sd_bus_message_new_method_call)                                                       \
  X (sd_bus_message_append)                                                                \
  X (sd_bus_message_append_array)                                                          \
  X (sd_bus_message_open_container)                                                        \
  X (sd_bus_message_close_container)                                                       \
  X (sd_bus_message_read)                                                                  \
  X (sd_bus_message_unref)                                                                 \
  X (sd_bus_call)                                                                          \
  X (sd_bus_call_method)                                                                   \
  X (sd_bus_add_match)                                                                     \
  X (sd_bus_slot_unref)                                                                    \
  X (sd_bus_process)                                                                       \
  X (sd_bus_wait)                                                                          \
  X (sd_bus_error_free)                                                                    \
  X (sd_bus_error_has_name)

struct sdbus {
  void *dl;
  sd_bus *bus;
  bool legacy; /* a v1 or hybrid host: systemd's legacy properties */
#define SD_MEMBER(f) __typeof__ (f) *f;
  SD_SYMBOLS (SD_MEMBER)
#undef SD_MEMBER
};

/* A property list being appended to `m`; r is the first failure. */
struct props {
  struct sdbus *b;
  sd_bus_message *m;
  int r;
};

void prop_t (struct props *p, const char *name, uint64_t v);
void prop_b (struct props *p, const char *name, bool v);
void prop_s (struct props *p, const char *name, const char *v);

/* The properties systemd has for linux.resources (systemd_cgroup.h lists
   them); values the properties cannot take are left out. */
int sd_append_resources (struct props *p, const struct oci_resources *r, struct berth_error *err);

#endif
