/* Unit tests for safepath, mount options and rootfs setup.  The rootfs part
   needs root: every scenario runs in a child that unshares its mount, PID and
   UTS namespaces (and makes "/" rslave before anything else, so nothing can
   reach the host), forks the namespace's init, and reports "ok"/"not ok"
   lines through a pipe; the parent prints them as TAP. */
#include "cleanup.h"
#include "fs/mountopts.h"
#include "fs/rootfs.h"
#include "base/safepath.h"
#include "spec.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

struct world {
  char base[64];     /* /tmp/berth-test-XXXXXX, holds rootfs/ src/ hostfile */
  char outside[64];  /* /tmp/berth-outside-XXXXXX, must stay empty */
  char rootfs[128];
  char src[128];
  char hostfile[128];
  char locked[128];  /* a nosuid,nodev,noexec tmpfs in the user-namespace scenario */
  bool host_kcore;
};

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) flag;
  (void) ftw;
  remove (path);
  return 0;
}

/* Never follows the rootfs's symlinks (FTW_PHYS) nor enters a mount. */
static void
rm_tree (const char *dir)
{
  nftw (dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* ---- reporting from inside the namespaces ------------------------------ */

__attribute__ ((format (printf, 3, 4))) static bool
report (int out, bool ok, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  for (char *p = msg; *p; p++)
    if (*p == '\n')
      *p = ' ';
  dprintf (out, "%s %s\n", ok ? "ok" : "not ok", msg);
  return ok;
}

static const char *
fmt_err (const struct berth_error *e)
{
  static char buf[1200];
  return e->kind ? berth_err_format (e, buf, sizeof buf) : "no error";
}

typedef void (*scenario_fn) (int out, const struct world *w);

static int
write_file (const char *path, const char *data)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? write (fd, data, strlen (data)) : -1;
  if (fd >= 0)
    close (fd);
  return n == (ssize_t) strlen (data) ? 0 : -1;
}

/* Enter a user namespace (root mapped to root, one ID) whose mounts come
   from a namespace holding a nosuid,nodev,noexec tmpfs: the kernel then
   locks those flags, as for a rootless container's inherited mounts. */
static int
enter_userns (const struct world *w)
{
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0
      || mount ("tmpfs", w->locked, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k") < 0
      || unshare (CLONE_NEWUSER) < 0 || write_file ("/proc/self/uid_map", "0 0 1") < 0
      || write_file ("/proc/self/setgroups", "deny") < 0
      || write_file ("/proc/self/gid_map", "0 0 1") < 0)
    return -1;
  return 0;
}

static void
run_isolated (const char *name, scenario_fn fn, const struct world *w, bool userns)
{
  int p[2];
  pid_t pid;
  FILE *f;
  char *line = NULL;
  size_t cap = 0;
  int st;

  if (pipe2 (p, O_CLOEXEC) < 0)
    {
      tap_ok (0, "%s: pipe: %s", name, strerror (errno));
      return;
    }
  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    {
      pid_t init;
      close (p[0]);
      if ((userns && enter_userns (w) < 0)
          || unshare (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS) < 0
          || mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        {
          report (p[1], false, "%s: isolate: %s", name, strerror (errno));
          _exit (1);
        }
  init = fork ();
      if (init == 0)
        {
          fn (p[1], w);
          _exit (0);
        }
      if (init < 0 || waitpid (init, &st, 0) < 0 || !WIFEXITED (st) || WEXITSTATUS (st))
        report (p[1], false, "%s: scenario process died", name);
      _exit (0);
    }
  close (p[1]);
  f = fdopen (p[0], "r");
  while (f && getline (&line, &cap, f) > 0)
    {
      line[strcspn (line, "\n")] = '\0';
      if (strncmp (line, "ok ", 3) == 0)
        tap_ok (1, "%s: %s", name, line + 3);
      else if (strncmp (line, "not ok ", 7) == 0)
        tap_ok (0, "%s: %s", name, line + 7);
    }
  free (line);
  if (f)
    fclose (f);
  if (pid < 0 || waitpid (pid, &st, 0) < 0 || !WIFEXITED (st) || WEXITSTATUS (st))
    tap_ok (0, "%s: child process failed", name);
}

/* ---- mountinfo --------------------------------------------------------- */

struct mnt {
  char mp[512], opts[256], fstype[64], super[512];
};

/* The topmost mount at `mp` (the last one listed). */
static bool
find_mount (const char *mp, struct mnt *out)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  bool found = false;

  while (f && getline (&line, &cap, f) > 0)
    {
      struct mnt m;
      char *save = NULL;
      int n = 0, sep = -1;
      for (char *t = strtok_r (line, " \n", &save); t; t = strtok_r (NULL, " \n", &save), n++)
        {
          if (n == 4)
            snprintf (m.mp, sizeof m.mp, "%s", t);
          else if (n == 5)
            snprintf (m.opts, sizeof m.opts, "%s", t);
          else if (n > 5 && sep < 0 && strcmp (t, "-") == 0)
            sep = n;
          else if (sep > 0 && n == sep + 1)
            snprintf (m.fstype, sizeof m.fstype, "%s", t);
          else if (sep > 0 && n == sep + 3)
            snprintf (m.super, sizeof m.super, "%s", t);
        }
      if (sep > 0 && strcmp (m.mp, mp) == 0)
        {
          *out = m;
          found = true;
        }
    }
  return found;
}

static bool
has_opt (const char *list, const char *opt)
{
  size_t n = strlen (opt);
  for (const char *p = list; p && *p;)
    {
      if (strncmp (p, opt, n) == 0 && (p[n] == ',' || p[n] == '\0'))
        return true;
      p = strchr (p, ',');
      if (p)
        p++;
    }
  return false;
}

/* Every mount at or below `dir` is read-only. */
static int
count_rw_below (const char *dir, int *total)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0, n = strlen (dir);
  int rw = 0;

  *total = 0;
  while (f && getline (&line, &cap, f) > 0)
    {
      char mp[512], opts[256];
      if (sscanf (line, "%*s %*s %*s %*s %511s %255s", mp, opts) != 2)
        continue;
      if (strncmp (mp, dir, n) == 0 && (mp[n] == '/' || mp[n] == '\0'))
        {
          (*total)++;
          rw += !has_opt (opts, "ro");
        }
    }
  return rw;
}

