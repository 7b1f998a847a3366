/* Host-independent semantic checks of a parsed config (runtime-spec 1.3.0).
 *
 * Only rules the spec states as MUST, or values with a closed set of names,
 * are enforced here; anything that depends on the host (does the capability
 * exist, is the path there) is left to berth.  Each error names its path.
 * The rules report through a berth_reporter: create stops at the first
 * problem, `berth check` collects them all from these same rules.  Not
 * here, because berth's own modules must map the names to numbers anyway
 * and refuse what they cannot map: seccomp (seccomp_validate(), with
 * libseccomp), the scheduler and ioPriority (sched_plan_make()), the
 * memory policy (mempolicy_plan()), the personality (process_personality()),
 * the mounts and rootfsPropagation (mount_validate_config()).
 */
#include "spec.h"

#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
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
bad_value (struct berth_reporter *rep, const char *path, const char *what, const char *value)
{
  return berth_reporter_at (rep, BERTH_E_VALUE, path, "unknown %s \"%s\"", what, value);
}

#define UNKNOWN(path, what, value)                                                           \
  do                                                                                         \
    {                                                                                        \
      if (bad_value (rep, path, what, value) < 0)                                            \
        return -1;                                                                           \
    }                                                                                        \
  while (0)
#define NOT_ABSOLUTE(path, value) BERTH_REPORT (BERTH_E_VALUE, path, "must be an absolute path, got \"%s\"", value)

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

