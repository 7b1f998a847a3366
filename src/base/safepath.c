/* berth — paths resolved inside a root directory (see safepath.h). */
#include "base/safepath.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* The kernel's own limit on symlinks followed in one lookup. */
#define MAX_LINKS 40
/* RESOLVE_IN_ROOT fails with EAGAIN when a rename races with "..";
   a handful of retries is what the kernel documentation suggests. */
#define MAX_EAGAIN 16

static bool
is_dot_or_dotdot (const char *name)
{
  return strcmp (name, ".") == 0 || strcmp (name, "..") == 0;
}

/* Re-open the already resolved, symlink-free directory path `resolved`
   ("" or "/a/b") from the root, refusing symlinks: used for "..", so that
   the parent is found by name from the root rather than through a ".." of a
   directory that may have been moved out of the root meanwhile. */
static int
reopen_resolved (int root_fd, const char *resolved)
{
  cleanup_close int fd = openat (root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  const char *p = resolved;

  while (fd >= 0)
    {
      char comp[NAME_MAX + 1];
      size_t len;
      int next;

      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      len = strcspn (p, "/");
      if (len > NAME_MAX)
        {
          errno = ENAMETOOLONG;
          return -1;
        }
      memcpy (comp, p, len);
      comp[len] = '\0';
      p += len;
      next = openat (fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        return -1;
      close (fd);
      fd = next;
    }
  return steal_fd (&fd);
}

/* Replace the unprocessed part of the walk with `target` + "/" + `rest`. */
static int
splice_link (char todo[PATH_MAX], const char *target, const char *rest)
{
  char next[PATH_MAX];
  int n = snprintf (next, sizeof next, "%s%s%s", target, *rest ? "/" : "", rest);
  if (n < 0 || (size_t) n >= sizeof next)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (todo, next, (size_t) n + 1);
  return 0;
}

/* The userspace resolver: one component at a time, each opened O_PATH |
   O_NOFOLLOW from an fd already known to be inside the root, symlinks read
   and spliced into the remaining path, ".." and absolute targets clamped.
   Returns the fd or -1 with errno. */
static int
walk_in_root (int root_fd, const char *path, int flags, mode_t mode)
{
  char todo[PATH_MAX], resolved[PATH_MAX] = "";
  size_t pos = 0;
  int links = 0;
  /* O_CREAT|O_EXCL never follows a final symlink, as open(2). */
  bool final_nofollow
      = (flags & O_NOFOLLOW) || ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL));
  cleanup_close int dir = openat (root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (dir < 0)
    return -1;
  if (strlen (path) >= sizeof todo)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  strcpy (todo, path);

  for (;;)
    {
      char comp[NAME_MAX + 1];
      const char *p = todo + pos, *rest;
      size_t len;
      bool last;
      struct stat st;
      cleanup_close int child = -1;

      while (*p == '/')
        p++;
      if (*p == '\0')
        {
          /* The path ends on a directory ("", "/", "a/.."). */
          if (flags & O_CREAT)
            {
              errno = EISDIR;
              return -1;
            }
          return openat (dir, ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC);
        }
      len = strcspn (p, "/");
      if (len > NAME_MAX)
        {
          errno = ENAMETOOLONG;
          return -1;
        }
      memcpy (comp, p, len);
      comp[len] = '\0';
      rest = p + len;
      while (*rest == '/')
        rest++;
      last = *rest == '\0';
      pos = (size_t) (rest - todo);

      if (strcmp (comp, ".") == 0)
        continue;
      if (strcmp (comp, "..") == 0)
        {
          char *slash = strrchr (resolved, '/');
          int up;
          if (slash)
            *slash = '\0';
          up = reopen_resolved (root_fd, resolved);
          if (up < 0)
            return -1;
          close (dir);
          dir = up;
          continue;
        }

      child = openat (dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0)
        {
          if (errno == ENOENT && last && (flags & O_CREAT))
            return openat (dir, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
          return -1;
        }
      if (fstat (child, &st) < 0)
        return -1;

      if (S_ISLNK (st.st_mode) && !(last && final_nofollow))
        {
          char target[PATH_MAX];
          ssize_t n;

          if (++links > MAX_LINKS)
            {
              errno = ELOOP;
              return -1;
            }
          n = readlinkat (child, "", target, sizeof target);
          if (n < 0)
            return -1;
          if ((size_t) n >= sizeof target)
            {
              errno = ENAMETOOLONG;
              return -1;
            }
          target[n] = '\0';
          if (splice_link (todo, target, todo + pos) < 0)
            return -1;
          pos = 0;
          if (target[0] == '/')
            {
              int top = openat (root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
              if (top < 0)
                return -1;
              close (dir);
              dir = top;
              resolved[0] = '\0';
            }
          continue;
        }

      if (!last)
        {
          size_t used = strlen (resolved);
          if (!S_ISDIR (st.st_mode))
            {
              errno = ENOTDIR;
              return -1;
            }
          if (used + 1 + len >= sizeof resolved)
            {
              errno = ENAMETOOLONG;
              return -1;
            }
          resolved[used] = '/';
          memcpy (resolved + used + 1, comp, len + 1);
          close (dir);
          dir = steal_fd (&child);
          continue;
        }

      /* The last component, not to be followed any further.  An O_PATH
         request gets the very inode inspected above; anything else is
         opened again with O_NOFOLLOW, so a symlink swapped in meanwhile
         fails with ELOOP instead of being followed. */
      if (flags & O_PATH)
        {
          if ((flags & O_DIRECTORY) && !S_ISDIR (st.st_mode))
            {
              errno = ENOTDIR;
              return -1;
            }
          return steal_fd (&child);
        }
      return openat (dir, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    }
}

/* Returns the fd or -1 with errno. */
static int
open_in_root (int root_fd, const char *path, int flags, mode_t mode)
{
  bool creating = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
  struct open_how how = {
    .flags = (uint64_t) (flags | O_CLOEXEC),
    .mode = creating ? mode : 0,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };

  if (path[0] == '\0')
    path = ".";
  for (int i = 0; i < MAX_EAGAIN; i++)
    {
      long fd = syscall (SYS_openat2, root_fd, path, &how, sizeof how);
      if (fd >= 0)
        return (int) fd;
      if (errno == ENOSYS)
        return walk_in_root (root_fd, path, flags, mode);
      if (errno != EAGAIN)
        return -1;
    }
  return -1;
}

int
safepath_open (int root_fd, const char *path, int flags, mode_t mode, struct berth_error *err)
{
  int fd = open_in_root (root_fd, path, flags, mode);
  if (fd < 0)
    return berth_err_sys (err, errno, "open %s inside the root", path);
  return fd;
}

int
safepath_open_walk (int root_fd, const char *path, int flags, mode_t mode,
                    struct berth_error *err)
{
  int fd = walk_in_root (root_fd, path[0] ? path : ".", flags, mode);
  if (fd < 0)
    return berth_err_sys (err, errno, "open %s inside the root", path);
  return fd;
}

/* `want`[start, end) names a component that mkdirat() found taken but that
   does not resolve: a dangling symlink.  Rewrite `want` so that the walk
   goes on through the link's target (which is resolved inside the root like
   any other path), the way the kernel would follow it.  -1 with errno. */
static int
rewrite_through_link (int parent, char want[PATH_MAX], size_t start, size_t end)
{
  char target[PATH_MAX], next[PATH_MAX], comp[NAME_MAX + 1];
  const char *rest = want + end;
  ssize_t n;
  int len;

  if (end - start > NAME_MAX)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (comp, want + start, end - start);
  comp[end - start] = '\0';
  n = readlinkat (parent, comp, target, sizeof target);
  if (n < 0)
    {
      /* Not a symlink: something else appeared meanwhile; say so as the
         open did. */
      if (errno == EINVAL)
        errno = ENOENT;
      return -1;
    }
  if ((size_t) n >= sizeof target)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  target[n] = '\0';
  if (target[0] == '/')
    len = snprintf (next, sizeof next, "%s%s", target, rest);
  else
    len = snprintf (next, sizeof next, "%.*s%s%s", (int) start, want, target, rest);
  if (len < 0 || (size_t) len >= sizeof next)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (want, next, (size_t) len + 1);
  return 0;
}

/* One pass of mkdir -p: 0 when done, 1 when `want` was rewritten through a
   dangling symlink and the walk must start over, -1 with errno. */
static int
mkdir_pass (int root_fd, char want[PATH_MAX], mode_t mode, int *out_fd)
{
  cleanup_close int parent = -1;
  size_t end = 0;
  int fd = open_in_root (root_fd, want, O_PATH | O_DIRECTORY, 0);

  if (fd >= 0)
    {
      *out_fd = fd;
      return 0;
    }
  if (errno != ENOENT)
    return -1;

  /* Most often only the last component is missing (a mount point in a
     fresh /dev or /sys/fs/cgroup): made from its parent, opened as any
     path inside the root, in four calls rather than a walk from the top. */
  char *slash = strrchr (want, '/');
  if (slash && slash[1] != '\0' && !is_dot_or_dotdot (slash + 1))
    {
      *slash = '\0';
      parent = open_in_root (root_fd, want, O_PATH | O_DIRECTORY, 0);
      *slash = '/';
      if (parent >= 0)
        {
          if (mkdirat (parent, slash + 1, mode) < 0 && errno != EEXIST)
            return -1;
          if ((fd = open_in_root (root_fd, want, O_PATH | O_DIRECTORY, 0)) >= 0)
            {
              *out_fd = fd;
              return 0;
            }
          if (errno != ENOENT)
            return -1;
          return rewrite_through_link (parent, want, (size_t) (slash + 1 - want), strlen (want))
                         < 0
                     ? -1
                     : 1;
        }
      if (errno != ENOENT)
        return -1;
    }

  parent = openat (root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0)
    return -1;
  for (;;)
    {
      size_t start;
      char saved;
      int child;

      while (want[end] == '/')
        end++;
      if (want[end] == '\0')
        break;
      start = end;
      end += strcspn (want + start, "/");

      /* want[0, end) is the prefix ending with this component. */
      saved = want[end];
      want[end] = '\0';
      child = open_in_root (root_fd, want, O_PATH | O_DIRECTORY, 0);
      if (child < 0 && errno == ENOENT && !is_dot_or_dotdot (want + start))
        {
          /* `parent` was resolved inside the root, and mkdirat() never
             follows a symlink in the last component. */
          if (mkdirat (parent, want + start, mode) < 0 && errno != EEXIST)
            {
              want[end] = saved;
              return -1;
            }
          child = open_in_root (root_fd, want, O_PATH | O_DIRECTORY, 0);
          if (child < 0 && errno == ENOENT)
            {
              want[end] = saved;
              return rewrite_through_link (parent, want, start, end) < 0 ? -1 : 1;
            }
        }
      want[end] = saved;
      if (child < 0)
        return -1;
      close (parent);
      parent = child;
    }
  *out_fd = steal_fd (&parent);
  return 0;
}

static int
copy_path (char dst[PATH_MAX], const char *src)
{
  size_t n = strlen (src);
  if (n >= PATH_MAX)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (dst, src, n + 1);
  return 0;
}

int
safepath_mkdir_p (int root_fd, const char *path, mode_t mode, int *out_fd,
                  struct berth_error *err)
{
  char want[PATH_MAX];

  if (copy_path (want, path) < 0)
    return berth_err_sys (err, errno, "mkdir %s inside the root", path);
  for (int rewrites = 0; rewrites <= MAX_LINKS; rewrites++)
    {
      int r = mkdir_pass (root_fd, want, mode, out_fd);
      if (r == 0)
        return 0;
      if (r < 0)
        return berth_err_sys (err, errno, "mkdir %s inside the root", path);
    }
  return berth_err_sys (err, ELOOP, "mkdir %s inside the root", path);
}

int
safepath_mkfile (int root_fd, const char *path, mode_t mode, int *out_fd,
                 struct berth_error *err)
{
  char want[PATH_MAX];

  if (copy_path (want, path) < 0)
    return berth_err_sys (err, errno, "create %s inside the root", path);
  for (int rewrites = 0; rewrites <= MAX_LINKS; rewrites++)
    {
      char dir[PATH_MAX], target[PATH_MAX];
      const char *base;
      char *slash;
      ssize_t n;
      int len;
      cleanup_close int dfd = -1;
      int fd = open_in_root (root_fd, want, O_PATH, 0);

      if (fd >= 0)
        {
          *out_fd = fd;
          return 0;
        }
      if (errno != ENOENT)
        return berth_err_sys (err, errno, "create %s inside the root", path);

      memcpy (dir, want, strlen (want) + 1);
      slash = strrchr (dir, '/');
      if (slash)
        {
          base = want + (slash - dir) + 1;
          slash[slash == dir ? 1 : 0] = '\0';
        }
      else
        {
          base = want;
          strcpy (dir, ".");
        }
      if (base[0] == '\0' || is_dot_or_dotdot (base))
        return berth_err_sys (err, EISDIR, "create %s inside the root", path);
      if (safepath_mkdir_p (root_fd, dir, 0755, &dfd, err) < 0)
        return -1;

      /* mknodat(S_IFREG) never follows anything and fails with EEXIST on
         a dangling symlink, which is then followed by hand. */
      if (mknodat (dfd, base, S_IFREG | (mode & 07777), 0) == 0 || errno == EEXIST)
        {
          fd = openat (dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
          if (fd >= 0)
            {
              struct stat st;
              if (fstat (fd, &st) == 0 && !S_ISLNK (st.st_mode))
                {
                  *out_fd = fd;
                  return 0;
                }
              close (fd);
            }
          else if (errno != ENOENT)
            return berth_err_sys (err, errno, "create %s inside the root", path);
        }
      else
        return berth_err_sys (err, errno, "create %s inside the root", path);

      /* A dangling symlink: go on with its target. */
      n = readlinkat (dfd, base, target, sizeof target);
      if (n < 0)
        {
          if (errno == EINVAL || errno == ENOENT)
            continue; /* replaced meanwhile: look again */
          return berth_err_sys (err, errno, "create %s inside the root", path);
        }
      if ((size_t) n >= sizeof target)
        return berth_err_sys (err, ENAMETOOLONG, "create %s inside the root", path);
      target[n] = '\0';
      if (target[0] == '/')
        len = snprintf (want, sizeof want, "%s", target);
      else
        len = snprintf (want, sizeof want, "%s/%s", dir, target);
      if (len < 0 || (size_t) len >= sizeof want)
        return berth_err_sys (err, ENAMETOOLONG, "create %s inside the root", path);
    }
  return berth_err_sys (err, ELOOP, "create %s inside the root", path);
}

char *
safepath_clean (const char *path)
{
  size_t o = 0;
  const char *p = path;
  char *out = malloc (strlen (path) + 2);

  if (out == NULL)
    return NULL;
  while (*p)
    {
      size_t len;
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      len = strcspn (p, "/");
      if (len == 2 && p[0] == '.' && p[1] == '.')
        {
          while (o > 0 && out[o - 1] != '/')
            o--;
          if (o > 0)
            o--;
        }
      else if (!(len == 1 && p[0] == '.'))
        {
          out[o++] = '/';
          memcpy (out + o, p, len);
          o += len;
        }
      p += len;
    }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}

const char *
safepath_fd_path (int fd, char buf[SAFEPATH_FD_PATH_LEN])
{
  snprintf (buf, SAFEPATH_FD_PATH_LEN, "/proc/self/fd/%d", fd);
  return buf;
}
