/* Host-independent semantic checks of a parsed config (runtime-spec 1.3.0).
 *
 * Only rules the spec states as MUST, or values with a closed set of names,
 * are enforced here; anything that depends on the host (does the capability
 * exist, is the path there) is left to berth.  Each error names its path.
 */
#include "spec.h"

#include <stdio.h>
#include <stdlib.h>
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

static int
bad_value (struct berth_error *err, const char *path, const char *what, const char *value)
{
  return berth_err_at (err, BERTH_E_VALUE, path, "unknown %s \"%s\"", what, value);
}

bool
oci_version_supported (const char *v)
{
  char *end;
  unsigned long major, minor;

  if (v == NULL || *v < '0' || *v > '9')
    return false;
  major = strtoul (v, &end, 10);
  if (*end != '.' || end[1] < '0' || end[1] > '9')
    return false;
  minor = strtoul (end + 1, &end, 10);
  if (*end != '.' || end[1] < '0' || end[1] > '9')
    return false;
  strtoul (end + 1, &end, 10);
  if (*end != '\0' && *end != '-' && *end != '+')
    return false;
  if ((*end == '-' || *end == '+') && end[1] == '\0')
    return false;
  return major == 1 && minor <= 3;
}

static const char *const rlimit_names[] = {
  "RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE",
  "RLIMIT_LOCKS", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE",
  "RLIMIT_NPROC", "RLIMIT_RSS", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING",
  "RLIMIT_STACK",
};
static const char *const ns_types[] = {
  "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};
static const char *const sched_policies[] = {
  "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE",
  "SCHED_DEADLINE",
};
static const char *const sched_flags[] = {
  "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
  "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX",
};
static const char *const ioprio_classes[] = {
  "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE",
};
static const char *const propagations[] = {
  "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
};
static const char *const seccomp_actions[] = {
  "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
};
static const char *const seccomp_ops[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};
static const char *const personality_domains[] = { "LINUX", "LINUX32" };
static const char *const mempolicy_modes[] = {
  "MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
  "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL",
};
static const char *const mempolicy_flags[] = {
  "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES",
};
static const char *const time_clocks[] = { "boottime", "monotonic" };

#define PATHF(buf, ...) snprintf (buf, sizeof buf, __VA_ARGS__)

static int
validate_process (const struct oci_process *p, const char *base, struct berth_error *err)
{
  char path[160];

  if (p->cwd[0] != '/')
    {
      PATHF (path, "%s.cwd", base);
      return berth_err_at (err, BERTH_E_VALUE, path, "must be an absolute path, got \"%s\"",
                           p->cwd);
    }
  if (!p->has_args || p->args_len == 0)
    {
      PATHF (path, "%s.args", base);
      return berth_err_at (err, BERTH_E_MISSING, path,
                           "at least one argument (the program to run) is required");
    }
  for (size_t i = 0; i < p->rlimits_len; i++)
    {
      PATHF (path, "%s.rlimits[%zu].type", base, i);
      if (!in_set (p->rlimits[i].type, rlimit_names, ARRAY_LEN (rlimit_names)))
        return bad_value (err, path, "rlimit type", p->rlimits[i].type);
      for (size_t j = 0; j < i; j++)
        if (strcmp (p->rlimits[i].type, p->rlimits[j].type) == 0)
          return berth_err_at (err, BERTH_E_VALUE, path, "duplicate rlimit type \"%s\"",
                               p->rlimits[i].type);
      if (p->rlimits[i].soft > p->rlimits[i].hard)
        {
          PATHF (path, "%s.rlimits[%zu].soft", base, i);
          return berth_err_at (err, BERTH_E_VALUE, path,
                               "soft limit is greater than the hard limit");
        }
    }
  if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
    {
      PATHF (path, "%s.oomScoreAdj", base);
      return berth_err_at (err, BERTH_E_RANGE, path, "%d is outside -1000..1000",
                           (int) p->oom_score_adj);
    }
  if (p->scheduler)
    {
      PATHF (path, "%s.scheduler.policy", base);
      if (!in_set (p->scheduler->policy, sched_policies, ARRAY_LEN (sched_policies)))
        return bad_value (err, path, "scheduler policy", p->scheduler->policy);
      for (size_t i = 0; i < p->scheduler->flags_len; i++)
        {
          PATHF (path, "%s.scheduler.flags[%zu]", base, i);
          if (!in_set (p->scheduler->flags[i], sched_flags, ARRAY_LEN (sched_flags)))
            return bad_value (err, path, "scheduler flag", p->scheduler->flags[i]);
        }
    }
  if (p->io_priority)
    {
      PATHF (path, "%s.ioPriority.class", base);
      if (!in_set (p->io_priority->class, ioprio_classes, ARRAY_LEN (ioprio_classes)))
        return bad_value (err, path, "I/O priority class", p->io_priority->class);
      if (p->io_priority->priority < 0 || p->io_priority->priority > 7)
        {
          PATHF (path, "%s.ioPriority.priority", base);
          return berth_err_at (err, BERTH_E_RANGE, path, "%d is outside 0..7",
                               (int) p->io_priority->priority);
        }
    }
  return 0;
}

int
oci_process_validate (const struct oci_process *p, const char *base, struct berth_error *err)
{
  return validate_process (p, base ? base : "", err);
}

static int
validate_hooks (const struct oci_hooks *h, struct berth_error *err)
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
        if (k->path[0] != '/')
          {
            PATHF (path, ".hooks.%s[%zu].path", lists[l].name, i);
            return berth_err_at (err, BERTH_E_VALUE, path,
                                 "must be an absolute path, got \"%s\"", k->path);
          }
        if (k->has_timeout && k->timeout <= 0)
          {
            PATHF (path, ".hooks.%s[%zu].timeout", lists[l].name, i);
            return berth_err_at (err, BERTH_E_VALUE, path, "must be greater than zero");
          }
      }
  return 0;
}

