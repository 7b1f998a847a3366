#include "cli.h"
#include "base/trace_summary.h"

#include <stdio.h>

static const char usage[] =
  "Usage: berth trace-summary <file>\n\n"
  "Summarise a trace written with --trace FILE or $BERTH_TRACE: per command, each\n"
  "phase's duration and share of the command's wall time, nested, and the total.\n";

int
berth_cmd_trace_summary (const struct berth_globals *g, int argc, char **argv,
                         struct berth_error *err)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  int c;

  (void) g;
  while ((c = cli_getopt ("trace-summary", argc, argv, "", opts, err)) != -1)
    {
      if (c == 'h')
        {
          fputs (usage, stdout);
          return 0;
        }
      return -1;
    }
  if (cli_want_args ("trace-summary", argc - optind, 1, 1, err) < 0)
    return -1;
  return trace_summary (argv[optind], stdout, err);
}
