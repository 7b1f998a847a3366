/* The OOM watch and the `events` stream (see stats.h). */
#include "cleanup.h"
#include "base/log.h"
#include "cgroup/resources_priv.h"
#include "cgroup/stats.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

/* ---- OOM watch ------------------------------------------------------------------ */

static uint64_t
oom_kills (const char *events)
{
  cleanup_free char *text = NULL;
  const char *p;

  if (read_file_at (AT_FDCWD, events, &text, NULL, &(struct berth_error){ 0 }) < 0)
    return 0;
  for (p = text; p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, "oom_kill ", 9) == 0)
      return strtoull (p + 9, NULL, 10);
  return 0;
}

static int
watch_v1 (const char *dir, struct oom_watch *w, struct berth_error *err)
{
  cleanup_close int efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  cleanup_close int ofd = -1;
  char path[4096], line[64];

  snprintf (path, sizeof path, "%s/memory.oom_control", dir);
  if (efd < 0 || (ofd = open (path, O_RDONLY | O_CLOEXEC)) < 0)
    return berth_err_sys (err, errno, "open %s", path);
  snprintf (path, sizeof path, "%s/cgroup.event_control", dir);
  snprintf (line, sizeof line, "%d %d", efd, ofd);
  if (write_file_at (AT_FDCWD, path, line, strlen (line), err) < 0)
    return -1;
  /* The registration lives as long as the eventfd; ofd may go. */
  w->fd = steal_fd (&efd);
  return 0;
}

static int
watch_v2 (const char *dir, struct oom_watch *w, struct berth_error *err)
{
  cleanup_close int fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);

  if (fd < 0 || asprintf (&w->events, "%s/memory.events", dir) < 0)
    return berth_err_sys (err, fd < 0 ? errno : ENOMEM, "watch memory.events");
  if (inotify_add_watch (fd, w->events, IN_MODIFY) < 0)
    return berth_err_sys (err, errno, "watch %s", w->events);
  w->kills = oom_kills (w->events);
  w->fd = steal_fd (&fd);
  return 0;
}

int
oom_watch_open (const struct berth_cgroup *cg, struct oom_watch *w, struct berth_error *err)
{
  struct res_ctx c = { cg, false, err };
  struct res_ctl ctl;

  memset (w, 0, sizeof *w);
  w->fd = -1;
  if (res_locate (&c, "memory", "memory", JP ("memory"), &ctl) < 0)
    return -1;
  w->v2 = ctl.v2;
  return ctl.v2 ? watch_v2 (ctl.dir, w, err) : watch_v1 (ctl.dir, w, err);
}

uint64_t
oom_watch_read (struct oom_watch *w)
{
  char buf[4096];
  uint64_t n = 0, now;

  if (w->fd < 0)
    return 0;
  if (!w->v2) /* one event per notification, whatever the count (runc) */
    return read (w->fd, &n, sizeof n) == (ssize_t) sizeof n ? 1 : 0;
  while (read (w->fd, buf, sizeof buf) > 0)
    ;
  now = oom_kills (w->events);
  n = now > w->kills ? now - w->kills : 0;
  w->kills = now;
  return n;
}

void
oom_watch_close (struct oom_watch *w)
{
  if (w->fd >= 0)
    close (w->fd);
  free (w->events);
  w->fd = -1;
  w->events = NULL;
}

/* ---- the stream ---------------------------------------------------------------------- */

static int
print_line (char *json, struct berth_error *err)
{
  cleanup_free char *line = json;

  if (puts (line) < 0 || fflush (stdout) != 0)
    return berth_err_sys (err, errno, "write the event");
  return 0;
}

static int
print_stats (const struct berth_cgroup *cg, const char *id, struct berth_error *err)
{
  char *json = NULL;

  if (stats_event_json (cg, id, &json, err) < 0)
    return -1;
  return print_line (json, err);
}

static int
print_ooms (struct oom_watch *w, const char *id, struct berth_error *err)
{
  for (uint64_t n = oom_watch_read (w); n > 0; n--)
    {
      char *json = NULL;
      if (oom_event_json (id, &json, err) < 0 || print_line (json, err) < 0)
        return -1;
    }
  return 0;
}

static int
stream (const struct berth_cgroup *cg, const char *id, int pidfd, long interval_ms,
        struct berth_error *err)
{
  struct oom_watch w;
  struct berth_error werr = { 0 };
  long next = monotonic_ms () + interval_ms;
  int r = 0;

  if (oom_watch_open (cg, &w, &werr) < 0)
    {
      char line[1024];
      berth_warn ("no OOM events: %s", berth_err_format (&werr, line, sizeof line));
    }
  while (r == 0)
    {
      struct pollfd fds[2] = { { pidfd, POLLIN, 0 }, { w.fd, POLLIN, 0 } };
      long left = next - monotonic_ms ();
      if (left <= 0)
        {
          r = print_stats (cg, id, err);
          next += interval_ms;
          continue;
        }
      if (poll (fds, 2, (int) (left > 600000 ? 600000 : left)) < 0 && errno != EINTR)
        r = berth_err_sys (err, errno, "wait for events");
      else if (fds[1].revents & POLLIN)
        r = print_ooms (&w, id, err);
      else if (fds[0].revents)
        {
          /* The init is gone: report an OOM kill that took it, then stop. */
          r = print_ooms (&w, id, err);
          break;
        }
    }
  oom_watch_close (&w);
  return r;
}

int
container_events (const struct berth_runtime *rt, const char *id, long interval_ms,
                  bool stats_once, struct berth_error *err)
{
  __attribute__ ((cleanup (container_close))) struct container c = { 0 };
  __attribute__ ((cleanup (cgroup_free))) struct berth_cgroup cg = { 0 };
  cleanup_close int pidfd = -1;

  c.state.root_fd = c.state.dir_fd = -1;
  if (container_open (rt, id, &c, err) < 0)
    return -1;
  if (strcmp (c.status, "stopped") == 0)
    return berth_err (err, BERTH_E_STATE, "container with id %s is not running", id);
  if (c.cgroup_driver->present (&c.cgroup, stats_once ? "report its statistics"
                                                      : "report its events", err) < 0)
    return -1;
  /* Stream without the lock: other commands (kill, delete) must go on. */
  cg = c.cgroup;
  memset (&c.cgroup, 0, sizeof c.cgroup);
  pidfd = pidfd_for (c.saved->pid, c.saved->pid_start);
  container_close (&c);
  if (pidfd < 0)
    return berth_err (err, BERTH_E_STATE, "container with id %s is not running", id);
  if (stats_once)
    return print_stats (&cg, id, err);
  return stream (&cg, id, pidfd, interval_ms, err);
}
