/* Unit test of src/cgroup/ against the real cgroupfs of this machine (v1,
 * hybrid or v2), and of the layouts' file work (cgroupfs_v1.c,
 * cgroupfs_v2.c) and the driver tables against a temporary directory laid
 * out as each layout.
 *
 * Only directories below the caller's own cgroup are made, through relative
 * cgroupsPaths, and all of them are removed again; a forked child that only
 * pause()s is the one process moved (into a descendant of its cgroups), and
 * it is killed by pid.  On v2, where create delegates controllers in the
 * parent of the topmost new directory, that parent's cgroup.subtree_control
 * is put back as it was found.
 */
#include "cgroup/cgroup.h"
#include "cgroup/driver.h"
#include "cleanup.h"
#include "cgroup/systemd_cgroup.h"
#include "tap.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const mode_name[] = { "v1", "hybrid", "v2" };

static bool
ends_with (const char *s, const char *tail)
{
  size_t a = strlen (s), b = strlen (tail);
  return a >= b && strcmp (s + a - b, tail) == 0;
}

/* `path` is `top` or lies below it. */
static bool
is_below_or_at (const char *top, const char *path)
{
  size_t n = strlen (top);
  return strncmp (top, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool
exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0;
}

/* The whole file, "" when it cannot be read; first line only with `line`. */
static char *
slurp (const char *path, bool line)
{
  cleanup_fclose FILE *f = fopen (path, "re");
  char *buf = NULL;
  size_t cap = 0;

  if (f == NULL || getdelim (&buf, &cap, '\0', f) < 0)
    {
      free (buf);
      return strdup ("");
    }
  if (line)
    buf[strcspn (buf, "\n")] = '\0';
  return buf;
}

/* The cgroup `pid` is in for the hierarchy with exactly these controllers
   ("" = v2), from /proc/<pid>/cgroup; malloc'd, NULL when absent. */
static char *
proc_cgroup (pid_t pid, const char *ctrls)
{
  char file[64], *line = NULL, *res = NULL;
  size_t cap = 0;
  cleanup_fclose FILE *f = NULL;

  snprintf (file, sizeof file, "/proc/%d/cgroup", (int) pid);
  if ((f = fopen (file, "re")) == NULL)
    return NULL;
  while (res == NULL && getline (&line, &cap, f) > 0)
    {
      char *c = strchr (line, ':'), *p = c ? strchr (c + 1, ':') : NULL;
      if (p == NULL)
        continue;
      *c = *p++ = '\0';
      p[strcspn (p, "\n")] = '\0';
      if (strcmp (c + 1, ctrls) == 0 && (*ctrls || strcmp (line, "0") == 0))
        res = strdup (p);
    }
  free (line);
  return res;
}

/* The shallowest ancestor-or-self of `path` that does not exist yet. */
static char *
first_missing (const char *path)
{
  char *p = strdup (path), *slash;

  while (p && (slash = strrchr (p, '/')) != NULL && slash != p)
    {
      *slash = '\0';
      if (exists (p))
        {
          *slash = '/';
          break;
        }
    }
  return p;
}

/* The hierarchy-relative directory the container must land in: below the
   caller's cgroup on v1, beside it (under its parent) on v2. */
static char *
expected_tail (const struct berth_cgroup_dir *d, const char *rel)
{
  cleanup_free char *own = proc_cgroup (getpid (), d->controller);
  char *slash, *r = NULL;

  if (own == NULL)
    return NULL;
  if (*d->controller == '\0' && (slash = strrchr (own, '/')) != NULL)
    slash[slash == own] = '\0';
  if (asprintf (&r, "%s/%s", strcmp (own, "/") ? own : "", rel) < 0)
    return NULL;
  return r;
}

static void
check_rejected (const char *path)
{
  struct berth_cgroup cg = { 0 };
  struct berth_error err = { 0 };
  int r = cgroup_resolve (path, "id", &cg, &err);

  tap_ok (r < 0 && err.kind == BERTH_E_VALUE && strcmp (err.path, ".linux.cgroupsPath") == 0,
          "cgroupsPath \"%s\" is refused: %s", path, err.msg);
  cgroup_free (&cg);
}

static bool
same_cgroup (const struct berth_cgroup *a, const struct berth_cgroup *b)
{
  size_t i;

  if (a->mode != b->mode || a->n_dirs != b->n_dirs || a->systemd_unit != b->systemd_unit)
    return false;
  for (i = 0; i < a->n_dirs; i++)
    {
      const struct berth_cgroup_dir *x = &a->dirs[i], *y = &b->dirs[i];
      if (strcmp (x->controller, y->controller) || strcmp (x->path, y->path)
          || x->created != y->created || !x->created_top != !y->created_top
          || (x->created_top && strcmp (x->created_top, y->created_top)))
        return false;
    }
  return true;
}

static const char *
fs_table (enum berth_cgroup_mode mode)
{
  return mode == BERTH_CGROUP_V2 ? "cgroupfs-v2" : "cgroupfs-v1";
}

static void
check_strv (const struct berth_cgroup *cg)
{
  struct berth_cgroup back = { 0 };
  struct berth_error err = { 0 };
  cleanup_strv char **v = NULL;
  char *dotdot[] = { "mode=v2", "=/sys/fs/cgroup/../../etc" };
  char *orphan[] = { "mode=v1", "created=/sys/fs/cgroup/memory/x" };
  char *unit[] = { "mode=v2", "driver=systemd", "=/sys/fs/cgroup/system.slice/berth-x.scope" };
  size_t n = 0, i;
  int r = cgroup_to_strv (cg, &v, &n, &err);

  tap_ok (r == 0 && v[n] == NULL, "cgroup_to_strv: %zu strings", n);
  for (i = 0; v && i < n; i++)
    tap_diag ("  %s", v[i]);
  tap_ok (v && cgroup_from_strv (v, n, &back, &err) == 0 && same_cgroup (cg, &back),
          "cgroup_from_strv gives back the same cgroup %s", err.msg);
  tap_ok (strcmp (cgroup_driver_of (&back)->name, fs_table (cg->mode)) == 0,
          "a record without driver= is cgroupfs's, of its layout (state files of earlier "
          "versions): %s", cgroup_driver_of (&back)->name);
  cgroup_free (&back);
  tap_ok (cgroup_from_strv (dotdot, 2, &back, &err) < 0 && err.kind == BERTH_E_VALUE,
          "cgroup_from_strv refuses a path with \"..\": %s", err.msg);
  cgroup_free (&back);
  /* Only paths normalisation would leave as they are. */
  {
    static const struct { const char *path; bool clean; } paths[] = {
      { "=/sys/fs/cgroup/a", true },  { "=/sys/fs/cgroup/..a", true },
      { "=/sys/fs/cgroup/.a", true }, { "=/", false },
      { "=//sys", false },            { "=/sys/fs/", false },
      { "=/sys//fs", false },         { "=/sys/./fs", false },
      { "=/sys/.", false },           { "=/sys/fs/..", false },
    };
    for (i = 0; i < sizeof paths / sizeof *paths; i++)
      {
        char *rec[] = { "mode=v2", (char *) paths[i].path };
        int got = cgroup_from_strv (rec, 2, &back, &err);
        tap_ok ((got == 0) == paths[i].clean, "cgroup_from_strv %s \"%s\"",
                paths[i].clean ? "takes" : "refuses", paths[i].path + 1);
        cgroup_free (&back);
      }
  }
  tap_ok (cgroup_from_strv (orphan, 2, &back, &err) < 0 && err.kind == BERTH_E_VALUE,
          "cgroup_from_strv refuses created= without its directory: %s", err.msg);
  cgroup_free (&back);
  err.msg[0] = '\0';
  tap_ok (cgroup_from_strv (unit, 3, &back, &err) == 0 && back.systemd_unit
              && strcmp (systemd_cgroup_unit (&back), "berth-x.scope") == 0,
          "the systemd driver's record names its unit %s", err.msg);
  tap_ok (strcmp (cgroup_driver_of (&back)->name, "systemd") == 0,
          "the record chooses the systemd driver");
  cgroup_free (&back);
  unit[1] = unit[2]; /* the driver line is only valid right after the mode */
  unit[2] = "driver=systemd";
  tap_ok (cgroup_from_strv (unit, 3, &back, &err) < 0 && !back.systemd_unit,
          "a misplaced driver= line is refused: %s", err.msg);
  cgroup_free (&back);
}

/* The choice of driver, and what the systemd driver does before it needs
   the bus (the rest needs systemd as PID 1: the VM tier). */
static void
check_drivers (enum berth_cgroup_mode mode)
{
  const struct cgroup_driver *fs = cgroup_driver_select (false);
  const struct cgroup_driver *sd = cgroup_driver_select (true);
  struct berth_cgroup cg = { 0 };
  struct berth_error err = { 0 };
  const char *path = "unset";

  tap_ok (strcmp (fs->name, fs_table (mode)) == 0 && strcmp (sd->name, "systemd") == 0,
          "--systemd-cgroup selects the systemd driver, else cgroupfs of the host's layout: %s",
          fs->name);
  tap_ok (fs->check_path ("/a/b", "id", &path, &err) == 0 && strcmp (path, "/a/b") == 0
              && fs->available (&err) == 0,
          "cgroupfs: check places the container at its cgroupsPath");
  tap_ok (sd->check_path ("system.slice:berth:x", "id", &path, &err) == 0 && path == NULL,
          "systemd: a slice:prefix:name path is checked, no cgroupfs path %s", err.msg);
  err = (struct berth_error){ 0 };
  tap_ok (sd->check_path ("/a/b", "id", &path, &err) < 0 && err.kind == BERTH_E_VALUE
              && strcmp (err.path, ".linux.cgroupsPath") == 0,
          "systemd: check refuses a cgroupfs path: %s", err.msg);
  err = (struct berth_error){ 0 };
  tap_ok (sd->prepare ("bad", "id", &cg, &err) < 0 && strcmp (err.source, "config.json") == 0,
          "systemd: prepare refuses a bad path, from config.json: %s", err.msg);
  err = (struct berth_error){ 0 };
  tap_ok (sd->prepare (NULL, "id", &cg, &err) == 0 && cg.n_dirs == 0,
          "systemd: prepare makes nothing (the unit comes with the init) %s", err.msg);
  tap_ok (sd->destroy (&cg, true, &err) == 0,
          "systemd: undoing a create that never started the unit needs no bus %s", err.msg);
  tap_ok (sd->check_unused (&cg, &err) == 0, "systemd: a new unit is unused by definition");
}

/* A forked child is entered into the new cgroups and looked for there. */
static void
check_enter (const struct berth_cgroup *cg, const char *rel)
{
  const struct cgroup_driver *d = cgroup_driver_of (cg);
  struct berth_error err = { 0 };
  pid_t child = fork (), *pids = NULL;
  size_t n = 0, i;
  bool listed = false;
  int status, r;

  if (child == 0)
    {
      for (;;)
        pause ();
    }
  if (!tap_ok (child > 0, "fork a child"))
    return;
  tap_ok (cgroup_enter (cg, child, &err) == 0, "cgroup_enter %d %s", (int) child, err.msg);
  for (i = 0; i < cg->n_dirs; i++)
    {
      cleanup_free char *now = proc_cgroup (child, cg->dirs[i].controller);
      tap_ok (now && ends_with (now, rel) && ends_with (cg->dirs[i].path, now),
              "/proc/%d/cgroup shows \"%s\" in %s", (int) child, now ? now : "(none)",
              *cg->dirs[i].controller ? cg->dirs[i].controller : "the v2 hierarchy");
    }
  r = d->pids (cg, &pids, &n, &err);
  tap_ok (r == 0, "%s pids: %zu pid(s) %s", d->name, n, err.msg);
  for (i = 0; i < n; i++)
    listed |= pids[i] == child;
  tap_ok (listed, "pids lists the child %d", (int) child);
  free (pids);
  tap_ok (!d->is_frozen (cg), "is_frozen is false");
  kill (child, SIGKILL);
  tap_ok (waitpid (child, &status, 0) == child, "child %d reaped", (int) child);
}

/* Two containers below one intermediate that only the first one made: its
   destroy must leave the intermediate (still in use), the second's must not
   touch it either.  The test removes it at the end. */
static void
check_shared (const char *base)
{
  struct berth_cgroup a = { 0 }, b = { 0 };
  struct berth_error err = { 0 };
  cleanup_free char *pa = NULL, *pb = NULL;
  bool kept = true, gone = true;
  size_t i;

  if (asprintf (&pa, "%s/a", base) < 0 || asprintf (&pb, "%s/b", base) < 0)
    return;
  tap_ok (cgroup_resolve (pa, "id", &a, &err) == 0 && cgroup_create (&a, &err) == 0
              && cgroup_resolve (pb, "id", &b, &err) == 0 && cgroup_create (&b, &err) == 0,
          "two containers below \"%s\" %s", base, err.msg);
  for (i = 0; i < b.n_dirs; i++)
    kept &= b.dirs[i].created_top && strcmp (b.dirs[i].created_top, b.dirs[i].path) == 0;
  tap_ok (kept, "the second one made only its own directory");
  tap_ok (cgroup_destroy (&a, false, &err) == 0, "destroy the first one %s", err.msg);
  for (i = 0; i < a.n_dirs; i++)
    {
      char *slash = strrchr (a.dirs[i].path, '/');
      kept &= !exists (a.dirs[i].path) && exists (b.dirs[i].path);
      *slash = '\0';
      kept &= exists (a.dirs[i].path);
    }
  tap_ok (kept, "its directories are gone, the shared one and the sibling stay");
  tap_ok (cgroup_destroy (&b, false, &err) == 0, "destroy the second one %s", err.msg);
  for (i = 0; i < a.n_dirs; i++)
    {
      gone &= !exists (b.dirs[i].path) && exists (a.dirs[i].path);
      if (rmdir (a.dirs[i].path) < 0) /* now the shared intermediate */
        gone = false;
    }
  tap_ok (gone, "the second destroy left the shared directory alone; removed by the test");
  cgroup_free (&a);
  cgroup_free (&b);
}

/* Put back what create delegated in `file` (cgroup.subtree_control) beyond
   `before`, a " "-framed copy of its first line ahead of create. */
static void
restore_subtree_control (const char *file, const char *before)
{
  cleanup_free char *now = slurp (file, true), *after = NULL;
  char *save = NULL, *w;

  for (w = now ? strtok_r (now, " ", &save) : NULL; w; w = strtok_r (NULL, " ", &save))
    {
      char word[64];
      cleanup_fclose FILE *f = NULL;
      snprintf (word, sizeof word, " %s ", w);
      if (strstr (before, word) == NULL && (f = fopen (file, "we")))
        fprintf (f, "-%s", w);
    }
  after = slurp (file, true);
  tap_ok (after && strlen (before) == strlen (after) + 2
              && strncmp (before + 1, after, strlen (after)) == 0,
          "%s is back to \"%s\"", file, after ? after : "?");
}

/* ---- the layouts' file work, on a temporary tree laid out as each ------- */

/* Pids in these trees are above PID_MAX_LIMIT (2^22), so that nothing real is
   ever named; only check_kill_all lists real ones, its own children. */

/* A fresh tree `name` below `top`, malloc'd. */
static char *
tree (const char *top, const char *name)
{
  char *r = NULL;

  if (asprintf (&r, "%s/%s", top, name) < 0)
    return NULL;
  if (mkdir (r, 0755) < 0)
    return free (r), NULL;
  return r;
}

/* root/<hierarchy>/ctr/<sub>/<file> := text ("" hierarchy: "v2"). */
static bool
put (const char *root, const char *ctrl, const char *sub, const char *file, const char *text)
{
  cleanup_free char *dir = NULL, *path = NULL;
  cleanup_fclose FILE *f = NULL;
  char *p;

  if (asprintf (&dir, "%s/%s/ctr%s%s", root, *ctrl ? ctrl : "v2", *sub ? "/" : "", sub) < 0
      || asprintf (&path, "%s/%s", dir, file) < 0)
    return false;
  for (p = dir + strlen (root) + 1; (p = strchr (p, '/')) != NULL; *p++ = '/')
    {
      *p = '\0';
      mkdir (dir, 0755);
    }
  mkdir (dir, 0755);
  return (f = fopen (path, "we")) != NULL && fputs (text, f) >= 0;
}

static char *
get (const char *root, const char *ctrl, const char *file)
{
  cleanup_free char *path = NULL;

  if (asprintf (&path, "%s/%s/ctr/%s", root, *ctrl ? ctrl : "v2", file) < 0)
    return strdup ("");
  return slurp (path, false);
}

/* A state record over the tree: "mode=", maybe "driver=systemd", then one
   directory per hierarchy of `ctrls`. */
static bool
fake (const char *root, const char *mode, bool systemd, const char *const *ctrls, size_t n,
      struct berth_cgroup *cg)
{
  char *v[8] = { NULL };
  size_t k = 0, i;
  struct berth_error err = { 0 };
  bool ok = asprintf (&v[k++], "mode=%s", mode) >= 0
            && (!systemd || (v[k++] = strdup ("driver=systemd")) != NULL);

  for (i = 0; ok && i < n && k < 8; i++)
    ok = asprintf (&v[k++], "%s=%s/%s/ctr", ctrls[i], root, *ctrls[i] ? ctrls[i] : "v2") >= 0;
  ok = ok && cgroup_from_strv (v, k, cg, &err) == 0;
  if (!ok)
    tap_diag ("fake %s record: %s", mode, err.msg);
  for (i = 0; i < k; i++)
    free (v[i]);
  return ok;
}

static bool
same_pids (const struct cgroup_driver *d, const struct berth_cgroup *cg, const pid_t *want,
           size_t n_want)
{
  struct berth_error err = { 0 };
  pid_t *pids = NULL;
  size_t n = 0, i, j, found = 0;

  if (d->pids (cg, &pids, &n, &err) < 0)
    return tap_diag ("pids: %s", err.msg), false;
  for (i = 0; i < n_want; i++)
    for (j = 0; j < n; j++)
      found += pids[j] == want[i];
  free (pids);
  return n == n_want && found == n_want;
}

/* Each mode's record chooses its table; "driver=systemd" the systemd one
   on every layout. */
static void
check_tables (const char *root)
{
  static const char *const modes[] = { "v1", "hybrid", "v2" };
  static const char *const want[] = { "cgroupfs-v1", "cgroupfs-v1", "cgroupfs-v2" };
  static const char *const mem[] = { "memory" };
  static const char *const v2[] = { "" };

  for (size_t m = 0; m < 3; m++)
    for (int sd = 0; sd < 2; sd++)
      {
        struct berth_cgroup cg = { 0 };
        const char *name = NULL;
        if (fake (root, modes[m], sd, m == 2 ? v2 : mem, 1, &cg))
          name = cgroup_driver_of (&cg)->name;
        tap_ok (name && strcmp (name, sd ? "systemd" : want[m]) == 0,
                "a %s record%s chooses the %s table", modes[m], sd ? " of systemd's" : "",
                name ? name : "(none)");
        cgroup_free (&cg);
      }
}

/* freeze, is_frozen and pids of a v1 cgroup (freezer.state, the pids
   hierarchy), through `d`. */
static void
check_v1_files (const char *root, const struct cgroup_driver *d, const struct berth_cgroup *cg)
{
  static const pid_t want[] = { 4194401, 4194402, 4194403 };
  struct berth_error err = { 0 };
  cleanup_free char *frozen = NULL, *thawed = NULL;

  put (root, "freezer", "", "freezer.state", "THAWED\n");
  put (root, "pids", "", "cgroup.procs", "4194401\n4194402\n");
  put (root, "pids", "sub", "cgroup.procs", "4194403\n");
  put (root, "memory", "", "cgroup.procs", "4194999\n");
  tap_ok (!d->is_frozen (cg), "%s, v1: THAWED is not frozen", d->name);
  tap_ok (d->freeze (cg, true, &err) == 0 && (frozen = get (root, "freezer", "freezer.state"))
              && strcmp (frozen, "FROZEN\n") == 0 && d->is_frozen (cg),
          "%s, v1: freeze writes FROZEN to freezer.state %s", d->name, err.msg);
  tap_ok (d->freeze (cg, false, &err) == 0 && (thawed = get (root, "freezer", "freezer.state"))
              && strcmp (thawed, "THAWED\n") == 0 && !d->is_frozen (cg),
          "%s, v1: thaw writes THAWED %s", d->name, err.msg);
  tap_ok (same_pids (d, cg, want, 3),
          "%s, v1: pids reads cgroup.procs of the pids hierarchy and its sub-cgroups", d->name);
}

/* The same on v2 (cgroup.freeze, cgroup.events, the one hierarchy), or on
   the unified directory of a hybrid cgroup without a v1 freezer. */
static void
check_v2_files (const char *root, const struct cgroup_driver *d, const struct berth_cgroup *cg,
                const char *what)
{
  struct berth_error err = { 0 };
  cleanup_free char *frozen = NULL, *thawed = NULL;

  /* A plain file does not follow cgroup.freeze: cgroup.events is set to
     what the kernel would report once done. */
  put (root, "", "", "cgroup.freeze", "0\n");
  put (root, "", "", "cgroup.events", "populated 1\nfrozen 0\n");
  tap_ok (!d->is_frozen (cg), "%s, %s: \"frozen 0\" is not frozen", d->name, what);
  put (root, "", "", "cgroup.events", "populated 1\nfrozen 1\n");
  tap_ok (d->freeze (cg, true, &err) == 0 && (frozen = get (root, "", "cgroup.freeze"))
              && strcmp (frozen, "1\n") == 0 && d->is_frozen (cg),
          "%s, %s: freeze writes 1 to cgroup.freeze, cgroup.events says frozen %s", d->name,
          what, err.msg);
  put (root, "", "", "cgroup.events", "populated 1\nfrozen 0\n");
  tap_ok (d->freeze (cg, false, &err) == 0 && (thawed = get (root, "", "cgroup.freeze"))
              && strcmp (thawed, "0\n") == 0 && !d->is_frozen (cg),
          "%s, %s: thaw writes 0 %s", d->name, what, err.msg);
}

/* A child that only waits to be killed; reaped by the caller. */
static pid_t
sleeper (void)
{
  pid_t pid = fork ();

  if (pid == 0)
    for (;;)
      pause ();
  return pid;
}

/* kill_all: v1 kills pid by pid and thaws the freezer first; v2 writes
   cgroup.kill (here a plain file: the listed child lives on). */
static void
check_kill_all (const char *root)
{
  static const char *const v1[] = { "pids", "freezer" };
  static const char *const v2[] = { "" };
  struct berth_cgroup a = { 0 }, b = { 0 };
  struct berth_error err = { 0 };
  pid_t c1 = sleeper (), c2 = sleeper ();
  char buf[32];
  int status = 0;

  if (!tap_ok (c1 > 0 && c2 > 0, "fork two children"))
    return;
  snprintf (buf, sizeof buf, "%d\n", (int) c1);
  put (root, "pids", "", "cgroup.procs", buf);
  put (root, "freezer", "", "freezer.state", "FROZEN\n");
  snprintf (buf, sizeof buf, "%d\n", (int) c2);
  put (root, "", "", "cgroup.procs", buf);
  put (root, "", "", "cgroup.kill", "0\n");
  if (fake (root, "v1", false, v1, 2, &a) && fake (root, "v2", false, v2, 1, &b))
    {
      cleanup_free char *state = NULL, *killed = NULL;
      /* The files keep listing the children: both time out. */
      tap_ok (cgroup_driver_of (&a)->kill_all (&a, 30, &err) < 0
                  && waitpid (c1, &status, 0) == c1 && WIFSIGNALED (status)
                  && WTERMSIG (status) == SIGKILL,
              "cgroupfs-v1: kill_all SIGKILLs the listed pid (%s)", err.msg);
      tap_ok ((state = get (root, "freezer", "freezer.state")) && strcmp (state, "THAWED\n") == 0,
              "cgroupfs-v1: kill_all thawed the freezer");
      tap_ok (cgroup_driver_of (&b)->kill_all (&b, 30, &err) < 0
                  && (killed = get (root, "", "cgroup.kill")) && strcmp (killed, "1\n") == 0
                  && waitpid (c2, &status, WNOHANG) == 0,
              "cgroupfs-v2: kill_all writes cgroup.kill rather than killing pid by pid (%s)",
              err.msg);
    }
  kill (c1, SIGKILL), kill (c2, SIGKILL);
  waitpid (c1, NULL, 0), waitpid (c2, NULL, 0);
  cgroup_free (&a), cgroup_free (&b);
}

/* check_unused reads the layout's freezer, then its processes. */
static void
check_unused_files (const char *root, const struct cgroup_driver *d,
                    const struct berth_cgroup *cg)
{
  struct berth_error err = { 0 };

  put (root, "freezer", "", "freezer.state", "FROZEN\n");
  tap_ok (d->check_unused (cg, &err) < 0 && strstr (err.msg, "frozen"),
          "%s: check_unused refuses a frozen cgroup: %s", d->name, err.msg);
  put (root, "freezer", "", "freezer.state", "THAWED\n");
  put (root, "pids", "", "cgroup.procs", "4194401\n");
  tap_ok (d->check_unused (cg, &err) < 0 && strstr (err.msg, "not empty"),
          "%s: check_unused refuses one with processes: %s", d->name, err.msg);
  put (root, "pids", "", "cgroup.procs", "");
  err.msg[0] = '\0';
  tap_ok (d->check_unused (cg, &err) == 0, "%s: an empty one is unused %s", d->name, err.msg);
}

static int
remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st, (void) flag, (void) ftw;
  return remove (path);
}

