"""linux.seccomp on real containers: Podman's default profile, every action,
argument filters, flags, errors with their JSON paths, the notification
listener (answered from here), and the compiled-filter cache.

System calls are made by `berth-testhelper syscall NAME [ARG...]`, which
prints "ok RET" or "errno N ENAME".  Each denial is checked against what the
same call gives on the host, so a result cannot come from anything but the
filter.

Podman's profile (/usr/share/containers/seccomp.json, Debian package
golang-github-containers-common) denies vmsplice and sysfs with EPERM and
does not mention add_key or io_uring_setup at all, so those get its
defaultErrnoRet, ENOSYS (checked against the file below, in case it changes).
"""
import errno
import fcntl
import json
import os
import platform
import shutil
import socket
import struct
import subprocess
import threading

import pytest

from conftest import BERTH, HELPER, Berth, Bundle, linked_static

PODMAN_PROFILE = "/usr/share/containers/seccomp.json"
CACHE_DIR = "@seccomp-cache"
SIGSYS = 31


@pytest.fixture(scope="module", autouse=True)
def seccomp_supported(tmp_path_factory, rootfs_template):
    """Skip the module while create refuses linux.seccomp."""
    if not os.path.exists(HELPER):
        pytest.skip("berth-testhelper not built")
    base = tmp_path_factory.mktemp("seccomp-probe")
    (base / "bundle").mkdir()
    b = Berth(str(base / "state"))
    bundle = Bundle(str(base / "bundle"), rootfs_template)
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW"}
    bundle.write()
    p = b.cmd("run", "-b", bundle.path, f"probe{os.getpid()}")
    shutil.rmtree(str(base), ignore_errors=True)
    if p.returncode != 0 and "not supported" in p.stderr:
        pytest.skip(p.stderr.strip())


@pytest.fixture(autouse=True)
def remove_cache(berth):
    """The cache is the one thing berth keeps in the state root across
    containers; remove it before the `berth` fixture checks that the root
    is empty."""
    yield
    shutil.rmtree(os.path.join(berth.root, CACHE_DIR), ignore_errors=True)


def host(*call):
    """The same call on the host, without a filter."""
    return subprocess.run([HELPER, "syscall", *call], capture_output=True, text=True,
                          check=True).stdout.strip()


def podman_profile(bundle):
    """Podman's profile as Podman turns it into a config's linux.seccomp
    (containers/common pkg/seccomp): this machine's architectures, and the
    rules whose includes/excludes (arches, caps) match the bundle."""
    if not os.path.exists(PODMAN_PROFILE):
        pytest.skip(f"{PODMAN_PROFILE} is missing (apt-get install golang-github-containers-common)")
    with open(PODMAN_PROFILE) as f:
        prof = json.load(f)
    machine = platform.machine()
    scmp = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}.get(machine)
    goarch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine)
    if scmp is None:
        pytest.skip(f"no Podman arch mapping for {machine}")
    caps = set(bundle.config["process"].get("capabilities", {}).get("bounding", []))
    out = {"defaultAction": prof["defaultAction"], "architectures": [], "syscalls": []}
    if "defaultErrnoRet" in prof:
        out["defaultErrnoRet"] = prof["defaultErrnoRet"]
    for a in prof.get("archMap", []):
        if a["architecture"] == scmp:
            out["architectures"] = [scmp] + a.get("subArchitectures", [])
    for r in prof["syscalls"]:
        inc, exc = r.get("includes") or {}, r.get("excludes") or {}
        if inc.get("arches") and goarch not in inc["arches"]:
            continue
        if goarch in (exc.get("arches") or []):
            continue
        if inc.get("caps") and not set(inc["caps"]) <= caps:
            continue
        if set(exc.get("caps") or []) & caps:
            continue
        rule = {"names": r["names"], "action": r["action"], "args": r.get("args") or []}
        if "errnoRet" in r:
            rule["errnoRet"] = r["errnoRet"]
        out["syscalls"].append(rule)
    return out


def profile_names(prof):
    return {n for r in prof["syscalls"] for n in r["names"]}


def run(berth, bundle, cid, seccomp, *args, rc=0, globals_=()):
    bundle.config["linux"]["seccomp"] = seccomp
    if args:
        bundle.args(*args)
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid, globals_=globals_)
    assert p.returncode == rc, p.stderr
    return p


