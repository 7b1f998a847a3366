/* berth — the start-up trace (--trace FILE, $BERTH_TRACE): when each phase
 * of a command began and ended, in the runtime and in the processes it
 * clones, in Chrome's trace-event format (Perfetto, chrome://tracing).
 *
 * Contract:
 *  - main() calls berth_trace_setup() once, before the command, and
 *    berth_trace_finish() once, after it (the second and last process-wide
 *    state berth keeps, beside the log: the trace points sit in every layer
 *    and threading a handle through all of them would change every
 *    signature for a debugging aid).
 *  - Off (no flag, no variable), a trace point is one test of a NULL
 *    pointer: no clock read, no allocation, no fd.
 *  - On, setup maps one anonymous MAP_SHARED buffer.  The clone()s and
 *    fork()s of create and exec share it, so the init and the exec'd
 *    process record their phases into the same buffer as the runtime, with
 *    the same clock (CLOCK_MONOTONIC, microseconds).  Nothing of it reaches
 *    the container's program: it is memory, not an fd, and execve unmaps it.
 *    A child marks itself with berth_trace_role(); the runtime tells which
 *    host pid each role had with berth_trace_pid() (the child's own
 *    getpid() is its namespace's).
 *  - The file is opened only at setup (to warn at once when it cannot be:
 *    tracing is then off and the command runs as usual) and at finish,
 *    never while a child lives.  finish appends the command's events to one
 *    JSON object, {"displayTimeUnit":"ms","traceEvents":[...]}, under
 *    flock(2): it overwrites the closing "\n]}\n" of what is there, so the
 *    file stays one valid document however many commands wrote to it.  A
 *    file that does not end so is left alone (a warning).
 *  - Events are `X` (complete) events, recorded when a phase ends, so they
 *    nest as the code's scopes do; the execve itself is an `i` (instant)
 *    event.  Every event carries args.cmd, the runtime's pid, so that
 *    trace-summary can tell commands apart.  The command itself is the
 *    outermost span, "berth NAME", from setup to finish.
 *  - Events a process records after its parent collected the buffer are
 *    lost: `start`'s own process does not see the init's last steps (they
 *    are in the buffer `create` left behind); `run` and `exec` see them.
 */
#ifndef BERTH_TRACE_H
#define BERTH_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum berth_trace_role {
  BERTH_TRACE_RUNTIME,
  BERTH_TRACE_CHILD,   /* create's first child when the init is forked by it */
  BERTH_TRACE_PROCESS, /* the container's init, or exec's process */
  BERTH_TRACE_ROLES,
};

/* Non-NULL only while tracing: the one thing a trace point tests. */
extern void *berth_trace_on;

/* `file` NULL: $BERTH_TRACE, if set and not empty.  Never fails: a file
   that cannot be opened is a warning, and tracing stays off. */
void berth_trace_setup (const char *file, const char *command);
/* Write the events; warn on failure.  Nothing when off. */
void berth_trace_finish (void);

/* In a child: which role its events have (a copy of the runtime's state). */
void berth_trace_role (enum berth_trace_role role);
/* In the runtime: the host pid of a role, and its name in the viewer. */
void berth_trace_pid (enum berth_trace_role role, pid_t pid, const char *label);

uint64_t berth_trace_now_ns (void);
void berth_trace_record (const char *name, uint64_t start_ns, uint64_t end_ns);
void berth_trace_instant_at (const char *name);

struct berth_trace_span {
  const char *name;
  uint64_t start; /* 0: off */
};

static inline struct berth_trace_span
berth_trace_begin (const char *name)
{
  struct berth_trace_span s = { name, 0 };
  if (__builtin_expect (berth_trace_on != NULL, 0))
    s.start = berth_trace_now_ns ();
  return s;
}

static inline void
berth_trace_end (struct berth_trace_span *s)
{
  if (__builtin_expect (s->start != 0, 0))
    berth_trace_record (s->name, s->start, berth_trace_now_ns ());
  s->start = 0;
}

static inline void
berth_trace_instant (const char *name)
{
  if (__builtin_expect (berth_trace_on != NULL, 0))
    berth_trace_instant_at (name);
}

#define BERTH_TRACE_CAT2_(a, b) a##b
#define BERTH_TRACE_CAT_(a, b) BERTH_TRACE_CAT2_ (a, b)
/* A phase from here to the end of the enclosing block (any return). */
#define BERTH_TRACE_SCOPE(name)                                                         \
  __attribute__ ((cleanup (berth_trace_end))) struct berth_trace_span BERTH_TRACE_CAT_ ( \
      berth_trace_span_, __LINE__)                                                      \
      = berth_trace_begin (name)
/* A phase around one expression, whose value it yields. */
#define BERTH_TRACED(name, expr)                                                        \
  ({                                                                                    \
    struct berth_trace_span berth_trace_s_ = berth_trace_begin (name);                  \
    __typeof__ (expr) berth_trace_r_ = (expr);                                          \
    berth_trace_end (&berth_trace_s_);                                                  \
    berth_trace_r_;                                                                     \
  })

#endif
