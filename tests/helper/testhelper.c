/* berth-testhelper: a static program copied into test rootfs trees to make
   observations busybox cannot.  One subcommand per observation; output is
   one line, easy to assert on.

     fds            open fds, excluding the one used to list them: "0 1 2"
     fdlink N       the target of fd N
     winsize        "ROWS COLS" of the terminal on stdin
     isatty         "1" if stdin is a terminal
     sleep-forever  block until killed (a stand-in init that ignores nothing)
*/
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static int
cmd_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *de;
  int own, first = 1;
  int fds[1024], n = 0;

  if (d == NULL)
    return perror ("opendir /proc/self/fd"), 1;
  own = dirfd (d);
  while ((de = readdir (d)) != NULL && n < 1024)
    {
      int fd;
      if (de->d_name[0] == '.')
        continue;
      fd = atoi (de->d_name);
      if (fd != own)
        fds[n++] = fd;
    }
  closedir (d);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (fds[j] < fds[i])
        {
          int t = fds[i];
          fds[i] = fds[j];
          fds[j] = t;
        }
  for (int i = 0; i < n; i++)
    {
      printf ("%s%d", first ? "" : " ", fds[i]);
      first = 0;
    }
  putchar ('\n');
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: berth-testhelper fds|fdlink N|winsize|isatty|sleep-forever\n");
      return 2;
    }
  if (strcmp (argv[1], "fds") == 0)
    return cmd_fds ();
  if (strcmp (argv[1], "fdlink") == 0 && argc > 2)
    {
      char path[64], target[PATH_MAX];
      ssize_t n;
      snprintf (path, sizeof path, "/proc/self/fd/%s", argv[2]);
      n = readlink (path, target, sizeof target - 1);
      if (n < 0)
        return perror (path), 1;
      target[n] = '\0';
      puts (target);
      return 0;
    }
  if (strcmp (argv[1], "winsize") == 0)
    {
      struct winsize ws;
      if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
        return perror ("TIOCGWINSZ"), 1;
      printf ("%u %u\n", ws.ws_row, ws.ws_col);
      return 0;
    }
  if (strcmp (argv[1], "isatty") == 0)
    {
      printf ("%d\n", isatty (STDIN_FILENO));
      return 0;
    }
  if (strcmp (argv[1], "sleep-forever") == 0)
    for (;;)
      pause ();
  fprintf (stderr, "berth-testhelper: unknown subcommand %s\n", argv[1]);
  return 2;
}
