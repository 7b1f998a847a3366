"""What every bench mode shares: the runtimes and their state roots, the
bundle, running a runtime command, the seeded shuffled rounds with paired
ratios and the table by predecessor, the cgroup sandbox, the commit."""
import ctypes
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
import cgsandbox  # noqa: E402

RUNC, CRUN = "/usr/sbin/runc", "/usr/bin/crun"
DEFAULT_BERTH = os.path.join(REPO, "build", "src", "berth")


def others():
    """(name, path) of runc and crun, those installed."""
    return [(n, p) for n, p in (("runc", RUNC), ("crun", CRUN)) if os.path.exists(p)]


def make_bundle(path, berth, args=("/bin/true",), rootless_user=None, seccomp=None,
                ptrace=False, userns=False):
    """A busybox bundle at path with runc's default spec (`spec --rootless`
    and the user's own IDs mapped to 0 with rootless_user), running args;
    with userns, a user namespace of its own too (run by root: 65536 IDs
    from 100000 mapped to 0, as an engine's --userns does)."""
    rootfs = os.path.join(path, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        os.makedirs(os.path.join(rootfs, d))
    shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for applet in ("true", "sh", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    rootless = ["--rootless"] if rootless_user else []
    spec = RUNC if os.path.exists(RUNC) else berth
    subprocess.run([spec, "spec", *rootless, "-b", path], check=True)
    with open(os.path.join(path, "config.json")) as f:
        c = json.load(f)
    if rootless_user:
        # spec --rootless maps the caller's IDs, root's here: the user's instead.
        for key, host in (("uidMappings", rootless_user.pw_uid),
                          ("gidMappings", rootless_user.pw_gid)):
            c["linux"][key] = [{"containerID": 0, "hostID": host, "size": 1}]
        # The user reads the bundle; it writes nothing there.
        os.chmod(path, 0o755)
    c["ociVersion"] = "1.0.2-dev"  # every runtime under test accepts it
    c["process"]["terminal"] = False
    c["process"]["args"] = list(args)
    if seccomp:
        with open(seccomp) as f:
            c["linux"]["seccomp"] = podman_profile_to_oci(json.load(f))
    if ptrace:
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k].append("CAP_SYS_PTRACE")
    if userns:
        c["linux"]["namespaces"].append({"type": "user"})
        for key in ("uidMappings", "gidMappings"):
            c["linux"][key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        # The mapped root reaches the rootfs as "other".
        os.chmod(path, 0o755)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(c, f)


def podman_profile_to_oci(p):
    """containers/common's seccomp.json is a superset of the OCI section:
    keep the OCI fields, and the rules without conditions on caps/arches."""
    out = {"defaultAction": p["defaultAction"], "syscalls": []}
    if "defaultErrnoRet" in p:
        out["defaultErrnoRet"] = p["defaultErrnoRet"]
    arches = []
    for m in p.get("archMap", []):
        if m["architecture"] == "SCMP_ARCH_X86_64":
            arches = [m["architecture"]] + m.get("subArchitectures", [])
    out["architectures"] = arches
    for s in p.get("syscalls", []):
        inc, exc = s.get("includes", {}), s.get("excludes", {})
        if inc.get("caps") or inc.get("arches") and "amd64" not in inc["arches"]:
            continue
        if exc.get("arches") and "amd64" in exc["arches"]:
            continue
        rule = {"names": s["names"], "action": s["action"]}
        for k in ("args", "errnoRet"):
            if s.get(k) is not None:
                rule[k] = s[k]
        out["syscalls"].append(rule)
    return out


HOST_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")


def device_owners(paths=HOST_DEVICES):
    """{path: (uid, gid)} of the host's device nodes."""
    out = {}
    for p in paths:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        out[p] = (st.st_uid, st.st_gid)
    return out


def put_devices_back(before, who, paths=HOST_DEVICES):
    """crun 1.8.1 chowns the host's /dev/null to the container's root when
    the container has a user namespace of its own (--variants' userns
    bundle: 100000), and the e2e tier then rightly refuses a host whose
    device nodes are not root's.  After each run: any owner that changed is
    put back, and the runtime named on stderr.  Returns the paths put back."""
    changed = []
    for p, (uid, gid) in device_owners(paths).items():
        if p in before and (uid, gid) != before[p]:
            os.chown(p, *before[p])
            changed.append(p)
            print(f"bench: {who} changed the owner of {p} to {uid}:{gid}; put back to"
                  f" {before[p][0]}:{before[p][1]}", file=sys.stderr)
    return changed


def state_root(name, tmpfs=True, owner=None):
    """A state root on /run, where runtimes keep them, with a tmpfs of its
    own (tmpfs=False: on /run as it is).  /run is a tmpfs on the hosts
    runtimes serve (systemd mounts one), but on this machine it is the root
    ext4 (no journal, mounted with discard), where every runtime's state
    writes cost more and, now and then, several ms (bench/README.md, "State
    on a tmpfs").  The tmpfs is mounted in the sandbox's private mount
    namespace only: the host sees an empty directory, which drop_root
    removes.  owner (uid, gid) gets the root, 0700, for --rootless."""
    root = tempfile.mkdtemp(prefix=f"bench-{name}-", dir="/run")
    if tmpfs:
        opts = "mode=700" + (f",uid={owner[0]},gid={owner[1]}" if owner else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "bench-state", root], check=True)
    elif owner:
        os.chown(root, *owner)
    return root


def drop_root(root):
    """Remove a state root of state_root(), unmounting its tmpfs first."""
    if os.path.ismount(root):
        subprocess.run(["umount", root], check=False)
    shutil.rmtree(root, ignore_errors=True)


def call(argv, stdout=False, check=True, **kw):
    """Run one runtime command.  stdin and (unless stdout) stdout are
    /dev/null and stderr a file, never a pipe: a container started by the
    command inherits them and would hold a pipe open.  Returns stdout."""
    with tempfile.TemporaryFile("w+") as err:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stderr=err, text=True,
                           stdout=subprocess.PIPE if stdout else subprocess.DEVNULL, **kw)
        if p.returncode != 0 and check:
            err.seek(0)
            sys.exit(f"{' '.join(argv)} failed ({p.returncode}): {err.read().strip()}")
    return p.stdout if stdout else p.returncode


