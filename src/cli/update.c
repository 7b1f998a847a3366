#include "lifecycle/cgroup_ops.h"
#include "cleanup.h"
#include "cli.h"
#include "base/utils.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
  "Usage: berth update [command options] <container-id>\n\n"
  "Update the resource limits of a created, running or paused container.\n\n"
  "Options:\n"
  "   --resources FILE, -r FILE  a LinuxResources JSON document to apply ('-': stdin);\n"
  "                              cannot be combined with the flags below\n"
  "   --blkio-weight N           per cgroup block I/O weight, 10 to 1000\n"
  "   --cpu-period N             CPU CFS period (usecs); 0 to keep the current one\n"
  "   --cpu-quota N              CPU CFS quota (usecs) per period; -1 for none\n"
  "   --cpu-burst N              CPU CFS burst (usecs) on top of the quota\n"
  "   --cpu-rt-period N          CPU realtime period (usecs)\n"
  "   --cpu-rt-runtime N         CPU realtime runtime (usecs) per period\n"
  "   --cpu-share N              CPU shares (relative weight)\n"
  "   --cpu-idle 0|1             1: the cgroup is SCHED_IDLE\n"
  "   --cpuset-cpus LIST         CPUs to use (0-3,5)\n"
  "   --cpuset-mems LIST         memory nodes to use\n"
  "   --memory BYTES             memory limit (512m, 1g ...); -1 for none\n"
  "   --memory-reservation BYTES memory soft limit\n"
  "   --memory-swap BYTES        memory + swap limit; -1 for unlimited swap\n"
  "   --kernel-memory BYTES      (obsolete) kernel memory limit\n"
  "   --kernel-memory-tcp BYTES  (obsolete) kernel TCP buffer limit\n"
  "   --pids-limit N             maximum number of processes; 0 or -1 for none\n"
  "   --l3-cache-schema S, --mem-bw-schema S  Intel RDT: not supported\n";

enum {
  O_MEMORY = 256, O_SWAP, O_RESERVATION, O_KMEM, O_KMEM_TCP, O_SHARES, O_QUOTA, O_PERIOD,
  O_BURST, O_IDLE, O_RT_PERIOD, O_RT_RUNTIME, O_CPUS, O_MEMS, O_PIDS, O_BLKIO, O_L3, O_MBW,
};

