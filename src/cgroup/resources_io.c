/* linux.resources.blockIO: the blkio controller on v1 (CFQ's blkio.weight*
   or BFQ's blkio.bfq.weight*, blkio.leaf_weight*, blkio.throttle.*) and the
   io controller on v2 (io.bfq.weight, else io.weight converted as runc
   does, and io.max for the throttles). */
#include "cgroup/convert.h"
#include "cgroup/resources_priv.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

struct throttle_kind {
  const char *jpath, *v1_file, *v2_key;
  size_t off_vec, off_len;
};

#define THROTTLE(m, json, v1, v2)                                                            \
  { JP ("blockIO." json), v1, v2, offsetof (struct oci_block_io, m),                          \
    offsetof (struct oci_block_io, m##_len) }
static const struct throttle_kind throttles[] = {
  THROTTLE (throttle_read_bps_device, "throttleReadBpsDevice", "blkio.throttle.read_bps_device",
            "rbps"),
  THROTTLE (throttle_write_bps_device, "throttleWriteBpsDevice",
            "blkio.throttle.write_bps_device", "wbps"),
  THROTTLE (throttle_read_iops_device, "throttleReadIOPSDevice",
            "blkio.throttle.read_iops_device", "riops"),
  THROTTLE (throttle_write_iops_device, "throttleWriteIOPSDevice",
            "blkio.throttle.write_iops_device", "wiops"),
};

static int
apply_throttles (struct res_ctx *c, const struct res_ctl *ctl, const struct oci_block_io *b)
{
  char jpath[128];

  for (size_t k = 0; k < sizeof throttles / sizeof throttles[0]; k++)
    {
      const struct throttle_kind *t = &throttles[k];
      const struct oci_throttle_device *v
          = *(struct oci_throttle_device *const *) ((const char *) b + t->off_vec);
      size_t n = *(const size_t *) ((const char *) b + t->off_len);
      for (size_t i = 0; i < n; i++)
        {
          char line[CGCONV_BUF];
          int r;
          snprintf (jpath, sizeof jpath, "%s[%zu]", t->jpath, i);
          if (!ctl->v2)
            r = res_write (c, jpath, ctl->dir, t->v1_file, "%" PRId64 ":%" PRId64 " %" PRIu64,
                           v[i].major, v[i].minor, v[i].rate);
          else
            r = res_write (c, jpath, ctl->dir, "io.max", "%s",
                           cgconv_io_max (v[i].major, v[i].minor, t->v2_key, v[i].rate, line,
                                          sizeof line));
          if (r < 0)
            return -1;
        }
    }
  return 0;
}

/* runc: blkio.weight where CFQ has it, else BFQ's blkio.bfq.weight. */
static int
blkio_v1 (struct res_ctx *c, const char *dir, const struct oci_block_io *b)
{
  bool cfq = res_has_file (dir, "blkio.weight");
  const char *wfile = cfq ? "blkio.weight" : "blkio.bfq.weight";
  const char *wdfile = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
  char jpath[128];

  if (b->has_weight && b->weight != 0
      && res_write (c, JP ("blockIO.weight"), dir, wfile, "%" PRIu16, b->weight) < 0)
    return -1;
  if (b->has_leaf_weight && b->leaf_weight != 0
      && res_write (c, JP ("blockIO.leafWeight"), dir, "blkio.leaf_weight", "%" PRIu16,
                    b->leaf_weight) < 0)
    return -1;
  for (size_t i = 0; i < b->weight_device_len; i++)
    {
      const struct oci_weight_device *w = &b->weight_device[i];
      snprintf (jpath, sizeof jpath, JP ("blockIO.weightDevice[%zu]"), i);
      if (w->has_weight && w->weight != 0
          && res_write (c, jpath, dir, wdfile, "%" PRId64 ":%" PRId64 " %" PRIu16, w->major,
                        w->minor, w->weight) < 0)
        return -1;
      if (w->has_leaf_weight && w->leaf_weight != 0
          && res_write (c, jpath, dir, "blkio.leaf_weight_device",
                        "%" PRId64 ":%" PRId64 " %" PRIu16, w->major, w->minor, w->leaf_weight)
                 < 0)
        return -1;
    }
  return 0;
}

/* runc: io.bfq.weight (same scale as v1) where BFQ is there, else io.weight
   through ConvertBlkIOToIOWeightValue; per-device weights only with BFQ. */
static int
blkio_v2 (struct res_ctx *c, const char *dir, const struct oci_block_io *b)
{
  bool bfq = res_has_file (dir, "io.bfq.weight");
  char jpath[128];

  if (b->has_leaf_weight && b->leaf_weight != 0)
    return berth_err_at (c->err, BERTH_E_UNSUPPORTED, JP ("blockIO.leafWeight"),
                         "cgroup v2 has no leaf weights (blkio.leaf_weight)");
  if (b->has_weight && !bfq && !cgconv_blkio_weight_valid (b->weight))
    return berth_err_at (c->err, BERTH_E_VALUE, JP ("blockIO.weight"),
                         "%" PRIu16 " is outside the range 10-1000", b->weight);
  if (b->has_weight && b->weight != 0
      && (bfq ? res_write (c, JP ("blockIO.weight"), dir, "io.bfq.weight", "%" PRIu16, b->weight)
              : res_write (c, JP ("blockIO.weight"), dir, "io.weight", "%" PRIu64,
                           cgconv_blkio_to_io_weight (b->weight)))
             < 0)
    return -1;
  for (size_t i = 0; i < b->weight_device_len; i++)
    {
      const struct oci_weight_device *w = &b->weight_device[i];
      snprintf (jpath, sizeof jpath, JP ("blockIO.weightDevice[%zu]"), i);
      if (w->has_leaf_weight && w->leaf_weight != 0)
        return berth_err_at (c->err, BERTH_E_UNSUPPORTED, jpath,
                             "cgroup v2 has no leaf weights (blkio.leaf_weight_device)");
      if (w->has_weight && w->weight != 0
          && res_write (c, jpath, dir, "io.bfq.weight", "%" PRId64 ":%" PRId64 " %" PRIu16,
                        w->major, w->minor, w->weight) < 0)
        return -1;
    }
  return 0;
}

int
res_block_io (struct res_ctx *c, const struct oci_block_io *b)
{
  struct res_ctl ctl;

  if (!(b->has_weight || b->has_leaf_weight || b->weight_device_len
        || b->throttle_read_bps_device_len || b->throttle_write_bps_device_len
        || b->throttle_read_iops_device_len || b->throttle_write_iops_device_len))
    return 0;
  if (res_locate (c, "blkio", "io", JP ("blockIO"), &ctl) < 0)
    return -1;
  if ((ctl.v2 ? blkio_v2 (c, ctl.dir, b) : blkio_v1 (c, ctl.dir, b)) < 0)
    return -1;
  return apply_throttles (c, &ctl, b);
}
