#!/usr/bin/env python3
"""Run the OCI runtime-tools validation programs against berth (and, for
comparison, other runtimes) and write docs/conformance.md from the run.

The page is this script's output and nothing else: change the script or
tests/conformance/reasons.json, never the page.

The suite is not part of this repository: --suite names a checkout of
opencontainers/runtime-tools, outside the repository, in which `runtimetest`
and the `validation/*/*.t` programs have been built.

Every validation program is a TAP producer.  Each one runs with a timeout,
for each runtime in turn, in the same environment, with the working
directory holding what the suite expects there (`runtimetest` and
`rootfs-amd64.tar.gz`, a busybox root filesystem made here from the host's
/bin/busybox) and RUNTIME naming a wrapper that runs the runtime with a
`--root` of the program's own.  A program passes cleanly when its plan is
complete, every check is ok and it exits 0.

How the host is kept as it was:
- The run happens inside a private mount namespace (`unshare -m`) in which
  the cgroup2 mount /sys/fs/cgroup/unified of this hybrid host is detached:
  crun 1.8.1 refuses the hybrid layout, and every runtime must run in the
  same environment.  Nothing is unmounted outside that namespace.
- Each program runs in a cgroup of its own, made below the harness's cgroup
  in every v1 hierarchy (a process only ever moves into a descendant of the
  cgroup it was started in), and in a cgroup namespace rooted there, with
  the v1 hierarchies mounted again in a mount namespace of its own so that
  they show that cgroup as their root.  So whatever a runtime does with
  cgroupsPath (crun 1.8.1 puts a container without one at `/<id>` of each
  hierarchy, and takes a relative one from the root), every container's
  cgroup is below the program's.  The program also gets a network namespace
  of its own, so nothing it does reaches the host's interfaces.
- Programs that would put a process in a cgroup at the root of a hierarchy
  (`/cgrouptest`: the source uses cgroups.AbsCgroupPath or writes below
  /sys/fs/cgroup itself) are not run, and are listed as such.
- After each program: containers left in its state directory are deleted
  with --force, mounts and interfaces it left in its namespaces are removed,
  processes left in its cgroups are killed (by pid) and the cgroups
  removed, and its temporary directory is deleted.  What had to be removed
  is recorded on the page.

Usage (as root, from the repository root):
  python3 tests/conformance/run.py --suite DIR --runtime berth=build/src/berth \\
      [--runtime runc=/usr/sbin/runc] [--runtime crun=/usr/bin/crun] \\
      [--oci-version crun=1.1.0] --out docs/conformance.md \\
      --reasons tests/conformance/reasons.json [--timeout 60] [--only PROG ...] \\
      [--logs DIR]
"""
import argparse
import datetime
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

SCRIPT = os.path.abspath(__file__)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(SCRIPT)), "lib"))
from cgsandbox import Cgroups, remount_script  # noqa: E402
WHOSE = ("suite", "host", "spec", "berth")
NOT_RUN_REASON = ("puts a process in a cgroup at the root of a hierarchy (`/cgrouptest`); "
                  "on this host a process may only move into descendants of the cgroup it "
                  "was started in")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# ---------------------------------------------------------------- helpers

def sh(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, errors="replace", **kw)


def runtime_version(path):
    lines = sh([path, "--version"]).stdout.strip().splitlines()
    if not lines:
        return "unknown"
    v = lines[0].replace(" version ", " ")
    for line in lines[1:]:
        if line.startswith("commit:"):
            c = line.split(":", 1)[1].strip()
            if c and c not in v:
                v += f" (commit {c})"
    return v


def suite_commit(suite):
    p = sh(["git", "-C", suite, "log", "-1", "--format=%H %cs"])
    if p.returncode != 0:
        return "unknown (not a git checkout)", []
    h, d = p.stdout.split()
    st = sh(["git", "-C", suite, "status", "--porcelain", "--untracked-files=all"]).stdout
    built = re.compile(r"(^runtimetest$|\.t$|^oci-runtime-tool$)")
    changed = [line[3:] for line in st.splitlines() if not built.search(line[3:])]
    return f"{h} ({d})", changed


