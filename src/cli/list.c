#include "cli.h"
#include "cleanup.h"
#include "lifecycle/container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
  "Usage: berth list [command options]\n\n"
  "List the containers under --root.\n\n"
  "Options:\n"
  "   --format, -f table|json   output format (default: table)\n"
  "   --quiet, -q               print only the container ids\n";

static void
print_table (struct oci_runc_state **v, size_t n)
{
  /* runc's tabwriter: columns at least 12 wide, 3 spaces of padding. */
  int w[5] = { 2, 3, 6, 6, 7 };
  char pid[16];

  for (size_t i = 0; i < n; i++)
    {
      int l[5];
      snprintf (pid, sizeof pid, "%d", (int) v[i]->pid);
      l[0] = (int) strlen (v[i]->id);
      l[1] = (int) strlen (pid);
      l[2] = (int) strlen (v[i]->status);
      l[3] = (int) strlen (v[i]->bundle);
      l[4] = (int) strlen (v[i]->created);
      for (int k = 0; k < 5; k++)
        if (l[k] > w[k])
          w[k] = l[k];
    }
  for (int k = 0; k < 5; k++)
    w[k] = (w[k] + 3 < 12 ? 12 : w[k] + 3);
  printf ("%-*s%-*s%-*s%-*s%-*s%s\n", w[0], "ID", w[1], "PID", w[2], "STATUS", w[3], "BUNDLE",
          w[4], "CREATED", "OWNER");
  for (size_t i = 0; i < n; i++)
    {
      snprintf (pid, sizeof pid, "%d", (int) v[i]->pid);
      printf ("%-*s%-*s%-*s%-*s%-*s%s\n", w[0], v[i]->id, w[1], pid, w[2], v[i]->status, w[3],
              v[i]->bundle, w[4], v[i]->created, v[i]->owner);
    }
}

int
berth_cmd_list (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct berth_runtime rt = cli_runtime (g);
  struct oci_runc_state **v = NULL;
  const char *format = "table";
  bool quiet = false;
  size_t n = 0;
  int c, r = 0;

  while ((c = cli_getopt ("list", argc, argv, "f:q", opts, err)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        break;
      case 'q':
        quiet = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return -1;
      }
  if (strcmp (format, "table") && strcmp (format, "json"))
    return berth_err (err, BERTH_E_USAGE, "invalid format option \"%s\" (want table or json)",
                      format);
  if (cli_want_args ("list", argc - optind, 0, 0, err) < 0)
    return -1;
  if (container_list (&rt, &v, &n, err) < 0)
    return -1;
  if (quiet)
    for (size_t i = 0; i < n; i++)
      puts (v[i]->id);
  else if (strcmp (format, "json") == 0)
    {
      /* runc prints null for no containers. */
      fputs (n ? "[" : "null", stdout);
      for (size_t i = 0; i < n && r == 0; i++)
        {
          cleanup_free char *json = NULL;
          r = oci_emit (&oci_type_runc_state, v[i], NULL, &json, NULL, err);
          if (r == 0)
            printf ("%s%s", i ? "," : "", json);
        }
      fputs (n ? "]\n" : "\n", stdout);
    }
  else
    print_table (v, n);
  for (size_t i = 0; i < n; i++)
    container_state_free (v[i]);
  free (v);
  return r;
}
