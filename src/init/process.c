#include "init/process.h"
#include "cleanup.h"
#include "base/log.h"
#include "security/lsm.h"
#include "base/safepath.h"
#include "init/scheduling.h"
#include "init/namespaces.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void
set_path (struct berth_error *err, const char *base, const char *suffix)
{
  snprintf (err->path, sizeof err->path, "%s%s", base, suffix);
}

static const char *
env_get (const struct oci_process *p, const char *name)
{
  size_t n = strlen (name);
  for (size_t i = 0; i < p->env_len; i++)
    if (strncmp (p->env[i], name, n) == 0 && p->env[i][n] == '=')
      return p->env[i] + n + 1;
  return NULL;
}

/* The process's view: the init has entered the root and the cwd. */
static int
probe_here (void *ctx, const char *path)
{
  struct stat st;

  (void) ctx;
  if (stat (path, &st) < 0)
    return errno;
  return S_ISREG (st.st_mode) && access (path, X_OK) == 0 ? 0 : -1;
}

int
process_find_program (const struct oci_process *p, const char *base, char **out,
                      struct berth_error *err)
{
  return process_find_program_with (p, base, probe_here, NULL, out, err);
}

int
process_find_program_with (const struct oci_process *p, const char *base,
                           int (*probe) (void *ctx, const char *path), void *ctx, char **out,
                           struct berth_error *err)
{
  const char *prog = p->args[0];
  const char *search;
  cleanup_free char *copy = NULL;
  char *save = NULL;
  int e;

  if (prog[0] == '\0')
    {
      berth_err (err, BERTH_E_VALUE, "the program name is empty");
      set_path (err, base, ".args[0]");
      return -1;
    }
  if (strchr (prog, '/'))
    {
      /* runc's words, errno texts in lower case as Go writes them: the
         Docker CLI picks its exit status by matching them ("no such file
         or directory": 127, "permission denied": 126). */
      if ((e = probe (ctx, prog)) > 0)
        {
          char why[96];
          snprintf (why, sizeof why, "%s", strerror (e));
          why[0] = (char) tolower ((unsigned char) why[0]);
          berth_err (err, BERTH_E_VALUE, "exec: \"%s\": stat %s: %s", prog, prog, why);
          set_path (err, base, ".args[0]");
          return -1;
        }
      if (e < 0)
        {
          berth_err (err, BERTH_E_VALUE, "exec: \"%s\": permission denied", prog);
          set_path (err, base, ".args[0]");
          return -1;
        }
      *out = strdup (prog);
      return *out ? 0 : berth_err_sys (err, ENOMEM, "out of memory");
    }
  search = env_get (p, "PATH");
  copy = strdup (search ? search : DEFAULT_PATH);
  if (copy == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  for (char *dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      char candidate[PATH_MAX];
      if (snprintf (candidate, sizeof candidate, "%s/%s", *dir ? dir : ".", prog)
          >= (int) sizeof candidate)
        continue;
      if (probe (ctx, candidate) == 0)
        {
          *out = strdup (candidate);
          return *out ? 0 : berth_err_sys (err, ENOMEM, "out of memory");
        }
    }
  berth_err (err, BERTH_E_VALUE, "exec: \"%s\": executable file not found in $PATH (%s)", prog,
             search ? search : DEFAULT_PATH);
  set_path (err, base, ".args[0]");
  return -1;
}

/* runc's check after chdir (CVE-2024-21626): a directory the process's root
   cannot reach is reported by getcwd(2) as "(unreachable)...", which glibc
   turns into ENOENT. */
int
process_check_cwd (const char *cwd, const char *base, struct berth_error *err)
{
  char buf[PATH_MAX];

  bool got = getcwd (buf, sizeof buf) != NULL;

  if (got && buf[0] == '/')
    return 0;
  if (got || errno == ENOENT)
    berth_err (err, BERTH_E_VALUE,
               "working directory %s is outside the container's root: refusing to run there",
               cwd);
  else
    berth_err_sys (err, errno, "cannot check the working directory %s", cwd);
  set_path (err, base, ".cwd");
  return -1;
}

int
process_enter_cwd (const struct oci_process *p, const char *base, bool create,
                   struct berth_error *err)
{
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dir = -1;
  struct berth_error e = { 0 };