def host_cgroups():
    """The host's cgroup layout, from PID 1's mount table (this run's own
    mount namespace has the cgroup2 mount detached)."""
    try:
        with open("/proc/1/mountinfo") as f:
            s = f.read()
    except OSError:
        return "unknown"
    v1, v2 = " - cgroup " in s, " - cgroup2 " in s
    if v1 and v2:
        return ("hybrid: v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified, "
                "which the run detaches in its private mount namespace")
    return "v1" if v1 else "v2" if v2 else "none mounted"


# ---------------------------------------------------------------- rootfs

def make_rootfs_tar(dest):
    """rootfs-amd64.tar.gz: /bin/busybox, a symlink for each applet, and the
    directories and files the suite's own rootfs has."""
    busybox = "/bin/busybox"
    applets = sh([busybox, "--list-full"]).stdout.split()
    if not applets:
        sys.exit("run.py: /bin/busybox lists no applets (install busybox-static)")
    with tarfile.open(dest, "w:gz") as tar:
        def add(name, kind, mode, data=b"", link=""):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.linkname = kind, mode, link
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data) if data else None)

        # "." too, as in the suite's own rootfs: tar gives the bundle directory
        # (which is the rootfs, root.path "."; the suite makes it 0700) mode 0755,
        # so that a container whose root is mapped to another uid can reach it.
        for d in (".", "bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "etc",
                  "root", "tmp"):
            add(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755)
        tar.add(busybox, arcname="bin/busybox", recursive=False)
        for a in applets:
            a = a.lstrip("/")
            if a != "bin/busybox":
                add(a, tarfile.SYMTYPE, 0o777, link="/bin/busybox")
        add("etc/passwd", tarfile.REGTYPE, 0o644,
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        add("etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\nnogroup:x:65534:\n")


# ---------------------------------------------------------------- cgroups: tests/lib/cgsandbox.py

# ---------------------------------------------------------------- TAP

TAP_LINE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)")


def parse_tap(text):
    """The plan and the checks of a TAP stream; each check keeps the
    diagnostics that follow it (`# ...` lines, and the YAML block tap-go
    writes as JSON)."""
    plan, checks, n = None, [], 0
    yaml = None
    for line in text.splitlines():
        if yaml is not None:
            if line.strip() == "...":
                if checks:
                    try:
                        checks[-1]["yaml"] = json.loads("\n".join(yaml))
                    except ValueError:
                        pass
                yaml = None
            else:
                yaml.append(line)
            continue
        if line.strip() == "---":
            yaml = []
            continue
        m = TAP_PLAN.match(line)
        if m:
            plan = int(m.group(1))
            continue
        m = TAP_LINE.match(line)
        if m:
            n = int(m.group(2)) if m.group(2) else n + 1
            checks.append({"n": n, "ok": m.group(1) == "ok", "desc": m.group(3).strip(),
                           "diag": [], "yaml": None})
        elif line.startswith("#") and checks:
            checks[-1]["diag"].append(line.lstrip("# ").strip())
    return plan, checks


def check_details(c):
    """What a failing check said beyond its name: its `#` diagnostics and
    the error, stderr, expected and actual of its YAML block."""
    out = [d for d in c["diag"] if not d.startswith("Refer to:")][:2]
    y = c["yaml"] if isinstance(c["yaml"], dict) else {}
    for k in ("stderr", "error", "expected", "actual"):
        v = y.get(k)
        if isinstance(v, str) and v.strip():
            out.append(f"{k}: {v.strip().splitlines()[-1]}")
        elif v not in (None, "", {}, []) and not isinstance(v, str):
            out.append(f"{k}: {json.dumps(v)}")
    if y.get("stderr") and y.get("error"):
        out = [x for x in out if not x.startswith("error: exit status")]
    return [generic(x) for x in out]


