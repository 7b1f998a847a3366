"""linux.resources, update, pause/resume, ps and events on real containers.

Limits are checked twice: in the container's cgroup files, found from the
host through /proc/<init>/cgroup, and by their effect inside the container.
Every test runs unchanged on v1, hybrid and pure v2 hosts: the file names
follow the hierarchy that holds each controller, and a feature the host
lacks is checked for its clear error instead.
"""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import BERTH, SYSTEMD_DRIVER, Bundle, _cgroup_dirs_named
from test_faults import held_at, needs_hooks

pytestmark = pytest.mark.cgroup

MiB = 1024 * 1024


# ---- where the cgroup files are ------------------------------------------------

def _fstype(path):
    p = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return p.stdout.strip()


V2 = _fstype("/sys/fs/cgroup") == "cgroup2fs"
UNIFIED = None if V2 else "/sys/fs/cgroup/unified"
if UNIFIED and not (os.path.isdir(UNIFIED) and _fstype(UNIFIED) == "cgroup2fs"):
    UNIFIED = None
V2_NAME = {"blkio": "io"}


def _v1_mounts():
    """controller -> (mount point, mount root), from mountinfo."""
    found = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, post = line.rstrip("\n").split(" - ", 1)
            fields, (fstype, _src, opts) = pre.split(), post.split()[:3]
            if fstype == "cgroup" and fields[4].startswith("/sys/fs/cgroup"):
                for o in opts.split(","):
                    found[o] = (fields[4], fields[3])
    return found


def _cgroup_lines(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        return [l.rstrip("\n").split(":", 2) for l in f if l.strip()]


def ctl_dir(pid, ctrl):
    """(directory, is_v2) holding `ctrl` (v1 name) for process `pid`, or
    (None, None) when the host has the controller nowhere."""
    lines = _cgroup_lines(pid)
    unified_path = next((p for _, c, p in lines if c == ""), None)
    if V2:
        return "/sys/fs/cgroup" + unified_path.rstrip("/"), True
    mounts = _v1_mounts()
    for _, ctrls, path in lines:
        if ctrl in ctrls.split(",") and ctrl in mounts:
            point, root = mounts[ctrl]
            rel = path[len(root):] if root != "/" and path.startswith(root) else path
            return point + rel.rstrip("/"), False
    if UNIFIED and unified_path is not None:
        d = UNIFIED + unified_path.rstrip("/")
        with open(os.path.join(d, "cgroup.controllers")) as f:
            if V2_NAME.get(ctrl, ctrl) in f.read().split():
                return d, True
    return None, None


def read(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


def available(ctrl):
    """Whether a container made by this test process gets `ctrl` (v1 name):
    on v2, whether the parent it nests in can delegate it."""
    if not V2:
        return ctl_dir(os.getpid(), ctrl)[0] is not None
    own = next(p for _, c, p in _cgroup_lines(os.getpid()) if c == "")
    parent = "/sys/fs/cgroup" + os.path.dirname(own.rstrip("/"))
    return V2_NAME.get(ctrl, ctrl) in read(parent, "cgroup.controllers").split()


# ---- containers ---------------------------------------------------------------------

def resources(bundle):
    return bundle.config.setdefault("linux", {}).setdefault("resources", {})


def start(berth, bundle, cid, *args):
    bundle.args(*(args or ("sleep", "100"))).write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    return berth.state(cid)["pid"]


def create_fails(berth, bundle, cid, *needles):
    """create must fail, say every needle, and leave nothing behind."""
    bundle.write()
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1, p.stderr
    for n in needles:
        assert n in p.stderr, p.stderr
    assert berth.ids() == []
    return p.stderr


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---- memory -----------------------------------------------------------------------

def test_memory_limits_in_cgroup_files(berth, bundle, cid):
    own, _ = ctl_dir(os.getpid(), "memory")
    swap = V2 or os.path.exists(os.path.join(own or "", "memory.memsw.limit_in_bytes"))
    resources(bundle)["memory"] = {"limit": 64 * MiB, "reservation": 32 * MiB,
                                   **({"swap": 128 * MiB} if swap else {})}
    pid = start(berth, bundle, cid)
    d, v2 = ctl_dir(pid, "memory")
    if v2:
        assert read(d, "memory.max") == str(64 * MiB)
        assert read(d, "memory.low") == str(32 * MiB)
        if os.path.exists(os.path.join(d, "memory.swap.max")):
            assert read(d, "memory.swap.max") == str(64 * MiB)  # swap - limit, as runc
    else:
        assert read(d, "memory.limit_in_bytes") == str(64 * MiB)
        assert read(d, "memory.soft_limit_in_bytes") == str(32 * MiB)
        if swap:
            assert read(d, "memory.memsw.limit_in_bytes") == str(128 * MiB)
    berth.cmd("delete", "-f", cid, check=True)


def test_memory_v1_only_knobs(berth, bundle, cid):
    resources(bundle)["memory"] = {"limit": 64 * MiB, "swappiness": 10,
                                   "disableOOMKiller": True}
    if V2 or ctl_dir(os.getpid(), "memory")[1]:
        create_fails(berth, bundle, cid,
                     "config.json: .linux.resources.memory.disableOOMKiller: ",
                     "cannot disable the OOM killer")
        return
    pid = start(berth, bundle, cid)
    d, _ = ctl_dir(pid, "memory")
    assert read(d, "memory.swappiness") == "10"
    assert "oom_kill_disable 1" in read(d, "memory.oom_control")
    berth.cmd("delete", "-f", cid, check=True)


def test_kernel_tcp_memory_applied_or_clear_error(berth, bundle, cid):
    resources(bundle)["memory"] = {"kernelTCP": 16 * MiB}
    own, v2 = ctl_dir(os.getpid(), "memory")
    if V2 or v2:
        create_fails(berth, bundle, cid, ".linux.resources.memory.kernelTCP: ",
                     "cgroup v2 has no kernel memory limit")
        return
    if not os.path.exists(os.path.join(own, "memory.kmem.tcp.limit_in_bytes")):
        create_fails(berth, bundle, cid, ".linux.resources.memory.kernelTCP: ",
                     "memory.kmem.tcp.limit_in_bytes does not exist on this host")
        return
    pid = start(berth, bundle, cid)
    d, _ = ctl_dir(pid, "memory")
    assert read(d, "memory.kmem.tcp.limit_in_bytes") == str(16 * MiB)
    berth.cmd("delete", "-f", cid, check=True)


def test_tiny_memory_limit_and_single_pid_run_true(berth, bundle, cid):
    resources(bundle).update({"memory": {"limit": 524288}, "pids": {"limit": 1}})
    bundle.args("/bin/true").write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr


def test_memory_hog_is_oom_killed_and_events_reports_it(berth, bundle, cid, tmp_path):
    limit = 32 * MiB
    own, _ = ctl_dir(os.getpid(), "memory")
    swap = V2 or os.path.exists(os.path.join(own or "", "memory.memsw.limit_in_bytes"))
    resources(bundle)["memory"] = {"limit": limit, **({"swap": limit} if swap else {})}
    # The hog waits for the test's go-ahead, so that events is listening.
    go = os.path.join(bundle.rootfs, "tmp", "go")
    start(berth, bundle, cid, "sh", "-c",
          "while [ ! -e /tmp/go ]; do sleep 0.05; done; tail /dev/zero; "
          "echo survived > /tmp/hog-done; sleep 100")
    out = tmp_path / "events.out"
    with open(out, "w") as f:
        ev = subprocess.Popen([berth.binary, "--root", berth.root, "events", "--interval",
                               "100ms", cid], stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: '"type":"stats"' in out.read_text(), what="a first stats event")
        open(go, "w").close()
        events = wait_for(lambda: [json.loads(l) for l in out.read_text().splitlines()
                                   if '"oom"' in l], timeout=30, what="an oom event")
        assert events[0] == {"type": "oom", "id": cid}
        # The hog died, the container's shell goes on.
        wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "tmp", "hog-done")),
                 what="the shell after the hog")
        assert berth.state(cid)["status"] == "running"
        # The stream ends with the container.
        berth.cmd("kill", cid, "KILL", check=True)
        assert ev.wait(timeout=10) == 0, out.read_text()
    finally:
        if ev.poll() is None:
            ev.kill()
            ev.wait()
    berth.cmd("delete", "-f", cid, check=True)


