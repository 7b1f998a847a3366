"""Docker 20.10 (dockerd, through containerd's runc shim) with berth as a
runtime: every scenario runs with `--runtime berth` and, as the control,
with `--runtime runc` (the `rt` fixture), on a private dockerd (conftest.py).

Each scenario observes its effect inside the container or from the host,
and proves which runtime ran it: a `run` is gated (the container waits
until the test has found it, running, in that runtime's own state under the
shim's root, see e2e_lib.run_gated); a detached container is looked up
there by the id Docker gives it, with the pid Docker reports.
"""
import fcntl
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import termios
import time

import pytest

from e2e_lib import (GATE_DEST, IMAGE, LIMITS_SCRIPT, Gate, parse_limits, run_gated,
                     skip_if_unsupported, wait_for)

# Docker's default capability set (moby oci/caps/defaults.go): CHOWN,
# DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
# NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP.
DEFAULT_CAPS = 0x00000000a80425fb
CAP_CHOWN, CAP_NET_ADMIN = 0, 12

# Docker sizes the terminal after the process has started: wait for a size.
STTY_SIZE = ('for i in $(seq 50); do s=$(stty size 2>/dev/null); case "$s" in [1-9]*) break;; '
             'esac; usleep 100000; done; echo "$s"')

_n = [0]


def name(tag):
    """A container name unique on this machine (other suites run beside us)."""
    _n[0] += 1
    return f"bdk-{os.getpid()}-{tag}-{_n[0]}"


def run_gated_docker(docker, rt, *opts, cmd=()):
    """`docker run --runtime RT` whose container waits until RT's own state
    shows it running; returns (Result, that state)."""
    gate = Gate(docker.tmp)
    cidfile = gate.path + ".cid"

    def find_id():
        try:
            with open(cidfile) as f:
                return f.read().strip() or None
        except OSError:
            return None
    argv = docker.argv("run", "--runtime", rt, "--cidfile", cidfile,
                       "-v", f"{gate.path}:{GATE_DEST}:ro", *opts, IMAGE, *gate.wrap(cmd))
    r, st = run_gated(argv, gate, find_id, None, env=docker.env,
                      state_of=lambda cid: docker.runtime_state(rt, cid))
    r.cid = find_id()
    return r, st


def assert_ran_by(r, st, docker, rt):
    if r.returncode != 0 and rt == "berth":
        skip_if_unsupported(r.stderr)
    assert st is not None, f"{rt} never showed the container running: {r!r}"
    assert st["id"] == r.cid
    # the shim's bundle, under the managed containerd's state
    assert st["bundle"].startswith(docker.exec_root + "/"), st["bundle"]


def detached(docker, rt, *opts, cmd=("sleep", "1000"), tag="d"):
    """`docker run -d --runtime RT`; checks RT's state for it. Returns
    (name, id, host pid)."""
    n = name(tag)
    r = docker("run", "-d", "--runtime", rt, "--name", n, *opts, IMAGE, *cmd)
    if r.returncode != 0 and rt == "berth":
        skip_if_unsupported(r.stderr)
    assert r.returncode == 0, repr(r)
    cid = r.stdout.strip().splitlines()[-1]
    pid = int(docker.inspect(n, "{{.State.Pid}}"))
    st = docker.runtime_state(rt, cid)
    assert st is not None, f"{rt} has no state for {cid} under {docker.state_root(rt)}"
    assert (st["status"], st["pid"]) == ("running", pid), st
    return n, cid, pid


def sh(docker, rt, script, *opts):
    """`docker run --rm --runtime RT IMAGE sh -c SCRIPT`, gated."""
    r, st = run_gated_docker(docker, rt, "--rm", *opts, cmd=["sh", "-c", script])
    assert_ran_by(r, st, docker, rt)
    return r


def status_field(text, key):
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {key} in {text!r}")


