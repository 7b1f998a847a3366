/* berth — a --trace file as text; see trace_summary.h. */
#include "base/trace_summary.h"
#include "cleanup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

struct ev {
  const char *name;
  char ph;
  double ts, dur; /* µs */
  long pid, cmd;
};

enum { NAME_COLUMN = 40 };

struct label {
  long pid;
  const char *name;
};

static const char *
str_at (yajl_val o, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val v = yajl_tree_get (o, path, yajl_t_string);
  return v ? YAJL_GET_STRING (v) : NULL;
}

static bool
num_at (yajl_val o, const char *k1, const char *k2, double *out)
{
  const char *path[] = { k1, k2, NULL };
  yajl_val v = yajl_tree_get (o, path, yajl_t_number);
  if (v == NULL)
    return false;
  *out = YAJL_GET_DOUBLE (v);
  return true;
}

static int
by_time (const void *a, const void *b)
{
  const struct ev *x = a, *y = b;
  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  /* The enclosing span first. */
  return x->dur > y->dur ? -1 : x->dur < y->dur;
}

static const char *
label_of (const struct label *l, size_t n, long pid)
{
  for (size_t i = n; i-- > 0;)
    if (l[i].pid == pid)
      return l[i].name;
  return "process";
}

/* The spans of one process within one command, nested by time. */
static void
print_process (FILE *out, const struct ev *e, size_t n, const struct ev *cmd, long pid, int indent)
{
  double open_end[64];
  int depth = 0;

  for (size_t i = 0; i < n; i++)
    {
      if (e[i].pid != pid || e[i].cmd != cmd->cmd || &e[i] == cmd || e[i].ts < cmd->ts
          || e[i].ts > cmd->ts + cmd->dur)
        continue;
      while (depth > 0 && e[i].ts >= open_end[depth - 1])
        depth--;
      /* The times in one column, whatever the depth. */
      int pad = indent + 2 * depth, width = pad < NAME_COLUMN - 8 ? NAME_COLUMN - pad : 8;
      if (e[i].ph == 'X')
        {
          fprintf (out, "%*s%-*s %9.2f ms %5.1f%%\n", pad, "", width, e[i].name,
                   e[i].dur / 1000, cmd->dur > 0 ? 100 * e[i].dur / cmd->dur : 0);
          if (depth < 64)
            open_end[depth++] = e[i].ts + e[i].dur;
        }
      else
        fprintf (out, "%*s%-*s @ +%.2f ms\n", pad, "", width, e[i].name,
                 (e[i].ts - cmd->ts) / 1000);
    }
}

static void
print_command (FILE *out, const struct ev *e, size_t n, const struct ev *cmd,
               const struct label *l, size_t nl)
{
  long seen[16];
  size_t ns = 0;

  fprintf (out, "%s (pid %ld): %.2f ms\n", cmd->name, cmd->pid, cmd->dur / 1000);
  print_process (out, e, n, cmd, cmd->pid, 2);
  for (size_t i = 0; i < n; i++)
    {
      bool done = e[i].pid == cmd->pid || e[i].cmd != cmd->cmd || e[i].ts < cmd->ts
                  || e[i].ts > cmd->ts + cmd->dur;
      for (size_t k = 0; !done && k < ns; k++)
        done = seen[k] == e[i].pid;
      if (done || ns == sizeof seen / sizeof seen[0])
        continue;
      seen[ns++] = e[i].pid;
      fprintf (out, "  [%s, pid %ld]\n", label_of (l, nl, e[i].pid), e[i].pid);
      print_process (out, e, n, cmd, e[i].pid, 4);
    }
}

int
trace_summary (const char *path, FILE *out, struct berth_error *err)
{
  cleanup_free char *text = NULL;
  cleanup_free struct ev *e = NULL;
  cleanup_free struct label *l = NULL;
  size_t len = 0, n = 0, nl = 0, commands = 0;
  char msg[256] = "";
  double total = 0;
  yajl_val root, list;
  FILE *f = fopen (path, "re");

  if (f == NULL)
    return berth_err_sys (err, errno, "open %s", path);
  text = malloc (1);
  {
    char buf[65536];
    size_t r;
    while ((r = fread (buf, 1, sizeof buf, f)) > 0)
      {
        char *t = realloc (text, len + r + 1);
        if (t == NULL)
          {
            fclose (f);
            return berth_err_sys (err, ENOMEM, "read %s", path);
          }
        text = t;
        memcpy (text + len, buf, r);
        len += r;
      }
  }
  fclose (f);
  if (text == NULL)
    return berth_err_sys (err, ENOMEM, "read %s", path);
  text[len] = '\0';
  root = yajl_tree_parse (text, msg, sizeof msg);
  if (root == NULL)
    return berth_err (err, BERTH_E_VALUE, "%s is not JSON: %s", path, msg);
  list = YAJL_IS_ARRAY (root) ? root
                              : yajl_tree_get (root, (const char *[]){ "traceEvents", NULL },
                                               yajl_t_array);
  if (list == NULL)
    {
      yajl_tree_free (root);
      return berth_err (err, BERTH_E_VALUE, "%s has no traceEvents array", path);
    }
  e = calloc (YAJL_GET_ARRAY (list)->len + 1, sizeof *e);
  l = calloc (YAJL_GET_ARRAY (list)->len + 1, sizeof *l);
  if (e == NULL || l == NULL)
    {
      yajl_tree_free (root);
      return berth_err_sys (err, ENOMEM, "read %s", path);
    }
  for (size_t i = 0; i < YAJL_GET_ARRAY (list)->len; i++)
    {
      yajl_val o = YAJL_GET_ARRAY (list)->values[i];
      const char *ph = str_at (o, "ph"), *name = str_at (o, "name");
      double pid = 0, ts = 0, dur = 0, cmd = -1;

      if (ph == NULL || name == NULL || !num_at (o, "pid", NULL, &pid))
        continue;
      if (ph[0] == 'M' && strcmp (name, "process_name") == 0)
        {
          yajl_val v = yajl_tree_get (o, (const char *[]){ "args", "name", NULL },
                                      yajl_t_string);
          if (v)
            l[nl++] = (struct label){ (long) pid, YAJL_GET_STRING (v) };
          continue;
        }
      if ((ph[0] != 'X' && ph[0] != 'i') || !num_at (o, "ts", NULL, &ts))
        continue;
      num_at (o, "dur", NULL, &dur);
      num_at (o, "args", "cmd", &cmd);
      e[n++] = (struct ev){ name, ph[0], ts, dur, (long) pid, (long) cmd };
    }
  qsort (e, n, sizeof *e, by_time);
  for (size_t i = 0; i < n; i++)
    if (e[i].ph == 'X' && e[i].pid == e[i].cmd && strncmp (e[i].name, "berth ", 6) == 0)
      {
        print_command (out, e, n, &e[i], l, nl);
        commands++;
        total += e[i].dur;
      }
  fprintf (out, "total: %zu command%s, %.2f ms\n", commands, commands == 1 ? "" : "s",
           total / 1000);
  yajl_tree_free (root);
  return 0;
}
