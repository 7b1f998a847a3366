/* The systemd cgroup driver: transient units, asked of systemd over D-Bus
   (base/dbus.h).  See systemd_cgroup.h for the contract. */
#include "cgroup/systemd_cgroup.h"
#include "cgroup/systemd_priv.h"
#include "cgroup/convert.h"
#include "cleanup.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JPATH ".linux.cgroupsPath"
#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_MS 30000 /* runc's */

static bool
ends_with (const char *s, const char *suffix)
{
  size_t l = strlen (s), n = strlen (suffix);
  return l >= n && strcmp (s + l - n, suffix) == 0;
}

static void
sdbus_close (struct sdbus *b)
{
  dbus_close (&b->c);
}
#define cleanup_sdbus __attribute__ ((cleanup (sdbus_close)))

/* A Manager method; with `reply` NULL its reply is dropped. */
static int
sd_call (struct sdbus *b, const char *method, const char *sig, const struct dbus_writer *args,
         struct dbus_reply *reply, struct berth_error *err)
{
  return dbus_call (&b->c, SD_DEST, SD_PATH, SD_MANAGER, method, sig, args, JOB_TIMEOUT_MS,
                    reply, err);
}

/* A D-Bus error reply with its name. */
static bool
error_is (const struct dbus_reply *r, const char *name)
{
  return r->m.type == 3 && r->m.error_name && strcmp (r->m.error_name, name) == 0;
}

int
systemd_cgroup_available (struct berth_error *err)
{
  struct stat st;

  if (stat ("/run/systemd/system", &st) < 0 || !S_ISDIR (st.st_mode))
    return berth_err (err, BERTH_E_UNSUPPORTED,
                      "the systemd cgroup driver needs systemd as the init system "
                      "(/run/systemd/system does not exist)");
  return 0;
}

/* Where sd_bus_open_user looks (runc's first two places too):
   $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus, its bytes outside
   the address syntax's plain set escaped as %XX.  NULL when neither is
   set, or out of memory. */
static char *
user_bus_address (void)
{
  const char *addr = getenv ("DBUS_SESSION_BUS_ADDRESS"), *xdg = getenv ("XDG_RUNTIME_DIR");
  char *out, *o;

  if (addr && *addr)
    return strdup (addr);
  if (xdg == NULL || *xdg == '\0' || (out = malloc (strlen (xdg) * 3 + 16)) == NULL)
    return NULL;
  o = out + sprintf (out, "unix:path=");
  for (const unsigned char *c = (const unsigned char *) xdg; *c; c++)
    o += strchr ("-_/.*", *c) || (*c >= '0' && *c <= '9') || ((*c | 32) >= 'a' && (*c | 32) <= 'z')
             ? sprintf (o, "%c", *c)
             : sprintf (o, "%%%02x", *c);
  strcpy (o, "/bus");
  return out;
}

/* What failed to connect to the user's bus, and where it looked. */
static int
user_bus_fail (struct berth_error *err)
{
  const char *addr = getenv ("DBUS_SESSION_BUS_ADDRESS"), *xdg = getenv ("XDG_RUNTIME_DIR");
  int e = err->errnum ? err->errnum : EIO;

  if (addr && *addr)
    return berth_err_sys (err, e,
                          "rootless: connect to the user's systemd at $DBUS_SESSION_BUS_ADDRESS "
                          "(%s)",
                          addr);
  if (xdg && *xdg)
    return berth_err_sys (err, e,
                          "rootless: connect to the user's systemd at %s/bus (is the user's "
                          "manager running, with a bus: dbus-user-session?)",
                          xdg);
  return berth_err (err, BERTH_E_UNSUPPORTED,
                    "rootless: the systemd cgroup driver talks to the user's systemd, and "
                    "neither $DBUS_SESSION_BUS_ADDRESS nor $XDG_RUNTIME_DIR says where its bus is");
}

/* systemd sends job signals to every direct connection, but on a bus only
   while some client has subscribed: a user's bus may have none. */
