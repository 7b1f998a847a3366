"""berth run by a user other than root (issue #15): the state root under
$XDG_RUNTIME_DIR, no cgroup where the host gives none (this v1/hybrid host
delegates nothing), ID maps written directly or through newuidmap, each bad
input one line that leaves nothing behind.  runc runs the same cases as the
control where it supports them.

A throwaway user is made per test (conftest.py's `user`: useradd -m, with a
subordinate range in /etc/subuid and /etc/subgid) and removed afterwards,
home and ranges too, whatever the test did; `ubundle` is a bundle it owns.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import BERTH, RUNC, _require_root

pytestmark = pytest.mark.cgroup


def _rootless_runtimes():
    return ["berth", "runc"]


def _binary(name):
    if name == "runc" and not os.path.exists(RUNC):
        pytest.skip("runc is not installed")
    return BERTH if name == "berth" else RUNC


def _state_ids(user, name):
    root = os.path.join(user.xdg, name)
    return sorted(e for e in os.listdir(root) if not e.startswith("@")) \
        if os.path.isdir(root) else []


# ---- the state root ----------------------------------------------------------------------


@pytest.mark.parametrize("rt", _rootless_runtimes())
def test_spec_rootless_and_run(user, ubundle, rt):
    """id inside is 0; the uid_map maps the user's own uid alone."""
    binary = _binary(rt)
    ubundle.args("sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map")
    p = user.run(binary, "run", "c1", cwd=ubundle.path)
    assert p.returncode == 0, p.stderr
    lines = [l.split() for l in p.stdout.splitlines()]
    assert lines[0] == ["0"] and lines[1] == ["0"]
    assert lines[2] == ["0", str(user.uid), "1"]
    assert lines[3] == ["0", str(user.gid), "1"]
    assert _state_ids(user, rt) == []
    # runc's sticky 0700 root, made by and for the user.
    st = os.stat(os.path.join(user.xdg, rt))
    assert (st.st_uid, st.st_mode & 0o7777) == (user.uid, 0o1700)


def test_debug_says_no_cgroup(user, ubundle):
    ubundle.args("true")
    p = user.run(BERTH, "--debug", "run", "c1", cwd=ubundle.path)
    assert p.returncode == 0, p.stderr
    assert "rootless: running without a cgroup" in p.stderr


@pytest.mark.parametrize("rt", _rootless_runtimes())
def test_detached_exec_kill_delete_list(user, ubundle, rt):
    binary = _binary(rt)
    ubundle.args("sleep", "100")
    p = user.run(binary, "run", "-d", "c1", cwd=ubundle.path)
    assert p.returncode == 0, p.stderr
    assert _state_ids(user, rt) == ["c1"]
    assert not os.path.exists(f"/run/{rt}/c1")
    st = os.stat(os.path.join(user.xdg, rt, "c1"))
    assert st.st_uid == user.uid
    p = user.run(binary, "list", "-q")
    assert p.stdout.split() == ["c1"], p.stderr
    p = user.run(binary, "exec", "c1", "sh", "-c", "id -u; cat /proc/self/uid_map")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0", "0", str(user.uid), "1"]
    assert user.run(binary, "kill", "c1", "KILL").returncode == 0
    deadline = time.monotonic() + 5
    while json.loads(user.run(binary, "state", "c1").stdout)["status"] != "stopped":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    p = user.run(binary, "delete", "c1")
    assert p.returncode == 0, p.stderr
    assert user.run(binary, "list", "-q").stdout.split() == []
    assert _state_ids(user, rt) == []


def test_no_cgroup_commands_each_one_line(user, ubundle):
    ubundle.args("sleep", "100")
    assert user.run(BERTH, "run", "-d", "c1", cwd=ubundle.path).returncode == 0
    with open(os.path.join(user.xdg, "berth", "c1", "state.json")) as f:
        state = json.load(f)
    assert state["noCgroup"] is True and len(state["cgroups"]) == 1
    for argv, words in ((["pause", "c1"], "cannot pause it"),
                        (["ps", "c1"], "cannot list its processes"),
                        (["events", "--stats", "c1"], "cannot report its statistics"),
                        (["update", "--memory", "100M", "c1"], "cannot update its resources")):
        p = user.run(BERTH, *argv)
        assert p.returncode != 0, argv
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and "no cgroup" in lines[0], (argv, lines)
    # runc's words: the container was never paused.
    p = user.run(BERTH, "resume", "c1")
    assert p.returncode != 0 and "container not paused" in p.stderr
    # kill --all reaches the init (runc fails there: no cgroup to list).
    assert user.run(BERTH, "kill", "--all", "c1", "KILL").returncode == 0
    deadline = time.monotonic() + 5
    while json.loads(user.run(BERTH, "state", "c1").stdout)["status"] != "stopped":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert user.run(BERTH, "delete", "c1").returncode == 0


# ---- linux.resources without a cgroup ----------------------------------------------------


@pytest.mark.parametrize("rt", _rootless_runtimes())
def test_resources_asked_without_cgroup(user, ubundle, rt):
    binary = _binary(rt)
    ubundle.config["linux"]["resources"] = {
        "devices": [{"allow": False, "access": "rwm"}], "memory": {"limit": 100 * 2**20}}
    ubundle.args("true")
    p = user.run(binary, "run", "c1", cwd=ubundle.path)
    assert p.returncode != 0
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")  # a pure v2 host (the VM tier)
    if rt == "berth":
        why = ("cgroup v2 without a subtree delegated to this user" if v2
               else "cgroup v1 without delegation")
        assert p.stderr.strip() == (
            "berth: config.json: .linux.resources.memory.limit: cannot apply: no cgroup can "
            f"be created for a rootless container on this host ({why})")
    elif not v2:
        assert "cannot set memory limit" in p.stderr
    assert _state_ids(user, rt) == []
    assert user.processes() == []


