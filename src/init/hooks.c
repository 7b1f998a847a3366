#include "init/hooks.h"
#include "cleanup.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
hooks_state_json (const struct oci_config *c, const char *id, pid_t pid, const char *bundle,
                  const char *status, char **out, struct berth_error *err)
{
  struct oci_state s = { 0 };

  OCI_SET (&s, oci_version, OCI_SPEC_VERSION);
  OCI_SET (&s, id, (char *) id);
  OCI_SET (&s, status, (char *) status);
  if (pid > 0)
    OCI_SET (&s, pid, pid);
  OCI_SET (&s, bundle, (char *) bundle);
  if (c->annotations_len)
    {
      s.annotations_keys = c->annotations_keys;
      s.annotations_len = c->annotations_len;
      OCI_SET (&s, annotations, c->annotations);
    }
  return oci_emit (&oci_type_state, &s, NULL, out, NULL, err);
}

static long
ms_since (const struct timespec *t0)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Run one hook; its stdout and stderr are collected (the tail is kept for
   the error message). */
static int
run_one (const struct oci_hook *h, const char *jpath, const char *state_json, const char *cwd,
         struct berth_error *err)
{
  int in[2], out[2];
  char tail[512] = "";
  size_t tail_len = 0;
  cleanup_close int pidfd = -1;
  struct timespec t0;
  long limit_ms = h->has_timeout ? (long) h->timeout * 1000 : -1;
  bool timed_out = false;
  int status = 0;
  pid_t pid;

  if (pipe2 (in, O_CLOEXEC) < 0)
    return berth_err_sys (err, errno, "pipe");
  if (pipe2 (out, O_CLOEXEC) < 0)
    {
      close (in[0]);
      close (in[1]);
      return berth_err_sys (err, errno, "pipe");
    }
  pid = fork ();
  if (pid < 0)
    {
      close (in[0]), close (in[1]), close (out[0]), close (out[1]);
      return berth_err_sys (err, errno, "fork hook %s", h->path);
    }
  if (pid == 0)
    {
      char *argv0[] = { h->path, NULL };
      char *noenv[] = { NULL };
      dup2 (in[0], STDIN_FILENO);
      dup2 (out[1], STDOUT_FILENO);
      dup2 (out[1], STDERR_FILENO);
      if (cwd && chdir (cwd) < 0)
        {
          dprintf (STDERR_FILENO, "cannot change to %s: %s", cwd, strerror (errno));
          _exit (127);
        }
      execve (h->path, h->args_len ? h->args : argv0, h->env_len ? h->env : noenv);
      dprintf (STDERR_FILENO, "cannot execute %s: %s", h->path, strerror (errno));
      _exit (127);
    }
  close (in[0]);
  close (out[1]);
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  /* A hook that does not read its stdin must not block us: the state is
     small enough for the pipe buffer, and EPIPE is ignored. */
  signal (SIGPIPE, SIG_IGN);
  (void) write_all (in[1], state_json, strlen (state_json));
  close (in[1]);

  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (bool open_out = true; open_out;)
    {
      struct pollfd p = { out[0], POLLIN, 0 };
      long left = limit_ms < 0 ? -1 : limit_ms - ms_since (&t0);
      char buf[512];
      ssize_t n;
      int r;

      if (limit_ms >= 0 && left <= 0)
        {
          timed_out = true;
          break;
        }
      r = poll (&p, 1, (int) left);
      if (r < 0 && errno == EINTR)
        continue;
      if (r == 0)
        continue;
      n = read (out[0], buf, sizeof buf);
      if (n <= 0)
        break;
      /* keep the last bytes */
      if ((size_t) n >= sizeof tail - 1)
        {
          memcpy (tail, buf + n - (sizeof tail - 1), sizeof tail - 1);
          tail_len = sizeof tail - 1;
        }
      else
        {
          if (tail_len + (size_t) n > sizeof tail - 1)
            {
              size_t drop = tail_len + (size_t) n - (sizeof tail - 1);
              memmove (tail, tail + drop, tail_len - drop);
              tail_len -= drop;
            }
          memcpy (tail + tail_len, buf, (size_t) n);
          tail_len += (size_t) n;
        }
      tail[tail_len] = '\0';
    }
  close (out[0]);
  if (timed_out)
    {
      if (pidfd >= 0)
        syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
      waitpid (pid, NULL, 0);
      return berth_err_at (err, BERTH_E_CHILD, jpath, "hook %s timed out after %d s", h->path,
                           (int) h->timeout);
    }
  /* The output closed, but the hook may have left a child holding it; wait
     within the remaining time only. */
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  for (char *p = tail; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  if (WIFSIGNALED (status))
    return berth_err_at (err, BERTH_E_CHILD, jpath, "hook %s killed by signal %d%s%s", h->path,
                         WTERMSIG (status), tail[0] ? ": " : "", tail);
  if (WEXITSTATUS (status) != 0)
    return berth_err_at (err, BERTH_E_CHILD, jpath, "hook %s exited with status %d%s%s",
                         h->path, WEXITSTATUS (status), tail[0] ? ": " : "", tail);
  return 0;
}

int
hooks_run_one (const struct oci_hook *hooks, size_t i, const char *kind, const char *state_json,
               const char *cwd, struct berth_error *err)
{
  char jpath[64];
  snprintf (jpath, sizeof jpath, ".hooks.%s[%zu]", kind, i);
  if (run_one (&hooks[i], jpath, state_json, cwd, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      return -1;
    }
  return 0;
}

int
hooks_run (const struct oci_hook *hooks, size_t n, const char *kind, const char *state_json,
           const char *cwd, struct berth_error *err)
{
  for (size_t i = 0; i < n; i++)
    if (hooks_run_one (hooks, i, kind, state_json, cwd, err) < 0)
      return -1;
  return 0;
}
