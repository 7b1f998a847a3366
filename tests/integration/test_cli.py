"""The command line: version, help, spec, and runc's usage errors and statuses."""
import json
import re
import os
import subprocess

from conftest import BERTH


def run(*args, **kw):
    return subprocess.run([BERTH, *args], capture_output=True, text=True, timeout=30, **kw)


def test_version_names_spec():
    p = run("--version")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].startswith("berth version ")
    assert lines[1].startswith("commit: ")
    assert "spec: 1.3.0" in lines
    assert any(l.startswith("libseccomp: ") for l in lines)


def test_help_lists_every_command():
    p = run("--help")
    assert p.returncode == 0
    for cmd in ("create", "start", "run", "state", "kill", "delete", "list", "exec", "ps",
                "pause", "resume", "update", "events", "spec", "features", "check"):
        assert f"   {cmd} " in p.stdout, cmd
        h = run(cmd, "--help")
        assert h.returncode == 0 and h.stdout.startswith("Usage: berth " + cmd), cmd


def test_unknown_command_exits_3():
    p = run("frobnicate")
    assert p.returncode == 3
    assert "No help topic for 'frobnicate'" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_unknown_flags_exit_1():
    p = run("--bogus", "list")
    assert p.returncode == 1 and "--bogus" in p.stderr
    p = run("list", "--bogus")
    assert p.returncode == 1 and "--bogus" in p.stderr


def test_operand_count_message(tmp_path):
    p = run("--root", str(tmp_path), "state")
    assert p.returncode == 1
    assert '"state" requires exactly 1 argument(s)' in p.stderr


def test_json_log_format(tmp_path):
    log = tmp_path / "log.json"
    p = run("--root", str(tmp_path), "--log", str(log), "--log-format", "json", "state", "nope")
    assert p.returncode == 1
    assert "container does not exist" in p.stderr
    lines = log.read_text().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "error" and entry["msg"] == "container does not exist"
    assert entry["time"].endswith("Z") and "T" in entry["time"]


LOGFMT = re.compile(r'time="[^"]+" level=(\w+) msg="((?:[^"\\]|\\.)*)"$')


def test_text_log_is_logfmt(runtime, bundle, cid, tmp_path):
    """With --log-format text each line is logrus' logfmt: a message that
    holds quotes or a newline is escaped, so the line still parses."""
    log = tmp_path / "log.txt"
    bundle.args('no"such\nprogram').write()
    p = runtime.cmd("run", "-b", bundle.path, cid,
                    globals_=("--log", str(log), "--log-format", "text"))
    assert p.returncode != 0
    lines = log.read_text().splitlines()
    assert any("level=error" in l for l in lines), lines
    for line in lines:
        m = LOGFMT.match(line)
        assert m, f"not logfmt: {line}"
        if m.group(1) == "error":
            msg = re.sub(r'\\(.)', lambda e: {"n": "\n"}.get(e.group(1), e.group(1)),
                         m.group(2))
            assert 'no' in msg and 'such' in msg and "program" in msg, msg
    assert runtime.ids() == []


def test_spec_matches_runc_fields(tmp_path):
    p = run("spec", "-b", str(tmp_path))
    assert p.returncode == 0
    ours = json.loads((tmp_path / "config.json").read_text())
    assert ours["ociVersion"] == "1.3.0"
    # berth's spec follows runc 1.1.5 as Debian 12 ships it on the host; the
    # VM tier's guest installs runc from the mirror when its image is built,
    # which may be a later Debian update (more masked paths).
    if os.path.exists("/usr/sbin/runc") and not os.environ.get("BERTH_VM_DRIVER"):
        ref = tmp_path / "runc"
        ref.mkdir()
        subprocess.run(["/usr/sbin/runc", "spec", "-b", str(ref)], check=True)
        theirs = json.loads((ref / "config.json").read_text())
        for doc in (ours, theirs):
            doc.pop("ociVersion")
            doc.pop("hostname")
        assert ours == theirs


def test_spec_rootless_maps_the_caller(tmp_path):
    p = run("spec", "--rootless", "-b", str(tmp_path))
    assert p.returncode == 0
    c = json.loads((tmp_path / "config.json").read_text())
    types = [n["type"] for n in c["linux"]["namespaces"]]
    assert "user" in types and "network" not in types
    assert c["linux"]["uidMappings"] == [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]


