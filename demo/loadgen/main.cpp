// loadgen: open-loop load generator for the obs demo services.
//
// Waits until user_svc, job_svc and image_svc answer GET /health/ready with
// 200, then sends a weighted mix of requests (see kMix in loadgen.hpp and
// --help) at --rate requests per second with Poisson arrivals. A pool of
// --concurrency workers, each with its own keep-alive httplib clients,
// sends them; a request that comes due while every worker is busy is
// counted as skipped rather than queued. Prints a progress line every
// --progress seconds and a per-route summary at the end.
//
// SIGINT/SIGTERM are blocked in every thread and taken with sigtimedwait()
// by the main thread, which also paces the requests: no code runs in a
// signal handler. On a stop, in-flight requests get a bounded grace period,
// then their connections are shut down.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <httplib.h>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "imaging.hpp"
#include "loadgen.hpp"

namespace {

using namespace demo::loadgen;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kConnectTimeout = 2s;
constexpr auto kReadTimeout = 10s;
constexpr auto kWriteTimeout = 10s;
constexpr auto kDrainTimeout = 5s;
constexpr const char* kUserAgent = "obs-demo-loadgen/1";

// Waits up to `timeout` for SIGINT/SIGTERM. Returns the signal, or 0.
int wait_for_signal(const sigset_t& signals, Clock::duration timeout) {
  if (timeout < Clock::duration::zero()) timeout = Clock::duration::zero();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  for (;;) {
    const int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno == EINTR) continue;
    return 0;  // EAGAIN: the time passed
  }
}

std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "cannot connect (refused, unreachable or timed out)";
    case httplib::Error::Read: return "read failed or timed out";
    case httplib::Error::Write: return "write failed";
    case httplib::Error::ConnectionTimeout: return "connect timed out";
    default: return httplib::to_string(error);
  }
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal"; }

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::unique_ptr<httplib::Client> make_client(const std::string& base_url, std::chrono::seconds connect,
                                             std::chrono::seconds read, bool keep_alive) {
  auto client = std::make_unique<httplib::Client>(base_url);
  client->set_connection_timeout(connect);
  client->set_read_timeout(read);
  client->set_write_timeout(kWriteTimeout);
  client->set_keep_alive(keep_alive);
  client->set_tcp_nodelay(true);  // no 40 ms Nagle/delayed-ACK stall between a POST's header and body
  client->set_default_headers({{"User-Agent", kUserAgent}});
  return client;
}

// Polls every service's /health/ready until it answers 200 or `deadline`.
// Returns 0 when all are ready, else the exit status (1), having printed why.
int wait_until_ready(const Options& opt, const sigset_t& signals) {
  const auto deadline = Clock::now() + seconds(opt.wait);
  for (Service service : {Service::user, Service::job, Service::image}) {
    const std::string& url = opt.url(service);
    const std::string name(service_name(service));
    std::printf("%s: waiting up to %.0f s for %s: GET %s/health/ready\n", kProg, opt.wait, name.c_str(), url.c_str());
    std::fflush(stdout);
    auto client = make_client(url, 1s, 2s, false);
    std::string last = "no answer yet";
    for (;;) {
      if (auto res = client->Get("/health/ready")) {
        if (res->status == 200) {
          std::printf("%s: %s is ready\n", kProg, name.c_str());
          std::fflush(stdout);
          break;
        }
        last = "HTTP " + std::to_string(res->status);
      } else {
        last = describe(res.error());
      }
      const auto now = Clock::now();
      if (now >= deadline) {
        std::fprintf(stderr, "%s: %s at %s never became ready within %.0f s (last attempt: %s); giving up\n", kProg,
                     name.c_str(), url.c_str(), opt.wait, last.c_str());
        return 1;
      }
      if (int sig = wait_for_signal(signals, std::min<Clock::duration>(deadline - now, 500ms))) {
        std::fprintf(stderr, "%s: %s while waiting for %s to become ready; no load sent\n", kProg, signal_name(sig),
                     name.c_str());
        return 1;
      }
    }
  }
  return 0;
}

struct Worker {
  std::unique_ptr<httplib::Client> clients[kServiceCount];
  std::thread thread;
};

void run_worker(Worker& worker, WorkQueue& queue, Stats& stats, IdPool& users, IdPool& jobs) {
  while (auto request = queue.take()) {
    const Request& r = *request;
    httplib::Client& client = *worker.clients[static_cast<int>(r.service)];
    stats.sent(r.endpoint);
    const auto start = Clock::now();
    httplib::Result res = r.method == "POST" ? client.Post(r.path, r.body, r.content_type) : client.Get(r.path);
    const double ms = seconds_since(start) * 1000;
    if (res) {
      stats.response(r.endpoint, res->status, ms);
      if (res->status >= 200 && res->status < 300) learn_ids(r.endpoint, res->body, users, jobs);
    } else {
      stats.failure(r.endpoint, static_cast<int>(res.error()), ms);
    }
    queue.done();
  }
}

