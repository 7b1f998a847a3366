/* libocispec — the OCI runtime-spec v1.3.0 documents as C structs.
 *
 * Contract: one line per spec property, in the spec's own names; config.md,
 * config-linux.md, runtime.md ("State") and features.md (Linux fields; other
 * platforms' sections are ignored like any unknown property).  Adding a field
 * is adding one line here.  Semantic checks live in validate.c.
 */
#ifndef OCI_SPEC_H
#define OCI_SPEC_H

#include "model.h"

#define OCI_SPEC_VERSION "1.3.0"

/* --- config.json ---------------------------------------------------------- */
#define OCI_FIELDS_config(F)                                                   \
  F (config, oci_version, "ociVersion", STR, _, REQ)                           \
  F (config, process, "process", OBJ, process, OPT)                            \
  F (config, root, "root", OBJ, root, OPT)                                     \
  F (config, hostname, "hostname", STR, _, OPT)                                \
  F (config, domainname, "domainname", STR, _, OPT)                            \
  F (config, mounts, "mounts", OBJVEC, mount, OPT)                             \
  F (config, hooks, "hooks", OBJ, hooks, OPT)                                  \
  F (config, annotations, "annotations", STRMAP, _, OPT)                       \
  F (config, linux, "linux", OBJ, linux, OPT)

#define OCI_FIELDS_process(F)                                                  \
  F (process, terminal, "terminal", BOOL, _, OPT)                              \
  F (process, console_size, "consoleSize", OBJ, box, OPT)                      \
  F (process, user, "user", OBJ, user, REQ)                                    \
  F (process, args, "args", STRVEC, _, OPT)                                    \
  F (process, command_line, "commandLine", STR, _, OPT)                        \
  F (process, env, "env", STRVEC, _, OPT)                                      \
  F (process, cwd, "cwd", STR, _, REQ)                                         \
  F (process, capabilities, "capabilities", OBJ, capabilities, OPT)            \
  F (process, rlimits, "rlimits", OBJVEC, rlimit, OPT)                         \
  F (process, no_new_privileges, "noNewPrivileges", BOOL, _, OPT)              \
  F (process, apparmor_profile, "apparmorProfile", STR, _, OPT)                \
  F (process, oom_score_adj, "oomScoreAdj", I32, _, OPT)                       \
  F (process, scheduler, "scheduler", OBJ, scheduler, OPT)                     \
  F (process, selinux_label, "selinuxLabel", STR, _, OPT)                      \
  F (process, io_priority, "ioPriority", OBJ, io_priority, OPT)                \
  F (process, exec_cpu_affinity, "execCPUAffinity", OBJ, cpu_affinity, OPT)

#define OCI_FIELDS_box(F)                                                      \
  F (box, height, "height", U32, _, REQ)                                       \
  F (box, width, "width", U32, _, REQ)

#define OCI_FIELDS_user(F)                                                     \
  F (user, uid, "uid", U32, _, REQ)                                            \
  F (user, gid, "gid", U32, _, REQ)                                            \
  F (user, umask, "umask", U32, _, OPT)                                        \
  F (user, additional_gids, "additionalGids", U32VEC, _, OPT)                  \
  F (user, username, "username", STR, _, OPT)

#define OCI_FIELDS_capabilities(F)                                             \
  F (capabilities, bounding, "bounding", STRVEC, _, OPT)                       \
  F (capabilities, effective, "effective", STRVEC, _, OPT)                     \
  F (capabilities, inheritable, "inheritable", STRVEC, _, OPT)                 \
  F (capabilities, permitted, "permitted", STRVEC, _, OPT)                     \
  F (capabilities, ambient, "ambient", STRVEC, _, OPT)

#define OCI_FIELDS_rlimit(F)                                                   \
  F (rlimit, type, "type", STR, _, REQ)                                        \
  F (rlimit, hard, "hard", U64, _, REQ)                                        \
  F (rlimit, soft, "soft", U64, _, REQ)

