#!/usr/bin/env python3
"""Time N sequential `run`s of /bin/true in a busybox bundle, for berth and,
when installed, runc and crun, side by side in one run (absolute times on a
shared machine are noise; the ratios are the result).

What it controls for (bench/README.md has the measurements behind each):
- Order.  A container's network namespace is torn down by a kernel
  workqueue after its runtime has exited, so whichever runtime runs next pays
  for it.  By default every round runs the runtimes in a fresh random order
  (seeded, so a run can be repeated), so each runtime follows each other one
  equally often; `--order fixed` keeps the old berth, runc, crun order, to
  show the effect.  The table of medians by predecessor shows what the
  order did in this very run.
- Pairing.  Each round's times are compared with the same round's crun
  time: the ratio printed is the median of those per-round ratios, with its
  10th and 90th percentiles, so a slow minute of the machine hits both
  sides of a ratio.
- Warm-up.  `--warmup` rounds (default 5) run first and are not counted:
  page cache, berth's seccomp cache and the dynamic loader's work.
- `--settle MS` waits between containers, for a run that wants the
  kernel's deferred work done before the next one starts.

The whole benchmark re-executes itself in a cgroup of its own below the
caller's, inside a cgroup namespace rooted there and a private mount
namespace (tests/lib/cgsandbox.py; `sandboxed` below): crun 1.8.1 refuses
this host's hybrid layout and places containers from the root of each
hierarchy, and every runtime then runs in the same environment.  Nothing
on the host is changed.

With --variants, every runtime runs the plain bundle and the same with the
--seccomp profile, and berth also one with CAP_SYS_PTRACE (which makes it
re-execute from a sealed copy of itself, src/security/sealed_exe.h), all in the same
shuffled rounds; the ratio to the same runtime's plain bundle in the same
round is the cost of each.

With --rootless USER, every runtime runs as that existing user (made with
bench/rootless-user.sh), on the bundle `spec --rootless` gives (user, pid,
ipc, uts and mount namespaces, the user's own uid and gid mapped to 0, no
network namespace, no cgroup resources), with state roots and
$XDG_RUNTIME_DIR in a directory of /run the user owns.  The identity is
switched in the forked child (setgroups to the user's groups, setgid,
setuid: what `setpriv --reuid --regid --init-groups` does) rather than
through setpriv, whose own exec would be timed too.

Usage: bench/bench.py [-n N] [--order shuffled|fixed] [--seed S] [--warmup W]
                      [--settle MS] [--seccomp FILE] [--variants] [--berth PATH]
                      [--also NAME=PATH] [--rootless USER]
"""
import argparse
import json
import os
import pwd
import random
import shutil
import subprocess
import sys
import tempfile
import time

USER = XDG = None  # --rootless: the user's passwd entry, its $XDG_RUNTIME_DIR
KW = {}  # what subprocess.run needs to run a runtime as that user
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
import cgsandbox  # noqa: E402


def make_bundle(path, seccomp=None, ptrace=False):
    rootfs = os.path.join(path, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        os.makedirs(os.path.join(rootfs, d))
    shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    os.symlink("busybox", os.path.join(rootfs, "bin", "true"))
    os.symlink("busybox", os.path.join(rootfs, "bin", "sh"))
    rootless = ["--rootless"] if ARGS.rootless else []
    subprocess.run(["/usr/sbin/runc", "spec", *rootless, "-b", path], check=True) if os.path.exists(
        "/usr/sbin/runc") else subprocess.run([ARGS.berth, "spec", *rootless, "-b", path],
                                              check=True)
    with open(os.path.join(path, "config.json")) as f:
        c = json.load(f)
    if ARGS.rootless:
        # spec --rootless maps the caller's IDs, root's here: the user's instead.
        for key, host in (("uidMappings", USER.pw_uid), ("gidMappings", USER.pw_gid)):
            c["linux"][key] = [{"containerID": 0, "hostID": host, "size": 1}]
        # The user reads the bundle; it writes nothing there.
        os.chmod(path, 0o755)
    c["ociVersion"] = "1.0.2-dev"  # every runtime under test accepts it
    c["process"]["terminal"] = False
    c["process"]["args"] = ["/bin/true"]
    if seccomp:
        with open(seccomp) as f:
            c["linux"]["seccomp"] = podman_profile_to_oci(json.load(f))
    if ptrace:
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k].append("CAP_SYS_PTRACE")
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


