#!/usr/bin/env python3
"""What a user feels: `podman run --rm IMAGE true` with berth, crun and runc
as Podman's runtime (`--runtime PATH`), in the same shuffled rounds (seeded),
with the median of the per-round ratios to crun (p10-p90) and warm-up rounds
not counted, as bench.py does.

Podman runs in a throwaway setup: containers.conf and storage.conf in a
temporary directory (graph root, run root, tmp dir, volumes, events, locks
all there), nothing of tests/e2e's or of the host's default storage
touched.  The image is imported from a tar of a busybox rootfs (Debian's
busybox-static; nothing pulled).  Every runtime gets the same options:
`--network none` (containers.conf netns = "none": no netavark, so the figure
is Podman + conmon + the runtime, not the network setup), ulimits
nofile=1024:1024 and nproc=4096:4096 (Podman's defaults, 1048576, are above
this host's hard limit), and Podman's default seccomp profile.  The whole
run is inside bench.py's cgroup sandbox (crun 1.8.1 refuses this host's
hybrid layout otherwise); Podman's cgroup parent is then below the sandbox.

Podman gives the runtime no --root: berth, runc and crun keep these
containers' state under /run/berth, /run/runc, /run/crun (which is checked
once per runtime before the rounds, to be sure `--runtime PATH` is obeyed).  What Podman and
the runtimes make there or under /var/lib/containers and /run/containers is
removed at the end when it was not there before.

Usage: bench/podman.py [-n N] [--seed S] [--warmup W] [--berth PATH]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from lib import core

IMAGE = "localhost/berth-bench:busybox"
# What Podman and the runtimes make outside the temporary directory.
GLOBALS = ["/run/berth/@seccomp-cache", "/run/berth", "/run/runc", "/run/crun",
           "/var/lib/containers/cache/blob-info-cache-v1.boltdb",
           "/var/lib/containers/cache", "/var/lib/containers",
           "/run/containers/networks", "/run/containers"]


class Podman:
    """podman with its configuration and storage in tmp."""

    def __init__(self, tmp):
        conf, storage = os.path.join(tmp, "containers.conf"), os.path.join(tmp, "storage.conf")
        with open(conf, "w") as f:
            f.write(f"""[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
log_driver = "k8s-file"
cgroups = "no-conmon"
[network]
network_config_dir = "{tmp}/networks"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{tmp}/events.log"
tmp_dir = "{tmp}/tmp"
volume_path = "{tmp}/volumes"
lock_type = "file"
""")
        with open(storage, "w") as f:
            f.write(f'[storage]\ndriver = "overlay"\ngraphroot = "{tmp}/root"\n'
                    f'runroot = "{tmp}/runroot"\n')
        with open(os.path.join(tmp, "registries.conf"), "w") as f:
            f.write("unqualified-search-registries = []\n")
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_STORAGE_CONF=storage,
                        CONTAINERS_REGISTRIES_CONF=os.path.join(tmp, "registries.conf"),
                        XDG_CONFIG_HOME=os.path.join(tmp, "xdg"))
        self.env.pop("NOTIFY_SOCKET", None)
        self.base = ["podman", "--root", f"{tmp}/root", "--runroot", f"{tmp}/runroot"]

    def __call__(self, *args, check=True):
        return core.call([*self.base, *args], check=check, env=self.env, timeout=300)


def inner(args):
    rts = core.runtimes(args.berth)
    absent = [g for g in GLOBALS if not os.path.exists(g)]
    tmp = tempfile.mkdtemp(prefix="bench-podman-")
    podman = Podman(tmp)
    try:
        bundle = os.path.join(tmp, "bundle")
        core.make_bundle(bundle, args.berth)
        tar = os.path.join(tmp, "rootfs.tar")
        subprocess.run(["tar", "-C", os.path.join(bundle, "rootfs"), "--numeric-owner", "-cf",
                        tar, "."], check=True)
        podman("import", "--quiet", tar, IMAGE)
        for name, argv in rts:
            check_runtime(podman, name, argv[0])
        cases = [(n, a, None) for n, a in rts]

        def step(case, i):
            t0 = time.perf_counter()
            podman("run", "--rm", "--runtime", case[1][0], IMAGE, "/bin/true")
            return (time.perf_counter() - t0) * 1000

        per_round, after = core.rounds(cases, step, args.n, args.warmup, args.seed)
        base = next((c for c in cases if c[0] == "crun"), None)
        print(f"{'runtime':8} {'ms/container':>12} {'vs crun':>8} {'p10-p90':>12}")
        for case in cases:
            med = core.pct([r[case] for r in per_round], 0.5)
            vs = core.fmt_ratio([r[case] / r[base] for r in per_round]) if base else "-"
            print(f"{case[0]:8} {med:12.2f} {vs}")
        print(f"({args.n} rounds after {args.warmup} of warm-up, runtimes in a shuffled order"
              f" per round (seed {args.seed}); each: `podman run --rm --runtime PATH IMAGE"
              f" /bin/true`, --network none, nofile 1024, Podman's seccomp profile;"
              f" 'vs crun' is the median of per-round ratios; {podman_version()};"
              f" commit {core.git_commit()})")
        print()
        core.print_predecessors(cases, after)
    finally:
        podman("rm", "-af", "-t", "0", check=False)
        podman("system", "reset", "--force", check=False)
        shutil.rmtree(tmp, ignore_errors=True)
        for g in absent:  # deepest first
            if g.endswith("/@seccomp-cache"):  # berth's compiled filters
                shutil.rmtree(g, ignore_errors=True)
            elif os.path.isdir(g):
                try:
                    os.rmdir(g)
                except OSError as e:
                    print(f"podman bench: {g} left: {e}", file=sys.stderr)
            elif os.path.exists(g):
                os.unlink(g)


def check_runtime(podman, name, path):
    """That `--runtime PATH` is the runtime Podman runs: a detached container
    has its state in that runtime's default root."""
    cid = core.call([*podman.base, "run", "-d", "--runtime", path, IMAGE, "/bin/sleep", "60"],
                    stdout=True, env=podman.env).strip()
    try:
        if not os.path.isdir(os.path.join("/run", name, cid)):
            sys.exit(f"podman --runtime {path}: no state in /run/{name}: another runtime ran")
    finally:
        podman("rm", "-f", "-t", "0", cid)


def podman_version():
    return subprocess.run(["podman", "--version"], capture_output=True,
                          text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--berth", default=core.DEFAULT_BERTH)
    ap.add_argument("--inner", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("the Podman bench needs root")
    if args.n < 1:
        sys.exit("-n: must be at least 1")
    for tool in ("podman", "conmon"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed")
    if not os.access(args.berth, os.X_OK):
        sys.exit(f"no berth at {args.berth}: build it or give --berth PATH")
    if not args.inner:
        sys.exit(core.sandboxed(__file__, ["--inner", *sys.argv[1:]]))
    inner(args)


if __name__ == "__main__":
    main()