#define OCI_FIELDS_scheduler(F)                                                \
  F (scheduler, policy, "policy", STR, _, REQ)                                 \
  F (scheduler, nice, "nice", I32, _, OPT)                                     \
  F (scheduler, priority, "priority", I32, _, OPT)                             \
  F (scheduler, flags, "flags", STRVEC, _, OPT)                                \
  F (scheduler, runtime, "runtime", U64, _, OPT)                               \
  F (scheduler, deadline, "deadline", U64, _, OPT)                             \
  F (scheduler, period, "period", U64, _, OPT)

#define OCI_FIELDS_io_priority(F)                                              \
  F (io_priority, class, "class", STR, _, REQ)                                 \
  F (io_priority, priority, "priority", I32, _, REQ)

#define OCI_FIELDS_cpu_affinity(F)                                             \
  F (cpu_affinity, initial, "initial", STR, _, OPT)                            \
  F (cpu_affinity, final, "final", STR, _, OPT)

#define OCI_FIELDS_root(F)                                                     \
  F (root, path, "path", STR, _, REQ)                                          \
  F (root, readonly, "readonly", BOOL, _, OPT)

#define OCI_FIELDS_mount(F)                                                    \
  F (mount, destination, "destination", STR, _, REQ)                           \
  F (mount, type, "type", STR, _, OPT)                                         \
  F (mount, source, "source", STR, _, OPT)                                     \
  F (mount, options, "options", STRVEC, _, OPT)                                \
  F (mount, uid_mappings, "uidMappings", OBJVEC, id_mapping, OPT)              \
  F (mount, gid_mappings, "gidMappings", OBJVEC, id_mapping, OPT)

#define OCI_FIELDS_id_mapping(F)                                               \
  F (id_mapping, container_id, "containerID", U32, _, REQ)                     \
  F (id_mapping, host_id, "hostID", U32, _, REQ)                               \
  F (id_mapping, size, "size", U32, _, REQ)

#define OCI_FIELDS_hook(F)                                                     \
  F (hook, path, "path", STR, _, REQ)                                          \
  F (hook, args, "args", STRVEC, _, OPT)                                       \
  F (hook, env, "env", STRVEC, _, OPT)                                         \
  F (hook, timeout, "timeout", I32, _, OPT)

#define OCI_FIELDS_hooks(F)                                                    \
  F (hooks, prestart, "prestart", OBJVEC, hook, OPT)                           \
  F (hooks, create_runtime, "createRuntime", OBJVEC, hook, OPT)                \
  F (hooks, create_container, "createContainer", OBJVEC, hook, OPT)            \
  F (hooks, start_container, "startContainer", OBJVEC, hook, OPT)              \
  F (hooks, poststart, "poststart", OBJVEC, hook, OPT)                         \
  F (hooks, poststop, "poststop", OBJVEC, hook, OPT)

/* --- config-linux.md ------------------------------------------------------ */
#define OCI_FIELDS_linux(F)                                                    \
  F (linux, uid_mappings, "uidMappings", OBJVEC, id_mapping, OPT)              \
  F (linux, gid_mappings, "gidMappings", OBJVEC, id_mapping, OPT)              \
  F (linux, sysctl, "sysctl", STRMAP, _, OPT)                                  \
  F (linux, resources, "resources", OBJ, resources, OPT)                       \
  F (linux, cgroups_path, "cgroupsPath", STR, _, OPT)                          \
  F (linux, namespaces, "namespaces", OBJVEC, namespace, OPT)                  \
  F (linux, devices, "devices", OBJVEC, device, OPT)                           \
  F (linux, net_devices, "netDevices", OBJMAP, net_device, OPT)                \
  F (linux, seccomp, "seccomp", OBJ, seccomp, OPT)                             \
  F (linux, rootfs_propagation, "rootfsPropagation", STR, _, OPT)              \
  F (linux, masked_paths, "maskedPaths", STRVEC, _, OPT)                       \
  F (linux, readonly_paths, "readonlyPaths", STRVEC, _, OPT)                   \
  F (linux, mount_label, "mountLabel", STR, _, OPT)                            \
  F (linux, intel_rdt, "intelRdt", OBJ, intel_rdt, OPT)                        \
  F (linux, memory_policy, "memoryPolicy", OBJ, memory_policy, OPT)            \
  F (linux, personality, "personality", OBJ, personality, OPT)                 \
  F (linux, time_offsets, "timeOffsets", OBJMAP, time_offset, OPT)

