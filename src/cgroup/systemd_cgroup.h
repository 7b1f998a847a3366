/* berth — the systemd cgroup driver (global flag --systemd-cgroup).
 *
 * With it, a container's cgroup is a transient systemd unit that berth asks
 * systemd for over D-Bus, as runc's systemd driver does, so that systemd
 * (and `systemctl`) know about it and never fight over it.
 *
 * Contract:
 *  - linux.cgroupsPath is "slice:prefix:name" (runc's form).  An empty path
 *    means ":berth:<id>"; an empty slice means "system.slice" ("user.slice"
 *    rootless).  The unit is
 *    "<prefix>-<name>.scope" ("<name>.scope" without a prefix), with
 *    Slice=<slice>; a name ending in ".slice" asks for that slice unit
 *    itself (Wants=<slice>), and the process is then put in the slice's
 *    cgroup directly.  Anything else is BERTH_E_VALUE at .linux.cgroupsPath.
 *  - berth speaks D-Bus itself (base/dbus.h), to systemd's private socket
 *    as root, else to the system bus or, rootless, the user's bus; no
 *    D-Bus library is linked or loaded.
 *    On a v2 host the unit's directory is systemd's; on a v1 or hybrid host
 *    systemd places the pid in the hierarchies it manages and berth makes
 *    and joins the same path in the others (runc's v1 driver does the same).
 *  - systemd_cgroup_create() starts the unit with `pid` in it (the init,
 *    still waiting for its go-ahead), Delegate=yes, DefaultDependencies=no,
 *    accounting on, and the resource properties systemd has an equivalent
 *    for (MemoryMax, MemoryLow, MemorySwapMax, CPUWeight, CPUQuota*,
 *    TasksMax, AllowedCPUs, AllowedMemoryNodes, IOWeight, and the same from
 *    linux.resources.unified), waits for the job to finish (JobRemoved),
 *    and fills `cg` with the unit's cgroup directories: everything else in
 *    berth (pids, freeze, kill --all, destroy, stats) works on it as on a
 *    cgroupfs one.  The caller then writes all of linux.resources with
 *    cgroup_apply_resources(), so the kernel holds exactly the values the
 *    cgroupfs driver would, and systemd's properties agree with them (one
 *    exception, as runc: CPUQuotaPerSecUSec is rounded up to whole percent).
 *    A unit of that name left over from a failed container is reset and the
 *    start retried once.  On failure nothing is left behind.
 *  - Rootless (`user`, runc's rootless systemd driver): the unit is the
 *    user's own manager's (user@UID.service), reached over the user's bus
 *    ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus, as runc), and
 *    its slice is below that manager's cgroup.  cgroup v2 only
 *    (systemd_cgroup_user_check), as runc.  Root in a user namespace is
 *    the user's only when the user bus's owner is not root (runc's auto
 *    rule: rootless Podman's is, a system container's own systemd is
 *    not); else the system manager, as before.  Later commands know such a
 *    unit by its directory (systemd_cgroup_user), so the state needs no
 *    more than for a system unit.
 *  - systemd_cgroup_update() sets the same properties on the running unit
 *    (SetUnitProperties, runtime).  The caller applies the files first, as
 *    they refuse what cannot be applied (checkBeforeUpdate) before systemd
 *    has changed anything.
 *  - systemd_cgroup_destroy() stops the unit (StopUnit, waiting for the
 *    job; a unit already gone is fine), resets it if it failed
 *    (ResetFailedUnit) so the same id can be created again, and removes
 *    whatever directories remain (cgroup_destroy).  A cgroup that is not a
 *    unit of this driver (cg->systemd_unit unset: a create that failed
 *    before the unit existed) just gets cgroup_destroy.
 *  - Callers reach these through the driver table (cgroup/driver.h), never
 *    directly.
 *  - Errors name the unit and carry systemd's own message.
 */
#ifndef BERTH_SYSTEMD_CGROUP_H
#define BERTH_SYSTEMD_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "error.h"
#include "spec.h"

/* The unit and slice for a cgroupsPath (malloc'd), without any bus traffic:
   lets `create` refuse a bad path before it starts anything. */
int systemd_cgroup_names (const char *cgroups_path, const char *id, bool user, char **unit,
                          char **slice, struct berth_error *err);
/* Rootless: refuse a host layout the user's manager cannot delegate. */
int systemd_cgroup_user_check (enum berth_cgroup_mode mode, struct berth_error *err);

/* Whether systemd is the host's init (sd_booted's test). */
int systemd_cgroup_available (struct berth_error *err);

int systemd_cgroup_create (const char *cgroups_path, const char *id, bool user, pid_t pid,
                           const struct oci_resources *r, struct berth_cgroup *cg,
                           struct berth_error *err);
int systemd_cgroup_update (const struct berth_cgroup *cg, const struct oci_resources *r,
                           struct berth_error *err);
int systemd_cgroup_destroy (struct berth_cgroup *cg, struct berth_error *err);

/* The unit that holds `cg` when this driver made it (the last component of
   its v2 directory, a ".scope" or ".slice"), pointing into `cg`; NULL when
   none. */
const char *systemd_cgroup_unit (const struct berth_cgroup *cg);
/* Whether that unit is a user manager's (rootless): its directory is below
   a "user@UID.service". */
bool systemd_cgroup_user (const struct berth_cgroup *cg);

#endif
