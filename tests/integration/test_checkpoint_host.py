"""berth checkpoint / restore on this host: the flags Podman probes, the
features annotation, and the failures.  CRIU cannot work on this host's
kernel (`criu check` fails), so a checkpoint must fail with one line and
leave the container running and nothing behind; the VM tier
(tests/vm/test_checkpoint.py) checkpoints and restores for real."""
import ctypes.util
import json
import os
import subprocess

import pytest

from conftest import linked_static

pytestmark = pytest.mark.cgroup

CHECKPOINT_FLAGS = ["--image-path", "--work-path", "--parent-path", "--leave-running",
                    "--tcp-established", "--ext-unix-sk", "--shell-job", "--lazy-pages",
                    "--status-fd", "--page-server", "--file-locks", "--pre-dump",
                    "--manage-cgroups-mode", "--empty-ns", "--auto-dedup"]
RESTORE_FLAGS = ["--console-socket", "--image-path", "--work-path", "--tcp-established",
                 "--ext-unix-sk", "--shell-job", "--file-locks", "--manage-cgroups-mode",
                 "--bundle", "--detach", "--pid-file", "--no-subreaper", "--no-pivot",
                 "--empty-ns", "--auto-dedup", "--lazy-pages", "--lsm-profile",
                 "--lsm-mount-context"]


def built_in(berth):
    f = json.loads(berth.cmd("features", check=True).stdout)
    return f.get("annotations", {}).get("org.opencontainers.runc.checkpoint.enabled") == "true"


def libcriu_present():
    """libcriu linked into berth (a static build), or loadable."""
    if linked_static():
        return True
    try:
        ctypes.CDLL("libcriu.so.2")
        return True
    except OSError:
        return False


def criu_works():
    try:
        return subprocess.run(["criu", "check"], capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


def one_line(p):
    lines = [l for l in p.stderr.splitlines() if l.strip() and not l.startswith("Run 'berth")]
    assert len(lines) == 1, p.stderr
    return lines[0]


@pytest.mark.parametrize("cmd,flags", [("checkpoint", CHECKPOINT_FLAGS),
                                       ("restore", RESTORE_FLAGS)])
def test_help_lists_the_flags(berth, cmd, flags):
    # Podman runs `RUNTIME checkpoint --help` to learn whether it can.
    p = berth.cmd(cmd, "--help")
    assert p.returncode == 0, p.stderr
    missing = [f for f in flags if f not in p.stdout]
    assert missing == []


def test_restore_lsm_mount_context_needs_an_argument(berth):
    # Podman's probe for restoring into a pod: runc's words, exit 1.
    p = berth.cmd("restore", "--lsm-mount-context")
    assert p.returncode == 1
    assert "flag needs an argument" in p.stderr


def test_features_annotation(berth):
    f = json.loads(berth.cmd("features", check=True).stdout)
    ann = f.get("annotations", {})
    if not built_in(berth):
        assert "org.opencontainers.runc.checkpoint.enabled" not in ann
        pytest.skip("berth is built without criu.h")
    assert ann["org.opencontainers.runc.checkpoint.enabled"] == "true"


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] not in "ZX"
    except (FileNotFoundError, ProcessLookupError):  # gone between open and read
        return False


def test_checkpoint_fails_cleanly_and_the_container_keeps_running(berth, bundle, cid, tmp_path):
    if not built_in(berth):
        pytest.skip("berth is built without criu.h")
    if criu_works():
        pytest.skip("CRIU works on this host: tests/vm covers a real checkpoint")
    bundle.args("sleep", "300").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    pid = berth.state(cid)["pid"]
    images = tmp_path / "images"
    p = berth.cmd("checkpoint", "--image-path", images, cid)
    assert p.returncode != 0
    line = one_line(p)
    if libcriu_present():
        assert "criu check failed: " in line, line
    else:
        assert "libcriu.so.2" in line, line
    # Nothing made, nothing stopped.
    assert not images.exists()
    s = berth.state(cid)
    assert s["status"] == "running" and s["pid"] == pid
    assert _alive(pid)
    # ... and the default image directory (./checkpoint) was not made either.
    p = berth.cmd("checkpoint", cid, cwd=tmp_path)
    assert p.returncode != 0
    assert not (tmp_path / "checkpoint").exists()
    assert berth.state(cid)["status"] == "running"
    berth.cmd("delete", "--force", cid, check=True)


def test_checkpoint_of_a_missing_container(berth):
    p = berth.cmd("checkpoint", "nosuch")
    assert p.returncode == 1
    assert "container does not exist" in one_line(p)


def test_checkpoint_of_a_created_container(berth, bundle, cid):
    bundle.args("sleep", "300").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    p = berth.cmd("checkpoint", cid)
    assert p.returncode == 1
    assert "cannot be checkpointed in created state" in one_line(p)
    assert berth.state(cid)["status"] == "created"
    berth.cmd("delete", "--force", cid, check=True)


def test_restore_without_images(berth, bundle, cid, tmp_path):
    bundle.write()
    p = berth.cmd("restore", "-d", "-b", bundle.path, "--image-path", tmp_path / "none", cid)
    assert p.returncode == 1
    line = one_line(p)
    if built_in(berth) and libcriu_present() and criu_works():
        assert str(tmp_path / "none") in line
    assert not os.path.exists(os.path.join(berth.root, cid))
    assert berth.ids() == []


@pytest.mark.vm
def test_restore_from_a_directory_that_holds_no_checkpoint(berth, bundle, cid, tmp_path):
    if not (built_in(berth) and libcriu_present() and criu_works()):
        pytest.skip("needs a working CRIU (the check comes first)")
    bundle.write()
    (tmp_path / "empty").mkdir()
    p = berth.cmd("restore", "-d", "-b", bundle.path, "--image-path", tmp_path / "empty", cid)
    assert p.returncode == 1
    assert "holds no checkpoint" in one_line(p)
    assert berth.ids() == []


@pytest.mark.parametrize("cmd,args,words", [
    ("checkpoint", ["--manage-cgroups-mode", "bogus"], 'invalid --manage-cgroups-mode "bogus"'),
    ("restore", ["--manage-cgroups-mode", "none"], 'invalid --manage-cgroups-mode "none"'),
    ("checkpoint", ["--empty-ns", "pid"], 'namespace "pid" is not supported'),
    ("checkpoint", ["--status-fd", "x"], 'invalid value "x" for flag --status-fd'),
    ("checkpoint", ["--parent-path", "/abs"], "--parent-path must be relative"),
    ("checkpoint", ["--bogus"], "unknown flag --bogus"),
])
def test_bad_flag_values(berth, bundle, cid, tmp_path, cmd, args, words):
    bundle.args("sleep", "300").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    p = berth.cmd(cmd, *args, cid, cwd=tmp_path)
    assert p.returncode == 1
    assert words in one_line(p)
    assert not (tmp_path / "checkpoint").exists()
    assert berth.state(cid)["status"] == "running"
    berth.cmd("delete", "--force", cid, check=True)


def test_criu_global_flag_names_the_binary(berth, bundle, cid, tmp_path):
    if not (built_in(berth) and libcriu_present()):
        pytest.skip("needs libcriu")
    bundle.args("sleep", "300").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    p = berth.cmd("checkpoint", "--image-path", tmp_path / "img", cid,
                  globals_=("--criu", "/nonexistent/criu"))
    assert p.returncode == 1
    assert "criu check failed" in one_line(p)
    assert not (tmp_path / "img").exists()
    assert berth.state(cid)["status"] == "running"
    berth.cmd("delete", "--force", cid, check=True)
