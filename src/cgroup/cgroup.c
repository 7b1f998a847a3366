#include "cgroup/cgroup.h"
#include "cgroup/cgroup_priv.h"
#include "cgroup/cpuset_v1.h"
#include "cleanup.h"
#include "base/utils.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"
#define CG_UNIFIED CG_ROOT "/unified"
#define JPATH ".linux.cgroupsPath"

/* Whether the first `sep`-separated word of `tok` is one of those of `list`. */
static bool
has_word (const char *list, const char *tok, const char *sep)
{
  size_t tl = strcspn (tok, sep), wl;

  for (; tl && *list; list += wl + (list[wl] != '\0'))
    if ((wl = strcspn (list, sep)) == tl && memcmp (list, tok, tl) == 0)
      return true;
  return false;
}

/* Whether `anc` is `path` or one of its ancestors; "/" is everyone's. */
static bool
is_within (const char *anc, const char *path)
{
  size_t l = strlen (anc);

  l -= l && anc[l - 1] == '/';
  return strncmp (anc, path, l) == 0 && (path[l] == '/' || path[l] == '\0');
}

int
cgroup_detect_mode (enum berth_cgroup_mode *mode, struct berth_error *err)
{
  struct statfs sf;

  if (statfs (CG_ROOT, &sf) < 0)
    return berth_err_sys (err, errno, "statfs %s", CG_ROOT);
  /* Anything else holds v1 hierarchies (tmpfs, or one cgroupfs): which ones
     is for resolve to learn from mountinfo. */
  if (sf.f_type == CGROUP2_SUPER_MAGIC)
    *mode = BERTH_CGROUP_V2;
  else if (statfs (CG_UNIFIED, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
    *mode = BERTH_CGROUP_HYBRID;
  else
    *mode = BERTH_CGROUP_V1;
  return 0;
}

/* What find_mount needs of one line of mountinfo, pointing into it. */
struct mount_entry {
  char *root, *point, *fs, *opts;
};

/* Split mountinfo text in place, once for every hierarchy find_mount
   looks for ("id parent dev root point opts [optional...] - fs source
   superopts"; strsep, as a field such as the source may be empty). */
static int
parse_mountinfo (char *mi, struct mount_entry **out, size_t *n, struct berth_error *err)
{
  size_t cap = 0;
  char *line;

  *out = NULL;
  *n = 0;
  while ((line = strsep (&mi, "\n")) != NULL)
    {
      char *sep = strstr (line, " - "), *head = line, *tail, *f[5] = { NULL };
      if (sep == NULL)
        continue;
      *sep = '\0';
      tail = sep + 3;
      for (size_t i = 0; i < 5 && head; i++)
        f[i] = strsep (&head, " ");
      char *fs = strsep (&tail, " "), *source = strsep (&tail, " "), *opts = strsep (&tail, " ");
      if (f[4] == NULL || source == NULL || opts == NULL)
        continue;
      if (*n == cap)
        {
          struct mount_entry *m = realloc (*out, (cap = cap ? 2 * cap : 32) * sizeof *m);
          if (m == NULL)
            return free (*out), *out = NULL, cgroup_oom (err);
          *out = m;
        }
      mountinfo_unescape (f[3]);
      mountinfo_unescape (f[4]);
      (*out)[(*n)++] = (struct mount_entry){ .root = f[3], .point = f[4], .fs = fs, .opts = opts };
    }
  return 0;
}

/* Find the mount of the v1 hierarchy holding the controllers `ctrls`, or
   (ctrls NULL) the cgroup2 mount at `want`: its mount point and root.  As
   runc, only v1 mounts under /sys/fs/cgroup count (not a bind mount in some
   rootfs); the last one wins, as it hides any before it at that point. */
static const struct mount_entry *
find_mount (const struct mount_entry *mounts, size_t n, const char *ctrls, const char *want)
{
  const struct mount_entry *found = NULL;

  for (size_t i = 0; i < n; i++)
    {
      const struct mount_entry *e = &mounts[i];
      const char *c = ctrls;
      /* c ends NULL only once every controller was found in opts. */
      while (ctrls && !strcmp (e->fs, "cgroup") && has_word (e->opts, c, ",") && (c = strchr (c, ',')))
        c++;
      if (ctrls ? c != NULL || !is_within (CG_ROOT, e->point)
                : strcmp (e->fs, "cgroup2") || strcmp (e->point, want))
        continue;
      found = e;
    }
  return found;
}

/* Collapse ".", ".." and repeated slashes; refuse a ".." that climbs above
   the base the path is relative to, and a path naming the base itself. */
static int
normalise (const char *in, char **out, struct berth_error *err)
{
  cleanup_free char *res = calloc (1, strlen (in) + 1);
  size_t len = 0, l;

  if (res == NULL)
    return cgroup_oom (err);
  for (in += strspn (in, "/"); *in; in += l + strspn (in + l, "/"))
    {
      char *up = strrchr (res, '/');
      bool dotdot = (l = strcspn (in, "/")) == 2 && in[0] == '.' && in[1] == '.';
      if (dotdot && len == 0)
        return berth_err_at (err, BERTH_E_VALUE, JPATH, "climbs out of its base cgroup with \"..\"");
      if (dotdot)
        res[len = up ? (size_t) (up - res) : 0] = '\0';
      else if (l != 1 || in[0] != '.')
        {
          if (len)
            res[len++] = '/';
          memcpy (res + len, in, l);
          res[len += l] = '\0';
        }
    }
  if (len == 0)
    return berth_err_at (err, BERTH_E_VALUE, JPATH, "names the base cgroup, not one below it");
  *out = steal_pointer (&res);
  return 0;
}

/* Takes `path` even on failure. */
static int
add_dir (struct berth_cgroup *cg, const char *ctrl, char *path, struct berth_error *err)
{
  struct berth_cgroup_dir *nd = realloc (cg->dirs, (cg->n_dirs + 1) * sizeof *nd);
  cleanup_free char *p = path;

  if (nd == NULL || path == NULL)
    return cgroup_oom (err);
  cg->dirs = nd;
  nd = memset (&cg->dirs[cg->n_dirs], 0, sizeof *nd);
  if ((nd->controller = strdup (ctrl)) == NULL)
    return cgroup_oom (err);
  nd->path = steal_pointer (&p);
  cg->n_dirs++;
  return 0;
}

/* One hierarchy's directory.  The caller's cgroup `own` is made relative to
   the mount's root (a container sees only part of the tree); v2 nests beside
   the caller, under its parent. */
static int
place (struct berth_cgroup *cg, const char *ctrl, const char *point, const char *root,
       const char *own, bool absolute, const char *rel, struct berth_error *err)
{
  const char *slash;
  char *path = NULL;
  size_t len;

  if (absolute || !is_within (root, own)) /* outside the mount: its root is the nearest */
    own = "";
  else if (strcmp (root, "/") != 0)
    own += strlen (root);
  /* own is now "" or "/a/b"; "/" (len 1) too is the hierarchy's root. */
  len = *ctrl || !(slash = strrchr (own, '/')) ? strlen (own) : (size_t) (slash - own);
  if (asprintf (&path, "%s%.*s/%s", point, len > 1 ? (int) len : 0, own, rel) < 0)
    return cgroup_oom (err);
  return add_dir (cg, ctrl, path, err);
}

int
cgroup_resolve (const char *cgroups_path, const char *id, struct berth_cgroup *cg,
                struct berth_error *err)
{
  __attribute__ ((cleanup (cgroup_free))) struct berth_cgroup tmp = { 0 };
  cleanup_free char *rel = NULL, *self = NULL, *mi = NULL;
  cleanup_free struct mount_entry *mounts = NULL;
  const char *p = cgroups_path && *cgroups_path ? cgroups_path : id, *want;
  char *save = NULL, *line;
  size_t n_mounts;

  memset (cg, 0, sizeof *cg);
  if (p == NULL || *p == '\0')
    return berth_err_at (err, BERTH_E_VALUE, JPATH, "no cgroups path and no container id");
  if (normalise (p, &rel, err) < 0)
    return berth_err_prefix (err, "cgroups path \"%s\" ", p), -1;
  if (cgroup_detect_mode (&tmp.mode, err) < 0
      || cgroup_read_file ("/proc/self/cgroup", &self, err) < 0
      || cgroup_read_file ("/proc/self/mountinfo", &mi, err) < 0
      || parse_mountinfo (mi, &mounts, &n_mounts, err) < 0)
    return -1;
  /* Lines are "N:ctrl1,ctrl2:/path" for v1 and "0::/path" for v2. */
  for (line = strtok_r (self, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      const struct mount_entry *m;
      char *ctrls = strchr (line, ':'), *own;
      if (ctrls == NULL || (own = strchr (++ctrls, ':')) == NULL)
        continue;
      *own++ = '\0';
      /* A v1 host may still list "0::/"; a v2 host lists nothing else. */
      if (*ctrls ? tmp.mode == BERTH_CGROUP_V2 : tmp.mode == BERTH_CGROUP_V1)
        continue;
      want = tmp.mode == BERTH_CGROUP_V2 ? CG_ROOT : CG_UNIFIED;
      if ((m = find_mount (mounts, n_mounts, *ctrls ? ctrls : NULL, want)) == NULL)
        continue; /* a hierarchy nobody mounted cannot hold the container */
      if (place (&tmp, ctrls, m->point, m->root, own, *p == '/', rel, err) < 0)
        return -1;
    }
  if (tmp.n_dirs == 0)
    return berth_err (err, BERTH_E_UNSUPPORTED, "no mounted cgroup hierarchy holds this process");
  *cg = tmp;
  memset (&tmp, 0, sizeof tmp);
  return 0;
}

/* Best effort, as runc: a controller the parent cannot delegate (not in its
   cgroup.controllers, or refused) only means the child goes without it. */
static void
enable_controllers (const char *dir)
{
  static const char *const wanted[] = { "+cpu", "+memory", "+pids", "+io", "+cpuset", "+hugetlb" };
  cleanup_free char *avail = NULL, *ctl = cgroup_join (dir, "cgroup.controllers");
  cleanup_free char *sub = cgroup_join (dir, "cgroup.subtree_control");
  struct berth_error ignored;
  size_t i;

  if (!ctl || !sub || cgroup_read_file (ctl, &avail, &ignored) < 0)
    return;
  for (i = 0; i < sizeof wanted / sizeof *wanted; i++)
    if (has_word (avail, wanted[i] + 1, " \n"))
      (void) cgroup_write_file (sub, wanted[i], &ignored); /* one by one: a refusal fails a write */
}

/* mkdir -p; *top receives the first directory made, the topmost as the
   recursion creates top-down.  On v2 each new level's parent delegates its
   controllers first, so that they reach the leaf. */
static int
make_dirs (const char *path, bool v2, char **top, struct berth_error *err)
{
  cleanup_free char *parent = strdup (path);
  char *slash = parent ? strrchr (parent, '/') : NULL;
  struct stat st;

  /* v1: a mkdir is the test, and nothing is enabled on the parent. */
  if (!v2 && mkdir (path, 0755) == 0)
    return *top || (*top = strdup (path)) ? 0 : cgroup_oom (err);
  if (!v2 && errno != ENOENT)
    return errno == EEXIST ? 0 : berth_err_sys (err, errno, "mkdir %s", path);
  if (v2 && stat (path, &st) == 0)
    return 0;
  if (slash == NULL || slash == parent)
    return parent ? berth_err_sys (err, ENOENT, "mkdir %s", path) : cgroup_oom (err);
  *slash = '\0';
  if (make_dirs (parent, v2, top, err) < 0)
    return -1;
  if (v2)
    enable_controllers (parent);
  if (mkdir (path, 0755) < 0) /* EEXIST: made by someone else meanwhile */
    return errno == EEXIST ? 0 : berth_err_sys (err, errno, "mkdir %s", path);
  return *top || (*top = strdup (path)) ? 0 : cgroup_oom (err);
}

int
cgroup_create (struct berth_cgroup *cg, struct berth_error *err)
{
  size_t i;

  for (i = 0; i < cg->n_dirs; i++)
    {
      struct berth_cgroup_dir *d = &cg->dirs[i];
      bool cpuset = *d->controller && has_word (d->controller, "cpuset", ",");
      int r = make_dirs (d->path, *d->controller == '\0', &d->created_top, err);

      d->created = d->created_top != NULL;
      cleanup_free char *cpus = NULL, *mems = NULL;

      if (r == 0 && cpuset)
        r = cpuset_v1_inherit (d->path, "cpuset.cpus", &cpus, NULL, err);
      if (r == 0 && cpuset)
        r = cpuset_v1_inherit (d->path, "cpuset.mems", &mems, NULL, err);
      if (r < 0)
        return (void) cgroup_destroy (cg, true, &(struct berth_error){ 0 }), -1;
    }
  return 0;
}

int
cgroup_enter (const struct berth_cgroup *cg, pid_t pid, struct berth_error *err)
{
  char buf[32];
  size_t i;

  snprintf (buf, sizeof buf, "%d", (int) pid);
  for (i = 0; i < cg->n_dirs; i++)
    {
      cleanup_free char *procs = cgroup_join (cg->dirs[i].path, "cgroup.procs");
      if (procs == NULL || cgroup_write_file (procs, buf, err) < 0)
        return procs ? -1 : cgroup_oom (err);
    }
  return 0;
}

/* "0" written to a v1 hierarchy's tasks file moves the writing thread
   (all of a process of ours, which has one) without taking the global lock
   that every move by pid takes for writing.  That lock's first writer after
   a quiet spell waits for a full RCU grace period: 7 ms on the development
   machine, where moving oneself takes 0.02 ms (bench/README.md).  v2 has no
   such file: a process is best cloned into its directory; else "0" to
   cgroup.procs costs what a move by pid would. */
int
cgroup_enter_self (const struct berth_cgroup *cg, bool born_in_v2, struct berth_error *err)
{
  for (size_t i = 0; i < cg->n_dirs; i++)
    {
      const struct berth_cgroup_dir *d = &cg->dirs[i];
      if (!*d->controller && born_in_v2)
        continue;
      cleanup_free char *file = cgroup_join (d->path, *d->controller ? "tasks" : "cgroup.procs");

      if (file == NULL || cgroup_write_file (file, "0", err) < 0)
        return file ? -1 : cgroup_oom (err);
    }
  return 0;
}

const char *
cgroup_dir (const struct berth_cgroup *cg, const char *controller)
{
  size_t i;

  /* "cpu" finds a "cpu,cpuacct" hierarchy too. */
  for (i = 0; i < cg->n_dirs; i++)
    if (*controller ? has_word (cg->dirs[i].controller, controller, ",") : !*cg->dirs[i].controller)
      return cg->dirs[i].path;
  return NULL;
}

/* EBUSY from rmdir: something still runs in the cgroup.  Say what, since
   "Device or resource busy" alone sends people looking at mounts. */
static int
busy (const char *dir, struct berth_error *err)
{
  cleanup_free char *procs = cgroup_join (dir, "cgroup.procs"), *text = NULL;
  struct berth_error ignored;
  size_t n = 0;

  if (procs && cgroup_read_file (procs, &text, &ignored) == 0)
    for (const char *p = text; *p; p++)
      n += *p == '\n';
  if (n)
    return berth_err (err, BERTH_E_STATE,
                      "cannot remove cgroup %s: %zu process%s still in it (first: %.*s)", dir, n,
                      n == 1 ? " is" : "es are", (int) strcspn (text, "\n"), text);
  return berth_err (err, BERTH_E_STATE,
                    "cannot remove cgroup %s: the kernel still counts tasks in it (exiting)", dir);
}

static void
sleep_ms (long ms)
{
  nanosleep (&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

/* The container may have made cgroups of its own: walk `dir` and those below
   it, collecting pids or (pids NULL) removing them deepest first, as a
   cgroup with sub-cgroups cannot go.  Only `dir` itself must exist.
   Removing, a directory still EBUSY is retried until `deadline`
   (monotonic_ms), one budget for the whole destroy. */
static int
walk (const char *dir, pid_t **pids, size_t *n, bool nested, long deadline,
      struct berth_error *err)
{
  cleanup_free char *procs = cgroup_join (dir, "cgroup.procs"), *text = NULL;
  cleanup_closedir DIR *d = NULL;
  struct berth_error mine;
  struct dirent *de;
  char *p, *e;
  long v, step = 10;

  if (procs == NULL)
    return cgroup_oom (err);
  if (pids && cgroup_read_file (procs, &text, &mine) < 0)
    return nested && (mine.errnum == ENOENT || mine.errnum == ENODEV) ? 0 : (*err = mine, -1);
  for (p = text; text && (v = strtol (p, &e, 10), e != p); p = e)
    {
      pid_t *nv = *n % 64 ? *pids : realloc (*pids, (*n + 64) * sizeof *nv);
      if (nv == NULL)
        return cgroup_oom (err);
      (*pids = nv)[(*n)++] = (pid_t) v;
    }
  if ((d = opendir (dir)) == NULL)
    return errno == ENOENT ? 0 : berth_err_sys (err, errno, "opendir %s", dir);
  while ((de = readdir (d)))
    {
      cleanup_free char *sub = NULL;
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if ((sub = cgroup_join (dir, de->d_name)) == NULL
          || walk (sub, pids, n, true, deadline, err) < 0)
        return sub ? -1 : cgroup_oom (err);
    }
  /* The kernel reports EBUSY while the last tasks of a cgroup are still
     exiting: back off 10, 20, 40 ... ms until the deadline. */
  for (; !pids && rmdir (dir) < 0 && errno != ENOENT; step = step < 160 ? step * 2 : 160)
    {
      long left = deadline - monotonic_ms ();
      if (errno != EBUSY || left <= 0)
        return errno == EBUSY ? busy (dir, err) : berth_err_sys (err, errno, "rmdir %s", dir);
      sleep_ms (step < left ? step : left);
    }
  return 0;
}

int
cgroup_pids_below (const char *dir, pid_t **pids, size_t *n, struct berth_error *err)
{
  if (dir == NULL)
    return berth_err (err, BERTH_E_STATE, "container has no cgroup");
  /* No duplicates to weed out: a process is in one cgroup per hierarchy,
     and the kernel already sorts and uniqs v1 cgroup.procs. */
  *pids = NULL;
  *n = 0;
  if (walk (dir, pids, n, false, 0, err) == 0)
    return 0;
  free (steal_pointer (pids));
  return -1;
}

int
cgroup_layout_kill_all (const struct cgroup_layout *l, const struct berth_cgroup *cg,
                        const char *kill_dir, long timeout_ms, struct berth_error *err)
{
  cleanup_free char *kill_file = kill_dir ? cgroup_join (kill_dir, "cgroup.kill") : NULL;
  long deadline = monotonic_ms () + timeout_ms, step = 5;
  bool thawed = false;

  for (;;)
    {
      cleanup_free pid_t *pids = NULL;
      struct berth_error e = { 0 };
      size_t n = 0;
      long left;

      /* Gone is empty: ENOENT, or ENODEV from a cgroup being removed
         (systemd drops an emptied scope's at once). */
      if (l->pids (cg, &pids, &n, &e) < 0)
        return e.errnum == ENOENT || e.errnum == ENODEV ? 0 : (*err = e, -1);
      if (n == 0)
        return 0;
      /* cgroup.kill (v2, Linux 5.14) kills the whole subtree in the kernel,
         so no pid read above can have been recycled by the time it is
         signalled; elsewhere pid by pid, as runc does.  Again on every
         round: a process may have forked meanwhile. */
      if (kill_file == NULL || cgroup_write_file (kill_file, "1", &e) < 0)
        for (size_t i = 0; i < n; i++)
          kill (pids[i], SIGKILL);
      /* A v1 freezer holds SIGKILL until thawed. */
      if (!thawed && l->is_frozen (cg))
        (void) l->freeze (cg, false, &e);
      thawed = true;
      left = deadline - monotonic_ms ();
      if (left <= 0)
        return berth_err (err, BERTH_E_STATE,
                          "%zu process%s of the container's cgroup still alive %ld ms after "
                          "SIGKILL (pid %d%s)",
                          n, n == 1 ? "" : "es", timeout_ms, (int) pids[0], n > 1 ? ", ..." : "");
      sleep_ms (step < left ? step : left);
      step = step < 50 ? step * 2 : 100;
    }
}

/* Whether the v2 directory `dir` has `ctrl` among its cgroup.controllers. */
bool
cgroup_v2_has_controller (const char *dir, const char *ctrl)
{
  cleanup_free char *text = NULL;
  char path[PATH_MAX + 32];
  size_t l = strlen (ctrl);

  snprintf (path, sizeof path, "%s/cgroup.controllers", dir);
  if (read_file_at (AT_FDCWD, path, &text, NULL, &(struct berth_error){ 0 }) < 0)
    return false;
  for (char *p = text; (p = strstr (p, ctrl)) != NULL; p += l)
    if ((p == text || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\n' || p[l] == '\0'))
      return true;
  return false;
}

int
cgroup_freeze_poll (const char *dir, const char *path, bool freeze, const char *value,
                    const char *undo, bool rewrite, bool (*done) (const char *dir, bool freeze),
                    struct berth_error *err)
{
  long waited = 0, step = 1;

  for (;; waited += step, step = step < 50 ? step * 2 : 50)
    {
      if ((waited == 0 || rewrite) && cgroup_write_file (path, value, err) < 0)
        return -1;
      if (done (dir, freeze))
        return 0;
      if (waited >= 5000)
        break;
      nanosleep (&(struct timespec){ 0, step * 1000000L }, NULL);
    }
  if (freeze)
    (void) cgroup_write_file (path, undo, &(struct berth_error){ 0 });
  return berth_err (err, BERTH_E_SYSTEM, "the container's cgroup did not %s in 5s (%s)",
                    freeze ? "freeze" : "thaw", path);
}

int
cgroup_layout_check_unused (const struct cgroup_layout *l, const struct berth_cgroup *cg,
                            struct berth_error *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  bool all_new = cg->n_dirs > 0;

  /* A new cgroup under a frozen parent is frozen too: always read. */
  if (l->is_frozen (cg))
    return berth_err (err, BERTH_E_STATE,
                      "container's cgroup unexpectedly frozen (thaw it, or choose another "
                      "cgroupsPath)");
  /* Directories this create made hold nothing yet: no walk on the usual
     path, only for a cgroup that was there before. */
  for (size_t i = 0; i < cg->n_dirs; i++)
    all_new &= cg->dirs[i].created;
  if (all_new)
    return 0;
  if (l->pids (cg, &pids, &n, err) < 0)
    return -1;
  if (n > 0)
    return berth_err (err, BERTH_E_STATE,
                      "container's cgroup is not empty: %zu process(es) found (pid %d%s)", n,
                      (int) pids[0], n > 1 ? ", ..." : "");
  return 0;
}

/* Remove a directory with its sub-cgroups; never the parents mkdir -p
   made for it (/k8s.io, a slice): as runc, they stay, so that another
   runtime creating a sibling there never races with their removal. */
static int
remove_dir (struct berth_cgroup_dir *d, long deadline, struct berth_error *err)
{
  /* Most often there is nothing below it: the walk (four calls more) only
     when the plain rmdir is refused. */
  if (rmdir (d->path) < 0 && errno != ENOENT
      && walk (d->path, NULL, NULL, false, deadline, err) < 0)
    return -1;
  d->created = false;
  free (steal_pointer (&d->created_top));
  return 0;
}

int
cgroup_destroy (struct berth_cgroup *cg, bool only_created, struct berth_error *err)
{
  struct berth_error later;
  long deadline = monotonic_ms () + 1000;
  int ret = 0;
  size_t i;

  /* Go on after a failure, but report the first one.  One second for all
     hierarchies together: a container runtime's delete must stay well
     inside the 10 s that containerd's shim gives it. */
  for (i = 0; i < cg->n_dirs; i++)
    if ((!only_created || cg->dirs[i].created)
        && remove_dir (&cg->dirs[i], deadline, ret ? &later : err) < 0)
      ret = -1;
  return ret;
}

void
cgroup_free (struct berth_cgroup *cg)
{
  size_t i;

  for (i = 0; i < cg->n_dirs; i++)
    free (cg->dirs[i].controller), free (cg->dirs[i].path), free (cg->dirs[i].created_top);
  free (cg->dirs);
  memset (cg, 0, sizeof *cg);
}

static const char *const mode_names[] = { "v1", "hybrid", "v2" };

int
cgroup_to_strv (const struct berth_cgroup *cg, char ***out, size_t *n, struct berth_error *err)
{
  cleanup_strv char **v = calloc (2 * cg->n_dirs + 3, sizeof (char *));
  size_t k = 0, i;
  bool ok;

  if (v == NULL)
    return cgroup_oom (err);
  ok = asprintf (&v[k++], "mode=%s", mode_names[cg->mode]) >= 0
       && (!cg->systemd_unit || (v[k++] = strdup ("driver=systemd")) != NULL);
  for (i = 0; ok && i < cg->n_dirs; i++)
    {
      const struct berth_cgroup_dir *d = &cg->dirs[i];
      ok = asprintf (&v[k++], "%s=%s", d->controller, d->path) >= 0
           && (!d->created_top || asprintf (&v[k++], "created=%s", d->created_top) >= 0);
    }
  if (!ok) /* asprintf leaves its pointer undefined: clear it for cleanup_strv */
    return v[k - 1] = NULL, cgroup_oom (err);
  *n = k;
  *out = steal_pointer (&v);
  return 0;
}

/* The state file is trusted only as far as naming clean absolute paths:
   destroy must never be led out of a cgroup tree by "..".  Clean is what
   normalise() leaves unchanged: "/" and then one or more components, none
   empty, "." or "..".  Checked in place: list does it for eleven paths of
   every container. */
static bool
clean_abs (const char *p)
{
  if (*p != '/')
    return false;
  do
    {
      size_t l = strcspn (++p, "/");
      if (l == 0 || (p[0] == '.' && (l == 1 || (l == 2 && p[1] == '.'))))
        return false;
      p += l;
    }
  while (*p);
  return true;
}

int
cgroup_from_strv (char *const *v, size_t n, struct berth_cgroup *cg, struct berth_error *err)
{
  __attribute__ ((cleanup (cgroup_free))) struct berth_cgroup tmp = { 0 };
  size_t i, m = 3;

  memset (cg, 0, sizeof *cg);
  for (i = 0; i < n; i++)
    {
      /* "name=systemd=/..." has its path at the first "=/". */
      const char *eq = strstr (v[i], "=/");
      cleanup_free char *ctrl = eq ? strndup (v[i], (size_t) (eq - v[i])) : NULL;
      struct berth_cgroup_dir *d = tmp.n_dirs ? &tmp.dirs[tmp.n_dirs - 1] : NULL;

      if (i == 0 && strncmp (v[i], "mode=", 5) == 0)
        for (m = 0; m < 3 && strcmp (v[i] + 5, mode_names[m]) != 0; m++)
          ;
      else if (i == 1 && strcmp (v[i], "driver=systemd") == 0)
        tmp.systemd_unit = true;
      else if (eq && ctrl == NULL)
        return cgroup_oom (err);
      else if (ctrl == NULL || !clean_abs (eq + 1))
        break;
      else if (strcmp (ctrl, "created") != 0)
        {
          if (add_dir (&tmp, ctrl, strdup (eq + 1), err) < 0)
            return -1;
        }
      /* created_top follows its directory, which it must contain. */
      else if (!d || d->created_top || !is_within (eq + 1, d->path)
               || !(d->created_top = strdup (eq + 1)))
        break;
      else
        d->created = true;
    }
  if (i < n)
    return berth_err (err, BERTH_E_VALUE, "cgroup state: bad entry \"%s\"", v[i]);
  if (m == 3)
    return berth_err (err, BERTH_E_VALUE, "cgroup state: no valid \"mode=\" entry first");
  tmp.mode = (enum berth_cgroup_mode) m;
  *cg = tmp;
  memset (&tmp, 0, sizeof tmp);
  return 0;
}

int
cgroup_path_of (pid_t pid, char **out, struct berth_error *err)
{
  static const char named[] = ":name=systemd:";
  cleanup_free char *buf = NULL;
  const char *sd = NULL, *v2 = NULL;
  char path[64], *line, *next, *c;

  /* /proc/self, not getpid(): in a new pid namespace that is 1, and the
     /proc still mounted there is the host's. */
  if (pid == 0)
    snprintf (path, sizeof path, "/proc/self/cgroup");
  else
    snprintf (path, sizeof path, "/proc/%d/cgroup", (int) pid);
  if (cgroup_read_file (path, &buf, err) < 0)
    return -1;
  for (line = buf; line && *line; line = next)
    {
      if ((next = strchr (line, '\n')) != NULL)
        *next++ = '\0';
      if (strncmp (line, "0::", 3) == 0)
        v2 = line + 3;
      else if ((c = strstr (line, named)) != NULL)
        sd = c + strlen (named);
    }
  if (sd == NULL && v2 == NULL)
    return berth_err (err, BERTH_E_SYSTEM, "%s names no cgroup of systemd's", path);
  *out = strdup (sd ? sd : v2);
  return *out ? 0 : cgroup_oom (err);
}

int
cgroup_current (struct berth_cgroup *cg, struct berth_error *err)
{
  cleanup_free char *path = NULL;

  memset (cg, 0, sizeof *cg);
  if (cgroup_path_of (0, &path, err) < 0)
    return -1;
  return cgroup_resolve (path, "self", cg, err);
}
