"""A cgroup sandbox for harnesses that run other runtimes (bench/bench.py,
tests/conformance/run.py).  On this host every process must stay below the
cgroup it was started in; a runtime that places containers from the root of
a hierarchy (crun 1.8.1 does, for a config without cgroupsPath or with a
relative one) is run in a cgroup namespace rooted in a cgroup of the
harness's, with the v1 hierarchies mounted again inside a private mount
namespace so that they show that cgroup as their root."""
import os
import shlex
import signal
import sys
import time


def v1_hierarchies():
    """Every cgroup v1 hierarchy mounted in this mount namespace: its mount
    point, the options to mount it again, and this process' cgroup in it."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, post = line.split(" - ", 1)
            fields = pre.split()
            fstype, _src, opts = post.split()[:3]
            if fstype == "cgroup":
                mounts.append((fields[4], fields[3], set(opts.split(","))))
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrls:
                own[ctrls] = path
    out = []
    for mnt, root, opts in mounts:
        for ctrls, path in own.items():
            if set(ctrls.split(",")) <= opts:
                rel = path[len(root):] if root != "/" and path.startswith(root) else path
                mount_opts = ("none," + ctrls) if ctrls.startswith("name=") else ctrls
                out.append({"mnt": mnt, "opts": mount_opts,
                            "own": os.path.join(mnt, rel.lstrip("/"))})
                break
    return out


class Cgroups:
    """A cgroup of the harness's below its own in every v1 hierarchy; each
    run goes in a fresh child of it (make_run, joiner, clean_run), in a
    cgroup namespace rooted there whose hierarchies are mounted again
    (remount_script), so that whatever a runtime does with cgroupsPath
    (crun 1.8.1 puts a container without one at `/<id>` of each hierarchy)
    its cgroup stays below the caller's."""

    def __init__(self, name):
        self.hierarchies = v1_hierarchies()
        self.base = []
        for h in self.hierarchies:
            d = os.path.join(h["own"], name)
            os.mkdir(d)
            self.base.append(d)
            self._cpuset_init(d)

    @staticmethod
    def _cpuset_init(d):
        for f in ("cpuset.cpus", "cpuset.mems"):
            p = os.path.join(d, f)
            if os.path.exists(p):
                with open(os.path.join(os.path.dirname(d), f)) as src:
                    val = src.read().strip()
                with open(p, "w") as dst:
                    dst.write(val)

    def make_run(self, name):
        dirs = []
        for b in self.base:
            d = os.path.join(b, name)
            os.mkdir(d)
            dirs.append(d)
            self._cpuset_init(d)
        return dirs

    @staticmethod
    def joiner(dirs):
        """For preexec_fn: the child moves itself into the program's cgroups."""
        def join():
            pid = str(os.getpid())
            for d in dirs:
                with open(os.path.join(d, "cgroup.procs"), "w") as f:
                    f.write(pid)
        return join

    @staticmethod
    def tree(d):
        """Every cgroup directory below and including d, deepest first."""
        out = [root for root, _dirs, _files in os.walk(d)]
        return sorted(out, key=lambda p: p.count("/"), reverse=True)

    def clean_run(self, dirs):
        """Kill what is left in the program's cgroups and remove them; returns
        (pids killed, cgroups that were left below the program's own)."""
        killed, left = set(), set()
        for _ in range(100):
            pids = set()
            for d in dirs:
                for c in self.tree(d):
                    state = os.path.join(c, "freezer.state")
                    if os.path.exists(state):
                        try:
                            with open(state, "w") as f:
                                f.write("THAWED")
                        except OSError:
                            pass
                    try:
                        with open(os.path.join(c, "cgroup.procs")) as f:
                            pids |= {int(x) for x in f.read().split()}
                    except OSError:
                        pass
            pids.discard(os.getpid())
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        for d in dirs:
            for c in self.tree(d):
                if c != d:
                    left.add(os.path.relpath(c, d))
                for _ in range(50):
                    try:
                        os.rmdir(c)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.1)
                else:
                    print(f"cgsandbox: could not remove cgroup {c}", file=sys.stderr)
        return killed, sorted(left)

    def remove(self):
        for b in self.base:
            try:
                os.rmdir(b)
            except OSError as e:
                print(f"cgsandbox: could not remove cgroup {b}: {e}", file=sys.stderr)


def remount_script(hierarchies):
    """Shell commands that mount each v1 hierarchy again, rooted at the
    caller's cgroup: run inside `unshare -m -C` after joining the run's
    cgroups."""
    return "; ".join(f"umount -l {shlex.quote(h['mnt'])} && mount -t cgroup -o "
                     f"{shlex.quote(h['opts'])} cgroup {shlex.quote(h['mnt'])}"
                     for h in hierarchies)
