#!/usr/bin/env bash
# End-to-end overhead of obs on a real service: the same cpp-httplib server
# (tests/bench/e2e/e2e_service.cpp) without obs and with obs (all three
# signals on: server spans, a log line and a counter per request, OTLP/HTTP
# export of traces, logs and metrics to a local receiver), each loaded by
# wrk on loopback for a fixed time. Rounds alternate between the two so
# drift on a shared machine hits both alike; the medians are compared.
#
#   scripts/bench-e2e.sh [--duration SECONDS] [--rounds N] [--connections N]
#
# Prints requests/s and p99 latency of each, and the ratios obs/plain
# (goals: throughput >= 0.97, p99 <= 1.05). Environment: OBS_BENCH_BUILD_DIR
# (default build-bench), CMAKE_BUILD_PARALLEL_LEVEL.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

duration=10
rounds=3
connections=16
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-e2e: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
if ! command -v wrk >/dev/null; then
  echo "bench-e2e: installing Debian's wrk" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi

build=${OBS_BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DOBS_BUILD_TESTS=OFF -DOBS_BUILD_DEMO=OFF \
  -DOBS_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" --target e2e_service otlp_sink >/dev/null
svc=$build/tests/bench/e2e/e2e_service
sink=$build/tests/bench/e2e/otlp_sink

tmp=$(mktemp -d "${TMPDIR:-/tmp}/obs-bench-e2e.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "bench-e2e: $1 not written" >&2; exit 1; }

"$sink" "$tmp/sink.port" >"$tmp/sink.out" 2>&1 &
pids+=($!)
wait_file "$tmp/sink.port"
sink_url=http://127.0.0.1:$(cat "$tmp/sink.port")

# Runs wrk against a fresh service; prints "<requests/s> <p99 in us>".
measure() {
  local mode=$1 port_file=$tmp/svc.$RANDOM.port pid out
  if [ "$mode" = obs ]; then
    OTEL_EXPORTER_OTLP_ENDPOINT=$sink_url OTEL_TRACES_EXPORTER=otlp OTEL_LOGS_EXPORTER=otlp \
      OTEL_METRICS_EXPORTER=otlp OTEL_METRIC_EXPORT_INTERVAL=5000 \
      "$svc" --obs --port-file "$port_file" 2>>"$tmp/svc.err" &
  else
    "$svc" --port-file "$port_file" 2>>"$tmp/svc.err" &
  fi
  pid=$!
  wait_file "$port_file"
  local url=http://127.0.0.1:$(cat "$port_file")/items/42
  wrk -t1 -c"$connections" -d2s "$url" >/dev/null  # warm-up
  out=$(wrk -t1 -c"$connections" -d"${duration}s" --latency "$url")
  kill -TERM "$pid"
  wait "$pid" || { echo "bench-e2e: the $mode service exited with an error (see $tmp/svc.err)" >&2; exit 1; }
  grep -q "Non-2xx\|Socket errors" <<<"$out" && { echo "$out" >&2; echo "bench-e2e: wrk saw errors" >&2; exit 1; }
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); print v} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000000}}' <<<"$out")
  echo "$rps $p99"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

plain_rps=() plain_p99=() obs_rps=() obs_p99=()
for r in $(seq "$rounds"); do
  a="" b=""; read -r a b < <(measure plain) || true
  [ -n "$b" ] || { echo "bench-e2e: measuring the plain service failed" >&2; exit 1; }
  plain_rps+=("$a"); plain_p99+=("$b")
  a="" b=""; read -r a b < <(measure obs) || true
  [ -n "$b" ] || { echo "bench-e2e: measuring the obs service failed" >&2; exit 1; }
  obs_rps+=("$a"); obs_p99+=("$b")
  echo "round $r: plain ${plain_rps[-1]} req/s p99 ${plain_p99[-1]} us | obs ${obs_rps[-1]} req/s p99 ${obs_p99[-1]} us" >&2
done
p_rps=$(printf '%s\n' "${plain_rps[@]}" | median)
p_p99=$(printf '%s\n' "${plain_p99[@]}" | median)
o_rps=$(printf '%s\n' "${obs_rps[@]}" | median)
o_p99=$(printf '%s\n' "${obs_p99[@]}" | median)
kill -TERM "${pids[0]}"; wait "${pids[0]}" || true; pids=()
cat "$tmp/sink.out" >&2

printf '\nwrk -t1 -c%s -d%ss on loopback, median of %s rounds (%s cores)\n' "$connections" "$duration" "$rounds" "$(nproc)"
printf '%-22s %14s %14s\n' "" "requests/s" "p99 latency"
printf '%-22s %14.0f %11.0f us\n' "without obs" "$p_rps" "$p_p99"
printf '%-22s %14.0f %11.0f us\n' "with obs (OTLP x3)" "$o_rps" "$o_p99"
printf '%-22s %14.3f %14.3f\n' "ratio obs/plain" "$(awk -v a="$o_rps" -v b="$p_rps" 'BEGIN{print a/b}')" \
  "$(awk -v a="$o_p99" -v b="$p_p99" 'BEGIN{print a/b}')"
printf '(goals: throughput ratio >= 0.97, p99 ratio <= 1.05)\n'