def as_user():
    """subprocess arguments that run a child as --rootless's user, or none."""
    if not ARGS.rootless:
        return {}
    return {"user": USER.pw_uid, "group": USER.pw_gid,
            "extra_groups": os.getgrouplist(USER.pw_name, USER.pw_gid),
            "env": {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": USER.pw_dir,
                    "USER": USER.pw_name, "LOGNAME": USER.pw_name, "XDG_RUNTIME_DIR": XDG}}


def state_root(name):
    """A state root on /run (tmpfs), where runtimes keep them in production;
    rootless: below the user's own $XDG_RUNTIME_DIR, made for it."""
    if not ARGS.rootless:
        return tempfile.mkdtemp(prefix=f"bench-{name}-", dir="/run")
    root = os.path.join(XDG, name)
    os.mkdir(root, 0o700)
    os.chown(root, USER.pw_uid, USER.pw_gid)
    return root


def run_once(argv, root, bundle, cid, timed=False):
    prefix = ["/usr/bin/time", "-f", "%M"] if timed else []
    p = subprocess.run([*prefix, *argv, "--root", root, "run", "-b", bundle, cid],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, **KW)
    if p.returncode != 0:
        sys.exit(f"{argv[0]} failed: {p.stderr.strip()}")
    return int(p.stderr.strip().splitlines()[-1]) if timed else 0


def git_commit():
    p = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty", "--abbrev=7"],
                       capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def rounds(cases, roots, bundle_of, n, warmup):
    """Run every case once per round, in a fresh random order per round
    unless --order fixed; return per-round times (ms) and, per case, the
    times keyed by the case that ran just before it."""
    rng = random.Random(ARGS.seed)
    order = list(cases)
    prev = None
    per_round, after = [], {}
    for i in range(warmup + n):
        if ARGS.order == "shuffled":
            rng.shuffle(order)
        this = {}
        for case in order:
            name, argv, b = case
            if ARGS.settle:
                time.sleep(ARGS.settle / 1000)
            t0 = time.perf_counter()
            run_once(argv, roots[name], bundle_of(b), f"{b}{i}")
            ms = (time.perf_counter() - t0) * 1000
            if i >= warmup:
                this[case] = ms
                after.setdefault((case, prev), []).append(ms)
            prev = case
        if i >= warmup:
            per_round.append(this)
    return per_round, after


def label(case):
    name, _, b = case
    return name if b is None else f"{name}/{b}"


def print_predecessors(cases, after):
    """Median and 90th percentile of each case by the case that ran just
    before it: where the order matters, the columns differ.  The tail shows
    it first: a predecessor's deferred teardown lands on some runs only."""
    heads = [label(c) for c in cases]
    print("ms by predecessor, median/p90 [n] (row ran right after column):")
    print(f"{'':14}" + "".join(f"{h:>20}" for h in heads))
    for c in cases:
        cells = []
        for p in cases:
            v = after.get((c, p), [])
            cells.append(f"{pct(v, 0.5):.2f}/{pct(v, 0.9):.2f} [{len(v):3}]" if v else "-")
        print(f"{label(c):14}" + "".join(f"{x:>20}" for x in cells))


