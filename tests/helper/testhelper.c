/* berth-testhelper: a static program copied into test rootfs trees to make
   observations busybox cannot.  One subcommand per observation; output is
   one line, easy to assert on.

     fds            open fds, excluding the one used to list them: "0 1 2"
     fdlink N       the target of fd N
     winsize        "ROWS COLS" of the terminal on stdin
     isatty         "1" if stdin is a terminal
     sd-notify MSG  send MSG to $NOTIFY_SOCKET
     sleep-forever  block until killed (a stand-in init that ignores nothing)
     no-clone3 CMD [ARG...]
                    exec CMD with a seccomp filter on which clone3 fails
                    with ENOSYS, as some engines' profiles have it (x86-64)
     syscall NAME|NUMBER [ARG...]
                    the raw system call NAME (from a fixed table) with up to
                    six integer arguments (default 0; "-1" allowed): "ok RET"
                    or "errno N ENAME"; exit 0 either way (seccomp tests)
*/
#define _GNU_SOURCE /* strerrorname_np */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/un.h>
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

/* The calls the seccomp tests make; numbers from this machine's headers. */
static const struct { const char *name; long nr; } syscalls[] = {
  { "add_key", SYS_add_key }, { "getpid", SYS_getpid }, { "getppid", SYS_getppid },
  { "io_uring_setup", SYS_io_uring_setup }, { "kexec_load", SYS_kexec_load },
  { "mincore", SYS_mincore }, { "personality", SYS_personality }, { "socket", SYS_socket },
  { "sysfs", SYS_sysfs }, { "userfaultfd", SYS_userfaultfd }, { "vmsplice", SYS_vmsplice },
};

static int
cmd_syscall (int argc, char **argv)
{
  long args[6] = { 0 }, r, nr;
  char *end;

  /* NAME from the table, or a number (one no kernel has, say). */
  nr = strtol (argv[0], &end, 0);
  if (*argv[0] == '\0' || *end != '\0')
    nr = -1;
  for (size_t i = 0; nr < 0 && i < sizeof syscalls / sizeof syscalls[0]; i++)
    if (strcmp (argv[0], syscalls[i].name) == 0)
      nr = syscalls[i].nr;
  if (nr < 0)
    {
      fprintf (stderr, "berth-testhelper: syscall %s is not in the table\n", argv[0]);
      return 2;
    }
  for (int k = 1; k < argc && k <= 6; k++)
    args[k - 1] = (long) strtoull (argv[k], NULL, 0);
  errno = 0;
  r = syscall (nr, args[0], args[1], args[2], args[3], args[4], args[5]);
  if (r < 0)
    {
      const char *name = strerrorname_np (errno);
      printf ("errno %d %s\n", errno, name ? name : "?");
    }
  else
    printf ("ok %ld\n", r);
  return 0;
}

/* Send MSG to $NOTIFY_SOCKET, as sd_notify(3) does. */
static int
cmd_sd_notify (const char *msg)
{
  const char *path = getenv ("NOTIFY_SOCKET");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int s;

  if (path == NULL)
    return fprintf (stderr, "NOTIFY_SOCKET is not set\n"), 1;
  snprintf (addr.sun_path, sizeof addr.sun_path, "%s", path);
  s = socket (AF_UNIX, SOCK_DGRAM, 0);
  if (s < 0 || sendto (s, msg, strlen (msg), 0, (struct sockaddr *) &addr, sizeof addr) < 0)
    return perror ("sd-notify"), 1;
  return 0;
}

static int
cmd_no_clone3 (char **argv)
{
#if defined(__x86_64__) && defined(__NR_clone3)
  struct sock_filter f[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { sizeof f / sizeof f[0], f };

  if (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
    return perror ("seccomp"), 1;
  execvp (argv[0], argv);
  return perror (argv[0]), 127;
#else
  (void) argv;
  fputs ("no-clone3: x86-64 only\n", stderr);
  return 2;
#endif
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: berth-testhelper fds|fdlink N|winsize|isatty|sleep-forever|"
                       "syscall NAME [ARG...]\n");
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
  if (strcmp (argv[1], "syscall") == 0 && argc > 2)
    return cmd_syscall (argc - 2, argv + 2);
  if (strcmp (argv[1], "sd-notify") == 0 && argc > 2)
    return cmd_sd_notify (argv[2]);
  if (strcmp (argv[1], "no-clone3") == 0 && argc > 2)
    return cmd_no_clone3 (argv + 2);
  if (strcmp (argv[1], "sleep-forever") == 0)
    for (;;)
      pause ();
  fprintf (stderr, "berth-testhelper: unknown subcommand %s\n", argv[1]);
  return 2;
}
