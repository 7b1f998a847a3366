/* Unit tests for the process' scheduling (scheduling.h), personality
   (process.h), the /proc attr writer of the labels (lsm.h) and the last
   stage's fd closing (laststage.h).  The
   over-mount scenario needs root and runs in a child with its own mount
   namespace, so nothing reaches the host. */
#include "cleanup.h"
#include "base/utils.h"
#include "security/lsm.h"
#include "init/laststage.h"
#include "init/process.h"
#include "init/scheduling.h"
#include "security/seccomp.h"
#include "spec.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static bool
cpus_are (const struct cpu_list *l, const char *want)
{
  /* want: '1' or '0' per CPU from 0, and nothing set beyond it */
  size_t n = strlen (want);
  for (size_t c = 0; c < l->size * 8; c++)
    if ((CPU_ISSET_S (c, l->size, l->set) != 0) != (c < n && want[c] == '1'))
      return false;
  return true;
}

static void
test_cpu_lists (void)
{
  static const char *const bad[] = { "0-x", "3-1", "-1", "65537", ",", " , ", "1-", "a", "1-2-3" };
  struct cpu_list l;
  struct berth_error e = { 0 };

  tap_ok (cpu_list_parse ("0-1,3", ".x", &l, &e) == 0 && cpus_are (&l, "1101"), "\"0-1,3\"");
  cpu_list_free (&l);
  tap_ok (cpu_list_parse (" 2 ,, 0 ", ".x", &l, &e) == 0 && cpus_are (&l, "101"),
          "spaces and empty elements are allowed, as in runc");
  cpu_list_free (&l);
  tap_ok (cpu_list_parse ("", ".x", &l, &e) == 0 && l.set == NULL, "\"\" is not set");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      e = (struct berth_error){ 0 };
      tap_ok (cpu_list_parse (bad[i], ".p.initial", &l, &e) < 0
                  && strcmp (e.path, ".p.initial") == 0 && l.set == NULL,
              "\"%s\" refused at its path (%s)", bad[i], e.msg);
    }
}

static int
plan (struct oci_scheduler *s, struct oci_io_priority *io, struct sched_plan *sp,
      struct berth_error *e)
{
  struct oci_process p = { .scheduler = s, .io_priority = io };
  *e = (struct berth_error){ 0 };
  return sched_plan_make (&p, ".process", sp, e);
}

