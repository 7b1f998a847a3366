"""The systemd cgroup driver (--systemd-cgroup), and Podman driving berth with
--cgroup-manager systemd.  Run only in the VM tier's guest (tests/vm/run.sh),
where systemd is PID 1 on a pure cgroup v2 hierarchy, or on its v1 (hybrid)
layout with BERTH_VM_CGROUP=hybrid: each test is marked for the one it
needs.  guest.sh copies this file next to the integration tier's
conftest.py and uses its fixtures.

What systemd says (systemctl) and what the kernel has (cgroup files) must
agree, and a container must leave no unit behind, failed or not."""
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

import pytest

SD = ("--systemd-cgroup",)
CG = "/sys/fs/cgroup"

V2 = os.path.exists(f"{CG}/cgroup.controllers")
pytestmark = pytest.mark.skipif(not os.path.isdir("/run/systemd/system"),
                                reason="needs systemd as PID 1 (the VM tier)")
v2_only = pytest.mark.skipif(not V2, reason="a cgroup v2 host")
v1_only = pytest.mark.skipif(V2, reason="a v1 or hybrid host (BERTH_VM_CGROUP=hybrid)")


def systemctl(*args):
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=60)


def prop(unit, name):
    return systemctl("show", "-P", name, unit).stdout.strip()


def unit_loaded(unit):
    """Whether systemd knows the unit at all (active, failed, or anything but
    not-found)."""
    return prop(unit, "LoadState") not in ("not-found", "")


def read(path):
    with open(path) as f:
        return f.read().strip()


def cgroup_of(pid):
    return read(f"/proc/{pid}/cgroup").split("::", 1)[1]


def sd_create(berth, bundle, cid, check=True):
    return berth.cmd("create", "-b", bundle.path, cid, globals_=SD, check=check)


def sd_delete(berth, cid):
    return berth.cmd("delete", "--force", cid, globals_=SD, check=True)


@pytest.fixture
def unit(cid):
    """The default unit of the container `cid`; stopped at teardown if a
    test failed half-way, and checked gone."""
    name = f"berth-{cid}.scope"
    yield name
    left = unit_loaded(name)
    if left:
        systemctl("stop", name)
        systemctl("reset-failed", name)
    assert not left, f"unit {name} left behind: {prop(name, 'ActiveState')}"


@v2_only
def test_scope_has_the_init_and_systemd_agrees_with_the_kernel(berth, bundle, cid, unit):
    bundle.args("sleep", "100")
    bundle.config["linux"]["resources"] = {
        "memory": {"limit": 64 << 20, "reservation": 16 << 20},
        "pids": {"limit": 50},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
    }
    bundle.write()
    sd_create(berth, bundle, cid)
    pid = berth.state(cid)["pid"]
    # The init is in the scope from before it runs the container's code.
    assert cgroup_of(pid) == f"/system.slice/{unit}"
    st = systemctl("status", "--no-pager", unit)
    assert st.returncode == 0, st.stdout + st.stderr
    assert f"berth container {cid}" in st.stdout
    d = f"{CG}/system.slice/{unit}"
    assert prop(unit, "Delegate") == "yes"
    assert prop(unit, "MemoryMax") == read(f"{d}/memory.max") == str(64 << 20)
    assert prop(unit, "MemoryLow") == read(f"{d}/memory.low") == str(16 << 20)
    assert prop(unit, "TasksMax") == read(f"{d}/pids.max") == "50"
    assert prop(unit, "CPUWeight") == read(f"{d}/cpu.weight") == "20"
    assert read(f"{d}/cpu.max") == "50000 100000"
    assert prop(unit, "CPUQuotaPerSecUSec") == "500ms"
    assert prop(unit, "AllowedCPUs") == read(f"{d}/cpuset.cpus") == "0"
    berth.cmd("start", cid, globals_=SD, check=True)
    assert prop(unit, "ActiveState") == "active"
    sd_delete(berth, cid)
    # delete stops the unit and systemd forgets it.
    st = systemctl("status", "--no-pager", unit)
    assert st.returncode == 4 and "could not be found" in st.stderr, st.stderr
    assert not os.path.exists(d)


@v2_only
def test_cgroups_path_slice_prefix_name(berth, bundle, cid):
    unit = f"bertht-{cid}.scope"
    bundle.args("sleep", "100")
    bundle.config["linux"]["cgroupsPath"] = f"machine.slice:bertht:{cid}"
    bundle.write()
    try:
        sd_create(berth, bundle, cid)
        assert prop(unit, "ControlGroup") == f"/machine.slice/{unit}"
        assert prop(unit, "Slice") == "machine.slice"
        assert cgroup_of(berth.state(cid)["pid"]) == f"/machine.slice/{unit}"
        sd_delete(berth, cid)
        assert not unit_loaded(unit)
    finally:
        systemctl("stop", unit)


