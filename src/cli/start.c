#include "cli.h"
#include "lifecycle/container.h"

#include <stdio.h>

static const char usage[] =
  "Usage: berth start <container-id>\n\n"
  "Start the user process of a created container.\n";

int
berth_cmd_start (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  struct berth_runtime rt = cli_runtime (g);
  int c;

  while ((c = cli_getopt ("start", argc, argv, "", opts, err)) != -1)
    {
      if (c == 'h')
        {
          fputs (usage, stdout);
          return 0;
        }
      return -1;
    }
  if (cli_want_args ("start", argc - optind, 1, 1, err) < 0)
    return -1;
  return container_start (&rt, argv[optind], err);
}