static bool
is_chr (const char *path, unsigned maj, unsigned min, mode_t mode)
{
  struct stat st;
  return lstat (path, &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == makedev (maj, min)
         && (st.st_mode & 07777) == mode;
}

static bool
link_is (const char *path, const char *target)
{
  char buf[256];
  ssize_t n = readlink (path, buf, sizeof buf - 1);
  if (n < 0)
    return false;
  buf[n] = '\0';
  return strcmp (buf, target) == 0;
}

static int
write_errno (const char *path, const char *data)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int e = 0;
  if (fd < 0)
    return errno;
  if (write (fd, data, strlen (data)) < 0)
    e = errno;
  close (fd);
  return e;
}

static bool
file_is (const char *path, const char *want)
{
  char buf[256] = "";
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  if (fd < 0)
    return false;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  return n >= 0 && (size_t) n == strlen (want) && memcmp (buf, want, (size_t) n) == 0;
}

static int
count_entries (const char *dir)
{
  cleanup_closedir DIR *d = opendir (dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir (d)))
    n += strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0;
  return d ? n : -1;
}

/* ---- scenarios --------------------------------------------------------- */

/* A call that must succeed; `r` is evaluated before the error is read. */
static bool
step (int out, int r, const struct berth_error *err, const char *what)
{
  return report (out, r >= 0, "%s (%s)", what, r >= 0 ? "ok" : fmt_err (err));
}

static struct oci_config *
parse_config (int out, const char *json)
{
  struct oci_config *c = NULL;
  struct berth_error err = { 0 };
  if (!step (out, oci_config_parse_data (json, strlen (json), &c, &err), &err, "config parses"))
    return NULL;
  return c;
}

