/* Container statistics from cgroup files, as runc's events types, and the
   OOM watch.  The JSON is written with yajl_gen directly: runc's shape has
   arrays of 64-bit counters and maps of numbers, which the declarative model
   has no kinds for. */
#include "cgroup/stats.h"
#include "cleanup.h"
#include "cgroup/resources_priv.h"
#include "base/utils.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

/* ---- reading ------------------------------------------------------------------ */

static char *
slurp (const char *dir, const char *file)
{
  char path[4096], *text = NULL;

  if (dir == NULL)
    return NULL;
  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (read_file_at (AT_FDCWD, path, &text, NULL, &(struct berth_error){ 0 }) < 0)
    return NULL;
  return text;
}

/* A one-number file; "max" is UINT64_MAX, anything unreadable 0. */
static uint64_t
num (const char *dir, const char *file)
{
  uint64_t v = 0;

  if (dir == NULL || res_read_u64 (dir, file, &v, &(struct berth_error){ 0 }) < 0)
    return 0;
  return v;
}

/* The value of `key` in a "key value" per line text (memory.stat, cpu.stat). */
static uint64_t
keyed (const char *text, const char *key)
{
  size_t l = strlen (key);

  for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, key, l) == 0 && p[l] == ' ')
      return strtoull (p + l + 1, NULL, 10);
  return 0;
}

/* ---- writing -------------------------------------------------------------------- */

static void
key (yajl_gen g, const char *k)
{
  yajl_gen_string (g, (const unsigned char *) k, strlen (k));
}

static void
u64 (yajl_gen g, uint64_t v)
{
  char b[24];
  int n = snprintf (b, sizeof b, "%" PRIu64, v);
  yajl_gen_number (g, b, (size_t) n);
}

/* omitempty: Go drops a zero number. */
static void
field (yajl_gen g, const char *k, uint64_t v, bool omitempty)
{
  if (omitempty && v == 0)
    return;
  key (g, k);
  u64 (g, v);
}

static void
open_obj (yajl_gen g, const char *k)
{
  key (g, k);
  yajl_gen_map_open (g);
}

/* A list of numbers ("percpu"), omitted when empty. */
static void
u64_list (yajl_gen g, const char *k, const char *text)
{
  char *end;
  bool any = false;

  for (const char *p = text; p; p = end)
    {
      uint64_t v = strtoull (p, &end, 10);
      if (end == p)
        break;
      if (!any)
        key (g, k), yajl_gen_array_open (g), any = true;
      u64 (g, v);
    }
  if (any)
    yajl_gen_array_close (g);
}

/* ---- cpu -------------------------------------------------------------------------- */

static void
throttling (yajl_gen g, const char *stat, uint64_t time_scale, const char *time_key)
{
  open_obj (g, "throttling");
  field (g, "periods", keyed (stat, "nr_periods"), true);
  field (g, "throttledPeriods", keyed (stat, "nr_throttled"), true);
  field (g, "throttledTime", keyed (stat, time_key) * time_scale, true);
  yajl_gen_map_close (g);
}

static void
cpu_v1 (yajl_gen g, const char *acct, const char *cpu)
{
  cleanup_free char *percpu = slurp (acct, "cpuacct.usage_percpu");
  cleanup_free char *sys = slurp (acct, "cpuacct.usage_percpu_sys");
  cleanup_free char *user = slurp (acct, "cpuacct.usage_percpu_user");
  cleanup_free char *ticks = slurp (acct, "cpuacct.stat");
  cleanup_free char *stat = slurp (cpu, "cpu.stat");
  long hz = sysconf (_SC_CLK_TCK);
  uint64_t ns_per_tick = hz > 0 ? 1000000000ull / (uint64_t) hz : 10000000ull;

  open_obj (g, "usage");
  field (g, "total", num (acct, "cpuacct.usage"), true);
  u64_list (g, "percpu", percpu);
  u64_list (g, "percpu_kernel", sys);
  u64_list (g, "percpu_user", user);
  field (g, "kernel", keyed (ticks, "system") * ns_per_tick, false);
  field (g, "user", keyed (ticks, "user") * ns_per_tick, false);
  yajl_gen_map_close (g);
  throttling (g, stat, 1, "throttled_time");
}

