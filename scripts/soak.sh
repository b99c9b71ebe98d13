#!/usr/bin/env bash
# Outage soak test (issue 8): a service under a steady, paced load while its
# OTLP receiver is down, then slow, then back. Not part of scripts/test.sh.
#
#   scripts/soak.sh [--phase-seconds 60] [--warmup-seconds 15] [--rate 1000]
#                   [--connections 8] [--slow-ms 5000] [--span-queue 2048]
#                   [--log-queue 2048] [--metric-interval-ms 1000] [--keep]
#
# Two copies of tests/bench/e2e/e2e_service (a server span, a log line and a
# counter per request; traces, logs and metrics exported by OTLP/HTTP
# protobuf), each with its own receiver (tests/soak/soak_receiver, which
# counts every span, log record and data point it acknowledges), run side
# by side under the same load, so that both see the same machine:
#   baseline  its receiver healthy throughout
#   soak      its receiver healthy (warm-up), down (port closed: connection
#             refused), slow (every export answered after --slow-ms), healthy
#             again (recovery), one --phase-seconds each
# The load (tests/soak/soak_load, one per service) sends request n at
# start + n/rate on --connections keep-alive connections; latency counts
# from that due time. Then each service is stopped with SIGTERM (it shuts
# obs down, delivering what is queued to its healthy receiver) and writes
# its final metrics.
#
# Prints, per phase, the latency percentiles, RSS and CPU of both services;
# per signal what was produced, what the receiver got, and what the SDK
# counted as dropped and failed (obs_exporter_*). Exits non-zero when those
# do not add up exactly, or when something produced after the recovery's
# first --slow-ms + 1 s was not delivered. Latency and RSS are reported,
# not judged. Takes warm-up + 3 x --phase-seconds (plus the first build).
# --keep leaves the raw figures in the temporary directory: each request's
# latency, the RSS of every second, /metrics at each phase end, the final
# metrics, the receiver's counts and the services' error output.
# Environment: OBS_SOAK_BUILD_DIR (default build-soak), CMAKE_BUILD_PARALLEL_LEVEL.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

