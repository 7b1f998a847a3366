"""berth run by a user other than root (issue #15): the state root under
$XDG_RUNTIME_DIR, no cgroup where the host gives none (this v1/hybrid host
delegates nothing), ID maps written directly or through newuidmap, each bad
input one line that leaves nothing behind.  runc runs the same cases as the
control where it supports them.

A throwaway user is made per test (useradd -m, with a subordinate range in
/etc/subuid and /etc/subgid) and removed afterwards, home and ranges too,
whatever the test did.
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import BERTH, RUNC, _require_root

_users = [0]


def _subid_ranges(name, path):
    with open(path) as f:
        return [(int(a), int(n)) for u, a, n in
                (l.strip().split(":") for l in f if l.count(":") == 2) if u == name]


class User:
    """A test user, its $XDG_RUNTIME_DIR and a way to run commands as it."""

    def __init__(self, name):
        self.name = name
        pw = pwd.getpwnam(name)
        self.uid, self.gid, self.home = pw.pw_uid, pw.pw_gid, pw.pw_dir
        self.xdg = tempfile.mkdtemp(prefix="berth-xdg-")
        os.chown(self.xdg, self.uid, self.gid)
        os.chmod(self.xdg, 0o700)
        self.subuid = _subid_ranges(name, "/etc/subuid")[0]
        self.subgid = _subid_ranges(name, "/etc/subgid")[0]

    def env(self, **extra):
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": self.home,
               "USER": self.name, "LOGNAME": self.name, "XDG_RUNTIME_DIR": self.xdg}
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def run(self, *argv, cwd=None, env=None, timeout=60):
        """argv as this user (setpriv: no PAM session, no tty).  Output goes
        to files: a detached container keeps what it inherits."""
        full = [shutil.which("setpriv"), f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
                "--", *[str(a) for a in argv]]
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            p = subprocess.run(full, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                               text=True, cwd=cwd, env=env or self.env(), timeout=timeout)
            out.seek(0)
            err.seek(0)
            p.stdout, p.stderr = out.read(), err.read()
        return p

    def processes(self, timeout=5.0):
        """This user's live processes, once the dead ones are reaped (a
        killed init is reparented, and reaped a little later)."""
        deadline = time.monotonic() + timeout
        while True:
            p = subprocess.run(["ps", "-u", str(self.uid), "-o", "pid=,stat="],
                               capture_output=True, text=True)
            rows = [l.split() for l in p.stdout.splitlines() if l.strip()]
            if not rows or time.monotonic() > deadline:
                return [int(r[0]) for r in rows if not r[1].startswith("Z")]
            time.sleep(0.05)


@pytest.fixture
def user():
    _require_root()
    if shutil.which("useradd") is None or shutil.which("setpriv") is None:
        pytest.skip("useradd and setpriv are needed to make and become a test user")
    _users[0] += 1
    name = f"brl{os.getpid() % 100000}x{_users[0]}"
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True, capture_output=True)
    u = None
    try:
        # useradd gives a range where login.defs says so; make sure of one.
        if not _subid_ranges(name, "/etc/subuid") or not _subid_ranges(name, "/etc/subgid"):
            base = 2_000_000 + (os.getpid() % 1000) * 70_000
            subprocess.run(["usermod", "--add-subuids", f"{base}-{base + 65535}",
                            "--add-subgids", f"{base}-{base + 65535}", name], check=True)
        u = User(name)
        yield u
    finally:
        if u is not None:
            for d in ("berth", "runc"):
                root = os.path.join(u.xdg, d)
                if os.path.isdir(root):
                    for cid in os.listdir(root):
                        if not cid.startswith("@"):
                            binary = BERTH if d == "berth" else RUNC
                            u.run(binary, "delete", "--force", cid)
            left = u.processes()
            for pid in left:  # processes of this test's own user only
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            shutil.rmtree(u.xdg, ignore_errors=True)
        for a, n in _subid_ranges(name, "/etc/subuid"):
            subprocess.run(["usermod", "--del-subuids", f"{a}-{a + n - 1}", name])
        for a, n in _subid_ranges(name, "/etc/subgid"):
            subprocess.run(["usermod", "--del-subgids", f"{a}-{a + n - 1}", name])
        subprocess.run(["userdel", "-r", name], capture_output=True)
        assert not _subid_ranges(name, "/etc/subuid") and not _subid_ranges(name, "/etc/subgid")
        if u is not None:
            assert left == [], f"processes of the test user left behind: {left}"


@pytest.fixture
def ubundle(user, rootfs_template):
    """A bundle the test user owns (its rootfs is root's, readable), with the
    config `berth spec --rootless` gives that user."""
    path = tempfile.mkdtemp(prefix="berth-rootless-")
    try:
        os.chmod(path, 0o755)
        subprocess.run(["cp", "-al", rootfs_template, os.path.join(path, "rootfs")], check=True)
        os.chown(path, user.uid, user.gid)
        p = user.run(BERTH, "spec", "--rootless", cwd=path)
        assert p.returncode == 0, p.stderr
        yield Config(path)
    finally:
        shutil.rmtree(path)


class Config:
    def __init__(self, path):
        self.path = path
        self.file = os.path.join(path, "config.json")
        with open(self.file) as f:
            self.config = json.load(f)
        self.config["process"]["terminal"] = False

    def args(self, *argv):
        self.config["process"]["args"] = list(argv)
        return self.write()

    def write(self):
        # Rewritten in place: the file stays the user's.
        with open(self.file, "r+") as f:
            f.truncate()
            json.dump(self.config, f, indent=2)
        return self


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
    if rt == "berth":
        assert p.stderr.strip() == (
            "berth: config.json: .linux.resources.memory.limit: cannot apply: no cgroup can "
            "be created for a rootless container on this host (cgroup v1 without delegation)")
    else:
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
