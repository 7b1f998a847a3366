/* libocispec — the declarative machinery behind the spec model.
 *
 * Contract: a JSON document type is described once, as an X-macro list of
 * its fields (see spec.h).  From that one list this header generates the C
 * struct and a descriptor table; parse.c, emit.c and model.c walk the table,
 * so parsing, emitting, freeing, comparing and the JSON path named in an
 * error can never disagree with the struct.
 *
 * Every field `m` also gets `bool has_m`, true when the property was present
 * (or set), so that "absent" and "zero" stay distinct as the spec requires.
 * Arrays and maps get `size_t m_len`; maps get `char **m_keys` beside the
 * values.  JSON null is treated as absent, as Go's encoding/json does.
 */
#ifndef OCI_MODEL_H
#define OCI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* GNU C predefines `linux` as 1; the spec has a property of that name. */
#undef linux

enum oci_kind {
  OCI_K_BOOL,
  OCI_K_STR,
  OCI_K_I32,
  OCI_K_U32,
  OCI_K_U16,
  OCI_K_I64,
  OCI_K_U64,
  OCI_K_STRVEC,
  OCI_K_U32VEC,
  OCI_K_STRMAP,
  OCI_K_OBJ,
  OCI_K_OBJVEC,
  OCI_K_OBJMAP,
};

enum { OCI_OPT = 0, OCI_REQ = 1 };

struct oci_type;

struct oci_field {
  const char *key;
  enum oci_kind kind;
  size_t off;      /* the value */
  size_t has_off;  /* bool has_<m> */
  size_t len_off;  /* size_t <m>_len, for vectors and maps */
  size_t keys_off; /* char **<m>_keys, for maps */
  const struct oci_type *sub;
  int required;
};

struct oci_type {
  const char *name;
  size_t size;
  const struct oci_field *fields;
  size_t n_fields;
};

/* ---- struct members, one expansion per kind ---------------------------- */
#define OCI_MEMBER_BOOL(m, S) bool m;
#define OCI_MEMBER_STR(m, S) char *m;
#define OCI_MEMBER_I32(m, S) int32_t m;
#define OCI_MEMBER_U32(m, S) uint32_t m;
#define OCI_MEMBER_U16(m, S) uint16_t m;
#define OCI_MEMBER_I64(m, S) int64_t m;
#define OCI_MEMBER_U64(m, S) uint64_t m;
#define OCI_MEMBER_STRVEC(m, S) char **m; size_t m##_len;
#define OCI_MEMBER_U32VEC(m, S) uint32_t *m; size_t m##_len;
#define OCI_MEMBER_STRMAP(m, S) char **m##_keys; char **m; size_t m##_len;
#define OCI_MEMBER_OBJ(m, S) struct oci_##S *m;
#define OCI_MEMBER_OBJVEC(m, S) struct oci_##S *m; size_t m##_len;
#define OCI_MEMBER_OBJMAP(m, S) char **m##_keys; struct oci_##S *m; size_t m##_len;

#define OCI_MEMBER(T, m, key, kind, S, req) OCI_MEMBER_##kind (m, S) bool has_##m;

/* ---- descriptor entries ------------------------------------------------ */
#define OCI_LEN_BOOL(T, m) 0
#define OCI_LEN_STR(T, m) 0
#define OCI_LEN_I32(T, m) 0
#define OCI_LEN_U32(T, m) 0
#define OCI_LEN_U16(T, m) 0
#define OCI_LEN_I64(T, m) 0
#define OCI_LEN_U64(T, m) 0
#define OCI_LEN_OBJ(T, m) 0
#define OCI_LEN_STRVEC(T, m) offsetof (struct oci_##T, m##_len)
#define OCI_LEN_U32VEC(T, m) offsetof (struct oci_##T, m##_len)
#define OCI_LEN_STRMAP(T, m) offsetof (struct oci_##T, m##_len)
#define OCI_LEN_OBJVEC(T, m) offsetof (struct oci_##T, m##_len)
#define OCI_LEN_OBJMAP(T, m) offsetof (struct oci_##T, m##_len)

#define OCI_KEYS_STRMAP(T, m) offsetof (struct oci_##T, m##_keys)
#define OCI_KEYS_OBJMAP(T, m) offsetof (struct oci_##T, m##_keys)
#define OCI_KEYS_BOOL(T, m) 0
#define OCI_KEYS_STR(T, m) 0
#define OCI_KEYS_I32(T, m) 0
#define OCI_KEYS_U32(T, m) 0
#define OCI_KEYS_U16(T, m) 0
#define OCI_KEYS_I64(T, m) 0
#define OCI_KEYS_U64(T, m) 0
#define OCI_KEYS_OBJ(T, m) 0
#define OCI_KEYS_STRVEC(T, m) 0
#define OCI_KEYS_U32VEC(T, m) 0
#define OCI_KEYS_OBJVEC(T, m) 0

