/* berth — the runtime's log, runc's format.
 *
 * Contract: main() calls berth_log_setup() once from the parsed global flags
 * (the only process-wide state berth keeps).  Lines go to --log FILE (opened
 * O_APPEND, 0644, never truncated) or stderr, as text or as runc's JSON
 * ({"level":…,"msg":…,"time":RFC 3339}), one line per record.  Lower modules
 * log warnings and debug lines; errors are returned as values and logged only
 * by main through berth_log_error().
 */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <stdbool.h>
#include "error.h"

enum berth_log_level { BERTH_LOG_DEBUG, BERTH_LOG_INFO, BERTH_LOG_WARNING, BERTH_LOG_ERROR };
enum berth_log_format { BERTH_LOG_TEXT, BERTH_LOG_JSON };

int berth_log_setup (const char *file, enum berth_log_format format, bool debug,
                     struct berth_error *err);
/* The log fd, so that a child about to exec can close it; -1 for stderr. */
int berth_log_fd (void);
bool berth_log_debug_enabled (void);

void berth_log (enum berth_log_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
#define berth_warn(...) berth_log (BERTH_LOG_WARNING, __VA_ARGS__)
#define berth_debug(...)                                                        \
  do {                                                                          \
    if (berth_log_debug_enabled ())                                             \
      berth_log (BERTH_LOG_DEBUG, __VA_ARGS__);                                 \
  } while (0)

/* main only: the error as one line to the log, and (as runc does) the bare
   message to stderr when the log is a file. */
void berth_log_error (const char *msg);

#endif