def classify(rc, timed_out, out):
    plan, checks = parse_tap(out)
    failed = [c for c in checks if not c["ok"]]
    r = {"plan": plan, "checks": len(checks), "failed": failed, "rc": rc}
    if timed_out:
        r["kind"], r["text"] = "timeout", "timeout"
    elif plan is None:
        r["kind"] = "noplan"
        r["text"] = f"no plan (exit {rc})" if rc >= 0 else f"no plan (signal {-rc})"
        if failed:
            r["text"] += ", not ok " + ", ".join(f"#{c['n']}" for c in failed)
    elif failed:
        r["kind"] = "fail"
        r["text"] = "fail " + ", ".join(f"#{c['n']}" for c in failed)
        if len(checks) != plan:
            r["text"] += f" ({len(checks)} of {plan} run)"
    elif len(checks) != plan:
        r["kind"], r["text"] = "incomplete", f"{len(checks)} of {plan} run (exit {rc})"
    elif rc != 0:
        r["kind"], r["text"] = "exit", f"all ok, exit {rc}"
    else:
        r["kind"], r["text"] = "pass", "pass"
    return r


# ---------------------------------------------------------------- one program

# A runtime given --oci-version gets this wrapper: the suite writes the spec
# version it was built with into every config.json, which a runtime older
# than that may refuse outright; this rewrites that one field, nothing else.
WRAPPER_REWRITE = """#!{python}
import json, os, sys
RUNTIME, ROOT, VERSION = {runtime!r}, {root!r}, {version!r}
args = sys.argv[1:]
if args and args[0] in ("create", "run"):
    bundle = "."
    for i, a in enumerate(args):
        if a in ("-b", "--bundle") and i + 1 < len(args):
            bundle = args[i + 1]
        elif a.startswith("--bundle="):
            bundle = a.split("=", 1)[1]
    path = os.path.join(bundle, "config.json")
    try:
        with open(path) as f:
            config = json.load(f)
        config["ociVersion"] = VERSION
        with open(path, "w") as f:
            json.dump(config, f)
    except (OSError, ValueError):
        pass
os.execv(RUNTIME, [RUNTIME, "--root", ROOT] + args)
"""


def write_wrapper(path, runtime, root, oci_version):
    with open(path, "w") as f:
        if oci_version:
            f.write(WRAPPER_REWRITE.format(python=sys.executable, runtime=runtime, root=root,
                                           version=oci_version))
        else:
            f.write(f"#!/bin/sh\nexec {shlex.quote(runtime)} --root {shlex.quote(root)} "
                    "\"$@\"\n")
    os.chmod(path, 0o755)


def mount_table():
    with open("/proc/self/mountinfo") as f:
        return {line.split()[0]: line.split()[4] for line in f}


def links():
    out = sh(["ip", "-o", "link", "show"]).stdout
    return {line.split(": ")[1].split("@")[0] for line in out.splitlines() if ": " in line}


def list_containers(wrapper):
    return sh([wrapper, "list", "-q"]).stdout.split()


