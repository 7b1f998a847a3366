/* Unit tests for the command-line helpers: signal names, container ids,
   runc's operand-count messages, flag parsing. */
#include "lifecycle/state.h"
#include "base/utils.h"
#include "../../src/cli/cli.h"
#include "tap.h"

#include <signal.h>
#include <string.h>


static void
test_signals (void)
{
  const struct {
    const char *s;
    int sig;
  } ok[] = {
    { "KILL", SIGKILL }, { "SIGKILL", SIGKILL }, { "sigusr1", SIGUSR1 }, { "usr1", SIGUSR1 },
    { "15", 15 },        { "0", 0 },             { "TERM", SIGTERM },    { "WINCH", SIGWINCH },
    { "RTMIN", SIGRTMIN }, { "RTMIN+1", SIGRTMIN + 1 }, { "SIGRTMAX-2", SIGRTMAX - 2 },
  };
  const char *bad[] = { "FOO", "SIG", "", "99", "-9", "RTMAX+1", "KILLX", "1x" };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
    {
      int sig = -1;
      tap_ok (parse_signal (ok[i].s, &sig) == 0 && sig == ok[i].sig, "signal %s = %d", ok[i].s,
              ok[i].sig);
    }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      int sig;
      tap_ok (parse_signal (bad[i], &sig) < 0, "signal '%s' refused", bad[i]);
    }
}

static void
test_ids (void)
{
  const char *good[] = { "a", "c1", "a..b", ".a", "a.", "a+b", "a_b", "A-Z_0.9+" };
  const char *bad[] = { "", "a/b", "..", ".", "a b", "a\tb", "a\nb", "a:b", "a@b", "\xc3\xa4" };
  char longid[300];
  struct berth_error err = { 0 };

  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    tap_ok (state_validate_id (good[i], &err) == 0, "id '%s' accepted", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    tap_ok (state_validate_id (bad[i], &err) < 0 && err.kind == BERTH_E_VALUE, "id refused: %s",
            err.msg);
  memset (longid, 'a', 255);
  longid[255] = '\0';
  tap_ok (state_validate_id (longid, &err) == 0, "255-byte id accepted");
  longid[255] = 'a';
  longid[256] = '\0';
  tap_ok (state_validate_id (longid, &err) < 0, "256-byte id refused: %s", err.msg);
  tap_ok (state_validate_id ("", &err) < 0 && strcmp (err.msg, "container id cannot be empty") == 0,
          "empty id has runc's message");
}

static void
test_want_args (void)
{
  struct berth_error err = { 0 };
  tap_ok (cli_want_args ("state", 0, 1, 1, &err) < 0
              && strcmp (err.msg, "\"state\" requires exactly 1 argument(s)") == 0,
          "exactly: %s", err.msg);
  tap_ok (cli_want_args ("kill", 0, 1, 2, &err) < 0
              && strcmp (err.msg, "\"kill\" requires a minimum of 1 argument(s)") == 0,
          "minimum: %s", err.msg);
  tap_ok (cli_want_args ("kill", 3, 1, 2, &err) < 0
              && strcmp (err.msg, "\"kill\" requires a maximum of 2 argument(s)") == 0,
          "maximum: %s", err.msg);
  tap_ok (cli_want_args ("exec", 5, 1, -1, &err) == 0, "no maximum");
}

static void
test_getopt (void)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "bundle", required_argument, NULL, 'b' },
    { NULL, 0, NULL, 0 },
  };
  struct berth_error err = { 0 };
  int c;
  {
    char *argv[] = { "delete", "c1", "--force", NULL };
    bool force = false;
    optind = 0;
    while ((c = cli_getopt ("delete", 3, argv, "fb:", opts, &err)) != -1)
      force |= c == 'f';
    tap_ok (force && optind == 2 && strcmp (argv[optind], "c1") == 0,
            "flags after the operand are accepted (runc allows it)");
  }
  {
    char *argv[] = { "delete", "--bogus", "c1", NULL };
    optind = 0;
    c = cli_getopt ("delete", 3, argv, "fb:", opts, &err);
    tap_ok (c == '?' && err.kind == BERTH_E_USAGE && strstr (err.msg, "--bogus"),
            "unknown long flag: %s", err.msg);
  }
  {
    char *argv[] = { "delete", "-z", NULL };
    optind = 0;
    c = cli_getopt ("delete", 2, argv, "fb:", opts, &err);
    tap_ok (c == '?' && strstr (err.msg, "-z"), "unknown short flag: %s", err.msg);
  }
  {
    char *argv[] = { "delete", "--bundle", NULL };
    optind = 0;
    c = cli_getopt ("delete", 2, argv, "fb:", opts, &err);
    tap_ok (c == '?' && strstr (err.msg, "needs an argument"), "missing argument: %s", err.msg);
  }
  {
    char *argv[] = { "exec", "c1", "sh", "-c", "true", NULL };
    optind = 0;
    c = cli_getopt ("exec", 5, argv, "+fb:", opts, &err);
    tap_ok (c == -1 && optind == 1, "'+' stops at the first operand (exec's command keeps its flags)");
  }
}

/* The hand-made UTC conversion against the C library's, across leap years,
   century rules and the end of 32-bit time. */
static void
test_rfc3339 (void)
{
  static const time_t when[] = { 0, 951782400, 951868800, 1709164800, 4107542399, 2147483648,
                                 253402300799, 1795628298 };
  for (size_t i = 0; i < sizeof when / sizeof when[0]; i++)
    {
      struct timespec ts = { when[i], 123456789 };
      struct tm tm;
      char mine[64], want[64];

      gmtime_r (&ts.tv_sec, &tm);
      snprintf (want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.123456789Z", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
      rfc3339_format (&ts, mine, sizeof mine);
      tap_ok (strcmp (mine, want) == 0, "rfc3339 %lld: %s (libc: %s)", (long long) when[i], mine,
              want);
    }
}

int
main (void)
{
  test_rfc3339 ();
  test_signals ();
  test_ids ();
  test_want_args ();
  test_getopt ();
  return tap_done ();
}
