/* Unit test of src/sha256.c and src/seccomp.c: SHA-256 known answers; the
 * config checks and their JSON paths; compile and the cache round trip in a
 * private temporary state root (hit, then every kind of damaged entry is
 * recompiled and rewritten); and install in forked children, which observe
 * the filter with real system calls (errno, SIGSYS, a notification answered
 * by the parent through the listener fd); the ENOSYS stub in front of a
 * filter, observed the same way.
 */
#include "cleanup.h"
#include "security/seccomp.h"
#include "security/seccomp_enosys.h"
#include "base/sha256.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];
static char cache_file[512];

static bool
hash_is (const char *data, size_t len, const char *want)
{
  uint8_t d[SHA256_DIGEST_SIZE];
  char hex[65];
  sha256 (data, len, d);
  sha256_hex (d, hex);
  return strcmp (hex, want) == 0;
}

static void
test_sha256 (void)
{
  static const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  struct sha256_ctx c;
  uint8_t d[SHA256_DIGEST_SIZE];
  char hex[65], chunk[1000];

  tap_ok (hash_is ("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
          "sha256(\"\")");
  tap_ok (hash_is ("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
          "sha256(\"abc\")");
  tap_ok (hash_is (two_blocks, strlen (two_blocks),
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
          "sha256 of the 448-bit vector (padding spills into a second block)");
  /* A million 'a's, fed in pieces that straddle block boundaries, by the
     CPU's SHA instructions where it has them and by the plain C rounds. */
  memset (chunk, 'a', sizeof chunk);
  for (int portable = 0; portable < 2; portable++)
    {
      portable ? sha256_init_portable (&c) : sha256_init (&c);
      for (size_t done = 0, step = 1; done < 1000000; done += step, step = step % 997 + 1)
        sha256_update (&c, chunk, done + step > 1000000 ? 1000000 - done : step);
      sha256_final (&c, d);
      sha256_hex (d, hex);
      tap_ok (strcmp (hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
                  == 0,
              "sha256 of a million 'a' in uneven chunks (%s)", portable ? "portable" : "default");
    }
  {
    /* Both ways agree on every length from 0 to 1000 bytes of varied input. */
    static uint8_t buf[1000];
    int same = 1;
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof buf; i++)
      x ^= x << 13, x ^= x >> 17, x ^= x << 5, buf[i] = (uint8_t) x;
    for (size_t n = 0; n <= sizeof buf && same; n++)
      {
        uint8_t a[SHA256_DIGEST_SIZE], b[SHA256_DIGEST_SIZE];
        sha256_init (&c);
        sha256_update (&c, buf, n);
        sha256_final (&c, a);
        sha256_init_portable (&c);
        sha256_update (&c, buf, n);
        sha256_final (&c, b);
        same = memcmp (a, b, sizeof a) == 0;
      }
    tap_ok (same, "the default and the portable rounds agree on 0..1000 bytes");
  }
}

static struct oci_seccomp *
parse (const char *json)
{
  struct berth_error err = { 0 };
  void *out = NULL;
  if (oci_parse_data (&oci_type_seccomp, json, strlen (json), "seccomp", &out, &err) < 0)
    {
      char line[1200];
      tap_diag ("parse: %s", berth_err_format (&err, line, sizeof line));
      return NULL;
    }
  return out;
}

/* Compile `json`; the error (kind, path, message) into *err. */
static struct berth_seccomp *
compile (const char *json, bool cached, struct berth_error *err)
{
  struct oci_seccomp *s = parse (json);
  struct seccomp_cache cache = { .root = root, .berth_version = "test" };
  struct berth_seccomp *f = NULL;

  if (s == NULL)
    return NULL;
  memset (err, 0, sizeof *err);
  if (seccomp_compile (s, cached ? &cache : NULL, &f, err) < 0)
    f = NULL;
  oci_free (&oci_type_seccomp, s);
  return f;
}

static void
expect_error (const char *json, enum berth_error_kind kind, const char *path, const char *msg,
              const char *what)
{
  struct berth_error err;
  struct berth_seccomp *f = compile (json, false, &err);
  bool ok = f == NULL && err.kind == kind && strcmp (err.path, path) == 0
            && strstr (err.msg, msg) != NULL;
  if (!tap_ok (ok, "%s", what))
    tap_diag ("got kind %d path \"%s\" msg \"%s\"", err.kind, err.path, err.msg);
  if (f)
    seccomp_free (f);
}

static void
test_errors (void)
{
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\","
                "\"SECCOMP_FILTER_FLAG_BOGUS\"]}",
                BERTH_E_VALUE, ".linux.seccomp.flags[1]", "SECCOMP_FILTER_FLAG_BOGUS",
                "an unknown flag is an error at its index");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                "\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
                BERTH_E_UNSUPPORTED, ".linux.seccomp.flags[0]", "not supported by libseccomp 2.5",
                "WAIT_KILLABLE_RECV needs libseccomp 2.6");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
                "\"action\":\"SCMP_ACT_ERRNO\"},{\"names\":[\"mincore\"],"
                "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                BERTH_E_MISSING, ".linux.seccomp.syscalls[1].action", "listenerPath",
                "SCMP_ACT_NOTIFY without listenerPath is an error");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\","
                "\"syscalls\":[{\"names\":[\"mincore\",\"sendmsg\"],"
                "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                BERTH_E_UNSUPPORTED, ".linux.seccomp.syscalls[0].names[1]", "sendmsg",
                "SCMP_ACT_NOTIFY on sendmsg is refused (it would deadlock the handover)");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x\"}", BERTH_E_VALUE,
                ".linux.seccomp.defaultAction", "default", "NOTIFY cannot be the default");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\","
                "\"SCMP_ARCH_VAX\"]}",
                BERTH_E_VALUE, ".linux.seccomp.architectures[1]", "SCMP_ARCH_VAX",
                "an unknown architecture is an error at its index");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":70000}",
                BERTH_E_RANGE, ".linux.seccomp.defaultErrnoRet", "16 bits",
                "an errno that does not fit SECCOMP_RET_DATA is an error");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,"
                "\"op\":\"SCMP_CMP_ALMOST\"}]}]}",
                BERTH_E_VALUE, ".linux.seccomp.syscalls[0].args[0].op", "SCMP_CMP_ALMOST",
                "an unknown operator is an error");
  expect_error ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,"
                "\"op\":\"SCMP_CMP_EQ\"}]}]}",
                BERTH_E_RANGE, ".linux.seccomp.syscalls[0].args[0].index", "0..5",
                "an argument index past 5 is an error");
}