# ---- cpu -----------------------------------------------------------------------------

def test_cpu_limits_in_cgroup_files(berth, bundle, cid):
    resources(bundle)["cpu"] = {"shares": 512, "quota": 50000, "period": 100000,
                                "cpus": "0", "mems": "0"}
    pid = start(berth, bundle, cid)
    d, v2 = ctl_dir(pid, "cpu")
    if v2:
        assert read(d, "cpu.weight") == str(1 + (512 - 2) * 9999 // 262142)
        assert read(d, "cpu.max") == "50000 100000"
    else:
        assert read(d, "cpu.shares") == "512"
        assert read(d, "cpu.cfs_quota_us") == "50000"
        assert read(d, "cpu.cfs_period_us") == "100000"
    cs, _ = ctl_dir(pid, "cpuset")
    assert read(cs, "cpuset.cpus") == "0"
    assert read(cs, "cpuset.mems") == "0"
    # Effective: the container's processes may run on CPU 0 only.
    p = berth.cmd("exec", cid, "sh", "-c", "grep Cpus_allowed_list /proc/self/status")
    assert p.stdout.split() == ["Cpus_allowed_list:", "0"], p.stdout + p.stderr
    berth.cmd("delete", "-f", cid, check=True)


@pytest.mark.skipif(V2 or SYSTEMD_DRIVER, reason="v1 cpusets made by berth")
@pytest.mark.parametrize("parent_balances,mid_made_unbalanced",
                         [(True, False), (False, False), (False, True)],
                         ids=["balanced", "unbalanced-parent", "unbalanced-empty-mid"])
def test_v1_cpuset_inherits_cpus_and_skips_the_domain_rebuild(berth, bundle, cid,
                                                              parent_balances,
                                                              mid_made_unbalanced):
    """A new v1 cpuset gets its CPUs and memory nodes from the nearest
    ancestor that has them.  Under a parent whose CPUs are load-balanced,
    berth clears cpuset.sched_load_balance of each cpuset whose CPUs it
    fills, before it writes cpuset.cpus (which would otherwise rebuild every
    scheduler domain); under a parent that does not balance, that cpuset
    keeps its flag, so the container forms a domain of its own when nothing
    above balances, even below an empty cpuset someone else made with the
    flag cleared."""
    own, _ = ctl_dir(os.getpid(), "cpuset")
    if own is None:
        pytest.skip("no cpuset hierarchy")
    parent = os.path.join(own, f"lb-{cid}")
    os.mkdir(parent)
    try:
        for name in ("cpuset.cpus", "cpuset.mems"):
            with open(os.path.join(parent, name), "w") as f:
                f.write(read(own, name))
        with open(os.path.join(parent, "cpuset.sched_load_balance"), "w") as f:
            f.write("1" if parent_balances else "0")
        if mid_made_unbalanced:  # empty CPUs, flag 0: not berth's
            os.mkdir(os.path.join(parent, "mid"))
            with open(os.path.join(parent, "mid", "cpuset.sched_load_balance"), "w") as f:
                f.write("0")
        bundle.config["linux"]["cgroupsPath"] = f"lb-{cid}/mid/{cid}"
        pid = start(berth, bundle, cid)
        cs, _ = ctl_dir(pid, "cpuset")
        assert cs == os.path.join(parent, "mid", cid)
        for d in (os.path.dirname(cs), cs):  # both made by berth
            assert read(d, "cpuset.cpus") == read(own, "cpuset.cpus")
            assert read(d, "cpuset.mems") == read(own, "cpuset.mems")
        mid_balances = not parent_balances and not mid_made_unbalanced
        assert read(os.path.dirname(cs), "cpuset.sched_load_balance") == \
            ("1" if mid_balances else "0")
        # Cleared below a "mid" that balances or is balanced from above.
        assert read(cs, "cpuset.sched_load_balance") == \
            ("0" if parent_balances or mid_balances else "1")
        p = berth.cmd("exec", cid, "sh", "-c", "grep Cpus_allowed_list /proc/self/status")
        assert p.stdout.split()[1:] == [read(own, "cpuset.effective_cpus")], p.stdout + p.stderr
    finally:
        berth.cmd("delete", "-f", cid)
        # Parents stay after delete, as with runc (test_delete_leaves_the_parent_cgroup).
        for d in _cgroup_dirs_named(f"lb-{cid}"):
            if os.path.isdir(os.path.join(d, "mid")):
                os.rmdir(os.path.join(d, "mid"))
            os.rmdir(d)


def test_realtime_cpu_on_v2_is_a_clear_error(berth, bundle, cid):
    if not V2:
        pytest.skip("realtime limits exist on v1 (cpu.rt_runtime_us)")
    resources(bundle)["cpu"] = {"realtimeRuntime": 1000, "realtimePeriod": 100000}
    create_fails(berth, bundle, cid, ".linux.resources.cpu.realtimeRuntime: ",
                 "cgroup v2 has no realtime")


# ---- pids -----------------------------------------------------------------------------

def test_fork_bomb_stops_at_pids_limit(berth, bundle, cid):
    resources(bundle)["pids"] = {"limit": 10}
    pid = start(berth, bundle, cid)
    d, _ = ctl_dir(pid, "pids")
    assert read(d, "pids.max") == "10"
    # The bomb's shell gives up at the first refused fork; its children stay.
    p = berth.cmd("exec", cid, "sh", "-c", "while :; do sleep 100 & done")
    assert p.returncode != 0 and "can't fork" in p.stderr, p.stderr
    assert int(read(d, "pids.current")) == 9  # the limit, less the bomb's shell
    p = berth.cmd("ps", "--format", "json", cid, check=True)
    assert len(json.loads(p.stdout)) == 9
    assert int(read(d, "pids.events").split()[1]) > 0  # "max N": forks refused
    berth.cmd("delete", "-f", cid, check=True)


# ---- block I/O, hugetlb, network, rdma, unified --------------------------------------

def _first_block_device():
    for name in sorted(os.listdir("/sys/block")):
        with open(f"/sys/block/{name}/dev") as f:
            major, minor = f.read().strip().split(":")
        if not name.startswith(("loop", "ram", "zram")):
            return int(major), int(minor)
    return None


def test_blkio_throttle_and_weight(berth, bundle, cid):
    dev = _first_block_device()
    if dev is None or not available("blkio"):
        pytest.skip("no block device or no blkio/io controller here")
    major, minor = dev
    io = {"throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": MiB}]}
    resources(bundle)["blockIO"] = io
    pid = start(berth, bundle, cid)
    d, v2 = ctl_dir(pid, "blkio")
    if v2:
        assert f"{major}:{minor} rbps={MiB} " in read(d, "io.max") + " "
    else:
        assert f"{major}:{minor} {MiB}" in read(d, "blkio.throttle.read_bps_device")
    berth.cmd("delete", "-f", cid, check=True)

    # Weight: wherever the host has a weight file (CFQ's or BFQ's), else a
    # clear error.
    io["weight"] = 300
    bundle.write()
    p = berth.cmd("run", "-d", "-b", bundle.path, cid)
    if p.returncode != 0:
        assert "config.json: .linux.resources.blockIO.weight: " in p.stderr, p.stderr
        assert "does not exist on this host" in p.stderr, p.stderr
        assert berth.ids() == []
        return
    d, v2 = ctl_dir(berth.state(cid)["pid"], "blkio")
    if not v2:
        name = "blkio.weight" if os.path.exists(d + "/blkio.weight") else "blkio.bfq.weight"
        assert "300" in read(d, name).split()
    elif os.path.exists(d + "/io.bfq.weight"):
        assert "300" in read(d, "io.bfq.weight").split()
    else:
        assert str(1 + (300 - 10) * 9999 // 990) in read(d, "io.weight").split()
    berth.cmd("delete", "-f", cid, check=True)


def test_blkio_leaf_weight_is_applied_or_a_clear_error(berth, bundle, cid):
    resources(bundle)["blockIO"] = {"leafWeight": 300}
    if not available("blkio"):
        pytest.skip("no blkio/io controller here")
    own, v2 = ctl_dir(os.getpid(), "blkio")
    if v2:
        create_fails(berth, bundle, cid, ".linux.resources.blockIO.leafWeight: ",
                     "cgroup v2 has no leaf weights")
    elif not os.path.exists(os.path.join(own, "blkio.leaf_weight")):
        create_fails(berth, bundle, cid, ".linux.resources.blockIO.leafWeight: ",
                     "blkio.leaf_weight does not exist on this host")
    else:
        pid = start(berth, bundle, cid)
        assert read(ctl_dir(pid, "blkio")[0], "blkio.leaf_weight") == "300"
        berth.cmd("delete", "-f", cid, check=True)


def test_hugetlb_limit(berth, bundle, cid):
    if not os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        pytest.skip("no 2MB huge pages on this host")
    if not available("hugetlb"):
        pytest.skip("no hugetlb controller for this process")
    resources(bundle)["hugepageLimits"] = [{"pageSize": "2MB", "limit": 4 * MiB}]
    pid = start(berth, bundle, cid)
    d, v2 = ctl_dir(pid, "hugetlb")
    assert read(d, "hugetlb.2MB.max" if v2 else "hugetlb.2MB.limit_in_bytes") == str(4 * MiB)
    berth.cmd("delete", "-f", cid, check=True)

    resources(bundle)["hugepageLimits"] = [{"pageSize": "3MB", "limit": 4 * MiB}]
    create_fails(berth, bundle, cid, ".linux.resources.hugepageLimits[0]: ",
                 "this host has no 3MB huge pages")


def test_network_class_id_or_clear_error(berth, bundle, cid):
    resources(bundle)["network"] = {"classID": 0x100001}
    if not available("net_cls"):
        create_fails(berth, bundle, cid,
                     "config.json: .linux.resources.network.classID: "
                     "the net_cls controller is not mounted on this host")
        return
    pid = start(berth, bundle, cid)
    assert read(ctl_dir(pid, "net_cls")[0], "net_cls.classid") == str(0x100001)
    berth.cmd("delete", "-f", cid, check=True)


def test_network_priorities_need_net_prio(berth, bundle, cid):
    if available("net_prio"):
        pytest.skip("net_prio is mounted here")
    resources(bundle)["network"] = {"priorities": [{"name": "lo", "priority": 2}]}
    create_fails(berth, bundle, cid, "config.json: .linux.resources.network.priorities[0]: "
                 "the net_prio controller is not mounted on this host")


def test_rdma_without_controller_is_a_clear_error(berth, bundle, cid):
    if available("rdma"):
        pytest.skip("rdma is available here")
    resources(bundle)["rdma"] = {"mlx5_0": {"hcaHandles": 3, "hcaObjects": 100}}
    create_fails(berth, bundle, cid, "config.json: .linux.resources.rdma.mlx5_0: ",
                 "the rdma controller is not")


def test_unified_written_on_v2_else_clear_error(berth, bundle, cid):
    if V2:
        resources(bundle)["unified"] = {"pids.max": "42"}
        pid = start(berth, bundle, cid)
        assert read(ctl_dir(pid, "pids")[0], "pids.max") == "42"
        berth.cmd("delete", "-f", cid, check=True)
        return
    resources(bundle)["unified"] = {"memory.high": "max"}
    create_fails(berth, bundle, cid, '.linux.resources.unified["memory.high"]: ',
                 "invalid configuration: cannot use unified on cgroup v1")
    resources(bundle)["unified"] = {"../escape": "1"}
    create_fails(berth, bundle, cid, "must name a cgroup v2 file")


# ---- devices -------------------------------------------------------------------------

@pytest.mark.skipif(V2, reason="devices.list is cgroup v1's")
def test_devices_list_shows_the_rules_in_the_config_s_order(berth, bundle, cid):
    """runtime-spec: entries apply in the listed order.  v1's devices.list
    keeps each rule where it was first written: the config's allow rules
    come first, in order (runtime-tools linux_cgroups_relative_devices),
    while a later rule still takes a default away (/dev/zero here)."""
    resources(bundle)["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "b", "major": 8, "minor": 20, "access": "rw"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
        {"allow": False, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
    ]
    pid = start(berth, bundle, cid, "sh", "-c",
                "head -c1 /dev/zero >/dev/null 2>&1; echo zero=$? > /tmp/r; sleep 100")
    listed = read(ctl_dir(pid, "devices")[0], "devices.list").splitlines()
    assert listed[:2] == ["b 8:20 rw", "c 10:229 rwm"], listed
    assert not any(l.startswith("c 1:5 ") for l in listed), listed
    assert "c 1:3 rwm" in listed  # a default the config does not touch
    wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "tmp", "r")), what="the check")
    with open(os.path.join(bundle.rootfs, "tmp", "r")) as f:
        assert f.read().strip() == "zero=1"
    berth.cmd("delete", "-f", cid, check=True)


