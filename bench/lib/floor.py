"""--scale --floor: bench/floor.c as one more set of containers, the same
bundle's work with no runtime around it (bench/README.md, "The floor at
scale").  Built here with the machine's cc; its containers are this
process' children once floor has exited (the bench is their subreaper)."""
import os
import signal
import subprocess
import time

from . import core

SOURCE = os.path.join(core.REPO, "bench", "floor.c")


def hierarchies():
    """Where a container's cgroups go, as the runtimes see them in the
    sandbox: each v1 hierarchy mounted under /sys/fs/cgroup (the links
    such as cpu,cpuacct left out), or the v2 root."""
    top = "/sys/fs/cgroup"
    if os.path.exists(os.path.join(top, "cgroup.controllers")):
        return [top]
    return sorted(os.path.join(top, d) for d in os.listdir(top)
                  if not os.path.islink(os.path.join(top, d))
                  and os.path.ismount(os.path.join(top, d)))


class Floor:
    def __init__(self, tmp, rootfs):
        self.exe = os.path.join(tmp, "floor")
        subprocess.run(["cc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                        self.exe, SOURCE], check=True)
        self.rootfs = rootfs
        self.tops = hierarchies()
        self.pids = {}

    def run_d(self, cid):
        """Start container cid; ms until floor has exited (after the execve)."""
        dirs = [os.path.join(t, cid) for t in self.tops]
        t0 = time.perf_counter()
        p = subprocess.run([self.exe, self.rootfs, cid, *dirs], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, text=True)
        ms = (time.perf_counter() - t0) * 1000
        if p.returncode != 0:
            self.remove_cgroups(cid)
            raise SystemExit(f"floor {cid} failed ({p.returncode})")
        self.pids[cid] = int(p.stdout)
        return ms

    def remove_cgroups(self, cid):
        for t in self.tops:
            try:
                os.rmdir(os.path.join(t, cid))
            except FileNotFoundError:
                pass

    def delete(self, cid):
        pid = self.pids.pop(cid)
        os.kill(pid, signal.SIGKILL)
        core.wait_gone(pid)
        self.remove_cgroups(cid)

    def close(self):
        """Every container left, killed and removed; their ids."""
        left = sorted(self.pids)
        for cid in left:
            self.delete(cid)
        return left
