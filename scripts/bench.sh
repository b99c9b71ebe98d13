#!/usr/bin/env bash
# Benchmarks obs against prometheus-cpp and spdlog in one run and prints one
# table (docs/performance.md explains every case and column).
#
#   scripts/bench.sh [benchmark arguments...]   e.g. scripts/bench.sh --benchmark_filter=counter
#
# Installs what is missing, configures a Release build with
# -DOBS_BUILD_BENCHMARKS=ON, builds tests/bench/obs_bench, runs it with 3
# repetitions (interleaved, so obs and its peer see the same machine load)
# and reports the median of each case. Then it measures sustained rates
# through the pipelines: log records into a file (obs's console backend with
# stdout on a file, spdlog's async logger with a file sink), flat out and
# paced at 1 M records/s; and spans from 2 threads, flat out and paced.
#
# Environment: OBS_BENCH_BUILD_DIR (default build-bench), OBS_BENCH_REPETITIONS
# (default 3), OBS_BENCH_MIN_TIME (seconds per repetition, default 0.5),
# CMAKE_BUILD_PARALLEL_LEVEL (default: all cores). The raw Google Benchmark
# JSON is kept in <build dir>/bench.json.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

scripts/install-deps.sh
# Google Benchmark is needed only here (install-deps.sh does not list it).
if ! dpkg-query -W -f='${Status}' libbenchmark-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "bench: installing libbenchmark-dev" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libbenchmark-dev >/dev/null
fi

build=${OBS_BENCH_BUILD_DIR:-build-bench}
jobs=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DOBS_BUILD_TESTS=OFF -DOBS_BUILD_DEMO=OFF \
  -DOBS_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j"$jobs" --target obs_bench obs_pipeline_rate >/dev/null

# glibc's malloc moves its mmap and trim thresholds as a process runs, so
# whether a 700 KB /metrics buffer is page-faulted in afresh on every render
# depended on which benchmarks ran before (2x swings either way). Fixed
# thresholds remove that order effect for obs and prometheus-cpp alike.
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864}

json="$build/bench.json"
echo "bench: running $build/tests/bench/obs_bench (about two minutes)..." >&2
"$build/tests/bench/obs_bench" \
  --benchmark_repetitions="${OBS_BENCH_REPETITIONS:-3}" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_min_time="${OBS_BENCH_MIN_TIME:-0.5}" \
  --benchmark_format=json --benchmark_out="$json" --benchmark_out_format=json \
  "$@" >/dev/null

/usr/bin/python3 - "$json" <<'EOF'
import json, sys, collections

data = json.load(open(sys.argv[1]))
ctx = data["context"]

def split(run_name):
    # "<case>/<impl>/real_time[/threads:N]"
    parts = run_name.split("/")
    threads = 1
    for p in parts:
        if p.startswith("threads:"):
            threads = int(p.split(":")[1])
    return parts[0], parts[1], threads

to_ns = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
wall, cpu = {}, {}                          # (case, impl, threads) -> ns per call (median)
extra = collections.defaultdict(collections.Counter)  # counters summed over repetitions
reps = 1
for b in data["benchmarks"]:
    key = split(b["run_name"])
    if b.get("run_type") == "aggregate":
        if b.get("aggregate_name") != "median":
            continue
    else:
        reps = max(reps, b.get("repetitions", 1))
        for c in ("calls", "dropped", "delivered"):
            if c in b:
                extra[key][c] += b[c]
        if b.get("repetitions", 1) > 1:
            continue  # the median aggregate follows
    # Wall: Google Benchmark's real_time with N threads is wall time divided
    # by the iterations of all threads; one caller sees N times that per call.
    # CPU: cpu_time is the threads' CPU time summed, divided by all their
    # iterations: CPU per call already.
    unit = to_ns[b["time_unit"]]
    wall[key] = b["real_time"] * unit * key[2]
    cpu[key] = b["cpu_time"] * unit