def launch(spec_file):
    """Inside the program's own mount, cgroup and network namespaces (made
    by `unshare` after the process joined the program's cgroups): mount the
    v1 hierarchies again so they show that cgroup as their root, run the
    program, delete what it left behind there, and write the result."""
    with open(spec_file) as f:
        spec = json.load(f)
    if spec["hierarchies"]:
        p = sh(["sh", "-c", remount_script(spec["hierarchies"])])
        if p.returncode != 0:
            sys.exit(f"run.py: mount the cgroup hierarchies again: {p.stderr.strip()}")
    sh(["ip", "link", "set", "lo", "up"])
    mounts_before, links_before = mount_table(), links()
    wrapper, tmp = spec["wrapper"], spec["tmp"]
    env = dict(os.environ, RUNTIME=wrapper, TMPDIR=os.path.join(tmp, "bundles"))
    for k in ("NOTIFY_SOCKET", "CONFORMANCE_COMMAND"):
        env.pop(k, None)
    t0 = time.monotonic()
    p = subprocess.Popen([spec["program"]], cwd=spec["work"], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, errors="replace",
                         start_new_session=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=spec["timeout"])
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
    secs = time.monotonic() - t0
    leaks = []
    left = list_containers(wrapper)
    for cid in left:
        sh([wrapper, "delete", "--force", cid])
    if left:
        leaks.append(f"{len(left)} container(s) in the state directory")
    still = list_containers(wrapper)
    if still:
        leaks.append(f"{len(still)} container(s) that `delete --force` did not remove")
    new_mounts = [(int(i), m) for i, m in mount_table().items() if i not in mounts_before]
    for _i, m in sorted(new_mounts, reverse=True):
        sh(["umount", "-l", m])
    if new_mounts:
        shown = sorted({UUID_RE.sub("ID", m.replace(tmp + "/bundles", "$TMPDIR"))
                        for _, m in new_mounts})
        shown = [re.sub(r"ocitest\d+", "BUNDLE", m) for m in shown]
        leaks.append(f"{len(new_mounts)} mount(s) in the caller's mount namespace ("
                     + ", ".join(f"`{m}`" for m in shown[:3])
                     + (", ..." if len(shown) > 3 else "") + ")")
    new_links = links() - links_before
    for ln in new_links:
        sh(["ip", "link", "del", ln])
    if new_links:
        leaks.append("interfaces in the caller's network namespace: " + ", ".join(sorted(new_links)))
    with open(spec["result"], "w") as f:
        json.dump({"rc": p.returncode, "timed_out": timed_out, "secs": secs, "stdout": out,
                   "stderr": err, "leaks": leaks}, f)


def run_program(prog, name, rt, runtime, oci_version, work, cg, timeout, logs):
    tmp = os.path.join(work, "runs", f"{name}.{rt}")
    os.makedirs(os.path.join(tmp, "bundles"))
    os.makedirs(os.path.join(tmp, "state"))
    wrapper = os.path.join(tmp, rt)
    write_wrapper(wrapper, runtime, os.path.join(tmp, "state"), oci_version)
    spec = {"program": prog, "work": work, "tmp": tmp, "wrapper": wrapper, "timeout": timeout,
            "hierarchies": [{"mnt": h["mnt"], "opts": h["opts"]} for h in cg.hierarchies],
            "result": os.path.join(tmp, "result.json")}
    with open(os.path.join(tmp, "spec.json"), "w") as f:
        json.dump(spec, f)
    cgdirs = cg.make_run(f"{name}.{rt}")
    t0 = time.monotonic()
    p = subprocess.Popen(["unshare", "-m", "-C", "-n", "--propagation", "private",
                          sys.executable, SCRIPT, "--launch", os.path.join(tmp, "spec.json")],
                         stdin=subprocess.DEVNULL, start_new_session=True,
                         preexec_fn=Cgroups.joiner(cgdirs))
    try:
        p.wait(timeout=timeout + 120)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    killed, cgroups_left = cg.clean_run(cgdirs)
    try:
        with open(spec["result"]) as f:
            res = json.load(f)
    except (OSError, ValueError):
        res = {"rc": -1, "timed_out": False, "secs": time.monotonic() - t0, "stdout": "",
               "stderr": f"run.py: the launcher failed (exit {p.returncode})", "leaks": [],
               "harness_error": True}
    r = classify(res["rc"], res["timed_out"], res["stdout"])
    if res.get("harness_error"):
        r["kind"], r["text"] = "error", "harness error"
        print(f"run.py: {name} with {rt}: the launcher failed (exit {p.returncode})",
              file=sys.stderr)
    r.update(secs=res["secs"], stderr=res["stderr"], leaks=res["leaks"])
    if killed:
        r["leaks"].append(f"{len(killed)} process(es)")
    if cgroups_left:
        r["leaks"].append("cgroups " + ", ".join(f"`{c}`" for c in cgroups_left))
    shutil.rmtree(tmp, ignore_errors=True)
    if logs:
        with open(os.path.join(logs, f"{name}.{rt}.log"), "w") as f:
            f.write(f"# {name} with {rt}: {r['text']} in {r['secs']:.1f}s, rc={res['rc']}\n")
            f.write("# --- stdout\n" + res["stdout"] + "# --- stderr\n" + res["stderr"])
            if r["leaks"]:
                f.write("# --- left behind: " + "; ".join(r["leaks"]) + "\n")
    return r