static const struct option opts[] = {
  { "resources", required_argument, NULL, 'r' },
  { "memory", required_argument, NULL, O_MEMORY },
  { "memory-swap", required_argument, NULL, O_SWAP },
  { "memory-reservation", required_argument, NULL, O_RESERVATION },
  { "kernel-memory", required_argument, NULL, O_KMEM },
  { "kernel-memory-tcp", required_argument, NULL, O_KMEM_TCP },
  { "cpu-share", required_argument, NULL, O_SHARES },
  { "cpu-quota", required_argument, NULL, O_QUOTA },
  { "cpu-period", required_argument, NULL, O_PERIOD },
  { "cpu-burst", required_argument, NULL, O_BURST },
  { "cpu-idle", required_argument, NULL, O_IDLE },
  { "cpu-rt-period", required_argument, NULL, O_RT_PERIOD },
  { "cpu-rt-runtime", required_argument, NULL, O_RT_RUNTIME },
  { "cpuset-cpus", required_argument, NULL, O_CPUS },
  { "cpuset-mems", required_argument, NULL, O_MEMS },
  { "pids-limit", required_argument, NULL, O_PIDS },
  { "blkio-weight", required_argument, NULL, O_BLKIO },
  { "l3-cache-schema", required_argument, NULL, O_L3 },
  { "mem-bw-schema", required_argument, NULL, O_MBW },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

static int
bad (const char *flag, const char *v, struct berth_error *err)
{
  return berth_err (err, BERTH_E_USAGE, "invalid value \"%s\" for flag --%s", v, flag);
}

/* runc's units.RAMInBytes: "1024", "512k", "1.5g", "2GiB", "3 MB" (binary
   multiples); "-1" is "no limit". */
static int
parse_bytes (const char *flag, const char *v, int64_t *out, struct berth_error *err)
{
  static const char units[] = "kmgtp";
  const char *p = v, *u;
  char *end;
  double d, mult = 1;

  if (strcmp (v, "-1") == 0)
    return *out = -1, 0;
  if (*p < '0' || *p > '9')
    return bad (flag, v, err);
  errno = 0;
  d = strtod (p, &end);
  p = end + (*end == ' ');
  if (*p && (u = strchr (units, *p | 0x20)))
    for (p++, mult = 1024; u > units; u--)
      mult *= 1024;
  p += *p && (*p | 0x20) == 'i' && mult > 1;
  p += *p && (*p | 0x20) == 'b';
  if (errno || *p || end == v || d * mult >= 9.2e18 || strpbrk (v, "eExX"))
    return bad (flag, v, err);
  *out = (int64_t) (d * mult);
  return 0;
}

static int
parse_i64 (const char *flag, const char *v, int64_t *out, struct berth_error *err)
{
  char *end;

  errno = 0;
  *out = strtoll (v, &end, 10);
  return errno || end == v || *end ? bad (flag, v, err) : 0;
}

static int
parse_u64 (const char *flag, const char *v, uint64_t *out, struct berth_error *err)
{
  unsigned long long x;
  char name[40];

  snprintf (name, sizeof name, "--%s", flag);
  if (cli_parse_uint (name, v, ULLONG_MAX, &x, err) < 0)
    return -1;
  *out = x;
  return 0;
}

/* The sub-object of the delta a flag sets, made on first use. */
#define SUB(r, m) ((r)->m ? (r)->m : ((r)->has_##m = true, (r)->m = calloc (1, sizeof *(r)->m)))

static int
memory_flag (struct oci_resources *r, int o, const char *flag, const char *v,
             struct berth_error *err)
{
  struct oci_memory *m = SUB (r, memory);
  int64_t x = 0;

  if (m == NULL || parse_bytes (flag, v, &x, err) < 0)
    return m ? -1 : berth_err_sys (err, ENOMEM, "out of memory");
  if (o == O_MEMORY)
    OCI_SET (m, limit, x);
  else if (o == O_SWAP)
    OCI_SET (m, swap, x);
  else if (o == O_RESERVATION)
    OCI_SET (m, reservation, x);
  else if (o == O_KMEM)
    OCI_SET (m, kernel, x);
  else
    OCI_SET (m, kernel_tcp, x);
  return 0;
}

static int
cpu_flag (struct oci_resources *r, int o, const char *flag, const char *v, struct berth_error *err)
{
  struct oci_cpu *c = SUB (r, cpu);
  uint64_t u = 0;
  int64_t i = 0;
  bool sign = o == O_QUOTA || o == O_RT_RUNTIME || o == O_IDLE;

  if (c == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  if (o == O_CPUS || o == O_MEMS)
    {
      char *s = strdup (v);
      if (s == NULL)
        return berth_err_sys (err, ENOMEM, "out of memory");
      free (o == O_CPUS ? c->cpus : c->mems);
      if (o == O_CPUS)
        OCI_SET (c, cpus, s);
      else
        OCI_SET (c, mems, s);
      return 0;
    }
  if (sign ? parse_i64 (flag, v, &i, err) < 0 : parse_u64 (flag, v, &u, err) < 0)
    return -1;
  switch (o)
    {
    case O_SHARES: OCI_SET (c, shares, u); break;
    case O_QUOTA: OCI_SET (c, quota, i); break;
    case O_PERIOD: OCI_SET (c, period, u); break;
    case O_BURST: OCI_SET (c, burst, u); break;
    case O_IDLE: OCI_SET (c, idle, i); break;
    case O_RT_PERIOD: OCI_SET (c, realtime_period, u); break;
    default: OCI_SET (c, realtime_runtime, i); break;
    }
  return 0;
}

static int
other_flag (struct oci_resources *r, int o, const char *flag, const char *v,
            struct berth_error *err)
{
  uint64_t u;
  int64_t i;

  if (o == O_L3 || o == O_MBW)
    return berth_err (err, BERTH_E_UNSUPPORTED,
                      "--%s: Intel RDT (linux.intelRdt) is not supported by berth", flag);
  if (o == O_PIDS)
    {
      struct oci_pids *p = SUB (r, pids);
      if (p == NULL || parse_i64 (flag, v, &i, err) < 0)
        return p ? -1 : berth_err_sys (err, ENOMEM, "out of memory");
      OCI_SET (p, limit, i);
      return 0;
    }
  struct oci_block_io *b = SUB (r, block_io);
  if (b == NULL || parse_u64 (flag, v, &u, err) < 0)
    return b ? -1 : berth_err_sys (err, ENOMEM, "out of memory");
  if (u > 1000)
    return bad (flag, v, err);
  OCI_SET (b, weight, (uint16_t) u);
  return 0;
}

static int
set_flag (struct oci_resources *r, int o, const char *v, struct berth_error *err)
{
  const char *flag = "";

  if (*v == '\0') /* runc: an empty value leaves the setting alone */
    return 0;
  for (const struct option *p = opts; p->name; p++)
    if (p->val == o)
      flag = p->name;
  if (o >= O_MEMORY && o <= O_KMEM_TCP)
    return memory_flag (r, o, flag, v, err);
  if (o >= O_SHARES && o <= O_MEMS)
    return cpu_flag (r, o, flag, v, err);
  return other_flag (r, o, flag, v, err);
}

static int
read_resources (const char *file, struct oci_resources **out, struct berth_error *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0, cap = 0;
  ssize_t n = 1;

  if (strcmp (file, "-") != 0)
    return oci_parse_file (&oci_type_resources, file, file, (void **) out, err);
  /* containerd pipes the document in: read to EOF. */
  for (; n > 0; len += (size_t) n)
    {
      if (cap - len < 4096)
        {
          char *nd = realloc (data, cap += 65536);
          if (nd == NULL || cap > OCI_MAX_DOCUMENT_SIZE)
            return nd ? (data = nd, berth_err (err, BERTH_E_LIMIT, "stdin: too large"))
                      : berth_err_sys (err, ENOMEM, "out of memory");
          data = nd;
        }
      while ((n = read (STDIN_FILENO, data + len, cap - len)) < 0 && errno == EINTR)
        ;
      if (n < 0)
        return berth_err_sys (err, errno, "read the resources from stdin");
    }
  return oci_parse_data (&oci_type_resources, data, len, "stdin", (void **) out, err);
}

int
berth_cmd_update (const struct berth_globals *g, int argc, char **argv, struct berth_error *err)
{
  struct berth_runtime rt = cli_runtime (g);
  struct oci_resources *r = calloc (1, sizeof *r);
  const char *file = NULL;
  bool flags = false;
  int c, ret = -1;

  if (r == NULL)
    return berth_err_sys (err, ENOMEM, "out of memory");
  while ((c = cli_getopt ("update", argc, argv, "r:", opts, err)) != -1 && c != 'h' && c != '?')
    {
      if (c == 'r')
        file = optarg;
      else if ((flags = true) && set_flag (r, c, optarg, err) < 0)
        goto out;
    }
  if (c == 'h')
    ret = fputs (usage, stdout) < 0 ? -1 : 0;
  else if (c == '?' || cli_want_args ("update", argc - optind, 1, 1, err) < 0)
    ;
  else if (file && flags)
    berth_err (err, BERTH_E_USAGE, "update: --resources cannot be combined with other flags");
  else if (file && (oci_free (&oci_type_resources, r), r = NULL,
                     read_resources (file, &r, err) < 0))
    ;
  else
    ret = container_update (&rt, argv[optind], r, err);
out:
  oci_free (&oci_type_resources, r);
  return ret;
}
