/* berth — shared libraries loaded on use (see dynlib.h). */
#include "base/dynlib.h"

#include <dlfcn.h>
#include <string.h>

void *
dynlib_open (const struct dynlib *lib, void *table, struct berth_error *err)
{
  void *dl = dlopen (lib->soname, RTLD_NOW | RTLD_LOCAL | lib->flags);

  if (dl == NULL)
    {
      berth_err (err, BERTH_E_UNSUPPORTED, "%s: %s", lib->unloadable, dlerror ());
      return NULL;
    }
  for (size_t i = 0; i < lib->n_syms; i++)
    {
      void *sym = dlsym (dl, lib->syms[i].name);
      if (sym == NULL)
        {
          berth_err (err, BERTH_E_UNSUPPORTED, "%s has no %s%s", lib->soname, lib->syms[i].name,
                     lib->missing);
          dlclose (dl);
          return NULL;
        }
      /* A function pointer kept as the object pointer dlsym() gives. */
      memcpy ((char *) table + lib->syms[i].offset, &sym, sizeof sym);
    }
  return dl;
}

void
dynlib_close (void *handle)
{
  if (handle)
    dlclose (handle);
}
