#!/usr/bin/env bash
# Instructions per operation, counted by valgrind's callgrind on the
# calling thread only (tests/bench/instructions.cpp; collection is on just
# around each case's loop). Unlike timings these are repeatable on a shared
# machine: the same binary and inputs give the same counts.
#
#   scripts/bench-instructions.sh [ITERATIONS]     (default 200000)
#
# Environment: OBS_BENCH_BUILD_DIR (default build-bench).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
n=${1:-200000}
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "bench-instructions: ITERATIONS must be a positive number" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "bench-instructions: valgrind not found (Debian's package valgrind)" >&2; exit 1; }

build=${OBS_BENCH_BUILD_DIR:-build-bench}
scripts/install-deps.sh
dpkg-query -W -f='${Status}' libbenchmark-dev 2>/dev/null | grep -q "ok installed" || {
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq --no-install-recommends libbenchmark-dev >/dev/null
}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DOBS_BUILD_TESTS=OFF -DOBS_BUILD_DEMO=OFF \
  -DOBS_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" --target obs_instructions >/dev/null
bin=$build/tests/bench/obs_instructions

tmp=$(mktemp -d "${TMPDIR:-/tmp}/obs-instructions.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Instructions per call of one case, on the calling thread (file -01).
per_op() {
  valgrind --tool=callgrind --collect-atstart=no --separate-threads=yes \
    --callgrind-out-file="$tmp/$1.%p" "$bin" "$1" "$n" >"$tmp/$1.log" 2>&1 \
    || { cat "$tmp/$1.log" >&2; echo "bench-instructions: $1 failed" >&2; exit 1; }
  local total
  total=$(sed -n 's/^summary: //p' "$tmp/$1".*-01)
  awk -v t="$total" -v n="$n" 'BEGIN { printf "%.1f", t / n }'
}

printf 'instructions per call (callgrind, calling thread, %s calls, %s)\n' "$n" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
printf '%-22s %10s   %-12s %10s %8s\n' case obs peer "peer" ratio
row() {
  local label=$1 ours=$2 peer_name=${3:-} peer_case=${4:-}
  local a b=""
  a=$(per_op "$ours")
  if [ -n "$peer_case" ]; then
    b=$(per_op "$peer_case")
    printf '%-22s %10s   %-12s %10s %8.2f\n' "$label" "$a" "$peer_name" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{print b/a}')"
  else
    printf '%-22s %10s   %-12s %10s %8s\n' "$label" "$a" "-" "-" "-"
  fi
}
row counter_bound obs_counter_bound prometheus prometheus_counter_bound
row counter_labelled obs_counter_labelled prometheus prometheus_counter_labelled
row facade_increment obs_facade_increment
row histogram_bound obs_histogram_bound prometheus prometheus_histogram_bound
row log_below_level obs_log_below_level spdlog spdlog_log_below_level
row log_below_level_macro obs_log_below_level_macro spdlog spdlog_log_below_level_macro
row span_start_end obs_span_start_end
printf '(ratio = peer / obs: above 1, obs executes fewer instructions)\n'
