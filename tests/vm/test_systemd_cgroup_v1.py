"""berth's systemd cgroup driver on a v1 (hybrid) host: the VM tier booted
with BERTH_VM_CGROUP=hybrid (systemd.unified_cgroup_hierarchy=0).  systemd
puts the container's init in its unit in the hierarchies it manages; berth
makes and joins the same path in the others, and writes the limits there."""
import os
import subprocess
import time

import pytest

SD = ("--systemd-cgroup",)
CG = "/sys/fs/cgroup"

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/run/systemd/system") or os.path.exists(f"{CG}/cgroup.controllers"),
    reason="needs systemd as PID 1 on a cgroup v1 or hybrid host (BERTH_VM_CGROUP=hybrid)")


def systemctl(*args):
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=60)


def prop(unit, name):
    return systemctl("show", "-P", name, unit).stdout.strip()


def unit_loaded(unit):
    return prop(unit, "LoadState") not in ("not-found", "")


def read(path):
    with open(path) as f:
        return f.read().strip()


def cgroups_of(pid):
    """{hierarchy: path} from /proc/PID/cgroup ("" is the v2 line)."""
    out = {}
    for line in read(f"/proc/{pid}/cgroup").splitlines():
        _, ctrls, path = line.split(":", 2)
        out[ctrls] = path
    return out


@pytest.fixture
def unit(cid):
    name = f"berth-{cid}.scope"
    yield name
    left = unit_loaded(name)
    if left:
        systemctl("stop", name)
        systemctl("reset-failed", name)
    assert not left, f"unit {name} left behind: {prop(name, 'ActiveState')}"


def test_scope_spans_every_v1_hierarchy(berth, bundle, cid, unit):
    bundle.args("sleep", "100")
    bundle.config["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 50}}
    bundle.write()
    berth.cmd("create", "-b", bundle.path, cid, globals_=SD, check=True)
    pid = berth.state(cid)["pid"]
    where = f"/system.slice/{unit}"
    seen = cgroups_of(pid)
    # systemd's own hierarchy, and every mounted controller's, name the unit.
    assert seen["name=systemd"] == where, seen
    for ctrls, path in seen.items():
        top = os.path.join(CG, ctrls.replace("name=", "")) if ctrls else f"{CG}/unified"
        if os.path.isdir(top):
            assert path == where, (ctrls, seen)
    st = systemctl("status", "--no-pager", unit)
    assert st.returncode == 0 and f"berth container {cid}" in st.stdout, st.stdout + st.stderr
    assert prop(unit, "Delegate") == "yes"
    assert read(f"{CG}/memory{where}/memory.limit_in_bytes") == str(64 << 20)
    assert prop(unit, "MemoryMax") == str(64 << 20)
    assert read(f"{CG}/pids{where}/pids.max") == "50" == prop(unit, "TasksMax")
    berth.cmd("start", cid, globals_=SD, check=True)
    p = berth.cmd("update", "--memory", str(128 << 20), cid, globals_=SD)
    assert p.returncode == 0, p.stderr
    assert read(f"{CG}/memory{where}/memory.limit_in_bytes") == str(128 << 20)
    assert prop(unit, "MemoryMax") == str(128 << 20)
    berth.cmd("kill", "--all", cid, "KILL", globals_=SD, check=True)
    for _ in range(100):
        if berth.state(cid)["status"] == "stopped":
            break
        time.sleep(0.05)
    berth.cmd("delete", cid, check=True)  # the record says systemd: no flag needed
    assert not unit_loaded(unit)
    for ctrls in seen:
        top = os.path.join(CG, ctrls.replace("name=", "")) if ctrls else f"{CG}/unified"
        assert not os.path.exists(top + where), top + where


def test_failed_create_leaves_nothing_and_the_id_is_reused(berth, bundle, cid, unit):
    bundle.args("sleep", "100")
    # systemd starts the unit, berth makes the v1 directories, and then a
    # file write fails: all of it must be undone.
    bundle.config["linux"]["resources"] = {"unified": {"memory.no_such_file": "1"}}
    bundle.write()
    p = berth.cmd("create", "-b", bundle.path, cid, globals_=SD)
    assert p.returncode == 1 and "memory.no_such_file" in p.stderr, p.stderr
    assert not unit_loaded(unit) and berth.ids() == []
    assert not any(os.path.exists(os.path.join(CG, h, "system.slice", unit))
                   for h in os.listdir(CG))
    bundle.config["linux"]["resources"] = {"memory": {"limit": 32 << 20}}
    bundle.write()
    berth.cmd("create", "-b", bundle.path, cid, globals_=SD, check=True)
    assert prop(unit, "MemoryMax") == str(32 << 20)
    berth.cmd("delete", "--force", cid, globals_=SD, check=True)


def test_cgroup_mount_shows_the_units_directories(berth, bundle, cid, unit):
    # The init is cloned before systemd places it, so it finds its
    # directories itself (in the host's /proc, before its namespaces hide
    # them); the container's /sys/fs/cgroup then binds the unit's.
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    bundle.config["linux"]["resources"] = {"pids": {"limit": 77}}
    bundle.sh("cat /sys/fs/cgroup/pids/pids.max; cat /proc/self/cgroup | grep -c :/$")
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid, globals_=SD)
    assert p.returncode == 0, p.stderr
    out = p.stdout.split()
    assert out[0] == "77", p.stdout
    assert int(out[1]) >= 2, p.stdout  # rooted at the unit in its cgroup namespace
    assert berth.ids() == []  # run deleted it, and the unit fixture checks systemd
