#include "lifecycle/feature_set.h"
#include "init/mempolicy.h"
#include "cleanup.h"
#include "fs/mountopts.h"
#include "spec.h"

#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#define LEN(a) (sizeof (a) / sizeof (a)[0])
#define SET_STRV(obj, m, arr) ((obj)->m = (char **) (arr), (obj)->m##_len = LEN (arr), (obj)->has_##m = true)

static const char *const hooks[] = { "prestart", "createRuntime", "createContainer",
                                     "startContainer", "poststart", "poststop" };
static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network",
                                          "pid", "time", "user", "uts" };
static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                       "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                       "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
                                       "SCMP_ACT_TRAP" };
static const char *const operators[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                         "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
                                         "SCMP_CMP_NE" };
static const char *const known_flags[] = { "SECCOMP_FILTER_FLAG_TSYNC",
                                           "SECCOMP_FILTER_FLAG_LOG",
                                           "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                           "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" };
/* TSYNC is accepted and moot (the init is single-threaded), as in runc;
   WAIT_KILLABLE_RECV is refused while libseccomp is older than 2.6. */
static const char *const supported_flags[] = { "SECCOMP_FILTER_FLAG_TSYNC",
                                               "SECCOMP_FILTER_FLAG_LOG",
                                               "SECCOMP_FILTER_FLAG_SPEC_ALLOW" };

/* libseccomp's architecture names, as the spec spells them. */
static const struct {
  const char *lib;
  const char *spec;
} arch_names[] = {
  { "x86", "SCMP_ARCH_X86" },         { "x86_64", "SCMP_ARCH_X86_64" },
  { "x32", "SCMP_ARCH_X32" },         { "arm", "SCMP_ARCH_ARM" },
  { "aarch64", "SCMP_ARCH_AARCH64" }, { "mips", "SCMP_ARCH_MIPS" },
  { "mips64", "SCMP_ARCH_MIPS64" },   { "mips64n32", "SCMP_ARCH_MIPS64N32" },
  { "mipsel", "SCMP_ARCH_MIPSEL" },   { "mipsel64", "SCMP_ARCH_MIPSEL64" },
  { "mipsel64n32", "SCMP_ARCH_MIPSEL64N32" }, { "ppc", "SCMP_ARCH_PPC" },
  { "ppc64", "SCMP_ARCH_PPC64" },     { "ppc64le", "SCMP_ARCH_PPC64LE" },
  { "s390", "SCMP_ARCH_S390" },       { "s390x", "SCMP_ARCH_S390X" },
  { "parisc", "SCMP_ARCH_PARISC" },   { "parisc64", "SCMP_ARCH_PARISC64" },
  { "riscv64", "SCMP_ARCH_RISCV64" },
};

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
  const char *archs[LEN (arch_names)];
  cleanup_free char **caps = NULL;
  char *ann_keys[2], *ann_vals[2];
  char libseccomp_version[32];
  size_t n_archs = 0, n_caps = 0;
  int r;

  OCI_SET (&f, oci_version_min, "1.0.0");
  OCI_SET (&f, oci_version_max, OCI_SPEC_VERSION);
  SET_STRV (&f, hooks, hooks);
  f.mount_options = (char **) mount_opts;
  f.mount_options_len = mount_opts_known (mount_opts, LEN (mount_opts));
  f.has_mount_options = true;

  SET_STRV (&l, namespaces, namespaces);
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
  OCI_SET (&cg, systemd, true); /* system instance over sd-bus (dlopen on use) */
  OCI_SET (&cg, systemd_user, false);
  OCI_SET (&cg, rdma, true);
  OCI_SET (&l, cgroup, &cg);

  OCI_SET (&sc, enabled, true);
  SET_STRV (&sc, actions, actions);
  SET_STRV (&sc, operators, operators);
  for (size_t i = 0; i < LEN (arch_names); i++)
    if (seccomp_arch_resolve_name (arch_names[i].lib) != 0)
      archs[n_archs++] = arch_names[i].spec;
  sc.archs = (char **) archs;
  sc.archs_len = n_archs;
  sc.has_archs = true;
  SET_STRV (&sc, known_flags, known_flags);
  SET_STRV (&sc, supported_flags, supported_flags);
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
  for (mpol.modes_len = 0; mempolicy_mode_names[mpol.modes_len]; mpol.modes_len++)
    ;
  for (mpol.flags_len = 0; mempolicy_flag_names[mpol.flags_len]; mpol.flags_len++)
    ;
  OCI_SET (&mpol, modes, (char **) mempolicy_mode_names);
  OCI_SET (&mpol, flags, (char **) mempolicy_flag_names);
  OCI_SET (&l, memory_policy, &mpol);
  OCI_SET (&f, linux, &l);

  {
    const struct scmp_version *v = seccomp_version ();
    snprintf (libseccomp_version, sizeof libseccomp_version, "%u.%u.%u", v->major, v->minor,
              v->micro);
  }
  ann_keys[0] = "io.github.seccomp.libseccomp.version";
  ann_vals[0] = libseccomp_version;
  ann_keys[1] = NULL;
  f.annotations_keys = ann_keys;
  f.annotations = ann_vals;
  f.annotations_len = 1;
  f.has_annotations = true;

  r = oci_emit (&oci_type_features, &f, "    ", out, NULL, err);
  for (size_t i = 0; i < n_caps; i++)
    cap_free (caps[i]);
  return r;
}