static void
test_sched_rules (void)
{
  struct sched_plan sp;
  struct berth_error e;
  char *fifo_flags[] = { "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_KEEP_PARAMS" };
  char *bad_flag[] = { "SCHED_FLAG_NOPE" };
  struct oci_scheduler s;
  struct oci_io_priority io;

  s = (struct oci_scheduler){ .policy = "SCHED_FIFO", .priority = 10, .has_priority = true,
                              .flags = fifo_flags, .flags_len = 2 };
  tap_ok (plan (&s, NULL, &sp, &e) == 0 && sp.has_sched && sp.attr.sched_policy == SCHED_FIFO
              && sp.attr.sched_priority == 10 && sp.attr.sched_flags == 0x11
              && sp.attr.size == sizeof sp.attr && !sp.has_ioprio,
          "SCHED_FIFO 10 with two flags");
  s = (struct oci_scheduler){ .policy = "SCHED_DEADLINE", .runtime = 42000, .deadline = 1000000,
                              .period = 1000000 };
  tap_ok (plan (&s, NULL, &sp, &e) == 0 && sp.attr.sched_policy == 6
              && sp.attr.sched_runtime == 42000 && sp.attr.sched_period == 1000000,
          "SCHED_DEADLINE keeps runtime/deadline/period");

  /* runc's validator.go scheduler(), and the kernel's FIFO/RR range. */
  struct {
    struct oci_scheduler s;
    const char *path;
  } refused[] = {
    { { .policy = "SCHED_OTHER", .nice = 20, .has_nice = true }, ".process.scheduler.nice" },
    { { .policy = "SCHED_BATCH", .nice = -21, .has_nice = true }, ".process.scheduler.nice" },
    { { .policy = "SCHED_OTHER", .priority = 1, .has_priority = true },
      ".process.scheduler.priority" },
    { { .policy = "SCHED_DEADLINE", .priority = 1, .has_priority = true },
      ".process.scheduler.priority" },
    { { .policy = "SCHED_RR", .priority = 1, .has_priority = true, .runtime = 5 },
      ".process.scheduler.runtime" },
    { { .policy = "SCHED_IDLE", .period = 5 }, ".process.scheduler.period" },
    { { .policy = "SCHED_FIFO" }, ".process.scheduler.priority" },
    { { .policy = "SCHED_RR", .priority = 100, .has_priority = true },
      ".process.scheduler.priority" },
    { { .policy = "SCHED_NOPE" }, ".process.scheduler.policy" },
    { { .policy = "SCHED_OTHER", .flags = bad_flag, .flags_len = 1 },
      ".process.scheduler.flags[0]" },
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    tap_ok (plan (&refused[i].s, NULL, &sp, &e) < 0 && strcmp (e.path, refused[i].path) == 0,
            "%s refused at %s (%s: %s)", refused[i].s.policy, refused[i].path, e.path, e.msg);
  s = (struct oci_scheduler){ .policy = "SCHED_IDLE", .nice = 30, .has_nice = true };
  tap_ok (plan (&s, NULL, &sp, &e) == 0, "nice is not checked for SCHED_IDLE (runc)");

  io = (struct oci_io_priority){ .class = "IOPRIO_CLASS_BE", .priority = 6 };
  tap_ok (plan (NULL, &io, &sp, &e) == 0 && sp.has_ioprio && sp.ioprio == ((2 << 13) | 6)
              && !sp.has_sched,
          "IOPRIO_CLASS_BE 6 is IOPRIO_PRIO_VALUE(2, 6)");
  io = (struct oci_io_priority){ .class = "IOPRIO_CLASS_RT", .priority = 8 };
  tap_ok (plan (NULL, &io, &sp, &e) < 0 && strcmp (e.path, ".process.ioPriority.priority") == 0,
          "priority 8 refused");
  io = (struct oci_io_priority){ .class = "IOPRIO_CLASS_NONE", .priority = 0 };
  tap_ok (plan (NULL, &io, &sp, &e) < 0 && strcmp (e.path, ".process.ioPriority.class") == 0,
          "class IOPRIO_CLASS_NONE refused");
}

static void
test_personality (void)
{
  char *flags[] = { "ADDR_NO_RANDOMIZE" };
  struct oci_personality pe = { .domain = "LINUX32" };
  struct oci_linux l = { .personality = &pe };
  struct berth_error e = { 0 };
  unsigned long persona = 99;

  tap_ok (process_personality (&l, &persona, &e) == 0 && persona == 8, "LINUX32 is 0x0008");
  pe.domain = "LINUX";
  tap_ok (process_personality (&l, &persona, &e) == 0 && persona == 0, "LINUX is 0");
  tap_ok (process_personality (NULL, &persona, &e) == 0, "no linux section, nothing to do");
  pe.domain = "LINUX64";
  tap_ok (process_personality (&l, &persona, &e) < 0
              && strcmp (e.path, ".linux.personality.domain") == 0,
          "LINUX64 refused");
  pe.domain = "LINUX";
  pe.flags = flags;
  pe.flags_len = 1;
  e = (struct berth_error){ 0 };
  tap_ok (process_personality (&l, &persona, &e) < 0
              && strcmp (e.path, ".linux.personality.flags[0]") == 0,
          "flags refused: the spec defines none");
}

static bool
file_is (const char *path, const char *want)
{
  char buf[64] = { 0 };
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, buf, sizeof buf - 1);
  return n >= 0 && strncmp (buf, want, strlen (want)) == 0 && (size_t) n >= strlen (want);
}

/* In a child with its own mount namespace: a file bound over our own
   /proc/<tid>/comm must make the write fail, not land in the file. */
static void
test_overmount (void)
{
  char file[] = "/tmp/berth-attr-XXXXXX";
  int fd = mkstemp (file), status = 0;
  pid_t pid;

  if (!tap_ok (fd >= 0, "temporary file for the over-mount"))
    return;
  close (fd);
  pid = fork ();
  if (pid == 0)
    {
      char target[64], rel[32];
      struct berth_error e = { 0 };
      int proc_fd;
      if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        _exit (2);
      snprintf (rel, sizeof rel, "%d/comm", (int) gettid ());
      snprintf (target, sizeof target, "/proc/%s", rel);
      if (mount (file, target, NULL, MS_BIND, NULL) < 0)
        _exit (3);
      proc_fd = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (lsm_attr_write_at (proc_fd, rel, "evil", &e) == 0)
        _exit (4);
      if (e.kind != BERTH_E_UNSUPPORTED || strstr (e.msg, "mounted over") == NULL)
        _exit (5);
      _exit (0);
    }
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0,
          "a file bound over /proc/<tid>/comm is refused (child status %d)", status);
  tap_ok (file_is (file, "") , "and the bound file was not written to");
  unlink (file);
}

