#include "cli.h"
#include "criu_flags.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
  "Usage: berth checkpoint [command options] <container-id>\n\n"
  "Checkpoint a running container with CRIU: its processes are dumped to an\n"
  "image directory and, unless --leave-running or --pre-dump, the container\n"
  "is deleted.\n\n"
  "Options:\n"
  "   --image-path DIR            path for saving criu image files (default: ./checkpoint)\n"
  "   --work-path DIR             path for saving work files and logs (default: the images')\n"
  "   --parent-path DIR           path for previous criu image files in pre-dump\n"
  "                               (relative to --image-path)\n"
  "   --leave-running             leave the process running after checkpointing\n"
  "   --tcp-established           allow open tcp connections\n"
  "   --ext-unix-sk               allow external unix sockets\n"
  "   --shell-job                 allow shell jobs\n"
  "   --lazy-pages                use userfaultfd to lazily restore memory pages\n"
  "                               (refused: libcriu has no call for it)\n"
  "   --status-fd N               criu writes \\0 to this FD once lazy-pages is ready\n"
  "   --page-server ADDRESS:PORT  send the memory pages to a criu page server\n"
  "   --file-locks                handle file locks, for safety\n"
  "   --pre-dump                  dump the container's memory only, leave it running\n"
  "   --manage-cgroups-mode MODE  cgroups mode: soft (default), full or strict\n"
  "   --empty-ns NS               create a namespace, but do not restore its properties\n"
  "                               (network only)\n"
  "   --auto-dedup                enable auto deduplication of memory images\n";

int
cli_criu_option (int c, const char *cmd, struct criu_options *o, struct berth_error *err)
{
  static const char *const modes[] = { [CHECKPOINT_CG_SOFT] = "soft",
                                       [CHECKPOINT_CG_FULL] = "full",
                                       [CHECKPOINT_CG_STRICT] = "strict" };
  switch (c)
    {
    case OPT_IMAGE:
      o->image_path = optarg;
      return 1;
    case OPT_WORK:
      o->work_path = optarg;
      return 1;
    case OPT_TCP:
      o->tcp_established = true;
      return 1;
    case OPT_EXTUNIX:
      o->ext_unix_sk = true;
      return 1;
    case OPT_SHELL:
      o->shell_job = true;
      return 1;
    case OPT_LAZY:
      o->lazy_pages = true;
      return 1;
    case OPT_LOCKS:
      o->file_locks = true;
      return 1;
    case OPT_DEDUP:
      o->auto_dedup = true;
      return 1;
    case OPT_CGMODE:
      for (size_t i = CHECKPOINT_CG_SOFT; i <= CHECKPOINT_CG_STRICT; i++)
        if (strcmp (optarg, modes[i]) == 0)
          {
            o->cg_mode = (enum checkpoint_cg_mode) i;
            return 1;
          }
      return berth_err (err, BERTH_E_USAGE,
                        "%s: invalid --manage-cgroups-mode \"%s\" (want soft, full or strict)",
                        cmd, optarg);
    case OPT_EMPTYNS:
      /* runc knows only this one (the network is the engine's to set up). */
      if (strcmp (optarg, "network") != 0)
        return berth_err (err, BERTH_E_USAGE, "%s: namespace \"%s\" is not supported by --empty-ns",
                          cmd, optarg);
      o->empty_ns_net = true;
      return 1;
    default:
      return 0;
    }
}

int
berth_cmd_checkpoint (const struct berth_globals *g, int argc, char **argv,
                      struct berth_error *err)
{
  static const struct option opts[] = {
    CLI_CRIU_LONGOPTS,
    { "parent-path", required_argument, NULL, OPT_PARENT },
    { "leave-running", no_argument, NULL, OPT_LEAVE },
    { "status-fd", required_argument, NULL, OPT_STATUSFD },
    { "page-server", required_argument, NULL, OPT_PAGESERVER },
    { "pre-dump", no_argument, NULL, OPT_PREDUMP },
    { NULL, 0, NULL, 0 },
  };
  struct berth_runtime rt = cli_runtime (g);
  struct checkpoint_options o = { .status_fd = -1 };
  unsigned long long n;
  int c, r;

  while ((c = cli_getopt ("checkpoint", argc, argv, "", opts, err)) != -1)
    {
      if ((r = cli_criu_option (c, "checkpoint", &o.criu, err)) != 0)
        {
          if (r < 0)
            return -1;
          continue;
        }
      switch (c)
        {
        case OPT_PARENT:
          o.parent_path = optarg;
          break;
        case OPT_LEAVE:
          o.leave_running = true;
          break;
        case OPT_STATUSFD:
          if (cli_parse_uint ("--status-fd", optarg, 1 << 20, &n, err) < 0)
            return -1;
          o.status_fd = (int) n;
          break;
        case OPT_PAGESERVER:
          o.page_server = optarg;
          break;
        case OPT_PREDUMP:
          o.pre_dump = true;
          break;
        case 'h':
          fputs (usage, stdout);
          return 0;
        default:
          return -1;
        }
    }
  if (cli_want_args ("checkpoint", argc - optind, 1, 1, err) < 0)
    return -1;
  return container_checkpoint (&rt, argv[optind], &o, err);
}
