/* berth — the cgroup modules' control files: read whole, write one value
   (declared in cgroup_priv.h; a short one is read with base's read_small). */
#include "cgroup/cgroup_priv.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
cgroup_oom (struct berth_error *err)
{
  return berth_err_sys (err, ENOMEM, "cgroup: out of memory");
}

char *
cgroup_join (const char *dir, const char *file)
{
  char *r = NULL;
  return asprintf (&r, "%s/%s", dir, file) < 0 ? NULL : r;
}

/* cgroupfs files report st_size 0, so read until EOF instead of trusting stat. */
int
cgroup_read_file (const char *path, char **out, struct berth_error *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;
  ssize_t r = 1;

  if (fd < 0)
    return berth_err_sys (err, errno, "open %s", path);
  for (; r != 0; len += r > 0 ? (size_t) r : 0)
    {
      char *nb = cap - len < 4096 ? realloc (buf, cap += 8192) : buf;
      if (nb == NULL)
        return cgroup_oom (err);
      if ((r = read (fd, (buf = nb) + len, cap - len - 1)) < 0 && errno != EINTR)
        return berth_err_sys (err, errno, "read %s", path);
    }
  buf[len] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

int
cgroup_write_file (const char *path, const char *s, struct berth_error *err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);
  ssize_t r = fd < 0 ? -1 : write (fd, s, strlen (s));

  /* Kernel control files take one write; a short one is a failure. */
  if (r != (ssize_t) strlen (s))
    return berth_err_sys (err, r < 0 ? errno : EIO, "write %s", path);
  return 0;
}