#define OCI_FIELDS_namespace(F)                                                \
  F (namespace, type, "type", STR, _, REQ)                                     \
  F (namespace, path, "path", STR, _, OPT)

#define OCI_FIELDS_time_offset(F)                                              \
  F (time_offset, secs, "secs", I64, _, OPT)                                   \
  F (time_offset, nanosecs, "nanosecs", U32, _, OPT)

#define OCI_FIELDS_device(F)                                                   \
  F (device, path, "path", STR, _, REQ)                                        \
  F (device, type, "type", STR, _, REQ)                                        \
  F (device, major, "major", I64, _, OPT)                                      \
  F (device, minor, "minor", I64, _, OPT)                                      \
  F (device, file_mode, "fileMode", U32, _, OPT)                               \
  F (device, uid, "uid", U32, _, OPT)                                          \
  F (device, gid, "gid", U32, _, OPT)

#define OCI_FIELDS_net_device(F) F (net_device, name, "name", STR, _, OPT)

#define OCI_FIELDS_resources(F)                                                \
  F (resources, devices, "devices", OBJVEC, device_cgroup, OPT)                \
  F (resources, memory, "memory", OBJ, memory, OPT)                            \
  F (resources, cpu, "cpu", OBJ, cpu, OPT)                                     \
  F (resources, pids, "pids", OBJ, pids, OPT)                                  \
  F (resources, block_io, "blockIO", OBJ, block_io, OPT)                       \
  F (resources, hugepage_limits, "hugepageLimits", OBJVEC, hugepage_limit, OPT) \
  F (resources, network, "network", OBJ, network, OPT)                         \
  F (resources, rdma, "rdma", OBJMAP, rdma, OPT)                               \
  F (resources, unified, "unified", STRMAP, _, OPT)

#define OCI_FIELDS_device_cgroup(F)                                            \
  F (device_cgroup, allow, "allow", BOOL, _, REQ)                              \
  F (device_cgroup, type, "type", STR, _, OPT)                                 \
  F (device_cgroup, major, "major", I64, _, OPT)                               \
  F (device_cgroup, minor, "minor", I64, _, OPT)                               \
  F (device_cgroup, access, "access", STR, _, OPT)

#define OCI_FIELDS_memory(F)                                                   \
  F (memory, limit, "limit", I64, _, OPT)                                      \
  F (memory, reservation, "reservation", I64, _, OPT)                          \
  F (memory, swap, "swap", I64, _, OPT)                                        \
  F (memory, kernel, "kernel", I64, _, OPT)                                    \
  F (memory, kernel_tcp, "kernelTCP", I64, _, OPT)                             \
  F (memory, swappiness, "swappiness", U64, _, OPT)                            \
  F (memory, disable_oom_killer, "disableOOMKiller", BOOL, _, OPT)             \
  F (memory, use_hierarchy, "useHierarchy", BOOL, _, OPT)                      \
  F (memory, check_before_update, "checkBeforeUpdate", BOOL, _, OPT)

#define OCI_FIELDS_cpu(F)                                                      \
  F (cpu, shares, "shares", U64, _, OPT)                                       \
  F (cpu, quota, "quota", I64, _, OPT)                                         \
  F (cpu, burst, "burst", U64, _, OPT)                                         \
  F (cpu, period, "period", U64, _, OPT)                                       \
  F (cpu, realtime_runtime, "realtimeRuntime", I64, _, OPT)                    \
  F (cpu, realtime_period, "realtimePeriod", U64, _, OPT)                      \
  F (cpu, cpus, "cpus", STR, _, OPT)                                           \
  F (cpu, mems, "mems", STR, _, OPT)                                           \
  F (cpu, idle, "idle", I64, _, OPT)

#define OCI_FIELDS_pids(F) F (pids, limit, "limit", I64, _, OPT)

