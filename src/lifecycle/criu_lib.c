/* berth — libcriu linked in or loaded on use, and the container described to CRIU
   (criu_lib.h). */
#include "lifecycle/criu_lib.h"
#include "lifecycle/checkpoint.h"
#include "base/dynlib.h"
#include "base/safepath.h"
#include "base/utils.h"
#include "cleanup.h"
#include "fs/mountopts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void
criu_lib_close (struct criu_lib *lib)
{
  if (lib->opts && lib->criu_local_free_opts)
    lib->criu_local_free_opts (lib->opts);
  lib->opts = NULL;
  if (lib->config_fd > 0)
    {
      unsetenv ("CRIU_CONFIG_FILE");
      close (lib->config_fd);
    }
  lib->config_fd = 0;
#ifndef BERTH_STATIC
  dynlib_close (lib->dl);
#endif
  lib->dl = NULL;
}

#ifndef BERTH_STATIC
#define CRIU_SYM(f) DYNLIB_SYM (struct criu_lib, f)
static const struct dynlib_sym criu_syms[] = { CRIU_SYMBOLS (CRIU_SYM) };
#undef CRIU_SYM
static const struct dynlib libcriu = {
  .soname = "libcriu.so.2",
  .unloadable = "checkpoint/restore need libcriu.so.2 (Debian's criu package), which could "
                "not be loaded",
  .missing = ": CRIU 3.16 or later is needed",
  .syms = criu_syms,
  .n_syms = sizeof criu_syms / sizeof criu_syms[0],
};
#endif

static int
load (struct criu_lib *lib, struct berth_error *err)
{
#ifdef BERTH_STATIC
#define CRIU_LINKED(f) lib->f = f;
  CRIU_SYMBOLS (CRIU_LINKED)
#undef CRIU_LINKED
  (void) err;
  return 0;
#else
  lib->dl = dynlib_open (&libcriu, lib, err);
  return lib->dl ? 0 : -1;
#endif
}

/* libcriu reports a binary it cannot execute on stderr, in words of its
   own: found first, it is one line of ours. */
static bool
executable (const char *bin)
{
  const char *path = getenv ("PATH");
  char full[PATH_MAX];

  if (strchr (bin, '/'))
    return access (bin, X_OK) == 0;
  for (const char *p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p;)
    {
      size_t n = strcspn (p, ":");
      if (n && (size_t) snprintf (full, sizeof full, "%.*s/%s", (int) n, p, bin) < sizeof full
          && access (full, X_OK) == 0)
        return true;
      p += n + (p[n] == ':');
    }
  return false;
}

/* The first error line of `criu check`, CRIU's own words for why it
   cannot work here (the RPC probe says it only on stderr, cut short). */
static void
check_reason (const char *bin, char *why, size_t size)
{
  cleanup_close int out = memfd_create ("criu-check", MFD_CLOEXEC);
  char text[8192], *e, *end;
  ssize_t n;
  pid_t pid;

  if (out < 0 || (pid = fork ()) < 0)
    return;
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      dup2 (null, 0);
      dup2 (out, 1);
      dup2 (out, 2);
      execlp (bin, bin, "check", (char *) NULL);
      _exit (127);
    }
  waitpid (pid, NULL, 0);
  if ((n = pread (out, text, sizeof text - 1, 0)) <= 0)
    return;
  text[n] = '\0';
  if ((e = strstr (text, "Error (")) == NULL || (e = strstr (e, "): ")) == NULL)
    return;
  e += 3;
  end = e + strcspn (e, "\n");
  snprintf (why, size, "%.*s", (int) (end - e), e);
}

/* CRIU's probe of the kernel (kerndat), as its feature check runs it.
   libcriu 3.17's own check call cannot be used: its request carries no
   options, which the service's check dereferences.  The probe writes its
   errors on our stderr: they go to /dev/null, and `criu check` is asked
   for the reason when it fails. */
static int
check (struct criu_lib *lib, const char *bin, struct berth_error *err)
{
  struct criu_feature_check f = { .mem_track = true };
  cleanup_close int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  cleanup_close int saved = fcntl (2, F_DUPFD_CLOEXEC, 3);
  char why[512] = "";
  int r, v = lib->version;

  if (null >= 0 && saved >= 0)
    dup2 (null, 2);
  r = lib->criu_local_feature_check (lib->opts, &f, sizeof f);
  if (null >= 0 && saved >= 0)
    dup2 (saved, 2);
  if (r == 0)
    return 0;
  check_reason (bin, why, sizeof why);
  return berth_err (err, BERTH_E_UNSUPPORTED,
                    "criu check failed: %s (CRIU %d.%d.%d cannot work on this kernel)",
                    why[0] ? why : strerror (-r), v / 10000, v / 100 % 100, v % 100);
}