def not_run_reason(src_dir):
    for fn in sorted(os.listdir(src_dir)):
        if fn.endswith(".go"):
            with open(os.path.join(src_dir, fn)) as f:
                s = f.read()
            if "cgroups.AbsCgroupPath" in s or '"cgrouptest"' in s:
                return NOT_RUN_REASON
    return None


# ---------------------------------------------------------------- the page

def md(s):
    """Text for a table cell."""
    return s.replace("|", "\\|").replace("\n", " ")


def code(s):
    """Text for a code span in a list item."""
    return s.replace("`", "'").replace("\n", " ")


def generic(s):
    """A line with the run-specific parts (container IDs, temporary paths,
    log timestamps) made generic."""
    s = " ".join(UUID_RE.sub("ID", s).split())
    s = re.sub(r"/[^\s\"':]*/ocitest\d+", "BUNDLE", s)
    s = re.sub(r"/[^\s\"':]*/berth-conformance[.-][^\s/\"':]+", "...", s)
    s = re.sub(r'time="[^"]*" ', "", s)
    return s[:297] + "..." if len(s) > 300 else s


def last_stderr(err):
    """The last meaningful line the program printed on stderr."""
    lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
    lines = [ln for ln in lines
             if not ln.startswith(("Clean:", "Refer to:")) and ln != "exit status 1"]
    return generic(lines[-1]) if lines else ""


