"""OCI hooks: each kind at its point, with the state on stdin, its args, env
and timeout, and runtime-spec 1.3.0's failure semantics."""
import json
import os
import stat

import pytest


def hook_script(tmp_path, name, body):
    """A host shell script; busybox sh is used so it runs in the container's
    namespaces too (createContainer runs before pivot_root, with host paths)."""
    path = tmp_path / name
    path.write_text("#!/bin/busybox sh\n" + body)
    path.chmod(0o755)
    return str(path)


def recorder(tmp_path, log):
    return hook_script(tmp_path, "record.sh",
                       f'read -r state; echo "$1 $state" >> {log}; '
                       f'echo "$1 ns=$(readlink /proc/self/ns/mnt)" >> {log}.ns\n')


def entries(log):
    out = []
    with open(log) as f:
        for line in f:
            kind, state = line.split(" ", 1)
            out.append((kind, json.loads(state)))
    return out


def test_every_hook_runs_in_order_with_state(berth, bundle, cid, tmp_path):
    log = tmp_path / "hooks.log"
    rec = recorder(tmp_path, log)
    kinds = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
             "poststop"]
    bundle.config["hooks"] = {k: [{"path": rec, "args": ["record.sh", k]}] for k in kinds}
    # startContainer runs inside the container: it needs the script there.
    os.makedirs(os.path.join(bundle.rootfs, os.path.dirname(rec).lstrip("/")), exist_ok=True)
    with open(rec) as src, open(os.path.join(bundle.rootfs, rec.lstrip("/")), "w") as dst:
        dst.write(src.read().replace(str(log), "/dev/null"))
    os.chmod(os.path.join(bundle.rootfs, rec.lstrip("/")), 0o755)
    bundle.config["annotations"] = {"org.example.k": "v"}
    bundle.args("sleep", "100").write()

    berth.cmd("create", "-b", bundle.path, cid, check=True)
    pid = berth.state(cid)["pid"]
    berth.cmd("start", cid, check=True)
    berth.cmd("delete", "-f", cid, check=True)

    got = entries(log)
    assert [k for k, _ in got] == ["prestart", "createRuntime", "createContainer", "poststart",
                                   "poststop"]
    status = {k: s["status"] for k, s in got}
    # runtime.md: "creating" is lifecycle step 2; these hooks are steps 3-5,
    # after it (runc says "creating", crun "created").
    assert status == {"prestart": "created", "createRuntime": "created",
                      "createContainer": "created", "poststart": "running",
                      "poststop": "stopped"}
    for k, s in got:
        assert s["id"] == cid and s["bundle"] == bundle.path and s["ociVersion"] == "1.3.0"
        assert s["annotations"] == {"org.example.k": "v"}
        if k != "poststop":
            assert s["pid"] == pid
    ns = dict(l.split(" ", 1) for l in open(str(log) + ".ns").read().splitlines())
    host_mnt = "ns=" + os.readlink("/proc/self/ns/mnt")
    assert ns["prestart"] == host_mnt and ns["createRuntime"] == host_mnt
    assert ns["createContainer"] != host_mnt  # in the container's mount namespace
    assert ns["poststart"] == host_mnt and ns["poststop"] == host_mnt


def test_hook_env_and_args(berth, bundle, cid, tmp_path):
    out = tmp_path / "out"
    h = hook_script(tmp_path, "env.sh",
                    f'echo "$1" > {out}; tr "\\0" "\\n" < /proc/$$/environ >> {out}\n')
    bundle.config["hooks"] = {"prestart": [{"path": h, "args": ["zero", "one"],
                                            "env": ["FOO=bar"]}]}
    bundle.args("true").write()
    berth.cmd("run", "-b", bundle.path, cid, check=True)
    # exactly its args after argv[0], and exactly its env (no PATH added)
    assert out.read_text().split() == ["one", "FOO=bar"]


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_aborts_and_cleans_up(berth, bundle, cid, tmp_path, kind):
    h = hook_script(tmp_path, "fail.sh", "echo broken-hook >&2; exit 3\n")
    bundle.config["hooks"] = {kind: [{"path": h}]}
    bundle.args("true").write()
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1
    assert f".hooks.{kind}[0]" in p.stderr and "status 3" in p.stderr
    assert "broken-hook" in p.stderr
    assert berth.ids() == []


