"""--trace FILE / $BERTH_TRACE: the start-up trace of real containers, checked
as a trace-event file (Chrome's JSON object format) and against the wall
time the test measures; and berth trace-summary over it."""
import json
import os
import subprocess
import time

import pytest

from conftest import BERTH

# The init's phases (the runtime cannot see them otherwise).
INIT_PHASES = {"rootfs", "mounts", "pivot", "close fds", "user, capabilities"}


def load(path):
    with open(path) as f:
        doc = json.load(f)
    assert doc["displayTimeUnit"] in ("ms", "ns")
    return doc["traceEvents"]


def check_events(events):
    """The format's rules, per event and per thread."""
    depth = {}
    for e in events:
        assert "ph" in e and "pid" in e and "tid" in e, e
        if e["ph"] == "M":
            continue
        assert isinstance(e["ts"], (int, float)), e
        if e["ph"] != "E":
            assert e.get("name"), e
        if e["ph"] == "X":
            assert e["dur"] >= 0, e
        if e["ph"] in "BE":
            key = (e["pid"], e["tid"])
            depth[key] = depth.get(key, 0) + (1 if e["ph"] == "B" else -1)
            assert depth[key] >= 0, e
    assert all(v == 0 for v in depth.values()), depth


def spans(events, pid):
    return [e for e in events if e["ph"] == "X" and e["pid"] == pid]


def check_nesting(xs):
    """X events of one thread nest: any two are disjoint or one holds the other."""
    xs = sorted(xs, key=lambda e: (e["ts"], -e["dur"]))
    stack = []
    for e in xs:
        end = e["ts"] + e["dur"]
        while stack and e["ts"] >= stack[-1]:
            stack.pop()
        assert not stack or end <= stack[-1] + 0.001, (e, stack)
        stack.append(end)


def command(events, name):
    outer = [e for e in events if e["ph"] == "X" and e["name"] == f"berth {name}"]
    assert len(outer) == 1, [e["name"] for e in events]
    return outer[0]


