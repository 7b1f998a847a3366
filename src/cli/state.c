#include "cli.h"
#include "cleanup.h"
#include "lifecycle/container.h"

#include <stdio.h>

static const char usage[] =
  "Usage: berth state <container-id>\n\n"
  "Print the state of a container as JSON.\n";

int
berth_cmd_state (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
  struct berth_runtime rt = cli_runtime (g);
  struct oci_runc_state *s = NULL;
  cleanup_free char *json = NULL;
  int c, r;

  while ((c = cli_getopt ("state", argc, argv, "", opts, err)) != -1)
    {
      if (c == 'h')
        {
          fputs (usage, stdout);
          return 0;
        }
      return -1;
    }
  if (cli_want_args ("state", argc - optind, 1, 1, err) < 0)
    return -1;
  if (container_state (&rt, argv[optind], &s, err) < 0)
    return -1;
  r = oci_emit (&oci_type_runc_state, s, "  ", &json, NULL, err);
  container_state_free (s);
  if (r < 0)
    return -1;
  fputs (json, stdout);
  putchar ('\n');
  return 0;
}
