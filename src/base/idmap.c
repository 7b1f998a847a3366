/* berth — writing a user namespace's ID map (see idmap.h). */
#include "base/idmap.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
id_map_write (pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
              struct berth_error *err)
{
  char path[64], buf[4096];
  size_t used = 0;
  cleanup_close int fd = -1;

  for (size_t i = 0; i < n; i++)
    {
      int r = snprintf (buf + used, sizeof buf - used, "%u %u %u\n", m[i].container_id,
                        m[i].host_id, m[i].size);
      if (r < 0 || (size_t) r >= sizeof buf - used)
        return berth_err (err, BERTH_E_LIMIT, "too many ID mappings for %s", file);
      used += (size_t) r;
    }
  if (used == 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return berth_err_sys (err, errno, "open %s", path);
  if (write (fd, buf, used) != (ssize_t) used)
    return berth_err_sys (err, errno, "write %s (\"%.*s\")", path, (int) strcspn (buf, "\n"), buf);
  return 0;
}
