#include "lifecycle/cgroup_ops.h"
#include "cli.h"

#include <stdio.h>

static const char usage[] =
  "Usage: berth resume <container-id>\n\n"
  "Thaw every process of a paused container.\n";

int
berth_cmd_resume (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  struct berth_runtime rt = cli_runtime (g);
  int c;

  while ((c = cli_getopt ("resume", argc, argv, "", opts, err)) != -1)
    return c == 'h' ? (fputs (usage, stdout), 0) : -1;
  if (cli_want_args ("resume", argc - optind, 1, 1, err) < 0)
    return -1;
  return container_resume (&rt, argv[optind], err);
}
