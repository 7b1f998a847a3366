#include "cli.h"
#include "cleanup.h"
#include "lifecycle/exec.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
  "Usage: berth exec [command options] <container-id> <command> [command options]\n"
  "       berth exec [command options] -p process.json <container-id>\n\n"
  "Run a new process in a created or running container.  Attached, berth waits\n"
  "for it and exits with its status (128+N for a signal); berth's own errors\n"
  "exit 255.  Flags stop at the command.\n\n"
  "Options:\n"
  "   --process, -p FILE       the process as a JSON document (process.json); the\n"
  "                            process flags below are then ignored\n"
  "   --tty, -t                allocate a pseudo-TTY\n"
  "   --console-socket PATH    unix socket that receives the pty master (with -d -t)\n"
  "   --detach, -d             detach from the process\n"
  "   --pid-file PATH          file to write the process id to\n"
  "   --pidfd-socket PATH      unix socket that receives a pidfd of the process\n"
  "   --cwd DIR                working directory in the container\n"
  "   --env, -e KEY=VALUE      set an environment variable (repeatable)\n"
  "   --user, -u UID[:GID]     user and group ids\n"
  "   --additional-gids, -g GID  an additional group (repeatable)\n"
  "   --cap, -c CAP            add a capability (repeatable)\n"
  "   --no-new-privs           set no_new_privs\n"
  "   --apparmor PROFILE       AppArmor profile for the process\n"
  "   --process-label LABEL    SELinux label for the process\n"
  "   --preserve-fds N         pass N additional file descriptors (3..3+N-1)\n"
  "   --ignore-paused          exec even when the container is paused\n"
  "   --cgroup [CTRL[,CTRL]:]PATH  run in a sub-cgroup of the container (repeatable)\n";

enum { OPT_CONSOLE = 256, OPT_PIDFILE, OPT_PIDFD, OPT_CWD, OPT_NNP, OPT_APPARMOR, OPT_LABEL,
       OPT_PRESERVE, OPT_IGNORE_PAUSED, OPT_CGROUP };

#define MAX_ID 4294967294ULL /* (uid_t) -1 means "unchanged" to the kernel */

