/* berth check: the report, the list every check_*() adds its problems to
   (check_priv.h), and its JSON form (check.h).  Its own module so that the
   parts of check use it without using each other. */
#include "check/check_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

static struct check_problem *
new_problem (struct check_ctx *x, enum check_severity sev)
{
  struct check_report *r = x->r;

  if (r->n == r->cap)
    {
      size_t cap = r->cap ? r->cap * 2 : 16;
      struct check_problem *v = realloc (r->v, cap * sizeof *v);
      if (v == NULL)
        {
          x->oom = true;
          return NULL;
        }
      r->v = v;
      r->cap = cap;
    }
  if (sev == CHECK_ERROR)
    r->n_errors++;
  else
    r->n_warnings++;
  r->v[r->n] = (struct check_problem){ .severity = sev };
  return &r->v[r->n++];
}

void
check_add (struct check_ctx *x, enum check_severity sev, enum berth_error_kind kind,
           const char *path, const char *fmt, ...)
{
  struct check_problem *p = new_problem (x, sev);
  va_list ap;

  if (p == NULL)
    return;
  p->e.kind = kind;
  if (path && *path)
    {
      snprintf (p->e.path, sizeof p->e.path, "%s", path);
      berth_err_set_source (&p->e, "config.json");
    }
  va_start (ap, fmt);
  vsnprintf (p->e.msg, sizeof p->e.msg, fmt, ap);
  va_end (ap);
}

void
check_add_error (struct check_ctx *x, enum check_severity sev, const struct berth_error *e,
                 const char *path)
{
  struct check_problem *p = new_problem (x, sev);

  if (p == NULL)
    return;
  p->e = *e;
  if (!p->e.path[0] && path)
    snprintf (p->e.path, sizeof p->e.path, "%s", path);
  if (p->e.path[0])
    berth_err_set_source (&p->e, "config.json");
}

void
check_report_free (struct check_report *r)
{
  free (r->v);
  memset (r, 0, sizeof *r);
}

static yajl_gen_status
gen_str (yajl_gen g, const char *s)
{
  return yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

static yajl_gen_status
gen_list (yajl_gen g, const struct check_report *r, enum check_severity sev)
{
  yajl_gen_status s = yajl_gen_array_open (g);

  for (size_t i = 0; i < r->n && s == yajl_gen_status_ok; i++)
    {
      struct berth_error e = r->v[i].e;
      char message[1024];
      if (r->v[i].severity != sev)
        continue;
      /* The path has a member of its own: the message is the rest. */
      e.path[0] = e.source[0] = '\0';
      berth_err_format (&e, message, sizeof message);
      if ((s = yajl_gen_map_open (g)) != yajl_gen_status_ok
          || (s = gen_str (g, "path")) != yajl_gen_status_ok
          || (s = gen_str (g, r->v[i].e.path)) != yajl_gen_status_ok
          || (s = gen_str (g, "message")) != yajl_gen_status_ok
          || (s = gen_str (g, message)) != yajl_gen_status_ok
          || (s = gen_str (g, "kind")) != yajl_gen_status_ok
          || (s = gen_str (g, berth_err_kind_name (e.kind))) != yajl_gen_status_ok)
        break;
      s = yajl_gen_map_close (g);
    }
  return s == yajl_gen_status_ok ? yajl_gen_array_close (g) : s;
}

int
check_report_json (const struct check_report *r, char **out, struct berth_error *err)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  const unsigned char *buf;
  size_t len;
  yajl_gen_status s;

  *out = NULL;
  if (g == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  s = yajl_gen_map_open (g);
  if (s == yajl_gen_status_ok && (s = gen_str (g, "errors")) == yajl_gen_status_ok)
    s = gen_list (g, r, CHECK_ERROR);
  if (s == yajl_gen_status_ok && (s = gen_str (g, "warnings")) == yajl_gen_status_ok)
    s = gen_list (g, r, CHECK_WARNING);
  if (s == yajl_gen_status_ok)
    s = yajl_gen_map_close (g);
  if (s == yajl_gen_status_ok && yajl_gen_get_buf (g, &buf, &len) == yajl_gen_status_ok)
    *out = strndup ((const char *) buf, len);
  yajl_gen_free (g);
  if (s != yajl_gen_status_ok)
    return berth_err (err, BERTH_E_VALUE, "cannot encode the report as JSON (status %d)", (int) s);
  return *out ? 0 : berth_err_sys (err, ENOMEM, "out of memory");
}

static int
collect (void *data, bool warning, const struct berth_error *e)
{
  struct check_ctx *x = data;

  check_add_error (x, warning ? CHECK_WARNING : CHECK_ERROR, e, NULL);
  return x->oom ? -1 : 0;
}

struct berth_reporter
check_reporter (struct check_ctx *x)
{
  return (struct berth_reporter){ .collect = collect, .data = x };
}