def write_page(path, meta, programs, not_run, results, runtimes, reasons):
    rts = [n for n, _ in runtimes]
    berth = rts[0]
    L = []
    a = L.append
    a("# Conformance: runtime-tools validation programs")
    a("")
    a("<!-- Generated by tests/conformance/run.py from a run; do not edit by hand. -->")
    a("")
    a("This page is the output of [`tests/conformance/run.py`](../tests/conformance/run.py), "
      "which runs every validation program of the OCI runtime-tools suite against "
      f"{berth} and, for comparison, the other runtimes of this machine, in the same "
      f"environment. Where {berth} does not pass a program cleanly, the reason comes from "
      "[`tests/conformance/reasons.json`](../tests/conformance/reasons.json), kept by hand, "
      "with whose it is: `berth`, or, where shown otherwise, the `suite`'s (a bug in the "
      "test), the `host`'s (what this machine lacks) or the `spec`'s (the spec allows "
      "either reading). A failure with no entry there shows as **UNEXPLAINED**.")
    a("")
    a(f"- Date: {meta['date']}")
    changed = meta["suite_changed"]
    a(f"- runtime-tools: commit {meta['suite_commit']} of "
      "github.com/opencontainers/runtime-tools, built outside this repository"
      + ("; its `go.mod` asks for Go 1.21 and Debian 12 has Go 1.19, so the build copy "
         "had local stand-ins for the three Go 1.20/1.21 standard-library functions it uses "
         "(`slices`, `sync.OnceValue(s)`, `strings.CutPrefix`), in "
         + ", ".join(f"`{c}`" for c in changed) if changed else ""))
    a(f"- Kernel: {meta['kernel']}; cgroups: {meta['cgroups']}")
    for n, v in meta["versions"].items():
        a(f"- {n}: {v}")
    for n, v in meta["oci_versions"].items():
        a(f"- {n}'s wrapper rewrote `ociVersion` in each bundle's `config.json` to `{v}` "
          f"before `create` and `run`: the suite writes its spec version "
          f"({meta['suite_spec']}), which this {n} refuses (\"unknown version specified\"); "
          "nothing else in the config was changed")
    a(f"- Command (as root, from the repository root): `{meta['command']}`")
    a(f"- Time: {meta['wall']:.0f} s in all; per runtime "
      + ", ".join(f"{n} {meta['rt_secs'][n]:.0f} s" for n in rts)
      + f"; timeout {meta['timeout']} s per program")
    a("")
    a("## Summary")
    a("")
    total = len(programs) + len(not_run)
    a(f"{total} programs: {len(programs)} run with each runtime, {len(not_run)} not run "
      "(below). A program passes cleanly when its TAP plan is complete, every check is "
      "`ok` and it exits 0.")
    a("")
    a("| runtime | clean | failed checks | no plan | other |")
    a("|---|---|---|---|---|")
    for n in rts:
        rs = [results[p][n] for p in programs]
        a(f"| {n} | **{sum(r['kind'] == 'pass' for r in rs)}** of {total} | "
          f"{sum(r['kind'] == 'fail' for r in rs)} | "
          f"{sum(r['kind'] == 'noplan' for r in rs)} | "
          f"{sum(r['kind'] not in ('pass', 'fail', 'noplan') for r in rs)} |")
    a("")
    whose = {}
    for p in programs:
        if results[p][berth]["kind"] != "pass":
            w = reasons[p]["whose"] if p in reasons else "UNEXPLAINED"
            whose[w] = whose.get(w, 0) + 1
    if whose:
        a(f"Of the {sum(whose.values())} programs run that {berth} does not pass cleanly: "
          + ", ".join(f"{v} {k}" for k, v in sorted(whose.items(), key=lambda x: -x[1]))
          + ".")
        a("")
    a("## Not run")
    a("")
    a("| program | reason |")
    a("|---|---|")
    for p in not_run:
        a(f"| {p} | host: {not_run[p]} |")
    a("")
    a("The `linux_cgroups_relative_*` programs make the same checks below the caller's "
      "cgroup.")
    a("")
    a("## Results")
    a("")
    a("`fail #N` lists the failing checks by number; `no plan` is a program that stopped "
      "before printing its TAP plan. The last column is the reason from reasons.json.")
    a("")
    a("| program | " + " | ".join(rts) + f" | why {berth} does not pass |")
    a("|---|" + "---|" * len(rts) + "---|")
    for p in programs:
        cells = [results[p][n]["text"] if results[p][n]["kind"] == "pass"
                 else f"**{results[p][n]['text']}**" for n in rts]
        why = ""
        if results[p][berth]["kind"] != "pass":
            e = reasons.get(p)
            why = f"{e['whose']}: {md(e['reason'])}" if e else "**UNEXPLAINED**"
        a(f"| {p} | " + " | ".join(cells) + f" | {why} |")
    a("")
    fails = [p for p in programs if results[p][berth]["kind"] != "pass"]
    a(f"## What {berth} printed where it does not pass")
    a("")
    a("The failing checks' TAP lines with their diagnostics or, where they have none, the "
      "last line the program printed on stderr (container IDs and temporary paths made "
      "generic).")
    a("")
    if not fails:
        a("Nothing: every program run passes cleanly.")
        a("")
    for p in fails:
        r = results[p][berth]
        e = reasons.get(p)
        a(f"### {p}")
        a("")
        a(f"- {r['text']}; whose: " + (f"{e['whose']}" if e else "**UNEXPLAINED**"))
        shown = []
        for c in r["failed"]:
            a(f"- `not ok {c['n']} - {code(c['desc'][:300])}`")
            for d in check_details(c):
                a(f"  - `{code(d)}`")
                shown.append(d)
        s = last_stderr(r["stderr"])
        if s and not shown:
            a(f"- last line on stderr: `{code(s)}`")
        a("")
    leaked = [p for p in programs if any(results[p][n]["leaks"] for n in rts)]
    a("## Left behind")
    a("")
    a("What was left after a program exited, which the harness then removed: containers "
      "still in the runtime's state directory, mounts in the program's mount namespace "
      "(which the suite's programs share with the runtime), interfaces in its network "
      "namespace, processes and cgroups below the program's cgroup. The suite does not "
      "always delete what it creates, so this is the program's and the runtime's together.")
    a("")
    if leaked:
        a("| program | " + " | ".join(rts) + " |")
        a("|---|" + "---|" * len(rts))
        for p in leaked:
            a(f"| {p} | " + " | ".join(md("; ".join(results[p][n]["leaks"])) or "-"
                                       for n in rts) + " |")
    else:
        a("Nothing.")
    a("")
    a("## How the run is made")
    a("")
    a("`--suite` names a checkout of runtime-tools outside this repository in which "
      "`runtimetest` and the `validation/*/*.t` programs are built; no file of the suite is "
      "kept in this repository. The script makes `rootfs-amd64.tar.gz` from the host's "
      "static busybox (`/bin/busybox` and a symlink per applet), puts it and `runtimetest` "
      "in a temporary working directory, and runs each program there, once per runtime, with "
      "`RUNTIME` set to a wrapper that calls the runtime with a `--root` of its own.")
    a("")
    a("The whole run is inside a private mount namespace with the cgroup2 mount "
      "`/sys/fs/cgroup/unified` detached, which crun 1.8.1 needs on this hybrid host; every "
      "runtime runs there alike. Each program runs in a cgroup of its own below the "
      "harness's, in a cgroup namespace rooted at it with the v1 hierarchies mounted again "
      "so they show it as their root, and in a network namespace of its own: whatever a "
      "runtime does with `cgroupsPath` (crun 1.8.1 puts a container without one at `/<id>` "
      "of each hierarchy, and takes a relative one from the root), its cgroups are below "
      "the program's, and nothing reaches the host's interfaces. Programs that would use "
      "`/cgrouptest` at the root of a hierarchy are not run (above).")
    a("")
    with open(path, "w") as f:
        f.write("\n".join(L))


