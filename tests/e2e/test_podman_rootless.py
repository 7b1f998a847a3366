"""Rootless Podman 4.x running berth, with runc as the control (issue #15).

One user is made for the whole module (rootless_lib.RootlessUser: a login
user with a subordinate uid/gid range, its own XDG_RUNTIME_DIR), the image
(conftest's busybox rootfs) is imported into that user's storage with
`podman import`, and every scenario runs `podman --runtime RUNTIME` as that
user, once with berth and once with runc. Always `--network none`:
rootless networking needs slirp4netns and /dev/net/tun (here the program
is not installed and the device is root's only).

Rootless Podman calls the runtime as uid 0 inside its own user namespace
(0 -> the user, 1..65536 -> its subordinate range) with XDG_RUNTIME_DIR
set and no --root: runc keeps its state in $XDG_RUNTIME_DIR/runc, berth in
$XDG_RUNTIME_DIR/berth. The detached scenarios find the container there by
Podman's id: the proof that the runtime under test ran it.

The security scenarios (issue #15, item 7) check what the kernel must
refuse to a rootless container, whatever the runtime: writing a root-owned
host file through a bind mount, using capabilities against the host
(hostname of the host's UTS namespace, loading a module, making a device
node on a host directory), changing host device nodes. Where a container
is given every capability and no seccomp filter, it is so that the refusal
seen is the kernel's, not the runtime's filter.
"""
import os
import re

import pytest

from e2e_lib import BERTH, IMAGE, _require_root, _require_tools, ns_of, run, run_pty, wait_for
from rootless_lib import ROOTLESS_TOOLS, RootlessUser, procs_of_uids

# Marks per runtime (e.g. an xfail with its reason where one lacks a
# feature); none today.
RUNTIME_MARKS = {
    "berth": [],
    "runc": [],
}
RUNTIME_PATHS = {"berth": BERTH, "runc": "/usr/sbin/runc"}

OK_DENIED = ("Permission denied", "Operation not permitted", "Read-only file system")


@pytest.fixture(scope="module")
def user(e2e_tmp, rootfs):
    """The module's rootless user, with the image in its storage."""
    _require_root()
    _require_tools(*ROOTLESS_TOOLS)
    u = RootlessUser(os.path.join(e2e_tmp, "rootless"), f"brlpod{os.getpid()}")
    os.makedirs(u.base, mode=0o755)
    tar = os.path.join(u.base, "rootfs.tar")
    run(["tar", "-C", rootfs, "--numeric-owner", "-cf", tar, "."], check=True)
    os.chmod(tar, 0o644)
    try:
        u.create()
        u("podman", "import", "--quiet",
          "-c", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "-c", 'CMD ["sh"]', tar, IMAGE, timeout=120, check=True)
        yield u
    finally:
        problems = u.remove(podman_cleanup=[
            ("podman", "pod", "rm", "-af", "-t", "0"),
            ("podman", "rm", "-af", "-t", "0"),
            ("podman", "system", "reset", "--force"),
        ])
        assert not problems, "rootless Podman left things behind:\n" + "\n".join(problems)


class RootlessPodman:
    """`podman --runtime PATH` as the user."""

    def __init__(self, user, runtime):
        self.user = user
        self.runtime = runtime
        self.path = RUNTIME_PATHS[runtime]
        # Where the runtime keeps its state when rootless Podman calls it.
        self.state_root = os.path.join(user.xdg_runtime, runtime)

    def __call__(self, *args, input=None, timeout=90, check=False):
        return self.user("podman", "--runtime", self.path, *args, input=input,
                         timeout=timeout, check=check)

    def argv(self, *args):
        return self.user.argv(["podman", "--runtime", self.path, *args])

    def run(self, *opts, cmd=(), input=None, timeout=90):
        return self("run", "--network", "none", *opts, IMAGE, *cmd, input=input,
                    timeout=timeout)

    def inspect(self, name, fmt):
        return self("inspect", "--format", fmt, name, check=True).stdout.strip()

    def detached(self, *opts, cmd=("sleep", "1000"), name="rl-d"):
        """A detached container, found in the runtime's own state by id."""
        r = self.run("-d", "--name", name, *opts, cmd=cmd)
        r.ok()
        cid = r.stdout.strip().splitlines()[-1]
        assert os.path.isdir(os.path.join(self.state_root, cid)), \
            f"{self.runtime} has no state for {cid} in {self.state_root}"
        pid = int(self.inspect(name, "{{.State.Pid}}"))
        return cid, pid

    def remove_everything(self):
        self("pod", "rm", "-af", "-t", "0", timeout=120)
        self("rm", "-af", "-t", "0", timeout=120)