#define OCI_FIELDS_block_io(F)                                                 \
  F (block_io, weight, "weight", U16, _, OPT)                                  \
  F (block_io, leaf_weight, "leafWeight", U16, _, OPT)                         \
  F (block_io, weight_device, "weightDevice", OBJVEC, weight_device, OPT)      \
  F (block_io, throttle_read_bps_device, "throttleReadBpsDevice", OBJVEC, throttle_device, OPT) \
  F (block_io, throttle_write_bps_device, "throttleWriteBpsDevice", OBJVEC, throttle_device, OPT) \
  F (block_io, throttle_read_iops_device, "throttleReadIOPSDevice", OBJVEC, throttle_device, OPT) \
  F (block_io, throttle_write_iops_device, "throttleWriteIOPSDevice", OBJVEC, throttle_device, OPT)

#define OCI_FIELDS_weight_device(F)                                            \
  F (weight_device, major, "major", I64, _, REQ)                               \
  F (weight_device, minor, "minor", I64, _, REQ)                               \
  F (weight_device, weight, "weight", U16, _, OPT)                             \
  F (weight_device, leaf_weight, "leafWeight", U16, _, OPT)

#define OCI_FIELDS_throttle_device(F)                                          \
  F (throttle_device, major, "major", I64, _, REQ)                             \
  F (throttle_device, minor, "minor", I64, _, REQ)                             \
  F (throttle_device, rate, "rate", U64, _, REQ)

#define OCI_FIELDS_hugepage_limit(F)                                           \
  F (hugepage_limit, page_size, "pageSize", STR, _, REQ)                       \
  F (hugepage_limit, limit, "limit", U64, _, REQ)

#define OCI_FIELDS_network(F)                                                  \
  F (network, class_id, "classID", U32, _, OPT)                                \
  F (network, priorities, "priorities", OBJVEC, interface_priority, OPT)

#define OCI_FIELDS_interface_priority(F)                                       \
  F (interface_priority, name, "name", STR, _, REQ)                            \
  F (interface_priority, priority, "priority", U32, _, REQ)

#define OCI_FIELDS_rdma(F)                                                     \
  F (rdma, hca_handles, "hcaHandles", U32, _, OPT)                             \
  F (rdma, hca_objects, "hcaObjects", U32, _, OPT)

#define OCI_FIELDS_seccomp(F)                                                  \
  F (seccomp, default_action, "defaultAction", STR, _, REQ)                    \
  F (seccomp, default_errno_ret, "defaultErrnoRet", U32, _, OPT)               \
  F (seccomp, architectures, "architectures", STRVEC, _, OPT)                  \
  F (seccomp, flags, "flags", STRVEC, _, OPT)                                  \
  F (seccomp, listener_path, "listenerPath", STR, _, OPT)                      \
  F (seccomp, listener_metadata, "listenerMetadata", STR, _, OPT)              \
  F (seccomp, syscalls, "syscalls", OBJVEC, syscall, OPT)

#define OCI_FIELDS_syscall(F)                                                  \
  F (syscall, names, "names", STRVEC, _, REQ)                                  \
  F (syscall, action, "action", STR, _, REQ)                                   \
  F (syscall, errno_ret, "errnoRet", U32, _, OPT)                              \
  F (syscall, args, "args", OBJVEC, seccomp_arg, OPT)

#define OCI_FIELDS_seccomp_arg(F)                                              \
  F (seccomp_arg, index, "index", U32, _, REQ)                                 \
  F (seccomp_arg, value, "value", U64, _, REQ)                                 \
  F (seccomp_arg, value_two, "valueTwo", U64, _, OPT)                          \
  F (seccomp_arg, op, "op", STR, _, REQ)

#define OCI_FIELDS_intel_rdt(F)                                                \
  F (intel_rdt, clos_id, "closID", STR, _, OPT)                                \
  F (intel_rdt, schemata, "schemata", STRVEC, _, OPT)                          \
  F (intel_rdt, l3_cache_schema, "l3CacheSchema", STR, _, OPT)                 \
  F (intel_rdt, mem_bw_schema, "memBwSchema", STR, _, OPT)                     \
  F (intel_rdt, enable_monitoring, "enableMonitoring", BOOL, _, OPT)

