#!/usr/bin/env bash
# shellcheck disable=SC2317  # (functions run from traps look unreachable to it)
# Runs the obs demo: builds example_svc, starts it and a real Prometheus
# (Debian's package) scraping it every 2 s, prints where everything is and,
# after some load, a few query results; then streams the service's JSON logs
# until Ctrl-C (or --duration), and stops everything it started.
#
#   scripts/demo.sh [--duration SECONDS] [--rate JOBS_PER_SECOND] [--keep] [--help]
#
# Environment:
#   PROMETHEUS_PORT          the service's admin port (default 9568, or a free
#                            one when 9568 is taken; a port set here must be free)
#   DEMO_PROMETHEUS_PORT     Prometheus's port (default 9090, or a free one)
#   LOG_LEVEL                the service's log level (default info)
#   OBS_BUILD_DIR            build directory (default build)
#   PROMETHEUS, PROMTOOL     binaries (default from PATH: Debian's /usr/bin ones)
#   CMAKE_BUILD_PARALLEL_LEVEL  build jobs (default 2)
# Every server listens on 127.0.0.1 only. The temporary directory (logs,
# Prometheus's config and data) is removed on exit unless --keep is given or
# the demo failed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

duration=0
rate=20
keep=0
usage() { sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --duration=*) duration=${1#*=}; shift ;;
    --rate) rate=${2:?--rate needs a value}; shift 2 ;;
    --rate=*) rate=${1#*=}; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$duration" =~ ^[0-9]+$ ]] || { echo "demo: --duration must be a whole number of seconds" >&2; exit 2; }
[[ "$rate" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "demo: --rate must be a number" >&2; exit 2; }

bold="" red="" plain=""
if [ -t 1 ]; then bold=$'\033[1m' red=$'\033[1;31m' plain=$'\033[0m'; fi
say() { printf '%sdemo:%s %s\n' "$bold" "$plain" "$*"; }
die() { printf '%sdemo: error:%s %s\n' "$red" "$plain" "$*" >&2; exit 1; }

# --- cleanup: every process we start is recorded here -----------------------
pids=()
declare -A names=()
started() { pids+=("$1"); names[$1]=$2; }
tmp=""
phase=setup
cleanup() {
  local status=$?
  trap - EXIT
  trap '' INT TERM HUP  # a second Ctrl-C must not cut the cleanup short
  set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  # Bounded wait (the service's SDK shutdown deadline is 5 s), then SIGKILL.
  for _ in $(seq 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  local report=()
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "demo: ${names[$pid]} (pid $pid) did not stop within 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    local rc=$?
    case "${names[$pid]}" in
      tail) ;;
      *) report+=("${names[$pid]} (exit status $rc)") ;;
    esac
  done
  [ ${#report[@]} = 0 ] || echo "demo: stopped ${report[*]}"
  if [ -n "$tmp" ] && [ -d "$tmp" ]; then
    if [ "$keep" = 1 ] || [ "$status" != 0 ]; then
      echo "demo: logs and data kept in $tmp"
    else
      rm -rf "$tmp"
    fi
  fi
  exit "$status"
}
on_signal() {
  if [ "$phase" = running ]; then
    echo
    say "stopping"
    exit 0
  fi
  echo "demo: interrupted" >&2
  exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# Runs "$@" (always with &) in a session of its own, so that Ctrl-C reaches
# only this script, which then stops the children in order.
spawn() {
  if command -v setsid >/dev/null; then exec setsid "$@"; else exec "$@"; fi
}

# Is something accepting connections on 127.0.0.1:$1?
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port nobody listens on now: 20000-31999, below Linux's ephemeral range.
pick_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 12000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  return 1
}
# Polls "$@" every 0.5 s for up to $1 seconds; fails if process $2 (if set) dies.
wait_for() {
  local seconds=$1 pid=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 2
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

# --- dependencies and build ----------------------------------------------------
say "checking dependencies (scripts/install-deps.sh)"
scripts/install-deps.sh || die "installing dependencies failed (see above)"
prometheus_bin=${PROMETHEUS:-$(command -v prometheus || true)}
promtool_bin=${PROMTOOL:-$(command -v promtool || true)}
[ -x "$prometheus_bin" ] || die "prometheus not found: install Debian's package prometheus"
[ -x "$promtool_bin" ] || die "promtool not found: install Debian's package prometheus"
command -v curl >/dev/null || die "curl not found"

build=${OBS_BUILD_DIR:-build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/obs-demo.XXXXXX")
say "configuring into $build/ (log: $tmp/cmake-configure.log)"
cmake -S . -B "$build" -DOBS_BUILD_TESTS=OFF -DOBS_BUILD_DEMO=ON >"$tmp/cmake-configure.log" 2>&1 \
  || { tail -n 30 "$tmp/cmake-configure.log" >&2; die "cmake configure failed"; }
say "building example_svc"
cmake --build "$build" -j "${CMAKE_BUILD_PARALLEL_LEVEL:-2}" --target example_svc \
  || die "the build failed (see above)"
svc_bin=$build/demo/example_svc
[ -x "$svc_bin" ] || die "built example_svc not found at $svc_bin"

# --- the service ---------------------------------------------------------------
if [ -n "${PROMETHEUS_PORT:-}" ]; then
  svc_port_wanted=$PROMETHEUS_PORT
  [ "$svc_port_wanted" = 0 ] || ! port_in_use "$svc_port_wanted" \
    || die "PROMETHEUS_PORT=$svc_port_wanted is in use on 127.0.0.1; unset it or pick another port"
elif port_in_use 9568; then
  say "port 9568 is taken; the service picks a free one"
  svc_port_wanted=0
else
  svc_port_wanted=9568
fi
svc_log=$tmp/example_svc.log   # JSON lines (stdout)
svc_err=$tmp/example_svc.err   # the service's own messages (stderr)
otlp_dir=$tmp/otlp               # OTLP JSON lines: what a Collector's otlpjsonfile receiver reads
PROMETHEUS_PORT=$svc_port_wanted OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1 OBS_LOG_FORMAT=json \
  LOG_LEVEL=${LOG_LEVEL:-info} OTEL_SERVICE_NAME=example_svc \
  OTEL_TRACES_EXPORTER=otlp_file OTEL_LOGS_EXPORTER=console,otlp_file OTEL_METRICS_EXPORTER=prometheus,otlp_file \
  OBS_OTLP_FILE_DIR="$otlp_dir" OTEL_METRIC_EXPORT_INTERVAL=10000 \
  spawn "$svc_bin" --rate "$rate" --port-file "$tmp/example_svc.port" >"$svc_log" 2>"$svc_err" &
svc_pid=$!
started "$svc_pid" example_svc
say "started example_svc (pid $svc_pid)"
port_file_written() { [ -s "$tmp/example_svc.port" ]; }
wait_for 15 "$svc_pid" port_file_written || {
  cat "$svc_err" >&2
  die "example_svc did not start serving /metrics within 15 s (see its messages above)"
}
svc_port=$(cat "$tmp/example_svc.port")
svc_url=http://127.0.0.1:$svc_port

# --- Prometheus ------------------------------------------------------------------
sed "s/127\.0\.0\.1:9568/127.0.0.1:$svc_port/" monitoring/prometheus.yml >"$tmp/prometheus.yml"
grep -q "127.0.0.1:$svc_port" "$tmp/prometheus.yml" \
  || die "monitoring/prometheus.yml has no target 127.0.0.1:9568 to point at the service"
"$promtool_bin" check config "$tmp/prometheus.yml" >"$tmp/promtool-check-config.log" 2>&1 \
  || { cat "$tmp/promtool-check-config.log" >&2; die "the scrape config is invalid"; }

prom_port=${DEMO_PROMETHEUS_PORT:-9090}
if port_in_use "$prom_port"; then
  [ -z "${DEMO_PROMETHEUS_PORT:-}" ] || die "DEMO_PROMETHEUS_PORT=$prom_port is in use on 127.0.0.1"
  prom_port=$(pick_port) || die "no free port found for Prometheus"
fi
prom_ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$prom_port/-/ready" 2>/dev/null; }
for attempt in 1 2 3; do
  spawn "$prometheus_bin" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
  prom_pid=$!
  started "$prom_pid" prometheus
  say "started Prometheus (pid $prom_pid) on 127.0.0.1:$prom_port"
  rc=0
  wait_for 60 "$prom_pid" prom_ready || rc=$?
  [ $rc = 0 ] && break
  if [ $rc = 2 ] && grep -q "address already in use" "$tmp/prometheus.log" && [ $attempt -lt 3 ]; then
    prom_port=$(pick_port) || die "no free port found for Prometheus"
    continue
  fi
  tail -n 20 "$tmp/prometheus.log" >&2
  [ $rc = 2 ] && die "Prometheus exited during startup (log above)"
  die "Prometheus was not ready within 60 s (log above)"
done
prom_url=http://127.0.0.1:$prom_port

say "waiting for Prometheus's first successful scrape of $svc_url/metrics"
targets_json=""
target_up() {
  targets_json=$(curl -fsS --max-time 2 "$prom_url/api/v1/targets?state=active" 2>/dev/null) || return 1
  grep -q '"health":"up"' <<<"$targets_json"
}
wait_for 30 "$prom_pid" target_up || {
  last_error=$(sed -n 's/.*"lastError":"\([^"]*\)".*/\1/p' <<<"$targets_json")
  kill -0 "$svc_pid" 2>/dev/null || { cat "$svc_err" >&2; die "example_svc exited (messages above)"; }
  die "Prometheus did not scrape the service successfully within 30 s; last error: ${last_error:-none reported}"
}
scraped_at=$SECONDS
phase=running

cat <<EOF

  example_svc      pid $svc_pid, $rate jobs/s
    metrics        $svc_url/metrics
    liveness       $svc_url/health
    readiness      $svc_url/health/ready
    logs (JSON)    $svc_log   (streamed below)
    stderr         $svc_err
    OTLP files     $otlp_dir/{traces,logs,metrics}.jsonl
  Prometheus       pid $prom_pid, scraping every 2 s
    UI             $prom_url/graph
    targets        $prom_url/targets
    config, log    $tmp/prometheus.yml, $tmp/prometheus.log

  Try:  curl -s $svc_url/metrics | grep ^example_
        $promtool_bin query instant $prom_url 'sum by (status) (rate(example_jobs_processed_total[10s]))'

EOF
if [ "$duration" -gt 0 ]; then say "running for $duration s; Ctrl-C stops earlier"; else say "Ctrl-C stops the demo"; fi
say "sample queries follow after ~12 s of load; the service's logs:"
tail -n +1 -F "$svc_log" 2>/dev/null &
started "$!" tail
tail -n 0 -F "$svc_err" 2>/dev/null &  # the service's own messages, e.g. obs errors
started "$!" tail

show_queries() {
  local out="" q
  local queries=(
    'up{job="example_svc"}'
    'sum by (status) (rate(example_jobs_processed_total[10s]))'
    'histogram_quantile(0.95, sum by (le, kind) (rate(example_job_duration_seconds_bucket[10s])))'
    'sum(rate(example_jobs_processed_total{status="failed"}[10s])) / sum(rate(example_jobs_processed_total[10s]))'
    'example_queue_depth'
  )
  local titles=(
    "target health (1 = up)"
    "jobs per second, by status"
    "p95 job duration in seconds, by kind"
    "share of jobs failing"
    "queue depth"
  )
  out+=$'\n======== sample queries: '"$prom_url/api/v1/query"$' ========\n'
  for i in "${!queries[@]}"; do
    q=${queries[$i]}
    out+="# ${titles[$i]}"$'\n'"> $q"$'\n'
    out+="$({ "$promtool_bin" query instant "$prom_url" "$q" 2>&1 || true; } | sed 's/^/    /')"$'\n'
  done
  local spans
  spans=$(cat "$otlp_dir"/traces*.jsonl 2>/dev/null | grep -o '"spanId"' | wc -l)
  out+="# spans written as OTLP JSON to $otlp_dir/traces.jsonl: $spans"$'\n'
  out+=$'========================================================================\n'
  printf '%s\n' "$out"
}

# --- run until Ctrl-C or --duration -------------------------------------------
shown=0
started=$SECONDS
while :; do
  if [ "$duration" -gt 0 ] && [ $((SECONDS - started)) -ge "$duration" ]; then
    [ $shown = 1 ] || show_queries
    say "--duration $duration s elapsed; stopping"
    break
  fi
  if [ $shown = 0 ] && [ $((SECONDS - scraped_at)) -ge 12 ]; then
    show_queries
    shown=1
  fi
  kill -0 "$svc_pid" 2>/dev/null || { wait "$svc_pid" && rc=0 || rc=$?; die "example_svc exited unexpectedly (status $rc)"; }
  kill -0 "$prom_pid" 2>/dev/null || { tail -n 20 "$tmp/prometheus.log" >&2; die "Prometheus exited unexpectedly (log above)"; }
  sleep 1 &
  wait $! || true
done
exit 0
