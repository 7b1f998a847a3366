#include "lifecycle/feature_set.h"
#include "lifecycle/checkpoint.h"
#include "init/mempolicy.h"
#include "cleanup.h"
#include "fs/mountopts.h"
#include "security/seccomp.h"
#include "spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#define LEN(a) (sizeof (a) / sizeof (a)[0])
#define SET_STRV(obj, m, arr, n) ((obj)->m = (char **) (arr), (obj)->m##_len = (n), (obj)->has_##m = true)

/* Every list below comes from the table the rules of create and check use,
   so that features cannot offer what create refuses, or the reverse. */

/* The names of an enumerator (the i-th, NULL past the last) that pass
   `keep`, into a (of LEN (a)); the count into *n. */
#define COLLECT(a, n, name_of_i, keep)                                                       \
  do                                                                                         \
    {                                                                                        \
      const char *name_;                                                                     \
      (n) = 0;                                                                               \
      for (size_t i = 0; (n) < LEN (a) && (name_ = (name_of_i)) != NULL; i++)                \
        if (keep)                                                                            \
          (a)[(n)++] = name_;                                                                \
    }                                                                                        \
  while (0)

bool
berth_libseccomp_version (char *buf, size_t size)
{
  return seccomp_library_version (buf, size);
}

int
berth_features_json (char **out, struct berth_error *err)
{
  struct oci_features f = { 0 };
  struct oci_features_linux l = { 0 };
  struct oci_features_cgroup cg = { 0 };
  struct oci_features_seccomp sc = { 0 };
  struct oci_features_enabled off = { 0 }, on = { 0 };
  struct oci_features_mount_extensions mext = { 0 };
  struct oci_features_intel_rdt rdt = { 0 };
  struct oci_features_memory_policy mpol = { 0 };
  const char *mount_opts[128];
  struct oci_hook_list hook_lists[OCI_HOOK_KINDS];
  const char *hooks[OCI_HOOK_KINDS], *namespaces[16], *actions[32], *operators[16];
  const char *known_flags[16], *supported_flags[16], *archs[64], *modes[16], *mflags[16];
  size_t n_hooks, n_namespaces, n_actions, n_operators, n_known, n_supported, n_modes, n_mflags;
  cleanup_free char **caps = NULL;
  char *ann_keys[3], *ann_vals[3];
  char libseccomp_version[32];
  size_t n_archs = 0, n_caps = 0;
  int r;

  OCI_SET (&f, oci_version_min, "1.0.0");
  OCI_SET (&f, oci_version_max, OCI_SPEC_VERSION);
  oci_hook_lists (NULL, hook_lists);
  COLLECT (hooks, n_hooks, i < OCI_HOOK_KINDS ? hook_lists[i].name : NULL, true);
  SET_STRV (&f, hooks, hooks, n_hooks);
  f.mount_options = (char **) mount_opts;
  f.mount_options_len = mount_opts_known (mount_opts, LEN (mount_opts));
  f.has_mount_options = true;

  COLLECT (namespaces, n_namespaces, oci_namespace_name (i), true);
  SET_STRV (&l, namespaces, namespaces, n_namespaces);
  /* Every capability libcap knows; unknown names in a config are skipped
     with a warning. */
  caps = calloc (CAP_LAST_CAP + 2, sizeof (char *));
  if (caps == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
    {
      char *name = cap_to_name (c);
      if (name == NULL)
        continue;
      for (char *p = name; *p; p++)
        *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
      caps[n_caps++] = name;
    }
  l.capabilities = caps;
  l.capabilities_len = n_caps;
  l.has_capabilities = true;

  OCI_SET (&cg, v1, true);
  OCI_SET (&cg, v2, true);
  OCI_SET (&cg, systemd, true); /* the system instance, over D-Bus */
  OCI_SET (&cg, systemd_user, false);
  OCI_SET (&cg, rdma, true);
  OCI_SET (&l, cgroup, &cg);

  OCI_SET (&sc, enabled, true);
  COLLECT (actions, n_actions, seccomp_name (SECCOMP_ACTIONS, i), true);
  SET_STRV (&sc, actions, actions, n_actions);
  COLLECT (operators, n_operators, seccomp_name (SECCOMP_OPERATORS, i), true);
  SET_STRV (&sc, operators, operators, n_operators);
  COLLECT (archs, n_archs, seccomp_name (SECCOMP_ARCHES, i), seccomp_arch_known (name_));
  SET_STRV (&sc, archs, archs, n_archs);
  COLLECT (known_flags, n_known, seccomp_name (SECCOMP_FLAGS, i), true);
  SET_STRV (&sc, known_flags, known_flags, n_known);
  COLLECT (supported_flags, n_supported, seccomp_name (SECCOMP_FLAGS, i),
           seccomp_flag_supported (name_));
  SET_STRV (&sc, supported_flags, supported_flags, n_supported);
  OCI_SET (&l, seccomp, &sc);

  OCI_SET (&off, enabled, false);
  /* features.md: whether the runtime supports them, not whether this host
     has the module (create says so, naming the property, when it does not). */
  OCI_SET (&on, enabled, true);
  OCI_SET (&l, apparmor, &on);
  OCI_SET (&l, selinux, &on);
  OCI_SET (&rdt, enabled, false);
  OCI_SET (&l, intel_rdt, &rdt);
  OCI_SET (&mext, idmap, &on);
  OCI_SET (&l, mount_extensions, &mext);
  OCI_SET (&l, net_devices, &on);
  COLLECT (modes, n_modes, mempolicy_name (false, i), true);
  SET_STRV (&mpol, modes, modes, n_modes);
  COLLECT (mflags, n_mflags, mempolicy_name (true, i), true);
  SET_STRV (&mpol, flags, mflags, n_mflags);
  OCI_SET (&l, memory_policy, &mpol);
  OCI_SET (&f, linux, &l);

  f.annotations_len = 0;
  if (berth_libseccomp_version (libseccomp_version, sizeof libseccomp_version))
    {
      ann_keys[f.annotations_len] = "io.github.seccomp.libseccomp.version";
      ann_vals[f.annotations_len++] = libseccomp_version;
    }
  /* runc's key: Podman and the CRI read it to offer checkpointing. */
  if (checkpoint_built_in ())
    {
      ann_keys[f.annotations_len] = "org.opencontainers.runc.checkpoint.enabled";
      ann_vals[f.annotations_len++] = "true";
    }
  ann_keys[f.annotations_len] = NULL;
  f.annotations_keys = ann_keys;
  f.annotations = ann_vals;
  f.has_annotations = true;

  r = oci_emit (&oci_type_features, &f, "    ", out, NULL, err);
  for (size_t i = 0; i < n_caps; i++)
    cap_free (caps[i]);
  return r;
}
