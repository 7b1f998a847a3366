"""containerd 1.6 with berth as the runc of its io.containerd.runc.v2 shim
(`ctr run --runc-binary BERTH --runc-root DIR`).

Every scenario proves that berth ran the task: a `ctr run` is gated (the
container waits until the test has found it in berth's state under
--runc-root, status "running", see e2e_lib.run_gated); a detached task is
looked up there by its id, with the pid containerd reports.
"""
import json
import os
import subprocess

import pytest

from e2e_lib import (BERTH, LIMITS_SCRIPT, berth_state, parse_limits, require, run_pty,
                     skip_if_unsupported, wait_for)


# ctr sizes an exec's terminal after starting it (its process.json has no
# consoleSize): wait for the size rather than race it.
# (busybox's stty says "stty: standard input" and exits 0 while the size is 0x0)
STTY_SIZE = ('for i in $(seq 50); do s=$(stty size 2>/dev/null); case "$s" in [1-9]*) break;; esac; '
             'usleep 100000; done; echo "$s"')


def assert_berth_ran(r, state, ctr, cid):
    if r.returncode != 0:
        skip_if_unsupported(r.stderr)
    assert state is not None, f"berth never showed {cid} running: {r!r}"
    assert state["id"] == cid
    assert state["status"] == "running"
    # The shim's bundle: containerd's state dir for the task.
    assert state["bundle"].startswith(ctr.tmp + "/state/"), state["bundle"]


def task_status(ctr, cid):
    for line in ctr("task", "ls").stdout.splitlines()[1:]:
        f = line.split()
        if f and f[0] == cid:
            return int(f[1]), f[2]
    return None


def detached(ctr, cid, *opts, cmd=("sleep", "1000")):
    ctr.run(cid, "-d", *opts, cmd=cmd).ok()
    pid, status = task_status(ctr, cid)
    assert status == "RUNNING"
    st = berth_state(cid, root=ctr.state_root)
    assert st is not None, f"berth has no state for {cid} under {ctr.state_root}"
    assert (st["status"], st["pid"]) == ("running", pid)
    return pid


# ---------------------------------------------------------------- ctr run

@pytest.mark.parametrize("cmd,code", [
    (["true"], 0),
    (["sh", "-c", "exit 42"], 42),
    (["false"], 1),
])
def test_run_exit_code(ctr, cmd, code):
    r, st = ctr.run_gated("e2e-run", "--rm", cmd=cmd)
    assert_berth_ran(r, st, ctr, "e2e-run")
    assert r.returncode == code, repr(r)


def test_run_stdio(ctr):
    r, st = ctr.run_gated("e2e-io", "--rm", cmd=["sh", "-c", "cat; echo to-err >&2; echo to-out"],
                          input="line one\nline two\n")
    assert_berth_ran(r, st, ctr, "e2e-io")
    assert r.returncode == 0, repr(r)
    assert r.stdout == "line one\nline two\nto-out\n"
    assert r.stderr == "to-err\n"


def test_run_missing_command(ctr):
    r = ctr.run("e2e-missing", "--rm", cmd=["/no/such/binary"])
    assert r.returncode != 0
    assert "/no/such/binary" in r.stderr, r.stderr
    ctr("containers", "rm", "e2e-missing")


def test_run_tty(ctr):
    r = run_pty(["ctr", "--address", ctr.sock, "run", *ctr.run_opts("e2e-tty"), "--rm", "-t",
                 "localhost/busybox:e2e", "e2e-tty", "sh", "-c", "tty; " + STTY_SIZE + "; exit 3"],
                rows=33, cols=101)
    skip_if_unsupported(r.stdout)
    assert r.returncode == 3, repr(r)
    # (ctr copies the container's CRLFs to our terminal, which adds its own CR)
    assert "/dev/pts/0\n33 101\n" in r.stdout.replace("\r", ""), repr(r.stdout)


def test_run_env_cwd(ctr):
    r, st = ctr.run_gated("e2e-env", "--rm", "--env", "E2E_VAR=a value", "--cwd", "/home/user",
                          cmd=["sh", "-c", 'echo "$E2E_VAR"; pwd; id -u'])
    assert_berth_ran(r, st, ctr, "e2e-env")
    assert r.returncode == 0, repr(r)
    assert r.stdout.splitlines() == ["a value", "/home/user", "0"]


