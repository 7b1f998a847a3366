"""bench/'s own logic, without root or containers: reading a trace back
(nesting, lanes, medians), the SVG of trace_plot.py, and the rounds
(seeded shuffles, predecessors, paired ratios).
Run: /usr/bin/python3 -m pytest -q tests/bench"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bench")
sys.path.insert(0, BENCH)
from lib import core, phases  # noqa: E402


def x(name, ts, dur, pid, cmd):
    return {"name": name, "cat": "berth", "ph": "X", "ts": ts, "dur": dur, "pid": pid,
            "tid": pid, "args": {"cmd": cmd}}


def trace(path, shift=0.0, clone=500.0):
    """One `berth run` (pid 10, init 11) and one `berth delete` (pid 20)."""
    t = 1_000_000.0 + shift
    ev = [{"name": "process_name", "ph": "M", "ts": 0, "pid": 10, "tid": 10,
           "args": {"name": "berth run"}},
          {"name": "process_name", "ph": "M", "ts": 0, "pid": 11, "tid": 11,
           "args": {"name": "container init"}},
          x("berth run", t, 4000, 10, 10), x("create", t + 10, 2000, 10, 10),
          x("state", t + 20, 50, 10, 10), x("init", t + 100, 1500, 10, 10),
          x("clone", t + 100, clone, 10, 10), x("start", t + 2010, 500, 10, 10),
          x("state", t + 2020, 80, 10, 10),
          x("new namespaces", t + 150, 450, 11, 10),
          x("rootfs", t + 700, 400, 11, 10), x("mounts", t + 710, 300, 11, 10),
          {"name": "execve", "ph": "i", "ts": t + 2400, "s": "t", "pid": 11, "tid": 11,
           "args": {"cmd": 10}},
          x("berth delete", t + 5000, 600, 20, 20), x("delete", t + 5010, 500, 20, 20)]
    with open(path, "w") as f:
        json.dump({"displayTimeUnit": "ms", "traceEvents": ev}, f)


def test_load_nests_per_process(tmp_path):
    trace(tmp_path / "t.json")
    run, delete = phases.load(tmp_path / "t.json")
    assert (run["name"], run["wall"], delete["name"]) == ("berth run", 4.0, "berth delete")
    own, init = run["lanes"]
    assert [(d, n) for d, n, _, _ in own["spans"]] == [
        (0, "create"), (1, "state"), (1, "init"), (2, "clone"), (0, "start"), (1, "state")]
    assert init["name"] == "container init"
    assert [(d, n, du) for d, n, _, du in init["spans"]] == [
        (0, "new namespaces", 0.45), (0, "rootfs", 0.4), (1, "mounts", 0.3),
        (0, "execve", None)]
    assert init["spans"][-1][2] == 2.4  # ms from the command's start


def test_summary_takes_medians_and_keeps_paths_apart(tmp_path):
    for j, clone in enumerate((400.0, 500.0, 900.0)):
        trace(tmp_path / f"t{j}.json", shift=j * 1e6, clone=clone)
    s = phases.summarise([phases.load(tmp_path / f"t{j}.json") for j in range(3)])
    rows = {(lane, depth, name): dur for lane, depth, name, _, dur, _ in s["berth run"]["rows"]}
    assert rows[("", 2, "clone")] == 0.5
    # create's state and start's state are two rows, not one.
    assert [n for _, _, n, _, _, _ in s["berth run"]["rows"]].count("state") == 2
    assert rows[("container init", 0, "execve")] is None
    assert s["berth delete"]["n"] == 3


def test_clone_split_tells_whether_the_init_ran_inside_the_clone(tmp_path):
    # The init's namespaces begin 50 us after the clone: inside a 500 us
    # clone, after a 40 us one.
    trace(tmp_path / "in.json", clone=500.0)
    trace(tmp_path / "out.json", clone=40.0)
    # No cgroup make in the fixture: nothing to overlap.
    assert phases.clone_split(phases.load(tmp_path / "in.json")) == {
        "berth run": (0.5, True, False)}
    assert phases.clone_split(phases.load(tmp_path / "out.json")) == {
        "berth run": (0.04, False, False)}


def test_clone_split_sees_the_namespaces_overlap_cgroup_make(tmp_path):
    trace(tmp_path / "t.json", clone=40.0)
    with open(tmp_path / "t.json") as f:
        doc = json.load(f)
    t = 1_000_000.0
    # berth makes the cgroup from +140 to +440 us; the init's namespaces
    # run from +150 to +600: at the same time.
    doc["traceEvents"].append(x("cgroup make", t + 140, 300, 10, 10))
    with open(tmp_path / "t.json", "w") as f:
        json.dump(doc, f)
    assert phases.clone_split(phases.load(tmp_path / "t.json")) == {
        "berth run": (0.04, False, True)}


def test_trace_plot_writes_svg(tmp_path):
    trace(tmp_path / "t.json")
    out = tmp_path / "t.svg"
    subprocess.run([sys.executable, os.path.join(BENCH, "trace_plot.py"),
                    str(tmp_path / "t.json"), str(out)], check=True)
    root = ET.parse(out).getroot()
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for want in ("clone", "0.50 ms", "container init (pid 11)", "execve +2.40 ms"):
        assert want in texts
    p = subprocess.run([sys.executable, os.path.join(BENCH, "trace_plot.py"),
                        str(tmp_path / "t.json"), str(out), "--command", "berth exec"],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "no 'berth exec'" in p.stderr


def test_rounds_shuffle_seeded_and_track_predecessors():
    seen = []

    def step(case, i):
        seen.append((i, case))
        return {"a": 1.0, "b": 2.0} if case[0] == "r1" else 3.0

    cases = [("r1", (), None), ("r2", (), None), ("r3", (), None)]
    per_round, after = core.rounds(cases, step, n=20, warmup=2, seed=7)
    first = list(seen)
    seen.clear()
    core.rounds(cases, step, n=20, warmup=2, seed=7)
    assert seen == first  # the same seed, the same order
    assert len(per_round) == 20 and all(len(r) == 3 for r in per_round)
    orders = {tuple(c[0] for i, c in first if i == k) for k in range(22)}
    assert len(orders) > 1  # shuffled
    # Every counted run is in the table by predecessor, with its total.
    assert sum(len(v) for v in after.values()) == 60
    assert all(v == 3.0 for (c, _), vs in after.items() if c[0] == "r1" for v in vs)


def test_same_predecessor_holds_what_ran_before():
    a, b, c, d = [(n, (), None) for n in ("a", "b", "c", "d")]
    after = {(a, c): [1.0, 2.0, 3.0], (b, c): [4.0, 4.0, 4.0],
             (a, d): [5.0], (b, d): [10.0], (a, b): [9.0], (b, a): [1.0]}
    # a and b after each other are left out: their predecessors differ.
    assert core.same_predecessor(after, a, b, [a, b, c, d]) == [("c", 0.5), ("d", 0.5)]
    assert core.same_predecessor({}, a, b, [a, b]) == []


def test_after_itself_compares_each_after_its_own_run():
    a, b, c = [(n, (), None) for n in ("a", "b", "c")]
    after = {(a, a): [2.0, 3.0, 4.0], (b, b): [6.0], (a, c): [1.0], (b, c): [100.0]}
    assert core.after_itself(after, a, b) == 0.5
    assert core.after_itself(after, a, c) is None  # c never ran after c


def test_spread_and_pct():
    assert core.spread([float(v) for v in range(1, 11)]) == (6.0, 2.0, 10.0)
    assert core.pct([3.0], 0.9) == 3.0


def test_paired_table_leaves_the_floor_out_of_rows_it_has_no_part_in(capsys):
    run_d = [{"berth": 4.0, "crun": 8.0, "floor": 3.0}, {"berth": 6.0, "crun": 10.0, "floor": 3.0}]
    listing = [{"berth": 1.0, "crun": 4.0}, {"berth": 1.0, "crun": 2.0}]
    core.paired_table([("run -d", run_d), ("list", listing)], ["berth", "crun", "floor"])
    head, run_line, list_line = capsys.readouterr().out.splitlines()
    assert head.split() == ["command", "berth", "ms", "vs", "crun", "p10-p90", "crun", "ms",
                            "vs", "crun", "p10-p90", "floor", "ms", "vs", "crun", "p10-p90"]
    # Per-round ratios: berth 0.5 and 0.6, the floor 0.375 and 0.3.
    assert run_line.split()[-3:] == ["3.00", "0.38x", "0.30-0.38"]
    assert run_line.split()[2:5] == ["6.00", "0.60x", "0.50-0.60"]
    assert list_line.split() == ["list", "1.00", "0.50x", "0.25-0.50", "4.00", "1.00x",
                                 "1.00-1.00", "-", "-", "-"]


def test_collect_pairs_traced_and_untraced(tmp_path):
    calls = []

    def one(path, j):
        calls.append(path is not None)
        if path:
            trace(path)
        return {"run": 2.0 if path else 1.0}
    s = phases.collect(4, one, str(tmp_path), seed=3)
    assert calls.count(True) == calls.count(False) == 4
    assert calls != [True, False] * 4 and calls != [False, True] * 4  # order drawn per pair
    run = s["berth run"]
    assert (run["traced"], run["plain"], run["ratio"]) == (2.0, 1.0, (2.0, 2.0, 2.0))
    assert "ratio" not in s["berth delete"]


def test_put_devices_back_restores_and_names_the_runtime(tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    node = tmp_path / "null"
    node.write_text("")
    paths = (str(node), str(tmp_path / "absent"))
    before = core.device_owners(paths)
    assert before == {str(node): (0, 0)}
    os.chown(node, 100000, 100000)
    assert core.put_devices_back(before, "crun (userns)", paths) == [str(node)]
    assert (node.stat().st_uid, node.stat().st_gid) == (0, 0)
    err = capsys.readouterr().err
    assert "crun (userns) changed the owner of" in err and "100000:100000" in err
    assert core.put_devices_back(before, "crun (userns)", paths) == []


PERF_SCRIPT = """berth 11343 64501.091371:      100000 cpu-clock:ppp: 
\tffffffff8222be18 chroot_fs_refs+0x58 ([kernel.kallsyms])
\tffffffff8162ba60 __do_sys_pivot_root+0xcd0 ([kernel.kallsyms])
\tffffffff8224d141 do_syscall_64+0x71 ([kernel.kallsyms])
\t    7faeacaf2ad7 [unknown] ([unknown])