  if (root < 0)
    return berth_err_sys (err, errno, "open the container's root");
  dir = safepath_open (root, p->cwd, O_PATH | O_DIRECTORY, 0, &e);
  /* Created, as runc does, as root before the user switch. */
  if (dir < 0 && e.errnum == ENOENT && create)
    {
      e = (struct berth_error){ 0 };
      safepath_mkdir_p (root, p->cwd, 0755, &dir, &e);
    }
  if (dir >= 0 && fchdir (dir) < 0)
    e = (struct berth_error){ .errnum = errno, .kind = BERTH_E_SYSTEM };
  else if (dir >= 0)
    return process_check_cwd (p->cwd, base, err);
  if (e.errnum == ELOOP)
    berth_err (err, BERTH_E_VALUE,
               "cannot enter the working directory %s: it goes through a symlink loop or a /proc "
               "magic link (which could lead outside the container's root)",
               p->cwd);
  else
    berth_err_sys (err, e.errnum, "cannot enter the working directory %s", p->cwd);
  set_path (err, base, ".cwd");
  return -1;
}

int
process_apply_rlimits (const struct oci_process *p, const char *base, struct berth_error *err)
{
  for (size_t i = 0; i < p->rlimits_len; i++)
    {
      const struct oci_rlimit *r = &p->rlimits[i];
      struct rlimit lim = { .rlim_cur = r->soft, .rlim_max = r->hard };
      int resource = oci_rlimit_resource (r->type);
      char suffix[48];

      snprintf (suffix, sizeof suffix, ".rlimits[%zu]", i);
      if (resource < 0)
        {
          berth_err (err, BERTH_E_VALUE, "unknown rlimit type \"%s\"", r->type);
          set_path (err, base, suffix);
          return -1;
        }
      if (setrlimit (resource, &lim) < 0)
        {
          struct rlimit cur = { 0 };
          int e = errno;
          getrlimit (resource, &cur);
          if (e == EPERM && lim.rlim_max > cur.rlim_max)
            berth_err_sys (err, e,
                           "setrlimit %s to soft %llu hard %llu: the hard limit is above the "
                           "current %llu and raising it needs CAP_SYS_RESOURCE",
                           r->type, (unsigned long long) r->soft, (unsigned long long) r->hard,
                           (unsigned long long) cur.rlim_max);
          else
            berth_err_sys (err, e, "setrlimit %s to soft %llu hard %llu", r->type,
                           (unsigned long long) r->soft, (unsigned long long) r->hard);
          set_path (err, base, suffix);
          return -1;
        }
    }
  return 0;
}

int
process_apply_oom_score_adj (const struct oci_process *p, const char *base,
                             struct berth_error *err)
{
  char buf[16];
  int n;
  cleanup_close int fd = -1;

  if (!p->has_oom_score_adj)
    return 0;
  n = snprintf (buf, sizeof buf, "%d", (int) p->oom_score_adj);
  fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, buf, (size_t) n) != n)
    {
      berth_err_sys (err, errno, "set oom_score_adj to %d%s", (int) p->oom_score_adj,
                     errno == EACCES ? " (lowering it needs CAP_SYS_RESOURCE)" : "");
      set_path (err, base, ".oomScoreAdj");
      return -1;
    }
  return 0;
}

int
process_personality (const struct oci_linux *l, unsigned long *persona, struct berth_error *err)
{
  const struct oci_personality *pe = l ? l->personality : NULL;

  *persona = PER_LINUX;
  if (pe == NULL)
    return 0;
  if (strcmp (pe->domain, "LINUX") == 0)
    *persona = PER_LINUX;
  else if (strcmp (pe->domain, "LINUX32") == 0)
    *persona = PER_LINUX32;
  else
    return berth_err_at (err, BERTH_E_VALUE, ".linux.personality.domain",
                         "unknown personality domain \"%s\" (want LINUX or LINUX32)", pe->domain);
  /* runc warns and drops flags; the spec defines none, and runtime.md wants
     what a runtime cannot apply refused, not ignored. */
  if (pe->flags_len > 0)
    return berth_err_at (err, BERTH_E_UNSUPPORTED, ".linux.personality.flags[0]",
                         "personality flag \"%s\" is not supported (runtime-spec defines none)",
                         pe->flags[0]);
  return 0;
}

int
process_check (const struct oci_process *p, const char *base, const struct oci_linux *l,
               struct berth_error *err)
{
  struct sched_plan sp;
  cleanup_affinity_plan struct affinity_plan ap = { 0 };