static void
subscribe (struct sdbus *b)
{
  struct berth_error e = { 0 };
  char why[1024];

  if (sd_call (b, "Subscribe", NULL, NULL, NULL, &e) < 0)
    berth_debug ("systemd: Subscribe: %s", berth_err_format (&e, why, sizeof why));
}

/* Every JobRemoved (uoss: id, job, unit, result) is kept, so that job_wait
   finds one that came before the reply naming its job. */
static void
on_signal (void *data, const struct dbus_msg *m)
{
  struct sdbus *b = data;
  struct dbus_reader rd;
  const char *job, *result;

  if (m->member == NULL || strcmp (m->member, "JobRemoved") != 0 || m->interface == NULL
      || strcmp (m->interface, SD_MANAGER) != 0 || m->signature == NULL
      || strcmp (m->signature, "uoss") != 0)
    return;
  dbus_reader_init (&rd, m);
  (void) dbus_get_u32 (&rd);
  job = dbus_get_string (&rd);
  (void) dbus_get_string (&rd);
  result = dbus_get_string (&rd);
  if (rd.r == 0)
    {
      unsigned i = b->n_jobs++ % SD_JOBS_KEPT;
      snprintf (b->jobs[i].path, sizeof b->jobs[i].path, "%s", job);
      snprintf (b->jobs[i].result, sizeof b->jobs[i].result, "%s", result);
    }
}

static int
sdbus_connect (struct sdbus *b, const char *address, bool bus, struct berth_error *err)
{
  if (dbus_connect (&b->c, address, bus, err) < 0)
    return -1;
  b->bus = bus;
  b->c.on_signal = on_signal;
  b->c.data = b;
  return 0;
}

/* `user`: the user's own manager (rootless), over the user's bus.  berth
   authenticates with EXTERNAL and sends no uid of its own, so the bus goes
   by the kernel's word (SO_PEERCRED): from a user namespace (root in
   Podman's) that is the outer uid, the bus owner's.  runc, whose D-Bus
   library sends a uid, asks `busctl --user status` for the OwnerUID to
   send instead; berth needs no such step.  Root talks to systemd's
   private socket when it is there (what systemctl uses: no dbus-daemon in
   between), else to the system bus. */
static int
sdbus_open (struct sdbus *b, bool user, struct berth_error *err)
{
  struct berth_error ignored = { 0 };
  const char *system_bus = getenv ("DBUS_SYSTEM_BUS_ADDRESS");

  memset (b, 0, sizeof *b);
  b->c.fd = -1;
  if (systemd_cgroup_available (err) < 0)
    return -1;
  if (user)
    {
      cleanup_free char *addr = user_bus_address ();
      if (addr == NULL || sdbus_connect (b, addr, true, err) < 0)
        return user_bus_fail (err);
      subscribe (b);
      return 0;
    }
  if (geteuid () == 0 && access ("/run/systemd/private", F_OK) == 0
      && sdbus_connect (b, "unix:path=/run/systemd/private", false, &ignored) == 0)
    return 0;
  if (sdbus_connect (b, system_bus && *system_bus ? system_bus
                                                  : "unix:path=/run/dbus/system_bus_socket",
                     true, err) < 0)
    {
      berth_err_prefix (err, "connect to systemd: ");
      return -1;
    }
  subscribe (b);
  return 0;
}

/* One line: what failed, the unit, and systemd's message (or the
   connection's trouble). */
static int
bus_fail (struct berth_error *err, const struct dbus_reply *r, const char *what, const char *unit)
{
  if (r && r->error_message)
    return berth_err (err, BERTH_E_SYSTEM, "systemd: %s %s: %s", what, unit, r->error_message);
  berth_err_prefix (err, "systemd: %s %s: ", what, unit);
  return -1;
}

