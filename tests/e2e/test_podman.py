"""Podman 4.x with berth as its OCI runtime (conmon calls berth).

Every scenario proves that berth ran the container: a `run` is gated (the
container waits until the test has found it in berth's own state, status
"running", see e2e_lib.run_gated) and a detached container is looked up in
berth's state directory by the id Podman gives it.
"""
import os
import socket
import time

import pytest

from e2e_lib import (BERTH_DEFAULT_ROOT, LIMITS_SCRIPT, berth_lacks, berth_state, ns_of, parse_limits,
                     require, skip_if_unsupported, wait_for, _procs_mentioning)


def assert_berth_ran(r, state, podman):
    """The gated container was berth's: berth's state names Podman's id, with
    Podman's bundle."""
    if r.returncode != 0:
        skip_if_unsupported(r.stderr)
    assert state is not None, f"berth never showed the container running: {r!r}"
    assert state["id"] == r.cid
    assert state["status"] == "running"
    assert state["bundle"].startswith(podman.graphroot + "/"), state["bundle"]


def detached(podman, *opts, cmd=("sleep", "1000"), name="e2e-d"):
    r = podman.run("-d", "--name", name, *opts, cmd=cmd)
    r.ok()
    cid = r.stdout.strip().splitlines()[-1]
    st = berth_state(cid)
    assert st is not None, f"berth has no state for {cid}"
    assert st["status"] == "running"
    assert os.path.isdir(os.path.join(BERTH_DEFAULT_ROOT, cid))
    assert st["pid"] == int(podman.inspect(name, "{{.State.Pid}}"))
    return cid


# A shell as pid 1 that stops on SIGTERM with status 7, and reports SIGUSR1.
TRAPPING = ["sh", "-c", "trap 'echo got-term; exit 7' TERM; trap 'echo got-usr1' USR1; "
            "echo started; while :; do sleep 1 & wait $!; done"]


# ---------------------------------------------------------------- podman run