def timed(argv, **kw):
    """call(argv), in ms of wall time."""
    t0 = time.perf_counter()
    call(argv, **kw)
    return (time.perf_counter() - t0) * 1000


def become_subreaper():
    """Containers started by create or run -d become this process'
    children once their runtime exits, as with an engine (conmon and the
    containerd shim are subreapers): wait_gone can then reap them."""
    PR_SET_CHILD_SUBREAPER = 36
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")


def wait_gone(pid, timeout=10):
    """Until a container's process has exited (reaped, as an engine would,
    when it is our child; else until /proc says it is gone or a zombie)."""
    try:
        os.waitpid(pid, 0)
        return
    except ChildProcessError:
        pass
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.0005)
    sys.exit(f"process {pid} still there {timeout} s after SIGKILL")


def reap_strays():
    """Reap whatever exited among our children (a runtime's intermediate
    process reparented to us); only between commands, never while
    subprocess waits for one."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def container_pid(argv, root, cid):
    return json.loads(call([*argv, "--root", root, "state", cid], stdout=True))["pid"]


def git_commit():
    p = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty", "--abbrev=7"],
                       capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def spread(ratios):
    """The median and the 10th and 90th percentiles of paired ratios."""
    return pct(ratios, 0.5), pct(ratios, 0.1), pct(ratios, 0.9)


def fmt_ratio(ratios):
    med, lo, hi = spread(ratios)
    return f"{med:7.2f}x {lo:5.2f}-{hi:<6.2f}"


def total(x):
    """A step's time: a number, or the sum of a dict of named times."""
    return sum(x.values()) if isinstance(x, dict) else x


def rounds(cases, step, n, warmup, seed, order="shuffled", settle=0):
    """Run step(case, i) for every case once per round, in a fresh random
    order per round (seeded) unless order is "fixed"; step returns ms, or a
    dict of named ms.  Returns the per-round results (a dict per round,
    case -> what step returned) and, per case, its total times keyed by the
    case that ran just before it."""
    rng = random.Random(seed)
    order_ = list(cases)
    prev = None
    per_round, after = [], {}
    for i in range(warmup + n):
        if order == "shuffled":
            rng.shuffle(order_)
        this = {}
        for case in order_:
            if settle:
                time.sleep(settle / 1000)
            got = step(case, i)
            if i >= warmup:
                this[case] = got
                after.setdefault((case, prev), []).append(total(got))
            prev = case
        if i >= warmup:
            per_round.append(this)
    return per_round, after


def label(case):
    name, _, b = case
    return name if b is None else f"{name}/{b}"


def print_predecessors(cases, after, what="ms"):
    """Median and 90th percentile of each case by the case that ran just
    before it: where the order matters, the columns differ.  The tail shows
    it first: a predecessor's deferred teardown lands on some runs only."""
    heads = [label(c) for c in cases]
    width = max(14, max(len(h) for h in heads) + 2)
    rows = []
    for c in cases:
        cells = []
        for p in cases:
            v = after.get((c, p), [])
            cells.append(f"{pct(v, 0.5):.2f}/{pct(v, 0.9):.2f} [{len(v):3}]" if v else "-")
        rows.append(cells)
    col = max([20] + [len(x) + 2 for r in rows for x in r] + [len(h) + 2 for h in heads])
    print(f"{what} by predecessor, median/p90 [n] (row ran right after column):")
    print(f"{'':{width}}" + "".join(f"{h:>{col}}" for h in heads))
    for c, cells in zip(cases, rows):
        print(f"{label(c):{width}}" + "".join(f"{x:>{col}}" for x in cells))


