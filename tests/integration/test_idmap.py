"""ID-mapped mounts (config.md "idmap", "ridmap", mounts[].uidMappings and
gidMappings): real containers, as root, on a source directory of the host
(ext4 here, under /tmp).

What the kernel does, and so what is asserted: an ID-mapped mount with the
user namespace U shows a file whose owner on disk is N as owned by the ID
that N is inside U, seen from the host (U's "containerID N -> hostID H"
makes it H); a file created through the mount is stored with the reverse.
So "idmap" with the container's own mapping (0-65535 -> 100000-165535)
shows the host's owner N as N inside the container, and what the container
creates lands on disk owned by the container's IDs, not 100000+ (runc's
idmap.bats: "write to an idmap mount [userns]" gives 0:0)."""
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import BERTH

USERNS = [{"containerID": 0, "hostID": 100000, "size": 65536}]
OVERFLOW = 65534


def _userns(bundle):
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = USERNS
    bundle.config["linux"]["gidMappings"] = USERNS


def _mount(bundle, source, dest, options, maps=None):
    m = {"destination": dest, "type": "bind", "source": source, "options": options}
    # The container's root may not make it in a root the host's root owns.
    os.makedirs(os.path.join(bundle.rootfs, dest.lstrip("/")), exist_ok=True)
    if maps is not None:
        m["uidMappings"] = maps
        m["gidMappings"] = maps
    bundle.config["mounts"].append(m)
    return len(bundle.config["mounts"]) - 1


