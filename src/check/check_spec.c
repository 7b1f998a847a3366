/* berth check: the spec's rules, every violation reported.
 *
 * The rules are validate.c's (libocispec), which stops at the first problem
 * because create has no use for a second one; here each loop runs to its
 * end.  Keep the two in step: a rule added there belongs here too.
 * Seccomp is checked against libseccomp as seccomp.c will use it.
 */
#include "check/check_priv.h"

#include <ctype.h>
#include <errno.h>
#include "security/seccomp.h" /* berth's, which includes libseccomp's */
#include <stdio.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof (a) / sizeof ((a)[0]))

static bool
in_set (const char *s, const char *const *set, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (s, set[i]) == 0)
      return true;
  return false;
}

static void
unknown (struct check_ctx *x, const char *path, const char *what, const char *value)
{
  check_add (x, CHECK_ERROR, BERTH_E_VALUE, path, "unknown %s \"%s\"", what, value);
}

static void
not_absolute (struct check_ctx *x, const char *path, const char *value)
{
  check_add (x, CHECK_ERROR, BERTH_E_VALUE, path, "must be an absolute path, got \"%s\"", value);
}

static const char *const ns_types[] = {
  "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};
static const char *const propagations[] = {
  "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
};
static const char *const mempolicy_modes[] = {
  "MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
  "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL",
};
static const char *const mempolicy_flags[] = {
  "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES",
};
static const char *const time_clocks[] = { "boottime", "monotonic" };

static void
spec_process (struct check_ctx *x, const struct oci_process *p)
{
  char path[128];

  if (p->cwd[0] != '/')
    not_absolute (x, ".process.cwd", p->cwd);
  if (!p->has_args || p->args_len == 0)
    check_add (x, CHECK_ERROR, BERTH_E_MISSING, ".process.args",
               "at least one argument (the program to run) is required");
  for (size_t i = 0; i < p->rlimits_len; i++)
    {
      const struct oci_rlimit *rl = &p->rlimits[i];
      CHECK_PATHF (path, ".process.rlimits[%zu].type", i);
      if (check_rlimit_resource (rl->type) < 0)
        unknown (x, path, "rlimit type", rl->type);
      for (size_t j = 0; j < i; j++)
        if (strcmp (rl->type, p->rlimits[j].type) == 0)
          {
            check_add (x, CHECK_ERROR, BERTH_E_VALUE, path, "duplicate rlimit type \"%s\"",
                       rl->type);
            break;
          }
      CHECK_PATHF (path, ".process.rlimits[%zu].soft", i);
      if (rl->soft > rl->hard)
        check_add (x, CHECK_ERROR, BERTH_E_VALUE, path,
                   "soft limit is greater than the hard limit");
    }
  if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
    check_add (x, CHECK_ERROR, BERTH_E_RANGE, ".process.oomScoreAdj", "%d is outside -1000..1000",
               (int) p->oom_score_adj);
  /* scheduler and ioPriority: check.c, with the rules create applies. */
}

static void
spec_hooks (struct check_ctx *x, const struct oci_hooks *h)
{
  const struct {
    const char *name;
    const struct oci_hook *v;
    size_t n;
  } lists[] = {
    { "prestart", h->prestart, h->prestart_len },
    { "createRuntime", h->create_runtime, h->create_runtime_len },
    { "createContainer", h->create_container, h->create_container_len },
    { "startContainer", h->start_container, h->start_container_len },
    { "poststart", h->poststart, h->poststart_len },
    { "poststop", h->poststop, h->poststop_len },
  };
  char path[128];

  for (size_t l = 0; l < ARRAY_LEN (lists); l++)
    for (size_t i = 0; i < lists[l].n; i++)
      {
        const struct oci_hook *k = &lists[l].v[i];
        CHECK_PATHF (path, ".hooks.%s[%zu].path", lists[l].name, i);
        if (k->path[0] != '/')
          not_absolute (x, path, k->path);
        CHECK_PATHF (path, ".hooks.%s[%zu].timeout", lists[l].name, i);
        if (k->has_timeout && k->timeout <= 0)
          check_add (x, CHECK_ERROR, BERTH_E_VALUE, path, "must be greater than zero");
      }
}

static void
spec_namespaces (struct check_ctx *x, const struct oci_linux *l, bool *uts, bool *user)
{
  char path[128];

  for (size_t i = 0; i < l->namespaces_len; i++)
    {
      const char *t = l->namespaces[i].type;
      CHECK_PATHF (path, ".linux.namespaces[%zu].type", i);
      if (!in_set (t, ns_types, ARRAY_LEN (ns_types)))
        unknown (x, path, "namespace type", t);
      for (size_t j = 0; j < i; j++)
        if (strcmp (t, l->namespaces[j].type) == 0)
          {
            check_add (x, CHECK_ERROR, BERTH_E_VALUE, path, "duplicate namespace type \"%s\"", t);
            break;
          }
      *uts |= strcmp (t, "uts") == 0;
      *user |= strcmp (t, "user") == 0;
      CHECK_PATHF (path, ".linux.namespaces[%zu].path", i);
      if (l->namespaces[i].path && l->namespaces[i].path[0] != '/')
        not_absolute (x, path, l->namespaces[i].path);
    }
}

static void
spec_devices (struct check_ctx *x, const struct oci_linux *l)
{
  char path[128];

  for (size_t i = 0; i < l->devices_len; i++)
    {
      const struct oci_device *d = &l->devices[i];
      CHECK_PATHF (path, ".linux.devices[%zu].type", i);
      if (strlen (d->type) != 1 || !strchr ("cbup", d->type[0]))
        unknown (x, path, "device type (want c, b, u or p)", d->type);
      else if (d->type[0] != 'p' && (!d->has_major || !d->has_minor))
        {
          CHECK_PATHF (path, ".linux.devices[%zu].%s", i, d->has_major ? "minor" : "major");
          check_add (x, CHECK_ERROR, BERTH_E_MISSING, path,
                     "required for a device of type \"%s\"", d->type);
        }
      CHECK_PATHF (path, ".linux.devices[%zu].path", i);
      if (d->path[0] != '/')
        not_absolute (x, path, d->path);
    }
  for (size_t i = 0; l->resources && i < l->resources->devices_len; i++)
    {
      const struct oci_device_cgroup *d = &l->resources->devices[i];
      CHECK_PATHF (path, ".linux.resources.devices[%zu].type", i);
      if (d->type && strcmp (d->type, "a") && strcmp (d->type, "c") && strcmp (d->type, "b"))
        unknown (x, path, "device type (want a, b or c)", d->type);
      CHECK_PATHF (path, ".linux.resources.devices[%zu].access", i);
      if (d->access && d->access[strspn (d->access, "rwm")] != '\0')
        unknown (x, path, "device access (want letters of \"rwm\")", d->access);
    }
}

static void
spec_linux (struct check_ctx *x, const struct oci_linux *l)
{
  const struct oci_config *c = x->c;
  bool uts = false, user = false;
  char path[300];

  spec_namespaces (x, l, &uts, &user);
  if (c->hostname && c->hostname[0] && !uts)
    check_add (x, CHECK_ERROR, BERTH_E_VALUE, ".hostname",
               "setting the hostname needs a new UTS namespace "
               "(add {\"type\": \"uts\"} to .linux.namespaces)");
  if (c->domainname && c->domainname[0] && !uts)
    check_add (x, CHECK_ERROR, BERTH_E_VALUE, ".domainname",
               "setting the domainname needs a new UTS namespace");
  if (l->uid_mappings_len && !user)
    check_add (x, CHECK_ERROR, BERTH_E_VALUE, ".linux.uidMappings",
               "ID mappings need a user namespace in .linux.namespaces");
  if (l->gid_mappings_len && !user)
    check_add (x, CHECK_ERROR, BERTH_E_VALUE, ".linux.gidMappings",
               "ID mappings need a user namespace in .linux.namespaces");
  spec_devices (x, l);
  if (l->rootfs_propagation && l->rootfs_propagation[0]
      && !in_set (l->rootfs_propagation, propagations, ARRAY_LEN (propagations)))
    unknown (x, ".linux.rootfsPropagation", "propagation", l->rootfs_propagation);
  for (size_t i = 0; i < l->time_offsets_len; i++)
    if (!in_set (l->time_offsets_keys[i], time_clocks, ARRAY_LEN (time_clocks)))
      {
        oci_path_key (path, sizeof path, ".linux.timeOffsets", l->time_offsets_keys[i]);
        check_add (x, CHECK_ERROR, BERTH_E_VALUE, path,
                   "unknown clock (want boottime or monotonic)");
      }
  if (l->memory_policy)
    {
      if (!in_set (l->memory_policy->mode, mempolicy_modes, ARRAY_LEN (mempolicy_modes)))
        unknown (x, ".linux.memoryPolicy.mode", "memory policy mode", l->memory_policy->mode);
      for (size_t i = 0; i < l->memory_policy->flags_len; i++)
        if (!in_set (l->memory_policy->flags[i], mempolicy_flags, ARRAY_LEN (mempolicy_flags)))
          {
            CHECK_PATHF (path, ".linux.memoryPolicy.flags[%zu]", i);
            unknown (x, path, "memory policy flag", l->memory_policy->flags[i]);
          }
    }
}

void
check_spec (struct check_ctx *x)
{
  const struct oci_config *c = x->c;
  char path[64];

  if (!oci_version_supported (c->oci_version))
    check_add (x, CHECK_ERROR, BERTH_E_VERSION, ".ociVersion",
               "unsupported version \"%s\" (berth accepts 1.0.0 to 1.3.x)", c->oci_version);
  if (c->root == NULL)
    check_add (x, CHECK_ERROR, BERTH_E_MISSING, ".root", "required property is missing");
  else if (c->root->path[0] == '\0')
    check_add (x, CHECK_ERROR, BERTH_E_VALUE, ".root.path", "must not be empty");
  if (c->process)
    spec_process (x, c->process);
  for (size_t i = 0; i < c->mounts_len; i++)
    if (c->mounts[i].destination[0] == '\0')
      {
        CHECK_PATHF (path, ".mounts[%zu].destination", i);
        check_add (x, CHECK_ERROR, BERTH_E_VALUE, path, "must not be empty");
      }
  if (c->hooks)
    spec_hooks (x, c->hooks);
  if (c->linux)
    spec_linux (x, c->linux);
  else if (c->hostname && c->hostname[0])
    check_add (x, CHECK_ERROR, BERTH_E_VALUE, ".hostname",
               "setting the hostname needs a new UTS namespace");
}

/* ---- seccomp ------------------------------------------------------------- */

#define SC ".linux.seccomp"

/* SCMP_ACT_* names; `data` tells whether the action carries errnoRet. */
static bool
known_action (const char *name, bool *data)
{
  static const char *const plain[] = {
    "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
  };
  *data = strcmp (name, "SCMP_ACT_ERRNO") == 0 || strcmp (name, "SCMP_ACT_TRACE") == 0;
  return *data || in_set (name, plain, ARRAY_LEN (plain));
}

static void
seccomp_action (struct check_ctx *x, const char *name, bool has_ret, uint32_t ret,
                const char *path, const char *ret_path)
{
  bool data;

  if (!known_action (name, &data))
    unknown (x, path, "seccomp action", name);
  else if (data && has_ret && ret > 0xffff)
    /* SECCOMP_RET_DATA has 16 bits; a wider value would silently change. */
    check_add (x, CHECK_ERROR, BERTH_E_RANGE, ret_path, "%u does not fit in 16 bits", ret);
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
static bool
known_arch (const char *name)
{
  char lower[32];
  size_t i;

  if (strncmp (name, "SCMP_ARCH_", 10) != 0 || strlen (name + 10) >= sizeof lower)
    return false;
  for (i = 0; name[10 + i]; i++)
    lower[i] = (char) tolower ((unsigned char) name[10 + i]);
  lower[i] = '\0';
  return seccomp_arch_resolve_name (lower) != 0;
}

static void
seccomp_flags (struct check_ctx *x, const struct oci_seccomp *s)
{
  static const char *const flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  };
  const struct scmp_version *v = seccomp_version ();
  char path[96];

  for (size_t i = 0; i < s->flags_len; i++)
    {
      CHECK_PATHF (path, SC ".flags[%zu]", i);
      if (strcmp (s->flags[i], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
        {
          if (v->major < 2 || (v->major == 2 && v->minor < 6))
            check_add (x, CHECK_ERROR, BERTH_E_UNSUPPORTED, path,
                       "%s is not supported by libseccomp %u.%u.%u (needs 2.6)", s->flags[i],
                       v->major, v->minor, v->micro);
        }
      else if (!in_set (s->flags[i], flags, ARRAY_LEN (flags)))
        unknown (x, path, "seccomp flag", s->flags[i]);
    }
}

void
check_seccomp (struct check_ctx *x)
{
  static const char *const ops[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
  };
  const struct oci_seccomp *s = x->c->linux ? x->c->linux->seccomp : NULL;
  char path[128], ret_path[128];

  if (s == NULL)
    return;
  seccomp_action (x, s->default_action, s->has_default_errno_ret, s->default_errno_ret,
                  SC ".defaultAction", SC ".defaultErrnoRet");
  if (strcmp (s->default_action, "SCMP_ACT_NOTIFY") == 0)
    check_add (x, CHECK_ERROR, BERTH_E_VALUE, SC ".defaultAction",
               "SCMP_ACT_NOTIFY cannot be the default action");
  seccomp_flags (x, s);
  for (size_t i = 0; i < s->architectures_len; i++)
    if (!known_arch (s->architectures[i]))
      {
        CHECK_PATHF (path, SC ".architectures[%zu]", i);
        unknown (x, path, "architecture", s->architectures[i]);
      }
  for (size_t i = 0; i < s->syscalls_len; i++)
    {
      const struct oci_syscall *sc = &s->syscalls[i];
      CHECK_PATHF (path, SC ".syscalls[%zu].action", i);
      CHECK_PATHF (ret_path, SC ".syscalls[%zu].errnoRet", i);
      seccomp_action (x, sc->action, sc->has_errno_ret, sc->errno_ret, path, ret_path);
      if (strcmp (sc->action, "SCMP_ACT_NOTIFY") == 0
          && (s->listener_path == NULL || s->listener_path[0] == '\0'))
        /* config-linux.md: the runtime MUST error. */
        check_add (x, CHECK_ERROR, BERTH_E_MISSING, path, "SCMP_ACT_NOTIFY needs " SC
                   ".listenerPath");
      for (size_t j = 0; strcmp (sc->action, "SCMP_ACT_NOTIFY") == 0 && j < sc->names_len; j++)
        if (seccomp_notify_refusal (sc->names[j]))
          {
            CHECK_PATHF (path, SC ".syscalls[%zu].names[%zu]", i, j);
            check_add (x, CHECK_ERROR, BERTH_E_UNSUPPORTED, path, "%s",
                       seccomp_notify_refusal (sc->names[j]));
          }
      for (size_t j = 0; j < sc->names_len; j++)
        if (seccomp_syscall_resolve_name (sc->names[j]) == __NR_SCMP_ERROR)
          {
            /* Skipped by create, as runc does: a profile names syscalls
               of every architecture and kernel. */
            CHECK_PATHF (path, SC ".syscalls[%zu].names[%zu]", i, j);
            check_add (x, CHECK_WARNING, BERTH_E_VALUE, path,
                       "unknown syscall \"%s\" (libseccomp does not know it; skipped)",
                       sc->names[j]);
          }
      for (size_t j = 0; j < sc->args_len; j++)
        {
          CHECK_PATHF (path, SC ".syscalls[%zu].args[%zu].op", i, j);
          if (!in_set (sc->args[j].op, ops, ARRAY_LEN (ops)))
            unknown (x, path, "seccomp operator", sc->args[j].op);
          CHECK_PATHF (path, SC ".syscalls[%zu].args[%zu].index", i, j);
          if (sc->args[j].index > 5)
            check_add (x, CHECK_ERROR, BERTH_E_RANGE, path,
                       "%u is not a syscall argument index (0..5)", sc->args[j].index);
        }
    }
}
