/* berth — the container lifecycle as seen from the runtime: create, start,
 * kill, delete, state, list, and the foreground wait of `run`.
 *
 * Contract: each operation takes the state lock of the container (see
 * state.h) for its whole run, reports failures as values, and leaves nothing
 * behind when it fails: a failed create removes its state directory, the
 * cgroup directories it made and the processes it started.  Status names
 * and error phrases are runc's, because engines match them ("container does
 * not exist", "container not running", ...).
 *
 * Files: container_create.c (create), container.c (open, start, kill,
 * delete), container_state.c (state, list), container_wait.c (run's wait),
 * container_records.c (what delete --force finds without state.json).
 */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "cgroup/cgroup.h"
#include "cgroup/driver.h"
#include "model.h"
#include "spec.h"
#include "lifecycle/state.h"

struct berth_runtime {
  const char *root;
  bool systemd_cgroup;
  bool rootless; /* a cgroup the host refuses this user is no error, when
                    no resource needs it (cgroup_driver_fallback) */
  char *const *argv; /* berth's command line, to re-execute it (sealed_exe.h) */
  const char *criu;  /* --criu: the criu binary checkpoint/restore run (NULL: criu in PATH) */
};

struct create_options {
  const char *bundle;
  const char *pid_file;
  const char *console_socket;
  const char *pidfd_socket; /* receives a pidfd of the init */
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  bool keep_console; /* foreground run: keep the pty master to relay it */
  bool hand_over;    /* run: keep the state for container_start_created */
};

struct created {
  pid_t pid;
  int console; /* pty master when keep_console, else -1 */
  /* With hand_over: create's state directory, still locked, and what start
     needs of the state it saved (id, pid, its start time, the config, the
     notify socket), so that run's start reads nothing back and no other
     command comes between the two.  created_release frees them. */
  struct state_handle state;
  struct oci_berth_state *saved;
  /* The exec fifo, when create opened it for start already (-1: start
     opens it). */
  int start_fifo;
};

int container_create (const struct berth_runtime *rt, const char *id,
                      const struct create_options *o, struct created *out,
                      struct berth_error *err);
int container_start (const struct berth_runtime *rt, const char *id, struct berth_error *err);
/* Start what container_create made with hand_over; the state is released
   either way. */
int container_start_created (struct created *c, struct berth_error *err);
void created_release (struct created *c);
int container_kill (const struct berth_runtime *rt, const char *id, int sig, bool all,
                    struct berth_error *err);
int container_delete (const struct berth_runtime *rt, const char *id, bool force,
                      struct berth_error *err);

/* runc's `state` document: ociVersion, id, pid, status, bundle, rootfs,
   created, annotations, owner. */
#define OCI_FIELDS_runc_state(F)                                               \
  F (runc_state, oci_version, "ociVersion", STR, _, REQ)                       \
  F (runc_state, id, "id", STR, _, REQ)                                        \
  F (runc_state, pid, "pid", I32, _, REQ)                                      \
  F (runc_state, status, "status", STR, _, REQ)                                \
  F (runc_state, bundle, "bundle", STR, _, REQ)                                \
  F (runc_state, rootfs, "rootfs", STR, _, REQ)                                \
  F (runc_state, created, "created", STR, _, REQ)                              \
  F (runc_state, annotations, "annotations", STRMAP, _, OPT)                   \
  F (runc_state, owner, "owner", STR, _, REQ)

OCI_DECLARE_STRUCT (runc_state)
OCI_DECLARE_TYPE (runc_state)

int container_state (const struct berth_runtime *rt, const char *id, struct oci_runc_state **out,
                     struct berth_error *err);
/* Every container under the root, sorted by id; unfinished creates are
   skipped.  Never blocks on a container's lock. */
int container_list (const struct berth_runtime *rt, struct oci_runc_state ***out, size_t *n,
                    struct berth_error *err);
void container_state_free (struct oci_runc_state *s);

/* For commands that act on an existing container (exec, pause, update, ps,
   events): lock it, load its state, compute its status and load its cgroup.
   Release with container_close(). */
struct container {
  struct state_handle state;
  struct oci_berth_state *saved;
  struct berth_cgroup cgroup;
  const struct cgroup_driver *cgroup_driver; /* the one that made it (cgroup/driver.h) */
  const char *status; /* "created", "running", "paused", "stopped" */
};

int container_open (const struct berth_runtime *rt, const char *id, struct container *c,
                    struct berth_error *err);
void container_close (struct container *c);
/* The container's config as it was at create time (kept in the state). */
int container_config (const struct container *c, struct oci_config **out, struct berth_error *err);

/* Foreground `run`: wait for the init (forwarding signals, relaying the pty
   when console >= 0) and return its exit status, 128+N for a signal. */
int container_wait (pid_t pid, int console, struct berth_error *err);

#endif
