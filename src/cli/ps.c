#include "lifecycle/cgroup_ops.h"
#include "cleanup.h"
#include "cli.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
  "Usage: berth ps [command options] <container-id> [ps options]\n\n"
  "List the container's processes: ps(1) run on the host with the given\n"
  "options (default -ef), keeping the rows of the container's processes.\n\n"
  "Options:\n"
  "   --format table|json, -f   json: only the pids, as a JSON array (default: table)\n";

/* Everything until EOF. */
static int
read_fd (int fd, char **out, struct berth_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len = 0, cap = 0;
  ssize_t n = 1;

  for (; n > 0; len += (size_t) n)
    {
      if (cap - len < 4096)
        {
          char *nb = realloc (buf, cap += 65536);
          if (nb == NULL)
            return berth_err_sys (err, ENOMEM, "out of memory");
          buf = nb;
        }
      while ((n = read (fd, buf + len, cap - len - 1)) < 0 && errno == EINTR)
        ;
      if (n < 0)
        return berth_err_sys (err, errno, "read the output of ps");
    }
  buf[len] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

/* ps's standard output, whole; its stderr stays ours. */
static int
run_ps (char **args, char **out, struct berth_error *err)
{
  cleanup_close int rd = -1;
  int p[2], status, r;
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) < 0)
    return berth_err_sys (err, errno, "pipe");
  if ((pid = fork ()) < 0)
    return close (p[0]), close (p[1]), berth_err_sys (err, errno, "fork");
  if (pid == 0)
    {
      dup2 (p[1], STDOUT_FILENO);
      execvp ("ps", args);
      _exit (127);
    }
  close (p[1]);
  rd = p[0];
  r = read_fd (rd, out, err);
  if (waitpid (pid, &status, 0) < 0)
    return berth_err_sys (err, errno, "wait for ps");
  if (r == 0 && (!WIFEXITED (status) || WEXITSTATUS (status) != 0))
    {
      free (steal_pointer (out));
      return berth_err (err, BERTH_E_SYSTEM, "ps %s with status %d",
                        WIFEXITED (status) ? "exited" : "was killed",
                        WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
    }
  return r;
}

/* The index of the "PID" column in ps's header, or -1. */
static int
pid_column (const char *header)
{
  int i = 0;

  for (const char *p = header + strspn (header, " \t"); *p; i++)
    {
      size_t l = strcspn (p, " \t\n");
      if (l == 3 && strncmp (p, "PID", 3) == 0)
        return i;
      p += l;
      p += strspn (p, " \t");
    }
  return -1;
}

static bool
row_pid (const char *line, int col, long *pid)
{
  const char *p = line + strspn (line, " \t");
  char *end;

  for (int i = 0; i < col && *p; i++)
    {
      p += strcspn (p, " \t");
      p += strspn (p, " \t");
    }
  *pid = strtol (p, &end, 10);
  return end != p;
}

static int
print_table (char **args, const pid_t *pids, size_t n, struct berth_error *err)
{
  cleanup_free char *text = NULL;
  char *save = NULL, *line;
  int col;
  long pid;

  if (run_ps (args, &text, err) < 0)
    return -1;
  line = strtok_r (text, "\n", &save);
  if (line == NULL || (col = pid_column (line)) < 0)
    return berth_err (err, BERTH_E_VALUE, "couldn't find PID field in ps output");
  puts (line);
  while ((line = strtok_r (NULL, "\n", &save)) != NULL)
    {
      if (!row_pid (line, col, &pid))
        return berth_err (err, BERTH_E_VALUE, "unable to parse pid from \"%s\"", line);
      for (size_t i = 0; i < n; i++)
        if (pids[i] == (pid_t) pid)
          {
            puts (line);
            break;
          }
    }
  return 0;
}

int
berth_cmd_ps (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct berth_runtime rt = cli_runtime (g);
  cleanup_free pid_t *pids = NULL;
  cleanup_free char **args = NULL;
  const char *format = "table";
  size_t n = 0, k = 0;
  int c;

  while ((c = cli_getopt ("ps", argc, argv, "+f:", opts, err)) != -1)
    {
      if (c != 'f')
        return c == 'h' ? (fputs (usage, stdout), 0) : -1;
      format = optarg;
    }
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    return berth_err (err, BERTH_E_USAGE, "invalid format option \"%s\" (table or json)", format);
  if (cli_want_args ("ps", argc - optind, 1, -1, err) < 0)
    return -1;
  if (container_pids (&rt, argv[optind], &pids, &n, err) < 0)
    return -1;
  if (strcmp (format, "json") == 0)
    {
      putchar ('[');
      for (size_t i = 0; i < n; i++)
        printf ("%s%d", i ? "," : "", (int) pids[i]);
      puts ("]");
      return 0;
    }
  if ((args = calloc ((size_t) argc + 2, sizeof *args)) == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  args[k++] = "ps";
  /* "ps ID -- -o pid": the "--" is for us, not for ps. */
  c = optind + 1 + (optind + 1 < argc && strcmp (argv[optind + 1], "--") == 0);
  for (; c < argc; c++)
    args[k++] = argv[c];
  if (k == 1)
    args[k++] = "-ef";
  return print_table (args, pids, n, err);
}
