#!/usr/bin/env python3
"""Where does `run -d` get slower as containers pile up?  `bench.py --scale`
says by how much; this says where: berth alone starts N detached `sleep`
containers (in a cgroup sandbox of its own, as --scale does) and, besides
the N timed `run -d`, K more at the start (after 3 that warm perf up) and
K more at the end that are traced (BERTH_TRACE) and sampled by `perf
record -g` (CPU time, kernel and user).  It prints:

- the timed runs' last/first (the median of the last 50 over the first 50);
- berth's phases whose median grew, first K against last K (docs/trace.md);
- per `run -d`, the CPU time of each system call and of each kernel
  function (where the sample was taken, with the two callers above it),
  first K against last K, largest growth first.

The traced and sampled runs are not the timed ones: perf and the trace
slow a run down.  Needs perf (Debian: linux-perf) and root.
Example: python3 bench/scale_profile.py -n 500 -k 30"""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import core, phases  # noqa: E402

EDGE = 50
HEADER = re.compile(r"^\S.*?\s(\d+)\s+(\S+?):\s*$")


def parse_perf_script(text):
    """`perf script` output (default fields, with call chains) -> a list of
    (weight, frames): the sample's period (ns for cpu-clock) and the symbol
    names of its chain, innermost first ("[unknown]" for an unresolved
    one)."""
    samples = []
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        m = HEADER.match(lines[0])
        if not m:
            continue
        frames = []
        for ln in lines[1:]:
            parts = ln.split(None, 1)
            sym = parts[1].split(" (", 1)[0] if len(parts) > 1 else "[unknown]"
            frames.append(re.sub(r"\+0x[0-9a-f]+$", "", sym))
        samples.append((int(m.group(1)), frames))
    return samples


def syscall_of(frames):
    """The system call a chain is inside (the frame do_syscall_64 called,
    its prefix taken off), "(page fault)", or "(user space)"."""
    if "do_syscall_64" in frames:
        i = frames.index("do_syscall_64")
        name = frames[i - 1] if i > 0 else "?"
        for prefix in ("__x64_sys_", "__do_sys_", "__se_sys_", "ksys_", "do_sys_"):
            if name.startswith(prefix):
                return name[len(prefix):]
        return name
    if "exc_page_fault" in frames or "asm_exc_page_fault" in frames:
        return "(page fault)"
    return "(user space)"


def where(frames, depth=3):
    """The innermost frames of a chain, "leaf < caller < caller"."""
    return " < ".join(frames[:depth]) if frames else "[unknown]"


def per_run(samples, runs, key):
    """ms of CPU time per run, by key(frames)."""
    out = collections.Counter()
    for weight, frames in samples:
        out[key(frames)] += weight / 1e6 / runs
    return out


def growth_table(first, last, top, title):
    keys = sorted(set(first) | set(last), key=lambda k: last[k] - first[k], reverse=True)
    print(f"{title:60} {'first':>7} {'last':>7} {'grown':>7}")
    for k in keys[:top]:
        print(f"{k[:60]:60} {first[k]:7.3f} {last[k]:7.3f} {last[k] - first[k]:+7.3f}")
    rest = keys[top:]
    print(f"{'(the rest)':60} {sum(first[k] for k in rest):7.3f} {sum(last[k] for k in rest):7.3f}"
          f" {sum(last[k] - first[k] for k in rest):+7.3f}")


