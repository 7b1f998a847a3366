"""What a container looks like from inside: namespaces, identity, capabilities,
rlimits, mounts, devices, masked and read-only paths, sysctls, terminals."""
import array
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import HELPER


def run_out(berth, bundle, cid, check_rc=0):
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == check_rc, p.stderr
    return p.stdout


def status_field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise KeyError(name)


def test_namespaces_differ_from_host(berth, bundle, cid):
    kinds = ["pid", "net", "ipc", "uts", "mnt"]
    bundle.sh(" ; ".join(f"readlink /proc/self/ns/{k}" for k in kinds))
    inside = run_out(berth, bundle, cid).split()
    host = [os.readlink(f"/proc/self/ns/{k}") for k in kinds]
    for k, i, h in zip(kinds, inside, host):
        assert i != h, k


def test_cgroup_namespace_is_rooted_at_the_container(berth, bundle, cid):
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    bundle.sh("cat /proc/self/cgroup; readlink /proc/self/ns/cgroup")
    out = run_out(berth, bundle, cid).splitlines()
    assert out[-1] != os.readlink("/proc/self/ns/cgroup")
    for line in out[:-1]:
        assert line.split(":", 2)[2] == "/", line


def test_joined_namespace_is_the_same(berth, bundle, cid):
    holder = subprocess.Popen(["unshare", "--net", "sleep", "60"])
    try:
        for _ in range(500):
            if os.readlink(f"/proc/{holder.pid}/ns/net") != os.readlink("/proc/self/ns/net"):
                break
            time.sleep(0.01)
        path = f"/proc/{holder.pid}/ns/net"
        for ns in bundle.config["linux"]["namespaces"]:
            if ns["type"] == "network":
                ns["path"] = path
        bundle.sh("readlink /proc/self/ns/net")
        assert run_out(berth, bundle, cid).strip() == os.readlink(path)
    finally:
        holder.kill()
        holder.wait()


def test_namespace_path_of_wrong_type_is_refused(berth, bundle, cid):
    for ns in bundle.config["linux"]["namespaces"]:
        if ns["type"] == "network":
            ns["path"] = "/proc/self/ns/ipc"
    bundle.write()
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1
    assert ".linux.namespaces[1].path" in p.stderr and "not a network namespace" in p.stderr
    assert berth.ids() == []


def test_hostname_and_domainname(berth, bundle, cid):
    bundle.config["hostname"] = "box"
    bundle.config["domainname"] = "example.org"
    bundle.sh("hostname; cat /proc/sys/kernel/domainname")
    assert run_out(berth, bundle, cid).split() == ["box", "example.org"]


def test_user_groups_umask(berth, bundle, cid):
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000, "umask": 0o027,
                                        "additionalGids": [5, 65534]}
    bundle.config["process"]["cwd"] = "/tmp"
    bundle.sh("id -u; id -g; id -G; umask; echo $HOME")
    out = run_out(berth, bundle, cid).split("\n")
    assert out[0] == "1000" and out[1] == "1000"
    assert sorted(out[2].split()) == ["1000", "5", "65534"]
    assert out[3] == "0027"
    assert out[4] == "/home/user"  # from the container's /etc/passwd


def test_capabilities_in_status(berth, bundle, cid):
    bundle.config["process"]["capabilities"] = {
        "bounding": ["CAP_KILL", "CAP_CHOWN"],
        "effective": ["CAP_KILL"],
        "permitted": ["CAP_KILL"],
        "inheritable": [],
        "ambient": [],
    }
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.args("cat", "/proc/self/status")
    status = run_out(berth, bundle, cid)
    kill, chown = 1 << 5, 1 << 0
    assert int(status_field(status, "CapBnd"), 16) == kill | chown
    assert int(status_field(status, "CapInh"), 16) == 0
    # A non-root user keeps nothing across execve without ambient caps.
    assert int(status_field(status, "CapEff"), 16) == 0


