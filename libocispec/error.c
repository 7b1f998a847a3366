#include "error.h"

#include <stdio.h>
#include <string.h>

__attribute__ ((format (printf, 2, 0))) static void
set_msg (struct berth_error *e, const char *fmt, va_list ap)
{
  vsnprintf (e->msg, sizeof e->msg, fmt, ap);
}

int
berth_err (struct berth_error *e, enum berth_error_kind kind, const char *fmt, ...)
{
  va_list ap;
  if (e == NULL)
    return -1;
  e->kind = kind;
  e->errnum = 0;
  e->path[0] = '\0';
  va_start (ap, fmt);
  set_msg (e, fmt, ap);
  va_end (ap);
  return -1;
}

int
berth_err_sys (struct berth_error *e, int errnum, const char *fmt, ...)
{
  va_list ap;
  if (e == NULL)
    return -1;
  e->kind = BERTH_E_SYSTEM;
  e->errnum = errnum;
  e->path[0] = '\0';
  va_start (ap, fmt);
  set_msg (e, fmt, ap);
  va_end (ap);
  return -1;
}

int
berth_err_at (struct berth_error *e, enum berth_error_kind kind, const char *path,
              const char *fmt, ...)
{
  va_list ap;
  if (e == NULL)
    return -1;
  e->kind = kind;
  e->errnum = 0;
  snprintf (e->path, sizeof e->path, "%s", path ? path : "");
  va_start (ap, fmt);
  set_msg (e, fmt, ap);
  va_end (ap);
  return -1;
}

void
berth_err_prefix (struct berth_error *e, const char *fmt, ...)
{
  char prefix[256];
  size_t plen, mlen;
  va_list ap;
  if (e == NULL)
    return;
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  plen = strlen (prefix);
  mlen = strnlen (e->msg, sizeof e->msg - 1);
  if (plen >= sizeof e->msg)
    plen = sizeof e->msg - 1;
  if (plen + mlen >= sizeof e->msg)
    mlen = sizeof e->msg - 1 - plen;
  memmove (e->msg + plen, e->msg, mlen);
  memcpy (e->msg, prefix, plen);
  e->msg[plen + mlen] = '\0';
}

void
berth_err_set_source (struct berth_error *e, const char *source)
{
  if (e != NULL)
    snprintf (e->source, sizeof e->source, "%s", source ? source : "");
}

void
berth_err_clear (struct berth_error *e)
{
  if (e != NULL)
    memset (e, 0, sizeof *e);
}

const char *
berth_err_format (const struct berth_error *e, char *buf, size_t len)
{
  size_t n = 0;
  int r;

  if (len == 0)
    return buf;
  buf[0] = '\0';
#define APPEND(...)                                                     \
  do {                                                                  \
    r = snprintf (buf + n, len - n, __VA_ARGS__);                       \
    if (r < 0 || (size_t) r >= len - n)                                 \
      return buf;                                                       \
    n += (size_t) r;                                                    \
  } while (0)
  if (e->source[0])
    APPEND ("%s: ", e->source);
  if (e->path[0])
    APPEND ("%s: ", e->path);
  APPEND ("%s", e->msg);
  if (e->errnum)
    APPEND (": %s", strerror (e->errnum));
#undef APPEND
  return buf;
}

const char *
berth_err_kind_name (enum berth_error_kind kind)
{
  static const char *const names[] = {
    [BERTH_E_NONE] = "none",
    [BERTH_E_SYSTEM] = "system",
    [BERTH_E_JSON] = "json",
    [BERTH_E_TYPE] = "type",
    [BERTH_E_MISSING] = "missing",
    [BERTH_E_RANGE] = "range",
    [BERTH_E_VALUE] = "value",
    [BERTH_E_VERSION] = "version",
    [BERTH_E_UNSUPPORTED] = "unsupported",
    [BERTH_E_LIMIT] = "limit",
    [BERTH_E_NOT_FOUND] = "not-found",
    [BERTH_E_EXISTS] = "exists",
    [BERTH_E_STATE] = "state",
    [BERTH_E_USAGE] = "usage",
    [BERTH_E_CHILD] = "child",
  };
  if ((unsigned) kind < sizeof names / sizeof names[0] && names[kind])
    return names[kind];
  return "unknown";
}

int
berth_reporter_error (struct berth_reporter *r, const struct berth_error *e)
{
  if (r->collect)
    return r->collect (r->data, false, e) < 0 ? -1 : 0;
  if (r->err && r->err != e)
    {
      /* As berth_err_at: a source the caller set stays unless e has one. */
      struct berth_error keep = *r->err;
      *r->err = *e;
      if (!e->source[0])
        memcpy (r->err->source, keep.source, sizeof keep.source);
    }
  return -1;
}

int
berth_reporter_at (struct berth_reporter *r, enum berth_error_kind kind, const char *path,
                   const char *fmt, ...)
{
  struct berth_error e = { .kind = kind };
  va_list ap;

  snprintf (e.path, sizeof e.path, "%s", path ? path : "");
  va_start (ap, fmt);
  set_msg (&e, fmt, ap);
  va_end (ap);
  return berth_reporter_error (r, &e);
}

int
berth_reporter_warn (struct berth_reporter *r, enum berth_error_kind kind, const char *path,
                     const char *fmt, ...)
{
  struct berth_error e = { .kind = kind };
  va_list ap;

  if (r->collect == NULL)
    return 0;
  snprintf (e.path, sizeof e.path, "%s", path ? path : "");
  va_start (ap, fmt);
  set_msg (&e, fmt, ap);
  va_end (ap);
  return r->collect (r->data, true, &e) < 0 ? -1 : 0;
}
