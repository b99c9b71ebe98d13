#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds everything and runs
# every test: the fuzzers briefly, then unit, custom-backend, consumer
# builds and the integration tests against real Prometheus and PostgreSQL,
# then the C++ tests again under AddressSanitizer + UBSan (the asan preset
# of CMakePresets.json, in build-asan/).
#
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L integration
#
# Environment: OBS_BUILD_DIR (default build), CMAKE_BUILD_TYPE (default
# RelWithDebInfo), CMAKE_BUILD_PARALLEL_LEVEL (default: all cores),
# OBS_SANITIZERS (default asan; "none" skips the sanitizer run, which is
# also skipped when ctest arguments narrow the run).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

scripts/install-deps.sh

build=${OBS_BUILD_DIR:-build}
jobs=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
cmake -S . -B "$build" -DOBS_BUILD_TESTS=ON -DOBS_BUILD_DEMO=ON \
  -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$build" -j"$jobs"

# The parsers of untrusted input, fuzzed briefly with libFuzzer (Clang);
# docs/fuzzing.md says how to run them longer. Skipped when ctest
# arguments narrow the run.
if [ $# -eq 0 ]; then
  cmake -S tests/fuzz -B "$build-fuzz" -DCMAKE_CXX_COMPILER=clang++ \
    -DOBS_FUZZ_SECONDS="${OBS_FUZZ_SECONDS:-10}" >/dev/null
  cmake --build "$build-fuzz" -j"$jobs"
  (cd "$build-fuzz" && ctest --output-on-failure -L fuzz -j"$jobs")  # each fuzzer is single-threaded
fi

cd "$build"
ctest --output-on-failure -j"$jobs" "$@"

# The same C++ tests built with AddressSanitizer and UBSan: any report fails
# the run (halt_on_error, leak detection on; see the asan test preset).
if [ $# -eq 0 ] && [ "${OBS_SANITIZERS:-asan}" != none ]; then
  cd "$repo"
  for preset in ${OBS_SANITIZERS:-asan}; do
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j"$jobs"
    ctest --preset "$preset" -j"$jobs"
  done
fi
