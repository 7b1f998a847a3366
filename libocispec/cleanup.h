/* berth — scope-bound cleanup helpers.
 *
 * Contract: a variable declared with one of these attributes is released when
 * it goes out of scope; ownership leaves it only through steal_pointer() or
 * steal_fd(), which reset the variable so that the cleanup does nothing.
 */
#ifndef BERTH_CLEANUP_H
#define BERTH_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

static inline void
berth_freep (void *p)
{
  void **pp = (void **) p;
  free (*pp);
}

static inline void
berth_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
berth_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
berth_closedirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

static inline void
berth_strvfreep (char ***v)
{
  char **p;
  if (*v == NULL)
    return;
  for (p = *v; *p; p++)
    free (*p);
  free (*v);
}

#define cleanup_free __attribute__ ((cleanup (berth_freep)))
#define cleanup_close __attribute__ ((cleanup (berth_closep)))
#define cleanup_fclose __attribute__ ((cleanup (berth_fclosep)))
#define cleanup_closedir __attribute__ ((cleanup (berth_closedirp)))
#define cleanup_strv __attribute__ ((cleanup (berth_strvfreep)))

static inline void *
berth_steal_pointer (void *pp)
{
  void **p = (void **) pp;
  void *v = *p;
  *p = NULL;
  return v;
}

static inline int
berth_steal_fd (int *fd)
{
  int v = *fd;
  *fd = -1;
  return v;
}

#define steal_pointer(pp) berth_steal_pointer (pp)
#define steal_fd(fdp) berth_steal_fd (fdp)

#endif
