"""Fixtures for berth's end-to-end tier: Podman and containerd, each driving
berth as its OCI runtime, on this machine, as root.

Nothing is pulled: the image is made here from Debian's busybox-static (a
root and a uid-1000 user) and given to Podman with `podman import` and to
containerd as an OCI layout written by umoci.

Each engine runs privately, in a temporary directory of its own:

* Podman has no daemon. Its containers.conf and storage.conf are temporary
  files (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF) that name berth as the
  runtime; graph root, run root, tmp dir, volumes, events and locks all live
  in the temporary directory. At the end every container, pod and volume is
  removed, `podman system reset` unmounts and deletes the storage, and no
  conmon may be left.
* containerd is started by pid with its own config.toml (root, state and
  socket in the temporary directory, CRI disabled) and stopped by pid at the
  end; `ctr run --runc-binary BERTH --runc-root DIR` makes its runc shim run
  berth. No shim may be left.

cgroups (see docs/podman.md and docs/containerd.md): every process here may
sit in a cgroup of its own (on the CI host, a v1 memory cgroup per process),
so containers must nest below it. Both engines are given a RELATIVE cgroup
parent (Podman: --cgroup-parent, with conmon left in our cgroup by
`cgroups = "no-conmon"`; ctr: --cgroup / linux.cgroupsPath), which berth
nests under its caller's cgroup in every hierarchy. After each test no
container cgroup may remain; at the end the parent directories are removed
and nothing may be left in any hierarchy, below our cgroup or at its root.

Podman passes berth no --root, so its containers are in berth's default
/run/berth (a `--runtime-flag root=` would not reach the `podman container
cleanup` conmon runs at exit); containerd's are under --runc-root.

Features berth does not have yet: a test that needs one skips, quoting
berth's own message, only when berth says "not implemented" or "not
supported by berth yet" (see e2e_lib: `skip_if_unsupported`, `berth_lacks`).
Any other failure fails the test. Every Podman container runs under
Podman's default seccomp profile, as Podman sends it.
"""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from e2e_lib import (BERTH, BERTH_DEFAULT_ROOT, BUSYBOX, HERE, IMAGE, CgroupParent, Containerd,
                     Podman, _mounts_under, _require_root, _require_tools, _unmount_all_under,
                     _wait_gone, run)


@pytest.fixture(scope="session")
def e2e_tmp():
    _require_root()
    if not os.access(BERTH, os.X_OK):
        pytest.fail(f"no berth binary at {BERTH} (build it, or set BERTH / BERTH_BUILD)")
    d = tempfile.mkdtemp(prefix="berth-e2e-")
    os.chmod(d, 0o755)
    yield d
    left = _mounts_under(d)
    _unmount_all_under(d)
    shutil.rmtree(d, ignore_errors=True)
    assert left == [], f"mounts left under {d}: {left}"