@pytest.fixture(params=[pytest.param(rt, marks=m) for rt, m in RUNTIME_MARKS.items()])
def podman(request, user):
    """Rootless Podman running the runtime under test; afterwards every
    container and pod is removed, and the runtime's state and every
    container process must be gone."""
    p = RootlessPodman(user, request.param)
    yield p
    p.remove_everything()
    left = [n for n in os.listdir(p.state_root) if re.fullmatch(r"[0-9a-f]{64}", n)] \
        if os.path.isdir(p.state_root) else []
    assert left == [], f"{p.runtime} state left in {p.state_root}: {left}"
    # Container processes run as the user (container root) or in its
    # subordinate range; conmon as the user. Only Podman's pause process
    # may stay.
    wait_for(lambda: not _running(user), timeout=15, what="container processes to exit")


def _running(user):
    return [p for p in procs_of_uids(user.uid_ranges())
            if not p[2].startswith(("catatonit -P", "podman pause"))]


def status_uids(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(u) for u in line.split()[1:]]


# A shell as pid 1 that stops on SIGTERM with status 7.
TRAPPING = ["sh", "-c", "trap 'echo got-term; exit 7' TERM; echo started; "
            "while :; do sleep 1 & wait $!; done"]


# ---------------------------------------------------------------- scenarios

def test_run_rm(podman, user):
    r = podman.run("--rm", cmd=["sh", "-c", "echo hello; id -u; cat /proc/self/uid_map"])
    r.ok()
    lines = r.stdout.splitlines()
    assert lines[:2] == ["hello", "0"], r.stdout
    # Podman's user namespace: root is the user, 1.. its subordinate range.
    maps = [line.split() for line in lines[2:]]
    assert ["0", str(user.uid), "1"] in maps, r.stdout
    assert ["1", str(user.subuid[0]), str(user.subuid[1])] in maps, r.stdout
    r = podman.run("--rm", cmd=["sh", "-c", "exit 42"])
    assert r.returncode == 42, repr(r)
    assert podman("ps", "-aq").stdout.strip() == ""


def test_detached_exec_logs_stop(podman, user):
    cid, pid = podman.detached(cmd=TRAPPING)
    # Seen from the host, the container's root is the user.
    assert status_uids(pid)[0] == user.uid
    wait_for(lambda: "started" in podman("logs", "rl-d").stdout, what="the trap to be set")
    r = podman("exec", "rl-d", "sh", "-c", "echo out; id -u; cat /proc/1/cmdline | tr '\\0' ' '")
    r.ok()
    out, uid, cmd1 = r.stdout.splitlines()
    assert (out, uid) == ("out", "0")
    assert cmd1.startswith("sh -c trap"), cmd1
    r = podman("exec", "rl-d", "sh", "-c", "exit 3")
    assert r.returncode == 3, repr(r)
    podman("stop", "-t", "20", "rl-d").ok()
    assert podman.inspect("rl-d", "{{.State.Status}}") == "exited"
    assert podman.inspect("rl-d", "{{.State.ExitCode}}") == "7"
    assert "got-term" in podman("logs", "rl-d").stdout
    podman("rm", "rl-d").ok()
    assert not os.path.exists(os.path.join(podman.state_root, cid))


def test_bind_volume(podman, user):
    host = os.path.join(user.home, f"vol-{podman.runtime}")
    user("mkdir", host, check=True)
    user("sh", "-c", f"echo from-host > {host}/in", check=True)
    r = podman.run("--rm", "-v", f"{host}:/data",
                   cmd=["sh", "-c", "cat /data/in; echo from-ctr > /data/out; stat -c %u /data/in"])
    r.ok()
    assert r.stdout.splitlines() == ["from-host", "0"], r.stdout
    st = os.stat(os.path.join(host, "out"))
    assert (st.st_uid, st.st_gid) == (user.uid, user.gid)
    with open(os.path.join(host, "out")) as f:
        assert f.read() == "from-ctr\n"


