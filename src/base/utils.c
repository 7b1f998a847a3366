#include "base/utils.h"
#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

ssize_t
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  size_t left = len;
  while (left > 0)
    {
      ssize_t n = write (fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      left -= (size_t) n;
    }
  return (ssize_t) len;
}

int
write_file_at (int dirfd, const char *path, const char *data, size_t len,
               struct berth_error *err)
{
  cleanup_close int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return berth_err_sys (err, errno, "open %s", path);
  if (write_all (fd, data, len) < 0)
    return berth_err_sys (err, errno, "write %s", path);
  return 0;
}

int
write_file_atomic (int dirfd, const char *name, const char *data, size_t len, mode_t mode,
                   struct berth_error *err)
{
  char tmp[256];
  cleanup_close int fd = -1;

  snprintf (tmp, sizeof tmp, ".%s.tmp", name);
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return berth_err_sys (err, errno, "create %s", tmp);
  /* No fsync: the rename is what makes readers see old or new, never a
     mix, and state under /run does not outlive a crash anyway. */
  if (write_all (fd, data, len) < 0)
    {
      berth_err_sys (err, errno, "write %s", tmp);
      unlinkat (dirfd, tmp, 0);
      return -1;
    }
  if (renameat (dirfd, tmp, dirfd, name) < 0)
    {
      berth_err_sys (err, errno, "rename %s to %s", tmp, name);
      unlinkat (dirfd, tmp, 0);
      return -1;
    }
  return 0;
}

