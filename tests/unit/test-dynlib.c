/* base/dynlib: a table filled from a loaded library, and the one line each
   failure gives (the words the systemd driver, checkpoint and seccomp show). */
#include "base/dynlib.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

struct table {
  int (*abs) (int);
  size_t (*strlen) (const char *);
};

static const struct dynlib_sym good[] = { DYNLIB_SYM (struct table, abs)
                                              DYNLIB_SYM (struct table, strlen) };
static const struct dynlib_sym bad[] = { DYNLIB_SYM (struct table, abs)
                                             { "berth_no_such_symbol", 0 } };

int
main (void)
{
  struct dynlib libc = { "libc.so.6", 0, "needs libc", "", good, 2 };
  struct berth_error err = { 0 };
  struct table t = { 0 };
  void *dl;

  dl = dynlib_open (&libc, &t, &err);
  tap_ok (dl && t.abs && t.abs (-3) == 3 && t.strlen && t.strlen ("four") == 4,
          "every symbol at its offset");
  dynlib_close (dl);

  libc.syms = bad;
  libc.missing = ": a newer one is needed";
  tap_ok (dynlib_open (&libc, &t, &err) == NULL && err.kind == BERTH_E_UNSUPPORTED
              && strcmp (err.msg, "libc.so.6 has no berth_no_such_symbol: a newer one is needed")
                     == 0,
          "a missing symbol is named with the hint: %s", err.msg);

  struct dynlib none = { "libberth-no-such.so.9", 0, "the feature needs libberth-no-such",
                         "", good, 2 };
  tap_ok (dynlib_open (&none, &t, &err) == NULL
              && strncmp (err.msg, "the feature needs libberth-no-such: libberth-no-such.so.9",
                          strlen ("the feature needs libberth-no-such: libberth-no-such.so.9"))
                     == 0,
          "an unloadable library: the caller's words, then dlerror(): %s", err.msg);
  dynlib_close (NULL);
  return tap_done ();
}
