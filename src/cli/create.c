#include "cli.h"
#include "lifecycle/container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
  "Usage: berth create [command options] <container-id>\n\n"
  "Create a container from the bundle; its process waits for 'berth start'.\n\n"
  "Options:\n"
  "   --bundle, -b DIR         path to the root of the bundle directory (default: .)\n"
  "   --console-socket PATH    unix socket that receives the pty master (process.terminal)\n"
  "   --pid-file PATH          file to write the process id to\n"
  "   --no-pivot               do not use pivot_root (for ramdisk roots)\n"
  "   --no-new-keyring         do not create a new session keyring\n"
  "   --preserve-fds N         pass N additional file descriptors (3..3+N-1)\n"
  "   --pidfd-socket PATH      unix socket that receives a pidfd of the container's process\n";

/* Shared with run.c: create's flags. */
int cli_create_options (const char *cmd, int argc, char **argv, struct create_options *o,
                        bool *detach, bool *keep, struct berth_error *err);

enum { OPT_CONSOLE = 256, OPT_PIDFILE, OPT_NOPIVOT, OPT_NOKEYRING, OPT_PRESERVE, OPT_KEEP,
       OPT_NOSUBREAPER, OPT_PIDFD };

int
cli_create_options (const char *cmd, int argc, char **argv, struct create_options *o,
                    bool *detach, bool *keep, struct berth_error *err)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "console-socket", required_argument, NULL, OPT_CONSOLE },
    { "pid-file", required_argument, NULL, OPT_PIDFILE },
    { "no-pivot", no_argument, NULL, OPT_NOPIVOT },
    { "no-new-keyring", no_argument, NULL, OPT_NOKEYRING },
    { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
    { "pidfd-socket", required_argument, NULL, OPT_PIDFD },
    { "detach", no_argument, NULL, 'd' },
    { "keep", no_argument, NULL, OPT_KEEP },
    { "no-subreaper", no_argument, NULL, OPT_NOSUBREAPER },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool is_run = strcmp (cmd, "run") == 0;
  unsigned long long n;
  int c;

  while ((c = cli_getopt (cmd, argc, argv, is_run ? "b:d" : "b:", opts, err)) != -1)
    {
      if (!is_run && (c == OPT_KEEP || c == OPT_NOSUBREAPER))
        return berth_err (err, BERTH_E_USAGE, "%s: unknown flag %s", cmd, argv[optind - 1]);
      switch (c)
        {
        case 'b':
          o->bundle = optarg;
          break;
        case OPT_CONSOLE:
          o->console_socket = optarg;
          break;
        case OPT_PIDFILE:
          o->pid_file = optarg;
          break;
        case OPT_NOPIVOT:
          o->no_pivot = true;
          break;
        case OPT_NOKEYRING:
          o->no_new_keyring = true;
          break;
        case OPT_PRESERVE:
          if (cli_parse_uint ("--preserve-fds", optarg, 65536, &n, err) < 0)
            return -1;
          o->preserve_fds = (int) n;
          break;
        case OPT_PIDFD:
          o->pidfd_socket = optarg;
          break;
        case 'd':
          *detach = true;
          break;
        case OPT_KEEP:
          *keep = true;
          break;
        case OPT_NOSUBREAPER:
          break;
        case 'h':
          return 1;
        default:
          return -1;
        }
    }
  /* runc also passes through the fds that systemd socket activation gave us. */
  {
    const char *listen = getenv ("LISTEN_FDS");
    if (listen && (unsigned long long) atoi (listen) > 0)
      o->preserve_fds += atoi (listen);
  }
  return cli_want_args (cmd, argc - optind, 1, 1, err);
}

int
berth_cmd_create (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  struct berth_runtime rt = cli_runtime (g);
  struct create_options o = { 0 };
  struct created out = { 0 };
  bool detach = false, keep = false;
  int r = cli_create_options ("create", argc, argv, &o, &detach, &keep, err);

  if (r == 1)
    {
      fputs (usage, stdout);
      return 0;
    }
  if (r < 0)
    return -1;
  if (container_create (&rt, argv[optind], &o, &out, err) < 0)
    return -1;
  return 0;
}
