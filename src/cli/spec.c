#include "cli.h"
#include "cleanup.h"
#include "lifecycle/defaults.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
  "Usage: berth spec [command options]\n\n"
  "Write a starter config.json for a bundle (refuses to overwrite one).\n\n"
  "Options:\n"
  "   --bundle, -b DIR   path to the root of the bundle directory (default: .)\n"
  "   --rootless         generate a configuration for a rootless container\n";

int
berth_cmd_spec (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "rootless", no_argument, NULL, 'R' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *bundle = ".";
  bool rootless = false;
  cleanup_free char *json = NULL;
  cleanup_close int dirfd = -1;
  cleanup_close int fd = -1;
  size_t len;
  int c;

  while ((c = cli_getopt ("spec", argc, argv, "b:", opts, err)) != -1)
    switch (c)
      {
      case 'b':
        bundle = optarg;
        break;
      case 'R':
        rootless = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return -1;
      }
  if (cli_want_args ("spec", argc - optind, 0, 0, err) < 0)
    return -1;

  dirfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return berth_err_sys (err, errno, "bundle directory %s", bundle);
  if (berth_default_spec (rootless, geteuid (), getegid (), &json, err) < 0)
    return -1;
  fd = openat (dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
               0644);
  if (fd < 0 && errno == EEXIST)
    return berth_err (err, BERTH_E_EXISTS, "File config.json exists. Remove it first");
  if (fd < 0)
    return berth_err_sys (err, errno, "create %s/config.json", bundle);
  len = strlen (json);
  for (size_t off = 0; off < len;)
    {
      ssize_t n = write (fd, json + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          berth_err_sys (err, errno, "write %s/config.json", bundle);
          unlinkat (dirfd, "config.json", 0);
          return -1;
        }
      off += (size_t) n;
    }
  return 0;
}
