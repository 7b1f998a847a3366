/* e2e-notify: send one sd_notify datagram (argv[1], e.g. "READY=1") to the
   socket named by $NOTIFY_SOCKET, as systemd-notify would.  Built static by
   tests/e2e/conftest.py and copied into the e2e image, which has no
   systemd-notify of its own (busybox cannot send unix datagrams). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  const char *path = getenv ("NOTIFY_SOCKET");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  socklen_t len;
  int fd;

  if (argc != 2 || path == NULL || path[0] == '\0' || strlen (path) >= sizeof sa.sun_path)
    {
      fprintf (stderr, "usage: NOTIFY_SOCKET=PATH e2e-notify MESSAGE\n");
      return 2;
    }
  memcpy (sa.sun_path, path, strlen (path));
  if (sa.sun_path[0] == '@')
    sa.sun_path[0] = '\0';
  len = offsetof (struct sockaddr_un, sun_path) + strlen (path);
  fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || sendto (fd, argv[1], strlen (argv[1]), 0, (struct sockaddr *) &sa, len) < 0)
    {
      perror ("e2e-notify");
      return 1;
    }
  return 0;
}
