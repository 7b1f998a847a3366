"""--scale N: does a runtime slow down as containers pile up?  Each runtime
starts N detached `sleep` containers (`run -d`, stdio on /dev/null) one
after another, each timed; `list` and `state ID` are timed with 1 container
and with N; then each container is deleted (`delete -f`, timed, its process
reaped: the bench is the containers' subreaper, as engines are).  Two ways,
both by default (--scale-how):

- alone: one runtime at a time, in a seeded random order, each in a cgroup
  sandbox of its own (the script runs itself once per runtime; whatever is
  left is killed and the sandbox removed before the next).  The last 50
  `run -d` against the first 50 is the runtime's own growth.  Ratios
  between runtimes are ratios of medians, not paired: the load of a shared
  machine moves between their turns.
- together: all runtimes in one sandbox, in rounds: round k starts each
  runtime's k-th container, the runtimes in a fresh seeded order, and so on
  for list, state and delete.  Every ratio is paired; the host holds 3N
  containers by the end, so last/first includes the others' containers.

With --floor, bench/floor.c (lib/floor.py) starts N containers as well,
alone in a sandbox of its own and together in the same rounds: the same
kernel work with no runtime, so its last/first is the kernel's growth,
which no runtime can go below.  It has run -d rows only."""
import json
import os
import random
import shutil
import sys
import tempfile

from . import core
from .floor import Floor

EDGE = 50  # the first and the last this many run -d are compared
LISTS = 10  # rounds of list, at each size
STATES = 3  # rounds of state per sampled id