def variants():
    """Each runtime on the plain bundle and with the --seccomp profile, and
    berth with CAP_SYS_PTRACE, in shuffled rounds; per-round ratios to the
    same runtime's plain bundle."""
    tmp = tempfile.mkdtemp(prefix="bench-variants-")
    roots = {}
    try:
        bundles = {"plain": {}, "ptrace": {"ptrace": True}}
        if ARGS.seccomp:
            bundles["seccomp"] = {"seccomp": ARGS.seccomp}
        for name, kw in bundles.items():
            make_bundle(os.path.join(tmp, name), **kw)
        cases = [("berth", (ARGS.berth,), b) for b in bundles]
        for name, path in (("runc", "/usr/sbin/runc"), ("crun", "/usr/bin/crun")):
            if os.path.exists(path):
                cases += [(name, (path,), b) for b in bundles if b != "ptrace"]
        for name, _, _ in cases:
            if name not in roots:
                roots[name] = tempfile.mkdtemp(prefix=f"bench-{name}-", dir="/run")
        per_round, after = rounds(cases, roots, lambda b: os.path.join(tmp, b), ARGS.n,
                                  ARGS.warmup)
        print(f"{'runtime':8} {'bundle':8} {'ms/container':>12} {'vs plain':>8} {'p10-p90':>12}")
        for case in cases:
            name, argv, b = case
            plain = (name, argv, "plain")
            ratios = [r[case] / r[plain] for r in per_round]
            med = pct([r[case] for r in per_round], 0.5)
            print(f"{name:8} {b:8} {med:12.2f} {pct(ratios, 0.5):7.2f}x "
                  f"{pct(ratios, 0.1):5.2f}-{pct(ratios, 0.9):.2f}")
        print(f"({ARGS.n} rounds after {ARGS.warmup} of warm-up, order {ARGS.order}"
              f" (seed {ARGS.seed}), settle {ARGS.settle} ms; ratios are per-round, paired;"
              f" commit {git_commit()}"
              f"{'; seccomp profile: ' + ARGS.seccomp if ARGS.seccomp else ''})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for r in roots.values():
            shutil.rmtree(r, ignore_errors=True)


def inner():
    tmp = tempfile.mkdtemp(prefix="bench-bundle-")
    roots = {}
    try:
        make_bundle(tmp, ARGS.seccomp)
        cases = [("berth", (ARGS.berth,), None)]
        # Another build of berth (an older commit, say) in the same rounds.
        for spec in ARGS.also:
            name, _, path = spec.partition("=")
            cases.append((name, (os.path.abspath(path),), None))
        for name, path in (("runc", "/usr/sbin/runc"), ("crun", "/usr/bin/crun")):
            if os.path.exists(path):
                cases.append((name, (path,), None))
        # State roots on /run (tmpfs), where runtimes keep them in production.
        roots = {name: state_root(name) for name, _, _ in cases}
        per_round, after = rounds(cases, roots, lambda b: tmp, ARGS.n, ARGS.warmup)
        # Peak RSS of the runtime process (GNU time's %M, KiB), max of 5 runs.
        rss = {name: max(run_once(argv, roots[name], tmp, f"r{k}", timed=True)
                         for k in range(5)) if os.path.exists("/usr/bin/time") else 0
               for name, argv, _ in cases}
        # The paired ratio to crun, else runc; rootless, to runc as well (the
        # issue's question: rootless berth against rootless runc).
        bases = [c for c in cases if c[0] == "crun"] + [c for c in cases if c[0] == "runc"]
        bases = bases[:2 if ARGS.rootless else 1]
        head = "".join(f" {'vs ' + b[0]:>8} {'p10-p90':>12}" for b in bases) or f" {'vs -':>8} {'-':>12}"
        print(f"{'runtime':8} {'ms/container':>12}{head} {'peak RSS':>10}")
        for case in cases:
            name = case[0]
            med = pct([r[case] for r in per_round], 0.5)
            ratio = ""
            for base in bases:
                ratios = [r[case] / r[base] for r in per_round]
                ratio += (f" {pct(ratios, 0.5):7.2f}x "
                          f"{pct(ratios, 0.1):5.2f}-{pct(ratios, 0.9):<6.2f}")
            print(f"{name:8} {med:12.2f}{ratio or f' {chr(45):>8} {chr(45):>12}'} "
                  f"{rss[name] / 1024:7.1f} MiB")
        vs = " and ".join(f"'vs {b[0]}'" for b in bases) or "'vs -'"
        print(f"({ARGS.n} rounds after {ARGS.warmup} of warm-up, order {ARGS.order}"
              f" (seed {ARGS.seed}), settle {ARGS.settle} ms; {vs}"
              f" {'are medians' if len(bases) > 1 else 'is the median'} of"
              f" per-round ratios; commit {git_commit()}"
              f"{'; rootless, as ' + USER.pw_name if ARGS.rootless else ''}"
              f"{'; seccomp profile: ' + ARGS.seccomp if ARGS.seccomp else ''})")
        print()
        print_predecessors(cases, after)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for r in roots.values():
            shutil.rmtree(r, ignore_errors=True)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--berth", default=os.path.join(REPO, "build", "src", "berth"))
    ap.add_argument("--seccomp")
    ap.add_argument("--variants", action="store_true")
    ap.add_argument("--order", choices=("shuffled", "fixed"), default="shuffled")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--settle", type=float, default=0, help="ms to wait between containers")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=PATH",
                    help="another runtime binary (e.g. berth at an older commit) in the same rounds")
    ap.add_argument("--rootless", metavar="USER",
                    help="run every runtime as this existing user (bench/rootless-user.sh makes one)")
    ap.add_argument("--inner", action="store_true")
    ARGS = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench needs root (it runs containers)")
    if ARGS.rootless:
        global USER, XDG, KW
        try:
            USER = pwd.getpwnam(ARGS.rootless)
        except KeyError:
            sys.exit(f"no user {ARGS.rootless}: make one with bench/rootless-user.sh add NAME")
        if USER.pw_uid == 0:
            sys.exit("--rootless needs a user other than root")
        if ARGS.variants:
            sys.exit("--rootless measures the plain bundle only (no --variants)")
    if not ARGS.inner:
        sys.exit(sandboxed())
    if ARGS.rootless:
        # The user's $XDG_RUNTIME_DIR, as pam_systemd would make it: on /run, its own, 0700.
        XDG = tempfile.mkdtemp(prefix="bench-xdg-", dir="/run")
        os.chown(XDG, USER.pw_uid, USER.pw_gid)
        try:
            KW = as_user()
            who = subprocess.run(["id", "-u"], capture_output=True, text=True, **KW).stdout
            assert who.strip() == str(USER.pw_uid), who
            inner()
        finally:
            shutil.rmtree(XDG, ignore_errors=True)
        return
    variants() if ARGS.variants else inner()


def sandboxed():
    """Run this script again (--inner) in a cgroup of its own below this
    process' one, in a cgroup namespace rooted there and a private mount
    namespace in which the hierarchies are mounted again and the cgroup2
    mount of the hybrid layout is detached (crun 1.8.1 refuses it).  Every
    runtime then runs in the same environment, and none can place a
    container outside this process' cgroup (crun puts one without
    cgroupsPath at `/<id>` of each hierarchy).  Removed afterwards."""
    cg = cgsandbox.Cgroups(f"berth-bench-{os.getpid()}")
    try:
        dirs = cg.make_run("run")
        script = ("umount /sys/fs/cgroup/unified 2>/dev/null; "
                  f"{cgsandbox.remount_script(cg.hierarchies) or 'true'} && exec \"$@\"")
        p = subprocess.run(["unshare", "-m", "-C", "--propagation", "private", "sh", "-c",
                            script, "sh", sys.executable, os.path.abspath(__file__), "--inner",
                            *sys.argv[1:]], preexec_fn=cgsandbox.Cgroups.joiner(dirs))
        cg.clean_run(dirs)
        return p.returncode
    finally:
        cg.remove()


if __name__ == "__main__":
    main()