phase_seconds=60
warmup_seconds=15
rate=1000
connections=8
slow_ms=5000
span_queue=2048
log_queue=2048
metric_interval_ms=1000
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --phase-seconds) phase_seconds=$2; shift 2 ;;
    --warmup-seconds) warmup_seconds=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --slow-ms) slow_ms=$2; shift 2 ;;
    --span-queue) span_queue=$2; shift 2 ;;
    --log-queue) log_queue=$2; shift 2 ;;
    --metric-interval-ms) metric_interval_ms=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "soak: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in phase_seconds warmup_seconds rate connections slow_ms span_queue log_queue metric_interval_ms; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || { echo "soak: --${v//_/-} must be a positive integer" >&2; exit 2; }
done
[ "$span_queue" -ge 2 ] && [ "$log_queue" -ge 2 ] || { echo "soak: the queue sizes must be at least 2" >&2; exit 2; }

scripts/install-deps.sh
build=${OBS_SOAK_BUILD_DIR:-build-soak}
# -DOBS_WERROR=OFF: g++ 12 at -O3 reports a false -Wrestrict in libstdc++
# for otlp_json.cpp (see docs/performance.md).
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DOBS_BUILD_TESTS=OFF -DOBS_BUILD_DEMO=OFF \
  -DOBS_BUILD_SOAK=ON -DOBS_WERROR=OFF >/dev/null
cmake --build "$build" -j "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
  --target e2e_service soak_receiver soak_load queued_item_bytes >/dev/null
bin=$build/tests/soak
# tests/soak builds the e2e service itself unless the benchmarks already do.
svc=$build/tests/soak/e2e/e2e_service
[ -x "$svc" ] || svc=$build/tests/bench/e2e/e2e_service

tmp=$(mktemp -d "${TMPDIR:-/tmp}/obs-soak.XXXXXX")
pids=()
# Newest first: the loads, then each service (its shutdown delivers to its
# receiver, bounded by its 5 s deadline) before its receiver.
cleanup() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  if $keep; then echo "soak: raw figures kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "soak: $*" >&2; exit 1; }
# Waits until a port file is written, or its writer died.
wait_port_file() {
  local file=$1 pid=$2 what=$3
  while [ ! -s "$file" ]; do
    kill -0 "$pid" 2>/dev/null || fail "$what exited before it was ready (see $tmp)"
    sleep 0.02
  done
}
forget_pid() { local p rest=(); for p in "${pids[@]}"; do [ "$p" = "$1" ] || rest+=("$p"); done; pids=("${rest[@]}"); }

sizes=$("$bin/queued_item_bytes") || fail "measuring a queued item failed"
span_bytes=$(sed -n 's/.*span_bytes=\([0-9]*\).*/\1/p' <<<"$sizes")
log_bytes=$(sed -n 's/.*log_bytes=\([0-9]*\).*/\1/p' <<<"$sizes")

# start NAME: a receiver and a service in $tmp/NAME/, ready for load.
start() {
  local dir=$tmp/$1
  mkdir -p "$dir/scrapes"
  "$bin/soak_receiver" --port-file "$dir/receiver.port" --control-port-file "$dir/control.port" \
    --slow-ms "$slow_ms" >"$dir/receiver.out" 2>&1 &
  echo $! >"$dir/receiver.pid"
  pids+=("$!")
  wait_port_file "$dir/control.port" "$(cat "$dir/receiver.pid")" "the $1 receiver"
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$(cat "$dir/receiver.port") \
    OTEL_TRACES_EXPORTER=otlp OTEL_LOGS_EXPORTER=otlp OTEL_METRICS_EXPORTER=otlp,prometheus \
    OTEL_METRIC_EXPORT_INTERVAL=$metric_interval_ms \
    OTEL_BSP_MAX_QUEUE_SIZE=$span_queue OTEL_BLRP_MAX_QUEUE_SIZE=$log_queue \
    "$svc" --obs --port-file "$dir/service.port" --admin-port-file "$dir/admin.port" \
    --metrics-out "$dir/final.prom" --keep-alive-requests 1000000000 2>"$dir/service.err" &
  echo $! >"$dir/service.pid"
  pids+=("$!")
  wait_port_file "$dir/service.port" "$(cat "$dir/service.pid")" "the $1 service"
  wait_port_file "$dir/admin.port" "$(cat "$dir/service.pid")" "the $1 service"
  curl -sf "http://127.0.0.1:$(cat "$dir/admin.port")/health" >/dev/null || fail "the $1 service's /health did not answer"
}

# load NAME PHASE...: starts the load (in the background, so that a signal
# runs the trap at once); its pid in $tmp/NAME/load.pid.
load() {
  local dir=$tmp/$1; shift
  local phase_args=() p
  for p in "$@"; do phase_args+=(--phase "$p"); done
  "$bin/soak_load" --url "http://127.0.0.1:$(cat "$dir/service.port")" --rate "$rate" --connections "$connections" \
    "${phase_args[@]}" --control "http://127.0.0.1:$(cat "$dir/control.port")" \
    --admin "http://127.0.0.1:$(cat "$dir/admin.port")" --scrape-dir "$dir/scrapes" \
    --pid "$(cat "$dir/service.pid")" --rss-log "$dir/rss.log" --latency-log "$dir/latency.log" >"$dir/load.out" &
  echo $! >"$dir/load.pid"
  pids+=("$!")
}

# finish NAME: waits for the load, stops the service (which delivers what
# is queued and writes its final metrics), reads the receiver's counts.
finish() {
  local dir=$tmp/$1 pid
  pid=$(cat "$dir/load.pid")
  wait "$pid" || fail "the $1 load failed"
  forget_pid "$pid"
  pid=$(cat "$dir/service.pid")
  kill -TERM "$pid"
  wait "$pid" || fail "the $1 service exited with an error (see $dir/service.err)"
  forget_pid "$pid"
  [ -s "$dir/final.prom" ] || fail "the $1 service wrote no final metrics"
  local ranges
  ranges=$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
                 printf "%s%s:%s:%s", (NR > 1 ? "," : ""), v["phase"], v["first"], v["end"]}' "$dir/load.out")
  curl -sf "http://127.0.0.1:$(cat "$dir/control.port")/counts?ranges=$ranges" >"$dir/counts.out" ||
    fail "the $1 receiver's counts could not be read"
  pid=$(cat "$dir/receiver.pid")
  kill -TERM "$pid"
  wait "$pid" || true
  forget_pid "$pid"
}

