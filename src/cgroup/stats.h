/* berth — the container's resource usage and OOM kills, as runc's `events`.
 *
 * Contract:
 *  - stats_event_json() reads the container's cgroup files (v1 memory,
 *    cpu/cpuacct, pids, blkio, hugetlb; v2 memory.*, cpu.stat, pids.*, io.stat,
 *    hugetlb.*; on a hybrid host each controller where it lives) and returns
 *    one line of JSON in runc's shape: {"type":"stats","id":ID,"data":
 *    {"cpu":…,"memory":…,"pids":…,"blkio":…,"hugetlb":…}}, omitting zero
 *    counters where runc's types say omitempty.  An absent controller leaves
 *    its section empty; nothing here is an error but an unreadable cgroup.
 *  - The OOM watch reports kills by the kernel's OOM killer in the cgroup:
 *    v1 an eventfd registered on memory.oom_control through
 *    cgroup.event_control (one event per notification, as runc), v2 the
 *    oom_kill counter of memory.events, watched with inotify.
 *  - container_events() streams, one JSON object a line: a stats event every
 *    `interval_ms` and {"type":"oom","id":ID} on each OOM kill, until the
 *    container's init exits; with stats_once, one stats event and return.
 *    It holds the container's lock only to read its state, never while
 *    streaming.
 */
#ifndef BERTH_STATS_H
#define BERTH_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "lifecycle/container.h"
#include "error.h"

int stats_event_json (const struct berth_cgroup *cg, const char *id, char **out,
                      struct berth_error *err);

/* {"type":"oom","id":ID} */
int oom_event_json (const char *id, char **out, struct berth_error *err);

struct oom_watch {
  int fd;      /* poll for POLLIN; -1 when the host offers no OOM reports */
  bool v2;
  char *events; /* v2: path of memory.events */
  uint64_t kills;
};

int oom_watch_open (const struct berth_cgroup *cg, struct oom_watch *w, struct berth_error *err);
/* How many OOM events happened since the last call (0 when none). */
uint64_t oom_watch_read (struct oom_watch *w);
void oom_watch_close (struct oom_watch *w);

int container_events (const struct berth_runtime *rt, const char *id, long interval_ms,
                      bool stats_once, struct berth_error *err);

#endif
