/* The descriptor tables, generated from spec.h, and typed entry points. */
#include "spec.h"

OCI_SPEC_TYPES (OCI_DEFINE_TYPE)

void
oci_config_free (struct oci_config *c)
{
  oci_free (&oci_type_config, c);
}

static int
finish_config (int r, void *obj, struct oci_config **out, struct berth_error *err)
{
  if (r < 0)
    {
      berth_err_set_source (err, "config.json");
      return r;
    }
  if (oci_config_validate (obj, err) < 0)
    {
      berth_err_set_source (err, "config.json");
      oci_config_free (obj);
      return -1;
    }
  *out = obj;
  return 0;
}

int
oci_config_parse_file (const char *path, struct oci_config **out, struct berth_error *err)
{
  void *obj = NULL;
  int r = oci_parse_file (&oci_type_config, path, "config.json", &obj, err);
  *out = NULL;
  return finish_config (r, obj, out, err);
}

int
oci_config_parse_data (const char *data, size_t len, struct oci_config **out,
                       struct berth_error *err)
{
  void *obj = NULL;
  int r = oci_parse_data (&oci_type_config, data, len, "config.json", &obj, err);
  *out = NULL;
  return finish_config (r, obj, out, err);
}