/* The object path a reply of signature "o" carries (a job's). */
static const char *
reply_object (const struct dbus_reply *r, struct berth_error *err)
{
  struct dbus_reader rd;
  const char *o = NULL;

  if (r->m.signature && strcmp (r->m.signature, "o") == 0)
    {
      dbus_reader_init (&rd, &r->m);
      o = dbus_get_string (&rd);
    }
  if (o == NULL)
    berth_err_sys (err, EBADMSG, "D-Bus: a reply without the job");
  return o;
}

int
systemd_cgroup_user_check (enum berth_cgroup_mode mode, struct berth_error *err)
{
  /* runc refuses the same ("cannot use rootless systemd cgroups manager on
     cgroup v1"): a user's manager is given no v1 hierarchy to delegate. */
  if (mode != BERTH_CGROUP_V2)
    return berth_err (err, BERTH_E_UNSUPPORTED,
                      "rootless: the systemd cgroup driver needs cgroup v2 (a user's systemd "
                      "has no v1 hierarchy to delegate); run without --systemd-cgroup");
  return 0;
}

/* The uid whose login owns process `pid`, systemd's rule (what
   sd_pid_get_owner_uid gives): the last slice of its cgroup path counted
   from the root, before the first unit that is not a slice, must be
   "user-UID.slice".  0 when it is not, or not known. */
static uid_t
owner_uid (pid_t pid)
{
  char file[64], line[4096], *path = NULL, *last = NULL, *save = NULL;
  unsigned long uid;
  char *end;
  FILE *f;

  snprintf (file, sizeof file, "/proc/%d/cgroup", (int) pid);
  if (pid <= 0 || (f = fopen (file, "re")) == NULL)
    return 0;
  /* systemd's own hierarchy: name=systemd (v1, hybrid), else the v2 one. */
  while (fgets (line, sizeof line, f))
    {
      char *c = strchr (line, ':');
      line[strcspn (line, "\n")] = '\0';
      if (c && strncmp (c, ":name=systemd:", 14) == 0)
        {
          free (path);
          path = strdup (c + 14);
          break;
        }
      if (path == NULL && strncmp (line, "0::", 3) == 0)
        path = strdup (line + 3);
    }
  fclose (f);
  for (char *t = path ? strtok_r (path, "/", &save) : NULL; t && ends_with (t, ".slice");
       t = strtok_r (NULL, "/", &save))
    last = t;
  uid = 0;
  if (last && strncmp (last, "user-", 5) == 0)
    {
      errno = 0;
      uid = strtoul (last + 5, &end, 10);
      if (errno || end == last + 5 || strcmp (end, ".slice") != 0 || uid > UINT32_MAX - 1)
        uid = 0;
    }
  free (path);
  return (uid_t) uid;
}

/* Root in a user namespace counts as rootless (main.c), but may be the
   root of a system container whose own systemd runs it.  runc 1.1.5's
   auto rule there: the user bus's OwnerUID (from the cgroup of the bus's
   owner: `busctl --user status`) decides; not 0 is a user's manager
   (rootless Podman's), 0 or no user bus at all is the system's.  Anyone
   else rootless is always a user's. */
static bool
users_manager (void)
{
  cleanup_sdbus struct sdbus b = { 0 };
  struct berth_error ignored = { 0 };
  uid_t owner;

  if (geteuid () != 0)
    return true;
  if (sdbus_open (&b, true, &ignored) < 0)
    return false;
  owner = owner_uid (dbus_peer_pid (&b.c));
  berth_debug ("systemd: root in a user namespace; the user bus's owner is %u: the %s manager",
               (unsigned) owner, owner ? "user's" : "system's");
  return owner != 0;
}

/* ---- names ------------------------------------------------------------------ */

/* systemd's slice hierarchy is spelt with dashes: "a-b.slice" is
   /a.slice/a-b.slice; "-.slice" is the root. */
