#!/bin/bash
# Build the libocispec fuzzer (clang, libFuzzer, ASan + UBSan) and run it for
# a bounded time: tests/fuzz/run.sh [SECONDS] (default 60).
#
# Exits non-zero on any crash, leak, sanitizer report, timeout or violated
# round-trip property; the input that caused it is left in the artifacts
# directory it prints, ready to be replayed with
# `$BUILD/tests/fuzz/fuzz-config FILE`.  The seed corpus in tests/fuzz/corpus
# is only read: what the run discovers goes to a scratch corpus.
#
# Environment: BERTH_FUZZ_BUILD (default build-fuzz/ in the repository),
# FUZZ_JOBS (parallel fuzzing processes, default 1), FUZZ_ARGS (extra
# libFuzzer flags, e.g. -runs=10000000).
set -euo pipefail
seconds=${1:-60}
case $seconds in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${BERTH_FUZZ_BUILD:-$here/build-fuzz}
jobs=${FUZZ_JOBS:-1}

if [ ! -f "$build/build.ninja" ]; then
  # b_lundef=false: clang's sanitizer runtimes are not linked into shared
  # objects, which -Wl,--no-undefined would then reject.
  CC=clang meson setup "$build" "$here" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized
fi
# Only the fuzzer: the rest of the tree is not needed to fuzz libocispec.
meson compile -C "$build" fuzz-config

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-fuzz.XXXXXX")
artifacts="$build/fuzz-artifacts"
mkdir -p "$work/corpus" "$artifacts"
trap 'rm -rf "$work"' EXIT

# A smaller quarantine than ASan's 256 MiB: still catches use-after-free of
# the last tens of thousands of allocations, with far fewer page faults.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=64}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# -max_len: configs are small; 16 KiB leaves room to grow the seeds (the
# largest is 5 KiB) while keeping each execution cheap.  -timeout: one input
# may take 10 s at most.
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384
      -dict="$here/tests/fuzz/config.dict" -artifact_prefix="$artifacts/"
      -print_final_stats=1)
if [ "$jobs" -gt 1 ]; then
  args+=(-jobs="$jobs" -workers="$jobs")
fi
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
set +e
(cd "$work" && "$build/tests/fuzz/fuzz-config" "${args[@]}" ${FUZZ_ARGS:-} \
  "$work/corpus" "$here/tests/fuzz/corpus")
status=$?
set -e
if [ "$jobs" -gt 1 ]; then
  # Each job logs to its own file in $work (removed on exit): keep the totals,
  # and the whole report of a job that failed.
  for log in "$work"/fuzz-*.log; do
    [ -f "$log" ] || continue
    grep -E '^(#[0-9]+.*DONE|stat::)' "$log" || true
    if grep -qE '==[0-9]+==|deadly signal|property violated' "$log"; then tail -n 80 "$log"; fi
  done
fi
if [ $status -ne 0 ]; then
  echo "fuzz: FAILED (status $status); crashing inputs in $artifacts:" >&2
  ls -l "$artifacts" >&2
  exit 1
fi
echo "fuzz: nothing found (run of at most ${seconds} s)"