def test_capability_berth_lacks_is_skipped(berth, bundle, cid):
    """A capability outside berth's own bounding set cannot be granted: it is
    skipped with a warning instead of failing the container."""
    with open("/proc/self/status") as f:
        bnd = int(status_field(f.read(), "CapBnd"), 16)
    if bnd & (1 << 24):
        pytest.skip("this host grants CAP_SYS_RESOURCE")
    caps = ["CAP_KILL", "CAP_SYS_RESOURCE"]
    bundle.config["process"]["capabilities"] = {k: caps for k in
                                                ("bounding", "effective", "permitted")}
    bundle.args("cat", "/proc/self/status").write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    assert "CAP_SYS_RESOURCE is not available to berth" in p.stderr
    assert int(status_field(p.stdout, "CapEff"), 16) == 1 << 5


def test_root_gets_its_bounding_set(berth, bundle, cid):
    bundle.config["process"]["capabilities"] = {
        "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}
    bundle.args("cat", "/proc/self/status")
    status = run_out(berth, bundle, cid)
    assert int(status_field(status, "CapEff"), 16) == 1 << 5
    assert int(status_field(status, "CapInh"), 16) == 0


def test_unknown_capability_is_a_warning(berth, bundle, cid):
    bundle.config["process"]["capabilities"]["bounding"].append("CAP_NOT_A_THING")
    bundle.args("true").write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0
    assert "CAP_NOT_A_THING" in p.stderr and "warning" in p.stderr


def test_no_new_privileges(berth, bundle, cid):
    bundle.config["process"]["noNewPrivileges"] = True
    bundle.args("cat", "/proc/self/status")
    assert status_field(run_out(berth, bundle, cid), "NoNewPrivs") == "1"
    bundle.config["process"]["noNewPrivileges"] = False
    assert status_field(run_out(berth, bundle, cid + "b"), "NoNewPrivs") == "0"


def test_rlimits(berth, bundle, cid):
    bundle.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    bundle.sh("ulimit -n; ulimit -Hn; ulimit -c")
    assert run_out(berth, bundle, cid).split() == ["123", "456", "0"]


def test_rlimit_above_hard_limit_is_explained(berth, bundle, cid):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with open("/proc/self/status") as f:
        caps = int(next(l for l in f if l.startswith("CapEff:")).split()[1], 16)
    if caps & (1 << 24):  # CAP_SYS_RESOURCE: berth may raise the hard limit
        pytest.skip("this host grants CAP_SYS_RESOURCE")
    bundle.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": hard + 1, "hard": hard + 1}]
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 1
    assert ".process.rlimits[0]" in p.stderr and "CAP_SYS_RESOURCE" in p.stderr
    assert berth.ids() == []


def test_oom_score_adj(berth, bundle, cid):
    bundle.config["process"]["oomScoreAdj"] = 500
    bundle.args("cat", "/proc/self/oom_score_adj")
    assert run_out(berth, bundle, cid).strip() == "500"


def test_masked_and_readonly_paths(berth, bundle, cid):
    bundle.config["linux"]["maskedPaths"] = ["/proc/timer_list", "/proc/acpi", "/nonexistent"]
    bundle.config["linux"]["readonlyPaths"] = ["/proc/sys"]
    bundle.sh("wc -c < /proc/timer_list; ls /proc/acpi | wc -l; "
              "echo x > /proc/sys/kernel/hostname 2>/dev/null && echo writable || echo ro")
    assert run_out(berth, bundle, cid).split() == ["0", "0", "ro"]


def test_root_readonly(berth, bundle, cid):
    bundle.config["root"]["readonly"] = True
    bundle.sh("touch /x 2>/dev/null && echo rw || echo ro; touch /tmp/y && echo tmp-ok")
    bundle.config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"})
    assert run_out(berth, bundle, cid).split() == ["ro", "tmp-ok"]


def test_mount_options_in_mountinfo(berth, bundle, cid, tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    (src / "f").write_text("host data\n")
    bundle.config["mounts"] += [
        {"destination": "/data", "type": "bind", "source": str(src), "options": ["rbind", "ro"]},
        {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "noexec", "size=1m", "mode=1777"]},
    ]
    bundle.sh("cat /data/f; grep -E ' /(data|scratch) ' /proc/self/mountinfo; "
              "echo y > /data/g 2>/dev/null || echo data-ro")
    out = run_out(berth, bundle, cid)
    assert "host data" in out and "data-ro" in out
    lines = {l.split()[4]: l for l in out.splitlines() if l.count(" ") > 5}
    assert "ro" in lines["/data"].split()[5].split(",")
    opts = lines["/scratch"].split()[5].split(",")
    assert {"nosuid", "nodev", "noexec"} <= set(opts)
    assert not (src / "g").exists()


def test_mount_onto_symlink_out_of_rootfs_stays_inside(berth, bundle, cid, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), os.path.join(bundle.rootfs, "evil"))
    bundle.config["mounts"].append(
        {"destination": "/evil/x", "type": "tmpfs", "source": "tmpfs"})
    bundle.sh("grep -c ' /evil/x ' /proc/self/mountinfo || true")
    run_out(berth, bundle, cid)
    assert os.listdir(outside) == []


