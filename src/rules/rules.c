/* berth — every host-independent rule of a config.json (see rules.h). */
#include "rules/rules.h"
#include "fs/mountopts.h"
#include "init/process.h"
#include "init/sysctl.h"
#include "security/seccomp.h"

int
config_rules (const struct oci_config *c, struct berth_reporter *rep)
{
  const struct oci_linux *l = c->linux;
  struct berth_error e = { 0 };

  if (oci_config_report (c, rep) < 0 || mount_validate_config (c, rep) < 0)
    return -1;
  for (size_t i = 0; l && i < l->sysctl_len; i++)
    if (sysctl_validate (c, i, rep) < 0)
      return -1;
  if (process_personality (l, &(unsigned long){ 0 }, &e) < 0 && berth_reporter_error (rep, &e) < 0)
    return -1;
  if (l && l->seccomp && seccomp_validate (l->seccomp, rep) < 0)
    return -1;
  return 0;
}
