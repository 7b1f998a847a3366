/* Generic JSON -> struct parser driven by the descriptor tables.
 *
 * The document is checked for size and nesting depth before yajl sees it, so
 * hostile input costs bounded memory and stack; yajl's callbacks then fill
 * the structs in one pass.  Each error names the JSON
 * path of the offending value in jq syntax (.linux.sysctl["net.ipv4.x"]).
 */
#include "model.h"
#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#define AT(obj, off, T) ((T *) ((char *) (obj) + (off)))

struct jpath {
  char buf[256];
  size_t len;
};

/* Appends src[0..n) to dst of `size` at *at, as far as it fits (NUL kept);
   *at counts the full length, as snprintf's result would. */
static void
put (char *dst, size_t size, size_t *at, const char *src, size_t n)
{
  if (*at + 1 < size)
    {
      size_t room = size - 1 - *at;
      memcpy (dst + *at, src, n < room ? n : room);
      dst[*at + (n < room ? n : room)] = '\0';
    }
  *at += n;
}

/* Without snprintf: the parser extends its path on every key and index of
   every document, and stdio's formatting was most of the parse's own cost
   in a profile of `list`. */
int
oci_path_key (char *dst, size_t size, const char *prefix, const char *key)
{
  bool plain = *key != '\0';
  size_t at = 0;

  for (const char *c = key; *c; c++)
    if (!isalnum ((unsigned char) *c) && *c != '_')
      plain = false;
  if (size)
    dst[0] = '\0';
  put (dst, size, &at, prefix, strlen (prefix));
  put (dst, size, &at, plain ? "." : "[\"", plain ? 1 : 2);
  put (dst, size, &at, key, strlen (key));
  if (!plain)
    put (dst, size, &at, "\"]", 2);
  return at > INT_MAX ? INT_MAX : (int) at;
}

static size_t
jpath_push_key (struct jpath *p, const char *key)
{
  size_t old = p->len;
  int r = oci_path_key (p->buf + p->len, sizeof p->buf - p->len, "", key);
  if (r > 0)
    p->len = p->len + (size_t) r < sizeof p->buf ? p->len + (size_t) r : sizeof p->buf - 1;
  return old;
}

static size_t
jpath_push_index (struct jpath *p, size_t i)
{
  size_t old = p->len, at = 0;
  char digits[24], *d = digits + sizeof digits;

  do
    *--d = (char) ('0' + i % 10);
  while ((i /= 10) > 0);
  put (p->buf + p->len, sizeof p->buf - p->len, &at, "[", 1);
  put (p->buf + p->len, sizeof p->buf - p->len, &at, d, (size_t) (digits + sizeof digits - d));
  put (p->buf + p->len, sizeof p->buf - p->len, &at, "]", 1);
  p->len = p->len + at < sizeof p->buf ? p->len + at : sizeof p->buf - 1;
  return old;
}

static void
jpath_pop (struct jpath *p, size_t old)
{
  p->len = old;
  p->buf[old] = '\0';
}

static const char *
jpath_str (const struct jpath *p)
{
  return p->len ? p->buf : ".";
}

/* What a JSON token is called in "expected X, got Y". */
enum jtok { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_OBJECT, J_ARRAY };

static const char *const jtok_name[] = { "null", "boolean", "number", "string", "object",
                                         "array" };

static int
type_error (struct jpath *p, const char *want, enum jtok got, struct berth_error *err)
{
  return berth_err_at (err, BERTH_E_TYPE, jpath_str (p), "expected %s, got %s", want,
                       jtok_name[got]);
}

static const char *
int_kind_name (enum oci_kind k)
{
  switch (k)
    {
    case OCI_K_I32:
      return "int32";
    case OCI_K_U32:
    case OCI_K_U32VEC:
      return "uint32";
    case OCI_K_U16:
      return "uint16";
    case OCI_K_I64:
      return "int64";
    default:
      return "uint64";
    }
}

/* Integers are read from yajl's raw text so that the whole uint64 range
   survives (yajl's own integer is a long long). */
static int
parse_integer (struct jpath *p, enum oci_kind kind, const char *raw, void *dst,
               struct berth_error *err)
{
  bool is_signed = kind == OCI_K_I32 || kind == OCI_K_I64;
  char *end = NULL;

