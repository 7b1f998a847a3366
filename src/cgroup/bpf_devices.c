/* The v2 device filter: device rules compiled to eBPF by hand (no libbpf),
   loaded as BPF_PROG_TYPE_CGROUP_DEVICE and attached to the cgroup. */
#include "cgroup/bpf_devices.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define INSN(c, d, s, o, i)                                                                  \
  ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, s, o) INSN (BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define MOV32_REG(d, s) INSN (BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define AND32_IMM(d, i) INSN (BPF_ALU | BPF_AND | BPF_K, d, 0, 0, i)
#define RSH32_IMM(d, i) INSN (BPF_ALU | BPF_RSH | BPF_K, d, 0, 0, i)
#define MOV64_IMM(d, i) INSN (BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i) INSN (BPF_JMP | BPF_JNE | BPF_K, d, 0, 0, i) /* off patched */
#define JEQ_IMM(d, i) INSN (BPF_JMP | BPF_JEQ | BPF_K, d, 0, 0, i)
#define EXIT() INSN (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

bool
dev_rule_is_reset (const struct dev_rule *r)
{
  return r->type == 'a' && r->major < 0 && r->minor < 0 && r->access == DEV_ACC_ALL;
}

/* Registers after the prologue: R3 device type, R4 requested access, R5
   major, R6 minor; R7 is scratch. */
enum { R0, R1, R2, R3, R4, R5, R6, R7 };

struct prog {
  struct bpf_insn *v;
  size_t n, cap;
};

static int
emit (struct prog *p, struct bpf_insn insn)
{
  if (p->n == p->cap)
    {
      struct bpf_insn *nv = realloc (p->v, (p->cap = p->cap ? 2 * p->cap : 64) * sizeof *nv);
      if (nv == NULL)
        return -1;
      p->v = nv;
    }
  p->v[p->n++] = insn;
  return 0;
}

/* One rule: every test jumps past the block when it fails; the block ends
   with "return allow". */
static int
emit_rule (struct prog *p, const struct dev_rule *r)
{
  struct bpf_insn b[12];
  size_t k = 0, start = p->n;
  unsigned mask = r->allow ? (~r->access & DEV_ACC_ALL) : r->access;

  if (r->type != 'a')
    b[k++] = JNE_IMM (R3, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  if (r->major >= 0)
    b[k++] = JNE_IMM (R5, (int32_t) r->major);
  if (r->minor >= 0)
    b[k++] = JNE_IMM (R6, (int32_t) r->minor);
  /* allow: skip when something asked is not granted; deny: skip when
     nothing asked is denied.  A full deny matches every request. */
  if (mask && (r->allow || r->access != DEV_ACC_ALL))
    {
      b[k++] = MOV32_REG (R7, R4);
      b[k++] = AND32_IMM (R7, (int32_t) mask);
      b[k++] = r->allow ? JNE_IMM (R7, 0) : JEQ_IMM (R7, 0);
    }
  b[k++] = MOV64_IMM (R0, r->allow ? 1 : 0);
  b[k++] = EXIT ();
  for (size_t i = 0; i < k; i++)
    {
      if (BPF_CLASS (b[i].code) == BPF_JMP && BPF_OP (b[i].code) != BPF_EXIT)
        b[i].off = (int16_t) (k - i - 1);
      if (emit (p, b[i]) < 0)
        return -1;
    }
  return (int) (p->n - start);
}

int
bpf_devices_build (const struct dev_rule *rules, size_t n, void **insns, size_t *n_insns,
                   struct berth_error *err)
{
  struct prog p = { 0 };
  size_t first = 0;
  bool fallback = true; /* nothing matched: allow, as a fresh v1 cgroup */
  bool ok;

  for (size_t i = 0; i < n; i++)
    {
      if (rules[i].major > INT32_MAX || rules[i].minor > INT32_MAX)
        return berth_err (err, BERTH_E_RANGE, "device number %" PRId64 ":%" PRId64 " too large",
                          rules[i].major, rules[i].minor);
      if (dev_rule_is_reset (&rules[i]))
        first = i + 1, fallback = rules[i].allow;
    }
  ok = emit (&p, LDX_W (R2, R1, offsetof (struct bpf_cgroup_dev_ctx, access_type))) == 0
       && emit (&p, MOV32_REG (R3, R2)) == 0 && emit (&p, AND32_IMM (R3, 0xffff)) == 0
       && emit (&p, MOV32_REG (R4, R2)) == 0 && emit (&p, RSH32_IMM (R4, 16)) == 0
       && emit (&p, LDX_W (R5, R1, offsetof (struct bpf_cgroup_dev_ctx, major))) == 0
       && emit (&p, LDX_W (R6, R1, offsetof (struct bpf_cgroup_dev_ctx, minor))) == 0;
  /* The last matching rule decides: test them from the end. */
  for (size_t i = n; ok && i > first; i--)
    ok = emit_rule (&p, &rules[i - 1]) >= 0;
  ok = ok && emit (&p, MOV64_IMM (R0, fallback ? 1 : 0)) == 0 && emit (&p, EXIT ()) == 0;
  if (!ok)
    {
      free (p.v);
      return berth_err_sys (err, ENOMEM, "out of memory");
    }
  *insns = p.v;
  *n_insns = p.n;
  return 0;
}

static long
bpf (int cmd, union bpf_attr *attr)
{
  return syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

static int
load (const struct bpf_insn *insns, size_t n, struct berth_error *err)
{
  static char log[8192];
  union bpf_attr a;
  int fd;

  memset (&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t) (uintptr_t) insns;
  a.insn_cnt = (uint32_t) n;
  a.license = (uint64_t) (uintptr_t) "Apache";
  if ((fd = (int) bpf (BPF_PROG_LOAD, &a)) >= 0)
    return fd;
  /* Load again with the verifier's log, to say why. */
  a.log_buf = (uint64_t) (uintptr_t) log;
  a.log_size = sizeof log;
  a.log_level = 1;
  log[0] = '\0';
  if ((fd = (int) bpf (BPF_PROG_LOAD, &a)) >= 0)
    return fd;
  return berth_err_sys (err, errno, "load the eBPF device filter%s%.300s", log[0] ? ": " : "",
                        log);
}

/* Programs attached to the cgroup directly (not inherited), by id. */
static int
query (int cg, uint32_t *ids, uint32_t *n, struct berth_error *err)
{
  union bpf_attr a;

  memset (&a, 0, sizeof a);
  a.query.target_fd = (uint32_t) cg;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uint64_t) (uintptr_t) ids;
  a.query.prog_cnt = *n;
  if (bpf (BPF_PROG_QUERY, &a) < 0)
    return berth_err_sys (err, errno, "query the cgroup's device filters");
  *n = a.query.prog_cnt;
  return 0;
}

static int
detach (int cg, uint32_t id, struct berth_error *err)
{
  cleanup_close int fd = -1;
  union bpf_attr a;

  memset (&a, 0, sizeof a);
  a.prog_id = id;
  if ((fd = (int) bpf (BPF_PROG_GET_FD_BY_ID, &a)) < 0)
    return errno == ENOENT ? 0 : berth_err_sys (err, errno, "open device filter %u", id);
  memset (&a, 0, sizeof a);
  a.target_fd = (uint32_t) cg;
  a.attach_bpf_fd = (uint32_t) fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  if (bpf (BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
    return berth_err_sys (err, errno, "detach the previous device filter %u", id);
  return 0;
}

int
bpf_devices_apply (const char *cgroup_dir, const struct dev_rule *rules, size_t n,
                   struct berth_error *err)
{
  cleanup_free void *insns = NULL;
  cleanup_close int cg = open (cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int prog = -1;
  uint32_t old[64], n_old = 64;
  size_t n_insns;
  union bpf_attr a;

  if (cg < 0)
    return berth_err_sys (err, errno, "open %s", cgroup_dir);
  if (bpf_devices_build (rules, n, &insns, &n_insns, err) < 0 || query (cg, old, &n_old, err) < 0)
    return -1;
  if ((prog = load (insns, n_insns, err)) < 0)
    return -1;
  memset (&a, 0, sizeof a);
  a.target_fd = (uint32_t) cg;
  a.attach_bpf_fd = (uint32_t) prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf (BPF_PROG_ATTACH, &a) < 0)
    return berth_err_sys (err, errno, "attach the eBPF device filter to %s", cgroup_dir);
  /* The new filter is in: the old ones can go. */
  for (uint32_t i = 0; i < n_old && i < 64; i++)
    if (detach (cg, old[i], err) < 0)
      return -1;
  return 0;
}