static int
expand_slice (const char *slice, char **out, struct berth_error *err)
{
  size_t n = strlen (slice) - strlen (".slice");
  cleanup_free char *path = NULL;
  size_t len = 0;

  if (!ends_with (slice, ".slice") || n == 0 || strchr (slice, '/'))
    return berth_err_at (err, BERTH_E_VALUE, JPATH, "\"%s\" is not a slice name", slice);
  if (n == 1 && slice[0] == '-')
    return (*out = strdup ("")) ? 0 : berth_err_sys (err, ENOMEM, "out of memory");
  /* Each component adds "/" + the prefix so far + ".slice". */
  path = malloc ((n + 1) * (n + 8));
  if (path == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  for (size_t i = 0; i <= n; i++)
    if (i == n || slice[i] == '-')
      {
        if (i == 0 || slice[i - 1] == '-' || (i == n && slice[n - 1] == '-'))
          return berth_err_at (err, BERTH_E_VALUE, JPATH, "\"%s\" is not a slice name", slice);
        len += (size_t) sprintf (path + len, "/%.*s.slice", (int) i, slice);
      }
  *out = steal_pointer (&path);
  return 0;
}

int
systemd_cgroup_names (const char *cgroups_path, const char *id, bool user, char **unit,
                      char **slice, struct berth_error *err)
{
  cleanup_free char *copy = NULL, *checked = NULL;
  const char *s = "", *prefix = "berth", *name = id;
  char *c1, *c2;
  int n;

  *unit = *slice = NULL;
  if (cgroups_path && *cgroups_path)
    {
      if ((copy = strdup (cgroups_path)) == NULL)
        return berth_err_sys (err, ENOMEM, "out of memory");
      c1 = strchr (copy, ':');
      c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      if (c2 == NULL || strchr (c2 + 1, ':'))
        return berth_err_at (err, BERTH_E_VALUE, JPATH,
                             "\"%s\" is not of the form \"slice:prefix:name\", "
                             "which the systemd cgroup driver needs",
                             cgroups_path);
      *c1 = *c2 = '\0';
      s = copy, prefix = c1 + 1, name = c2 + 1;
    }
  if (name == NULL || *name == '\0')
    return berth_err_at (err, BERTH_E_VALUE, JPATH, "the unit name (its third part) is empty");
  if (strchr (s, '/') || strchr (prefix, '/') || strchr (name, '/'))
    return berth_err_at (err, BERTH_E_VALUE, JPATH,
                         "\"%s\": systemd unit and slice names cannot hold \"/\"", cgroups_path);
  if (*s == '\0')
    s = user ? "user.slice" : "system.slice";
  /* Checked here rather than left to systemd, whose refusal would come
     after berth had started the container's init. */
  if (expand_slice (s, &checked, err) < 0)
    return -1;
  if (ends_with (name, ".slice"))
    n = asprintf (unit, "%s", name);
  else
    n = asprintf (unit, "%s%s%s.scope", prefix, *prefix ? "-" : "", name);
  if (n < 0 || (*slice = strdup (s)) == NULL)
    {
      free (n < 0 ? NULL : *unit);
      *unit = NULL;
      return berth_err_sys (err, ENOMEM, "out of memory");
    }
  return 0;
}

bool
systemd_cgroup_user (const struct berth_cgroup *cg)
{
  const char *dir = cg->systemd_unit && cg->n_dirs ? cg->dirs[0].path : NULL;

  /* The user manager's own cgroup is ".../user@UID.service". */
  for (const char *s = dir ? strstr (dir, "/user@") : NULL; s; s = strstr (s + 1, "/user@"))
    {
      size_t n = strspn (s + 6, "0123456789");
      if (n && strncmp (s + 6 + n, ".service/", 9) == 0)
        return true;
    }
  return false;
}

const char *
systemd_cgroup_unit (const struct berth_cgroup *cg)
{
  /* Every hierarchy has the unit's directory at the same path. */
  const char *dir = cg->systemd_unit && cg->n_dirs ? cg->dirs[0].path : NULL;
  const char *base = dir ? strrchr (dir, '/') : NULL;

  if (base == NULL || !(ends_with (base, ".scope") || ends_with (base, ".slice")))
    return NULL;
  return base + 1;
}


/* ---- jobs ------------------------------------------------------------------ */

struct job_wait {
  struct sdbus *b;
  const char *path;   /* the job's object path */
  const char *result; /* "done", "failed", "canceled", "timeout", ... once removed */
};

static bool
job_removed (void *data)
{
  struct job_wait *w = data;
  unsigned n = w->b->n_jobs < SD_JOBS_KEPT ? w->b->n_jobs : SD_JOBS_KEPT;

  for (unsigned i = 0; i < n; i++)
    if (strcmp (w->b->jobs[i].path, w->path) == 0)
      return (w->result = w->b->jobs[i].result) != NULL;
  return false;
}

/* Wait for the JobRemoved signal of w->path.  On a bus the match was added
   before the call that made the job, and signals read while waiting for
   that call's reply were kept, so the signal cannot be missed. */
static int
job_wait (struct job_wait *w, const char *what, const char *unit, struct berth_error *err)
{
  if (dbus_wait (&w->b->c, job_removed, w, JOB_TIMEOUT_MS, err) == 0)
    return 0;
  if (err->errnum == ETIMEDOUT)
    return berth_err (err, BERTH_E_SYSTEM, "systemd: %s %s: no answer in %d s", what, unit,
                      JOB_TIMEOUT_MS / 1000);
  return bus_fail (err, NULL, what, unit);
}

/* On a bus, the bus sends a signal only to those whose match it fits; on
   systemd's own socket every job signal comes. */
static int
add_job_match (struct sdbus *b, struct berth_error *err)
{
  struct dbus_writer rule = { 0 };
  int r;

  if (!b->bus)
    return 0;
  /* No sender=: the bus names systemd by its unique name. */
  dbus_put_string (&rule, "type='signal',interface='" SD_MANAGER "',member='JobRemoved',"
                          "path='" SD_PATH "'");
  r = dbus_call (&b->c, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                 "AddMatch", "s", &rule, JOB_TIMEOUT_MS, NULL, err);
  dbus_writer_free (&rule);
  if (r < 0)
    berth_err_prefix (err, "systemd: subscribe to job results: ");
  return r;
}

/* Wait for the job a call's reply names; a job that ends other than
   "done" is a warning (StopUnit) or, with `must_be_done`, an error. */
static int
reply_job_wait (struct sdbus *b, const struct dbus_reply *rep, const char *what,
                const char *unit, bool must_be_done, struct berth_error *err)
{
  struct job_wait w = { .b = b };

  if ((w.path = reply_object (rep, err)) == NULL)
    return bus_fail (err, NULL, what, unit);
  if (job_wait (&w, what, unit, err) < 0)
    return -1;
  if (strcmp (w.result, "done") == 0)
    return 0;
  if (must_be_done)
    return berth_err (err, BERTH_E_SYSTEM, "systemd: %s %s: job %s (see: journalctl -u %s)",
                      what, unit, w.result, unit);
  berth_warn ("systemd: %s %s: job %s", what, unit, w.result);
  return 0;
}

/* A Manager method that takes a unit name and a mode and returns a job
   (StopUnit); a unit systemd does not know is *gone = true, not an error. */
static int
unit_job (struct sdbus *b, const char *method, const char *unit, bool *gone,
          struct berth_error *err)
{
  struct dbus_writer args = { 0 };
  struct dbus_reply rep = { 0 };
  int r;

  *gone = false;
  if (add_job_match (b, err) < 0)
    return -1;
  dbus_put_string (&args, unit);
  dbus_put_string (&args, "replace");
  if ((r = sd_call (b, method, "ss", &args, &rep, err)) < 0)
    {
      *gone = error_is (&rep, "org.freedesktop.systemd1.NoSuchUnit");
      if (*gone)
        berth_err_clear (err), r = 0;
      else
        bus_fail (err, &rep, method, unit);
    }
  else
    r = reply_job_wait (b, &rep, method, unit, false, err);
  dbus_reply_free (&rep);
  dbus_writer_free (&args);
  return r;
}

static void
reset_failed (struct sdbus *b, const char *unit)
{
  struct dbus_writer args = { 0 };

  /* Fails harmlessly when the unit is not in the failed state or gone. */
  dbus_put_string (&args, unit);
  (void) sd_call (b, "ResetFailedUnit", "s", &args, NULL, &(struct berth_error){ 0 });
  dbus_writer_free (&args);
}

/* ---- create ----------------------------------------------------------------- */

/* One StartTransientUnit and its job.  *exists: systemd refused because a
   unit of that name is loaded (err is set too). */
static int
start_once (struct sdbus *b, const char *unit, const char *slice, const char *desc, pid_t pid,
            const struct oci_resources *res, bool *exists, struct berth_error *err)
{
  struct props p = { .b = b };
  struct dbus_reply rep = { 0 };
  int r = -1;

  *exists = false;
  if (add_job_match (b, err) < 0)
    return -1;
  dbus_put_string (&p.w, unit);
  dbus_put_string (&p.w, "replace");
  dbus_array_open (&p.w, 8);
  prop_s (&p, "Description", desc);
  if (ends_with (unit, ".slice"))
    prop_as1 (&p, "Wants", slice);
  else
    {
      prop_s (&p, "Slice", slice);
      prop_au1 (&p, "PIDs", (uint32_t) pid);
      prop_b (&p, "Delegate", true);
    }
  /* As runc: accounting on (what the cgroupfs driver gets), and no implicit
     ordering against shutdown.target or basic.target. */
  prop_b (&p, "MemoryAccounting", true);
  prop_b (&p, "CPUAccounting", true);
  prop_b (&p, "IOAccounting", true);
  prop_b (&p, "TasksAccounting", true);
  prop_b (&p, "DefaultDependencies", false);
  if (sd_append_resources (&p, res, err) < 0)
    goto out;
  dbus_array_close (&p.w);
  dbus_array_open (&p.w, 8); /* no auxiliary units */
  dbus_array_close (&p.w);
  if ((r = sd_call (b, "StartTransientUnit", "ssa(sv)a(sa(sv))", &p.w, &rep, err)) < 0)
    {
      *exists = error_is (&rep, "org.freedesktop.systemd1.UnitExists");
      if (*exists)
        berth_err (err, BERTH_E_EXISTS,
                   "systemd: unit %s already exists and is in use (by another container "
                   "or service): %s",
                   unit, rep.error_message ? rep.error_message : "UnitExists");
      else
        bus_fail (err, &rep, "start unit", unit);
    }
  else
    r = reply_job_wait (b, &rep, "start unit", unit, true, err);
out:
  dbus_reply_free (&rep);
  dbus_writer_free (&p.w);
  return r < 0 ? -1 : 0;
}

static int
start_unit (struct sdbus *b, const char *unit, const char *slice, const char *id, pid_t pid,
            const struct oci_resources *res, struct berth_error *err)
{
  cleanup_free char *desc = NULL;
  bool exists;

  if (asprintf (&desc, "berth container %s", id) < 0)
    return desc = NULL, berth_err_sys (err, ENOMEM, "out of memory");
  if (start_once (b, unit, slice, desc, pid, res, &exists, err) == 0)
    return 0;
  /* A unit of that name left by a container that failed: have systemd
     forget it, and try once more (as runc). */
  if (exists)
    {
      berth_debug ("systemd: unit %s exists; resetting it and retrying", unit);
      reset_failed (b, unit);
      berth_err_clear (err);
      if (start_once (b, unit, slice, desc, pid, res, &exists, err) == 0)
        return 0;
    }
  /* A failed start job leaves a failed unit: do not leave it behind. */
  if (!exists)
    reset_failed (b, unit);
  return -1;
}

/* systemd enables the controllers its properties need (memory, cpu, io,
   pids, cpuset) on the way down to the unit; those it does not manage
   (hugetlb, rdma, misc) are for us to enable, as runc does, so that
   linux.resources can use them.  Best effort: a controller the host lacks
   is reported by cgroup_apply_resources, naming the property. */
static void
enable_unmanaged_controllers (const char *dir)
{
  static const char *const ctrls[] = { "hugetlb", "rdma", "misc" };
  size_t root = strlen ("/sys/fs/cgroup");
  cleanup_free char *path = strdup (dir);
  char file[4200], avail[512];

  for (char *slash = path && path[root] == '/' ? path + root : NULL; slash;
       slash = strchr (slash + 1, '/'))
    {
      ssize_t n;
      int fd;
      *slash = '\0'; /* path is now an ancestor of dir: enable in its subtree */
      snprintf (file, sizeof file, "%s/cgroup.controllers", path);
      fd = open (file, O_RDONLY | O_CLOEXEC);
      n = fd < 0 ? -1 : read (fd, avail, sizeof avail - 1);
      if (fd >= 0)
        close (fd);
      avail[n > 0 ? n : 0] = '\0';
      snprintf (file, sizeof file, "%s/cgroup.subtree_control", path);
      for (size_t i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++)
        {
          char word[16];
          snprintf (word, sizeof word, "+%s", ctrls[i]);
          if (strstr (avail, ctrls[i]) && (fd = open (file, O_WRONLY | O_CLOEXEC)) >= 0)
            {
              if (write (fd, word, strlen (word)) < 0)
                berth_debug ("cgroup: %s: %s: %s", file, word, strerror (errno));
              close (fd);
            }
        }
      *slash = '/';
    }
}

/* The user manager's slices are below its own cgroup (typically
   /user.slice/user-UID.slice/user@UID.service): `slice_path`, from the root
   of the hierarchy, gets that prefix, which the manager's ControlGroup
   property gives (as runc's rootless v2 driver asks it). */
static int
under_user_manager (struct sdbus *b, char **slice_path, struct berth_error *err)
{
  struct dbus_writer args = { 0 };
  struct dbus_reply rep = { 0 };
  struct dbus_reader rd;
  const char *sig, *manager = NULL;
  char *joined = NULL;
  int r;

  dbus_put_string (&args, SD_MANAGER);
  dbus_put_string (&args, "ControlGroup");
  r = dbus_call (&b->c, SD_DEST, SD_PATH, "org.freedesktop.DBus.Properties", "Get", "ss", &args,
                 JOB_TIMEOUT_MS, &rep, err);
  if (r == 0)
    {
      dbus_reader_init (&rd, &rep.m);
      if ((sig = dbus_get_signature (&rd)) != NULL && strcmp (sig, "s") == 0)
        manager = dbus_get_string (&rd);
      if (manager == NULL)
        r = berth_err_sys (err, EBADMSG, "D-Bus: not a string");
    }
  if (r < 0)
    bus_fail (err, &rep, "read the ControlGroup of", "the user's manager");
  else if (asprintf (&joined, "%s%s", manager, *slice_path) < 0)
    r = berth_err_sys (err, ENOMEM, "out of memory"), joined = NULL;
  dbus_reply_free (&rep);
  dbus_writer_free (&args);
  if (r < 0)
    return -1;
  free (*slice_path);
  *slice_path = joined;
  return 0;
}

int
systemd_cgroup_create (const char *cgroups_path, const char *id, bool user, pid_t pid,
                       const struct oci_resources *r, struct berth_cgroup *cg,
                       struct berth_error *err)
{
  cleanup_sdbus struct sdbus b = { 0 };
  cleanup_free char *unit = NULL, *slice = NULL, *path = NULL, *slice_path = NULL;
  enum berth_cgroup_mode mode;
  bool gone, by_hand;

  memset (cg, 0, sizeof *cg);
  user = user && users_manager ();
  if (systemd_cgroup_names (cgroups_path, id, user, &unit, &slice, err) < 0)
    return berth_err_set_source (err, "config.json"), -1;
  if (ends_with (unit, ".slice") && expand_slice (unit, &slice_path, err) < 0)
    return berth_err_set_source (err, "config.json"), -1;
  if (cgroup_detect_mode (&mode, err) < 0 || (user && systemd_cgroup_user_check (mode, err) < 0))
    return -1;
  if (sdbus_open (&b, user, err) < 0)
    return -1;
  if (user && slice_path && under_user_manager (&b, &slice_path, err) < 0)
    return -1;
  b.legacy = mode != BERTH_CGROUP_V2;
  if (start_unit (&b, unit, slice, id, pid, r, err) < 0)
    return -1;
  /* The unit's directory, as the kernel names it.  A slice holds no
     processes of systemd's making, and on a v1 or hybrid host systemd
     moves the pid only in the hierarchies it manages: the others get a
     directory at the same path from cgroupfs, as in runc's v1 driver. */
  by_hand = slice_path || mode != BERTH_CGROUP_V2;
  if ((slice_path == NULL && cgroup_path_of (pid, &path, err) < 0)
      || cgroup_resolve (slice_path ? slice_path : path, id, cg, err) < 0
      || (by_hand && (cgroup_create (cg, err) < 0 || cgroup_enter (cg, pid, err) < 0)))
    {
      if (by_hand)
        cgroup_destroy (cg, true, &(struct berth_error){ 0 });
      cgroup_free (cg);
      unit_job (&b, "StopUnit", unit, &gone, &(struct berth_error){ 0 });
      reset_failed (&b, unit);
      return -1;
    }
  cg->systemd_unit = true;
  if (mode == BERTH_CGROUP_V2)
    enable_unmanaged_controllers (cgroup_dir (cg, ""));
  return 0;
}

/* ---- update and destroy ------------------------------------------------------- */

int
systemd_cgroup_update (const struct berth_cgroup *cg, const struct oci_resources *r,
                       struct berth_error *err)
{
  cleanup_sdbus struct sdbus b = { 0 };
  const char *unit = systemd_cgroup_unit (cg);
  struct props p = { .b = &b };
  struct dbus_reply rep = { 0 };
  int ret;

  if (unit == NULL)
    return berth_err (err, BERTH_E_STATE, "the container's cgroup is not a systemd unit");
  if (sdbus_open (&b, systemd_cgroup_user (cg), err) < 0)
    return -1;
  b.legacy = cg->mode != BERTH_CGROUP_V2;
  dbus_put_string (&p.w, unit);
  dbus_put_bool (&p.w, true); /* runtime: not kept across systemd's reload */
  dbus_array_open (&p.w, 8);
  if (sd_append_resources (&p, r, err) < 0)
    ret = -1;
  else
    {
      dbus_array_close (&p.w);
      if ((ret = sd_call (&b, "SetUnitProperties", "sba(sv)", &p.w, &rep, err)) < 0)
        bus_fail (err, &rep, "set properties of", unit);
    }
  dbus_reply_free (&rep);
  dbus_writer_free (&p.w);
  return ret;
}

int
systemd_cgroup_destroy (struct berth_cgroup *cg, struct berth_error *err)
{
  cleanup_sdbus struct sdbus b = { 0 };
  cleanup_free char *unit = NULL;
  const char *u = systemd_cgroup_unit (cg);
  bool gone;

  if (u == NULL)
    return cgroup_destroy (cg, false, err);
  if ((unit = strdup (u)) == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  if (sdbus_open (&b, systemd_cgroup_user (cg), err) < 0
      || unit_job (&b, "StopUnit", unit, &gone, err) < 0)
    return -1;
  reset_failed (&b, unit);
  /* systemd removes the scope's cgroup as it stops it; whatever remains
     (a slice berth made a directory for, sub-cgroups) goes here. */
  return cgroup_destroy (cg, false, err);
}
