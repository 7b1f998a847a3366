/* berth — checkpoint and restore in a build without criu.h: both say so
   (checkpoint.h). */
#include "lifecycle/checkpoint.h"

bool
checkpoint_built_in (void)
{
  return false;
}

static int
not_built_in (struct berth_error *err)
{
  return berth_err (err, BERTH_E_UNSUPPORTED,
                    "checkpoint/restore is not built in: berth was built without CRIU's "
                    "criu.h (install criu and protobuf-c's headers, then rebuild)");
}

int
container_checkpoint (const struct berth_runtime *rt, const char *id,
                      const struct checkpoint_options *o, struct berth_error *err)
{
  (void) rt, (void) id, (void) o;
  return not_built_in (err);
}

int
container_restore (const struct berth_runtime *rt, const char *id,
                   const struct restore_options *o, struct created *out, struct berth_error *err)
{
  (void) rt, (void) id, (void) o, (void) out;
  return not_built_in (err);
}