# Cases in the order of tests/bench/obs_bench.cpp (the run itself is interleaved).
known = ["counter_bound", "counter_labelled", "facade_increment", "histogram_bound", "histogram_labelled",
         "log_below_level", "log_below_level_macro", "log_enabled", "span_start_end", "metrics_render_1000_histograms",
         "otlp_encode_1000_spans"]
names = sorted({k[0] for k in wall}, key=lambda c: (known.index(c) if c in known else len(known), c))
order = sorted({k[:2] for k in wall}, key=lambda k: (names.index(k[0]), k[1] != "obs", k[1]))

def fmt_time(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e4:
        return "%.1f us" % (ns / 1e3)
    return "%.1f ns" % ns

def fmt_drops(key):
    e = extra.get(key)
    if not e or not e["calls"]:
        return ""
    return "%s dropped %d/%d (%.1f%%)" % (key[1], e["dropped"], e["calls"], 100.0 * e["dropped"] / e["calls"])

cases = []
for case in names:
    impls = [i for c, i in order if c == case]
    peer = next((i for i in impls if i != "obs"), None)
    for t in sorted({k[2] for k in wall if k[0] == case}):
        ko, kp = (case, "obs", t), (case, peer, t)
        ratio = lambda d: "%.2f" % (d[kp] / d[ko]) if peer and ko in d and kp in d else "-"
        drops = "; ".join(x for x in (fmt_drops(ko), fmt_drops(kp) if peer else "") if x)
        cases.append((case, str(t), fmt_time(wall.get(ko)), fmt_time(cpu.get(ko)), peer or "-",
                      fmt_time(wall.get(kp)), fmt_time(cpu.get(kp)), ratio(wall), ratio(cpu), drops))

head = ("case", "threads", "obs wall/call", "obs cpu/call", "peer", "peer wall/call", "peer cpu/call",
        "ratio wall (peer/obs)", "ratio cpu", "drops (all repetitions)")
widths = [max(len(r[i]) for r in cases + [head]) for i in range(len(head))]
line = lambda r: "| " + " | ".join(r[i].ljust(widths[i]) for i in range(len(r))) + " |"
print("obs_bench %s, %d x %.0f MHz, load average %s, median of %d repetitions" % (
    ctx["date"], ctx["num_cpus"], ctx["mhz_per_cpu"], " ".join("%.2f" % x for x in ctx.get("load_avg", [])), reps))
print("per call as one calling thread sees it; ratio > 1 means obs is faster")
print(line(head))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in cases:
    print(line(r))
EOF

# Sustained rates, one process per case and run.
rate_dir=$(mktemp -d "${TMPDIR:-/tmp}/obs-pipeline-rate.XXXXXX")
trap 'rm -rf "$rate_dir"' EXIT
seconds=${OBS_BENCH_RATE_SECONDS:-5}
span_rate=${OBS_BENCH_SPAN_RATE:-500000}
echo
echo "sustained rates for ${seconds} s each. Logs: 1 producer thread, into a file (obs: default queue, text lines;"
echo "spdlog: async, queue 8192, overrun_oldest). Spans: 2 producer threads, default queue, a backend that counts."
printf '| %-15s | %-9s | %12s | %12s | %12s | %16s |\n' case load offered written dropped "written/s"
printf '|-----------------|-----------|--------------|--------------|--------------|------------------|\n'
run_rate() {  # <case> <rate>
  local line label
  line=$("$build/tests/bench/obs_pipeline_rate" "$1" "$rate_dir/out.log" "$2" "$seconds" 2>&1 >/dev/null)
  rm -f "$rate_dir/out.log"
  label=$([ "$2" = 0 ] && echo "flat out" || echo "$2/s")
  echo "$line" | awk -v name="$1" -v label="$label" '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %-15s | %-9s | %12d | %12d | %12d | %16d |\n", name, label, v["offered"], v["written"], v["dropped"], v["written_per_second"] }'
}
for rate in 0 1000000; do
  run_rate obs-log-file "$rate"
  run_rate spdlog-log-file "$rate"
done
run_rate obs-spans 0
run_rate obs-spans "$span_rate"
