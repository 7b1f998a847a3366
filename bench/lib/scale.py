"""--scale N: does a runtime slow down as containers pile up?  Every
runtime starts N detached `sleep` containers (`run -d`, stdio on
/dev/null), one after another, in rounds: round k starts each runtime's
k-th container, the runtimes in a fresh seeded order, so the three sets
grow together and every ratio is paired (a slow minute of a shared machine
hits all of a round).  Then, in the same kind of rounds, `list` and `state
ID` (with 1 container of each and with N), and `delete -f` of each
container, its process reaped before the next (the bench is the containers'
subreaper, as engines are).  Each runtime keeps its own state root; all run
in one cgroup sandbox, removed at the end with whatever is left in it."""
import json
import os
import shutil
import sys
import tempfile

from . import core

EDGE = 50  # the first and the last this many run -d are compared
LISTS = 10  # rounds of list, at each size
STATES = 3  # rounds of state per sampled id


def main(args, rts):
    core.become_subreaper()
    n = args.scale
    names = [name for name, _ in rts]
    tmp = tempfile.mkdtemp(prefix="bench-scale-")
    try:
        bundle = os.path.join(tmp, "sleep")
        core.make_bundle(bundle, args.berth, args=("/bin/sleep", "1000"))
        with core.Roots() as roots:
            g = {name: [*argv, "--root", roots[name]] for name, argv in rts}
            cases = [(name, argv, None) for name, argv in rts]
            seeds = iter(range(args.seed, args.seed + 100))

            def phase(step, rounds, warmup=0):
                """rounds of step(name, i), the order shuffled per round; the
                per-round times as dicts name -> ms, and the table by
                predecessor."""
                per_round, after = core.rounds(cases, lambda c, i: step(c[0], i), rounds,
                                               warmup, next(seeds))
                return [{c[0]: ms for c, ms in r.items()} for r in per_round], after

            def warm(name, i):
                core.call([*g[name], "run", "-d", "-b", bundle, f"{name}-w{i}"])
                core.call([*g[name], "delete", "-f", f"{name}-w{i}"])
                return 0.0
            phase(warm, args.warmup)
            core.reap_strays()

            ids = [f"s{k}" for k in range(n)]

            def run_d(name, i):
                return core.timed([*g[name], "run", "-d", "-b", bundle, f"{name}-{ids[i]}"])

            def listing(name, i):
                return core.timed([*g[name], "list"], stdout=True)

            sample = sorted({ids[int(q * (n - 1))] for q in (0, 0.25, 0.5, 0.75, 1)})

            def state(name, i, of=("s0",)):
                return core.timed([*g[name], "state", f"{name}-{of[i % len(of)]}"],
                                  stdout=True)

            starts, after = phase(run_d, 1)
            small = {"list": phase(listing, LISTS)[0], "state": phase(state, LISTS)[0]}
            more, after_more = phase(lambda name, i: run_d(name, i + 1), n - 1)
            starts += more
            for k, v in after_more.items():
                after.setdefault(k, []).extend(v)
            pids = {}
            for name in names:
                listed = json.loads(core.call([*g[name], "list", "-f", "json"], stdout=True)
                                    or "[]")
                # Every runtime places a container without cgroupsPath by its
                # id: the ids differ between runtimes, as their containers coexist.
                pids[name] = {c["id"][len(name) + 1:]: c["pid"] for c in listed}
                if sorted(pids[name]) != sorted(ids):
                    sys.exit(f"{name} list shows {len(pids[name])} containers, not {n}")
            big = {"list": phase(listing, LISTS)[0],
                   "state": phase(lambda name, i: state(name, i, sample),
                                  STATES * len(sample))[0]}

            def delete(name, i):
                ms = core.timed([*g[name], "delete", "-f", f"{name}-{ids[i]}"])
                core.wait_gone(pids[name][ids[i]])
                return ms
            deletes, _ = phase(delete, n)
            core.reap_strays()
            left = {name: os.listdir(roots[name]) for name in names}
        edge = min(EDGE, n)
        core.paired_table([(f"run -d 1-{edge}", starts[:edge]),
                           (f"run -d {n - edge + 1}-{n}", starts[-edge:]),
                           ("list, 1", small["list"]), (f"list, {n}", big["list"]),
                           ("state, 1", small["state"]), (f"state, {n}", big["state"]),
                           ("delete -f", deletes)], names, first="command")
        print("last/first: " + ", ".join(
            f"{name} {core.pct([r[name] for r in starts[-edge:]], 0.5) / core.pct([r[name] for r in starts[:edge]], 0.5):.2f}x"
            for name in names) + f" (median run -d of the last {edge} over the first {edge})")
        for name in names:
            if left[name]:
                print(f"{name} left in its state root: {left[name][:5]}")
        print(f"({n} `sleep` containers per runtime, started with run -d (stdio on /dev/null),"
              f" the runtimes in a shuffled order in each round (seeds from {args.seed}), all"
              f" three sets growing together; after {args.warmup} rounds of run -d + delete -f"
              f" of warm-up; list: {LISTS} rounds with 1 container of each runtime and with {n};"
              f" state: {STATES} rounds on each of {len(sample)} ids; delete -f: one container"
              f" per runtime per round, its process reaped; 'vs crun' is the median of"
              f" per-round ratios; commit {core.git_commit()})")
        print()
        core.print_predecessors(cases, after, "run -d ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
