/* Unit tests for libocispec: every field round-trips, every error kind
   names the right JSON path, limits hold. */
#include "spec.h"
#include "cleanup.h"
#include "../../tests/unit/tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AT(obj, off, T) ((T *) ((char *) (obj) + (off)))

static char *
read_data_file (const char *name, size_t *len)
{
  char path[1024];
  FILE *f;
  char *buf;
  long n;

  snprintf (path, sizeof path, "%s/%s", TEST_DATA_DIR, name);
  f = fopen (path, "rb");
  if (f == NULL)
    return NULL;
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  buf = malloc ((size_t) n + 1);
  if (fread (buf, 1, (size_t) n, f) != (size_t) n)
    n = 0;
  buf[n] = '\0';
  fclose (f);
  *len = (size_t) n;
  return buf;
}

/* Every field of every type reachable from config must be present at least
   once somewhere in full.json: then it really exercises the whole table. */
struct seen {
  const struct oci_type *type;
  bool field[64];
};
static struct seen seen_types[128];
static size_t n_seen_types;

static struct seen *
seen_for (const struct oci_type *t)
{
  for (size_t i = 0; i < n_seen_types; i++)
    if (seen_types[i].type == t)
      return &seen_types[i];
  seen_types[n_seen_types].type = t;
  return &seen_types[n_seen_types++];
}

static void
mark_coverage (const struct oci_type *t, const void *obj)
{
  struct seen *s = seen_for (t);
  for (size_t i = 0; i < t->n_fields; i++)
    {
      const struct oci_field *f = &t->fields[i];
      if (!*(const bool *) ((const char *) obj + f->has_off))
        continue;
      s->field[i] = true;
      if (f->kind == OCI_K_OBJ)
        mark_coverage (f->sub, *(void *const *) ((const char *) obj + f->off));
      else if (f->kind == OCI_K_OBJVEC || f->kind == OCI_K_OBJMAP)
        {
          size_t n = *(const size_t *) ((const char *) obj + f->len_off);
          const char *v = *(char *const *) ((const char *) obj + f->off);
          for (size_t j = 0; j < n; j++)
            mark_coverage (f->sub, v + j * f->sub->size);
        }
    }
}

static int
count_uncovered (void)
{
  int missing = 0;
  for (size_t i = 0; i < n_seen_types; i++)
    for (size_t j = 0; j < seen_types[i].type->n_fields; j++)
      if (!seen_types[i].field[j])
        {
          tap_diag ("full.json never sets %s.%s", seen_types[i].type->name,
                    seen_types[i].type->fields[j].key);
          missing++;
        }
  return missing;
}

static void
test_roundtrip (void)
{
  size_t len = 0;
  cleanup_free char *data = read_data_file ("full.json", &len);
  cleanup_free char *out = NULL;
  cleanup_free char *out2 = NULL;
  cleanup_config struct oci_config *a = NULL;
  cleanup_config struct oci_config *b = NULL;
  struct berth_error err = { 0 };
  char ebuf[1024];
  int missing = 0;

  if (!tap_ok (data != NULL, "read full.json"))
    return;
  if (!tap_ok (oci_config_parse_data (data, len, &a, &err) == 0, "full.json parses (%s)",
               err.kind ? berth_err_format (&err, ebuf, sizeof ebuf) : "ok"))
    return;
  mark_coverage (&oci_type_config, a);
  missing = count_uncovered ();
  tap_ok (missing == 0, "full.json sets every field of the spec model (%d missing)", missing);
  tap_ok (oci_emit (&oci_type_config, a, "\t", &out, NULL, &err) == 0, "emit pretty");
  tap_ok (oci_config_parse_data (out, strlen (out), &b, &err) == 0, "emitted JSON parses");
  tap_ok (oci_equal (&oci_type_config, a, b), "parse(emit(parse(x))) == parse(x)");
  tap_ok (oci_emit (&oci_type_config, b, NULL, &out2, NULL, &err) == 0, "emit compact");
  {
    cleanup_config struct oci_config *c = NULL;
    tap_ok (oci_config_parse_data (out2, strlen (out2), &c, &err) == 0
                && oci_equal (&oci_type_config, a, c),
            "compact form round-trips too");
  }
  /* A few values checked by name, including the extremes of their types. */
  tap_ok (a->process->rlimits[0].hard == UINT64_MAX, "uint64 max survives");
  tap_ok (a->linux->resources->memory->swap == -1, "negative int64 survives");
  tap_ok (a->process->oom_score_adj == -17, "negative int32 survives");
  tap_ok (a->process->terminal && a->process->has_terminal, "bool and its presence");
  tap_ok (a->process->capabilities->has_inheritable
              && a->process->capabilities->inheritable_len == 0,
          "empty array is present, not absent");
  tap_ok (strcmp (a->linux->sysctl_keys[0], "net.ipv4.ip_forward") == 0
              && strcmp (a->linux->sysctl[0], "1") == 0,
          "string map keys and values");
  tap_ok (a->process->args[a->process->args_len] == NULL, "string vectors are NULL-terminated");
  tap_ok (strcmp (a->linux->time_offsets_keys[0], "monotonic") == 0
              && a->linux->time_offsets[0].secs == 86400,
          "object maps");
  tap_ok (strstr (out, "\"ociVersion\": \"1.3.0\"") != NULL, "emitted text uses spec keys");
}

