"""The runtime killed with SIGKILL at each phase of create, a corrupt state
file, the init dying before start: afterwards `state` says something sensible
and `delete --force` removes everything (the `berth` and `cid` fixtures check
that no state or cgroup directory is left)."""
import contextlib
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BERTH

pytestmark = pytest.mark.cgroup


def hooks_compiled_in():
    p = subprocess.run([BERTH, "--version"], capture_output=True, text=True)
    return "test-hooks: enabled" in p.stdout


needs_hooks = pytest.mark.skipif(not hooks_compiled_in(),
                                 reason="berth built without -Dtest_hooks=true")


def wait_state(pid, state, what, timeout=10):
    """Until /proc/PID/stat says `state` (T stopped, Z exited)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == state:
                return
        time.sleep(0.01)
    raise AssertionError(f"{what} (pid {pid}) never did")


def wait_stopped(pid, timeout=10):
    wait_state(pid, "T", "berth reaching its stop point", timeout)


@contextlib.contextmanager
def held_at(berth, phase, *args):
    """berth ARGS stopped at `phase` (BERTH_TEST_STOP_AT): yields the
    process and the pid of its one child (the init, or the first child that
    forks it).  The caller lets it go on (SIGCONT) and reads its end with
    communicate(); whatever is still running afterwards is killed."""
    env = {**os.environ, "BERTH_TEST_STOP_AT": phase}
    p = subprocess.Popen([BERTH, "--root", berth.root, *args], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_stopped(p.pid)
        with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
            (child,) = [int(c) for c in f.read().split()]
        yield p, child
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def kill_create_at(berth, bundle, cid, phase):
    """Run create until it stops at `phase`, then SIGKILL it."""
    env = {**os.environ, "BERTH_TEST_STOP_AT": phase}
    p = subprocess.Popen([BERTH, "--root", berth.root, "create", "-b", bundle.path, cid],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_stopped(p.pid)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


@needs_hooks
@pytest.mark.parametrize("phase", ["create:state-dir", "create:cgroup", "create:cloned",
                                   "create:ready"])
def test_killed_create_is_cleaned_by_delete_force(berth, bundle, cid, phase):
    bundle.args("sleep", "100").write()
    kill_create_at(berth, bundle, cid, phase)
    st = berth.cmd("state", cid)
    if st.returncode == 0:
        assert json.loads(st.stdout)["status"] == "stopped"
    else:
        assert "delete --force" in st.stderr, st.stderr
    assert berth.cmd("delete", "--force", cid).returncode == 0
    assert berth.ids() == []
    # Nothing of the container's init may survive.
    out = subprocess.run(["pgrep", "-f", bundle.rootfs], capture_output=True, text=True)
    assert out.stdout == ""


@needs_hooks
@pytest.mark.parametrize("phase", ["create:cloned", "create:ready"])
def test_killed_create_without_mount_namespace_leaves_no_mount(berth, open_bundle, cid, phase):
    """Without a mount namespace the init mounts into the runtime's; a
    create killed before it recorded them in state.json still wrote down
    what was there before, and delete --force removes the rest."""
    bundle = open_bundle
    bundle.config["linux"]["namespaces"] = [{"type": "pid"}]
    bundle.config.pop("hostname", None)
    bundle.args("sleep", "100").write()
    rootfs = os.path.realpath(bundle.rootfs)
    kill_create_at(berth, bundle, cid, phase)
    assert berth.cmd("delete", "--force", cid).returncode == 0
    assert berth.ids() == []
    with open("/proc/self/mountinfo") as f:
        left = [l.split()[4] for l in f if l.split()[4].startswith(rootfs)]
    assert left == []


def test_corrupt_state_file(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    pid = berth.state(cid)["pid"]
    with open(os.path.join(berth.root, cid, "state.json"), "w") as f:
        f.write('{"id": ')
    p = berth.cmd("state", cid)
    assert p.returncode == 1 and "corrupt state" in p.stderr and "delete --force" in p.stderr
    assert berth.cmd("delete", "--force", cid).returncode == 0
    assert _ended(pid)  # found through the cgroup record, not the lost state


def test_truncated_state_file(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    pid = berth.state(cid)["pid"]
    open(os.path.join(berth.root, cid, "state.json"), "w").close()
    p = berth.cmd("kill", cid, "KILL")
    assert p.returncode == 1 and "state" in p.stderr
    assert berth.cmd("delete", "--force", cid).returncode == 0
    assert _ended(pid)


def _ended(pid, timeout=5.0):
    """True once pid has exited (gone, or a zombie its reaper has yet to
    collect); SIGKILLs it and returns False if it is still running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return False


def test_start_twice(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    berth.cmd("start", cid, check=True)
    p = berth.cmd("start", cid)
    assert p.returncode == 1 and "already running" in p.stderr
    berth.cmd("delete", "--force", cid, check=True)


def test_engine_subreaper_gone(berth, bundle, cid, tmp_path):
    """The engine (a subreaper, like conmon or containerd's shim) runs create
    and then dies: the init is reparented further up, and state, start, kill
    and delete still work on it."""
    bundle.args("sleep", "100").write()
    script = tmp_path / "engine.py"
    script.write_text(
        "import ctypes, subprocess, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER\n"
        "out = open(sys.argv[-1], 'w')\n"
        "sys.exit(subprocess.run(sys.argv[1:-1], stdout=out, stderr=out).returncode)\n")
    p = subprocess.run(["/usr/bin/python3", str(script), BERTH, "--root", berth.root, "create",
                        "-b", bundle.path, cid, str(tmp_path / "engine.out")], timeout=30)
    assert p.returncode == 0  # the "engine" has exited: its subreaper role is gone
    st = berth.state(cid)
    assert st["status"] == "created"
    berth.cmd("start", cid, check=True)
    assert berth.state(cid)["status"] == "running"
    berth.cmd("kill", cid, "KILL", check=True)
    berth.wait_stopped(cid)
    berth.cmd("delete", cid, check=True)


@needs_hooks
def test_run_whose_program_is_done_before_berth_starts_it(berth, bundle, cid):
    """run opens the exec fifo while the init sets itself up (start_early),
    so the program may run, and exit, before berth is back from create:
    berth held at create:ready until its init has exited must still start
    the container and report the program's exit status."""
    bundle.sh("exit 7").write()
    with held_at(berth, "create:ready", "run", "-b", bundle.path, cid) as (p, init):
        wait_state(init, "Z", "the container's program exiting")
        p.send_signal(signal.SIGCONT)
        _, err = p.communicate(timeout=20)
    assert p.returncode == 7, err
    assert berth.ids() == []
