/* The fixture tier of the resource writers (src/cgroup/resources*.c): no
 * root, no cgroupfs, milliseconds.
 *
 * cgroup_apply_resources() takes every directory from struct berth_cgroup,
 * so each case lays out a temporary directory as a v1 cgroup (one directory
 * per hierarchy: memory/, cpu,cpuacct/, blkio/, ...) or a v2 one (one
 * directory with cgroup.controllers and the controllers' files), points a
 * struct berth_cgroup at it, and applies the linux.resources of a real
 * config text parsed by libocispec.
 *
 * What is checked, per case:
 *  - the writes, in order: res_write() logs each one it attempts ("cgroup:
 *    write V to PATH", also when the file then turns out to be missing) at
 *    debug level, and the test reads the log back, so a reordering (memsw
 *    before the memory limit, cpus before mems) fails it;
 *  - the files: each file written once, which starts empty and exists,
 *    holds what was written (read back from disk);
 *  - errors: the JSON path a refusal names.
 * Files that are only read (memory.limit_in_bytes before memsw, usage for
 * checkBeforeUpdate) are seeded.  A regular file cannot refuse a value as
 * the kernel does, so what depends on a refusal (the period retries, the
 * EBUSY message, the shares clamp) is not reached here.
 *
 * v2 device rules are compiled to eBPF and attached to the directory, which
 * needs root and a real cgroup2 directory: they are left to the integration
 * tier (tests/integration/test_cgroups.py).  v1 device rules are files and
 * are checked here.
 *
 * The update merge (lifecycle/cgroup_ops.c) is checked as two pure
 * functions: cgops_merge_move (what the stored resources become) and
 * cgops_update_view (what an update then writes: the sections it names,
 * device rules only when they changed, runc's -1 swap rule).
 */
#include "cgroup/cgroup.h"
#include "cgroup/resources.h"
#include "base/log.h"
#include "cleanup.h"
#include "lifecycle/cgroup_ops.h"
#include "model.h"
#include "spec.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum layout { V1, V2, HYBRID };

#define V1_HIERARCHIES                                                                        \
  "memory", "cpu,cpuacct", "cpuset", "blkio", "pids", "hugetlb", "devices", "net_cls,net_prio", \
      "rdma"

/* Every file the writers may touch, by hierarchy ("" = the v2 directory). */
static const char *const v1_files[] = {
  "memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes",
  "memory/memory.soft_limit_in_bytes", "memory/memory.kmem.limit_in_bytes",
  "memory/memory.kmem.tcp.limit_in_bytes", "memory/memory.oom_control",
  "memory/memory.use_hierarchy", "memory/memory.swappiness", "memory/memory.usage_in_bytes",
  "memory/memory.memsw.usage_in_bytes", "memory/memory.max_usage_in_bytes",
  "cpu,cpuacct/cpu.shares", "cpu,cpuacct/cpu.cfs_period_us", "cpu,cpuacct/cpu.cfs_quota_us",
  "cpu,cpuacct/cpu.cfs_burst_us", "cpu,cpuacct/cpu.rt_period_us",
  "cpu,cpuacct/cpu.rt_runtime_us", "cpu,cpuacct/cpu.idle", "cpuset/cpuset.cpus",
  "cpuset/cpuset.mems", "blkio/blkio.weight", "blkio/blkio.weight_device",
  "blkio/blkio.leaf_weight", "blkio/blkio.leaf_weight_device",
  "blkio/blkio.throttle.read_bps_device", "blkio/blkio.throttle.write_bps_device",
  "blkio/blkio.throttle.read_iops_device", "blkio/blkio.throttle.write_iops_device",
  "pids/pids.max", "hugetlb/hugetlb.2MB.limit_in_bytes", "hugetlb/hugetlb.2MB.rsvd.limit_in_bytes",
  "hugetlb/hugetlb.1GB.limit_in_bytes", "devices/devices.allow", "devices/devices.deny",
  "net_cls,net_prio/net_cls.classid", "net_cls,net_prio/net_prio.ifpriomap", "rdma/rdma.max",
};
static const char *const v2_files[] = {
  "memory.max", "memory.low", "memory.high", "memory.swap.max", "memory.current",
  "memory.swap.current", "memory.oom.group", "cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle",
  "cpuset.cpus", "cpuset.mems", "io.weight", "io.max", "pids.max", "hugetlb.2MB.max",
  "hugetlb.2MB.rsvd.max", "hugetlb.1GB.max", "rdma.max",
};
#define N(a) (sizeof (a) / sizeof (a)[0])