int
criu_lib_open (const char *criu_path, struct criu_lib *lib, struct berth_error *err)
{
  const char *bin = criu_path ? criu_path : "criu";
  int r;

  memset (lib, 0, sizeof *lib);
  if (load (lib, err) < 0)
    {
      criu_lib_close (lib);
      return -1;
    }
  if (!executable (bin))
    {
      int e = errno;
      criu_lib_close (lib);
      return berth_err (err, BERTH_E_UNSUPPORTED, "criu check failed: cannot run %s: %s", bin,
                        strchr (bin, '/') ? strerror (e) : "not found in PATH");
    }
  if ((r = lib->criu_local_init_opts (&lib->opts)) < 0
      || (criu_path && (r = lib->criu_local_set_service_binary (lib->opts, criu_path)) < 0))
    {
      criu_lib_close (lib);
      return berth_err_sys (err, -r, "libcriu: set up its options");
    }
  lib->version = lib->criu_local_get_version (lib->opts);
  if (lib->version < 0)
    {
      r = lib->version;
      criu_lib_close (lib);
      return berth_err (err, BERTH_E_UNSUPPORTED, "criu check failed: cannot run %s (%s)", bin,
                        strerror (-r));
    }
  if ((r = check (lib, bin, err)) < 0)
    criu_lib_close (lib);
  return r;
}

/* runc dumps and restores every container with CRIU's empty_ns for the
   network (the network namespace's interfaces and addresses are the
   engine's: CRIU would save them with `ip`, and restore them into a new
   namespace the engine did not set up).  libcriu has no call for it, so it
   goes in a config file CRIU's service reads when it starts
   ($CRIU_CONFIG_FILE), a memfd it inherits. */
static int
config_file (struct criu_lib *lib, struct berth_error *err)
{
  static const char text[] = "empty-ns net\n";
  char path[64];
  int fd;

  if (lib->config_fd > 0)
    return 0;
  if ((fd = memfd_create ("berth-criu.conf", 0)) < 0)
    return berth_err_sys (err, errno, "memfd_create");
  lib->config_fd = fd;
  if (write (fd, text, sizeof text - 1) != (ssize_t) sizeof text - 1)
    return berth_err_sys (err, errno, "write CRIU's config");
  snprintf (path, sizeof path, "/proc/%d/fd/%d", (int) getpid (), fd);
  if (setenv ("CRIU_CONFIG_FILE", path, 1) < 0)
    return berth_err_sys (err, errno, "setenv CRIU_CONFIG_FILE");
  return 0;
}

int
criu_lib_common (struct criu_lib *lib, const struct criu_options *o, int image_fd, int work_fd,
                 const char *log, const char *root, struct berth_error *err)
{
  static const enum criu_cg_mode modes[] = {
    [CHECKPOINT_CG_DEFAULT] = CRIU_CG_MODE_SOFT, /* runc's and crun's default */
    [CHECKPOINT_CG_SOFT] = CRIU_CG_MODE_SOFT,
    [CHECKPOINT_CG_FULL] = CRIU_CG_MODE_FULL,
    [CHECKPOINT_CG_STRICT] = CRIU_CG_MODE_STRICT,
  };
  criu_opts *c = lib->opts;
  int r;

  if (config_file (lib, err) < 0)
    return -1;
  lib->criu_local_set_images_dir_fd (c, image_fd);
  lib->criu_local_set_work_dir_fd (c, work_fd);
  lib->criu_local_set_log_level (c, 4);
  if ((r = lib->criu_local_set_log_file (c, log)) < 0
      || (r = lib->criu_local_set_root (c, root)) < 0)
    return berth_err_sys (err, -r, "libcriu: set the log and root");
  lib->criu_local_set_manage_cgroups (c, true);
  lib->criu_local_set_manage_cgroups_mode (c, modes[o->cg_mode]);
  lib->criu_local_set_tcp_established (c, o->tcp_established);
  lib->criu_local_set_ext_unix_sk (c, o->ext_unix_sk);
  lib->criu_local_set_shell_job (c, o->shell_job);
  lib->criu_local_set_file_locks (c, o->file_locks);
  lib->criu_local_set_auto_dedup (c, o->auto_dedup);
  /* A terminal's master is outside the container: CRIU hands a new one
     back at restore (restore.c sends it on). */
  lib->criu_local_set_orphan_pts_master (c, true);
  return 0;
}

