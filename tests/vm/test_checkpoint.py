"""Checkpoint and restore through CRIU (issue #17): `checkpoint` / `restore`
of the runtime, and Podman's `container checkpoint` / `restore` (with
`--export` / `--import`) driving it.  Every case runs twice: with berth, the
build under test, and with runc (1.1.5, Debian's), the control that proves
the case against a runtime known to do it.

Run only in the VM tier's guest (tests/vm/run.sh): the CI host's kernel
fails `criu check`; the guest image carries criu (3.17) and iptables (CRIU
locks a container's network namespace with iptables-restore while it dumps).
guest.sh copies this file next to the integration tier's conftest.py.

Each check observes the effect: a counter a shell keeps in memory must go on
from where the dump stopped it, under the same random tag (drawn once when
the shell starts: a restarted process would draw another), files in a bind
mount and a tmpfs, a listening socket in the container's network namespace,
/proc/PID/cgroup and the systemd unit."""
import json
import os
import select
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time

import pytest

from conftest import BERTH, RUNC, _cgroup_dirs_named, run_via_files

CG = "/sys/fs/cgroup"
SD = ("--systemd-cgroup",)

pytestmark = [
    pytest.mark.skipif(not os.path.isdir("/run/systemd/system"),
                       reason="needs the VM tier's guest (systemd PID 1, criu)"),
    pytest.mark.skipif(not os.path.exists(f"{CG}/cgroup.controllers"),
                       reason="a cgroup v2 host"),
]

# The shell's memory is the state: $s is drawn once, $n counts up.  The
# file is replaced whole (a dump between its truncation and the write would
# leave it empty); stdout gets one write a line.
COUNTER = ('read s < /proc/sys/kernel/random/uuid; n=0; while :; do n=$((n + 1)); '
           'echo "$s $n" > {file}.t; mv {file}.t {file}; {extra}sleep 0.1; done')


def counter_script(file="/tmp/n", stdout=False):
    return COUNTER.format(file=file, extra='echo "$s $n"; ' if stdout else "")


@pytest.fixture(scope="module", autouse=True)
def criu_works():
    """The guest's CRIU can checkpoint at all; otherwise nothing here means
    anything."""
    if shutil.which("criu") is None:
        pytest.fail("criu is not installed in the guest image (tests/vm/run.sh's packages)")
    p = subprocess.run(["criu", "check"], capture_output=True, text=True, timeout=120)
    if "Looks good" not in p.stdout + p.stderr:
        pytest.fail(f"criu check: {p.returncode}: {p.stdout}{p.stderr}")


def test_criu_check_looks_good():
    """(criu_works asked `criu check`.)  What CRIU locks a network namespace
    with, and what it saves one's addresses with."""
    assert shutil.which("iptables-restore") and shutil.which("ip"), "iptables, iproute2"


# ---- what every case needs ---------------------------------------------------

def mountpoints():
    with open("/proc/self/mountinfo") as f:
        return sorted(l.split()[4] for l in f)


def procs_rooted_under(path):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink(f"/proc/{p}/root").startswith(path):
                    out.append(int(p))
            except OSError:
                pass
    return out


