"""berth as a Kubernetes RuntimeClass handler: containerd 1.6's CRI plugin,
driven over gRPC (runtime.v1) as a kubelet would, with the handler `berth`
and, as the control, `runc` (both the runc v2 shim; only BinaryName
differs). Every scenario runs with both handlers in the same session.

Each test observes its effect from inside the container (ExecSync) or on
the host (processes by pid, cgroup files, iptables, a TCP connection), and
checks that the handler's own runtime ran the pod (its `state` under the
handler's Root). The `cri` fixture then stops and removes every pod and
fails the test if anything is left: runtime state, container cgroups,
netns, veths, per-pod iptables rules.

Every gRPC call has a deadline, so a hung runtime fails its test, not the
suite.
"""
import ipaddress
import os
import random
import time
import urllib.request

import pytest

from cri_lib import HANDLERS, pids_with_cmdline, proc_alive
from e2e_lib import wait_for


@pytest.fixture(params=HANDLERS)
def handler(request):
    return request.param


def own_cgroup(hierarchy="memory"):
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if hierarchy in ctrls.split(","):
                return path
    raise AssertionError(f"no {hierarchy} line in /proc/self/cgroup")


def cgroup_line(text, hierarchy="memory"):
    for line in text.splitlines():
        _, ctrls, path = line.split(":", 2)
        if hierarchy in ctrls.split(","):
            return path
    raise AssertionError(f"no {hierarchy} line in {text!r}")


def assert_ran_by(cri, handler, cid):
    """The handler's runtime has the container running; returns its pid."""
    st = cri.runtime_state(handler, cid)
    assert st is not None, f"{handler} has no state for {cid}"
    assert st["status"] == "running", st
    return st["pid"]


