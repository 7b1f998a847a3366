"""Regression tests for the escape classes seen in runc and crun, each a real
attempt from inside a container.  Others live beside the feature they test:
fd leaks (test_container.py::test_no_fd_leaks_into_container), a mount
through a symlink out of the rootfs (test_container.py::
test_mount_onto_symlink_out_of_rootfs_stays_inside), masked paths only over
a verified /dev/null (tests/unit/test-rootfs.c), exec --user changing no host
file (test_exec.py), inheritable capabilities (below)."""
import hashlib
import json
import os
import struct
import subprocess
import threading
import time

import pytest

from conftest import BERTH
from test_faults import hooks_compiled_in


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


ALL_BUT_PTRACE = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
                  "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
                  "CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_CHROOT",
                  "CAP_SYS_ADMIN", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"]


# The CVE-2019-5736 sequence from inside the container: open /proc/1/exe
# while the init is still berth (created, waiting for start), wait until start
# has replaced it with the container's program, then write through the fd.
PROC_EXE_ATTACK = """
if (exec 3</proc/1/exe) 2>/dev/null; then
  exec 3</proc/1/exe
  echo opened; readlink /proc/self/fd/3
else
  echo denied; exit 0
fi
while [ "$(readlink /proc/1/exe)" != /bin/busybox ]; do sleep 0.05; done
if echo x >> /proc/self/fd/3; then echo writable; else echo not-writable; fi
"""


@pytest.mark.parametrize("caps", [None, ALL_BUT_PTRACE, ALL_BUT_PTRACE + ["CAP_SYS_PTRACE"]],
                         ids=["default-caps", "all-but-ptrace", "with-ptrace"])
def test_runtime_binary_cannot_be_reached_through_proc_exe(berth, bundle, cid, caps):
    """Without CAP_SYS_PTRACE the non-dumpable init cannot be opened; with it
    (no user namespace) the init runs from a sealed memfd copy of berth, so
    what is opened is not the host's binary and cannot be written."""
    before = sha(BERTH)
    if caps:
        bundle.config["process"]["capabilities"] = {
            k: caps for k in ("bounding", "effective", "permitted")}
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    result = {}
    attacker = threading.Thread(target=lambda: result.update(
        p=berth.cmd("exec", cid, "sh", "-c", PROC_EXE_ATTACK, timeout=30)))
    attacker.start()
    time.sleep(0.5)  # let it open /proc/1/exe before start execs sleep
    berth.cmd("start", cid, check=True)
    attacker.join()
    berth.cmd("delete", "--force", cid, check=True)
    assert sha(BERTH) == before
    p = result["p"]
    assert p.returncode == 0, p.stderr
    if caps and "CAP_SYS_PTRACE" in caps:
        assert p.stdout.split("\n")[:3] == ["opened", "/memfd:berth (deleted)", "not-writable"], \
            p.stdout
    else:
        assert p.stdout.split() == ["denied"], p.stdout


def elf_image_end(data):
    """The end of the last file range an ELF64 program header names."""
    assert data[:4] == b"\x7fELF" and data[4] == 2, "not an ELF64 file"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    end = phoff + phentsize * phnum
    for i in range(phnum):
        _, _, offset, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        end = max(end, offset + filesz)
    return end


