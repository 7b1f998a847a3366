/* update, pause, resume and ps on a live container. */
#include "lifecycle/cgroup_ops.h"
#include "cleanup.h"
#include "cgroup/driver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- merging documents ------------------------------------------------------ */

static size_t
value_size (enum oci_kind k)
{
  switch (k)
    {
    case OCI_K_BOOL:
      return sizeof (bool);
    case OCI_K_U16:
      return sizeof (uint16_t);
    case OCI_K_I32:
    case OCI_K_U32:
      return sizeof (uint32_t);
    case OCI_K_I64:
    case OCI_K_U64:
      return sizeof (uint64_t);
    default: /* every other kind is a pointer */
      return sizeof (void *);
    }
}

static void
swap_bytes (void *a, void *b, size_t n)
{
  unsigned char tmp[sizeof (uint64_t) > sizeof (void *) ? sizeof (uint64_t) : sizeof (void *)];

  memcpy (tmp, a, n);
  memcpy (a, b, n);
  memcpy (b, tmp, n);
}

void
cgops_merge_move (const struct oci_type *t, void *dst, void *src)
{
  for (size_t i = 0; i < t->n_fields; i++)
    {
      const struct oci_field *f = &t->fields[i];
      char *d = dst, *s = src;
      if (!*(bool *) (s + f->has_off))
        continue;
      if (f->kind == OCI_K_OBJ && *(bool *) (d + f->has_off) && *(void **) (d + f->off))
        {
          cgops_merge_move (f->sub, *(void **) (d + f->off), *(void **) (s + f->off));
          continue;
        }
      swap_bytes (d + f->off, s + f->off, value_size (f->kind));
      swap_bytes (d + f->has_off, s + f->has_off, sizeof (bool));
      if (f->len_off)
        swap_bytes (d + f->len_off, s + f->len_off, sizeof (size_t));
      if (f->keys_off)
        swap_bytes (d + f->keys_off, s + f->keys_off, sizeof (char **));
    }
}

/* ---- update ----------------------------------------------------------------------- */

static bool
same_devices (const struct oci_resources *a, const struct oci_resources *b)
{
  if (a->devices_len != b->devices_len)
    return false;
  for (size_t i = 0; i < a->devices_len; i++)
    if (!oci_equal (&oci_type_device_cgroup, &a->devices[i], &b->devices[i]))
      return false;
  return true;
}