# A TCP counter of the whole machine: a full listen queue drops a SYN, which
# costs the client a 1 s retransmission (shows in the max latency).
listen_overflows() { awk '$1 == "TcpExt:" && !h {for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next}
  $1 == "TcpExt:" {for (i = 2; i <= NF; i++) if (n[i] == "ListenOverflows") print $i}' /proc/net/netstat; }
start_load=$(cut -d' ' -f1-3 /proc/loadavg) start_overflows=$(listen_overflows)
echo "soak: $((warmup_seconds + 3 * phase_seconds)) s: baseline and soak side by side" >&2
start baseline
start soak
load baseline "warm-up:$warmup_seconds:healthy" "down:$phase_seconds:healthy" "slow:$phase_seconds:healthy" \
  "recovery:$phase_seconds:healthy"
load soak "warm-up:$warmup_seconds:healthy" "down:$phase_seconds:down" "slow:$phase_seconds:slow" \
  "recovery:$phase_seconds:healthy"
finish soak
finish baseline
end_load=$(cut -d' ' -f1-3 /proc/loadavg) end_overflows=$(listen_overflows)

# ---------------------------------------------------------------- report

# field FILE SELECTOR KEY: the value of KEY= on the line of FILE holding SELECTOR as a word.
field() { awk -v sel="$2" -v key="$3" '{hit = 0; for (i = 1; i <= NF; i++) if ($i == sel) hit = 1}
  hit {for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) {print substr($i, length(key) + 2); exit}}' "$1"; }
# prom FILE NAME [FILTER...]: the sum of NAME's samples whose labels hold every FILTER.
prom() { local file=$1 name=$2; shift 2
  awk -v name="$name" -v filters="$*" 'BEGIN {n = split(filters, f, " ")}
    index($0, name "{") == 1 || index($0, name " ") == 1 {ok = 1; for (i = 1; i <= n; i++) if (index($0, f[i]) == 0) ok = 0
      if (ok) s += $NF}
    END {printf "%.2f\n", s}' "$file"; }
int() { printf '%.0f' "$1"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
B=$tmp/baseline S=$tmp/soak
phases=(warm-up down slow recovery)
ok=true

printf '\nOutage soak: %s req/s paced on %s connections to each service; phases of %s s (warm-up %s s);\n' \
  "$rate" "$connections" "$phase_seconds" "$warmup_seconds"
printf 'the slow receiver answers after %s ms. Baseline and soak ran side by side on %s cores; load\n' "$slow_ms" "$(nproc)"
printf 'average %s at the start, %s at the end (1, 5, 15 min).\n' "$start_load" "$end_load"

printf '\nLatency in us from each request'"'"'s due time (resp: from its send), peak RSS in MB and CPU in s\n'
printf 'of each phase, baseline | soak (the baseline'"'"'s receiver is healthy throughout)\n'
printf '%-9s %-8s %6s %13s %13s %6s %13s %13s %13s %11s %11s\n' phase receiver reqs p50 p99 ratio resp.p99 p99.9 max \
  "RSS peak" CPU
prev_b=0 prev_s=0
for p in "${phases[@]}"; do
  cpu_b=$(prom "$B/scrapes/$p.prom" process_cpu_seconds_total) cpu_s=$(prom "$S/scrapes/$p.prom" process_cpu_seconds_total)
  b() { field "$B/load.out" "phase=$p" "$1"; }
  s() { field "$S/load.out" "phase=$p" "$1"; }
  state=$(s state); [ "$state" != slow ] || state="slow $((slow_ms / 1000))s"
  printf '%-9s %-8s %6s %13s %13s %6s %13s %13s %13s %11s %11s\n' "$p" "$state" "$(s requests)" \
    "$(b p50_us)|$(s p50_us)" "$(b p99_us)|$(s p99_us)" \
    "$(awk -v a="$(b p99_us)" -v b="$(s p99_us)" 'BEGIN {printf "%.2f", b / a}')" \
    "$(b response_p99_us)|$(s response_p99_us)" "$(b p999_us)|$(s p999_us)" "$(b max_us)|$(s max_us)" \
    "$(mb "$(b rss_peak_kb)")|$(mb "$(s rss_peak_kb)")" \
    "$(awk -v a="$cpu_b" -v b="$prev_b" -v c="$cpu_s" -v d="$prev_s" 'BEGIN {printf "%.1f|%.1f", a - b, c - d}')"
  prev_b=$cpu_b prev_s=$cpu_s
done
errors=$(awk '{for (i = 1; i <= NF; i++) if (index($i, "errors=") == 1) s += substr($i, 8)} END {print s + 0}' "$B/load.out" "$S/load.out")
printf 'ratio: soak p99 / baseline p99 of the same phase; in the warm-up both receivers are healthy, so its\n'
printf 'ratio is the noise between two identical services. Failed requests: %s. Listen queue overflows on\n' "$errors"
printf 'the machine during the run (each a 1 s delay for some client): %s.\n' "$((end_overflows - start_overflows))"
[ "$errors" = 0 ] || { echo "FAIL: $errors requests failed (the application, not its telemetry)"; ok=false; }

# The memory the bounds allow beyond a healthy run: each OTLP exporter's
# full queue plus the batch it is retrying (the pipelines' own queues are
# as full-sized in a healthy run: their slots keep their buffers).
span_batch=$((span_queue < 512 ? span_queue : 512)) log_batch=$((log_queue < 512 ? log_queue : 512))
bound_kb=$(( ((span_queue + span_batch) * span_bytes + (log_queue + log_batch) * log_bytes) / 1024 ))
warm_peak=$(field "$S/load.out" phase=warm-up rss_peak_kb)
outage_peak=$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}}
  v["phase"] != "warm-up" && v["rss_peak_kb"] > m {m = v["rss_peak_kb"]} END {print m + 0}' "$S/load.out")
base_peak=$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}}
  v["rss_peak_kb"] > m {m = v["rss_peak_kb"]} END {print m + 0}' "$B/load.out")
