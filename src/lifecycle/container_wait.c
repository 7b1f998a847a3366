/* berth — the foreground wait of `run`: signals forwarded to the init, the
 * pty relayed, the init's exit status returned. */
#include "lifecycle/container.h"
#include "base/trace.h"
#include "lifecycle/container_priv.h"
#include "cleanup.h"
#include "init/terminal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int
container_wait (pid_t pid, int console, struct berth_error *err)
{
  static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
  cleanup_close int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  cleanup_close int sfd = -1;
  sigset_t mask;
  int status = 0;
  BERTH_TRACE_SCOPE ("wait");

  if (pidfd < 0)
    return berth_err_sys (err, errno, "watch the container's init");
  sigemptyset (&mask);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    sigaddset (&mask, forwarded[i]);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  if (console >= 0)
    terminal_relay (console, pidfd, err);
  for (;;)
    {
      struct pollfd fds[2] = { { pidfd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
      struct signalfd_siginfo si;
      if (poll (fds, 2, -1) < 0 && errno != EINTR)
        return berth_err_sys (err, errno, "wait for the container");
      while (read (sfd, &si, sizeof si) == (ssize_t) sizeof si)
        pidfd_signal (pidfd, (int) si.ssi_signo);
      if (fds[0].revents & POLLIN)
        break;
    }
  if (waitpid (pid, &status, 0) < 0)
    return berth_err_sys (err, errno, "wait for the container's init");
  sigprocmask (SIG_UNBLOCK, &mask, NULL);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}