static const struct {
  const char *name;
  int resource;
} rlimits[] = {
  { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

int
oci_rlimit_resource (const char *name)
{
  for (size_t i = 0; i < ARRAY_LEN (rlimits); i++)
    if (strcmp (name, rlimits[i].name) == 0)
      return rlimits[i].resource;
  return -1;
}

size_t
oci_hook_lists (const struct oci_hooks *h, struct oci_hook_list out[OCI_HOOK_KINDS])
{
  const struct oci_hook_list lists[OCI_HOOK_KINDS] = {
    { "prestart", h ? h->prestart : NULL, h ? h->prestart_len : 0 },
    { "createRuntime", h ? h->create_runtime : NULL, h ? h->create_runtime_len : 0 },
    { "createContainer", h ? h->create_container : NULL, h ? h->create_container_len : 0 },
    { "startContainer", h ? h->start_container : NULL, h ? h->start_container_len : 0 },
    { "poststart", h ? h->poststart : NULL, h ? h->poststart_len : 0 },
    { "poststop", h ? h->poststop : NULL, h ? h->poststop_len : 0 },
  };
  memcpy (out, lists, sizeof lists);
  return OCI_HOOK_KINDS;
}

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
  const char *name;
  int flag;
} namespaces[] = {
  /* In the order `berth features` lists them. */
  { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC },   { "mount", CLONE_NEWNS },
  { "network", CLONE_NEWNET },   { "pid", CLONE_NEWPID },   { "time", CLONE_NEWTIME },
  { "user", CLONE_NEWUSER },     { "uts", CLONE_NEWUTS },
};

const char *
oci_namespace_name (size_t i)
{
  return i < ARRAY_LEN (namespaces) ? namespaces[i].name : NULL;
}

int
oci_namespace_flag (const char *type)
{
  for (size_t i = 0; i < ARRAY_LEN (namespaces); i++)
    if (strcmp (type, namespaces[i].name) == 0)
      return namespaces[i].flag;
  return -1;
}

const char *
oci_namespace_type (int flag)
{
  for (size_t i = 0; i < ARRAY_LEN (namespaces); i++)
    if (flag == namespaces[i].flag)
      return namespaces[i].name;
  return NULL;
}
static const char *const time_clocks[] = { "boottime", "monotonic" };

#define PATHF(buf, ...) snprintf (buf, sizeof buf, __VA_ARGS__)

static int
validate_process (const struct oci_process *p, const char *base, struct berth_reporter *rep)
{
  char path[160];

  PATHF (path, "%s.cwd", base);
  if (p->cwd[0] != '/')
    NOT_ABSOLUTE (path, p->cwd);
  PATHF (path, "%s.args", base);
  if (!p->has_args || p->args_len == 0)
    BERTH_REPORT (BERTH_E_MISSING, path, "at least one argument (the program to run) is required");
  for (size_t i = 0; i < p->rlimits_len; i++)
    {
      PATHF (path, "%s.rlimits[%zu].type", base, i);
      if (oci_rlimit_resource (p->rlimits[i].type) < 0)
        UNKNOWN (path, "rlimit type", p->rlimits[i].type);
      for (size_t j = 0; j < i; j++)
        if (strcmp (p->rlimits[i].type, p->rlimits[j].type) == 0)
          {
            BERTH_REPORT (BERTH_E_VALUE, path, "duplicate rlimit type \"%s\"", p->rlimits[i].type);
            break;
          }
      PATHF (path, "%s.rlimits[%zu].soft", base, i);
      if (p->rlimits[i].soft > p->rlimits[i].hard)
        BERTH_REPORT (BERTH_E_VALUE, path, "soft limit is greater than the hard limit");
    }
  PATHF (path, "%s.oomScoreAdj", base);
  if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
    BERTH_REPORT (BERTH_E_RANGE, path, "%d is outside -1000..1000", (int) p->oom_score_adj);
  return 0;
}

int
oci_process_report (const struct oci_process *p, const char *base, struct berth_reporter *rep)
{
  return validate_process (p, base ? base : "", rep);
}

int
oci_process_validate (const struct oci_process *p, const char *base, struct berth_error *err)
{
  struct berth_reporter rep = { .err = err };
  return oci_process_report (p, base, &rep);
}

static int
validate_hooks (const struct oci_hooks *h, struct berth_reporter *rep)
{
  struct oci_hook_list lists[OCI_HOOK_KINDS];
  char path[128];

  oci_hook_lists (h, lists);
  for (size_t l = 0; l < OCI_HOOK_KINDS; l++)
    for (size_t i = 0; i < lists[l].n; i++)
      {
        const struct oci_hook *k = &lists[l].v[i];
        PATHF (path, ".hooks.%s[%zu].path", lists[l].name, i);
        if (k->path[0] != '/')
          NOT_ABSOLUTE (path, k->path);
        PATHF (path, ".hooks.%s[%zu].timeout", lists[l].name, i);
        if (k->has_timeout && k->timeout <= 0)
          BERTH_REPORT (BERTH_E_VALUE, path, "must be greater than zero");
      }
  return 0;
}

static int
validate_resources (const struct oci_resources *r, struct berth_reporter *rep)
{
  char path[128];

  for (size_t i = 0; i < r->devices_len; i++)
    {
      const struct oci_device_cgroup *d = &r->devices[i];
      PATHF (path, ".linux.resources.devices[%zu].type", i);
      if (d->type && strcmp (d->type, "a") && strcmp (d->type, "c") && strcmp (d->type, "b"))
        UNKNOWN (path, "device type (want a, b or c)", d->type);
      PATHF (path, ".linux.resources.devices[%zu].access", i);
      if (d->access && d->access[strspn (d->access, "rwm")] != '\0')
        UNKNOWN (path, "device access (want letters of \"rwm\")", d->access);
    }
  return 0;
}

static int
validate_namespaces (const struct oci_linux *l, bool *uts, bool *user,
                     struct berth_reporter *rep)
{
  char path[128];

  for (size_t i = 0; i < l->namespaces_len; i++)
    {
      const char *t = l->namespaces[i].type;
      PATHF (path, ".linux.namespaces[%zu].type", i);
      if (oci_namespace_flag (t) < 0)
        UNKNOWN (path, "namespace type", t);
      for (size_t j = 0; j < i; j++)
        if (strcmp (t, l->namespaces[j].type) == 0)
          {
            BERTH_REPORT (BERTH_E_VALUE, path, "duplicate namespace type \"%s\"", t);
            break;
          }
      *uts |= strcmp (t, "uts") == 0;
      *user |= strcmp (t, "user") == 0;
      PATHF (path, ".linux.namespaces[%zu].path", i);
      if (l->namespaces[i].path && l->namespaces[i].path[0] != '/')
        NOT_ABSOLUTE (path, l->namespaces[i].path);
    }
  return 0;
}

static int
validate_devices (const struct oci_linux *l, struct berth_reporter *rep)
{
  char path[128];

  for (size_t i = 0; i < l->devices_len; i++)
    {
      const struct oci_device *d = &l->devices[i];
      PATHF (path, ".linux.devices[%zu].type", i);
      if (strlen (d->type) != 1 || !strchr ("cbup", d->type[0]))
        UNKNOWN (path, "device type (want c, b, u or p)", d->type);
      else if (d->type[0] != 'p' && (!d->has_major || !d->has_minor))
        {
          PATHF (path, ".linux.devices[%zu].%s", i, d->has_major ? "minor" : "major");
          BERTH_REPORT (BERTH_E_MISSING, path, "required for a device of type \"%s\"", d->type);
        }
      PATHF (path, ".linux.devices[%zu].path", i);
      if (d->path[0] != '/')
        NOT_ABSOLUTE (path, d->path);
    }
  return 0;
}

static int
validate_linux (const struct oci_config *c, struct berth_reporter *rep)
{
  const struct oci_linux *l = c->linux;
  char path[300];
  bool have_uts = false, have_user = false;

  if (validate_namespaces (l, &have_uts, &have_user, rep) < 0)
    return -1;
  if ((c->hostname && c->hostname[0]) && !have_uts)
    BERTH_REPORT (BERTH_E_VALUE, ".hostname",
            "setting the hostname needs a new UTS namespace "
            "(add {\"type\": \"uts\"} to .linux.namespaces)");
  if ((c->domainname && c->domainname[0]) && !have_uts)
    BERTH_REPORT (BERTH_E_VALUE, ".domainname", "setting the domainname needs a new UTS namespace");
  if (l->uid_mappings_len && !have_user)
    BERTH_REPORT (BERTH_E_VALUE, ".linux.uidMappings",
            "ID mappings need a user namespace in .linux.namespaces");
  if (l->gid_mappings_len && !have_user)
    BERTH_REPORT (BERTH_E_VALUE, ".linux.gidMappings",
            "ID mappings need a user namespace in .linux.namespaces");
  if (validate_devices (l, rep) < 0)
    return -1;
  for (size_t i = 0; i < l->time_offsets_len; i++)
    if (!in_set (l->time_offsets_keys[i], time_clocks, ARRAY_LEN (time_clocks)))
      {
        oci_path_key (path, sizeof path, ".linux.timeOffsets", l->time_offsets_keys[i]);
        BERTH_REPORT (BERTH_E_VALUE, path, "unknown clock (want boottime or monotonic)");
      }
  if (l->resources && validate_resources (l->resources, rep) < 0)
    return -1;
  return 0;
}

int
oci_config_report (const struct oci_config *c, struct berth_reporter *rep)
{
  if (!oci_version_supported (c->oci_version))
    BERTH_REPORT (BERTH_E_VERSION, ".ociVersion",
            "unsupported version \"%s\" (berth accepts 1.0.0 to 1.3.x)", c->oci_version);
  if (c->root == NULL)
    BERTH_REPORT (BERTH_E_MISSING, ".root", "required property is missing");
  else if (c->root->path[0] == '\0')
    BERTH_REPORT (BERTH_E_VALUE, ".root.path", "must not be empty");
  if (c->process && validate_process (c->process, ".process", rep) < 0)
    return -1;
  for (size_t i = 0; i < c->mounts_len; i++)
    if (c->mounts[i].destination[0] == '\0')
      {
        char path[64];
        PATHF (path, ".mounts[%zu].destination", i);
        BERTH_REPORT (BERTH_E_VALUE, path, "must not be empty");
      }
  if (c->hooks && validate_hooks (c->hooks, rep) < 0)
    return -1;
  if (c->linux && validate_linux (c, rep) < 0)
    return -1;
  if (c->linux == NULL && c->hostname && c->hostname[0])
    BERTH_REPORT (BERTH_E_VALUE, ".hostname", "setting the hostname needs a new UTS namespace");
  return 0;
}

int
oci_config_validate (const struct oci_config *c, struct berth_error *err)
{
  struct berth_reporter rep = { .err = err };
  return oci_config_report (c, &rep);
}