def test_read_only(ctr):
    r, st = ctr.run_gated("e2e-ro", "--rm", "--read-only",
                          cmd=["sh", "-c", "grep ' / ' /proc/mounts; touch /etc/x"])
    assert_berth_ran(r, st, ctr, "e2e-ro")
    assert r.returncode == 1, repr(r)
    assert " ro," in r.stdout.splitlines()[0], r.stdout
    assert "Read-only file system" in r.stderr


def test_bind_mounts(ctr, tmp_path):
    host = tmp_path / "data"
    host.mkdir()
    (host / "from-host").write_text("hello from the host\n")
    r, st = ctr.run_gated("e2e-bind", "--rm",
                          "--mount", f"type=bind,src={host},dst=/data,options=rbind:rw",
                          cmd=["sh", "-c", "cat /data/from-host; echo written > /data/from-ctr"])
    assert_berth_ran(r, st, ctr, "e2e-bind")
    assert r.returncode == 0, repr(r)
    assert r.stdout == "hello from the host\n"
    assert (host / "from-ctr").read_text() == "written\n"
    r, st = ctr.run_gated("e2e-bind", "--rm",
                          "--mount", f"type=bind,src={host},dst=/data,options=rbind:ro",
                          cmd=["sh", "-c", "echo no > /data/nope"])
    assert_berth_ran(r, st, ctr, "e2e-bind")
    assert r.returncode == 1, repr(r)
    assert "Read-only file system" in r.stderr
    assert not (host / "nope").exists()


def test_resources_read_back(ctr):
    # ctr's default spec has no cgroup mount: ask for one.
    r, st = ctr.run_gated("e2e-res", "--rm", "--memory-limit", str(64 << 20), "--cpus", "0.5",
                          "--mount", "type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro",
                          cmd=["sh", "-c", LIMITS_SCRIPT])
    assert_berth_ran(r, st, ctr, "e2e-res")
    assert r.returncode == 0, repr(r)
    lim = parse_limits(r.stdout)
    assert lim["mem"] == str(64 << 20), r.stdout
    assert int(lim["quota"]) * 2 == int(lim["period"]), r.stdout


def test_seccomp_default_profile(ctr):
    r, st = ctr.run_gated("e2e-seccomp", "--rm", "--seccomp",
                          cmd=["grep", "^Seccomp:", "/proc/self/status"])
    assert_berth_ran(r, st, ctr, "e2e-seccomp")
    assert r.stdout.split() == ["Seccomp:", "2"]


# ---------------------------------------------------------------- a full spec

def test_config_full_spec(ctr, rootfs, tmp_path):
    root = tmp_path / "rootfs"
    subprocess.run(["cp", "-a", rootfs, str(root)], check=True)
    bundle = tmp_path / "spec"
    bundle.mkdir()
    subprocess.run([BERTH, "spec", "-b", str(bundle)], check=True)
    spec = json.loads((bundle / "config.json").read_text())
    spec["root"] = {"path": str(root), "readonly": True}
    spec["hostname"] = "e2e-spec"
    spec["process"]["terminal"] = False
    spec["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [0]}
    spec["process"]["cwd"] = "/home/user"
    spec["process"]["env"] = ["PATH=/bin", "E2E=spec"]
    spec["process"]["args"] = ["sh", "-c", "hostname; id; pwd; echo $E2E; " + LIMITS_SCRIPT +
                               "\ntouch /x"]
    spec["linux"]["cgroupsPath"] = f"{ctr.cgroup.name}/e2e-spec"
    spec["linux"].setdefault("resources", {})["pids"] = {"limit": 20}
    spec["linux"]["resources"]["memory"] = {"limit": 48 << 20}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(spec))
    r = ctr("run", "--rm", "--config", str(path), *ctr.run_opts("e2e-spec"), "e2e-spec")
    if r.returncode != 1:
        skip_if_unsupported(r.stderr)
    assert r.returncode == 1, repr(r)
    lines = r.stdout.splitlines()
    assert lines[0] == "e2e-spec"
    assert lines[1] == "uid=1000(user) gid=1000(user) groups=0(root)"
    assert lines[2:4] == ["/home/user", "spec"]
    lim = parse_limits(" ".join(lines[4:]))
    assert (lim["pids"], lim["mem"]) == ("20", str(48 << 20)), r.stdout
    assert "Read-only file system" in r.stderr


# ---------------------------------------------------------------- a detached task

def test_detached_is_berth(ctr):
    detached(ctr, "e2e-d")
    assert os.path.isdir(os.path.join(ctr.state_root, "e2e-d"))