  if (strpbrk (raw, ".eE") != NULL)
    return berth_err_at (err, BERTH_E_TYPE, jpath_str (p), "expected integer, got %s", raw);
  errno = 0;
  if (is_signed)
    {
      long long x = strtoll (raw, &end, 10);
      if (errno == ERANGE || (kind == OCI_K_I32 && (x < INT32_MIN || x > INT32_MAX)))
        return berth_err_at (err, BERTH_E_RANGE, jpath_str (p), "%s is out of range for %s",
                             raw, int_kind_name (kind));
      if (kind == OCI_K_I32)
        *(int32_t *) dst = (int32_t) x;
      else
        *(int64_t *) dst = (int64_t) x;
      return 0;
    }
  if (raw[0] == '-')
    return berth_err_at (err, BERTH_E_RANGE, jpath_str (p),
                         "expected unsigned integer, got %s", raw);
  {
    unsigned long long x = strtoull (raw, &end, 10);
    unsigned long long max = kind == OCI_K_U16   ? UINT16_MAX
                             : kind == OCI_K_U64 ? UINT64_MAX
                                                 : UINT32_MAX;
    if (errno == ERANGE || x > max)
      return berth_err_at (err, BERTH_E_RANGE, jpath_str (p), "%s is out of range for %s",
                           raw, int_kind_name (kind));
    if (kind == OCI_K_U16)
      *(uint16_t *) dst = (uint16_t) x;
    else if (kind == OCI_K_U64)
      *(uint64_t *) dst = (uint64_t) x;
    else
      *(uint32_t *) dst = (uint32_t) x;
  }
  return 0;
}

/* ---- the streaming parser ------------------------------------------------

   yajl's callbacks fill the structs directly, with no document tree in
   between: a tree costs several times the document's size in small
   allocations (yajl grows its arrays one element at a time), and on the
   create path that memory is paged in, then shared copy-on-write with the
   container's init.  A stack of frames says where the next value goes. */

enum frame_kind {
  F_OBJECT, /* a struct: the value after each key goes into that field */
  F_VECTOR, /* the elements of a STRVEC, U32VEC or OBJVEC field */
  F_MAP,    /* the values of a STRMAP or OBJMAP field */
};

struct frame {
  enum frame_kind kind;
  /* F_OBJECT: the struct and its type, and the field of the last key (NULL
     for a key the type does not have).  F_VECTOR, F_MAP: the struct that
     holds `field`, the vector or map being filled. */
  const struct oci_type *type;
  void *obj;
  const struct oci_field *field;
  size_t cap;  /* F_VECTOR, F_MAP: elements allocated, one more than used at least */
  size_t mark; /* the JSON path's length at this value */
};

struct sax {
  /* check_shape() has bounded the nesting to OCI_MAX_DEPTH, the values of
     unknown properties take no frame (`skip` counts them), and push()
     checks anyway. */
  struct frame stack[OCI_MAX_DEPTH + 2];
  size_t depth;
  size_t skip; /* > 0 inside the value of an unknown property */
  const struct oci_type *root_type;
  void *root;
  struct jpath path;
  struct berth_error *err;
};

static int
oom (struct sax *s)
{
  berth_err_sys (s->err, ENOMEM, "out of memory");
  return 0;
}

static char *
dup_bytes (struct sax *s, const unsigned char *v, size_t len)
{
  char *d;

  /* A NUL would cut the string short at the first system call. */
  if (memchr (v, '\0', len) != NULL)
    {
      berth_err_at (s->err, BERTH_E_VALUE, jpath_str (&s->path),
                    "a string must not contain \\u0000");
      return NULL;
    }
  d = strndup ((const char *) v, len);
  if (d == NULL)
    oom (s);
  return d;
}

/* Makes room for one more element in the array at `off` in fr->obj (the
   vector, or a map's keys or values), keeping the one after the last zeroed
   (string vectors stay NULL-terminated for execve).  A map grows its keys
   first, then its values: fr->cap follows the values. */