def test_default_devices(berth, bundle, cid):
    bundle.sh("stat -c '%n %t:%T %a' /dev/null /dev/zero /dev/full /dev/random "
              "/dev/urandom /dev/tty; for l in /dev/ptmx /dev/fd /dev/stdin; do readlink $l; done")
    out = run_out(berth, bundle, cid).split("\n")
    assert out[:6] == ["/dev/null 1:3 666", "/dev/zero 1:5 666", "/dev/full 1:7 666",
                       "/dev/random 1:8 666", "/dev/urandom 1:9 666", "/dev/tty 5:0 666"]
    assert out[6:9] == ["pts/ptmx", "/proc/self/fd", "/proc/self/fd/0"]


def test_config_devices(berth, bundle, cid):
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640,
         "uid": 1000, "gid": 5}]
    bundle.config["linux"]["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"})
    bundle.sh("stat -c '%t:%T %a %u %g' /dev/fuse")
    assert run_out(berth, bundle, cid).strip() == "a:e5 640 1000 5"


def test_sysctl(berth, bundle, cid):
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}
    bundle.sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni")
    assert run_out(berth, bundle, cid).split() == ["1", "1234"]


def test_non_namespaced_sysctl_is_refused(berth, bundle, cid):
    bundle.config["linux"]["sysctl"] = {"vm.swappiness": "10"}
    bundle.write()
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1
    assert '.linux.sysctl["vm.swappiness"]' in p.stderr and "not namespaced" in p.stderr
    assert berth.ids() == []


def test_cwd_is_created(berth, bundle, cid):
    bundle.config["process"]["cwd"] = "/work/dir"
    bundle.args("pwd")
    assert run_out(berth, bundle, cid).strip() == "/work/dir"


def test_env_and_path_lookup(berth, bundle, cid):
    bundle.config["process"]["env"] = ["PATH=/usr/bin:/bin", "FOO=bar baz"]
    bundle.sh('echo "$FOO"')
    assert run_out(berth, bundle, cid).strip() == "bar baz"


@pytest.mark.skipif(not os.path.exists(HELPER), reason="berth-testhelper not built")
def test_no_fd_leaks_into_container(berth, bundle, cid):
    bundle.args("berth-testhelper", "fds")
    assert run_out(berth, bundle, cid).strip() == "0 1 2"


@pytest.mark.skipif(not os.path.exists(HELPER), reason="berth-testhelper not built")
def test_preserve_fds(berth, bundle, cid, tmp_path):
    bundle.args("berth-testhelper", "fds").write()
    # The shell opens fd 3 for berth; pytest's own fds stay untouched.
    p = subprocess.run(["sh", "-c", 'exec 3>"$1"; shift; exec "$@"', "sh",
                        str(tmp_path / "passed"), berth.binary, "--root", berth.root, "run",
                        "--preserve-fds", "1", "-b", bundle.path, cid],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "0 1 2 3"


def _console_server(path, result):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(20)
    try:
        conn, _ = srv.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 64, 1)
        result["fd"] = fds[0]
        conn.close()
    finally:
        srv.close()