static int
parse_user (const char *v, struct exec_options *o, struct berth_error *err)
{
  cleanup_free char *copy = strdup (v);
  char *colon;
  unsigned long long n;

  if (copy == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  colon = strchr (copy, ':');
  if (colon)
    *colon = '\0';
  if (cli_parse_uint ("--user", copy, MAX_ID, &n, err) < 0)
    return berth_err (err, BERTH_E_USAGE,
                      "invalid --user \"%s\": want UID[:GID] as numbers (names are not "
                      "resolved)", v);
  o->user_set = true;
  o->uid = (uint32_t) n;
  if (colon)
    {
      if (cli_parse_uint ("--user", colon + 1, MAX_ID, &n, err) < 0)
        return berth_err (err, BERTH_E_USAGE,
                          "invalid --user \"%s\": want UID[:GID] as numbers", v);
      o->gid_set = true;
      o->gid = (uint32_t) n;
    }
  return 0;
}

int
berth_cmd_exec (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = {
    { "process", required_argument, NULL, 'p' },
    { "tty", no_argument, NULL, 't' },
    { "console-socket", required_argument, NULL, OPT_CONSOLE },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, OPT_PIDFILE },
    { "pidfd-socket", required_argument, NULL, OPT_PIDFD },
    { "cwd", required_argument, NULL, OPT_CWD },
    { "env", required_argument, NULL, 'e' },
    { "user", required_argument, NULL, 'u' },
    { "additional-gids", required_argument, NULL, 'g' },
    { "cap", required_argument, NULL, 'c' },
    { "no-new-privs", no_argument, NULL, OPT_NNP },
    { "apparmor", required_argument, NULL, OPT_APPARMOR },
    { "process-label", required_argument, NULL, OPT_LABEL },
    { "preserve-fds", required_argument, NULL, OPT_PRESERVE },
    { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
    { "cgroup", required_argument, NULL, OPT_CGROUP },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct berth_runtime rt = cli_runtime (g);
  struct exec_options o = { 0 };
  /* Repeatable flags: never more values than arguments. */
  cleanup_free char **env = calloc ((size_t) argc + 1, sizeof (char *));
  cleanup_free char **caps = calloc ((size_t) argc + 1, sizeof (char *));
  cleanup_free char **cgroups = calloc ((size_t) argc + 1, sizeof (char *));
  cleanup_free uint32_t *gids = calloc ((size_t) argc + 1, sizeof (uint32_t));
  bool process_flags = false;
  unsigned long long n;
  int c;

  if (env == NULL || caps == NULL || cgroups == NULL || gids == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  o.env = env;
  o.caps = caps;
  o.cgroups = cgroups;
  o.additional_gids = gids;
  while ((c = cli_getopt ("exec", argc, argv, "+p:tde:u:g:c:", opts, err)) != -1)
    {
      if (c != 'p' && c != OPT_CONSOLE && c != 'd' && c != OPT_PIDFILE && c != OPT_PIDFD
          && c != OPT_PRESERVE && c != OPT_IGNORE_PAUSED && c != OPT_CGROUP && c != 'h'
          && c != '?')
        process_flags = true;
      switch (c)
        {
        case 'p':
          o.process_file = optarg;
          break;
        case 't':
          o.tty = true;
          break;
        case OPT_CONSOLE:
          o.console_socket = optarg;
          break;
        case 'd':
          o.detach = true;
          break;
        case OPT_PIDFILE:
          o.pid_file = optarg;
          break;
        case OPT_PIDFD:
          o.pidfd_socket = optarg;
          break;
        case OPT_CWD:
          o.cwd = optarg;
          break;
        case 'e':
          env[o.n_env++] = optarg;
          break;
        case 'u':
          if (parse_user (optarg, &o, err) < 0)
            return -1;
          break;
        case 'g':
          if (cli_parse_uint ("--additional-gids", optarg, MAX_ID, &n, err) < 0)
            return -1;
          gids[o.n_additional_gids++] = (uint32_t) n;
          break;
        case 'c':
          caps[o.n_caps++] = optarg;
          break;
        case OPT_NNP:
          o.no_new_privs = true;
          break;
        case OPT_APPARMOR:
          o.apparmor = optarg;
          break;
        case OPT_LABEL:
          o.process_label = optarg;
          break;
        case OPT_PRESERVE:
          if (cli_parse_uint ("--preserve-fds", optarg, 65536, &n, err) < 0)
            return -1;
          o.preserve_fds = (int) n;
          break;
        case OPT_IGNORE_PAUSED:
          o.ignore_paused = true;
          break;
        case OPT_CGROUP:
          cgroups[o.n_cgroups++] = optarg;
          break;
        case 'h':
          fputs (usage, stdout);
          return 0;
        default:
          return -1;
        }
    }
  if (cli_want_args ("exec", argc - optind, 1, -1, err) < 0)
    return -1;
  if (o.process_file)
    {
      /* runc takes the process from the file alone and says nothing; a
         warning would land in the process' captured output, so it goes to
         the debug log. */
      if (process_flags)
        berth_debug ("exec: --process is given: --tty, --cwd, --env, --user, "
                     "--additional-gids, --cap, --no-new-privs, --apparmor and "
                     "--process-label are ignored");
      if (argc - optind > 1)
        berth_debug ("exec: --process is given: the command after the container id is ignored");
    }
  else if (argc - optind < 2)
    return berth_err (err, BERTH_E_USAGE, "exec: process args cannot be empty");
  o.args = argv + optind + 1;
  o.n_args = (size_t) (argc - optind - 1);
  return exec_run (&rt, argv[optind], &o, err);
}