def _owners(berth, bundle, cid, script):
    bundle.sh(script).write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def _stat_all(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            st = os.lstat(os.path.join(d, n))
            out[os.path.relpath(os.path.join(d, n), root)] = (st.st_uid, st.st_gid, st.st_mode,
                                                              st.st_ctime_ns)
    return out


@pytest.fixture
def source():
    """A directory of the host with files owned by 0, 1000 and 100005."""
    path = tempfile.mkdtemp(prefix="berth-idmap-")
    os.chmod(path, 0o755)
    for name, owner in (("f0", 0), ("f1000", 1000), ("f100005", 100005)):
        p = os.path.join(path, name)
        open(p, "w").close()
        os.chown(p, owner, owner)
    os.mkdir(os.path.join(path, "sub"))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", os.path.join(path, "sub")], stderr=subprocess.DEVNULL)
        shutil.rmtree(path)


STAT = "stat -c %u:%g /mnt/f0 /mnt/f1000 /mnt/f100005"


def test_features_say_idmap(berth):
    f = json.loads(berth.cmd("features", check=True).stdout)
    assert f["linux"]["mountExtensions"]["idmap"]["enabled"] is True
    assert {"idmap", "ridmap"} <= set(f["mountOptions"])


def test_idmap_takes_the_containers_mapping(berth, open_bundle, cid, source):
    """Without mappings of its own the mount takes the container's: the host's
    owners show unchanged inside, and a file the container's root creates is
    the host's root's on disk."""
    _userns(open_bundle)
    _mount(open_bundle, source, "/mnt", ["bind", "idmap"])
    _mount(open_bundle, source, "/plain", ["bind"])
    caps = open_bundle.config["process"]["capabilities"]
    for k in ("bounding", "effective", "permitted"):
        caps[k].append("CAP_CHOWN")
    before = _stat_all(source)
    out = _owners(berth, open_bundle, cid,
                  STAT + "; stat -c %u:%g /plain/f0 /plain/f100005; touch /mnt/new; "
                  "stat -c %u:%g /mnt/new; chown 7:8 /mnt/new; stat -c %u:%g /mnt/new")
    assert out == ["0:0", "1000:1000", f"{OVERFLOW}:{OVERFLOW}",  # idmapped
                   f"{OVERFLOW}:{OVERFLOW}", "5:5",                  # plain bind
                   "0:0", "7:8"]
    st = os.stat(os.path.join(source, "new"))
    assert (st.st_uid, st.st_gid) == (7, 8)
    # The host's files were not chowned: mapping is a view, not a copy.
    after = _stat_all(source)
    del after["new"]
    assert after == before


def test_ridmap_without_rbind_is_idmap(berth, open_bundle, cid, source):
    _userns(open_bundle)
    _mount(open_bundle, source, "/mnt", ["ridmap"])
    assert _owners(berth, open_bundle, cid, STAT) == ["0:0", "1000:1000",
                                                       f"{OVERFLOW}:{OVERFLOW}"]


def test_mount_mappings_of_its_own(berth, open_bundle, cid, source):
    """The mount's own mapping, in a container with a user namespace: on-disk
    1000 is the container's root (host 100000)."""
    _userns(open_bundle)
    maps = [{"containerID": 1000, "hostID": 100000, "size": 1}]
    _mount(open_bundle, source, "/mnt", ["bind", "idmap"], maps)
    before = _stat_all(source)
    assert _owners(berth, open_bundle, cid, STAT) == [
        f"{OVERFLOW}:{OVERFLOW}", "0:0", f"{OVERFLOW}:{OVERFLOW}"]
    assert _stat_all(source) == before


def test_mount_mappings_without_userns(berth, bundle, cid, source):
    """No user namespace at all, and the mappings without an idmap option
    (as runc's idmap.bats): on-disk 0 shows as 1000, on-disk 1000 unmapped;
    what root creates is refused (no on-disk ID for host root)."""
    maps = [{"containerID": 0, "hostID": 1000, "size": 1}]
    _mount(bundle, source, "/mnt", ["bind"], maps)
    out = _owners(berth, bundle, cid, STAT + "; touch /mnt/new 2>/dev/null || echo refused")
    assert out == ["1000:1000", f"{OVERFLOW}:{OVERFLOW}", f"{OVERFLOW}:{OVERFLOW}", "refused"]
    assert not os.path.exists(os.path.join(source, "new"))


def _kernel_at_least(major, minor):
    m = re.match(r"(\d+)\.(\d+)", platform.release())
    return m is not None and (int(m.group(1)), int(m.group(2))) >= (major, minor)


# tmpfs can be ID-mapped since Linux 6.3 (the VM tier's guest runs 6.1).
TMPFS_IDMAP = _kernel_at_least(6, 3)


@pytest.mark.parametrize("options,seen", [
    pytest.param(["rbind", "ridmap"], "0:0",       # the submount is mapped too
                 marks=pytest.mark.skipif(not TMPFS_IDMAP,
                                          reason="tmpfs (the submount) is ID-mappable from Linux 6.3")),
    (["rbind", "idmap"], f"{OVERFLOW}:{OVERFLOW}"),  # there, not mapped
    (["bind", "idmap"], "absent"),                 # not there at all
])
def test_submounts(berth, open_bundle, cid, source, options, seen):
    """A tmpfs mounted below the source, holding a file of the host's root."""
    sub = os.path.join(source, "sub")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "berth-idmap", sub], check=True)
    open(os.path.join(sub, "file"), "w").close()
    _userns(open_bundle)
    _mount(open_bundle, source, "/mnt", options)
    out = _owners(berth, open_bundle, cid,
                  "stat -c %u:%g /mnt/f0 /mnt/sub/file 2>/dev/null || echo absent")
    assert out == ["0:0", seen]


def _refused(berth, bundle, cid, needle, path):
    bundle.write()
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode != 0
    assert path in p.stderr and needle in p.stderr, p.stderr
    assert berth.ids() == []
    c = berth.cmd("check", "-b", bundle.path)
    assert c.returncode != 0 and path in c.stdout + c.stderr, c.stdout + c.stderr


def test_idmap_needs_a_user_namespace(berth, bundle, cid, source):
    i = _mount(bundle, source, "/mnt", ["rbind", "idmap"])
    _refused(berth, bundle, cid, "user namespace", f".mounts[{i}].options[1]")


