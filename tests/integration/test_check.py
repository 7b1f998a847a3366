"""berth check: every problem of a bundle at once, each with its JSON path;
exit status 0 when there is no error (warnings allowed), 1 otherwise."""
import json
import os

import pytest

from conftest import SYSTEMD_DRIVER


def check(berth, bundle, *args):
    return berth.cmd("check", "-b", bundle.path, *args)


def problem_lines(out, severity):
    return [l for l in out.splitlines() if l.startswith(severity + ": ")]


def ns_index(config, type_):
    for i, n in enumerate(config["linux"]["namespaces"]):
        if n["type"] == type_:
            return i
    raise KeyError(type_)


def break_in_many_ways(bundle):
    """Ten errors and one warning, in different parts of the config, none
    of which depends on the host's cgroups or kernel build."""
    c = bundle.config
    c["process"]["cwd"] = "relative"
    c["process"]["rlimits"].append({"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1})
    c["process"]["scheduler"] = {"policy": "SCHED_OTHER", "priority": 5}
    c["process"]["capabilities"]["bounding"].append("CAP_NO_SUCH_THING")
    c["mounts"].append({"destination": "/data", "type": "bind", "source": "/nonexistent/src",
                        "options": ["rbind"]})
    c["linux"]["namespaces"][ns_index(c, "network")]["path"] = "/etc/hostname"
    c["linux"]["namespaces"][ns_index(c, "ipc")]["path"] = "/proc/self/ns/net"
    c["linux"]["sysctl"] = {"kernel.pid_max": "100000"}
    c["linux"]["cgroupsPath"] = "../../elsewhere"
    c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                             "architectures": ["SCMP_ARCH_PDP11"]}
    del c["linux"]["namespaces"][ns_index(c, "uts")]  # but hostname stays set
    bundle.write()
    mounts = len(c["mounts"]) - 1
    return {
        ".process.cwd": "must be an absolute path",
        ".process.rlimits[1].type": 'unknown rlimit type "RLIMIT_BOGUS"',
        ".process.scheduler.priority": "only for SCHED_FIFO and SCHED_RR",
        f".mounts[{mounts}].source": "/nonexistent/src does not exist",
        f".linux.namespaces[{ns_index(c, 'network')}].path": "/etc/hostname is not a namespace",
        f".linux.namespaces[{ns_index(c, 'ipc')}].path":
            '/proc/self/ns/net is not a ipc namespace (it is network)',
        '.linux.sysctl["kernel.pid_max"]': "not namespaced",
        ".linux.seccomp.architectures[0]": 'unknown architecture "SCMP_ARCH_PDP11"',
        ".hostname": "UTS namespace",
        ".linux.cgroupsPath": 'is not of the form "slice:prefix:name"' if SYSTEMD_DRIVER
        else "climbs out of its base cgroup",
    }, {
        f".process.capabilities.bounding[{len(c['process']['capabilities']['bounding']) - 1}]":
            'unknown capability "CAP_NO_SUCH_THING"',
    }


def test_clean_bundle(berth, bundle):
    bundle.write()
    p = check(berth, bundle)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines()[-1] == "0 errors, 0 warnings", p.stdout
    assert p.stderr == ""


def test_every_problem_at_once(berth, bundle):
    errors, warnings = break_in_many_ways(bundle)
    p = check(berth, bundle)
    assert p.returncode == 1, p.stdout + p.stderr
    lines = problem_lines(p.stdout, "error")
    for path, words in errors.items():
        mine = [l for l in lines if l.startswith(f"error: config.json: {path}: ")]
        assert len(mine) == 1, f"{path}: {p.stdout}"
        assert words in mine[0], mine[0]
    for path, words in warnings.items():
        assert any(l.startswith(f"warning: config.json: {path}: ") and words in l
                   for l in problem_lines(p.stdout, "warning")), p.stdout
    n_err, n_warn = len(lines), len(problem_lines(p.stdout, "warning"))
    assert n_err >= len(errors)
    assert p.stdout.splitlines()[-1] == f"{n_err} errors, {n_warn} warning" + \
        ("" if n_warn == 1 else "s"), p.stdout


def test_process_scheduling_and_labels(berth, bundle):
    """The properties create checks with process_check, each reported on its
    own, with create's wording; supported values are no problem."""
    c = bundle.config
    c["process"]["scheduler"] = {"policy": "SCHED_RR", "priority": 100}
    c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 9}
    c["process"]["execCPUAffinity"] = {"initial": "x", "final": "2-1"}
    c["linux"]["personality"] = {"domain": "LINUX", "flags": ["SHORT_INODE"]}
    want = {
        ".process.scheduler.priority": "outside 1..99",
        ".process.ioPriority.priority": "outside 0..7",
        ".process.execCPUAffinity.initial": '"x"',
        ".process.execCPUAffinity.final": "2-1",
        ".linux.personality.flags[0]": "SHORT_INODE",
    }
    if not os.path.exists("/sys/module/apparmor"):
        c["process"]["apparmorProfile"] = "berth-test"
        want[".process.apparmorProfile"] = "AppArmor is not enabled on this host"
    if not os.path.exists("/sys/fs/selinux/enforce"):
        c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"
        want[".linux.mountLabel"] = "SELinux is not enabled on this host"
    bundle.write()
    p = check(berth, bundle)
    assert p.returncode == 1, p.stdout + p.stderr
    lines = problem_lines(p.stdout, "error")
    for path, words in want.items():
        mine = [l for l in lines if l.startswith(f"error: config.json: {path}: ")]
        assert len(mine) == 1 and words in mine[0], f"{path}: {p.stdout}"
    assert len(lines) == len(want), p.stdout

    c["process"]["scheduler"] = {"policy": "SCHED_BATCH", "nice": 5}
    c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}
    c["process"]["execCPUAffinity"] = {"initial": "0", "final": "0-1"}
    c["linux"]["personality"] = {"domain": "LINUX32"}
    c["process"].pop("apparmorProfile", None)
    c["linux"].pop("mountLabel", None)
    bundle.write()
    p = check(berth, bundle)
    assert p.returncode == 0 and p.stdout.splitlines()[-1] == "0 errors, 0 warnings", p.stdout


