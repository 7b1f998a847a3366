/* berth — internals shared by check.c, check_spec.c, check_cgroup.c and
 * report.c (not an API).  Each check_*() walks one part of the config and adds every
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

/* A reporter (error.h) that collects into the context's report: errors
   and warnings, each with its path. */
struct berth_reporter check_reporter (struct check_ctx *x);

/* The config's own rules, create's (validate.c, seccomp_validate(),
   mount_validate()), every violation reported. */
void check_spec (struct check_ctx *x);
/* linux.resources and linux.cgroupsPath against this host's cgroups. */
void check_cgroups (struct check_ctx *x);

#define CHECK_PATHF(buf, ...) snprintf (buf, sizeof buf, __VA_ARGS__)

#endif