def _drain(master):
    """Everything the pty's other side writes, until it is closed; closes
    the master."""
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO once the last slave fd is gone
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return out


def _run_on_console(runtime, bundle, cid, tmp_path):
    """create with a terminal handed to a --console-socket, start, and
    everything the container wrote to it."""
    sock = str(tmp_path / "console.sock")
    result = {}
    t = threading.Thread(target=_console_server, args=(sock, result))
    t.start()
    bundle.config["process"]["terminal"] = True
    bundle.write()
    runtime.cmd("create", "-b", bundle.path, "--console-socket", sock, cid, check=True)
    t.join()
    runtime.cmd("start", cid, check=True)
    return _drain(result["fd"])


@pytest.mark.skipif(not os.path.exists(HELPER), reason="berth-testhelper not built")
def test_console_socket_receives_a_working_pty(berth, bundle, cid, tmp_path):
    bundle.config["process"]["consoleSize"] = {"height": 33, "width": 101}
    bundle.sh("berth-testhelper isatty; berth-testhelper winsize; tty; "
              "stat -L -c %t:%T /dev/console $(tty)")
    out = _run_on_console(berth, bundle, cid, tmp_path)
    lines = out.decode().replace("\r", "").split("\n")
    assert lines[0] == "1" and lines[1] == "33 101"
    assert lines[2].startswith("/dev/pts/")
    # /dev/console is that pty.
    assert lines[3] == lines[4] and lines[3].startswith("88:")
    berth.cmd("delete", "-f", cid, check=True)


def test_terminal_belongs_to_the_process_user(runtime, bundle, cid, tmp_path):
    """The init's pty is chowned to process.user's uid (the group stays
    devpts' tty group), as runc does and as `exec -t` already did."""
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.sh("stat -c %u:%g $(tty)")
    out = _run_on_console(runtime, bundle, cid, tmp_path)
    assert out.decode().split() == ["1000:5"]
    runtime.cmd("delete", "-f", cid, check=True)


def test_loopback_is_up_in_a_new_network_namespace(berth, bundle, cid):
    # A listener on 127.0.0.1 is reachable only when lo is up.
    bundle.sh("ip link show lo | head -1; (nc -l -p 7777 127.0.0.1 &) ; sleep 0.2; "
              "echo hi | nc -w 2 127.0.0.1 7777 && echo connect-ok || echo connect-failed")
    out = run_out(berth, bundle, cid)
    assert ",UP" in out.splitlines()[0]
    assert "connect-ok" in out


def test_cgroup_mount_shows_the_containers_own_cgroup(berth, bundle, cid):
    """The "cgroup" mount shows the container's cgroup, not the host's tree:
    on v1 each hierarchy is a bind of the container's directory; on v2 the
    cgroup2 mount of its cgroup namespace."""
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    bundle.config["linux"]["resources"]["pids"] = {"limit": 77}
    bundle.sh("cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; "
              "ls /sys/fs/cgroup/pids/ 2>/dev/null | grep -c '^bt' || true; "
              "touch /sys/fs/cgroup/x 2>/dev/null && echo rw || echo ro")
    out = run_out(berth, bundle, cid).split()
    assert out[0] == "77"
    assert out[1] == "0"  # no sibling containers' directories in sight
    assert out[-1] == "ro"


def test_tmpcopyup_fills_the_tmpfs_with_the_image_content(berth, bundle, cid):
    """Podman adds tmpcopyup to --tmpfs and --read-only mounts: the tmpfs
    starts with what the image had there, owners and links included."""
    etc = os.path.join(bundle.rootfs, "opt", "data")
    os.makedirs(os.path.join(etc, "sub"))
    with open(os.path.join(etc, "sub", "f"), "w") as f:
        f.write("from the image\n")
    os.chown(os.path.join(etc, "sub", "f"), 1000, 1000)
    os.symlink("sub/f", os.path.join(etc, "link"))
    bundle.config["root"]["readonly"] = True
    bundle.config["mounts"].append({"destination": "/opt/data", "type": "tmpfs",
                                    "source": "tmpfs",
                                    "options": ["tmpcopyup", "nosuid", "size=1m"]})
    bundle.sh("cat /opt/data/link; stat -c '%u' /opt/data/sub/f; "
              "echo new > /opt/data/g && echo writable; "
              "grep ' /opt/data ' /proc/self/mountinfo | grep -c tmpfs")
    out = run_out(berth, bundle, cid).split("\n")
    assert out[:4] == ["from the image", "1000", "writable", "1"]
    assert not os.path.exists(os.path.join(etc, "g"))  # the image is untouched


