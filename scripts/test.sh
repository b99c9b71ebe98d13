#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds everything and runs
# every test: the fuzzers briefly, then unit, custom-backend, consumer
# builds and the integration tests against real Prometheus and PostgreSQL.
#
#   scripts/test.sh [ctest arguments...]     e.g. scripts/test.sh -L integration
#
# Environment: OBS_BUILD_DIR (default build), CMAKE_BUILD_TYPE (default
# RelWithDebInfo), CMAKE_BUILD_PARALLEL_LEVEL (default: all cores).
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