static int
validate_resources (const struct oci_resources *r, struct berth_error *err)
{
  char path[128];

  for (size_t i = 0; i < r->devices_len; i++)
    {
      const struct oci_device_cgroup *d = &r->devices[i];
      if (d->type && strcmp (d->type, "a") && strcmp (d->type, "c") && strcmp (d->type, "b"))
        {
          PATHF (path, ".linux.resources.devices[%zu].type", i);
          return bad_value (err, path, "device type (want a, b or c)", d->type);
        }
      if (d->access && d->access[strspn (d->access, "rwm")] != '\0')
        {
          PATHF (path, ".linux.resources.devices[%zu].access", i);
          return bad_value (err, path, "device access (want letters of \"rwm\")", d->access);
        }
    }
  return 0;
}

static int
validate_linux (const struct oci_config *c, struct berth_error *err)
{
  const struct oci_linux *l = c->linux;
  char path[128];
  bool have_uts = false, have_user = false;

  for (size_t i = 0; i < l->namespaces_len; i++)
    {
      const char *t = l->namespaces[i].type;
      PATHF (path, ".linux.namespaces[%zu].type", i);
      if (!in_set (t, ns_types, ARRAY_LEN (ns_types)))
        return bad_value (err, path, "namespace type", t);
      for (size_t j = 0; j < i; j++)
        if (strcmp (t, l->namespaces[j].type) == 0)
          return berth_err_at (err, BERTH_E_VALUE, path, "duplicate namespace type \"%s\"", t);
      if (strcmp (t, "uts") == 0)
        have_uts = true;
      if (strcmp (t, "user") == 0)
        have_user = true;
      if (l->namespaces[i].path && l->namespaces[i].path[0] != '/')
        {
          PATHF (path, ".linux.namespaces[%zu].path", i);
          return berth_err_at (err, BERTH_E_VALUE, path, "must be an absolute path, got \"%s\"",
                               l->namespaces[i].path);
        }
    }
  if ((c->hostname && c->hostname[0]) && !have_uts)
    return berth_err_at (err, BERTH_E_VALUE, ".hostname",
                         "setting the hostname needs a new UTS namespace "
                         "(add {\"type\": \"uts\"} to .linux.namespaces)");
  if ((c->domainname && c->domainname[0]) && !have_uts)
    return berth_err_at (err, BERTH_E_VALUE, ".domainname",
                         "setting the domainname needs a new UTS namespace");
  if ((l->uid_mappings_len || l->gid_mappings_len) && !have_user)
    return berth_err_at (err, BERTH_E_VALUE,
                         l->uid_mappings_len ? ".linux.uidMappings" : ".linux.gidMappings",
                         "ID mappings need a user namespace in .linux.namespaces");
  for (size_t i = 0; i < l->devices_len; i++)
    {
      const struct oci_device *d = &l->devices[i];
      PATHF (path, ".linux.devices[%zu].type", i);
      if (strlen (d->type) != 1 || !strchr ("cbup", d->type[0]))
        return bad_value (err, path, "device type (want c, b, u or p)", d->type);
      if (d->type[0] != 'p' && (!d->has_major || !d->has_minor))
        {
          PATHF (path, ".linux.devices[%zu].%s", i, d->has_major ? "minor" : "major");
          return berth_err_at (err, BERTH_E_MISSING, path,
                               "required for a device of type \"%s\"", d->type);
        }
      if (d->path[0] != '/')
        {
          PATHF (path, ".linux.devices[%zu].path", i);
          return berth_err_at (err, BERTH_E_VALUE, path, "must be an absolute path, got \"%s\"",
                               d->path);
        }
    }
  if (l->rootfs_propagation && l->rootfs_propagation[0]
      && !in_set (l->rootfs_propagation, propagations, ARRAY_LEN (propagations)))
    return bad_value (err, ".linux.rootfsPropagation", "propagation", l->rootfs_propagation);
  for (size_t i = 0; i < l->time_offsets_len; i++)
    if (!in_set (l->time_offsets_keys[i], time_clocks, ARRAY_LEN (time_clocks)))
      {
        oci_path_key (path, sizeof path, ".linux.timeOffsets", l->time_offsets_keys[i]);
        return berth_err_at (err, BERTH_E_VALUE, path,
                             "unknown clock (want boottime or monotonic)");
      }
  if (l->seccomp)
    {
      const struct oci_seccomp *s = l->seccomp;
      if (!in_set (s->default_action, seccomp_actions, ARRAY_LEN (seccomp_actions)))
        return bad_value (err, ".linux.seccomp.defaultAction", "seccomp action",
                          s->default_action);
      for (size_t i = 0; i < s->syscalls_len; i++)
        {
          const struct oci_syscall *sc = &s->syscalls[i];
          PATHF (path, ".linux.seccomp.syscalls[%zu].action", i);
          if (!in_set (sc->action, seccomp_actions, ARRAY_LEN (seccomp_actions)))
            return bad_value (err, path, "seccomp action", sc->action);
          for (size_t j = 0; j < sc->args_len; j++)
            {
              PATHF (path, ".linux.seccomp.syscalls[%zu].args[%zu].op", i, j);
              if (!in_set (sc->args[j].op, seccomp_ops, ARRAY_LEN (seccomp_ops)))
                return bad_value (err, path, "seccomp operator", sc->args[j].op);
              if (sc->args[j].index > 5)
                {
                  PATHF (path, ".linux.seccomp.syscalls[%zu].args[%zu].index", i, j);
                  return berth_err_at (err, BERTH_E_RANGE, path,
                                       "%u is not a syscall argument index (0..5)",
                                       sc->args[j].index);
                }
            }
        }
    }
  if (l->personality
      && !in_set (l->personality->domain, personality_domains, ARRAY_LEN (personality_domains)))
    return bad_value (err, ".linux.personality.domain", "personality domain",
                      l->personality->domain);
  if (l->memory_policy)
    {
      if (!in_set (l->memory_policy->mode, mempolicy_modes, ARRAY_LEN (mempolicy_modes)))
        return bad_value (err, ".linux.memoryPolicy.mode", "memory policy mode",
                          l->memory_policy->mode);
      for (size_t i = 0; i < l->memory_policy->flags_len; i++)
        {
          PATHF (path, ".linux.memoryPolicy.flags[%zu]", i);
          if (!in_set (l->memory_policy->flags[i], mempolicy_flags, ARRAY_LEN (mempolicy_flags)))
            return bad_value (err, path, "memory policy flag", l->memory_policy->flags[i]);
        }
    }
  if (l->resources && validate_resources (l->resources, err) < 0)
    return -1;
  return 0;
}

