// Sustained rates through the pipelines, one case per process so no case
// warms up another:
//   - obs-log-file: log records into a file through obs's console backend
//     (text lines, the default queue) with stdout pointed at the file;
//   - spdlog-log-file: the same through spdlog's async logger and a file
//     sink writing the same line content;
//   - obs-spans: sampled spans from 2 threads (half the rate each) through
//     the span pipeline (default queue) to a backend that counts them.
//
//   obs_pipeline_rate <case> <file> <rate per second, 0 = flat out> <seconds>
//
// Prints one line: offered, written (lines in the file, or spans the backend
// received), dropped, the producers' elapsed seconds and the rate written.
// A paced run offers exactly `rate` per second, in bursts each millisecond.
#define SPDLOG_ACTIVE_LEVEL SPDLOG_LEVEL_TRACE
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "obs/config.hpp"
#include "obs/log.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/sdk.hpp"
#include "obs/span.hpp"
#include "obs/span_backend.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Calls `emit` at `rate` per second (0: as fast as it returns) for
// `seconds`; returns how many calls and how long they took. A paced run
// emits each millisecond's share in a burst and sleeps until the next
// millisecond: an application producing that many items leaves the rest of
// the CPU to other threads (spinning between items would keep every core
// busy and measure the scheduler instead of the pipeline).
template <class Emit>
std::pair<std::uint64_t, double> produce(double rate, double seconds, Emit&& emit) {
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::uint64_t n = 0;
  if (rate > 0) {
    const double per_ms = rate / 1000;
    for (std::uint64_t ms = 1;; ++ms) {
      const auto tick = start + std::chrono::milliseconds(ms);
      if (tick > end) break;
      for (const auto due = static_cast<std::uint64_t>(per_ms * static_cast<double>(ms)); n < due; ++n) emit(n);
      std::this_thread::sleep_until(tick);
    }
  } else {
    for (; (n & 1023) != 0 || Clock::now() < end; ++n) emit(n);
  }
  return {n, std::chrono::duration<double>(Clock::now() - start).count()};
}

std::uint64_t lines_in(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::uint64_t lines = 0;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) lines += buf[i] == '\n';
    if (!in) break;
  }
  return lines;
}

double obs_dropped(std::string_view signal) {
  double total = 0;
  for (const auto& f : obs::MetricsRegistry::global().snapshot().families)
    if (f.name == "obs_exporter_dropped")
      for (const auto& s : f.series)
        if (!s.label_values.empty() && s.label_values[0] == signal) total += s.value;
  return total;
}

class CountingSpanBackend : public obs::SpanBackend {
 public:
  std::string_view name() const override { return "count"; }
  void write(const obs::SpanBatch& batch) override { spans += batch.spans.size(); }
  std::atomic<std::uint64_t> spans{0};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: obs_pipeline_rate <obs-log-file|spdlog-log-file|obs-spans> <file> <rate, 0 = flat out> <seconds>\n");
    return 2;
  }
  const std::string impl = argv[1], path = argv[2];
  const double rate = std::atof(argv[3]), seconds = std::atof(argv[4]);
  std::pair<std::uint64_t, double> produced;
  double dropped = 0;
  std::uint64_t written = 0;

  if (impl == "obs-spans") {
    auto counter = std::make_shared<CountingSpanBackend>();
    obs::Config config;  // the default span queue and batch
    config.default_service("bench-svc").console(false).admin(false).with_prometheus(false);
    config.sampler(obs::Config::Sampler::AlwaysOn).add_span_backend(counter);
    auto sdk = obs::init(std::move(config));
    std::pair<std::uint64_t, double> halves[2];
    std::vector<std::thread> producers;
    for (auto& half : halves)
      producers.emplace_back([&half, rate, seconds] {
        half = produce(rate / 2, seconds, [](std::uint64_t n) {
          obs::Span span("GET /api/comments", {{"http.route", "/api/comments"}, {"user_id", static_cast<std::int64_t>(n)}});
        });
      });
    for (auto& t : producers) t.join();
    sdk.shutdown(std::chrono::seconds(30));
    produced = {halves[0].first + halves[1].first, std::max(halves[0].second, halves[1].second)};
    dropped = obs_dropped("spans");
    written = counter->spans.load();
  } else if (impl == "obs-log-file") {
    // The console backend writes to stdout; stdout becomes the file.
    if (!std::freopen(path.c_str(), "w", stdout)) {
      std::perror(path.c_str());
      return 1;
    }
    obs::Config config;  // defaults: text lines on stdout, the default queue
    config.default_service("bench-svc").admin(false).with_prometheus(false);
    auto sdk = obs::init(std::move(config));
    produced = produce(rate, seconds, [](std::uint64_t n) {
      obs::log::info("User logged in", {{"user_id", static_cast<std::int64_t>(n)}, {"route", "/api/comments"}});
    });
    sdk.shutdown(std::chrono::seconds(30));
    dropped = obs_dropped("logs");
    std::fflush(stdout);
    written = lines_in(path);
  } else if (impl == "spdlog-log-file") {
    // spdlog's defaults for async logging (a queue of 8192, one worker),
    // dropping the oldest record rather than blocking, as obs never blocks.
    spdlog::init_thread_pool(8192, 1);
    auto logger = spdlog::create_async_nb<spdlog::sinks::basic_file_sink_mt>("file", path, true);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l bench-svc %v", spdlog::pattern_time_type::utc);
    produced = produce(rate, seconds, [&](std::uint64_t n) {
      logger->info("User logged in user_id={} route={}", n, "/api/comments");
    });
    dropped = static_cast<double>(spdlog::thread_pool()->overrun_counter());  // nothing is offered after this
    logger->flush();
    logger.reset();
    spdlog::shutdown();  // joins the worker after it drains the queue
    written = lines_in(path);
  } else {
    std::fprintf(stderr, "obs_pipeline_rate: unknown case '%s'\n", impl.c_str());
    return 2;
  }

  std::fprintf(stderr, "%s offered=%llu written=%llu dropped=%.0f seconds=%.3f written_per_second=%.0f\n",
               impl.c_str(), static_cast<unsigned long long>(produced.first), static_cast<unsigned long long>(written),
               dropped, produced.second, static_cast<double>(written) / produced.second);
  return 0;
}
