"""--commands: each lifecycle command timed on its own.  Per round, in a
shuffled order, every runtime takes one container through create, start,
state, exec (`exec ID /bin/true`), kill (SIGKILL) and delete, and does one
`run` of /bin/true; a `sleep` is the container's program, so that start,
exec and kill meet a running process.

Between kill and delete the bench waits for the container's process to be
gone, untimed, as engines do (conmon and the containerd shim wait for the
exit, then call delete): the bench is the containers' subreaper and reaps
it.  A delete right after kill races the process' exit; runc then refuses
("cannot delete container that is not stopped: running"), and `delete
--force` would time a kill and a wait that engines do not ask of it."""
import json
import os
import shutil
import tempfile
import time

from . import core, phases

COMMANDS = ("create", "start", "state", "exec", "kill", "delete", "run")


def cycle(argv, root, sleeper, true, cid, trace=None):
    """One container through the commands, each timed (ms); trace: berth's
    --trace file for the commands that write one."""
    g = [*argv, "--root", root] + (["--trace", trace] if trace else [])
    t = {"create": core.timed([*g, "create", "-b", sleeper, cid]),
         "start": core.timed([*g, "start", cid])}
    t0 = time.perf_counter()
    out = core.call([*g, "state", cid], stdout=True)
    t["state"] = (time.perf_counter() - t0) * 1000
    pid = json.loads(out)["pid"]
    t["exec"] = core.timed([*g, "exec", cid, "/bin/true"])
    t["kill"] = core.timed([*g, "kill", cid, "KILL"])
    core.wait_gone(pid)
    t["delete"] = core.timed([*g, "delete", cid])
    core.reap_strays()
    return t


def run_true(argv, root, true, cid, trace=None):
    g = [*argv, "--root", root] + (["--trace", trace] if trace else [])
    return {"run": core.timed([*g, "run", "-b", true, cid])}


def main(args, rts):
    core.become_subreaper()
    tmp = tempfile.mkdtemp(prefix="bench-commands-")
    try:
        sleeper, true = os.path.join(tmp, "sleep"), os.path.join(tmp, "true")
        core.make_bundle(sleeper, args.berth, args=("/bin/sleep", "1000"))
        core.make_bundle(true, args.berth)
        with core.Roots(args.state_tmpfs) as roots:
            cases = [(n, a, k) for n, a in rts for k in ("cycle", "run")]

            def step(case, i):
                name, argv, kind = case
                if kind == "run":
                    return run_true(argv, roots[name], true, f"r{i}")
                return cycle(argv, roots[name], sleeper, true, f"c{i}")

            per_round, after = core.rounds(cases, step, args.n, args.warmup, args.seed,
                                           args.order, args.settle)
            merged = []
            for r in per_round:
                m = {}
                for (n, _, _), got in r.items():
                    m.setdefault(n, {}).update(got)
                merged.append(m)
            names = [n for n, _ in rts]
            core.paired_table([(c, [{n: m[n][c] for n in names} for m in merged])
                               for c in COMMANDS], names)
            print(f"({args.n} rounds after {args.warmup} of warm-up, runtimes in a shuffled order"
                  f" per round (seed {args.seed}), settle {args.settle} ms; per round each"
                  " runtime takes one `sleep` container through create..delete (exec: /bin/true;"
                  " kill: SIGKILL, then the process is waited for, untimed) and one `run` of"
                  " /bin/true, as two cases shuffled with the others; 'vs crun' is the median of"
                  f" per-round ratios; commit {core.git_commit()})")
            print()
            core.print_predecessors(cases, after,
                                    "ms (cycle: create..delete summed)")
            if args.traces:
                print()
                argv = rts[0][1]

                def traced(path, j):
                    tag = "t" if path else "u"
                    t = cycle(argv, roots["berth"], sleeper, true, f"{tag}c{j}", trace=path)
                    return {**t, **run_true(argv, roots["berth"], true, f"{tag}r{j}",
                                            trace=path)}
                summary = phases.collect(args.traces, traced, tmp, args.seed)
                print(f"berth's phases: {args.traces} more cycles and runs with --trace FILE,"
                      " after the timed rounds and not counted in them (the timed runs had"
                      " tracing off), each paired with one untraced; medians per phase"
                      " (docs/trace.md):")
                phases.print_summary(summary)
                print("(state and kill write no trace: engines call them often; docs/trace.md)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