#define OCI_FIELDS_memory_policy(F)                                            \
  F (memory_policy, mode, "mode", STR, _, REQ)                                 \
  F (memory_policy, nodes, "nodes", STR, _, OPT)                               \
  F (memory_policy, flags, "flags", STRVEC, _, OPT)

#define OCI_FIELDS_personality(F)                                              \
  F (personality, domain, "domain", STR, _, REQ)                               \
  F (personality, flags, "flags", STRVEC, _, OPT)

/* --- runtime.md "State" --------------------------------------------------- */
#define OCI_FIELDS_state(F)                                                    \
  F (state, oci_version, "ociVersion", STR, _, REQ)                            \
  F (state, id, "id", STR, _, REQ)                                             \
  F (state, status, "status", STR, _, REQ)                                     \
  F (state, pid, "pid", I32, _, OPT)                                           \
  F (state, bundle, "bundle", STR, _, REQ)                                     \
  F (state, annotations, "annotations", STRMAP, _, OPT)

/* --- features.md ---------------------------------------------------------- */
#define OCI_FIELDS_features(F)                                                 \
  F (features, oci_version_min, "ociVersionMin", STR, _, OPT)                  \
  F (features, oci_version_max, "ociVersionMax", STR, _, OPT)                  \
  F (features, hooks, "hooks", STRVEC, _, OPT)                                 \
  F (features, mount_options, "mountOptions", STRVEC, _, OPT)                  \
  F (features, linux, "linux", OBJ, features_linux, OPT)                       \
  F (features, annotations, "annotations", STRMAP, _, OPT)                     \
  F (features, potentially_unsafe_config_annotations,                          \
     "potentiallyUnsafeConfigAnnotations", STRVEC, _, OPT)

#define OCI_FIELDS_features_linux(F)                                           \
  F (features_linux, namespaces, "namespaces", STRVEC, _, OPT)                 \
  F (features_linux, capabilities, "capabilities", STRVEC, _, OPT)             \
  F (features_linux, cgroup, "cgroup", OBJ, features_cgroup, OPT)              \
  F (features_linux, seccomp, "seccomp", OBJ, features_seccomp, OPT)           \
  F (features_linux, apparmor, "apparmor", OBJ, features_enabled, OPT)         \
  F (features_linux, selinux, "selinux", OBJ, features_enabled, OPT)           \
  F (features_linux, intel_rdt, "intelRdt", OBJ, features_intel_rdt, OPT)      \
  F (features_linux, memory_policy, "memoryPolicy", OBJ, features_memory_policy, OPT) \
  F (features_linux, mount_extensions, "mountExtensions", OBJ, features_mount_extensions, OPT) \
  F (features_linux, net_devices, "netDevices", OBJ, features_enabled, OPT)

#define OCI_FIELDS_features_cgroup(F)                                          \
  F (features_cgroup, v1, "v1", BOOL, _, OPT)                                  \
  F (features_cgroup, v2, "v2", BOOL, _, OPT)                                  \
  F (features_cgroup, systemd, "systemd", BOOL, _, OPT)                        \
  F (features_cgroup, systemd_user, "systemdUser", BOOL, _, OPT)               \
  F (features_cgroup, rdma, "rdma", BOOL, _, OPT)

#define OCI_FIELDS_features_seccomp(F)                                         \
  F (features_seccomp, enabled, "enabled", BOOL, _, OPT)                       \
  F (features_seccomp, actions, "actions", STRVEC, _, OPT)                     \
  F (features_seccomp, operators, "operators", STRVEC, _, OPT)                 \
  F (features_seccomp, archs, "archs", STRVEC, _, OPT)                         \
  F (features_seccomp, known_flags, "knownFlags", STRVEC, _, OPT)              \
  F (features_seccomp, supported_flags, "supportedFlags", STRVEC, _, OPT)

#define OCI_FIELDS_features_enabled(F)                                         \
  F (features_enabled, enabled, "enabled", BOOL, _, OPT)