def helper_lines(*calls):
    """A shell script running the helper once per call."""
    return "; ".join("berth-testhelper syscall " + " ".join(c) for c in calls)


def deny(*rules, default="SCMP_ACT_ALLOW", **extra):
    return {"defaultAction": default, "syscalls": list(rules), **extra}


# ---- Podman's default profile ---------------------------------------------

def test_podman_profile_denied_and_absent_calls(berth, bundle, cid):
    prof = podman_profile(bundle)
    names = profile_names(prof)
    # What the docstring says about the profile, checked.
    denied = {n for r in prof["syscalls"] if r["action"] == "SCMP_ACT_ERRNO" for n in r["names"]}
    assert {"vmsplice", "sysfs"} <= denied and not {"add_key", "io_uring_setup"} & names
    assert prof["defaultErrnoRet"] == errno.ENOSYS
    calls = [("vmsplice", "-1"), ("sysfs",), ("add_key",), ("io_uring_setup",)]
    p = run(berth, bundle, cid, prof, "sh", "-c", helper_lines(*calls, ("getpid",)))
    out = p.stdout.splitlines()
    assert out[:4] == ["errno 1 EPERM", "errno 1 EPERM", "errno 38 ENOSYS", "errno 38 ENOSYS"]
    assert out[4].startswith("ok ")
    for c, got in zip(calls, out):
        assert host(*c) != got, c


def test_podman_profile_busybox_runs(berth, bundle, cid):
    prof = podman_profile(bundle)
    p = run(berth, bundle, cid, prof, "sh", "-c",
            "echo ok; ls / >/dev/null; cat /etc/passwd | wc -l; sleep 0.01 & wait")
    assert p.stdout.split() == ["ok", "3"]


def test_podman_profile_custom_default_errno(berth, bundle, cid):
    prof = podman_profile(bundle)
    prof["defaultErrnoRet"] = errno.EOPNOTSUPP
    p = run(berth, bundle, cid, prof, "berth-testhelper", "syscall", "add_key")
    assert p.stdout.strip() == f"errno {errno.EOPNOTSUPP} EOPNOTSUPP"


def test_default_errno_without_errno_ret_is_eperm(berth, bundle, cid):
    prof = podman_profile(bundle)
    del prof["defaultErrnoRet"]
    p = run(berth, bundle, cid, prof, "berth-testhelper", "syscall", "add_key")
    assert p.stdout.strip() == "errno 1 EPERM"


# ---- where the filter is installed ----------------------------------------

@pytest.mark.parametrize("nnp,uid", [(True, 0), (False, 0), (True, 1000), (False, 1000)])
def test_installed_for_every_identity(berth, bundle, cid, nnp, uid):
    # Without no_new_privs the filter must go in while the init still has
    # CAP_SYS_ADMIN; with it, as late as possible.  Either way it applies.
    bundle.config["process"]["noNewPrivileges"] = nnp
    bundle.config["process"]["user"] = {"uid": uid, "gid": uid}
    rule = {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}
    p = run(berth, bundle, cid, deny(rule), "sh", "-c",
            "id -u; berth-testhelper syscall getppid")
    assert p.stdout.split("\n")[:2] == [str(uid), "errno 42 ENOMSG"]


# ---- actions --------------------------------------------------------------

@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
                                    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"])
def test_kill_and_trap_end_the_process_with_sigsys(berth, bundle, cid, action):
    run(berth, bundle, cid, deny({"names": ["getppid"], "action": action}),
        "berth-testhelper", "syscall", "getppid", rc=128 + SIGSYS)


