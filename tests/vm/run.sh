#!/bin/bash
# The cgroup v2 + systemd tier: berth's integration suite (its cgroup tests)
# run inside a qemu guest whose systemd (PID 1) manages a pure cgroup v2
# hierarchy, once with the cgroupfs driver and once with --systemd-cgroup,
# plus the tests of the systemd driver and a Podman run with
# --cgroup-manager systemd.
#
# Why a VM: the CI host has hybrid cgroups, no systemd PID 1 and no system
# bus (shared/GUIDE.md §1), so neither v2-only behaviour nor the systemd
# driver can be observed there.
#
# How (GUIDE §3's proven recipe):
#  - a Debian bookworm image made once with debootstrap (minbase + systemd,
#    the kernel, berth's runtime and test dependencies, Podman), cached under
#    $BERTH_VM_CACHE keyed by the hash of the code that builds it, so an
#    edit here that does not touch the image does not rebuild it;
#  - qemu TCG (software: /dev/kvm here is nested PVM, a stock kernel dies
#    under it), booting the image's kernel directly with cgroup v1 disabled,
#    the disk in snapshot mode so that every run starts from the same image;
#  - the repository and the build directory shared read-only over 9p, and a
#    small writable 9p directory for the results; the guest copies what it
#    needs to its own disk (bundles on 9p would be slow and odd);
#  - berth-vm-test.service (Delegate=yes) runs tests/vm/guest.sh, which is
#    read from the share at each boot (editing it needs no image rebuild),
#    and powers the guest off when it ends.
#
# Environment: BERTH_BUILD (default <repo>/build), BERTH_VM_CACHE
# (/var/cache/berth-vm), BERTH_VM_TIMEOUT (seconds, 2400), BERTH_VM_MIRROR
# (default: the host's apt source for bookworm), BERTH_VM_ARGS (extra pytest
# arguments, e.g. "-k systemd"), BERTH_VM_DRIVERS ("cgroupfs systemd"; "none":
# only tests/vm),
# BERTH_VM_SELECT ("cgroup", the default: of the integration tier only the
# tests marked cgroup or vm, and no runc control cases; "all": everything),
# BERTH_VM_SUITE_TIMEOUT (seconds per guest suite, 1500), BERTH_VM_CGROUP
# ("v2", the default, or "hybrid": systemd on v1 controllers),
# BERTH_VM_KEEP=1 (keep the results directory: logs, the guest's journal).
# Without qemu or debootstrap the tier says so and passes, except under
# CI=true, where it fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BERTH_BUILD:-$repo/build}
cache=${BERTH_VM_CACHE:-/var/cache/berth-vm}
timeout_s=${BERTH_VM_TIMEOUT:-2400}

say() { echo "vm tier: $*"; }
unavailable() {
  if [ "${CI:-}" = true ]; then
    say "FAIL: $* (CI must run this tier: install it with .ci/deps)" >&2
    exit 1
  fi
  say "skipped: $*"
  exit 0
}