@pytest.fixture(autouse=True)
def nothing_left_behind(tmp_path):
    """No mount on the host, no process in a bundle of this test, once the
    test (and the runtime fixture's teardown, which deletes containers) is
    done; the image and work directories are removed."""
    before = mountpoints()
    yield
    deadline = time.monotonic() + 10
    while procs_rooted_under(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = procs_rooted_under(str(tmp_path))
    for pid in left:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    for d in ("ck", "ck-parent", "work"):
        shutil.rmtree(tmp_path / d, ignore_errors=True)
    new = sorted(set(mountpoints()) - set(before))
    assert not left, f"processes left in the test's bundles: {left}"
    assert not new, f"mounts left on the host: {new}"


@pytest.fixture
def other_id(cid):
    """A second container id (restore under a new id); its cgroup
    directories are checked gone at teardown."""
    name = f"{cid}-new"
    yield name
    assert _cgroup_dirs_named(name) == [], f"cgroup directories left: {_cgroup_dirs_named(name)}"


class Stdio:
    """Pipes as a detached container's stdin, stdout and stderr.  CRIU dumps
    a pipe whose other end is outside the container (the runtime records it
    and restore hands in the restoring caller's), not a file outside the
    container's mounts, such as run_via_files' temporary files."""

    def __init__(self):
        self.fds = [os.pipe() for _ in range(3)]
        for r, _ in self.fds[1:]:
            os.set_blocking(r, False)
        self.out = self.err = b""

    def run(self, argv, timeout=180):
        stdin, stdout, stderr = self.fds[0][0], self.fds[1][1], self.fds[2][1]
        p = subprocess.run([str(a) for a in argv], stdin=stdin, stdout=stdout, stderr=stderr,
                           timeout=timeout)
        self.read()
        return p.returncode

    def read(self):
        for i, (r, _) in enumerate(self.fds[1:]):
            while True:
                try:
                    chunk = os.read(r, 65536)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                if i == 0:
                    self.out += chunk
                else:
                    self.err += chunk
        return self.out.decode(errors="replace")

    def close(self):
        for r, w in self.fds:
            os.close(r)
            os.close(w)


@pytest.fixture
def stdio():
    made = []

    def make():
        s = Stdio()
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def criu_errors(*dirs):
    """The lines around CRIU's errors in its logs, for a failure's message."""
    out = []
    for d in dirs:
        for log in sorted(d.glob("*.log")) if d.exists() else []:
            lines = log.read_text(errors="replace").splitlines()
            for i, l in enumerate(lines):
                if "Error" in l:
                    out += [f"{log.name}: {x}" for x in lines[max(0, i - 3):i + 1]]
    return "\n".join(out[-40:])


class Checkpointer:
    """checkpoint/restore with one runtime, its directories under tmp_path,
    the global flags of a cgroup driver on every call."""

    def __init__(self, runtime, tmp_path, globals_=()):
        self.rt, self.g = runtime, tuple(globals_)
        self.image, self.work = tmp_path / "ck", tmp_path / "work"

    def cmd(self, *args, check=True, **kw):
        p = self.rt.cmd(*args, globals_=self.g, timeout=180, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"{self.rt.name} {' '.join(map(str, args))}: exit "
                                 f"{p.returncode}: {p.stderr.strip()}\n{criu_errors(self.image, self.work)}")
        return p

    def run_detached(self, bundle, cid, io):
        rc = io.run([self.rt.binary, "--root", self.rt.root, *self.g, "run", "-d",
                     "-b", bundle.path, cid])
        assert rc == 0, f"{self.rt.name} run -d: {rc}: {io.err.decode(errors='replace')}"
        return self.rt.state(cid)["pid"]

    def checkpoint(self, cid, *flags):
        return self.cmd("checkpoint", "--image-path", self.image, "--work-path",
                        self.work, *flags, cid)

    def restore(self, bundle, cid, *flags, io=None):
        argv = [self.rt.binary, "--root", self.rt.root, *self.g, "restore", "-d",
                "--image-path", self.image, "--work-path", self.work,
                "-b", bundle.path, *flags, cid]
        if io is None:
            p = run_via_files([str(a) for a in argv], timeout=180, stdin=subprocess.DEVNULL)
            rc, err = p.returncode, p.stderr
        else:
            rc = io.run(argv)
            err = io.err.decode(errors="replace")
        assert rc == 0, (f"{self.rt.name} restore: exit {rc}: {err.strip()}\n"
                         f"{criu_errors(self.image, self.work)}")
        st = self.rt.state(cid)
        assert st["status"] == "running", st
        return st["pid"]

    def gone(self, cid):
        """checkpoint without --leave-running ends the container: no state."""
        p = self.rt.cmd("state", cid, globals_=self.g)
        return p.returncode != 0


@pytest.fixture
def ck(runtime, tmp_path):
    return Checkpointer(runtime, tmp_path)


def read_counter(path, timeout=60):
    """(tag, n) from the counter's file, once there is one."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                parts = f.read().split()
            if len(parts) == 2:
                return parts[0], int(parts[1])
        except FileNotFoundError:
            pass
        assert time.monotonic() < deadline, f"no counter in {path}"
        time.sleep(0.05)


def wait_counter(path, above, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        tag, n = read_counter(path, timeout)
        if n > above:
            return tag, n
        assert time.monotonic() < deadline, f"counter in {path} stuck at {n}"
        time.sleep(0.05)


def stdout_counter(io, above=0, timeout=60, why=None):
    """The last (tag, n) the container wrote to its stdout pipe once n
    passes `above`; `why()`, if given, adds to the message of a counter
    that does not move."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l.split() for l in io.read().splitlines() if len(l.split()) == 2]
        if lines and int(lines[-1][1]) > above:
            return lines[-1][0], int(lines[-1][1])
        if time.monotonic() >= deadline:
            raise AssertionError(f"stdout counter stuck: {io.out[-200:]!r}"
                                 + (f"\n{why()}" if why else ""))
        time.sleep(0.05)


def restored_silence(ck, cid):
    """What a restored container that writes nothing is doing, for the
    message: its state, its processes' states and cgroup, whether that
    cgroup is frozen, the end of CRIU's restore log.  (Seen once in CI: a
    restored counter that wrote nothing for 60 s.)"""
    out = []
    st = ck.rt.cmd("state", cid, globals_=ck.g)
    out.append(f"state: {st.returncode} {st.stdout.strip()} {st.stderr.strip()}")
    try:
        pid = json.loads(st.stdout)["pid"]
        with open(f"/proc/{pid}/cgroup") as f:
            cg = f.read().strip().split("::", 1)[-1]
        with open(f"{CG}{cg}/cgroup.procs") as f:
            procs = f.read().split()
        for p in procs:
            with open(f"/proc/{p}/status") as f:
                state = next(l for l in f if l.startswith("State:")).split(None, 1)[1].strip()
            with open(f"/proc/{p}/wchan") as f:
                wchan = f.read()
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            out.append(f"pid {p}: {state}, wchan {wchan}, {cmd}")
        for name in ("cgroup.events", "cgroup.freeze"):
            with open(f"{CG}{cg}/{name}") as f:
                out.append(f"{cg}/{name}: {f.read().strip()!r}")
    except (OSError, ValueError, KeyError, StopIteration) as e:
        out.append(f"(could not look: {e})")
    log = ck.work / "restore.log"
    if log.exists():
        out += log.read_text(errors="replace").splitlines()[-15:]
    return "\n".join(out)


def proc_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone between open and read
        return False


def wait_dead(pid, timeout=10):
    deadline = time.monotonic() + timeout
    while proc_alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still there"
        time.sleep(0.05)


def exec_out(ck, cid, *argv):
    p = ck.cmd("exec", cid, *argv)
    return p.stdout.strip()


# ---- the runtime itself --------------------------------------------------------

@pytest.mark.parametrize("leave_running", [False, True], ids=["stop", "leave-running"])
def test_counter_in_memory_continues(ck, bundle, cid, stdio, leave_running):
    """The counter goes on from the dump, on the restoring caller's pipes:
    the first line after restore is the one after the old pipe's last.  With
    --leave-running the original runs on after the dump, and the restored
    one starts from the dump's value, not from the original's last."""
    bundle.sh(counter_script(stdout=True)).write()
    io = stdio()
    pid = ck.run_detached(bundle, cid, io)
    tag, before = stdout_counter(io, above=15)
    ck.checkpoint(cid, *(["--leave-running"] if leave_running else []))
    if leave_running:
        st = ck.rt.state(cid)
        assert st["status"] == "running" and st["pid"] == pid, st
        # It runs on: its counter passes where it was when the dump ended.
        _, at_return = stdout_counter(io)
        _, later = stdout_counter(io, above=at_return + 3)
        ck.cmd("kill", cid, "KILL")
        wait_dead(pid)
        ck.rt.wait_stopped(cid)
        ck.cmd("delete", cid)
    else:
        assert ck.gone(cid), "the container is still there after checkpoint"
        wait_dead(pid)
    _, last_old = stdout_counter(io)
    seen_old = len(io.read())
    io2 = stdio()
    newpid = ck.restore(bundle, cid, io=io2)
    tag2, after = stdout_counter(io2, why=lambda: restored_silence(ck, cid))
    first = int(io2.read().split()[1])
    print(f"{ck.rt.name}: before {before}, old pipe's last {last_old}, "
          f"first after restore {first}, then {after}")
    assert tag2 == tag, "another process: the restored shell drew a new tag"
    if leave_running:
        assert before < first <= at_return + 1 and first < later, (before, first, at_return, later)
    else:
        assert first == last_old + 1, (last_old, first)
    # It goes on, on the new pipe only.
    assert stdout_counter(io2, above=after, why=lambda: restored_silence(ck, cid))[1] > after
    assert len(io.read()) == seen_old
    st = ck.rt.state(cid)
    assert st["pid"] == newpid and proc_alive(newpid)
    ck.cmd("delete", "--force", cid)
    wait_dead(newpid)


class ConsoleServer:
    """Receives the pty master a runtime sends to --console-socket."""

    def __init__(self, path):
        self.path = str(path)
        self.fd = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(180)
        self.thread = threading.Thread(target=self._accept)
        self.thread.start()

    def _accept(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
                self.fd = fds[0]
        except OSError:
            pass

    def master(self):
        self.thread.join(200)
        self.sock.close()
        os.unlink(self.path)
        assert self.fd is not None, "no pty master on the console socket"
        return self.fd


def pty_expect(master, want, timeout=30):
    out = b""
    deadline = time.monotonic() + timeout
    while want.encode() not in out:
        left = deadline - time.monotonic()
        assert left > 0, f"{want!r} never came on the pty: {out!r}"
        r, _, _ = select.select([master], [], [], left)
        if r:
            out += os.read(master, 4096)
    return out


@pytest.mark.parametrize("shell_job", [False, True], ids=["plain", "shell-job"])
def test_terminal(ck, bundle, cid, tmp_path, shell_job):
    """A container on a pty (terminal: true): checkpoint needs no
    --shell-job (runc has CRIU take the pty slave whose master is outside
    as an orphan) and works with it too; restore sends a new master to
    --console-socket, through which the restored shell answers."""
    flags = ["--shell-job"] if shell_job else []
    bundle.config["process"]["terminal"] = True
    bundle.sh("(" + counter_script() + ") & "
              'while read l; do echo "got:$l:$(tty)"; done').write()
    srv = ConsoleServer(tmp_path / "c1.sock")
    ck.cmd("create", "--console-socket", srv.path, "-b", bundle.path, cid)
    m1 = srv.master()
    try:
        ck.cmd("start", cid)
        os.write(m1, b"one\n")
        pty_expect(m1, "got:one:/dev/pts/")
        tag, _ = wait_counter(os.path.join(bundle.rootfs, "tmp/n"), 10)
        ck.checkpoint(cid, *flags)
        assert ck.gone(cid)
    finally:
        os.close(m1)
    _, at_dump = read_counter(os.path.join(bundle.rootfs, "tmp/n"))
    srv = ConsoleServer(tmp_path / "c2.sock")
    ck.restore(bundle, cid, "--console-socket", srv.path, *flags)
    m2 = srv.master()
    try:
        os.write(m2, b"two\n")
        pty_expect(m2, "got:two:/dev/pts/")
        tag2, n = wait_counter(os.path.join(bundle.rootfs, "tmp/n"), at_dump)
        assert tag2 == tag and n > at_dump
    finally:
        os.close(m2)
    ck.cmd("delete", "--force", cid)


def test_bind_mount_and_tmpfs(ck, bundle, cid, tmp_path, stdio):
    """A host directory bound in and a tmpfs: after restore the container
    still writes to the host's directory and reads what the host puts
    there, and the tmpfs has its content back."""
    data = tmp_path / "data"
    data.mkdir()
    token = os.urandom(8).hex()
    bundle.config["mounts"] += [
        {"destination": "/data", "type": "bind", "source": str(data), "options": ["rbind", "rw"]},
        {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "size=1m"]},
    ]
    bundle.sh(f"echo {token} > /scratch/f; " + counter_script("/data/n")).write()
    ck.run_detached(bundle, cid, stdio())
    tag, _ = wait_counter(data / "n", 10)
    ck.checkpoint(cid)
    assert ck.gone(cid)
    _, at_dump = read_counter(data / "n")
    ck.restore(bundle, cid, io=stdio())
    tag2, n = wait_counter(data / "n", at_dump)
    assert tag2 == tag, "a new process, not the restored one"
    assert exec_out(ck, cid, "cat", "/scratch/f") == token
    assert exec_out(ck, cid, "stat", "-f", "-c", "%T", "/scratch") == "tmpfs"
    (data / "from-host").write_text("hello\n")
    assert exec_out(ck, cid, "cat", "/data/from-host") == "hello"
    ck.cmd("exec", cid, "sh", "-c", "echo back > /data/from-container")
    assert (data / "from-container").read_text() == "back\n"
    ck.cmd("delete", "--force", cid)


LISTENER = "while :; do echo pong | nc -l -p 7777 >/dev/null; done"
CLIENT = ("for i in 1 2 3 4 5 6 7 8 9 10; do "
          "echo hi | nc -w 2 127.0.0.1 7777 && exit 0; sleep 0.3; done; exit 1")


def listening(pid, port=7777):
    """Whether the process' network namespace has a TCP listener on port
    (read from the host, in /proc/PID/net)."""
    for f in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{f}") as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if int(local.rsplit(":", 1)[1], 16) == port and state == "0A":
                    return True
    return False


def make_netns(name):
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "-n", name, "addr", "add", "192.0.2.7/32", "dev", "lo"], check=True)


