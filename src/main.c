/* berth — entry point: global flags, command dispatch, and the one place
   where errors are printed and turned into exit statuses. */
#include "cli/cli.h"
#include "lifecycle/feature_set.h"
#include "base/trace.h"
#include "base/utils.h"
#include "cleanup.h"
#include "spec.h"
#include "version.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_version.h>

/* runc's statuses: 3 for an unknown command, 1 for other usage errors. */
enum { EXIT_UNKNOWN_COMMAND = 3 };

#define BERTH_COMMAND_ENTRY(name, summary) { #name, summary, berth_cmd_##name, 1 },
static const struct berth_command commands[] = { BERTH_COMMANDS (BERTH_COMMAND_ENTRY)
                                                    BERTH_TRACE_SUMMARY_ENTRY };

static void
print_version (void)
{
  char seccomp[32];
  bool have_seccomp = berth_libseccomp_version (seccomp, sizeof seccomp);
  printf ("berth version %s\n", BERTH_VERSION);
  printf ("commit: %s\n", BERTH_COMMIT);
  printf ("spec: %s\n", OCI_SPEC_VERSION);
  printf ("yajl: %d.%d.%d\n", YAJL_MAJOR, YAJL_MINOR, YAJL_MICRO);
  if (have_seccomp)
    printf ("libseccomp: %s\n", seccomp);
  else
    printf ("libseccomp: none (libseccomp.so.2 cannot be loaded)\n");
  printf ("libcap: %d.%d\n", LIBCAP_MAJOR, LIBCAP_MINOR);
#ifdef BERTH_TEST_HOOKS
  printf ("test-hooks: enabled (not for production)\n");
#endif
}

static void
print_help (void)
{
  printf ("berth - an OCI container runtime\n\n"
          "Usage: berth [global options] command [command options] [arguments...]\n\n"
          "Commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    printf ("   %-10s %s\n", commands[i].name, commands[i].summary);
  printf ("\nGlobal options:\n"
          "   --debug                   enable debug logging\n"
          "   --log FILE                log file (default: stderr)\n"
          "   --log-format text|json    log format (default: text)\n"
          "   --root DIR                root directory for container state (default: %s,\n"
          "                             or $XDG_RUNTIME_DIR/%s for a rootless user)\n"
          "   --systemd-cgroup          manage cgroups with systemd (cgroupsPath is "
          "\"slice:prefix:name\")\n"
          "   --rootless true|false|auto  a cgroup the host refuses is no error when no\n"
          "                             resource needs one (auto: not root, or root in a\n"
          "                             user namespace)\n"
          "   --criu PATH               the criu binary checkpoint and restore run\n"
          "                             (default: criu in PATH)\n"
          "   --trace FILE              append a trace of the command's phases to FILE\n"
          "                             (Chrome trace-event JSON; default: $BERTH_TRACE)\n"
          "   --help, -h                show help\n"
          "   --version, -v             print the version\n\n"
          "Run 'berth COMMAND --help' for a command's options.\n",
          BERTH_DEFAULT_ROOT, BERTH_XDG_ROOT_NAME);
}

static const struct berth_command *
find_command (const char *name)
{
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD, OPT_ROOTLESS, OPT_CRIU, OPT_TRACE };

static int
parse_globals (int argc, char **argv, struct berth_globals *g, struct berth_error *err)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, OPT_ROOT },
    { "log", required_argument, NULL, OPT_LOG },
    { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
    { "debug", no_argument, NULL, OPT_DEBUG },
    { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD },
    { "rootless", required_argument, NULL, OPT_ROOTLESS },
    { "criu", required_argument, NULL, OPT_CRIU },
    { "trace", required_argument, NULL, OPT_TRACE },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = cli_getopt ("berth", argc, argv, "+v", opts, err)) != -1)
    switch (c)
      {
      case OPT_ROOT:
        g->root = optarg;
        break;
      case OPT_LOG:
        g->log_file = optarg;
        break;
      case OPT_LOG_FORMAT:
        if (strcmp (optarg, "json") == 0)
          g->log_format = BERTH_LOG_JSON;
        else if (strcmp (optarg, "text") == 0)
          g->log_format = BERTH_LOG_TEXT;
        else
          return berth_err (err, BERTH_E_USAGE, "invalid log-format: %s (want text or json)",
                            optarg);
        break;
      case OPT_DEBUG:
        g->debug = true;
        break;
      case OPT_SYSTEMD:
        g->systemd_cgroup = true;
        break;
      case OPT_ROOTLESS:
        if (strcmp (optarg, "true") && strcmp (optarg, "false") && strcmp (optarg, "auto"))
          return berth_err (err, BERTH_E_USAGE, "invalid --rootless value: %s "
                                                "(want true, false or auto)", optarg);
        g->rootless = optarg;
        break;
      case OPT_CRIU:
        g->criu = optarg;
        break;
      case OPT_TRACE:
        g->trace = optarg;
        break;
      case 'h':
        print_help ();
        exit (EXIT_SUCCESS);
      case 'v':
        print_version ();
        exit (EXIT_SUCCESS);
      default:
        return -1;
      }
  if (g->root && g->root[0] == '\0')
    return berth_err (err, BERTH_E_USAGE, "--root must not be empty");
  return 0;
}