# ---------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", required=True, help="built runtime-tools checkout")
    ap.add_argument("--runtime", action="append", required=True, metavar="NAME=PATH",
                    help="a runtime to run; the first is the one reasons.json is about")
    ap.add_argument("--oci-version", action="append", metavar="NAME=VERSION",
                    help="rewrite ociVersion in the bundle's config.json to VERSION before "
                    "this runtime's create or run (for a runtime older than the suite's "
                    "spec version); stated on the page")
    ap.add_argument("--out", required=True)
    ap.add_argument("--reasons", required=True)
    ap.add_argument("--timeout", type=int, default=60, help="seconds per program")
    ap.add_argument("--only", nargs="+", metavar="PROG",
                    help="run only these programs (for trying; the page says so)")
    ap.add_argument("--logs", help="keep each program's TAP and stderr in this directory")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--launch":
        return launch(sys.argv[2])
    args = parse_args(sys.argv[1:])
    if os.geteuid() != 0:
        sys.exit("run.py needs root (it runs containers)")
    if not args.inner:
        env = dict(os.environ, CONFORMANCE_COMMAND=shlex.join(["python3"] + sys.argv))
        script = "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\""
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                            "sh", sys.executable, SCRIPT, "--inner", *sys.argv[1:]], env=env)
        sys.exit(p.returncode)
    inner(args)


