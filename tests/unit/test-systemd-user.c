/* Unit test of the systemd driver's rootless variant (the user's own
 * manager) where it needs no bus: the table create picks, the default
 * slice, which recorded units are a user manager's, and that a v1 host and
 * the none fallback are refused.  The bus itself is the VM tier's
 * (tests/vm/test_rootless_systemd.py).
 */
#include "cgroup/cgroup.h"
#include "cgroup/driver.h"
#include "cgroup/systemd_cgroup.h"
#include "cleanup.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
check_record (const char *dir, bool user, const char *table)
{
  char entry[512];
  char *rec[] = { "mode=v2", "driver=systemd", entry };
  struct berth_cgroup cg = { 0 };
  struct berth_error err = { 0 };

  snprintf (entry, sizeof entry, "=%s", dir);
  tap_ok (cgroup_from_strv (rec, 3, &cg, &err) == 0 && systemd_cgroup_user (&cg) == user
              && strcmp (cgroup_driver_of (&cg)->name, table) == 0,
          "%s: a user manager's unit: %s, table %s %s", dir, user ? "yes" : "no", table,
          err.msg);
  cgroup_free (&cg);
}

int
main (void)
{
  const struct cgroup_driver *sys = cgroup_driver_select_as (true, false);
  const struct cgroup_driver *usr = cgroup_driver_select_as (true, true);
  struct berth_error err = { 0 }, denied = { .errnum = EACCES };
  cleanup_free char *unit = NULL, *slice = NULL;
  const char *path = "unset";

  tap_ok (strcmp (sys->name, "systemd") == 0 && strcmp (usr->name, "systemd-user") == 0,
          "--systemd-cgroup: the system manager's table, rootless the user's: %s, %s",
          sys->name, usr->name);
  tap_ok (cgroup_driver_select_as (false, true) == cgroup_driver_select (false),
          "rootless without --systemd-cgroup: cgroupfs as before");
  tap_ok (systemd_cgroup_names (NULL, "x", true, &unit, &slice, &err) == 0
              && strcmp (unit, "berth-x.scope") == 0 && strcmp (slice, "user.slice") == 0,
          "rootless: the default slice is the user manager's user.slice (runc's)");
  free (unit), free (slice);
  unit = slice = NULL;
  tap_ok (systemd_cgroup_names (":p:n", "x", true, &unit, &slice, &err) == 0
              && strcmp (slice, "user.slice") == 0 && strcmp (unit, "p-n.scope") == 0,
          "rootless: an empty slice of slice:prefix:name is user.slice too");
  free (unit), free (slice);
  unit = slice = NULL;
  tap_ok (systemd_cgroup_names (NULL, "x", false, &unit, &slice, &err) == 0
              && strcmp (slice, "system.slice") == 0,
          "not rootless: system.slice as before");
  tap_ok (usr->check_path ("/a/b", "id", &path, &err) < 0 && err.kind == BERTH_E_VALUE,
          "rootless: check refuses a cgroupfs path: %s", err.msg);
  err = (struct berth_error){ 0 };
  tap_ok (systemd_cgroup_user_check (BERTH_CGROUP_HYBRID, &err) < 0
              && err.kind == BERTH_E_UNSUPPORTED && strstr (err.msg, "cgroup v2"),
          "rootless on v1 or hybrid is refused, as runc: %s", err.msg);
  err = (struct berth_error){ 0 };
  tap_ok (systemd_cgroup_user_check (BERTH_CGROUP_V2, &err) == 0, "rootless on v2 is fine");
  tap_ok (cgroup_driver_fallback (usr, NULL, &denied) == NULL,
          "the user manager's table has no none fallback: systemd either made the unit or "
          "said why");
  check_record ("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/user.slice/"
                "berth-x.scope",
                true, "systemd-user");
  check_record ("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/"
                "a-b.slice",
                true, "systemd-user");
  check_record ("/sys/fs/cgroup/system.slice/berth-x.scope", false, "systemd");
  check_record ("/sys/fs/cgroup/user.slice/user@.service/berth-x.scope", false, "systemd");
  check_record ("/sys/fs/cgroup/user.slice/user@1000.services/berth-x.scope", false,
                "systemd");
  return tap_done ();
}