@pytest.mark.parametrize("ptrace", [False, True], ids=["without-ptrace", "with-ptrace"])
def test_exec_runs_from_a_sealed_copy_only_when_needed(berth, bundle, cid, ptrace):
    """`berth exec` puts a berth process into the container too; with
    CAP_SYS_PTRACE there it runs from the sealed copy, otherwise from the
    binary itself (no copy, no re-exec: nothing paid)."""
    caps = ALL_BUT_PTRACE + (["CAP_SYS_PTRACE"] if ptrace else [])
    bundle.config["process"]["capabilities"] = {
        k: caps for k in ("bounding", "effective", "permitted")}
    bundle.args("sleep", "100").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    ex = subprocess.Popen([berth.binary, "--root", berth.root, "exec", cid, "sleep", "5"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        exe = os.readlink(f"/proc/{ex.pid}/exe")
        with open(f"/proc/{ex.pid}/exe", "rb") as f:
            image = f.read()
    finally:
        ex.kill()
        ex.wait()
    berth.cmd("delete", "--force", cid, check=True)
    if ptrace:
        assert exe == "/memfd:berth (deleted)"
        # The copy holds what execve maps and nothing after it (no debug
        # information or section tables): the end of the last part a
        # program header names.
        assert len(image) == elf_image_end(image), (len(image), elf_image_end(image))
    else:  # the installed binary ($BERTH may be a wrapper that execs it)
        assert not exe.startswith("/memfd:") and os.path.basename(exe) == "berth", exe


@pytest.mark.parametrize("flag", [["-p", "/dev/stdin"], ["-p/dev/stdin"],
                                  ["--process", "/dev/stdin"], ["--process=/dev/stdin"]],
                         ids=["p", "p-joined", "process", "process-equals"])
@pytest.mark.parametrize("ptrace", [True, False], ids=["sealed-copy", "no-copy"])
def test_exec_process_from_a_pipe(berth, bundle, cid, flag, ptrace):
    """`exec -p` reads a pipe as runc does.  It has read it before it knows
    whether it needs the sealed copy; the copy gets what was read (a pipe
    cannot be read twice), whatever the flag's spelling, and the fd that
    carries it does not reach the process."""
    caps = ALL_BUT_PTRACE + (["CAP_SYS_PTRACE"] if ptrace else [])
    bundle.config["process"]["capabilities"] = {
        k: caps for k in ("bounding", "effective", "permitted")}
    bundle.args("sleep", "100").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    proc = {"cwd": "/", "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"],
            "args": ["sh", "-c", "echo from-the-pipe; ls /proc/self/fd | tr '\\n' ' '"],
            # Without a capabilities object the process would keep root's
            # (CAP_SYS_PTRACE included) and always need the copy.
            "capabilities": bundle.config["process"]["capabilities"]}
    try:
        p = berth.cmd("exec", *flag, cid, input=json.dumps(proc))
    finally:
        berth.cmd("delete", "--force", cid, check=True)
    assert p.returncode == 0, p.stderr
    said, fds = p.stdout.splitlines()
    assert said == "from-the-pipe"
    assert fds.split() == ["0", "1", "2", "3"]  # stdio and ls's own directory fd


# CVE-2024-21626 ("Leaky Vessels"): a working directory of /proc/self/fd/N
# names whatever directory the process holds as fd N when it changes into it.
# Reading the host-only marker through "../" from there is the escape: enough
# ".." to reach the host's root from any host directory, then the marker's
# absolute path, which inside the container names nothing.
ESCAPE = """
cwd=$(readlink /proc/self/cwd)
echo "cwd=$cwd"
cat {climb}{marker} 2>/dev/null && echo ESCAPED
"""
FD_RANGE = range(3, 65)


def _escape_script(marker):
    return ESCAPE.format(climb="../" * 40, marker=marker.lstrip("/"))


def _check_cwd_outcome(p, marker_text, what):
    """Either a clear error naming the working directory, or a process whose
    cwd is inside the container and that could not read the marker."""
    assert marker_text not in p.stdout and "ESCAPED" not in p.stdout, \
        f"{what}: the host marker was read: {p.stdout!r}"
    if p.returncode == 0:
        cwd = p.stdout.split("cwd=", 1)[1].split()[0]
        assert cwd.startswith("/") and "(unreachable)" not in cwd, f"{what}: cwd {cwd!r}"
    else:
        err = p.stderr.strip()
        assert len(err.splitlines()) == 1, f"{what}: {err!r}"
        assert "working directory" in err and "cwd" in err, f"{what}: {err!r}"


@pytest.fixture
def host_marker(tmp_path):
    """A file that exists only on the host, beside the state root and the
    bundle."""
    marker = tmp_path / "host-only-marker"
    text = f"host-marker-{os.getpid()}-{time.monotonic_ns()}"
    marker.write_text(text + "\n")
    return str(marker), text


def test_cwd_through_proc_self_fd_never_reaches_the_host(berth, bundle, cid, host_marker):
    """process.cwd = /proc/self/fd/N for every N from 3 to 64: berth at
    ce4b9bf started the process in its state directory (N = 5) or its state
    root (N = 3), from where the whole host was readable."""
    marker, text = host_marker
    bundle.sh(_escape_script(marker))
    for n in FD_RANGE:
        bundle.config["process"]["cwd"] = f"/proc/self/fd/{n}"
        bundle.write()
        p = berth.cmd("run", "-b", bundle.path, f"{cid}-{n}")
        _check_cwd_outcome(p, text, f"process.cwd /proc/self/fd/{n}")
        if p.returncode != 0:
            assert p.stderr.startswith("berth: config.json: .process.cwd: "), p.stderr
    assert berth.ids() == []


def test_cwd_check_refuses_a_directory_outside_the_root(berth, bundle, cid, tmp_path,
                                                         host_marker):
    """The check after the change of directory (runc 1.1.12's), on its own:
    a host directory passed on purpose with --preserve-fds, which a config
    path then names.  Resolution refuses the magic link first; what matters
    is that the process never runs outside the root."""
    marker, text = host_marker
    bundle.sh(_escape_script(marker))
    bundle.config["process"]["cwd"] = "/proc/self/fd/3"
    bundle.write()
    p = subprocess.run(["sh", "-c", 'exec 3<"$1"; shift; exec "$@"', "sh", str(tmp_path),
                        berth.binary, "--root", berth.root, "run", "--preserve-fds", "1",
                        "-b", bundle.path, cid], capture_output=True, text=True, timeout=30)
    _check_cwd_outcome(p, text, "preserved host directory")
    assert p.returncode != 0
    assert "outside the container's root" in p.stderr or "magic link" in p.stderr, p.stderr


def test_exec_cwd_through_proc_self_fd_never_reaches_the_host(berth, bundle, cid, tmp_path,
                                                               host_marker):
    """exec --cwd /proc/self/fd/N, N from 3 to 64, and process.json's cwd."""
    marker, text = host_marker
    bundle.args("sleep", "100").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    script = _escape_script(marker)
    for n in FD_RANGE:
        p = berth.cmd("exec", "--cwd", f"/proc/self/fd/{n}", cid, "sh", "-c", script)
        _check_cwd_outcome(p, text, f"exec --cwd /proc/self/fd/{n}")
    for n in (3, 4, 5, 6, 7, 8):
        proc = {"args": ["sh", "-c", script], "cwd": f"/proc/self/fd/{n}",
                "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"]}
        pj = tmp_path / "process.json"
        pj.write_text(json.dumps(proc))
        p = berth.cmd("exec", "-p", str(pj), cid)
        _check_cwd_outcome(p, text, f"exec -p (cwd /proc/self/fd/{n})")
    berth.cmd("delete", "--force", cid, check=True)