static void
cpu_v2 (yajl_gen g, const char *dir)
{
  cleanup_free char *stat = slurp (dir, "cpu.stat");

  open_obj (g, "usage");
  field (g, "total", keyed (stat, "usage_usec") * 1000, true);
  field (g, "kernel", keyed (stat, "system_usec") * 1000, false);
  field (g, "user", keyed (stat, "user_usec") * 1000, false);
  yajl_gen_map_close (g);
  throttling (g, stat, 1000, "throttled_usec");
}

/* ---- memory ------------------------------------------------------------------------ */

/* runc's MemoryEntry: limit and failcnt always, usage and max omitempty. */
static void
mem_entry (yajl_gen g, const char *k, uint64_t limit, uint64_t usage, uint64_t max,
           uint64_t failcnt)
{
  open_obj (g, k);
  field (g, "limit", limit, false);
  field (g, "usage", usage, true);
  field (g, "max", max, true);
  field (g, "failcnt", failcnt, false);
  yajl_gen_map_close (g);
}

static void
mem_entry_v1 (yajl_gen g, const char *k, const char *dir, const char *prefix)
{
  char f[4][96];
  const char *names[4] = { "limit_in_bytes", "usage_in_bytes", "max_usage_in_bytes", "failcnt" };

  for (int i = 0; i < 4; i++)
    snprintf (f[i], sizeof f[i], "%s%s", prefix, names[i]);
  mem_entry (g, k, num (dir, f[0]), num (dir, f[1]), num (dir, f[2]), num (dir, f[3]));
}

