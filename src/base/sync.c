#include "base/sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
sync_pair (int fds[2], struct berth_error *err)
{
  int one = 1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return berth_err_sys (err, errno, "socketpair");
  if (setsockopt (fds[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
    return berth_err_sys (err, errno, "setsockopt(SO_PASSCRED)");
  return 0;
}

int
fd_send (int sock, int fd, const void *data, size_t len)
{
  char cbuf[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { (void *) data, len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;

  memset (cbuf, 0, sizeof cbuf);
  if (fd >= 0)
    {
      struct cmsghdr *c;
      msg.msg_control = cbuf;
      msg.msg_controllen = sizeof cbuf;
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof fd);
    }
  do
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) len ? 0 : -1;
}

static int
send_msg (int sock, enum sync_kind kind, int value, const struct berth_error *e, int fd)
{
  struct sync_msg m;

  memset (&m, 0, sizeof m);
  m.kind = kind;
  m.value = value;
  if (e)
    m.err = *e;
  return fd_send (sock, fd, &m, sizeof m);
}

int
sync_send (int sock, enum sync_kind kind, const struct berth_error *e, int fd)
{
  return send_msg (sock, kind, 0, e, fd);
}

int
sync_send_value (int sock, enum sync_kind kind, int value)
{
  return send_msg (sock, kind, value, NULL, -1);
}

int
sync_recv (int sock, struct sync_msg *m, int *fd, pid_t *pid, struct berth_error *err)
{
  char cbuf[CMSG_SPACE (sizeof (int)) + CMSG_SPACE (sizeof (struct ucred))];
  struct iovec iov = { m, sizeof *m };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf };
  ssize_t n;

  if (fd)
    *fd = -1;
  bool reset = false;

  /* A peer that exits with our message unread in its queue (GO sent ahead,
     and its error sent back) reports ECONNRESET once, before what it
     wrote: read on. */
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && (errno == EINTR || (errno == ECONNRESET && !reset && (reset = true))));
  if (n < 0)
    return berth_err_sys (err, errno, "read from the container's init");
  if (n == 0)
    return berth_err (err, BERTH_E_CHILD, "the container's init exited before it was set up");
  if (n != (ssize_t) sizeof *m)
    return berth_err (err, BERTH_E_CHILD, "short message from the container's init");
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    {
      if (c->cmsg_level != SOL_SOCKET)
        continue;
      if (c->cmsg_type == SCM_RIGHTS)
        {
          int got;
          memcpy (&got, CMSG_DATA (c), sizeof got);
          if (fd)
            *fd = got;
          else
            close (got);
        }
      else if (c->cmsg_type == SCM_CREDENTIALS && pid)
        {
          struct ucred cred;
          memcpy (&cred, CMSG_DATA (c), sizeof cred);
          *pid = cred.pid;
        }
    }
  return 0;
}

int
sync_expect (int sock, enum sync_kind want, int *fd, pid_t *pid, struct berth_error *err)
{
  return sync_expect_value (sock, want, fd, pid, NULL, err);
}

int
sync_expect_value (int sock, enum sync_kind want, int *fd, pid_t *pid, int *value,
                   struct berth_error *err)
{
  struct sync_msg m;
  if (sync_recv (sock, &m, fd, pid, err) < 0)
    return -1;
  if (m.kind == SYNC_ERROR)
    {
      *err = m.err;
      return -1;
    }
  if (m.kind != want)
    return berth_err (err, BERTH_E_CHILD, "unexpected message %d from the container's init (wanted %d)",
                      (int) m.kind, (int) want);
  if (value)
    *value = m.value;
  return 0;
}
