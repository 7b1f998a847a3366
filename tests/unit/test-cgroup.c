/* Unit test of src/cgroup.c against the real cgroupfs of this machine (v1,
 * hybrid or v2).
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

  if (geteuid () != 0)
    {
      printf ("ok 1 # SKIP cgroupfs tests need root\n1..1\n");
      return 0;
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
