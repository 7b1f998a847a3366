/* See sysctl.h. */
#include "init/sysctl.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

const char *
sysctl_namespace (const char *key)
{
  static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                     "kernel.sem", "kernel.shmall", "kernel.shmmax",
                                     "kernel.shmmni", "kernel.shm_rmid_forced" };
  for (size_t i = 0; i < sizeof ipc / sizeof ipc[0]; i++)
    if (strcmp (key, ipc[i]) == 0)
      return "ipc";
  if (strncmp (key, "fs.mqueue.", 10) == 0)
    return "ipc";
  if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
    return "uts";
  if (strncmp (key, "net.", 4) == 0)
    return "network";
  return NULL;
}

static bool
has_ns (const struct oci_config *c, const char *type)
{
  for (size_t i = 0; c->linux && i < c->linux->namespaces_len; i++)
    if (strcmp (c->linux->namespaces[i].type, type) == 0)
      return true;
  return false;
}

int
sysctl_validate (const struct oci_config *c, size_t i, struct berth_reporter *rep)
{
  const char *key = c->linux->sysctl_keys[i], *ns = sysctl_namespace (key);
  char path[300];
  int r = 0;

  oci_path_key (path, sizeof path, ".linux.sysctl", key);
  if (strstr (key, "..") || strchr (key, '/') || key[0] == '\0')
    r = berth_reporter_at (rep, BERTH_E_VALUE, path, "invalid sysctl name \"%s\"", key);
  else if (ns == NULL)
    r = berth_reporter_at (rep, BERTH_E_VALUE, path,
                           "sysctl \"%s\" is not namespaced: setting it would change the host",
                           key);
  else if (!has_ns (c, ns))
    r = berth_reporter_at (rep, BERTH_E_VALUE, path,
                           "sysctl \"%s\" needs the container to have its own %s namespace", key,
                           ns);
  else
    return 0;
  return r < 0 ? -1 : 1;
}