#define OCI_FIELDS_features_intel_rdt(F)                                       \
  F (features_intel_rdt, enabled, "enabled", BOOL, _, OPT)                     \
  F (features_intel_rdt, schemata, "schemata", BOOL, _, OPT)                   \
  F (features_intel_rdt, monitoring, "monitoring", BOOL, _, OPT)

#define OCI_FIELDS_features_memory_policy(F)                                   \
  F (features_memory_policy, modes, "modes", STRVEC, _, OPT)                   \
  F (features_memory_policy, flags, "flags", STRVEC, _, OPT)

#define OCI_FIELDS_features_mount_extensions(F)                                \
  F (features_mount_extensions, idmap, "idmap", OBJ, features_enabled, OPT)

/* Every document type, for declaring structs and tables. */
#define OCI_SPEC_TYPES(X)                                                      \
  X (config) X (process) X (box) X (user) X (capabilities) X (rlimit)          \
  X (scheduler) X (io_priority) X (cpu_affinity) X (root) X (mount)            \
  X (id_mapping) X (hook) X (hooks) X (linux) X (namespace) X (time_offset)    \
  X (device) X (net_device) X (resources) X (device_cgroup) X (memory) X (cpu) \
  X (pids) X (block_io) X (weight_device) X (throttle_device)                  \
  X (hugepage_limit) X (network) X (interface_priority) X (rdma) X (seccomp)   \
  X (syscall) X (seccomp_arg) X (intel_rdt) X (memory_policy) X (personality)  \
  X (state) X (features) X (features_linux) X (features_cgroup)                \
  X (features_seccomp) X (features_enabled) X (features_intel_rdt)             \
  X (features_memory_policy) X (features_mount_extensions)

OCI_SPEC_TYPES (OCI_DECLARE_STRUCT)
OCI_SPEC_TYPES (OCI_DECLARE_TYPE)

/* ---- typed conveniences --------------------------------------------------- */

/* Parse and validate (validate.c) a config.json.  The error names the file as
   "config.json" and the JSON path of the first problem. */
int oci_config_parse_file (const char *path, struct oci_config **out, struct berth_error *err);
int oci_config_parse_data (const char *data, size_t len, struct oci_config **out,
                           struct berth_error *err);
void oci_config_free (struct oci_config *c);

/* Semantic validation that needs no host: ociVersion range, enumerations,
   absolute paths, duplicates.  The _report forms go through a reporter
   (error.h): create stops at the first problem, check collects them all;
   the _validate forms stop at the first, into *err.  Seccomp's rules are
   berth's (they need libseccomp). */
int oci_config_report (const struct oci_config *c, struct berth_reporter *rep);
int oci_process_report (const struct oci_process *p, const char *base_path,
                        struct berth_reporter *rep);
int oci_config_validate (const struct oci_config *c, struct berth_error *err);
int oci_process_validate (const struct oci_process *p, const char *base_path,
                          struct berth_error *err);

/* The RLIMIT_* number of a spec rlimit name ("RLIMIT_NOFILE"), -1 when the
   name is not one. */
int oci_rlimit_resource (const char *name);

/* The CLONE_NEW* flag of a spec namespace type ("network"), -1 when the
   name is not one; and back, NULL when the flag is not one. */
int oci_namespace_flag (const char *type);
const char *oci_namespace_type (int flag);
/* The i-th namespace type of the spec, NULL past the last. */
const char *oci_namespace_name (size_t i);

/* The six hook lists of config.md, each with its property name, in the
   spec's order; `h` may be NULL (all empty). */
#define OCI_HOOK_KINDS 6
struct oci_hook_list {
  const char *name; /* "prestart", "createRuntime", ... */
  const struct oci_hook *v;
  size_t n;
};
size_t oci_hook_lists (const struct oci_hooks *h, struct oci_hook_list out[OCI_HOOK_KINDS]);

/* "1.0.0" .. "1.3.x" with optional "-pre" / "+build" suffixes. */
bool oci_version_supported (const char *v);

static inline void
oci_config_freep (struct oci_config **c)
{
  if (*c)
    oci_config_free (*c);
}
#define cleanup_config __attribute__ ((cleanup (oci_config_freep)))

#endif
