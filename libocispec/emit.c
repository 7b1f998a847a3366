/* Generic struct -> JSON emitter driven by the descriptor tables.  Only
   fields marked present are written, in table order. */
#include "model.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#define CAT(obj, off, T) ((T const *) ((const char *) (obj) + (off)))

static yajl_gen_status
gen_str (yajl_gen g, const char *s)
{
  return yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

static yajl_gen_status
gen_num (yajl_gen g, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static yajl_gen_status
gen_num (yajl_gen g, const char *fmt, ...)
{
  char buf[32];
  va_list ap;
  int n;
  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  return yajl_gen_number (g, buf, (size_t) n);
}

static yajl_gen_status emit_object (yajl_gen g, const struct oci_type *t, const void *obj);

static yajl_gen_status
emit_field (yajl_gen g, const struct oci_field *f, const void *obj)
{
  size_t n = f->len_off ? *CAT (obj, f->len_off, size_t) : 0;
  yajl_gen_status s = yajl_gen_status_ok;

  switch (f->kind)
    {
    case OCI_K_BOOL:
      return yajl_gen_bool (g, *CAT (obj, f->off, bool));
    case OCI_K_STR:
      {
        const char *str = *CAT (obj, f->off, char *);
        return str ? gen_str (g, str) : yajl_gen_null (g);
      }
    case OCI_K_I32:
      return gen_num (g, "%" PRId32, *CAT (obj, f->off, int32_t));
    case OCI_K_U32:
      return gen_num (g, "%" PRIu32, *CAT (obj, f->off, uint32_t));
    case OCI_K_U16:
      return gen_num (g, "%" PRIu16, *CAT (obj, f->off, uint16_t));
    case OCI_K_I64:
      return gen_num (g, "%" PRId64, *CAT (obj, f->off, int64_t));
    case OCI_K_U64:
      return gen_num (g, "%" PRIu64, *CAT (obj, f->off, uint64_t));
    case OCI_K_STRVEC:
      {
        char *const *v = *CAT (obj, f->off, char **);
        yajl_gen_array_open (g);
        for (size_t i = 0; i < n && s == yajl_gen_status_ok; i++)
          s = v[i] ? gen_str (g, v[i]) : yajl_gen_null (g);
        return s == yajl_gen_status_ok ? yajl_gen_array_close (g) : s;
      }
    case OCI_K_U32VEC:
      {
        const uint32_t *v = *CAT (obj, f->off, uint32_t *);
        yajl_gen_array_open (g);
        for (size_t i = 0; i < n && s == yajl_gen_status_ok; i++)
          s = gen_num (g, "%" PRIu32, v[i]);
        return s == yajl_gen_status_ok ? yajl_gen_array_close (g) : s;
      }
    case OCI_K_STRMAP:
    case OCI_K_OBJMAP:
      {
        char *const *keys = *CAT (obj, f->keys_off, char **);
        const char *vals = *CAT (obj, f->off, char *);
        yajl_gen_map_open (g);
        for (size_t i = 0; i < n && s == yajl_gen_status_ok; i++)
          {
            s = gen_str (g, keys[i]);
            if (s != yajl_gen_status_ok)
              break;
            if (f->kind == OCI_K_STRMAP)
              s = gen_str (g, ((char *const *) vals)[i]);
            else
              s = emit_object (g, f->sub, vals + i * f->sub->size);
          }
        return s == yajl_gen_status_ok ? yajl_gen_map_close (g) : s;
      }
    case OCI_K_OBJ:
      {
        const void *sub = *CAT (obj, f->off, void *);
        return sub ? emit_object (g, f->sub, sub) : yajl_gen_null (g);
      }
    case OCI_K_OBJVEC:
      {
        const char *v = *CAT (obj, f->off, char *);
        yajl_gen_array_open (g);
        for (size_t i = 0; i < n && s == yajl_gen_status_ok; i++)
          s = emit_object (g, f->sub, v + i * f->sub->size);
        return s == yajl_gen_status_ok ? yajl_gen_array_close (g) : s;
      }
    }
  return yajl_gen_invalid_string;
}

static yajl_gen_status
emit_object (yajl_gen g, const struct oci_type *t, const void *obj)
{
  yajl_gen_status s = yajl_gen_map_open (g);
  for (size_t i = 0; i < t->n_fields && s == yajl_gen_status_ok; i++)
    {
      const struct oci_field *f = &t->fields[i];
      if (!*CAT (obj, f->has_off, bool))
        continue;
      s = gen_str (g, f->key);
      if (s == yajl_gen_status_ok)
        s = emit_field (g, f, obj);
    }
  return s == yajl_gen_status_ok ? yajl_gen_map_close (g) : s;
}

int
oci_emit (const struct oci_type *t, const void *obj, const char *indent, char **out,
          size_t *out_len, struct berth_error *err)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  const unsigned char *buf;
  size_t len;
  yajl_gen_status s;

  *out = NULL;
  if (g == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  if (indent)
    {
      yajl_gen_config (g, yajl_gen_beautify, 1);
      yajl_gen_config (g, yajl_gen_indent_string, indent);
    }
  s = emit_object (g, t, obj);
  if (s != yajl_gen_status_ok)
    {
      yajl_gen_free (g);
      return berth_err (err, BERTH_E_VALUE, "cannot encode %s as JSON (status %d)", t->name,
                        (int) s);
    }
  yajl_gen_get_buf (g, &buf, &len);
  *out = malloc (len + 1);
  if (*out == NULL)
    {
      yajl_gen_free (g);
      return berth_err_sys (err, ENOMEM, "out of memory");
    }
  memcpy (*out, buf, len);
  (*out)[len] = '\0';
  if (out_len)
    *out_len = len;
  yajl_gen_free (g);
  return 0;
}
