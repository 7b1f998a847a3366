"""Bad input: a clear one-line error naming the problem, exit status 1, and
nothing left behind (state directory, cgroup directory, mount, process)."""
import json
import os
import subprocess

import pytest


def mounts_snapshot(*under):
    """Mount points below the given paths (the host may mount elsewhere
    meanwhile)."""
    with open("/proc/self/mountinfo") as f:
        points = [l.split()[4] for l in f]
    return sorted(p for p in points if any(p.startswith(u) for u in under))


def fail_clean(berth, bundle, cid, *words, cmd="create"):
    watched = (bundle.path, berth.root)
    before = mounts_snapshot(*watched)
    p = berth.cmd(cmd, "-b", bundle.path, cid)
    assert p.returncode == 1, p.stderr
    lines = [l for l in p.stderr.splitlines() if l]
    assert len(lines) == 1, p.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert berth.ids() == []
    assert not os.path.exists(os.path.join(berth.root, cid))
    assert mounts_snapshot(*watched) == before
    return lines[0]


def test_missing_rootfs(berth, bundle, cid):
    bundle.config["root"]["path"] = "nope"
    bundle.write()
    fail_clean(berth, bundle, cid, "config.json: .root.path", "nope", "No such file")


def test_rootfs_is_a_file(berth, bundle, cid):
    open(os.path.join(bundle.path, "afile"), "w").close()
    bundle.config["root"]["path"] = "afile"
    bundle.write()
    fail_clean(berth, bundle, cid, ".root.path", "not a directory")


# run saves the state while the init sets itself up (start_early): an init
# that fails after that must take the state with it.
@pytest.mark.parametrize("cmd", ["create", "run"])
def test_missing_binary(berth, bundle, cid, cmd):
    bundle.args("no-such-program").write()
    fail_clean(berth, bundle, cid, "config.json: .process.args[0]",
               'exec: "no-such-program": executable file not found in $PATH', cmd=cmd)


@pytest.mark.parametrize("cmd", ["create", "run"])
def test_missing_binary_absolute(berth, bundle, cid, cmd):
    bundle.args("/bin/nope").write()
    fail_clean(berth, bundle, cid, ".process.args[0]", "/bin/nope", cmd=cmd)


@pytest.mark.parametrize("bad", ["a/b", "..", "a b", "x" * 256])
def test_bad_ids(berth, bundle, bad):
    bundle.write()
    p = berth.cmd("create", "-b", bundle.path, bad)
    assert p.returncode == 1
    assert "invalid container ID format" in p.stderr
    assert not os.path.exists(berth.root) or os.listdir(berth.root) == []


def test_empty_id(berth, bundle):
    bundle.write()
    p = berth.cmd("create", "-b", bundle.path, "")
    assert p.returncode == 1 and "container id cannot be empty" in p.stderr


def test_bad_namespace_path(berth, bundle, cid):
    for ns in bundle.config["linux"]["namespaces"]:
        if ns["type"] == "ipc":
            ns["path"] = "/nonexistent/ns"
    bundle.write()
    fail_clean(berth, bundle, cid, ".linux.namespaces[2].path", "/nonexistent/ns")


def test_unknown_namespace_type(berth, bundle, cid):
    bundle.config["linux"]["namespaces"].append({"type": "bogus"})
    bundle.write()
    fail_clean(berth, bundle, cid, ".linux.namespaces[5].type", "bogus")


def test_malformed_json(berth, bundle, cid):
    with open(bundle.config_path, "w") as f:
        f.write('{"ociVersion": "1.0.0",\n "root": }')
    fail_clean(berth, bundle, cid, "config.json: invalid JSON at line 2")


def test_wrong_type(berth, bundle, cid):
    bundle.config["linux"]["resources"]["memory"] = {"limit": "1G"}
    bundle.write()
    fail_clean(berth, bundle, cid,
               "config.json: .linux.resources.memory.limit: expected integer, got string")