static void
test_attr_writer (void)
{
  char dir[] = "/tmp/berth-proc-XXXXXX", path[128], rel[32];
  struct berth_error e = { 0 };
  cleanup_close int fake = -1, proc_fd = -1, self_fd = -1;

  snprintf (rel, sizeof rel, "%d/comm", (int) gettid ());
  /* A directory laid out like /proc is not procfs. */
  if (tap_ok (mkdtemp (dir) != NULL, "fake /proc in %s", dir))
    {
      snprintf (path, sizeof path, "%s/%d", dir, (int) gettid ());
      mkdir (path, 0700);
      snprintf (path, sizeof path, "%s/%s", dir, rel);
      close (open (path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
      fake = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      tap_ok (lsm_attr_write_at (fake, rel, "x", &e) < 0 && e.kind == BERTH_E_UNSUPPORTED
                  && strstr (e.msg, "not the root of a procfs") && file_is (path, ""),
              "a directory that is not procfs is refused (%s)", e.msg);
      unlink (path);
      snprintf (path, sizeof path, "%s/%d", dir, (int) gettid ());
      rmdir (path);
      rmdir (dir);
    }
  /* procfs, but not its root: a container could point there. */
  self_fd = open ("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
  e = (struct berth_error){ 0 };
  tap_ok (lsm_attr_write_at (self_fd, "comm", "x", &e) < 0 && e.kind == BERTH_E_UNSUPPORTED,
          "a procfs directory that is not the root is refused");
  /* The real thing: our own comm is a harmless file to write. */
  proc_fd = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  e = (struct berth_error){ 0 };
  tap_ok (lsm_attr_write_at (proc_fd, rel, "berth-unit", &e) == 0
              && file_is ("/proc/thread-self/comm", "berth-unit"),
          "the root of a procfs is written through (%s)", e.msg);
  e = (struct berth_error){ 0 };
  tap_ok (lsm_attr_write_at (proc_fd, "thread-self/comm", "x", &e) < 0 && e.errnum == ELOOP,
          "no symlink is followed on the way");
  if (geteuid () == 0)
    test_overmount ();
  else
    tap_diag ("not root: over-mount scenario skipped");
}

/* process_enter_cwd and its check, in a child chrooted into a temporary
   directory (root only). */
static void
test_cwd (void)
{
  char outer[] = "/tmp/berth-cwd-XXXXXX", inner[64], link[96];
  int status = 0;
  pid_t pid;

  if (geteuid () != 0)
    {
      tap_diag ("not root: working directory checks skipped");
      return;
    }
  if (!tap_ok (mkdtemp (outer) != NULL, "temporary directory for the cwd checks"))
    return;
  snprintf (inner, sizeof inner, "%s/root", outer);
  snprintf (link, sizeof link, "%s/up", inner);
  mkdir (inner, 0755);
  symlink ("../../..", link);
  pid = fork ();
  if (pid == 0)
    {
      struct berth_error e = { 0 };
      struct oci_process p = { 0 };
      char here[64];
      /* chroot keeps the cwd: it is now outside the root. */
      if (chdir (outer) < 0 || chroot (inner) < 0)
        _exit (2);
      if (process_check_cwd ("/x", ".process", &e) == 0
          || strstr (e.msg, "outside the container's root") == NULL
          || strcmp (e.path, ".process.cwd") != 0)
        _exit (3);
      /* A symlink that climbs is clamped to the root. */
      p.cwd = (char *) "/up";
      e = (struct berth_error){ 0 };
      if (process_enter_cwd (&p, ".process", false, &e) < 0 || getcwd (here, sizeof here) == NULL
          || strcmp (here, "/") != 0)
        _exit (4);
      /* Missing: made only when asked to. */
      p.cwd = (char *) "/up/made/here";
      e = (struct berth_error){ 0 };
      if (process_enter_cwd (&p, "", false, &e) == 0 || e.errnum != ENOENT
          || strcmp (e.path, ".cwd") != 0)
        _exit (5);
      if (process_enter_cwd (&p, "", true, &e) < 0 || getcwd (here, sizeof here) == NULL
          || strcmp (here, "/made/here") != 0)
        _exit (6);
      _exit (0);
    }
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0,
          "cwd: outside the root refused, climbing symlink clamped, missing made on request "
          "(child status %d)", status);
  {
    char made[128];
    snprintf (made, sizeof made, "%s/made/here", inner);
    tap_ok (access (made, F_OK) == 0, "the missing directory was made inside the root");
    snprintf (made, sizeof made, "rm -rf '%s'", outer);
    if (system (made) != 0)
      tap_diag ("could not remove %s", outer);
  }
}

static bool
fd_open (int fd)
{
  return fcntl (fd, F_GETFD) >= 0;
}

/* laststage_close_fds keeps any number of fds (the init keeps one per bind
   mount), with close_range and, in a second child whose filter makes
   close_range ENOSYS, with the fallback loop; there, fds_for_exec still
   reaches an fd above a hard limit lowered after the close. */
static void
test_close_fds (void)
{
  int status = -1;
  pid_t pid = fork ();

  if (pid == 0)
    {
      struct laststage s = { .preserve_fds = 1 };
      int keep[12];
      size_t n = 0;
      for (int fd = 100; fd < 112; fd++)
        if (dup2 (2, fd) < 0)
          _exit (2);
      /* Unsorted, with a -1 and one of the preserved fds. */
      for (int fd = 109; fd >= 100; fd--)
        keep[n++] = fd;
      keep[n++] = -1;
      keep[n++] = 3;
      if (dup2 (2, 3) < 0)
        _exit (2);
      laststage_close_fds (&s, keep, n);
      for (int fd = 100; fd < 110; fd++)
        if (!fd_open (fd))
          _exit (3);
      if (!fd_open (3) || fd_open (110) || fd_open (111))
        _exit (4);
      _exit (0);
    }
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0,
          "close_fds keeps ten fds and the preserved one, closes the rest (status %d)", status);

  pid = fork ();
  if (pid == 0)
    {
      struct laststage s = { 0 };
      struct rlimit r = { 4096, 4096 };
      int keep[1] = { 3000 };
      scmp_filter_ctx f;
      if (setrlimit (RLIMIT_NOFILE, &r) < 0 || dup2 (2, 3000) < 0 || dup2 (2, 2000) < 0)
        _exit (2);
      f = seccomp_init (SCMP_ACT_ALLOW);
      if (f == NULL || seccomp_rule_add (f, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (close_range), 0) < 0
          || prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load (f) < 0)
        _exit (2);
      seccomp_release (f);
      laststage_close_fds (&s, keep, 1);
      if (fd_open (2000) || !fd_open (3000))
        _exit (3);
      /* As process.rlimits may, below an fd the process still holds. */
      r.rlim_cur = r.rlim_max = 64;
      if (setrlimit (RLIMIT_NOFILE, &r) < 0)
        _exit (2);
      laststage_fds_for_exec (&s);
      if (!(fcntl (3000, F_GETFD) & FD_CLOEXEC))
        _exit (4);
      _exit (0);
    }
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0,
          "without close_range: one bound, read before the rlimits change (status %d)", status);
}