static void *
grow (struct sax *s, struct frame *fr, size_t elem, size_t off)
{
  char **slot = AT (fr->obj, off, char *);
  size_t len = *AT (fr->obj, fr->field->len_off, size_t);

  if (len + 1 >= fr->cap)
    {
      size_t cap = fr->cap * 2;
      char *v = reallocarray (*slot, cap, elem);
      if (v == NULL)
        return oom (s), NULL;
      memset (v + fr->cap * elem, 0, (cap - fr->cap) * elem);
      *slot = v;
      if (off == fr->field->off)
        fr->cap = cap;
    }
  return *slot + len * elem;
}

static size_t
elem_size (const struct oci_field *f)
{
  return f->kind == OCI_K_STRVEC || f->kind == OCI_K_STRMAP ? sizeof (char *)
         : f->kind == OCI_K_U32VEC                           ? sizeof (uint32_t)
                                                              : f->sub->size;
}

static int
push (struct sax *s, enum frame_kind kind, const struct oci_type *t, void *obj,
      const struct oci_field *f)
{
  struct frame *fr;

  if (s->depth == sizeof s->stack / sizeof s->stack[0])
    return berth_err (s->err, BERTH_E_LIMIT, "JSON is nested deeper than %d levels",
                      OCI_MAX_DEPTH), 0;
  fr = &s->stack[s->depth++];
  *fr = (struct frame) { .kind = kind, .type = t, .obj = obj, .field = f, .mark = s->path.len };
  if (kind == F_OBJECT)
    return 1;
  /* A vector or map starts with room for 4 (an empty one is allocated too:
     present-and-empty differs from absent). */
  fr->cap = 4;
  *AT (obj, f->off, void *) = calloc (fr->cap, elem_size (f));
  if (kind == F_MAP)
    *AT (obj, f->keys_off, void *) = calloc (fr->cap, sizeof (char *));
  if (*AT (obj, f->off, void *) == NULL || (kind == F_MAP && *AT (obj, f->keys_off, void *) == NULL))
    return oom (s);
  return 1;
}

/* One value, scalar or the start of an object or array, for the field,
   element or map entry the top frame is at. */
static int
on_value (struct sax *s, enum jtok tok, const unsigned char *v, size_t len)
{
  struct frame *fr = s->depth ? &s->stack[s->depth - 1] : NULL;
  const struct oci_field *f;
  void *dst;
  enum oci_kind kind;

  if (s->skip)
    {
      s->skip += tok == J_OBJECT || tok == J_ARRAY;
      return 1;
    }
  if (fr == NULL)
    {
      /* The document itself. */
      if (tok != J_OBJECT)
        return type_error (&s->path, "object", tok, s->err), 0;
      if ((s->root = calloc (1, s->root_type->size)) == NULL)
        return oom (s);
      return push (s, F_OBJECT, s->root_type, s->root, NULL);
    }
  f = fr->field;
  if (fr->kind == F_OBJECT)
    {
      if (f == NULL)
        {
          /* Unknown properties are ignored, whatever their value. */
          s->skip = tok == J_OBJECT || tok == J_ARRAY;
          return 1;
        }
      /* A repeated key replaces the earlier value, as with Go's encoding/json,
         and null is absent. */
      oci_field_clear (f, fr->obj);
      if (tok == J_NULL)
        return 1;
      *AT (fr->obj, f->has_off, bool) = true;
      kind = f->kind;
      dst = AT (fr->obj, f->off, char);
    }
  else
    {
      size_t *n = AT (fr->obj, f->len_off, size_t);
      if (fr->kind == F_VECTOR)
        {
          jpath_pop (&s->path, fr->mark);
          jpath_push_index (&s->path, *n);
          if ((dst = grow (s, fr, elem_size (f), f->off)) == NULL)
            return 0;
          ++*n;
        }
      else
        dst = *AT (fr->obj, f->off, char *) + (*n - 1) * elem_size (f);
      kind = f->kind == OCI_K_STRVEC || f->kind == OCI_K_STRMAP ? OCI_K_STR
             : f->kind == OCI_K_U32VEC                           ? OCI_K_U32
                                                                  : OCI_K_OBJ;
      if (kind == OCI_K_OBJ)
        {
          /* The element is the struct itself, not a pointer to one. */
          if (tok != J_OBJECT)
            return type_error (&s->path, "object", tok, s->err), 0;
          return push (s, F_OBJECT, f->sub, dst, NULL);
        }
    }

  switch (kind)
    {
    case OCI_K_BOOL:
      if (tok != J_BOOL)
        return type_error (&s->path, "boolean", tok, s->err), 0;
      *(bool *) dst = v != NULL;
      return 1;
    case OCI_K_STR:
      if (tok != J_STRING)
        return type_error (&s->path, "string", tok, s->err), 0;
      return (*(char **) dst = dup_bytes (s, v, len)) != NULL;
    case OCI_K_I32:
    case OCI_K_U32:
    case OCI_K_U16:
    case OCI_K_I64:
    case OCI_K_U64:
      {
        char buf[64];
        cleanup_free char *big = NULL;
        const char *raw = buf;
        bool is_signed = kind == OCI_K_I32 || kind == OCI_K_I64;
        if (tok != J_NUMBER)
          return type_error (&s->path, is_signed ? "integer" : "unsigned integer", tok, s->err),
                 0;
        if (len < sizeof buf)
          memcpy (buf, v, len), buf[len] = '\0';
        else if ((raw = big = strndup ((const char *) v, len)) == NULL)
          return oom (s);
        return parse_integer (&s->path, kind, raw, dst, s->err) == 0;
      }
    case OCI_K_STRVEC:
    case OCI_K_U32VEC:
    case OCI_K_OBJVEC:
      if (tok != J_ARRAY)
        return type_error (&s->path, "array", tok, s->err), 0;
      return push (s, F_VECTOR, NULL, fr->obj, f);
    case OCI_K_STRMAP:
    case OCI_K_OBJMAP:
      if (tok != J_OBJECT)
        return type_error (&s->path, "object", tok, s->err), 0;
      return push (s, F_MAP, NULL, fr->obj, f);
    case OCI_K_OBJ:
      if (tok != J_OBJECT)
        return type_error (&s->path, "object", tok, s->err), 0;
      if ((*(void **) dst = calloc (1, f->sub->size)) == NULL)
        return oom (s);
      return push (s, F_OBJECT, f->sub, *(void **) dst, NULL);
    }
  return berth_err_at (s->err, BERTH_E_VALUE, jpath_str (&s->path),
                       "internal: unknown field kind"), 0;
}