def inner(args):
    t_start = time.monotonic()
    suite = os.path.abspath(args.suite)
    runtimes = []
    for spec in args.runtime:
        name, _, path = spec.partition("=")
        path = os.path.abspath(path) if path else ""
        if not path or not os.access(path, os.X_OK):
            sys.exit(f"run.py: --runtime {spec}: expected NAME=PATH to an executable")
        runtimes.append((name, path))
    oci_versions = {}
    for spec in args.oci_version or []:
        name, _, ver = spec.partition("=")
        if not ver or name not in dict(runtimes):
            sys.exit(f"run.py: --oci-version {spec}: expected NAME=VERSION for a --runtime NAME")
        oci_versions[name] = ver
    with open(args.reasons) as f:
        reasons = json.load(f)
    for p, e in reasons.items():
        if not isinstance(e, dict) or set(e) != {"reason", "whose"} or e["whose"] not in WHOSE:
            sys.exit(f"run.py: {args.reasons}: {p}: expected {{\"reason\": ..., \"whose\": ...}}"
                     f" with whose one of {', '.join(WHOSE)}")
    runtimetest = os.path.join(suite, "runtimetest")
    vdir = os.path.join(suite, "validation")
    if not os.access(runtimetest, os.X_OK) or not os.path.isdir(vdir):
        sys.exit(f"run.py: {suite} has no built runtimetest or no validation/")
    names = sorted(d for d in os.listdir(vdir)
                   if os.path.isdir(os.path.join(vdir, d)) and d != "util"
                   and any(f.endswith(".go") for f in os.listdir(os.path.join(vdir, d))))
    for n in names:
        if not os.access(os.path.join(vdir, n, n + ".t"), os.X_OK):
            sys.exit(f"run.py: validation/{n}/{n}.t is not built")
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            sys.exit(f"run.py: no such program: {', '.join(sorted(unknown))}")
        names = [n for n in names if n in args.only]
    not_run, programs = {}, []
    for n in names:
        why = not_run_reason(os.path.join(vdir, n))
        if why:
            not_run[n] = why
        else:
            programs.append(n)

    logs = os.path.abspath(args.logs) if args.logs else None
    if logs:
        os.makedirs(logs, exist_ok=True)
    work = tempfile.mkdtemp(prefix="berth-conformance.", dir="/var/tmp")
    os.chmod(work, 0o755)  # reachable by containers whose root is mapped to another uid
    cg = None
    results = {p: {} for p in programs}
    rt_secs = {n: 0.0 for n, _ in runtimes}
    try:
        make_rootfs_tar(os.path.join(work, "rootfs-amd64.tar.gz"))
        shutil.copy2(runtimetest, os.path.join(work, "runtimetest"))
        cg = Cgroups(f"berth-conformance-{os.getpid()}")
        for i, p in enumerate(programs, 1):
            prog = os.path.join(vdir, p, p + ".t")
            line = []
            for name, path in runtimes:
                r = run_program(prog, p, name, path, oci_versions.get(name), work, cg,
                                args.timeout, logs)
                results[p][name] = r
                rt_secs[name] += r["secs"]
                line.append(f"{name}: {r['text']} ({r['secs']:.1f}s)"
                            + (" [left: " + "; ".join(r["leaks"]) + "]" if r["leaks"] else ""))
            print(f"[{i}/{len(programs)}] {p}: " + "; ".join(line), flush=True)
    finally:
        if cg:
            cg.remove()
        shutil.rmtree(work, ignore_errors=True)

    spec_version = "unknown"
    m = re.search(r"VersionMajor = (\d+).*?VersionMinor = (\d+).*?VersionPatch = (\d+)",
                  open(os.path.join(suite, "vendor/github.com/opencontainers/runtime-spec/"
                                    "specs-go/version.go")).read(), re.S) \
        if os.path.exists(os.path.join(suite, "vendor/github.com/opencontainers/runtime-spec/"
                                       "specs-go/version.go")) else None
    if m:
        spec_version = ".".join(m.groups())
    command = os.environ.get("CONFORMANCE_COMMAND", "python3 " + shlex.join(sys.argv))
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "kernel": os.uname().release,
        "cgroups": host_cgroups(),
        "versions": {n: runtime_version(p) for n, p in runtimes},
        "command": command,
        "wall": time.monotonic() - t_start,
        "rt_secs": rt_secs,
        "timeout": args.timeout,
        "oci_versions": oci_versions,
        "suite_spec": spec_version,
    }
    meta["suite_commit"], meta["suite_changed"] = suite_commit(suite)
    write_page(args.out, meta, programs, not_run, results, runtimes, reasons)

    berth = runtimes[0][0]
    print()
    total = len(programs) + len(not_run)
    for n, _ in runtimes:
        clean = sum(results[p][n]["kind"] == "pass" for p in programs)
        print(f"{n}: {clean} clean of {total} ({len(programs)} run, {len(not_run)} not run)")
    unexplained = [p for p in programs if results[p][berth]["kind"] != "pass" and p not in reasons]
    stale = [p for p in reasons if p in results and results[p][berth]["kind"] == "pass"]
    if unexplained:
        print(f"UNEXPLAINED for {berth}: {', '.join(unexplained)}")
    if stale:
        print(f"reasons.json explains programs {berth} now passes: {', '.join(stale)}")
    print(f"wrote {args.out} in {meta['wall']:.0f} s")


if __name__ == "__main__":
    main()