def test_run_is_berth(podman):
    r, st = podman.run_gated("--rm", cmd=["true"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)


@pytest.mark.parametrize("cmd,code", [
    (["sh", "-c", "exit 42"], 42),
    (["false"], 1),
    (["sh", "-c", "exit 255"], 255),
])
def test_run_exit_code(podman, cmd, code):
    r, st = podman.run_gated("--rm", cmd=cmd)
    assert_berth_ran(r, st, podman)
    assert r.returncode == code, repr(r)


def test_run_missing_command_is_127(podman):
    # Podman maps the runtime's "no such file or directory" to 127.
    r = podman.run("--rm", cmd=["/no/such/binary"])
    assert r.returncode == 127, repr(r)
    assert "no such file or directory" in r.stderr.lower(), r.stderr


def test_run_not_executable_is_126(podman):
    # ... and any other failure to start the process to 126.
    r = podman.run("--rm", cmd=["/etc/passwd"])
    assert r.returncode == 126, repr(r)
    assert "/etc/passwd" in r.stderr, r.stderr


def test_run_stdio(podman):
    r, st = podman.run_gated("--rm", "-i", cmd=["sh", "-c", "cat; echo to-err >&2; echo to-out"],
                             input="line one\nline two\n")
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    assert r.stdout == "line one\nline two\nto-out\n"
    assert "to-err" in r.stderr


def test_run_env_and_workdir(podman):
    r, st = podman.run_gated("--rm", "-e", "E2E_VAR=a value", "-w", "/home/user",
                             cmd=["sh", "-c", 'echo "$E2E_VAR"; pwd; echo "$PATH"; echo "$HOME"'])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    var, cwd, path, home = r.stdout.splitlines()
    assert (var, cwd, home) == ("a value", "/home/user", "/root")
    assert "/bin" in path.split(":")


@pytest.mark.parametrize("user,expect", [
    ("1000", "1000 1000 user"),
    ("user", "1000 1000 user"),
    ("1000:0", "1000 0 user"),
])
def test_run_user(podman, user, expect):
    r, st = podman.run_gated("--rm", "--user", user,
                             cmd=["sh", "-c", 'echo $(id -u) $(id -g) $(id -un); touch /root/x'])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 1, repr(r)  # a user cannot write root's home
    assert r.stdout.strip() == expect
    assert "Permission denied" in r.stderr


def test_run_hostname(podman):
    r, st = podman.run_gated("--rm", "--hostname", "e2e-host",
                             cmd=["sh", "-c", "hostname; cat /etc/hostname"])
    assert_berth_ran(r, st, podman)
    assert r.stdout.split() == ["e2e-host", "e2e-host"]
    r, st = podman.run_gated("--rm", cmd=["hostname"])
    assert_berth_ran(r, st, podman)
    assert r.stdout.strip() == r.cid[:12]  # Podman's default: the short id


def test_run_read_only_without_tmpfs(podman):
    r, st = podman.run_gated("--rm", "--read-only", "--read-only-tmpfs=false",
                             cmd=["sh", "-c", "grep ' / ' /proc/mounts; touch /etc/x"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 1, repr(r)
    assert " ro," in r.stdout.splitlines()[0] or " ro " in r.stdout.splitlines()[0], r.stdout
    assert "Read-only file system" in r.stderr


def test_run_read_only(podman):
    # Podman's default --read-only also mounts tmpfs (with tmpcopyup) on
    # /tmp, /var/tmp and /run.
    r, st = podman.run_gated("--rm", "--read-only",
                             cmd=["sh", "-c", "touch /tmp/ok /var/tmp/ok /run/ok && touch /etc/x"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 1, repr(r)
    assert "Read-only file system" in r.stderr
    assert "/tmp/ok" not in r.stderr


def test_bind_volumes(podman, tmp_path):
    host = tmp_path / "data"
    host.mkdir()
    (host / "from-host").write_text("hello from the host\n")
    r, st = podman.run_gated("--rm", "-v", f"{host}:/data",
                             cmd=["sh", "-c", "cat /data/from-host; echo written > /data/from-ctr"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    assert r.stdout == "hello from the host\n"
    assert (host / "from-ctr").read_text() == "written\n"
    r, st = podman.run_gated("--rm", "-v", f"{host}:/data:ro",
                             cmd=["sh", "-c", "cat /data/from-ctr; echo no > /data/nope"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 1, repr(r)
    assert r.stdout == "written\n"
    assert "Read-only file system" in r.stderr
    assert not (host / "nope").exists()


def test_named_volume(podman):
    podman("volume", "create", "e2e-vol", check=True)
    r, st = podman.run_gated("--rm", "-v", "e2e-vol:/vol",
                             cmd=["sh", "-c", "echo kept > /vol/file; chown 1000 /vol/file"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    mountpoint = podman("volume", "inspect", "--format", "{{.Mountpoint}}", "e2e-vol",
                        check=True).stdout.strip()
    assert mountpoint.startswith(podman.tmp + "/"), mountpoint
    path = os.path.join(mountpoint, "file")
    assert open(path).read() == "kept\n"
    assert os.stat(path).st_uid == 1000
    r = podman.run("--rm", "-v", "e2e-vol:/vol", "--user", "1000", cmd=["cat", "/vol/file"])
    r.ok()
    assert r.stdout == "kept\n"


@pytest.mark.parametrize("opts", ["size=1m,mode=1777", "size=1m,mode=1777,notmpcopyup"])
def test_tmpfs(podman, opts):
    r, st = podman.run_gated("--rm", "--tmpfs", f"/scratch:{opts}",
                             cmd=["sh", "-c", "grep ' /scratch ' /proc/mounts; "
                                  "stat -c %a /scratch; echo x > /scratch/f && cat /scratch/f"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    mount, mode, content = r.stdout.splitlines()
    assert mount.split()[2] == "tmpfs" and "size=1024k" in mount, mount
    assert (mode, content) == ("1777", "x")


def test_resources_read_back(podman):
    r, st = podman.run_gated("--rm", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5",
                             cmd=["sh", "-c", LIMITS_SCRIPT])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    lim = parse_limits(r.stdout)
    assert lim["mem"] == str(64 << 20), r.stdout
    assert lim["pids"] == "50", r.stdout
    assert int(lim["quota"]) * 2 == int(lim["period"]), r.stdout


def test_memory_limit_enforced(podman):
    # No swap here: a 64 MiB buffer in a 32 MiB container is OOM-killed.
    r = podman.run("--rm", "--memory", "32m", "--memory-swap", "32m",
                   cmd=["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"])
    if r.returncode != 0:
        skip_if_unsupported(r.stderr)
    assert r.returncode == 137, repr(r)


def test_cgroup_mount_shows_own_cgroup(podman):
    # What programs read to learn their limits (JVMs, Go runtimes...).
    r = podman.run("--rm", "--memory", "64m", cmd=[
        "sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || "
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes"])
    r.ok()
    assert r.stdout.strip() == str(64 << 20), r.stdout


def test_capabilities(podman):
    r, st = podman.run_gated("--rm", cmd=["grep", "^Cap", "/proc/self/status"])
    assert_berth_ran(r, st, podman)
    caps = dict(line.split(":\t") for line in r.stdout.splitlines())
    assert caps["CapEff"] == caps["CapPrm"] == caps["CapBnd"] != "0000000000000000"
    r, st = podman.run_gated("--rm", "--cap-drop", "ALL",
                             cmd=["sh", "-c", "grep ^Cap /proc/self/status; touch /tmp/f; chown 1000 /tmp/f"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 1, repr(r)
    caps = dict(line.split(":\t") for line in r.stdout.splitlines())
    assert set(caps.values()) == {"0000000000000000"}, caps
    assert "Operation not permitted" in r.stderr


def test_seccomp_default_profile(podman):
    r, st = podman.run_gated("--rm", cmd=["grep", "^Seccomp:", "/proc/self/status"])
    assert_berth_ran(r, st, podman)
    assert r.stdout.split() == ["Seccomp:", "2"]


def test_run_tty(podman):
    r, st = podman.run_gated("--rm", "-t", cmd=["sh", "-c", "tty; echo a; echo b >&2"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    # One terminal: stderr comes out on it too, and lines end in CRLF.
    assert r.stdout == "/dev/pts/0\r\na\r\nb\r\n", repr(r.stdout)


# ---------------------------------------------------------------- a detached container

def test_detached_is_berth(podman):
    detached(podman)
    assert podman.inspect("e2e-d", "{{.OCIRuntime}}") == "berth"
    assert podman.inspect("e2e-d", "{{.State.Status}}") == "running"


def test_exec(podman):
    detached(podman)
    require("exec")
    r = podman("exec", "e2e-d", "sh", "-c", "echo out; echo err >&2; exit 3")
    if r.returncode != 3:
        skip_if_unsupported(r.stderr)
    assert (r.returncode, r.stdout, r.stderr.strip()) == (3, "out\n", "err"), repr(r)
    r = podman("exec", "-u", "1000", "-e", "X=y", "-w", "/tmp", "e2e-d",
               "sh", "-c", 'echo $(id -u) $X $(pwd)').ok()
    assert r.stdout == "1000 y /tmp\n"
    r = podman("exec", "-i", "e2e-d", "cat", input="to stdin\n").ok()
    assert r.stdout == "to stdin\n"
    r = podman("exec", "-t", "e2e-d", "sh", "-c", "tty; test -t 0").ok()
    assert r.stdout.startswith("/dev/pts/") and r.stdout.endswith("\r\n"), repr(r.stdout)
    # The exec'd processes ran in the container: same pid namespace.
    r = podman("exec", "e2e-d", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '").ok()
    assert r.stdout.strip() == "sleep 1000"
    r = podman("exec", "e2e-d", "/no/such/binary")
    assert r.returncode == 127, repr(r)


def test_exec_detached(podman):
    detached(podman)
    require("exec")
    r = podman("exec", "-d", "e2e-d", "sh", "-c", "echo done > /tmp/exec-d")
    r.ok()
    wait_for(lambda: podman("exec", "e2e-d", "cat", "/tmp/exec-d").stdout == "done\n",
             what="the detached exec to write its file")


def test_ps_and_top(podman):
    cid = detached(podman)
    r = podman("ps", "--no-trunc", "--format", "{{.ID}} {{.Status}}").ok()
    assert r.stdout.startswith(cid + " Up"), r.stdout
    r = podman("top", "e2e-d", "pid", "user", "args").ok()
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert ["1", "root", "sleep", "1000"] in rows, r.stdout


def test_stats(podman):
    detached(podman, "--memory", "64m")
    r = podman("stats", "--no-stream", "--format", "{{.ID}} {{.MemUsage}}", "e2e-d").ok()
    short, used, _, limit = r.stdout.split()[:4]
    assert limit == "67.11MB", r.stdout
    assert used != "0B", r.stdout


def test_pause_unpause(podman):
    cid = detached(podman)
    require("pause", "resume")
    podman("pause", "e2e-d").ok()
    assert berth_state(cid)["status"] == "paused"
    assert podman.inspect("e2e-d", "{{.State.Status}}") == "paused"
    podman("unpause", "e2e-d").ok()
    assert berth_state(cid)["status"] == "running"
    assert podman.inspect("e2e-d", "{{.State.Status}}") == "running"


def test_stop_and_start_again(podman):
    cid = detached(podman, cmd=TRAPPING)
    wait_for(lambda: "started" in podman("logs", "e2e-d").stdout, what="the trap to be set")
    t = time.monotonic()
    podman("stop", "-t", "20", "e2e-d").ok()
    assert time.monotonic() - t < 10, "SIGTERM did not reach the container's shell"
    assert podman.inspect("e2e-d", "{{.State.Status}}") == "exited"
    assert podman.inspect("e2e-d", "{{.State.ExitCode}}") == "7"
    assert "got-term" in podman("logs", "e2e-d").stdout
    st = berth_state(cid)
    assert st is None or st["status"] == "stopped", st
    podman("start", "e2e-d").ok()
    st = berth_state(cid)
    assert st is not None and st["status"] == "running", st
    assert st["pid"] == int(podman.inspect("e2e-d", "{{.State.Pid}}"))


def test_stop_escalates_to_sigkill(podman):
    detached(podman)  # sleep as pid 1 has no SIGTERM handler: ignored
    podman("stop", "-t", "1", "e2e-d").ok()
    assert podman.inspect("e2e-d", "{{.State.ExitCode}}") == "137"


def test_kill(podman):
    cid = detached(podman, cmd=TRAPPING)
    wait_for(lambda: "started" in podman("logs", "e2e-d").stdout, what="the trap to be set")
    podman("kill", "-s", "USR1", "e2e-d").ok()
    wait_for(lambda: "got-usr1" in podman("logs", "e2e-d").stdout, what="SIGUSR1 to arrive")
    assert berth_state(cid)["status"] == "running"
    podman("kill", "e2e-d").ok()  # SIGKILL
    wait_for(lambda: podman.inspect("e2e-d", "{{.State.Status}}") == "exited",
             what="the container to exit")
    assert podman.inspect("e2e-d", "{{.State.ExitCode}}") == "137"


def test_rm_force(podman):
    cid = detached(podman)
    podman("rm", "-f", "-t", "0", "e2e-d").ok()
    assert podman("ps", "-aq").stdout.strip() == ""
    assert berth_state(cid) is None
    assert not os.path.exists(os.path.join(BERTH_DEFAULT_ROOT, cid))
    wait_for(lambda: not _procs_mentioning(cid), what="conmon to exit")
    podman.cgroup.assert_clean()


# ---------------------------------------------------------------- pods

def test_pod_shares_net_and_ipc(podman):
    opts = ["--cgroup-parent", podman.cgroup.name, "--share-parent=false"]
    r = podman("pod", "create", "--name", "e2e-pod", "--share", "net,ipc", *opts)
    r.ok()
    r = podman("pod", "start", "e2e-pod")
    r.ok()
    infra = podman("pod", "inspect", "--format", "{{.InfraContainerID}}", "e2e-pod",
                   check=True).stdout.strip()
    pids = []
    for name in ("e2e-a", "e2e-b"):
        detached(podman, "--pod", "e2e-pod", name=name)
        pids.append(int(podman.inspect(name, "{{.State.Pid}}")))
    infra_state = berth_state(infra)
    assert infra_state and infra_state["status"] == "running", infra_state
    pids.append(infra_state["pid"])
    for ns in ("net", "ipc"):
        seen = {ns_of(p, ns) for p in pids}
        assert len(seen) == 1, f"{ns} namespaces differ in the pod: {seen}"
        assert seen != {ns_of(os.getpid(), ns)}, f"the pod shares our {ns} namespace"
    assert ns_of(pids[0], "uts") != ns_of(pids[1], "uts"), "uts was not asked to be shared"
    assert ns_of(pids[0], "pid") != ns_of(pids[1], "pid")


def test_loopback_is_up(podman):
    # runc brings up lo in a network namespace it creates (Podman's
    # --network none, a pod's infra container): containers and pods talk
    # over 127.0.0.1.
    r, st = podman.run_gated("--rm", cmd=["sh", "-c", "ip link show lo; ping -c1 -W2 127.0.0.1"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    assert "UP" in r.stdout.splitlines()[0], r.stdout


# ---------------------------------------------------------------- sd_notify

def test_sdnotify_container(podman, rootfs, tmp_path):
    if not os.path.exists(os.path.join(rootfs, "bin", "e2e-notify")):
        pytest.skip("no C compiler to build e2e-notify")
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    env = dict(podman.env, NOTIFY_SOCKET=path)
    r = podman.run("-d", "--name", "e2e-d", "--sdnotify=container", env=env,
                   cmd=["sh", "-c", "sleep 1; e2e-notify READY=1; sleep 1000"])
    r.ok()
    cid = r.stdout.strip()
    assert berth_state(cid)["status"] == "running"
    # Podman sends MAINPID (conmon's); READY=1 comes from the container,
    # relayed by berth from the socket it bind-mounts at /run/notify.
    got = []
    while not any(m == "READY=1" for m in got):
        got.append(sock.recv(4096).decode())
    sock.close()
    assert any(m.startswith("MAINPID=") for m in got), got
    if not berth_lacks("exec"):
        r = podman("exec", "e2e-d", "sh", "-c", "tr '\\0' '\\n' < /proc/1/environ").ok()
        assert "NOTIFY_SOCKET=/run/notify/notify.sock" in r.stdout.splitlines()
