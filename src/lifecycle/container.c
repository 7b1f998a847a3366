/* berth — the container after create: loading it (container_open), start,
 * kill and delete, with the poststart and poststop hooks.
 *
 * The container's cgroup is used through the driver its state recorded
 * (cgroup_driver_of), never the one this command's flags would choose.
 */
#include "lifecycle/container.h"
#include "lifecycle/container_priv.h"
#include "cgroup/cgroup.h"
#include "cgroup/driver.h"
#include "cleanup.h"
#include "init/hooks.h"
#include "fs/hostmounts.h"
#include "base/trace.h"
#include "base/log.h"
#include "lifecycle/notify.h"
#include "spec.h"
#include "lifecycle/state.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void thaw_if_frozen (const struct oci_berth_state *s);
static int start_loaded (const struct state_handle *h, const struct oci_berth_state *s,
                         const char *status, int opened, struct berth_error *err);

/* The container's cgroup as its state recorded it, and the driver that
   made it: the one every command after create uses. */
static int
saved_cgroup (const struct oci_berth_state *s, struct berth_cgroup *cg,
              const struct cgroup_driver **driver, struct berth_error *err)
{
  if (cgroup_from_strv (s->cgroups, s->cgroups_len, cg, err) < 0)
    return -1;
  *driver = cgroup_driver_of (cg);
  return 0;
}

/* The one way to load a container: lock, state, cgroup, status.  With
   cg NULL the cgroup is only consulted for the status. */
static int
open_container_state (const struct berth_runtime *rt, const char *id, struct state_handle *h,
                      struct oci_berth_state **s, struct berth_cgroup *cg,
                      const struct cgroup_driver **driver, const char **status,
                      struct berth_error *err)
{
  struct berth_cgroup local = { 0 };
  struct berth_cgroup *g = cg ? cg : &local;
  const struct cgroup_driver *d = NULL;

  if (state_open (rt->root, id, false, h, err) < 0 || state_load (h, s, err) < 0)
    return -1;
  *status = state_status (h, *s);
  /* Only a running container can be paused: start (created) and delete
     (stopped) read no freezer. */
  if (saved_cgroup (*s, g, &d, err) == 0)
    {
      if (strcmp (*status, "running") == 0 && d->is_frozen (g))
        *status = "paused";
    }
  else if (cg)
    return -1;
  cgroup_free (&local);
  if (driver)
    *driver = d;
  return 0;
}

int
container_load_with_status (const struct berth_runtime *rt, const char *id,
                            struct state_handle *h, struct oci_berth_state **s,
                            const char **status, struct berth_error *err)
{
  return open_container_state (rt, id, h, s, NULL, NULL, status, err);
}

int
container_open (const struct berth_runtime *rt, const char *id, struct container *c,
                struct berth_error *err)
{
  memset (c, 0, sizeof *c);
  c->state.root_fd = c->state.dir_fd = -1;
  if (open_container_state (rt, id, &c->state, &c->saved, &c->cgroup, &c->cgroup_driver,
                            &c->status, err) < 0)
    {
      container_close (c);
      return -1;
    }
  return 0;
}

void
container_close (struct container *c)
{
  cgroup_free (&c->cgroup);
  state_free (c->saved);
  c->saved = NULL;
  state_close (&c->state);
}

int
container_config (const struct container *c, struct oci_config **out, struct berth_error *err)
{
  if (c->saved->config == NULL)
    return berth_err (err, BERTH_E_STATE, "the state of container %s has no config",
                      c->saved->id);
  return oci_config_parse_data (c->saved->config, strlen (c->saved->config), out, err);
}

/* After the go-ahead the init runs startContainer hooks, drops privileges
   and execs; the fifo closes at execve (O_CLOEXEC), and anything written to
   it first is the init's error. */
