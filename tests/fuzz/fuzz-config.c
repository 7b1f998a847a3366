/* libFuzzer target over libocispec: parse, validate, emit, re-parse.
 *
 * Properties checked on every input (a violation aborts, which libFuzzer
 * reports as a crash, like any ASan/UBSan finding):
 *  - parsing either succeeds or fails with an error kind and a formatted,
 *    NUL-terminated message (no half-filled errors);
 *  - whatever parses survives validation without a crash;
 *  - round trip: parse(emit(x)) succeeds and oci_equal()s x (compact or
 *    indented output, by the input's length), and emitting the re-parsed
 *    document gives the same bytes (the emitter is a function of the
 *    model, not of the input's spelling);
 *  - limits: an accepted document is never nested deeper than
 *    OCI_MAX_DEPTH, measured independently with yajl's own tree (the limit
 *    sizes the parser's frame stack and bounds yajl's, so a way around it
 *    is a bug even when no input in the corpus is deep enough to do harm).
 * The same bytes are tried as config.json and as one of a process (exec
 * --process), the OCI state and the features document, so all four entry
 * types get fuzzed by one corpus.
 */
#include "spec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#define REQUIRE(cond, ...)                                                     \
  do                                                                           \
    {                                                                          \
      if (!(cond))                                                             \
        {                                                                      \
          fprintf (stderr, "fuzz-config: property violated: " __VA_ARGS__);    \
          fputc ('\n', stderr);                                                \
          abort ();                                                            \
        }                                                                      \
    }                                                                          \
  while (0)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_error (const struct berth_error *err, const char *what)
{
  char line[2048];

  REQUIRE (err->kind != BERTH_E_NONE, "%s failed without an error kind", what);
  REQUIRE (memchr (err->msg, '\0', sizeof err->msg) && err->msg[0] != '\0',
           "%s failed with an empty or unterminated message", what);
  REQUIRE (memchr (err->path, '\0', sizeof err->path), "%s: unterminated path", what);
  REQUIRE (memchr (err->source, '\0', sizeof err->source), "%s: unterminated source", what);
  berth_err_format (err, line, sizeof line);
  REQUIRE (line[0] != '\0', "%s: empty formatted error", what);
}

static size_t
tree_depth (yajl_val v)
{
  size_t d = 0, n;

  if (v == NULL)
    return 0;
  if (YAJL_IS_OBJECT (v))
    for (n = 0; n < v->u.object.len; n++)
      {
        size_t s = tree_depth (v->u.object.values[n]);
        d = s > d ? s : d;
      }
  else if (YAJL_IS_ARRAY (v))
    for (n = 0; n < v->u.array.len; n++)
      {
        size_t s = tree_depth (v->u.array.values[n]);
        d = s > d ? s : d;
      }
  else
    return 0;
  return d + 1;
}

/* The nesting depth yajl itself sees (comments allowed, as the parser
   allows them).  Only called on documents libocispec accepted, whose depth
   is then bounded; an input it wrongly accepted can be at most a few
   thousand levels deep at libFuzzer's lengths, well within the stack. */
static size_t
yajl_depth (const uint8_t *data, size_t size)
{
  char *copy = malloc (size + 1), ebuf[128];
  yajl_val tree;
  size_t d;

  REQUIRE (copy != NULL, "out of memory");
  memcpy (copy, data, size);
  copy[size] = '\0';
  tree = yajl_tree_parse (copy, ebuf, sizeof ebuf);
  free (copy);
  d = tree_depth (tree);
  yajl_tree_free (tree);
  return d;
}

static void
round_trip (const struct oci_type *t, const void *obj, const char *indent)
{
  struct berth_error err = { 0 };
  char *json = NULL, *json2 = NULL;
  size_t len = 0, len2 = 0;
  void *again = NULL;

  REQUIRE (oci_emit (t, obj, indent, &json, &len, &err) == 0, "emit %s: %s", t->name, err.msg);
  REQUIRE (json != NULL && strlen (json) == len, "emit %s: length mismatch", t->name);
  if (oci_parse_data (t, json, len, "emitted", &again, &err) < 0)
    REQUIRE (0, "re-parse of emitted %s failed: %s: %s\n%s", t->name, err.path, err.msg, json);
  REQUIRE (oci_equal (t, obj, again), "parse(emit(x)) != x for %s:\n%s", t->name, json);
  REQUIRE (oci_emit (t, again, indent, &json2, &len2, &err) == 0, "second emit %s", t->name);
  REQUIRE (len == len2 && memcmp (json, json2, len) == 0, "emit is not stable for %s", t->name);
  oci_free (t, again);
  free (json);
  free (json2);
}

