"""The CRI tier's helpers: a private containerd with its CRI plugin on, a
gRPC client for the CRI (runtime.v1) made at test time from our own
cri/runtime_v1_subset.proto, and the host-side checks that a pod left
nothing behind. See test_cri.py and docs/kubernetes.md."""
import importlib
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from e2e_lib import BERTH, HERE, run, wait_for

PROTO_DIR = os.path.join(HERE, "cri")
PROTO = "runtime_v1_subset.proto"
# One OCI layout, two tags, imported into containerd's "k8s.io" namespace:
IMAGE_BASE = "localhost/bcri"
BUSYBOX_IMAGE = IMAGE_BASE + ":busybox"
PAUSE_IMAGE = IMAGE_BASE + ":pause"
CATATONIT = "/usr/bin/catatonit"
RUNC = "/usr/sbin/runc"
HANDLERS = ("berth", "runc")
NETNS_DIR = "/var/run/netns"  # where containerd 1.6's CRI puts pod netns, whatever the config


def stubs(outdir):
    """Generate and import the python modules for our .proto (grpc_tools'
    protoc, run as a command, into outdir)."""
    try:
        import grpc  # noqa: F401
        import grpc_tools  # noqa: F401
    except ImportError as e:
        pytest.fail(f"{e} (bash .ci/deps installs python3-grpcio and python3-grpc-tools)")
    os.makedirs(outdir, exist_ok=True)
    r = run([sys.executable, "-m", "grpc_tools.protoc", "-I", PROTO_DIR,
             f"--python_out={outdir}", f"--grpc_python_out={outdir}",
             os.path.join(PROTO_DIR, PROTO)], timeout=60)
    assert r.returncode == 0, repr(r)
    sys.path.insert(0, outdir)
    try:
        pb = importlib.import_module("runtime_v1_subset_pb2")
        pbg = importlib.import_module("runtime_v1_subset_pb2_grpc")
    finally:
        sys.path.remove(outdir)
    return pb, pbg


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_subnet(n):
    """A private /24 in 10.213.0.0/16 that no address or route on this host
    is in yet, starting from one picked by n."""
    used = run(["ip", "-4", "-o", "addr", "show"], timeout=30).stdout + \
        run(["ip", "-4", "route", "show", "table", "all"], timeout=30).stdout
    for i in range(250):
        x = (n + i) % 250
        if f"10.213.{x}." not in used:
            return ipaddress.ip_network(f"10.213.{x}.0/24")
    pytest.fail("no free 10.213.x.0/24 subnet on this host")


# ---------------------------------------------------------------- host observations

def iptables_lines():
    """Every iptables rule and chain, counters stripped (iptables-nft here)."""
    r = run(["iptables-save"], timeout=30)
    assert r.returncode == 0, repr(r)
    out = set()
    for line in r.stdout.splitlines():
        if line.startswith(("#", "*", "COMMIT")):
            continue
        out.add(re.sub(r" \[\d+:\d+\]$", "", line))
    return out


# portmap's own chains, made on first use and kept for good (CNI's design):
# the per-pod chains (CNI-DN-...) and rules must go with the pod.
PORTMAP_GLOBAL = re.compile(
    r"^:CNI-HOSTPORT-(DNAT|SETMARK|MASQ)\b"
    r"|^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j CNI-HOSTPORT-(DNAT|MASQ)$"
    r"|^-A CNI-HOSTPORT-(SETMARK|MASQ) ")


def links():
    r = run(["ip", "-o", "link", "show"], timeout=30)
    return r.stdout.splitlines()


