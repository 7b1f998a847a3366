/* berth — Linux namespaces: which to create, which to join, ID maps.
 *
 * Contract:
 *  - ns_plan() reads linux.namespaces into clone flags for the new ones and
 *    opened, type-checked fds for the ones joined by path (a path that is not
 *    a namespace of the named type is BERTH_E_VALUE at
 *    .linux.namespaces[i].path).  Fds are O_CLOEXEC.
 *  - ns_join() setns()es the joined ones in a safe order (user first, then
 *    the rest; mount last), skipping pid and time, which apply to children
 *    and are joined by whoever forks the init.
 *  - ns_write_id_maps() writes uid_map/gid_map of a child (parent side):
 *    directly when the kernel allows it (root; a user's own uid/gid alone,
 *    with setgroups "deny" first when it lacks CAP_SETGID), else, for a
 *    user other than root, with newuidmap/newgidmap (/etc/subuid,
 *    /etc/subgid); their refusal, or their absence, is one error.  The
 *    child must be dumpable meanwhile (init.c), or neither can open its
 *    /proc files.
 *  - ns_write_time_offsets() writes /proc/self/timens_offsets of a process
 *    that has unshared CLONE_NEWTIME but has no children in it yet.
 */
#ifndef BERTH_NAMESPACES_H
#define BERTH_NAMESPACES_H

#include <sched.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

enum berth_ns { NS_USER, NS_PID, NS_NET, NS_IPC, NS_UTS, NS_MNT, NS_CGROUP, NS_TIME, NS_COUNT };

struct ns_plan {
  int new_flags;        /* CLONE_NEW* to create */
  int join_fd[NS_COUNT]; /* -1, or an fd to setns() into */
  bool in_user_ns;      /* new or joined user namespace */
};

int ns_plan (const struct oci_config *c, struct ns_plan *p, struct berth_error *err);
/* linux.namespaces[i], which has a path: that file opened (O_CLOEXEC) once
   it is known to be a namespace of the type named, or -1 and the error at
   .linux.namespaces[i].path.  ns_plan's rule, also `berth check`'s. */
int ns_open_path (const struct oci_namespace *n, size_t i, struct berth_error *err);
/* A config without a mount namespace inherits the runtime's (the mounts
   go there); refused, naming .linux.namespaces, when it asks for a new user
   namespace, which could not mount there.  *inherits says whether it does. */
int ns_check_mount_inherited (const struct oci_config *c, bool *inherits,
                              struct berth_error *err);
/* No mount namespace of its own, new or joined: the runtime's is used. */
static inline bool
ns_host_mount (const struct ns_plan *p)
{
  return !(p->new_flags & CLONE_NEWNS) && p->join_fd[NS_MNT] < 0;
}
void ns_plan_close (struct ns_plan *p);
int ns_join (struct ns_plan *p, bool skip_user, struct berth_error *err);
int ns_write_id_maps (pid_t pid, const struct oci_linux *l, struct berth_error *err);
/* This process's user namespace forbids setgroups() ("deny" in
   /proc/self/setgroups: its gid map was written without CAP_SETGID). */
bool ns_setgroups_denied (void);
int ns_write_time_offsets (const struct oci_linux *l, struct berth_error *err);
int ns_clone_flag (enum berth_ns ns);
const char *ns_proc_name (enum berth_ns ns); /* "user", "pid", "net", ... as in /proc/PID/ns */
const char *ns_type_name (enum berth_ns ns); /* "user", "pid", "network", ... as in config.json */
int ns_from_type (const char *type);         /* the enum berth_ns of a spec type, -1 if none */

#endif