def _fds_of(pid):
    """fd -> (target, is a directory) for a process seen from the host."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        path = f"/proc/{pid}/fd/{fd}"
        try:
            target = os.readlink(path)
        except FileNotFoundError:
            continue
        try:
            is_dir = os.path.isdir(path)
        except OSError:
            is_dir = False
        out[int(fd)] = (target, is_dir)
    return out


def _stopped_descendant(pid, timeout=10):
    """The first descendant of `pid` that has stopped itself (SIGSTOP at a
    test-only fault point)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        todo = [pid]
        while todo:
            p = todo.pop()
            try:
                with open(f"/proc/{p}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()[0]
                kids = []
                for t in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{t}/children") as f:
                        kids += [int(k) for k in f.read().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            if p != pid and st == "T":
                return p
            todo += kids
        time.sleep(0.01)
    raise AssertionError(f"no process under {pid} reached its stop point")


def _fds_at_stop_point(berth, point, *args):
    """Run berth with a test-only fault point; the fds of the process that
    stops there, seen from the host, before berth is killed."""
    env = {**os.environ, "BERTH_TEST_STOP_AT": point}
    rt = subprocess.Popen([berth.binary, "--root", berth.root, *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return _fds_of(_stopped_descendant(rt.pid))
    finally:
        rt.kill()
        rt.wait()


def _assert_no_runtime_directory(fds, berth, bundle, who):
    dirs = {fd: t for fd, (t, is_dir) in fds.items() if is_dir}
    assert dirs == {}, f"{who} holds directories when it enters the cwd: {dirs}"
    ours = {fd: t for fd, (t, _) in fds.items()
            if (t.startswith(berth.root) and not t.endswith("/exec.fifo"))
            or t.startswith(bundle.path)}
    assert ours == {}, f"{who} holds the runtime's files: {ours}"


@pytest.mark.skipif(not hooks_compiled_in(), reason="berth built without -Dtest_hooks=true")
def test_init_holds_no_directory_when_it_enters_the_cwd(berth, bundle, cid):
    """The init stopped right before it changes into process.cwd (a
    test-only fault point): stdio, the sync socket, exec.fifo as O_PATH
    and nothing else; no directory at all.  Without a pid namespace of its
    own, so that the init is not pid 1, which ignores its own SIGSTOP."""
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                            if n["type"] != "pid"]
    bundle.args("true").write()
    fds = _fds_at_stop_point(berth, "init:cwd", "create", "-b", bundle.path, cid)
    _assert_no_runtime_directory(fds, berth, bundle, "the init")
    assert sorted(fds) [:3] == [0, 1, 2]
    assert len(fds) == 5, fds  # stdio, the sync socket, exec.fifo
    assert any(t.endswith("/exec.fifo") for t, _ in fds.values()), fds
    berth.cmd("delete", "--force", cid, check=True)


def test_init_holds_no_bind_source_past_the_mounts(berth, open_bundle, cid):
    """With a user namespace the runtime hands the init detached copies of
    the bind-mount sources (host trees); the init closes them once the
    mounts are made.  Seen from the host while a createContainer hook (the
    next step) holds the init: no directory among its fds."""
    bundle = open_bundle
    probe = os.path.join(bundle.path, "probe")
    src = os.path.join(bundle.path, "src")
    os.mkdir(probe)
    os.chmod(probe, 0o777)  # the hook runs as the mapped root
    os.mkdir(src)
    hook = os.path.join(bundle.path, "hook.sh")
    with open(hook, "w") as f:
        f.write(f"#!/bin/busybox sh\ncat > {probe}/state\ntouch {probe}/ready\n"
                f"while [ ! -e {probe}/go ]; do sleep 0.05; done\n")
    os.chmod(hook, 0o755)
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    for key in ("uidMappings", "gidMappings"):
        bundle.config["linux"][key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.config["mounts"] += [
        {"destination": "/root", "type": "bind", "source": src, "options": ["rbind"]},
        {"destination": "/home/user", "type": "bind", "source": src, "options": ["bind"]}]
    bundle.config["hooks"] = {"createContainer": [{"path": hook, "timeout": 30}]}
    bundle.args("true").write()
    p = subprocess.Popen([berth.binary, "--root", berth.root, "create", "-b", bundle.path, cid],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while not os.path.exists(os.path.join(probe, "ready")):
            assert time.time() < deadline and p.poll() is None, "the hook never ran"
            time.sleep(0.02)
        with open(os.path.join(probe, "state")) as f:
            init = json.load(f)["pid"]
        fds = _fds_of(init)
        _assert_no_runtime_directory(fds, berth, bundle, "the init")
        assert not any(t.startswith(src) for t, _ in fds.values()), fds
    finally:
        open(os.path.join(probe, "go"), "w").close()
        assert p.wait(timeout=30) == 0
    berth.cmd("delete", "--force", cid, check=True)


@pytest.mark.skipif(not hooks_compiled_in(), reason="berth built without -Dtest_hooks=true")
def test_exec_child_holds_no_directory_when_it_enters_the_cwd(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    fds = _fds_at_stop_point(berth, "exec:cwd", "exec", "--cwd", "/tmp", cid, "true")
    _assert_no_runtime_directory(fds, berth, bundle, "the exec child")
    assert len(fds) == 4, fds  # stdio and the sync socket
    berth.cmd("delete", "--force", cid, check=True)


@pytest.mark.parametrize("userns", [False, True], ids=["root", "user-namespace"])
def test_container_without_proc_still_starts(berth, open_bundle, cid, userns):
    """The init reaches exec.fifo through a procfs: with no /proc in the
    container, a private one it mounts for that alone (before pivot_root,
    which a user namespace needs)."""
    bundle = open_bundle
    if userns:
        bundle.config["linux"]["namespaces"].append({"type": "user"})
        for key in ("uidMappings", "gidMappings"):
            bundle.config["linux"][key] = [{"containerID": 0, "hostID": 100000,
                                            "size": 65536}]
    bundle.config["mounts"] = [m for m in bundle.config["mounts"]
                               if m["destination"] != "/proc"]
    bundle.config["linux"].pop("maskedPaths", None)
    bundle.config["linux"].pop("readonlyPaths", None)
    bundle.sh("ls /proc | wc -l; echo done").write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0", "done"]


def test_inheritable_empty_unless_configured(berth, bundle, cid):
    """crun CVE-2022-27650: inheritable capabilities stay empty when the
    config does not ask for them, for root and for other users."""
    for uid in (0, 1000):
        bundle.config["process"]["user"] = {"uid": uid, "gid": uid}
        bundle.args("grep", "CapInh", "/proc/self/status").write()
        p = berth.cmd("run", "-b", bundle.path, f"{cid}-{uid}")
        assert p.returncode == 0, p.stderr
        assert int(p.stdout.split()[1], 16) == 0


def test_dev_console_is_not_a_host_file(berth, bundle, cid, tmp_path):
    """runc 2025 advisories: /dev/console in a container with a terminal is
    the container's own pty, never a host file put there by a symlink."""
    os.makedirs(os.path.join(bundle.rootfs, "dev"), exist_ok=True)
    target = tmp_path / "host-file"
    target.write_text("host\n")
    # A hostile image ships /dev/console as a symlink to a host path; /dev
    # is a fresh tmpfs, so it must not matter.
    try:
        os.symlink(str(target), os.path.join(bundle.rootfs, "dev", "console"))
    except FileExistsError:
        pass
    bundle.sh("stat -c '%F' /dev/console 2>/dev/null || echo none")
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    assert "symbolic link" not in p.stdout
    assert target.read_text() == "host\n"