int
oci_config_validate (const struct oci_config *c, struct berth_error *err)
{
  if (!oci_version_supported (c->oci_version))
    return berth_err_at (err, BERTH_E_VERSION, ".ociVersion",
                         "unsupported version \"%s\" (berth accepts 1.0.0 to 1.3.x)",
                         c->oci_version);
  if (c->root == NULL)
    return berth_err_at (err, BERTH_E_MISSING, ".root", "required property is missing");
  if (c->root->path[0] == '\0')
    return berth_err_at (err, BERTH_E_VALUE, ".root.path", "must not be empty");
  if (c->process && validate_process (c->process, ".process", err) < 0)
    return -1;
  for (size_t i = 0; i < c->mounts_len; i++)
    if (c->mounts[i].destination[0] == '\0')
      {
        char path[64];
        PATHF (path, ".mounts[%zu].destination", i);
        return berth_err_at (err, BERTH_E_VALUE, path, "must not be empty");
      }
  if (c->hooks && validate_hooks (c->hooks, err) < 0)
    return -1;
  if (c->linux && validate_linux (c, err) < 0)
    return -1;
  if (c->linux == NULL && c->hostname && c->hostname[0])
    return berth_err_at (err, BERTH_E_VALUE, ".hostname",
                         "setting the hostname needs a new UTS namespace");
  return 0;
}