/* Who counts as rootless: a user other than root, or root in a user
   namespace (runc 1.1.5, for both the state root and the cgroups). */
static bool
rootless_user (void)
{
  return geteuid () != 0 || running_in_user_ns ();
}

/* The state root without --root: $XDG_RUNTIME_DIR/berth when the variable
   is set and the caller is rootless, root in a user namespace only when
   $USER does not say "root" (runc's rule: the real root keeps /run/berth
   even with /run/user/0 in its environment).  That directory is made 0700
   with the sticky bit, so that the XDG cleaner leaves it alone. */
static int
default_root (struct berth_globals *g, char *buf, size_t size, struct berth_error *err)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR"), *user = getenv ("USER");
  bool honour = xdg && xdg[0]
                && (geteuid () != 0 || (running_in_user_ns () && (!user || strcmp (user, "root"))));

  g->root = BERTH_DEFAULT_ROOT;
  if (!honour)
    return 0;
  if ((size_t) snprintf (buf, size, "%s/%s", xdg, BERTH_XDG_ROOT_NAME) >= size)
    return berth_err (err, BERTH_E_USAGE, "$XDG_RUNTIME_DIR is too long");
  if ((mkdir (xdg, 0700) < 0 && errno != EEXIST) || (mkdir (buf, 0700) < 0 && errno != EEXIST))
    return berth_err_sys (err, errno, "create the state root %s", buf);
  if (chmod (buf, 01700) < 0)
    return berth_err_sys (err, errno, "chmod the state root %s", buf);
  g->root = buf;
  return 0;
}

static bool
rootless_cgroup (const char *flag)
{
  if (strcmp (flag, "auto") != 0)
    return strcmp (flag, "true") == 0;
  return rootless_user ();
}

/* --debug: the fds still open when berth exits, so tests can prove that no
   command leaks one (only stdio and the log file may remain). */
static void
debug_open_fds (void)
{
  char list[256] = "";
  size_t used = 0;
  DIR *d;
  struct dirent *de;

  if (!berth_log_debug_enabled () || (d = opendir ("/proc/self/fd")) == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      int fd = atoi (de->d_name);
      if (de->d_name[0] == '.' || fd == dirfd (d))
        continue;
      used += (size_t) snprintf (list + used, used < sizeof list ? sizeof list - used : 0, "%s%d",
                                 used ? " " : "", fd);
      if (used >= sizeof list)
        break;
    }
  closedir (d);
  berth_debug ("open fds at exit: %s", list);
}

static int
fail (const struct berth_error *err, int status)
{
  char line[2048];
  berth_log_error (berth_err_format (err, line, sizeof line));
  return status;
}

int
main (int argc, char **argv)
{
  struct berth_globals g = {
    .log_format = BERTH_LOG_TEXT,
    .rootless = "auto",
    .argv0 = argv[0],
    .argv = argv,
  };
  struct berth_error err = { 0 };
  const struct berth_command *cmd;
  char xdg_root[4096];
  int r;

  if (parse_globals (argc, argv, &g, &err) < 0)
    {
      fail (&err, EXIT_FAILURE);
      fputs ("Run 'berth --help' for usage.\n", stderr);
      return EXIT_FAILURE;
    }
  if (berth_log_setup (g.log_file, g.log_format, g.debug, &err) < 0)
    return fail (&err, EXIT_FAILURE);
  if (g.root == NULL && default_root (&g, xdg_root, sizeof xdg_root, &err) < 0)
    return fail (&err, EXIT_FAILURE);
  g.rootless_cgroup = rootless_cgroup (g.rootless);

  if (optind >= argc)
    {
      print_help ();
      return EXIT_SUCCESS;
    }
  if (strcmp (argv[optind], "help") == 0 || strcmp (argv[optind], "h") == 0)
    {
      if (optind + 1 < argc && (cmd = find_command (argv[optind + 1])) != NULL)
        {
          char *help_argv[] = { (char *) cmd->name, "--help", NULL };
          optind = 0;
          return cmd->run (&g, 2, help_argv, &err);
        }
      print_help ();
      return EXIT_SUCCESS;
    }
  cmd = find_command (argv[optind]);
  if (cmd == NULL)
    {
      /* runc's (urfave/cli's) words, which scripts match on. */
      berth_err (&err, BERTH_E_USAGE,
                 "No help topic for '%s': not a berth command (see 'berth --help')",
                 argv[optind]);
      return fail (&err, EXIT_UNKNOWN_COMMAND);
    }

  argc -= optind;
  argv += optind;
  optind = 0; /* re-initialise getopt for the command's own flags */
  /* The commands that make, start or remove a container: an engine polls
     state and the like often, which would bury them. */
  for (const char *const *t = (const char *const[]){ "create", "start", "run", "exec", "delete",
                                                     NULL };
       *t; t++)
    if (strcmp (*t, cmd->name) == 0)
      berth_trace_setup (g.trace, cmd->name);
  r = cmd->run (&g, argc, argv, &err);
  berth_trace_finish ();
  debug_open_fds ();
  if (r < 0)
    {
      int status = cmd->error_status;
      if (strcmp (cmd->name, "exec") == 0)
        status = 255;
      fail (&err, status);
      if (err.kind == BERTH_E_USAGE)
        fprintf (stderr, "Run 'berth %s --help' for usage.\n", cmd->name);
      return status;
    }
  return r;
}
