/* The files of a container's cgroup, for the resources_*.c writers: where a
   controller's files are on this host (a v1 hierarchy or the v2 directory,
   from struct berth_cgroup's directories and the v2 cgroup.controllers),
   and one logged write or read of a control file, whose failure names the
   JSON path of the property being applied.  Every directory comes from the
   struct berth_cgroup, so the writers run as well on a temporary directory
   laid out like a cgroup (tests/unit/test-resources.c). */
#include "cleanup.h"
#include "base/log.h"
#include "cgroup/resources_priv.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool
res_has_file (const char *dir, const char *file)
{
  char path[4096];

  snprintf (path, sizeof path, "%s/%s", dir, file);
  return access (path, F_OK) == 0;
}

int
res_locate (struct res_ctx *c, const char *v1, const char *v2, const char *jpath,
            struct res_ctl *out)
{
  const char *udir = c->cg->mode == BERTH_CGROUP_V1 ? NULL : cgroup_dir (c->cg, "");

  out->dir = c->cg->mode == BERTH_CGROUP_V2 || v1 == NULL ? NULL : cgroup_dir (c->cg, v1);
  out->v2 = false;
  if (out->dir)
    return 0;
  if (v2 && udir && cgroup_v2_has_controller (udir, v2))
    {
      out->dir = udir;
      out->v2 = true;
      return 0;
    }
  if (c->cg->mode == BERTH_CGROUP_V2 && v2)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                         "the %s controller is not enabled for %s (see its cgroup.controllers)",
                         v2, udir ? udir : "the container's cgroup");
  if (c->cg->mode == BERTH_CGROUP_V2)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                         "the %s controller is not mounted on this host (it exists only in "
                         "cgroup v1)", v1);
  return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                       "the %s controller is not mounted on this host", v1 ? v1 : v2);
}

int
res_write (struct res_ctx *c, const char *jpath, const char *dir, const char *file,
           const char *fmt, ...)
{
  char path[4096], val[4096];
  cleanup_close int fd = -1;
  va_list ap;
  ssize_t w;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (val, sizeof val, fmt, ap);
  va_end (ap);
  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (n < 0 || (size_t) n >= sizeof val)
    return berth_err_at (c->err, BERTH_E_LIMIT, jpath, "value for %s too long", path);
  berth_debug ("cgroup: write \"%s\" to %s", val, path);
  if ((fd = open (path, O_WRONLY | O_CLOEXEC)) < 0 && errno == ENOENT)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath, "%s does not exist on this host",
                         path);
  /* Control files take one write each; a short write is a refusal. */
  w = fd < 0 ? -1 : write (fd, val, (size_t) n);
  if (w != n)
    {
      berth_err_sys (c->err, w < 0 ? errno : EIO, "write \"%s\" to %s", val, path);
      snprintf (c->err->path, sizeof c->err->path, "%s", jpath);
      return -1;
    }
  return 0;
}

int
res_read_u64 (const char *dir, const char *file, uint64_t *v, struct berth_error *err)
{
  cleanup_free char *text = NULL;
  char path[4096], *end;

  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (read_file_at (AT_FDCWD, path, &text, NULL, err) < 0)
    return -1;
  if (strncmp (text, "max", 3) == 0)
    return *v = UINT64_MAX, 0;
  errno = 0;
  *v = strtoull (text, &end, 10);
  if (errno || end == text)
    return berth_err (err, BERTH_E_VALUE, "%s: not a number: \"%.32s\"", path, text);
  return 0;
}
