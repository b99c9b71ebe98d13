// Sustained log records per second into a file, through the whole pipeline:
// obs's console backend (text lines, the default queue) with stdout pointed
// at a file, or spdlog's async logger with a file sink and the same line
// content. One implementation per process, so neither warms the other up.
//
//   obs_log_file_rate <obs|spdlog> <file> <rate per second, 0 = flat out> <seconds>
//
// Prints one line: offered, written (lines in the file), dropped, the
// producer's elapsed seconds and the rate written. A paced run spins on the
// clock between records, so the producer offers exactly `rate` per second.
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

#include "obs/config.hpp"
#include "obs/log.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/sdk.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Calls `log` at `rate` per second (0: as fast as it returns) for `seconds`;
// returns how many calls and how long they took.
template <class Log>
std::pair<std::uint64_t, double> produce(double rate, double seconds, Log&& log) {
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::uint64_t n = 0;
  if (rate > 0) {
    const double period_ns = 1e9 / rate;
    for (;; ++n) {
      const auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(n * period_ns));
      if (due >= end) break;
      while (Clock::now() < due) {
      }
      log(n);
    }
  } else {
    for (; (n & 1023) != 0 || Clock::now() < end; ++n) log(n);
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

double obs_dropped_logs() {
  double total = 0;
  for (const auto& f : obs::MetricsRegistry::global().snapshot().families)
    if (f.name == "obs_exporter_dropped")
      for (const auto& s : f.series)
        if (!s.label_values.empty() && s.label_values[0] == "logs") total += s.value;
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: obs_log_file_rate <obs|spdlog> <file> <rate, 0 = flat out> <seconds>\n");
    return 2;
  }
  const std::string impl = argv[1], path = argv[2];
  const double rate = std::atof(argv[3]), seconds = std::atof(argv[4]);
  std::pair<std::uint64_t, double> produced;
  double dropped = 0;

  if (impl == "obs") {
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
    dropped = obs_dropped_logs();
    std::fflush(stdout);
  } else if (impl == "spdlog") {
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
  } else {
    std::fprintf(stderr, "obs_log_file_rate: unknown implementation '%s'\n", impl.c_str());
    return 2;
  }

  const std::uint64_t written = lines_in(path);
  std::fprintf(stderr, "%s offered=%llu written=%llu dropped=%.0f seconds=%.3f written_per_second=%.0f\n",
               impl.c_str(), static_cast<unsigned long long>(produced.first), static_cast<unsigned long long>(written),
               dropped, produced.second, static_cast<double>(written) / produced.second);
  return 0;
}
