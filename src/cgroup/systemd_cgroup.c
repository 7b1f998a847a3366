/* The systemd cgroup driver: transient units over sd-bus, libsystemd loaded
   with dlopen() on use.  See systemd_cgroup.h for the contract. */
#include "cgroup/systemd_cgroup.h"
#include "cgroup/systemd_priv.h"
#include "cgroup/convert.h"
#include "cleanup.h"
#include "base/dynlib.h"
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
#define JOB_TIMEOUT_USEC (30 * 1000000ULL) /* runc's */

static void
sdbus_close (struct sdbus *b)
{
  if (b->bus)
    b->sd_bus_flush_close_unref (b->bus);
  dynlib_close (b->dl);
  memset (b, 0, sizeof *b);
}
#define cleanup_sdbus __attribute__ ((cleanup (sdbus_close)))

/* systemd's private socket when root (what systemctl uses: no dbus-daemon
   in between), else the system bus. */
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

/* Where sd_bus_open_user looks (runc's first two places too), for the
   error: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus. */
static int
user_bus_fail (struct berth_error *err, int r)
{
  const char *addr = getenv ("DBUS_SESSION_BUS_ADDRESS"), *xdg = getenv ("XDG_RUNTIME_DIR");

  if (addr && *addr)
    return berth_err_sys (err, -r,
                          "rootless: connect to the user's systemd at $DBUS_SESSION_BUS_ADDRESS "
                          "(%s)",
                          addr);
  if (xdg && *xdg)
    return berth_err_sys (err, -r,
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
  sd_bus_error e = SD_BUS_ERROR_NULL;

  if (b->sd_bus_call_method (b->bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &e, NULL, "")
      < 0)
    berth_debug ("systemd: Subscribe: %s", e.message ? e.message : "failed");
  b->sd_bus_error_free (&e);
}

#define SD_SYM(f) DYNLIB_SYM (struct sdbus, f)
static const struct dynlib_sym sd_syms[] = { SD_SYMBOLS (SD_SYM) };
#undef SD_SYM
static const struct dynlib libsystemd = {
  .soname = "libsystemd.so.0",
  .unloadable = "the systemd cgroup driver needs libsystemd",
  .missing = "",
  .syms = sd_syms,
  .n_syms = sizeof sd_syms / sizeof sd_syms[0],
};

/* `user`: the user's own manager (rootless), over the user's bus.  sd-bus
   authenticates with EXTERNAL and sends no uid of its own, so the bus goes
   by the kernel's word (SO_PEERCRED): from a user namespace (root in
   Podman's) that is the outer uid, the bus owner's.  runc, whose D-Bus
   library sends a uid, asks `busctl --user status` for the OwnerUID to
   send instead; berth needs no such step. */
static int
sdbus_open (struct sdbus *b, bool user, struct berth_error *err)
{
  int r = -1;

  memset (b, 0, sizeof *b);
  if (systemd_cgroup_available (err) < 0)
    return -1;
  if ((b->dl = dynlib_open (&libsystemd, b, err)) == NULL)
    return -1;
  if (user)
    {
      if ((r = b->sd_bus_open_user (&b->bus)) < 0)
        return user_bus_fail (err, r);
      subscribe (b);
      return 0;
    }
  if (geteuid () == 0 && access ("/run/systemd/private", F_OK) == 0
      && b->sd_bus_new (&b->bus) >= 0)
    {
      if (b->sd_bus_set_address (b->bus, "unix:path=/run/systemd/private") >= 0
          && (r = b->sd_bus_start (b->bus)) >= 0)
        return 0;
      b->bus = b->sd_bus_flush_close_unref (b->bus);
    }
  if ((r = b->sd_bus_open_system (&b->bus)) < 0)
    return berth_err_sys (err, -r, "connect to systemd over D-Bus");
  subscribe (b);
  return 0;
}

/* One line: what failed, the unit, and systemd's message. */
static int
bus_fail (struct berth_error *err, int r, const sd_bus_error *e, const char *what,
          const char *unit)
{
  if (e && e->message)
    return berth_err (err, BERTH_E_SYSTEM, "systemd: %s %s: %s", what, unit, e->message);
  return berth_err_sys (err, r < 0 ? -r : EIO, "systemd: %s %s", what, unit);
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

/* Root in a user namespace counts as rootless (main.c), but may be the
   root of a system container whose own systemd runs it.  runc 1.1.5's
   auto rule there: the user bus's OwnerUID (sd_bus_creds_get_owner_uid,
   from the cgroup of the bus's owner: `busctl --user status`) decides;
   not 0 is a user's manager (rootless Podman's), 0 or no user bus at all
   is the system's.  Anyone else rootless is always a user's. */
static bool
users_manager (void)
{
  cleanup_sdbus struct sdbus b = { 0 };
  struct berth_error ignored = { 0 };
  sd_bus_creds *creds = NULL;
  uid_t owner = 0;

  if (geteuid () != 0)
    return true;
  if (sdbus_open (&b, true, &ignored) < 0)
    return false;
  if (b.sd_bus_get_owner_creds (b.bus, SD_BUS_CREDS_OWNER_UID | SD_BUS_CREDS_AUGMENT, &creds) >= 0
      && b.sd_bus_creds_get_owner_uid (creds, &owner) < 0)
    owner = 0;
  if (creds)
    b.sd_bus_creds_unref (creds);
  berth_debug ("systemd: root in a user namespace; the user bus's owner is %u: the %s manager",
               (unsigned) owner, owner ? "user's" : "system's");
  return owner != 0;
}

/* ---- names ------------------------------------------------------------------ */

static bool
ends_with (const char *s, const char *suffix)
{
  size_t l = strlen (s), n = strlen (suffix);
  return l >= n && strcmp (s + l - n, suffix) == 0;
}

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
  const char *path; /* the job's object path, once known */
  char result[32];  /* "done", "failed", "canceled", "timeout", ... */
};

static int
on_job_removed (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  struct job_wait *w = userdata;
  const char *path = NULL, *unit = NULL, *result = NULL;
  uint32_t id;

  (void) ret_error;
  if (w->b->sd_bus_message_read (m, "uoss", &id, &path, &unit, &result) >= 0 && w->path
      && strcmp (path, w->path) == 0)
    snprintf (w->result, sizeof w->result, "%s", result);
  return 0;
}

static uint64_t
now_usec (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Wait for the JobRemoved signal of w->path.  The match was added before the
   call that made the job, and signals read while waiting for that call's
   reply are queued, so the signal cannot be missed. */
static int
job_wait (struct job_wait *w, const char *what, const char *unit, struct berth_error *err)
{
  uint64_t deadline = now_usec () + JOB_TIMEOUT_USEC;
  int r;

  while (w->result[0] == '\0')
    {
      uint64_t now = now_usec ();
      if ((r = w->b->sd_bus_process (w->b->bus, NULL)) < 0)
        return bus_fail (err, r, NULL, what, unit);
      if (r > 0)
        continue;
      if (now >= deadline)
        return berth_err (err, BERTH_E_SYSTEM, "systemd: %s %s: no answer in %llu s", what, unit,
                          JOB_TIMEOUT_USEC / 1000000);
      if ((r = w->b->sd_bus_wait (w->b->bus, deadline - now)) < 0 && r != -EINTR)
        return bus_fail (err, r, NULL, what, unit);
    }
  return 0;
}

static int
add_job_match (struct job_wait *w, sd_bus_slot **slot, struct berth_error *err)
{
  /* No sender= in the match: on systemd's private socket messages carry none. */
  int r = w->b->sd_bus_add_match (w->b->bus, slot,
                                  "type='signal',interface='" SD_MANAGER "',member='JobRemoved',"
                                  "path='" SD_PATH "'",
                                  on_job_removed, w);
  return r < 0 ? berth_err_sys (err, -r, "systemd: subscribe to job results") : 0;
}

/* A Manager method that takes a unit name and a mode and returns a job
   (StopUnit); a unit systemd does not know is *gone = true, not an error. */
static int
unit_job (struct sdbus *b, const char *method, const char *unit, bool *gone,
          struct berth_error *err)
{
  struct job_wait w = { .b = b };
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  sd_bus_slot *slot = NULL;
  const char *job;
  int r;

  *gone = false;
  if (add_job_match (&w, &slot, err) < 0)
    return -1;
  r = b->sd_bus_call_method (b->bus, SD_DEST, SD_PATH, SD_MANAGER, method, &e, &reply, "ss", unit,
                             "replace");
  if (r < 0)
    {
      *gone = b->sd_bus_error_has_name (&e, "org.freedesktop.systemd1.NoSuchUnit");
      if (!*gone)
        bus_fail (err, r, &e, method, unit);
    }
  else if ((r = b->sd_bus_message_read (reply, "o", &job)) < 0)
    bus_fail (err, r, NULL, method, unit);
  else
    {
      w.path = job;
      r = job_wait (&w, method, unit, err);
      if (r == 0 && strcmp (w.result, "done") != 0)
        berth_warn ("systemd: %s %s: job %s", method, unit, w.result);
    }
  b->sd_bus_error_free (&e);
  b->sd_bus_message_unref (reply);
  b->sd_bus_slot_unref (slot);
  return r < 0 && !*gone ? -1 : 0;
}

static void
reset_failed (struct sdbus *b, const char *unit)
{
  sd_bus_error e = SD_BUS_ERROR_NULL;

  /* Fails harmlessly when the unit is not in the failed state or gone. */
  b->sd_bus_call_method (b->bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", &e, NULL, "s",
                         unit);
  b->sd_bus_error_free (&e);
}

/* ---- create ----------------------------------------------------------------- */

/* One StartTransientUnit and its job.  *exists: systemd refused because a
   unit of that name is loaded (err is set too). */
static int
start_once (struct sdbus *b, const char *unit, const char *slice, const char *desc, pid_t pid,
            const struct oci_resources *res, bool *exists, struct berth_error *err)
{
  bool is_slice = ends_with (unit, ".slice");
  struct job_wait w = { .b = b };
  struct props p = { .b = b };
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  sd_bus_slot *slot = NULL;
  const char *job;
  int r = -1;

  *exists = false;
  if (add_job_match (&w, &slot, err) < 0)
    return -1;
  p.r = b->sd_bus_message_new_method_call (b->bus, &p.m, SD_DEST, SD_PATH, SD_MANAGER,
                                           "StartTransientUnit");
  if (p.r >= 0)
    p.r = b->sd_bus_message_append (p.m, "ss", unit, "replace");
  if (p.r >= 0)
    p.r = b->sd_bus_message_open_container (p.m, 'a', "(sv)");
  prop_s (&p, "Description", desc);
  if (is_slice && p.r >= 0)
    p.r = b->sd_bus_message_append (p.m, "(sv)", "Wants", "as", 1, slice);
  else if (!is_slice)
    {
      prop_s (&p, "Slice", slice);
      if (p.r >= 0)
        p.r = b->sd_bus_message_append (p.m, "(sv)", "PIDs", "au", 1, (uint32_t) pid);
      prop_b (&p, "Delegate", true);
    }
  /* As runc: accounting on (what the cgroupfs driver gets), and no implicit
     ordering against shutdown.target or basic.target. */
  prop_b (&p, "MemoryAccounting", true);
  prop_b (&p, "CPUAccounting", true);
  prop_b (&p, "IOAccounting", true);
  prop_b (&p, "TasksAccounting", true);
  prop_b (&p, "DefaultDependencies", false);
  if (p.r >= 0 && sd_append_resources (&p, res, err) < 0)
    goto out;
  if (p.r >= 0)
    p.r = b->sd_bus_message_close_container (p.m);
  if (p.r >= 0)
    p.r = b->sd_bus_message_append (p.m, "a(sa(sv))", 0);
  if (p.r < 0)
    {
      bus_fail (err, p.r, NULL, "start unit", unit);
      goto out;
    }
  if ((r = b->sd_bus_call (b->bus, p.m, JOB_TIMEOUT_USEC, &e, &reply)) < 0)
    {
      *exists = b->sd_bus_error_has_name (&e, "org.freedesktop.systemd1.UnitExists");
      if (*exists)
        berth_err (err, BERTH_E_EXISTS,
                   "systemd: unit %s already exists and is in use (by another container "
                   "or service): %s",
                   unit, e.message ? e.message : "UnitExists");
      else
        bus_fail (err, r, &e, "start unit", unit);
    }
  else if ((r = b->sd_bus_message_read (reply, "o", &job)) < 0)
    bus_fail (err, r, NULL, "start unit", unit);
  else
    {
      w.path = job;
      if ((r = job_wait (&w, "start unit", unit, err)) == 0 && strcmp (w.result, "done") != 0)
        r = berth_err (err, BERTH_E_SYSTEM,
                       "systemd: start unit %s: job %s (see: journalctl -u %s)", unit, w.result,
                       unit);
    }
out:
  b->sd_bus_error_free (&e);
  b->sd_bus_message_unref (reply);
  b->sd_bus_message_unref (p.m);
  b->sd_bus_slot_unref (slot);
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
  sd_bus_error e = SD_BUS_ERROR_NULL;
  char *manager = NULL, *joined = NULL;
  int r;

  r = b->sd_bus_get_property_string (b->bus, SD_DEST, SD_PATH, SD_MANAGER, "ControlGroup", &e,
                                     &manager);
  if (r < 0)
    bus_fail (err, r, &e, "read the ControlGroup of", "the user's manager");
  else if (asprintf (&joined, "%s%s", manager, *slice_path) < 0)
    r = berth_err_sys (err, ENOMEM, "out of memory"), joined = NULL;
  b->sd_bus_error_free (&e);
  free (manager);
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
  sd_bus_error e = SD_BUS_ERROR_NULL;
  struct props p = { .b = &b };
  int ret;

  if (unit == NULL)
    return berth_err (err, BERTH_E_STATE, "the container's cgroup is not a systemd unit");
  if (sdbus_open (&b, systemd_cgroup_user (cg), err) < 0)
    return -1;
  b.legacy = cg->mode != BERTH_CGROUP_V2;
  p.r = b.sd_bus_message_new_method_call (b.bus, &p.m, SD_DEST, SD_PATH, SD_MANAGER,
                                          "SetUnitProperties");
  if (p.r >= 0)
    p.r = b.sd_bus_message_append (p.m, "sb", unit, 1);
  if (p.r >= 0)
    p.r = b.sd_bus_message_open_container (p.m, 'a', "(sv)");
  if (p.r >= 0 && sd_append_resources (&p, r, err) < 0)
    ret = -1;
  else if (p.r < 0 || (p.r = b.sd_bus_message_close_container (p.m)) < 0
           || (p.r = b.sd_bus_call (b.bus, p.m, JOB_TIMEOUT_USEC, &e, NULL)) < 0)
    ret = bus_fail (err, p.r, &e, "set properties of", unit);
  else
    ret = 0;
  b.sd_bus_error_free (&e);
  b.sd_bus_message_unref (p.m);
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