def inner(args):
    core.become_subreaper()
    tmp = tempfile.mkdtemp(prefix="scale-profile-")
    root = core.state_root("berth")
    g = [args.berth, "--root", root]
    bundle = os.path.join(tmp, "sleep")
    core.make_bundle(bundle, args.berth, args=("/bin/sleep", "1000"))
    ids, timed = [], []

    def run_d(cid, sampled=None):
        ids.append(cid)
        if sampled is None:
            timed.append(core.timed([*g, "run", "-d", "-b", bundle, cid]))
            return
        env = dict(os.environ, BERTH_TRACE=os.path.join(tmp, f"{sampled}.json"))
        subprocess.run(["perf", "record", "-q", "-g", "-F", str(args.freq), "-o",
                        os.path.join(tmp, f"{sampled}.data"), "--",
                        *g, "run", "-d", "-b", bundle, cid], env=env, check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    try:
        for i in range(5):
            core.call([*g, "run", "-d", "-b", bundle, f"w{i}"])
            core.call([*g, "delete", "-f", f"w{i}"])
        core.reap_strays()
        for i in range(3):  # perf's own first runs are slower: not counted
            run_d(f"pre{i}", f"pre-{i}")
        for i in range(args.k):
            run_d(f"first{i}", f"first-{i}")
        for i in range(args.n):
            run_d(f"s{i}")
        for i in range(args.k):
            run_d(f"last{i}", f"last-{i}")
        out = {"timed": timed}
        for end in ("first", "last"):
            text = "".join(subprocess.run(["perf", "script", "-i",
                                           os.path.join(tmp, f"{end}-{i}.data")],
                                          capture_output=True, text=True).stdout + "\n\n"
                           for i in range(args.k))
            out[end] = {"samples": parse_perf_script(text),
                        "traces": [phases.load(os.path.join(tmp, f"{end}-{i}.json"))
                                   for i in range(args.k)]}
        with open(args.result, "w") as f:
            json.dump(out, f)
    finally:
        for cid in ids:
            core.call([*g, "delete", "-f", cid], check=False)
        core.reap_strays()
        shutil.rmtree(tmp, ignore_errors=True)
        core.drop_root(root)


def phase_growth(first, last, min_ms=0.02):
    """(lane, phase, first ms, last ms) of the phases of `berth run` whose
    median duration grew or shrank by min_ms or more."""
    a, b = phases.summarise(first)["berth run"], phases.summarise(last)["berth run"]
    before = {(r[0], r[1], r[2]): r[4] for r in a["rows"] if r[4] is not None}
    rows = [("", "berth run (span)", a["wall"], b["wall"])]
    for r in b["rows"]:
        key = (r[0], r[1], r[2])
        if r[4] is not None and key in before and abs(r[4] - before[key]) >= min_ms:
            rows.append((r[0], "  " * r[1] + r[2], before[key], r[4]))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--berth", default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "build", "src", "berth"))
    ap.add_argument("-n", type=int, default=500, help="timed containers (default 500)")
    ap.add_argument("-k", type=int, default=30, help="sampled runs at each end (default 30)")
    ap.add_argument("--freq", type=int, default=10000, help="perf samples per second")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.berth = os.path.abspath(args.berth)
    if args.inner:
        return inner(args)
    if os.geteuid() != 0 or shutil.which("perf") is None:
        sys.exit("scale_profile.py: needs root and perf (Debian: linux-perf)")
    with tempfile.TemporaryDirectory(prefix="scale-profile-") as tmp:
        result = os.path.join(tmp, "result.json")
        rc = core.sandboxed(__file__, ["--inner", "--berth", args.berth, "-n", str(args.n),
                                       "-k", str(args.k), "--freq", str(args.freq),
                                       "--result", result], run="scale-profile")
        if rc != 0:
            return rc
        with open(result) as f:
            got = json.load(f)
    t = got["timed"]
    edge = min(EDGE, len(t))
    print(f"{args.n} containers: run -d median {core.pct(t[:edge], 0.5):.2f} ms (first {edge}),"
          f" {core.pct(t[-edge:], 0.5):.2f} ms (last {edge}),"
          f" {core.pct(t[-edge:], 0.5) / core.pct(t[:edge], 0.5):.2f}x")
    print(f"\nberth's phases, median of {args.k} traced runs before the first container and"
          f" after the last (ms; those that moved by 0.02 ms or more):")
    for lane, name, a, b in phase_growth(got["first"]["traces"], got["last"]["traces"]):
        print(f"  {('[' + lane + '] ') if lane else ''}{name:44} {a:6.2f} {b:6.2f} {b - a:+6.2f}")
    first, last = got["first"]["samples"], got["last"]["samples"]
    print(f"\nCPU time per run -d (ms; perf record -g at {args.freq} Hz, {args.k} runs at each"
          " end, berth and its init together):")
    growth_table(per_run(first, args.k, syscall_of), per_run(last, args.k, syscall_of),
                 args.top, "system call")
    print()
    growth_table(per_run(first, args.k, where), per_run(last, args.k, where), args.top,
                 "where (innermost frame < its callers)")
    print(f"(berth {args.berth}, commit {core.git_commit()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