def test_task_exec(ctr):
    detached(ctr, "e2e-d")
    require("exec")
    r = ctr("task", "exec", "--fifo-dir", ctr.fifo, "--exec-id", "e1", "e2e-d",
            "sh", "-c", "echo out; echo err >&2; exit 3")
    if r.returncode != 3:
        skip_if_unsupported(r.stderr)
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n"), repr(r)
    r = ctr("task", "exec", "--fifo-dir", ctr.fifo, "--exec-id", "e2", "--user", "1000",
            "--cwd", "/tmp", "e2e-d", "sh", "-c", "echo $(id -u) $(pwd)").ok()
    assert r.stdout == "1000 /tmp\n"
    r = ctr("task", "exec", "--fifo-dir", ctr.fifo, "--exec-id", "e3", "e2e-d", "cat",
            input="to stdin\n").ok()
    assert r.stdout == "to stdin\n"
    r = run_pty(["ctr", "--address", ctr.sock, "task", "exec", "--fifo-dir", ctr.fifo,
                 "--exec-id", "e4", "-t", "e2e-d", "sh", "-c", "tty; " + STTY_SIZE], rows=30, cols=90)
    assert r.returncode == 0, repr(r)
    assert r.stdout.startswith("/dev/pts/") and "\n30 90\n" in r.stdout.replace("\r", ""), \
        repr(r.stdout)


def test_task_ps(ctr):
    pid = detached(ctr, "e2e-d")
    require("ps")
    r = ctr("task", "ps", "e2e-d").ok()
    assert str(pid) in r.stdout.split(), r.stdout


def test_task_metrics(ctr):
    detached(ctr, "e2e-d", "--memory-limit", str(64 << 20))
    r = ctr("task", "metrics", "e2e-d").ok()
    metrics = {}
    for line in r.stdout.splitlines():
        f = line.split(None, 1)
        if len(f) == 2:
            metrics[f[0]] = f[1].strip()
    if "memory.limit_in_bytes" in metrics:  # cgroup v1
        assert metrics["memory.limit_in_bytes"] == str(64 << 20), r.stdout
        assert int(metrics["memory.usage_in_bytes"]) > 0, r.stdout
        assert metrics["pids.current"] == "1", r.stdout
    else:  # cgroup v2
        assert metrics["memory.usage_limit"] == str(64 << 20), r.stdout
        assert metrics["pids.current"] == "1", r.stdout


def test_task_pause_resume(ctr):
    detached(ctr, "e2e-d")
    require("pause", "resume")
    ctr("task", "pause", "e2e-d").ok()
    assert task_status(ctr, "e2e-d")[1] == "PAUSED"
    assert berth_state("e2e-d", root=ctr.state_root)["status"] == "paused"
    ctr("task", "resume", "e2e-d").ok()
    assert task_status(ctr, "e2e-d")[1] == "RUNNING"
    assert berth_state("e2e-d", root=ctr.state_root)["status"] == "running"


def test_task_kill_and_delete(ctr):
    pid = detached(ctr, "e2e-d", cmd=["sh", "-c", "trap 'exit 7' TERM; touch /tmp/started; "
                                      "while :; do sleep 1 & wait $!; done"])
    wait_for(lambda: os.path.exists(f"/proc/{pid}/root/tmp/started"), what="the trap to be set")
    ctr("task", "kill", "-s", "SIGTERM", "e2e-d").ok()
    wait_for(lambda: task_status(ctr, "e2e-d")[1] == "STOPPED", what="the task to stop")
    r = ctr("task", "delete", "e2e-d").ok()
    assert "exit code 7" in r.stderr or r.stdout == "", repr(r)
    assert berth_state("e2e-d", root=ctr.state_root) is None
    ctr("containers", "rm", "e2e-d").ok()
    ctr.cgroup.assert_clean()


def test_task_kill_sigkill(ctr):
    detached(ctr, "e2e-d")
    ctr("task", "kill", "-s", "SIGKILL", "e2e-d").ok()
    wait_for(lambda: task_status(ctr, "e2e-d")[1] == "STOPPED", what="the task to stop")
    r = ctr("task", "delete", "e2e-d").ok()
    assert "137" in r.stderr, repr(r)
    assert berth_state("e2e-d", root=ctr.state_root) is None


def test_task_delete_force_running(ctr):
    detached(ctr, "e2e-d")
    ctr("task", "delete", "--force", "e2e-d").ok()
    assert task_status(ctr, "e2e-d") is None
    assert berth_state("e2e-d", root=ctr.state_root) is None
    ctr("containers", "rm", "e2e-d").ok()