def measure(args, rts, roots, bundle, floor=None):
    """The whole sequence for the runtimes rts (one, or all in rounds);
    returns (label, per-round dicts name -> ms) rows, the run -d table by
    predecessor, and what each runtime left in its state root.  A container
    is named after its runtime: each places one without cgroupsPath by its
    id, and the runtimes' containers coexist.  floor (lib/floor.py), if
    given, starts its containers in the same rounds as the runtimes' run -d
    and has no list, state or delete rows; its containers are removed last."""
    n = args.scale
    g = {name: [*argv, "--root", roots[name]] for name, argv in rts}
    cases = [(name, argv, None) for name, argv in rts]
    starters = cases + ([("floor", None, None)] if floor else [])
    seeds = iter(range(args.seed, args.seed + 100))

    def phase(step, rounds, warmup=0, who=cases):
        per_round, after = core.rounds(who, lambda c, i: step(c[0], i), rounds, warmup,
                                       next(seeds))
        return [{c[0]: ms for c, ms in r.items()} for r in per_round], after

    def warm(name, i):
        if name == "floor":
            floor.run_d(f"floor-w{i}")
            floor.delete(f"floor-w{i}")
            return 0.0
        core.call([*g[name], "run", "-d", "-b", bundle, f"{name}-w{i}"])
        core.call([*g[name], "delete", "-f", f"{name}-w{i}"])
        return 0.0
    phase(warm, args.warmup, who=starters)
    core.reap_strays()
    ids = [f"s{k}" for k in range(n)]
    sample = sorted({ids[int(q * (n - 1))] for q in (0, 0.25, 0.5, 0.75, 1)})

    def run_d(name, i):
        if name == "floor":
            return floor.run_d(f"floor-{ids[i]}")
        return core.timed([*g[name], "run", "-d", "-b", bundle, f"{name}-{ids[i]}"])

    def listing(name, i):
        return core.timed([*g[name], "list"], stdout=True)

    def state(of):
        return lambda name, i: core.timed([*g[name], "state", f"{name}-{of[i % len(of)]}"],
                                          stdout=True)

    starts, after = phase(run_d, 1, who=starters)
    small = [phase(listing, LISTS)[0], phase(state(ids[:1]), LISTS)[0]]
    more, after_more = phase(lambda name, i: run_d(name, i + 1), n - 1, who=starters)
    starts += more
    for k, v in after_more.items():
        after.setdefault(k, []).extend(v)
    pids = {}
    for name in g:
        listed = json.loads(core.call([*g[name], "list", "-f", "json"], stdout=True) or "[]")
        pids[name] = {c["id"][len(name) + 1:]: c["pid"] for c in listed}
        if sorted(pids[name]) != sorted(ids):
            sys.exit(f"{name} list shows {len(pids[name])} containers, not {n}")
    big = [phase(listing, LISTS)[0], phase(state(sample), STATES * len(sample))[0]]

    def delete(name, i):
        ms = core.timed([*g[name], "delete", "-f", f"{name}-{ids[i]}"])
        core.wait_gone(pids[name][ids[i]])
        return ms
    deletes, _ = phase(delete, n)
    if floor:
        floor.close()
    core.reap_strays()
    edge = min(EDGE, n)
    rows = [(f"run -d 1-{edge}", starts[:edge]), (f"run -d {n - edge + 1}-{n}", starts[-edge:]),
            ("list, 1", small[0]), (f"list, {n}", big[0]),
            ("state, 1", small[1]), (f"state, {n}", big[1]), ("delete -f", deletes)]
    # The run -d medians per tenth of the N: a trend, or the load's jumps.
    tenths = {name: [core.pct([r[name] for r in starts[k * n // 10:(k + 1) * n // 10]], 0.5)
                     for k in range(10) if (k + 1) * n // 10 > k * n // 10]
              for name, _, _ in starters}
    return rows, after, {"left": {name: os.listdir(roots[name]) for name in g},
                         "tenths": tenths}


def inner(args, rts, with_floor=False):
    """In a sandbox: the sequence for rts (and the floor); alone
    (--scale-result) the rows go to a file, together they are printed."""
    core.become_subreaper()
    tmp = tempfile.mkdtemp(prefix="bench-scale-")
    floor = None
    try:
        bundle = os.path.join(tmp, "sleep")
        core.make_bundle(bundle, args.berth, args=("/bin/sleep", "1000"))
        if with_floor:
            floor = Floor(tmp, os.path.join(bundle, "rootfs"))
        with core.Roots(args.state_tmpfs) as roots:
            rows, after, extra = measure(args, rts, roots, bundle, floor)
    finally:
        if floor:
            floor.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.scale_result:
        with open(args.scale_result, "w") as f:
            json.dump({"rows": rows, **extra}, f)
        return
    names = [name for name, _ in rts] + (["floor"] if floor else [])
    print(f"together: {args.scale} containers per runtime, in rounds")
    core.paired_table(rows, names)
    footer(args, rows, names, extra,
           f"the runtimes in a shuffled order in each round (seeds from {args.seed}), all"
           " sets growing together; 'vs crun' is the median of per-round ratios")
    print()
    core.print_predecessors([(name, argv, None) for name, argv in rts]
                            + ([("floor", None, None)] if floor else []), after, "run -d ms")


def footer(args, rows, names, extra, how):
    edge = min(EDGE, args.scale)
    first = {name: core.pct([r[name] for r in rows[0][1]], 0.5) for name in names}
    last = {name: core.pct([r[name] for r in rows[1][1]], 0.5) for name in names}
    print("last/first: " + ", ".join(f"{name} {last[name] / first[name]:.2f}x" for name in names)
          + f" (median run -d of the last {edge} over the first {edge})")
    print("run -d, median of each tenth of the containers:")
    for name in names:
        print(f"  {name:6} " + " ".join(f"{ms:6.2f}" for ms in extra["tenths"][name]))
    for name in names:
        if extra["left"].get(name):
            print(f"{name} left in its state root: {extra['left'][name][:5]}")
    print(f"(ms; {how}; {args.scale} `sleep` containers per runtime started with run -d"
          f" (stdio on /dev/null), after {args.warmup} run -d + delete -f of warm-up; list:"
          f" {LISTS} calls with 1 container and with {args.scale}; state: {LISTS} calls with 1,"
          f" {STATES} on each of 5 ids with {args.scale}; delete -f: each container, its"
          f" process reaped; commit {core.git_commit()})")


def alone(args, rts, script, argv):
    """Each runtime's sequence in a sandbox of its own, in a seeded random
    order; then the table, medians and ratios of medians."""
    names = [name for name, _ in rts] + (["floor"] if args.floor else [])
    order = list(names)
    random.Random(args.seed).shuffle(order)
    got = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for name in order:
            path = os.path.join(tmp, f"{name}.json")
            rc = core.sandboxed(script, ["--inner", *argv, "--scale-how", "alone",
                                         "--scale-only", name, "--scale-result", path],
                                run=f"scale-{name}")
            if rc != 0:
                return rc
            with open(path) as f:
                got[name] = json.load(f)
    labels = [label for label, _ in got[names[0]]["rows"]]
    per = {name: {label: [r[name] for r in rnds if name in r]
                  for label, rnds in got[name]["rows"]} for name in names}
    base = "crun" if "crun" in names else None
    print(f"alone: {args.scale} containers, one runtime at a time")
    width = max(len(label) for label in labels) + 1
    print(f"{'command':{width}}" + "".join(
        f" {name + ' ms':>9}" + (f" {'vs ' + base:>8}" if base else "") for name in names))
    for label in labels:
        cells = ""
        for name in names:
            if not per[name][label]:  # the floor has run -d rows only
                cells += f" {'-':>9}" + (f" {'-':>8}" if base else "")
                continue
            med = core.pct(per[name][label], 0.5)
            cells += f" {med:9.2f}"
            if base:
                cells += f" {med / core.pct(per[base][label], 0.5):7.2f}x"
        print(f"{label:{width}}{cells}")
    # Medians per runtime only: the i-th values of two runtimes are no pair.
    # footer reads the two run -d rows.
    merged = [(label, [{name: per[name][label][i] for name in names}
                       for i in range(len(per[names[0]][label]))]) for label in labels[:2]]
    footer(args, merged, names, {k: {name: got[name][k].get(name) for name in names}
                                 for k in ("left", "tenths")},
           f"one runtime after another in the order {', '.join(order)} (seed {args.seed}), each"
           " in a cgroup sandbox of its own; 'vs crun' is a ratio of medians, not paired")
    return 0
