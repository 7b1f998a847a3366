/* berth — command-line layer.
 *
 * Contract: each file in src/cli/ parses one command's flags (runc's names)
 * and calls the library modules; it prints only the command's own output
 * (state JSON, tables).  Failures are returned as values: main() prints them
 * and maps them to runc's exit statuses.
 */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "lifecycle/container.h"
#include "error.h"
#include "base/log.h"

#define BERTH_DEFAULT_ROOT "/run/berth"
/* Below $XDG_RUNTIME_DIR for a rootless user (runc's rule, main.c). */
#define BERTH_XDG_ROOT_NAME "berth"

/* The parsed global flags: the only process-wide mutable state berth has. */
struct berth_globals {
  const char *root;
  const char *log_file;
  enum berth_log_format log_format;
  bool debug;
  bool systemd_cgroup;
  const char *rootless;
  bool rootless_cgroup; /* --rootless, "auto" resolved: a cgroup the host
                           refuses is no error (cgroup/driver.h) */
  const char *argv0;
  char **argv; /* the whole command line: berth may re-execute itself
                  (sealed_exe.h) */
  const char *trace; /* --trace FILE; NULL: $BERTH_TRACE (base/trace.h) */
  const char *criu;  /* --criu PATH (lifecycle/checkpoint.h) */
};

typedef int (*berth_command_fn) (const struct berth_globals *g, int argc, char **argv,
                                 struct berth_error *err);

struct berth_command {
  const char *name;
  const char *summary;
  berth_command_fn run;
  int error_status; /* exit status when run() fails (runc: exec 255, others 1) */
};

#define BERTH_COMMANDS(X)                                                              \
  X (checkpoint, "checkpoint a running container")                                   \
  X (check, "validate a bundle against the spec and this host, listing every problem") \
  X (create, "create a container")                                                     \
  X (delete, "delete any resources held by the container")                             \
  X (events, "display container events such as OOM notifications and statistics")     \
  X (exec, "execute new process inside the container")                                 \
  X (features, "show the enabled features")                                            \
  X (kill, "send a signal to the container's init process")                            \
  X (list, "list containers started by berth with the given root")                     \
  X (pause, "pause all processes within the container")                                \
  X (ps, "show processes running inside the container")                                \
  X (restore, "restore a container from a previous checkpoint")                       \
  X (resume, "resume all processes that have been previously paused")                  \
  X (run, "create and run a container")                                                \
  X (spec, "create a new specification file")                                         \
  X (start, "execute the user defined process in a created container")                 \
  X (state, "output the state of a container")                                         \
  X (update, "update container resource constraints")

#define BERTH_DECLARE_COMMAND(name, summary)                                           \
  int berth_cmd_##name (const struct berth_globals *g, int argc, char **argv,           \
                        struct berth_error *err);
BERTH_COMMANDS (BERTH_DECLARE_COMMAND)
/* Its name has a dash, which the table's X-macro cannot spell. */
#define BERTH_TRACE_SUMMARY_ENTRY                                                      \
  { "trace-summary", "summarise a --trace file: each phase's time", berth_cmd_trace_summary, 1 },
BERTH_DECLARE_COMMAND (trace_summary, _)

/* ---- helpers shared by the command files (common.c) ---------------------- */

/* getopt_long over a command's argv, with berth's conventions: `-h/--help`
   prints `usage` and makes the command exit 0 (returns 'h'); an unknown flag or a
   missing argument is a usage error (returns '?', err filled).  `optstring`
   must not include ':' or 'h'; prefix it with '+' to stop at the first
   operand (exec, ps). */
int cli_getopt (const char *cmd, int argc, char **argv, const char *optstring,
                const struct option *longopts, struct berth_error *err);

/* runc's operand-count rules and messages. */
int cli_want_args (const char *cmd, int argc, int min, int max, struct berth_error *err);

int cli_not_implemented (const char *cmd, struct berth_error *err);

/* What the container library needs of the global options. */
struct berth_runtime cli_runtime (const struct berth_globals *g);

/* A container in the foreground (run, restore): wait for its init,
   relaying the pty when out->console >= 0, then delete it unless `keep`;
   its exit status, 128+N for a signal. */
int cli_foreground (const struct berth_runtime *rt, const char *id, const struct created *out,
                    bool keep, struct berth_error *err);

/* Parse an unsigned decimal flag value, naming the flag on error. */
int cli_parse_uint (const char *flag, const char *value, unsigned long long max,
                    unsigned long long *out, struct berth_error *err);

#endif
