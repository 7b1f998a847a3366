"""Rootless with --systemd-cgroup on cgroup v2 (issue #15): berth, run by a
user, asks that user's own systemd (user@UID.service, over the user's bus
/run/user/UID/bus) for the container's scope, with Delegate=yes, below the
manager's user.slice; the limits of linux.resources are then written in the
delegated subtree and enforced.  Then rootless Podman with
--cgroup-manager systemd and berth as its runtime, runc as the control.

Run only in the VM tier's guest (tests/vm/run.sh, pure v2, systemd PID 1):
a user with a subordinate range is made once for the module, with lingering
on (loginctl enable-linger), so that its manager and its bus run without a
login; the guest is thrown away afterwards."""
import json
import os
import pwd
import re
import shutil
import subprocess
import tarfile
import time

import pytest

from conftest import BERTH, run_via_files

CG = "/sys/fs/cgroup"
USER = "berthsd"
RUNC = shutil.which("runc") or "/usr/sbin/runc"
MEM = 64 << 20
PIDS = 50

pytestmark = [
    pytest.mark.skipif(not os.path.isdir("/run/systemd/system"),
                       reason="needs systemd as PID 1 (the VM tier)"),
    pytest.mark.skipif(not os.path.exists(f"{CG}/cgroup.controllers"),
                       reason="a cgroup v2 host (a user's systemd delegates v2 only)"),
]


class User:
    def __init__(self, name):
        pw = pwd.getpwnam(name)
        self.name, self.uid, self.gid, self.home = name, pw.pw_uid, pw.pw_gid, pw.pw_dir
        self.xdg = f"/run/user/{self.uid}"

    def env(self):
        return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME": self.home, "USER": self.name, "LOGNAME": self.name,
                "XDG_RUNTIME_DIR": self.xdg}

    def run(self, *argv, cwd=None, timeout=120, check=False):
        """argv as the user, from this (root's) service: no login session, as
        a program started by a system service would run.  Output to files:
        a container keeps what it inherits."""
        full = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
                "--", *[str(a) for a in argv]]
        p = run_via_files(full, stdin=subprocess.DEVNULL, cwd=cwd or self.home, env=self.env(),
                          timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(full)}: exit {p.returncode}: {p.stderr.strip()}")
        return p

    def systemctl(self, *args):
        return self.run("systemctl", "--user", *args)

    def prop(self, unit, name):
        return self.systemctl("show", "-P", name, unit).stdout.strip()

    def units(self, pattern):
        p = self.systemctl("list-units", "--all", "--plain", "--no-legend", pattern)
        return [l.split()[0] for l in p.stdout.splitlines() if l.strip()]