def test_uid_mappings_need_gid_mappings(berth, bundle, cid, source):
    i = _mount(bundle, source, "/mnt", ["bind", "idmap"])
    bundle.config["mounts"][i]["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 1}]
    _refused(berth, bundle, cid, "gidMappings", f".mounts[{i}].gidMappings")


def test_only_bind_mounts(berth, bundle, cid):
    bundle.config["mounts"].append({"destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
                                    "uidMappings": USERNS, "gidMappings": USERNS})
    i = len(bundle.config["mounts"]) - 1
    _refused(berth, bundle, cid, "bind mount", f".mounts[{i}].uidMappings")


def test_filesystem_that_refuses(berth, open_bundle, cid):
    """sysfs cannot be ID-mapped: one error naming the mount."""
    _userns(open_bundle)
    i = _mount(open_bundle, "/sys/kernel", "/mnt", ["bind", "idmap"])
    open_bundle.write()
    p = berth.cmd("create", "-b", open_bundle.path, cid)
    assert p.returncode != 0
    assert f".mounts[{i}]" in p.stderr and "refuses ID-mapped mounts" in p.stderr, p.stderr
    assert berth.ids() == []


def test_idmap_with_a_joined_user_namespace(berth, open_bundle, cid, source):
    """The container joins a user namespace (a path): idmap takes that one."""
    holder = subprocess.Popen(["unshare", "--user", "sleep", "100"])
    try:
        for f in ("uid_map", "gid_map"):
            deadline = 50
            while True:
                try:
                    with open(f"/proc/{holder.pid}/{f}", "w") as m:
                        m.write("0 100000 65536\n")
                    break
                except OSError:
                    # unshare has not unshared yet
                    deadline -= 1
                    assert deadline > 0
                    time.sleep(0.02)
        open_bundle.config["linux"]["namespaces"].append(
            {"type": "user", "path": f"/proc/{holder.pid}/ns/user"})
        _mount(open_bundle, source, "/mnt", ["rbind", "idmap"])
        assert _owners(berth, open_bundle, cid, STAT) == ["0:0", "1000:1000",
                                                           f"{OVERFLOW}:{OVERFLOW}"]
    finally:
        holder.kill()
        holder.wait()


def test_crun_spelling_is_refused(berth, open_bundle, cid, source):
    """crun's idmap=uids=...;gids=... would be fs data a bind ignores."""
    _userns(open_bundle)
    i = _mount(open_bundle, source, "/mnt", ["bind", "idmap=uids=0-1-10;gids=0-1-10"])
    _refused(berth, open_bundle, cid, "uidMappings", f".mounts[{i}].options[1]")


# ---- rootless ----------------------------------------------------------------------------
# The kernel ID-maps a detached mount only for a caller with CAP_SYS_ADMIN in
# the user namespace that owns the mount's filesystem (can_idmap_mount) and
# in the mapping's (build_mount_idmapped).  A host path's filesystem (ext4,
# the host's tmpfs) is owned by the initial user namespace, where a rootless
# runtime has nothing, and its container's user namespace is no better: the
# same open_tree + mount_setattr in a user namespace of its own, the user's
# uid mapped to 0, gets EPERM (and succeeds on a tmpfs mounted in that
# namespace).  berth refuses before making anything, in one line.


def _rootless_idmap_refused(user, ubundle, options, maps=None):
    src = tempfile.mkdtemp(prefix="berth-idmap-rl-")
    try:
        os.chown(src, user.uid, user.gid)
        # The rootfs is root's: the destination has to be there already.
        os.makedirs(os.path.join(ubundle.path, "rootfs", "mnt"), exist_ok=True)
        m = {"destination": "/mnt", "type": "bind", "source": src, "options": options}
        if maps is not None:
            m["uidMappings"] = m["gidMappings"] = maps
        ubundle.config["mounts"].append(m)
        ubundle.args("stat", "-c", "%u:%g", "/mnt")
        i = len(ubundle.config["mounts"]) - 1
        # The control: the same source, without idmap, shows its owner as 0.
        plain = json.loads(json.dumps(ubundle.config))
        ubundle.config["mounts"][i] = dict(m, options=["bind"])
        ubundle.config["mounts"][i].pop("uidMappings", None)
        ubundle.config["mounts"][i].pop("gidMappings", None)
        ubundle.write()
        p = user.run(BERTH, "run", "c0", cwd=ubundle.path)
        assert (p.returncode, p.stdout.strip()) == (0, "0:0"), p.stderr
        ubundle.config = plain
        ubundle.write()
        p = user.run(BERTH, "run", "c1", cwd=ubundle.path)
        assert p.returncode != 0
        lines = p.stderr.strip().splitlines()
        assert lines == [f"berth: config.json: .mounts[{i}]: ID-map the bind mount of {src}: "
                         "not possible rootless: the kernel ID-maps a mount only for a caller "
                         "with CAP_SYS_ADMIN in the user namespace that owns its filesystem, "
                         "the host's for a host path"], lines
        assert not os.path.exists(os.path.join(user.xdg, "berth", "c1"))
        assert user.processes() == []
    finally:
        shutil.rmtree(src)


@pytest.mark.parametrize("options", [["bind", "idmap"], ["rbind", "ridmap"]])
def test_rootless_idmap_refused(user, ubundle, options):
    _rootless_idmap_refused(user, ubundle, options)


def test_rootless_mount_mappings_refused(user, ubundle):
    _rootless_idmap_refused(user, ubundle, ["bind"],
                            [{"containerID": 0, "hostID": user.uid, "size": 1}])


# What the kernel answers an unprivileged user who tries it from a user
# namespace of its own (the user's uid mapped to 0, as berth's init has):
# the reason for the refusal above.  Should a kernel start to allow it on a
# host path, this fails and berth's refusal should become the mount itself.
PROBE = r"""
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
class Attr(ctypes.Structure):
    _fields_ = [("set", ctypes.c_uint64), ("clr", ctypes.c_uint64),
                ("prop", ctypes.c_uint64), ("userns", ctypes.c_uint64)]
def err(r):
    return "ok" if r >= 0 else os.strerror(ctypes.get_errno())
def open_tree(path):  # OPEN_TREE_CLONE
    return libc.syscall(428, -100, path.encode(), 1)
def idmap(fd, ns):  # mount_setattr(fd, "", AT_EMPTY_PATH, MOUNT_ATTR_IDMAP)
    a = Attr(0x100000, 0, 0, ns)
    return libc.syscall(442, fd, b"", 0x1000, ctypes.byref(a), ctypes.sizeof(a))
def maps(pid, uid, gid):
    for f, i in (("uid_map", uid), ("setgroups", None), ("gid_map", gid)):
        with open(f"/proc/{pid}/{f}", "w") as m:
            m.write("deny" if i is None else f"0 {i} 1\n")
uid, gid, src = os.getuid(), os.getgid(), sys.argv[1]
print("host", err(open_tree(src)))
assert libc.unshare(0x10000000 | 0x20000) == 0  # CLONE_NEWUSER | CLONE_NEWNS
maps("self", uid, gid)
r, w = os.pipe()
kid = os.fork()
if kid == 0:  # a user namespace below this one, for the mapping
    libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    libc.unshare(0x10000000); os.write(w, b"x"); time.sleep(30); os._exit(0)
os.read(r, 1)
maps(kid, 0, 0)  # its root is this namespace's root, the user
ns = os.open(f"/proc/{kid}/ns/user", os.O_RDONLY)
fd = open_tree(src)
print("userns", err(fd), err(idmap(fd, ns)))
assert libc.mount(b"t", src.encode(), b"tmpfs", 0, None) == 0
fd = open_tree(src)
print("tmpfs", err(fd), err(idmap(fd, ns)))
os.kill(kid, 9)
"""


def test_rootless_kernel_refuses_idmap_of_a_host_path(user):
    src = tempfile.mkdtemp(prefix="berth-idmap-rl-")
    try:
        os.chown(src, user.uid, user.gid)
        p = user.run("/usr/bin/python3", "-c", PROBE, src)
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines() == [
            "host Operation not permitted",                 # open_tree: no mount privilege
            "userns ok Operation not permitted",            # the source's ext4: the host's
            # a tmpfs of the user namespace: ID-mappable from Linux 6.3
            "tmpfs ok ok" if TMPFS_IDMAP else "tmpfs ok Invalid argument",
        ], p.stdout
    finally:
        shutil.rmtree(src)
