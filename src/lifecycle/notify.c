#include "lifecycle/notify.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char **
strv_append (char **v, size_t *n, char *s)
{
  char **nv = realloc (v, (*n + 2) * sizeof *nv);
  if (nv == NULL)
    return NULL;
  nv[(*n)++] = s;
  nv[*n] = NULL;
  return nv;
}

int
notify_prepare (struct oci_config *c, int state_dir_fd, const char *state_dir,
                struct berth_error *err)
{
  struct oci_mount *m;
  char *env = NULL, *src = NULL, **nv;
  static const char *const opts[] = { "bind", "nosuid", "noexec", "nodev", "ro" };

  if (mkdirat (state_dir_fd, NOTIFY_DIR, 0755) < 0 && errno != EEXIST)
    return berth_err_sys (err, errno, "create the notify socket directory");
  if (asprintf (&src, "%s/" NOTIFY_DIR, state_dir) < 0
      || asprintf (&env, "NOTIFY_SOCKET=" NOTIFY_CONTAINER_PATH) < 0)
    return berth_err_sys (err, ENOMEM, "out of memory");

  m = realloc (c->mounts, (c->mounts_len + 1) * sizeof *m);
  if (m == NULL)
    return free (src), free (env), berth_err_sys (err, ENOMEM, "out of memory");
  c->mounts = m;
  m = &c->mounts[c->mounts_len++];
  memset (m, 0, sizeof *m);
  OCI_SET (m, destination, strdup ("/run/notify"));
  OCI_SET (m, type, strdup ("bind"));
  OCI_SET (m, source, src);
  m->options = calloc (sizeof opts / sizeof opts[0] + 1, sizeof (char *));
  if (m->destination == NULL || m->type == NULL || m->options == NULL)
    return free (env), berth_err_sys (err, ENOMEM, "out of memory");
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
    m->options[m->options_len++] = strdup (opts[i]);
  m->has_options = true;
  c->has_mounts = true;

  if (c->process == NULL) /* nothing will run to notify anyone */
    return free (env), 0;
  /* Replace the caller's NOTIFY_SOCKET, if the config passed it through. */
  for (size_t i = 0; i < c->process->env_len; i++)
    if (strncmp (c->process->env[i], "NOTIFY_SOCKET=", 14) == 0)
      {
        free (c->process->env[i]);
        c->process->env[i] = env;
        return 0;
      }
  nv = strv_append (c->process->env, &c->process->env_len, env);
  if (nv == NULL)
    return free (env), berth_err_sys (err, ENOMEM, "out of memory");
  c->process->env = nv;
  c->process->has_env = true;
  return 0;
}

int
notify_listen (int state_dir_fd, int *sock, struct berth_error *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  char path[64];
  cleanup_close int s = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  cleanup_close int dir = openat (state_dir_fd, NOTIFY_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (s < 0 || dir < 0)
    return berth_err_sys (err, errno, "set up the notify socket");
  /* Bind through /proc/self/fd: the state path may exceed sun_path. */
  snprintf (path, sizeof path, "/proc/self/fd/%d/notify.sock", dir);
  unlinkat (dir, "notify.sock", 0);
  snprintf (addr.sun_path, sizeof addr.sun_path, "%s", path);
  if (bind (s, (struct sockaddr *) &addr, sizeof addr) < 0)
    return berth_err_sys (err, errno, "bind the notify socket");
  fchmodat (dir, "notify.sock", 0777, 0);
  *sock = steal_fd (&s);
  return 0;
}

int
notify_relay_ready (int sock, const char *host_socket, pid_t pid, int pidfd,
                    struct berth_error *err)
{
  char buf[4096];
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int out = -1;

  for (;;)
    {
      struct pollfd p[2] = { { sock, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
      ssize_t n;
      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return berth_err_sys (err, errno, "wait for the container's READY=1");
        }
      if ((p[1].revents & POLLIN) && !(p[0].revents & POLLIN))
        return berth_err (err, BERTH_E_CHILD,
                          "the container exited before it sent READY=1 over NOTIFY_SOCKET");
      n = recv (sock, buf, sizeof buf - 1, 0);
      if (n <= 0)
        continue;
      buf[n] = '\0';
      if (strstr (buf, "READY=1") == NULL)
        continue;
      break;
    }
  out = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (out < 0)
    return berth_err_sys (err, errno, "socket");
  /* An abstract socket name starts with '@'. */
  snprintf (addr.sun_path, sizeof addr.sun_path, "%s", host_socket);
  if (addr.sun_path[0] == '@')
    addr.sun_path[0] = '\0';
  {
    char msg[128];
    int len = snprintf (msg, sizeof msg, "READY=1\nMAINPID=%d\n", (int) pid);
    if (sendto (out, msg, (size_t) len, 0, (struct sockaddr *) &addr,
                (socklen_t) (offsetof (struct sockaddr_un, sun_path) + strlen (host_socket)))
        < 0)
      return berth_err_sys (err, errno, "notify %s", host_socket);
  }
  return 0;
}
