/* Generic free and deep comparison, driven by the descriptor tables. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#define AT(obj, off, T) ((T *) ((char *) (obj) + (off)))
#define CAT(obj, off, T) ((T const *) ((const char *) (obj) + (off)))

static void free_fields (const struct oci_type *t, void *obj);

static void
free_strv (char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

static void
free_field (const struct oci_field *f, void *obj)
{
  size_t n = f->len_off ? *AT (obj, f->len_off, size_t) : 0;

  switch (f->kind)
    {
    case OCI_K_STR:
      free (*AT (obj, f->off, char *));
      break;
    case OCI_K_STRVEC:
      free_strv (*AT (obj, f->off, char **), n);
      break;
    case OCI_K_U32VEC:
      free (*AT (obj, f->off, uint32_t *));
      break;
    case OCI_K_STRMAP:
      free_strv (*AT (obj, f->keys_off, char **), n);
      free_strv (*AT (obj, f->off, char **), n);
      break;
    case OCI_K_OBJ:
      oci_free (f->sub, *AT (obj, f->off, void *));
      break;
    case OCI_K_OBJMAP:
      free_strv (*AT (obj, f->keys_off, char **), n);
      /* fall through */
    case OCI_K_OBJVEC:
      {
        char *v = *AT (obj, f->off, char *);
        for (size_t i = 0; v && i < n; i++)
          free_fields (f->sub, v + i * f->sub->size);
        free (v);
      }
      break;
    default:
      break;
    }
}

void
oci_field_clear (const struct oci_field *f, void *obj)
{
  free_field (f, obj);
  switch (f->kind)
    {
    case OCI_K_STRMAP:
    case OCI_K_OBJMAP:
      *AT (obj, f->keys_off, void *) = NULL;
      /* fall through */
    case OCI_K_STRVEC:
    case OCI_K_U32VEC:
    case OCI_K_OBJVEC:
      *AT (obj, f->len_off, size_t) = 0;
      /* fall through */
    case OCI_K_STR:
    case OCI_K_OBJ:
      *AT (obj, f->off, void *) = NULL;
      break;
    default:
      break;
    }
  *AT (obj, f->has_off, bool) = false;
}

static void
free_fields (const struct oci_type *t, void *obj)
{
  for (size_t i = 0; i < t->n_fields; i++)
    free_field (&t->fields[i], obj);
}

void
oci_free (const struct oci_type *t, void *obj)
{
  if (obj == NULL)
    return;
  free_fields (t, obj);
  free (obj);
}

static bool
str_eq (const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return strcmp (a, b) == 0;
}

static bool
strv_eq (char *const *a, char *const *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!str_eq (a[i], b[i]))
      return false;
  return true;
}

static bool equal_fields (const struct oci_type *t, const void *a, const void *b);

static bool
field_equal (const struct oci_field *f, const void *a, const void *b)
{
  bool ha = *CAT (a, f->has_off, bool), hb = *CAT (b, f->has_off, bool);
  size_t n;

  if (ha != hb)
    return false;
  if (!ha)
    return true;
  n = f->len_off ? *CAT (a, f->len_off, size_t) : 0;
  if (f->len_off && n != *CAT (b, f->len_off, size_t))
    return false;

  switch (f->kind)
    {
    case OCI_K_BOOL:
      return *CAT (a, f->off, bool) == *CAT (b, f->off, bool);
    case OCI_K_STR:
      return str_eq (*CAT (a, f->off, char *), *CAT (b, f->off, char *));
    case OCI_K_I32:
      return *CAT (a, f->off, int32_t) == *CAT (b, f->off, int32_t);
    case OCI_K_U32:
      return *CAT (a, f->off, uint32_t) == *CAT (b, f->off, uint32_t);
    case OCI_K_U16:
      return *CAT (a, f->off, uint16_t) == *CAT (b, f->off, uint16_t);
    case OCI_K_I64:
      return *CAT (a, f->off, int64_t) == *CAT (b, f->off, int64_t);
    case OCI_K_U64:
      return *CAT (a, f->off, uint64_t) == *CAT (b, f->off, uint64_t);
    case OCI_K_STRVEC:
      return strv_eq (*CAT (a, f->off, char **), *CAT (b, f->off, char **), n);
    case OCI_K_U32VEC:
      return n == 0
             || memcmp (*CAT (a, f->off, uint32_t *), *CAT (b, f->off, uint32_t *),
                        n * sizeof (uint32_t)) == 0;
    case OCI_K_STRMAP:
      return strv_eq (*CAT (a, f->keys_off, char **), *CAT (b, f->keys_off, char **), n)
             && strv_eq (*CAT (a, f->off, char **), *CAT (b, f->off, char **), n);
    case OCI_K_OBJ:
      {
        const void *x = *CAT (a, f->off, void *), *y = *CAT (b, f->off, void *);
        if (x == NULL || y == NULL)
          return x == y;
        return equal_fields (f->sub, x, y);
      }
    case OCI_K_OBJMAP:
      if (!strv_eq (*CAT (a, f->keys_off, char **), *CAT (b, f->keys_off, char **), n))
        return false;
      /* fall through */
    case OCI_K_OBJVEC:
      {
        const char *x = *CAT (a, f->off, char *), *y = *CAT (b, f->off, char *);
        for (size_t i = 0; i < n; i++)
          if (!equal_fields (f->sub, x + i * f->sub->size, y + i * f->sub->size))
            return false;
        return true;
      }
    }
  return false;
}

