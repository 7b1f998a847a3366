/* linux.memoryPolicy: see mempolicy.h. */
#include "init/mempolicy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BASE ".linux.memoryPolicy"

/* The kernel's values (linux/mempolicy.h; Debian 12's header predates
   MPOL_WEIGHTED_INTERLEAVE, Linux 6.9). */
enum { NODES_NONE, NODES_SOME, NODES_ANY };
static const struct {
  const char *name;
  int value;
  int nodes;
} modes[] = {
  /* In the order `berth features` lists them. */
  { "MPOL_DEFAULT", 0, NODES_NONE },    { "MPOL_BIND", 2, NODES_SOME },
  { "MPOL_INTERLEAVE", 3, NODES_SOME }, { "MPOL_WEIGHTED_INTERLEAVE", 6, NODES_SOME },
  { "MPOL_PREFERRED", 1, NODES_ANY },   { "MPOL_PREFERRED_MANY", 5, NODES_SOME },
  { "MPOL_LOCAL", 4, NODES_NONE },
};
static const struct {
  const char *name;
  int value;
} flags[] = {
  { "MPOL_F_NUMA_BALANCING", 1 << 13 },
  { "MPOL_F_RELATIVE_NODES", 1 << 14 },
  { "MPOL_F_STATIC_NODES", 1 << 15 },
};

const char *
mempolicy_name (bool flag, size_t i)
{
  if (flag)
    return i < sizeof flags / sizeof flags[0] ? flags[i].name : NULL;
  return i < sizeof modes / sizeof modes[0] ? modes[i].name : NULL;
}

/* "0-3,7" into the mask; the highest node + 1 into *count. */
static int
parse_nodes (const char *s, struct mempolicy_plan *p, unsigned *count, struct berth_error *err)
{
  const size_t bits = 8 * sizeof p->nodemask[0];
  const char *c = s;

  *count = 0;
  while (*c)
    {
      char *end;
      unsigned long lo, hi;
      if (*c < '0' || *c > '9')
        goto bad;
      lo = hi = strtoul (c, &end, 10);
      if (*end == '-')
        {
          c = end + 1;
          if (*c < '0' || *c > '9')
            goto bad;
          hi = strtoul (c, &end, 10);
        }
      if (hi < lo || hi >= MEMPOLICY_MAX_NODES)
        return berth_err_at (err, BERTH_E_RANGE, BASE ".nodes",
                             "\"%s\": nodes go from 0 to %d, low to high", s,
                             MEMPOLICY_MAX_NODES - 1);
      for (unsigned long n = lo; n <= hi; n++)
        p->nodemask[n / bits] |= 1UL << (n % bits);
      if (hi + 1 > *count)
        *count = (unsigned) hi + 1;
      c = end;
      if (*c == ',')
        c++;
      else if (*c)
        goto bad;
    }
  return 0;
bad:
  return berth_err_at (err, BERTH_E_VALUE, BASE ".nodes",
                       "\"%s\" is not a list of nodes such as \"0-3,7\"", s);
}

int
mempolicy_plan (const struct oci_memory_policy *mp, struct mempolicy_plan *out,
                struct berth_error *err)
{
  size_t m = 0;
  unsigned count = 0;

  memset (out, 0, sizeof *out);
  if (mp == NULL)
    return 0;
  while (m < sizeof modes / sizeof modes[0] && strcmp (modes[m].name, mp->mode) != 0)
    m++;
  if (m == sizeof modes / sizeof modes[0])
    return berth_err_at (err, BERTH_E_VALUE, BASE ".mode", "unknown memory policy mode \"%s\"",
                         mp->mode);
  out->mode = modes[m].value;
  for (size_t i = 0; i < mp->flags_len; i++)
    {
      size_t f = 0;
      while (f < sizeof flags / sizeof flags[0] && strcmp (flags[f].name, mp->flags[i]) != 0)
        f++;
      if (f == sizeof flags / sizeof flags[0])
        {
          berth_err (err, BERTH_E_VALUE, "unknown memory policy flag \"%s\"", mp->flags[i]);
          snprintf (err->path, sizeof err->path, BASE ".flags[%zu]", i);
          return -1;
        }
      out->mode |= flags[f].value;
    }
  if (mp->nodes && mp->nodes[0] && parse_nodes (mp->nodes, out, &count, err) < 0)
    return -1;
  if (modes[m].nodes == NODES_NONE && count)
    return berth_err_at (err, BERTH_E_VALUE, BASE ".nodes", "%s takes no nodes", mp->mode);
  if (modes[m].nodes == NODES_SOME && count == 0)
    return berth_err_at (err, BERTH_E_MISSING, BASE ".nodes", "%s needs at least one node",
                         mp->mode);
  /* The kernel reads maxnode - 1 bits. */
  out->maxnode = count ? count + 1 : 0;
  out->set = true;
  return 0;
}

int
mempolicy_apply (const struct mempolicy_plan *plan, struct berth_error *err)
{
  if (!plan->set)
    return 0;
  if (syscall (SYS_set_mempolicy, plan->mode, plan->maxnode ? plan->nodemask : NULL,
               plan->maxnode)
      < 0)
    {
      berth_err_sys (err, errno, "set_mempolicy refused the policy%s",
                     errno == EINVAL && plan->maxnode ? " (does this host have those nodes?)"
                                                      : "");
      snprintf (err->path, sizeof err->path, BASE);
      return -1;
    }
  return 0;
}
