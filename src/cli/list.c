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

/* A cell left-aligned in `width` columns.  Not printf: list prints five
   cells for each of possibly hundreds of containers, and stdio's
   formatting was a tenth of list's own time in a profile of 300. */
static void
put_cell (const char *s, int width)
{
  static const char spaces[] = "                                ";
  int pad = width - (int) strlen (s);

  fputs (s, stdout);
  for (; pad > 0; pad -= (int) sizeof spaces - 1)
    fwrite (spaces, 1, pad < (int) sizeof spaces - 1 ? (size_t) pad : sizeof spaces - 1, stdout);
}

static const char *
pid_text (int pid, char buf[static 16])
{
  char *p = buf + 15;
  unsigned v = pid < 0 ? 0 : (unsigned) pid;

  *p = '\0';
  do
    *--p = (char) ('0' + v % 10);
  while ((v /= 10) > 0);
  return p;
}

static void
print_table (struct oci_runc_state **v, size_t n)
{
  /* runc's tabwriter: columns at least 12 wide, 3 spaces of padding. */
  int w[5] = { 2, 3, 6, 6, 7 };
  char pid[16];

  for (size_t i = 0; i < n; i++)
    {
      const char *cells[5] = { v[i]->id, pid_text ((int) v[i]->pid, pid), v[i]->status,
                               v[i]->bundle, v[i]->created };
      for (int k = 0; k < 5; k++)
        if ((int) strlen (cells[k]) > w[k])
          w[k] = (int) strlen (cells[k]);
    }
  for (int k = 0; k < 5; k++)
    w[k] = (w[k] + 3 < 12 ? 12 : w[k] + 3);
  put_cell ("ID", w[0]);
  put_cell ("PID", w[1]);
  put_cell ("STATUS", w[2]);
  put_cell ("BUNDLE", w[3]);
  put_cell ("CREATED", w[4]);
  puts ("OWNER");
  for (size_t i = 0; i < n; i++)
    {
      put_cell (v[i]->id, w[0]);
      put_cell (pid_text ((int) v[i]->pid, pid), w[1]);
      put_cell (v[i]->status, w[2]);
      put_cell (v[i]->bundle, w[3]);
      put_cell (v[i]->created, w[4]);
      puts (v[i]->owner);
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
