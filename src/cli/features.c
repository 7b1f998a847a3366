#include "cli.h"
#include "cleanup.h"
#include "lifecycle/feature_set.h"

#include <stdio.h>

static const char usage[] =
  "Usage: berth features\n\n"
  "Print the features document (runtime-spec 1.3.0, features.md): what this\n"
  "build of berth supports.\n";

int
berth_cmd_features (const struct berth_globals *g, int argc, char **argv,
                    struct berth_error *err)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  cleanup_free char *json = NULL;
  int c;

  while ((c = cli_getopt ("features", argc, argv, "", opts, err)) != -1)
    {
      if (c == 'h')
        {
          fputs (usage, stdout);
          return 0;
        }
      return -1;
    }
  if (cli_want_args ("features", argc - optind, 0, 0, err) < 0)
    return -1;
  if (berth_features_json (&json, err) < 0)
    return -1;
  puts (json);
  return 0;
}