def test_hook_timeout(berth, bundle, cid, tmp_path):
    h = hook_script(tmp_path, "slow.sh", "sleep 30\n")
    bundle.config["hooks"] = {"createRuntime": [{"path": h, "timeout": 1}]}
    bundle.args("true").write()
    p = berth.cmd("create", "-b", bundle.path, cid, timeout=20)
    assert p.returncode == 1 and "timed out after 1 s" in p.stderr
    assert berth.ids() == []


def test_failing_start_container_hook_fails_start(berth, bundle, cid, tmp_path):
    # Runs inside the container: the path resolves in the container.
    bundle.config["hooks"] = {"startContainer": [{"path": "/bin/false"}]}
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    p = berth.cmd("start", cid)
    assert p.returncode == 1
    assert ".hooks.startContainer[0]" in p.stderr
    berth.cmd("delete", "-f", cid, check=True)


def test_start_container_hooks_run_under_the_filter_and_the_user(runtime, bundle, cid):
    """runc runs startContainer hooks right before the execve: with the
    seccomp filter loaded, as process.user, with its capabilities."""
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "id -u > /tmp/hook-uid"]}]}
    bundle.args("true").write()
    p = runtime.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(bundle.rootfs, "tmp", "hook-uid")) as f:
        assert f.read().strip() == "1000"

    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "mkdir /tmp/by-the-hook"]}]}
    bundle.write()
    p = runtime.cmd("run", "-b", bundle.path, cid)
    assert p.returncode != 0
    assert not os.path.exists(os.path.join(bundle.rootfs, "tmp", "by-the-hook"))
    runtime.cmd("delete", "-f", cid)


def test_failing_poststart_stops_the_container(berth, bundle, cid, tmp_path):
    h = hook_script(tmp_path, "fail.sh", "exit 1\n")
    bundle.config["hooks"] = {"poststart": [{"path": h}]}
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    p = berth.cmd("start", cid)
    assert p.returncode == 1 and ".hooks.poststart[0]" in p.stderr
    berth.wait_stopped(cid)
    berth.cmd("delete", cid, check=True)


def test_run_gives_poststart_the_state_create_saved(berth, bundle, cid, tmp_path):
    """run starts from the state create kept in memory: poststart still sees
    the id, bundle, annotations, status and the pid of the container's
    process, as after create and start."""
    log = tmp_path / "hooks.log"
    rec = recorder(tmp_path, log)
    nspid = tmp_path / "nspid"
    # The pid the state names, as its own pid namespace sees it.
    probe = hook_script(tmp_path, "nspid.sh",
                        'pid=$(sed \'s/.*"pid":\\([0-9]*\\).*/\\1/\'); '
                        f'grep NSpid /proc/$pid/status > {nspid}\n')
    bundle.config["hooks"] = {"poststart": [{"path": rec, "args": ["record.sh", "poststart"]},
                                            {"path": probe}],
                              "poststop": [{"path": rec, "args": ["record.sh", "poststop"]}]}
    bundle.config["annotations"] = {"org.example.k": "v"}
    bundle.args("sleep", "1").write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    got = dict(entries(log))
    assert list(got) == ["poststart", "poststop"]
    s = got["poststart"]
    assert s["status"] == "running" and s["id"] == cid and s["bundle"] == bundle.path
    assert s["annotations"] == {"org.example.k": "v"}
    # The container's process: pid 1 of its namespace, s["pid"] on the host.
    assert nspid.read_text().split()[1:] == [str(s["pid"]), "1"]
    assert got["poststop"]["status"] == "stopped"


