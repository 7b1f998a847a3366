/* berth — mount options (see mountopts.h). */
#include "fs/mountopts.h"
#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

struct flag_opt {
  const char *name;
  bool clear;
  unsigned long flag;
  bool atime; /* counts as an explicit atime choice */
};

/* runc's mountFlags table. */
static const struct flag_opt flag_opts[] = {
  { "defaults", false, 0, false },
  { "ro", false, MS_RDONLY, false },
  { "rw", true, MS_RDONLY, false },
  { "suid", true, MS_NOSUID, false },
  { "nosuid", false, MS_NOSUID, false },
  { "dev", true, MS_NODEV, false },
  { "nodev", false, MS_NODEV, false },
  { "exec", true, MS_NOEXEC, false },
  { "noexec", false, MS_NOEXEC, false },
  { "sync", false, MS_SYNCHRONOUS, false },
  { "async", true, MS_SYNCHRONOUS, false },
  { "dirsync", false, MS_DIRSYNC, false },
  { "remount", false, MS_REMOUNT, false },
  { "mand", false, MS_MANDLOCK, false },
  { "nomand", true, MS_MANDLOCK, false },
  { "atime", true, MS_NOATIME, true },
  { "noatime", false, MS_NOATIME, true },
  { "diratime", true, MS_NODIRATIME, true },
  { "nodiratime", false, MS_NODIRATIME, true },
  { "relatime", false, MS_RELATIME, true },
  { "norelatime", true, MS_RELATIME, true },
  { "strictatime", false, MS_STRICTATIME, true },
  { "nostrictatime", true, MS_STRICTATIME, true },
  { "lazytime", false, MS_LAZYTIME, false },
  { "nolazytime", true, MS_LAZYTIME, false },
  { "silent", false, MS_SILENT, false },
  { "loud", true, MS_SILENT, false },
  { "iversion", false, MS_I_VERSION, false },
  { "noiversion", true, MS_I_VERSION, false },
  { "nosymfollow", false, MS_NOSYMFOLLOW, false },
  { "symfollow", true, MS_NOSYMFOLLOW, false },
  { "bind", false, MS_BIND, false },
  { "rbind", false, MS_BIND | MS_REC, false },
};

struct prop_opt {
  const char *name;
  unsigned long flags;
};