/* What to write: the merged sections that the update names. */
static struct oci_resources
sections_of (const struct oci_resources *merged, const struct oci_resources *delta,
             bool devices)
{
  struct oci_resources v = *merged;

#define KEEP_IF(m)                                                                          \
  if (!delta->has_##m)                                                                      \
    v.has_##m = false, v.m##_len = 0;
#define KEEP_OBJ_IF(m)                                                                      \
  if (!delta->has_##m)                                                                      \
    v.has_##m = false, v.m = NULL;
  KEEP_OBJ_IF (memory)
  KEEP_OBJ_IF (cpu)
  KEEP_OBJ_IF (pids)
  KEEP_OBJ_IF (block_io)
  KEEP_OBJ_IF (network)
  KEEP_IF (hugepage_limits)
  KEEP_IF (rdma)
  KEEP_IF (unified)
#undef KEEP_IF
#undef KEEP_OBJ_IF
  if (!devices)
    v.has_devices = false, v.devices_len = 0;
  return v;
}

struct oci_resources
cgops_update_view (struct oci_resources *stored, struct oci_resources *delta)
{
  struct oci_resources named;
  bool devices;

  /* runc: unlimited memory with no word on swap lifts the swap limit too;
     the stored one would stay below it, which v1 refuses. */
  if (delta->memory && delta->memory->has_limit && delta->memory->limit == -1
      && !delta->memory->has_swap)
    OCI_SET (delta->memory, swap, -1);
  named = *delta; /* only its has_* flags are read: the move swaps them */
  devices = delta->has_devices && !same_devices (stored, delta);
  cgops_merge_move (&oci_type_resources, stored, delta);
  return sections_of (stored, &named, devices);
}

static int
save_config (struct container *c, const struct oci_config *config, struct berth_error *err)
{
  char *json = NULL;

  if (oci_emit (&oci_type_config, config, NULL, &json, NULL, err) < 0)
    return -1;
  free (c->saved->config);
  c->saved->config = json;
  c->saved->has_config = true;
  if (state_save_config (&c->state, json, err) < 0)
    return -1;
  return state_save (&c->state, c->saved, err);
}

static int
ensure_resources (struct oci_config *config, struct berth_error *err)
{
  if (config->linux == NULL && (config->linux = calloc (1, sizeof *config->linux)) != NULL)
    config->has_linux = true;
  if (config->linux && config->linux->resources == NULL
      && (config->linux->resources = calloc (1, sizeof *config->linux->resources)) != NULL)
    config->linux->has_resources = true;
  if (config->linux == NULL || config->linux->resources == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  return 0;
}

int
container_update (const struct berth_runtime *rt, const char *id, struct oci_resources *delta,
                  struct berth_error *err)
{
  __attribute__ ((cleanup (container_close))) struct container c = { 0 };
  cleanup_config struct oci_config *config = NULL;
  struct oci_resources view;

  c.state.root_fd = c.state.dir_fd = -1;
  if (container_open (rt, id, &c, err) < 0)
    return -1;
  if (strcmp (c.status, "stopped") == 0)
    return berth_err (err, BERTH_E_STATE, "container not running");
  if (container_config (&c, &config, err) < 0 || ensure_resources (config, err) < 0)
    return -1;
  view = cgops_update_view (config->linux->resources, delta);
  if (c.cgroup_driver->update (&c.cgroup, &view, err) < 0)
    return -1;
  return save_config (&c, config, err);
}

/* ---- pause, resume, ps ------------------------------------------------------------- */

int
container_pause (const struct berth_runtime *rt, const char *id, struct berth_error *err)
{
  __attribute__ ((cleanup (container_close))) struct container c = { 0 };

  c.state.root_fd = c.state.dir_fd = -1;
  if (container_open (rt, id, &c, err) < 0)
    return -1;
  if (strcmp (c.status, "running") != 0 && strcmp (c.status, "created") != 0)
    return berth_err (err, BERTH_E_STATE, "container not running");
  return c.cgroup_driver->freeze (&c.cgroup, true, err);
}

int
container_resume (const struct berth_runtime *rt, const char *id, struct berth_error *err)
{
  __attribute__ ((cleanup (container_close))) struct container c = { 0 };

  c.state.root_fd = c.state.dir_fd = -1;
  if (container_open (rt, id, &c, err) < 0)
    return -1;
  if (strcmp (c.status, "paused") != 0)
    return berth_err (err, BERTH_E_STATE, "container not paused");
  return c.cgroup_driver->freeze (&c.cgroup, false, err);
}

int
container_pids (const struct berth_runtime *rt, const char *id, pid_t **pids, size_t *n,
                struct berth_error *err)
{
  __attribute__ ((cleanup (container_close))) struct container c = { 0 };

  c.state.root_fd = c.state.dir_fd = -1;
  if (container_open (rt, id, &c, err) < 0)
    return -1;
  if (strcmp (c.status, "stopped") != 0)
    return c.cgroup_driver->pids (&c.cgroup, pids, n, err);
  /* As runc: a stopped container's cgroup may still hold what its init
     left (a shared pid namespace), and none at all is an empty list. */
  if (c.cgroup_driver->pids (&c.cgroup, pids, n, err) < 0)
    {
      if (err->errnum != ENOENT)
        return -1;
      *err = (struct berth_error){ 0 };
      *pids = NULL;
      *n = 0;
    }
  return 0;
}
