"""Errors in runc's words: engines and scripts match these phrases, so each
case runs with berth and with runc (the reference, when installed) and
asserts the same status and phrase."""
import os
import subprocess

import pytest

V2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def said(p):
    """stderr, with runc's logrus quoting undone."""
    return p.stderr.replace('\\"', '"')


@pytest.mark.parametrize("argv", [["foo"], ["foo", "-h"]])
def test_unknown_command(runtime, argv):
    p = runtime.cmd(*argv)
    assert p.returncode == 3
    assert "No help topic for 'foo'" in said(p)


def test_proc_on_a_symlink(runtime, bundle, cid):
    proc = os.path.join(bundle.rootfs, "proc")
    os.rmdir(proc)
    os.symlink("tmp", proc)
    bundle.write()
    p = runtime.cmd("run", "-b", bundle.path, cid)
    assert p.returncode != 0
    assert 'filesystem "proc" must be mounted on ordinary directory' in said(p), p.stderr
    assert runtime.ids() == []


def test_no_seccomp_agent_at_the_listener_path(runtime, bundle, cid, tmp_path):
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": str(tmp_path / "nobody-listens.sock"),
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    bundle.write()
    p = runtime.cmd("run", "-b", bundle.path, cid)
    assert p.returncode != 0
    assert ("failed to connect with seccomp agent specified in the seccomp profile"
            in said(p)), p.stderr
    assert runtime.ids() == []


@pytest.mark.skipif(V2, reason="cgroup v2 hosts accept unified")
def test_unified_on_cgroup_v1(runtime, bundle, cid):
    bundle.config["linux"]["resources"] = {"unified": {"pids.max": "10"}}
    bundle.write()
    p = runtime.cmd("run", "-b", bundle.path, cid)
    assert p.returncode != 0
    assert "invalid configuration: cannot use unified on cgroup v1" in said(p), p.stderr
    assert runtime.ids() == []


def test_exec_cgroup_slash_and_dotdot(runtime, bundle, cid):
    """--cgroup / is the container's own cgroup; .. is refused."""
    bundle.args("sleep", "100").write()
    runtime.cmd("run", "-d", "-b", bundle.path, cid, check=True, stdin=subprocess.DEVNULL)
    plain = runtime.cmd("exec", cid, "cat", "/proc/self/cgroup")
    slash = runtime.cmd("exec", "--cgroup", "/", cid, "cat", "/proc/self/cgroup")
    assert (plain.returncode, slash.returncode) == (0, 0), slash.stderr
    assert slash.stdout == plain.stdout
    for arg in ("..", "../x"):
        p = runtime.cmd("exec", "--cgroup", arg, cid, "true")
        assert p.returncode == 255
        assert "is not a sub cgroup path" in said(p), p.stderr
    runtime.cmd("delete", "-f", cid, check=True)