def timed(berth, tmp_path, *args, globals_=(), env=None):
    """Run berth and measure its wall time: posix_spawn (no copy of pytest's
    page tables, as a fork would make) to waitpid."""
    argv = [berth.binary, "--root", berth.root, *globals_, *[str(a) for a in args]]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    acts = [(os.POSIX_SPAWN_OPEN, 1, str(out), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, str(err), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
    t0 = time.monotonic_ns()
    pid = os.posix_spawn(argv[0], argv, env if env is not None else os.environ,
                         file_actions=acts)
    _, status = os.waitpid(pid, 0)
    wall = (time.monotonic_ns() - t0) / 1000
    assert os.waitstatus_to_exitcode(status) == 0, err.read_text()
    return out.read_text(), wall


def check_command(events, name, wall_us, child_label):
    check_events(events)
    outer = command(events, name)
    rt = outer["pid"]
    assert outer["tid"] == rt
    rt_spans = spans(events, rt)
    check_nesting(rt_spans)
    for e in rt_spans:
        assert outer["ts"] <= e["ts"] and e["ts"] + e["dur"] <= outer["ts"] + outer["dur"] + 0.001
    # The cloned process: another pid, its own name, on the same clock:
    # inside the runtime's span from the clone (or fork) to the wait's end.
    labels = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M"}
    child = [p for p, l in labels.items() if l == child_label]
    assert len(child) == 1, labels
    child_events = [e for e in events if e["pid"] == child[0] and e["ph"] != "M"]
    assert {e["name"] for e in child_events} >= ({"close fds", "user, capabilities", "execve"}), \
        child_events
    check_nesting(spans(events, child[0]))
    start = min(e["ts"] for e in rt_spans if e["name"] in ("clone", "fork"))
    wait = [e for e in rt_spans if e["name"] == "wait"]
    assert wait, [e["name"] for e in rt_spans]
    for e in child_events:
        assert start <= e["ts"] and e["ts"] + e.get("dur", 0) <= wait[0]["ts"] + wait[0]["dur"], e
    # No gap inside berth: its top-level phases cover the outermost span.
    top = [e for e in rt_spans if e["name"] in ("create", "start", "wait", "delete", "state",
                                                "process, seccomp compile", "cgroup",
                                                "spawn")]
    assert sum(e["dur"] for e in top) >= 0.95 * outer["dur"], (top, outer)
    # The outermost span is the command: within 5% of the wall time the test
    # measured around the whole berth process.  (What no process can clock
    # of itself, its execve, dynamic loading and exit, ~1 ms, is in the
    # difference: the containers here run RUN_FOR for it to stay under 5%.)
    assert outer["dur"] <= wall_us
    assert outer["dur"] >= 0.95 * wall_us, (outer["dur"], wall_us)
    return child[0]


# How long the traced container runs, so that what berth cannot clock of
# itself (its execve, dynamic loading and exit) stays under 5% of the wall
# time: about 1 ms when warm, but 10 ms on a first run from a fresh build
# with cold caches (CI's), and tens of ms under the VM tier's emulated CPU
# (qemu TCG), where the container runs longer (an exec under the systemd
# driver there once left 210 ms of 3.3 s unclocked); under the sanitizers,
# whose start-up and exit-time leak scan took 80 ms on a loaded host.  The
# 5% is the same.
RUN_FOR = ("6" if os.environ.get("BERTH_VM_DRIVER")
           else "3" if os.environ.get("ASAN_OPTIONS") else "0.5")


def test_run_traced(berth, bundle, cid, tmp_path):
    trace = tmp_path / "trace.json"
    bundle.args("sleep", RUN_FOR).write()
    _, wall = timed(berth, tmp_path, "run", "-b", bundle.path, cid,
                    globals_=("--trace", str(trace)))
    events = load(trace)
    init = check_command(events, "run", wall, "container init")
    names = {e["name"] for e in events if e["pid"] == init}
    assert names >= INIT_PHASES | {"wait for start", "masked, readonly paths"}, names
    rt = {e["name"] for e in events if e["pid"] == command(events, "run")["pid"]}
    assert rt >= {"create", "parse", "validate", "state", "cgroup prepare", "clone", "init",
                  "start", "wait", "delete"}, rt
    # trace-summary: the command, its phases indented, the total.
    s = subprocess.run([BERTH, "trace-summary", str(trace)], capture_output=True, text=True)
    assert s.returncode == 0, s.stderr
    lines = s.stdout.splitlines()
    assert lines[0].startswith("berth run (pid ")
    assert any(l.startswith("    parse ") for l in lines), s.stdout
    assert any("[container init, pid " in l for l in lines), s.stdout
    assert lines[-1].startswith("total: 1 command, ")


# exec joins the container's cgroup, a phase of its trace.
@pytest.mark.cgroup
def test_exec_traced_and_appended(berth, bundle, cid, tmp_path):
    trace = tmp_path / "trace.json"
    bundle.args("sleep", "100").write()
    env = dict(os.environ, BERTH_TRACE=str(trace))
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True, env=env)
    out, wall = timed(berth, tmp_path, "exec", cid, "sh", "-c", f"ls /proc/self/fd; sleep {RUN_FOR}",
                      env=env)
    # No fd of the trace (nor any of berth's) reaches the container's process
    # (3 is the directory ls reads).
    assert sorted(out.split()) == ["0", "1", "2", "3"], out
    events = load(trace)
    exec_events = [e for e in events if e.get("args", {}).get("cmd") ==
                   command(events, "exec")["pid"] or e["ph"] == "M"]
    check_command([e for e in exec_events if e["ph"] != "M" or e["args"]["name"] in
                   ("berth exec", "exec'd process")], "exec", wall, "exec'd process")
    # Two commands in one file, still one JSON document; then a third.
    assert {e["name"] for e in events if e["name"].startswith("berth ")} == {"berth run",
                                                                          "berth exec"}
    berth.cmd("delete", "-f", cid, check=True, env=env)
    events = load(trace)
    check_events(events)
    command(events, "delete")
    s = subprocess.run([BERTH, "trace-summary", str(trace)], capture_output=True, text=True)
    assert s.returncode == 0 and s.stdout.splitlines()[-1].startswith("total: 3 commands"), \
        s.stdout + s.stderr


def test_flag_wins_over_env(berth, bundle, cid, tmp_path):
    flag, envfile = tmp_path / "flag.json", tmp_path / "env.json"
    env = dict(os.environ, BERTH_TRACE=str(envfile))
    bundle.write()
    berth.cmd("run", "-b", bundle.path, cid, globals_=("--trace", str(flag)), check=True,
              env=env)
    assert not envfile.exists()
    command(load(flag), "run")


def test_off_writes_nothing(berth, bundle, cid, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "BERTH_TRACE"}
    bundle.write()
    before = set(os.listdir(tmp_path))
    berth.cmd("run", "-b", bundle.path, cid, check=True, env=env, cwd=tmp_path)
    # An empty variable is off too.
    berth.cmd("state", cid, env=dict(env, BERTH_TRACE=""), cwd=tmp_path)
    assert set(os.listdir(tmp_path)) - {"state"} == before - {"state"}


def test_unwritable_trace_warns_and_runs(berth, bundle, cid, tmp_path):
    bad = tmp_path / "no" / "such" / "dir" / "trace.json"
    bundle.sh("echo ran").write()
    p = berth.cmd("run", "-b", bundle.path, cid, globals_=("--trace", str(bad)))
    assert p.returncode == 0, p.stderr
    assert "ran" in p.stdout
    warnings = [l for l in p.stderr.splitlines() if "trace" in l]
    assert len(warnings) == 1 and str(bad) in warnings[0], p.stderr
    assert not bad.exists()


def test_foreign_file_left_alone(berth, bundle, cid, tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"something": "else"}\n')
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid, globals_=("--trace", str(other)))
    assert p.returncode == 0, p.stderr
    assert other.read_text() == '{"something": "else"}\n'
    assert "left alone" in p.stderr


