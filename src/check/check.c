/* berth check: the driver and the host checks that are not about cgroups
   (check_cgroup.c) or the config's own rules (check_spec.c); the report is
   report.c's.  See check.h. */
#include "check/check_priv.h"
#include "cleanup.h"
#include "security/lsm.h"
#include "fs/mountopts.h"
#include "fs/rootfs.h"
#include "init/mempolicy.h"
#include "init/namespaces.h"
#include "init/netdev.h"
#include "init/process.h"
#include "base/safepath.h"
#include "init/scheduling.h"
#include "init/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
file_starts_with (const char *path, char c)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  char b = 0;
  return fd >= 0 && read (fd, &b, 1) == 1 && b == c;
}

/* ---- what create refuses outright ------------------------------------------ */

static void
unsupported (struct check_ctx *x, const char *path)
{
  check_add (x, CHECK_ERROR, BERTH_E_UNSUPPORTED, path, "not supported by berth yet");
}

/* process_check's rules (create and exec refuse by them), each property on
   its own so that one problem does not hide the next. */
static void
check_process_extras (struct check_ctx *x, const struct oci_process *p,
                      const struct oci_linux *l)
{
  const struct oci_cpu_affinity *a = p->exec_cpu_affinity;
  struct oci_process one = { 0 };
  struct oci_linux lone = { 0 };
  struct sched_plan sp;
  struct berth_error e = { 0 };

  one.scheduler = p->scheduler;
  if (sched_plan_make (&one, ".process", &sp, &e) < 0)
    check_add_error (x, CHECK_ERROR, &e, NULL);
  one = (struct oci_process){ .io_priority = p->io_priority };
  if (sched_plan_make (&one, ".process", &sp, &e) < 0)
    check_add_error (x, CHECK_ERROR, &e, NULL);
  for (int i = 0; a && i < 2; i++)
    {
      struct cpu_list cl;
      const char *path = i ? ".process.execCPUAffinity.final" : ".process.execCPUAffinity.initial";
      if (cpu_list_parse (i ? a->final : a->initial, path, &cl, &e) < 0)
        check_add_error (x, CHECK_ERROR, &e, NULL);
      cpu_list_free (&cl);
    }
  one = (struct oci_process){ .apparmor_profile = p->apparmor_profile };
  if (lsm_check_host (&one, ".process", NULL, &e) < 0)
    check_add_error (x, CHECK_ERROR, &e, NULL);
  one = (struct oci_process){ .selinux_label = p->selinux_label };
  if (lsm_check_host (&one, ".process", NULL, &e) < 0)
    check_add_error (x, CHECK_ERROR, &e, NULL);
  lone.mount_label = l ? l->mount_label : NULL;
  if (lsm_check_host (NULL, ".process", &lone, &e) < 0)
    check_add_error (x, CHECK_ERROR, &e, NULL);
}

/* container.c's check_config_for_create, every refusal reported. */
static void
check_create_rules (struct check_ctx *x)
{
  const struct oci_config *c = x->c;
  const struct oci_linux *l = c->linux;
  const struct oci_process *p = c->process;

  if (p == NULL)
    check_add (x, CHECK_WARNING, BERTH_E_MISSING, ".process",
               "no process: the container can be created, but start will refuse it");
  {
    struct berth_error e = { 0 };
    bool inherits;
    if (ns_check_mount_inherited (c, &inherits, &e) < 0)
      check_add_error (x, CHECK_ERROR, &e, NULL);
    else if (inherits)
      check_add (x, CHECK_WARNING, BERTH_E_VALUE, ".linux.namespaces",
                 "no mount namespace: the mounts go into the runtime's, and delete removes "
                 "them");
  }
  if (l && l->memory_policy)
    {
      struct mempolicy_plan plan;
      struct berth_error e = { 0 };
      if (mempolicy_plan (l->memory_policy, &plan, &e) < 0)
        check_add_error (x, CHECK_ERROR, &e, NULL);
    }
  {
    struct berth_error e = { 0 };
    if (netdev_check (c, &e) < 0)
      check_add_error (x, CHECK_ERROR, &e, NULL);
  }
  if (l && l->intel_rdt)
    unsupported (x, ".linux.intelRdt");
  if (p)
    check_process_extras (x, p, l);
}

/* ---- the filesystem: rootfs, mounts, hooks, the program --------------------- */

