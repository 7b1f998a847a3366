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
import subprocess
import threading
import time

import pytest

from conftest import BERTH


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
    finally:
        ex.kill()
        ex.wait()
    berth.cmd("delete", "--force", cid, check=True)
    if ptrace:
        assert exe == "/memfd:berth (deleted)"
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


def test_cwd_is_not_a_host_directory(berth, bundle, cid):
    """CVE-2024-21626: the process' cwd and every fd it has must be inside the
    container, never a directory of the host."""
    bundle.config["process"]["cwd"] = "/tmp"
    bundle.sh("readlink /proc/self/cwd; ls -l /proc/self/fd | grep -c -- '->' ; "
              "cd .. && ls / | grep -c sbx-host-marker || true")
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert lines[0] == "/tmp"


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