@pytest.fixture(scope="session")
def rootfs(e2e_tmp):
    """The image's root filesystem: busybox and its applets, /etc/passwd with
    root and user (1000), and e2e-notify (tests/e2e/sdnotify.c)."""
    if not os.path.exists(BUSYBOX):
        pytest.fail("busybox-static is not installed (apt-get install busybox-static)")
    r = os.path.join(e2e_tmp, "rootfs")
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/user", "run", "var/tmp"):
        os.makedirs(os.path.join(r, d), exist_ok=True)
    os.chmod(os.path.join(r, "tmp"), 0o1777)
    os.chmod(os.path.join(r, "var/tmp"), 0o1777)
    os.chown(os.path.join(r, "home/user"), 1000, 1000)
    shutil.copy2(BUSYBOX, os.path.join(r, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for a in applets:
        link = os.path.join(r, "bin", a)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    with open(os.path.join(r, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n")
    with open(os.path.join(r, "etc", "group"), "w") as f:
        f.write("root:x:0:\nuser:x:1000:\n")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc:
        subprocess.run([cc, "-static", "-O2", "-o", os.path.join(r, "bin", "e2e-notify"),
                        os.path.join(HERE, "sdnotify.c")], check=True)
    return r


def _leftovers(processes, which, tmp, cg):
    """What an engine's session left: processes (already waited for),
    mounts under its directory and cgroups below its parent, each removed
    after being noted."""
    problems = []
    if processes:
        problems.append(f"processes left ({which}): {processes}")
    mounts = _mounts_under(tmp)
    if mounts:
        problems.append(f"mounts left: {mounts}")
        _unmount_all_under(tmp)
    kids, escaped = cg.children()
    failed = cg.remove()
    if kids or escaped or failed:
        problems.append(f"cgroups left: {kids + escaped} {failed}")
    return problems


@pytest.fixture(scope="session")
def podman_session(e2e_tmp, rootfs):
    _require_tools("podman", "conmon")
    tmp = os.path.join(e2e_tmp, "podman")
    os.makedirs(tmp)
    cg = CgroupParent(f"berth-e2e-podman-{os.getpid()}")
    # What Podman and berth make outside our directory whatever the config
    # says: berth's default state root, containers/image's blob-info cache,
    # netavark's run directory. Removed at the end if they were not there.
    globals_ = [os.path.join(BERTH_DEFAULT_ROOT, "@seccomp-cache"), BERTH_DEFAULT_ROOT,
                "/var/lib/containers/cache/blob-info-cache-v1.boltdb",
                "/var/lib/containers/cache", "/var/lib/containers", "/run/containers/networks",
                "/run/containers"]
    absent = [g for g in globals_ if not os.path.exists(g)]
    p = Podman(tmp, cg)
    tar = os.path.join(e2e_tmp, "rootfs.tar")
    subprocess.run(["tar", "-C", rootfs, "--numeric-owner", "-cf", tar, "."], check=True)
    try:
        p("import", "--quiet", tar, IMAGE, check=True)
        yield p
    finally:
        problems = []
        p.remove_everything()
        r = p("system", "reset", "--force", timeout=120)
        if r.returncode != 0:
            problems.append(f"podman system reset: {r!r}")
        problems += _leftovers(_wait_gone(tmp), "conmon?", tmp, cg)
        for g in absent:  # deepest first
            try:
                if g.endswith("/@seccomp-cache"):  # berth's compiled filters
                    shutil.rmtree(g)
                else:
                    os.rmdir(g) if os.path.isdir(g) else os.unlink(g)
            except FileNotFoundError:
                pass
            except OSError as e:
                problems.append(f"{g}: {e}")
        assert not problems, "Podman session left things behind:\n" + "\n".join(problems)


@pytest.fixture
def podman(podman_session):
    """The session's Podman; after the test every container, pod and volume
    is removed and berth must have removed their state and cgroups."""
    before = set(os.listdir(BERTH_DEFAULT_ROOT)) if os.path.isdir(BERTH_DEFAULT_ROOT) else set()
    yield podman_session
    podman_session.remove_everything()
    after = set(os.listdir(BERTH_DEFAULT_ROOT)) if os.path.isdir(BERTH_DEFAULT_ROOT) else set()
    # Podman's ids: 64 hex digits (the default root may be shared).
    left = sorted(i for i in after - before if re.fullmatch(r"[0-9a-f]{64}", i))
    assert left == [], f"berth state left in {BERTH_DEFAULT_ROOT}: {left}"
    podman_session.cgroup.assert_clean()


@pytest.fixture(scope="session")
def containerd_session(e2e_tmp, rootfs):
    _require_tools("containerd", "ctr", "umoci")
    tmp = os.path.join(e2e_tmp, "containerd")
    os.makedirs(tmp)
    # The shim's sockets and ctr's default FIFOs live under /run/containerd
    # whatever the config says; remove what we add there.
    had_run = os.path.isdir("/run/containerd")
    had_sub = {d: os.path.isdir(os.path.join("/run/containerd", d)) for d in ("s", "fifo")}
    cg = CgroupParent(f"berth-e2e-ctr-{os.getpid()}")
    c = Containerd(tmp, cg)
    # The image: an OCI layout made by umoci from the same rootfs.
    layout = os.path.join(e2e_tmp, "oci")
    for argv in (["umoci", "init", "--layout", layout],
                 ["umoci", "new", "--image", f"{layout}:e2e"],
                 ["umoci", "insert", "--image", f"{layout}:e2e", rootfs, "/"],
                 ["umoci", "config", "--image", f"{layout}:e2e", "--config.cmd", "sh",
                  "--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]):
        run(argv, check=True, timeout=120)
    tar = os.path.join(e2e_tmp, "oci.tar")
    subprocess.run(["tar", "-C", layout, "-cf", tar, "."], check=True)
    try:
        c.start()
        c("images", "import", "--base-name", IMAGE.rsplit(":", 1)[0], tar, check=True,
          timeout=120)
        yield c
    finally:
        problems = []
        if c.proc:
            c.remove_everything()
            c.stop()
        problems += _leftovers(_wait_gone(c.sock), "shims?", tmp, cg)
        for d, had in had_sub.items():
            if not had:
                try:
                    os.rmdir(os.path.join("/run/containerd", d))
                except OSError:
                    pass
        if not had_run:
            try:
                os.rmdir("/run/containerd")
            except OSError as e:
                problems.append(f"/run/containerd: {e}")
        assert not problems, "containerd session left things behind:\n" + "\n".join(problems)


@pytest.fixture
def ctr(containerd_session):
    """The session's containerd; after the test every task and container is
    deleted and berth must have removed their state and cgroups."""
    yield containerd_session
    containerd_session.remove_everything()
    root = containerd_session.state_root
    # (berth keeps its own "@..." entries, e.g. @seccomp-cache, beside containers)
    left = [n for n in os.listdir(root) if not n.startswith("@")] if os.path.isdir(root) else []
    assert left == [], f"berth state left in {root}: {left}"
    containerd_session.cgroup.assert_clean()
