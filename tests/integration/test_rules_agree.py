"""create and check agree: for each single-fault bundle below, `berth create`
refuses it (leaving nothing behind) and names a JSON path, and `berth check`
reports an error at that same path.

Each case is one small mutation of the default test config, one rule each,
so that a rule living in one of the two paths and not the other (a drift)
shows up here: create refuses what check calls clean, or the two name
different properties.  Host-dependent rules (the rootfs, the program,
bind sources, namespace paths) are covered as far as this host decides
them the same way for both.  Unknown capabilities are no case: create
skips them with a warning (config.md), and check warns."""
import json
import re

import pytest


def ns_index(c, type_):
    return [n["type"] for n in c["linux"]["namespaces"]].index(type_)


def drop_ns(c, type_):
    del c["linux"]["namespaces"][ns_index(c, type_)]


def seccomp(c, **kw):
    c["linux"]["seccomp"] = dict({"defaultAction": "SCMP_ACT_ALLOW"}, **kw)


def notify(names, listener=True):
    def mutate(c):
        seccomp(c, syscalls=[{"names": names, "action": "SCMP_ACT_NOTIFY"}],
                **({"listenerPath": "/run/berth-test-agent.sock"} if listener else {}))
    return mutate


def add_mount(m):
    def mutate(c):
        c["mounts"].append(m)
    return mutate


def last_mount(c):
    return len(c["mounts"]) - 1


def rlimit(c, **kw):
    c["process"].setdefault("rlimits", []).append(dict({"hard": 1, "soft": 1}, **kw))
    return len(c["process"]["rlimits"]) - 1


def hook(kind, **h):
    def mutate(c):
        c.setdefault("hooks", {})[kind] = [dict({"path": "/bin/true"}, **h)]
    return mutate


