"""Concurrency: commands on one container are serialised, creates of one id
race to exactly one winner, and many lifecycles in parallel leak nothing."""
import json
import os
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import BERTH

pytestmark = pytest.mark.cgroup


def test_two_creates_of_one_id(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    argv = [BERTH, "--root", berth.root, "create", "-b", bundle.path, cid]
    # stderr to files: the winner's container keeps a pipe open forever.
    errs = [tempfile.TemporaryFile("w+") for _ in range(2)]
    procs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=e, text=True)
             for e in errs]
    results = []
    for p, e in zip(procs, errs):
        rc = p.wait(timeout=30)
        e.seek(0)
        results.append((rc, e.read()))
        e.close()
    codes = sorted(r[0] for r in results)
    assert codes == [0, 1], results
    loser = [e for rc, e in results if rc == 1][0]
    assert "already exists" in loser
    assert berth.state(cid)["status"] == "created"
    berth.cmd("delete", "--force", cid, check=True)


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [l.split()[4] for l in f if l.split()[4].startswith(path)]


def test_parallel_lifecycles_leak_nothing(berth, bundle, cid, tmp_path):
    """200 full lifecycles, 8 at a time; every berth invocation logs the fds
    it still has at exit (--debug), and `list` stays parseable throughout."""
    bundle.args("true").write()
    log = tmp_path / "debug.log"
    base = [BERTH, "--root", berth.root, "--debug", "--log", str(log), "--log-format", "json"]
    errors = []
    stop = threading.Event()

    def lifecycle(i):
        name = f"{cid}-{i}"
        for args in (["create", "-b", bundle.path, name], ["start", name],
                     ["delete", "--force", name]):
            # Files, not pipes: the container inherits create's stdio.
            with tempfile.TemporaryFile("w+") as e:
                rc = subprocess.run(base + args, stdout=subprocess.DEVNULL, stderr=e,
                                    stdin=subprocess.DEVNULL, timeout=60).returncode
                if rc != 0:
                    e.seek(0)
                    errors.append((args, e.read()))
                    return

    def lister():
        while not stop.is_set():
            p = subprocess.run([BERTH, "--root", berth.root, "list", "-f", "json"],
                               capture_output=True, text=True)
            if p.returncode != 0:
                errors.append(("list", p.stderr))
            else:
                json.loads(p.stdout)

    t = threading.Thread(target=lister)
    t.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as ex:
            list(ex.map(lifecycle, range(200)))
    finally:
        stop.set()
        t.join()
    assert errors == []
    assert berth.ids() == []
    assert mounts_under(bundle.path) == []
    fd_lines = [json.loads(l)["msg"] for l in log.read_text().splitlines()
                if "open fds at exit" in l]
    assert len(fd_lines) == 600
    # stdin, stdout, stderr and the log file: nothing else survives a command.
    assert set(fd_lines) == {"open fds at exit: 0 1 2 3"}, set(fd_lines)