static enum berth_error_kind
kind_from_name (const char *s)
{
  for (int k = BERTH_E_NONE; k <= BERTH_E_CHILD; k++)
    if (strcmp (berth_err_kind_name (k), s) == 0)
      return k;
  return -1;
}

static void
test_malformed (void)
{
  size_t len = 0;
  cleanup_free char *data = read_data_file ("malformed.txt", &len);
  char *save = NULL, *line;
  int cases = 0;

  if (!tap_ok (data != NULL, "read malformed.txt"))
    return;
  for (line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *kind, *path, *doc, *bar1, *bar2;
      struct oci_config *c = NULL;
      struct berth_error err = { 0 };
      char ebuf[1200];
      int r;

      if (line[0] == '#')
        continue;
      bar1 = strchr (line, '|');
      bar2 = bar1 ? strchr (bar1 + 1, '|') : NULL;
      if (bar2 == NULL)
        {
          tap_ok (0, "malformed.txt line is not kind|path|doc: %s", line);
          continue;
        }
      *bar1 = *bar2 = '\0';
      kind = line, path = bar1 + 1, doc = bar2 + 1;
      cases++;
      r = oci_config_parse_data (doc, strlen (doc), &c, &err);
      berth_err_format (&err, ebuf, sizeof ebuf);
      tap_ok (r < 0 && c == NULL && err.kind == kind_from_name (kind)
                  && strcmp (err.path, path) == 0 && strcmp (err.source, "config.json") == 0,
              "%s at '%s' -> %s", kind, path, ebuf);
      if (c)
        oci_config_free (c);
    }
  tap_ok (cases >= 30, "at least 30 malformed configs (%d)", cases);
}