static void
scenario_full (int out, const struct world *w)
{
  char json[4096], path[256], hostname[256] = "";
  cleanup_config struct oci_config *c = NULL;
  struct berth_error err = { 0 };
  struct rootfs_options o = { .rootfs = w->rootfs, .terminal = true };
  struct mnt m;
  struct stat st;
  int total = 0, rw, e, fd;
  ssize_t n;

  snprintf (
      json, sizeof json,
      "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
      "\"mounts\":["
      "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
      "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
      " \"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
      "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
      " \"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
      "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
      " \"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
      "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
      " \"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
      "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
      " \"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]},"
      "{\"destination\":\"/evil/x\",\"type\":\"bind\",\"source\":\"%s\","
      " \"options\":[\"rbind\",\"ro\"]},"
      "{\"destination\":\"/etc/bound-file\",\"type\":\"bind\",\"source\":\"%s\","
      " \"options\":[\"bind\",\"nosuid\",\"rprivate\"]},"
      "{\"destination\":\"/scratch\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
      " \"options\":[\"nosuid\",\"nodev\",\"mode=1777\"]}],"
      "\"linux\":{\"devices\":[{\"path\":\"/dev/mydev\",\"type\":\"c\",\"major\":1,"
      " \"minor\":5,\"fileMode\":416,\"uid\":1000,\"gid\":1000}],"
      " \"maskedPaths\":[\"/proc/kcore\",\"/proc/keys\",\"/proc/timer_list\","
      " \"/proc/does-not-exist\",\"/sys/firmware\",\"/proc/acpi\"],"
      " \"readonlyPaths\":[\"/proc/sys\"]}}",
      w->src, w->hostfile);
  c = parse_config (out, json);
  if (c == NULL)
    return;
  if (!step (out, rootfs_prepare (c, &o, &err), &err, "rootfs_prepare")
      || !step (out, rootfs_pivot (&o, &err), &err, "rootfs_pivot")
      || !step (out, rootfs_finalize (c, &err), &err, "rootfs_finalize"))
    return;

  report (out, find_mount ("/", &m) && has_opt (m.opts, "ro"), "/ is read-only (root.readonly)");
  report (out, find_mount ("/proc", &m) && strcmp (m.fstype, "proc") == 0, "/proc is a procfs");
  report (out,
          find_mount ("/dev", &m) && strcmp (m.fstype, "tmpfs") == 0 && has_opt (m.opts, "nosuid")
              && has_opt (m.super, "mode=755") && has_opt (m.super, "size=65536k"),
          "/dev is a tmpfs with nosuid, mode=755, size=65536k (%s / %s)", m.opts, m.super);
  report (out, find_mount ("/dev/pts", &m) && strcmp (m.fstype, "devpts") == 0
                   && has_opt (m.opts, "noexec") && has_opt (m.super, "ptmxmode=666"),
          "/dev/pts is a new devpts instance (%s)", m.super);
  report (out, find_mount ("/dev/mqueue", &m) && strcmp (m.fstype, "mqueue") == 0,
          "/dev/mqueue is an mqueue");
  report (out, find_mount ("/sys", &m) && strcmp (m.fstype, "sysfs") == 0 && has_opt (m.opts, "ro"),
          "/sys is a read-only sysfs");
  rw = count_rw_below ("/sys/fs/cgroup", &total);
  report (out, total > 0 && rw == 0, "/sys/fs/cgroup: %d mounts, %d writable", total, rw);

  snprintf (path, sizeof path, "%s/x", w->outside);
  report (out, find_mount (path, &m) && has_opt (m.opts, "ro"),
          "bind through the /evil symlink landed at %s inside the rootfs, read-only", path);
  report (out, file_is ("/evil/x/hello", "hi\n"), "the bound directory shows its content");
  e = write_errno ("/evil/x/new", "x");
  report (out, e == EROFS, "the ro bind refuses writes (%s)", strerror (e));
  report (out, find_mount ("/etc/bound-file", &m) && has_opt (m.opts, "nosuid"),
          "a file bound onto a created file, nosuid");
  report (out, file_is ("/etc/bound-file", "host file\n"), "the bound file shows its content");

  report (out, find_mount ("/scratch", &m) && strcmp (m.fstype, "tmpfs") == 0
                   && has_opt (m.opts, "nosuid") && has_opt (m.opts, "nodev"),
          "/scratch is a tmpfs with nosuid,nodev (%s)", m.opts);
  /* mountinfo omits tmpfs's mode when it is the default 1777. */
  report (out, stat ("/scratch", &st) == 0 && (st.st_mode & 07777) == 01777,
          "/scratch has mode 1777 from the data option");
  report (out, write_errno ("/scratch/f", "x") == 0, "/scratch is writable");
  e = write_errno ("/newfile", "x");
  report (out, e == EROFS, "creating /newfile fails with EROFS (%s)", strerror (e));

  report (out, is_chr ("/dev/null", 1, 3, 0666), "/dev/null is char 1:3, 0666");
  report (out, is_chr ("/dev/zero", 1, 5, 0666) && is_chr ("/dev/full", 1, 7, 0666)
                   && is_chr ("/dev/random", 1, 8, 0666) && is_chr ("/dev/urandom", 1, 9, 0666)
                   && is_chr ("/dev/tty", 5, 0, 0666),
          "zero full random urandom tty");
  report (out, is_chr ("/dev/mydev", 1, 5, 0640) && lstat ("/dev/mydev", &st) == 0
                   && st.st_uid == 1000 && st.st_gid == 1000,
          "linux.devices entry with fileMode 0640 and owner 1000:1000");
  report (out, link_is ("/dev/fd", "/proc/self/fd") && link_is ("/dev/stdin", "/proc/self/fd/0")
                   && link_is ("/dev/stdout", "/proc/self/fd/1")
                   && link_is ("/dev/stderr", "/proc/self/fd/2"),
          "fd, stdin, stdout, stderr links");
  report (out, link_is ("/dev/ptmx", "pts/ptmx"), "/dev/ptmx -> pts/ptmx");
  report (out, link_is ("/dev/core", "/proc/kcore") == w->host_kcore,
          "/dev/core -> /proc/kcore iff the host has one");
  report (out, stat ("/dev/shm", &st) == 0 && S_ISDIR (st.st_mode), "/dev/shm directory");
  report (out, lstat ("/dev/console", &st) == 0 && S_ISREG (st.st_mode),
          "/dev/console placeholder for the terminal");

  for (size_t i = 0; i < 3; i++)
    {
      static const char *const files[] = { "/proc/kcore", "/proc/keys", "/proc/timer_list" };
      if (strcmp (files[i], "/proc/kcore") == 0 && !w->host_kcore)
        {
          report (out, access (files[i], F_OK) < 0,
                  "/proc/kcore does not exist on this kernel: masking it was skipped");
          continue;
        }
      fd = open (files[i], O_RDONLY | O_CLOEXEC);
      e = fd < 0 ? errno : 0;
      n = fd >= 0 ? read (fd, path, sizeof path) : -1;
      if (fd >= 0)
        close (fd);
      report (out, n == 0 && find_mount (files[i], &m), "%s is masked (read gives %zd bytes; %s)",
              files[i], n, strerror (e));
    }
  report (out, find_mount ("/sys/firmware", &m) && strcmp (m.fstype, "tmpfs") == 0
                   && has_opt (m.opts, "ro") && find_mount ("/proc/acpi", &m)
                   && strcmp (m.fstype, "tmpfs") == 0 && has_opt (m.opts, "ro")
                   && count_entries ("/proc/acpi") == 0,
          "directories (/sys/firmware, /proc/acpi) are masked with an empty read-only tmpfs");
  report (out, find_mount ("/proc/sys", &m) && has_opt (m.opts, "ro"), "/proc/sys is read-only");
  fd = open ("/proc/sys/kernel/hostname", O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      n = read (fd, hostname, sizeof hostname - 1);
      hostname[n > 0 ? n : 0] = '\0';
      close (fd);
    }
  /* Writes the current value back, in a private UTS namespace: harmless
     even if the check were to fail. */
  e = write_errno ("/proc/sys/kernel/hostname", hostname);
  report (out, e == EROFS, "writing /proc/sys/kernel/hostname fails with EROFS (%s)",
          strerror (e));
}

