"""bench/floor.c, the floor of `bench.py --scale --floor` (bench/README.md,
"The floor at scale"): its numbers stand for the kernel's part of a
container of the bench's bundle only if it makes that container.  Seen from
the host: the namespaces, the root, the mounts, the cgroups, the keyring,
the process; and a failure that leaves no process behind."""
import os
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import cgsandbox  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BERTH_BUILD", os.path.join(REPO, "build"))


@pytest.fixture
def floor():
    """The build's copy (tests/meson.build): the VM guest has no compiler."""
    built = os.path.join(BUILD, "tests", "bench-floor")
    assert os.path.exists(built), f"no {built}: build it (meson compile -C {BUILD})"
    return built


@pytest.fixture
def cgroup_dirs():
    """One new cgroup per hierarchy, below this process' own (v1), or the
    v2 one; removed afterwards, once their processes are gone."""
    name = f"floor-test-{os.getpid()}"
    v1 = cgsandbox.v1_hierarchies()
    if v1:
        dirs = [os.path.join(h["own"], name) for h in v1]
    else:
        with open("/proc/self/cgroup") as f:
            own = next(l.split(":", 2)[2].strip() for l in f if l.startswith("0::"))
        dirs = [os.path.join("/sys/fs/cgroup", own.lstrip("/"), name)]
    yield dirs
    for d in dirs:
        end = time.monotonic() + 10
        while os.path.isdir(d):
            try:
                os.rmdir(d)
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.01)


def run_floor(argv, tmp_path):
    """floor's exit status, stdout and stderr; stderr through a file, as the
    container keeps a copy of it (a pipe would never see its end)."""
    with open(tmp_path / "stderr", "w+") as err:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=err, text=True, timeout=30)
        err.seek(0)
        return p.returncode, p.stdout, err.read()


def gone(pid, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in "ZX":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.01)
    return False


def test_floor_makes_the_bundles_container(floor, cgroup_dirs, rootfs_template, tmp_path):
    rc, out, err = run_floor([floor, rootfs_template, "floor-t", *cgroup_dirs], tmp_path)
    assert rc == 0, err
    pid = int(out)
    try:
        for ns in ("mnt", "net", "ipc", "uts", "pid"):
            assert os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"), ns
        with open(f"/proc/{pid}/status") as f:
            nspid = next(l.split()[1:] for l in f if l.startswith("NSpid:"))
        assert nspid == [str(pid), "1"]
        with open(f"/proc/{pid}/cmdline") as f:
            assert f.read().split("\0")[:2] == ["sleep", "1000"]
        # Its root is the rootfs: busybox is there, the host's /etc/os-release is not.
        assert os.path.exists(f"/proc/{pid}/root/bin/busybox")
        assert not os.path.exists(f"/proc/{pid}/root/etc/os-release")
        for d in cgroup_dirs:
            with open(os.path.join(d, "cgroup.procs")) as f:
                assert str(pid) in f.read().split(), d
        mounts = {}
        with open(f"/proc/{pid}/mountinfo") as f:
            for line in f:
                pre, post = line.split(" - ", 1)
                mounts[pre.split()[4]] = (post.split()[0], pre.split()[5].split(","))
        for target, fstype in (("/proc", "proc"), ("/dev", "tmpfs"), ("/dev/pts", "devpts"),
                               ("/dev/shm", "tmpfs"), ("/dev/mqueue", "mqueue"),
                               ("/sys", "sysfs")):
            assert mounts.get(target, ("?",))[0] == fstype, (target, mounts.get(target))
        assert "ro" in mounts["/"][1] and "ro" in mounts["/sys"][1]
        assert any(t.startswith("/sys/fs/cgroup") for t in mounts)
        assert "/proc/sys" in mounts and "ro" in mounts["/proc/sys"][1]
        assert "/proc/keys" in mounts and "/proc/acpi" in mounts  # masked
        host_hostname = os.uname().nodename
        ns_hostname = subprocess.run(["nsenter", "-u", "-t", str(pid), "hostname"],
                                     capture_output=True, text=True, check=True).stdout.strip()
        assert ns_hostname == "runc" != host_hostname
        with open("/proc/keys") as f:
            assert "_ses.floor-t" in f.read()
    finally:
        os.kill(pid, signal.SIGKILL)
        assert gone(pid)


def test_floor_fails_whole(floor, cgroup_dirs, tmp_path):
    rc, out, err = run_floor([floor, str(tmp_path / "no-rootfs"), "floor-f", *cgroup_dirs],
                             tmp_path)
    assert (rc, out) == (1, "")
    assert err.startswith("floor: ") and "no-rootfs" in err, err
    for d in cgroup_dirs:
        with open(os.path.join(d, "cgroup.procs")) as f:
            left = f.read().split()
        assert all(gone(int(x), 5) for x in left), (d, left)