def test_unsupported_version(berth, bundle, cid):
    bundle.config["ociVersion"] = "2.0.0"
    bundle.write()
    fail_clean(berth, bundle, cid, ".ociVersion", "2.0.0")


def test_config_symlink_is_refused(berth, bundle, cid, tmp_path):
    bundle.write()
    real = tmp_path / "real.json"
    os.rename(bundle.config_path, real)
    os.symlink(real, bundle.config_path)
    fail_clean(berth, bundle, cid, "symbolic link")


def test_config_directory_is_refused(berth, bundle, cid):
    os.remove(bundle.config_path)
    os.mkdir(bundle.config_path)
    fail_clean(berth, bundle, cid, "config.json", "directory")


def test_config_fifo_is_refused(berth, bundle, cid):
    os.remove(bundle.config_path)
    os.mkfifo(bundle.config_path)
    fail_clean(berth, bundle, cid, "config.json", "not a regular file")


def test_missing_config(berth, bundle, cid):
    os.remove(bundle.config_path)
    fail_clean(berth, bundle, cid, "config.json not found")


def test_missing_bind_source(berth, bundle, cid):
    bundle.config["mounts"].append(
        {"destination": "/data", "type": "bind", "source": "/nonexistent/src", "options": ["bind"]})
    bundle.write()
    fail_clean(berth, bundle, cid, ".mounts[7]", "/nonexistent/src")


@pytest.mark.parametrize("cmd", ["create", "run"])
def test_bad_mount_type(berth, bundle, cid, cmd):
    bundle.config["mounts"].append({"destination": "/x", "type": "nosuchfs", "source": "none"})
    bundle.write()
    fail_clean(berth, bundle, cid, ".mounts[7]", cmd=cmd)


def test_cgroups_path_escaping(berth, bundle, cid):
    bundle.config["linux"]["cgroupsPath"] = "../../escape"
    bundle.write()
    fail_clean(berth, bundle, cid, ".linux.cgroupsPath")


def test_terminal_without_console_socket(berth, bundle, cid):
    bundle.config["process"]["terminal"] = True
    bundle.write()
    fail_clean(berth, bundle, cid, ".process.terminal", "--console-socket")


def test_unknown_signal(berth, bundle, cid):
    bundle.args("sleep", "100").write()
    berth.cmd("create", "-b", bundle.path, cid, check=True)
    p = berth.cmd("kill", cid, "SIGNOPE")
    assert p.returncode == 1 and 'unknown signal "SIGNOPE"' in p.stderr
    berth.cmd("delete", "-f", cid, check=True)


def test_huge_and_deep_json(berth, bundle, cid):
    with open(bundle.config_path, "w") as f:
        f.write('{"ociVersion": "1.0.0", "x": ' + "[" * 100000 + "]" * 100000 + "}")
    fail_clean(berth, bundle, cid, "nested deeper")


def _malformed_cases():
    """Every malformed config of libocispec's unit tests, now through the
    real command: kind|JSON path|document per line."""
    from conftest import REPO
    cases = []
    with open(os.path.join(REPO, "libocispec", "tests", "malformed.txt")) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            kind, path, doc = line.split("|", 2)
            cases.append(pytest.param(path, doc, id=f"{kind}:{path or 'json'}:{len(cases)}"))
    return cases


@pytest.mark.parametrize("path,doc", _malformed_cases())
def test_malformed_config(berth, bundle, cid, path, doc):
    with open(bundle.config_path, "w") as f:
        f.write(doc)
    line = fail_clean(berth, bundle, cid, "config.json")
    if path and path != ".":
        assert path in line, line


def test_notify_socket_that_is_not_a_socket(berth, bundle, cid, tmp_path):
    bundle.args("true").write()
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "nope.sock")}
    before = mounts_snapshot(bundle.path, berth.root)
    p = berth.cmd("create", "-b", bundle.path, cid, env=env)
    assert p.returncode == 1 and "NOTIFY_SOCKET" in p.stderr and "not a unix socket" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert berth.ids() == [] and not os.path.exists(os.path.join(berth.root, cid))
    assert mounts_snapshot(bundle.path, berth.root) == before