def test_run_with_a_failing_poststart_leaves_nothing(berth, bundle, cid, tmp_path):
    h = hook_script(tmp_path, "fail.sh", "exit 1\n")
    bundle.config["hooks"] = {"poststart": [{"path": h}]}
    bundle.args("sleep", "100").write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode != 0 and ".hooks.poststart[0]" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "does not exist" in berth.cmd("state", cid).stderr


def test_failing_poststop_is_a_warning_and_the_rest_run(berth, bundle, cid, tmp_path):
    """runtime.md, lifecycle step 13: a failing poststop hook is logged as a
    warning and "the remaining hooks and lifecycle continue as if the hook
    had succeeded" (runtime-tools poststop_fail).  runc 1.1.5 stops at the
    first failure; berth follows the spec here."""
    log = tmp_path / "poststop.log"
    fail = hook_script(tmp_path, "fail.sh", "exit 1\n")
    rec = hook_script(tmp_path, "rec.sh", f'echo "$1" >> {log}\n')
    bundle.config["hooks"] = {"poststop": [
        {"path": rec, "args": ["rec.sh", "first"]},
        {"path": fail},
        {"path": rec, "args": ["rec.sh", "third"]},
        {"path": fail},
        {"path": rec, "args": ["rec.sh", "fifth"]}]}
    bundle.args("true").write()
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    warnings = [l for l in p.stderr.splitlines() if "warning" in l]
    assert len(warnings) == 2, p.stderr
    assert ".hooks.poststop[1]" in warnings[0] and ".hooks.poststop[3]" in warnings[1]
    assert log.read_text().split() == ["first", "third", "fifth"]
    assert berth.ids() == []


def test_create_container_hook_runs_in_the_container_root(runtime, bundle, cid, tmp_path):
    """runc runs createContainer hooks with the container's root filesystem
    as their working directory; hooks written for it copy files into the
    rootfs by relative paths."""
    src = tmp_path / "payload"
    src.write_text("from-the-hook\n")
    h = hook_script(tmp_path, "copy.sh", f"cp {src} ./payload-copy\n")
    bundle.config["hooks"] = {"createContainer": [{"path": h}]}
    bundle.args("cat", "/payload-copy").write()
    p = runtime.cmd("run", "-b", bundle.path, cid)
    assert (p.returncode, p.stdout) == (0, "from-the-hook\n"), p.stderr
    assert not os.path.exists(os.path.join(bundle.path, "payload-copy"))


def test_runtime_hooks_stay_in_the_runtime_pid_namespace(berth, bundle, cid, tmp_path):
    """createRuntime and poststart run in the runtime's namespaces
    (config.md), also when the container joins another pid namespace by
    path: joining it is for the init alone."""
    pod = f"{cid}-pod"
    bundle.args("sleep", "100").write()
    berth.cmd("run", "-d", "-b", bundle.path, pod, check=True)
    pod_ns = os.readlink(f"/proc/{berth.state(pod)['pid']}/ns/pid")
    log = tmp_path / "pidns.log"
    rec = hook_script(tmp_path, "pidns.sh",
                      f'echo "$1 $(readlink /proc/self/ns/pid)" >> {log}\n')
    bundle.config["hooks"] = {k: [{"path": rec, "args": ["pidns.sh", k]}]
                              for k in ("prestart", "createRuntime", "poststart")}
    bundle.config["linux"]["namespaces"] = [
        n for n in bundle.config["linux"]["namespaces"] if n["type"] != "pid"] + [
        {"type": "pid", "path": f"/proc/{berth.state(pod)['pid']}/ns/pid"}]
    bundle.write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    berth.cmd("delete", "-f", cid, check=True)
    berth.cmd("delete", "-f", pod, check=True)
    mine = os.readlink("/proc/self/ns/pid")
    got = dict(line.split() for line in log.read_text().splitlines())
    assert got == {"prestart": mine, "createRuntime": mine, "poststart": mine}, (got, pod_ns)
