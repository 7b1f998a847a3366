#include "fs/copyup.h"
#include "cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_DEPTH 128

static int
copy_file (int from, int to, const char *name, const struct stat *st, struct berth_error *err)
{
  cleanup_close int in = openat (from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int out = -1;
  off_t left = st->st_size;

  if (in < 0)
    return berth_err_sys (err, errno, "tmpcopyup: open %s", name);
  out = openat (to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
  if (out < 0)
    return berth_err_sys (err, errno, "tmpcopyup: create %s", name);
  while (left > 0)
    {
      ssize_t n = sendfile (out, in, NULL, left > (1 << 30) ? (1 << 30) : (size_t) left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return berth_err_sys (err, n < 0 ? errno : EIO, "tmpcopyup: copy %s", name);
      left -= n;
    }
  if (fchown (out, st->st_uid, st->st_gid) < 0 || fchmod (out, st->st_mode & 07777) < 0)
    return berth_err_sys (err, errno, "tmpcopyup: set the owner of %s", name);
  return 0;
}

static int
copy_entries (int from, int to, int depth, struct berth_error *err)
{
  cleanup_close int fd = openat (from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_closedir DIR *d = NULL;
  struct dirent *de;

  if (depth > MAX_DEPTH)
    return berth_err (err, BERTH_E_LIMIT, "tmpcopyup: directories nested too deep");
  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    return berth_err_sys (err, errno, "tmpcopyup: read a directory");
  fd = -1;
  while ((de = readdir (d)) != NULL)
    {
      const char *name = de->d_name;
      struct stat st;
      int r = 0;

      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        continue;
      if (fstatat (from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return berth_err_sys (err, errno, "tmpcopyup: stat %s", name);
      if (S_ISDIR (st.st_mode))
        {
          cleanup_close int sub_from = -1;
          cleanup_close int sub_to = -1;
          if (mkdirat (to, name, st.st_mode & 07777) < 0)
            return berth_err_sys (err, errno, "tmpcopyup: mkdir %s", name);
          sub_from = openat (from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          sub_to = openat (to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub_from < 0 || sub_to < 0)
            return berth_err_sys (err, errno, "tmpcopyup: open %s", name);
          if (copy_entries (sub_from, sub_to, depth + 1, err) < 0)
            return -1;
          r = fchown (sub_to, st.st_uid, st.st_gid) < 0 || fchmod (sub_to, st.st_mode & 07777) < 0;
        }
      else if (S_ISREG (st.st_mode))
        {
          if (copy_file (from, to, name, &st, err) < 0)
            return -1;
        }
      else if (S_ISLNK (st.st_mode))
        {
          char target[PATH_MAX];
          ssize_t n = readlinkat (from, name, target, sizeof target - 1);
          if (n < 0)
            return berth_err_sys (err, errno, "tmpcopyup: readlink %s", name);
          target[n] = '\0';
          r = symlinkat (target, to, name) < 0
              || fchownat (to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0;
        }
      else
        r = mknodat (to, name, st.st_mode, st.st_rdev) < 0
            || fchownat (to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0;
      if (r)
        return berth_err_sys (err, errno, "tmpcopyup: copy %s", name);
    }
  return 0;
}

int
copy_tree (int from, int to, struct berth_error *err)
{
  /* The mount point keeps what the tmpfs options gave it (mode=1777...). */
  return copy_entries (from, to, 0, err);
}