int
read_file_at (int dirfd, const char *path, char **out, size_t *len, struct berth_error *err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = NULL;
  size_t used = 0, cap = 0;

  if (fd < 0)
    return berth_err_sys (err, errno, "open %s", path);
  for (;;)
    {
      ssize_t n;
      if (cap - used < 1024)
        {
          char *nb = realloc (buf, cap = cap ? cap * 2 : 4096);
          if (nb == NULL)
            return berth_err_sys (err, ENOMEM, "out of memory");
          buf = nb;
        }
      n = read (fd, buf + used, cap - used - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return berth_err_sys (err, errno, "read %s", path);
      if (n == 0)
        break;
      used += (size_t) n;
    }
  buf[used] = '\0';
  if (len)
    *len = used;
  *out = steal_pointer (&buf);
  return 0;
}

int
mkdir_p (const char *path, mode_t mode, struct berth_error *err)
{
  cleanup_free char *copy = strdup (path);
  if (copy == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  for (char *p = copy + 1;; p++)
    {
      if (*p == '/' || *p == '\0')
        {
          char saved = *p;
          *p = '\0';
          if (mkdir (copy, mode) < 0 && errno != EEXIST)
            return berth_err_sys (err, errno, "mkdir %s", copy);
          *p = saved;
          if (saved == '\0')
            break;
        }
    }
  return 0;
}


int
write_pid_file (const char *path, pid_t pid, struct berth_error *err)
{
  cleanup_free char *copy = strdup (path);
  cleanup_close int dirfd = -1;
  char buf[32], *slash;
  int n = snprintf (buf, sizeof buf, "%d", (int) pid); /* no newline, as runc */

  if (copy == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  slash = strrchr (copy, '/');
  if (slash)
    *slash = '\0';
  dirfd = open (slash ? (slash == copy ? "/" : copy) : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return berth_err_sys (err, errno, "directory of pid file %s", path);
  return write_file_atomic (dirfd, slash ? slash + 1 : copy, buf, (size_t) n, 0644, err);
}

ssize_t
read_small (const char *path, char *buf, size_t size)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = -1;

  while (fd >= 0 && (n = read (fd, buf, size - 1)) < 0 && errno == EINTR)
    ;
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return n;
}

/* A decimal number after optional blanks, *p moved past it.  Not sscanf:
   these run on every command, and vfscanf is a large part of libc to
   bring into memory for two numbers. */
static bool
parse_ulong (const char **p, unsigned long long *out)
{
  char *end;

  *p += strspn (*p, " \t");
  if (!isdigit ((unsigned char) **p))
    return false;
  errno = 0;
  *out = strtoull (*p, &end, 10);
  if (errno != 0)
    return false;
  *p = end;
  return true;
}

int
proc_stat (pid_t pid, uint64_t *start_time, char *state)
{
  char path[64], buf[1024];
  char *p;
  unsigned long long st = 0;

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (read_small (path, buf, sizeof buf) <= 0)
    {
      errno = ESRCH;
      return -1;
    }
  /* The command name may contain spaces and parentheses: parse after the
     last ')'.  Then: state(3) ... starttime(22). */
  p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    {
      errno = EINVAL;
      return -1;
    }
  p += 2;
  if (state)
    *state = *p;
  for (int field = 3; field < 22 && p; field++)
    {
      p = strchr (p, ' ');
      if (p)
        p++;
    }
  if (p == NULL || !parse_ulong ((const char **) &p, &st))
    {
      errno = EINVAL;
      return -1;
    }
  if (start_time)
    *start_time = st;
  return 0;
}

int
pidfd_for (pid_t pid, uint64_t start_time)
{
  uint64_t st;
  char state;
  int fd;

  if (pid <= 0)
    return -1;
  fd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return -1;
  /* Checked after opening: from here on the pidfd pins this process, so a
     matching start time means it is ours and cannot be recycled under us. */
  if (proc_stat (pid, &st, &state) < 0 || st != start_time || state == 'Z' || state == 'X')
    {
      close (fd);
      errno = ESRCH;
      return -1;
    }
  return fd;
}

void
rfc3339_now (char *buf, size_t len)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  rfc3339_format (&ts, buf, len);
}

void
rfc3339_format (const struct timespec *ts, char *buf, size_t len)
{
  long long days, rem, era, doe, yoe, doy, mp, y;
  unsigned m, d;

  /* UTC by hand: glibc's gmtime_r and strftime both call tzset(), which
     reads /etc/localtime, for a time that is UTC anyway.  The civil date of
     a day count, with eras of 400 years starting on 1 March. */
  days = ts->tv_sec / 86400;
  rem = ts->tv_sec % 86400;
  if (rem < 0)
    rem += 86400, days--;
  days += 719468; /* 1970-01-01 -> 0000-03-01 */
  era = (days >= 0 ? days : days - 146096) / 146097;
  doe = days - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = (unsigned) (doy - (153 * mp + 2) / 5 + 1);
  m = (unsigned) (mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
  snprintf (buf, len, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09ldZ", y, m, d, rem / 3600,
            rem / 60 % 60, rem % 60, ts->tv_nsec);
}

int
parse_signal (const char *s, int *sig)
{
  static const struct {
    const char *name;
    int sig;
  } names[] = {
    { "HUP", SIGHUP },   { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
    { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
    { "FPE", SIGFPE },   { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
    { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
    { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },   { "STOP", SIGSTOP },
    { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },
    { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
    { "WINCH", SIGWINCH }, { "IO", SIGIO },       { "POLL", SIGPOLL },   { "PWR", SIGPWR },
    { "SYS", SIGSYS },
  };
  const char *name = s;
  char *end;

  if (isdigit ((unsigned char) s[0]))
    {
      long v = strtol (s, &end, 10);
      if (*end || v < 0 || v > SIGRTMAX)
        return -1;
      *sig = (int) v;
      return 0;
    }
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp (name, names[i].name) == 0)
      {
        *sig = names[i].sig;
        return 0;
      }
  if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0)
    {
      bool min = strncasecmp (name, "RTMIN", 5) == 0;
      long off = 0;
      if (name[5] == '+' || name[5] == '-')
        {
          off = strtol (name + 5, &end, 10);
          if (*end)
            return -1;
        }
      else if (name[5])
        return -1;
      off += min ? SIGRTMIN : SIGRTMAX;
      if (off < SIGRTMIN || off > SIGRTMAX)
        return -1;
      *sig = (int) off;
      return 0;
    }
  return -1;
}

long
monotonic_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

bool
is_procfs_root (int fd)
{
  struct statfs sfs;
  struct stat st;
  return fstatfs (fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC && fstat (fd, &st) == 0
         && st.st_ino == 1;
}

#ifdef BERTH_TEST_HOOKS
void
test_stop_at (const char *phase)
{
  const char *want = getenv ("BERTH_TEST_STOP_AT");
  if (want && strcmp (want, phase) == 0)
    raise (SIGSTOP);
}
#endif

void
mountinfo_unescape (char *s)
{
  char *w = s;
  for (; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0'
          && s[3] <= '7')
        {
          *w++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
          s += 3;
        }
      else
        *w++ = *s;
    }
  *w = '\0';
}

/* runc's test: any /proc/self/uid_map but the initial namespace's
   identity map ("0 0 4294967295") is a user namespace's. */
bool
running_in_user_ns (void)
{
  char buf[128];
  const char *p = buf;
  unsigned long long a, b, c;
  ssize_t n = read_small ("/proc/self/uid_map", buf, sizeof buf);

  if (n <= 0)
    return false;
  if (!parse_ulong (&p, &a) || !parse_ulong (&p, &b) || !parse_ulong (&p, &c))
    return false;
  return !(a == 0 && b == 0 && c == 4294967295UL && strchr (buf, '\n') == buf + n - 1);
}

pid_t
clone_into_cgroup (unsigned long flags, int cgroup_fd)
{
  struct clone_args args = {
    .flags = (uint64_t) flags | CLONE_INTO_CGROUP,
    .exit_signal = SIGCHLD,
    .cgroup = (uint64_t) cgroup_fd,
  };

  return (pid_t) syscall (SYS_clone3, &args, sizeof args);
}
