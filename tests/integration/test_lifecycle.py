"""create / start / state / kill / delete / list / run, observed from the host
and from inside real containers."""
import json
import os
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.cgroup


def wait_status(berth, cid, want, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = berth.state(cid)["status"]
        if st == want:
            return
        time.sleep(0.02)
    raise AssertionError(f"{cid} never became {want}; last {st}")


def test_run_reports_exit_status(berth, bundle, cid):
    bundle.sh("exit 3").write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 3
    assert berth.ids() == []  # removed without --keep


def test_run_signal_status_is_128_plus_n(berth, bundle, cid):
    # pid 1 of a pid namespace cannot SIGKILL itself: kill it from outside.
    bundle.args("sleep", "100").write()
    run = berth.run_foreground(bundle.path, cid)
    try:
        berth.cmd("kill", cid, "KILL", check=True)
        assert run.wait(timeout=10) == 128 + 9
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def test_run_passes_stdio(berth, bundle, cid):
    bundle.sh("read x; echo out:$x; echo err >&2").write()
    p = berth.cmd("run", "-b", bundle.path, cid, input="hello\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "out:hello\n"
    assert p.stderr == "err\n"


def test_run_keep_leaves_stopped_container(berth, bundle, cid):
    bundle.args("true").write()
    p = berth.cmd("run", "--keep", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    st = berth.state(cid)
    assert st["status"] == "stopped" and st["pid"] == 0
    berth.cmd("delete", cid, check=True)
    assert berth.ids() == []


@pytest.mark.parametrize("hook", [False, True])
def test_run_saves_the_state_before_the_program_runs(berth, bundle, cid, tmp_path, hook):
    """run writes state.json before the init may go on to its execve: while
    the init sets itself up when nothing of create's can come after its
    READY (start_early), else once it is ready (here: a createRuntime
    hook).  The program finds it either way."""
    os.makedirs(berth.root, exist_ok=True)
    bundle.config["mounts"].append({"destination": "/berthroot", "type": "bind",
                                    "source": berth.root, "options": ["rbind", "ro"]})
    if hook:
        bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/true"}]}
    bundle.sh(f"cat /berthroot/{cid}/state.json").write()
    trace = tmp_path / "trace.json"
    p = berth.cmd("--trace", str(trace), "run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["id"] == cid and doc["pid"] > 0, doc
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    mine = [e for e in events if e["ph"] == "X" and e["pid"] == e["args"]["cmd"]]
    init = next(e for e in mine if e["name"] == "init")
    save = next(e for e in mine if e["name"] == "state save")
    # Early, the save is part of berth's work while the init runs.
    assert (save["ts"] < init["ts"] + init["dur"]) == (not hook), (save, init)
    assert berth.ids() == []


def test_lifecycle_transitions(berth, bundle, cid, tmp_path):
    bundle.args("sleep", "100").write()
    pidfile = tmp_path / "pid"
    berth.cmd("create", "-b", bundle.path, "--pid-file", pidfile, cid, check=True)
    st = berth.state(cid)
    assert st["status"] == "created"
    assert st["id"] == cid and st["bundle"] == bundle.path
    assert st["ociVersion"] == "1.3.0"
    pid = int(pidfile.read_text())  # runc writes no newline
    assert pid == st["pid"] and os.path.exists(f"/proc/{pid}")

    berth.cmd("start", cid, check=True)
    assert berth.state(cid)["status"] == "running"
    p = berth.cmd("start", cid)
    assert p.returncode == 1 and "already running" in p.stderr

    p = berth.cmd("delete", cid)
    assert p.returncode == 1 and "not stopped" in p.stderr

    berth.cmd("kill", cid, "KILL", check=True)
    wait_status(berth, cid, "stopped")
    assert berth.state(cid)["pid"] == 0
    p = berth.cmd("kill", cid, "TERM")
    assert p.returncode == 1 and "container not running" in p.stderr
    assert berth.cmd("kill", "--all", cid, "KILL").returncode == 0
    berth.cmd("delete", cid, check=True)
    p = berth.cmd("state", cid)
    assert p.returncode == 1 and "container does not exist" in p.stderr


def test_delete_force_kills_running(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    pid = berth.state(cid)["pid"]
    berth.cmd("delete", "--force", cid, check=True)
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert berth.ids() == []


def test_delete_force_missing_is_success(berth):
    assert berth.cmd("delete", "--force", "no-such").returncode == 0
    p = berth.cmd("delete", "no-such")
    assert p.returncode == 1 and "does not exist" in p.stderr


def test_kill_all_signals_every_process(berth, bundle, cid):
    bundle.sh("sleep 100 & sleep 100 & wait").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    berth.cmd("kill", "--all", cid, "KILL", check=True)
    wait_status(berth, cid, "stopped")
    berth.cmd("delete", cid, check=True)


def test_list_formats(berth, bundle, cid):
    assert berth.cmd("list", "--format", "json").stdout == "null\n"
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    table = berth.cmd("list", check=True).stdout.splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert table[1].split()[0] == cid and table[1].split()[2] == "created"
    entries = json.loads(berth.cmd("list", "-f", "json", check=True).stdout)
    assert [e["id"] for e in entries] == [cid] and entries[0]["owner"] == "root"
    # runc's tabwriter layout: each column but the last as wide as its
    # widest cell plus 3, at least 12, padded with spaces.
    rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
            [cid, str(entries[0]["pid"]), "created", entries[0]["bundle"],
             entries[0]["created"], "root"]]
    widths = [max(12, max(len(r[k]) for r in rows) + 3) for k in range(5)]
    assert table == ["".join(c.ljust(w) for c, w in zip(r, widths)) + r[5] for r in rows]
    assert berth.cmd("list", "-q").stdout == cid + "\n"
    berth.cmd("delete", "-f", cid, check=True)


def test_list_names_the_owner_whatever_its_length(runtime, bundle, cid, tmp_path):
    """OWNER is the state directory's owner by /etc/passwd, as runc reads
    it: any length (useradd allows 32 bytes, a directory service more),
    and #UID for a uid with no name.  The passwd file is bound over
    /etc/passwd in a mount namespace of the command's own: the host's is
    not touched.  runc's case is the control."""
    name = "a-user-name-longer-than-32-bytes-as-ldap-allows"
    passwd = tmp_path / "passwd"
    passwd.write_text(f"root:x:0:0:root:/root:/bin/sh\n{name}:x:4000123:4000123::/:/bin/false\n")
    state = os.path.join(runtime.root, cid)
    bundle.args("sleep", "100").write()
    runtime.cmd("create", "-b", bundle.path, cid, check=True)

    def owner():
        bind = 'mount --bind "$0" /etc/passwd && exec "$@"'
        p = subprocess.run(["unshare", "-m", "sh", "-c", bind, passwd,
                            runtime.binary, "--root", runtime.root, "list", "-f", "json"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)[0]["owner"]
    try:
        os.chown(state, 4000123, -1)
        assert owner() == name
        os.chown(state, 4000124, -1)
        assert owner() == "#4000124"
    finally:
        os.chown(state, 0, -1)
        runtime.cmd("delete", "-f", cid, check=True)


def test_list_reads_a_state_larger_than_one_read(berth, bundle, cid):
    """list reads state.json in one read when it fits its buffer (8 KB);
    annotations make it larger, and the rest must still be read."""
    ann = {f"org.example.k{i}": "v" * 100 for i in range(100)}
    bundle.config["annotations"] = ann
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    try:
        assert os.path.getsize(os.path.join(berth.root, cid, "state.json")) > 8192
        listed = json.loads(berth.cmd("list", "-f", "json", check=True).stdout)
        assert [(e["id"], e["status"], e["annotations"]) for e in listed] == [(cid, "created", ann)]
    finally:
        berth.cmd("delete", "-f", cid, check=True)


def test_duplicate_id_is_refused_and_harmless(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1 and "already exists" in p.stderr
    assert berth.state(cid)["status"] == "created"
    berth.cmd("delete", "-f", cid, check=True)


def test_start_on_created_that_died(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    os.kill(berth.state(cid)["pid"], signal.SIGKILL)
    wait_status(berth, cid, "stopped")
    p = berth.cmd("start", cid)
    assert p.returncode == 1 and "stopped" in p.stderr
    berth.cmd("delete", cid, check=True)


def test_pidfd_socket_receives_the_init(berth, bundle, cid, tmp_path):
    import socket
    import threading
    path = str(tmp_path / "pidfd.sock")
    got = {}

    def serve():
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        srv.settimeout(20)
        conn, _ = srv.accept()
        _, fds, _, _ = socket.recv_fds(conn, 64, 1)
        got["fd"] = fds[0]
        conn.close()
        srv.close()

    t = threading.Thread(target=serve)
    t.start()
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, "--pidfd-socket", path, cid, check=True)
    t.join()
    fd = got["fd"]
    try:
        assert os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:[pidfd]"
        with open(f"/proc/self/fdinfo/{fd}") as f:
            pid_line = [l for l in f if l.startswith("Pid:")][0]
        assert int(pid_line.split()[1]) == berth.state(cid)["pid"]
    finally:
        os.close(fd)
    berth.cmd("delete", "-f", cid, check=True)


@pytest.mark.parametrize("how", ["create+start", "run -d"])
def test_notify_socket_relays_ready(berth, bundle, cid, tmp_path, how):
    """NOTIFY_SOCKET: the container gets its own socket; start relays READY=1
    to the caller's socket with MAINPID, then returns.  run's start takes
    the state create kept, not the one on disk: both paths."""
    import socket
    path = str(tmp_path / "host-notify.sock")
    host = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    host.bind(path)
    host.settimeout(20)
    try:
        bundle.sh('echo $NOTIFY_SOCKET > /tmp/notify-path; sleep 0.2; '
                  'berth-testhelper sd-notify "STATUS=starting"; '
                  'berth-testhelper sd-notify "READY=1"; exec sleep 100').write()
        env = {**os.environ, "NOTIFY_SOCKET": path}
        if how == "run -d":
            berth.cmd("run", "-d", "-b", bundle.path, cid, env=env, check=True)
        else:
            berth.cmd("create", "-b", bundle.path, cid, env=env, check=True)
            berth.cmd("start", cid, check=True)
        msg = host.recv(4096).decode()
        assert "READY=1" in msg
        assert f"MAINPID={berth.state(cid)['pid']}" in msg
        with open(os.path.join(bundle.rootfs, "tmp", "notify-path")) as f:
            assert f.read().strip() == "/run/notify/notify.sock"
    finally:
        host.close()
        berth.cmd("delete", "-f", cid)


def test_delete_created_needs_force(berth, bundle, cid):
    """runtime-spec: delete of a container that is not stopped MUST fail and
    MUST have no effect (runc 1.1 deletes created containers anyway)."""
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    p = berth.cmd("delete", cid)
    assert p.returncode == 1 and "not stopped: created" in p.stderr
    assert berth.state(cid)["status"] == "created"
    berth.cmd("delete", "--force", cid, check=True)


def test_delete_force_of_a_paused_container(berth, bundle, cid):
    """Frozen tasks ignore SIGKILL until thawed: delete --force must thaw."""
    import time as _t
    bundle.args("sleep", "100").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    berth.cmd("pause", cid, check=True)
    assert berth.state(cid)["status"] == "paused"
    t0 = _t.time()
    berth.cmd("delete", "--force", cid, check=True)
    assert _t.time() - t0 < 5
    assert berth.ids() == []


def _procs_in_cgroup(d):
    """Host pids in cgroup directory `d` and its sub-cgroups."""
    pids = set()
    for top, _, _ in os.walk(d):
        try:
            with open(os.path.join(top, "cgroup.procs")) as f:
                pids |= {int(p) for p in f.read().split()}
        except FileNotFoundError:
            pass
    return pids


def _create_and_start(berth, bundle, cid, ctrl="pids"):
    """The container's cgroup directory for `ctrl`, read from its init
    between create and start (whatever the driver names it), then start."""
    from test_cgroups import ctl_dir
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    d, is_v2 = ctl_dir(berth.state(cid)["pid"], ctrl)
    berth.cmd("start", cid, check=True)
    return d, is_v2


def _gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):  # gone before, or between open and read
        return True


@pytest.mark.parametrize("cleanup", ["kill-all+delete", "delete", "delete-force"])
@pytest.mark.parametrize("pidns", ["joined", "host"])
def test_leftovers_of_a_shared_pid_namespace_are_killed(berth, bundle, cid, tmp_path, pidns,
                                                        cleanup):
    """A container without a pid namespace of its own (a pod's shared one,
    joined by path, or the host's) whose init forks and exits: its child
    lives on in the cgroup.  containerd's shim then runs `kill --all ID KILL`
    and `delete ID` (Kubernetes' StopPodSandbox, docker rm): the child must
    die, the cgroup go, and delete return well inside the shim's 10 s."""
    pod = f"{cid}-pod"
    namespaces = [n for n in bundle.config["linux"]["namespaces"] if n["type"] != "pid"]
    if pidns == "joined":
        bundle.args("sleep", "100").write()
        berth.cmd("run", "-d", "-b", bundle.path, pod, check=True)
        namespaces.append({"type": "pid",
                           "path": f"/proc/{berth.state(pod)['pid']}/ns/pid"})
    bundle.config["linux"]["namespaces"] = namespaces
    bundle.sh("sleep 100 & exit 0").write()
    cg, _ = _create_and_start(berth, bundle, cid)
    wait_status(berth, cid, "stopped")
    left = _procs_in_cgroup(cg)
    assert left, "the init's child should have outlived it in the cgroup"

    t0 = time.monotonic()
    if cleanup == "kill-all+delete":
        berth.cmd("kill", "--all", cid, "KILL", check=True)
        berth.cmd("delete", cid, check=True)
    elif cleanup == "delete":
        berth.cmd("delete", cid, check=True)
    else:
        berth.cmd("delete", "--force", cid, check=True)
    took = time.monotonic() - t0
    assert took < 5, f"{cleanup} took {took:.1f} s"
    assert all(_gone(p) for p in left), [p for p in left if not _gone(p)]
    assert not os.path.exists(cg)
    if pidns == "joined":
        berth.cmd("delete", "--force", pod, check=True)
    from conftest import _cgroup_dirs_named
    assert _cgroup_dirs_named(pod) == []
    assert berth.ids() == []


def test_kill_all_of_a_stopped_container_without_cgroup_is_success(berth, bundle, cid):
    """runc: `kill --all` of a stopped container whose cgroup is gone has
    nothing to signal and succeeds."""
    bundle.args("true").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    wait_status(berth, cid, "stopped")
    from conftest import _cgroup_dirs_named
    for d in sorted(_cgroup_dirs_named(cid), key=len, reverse=True):
        os.rmdir(d)
    assert berth.cmd("kill", "--all", cid, "KILL").returncode == 0
    p = berth.cmd("kill", cid, "KILL")
    assert p.returncode == 1 and "container not running" in p.stderr
    berth.cmd("delete", cid, check=True)


def test_delete_fails_fast_and_clearly_when_leftovers_cannot_die(berth, bundle, cid):
    """A leftover that SIGKILL cannot end in time (here: frozen in a v1
    freezer sub-cgroup of the container's, which a thaw of the container's
    own cgroup does not reach): delete gives up within its two seconds plus
    the cgroup's removal, well inside containerd's 10 s, names the problem
    in one line, and keeps the container so that a later delete can
    finish."""
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                            if n["type"] != "pid"]
    bundle.sh("sleep 100 & exit 0").write()
    freezer, is_v2 = _create_and_start(berth, bundle, cid, "freezer")
    wait_status(berth, cid, "stopped")
    if freezer is None or is_v2:
        berth.cmd("delete", cid, check=True)
        pytest.skip("no v1 freezer hierarchy on this host (v2 kills frozen tasks)")
    (left,) = _procs_in_cgroup(freezer)
    sub = os.path.join(freezer, "stuck")
    os.mkdir(sub)
    try:
        with open(os.path.join(sub, "cgroup.procs"), "w") as f:
            f.write(str(left))
        with open(os.path.join(sub, "freezer.state"), "w") as f:
            f.write("FROZEN")
        t0 = time.monotonic()
        p = berth.cmd("delete", cid)
        took = time.monotonic() - t0
        assert p.returncode == 1 and took < 5, (took, p.stderr)
        err = p.stderr.strip()
        assert len(err.splitlines()) == 1 and "still alive" in err and str(left) in err, err
        assert berth.ids() == [cid]
    finally:
        with open(os.path.join(sub, "freezer.state"), "w") as f:
            f.write("THAWED")
    berth.cmd("delete", cid, check=True)
    assert _gone(left)
    assert not os.path.exists(freezer)


def test_a_config_without_process_creates_but_does_not_start(berth, bundle, cid):
    """config.md: process is REQUIRED when start is called; runtime.md:
    start MUST error if it was not set.  So create succeeds (the namespaces
    and mounts are there, hooks run), start fails clearly and changes
    nothing, and delete --force removes it all.  runc 1.1.5 refuses at
    create, against the spec."""
    del bundle.config["process"]
    bundle.write()
    p = berth.cmd("check", "-b", bundle.path)
    assert p.returncode == 0 and "warning: config.json: .process: no process" in p.stdout, p.stdout
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    st = berth.state(cid)
    assert st["status"] == "created" and st["pid"] > 0
    init = st["pid"]
    with open(f"/proc/{init}/status") as f:
        assert "berth" in f.readline()  # the init waits, as berth, not exec'd
    p = berth.cmd("start", cid)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [
        "berth: config.json: .process: cannot start a container without a process (config.md:"
        " process is required when start is called); remove it with delete --force"]
    assert berth.state(cid)["status"] == "created"
    berth.cmd("delete", "--force", cid, check=True)
    assert _gone(init)
    assert berth.ids() == []
