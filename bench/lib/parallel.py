"""--parallel P: throughput.  Per round, in a shuffled order, every runtime
runs -m containers (`run` of /bin/true, each a create, start, wait and
delete), P at a time; the round's wall time is timed.  One round of
warm-up; the ratio to crun is the median of per-round ratios."""
import concurrent.futures
import os
import shutil
import tempfile
import time

from . import core


def main(args, rts):
    rounds = args.rounds or 5
    tmp = tempfile.mkdtemp(prefix="bench-parallel-")
    try:
        bundle = os.path.join(tmp, "true")
        core.make_bundle(bundle, args.berth)
        cases = [(n, a, None) for n, a in rts]
        with core.Roots(args.state_tmpfs) as roots, \
                concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:

            def step(case, i):
                name, argv, _ = case
                g = [*argv, "--root", roots[name], "run", "-b", bundle]
                t0 = time.perf_counter()
                list(pool.map(lambda k: core.call([*g, f"p{i}-{k}"]), range(args.m)))
                return (time.perf_counter() - t0) * 1000

            per_round, after = core.rounds(cases, step, rounds, 1, args.seed, args.order,
                                           args.settle)
        base = next((c for c in cases if c[0] == "crun"), None)
        print(f"{'runtime':8} {'wall s':>8} {'containers/s':>12} {'vs crun':>8} {'p10-p90':>12}")
        for case in cases:
            wall = core.pct([r[case] for r in per_round], 0.5) / 1000
            vs = core.fmt_ratio([r[case] / r[base] for r in per_round]) if base else "-"
            print(f"{case[0]:8} {wall:8.2f} {args.m / wall:12.1f} {vs}")
        print(f"({rounds} rounds after 1 of warm-up, runtimes in a shuffled order per round"
              f" (seed {args.seed}); per round each runtime runs {args.m} containers of"
              f" /bin/true, {args.parallel} at a time; wall s is the median round; 'vs crun' is"
              f" the median of per-round ratios of wall time (lower is faster);"
              f" commit {core.git_commit()})")
        print()
        core.print_predecessors(cases, after, "round ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
