/* berth — libcriu, linked in or loaded with dlopen on use (checkpoint.h), and what
 * checkpoint and restore both tell CRIU about a container.
 *
 * Contract:
 *  - criu_lib_open loads libcriu.so.2 (a dynamic berth), makes its options (with --criu's
 *    binary) and runs CRIU's own check: a host where CRIU cannot work is
 *    refused here, before the caller has made or touched anything.
 *  - The external mounts: a mount CRIU cannot dump from inside the
 *    container (a bind mount of a host path, a masked file, a device node
 *    bound from the host) is named by its destination at dump and bound
 *    again from the config's source at restore (runc's keys, so images
 *    move between the two runtimes).
 *  - A failed CRIU call is reported with the first error line of its log.
 */
#ifndef BERTH_CRIU_LIB_H
#define BERTH_CRIU_LIB_H

#include <criu.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

#define CRIU_SYMBOLS(X)                                                                    \
  X (criu_local_init_opts)                                                                 \
  X (criu_local_free_opts)                                                                 \
  X (criu_local_set_service_binary)                                                        \
  X (criu_local_feature_check)                                                             \
  X (criu_local_get_version)                                                               \
  X (criu_local_set_pid)                                                                   \
  X (criu_local_set_images_dir_fd)                                                         \
  X (criu_local_set_parent_images)                                                         \
  X (criu_local_set_work_dir_fd)                                                           \
  X (criu_local_set_leave_running)                                                         \
  X (criu_local_set_ext_unix_sk)                                                           \
  X (criu_local_set_tcp_established)                                                       \
  X (criu_local_set_shell_job)                                                             \
  X (criu_local_set_orphan_pts_master)                                                     \
  X (criu_local_set_file_locks)                                                            \
  X (criu_local_set_track_mem)                                                             \
  X (criu_local_set_auto_dedup)                                                            \
  X (criu_local_set_log_level)                                                             \
  X (criu_local_set_log_file)                                                              \
  X (criu_local_set_root)                                                                  \
  X (criu_local_set_manage_cgroups)                                                        \
  X (criu_local_set_manage_cgroups_mode)                                                   \
  X (criu_local_set_freeze_cgroup)                                                         \
  X (criu_local_set_lsm_profile)                                                           \
  X (criu_local_set_lsm_mount_context)                                                     \
  X (criu_local_set_evasive_devices)                                                       \
  X (criu_local_add_ext_mount)                                                             \
  X (criu_local_add_cg_root)                                                               \
  X (criu_local_add_inherit_fd)                                                            \
  X (criu_local_add_external)                                                              \
  X (criu_local_set_page_server_address_port)                                              \
  X (criu_local_join_ns_add)                                                               \
  X (criu_local_set_notify_cb)                                                             \
  X (criu_get_orphan_pts_master_fd)                                                        \
  X (criu_local_dump)                                                                      \
  X (criu_local_pre_dump)                                                                  \
  X (criu_local_restore_child)

struct criu_lib {
  void *dl;
  criu_opts *opts;
  int version;   /* 31701 for 3.17.1 */
  int config_fd; /* CRIU's config file (criu_lib_common), 0 when none */
#define CRIU_MEMBER(f) __typeof__ (f) *f;
  CRIU_SYMBOLS (CRIU_MEMBER)
#undef CRIU_MEMBER
};

/* The image and work files' names (runc's). */
#define CRIU_DESCRIPTORS "descriptors.json"
#define CRIU_DUMP_LOG "dump.log"
#define CRIU_RESTORE_LOG "restore.log"

int criu_lib_open (const char *criu_path, struct criu_lib *lib, struct berth_error *err);
void criu_lib_close (struct criu_lib *lib);

/* The options every dump and restore sets: images, work directory and log,
   the root, cgroups (`cg_mode`: enum checkpoint_cg_mode) and the flags of
   struct criu_options. */
struct criu_options;
int criu_lib_common (struct criu_lib *lib, const struct criu_options *o, int image_fd,
                     int work_fd, const char *log, const char *root, struct berth_error *err);

/* The external mounts of `c` (see above): at dump of the init `dumped`,
   or at restore when `dumped` is 0. */
int criu_lib_ext_mounts (struct criu_lib *lib, const struct oci_config *c, pid_t dumped,
                         struct berth_error *err);

/* CRIU's call `what` returned r < 0: fill err with the first error line of
   `log` in `work_fd` (or libcriu's errno when there is none), naming the
   log's place when work_path is not NULL (the log is kept). */
int criu_lib_failed (int r, const char *what, int work_fd, const char *log,
                     const char *work_path, struct berth_error *err);

/* --image-path, or ./checkpoint as runc has it. */
int criu_lib_image_path (const char *opt, char path[PATH_MAX], struct berth_error *err);
/* --work-path made (0700) when missing and opened into *fd and *path;
   nothing when not given (the caller's defaults, the image directory,
   stay). */
int criu_lib_work_dir (const char *opt, int *fd, const char **path, struct berth_error *err);

/* The namespace key runc and crun give CRIU for a joined net or pid
   namespace: "extRootNetNS", "extRootPidNS"; NULL for the others. */
const char *criu_lib_ext_ns_key (const char *type);

#endif