# ---- process.scheduler, ioPriority, execCPUAffinity, personality, labels -----

@pytest.mark.parametrize("section,key,value,path,words", [
    ("process", "scheduler", {"policy": "SCHED_NOPE"}, ".process.scheduler.policy",
     "SCHED_NOPE"),
    ("process", "scheduler", {"policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_NOPE"]},
     ".process.scheduler.flags[0]", "SCHED_FLAG_NOPE"),
    ("process", "scheduler", {"policy": "SCHED_RR", "priority": 100},
     ".process.scheduler.priority", "outside 1..99"),
    ("process", "scheduler", {"policy": "SCHED_OTHER", "priority": 5},
     ".process.scheduler.priority", "only for SCHED_FIFO and SCHED_RR"),
    ("process", "scheduler", {"policy": "SCHED_BATCH", "nice": 20},
     ".process.scheduler.nice", "outside -20..19"),
    ("process", "scheduler", {"policy": "SCHED_FIFO", "priority": 1, "runtime": 1000},
     ".process.scheduler.runtime", "only for SCHED_DEADLINE"),
    ("process", "ioPriority", {"class": "IOPRIO_CLASS_BE", "priority": 8},
     ".process.ioPriority.priority", "outside 0..7"),
    ("process", "ioPriority", {"class": "IOPRIO_CLASS_NOPE", "priority": 0},
     ".process.ioPriority.class", "IOPRIO_CLASS_NOPE"),
    ("process", "execCPUAffinity", {"initial": "0-x"}, ".process.execCPUAffinity.initial",
     '"0-x"'),
    ("process", "execCPUAffinity", {"final": "3-1"}, ".process.execCPUAffinity.final",
     "3-1"),
    ("linux", "personality", {"domain": "LINUX64"}, ".linux.personality.domain", "LINUX64"),
    ("linux", "personality", {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]},
     ".linux.personality.flags[0]", "ADDR_NO_RANDOMIZE"),
])
def test_bad_process_scheduling(berth, bundle, cid, section, key, value, path, words):
    bundle.config[section][key] = value
    bundle.write()
    fail_clean(berth, bundle, cid, f"config.json: {path}: ", words)


def test_fifo_without_a_realtime_budget(berth, bundle, cid):
    if not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        pytest.skip("no cgroup v1 real-time group scheduling on this host")
    # The init's own cgroup has cpu.rt_runtime_us 0: the kernel says EPERM.
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10}
    bundle.write()
    fail_clean(berth, bundle, cid, "config.json: .process.scheduler: ", "SCHED_FIFO",
               "real-time budget", "realtimeRuntime", "Operation not permitted")


def _enabled(path):
    try:
        with open(path) as f:
            return f.read(1) == "Y"
    except OSError:
        return False


@pytest.mark.parametrize("section,key,value,words", [
    ("process", "apparmorProfile", "berth-test", "AppArmor is not enabled on this host"),
    ("process", "selinuxLabel", "system_u:system_r:container_t:s0",
     "SELinux is not enabled on this host"),
    ("linux", "mountLabel", "system_u:object_r:container_file_t:s0",
     "SELinux is not enabled on this host"),
])
def test_label_the_host_cannot_honour(berth, bundle, cid, section, key, value, words):
    if "AppArmor" in words and _enabled("/sys/module/apparmor/parameters/enabled"):
        pytest.skip("AppArmor is enabled here")
    if "SELinux" in words and os.path.exists("/sys/fs/selinux/enforce"):
        pytest.skip("SELinux is enabled here")
    bundle.config[section][key] = value
    bundle.write()
    fail_clean(berth, bundle, cid, f"config.json: .{section}.{key}: ", words)
