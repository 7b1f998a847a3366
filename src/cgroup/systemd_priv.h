/* berth — the systemd cgroup driver's private parts: its D-Bus connection
 * to systemd (base/dbus.h), and the resource properties of a unit
 * (systemd_props.c).  Only systemd_cgroup.c and systemd_props.c include
 * this. */
#ifndef BERTH_SYSTEMD_PRIV_H
#define BERTH_SYSTEMD_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "base/dbus.h"
#include "error.h"
#include "spec.h"

#define USEC_INFINITY UINT64_MAX

/* The JobRemoved signals seen, newest last: a job's can come before the
   reply that names the job. */
enum { SD_JOBS_KEPT = 16 };

/* One connection, made and dropped within a single driver call (a berth
   process makes at most a handful); no global state. */
struct sdbus {
  struct dbus_conn c;
  bool bus;    /* through a bus (dbus-daemon), not systemd's own socket */
  bool legacy; /* a v1 or hybrid host: systemd's legacy properties */
  unsigned n_jobs;
  struct {
    char path[128], result[32];
  } jobs[SD_JOBS_KEPT];
};

/* A property list (a(sv)) being written in `w`. */
struct props {
  struct sdbus *b;
  struct dbus_writer w;
};

void prop_t (struct props *p, const char *name, uint64_t v);
void prop_b (struct props *p, const char *name, bool v);
void prop_s (struct props *p, const char *name, const char *v);
/* A one-element array property: "as" (strings) or "au" (a u32). */
void prop_as1 (struct props *p, const char *name, const char *v);
void prop_au1 (struct props *p, const char *name, uint32_t v);

/* The properties systemd has for linux.resources (systemd_cgroup.h lists
   them); values the properties cannot take are left out. */
int sd_append_resources (struct props *p, const struct oci_resources *r, struct berth_error *err);

#endif