@pytest.fixture
def netns(cid):
    """A named network namespace, lo up with an address; `ip netns` makes
    /run/netns a mount point, undone if it was not one before."""
    name = f"ck-{cid}"
    mounted = "/run/netns" in mountpoints()
    make_netns(name)
    yield name
    subprocess.run(["ip", "netns", "delete", name])
    if not mounted:
        subprocess.run(["umount", "/run/netns"], check=True)


def test_own_network_namespace(ck, bundle, cid, stdio):
    """The container's own network namespace (the default spec has one):
    the restored process is in a new namespace of its own, not the host's,
    with its listening socket back.  The namespace's devices come back
    unconfigured (runc has CRIU restore it empty, --empty-ns network: the
    runtime does not manage network devices; the caller sets them up, as a
    CNI plugin would): once lo is up, the restored listener answers."""
    assert any(ns["type"] == "network" and "path" not in ns
               for ns in bundle.config["linux"]["namespaces"])
    caps = bundle.config["process"]["capabilities"]
    for kind in ("bounding", "effective", "permitted"):
        caps[kind] = caps.get(kind, []) + ["CAP_NET_ADMIN"]  # for exec's `ip link set`
    bundle.sh(LISTENER).write()
    pid = ck.run_detached(bundle, cid, stdio())
    assert exec_out(ck, cid, "sh", "-c", CLIENT) == "pong"
    host_ns = os.readlink("/proc/self/ns/net")
    assert os.readlink(f"/proc/{pid}/ns/net") != host_ns
    ck.checkpoint(cid)
    assert ck.gone(cid)
    newpid = ck.restore(bundle, cid, io=stdio())
    # (Its inode may be the old one's: the number is free again.)
    assert os.readlink(f"/proc/{newpid}/ns/net") != host_ns
    # The restored nc (nothing else runs in that namespace).
    assert listening(newpid), "no listener in the restored namespace"
    ck.cmd("exec", cid, "ip", "link", "set", "lo", "up")
    assert exec_out(ck, cid, "sh", "-c", CLIENT) == "pong"
    ck.cmd("delete", "--force", cid)