def test_tmpcopyup_keeps_the_mode_option(berth, bundle, cid):
    bundle.config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                                    "options": ["tmpcopyup", "mode=1777"]})
    bundle.args("stat", "-c", "%a", "/tmp")
    assert run_out(berth, bundle, cid).strip() == "1777"


# ---- linux.memoryPolicy --------------------------------------------------------------

NUMA = os.path.isdir("/sys/devices/system/node/node0")


@pytest.mark.skipif(not NUMA, reason="no NUMA support in this kernel")
@pytest.mark.parametrize("policy,shown", [
    ({"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]},
     "interleave=static:0"),
    ({"mode": "MPOL_BIND", "nodes": "0"}, "bind:0"),
    ({"mode": "MPOL_PREFERRED", "nodes": "0"}, "prefer:0"),
    ({"mode": "MPOL_LOCAL"}, "local"),
    ({"mode": "MPOL_DEFAULT"}, "default"),
])
def test_memory_policy_is_the_process_policy(berth, bundle, cid, policy, shown):
    """The program runs with the policy (numa_maps shows the policy of each
    mapping, the process' own where the mapping has none)."""
    bundle.config["linux"]["memoryPolicy"] = policy
    bundle.sh("head -1 /proc/self/numa_maps")
    assert run_out(berth, bundle, cid).split()[1] == shown


@pytest.mark.skipif(not NUMA, reason="no NUMA support in this kernel")
@pytest.mark.parametrize("policy,path,words", [
    ({"mode": "MPOL_SPREAD"}, ".linux.memoryPolicy.mode", "MPOL_SPREAD"),
    ({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_FAST"]},
     ".linux.memoryPolicy.flags[0]", "MPOL_F_FAST"),
    ({"mode": "MPOL_BIND"}, ".linux.memoryPolicy.nodes", "needs at least one node"),
    ({"mode": "MPOL_LOCAL", "nodes": "0"}, ".linux.memoryPolicy.nodes", "takes no nodes"),
    ({"mode": "MPOL_BIND", "nodes": "0-"}, ".linux.memoryPolicy.nodes", "is not a list of nodes"),
    ({"mode": "MPOL_BIND", "nodes": "3-1"}, ".linux.memoryPolicy.nodes", "low to high"),
    ({"mode": "MPOL_BIND", "nodes": "63"}, ".linux.memoryPolicy",
     "does this host have those nodes?"),
])
def test_bad_memory_policy(berth, bundle, cid, policy, path, words):
    bundle.config["linux"]["memoryPolicy"] = policy
    bundle.args("true").write()
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1
    assert f"config.json: {path}: " in p.stderr and words in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert berth.ids() == []
    c = berth.cmd("check", "-b", bundle.path)
    if "those nodes" not in words:  # the kernel's answer, known at create only
        assert c.returncode == 1 and f"config.json: {path}: " in c.stdout, c.stdout


# ---- linux.netDevices ----------------------------------------------------------------

@pytest.fixture
def veth(cid):
    if shutil.which("ip") is None:
        pytest.skip("no ip(8) here (iproute2)")
    """A veth pair on the host, (moved end, peer), addresses on the first:
    a permanent global IPv4 and IPv6 one, and removed at teardown if the
    test left it."""
    # Names of their own per test: a namespace that ends removes its
    # devices later, in a kernel workqueue.
    tag = cid.split("-")[-1] + str(os.getpid() % 10000)
    a, b = f"bta{tag}"[:15], f"btb{tag}"[:15]
    subprocess.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b], check=True)
    subprocess.run(["ip", "addr", "add", "10.199.7.1/24", "dev", a], check=True)
    subprocess.run(["ip", "-6", "addr", "add", "fd00:199::1/64", "dev", a], check=True)
    yield a, b
    for name in (a, b):
        subprocess.run(["ip", "link", "del", name], capture_output=True)


