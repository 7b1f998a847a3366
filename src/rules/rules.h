/* berth — every rule of a config.json that needs no host, in one call.
 *
 * Contract: config_rules() runs, in order, libocispec's rules (the spec's
 * own: validate.c), the mounts' (mount_validate_config: options, types,
 * ID mappings, rootfsPropagation), linux.sysctl's (sysctl_validate), the
 * personality's and linux.seccomp's (seccomp_validate, as libseccomp will
 * take it).  create calls it with a stopping reporter in the runtime,
 * right after parsing and before anything is made; `berth check` with a
 * collecting one, so the two cannot disagree on a rule.  The rules
 * themselves live with the code that applies them; none is written here.
 * Returns -1 when the reporter stopped, else 0.
 */
#ifndef BERTH_RULES_H
#define BERTH_RULES_H

#include "error.h"
#include "spec.h"

int config_rules (const struct oci_config *c, struct berth_reporter *rep);

#endif
