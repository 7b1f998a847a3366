/* Mounts left in the host's mount namespace: see hostmounts.h. */
#include "fs/hostmounts.h"
#include "cleanup.h"
#include "base/utils.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

/* Calls `each` with the id and the unescaped mount point of every line of
   this process' mountinfo; stops when it returns < 0. */
static int
each_mount (int (*each) (void *, uint64_t, const char *), void *data, struct berth_error *err)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;

  if (f == NULL)
    return berth_err_sys (err, errno, "open /proc/self/mountinfo");
  while (getline (&line, &cap, f) > 0)
    {
      char *save = NULL, *id = strtok_r (line, " ", &save), *mp = NULL;
      for (int k = 1; k <= 4 && id; k++)
        mp = strtok_r (NULL, " ", &save);
      if (id == NULL || mp == NULL)
        continue;
      mountinfo_unescape (mp);
      if (each (data, strtoull (id, NULL, 10), mp) < 0)
        return -1;
    }
  return 0;
}

static int
add_id (void *data, uint64_t id, const char *mp)
{
  struct hostmounts_snapshot *s = data;
  uint64_t *v = realloc (s->ids, (s->n + 1) * sizeof *v);
  (void) mp;
  if (v == NULL)
    return -1;
  s->ids = v;
  s->ids[s->n++] = id;
  return 0;
}

int
hostmounts_snapshot (struct hostmounts_snapshot *s, struct berth_error *err)
{
  *s = (struct hostmounts_snapshot){ NULL, 0 };
  if (each_mount (add_id, s, err) < 0)
    {
      hostmounts_snapshot_free (s);
      return err->msg[0] ? -1 : berth_err_sys (err, ENOMEM, "out of memory");
    }
  return 0;
}

void
hostmounts_snapshot_free (struct hostmounts_snapshot *s)
{
  free (s->ids);
  *s = (struct hostmounts_snapshot){ NULL, 0 };
}

struct collect {
  const struct hostmounts_snapshot *before;
  const char *dir;
  char **v;
  size_t n;
};

static bool
within (const char *p, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

static int
add_new (void *data, uint64_t id, const char *mp)
{
  struct collect *c = data;
  char **v;

  for (size_t i = 0; i < c->before->n; i++)
    if (c->before->ids[i] == id)
      return 0;
  if (!within (mp, c->dir))
    return 0;
  if ((v = realloc (c->v, (c->n + 1) * sizeof *v)) == NULL)
    return -1;
  c->v = v;
  if (asprintf (&c->v[c->n], "%" PRIu64 " %s", id, mp) < 0)
    return -1;
  c->n++;
  return 0;
}

int
hostmounts_new_within (const struct hostmounts_snapshot *s, const char *dir, char ***out,
                       size_t *n, struct berth_error *err)
{
  struct collect c = { s, dir, NULL, 0 };

  if (each_mount (add_new, &c, err) < 0)
    {
      for (size_t i = 0; i < c.n; i++)
        free (c.v[i]);
      free (c.v);
      return err->msg[0] ? -1 : berth_err_sys (err, ENOMEM, "out of memory");
    }
  *out = c.v;
  *n = c.n;
  return 0;
}

struct present {
  uint64_t id;
  const char *path;
  bool found;
};

static int
is_present (void *data, uint64_t id, const char *mp)
{
  struct present *p = data;
  if (id == p->id && strcmp (mp, p->path) == 0)
    p->found = true;
  return 0;
}

int
hostmounts_unmount (char *const *v, size_t n, struct berth_error *err)
{
  int r = 0;

  for (size_t i = n; i-- > 0;)
    {
      char *end;
      struct present p = { strtoull (v[i], &end, 10), end + 1, false };
      if (*end != ' ' || each_mount (is_present, &p, err) < 0)
        continue;
      /* No symlink followed: the mount point is where mountinfo says. */
      if (p.found && umount2 (p.path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL
          && errno != ENOENT && r == 0)
        r = berth_err_sys (err, errno, "unmount %s", p.path);
    }
  return r;
}