def test_device_rule_denies_access_and_mknod(berth, bundle, cid):
    resources(bundle)["devices"] = [
        {"allow": False, "access": "rwm"},
        {"allow": False, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
    ]
    caps = bundle.config["process"].setdefault("capabilities", {})
    for k in ("bounding", "effective", "permitted"):
        caps.setdefault(k, []).append("CAP_MKNOD")
    bundle.sh("head -c1 /dev/urandom >/dev/null; echo urandom=$?; "
              "head -c1 /dev/zero | wc -c; echo ok >/dev/null && echo null=ok; "
              "mknod /tmp/loop b 7 0; echo mknod-loop=$?; "
              "head -c1 /tmp/loop >/dev/null; echo read-loop=$?; "
              "mknod /tmp/u c 1 9; echo mknod-urandom=$?; "
              "head -c1 /tmp/u >/dev/null; echo read-u=$?").write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert "urandom=1" in lines and "null=ok" in lines, p.stdout
    assert "1" in lines  # /dev/zero is readable
    # As runc: making any node is allowed ("c *:* m", "b *:* m" last), using
    # one only when a rule allows it.
    assert "mknod-loop=0" in lines and "read-loop=1" in lines, p.stdout
    assert "mknod-urandom=0" in lines and "read-u=1" in lines, p.stdout
    assert "Operation not permitted" in p.stderr


def test_update_device_rules_replaces_them(berth, bundle, cid):
    pid = start(berth, bundle, cid)
    assert berth.cmd("exec", cid, "head", "-c1", "/dev/zero").returncode == 0
    rules = {"devices": [{"allow": False, "access": "rwm"},
                         {"allow": False, "type": "c", "major": 1, "minor": 5,
                          "access": "rwm"}]}
    berth.cmd("update", "-r", "-", cid, input=json.dumps(rules), check=True)
    p = berth.cmd("exec", cid, "head", "-c1", "/dev/zero")
    assert p.returncode != 0 and "Operation not permitted" in p.stderr, p.stderr
    assert berth.cmd("exec", cid, "sh", "-c", "echo x >/dev/null").returncode == 0
    berth.cmd("delete", "-f", cid, check=True)


# ---- update -----------------------------------------------------------------------

def _memory_files(pid):
    d, v2 = ctl_dir(pid, "memory")
    if v2:
        return read(d, "memory.max"), (read(d, "memory.swap.max")
                                       if os.path.exists(d + "/memory.swap.max") else None)
    return read(d, "memory.limit_in_bytes"), (read(d, "memory.memsw.limit_in_bytes")
                                              if os.path.exists(d + "/memory.memsw.limit_in_bytes")
                                              else None)


def test_update_flags_change_a_running_container(berth, bundle, cid):
    resources(bundle).update({"memory": {"limit": 64 * MiB}, "pids": {"limit": 20}})
    pid = start(berth, bundle, cid)
    p = berth.cmd("update", "--memory", "128m", "--memory-swap", "256M", "--cpu-share", "1024",
                  "--cpu-quota", "20000", "--cpu-period", "100000", "--pids-limit", "30", cid)
    assert p.returncode == 0, p.stderr
    mem, swap = _memory_files(pid)
    assert mem == str(128 * MiB)
    if swap is not None:
        assert swap == str((128 if V2 or ctl_dir(pid, "memory")[1] else 256) * MiB)
    d, v2 = ctl_dir(pid, "cpu")
    if v2:
        assert read(d, "cpu.weight") == str(1 + (1024 - 2) * 9999 // 262142)
        assert read(d, "cpu.max") == "20000 100000"
    else:
        assert read(d, "cpu.shares") == "1024"
        assert read(d, "cpu.cfs_quota_us") == "20000"
    assert read(ctl_dir(pid, "pids")[0], "pids.max") == "30"

    # The next update starts from what the last one left (kept in the state).
    berth.cmd("update", "--memory", "100m", cid, check=True)
    mem, swap = _memory_files(pid)
    assert mem == str(100 * MiB)
    if swap is not None:
        assert swap == str((156 if V2 or ctl_dir(pid, "memory")[1] else 256) * MiB)
    berth.cmd("delete", "-f", cid, check=True)


def test_update_memory_unlimited_lifts_the_swap_limit(runtime, bundle, cid):
    """runc: `update --memory -1` with no word on swap makes both unlimited
    (the stored swap limit would stay below an unlimited memory, which v1
    refuses)."""
    resources(bundle)["memory"] = {"limit": 100 * MiB, "swap": 200 * MiB}
    pid = start(runtime, bundle, cid)
    mem, swap = _memory_files(pid)
    if swap is None:
        runtime.cmd("delete", "-f", cid, check=True)
        pytest.skip("no swap accounting here")
    p = runtime.cmd("update", "--memory", "-1", cid)
    assert p.returncode == 0, p.stderr
    mem, swap = _memory_files(pid)
    unlimited = ("max",) if ctl_dir(pid, "memory")[1] else ("9223372036854771712",)
    assert (mem, swap) == unlimited * 2
    runtime.cmd("delete", "-f", cid, check=True)


def test_update_resources_from_stdin(berth, bundle, cid):
    pid = start(berth, bundle, cid)
    doc = {"memory": {"limit": 96 * MiB}, "pids": {"limit": -1}, "cpu": {"shares": 256}}
    p = berth.cmd("update", "--resources=-", cid, input=json.dumps(doc))
    assert p.returncode == 0, p.stderr
    assert _memory_files(pid)[0] == str(96 * MiB)
    assert read(ctl_dir(pid, "pids")[0], "pids.max") == "max"
    d, v2 = ctl_dir(pid, "cpu")
    assert read(d, "cpu.weight" if v2 else "cpu.shares") == (
        str(1 + 254 * 9999 // 262142) if v2 else "256")
    berth.cmd("delete", "-f", cid, check=True)


def test_update_refuses_a_limit_below_usage_with_check_before_update(berth, bundle, cid):
    start(berth, bundle, cid)
    doc = {"memory": {"limit": 4096, "checkBeforeUpdate": True}}
    p = berth.cmd("update", "-r", "-", cid, input=json.dumps(doc))
    assert p.returncode == 1
    assert ".linux.resources.memory.limit: rejecting memory limit 4096 below current usage" \
        in p.stderr
    assert berth.state(cid)["status"] == "running"
    berth.cmd("delete", "-f", cid, check=True)


def test_update_errors(berth, bundle, cid):
    bundle.args("true").write()
    berth.cmd("run", "--keep", "-b", bundle.path, cid, check=True)
    p = berth.cmd("update", "--memory", "64m", cid)
    assert p.returncode == 1 and "container not running" in p.stderr
    for bad in (["--memory", "lots"], ["--cpu-share", "-3"], ["--pids-limit", "x"]):
        p = berth.cmd("update", *bad, cid)
        assert p.returncode == 1 and "invalid value" in p.stderr, (bad, p.stderr)
    p = berth.cmd("update", "--l3-cache-schema", "L3:0=f", cid)
    assert p.returncode == 1 and "Intel RDT" in p.stderr
    p = berth.cmd("update", "-r", "-", "--memory", "1m", cid, input="{}")
    assert p.returncode == 1 and "cannot be combined" in p.stderr
    p = berth.cmd("update", "-r", "-", cid, input='{"memory": {"limit": "big"}}')
    assert p.returncode == 1 and ".memory.limit" in p.stderr
    berth.cmd("delete", cid, check=True)
    p = berth.cmd("update", "--memory", "64m", cid)
    assert p.returncode == 1 and "container does not exist" in p.stderr


# ---- pause / resume -----------------------------------------------------------------

def _frozen(pid):
    d, v2 = ctl_dir(pid, "freezer")
    if d is not None and not v2:
        return read(d, "freezer.state") == "FROZEN"
    # v2 freezing is core: the container's v2 directory.
    path = next(p for _, c, p in _cgroup_lines(pid) if c == "")
    d = ("/sys/fs/cgroup" if V2 else UNIFIED) + path
    return "frozen 1" in read(d, "cgroup.events").splitlines()


def test_pause_and_resume(berth, bundle, cid):
    pid = start(berth, bundle, cid, "sh", "-c", "while true; do date +%s%N >/tmp/tick; "
                "sleep 0.05; done")
    tick = os.path.join(bundle.rootfs, "tmp", "tick")
    wait_for(lambda: os.path.exists(tick), what="the first tick")
    try:
        berth.cmd("pause", cid, check=True)
        assert _frozen(pid)
        assert berth.state(cid)["status"] == "paused"
        before = open(tick).read()
        time.sleep(0.3)
        assert open(tick).read() == before  # nothing runs
        p = berth.cmd("pause", cid)
        assert p.returncode == 1 and "container not running" in p.stderr
        p = berth.cmd("update", "--pids-limit", "50", cid)  # allowed while paused
        assert p.returncode == 0, p.stderr
    finally:
        berth.cmd("resume", cid)
    assert not _frozen(pid)
    assert berth.state(cid)["status"] == "running"
    before = open(tick).read()
    wait_for(lambda: open(tick).read() != before, what="ticks after resume")
    p = berth.cmd("resume", cid)
    assert p.returncode == 1 and "container not paused" in p.stderr
    berth.cmd("delete", "-f", cid, check=True)


def test_list_shows_each_status_and_only_real_containers(berth, bundle, cid):
    """list reads each container from the root without opening its
    directory: every status must still come out, and neither a symlink to
    a container's directory nor a directory without state is listed."""
    ids = {f"{cid}-c": "created", f"{cid}-r": "running", f"{cid}-p": "paused",
           f"{cid}-s": "stopped"}
    alias, junk = os.path.join(berth.root, f"{cid}-alias"), os.path.join(berth.root, f"{cid}-junk")
    bundle.args("sleep", "100").write()
    try:
        berth.cmd("create", "-b", bundle.path, f"{cid}-c", check=True)
        berth.cmd("run", "-d", "-b", bundle.path, f"{cid}-r", check=True)
        berth.cmd("run", "-d", "-b", bundle.path, f"{cid}-p", check=True)
        berth.cmd("pause", f"{cid}-p", check=True)
        bundle.args("true").write()
        berth.cmd("run", "--keep", "-b", bundle.path, f"{cid}-s", check=True)
        os.symlink(f"{cid}-r", alias)  # relative: inside the root, still not a container
        os.mkdir(junk)
        listed = json.loads(berth.cmd("list", "-f", "json", check=True).stdout)
        assert sorted(e["id"] for e in listed) == sorted(ids)  # each once
        assert {e["id"]: e["status"] for e in listed} == ids
        assert [e["pid"] for e in listed if e["status"] == "stopped"] == [0]
        table = berth.cmd("list", check=True).stdout.splitlines()[1:]
        assert {line.split()[0]: line.split()[2] for line in table} == ids
    finally:
        for path in (alias, junk):
            if os.path.islink(path):
                os.unlink(path)
            elif os.path.isdir(path):
                os.rmdir(path)
        berth.cmd("resume", f"{cid}-p")
        for i in ids:
            berth.cmd("delete", "-f", i)


def test_pause_needs_a_live_container(berth, bundle, cid):
    bundle.args("true").write()
    berth.cmd("run", "--keep", "-b", bundle.path, cid, check=True)
    p = berth.cmd("pause", cid)
    assert p.returncode == 1 and "container not running" in p.stderr
    p = berth.cmd("resume", cid)
    assert p.returncode == 1 and "container not paused" in p.stderr
    berth.cmd("delete", cid, check=True)


# ---- ps -------------------------------------------------------------------------------

def test_ps_lists_the_container_processes(berth, bundle, cid):
    pid = start(berth, bundle, cid, "sh", "-c", "sleep 100 & sleep 100 & wait")
    procs_dir = ctl_dir(pid, "pids")[0] or ctl_dir(pid, "memory")[0]
    want = wait_for(lambda: (lambda v: v if len(v) == 3 else None)(
        sorted(int(x) for x in read(procs_dir, "cgroup.procs").split())), what="3 processes")
    p = berth.cmd("ps", "--format", "json", cid, check=True)
    assert sorted(json.loads(p.stdout)) == want

    p = berth.cmd("ps", cid, check=True)
    lines = p.stdout.splitlines()
    col = lines[0].split().index("PID")
    assert sorted(int(l.split()[col]) for l in lines[1:]) == want

    p = berth.cmd("ps", cid, "-o", "pid,comm", check=True)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["PID", "COMMAND"]
    assert sorted(l.split()[1] for l in lines[1:]) == ["sh", "sleep", "sleep"]

    p = berth.cmd("ps", cid, "-o", "comm")
    assert p.returncode == 1 and "couldn't find PID field" in p.stderr
    berth.cmd("delete", "-f", cid, check=True)
    p = berth.cmd("ps", cid)
    assert p.returncode == 1 and "container does not exist" in p.stderr


def test_ps_of_a_stopped_container_is_only_the_header(runtime, bundle, cid):
    """runc prints ps's header and exits 0 for a stopped container."""
    bundle.args("true").write()
    runtime.cmd("create", "-b", bundle.path, cid, check=True)
    runtime.cmd("start", cid, check=True)
    runtime.wait_stopped(cid)
    p = runtime.cmd("ps", cid)
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == 1 and "PID" in p.stdout.split()
    p = runtime.cmd("ps", "--format", "json", cid)
    assert p.returncode == 0, p.stderr
    # runc prints Go's nil slice, null; berth an empty array.
    assert json.loads(p.stdout) == (None if runtime.name == "runc" else [])
    runtime.cmd("delete", cid, check=True)


# ---- events -------------------------------------------------------------------------

def test_events_stats_once(berth, bundle, cid):
    resources(bundle).update({"memory": {"limit": 64 * MiB}, "pids": {"limit": 20}})
    start(berth, bundle, cid)
    p = berth.cmd("events", "--stats", cid, check=True)
    lines = p.stdout.splitlines()
    assert len(lines) == 1
    ev = json.loads(lines[0])
    assert ev["type"] == "stats" and ev["id"] == cid
    data = ev["data"]
    assert {"cpu", "memory", "pids", "blkio", "hugetlb"} <= set(data)
    assert data["memory"]["usage"]["limit"] == 64 * MiB
    assert data["memory"]["usage"]["usage"] > 0
    assert data["pids"] == {"current": 1, "limit": 20}
    assert "total" in data["cpu"]["usage"] and "kernel" in data["cpu"]["usage"]
    if os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB") and available("hugetlb"):
        assert "failcnt" in data["hugetlb"]["2MB"]
    berth.cmd("delete", "-f", cid, check=True)


def test_events_stream_until_the_container_stops(berth, bundle, cid, tmp_path):
    start(berth, bundle, cid)
    out = tmp_path / "events.out"
    with open(out, "w") as f:
        ev = subprocess.Popen([berth.binary, "--root", berth.root, "events", "--interval",
                               "50ms", cid], stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: out.read_text().count("\n") >= 3, what="3 stats events")
        berth.cmd("kill", cid, "KILL", check=True)
        assert ev.wait(timeout=10) == 0
    finally:
        if ev.poll() is None:
            ev.kill()
            ev.wait()
    for line in out.read_text().splitlines():
        assert json.loads(line)["type"] == "stats"
    p = berth.cmd("events", "--stats", cid)
    assert p.returncode == 1 and f"container with id {cid} is not running" in p.stderr
    for bad in ("0s", "5x", "1..2s"):
        p = berth.cmd("events", "--interval", bad, cid)
        assert p.returncode == 1 and ("interval" in p.stderr or "duration" in p.stderr), p.stderr
    berth.cmd("delete", "-f", cid, check=True)


@pytest.mark.skipif(SYSTEMD_DRIVER, reason="a cgroupfs path; the systemd driver takes "
                    "slice:prefix:name")
def test_delete_leaves_the_parent_cgroup(berth, bundle, cid):
    """Parents that create made for a nested cgroupsPath (containerd's
    /k8s.io, a Podman --cgroup-parent) stay after delete, as with runc, so
    that another runtime making a sibling there never races with their
    removal."""
    from conftest import _cgroup_dirs_named
    parent = f"{cid}-parent"
    bundle.config["linux"]["cgroupsPath"] = f"{parent}/{cid}"
    bundle.args("true").write()
    assert _cgroup_dirs_named(parent) == []
    berth.cmd("run", "-b", bundle.path, cid, check=True)
    parents = _cgroup_dirs_named(parent)
    try:
        assert parents, "create made no parent directory"
        assert [d for d in parents if os.path.exists(os.path.join(d, cid))] == []
    finally:
        for d in parents:
            os.rmdir(d)


# ---- placement: every hierarchy, whoever moves the process ---------------------

def _placement(pid):
    """hierarchy ("" for v2) -> the cgroup of `pid` there, for every
    hierarchy mounted on this host."""
    mounted = _v1_mounts()
    out = {}
    for _, ctrls, path in _cgroup_lines(pid):
        if (ctrls == "" and (V2 or UNIFIED)) or ctrls.split(",")[0] in mounted:
            out[ctrls] = path
    return out


@pytest.mark.skipif(SYSTEMD_DRIVER, reason="systemd places the unit in the hierarchies it chooses")
def test_init_and_exec_are_placed_in_every_hierarchy(berth, bundle, cid, tmp_path):
    """On v1 the init and an exec'd process move themselves, one
    hierarchy's tasks file at a time (cgroupfs_v1.h): a hierarchy missed, or
    a move after the init said it was ready, shows here."""
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    init = berth.state(cid)["pid"]
    placed = _placement(init)
    assert placed and all(p.endswith("/" + cid) for p in placed.values()), placed
    assert len(placed) == len(_placement(os.getpid())), (placed, _placement(os.getpid()))
    berth.cmd("start", cid, check=True)
    pidfile = tmp_path / "exec.pid"
    berth.cmd("exec", "-d", "--pid-file", str(pidfile), cid, "sleep", "100", check=True)
    assert _placement(int(pidfile.read_text())) == placed
    berth.cmd("delete", "-f", cid, check=True)


@pytest.mark.skipif(SYSTEMD_DRIVER, reason="systemd places the unit in the hierarchies it chooses")
def test_an_init_in_a_user_namespace_is_born_in_its_cgroup(berth, open_bundle, cid, tmp_path):
    """With a user namespace a first child forks the init.  That child
    moves itself (each v1 tasks file; cloned into the v2 directory) before
    it joins or makes any namespace, so the init is born in every
    hierarchy and berth moves nothing by pid, a move that can wait for an
    RCU grace period (11 ms on this host)."""
    bundle = open_bundle
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    for key in ("uidMappings", "gidMappings"):
        bundle.config["linux"][key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.args("sleep", "100").write()
    trace = tmp_path / "trace.json"
    env = dict(os.environ, BERTH_TRACE=str(trace))
    berth.cmd("run", "-d", "-b", bundle.path, cid, env=env, check=True)
    init = berth.state(cid)["pid"]
    placed = _placement(init)
    assert placed and all(p.endswith("/" + cid) for p in placed.values()), placed
    assert len(placed) == len(_placement(os.getpid())), (placed, _placement(os.getpid()))
    pidfile = tmp_path / "exec.pid"
    berth.cmd("exec", "-d", "--pid-file", str(pidfile), cid, "sleep", "100", env=env,
              check=True)
    assert _placement(int(pidfile.read_text())) == placed
    berth.cmd("delete", "-f", cid, check=True)
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    labels = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M"}
    by = {labels.get(e["pid"]) for e in events if e["ph"] == "X" and e["name"] == "cgroup enter"}
    assert by == {"berth init, first child", "exec'd process"}, by
    assert "cgroup attach" not in {e["name"] for e in events if e["ph"] == "X"}


@needs_hooks
@pytest.mark.skipif(V2 or SYSTEMD_DRIVER, reason="only a v1 or hybrid init moves itself")
@pytest.mark.parametrize("userns", [False, True], ids=["init", "first-child"])
def test_an_init_that_cannot_enter_its_cgroup(berth, open_bundle, cid, userns):
    """The init's own move fails (its pids directory removed while the
    runtime was stopped before telling it to move): one line naming the
    file, and nothing left (the `cid` fixture checks the cgroup
    directories).  With a user namespace the first child, which forks the
    init, is the one that moves and fails."""
    bundle = open_bundle
    if userns:
        bundle.config["linux"]["namespaces"].append({"type": "user"})
        for key in ("uidMappings", "gidMappings"):
            bundle.config["linux"][key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.args("true").write()
    with held_at(berth, "create:go", "create", "-b", bundle.path, cid) as (p, init):
        (victim,) = [d for d in _cgroup_dirs_named(cid) if d.startswith("/sys/fs/cgroup/pids/")]
        os.rmdir(victim)
        p.send_signal(signal.SIGCONT)
        _, err = p.communicate(timeout=30)
    assert p.returncode == 1
    assert err.count("\n") == 1 and f"write {victim}/tasks" in err, err
    assert "No such file or directory" in err, err
    assert berth.ids() == []
    assert not os.path.exists(f"/proc/{init}") or open(f"/proc/{init}/stat").read().split()[2] == "Z"


@pytest.mark.skipif(SYSTEMD_DRIVER, reason="systemd places the unit itself")
def test_placed_when_the_kernel_refuses_clone3(berth, bundle, cid, tmp_path):
    """Under a seccomp filter that fails clone3 with ENOSYS (as some
    engines' profiles do), berth clones the old way and the init and an
    exec'd process move themselves into the whole cgroup: its trace has
    no move of berth's."""
    from conftest import HELPER
    if subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip() != "x86_64":
        pytest.skip("the helper's filter is for x86-64")
    trace = tmp_path / "trace.json"
    wrap = [HELPER, "no-clone3", BERTH, "--root", berth.root, "--trace", str(trace)]
    bundle.args("sleep", "100").write()
    subprocess.run([*wrap, "run", "-d", "-b", bundle.path, cid], check=True)
    init = berth.state(cid)["pid"]
    placed = _placement(init)
    assert placed and all(p.endswith("/" + cid) for p in placed.values()), placed
    assert len(placed) == len(_placement(os.getpid()))
    pidfile = tmp_path / "exec.pid"
    subprocess.run([*wrap, "exec", "-d", "--pid-file", str(pidfile), cid, "sleep", "100"],
                   check=True)
    assert _placement(int(pidfile.read_text())) == placed
    berth.cmd("delete", "-f", cid, check=True)
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    berth_moved = {e["name"] for e in events if e["ph"] == "X"
                   and e.get("args", {}).get("cmd") == e["pid"]}
    assert not {"cgroup attach", "cgroup enter"} & berth_moved, berth_moved
    itself = [e for e in events if e["ph"] == "X" and e["name"] == "cgroup enter"]
    assert len(itself) == 2, itself  # the init's and the exec'd process'


# ---- a cgroup that is not new -----------------------------------------------------

def _second_bundle(tmp_path, rootfs_template, cgroups_path, *args):
    path = tmp_path / "second"
    path.mkdir()
    b = Bundle(str(path), rootfs_template)
    b.config["linux"]["cgroupsPath"] = cgroups_path
    return b.args(*args).write()


@pytest.mark.skipif(SYSTEMD_DRIVER, reason="systemd makes a new unit for every container")
def test_a_cgroup_with_processes_is_refused(runtime, bundle, cid, tmp_path, rootfs_template):
    """runc 1.2 refuses a container whose cgroup already holds processes
    (1.1.5, the reference here, only warns, in the same words)."""
    bundle.config["linux"]["cgroupsPath"] = cid
    bundle.args("sleep", "100").write()
    runtime.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    first = runtime.state(cid)["pid"]
    second = _second_bundle(tmp_path, rootfs_template, cid, "true")
    p = runtime.cmd("run", "-b", second.path, cid + "b", timeout=20)
    assert "container's cgroup is not empty: 1 process(es) found" in p.stderr, p.stderr
    if runtime.name == "berth":
        assert p.returncode == 1
        assert runtime.ids() == [cid]
    # The first container is untouched, its cgroup too.
    assert runtime.state(cid)["status"] == "running"
    assert runtime.state(cid)["pid"] == first and os.path.exists(f"/proc/{first}")
    runtime.cmd("delete", "-f", cid, check=True)


@pytest.mark.skipif(SYSTEMD_DRIVER, reason="systemd makes a new unit for every container")
def test_a_frozen_cgroup_is_refused_at_once(runtime, bundle, cid, tmp_path, rootfs_template):
    """A container put in a frozen cgroup would hang until someone thaws it;
    runc fails at once."""
    bundle.config["linux"]["cgroupsPath"] = cid
    bundle.args("sleep", "100").write()
    runtime.cmd("create", "-b", bundle.path, cid, check=True)
    d, v2 = ctl_dir(runtime.state(cid)["pid"], "freezer")
    assert d, "no freezer here"
    name, frozen, thawed = (("cgroup.freeze", "1", "0") if v2
                            else ("freezer.state", "FROZEN", "THAWED"))
    with open(os.path.join(d, name), "w") as f:
        f.write(frozen)
    try:
        second = _second_bundle(tmp_path, rootfs_template, cid, "true")
        p = runtime.cmd("run", "-b", second.path, cid + "b", timeout=20)
        assert p.returncode != 0
        assert "container's cgroup unexpectedly frozen" in p.stderr.replace('\\"', '"'), p.stderr
        assert runtime.ids() == [cid]
    finally:
        with open(os.path.join(d, name), "w") as f:
            f.write(thawed)
    runtime.cmd("delete", "-f", cid, check=True)