def test_device_rules_alone_need_no_cgroup(user, ubundle):
    ubundle.config["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
    ubundle.args("true")
    p = user.run(BERTH, "run", "c1", cwd=ubundle.path)
    assert p.returncode == 0, p.stderr


# ---- ID maps -----------------------------------------------------------------------------


def _multi_range(user):
    for key, own, (base, n) in (("uidMappings", user.uid, user.subuid),
                                ("gidMappings", user.gid, user.subgid)):
        yield key, [{"containerID": 0, "hostID": own, "size": 1},
                    {"containerID": 1, "hostID": base, "size": min(n, 65536)}]


@pytest.mark.parametrize("rt", _rootless_runtimes())
def test_multi_range_through_newuidmap(user, ubundle, rt):
    binary = _binary(rt)
    if shutil.which("newuidmap") is None:
        pytest.skip("newuidmap (package uidmap) is not installed")
    for key, m in _multi_range(user):
        ubundle.config["linux"][key] = m
    # A process uid from the subordinate range: setresuid needs it mapped.
    ubundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    ubundle.args("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g")
    p = user.run(binary, "run", "c1", cwd=ubundle.path)
    assert p.returncode == 0, p.stderr
    lines = [l.split() for l in p.stdout.splitlines()]
    assert lines[0] == ["0", str(user.uid), "1"]
    assert lines[1] == ["1", str(user.subuid[0]), str(min(user.subuid[1], 65536))]
    assert lines[2] == ["0", str(user.gid), "1"]
    assert lines[-2:] == [["1000"], ["1000"]]


def _refused(user, ubundle, rt, binary, env=None):
    p = user.run(binary, "run", "c1", cwd=ubundle.path, env=env)
    assert p.returncode != 0
    assert _state_ids(user, rt) == []
    assert user.processes() == []
    return p


@pytest.mark.parametrize("rt", _rootless_runtimes())
def test_missing_subuid_range(user, ubundle, rt):
    binary = _binary(rt)
    for key, m in _multi_range(user):
        ubundle.config["linux"][key] = m
    ubundle.args("true")
    base, n = user.subuid
    subprocess.run(["usermod", "--del-subuids", f"{base}-{base + n - 1}", user.name], check=True)
    p = _refused(user, ubundle, rt, binary)
    if rt == "berth":
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("berth: config.json: .linux.uidMappings: newuidmap refused "
                                   "the mapping: newuidmap: uid range")


def test_unmapped_uid(user, ubundle):
    """A host uid that is neither the user's own nor subordinate to it."""
    ubundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
    ubundle.args("true")
    p = _refused(user, ubundle, "berth", BERTH)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "newuidmap refused the mapping" in lines[0], lines


def test_no_newuidmap(user, ubundle):
    for key, m in _multi_range(user):
        ubundle.config["linux"][key] = m
    ubundle.args("true")
    p = _refused(user, ubundle, "berth", BERTH, env=user.env(PATH="/nonexistent"))
    assert p.stderr.strip() == (
        "berth: config.json: .linux.uidMappings: uid_map: writing it is not permitted to this "
        "user, and newuidmap (package uidmap) is not in $PATH to write it from /etc/subuid")


# ---- root keeps /run/berth ---------------------------------------------------------------


def test_root_keeps_run_berth(tmp_path, rootfs_template, cid):
    """$XDG_RUNTIME_DIR is for rootless users: the host's root keeps
    /run/berth even with the variable set; root in a user namespace takes
    it unless $USER says root (runc's rule)."""
    _require_root()
    xdg = tmp_path / "xdg"
    xdg.mkdir()
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    subprocess.run(["cp", "-al", rootfs_template, str(bundle / "rootfs")], check=True)
    subprocess.run([BERTH, "spec", "-b", str(bundle)], check=True)
    with open(bundle / "config.json") as f:
        config = json.load(f)
    config["process"]["terminal"] = False
    with open(bundle / "config.json", "w") as f:
        json.dump(config, f)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(xdg), USER="root")
    try:
        # No pipes: the created init keeps what it inherits.
        p = subprocess.run([BERTH, "create", "-b", str(bundle), cid], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        assert p.returncode == 0
        assert os.path.isdir(f"/run/berth/{cid}")
        assert not (xdg / "berth").exists()
    finally:
        subprocess.run([BERTH, "delete", "--force", cid], env=env)
    assert not os.path.exists(f"/run/berth/{cid}")
    if shutil.which("unshare") is None:
        return
    for user_var, used in ((None, True), ("someone", True), ("root", False)):
        e = dict(os.environ, XDG_RUNTIME_DIR=str(xdg))
        e.pop("USER", None)
        if user_var:
            e["USER"] = user_var
        shutil.rmtree(xdg / "berth", ignore_errors=True)
        p = subprocess.run(["unshare", "--user", "--map-root-user", BERTH, "list", "-q"], env=e,
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert (xdg / "berth").is_dir() == used, user_var