def host_cgroup_dirs(docker, cid):
    """The container's cgroup in every hierarchy, as the host sees it: below
    our own cgroup, in the relative parent."""
    inside, _ = docker.cgroup.dirs()
    return [os.path.join(d, cid) for d in inside]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# ---------------------------------------------------------------- run --rm

@pytest.mark.parametrize("cmd,code", [
    (["true"], 0),
    (["sh", "-c", "exit 42"], 42),
    (["false"], 1),
])
def test_run_exit_code(docker, rt, cmd, code):
    r, st = run_gated_docker(docker, rt, "--rm", cmd=cmd)
    assert_ran_by(r, st, docker, rt)
    assert r.returncode == code, repr(r)


@pytest.mark.parametrize("cmd,code", [(["/no/such/binary"], 127), (["/etc/passwd"], 126)])
def test_run_cannot_start(docker, rt, cmd, code):
    # The docker CLI maps the runtime's start error to 127 (not found) or 126
    # (cannot invoke) by words in it, case-sensitively: "executable file not
    # found", "no such file or directory", "permission denied"; else 125.
    r = docker("run", "--rm", "--runtime", rt, IMAGE, *cmd)
    assert cmd[0] in r.stderr, repr(r)
    assert r.returncode == code, repr(r)


def test_run_stdio(docker, rt):
    r, st = run_gated_docker(docker, rt, "--rm", "-i",
                             cmd=["sh", "-c", "cat; echo to-err >&2; echo to-out"])
    assert_ran_by(r, st, docker, rt)  # (stdin was empty: no -i input through the gate)
    assert r.returncode == 0, repr(r)
    r = docker("run", "--rm", "-i", "--runtime", rt, IMAGE, "sh", "-c",
               "cat; echo to-err >&2; echo to-out", input="line one\nline two\n")
    assert r.returncode == 0, repr(r)
    assert r.stdout == "line one\nline two\nto-out\n"
    assert "to-err\n" in r.stderr


def test_cgroup_placement(docker, rt):
    """Container cgroups nest below our own cgroup, in the relative parent,
    in every hierarchy, with the container's init in them."""
    n, cid, pid = detached(docker, rt)
    dirs = host_cgroup_dirs(docker, cid)
    assert dirs
    for d in dirs:
        with open(os.path.join(d, "cgroup.procs")) as f:
            assert str(pid) in f.read().split(), d
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    assert all(line.endswith(f"/{docker.cgroup.name}/{cid}") for line in lines), lines
    docker("rm", "-f", n).ok()
    assert not any(os.path.exists(d) for d in dirs)


# ---------------------------------------------------------------- -d, exec, logs, stop, kill, rm

TRAPPING = ["sh", "-c", "trap 'echo got-term; exit 7' TERM; trap 'echo got-usr1' USR1; "
            "echo started; while :; do sleep 1 & wait $!; done"]


