/* The floor of `--scale` (bench/README.md, "The floor at scale"): the
   system calls that any runtime makes for one detached container of the
   bench's bundle (runc's spec, `sleep 1000`), and nothing else: no config
   read, no state kept, no check.  What its `run -d` costs as containers pile
   up is the kernel's part of a runtime's growth.

     floor ROOTFS ID CGROUP_DIR...

   makes each CGROUP_DIR (one per hierarchy; a v1 cpuset gets its parent's
   CPUs and memory nodes, a v1 devices cgroup the bundle's rules), starts
   the container in them with the bundle's namespaces, mounts, devices,
   masked and read-only paths, pivot_root, a session keyring named after ID,
   then prints the container's pid once its execve has happened.  stdin and
   stderr are passed on to the container, stdout is /dev/null there.  The
   caller (a subreaper) inherits the container; it kills it and removes the
   cgroups.  Bench code: not part of berth. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEN(a) (sizeof (a) / sizeof ((a)[0]))

/* In the container's process, before its execve: the pipe that tells
   floor it failed (its execve closes it: an EOF means success). */
static int failure_fd = -1;

static void
die (const char *what)
{
  dprintf (2, "floor: %s: %s\n", what, strerror (errno));
  if (failure_fd >= 0)
    (void) !write (failure_fd, "", 1);
  _exit (1);
}

static void
put (const char *dir, const char *file, const char *value)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, file);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, value, strlen (value)) < 0)
    die (path);
  close (fd);
}

static void
get (const char *dir, const char *file, char *buf, size_t len)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, file);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, buf, len - 1);
  if (n < 0)
    die (path);
  buf[n] = '\0';
  close (fd);
}

static void
mnt (const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
  if (mount (src, dst, type, flags, data) < 0)
    die (dst);
}

static int
is_cgroup2 (const char *dir)
{
  struct statfs s;
  if (statfs (dir, &s) < 0)
    die (dir);
  return s.f_type == CGROUP2_SUPER_MAGIC;
}

