/* `exec --cgroup`: see exec_cgroup.h for the contract. */
#include "lifecycle/exec_cgroup.h"
#include "cleanup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
oom (struct berth_error *err)
{
  return berth_err_sys (err, ENOMEM, "out of memory");
}

/* paths[d] gets a malloc'd path for directory d of `cg`, or stays NULL
   where the container's cgroup is kept. */
static int
set_sub_path (const struct berth_cgroup_dir *dir, const char *arg, const char *sub,
              char **path, struct berth_error *err)
{
  char *want;
  bool same;

  if (asprintf (&want, "%s/%s", dir->path, sub) < 0)
    return oom (err);
  if (*path == NULL)
    {
      *path = want;
      if (access (want, F_OK) < 0)
        return berth_err_sys (err, errno, "--cgroup %s: %s", arg, want);
      return 0;
    }
  same = strcmp (*path, want) == 0; /* "cpu,cpuacct:x" may name one hierarchy twice */
  free (want);
  return same ? 0 : berth_err (err, BERTH_E_USAGE, "--cgroup %s: hierarchy %s already has a path",
                               arg, dir->controller);
}

static int
sub_cgroups (const struct berth_cgroup *cg, char *const *args, size_t n, char **paths,
             struct berth_error *err)
{
  for (size_t i = 0; i < n; i++)
    {
      const char *arg = args[i], *colon = strchr (arg, ':');
      const char *sub = colon ? colon + 1 : arg;
      cleanup_free char *ctrls = colon ? strndup (arg, (size_t) (colon - arg)) : NULL;
      char *save = NULL;
      size_t len;

      if (colon && ctrls == NULL)
        return oom (err);
      if ((colon && strchr (sub, ':')) || (!colon && n != 1))
        return berth_err (err, BERTH_E_USAGE, "invalid --cgroup argument: %s%s", arg,
                          colon ? "" : " (missing <controller>: prefix)");
      if (colon && cg->mode == BERTH_CGROUP_V2)
        return berth_err (err, BERTH_E_USAGE,
                          "--cgroup %s: cgroup v2 has one hierarchy; give the path alone", arg);
      /* "/" is the container's cgroup itself, as for runc. */
      while (*sub == '/')
        sub++;
      len = strlen (sub);
      if (strcmp (sub, "..") == 0 || strncmp (sub, "../", 3) == 0 || strstr (sub, "/../")
          || (len >= 3 && strcmp (sub + len - 3, "/..") == 0))
        return colon ? berth_err (err, BERTH_E_USAGE, "--cgroup %s: %s is not a sub cgroup path",
                                  arg, sub)
                     : berth_err (err, BERTH_E_USAGE, "--cgroup: %s is not a sub cgroup path", arg);
      for (size_t d = 0; !colon && d < cg->n_dirs; d++)
        if (set_sub_path (&cg->dirs[d], arg, sub, &paths[d], err) < 0)
          return -1;
      for (char *w = colon ? strtok_r (ctrls, ",", &save) : NULL; w;
           w = strtok_r (NULL, ",", &save))
        {
          const char *dir = cgroup_dir (cg, w);
          size_t d = 0;
          if (dir == NULL)
            return berth_err (err, BERTH_E_USAGE,
                              "--cgroup %s: the container has no cgroup for controller %s",
                              arg, w);
          while (cg->dirs[d].path != dir)
            d++;
          if (set_sub_path (&cg->dirs[d], arg, sub, &paths[d], err) < 0)
            return -1;
        }
    }
  return 0;
}

int
exec_cgroup_place (const struct berth_cgroup *container, char *const *args, size_t n,
                   struct exec_cgroup *out, struct berth_error *err)
{
  struct berth_cgroup_dir *dirs;

  out->cg = (struct berth_cgroup){ .mode = container->mode, .n_dirs = container->n_dirs };
  out->paths = calloc (container->n_dirs + 1, sizeof (char *));
  out->cg.dirs = dirs = calloc (container->n_dirs + 1, sizeof (struct berth_cgroup_dir));
  if (out->paths == NULL || dirs == NULL)
    return oom (err);
  if (sub_cgroups (container, args, n, out->paths, err) < 0)
    return -1;
  for (size_t d = 0; d < container->n_dirs; d++)
    {
      dirs[d] = container->dirs[d];
      if (out->paths[d])
        dirs[d].path = out->paths[d];
    }
  return 0;
}

void
exec_cgroup_free (struct exec_cgroup *ec)
{
  for (size_t d = 0; ec->paths && d < ec->cg.n_dirs; d++)
    free (ec->paths[d]);
  free (ec->paths);
  free (ec->cg.dirs);
  ec->paths = NULL;
  ec->cg.dirs = NULL;
}