static void
raw (yajl_gen g, const char *stat)
{
  char name[128];
  uint64_t v;
  int n;

  open_obj (g, "raw");
  for (const char *p = stat; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (sscanf (p, "%127s %" SCNu64 "%n", name, &v, &n) == 2)
      field (g, name, v, false);
  yajl_gen_map_close (g);
}

static void
memory_v1 (yajl_gen g, const char *dir)
{
  cleanup_free char *stat = slurp (dir, "memory.stat");

  field (g, "cache", keyed (stat, "cache"), true);
  mem_entry_v1 (g, "usage", dir, "memory.");
  mem_entry_v1 (g, "swap", dir, "memory.memsw.");
  mem_entry_v1 (g, "kernel", dir, "memory.kmem.");
  mem_entry_v1 (g, "kernelTCP", dir, "memory.kmem.tcp.");
  raw (g, stat);
}

/* v2 as runc reports it: swap as memory+swap like v1; failcnt from the
   "max" count of memory.events. */
static void
memory_v2 (yajl_gen g, const char *dir)
{
  cleanup_free char *stat = slurp (dir, "memory.stat");
  cleanup_free char *events = slurp (dir, "memory.events");
  uint64_t usage = num (dir, "memory.current"), limit = num (dir, "memory.max");
  uint64_t swap_limit = num (dir, "memory.swap.max");

  field (g, "cache", keyed (stat, "file"), true);
  mem_entry (g, "usage", limit, usage, num (dir, "memory.peak"), keyed (events, "max"));
  if (swap_limit != UINT64_MAX && limit != UINT64_MAX)
    swap_limit += limit;
  mem_entry (g, "swap", swap_limit, usage + num (dir, "memory.swap.current"), 0, 0);
  mem_entry (g, "kernel", 0, 0, 0, 0);
  mem_entry (g, "kernelTCP", 0, 0, 0, 0);
  raw (g, stat);
}

/* ---- blkio ------------------------------------------------------------------------- */

/* v1 lines "8:0 Read 4096"; the "Total" lines carry no device. */
static void
blkio_v1_list (yajl_gen g, const char *k, const char *text)
{
  unsigned maj, min;
  char op[32];
  uint64_t v;
  bool any = false;

  for (const char *p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    {
      if (sscanf (p, "%u:%u %31s %" SCNu64, &maj, &min, op, &v) != 4)
        continue;
      if (!any)
        key (g, k), yajl_gen_array_open (g), any = true;
      yajl_gen_map_open (g);
      field (g, "major", maj, true);
      field (g, "minor", min, true);
      key (g, "op");
      yajl_gen_string (g, (const unsigned char *) op, strlen (op));
      field (g, "value", v, true);
      yajl_gen_map_close (g);
    }
  if (any)
    yajl_gen_array_close (g);
}

static void
blkio_v1 (yajl_gen g, const char *dir)
{
  /* CFQ's files, else BFQ's, else the throttling layer's (runc's order). */
  static const char *const kinds[] = { "blkio.", "blkio.bfq.", "blkio.throttle." };
  char bytes[96], ios[96];
  size_t i;

  for (i = 0; i < 2; i++)
    {
      snprintf (bytes, sizeof bytes, "%sio_service_bytes_recursive", kinds[i]);
      if (dir && res_has_file (dir, bytes))
        break;
    }
  snprintf (bytes, sizeof bytes, "%sio_service_bytes_recursive", kinds[i]);
  snprintf (ios, sizeof ios, "%sio_serviced_recursive", kinds[i]);
  cleanup_free char *b = slurp (dir, bytes);
  cleanup_free char *s = slurp (dir, ios);
  blkio_v1_list (g, "ioServiceBytesRecursive", b);
  blkio_v1_list (g, "ioServicedRecursive", s);
}

/* io.stat "254:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." as v1's lists. */
static void
blkio_v2 (yajl_gen g, const char *dir)
{
  static const char *const lists[2] = { "ioServiceBytesRecursive", "ioServicedRecursive" };
  static const char *const keys[2][2] = { { "rbytes=", "wbytes=" }, { "rios=", "wios=" } };
  cleanup_free char *stat = slurp (dir, "io.stat");
  cleanup_free char *text[2] = { NULL, NULL };

  for (int l = 0; l < 2; l++)
    {
      size_t len = 0;
      FILE *f = open_memstream (&text[l], &len);
      for (const char *p = stat; f && p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
        {
          unsigned maj, min;
          const char *line_end = strchr (p, '\n'), *q;
          if (sscanf (p, "%u:%u", &maj, &min) != 2)
            continue;
          for (int o = 0; o < 2; o++)
            if ((q = strstr (p, keys[l][o])) && (!line_end || q < line_end))
              fprintf (f, "%u:%u %s %s\n", maj, min, o ? "Write" : "Read",
                       q + strlen (keys[l][o]));
        }
      if (f)
        fclose (f);
      blkio_v1_list (g, lists[l], text[l]);
    }
}

/* ---- hugetlb ------------------------------------------------------------------------- */

/* The kernel's page sizes, named as in hugetlb.<size>.* files: "2MB". */
static void
page_size_name (const char *entry, char *out, size_t len)
{
  unsigned long kb = strtoul (entry + strlen ("hugepages-"), NULL, 10);

  if (kb >= (1ul << 20))
    snprintf (out, len, "%luGB", kb >> 20);
  else if (kb >= (1ul << 10))
    snprintf (out, len, "%luMB", kb >> 10);
  else
    snprintf (out, len, "%luKB", kb);
}

static void
hugetlb (yajl_gen g, const char *dir, bool v2)
{
  cleanup_closedir DIR *d = opendir ("/sys/kernel/mm/hugepages");
  struct dirent *de;
  char size[32], f[3][96];

  while (d && dir && (de = readdir (d)))
    {
      if (strncmp (de->d_name, "hugepages-", 10) != 0)
        continue;
      page_size_name (de->d_name, size, sizeof size);
      snprintf (f[0], sizeof f[0], "hugetlb.%s.%s", size, v2 ? "current" : "usage_in_bytes");
      snprintf (f[1], sizeof f[1], "hugetlb.%s.max_usage_in_bytes", size);
      snprintf (f[2], sizeof f[2], "hugetlb.%s.%s", size, v2 ? "events" : "failcnt");
      cleanup_free char *events = v2 ? slurp (dir, f[2]) : NULL;
      open_obj (g, size);
      field (g, "usage", num (dir, f[0]), true);
      field (g, "max", v2 ? 0 : num (dir, f[1]), true);
      field (g, "failcnt", v2 ? keyed (events, "max") : num (dir, f[2]), false);
      yajl_gen_map_close (g);
    }
}

/* ---- the event ------------------------------------------------------------------------- */

static const char *
where (const struct berth_cgroup *cg, const char *v1, const char *v2, bool *is_v2)
{
  struct res_ctx c = { cg, false, &(struct berth_error){ 0 } };
  struct res_ctl ctl = { NULL, false };

  res_locate (&c, v1, v2, "", &ctl);
  *is_v2 = ctl.v2;
  return ctl.dir;
}

static void
data (yajl_gen g, const struct berth_cgroup *cg)
{
  bool v2;
  const char *dir, *core = cg->mode == BERTH_CGROUP_V2 ? cgroup_dir (cg, "") : NULL;

  open_obj (g, "cpu");
  if (core)
    cpu_v2 (g, core);
  else
    cpu_v1 (g, cgroup_dir (cg, "cpuacct"), cgroup_dir (cg, "cpu"));
  yajl_gen_map_close (g);
  open_obj (g, "memory");
  if ((dir = where (cg, "memory", "memory", &v2)))
    (v2 ? memory_v2 : memory_v1) (g, dir);
  yajl_gen_map_close (g);
  open_obj (g, "pids");
  dir = where (cg, "pids", "pids", &v2);
  field (g, "current", num (dir, "pids.current"), true);
  field (g, "limit", num (dir, "pids.max") == UINT64_MAX ? 0 : num (dir, "pids.max"), true);
  yajl_gen_map_close (g);
  open_obj (g, "blkio");
  if ((dir = where (cg, "blkio", "io", &v2)))
    (v2 ? blkio_v2 : blkio_v1) (g, dir);
  yajl_gen_map_close (g);
  open_obj (g, "hugetlb");
  hugetlb (g, where (cg, "hugetlb", "hugetlb", &v2), v2);
  yajl_gen_map_close (g);
}

static int
finish (yajl_gen g, char **out, struct berth_error *err)
{
  const unsigned char *buf;
  size_t len;

  if (yajl_gen_get_buf (g, &buf, &len) != yajl_gen_status_ok
      || (*out = strndup ((const char *) buf, len)) == NULL)
    {
      yajl_gen_free (g);
      return berth_err (err, BERTH_E_SYSTEM, "cannot generate the event JSON");
    }
  yajl_gen_free (g);
  return 0;
}

static yajl_gen
event_open (const char *type, const char *id)
{
  yajl_gen g = yajl_gen_alloc (NULL);

  if (g == NULL)
    return NULL;
  yajl_gen_map_open (g);
  key (g, "type");
  key (g, type);
  key (g, "id");
  key (g, id);
  return g;
}

int
stats_event_json (const struct berth_cgroup *cg, const char *id, char **out,
                  struct berth_error *err)
{
  yajl_gen g = event_open ("stats", id);

  if (g == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  open_obj (g, "data");
  data (g, cg);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  return finish (g, out, err);
}

int
oom_event_json (const char *id, char **out, struct berth_error *err)
{
  yajl_gen g = event_open ("oom", id);

  if (g == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  yajl_gen_map_close (g);
  return finish (g, out, err);
}
