/* Generic JSON -> struct parser driven by the descriptor tables.
 *
 * The document is checked for size and nesting depth before yajl sees it, so
 * hostile input costs bounded memory and stack.  Each error names the JSON
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
#include <yajl/yajl_tree.h>

#define AT(obj, off, T) ((T *) ((char *) (obj) + (off)))

struct jpath {
  char buf[256];
  size_t len;
};

int
oci_path_key (char *dst, size_t size, const char *prefix, const char *key)
{
  bool plain = *key != '\0';

  for (const char *c = key; *c; c++)
    if (!isalnum ((unsigned char) *c) && *c != '_')
      plain = false;
  return snprintf (dst, size, plain ? "%s.%s" : "%s[\"%s\"]", prefix, key);
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
  size_t old = p->len;
  int r = snprintf (p->buf + p->len, sizeof p->buf - p->len, "[%zu]", i);
  if (r > 0)
    p->len = p->len + (size_t) r < sizeof p->buf ? p->len + (size_t) r : sizeof p->buf - 1;
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

static const char *
json_type_name (yajl_val v)
{
  if (v == NULL)
    return "nothing";
  switch (v->type)
    {
    case yajl_t_string:
      return "string";
    case yajl_t_number:
      return "number";
    case yajl_t_object:
      return "object";
    case yajl_t_array:
      return "array";
    case yajl_t_true:
    case yajl_t_false:
      return "boolean";
    case yajl_t_null:
      return "null";
    default:
      return "unknown";
    }
}

static int
type_error (struct jpath *p, const char *want, yajl_val v, struct berth_error *err)
{
  return berth_err_at (err, BERTH_E_TYPE, jpath_str (p), "expected %s, got %s", want,
                       json_type_name (v));
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
parse_integer (struct jpath *p, enum oci_kind kind, yajl_val v, void *dst,
               struct berth_error *err)
{
  const char *raw;
  bool is_signed = kind == OCI_K_I32 || kind == OCI_K_I64;
  char *end = NULL;

  if (v == NULL || v->type != yajl_t_number)
    return type_error (p, is_signed ? "integer" : "unsigned integer", v, err);
  raw = v->u.number.r;
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

static int
dup_string (struct jpath *p, yajl_val v, char **dst, struct berth_error *err)
{
  if (v == NULL || v->type != yajl_t_string)
    return type_error (p, "string", v, err);
  *dst = strdup (v->u.string);
  if (*dst == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  return 0;
}

static int parse_fields (const struct oci_type *t, yajl_val obj, void *out, struct jpath *p,
                         struct berth_error *err);

static int
parse_object_alloc (const struct oci_type *t, yajl_val v, void **dst, struct jpath *p,
                    struct berth_error *err)
{
  if (v == NULL || v->type != yajl_t_object)
    return type_error (p, "object", v, err);
  *dst = calloc (1, t->size);
  if (*dst == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  return parse_fields (t, v, *dst, p, err);
}

static void *
calloc_vec (size_t n, size_t size, struct berth_error *err)
{
  /* One extra element: string vectors stay NULL-terminated for execve. */
  void *v = calloc (n + 1, size);
  if (v == NULL)
    berth_err_sys (err, ENOMEM, "out of memory");
  return v;
}

static int
parse_field (const struct oci_field *f, yajl_val v, void *obj, struct jpath *p,
             struct berth_error *err)
{
  size_t n, i, mark;

  switch (f->kind)
    {
    case OCI_K_BOOL:
      if (v->type != yajl_t_true && v->type != yajl_t_false)
        return type_error (p, "boolean", v, err);
      *AT (obj, f->off, bool) = v->type == yajl_t_true;
      return 0;

    case OCI_K_STR:
      return dup_string (p, v, AT (obj, f->off, char *), err);

    case OCI_K_I32:
    case OCI_K_U32:
    case OCI_K_U16:
    case OCI_K_I64:
    case OCI_K_U64:
      return parse_integer (p, f->kind, v, AT (obj, f->off, char), err);

    case OCI_K_STRVEC:
    case OCI_K_U32VEC:
    case OCI_K_OBJVEC:
      {
        size_t elem = f->kind == OCI_K_STRVEC   ? sizeof (char *)
                      : f->kind == OCI_K_U32VEC ? sizeof (uint32_t)
                                                : f->sub->size;
        char *vec;
        if (v->type != yajl_t_array)
          return type_error (p, "array", v, err);
        n = v->u.array.len;
        vec = calloc_vec (n, elem, err);
        if (vec == NULL)
          return -1;
        *AT (obj, f->off, char *) = vec;
        *AT (obj, f->len_off, size_t) = n;
        for (i = 0; i < n; i++)
          {
            yajl_val e = v->u.array.values[i];
            int r;
            mark = jpath_push_index (p, i);
            if (f->kind == OCI_K_STRVEC)
              r = dup_string (p, e, (char **) (vec + i * elem), err);
            else if (f->kind == OCI_K_U32VEC)
              r = parse_integer (p, OCI_K_U32, e, vec + i * elem, err);
            else if (e->type != yajl_t_object)
              r = type_error (p, "object", e, err);
            else
              r = parse_fields (f->sub, e, vec + i * elem, p, err);
            if (r < 0)
              return r;
            jpath_pop (p, mark);
          }
        return 0;
      }

    case OCI_K_STRMAP:
    case OCI_K_OBJMAP:
      {
        size_t elem = f->kind == OCI_K_STRMAP ? sizeof (char *) : f->sub->size;
        char **keys;
        char *vals;
        if (v->type != yajl_t_object)
          return type_error (p, "object", v, err);
        n = v->u.object.len;
        keys = calloc_vec (n, sizeof (char *), err);
        if (keys == NULL)
          return -1;
        *AT (obj, f->keys_off, char **) = keys;
        vals = calloc_vec (n, elem, err);
        if (vals == NULL)
          return -1;
        *AT (obj, f->off, char *) = vals;
        *AT (obj, f->len_off, size_t) = n;
        for (i = 0; i < n; i++)
          {
            yajl_val e = v->u.object.values[i];
            int r;
            keys[i] = strdup (v->u.object.keys[i]);
            if (keys[i] == NULL)
              return berth_err_sys (err, ENOMEM, "out of memory");
            mark = jpath_push_key (p, keys[i]);
            if (f->kind == OCI_K_STRMAP)
              r = dup_string (p, e, (char **) (vals + i * elem), err);
            else if (e->type != yajl_t_object)
              r = type_error (p, "object", e, err);
            else
              r = parse_fields (f->sub, e, vals + i * elem, p, err);
            if (r < 0)
              return r;
            jpath_pop (p, mark);
          }
        return 0;
      }

    case OCI_K_OBJ:
      return parse_object_alloc (f->sub, v, AT (obj, f->off, void *), p, err);
    }
  return berth_err_at (err, BERTH_E_VALUE, jpath_str (p), "internal: unknown field kind");
}