def _host_has(name):
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


def test_net_device_is_moved_renamed_with_its_addresses_and_up(berth, bundle, cid, veth):
    a, b = veth
    bundle.config["linux"]["netDevices"] = {a: {"name": "ctr0"}}
    bundle.args("true").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    assert not _host_has(a)
    berth.cmd("start", cid, check=True)
    berth.wait_stopped(cid)
    berth.cmd("delete", cid, check=True)
    # A virtual device dies with the namespace, and its peer with it.
    deadline = time.time() + 10
    while _host_has(b) and time.time() < deadline:
        time.sleep(0.05)
    assert not _host_has(a) and not _host_has(b)


def test_net_device_inside(berth, bundle, cid, veth):
    a, _ = veth
    bundle.config["linux"]["netDevices"] = {a: {"name": "ctr0"}}
    bundle.sh("ip addr show ctr0")
    text = run_out(berth, bundle, cid)
    assert ",UP" in text.splitlines()[0] and " ctr0@" in text.splitlines()[0], text
    assert "inet 10.199.7.1/24 scope global ctr0" in text
    assert "inet6 fd00:199::1/64 scope global" in text


def test_net_device_name_template(berth, bundle, cid, veth):
    a, _ = veth
    bundle.config["linux"]["netDevices"] = {a: {"name": "eth%d"}}
    bundle.sh("ip -o link show | grep -o 'eth[0-9]*' | head -1")
    assert run_out(berth, bundle, cid).strip() == "eth0"


@pytest.mark.parametrize("case", ["clash", "missing", "no-netns", "bad-name"])
def test_bad_net_devices(berth, bundle, cid, veth, case):
    """Refused at create, naming the device (a key of letters and digits is
    written .key in a JSON path); a device that was not moved
    stays on the host, and nothing is left behind."""
    a, _ = veth
    path, words = f".linux.netDevices.{a}", ""
    if case == "clash":
        bundle.config["linux"]["netDevices"] = {a: {"name": "lo"}}
        words = "already has an interface lo"
    elif case == "missing":
        bundle.config["linux"]["netDevices"] = {"btnope0": {}}
        path, words = ".linux.netDevices.btnope0", "no network interface btnope0 on the host"
    elif case == "no-netns":
        bundle.config["linux"]["netDevices"] = {a: {}}
        bundle.config["linux"]["namespaces"] = [
            n for n in bundle.config["linux"]["namespaces"] if n["type"] != "network"]
        path, words = ".linux.netDevices", "needs a network namespace"
    else:
        bundle.config["linux"]["netDevices"] = {a: {"name": "a/b"}}
        path, words = f".linux.netDevices.{a}.name", "is not a network interface name"
    bundle.args("true").write()
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1
    assert f"config.json: {path}: " in p.stderr and words in p.stderr, p.stderr
    assert berth.ids() == []
    assert _host_has(a)


