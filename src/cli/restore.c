#include "criu_flags.h"

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char usage[] =
  "Usage: berth restore [command options] <container-id>\n\n"
  "Restore a container from a CRIU checkpoint: a new container <container-id>\n"
  "from the bundle's config.json and the images; in the foreground, wait for it,\n"
  "relay its exit status and delete it.\n\n"
  "Options:\n"
  "   --console-socket PATH       unix socket that receives the pty master\n"
  "   --image-path DIR            path to criu image files for restoring (default: ./checkpoint)\n"
  "   --work-path DIR             path for saving work files and logs (default: the images')\n"
  "   --tcp-established           allow open tcp connections\n"
  "   --ext-unix-sk               allow external unix sockets\n"
  "   --shell-job                 allow shell jobs\n"
  "   --file-locks                handle file locks, for safety\n"
  "   --manage-cgroups-mode MODE  cgroups mode: soft (default), full or strict\n"
  "   --bundle, -b DIR            path to the root of the bundle directory (default: .)\n"
  "   --detach, -d                detach from the container's process\n"
  "   --pid-file PATH             file to write the process id to\n"
  "   --no-subreaper              do not become the subreaper of the restored process\n"
  "   --no-pivot                  accepted for compatibility (CRIU makes the root)\n"
  "   --empty-ns NS               create a namespace, but do not restore its properties\n"
  "                               (network only)\n"
  "   --auto-dedup                enable auto deduplication of memory images\n"
  "   --lazy-pages                use userfaultfd to lazily restore memory pages\n"
  "                               (refused: libcriu has no call for it)\n"
  "   --lsm-profile TYPE:NAME     LSM profile for the restored processes\n"
  "   --lsm-mount-context CONTEXT LSM mount context for the restored mounts\n";

static int
parse (int argc, char **argv, struct restore_options *o, bool *detach, bool *no_subreaper,
       struct berth_error *err)
{
  static const struct option opts[] = {
    CLI_CRIU_LONGOPTS,
    { "bundle", required_argument, NULL, 'b' },
    { "detach", no_argument, NULL, 'd' },
    { "console-socket", required_argument, NULL, OPT_CONSOLE },
    { "pid-file", required_argument, NULL, OPT_PIDFILE },
    { "no-subreaper", no_argument, NULL, OPT_NOSUBREAPER },
    { "no-pivot", no_argument, NULL, OPT_NOPIVOT },
    { "lsm-profile", required_argument, NULL, OPT_LSMPROFILE },
    { "lsm-mount-context", required_argument, NULL, OPT_LSMMOUNT },
    { NULL, 0, NULL, 0 },
  };
  int c, r;

  while ((c = cli_getopt ("restore", argc, argv, "b:d", opts, err)) != -1)
    {
      if ((r = cli_criu_option (c, "restore", &o->criu, err)) != 0)
        {
          if (r < 0)
            return -1;
          continue;
        }
      switch (c)
        {
        case 'b':
          o->create.bundle = optarg;
          break;
        case 'd':
          *detach = true;
          break;
        case OPT_CONSOLE:
          o->create.console_socket = optarg;
          break;
        case OPT_PIDFILE:
          o->create.pid_file = optarg;
          break;
        case OPT_NOSUBREAPER:
          *no_subreaper = true;
          break;
        case OPT_NOPIVOT:
          o->create.no_pivot = true;
          break;
        case OPT_LSMPROFILE:
          o->lsm_profile = optarg;
          break;
        case OPT_LSMMOUNT:
          o->lsm_mount_context = optarg;
          break;
        case 'h':
          return 1;
        default:
          /* Podman asks `restore --lsm-mount-context` with no value and
             looks for runc's words to learn that the flag exists. */
          if (strstr (err->msg, "needs an argument"))
            berth_err (err, BERTH_E_USAGE, "restore: flag needs an argument: %s",
                       argv[optind - 1]);
          return -1;
        }
    }
  return cli_want_args ("restore", argc - optind, 1, 1, err);
}

int
berth_cmd_restore (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  struct berth_runtime rt = cli_runtime (g);
  struct restore_options o = { 0 };
  struct created out = { 0, -1 };
  bool detach = false, no_subreaper = false;
  const char *id;
  int r = parse (argc, argv, &o, &detach, &no_subreaper, err);

  if (r == 1)
    {
      fputs (usage, stdout);
      return 0;
    }
  if (r < 0)
    return -1;
  if (o.criu.lazy_pages)
    return berth_err (err, BERTH_E_UNSUPPORTED,
                      "--lazy-pages is not supported: libcriu has no call for it");
  id = argv[optind];
  o.create.keep_console = !detach && o.create.console_socket == NULL;
  /* The restored tree is CRIU's sibling, our child; its own children may
     be orphaned to us. */
  if (!detach && !no_subreaper)
    prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  if (container_restore (&rt, id, &o, &out, err) < 0)
    return -1;
  if (detach)
    return 0;
  return cli_foreground (&rt, id, &out, false, err);
}
