"""Helpers for the end-to-end tier (see conftest.py for the fixtures)."""
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BERTH_BUILD", os.path.join(REPO, "build"))
BERTH = os.path.abspath(os.environ.get("BERTH", os.path.join(BUILD, "src", "berth")))
BUSYBOX = "/bin/busybox"
HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = "localhost/busybox:e2e"
# Podman gives berth no --root (see docs/podman.md): berth's default.
BERTH_DEFAULT_ROOT = "/run/berth"

# The only berth failures a test may turn into a skip.
# berth's phrases: "... not supported by berth yet", "\"pause\" is not
# implemented yet in this build", "mount option \"tmpcopyup\": ... is not
# implemented".
UNSUPPORTED = re.compile(r"[^\n]*(?:not supported by berth yet|not implemented)[^\n]*")


def skip_if_unsupported(*texts):
    """Skip the calling test, quoting berth, when berth refused for lack of a
    feature. Anything else is left for the test to fail on."""
    for text in texts:
        m = UNSUPPORTED.search(text or "")
        if m:
            pytest.skip("berth says: " + m.group(0).strip())


class Result:
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv, self.returncode, self.stdout, self.stderr = argv, returncode, stdout, stderr

    def __repr__(self):
        return (f"<{' '.join(self.argv)} exited {self.returncode}\n--- stdout\n{self.stdout}"
                f"\n--- stderr\n{self.stderr}>")

    def ok(self):
        """Assert success; skip when berth said it lacks a feature."""
        if self.returncode != 0:
            skip_if_unsupported(self.stderr, self.stdout)
        assert self.returncode == 0, repr(self)
        return self


def run(argv, input=None, timeout=60, env=None, check=False):
    """Run a command with stdout/stderr in files, not pipes: engines leave
    daemonized children (conmon, shims) that could hold a pipe open."""
    argv = [str(a) for a in argv]
    with tempfile.TemporaryFile("w+", newline="") as out, \
            tempfile.TemporaryFile("w+", newline="") as err:
        p = subprocess.run(argv, input=input, stdout=out, stderr=err, text=True,
                           stdin=None if input is not None else subprocess.DEVNULL,
                           timeout=timeout, env=env)
        out.seek(0)
        err.seek(0)
        r = Result(argv, p.returncode, out.read(), err.read())
    if check:
        r.ok()
    return r


def run_pty(argv, timeout=60, env=None, rows=24, cols=80):
    """Run with stdin/stdout/stderr on a new pseudo-terminal (ctr --tty
    insists on one); returns everything written to it."""
    import fcntl
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    argv = [str(a) for a in argv]
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                         start_new_session=True)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                p.kill()
                p.wait()
                raise AssertionError(f"{' '.join(argv)} timed out; output so far: "
                                     f"{b''.join(chunks)!r}")
            r, _, _ = select.select([master], [], [], min(left, 0.5))
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every holder of the slave is gone
                    break
                if not data:
                    break
                chunks.append(data)
            elif p.poll() is not None:
                # Exited; drain what is buffered, without waiting on holders
                # of the slave that outlive it.
                r, _, _ = select.select([master], [], [], 0.5)
                if not r:
                    break
    finally:
        os.close(master)
    rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    return Result(argv, rc, b"".join(chunks).decode(errors="replace"), "")