def test_joined_network_namespace(ck, bundle, cid, stdio, netns):
    """A network namespace the container joins by path, as an engine's:
    CRIU leaves it locked after the dump (its iptables rules drop all), so
    the engine makes a new one for the restore (Podman does), and restore
    joins that one, configured as the engine left it; the restored
    listener answers there."""
    path = f"/run/netns/{netns}"
    for ns in bundle.config["linux"]["namespaces"]:
        if ns["type"] == "network":
            ns["path"] = path
    bundle.sh(LISTENER).write()
    pid = ck.run_detached(bundle, cid, stdio())
    assert os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(path).st_ino
    assert exec_out(ck, cid, "sh", "-c", CLIENT) == "pong"
    ck.checkpoint(cid)
    assert ck.gone(cid)
    subprocess.run(["ip", "netns", "delete", netns], check=True)
    make_netns(netns)
    newpid = ck.restore(bundle, cid, io=stdio())
    assert os.stat(f"/proc/{newpid}/ns/net").st_ino == os.stat(path).st_ino
    assert listening(newpid)
    lo = exec_out(ck, cid, "ip", "addr", "show", "dev", "lo")
    assert "192.0.2.7/32" in lo and ",UP" in lo, lo
    assert exec_out(ck, cid, "sh", "-c", CLIENT) == "pong"
    ck.cmd("delete", "--force", cid)


