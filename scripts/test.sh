#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds everything and runs
# every test: the fuzzers briefly, then unit, custom-backend, consumer
# builds, the integration tests against real Prometheus and PostgreSQL and
# the valgrind memcheck of example_svc, then the C++ tests again under
# AddressSanitizer + UBSan and under ThreadSanitizer (the asan and tsan
# presets of CMakePresets.json, in build-asan/ and build-tsan/).
#
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L integration
#
# Environment: OBS_BUILD_DIR (default build), CMAKE_BUILD_TYPE (default
# Release: the whole tree at -O3 with warnings as errors, where g++ 12's
# false positives show up), CMAKE_BUILD_PARALLEL_LEVEL (default: all cores),
# OBS_SANITIZERS (default "asan tsan"; "none" skips the sanitizer runs,
# which are also skipped when ctest arguments narrow the run).
# Each stage's duration is printed at the end.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

timings=()
stage_start=$SECONDS
stage_done() {  # records how long the stage that just ended took
  timings+=("$(printf '%5ds  %s' $((SECONDS - stage_start)) "$1")")
  stage_start=$SECONDS
}
print_timings() {
  [ ${#timings[@]} -gt 0 ] || return 0
  echo "test.sh: stage times" >&2
  printf '  %s\n' "${timings[@]}" >&2
}
trap print_timings EXIT

scripts/install-deps.sh
stage_done "dependencies"

build=${OBS_BUILD_DIR:-build}
jobs=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
cmake -S . -B "$build" -DOBS_BUILD_TESTS=ON -DOBS_BUILD_DEMO=ON \
  -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" >/dev/null
cmake --build "$build" -j"$jobs"
stage_done "build ($build)"

# The parsers of untrusted input, fuzzed briefly with libFuzzer (Clang);
# docs/fuzzing.md says how to run them longer. Skipped when ctest
# arguments narrow the run.
if [ $# -eq 0 ]; then
  cmake -S tests/fuzz -B "$build-fuzz" -DCMAKE_CXX_COMPILER=clang++ \
    -DOBS_FUZZ_SECONDS="${OBS_FUZZ_SECONDS:-10}" >/dev/null
  cmake --build "$build-fuzz" -j"$jobs"
  (cd "$build-fuzz" && ctest --output-on-failure -L fuzz -j"$jobs")  # each fuzzer is single-threaded
  stage_done "fuzzers"
fi

(cd "$build" && ctest --output-on-failure -j"$jobs" "$@")
stage_done "ctest ($build)"

# The same C++ tests built with AddressSanitizer and UBSan, then with
# ThreadSanitizer: any report fails the run (see the test presets).
if [ $# -eq 0 ] && [ "${OBS_SANITIZERS:-asan tsan}" != none ]; then
  # GCC 12's sanitizer runtimes expect the address layout of at most 28
  # bits of mmap randomisation; newer kernels may default to more, and
  # TSan then stops with "FATAL: ThreadSanitizer: unexpected memory
  # mapping". setarch -R turns address randomisation off for the test
  # processes only, without root and without changing the machine.
  run_tests=()
  if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -gt 28 ]; then
    if setarch "$(uname -m)" -R true 2>/dev/null; then
      run_tests=(setarch "$(uname -m)" -R)
    else
      echo "test.sh: vm.mmap_rnd_bits is above 28 and setarch -R is not permitted here;" \
           "the sanitizer tests may fail to start (as root: sysctl -w vm.mmap_rnd_bits=28)" >&2
    fi
  fi
  for preset in ${OBS_SANITIZERS:-asan tsan}; do
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j"$jobs"
    stage_done "build ($preset preset)"
    "${run_tests[@]}" ctest --preset "$preset" -j"$jobs"
    stage_done "ctest ($preset preset)"
  done
fi
