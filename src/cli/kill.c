#include "cli.h"
#include "lifecycle/container.h"
#include "base/utils.h"

#include <signal.h>
#include <stdio.h>

static const char usage[] =
  "Usage: berth kill [command options] <container-id> [signal]\n\n"
  "Send a signal (default SIGTERM; a name like KILL, SIGKILL or a number) to the\n"
  "container's init process.\n\n"
  "Options:\n"
  "   --all, -a   send the signal to every process of the container's cgroup\n";

int
berth_cmd_kill (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct berth_runtime rt = cli_runtime (g);
  bool all = false;
  int sig = SIGTERM, c;

  while ((c = cli_getopt ("kill", argc, argv, "a", opts, err)) != -1)
    switch (c)
      {
      case 'a':
        all = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return -1;
      }
  if (cli_want_args ("kill", argc - optind, 1, 2, err) < 0)
    return -1;
  if (argc - optind == 2 && parse_signal (argv[optind + 1], &sig) < 0)
    return berth_err (err, BERTH_E_USAGE, "unknown signal \"%s\"", argv[optind + 1]);
  return container_kill (&rt, argv[optind], sig, all, err);
}
