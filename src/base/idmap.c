/* berth — writing a user namespace's ID map (see idmap.h). */
#include "base/idmap.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
id_map_format (const char *file, const struct oci_id_mapping *m, size_t n, char *buf,
               size_t size, size_t *used, struct berth_error *err)
{
  *used = 0;
  if (size)
    buf[0] = '\0';
  for (size_t i = 0; i < n; i++)
    {
      int r = snprintf (buf + *used, size - *used, "%u %u %u\n", m[i].container_id,
                        m[i].host_id, m[i].size);
      if (r < 0 || (size_t) r >= size - *used)
        return berth_err (err, BERTH_E_LIMIT, "too many ID mappings for %s", file);
      *used += (size_t) r;
    }
  return 0;
}

int
id_map_write_file (pid_t pid, const char *file, const char *buf, size_t len,
                   struct berth_error *err)
{
  char path[64];
  cleanup_close int fd = -1;
  int e;

  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    {
      e = errno;
      berth_err_sys (err, e, "open %s", path);
      return e;
    }
  if (write (fd, buf, len) != (ssize_t) len)
    {
      e = errno ? errno : EIO;
      berth_err_sys (err, e, "write %s (\"%.*s\")", path, (int) strcspn (buf, "\n"), buf);
      return e;
    }
  return 0;
}

int
id_map_write (pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
              struct berth_error *err)
{
  char buf[4096];
  size_t used;

  if (id_map_format (file, m, n, buf, sizeof buf, &used, err) < 0)
    return -1;
  if (used == 0)
    return 0;
  return id_map_write_file (pid, file, buf, used, err) ? -1 : 0;
}