def read_log(path):
    """A CRI log file as (stream, tag, text) triples."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        ts, stream, tag, text = line.split(" ", 3)
        assert ts.endswith("Z") and "T" in ts, line
        out.append((stream, tag, text))
    return out


def timed_stop(cri, pod):
    t0 = time.monotonic()
    cri.stop_pod(pod, timeout=10)
    return time.monotonic() - t0


# ---------------------------------------------------------------- scenarios

def test_pod_lifecycle(cri, handler):
    pb = cri.pb
    cfg = cri.pod_config("life", handler)
    pod = cri.run_pod(cfg, handler)
    st = cri.pod_status(pod)
    assert st.state == pb.SANDBOX_READY
    assert st.runtime_handler == handler
    assert st.network.ip and ipaddress.ip_address(st.network.ip) in cri.subnet, st
    pause = assert_ran_by(cri, handler, pod)
    with open(f"/proc/{pause}/cmdline") as f:
        assert f.read().split("\0")[:2] == ["/catatonit", "-P"]
    # Its cgroup, in every hierarchy: below ours, under the pod's relative
    # parent.
    with open("/proc/self/cgroup") as f:
        ours = dict(ln.split(":", 2)[1:] for ln in f.read().splitlines())
    with open(f"/proc/{pause}/cgroup") as f:
        theirs = dict(ln.split(":", 2)[1:] for ln in f.read().splitlines())
    want = {k: os.path.join(v, cri.cgroup.name, f"life-{handler}", pod) for k, v in ours.items()}
    assert theirs == want
    assert os.readlink(f"/proc/{pause}/ns/net") != os.readlink("/proc/self/ns/net")

    dt = timed_stop(cri, pod)
    assert dt < 5, f"StopPodSandbox took {dt:.1f}s"
    assert cri.pod_status(pod).state == pb.SANDBOX_NOTREADY
    wait_for(lambda: not proc_alive(pause), timeout=2, what="the pause process to go")
    assert cri.runtime_state(handler, pod) is None
    assert not os.path.exists(cri.cgroup_dir("life", handler, pod))
    cri.remove_pod(pod)
    ids = [p.id for p in cri.call("ListPodSandbox", pb.ListPodSandboxRequest()).items]
    assert pod not in ids


def test_container_exec_logs_stats(cri, handler):
    pb = cri.pb
    cfg = cri.pod_config("ctr", handler)
    pod = cri.run_pod(cfg, handler)
    cid = cri.create(pod, cfg, "main", [
        "sh", "-c", "echo started; echo to-stderr >&2; "
        "while [ ! -e /tmp/go ]; do usleep 50000; done; echo after-reopen; exec sleep 100000"],
        log="main.log", resources={"memory_limit_in_bytes": 64 << 20})
    init = assert_ran_by(cri, handler, cid)
    assert cri.status(cid).state == pb.CONTAINER_RUNNING

    # ExecSync: exit code and both streams.
    assert cri.exec_sync(cid, ["sh", "-c", "echo out; echo err >&2; exit 3"]) == \
        (3, "out\n", "err\n")
    # The container's cgroup, seen from inside and on the host.
    cg_dir = cri.cgroup_dir("ctr", handler, cid)
    inside = cgroup_line(cri.sh(cid, "cat /proc/self/cgroup"))
    assert inside == os.path.join(own_cgroup(), cri.cgroup.name, f"ctr-{handler}", cid)
    with open(os.path.join(cg_dir, "memory.limit_in_bytes")) as f:
        assert int(f.read()) == 64 << 20
    with open(os.path.join(cg_dir, "cgroup.procs")) as f:
        assert str(init) in f.read().split()
    # containerd's default rlimits fit this host (hard nofile 20000).
    soft, hard = cri.sh(cid, "ulimit -Sn; ulimit -Hn").split()
    assert 0 < int(soft) <= int(hard) <= 20000

    # The CRI log file: both streams, full lines ("F").
    log = os.path.join(cfg.log_directory, "main.log")
    assert cri.status(cid).log_path == log
    wait_for(lambda: len(read_log(log)) >= 2, timeout=10, what="two log lines")
    assert sorted(read_log(log)) == [("stderr", "F", "to-stderr"), ("stdout", "F", "started")]
    # ReopenContainerLog: after a rotation the new file gets the new lines.
    os.rename(log, log + ".1")
    cri.call("ReopenContainerLog", pb.ReopenContainerLogRequest(container_id=cid))
    assert os.path.exists(log)
    cri.sh(cid, "touch /tmp/go")
    wait_for(lambda: read_log(log), timeout=10, what="a line in the reopened log")
    assert read_log(log) == [("stdout", "F", "after-reopen")]
    assert len(read_log(log + ".1")) == 2

    # ContainerStats: from the container's cgroup.
    stats = cri.call("ContainerStats", pb.ContainerStatsRequest(container_id=cid)).stats
    assert stats.attributes.id == cid
    assert stats.cpu.usage_core_nano_seconds.value > 0, stats
    assert 0 < stats.memory.working_set_bytes.value < 64 << 20, stats
    assert stats.memory.available_bytes.value + stats.memory.working_set_bytes.value == \
        64 << 20, stats

    # StopContainer: sleep as pid 1 ignores SIGTERM, so SIGKILL after 1 s.
    cri.call("StopContainer", pb.StopContainerRequest(container_id=cid, timeout=1))
    s = cri.status(cid)
    assert (s.state, s.exit_code) == (pb.CONTAINER_EXITED, 137), s
    assert not proc_alive(init)
    wait_for(lambda: not os.path.exists(cg_dir), timeout=5, what="the container's cgroup to go")
    cri.call("RemoveContainer", pb.RemoveContainerRequest(container_id=cid))


@pytest.mark.parametrize("mode", ["pod", "node"])
def test_pid_namespace_forking_container(cri, handler, mode):
    """A pod sharing its pid namespace (NamespaceMode POD) or the host's
    (NODE), whose container has backgrounded a child: StopPodSandbox must
    return in under 5 s and the child be gone, with every cgroup."""
    pb = cri.pb
    name = f"pid{mode}"
    cfg = cri.pod_config(name, handler, pid=pb.POD if mode == "pod" else pb.NODE)
    pod = cri.run_pod(cfg, handler)
    n = str(random.randrange(100000, 999999))  # marks the child's command line
    cid = cri.create(pod, cfg, "forks", [
        "sh", "-c", f"sleep {n} & echo $! > /tmp/child; exec sleep 100000"])
    init = assert_ran_by(cri, handler, cid)
    pause = assert_ran_by(cri, handler, pod)
    child = wait_for(lambda: pids_with_cmdline(["sleep", n]), what="the child")
    assert len(child) == 1
    child = child[0]
    child_inside = int(cri.sh(cid, "cat /tmp/child"))
    pid1 = cri.sh(cid, "cat /proc/1/cmdline | tr '\\0' ' '")
    if mode == "pod":
        assert pid1.split()[:2] == ["/catatonit", "-P"], pid1
        with open(f"/proc/{child}/status") as f:  # its pid as seen in the pod
            nspid = next(ln.split()[1:] for ln in f if ln.startswith("NSpid:"))
        assert [int(p) for p in nspid] == [child, child_inside], nspid
        assert os.readlink(f"/proc/{init}/ns/pid") == os.readlink(f"/proc/{pause}/ns/pid")
        assert os.readlink(f"/proc/{init}/ns/pid") != os.readlink("/proc/self/ns/pid")
    else:
        assert child_inside == child  # host pids inside
        assert os.readlink(f"/proc/{init}/ns/pid") == os.readlink("/proc/self/ns/pid")
    cg_dirs = [cri.cgroup_dir(name, handler, i) for i in (cid, pod)]
    with open(os.path.join(cg_dirs[0], "cgroup.procs")) as f:
        assert str(child) in f.read().split()

    dt = timed_stop(cri, pod)
    assert dt < 5, f"StopPodSandbox took {dt:.1f}s"
    wait_for(lambda: not any(proc_alive(p) for p in (child, init, pause)), timeout=2,
             what=f"child {child}, init {init} and pause {pause} to be gone")
    left = [d for d in cg_dirs if os.path.exists(d)]
    assert left == [], f"cgroups left after StopPodSandbox: {left}"
    assert cri.status(cid).state == pb.CONTAINER_EXITED
    cri.remove_pod(pod)


def test_host_network(cri, handler):
    pb = cri.pb
    cfg = cri.pod_config("hostnet", handler, network=pb.NODE)
    pod = cri.run_pod(cfg, handler)
    cid = cri.create(pod, cfg, "main", ["sleep", "100000"])
    assert_ran_by(cri, handler, cid)
    ours = os.readlink("/proc/self/ns/net")
    assert cri.sh(cid, "readlink /proc/self/ns/net").strip() == ours
    # The host's interfaces, e.g. the one with the default route.
    with open("/proc/net/route") as f:
        dev = next(ln.split()[0] for ln in f.read().splitlines()[1:] if ln.split()[1] == "00000000")
    assert f" {dev}:" in cri.sh(cid, "ip -o link show")
    cri.stop_pod(pod)
    cri.remove_pod(pod)


def test_port_mapping(cri, handler):
    pb = cri.pb
    from cri_lib import free_port, iptables_lines
    host_port = free_port()
    cfg = cri.pod_config("ports", handler, ports=[(8080, host_port)])
    pod = cri.run_pod(cfg, handler)
    ip = cri.pod_status(pod).network.ip
    cid = cri.create(pod, cfg, "web", [
        "sh", "-c", f"mkdir /www && echo hello from {handler} > /www/index.html && "
        "exec httpd -f -p 8080 -h /www"])
    assert_ran_by(cri, handler, cid)
    # The pod's own interfaces: its address on eth0, loopback up.
    assert f"inet {ip}/" in cri.sh(cid, "ip -4 addr show eth0")
    lo = cri.sh(cid, "ip -4 addr show lo")
    assert "inet 127.0.0.1/8" in lo and ",UP" in lo, lo
    assert any(f"--dports {host_port}" in r for r in iptables_lines())

    def fetch():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{host_port}/", timeout=2) as r:
                return r.read().decode()
        except OSError:
            return None
    assert wait_for(fetch, timeout=15, interval=0.2,
                    what=f"127.0.0.1:{host_port}") == f"hello from {handler}\n"

    cri.stop_pod(pod)
    assert not any(f"--dports {host_port}" in r for r in iptables_lines())
    assert fetch() is None
    cri.remove_pod(pod)


def test_security_context(cri, handler):
    pb = cri.pb
    cfg = cri.pod_config("sec", handler, sysctls={"net.ipv4.ip_unprivileged_port_start": "80",
                                                  "kernel.shm_rmid_forced": "1"})
    pod = cri.run_pod(cfg, handler)
    user = cri.create(pod, cfg, "user", ["sleep", "100000"],
                      sc={"run_as_user": 1000, "readonly_rootfs": True})
    caps = cri.create(pod, cfg, "caps", ["sleep", "100000"],
                      sc={"capabilities": (["SYS_TIME"], ["CHOWN"]),
                          "seccomp": pb.SecurityProfile.RuntimeDefault})
    assert_ran_by(cri, handler, user)
    assert_ran_by(cri, handler, caps)

    # run_as_user and readonly_rootfs
    assert cri.sh(user, "id -u").strip() == "1000"
    code, out, err = cri.exec_sync(user, ["touch", "/x"])
    assert code == 1 and "Read-only file system" in err, (code, out, err)
    # sysctls: set in the pod's net and ipc namespaces
    assert cri.sh(user, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start").strip() == "80"
    assert cri.sh(user, "cat /proc/sys/kernel/shm_rmid_forced").strip() == "1"
    assert cri.sh(user, "hostname").strip() == "bcri-sec"

    # capabilities add/drop, seccomp RuntimeDefault
    status = dict(ln.split(":", 1) for ln in cri.sh(caps, "cat /proc/self/status").splitlines())
    eff = int(status["CapEff"].strip(), 16)
    assert eff & (1 << 25), f"CAP_SYS_TIME not added: {eff:#x}"
    assert not eff & (1 << 0), f"CAP_CHOWN not dropped: {eff:#x}"
    assert eff & (1 << 5), f"CAP_KILL (a default) missing: {eff:#x}"
    assert not eff & (1 << 21), f"CAP_SYS_ADMIN (not a default) present: {eff:#x}"
    assert status["Seccomp"].strip() == "2"
    code, _, err = cri.exec_sync(caps, ["chown", "1000", "/tmp"])
    assert code == 1 and "Operation not permitted" in err, err

    cri.stop_pod(pod)
    cri.remove_pod(pod)