/* rootfs_resolve(), create's rule. */
static bool
check_rootfs (struct check_ctx *x, char *rootfs)
{
  const char *rp = x->c->root ? x->c->root->path : NULL;
  struct berth_error e = { 0 };

  if (rp == NULL || rp[0] == '\0')
    return false; /* check_spec said so */
  if (rootfs_resolve (x->c, x->bundle, rootfs, &e) < 0)
    {
      check_add_error (x, CHECK_ERROR, &e, NULL);
      return false;
    }
  return true;
}

static void
check_mounts (struct check_ctx *x)
{
  char path[96], src[PATH_MAX];

  for (size_t i = 0; i < x->c->mounts_len; i++)
    {
      const struct oci_mount *m = &x->c->mounts[i];
      struct stat st;

      /* mount_validate()'s rules are check_spec's; here, the host. */
      if (!mount_is_bind (m) || m->source == NULL || m->source[0] == '\0')
        continue;
      CHECK_PATHF (path, ".mounts[%zu].source", i);
      /* A relative source is relative to the bundle, create's cwd. */
      if (snprintf (src, sizeof src, "%s%s%s", m->source[0] == '/' ? "" : x->bundle,
                    m->source[0] == '/' ? "" : "/", m->source)
          >= (int) sizeof src)
        check_add (x, CHECK_ERROR, BERTH_E_VALUE, path, "path too long");
      else if (stat (src, &st) < 0 && errno == ENOENT)
        check_add (x, CHECK_ERROR, BERTH_E_NOT_FOUND, path, "%s does not exist", m->source);
      else if (access (src, F_OK) < 0)
        check_add (x, CHECK_ERROR, BERTH_E_SYSTEM, path, "%s: %s", m->source, strerror (errno));
    }
}

static void
check_hooks (struct check_ctx *x)
{
  struct oci_hook_list lists[OCI_HOOK_KINDS];
  char path[96];
  struct stat st;

  oci_hook_lists (x->c->hooks, lists);
  /* Only the runtime-namespace hooks name host paths that exist now;
     createContainer and startContainer run in the container's root. */
  for (size_t l = 0; l < OCI_HOOK_KINDS; l++)
    for (size_t i = 0; i < lists[l].n; i++)
      {
        const char *hp = lists[l].v[i].path;
        if (hp[0] != '/' || strstr (lists[l].name, "Container"))
          continue;
        CHECK_PATHF (path, ".hooks.%s[%zu].path", lists[l].name, i);
        if (stat (hp, &st) < 0)
          check_add (x, CHECK_ERROR, BERTH_E_NOT_FOUND, path, "%s: %s", hp, strerror (errno));
        else if (!S_ISREG (st.st_mode) || !(st.st_mode & 0111))
          check_add (x, CHECK_ERROR, BERTH_E_VALUE, path, "%s is not an executable file", hp);
      }
}

/* Whether a mount may put something at `abs` (a clean absolute path): then
   the rootfs alone cannot tell whether the program is there. */
static bool
under_a_mount (const struct oci_config *c, const char *abs)
{
  for (size_t i = 0; i < c->mounts_len; i++)
    {
      cleanup_free char *d = safepath_clean (c->mounts[i].destination);
      size_t l = d ? strlen (d) : 0;
      if (d && strncmp (d, abs, l) == 0 && (abs[l] == '/' || abs[l] == '\0' || l == 1))
        return true;
    }
  return false;
}

struct program_probe {
  const struct oci_config *c;
  int root_fd;
  const char *cwd;
};

/* process_find_program_with()'s probe, in the rootfs seen from outside:
   a name that a mount may provide passes (the rootfs alone cannot tell). */
static int
probe_rootfs (void *ctx, const char *name)
{
  const struct program_probe *pp = ctx;
  char joined[PATH_MAX * 2];
  cleanup_free char *abs = NULL;
  cleanup_close int fd = -1;
  struct berth_error e = { 0 };
  struct stat st;

  snprintf (joined, sizeof joined, "%s%s%s", name[0] == '/' ? "" : pp->cwd,
            name[0] == '/' ? "" : "/", name);
  if ((abs = safepath_clean (joined)) == NULL || under_a_mount (pp->c, abs))
    return 0;
  if ((fd = safepath_open (pp->root_fd, abs, O_PATH | O_CLOEXEC, 0, &e)) < 0)
    return e.errnum > 0 ? e.errnum : ENOENT;
  return fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 0111) ? 0 : -1;
}

