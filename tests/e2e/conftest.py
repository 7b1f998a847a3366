"""Fixtures for berth's end-to-end tier: Podman, containerd and Docker, each
driving berth as its OCI runtime, on this machine, as root.

Nothing is pulled: the image is made here from Debian's busybox-static (a
root and a uid-1000 user) and given to Podman with `podman import`, to
containerd as an OCI layout written by umoci, and to Docker with `docker
import`.

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
* dockerd (Docker 20.10) is started by pid with its own daemon.json (data
  root, exec root, pid file, socket and trust key in the temporary
  directory; runtimes berth and runc; iptables, ip-forward and masquerading
  off; the default bridge network on a bridge we make and delete) and starts
  its own containerd under its exec root; it is stopped by pid at the end,
  and no dockerd, containerd, shim, docker-proxy, container process, mount,
  network namespace, bridge port or cgroup may be left. Every Docker
  scenario runs with `--runtime berth` and with `--runtime runc`, the
  control (see docs/docker.md).

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

containerd's CRI plugin (test_cri.py, docs/kubernetes.md): a second private
containerd with the CRI on, RuntimeClass handlers `berth` and `runc` (the
control), driven over gRPC with stubs generated at test time from our own
cri/runtime_v1_subset.proto; pods get a relative cgroup_parent, a private
CNI bridge and subnet, and nothing may be left of them: see cri_session.

Features berth does not have yet: a test that needs one skips, quoting
berth's own message, only when berth says "not implemented" or "not
supported by berth yet" (see e2e_lib: `skip_if_unsupported`, `berth_lacks`).
Any other failure fails the test. Every Podman container runs under
Podman's default seccomp profile, as Podman sends it.
"""
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from e2e_lib import (BERTH, BERTH_DEFAULT_ROOT, BUSYBOX, DOCKER, DOCKER_GLOBALS, HERE, IMAGE,
                     CgroupParent, Containerd, Docker, Podman, _mounts_under, _procs_mentioning,
                     _require_root, _require_tools, _unmount_all_under, _wait_gone, run, wait_for)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import hostdev  # noqa: E402


@pytest.fixture(autouse=True)
def host_devices_untouched():
    """No engine, runtime or test may chown or chmod the host's device
    nodes (tests/lib/hostdev.py)."""
    before = hostdev.snapshot()
    yield
    diff = hostdev.changed(before, hostdev.snapshot())
    assert not diff, f"host device nodes changed (uid, gid, mode, rdev): {diff}"


@pytest.fixture(scope="session")
def e2e_tmp():
    _require_root()
    if not os.access(BERTH, os.X_OK):
        pytest.fail(f"no berth binary at {BERTH} (build it, or set BERTH / BERTH_BUILD)")
    d = tempfile.mkdtemp(prefix="berth-e2e-")
    os.chmod(d, 0o755)
    # The engines' helpers write into the directory they start in (conmon
    # leaves a file named "oom" after an OOM kill): a scratch one, not the
    # checkout the tests are run from.
    cwd = os.getcwd()
    os.mkdir(os.path.join(d, "cwd"))
    os.chdir(os.path.join(d, "cwd"))
    try:
        yield d
    finally:
        os.chdir(cwd)
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


def _kill_cgroup_leftovers(cg):
    """Processes still in container cgroups below `cg` (ours: our containers'
    leftovers), killed by pid; returns what was found."""
    import time
    found = []
    for d in cg.children()[0]:
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            continue
        for pid in pids:
            found.append(f"{pid} in {d}")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if found:
        time.sleep(0.5)
    return found