/* The start time read from /proc/PID/stat against the kernel's own
   field 22, counted here with the command name (which may hold spaces and
   parentheses) skipped. */
static void
test_proc_stat (void)
{
  char path[64], buf[1024], *p;
  uint64_t start = 0;
  char st = 0;
  int fd, field;
  ssize_t n;
  pid_t child = fork ();

  if (child == 0)
    {
      prctl (PR_SET_NAME, "a) b (c");
      pause ();
      _exit (0);
    }
  usleep (20000);
  snprintf (path, sizeof path, "/proc/%d/stat", (int) child);
  fd = open (path, O_RDONLY);
  n = fd < 0 ? -1 : read (fd, buf, sizeof buf - 1);
  if (fd >= 0)
    close (fd);
  buf[n > 0 ? n : 0] = '\0';
  for (p = strrchr (buf, ')'), field = 2; p && field < 22; field++)
    p = strchr (p + 1, ' ');
  int r = proc_stat (child, &start, &st);
  tap_ok (r == 0 && p && start == strtoull (p + 1, NULL, 10) && st == 'S',
          "proc_stat: start time %llu and state %c of a process named \"a) b (c\"",
          (unsigned long long) start, st ? st : '?');
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);
  tap_ok (proc_stat (child, &start, &st) < 0 && errno == ESRCH, "proc_stat: a reaped pid is gone");
  tap_ok (!running_in_user_ns (), "running_in_user_ns: not in the initial namespace");
}

int
main (void)
{
  test_cpu_lists ();
  test_sched_rules ();
  test_personality ();
  test_attr_writer ();
  test_cwd ();
  test_close_fds ();
  test_proc_stat ();
  return tap_done ();
}