def test_read_only(podman):
    r = podman.run("--rm", "--read-only",
                   cmd=["sh", "-c", "touch /tmp/ok && echo tmp-ok; touch /etc/x"])
    assert r.returncode == 1, repr(r)
    assert r.stdout == "tmp-ok\n", r.stdout
    assert "Read-only file system" in r.stderr, r.stderr


def test_user(podman, user):
    r = podman.run("--rm", "--user", "1000:1000", cmd=["sh", "-c", "id -u; id -g"])
    r.ok()
    assert r.stdout.split() == ["1000", "1000"]
    # On the host: uid 1000 of the container is the subordinate range's 1000th.
    _, pid = podman.detached("--user", "1000:1000")
    assert status_uids(pid)[0] == user.subuid[0] + 999


def test_cap_drop_all(podman):
    r = podman.run("--rm", "--cap-drop", "ALL",
                   cmd=["sh", "-c", "grep ^Cap /proc/self/status; touch /tmp/f; chown 1000 /tmp/f"])
    assert r.returncode == 1, repr(r)
    caps = dict(line.split(":\t") for line in r.stdout.splitlines())
    assert caps["CapEff"] == "0000000000000000", caps
    assert set(caps.values()) == {"0000000000000000"}, caps
    assert "Operation not permitted" in r.stderr


def test_tty(podman):
    r = run_pty(podman.argv("run", "--rm", "-it", "--network", "none", IMAGE,
                            "sh", "-c", "tty; test -t 0 && echo stdin-is-tty"), timeout=60)
    assert r.returncode == 0, repr(r)
    lines = r.stdout.replace("\r", "").splitlines()
    assert any(re.fullmatch(r"/dev/pts/\d+", line) for line in lines), repr(r.stdout)
    assert "stdin-is-tty" in lines, repr(r.stdout)


def test_pod_shares_namespaces(podman, user):
    podman("pod", "create", "--name", "rl-pod", "--network", "none",
           "--share", "net,ipc,uts").ok()
    pids = []
    for name in ("rl-a", "rl-b"):
        r = podman("run", "-d", "--pod", "rl-pod", "--name", name, IMAGE, "sleep", "1000")
        r.ok()
        pids.append(int(podman.inspect(name, "{{.State.Pid}}")))
    for ns in ("net", "ipc", "uts", "user"):
        seen = {ns_of(p, ns) for p in pids}
        assert len(seen) == 1, f"{ns} namespaces differ in the pod: {seen}"
        assert seen != {ns_of(os.getpid(), ns)}, f"the pod shares our {ns} namespace"
    assert ns_of(pids[0], "pid") != ns_of(pids[1], "pid")
    r = podman("exec", "rl-b", "hostname").ok()
    assert r.stdout.strip() == "rl-pod"


# ---------------------------------------------------------------- security

def _stat(path):
    st = os.lstat(path)
    return (st.st_mode, st.st_uid, st.st_gid, st.st_rdev, st.st_size, st.st_mtime_ns,
            st.st_ctime_ns)


def _node(path):
    """What a chmod, chown or replacement would change (a device node's
    times move with use: only its ctime counts)."""
    st = os.lstat(path)
    return (st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_rdev, st.st_ctime_ns)


def _denied(out, op):
    """The status the container's script printed for `op`, asserted
    non-zero."""
    m = re.search(rf"^{re.escape(op)}=(\d+)$", out, re.M)
    assert m, f"{op} did not run: {out!r}"
    assert m.group(1) != "0", f"{op} succeeded: {out!r}"