/* The last occurrence of a key wins, as with Go's encoding/json. */
static yajl_val
object_get (yajl_val obj, const char *key)
{
  for (size_t i = obj->u.object.len; i-- > 0;)
    if (strcmp (obj->u.object.keys[i], key) == 0)
      return obj->u.object.values[i];
  return NULL;
}

static int
parse_fields (const struct oci_type *t, yajl_val obj, void *out, struct jpath *p,
              struct berth_error *err)
{
  for (size_t i = 0; i < t->n_fields; i++)
    {
      const struct oci_field *f = &t->fields[i];
      yajl_val v = object_get (obj, f->key);
      size_t mark = jpath_push_key (p, f->key);

      if (v == NULL || v->type == yajl_t_null)
        {
          if (f->required)
            return berth_err_at (err, BERTH_E_MISSING, jpath_str (p),
                                 "required property is missing");
          jpath_pop (p, mark);
          continue;
        }
      if (parse_field (f, v, out, p, err) < 0)
        return -1;
      *AT (out, f->has_off, bool) = true;
      jpath_pop (p, mark);
    }
  return 0;
}

/* Reject documents nested deeper than OCI_MAX_DEPTH before building a tree:
   yajl frees its tree recursively.  The scan must see the document's
   structure as yajl's lexer does, comments included (yajl_tree_parse allows
   them): a quote inside a comment must not start a "string" that hides the
   brackets after it, or a deep document gets through to yajl and overflows
   the stack. */
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
  if (len == 0 || strspn (data, " \t\r\n") == len)
    return berth_err (err, BERTH_E_JSON, "invalid JSON: empty document");
  return berth_err (err, BERTH_E_JSON, "invalid JSON at line %zu, column %zu: %s", line, col,
                    first);
}

int
oci_parse_data (const struct oci_type *t, const char *data, size_t len, const char *source,
                void **out, struct berth_error *err)
{
  cleanup_free char *copy = NULL;
  yajl_val tree;
  char ebuf[256];
  struct jpath path = { .len = 0 };
  void *obj = NULL;
  int r;

  *out = NULL;
  berth_err_set_source (err, source);
  if (len > OCI_MAX_DOCUMENT_SIZE)
    return berth_err (err, BERTH_E_LIMIT, "document is larger than %u MiB",
                      OCI_MAX_DOCUMENT_SIZE >> 20);
  if (check_shape (data, len, err) < 0)
    return -1;
  copy = malloc (len + 1);
  if (copy == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  memcpy (copy, data, len);
  copy[len] = '\0';
  tree = yajl_tree_parse (copy, ebuf, sizeof ebuf);
  if (tree == NULL)
    return json_syntax_error (copy, len, err);
  if (tree->type != yajl_t_object)
    {
      r = type_error (&path, "object", tree, err);
      yajl_tree_free (tree);
      return r;
    }
  path.buf[0] = '\0';
  r = parse_object_alloc (t, tree, &obj, &path, err);
  yajl_tree_free (tree);
  if (r < 0)
    {
      oci_free (t, obj);
      return r;
    }
  berth_err_set_source (err, "");
  *out = obj;
  return 0;
}

int
oci_parse_fd (const struct oci_type *t, int fd, const char *source, void **out,
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
  if (!S_ISREG (st.st_mode))
    return berth_err (err, BERTH_E_VALUE, "%s is not a regular file", source);
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
oci_parse_file (const struct oci_type *t, const char *file, const char *source, void **out,
                struct berth_error *err)
{
  cleanup_close int fd = open (file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return berth_err_sys (err, errno, "open %s", file);
  return oci_parse_fd (t, fd, source ? source : file, out, err);
}