@v2_only
def test_slice_unit_name(berth, bundle, cid):
    slice_ = "berthtestslice.slice"
    bundle.args("sleep", "100")
    bundle.config["linux"]["cgroupsPath"] = f":ignored:{slice_}"
    bundle.write()
    try:
        sd_create(berth, bundle, cid)
        pid = berth.state(cid)["pid"]
        assert cgroup_of(pid) == f"/{slice_}"
        assert prop(slice_, "ActiveState") == "active"
        sd_delete(berth, cid)
        assert not unit_loaded(slice_) or prop(slice_, "ActiveState") == "inactive"
        assert not os.path.exists(f"{CG}/{slice_}")
    finally:
        systemctl("stop", slice_)


@v2_only
@pytest.mark.parametrize("path", ["system.slice:berth", "a:b:c:d", "/system.slice/x",
                                  "nota-slice:p:n", "system.slice:p:"])
def test_bad_cgroups_path_is_refused(berth, bundle, cid, path):
    bundle.config["linux"]["cgroupsPath"] = path
    bundle.write()
    p = sd_create(berth, bundle, cid, check=False)
    assert p.returncode == 1
    assert ".linux.cgroupsPath" in p.stderr, p.stderr
    assert berth.ids() == []


@v2_only
def test_failed_create_leaves_no_unit_and_the_id_can_be_reused(berth, bundle, cid, unit):
    bundle.args("sleep", "100")
    # systemd starts the unit; the cgroup file write that follows fails.
    bundle.config["linux"]["resources"] = {"unified": {"memory.no_such_file": "1"}}
    bundle.write()
    p = sd_create(berth, bundle, cid, check=False)
    assert p.returncode == 1 and "memory.no_such_file" in p.stderr, p.stderr
    assert not unit_loaded(unit), prop(unit, "ActiveState")
    assert berth.ids() == []
    # The same id, right away.
    bundle.config["linux"]["resources"] = {"memory": {"limit": 32 << 20}}
    bundle.write()
    sd_create(berth, bundle, cid)
    assert prop(unit, "MemoryMax") == str(32 << 20)
    sd_delete(berth, cid)


@v2_only
def test_a_failed_leftover_unit_is_reset_and_replaced(berth, bundle, cid, unit):
    # A scope of that name that failed (its process killed by the OOM killer,
    # say) stays loaded until someone resets it: make one by hand.
    p = subprocess.run(["systemd-run", "--scope", f"--unit={unit}", "-p", "MemoryMax=8M",
                        "-p", "MemorySwapMax=0", "sh", "-c", "x=$(head -c 64M /dev/zero | tr '\\0' x); echo ${#x}"],
                       capture_output=True, text=True, timeout=60)
    if prop(unit, "ActiveState") != "failed":
        pytest.skip(f"could not make a failed scope here ({prop(unit, 'ActiveState')}: {p.stderr})")
    bundle.args("sleep", "100").write()
    sd_create(berth, bundle, cid)
    assert prop(unit, "ActiveState") == "active"
    sd_delete(berth, cid)


