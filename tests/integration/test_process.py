"""The process' scheduling, I/O priority, CPU affinity and personality, seen
from inside real containers: process.scheduler, process.ioPriority,
process.execCPUAffinity and linux.personality, for the init and for exec.
(Bad values, and the labels this host cannot honour: test_bad_input.py.)"""
import json
import os
import subprocess

import pytest

RT_BUDGET_FILE = "/sys/fs/cgroup/cpu/cpu.rt_runtime_us"  # v1 with RT group scheduling


def stat_of(out):
    """Fields of a /proc/PID/stat line by proc(5)'s 1-based numbers."""
    rest = out.strip().rsplit(")", 1)[1].split()
    fields = {i + 3: v for i, v in enumerate(rest)}
    return {"priority": int(fields[18]), "nice": int(fields[19]),
            "rt_priority": int(fields[40]), "policy": int(fields[41])}


def run(berth, bundle, cid):
    p = berth.cmd("run", "-b", bundle.path, cid)
    assert p.returncode == 0, p.stderr
    return p.stdout


def own_stat(berth, bundle, cid):
    # cat is the container's process itself (no shell forks it), so its
    # stat shows what the runtime set before execve.
    bundle.args("cat", "/proc/self/stat").write()
    return stat_of(run(berth, bundle, cid))


# ---- linux.personality ---------------------------------------------------------


@pytest.mark.parametrize("domain,want", [("LINUX32", "00000008"), ("LINUX", "00000000")])
def test_personality(berth, bundle, cid, domain, want):
    bundle.config["linux"]["personality"] = {"domain": domain}
    bundle.args("cat", "/proc/self/personality").write()
    assert run(berth, bundle, cid).strip() == want


def test_no_personality_is_the_default(berth, bundle, cid):
    bundle.args("cat", "/proc/self/personality").write()
    assert run(berth, bundle, cid).strip() == "00000000"


# ---- process.scheduler --------------------------------------------------------


def test_scheduler_batch_with_nice(berth, bundle, cid):
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_BATCH", "nice": 7}
    s = own_stat(berth, bundle, cid)
    assert (s["policy"], s["nice"], s["priority"]) == (3, 7, 27), s


def test_scheduler_idle(berth, bundle, cid):
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_IDLE"}
    assert own_stat(berth, bundle, cid)["policy"] == 5


def test_scheduler_fifo(berth, bundle, cid):
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10}
    if os.path.exists(RT_BUDGET_FILE):
        # Without a budget of its own the container's cpu cgroup may not run
        # real-time tasks (test_bad_input has that case).
        bundle.config["linux"]["resources"]["cpu"] = {"realtimeRuntime": 10000,
                                                      "realtimePeriod": 1000000}
    s = own_stat(berth, bundle, cid)
    assert (s["policy"], s["rt_priority"], s["priority"]) == (1, 10, -11), s


def test_scheduler_deadline(berth, bundle, cid):
    # runc's bats test values (tests/integration/scheduler.bats).
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_DEADLINE", "runtime": 42000,
                                             "deadline": 1000000, "period": 1000000}
    s = own_stat(berth, bundle, cid)
    assert (s["policy"], s["priority"]) == (6, -101), s


def test_no_scheduler_is_the_default(berth, bundle, cid):
    s = own_stat(berth, bundle, cid)
    assert (s["policy"], s["nice"]) == (0, 0), s


# ---- process.ioPriority -------------------------------------------------------


@pytest.mark.parametrize("cls,prio,want", [
    ("IOPRIO_CLASS_BE", 6, "best-effort: prio 6"),
    ("IOPRIO_CLASS_RT", 3, "realtime: prio 3"),
    ("IOPRIO_CLASS_IDLE", 0, "idle"),
])
def test_io_priority(berth, bundle, cid, cls, prio, want):
    bundle.config["process"]["ioPriority"] = {"class": cls, "priority": prio}
    bundle.args("ionice").write()
    assert run(berth, bundle, cid).strip() == want


# ---- execCPUAffinity, and exec ------------------------------------------------


def needs_two_cpus():
    if len(os.sched_getaffinity(0)) < 2 or not {0, 1} <= os.sched_getaffinity(0):
        pytest.skip("needs CPUs 0 and 1")


def cpus_allowed(out):
    line = [l for l in out.splitlines() if l.startswith("Cpus_allowed_list:")]
    assert len(line) == 1, out
    return line[0].split(":", 1)[1].strip()


def cpu_set(text):
    """{0, 1, 3} from "0-1,3"."""
    cpus = set()
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def start(berth, bundle, cid):
    bundle.args("sleep", "1000").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)


