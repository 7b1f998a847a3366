/* berth — `berth check`: a bundle against the spec and this host, every
 * problem at once.
 *
 * Contract:
 *  - check_bundle() never stops at the first problem (create does): each is
 *    recorded in the report, an error or a warning, with the JSON path of
 *    the property (source "config.json") when there is one.  Only a
 *    config.json that cannot be read or parsed ends the check early, since
 *    there is then nothing to look at; that too is a problem in the
 *    report, not a failure.
 *  - An error is what would make `berth create` refuse the bundle or fail
 *    on this host; a warning is what create would skip or ignore with a
 *    warning of its own (unknown capability or syscall names, as config.md
 *    asks), or what may fail depending on who runs it (rlimits above the
 *    caller's hard limit).
 *  - Nothing on the host is changed, with one exception: to learn which
 *    files a new cgroup would have in a v1 hierarchy that has no cgroup
 *    below its root yet, a probe directory is made and removed again.
 *  - Returns < 0 only when the check itself could not run (out of memory);
 *    the report is then incomplete.
 */
#ifndef BERTH_CHECK_H
#define BERTH_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum check_severity { CHECK_ERROR, CHECK_WARNING };

struct check_problem {
  enum check_severity severity;
  struct berth_error e; /* kind, source, path, msg (and errnum) */
};

struct check_report {
  struct check_problem *v;
  size_t n, cap;
  size_t n_errors, n_warnings;
};

struct check_options {
  const char *bundle;  /* NULL: the current directory */
  bool systemd_cgroup; /* cgroupsPath is "slice:prefix:name", not a path */
};

int check_bundle (const struct check_options *o, struct check_report *r, struct berth_error *err);
void check_report_free (struct check_report *r);

/* {"errors":[{"path","message","kind"}...],"warnings":[...]}, compact;
   "message" is the problem without its path (and source). */
int check_report_json (const struct check_report *r, char **out, struct berth_error *err);

#endif