@v2_only
def test_a_live_unit_of_the_same_name_is_not_taken_over(berth, bundle, cid, unit):
    other = subprocess.Popen(["systemd-run", "--scope", f"--unit={unit}", "sleep", "100"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if prop(unit, "ActiveState") == "active":
                break
            time.sleep(0.05)
        bundle.args("sleep", "100").write()
        p = sd_create(berth, bundle, cid, check=False)
        assert p.returncode == 1 and unit in p.stderr and "exists" in p.stderr, p.stderr
        assert berth.ids() == []
        assert prop(unit, "ActiveState") == "active"  # still the other one's
    finally:
        other.kill()
        other.wait()
        systemctl("stop", unit)


@v2_only
def test_exited_container_is_deleted_cleanly(berth, bundle, cid, unit):
    bundle.args("true").write()
    sd_create(berth, bundle, cid)
    berth.cmd("start", cid, globals_=SD, check=True)
    berth.wait_stopped(cid)
    # systemd stops an empty scope by itself; delete must cope either way.
    berth.cmd("delete", cid, globals_=SD, check=True)
    assert not unit_loaded(unit)


@v2_only
def test_delete_without_the_flag_still_stops_the_unit(berth, bundle, cid, unit):
    # The driver is recorded with the container: a later command that is
    # not given --systemd-cgroup must not leave the scope to systemd.
    bundle.args("sleep", "100").write()
    sd_create(berth, bundle, cid)
    berth.cmd("start", cid, check=True)
    assert prop(unit, "ActiveState") == "active"
    berth.cmd("delete", "--force", cid, check=True)
    assert not unit_loaded(unit), prop(unit, "ActiveState")


@v2_only
def test_update_sets_unit_properties(berth, bundle, cid, unit):
    bundle.args("sleep", "100")
    bundle.config["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 20}}
    bundle.write()
    sd_create(berth, bundle, cid)
    p = berth.cmd("update", "--memory", str(128 << 20), "--pids-limit", "30", cid, globals_=SD)
    if p.returncode != 0 and "not implemented" in p.stderr:
        sd_delete(berth, cid)
        pytest.skip("berth update is not implemented in this build")
    assert p.returncode == 0, p.stderr
    d = f"{CG}/system.slice/{unit}"
    assert prop(unit, "MemoryMax") == read(f"{d}/memory.max") == str(128 << 20)
    assert prop(unit, "TasksMax") == read(f"{d}/pids.max") == "30"
    sd_delete(berth, cid)


@v2_only
def test_pause_resume_and_kill_all_work_on_the_scope(berth, bundle, cid, unit):
    bundle.sh("sleep 100 & sleep 100 & wait").write()
    sd_create(berth, bundle, cid)
    berth.cmd("start", cid, globals_=SD, check=True)
    p = berth.cmd("pause", cid, globals_=SD)
    if p.returncode == 0:
        assert berth.state(cid)["status"] == "paused"
        assert "frozen 1" in read(f"{CG}/system.slice/{unit}/cgroup.events")
        berth.cmd("resume", cid, globals_=SD, check=True)
    berth.cmd("kill", "--all", cid, "KILL", globals_=SD, check=True)
    berth.wait_stopped(cid)
    sd_delete(berth, cid)


# ---- Podman with --cgroup-manager systemd and berth as its runtime ----------

@pytest.fixture
def podman(tmp_path, rootfs_template):
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed in the guest image")
    # Podman refuses a runroot path longer than 50 characters.
    runroot = tempfile.mkdtemp(prefix="berth-pm-", dir="/run")
    base = [
        "podman", "--root", str(tmp_path / "storage"), "--runroot", runroot,
        "--runtime", "/usr/local/sbin/berth", "--cgroup-manager", "systemd",
        "--events-backend", "file", "--storage-driver", "overlay",
    ]
    tar = tmp_path / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        t.add(rootfs_template, arcname=".")

    def run(*args, check=True, timeout=180):
        p = subprocess.run(base + list(args), capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {p.returncode}: {p.stderr}")
        return p

    run("import", str(tar), "localhost/berth-busybox")
    yield run
    run("rm", "--all", "--force", check=False)
    shutil.rmtree(runroot, ignore_errors=True)


@v2_only
def test_podman_run_with_systemd_cgroup_manager(podman):
    p = podman("run", "--rm", "--network", "none", "localhost/berth-busybox",
               "sh", "-c", "echo hello from $(hostname)")
    assert "hello from" in p.stdout
    cid = podman("run", "-d", "--network", "none", "localhost/berth-busybox",
                 "sleep", "100").stdout.strip()
    unit = f"libpod-{cid}.scope"
    info = json.loads(podman("inspect", cid).stdout)[0]
    pid = info["State"]["Pid"]
    assert cgroup_of(pid) == f"/machine.slice/{unit}"
    assert prop(unit, "ActiveState") == "active"
    podman("rm", "--force", cid)
    for _ in range(100):
        if not unit_loaded(unit):
            break
        time.sleep(0.05)
    assert not unit_loaded(unit)


# ---- v1 (hybrid) hosts: systemd puts the init in its unit in the hierarchies
# it manages; berth makes and joins the same path in the others, and writes
# the limits there.

def cgroups_of(pid):
    """{hierarchy: path} from /proc/PID/cgroup ("" is the v2 line)."""
    out = {}
    for line in read(f"/proc/{pid}/cgroup").splitlines():
        _, ctrls, path = line.split(":", 2)
        out[ctrls] = path
    return out


@v1_only
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
    berth.wait_stopped(cid)
    berth.cmd("delete", cid, check=True)  # the record says systemd: no flag needed
    assert not unit_loaded(unit)
    for ctrls in seen:
        top = os.path.join(CG, ctrls.replace("name=", "")) if ctrls else f"{CG}/unified"
        assert not os.path.exists(top + where), top + where


@v1_only
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


@v1_only
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
