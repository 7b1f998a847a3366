"""berth exec: a new process in an existing container, observed from inside
the container and from the host."""
import array
import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import HELPER, Bundle

pytestmark = pytest.mark.cgroup


def start(berth, bundle, cid, *args):
    bundle.args(*(args or ("sleep", "100"))).write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    return berth.state(cid)["pid"]


def wait_status(berth, cid, want, timeout=10):
    deadline = time.time() + timeout
    st = None
    while time.time() < deadline:
        st = berth.state(cid)["status"]
        if st == want:
            return
        time.sleep(0.02)
    raise AssertionError(f"{cid} never became {want}; last {st}")


def wait_gone(pid, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return
        except (FileNotFoundError, ProcessLookupError):  # gone before, or between open and read
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} is still there")


class FdServer:
    """A unix socket that accepts one connection and receives one fd
    (SCM_RIGHTS), as containerd's shim does for --console-socket."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.fd = None
        self.payload = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        conn, _ = self.sock.accept()
        with conn:
            fds = array.array("i")
            msg, anc, _, _ = conn.recvmsg(64, socket.CMSG_SPACE(fds.itemsize))
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
            self.payload = msg
            self.fd = fds[0] if fds else None

    def received(self):
        self.thread.join(20)
        self.sock.close()
        assert self.fd is not None, "no fd received"
        return self.fd


# ---- output, status, stdio -------------------------------------------------


def test_exec_output_and_exit_status(berth, bundle, cid):
    start(berth, bundle, cid)
    p = berth.cmd("exec", cid, "sh", "-c", "echo out; echo err >&2; exit 5")
    assert p.returncode == 5
    assert p.stdout == "out\n" and p.stderr == "err\n"
    p = berth.cmd("exec", cid, "sh", "-c", "read x; echo got:$x", input="hello\n")
    assert p.returncode == 0 and p.stdout == "got:hello\n"
    # Flags stop at the command: its own -c/-e belong to it.
    p = berth.cmd("exec", cid, "sh", "-c", "echo -e a")
    assert p.returncode == 0 and p.stdout.strip() == "a"
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_signal_status_is_128_plus_n(berth, bundle, cid):
    start(berth, bundle, cid)
    p = berth.cmd("exec", cid, "sh", "-c", "kill -KILL $$")
    assert p.returncode == 128 + 9
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_forwards_signals(berth, bundle, cid, tmp_path):
    start(berth, bundle, cid)
    pidfile = tmp_path / "pid"
    proc = subprocess.Popen([berth.binary, "--root", berth.root, "exec", "--pid-file",
                             str(pidfile), cid, "sleep", "100"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not pidfile.exists() and time.time() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_errors_exit_255(berth, bundle, cid):
    start(berth, bundle, cid)
    p = berth.cmd("exec", cid, "no-such-program")
    assert p.returncode == 255 and "executable file not found" in p.stderr
    p = berth.cmd("exec", "--cwd", "/no/such/dir", cid, "true")
    assert p.returncode == 255 and "/no/such/dir" in p.stderr
    assert not os.path.exists(os.path.join(bundle.rootfs, "no"))  # not created
    p = berth.cmd("exec", "--cwd", "relative", cid, "true")
    assert p.returncode == 255 and "absolute" in p.stderr
    # Both modules are absent here; with them, the labels would be applied.
    if not os.path.exists("/sys/module/apparmor"):
        p = berth.cmd("exec", "--apparmor", "docker-default", cid, "true")
        assert p.returncode == 255 and "AppArmor is not enabled on this host" in p.stderr
        assert ".apparmorProfile" in p.stderr
    if not os.path.exists("/sys/fs/selinux/enforce"):
        p = berth.cmd("exec", "--process-label", "system_u:system_r:container_t:s0", cid, "true")
        assert p.returncode == 255 and "SELinux is not enabled on this host" in p.stderr
        assert ".selinuxLabel" in p.stderr
    p = berth.cmd("exec", "-e", "NOEQUALS", cid, "true")
    assert p.returncode == 255 and "KEY=VALUE" in p.stderr
    p = berth.cmd("exec", cid)
    assert p.returncode == 255 and "args cannot be empty" in p.stderr
    p = berth.cmd("exec", "-u", "someone", cid, "true")
    assert p.returncode == 255 and "--user" in p.stderr
    p = berth.cmd("exec", "-t", "-d", cid, "true")
    assert p.returncode == 255 and "console socket" in p.stderr
    p = berth.cmd("exec", "--console-socket", "/nonexistent.sock", cid, "true")
    assert p.returncode == 255 and "console socket" in p.stderr
    p = berth.cmd("exec", "no-such-container", "true")
    assert p.returncode == 255 and "does not exist" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    berth.cmd("delete", "-f", cid, check=True)


# ---- the process: flags, config, process.json ---------------------------------


def test_exec_flags_seen_from_inside(berth, bundle, cid):
    bundle.config["process"]["env"].append("KEEP=config")
    start(berth, bundle, cid)
    p = berth.cmd("exec", "--cwd", "/tmp", "-e", "FOO=bar", "-e", "TERM=dumb",
                  "-u", "1000:1000", "-g", "5", "-g", "7", cid,
                  "sh", "-c", "pwd; id -u; id -g; id -G; env")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "/tmp"
    assert lines[1] == "1000" and lines[2] == "1000"
    assert sorted(lines[3].split()) == ["1000", "5", "7"]
    env = lines[4:]
    assert "FOO=bar" in env and "KEEP=config" in env
    assert [e for e in env if e.startswith("TERM=")] == ["TERM=dumb"]  # replaced, not doubled
    assert "HOME=/home/user" in env  # from the container's /etc/passwd
    # Without flags: the config's process (user root, cwd /).
    p = berth.cmd("exec", cid, "sh", "-c", "pwd; id -u")
    assert p.stdout.split() == ["/", "0"]
    berth.cmd("delete", "-f", cid, check=True)


def _caps(status):
    return {k: int(v, 16) for k, v in
            (l.split(":\t") for l in status.splitlines() if l.startswith("Cap"))}


def test_exec_capabilities_and_no_new_privs(berth, bundle, cid):
    bundle.config["process"]["noNewPrivileges"] = False
    start(berth, bundle, cid)
    p = berth.cmd("exec", cid, "cat", "/proc/self/status")
    base = _caps(p.stdout)
    assert "NoNewPrivs:\t0" in p.stdout
    p = berth.cmd("exec", "--cap", "CAP_SYS_ADMIN", "-c", "net_raw", "--no-new-privs", cid,
                  "cat", "/proc/self/status")
    assert p.returncode == 0, p.stderr
    caps = _caps(p.stdout)
    for k in ("CapBnd", "CapEff", "CapPrm"):
        assert caps[k] == base[k] | (1 << 21) | (1 << 13), k
    assert "NoNewPrivs:\t1" in p.stdout
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_process_json(berth, bundle, cid, tmp_path):
    start(berth, bundle, cid)
    proc = {
        "user": {"uid": 1000, "gid": 1000, "additionalGids": [5]},
        "args": ["sh", "-c", "pwd; id -u; id -G; echo $ONLY"],
        "env": ["PATH=/bin", "ONLY=from-json"],
        "cwd": "/home/user",
    }
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    p = berth.cmd("exec", "-p", path, cid)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["/home/user", "1000", "1000 5", "from-json"]
    # A bad document names itself and the JSON path.
    path.write_text(json.dumps({**proc, "cwd": "relative"}))
    p = berth.cmd("exec", "-p", path, cid)
    assert p.returncode == 255
    assert "process.json" in p.stderr and ".cwd" in p.stderr
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_process_json_as_runc_reads_it(runtime, bundle, cid, tmp_path):
    """runc takes a process.json without `user` as root, and ignores the
    process flags beside -p without a word (its stderr is the process')."""
    start(runtime, bundle, cid)
    path = tmp_path / "process.json"
    path.write_text(json.dumps({"args": ["sh", "-c", "id -u; id -g; pwd"], "cwd": "/tmp",
                                "env": ["PATH=/bin"]}))
    p = runtime.cmd("exec", "--cwd", "/", "--env", "X=1", "--user", "1000", "-p", path, cid,
                    "ignored", "args")
    assert (p.returncode, p.stdout.split(), p.stderr) == (0, ["0", "0", "/tmp"], ""), p.stderr
    runtime.cmd("delete", "-f", cid, check=True)


# ---- namespaces, root, cgroups ----------------------------------------------


NAMESPACES = ("ipc", "mnt", "net", "pid", "uts", "cgroup", "user", "time")


def test_exec_joins_every_namespace_of_the_init(berth, bundle, cid):
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    init = start(berth, bundle, cid)
    names = [n for n in NAMESPACES if os.path.exists(f"/proc/{init}/ns/{n}")]
    script = "; ".join(f"readlink /proc/self/ns/{n}" for n in names)
    p = berth.cmd("exec", cid, "sh", "-c", script + "; hostname; echo $$")
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    for n, got in zip(names, out):
        assert got == os.readlink(f"/proc/{init}/ns/{n}"), n
    assert out[len(names)] == "berth-test"
    assert int(out[len(names) + 1]) > 1  # a pid of the container's pid namespace
    # The container's root, not the host's.
    p = berth.cmd("exec", cid, "ls", "/")
    assert sorted(p.stdout.split()) == sorted(os.listdir(bundle.rootfs))
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_joins_a_user_namespace(berth, open_bundle, cid, tmp_path):
    bundle = open_bundle
    bundle.config["linux"]["namespaces"] += [{"type": "user"}, {"type": "cgroup"},
                                             {"type": "time"}]
    for key in ("uidMappings", "gidMappings"):
        bundle.config["linux"][key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.args("sleep", "100").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    init = berth.state(cid)["pid"]
    names = [n for n in NAMESPACES if os.path.exists(f"/proc/{init}/ns/{n}")]
    script = "id -u; " + "; ".join(f"readlink /proc/self/ns/{n}" for n in names)
    p = berth.cmd("exec", cid, "sh", "-c", script)
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert out[0] == "0"
    assert out[1:] == [os.readlink(f"/proc/{init}/ns/{n}") for n in names]
    pidfile = tmp_path / "exec.pid"
    p = berth.cmd("exec", "-d", "-u", "1000:1000", "--pid-file", pidfile, cid, "sleep", "100")
    assert p.returncode == 0, p.stderr
    with open(f"/proc/{int(pidfile.read_text())}/status") as f:
        status = dict(l.split(":", 1) for l in f.read().splitlines())
    assert status["Uid"].split()[0] == "101000" and status["Gid"].split()[0] == "101000"
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_is_in_the_container_cgroup(berth, bundle, cid):
    start(berth, bundle, cid)
    p = berth.cmd("exec", cid, "sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup")
    assert p.returncode == 0, p.stderr
    mine, init = p.stdout.split("--\n")
    assert mine == init and cid in mine
    berth.cmd("delete", "-f", cid, check=True)


def _container_cgroup_dirs(init, cid):
    """The container's cgroup directory per hierarchy ("" is the v2 one):
    named after the id (cgroupfs driver) or berth-<id>.scope (systemd)."""
    dirs = {}
    with open(f"/proc/{init}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if not (path.endswith("/" + cid) or path.endswith(f"-{cid}.scope")):
                continue
            if ctrls == "":
                top = "/sys/fs/cgroup/unified" if os.path.ismount("/sys/fs/cgroup/unified") \
                    else "/sys/fs/cgroup"
            else:
                name = ctrls.replace("name=", "")
                top = os.path.join("/sys/fs/cgroup", name)
                if not os.path.isdir(top):
                    continue
            dirs[ctrls] = top + path
    return dirs


def _cgroups_of(text):
    return {l.split(":", 2)[1]: l.split(":", 2)[2] for l in text.splitlines()}


def test_exec_cgroup_flag_uses_a_sub_cgroup(berth, bundle, cid):
    init = start(berth, bundle, cid)
    dirs = _container_cgroup_dirs(init, cid)
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    assert ("" if v2 else "memory") in dirs, dirs
    for d in dirs.values():
        os.mkdir(os.path.join(d, "sub"))
        for f in ("cpuset.cpus", "cpuset.mems"):  # a v1 cpuset starts empty
            if not v2 and os.path.exists(os.path.join(d, f)):
                with open(os.path.join(d, f)) as src, open(os.path.join(d, "sub", f), "w") as dst:
                    dst.write(src.read())
    p = berth.cmd("exec", "--cgroup", "sub", cid, "cat", "/proc/self/cgroup")
    assert p.returncode == 0, p.stderr
    seen = _cgroups_of(p.stdout)
    for ctrls, d in dirs.items():
        want = "/" + os.path.basename(d) + "/sub"
        assert seen[ctrls].endswith(want), (ctrls, seen[ctrls], want)
    if v2:
        # One hierarchy: naming a controller is a usage error, as in runc.
        p = berth.cmd("exec", "--cgroup", "memory:sub", cid, "true")
        assert p.returncode == 255 and "give the path alone" in p.stderr, p.stderr
    else:
        p = berth.cmd("exec", "--cgroup", "memory:sub", cid, "cat", "/proc/self/cgroup")
        seen = _cgroups_of(p.stdout)
        base = {c: "/" + os.path.basename(d) for c, d in dirs.items()}
        assert seen["memory"].endswith(base["memory"] + "/sub")
        assert all(seen[c].endswith(base[c]) for c in dirs if c != "memory")
    p = berth.cmd("exec", "--cgroup", "../escape", cid, "true")
    assert p.returncode == 255 and "../escape is not a sub cgroup path" in p.stderr
    p = berth.cmd("exec", "--cgroup", "missing", cid, "true")
    assert p.returncode == 255 and "missing" in p.stderr
    berth.cmd("delete", "-f", cid, check=True)  # removes the sub-cgroups too
    assert not any(os.path.exists(d) for d in dirs.values())


# ---- seccomp ----------------------------------------------------------------


def needs_helper():
    if not os.path.exists(HELPER):
        pytest.skip("berth-testhelper not built")


@pytest.mark.parametrize("nnp", [True, False], ids=["no_new_privs", "cap_sys_admin"])
def test_exec_runs_under_the_container_seccomp_filter(berth, bundle, cid, nnp):
    needs_helper()
    bundle.config["process"]["noNewPrivileges"] = nnp
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }
    start(berth, bundle, cid)
    p = berth.cmd("exec", cid, "berth-testhelper", "syscall", "getppid")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "errno 1 EPERM"
    p = berth.cmd("exec", "-u", "1000", cid, "grep", "^Seccomp:", "/proc/self/status")
    assert p.stdout.split() == ["Seccomp:", "2"]
    berth.cmd("delete", "-f", cid, check=True)
    shutil.rmtree(os.path.join(berth.root, "@seccomp-cache"), ignore_errors=True)


# linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, ..._resp).
NOTIF_RECV, NOTIF_SEND = 0xC0502100, 0xC0182101


def seccomp_agent(path, messages, ready):
    """Take every listener fd sent to `path`: the init's (closed at once) and
    the exec'd process' (its first notification answered with ENOMSG)."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(2)
    srv.settimeout(30)
    ready.set()
    try:
        for _ in range(2):
            conn, _ = srv.accept()
            with conn:
                data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 1)
                while True:
                    more = conn.recv(1 << 16)
                    if not more:
                        break
                    data += more
            m = json.loads(data)
            messages.append(m)
            if m["pid"] != m["state"]["pid"]:  # the exec'd process, not the init
                notif = bytearray(80)
                fcntl.ioctl(fds[0], NOTIF_RECV, notif, True)
                nid = struct.unpack_from("=Q", notif)[0]
                resp = struct.pack("=QqiI", nid, 0, -errno.ENOMSG, 0)
                fcntl.ioctl(fds[0], NOTIF_SEND, bytearray(resp), True)
            for fd in fds:
                os.close(fd)
    except Exception as e:  # reported by the test
        messages.append({"error": repr(e)})
    finally:
        srv.close()


def test_exec_seccomp_listener_gets_the_process(berth, bundle, cid, tmp_path):
    needs_helper()
    path = str(tmp_path / "agent.sock")
    messages, ready = [], threading.Event()
    t = threading.Thread(target=seccomp_agent, args=(path, messages, ready), daemon=True)
    t.start()
    ready.wait(10)
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": path, "listenerMetadata": "m",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}],
    }
    init = start(berth, bundle, cid)
    p = berth.cmd("exec", cid, "berth-testhelper", "syscall", "getppid")
    t.join(10)
    assert not any("error" in m for m in messages), messages
    assert p.stdout.strip() == "errno 42 ENOMSG", p.stderr
    m = messages[-1]
    assert m["fds"] == ["seccompFd"] and m["metadata"] == "m"
    assert m["state"]["id"] == cid and m["state"]["pid"] == init
    assert m["state"]["status"] == "running" and m["pid"] not in (0, init)
    berth.cmd("delete", "-f", cid, check=True)
    shutil.rmtree(os.path.join(berth.root, "@seccomp-cache"), ignore_errors=True)


# ---- terminal, detach, pid file, pidfd -------------------------------------------


def test_exec_tty_over_console_socket(berth, bundle, cid, tmp_path):
    start(berth, bundle, cid)
    server = FdServer(str(tmp_path / "console.sock"))
    p = berth.cmd("exec", "-d", "-t", "--console-socket", server.path, cid,
                  "sh", "-c", "tty; test -t 0 && echo stdin-is-tty; echo done")
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    master = server.received()
    out = b""
    try:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the slave side is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    text = out.decode().replace("\r", "")
    assert text.splitlines()[0].startswith("/dev/pts/")
    assert "stdin-is-tty" in text and "done" in text
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_tty_relayed_when_attached(berth, bundle, cid):
    start(berth, bundle, cid)
    master, slave = os.openpty()
    proc = subprocess.Popen([berth.binary, "--root", berth.root, "exec", "-t", cid,
                             "sh", "-c", "tty; read x; echo got:$x; exit 3"],
                            stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out = b""
    try:
        os.write(master, b"abc\n")
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        assert proc.wait(timeout=10) == 3
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode().replace("\r", "")
    assert "/dev/pts/" in text and "got:abc" in text
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_detach_and_pid_file(berth, bundle, cid, tmp_path):
    init = start(berth, bundle, cid)
    pidfile = tmp_path / "exec.pid"
    p = berth.cmd("exec", "-d", "--pid-file", pidfile, cid, "sleep", "100")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == ""
    text = pidfile.read_text()
    assert not text.endswith("\n")  # as runc
    pid = int(text)
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{init}/ns/pid")
    assert os.readlink(f"/proc/{pid}/exe").endswith("busybox")
    berth.cmd("delete", "-f", cid, check=True)
    wait_gone(pid)  # died with the container's pid namespace


def test_exec_pidfd_socket(berth, bundle, cid, tmp_path):
    start(berth, bundle, cid)
    server = FdServer(str(tmp_path / "pidfd.sock"))
    pidfile = tmp_path / "exec.pid"
    p = berth.cmd("exec", "-d", "--pid-file", pidfile, "--pidfd-socket", server.path, cid,
                  "sleep", "100")
    assert p.returncode == 0, p.stderr
    fd = server.received()
    try:
        with open(f"/proc/self/fdinfo/{fd}") as f:
            info = dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)
        assert int(info["Pid"]) == int(pidfile.read_text())
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        wait_gone(int(pidfile.read_text()))
    finally:
        os.close(fd)
    berth.cmd("delete", "-f", cid, check=True)


# ---- container states ------------------------------------------------------------


def test_exec_in_stopped_container_is_refused(berth, bundle, cid):
    bundle.args("true").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    wait_status(berth, cid, "stopped")
    p = berth.cmd("exec", cid, "true")
    assert p.returncode == 255
    assert "cannot exec in a stopped container" in p.stderr
    berth.cmd("delete", cid, check=True)


def test_exec_in_created_container(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    p = berth.cmd("exec", cid, "sh", "-c", "hostname; echo ok")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "berth-test\nok\n"
    assert berth.state(cid)["status"] == "created"
    berth.cmd("delete", "-f", cid, check=True)


def _freezer(berth, cid, init, state):
    """Pause or resume through berth, or, while `berth pause` is not
    implemented, through the container's v1 freezer cgroup directly."""
    verb = "pause" if state == "FROZEN" else "resume"
    p = berth.cmd(verb, cid)
    if p.returncode == 0:
        return
    assert "not implemented" in p.stderr, p.stderr
    d = _container_cgroup_dirs(init, cid).get("freezer")
    if d is None:
        pytest.skip("neither berth pause nor a v1 freezer hierarchy")
    with open(os.path.join(d, "freezer.state"), "w") as f:
        f.write(state)
    deadline = time.time() + 10
    while open(os.path.join(d, "freezer.state")).read().strip() != state:
        assert time.time() < deadline, f"freezer never became {state}"
        time.sleep(0.02)


def test_exec_paused_container(berth, bundle, cid, tmp_path):
    init = start(berth, bundle, cid)
    ran = os.path.join(bundle.rootfs, "tmp", "ran")
    _freezer(berth, cid, init, "FROZEN")
    try:
        assert berth.state(cid)["status"] == "paused"
        p = berth.cmd("exec", cid, "true")
        assert p.returncode == 255
        assert "cannot exec in a paused container (use --ignore-paused to override)" in p.stderr
        # --ignore-paused: set up, then frozen with the rest until resumed.
        p = berth.cmd("exec", "-d", "--ignore-paused", cid, "sh", "-c", "echo ran > /tmp/ran",
                      timeout=20)
        assert p.returncode == 0, p.stderr
        time.sleep(0.2)
        assert not os.path.exists(ran)
        # The frozen process holds no lock on the container: resume can run.
        assert berth.cmd("state", cid, timeout=10).returncode == 0
    finally:
        _freezer(berth, cid, init, "THAWED")
    deadline = time.time() + 10
    while not os.path.exists(ran) and time.time() < deadline:
        time.sleep(0.02)
    assert os.path.exists(ran)
    berth.cmd("delete", "-f", cid, check=True)


# ---- the host stays untouched -------------------------------------------------


def _ownership(paths):
    out = {}
    for p in paths:
        st = os.lstat(p)
        out[p] = (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
    return out


def test_exec_user_changes_no_host_ownership(berth, bundle, cid):
    start(berth, bundle, cid)
    files = ["/dev/null", "/dev/zero", bundle.path]
    for root, dirs, names in os.walk(bundle.rootfs):
        files += [os.path.join(root, n) for n in dirs + names]
    before = _ownership(files)
    for extra in ((), ("-g", "5")):
        p = berth.cmd("exec", "--user", "1000", *extra, cid, "sh", "-c", "id -u; cat >/dev/null",
                      stdin=subprocess.DEVNULL)
        assert p.returncode == 0 and p.stdout == "1000\n", p.stderr
    assert _ownership(files) == before
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_leaks_no_host_fd(berth, bundle, cid, tmp_path):
    start(berth, bundle, cid)
    p = berth.cmd("exec", cid, "ls", "/proc/self/fd")
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.split(), key=int) == ["0", "1", "2", "3"]  # 3: ls' own directory
    if os.path.exists(HELPER):
        p = berth.cmd("exec", cid, "berth-testhelper", "fds")
        assert p.stdout.strip() == "0 1 2"
    # --preserve-fds 1: fd 3 of the caller, and nothing else, goes in.
    marker = tmp_path / "marker"
    marker.write_text("x")
    p = subprocess.run(["sh", "-c", 'exec 3<"$0"; exec "$@"', str(marker), berth.binary,
                        "--root", berth.root, "exec", "--preserve-fds", "1", cid,
                        "sh", "-c", "ls /proc/self/fd; cat <&3"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert lines[-1] == "x"
    assert sorted(lines[:-1], key=int) == ["0", "1", "2", "3", "4"]  # 4: ls' own directory
    # A preserved fd that is not open is refused.
    p = berth.cmd("exec", "--preserve-fds", "5", cid, "true")
    assert p.returncode == 255 and "not open" in p.stderr
    berth.cmd("delete", "-f", cid, check=True)