def test_log_action_and_flags_accepted(berth, bundle, cid):
    sc = deny({"names": ["getppid"], "action": "SCMP_ACT_LOG"},
              flags=["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                     "SECCOMP_FILTER_FLAG_TSYNC"])
    p = run(berth, bundle, cid, sc, "berth-testhelper", "syscall", "getppid")
    assert p.stdout.startswith("ok ")


def test_rule_equal_to_default_and_unknown_names_are_skipped(berth, bundle, cid):
    sc = deny({"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
              {"names": ["no_such_syscall_at_all", "getppid"], "action": "SCMP_ACT_ERRNO"})
    p = run(berth, bundle, cid, sc, "sh", "-c", "echo ok; berth-testhelper syscall getppid")
    assert p.stdout.split("\n")[:2] == ["ok", "errno 1 EPERM"]


# ---- argument filters -----------------------------------------------------

AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10


def test_arg_filter_eq(berth, bundle, cid):
    rule = {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": AF_INET, "op": "SCMP_CMP_EQ"}]}
    p = run(berth, bundle, cid, deny(rule), "sh", "-c",
            helper_lines(("socket", "2", "1", "0"), ("socket", "1", "1", "0")))
    inet, unix = p.stdout.splitlines()
    assert inet == "errno 1 EPERM"
    assert unix.startswith("ok ")


def test_arg_filter_masked_eq_uses_value_two(berth, bundle, cid):
    # (type & SOCK_TYPE_MASK) == SOCK_DGRAM, whatever SOCK_CLOEXEC says.
    rule = {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EACCES,
            "args": [{"index": 1, "value": 0xf, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]}
    p = run(berth, bundle, cid, deny(rule), "sh", "-c",
            helper_lines(("socket", "1", "2", "0"), ("socket", "1", "0x80002", "0"),
                         ("socket", "1", "0x80001", "0")))
    dgram, dgram_cloexec, stream = p.stdout.splitlines()
    assert dgram == dgram_cloexec == "errno 13 EACCES"
    assert stream.startswith("ok ")


def test_arg_filter_ops_and_two_args(berth, bundle, cid):
    # Two different arguments in one rule: both must match (AND).
    rule = {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EACCES,
            "args": [{"index": 0, "value": AF_UNIX, "op": "SCMP_CMP_LE"},
                     {"index": 1, "value": 1, "op": "SCMP_CMP_GT"}]}
    p = run(berth, bundle, cid, deny(rule), "sh", "-c",
            helper_lines(("socket", "1", "2", "0"), ("socket", "1", "1", "0"),
                         ("socket", "2", "2", "0")))
    both, type_only_fails, family_fails = p.stdout.splitlines()
    assert both == "errno 13 EACCES"
    assert type_only_fails.startswith("ok ") and family_fails.startswith("ok ")


def test_same_arg_twice_makes_separate_rules(berth, bundle, cid):
    # runc's semantics: one rule per condition, so the conditions are OR-ed.
    rule = {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": AF_INET, "op": "SCMP_CMP_EQ"},
                     {"index": 0, "value": AF_INET6, "op": "SCMP_CMP_EQ"}]}
    p = run(berth, bundle, cid, deny(rule), "sh", "-c",
            helper_lines(("socket", "2", "1", "0"), ("socket", "10", "1", "0"),
                         ("socket", "1", "1", "0")))
    inet, inet6, unix = p.stdout.splitlines()
    assert inet == inet6 == "errno 1 EPERM"
    assert unix.startswith("ok ")


# ---- errors ---------------------------------------------------------------

def fails(berth, bundle, cid, seccomp, *fragments):
    bundle.config["linux"]["seccomp"] = seccomp
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode != 0
    for f in fragments:
        assert f in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert berth.ids() == []


def test_unknown_flag_is_an_error_with_its_path(berth, bundle, cid):
    fails(berth, bundle, cid,
          deny(flags=["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NO_SUCH"]),
          ".linux.seccomp.flags[1]", "SECCOMP_FILTER_FLAG_NO_SUCH")


def test_wait_killable_recv_needs_libseccomp_2_6(berth, bundle, cid):
    v = subprocess.run([BERTH, "--version"], capture_output=True, text=True).stdout
    if "libseccomp: 2.5" not in v:
        pytest.skip("libseccomp is not 2.5.x here")
    fails(berth, bundle, cid, deny(flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]),
          ".linux.seccomp.flags[0]", "not supported by libseccomp 2.5")


def test_notify_without_listener_path_is_an_error(berth, bundle, cid):
    fails(berth, bundle, cid, deny({"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}),
          ".linux.seccomp.syscalls[0].action", "listenerPath")


def test_unknown_architecture_is_an_error(berth, bundle, cid):
    fails(berth, bundle, cid, deny(architectures=["SCMP_ARCH_PDP11"]),
          ".linux.seccomp.architectures[0]", "SCMP_ARCH_PDP11")


# ---- libseccomp, linked in (static berth) or loaded on use ------------------

def runtime_maps(berth, bundle, cid, seccomp):
    """/proc/PID/maps of a foreground `berth run` while its container
    sleeps: the runtime process, where libseccomp would be loaded."""
    if seccomp is None:
        bundle.config["linux"].pop("seccomp", None)
    else:
        bundle.config["linux"]["seccomp"] = seccomp
    bundle.args("sleep", "30").write()
    run_ = berth.run_foreground(bundle.path, cid)
    try:
        with open(f"/proc/{run_.pid}/maps") as f:
            return f.read()
    finally:
        berth.cmd("kill", cid, "KILL")
        run_.wait(timeout=10)


def test_runtime_loads_libseccomp_only_for_a_seccomp_config(berth, bundle, cid):
    """berth is not linked with libseccomp: a container without
    linux.seccomp runs without it in the runtime; one with it loads it
    (which also shows the maps would tell).  A static berth has it linked
    in, and maps no shared object at all, even with a seccomp config."""
    if linked_static():
        maps = runtime_maps(berth, bundle, cid, deny())
        assert ".so" not in maps and "/berth" in maps, maps
        return
    assert "libseccomp" not in runtime_maps(berth, bundle, cid, None)
    assert "libseccomp" in runtime_maps(berth, bundle, cid, deny())
    ldd = subprocess.run(["ldd", BERTH], capture_output=True, text=True)
    if ldd.returncode == 0:
        assert "libseccomp" not in ldd.stdout, ldd.stdout


def test_without_libseccomp_only_seccomp_configs_fail(berth, bundle, cid, tmp_path):
    """libseccomp.so.2 that cannot be loaded (a file that is no ELF object,
    found first through LD_LIBRARY_PATH): a seccomp config is refused in
    one line naming it, before anything is made; every other container, and
    --version, go on.  A static berth loads no library: the same broken
    one changes nothing."""
    bad = tmp_path / "lib"
    bad.mkdir()
    (bad / "libseccomp.so.2").write_bytes(b"")
    env = dict(os.environ, LD_LIBRARY_PATH=str(bad))
    bundle.config["linux"]["seccomp"] = deny()
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid, env=env)
    if linked_static():
        assert p.returncode == 0, p.stderr
        v = berth.cmd("--version", env=env)
        assert v.returncode == 0 and "libseccomp: 2." in v.stdout, v.stdout
        return
    assert p.returncode != 0
    assert ".linux.seccomp" in p.stderr and "libseccomp.so.2" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert berth.ids() == []
    c = berth.cmd("check", "-b", bundle.path, env=env)
    errors = [l for l in c.stdout.splitlines() if l.startswith("error: ")]
    assert c.returncode == 1 and len(errors) == 1, c.stdout
    assert ".linux.seccomp" in errors[0] and "libseccomp.so.2" in errors[0]
    v = berth.cmd("--version", env=env)
    assert v.returncode == 0 and "libseccomp: none" in v.stdout, v.stdout
    bundle.config["linux"].pop("seccomp")
    bundle.write()
    p = berth.cmd("run", "-b", bundle.path, cid, env=env)
    assert p.returncode == 0, p.stderr


# ---- the notification listener --------------------------------------------

# linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif) and
# _IOWR('!', 1, struct seccomp_notif_resp).
NOTIF_RECV, NOTIF_SEND = 0xC0502100, 0xC0182101


def agent(path, result):
    """Receive the containerProcessState and the listener fd, then answer
    the first notification with ENOMSG."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(30)
    result["ready"].set()
    try:
        conn, _ = srv.accept()
        with conn:
            data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 1)
            while True:
                more = conn.recv(1 << 16)
                if not more:
                    break
                data += more
        result["message"] = json.loads(data)
        result["fds"] = len(fds)
        notif = bytearray(80)
        fcntl.ioctl(fds[0], NOTIF_RECV, notif, True)
        nid, _pid, _flags, nr = struct.unpack_from("=QIIi", notif)
        result["nr"] = nr
        fcntl.ioctl(fds[0], NOTIF_SEND, bytearray(struct.pack("=QqiI", nid, 0, -errno.ENOMSG, 0)),
                    True)
        for fd in fds:
            os.close(fd)
    except Exception as e:  # reported by the test
        result["error"] = repr(e)
    finally:
        srv.close()


def test_notify_sends_state_and_fd_to_listener(berth, bundle, cid, tmp_path):
    path = str(tmp_path / "agent.sock")
    result = {"ready": threading.Event()}
    t = threading.Thread(target=agent, args=(path, result), daemon=True)
    t.start()
    result["ready"].wait(10)
    sc = deny({"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"},
              listenerPath=path, listenerMetadata="tenant=a \"quoted\"")
    bundle.config["annotations"] = {"org.example.key": "v"}
    p = run(berth, bundle, cid, sc, "berth-testhelper", "syscall", "getppid")
    t.join(10)
    assert "error" not in result, result.get("error")
    assert p.stdout.strip() == "errno 42 ENOMSG"
    m = result["message"]
    assert result["fds"] == 1 and m["fds"] == ["seccompFd"]
    assert m["metadata"] == "tenant=a \"quoted\""
    assert m["ociVersion"].startswith("1.")
    assert m["state"]["id"] == cid and m["state"]["pid"] == m["pid"] > 0
    assert m["state"]["bundle"] == bundle.path
    assert m["state"]["annotations"] == {"org.example.key": "v"}


# ---- the cache ------------------------------------------------------------

def test_cache_is_used_and_damage_is_repaired(berth, bundle, cid, tmp_path):
    prof = podman_profile(bundle)
    log = tmp_path / "berth.log"

    def go():
        log.write_text("")
        run(berth, bundle, cid, prof, "true", globals_=("--debug", "--log", str(log)))
        text = log.read_text()
        return ("compiled by libseccomp" in text, "read from the cache" in text)

    assert go() == (True, False)
    d = os.path.join(berth.root, CACHE_DIR)
    st = os.stat(d)
    assert st.st_mode & 0o7777 == 0o700 and st.st_uid == os.geteuid()
    entries = os.listdir(d)
    assert len(entries) == 1 and entries[0].endswith(".bpf") and len(entries[0]) == 68
    entry = os.path.join(d, entries[0])
    assert os.stat(entry).st_mode & 0o7777 == 0o600
    assert go() == (False, True)
    with open(entry, "r+b") as f:
        f.seek(-5, os.SEEK_END)
        f.write(b"\xaa")
    assert go() == (True, False)
    assert go() == (False, True)
    # Not a container: list does not show it, no container can take its name.
    assert berth.ids() == []


@pytest.mark.parametrize("syscall", ["write", "sendmsg"])
def test_notify_refused_where_the_runtime_needs_the_syscall(runtime, bundle, cid, tmp_path,
                                                            syscall):
    """The init writes to exec.fifo and sends the listener fd after the
    filter is in: a notification there would wait for an agent that cannot
    have the fd yet.  runc refuses write (and passes the fd otherwise, so it
    takes sendmsg); berth refuses both, and `check` says so too."""
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "agent.sock"),
        "syscalls": [{"names": ["getcwd", syscall], "action": "SCMP_ACT_NOTIFY"}]}
    bundle.write()
    if runtime.name == "runc" and syscall == "sendmsg":
        pytest.skip("runc takes sendmsg")
    p = runtime.cmd("create", "-b", bundle.path, cid)
    assert p.returncode != 0
    assert f"SCMP_ACT_NOTIFY cannot be used for the {syscall} syscall" in p.stderr, p.stderr
    assert runtime.ids() == []
    if runtime.name == "berth":
        assert ".linux.seccomp.syscalls[0].names[1]" in p.stderr
        c = runtime.cmd("check", "-b", bundle.path)
        assert c.returncode == 1
        errors = [l for l in c.stdout.splitlines() if l.startswith("error: ")]
        assert len(errors) == 1, c.stdout
        assert ".linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the " \
            f"{syscall} syscall" in errors[0]


@pytest.mark.skipif(not os.path.exists(HELPER), reason="berth-testhelper not built")
def test_syscalls_newer_than_the_profile_get_enosys(runtime, bundle, cid):
    """As runc: a call numbered above the profile's newest named one gets
    ENOSYS, so that libc falls back (clone3 -> clone) instead of failing
    with the profile's default errno; an older call the profile leaves out
    still gets the default.  Podman's profile, with EPERM as its default
    instead of its own ENOSYS."""
    prof = podman_profile(bundle)
    prof.pop("defaultErrnoRet", None)
    assert "add_key" not in profile_names(prof)
    p = run(runtime, bundle, cid, prof, "sh", "-c", helper_lines(("1000",), ("add_key",)))
    assert p.stdout.splitlines() == ["errno 38 ENOSYS", "errno 1 EPERM"], p.stderr