def wait_for(pred, timeout=15, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------- berth

def berth(*args, root=None, timeout=30):
    g = ["--root", root] if root else []
    return run([BERTH, *g, *args], timeout=timeout)


def berth_state(cid, root=None):
    """berth's own view of a container (from its state directory), or None."""
    r = berth("state", cid, root=root)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


_lacks = {}


def berth_lacks(command):
    """berth's "not implemented" message for a command, or None when the
    command exists. Asked once per session, on a container that does not
    exist: an implemented command then says so instead."""
    if command not in _lacks:
        root = tempfile.mkdtemp(prefix="berth-e2e-probe-")
        try:
            args = {"exec": ["exec", "berth-e2e-none", "true"],
                    "update": ["update", "--pids-limit", "10", "berth-e2e-none"]}
            r = berth(*args.get(command, [command, "berth-e2e-none"]), root=root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        m = UNSUPPORTED.search(r.stderr)
        _lacks[command] = m.group(0).strip() if m else None
    return _lacks[command]


def require(*commands):
    for c in commands:
        msg = berth_lacks(c)
        if msg:
            pytest.skip(f"needs `berth {c}`; berth says: {msg}")


# ---------------------------------------------------------------- cgroups

def _hierarchies():
    """(mount point, our cgroup path in it) for every mounted hierarchy."""
    ours = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            ours[ctrls] = path
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, post = line.rstrip("\n").split(" - ", 1)
            mnt = pre.split()[4]
            fstype, _, superopts = post.split(" ", 2)
            if fstype == "cgroup2":
                if "" in ours:
                    out.append((mnt, ours[""]))
            elif fstype == "cgroup":
                opts = set(superopts.split(","))
                for ctrls, path in ours.items():
                    if ctrls and set(ctrls.split(",")) <= opts:
                        out.append((mnt, path))
    return out


class CgroupParent:
    """A relative cgroup parent for one engine's containers, and the checks
    that nothing is left under it, or was put outside our own cgroup."""

    def __init__(self, name):
        self.name = name
        self.hier = _hierarchies()

    def dirs(self):
        """Where the parent is (below our cgroup) and where it must never be
        (at the root of a hierarchy where our cgroup is not the root)."""
        inside, outside = [], []
        for mnt, ours in self.hier:
            inside.append(os.path.join(mnt, ours.lstrip("/"), self.name))
            if ours != "/":
                outside.append(os.path.join(mnt, self.name))
        return inside, outside

    def children(self):
        inside, outside = self.dirs()
        found = []
        for d in inside:
            if os.path.isdir(d):
                for dirpath, dirnames, _ in os.walk(d):
                    found += [os.path.join(dirpath, n) for n in dirnames]
        return sorted(found), sorted(d for d in outside if os.path.isdir(d))

    def assert_clean(self):
        kids, escaped = self.children()
        assert escaped == [], f"cgroups created outside our own cgroup: {escaped}"
        assert kids == [], f"container cgroups left behind: {kids}"

    def remove(self):
        """rmdir, deepest first, everything named after this parent."""
        inside, outside = self.dirs()
        failed = []
        for top in inside + outside:
            if not os.path.isdir(top):
                continue
            for dirpath, dirnames, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except OSError as e:
                    failed.append(f"{dirpath}: {e}")
        return failed


# ---------------------------------------------------------------- processes, mounts

def _procs_mentioning(text):
    """Live (non-zombie) processes whose command line mentions `text`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmd and st != "Z":
            found.append(f"{pid}: {cmd.strip()}")
    return found


def _mounts_under(path):
    path = os.path.realpath(path)
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path + "/"):
                found.append(mp)
    return found


def _unmount_all_under(path):
    for mp in sorted(_mounts_under(path), key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], stderr=subprocess.DEVNULL)


def _wait_gone(text, timeout=15):
    deadline = time.monotonic() + timeout
    while _procs_mentioning(text) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _procs_mentioning(text)


# ---------------------------------------------------------------- image

def _require_root():
    if os.geteuid() != 0:
        pytest.skip("end-to-end tests run Podman, containerd and Docker as root")


def _require_tools(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"not installed: {' '.join(missing)} (bash .ci/deps installs them)")


# ---------------------------------------------------------------- gate

GATE_DEST = "/.e2e-gate"
# The container waits here until the test has seen it in berth's state.
GATE_SCRIPT = f'while [ ! -e {GATE_DEST}/go ]; do usleep 20000; done; exec "$@"'


class Gate:
    """A directory bind-mounted read-only into a container whose command
    waits for `go` in it: while it waits, the test asks berth about it."""
    _n = [0]

    def __init__(self, base):
        Gate._n[0] += 1
        self.path = os.path.join(base, "gates", str(Gate._n[0]))
        os.makedirs(self.path)
        os.chmod(self.path, 0o755)

    def wrap(self, cmd):
        return ["sh", "-c", GATE_SCRIPT, "sh", *cmd]

    def open(self):
        with open(os.path.join(self.path, "go"), "w"):
            pass


def run_gated(argv, gate, find_id, state_root, input=None, timeout=60, env=None,
              state_of=None):
    """Run an engine command whose container is gated: once the container is
    up, check berth's state for it (the proof that berth ran it), open the
    gate, feed stdin, wait. Returns (Result, berth state JSON or None).
    `state_of(id)` replaces berth's state (e.g. runc's, for a control run)."""
    argv = [str(a) for a in argv]
    with tempfile.TemporaryFile("w+", newline="") as out, \
            tempfile.TemporaryFile("w+", newline="") as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, text=True, env=env,
                             stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
        state = None
        deadline = time.monotonic() + timeout
        try:
            while p.poll() is None and time.monotonic() < deadline:
                cid = find_id()
                st = None
                if cid:
                    st = state_of(cid) if state_of else berth_state(cid, root=state_root)
                if st and st.get("status") == "running":
                    state = st
                    break
                time.sleep(0.05)
        finally:
            gate.open()
        try:
            if input is not None:
                p.communicate(input, timeout=max(1, deadline - time.monotonic()))
            else:
                p.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise
        out.seek(0)
        err.seek(0)
        return Result(argv, p.returncode, out.read(), err.read()), state


# ---------------------------------------------------------------- Podman

class Podman:
    def __init__(self, tmp, cgroup):
        self.tmp = tmp
        self.cgroup = cgroup
        self.graphroot = os.path.join(tmp, "root")
        self.runroot = os.path.join(tmp, "runroot")
        conf = os.path.join(tmp, "containers.conf")
        storage = os.path.join(tmp, "storage.conf")
        registries = os.path.join(tmp, "registries.conf")
        # CAP_SYS_RESOURCE may be missing here: Podman's default rlimits
        # (nofile and nproc 1048576) could not be set by any runtime.
        nofile = min(1024, _hard_limit("RLIMIT_NOFILE"))
        nproc = min(4096, _hard_limit("RLIMIT_NPROC"))
        with open(conf, "w") as f:
            f.write(f"""\
[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]
netns = "none"
log_driver = "k8s-file"
# conmon stays in our cgroup; containers go below it (--cgroup-parent).
cgroups = "no-conmon"

[network]
network_config_dir = "{tmp}/networks"

[engine]
runtime = "berth"
runtime_supports_json = ["berth"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{tmp}/events.log"
tmp_dir = "{tmp}/tmp"
volume_path = "{tmp}/volumes"
lock_type = "file"

[engine.runtimes]
berth = ["{BERTH}"]
""")
        with open(storage, "w") as f:
            f.write(f'[storage]\ndriver = "overlay"\ngraphroot = "{self.graphroot}"\n'
                    f'runroot = "{self.runroot}"\n')
        with open(registries, "w") as f:
            f.write("unqualified-search-registries = []\n")
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_STORAGE_CONF=storage,
                        CONTAINERS_REGISTRIES_CONF=registries,
                        XDG_CONFIG_HOME=os.path.join(tmp, "xdg"))
        self.env.pop("NOTIFY_SOCKET", None)
        self.base = ["podman", "--root", self.graphroot, "--runroot", self.runroot,
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file"]

    def __call__(self, *args, input=None, timeout=90, env=None, check=False):
        return run([*self.base, *args], input=input, timeout=timeout,
                   env=env or self.env, check=check)

    def create_opts(self):
        """Options every container gets: the relative cgroup parent (Podman's
        default seccomp profile stays on)."""
        return ["--cgroup-parent", self.cgroup.name]

    def run(self, *opts, cmd=(), input=None, timeout=90, env=None):
        return self("run", *self.create_opts(), *opts, IMAGE, *cmd, input=input,
                    timeout=timeout, env=env)

    def run_gated(self, *opts, cmd=(), input=None, timeout=90):
        """`podman run` proved to be berth's: returns (Result, berth state)."""
        gate = Gate(self.tmp)
        cidfile = os.path.join(gate.path + ".cid")

        def find_id():
            try:
                with open(cidfile) as f:
                    return f.read().strip()
            except OSError:
                return None
        argv = [*self.base, "run", "--cidfile", cidfile, "-v", f"{gate.path}:{GATE_DEST}:ro",
                *self.create_opts(), *opts, IMAGE, *gate.wrap(cmd)]
        r, st = run_gated(argv, gate, find_id, None, input=input, timeout=timeout,
                          env=self.env)
        r.cid = find_id()
        return r, st

    def inspect(self, name, fmt):
        return self("inspect", "--format", fmt, name, check=True).stdout.strip()

    def cid(self, name):
        return self.inspect(name, "{{.Id}}")

    def remove_everything(self):
        self("pod", "rm", "-af", "-t", "0", timeout=120)
        self("rm", "-af", "-t", "0", timeout=120)
        self("volume", "rm", "-af", timeout=60)


def _hard_limit(name):
    import resource
    hard = resource.getrlimit(getattr(resource, name))[1]
    return hard if hard != resource.RLIM_INFINITY else 1 << 20


# ---------------------------------------------------------------- containerd

class Containerd:
    def __init__(self, tmp, cgroup):
        self.tmp = tmp
        self.cgroup = cgroup
        self.sock = os.path.join(tmp, "containerd.sock")
        self.runc_root = os.path.join(tmp, "berth")
        self.state_root = os.path.join(self.runc_root, "default")  # namespace "default"
        self.fifo = os.path.join(tmp, "fifo")
        self.config = os.path.join(tmp, "config.toml")
        self.proc = None
        with open(self.config, "w") as f:
            f.write(f"""\
version = 2
root = "{tmp}/root"
state = "{tmp}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{self.sock}"

[ttrpc]
  address = "{self.sock}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{tmp}/opt"
""")

    def start(self):
        self.log = open(os.path.join(self.tmp, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "--config", self.config],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_for(lambda: self.proc.poll() is not None or self("version").returncode == 0,
                 timeout=30, interval=0.1, what="containerd to answer")
        if self.proc.poll() is not None:
            with open(self.log.name) as f:
                pytest.fail(f"containerd exited {self.proc.returncode}:\n{f.read()[-3000:]}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __call__(self, *args, input=None, timeout=90, check=False):
        return run(["ctr", "--address", self.sock, *args], input=input, timeout=timeout,
                   check=check)

    def run_opts(self, cid):
        return ["--runc-binary", BERTH, "--runc-root", self.runc_root, "--fifo-dir", self.fifo,
                "--cgroup", f"{self.cgroup.name}/{cid}"]

    def run(self, cid, *opts, cmd=(), input=None, timeout=90, image=IMAGE):
        return self("run", *self.run_opts(cid), *opts, image, cid, *cmd, input=input,
                    timeout=timeout)

    def run_gated(self, cid, *opts, cmd=(), input=None, timeout=90):
        gate = Gate(self.tmp)
        argv = ["ctr", "--address", self.sock, "run", *self.run_opts(cid),
                "--mount", f"type=bind,src={gate.path},dst={GATE_DEST},options=rbind:ro",
                *opts, IMAGE, cid, *gate.wrap(cmd)]
        return run_gated(argv, gate, lambda: cid, self.state_root, input=input,
                         timeout=timeout)

    def remove_everything(self):
        for line in self("task", "ls", "-q").stdout.split():
            self("task", "kill", "-s", "SIGKILL", line)
        for line in self("task", "ls", "-q").stdout.split():
            self("task", "delete", "--force", line, timeout=60)
        for line in self("containers", "ls", "-q").stdout.split():
            self("containers", "rm", line)




# ---------------------------------------------------------------- inside the container

# Prints mem=, pids=, quota=, period= for the container's own cgroup, read
# from inside. berth (unlike runc) shows a v1 container the host's hierarchies
# from their roots (src/fs/rootfs.c, mount_cgroup), so the container's cgroup is
# found through /proc/self/cgroup; where that path does not exist (runc's
# view: the container's cgroup mounted at /sys/fs/cgroup/<ctrl>), the mount
# itself is the container's cgroup.
LIMITS_SCRIPT = r'''
own() { grep -E "^[0-9]+:([^:]*,)?$1(,[^:]*)?:" /proc/self/cgroup | cut -d: -f3; }
pick() { if [ -e "$1$2/$3" ]; then cat "$1$2/$3"; else cat "$1/$3"; fi; }
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
  p=$(grep '^0::' /proc/self/cgroup | cut -d: -f3)
  echo mem=$(pick /sys/fs/cgroup "$p" memory.max)
  echo pids=$(pick /sys/fs/cgroup "$p" pids.max)
  set -- $(pick /sys/fs/cgroup "$p" cpu.max)
  echo quota=$1 period=$2
else
  echo mem=$(pick /sys/fs/cgroup/memory "$(own memory)" memory.limit_in_bytes)
  echo pids=$(pick /sys/fs/cgroup/pids "$(own pids)" pids.max)
  echo quota=$(pick /sys/fs/cgroup/cpu "$(own cpu)" cpu.cfs_quota_us) \
       period=$(pick /sys/fs/cgroup/cpu "$(own cpu)" cpu.cfs_period_us)
fi
'''


def parse_limits(text):
    out = {}
    for word in text.split():
        if "=" in word:
            k, v = word.split("=", 1)
            out[k] = v
    return out


def ns_of(pid, ns):
    return os.readlink(f"/proc/{pid}/ns/{ns}")


# ---------------------------------------------------------------- Docker

# Debian's client, the daemon's own version (another `docker` earlier in PATH
# may be a different one).
DOCKER = "/usr/bin/docker"
# Where dockerd 20.10 writes whatever its config says: plugin discovery
# (/run/docker/plugins) and, without deprecated-key-path, /etc/docker/key.json.
DOCKER_GLOBALS = ["/run/docker/plugins", "/run/docker"]


def _free_subnet():
    """A /24 in 10.231.0.0/16 that no interface here uses (from our pid, so
    that parallel sessions pick different ones)."""
    used = run(["ip", "-4", "-o", "addr"]).stdout
    for i in range(256):
        n = (os.getpid() + i) % 250 + 1
        if f" 10.231.{n}." not in used:
            return f"10.231.{n}"
    pytest.fail("no free 10.231.x.0/24 for the Docker bridge")


class Docker:
    """A private dockerd: config, data root, exec root, pid file and socket
    in `tmp`; it starts its own (managed) containerd under the exec root;
    berth and runc are its runtimes; container cgroups below `cgroup` (a
    relative parent, cgroupfs driver); the default bridge network on a
    bridge of ours (`bridge`) with iptables, ip-forward and masquerading
    off, ports published by docker-proxy."""

    def __init__(self, tmp, cgroup, bridge):
        self.tmp = tmp
        self.cgroup = cgroup
        self.bridge = bridge
        self.sock = os.path.join(tmp, "docker.sock")
        self.exec_root = os.path.join(tmp, "exec")
        self.data_root = os.path.join(tmp, "data")
        self.pidfile = os.path.join(tmp, "dockerd.pid")
        self.config = os.path.join(tmp, "daemon.json")
        self.subnet = _free_subnet()
        self.proc = None
        nofile = min(1024, _hard_limit("RLIMIT_NOFILE"))
        nproc = min(4096, _hard_limit("RLIMIT_NPROC"))
        conf = {
            "hosts": [f"unix://{self.sock}"],
            "data-root": self.data_root,
            "exec-root": self.exec_root,
            "pidfile": self.pidfile,
            # dockerd 20.10's trust key, /etc/docker/key.json by default
            "deprecated-key-path": os.path.join(tmp, "key.json"),
            "runtimes": {"berth": {"path": BERTH}},
            "default-runtime": "runc",
            "exec-opts": ["native.cgroupdriver=cgroupfs"],
            # relative: each container's cgroup is <our cgroup>/<parent>/<id>
            "cgroup-parent": cgroup.name,
            "storage-driver": "overlay2",
            "log-driver": "json-file",
            "bridge": bridge,
            "iptables": False, "ip6tables": False, "ip-forward": False, "ip-masq": False,
            "userland-proxy": True,
            # CAP_SYS_RESOURCE may be missing here (see Podman above)
            "default-ulimits": {"nofile": {"Name": "nofile", "Soft": nofile, "Hard": nofile},
                                "nproc": {"Name": "nproc", "Soft": nproc, "Hard": nproc}},
            "features": {"buildkit": False},
        }
        with open(self.config, "w") as f:
            json.dump(conf, f, indent=1)
        self.env = dict(os.environ, DOCKER_CONFIG=os.path.join(tmp, "cli"))
        for k in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH",
                  "NOTIFY_SOCKET"):
            self.env.pop(k, None)

    def make_bridge(self):
        for argv in (["ip", "link", "add", self.bridge, "type", "bridge"],
                     ["ip", "addr", "add", f"{self.subnet}.1/24", "dev", self.bridge],
                     ["ip", "link", "set", self.bridge, "up"]):
            run(argv, check=True)

    def bridge_ports(self):
        try:
            return sorted(os.listdir(f"/sys/class/net/{self.bridge}/brif"))
        except FileNotFoundError:
            return []

    def remove_bridge(self):
        if os.path.exists(f"/sys/class/net/{self.bridge}"):
            return run(["ip", "link", "del", self.bridge])
        return None

    def start(self):
        self.log = open(os.path.join(self.tmp, "dockerd.log"), "w")
        self.proc = subprocess.Popen(["dockerd", "--config-file", self.config],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)
        wait_for(lambda: self.proc.poll() is not None or self("version").returncode == 0,
                 timeout=60, interval=0.1, what="dockerd to answer")
        if self.proc.poll() is not None:
            with open(self.log.name) as f:
                pytest.fail(f"dockerd exited {self.proc.returncode}:\n{f.read()[-3000:]}")
        with open(self.pidfile) as f:
            assert int(f.read()) == self.proc.pid

    def stop(self):
        """SIGTERM by pid; dockerd stops its containerd. Returns the exit
        status."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode if self.proc else None

    def __call__(self, *args, input=None, timeout=90, check=False):
        return run([DOCKER, "-H", f"unix://{self.sock}", *args], input=input, timeout=timeout,
                   env=self.env, check=check)

    def argv(self, *args):
        return [DOCKER, "-H", f"unix://{self.sock}", *args]

    def state_root(self, runtime):
        """The --root the shim gives the runtime: dockerd 20.10 names the
        same directory for every runc-shim runtime, berth included
        (namespace "moby" appended by the shim)."""
        return os.path.join(self.exec_root, "runtime-runc", "moby")

    def runtime_state(self, runtime, cid):
        """The runtime's own view of a container: berth's, or runc's."""
        binary = BERTH if runtime == "berth" else "runc"
        r = run([binary, "--root", self.state_root(runtime), "state", cid])
        return json.loads(r.stdout) if r.returncode == 0 else None

    def inspect(self, name, fmt):
        return self("inspect", "--format", fmt, name, check=True).stdout.strip()

    def remove_everything(self):
        ids = self("ps", "-aq").stdout.split()
        if ids:
            self("rm", "-f", *ids, timeout=120)
