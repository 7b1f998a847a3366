"""berth's start-up trace (docs/trace.md) read back: each command of a
trace file with its phases nested as they ran, per process, and the median
of each phase over several traces, printed beside the bench's totals."""
import json
import random

from .core import pct, spread


def load(path):
    """The commands of one trace file: a list of dicts with the command's
    name ("berth run"), its wall time (ms), and its lanes: per process (the
    command's own first), its name and its spans, each (depth, name, start
    ms from the command's start, duration ms), instants with duration None."""
    with open(path) as f:
        events = json.load(f)["traceEvents"]
    names = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M"}
    commands = []
    for cmd_pid in sorted({e["args"]["cmd"] for e in events if e["ph"] in "Xi"}):
        mine = [e for e in events if e["ph"] in "Xi" and e["args"]["cmd"] == cmd_pid]
        top = max((e for e in mine if e["pid"] == cmd_pid and e["ph"] == "X"),
                  key=lambda e: e["dur"])
        t0 = top["ts"]
        lanes = []
        for pid in [cmd_pid] + sorted({e["pid"] for e in mine} - {cmd_pid}):
            spans, stack = [], []
            # Parents first: earlier start, then the longer span.
            for e in sorted((e for e in mine if e["pid"] == pid and e is not top),
                            key=lambda e: (e["ts"], -e.get("dur", 0))):
                while stack and e["ts"] >= stack[-1]:
                    stack.pop()
                dur = e.get("dur") if e["ph"] == "X" else None
                spans.append((len(stack), e["name"], (e["ts"] - t0) / 1000,
                              None if dur is None else dur / 1000))
                if dur is not None:
                    stack.append(e["ts"] + dur - 1e-3)
            lanes.append({"pid": pid, "name": names.get(pid, str(pid)), "spans": spans})
        commands.append({"name": top["name"], "wall": top["dur"] / 1000, "lanes": lanes})
    return commands


def summarise(traces):
    """traces: for each traced run, the commands load() found.  Returns, per
    command name, its median wall time and a list of rows (lane, depth, name,
    median start, median duration or None) in the order they ran."""
    by_cmd = {}
    for commands in traces:
        for c in commands:
            d = by_cmd.setdefault(c["name"], {"wall": [], "rows": {}, "order": []})
            d["wall"].append(c["wall"])
            for li, lane in enumerate(c["lanes"]):
                # The command's own lane, then the container's processes by their name.
                lane_name = "" if li == 0 else lane["name"]
                path = []
                for depth, name, start, dur in lane["spans"]:
                    path[depth:] = [name]
                    key = (lane_name, tuple(path))
                    if key not in d["rows"]:
                        d["rows"][key] = ([], [])
                        d["order"].append(key)
                    d["rows"][key][0].append(start)
                    d["rows"][key][1].append(dur)
    out = {}
    for name, d in by_cmd.items():
        rows = []
        for key in d["order"]:
            starts, durs = d["rows"][key]
            durs = [x for x in durs if x is not None]
            rows.append((key[0], len(key[1]) - 1, key[1][-1], pct(starts, 0.5),
                         pct(durs, 0.5) if durs else None, len(starts)))
        lanes = []
        for r in rows:
            if r[0] not in lanes:
                lanes.append(r[0])
        rows.sort(key=lambda r: (lanes.index(r[0]), r[3], r[1]))
        out[name] = {"wall": pct(d["wall"], 0.5), "rows": rows, "n": len(d["wall"])}
    return out