def test_bind_source_only_the_host_root_reaches(runtime, open_bundle, cid, tmp_path):
    """With a user namespace of its own the init is not the host's root; the
    runtime takes each bind mount's source first, as the host's root (runc
    since 1.1), so a source under a 0700 directory of root's still mounts."""
    bundle = open_bundle
    private = tmp_path / "private"
    private.mkdir(mode=0o700)  # root's: no one else gets through it
    secret = private / "shared"
    secret.mkdir(mode=0o755)   # readable by all, once reached
    (secret / "data").write_text("only-root-reaches-this\n")
    (secret / "file").write_text("a-single-file\n")
    for f in ("data", "file"):
        os.chmod(secret / f, 0o644)
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    for key in ("uidMappings", "gidMappings"):
        bundle.config["linux"][key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config["mounts"] += [
        # Existing destinations: the mapped root may not create any in
        # this root-owned rootfs.
        {"destination": "/root", "type": "bind", "source": str(secret), "options": ["rbind"]},
        {"destination": "/etc/group", "type": "bind", "source": str(secret / "file"),
         "options": ["bind", "ro"]}]
    bundle.sh("cat /root/data /etc/group; touch /etc/group 2>/dev/null && echo writable || echo ro")
    bundle.write()
    p = runtime.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["only-root-reaches-this", "a-single-file", "ro"]
    assert runtime.ids() == []


def test_many_bind_sources_reach_the_mounts(berth, open_bundle, cid, tmp_path):
    """The init keeps every bind source the runtime took for it while it
    closes the runtime's other fds: the list once stopped at eight fds (the
    sync socket and exec.fifo among them), and the seventh mount failed
    with EBADF."""
    bundle = open_bundle
    os.chmod(tmp_path, 0o755)
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    for key in ("uidMappings", "gidMappings"):
        bundle.config["linux"][key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    for i in range(12):
        src = tmp_path / f"src{i}"
        src.mkdir()
        (src / "n").write_text(f"{i}\n")
        os.chmod(src / "n", 0o644)
        # One destination, mounted over and over: the last one shows.
        bundle.config["mounts"].append({"destination": "/tmp", "type": "bind",
                                        "source": str(src), "options": ["rbind"]})
    bundle.sh("cat /tmp/n")
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["11"]


# ---- namespaces left out are inherited ------------------------------------------

def _mounts_below(path):
    with open("/proc/self/mountinfo") as f:
        return [l.split()[4] for l in f if l.split()[4] == path or
                l.split()[4].startswith(path + "/")]


def test_namespaces_left_out_are_the_runtime_s(berth, open_bundle, cid):
    """config-linux.md: a namespace type the config leaves out is inherited.
    Here every one but pid: the mounts go into the runtime's mount
    namespace, are recorded, and delete removes them all."""
    bundle = open_bundle
    bundle.config["linux"]["namespaces"] = [{"type": "pid"}]
    bundle.config.pop("hostname", None)
    bundle.sh("for t in mnt net ipc uts; do readlink /proc/self/ns/$t; done; "
              "cat /proc/1/comm; sleep 100")
    bundle.write()
    before = _mounts_below(os.path.realpath(bundle.rootfs))
    assert before == []
    out = os.path.join(bundle.path, "out")
    with open(out, "w") as f, open(out + ".err", "w+") as e:
        p = subprocess.run([berth.binary, "--root", berth.root, "run", "-d", "-b", bundle.path,
                            cid], stdout=f, stderr=e, timeout=30)
        e.seek(0)
        assert p.returncode == 0, e.read()
    rootfs = os.path.realpath(bundle.rootfs)
    mounts = _mounts_below(rootfs)
    assert rootfs + "/proc" in mounts and rootfs + "/dev" in mounts, mounts
    deadline = time.time() + 10
    while len(open(out).read().split()) < 5 and time.time() < deadline:
        time.sleep(0.02)
    lines = open(out).read().split()
    assert lines[:4] == [os.readlink(f"/proc/self/ns/{t}") for t in ("mnt", "net", "ipc", "uts")]
    assert lines[4] == "sleep" or lines[4] == "sh"
    berth.cmd("delete", "--force", cid, check=True)
    assert _mounts_below(rootfs) == []


def test_new_user_namespace_without_a_mount_namespace_is_refused(berth, open_bundle, cid):
    bundle = open_bundle
    bundle.config["linux"]["namespaces"] = [{"type": "pid"}, {"type": "user"}]
    for key in ("uidMappings", "gidMappings"):
        bundle.config["linux"][key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config.pop("hostname", None)
    bundle.args("true").write()
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1
    assert "config.json: .linux.namespaces: a new user namespace needs a mount namespace" \
        in p.stderr, p.stderr
    assert berth.ids() == []
    assert _mounts_below(os.path.realpath(bundle.rootfs)) == []
