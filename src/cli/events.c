#include "cli.h"
#include "cgroup/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
  "Usage: berth events [command options] <container-id>\n\n"
  "Stream the container's events as JSON, one a line: its resource usage\n"
  "({\"type\":\"stats\",...}) every interval and each kill by the OOM killer\n"
  "({\"type\":\"oom\",...}), until the container stops.\n\n"
  "Options:\n"
  "   --interval DURATION   time between stats events: 5s, 100ms, 1m30s (default: 5s)\n"
  "   --stats               print the stats once and exit\n";

/* Go's time.ParseDuration: [-+]? then number[.fraction]unit, repeated;
   units ns us µs ms s m h; a lone "0" is zero.  In milliseconds. */
static int
parse_duration (const char *s, long *ms, struct berth_error *err)
{
  static const struct { const char *unit; double ms; } units[] = {
    { "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "ms", 1 }, { "s", 1e3 },
    { "m", 6e4 }, { "h", 3.6e6 },
  };
  const char *p = s;
  double total = 0;

  if (strcmp (s, "0") == 0)
    return *ms = 0, 0;
  while (*p)
    {
      char num[32], *e;
      size_t nl = strspn (p, "0123456789."), i, best = 0, bl = 0;
      const char *end = p + nl;
      double v;
      if (nl == 0 || nl >= sizeof num)
        return berth_err (err, BERTH_E_USAGE, "invalid duration \"%s\"", s);
      memcpy (num, p, nl);
      num[nl] = '\0';
      v = strtod (num, &e);
      if (*e || e == num) /* "1.2.3", "." */
        return berth_err (err, BERTH_E_USAGE, "invalid duration \"%s\"", s);
      for (i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strncmp (end, units[i].unit, strlen (units[i].unit)) == 0
            && strlen (units[i].unit) > bl)
          best = i, bl = strlen (units[i].unit);
      if (bl == 0)
        return berth_err (err, BERTH_E_USAGE, "invalid duration \"%s\" (missing unit)", s);
      total += v * units[best].ms;
      p = end + bl;
    }
  *ms = (long) total;
  return 0;
}

int
berth_cmd_events (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = {
    { "interval", required_argument, NULL, 'i' },
    { "stats", no_argument, NULL, 's' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct berth_runtime rt = cli_runtime (g);
  long interval = 5000;
  bool once = false;
  int c;

  while ((c = cli_getopt ("events", argc, argv, "", opts, err)) != -1)
    {
      if (c == 'i' && parse_duration (optarg, &interval, err) < 0)
        return -1;
      else if (c == 's')
        once = true;
      else if (c != 'i')
        return c == 'h' ? (fputs (usage, stdout), 0) : -1;
    }
  if (cli_want_args ("events", argc - optind, 1, 1, err) < 0)
    return -1;
  if (interval <= 0)
    return berth_err (err, BERTH_E_USAGE, "duration interval must be greater than 0");
  return container_events (&rt, argv[optind], interval, once, err);
}
