"""Fixtures for berth's integration tier: real containers, as root, on busybox
bundles built in temporary directories from Debian's busybox-static.

Every test gets its own state root (--root); at teardown every container in it
is force-deleted and the test fails if anything it made is left behind: state
directories, cgroup directories (in every hierarchy), processes.
"""
import inspect
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import hostdev  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BERTH_BUILD", os.path.join(REPO, "build"))
BERTH = os.environ.get("BERTH", os.path.join(BUILD, "src", "berth"))
HELPER = os.path.join(BUILD, "tests", "berth-testhelper")
# The VM tier runs this suite a second time with $BERTH adding --systemd-cgroup.
SYSTEMD_DRIVER = os.environ.get("BERTH_VM_DRIVER") == "systemd"
BUSYBOX = "/bin/busybox"


def linked_static(path=os.path.join(BUILD, "src", "berth")):
    """Whether the berth build is a static executable (meson's -Dstatic,
    the default where every archive is installed): an ELF with no program
    interpreter (PT_INTERP).  $BERTH may be a wrapper; the build's own
    binary is what is asked."""
    with open(path, "rb") as f:
        ehdr = f.read(64)
        phoff = int.from_bytes(ehdr[32:40], "little")
        size, count = int.from_bytes(ehdr[54:56], "little"), int.from_bytes(ehdr[56:58], "little")
        f.seek(phoff)
        phdrs = f.read(size * count)
    return all(int.from_bytes(phdrs[i * size:i * size + 4], "little") != 3 for i in range(count))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    # What the VM tier selects by (tests/vm/README.md): under TCG each test
    # costs seconds, and the guest is there to show what this host cannot,
    # cgroup v2 and the systemd driver.
    config.addinivalue_line(
        "markers", "cgroup: the outcome depends on the cgroup layout or driver: the test "
        "reads or writes cgroup files, moves processes between cgroups (exec, restore, "
        "kill --all, pause), or makes or removes a container's cgroup in an unusual "
        "way (races, a failure half-way, leftovers)")
    config.addinivalue_line(
        "markers", "vm: skips on the CI host for want of what the guest has (AppArmor, a "
        "working CRIU): the guest is the only place it runs")
    config.addinivalue_line(
        "markers", "control: runc's case of a test that runs each runtime (set at "
        "collection from the parameters): it proves the test, not berth")


def pytest_collection_modifyitems(config, items):
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if any(isinstance(v, str) and v == "runc" for v in params.values()):
            item.add_marker(pytest.mark.control)
        # A new test that names the cgroup is marked without anyone having
        # to remember; those that touch it through a command (exec, pause,
        # kill --all) carry the marker in their source.
        try:
            named = "cgroup" in inspect.getsource(item.function).lower()
        except (OSError, TypeError):
            named = False
        if named:
            item.add_marker(pytest.mark.cgroup)