/* The same, on a kernel without openat2: seccomp makes it fail with ENOSYS,
   so every path goes through safepath's userspace walk. */
static void
scenario_full_walk (int out, const struct world *w)
{
  scmp_filter_ctx f = seccomp_init (SCMP_ACT_ALLOW);
  long r;

  if (!report (out,
               f && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                   && seccomp_rule_add (f, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (openat2), 0) == 0
                   && seccomp_load (f) == 0,
               "seccomp filter hiding openat2"))
    return;
  seccomp_release (f);
  r = syscall (SYS_openat2, AT_FDCWD, "/", NULL, 0);
  if (report (out, r < 0 && errno == ENOSYS, "openat2 now fails with ENOSYS"))
    scenario_full (out, w);
}

static void
expect_prepare_error (int out, const struct world *w, const char *mounts, const char *what,
                      enum berth_error_kind kind, const char *jpath, const char *needle)
{
  char json[2048];
  cleanup_config struct oci_config *c = NULL;
  struct berth_error err = { 0 };
  struct rootfs_options o = { .rootfs = w->rootfs };
  int r;

  snprintf (json, sizeof json,
            "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},\"mounts\":[%s]}", mounts);
  c = parse_config (out, json);
  if (c == NULL)
    return;
  r = rootfs_prepare (c, &o, &err);
  report (out,
          r < 0 && err.kind == kind && strcmp (err.path, jpath) == 0 && strstr (err.msg, needle),
          "%s is refused: %s", what, fmt_err (&err));
}

