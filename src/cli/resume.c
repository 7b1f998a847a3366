#include "cli.h"

#include <stdio.h>
#include <string.h>

int
berth_cmd_resume (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      puts ("Usage: berth resume ...\n\nNot implemented yet in this build.");
      return 0;
    }
  return cli_not_implemented ("resume", err);
}
