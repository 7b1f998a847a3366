/* See sysctl.h. */
#include "init/sysctl.h"

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