def test_spec_refuses_to_overwrite(tmp_path):
    (tmp_path / "config.json").write_text("keep me")
    p = run("spec", "-b", str(tmp_path))
    assert p.returncode == 1
    assert "exists" in p.stderr
    assert (tmp_path / "config.json").read_text() == "keep me"


def test_spec_output_runs_under_runc(tmp_path, rootfs_template):
    """berth spec's config is a valid bundle for runc too."""
    import shutil
    if not os.path.exists("/usr/sbin/runc"):
        import pytest
        pytest.skip("runc is not installed")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    subprocess.run(["cp", "-al", rootfs_template, str(bundle / "rootfs")], check=True)
    assert run("spec", "-b", str(bundle)).returncode == 0
    c = json.loads((bundle / "config.json").read_text())
    c["process"]["terminal"] = False
    c["process"]["args"] = ["sh", "-c", "echo runc-ok"]
    (bundle / "config.json").write_text(json.dumps(c))
    root = tmp_path / "runc-root"
    p = subprocess.run(["/usr/sbin/runc", "--root", str(root), "run", "-b", str(bundle),
                        f"berth-spec-{os.getpid()}"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "runc-ok"


def test_features_document():
    p = run("features")
    assert p.returncode == 0, p.stderr
    f = json.loads(p.stdout)
    assert f["ociVersionMin"] == "1.0.0" and f["ociVersionMax"] == "1.3.0"
    assert f["hooks"] == ["prestart", "createRuntime", "createContainer", "startContainer",
                          "poststart", "poststop"]
    assert {"rbind", "ro", "nosuid", "rro", "rslave"} <= set(f["mountOptions"])
    lx = f["linux"]
    assert sorted(lx["namespaces"]) == ["cgroup", "ipc", "mount", "network", "pid", "time",
                                        "user", "uts"]
    assert "CAP_SYS_ADMIN" in lx["capabilities"] and "CAP_CHECKPOINT_RESTORE" in lx["capabilities"]
    assert lx["cgroup"]["v1"] and lx["cgroup"]["v2"]
    assert "SCMP_ARCH_X86_64" in lx["seccomp"]["archs"]
    assert lx["apparmor"] == {"enabled": True} and lx["selinux"] == {"enabled": True}


def test_features_lists_what_the_rules_accept(berth, bundle):
    """features lists come from the tables create and check use: every name
    it offers passes `berth check` at its property, and a flag it knows but
    does not list as supported is refused."""
    f = json.loads(run("features").stdout)
    sc = f["linux"]["seccomp"]
    c = bundle.config
    c["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/berth-test-agent.sock",
        "architectures": sc["archs"], "flags": sc["supportedFlags"],
        "syscalls": [{"names": ["getpid"], "action": a} for a in sc["actions"]]
        + [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 1, "op": o} for o in sc["operators"]]}]}
    have = {n["type"] for n in c["linux"]["namespaces"]}
    c["linux"]["namespaces"] += [{"type": t} for t in f["linux"]["namespaces"] if t not in have]

    def errors():
        bundle.write()
        q = berth.cmd("check", "-b", bundle.path, "--format", "json")
        return [e["path"] for e in json.loads(q.stdout)["errors"]]

    assert not [p for p in errors() if p.startswith((".linux.seccomp", ".linux.namespaces"))]
    for mode in f["linux"]["memoryPolicy"]["modes"]:
        c["linux"]["memoryPolicy"] = {"mode": mode,
                                      "flags": f["linux"]["memoryPolicy"]["flags"]}
        bad = [p for p in errors() if p.startswith(".linux.memoryPolicy.")]
        assert not [p for p in bad if p == ".linux.memoryPolicy.mode"
                    or p.startswith(".linux.memoryPolicy.flags")], (mode, bad)
    del c["linux"]["memoryPolicy"]
    for flag in set(sc["knownFlags"]) - set(sc["supportedFlags"]):
        c["linux"]["seccomp"]["flags"] = [flag]
        assert ".linux.seccomp.flags[0]" in errors(), flag