static int
on_key (void *ctx, const unsigned char *key, size_t len)
{
  struct sax *s = ctx;
  struct frame *fr = &s->stack[s->depth - 1];
  char name[128];

  if (s->skip)
    return 1;
  if (fr->kind == F_MAP)
    {
      char **k;
      jpath_pop (&s->path, fr->mark);
      if ((k = grow (s, fr, sizeof (char *), fr->field->keys_off)) == NULL
          || grow (s, fr, elem_size (fr->field), fr->field->off) == NULL)
        return 0;
      ++*AT (fr->obj, fr->field->len_off, size_t);
      if ((*k = dup_bytes (s, key, len)) == NULL)
        return 0;
      jpath_push_key (&s->path, *k);
      return 1;
    }
  /* F_OBJECT.  Property names are short; a longer key is unknown. */
  jpath_pop (&s->path, fr->mark);
  fr->field = NULL;
  if (len >= sizeof name || memchr (key, '\0', len) != NULL)
    return 1;
  memcpy (name, key, len);
  name[len] = '\0';
  for (size_t i = 0; i < fr->type->n_fields; i++)
    if (strcmp (fr->type->fields[i].key, name) == 0)
      {
        fr->field = &fr->type->fields[i];
        jpath_push_key (&s->path, name);
        break;
      }
  return 1;
}

static int
on_end (void *ctx)
{
  struct sax *s = ctx;
  struct frame *fr = &s->stack[s->depth - 1];

  if (s->skip)
    {
      s->skip--;
      return 1;
    }
  jpath_pop (&s->path, fr->mark);
  if (fr->kind == F_OBJECT)
    for (size_t i = 0; i < fr->type->n_fields; i++)
      {
        const struct oci_field *f = &fr->type->fields[i];
        if (f->required && !*AT (fr->obj, f->has_off, bool))
          {
            jpath_push_key (&s->path, f->key);
            berth_err_at (s->err, BERTH_E_MISSING, jpath_str (&s->path),
                          "required property is missing");
            return 0;
          }
      }
  s->depth--;
  return 1;
}

