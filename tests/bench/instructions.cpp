// Instructions per operation, for scripts/bench-instructions.sh: runs one
// case's operation N times with callgrind collecting only around that loop
// (CALLGRIND_TOGGLE_COLLECT, valgrind run with --collect-atstart=no), so
// the count is the operation's own, without setup or a benchmark harness.
// Unlike timings, instruction counts do not move with the machine's load.
//
//   valgrind --tool=callgrind --collect-atstart=no instructions <case> <N>
// Runtime level checks only: spdlog's SPDLOG_LOGGER_* macros would
// otherwise compile debug calls away entirely.
#define SPDLOG_ACTIVE_LEVEL SPDLOG_LEVEL_TRACE
#include <valgrind/callgrind.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "obs/obs.hpp"

namespace {

const std::vector<double>& buckets() { return obs::default_buckets(); }
constexpr double kValues[16] = {0.001, 0.004, 0.007, 0.012, 0.02, 0.03, 0.07, 0.2,
                                0.3,   0.6,   0.9,   1.5,   3,    4,    7,    20};

class DiscardSpanBackend : public obs::SpanBackend {
 public:
  std::string_view name() const override { return "discard"; }
  void write(const obs::SpanBatch&) override {}
};

// Runs op() `warm` times, then n times with collection on.
template <class Op>
void measure(long n, Op&& op) {
  for (long i = 0; i < 1000; ++i) op(i);
  CALLGRIND_TOGGLE_COLLECT;
  for (long i = 0; i < n; ++i) op(i);
  CALLGRIND_TOGGLE_COLLECT;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: instructions <case> <iterations>\n");
    return 2;
  }
  const std::string which = argv[1];
  const long n = std::atol(argv[2]);
  auto spans = std::make_shared<DiscardSpanBackend>();
  obs::Config config;
  config.console(false).admin(false).sampler(obs::Config::Sampler::AlwaysOn).add_span_backend(spans);
  obs::Sdk sdk = obs::init(std::move(config));
  prometheus::Registry registry;

  const std::map<std::string, std::function<void()>> cases = {
      {"obs_counter_bound",
       [&] {
         const auto c = obs::counter("i_counter_total").labels();
         measure(n, [&](long) { c.inc(); });
       }},
      {"prometheus_counter_bound",
       [&] {
         auto& c = prometheus::BuildCounter().Name("i_counter_total").Register(registry).Add({});
         measure(n, [&](long) { c.Increment(); });
       }},
      {"obs_counter_labelled",
       [&] {
         const auto f = obs::counter("i_labelled_total", {"method", "route"});
         f.labels("GET", "/users").inc();
         measure(n, [&](long) { f.labels("GET", "/users").inc(); });
       }},
      {"prometheus_counter_labelled",
       [&] {
         auto& f = prometheus::BuildCounter().Name("i_labelled_total").Register(registry);
         measure(n, [&](long) { f.Add({{"method", "GET"}, {"route", "/users"}}).Increment(); });
       }},
      {"obs_facade_increment",
       [&] { measure(n, [&](long) { obs::metric::increment("i.facade", 1, {{"region", "eu"}}); }); }},
      {"obs_histogram_bound",
       [&] {
         const auto h = obs::histogram("i_duration_seconds").labels();
         measure(n, [&](long i) { h.observe(kValues[i & 15]); });
       }},
      {"prometheus_histogram_bound",
       [&] {
         auto& h = prometheus::BuildHistogram().Name("i_duration_seconds").Register(registry).Add(
             {}, prometheus::Histogram::BucketBoundaries(buckets()));
         measure(n, [&](long i) { h.Observe(kValues[i & 15]); });
       }},
      {"obs_log_below_level",
       [&] {
         obs::log::set_level(obs::log::Level::Warning);
         measure(n, [&](long i) { obs::log::info("below", {{"i", i}, {"kind", "x"}}); });
       }},
      {"obs_log_below_level_macro",
       [&] {
         obs::log::set_level(obs::log::Level::Warning);
         measure(n, [&](long i) { OBS_LOG_INFO("below", {{"i", i}, {"kind", "x"}}); });
       }},
      {"spdlog_log_below_level_macro",
       [&] {
         auto logger = spdlog::null_logger_mt("i_null_macro");
         logger->set_level(spdlog::level::warn);
         measure(n, [&](long i) { SPDLOG_LOGGER_INFO(logger, "below {} {}", i, "x"); });
       }},
      {"spdlog_log_below_level",
       [&] {
         auto logger = spdlog::null_logger_mt("i_null");
         logger->set_level(spdlog::level::warn);
         measure(n, [&](long i) { logger->info("below {} {}", i, "x"); });
       }},
      {"obs_span_start_end",
       [&] { measure(n, [&](long i) { obs::Span span("op", {{"i", i}, {"kind", "x"}}); }); }},
  };
  if (which == "list") {
    for (const auto& [name, _] : cases) std::printf("%s\n", name.c_str());
    return 0;
  }
  auto it = cases.find(which);
  if (it == cases.end()) {
    std::fprintf(stderr, "instructions: no case '%s' (try: instructions list 0)\n", which.c_str());
    return 2;
  }
  it->second();
  sdk.shutdown(std::chrono::seconds(5));
  return 0;
}
