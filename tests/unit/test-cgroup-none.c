/* Unit test of the none cgroup table (src/cgroup/cgroup_none.c) and of
 * when create falls back to it (cgroup_driver_fallback): no cgroupfs is
 * touched. */
#include "cgroup/driver.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* none's apply on `json` (linux.resources): the JSON path it names, "" when
   it accepts. */
static const char *
refused_at (const char *json, char *path, size_t size)
{
  const struct cgroup_driver *none;
  struct berth_cgroup cg = { 0 };
  struct berth_error err = { 0 };
  void *r = NULL;

  none = cgroup_driver_of (&cg);
  if (oci_parse_data (&oci_type_resources, json, strlen (json), "test", &r, &err) < 0)
    return "(parse error)";
  path[0] = '\0';
  if (none->apply (&cg, r, &err) < 0)
    snprintf (path, size, "%s", err.path);
  oci_free (&oci_type_resources, r);
  return path;
}

int
main (void)
{
  const struct cgroup_driver *fs = cgroup_driver_select (false);
  const struct cgroup_driver *none;
  struct berth_cgroup cg = { 0 };
  struct berth_error err = { 0 }, eacces = { .errnum = EACCES }, eexist = { .errnum = EEXIST };
  pid_t *pids = NULL;
  size_t n = 0;
  char path[256];

  none = cgroup_driver_fallback (fs, NULL, &eacces);
  tap_ok (none && strcmp (none->name, "none") == 0, "EACCES, no cgroupsPath: the none table");
  tap_ok (cgroup_driver_fallback (fs, "", &(struct berth_error){ .errnum = EROFS }) == none,
          "EROFS too");
  tap_ok (cgroup_driver_fallback (fs, NULL, &eexist) == NULL, "EEXIST: no fallback");
  tap_ok (cgroup_driver_fallback (fs, "/mine", &eacces) == NULL,
          "a cgroupsPath the config names: no fallback (runc)");
  tap_ok (cgroup_driver_fallback (cgroup_driver_select (true), NULL, &eacces) == NULL,
          "systemd: no fallback");
  if (none == NULL)
    return tap_done ();
  tap_ok (cgroup_driver_of (&cg) == none, "a recorded cgroup with no directory is none's");

  tap_ok (strcmp (refused_at ("{}", path, sizeof path), "") == 0, "no resources: accepted");
  tap_ok (strcmp (refused_at ("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}", path,
                              sizeof path), "") == 0, "device rules alone: accepted");
  tap_ok (strcmp (refused_at ("{\"memory\":{}}", path, sizeof path), "") == 0,
          "an empty section: accepted");
  tap_ok (strcmp (refused_at ("{\"devices\":[{\"allow\":false}],\"memory\":{\"limit\":1}}", path,
                              sizeof path), ".linux.resources.memory.limit") == 0,
          "memory.limit named: %s", path);
  tap_ok (strcmp (refused_at ("{\"pids\":{\"limit\":5},\"cpu\":{\"shares\":2}}", path,
                              sizeof path), ".linux.resources.cpu.shares") == 0,
          "the first in the spec's order: %s", path);
  tap_ok (strcmp (refused_at ("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":1}]}", path,
                              sizeof path), ".linux.resources.hugepageLimits[0]") == 0,
          "an array: %s", path);
  tap_ok (strcmp (refused_at ("{\"unified\":{\"memory.max\":\"1\"}}", path, sizeof path),
                  ".linux.resources.unified[\"memory.max\"]") == 0, "a map: %s", path);

  tap_ok (none->freeze (&cg, true, &err) < 0 && strstr (err.msg, "cannot pause it")
              && strstr (err.msg, "no cgroup"), "freeze: %s", err.msg);
  tap_ok (none->pids (&cg, &pids, &n, &err) < 0 && n == 0 && pids == NULL, "pids: %s", err.msg);
  tap_ok (none->update (&cg, NULL, &err) < 0, "update: %s", err.msg);
  tap_ok (none->present (&cg, "x", &err) < 0 && fs->present (&cg, "x", &err) == 0,
          "present: only the cgroupfs tables");
  tap_ok (none->enter (&cg, 1, &err) == 0 && none->kill_all (&cg, 0, &err) == 0
              && none->destroy (&cg, false, &err) == 0 && !none->is_frozen (&cg),
          "enter, kill_all, destroy: nothing to do");
  return tap_done ();
}