printf '\nMemory. Bounds: spans OTEL_BSP_MAX_QUEUE_SIZE=%s (span pipeline queue and OTLP exporter queue,\n' "$span_queue"
printf 'batches of %s), logs OTEL_BLRP_MAX_QUEUE_SIZE=%s (log pipeline queue and OTLP exporter queue, batches\n' \
  "$span_batch" "$log_queue"
printf 'of %s), metrics 16 snapshots. A queued span takes %s bytes of heap, a log record %s\n' "$log_batch" "$span_bytes" \
  "$log_bytes"
printf '(queued_item_bytes), so full exporter queues plus the batch being retried hold %s MB more than\n' "$(mb "$bound_kb")"
printf 'a healthy run. Soak: peak %s MB after the warm-up, %+.1f MB over its warm-up peak (%s MB);\n' \
  "$(mb "$outage_peak")" "$(awk -v a="$outage_peak" -v b="$warm_peak" 'BEGIN {print (a - b) / 1024}')" "$(mb "$warm_peak")"
printf 'baseline peak %s MB. RSS change over the second half of each soak phase:' "$(mb "$base_peak")"
for p in down slow recovery; do
  printf ' %s %+.1f MB' "$p" \
    "$(awk -v a="$(field "$S/load.out" "phase=$p" rss_mid_kb)" -v b="$(field "$S/load.out" "phase=$p" rss_end_kb)" 'BEGIN {print (b - a) / 1024}')"
done
printf '.\n'

# Per phase, the SDK's own counters from the soak service's /metrics.
printf '\nSDK self-metrics of the soak service per phase (its /metrics at each phase end, differences)\n'
printf '%-9s %-8s %9s %9s %9s   %s\n' phase signal exported failed dropped "dropped by reason"
prev=""
delta() { local now before=0; now=$(prom "$cur" "$@"); [ -z "$prev" ] || before=$(prom "$prev" "$@")
  awk -v a="$now" -v b="$before" 'BEGIN {printf "%.0f", a - b}'; }
for p in "${phases[@]}"; do
  cur=$S/scrapes/$p.prom
  for sig in spans logs metrics; do
    reasons=$({ grep -o "^obs_exporter_dropped_total{signal=\"$sig\",reason=\"[a-z_]*\"" "$cur" || true; } | sed 's/.*reason="\([a-z_]*\)".*/\1/' |
      while read -r r; do n=$(delta obs_exporter_dropped_total "signal=\"$sig\"" "reason=\"$r\""); [ "$n" = 0 ] || printf '%s=%s ' "$r" "$n"; done)
    printf '%-9s %-8s %9s %9s %9s   %s\n' "$p" "$sig" "$(delta obs_exporter_exported_total "signal=\"$sig\"" 'backend="otlp"')" \
      "$(delta obs_exporter_failed_total "signal=\"$sig\"" 'backend="otlp"')" "$(delta obs_exporter_dropped_total "signal=\"$sig\"")" \
      "${reasons:--}"
  done
  prev=$cur
done

