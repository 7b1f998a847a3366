#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
cli_getopt (const char *cmd, int argc, char **argv, const char *optstring,
            const struct option *longopts, struct berth_error *err)
{
  char full[128];
  bool stop_at_operand = optstring[0] == '+';
  int c;

  snprintf (full, sizeof full, "%s:h%s", stop_at_operand ? "+" : "",
            optstring + (stop_at_operand ? 1 : 0));
  opterr = 0;
  c = getopt_long (argc, argv, full, longopts, NULL);
  if (c == '?')
    {
      if (optopt)
        berth_err (err, BERTH_E_USAGE, "%s: unknown flag -%c", cmd, optopt);
      else
        berth_err (err, BERTH_E_USAGE, "%s: unknown flag %s", cmd, argv[optind - 1]);
      return '?';
    }
  if (c == ':')
    {
      berth_err (err, BERTH_E_USAGE, "%s: flag %s needs an argument", cmd, argv[optind - 1]);
      return '?';
    }
  return c;
}

int
cli_want_args (const char *cmd, int argc, int min, int max, struct berth_error *err)
{
  if (min == max && argc != min)
    return berth_err (err, BERTH_E_USAGE, "\"%s\" requires exactly %d argument(s)", cmd, min);
  if (argc < min)
    return berth_err (err, BERTH_E_USAGE, "\"%s\" requires a minimum of %d argument(s)", cmd,
                      min);
  if (max >= 0 && argc > max)
    return berth_err (err, BERTH_E_USAGE, "\"%s\" requires a maximum of %d argument(s)", cmd,
                      max);
  return 0;
}

int
cli_not_implemented (const char *cmd, struct berth_error *err)
{
  return berth_err (err, BERTH_E_UNSUPPORTED, "\"%s\" is not implemented yet in this build",
                    cmd);
}

int
cli_parse_uint (const char *flag, const char *value, unsigned long long max,
                unsigned long long *out, struct berth_error *err)
{
  char *end;
  unsigned long long v;

  errno = 0;
  if (value[0] == '-' || value[0] == '\0')
    return berth_err (err, BERTH_E_USAGE, "invalid value \"%s\" for flag %s", value, flag);
  v = strtoull (value, &end, 10);
  if (errno || *end || v > max)
    return berth_err (err, BERTH_E_USAGE, "invalid value \"%s\" for flag %s", value, flag);
  *out = v;
  return 0;
}

struct berth_runtime
cli_runtime (const struct berth_globals *g)
{
  return (struct berth_runtime){ .root = g->root, .systemd_cgroup = g->systemd_cgroup,
                                 .rootless = g->rootless_cgroup, .argv = g->argv,
                                 .criu = g->criu };
}

int
cli_foreground (const struct berth_runtime *rt, const char *id, const struct created *out,
                bool keep, struct berth_error *err)
{
  int status = container_wait (out->pid, out->console, err);

  if (out->console >= 0)
    close (out->console);
  if (status < 0)
    return -1;
  if (!keep)
    {
      struct berth_error derr = { 0 };
      if (container_delete (rt, id, true, &derr) < 0)
        {
          *err = derr;
          return -1;
        }
    }
  return status;
}
