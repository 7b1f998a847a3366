/* berth — internals shared by check.c, check_spec.c and check_cgroup.c (not
 * an API).  Each check_*() walks one part of the config and adds every
 * problem it finds to the context's report; none of them stops early.
 */
#ifndef BERTH_CHECK_PRIV_H
#define BERTH_CHECK_PRIV_H

#include <limits.h>
#include <stdbool.h>

#include "check/check.h"
#include "spec.h"

struct check_ctx {
  const struct check_options *o;
  struct check_report *r;
  const struct oci_config *c;
  char bundle[PATH_MAX]; /* absolute */
  bool oom;              /* a problem could not be recorded */
};

/* Record a problem at `path` (NULL or "" for none). */
void check_add (struct check_ctx *x, enum check_severity sev, enum berth_error_kind kind,
                const char *path, const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
/* Record an error value some other module returned, keeping its path (or
   setting `path` when it has none). */
void check_add_error (struct check_ctx *x, enum check_severity sev, const struct berth_error *e,
                      const char *path);

/* The RLIMIT_* number of a spec rlimit name, -1 when unknown. */
int check_rlimit_resource (const char *name);

/* The spec's own rules (validate.c's, every violation reported). */
void check_spec (struct check_ctx *x);
/* linux.seccomp against libseccomp: names, actions, architectures, flags. */
void check_seccomp (struct check_ctx *x);
/* linux.resources and linux.cgroupsPath against this host's cgroups. */
void check_cgroups (struct check_ctx *x);

#define CHECK_PATHF(buf, ...) snprintf (buf, sizeof buf, __VA_ARGS__)

#endif
