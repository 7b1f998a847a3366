#include "lifecycle/state.h"
#include "cleanup.h"
#include "base/utils.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

OCI_DEFINE_TYPE (berth_state)

#define STATE_FILE "state.json"
#define CONFIG_FILE "config.json"
#define EXEC_FIFO "exec.fifo"

int
state_validate_id (const char *id, struct berth_error *err)
{
  size_t n = strlen (id);
  if (n == 0)
    return berth_err (err, BERTH_E_VALUE, "container id cannot be empty");
  if (n > 255)
    return berth_err (err, BERTH_E_VALUE, "invalid container ID format: longer than 255 bytes");
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0
      || id[strspn (id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-")]
             != '\0')
    return berth_err (err, BERTH_E_VALUE,
                      "invalid container ID format: \"%s\" (allowed: letters, digits, _ + . -)",
                      id);
  return 0;
}

int
state_root_open (const char *root, bool create_root, int *root_fd, struct berth_error *err)
{
  int fd;
  if (create_root && mkdir_p (root, 0700, err) < 0)
    return -1;
  fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return berth_err_sys (err, errno, "open state root %s", root);
  *root_fd = fd;
  return 0;
}

int
state_open (const char *root, const char *id, bool create, struct state_handle *h,
            struct berth_error *err)
{
  cleanup_close int root_fd = -1;
  cleanup_close int dir_fd = -1;

  h->root_fd = h->dir_fd = -1;
  h->id = NULL;
  if (state_validate_id (id, err) < 0)
    return -1;
  if (state_root_open (root, create, &root_fd, err) < 0)
    {
      if (!create && err->errnum == ENOENT)
        return berth_err (err, BERTH_E_NOT_FOUND, "container does not exist");
      return -1;
    }
  if (create && mkdirat (root_fd, id, 0711) < 0)
    {
      if (errno == EEXIST)
        return berth_err (err, BERTH_E_EXISTS, "container with given ID already exists");
      return berth_err_sys (err, errno, "create state directory %s/%s", root, id);
    }
  dir_fd = openat (root_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dir_fd < 0)
    {
      if (errno == ENOENT)
        return berth_err (err, BERTH_E_NOT_FOUND, "container does not exist");
      return berth_err_sys (err, errno, "open state directory %s/%s", root, id);
    }
  if (flock (dir_fd, LOCK_EX) < 0)
    return berth_err_sys (err, errno, "lock state directory %s/%s", root, id);
  {
    /* A concurrent delete may have removed the directory while we waited. */
    struct stat sb;
    if (fstat (dir_fd, &sb) == 0 && sb.st_nlink == 0)
      return berth_err (err, BERTH_E_NOT_FOUND, "container does not exist");
  }
  h->id = strdup (id);
  if (h->id == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  h->root_fd = steal_fd (&root_fd);
  h->dir_fd = steal_fd (&dir_fd);
  return 0;
}

void
state_close (struct state_handle *h)
{
  if (h->dir_fd >= 0)
    close (h->dir_fd);
  if (h->root_fd >= 0)
    close (h->root_fd);
  free (h->id);
  h->dir_fd = h->root_fd = -1;
  h->id = NULL;
}

int
state_save_config (const struct state_handle *h, const char *config_json,
                   struct berth_error *err)
{
  return write_file_atomic (h->dir_fd, CONFIG_FILE, config_json, strlen (config_json), 0600,
                            err);
}

int
state_save (const struct state_handle *h, const struct oci_berth_state *s,
            struct berth_error *err)
{
  struct oci_berth_state t = *s;
  cleanup_free char *json = NULL;
  size_t len;

  /* A state an earlier berth wrote has the config inside: moved out the
     first time it is saved again. */
  if (s->config && faccessat (h->dir_fd, CONFIG_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0
      && state_save_config (h, s->config, err) < 0)
    return -1;
  t.config = NULL;
  t.has_config = false;
  if (oci_emit (&oci_type_berth_state, &t, NULL, &json, &len, err) < 0)
    return -1;
  return write_file_atomic (h->dir_fd, STATE_FILE, json, len, 0600, err);
}

static int
load (const struct state_handle *h, bool with_config, struct oci_berth_state **s,
      struct berth_error *err)
{
  cleanup_close int fd = openat (h->dir_fd, STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  void *obj = NULL;

  *s = NULL;
  if (fd < 0 && errno == ENOENT)
    return berth_err (err, BERTH_E_STATE,
                      "container %s has no state file: its creation did not finish "
                      "(remove it with 'delete --force')", h->id);
  if (fd < 0)
    return berth_err_sys (err, errno, "open state of container %s", h->id);
  if (oci_parse_fd (&oci_type_berth_state, fd, "state.json", &obj, err) < 0)
    {
      berth_err_prefix (err, "corrupt state of container %s (remove it with 'delete --force'): ",
                        h->id);
      return -1;
    }
  *s = obj;
  /* The config as text: parsed only by those who need it (config_of). */
  if (with_config && (*s)->config == NULL)
    {
      char *text = NULL;
      if (read_file_at (h->dir_fd, CONFIG_FILE, &text, NULL, err) < 0)
        {
          if (err->errnum != ENOENT)
            return berth_err_prefix (err, "config of container %s: ", h->id), -1;
          *err = (struct berth_error){ 0 }; /* created without one: none to read */
        }
      (*s)->config = text;
      (*s)->has_config = text != NULL;
    }
  return 0;
}

int
state_load (const struct state_handle *h, struct oci_berth_state **s, struct berth_error *err)
{
  return load (h, true, s, err);
}

int
state_load_summary (const struct state_handle *h, struct oci_berth_state **s,
                    struct berth_error *err)
{
  return load (h, false, s, err);
}

void
state_free (struct oci_berth_state *s)
{
  oci_free (&oci_type_berth_state, s);
}

/* Remove every entry of a directory (one level: the state directory holds
   files and the notify socket's directory). */
static int
remove_entries (int parent, const char *what, int depth, struct berth_error *err)
{
  cleanup_close int fd = openat (parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_closedir DIR *d = NULL;
  struct dirent *de;

  if (fd < 0)
    return berth_err_sys (err, errno, "open %s", what);
  d = fdopendir (fd);
  if (d == NULL)
    return berth_err_sys (err, errno, "read %s", what);
  fd = -1;
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (unlinkat (dirfd (d), de->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if (errno == EISDIR && depth > 0)
        {
          cleanup_close int sub = openat (dirfd (d), de->d_name,
                                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0 && remove_entries (sub, what, depth - 1, err) < 0)
            return -1;
          if (unlinkat (dirfd (d), de->d_name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            continue;
        }
      return berth_err_sys (err, errno, "remove %s/%s", what, de->d_name);
    }
  return 0;
}

int
state_remove (struct state_handle *h, struct berth_error *err)
{
  if (remove_entries (h->dir_fd, h->id, 1, err) < 0)
    return -1;
  if (unlinkat (h->root_fd, h->id, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return berth_err_sys (err, errno, "remove state directory of %s", h->id);
  return 0;
}


/* exec.fifo at `fifo`, relative to `dirfd`, tells created from running. */
static const char *
status_at (int dirfd, const char *fifo, const struct oci_berth_state *s)
{
  uint64_t start;
  char st;
  struct stat sb;

  if (s->pid <= 0 || proc_stat (s->pid, &start, &st) < 0 || start != s->pid_start || st == 'Z'
      || st == 'X')
    return "stopped";
  if (fstatat (dirfd, fifo, &sb, AT_SYMLINK_NOFOLLOW) == 0)
    return "created";
  return "running";
}

const char *
state_status (const struct state_handle *h, const struct oci_berth_state *s)
{
  return status_at (h->dir_fd, EXEC_FIFO, s);
}

int
state_peek (int root_fd, const char *id, struct oci_berth_state **s, const char **status,
            uid_t *owner, struct berth_error *err)
{
  /* No symlink on the way: the id's directory is not followed anywhere
     else, as state_open's O_NOFOLLOW does. */
  struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                          .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
  size_t id_len = strlen (id);
  char path[256 + sizeof "/" STATE_FILE + sizeof "/" EXEC_FIFO], buf[8192];
  cleanup_close int fd = -1;
  struct stat sb;
  void *obj = NULL;
  ssize_t n;

  *s = NULL;
  if (id_len > 255)
    return berth_err (err, BERTH_E_VALUE, "invalid container ID format: longer than 255 bytes");
  memcpy (path, id, id_len);
  memcpy (path + id_len, "/" STATE_FILE, sizeof "/" STATE_FILE);
  fd = (int) syscall (SYS_openat2, root_fd, path, &how, sizeof how);
  if (fd < 0)
    return berth_err_sys (err, errno, "open state of container %s", id);
  /* One read for the usual few hundred bytes; a state too large for the
     buffer (many annotations) is read whole. */
  while ((n = read (fd, buf, sizeof buf)) < 0 && errno == EINTR)
    ;
  if (n < 0)
    return berth_err_sys (err, errno, "read state of container %s", id);
  if ((size_t) n == sizeof buf
          ? lseek (fd, 0, SEEK_SET) < 0
                || oci_parse_fd (&oci_type_berth_state, fd, "state.json", &obj, err) < 0
          : oci_parse_data (&oci_type_berth_state, buf, (size_t) n, "state.json", &obj, err) < 0)
    return -1;
  *s = obj;
  memcpy (path + id_len, "/" EXEC_FIFO, sizeof "/" EXEC_FIFO);
  *status = status_at (root_fd, path, *s);
  *owner = fstatat (root_fd, id, &sb, AT_SYMLINK_NOFOLLOW) == 0 ? sb.st_uid : (uid_t) -1;
  return 0;
}