static int
wait_for_exec (int fifo, struct berth_error *err)
{
  char msg[1200];
  size_t used = 0;
  int flags = fcntl (fifo, F_GETFL);

  fcntl (fifo, F_SETFL, flags & ~O_NONBLOCK);
  for (;;)
    {
      ssize_t n = read (fifo, msg + used, sizeof msg - 1 - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      used += (size_t) n;
      if (used == sizeof msg - 1)
        break;
    }
  if (used == 0)
    return 0;
  msg[used] = '\0';
  return berth_err (err, BERTH_E_CHILD, "the container's process did not start: %s", msg);
}

static int
saved_config (const struct oci_berth_state *s, struct oci_config **out, struct berth_error *err)
{
  *out = NULL;
  if (s->config == NULL)
    return 0;
  return oci_config_parse_data (s->config, strlen (s->config), out, err);
}

/* poststart: a failure stops the container (runtime-spec 1.3.0). */
static int
run_poststart (const struct oci_berth_state *s, int pidfd, struct berth_error *err)
{
  cleanup_config struct oci_config *c = NULL;
  cleanup_free char *state = NULL;

  if (s->config == NULL || strstr (s->config, "\"poststart\"") == NULL)
    return 0;
  if (saved_config (s, &c, err) < 0)
    return -1;
  if (c->hooks == NULL || c->hooks->poststart_len == 0)
    return 0;
  if (hooks_state_json (c, s->id, s->pid, s->bundle, "running", &state, err) < 0)
    return -1;
  if (hooks_run (c->hooks->poststart, c->hooks->poststart_len, "poststart", state, NULL, err) < 0)
    {
      if (pidfd >= 0)
        pidfd_signal (pidfd, SIGKILL);
      berth_err_prefix (err, "container stopped: ");
      return -1;
    }
  return 0;
}

/* poststop: after the container is gone.  A failing hook is a warning and
   the rest still run (runtime.md, lifecycle step 13). */
static void
run_poststop (const struct oci_berth_state *s)
{
  cleanup_config struct oci_config *c = NULL;
  cleanup_free char *state = NULL;
  struct berth_error err = { 0 };
  char line[1200];

  if (s->config == NULL || strstr (s->config, "\"poststop\"") == NULL)
    return;
  if (saved_config (s, &c, &err) < 0 || c->hooks == NULL || c->hooks->poststop_len == 0)
    return;
  if (hooks_state_json (c, s->id, 0, s->bundle, "stopped", &state, &err) < 0)
    {
      berth_warn ("%s", berth_err_format (&err, line, sizeof line));
      return;
    }
  for (size_t i = 0; i < c->hooks->poststop_len; i++)
    if (hooks_run_one (c->hooks->poststop, i, "poststop", state, NULL, &err) < 0)
      {
        berth_warn ("%s", berth_err_format (&err, line, sizeof line));
        err = (struct berth_error){ 0 };
      }
}

int
container_start (const struct berth_runtime *rt, const char *id, struct berth_error *err)
{
  /* First: its end comes after the cleanups below. */
  BERTH_TRACE_SCOPE ("start");
  cleanup_state_handle struct state_handle h = { -1, -1, NULL };
  cleanup_state struct oci_berth_state *s = NULL;
  const char *status;

  if (BERTH_TRACED ("state", container_load_with_status (rt, id, &h, &s, &status, err)) < 0)
    return -1;
  return start_loaded (&h, s, status, -1, err);
}

int
container_start_created (struct created *c, struct berth_error *err)
{
  BERTH_TRACE_SCOPE ("start");
  /* With the fifo open since create (start_early) the init may have run its
     program, and that may have exited, already: the container was created,
     and this is its start. */
  const char *status = c->start_fifo >= 0 ? "created" : state_status (&c->state, c->saved);
  int r = start_loaded (&c->state, c->saved, status, c->start_fifo, err);

  c->start_fifo = -1; /* start_loaded's now */
  created_release (c);
  return r;
}

void
created_release (struct created *c)
{
  state_free (c->saved);
  c->saved = NULL;
  state_close (&c->state);
  if (c->start_fifo >= 0)
    close (c->start_fifo);
  c->start_fifo = -1;
}

/* start, once the state is loaded and locked (h); `opened`: the exec fifo,
   which create opened for it (start_early), or -1. */
static int
start_loaded (const struct state_handle *h, const struct oci_berth_state *s, const char *status,
              int opened, struct berth_error *err)
{
  cleanup_close int fifo = opened;
  cleanup_close int pidfd = -1;
  cleanup_close int notify = -1;
  char byte;

  if (strcmp (status, "stopped") == 0)
    return berth_err (err, BERTH_E_STATE, "cannot start a container that has stopped");
  if (strcmp (status, "created") != 0)
    return berth_err (err, BERTH_E_STATE, "cannot start an already %s container", status);
  if (s->no_process)
    {
      berth_err_at (err, BERTH_E_MISSING, ".process",
                    "cannot start a container without a process (config.md: process is "
                    "required when start is called); remove it with delete --force");
      berth_err_set_source (err, "config.json");
      return -1;
    }
  /* run's early start: the init is berth's own child, not yet waited for,
     so its pid cannot be reused, and a pidfd of it is one even once it has
     exited (pidfd_for refuses a zombie): an init that died before it wrote
     to the fifo must end the wait below, not leave it blocked. */
  pidfd = opened >= 0 ? (int) syscall (SYS_pidfd_open, s->pid, 0)
                      : pidfd_for (s->pid, s->pid_start);
  if (s->notify_socket && notify_listen (h->dir_fd, &notify, err) < 0)
    return -1;
  if (fifo < 0 && (fifo = openat (h->dir_fd, EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
    return berth_err_sys (err, errno, "open exec fifo");
  struct berth_trace_span ready = berth_trace_begin ("wait for the init");
  for (;;)
    {
      struct pollfd fds[2] = { { fifo, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return berth_err_sys (err, errno, "wait for the container's init");
        }
      if (fds[0].revents & POLLIN)
        break;
      if (fds[1].revents || (fds[0].revents & POLLHUP))
        return berth_err (err, BERTH_E_STATE, "cannot start a container that has stopped");
    }
  if (read (fifo, &byte, 1) != 1)
    return berth_err_sys (err, errno, "read exec fifo");
  berth_trace_end (&ready);
  unlinkat (h->dir_fd, EXEC_FIFO, 0);
  if (BERTH_TRACED ("wait for execve", wait_for_exec (fifo, err)) < 0)
    return -1;
  if (notify >= 0 && notify_relay_ready (notify, s->notify_socket, s->pid, pidfd, err) < 0)
    return -1;
  return BERTH_TRACED ("hooks poststart", run_poststart (s, pidfd, err));
}

/* Every process of the cgroup, as runc's kill --all; a cgroup that is gone
   has none.  Without a cgroup, the init (runc fails there instead). */
static int
signal_all (const struct oci_berth_state *s, int sig, struct berth_error *err)
{
  struct berth_cgroup cg = { 0 };
  const struct cgroup_driver *driver;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  int r;

  if (saved_cgroup (s, &cg, &driver, err) < 0)
    return -1;
  r = driver->present (&cg, "", err) < 0 ? 1 : driver->pids (&cg, &pids, &n, err);
  cgroup_free (&cg);
  if (r > 0)
    {
      /* No cgroup (rootless): the init is all that is known; in a pid
         namespace of its own the rest die with it. */
      cleanup_close int pidfd = pidfd_for (s->pid, s->pid_start);
      *err = (struct berth_error){ 0 };
      if (pidfd >= 0 && pidfd_signal (pidfd, sig) < 0 && errno != ESRCH)
        return berth_err_sys (err, errno, "unable to signal init");
      return 0;
    }
  if (r < 0)
    return err->errnum == ENOENT ? 0 : -1;
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return berth_err_sys (err, errno, "signal process %d", (int) pids[i]);
  return 0;
}

int
container_kill (const struct berth_runtime *rt, const char *id, int sig, bool all,
                struct berth_error *err)
{
  cleanup_state_handle struct state_handle h = { -1, -1, NULL };
  cleanup_state struct oci_berth_state *s = NULL;
  cleanup_close int pidfd = -1;
  const char *status;

  if (container_load_with_status (rt, id, &h, &s, &status, err) < 0)
    return -1;
  /* runc signals what is left in the cgroup even once the init is gone:
     the children of an init that shared a pid namespace outlive it, and
     engines (containerd's shim) send KILL --all to end them. */
  if (strcmp (status, "stopped") == 0 && !all)
    return berth_err (err, BERTH_E_STATE, "container not running");
  if (all)
    {
      int r = signal_all (s, sig, err);
      if (r == 0 && sig == SIGKILL)
        thaw_if_frozen (s);
      return r;
    }
  pidfd = pidfd_for (s->pid, s->pid_start);
  if (pidfd < 0)
    return berth_err (err, BERTH_E_STATE, "container not running");
  if (pidfd_signal (pidfd, sig) < 0)
    {
      if (errno == ESRCH)
        return berth_err (err, BERTH_E_STATE, "container not running");
      return berth_err_sys (err, errno, "unable to signal init");
    }
  return 0;
}

/* A paused container's v1 freezer holds its tasks, SIGKILL included,
   until thawed (runc thaws too). */
static void
thaw_if_frozen (const struct oci_berth_state *s)
{
  struct berth_cgroup cg = { 0 };
  struct berth_error ignored = { 0 };
  const struct cgroup_driver *driver;

  if (saved_cgroup (s, &cg, &driver, &ignored) < 0)
    return;
  if (driver->is_frozen (&cg))
    (void) driver->freeze (&cg, false, &ignored);
  cgroup_free (&cg);
}

/* Without a pid namespace of its own (the host's, or one it joined), a
   container's processes do not die with its init. */
static bool
shares_pid_ns (const struct oci_berth_state *s)
{
  return s->host_pid_ns || s->joined_pid_ns;
}

/* What the cgroup still holds, SIGKILLed until it is empty: 2 s at most,
   so that delete, with the cgroup's removal after it, stays well inside
   the 10 s containerd's shim allows. */
static int
kill_leftovers (const struct oci_berth_state *s, struct berth_error *err)
{
  struct berth_cgroup cg = { 0 };
  const struct cgroup_driver *driver;
  int r;

  if (saved_cgroup (s, &cg, &driver, err) < 0)
    return -1;
  r = driver->kill_all (&cg, 2000, err);
  cgroup_free (&cg);
  if (r < 0)
    berth_err_prefix (err, "container %s: ", s->id);
  return r;
}

/* SIGKILL the init (and, when it shares a pid namespace, every process of
   the cgroup, since they do not die with it) and wait for it. */
static int
kill_and_wait (const struct oci_berth_state *s, struct berth_error *err)
{
  cleanup_close int pidfd = pidfd_for (s->pid, s->pid_start);
  struct pollfd p;

  if (shares_pid_ns (s) && kill_leftovers (s, err) < 0)
    return -1;
  if (pidfd < 0)
    return 0;
  if (pidfd_signal (pidfd, SIGKILL) < 0 && errno != ESRCH)
    return berth_err_sys (err, errno, "kill the container's init");
  thaw_if_frozen (s);
  p.fd = pidfd;
  p.events = POLLIN;
  if (poll (&p, 1, 10000) == 0)
    return berth_err (err, BERTH_E_STATE, "the container's init (pid %d) did not die in 10s",
                      (int) s->pid);
  return 0;
}
int
container_delete (const struct berth_runtime *rt, const char *id, bool force,
                  struct berth_error *err)
{
  /* First: its end comes after the cleanups below. */
  BERTH_TRACE_SCOPE ("delete");
  cleanup_state_handle struct state_handle h = { -1, -1, NULL };
  cleanup_state struct oci_berth_state *s = NULL;
  struct berth_cgroup cg = { 0 };
  const struct cgroup_driver *driver;
  const char *status;
  int r;

  if (BERTH_TRACED ("state", container_load_with_status (rt, id, &h, &s, &status, err)) < 0)
    {
      if (err->kind == BERTH_E_NOT_FOUND && force)
        return 0;
      if (force && h.dir_fd >= 0)
        {
          /* No usable state (an interrupted create, a corrupt file): remove
             what there is. */
          berth_warn ("container %s: %s; removing what it recorded", id, err->msg);
          records_remove_cgroup (&h);
          records_remove_host_mounts (&h);
          return state_remove (&h, err);
        }
      return -1;
    }
  /* runtime-spec: deleting a container that is not stopped MUST fail
     (runc also deletes "created" ones; engines pass --force for that). */
  if (strcmp (status, "stopped") != 0 && !force)
    return berth_err (err, BERTH_E_STATE,
                      "cannot delete container %s that is not stopped: %s (use --force)", id,
                      status);
  if (strcmp (status, "stopped") != 0 ? BERTH_TRACED ("kill", kill_and_wait (s, err)) < 0
                                      : shares_pid_ns (s) && kill_leftovers (s, err) < 0)
    return -1;
  /* With the driver that made it, whether or not this delete was given
     --systemd-cgroup: a systemd unit is stopped through systemd, so that it
     does not linger (failed) and the id can be used again. */
  if (saved_cgroup (s, &cg, &driver, err) < 0)
    return -1;
  r = BERTH_TRACED ("cgroup destroy", driver->destroy (&cg, false, err));
  cgroup_free (&cg);
  /* What create mounted in the host's namespace (no mount namespace). */
  if (r == 0 && s->host_mounts_len
      && hostmounts_unmount (s->host_mounts, s->host_mounts_len, err) < 0)
    r = -1;
  if (r < 0 || BERTH_TRACED ("state remove", state_remove (&h, err)) < 0)
    return -1;
  {
    BERTH_TRACE_SCOPE ("hooks poststop");
    run_poststop (s);
  }
  return 0;
}
