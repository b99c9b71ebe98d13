#!/usr/bin/env bash
# shellcheck disable=SC2317  # (functions run from traps look unreachable to it)
# The obs demo stack, natively (no Docker): PostgreSQL and Prometheus from
# Debian's packages, the three demo services (user_svc -> job_svc ->
# image_svc) and the load generator. After --duration seconds of load it
# prints a summary read back from Prometheus (request rate, p50/p95/p99
# latency and error rate per service, DB query p95, firing alerts) and one
# complete user->job->image trace as a waterfall with its log lines, then
# stops everything it started (or, with --keep-running, goes on until Ctrl-C).
#
#   scripts/demo.sh [--duration SECONDS] [--rate REQUESTS_PER_SECOND]
#                   [--keep-running] [--keep] [--state-file PATH] [--help]
#
#   --duration N     seconds of load before the summary (default 45)
#   --rate R         the load generator's requests per second (default 20)
#   --keep-running   after the summary, keep the stack and the load running
#                    until Ctrl-C
#   --keep           keep the temporary directory (logs, OTLP files, data)
#   --state-file P   write the stack's addresses and pids to P (shell
#                    variables) once it runs; used by tests/demo
# Environment:
#   OBS_BUILD_DIR         build directory (default build)
#   OBS_DEMO_BIN_DIR      take the binaries from here and build nothing
#                         (user_svc, job_svc, image_svc, loadgen, demo_report)
#   DEMO_PROMETHEUS_PORT  Prometheus's port (default 9090, or a free one)
#   LOG_LEVEL             the services' log level (default info)
#   PROMETHEUS, PROMTOOL  binaries (default: Debian's, from PATH)
#   CMAKE_BUILD_PARALLEL_LEVEL  build jobs (default: the number of cores)
# Every server listens on 127.0.0.1 only. Ctrl-C stops every process the
# demo started. The temporary directory is removed on exit unless --keep is
# given or the demo failed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

duration=45
rate=20
keep=0
keep_running=0
state_file=""
usage() { sed -n '3,31p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --duration=*) duration=${1#*=}; shift ;;
    --rate) rate=${2:?--rate needs a value}; shift 2 ;;
    --rate=*) rate=${1#*=}; shift ;;
    --keep-running) keep_running=1; shift ;;
    --keep) keep=1; shift ;;
    --state-file) state_file=${2:?--state-file needs a path}; shift 2 ;;
    --state-file=*) state_file=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$duration" =~ ^[0-9]+$ ]] && [ "$duration" -ge 10 ] || { echo "demo: --duration must be a whole number of seconds, at least 10" >&2; exit 2; }
[[ "$rate" =~ ^[0-9]+([.][0-9]+)?$ ]] && [[ "$rate" =~ [1-9] ]] || { echo "demo: --rate must be a number above 0" >&2; exit 2; }

bold="" red="" plain=""
if [ -t 1 ]; then bold=$'\033[1m' red=$'\033[1;31m' plain=$'\033[0m'; fi
say() { printf '%sdemo:%s %s\n' "$bold" "$plain" "$*"; }
die() { printf '%sdemo: error:%s %s\n' "$red" "$plain" "$*" >&2; exit 1; }