static void
scenario_refusals (int out, const struct world *w)
{
  expect_prepare_error (out, w,
                        "{\"destination\":\"/data\",\"type\":\"tmpfs\",\"options\":[\"nosuid\","
                        "\"idmap\"]}",
                        "idmap on a tmpfs", BERTH_E_VALUE, ".mounts[0].options[1]",
                        "only a bind mount");
  expect_prepare_error (out, w,
                        "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/tmp\","
                        "\"options\":[\"rbind\",\"ridmap\"]}",
                        "ridmap without mappings or a user namespace", BERTH_E_VALUE,
                        ".mounts[0].options[1]", "user namespace");
  expect_prepare_error (out, w,
                        "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/tmp\","
                        "\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}",
                        "uidMappings without gidMappings", BERTH_E_MISSING,
                        ".mounts[0].gidMappings", "gidMappings");
  expect_prepare_error (out, w, "{\"destination\":\"/proc\",\"type\":\"tmpfs\"}",
                        "a tmpfs on /proc", BERTH_E_VALUE, ".mounts[0]", "not a procfs");
  expect_prepare_error (out, w,
                        "{\"destination\":\"/proc\",\"type\":\"proc\"},"
                        "{\"destination\":\"/proclink/sys/kernel\",\"type\":\"tmpfs\"}",
                        "a tmpfs reaching into /proc through a symlink", BERTH_E_VALUE,
                        ".mounts[1].destination", "inside /proc");
  expect_prepare_error (out, w, "{\"destination\":\"/proclink\",\"type\":\"proc\"}",
                        "proc on a symlink", BERTH_E_VALUE, ".mounts[0].destination",
                        "ordinary directory");
  expect_prepare_error (out, w,
                        "{\"destination\":\"/x\",\"type\":\"bind\","
                        "\"source\":\"/nonexistent-berth\"}",
                        "a missing bind source", BERTH_E_SYSTEM, ".mounts[0].source",
                        "nonexistent");
}

static void
scenario_fake_null (int out, const struct world *w)
{
  const char *json = "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},"
                     "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"}],"
                     "\"linux\":{\"maskedPaths\":[\"/etc/secret\"]}}";
  cleanup_config struct oci_config *c = parse_config (out, json);
  struct berth_error err = { 0 };
  struct rootfs_options o = { .rootfs = w->rootfs };
  struct mnt m;
  int r;

  if (c == NULL)
    return;
  r = rootfs_prepare (c, &o, &err) == 0 && rootfs_pivot (&o, &err) == 0;
  if (!report (out, r, "prepare and pivot (%s)", fmt_err (&err)))
    return;
  r = rootfs_finalize (c, &err);
  report (out,
          r < 0 && err.kind == BERTH_E_VALUE && strcmp (err.path, ".linux.maskedPaths[0]") == 0
              && strstr (err.msg, "not the null device"),
          "masking with a /dev/null that is a symlink is refused: %s", fmt_err (&err));
  report (out, !find_mount ("/etc/secret", &m), "nothing was mounted on /etc/secret");
}

static void
scenario_no_pivot (int out, const struct world *w)
{
  const char *json = "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},"
                     "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
                     "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"options\":[\"ro\"]}],"
                     "\"linux\":{\"maskedPaths\":[\"/proc/kcore\"]}}";
  cleanup_config struct oci_config *c = parse_config (out, json);
  struct berth_error err = { 0 };
  struct rootfs_options o = { .rootfs = w->rootfs, .no_pivot = true };
  cleanup_fclose FILE *f = NULL;
  cleanup_free char *line = NULL;
  size_t cap = 0;
  int procs = 0;
  struct mnt m;

  if (c == NULL)
    return;
  if (!step (out, rootfs_prepare (c, &o, &err), &err, "prepare")
      || !step (out, rootfs_pivot (&o, &err), &err, "move + chroot")
      || !step (out, rootfs_finalize (c, &err), &err, "finalize"))
    return;
  report (out, access ("/marker", F_OK) == 0, "/ is the rootfs");
  f = fopen ("/proc/self/mountinfo", "re");
  while (f && getline (&line, &cap, f) > 0)
    procs += strstr (line, " - proc ") != NULL;
  report (out, procs == 1, "the host's procfs was detached (%d procfs mounts left)", procs);
  report (out,
          find_mount ("/dev", &m) && has_opt (m.opts, "ro") && is_chr ("/dev/null", 1, 3, 0666),
          "/dev made read-only after its devices were created");
}