static void
check_layouts (void)
{
  static const char *const v1[] = { "freezer", "memory", "pids" };
  static const char *const v1_nofreezer[] = { "memory" };
  static const char *const hybrid[] = { "memory", "" };
  static const char *const v2[] = { "" };
  static const pid_t mem[] = { 4194501 };
  char top[] = "/tmp/berth-cgtest-XXXXXX";
  struct berth_error err = { 0 };

  if (!tap_ok (mkdtemp (top) != NULL, "temporary tree %s", top))
    return;
  for (int sd = 0; sd < 2; sd++)
    {
      struct berth_cgroup a = { 0 }, b = { 0 }, c = { 0 }, e = { 0 };
      cleanup_free char *ra = NULL, *rb = NULL, *rc = NULL, *re = NULL, *rt = NULL;
      char name[32];

      snprintf (name, sizeof name, "tables-%d", sd);
      if (sd == 0 && (rt = tree (top, name)) != NULL)
        check_tables (rt);
      snprintf (name, sizeof name, "v1-%d", sd);
      if ((ra = tree (top, name)) && fake (ra, "v1", sd, v1, 3, &a))
        check_v1_files (ra, cgroup_driver_of (&a), &a);
      snprintf (name, sizeof name, "v1-nofreezer-%d", sd);
      if ((rb = tree (top, name)) && fake (rb, "v1", sd, v1_nofreezer, 1, &b))
        {
          put (rb, "memory", "", "cgroup.procs", "4194501\n");
          err = (struct berth_error){ 0 };
          tap_ok (cgroup_driver_of (&b)->freeze (&b, true, &err) < 0
                      && err.kind == BERTH_E_UNSUPPORTED,
                  "%s, v1 without a freezer: freeze is unsupported: %s",
                  cgroup_driver_of (&b)->name, err.msg);
          tap_ok (same_pids (cgroup_driver_of (&b), &b, mem, 1),
                  "%s, v1 without pids: the memory hierarchy is read", cgroup_driver_of (&b)->name);
        }
      snprintf (name, sizeof name, "hybrid-%d", sd);
      if ((rc = tree (top, name)) && fake (rc, "hybrid", sd, hybrid, 2, &c))
        {
          check_v2_files (rc, cgroup_driver_of (&c), &c, "hybrid without a v1 freezer");
          put (rc, "memory", "", "cgroup.procs", "4194501\n");
          put (rc, "", "", "cgroup.procs", "4194502\n");
          tap_ok (same_pids (cgroup_driver_of (&c), &c, mem, 1),
                  "%s, hybrid: pids reads the v1 hierarchy, not the unified one",
                  cgroup_driver_of (&c)->name);
        }
      snprintf (name, sizeof name, "v2-%d", sd);
      if ((re = tree (top, name)) && fake (re, "v2", sd, v2, 1, &e))
        {
          static const pid_t want[] = { 4194601, 4194602 };
          check_v2_files (re, cgroup_driver_of (&e), &e, "v2");
          put (re, "", "", "cgroup.procs", "4194601\n");
          put (re, "", "sub", "cgroup.procs", "4194602\n");
          tap_ok (same_pids (cgroup_driver_of (&e), &e, want, 2),
                  "%s, v2: pids reads cgroup.procs and its sub-cgroups'",
                  cgroup_driver_of (&e)->name);
        }
      cgroup_free (&a), cgroup_free (&b), cgroup_free (&c), cgroup_free (&e);
    }
  {
    struct berth_cgroup a = { 0 };
    cleanup_free char *ru = tree (top, "unused"), *rk = tree (top, "kill");
    if (ru && fake (ru, "v1", false, v1, 3, &a))
      check_unused_files (ru, cgroup_driver_of (&a), &a);
    cgroup_free (&a);
    if (rk)
      check_kill_all (rk);
  }
  tap_ok (nftw (top, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0, "temporary tree removed");
}

int
main (void)
{
  struct berth_cgroup cg = { 0 }, again = { 0 }, byid = { 0 };
  struct berth_error err = { 0 };
  enum berth_cgroup_mode mode = BERTH_CGROUP_V1;
  cleanup_free char *own2 = NULL, *rel = NULL, *shared = NULL;
  cleanup_free char *subtree = NULL, *subtree_before = NULL;
  char **tops = NULL; /* per directory: the topmost one create must make */
  const char *prefix = "", *v2dir;
  bool fresh = true, made = true, gone = true;
  size_t i;
  int r;

  check_layouts ();
  if (geteuid () != 0)
    {
      tap_ok (1, "# SKIP the cgroupfs tests need root");
      return tap_done ();
    }
  if (cgroup_detect_mode (&mode, &err) < 0)
    return tap_ok (0, "detect mode: %s", err.msg), tap_done ();
  tap_ok (1, "detect mode: %s", mode_name[mode]);
  check_drivers (mode);

  /* On v2 a relative path nests beside the caller; starting it with the
     caller's own name keeps it below the caller's cgroup. */
  own2 = mode == BERTH_CGROUP_V1 ? NULL : proc_cgroup (getpid (), "");
  if (own2 && strcmp (own2, "/") != 0)
    prefix = strrchr (own2, '/') + 1;
  if (asprintf (&rel, "%s%sberth-test-%d/ctr", prefix, *prefix ? "/" : "", (int) getpid ()) < 0
      || asprintf (&shared, "%s%sberth-test-%d-shared", prefix, *prefix ? "/" : "",
                   (int) getpid ())
             < 0)
    return 1;

  r = cgroup_resolve (rel, "id", &cg, &err);
  tap_ok (r == 0 && cg.mode == mode && cg.n_dirs > 0, "resolve \"%s\": %zu directories %s", rel,
          cg.n_dirs, err.msg);
  if ((tops = calloc (cg.n_dirs + 1, sizeof *tops)) == NULL)
    return 1;
  for (i = 0; i < cg.n_dirs; i++)
    {
      const struct berth_cgroup_dir *d = &cg.dirs[i];
      cleanup_free char *tail = expected_tail (d, rel);
      tap_ok (tail && ends_with (d->path, tail), "[%s] %s lies at %s below the caller's cgroup",
              d->controller, d->path, tail ? tail : "?");
      fresh &= !exists (d->path);
      tops[i] = first_missing (d->path);
    }
  tap_ok (mode == BERTH_CGROUP_V1 || cgroup_dir (&cg, "") != NULL,
          "the v2 hierarchy has a directory");
  check_rejected ("../../x");
  check_rejected ("a/../../x");
  check_rejected ("/../x");
  check_rejected ("./");
  r = cgroup_resolve (NULL, "berth-byid", &byid, &err);
  tap_ok (r == 0 && byid.n_dirs && ends_with (byid.dirs[0].path, "/berth-byid"),
          "no cgroupsPath: the id is used: %s", byid.n_dirs ? byid.dirs[0].path : err.msg);
  cgroup_free (&byid);
  if (!tap_ok (fresh, "no directory exists before create"))
    return free (tops), cgroup_free (&cg), tap_done ();

  for (i = 0; (v2dir = cgroup_dir (&cg, "")) && i < cg.n_dirs; i++)
    if (cg.dirs[i].path == v2dir && tops[i])
      {
        cleanup_free char *now = NULL;
        char *slash = strrchr (tops[i], '/');
        if (asprintf (&subtree, "%.*s/cgroup.subtree_control", (int) (slash - tops[i]), tops[i]) < 0
            || (now = slurp (subtree, true)) == NULL || asprintf (&subtree_before, " %s ", now) < 0)
          return 1;
      }

  tap_ok (cgroup_create (&cg, &err) == 0, "cgroup_create %s", err.msg);
  for (i = 0; i < cg.n_dirs; i++)
    {
      const struct berth_cgroup_dir *d = &cg.dirs[i];
      bool ok = exists (d->path) && d->created && d->created_top && tops[i]
                && strcmp (d->created_top, tops[i]) == 0;
      if (!ok)
        tap_diag ("[%s] created_top %s, expected %s", d->controller, d->created_top, tops[i]);
      made &= ok;
      if (strcmp (d->controller, "cpuset") == 0)
        {
          cleanup_free char *file = NULL, *cpus = NULL;
          if (asprintf (&file, "%s/cpuset.cpus", d->path) >= 0)
            cpus = slurp (file, true);
          tap_ok (cpus && *cpus, "v1 cpuset.cpus inherited: \"%s\"", cpus ? cpus : "");
        }
    }
  tap_ok (made, "every directory exists, is flagged created, created_top is its first new one");

  /* Over existing directories nothing is made: destroy(only_created) must
     leave them. */
  tap_ok (cgroup_resolve (rel, "id", &again, &err) == 0 && cgroup_create (&again, &err) == 0
              && cgroup_destroy (&again, true, &err) == 0,
          "re-create over existing directories, destroy only_created %s", err.msg);
  for (i = 0; i < again.n_dirs; i++)
    made &= exists (again.dirs[i].path) && !again.dirs[i].created;
  cgroup_free (&again);
  tap_ok (made, "destroy(only_created) left the directories it did not make");

  check_strv (&cg);
  check_enter (&cg, rel);

  /* As if the container had made cgroups of its own below its cgroup. */
  for (i = 0; i < cg.n_dirs; i++)
    {
      cleanup_free char *sub = NULL;
      if (asprintf (&sub, "%s/nested", cg.dirs[i].path) >= 0)
        mkdir (sub, 0755);
    }
  tap_ok (cgroup_destroy (&cg, false, &err) == 0, "cgroup_destroy %s", err.msg);
  /* The container's directory goes; the parents create made for it stay,
     as in runc (another runtime may be making a sibling there). */
  for (i = 0; i < cg.n_dirs; i++)
    {
      char *slash = strrchr (cg.dirs[i].path, '/');
      gone &= !exists (cg.dirs[i].path) && tops[i] && exists (tops[i]);
      if (tops[i] && strcmp (tops[i], cg.dirs[i].path) != 0 && !exists (tops[i]))
        tap_diag ("parent removed: %s", tops[i]);
      /* The test removes them: from the container's parent up to the top. */
      for (*slash = '\0'; tops[i] && is_below_or_at (tops[i], cg.dirs[i].path);
           *strrchr (cg.dirs[i].path, '/') = '\0')
        if (rmdir (cg.dirs[i].path) < 0)
          {
            tap_diag ("rmdir %s: %s", cg.dirs[i].path, strerror (errno));
            gone = false;
            break;
          }
      free (tops[i]);
    }
  tap_ok (gone, "the container's directories are gone, their parents were left (and removed "
                "by the test)");
  free (tops);
  cgroup_free (&cg);

  check_shared (shared);
  if (subtree && subtree_before)
    restore_subtree_control (subtree, subtree_before);
  return tap_done ();
}