def test_summary_of_a_bad_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    s = subprocess.run([BERTH, "trace-summary", str(bad)], capture_output=True, text=True)
    assert s.returncode == 1 and "not JSON" in s.stderr


def test_who_moves_the_process_into_its_cgroup(berth, bundle, cid, tmp_path):
    """berth moves no process by its pid (a move that can wait for an RCU
    grace period: cgroup_enter_self in src/cgroup/cgroup.h): the init and
    an exec'd process are cloned into the cgroup's v2 directory and move
    themselves into the rest (`cgroup enter`, theirs).  Only systemd's unit
    is made with the init in it (`cgroup attach`, berth's)."""
    from conftest import SYSTEMD_DRIVER
    trace = tmp_path / "trace.json"
    bundle.args("sleep", "100").write()
    env = dict(os.environ, BERTH_TRACE=str(trace))
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True, env=env)
    berth.cmd("exec", cid, "true", check=True, env=env)
    berth.cmd("delete", "-f", cid, check=True)
    events = load(trace)
    labels = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M"}

    def names(pid):
        return {e["name"] for e in events if e["pid"] == pid and e["ph"] == "X"}

    (init,) = [p for p, l in labels.items() if l == "container init"]
    (execd,) = [p for p, l in labels.items() if l == "exec'd process"]
    run, exec_ = command(events, "run")["pid"], command(events, "exec")["pid"]
    assert ("cgroup enter" in names(init)) != SYSTEMD_DRIVER, names(init)
    assert ("cgroup attach" in names(run)) == SYSTEMD_DRIVER, names(run)
    assert "cgroup enter" in names(execd), names(execd)
    assert "cgroup enter" not in names(exec_), names(exec_)