def netns_files():
    try:
        return set(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return set()


def proc_alive(pid):
    """A live, non-zombie process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pids_with_cmdline(argv):
    want = "\0".join(argv) + "\0"
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/cmdline") as f:
                    if f.read() == want and proc_alive(p):
                        found.append(int(p))
            except OSError:
                pass
    return found


# ---------------------------------------------------------------- containerd

class CriContainerd:
    """containerd 1.6 with its CRI plugin, everything under tmp but the pod
    network namespaces (/var/run/netns, fixed in 1.6) and the shims'
    sockets (/run/containerd/s)."""

    def __init__(self, tmp, cgroup, pb, pbg):
        self.tmp, self.cgroup, self.pb, self.pbg = tmp, cgroup, pb, pbg
        self.sock = os.path.join(tmp, "containerd.sock")
        self.config = os.path.join(tmp, "config.toml")
        self.roots = {"berth": os.path.join(tmp, "berth-root"),
                      "runc": os.path.join(tmp, "runc-root")}
        self.logs = os.path.join(tmp, "pod-logs")
        os.makedirs(self.logs)
        # Unique per session: other suites share this machine's network.
        n = os.getpid()
        self.bridge = f"bcri-{n}"  # at most 12 characters (pid_max 4194304)
        self.subnet = free_subnet(n)
        self.proc = None
        self.channel = None
        self.pod_ids = set()  # every pod of the session, for the final checks
        self.net_name = f"bcri-net-{n}"
        cni = os.path.join(tmp, "cni")
        os.makedirs(cni)
        with open(os.path.join(cni, "10-bcri.conflist"), "w") as f:
            json.dump({
                "cniVersion": "0.4.0",
                "name": self.net_name,
                "plugins": [
                    {"type": "bridge", "bridge": self.bridge, "isGateway": True,
                     "ipMasq": False, "hairpinMode": True,
                     "ipam": {"type": "host-local", "ranges": [[{"subnet": str(self.subnet)}]],
                              "dataDir": os.path.join(tmp, "ipam")}},
                    {"type": "portmap", "capabilities": {"portMappings": True}},
                ]}, f, indent=1)
        runtimes = ""
        for name, binary in (("berth", BERTH), ("runc", RUNC)):
            runtimes += f"""
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{name}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{name}.options]
        BinaryName = "{binary}"
        Root = "{self.roots[name]}"
        SystemdCgroup = false
"""
        with open(self.config, "w") as f:
            f.write(f"""\
version = 2
root = "{tmp}/root"
state = "{tmp}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{self.sock}"