def clone_split(commands):
    """For each command of one trace with a `clone` of its own and an init
    that made its namespaces (`new namespaces`): the clone's duration and
    whether the init's namespaces began inside it, i.e. the init ran first
    on the runtime's CPU (docs/trace.md, "When the init and berth share a
    CPU"), and whether they overlapped the runtime's `cgroup make` at all
    (the two are meant to run at once).  {command name: (clone ms, inside,
    overlapped)}."""
    out = {}
    for c in commands:
        clone = next((sp for sp in c["lanes"][0]["spans"] if sp[1] == "clone"), None)
        make = next((sp for sp in c["lanes"][0]["spans"] if sp[1] == "cgroup make"), None)
        ns = next((sp for lane in c["lanes"][1:] for sp in lane["spans"]
                   if sp[1] == "new namespaces"), None)
        if clone and ns and clone[3] is not None and ns[3] is not None:
            both = (make is not None and make[3] is not None
                    and ns[2] < make[2] + make[3] and make[2] < ns[2] + ns[3])
            out[c["name"]] = (clone[3], ns[2] < clone[2] + clone[3], both)
    return out


def print_summary(summary, indent="  "):
    """Each command's phases, median duration and share of the command's
    median span; beside it, the traced runs' time from outside (which,
    unlike the span, has berth's execve, loading and exit) against the
    untraced runs paired with them."""
    for name, s in summary.items():
        extra = ""
        if "ratio" in s:
            med, lo, hi = s["ratio"]
            extra = (f"; from outside {s['traced']:.2f} ms traced, {s['plain']:.2f} ms"
                     f" untraced, paired: {med:.2f}x ({lo:.2f}-{hi:.2f})")
        print(f"{name}: {s['wall']:.2f} ms in berth's own span (median of {s['n']}){extra}")
        lane = ""
        for lane_name, depth, phase, start, dur, n in s["rows"]:
            if lane_name != lane:
                print(f"{indent}[{lane_name}]")
                lane = lane_name
            d = indent * (depth + 1 + (1 if lane else 0))
            seen = "" if n == s["n"] else f"  (in {n} of {s['n']})"
            if dur is None:
                print(f"{d}{phase:<{44 - len(d)}} @ +{start:.2f} ms{seen}")
            else:
                print(f"{d}{phase:<{44 - len(d)}} {dur:6.2f} ms {100 * dur / s['wall']:5.1f}%"
                      f"{seen}")
        if s.get("clones"):
            inside = [ms for ms, i, _ in s["clones"] if i]
            alone = [ms for ms, i, _ in s["clones"] if not i]
            both = sum(1 for _, _, b in s["clones"] if b)
            line = f"{indent}clone: the init made its namespaces inside it in {len(inside)} of {len(s['clones'])} runs"
            if inside:
                line += f" ({min(inside):.2f}-{max(inside):.2f} ms)"
            if alone:
                line += (f"; in the others it took {pct(alone, 0.5):.2f} ms"
                         f" ({min(alone):.2f}-{max(alone):.2f})")
            line += (f"; its namespaces and berth's cgroup make overlapped in {both} of"
                     f" {len(s['clones'])}")
            print(line + " (docs/trace.md)")


def collect(k, run_one, tmp, seed):
    """k pairs of runs: run_one(trace_path, j) into a trace file of its own
    under tmp, and run_one(None, j) untraced, the two in a seeded random
    order; run_one returns each command's time seen from outside ({"run":
    ms}).  The summary of the k traces, with the medians of both times and
    of their per-pair ratio (traced/untraced, with p10 and p90)."""
    rng = random.Random(seed)
    traces, times = [], {}
    for j in range(k):
        path = f"{tmp}/trace-{j}.json"
        got = {}
        for which in rng.sample((path, None), 2):
            got[which is None] = run_one(which, j)
        for cmd, ms in got[False].items():
            times.setdefault(f"berth {cmd}", []).append((ms, got[True][cmd]))
        traces.append(load(path))
    summary = summarise(traces)
    for commands in traces:
        for name, got in clone_split(commands).items():
            summary[name].setdefault("clones", []).append(got)
    for name, s in summary.items():
        if name in times:
            s["traced"] = pct([t for t, _ in times[name]], 0.5)
            s["plain"] = pct([u for _, u in times[name]], 0.5)
            s["ratio"] = spread([t / u for t, u in times[name]])
    return summary
