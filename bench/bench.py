#!/usr/bin/env python3
"""Time N sequential `run`s of /bin/true in a busybox bundle, for berth and,
when installed, runc and crun, side by side in one run (absolute times on a
shared machine are noise; the ratios are the result).

crun 1.8.1 refuses this host's hybrid cgroup layout, so the whole benchmark
re-executes itself inside a private mount namespace with the cgroup2 mount at
/sys/fs/cgroup/unified detached: every runtime then runs in the same
environment.  Nothing on the host is changed.

With --variants, every runtime runs the plain bundle and the same with the
--seccomp profile, and berth also one with CAP_SYS_PTRACE (which makes it
re-execute from a sealed copy of itself, src/sealed_exe.h), all interleaved;
the ratio to the same runtime's plain bundle is the cost of each.

Usage: bench/bench.py [-n N] [--seccomp FILE] [--variants] [--berth PATH]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_bundle(path, seccomp=None, ptrace=False):
    rootfs = os.path.join(path, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        os.makedirs(os.path.join(rootfs, d))
    shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    os.symlink("busybox", os.path.join(rootfs, "bin", "true"))
    os.symlink("busybox", os.path.join(rootfs, "bin", "sh"))
    subprocess.run(["/usr/sbin/runc", "spec", "-b", path], check=True) if os.path.exists(
        "/usr/sbin/runc") else subprocess.run([ARGS.berth, "spec", "-b", path], check=True)
    with open(os.path.join(path, "config.json")) as f:
        c = json.load(f)
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


def run_once(argv, root, bundle, cid, timed=False):
    prefix = ["/usr/bin/time", "-f", "%M"] if timed else []
    p = subprocess.run([*prefix, *argv, "--root", root, "run", "-b", bundle, cid],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{argv[0]} failed: {p.stderr.strip()}")
    return int(p.stderr.strip().splitlines()[-1]) if timed else 0


def variants():
    """Each runtime on the plain bundle and with the --seccomp profile, and
    berth with CAP_SYS_PTRACE, interleaved; ratios to the same runtime's
    plain bundle."""
    tmp = tempfile.mkdtemp(prefix="bench-variants-")
    roots = []
    try:
        bundles = {"plain": {}, "ptrace": {"ptrace": True}}
        if ARGS.seccomp:
            bundles["seccomp"] = {"seccomp": ARGS.seccomp}
        for name, kw in bundles.items():
            make_bundle(os.path.join(tmp, name), **kw)
        cases = [("berth", [ARGS.berth], b) for b in bundles]
        for name, path in (("runc", "/usr/sbin/runc"), ("crun", "/usr/bin/crun")):
            if os.path.exists(path):
                cases += [(name, [path], b) for b in bundles if b != "ptrace"]
        root = {}
        for name, _, _ in cases:
            if name not in root:
                root[name] = tempfile.mkdtemp(prefix=f"bench-{name}-", dir="/run")
                roots.append(root[name])
        times = {(name, b): [] for name, _, b in cases}
        for i in range(ARGS.n):
            for name, argv, b in cases:
                t0 = time.perf_counter()
                run_once(argv, root[name], os.path.join(tmp, b), f"{b}{i}")
                times[(name, b)].append((time.perf_counter() - t0) * 1000)
        med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
        print(f"{'runtime':8} {'bundle':8} {'ms/container':>12} {'vs plain':>8}")
        for (name, b), m in med.items():
            print(f"{name:8} {b:8} {m:12.2f} {m / med[(name, 'plain')]:7.2f}x")
        print(f"({ARGS.n} sequential runs of /bin/true per runtime and bundle, interleaved;"
              f" median{'; seccomp profile: ' + ARGS.seccomp if ARGS.seccomp else ''})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for r in roots:
            shutil.rmtree(r, ignore_errors=True)


def inner():
    tmp = tempfile.mkdtemp(prefix="bench-bundle-")
    roots = {}
    try:
        make_bundle(tmp, ARGS.seccomp)
        runtimes = [("berth", [ARGS.berth])]
        for name, path in (("runc", "/usr/sbin/runc"), ("crun", "/usr/bin/crun")):
            if os.path.exists(path):
                runtimes.append((name, [path]))
        # State roots on /run (tmpfs), where runtimes keep them in production.
        roots = {name: tempfile.mkdtemp(prefix=f"bench-{name}-", dir="/run")
                 for name, _ in runtimes}
        times = {name: [] for name, _ in runtimes}
        # Interleaved, one container at a time per runtime, so machine noise
        # hits every runtime alike.
        for i in range(ARGS.n):
            for name, argv in runtimes:
                t0 = time.perf_counter()
                run_once(argv, roots[name], tmp, f"b{i}")
                times[name].append((time.perf_counter() - t0) * 1000)
        # Peak RSS of the runtime process (GNU time's %M, KiB), max of 5 runs.
        rss = {name: max(run_once(argv, roots[name], tmp, f"r{k}", timed=True)
                         for k in range(5)) if os.path.exists("/usr/bin/time") else 0
               for name, argv in runtimes}
        med = {name: sorted(v)[len(v) // 2] for name, v in times.items()}
        base = med.get("crun")
        print(f"{'runtime':8} {'ms/container':>12} {'vs crun':>8} {'peak RSS':>10}")
        for name in med:
            ratio = f"{med[name] / base:.2f}x" if base else "-"
            print(f"{name:8} {med[name]:12.2f} {ratio:>8} {rss[name] / 1024:7.1f} MiB")
        print(f"({ARGS.n} sequential runs of /bin/true per runtime, interleaved; median"
              f"{'; seccomp profile: ' + ARGS.seccomp if ARGS.seccomp else ''})")
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
    ap.add_argument("--inner", action="store_true")
    ARGS = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench needs root (it runs containers)")
    if not ARGS.inner:
        script = ("umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\"")
        os.execvp("unshare", ["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                              "sh", sys.executable, os.path.abspath(__file__), "--inner",
                              *sys.argv[1:]])
    variants() if ARGS.variants else inner()


if __name__ == "__main__":
    main()
