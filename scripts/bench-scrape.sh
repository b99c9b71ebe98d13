#!/usr/bin/env bash
# Load test of the admin server's /metrics: a service exposing 10 000
# application series (tests/scrape/scrape_target.cpp) behind a bearer
# token, scraped by wrk on loopback for a fixed time.
#
#   scripts/bench-scrape.sh [--duration SECONDS] [--connections N] [--threads N]
#
# Defaults: 30 s, 4 connections, 2 threads (Prometheus scrapes one target
# over one connection; 4 is already several scrapers at once). Prints the
# series and bytes per scrape, requests/s, latency p50/p90/p99, non-2xx
# answers and socket errors; exits non-zero if any request failed or the
# endpoint answered without the token. Environment: OBS_SCRAPE_BUILD_DIR
# (default build-scrape), OBS_SCRAPE_BUILD_TYPE (default Release),
# CMAKE_BUILD_PARALLEL_LEVEL.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

duration=30
connections=4
threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-scrape: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

for tool in wrk curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench-scrape: installing Debian's $tool" >&2
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
  fi
done

build=${OBS_SCRAPE_BUILD_DIR:-build-scrape}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${OBS_SCRAPE_BUILD_TYPE:-Release}" -DOBS_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --target obs_scrape_target >/dev/null

work=$(mktemp -d)
target_pid=""
cleanup() {
  if [ -n "$target_pid" ]; then kill -TERM "$target_pid" 2>/dev/null || true; wait "$target_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A fresh random token per run; it is never printed.
token=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
PROMETHEUS_PORT=0 OBS_ADMIN_ADDRESS=127.0.0.1 OBS_ADMIN_BEARER_TOKEN="$token" LOG_LEVEL=warning \
  "$build/tests/scrape/obs_scrape_target" >"$work/target.out" 2>"$work/target.err" &
target_pid=$!
port=""
for _ in $(seq 300); do  # up to 30 s for the target to print its port
  port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$work/target.out")
  [ -n "$port" ] && break
  kill -0 "$target_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "bench-scrape: the scrape target did not start:" >&2
  cat "$work/target.err" >&2
  exit 1
fi
url="http://127.0.0.1:$port/metrics"

unauthenticated=$(curl -s -o /dev/null -w '%{http_code}' "$url")
curl -sf -H "Authorization: Bearer $token" "$url" >"$work/scrape.txt"
series=$(grep -vc '^#' "$work/scrape.txt")
app_series=$(grep -c '^scrape_target_' "$work/scrape.txt")
bytes=$(wc -c <"$work/scrape.txt")

wrk -t "$threads" -c "$connections" -d "${duration}s" --latency -H "Authorization: Bearer $token" "$url" \
  >"$work/wrk.txt"

percentile() { awk -v p="$1" '$1 == p { print $2 }' "$work/wrk.txt"; }
requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$work/wrk.txt")
socket_errors=$(awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print }' "$work/wrk.txt")

echo "scrape target: $app_series application series, $series series in all, $bytes bytes per scrape"
echo "without the token: HTTP $unauthenticated (expected 401)"
echo "wrk: $threads threads, $connections connections, ${duration}s: $requests requests, $rps requests/s"
echo "latency: p50 $(percentile 50%), p90 $(percentile 90%), p99 $(percentile 99%)"
echo "non-2xx answers: ${non2xx:-0}; socket errors: ${socket_errors:-none}"

status=0
[ "$unauthenticated" = 401 ] || { echo "bench-scrape: /metrics answered $unauthenticated without the token" >&2; status=1; }
[ "$app_series" -eq 10000 ] || { echo "bench-scrape: expected 10000 application series, got $app_series" >&2; status=1; }
[ -z "$non2xx" ] || { echo "bench-scrape: $non2xx answers were not 2xx" >&2; status=1; }
[ -z "$socket_errors" ] || { echo "bench-scrape: socket errors: $socket_errors" >&2; status=1; }
exit $status