static const char *const profile
    = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
      "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
      "\"listenerMetadata\":\"%s\","
      "\"syscalls\":[{\"names\":[\"read\",\"write\",\"exit_group\",\"no_such_call\"],"
      "\"action\":\"SCMP_ACT_ALLOW\"},"
      "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
      "\"value\":0,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]},"
      "{\"names\":[\"mmap\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,"
      "\"value\":4,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"},{\"index\":3,\"value\":1,"
      "\"op\":\"SCMP_CMP_GE\"}]},"
      "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}";

static struct berth_seccomp *
compile_profile (const char *metadata, struct berth_error *err)
{
  char json[2048];
  snprintf (json, sizeof json, profile, metadata);
  return compile (json, true, err);
}

static bool
same (const struct berth_seccomp *a, const struct berth_seccomp *b)
{
  return a && b && a->len == b->len
         && memcmp (a->insns, b->insns, a->len * sizeof (struct sock_filter)) == 0;
}

static void
test_cache (void)
{
  struct berth_error err;
  cleanup_seccomp struct berth_seccomp *plain = NULL, *first = NULL, *second = NULL;
  struct berth_seccomp *again;
  char json[2048], dir[128];
  struct stat st;
  int fd;

  snprintf (json, sizeof json, profile, "m1");
  plain = compile (json, false, &err);
  tap_ok (plain && plain->len > 10 && !plain->from_cache,
          "compile: multi-arch, split args, MASKED_EQ, rule equal to default, unknown name");
  first = compile_profile ("m1", &err);
  tap_ok (first && !first->from_cache && same (first, plain), "first compile misses the cache");
  snprintf (dir, sizeof dir, "%s/@seccomp-cache", root);
  tap_ok (stat (dir, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 07777) == 0700,
          "the cache directory is 0700");
  {
    cleanup_closedir DIR *d = opendir (dir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir (d)))
      if (de->d_name[0] != '.')
        {
          n++;
          snprintf (cache_file, sizeof cache_file, "%s/%s", dir, de->d_name);
        }
    tap_ok (n == 1 && strlen (strrchr (cache_file, '/') + 1) == 64 + 4,
            "one entry, named <sha256>.bpf");
  }
  tap_ok (stat (cache_file, &st) == 0 && (st.st_mode & 07777) == 0600, "the entry is 0600");
  second = compile_profile ("other metadata", &err);
  tap_ok (second && second->from_cache && same (second, plain),
          "second compile is read from the cache (listenerMetadata is not part of the key)");

  /* Damage the entry in each way; each time it must be recompiled (and the
     rewritten entry must be valid again). */
  static const char *const damage[] = { "flip a byte of the body", "truncate", "make it 0666",
                                        "make it a symlink", "garbage header" };
  for (size_t k = 0; k < sizeof damage / sizeof damage[0]; k++)
    {
      switch (k)
        {
        case 0:
          fd = open (cache_file, O_RDWR);
          pwrite (fd, "\xff", 1, st.st_size - 3);
          close (fd);
          break;
        case 1:
          truncate (cache_file, st.st_size - 8);
          break;
        case 2:
          chmod (cache_file, 0666);
          break;
        case 3:
          {
            char target[600];
            snprintf (target, sizeof target, "%s.real", cache_file);
            rename (cache_file, target);
            symlink (target, cache_file);
            break;
          }
        case 4:
          fd = open (cache_file, O_RDWR);
          pwrite (fd, "NOTBERTH", 8, 0);
          close (fd);
          break;
        }
      again = compile_profile ("m1", &err);
      tap_ok (again && !again->from_cache && same (again, plain), "%s: recompiled", damage[k]);
      if (again)
        seccomp_free (again);
      again = compile_profile ("m1", &err);
      tap_ok (again && again->from_cache && same (again, plain), "%s: rewritten entry is used",
              damage[k]);
      if (again)
        seccomp_free (again);
    }
  /* A cache directory others may write to, or a symlink in its place, is
     not used (the filter is compiled, nothing is read or written). */
  {
    char moved[160];
    chmod (dir, 0777);
    again = compile_profile ("m1", &err);
    tap_ok (again && !again->from_cache && same (again, plain),
            "a cache directory writable by others is not read");
    if (again)
      seccomp_free (again);
    chmod (dir, 0700);
    snprintf (moved, sizeof moved, "%s/moved-cache", root);
    rename (dir, moved);
    symlink (moved, dir);
    again = compile_profile ("m1", &err);
    tap_ok (again && !again->from_cache && same (again, plain),
            "a symlink in place of the cache directory is not followed");
    if (again)
      seccomp_free (again);
    unlink (dir);
    rename (moved, dir);
  }
  /* Pruning after a write: the 64 most recently written entries stay,
     a temporary file older than a minute goes, anything else is left. */
  {
    const char *other = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                        "[{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}";
    char path[640];
    int entries = 0, oldest_left = 0;
    bool stale_tmp, fresh_tmp, readme;
    for (int i = 0; i < 70; i++)
      {
        struct timespec t[2] = { { 1000 + i, 0 }, { 1000 + i, 0 } };
        snprintf (path, sizeof path, "%s/%064d.bpf", dir, i);
        close (open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        utimensat (AT_FDCWD, path, t, 0);
      }
    snprintf (path, sizeof path, "%s/.old.1.tmp", dir);
    close (open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    utimensat (AT_FDCWD, path, (struct timespec[2]){ { 1000, 0 }, { 1000, 0 } }, 0);
    snprintf (path, sizeof path, "%s/.new.2.tmp", dir);
    close (open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    snprintf (path, sizeof path, "%s/README", dir);
    close (open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    again = compile (other, true, &err);
    tap_ok (again && !again->from_cache, "a new profile is compiled and written");
    if (again)
      seccomp_free (again);
    {
      cleanup_closedir DIR *d = opendir (dir);
      struct dirent *de;
      while (d && (de = readdir (d)))
        if (strlen (de->d_name) == 68 && strcmp (de->d_name + 64, ".bpf") == 0)
          {
            entries++;
            if (strspn (de->d_name, "0") >= 62 && atoi (de->d_name) < 7)
              oldest_left++;
          }
    }
    snprintf (path, sizeof path, "%s/.old.1.tmp", dir);
    stale_tmp = access (path, F_OK) == 0;
    snprintf (path, sizeof path, "%s/.new.2.tmp", dir);
    fresh_tmp = access (path, F_OK) == 0;
    unlink (path);
    snprintf (path, sizeof path, "%s/README", dir);
    readme = access (path, F_OK) == 0;
    unlink (path);
    again = compile (other, true, &err);
    tap_ok (entries == 64 && oldest_left == 0 && again && again->from_cache,
            "64 entries kept, the oldest removed, the new one among them (%d, %d)", entries,
            oldest_left);
    if (again)
      seccomp_free (again);
    tap_ok (!stale_tmp && fresh_tmp && readme,
            "an old temporary file removed, a recent one and other files left");
  }
}

/* In a child: nnp, install, then errno of the raw syscall as exit status. */
static int
run_child (const char *json, long nr, long arg0)
{
  struct berth_error err;
  struct berth_seccomp *f = compile (json, false, &err);
  pid_t pid;
  int status = 0;

  if (f == NULL)
    return -1;
  pid = fork ();
  if (pid == 0)
    {
      int listener;
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install (f, &listener, &err) < 0)
        _exit (200);
      /* exit_group directly: a sanitizer's _exit interceptor makes
         syscalls the filter under test denies. */
      long r = syscall (nr, arg0, 0, 0, 0) < 0 ? errno : 0;
      syscall (SYS_exit_group, r);
    }
  seccomp_free (f);
  waitpid (pid, &status, 0);
  return status;
}

static void
test_install (void)
{
  int st;

  st = run_child ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
                  "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}",
                  SYS_getppid, 0);
  tap_ok (WIFEXITED (st) && WEXITSTATUS (st) == 42, "ERRNO with errnoRet (exit %d)", st >> 8);
  st = run_child ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
                  "\"action\":\"SCMP_ACT_ERRNO\"}]}",
                  SYS_getppid, 0);
  tap_ok (WIFEXITED (st) && WEXITSTATUS (st) == EPERM, "ERRNO without errnoRet is EPERM");
  st = run_child ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
                  "\"action\":\"SCMP_ACT_KILL\"}]}",
                  SYS_getppid, 0);
  tap_ok (WIFSIGNALED (st) && WTERMSIG (st) == SIGSYS, "KILL kills with SIGSYS");
  /* An argument filter: only personality(0xffffffff) (a query) is denied. */
  static const char *const arg
      = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"personality\"],"
        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":0,"
        "\"value\":4294967295,\"op\":\"SCMP_CMP_EQ\"}]}]}";
  st = run_child (arg, SYS_personality, 0xffffffffL);
  tap_ok (WIFEXITED (st) && WEXITSTATUS (st) == 13, "arg filter matches");
  st = run_child (arg, SYS_personality, 0);
  tap_ok (WIFEXITED (st) && WEXITSTATUS (st) == 0, "arg filter does not match other values");
  st = run_child ("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                  "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
                  "\"SECCOMP_FILTER_FLAG_TSYNC\"],\"syscalls\":[{\"names\":[\"exit_group\","
                  "\"exit\"],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"getppid\"],"
                  "\"action\":\"SCMP_ACT_LOG\"}]}",
                  SYS_getpid, 0);
  tap_ok (WIFEXITED (st) && WEXITSTATUS (st) == 38,
          "defaultErrnoRet; LOG, SPEC_ALLOW and TSYNC flags load");
}