def test_pre_dump_then_dump(ck, bundle, cid, tmp_path, stdio):
    """--pre-dump leaves the container running with its memory in a parent
    image; the dump with --parent-path links to it; restore from the dump."""
    bundle.sh(counter_script()).write()
    n_file = os.path.join(bundle.rootfs, "tmp/n")
    pid = ck.run_detached(bundle, cid, stdio())
    tag, _ = wait_counter(n_file, 10)
    parent = tmp_path / "ck-parent"
    ck.cmd("checkpoint", "--pre-dump", "--image-path", parent, "--work-path", ck.work, cid)
    assert ck.rt.state(cid)["status"] == "running" and proc_alive(pid)
    assert any(f.name.startswith("pages-") for f in parent.iterdir()), sorted(parent.iterdir())
    _, n = read_counter(n_file)
    wait_counter(n_file, n + 3)  # it runs on after the pre-dump
    ck.checkpoint(cid, "--parent-path", "../ck-parent")
    assert ck.gone(cid)
    assert os.readlink(ck.image / "parent") == "../ck-parent"
    _, at_dump = read_counter(n_file)
    ck.restore(bundle, cid, io=stdio())
    tag2, after = wait_counter(n_file, at_dump)
    assert tag2 == tag and after > at_dump
    ck.cmd("delete", "--force", cid)


