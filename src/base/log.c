#include "base/log.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

/* Set once by main from the command line; read-only afterwards. */
static struct {
  int fd; /* -1: stderr */
  enum berth_log_format format;
  bool debug;
} log_cfg = { -1, BERTH_LOG_TEXT, false };

int
berth_log_setup (const char *file, enum berth_log_format format, bool debug,
                 struct berth_error *err)
{
  log_cfg.format = format;
  log_cfg.debug = debug;
  if (file && *file && strcmp (file, "/dev/stderr") != 0)
    {
      int fd = open (file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        return berth_err_sys (err, errno, "open log file %s", file);
      log_cfg.fd = fd;
    }
  return 0;
}

int
berth_log_fd (void)
{
  return log_cfg.fd;
}

bool
berth_log_debug_enabled (void)
{
  return log_cfg.debug;
}

static const char *
level_name (enum berth_log_level l)
{
  switch (l)
    {
    case BERTH_LOG_DEBUG:
      return "debug";
    case BERTH_LOG_INFO:
      return "info";
    case BERTH_LOG_WARNING:
      return "warning";
    default:
      return "error";
    }
}

/* `s` as the inside of a logfmt value, escaped as logrus' text formatter
   does (Go's %q): a quote, a backslash or a control character cannot end
   the value or the line.  Stops before `cap` without splitting an escape;
   returns the length written (no NUL). */
static size_t
logfmt_escape (char *out, size_t cap, const char *s)
{
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      char esc[5];
      size_t l;
      switch (*p)
        {
        case '"': l = (size_t) snprintf (esc, sizeof esc, "\\\""); break;
        case '\\': l = (size_t) snprintf (esc, sizeof esc, "\\\\"); break;
        case '\n': l = (size_t) snprintf (esc, sizeof esc, "\\n"); break;
        case '\r': l = (size_t) snprintf (esc, sizeof esc, "\\r"); break;
        case '\t': l = (size_t) snprintf (esc, sizeof esc, "\\t"); break;
        default:
          if (*p < 0x20 || *p == 0x7f)
            l = (size_t) snprintf (esc, sizeof esc, "\\x%02x", *p);
          else
            esc[0] = (char) *p, l = 1;
        }
      if (n + l > cap)
        break;
      memcpy (out + n, esc, l);
      n += l;
    }
  return n;
}

static void
emit (enum berth_log_level level, const char *msg)
{
  int fd = log_cfg.fd >= 0 ? log_cfg.fd : STDERR_FILENO;
  char now[48];
  int saved = errno;

  rfc3339_now (now, sizeof now);
  if (log_cfg.format == BERTH_LOG_JSON)
    {
      yajl_gen g = yajl_gen_alloc (NULL);
      const unsigned char *buf;
      size_t len;
      if (g == NULL)
        return;
      /* Keys in runc's (alphabetical) order. */
      yajl_gen_map_open (g);
      yajl_gen_string (g, (const unsigned char *) "level", 5);
      yajl_gen_string (g, (const unsigned char *) level_name (level), strlen (level_name (level)));
      yajl_gen_string (g, (const unsigned char *) "msg", 3);
      yajl_gen_string (g, (const unsigned char *) msg, strlen (msg));
      yajl_gen_string (g, (const unsigned char *) "time", 4);
      yajl_gen_string (g, (const unsigned char *) now, strlen (now));
      yajl_gen_map_close (g);
      if (yajl_gen_get_buf (g, &buf, &len) == yajl_gen_status_ok)
        {
          struct iovec iov[2] = { { (void *) buf, len }, { "\n", 1 } };
          if (writev (fd, iov, 2) < 0)
            {
              /* nothing more we can do */
            }
        }
      yajl_gen_free (g);
    }
  else if (log_cfg.fd >= 0)
    {
      char line[4096];
      int n = snprintf (line, sizeof line, "time=\"%s\" level=%s msg=\"", now,
                        level_name (level));
      if (n > 0 && (size_t) n < sizeof line)
        {
          size_t len = (size_t) n + logfmt_escape (line + n, sizeof line - (size_t) n - 2, msg);
          line[len++] = '"';
          line[len++] = '\n';
          (void) write_all (fd, line, len);
        }
    }
  else
    {
      char line[2048];
      int n = snprintf (line, sizeof line, "berth: %s%s\n",
                        level == BERTH_LOG_ERROR ? "" : level == BERTH_LOG_WARNING ? "warning: "
                                                                                    : "debug: ",
                        msg);
      if (n > 0)
        (void) write_all (fd, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
    }
  errno = saved;
}

void
berth_log (enum berth_log_level level, const char *fmt, ...)
{
  char msg[1536];
  va_list ap;

  if (level == BERTH_LOG_DEBUG && !log_cfg.debug)
    return;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  emit (level, msg);
}

void
berth_log_error (const char *msg)
{
  emit (BERTH_LOG_ERROR, msg);
  if (log_cfg.fd >= 0)
    {
      /* The engine reads the log; a person reads stderr. */
      char line[2048];
      int n = snprintf (line, sizeof line, "berth: %s\n", msg);
      if (n > 0)
        (void) write_all (STDERR_FILENO, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
    }
}