berth 11344 64501.091406:      100000 cpu-clock:ppp: 
\t          4a1b2c container_create+0x2c (/usr/local/bin/berth)
\t          4a0000 main+0x10 (/usr/local/bin/berth)

berth 11344 64501.091506:      300000 cpu-clock:ppp: 
\tffffffff8222be18 chroot_fs_refs+0x10 ([kernel.kallsyms])
\tffffffff8162ba60 __do_sys_pivot_root+0xcd0 ([kernel.kallsyms])
\tffffffff8224d141 do_syscall_64+0x71 ([kernel.kallsyms])

berth 11344 64501.091606:      100000 cpu-clock:ppp: 
\tffffffff8222be18 validate_change+0x10 ([kernel.kallsyms])
\tffffffff8162ba60 ksys_write+0x20 ([kernel.kallsyms])
\tffffffff8224d141 do_syscall_64+0x71 ([kernel.kallsyms])
"""


def test_scale_profile_reads_perf_script():
    """bench/scale_profile.py's reading of `perf script`: each sample's
    period and chain (symbols without offsets), its system call, its
    innermost frames, and CPU ms per run by either."""
    import scale_profile as sp
    samples = sp.parse_perf_script(PERF_SCRIPT)
    assert [w for w, _ in samples] == [100000, 100000, 300000, 100000]
    assert samples[0][1] == ["chroot_fs_refs", "__do_sys_pivot_root", "do_syscall_64",
                             "[unknown]"]
    assert samples[1][1] == ["container_create", "main"]
    assert [sp.syscall_of(f) for _, f in samples] == ["pivot_root", "(user space)",
                                                      "pivot_root", "write"]
    assert sp.where(samples[0][1], 2) == "chroot_fs_refs < __do_sys_pivot_root"
    by_call = sp.per_run(samples, 2, sp.syscall_of)
    assert by_call["pivot_root"] == pytest.approx(0.2)  # 0.4 ms over 2 runs
    assert by_call["(user space)"] == pytest.approx(0.05)
