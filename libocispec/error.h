/* berth — errors as values.
 *
 * Contract: every fallible function in berth and libocispec returns a value
 * < 0 on failure and fills the caller's struct berth_error; on success it
 * returns >= 0 and leaves the error untouched.  Nothing below main() prints
 * an error: main formats it once, as one line, for stderr and the log.
 */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum berth_error_kind {
  BERTH_E_NONE = 0,
  BERTH_E_SYSTEM,      /* a system call failed; errnum says why */
  BERTH_E_JSON,        /* the document is not well-formed JSON */
  BERTH_E_TYPE,        /* a JSON value has the wrong type */
  BERTH_E_MISSING,     /* a required property is absent */
  BERTH_E_RANGE,       /* a number does not fit its field */
  BERTH_E_VALUE,       /* a value is well-typed but not allowed */
  BERTH_E_VERSION,     /* unsupported ociVersion */
  BERTH_E_UNSUPPORTED, /* valid, but berth or this host cannot do it */
  BERTH_E_LIMIT,       /* input too large or too deeply nested */
  BERTH_E_NOT_FOUND,   /* container (or other named object) does not exist */
  BERTH_E_EXISTS,      /* container already exists */
  BERTH_E_STATE,       /* operation not allowed in the container's state */
  BERTH_E_USAGE,       /* bad command line */
  BERTH_E_CHILD,       /* failure reported by the container's init */
};

struct berth_error {
  int errnum;                 /* errno value, 0 when not a system error */
  enum berth_error_kind kind;
  char source[64];            /* the document, e.g. "config.json"; may be empty */
  char path[256];             /* JSON path inside source, e.g. ".process.args[2]" */
  char msg[768];
};

/* All setters return -1 so that `return berth_err(...)` reads naturally. */
int berth_err (struct berth_error *e, enum berth_error_kind kind, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int berth_err_sys (struct berth_error *e, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int berth_err_at (struct berth_error *e, enum berth_error_kind kind, const char *path,
                  const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));
/* Put context in front of an existing message: "create: " + msg. */
void berth_err_prefix (struct berth_error *e, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
void berth_err_set_source (struct berth_error *e, const char *source);
void berth_err_clear (struct berth_error *e);

/* One line: "[source: ][path: ]msg[: strerror(errnum)]".  Returns buf. */
const char *berth_err_format (const struct berth_error *e, char *buf, size_t len);
const char *berth_err_kind_name (enum berth_error_kind kind);

/* Where rules put what they find, so that each rule is written once for
 * both create and check.  With collect NULL (create) the first problem is
 * written to *err and the rule returns -1 at once; warnings are dropped.
 * With collect set (check) every problem, error or warning, is handed to
 * collect() and the rules go on; collect() < 0 (out of memory) stops them
 * as well.  A rule reads:
 *     if (bad && berth_reporter_at (rep, kind, path, ...) < 0) return -1;
 */
struct berth_reporter {
  struct berth_error *err; /* stop mode: the first problem */
  int (*collect) (void *data, bool warning, const struct berth_error *e);
  void *data;
};

/* Report an error at `path`; -1 when the rules must stop, 0 to go on. */
int berth_reporter_at (struct berth_reporter *r, enum berth_error_kind kind, const char *path,
                       const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));
/* A warning: what create skips or only logs; 0 unless collect() fails. */
int berth_reporter_warn (struct berth_reporter *r, enum berth_error_kind kind, const char *path,
                         const char *fmt, ...) __attribute__ ((format (printf, 4, 5)));
/* An error value some function returned (its path, kind and errno kept). */
int berth_reporter_error (struct berth_reporter *r, const struct berth_error *e);

/* The rule's usual last line, in a function returning int with a
   `struct berth_reporter *rep` in scope: report, and return -1 when the
   reporter says stop. */
#define BERTH_REPORT(...)                                                                    \
  do                                                                                         \
    {                                                                                        \
      if (berth_reporter_at (rep, __VA_ARGS__) < 0)                                          \
        return -1;                                                                           \
    }                                                                                        \
  while (0)

#endif