/* A child installs a NOTIFY filter and hands the listener to us through
   seccomp_send_listener; we answer its getppid() with ENOMSG. */
static void
test_notify (void)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct berth_error err;
  cleanup_seccomp struct berth_seccomp *f = NULL;
  cleanup_close int srv = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cleanup_close int conn = -1, listener = -1;
  char json[512], buf[4096];
  union { struct cmsghdr h; char b[CMSG_SPACE (sizeof (int))]; } ctl;
  struct iovec iov = { buf, sizeof buf - 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                      .msg_controllen = sizeof ctl.b };
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  ssize_t n;
  pid_t pid;
  int status = 0;

  snprintf (sa.sun_path, sizeof sa.sun_path, "%s/listener.sock", root);
  snprintf (json, sizeof json,
            "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
            "\"listenerMetadata\":\"meta \\\"q\\\"\",\"syscalls\":[{\"names\":[\"getppid\"],"
            "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
            sa.sun_path);
  f = compile (json, false, &err);
  if (!tap_ok (f && f->listener && (f->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER),
               "a NOTIFY rule asks for a listener"))
    return;
  if (bind (srv, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (srv, 1) < 0)
    {
      tap_ok (0, "bind %s: %s", sa.sun_path, strerror (errno));
      return;
    }
  pid = fork ();
  if (pid == 0)
    {
      struct oci_seccomp *s = parse (json);
      cleanup_free char *msg = NULL;
      int fd;
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install (f, &fd, &err) < 0
          || fd < 0
          || seccomp_listener_message (s, getpid (), "{\"ociVersion\":\"1.3.0\",\"id\":\"c\"}",
                                       &msg, &err) < 0
          || seccomp_send_listener (s->listener_path, fd, msg, &err) < 0)
        _exit (200);
      close (fd);
      _exit (syscall (SYS_getppid) < 0 ? errno : 0);
    }
  conn = accept4 (srv, NULL, NULL, SOCK_CLOEXEC);
  n = conn < 0 ? -1 : recvmsg (conn, &m, MSG_CMSG_CLOEXEC);
  if (n > 0 && CMSG_FIRSTHDR (&m) && CMSG_FIRSTHDR (&m)->cmsg_type == SCM_RIGHTS)
    memcpy (&listener, CMSG_DATA (CMSG_FIRSTHDR (&m)), sizeof (int));
  buf[n > 0 ? n : 0] = '\0';
  {
    char want[256];
    snprintf (want, sizeof want,
              "{\"ociVersion\":\"1.3.0\",\"fds\":[\"seccompFd\"],\"pid\":%d,"
              "\"metadata\":\"meta \\\"q\\\"\",\"state\":{\"ociVersion\":\"1.3.0\",\"id\":\"c\"}}",
              (int) pid);
    if (!tap_ok (strcmp (buf, want) == 0, "the listener gets the containerProcessState"))
      tap_diag ("got %s", buf);
  }
  tap_ok (listener >= 0, "and the listener fd");
  memset (&req, 0, sizeof req);
  if (listener >= 0 && ioctl (listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0)
    {
      tap_ok (req.pid == (unsigned) pid && req.data.nr == SYS_getppid,
              "the notification is the child's getppid");
      resp = (struct seccomp_notif_resp) { .id = req.id, .error = -ENOMSG };
      ioctl (listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
  else
    tap_ok (0, "SECCOMP_IOCTL_NOTIF_RECV: %s", strerror (errno));
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == ENOMSG,
          "the child sees the answer (exit %d)", status >> 8);
  unlink (sa.sun_path);
}

/* The ENOSYS stub in front of a program that allows exit and exit_group
   and says EPERM to the rest: in a child, calls above x86-64's "newest" nr
   (300 here) get ENOSYS, older ones and x32's go on to the program, and
   another architecture's block changes nothing.  The child's exit status
   carries the three answers. */
static void
test_enosys_stub (void)
{
#if defined(__x86_64__)
  struct sock_filter prog[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 2, 0),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  /* 300: above exit_group (231), which the child needs. */
  struct enosys_arch arches[] = { { AUDIT_ARCH_I386, 5 }, { AUDIT_ARCH_X86_64, 300 } };
  struct sock_filter *insns = malloc (sizeof prog);
  unsigned short len = sizeof prog / sizeof prog[0];
  struct berth_error err = { 0 };
  int status;
  pid_t pid;

  memcpy (insns, prog, sizeof prog);
  tap_ok (seccomp_enosys_prepend (arches, 2, &insns, &len, 4096, &err) == 0
              && len == 5 + 6 + sizeof prog / sizeof prog[0],
          "the stub: 5 instructions for i386, 6 for x86-64 (x32 test), then the program");
  tap_ok (seccomp_enosys_prepend (arches, 2, &(struct sock_filter *){ NULL },
                                  &(unsigned short){ 4090 }, 4096, &err)
              < 0 && err.kind == BERTH_E_LIMIT,
          "a stub that would pass the kernel's limit is refused: %s", err.msg);
  pid = fork ();
  if (pid == 0)
    {
      struct sock_fprog fp = { len, insns };
      long r1, r2, r3;
      int e1, e2, e3;
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
          || syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
        _exit (99);
      r1 = syscall (301), e1 = errno;
      r2 = syscall (SYS_getppid), e2 = errno;
      r3 = syscall (0x40000000 | 500), e3 = errno;
      /* exit_group directly: a sanitizer's _exit interceptor would make
         calls the filter refuses. */
      syscall (SYS_exit_group, (r1 < 0 && e1 == ENOSYS ? 1 : 0) | (r2 < 0 && e2 == EPERM ? 2 : 0)
                                   | (r3 < 0 && e3 == EPERM ? 4 : 0));
    }
  waitpid (pid, &status, 0);
  tap_ok (WIFEXITED (status) && (WEXITSTATUS (status) & 1), "a call above 300 gets ENOSYS");
  tap_ok (WIFEXITED (status) && (WEXITSTATUS (status) & 2), "getppid goes on to the program");
  tap_ok (WIFEXITED (status) && (WEXITSTATUS (status) & 4), "an x32 call goes on to the program");
  free (insns);
#else
  tap_diag ("skipped: the stub test is written for x86-64");
#endif
}

int
main (void)
{
  snprintf (root, sizeof root, "/tmp/berth-test-seccomp.XXXXXX");
  if (mkdtemp (root) == NULL)
    return perror ("mkdtemp"), 1;
  test_sha256 ();
  test_errors ();
  test_cache ();
  test_install ();
  test_notify ();
  test_enosys_stub ();
  {
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system (cmd) != 0)
      tap_diag ("could not remove %s", root);
  }
  return tap_done ();
}