@pytest.fixture(scope="session")
def docker_session(e2e_tmp, rootfs):
    _require_tools("dockerd", "containerd", "containerd-shim-runc-v2", "runc", "docker-proxy")
    if not os.access(DOCKER, os.X_OK):
        pytest.fail(f"no {DOCKER} (bash .ci/deps installs docker.io)")
    tmp = os.path.join(e2e_tmp, "docker")
    os.makedirs(tmp)
    # Outside our directory: the shims' sockets (/run/containerd/s) and
    # dockerd's plugin directory; removed at the end if we made them.
    globals_ = ["/run/containerd/s", "/run/containerd", *DOCKER_GLOBALS]
    absent = [g for g in globals_ if not os.path.exists(g)]
    cg = CgroupParent(f"berth-e2e-docker-{os.getpid()}")
    d = Docker(tmp, cg, f"bdk{os.getpid()}"[:15])
    tar = os.path.join(e2e_tmp, "docker-rootfs.tar")
    subprocess.run(["tar", "-C", rootfs, "--numeric-owner", "-cf", tar, "."], check=True)
    try:
        d.make_bridge()
        d.start()
        d("import", "-c", 'CMD ["sh"]',
          "-c", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          tar, IMAGE, check=True, timeout=120)
        yield d
    finally:
        problems = []
        if d.proc:
            d.remove_everything()
            rc = d.stop()
            if rc not in (0, None):
                problems.append(f"dockerd exited {rc}")
        procs = _wait_gone(tmp)
        for p in procs:  # ours: started by our dockerd for our containers
            try:
                os.kill(int(p.split(":")[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass
        _kill_cgroup_leftovers(cg)
        problems += _leftovers(procs, "dockerd, containerd or shims (killed)", tmp, cg)
        proxies = _procs_mentioning(f"-container-ip {d.subnet}.")
        if proxies:
            problems.append(f"docker-proxy left: {proxies}")
        ports = d.bridge_ports()
        if ports:
            problems.append(f"veths left on {d.bridge}: {ports}")
        r = d.remove_bridge()
        if r is not None and r.returncode != 0:
            problems.append(f"removing {d.bridge}: {r!r}")
        for g in absent:  # deepest first
            try:
                os.rmdir(g)
            except FileNotFoundError:
                pass
            except OSError as e:
                # (other containerds on this machine share /run/containerd)
                if not g.startswith("/run/containerd"):
                    problems.append(f"{g}: {e}")
        assert not problems, "Docker session left things behind:\n" + "\n".join(problems)


@pytest.fixture(params=["berth", "runc"])
def rt(request):
    """The runtime Docker runs the scenario with: berth, and runc as the
    control."""
    return request.param


@pytest.fixture
def docker(docker_session):
    """The session's dockerd; after the test every container is removed, and
    the runtimes must have removed their state and cgroups, leaving no
    process in them (any found are killed, so the next test starts clean)."""
    yield docker_session
    docker_session.remove_everything()
    problems = []
    root = docker_session.state_root("berth")
    left = [n for n in os.listdir(root) if not n.startswith("@")] if os.path.isdir(root) else []
    if left:
        problems.append(f"runtime state left in {root}: {left}")
    procs = _kill_cgroup_leftovers(docker_session.cgroup)
    if procs:
        problems.append(f"processes left in container cgroups (killed): {procs}")
    for cid in left:  # so that the next test starts clean
        if run([BERTH, "--root", root, "delete", "--force", cid]).returncode != 0:
            run(["runc", "--root", root, "delete", "--force", cid])
        shutil.rmtree(os.path.join(root, cid), ignore_errors=True)
    kids, escaped = docker_session.cgroup.children()
    if escaped:
        problems.append(f"cgroups created outside our own cgroup: {escaped}")
    if kids:
        failed = docker_session.cgroup.remove()
        problems.append(f"container cgroups left behind (removed): {kids} {failed}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- CRI (test_cri.py)

@pytest.fixture(scope="session")
def cri_session(e2e_tmp, rootfs):
    """containerd with its CRI plugin on a private socket, handlers `berth`
    and `runc` (see cri_lib.CriContainerd and docs/kubernetes.md). At the
    end: containerd stopped by pid; no shim, mount, cgroup, netns, veth,
    iptables rule or bridge of ours may be left."""
    import cri_lib
    _require_tools("containerd", "ctr", "umoci", "iptables-save", "ip")
    for tool in (cri_lib.CATATONIT, cri_lib.RUNC, "/usr/lib/cni/bridge", "/usr/lib/cni/portmap",
                 "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"):
        if not os.access(tool, os.X_OK):
            pytest.fail(f"{tool} missing (bash .ci/deps installs catatonit, runc and "
                        "containernetworking-plugins)")
    tmp = os.path.join(e2e_tmp, "cri")
    os.makedirs(tmp)
    pb, pbg = cri_lib.stubs(os.path.join(tmp, "stubs"))
    had = {d: os.path.isdir(d) for d in ("/run/containerd/s", "/run/containerd",
                                         cri_lib.NETNS_DIR, "/var/lib/cni/results",
                                         "/var/lib/cni")}
    netns0 = cri_lib.netns_files()
    ipt0 = cri_lib.iptables_lines()
    cg = CgroupParent(f"bcri-{os.getpid()}")
    c = cri_lib.CriContainerd(tmp, cg, pb, pbg)
    # Images: busybox (the e2e rootfs) and a pause image whose only file is
    # Debian's static catatonit in pause mode; one OCI layout, two tags.
    layout = os.path.join(tmp, "oci")
    pause = os.path.join(tmp, "pause-rootfs")
    os.makedirs(pause)
    shutil.copy2(cri_lib.CATATONIT, os.path.join(pause, "catatonit"))
    path_env = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    for argv in (["umoci", "init", "--layout", layout],
                 ["umoci", "new", "--image", f"{layout}:busybox"],
                 ["umoci", "insert", "--image", f"{layout}:busybox", rootfs, "/"],
                 ["umoci", "config", "--image", f"{layout}:busybox", "--config.cmd", "sh",
                  "--config.env", path_env],
                 ["umoci", "new", "--image", f"{layout}:pause"],
                 ["umoci", "insert", "--image", f"{layout}:pause", pause, "/"],
                 ["umoci", "config", "--image", f"{layout}:pause",
                  "--config.entrypoint", "/catatonit", "--config.entrypoint", "-P",
                  "--config.env", path_env]):
        run(argv, check=True, timeout=120)
    tar = os.path.join(tmp, "oci.tar")
    subprocess.run(["tar", "-C", layout, "-cf", tar, "."], check=True)
    try:
        c.start()
        c.ctr("images", "import", "--base-name", cri_lib.IMAGE_BASE, tar).ok()
        for image in (cri_lib.BUSYBOX_IMAGE, cri_lib.PAUSE_IMAGE):
            wait_for(lambda: c.img.ImageStatus(pb.ImageStatusRequest(
                image=pb.ImageSpec(image=image)), timeout=10).image.id,
                what=f"CRI to see {image}")
        yield c
    finally:
        problems = []
        if c.proc:
            problems += c.remove_everything()
            c.stop()
        problems += [f"process in a pod cgroup: {p}" for p in cri_lib.kill_cgroup_leftovers(cg)]
        shims = _wait_gone(c.sock)
        for line in shims:  # "PID: cmdline": noted, then killed by pid
            pid, cmd = line.split(": ", 1)
            os.kill(int(pid), signal.SIGKILL)
            argv = cmd.split()
            sid = argv[argv.index("-id") + 1] if "-id" in argv else None
            if sid:
                try:
                    os.unlink(cri_lib.shim_socket(c.sock, "k8s.io", sid))
                except OSError:
                    pass
        problems += _leftovers(shims, "shims", tmp, cg)
        problems += [f"runtime state left: {s}" for s in c.runtime_leftovers()]
        left_ns = cri_lib.netns_files() - netns0
        if left_ns:
            problems.append(f"netns left in {cri_lib.NETNS_DIR}: {sorted(left_ns)}")
            for n in left_ns:  # containerd's, for our pods: unmount, remove
                run(["umount", "-l", os.path.join(cri_lib.NETNS_DIR, n)], timeout=30)
                os.unlink(os.path.join(cri_lib.NETNS_DIR, n))
        results = cri_lib.cni_results(c)
        if results:
            problems.append(f"CNI results cache left: {results}")
            for n in results:
                os.unlink(os.path.join(cri_lib.CNI_RESULTS, n))
        # The bridge stays after its last pod (CNI's bridge plugin never
        # deletes it): ours to remove. No veth may still be on it.
        on_bridge = [ln for ln in cri_lib.links() if f"master {c.bridge} " in ln]
        if on_bridge:
            problems.append(f"links left on {c.bridge}: {on_bridge}")
        if any(f": {c.bridge}:" in ln for ln in cri_lib.links()):
            run(["ip", "link", "del", c.bridge], timeout=30)
        # portmap's shared chains stay too (CNI's design): remove them if
        # we brought them. Any other new rule is a leftover.
        new = cri_lib.iptables_lines() - ipt0
        for rule in sorted(r for r in new if r.startswith("-A ") and
                           cri_lib.PORTMAP_GLOBAL.search(r)):
            run(["iptables", "-t", "nat", "-D", *shlex.split(rule)[1:]], timeout=30)
        for chain in sorted(r[1:].split()[0] for r in new if r.startswith(":") and
                            cri_lib.PORTMAP_GLOBAL.search(r)):
            run(["iptables", "-t", "nat", "-X", chain], timeout=30)
        new = {r for r in cri_lib.iptables_lines() - ipt0
               if "CNI" in r or str(c.subnet.network_address)[:-1] in r or c.bridge in r}
        if new:
            problems.append(f"iptables rules left: {sorted(new)}")
        for d, existed in had.items():  # deepest first
            if not existed:
                try:
                    os.rmdir(d)
                except FileNotFoundError:
                    pass
                except OSError as e:
                    problems.append(f"{d}: {e}")
        assert not problems, "CRI session left things behind:\n" + "\n".join(problems)


@pytest.fixture
def cri(cri_session):
    """The CRI session; after the test every pod is stopped and removed, and
    nothing of it may remain: runtime state, cgroups, netns, veths, per-pod
    iptables rules."""
    import cri_lib
    netns0 = cri_lib.netns_files()
    ipt0 = cri_lib.iptables_lines()
    yield cri_session
    problems = cri_session.remove_everything()
    problems += [f"runtime state left: {s}" for s in cri_session.runtime_leftovers()]
    problems += [f"netns left: {n}" for n in sorted(cri_lib.netns_files() - netns0)]
    problems += [f"veth left on the bridge: {ln}" for ln in cri_lib.links()
                 if f"master {cri_session.bridge} " in ln]
    problems += [f"iptables rule left: {r}" for r in sorted(cri_lib.iptables_lines() - ipt0)
                 if not cri_lib.PORTMAP_GLOBAL.search(r)
                 and ("CNI-DN-" in r or str(cri_session.subnet.network_address)[:-1] in r)]
    kids, escaped = cri_session.cgroup.children()
    problems += [f"cgroup created outside our own: {d}" for d in escaped]
    # The pods' parents (relative cgroup_parent) are made by the runtime
    # and, as with runc, kept: removed here. A container's (64 hex digits)
    # must be gone.
    problems += [f"container cgroup left: {d}" for d in kids
                 if re.search(r"/[0-9a-f]{64}(/|$)", d)]
    if not problems:
        problems += [f"cgroup not removable: {f}" for f in cri_session.cgroup.remove()]
    assert not problems, "the test's pods left things behind:\n" + "\n".join(problems)