/* Collect mode (berth check) against stop mode (create): the same rules, so
   collect finds a problem exactly when stop does, and stop's is collect's
   first. */
struct collected {
  size_t n;
  struct berth_error first;
};

static int
collect (void *data, bool warning, const struct berth_error *e)
{
  struct collected *c = data;

  REQUIRE (!warning, "validate.c reported a warning");
  check_error (e, "collecting validator");
  if (c->n++ == 0)
    c->first = *e;
  return 0;
}

static void
same_rules (const void *obj, bool config, int stopped, const struct berth_error *err)
{
  struct collected c = { 0 };
  struct berth_reporter rep = { .collect = collect, .data = &c };
  int r = config ? oci_config_report (obj, &rep) : oci_process_report (obj, "", &rep);

  REQUIRE (r == 0, "a collecting validator stopped");
  REQUIRE ((stopped < 0) == (c.n > 0), "stop mode %s, collect mode found %zu problems",
           stopped < 0 ? "failed" : "passed", c.n);
  REQUIRE (stopped == 0 || (strcmp (err->path, c.first.path) == 0
                            && strcmp (err->msg, c.first.msg) == 0),
           "stop mode's error (%s: %s) is not collect mode's first (%s: %s)", err->path,
           err->msg, c.first.path, c.first.msg);
}

/* Returns whether the document parsed as a `t`. */
static bool
one_type (const struct oci_type *t, const uint8_t *data, size_t size)
{
  struct berth_error err = { 0 };
  void *obj = NULL;

  if (oci_parse_data (t, (const char *) data, size, t->name, &obj, &err) < 0)
    {
      REQUIRE (obj == NULL, "failed parse of %s left an object", t->name);
      check_error (&err, t->name);
      return false;
    }
  REQUIRE (obj != NULL, "parse of %s succeeded without an object", t->name);
  REQUIRE (yajl_depth (data, size) <= OCI_MAX_DEPTH,
           "%s accepted a document nested deeper than %d levels", t->name, OCI_MAX_DEPTH);

  if (t == &oci_type_config)
    {
      int r;
      berth_err_clear (&err);
      if ((r = oci_config_validate (obj, &err)) < 0)
        check_error (&err, "oci_config_validate");
      same_rules (obj, true, r, &err);
    }
  else if (t == &oci_type_process)
    {
      int r;
      berth_err_clear (&err);
      if ((r = oci_process_validate (obj, "", &err)) < 0)
        check_error (&err, "oci_process_validate");
      same_rules (obj, false, r, &err);
    }
  /* Compact or indented output, by the length's parity: both get covered
     without paying for two round trips per input. */
  round_trip (t, obj, size % 2 ? "\t" : NULL);
  REQUIRE (oci_equal (t, obj, obj), "%s is not equal to itself", t->name);
  oci_free (t, obj);
  return true;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* config.json always; one of the other types, picked by the length so
     that a crash replays the same way.  Trying all four on every input
     would spend most of the time re-reading documents that fail the same
     way on their first required property. */
  static const struct oci_type *const others[] = {
    &oci_type_process, &oci_type_state, &oci_type_features,
  };

  if (one_type (&oci_type_config, data, size))
    {
      /* The typed entry point create uses: parse + validate in one. */
      struct berth_error err = { 0 };
      struct oci_config *c = NULL;
      if (oci_config_parse_data ((const char *) data, size, &c, &err) < 0)
        {
          REQUIRE (c == NULL, "failed oci_config_parse_data left a config");
          check_error (&err, "oci_config_parse_data");
        }
      oci_config_free (c);
    }
  one_type (others[size % 3], data, size);
  return 0;
}