def after_itself(after, case, base):
    """Median of `case` right after `case` over median of `base` right after
    `base`, or None: each as in a stream of its own containers.  That is
    the best case for a runtime that moves its init by pid: the one before
    it took the same lock a few ms earlier and left it warm
    (bench/README.md)."""
    a, b = after.get((case, case)), after.get((base, base))
    return pct(a, 0.5) / pct(b, 0.5) if a and b else None


def same_predecessor(after, case, base, cases):
    """[(predecessor label, median of `case` over median of `base`)] for
    every other case that both ran right after: the ratio with what ran
    just before held the same.  (Each one's cleanup lands partly on its
    successor, so a runtime that leaves less behind, or that takes a lock
    the next would have found warm, shifts the paired ratio.)"""
    out = []
    for p in cases:
        a, b = after.get((case, p)), after.get((base, p))
        if p not in (case, base) and a and b:
            out.append((label(p), pct(a, 0.5) / pct(b, 0.5)))
    return out


def sandboxed(script, argv, run="run"):
    """Run script again (with argv, which should ask for its inner part) in
    a cgroup of its own below this process' one, in a cgroup namespace
    rooted there and a private mount namespace in which the hierarchies are
    mounted again and the cgroup2 mount of the hybrid layout is detached
    (crun 1.8.1 refuses it).  Every runtime then runs in the same
    environment, and none can place a container outside this process'
    cgroup (crun puts one without cgroupsPath at `/<id>` of each
    hierarchy).  Whatever is left in the cgroup is killed and it is
    removed afterwards.  Returns the exit status."""
    cg = cgsandbox.Cgroups(f"berth-bench-{os.getpid()}")
    try:
        dirs = cg.make_run(run)
        script_sh = ("umount /sys/fs/cgroup/unified 2>/dev/null; "
                     f"{cgsandbox.remount_script(cg.hierarchies) or 'true'} && exec \"$@\"")
        p = subprocess.run(["unshare", "-m", "-C", "--propagation", "private", "sh", "-c",
                            script_sh, "sh", sys.executable, os.path.abspath(script), *argv],
                           preexec_fn=cgsandbox.Cgroups.joiner(dirs))
        killed, _ = cg.clean_run(dirs)
        if killed:
            print(f"bench: {len(killed)} processes were left in the sandbox, killed",
                  file=sys.stderr)
        return p.returncode
    finally:
        cg.remove()


class Roots:
    """State roots (state_root) for named runtimes, removed on exit."""

    def __init__(self, tmpfs=True):
        self.roots = {}
        self.tmpfs = tmpfs

    def __getitem__(self, name):
        if name not in self.roots:
            self.roots[name] = state_root(name, self.tmpfs)
        return self.roots[name]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for r in self.roots.values():
            drop_root(r)


def runtimes(berth, also=()):
    """(name, argv) of berth, each NAME=PATH of also (another build of
    berth, say), runc and crun where installed."""
    out = [("berth", (berth,))]
    for spec in also:
        name, _, path = spec.partition("=")
        out.append((name, (os.path.abspath(path),)))
    return out + [(n, (p,)) for n, p in others()]


def paired_table(rows, names, base="crun", first="command"):
    """rows: (label, rounds), each round a dict runtime name -> ms.  One
    line per label: each runtime's median and the median of its per-round
    ratios to base (p10-p90)."""
    base = base if base in names else None
    head = "".join(f" {n + ' ms':>9}" + (f" {'vs ' + base:>8} {'p10-p90':>10}" if base else "")
                   for n in names)
    width = max([len(first)] + [len(label) for label, _ in rows]) + 1
    print(f"{first:{width}}{head}")
    for label, rnds in rows:
        cells = ""
        for n in names:
            if any(n not in r for r in rnds):  # --scale's floor: run -d rows only
                cells += f" {'-':>9}" + (f" {'-':>8} {'-':>10}" if base else "")
                continue
            cells += f" {pct([r[n] for r in rnds], 0.5):9.2f}"
            if base:
                med, lo, hi = spread([r[n] / r[base] for r in rnds])
                cells += f" {med:7.2f}x {f'{lo:.2f}-{hi:.2f}':>10}"
        print(f"{label:{width}}{cells}")
