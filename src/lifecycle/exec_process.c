/* berth — `exec`: the process to run (see exec_process.h). */
#include "lifecycle/exec_process.h"
#include "cleanup.h"
#include "init/process.h"
#include "security/seccomp.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int
oom (struct berth_error *err)
{
  return berth_err_sys (err, ENOMEM, "out of memory");
}

static int
strv_push (char ***v, size_t *n, const char *s, struct berth_error *err)
{
  char **nv = realloc (*v, (*n + 2) * sizeof (char *));
  if (nv == NULL)
    return oom (err);
  *v = nv;
  if ((nv[*n] = strdup (s)) == NULL)
    return oom (err);
  nv[++*n] = NULL;
  return 0;
}

/* runc's --env: K=V added, a later K replacing an earlier one. */
static int
env_set (struct oci_process *p, const char *kv, struct berth_error *err)
{
  const char *eq = strchr (kv, '=');
  size_t klen = eq ? (size_t) (eq - kv) : 0;

  if (eq == NULL || klen == 0)
    return berth_err (err, BERTH_E_USAGE, "invalid --env value \"%s\" (want KEY=VALUE)", kv);
  for (size_t i = 0; i < p->env_len; i++)
    if (strncmp (p->env[i], kv, klen + 1) == 0)
      {
        char *s = strdup (kv);
        if (s == NULL)
          return oom (err);
        free (p->env[i]);
        p->env[i] = s;
        return 0;
      }
  p->has_env = true;
  return strv_push (&p->env, &p->env_len, kv, err);
}

/* "net_admin" and "NET_ADMIN" mean CAP_NET_ADMIN; the name is checked later
   with the others (unknown ones are skipped with a warning). */