struct fixture {
  char root[64];
  struct berth_cgroup cg;
  char log[96];
};

static void
put (const char *root, const char *rel, const char *text)
{
  char path[512];
  int fd;

  snprintf (path, sizeof path, "%s/%s", root, rel);
  if ((fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
    {
      tap_diag ("cannot create %s: %s", path, strerror (errno));
      return;
    }
  if (write (fd, text, strlen (text)) < 0)
    tap_diag ("cannot write %s: %s", path, strerror (errno));
  close (fd);
}

static char *
slurp (const char *path)
{
  cleanup_fclose FILE *f = fopen (path, "re");
  char *buf = NULL;
  size_t cap = 0;

  if (f == NULL || getdelim (&buf, &cap, '\0', f) < 0)
    {
      free (buf);
      return strdup ("");
    }
  return buf;
}

static void
add_dir (struct fixture *fx, const char *ctrl)
{
  struct berth_cgroup_dir *d;
  char path[512];

  fx->cg.dirs = realloc (fx->cg.dirs, (fx->cg.n_dirs + 1) * sizeof *fx->cg.dirs);
  d = memset (&fx->cg.dirs[fx->cg.n_dirs++], 0, sizeof *d);
  snprintf (path, sizeof path, "%s%s%s", fx->root, *ctrl ? "/" : "", ctrl);
  mkdir (path, 0755);
  d->controller = strdup (ctrl);
  d->path = strdup (path);
}

/* `omit`: files this host "lacks" (NULL-terminated), e.g. CFQ's blkio.weight. */
static void
fixture_make (struct fixture *fx, enum layout l, const char *const *omit)
{
  static const char *const hier[] = { V1_HIERARCHIES };

  memset (fx, 0, sizeof *fx);
  snprintf (fx->root, sizeof fx->root, "/tmp/berth-res-XXXXXX");
  if (mkdtemp (fx->root) == NULL)
    tap_diag ("mkdtemp: %s", strerror (errno));
  fx->cg.mode = l == V1 ? BERTH_CGROUP_V1 : l == V2 ? BERTH_CGROUP_V2 : BERTH_CGROUP_HYBRID;
  /* A hybrid host here is one whose hugetlb controller no v1 hierarchy
     took: it is in the cgroup2 hierarchy (/sys/fs/cgroup/unified). */
  if (l != V2)
    for (size_t i = 0; i < N (hier); i++)
      if (l == V1 || strcmp (hier[i], "hugetlb") != 0)
        add_dir (fx, hier[i]);
  if (l != V1)
    add_dir (fx, "");
  for (size_t i = 0; l != V2 && i < N (v1_files); i++)
    if (l == V1 || strncmp (v1_files[i], "hugetlb/", 8) != 0)
      put (fx->root, v1_files[i], "");
  for (size_t i = 0; l != V1 && i < N (v2_files); i++)
    if (l == V2 || strncmp (v2_files[i], "hugetlb.", 8) == 0)
      put (fx->root, v2_files[i], "");
  if (l == V2)
    put (fx->root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  if (l == HYBRID)
    put (fx->root, "cgroup.controllers", "hugetlb\n");
  for (; omit && *omit; omit++)
    {
      char path[512];
      snprintf (path, sizeof path, "%s/%s", fx->root, *omit);
      unlink (path);
    }
}

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st, (void) flag, (void) ftw;
  return remove (path);
}

static void
fixture_free (struct fixture *fx)
{
  nftw (fx->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  cgroup_free (&fx->cg);
}

/* The writes logged since the log was emptied, one "FILE VALUE" line each,
   FILE relative to the fixture's root. */
static char *
writes_of (const char *log, const char *root)
{
  cleanup_free char *text = slurp (log);
  size_t cap = strlen (text) + 1, n = 0, rl = strlen (root);
  char *out = calloc (1, cap), *line, *save = NULL;

  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *m = strstr (line, "msg=\"cgroup: write \\\""), val[1024], *v = val, *p;
      if (m == NULL)
        continue;
      /* Undo the logfmt escapes of the message: the value ends at \" */
      for (p = m + strlen ("msg=\"cgroup: write \\\""); *p && !(p[0] == '\\' && p[1] == '"');)
        {
          if (p[0] == '\\' && p[1])
            p++;
          *v++ = *p++;
        }
      *v = '\0';
      if (*p == '\0' || strncmp (p, "\\\" to ", 6) != 0)
        continue;
      p += 6;
      if (strncmp (p, root, rl) == 0 && p[rl] == '/')
        p += rl + 1;
      p[strcspn (p, "\"")] = '\0';
      n += (size_t) snprintf (out + n, cap - n, "%s %s\n", p, val);
    }
  return out;
}

struct rcase {
  const char *name;
  enum layout layout;
  const char *resources; /* linux.resources of the config */
  const char *writes;    /* expected, in order: "FILE VALUE\n" each */
  const char *err_path;  /* NULL: success expected */
  const char *seed;      /* "FILE=TEXT;..." seeded before */
  const char *omit[4];   /* files removed before */
  bool update;
};

static struct oci_config *
parse_config (const char *resources)
{
  char text[8192];
  struct oci_config *cfg = NULL;
  struct berth_error err = { 0 };

  snprintf (text, sizeof text, "{\"ociVersion\":\"1.3.0\",\"linux\":{\"resources\":%s}}",
            resources);
  if (oci_parse_data (&oci_type_config, text, strlen (text), "config.json", (void **) &cfg, &err)
      < 0)
    tap_diag ("parse %s: %s (%s)", resources, err.msg, err.path);
  return cfg;
}

static void
seed (const char *root, const char *spec)
{
  cleanup_free char *s = strdup (spec ? spec : "");
  char *save = NULL;

  for (char *kv = strtok_r (s, ";", &save); kv; kv = strtok_r (NULL, ";", &save))
    {
      char *eq = strchr (kv, '=');
      *eq = '\0';
      put (root, kv, eq + 1);
    }
}

/* Each file written once and not seeded holds its value. */
static bool
files_hold (const char *root, const char *writes, const char *seeded, char *why, size_t len)
{
  cleanup_free char *w = strdup (writes);
  char *save = NULL;

  for (char *line = strtok_r (w, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char file[512], *sp = strchr (line, ' '), needle[520], path[600];
      size_t fl = (size_t) (sp - line);
      int count = 0;
      snprintf (file, sizeof file, "%.*s", (int) fl, line);
      snprintf (needle, sizeof needle, "%s ", file);
      for (const char *p = writes; (p = strstr (p, needle)); p++)
        count += p == writes || p[-1] == '\n';
      snprintf (needle, sizeof needle, "%s=", file);
      const char *sd = seeded ? strstr (seeded, needle) : NULL;
      /* Seeded with content: it starts as more than what is written. */
      if (count != 1 || (sd && sd[strlen (needle)] != ';' && sd[strlen (needle)] != '\0'))
        continue;
      snprintf (path, sizeof path, "%s/%s", root, file);
      if (access (path, F_OK) != 0) /* a file this host "lacks" */
        continue;
      cleanup_free char *got = slurp (path);
      if (strcmp (got, sp + 1) != 0)
        {
          snprintf (why, len, "%s holds \"%s\", not \"%s\"", file, got, sp + 1);
          return false;
        }
    }
  return true;
}

static void
run_case (const struct rcase *t, const char *log)
{
  struct fixture fx;
  struct berth_error err = { 0 };
  cleanup_free char *writes = NULL;
  char why[1024] = "";
  struct oci_config *cfg = parse_config (t->resources);
  int r;

  fixture_make (&fx, t->layout, t->omit);
  seed (fx.root, t->seed);
  if (truncate (log, 0) < 0)
    tap_diag ("truncate %s: %s", log, strerror (errno));
  r = cfg ? cgroup_apply_resources (&fx.cg, cfg->linux->resources, t->update, &err) : -1;
  writes = writes_of (log, fx.root);
  if (t->err_path)
    tap_ok (r < 0 && strcmp (err.path, t->err_path) == 0, "%s: refused at %s (%s%s)", t->name,
            t->err_path, r < 0 ? "refused at " : "accepted", r < 0 ? err.path : "");
  else
    tap_ok (r == 0, "%s: applied%s%s", t->name, r < 0 ? ": " : "", r < 0 ? err.msg : "");
  if (!tap_ok (strcmp (writes, t->writes) == 0, "%s: writes in order", t->name))
    tap_diag ("expected:\n%s# got:\n%s", t->writes, writes);
  bool held = files_hold (fx.root, t->writes, t->seed, why, sizeof why);
  tap_ok (held, "%s: files read back%s%s", t->name, held ? "" : ": ", why);
  if (cfg)
    oci_free (&oci_type_config, cfg);
  fixture_free (&fx);
}

#define M "memory/"
#define C "cpu,cpuacct/"
#define B "blkio/"

static const struct rcase cases[] = {
  /* ---- memory ---- */
  { "v1 memory: limit, reservation, swap raised first", V1,
    "{\"memory\":{\"limit\":2000000,\"reservation\":1000000,\"swap\":3000000}}",
    M "memory.memsw.limit_in_bytes 3000000\n" M "memory.limit_in_bytes 2000000\n" M
      "memory.soft_limit_in_bytes 1000000\n",
    NULL, M "memory.limit_in_bytes=1000000" },
  { "v1 memory: swap lowered last", V1, "{\"memory\":{\"limit\":1000000,\"swap\":2000000}}",
    M "memory.limit_in_bytes 1000000\n" M "memory.memsw.limit_in_bytes 2000000\n", NULL,
    M "memory.limit_in_bytes=9000000" },
  { "v1 memory: -1 limit lifts swap first", V1, "{\"memory\":{\"limit\":-1}}",
    M "memory.memsw.limit_in_bytes -1\n" M "memory.limit_in_bytes -1\n", NULL,
    M "memory.limit_in_bytes=9000000" },
  { "v1 memory: limit alone", V1, "{\"memory\":{\"limit\":1048576}}",
    M "memory.limit_in_bytes 1048576\n" },
  { "v1 memory: kernel, kernelTCP, disableOOMKiller, useHierarchy, swappiness", V1,
    "{\"memory\":{\"kernel\":4096000,\"kernelTCP\":1024000,\"disableOOMKiller\":true,"
    "\"useHierarchy\":true,\"swappiness\":10}}",
    M "memory.kmem.limit_in_bytes 4096000\n" M "memory.kmem.tcp.limit_in_bytes 1024000\n" M
      "memory.oom_control 1\n" M "memory.use_hierarchy 1\n" M "memory.swappiness 10\n" },
  { "v1 memory: swappiness above 100", V1, "{\"memory\":{\"swappiness\":101}}", "", ".linux.resources.memory.swappiness" },
  { "v1 memory: checkBeforeUpdate below usage", V1,
    "{\"memory\":{\"limit\":1000,\"checkBeforeUpdate\":true}}", "",
    ".linux.resources.memory.limit", M "memory.usage_in_bytes=5000\n", { NULL }, true },
  { "v1 memory: checkBeforeUpdate above usage", V1,
    "{\"memory\":{\"limit\":10000,\"checkBeforeUpdate\":true}}", M "memory.limit_in_bytes 10000\n",
    NULL, M "memory.usage_in_bytes=5000\n", { NULL }, true },
  { "v2 memory: limit, reservation, swap as swap alone", V2,
    "{\"memory\":{\"limit\":2000000,\"reservation\":1000000,\"swap\":3000000}}",
    "memory.swap.max 1000000\nmemory.max 2000000\nmemory.low 1000000\n" },
  { "v2 memory: -1 limit is max, swap too", V2, "{\"memory\":{\"limit\":-1}}",
    "memory.swap.max max\nmemory.max max\n" },
  { "v2 memory: swap == limit is no swap", V2, "{\"memory\":{\"limit\":1000,\"swap\":1000}}",
    "memory.swap.max 0\nmemory.max 1000\n" },
  { "v2 memory: swap below limit", V2, "{\"memory\":{\"limit\":2000,\"swap\":1000}}", "",
    ".linux.resources.memory.swap" },
  { "v2 memory: swap without limit", V2, "{\"memory\":{\"swap\":1000}}", "",
    ".linux.resources.memory.swap" },
  { "v2 memory: no swap accounting, -1 passes", V2, "{\"memory\":{\"limit\":-1}}",
    "memory.swap.max max\nmemory.max max\n", NULL, NULL, { "memory.swap.max" } },
  { "v2 memory: kernel refused", V2, "{\"memory\":{\"kernel\":4096}}", "",
    ".linux.resources.memory.kernel" },
  { "v2 memory: disableOOMKiller refused", V2, "{\"memory\":{\"disableOOMKiller\":true}}", "",
    ".linux.resources.memory.disableOOMKiller" },
  { "v2 memory: swappiness ignored", V2, "{\"memory\":{\"swappiness\":10}}", "" },
  { "v2 memory: checkBeforeUpdate counts memory+swap", V2,
    "{\"memory\":{\"limit\":10000,\"swap\":12000,\"checkBeforeUpdate\":true}}", "",
    ".linux.resources.memory.swap", "memory.current=5000;memory.swap.current=7000", { NULL },
    true },
  /* ---- cpu, cpuset ---- */
  { "v1 cpu: every field", V1,
    "{\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"burst\":10000,"
    "\"realtimeRuntime\":950000,\"realtimePeriod\":1000000,\"idle\":0}}",
    C "cpu.shares 512\n" C "cpu.cfs_period_us 100000\n" C "cpu.cfs_burst_us 10000\n" C
      "cpu.cfs_quota_us 50000\n" C "cpu.idle 0\n" C "cpu.rt_period_us 1000000\n" C
      "cpu.rt_runtime_us 950000\n" },
  { "v1 cpuset: cpus before mems, before the rest", V1,
    "{\"memory\":{\"limit\":4096000},\"cpu\":{\"mems\":\"0\",\"cpus\":\"0-1\"}}",
    "cpuset/cpuset.cpus 0-1\ncpuset/cpuset.mems 0\n" M "memory.limit_in_bytes 4096000\n" },
  { "v2 cpu: shares as weight, quota and period as cpu.max", V2,
    "{\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":200000,\"burst\":1000,\"idle\":1}}",
    "cpu.weight 39\ncpu.idle 1\ncpu.max.burst 1000\ncpu.max 50000 200000\n" },
  { "v2 cpu: quota alone keeps the period", V2, "{\"cpu\":{\"quota\":-1}}", "cpu.max max\n" },
  { "v2 cpu: realtime refused", V2, "{\"cpu\":{\"realtimeRuntime\":1000}}", "",
    ".linux.resources.cpu.realtimeRuntime" },
  { "v2 cpuset: cpus before mems", V2, "{\"cpu\":{\"cpus\":\"0\",\"mems\":\"0\"}}",
    "cpuset.cpus 0\ncpuset.mems 0\n" },
  /* ---- block I/O ---- */
  { "v1 blkio: CFQ weights and throttles", V1,
    "{\"blockIO\":{\"weight\":500,\"leafWeight\":300,\"weightDevice\":[{\"major\":8,"
    "\"minor\":0,\"weight\":600,\"leafWeight\":200}],\"throttleReadBpsDevice\":[{\"major\":8,"
    "\"minor\":0,\"rate\":1048576}],\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0,"
    "\"rate\":2097152}],\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":100}],"
    "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":0}]}}",
    B "blkio.weight 500\n" B "blkio.leaf_weight 300\n" B "blkio.weight_device 8:0 600\n" B
      "blkio.leaf_weight_device 8:0 200\n" B "blkio.throttle.read_bps_device 8:0 1048576\n" B
      "blkio.throttle.write_bps_device 8:0 2097152\n" B
      "blkio.throttle.read_iops_device 8:0 100\n" B
      "blkio.throttle.write_iops_device 8:16 0\n" },
  { "v1 blkio: BFQ without CFQ", V1,
    "{\"blockIO\":{\"weight\":500,\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":600}]}}",
    B "blkio.bfq.weight 500\n" B "blkio.bfq.weight_device 8:0 600\n", NULL,
    B "blkio.bfq.weight=;" B "blkio.bfq.weight_device=", { B "blkio.weight" } },
  { "v2 io: weight converted, throttles in io.max", V2,
    "{\"blockIO\":{\"weight\":500,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,"
    "\"rate\":1048576}],\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":0}],"
    "\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":100}],"
    "\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":200}]}}",
    "io.weight 4950\nio.max 8:0 rbps=1048576\nio.max 8:0 wbps=max\nio.max 8:0 riops=100\n"
    "io.max 8:0 wiops=200\n" },
  { "v2 io: BFQ takes the v1 scale and device weights", V2,
    "{\"blockIO\":{\"weight\":500,\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":600}]}}",
    "io.bfq.weight 500\nio.bfq.weight 8:0 600\n", NULL, "io.bfq.weight=" },
  { "v2 io: weight out of range", V2, "{\"blockIO\":{\"weight\":5}}", "",
    ".linux.resources.blockIO.weight" },
  { "v2 io: leafWeight refused", V2, "{\"blockIO\":{\"leafWeight\":500}}", "",
    ".linux.resources.blockIO.leafWeight" },
  /* ---- pids, hugetlb, network, rdma, unified ---- */
  { "v1 pids", V1, "{\"pids\":{\"limit\":100}}", "pids/pids.max 100\n" },
  { "v1 pids: 0 is max", V1, "{\"pids\":{\"limit\":0}}", "pids/pids.max max\n" },
  { "v2 pids: -1 is max", V2, "{\"pids\":{\"limit\":-1}}", "pids.max max\n" },
  { "v1 hugetlb: limit and reservation", V1,
    "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":209715200},"
    "{\"pageSize\":\"1GB\",\"limit\":1073741824}]}",
    "hugetlb/hugetlb.2MB.limit_in_bytes 209715200\nhugetlb/hugetlb.2MB.rsvd.limit_in_bytes "
    "209715200\nhugetlb/hugetlb.1GB.limit_in_bytes 1073741824\n" },
  { "v2 hugetlb: limit and reservation", V2,
    "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":209715200}]}",
    "hugetlb.2MB.max 209715200\nhugetlb.2MB.rsvd.max 209715200\n" },
  { "v1 hugetlb: a size the host lacks", V1,
    "{\"hugepageLimits\":[{\"pageSize\":\"16GB\",\"limit\":1}]}", "",
    ".linux.resources.hugepageLimits[0]" },
  { "v1 hugetlb: not a size", V1, "{\"hugepageLimits\":[{\"pageSize\":\"2M\",\"limit\":1}]}",
    "", ".linux.resources.hugepageLimits[0]" },
  { "v1 network: classID and priorities", V1,
    "{\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":500},"
    "{\"name\":\"lo\",\"priority\":2}]}}",
    "net_cls,net_prio/net_cls.classid 1048577\nnet_cls,net_prio/net_prio.ifpriomap eth0 500\n"
    "net_cls,net_prio/net_prio.ifpriomap lo 2\n" },
  { "v2 network: no such controller", V2, "{\"network\":{\"classID\":1}}", "",
    ".linux.resources.network.classID" },
  { "v1 rdma", V1, "{\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":10000}}}",
    "rdma/rdma.max mlx5_1 hca_handle=3 hca_object=10000\n" },
  { "v2 rdma: handles alone", V2, "{\"rdma\":{\"mlx4_0\":{\"hcaHandles\":2}}}",
    "rdma.max mlx4_0 hca_handle=2\n" },
  { "v2 unified: last, line by line", V2,
    "{\"pids\":{\"limit\":10},\"unified\":{\"memory.high\":\"1000000\",\"memory.oom.group\":\"1\","
    "\"io.max\":\"8:0 rbps=1\\n8:16 wbps=2\"}}",
    "pids.max 10\nmemory.high 1000000\nmemory.oom.group 1\nio.max 8:0 rbps=1\nio.max 8:16 wbps=2\n" },
  { "v2 unified: a key that is no file name", V2, "{\"unified\":{\"../memory.max\":\"1\"}}", "",
    ".linux.resources.unified[\"../memory.max\"]" },
  { "v1 unified refused", V1, "{\"unified\":{\"memory.high\":\"1\"}}", "",
    ".linux.resources.unified[\"memory.high\"]" },
  { "hybrid hugetlb: in the cgroup2 hierarchy, v2 names", HYBRID,
    "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],\"pids\":{\"limit\":5}}",
    "pids/pids.max 5\nhugetlb.2MB.max 4194304\nhugetlb.2MB.rsvd.max 4194304\n" },
  { "hybrid unified: a file of cgroup2", HYBRID, "{\"unified\":{\"hugetlb.1GB.max\":\"0\"}}",
    "hugetlb.1GB.max 0\n" },
  { "hybrid unified: a file cgroup2 lacks", HYBRID, "{\"unified\":{\"memory.high\":\"1\"}}", "",
    ".linux.resources.unified[\"memory.high\"]" },
  /* ---- devices (v1 only: v2 is eBPF, see the header) ---- */
  { "v1 devices: deny all, defaults, the user's rules, mknod", V1,
    "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\","
    "\"major\":10,\"minor\":229,\"access\":\"rw\"},{\"allow\":false,\"type\":\"c\",\"major\":1,"
    "\"minor\":3,\"access\":\"w\"}]}",
    "devices/devices.deny a\n"
    "devices/devices.allow c 10:229 rw\ndevices/devices.deny c 1:3 w\n"
    "devices/devices.allow c 1:3 mrw\ndevices/devices.allow c 1:5 mrw\n"
    "devices/devices.allow c 1:7 mrw\ndevices/devices.allow c 1:8 mrw\n"
    "devices/devices.allow c 1:9 mrw\ndevices/devices.allow c 5:0 mrw\n"
    "devices/devices.allow c 5:1 mrw\ndevices/devices.allow c 5:2 mrw\n"
    "devices/devices.allow c 136:* mrw\ndevices/devices.allow c 10:200 mrw\n"
    "devices/devices.allow c 10:229 rw\ndevices/devices.deny c 1:3 w\n"
    "devices/devices.allow c *:* m\ndevices/devices.allow b *:* m\n" },
  { "v1 devices: an \"a\" rule is both kinds", V1,
    "{\"devices\":[{\"allow\":false,\"type\":\"a\",\"major\":7,\"access\":\"r\"}]}",
    "devices/devices.deny c 7:* r\ndevices/devices.deny b 7:* r\n"
    "devices/devices.allow c 1:3 mrw\ndevices/devices.allow c 1:5 mrw\n"
    "devices/devices.allow c 1:7 mrw\ndevices/devices.allow c 1:8 mrw\n"
    "devices/devices.allow c 1:9 mrw\ndevices/devices.allow c 5:0 mrw\n"
    "devices/devices.allow c 5:1 mrw\ndevices/devices.allow c 5:2 mrw\n"
    "devices/devices.allow c 136:* mrw\ndevices/devices.allow c 10:200 mrw\n"
    "devices/devices.deny c 7:* r\ndevices/devices.deny b 7:* r\n"
    "devices/devices.allow c *:* m\ndevices/devices.allow b *:* m\n" },
  { "v1 devices: a bad access letter", V1, "{\"devices\":[{\"allow\":true,\"access\":\"x\"}]}",
    "", ".linux.resources.devices[0].access" },
};

