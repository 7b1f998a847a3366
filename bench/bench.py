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
- `--no-state-tmpfs` leaves the runtimes' state roots on /run as it is;
  by default each has a tmpfs of its own, as /run is on the hosts runtimes
  serve (on this machine /run is the root ext4, where state writes were
  slow now and then: bench/README.md, "State on a tmpfs").
- `--settle MS` waits between containers, for a run that wants the
  kernel's deferred work done before the next one starts.
- `--mover` adds a row with no container: a shell that moves itself into a
  cgroup through cgroup.procs, taking the lock a runtime's move by pid
  takes; the table by predecessor then shows what a warm lock does for
  the runtime after it.
- `--floor` adds a row with no runtime: `unshare` of the bundle's
  namespaces (mount, uts, ipc, network, pid, with the fork a pid namespace
  needs), `--root` to the bundle's rootfs, exec of /bin/true; the kernel's
  share of a container, in the same rounds.  With `--scale`, the floor is
  bench/floor.c instead (lib/floor.py): the system calls of a detached
  container of the bundle, its cgroups, mounts and pivot_root included,
  with no runtime around them; its `run -d` rows are the kernel's part of
  a runtime's growth.

The whole benchmark re-executes itself in a cgroup of its own below the
caller's, inside a cgroup namespace rooted there and a private mount
namespace (tests/lib/cgsandbox.py; lib/core.py's `sandboxed`): crun 1.8.1 refuses
this host's hybrid layout and places containers from the root of each
hierarchy, and every runtime then runs in the same environment.  Nothing
on the host is changed.

With --variants, every runtime runs the plain bundle, the same with a user
namespace of its own (65536 IDs from 100000 mapped to 0) and with the
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

After the timed rounds, berth runs --traces more times (default 10) with
`--trace FILE` (not counted in the totals; the timed runs have tracing
off), and the median of each phase is printed beside the totals
(lib/phases.py).

Other modes, each in its own module of lib/ (bench/README.md shows a run
of each):
- --commands: create, start, state, exec, kill, delete and run, each timed
  on its own, in the same shuffled, paired rounds (lib/commands.py).
- --scale N: N detached containers started one after another, then list,
  state and delete -f with N there; each runtime alone and all together in
  rounds (--scale-how; lib/scale.py).
- --parallel P: M containers run P at a time (lib/parallel.py).
The Podman end-to-end figure is bench/podman.py.

Usage: bench/bench.py [-n N] [--order shuffled|fixed] [--seed S] [--warmup W]
                      [--settle MS] [--seccomp FILE] [--variants] [--berth PATH]
                      [--also NAME=PATH] [--rootless USER] [--traces K] [--keep-trace FILE] [--floor]
                      [--mover]
                      [--no-state-tmpfs]
                      [--commands | --scale N [--scale-how H] | --parallel P [-m M]]
"""
import argparse
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

from lib import commands, core, parallel, phases, scale
from lib.core import git_commit, make_bundle, pct, print_predecessors

USER = XDG = None  # --rootless: the user's passwd entry, its $XDG_RUNTIME_DIR
KW = {}  # what subprocess.run needs to run a runtime as that user


def as_user():
    """subprocess arguments that run a child as --rootless's user, or none."""
    if not ARGS.rootless:
        return {}
    return {"user": USER.pw_uid, "group": USER.pw_gid,
            "extra_groups": os.getgrouplist(USER.pw_name, USER.pw_gid),
            "env": {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": USER.pw_dir,
                    "USER": USER.pw_name, "LOGNAME": USER.pw_name, "XDG_RUNTIME_DIR": XDG}}


def state_root(name):
    """A state root on /run, where runtimes keep them (lib/core.py's
    state_root); rootless: below the user's own $XDG_RUNTIME_DIR, made for it."""
    if not ARGS.rootless:
        return core.state_root(name, ARGS.state_tmpfs)
    root = os.path.join(XDG, name)
    os.mkdir(root, 0o700)
    os.chown(root, USER.pw_uid, USER.pw_gid)
    return root


# --floor: the kernel's part with no runtime: the namespaces of runc's spec,
# a fork (the pid namespace's first process), the root changed, the exec.
FLOOR = ("unshare", "--mount", "--uts", "--ipc", "--net", "--pid", "--fork")


# --mover: no container; a shell that moves itself into a cgroup through
# cgroup.procs, which takes the lock a runtime's move by pid takes (see
# "The warm lock" in bench/README.md).  Its last item is the directory.
MOVER = None


def mover_dir():
    """A cgroup directory below this (sandboxed) process' own one in its v1
    pids or memory hierarchy (no setting needed before a process may enter),
    or on v2; removed by the caller."""
    with open("/proc/self/cgroup") as f:
        lines = [l.rstrip("\n").split(":", 2) for l in f]
    v2 = next((p for _, c, p in lines if c == ""), None)
    for ctrl in ("pids", "memory"):
        for _, ctrls, path in lines:
            if ctrl in ctrls.split(",") and os.path.isdir(f"/sys/fs/cgroup/{ctrl}"):
                return f"/sys/fs/cgroup/{ctrl}{path.rstrip('/')}/bench-mover-{os.getpid()}"
    # v2: beside this process' cgroup, whose processes forbid children.
    return f"/sys/fs/cgroup{os.path.dirname(v2.rstrip('/'))}/bench-mover-{os.getpid()}"


def run_once(argv, root, bundle, cid, timed=False):
    prefix = ["/usr/bin/time", "-f", "%M"] if timed else []
    cmd = (list(argv) if MOVER and argv is MOVER else
           [*argv, "--root", root, "run", "-b", bundle, cid] if argv != FLOOR else
           [*FLOOR, f"--root={bundle}/rootfs", "/bin/true"])
    p = subprocess.run([*prefix, *cmd],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, **KW)
    if p.returncode != 0:
        sys.exit(f"{argv[0]} failed: {p.stderr.strip()}")
    return int(p.stderr.strip().splitlines()[-1]) if timed else 0


def run_step(roots, bundle_of):
    """A step of core.rounds for the default and --variants modes: one run,
    and (untimed) the host's device nodes checked after it."""
    devices = core.device_owners()

    def step(case, i):
        name, argv, b = case
        t0 = time.perf_counter()
        run_once(argv, roots[name], bundle_of(b), f"{b}{i}")
        took = (time.perf_counter() - t0) * 1000
        core.put_devices_back(devices, f"{name} ({b or 'run'})")
        return took
    return step


def variants():
    """Each runtime on the plain bundle, with a user namespace and with the
    --seccomp profile, and berth with CAP_SYS_PTRACE, in shuffled rounds;
    per-round ratios to the same runtime's plain bundle."""
    tmp = tempfile.mkdtemp(prefix="bench-variants-")
    try:
        bundles = {"plain": {}, "ptrace": {"ptrace": True}, "userns": {"userns": True}}
        os.chmod(tmp, 0o755)  # the userns bundle's mapped root goes through it
        if ARGS.seccomp:
            bundles["seccomp"] = {"seccomp": ARGS.seccomp}
        for name, kw in bundles.items():
            make_bundle(os.path.join(tmp, name), ARGS.berth, **kw)
        cases = [("berth", (ARGS.berth,), b) for b in bundles]
        for name, argv in core.runtimes(ARGS.berth, ARGS.also)[1:]:
            # The sealed copy (ptrace) is berth's, and --also's other builds'.
            cases += [(name, argv, b) for b in bundles
                      if b != "ptrace" or name not in ("runc", "crun")]
        with core.Roots(ARGS.state_tmpfs) as roots:
            per_round, _ = core.rounds(cases, run_step(roots, lambda b: os.path.join(tmp, b)),
                                       ARGS.n, ARGS.warmup, ARGS.seed, ARGS.order, ARGS.settle)
        print(f"{'runtime':8} {'bundle':8} {'ms/container':>12} {'vs plain':>8} {'p10-p90':>12}")
        for case in cases:
            name, argv, b = case
            plain = (name, argv, "plain")
            ratios = [r[case] / r[plain] for r in per_round]
            med = pct([r[case] for r in per_round], 0.5)
            print(f"{name:8} {b:8} {med:12.2f} {pct(ratios, 0.5):7.2f}x "
                  f"{pct(ratios, 0.1):5.2f}-{pct(ratios, 0.9):.2f}")
        # And across runtimes: berth's (and --also's) per-round ratio to crun
        # on the same bundle.
        crun = {b: c for c in cases for b in bundles if c[0] == "crun" and c[2] == b}
        for case in cases:
            if case[0] not in ("runc", "crun") and case[2] in crun:
                ratios = [r[case] / r[crun[case[2]]] for r in per_round]
                med, lo, hi = core.spread(ratios)
                print(f"{case[0]} vs crun, {case[2]} bundle: {med:.2f}x ({lo:.2f}-{hi:.2f})")
        print(f"({ARGS.n} rounds after {ARGS.warmup} of warm-up, order {ARGS.order}"
              f" (seed {ARGS.seed}), settle {ARGS.settle} ms; ratios are per-round, paired;"
              f" commit {git_commit()}"
              f"{'; seccomp profile: ' + ARGS.seccomp if ARGS.seccomp else ''})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def inner():
    tmp = tempfile.mkdtemp(prefix="bench-bundle-")
    roots = {}
    try:
        make_bundle(tmp, ARGS.berth, rootless_user=USER, seccomp=ARGS.seccomp)
        # With --also, another build of berth (an older commit, say) in the same rounds.
        cases = [(name, argv, None) for name, argv in core.runtimes(ARGS.berth, ARGS.also)]
        if ARGS.floor:
            cases.append(("floor", FLOOR, None))
        if ARGS.mover:
            global MOVER
            MOVER = ("sh", "-c", 'echo 0 > "$0/cgroup.procs"', mover_dir())
            os.mkdir(MOVER[-1])
            cases.append(("mover", MOVER, None))
        roots = {name: state_root(name) for name, _, _ in cases}
        per_round, after = core.rounds(cases, run_step(roots, lambda b: tmp), ARGS.n,
                                       ARGS.warmup, ARGS.seed, ARGS.order, ARGS.settle)
        # Peak RSS of the runtime process (GNU time's %M, KiB) in 10 runs:
        # median and largest, to two decimals (it moves by 100-200 KB from
        # run to run, with where the loader places the libraries, and the
        # issue's target is 2.0 MiB).
        rss = {name: sorted(run_once(argv, roots[name], tmp, f"r{k}", timed=True)
                            for k in range(10))
               if os.path.exists("/usr/bin/time") and not (MOVER and argv is MOVER) else [0]
               for name, argv, _ in cases}
        # The paired ratio to crun, else runc; rootless, to runc as well (the
        # issue's question: rootless berth against rootless runc).
        bases = [c for c in cases if c[0] == "crun"] + [c for c in cases if c[0] == "runc"]
        bases = bases[:2 if ARGS.rootless else 1]
        head = "".join(f" {'vs ' + b[0]:>8} {'p10-p90':>12}" for b in bases) or f" {'vs -':>8} {'-':>12}"
        print(f"{'runtime':8} {'ms/container':>12}{head} {'peak RSS, median/max':>21}")
        for case in cases:
            name = case[0]
            med = pct([r[case] for r in per_round], 0.5)
            ratio = ""
            for base in bases:
                ratio += " " + core.fmt_ratio([r[case] / r[base] for r in per_round])
            print(f"{name:8} {med:12.2f}{ratio or f' {chr(45):>8} {chr(45):>12}'} "
                  f"{pct(rss[name], 0.5) / 1024:10.2f}/{rss[name][-1] / 1024:.2f} MiB")
        vs = " and ".join(f"'vs {b[0]}'" for b in bases) or "'vs -'"
        print(f"({ARGS.n} rounds after {ARGS.warmup} of warm-up, order {ARGS.order}"
              f" (seed {ARGS.seed}), settle {ARGS.settle} ms; {vs}"
              f" {'are medians' if len(bases) > 1 else 'is the median'} of"
              f" per-round ratios; commit {git_commit()}"
              f"{'; rootless, as ' + USER.pw_name if ARGS.rootless else ''}"
              f"{'; seccomp profile: ' + ARGS.seccomp if ARGS.seccomp else ''})")
        print()
        print_predecessors(cases, after)
        for base in bases[:1]:
            same = [(f"after {p}", r) for p, r in core.same_predecessor(after, cases[0], base,
                                                                          cases)]
            itself = core.after_itself(after, cases[0], base)
            if itself is not None:
                same.append(("each after itself", itself))
            if same:
                print(f"{cases[0][0]} vs {base[0]} with the same predecessor (ratio of medians): "
                      + ", ".join(f"{p} {r:.2f}x" for p, r in same))
        if ARGS.traces:
            print()
            tdir = os.path.join(tmp, "traces")
            os.mkdir(tdir)
            if USER:
                os.chown(tdir, USER.pw_uid, USER.pw_gid)
            step = run_step(roots, lambda b: tmp)

            def one(path, j):
                argv = (ARGS.berth, "--trace", path) if path else (ARGS.berth,)
                return {"run": step(("berth", argv, None), f"t{j}" if path else f"u{j}")}
            summary = phases.collect(ARGS.traces, one, tdir, ARGS.seed)
            if ARGS.keep_trace:
                # The median run, not the fastest: what bench/trace_plot.py
                # draws should be a typical one.
                runs = sorted((phases.load(os.path.join(tdir, f))[0]["wall"], f)
                              for f in os.listdir(tdir) if f.endswith(".json"))
                shutil.copyfile(os.path.join(tdir, runs[len(runs) // 2][1]), ARGS.keep_trace)
            print(f"berth's phases: {ARGS.traces} more runs with --trace FILE, after the timed"
                  " rounds and not counted in them (the timed runs had tracing off), each"
                  " paired with one untraced; medians per phase (docs/trace.md):")
            phases.print_summary(summary)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for r in roots.values():
            core.drop_root(r)
        if MOVER and os.path.isdir(MOVER[-1]):
            os.rmdir(MOVER[-1])


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100, help="rounds (default mode, --commands)")
    ap.add_argument("--berth", default=core.DEFAULT_BERTH)
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
    ap.add_argument("--state-tmpfs", action=argparse.BooleanOptionalAction, default=True,
                    help="state roots on a tmpfs of their own (default), or on /run as it is")
    ap.add_argument("--floor", action="store_true",
                    help="also `unshare` of the same namespaces + root + exec, no runtime")
    ap.add_argument("--mover", action="store_true",
                    help="also a shell that moves itself into a cgroup by cgroup.procs, no runtime")
    ap.add_argument("--keep-trace", metavar="FILE",
                    help="copy the median of the traced runs there (for bench/trace_plot.py)")
    ap.add_argument("--traces", type=int, default=10, metavar="K",
                    help="traced berth runs after the timed ones, for the phases (0: none)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--commands", action="store_true",
                      help="create, start, state, exec, kill, delete, run: each timed")
    mode.add_argument("--scale", type=int, nargs="?", const=500, metavar="N",
                      help="N detached containers, then list, state, delete -f (default 500)")
    mode.add_argument("--parallel", type=int, nargs="?", const=8, metavar="P",
                      help="-m containers run P at a time (default 8)")
    ap.add_argument("--scale-how", choices=("alone", "together", "both"), default="both",
                    help="--scale: each runtime alone, all in rounds, or both (default)")
    ap.add_argument("--scale-only", help=argparse.SUPPRESS)  # alone: this runtime
    ap.add_argument("--scale-result", help=argparse.SUPPRESS)
    ap.add_argument("-m", type=int, default=400, help="--parallel: containers per round")
    ap.add_argument("--rounds", type=int, help="--parallel: rounds (default 5)")
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
        if ARGS.variants or ARGS.commands or ARGS.scale or ARGS.parallel:
            sys.exit("--rootless measures the default mode only (no --variants, --commands,"
                     " --scale, --parallel)")
    if ARGS.variants and (ARGS.commands or ARGS.scale or ARGS.parallel):
        sys.exit("--variants is a mode of its own")
    if ARGS.floor and (ARGS.rootless or ARGS.variants or ARGS.commands or ARGS.parallel):
        sys.exit("--floor goes with the default mode and --scale only")
    if ARGS.mover and (ARGS.rootless or ARGS.variants or ARGS.commands or ARGS.scale
                       or ARGS.parallel):
        sys.exit("--mover goes with the default mode only")
    for flag in ("n", "m", "scale", "parallel", "rounds"):
        if getattr(ARGS, flag) is not None and getattr(ARGS, flag) < 1:
            sys.exit(f"--{flag if len(flag) > 1 else flag}: must be at least 1")
    if not os.access(ARGS.berth, os.X_OK):
        sys.exit(f"no berth at {ARGS.berth}: build it (meson setup build && meson compile -C"
                 " build) or give --berth PATH")
    rts = core.runtimes(ARGS.berth, ARGS.also)
    if not ARGS.inner:
        if ARGS.scale:
            sys.exit(scale_outer(rts))
        sys.exit(core.sandboxed(__file__, ["--inner", *sys.argv[1:]]))
    if ARGS.rootless:
        # The user's $XDG_RUNTIME_DIR, as pam_systemd would make it: on /run
        # (a tmpfs of its own, as logind mounts one), its own, 0700.
        XDG = core.state_root("xdg", ARGS.state_tmpfs, owner=(USER.pw_uid, USER.pw_gid))
        try:
            KW = as_user()
            who = subprocess.run(["id", "-u"], capture_output=True, text=True, **KW).stdout
            assert who.strip() == str(USER.pw_uid), who
            inner()
        finally:
            core.drop_root(XDG)
    elif ARGS.commands:
        commands.main(ARGS, rts)
    elif ARGS.scale:
        scale.inner(ARGS, [r for r in rts if ARGS.scale_only in (None, r[0])],
                    with_floor=ARGS.floor and ARGS.scale_only in (None, "floor"))
    elif ARGS.parallel:
        parallel.main(ARGS, rts)
    else:
        variants() if ARGS.variants else inner()


def scale_outer(rts):
    """--scale: alone (a sandbox per runtime), then together (one sandbox)."""
    if ARGS.scale_how in ("alone", "both"):
        rc = scale.alone(ARGS, rts, __file__, sys.argv[1:])
        if rc or ARGS.scale_how == "alone":
            return rc
        print()
    return core.sandboxed(__file__, ["--inner", *sys.argv[1:], "--scale-how", "together"])


if __name__ == "__main__":
    main()
