#include "lifecycle/cgroup_ops.h"
#include "cli.h"

#include <stdio.h>

static const char usage[] =
  "Usage: berth pause <container-id>\n\n"
  "Freeze every process of a running container (its cgroup's freezer).\n";

int
berth_cmd_pause (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  struct berth_runtime rt = cli_runtime (g);
  int c;

  while ((c = cli_getopt ("pause", argc, argv, "", opts, err)) != -1)
    return c == 'h' ? (fputs (usage, stdout), 0) : -1;
  if (cli_want_args ("pause", argc - optind, 1, 1, err) < 0)
    return -1;
  return container_pause (&rt, argv[optind], err);
}
