"""Rootless Podman for the end-to-end tier (test_podman_rootless.py).

A `RootlessUser` is a login user made for one test module: `useradd -m`
with a name of its own (and so a uid nobody else has while it lives), a
subordinate uid and gid range in /etc/subuid and /etc/subgid (useradd
allocates one from login.defs' SUB_UID_*; one is added with `usermod` if
it did not), and an XDG_RUNTIME_DIR it owns (0700, a short path in /tmp). Podman runs as that user through `setpriv` with a clean,
login-like environment (HOME, USER, LOGNAME, PATH, XDG_RUNTIME_DIR,
XDG_CONFIG_HOME, XDG_DATA_HOME, the working directory its home), the way a
shell after login would run it: no CONTAINERS_* variables, no --root.
Podman then enters a user namespace of its own (newuidmap / newgidmap map
0 to the user and 1..65536 to its subordinate range), keeps it open with a
pause process, and calls the runtime as uid 0 in it.

`remove()` undoes everything, and is run even when the tests failed: every
container, pod and image through Podman (`podman system reset`), then any
process still owned by the user's uid or its subordinate range (the pause
process, conmons, container processes: only this module could have
started them) is killed by pid, and the user goes with its home, its
/etc/subuid and /etc/subgid entries, its runtime directory and Podman's
shared-memory lock named after its uid. It returns what it found left
behind, for the fixture to fail on.
"""
import os
import pwd
import shutil
import signal
import tempfile
import time

from e2e_lib import _mounts_under, _unmount_all_under, run

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What rootless Podman needs beyond Podman itself.
# Where a stray file of the user's would show (checked at the end).
TOP_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run", "/run/user")
ROOTLESS_TOOLS = ("podman", "conmon", "newuidmap", "newgidmap", "setpriv", "useradd",
                  "userdel", "usermod")


def _sub_range(path, name):
    """(start, count) of `name`'s first range in /etc/subuid or /etc/subgid."""
    try:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(":")
                if len(parts) == 3 and parts[0] == name:
                    return int(parts[1]), int(parts[2])
    except FileNotFoundError:
        pass
    return None


def _free_sub_start(count):
    """A start no range in /etc/subuid or /etc/subgid overlaps."""
    used = []
    for path in ("/etc/subuid", "/etc/subgid"):
        try:
            with open(path) as f:
                for line in f:
                    parts = line.strip().split(":")
                    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                        used.append((int(parts[1]), int(parts[1]) + int(parts[2])))
        except FileNotFoundError:
            pass
    start = 1 << 20
    while any(a < start + count and start < b for a, b in used):
        start += count
    return start


