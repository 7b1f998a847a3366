/* berth — the default config.json written by `berth spec`.
 *
 * Contract: returns the same fields as `runc spec` (terminal, capabilities,
 * mounts, masked/readonly paths, namespaces; for rootless: a user namespace
 * mapping the caller, /sys bound from the host, no device cgroup rules) with
 * ociVersion 1.3.0.  The result is produced through libocispec, so it always
 * parses and validates.
 */
#ifndef BERTH_DEFAULTS_H
#define BERTH_DEFAULTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

int berth_default_spec (bool rootless, uid_t uid, gid_t gid, char **json, struct berth_error *err);

#endif