/* process.args[0] as the init will look for it, in the root. */
static void
check_program (struct check_ctx *x, const char *rootfs)
{
  const struct oci_process *p = x->c->process;
  struct program_probe pp = { .c = x->c, .root_fd = -1 };
  cleanup_close int root_fd = -1;
  cleanup_free char *found = NULL;
  struct berth_error e = { 0 };

  if (p == NULL || p->args_len == 0 || p->cwd[0] != '/')
    return; /* check_spec said so */
  if ((root_fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return;
  pp.root_fd = root_fd;
  pp.cwd = p->cwd;
  if (process_find_program_with (p, ".process", probe_rootfs, &pp, &found, &e) < 0)
    {
      if (e.errnum == ENOMEM)
        x->oom = true;
      else
        check_add_error (x, CHECK_ERROR, &e, NULL);
    }
}

/* ---- the kernel: namespaces, capabilities, rlimits, sysctls ---------------- */

static void
check_namespaces (struct check_ctx *x)
{
  const struct oci_linux *l = x->c->linux;
  char path[96], proc[64];

  for (size_t i = 0; l && i < l->namespaces_len; i++)
    {
      const struct oci_namespace *n = &l->namespaces[i];
      cleanup_close int fd = -1;
      struct berth_error e = { 0 };
      int k = ns_from_type (n->type);

      if (k < 0)
        continue; /* check_spec said so */
      if (n->path == NULL || n->path[0] == '\0')
        {
          CHECK_PATHF (proc, "/proc/self/ns/%s", ns_proc_name (k));
          CHECK_PATHF (path, ".linux.namespaces[%zu].type", i);
          if (access (proc, F_OK) < 0)
            check_add (x, CHECK_ERROR, BERTH_E_UNSUPPORTED, path,
                       "this kernel has no %s namespaces (%s does not exist)", n->type, proc);
          else if (k == NS_USER
                   && file_starts_with ("/proc/sys/user/max_user_namespaces", '0'))
            check_add (x, CHECK_ERROR, BERTH_E_UNSUPPORTED, path,
                       "user namespaces are disabled on this host "
                       "(/proc/sys/user/max_user_namespaces is 0)");
          continue;
        }
      if (n->path[0] != '/')
        continue; /* check_spec said so */
      if ((fd = ns_open_path (n, i, &e)) < 0)
        check_add_error (x, CHECK_ERROR, &e, NULL);
    }
}

static void
check_cap_set (struct check_ctx *x, const char *set, char *const *names, size_t n)
{
  char path[96];

  for (size_t i = 0; i < n; i++)
    {
      int c;
      enum process_cap_name r = process_cap_resolve (names[i], &c);
      CHECK_PATHF (path, ".process.capabilities.%s[%zu]", set, i);
      /* Warnings: create skips them, with a warning (config.md). */
      if (r == PROCESS_CAP_UNKNOWN)
        check_add (x, CHECK_WARNING, BERTH_E_VALUE, path,
                   "unknown capability \"%s\" (skipped)", names[i]);
      else if (r == PROCESS_CAP_NOT_IN_KERNEL)
        check_add (x, CHECK_WARNING, BERTH_E_UNSUPPORTED, path,
                   "%s is not supported by this kernel (skipped)", names[i]);
    }
}

static void
check_capabilities (struct check_ctx *x)
{
  const struct oci_capabilities *c = x->c->process ? x->c->process->capabilities : NULL;

  if (c == NULL)
    return;
  check_cap_set (x, "bounding", c->bounding, c->bounding_len);
  check_cap_set (x, "effective", c->effective, c->effective_len);
  check_cap_set (x, "inheritable", c->inheritable, c->inheritable_len);
  check_cap_set (x, "permitted", c->permitted, c->permitted_len);
  check_cap_set (x, "ambient", c->ambient, c->ambient_len);
}

static bool
have_cap (cap_value_t cap)
{
  cap_t caps = cap_get_proc ();
  cap_flag_value_t v = CAP_CLEAR;

  if (caps)
    {
      cap_get_flag (caps, cap, CAP_EFFECTIVE, &v);
      cap_free (caps);
    }
  return v == CAP_SET;
}

static void
check_rlimits (struct check_ctx *x)
{
  const struct oci_process *p = x->c->process;
  bool privileged = have_cap (CAP_SYS_RESOURCE);
  char path[96];

  for (size_t i = 0; p && !privileged && i < p->rlimits_len; i++)
    {
      int res = oci_rlimit_resource (p->rlimits[i].type);
      struct rlimit cur;
      if (res < 0 || getrlimit (res, &cur) < 0 || cur.rlim_max == RLIM_INFINITY
          || p->rlimits[i].hard <= cur.rlim_max)
        continue;
      /* Raising a hard limit takes CAP_SYS_RESOURCE in the initial user
         namespace: whoever runs create may or may not have it. */
      CHECK_PATHF (path, ".process.rlimits[%zu].hard", i);
      check_add (x, CHECK_WARNING, BERTH_E_RANGE, path,
                 "%llu is above the current hard limit %llu, which only a process with "
                 "CAP_SYS_RESOURCE may raise", (unsigned long long) p->rlimits[i].hard,
                 (unsigned long long) cur.rlim_max);
    }
}

static void
check_sysctls (struct check_ctx *x)
{
  const struct oci_linux *l = x->c->linux;
  char path[300], file[300];

  for (size_t i = 0; l && i < l->sysctl_len; i++)
    {
      const char *key = l->sysctl_keys[i];
      /* The rule itself is config_rules' (check_spec), reported there;
         here only the host's side of a key that passes it. */
      struct berth_reporter quiet = { .err = &(struct berth_error){ 0 } };

      oci_path_key (path, sizeof path, ".linux.sysctl", key);
      if (sysctl_validate (x->c, i, &quiet) == 0)
        {
          CHECK_PATHF (file, "/proc/sys/%s", key);
          for (char *c = file + 10; *c; c++)
            *c = *c == '.' ? '/' : *c;
          /* A warning: a new namespace may have what the host's has not
             (a device's net.ipv4.conf.IFACE.*). */
          if (access (file, F_OK) < 0)
            check_add (x, CHECK_WARNING, BERTH_E_NOT_FOUND, path,
                       "this kernel has no sysctl \"%s\" (%s does not exist)", key, file);
        }
    }
}

/* ---- the driver --------------------------------------------------------------- */

/* Read and parse config.json; a problem (not a failure) when that cannot be
   done, and then there is nothing more to check. */
static struct oci_config *
load (struct check_ctx *x)
{
  const char *bundle = x->o->bundle ? x->o->bundle : ".";
  cleanup_close int fd = -1;
  struct berth_error e = { 0 };
  void *obj = NULL;

  if (realpath (bundle, x->bundle) == NULL)
    {
      check_add (x, CHECK_ERROR, BERTH_E_NOT_FOUND, NULL, "bundle %s: %s", bundle,
                 strerror (errno));
      return NULL;
    }
  fd = open (x->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      int dirfd = steal_fd (&fd);
      fd = openat (dirfd, "config.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      close (dirfd);
    }
  if (fd < 0)
    {
      if (errno == ELOOP)
        check_add (x, CHECK_ERROR, BERTH_E_VALUE, NULL,
                   "config.json in %s is a symbolic link; berth reads only a regular file",
                   x->bundle);
      else
        check_add (x, CHECK_ERROR, errno == ENOENT ? BERTH_E_NOT_FOUND : BERTH_E_SYSTEM, NULL,
                   "config.json in bundle %s: %s", x->bundle,
                   errno == ENOENT ? "not found" : strerror (errno));
      return NULL;
    }
  if (oci_parse_fd (&oci_type_config, fd, "config.json", &obj, &e) < 0)
    {
      berth_err_set_source (&e, "config.json");
      check_add_error (x, CHECK_ERROR, &e, NULL);
      return NULL;
    }
  return obj;
}

int
check_bundle (const struct check_options *o, struct check_report *r, struct berth_error *err)
{
  struct check_ctx x = { .o = o, .r = r };
  cleanup_config struct oci_config *c = NULL;
  char rootfs[PATH_MAX];

  memset (r, 0, sizeof *r);
  x.c = c = load (&x);
  if (c)
    {
      check_spec (&x);
      check_create_rules (&x);
      if (check_rootfs (&x, rootfs))
        check_program (&x, rootfs);
      check_mounts (&x);
      check_hooks (&x);
      check_namespaces (&x);
      check_capabilities (&x);
      check_rlimits (&x);
      check_sysctls (&x);
      check_cgroups (&x);
    }
  if (x.oom)
    return berth_err_sys (err, ENOMEM, "out of memory");
  return 0;
}
