/* berth — internals shared by the resources_*.c files (not an API).
 *
 * resources.c (the dispatcher) calls one res_<controller>() per file:
 * resources_memory.c, resources_cpu.c (cpu, cpuset), resources_io.c,
 * resources_devices.c; all of them find and write files through
 * resources_files.c, which uses none of them, so the modules form no cycle.
 *
 * Every writer takes the JSON path of the property it applies, so that a
 * failure names it (".linux.resources.memory.limit") together with the
 * cgroup file that refused the value or does not exist.
 */
#ifndef BERTH_RESOURCES_PRIV_H
#define BERTH_RESOURCES_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "error.h"
#include <unistd.h>
#include "spec.h"

#define JP(p) ".linux.resources." p

struct res_ctx {
  const struct berth_cgroup *cg;
  bool update;
  struct berth_error *err;
};

/* Where a controller's files are: a v1 hierarchy, or the v2 directory
   (on a hybrid host, the unified one when it, not v1, has the controller). */
struct res_ctl {
  const char *dir;
  bool v2;
};

/* ---- resources_files.c ---- */

/* Find the controller named `v1` on v1 hierarchies or `v2` (NULL: none) in
   cgroup2; error naming `jpath` when the host has neither. */
int res_locate (struct res_ctx *c, const char *v1, const char *v2, const char *jpath,
                struct res_ctl *out);
bool res_has_file (const char *dir, const char *file);
/* One write of the formatted value to dir/file.  A missing file is
   BERTH_E_UNSUPPORTED naming it; a refusal keeps errno in err->errnum. */
int res_write (struct res_ctx *c, const char *jpath, const char *dir, const char *file,
               const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));
/* The same for several writes to one file (v1's devices.allow): opened
   once, a missing file refused as above; a file that cannot be opened
   otherwise fails at the first write, as with res_write. */
struct res_file {
  int fd;
  int errnum; /* open's, when fd < 0 */
  char path[4096];
};
int res_open (struct res_ctx *c, const char *jpath, const char *dir, const char *file,
              struct res_file *out);
int res_write_to (struct res_ctx *c, const char *jpath, const struct res_file *f,
                  const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));
static inline void
res_file_close (struct res_file *f)
{
  if (f->fd >= 0)
    close (f->fd);
}
#define cleanup_res_file __attribute__ ((cleanup (res_file_close)))
/* The first number in dir/file; "max" reads as UINT64_MAX. */
int res_read_u64 (const char *dir, const char *file, uint64_t *v, struct berth_error *err);

/* ---- one per controller file ---- */

int res_memory (struct res_ctx *c, const struct oci_memory *m);
int res_cpu (struct res_ctx *c, const struct oci_cpu *cpu);
int res_cpuset (struct res_ctx *c, const struct oci_cpu *cpu);
int res_block_io (struct res_ctx *c, const struct oci_block_io *b);
/* devices: the whole rule list of `r` (r->has_devices). */
int res_devices (struct res_ctx *c, const struct oci_resources *r);

#endif
