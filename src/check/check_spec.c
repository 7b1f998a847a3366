/* berth check: the config's own rules, every violation reported.
 *
 * The rules are create's, called here with a collecting reporter (error.h)
 * where create stops at the first problem: libocispec's validate.c (the
 * spec's host-independent rules), seccomp_validate() (linux.seccomp, as
 * libseccomp knows it) and mount_validate_config() (.mounts and
 * linux.rootfsPropagation).  None is
 * written here: a rule added there is checked here too.
 */
#include "check/check_priv.h"
#include "fs/mountopts.h"
#include "security/seccomp.h"

void
check_spec (struct check_ctx *x)
{
  struct berth_reporter rep = check_reporter (x);
  const struct oci_seccomp *s = x->c->linux ? x->c->linux->seccomp : NULL;

  if (oci_config_report (x->c, &rep) < 0)
    return;
  if (mount_validate_config (x->c, &rep) < 0)
    return;
  if (s)
    seccomp_validate (s, &rep);
}