void print_summary(const Stats& stats, double elapsed, const std::string& reason) {
  const Totals t = stats.totals();
  const auto all = stats.latency().counts();
  const double max_ms = stats.latency().max_ms();
  std::printf("%s: finished after %.1f s (%s): sent %llu 2xx %llu 4xx %llu 5xx %llu failed %llu skipped %llu", kProg,
              elapsed, reason.c_str(), static_cast<unsigned long long>(t.sent), static_cast<unsigned long long>(t.s2xx),
              static_cast<unsigned long long>(t.s4xx), static_cast<unsigned long long>(t.s5xx),
              static_cast<unsigned long long>(t.failed), static_cast<unsigned long long>(t.skipped));
  if (t.other) std::printf(" other %llu", static_cast<unsigned long long>(t.other));
  std::printf("; %.1f req/s; latency p50 %s p95 %s p99 %s max %s ms\n", elapsed > 0 ? t.completed() / elapsed : 0.0,
              format_ms(LatencyHistogram::percentile(all, 0.50, max_ms)).c_str(),
              format_ms(LatencyHistogram::percentile(all, 0.95, max_ms)).c_str(),
              format_ms(LatencyHistogram::percentile(all, 0.99, max_ms)).c_str(),
              format_ms(t.completed() > t.failed ? std::optional(max_ms) : std::nullopt).c_str());
  std::printf("%-4s %-9s %-24s %7s %7s %7s %7s %7s %7s %8s %8s %8s\n", "", "service", "route", "sent", "2xx", "4xx",
              "5xx", "failed", "skipped", "p50 ms", "p95 ms", "max ms");
  for (int e = 0; e < kEndpointCount; ++e) {
    const auto id = static_cast<EndpointId>(e);
    const Totals r = stats.totals(id);
    if (r.sent == 0 && r.skipped == 0) continue;
    const auto& h = stats.latency(id);
    const auto c = h.counts();
    const bool any = r.completed() > r.failed;
    std::printf("%-4.*s %-9.*s %-24.*s %7llu %7llu %7llu %7llu %7llu %7llu %8s %8s %8s\n",
                static_cast<int>(kEndpoints[e].method.size()), kEndpoints[e].method.data(),
                static_cast<int>(service_name(kEndpoints[e].service).size()), service_name(kEndpoints[e].service).data(),
                static_cast<int>(kEndpoints[e].route.size()), kEndpoints[e].route.data(),
                static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.s2xx),
                static_cast<unsigned long long>(r.s4xx), static_cast<unsigned long long>(r.s5xx),
                static_cast<unsigned long long>(r.failed), static_cast<unsigned long long>(r.skipped),
                format_ms(LatencyHistogram::percentile(c, 0.50, h.max_ms())).c_str(),
                format_ms(LatencyHistogram::percentile(c, 0.95, h.max_ms())).c_str(),
                format_ms(any ? std::optional(h.max_ms()) : std::nullopt).c_str());
  }
  if (t.failed) {
    std::printf("%s: transport failures:", kProg);
    for (int code = 0; code < Stats::kErrorKinds; ++code)
      if (auto n = stats.failures_with(code))
        std::printf(" %s: %llu;", describe(static_cast<httplib::Error>(code)).c_str(),
                    static_cast<unsigned long long>(n));
    std::printf("\n");
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  ParseResult parsed = parse_args(args);
  if (!parsed.options) {
    std::fputs(parsed.out.c_str(), stdout);
    std::fputs(parsed.err.c_str(), stderr);
    return parsed.exit_code;
  }
  const Options opt = *parsed.options;

  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only sigtimedwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (int err = pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); err != 0) {
    std::fprintf(stderr, "%s: cannot block SIGINT/SIGTERM: %s\n", kProg, std::strerror(err));
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a service closing a connection must not kill us

  if (opt.wait > 0) {
    if (int status = wait_until_ready(opt, stop_signals)) return status;
  }

  // Valid small PPMs for ConvertImage, made once.
  std::vector<std::string> images;
  for (auto [w, h] : {std::pair{64, 48}, std::pair{96, 96}, std::pair{160, 120}, std::pair{320, 240}})
    images.push_back(demo::imaging::make_test_image(w, h, static_cast<std::uint32_t>(opt.seed + images.size())));

  IdPool users, jobs;
  RequestFactory factory(opt.seed, users, jobs, std::move(images));
  Stats stats;
  WorkQueue queue;

  std::vector<Worker> workers(static_cast<std::size_t>(opt.concurrency));
  for (Worker& w : workers)
    for (Service s : {Service::user, Service::job, Service::image})
      w.clients[static_cast<int>(s)] = make_client(opt.url(s), kConnectTimeout, kReadTimeout, true);
  for (Worker& w : workers) w.thread = std::thread(run_worker, std::ref(w), std::ref(queue), std::ref(stats), std::ref(users), std::ref(jobs));

  char how_long[64] = "until SIGINT/SIGTERM";
  if (opt.duration > 0) std::snprintf(how_long, sizeof how_long, "for %g s", opt.duration);
  std::printf("%s: sending %.1f req/s with %d workers %s (seed %llu); user_svc %s, job_svc %s, image_svc %s\n",
              kProg, opt.rate, opt.concurrency, how_long,
              static_cast<unsigned long long>(opt.seed), opt.user_url.c_str(), opt.job_url.c_str(), opt.image_url.c_str());
  std::fflush(stdout);

  std::mt19937_64 arrivals(opt.seed ^ 0x5eed5eedULL);
  std::exponential_distribution<double> gap(opt.rate);
  const auto started = Clock::now();
  const std::optional<Clock::time_point> end =
      opt.duration > 0 ? std::optional(started + seconds(opt.duration)) : std::nullopt;
  const bool show_progress = opt.progress > 0;
  const Clock::duration progress_every = show_progress ? seconds(opt.progress) : Clock::duration::zero();
  auto next_progress = started + progress_every;
  auto last_progress = started;
  LatencyHistogram::Counts last_counts{};
  std::uint64_t last_completed = 0;
  auto next_arrival = started;
  std::string reason;

  for (;;) {
    auto now = Clock::now();
    if (end && now >= *end) {
      reason = "duration elapsed";
      break;
    }
    if (show_progress && now >= next_progress) {
      const Totals t = stats.totals();
      const auto counts = stats.latency().counts();
      const double window = std::chrono::duration<double>(now - last_progress).count();
      const double rate = window > 0 ? static_cast<double>(t.completed() - last_completed) / window : 0;
      const auto p95 = LatencyHistogram::percentile(LatencyHistogram::minus(counts, last_counts), 0.95,
                                                    stats.latency().max_ms());
      std::printf("%s\n", progress_line(std::chrono::duration<double>(now - started).count(), t, rate, p95).c_str());
      std::fflush(stdout);
      last_counts = counts;
      last_completed = t.completed();
      last_progress = now;
      next_progress += progress_every;
      if (next_progress <= now) next_progress = now + progress_every;
    }
    while (next_arrival <= now) {
      Request request = factory.next();
      const EndpointId endpoint = request.endpoint;
      if (!queue.try_submit(std::move(request))) stats.skipped(endpoint);
      next_arrival += seconds(gap(arrivals));
      if (now - next_arrival > 1s) next_arrival = now;  // after a stall, no burst
    }
    auto due = next_arrival;
    if (show_progress) due = std::min(due, next_progress);
    if (end) due = std::min(due, *end);
    if (int sig = wait_for_signal(stop_signals, std::min<Clock::duration>(due - Clock::now(), 1s))) {
      reason = signal_name(sig);
      break;
    }
  }

  // Stop: no new requests; give in-flight ones a bounded time, then cut
  // their connections (a second signal cuts the wait short).
  queue.stop();
  const int in_flight = queue.in_flight();
  if (in_flight > 0) {
    std::printf("%s: stopping (%s); waiting up to %lld s for %d in-flight request(s)\n", kProg, reason.c_str(),
                static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(kDrainTimeout).count()), in_flight);
    std::fflush(stdout);
    const auto drain_deadline = Clock::now() + kDrainTimeout;
    while (!queue.wait_idle(std::min(drain_deadline, Clock::now() + 100ms))) {
      if (Clock::now() >= drain_deadline) break;
      if (wait_for_signal(stop_signals, Clock::duration::zero())) break;
    }
    if (queue.in_flight() > 0) {
      std::printf("%s: abandoning %d in-flight request(s)\n", kProg, queue.in_flight());
      for (Worker& w : workers)
        for (auto& c : w.clients) c->stop();
    }
  }
  for (Worker& w : workers) w.thread.join();

  print_summary(stats, seconds_since(started), reason);
  if (stats.totals().s2xx == 0) {
    std::fprintf(stderr, "%s: no request succeeded (no 2xx response); are the services healthy?\n", kProg);
    return 1;
  }
  return 0;
}