def test_restore_under_a_new_id(ck, bundle, cid, other_id, tmp_path, stdio):
    """Restored as another container (-b bundle NEWID): state, exec, kill
    and delete work on it, the old id is gone, and the process is in the
    cgroup config.json names (the same path for both ids: see
    test_restore_under_a_new_id_into_its_own_cgroup for the default one)."""
    where = f"/ck-{cid}"
    bundle.config["linux"]["cgroupsPath"] = where
    bundle.sh(counter_script()).write()
    n_file = os.path.join(bundle.rootfs, "tmp/n")
    ck.run_detached(bundle, cid, stdio())
    tag, _ = wait_counter(n_file, 10)
    ck.checkpoint(cid)
    assert ck.gone(cid)
    assert not os.path.exists(f"{CG}{where}")
    _, at_dump = read_counter(n_file)
    pidfile = tmp_path / "restored.pid"
    pid = ck.restore(bundle, other_id, "--pid-file", pidfile, io=stdio())
    assert int(pidfile.read_text()) == pid
    with open(f"/proc/{pid}/cgroup") as f:
        assert f.read().strip() == f"0::{where}"
    st = ck.rt.state(other_id)
    assert st["id"] == other_id and st["bundle"] == bundle.path, st
    assert ck.rt.ids() == [other_id]
    tag2, _ = wait_counter(n_file, at_dump)
    assert tag2 == tag
    # exec runs in the restored container's namespaces: it sees its counter.
    assert exec_out(ck, other_id, "cat", "/tmp/n").split()[0] == tag
    assert exec_out(ck, other_id, "hostname") == bundle.config["hostname"]
    ck.cmd("kill", other_id, "TERM")  # pid 1 ignores what it has no handler for
    time.sleep(0.5)
    assert proc_alive(pid)
    ck.cmd("kill", other_id, "KILL")
    wait_dead(pid)
    ck.rt.wait_stopped(other_id, timeout=10)
    ck.cmd("delete", other_id)
    assert ck.rt.ids() == []
    assert ck.rt.cmd("state", other_id).returncode != 0
    assert not os.path.exists(f"{CG}{where}")


@pytest.mark.parametrize("runtime", ["berth"], indirect=True)
def test_restore_under_a_new_id_into_its_own_cgroup(ck, bundle, cid, other_id, stdio):
    """Without a cgroupsPath the cgroup follows the id: the container
    restored under a new id is in the new id's cgroup, and deleting it
    leaves neither cgroup behind.  berth only: runc 1.1.5 gives CRIU no
    cgroup root on v2, so CRIU puts the tasks back into the cgroup they were
    dumped from (remade), which runc's delete then leaves behind (runc 1.2
    passes the root: its commit 3438ef30)."""
    bundle.sh(counter_script()).write()
    pid = ck.run_detached(bundle, cid, stdio())
    with open(f"/proc/{pid}/cgroup") as f:
        old_cg = f.read().strip().split("::", 1)[1]
    assert old_cg.endswith(f"/{cid}"), old_cg
    wait_counter(os.path.join(bundle.rootfs, "tmp/n"), 5)
    ck.checkpoint(cid)
    assert ck.gone(cid)
    pid = ck.restore(bundle, other_id, io=stdio())
    with open(f"/proc/{pid}/cgroup") as f:
        new_cg = f.read().strip().split("::", 1)[1]
    assert new_cg == os.path.join(os.path.dirname(old_cg), other_id), (old_cg, new_cg)
    ck.cmd("delete", "--force", other_id)
    assert not os.path.exists(f"{CG}{new_cg}") and not os.path.exists(f"{CG}{old_cg}")


