// obs against its peers (prometheus-cpp, spdlog) on the same operation, in
// the same binary and the same run. Run through scripts/bench.sh, which
// prints one table; docs/performance.md says what each case measures.
//
// Naming: <case>/<impl>[/threads:N], impl being "obs" or the peer
// ("prometheus", "spdlog"). Cases without a peer have only "obs".
//
// Timing: every case uses real (wall-clock) time. With ->Threads(2) Google
// Benchmark divides the wall time by the iterations of *all* threads, i.e.
// it reports aggregate time per operation (inverse throughput). What a
// caller sees per call is that figure times the thread count; bench.sh
// prints the per-call figure ("ns/call").
//
// Every multi-threaded case shares one instrument between the threads
// (function-local statics), which is the contended situation the issue is
// about.
// Runtime level checks only: spdlog's SPDLOG_LOGGER_* macros would
// otherwise compile debug calls away entirely.
#define SPDLOG_ACTIVE_LEVEL SPDLOG_LEVEL_TRACE
#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "backends/otlp/otlp_encoder.hpp"  // white-box: internal header
#include "obs/backends/prometheus.hpp"
#include "obs/config.hpp"
#include "obs/instruments.hpp"
#include "obs/log.hpp"
#include "obs/log_backend.hpp"
#include "obs/log_format.hpp"
#include "obs/metric.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/sdk.hpp"
#include "obs/span.hpp"
#include "obs/span_backend.hpp"