@pytest.fixture(scope="module")
def user():
    for tool in ("useradd", "setpriv", "loginctl", "newuidmap", "newgidmap"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed in the guest image (uidmap, systemd)")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
    # A range of its own, whatever useradd's defaults did.
    for f in ("/etc/subuid", "/etc/subgid"):
        with open(f, "a+") as fh:
            fh.seek(0)
            if not any(l.startswith(f"{USER}:") for l in fh):
                fh.write(f"{USER}:200000:65536\n")
    u = User(USER)
    # Lingering starts user@UID.service now, and with it the user's bus
    # (dbus-user-session's dbus.socket).
    subprocess.run(["loginctl", "enable-linger", USER], check=True)
    bus = f"{u.xdg}/bus"
    deadline = time.monotonic() + 120
    while not os.path.exists(bus):
        if time.monotonic() > deadline:
            st = subprocess.run(["systemctl", "status", f"user@{u.uid}.service"],
                                capture_output=True, text=True).stdout
            pytest.fail(f"no user bus at {bus} after enable-linger:\n{st}")
        time.sleep(0.2)
    # The manager answers on it.
    deadline = time.monotonic() + 60
    while u.systemctl("is-system-running").stdout.strip() not in ("running", "degraded"):
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    yield u
    subprocess.run(["loginctl", "disable-linger", USER])


@pytest.fixture
def bundle(user, rootfs_template, request):
    """A rootless bundle of `berth spec --rootless`, owned by the user."""
    d = os.path.join(user.home, f"b-{request.node.name[:40]}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copytree(rootfs_template, os.path.join(d, "rootfs"), symlinks=True)
    subprocess.run(["chown", "-R", f"{user.uid}:{user.gid}", d], check=True)
    user.run(BERTH, "spec", "--rootless", cwd=d, check=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def edit(bundle, args, resources):
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        c = json.load(f)
    c["process"]["terminal"] = False
    c["process"]["args"] = args
    c["linux"]["resources"] = resources
    with open(path, "w") as f:
        json.dump(c, f)


LIMITS = {"memory": {"limit": MEM}, "pids": {"limit": PIDS}}

# Inside the container (sh is its pid 1): where it is, the limits there,
# and both enforced: dd's 100 MiB buffer is OOM-killed under 64 MiB (the
# guest has no swap), and forks stop at pids.max.  The forks run in a
# subshell, which a failed fork may end; then no fork is needed to read
# pids.events, and kill -1 from pid 1 ends every sleep.
PROBE = r"""
p=$(sed -n 's/^0:://p' /proc/self/cgroup); d=/sys/fs/cgroup$p
echo "cgroup=$p"
echo "memory.max=$(cat $d/memory.max)"
echo "pids.max=$(cat $d/pids.max)"
dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null; echo "dd=$?"
echo "oom_kill=$(sed -n 's/^oom_kill //p' $d/memory.events)"
( n=0; while [ $n -lt 80 ]; do sleep 60 & n=$((n + 1)); done ) 2>/dev/null
read -r e < $d/pids.events
echo "pids.events=$e"
kill -9 -1; wait
"""


def parse(out):
    return dict(l.split("=", 1) for l in out.splitlines() if re.match(r"^[a-z_.]+=", l))


def test_run_in_a_scope_of_the_users_manager_with_limits_enforced(user, bundle):
    cid = "rl-run"
    edit(bundle, ["sh", "-c", PROBE], LIMITS)
    p = user.run(BERTH, "--systemd-cgroup", "run", "-b", bundle, cid, timeout=180)
    print(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    got = parse(p.stdout)
    scope = f"berth-{cid}.scope"
    assert got["cgroup"] == f"/user.slice/user-{user.uid}.slice/user@{user.uid}.service/user.slice/{scope}"
    assert got["memory.max"] == str(MEM)
    assert got["pids.max"] == str(PIDS)
    assert got["dd"] != "0" and int(got["oom_kill"]) >= 1, got
    assert got["pids.events"].split()[0] == "max" and int(got["pids.events"].split()[1]) >= 1, got
    # run deleted it: the user's manager has no such unit left.
    assert user.units("berth-*") == []
    assert not os.path.exists(f"{CG}{got['cgroup']}")


def test_create_update_exec_delete_through_the_users_manager(user, bundle):
    cid = "rl-life"
    scope = f"berth-{cid}.scope"
    edit(bundle, ["sleep", "300"], LIMITS)
    sd = (BERTH, "--systemd-cgroup")
    try:
        user.run(*sd, "create", "-b", bundle, cid, check=True)
        state = json.loads(user.run(BERTH, "state", cid, check=True).stdout)
        pid = state["pid"]
        path = open(f"/proc/{pid}/cgroup").read().split("::", 1)[1].strip()
        assert path.endswith(f"/user@{user.uid}.service/user.slice/{scope}")
        # systemd agrees with the kernel, and delegated the subtree to the user.
        assert user.prop(scope, "MemoryMax") == str(MEM)
        assert user.prop(scope, "TasksMax") == str(PIDS)
        assert user.prop(scope, "Delegate") == "yes"
        assert os.stat(f"{CG}{path}/memory.max").st_uid == user.uid
        user.run(*sd, "start", cid, check=True)
        # update: the file and the unit's property.
        user.run(*sd, "update", "--pids-limit", "70", cid, check=True)
        assert open(f"{CG}{path}/pids.max").read().strip() == "70"
        assert user.prop(scope, "TasksMax") == "70"
        # exec from outside the manager's subtree: the process stays where it
        # is (runc's rootless exec does the same), and exec works.
        p = user.run(*sd, "exec", cid, "echo", "hi")
        assert p.returncode == 0 and p.stdout.strip() == "hi", p.stderr
        # delete, without the flag: the state says whose unit it is.
        user.run(BERTH, "delete", "--force", cid, check=True)
        assert user.units("berth-*") == []
        assert not os.path.exists(f"{CG}{path}")
    finally:
        user.run(BERTH, "delete", "--force", cid)
        for u in user.units("berth-*"):
            user.systemctl("stop", u)
            user.systemctl("reset-failed", u)


def test_no_user_bus_is_one_line_and_leaves_nothing(user, bundle):
    """Without $XDG_RUNTIME_DIR's bus the create says where it looked."""
    cid = "rl-nobus"
    edit(bundle, ["true"], LIMITS)
    full = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--init-groups", "--",
            BERTH, "--root", f"{user.xdg}/berth", "--systemd-cgroup", "run", "-b", bundle, cid]
    env = dict(user.env(), XDG_RUNTIME_DIR="/nonexistent")
    p = subprocess.run(full, env=env, capture_output=True, text=True, timeout=60,
                       cwd=user.home, stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert "user's systemd" in p.stderr and "/nonexistent/bus" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert cid not in user.run(BERTH, "list", "-q").stdout


# ---- rootless Podman, --cgroup-manager systemd -------------------------------

@pytest.fixture(scope="module")
def podman_image(user, rootfs_template):
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed in the guest image")
    # In the user's home: root's pytest directories are closed to it.
    tar = os.path.join(user.home, "rootfs.tar")
    with tarfile.open(tar, "w") as t:
        t.add(rootfs_template, arcname=".")
    os.chown(tar, user.uid, user.gid)
    user.run("podman", "--storage-driver", "vfs", "import", tar, "localhost/berth-busybox",
             timeout=300, check=True)
    os.unlink(tar)
    return "localhost/berth-busybox"


@pytest.mark.parametrize("runtime", ["berth", "runc"])
def test_rootless_podman_with_systemd_cgroup_manager(user, podman_image, runtime):
    # guest.sh's copy for Podman (as the systemd driver's Podman test): its
    # checkout under /root is not Podman's to stat from the user's namespace.
    binary = "/usr/local/sbin/berth" if runtime == "berth" else RUNC
    if runtime == "runc" and not os.path.exists(RUNC):
        pytest.skip("runc is not installed in the guest image (Debian's runc package)")
    base = ["podman", "--storage-driver", "vfs", "--runtime", binary,
            "--cgroup-manager", "systemd", "--events-backend", "file"]
    p = user.run(*base, "run", "--rm", "--network", "none", "--memory", "64m",
                 "--pids-limit", str(PIDS), podman_image,
                 "cat", "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/pids.max", timeout=300)
    print(runtime, p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [str(MEM), str(PIDS)]
    # Where the scope is: the user's manager's, seen from outside.
    p = user.run(*base, "run", "-d", "--network", "none", "--memory", "64m",
                 "--pids-limit", str(PIDS), podman_image, "sleep", "300", timeout=300)
    assert p.returncode == 0, p.stderr
    cid = p.stdout.strip()
    try:
        info = json.loads(user.run(*base, "inspect", cid, check=True).stdout)[0]
        pid = info["State"]["Pid"]
        path = open(f"/proc/{pid}/cgroup").read().split("::", 1)[1].strip()
        print(runtime, path)
        assert f"/user@{user.uid}.service/" in path and path.endswith(".scope"), path
        assert open(f"{CG}{path}/memory.max").read().strip() == str(MEM)
        assert open(f"{CG}{path}/pids.max").read().strip() == str(PIDS)
    finally:
        user.run(*base, "rm", "--force", cid, timeout=120)
    assert user.units(f"libpod-{cid}*.scope") == []


# ---- root in a user namespace: runc's auto rule -----------------------------

def test_root_in_a_user_namespace_without_a_user_bus_keeps_the_system_manager(
        rootfs_template, tmp_path):
    """Root in a user namespace counts as rootless, but with no user bus (or
    one whose owner is root) the unit is the system manager's, as runc's
    --rootless auto decides with --systemd-cgroup."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare")
    cid = "rl-root-userns"
    d = tmp_path / "b"
    shutil.copytree(rootfs_template, d / "rootfs", symlinks=True)
    subprocess.run([BERTH, "spec"], cwd=d, check=True)
    with open(d / "config.json") as f:
        c = json.load(f)
    c["process"]["terminal"] = False
    c["process"]["args"] = ["sleep", "300"]
    c["linux"]["resources"] = LIMITS
    # Only root is mapped: devpts cannot take gid=5 there.
    for m in c["mounts"]:
        m["options"] = [o for o in m.get("options", []) if o != "gid=5"]
    with open(d / "config.json", "w") as f:
        json.dump(c, f)
    env = {k: v for k, v in os.environ.items()
           if k not in ("XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS")}
    root = str(tmp_path / "state")

    def in_userns(*args, check=True):
        # Output to files: the created init keeps what it inherits open.
        p = run_via_files(["unshare", "--user", "--map-root-user", BERTH, "--root", root,
                           "--systemd-cgroup", *args], env=env, timeout=120,
                          stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"berth {' '.join(args)}: {p.returncode}: {p.stderr}")
        return p

    try:
        in_userns("create", "-b", str(d), cid)
        pid = json.loads(in_userns("state", cid).stdout)["pid"]
        path = open(f"/proc/{pid}/cgroup").read().split("::", 1)[1].strip()
        print(path)
        assert path == f"/system.slice/berth-{cid}.scope"
        assert open(f"{CG}{path}/memory.max").read().strip() == str(MEM)
        assert open(f"{CG}{path}/pids.max").read().strip() == str(PIDS)
        in_userns("delete", "--force", cid)
        assert not os.path.exists(f"{CG}{path}")
    finally:
        in_userns("delete", "--force", cid, check=False)
        subprocess.run(["systemctl", "stop", f"berth-{cid}.scope"], capture_output=True)
        subprocess.run(["systemctl", "reset-failed", f"berth-{cid}.scope"], capture_output=True)