#define OCI_SUB_OBJ(S) &oci_type_##S
#define OCI_SUB_OBJVEC(S) &oci_type_##S
#define OCI_SUB_OBJMAP(S) &oci_type_##S
#define OCI_SUB_BOOL(S) NULL
#define OCI_SUB_STR(S) NULL
#define OCI_SUB_I32(S) NULL
#define OCI_SUB_U32(S) NULL
#define OCI_SUB_U16(S) NULL
#define OCI_SUB_I64(S) NULL
#define OCI_SUB_U64(S) NULL
#define OCI_SUB_STRVEC(S) NULL
#define OCI_SUB_U32VEC(S) NULL
#define OCI_SUB_STRMAP(S) NULL

#define OCI_DESCRIPTOR(T, m, key, kind, S, req)                                \
  { key, OCI_K_##kind, offsetof (struct oci_##T, m),                          \
    offsetof (struct oci_##T, has_##m), OCI_LEN_##kind (T, m),                \
    OCI_KEYS_##kind (T, m), OCI_SUB_##kind (S), OCI_##req },

/* Declare `struct oci_T` and `extern const struct oci_type oci_type_T`
   from the field list OCI_FIELDS_T. */
#define OCI_DECLARE_STRUCT(T) struct oci_##T { OCI_FIELDS_##T (OCI_MEMBER) };
#define OCI_DECLARE_TYPE(T) extern const struct oci_type oci_type_##T;
/* Define the descriptor table (in exactly one .c file). */
#define OCI_DEFINE_TYPE(T)                                                     \
  static const struct oci_field oci_fields_##T[] = { OCI_FIELDS_##T (OCI_DESCRIPTOR) }; \
  const struct oci_type oci_type_##T = { #T, sizeof (struct oci_##T), oci_fields_##T, \
                                         sizeof oci_fields_##T / sizeof oci_fields_##T[0] };

/* Set a field and mark it present. */
#define OCI_SET(obj, m, value) ((obj)->m = (value), (obj)->has_##m = true)

/* ---- generic operations (model.c, parse.c, emit.c) --------------------- */

/* Parse `len` bytes of JSON as an object of type `t` into a freshly
   allocated struct.  `source` names the document in errors ("config.json").
   Returns 0, or < 0 with err->path set to the offending JSON path. */
int oci_parse_data (const struct oci_type *t, const char *data, size_t len,
                    const char *source, void **out, struct berth_error *err);
/* As oci_parse_data, from a regular file (anything else is refused). */
int oci_parse_fd (const struct oci_type *t, int fd, const char *source, void **out,
                  struct berth_error *err);
/* As oci_parse_fd, from any file but a directory: a pipe too, read until
   its end or one byte past the size limit. */
int oci_parse_stream (const struct oci_type *t, int fd, const char *source, void **out,
                      struct berth_error *err);
int oci_parse_file (const struct oci_type *t, const char *file, const char *source,
                    void **out, struct berth_error *err);

/* Emit as JSON; *out is NUL-terminated and malloc'd. */
/* indent: NULL for compact output, else the indent string ("\t", "  "). */
int oci_emit (const struct oci_type *t, const void *obj, const char *indent, char **out,
              size_t *out_len, struct berth_error *err);

/* Append a map key to a JSON path the way errors spell it: ".key" for plain
   identifiers, ["key"] otherwise.  Returns snprintf's count. */
int oci_path_key (char *dst, size_t size, const char *prefix, const char *key);

void oci_free (const struct oci_type *t, void *obj);
/* Free one property of `obj` and mark it absent. */
void oci_field_clear (const struct oci_field *f, void *obj);
bool oci_equal (const struct oci_type *t, const void *a, const void *b);
/* Feed `sink` an unambiguous byte encoding of `obj`: equal objects (in the
   sense of oci_equal) give equal bytes, different ones different bytes.
   For hashing without building JSON first. */
typedef void (*oci_sink) (void *ctx, const void *data, size_t len);
void oci_digest (const struct oci_type *t, const void *obj, oci_sink sink, void *ctx);

/* Limits enforced before parsing (robustness against hostile input). */
#define OCI_MAX_DOCUMENT_SIZE (32u << 20)
#define OCI_MAX_DEPTH 64

#endif
