#include "check/check.h"
#include "cleanup.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
  "Usage: berth check [command options]\n\n"
  "Check a bundle against the runtime spec and this host, and list every\n"
  "problem found, each with the JSON path of its property in config.json:\n"
  "errors (what would make create fail) and warnings (what create would skip\n"
  "or that may fail depending on who runs it).  Exit status 0 when there is\n"
  "no error, 1 otherwise.\n\n"
  "Options:\n"
  "   --bundle value, -b value   path to the bundle (default: the current directory)\n"
  "   --format value, -f value   text (default) or json: "
  "{\"errors\":[{\"path\",\"message\",\"kind\"}],\"warnings\":[...]}\n";

static int
print_text (const struct check_report *r)
{
  char line[2048];

  for (size_t i = 0; i < r->n; i++)
    printf ("%s: %s\n", r->v[i].severity == CHECK_ERROR ? "error" : "warning",
            berth_err_format (&r->v[i].e, line, sizeof line));
  printf ("%zu error%s, %zu warning%s\n", r->n_errors, r->n_errors == 1 ? "" : "s",
          r->n_warnings, r->n_warnings == 1 ? "" : "s");
  return 0;
}

int
berth_cmd_check (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct check_options o = { .bundle = NULL, .systemd_cgroup = g->systemd_cgroup };
  __attribute__ ((cleanup (check_report_free))) struct check_report r = { 0 };
  cleanup_free char *json = NULL;
  bool as_json = false;
  int c;

  while ((c = cli_getopt ("check", argc, argv, "b:f:", opts, err)) != -1)
    switch (c)
      {
      case 'b':
        o.bundle = optarg;
        break;
      case 'f':
        if (strcmp (optarg, "json") != 0 && strcmp (optarg, "text") != 0)
          return berth_err (err, BERTH_E_USAGE, "invalid format \"%s\" (want text or json)",
                            optarg);
        as_json = strcmp (optarg, "json") == 0;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return -1;
      }
  if (cli_want_args ("check", argc - optind, 0, 0, err) < 0)
    return -1;
  if (check_bundle (&o, &r, err) < 0)
    return -1;
  if (as_json)
    {
      if (check_report_json (&r, &json, err) < 0)
        return -1;
      puts (json);
    }
  else
    print_text (&r);
  /* The report is the output; the status says whether create could work. */
  return r.n_errors ? 1 : 0;
}