static void
test_versions (void)
{
  const char *good[] = { "1.0.0", "1.0.2-dev", "1.1.0-rc.1", "1.2.1", "1.3.0", "1.3.7+dev", "1.0.0-rc5-dev" };
  const char *bad[] = { "", "1", "1.0", "2.0.0", "0.9.0", "1.4.0", "v1.0.0", "1.0.0 ", "1.x.0", "1.0.0-" };
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    tap_ok (oci_version_supported (good[i]), "version %s accepted", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    tap_ok (!oci_version_supported (bad[i]), "version '%s' refused", bad[i]);
}

static void
test_limits_and_leniency (void)
{
  struct berth_error err = { 0 };
  struct oci_config *c = NULL;
  const char *unknown = "{\"ociVersion\": \"1.0.2-dev\", \"root\": {\"path\": \"r\"}, "
                        "\"future\": {\"x\": [1, 2]}, \"process\": null, "
                        "\"linux\": {\"resources\": {\"memory\": {\"limit\": 1}}, \"zzz\": 1}}";
  size_t big = OCI_MAX_DOCUMENT_SIZE + 10;
  char *huge;

  tap_ok (oci_config_parse_data (unknown, strlen (unknown), &c, &err) == 0 && c
              && c->process == NULL && c->linux->resources->memory->limit == 1,
          "unknown properties ignored, null is absent");
  oci_config_free (c);
  c = NULL;

  huge = malloc (big);
  memset (huge, ' ', big);
  tap_ok (oci_config_parse_data (huge, big, &c, &err) < 0 && err.kind == BERTH_E_LIMIT,
          "documents over the size limit are refused before parsing");
  free (huge);

  {
    const char *dup = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"a\"}, "
                      "\"root\": {\"path\": \"b\"}}";
    tap_ok (oci_config_parse_data (dup, strlen (dup), &c, &err) == 0
                && strcmp (c->root->path, "b") == 0,
            "duplicate keys: the last wins");
    oci_config_free (c);
    c = NULL;
  }
  {
    /* The earlier vector is freed (ASan's leak check) and the new one is
       NULL-terminated past its length, as execve needs. */
    const char *dup = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"process\": "
                      "{\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, "
                      "\"args\": [\"a\", \"b\", \"c\", \"d\", \"e\"], \"args\": [\"x\", \"y\", \"z\"]}}";
    tap_ok (oci_config_parse_data (dup, strlen (dup), &c, &err) == 0 && c->process->args_len == 3
                && strcmp (c->process->args[2], "z") == 0 && c->process->args[3] == NULL,
            "a repeated array replaces the earlier one");
    oci_config_free (c);
    c = NULL;
  }
  {
    const char *nul = "{\"ociVersion\": \"1.0.0\"\0, \"root\": {\"path\": \"a\"}}";
    tap_ok (oci_config_parse_data (nul, 45, &c, &err) < 0 && err.kind == BERTH_E_JSON,
            "embedded NUL is a JSON error");
  }
  {
    const char *bad = "{\n  \"ociVersion\": \"1.0.0\",\n  \"root\": {\"path\": }\n}";
    char ebuf[512];
    tap_ok (oci_config_parse_data (bad, strlen (bad), &c, &err) < 0
                && strstr (berth_err_format (&err, ebuf, sizeof ebuf), "line 3") != NULL,
            "syntax errors say where: %s", ebuf);
  }
}

static void
test_state_and_features (void)
{
  struct oci_state s = { 0 };
  struct berth_error err = { 0 };
  cleanup_free char *out = NULL;
  void *back = NULL;
  char *keys[] = { "a", NULL }, *vals[] = { "b", NULL };

  OCI_SET (&s, oci_version, "1.3.0");
  OCI_SET (&s, id, "c1");
  OCI_SET (&s, status, "running");
  OCI_SET (&s, pid, 42);
  OCI_SET (&s, bundle, "/b");
  s.annotations_keys = keys;
  OCI_SET (&s, annotations, vals);
  s.annotations_len = 1;
  tap_ok (oci_emit (&oci_type_state, &s, NULL, &out, NULL, &err) == 0
              && strcmp (out, "{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"status\":\"running\","
                              "\"pid\":42,\"bundle\":\"/b\",\"annotations\":{\"a\":\"b\"}}")
                     == 0,
          "state emits in spec order: %s", out ? out : "(null)");
  tap_ok (oci_parse_data (&oci_type_state, out, strlen (out), "state", &back, &err) == 0
              && oci_equal (&oci_type_state, &s, back),
          "state round-trips");
  oci_free (&oci_type_state, back);
}

/* The nesting limit must see the document as yajl does, comments included:
   a quote in a comment once hid the brackets after it, and a config a few
   MiB deep overflowed the stack in yajl's recursive tree code. */
static void
test_depth_behind_comments (void)
{
  static const char *const hiders[] = { "/* \" */", "// \"\n", "/*/ \" */", "/**/\"x\"" };
  const size_t deep = 1000000;
  struct berth_error err = { 0 };
  struct oci_config *c = NULL;
  char *doc = malloc (2 * deep + 200);
  size_t n;

  for (size_t h = 0; doc && h < sizeof hiders / sizeof hiders[0]; h++)
    {
      bool as_value = h == 3; /* the comment then a string, then the array */
      n = (size_t) sprintf (doc, "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, "
                                 "\"x\": %s%s", hiders[h], as_value ? ", \"y\": " : "");
      memset (doc + n, '[', deep);
      memset (doc + n + deep, ']', deep);
      n += 2 * deep;
      doc[n++] = '}';
      tap_ok (oci_config_parse_data (doc, n, &c, &err) < 0 && err.kind == BERTH_E_LIMIT,
              "nesting behind the comment %zu is refused: %s", h, err.msg);
      oci_config_free (c);
      c = NULL;
    }
  free (doc);
  {
    const char *brackets = "{\"ociVersion\": \"1.0.0\", /* [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ */ \"root\": {\"path\": "
                           "\"r\"} // {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\n}";
    tap_ok (oci_config_parse_data (brackets, strlen (brackets), &c, &err) == 0,
            "brackets inside comments do not count towards the limit");
    oci_config_free (c);
  }
}

/* oci_digest: the bytes of one seccomp section, collected. */
struct bytes {
  unsigned char buf[4096];
  size_t len;
};

static void
collect (void *ctx, const void *data, size_t len)
{
  struct bytes *b = ctx;
  if (b->len + len <= sizeof b->buf)
    memcpy (b->buf + b->len, data, len);
  b->len += len;
}

static bool
digest_of (const char *json, struct bytes *out)
{
  struct berth_error err = { 0 };
  void *obj = NULL;

  out->len = 0;
  if (oci_parse_data (&oci_type_seccomp, json, strlen (json), "seccomp", &obj, &err) < 0)
    return false;
  oci_digest (&oci_type_seccomp, obj, collect, out);
  oci_free (&oci_type_seccomp, obj);
  return out->len <= sizeof out->buf;
}

/* A pipe: refused where a regular file is required (config.json), read to
   its end by oci_parse_stream (exec -p /dev/stdin). */
static void
test_stream (void)
{
  const char *doc = "{\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, \"args\": [\"sh\"]}";
  struct berth_error err = { 0 };
  void *obj = NULL;
  int fds[2];

  if (!tap_ok (pipe (fds) == 0 && write (fds[1], doc, strlen (doc)) == (ssize_t) strlen (doc),
               "a pipe holding a process"))
    return;
  close (fds[1]);
  tap_ok (oci_parse_fd (&oci_type_process, fds[0], "process.json", &obj, &err) < 0
              && obj == NULL && strstr (err.msg, "not a regular file") != NULL,
          "oci_parse_fd refuses a pipe: %s", err.msg);
  tap_ok (oci_parse_stream (&oci_type_process, fds[0], "process.json", &obj, &err) == 0
              && obj != NULL && ((struct oci_process *) obj)->args_len == 1,
          "oci_parse_stream reads it");
  oci_free (&oci_type_process, obj);
  close (fds[0]);
}

static void
test_digest (void)
{
  static const char *const docs[] = {
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"ab\", \"c\"], "
    "\"action\": \"SCMP_ACT_ALLOW\"}]}",
    /* the same names, split elsewhere */
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"a\", \"bc\"], "
    "\"action\": \"SCMP_ACT_ALLOW\"}]}",
    /* an errnoRet of 0 is not an absent one */
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"ab\", \"c\"], "
    "\"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 0}]}",
    /* an empty array is not an absent one */
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [], \"syscalls\": "
    "[{\"names\": [\"ab\", \"c\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"ab\", \"c\"], "
    "\"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": "
    "\"SCMP_CMP_EQ\"}]}]}",
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"ab\", \"c\"], "
    "\"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 2, \"op\": "
    "\"SCMP_CMP_EQ\"}]}]}",
  };
  static struct bytes d[sizeof docs / sizeof docs[0]], again;
  size_t n = sizeof docs / sizeof docs[0];
  bool ok = true;

  for (size_t i = 0; i < n; i++)
    ok = ok && digest_of (docs[i], &d[i]);
  tap_ok (ok, "oci_digest of %zu seccomp sections", n);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (d[i].len == d[j].len && memcmp (d[i].buf, d[j].buf, d[i].len) == 0)
        ok = false, tap_diag ("documents %zu and %zu give the same bytes", i, j);
  tap_ok (ok, "different sections give different bytes");
  /* Spelling does not matter: key order, spacing, a repeated key. */
  tap_ok (digest_of ("{\"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"x\"], "
                     "\"names\": [\"ab\",\"c\"]}], \"defaultAction\": \"SCMP_ACT_ERRNO\"}",
                     &again)
              && again.len == d[0].len && memcmp (again.buf, d[0].buf, again.len) == 0,
          "equal sections give equal bytes");
}

/* oci_path_key appends by hand (the parser calls it for every key): the
   same text, truncation and count as the snprintf it replaced. */
static void
test_path_key (void)
{
  static const char *const keys[] = { "linux", "net.ipv4.ip_forward", "", "a_b9" };
  bool same = true;

  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
    for (size_t size = 0; size < 32; size++)
      {
        char got[32], want[32];
        bool plain = *keys[k] && strspn (keys[k], "abcdefghijklmnopqrstuvwxyz"
                                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
                                     == strlen (keys[k]);
        memset (got, 'x', sizeof got);
        memset (want, 'x', sizeof want);
        int g = oci_path_key (got, size, ".linux", keys[k]);
        int w = snprintf (want, size, plain ? "%s.%s" : "%s[\"%s\"]", ".linux", keys[k]);
        if (g != w || memcmp (got, want, sizeof got) != 0)
          {
            tap_diag ("key \"%s\", size %zu: %d \"%.*s\" against %d \"%.*s\"", keys[k], size, g,
                      (int) size, got, w, (int) size, want);
            same = false;
          }
      }
  tap_ok (same, "oci_path_key: snprintf's text, truncation and count for every size");
}

int
main (void)
{
  test_roundtrip ();
  test_malformed ();
  test_versions ();
  test_limits_and_leniency ();
  test_depth_behind_comments ();
  test_state_and_features ();
  test_digest ();
  test_stream ();
  test_path_key ();
  return tap_done ();
}