/* A v1 cgroup gets what a runtime writes before a process may enter it. */
static void
make_cgroup (const char *dir)
{
  char parent[4096], value[256];
  if (mkdir (dir, 0755) < 0)
    die (dir);
  if (strstr (dir, "/cpuset/"))
    {
      snprintf (parent, sizeof parent, "%s/..", dir);
      put (dir, "cpuset.sched_load_balance", "0");
      get (parent, "cpuset.cpus", value, sizeof value);
      put (dir, "cpuset.cpus", value);
      get (parent, "cpuset.mems", value, sizeof value);
      put (dir, "cpuset.mems", value);
    }
  if (strstr (dir, "/devices/"))
    {
      static const char *allow[] = { "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                                     "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm" };
      put (dir, "devices.deny", "a");
      for (size_t i = 0; i < LEN (allow); i++)
        put (dir, "devices.allow", allow[i]);
    }
}

struct container
{
  const char *rootfs, *id;
  char **cgroups;
  int ncgroups, failure_fd;
};

/* The bundle's /sys/fs/cgroup: v1, a tmpfs with each hierarchy's cgroup
   bound read-only below it; v2, the cgroup bound there. */
static void
mount_cgroups (const struct container *c)
{
  const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV;
  char dst[4096];
  if (c->ncgroups == 1 && is_cgroup2 (c->cgroups[0]))
    {
      mnt (c->cgroups[0], "sys/fs/cgroup", NULL, MS_BIND, NULL);
      mnt (NULL, "sys/fs/cgroup", NULL, MS_BIND | MS_REMOUNT | ro, NULL);
      return;
    }
  mnt ("tmpfs", "sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=755");
  for (int i = 0; i < c->ncgroups; i++)
    {
      /* /sys/fs/cgroup/HIERARCHY/... -> sys/fs/cgroup/HIERARCHY */
      static const char top[] = "/sys/fs/cgroup/";
      if (strncmp (c->cgroups[i], top, strlen (top)) != 0)
        {
          errno = EINVAL;
          die (c->cgroups[i]);
        }
      const char *h = c->cgroups[i] + strlen (top);
      snprintf (dst, sizeof dst, "sys/fs/cgroup/%.*s", (int) strcspn (h, "/"), h);
      if (mkdir (dst, 0755) < 0)
        die (dst);
      mnt (c->cgroups[i], dst, NULL, MS_BIND, NULL);
      mnt (NULL, dst, NULL, MS_BIND | MS_REMOUNT | ro, NULL);
    }
  mnt (NULL, "sys/fs/cgroup", NULL, MS_REMOUNT | ro, "mode=755");
}

static void
populate_dev (void)
{
  static const struct { const char *name; int major, minor; } devs[] = {
    { "dev/null", 1, 3 }, { "dev/zero", 1, 5 }, { "dev/full", 1, 7 },
    { "dev/random", 1, 8 }, { "dev/urandom", 1, 9 }, { "dev/tty", 5, 0 },
  };
  static const char *links[][2] = {
    { "/proc/self/fd", "dev/fd" }, { "/proc/self/fd/0", "dev/stdin" },
    { "/proc/self/fd/1", "dev/stdout" }, { "/proc/self/fd/2", "dev/stderr" },
    { "pts/ptmx", "dev/ptmx" },
  };
  for (size_t i = 0; i < LEN (devs); i++)
    if (mknod (devs[i].name, S_IFCHR | 0666, makedev (devs[i].major, devs[i].minor)) < 0)
      die (devs[i].name);
  for (size_t i = 0; i < LEN (links); i++)
    if (symlink (links[i][0], links[i][1]) < 0)
      die (links[i][1]);
}

static void
mount_rootfs (const struct container *c)
{
  mnt (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL);
  mnt (c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL);
  if (chdir (c->rootfs) < 0)
    die ("chdir");
  mnt ("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mnt ("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  static const char *dev_dirs[] = { "dev/pts", "dev/shm", "dev/mqueue" };
  for (size_t i = 0; i < LEN (dev_dirs); i++)
    if (mkdir (dev_dirs[i], 0755) < 0)
      die (dev_dirs[i]);
  mnt ("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
       "newinstance,ptmxmode=0666,mode=0620,gid=5");
  mnt ("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k");
  mnt ("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
  mnt ("sysfs", "sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL);
  mount_cgroups (c);
  populate_dev ();

  if (syscall (SYS_pivot_root, ".", ".") < 0)
    die ("pivot_root");
  if (umount2 (".", MNT_DETACH) < 0)
    die ("umount the old root");
  if (chdir ("/") < 0)
    die ("chdir /");

  /* runc's spec's maskedPaths and readonlyPaths, those this kernel has. */
  static const char *masked[] = {
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
  };
  static const char *readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
  };
  struct stat st;
  for (size_t i = 0; i < LEN (masked); i++)
    if (stat (masked[i], &st) == 0)
      {
        if (S_ISDIR (st.st_mode))
          mnt ("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL);
        else
          mnt ("/dev/null", masked[i], NULL, MS_BIND, NULL);
      }
  for (size_t i = 0; i < LEN (readonly); i++)
    if (stat (readonly[i], &st) == 0)
      {
        mnt (readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL);
        mnt (NULL, readonly[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
      }
  mnt (NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
}

static int
container_main (void *arg)
{
  const struct container *c = arg;
  char name[4096];

  failure_fd = c->failure_fd;
  for (int i = 0; i < c->ncgroups; i++)
    put (c->cgroups[i], "cgroup.procs", "0");
  /* The pid namespace came with clone. */
  if (unshare (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) < 0)
    die ("unshare");
  snprintf (name, sizeof name, "_ses.%s", c->id);
  if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0)
    die ("keyctl");
  struct ifreq ifr = { .ifr_name = "lo", .ifr_flags = IFF_UP };
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    die ("lo up");
  close (s);
  if (sethostname ("runc", 4) < 0)
    die ("sethostname");
  /* Our stdout is the caller's pipe, for the pid; the container's is /dev/null. */
  int null = open ("/dev/null", O_WRONLY);
  if (null < 0 || dup2 (null, 1) < 0)
    die ("/dev/null");
  close (null);
  mount_rootfs (c);

  char *argv[] = { "sleep", "1000", NULL };
  execv ("/bin/sleep", argv);
  die ("execv /bin/sleep");
  return 1;
}

int
main (int argc, char **argv)
{
  if (argc < 4)
    {
      fprintf (stderr, "usage: floor ROOTFS ID CGROUP_DIR...\n");
      return 2;
    }
  struct container c = { .rootfs = argv[1], .id = argv[2], .cgroups = argv + 3,
                         .ncgroups = argc - 3 };
  for (int i = 0; i < c.ncgroups; i++)
    make_cgroup (c.cgroups[i]);
  int sync[2];
  if (pipe2 (sync, O_CLOEXEC) < 0)
    die ("pipe");
  static char stack[256 * 1024];
  c.failure_fd = sync[1];
  pid_t pid = clone (container_main, stack + sizeof stack, CLONE_NEWPID | SIGCHLD, &c);
  if (pid < 0)
    die ("clone");
  close (sync[1]);
  char b;
  ssize_t n = read (sync[0], &b, 1);
  if (n != 0)
    {
      if (n < 0)
        die ("read");
      waitpid (pid, NULL, 0);
      return 1;
    }
  printf ("%d\n", pid);
  return 0;
}