def test_detached_lifecycle(docker, rt):
    n, cid, pid = detached(docker, rt, cmd=TRAPPING)
    wait_for(lambda: "started" in docker("logs", n).stdout, what="the trap to be set")
    r = docker("exec", n, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n"), repr(r)
    r = docker("exec", "-u", "1000", "-w", "/tmp", "-e", "X=y", n, "sh", "-c",
               "echo $(id -u) $(pwd) $X").ok()
    assert r.stdout == "1000 /tmp y\n"
    r = docker("exec", "-i", n, "cat", input="to stdin\n").ok()
    assert r.stdout == "to stdin\n"
    docker("kill", "-s", "USR1", n).ok()
    wait_for(lambda: "got-usr1" in docker("logs", n).stdout, what="USR1 in the logs")
    assert alive(pid)
    docker("stop", "-t", "10", n).ok()
    assert docker.inspect(n, "{{.State.Status}} {{.State.ExitCode}}") == "exited 7"
    assert "got-term" in docker("logs", n).stdout
    assert not alive(pid)
    assert docker.runtime_state(rt, cid) is None
    # started again, then killed
    docker("start", n).ok()
    pid2 = int(docker.inspect(n, "{{.State.Pid}}"))
    assert pid2 != pid and alive(pid2)
    assert docker.runtime_state(rt, cid)["pid"] == pid2
    docker("kill", n).ok()
    wait_for(lambda: docker.inspect(n, "{{.State.Status}}") == "exited", what="the kill")
    assert docker.inspect(n, "{{.State.ExitCode}}") == "137"
    assert not alive(pid2)
    docker("rm", n).ok()
    assert docker("inspect", n).returncode != 0
    assert docker.runtime_state(rt, cid) is None
    assert not any(os.path.exists(d) for d in host_cgroup_dirs(docker, cid))


def test_rm_force_running(docker, rt):
    n, cid, pid = detached(docker, rt)
    docker("rm", "-f", n).ok()
    assert not alive(pid)
    assert docker.runtime_state(rt, cid) is None
    assert not any(os.path.exists(d) for d in host_cgroup_dirs(docker, cid))


# ---------------------------------------------------------------- -it on a pty

def pty_dialogue(argv, env, send, expect_first, rows=24, cols=80, timeout=60):
    """Run argv on a new pty (its controlling terminal); once `expect_first`
    appears, type `send`; return (exit status, everything it wrote)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def ctty():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                         preexec_fn=ctty)
    os.close(slave)
    out = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                out += data
            elif p.poll() is not None:
                break
            if not sent and expect_first.encode() in out:
                os.write(master, send.encode())
                sent = True
        else:
            p.kill()
            raise AssertionError(f"{argv} timed out: {out!r}")
    finally:
        os.close(master)
    return p.wait(timeout=30), out.decode(errors="replace").replace("\r", "")


def test_run_interactive_tty(docker, rt):
    n = name("tty")
    script = ("echo ready; read line; echo \"got-$line\"; tty; " + STTY_SIZE +
              "; [ -t 0 ] && echo stdin-is-tty; exit 3")
    rc, out = pty_dialogue(docker.argv("run", "-it", "--rm", "--name", n, "--runtime", rt,
                                       IMAGE, "sh", "-c", script),
                           docker.env, "hello\n", "ready", rows=33, cols=101)
    if rt == "berth":
        skip_if_unsupported(out)
    assert rc == 3, out
    assert "got-hello\n/dev/pts/0\n33 101\nstdin-is-tty\n" in out, repr(out)


# ---------------------------------------------------------------- resources

def test_resources_read_back(docker, rt):
    r = sh(docker, rt, LIMITS_SCRIPT, "--memory", "64m", "--cpus", "0.5", "--pids-limit", "50")
    assert r.returncode == 0, repr(r)
    lim = parse_limits(r.stdout)
    assert lim["mem"] == str(64 << 20), r.stdout
    assert lim["pids"] == "50", r.stdout
    assert int(lim["quota"]) * 2 == int(lim["period"]), r.stdout


def test_update(docker, rt):
    n, cid, pid = detached(docker, rt, "--memory", "64m", "--pids-limit", "50", "--cpus", "1")
    docker("update", "--memory", "96m", "--memory-swap", "192m", "--pids-limit", "30",
           "--cpus", "0.25", n).ok()
    r = docker("exec", n, "sh", "-c", LIMITS_SCRIPT).ok()
    lim = parse_limits(r.stdout)
    assert (lim["mem"], lim["pids"]) == (str(96 << 20), "30"), r.stdout
    assert int(lim["quota"]) * 4 == int(lim["period"]), r.stdout
    # and from the host
    pids_dir = [d for d in host_cgroup_dirs(docker, cid) if "/pids/" in d]
    with open(os.path.join(pids_dir[0], "pids.max")) as f:
        assert f.read().strip() == "30"
    assert docker.inspect(n, "{{.HostConfig.PidsLimit}}") == "30"


def test_stats_no_stream(docker, rt):
    n, cid, pid = detached(docker, rt, "--memory", "64m")
    r = docker("stats", "--no-stream", "--format", "{{.Name}}|{{.MemUsage}}|{{.PIDs}}", n).ok()
    got = r.stdout.strip().split("|")
    assert got[0] == n
    used, limit = [x.strip() for x in got[1].split("/")]
    assert limit == "64MiB", r.stdout
    assert not used.startswith("0B"), r.stdout
    assert got[2] == "1", r.stdout


def test_top(docker, rt):
    n, cid, pid = detached(docker, rt, cmd=["sh", "-c", "sleep 1001 & exec sleep 1002"])
    wait_for(lambda: "sleep 1001" in docker("top", n).stdout, what="both processes in top")
    r = docker("top", n, "-o", "pid,args").ok()
    rows = [line.split(None, 1) for line in r.stdout.splitlines()[1:]]
    assert [str(pid), "sleep 1002"] in rows, r.stdout
    assert any(a == "sleep 1001" for _, a in rows), r.stdout


def test_pause_unpause(docker, rt):
    n, cid, pid = detached(docker, rt, cmd=["sh", "-c",
                                            "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; "
                                            "usleep 20000; done"])
    freezer = [d for d in host_cgroup_dirs(docker, cid) if "/freezer/" in d][0]

    def counter():
        with open(f"/proc/{pid}/root/tmp/n") as f:
            return f.read().strip()
    wait_for(lambda: os.path.exists(f"/proc/{pid}/root/tmp/n"), what="the counter")
    docker("pause", n).ok()
    assert docker.inspect(n, "{{.State.Status}}") == "paused"
    assert docker.runtime_state(rt, cid)["status"] == "paused"
    with open(os.path.join(freezer, "freezer.state")) as f:
        assert f.read().strip() == "FROZEN"
    before = counter()
    time.sleep(0.3)
    assert counter() == before, "the counter moved while paused"
    docker("unpause", n).ok()
    assert docker.inspect(n, "{{.State.Status}}") == "running"
    assert docker.runtime_state(rt, cid)["status"] == "running"
    wait_for(lambda: counter() != before, what="the counter to move again")


# ---------------------------------------------------------------- filesystem

def test_read_only_tmpfs(docker, rt):
    r = sh(docker, rt, "grep -E ' / | /scratch ' /proc/mounts; echo ok > /scratch/f && "
           "cat /scratch/f; touch /etc/x", "--read-only", "--tmpfs", "/scratch:size=1m")
    assert r.returncode == 1, repr(r)
    mounts = {line.split()[1]: line.split() for line in r.stdout.splitlines() if " " in line}
    assert mounts["/"][3].split(",")[0] == "ro", r.stdout
    assert mounts["/scratch"][2] == "tmpfs" and "size=1024k" in mounts["/scratch"][3], r.stdout
    assert "ok" in r.stdout.splitlines()
    assert "Read-only file system" in r.stderr


def test_cp_both_ways(docker, rt, tmp_path):
    n, cid, pid = detached(docker, rt)
    src = tmp_path / "to-ctr"
    src.write_text("from the host\n")
    docker("cp", str(src), f"{n}:/tmp/in").ok()
    assert docker("exec", n, "cat", "/tmp/in").ok().stdout == "from the host\n"
    docker("exec", n, "sh", "-c", "echo from the container > /tmp/out").ok()
    docker("cp", f"{n}:/tmp/out", str(tmp_path / "out")).ok()
    assert (tmp_path / "out").read_text() == "from the container\n"


def test_commit(docker, rt):
    n, cid, pid = detached(docker, rt)
    docker("exec", n, "sh", "-c", "echo committed > /etc/marker").ok()
    image = f"localhost/{name('img')}:c"
    docker("commit", n, image).ok()
    try:
        r = docker("run", "--rm", "--runtime", rt, image, "cat", "/etc/marker").ok()
        assert r.stdout == "committed\n"
    finally:
        docker("rmi", "-f", image)


# ---------------------------------------------------------------- identity and privilege

def test_user(docker, rt):
    r = sh(docker, rt, "id; touch /root/x", "--user", "1000:1000")
    assert r.stdout.splitlines()[0] == "uid=1000(user) gid=1000(user) groups=1000(user)", r.stdout
    assert r.returncode == 1 and "Permission denied" in r.stderr, repr(r)
    r = sh(docker, rt, "id -u; id -g", "--user", "user")
    assert r.stdout.split() == ["1000", "1000"]


def test_capabilities(docker, rt):
    r = sh(docker, rt, "grep ^Cap /proc/self/status")
    assert int(status_field(r.stdout, "CapEff"), 16) == DEFAULT_CAPS, r.stdout
    assert int(status_field(r.stdout, "CapBnd"), 16) == DEFAULT_CAPS, r.stdout
    r = sh(docker, rt, "grep ^Cap /proc/self/status; chown 1000 /tmp", "--cap-drop", "CHOWN")
    assert int(status_field(r.stdout, "CapEff"), 16) == DEFAULT_CAPS & ~(1 << CAP_CHOWN)
    assert r.returncode == 1 and "Operation not permitted" in r.stderr, repr(r)
    r = sh(docker, rt, "grep ^Cap /proc/self/status; ip link set lo mtu 1500 && echo changed",
           "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", "--network", "none")
    assert int(status_field(r.stdout, "CapEff"), 16) == 1 << CAP_NET_ADMIN, r.stdout
    assert "changed" in r.stdout.splitlines(), repr(r)


def test_seccomp(docker, rt):
    # Docker's default profile refuses unshare(2) of a user namespace
    # (allowed by the kernel to anyone) unless CAP_SYS_ADMIN is granted.
    probe = "grep ^Seccomp: /proc/self/status; unshare -U true && echo allowed"
    r = sh(docker, rt, probe)
    assert status_field(r.stdout, "Seccomp") == "2", r.stdout
    assert "allowed" not in r.stdout and "Operation not permitted" in r.stderr, repr(r)
    r = sh(docker, rt, probe, "--security-opt", "seccomp=unconfined")
    assert status_field(r.stdout, "Seccomp") == "0", r.stdout
    assert "allowed" in r.stdout, repr(r)


def test_privileged(docker, rt):
    r, st = run_gated_docker(docker, rt, "--rm", "--privileged", cmd=[
        "sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status; ls /dev | wc -l; "
        "grep ' /sys ' /proc/mounts"])
    if rt == "runc" and "unable to apply caps: operation not permitted" in r.stderr:
        # runc 1.1.5 asks for every capability Docker knows; this host's
        # bounding set lacks CAP_SYS_RESOURCE.
        pytest.xfail("runc 1.1.5 cannot apply Docker's full capability list on this host")
    assert_ran_by(r, st, docker, rt)
    assert r.returncode == 0, repr(r)
    with open("/proc/self/status") as f:
        host_bnd = int(status_field(f.read(), "CapBnd"), 16)
    eff = int(status_field(r.stdout, "CapEff"), 16)
    assert eff & ~host_bnd == 0 and bin(eff).count("1") >= 37, r.stdout
    assert status_field(r.stdout, "Seccomp") == "0", r.stdout
    ndev = int(r.stdout.splitlines()[2])
    assert ndev > 30, r.stdout   # the host's devices, not the default ~15
    assert " rw," in r.stdout.splitlines()[3], r.stdout


# ---------------------------------------------------------------- network

def test_network_none(docker, rt):
    r = sh(docker, rt, "ls /sys/class/net", "--network", "none")
    assert r.stdout.split() == ["lo"], r.stdout


def test_bridge_publish(docker, rt):
    n, cid, pid = detached(docker, rt, "-p", "127.0.0.1::8080", cmd=[
        "sh", "-c", "ip -4 -o addr show eth0; "
        "while :; do echo hello-$(hostname) | nc -l -p 8080; done"])
    port = int(docker("port", n, "8080/tcp").ok().stdout.split(":")[-1])
    wait_for(lambda: "inet " in docker("logs", n).stdout, what="the address in the logs")
    assert f"inet {docker.subnet}." in docker("logs", n).stdout
    got = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not got:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                got = s.recv(100)
        except OSError:
            pass
        if not got:
            time.sleep(0.1)
    assert got == f"hello-{cid[:12]}\n".encode(), got
    # the container's veth is on our bridge while it runs
    assert docker.bridge_ports(), "no veth on the bridge"
    docker("rm", "-f", n).ok()
    wait_for(lambda: not docker.bridge_ports(), what="the veth to go")


# ---------------------------------------------------------------- restart, health

def test_restart_on_failure(docker, rt):
    n, cid, pid = detached(docker, rt, "--restart", "on-failure:2",
                           cmd=["sh", "-c", "usleep 300000; exit 3"])
    wait_for(lambda: docker.inspect(n, "{{.RestartCount}} {{.State.Status}}") == "2 exited",
             timeout=30, what="two restarts, then exited")
    assert docker.inspect(n, "{{.State.ExitCode}}") == "3"
    assert docker.runtime_state(rt, cid) is None


def test_healthcheck(docker, rt):
    n, cid, pid = detached(docker, rt, "--health-cmd", "test -e /tmp/ok",
                           "--health-interval", "300ms", "--health-retries", "1",
                           "--health-timeout", "5s")
    wait_for(lambda: docker.inspect(n, "{{.State.Health.Status}}") == "unhealthy",
             timeout=20, what="unhealthy")
    docker("exec", n, "touch", "/tmp/ok").ok()
    wait_for(lambda: docker.inspect(n, "{{.State.Health.Status}}") == "healthy",
             timeout=20, what="healthy")


# ---------------------------------------------------------------- shared pid namespace

def _pids_running(docker, cid, argv):
    """Host pids of the processes in the container's cgroup running argv."""
    pids_dir = [d for d in host_cgroup_dirs(docker, cid) if "/pids/" in d][0]
    want = b"\0".join(a.encode() for a in argv) + b"\0"
    found = []
    with open(os.path.join(pids_dir, "cgroup.procs")) as f:
        for p in f.read().split():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as c:
                    if c.read() == want:
                        found.append(int(p))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("pidmode", ["host", "container"])
@pytest.mark.parametrize("ending", ["rm-f-running", "init-exits-then-rm"])
def test_shared_pidns_forking_init(docker, rt, pidmode, ending):
    """With a pid namespace that is not the container's own, the init's
    children are not killed by the kernel when it dies: the shim asks the
    runtime to `kill --all`, and `delete` must leave none behind."""
    opts = ["--pid", "host"]
    if pidmode == "container":
        holder, _, _ = detached(docker, rt, tag="pidns")
        opts = ["--pid", f"container:{holder}"]
    if ending == "rm-f-running":
        cmd = ["sh", "-c", "sleep 1001 & exec sleep 1002"]
    else:
        cmd = ["sh", "-c", "sleep 1001 & usleep 1500000; exit 0"]
    n, cid, pid = detached(docker, rt, *opts, cmd=cmd)
    kids = wait_for(lambda: _pids_running(docker, cid, ["sleep", "1001"]),
                    what="the child in the container's cgroup")
    assert len(kids) == 1
    child = kids[0]
    cgdirs = host_cgroup_dirs(docker, cid)
    if ending == "init-exits-then-rm":
        wait_for(lambda: docker.inspect(n, "{{.State.Status}}") == "exited", what="init to exit")
        docker("rm", n).ok()
    else:
        docker("rm", "-f", n).ok()
    try:
        wait_for(lambda: not alive(child), timeout=5, what=f"the child {child} to be killed")
    except AssertionError:
        pass
    leaked = alive(child)
    left = [d for d in cgdirs if os.path.exists(d)]
    assert not leaked and not left, \
        f"{rt} left the init's child {child} alive={leaked} and cgroups {left}"
    assert docker.runtime_state(rt, cid) is None
