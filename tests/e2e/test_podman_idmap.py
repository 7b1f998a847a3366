"""Podman 4.x passing berth an ID-mapped volume (`-v SRC:DST:idmap`): the
"idmap" mount option with the container's own user namespace
(config.md "idmap"; see tests/integration/test_idmap.py for the rules).

Only --uidmap/--gidmap: --userns=auto needs a "containers" entry in
/etc/subuid, which this host's CI does not have."""
import os

from test_podman import assert_berth_ran

MAP = ["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"]


def test_idmap_volume(podman, tmp_path):
    host = tmp_path / "data"
    host.mkdir()
    (host / "root-owned").write_text("x\n")
    os.chown(host / "root-owned", 0, 0)
    (host / "user-owned").write_text("x\n")
    os.chown(host / "user-owned", 1000, 1000)
    before = {n: os.stat(host / n) for n in ("root-owned", "user-owned")}
    r, st = podman.run_gated(
        "--rm", *MAP, "-v", f"{host}:/data:idmap",
        cmd=["sh", "-c", "stat -c %u:%g /data/root-owned /data/user-owned; "
             "echo hi > /data/from-ctr; stat -c %u:%g /data/from-ctr"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    # The host's owners, unchanged inside; the container's root writes as 0.
    assert r.stdout.split() == ["0:0", "1000:1000", "0:0"]
    st_new = os.stat(host / "from-ctr")
    assert (st_new.st_uid, st_new.st_gid) == (0, 0)
    for n, s in before.items():
        a = os.stat(host / n)
        assert (a.st_uid, a.st_gid, a.st_ctime_ns) == (s.st_uid, s.st_gid, s.st_ctime_ns)


def test_volume_without_idmap_is_unmapped(podman, tmp_path):
    """The control: the same volume without idmap shows the host's root as
    the overflow ID."""
    host = tmp_path / "data"
    host.mkdir()
    (host / "root-owned").write_text("x\n")
    r, st = podman.run_gated("--rm", *MAP, "-v", f"{host}:/data",
                             cmd=["stat", "-c", "%u:%g", "/data/root-owned"])
    assert_berth_ran(r, st, podman)
    assert r.returncode == 0, repr(r)
    assert r.stdout.split() == ["65534:65534"]
