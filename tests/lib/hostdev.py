"""The host's device nodes a container could be pointed at, as they were:
an autouse fixture of each tier compares owner, group, mode and device
number before and after every test, so a test (or the runtime under it)
that chowns or chmods one of them fails by name, there and then."""
import os

NODES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
         "/dev/ptmx")


def snapshot():
    out = {}
    for n in NODES:
        try:
            st = os.stat(n)
        except FileNotFoundError:
            continue
        out[n] = (st.st_uid, st.st_gid, st.st_mode, st.st_rdev)
    return out


def changed(before, after):
    return {n: (before.get(n), after.get(n)) for n in set(before) | set(after)
            if before.get(n) != after.get(n)}