/* A destination as CRIU sees the mount inside the root: cleaned, absolute. */
static int
add_ext_mount (struct criu_lib *lib, const char *dest, const char *val, struct berth_error *err)
{
  cleanup_free char *key = safepath_clean (dest);
  int r;

  if (key == NULL)
    return berth_err_sys (err, ENOMEM, "external mount %s", dest);
  if ((r = lib->criu_local_add_ext_mount (lib->opts, key, val ? val : key)) < 0)
    return berth_err_sys (err, -r, "libcriu: external mount %s", key);
  return 0;
}

/* At dump: a masked path that is a file in the container, so bound over
   with /dev/null (a masked directory is a tmpfs CRIU dumps itself). */
static bool
masked_file (pid_t pid, const char *path)
{
  char p[PATH_MAX];
  struct stat st;

  snprintf (p, sizeof p, "/proc/%d/root/%s", (int) pid, path);
  return stat (p, &st) == 0 && !S_ISDIR (st.st_mode);
}

int
criu_lib_ext_mounts (struct criu_lib *lib, const struct oci_config *c, pid_t dumped,
                     struct berth_error *err)
{
  bool restore = dumped == 0;
  const struct oci_linux *l = c->linux;

  for (size_t i = 0; i < c->mounts_len; i++)
    {
      const struct oci_mount *m = &c->mounts[i];
      if (mount_is_bind (m) && m->destination
          && add_ext_mount (lib, m->destination, restore ? m->source : NULL, err) < 0)
        return -1;
    }
  /* Masked files are bound over with /dev/null: one key for all of them. */
  for (size_t i = 0; l && i < l->masked_paths_len && !restore; i++)
    {
      cleanup_free char *key = safepath_clean (l->masked_paths[i]);
      int r;
      if (key && !masked_file (dumped, key))
        continue;
      if (key == NULL)
        return berth_err_sys (err, ENOMEM, "masked path");
      if ((r = lib->criu_local_add_ext_mount (lib->opts, key, "/dev/null")) < 0)
        return berth_err_sys (err, -r, "libcriu: external mount %s", key);
    }
  if (restore && l && l->masked_paths_len && add_ext_mount (lib, "/dev/null", "/dev/null", err) < 0)
    return -1;
  /* Bound from the host in a user namespace; made with mknod otherwise,
     when CRIU finds no such mount and the key goes unused. */
  for (size_t i = 0; l && i < l->devices_len; i++)
    if (l->devices[i].path && add_ext_mount (lib, l->devices[i].path, NULL, err) < 0)
      return -1;
  return 0;
}

int
criu_lib_failed (int r, const char *what, int work_fd, const char *log, const char *work_path,
                 struct berth_error *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  char *first = NULL;
  struct berth_error ignored = { 0 };

  if (read_file_at (work_fd, log, &text, &len, &ignored) == 0)
    /* The first: what follows is CRIU giving up ("Dumping FAILED."). */
    for (char *line = strtok (text, "\n"); line && !first; line = strtok (NULL, "\n"))
      if (strstr (line, "Error (") || strncmp (line, "Error", 5) == 0)
        first = line;
  berth_err (err, BERTH_E_CHILD, "CRIU %s failed: %s", what,
             first ? strstr (first, "Error") : strerror (-r));
  if (work_path)
    {
      char where[PATH_MAX + 64];
      snprintf (where, sizeof where, " (log: %s/%s)", work_path, log);
      if (strlen (err->msg) + strlen (where) < sizeof err->msg)
        strcat (err->msg, where);
    }
  return -1;
}

const char *
criu_lib_ext_ns_key (const char *type)
{
  if (type && strcmp (type, "network") == 0)
    return "extRootNetNS";
  if (type && strcmp (type, "pid") == 0)
    return "extRootPidNS";
  return NULL;
}

int
criu_lib_image_path (const char *opt, char path[PATH_MAX], struct berth_error *err)
{
  char cwd[PATH_MAX - 16];

  if (opt && opt[0])
    {
      if ((size_t) snprintf (path, PATH_MAX, "%s", opt) >= PATH_MAX)
        return berth_err (err, BERTH_E_USAGE, "--image-path is too long");
      return 0;
    }
  if (getcwd (cwd, sizeof cwd) == NULL)
    return berth_err_sys (err, errno, "getcwd");
  snprintf (path, PATH_MAX, "%s/checkpoint", cwd);
  return 0;
}

int
criu_lib_work_dir (const char *opt, int *fd, const char **path, struct berth_error *err)
{
  if (opt == NULL || opt[0] == '\0')
    return 0;
  if (mkdir (opt, 0700) < 0 && errno != EEXIST)
    return berth_err_sys (err, errno, "create the work directory %s", opt);
  if ((*fd = open (opt, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return berth_err_sys (err, errno, "open the work directory %s", opt);
  *path = opt;
  return 0;
}
