/* berth — a shared library loaded with dlopen() on use, its functions
 * resolved into a caller's table.
 *
 * Contract: dynlib_open() opens the soname with RTLD_NOW | RTLD_LOCAL (and
 * the description's extra flags), and stores the address of each named
 * symbol at its offset in the caller's table (a struct of function
 * pointers, one per caller: no global state).  Failure is one
 * BERTH_E_UNSUPPORTED line, "<unloadable>: <dlerror>" or "<soname> has no
 * <symbol><missing>", and leaves nothing open.  dynlib_close() drops the
 * handle (NULL is fine).
 */
#ifndef BERTH_DYNLIB_H
#define BERTH_DYNLIB_H

#include <stddef.h>

#include "error.h"

struct dynlib_sym {
  const char *name;
  size_t offset; /* of the function pointer in the caller's table */
};
/* One entry of a symbol list, for an X-macro: DYNLIB_SYM (struct t, f). */
#define DYNLIB_SYM(type, f) { #f, offsetof (type, f) },

struct dynlib {
  const char *soname;     /* "libcriu.so.2" */
  int flags;              /* besides RTLD_NOW | RTLD_LOCAL, e.g. RTLD_NODELETE */
  const char *unloadable; /* the error when dlopen() fails, before dlerror() */
  const char *missing;    /* after "<soname> has no <symbol>": a hint, or "" */
  const struct dynlib_sym *syms;
  size_t n_syms;
};

/* The handle, with every symbol in `table`; NULL and *err filled. */
void *dynlib_open (const struct dynlib *lib, void *table, struct berth_error *err);
void dynlib_close (void *handle);

#endif