static const struct prop_opt prop_opts[] = {
  { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
  { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
  { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* Recursive attributes.  The atime ones are a mode, not bits
   (MOUNT_ATTR_RELATIME is 0), so they carry the mode to select within
   MOUNT_ATTR__ATIME: "ratime" and "rnostrictatime" return to the default
   relatime, "rnorelatime" means atime is always updated, as mount(8)'s
   norelatime does. */
struct rec_opt {
  const char *name;
  bool clear;
  uint64_t attr;
  bool atime_mode;
};

static const struct rec_opt rec_opts[] = {
  { "rro", false, MOUNT_ATTR_RDONLY, false },
  { "rrw", true, MOUNT_ATTR_RDONLY, false },
  { "rnosuid", false, MOUNT_ATTR_NOSUID, false },
  { "rsuid", true, MOUNT_ATTR_NOSUID, false },
  { "rnodev", false, MOUNT_ATTR_NODEV, false },
  { "rdev", true, MOUNT_ATTR_NODEV, false },
  { "rnoexec", false, MOUNT_ATTR_NOEXEC, false },
  { "rexec", true, MOUNT_ATTR_NOEXEC, false },
  { "rnodiratime", false, MOUNT_ATTR_NODIRATIME, false },
  { "rdiratime", true, MOUNT_ATTR_NODIRATIME, false },
  { "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW, false },
  { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW, false },
  { "rnoatime", false, MOUNT_ATTR_NOATIME, true },
  { "ratime", false, MOUNT_ATTR_RELATIME, true },
  { "rrelatime", false, MOUNT_ATTR_RELATIME, true },
  { "rnorelatime", false, MOUNT_ATTR_STRICTATIME, true },
  { "rstrictatime", false, MOUNT_ATTR_STRICTATIME, true },
  { "rnostrictatime", false, MOUNT_ATTR_RELATIME, true },
};

#define ARRAY_LEN(a) (sizeof (a) / sizeof (a)[0])

unsigned long
mount_propagation_flags (const char *name)
{
  for (size_t i = 0; i < ARRAY_LEN (prop_opts); i++)
    if (strcmp (name, prop_opts[i].name) == 0)
      return prop_opts[i].flags;
  return 0;
}

void
mount_opts_free (struct mount_opts *o)
{
  free (o->propagation);
  free (o->data);
  o->propagation = NULL;
  o->data = NULL;
}

static bool
apply_known (struct mount_opts *o, const char *opt)
{
  unsigned long prop;

  for (size_t i = 0; i < ARRAY_LEN (flag_opts); i++)
    if (strcmp (opt, flag_opts[i].name) == 0)
      {
        const struct flag_opt *f = &flag_opts[i];
        if (f->clear)
          {
            o->flags &= ~f->flag;
            o->cleared |= f->flag;
          }
        else
          {
            o->flags |= f->flag;
            o->cleared &= ~f->flag;
          }
        o->atime_given |= f->atime;
        return true;
      }
  prop = mount_propagation_flags (opt);
  if (prop)
    {
      o->propagation[o->n_propagation++] = prop;
      return true;
    }
  for (size_t i = 0; i < ARRAY_LEN (rec_opts); i++)
    if (strcmp (opt, rec_opts[i].name) == 0)
      {
        const struct rec_opt *r = &rec_opts[i];
        if (r->atime_mode)
          {
            o->rec_set = (o->rec_set & ~(uint64_t) MOUNT_ATTR__ATIME) | r->attr;
            o->rec_clr |= MOUNT_ATTR__ATIME;
          }
        else if (r->clear)
          {
            o->rec_clr |= r->attr;
            o->rec_set &= ~r->attr;
          }
        else
          {
            o->rec_set |= r->attr;
            o->rec_clr &= ~r->attr;
          }
        return true;
      }
  return false;
}

int
mount_opts_parse (char *const *options, size_t n, const char *jpath, struct mount_opts *out,
                  struct berth_error *err)
{
  size_t data_len = 0;
  cleanup_free char *data = NULL;
  cleanup_free unsigned long *prop = NULL;
  struct mount_opts o = { 0 };

  for (size_t i = 0; i < n; i++)
    data_len += strlen (options[i]) + 1;
  data = calloc (1, data_len + 1);
  prop = calloc (n ? n : 1, sizeof *prop);
  if (data == NULL || prop == NULL)
    return berth_err_sys (err, ENOMEM, "parse mount options");
  o.propagation = prop;

  for (size_t i = 0; i < n; i++)
    {
      const char *opt = options[i];

      if (apply_known (&o, opt))
        continue;
      if (strcmp (opt, "tmpcopyup") == 0)
        {
          o.tmpcopyup = true;
          continue;
        }
      /* Later wins, as with every other pair of options. */
      if (strcmp (opt, "idmap") == 0 || strcmp (opt, "ridmap") == 0)
        {
          o.idmap = true;
          o.ridmap = opt[0] == 'r';
          o.idmap_index = i;
          continue;
        }
      /* Everything else belongs to the filesystem, as with mount(8). */
      if (data[0])
        strcat (data, ",");
      strcat (data, opt);
    }

  o.propagation = steal_pointer (&prop);
  o.data = data[0] ? steal_pointer (&data) : NULL;
  *out = o;
  return 0;
}

size_t
mount_opts_known (const char **names, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < sizeof flag_opts / sizeof flag_opts[0] && n < max; i++)
    names[n++] = flag_opts[i].name;
  for (size_t i = 0; i < sizeof prop_opts / sizeof prop_opts[0] && n < max; i++)
    names[n++] = prop_opts[i].name;
  for (size_t i = 0; i < sizeof rec_opts / sizeof rec_opts[0] && n < max; i++)
    names[n++] = rec_opts[i].name;
  if (n < max)
    names[n++] = "tmpcopyup";
  if (n < max)
    names[n++] = "idmap";
  if (n < max)
    names[n++] = "ridmap";
  return n;
}

bool
mount_is_bind (const struct oci_mount *m)
{
  if (m->type && strcmp (m->type, "bind") == 0)
    return true;
  for (size_t k = 0; k < m->options_len; k++)
    if (strcmp (m->options[k], "bind") == 0 || strcmp (m->options[k], "rbind") == 0)
      return true;
  return false;
}

bool
mount_is_idmapped (const struct oci_mount *m)
{
  for (size_t k = 0; k < m->options_len; k++)
    if (strcmp (m->options[k], "idmap") == 0 || strcmp (m->options[k], "ridmap") == 0)
      return true;
  return m->uid_mappings_len || m->gid_mappings_len;
}

/* ID-mapped mounts (config.md, "idmap"): runc's rules.  The mappings
   without an idmap option still map the mount (as runc, which reads the
   option as "how", the mappings as "what"). */
static int
validate_idmap (const struct oci_mount *m, size_t i, const struct mount_opts *opts, bool userns,
                struct berth_reporter *rep)
{
  bool uid = m->uid_mappings_len > 0, gid = m->gid_mappings_len > 0;
  char path[64];

  /* crun's own spelling of a mapping (idmap=uids=0-1-10;gids=...) would
     otherwise be filesystem data a bind mount ignores: the mount would
     silently go unmapped. */
  for (size_t k = 0; k < m->options_len; k++)
    if (strncmp (m->options[k], "idmap=", 6) == 0 || strncmp (m->options[k], "ridmap=", 7) == 0)
      {
        snprintf (path, sizeof path, ".mounts[%zu].options[%zu]", i, k);
        if (berth_reporter_at (rep, BERTH_E_UNSUPPORTED, path,
                               "mappings in the option (crun's idmap=uids=...) are not "
                               "supported: give the mount uidMappings and gidMappings")
            < 0)
          return -1;
      }
  if (uid != gid)
    {
      snprintf (path, sizeof path, ".mounts[%zu].%s", i, uid ? "gidMappings" : "uidMappings");
      if (berth_reporter_at (rep, BERTH_E_MISSING, path, "%s need %s too (config.md)",
                             uid ? "uidMappings" : "gidMappings",
                             uid ? "gidMappings" : "uidMappings")
          < 0)
        return -1;
    }
  if (opts->idmap)
    snprintf (path, sizeof path, ".mounts[%zu].options[%zu]", i, opts->idmap_index);
  else
    snprintf (path, sizeof path, ".mounts[%zu].%s", i, uid ? "uidMappings" : "gidMappings");
  if ((opts->idmap || uid || gid) && !mount_is_bind (m))
    return berth_reporter_at (rep, BERTH_E_VALUE, path,
                              "only a bind mount can be ID-mapped (type \"%s\")",
                              m->type ? m->type : "");
  if (opts->idmap && !uid && !gid && !userns)
    return berth_reporter_at (rep, BERTH_E_VALUE, path,
                              "\"%s\" without the mount's uidMappings and gidMappings maps "
                              "with the container's user namespace, and it has none",
                              opts->ridmap ? "ridmap" : "idmap");
  return 0;
}

int
mount_validate (const struct oci_mount *m, size_t i, bool userns, struct berth_reporter *rep)
{
  cleanup_mount_opts struct mount_opts opts = { 0 };
  struct berth_error e = { 0 };
  char path[64];

  snprintf (path, sizeof path, ".mounts[%zu].options", i);
  if (mount_opts_parse (m->options, m->options_len, path, &opts, &e) < 0)
    {
      if (!e.path[0])
        snprintf (e.path, sizeof e.path, "%s", path);
      return berth_reporter_error (rep, &e);
    }
  if (validate_idmap (m, i, &opts, userns, rep) < 0)
    return -1;
  if (mount_is_bind (m) && (m->source == NULL || m->source[0] == '\0'))
    {
      snprintf (path, sizeof path, ".mounts[%zu].source", i);
      return berth_reporter_at (rep, BERTH_E_MISSING, path, "a bind mount needs a source");
    }
  if (!mount_is_bind (m) && (m->type == NULL || m->type[0] == '\0'))
    {
      snprintf (path, sizeof path, ".mounts[%zu].type", i);
      return berth_reporter_at (rep, BERTH_E_MISSING, path,
                                "a mount that is not a bind mount needs a type");
    }
  return 0;
}

int
mount_validate_config (const struct oci_config *c, struct berth_reporter *rep)
{
  const char *prop = c->linux ? c->linux->rootfs_propagation : NULL;

  if (prop && prop[0] && mount_propagation_flags (prop) == 0
      && berth_reporter_at (rep, BERTH_E_VALUE, ".linux.rootfsPropagation",
                            "unknown propagation \"%s\"", prop)
             < 0)
    return -1;
  bool userns = false;

  for (size_t i = 0; c->linux && i < c->linux->namespaces_len; i++)
    userns |= c->linux->namespaces[i].type && strcmp (c->linux->namespaces[i].type, "user") == 0;
  for (size_t i = 0; i < c->mounts_len; i++)
    if (mount_validate (&c->mounts[i], i, userns, rep) < 0)
      return -1;
  return 0;
}