def run_via_files(argv, **kw):
    """subprocess.run with stdout and stderr through temporary files, not
    pipes: a container started by the command inherits them and may keep
    them open long after the command has exited.  Text mode."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.run(argv, stdout=out, stderr=err, text=True, **kw)
        out.seek(0)
        err.seek(0)
        p.stdout, p.stderr = out.read(), err.read()
    return p


def _require_root():
    if os.geteuid() != 0:
        pytest.skip("integration tests start real containers and need root")


class Berth:
    """Runs the berth binary with a private --root."""

    def __init__(self, root):
        self.root = root
        self.binary = BERTH
        self.name = "berth"

    def cmd(self, *args, globals_=(), check=False, input=None, timeout=60, env=None, **kw):
        """Run berth; its stdout/stderr go to files, not pipes, because a
        created container keeps them (it inherits them) long after berth
        exits."""
        argv = [self.binary, "--root", self.root, *globals_, *[str(a) for a in args]]
        p = run_via_files(argv, input=input, timeout=timeout, env=env, **kw)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.strip()}")
        return p

    def state(self, cid):
        p = self.cmd("state", cid, check=True)
        return json.loads(p.stdout)

    def wait_stopped(self, cid, timeout=5.0):
        """Until `state` says stopped (the init is reaped asynchronously)."""
        deadline = time.monotonic() + timeout
        while self.state(cid)["status"] != "stopped":
            assert time.monotonic() < deadline, f"{cid} still {self.state(cid)['status']}"
            time.sleep(0.02)

    def ids(self):
        p = self.cmd("list", "-q", check=True)
        return [l for l in p.stdout.splitlines() if l]

    def run_foreground(self, bundle_path, cid, timeout=10.0):
        """A foreground `run` (the runtime process stays while the container
        runs), returned once `state` says running; the caller ends it."""
        run = subprocess.Popen([self.binary, "--root", self.root, "run", "-b", bundle_path, cid],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            p = self.cmd("state", cid)
            if p.returncode == 0 and json.loads(p.stdout)["status"] == "running":
                return run
            if run.poll() is not None or time.monotonic() > deadline:
                if run.poll() is None:
                    run.kill()
                run.wait()
                raise AssertionError(f"{cid} never ran (berth run: {run.returncode})")
            time.sleep(0.02)


class Bundle:
    """A bundle directory with a busybox rootfs and a config.json to edit."""

    def __init__(self, path, template):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        # Hard links: cheap, and no container writes to the busybox binary.
        subprocess.run(["cp", "-al", template, self.rootfs], check=True)
        subprocess.run([BERTH, "spec", "-b", path], check=True)
        with open(self.config_path) as f:
            self.config = json.load(f)
        # Defaults for tests: no tty, writable root, a command that exits.
        self.config["process"]["terminal"] = False
        self.config["root"]["readonly"] = False
        self.config["process"]["args"] = ["true"]
        self.config["hostname"] = "berth-test"

    @property
    def config_path(self):
        return os.path.join(self.path, "config.json")

    def args(self, *args):
        self.config["process"]["args"] = list(args)
        return self

    def sh(self, script):
        return self.args("sh", "-c", script)

    def write(self):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        return self


@pytest.fixture(autouse=True)
def host_devices_untouched():
    """Nothing a test runs may chown or chmod the host's device nodes
    (tests/lib/hostdev.py)."""
    before = hostdev.snapshot()
    yield
    diff = hostdev.changed(before, hostdev.snapshot())
    assert not diff, f"host device nodes changed (uid, gid, mode, rdev): {diff}"


@pytest.fixture(scope="session")
def rootfs_template(tmp_path_factory):
    _require_root()
    if not os.path.exists(BUSYBOX):
        pytest.fail("busybox-static is not installed (apt-get install busybox-static)")
    base = tmp_path_factory.mktemp("rootfs-template")
    rootfs = os.path.join(str(base), "rootfs")
    for d in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "usr/bin", "usr/sbin",
              "var", "home/user"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for a in applets:
        link = os.path.join(rootfs, "bin", a)
        if not os.path.exists(link):
            os.symlink("busybox", link)
    if os.path.exists(HELPER):
        shutil.copy2(HELPER, os.path.join(rootfs, "bin", "berth-testhelper"))
    with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
                "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    with open(os.path.join(rootfs, "etc", "group"), "w") as f:
        f.write("root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n")
    os.chmod(str(base), 0o755)
    return rootfs


def _cgroup_dirs_named(name):
    """Cgroup directories named `name` where berth may put a container: below
    this process' cgroup (v1) or its parent (v2), in every hierarchy."""
    bases = {"/"}
    with open("/proc/self/cgroup") as f:
        for line in f:
            path = line.rstrip("\n").split(":", 2)[2]
            bases.add(path)
            bases.add(os.path.dirname(path))
    tops = ["/sys/fs/cgroup"] + [os.path.join("/sys/fs/cgroup", d)
                                 for d in os.listdir("/sys/fs/cgroup")]
    found = []
    for top in tops:
        for base in bases:
            d = os.path.join(top, base.lstrip("/"), name)
            if os.path.isdir(d):
                found.append(d)
    return sorted(set(found))