  /* execCPUAffinity is for exec'd processes only (config.md), but a list
     that cannot be parsed is refused at create rather than at every exec. */
  if (sched_plan_make (p, base, &sp, err) < 0 || affinity_plan_make (p, base, &ap, err) < 0
      || lsm_check_host (p, base, l, err) < 0)
    return -1;
  return 0;
}

int
process_apply_personality (const struct oci_linux *l, struct berth_error *err)
{
  unsigned long persona;

  if (l == NULL || l->personality == NULL)
    return 0;
  if (process_personality (l, &persona, err) < 0)
    return -1;
  if (personality (persona) < 0)
    {
      berth_err_sys (err, errno, "personality %s", l->personality->domain);
      set_path (err, ".linux.personality", "");
      return -1;
    }
  return 0;
}

enum process_cap_name
process_cap_resolve (const char *name, int *cap)
{
  cap_value_t c;

  if (cap_from_name (name, &c) < 0 || strncmp (name, "CAP_", 4) != 0)
    return PROCESS_CAP_UNKNOWN;
  *cap = c;
  return c > (int) cap_max_bits () - 1 ? PROCESS_CAP_NOT_IN_KERNEL : PROCESS_CAP_OK;
}

/* Resolve a list of capability names; unknown ones are warned about and
   skipped, as config.md asks of runtimes.  So are capabilities berth does
   not hold itself (a host whose bounding set lacks CAP_SYS_RESOURCE): no
   process can grant what it does not have. */
static int
cap_list (char *const *names, size_t n, const char *base, const char *set, cap_t own,
          cap_value_t **out, size_t *count, struct berth_error *err)
{
  cap_value_t *v = calloc (n + 1, sizeof *v);
  size_t k = 0;

  if (v == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    {
      int c;
      enum process_cap_name r = process_cap_resolve (names[i], &c);
      if (r == PROCESS_CAP_UNKNOWN)
        {
          berth_warn ("%s.capabilities.%s[%zu]: unknown capability \"%s\" skipped", base, set,
                      i, names[i]);
          continue;
        }
      if (r == PROCESS_CAP_NOT_IN_KERNEL)
        {
          berth_warn ("%s.capabilities.%s[%zu]: %s is not supported by this kernel; skipped",
                      base, set, i, names[i]);
          continue;
        }
      {
        cap_flag_value_t held = CAP_CLEAR;
        if (own && cap_get_flag (own, c, CAP_PERMITTED, &held) == 0 && held == CAP_CLEAR)
          {
            berth_warn ("%s.capabilities.%s[%zu]: %s is not available to berth on this host "
                        "(not in its bounding set); skipped",
                        base, set, i, names[i]);
            continue;
          }
      }
      v[k++] = c;
    }
  *out = v;
  *count = k;
  return 0;
}

static bool
cap_in (const cap_value_t *v, size_t n, cap_value_t c)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] == c)
      return true;
  return false;
}