printf '\nAccounting after the shutdown (the final obs_exporter_* of each service; what its receiver got)\n'
printf '%-9s %-8s %9s %9s %9s %9s %9s  %s\n' run signal produced received dropped failed exported balance
for run_dir in "$B" "$S"; do
  run_name=$(basename "$run_dir")
  final=$run_dir/final.prom counts=$run_dir/counts.out
  for sig in spans logs metrics; do
    case $sig in
      spans) produced=$(int "$(prom "$final" http_server_request_duration_seconds_count)"); received=$(field "$counts" spans received) ;;
      logs) produced=$(int "$(prom "$final" e2e_items_served_total)"); received=$(field "$counts" logs received) ;;
      metrics) received=$(field "$counts" metric_points received) ;;
    esac
    dropped=$(int "$(prom "$final" obs_exporter_dropped_total "signal=\"$sig\"")")
    failed=$(int "$(prom "$final" obs_exporter_failed_total "signal=\"$sig\"" 'backend="otlp"')")
    exported=$(int "$(prom "$final" obs_exporter_exported_total "signal=\"$sig\"" 'backend="otlp"')")
    if [ "$sig" = metrics ]; then
      # Data points are made by the exporter (one per series per export):
      # produced is the SDK's own count; the receiver must have them all.
      produced=$((exported + failed + dropped))
      [ "$received" = "$exported" ] && balance="exact (received = exported)" || balance="received - exported = $((received - exported))"
    else
      diff=$((produced - received - dropped - failed))
      if [ "$diff" = 0 ] && [ "$received" = "$exported" ]; then balance=exact
      else balance="produced - received - dropped - failed = $diff; received - exported = $((received - exported))"; fi
    fi
    [ "${balance%% *}" = exact ] || ok=false
    printf '%-9s %-8s %9s %9s %9s %9s %9s  %s\n' "$run_name" "$sig" "$produced" "$received" "$dropped" "$failed" \
      "$exported" "$balance"
  done
  dup=$(( $(field "$counts" spans duplicates) + $(field "$counts" logs duplicates) ))
  unnumbered=$(( $(field "$counts" spans unnumbered) + $(field "$counts" logs unnumbered) ))
  [ "$dup" = 0 ] && [ "$unnumbered" = 0 ] || { echo "FAIL: $run_name: $dup duplicates, $unnumbered items without a request number"; ok=false; }
done
printf 'produced: spans = requests served (http_server_request_duration_seconds count), logs = e2e_items_served_total;\n'
printf 'dropped: all reasons; failed, exported: backend="otlp". No span or record arrived twice.\n'

# Delivery after the recovery: every span and log record of a request made
# once the exporter could have drained (the slow receiver's last answer
# can take --slow-ms) must have arrived, and the last cumulative counters
# received must be the final ones.
grace_ms=$((slow_ms + 1000))
first=$(field "$S/counts.out" range=recovery first) end=$(field "$S/counts.out" range=recovery end)
printf '\nDelivery after the soak receiver recovered (requests %s to %s)\n' "$first" "$((end - 1))"
for sig in spans logs; do
  got=$(field "$S/counts.out" range=recovery "$sig") missing=$(field "$S/counts.out" range=recovery "${sig}_missing")
  last=$(field "$S/counts.out" range=recovery "${sig}_last_missing")
  if [ "$missing" = 0 ]; then
    printf '  %-5s all %s delivered\n' "$sig" "$got"
  else
    last_ms=$(( (last - first + 1) * 1000 / rate ))
    printf '  %-5s %s of %s delivered; the %s lost were all made in the first %s ms' "$sig" "$got" "$((end - first))" \
      "$missing" "$last_ms"
    if [ "$last_ms" -le "$grace_ms" ]; then printf ' (within %s ms: the exporter still waited\n        on the slow answer, its queue full); everything later was delivered\n' "$grace_ms"
    else printf ' -- later than %s ms: delivery did not resume\n' "$grace_ms"; ok=false; fi
  fi
done
served=$(int "$(prom "$S/final.prom" e2e_items_served_total)")
http_final=$(int "$(prom "$S/final.prom" http_server_request_duration_seconds_count)")
served_received=$(awk -F= '/^served_counter_max=/ {print $2}' "$S/counts.out")
http_received=$(awk -F= '/^http_requests_max=/ {print $2}' "$S/counts.out")
printf '  metrics: the last e2e_items_served received is %s (final %s), the last request count %s (final %s)\n' \
  "$served_received" "$served" "$http_received" "$http_final"
[ "$served_received" = "$served" ] && [ "$http_received" = "$http_final" ] || ok=false
printf '  made in each soak phase, delivered:'
awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
  if (v["range"] != "") printf " %s %d spans, %d log records of %d;", v["range"], v["spans"], v["logs"], v["end"] - v["first"]}
  END {print ""}' "$S/counts.out"

if grep -q "obs: error" "$S/service.err"; then
  printf '\nThe soak service'"'"'s error output:\n'; sed 's/^/  /' "$S/service.err" | head -n 20
fi
if $ok; then printf '\nRESULT: accounting exact; delivery resumed after the recovery\n'
else printf '\nRESULT: FAILED (see above)\n'; exit 1; fi
