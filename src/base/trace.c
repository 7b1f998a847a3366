/* berth — the start-up trace; see trace.h for the contract. */
#include "base/trace.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Enough for every phase of one command, with room to spare; past it,
   events are dropped (and counted). */
enum { MAX_EVENTS = 1024, NAME_LEN = 40 };

struct event {
  char name[NAME_LEN];
  uint64_t start, end; /* ns; end 0: instant */
  uint8_t role;
};

/* Shared with every child cloned after setup. */
struct shared {
  uint32_t n;       /* slots taken (atomically); may pass MAX_EVENTS */
  pid_t pid[BERTH_TRACE_ROLES];
  char label[BERTH_TRACE_ROLES][48];
  struct event ev[MAX_EVENTS];
};

void *berth_trace_on;

/* This process's copy: children change only their role. */
static struct {
  struct shared *sh;
  const char *file;
  const char *command;
  uint64_t start;
  enum berth_trace_role role;
} tr;

static const char TRAILER[] = "\n]}\n";

uint64_t
berth_trace_now_ns (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static void
add (const char *name, uint64_t start, uint64_t end)
{
  uint32_t i = __atomic_fetch_add (&tr.sh->n, 1, __ATOMIC_RELAXED);
  struct event *e;

  if (i >= MAX_EVENTS)
    return;
  e = &tr.sh->ev[i];
  snprintf (e->name, sizeof e->name, "%s", name);
  e->role = (uint8_t) tr.role;
  e->start = start;
  /* Published last: the runtime takes an event with start 0 as unwritten. */
  __atomic_store_n (&e->end, end, __ATOMIC_RELEASE);
}

void
berth_trace_record (const char *name, uint64_t start_ns, uint64_t end_ns)
{
  if (tr.sh)
    add (name, start_ns, end_ns);
}

void
berth_trace_instant_at (const char *name)
{
  if (tr.sh)
    add (name, berth_trace_now_ns (), 0);
}

void
berth_trace_setup (const char *file, const char *command)
{
  int fd;
  void *p;

  if (file == NULL)
    file = getenv ("BERTH_TRACE");
  if (file == NULL || file[0] == '\0')
    return;
  /* Now, so that a path that cannot be written is said before the command
     runs; closed again, so no child ever holds it. */
  fd = open (file, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0)
    {
      berth_warn ("trace: cannot open %s: %s; tracing is off", file, strerror (errno));
      return;
    }
  close (fd);
  p = mmap (NULL, sizeof (struct shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
            -1, 0);
  if (p == MAP_FAILED)
    {
      berth_warn ("trace: cannot map the event buffer: %s; tracing is off", strerror (errno));
      return;
    }
  tr.sh = p;
  tr.file = file;
  tr.command = command;
  tr.role = BERTH_TRACE_RUNTIME;
  tr.sh->pid[BERTH_TRACE_RUNTIME] = getpid ();
  snprintf (tr.sh->label[BERTH_TRACE_RUNTIME], sizeof tr.sh->label[0], "berth %s", command);
  tr.start = berth_trace_now_ns ();
  berth_trace_on = p;
}

void
berth_trace_role (enum berth_trace_role role)
{
  tr.role = role;
}

void
berth_trace_pid (enum berth_trace_role role, pid_t pid, const char *label)
{
  if (tr.sh == NULL)
    return;
  tr.sh->pid[role] = pid;
  snprintf (tr.sh->label[role], sizeof tr.sh->label[0], "%s", label);
}

/* Names are berth's own words; escaped anyway, as the file is JSON. */
static void
put_string (FILE *f, const char *s)
{
  fputc ('"', f);
  for (; *s; s++)
    if (*s == '"' || *s == '\\')
      fprintf (f, "\\%c", *s);
    else if ((unsigned char) *s < 0x20)
      fprintf (f, "\\u%04x", (unsigned) *s);
    else
      fputc (*s, f);
  fputc ('"', f);
}

static void
put_us (FILE *f, const char *key, uint64_t ns)
{
  fprintf (f, ",\"%s\":%llu.%03u", key, (unsigned long long) (ns / 1000), (unsigned) (ns % 1000));
}

static void
put_event (FILE *f, bool *first, const char *name, char ph, pid_t pid, uint64_t start,
           uint64_t end)
{
  fputs (*first ? "\n" : ",\n", f);
  *first = false;
  fputs ("{\"name\":", f);
  put_string (f, name);
  fprintf (f, ",\"cat\":\"berth\",\"ph\":\"%c\"", ph);
  put_us (f, "ts", start);
  if (ph == 'X')
    put_us (f, "dur", end - start);
  if (ph == 'i')
    fputs (",\"s\":\"t\"", f);
  fprintf (f, ",\"pid\":%d,\"tid\":%d,\"args\":{\"cmd\":%d}}", (int) pid, (int) pid,
           (int) tr.sh->pid[BERTH_TRACE_RUNTIME]);
}

/* The command's events, each line but the first preceded by ",\n". */
static int
render (char **out, size_t *len, uint64_t end)
{
  FILE *f = open_memstream (out, len);
  uint32_t n = __atomic_load_n (&tr.sh->n, __ATOMIC_ACQUIRE);
  bool first = true;
  char name[64];

  if (f == NULL)
    return -1;
  for (int r = 0; r < BERTH_TRACE_ROLES; r++)
    if (tr.sh->pid[r] > 0)
      {
        pid_t pid = tr.sh->pid[r];
        fputs (first ? "\n" : ",\n", f);
        first = false;
        fprintf (f, "{\"name\":\"process_name\",\"ph\":\"M\",\"ts\":0,\"pid\":%d,\"tid\":%d,"
                    "\"args\":{\"name\":", (int) pid, (int) pid);
        put_string (f, tr.sh->label[r]);
        fputs ("}}", f);
      }
  snprintf (name, sizeof name, "berth %s", tr.command);
  put_event (f, &first, name, 'X', tr.sh->pid[BERTH_TRACE_RUNTIME], tr.start, end);
  for (uint32_t i = 0; i < n && i < MAX_EVENTS; i++)
    {
      const struct event *e = &tr.sh->ev[i];
      uint64_t stop = __atomic_load_n (&e->end, __ATOMIC_ACQUIRE);
      pid_t pid = tr.sh->pid[e->role];
      if (e->start == 0 || pid <= 0)
        continue; /* not finished, or a role nobody named */
      put_event (f, &first, e->name, stop ? 'X' : 'i', pid, e->start, stop);
    }
  if (n > MAX_EVENTS)
    berth_warn ("trace: %u events dropped (buffer full)", n - MAX_EVENTS);
  return fclose (f) == 0 ? 0 : -1;
}

static int
append (int fd, const char *events, size_t len)
{
  static const char head[] = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  char tail[sizeof TRAILER - 1];
  struct stat st;
  off_t at = 0;
  FILE *f;

  if (flock (fd, LOCK_EX) < 0 || fstat (fd, &st) < 0)
    return -1;
  if (st.st_size > 0)
    {
      at = st.st_size - (off_t) sizeof tail;
      if (st.st_size < (off_t) sizeof tail || pread (fd, tail, sizeof tail, at) != sizeof tail
          || memcmp (tail, TRAILER, sizeof tail) != 0)
        {
          errno = EINVAL;
          berth_warn ("trace: %s does not end as a berth trace does; left alone", tr.file);
          return 0;
        }
    }
  if (lseek (fd, at, SEEK_SET) < 0 || (f = fdopen (fcntl (fd, F_DUPFD_CLOEXEC, 0), "w")) == NULL)
    return -1;
  fputs (at ? "," : head, f);
  fwrite (events, 1, len, f);
  fputs (TRAILER, f);
  return fclose (f) == 0 ? 0 : -1;
}

void
berth_trace_finish (void)
{
  uint64_t end;
  char *events = NULL;
  size_t len = 0;
  int fd = -1;

  if (tr.sh == NULL || tr.role != BERTH_TRACE_RUNTIME)
    return;
  end = berth_trace_now_ns ();
  berth_trace_on = NULL;
  if (render (&events, &len, end) < 0)
    berth_warn ("trace: cannot render the events: %s", strerror (errno));
  else if ((fd = open (tr.file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644)) < 0
           || append (fd, events, len) < 0)
    berth_warn ("trace: cannot write %s: %s", tr.file, strerror (errno));
  if (fd >= 0)
    close (fd);
  free (events);
  munmap (tr.sh, sizeof (struct shared));
  tr.sh = NULL;
}
