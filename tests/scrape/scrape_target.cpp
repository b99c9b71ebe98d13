// A service with 10 000 exposed application series, for load-testing the
// admin server's /metrics (scripts/bench-scrape.sh). Configured from the
// environment like any service (PROMETHEUS_PORT, OBS_ADMIN_ADDRESS,
// OBS_ADMIN_BEARER_TOKEN, ...); prints "port <n>" once serving, then runs
// until SIGINT or SIGTERM.
//
// Series: 4400 counter series (routes x statuses) plus 400 histogram label
// sets x 14 exposed series each (11 buckets, +Inf, _sum, _count) = 10 000,
// on top of the SDK's own process_* and obs_* series.
#include <obs/obs.hpp>

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <string>

int main() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  // Blocked before init so that the SDK's threads inherit the mask and
  // sigwait below receives the signal.
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto sdk = obs::init(obs::Config::from_env().default_service("scrape_target").console(false));
  if (sdk.admin_port() == 0) {
    std::fprintf(stderr, "scrape_target: the admin server is not running\n");
    return 1;
  }

  obs::MetricOptions counters;
  counters.series_limit = 5000;
  const auto requests = obs::counter("scrape_target.requests", {"route", "status"}, counters);
  for (int route = 0; route < 220; ++route)
    for (int status = 0; status < 20; ++status)
      requests.labels("/api/r" + std::to_string(route), std::to_string(200 + status)).inc(route + status + 1);

  obs::MetricOptions histograms;
  histograms.series_limit = 1000;
  const auto durations = obs::histogram("scrape_target.duration.seconds", {"route", "method"}, histograms);
  static const char* methods[] = {"GET", "POST", "PUT", "DELETE"};
  for (int route = 0; route < 100; ++route)
    for (const char* method : methods) {
      auto h = durations.labels("/api/r" + std::to_string(route), method);
      for (int i = 1; i <= 20; ++i) h.observe(0.001 * i * (route + 1));
    }

  std::printf("port %u\n", static_cast<unsigned>(sdk.admin_port()));
  std::fflush(stdout);
  int received = 0;
  sigwait(&stop_signals, &received);
  return 0;
}