@pytest.mark.parametrize("driver", ["cgroupfs", "systemd"])
def test_restored_into_the_configs_cgroup(runtime, bundle, cid, tmp_path, stdio, driver):
    """The restored process is in the cgroup config.json names, with its
    limits: a path of cgroupfs v2, or a scope of the systemd driver
    (slice:prefix:name)."""
    g = SD if driver == "systemd" else ()
    ck = Checkpointer(runtime, tmp_path, g)
    if driver == "systemd":
        bundle.config["linux"]["cgroupsPath"] = f"system.slice:berth:{cid}"
        unit = f"berth-{cid}.scope"
        where = f"/system.slice/{unit}"
    else:
        bundle.config["linux"]["cgroupsPath"] = f"/{cid}"
        where = f"/{cid}"
    bundle.config["linux"]["resources"] = {"memory": {"limit": 96 << 20}, "pids": {"limit": 40}}
    bundle.sh(counter_script()).write()

    def check(pid):
        with open(f"/proc/{pid}/cgroup") as f:
            assert f.read().strip() == f"0::{where}"
        with open(f"{CG}{where}/memory.max") as f:
            assert f.read().strip() == str(96 << 20)
        with open(f"{CG}{where}/pids.max") as f:
            assert f.read().strip() == "40"
        if driver == "systemd":
            p = subprocess.run(["systemctl", "show", "-P", "ActiveState", unit],
                               capture_output=True, text=True)
            assert p.stdout.strip() == "active", p.stdout + p.stderr

    try:
        pid = ck.run_detached(bundle, cid, stdio())
        check(pid)
        tag, _ = wait_counter(os.path.join(bundle.rootfs, "tmp/n"), 5)
        ck.checkpoint(cid)
        assert ck.gone(cid)
        assert not os.path.exists(f"{CG}{where}"), "the cgroup outlived the checkpoint"
        pid = ck.restore(bundle, cid, io=stdio())
        check(pid)
        tag2, _ = wait_counter(os.path.join(bundle.rootfs, "tmp/n"), 0)
        assert tag2 == tag
        ck.cmd("delete", "--force", cid)
        assert not os.path.exists(f"{CG}{where}")
    finally:
        if driver == "systemd":
            runtime.cmd("delete", "--force", cid, globals_=g)
            left = subprocess.run(["systemctl", "show", "-P", "LoadState", unit],
                                  capture_output=True, text=True).stdout.strip()
            subprocess.run(["systemctl", "stop", unit], capture_output=True)
            subprocess.run(["systemctl", "reset-failed", unit], capture_output=True)
            assert left in ("not-found", ""), f"unit {unit} left behind: {left}"


# ---- what Podman asks of a runtime ---------------------------------------------

