/* berth — state and list: runc's state document for one container, or for
 * every container under the root. */
#include "lifecycle/container.h"
#include "lifecycle/container_priv.h"
#include "cgroup/cgroup.h"
#include "cgroup/driver.h"
#include "cleanup.h"
#include "spec.h"
#include "lifecycle/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

OCI_DEFINE_TYPE (runc_state)

static int
to_runc_state (const struct oci_berth_state *s, const char *status, const char *owner,
               struct oci_runc_state **out, struct berth_error *err)
{
  struct oci_runc_state *r = calloc (1, sizeof *r);
  bool stopped = strcmp (status, "stopped") == 0;

  if (r == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  OCI_SET (r, oci_version, strdup (OCI_SPEC_VERSION));
  OCI_SET (r, id, strdup (s->id));
  OCI_SET (r, pid, stopped ? 0 : s->pid);
  OCI_SET (r, status, strdup (status));
  OCI_SET (r, bundle, strdup (s->bundle));
  OCI_SET (r, rootfs, strdup (s->rootfs ? s->rootfs : ""));
  OCI_SET (r, created, strdup (s->created ? s->created : ""));
  OCI_SET (r, owner, strdup (owner));
  if (s->annotations_len)
    {
      r->annotations_keys = calloc (s->annotations_len + 1, sizeof (char *));
      r->annotations = calloc (s->annotations_len + 1, sizeof (char *));
      r->annotations_len = s->annotations_len;
      r->has_annotations = true;
      for (size_t i = 0; r->annotations_keys && r->annotations && i < s->annotations_len; i++)
        {
          r->annotations_keys[i] = strdup (s->annotations_keys[i]);
          r->annotations[i] = strdup (s->annotations[i]);
        }
    }
  *out = r;
  return 0;
}

void
container_state_free (struct oci_runc_state *s)
{
  oci_free (&oci_type_runc_state, s);
}

int
container_state (const struct berth_runtime *rt, const char *id, struct oci_runc_state **out,
                 struct berth_error *err)
{
  cleanup_state_handle struct state_handle h = { -1, -1, NULL };
  cleanup_state struct oci_berth_state *s = NULL;
  const char *status;

  if (container_load_with_status (rt, id, &h, &s, &status, err) < 0)
    return -1;
  return to_runc_state (s, status, "", out, err);
}

static int
compare_ids (const void *a, const void *b)
{
  const struct oci_runc_state *x = *(struct oci_runc_state *const *) a;
  const struct oci_runc_state *y = *(struct oci_runc_state *const *) b;
  return strcmp (x->id, y->id);
}

/* The name /etc/passwd gives `uid`, read as runc's list reads it (its
   own parser, not NSS): a static berth has no NSS modules to load.  Any
   length, as runc's: useradd allows 32 bytes, a directory service more.
   NULL when there is none (or no memory for it). */
static char *
passwd_name (uid_t uid)
{
  cleanup_free char *line = NULL;
  size_t cap = 0;
  char *found = NULL;
  FILE *f = fopen ("/etc/passwd", "re");

  while (f && !found && getline (&line, &cap, f) > 0)
    {
      /* name:password:uid:...; strsep keeps an empty password field. */
      char *rest = line, *user = strsep (&rest, ":"), *end;
      const char *id = rest && strsep (&rest, ":") && rest ? strsep (&rest, ":") : NULL;
      unsigned long v;

      if (id == NULL || *user == '\0' || *user == '+' || *user == '-')
        continue;
      errno = 0;
      v = strtoul (id, &end, 10);
      if (errno == 0 && end != id && *end == '\0' && v == uid)
        found = strdup (user);
    }
  if (f)
    fclose (f);
  return found;
}

int
container_list (const struct berth_runtime *rt, struct oci_runc_state ***out, size_t *count,
                struct berth_error *err)
{
  cleanup_closedir DIR *d = opendir (rt->root);
  struct oci_runc_state **v = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  /* The owner's name, looked up once per uid in a row: the state root
     is usually all one user's, and each lookup reads /etc/passwd. */
  uid_t owner_uid = (uid_t) -1;
  cleanup_free char *owner = NULL;

  *out = NULL;
  *count = 0;
  if (d == NULL)
    return errno == ENOENT ? 0 : berth_err_sys (err, errno, "open %s", rt->root);
  while ((de = readdir (d)) != NULL)
    {
      struct oci_berth_state *s = NULL;
      struct berth_cgroup cg = { 0 };
      struct berth_error ignored = { 0 };
      struct oci_runc_state *r = NULL;
      const char *status;
      uid_t uid;
      int bad;

      if (de->d_name[0] == '.' || state_validate_id (de->d_name, &ignored) < 0)
        continue;
      /* Without the lock, and without opening the container's directory:
         state.json is replaced atomically. */
      if (state_peek (dirfd (d), de->d_name, &s, &status, &uid, &ignored) < 0)
        {
          state_free (s);
          continue;
        }
      /* Only a running container can be paused: its cgroup is read then. */
      if (strcmp (status, "running") == 0
          && cgroup_from_strv (s->cgroups, s->cgroups_len, &cg, &ignored) == 0)
        {
          if (cgroup_driver_of (&cg)->is_frozen (&cg))
            status = "paused";
          cgroup_free (&cg);
        }
      if (uid != owner_uid && uid != (uid_t) -1)
        {
          owner_uid = uid;
          free (owner);
          if ((owner = passwd_name (uid)) == NULL && asprintf (&owner, "#%u", (unsigned) uid) < 0)
            owner = NULL;
        }
      bad = to_runc_state (s, status, uid == (uid_t) -1 || owner == NULL ? "" : owner, &r, err);
      state_free (s);
      if (bad < 0)
        break;
      if (n == cap)
        {
          struct oci_runc_state **nv = realloc (v, (cap = cap ? cap * 2 : 16) * sizeof *v);
          if (nv == NULL)
            {
              container_state_free (r);
              break;
            }
          v = nv;
        }
      v[n++] = r;
    }
  if (n)
    qsort (v, n, sizeof *v, compare_ids);
  *out = v;
  *count = n;
  return 0;
}