def procs_of_uids(lo_hi_pairs):
    """Live processes whose real or effective uid is in one of the ranges
    [lo, hi): (pid, uid, command line)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError):
            continue
        if fields.get("State", "").strip().startswith("Z"):
            continue
        uids = [int(u) for u in fields.get("Uid", "").split()[:2]]
        if any(lo <= u < hi for u in uids for lo, hi in lo_hi_pairs):
            found.append((int(pid), uids[0], cmd))
    return found


class RootlessUser:
    def __init__(self, base, name):
        self.base = base
        self.name = name
        self.created = False
        self.uid = self.gid = None
        self.subuid = self.subgid = None
        self.xdg_runtime = None
        self.shm_lock = None
        self.owned_before = set()
        self.had_shm_lock = None

    # ------------------------------------------------------------ life

    def create(self):
        run(["useradd", "-m", "-s", "/bin/sh", "-c", "berth e2e rootless", self.name],
            check=True)
        self.created = True
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid, self.home = pw.pw_uid, pw.pw_gid, pw.pw_dir
        self.subuid = _sub_range("/etc/subuid", self.name)
        self.subgid = _sub_range("/etc/subgid", self.name)
        if self.subuid is None or self.subgid is None:
            start = _free_sub_start(65536)
            end = start + 65535
            run(["usermod", "--add-subuids", f"{start}-{end}", "--add-subgids",
                 f"{start}-{end}", self.name], check=True)
            self.subuid = _sub_range("/etc/subuid", self.name)
            self.subgid = _sub_range("/etc/subgid", self.name)
        # (a uid and range may have been someone's before: what they left
        # is not ours)
        self.owned_before = set(self.owned_in(TOP_DIRS))
        # The lock Podman keeps in shared memory, named after the uid.
        self.shm_lock = f"/dev/shm/libpod_rootless_lock_{self.uid}"
        self.had_shm_lock = os.path.exists(self.shm_lock)
        # Short: Podman refuses a run root ($XDG_RUNTIME_DIR/containers)
        # longer than 50 characters, in the `container cleanup` conmon runs
        # when a container exits (a `run --rm` then waits 20 s for it).
        self.xdg_runtime = tempfile.mkdtemp(prefix="brl-run-", dir="/tmp")
        os.chown(self.xdg_runtime, self.uid, self.gid)
        # Podman's own settings, as a user would write them: no systemd
        # here (no journald, no user session), so events go to a file.
        conf_dir = os.path.join(self.home, ".config", "containers")
        self._as_user_mkdir(conf_dir)
        conf = os.path.join(conf_dir, "containers.conf")
        with open(conf, "w") as f:
            f.write('[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                    '\n[containers]\nlog_driver = "k8s-file"\n')
        os.chown(conf, self.uid, self.gid)

    def _as_user_mkdir(self, path):
        run(self.argv(["mkdir", "-p", path]), check=True)

    def env(self):
        return {"HOME": self.home, "USER": self.name, "LOGNAME": self.name, "PATH": PATH,
                "SHELL": "/bin/sh", "XDG_RUNTIME_DIR": self.xdg_runtime,
                "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
                "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
                "LANG": "C.UTF-8"}

    def argv(self, argv):
        """`argv` run as the user, in its home, with only its login-like
        environment."""
        envs = [f"{k}={v}" for k, v in self.env().items()]
        return ["setpriv", "--reuid", str(self.uid), "--regid", str(self.gid), "--init-groups",
                "env", "-i", "-C", self.home, *envs, *argv]

    def __call__(self, *argv, input=None, timeout=90, check=False):
        return run(self.argv([str(a) for a in argv]), input=input, timeout=timeout,
                   check=check)

    # ------------------------------------------------------------ the end

    def uid_ranges(self):
        r = []
        if self.uid is not None:
            r.append((self.uid, self.uid + 1))
        if self.subuid:
            r.append((self.subuid[0], self.subuid[0] + self.subuid[1]))
        return r

    def kill_processes(self):
        """SIGKILL, by pid, every process of the user or its subordinate
        range; returns what was found."""
        found = procs_of_uids(self.uid_ranges())
        for pid, _, _ in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while procs_of_uids(self.uid_ranges()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return found

    def remove(self, podman_cleanup=()):
        """Remove everything; returns the list of problems seen."""
        problems = []
        if not self.created:
            return problems
        for argv in podman_cleanup:
            r = self(*argv, timeout=120)
            if r.returncode != 0:
                problems.append(f"{' '.join(argv)}: {r!r}")
        # Podman's pause process holds its user namespace open: expected,
        # and killed. Anything else still running is a leftover.
        left = [p for p in self.kill_processes()
                if not p[2].startswith(("catatonit -P", "podman pause"))]
        if left:
            problems.append(f"processes left (killed): {left}")
        still = procs_of_uids(self.uid_ranges())
        if still:
            problems.append(f"processes that would not die: {still}")
        for top in (self.home, self.xdg_runtime or self.home):
            mounts = _mounts_under(top)
            if mounts:
                problems.append(f"mounts left under {top}: {mounts}")
                _unmount_all_under(top)
        r = run(["userdel", "-r", self.name])
        # (userdel -r warns, status 12, when there is no mail spool)
        if r.returncode not in (0, 12) or pwd_exists(self.name):
            problems.append(f"userdel: {r!r}")
        for path in ("/etc/subuid", "/etc/subgid"):
            if _sub_range(path, self.name) is not None:
                opt = "--del-subuids" if path.endswith("uid") else "--del-subgids"
                rng = self.subuid if path.endswith("uid") else self.subgid
                # The user is gone: edit the file by name.
                _drop_sub_lines(path, self.name)
                if _sub_range(path, self.name) is not None:
                    problems.append(f"{path} still names {self.name} ({opt} {rng})")
        if os.path.exists(self.home):
            shutil.rmtree(self.home, ignore_errors=True)
            problems.append(f"{self.home} was left by userdel -r (removed)")
        if self.xdg_runtime:
            shutil.rmtree(self.xdg_runtime, ignore_errors=True)
        if not self.had_shm_lock and self.shm_lock and os.path.exists(self.shm_lock):
            os.unlink(self.shm_lock)
        # Anything else Podman or the runtime made outside the home and
        # the runtime directory (e.g. /tmp/podman-run-UID when
        # XDG_RUNTIME_DIR is not honoured) is owned by the user's uids.
        strays = sorted(set(self.owned_in(TOP_DIRS)) - self.owned_before)
        # conmon (2.1.6) leaves its console socket, /tmp/conmon-term.XXXXXX,
        # when the runtime's create fails for a -t container: seen when a
        # runtime fails rootless; conmon's, removed without complaint.
        for p in [p for p in strays if os.path.basename(p).startswith("conmon-term.")]:
            os.unlink(p)
            strays.remove(p)
        if strays:
            problems.append(f"files of the user left: {strays}")
        self.created = False
        return problems

    def owned_in(self, dirs):
        """Entries directly in `dirs` owned by the user or its range."""
        found = []
        ranges = self.uid_ranges()
        for d in dirs:
            try:
                names = os.listdir(d)
            except OSError:
                continue
            for n in names:
                p = os.path.join(d, n)
                try:
                    uid = os.lstat(p).st_uid
                except OSError:
                    continue
                if any(lo <= uid < hi for lo, hi in ranges):
                    found.append(p)
        return found


def pwd_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _drop_sub_lines(path, name):
    """Remove `name`'s lines from /etc/subuid or /etc/subgid, in place (the
    file keeps its inode, owner and mode)."""
    with open(path) as f:
        lines = f.readlines()
    keep = [line for line in lines if line.split(":", 1)[0] != name]
    if keep != lines:
        with open(path, "r+") as f:
            f.writelines(keep)
            f.truncate()
