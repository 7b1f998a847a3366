#!/usr/bin/env python3
"""How long moving a process into a cgroup takes, by its pid and by the
process itself, after the machine has been quiet for a while.

A move by pid (cgroup.procs) takes the kernel's cgroup_threadgroup_rwsem
for writing; the first writer after a quiet spell waits for an RCU grace
period.  On v1, a thread writing "0" to a hierarchy's tasks file moves
itself without that lock, which is what berth's init and exec'd process do
(src/cgroup/cgroupfs_v1.h).  On v2 there is no such file: "self" there is
"0" to cgroup.procs, which takes the lock as a move by pid does.

Run as root:  python3 bench/cgroup_move.py [-n 20] [--quiet-ms 0,100]
It makes one cgroup below its own in the first writable v1 hierarchy (pids,
else memory) or on v2, and removes it."""
import argparse
import os
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.core import git_commit  # noqa: E402


def own_cgroup_dir():
    """(directory of this process' cgroup, is_v2) in a hierarchy we use."""
    with open("/proc/self/cgroup") as f:
        lines = [l.rstrip("\n").split(":", 2) for l in f]
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        path = next(p for _, c, p in lines if c == "")
        # A v2 cgroup holding processes cannot have children with them:
        # use the parent, as berth does for a relative cgroupsPath.
        return "/sys/fs/cgroup" + os.path.dirname(path.rstrip("/")), True
    for ctrl in ("pids", "memory"):
        for _, c, p in lines:
            if ctrl in c.split(",") and os.path.isdir(f"/sys/fs/cgroup/{ctrl}"):
                return f"/sys/fs/cgroup/{ctrl}" + p.rstrip("/"), False
    sys.exit("cgroup_move: no pids or memory v1 hierarchy, nor v2")


def one_move(dirpath, v2, self_move):
    """Fork a child, move it into dirpath, return the write's time in ms."""
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.read(go_r, 1)
        took = 0.0
        if self_move:
            name = "cgroup.procs" if v2 else "tasks"
            fd = os.open(os.path.join(dirpath, name), os.O_WRONLY)
            t = time.perf_counter()
            os.write(fd, b"0")
            took = (time.perf_counter() - t) * 1000
        os.write(w, struct.pack("d", took))
        os._exit(0)
    os.close(w)
    took = 0.0
    if not self_move:
        fd = os.open(os.path.join(dirpath, "cgroup.procs"), os.O_WRONLY)
        t = time.perf_counter()
        os.write(fd, str(pid).encode())
        took = (time.perf_counter() - t) * 1000
        os.close(fd)
    os.write(go_w, b"x")
    child_took = struct.unpack("d", os.read(r, 8))[0]
    os.waitpid(pid, 0)
    for fd in (r, go_r, go_w):
        os.close(fd)
    return child_took if self_move else took


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20, help="moves per mode and quiet time")
    ap.add_argument("--quiet-ms", default="0,100",
                    help="comma-separated idle times before each move (ms)")
    args = ap.parse_args()
    parent, v2 = own_cgroup_dir()
    dirpath = os.path.join(parent, f"berth-cgroup-move-{os.getpid()}")
    os.mkdir(dirpath)
    try:
        print(f"{'v2' if v2 else 'v1'} cgroup {dirpath}, {args.n} moves each; ms per write, "
              "median/max")
        for quiet in [float(q) for q in args.quiet_ms.split(",")]:
            for self_move in (False, True):
                times = []
                for _ in range(args.n):
                    time.sleep(quiet / 1000)
                    times.append(one_move(dirpath, v2, self_move))
                how = ("itself, 0 to cgroup.procs" if v2 else "itself, 0 to tasks") \
                    if self_move else "by pid, cgroup.procs"
                print(f"  quiet {quiet:5.0f} ms, {how:26s} {statistics.median(times):7.3f}/"
                      f"{max(times):.3f}")
    finally:
        os.rmdir(dirpath)
    print(f"(commit {git_commit()})")


if __name__ == "__main__":
    main()