static int
on_null (void *ctx)
{
  return on_value (ctx, J_NULL, NULL, 0);
}

static int
on_bool (void *ctx, int b)
{
  /* Any non-NULL pointer stands for true. */
  return on_value (ctx, J_BOOL, b ? (const unsigned char *) "" : NULL, 0);
}

static int
on_number (void *ctx, const char *v, size_t len)
{
  return on_value (ctx, J_NUMBER, (const unsigned char *) v, len);
}

static int
on_string (void *ctx, const unsigned char *v, size_t len)
{
  return on_value (ctx, J_STRING, v, len);
}

static int
on_start_map (void *ctx)
{
  return on_value (ctx, J_OBJECT, NULL, 0);
}

static int
on_start_array (void *ctx)
{
  return on_value (ctx, J_ARRAY, NULL, 0);
}

static const yajl_callbacks sax_callbacks = {
  .yajl_null = on_null,
  .yajl_boolean = on_bool,
  .yajl_number = on_number,
  .yajl_string = on_string,
  .yajl_start_map = on_start_map,
  .yajl_map_key = on_key,
  .yajl_end_map = on_end,
  .yajl_start_array = on_start_array,
  .yajl_end_array = on_end,
};

/* Reject documents nested deeper than OCI_MAX_DEPTH before yajl sees them:
   the parser's frame stack has that many frames, and yajl's own stack grows
   with the nesting.  The scan must see the document's structure as yajl's
   lexer does, comments included (the parser allows them): a quote inside a
   comment must not start a "string" that hides the brackets after it. */
static int
check_shape (const char *data, size_t len, struct berth_error *err)
{
  int depth = 0;
  bool in_string = false, escaped = false;
  const char *nul = memchr (data, '\0', len);

  if (nul != NULL)
    return berth_err (err, BERTH_E_JSON, "invalid JSON: NUL byte at offset %zu",
                      (size_t) (nul - data));
  for (size_t i = 0; i < len; i++)
    {
      char c = data[i];
      if (in_string)
        {
          if (escaped)
            escaped = false;
          else if (c == '\\')
            escaped = true;
          else if (c == '"')
            in_string = false;
          continue;
        }
      if (c == '"')
        in_string = true;
      else if (c == '/' && i + 1 < len && (data[i + 1] == '*' || data[i + 1] == '/'))
        {
          /* Skip the comment; an unterminated one is yajl's error to report. */
          const char *end = data[i + 1] == '*' ? memmem (data + i + 2, len - i - 2, "*/", 2)
                                               : memchr (data + i + 2, '\n', len - i - 2);
          if (end == NULL)
            break;
          i = (size_t) (end - data) + (data[i + 1] == '*');
        }
      else if (c == '{' || c == '[')
        {
          if (++depth > OCI_MAX_DEPTH)
            return berth_err (err, BERTH_E_LIMIT,
                              "JSON is nested deeper than %d levels", OCI_MAX_DEPTH);
        }
      else if (c == '}' || c == ']')
        depth--;
    }
  return 0;
}

/* yajl_tree reports errors without a position; re-run the plain parser on the
   (rare) failure path to say where. */