def _remove_leftovers(b):
    """Remove whatever a test left in b's state root, then fail if removal
    failed."""
    leftovers = b.ids() if os.path.isdir(b.root) else []
    for cid in leftovers:
        b.cmd("delete", "--force", cid)
    # "@seccomp-cache" holds compiled filters, shared by containers on purpose.
    remaining = [e for e in os.listdir(b.root) if not e.startswith("@")] \
        if os.path.isdir(b.root) else []
    assert remaining == [], f"state directories left behind: {remaining}"


@pytest.fixture
def berth(tmp_path, cid):
    # Depends on `cid` so that its cgroup check runs after this teardown has
    # deleted what a failed test left.
    _require_root()
    b = Berth(str(tmp_path / "state"))
    yield b
    _remove_leftovers(b)


RUNC = "/usr/sbin/runc"


@pytest.fixture(params=["berth", "runc"])
def runtime(request, tmp_path, cid):
    """berth, then runc as the reference where berth does what runc does: the
    test runs with each and asserts the same outcome (runc's run is skipped
    where runc is not installed).  `runtime.name` says which."""
    _require_root()
    if request.param == "runc" and not os.path.exists(RUNC):
        pytest.skip("runc is not installed")
    b = Berth(str(tmp_path / f"state-{request.param}"))
    if request.param == "runc":
        b.name = "runc"
        b.binary = RUNC
    yield b
    _remove_leftovers(b)


@pytest.fixture
def bundle(tmp_path, rootfs_template):
    path = tmp_path / "bundle"
    path.mkdir()
    return Bundle(str(path), rootfs_template)


@pytest.fixture
def open_bundle(rootfs_template):
    """A bundle that a container root other than host root can reach: the
    usual one lives under pytest's 0700 directory."""
    path = tempfile.mkdtemp(prefix="berth-exec-")
    os.chmod(path, 0o755)
    try:
        yield Bundle(path, rootfs_template)
    finally:
        shutil.rmtree(path)


_counter = [0]


@pytest.fixture
def cid(request):
    """A container id unique to this test; its cgroup directories are checked
    at teardown in every hierarchy."""
    _counter[0] += 1
    name = f"bt{os.getpid()}-{_counter[0]}"
    yield name
    left = _cgroup_dirs_named(name)
    assert left == [], f"cgroup directories left behind: {left}"


# ---- a throwaway user with a subordinate range, for rootless tests (test_rootless.py,
# test_idmap.py) --------------------------------------------------------------------------

_users = [0]


def _subid_ranges(name, path):
    with open(path) as f:
        return [(int(a), int(n)) for u, a, n in
                (l.strip().split(":") for l in f if l.count(":") == 2) if u == name]


class User:
    """A test user, its $XDG_RUNTIME_DIR and a way to run commands as it."""

    def __init__(self, name):
        self.name = name
        pw = pwd.getpwnam(name)
        self.uid, self.gid, self.home = pw.pw_uid, pw.pw_gid, pw.pw_dir
        self.xdg = tempfile.mkdtemp(prefix="berth-xdg-")
        os.chown(self.xdg, self.uid, self.gid)
        os.chmod(self.xdg, 0o700)
        self.subuid = _subid_ranges(name, "/etc/subuid")[0]
        self.subgid = _subid_ranges(name, "/etc/subgid")[0]

    def env(self, **extra):
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": self.home,
               "USER": self.name, "LOGNAME": self.name, "XDG_RUNTIME_DIR": self.xdg}
        # The sanitizer tier's settings reach berth as this user too.
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def run(self, *argv, cwd=None, env=None, timeout=60):
        """argv as this user (setpriv: no PAM session, no tty).  Output goes
        to files: a detached container keeps what it inherits."""
        full = [shutil.which("setpriv"), f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
                "--", *[str(a) for a in argv]]
        env = env or self.env()
        if "ASAN_OPTIONS" in env and "exec" in [str(a) for a in argv]:
            # LeakSanitizer checks at exit by stopping the process from a
            # tracer thread (ptrace).  A rootless exec has joined the
            # container's user namespace, where that thread may not trace
            # it, and LSan then spins at exit for ever.  ASan and UBSan
            # still check the exec; only the leak check is off.
            env = dict(env, ASAN_OPTIONS=env["ASAN_OPTIONS"] + ":detect_leaks=0")
        return run_via_files(full, stdin=subprocess.DEVNULL, cwd=cwd, env=env, timeout=timeout)

    def processes(self, timeout=5.0):
        """This user's live processes, once the dead ones are reaped (a
        killed init is reparented, and reaped a little later)."""
        deadline = time.monotonic() + timeout
        while True:
            p = subprocess.run(["ps", "-u", str(self.uid), "-o", "pid=,stat="],
                               capture_output=True, text=True)
            rows = [l.split() for l in p.stdout.splitlines() if l.strip()]
            if not rows or time.monotonic() > deadline:
                return [int(r[0]) for r in rows if not r[1].startswith("Z")]
            time.sleep(0.05)


