#include "cli.h"
#include "lifecycle/container.h"

#include <stdio.h>

static const char usage[] =
  "Usage: berth delete [command options] <container-id>\n\n"
  "Delete a stopped (or created) container and everything it holds.\n\n"
  "Options:\n"
  "   --force, -f   kill the container first if it is running (SIGKILL); a missing\n"
  "                 container is not an error\n";

int
berth_cmd_delete (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct berth_runtime rt = cli_runtime (g);
  bool force = false;
  int c;

  while ((c = cli_getopt ("delete", argc, argv, "f", opts, err)) != -1)
    switch (c)
      {
      case 'f':
        force = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return -1;
      }
  if (cli_want_args ("delete", argc - optind, 1, 1, err) < 0)
    return -1;
  return container_delete (&rt, argv[optind], force, err);
}
