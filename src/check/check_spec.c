/* berth check: the config's own rules, every violation reported.
 *
 * config_rules() (rules.h) is create's rule set, called here with a
 * collecting reporter (error.h) where create stops at the first problem.
 * None is written here: a rule added there is checked here too.
 */
#include "check/check_priv.h"
#include "rules/rules.h"

void
check_spec (struct check_ctx *x)
{
  struct berth_reporter rep = check_reporter (x);

  config_rules (x->c, &rep);
}