static void
scenario_userns (int out, const struct world *w)
{
  char json[2048];
  cleanup_config struct oci_config *c = NULL;
  struct berth_error err = { 0 };
  struct rootfs_options o = { .rootfs = w->rootfs, .in_user_ns = true };
  struct mnt m;
  int total = 0, rw, e;

  snprintf (json, sizeof json,
            "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
            "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\"},"
            "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\"]},"
            "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\","
            " \"nodev\",\"ro\"]},"
            "{\"destination\":\"/locked-ro\",\"type\":\"bind\",\"source\":\"%s\","
            " \"options\":[\"bind\",\"ro\"]},"
            "{\"destination\":\"/locked-suid\",\"type\":\"bind\",\"source\":\"%s\","
            " \"options\":[\"bind\",\"ro\",\"suid\",\"dev\"]}],"
            "\"linux\":{\"devices\":[{\"path\":\"/dev/zero\",\"type\":\"c\",\"major\":1,"
            " \"minor\":5}],\"maskedPaths\":[\"/proc/keys\"],\"readonlyPaths\":[\"/proc/sys\"]}}",
            w->locked, w->locked);
  c = parse_config (out, json);
  if (c == NULL)
    return;
  if (!step (out, rootfs_prepare (c, &o, &err), &err, "rootfs_prepare")
      || !step (out, rootfs_pivot (&o, &err), &err, "rootfs_pivot")
      || !step (out, rootfs_finalize (c, &err), &err, "rootfs_finalize"))
    return;
  report (out, find_mount ("/sys", &m) && strcmp (m.fstype, "sysfs") == 0,
          "sysfs refused without a network namespace: the host's /sys is bound instead");
  rw = count_rw_below ("/sys", &total);
  report (out, total > 1 && rw == 0, "... read-only all the way down (%d mounts, %d writable)",
          total, rw);
  report (out, find_mount ("/dev/null", &m) && is_chr ("/dev/null", 1, 3, 0666),
          "/dev/null is the host's node, bind-mounted");
  report (out, find_mount ("/dev/zero", &m) && is_chr ("/dev/zero", 1, 5, 0666),
          "a linux.devices entry is bind-mounted from the host");
  report (out,
          find_mount ("/locked-ro", &m) && has_opt (m.opts, "ro") && has_opt (m.opts, "nosuid")
              && has_opt (m.opts, "nodev") && has_opt (m.opts, "noexec"),
          "bind + ro keeps the source's locked nosuid,nodev,noexec (%s)", m.opts);
  report (out,
          find_mount ("/locked-suid", &m) && has_opt (m.opts, "ro") && has_opt (m.opts, "nosuid"),
          "asking to clear locked flags falls back to keeping them (%s)", m.opts);
  report (out, find_mount ("/proc/keys", &m), "/proc/keys masked");
  e = write_errno ("/proc/sys/kernel/hostname", "x");
  report (out, e == EROFS || e == EACCES || e == EPERM, "/proc/sys not writable (%s)",
          strerror (e));
  report (out, find_mount ("/proc/sys", &m) && has_opt (m.opts, "ro"), "/proc/sys read-only");
  report (out, find_mount ("/", &m) && has_opt (m.opts, "ro"), "/ read-only");
}

/* ---- tests without namespaces ------------------------------------------ */