/* cgops_merge_move: an update's properties replace the stored ones, objects
   merge property by property, lists and maps are replaced whole. */
static void
test_merge (void)
{
  static const struct {
    const char *name, *stored, *update, *merged;
  } t[] = {
    { "memory limit replaced, reservation kept",
      "{\"memory\":{\"limit\":1000,\"reservation\":500},\"pids\":{\"limit\":10}}",
      "{\"memory\":{\"limit\":2000}}",
      "{\"memory\":{\"limit\":2000,\"reservation\":500},\"pids\":{\"limit\":10}}" },
    { "a section the config lacked is added", "{\"pids\":{\"limit\":10}}",
      "{\"cpu\":{\"shares\":512,\"cpus\":\"0\"}}",
      "{\"pids\":{\"limit\":10},\"cpu\":{\"shares\":512,\"cpus\":\"0\"}}" },
    { "lists are replaced whole",
      "{\"blockIO\":{\"weight\":100,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,"
      "\"rate\":1},{\"major\":8,\"minor\":16,\"rate\":2}]}}",
      "{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":32,\"rate\":3}]}}",
      "{\"blockIO\":{\"weight\":100,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":32,"
      "\"rate\":3}]}}" },
    { "maps are replaced whole", "{\"unified\":{\"memory.high\":\"1\",\"pids.max\":\"5\"}}",
      "{\"unified\":{\"memory.high\":\"2\"}}", "{\"unified\":{\"memory.high\":\"2\"}}" },
    { "cpu quota and period merge one by one",
      "{\"cpu\":{\"quota\":50000,\"period\":100000,\"cpus\":\"0-1\"}}",
      "{\"cpu\":{\"quota\":20000}}",
      "{\"cpu\":{\"quota\":20000,\"period\":100000,\"cpus\":\"0-1\"}}" },
    { "an empty update changes nothing", "{\"memory\":{\"limit\":1000}}", "{}",
      "{\"memory\":{\"limit\":1000}}" },
  };

  for (size_t i = 0; i < N (t); i++)
    {
      struct oci_resources *stored = NULL, *update = NULL, *want = NULL;
      struct berth_error err = { 0 };
      bool ok = oci_parse_data (&oci_type_resources, t[i].stored, strlen (t[i].stored), "config",
                                (void **) &stored, &err) == 0
                && oci_parse_data (&oci_type_resources, t[i].update, strlen (t[i].update),
                                   "update", (void **) &update, &err) == 0
                && oci_parse_data (&oci_type_resources, t[i].merged, strlen (t[i].merged),
                                   "merged", (void **) &want, &err) == 0;
      cleanup_free char *got = NULL;
      if (ok)
        {
          cgops_merge_move (&oci_type_resources, stored, update);
          ok = oci_equal (&oci_type_resources, stored, want);
          if (oci_emit (&oci_type_resources, stored, NULL, &got, NULL, &err) < 0)
            got = NULL;
        }
      if (!tap_ok (ok, "update merge: %s", t[i].name))
        tap_diag ("want %s, got %s (%s)", t[i].merged, got ? got : "?", err.msg);
      oci_free (&oci_type_resources, stored);
      oci_free (&oci_type_resources, update);
      oci_free (&oci_type_resources, want);
    }
}

