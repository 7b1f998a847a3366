/* berth — the state of one create, shared by create (container_create.c)
 * and restore (restore.c), which makes a container from a checkpoint
 * through the same steps: the config loaded and checked, the cgroup made
 * by the chosen driver, state.json written, everything undone on failure.
 * Not for other modules.
 */
#ifndef BERTH_CREATE_JOB_H
#define BERTH_CREATE_JOB_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "cgroup/driver.h"
#include "error.h"
#include "fs/hostmounts.h"
#include "init/mempolicy.h"
#include "init/namespaces.h"
#include "lifecycle/container.h"
#include "lifecycle/state.h"
#include "security/seccomp.h"
#include "spec.h"

struct create_job {
  const char *notify_socket; /* the caller's NOTIFY_SOCKET, relayed at start */
  const struct berth_runtime *rt;
  const char *id;
  const struct create_options *o;
  struct oci_config *config;
  char bundle[PATH_MAX];
  char rootfs[PATH_MAX];
  struct state_handle state;
  const struct cgroup_driver *cgd; /* from --systemd-cgroup, once */
  struct berth_cgroup cg;
  bool cg_made;  /* create_make_cgroup has run the driver's make */
  bool cg_ready; /* create_cgroup_ready has run */
  struct ns_plan ns;
  pid_t first_child;
  int child_pidfd;
  pid_t init_pid;
  int console;
  const struct berth_seccomp *seccomp;
  struct mempolicy_plan mempolicy;
  int *bind_sources; /* rootfs_open_bind_sources, until the init is cloned */
  /* Without a mount namespace: the host's mounts before the init, and the
     ones it made (hostmounts.h). */
  struct hostmounts_snapshot mounts_before;
  char **host_mounts;
  size_t host_mounts_len;
  char *config_json; /* for state.json; emitted before the init is cloned */
  struct oci_berth_state *saved; /* hand_over: what start needs of it */
  bool state_saved;              /* create_save_state has written state.json */
  int start_fifo;                /* run: the exec fifo, opened early (start_early) */
};

/* Parse config.json of `bundle` and run config_rules() on it; bundle_abs
   gets the bundle's real path (PATH_MAX). */
int create_load_config (const char *bundle, char *bundle_abs, struct oci_config **out,
                        struct berth_error *err);
/* The driver's prepare: the cgroup placed, nothing made yet (given up for
   none, rootless, when the host refuses). */
int create_prepare_cgroup (struct create_job *j, struct berth_error *err);
/* The driver's make (the directories), then create_cgroup_ready once the
   cgroup is filled; create runs it after the clone, while the init makes
   its namespaces. */
int create_make_cgroup (struct create_job *j, struct berth_error *err);
/* Once the driver has made the cgroup: recorded, checked unused, resources. */
int create_cgroup_ready (struct create_job *j, struct berth_error *err);
/* Before the clone: where the driver has a v2 directory to clone the
   child into, the cgroup made and *fd opened on that directory; else (or
   with `not_now`) *fd is -1 and the cgroup is made after the clone. */
int create_cgroup_for_clone (struct create_job *j, bool not_now, int *fd, struct berth_error *err);
/* Put `child` in the container's cgroup (systemd makes its unit now). */
int create_enter_cgroup (struct create_job *j, pid_t child, struct berth_error *err);
/* state.json for j->init_pid, which must be alive. */
int create_save_state (struct create_job *j, struct berth_error *err);
/* Undo what the job did: processes, cgroup, host mounts, state directory. */
void create_rollback (struct create_job *j);

#endif