static bool
same_inode (int fd, const char *path)
{
  struct stat a, b;
  return fd >= 0 && fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

typedef int (*open_fn) (int, const char *, int, mode_t, struct berth_error *);

static void
test_resolver (const char *name, open_fn fn, int root, const char *t)
{
  char p[256];
  struct berth_error err = { 0 };
  struct stat st;
  int fd;

  snprintf (p, sizeof p, "%s/root/a/b", t);
  fd = fn (root, "up/a/b", O_PATH | O_DIRECTORY, 0, &err);
  tap_ok (same_inode (fd, p), "%s: a symlink climbing out is clamped to the root", name);
  close (fd);
  fd = fn (root, "/../../a/rel/../b/.", O_PATH, 0, &err);
  tap_ok (same_inode (fd, p), "%s: .. at the top and relative links", name);
  close (fd);
  fd = fn (root, "evil", O_PATH, 0, &err);
  tap_ok (fd < 0 && err.errnum == ENOENT, "%s: absolute link resolved inside the root (%s)", name,
          fmt_err (&err));
  fd = fn (root, "loop1", O_PATH, 0, &err);
  tap_ok (fd < 0 && err.errnum == ELOOP, "%s: symlink loop gives ELOOP", name);
  fd = fn (root, "file/x", O_PATH, 0, &err);
  tap_ok (fd < 0 && err.errnum == ENOTDIR, "%s: a file in the middle gives ENOTDIR", name);
  fd = fn (root, "up", O_PATH | O_NOFOLLOW, 0, &err);
  tap_ok (fd >= 0 && fstat (fd, &st) == 0 && S_ISLNK (st.st_mode), "%s: O_NOFOLLOW on the last",
          name);
  close (fd);
  fd = fn (root, "up/a/created-by-open", O_CREAT | O_WRONLY, 0600, &err);
  snprintf (p, sizeof p, "%s/root/a/created-by-open", t);
  tap_ok (same_inode (fd, p), "%s: O_CREAT through a link, inside the root", name);
  close (fd);
  unlink (p);
}

static void
test_safepath (void)
{
  char t[] = "/tmp/berth-safepath-XXXXXX", p[256], outside[] = "/tmp/berth-out-XXXXXX";
  cleanup_close int root = -1;
  struct berth_error err = { 0 };
  struct stat st;
  int fd = -1;

  if (!tap_ok (mkdtemp (t) && mkdtemp (outside), "temp dirs"))
    return;
  snprintf (p, sizeof p, "%s/root", t);
  mkdir (p, 0755);
  snprintf (p, sizeof p, "%s/root/a", t);
  mkdir (p, 0755);
  snprintf (p, sizeof p, "%s/root/a/b", t);
  mkdir (p, 0755);
#define LINK(target, name)                                                                  \
  (snprintf (p, sizeof p, "%s/root/%s", t, name), symlink (target, p))
  LINK (outside, "evil");
  LINK ("../../../..", "up");
  LINK ("../a/b", "a/rel");
  LINK ("/made/here", "dang");
  LINK ("made/file", "dang2");
  LINK ("loop2", "loop1");
  LINK ("loop1", "loop2");
#undef LINK
  snprintf (p, sizeof p, "%s/root/file", t);
  close (open (p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  snprintf (p, sizeof p, "%s/root", t);
  root = open (p, O_PATH | O_DIRECTORY | O_CLOEXEC);

  test_resolver ("openat2", safepath_open, root, t);
  test_resolver ("walk", safepath_open_walk, root, t);

  tap_ok (safepath_mkdir_p (root, "/evil/x/y", 0755, &fd, &err) == 0, "mkdir_p through /evil");
  snprintf (p, sizeof p, "%s/root%s/x/y", t, outside);
  tap_ok (same_inode (fd, p), "mkdir_p created %s inside the root", p);
  close (fd);
  tap_ok (safepath_mkdir_p (root, "dang/sub", 0755, &fd, &err) == 0,
          "mkdir_p through a dangling link");
  snprintf (p, sizeof p, "%s/root/made/here/sub", t);
  tap_ok (same_inode (fd, p), "... created the link's target inside the root");
  close (fd);
  tap_ok (safepath_mkdir_p (root, "file/sub", 0755, &fd, &err) < 0 && err.errnum == ENOTDIR,
          "mkdir_p under a file fails with ENOTDIR");
  tap_ok (safepath_mkfile (root, "/evil/f", 0644, &fd, &err) == 0, "mkfile through /evil");
  snprintf (p, sizeof p, "%s/root%s/f", t, outside);
  tap_ok (same_inode (fd, p) && stat (p, &st) == 0 && S_ISREG (st.st_mode), "... inside the root");
  close (fd);
  tap_ok (safepath_mkfile (root, "dang2", 0644, &fd, &err) == 0, "mkfile on a dangling link");
  snprintf (p, sizeof p, "%s/root/made/file", t);
  tap_ok (same_inode (fd, p), "... created its target inside the root");
  close (fd);
  tap_ok (count_entries (outside) == 0, "the outside directory is untouched");
  rm_tree (t);
  rm_tree (outside);

  {
    static const char *const cases[][2] = {
      { "//dev/./", "/dev" }, { "a/../../b", "/b" }, { "", "/" }, { "/a/b/..", "/a" },
      { "/..", "/" },
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
      {
        cleanup_free char *c = safepath_clean (cases[i][0]);
        ok = ok && c && strcmp (c, cases[i][1]) == 0;
      }
    tap_ok (ok, "safepath_clean");
  }
  tap_ok (strcmp (safepath_fd_path (7, p), "/proc/self/fd/7") == 0, "safepath_fd_path");
}

static void
test_mountopts (void)
{
  char *opts[] = { "nosuid", "nodev", "mode=1777", "ro",  "rshared", "rro", "rnoatime",
                   "size=10k", "rw", "private", "noatime", NULL };
  char *bad[] = { "rbind", "ridmap", "idmap", NULL };
  char *copyup[] = { "tmpcopyup", "mode=755", NULL };
  cleanup_mount_opts struct mount_opts o3 = { 0 };
  cleanup_mount_opts struct mount_opts o = { 0 };
  cleanup_mount_opts struct mount_opts o2 = { 0 };
  struct berth_error err = { 0 };

  tap_ok (mount_opts_parse (opts, 11, ".mounts[0].options", &o, &err) == 0, "parse options");
  tap_ok (o.flags == (MS_NOSUID | MS_NODEV | MS_NOATIME) && (o.cleared & MS_RDONLY)
              && o.atime_given,
          "flags, later rw wins over ro (%#lx)", o.flags);
  tap_ok (o.data && strcmp (o.data, "mode=1777,size=10k") == 0, "unknown options are fs data");
  tap_ok (o.n_propagation == 2 && o.propagation[0] == (MS_SHARED | MS_REC)
              && o.propagation[1] == MS_PRIVATE,
          "propagation in order");
  tap_ok (o.rec_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME)
              && o.rec_clr == MOUNT_ATTR__ATIME,
          "recursive attributes");
  int r = mount_opts_parse (bad, 3, ".mounts[2].options", &o2, &err);

  tap_ok (r == 0 && o2.idmap && !o2.ridmap && o2.idmap_index == 2 && o2.data == NULL
              && (o2.flags & MS_REC),
          "idmap, the later of ridmap and idmap, is no fs data: %s", fmt_err (&err));
  tap_ok (mount_opts_parse (copyup, 2, ".mounts[3].options", &o3, &err) == 0 && o3.tmpcopyup
              && o3.data && strcmp (o3.data, "mode=755") == 0,
          "tmpcopyup is a flag, not fs data");
}

/* ---- setup ------------------------------------------------------------- */

static bool
make_world (struct world *w)
{
  char p[256];
  static const char *const dirs[] = { "proc", "dev", "sys", "tmp", "etc" };

  snprintf (w->base, sizeof w->base, "/tmp/berth-test-XXXXXX");
  snprintf (w->outside, sizeof w->outside, "/tmp/berth-outside-XXXXXX");
  if (!mkdtemp (w->base) || !mkdtemp (w->outside))
    return false;
  snprintf (w->rootfs, sizeof w->rootfs, "%s/rootfs", w->base);
  snprintf (w->src, sizeof w->src, "%s/src", w->base);
  snprintf (w->hostfile, sizeof w->hostfile, "%s/hostfile", w->base);
  snprintf (w->locked, sizeof w->locked, "%s/locked", w->base);
  w->host_kcore = access ("/proc/kcore", F_OK) == 0;
  if (mkdir (w->rootfs, 0755) < 0 || mkdir (w->src, 0755) < 0 || mkdir (w->locked, 0755) < 0)
    return false;
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    {
      snprintf (p, sizeof p, "%s/%s", w->rootfs, dirs[i]);
      if (mkdir (p, 0755) < 0)
        return false;
    }
  snprintf (p, sizeof p, "%s/evil", w->rootfs);
  if (symlink (w->outside, p) < 0)
    return false;
  snprintf (p, sizeof p, "%s/proclink", w->rootfs);
  if (symlink ("/proc", p) < 0)
    return false;
  snprintf (p, sizeof p, "%s/dev/null", w->rootfs);
  if (symlink ("/etc/secret", p) < 0)
    return false;
  snprintf (p, sizeof p, "%s/hello", w->src);
  if (write_errno (p, "hi\n"))
    return false;
  snprintf (p, sizeof p, "%s/etc/secret", w->rootfs);
  if (write_errno (p, "secret\n"))
    return false;
  snprintf (p, sizeof p, "%s/marker", w->rootfs);
  if (write_errno (p, ""))
    return false;
  return write_errno (w->hostfile, "host file\n") == 0;
}

static bool
host_sees_mounts_under (const char *dir)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  while (f && getline (&line, &cap, f) > 0)
    if (strstr (line, dir))
      return true;
  return false;
}

int
main (void)
{
  struct world w = { 0 };

  test_mountopts ();
  test_safepath ();

  if (geteuid () != 0)
    {
      tap_diag ("not root: rootfs scenarios skipped");
      return tap_done ();
    }
  if (tap_ok (make_world (&w), "build the test rootfs in %s", w.base))
    {
      /* The walk goes first, so that it is the one creating /evil/x. */
      run_isolated ("full, no openat2", scenario_full_walk, &w, false);
      run_isolated ("full", scenario_full, &w, false);
      run_isolated ("refusals", scenario_refusals, &w, false);
      run_isolated ("fake /dev/null", scenario_fake_null, &w, false);
      run_isolated ("no-pivot", scenario_no_pivot, &w, false);
      run_isolated ("userns", scenario_userns, &w, true);
      tap_ok (count_entries (w.outside) == 0, "the outside directory %s is still empty",
              w.outside);
      tap_ok (count_entries (w.src) == 1, "the bind source was not written to");
      tap_ok (!host_sees_mounts_under (w.base), "no mount reached the host's namespace");
    }
  if (w.base[0] && strstr (w.base, "XXXXXX") == NULL)
    rm_tree (w.base);
  if (w.outside[0] && strstr (w.outside, "XXXXXX") == NULL)
    rm_tree (w.outside);
  return tap_done ();
}