namespace {

// ---------------------------------------------------------------- shared data

// Same buckets for obs and prometheus-cpp (Prometheus' defaults, seconds).
const std::vector<double>& buckets() { return obs::default_buckets(); }

// Observed values: cycled by both implementations, landing in every bucket.
constexpr std::array<double, 16> kValues{0.001, 0.004, 0.007, 0.012, 0.02, 0.03, 0.07, 0.2,
                                         0.3,   0.6,   0.9,   1.5,   3,    4,    7,    20};
inline double value_at(std::size_t i) { return kValues[i & (kValues.size() - 1)]; }

prometheus::Registry& prom_registry() {
  static prometheus::Registry r;
  return r;
}

// The obs_exporter_dropped_total series of one signal ("logs", "spans"),
// summed over reasons: how obs reports what it dropped.
double obs_dropped(std::string_view signal) {
  double total = 0;
  for (const auto& f : obs::MetricsRegistry::global().snapshot().families) {
    if (f.name != "obs_exporter_dropped") continue;
    for (const auto& s : f.series)
      if (!s.label_values.empty() && s.label_values[0] == signal) total += s.value;
  }
  return total;
}

// ---------------------------------------------------------------- backends

// Formats every record in the text format (what the console backend writes)
// into a reused buffer, then discards it; counts records.
class FormattingDiscardLogBackend : public obs::LogBackend {
 public:
  std::string_view name() const override { return "bench_discard"; }
  void write(const obs::LogBatch& batch) override {
    for (const auto& r : batch.records) {
      line_.clear();
      obs::append_log_text(line_, r, batch.resource);
      benchmark::DoNotOptimize(line_.data());
    }
    records.fetch_add(batch.records.size(), std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> records{0};

 private:
  std::string line_;
};

// Discards spans; counts them.
class DiscardSpanBackend : public obs::SpanBackend {
 public:
  std::string_view name() const override { return "bench_discard"; }
  void write(const obs::SpanBatch& batch) override {
    benchmark::DoNotOptimize(batch.spans.data());
    spans.fetch_add(batch.spans.size(), std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> spans{0};
};

// spdlog's counterpart of FormattingDiscardLogBackend: runs the pattern
// formatter on every message (on spdlog's worker thread), then discards.
class FormattingNullSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  std::atomic<std::uint64_t> records{0};

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    buf_.clear();
    formatter_->format(msg, buf_);
    benchmark::DoNotOptimize(buf_.data());
    records.fetch_add(1, std::memory_order_relaxed);
  }
  void flush_() override {}

 private:
  spdlog::memory_buf_t buf_;
};

std::shared_ptr<FormattingDiscardLogBackend> g_log_backend;
std::shared_ptr<DiscardSpanBackend> g_span_backend;
std::shared_ptr<FormattingNullSink> g_spdlog_sink;
std::shared_ptr<spdlog::logger> g_spdlog;  // async, overrun_oldest (never blocks the caller, like obs)
std::unique_ptr<obs::Sdk> g_sdk;

constexpr std::size_t kQueue = 16384;  // obs's default log queue; spdlog gets the same

// ---------------------------------------------------------------- counters

void BM_counter_bound_obs(benchmark::State& state) {
  static const obs::Counter c = obs::counter("bench_counter_bound").labels();
  for (auto _ : state) {
    c.inc();
    benchmark::ClobberMemory();
  }
}
void BM_counter_bound_prometheus(benchmark::State& state) {
  static prometheus::Counter& c =
      prometheus::BuildCounter().Name("bench_counter_bound_total").Register(prom_registry()).Add({});
  for (auto _ : state) {
    c.Increment();
    benchmark::ClobberMemory();
  }
}

// The series exists before the loop (created on first use by both).
void BM_counter_labelled_obs(benchmark::State& state) {
  static const obs::CounterFamily f = obs::counter("bench_counter_labelled", {"k1", "k2"});
  for (auto _ : state) {
    f.labels("a", "b").inc();
    benchmark::ClobberMemory();
  }
}
void BM_counter_labelled_prometheus(benchmark::State& state) {
  static prometheus::Family<prometheus::Counter>& f =
      prometheus::BuildCounter().Name("bench_counter_labelled_total").Register(prom_registry());
  for (auto _ : state) {
    f.Add({{"k1", "a"}, {"k2", "b"}}).Increment();
    benchmark::ClobberMemory();
  }
}

void BM_facade_increment_obs(benchmark::State& state) {
  for (auto _ : state) {
    obs::metric::increment("bench.facade", 1, {{"k", "v"}});
    benchmark::ClobberMemory();
  }
}

// ---------------------------------------------------------------- histograms

void BM_histogram_bound_obs(benchmark::State& state) {
  static const obs::Histogram h = obs::histogram("bench_histogram_bound", {}, {.buckets = buckets()}).labels();
  std::size_t i = 0;
  for (auto _ : state) {
    h.observe(value_at(i++));
    benchmark::ClobberMemory();
  }
}
void BM_histogram_bound_prometheus(benchmark::State& state) {
  static prometheus::Histogram& h = prometheus::BuildHistogram()
                                        .Name("bench_histogram_bound")
                                        .Register(prom_registry())
                                        .Add({}, prometheus::Histogram::BucketBoundaries(buckets()));
  std::size_t i = 0;
  for (auto _ : state) {
    h.Observe(value_at(i++));
    benchmark::ClobberMemory();
  }
}

void BM_histogram_labelled_obs(benchmark::State& state) {
  static const obs::HistogramFamily f = obs::histogram("bench_histogram_labelled", {"k1", "k2"}, {.buckets = buckets()});
  std::size_t i = 0;
  for (auto _ : state) {
    f.labels("a", "b").observe(value_at(i++));
    benchmark::ClobberMemory();
  }
}
void BM_histogram_labelled_prometheus(benchmark::State& state) {
  static prometheus::Family<prometheus::Histogram>& f =
      prometheus::BuildHistogram().Name("bench_histogram_labelled").Register(prom_registry());
  static const prometheus::Histogram::BucketBoundaries b(buckets());
  std::size_t i = 0;
  for (auto _ : state) {
    // prometheus-cpp 1.0 builds a Histogram from `b` on every Add and
    // discards it when the series exists: that is the library's cost.
    f.Add({{"k1", "a"}, {"k2", "b"}}, b).Observe(value_at(i++));
    benchmark::ClobberMemory();
  }
}

// ---------------------------------------------------------------- logs

// Level is Info for both; these are Debug calls.
void BM_log_below_level_obs(benchmark::State& state) {
  for (auto _ : state) {
    obs::log::debug("User logged in", {{"user_id", 42}, {"route", "/api/comments"}});
    benchmark::ClobberMemory();
  }
}
void BM_log_below_level_spdlog(benchmark::State& state) {
  for (auto _ : state) {
    g_spdlog->debug("User logged in user_id={} route={}", 42, "/api/comments");
    benchmark::ClobberMemory();
  }
}

// The macro forms check the level before building the arguments (spdlog's
// SPDLOG_LOGGER_DEBUG checks it inside the call, after binding them).
void BM_log_below_level_macro_obs(benchmark::State& state) {
  for (auto _ : state) {
    OBS_LOG_DEBUG("User logged in", {{"user_id", 42}, {"route", "/api/comments"}});
    benchmark::ClobberMemory();
  }
}
void BM_log_below_level_macro_spdlog(benchmark::State& state) {
  for (auto _ : state) {
    SPDLOG_LOGGER_DEBUG(g_spdlog, "User logged in user_id={} route={}", 42, "/api/comments");
    benchmark::ClobberMemory();
  }
}

// Caller-side cost of an enabled record with a message and 2 fields. Both
// queues hold kQueue records, both drop (obs: the new record; spdlog
// overrun_oldest: the oldest) rather than block, and both workers format
// the line in a text pattern and discard it. Drops are reported as counters.
void BM_log_enabled_obs(benchmark::State& state) {
  double dropped_before = 0;
  std::uint64_t delivered_before = 0;
  if (state.thread_index() == 0) {
    g_sdk->flush();
    dropped_before = obs_dropped("logs");
    delivered_before = g_log_backend->records.load();
  }
  for (auto _ : state) {
    obs::log::info("User logged in", {{"user_id", 42}, {"route", "/api/comments"}});
    benchmark::ClobberMemory();
  }
  if (state.thread_index() == 0) {
    g_sdk->flush();
    const double total = static_cast<double>(state.iterations()) * state.threads();
    const double dropped = obs_dropped("logs") - dropped_before;
    state.counters["calls"] = total;
    state.counters["dropped"] = dropped;
    state.counters["delivered"] = static_cast<double>(g_log_backend->records.load() - delivered_before);
  }
}
void BM_log_enabled_spdlog(benchmark::State& state) {
  std::size_t overrun_before = 0;
  std::uint64_t delivered_before = 0;
  if (state.thread_index() == 0) {
    g_spdlog->flush();
    overrun_before = spdlog::thread_pool()->overrun_counter();
    delivered_before = g_spdlog_sink->records.load();
  }
  for (auto _ : state) {
    g_spdlog->info("User logged in user_id={} route={}", 42, "/api/comments");
    benchmark::ClobberMemory();
  }
  if (state.thread_index() == 0) {
    // flush() is asynchronous in spdlog: wait for the worker to go idle.
    g_spdlog->flush();
    const double total = static_cast<double>(state.iterations()) * state.threads();
    for (int i = 0; i < 2000 && spdlog::thread_pool()->queue_size() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    state.counters["calls"] = total;
    state.counters["dropped"] = static_cast<double>(spdlog::thread_pool()->overrun_counter() - overrun_before);
    state.counters["delivered"] = static_cast<double>(g_spdlog_sink->records.load() - delivered_before);
  }
}

// ---------------------------------------------------------------- spans

// Start + end of a sampled root span with 2 attributes, through the span
// batching pipeline to a discarding backend. Caller-side time; drops from
// obs_exporter_dropped_total{signal="spans"}.
void BM_span_obs(benchmark::State& state) {
  double dropped_before = 0;
  std::uint64_t delivered_before = 0;
  if (state.thread_index() == 0) {
    g_sdk->flush();
    dropped_before = obs_dropped("spans");
    delivered_before = g_span_backend->spans.load();
  }
  for (auto _ : state) {
    obs::Span span("GET /api/comments", {{"http.route", "/api/comments"}, {"user_id", 42}});
    benchmark::DoNotOptimize(&span);
  }
  if (state.thread_index() == 0) {
    g_sdk->flush();
    state.counters["calls"] = static_cast<double>(state.iterations()) * state.threads();
    state.counters["dropped"] = obs_dropped("spans") - dropped_before;
    state.counters["delivered"] = static_cast<double>(g_span_backend->spans.load() - delivered_before);
  }
}

// ---------------------------------------------------------------- /metrics

constexpr int kRenderSeries = 1000;

// 1000 series of one histogram family (label "series"), each with the same
// 16 observations, in an obs instance registry and a prometheus-cpp registry.
obs::MetricsRegistry& render_obs_registry() {
  static obs::MetricsRegistry* r = [] {
    auto* reg = new obs::MetricsRegistry();
    auto f = reg->histogram("bench_render_seconds", {"series"},
                            {.description = "render bench", .buckets = buckets(), .series_limit = 2 * kRenderSeries});
    for (int i = 0; i < kRenderSeries; ++i) {
      auto h = f.labels(std::to_string(i));
      for (double v : kValues) h.observe(v);
    }
    return reg;
  }();
  return *r;
}
prometheus::Registry& render_prom_registry() {
  static prometheus::Registry* r = [] {
    auto* reg = new prometheus::Registry();
    // Every obs registry also exposes its own obs_metric_rejected_total
    // (8 series, all 0): the prometheus-cpp registry gets the same family,
    // so both render exactly the same text.
    auto& rejected = prometheus::BuildCounter()
                         .Name("obs_metric_rejected_total")
                         .Help("Measurements or registrations refused, by reason; see the SDK's error output")
                         .Register(*reg);
    for (const char* reason : {"invalid_name", "conflict", "label_mismatch", "invalid_label_value",
                               "negative_increment", "too_many_families"})
      rejected.Add({{"reason", reason}});
    auto& f = prometheus::BuildHistogram().Name("bench_render_seconds").Help("render bench").Register(*reg);
    for (int i = 0; i < kRenderSeries; ++i) {
      auto& h = f.Add({{"series", std::to_string(i)}}, prometheus::Histogram::BucketBoundaries(buckets()));
      for (double v : kValues) h.Observe(v);
    }
    return reg;
  }();
  return *r;
}
// Without the scope labels: prometheus-cpp has no such thing.
std::string render_obs() { return obs::PrometheusBackend::render(render_obs_registry().snapshot(), nullptr, {.scope_labels = false}); }
std::string render_prom() { return prometheus::TextSerializer().Serialize(render_prom_registry().Collect()); }

// What /metrics does: take a snapshot and render it (PrometheusBackend::render()).
void BM_metrics_render_1000_histograms_obs(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = render_obs();
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
void BM_metrics_render_1000_histograms_prometheus(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = render_prom();
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

// ---------------------------------------------------------------- OTLP

constexpr int kOtlpSpans = 1000;

const std::vector<obs::SpanData>& otlp_spans() {
  static const std::vector<obs::SpanData> spans = [] {
    std::vector<obs::SpanData> v(kOtlpSpans);
    const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    for (int i = 0; i < kOtlpSpans; ++i) {
      auto& s = v[i];
      s.name = "GET /api/comments";
      s.kind = obs::SpanKind::Server;
      for (int b = 0; b < 16; ++b) s.context.trace_id.bytes[b] = static_cast<std::uint8_t>(i + b + 1);
      for (int b = 0; b < 8; ++b) s.context.span_id.bytes[b] = static_cast<std::uint8_t>(i * 7 + b + 1);
      s.context.sampled = true;
      for (int b = 0; b < 8; ++b) s.parent_span_id.bytes[b] = static_cast<std::uint8_t>(i * 3 + b + 1);
      s.start = t0 + std::chrono::microseconds(i);
      s.end = s.start + std::chrono::microseconds(250);
      s.attributes.resize(2);
      s.attributes[0].assign(obs::Field("http.route", "/api/comments"));
      s.attributes[1].assign(obs::Field("user_id", 42));
    }
    return v;
  }();
  return spans;
}

void BM_otlp_encode_1000_spans_obs(benchmark::State& state) {
  obs::Resource resource{.service = "bench", .environment = "bench", .version = "1.0", .host = "localhost", .pid = 1, .attributes = {}};
  const auto& spans = otlp_spans();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string body = obs::otlp::encode_traces_protobuf(resource, spans);
    bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

// ---------------------------------------------------------------- registration

// Each case at 1 and 2 threads on the same instrument, wall-clock time.
#define OBS_BENCH_MT(fn) BENCHMARK(fn)->Threads(1)->Threads(2)->UseRealTime()

OBS_BENCH_MT(BM_counter_bound_obs)->Name("counter_bound/obs");
OBS_BENCH_MT(BM_counter_bound_prometheus)->Name("counter_bound/prometheus");
OBS_BENCH_MT(BM_counter_labelled_obs)->Name("counter_labelled/obs");
OBS_BENCH_MT(BM_counter_labelled_prometheus)->Name("counter_labelled/prometheus");
OBS_BENCH_MT(BM_facade_increment_obs)->Name("facade_increment/obs");
OBS_BENCH_MT(BM_histogram_bound_obs)->Name("histogram_bound/obs");
OBS_BENCH_MT(BM_histogram_bound_prometheus)->Name("histogram_bound/prometheus");
OBS_BENCH_MT(BM_histogram_labelled_obs)->Name("histogram_labelled/obs");
OBS_BENCH_MT(BM_histogram_labelled_prometheus)->Name("histogram_labelled/prometheus");
OBS_BENCH_MT(BM_log_below_level_obs)->Name("log_below_level/obs");
OBS_BENCH_MT(BM_log_below_level_spdlog)->Name("log_below_level/spdlog");
OBS_BENCH_MT(BM_log_below_level_macro_obs)->Name("log_below_level_macro/obs");
OBS_BENCH_MT(BM_log_below_level_macro_spdlog)->Name("log_below_level_macro/spdlog");
OBS_BENCH_MT(BM_log_enabled_obs)->Name("log_enabled/obs");
OBS_BENCH_MT(BM_log_enabled_spdlog)->Name("log_enabled/spdlog");
OBS_BENCH_MT(BM_span_obs)->Name("span_start_end/obs");
BENCHMARK(BM_metrics_render_1000_histograms_obs)->Name("metrics_render_1000_histograms/obs")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_metrics_render_1000_histograms_prometheus)->Name("metrics_render_1000_histograms/prometheus")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_otlp_encode_1000_spans_obs)->Name("otlp_encode_1000_spans/obs")->UseRealTime()->Unit(benchmark::kMicrosecond);

// Equivalence check for the render pair: both must expose the same lines
// (prometheus-cpp orders series by label values, obs by creation, so the
// lines are compared sorted).
std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.emplace_back(text, start, end - start);
    start = end + 1;
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}
bool check_render_equivalence() {
  const std::string a = render_obs(), b = render_prom();
  if (sorted_lines(a) != sorted_lines(b)) {
    std::fprintf(stderr, "obs_bench: /metrics texts differ (obs %zu bytes, prometheus-cpp %zu bytes); see --dump-render\n",
                 a.size(), b.size());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // --dump-render: print both /metrics texts and exit (to inspect the pair).
  bool dump = false;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dump-render") == 0)
      dump = true;
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  // obs: no console, no admin server, no process metrics; the bench's own
  // discarding log and span backends; every span sampled.
  g_log_backend = std::make_shared<FormattingDiscardLogBackend>();
  g_span_backend = std::make_shared<DiscardSpanBackend>();
  obs::Config config;
  config.service_name = "obs_bench";
  config.console_logs = false;
  config.prometheus = false;
  config.admin_server = false;
  config.process_metrics = false;
  config.log_level = obs::log::Level::Info;
  config.log_queue_capacity = kQueue;
  config.error_handler = [](std::string_view) {};
  config.add_log_backend(g_log_backend).add_span_backend(g_span_backend).sampler(obs::Config::Sampler::AlwaysOn);
  g_sdk = std::make_unique<obs::Sdk>(obs::init(std::move(config)));
  if (!g_sdk->ok()) {
    for (const auto& e : g_sdk->errors()) std::fprintf(stderr, "obs_bench: init: %s\n", e.c_str());
    return 1;
  }

  // spdlog: async logger, one worker, same queue size, never blocks the
  // caller; a text pattern like obs's, formatted on the worker.
  spdlog::init_thread_pool(kQueue, 1);
  g_spdlog_sink = std::make_shared<FormattingNullSink>();
  g_spdlog = std::make_shared<spdlog::async_logger>("bench", g_spdlog_sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::overrun_oldest);
  g_spdlog->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %-5l %n: %v", spdlog::pattern_time_type::utc);
  g_spdlog->set_level(spdlog::level::info);

  if (dump) {
    std::fputs(render_obs().c_str(), stdout);
    std::fputs("----\n", stdout);
    std::fputs(render_prom().c_str(), stdout);
    return 0;
  }
  if (!check_render_equivalence()) return 1;

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_sdk->shutdown();
  g_spdlog.reset();
  spdlog::shutdown();
  return 0;
}
