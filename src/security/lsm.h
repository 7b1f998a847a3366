/* berth — AppArmor profiles and SELinux labels: process.apparmorProfile,
 * process.selinuxLabel and linux.mountLabel.
 *
 * Contract:
 *  - lsm_check_host() refuses a label the host cannot honour, one error at
 *    the property's JSON path ("AppArmor is not enabled on this host"); an
 *    empty string asks for nothing.  AppArmor is enabled when
 *    /sys/module/apparmor/parameters/enabled says "Y", SELinux when
 *    selinuxfs is mounted (/sys/fs/selinux/enforce exists).
 *  - lsm_apply_exec_labels() sets what the next execve of the calling
 *    thread runs under: "exec <profile>" in attr/apparmor/exec (attr/exec
 *    on kernels without per-LSM directories), the SELinux label in
 *    attr/exec.  It writes through the /proc visible to
 *    the caller (the container's), and only when that is the root of a
 *    procfs and the file is reached without crossing a mount or following a
 *    link: a container that mounted something over /proc/<pid>/attr cannot
 *    redirect the write (runc CVE-2025-52881).
 *  - lsm_attr_write_at() is that write, on a given /proc directory fd;
 *    exposed for the unit tests.
 *  - lsm_mount_data() appends context="<label>" to a mount's data string,
 *    as runc's label.FormatMountLabel does.
 */
#ifndef BERTH_LSM_H
#define BERTH_LSM_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

bool lsm_apparmor_enabled (void);
bool lsm_selinux_enabled (void);

/* base: ".process" (config.json) or "" (process.json); linux may be NULL. */
int lsm_check_host (const struct oci_process *p, const char *base, const struct oci_linux *lx,
                    struct berth_error *err);
int lsm_apply_exec_labels (const struct oci_process *p, const char *base,
                           struct berth_error *err);
int lsm_attr_write_at (int proc_fd, const char *rel, const char *value, struct berth_error *err);
int lsm_mount_data (const char *data, const char *label, char **out, struct berth_error *err);

#endif
