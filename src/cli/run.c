#include "cli.h"
#include "lifecycle/container.h"

#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char usage[] =
  "Usage: berth run [command options] <container-id>\n\n"
  "Create and start a container; in the foreground, wait for it, relay its exit\n"
  "status (128+N for a signal) and delete it.\n\n"
  "Options:\n"
  "   --bundle, -b DIR         path to the root of the bundle directory (default: .)\n"
  "   --console-socket PATH    unix socket that receives the pty master (process.terminal)\n"
  "   --detach, -d             detach from the container's process\n"
  "   --keep                   do not delete the container after it exits\n"
  "   --pid-file PATH          file to write the process id to\n"
  "   --no-subreaper           accepted for compatibility\n"
  "   --no-pivot               do not use pivot_root (for ramdisk roots)\n"
  "   --no-new-keyring         do not create a new session keyring\n"
  "   --preserve-fds N         pass N additional file descriptors (3..3+N-1)\n"
  "   --pidfd-socket PATH      unix socket that receives a pidfd of the container's process\n";

int cli_create_options (const char *cmd, int argc, char **argv, struct create_options *o,
                        bool *detach, bool *keep, struct berth_error *err);

int
berth_cmd_run (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  struct berth_runtime rt = cli_runtime (g);
  struct create_options o = { 0 };
  struct created out = { .console = -1, .state = { -1, -1, NULL }, .start_fifo = -1 };
  bool detach = false, keep = false;
  const char *id;
  int r = cli_create_options ("run", argc, argv, &o, &detach, &keep, err);

  if (r == 1)
    {
      fputs (usage, stdout);
      return 0;
    }
  if (r < 0)
    return -1;
  id = argv[optind];
  o.keep_console = !detach && o.console_socket == NULL;
  /* The init may be a grandchild (user or time namespaces); adopt it. */
  if (!detach)
    prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  o.hand_over = true;
  if (container_create (&rt, id, &o, &out, err) < 0)
    return -1;
  if (container_start_created (&out, err) < 0)
    {
      struct berth_error ignored = { 0 };
      container_delete (&rt, id, true, &ignored);
      return -1;
    }
  if (detach)
    return 0;
  return cli_foreground (&rt, id, &out, keep, err);
}
