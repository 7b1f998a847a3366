"""--scale N: does a runtime slow down as containers pile up?  For each
runtime in turn (order shuffled, seeded), in a cgroup sandbox of its own
(cleaned, and the state root removed, before the next): N detached `sleep`
containers started one after another (`run -d`, stdio on /dev/null), each
timed; `list` and `state ID` timed with 1 container there and with N; then
`delete -f` of each, timed.  The runtimes run one after another, not in
rounds, so their ratios are ratios of medians, not paired."""
import json
import os
import random
import shutil
import sys
import tempfile

from . import core

EDGE = 50  # the first and the last this many run -d are compared
LISTS = 10  # list calls at each size
STATES = 3  # state calls per sampled id


def inner(args, argv, name):
    """One runtime's part, inside its sandbox; the times go to args.result."""
    core.become_subreaper()
    tmp = tempfile.mkdtemp(prefix="bench-scale-")
    root = core.state_root(name)
    g = [*argv, "--root", root]
    try:
        bundle = os.path.join(tmp, "sleep")
        core.make_bundle(bundle, args.berth, args=("/bin/sleep", "1000"))
        for k in range(args.warmup):
            core.call([*g, "run", "-d", "-b", bundle, f"w{k}"])
            core.call([*g, "delete", "-f", f"w{k}"])
        core.reap_strays()
        ids = [f"s{k}" for k in range(args.scale)]
        out = {"run -d": [], "delete -f": []}
        for k, cid in enumerate(ids):
            out["run -d"].append(core.timed([*g, "run", "-d", "-b", bundle, cid]))
            if k == 0:
                out["list 1"] = [core.timed([*g, "list"], stdout=True) for _ in range(LISTS)]
                out["state 1"] = [core.timed([*g, "state", cid], stdout=True)
                                  for _ in range(LISTS)]
        listed = json.loads(core.call([*g, "list", "-f", "json"], stdout=True) or "[]")
        pids = {c["id"]: c["pid"] for c in listed}
        if sorted(pids) != sorted(ids):
            sys.exit(f"{name} list shows {len(pids)} containers, not {len(ids)}")
        out[f"list {args.scale}"] = [core.timed([*g, "list"], stdout=True) for _ in range(LISTS)]
        sample = sorted({ids[int(q * (len(ids) - 1))] for q in (0, 0.25, 0.5, 0.75, 1)})
        out[f"state {args.scale}"] = [core.timed([*g, "state", cid], stdout=True)
                                      for cid in sample for _ in range(STATES)]
        for cid in ids:
            out["delete -f"].append(core.timed([*g, "delete", "-f", cid]))
            core.wait_gone(pids[cid])
        core.reap_strays()
        out["left"] = os.listdir(root)
        with open(args.result, "w") as f:
            json.dump(out, f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


def outer(args, rts, script, argv):
    """Each runtime's part in a sandbox of its own, in a shuffled order;
    then the table."""
    order = [n for n, _ in rts]
    random.Random(args.seed).shuffle(order)
    res = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for name in order:
            path = os.path.join(tmp, f"{name}.json")
            rc = core.sandboxed(script, ["--inner", *argv, "--only", name, "--result", path],
                                run=f"scale-{name}")
            if rc != 0:
                return rc
            with open(path) as f:
                res[name] = json.load(f)
    n = args.scale
    edge = min(EDGE, n)
    base = res.get("crun")
    med = {name: {k: core.pct(v, 0.5) for k, v in r.items() if k != "left" and v}
           for name, r in res.items()}
    print(f"{'runtime':8} {f'run -d 1-{edge}':>12} {f'{n - edge + 1}-{n}':>10} {'last/first':>10}"
          f" {'delete -f':>10} {'vs crun':>8}")
    for name, _ in rts:
        r, m = res[name], med[name]
        first, last = core.pct(r["run -d"][:edge], 0.5), core.pct(r["run -d"][-edge:], 0.5)
        vs = f"{m['delete -f'] / med['crun']['delete -f']:7.2f}x" if base else "-"
        print(f"{name:8} {first:12.2f} {last:10.2f} {last / first:9.2f}x"
              f" {m['delete -f']:10.2f} {vs:>8}")
    print()
    print(f"{'runtime':8} {'list, 1':>9} {f'list, {n}':>10} {'vs crun':>8} {'state, 1':>9}"
          f" {f'state, {n}':>10} {'vs crun':>8}")
    for name, _ in rts:
        m = med[name]
        cells = []
        for what in ("list", "state"):
            vs = f"{m[f'{what} {n}'] / med['crun'][f'{what} {n}']:7.2f}x" if base else "-"
            cells.append(f"{m[f'{what} 1']:9.2f} {m[f'{what} {n}']:10.2f} {vs:>8}")
        print(f"{name:8} " + " ".join(cells))
        if res[name]["left"]:
            print(f"  {name} left in its state root: {res[name]['left'][:5]}")
    print(f"(ms, medians; runtimes one after another in the order {', '.join(order)} (seed"
          f" {args.seed}), each in a cgroup sandbox of its own, after {args.warmup} run -d +"
          f" delete -f of warm-up; {n} `sleep` containers started with run -d, stdio on"
          f" /dev/null; list: {LISTS} calls with 1 and with {n} containers; state: {STATES}"
          f" calls on each of 5 ids; delete -f: each container, its process then reaped;"
          f" 'vs crun' are ratios of medians, not paired; commit {core.git_commit()})")
    return 0