static bool
equal_fields (const struct oci_type *t, const void *a, const void *b)
{
  for (size_t i = 0; i < t->n_fields; i++)
    if (!field_equal (&t->fields[i], a, b))
      return false;
  return true;
}

bool
oci_equal (const struct oci_type *t, const void *a, const void *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return equal_fields (t, a, b);
}

/* ---- canonical bytes ---------------------------------------------------- */

static void digest_fields (const struct oci_type *t, const void *obj, oci_sink sink, void *ctx);

static void
digest_u64 (uint64_t v, oci_sink sink, void *ctx)
{
  sink (ctx, &v, sizeof v);
}

/* Length-prefixed (0 for NULL, else length + 1), so that no two sequences
   of strings give the same bytes. */
static void
digest_str (const char *s, oci_sink sink, void *ctx)
{
  size_t n = s ? strlen (s) : 0;
  digest_u64 (s ? n + 1 : 0, sink, ctx);
  if (n)
    sink (ctx, s, n);
}

static void
digest_field (const struct oci_field *f, const void *obj, oci_sink sink, void *ctx)
{
  uint8_t has = *CAT (obj, f->has_off, bool);
  size_t n = f->len_off ? *CAT (obj, f->len_off, size_t) : 0;

  sink (ctx, &has, 1);
  if (!has)
    return;
  if (f->len_off)
    digest_u64 (n, sink, ctx);
  switch (f->kind)
    {
    case OCI_K_BOOL:
      {
        uint8_t b = *CAT (obj, f->off, bool);
        sink (ctx, &b, 1);
      }
      break;
    case OCI_K_STR:
      digest_str (*CAT (obj, f->off, char *), sink, ctx);
      break;
    case OCI_K_I32:
      digest_u64 ((uint64_t) (int64_t) *CAT (obj, f->off, int32_t), sink, ctx);
      break;
    case OCI_K_U32:
      digest_u64 (*CAT (obj, f->off, uint32_t), sink, ctx);
      break;
    case OCI_K_U16:
      digest_u64 (*CAT (obj, f->off, uint16_t), sink, ctx);
      break;
    case OCI_K_I64:
      digest_u64 ((uint64_t) *CAT (obj, f->off, int64_t), sink, ctx);
      break;
    case OCI_K_U64:
      digest_u64 (*CAT (obj, f->off, uint64_t), sink, ctx);
      break;
    case OCI_K_STRVEC:
      for (size_t i = 0; i < n; i++)
        digest_str ((*CAT (obj, f->off, char **))[i], sink, ctx);
      break;
    case OCI_K_U32VEC:
      for (size_t i = 0; i < n; i++)
        digest_u64 ((*CAT (obj, f->off, uint32_t *))[i], sink, ctx);
      break;
    case OCI_K_STRMAP:
      for (size_t i = 0; i < n; i++)
        {
          digest_str ((*CAT (obj, f->keys_off, char **))[i], sink, ctx);
          digest_str ((*CAT (obj, f->off, char **))[i], sink, ctx);
        }
      break;
    case OCI_K_OBJ:
      {
        const void *x = *CAT (obj, f->off, void *);
        uint8_t present = x != NULL;
        sink (ctx, &present, 1);
        if (x)
          digest_fields (f->sub, x, sink, ctx);
      }
      break;
    case OCI_K_OBJVEC:
    case OCI_K_OBJMAP:
      for (size_t i = 0; i < n; i++)
        {
          if (f->kind == OCI_K_OBJMAP)
            digest_str ((*CAT (obj, f->keys_off, char **))[i], sink, ctx);
          digest_fields (f->sub, *CAT (obj, f->off, const char *) + i * f->sub->size, sink,
                         ctx);
        }
      break;
    }
}

static void
digest_fields (const struct oci_type *t, const void *obj, oci_sink sink, void *ctx)
{
  for (size_t i = 0; i < t->n_fields; i++)
    digest_field (&t->fields[i], obj, sink, ctx);
}

void
oci_digest (const struct oci_type *t, const void *obj, oci_sink sink, void *ctx)
{
  uint8_t present = obj != NULL;
  sink (ctx, &present, 1);
  if (obj)
    digest_fields (t, obj, sink, ctx);
}
