/* berth — libseccomp, linked in or loaded on use (see libseccomp.h). */
#include "security/libseccomp.h"
#include "base/dynlib.h"

#include <dlfcn.h>
#include <string.h>

#ifndef BERTH_STATIC
#define LIBSECCOMP_SYM(f) DYNLIB_SYM (struct libseccomp, f)
static const struct dynlib_sym syms[] = { LIBSECCOMP_SYMBOLS (LIBSECCOMP_SYM) };
#undef LIBSECCOMP_SYM

static const struct dynlib libseccomp = {
  .soname = "libseccomp.so.2",
  .flags = RTLD_NODELETE,
  .unloadable = "libseccomp.so.2 (Debian's libseccomp2 package) could not be loaded",
  .missing = "",
  .syms = syms,
  .n_syms = sizeof syms / sizeof syms[0],
};
#endif

int
libseccomp_open (struct libseccomp *lib, struct berth_error *err)
{
  memset (lib, 0, sizeof *lib);
#ifdef BERTH_STATIC
#define LIBSECCOMP_LINKED(f) lib->f = f;
  LIBSECCOMP_SYMBOLS (LIBSECCOMP_LINKED)
#undef LIBSECCOMP_LINKED
  (void) err;
  return 0;
#else
  lib->dl = dynlib_open (&libseccomp, lib, err);
  return lib->dl ? 0 : -1;
#endif
}

void
libseccomp_close (struct libseccomp *lib)
{
#ifndef BERTH_STATIC
  dynlib_close (lib->dl);
#endif
  lib->dl = NULL;
}