@pytest.fixture
def user():
    _require_root()
    if os.environ.get("BERTH_VM_DRIVER") == "systemd":
        # There $BERTH is a wrapper adding --systemd-cgroup, under a
        # directory this user cannot reach; rootless with the systemd driver
        # (the user's own manager) has its own tests: tests/vm.
        pytest.skip("rootless tests run with the cgroupfs driver; tests/vm covers systemd's")
    if shutil.which("useradd") is None or shutil.which("setpriv") is None:
        pytest.skip("useradd and setpriv are needed to make and become a test user")
    _users[0] += 1
    name = f"brl{os.getpid() % 100000}x{_users[0]}"
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True, capture_output=True)
    u = None
    try:
        # useradd gives a range where login.defs says so; make sure of one.
        if not _subid_ranges(name, "/etc/subuid") or not _subid_ranges(name, "/etc/subgid"):
            base = 2_000_000 + (os.getpid() % 1000) * 70_000
            subprocess.run(["usermod", "--add-subuids", f"{base}-{base + 65535}",
                            "--add-subgids", f"{base}-{base + 65535}", name], check=True)
        u = User(name)
        yield u
    finally:
        if u is not None:
            for d in ("berth", "runc"):
                root = os.path.join(u.xdg, d)
                if os.path.isdir(root):
                    for cid in os.listdir(root):
                        if not cid.startswith("@"):
                            binary = BERTH if d == "berth" else RUNC
                            u.run(binary, "delete", "--force", cid)
            left = u.processes()
            for pid in left:  # processes of this test's own user only
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            shutil.rmtree(u.xdg, ignore_errors=True)
        for a, n in _subid_ranges(name, "/etc/subuid"):
            subprocess.run(["usermod", "--del-subuids", f"{a}-{a + n - 1}", name])
        for a, n in _subid_ranges(name, "/etc/subgid"):
            subprocess.run(["usermod", "--del-subgids", f"{a}-{a + n - 1}", name])
        subprocess.run(["userdel", "-r", name], capture_output=True)
        assert not _subid_ranges(name, "/etc/subuid") and not _subid_ranges(name, "/etc/subgid")
        if u is not None:
            assert left == [], f"processes of the test user left behind: {left}"


@pytest.fixture
def ubundle(user, rootfs_template):
    """A bundle the test user owns (its rootfs is root's, readable), with the
    config `berth spec --rootless` gives that user."""
    path = tempfile.mkdtemp(prefix="berth-rootless-")
    try:
        os.chmod(path, 0o755)
        subprocess.run(["cp", "-al", rootfs_template, os.path.join(path, "rootfs")], check=True)
        os.chown(path, user.uid, user.gid)
        p = user.run(BERTH, "spec", "--rootless", cwd=path)
        assert p.returncode == 0, p.stderr
        yield Config(path)
    finally:
        shutil.rmtree(path)


class Config:
    def __init__(self, path):
        self.path = path
        self.file = os.path.join(path, "config.json")
        with open(self.file) as f:
            self.config = json.load(f)
        self.config["process"]["terminal"] = False

    def args(self, *argv):
        self.config["process"]["args"] = list(argv)
        return self.write()

    def write(self):
        # Rewritten in place: the file stays the user's.
        with open(self.file, "r+") as f:
            f.truncate()
            json.dump(self.config, f, indent=2)
        return self
