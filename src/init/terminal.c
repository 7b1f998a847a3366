#include "init/terminal.h"
#include "base/sync.h"
#include "cleanup.h"
#include "base/log.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int
unix_send_fd (const char *socket_path, int fd, const char *payload, const char *what,
              struct berth_error *err)
{
  cleanup_close int s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  if (s < 0)
    return berth_err_sys (err, errno, "socket");
  if (strlen (socket_path) >= sizeof addr.sun_path)
    return berth_err (err, BERTH_E_VALUE, "%s path is too long: %s", what, socket_path);
  strcpy (addr.sun_path, socket_path);
  if (connect (s, (struct sockaddr *) &addr, sizeof addr) < 0)
    return berth_err_sys (err, errno, "connect to %s %s", what, socket_path);
  if (fd_send (s, fd, payload, strlen (payload)) < 0)
    return berth_err_sys (err, errno, "send a file descriptor over %s %s", what, socket_path);
  return 0;
}

int
terminal_send_fd (const char *socket_path, int fd, struct berth_error *err)
{
  /* The payload is the name runc sends; some consumers log it. */
  return unix_send_fd (socket_path, fd, "/dev/ptmx", "console socket", err);
}

static void
copy_winsize (int from, int to)
{
  struct winsize ws;
  if (ioctl (from, TIOCGWINSZ, &ws) == 0)
    ioctl (to, TIOCSWINSZ, &ws);
}

int
terminal_relay (int master, int pidfd, struct berth_error *err)
{
  struct termios saved, raw;
  bool restore = false;
  sigset_t mask;
  cleanup_close int sfd = -1;
  bool in_open = true;
  char buf[8192];

  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0)
    {
      raw = saved;
      cfmakeraw (&raw);
      if (tcsetattr (STDIN_FILENO, TCSANOW, &raw) == 0)
        restore = true;
      copy_winsize (STDIN_FILENO, master);
    }
  sigemptyset (&mask);
  sigaddset (&mask, SIGWINCH);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sfd = signalfd (-1, &mask, SFD_CLOEXEC);

  for (;;)
    {
      struct pollfd fds[4] = {
        { master, POLLIN, 0 },
        { in_open ? STDIN_FILENO : -1, POLLIN, 0 },
        { sfd, POLLIN, 0 },
        { pidfd, POLLIN, 0 },
      };
      if (poll (fds, 4, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          ssize_t n = read (master, buf, sizeof buf);
          if (n <= 0)
            break; /* EIO once every slave fd is closed */
          if (write_all (STDOUT_FILENO, buf, (size_t) n) < 0)
            break;
        }
      if (fds[1].revents & (POLLIN | POLLHUP))
        {
          ssize_t n = read (STDIN_FILENO, buf, sizeof buf);
          if (n <= 0)
            in_open = false;
          else
            (void) write_all (master, buf, (size_t) n);
        }
      if (fds[2].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof si) > 0)
            copy_winsize (STDIN_FILENO, master);
        }
      if ((fds[3].revents & POLLIN) && !(fds[0].revents & POLLIN))
        break;
    }
  if (restore)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved);
  sigprocmask (SIG_UNBLOCK, &mask, NULL);
  (void) err;
  return 0;
}