missing=()
for tool in qemu-system-x86_64 debootstrap mkfs.ext4 sha256sum flock; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
((${#missing[@]} == 0)) || unavailable "not installed: ${missing[*]}"
[ "$(id -u)" = 0 ] || unavailable "needs root (debootstrap, and the guest's files owned by root)"
[ -x "$build/src/berth" ] || { say "FAIL: no berth binary at $build/src/berth (build first)" >&2; exit 1; }
build=$(cd "$build" && pwd)

# ---- the image ---------------------------------------------------------------

# The guest's packages: systemd as PID 1 with its bus, the kernel, berth's
# shared libraries, the test tier's tools (capsh: a test asks it whether
# CAP_SYS_RESOURCE is there), Podman; for the rootless tests, a user's own
# bus (dbus-user-session: /run/user/UID/bus), newuidmap (uidmap) and runc
# as the control.  For checkpoint/restore (test_checkpoint.py): criu;
# iptables, because CRIU locks a container's network namespace with
# iptables-restore while it dumps (without it the dump of a container with
# its own network namespace fails: "Locking network failed"); iproute2, for
# `ip netns` (a container that joins a named network namespace), and because
# CRIU saves a namespace's addresses and routes with `ip` when it dumps one
# (runc has it restore the container's own network namespace empty instead).
packages=(
  systemd systemd-sysv dbus udev linux-image-amd64 kmod
  libyajl2 libseccomp2 libcap2 libsystemd0
  python3 python3-pytest busybox-static procps libcap2-bin
  podman conmon crun golang-github-containers-common netavark
  dbus-user-session uidmap runc
  criu iptables iproute2
)

# The bookworm mirror apt uses on this host (only it is reachable here).
debian_mirror() {
  local f uri
  if [ -n "${BERTH_VM_MIRROR:-}" ]; then
    echo "$BERTH_VM_MIRROR"
    return
  fi
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ && u { print u; exit }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  echo http://deb.debian.org/debian
}

# Everything written into the root tree besides the packages.
configure_guest() {
  local root=$1
  echo berth-vm > "$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 berth-vm\n' > "$root/etc/hosts"
  # The initramfs mounts the root read-write: nothing for systemd to remount.
  echo '# / is /dev/vda, mounted rw by the initramfs' > "$root/etc/fstab"
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\n' > "$root/etc/systemd/journald.conf.d/berth-vm.conf"
  chroot "$root" passwd -d root >/dev/null
  # Boot straight to the tests: nothing on a timer, no login prompts over
  # the test output, no Podman API service, no modules nobody uses (under
  # TCG every service costs seconds).
  chroot "$root" systemctl mask -q apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer \
    serial-getty@ttyS0.service getty@tty1.service getty.target podman-auto-update.timer \
    podman-auto-update.service podman-restart.service podman.service podman.socket \
    systemd-pstore.service modprobe@drm.service modprobe@efi_pstore.service \
    modprobe@dm_mod.service modprobe@fuse.service modprobe@loop.service

  cat > "$root/usr/local/sbin/berth-vm-run" <<'EOF'
#!/bin/sh
# Mount the host's shares and run the test script they carry.
set -e
modprobe -q 9pnet_virtio || true
mkdir -p /mnt/repo /mnt/build /mnt/out
opts=trans=virtio,version=9p2000.L,msize=524288
mount -t 9p -o "$opts,ro" repo /mnt/repo
mount -t 9p -o "$opts,ro" build /mnt/build
mount -t 9p -o "$opts" out /mnt/out
exec /bin/bash /mnt/repo/tests/vm/guest.sh
EOF
  chmod 755 "$root/usr/local/sbin/berth-vm-run"
  # Delegate=yes: the unit owns its cgroup subtree, as an engine's would.
  cat > "$root/etc/systemd/system/berth-vm-test.service" <<'EOF'
[Unit]
Description=berth VM test tier
Wants=dbus.service
After=dbus.service systemd-udevd.service
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
Delegate=yes
ExecStart=/usr/local/sbin/berth-vm-run
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
  chroot "$root" systemctl enable -q berth-vm-test.service
  # Podman: the file event logger (no journald reader needed), berth known by name.
  mkdir -p "$root/etc/containers"
  cat > "$root/etc/containers/containers.conf" <<'EOF'
[engine]
cgroup_manager = "systemd"
events_logger = "file"

[engine.runtimes]
berth = ["/usr/local/sbin/berth"]
EOF
  # What the guest never needs: downloaded packages, docs, apt lists.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
}

# The guest's initramfs: busybox, the modules a virtio disk with ext4 needs
# (in load order, as modprobe resolves them), and a /init that mounts the
# disk and hands over to systemd.  Made in a second, where initramfs-tools
# takes minutes here (and a debootstrap runs it three times), and it boots
# faster: no udev before systemd's.
make_initramfs() {
  local root=$1 out=$2 kver dir=$1/tmp/initramfs m ko
  kver=$(ls "$root/lib/modules")
  mkdir -p "$dir"/{bin,dev,proc,sys,newroot,mod}
  cp "$root/bin/busybox" "$dir/bin/busybox"
  for m in virtio_pci virtio_blk crc32c_generic ext4; do
    chroot "$root" modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
  done | awk '!seen[$0]++' > "$dir/modules.order"
  while read -r ko; do cp "$root$ko" "$dir/mod/"; done < "$dir/modules.order"
  cat > "$dir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
while read -r ko; do insmod "/mod/${ko##*/}"; done < /modules.order
i=0
while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
if ! mount -t ext4 -o rw /dev/vda /newroot; then
  echo "initramfs: cannot mount /dev/vda"
  poweroff -f
fi
umount /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOF
  chmod 755 "$dir/init"
  chroot "$root" sh -c 'cd /tmp/initramfs && find . | cpio -o -H newc --quiet' | gzip -1 > "$out"
  rm -rf "$dir"
}

build_image() {
  local dest=$1 mirror=$2 root=$1/root
  # Two stages, so that the kernel's package makes no initramfs of its own
  # (INITRD=No; update_initramfs=no for initramfs-tools' trigger).
  # The .debs are kept across builds: only a change of packages downloads.
  mkdir -p "$cache/debs"
  debootstrap --foreign --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
    --cache-dir="$cache/debs" bookworm "$root" "$mirror" > "$dest/debootstrap.log" 2>&1 \
    || { tail -n 30 "$dest/debootstrap.log" >&2; return 1; }
  mkdir -p "$root/etc/initramfs-tools"
  echo 'update_initramfs=no' > "$root/etc/initramfs-tools/update-initramfs.conf"
  INITRD=No chroot "$root" /debootstrap/debootstrap --second-stage \
    >> "$dest/debootstrap.log" 2>&1 || { tail -n 30 "$dest/debootstrap.log" >&2; return 1; }
  configure_guest "$root"
  cp -L "$root/vmlinuz" "$dest/vmlinuz"
  make_initramfs "$root" "$dest/initrd.img"
  # 3 GiB sparse; the tree itself is about 700 MB.
  mkfs.ext4 -q -L berth-vm -d "$root" "$dest/disk.img" 3G
  rm -rf "$root"
}

main() {
  # The cache key: the code that makes the image and the package list.
  key=$( { declare -f configure_guest make_initramfs build_image; printf '%s\n' "${packages[@]}"; } \
    | sha256sum | cut -c1-16)
  image=$cache/$key
  mkdir -p "$cache"
  # One builder per image; runs of other keys go on meanwhile.
  exec 9> "$cache/$key.lock"
  flock 9
  if [ ! -f "$image/disk.img" ]; then
    mirror=$(debian_mirror)
    say "building the guest image $key from $mirror (once; cached in $cache)"
    start=$SECONDS
    rm -rf "$image.tmp"
    mkdir -p "$image.tmp"
    build_image "$image.tmp" "$mirror" > /dev/null # mkfs.ext4 -d lists files even with -q
    mv "$image.tmp" "$image"
    # Older images are dead weight (each is about 1 GB), once no run has
    # used them for 10 hours (every run opens KEY.lock, which stamps it):
    # a branch without this image's package change still boots the other,
    # and removing it would make the two branches rebuild each other's in
    # turn.  A build under way (*.tmp) is another run's.
    for old in "$cache"/*/; do
      old=${old%/}
      case ${old##*/} in "$key" | *.tmp | debs) continue ;; esac
      if [ -z "$(find "$old.lock" -mmin -600 2>/dev/null)" ]; then
        rm -rf "$old" "$old.lock"
      fi
    done
    find "$cache" -maxdepth 1 -name '*.lock' ! -name "$key.lock" -mmin +600 -delete
    say "image built in $((SECONDS - start)) s"
  fi
  flock -u 9

  # ---- the run ----------------------------------------------------------------

  out=$(mktemp -d /tmp/berth-vm.XXXXXX)
  chmod 777 "$out"
  if [ "${BERTH_VM_KEEP:-}" = 1 ]; then
    trap 'say "results kept in $out"' EXIT
  else
    trap 'rm -rf "$out"' EXIT
  fi
  # Sourced by guest.sh: quoted for the shell.
  printf 'BERTH_VM_ARGS=%q\nBERTH_VM_DRIVERS=%q\nBERTH_VM_SUITE_TIMEOUT=%q\nBERTH_VM_SELECT=%q\n' \
    "${BERTH_VM_ARGS:-}" "${BERTH_VM_DRIVERS:-cgroupfs systemd}" \
    "${BERTH_VM_SUITE_TIMEOUT:-1500}" "${BERTH_VM_SELECT:-cgroup}" > "$out/env"

  # mitigations=off: under TCG every speculation barrier is expensive.  (Not
  # tsc=reliable: the TSC calibrated under TCG is off, and time then runs
  # at the wrong pace in the guest.)
  # BERTH_VM_CGROUP=hybrid boots systemd's v1 layout instead (v1
  # controllers, systemd's hierarchy at /sys/fs/cgroup/unified).
  if [ "${BERTH_VM_CGROUP:-v2}" = hybrid ]; then
    cgroup_args=(systemd.unified_cgroup_hierarchy=0)
  else
    cgroup_args=(systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all)
  fi
  cmdline=(console=ttyS0 root=/dev/vda rw fsck.mode=skip quiet loglevel=3
    "${cgroup_args[@]}" systemd.show_status=0
    systemd.log_level=warning mitigations=off)
  smp=$(nproc)
  ((smp > 4)) && smp=4
  say "booting (qemu TCG, $smp vCPUs); console follows"
  start=$SECONDS
  set +e
  timeout -k 10 "$timeout_s" qemu-system-x86_64 \
    -nodefaults -machine q35 -accel tcg,thread=multi -cpu max -smp "$smp" -m 2048 \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" -append "${cmdline[*]}" \
    -drive "file=$image/disk.img,if=virtio,format=raw,snapshot=on" \
    -virtfs "local,path=$repo,mount_tag=repo,security_model=none,readonly=on" \
    -virtfs "local,path=$build,mount_tag=build,security_model=none,readonly=on" \
    -virtfs "local,path=$out,mount_tag=out,security_model=none" \
    -display none -no-reboot \
    -chardev "stdio,id=con,signal=off" -serial chardev:con < /dev/null
  qemu_rc=$?
  set -e
  elapsed=$((SECONDS - start))

  echo
  say "guest ran for ${elapsed} s (qemu exit $qemu_rc)"
  if ((qemu_rc == 124 || qemu_rc == 137)); then
    say "FAIL: the guest did not finish within ${timeout_s} s" >&2
    exit 1
  fi
  if [ ! -s "$out/status" ]; then
    say "FAIL: the guest wrote no results (see the console above)" >&2
    exit 1
  fi
  [ -f "$out/boot" ] && say "boot to test start: $(cat "$out/boot")"
  rc=0
  while read -r name status summary; do
    printf 'vm tier: %-10s %s  %s\n' "$name" "$([ "$status" = 0 ] && echo ok || echo FAILED)" "$summary"
    [ "$status" = 0 ] || rc=1
  done < "$out/status"
  exit $rc
}

# All of the above is parsed before anything runs: editing this file while a
# run is under way (it takes minutes) cannot derail that run.
main "$@"