def test_create_stops_at_one_of_them(berth, bundle, cid):
    """check lists what create would stop on (create names only the first)."""
    errors, _ = break_in_many_ways(bundle)
    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1
    assert any(path in p.stderr for path in errors), p.stderr


def test_json_format(berth, bundle):
    errors, warnings = break_in_many_ways(bundle)
    p = check(berth, bundle, "--format", "json")
    assert p.returncode == 1, p.stderr
    report = json.loads(p.stdout)
    assert set(report) == {"errors", "warnings"}
    for item in report["errors"] + report["warnings"]:
        assert set(item) == {"path", "message", "kind"}
        assert isinstance(item["message"], str) and item["message"]
    by_path = {e["path"]: e["message"] for e in report["errors"]}
    for path, words in errors.items():
        assert words in by_path[path], (path, by_path.get(path))
        assert not by_path[path].startswith(path)  # the path is not repeated
    assert {w["path"] for w in report["warnings"]} >= set(warnings)
    # Same problems as the text report, in the same numbers.
    text = check(berth, bundle).stdout
    assert len(report["errors"]) == len(problem_lines(text, "error"))
    assert len(report["warnings"]) == len(problem_lines(text, "warning"))


def test_warnings_only(berth, bundle):
    c = bundle.config
    c["process"]["capabilities"]["effective"].append("CAP_NOT_A_CAP")
    c["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getpid", "no_such_syscall_42"], "action": "SCMP_ACT_ERRNO"}],
    }
    bundle.write()
    p = check(berth, bundle)
    assert p.returncode == 0, p.stdout
    warnings = problem_lines(p.stdout, "warning")
    assert len(warnings) == 2, p.stdout
    assert any(".process.capabilities.effective[" in w and "CAP_NOT_A_CAP" in w for w in warnings)
    assert any(".linux.seccomp.syscalls[0].names[1]" in w and "no_such_syscall_42" in w
               for w in warnings)
    assert problem_lines(p.stdout, "error") == []
    assert p.stdout.splitlines()[-1] == "0 errors, 2 warnings"
    report = json.loads(check(berth, bundle, "-f", "json").stdout)
    assert report["errors"] == [] and len(report["warnings"]) == 2


def test_parse_error_is_the_only_problem(berth, bundle):
    """A type error ends the parse: there is no config to check further."""
    bundle.config["root"]["path"] = 5
    bundle.config["process"]["cwd"] = "relative"
    bundle.write()
    p = check(berth, bundle)
    assert p.returncode == 1
    assert p.stdout.splitlines() == [
        "error: config.json: .root.path: expected string, got number", "1 error, 0 warnings"]


def test_missing_bundle_and_bad_flags(berth, tmp_path):
    p = berth.cmd("check", "-b", str(tmp_path / "nope"))
    assert p.returncode == 1
    assert p.stdout.startswith("error: bundle ") and "No such file" in p.stdout
    p = berth.cmd("check", "-b", str(tmp_path))
    assert p.returncode == 1 and "config.json" in p.stdout
    p = berth.cmd("check", "--format", "yaml")
    assert p.returncode == 1 and 'invalid format "yaml"' in p.stderr


@pytest.mark.skipif(os.path.isdir("/sys/fs/cgroup/net_cls"),
                    reason="this host has the net_cls controller")
def test_missing_cgroup_controller(berth, bundle):
    bundle.config["linux"].setdefault("resources", {})["network"] = {"classID": 7}
    bundle.write()
    p = check(berth, bundle)
    assert p.returncode == 1
    assert "error: config.json: .linux.resources.network.classID: needs the net_cls controller" \
        in p.stdout, p.stdout


@pytest.mark.parametrize("path,says", [
    ("machine", 'is not of the form "slice:prefix:name"'),
    ("a--b.slice:berth:x", '"a--b.slice" is not a slice name'),
    ("system.slice:berth:", "the unit name (its third part) is empty"),
])
def test_systemd_cgroups_path_form(berth, bundle, path, says):
    bundle.config["linux"]["cgroupsPath"] = path
    bundle.write()
    p = berth.cmd("check", "-b", bundle.path, globals_=("--systemd-cgroup",))
    assert p.returncode == 1
    errors = problem_lines(p.stdout, "error")
    assert any(".linux.cgroupsPath" in l and says in l for l in errors), p.stdout
    # The same path is refused by create before anything is started.
    p = berth.cmd("create", "-b", bundle.path, "bt-sd-form", globals_=("--systemd-cgroup",))
    assert p.returncode == 1 and says in p.stderr, p.stderr
    assert berth.ids() == []