/* cgops_update_view: what update writes, given the stored resources and
   the update's document. */
static void
test_update_view (void)
{
  static const struct {
    const char *name, *stored, *update, *view;
  } t[] = {
    { "only the sections the update names",
      "{\"memory\":{\"limit\":1000,\"reservation\":500},\"pids\":{\"limit\":10}}",
      "{\"memory\":{\"limit\":2000}}", "{\"memory\":{\"limit\":2000,\"reservation\":500}}" },
    { "unlimited memory with no swap given lifts swap too",
      "{\"memory\":{\"limit\":1000,\"swap\":2000}}", "{\"memory\":{\"limit\":-1}}",
      "{\"memory\":{\"limit\":-1,\"swap\":-1}}" },
    { "unlimited memory with a swap given keeps that swap",
      "{\"memory\":{\"limit\":1000,\"swap\":2000}}",
      "{\"memory\":{\"limit\":-1,\"swap\":3000}}", "{\"memory\":{\"limit\":-1,\"swap\":3000}}" },
    { "device rules resent unchanged are not written again",
      "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],\"pids\":{\"limit\":10}}",
      "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],\"pids\":{\"limit\":20}}",
      "{\"pids\":{\"limit\":20}}" },
    { "changed device rules are written",
      "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}",
      "{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}]}",
      "{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}]}" },
    { "an empty update writes nothing", "{\"memory\":{\"limit\":1000}}", "{}", "{}" },
  };

  for (size_t i = 0; i < N (t); i++)
    {
      struct oci_resources *stored = NULL, *update = NULL, *want = NULL, view;
      struct berth_error err = { 0 };
      bool ok = oci_parse_data (&oci_type_resources, t[i].stored, strlen (t[i].stored), "config",
                                (void **) &stored, &err) == 0
                && oci_parse_data (&oci_type_resources, t[i].update, strlen (t[i].update),
                                   "update", (void **) &update, &err) == 0
                && oci_parse_data (&oci_type_resources, t[i].view, strlen (t[i].view), "view",
                                   (void **) &want, &err) == 0;
      cleanup_free char *got = NULL;
      if (ok)
        {
          view = cgops_update_view (stored, update);
          ok = oci_equal (&oci_type_resources, &view, want);
          if (oci_emit (&oci_type_resources, &view, NULL, &got, NULL, &err) < 0)
            got = NULL;
        }
      if (!tap_ok (ok, "update writes: %s", t[i].name))
        tap_diag ("want %s, got %s (%s)", t[i].view, got ? got : "?", err.msg);
      oci_free (&oci_type_resources, stored);
      oci_free (&oci_type_resources, update);
      oci_free (&oci_type_resources, want);
    }
}

int
main (void)
{
  char log[] = "/tmp/berth-res-log-XXXXXX";
  struct berth_error err = { 0 };
  struct timespec a, b;
  int fd = mkstemp (log);

  if (fd < 0 || berth_log_setup (log, BERTH_LOG_TEXT, true, &err) < 0)
    {
      tap_ok (0, "log to %s: %s", log, err.msg);
      return tap_done ();
    }
  close (fd);
  clock_gettime (CLOCK_MONOTONIC, &a);
  for (size_t i = 0; i < N (cases); i++)
    run_case (&cases[i], log);
  clock_gettime (CLOCK_MONOTONIC, &b);
  tap_diag ("%zu fixture cases in %.1f ms", N (cases),
            (double) (b.tv_sec - a.tv_sec) * 1e3 + (double) (b.tv_nsec - a.tv_nsec) / 1e6);
  test_merge ();
  test_update_view ();
  unlink (log);
  return tap_done ();
}
