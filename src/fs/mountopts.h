/* berth — the "options" of a config.json mount, as runc reads them.
 *
 * Contract:
 *  - mount_opts_parse() turns an options vector into mount(2) flags, the
 *    propagation changes (each applied later by its own mount call, in the
 *    order given), the recursive attributes for mount_setattr(AT_RECURSIVE)
 *    and the filesystem data string (every option it does not know, joined
 *    with ",", e.g. "mode=755,size=65536k").
 *  - The vocabulary is runc's: defaults, ro/rw, suid/nosuid, dev/nodev,
 *    exec/noexec, sync/async, dirsync, remount, mand/nomand, atime/noatime,
 *    diratime/nodiratime, relatime/norelatime, strictatime/nostrictatime,
 *    lazytime/nolazytime, silent/loud, iversion/noiversion, nosymfollow/
 *    symfollow, bind, rbind, [r]private/[r]shared/[r]slave/[r]unbindable,
 *    and the recursive rro/rrw/rnosuid/rsuid/rnodev/rdev/rnoexec/rexec/
 *    rnoatime/ratime/rrelatime/rnorelatime/rstrictatime/rnostrictatime/
 *    rnodiratime/rdiratime/rnosymfollow/rsymfollow.  Later options win.
 *  - tmpcopyup sets `tmpcopyup`; idmap and ridmap set `idmap` (ridmap also
 *    `ridmap`: the mapping reaches every mount of an rbind) and where the
 *    option was.  Only running out of memory fails.
 *  - Nothing else is checked here (no system calls): validity of the data
 *    string is the filesystem's business at mount time.
 */
#ifndef BERTH_MOUNTOPTS_H
#define BERTH_MOUNTOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

struct mount_opts {
  unsigned long flags;         /* MS_* to pass to mount(2) (no propagation) */
  unsigned long cleared;       /* MS_* that an option explicitly turned off */
  bool atime_given;            /* some [no]atime/relatime/strictatime given */
  unsigned long *propagation;  /* MS_SHARED|MS_REC, ... in the order given */
  size_t n_propagation;
  uint64_t rec_set, rec_clr;   /* MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE) */
  char *data;                  /* fs data, or NULL when there is none */
  bool tmpcopyup;              /* copy the image's content into a new tmpfs */
  bool idmap, ridmap;          /* "idmap" or "ridmap" (then both are set) */
  size_t idmap_index;          /* the last of them, in options[] */
};

int mount_opts_parse (char *const *options, size_t n, const char *jpath,
                      struct mount_opts *out, struct berth_error *err);
void mount_opts_free (struct mount_opts *o);

#define cleanup_mount_opts __attribute__ ((cleanup (mount_opts_free)))

/* A propagation name ("rslave", "private", ...) as MS_* flags; 0 when the
   name is not one. */
unsigned long mount_propagation_flags (const char *name);

/* The option names berth knows (for `berth features`): fills up to `max`
   entries of `names`, returns how many. */
size_t mount_opts_known (const char **names, size_t max);

/* A bind mount: type "bind", or a "bind"/"rbind" option (runc's rule). */
bool mount_is_bind (const struct oci_mount *m);
/* An ID-mapped mount: an idmap/ridmap option, or mappings of its own. */
bool mount_is_idmapped (const struct oci_mount *m);
/* .mounts[i]'s rules, for create (rootfs.c, stopping at the first) and
   `berth check` (collecting): a bind mount without a source, any other
   mount without a type; ID-mapped mounts: uidMappings and gidMappings come
   together, only a bind mount is ID-mapped, and idmap/ridmap without
   mappings of the mount's own need the container to have a user namespace
   (`userns`), crun's "idmap=uids=..." spelling is refused.  Paths: .mounts[i].options[k] (the idmap option) or
   .mounts[i].uidMappings / gidMappings. */
int mount_validate (const struct oci_mount *m, size_t i, bool userns,
                    struct berth_reporter *rep);
/* linux.rootfsPropagation (a propagation name) and every mount_validate(). */
int mount_validate_config (const struct oci_config *c, struct berth_reporter *rep);

#endif