static int
json_syntax_error (const char *data, size_t len, struct berth_error *err)
{
  yajl_handle h = yajl_alloc (NULL, NULL, NULL);
  size_t line = 1, col = 1, off;
  unsigned char *msg;
  char first[200] = "malformed JSON";
  yajl_status st;

  if (h == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  yajl_config (h, yajl_allow_comments, 1);
  st = yajl_parse (h, (const unsigned char *) data, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse (h);
  off = yajl_get_bytes_consumed (h);
  if (off > len)
    off = len;
  msg = yajl_get_error (h, 0, (const unsigned char *) data, len);
  if (msg)
    {
      const char *m = (const char *) msg;
      if (strncmp (m, "parse error: ", 13) == 0)
        m += 13;
      snprintf (first, sizeof first, "%s", m);
      first[strcspn (first, "\n")] = '\0';
      yajl_free_error (h, msg);
    }
  yajl_free (h);
  for (size_t i = 0; i < off; i++)
    if (data[i] == '\n')
      line++, col = 1;
    else
      col++;
  {
    /* `data` need not be NUL-terminated. */
    size_t blank = 0;
    while (blank < len && strchr (" \t\r\n", data[blank]) != NULL && data[blank] != '\0')
      blank++;
    if (blank == len)
      return berth_err (err, BERTH_E_JSON, "invalid JSON: empty document");
  }
  return berth_err (err, BERTH_E_JSON, "invalid JSON at line %zu, column %zu: %s", line, col,
                    first);
}

int
oci_parse_data (const struct oci_type *t, const char *data, size_t len, const char *source,
                void **out, struct berth_error *err)
{
  struct sax *s;
  yajl_handle h;
  yajl_status st;
  int r = 0;

  *out = NULL;
  berth_err_set_source (err, source);
  if (len > OCI_MAX_DOCUMENT_SIZE)
    return berth_err (err, BERTH_E_LIMIT, "document is larger than %u MiB",
                      OCI_MAX_DOCUMENT_SIZE >> 20);
  if (check_shape (data, len, err) < 0)
    return -1;
  s = calloc (1, sizeof *s);
  if (s == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  s->root_type = t;
  s->err = err;
  h = yajl_alloc (&sax_callbacks, NULL, s);
  if (h == NULL)
    {
      free (s);
      return berth_err_sys (err, ENOMEM, "out of memory");
    }
  yajl_config (h, yajl_allow_comments, 1);
  st = yajl_parse (h, (const unsigned char *) data, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse (h);
  yajl_free (h);
  if (st == yajl_status_error)
    r = json_syntax_error (data, len, err);
  else if (st != yajl_status_ok)
    r = -1; /* a callback said why */
  if (r == 0 && s->root == NULL)
    r = berth_err (err, BERTH_E_JSON, "invalid JSON: empty document");
  if (r < 0)
    oci_free (t, s->root);
  else
    {
      berth_err_set_source (err, "");
      *out = s->root;
    }
  free (s);
  return r;
}

static int
parse_fd (const struct oci_type *t, int fd, const char *source, bool any_file, void **out,
          struct berth_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;
  struct stat st;

  *out = NULL;
  if (fstat (fd, &st) < 0)
    return berth_err_sys (err, errno, "stat %s", source);
  if (S_ISDIR (st.st_mode))
    return berth_err (err, BERTH_E_VALUE, "%s is a directory, not a file", source);
  if (!S_ISREG (st.st_mode) && !any_file)
    return berth_err (err, BERTH_E_VALUE, "%s is not a regular file", source);
  if (!S_ISREG (st.st_mode))
    st.st_size = 0; /* unknown: read up to the limit */
  if ((uint64_t) st.st_size > OCI_MAX_DOCUMENT_SIZE)
    {
      berth_err_set_source (err, source);
      return berth_err (err, BERTH_E_LIMIT, "document is larger than %u MiB",
                        OCI_MAX_DOCUMENT_SIZE >> 20);
    }
  for (;;)
    {
      ssize_t n;
      if (len == cap)
        {
          char *nb;
          cap = cap ? cap * 2 : (size_t) st.st_size + 4096;
          if (cap > OCI_MAX_DOCUMENT_SIZE + 1)
            cap = OCI_MAX_DOCUMENT_SIZE + 1;
          if (len == cap)
            break;
          nb = realloc (buf, cap);
          if (nb == NULL)
            return berth_err_sys (err, ENOMEM, "out of memory");
          buf = nb;
        }
      n = read (fd, buf + len, cap - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return berth_err_sys (err, errno, "read %s", source);
      if (n == 0)
        break;
      len += (size_t) n;
    }
  return oci_parse_data (t, buf ? buf : "", len, source, out, err);
}

int
oci_parse_fd (const struct oci_type *t, int fd, const char *source, void **out,
              struct berth_error *err)
{
  return parse_fd (t, fd, source, false, out, err);
}

int
oci_parse_stream (const struct oci_type *t, int fd, const char *source, void **out,
                  struct berth_error *err)
{
  return parse_fd (t, fd, source, true, out, err);
}

int
oci_parse_file (const struct oci_type *t, const char *file, const char *source, void **out,
                struct berth_error *err)
{
  cleanup_close int fd = open (file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return berth_err_sys (err, errno, "open %s", file);
  return oci_parse_fd (t, fd, source ? source : file, out, err);
}