[ttrpc]
  address = "{self.sock}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{tmp}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # No CAP_SYS_RESOURCE here: the pause container's oom_score_adj (-998)
  # could not be set; this caps it at containerd's own.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
{runtimes}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{cni}"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{tmp}/certs.d"
""")

    # -------------------------------------------------------- daemon

    def start(self):
        import grpc
        self.log = open(os.path.join(self.tmp, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "--config", self.config],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.channel = grpc.insecure_channel("unix://" + self.sock)
        self.rt = self.pbg.RuntimeServiceStub(self.channel)
        self.img = self.pbg.ImageServiceStub(self.channel)

        def up():
            if self.proc.poll() is not None:
                return True
            try:
                self.version = self.rt.Version(self.pb.VersionRequest(), timeout=2)
                return True
            except grpc.RpcError:
                return False
        wait_for(up, timeout=30, interval=0.2, what="containerd's CRI to answer")
        if self.proc.poll() is not None:
            pytest.fail(f"containerd exited {self.proc.returncode}:\n{self.log_tail()}")

    def log_tail(self, n=4000):
        with open(os.path.join(self.tmp, "containerd.log")) as f:
            return f.read()[-n:]

    def stop(self):
        if self.channel:
            self.channel.close()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def ctr(self, *args, timeout=120):
        return run(["ctr", "--address", self.sock, "-n", "k8s.io", *args], timeout=timeout)

    # -------------------------------------------------------- CRI calls

    def call(self, method, req, timeout=30):
        """One RuntimeService call with a deadline: a hang fails the test."""
        return getattr(self.rt, method)(req, timeout=timeout)

    def pod_config(self, name, handler, *, network=None, pid=None, ipc=None, ports=(),
                   sysctls=None):
        pb = self.pb
        # The kubelet's defaults: pod network and ipc, a pid ns per container.
        ns = pb.NamespaceOption(network=pb.POD if network is None else network,
                                pid=pb.CONTAINER if pid is None else pid,
                                ipc=pb.POD if ipc is None else ipc)
        cfg = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=f"bcri-{name}-{handler}", namespace="bcri",
                                           uid=f"bcri-{name}-{handler}-{os.getpid()}"),
            # (as the kubelet: none for a host-network pod, whose UTS
            # namespace is the host's)
            hostname="" if network == pb.NODE else f"bcri-{name}",
            log_directory=os.path.join(self.logs, f"{name}-{handler}"),
            port_mappings=[pb.PortMapping(protocol=pb.TCP, container_port=c, host_port=h,
                                          host_ip="127.0.0.1") for c, h in ports],
            linux=pb.LinuxPodSandboxConfig(
                # RELATIVE: berth/runc nest it below the shim's cgroup,
                # which is containerd's, which is this test's.
                cgroup_parent=f"{self.cgroup.name}/{name}-{handler}",
                security_context=pb.LinuxSandboxSecurityContext(namespace_options=ns),
                sysctls=sysctls or {}))
        cfg.linux.security_context.seccomp.SetInParent()  # RuntimeDefault, as the kubelet
        return cfg

    def run_pod(self, cfg, handler):
        r = self.call("RunPodSandbox", self.pb.RunPodSandboxRequest(config=cfg,
                                                                    runtime_handler=handler),
                      timeout=60)
        self.pod_ids.add(r.pod_sandbox_id)
        return r.pod_sandbox_id

    def create(self, pod_id, pod_cfg, name, command, *, log=None, sc=None, resources=None,
               start=True):
        pb = self.pb
        cc = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name),
            image=pb.ImageSpec(image=BUSYBOX_IMAGE),
            command=command,
            log_path=log or "",
            linux=pb.LinuxContainerConfig())
        # As the kubelet: the container's namespaces follow the pod's.
        cc.linux.security_context.namespace_options.CopyFrom(
            pod_cfg.linux.security_context.namespace_options)
        if sc:
            for k, v in sc.items():
                if k == "seccomp":
                    cc.linux.security_context.seccomp.profile_type = v
                    cc.linux.security_context.seccomp.SetInParent()
                elif k == "run_as_user":
                    cc.linux.security_context.run_as_user.value = v
                elif k == "capabilities":
                    add, drop = v
                    cc.linux.security_context.capabilities.add_capabilities.extend(add)
                    cc.linux.security_context.capabilities.drop_capabilities.extend(drop)
                else:
                    setattr(cc.linux.security_context, k, v)
        if resources:
            cc.linux.resources.CopyFrom(pb.LinuxContainerResources(**resources))
        cid = self.call("CreateContainer", pb.CreateContainerRequest(
            pod_sandbox_id=pod_id, config=cc, sandbox_config=pod_cfg), timeout=60).container_id
        if start:
            self.call("StartContainer", pb.StartContainerRequest(container_id=cid), timeout=60)
        return cid

    def exec_sync(self, cid, cmd, timeout=20):
        r = self.call("ExecSync", self.pb.ExecSyncRequest(container_id=cid, cmd=cmd,
                                                          timeout=timeout),
                      timeout=timeout + 10)
        return r.exit_code, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")

    def sh(self, cid, script, timeout=20):
        """ExecSync `sh -c script`; asserts exit 0, returns stdout."""
        code, out, err = self.exec_sync(cid, ["sh", "-c", script], timeout=timeout)
        assert code == 0, f"{script!r} exited {code}: {out!r} {err!r}"
        return out

    def status(self, cid):
        return self.call("ContainerStatus",
                         self.pb.ContainerStatusRequest(container_id=cid)).status

    def pod_status(self, pod_id):
        return self.call("PodSandboxStatus",
                         self.pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id)).status

    def stop_pod(self, pod_id, timeout=30):
        self.call("StopPodSandbox", self.pb.StopPodSandboxRequest(pod_sandbox_id=pod_id),
                  timeout=timeout)

    def remove_pod(self, pod_id, timeout=30):
        self.call("RemovePodSandbox", self.pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id),
                  timeout=timeout)

    def remove_everything(self, timeout=15):
        """Stop and remove every pod (and with it its containers); the
        errors, for the caller to report. When a pod cannot be stopped (a
        runtime that leaves processes behind), the processes still in our
        pods' cgroups are killed by pid and the pods tried once more, so one
        stuck pod fails its own test and not the ones after it."""
        errors = self._remove_pods(timeout)
        if errors:
            errors += [f"process left in a pod cgroup, killed: {p}"
                       for p in kill_cgroup_leftovers(self.cgroup)]
            again = self._remove_pods(timeout)
            errors += [f"(after killing those) {e}" for e in again]
        return errors

    def _remove_pods(self, timeout):
        errors = []
        try:
            pods = self.call("ListPodSandbox", self.pb.ListPodSandboxRequest()).items
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            return [f"ListPodSandbox: {e}"]
        for p in pods:
            for step in (self.stop_pod, self.remove_pod):
                try:
                    step(p.id, timeout=timeout)
                except Exception as e:  # noqa: BLE001
                    errors.append(f"{step.__name__} {p.metadata.name}: {e}")
        return errors

    # -------------------------------------------------------- the runtimes' own view

    def runtime_state(self, handler, cid):
        """The OCI runtime's `state` of a container in the k8s.io namespace,
        or None: the proof of which runtime ran it."""
        binary = BERTH if handler == "berth" else RUNC
        r = run([binary, "--root", os.path.join(self.roots[handler], "k8s.io"), "state", cid],
                timeout=30)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def runtime_leftovers(self):
        left = []
        for h, root in self.roots.items():
            d = os.path.join(root, "k8s.io")
            if os.path.isdir(d):
                left += [f"{h}: {n}" for n in os.listdir(d) if not n.startswith("@")]
        return left

    def cgroup_dir(self, pod, handler, cid, hierarchy="memory"):
        """Where the container's cgroup must be: below ours, under the pod's
        relative parent."""
        for mnt, ours in self.cgroup.hier:
            if os.path.basename(mnt) == hierarchy or hierarchy in mnt.split(","):
                return os.path.join(mnt, ours.lstrip("/"), self.cgroup.name,
                                    f"{pod}-{handler}", cid)
        raise AssertionError(f"no {hierarchy} hierarchy")


CNI_RESULTS = "/var/lib/cni/results"  # libcni's cache (go-cni's default in 1.6)


def cni_results(c):
    """Files in libcni's cache that are ours (normally removed at CNI DEL)."""
    try:
        names = os.listdir(CNI_RESULTS)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.startswith(c.net_name + "-") or
                  any(n.startswith(f"cni-loopback-{i}-") for i in c.pod_ids))


def shim_socket(sock, ns, cid):
    """Where containerd 1.6's runc v2 shim listens: /run/containerd/s/ and
    the sha256 of ADDRESS/NAMESPACE/ID (a shim killed by pid leaves it)."""
    import hashlib
    return os.path.join("/run/containerd/s",
                        hashlib.sha256(os.path.join(sock, ns, cid).encode()).hexdigest())


def kill_cgroup_leftovers(cg):
    """Processes still in our pods' cgroups (a runtime that failed to kill
    them): noted, killed by pid, so the session can clean up."""
    inside, _ = cg.dirs()
    found = []
    for top in inside:
        for dirpath, _, files in os.walk(top):
            if "cgroup.procs" in files:
                with open(os.path.join(dirpath, "cgroup.procs")) as f:
                    for p in f.read().split():
                        found.append(f"{dirpath}: {p}")
                        try:
                            os.kill(int(p), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
    if found:
        time.sleep(0.5)
    return found
