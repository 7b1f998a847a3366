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
res_open (struct res_ctx *c, const char *jpath, const char *dir, const char *file,
          struct res_file *out)
{
  snprintf (out->path, sizeof out->path, "%s/%s", dir, file);
  if ((out->fd = open (out->path, O_WRONLY | O_CLOEXEC)) < 0 && errno == ENOENT)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath, "%s does not exist on this host",
                         out->path);
  out->errnum = out->fd < 0 ? errno : 0;
  return 0;
}

/* The value formatted into val; logged before any file is touched, so that
   the log shows what was tried (the fixture tier reads it). */
static int
format_value (struct res_ctx *c, const char *jpath, const char *path, char val[4096],
              const char *fmt, va_list ap)
{
  int n = vsnprintf (val, 4096, fmt, ap);

  if (n < 0 || n >= 4096)
    return berth_err_at (c->err, BERTH_E_LIMIT, jpath, "value for %s too long", path);
  berth_debug ("cgroup: write \"%s\" to %s", val, path);
  return n;
}

static int
write_value (struct res_ctx *c, const char *jpath, const struct res_file *f, const char *val,
             int n)
{
  /* Control files take one write each; a short write is a refusal. */
  ssize_t w = f->fd < 0 ? (errno = f->errnum, -1) : write (f->fd, val, (size_t) n);

  if (w != n)
    {
      berth_err_sys (c->err, w < 0 ? errno : EIO, "write \"%s\" to %s", val, f->path);
      snprintf (c->err->path, sizeof c->err->path, "%s", jpath);
      return -1;
    }
  return 0;
}

int
res_write_to (struct res_ctx *c, const char *jpath, const struct res_file *f, const char *fmt,
              ...)
{
  char val[4096];
  va_list ap;

  va_start (ap, fmt);
  int n = format_value (c, jpath, f->path, val, fmt, ap);
  va_end (ap);
  return n < 0 ? -1 : write_value (c, jpath, f, val, n);
}

int
res_write (struct res_ctx *c, const char *jpath, const char *dir, const char *file,
           const char *fmt, ...)
{
  cleanup_res_file struct res_file f = { .fd = -1 };
  char path[4096], val[4096];
  va_list ap;

  snprintf (path, sizeof path, "%s/%s", dir, file);
  va_start (ap, fmt);
  int n = format_value (c, jpath, path, val, fmt, ap);
  va_end (ap);
  if (n < 0 || res_open (c, jpath, dir, file, &f) < 0)
    return -1;
  return write_value (c, jpath, &f, val, n);
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
