#!/bin/bash
# Inside the VM tier's guest, from berth-vm-test.service (Delegate=yes), as
# root, under systemd with a pure cgroup v2 hierarchy.  /mnt/repo and
# /mnt/build are the host's repository and build directory (read-only 9p);
# results go to /mnt/out: one line per suite in `status`
# ("NAME EXIT-STATUS pytest's summary"), full logs beside it.
#
# Suites: the integration tier with the cgroupfs driver, the same with
# --systemd-cgroup on every berth call, and tests/vm/test_*.py (systemd
# driver, Podman) with the integration tier's fixtures.
#
# BERTH_VM_SELECT=cgroup (the default) runs, of the integration tier, the
# tests marked `cgroup` or `vm` (conftest.py says what they cover), and nowhere
# runc's control cases (marked `control`): under TCG the whole tier with both
# drivers and every control took the guest 36-42 min, most of it repeating
# what the host's tier shows already.  BERTH_VM_SELECT=all runs everything.
set -uo pipefail

main() {
  out=/mnt/out
  w=/root/berth
  read -r up _ < /proc/uptime
  # systemd's start, in seconds since boot: what the kernel and initramfs took.
  pid1=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", $22 / hz }' /proc/1/stat)
  echo "${up%.*} s (systemd started at ${pid1} s)" > "$out/boot"
  # shellcheck disable=SC1091
  . "$out/env"

  echo "== guest: kernel $(uname -r), $(systemctl --version | head -n1)," \
    "/sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup), up ${up} s"

  # Everything on the guest's own disk: the share is read-only, and bundles
  # (made under the suite's temporary directories) must not live on 9p.
  # The suite reads files from all over the repository: copy it whole, less
  # git's objects and build trees.
  rm -rf "$w"
  mkdir -p "$w"
  tar -C /mnt/repo --exclude=./.git --exclude='./build*' -cf - . | tar -C "$w" -xf -
  rm -rf "$w/build"
  mkdir -p "$w/build/src" "$w/build/tests"
  cp /mnt/build/src/berth "$w/build/src/"
  [ -f /mnt/build/tests/berth-testhelper ] && cp /mnt/build/tests/berth-testhelper "$w/build/tests/"
  # bench/floor.c as the build made it: the guest has no compiler.
  [ -f /mnt/build/tests/bench-floor ] && cp /mnt/build/tests/bench-floor "$w/build/tests/"
  install -m 755 "$w/build/src/berth" /usr/local/sbin/berth
  # The driver's tests use the integration tier's fixtures (its conftest.py).
  cp "$w"/tests/vm/test_*.py "$w/tests/integration/"
  vm_tests=$(cd "$w/tests/vm" && ls test_*.py)

  # --systemd-cgroup on every berth call of the suite, without touching it:
  # the suite runs $BERTH, here a wrapper that adds the global flag.
  printf '#!/bin/sh\nexec %s --systemd-cgroup "$@"\n' "$w/build/src/berth" > "$w/build/berth-systemd"
  chmod 755 "$w/build/berth-systemd"

  cd "$w" || exit 1
  # Units left by a suite under the systemd driver are leaks too.
  leaked_units() {
    systemctl list-units --all --plain --no-legend 'berth-*.scope' 'berth-*.slice' 'bt*.scope' \
      2>/dev/null | awk '{ print $1 }'
  }

  run_suite() {
    local name=$1 binary=$2 start=$SECONDS rc summary leaked
    local -a extra
    shift 2
    # BERTH_VM_ARGS is shell words: -k 'memory or pids' stays one argument.
    # It comes last, so that its own -m wins over the default selection's.
    eval "extra=(${BERTH_VM_ARGS:-})"
    echo "== suite $name"
    : > "$out/$name.log"
    # A suite that stops making progress shows what it is stuck on.
    (
      last=-1
      while sleep 120; do
        size=$(stat -c %s "$out/$name.log" 2>/dev/null || echo 0)
        if [ "$size" = "$last" ]; then
          echo "== no progress for 120 s:"
          ps -eo pid,ppid,stat,wchan:20,etime,args --forest | grep -v -e '\[' -e 'ps -eo'
          for p in $(pgrep -f 'pytest|tee /mnt/out'); do echo "-- $p"; cat "/proc/$p/stack"; done
        fi
        last=$size
      done
    ) &
    local watchdog=$!
    # -v: the console names each test as it ends (TCG runs are long).
    # A hung test must not eat the whole run: each suite has its own limit.
    BERTH_BUILD=$w/build BERTH=$binary BERTH_VM_DRIVER=$name \
      timeout -k 10 "${BERTH_VM_SUITE_TIMEOUT:-1500}" python3 -u -m pytest -p no:cacheprovider -v --tb=short -rfE "$@" "${extra[@]}" 2>&1 \
      | tee "$out/$name.log"
    rc=${PIPESTATUS[0]}
    kill "$watchdog" 2>/dev/null
    summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error|skipped|deselected)|no tests ran' "$out/$name.log" | tail -n1 | tr -d '=')
    leaked=$(leaked_units)
    if [ -n "$leaked" ]; then
      echo "== suite $name left systemd units behind: $leaked"
      summary="$summary; units left: $(echo $leaked)"
      rc=1
      systemctl stop $leaked >/dev/null 2>&1
      systemctl reset-failed >/dev/null 2>&1
    fi
    echo "$name $rc ${summary:-no summary} ($((SECONDS - start)) s)" >> "$out/status"
    sync
  }

  local -a tier_only driver_only
  case ${BERTH_VM_SELECT:-cgroup} in
    cgroup) tier_only=(-m '(cgroup or vm) and not control'); driver_only=(-m 'not control') ;;
    all) tier_only=(); driver_only=() ;;
    *) echo "== BERTH_VM_SELECT must be cgroup or all, not $BERTH_VM_SELECT"; return 1 ;;
  esac
  # BERTH_VM_DRIVERS=none: only the driver's own tests.
  for driver in ${BERTH_VM_DRIVERS:-cgroupfs systemd}; do
    case $driver in
      cgroupfs) run_suite cgroupfs "$w/build/src/berth" tests/integration "${tier_only[@]}" \
                  $(printf -- '--deselect tests/integration/%s ' $vm_tests) ;;
      systemd) run_suite systemd "$w/build/berth-systemd" tests/integration "${tier_only[@]}" \
                 $(printf -- '--deselect tests/integration/%s ' $vm_tests) ;;
    esac
  done
  run_suite driver "$w/build/src/berth" "${driver_only[@]}" $(printf 'tests/integration/%s ' $vm_tests)
  sync
  # Where the boot's time went, for tuning (kept with BERTH_VM_KEEP=1).
  journalctl -b -o short-monotonic --no-pager > "$out/journal.log" 2>&1
  sync
}

# Parsed whole before it runs: the script is read from the host's share,
# which may be edited while a run is under way.  The exit on the same line:
# bash reads on from its old offset once main returns, and in an edited file
# that lands mid-line (a run once started its suites a second time).
main "$@"; exit