int
process_apply_identity (const struct oci_process *p, const char *base, struct berth_error *err)
{
  const struct oci_capabilities *c = p->capabilities;
  cleanup_free cap_value_t *bnd = NULL, *eff = NULL, *inh = NULL, *prm = NULL, *amb = NULL;
  size_t nb = 0, ne = 0, ni = 0, np = 0, na = 0;
  const struct oci_user *u = p->user;
  gid_t *groups = NULL;

  if (c)
    {
      cap_t own = cap_get_proc ();
      int r = 0;
      if (cap_list (c->bounding, c->bounding_len, base, "bounding", own, &bnd, &nb, err) < 0
          || cap_list (c->effective, c->effective_len, base, "effective", own, &eff, &ne, err)
                 < 0
          || cap_list (c->inheritable, c->inheritable_len, base, "inheritable", own, &inh, &ni,
                       err)
                 < 0
          || cap_list (c->permitted, c->permitted_len, base, "permitted", own, &prm, &np, err)
                 < 0
          || cap_list (c->ambient, c->ambient_len, base, "ambient", own, &amb, &na, err) < 0)
        r = -1;
      if (own)
        cap_free (own);
      if (r < 0)
        return -1;
      for (cap_value_t k = 0; k < (cap_value_t) cap_max_bits (); k++)
        if (!cap_in (bnd, nb, k) && prctl (PR_CAPBSET_DROP, k, 0, 0, 0) < 0 && errno != EINVAL)
          {
            berth_err_sys (err, errno, "drop %s from the bounding set", cap_to_name (k));
            set_path (err, base, ".capabilities.bounding");
            return -1;
          }
    }

  /* Keep the permitted set across the uid change; the lists below then set
     exactly what the config asks for. */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return berth_err_sys (err, errno, "prctl(PR_SET_KEEPCAPS)");
  if (u->additional_gids_len > 0)
    groups = u->additional_gids;
  /* No groups to drop where an unprivileged runtime's gid map left
     setgroups "deny" (namespaces.h), as runc. */
  if (setgroups (u->additional_gids_len, groups) < 0
      && !(errno == EPERM && u->additional_gids_len == 0 && ns_setgroups_denied ()))
    {
      berth_err_sys (err, errno, "setgroups");
      set_path (err, base, ".user.additionalGids");
      return -1;
    }
  if (setresgid (u->gid, u->gid, u->gid) < 0)
    {
      berth_err_sys (err, errno, "setresgid %u", u->gid);
      set_path (err, base, ".user.gid");
      return -1;
    }
  if (setresuid (u->uid, u->uid, u->uid) < 0)
    {
      berth_err_sys (err, errno, "setresuid %u", u->uid);
      set_path (err, base, ".user.uid");
      return -1;
    }
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return berth_err_sys (err, errno, "prctl(PR_SET_KEEPCAPS)");

  if (c)
    {
      cap_t caps = cap_init ();
      int r = 0;
      if (caps == NULL)
        return berth_err_sys (err, errno, "cap_init");
      if ((ne && cap_set_flag (caps, CAP_EFFECTIVE, (int) ne, eff, CAP_SET) < 0)
          || (np && cap_set_flag (caps, CAP_PERMITTED, (int) np, prm, CAP_SET) < 0)
          || (ni && cap_set_flag (caps, CAP_INHERITABLE, (int) ni, inh, CAP_SET) < 0)
          || cap_set_proc (caps) < 0)
        r = berth_err_sys (err, errno, "set capabilities");
      cap_free (caps);
      if (r < 0)
        {
          set_path (err, base, ".capabilities");
          return -1;
        }
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return berth_err_sys (err, errno, "clear ambient capabilities");
      for (size_t i = 0; i < na; i++)
        /* runc's own default config lists ambient capabilities that are not
           inheritable, which the kernel refuses; say so only when asked. */
        if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, amb[i], 0, 0) < 0)
          berth_debug ("%s.capabilities.ambient: cannot raise %s (it must also be permitted and "
                      "inheritable): %s", base, cap_to_name (amb[i]), strerror (errno));
    }

  umask (p->user->has_umask ? (mode_t) p->user->umask : 022);
  if (p->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    {
      berth_err_sys (err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
      set_path (err, base, ".noNewPrivileges");
      return -1;
    }
  return 0;
}

/* HOME from the container's /etc/passwd, as runc does when env lacks it. */
static char *
home_for (uid_t uid)
{
  cleanup_fclose FILE *f = fopen ("/etc/passwd", "re");
  char line[1024];

  if (f == NULL)
    return NULL;
  while (fgets (line, sizeof line, f))
    {
      char *fields[7] = { 0 };
      char *s = line, *save = NULL;
      int n = 0;
      line[strcspn (line, "\n")] = '\0';
      for (char *t = strtok_r (s, ":", &save); t && n < 7; t = strtok_r (NULL, ":", &save))
        fields[n++] = t;
      if (n >= 6 && strtoul (fields[2], NULL, 10) == uid)
        return strdup (fields[5]);
    }
  return NULL;
}

int
process_exec (const struct oci_process *p, const char *program, struct berth_error *err)
{
  char **env = p->env;
  cleanup_free char **with_home = NULL;
  cleanup_free char *home = NULL;
  char *empty[] = { NULL };

  if (env == NULL)
    env = empty;
  if (env_get (p, "HOME") == NULL)
    {
      cleanup_free char *dir = home_for (p->user->uid);
      if (asprintf (&home, "HOME=%s", dir ? dir : "/") < 0)
        return berth_err_sys (err, ENOMEM, "out of memory");
      with_home = calloc (p->env_len + 2, sizeof (char *));
      if (with_home == NULL)
        return berth_err_sys (err, ENOMEM, "out of memory");
      memcpy (with_home, env, p->env_len * sizeof (char *));
      with_home[p->env_len] = home;
      env = with_home;
    }
  execve (program, p->args, env);
  return berth_err_sys (err, errno, "exec %s", program);
}
