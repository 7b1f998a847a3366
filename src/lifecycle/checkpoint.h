/* berth — checkpoint and restore a container through CRIU (runc's
 * `checkpoint` and `restore`).
 *
 * Contract:
 *  - libcriu is linked into a static berth; a dynamic one loads
 *    libcriu.so.2 with dlopen only when one of these runs (a plain `run`
 *    pays nothing for it).  CRIU's own check runs before
 *    anything is made: on a host where it fails the command says
 *    "criu check failed: ..." and the container keeps running untouched.
 *  - checkpoint: the image directory (made if missing) receives CRIU's
 *    images and descriptors.json (the init's stdio, for restore); a dump
 *    that fails removes what it wrote there.  Unless --leave-running or
 *    --pre-dump, the container is then deleted, as runc does.
 *  - restore: a new container `id` from the bundle's config.json and the
 *    images: the cgroup made by the driver --systemd-cgroup chose (the
 *    same steps as create), CRIU's tree placed below it, the mounts CRIU
 *    saw as external (bind mounts, masked files, devices) given back from
 *    the config, and state.json written as create writes it, so state,
 *    kill, exec and delete work on it.  A failure undoes all of it.
 *  - Built without criu.h both commands say so (criu_none.c) and features
 *    does not announce checkpointing.
 */
#ifndef BERTH_CHECKPOINT_H
#define BERTH_CHECKPOINT_H

#include <stdbool.h>

#include "error.h"
#include "lifecycle/container.h"

/* --manage-cgroups-mode; DEFAULT lets CRIU choose (soft, as runc). */
enum checkpoint_cg_mode { CHECKPOINT_CG_DEFAULT, CHECKPOINT_CG_SOFT, CHECKPOINT_CG_FULL,
                          CHECKPOINT_CG_STRICT };

/* What checkpoint and restore share. */
struct criu_options {
  const char *image_path; /* NULL: ./checkpoint */
  const char *work_path;  /* NULL: the image directory */
  bool tcp_established;
  bool ext_unix_sk;
  bool shell_job;
  bool file_locks;
  bool lazy_pages;
  bool auto_dedup;
  bool empty_ns_net; /* --empty-ns network: accepted; berth, like runc, always
                        restores the network namespace empty (criu_lib.c) */
  enum checkpoint_cg_mode cg_mode;
};

struct checkpoint_options {
  struct criu_options criu;
  const char *parent_path; /* relative to the image directory */
  const char *page_server; /* ADDRESS:PORT */
  bool leave_running;
  bool pre_dump;
  int status_fd; /* -1: none */
};

struct restore_options {
  struct criu_options criu;
  struct create_options create; /* bundle, pid file, console socket, no-pivot */
  const char *lsm_profile;
  const char *lsm_mount_context;
};

/* Whether this build has CRIU support (features' annotation). */
bool checkpoint_built_in (void);

int container_checkpoint (const struct berth_runtime *rt, const char *id,
                          const struct checkpoint_options *o, struct berth_error *err);
/* On success out->pid is the restored init (a child of the caller) and
   out->console its pty master when create.keep_console asked for it. */
int container_restore (const struct berth_runtime *rt, const char *id,
                       const struct restore_options *o, struct created *out,
                       struct berth_error *err);

#endif