static int
add_cap (struct oci_capabilities *c, const char *name, struct berth_error *err)
{
  char full[64];
  size_t off = strncasecmp (name, "CAP_", 4) == 0 ? 0 : 4;

  if (strlen (name) + off >= sizeof full)
    return berth_err (err, BERTH_E_USAGE, "invalid --cap value \"%s\"", name);
  memcpy (full, "CAP_", 4);
  for (size_t i = 0; name[i]; i++)
    full[off + i] = (char) (name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
  full[off + strlen (name)] = '\0';
  c->has_bounding = c->has_effective = c->has_permitted = true;
  if (strv_push (&c->bounding, &c->bounding_len, full, err) < 0
      || strv_push (&c->effective, &c->effective_len, full, err) < 0
      || strv_push (&c->permitted, &c->permitted_len, full, err) < 0)
    return -1;
  /* As runc: ambient only when the config has an inheritable set, since the
     kernel refuses ambient bits that are not inheritable. */
  if (c->has_inheritable)
    {
      c->has_ambient = true;
      return strv_push (&c->ambient, &c->ambient_len, full, err);
    }
  return 0;
}

/* runc's getProcess: the config's process, args replaced, flags on top. */
static int
apply_overrides (struct oci_process *p, const struct exec_options *o, struct berth_error *err)
{
  for (size_t i = 0; i < p->args_len; i++)
    free (p->args[i]);
  free (p->args);
  p->args = NULL;
  p->args_len = 0;
  p->has_args = true;
  for (size_t i = 0; i < o->n_args; i++)
    if (strv_push (&p->args, &p->args_len, o->args[i], err) < 0)
      return -1;
  /* As runc: no tty unless asked for, whatever the config's process says. */
  OCI_SET (p, terminal, o->tty);
  if (o->cwd && o->cwd[0] != '/')
    return berth_err (err, BERTH_E_USAGE, "--cwd must be an absolute path, got \"%s\"", o->cwd);
  if (o->cwd)
    {
      free (p->cwd);
      if ((p->cwd = strdup (o->cwd)) == NULL)
        return oom (err);
    }
  for (size_t i = 0; i < o->n_env; i++)
    if (env_set (p, o->env[i], err) < 0)
      return -1;
  if (o->user_set)
    p->user->uid = o->uid;
  if (o->gid_set)
    p->user->gid = o->gid;
  if (o->n_additional_gids)
    {
      size_t n = p->user->additional_gids_len;
      uint32_t *g = realloc (p->user->additional_gids,
                             (n + o->n_additional_gids) * sizeof (uint32_t));
      if (g == NULL)
        return oom (err);
      memcpy (g + n, o->additional_gids, o->n_additional_gids * sizeof (uint32_t));
      OCI_SET (p->user, additional_gids, g);
      p->user->additional_gids_len = n + o->n_additional_gids;
    }
  if (o->n_caps && p->capabilities == NULL
      && (p->capabilities = calloc (1, sizeof *p->capabilities)) == NULL)
    return oom (err);
  p->has_capabilities = p->capabilities != NULL;
  for (size_t i = 0; i < o->n_caps; i++)
    if (add_cap (p->capabilities, o->caps[i], err) < 0)
      return -1;
  if (o->no_new_privs)
    OCI_SET (p, no_new_privileges, true);
  if (o->apparmor && o->apparmor[0])
    {
      free (p->apparmor_profile);
      OCI_SET (p, apparmor_profile, strdup (o->apparmor));
    }
  if (o->process_label && o->process_label[0])
    {
      free (p->selinux_label);
      OCI_SET (p, selinux_label, strdup (o->process_label));
    }
  return 0;
}

/* -p FILE as runc reads it: any file, a pipe such as /dev/stdin included
   (config.json must be a regular file; this need not).  A named FIFO
   blocks until it has a writer, as with runc.  A process without `user`
   runs as root (Go's zero value to runc, and engines send such files):
   the process type, with `user` optional. */
static int
parse_process_file (const char *path, void **out, struct berth_error *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct oci_field fields[oci_type_process.n_fields];
  struct oci_type type = oci_type_process;
  struct oci_process *p;
  struct oci_user *root;

  if (fd < 0)
    return berth_err_sys (err, errno, "open %s", path);
  memcpy (fields, oci_type_process.fields, sizeof fields);
  for (size_t i = 0; i < type.n_fields; i++)
    if (strcmp (fields[i].key, "user") == 0)
      fields[i].required = 0;
  type.fields = fields;
  if (oci_parse_stream (&type, fd, "process.json", out, err) < 0)
    return -1;
  p = *out;
  if (p->has_user)
    return 0;
  if ((root = calloc (1, sizeof *root)) == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  OCI_SET (root, uid, 0);
  OCI_SET (root, gid, 0);
  OCI_SET (p, user, root);
  return 0;
}

int
exec_load_process (const struct berth_runtime *rt, const struct container *c,
              const struct exec_options *o, struct oci_config **config,
              struct berth_seccomp **seccomp, struct oci_process **out, struct berth_error *err)
{
  void *obj = NULL;

  if (container_config (c, config, err) < 0)
    return -1;
  if ((*config)->linux && (*config)->linux->seccomp)
    {
      /* As create compiled it; the cache under --root makes this cheap. */
      struct seccomp_cache cache = { .root = rt->root, .berth_version = BERTH_VERSION };
      if (seccomp_compile ((*config)->linux->seccomp, &cache, seccomp, err) < 0)
        {
          berth_err_set_source (err, "config.json");
          return -1;
        }
    }
  if (o->process_file)
    {
      if (parse_process_file (o->process_file, &obj, err) < 0)
        return -1;
      *out = obj;
      if (oci_process_validate (obj, "", err) < 0
          || process_check (obj, "", (*config)->linux, err) < 0)
        {
          berth_err_set_source (err, "process.json");
          return -1;
        }
      return 0;
    }
  if ((*config)->process == NULL)
    return berth_err (err, BERTH_E_STATE, "the container's config has no process");
  *out = steal_pointer (&(*config)->process);
  (*config)->has_process = false;
  /* The config's own process was checked at create; --apparmor and
     --process-label may have added labels. */
  return apply_overrides (*out, o, err) < 0 ? -1 : process_check (*out, ".process", NULL, err);
}
