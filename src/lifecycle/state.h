/* berth — persistent container state under --root.
 *
 * Contract:
 *  - Layout: ROOT (0700) / ID (0711) / state.json (0600, written atomically
 *    by temp file + rename) and exec.fifo while the container is "created".
 *  - Container ids: runc's rule, [A-Za-z0-9_+.-]{1,255} except "." and "..".
 *  - Every command that changes a container holds an exclusive flock on its
 *    directory for its whole run (state_open), so commands on one container
 *    are serialised; `create` makes the directory with mkdir, so of two
 *    concurrent creates of one id exactly one wins.
 *  - ROOT is --root, else /run/berth, or $XDG_RUNTIME_DIR/berth for a
 *    rootless user (main.c); a user other than root makes it, and so owns
 *    it and everything below.
 *  - "noCgroup": the container got no cgroup (rootless, the host refused
 *    one: cgroup/driver.h's none table, which "cgroups" then selects).
 *  - The init's pid is stored with its start time, so a recycled pid is
 *    never taken for the container (status "stopped").
 */
#ifndef BERTH_STATE_H
#define BERTH_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "model.h"

#define OCI_FIELDS_berth_state(F)                                              \
  F (berth_state, id, "id", STR, _, REQ)                                       \
  F (berth_state, pid, "pid", I32, _, OPT)                                     \
  F (berth_state, pid_start, "pidStartTime", U64, _, OPT)                      \
  F (berth_state, bundle, "bundle", STR, _, REQ)                               \
  F (berth_state, rootfs, "rootfs", STR, _, OPT)                               \
  F (berth_state, created, "created", STR, _, OPT)                             \
  F (berth_state, annotations, "annotations", STRMAP, _, OPT)                  \
  F (berth_state, cgroups, "cgroups", STRVEC, _, OPT)                          \
  F (berth_state, host_pid_ns, "hostPidNamespace", BOOL, _, OPT)               \
  F (berth_state, joined_pid_ns, "joinedPidNamespace", BOOL, _, OPT)           \
  F (berth_state, no_process, "noProcess", BOOL, _, OPT)                       \
  F (berth_state, no_cgroup, "noCgroup", BOOL, _, OPT)                         \
  F (berth_state, host_mounts, "hostMounts", STRVEC, _, OPT)                   \
  F (berth_state, config, "config", STR, _, OPT)                               \
  F (berth_state, notify_socket, "notifySocket", STR, _, OPT)

OCI_DECLARE_STRUCT (berth_state)
OCI_DECLARE_TYPE (berth_state)

struct state_handle {
  int root_fd;
  int dir_fd; /* locked */
  char *id;
};

int state_validate_id (const char *id, struct berth_error *err);

/* Open (creating with mode 0700 if `create_root`) the root directory. */
int state_root_open (const char *root, bool create_root, int *root_fd, struct berth_error *err);

/* Lock the container's directory; with `create`, make it first (EEXIST is
   BERTH_E_EXISTS "container with given ID already exists"); without, a
   missing one is BERTH_E_NOT_FOUND "container does not exist". */
int state_open (const char *root, const char *id, bool create, struct state_handle *h,
                struct berth_error *err);
void state_close (struct state_handle *h);

/* state.json holds the state; the config the container was made from (its
   `config` member) is config.json beside it, so that the commands engines
   call most (state, kill, list) parse a few hundred bytes, not the config.
   state_save writes state.json (and config.json only for a state an
   earlier berth wrote with the config inside); state_save_config writes
   config.json, which must exist before state.json does.  state_load reads
   both back; state_load_summary leaves `config` NULL. */
int state_save_config (const struct state_handle *h, const char *config_json,
                       struct berth_error *err);
int state_save (const struct state_handle *h, const struct oci_berth_state *s,
                struct berth_error *err);
int state_load (const struct state_handle *h, struct oci_berth_state **s, struct berth_error *err);
int state_load_summary (const struct state_handle *h, struct oci_berth_state **s,
                        struct berth_error *err);
void state_free (struct oci_berth_state *s);
/* Remove the container's directory and everything in it. */
int state_remove (struct state_handle *h, struct berth_error *err);

/* "created", "running" or "stopped", from the live process and the presence
   of exec.fifo.  A running one is "paused" when its cgroup is frozen: the
   caller, which has the cgroup, asks that only of a running one. */
const char *state_status (const struct state_handle *h, const struct oci_berth_state *s);
/* What list needs of one container, from the root's fd without opening or
   locking its directory: state.json (read once, without config.json), its
   status as state_status says, and the owner of its directory ((uid_t) -1
   when that cannot be read). */
int state_peek (int root_fd, const char *id, struct oci_berth_state **s, const char **status,
                uid_t *owner, struct berth_error *err);

static inline void
state_freep (struct oci_berth_state **s)
{
  if (*s)
    state_free (*s);
}
#define cleanup_state __attribute__ ((cleanup (state_freep)))
#define cleanup_state_handle __attribute__ ((cleanup (state_close)))

#endif