# --- cleanup: every process we start is recorded here, in start order -------
pids=()
declare -A names=() stop_signal=()
started() { pids+=("$1"); names[$1]=$2; stop_signal[$1]=${3:-TERM}; }
tmp=""
pg_dir=""
phase=setup
cleanup() {
  local status=$?
  trap - EXIT
  trap '' INT TERM HUP  # a second Ctrl-C must not cut the cleanup short
  set +e
  # Newest first: the load stops before the services, the services before
  # their database. Each gets its stop signal at once; the waits overlap.
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[$i]}
    kill "-${stop_signal[$pid]}" "$pid" 2>/dev/null
  done
  # A child started just before a signal, not yet recorded, is still ours.
  pkill -TERM -P $$ 2>/dev/null
  # Bounded wait (the services' SDK shutdown deadline is 5 s), then SIGKILL.
  for _ in $(seq 150); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  local report=()
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "demo: ${names[$pid]} (pid $pid) did not stop within 15 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    local rc=$?
    case "${names[$pid]}" in
      tail) ;;
      *) report+=("${names[$pid]} ($rc)") ;;
    esac
  done
  pkill -KILL -P $$ 2>/dev/null
  [ ${#report[@]} = 0 ] || echo "demo: stopped (exit status): ${report[*]}"
  # PostgreSQL's files (outside $tmp when root) go in any case; its log is in $tmp/logs.
  [ -z "$pg_dir" ] || [ "$pg_dir" = "$tmp/postgres" ] || rm -rf "$pg_dir"
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
# Polls "$@" every 0.2 s for up to $1 seconds; fails (2) if process $2 (when
# set) dies meanwhile, (1) when the time runs out.
wait_for() {
  local seconds=$1 pid=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 2
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }

# --- dependencies and build ----------------------------------------------------
bin_dir=${OBS_DEMO_BIN_DIR:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/obs-demo.XXXXXX")
chmod 755 "$tmp"  # PostgreSQL runs as nobody when we are root and must reach its directory
if [ -z "$bin_dir" ]; then
  say "checking dependencies (scripts/install-deps.sh)"
  scripts/install-deps.sh || die "installing dependencies failed (see above)"
  build=${OBS_BUILD_DIR:-build}
  # A fresh build directory gets the demo only; an existing one keeps its
  # settings (a developer's test build stays one).
  flags=(-DOBS_BUILD_DEMO=ON)
  [ -f "$build/CMakeCache.txt" ] || flags+=(-DOBS_BUILD_TESTS=OFF)
  say "configuring into $build/ (log: $tmp/cmake-configure.log)"
  cmake -S . -B "$build" "${flags[@]}" >"$tmp/cmake-configure.log" 2>&1 \
    || { tail -n 30 "$tmp/cmake-configure.log" >&2; die "cmake configure failed"; }
  say "building the demo (a few minutes the first time; log: $tmp/build.log)"
  cmake --build "$build" -j "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    --target user_svc job_svc image_svc loadgen demo_report >"$tmp/build.log" 2>&1 \
    || { grep -E "error|Error" "$tmp/build.log" | head -n 30 >&2; die "the build failed (full log: $tmp/build.log)"; }
  mkdir -p "$tmp/bin"
  build_abs=$(cd "$build" && pwd)
  for t in user_svc/user_svc job_svc/job_svc image_svc/image_svc loadgen/loadgen report/demo_report; do
    ln -s "$build_abs/demo/$t" "$tmp/bin/${t#*/}"
  done
  bin_dir=$tmp/bin
fi
for b in user_svc job_svc image_svc loadgen demo_report; do
  [ -x "$bin_dir/$b" ] || die "$b not found in $bin_dir"
done
prometheus_bin=${PROMETHEUS:-$(command -v prometheus || true)}
promtool_bin=${PROMTOOL:-$(command -v promtool || true)}
[ -x "$prometheus_bin" ] || die "prometheus not found: install Debian's package prometheus"
[ -x "$promtool_bin" ] || die "promtool not found: install Debian's package prometheus"
# The newest installed server (a newer client-only version has no postgres).
pg_bin=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
  [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && pg_bin=$d
done
[ -n "$pg_bin" ] || die "PostgreSQL not found in /usr/lib/postgresql/*/bin: install Debian's package postgresql"
command -v curl >/dev/null || die "curl not found"
mkdir -p "$tmp/logs" "$tmp/otlp"

# --- PostgreSQL ---------------------------------------------------------------
# It refuses to run as root: as root, it runs as nobody.
# Its directory is then in /tmp itself: nobody must reach it, whatever the
# permissions of $TMPDIR's parents.
as_db_user=()
pg_dir=$tmp/postgres
if [ "$(id -u)" = 0 ]; then
  pg_dir=$(mktemp -d /tmp/obs-demo-pg.XXXXXX)
  ln -s "$pg_dir" "$tmp/postgres"
  chown nobody:nogroup "$pg_dir"
  as_db_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
mkdir -p "$pg_dir"
"${as_db_user[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U obs -A trust -E UTF8 --no-sync >"$tmp/logs/initdb.log" 2>&1 \
  || { tail -n 20 "$tmp/logs/initdb.log" >&2; die "initdb failed"; }
pg_ready() { "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -t 1; }
for attempt in 1 2 3; do
  pg_port=$(pick_port) || die "no free port found for PostgreSQL"
  # SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for clients).
  spawn "${as_db_user[@]}" "$pg_bin/postgres" -D "$pg_dir/data" -p "$pg_port" -k "$pg_dir" \
    -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off >"$tmp/logs/postgres.log" 2>&1 &
  pg_pid=$!
  started "$pg_pid" postgres INT
  rc=0
  wait_for 60 "$pg_pid" pg_ready || rc=$?
  [ $rc = 0 ] && break
  if [ $rc = 2 ] && grep -q "could not bind\|already in use" "$tmp/logs/postgres.log" && [ $attempt -lt 3 ]; then continue; fi
  tail -n 20 "$tmp/logs/postgres.log" >&2
  die "PostgreSQL did not start (log above)"
done
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U obs obs_demo >>"$tmp/logs/postgres.log" 2>&1 \
  || die "creating the database obs_demo failed (see $tmp/logs/postgres.log)"
say "PostgreSQL (pid $pg_pid) on 127.0.0.1:$pg_port, database obs_demo"

# --- the services, downstream first (each needs the next one's address) ------
declare -A svc_pid=() svc_port=() default_port=([user_svc]=8082 [job_svc]=8083 [image_svc]=8084)
start_service() {
  local name=$1
  shift
  local port=${default_port[$name]}
  port_in_use "$port" && port=0  # taken: any free port
  mkdir -p "$tmp/otlp/$name"
  env "$@" PORT=$port LISTEN_ADDRESS=127.0.0.1 OTEL_SERVICE_NAME=$name LOG_LEVEL=${LOG_LEVEL:-info} \
    OBS_LOG_FORMAT=json OTEL_TRACES_EXPORTER=otlp_file OTEL_LOGS_EXPORTER=console,otlp_file \
    OTEL_METRICS_EXPORTER=prometheus OBS_OTLP_FILE_DIR="$tmp/otlp/$name" \
    OTEL_RESOURCE_ATTRIBUTES=deployment.environment=demo \
    setsid "$bin_dir/$name" --port-file "$tmp/$name.port" >"$tmp/logs/$name.log" 2>"$tmp/logs/$name.err" &
  svc_pid[$name]=$!
  started "${svc_pid[$name]}" "$name"
  port_file_written() { [ -s "$tmp/$name.port" ]; }
  wait_for 15 "${svc_pid[$name]}" port_file_written || {
    cat "$tmp/logs/$name.err" >&2
    die "$name did not start within 15 s (its messages above)"
  }
  svc_port[$name]=$(cat "$tmp/$name.port")
}
ready() { http_ok "http://127.0.0.1:${svc_port[$1]}/health/ready"; }
start_service image_svc
start_service job_svc IMAGE_SVC_URL="http://127.0.0.1:${svc_port[image_svc]}" \
  DATABASE_URL="postgresql://obs@127.0.0.1:$pg_port/obs_demo"
start_service user_svc JOB_SVC_URL="http://127.0.0.1:${svc_port[job_svc]}"
for name in image_svc job_svc user_svc; do
  wait_for 30 "${svc_pid[$name]}" ready "$name" || {
    curl -sS --max-time 2 "http://127.0.0.1:${svc_port[$name]}/health/ready" >&2 || true
    echo >&2
    tail -n 5 "$tmp/logs/$name.err" >&2
    die "$name is not ready after 30 s (its readiness answer and messages above)"
  }
  say "$name (pid ${svc_pid[$name]}) ready on 127.0.0.1:${svc_port[$name]}"
done

# --- Prometheus: monitoring/prometheus.yml's jobs and alerts.yml's rules ------
sed -e "s/\"user-svc:8082\"/\"127.0.0.1:${svc_port[user_svc]}\"/" \
    -e "s/\"job-svc:8083\"/\"127.0.0.1:${svc_port[job_svc]}\"/" \
    -e "s/\"image-svc:8084\"/\"127.0.0.1:${svc_port[image_svc]}\"/" monitoring/prometheus.yml >"$tmp/prometheus.yml"
for name in user_svc job_svc image_svc; do
  grep -q "127.0.0.1:${svc_port[$name]}" "$tmp/prometheus.yml" \
    || die "monitoring/prometheus.yml has no target for $name spelled as in docker-compose.yaml"
done
cp monitoring/alerts.yml "$tmp/alerts.yml"
"$promtool_bin" check config "$tmp/prometheus.yml" >"$tmp/logs/promtool.log" 2>&1 \
  || { cat "$tmp/logs/promtool.log" >&2; die "the Prometheus config or its rules are invalid"; }
prom_port=${DEMO_PROMETHEUS_PORT:-9090}
if port_in_use "$prom_port"; then
  [ -z "${DEMO_PROMETHEUS_PORT:-}" ] || die "DEMO_PROMETHEUS_PORT=$prom_port is in use on 127.0.0.1"
  prom_port=$(pick_port) || die "no free port found for Prometheus"
fi
prom_ready() { http_ok "http://127.0.0.1:$prom_port/-/ready"; }
for attempt in 1 2 3; do
  spawn "$prometheus_bin" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
    --web.listen-address="127.0.0.1:$prom_port" --enable-feature=exemplar-storage --log.level=warn \
    >"$tmp/logs/prometheus.log" 2>&1 &
  prom_pid=$!
  started "$prom_pid" prometheus
  rc=0
  wait_for 60 "$prom_pid" prom_ready || rc=$?
  [ $rc = 0 ] && break
  if [ $rc = 2 ] && grep -q "address already in use" "$tmp/logs/prometheus.log" && [ $attempt -lt 3 ]; then
    prom_port=$(pick_port) || die "no free port found for Prometheus"
    continue
  fi
  tail -n 20 "$tmp/logs/prometheus.log" >&2
  die "Prometheus did not start (log above)"
done
prom_url=http://127.0.0.1:$prom_port
all_up() {
  local t
  t=$(curl -fsS --max-time 2 "$prom_url/api/v1/targets?state=active" 2>/dev/null) || return 1
  [ "$(grep -o '"health":"up"' <<<"$t" | wc -l)" -ge 3 ]
}
wait_for 30 "$prom_pid" all_up || die "Prometheus did not scrape all three services within 30 s (see $prom_url/targets)"
say "Prometheus (pid $prom_pid) on $prom_url scrapes all three services"

# --- the load ----------------------------------------------------------------
load_seconds=$duration
[ "$keep_running" = 0 ] || load_seconds=0  # until stopped
spawn "$bin_dir/loadgen" --rate "$rate" --duration "$load_seconds" \
  --user-url "http://127.0.0.1:${svc_port[user_svc]}" --job-url "http://127.0.0.1:${svc_port[job_svc]}" \
  --image-url "http://127.0.0.1:${svc_port[image_svc]}" >"$tmp/logs/loadgen.log" 2>&1 &
load_pid=$!
started "$load_pid" loadgen INT
phase=running

cat <<EOF

  user_svc   http://127.0.0.1:${svc_port[user_svc]}   (API docs /docs, /metrics, /health/ready)
  job_svc    http://127.0.0.1:${svc_port[job_svc]}   (PostgreSQL: postgresql://obs@127.0.0.1:$pg_port/obs_demo)
  image_svc  http://127.0.0.1:${svc_port[image_svc]}
  Prometheus $prom_url   (alerts: $prom_url/alerts)
  logs       $tmp/logs/<service>.log (JSON lines), <service>.err (the services' own messages)
  traces     $tmp/otlp/<service>/traces.jsonl, logs.jsonl (OTLP JSON, what a Collector's file receiver reads)

  Try:  curl -s -X POST http://127.0.0.1:${svc_port[user_svc]}/users/7/jobs -d '{"width":64,"height":48,"source_width":640,"source_height":480}'
        curl -s http://127.0.0.1:${svc_port[user_svc]}/metrics | grep ^http_server_request_duration_seconds_count

EOF
if [ -n "$state_file" ]; then
  {
    echo "DEMO_PID=$$"
    echo "PROMETHEUS_URL=$prom_url"
    for name in user_svc job_svc image_svc; do
      echo "${name^^}_URL=http://127.0.0.1:${svc_port[$name]}"
    done
    echo "DATABASE_URL=postgresql://obs@127.0.0.1:$pg_port/obs_demo"
    echo "DEMO_TMP=$tmp"
    echo "DEMO_PIDS=\"${pids[*]}\""
  } >"$state_file.tmp"
  mv "$state_file.tmp" "$state_file"
fi
say "load: $rate requests/s for $duration s, then the summary (Ctrl-C stops earlier)"
tail -n +1 -F "$tmp/logs/loadgen.log" 2>/dev/null &
started "$!" tail

load_checked=0
watch_processes() {
  if [ "$load_checked" = 0 ] && ! kill -0 "$load_pid" 2>/dev/null; then
    load_checked=1
    local rc=0
    wait "$load_pid" || rc=$?
    [ "$rc" = 0 ] || { tail -n 5 "$tmp/logs/loadgen.log" >&2; die "loadgen failed (exit status $rc; its last lines above)"; }
  fi
  for pid in "${pids[@]}"; do
    case "${names[$pid]}" in tail|loadgen) continue ;; esac
    kill -0 "$pid" 2>/dev/null || {
      tail -n 20 "$tmp/logs/${names[$pid]}".{err,log} 2>/dev/null >&2
      die "${names[$pid]} exited unexpectedly (its last messages above)"
    }
  done
}
load_started=$SECONDS
while [ $((SECONDS - load_started)) -lt "$duration" ]; do
  watch_processes
  sleep 1 &
  wait $! || true
done
if [ "$keep_running" = 0 ]; then
  load_done() { ! kill -0 "$load_pid" 2>/dev/null; }
  wait_for 20 "" load_done || true  # its final report comes when its last requests end
  watch_processes                    # and says whether it failed
fi
# One more scrape (and rule evaluation) after the load, and the services'
# span batches (1 s) on disk, before reading them back.
now=$(date +%s)
scraped_since() {
  local last
  last=$(curl -fsS --max-time 2 --data-urlencode 'query=min(timestamp(up))' "$prom_url/api/v1/query" 2>/dev/null \
    | sed -n 's/.*"value":\[[0-9.]*,"\([0-9.]*\)".*/\1/p')
  [ -n "$last" ] && awk -v a="$last" -v b="$now" 'BEGIN { exit !(a > b + 1) }'
}
wait_for 15 "$prom_pid" scraped_since || true

window=$((duration < 30 ? 30 : duration))
echo
"$bin_dir/demo_report" --prometheus "$prom_url" --window "${window}s" \
  --otlp-dir "$tmp/otlp/user_svc" --otlp-dir "$tmp/otlp/job_svc" --otlp-dir "$tmp/otlp/image_svc" \
  || say "the report is incomplete (see above)"
echo
if [ "$keep_running" = 1 ]; then
  [ -z "$state_file" ] || echo "DEMO_REPORTED=1" >>"$state_file"
  say "still running: the load goes on, the addresses are above; Ctrl-C stops everything"
  while :; do
    watch_processes
    sleep 1 &
    wait $! || true
  done
fi
say "done. 'scripts/demo.sh --keep-running' keeps the stack up to explore it;"
say "'docker compose up' runs it with Grafana, Tempo and Loki (docs/demo.md)"
exit 0