# (id, mutation, expected path or a function of the mutated config)
CASES = [
    # the document
    ("version", lambda c: c.update(ociVersion="2.0.0"), ".ociVersion"),
    ("root-path-empty", lambda c: c["root"].update(path=""), ".root.path"),
    # the rootfs (rootfs_resolve)
    ("rootfs-missing", lambda c: c["root"].update(path="/nonexistent/rootfs"), ".root.path"),
    ("rootfs-not-a-directory", lambda c: c["root"].update(path="/etc/hostname"), ".root.path"),
    # process
    ("cwd-relative", lambda c: c["process"].update(cwd="relative"), ".process.cwd"),
    ("args-empty", lambda c: c["process"].update(args=[]), ".process.args"),
    ("rlimit-unknown", lambda c: rlimit(c, type="RLIMIT_BOGUS"),
     lambda c: f".process.rlimits[{len(c['process']['rlimits']) - 1}].type"),
    ("rlimit-duplicate", lambda c: rlimit(c, type=c["process"]["rlimits"][0]["type"]),
     lambda c: f".process.rlimits[{len(c['process']['rlimits']) - 1}].type"),
    ("rlimit-soft-above-hard", lambda c: rlimit(c, type="RLIMIT_CORE", soft=2, hard=1),
     lambda c: f".process.rlimits[{len(c['process']['rlimits']) - 1}].soft"),
    ("oom-score-adj", lambda c: c["process"].update(oomScoreAdj=2000), ".process.oomScoreAdj"),
    ("scheduler-policy", lambda c: c["process"].update(scheduler={"policy": "SCHED_BOGUS"}),
     ".process.scheduler.policy"),
    ("scheduler-flag", lambda c: c["process"].update(
        scheduler={"policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_BOGUS"]}),
     ".process.scheduler.flags[0]"),
    ("scheduler-priority", lambda c: c["process"].update(
        scheduler={"policy": "SCHED_OTHER", "priority": 5}), ".process.scheduler.priority"),
    ("ioprio-class", lambda c: c["process"].update(
        ioPriority={"class": "IOPRIO_CLASS_BOGUS", "priority": 0}), ".process.ioPriority.class"),
    ("ioprio-priority", lambda c: c["process"].update(
        ioPriority={"class": "IOPRIO_CLASS_BE", "priority": 9}), ".process.ioPriority.priority"),
    # the program (process_find_program_with)
    ("program-not-found", lambda c: c["process"].update(args=["no-such-program"]),
     ".process.args[0]"),
    ("program-path-missing", lambda c: c["process"].update(args=["/bin/nope"]),
     ".process.args[0]"),
    ("program-not-executable", lambda c: c["process"].update(args=["/tmp"]),
     ".process.args[0]"),
    ("program-name-empty", lambda c: c["process"].update(args=[""]), ".process.args[0]"),
    ("cpu-affinity", lambda c: c["process"].update(execCPUAffinity={"initial": "x"}),
     ".process.execCPUAffinity.initial"),
    # hooks
    ("hook-relative", hook("prestart", path="bin/true"), ".hooks.prestart[0].path"),
    ("hook-timeout", hook("poststop", timeout=0), ".hooks.poststop[0].timeout"),
    ("hook-relative-createContainer", hook("createContainer", path="true"),
     ".hooks.createContainer[0].path"),
    # namespaces
    ("ns-unknown", lambda c: c["linux"]["namespaces"].append({"type": "bogus"}),
     lambda c: f".linux.namespaces[{len(c['linux']['namespaces']) - 1}].type"),
    ("ns-duplicate", lambda c: c["linux"]["namespaces"].append({"type": "pid"}),
     lambda c: f".linux.namespaces[{len(c['linux']['namespaces']) - 1}].type"),
    ("ns-path-relative", lambda c: c["linux"]["namespaces"][ns_index(c, "ipc")].update(
        path="proc/1/ns/ipc"), lambda c: f".linux.namespaces[{ns_index(c, 'ipc')}].path"),
    ("ns-path-missing", lambda c: c["linux"]["namespaces"][ns_index(c, "network")].update(
        path="/nonexistent/ns"), lambda c: f".linux.namespaces[{ns_index(c, 'network')}].path"),
    ("ns-path-wrong-type", lambda c: c["linux"]["namespaces"][ns_index(c, "network")].update(
        path="/proc/self/ns/ipc"), lambda c: f".linux.namespaces[{ns_index(c, 'network')}].path"),
    ("ns-path-not-a-namespace", lambda c: c["linux"]["namespaces"][ns_index(c, "ipc")].update(
        path="/etc/hostname"), lambda c: f".linux.namespaces[{ns_index(c, 'ipc')}].path"),
    ("hostname-without-uts", lambda c: drop_ns(c, "uts"), ".hostname"),
    ("domainname-without-uts", lambda c: (drop_ns(c, "uts"), c.pop("hostname"),
                                          c.update(domainname="example.org")), ".domainname"),
    # ids
    ("uid-mappings-without-userns", lambda c: c["linux"].update(
        uidMappings=[{"containerID": 0, "hostID": 100000, "size": 1}]), ".linux.uidMappings"),
    ("gid-mappings-without-userns", lambda c: c["linux"].update(
        gidMappings=[{"containerID": 0, "hostID": 100000, "size": 1}]), ".linux.gidMappings"),
    ("mount-uid-mappings-without-gid", add_mount({
        "destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["rbind", "idmap"],
        "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 1}]}),
     lambda c: f".mounts[{last_mount(c)}].gidMappings"),
    ("mount-gid-mappings-without-uid", add_mount({
        "destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["rbind"],
        "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 1}]}),
     lambda c: f".mounts[{last_mount(c)}].uidMappings"),
    ("idmap-without-userns", add_mount({"destination": "/mnt", "type": "bind", "source": "/tmp",
                                        "options": ["rbind", "idmap"]}),
     lambda c: f".mounts[{last_mount(c)}].options[1]"),
    ("idmap-crun-spelling", add_mount({"destination": "/mnt", "type": "bind", "source": "/tmp",
                                       "options": ["bind", "idmap=uids=0-1-10;gids=0-1-10"]}),
     lambda c: f".mounts[{last_mount(c)}].options[1]"),
    ("mount-mappings-not-bind", add_mount({
        "destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
        "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 1}]}),
     lambda c: f".mounts[{last_mount(c)}].uidMappings"),
    # devices
    ("device-type", lambda c: c["linux"].update(devices=[{"path": "/dev/x", "type": "x"}]),
     ".linux.devices[0].type"),
    ("device-no-major", lambda c: c["linux"].update(
        devices=[{"path": "/dev/x", "type": "c", "minor": 1}]), ".linux.devices[0].major"),
    ("device-path-relative", lambda c: c["linux"].update(
        devices=[{"path": "dev/x", "type": "c", "major": 1, "minor": 3}]),
     ".linux.devices[0].path"),
    # resources
    ("cgroup-device-type", lambda c: c["linux"]["resources"]["devices"].append(
        {"allow": True, "type": "z"}),
     lambda c: f".linux.resources.devices[{len(c['linux']['resources']['devices']) - 1}].type"),
    ("cgroup-device-access", lambda c: c["linux"]["resources"]["devices"].append(
        {"allow": True, "type": "c", "access": "rwx"}),
     lambda c: f".linux.resources.devices[{len(c['linux']['resources']['devices']) - 1}]"
     ".access"),
    ("cgroups-path-escapes", lambda c: c["linux"].update(cgroupsPath="../../elsewhere"),
     ".linux.cgroupsPath"),
    ("intel-rdt", lambda c: c["linux"].update(intelRdt={"closID": "x"}), ".linux.intelRdt"),
    # linux, other
    ("rootfs-propagation", lambda c: c["linux"].update(rootfsPropagation="bogus"),
     ".linux.rootfsPropagation"),
    ("time-offset-clock", lambda c: (c["linux"]["namespaces"].append({"type": "time"}),
                                     c["linux"].update(timeOffsets={"bogus": {"secs": 1}})),
     ".linux.timeOffsets.bogus"),
    ("personality-domain", lambda c: c["linux"].update(personality={"domain": "BOGUS"}),
     ".linux.personality.domain"),
    # A rule of the config, not of its process: refused without one too.
    ("personality-domain-no-process",
     lambda c: (c.pop("process"), c["linux"].update(personality={"domain": "BOGUS"})),
     ".linux.personality.domain"),
    ("personality-flag", lambda c: c["linux"].update(
        personality={"domain": "LINUX", "flags": ["SHORT_INODE"]}), ".linux.personality.flags[0]"),
    ("mempolicy-mode", lambda c: c["linux"].update(memoryPolicy={"mode": "MPOL_BOGUS"}),
     ".linux.memoryPolicy.mode"),
    ("mempolicy-flag", lambda c: c["linux"].update(
        memoryPolicy={"mode": "MPOL_DEFAULT", "flags": ["MPOL_F_BOGUS"]}),
     ".linux.memoryPolicy.flags[0]"),
    ("sysctl-not-namespaced", lambda c: c["linux"].update(sysctl={"kernel.pid_max": "100000"}),
     '.linux.sysctl["kernel.pid_max"]'),
    ("sysctl-needs-netns", lambda c: (drop_ns(c, "network"), c["linux"].update(
        sysctl={"net.ipv4.ip_forward": "1"})), '.linux.sysctl["net.ipv4.ip_forward"]'),
    ("sysctl-bad-name", lambda c: c["linux"].update(sysctl={"net/../x": "1"}),
     '.linux.sysctl["net/../x"]'),
    # mounts
    ("mount-destination-empty", add_mount({"destination": "", "type": "tmpfs",
                                           "source": "tmpfs"}),
     lambda c: f".mounts[{last_mount(c)}].destination"),
    ("mount-without-type", add_mount({"destination": "/mnt", "source": "tmpfs"}),
     lambda c: f".mounts[{last_mount(c)}].type"),
    ("bind-without-source", add_mount({"destination": "/mnt", "type": "bind",
                                       "options": ["rbind"]}),
     lambda c: f".mounts[{last_mount(c)}].source"),
    ("bind-source-missing", add_mount({"destination": "/mnt", "type": "bind",
                                       "source": "/nonexistent/src", "options": ["rbind"]}),
     lambda c: f".mounts[{last_mount(c)}].source"),
    ("idmap-not-bind", add_mount({"destination": "/mnt", "type": "tmpfs",
                                  "source": "tmpfs", "options": ["idmap"]}),
     lambda c: f".mounts[{last_mount(c)}].options[0]"),
    # seccomp
    ("seccomp-default-action", lambda c: seccomp(c, defaultAction="SCMP_ACT_BOGUS"),
     ".linux.seccomp.defaultAction"),
    ("seccomp-default-notify", lambda c: seccomp(c, defaultAction="SCMP_ACT_NOTIFY",
                                                 listenerPath="/run/x.sock"),
     ".linux.seccomp.defaultAction"),
    ("seccomp-default-errno-ret", lambda c: seccomp(c, defaultAction="SCMP_ACT_ERRNO",
                                                    defaultErrnoRet=70000),
     ".linux.seccomp.defaultErrnoRet"),
    ("seccomp-action", lambda c: seccomp(c, syscalls=[{"names": ["getpid"],
                                                       "action": "SCMP_ACT_BOGUS"}]),
     ".linux.seccomp.syscalls[0].action"),
    ("seccomp-errno-ret", lambda c: seccomp(c, syscalls=[{"names": ["getpid"],
                                                          "action": "SCMP_ACT_ERRNO",
                                                          "errnoRet": 70000}]),
     ".linux.seccomp.syscalls[0].errnoRet"),
    ("seccomp-notify-without-listener", notify(["getpid"], listener=False),
     ".linux.seccomp.syscalls[0].action"),
    ("seccomp-notify-sendmsg", notify(["getpid", "sendmsg"]),
     ".linux.seccomp.syscalls[0].names[1]"),
    ("seccomp-notify-write", notify(["write"]), ".linux.seccomp.syscalls[0].names[0]"),
    ("seccomp-op", lambda c: seccomp(c, syscalls=[{
        "names": ["getpid"], "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BOGUS"}]}]),
     ".linux.seccomp.syscalls[0].args[0].op"),
    ("seccomp-arg-index", lambda c: seccomp(c, syscalls=[{
        "names": ["getpid"], "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]),
     ".linux.seccomp.syscalls[0].args[0].index"),
    ("seccomp-arch", lambda c: seccomp(c, architectures=["SCMP_ARCH_PDP11"]),
     ".linux.seccomp.architectures[0]"),
    ("seccomp-flag", lambda c: seccomp(c, flags=["SECCOMP_FILTER_FLAG_BOGUS"]),
     ".linux.seccomp.flags[0]"),
]

CREATE_PATH = re.compile(r"config\.json: (\.\S*?): ")


@pytest.mark.parametrize("mutate,want", [(m, w) for _, m, w in CASES],
                         ids=[i for i, _, _ in CASES])
def test_create_and_check_name_the_same_path(berth, bundle, cid, mutate, want):
    mutate(bundle.config)
    bundle.write()
    want = want(bundle.config) if callable(want) else want

    p = berth.cmd("create", "-b", bundle.path, cid)
    assert p.returncode == 1, f"create accepted it: {p.stdout}{p.stderr}"
    assert berth.ids() == [], "create left a container behind"
    m = CREATE_PATH.search(p.stderr)
    assert m, f"create's error names no config path: {p.stderr}"
    assert m.group(1) == want, f"create: {p.stderr}"

    q = berth.cmd("check", "-b", bundle.path, "--format", "json")
    report = json.loads(q.stdout)
    paths = [e["path"] for e in report["errors"]]
    assert want in paths, f"create: {p.stderr.strip()}\ncheck: {report}"
    assert q.returncode == 1, q.stdout
    # One fault, one error: a rule reached twice (written twice) would show.
    assert paths == [want], f"check: {report}"