def test_exec_cpu_affinity_initial_and_final(berth, bundle, cid, tmp_path):
    needs_two_cpus()
    # The init ignores execCPUAffinity (config.md): it keeps berth's.
    bundle.config["process"]["execCPUAffinity"] = {"initial": "0"}
    start(berth, bundle, cid)
    init = berth.state(cid)["pid"]
    with open(f"/proc/{init}/status") as f:
        init_cpus = cpus_allowed(f.read())
    assert cpu_set(init_cpus) == os.sched_getaffinity(0)
    # initial alone: berth changes nothing after the move into the cgroup
    # (config.md: the kernel decides).  Moving to another cpuset resets the
    # affinity to the cpuset's CPUs on v2, and on v1 too before Linux 6.2,
    # which made the kernel keep a mask set with sched_setaffinity.
    p = berth.cmd("exec", cid, "grep", "Cpus_allowed_list", "/proc/self/status")
    assert p.returncode == 0, p.stderr
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    kernel = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    kept = not v2 and kernel >= (6, 2)
    assert cpus_allowed(p.stdout) in (("0",) if kept else ("0", init_cpus)), p.stdout
    # final wins once the process is in the container's cgroup.
    proc = dict(bundle.config["process"])
    proc["args"] = ["grep", "Cpus_allowed_list", "/proc/self/status"]
    proc["execCPUAffinity"] = {"initial": "0", "final": "1"}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    p = berth.cmd("exec", "-p", str(path), cid)
    assert p.returncode == 0 and cpus_allowed(p.stdout) == "1", p.stdout + p.stderr
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_without_affinity_does_not_inherit_berths(berth, bundle, cid):
    needs_two_cpus()
    start(berth, bundle, cid)
    argv = ["taskset", "-c", "1", berth.binary, "--root", berth.root, "exec", cid,
            "grep", "Cpus_allowed_list", "/proc/self/status"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # runc resets it to every CPU the cgroup allows: here, every online one.
    with open("/sys/devices/system/cpu/online") as f:
        online = cpu_set(f.read())
    assert cpu_set(cpus_allowed(p.stdout)) == online, p.stdout
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_scheduler_io_priority_and_personality(berth, bundle, cid, tmp_path):
    bundle.config["linux"]["personality"] = {"domain": "LINUX32"}
    start(berth, bundle, cid)
    proc = dict(bundle.config["process"])
    proc["args"] = ["cat", "/proc/self/stat"]
    proc["scheduler"] = {"policy": "SCHED_BATCH", "nice": 5}
    proc["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    p = berth.cmd("exec", "-p", str(path), cid)
    assert p.returncode == 0, p.stderr
    s = stat_of(p.stdout)
    assert (s["policy"], s["nice"]) == (3, 5), s
    proc["args"] = ["ionice"]
    path.write_text(json.dumps(proc))
    p = berth.cmd("exec", "-p", str(path), cid)
    assert p.returncode == 0 and p.stdout.strip() == "best-effort: prio 6", p.stdout + p.stderr
    # linux.personality applies to exec'd processes too, as in runc.
    p = berth.cmd("exec", cid, "cat", "/proc/self/personality")
    assert p.returncode == 0 and p.stdout.strip() == "00000008", p.stdout + p.stderr
    berth.cmd("delete", "-f", cid, check=True)


@pytest.mark.parametrize("change,path,words", [
    ({"scheduler": {"policy": "SCHED_NOPE"}}, ".scheduler.policy", "SCHED_NOPE"),
    ({"scheduler": {"policy": "SCHED_OTHER", "priority": 3}}, ".scheduler.priority",
     "only for SCHED_FIFO and SCHED_RR"),
    ({"ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 8}}, ".ioPriority.priority",
     "outside 0..7"),
    ({"execCPUAffinity": {"final": "1-0"}}, ".execCPUAffinity.final", "1-0"),
])
def test_exec_bad_process_json(berth, bundle, cid, tmp_path, change, path, words):
    start(berth, bundle, cid)
    proc = dict(bundle.config["process"], args=["true"], **change)
    f = tmp_path / "process.json"
    f.write_text(json.dumps(proc))
    p = berth.cmd("exec", "-p", str(f), cid)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 255 and len(lines) == 1, p.stderr
    assert f"process.json: {path}: " in lines[0] and words in lines[0], lines[0]
    assert berth.state(cid)["status"] == "running"
    berth.cmd("delete", "-f", cid, check=True)


def test_exec_rr_without_a_realtime_budget(berth, bundle, cid, tmp_path):
    if not os.path.exists(RT_BUDGET_FILE):
        pytest.skip("no cgroup v1 real-time group scheduling on this host")
    start(berth, bundle, cid)
    proc = dict(bundle.config["process"], args=["true"],
                scheduler={"policy": "SCHED_RR", "priority": 5})
    f = tmp_path / "process.json"
    f.write_text(json.dumps(proc))
    p = berth.cmd("exec", "-p", str(f), cid)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 255 and len(lines) == 1, p.stderr
    assert lines[0].startswith("berth: process.json: .scheduler: ") and \
        "real-time budget" in lines[0], lines[0]
    assert berth.cmd("ps", cid).stdout.count("\n") <= 2  # header and the init only
    berth.cmd("delete", "-f", cid, check=True)


def apparmor_enabled():
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return f.read().strip() == "Y"
    except OSError:
        return False


@pytest.mark.vm
@pytest.mark.skipif(not apparmor_enabled(), reason="AppArmor is not enabled on this host "
                    "(the refusal is tested in test_bad_input.py)")
def test_apparmor_profile_applied_to_init_and_exec(berth, bundle, cid, tmp_path):
    # "unconfined" exists wherever AppArmor does, with no profile loaded:
    # the write to attr/apparmor/exec and the transition at execve are real.
    bundle.config["process"]["apparmorProfile"] = "unconfined"
    bundle.args("sleep", "100").write()
    berth.cmd("run", "-d", "-b", bundle.path, cid, check=True)
    init = berth.state(cid)["pid"]
    with open(f"/proc/{init}/attr/current") as f:
        assert f.read().strip() == "unconfined"
    p = berth.cmd("exec", "--apparmor", "unconfined", cid, "cat", "/proc/self/attr/current")
    assert p.returncode == 0 and p.stdout.strip() == "unconfined", p.stdout + p.stderr
    # A profile the kernel does not know fails exec with one clear line.
    p = berth.cmd("exec", "--apparmor", "berth-no-such-profile", cid, "true")
    assert p.returncode == 255 and "berth-no-such-profile" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    berth.cmd("delete", "-f", cid, check=True)