def test_root_owned_host_file_stays(podman, user):
    d = os.path.join(user.base, f"rootdir-{podman.runtime}")
    os.makedirs(d)
    os.chmod(d, 0o755)
    f = os.path.join(d, "file")
    with open(f, "w") as fh:
        fh.write("original\n")
    os.chmod(f, 0o644)
    before = (_stat(d), _stat(f))
    script = ("echo ran; "
              "echo evil >> /host/file; echo append=$?; "
              "echo evil > /host/file; echo truncate=$?; "
              "chmod 666 /host/file; echo chmod=$?; "
              "chown 0:0 /host/file; echo chown=$?; "
              "rm -f /host/file; echo rm=$?; "
              "touch /host/new; echo create=$?; "
              "stat -c %u /host/file")
    # Every capability Podman can give, no seccomp filter: the kernel refuses.
    r = podman.run("--rm", "--cap-add", "ALL", "--security-opt", "seccomp=unconfined",
                   "-v", f"{d}:/host", cmd=["sh", "-c", script])
    assert r.stdout.startswith("ran\n"), repr(r)
    for op in ("append", "truncate", "chmod", "chown", "rm", "create"):
        _denied(r.stdout, op)
    # The host's root is not mapped: the container sees the overflow uid.
    assert r.stdout.splitlines()[-1] == "65534", r.stdout
    assert any(s in r.stderr for s in OK_DENIED), r.stderr
    assert (_stat(d), _stat(f)) == before
    with open(f) as fh:
        assert fh.read() == "original\n"
    assert os.listdir(d) == ["file"]


def test_no_capability_over_the_host(podman, user):
    host_name = os.uname().nodename
    d = os.path.join(user.home, f"devdir-{podman.runtime}")
    user("mkdir", d, check=True)
    script = ("echo ran; "
              # the host's UTS namespace (--uts host): CAP_SYS_ADMIN over it is the host's
              "hostname brl-evil; echo hostname=$?; "
              # CAP_SYS_MODULE counts only in the initial user namespace
              "echo junk > /tmp/m.ko; insmod /tmp/m.ko; echo insmod=$?; "
              # a device node on a host directory the user owns: needs CAP_MKNOD on the host
              "mknod /host/null c 1 3; echo mknod=$?; "
              "mknod /host/sda b 8 0; echo mknod_block=$?")
    r = podman.run("--rm", "--uts", "host", "--cap-add", "ALL", "--security-opt",
                   "seccomp=unconfined", "-v", f"{d}:/host", cmd=["sh", "-c", script])
    assert r.stdout.startswith("ran\n"), repr(r)
    for op in ("hostname", "insmod", "mknod", "mknod_block"):
        _denied(r.stdout, op)
    assert "Operation not permitted" in r.stderr, r.stderr
    assert os.uname().nodename == host_name
    assert os.listdir(d) == []


HOST_DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                "/dev/kmsg", "/dev/mem"]


def test_host_devices_untouched(podman, user):
    devs = [p for p in HOST_DEVICES if os.path.exists(p)]
    before = {p: _node(p) for p in devs}
    # A node owned by a uid of the test's subordinate range could be
    # changed from inside: that would be the host's fault, not the runtime's.
    strange = {p: (st[2], st[3]) for p, st in before.items() if st[2] != 0}
    assert not strange, f"host device nodes not owned by root before the test: {strange}"
    # A device node of our own, root's, 0600, in a root-owned directory.
    d = os.path.join(user.base, f"nodes-{podman.runtime}")
    os.makedirs(d)
    node = os.path.join(d, "null")
    os.mknod(node, 0o600 | 0o020000, os.makedev(1, 3))
    own_before = (_stat(d), _stat(node))
    # chmod/chown to what the nodes already are: harmless if it ever went
    # through, and the ctime would show it.
    script = ("echo ran; "
              "chmod 666 /hostdev/null; echo chmod=$?; "
              "chown 0:0 /hostdev/zero; echo chown=$?; "
              "mknod /hostdev/brl-node c 1 3; echo mknod=$?; "
              "echo x > /nodes/null; echo write=$?; "
              "chmod 666 /nodes/null; echo chmod_own=$?; "
              "rm -f /nodes/null; echo rm_own=$?; "
              "head -c1 /hostdev/mem >/dev/null; echo read_mem=$?")
    r = podman.run("--rm", "--cap-add", "ALL", "--security-opt", "seccomp=unconfined",
                   "-v", "/dev:/hostdev", "-v", f"{d}:/nodes", cmd=["sh", "-c", script])
    assert r.stdout.startswith("ran\n"), repr(r)
    for op in ("chmod", "chown", "mknod", "write", "chmod_own", "rm_own"):
        _denied(r.stdout, op)
    if os.path.exists("/dev/mem"):
        _denied(r.stdout, "read_mem")
    assert {p: _node(p) for p in devs} == before
    assert not os.path.exists("/dev/brl-node")
    assert (_stat(d), _stat(node)) == own_before
