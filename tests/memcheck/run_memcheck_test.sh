#!/usr/bin/env bash
# Valgrind memcheck of example_svc's whole life: start, serve scrapes, shut
# down on SIGTERM. Fails on any memcheck error (invalid read or write, use of
# uninitialised memory, bad free, ...), on any definitely or indirectly lost
# block, and when the service does not serve what it should or does not
# exit cleanly, so a service that never really ran cannot pass.
#
#   run_memcheck_test.sh --example-svc PATH --valgrind PATH [--jobs N]
#
# Everything happens in a fresh mktemp -d directory, removed on exit unless
# OBS_KEEP_TMP=1 is set. The binary must not be built with a sanitizer.
set -euo pipefail

example_svc=
valgrind=
jobs=200

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --example-svc) example_svc=$2; shift 2 ;;
    --valgrind) valgrind=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run_memcheck_test.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -x "$example_svc" ] || { echo "FAIL: example_svc not found or not executable at '$example_svc' (OBS_BUILD_DEMO=ON)" >&2; exit 1; }
[ -n "$valgrind" ] && [ -x "$valgrind" ] ||
  { echo "FAIL: valgrind not found at '$valgrind'; install Debian's package valgrind (scripts/install-deps.sh)" >&2; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl not found (scripts/install-deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/obs-memcheck.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  if [ -n "${OBS_KEEP_TMP:-}" ]; then echo "OBS_KEEP_TMP: keeping $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "---- example_svc's output (last 10 lines) ----" >&2
  tail -n 10 "$tmp/example_svc.log" >&2 || true
  echo "---- valgrind's log ----" >&2
  cat "$tmp/valgrind.log" >&2 || true
  exit 1
}

# Leaks of the kinds that mean lost memory count as errors; "possibly lost"
# and "still reachable" (static state of libraries) do not.
PROMETHEUS_PORT=0 OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1 OBS_LOG_FORMAT=json LOG_LEVEL=debug \
  OTEL_TRACES_EXPORTER=console \
  "$valgrind" --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=40 \
  --log-file="$tmp/valgrind.log" \
  "$example_svc" --jobs "$jobs" --rate 0 --port-file "$tmp/port" >"$tmp/example_svc.log" 2>&1 &
pid=$!

alive() { kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*zombie' "/proc/$pid/status" 2>/dev/null; }

# wait_for WHAT PROBE SECONDS: runs PROBE (a function) until it succeeds; fails
# after SECONDS or as soon as the service has died.
wait_for() {
  local what=$1 probe=$2 seconds=$3 start=$SECONDS
  until $probe; do
    alive || fail "example_svc exited while waiting for $what"
    [ $((SECONDS - start)) -lt "$seconds" ] || fail "timed out after ${seconds} s waiting for $what"
    sleep 0.2
  done
}

port=
have_port() { [ -s "$tmp/port" ] && port=$(cat "$tmp/port") && [ "$port" -gt 0 ] 2>/dev/null; }
wait_for "the port file" have_port 120

get() {  # GET path -> body in $tmp/body, status code in $code
  code=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 30 "http://127.0.0.1:$port$1") || code=000
}
sum_of() {  # the sum of a metric's samples in the last /metrics body
  awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%d", s }' "$tmp/body"
}
all_jobs_counted() {
  get /metrics
  [ "$code" = 200 ] || return 1
  local n
  n=$(sum_of example_jobs_processed_total)
  [ "$n" -le "$jobs" ] || fail "/metrics: example_jobs_processed_total sums to $n, more than the $jobs jobs run"
  [ "$n" -eq "$jobs" ]
}
wait_for "example_jobs_processed_total to reach $jobs" all_jobs_counted 120

for round in 1 2 3; do
  get /metrics
  [ "$code" = 200 ] || fail "GET /metrics (round $round): HTTP $code"
  [ "$(sum_of example_jobs_processed_total)" = "$jobs" ] ||
    fail "/metrics: example_jobs_processed_total sums to $(sum_of example_jobs_processed_total), want $jobs"
  [ "$(sum_of example_job_duration_seconds_count)" = "$jobs" ] ||
    fail "/metrics: example_job_duration_seconds_count sums to $(sum_of example_job_duration_seconds_count), want $jobs"
  grep -qE '^process_resident_memory_bytes(\{[^}]*\})? ' "$tmp/body" || fail "/metrics has no process_resident_memory_bytes"
  get /health
  [ "$code" = 200 ] && grep -q '"status":"ok"' "$tmp/body" || fail "GET /health: HTTP $code: $(head -c 300 "$tmp/body")"
  get /health/ready
  [ "$code" = 200 ] && grep -q '"worker"' "$tmp/body" || fail "GET /health/ready: HTTP $code: $(head -c 300 "$tmp/body")"
done

# SIGTERM: the service stops its work loop and shuts the SDK down, then
# valgrind checks for leaks and exits 99 on any error.
kill -TERM "$pid"
stop_deadline=$((SECONDS + 240))
while alive; do
  [ "$SECONDS" -lt "$stop_deadline" ] || fail "example_svc did not exit within 240 s of SIGTERM"
  sleep 0.2
done
status=0
wait "$pid" || status=$?
pid=

grep -E 'definitely lost:|indirectly lost:|possibly lost:|ERROR SUMMARY:|All heap blocks were freed' "$tmp/valgrind.log" |
  sed 's/^==[0-9]*== */valgrind: /' || true
grep -q 'stopped (SIGTERM)' "$tmp/example_svc.log" || fail "example_svc did not report a SIGTERM shutdown (exit status $status)"
[ "$status" -ne 99 ] || fail "valgrind found errors or definitely/indirectly lost memory"
[ "$status" -eq 0 ] || fail "example_svc under valgrind exited with status $status"
grep -q 'ERROR SUMMARY: 0 errors' "$tmp/valgrind.log" || fail "valgrind's log has no 'ERROR SUMMARY: 0 errors'"
echo "PASS: $jobs jobs, 3 rounds of /metrics, /health, /health/ready, clean SIGTERM shutdown, no memcheck errors or leaks"