@pytest.mark.parametrize("rt", ["berth", "runc"])
def test_podman_detects_checkpoint_support(rt):
    """Podman 4.3 takes `RUNTIME checkpoint --help` exiting 0 as support, and
    `restore --lsm-mount-context` wanting its argument as support for
    restoring into a pod; `features` says checkpoint is enabled."""
    binary = BERTH if rt == "berth" else RUNC
    p = subprocess.run([binary, "checkpoint", "--help"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([binary, "restore", "--lsm-mount-context"], capture_output=True, text=True)
    assert p.returncode != 0 and "flag needs an argument" in p.stdout + p.stderr, p.stdout + p.stderr
    p = subprocess.run([binary, "features"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    ann = json.loads(p.stdout).get("annotations", {})
    assert ann.get("org.opencontainers.runc.checkpoint.enabled") == "true", ann


@pytest.fixture
def podman(request, tmp_path, rootfs_template):
    """Podman with the runtime of the test's parameter (guest.sh's copy of
    berth: the checkout under /root is fine for root, but the same path the
    other Podman tests use), a private store, systemd as cgroup manager."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed in the guest image")
    binary = "/usr/local/sbin/berth" if request.param == "berth" else RUNC
    # Podman refuses a runroot path longer than 50 characters.
    runroot = tempfile.mkdtemp(prefix="berth-pm-", dir="/run")
    base = ["podman", "--root", str(tmp_path / "storage"), "--runroot", runroot,
            "--runtime", binary, "--cgroup-manager", "systemd",
            "--events-backend", "file", "--storage-driver", "overlay"]
    tar = tmp_path / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        t.add(rootfs_template, arcname=".")

    def run(*args, check=True, timeout=300):
        p = run_via_files(base + [str(a) for a in args], timeout=timeout, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(map(str, args))}: {p.returncode}: {p.stderr}")
        return p
    run.runtime = request.param

    run("import", tar, "localhost/berth-busybox")
    tar.unlink()
    yield run
    run("rm", "--all", "--force", check=False)
    run("rmi", "--all", "--force", check=False)
    # Podman's overlay store leaves its own mount of the layers' directory.
    subprocess.run(["umount", "-R", str(tmp_path / "storage" / "overlay")], capture_output=True)
    shutil.rmtree(tmp_path / "storage", ignore_errors=True)
    shutil.rmtree(runroot, ignore_errors=True)


def podman_counter(podman, ctr, above=0, timeout=90):
    """The counter in the container's upper directory (its /tmp/n), read
    from the host: no exec in the timing."""
    info = json.loads(podman("inspect", ctr).stdout)[0]
    return wait_counter(os.path.join(info["GraphDriver"]["Data"]["UpperDir"], "tmp/n"),
                        above, timeout)


@pytest.mark.parametrize("podman", ["berth", "runc"], indirect=True)
def test_podman_checkpoint_restore(podman):
    ctr = podman("run", "-d", "--network", "none", "--name", "ck",
                 "localhost/berth-busybox", "sh", "-c", counter_script()).stdout.strip()
    tag, _ = podman_counter(podman, ctr, 10)
    podman("container", "checkpoint", ctr)
    info = json.loads(podman("inspect", ctr).stdout)[0]
    assert info["State"]["Status"] == "exited" and info["State"]["Checkpointed"], info["State"]
    _, at_dump = podman_counter(podman, ctr)
    podman("container", "restore", ctr)
    info = json.loads(podman("inspect", ctr).stdout)[0]
    assert info["State"]["Status"] == "running" and info["State"]["Restored"], info["State"]
    tag2, n = podman_counter(podman, ctr, at_dump)
    assert tag2 == tag and n > at_dump
    with open(f"/proc/{info['State']['Pid']}/cgroup") as f:
        assert f.read().strip() == f"0::/machine.slice/libpod-{ctr}.scope"
    # exec through the runtime into the restored container.
    assert podman("exec", ctr, "cat", "/tmp/n").stdout.split()[0] == tag
    podman("rm", "--force", ctr)


@pytest.mark.parametrize("podman", ["berth", "runc"], indirect=True)
def test_podman_export_import_under_a_new_name(podman, tmp_path):
    ctr = podman("run", "-d", "--network", "none", "--name", "ck",
                 "localhost/berth-busybox", "sh", "-c", counter_script()).stdout.strip()
    tag, _ = podman_counter(podman, ctr, 10)
    archive = tmp_path / "ck.tar.gz"
    podman("container", "checkpoint", "--export", archive, ctr)
    assert archive.stat().st_size > 0
    _, at_dump = podman_counter(podman, ctr)
    podman("container", "restore", "--import", archive, "--name", "ck2")
    info = json.loads(podman("inspect", "ck2").stdout)[0]
    assert info["Id"] != ctr and info["State"]["Status"] == "running", info["State"]
    tag2, n = podman_counter(podman, "ck2", at_dump)
    assert tag2 == tag and n > at_dump
    with open(f"/proc/{info['State']['Pid']}/cgroup") as f:
        where = f.read().strip()
    print(f"{podman.runtime}: the imported container's cgroup: {where}")
    if podman.runtime == "berth":
        # Its own scope.  Not asked of runc 1.1.5: it gives CRIU no cgroup
        # root on v2, and the tasks land in the old container's scope
        # path, remade as a plain directory (see
        # test_restore_under_a_new_id_into_its_own_cgroup).
        assert where == f"0::/machine.slice/libpod-{info['Id']}.scope"
    # The original is still there, checkpointed, and its own copy restores too.
    podman("rm", "--force", "ck2")
    podman("container", "restore", ctr)
    tag3, _ = podman_counter(podman, ctr, at_dump)
    assert tag3 == tag
    podman("rm", "--force", ctr)
    archive.unlink()
    if podman.runtime == "berth":  # runc 1.1.5 leaves the remade directory
        left = [i for i in (ctr, info["Id"]) if os.path.exists(f"{CG}/machine.slice/libpod-{i}.scope")]
        assert not left, f"cgroups left: {left}"
