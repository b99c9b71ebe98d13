// The soak test's load (scripts/soak.sh): GET /items/<n> at a fixed rate,
// request n due at start + n/rate whatever happened to the ones before
// (wrk2-style pacing: a stalled service shows up as latency, it does not
// slow the load down). Latency is measured from the due time, so time a
// request waited for a free connection counts too; the response time
// alone (from the send) is reported beside it.
//
// The run is a list of phases; at the start of each the receiver's control
// port is told its state (healthy, slow, down), and at the end of each the
// service's /metrics is saved (to see drops phase by phase). The service's
// RSS is read from /proc every second.
//
//   soak_load --url http://127.0.0.1:PORT --rate R --connections C
//             --phase NAME:SECONDS:STATE ... [--control http://127.0.0.1:PORT]
//             [--admin http://127.0.0.1:PORT --scrape-dir DIR] [--pid PID --rss-log FILE]
//             [--latency-log FILE]
//
// Prints one line per phase: its sequence numbers [first, end), requests,
// errors, latency percentiles (us), RSS (kB). --latency-log writes every
// request's "n due_ms latency_us response_us" (-1: failed).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <httplib.h>

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint32_t kFailed = std::numeric_limits<std::uint32_t>::max();

bool known_state(std::string_view s) {
  for (std::string_view k : {"healthy", "slow", "down", "huge", "redirect", "cut", "trickle", "blackhole"})
    if (s == k) return true;
  return false;
}

struct Phase {
  std::string name;
  long long seconds = 0;
  std::string state;  // the receiver's
  long long first = 0, end = 0;  // sequence numbers
  long long rss_start = 0, rss_peak = 0, rss_mid = 0, rss_end = 0, hwm_end = 0;
};

// "http://host:port" -> host, port.
bool parse_url(const std::string& url, std::string& host, int& port) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) return false;
  const auto colon = url.rfind(':');
  if (colon == std::string::npos || colon < prefix.size()) return false;
  host = url.substr(prefix.size(), colon - prefix.size());
  port = std::atoi(url.c_str() + colon + 1);
  return !host.empty() && port > 0;
}

// VmRSS and VmHWM of `pid` in kB; false when it is gone.
bool read_rss(long pid, long long& rss, long long& hwm) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return false;
  std::string line;
  rss = hwm = -1;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atoll(line.c_str() + 6);
    else if (line.rfind("VmHWM:", 0) == 0) hwm = std::atoll(line.c_str() + 6);
  }
  return rss >= 0;
}

std::uint32_t percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "soak_load: %s\nusage: soak_load --url http://127.0.0.1:PORT --rate R --connections C "
               "--phase NAME:SECONDS:STATE ... [--control URL] [--admin URL --scrape-dir DIR] [--pid PID --rss-log FILE] "
               "[--latency-log FILE]\n",
               problem);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, control_url, admin_url, scrape_dir, rss_log, latency_log;
  long long rate = 0;
  int connections = 8;
  long pid = 0;
  std::vector<Phase> phases;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--url" && has_value) url = argv[++i];
    else if (arg == "--rate" && has_value) rate = std::atoll(argv[++i]);
    else if (arg == "--connections" && has_value) connections = std::atoi(argv[++i]);
    else if (arg == "--control" && has_value) control_url = argv[++i];
    else if (arg == "--admin" && has_value) admin_url = argv[++i];
    else if (arg == "--scrape-dir" && has_value) scrape_dir = argv[++i];
    else if (arg == "--pid" && has_value) pid = std::atol(argv[++i]);
    else if (arg == "--rss-log" && has_value) rss_log = argv[++i];
    else if (arg == "--latency-log" && has_value) latency_log = argv[++i];
    else if (arg == "--phase" && has_value) {
      Phase p;
      std::istringstream in(argv[++i]);
      if (!std::getline(in, p.name, ':') || !(in >> p.seconds) || in.get() != ':' || !std::getline(in, p.state) ||
          p.name.empty() || p.seconds <= 0 ||
          !known_state(p.state))
        usage("a phase is NAME:SECONDS:STATE, SECONDS > 0, STATE one of soak_receiver's states (healthy, slow, down, "
              "huge, redirect, cut, trickle, blackhole)");
      phases.push_back(p);
    } else {
      usage(("unknown argument '" + std::string(arg) + "'").c_str());
    }
  }
  std::string host, control_host, admin_host;
  int port = 0, control_port = 0, admin_port = 0;
  if (!parse_url(url, host, port)) usage("--url must be http://HOST:PORT");
  if (!control_url.empty() && !parse_url(control_url, control_host, control_port)) usage("--control must be http://HOST:PORT");
  if (!admin_url.empty() && !parse_url(admin_url, admin_host, admin_port)) usage("--admin must be http://HOST:PORT");
  if (rate <= 0 || connections <= 0 || phases.empty()) usage("--rate, --connections and at least one --phase are needed");

  long long total_seconds = 0;
  for (auto& p : phases) {
    p.first = total_seconds * rate;
    total_seconds += p.seconds;
    p.end = total_seconds * rate;
  }
  const long long total = total_seconds * rate;
  std::vector<std::uint32_t> latency(static_cast<std::size_t>(total), kFailed);   // from the due time, us
  std::vector<std::uint32_t> response(static_cast<std::size_t>(total), kFailed);  // from the send, us

  httplib::Client control(control_host, control_port);
  const auto switch_receiver = [&](const Phase& p) {
    if (control_url.empty()) return;
    auto res = control.Post("/state/" + p.state);
    if (!res || res->status != 200) {
      std::fprintf(stderr, "soak_load: the receiver did not switch to %s\n", p.state.c_str());
      std::exit(1);
    }
  };
  httplib::Client admin(admin_host, admin_port);
  const auto scrape = [&](const Phase& p) {
    if (admin_url.empty() || scrape_dir.empty()) return;
    auto res = admin.Get("/metrics");
    if (!res || res->status != 200) {
      std::fprintf(stderr, "soak_load: scraping %s/metrics failed at the end of %s\n", admin_url.c_str(), p.name.c_str());
      return;
    }
    std::ofstream(scrape_dir + "/" + p.name + ".prom") << res->body;
  };

  switch_receiver(phases.front());
  const auto start = Clock::now() + std::chrono::milliseconds(100);
  const auto due = [&](long long n) { return start + std::chrono::nanoseconds(n * 1'000'000'000LL / rate); };

  std::atomic<long long> next{0};
  std::vector<std::thread> workers;
  for (int c = 0; c < connections; ++c) {
    workers.emplace_back([&] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(std::chrono::seconds(30));
      for (;;) {
        const long long n = next.fetch_add(1);
        if (n >= total) return;
        const auto at = due(n);
        std::this_thread::sleep_until(at);
        const auto sent = Clock::now();
        auto res = client.Get("/items/" + std::to_string(n));
        const auto done = Clock::now();
        if (!res || res->status != 200) continue;  // stays kFailed
        const auto us = [](Clock::duration d) {
          return static_cast<std::uint32_t>(
              std::min<long long>(std::chrono::duration_cast<std::chrono::microseconds>(d).count(), kFailed - 1));
        };
        latency[static_cast<std::size_t>(n)] = us(done - at);
        response[static_cast<std::size_t>(n)] = us(done - sent);
      }
    });
  }

  // Every second: the RSS of the second that ended; at a phase's end, its
  // /metrics, then the receiver's state for the next phase.
  std::ofstream rss_out;
  if (!rss_log.empty()) rss_out.open(rss_log);
  std::size_t current = 0;
  long long phase_end = phases.front().seconds;
  for (long long s = 1; s <= total_seconds; ++s) {
    std::this_thread::sleep_until(start + std::chrono::seconds(s));
    Phase& p = phases[current];
    long long rss = 0, hwm = 0;
    if (pid > 0 && read_rss(pid, rss, hwm)) {
      if (p.rss_start == 0) p.rss_start = rss;
      p.rss_peak = std::max(p.rss_peak, rss);
      if (s == phase_end - p.seconds / 2) p.rss_mid = rss;
      p.rss_end = rss;
      p.hwm_end = hwm;
      if (rss_out) rss_out << s << ' ' << p.name << ' ' << rss << ' ' << hwm << '\n';
    }
    if (s == phase_end) {
      scrape(p);
      if (++current < phases.size()) {
        phase_end += phases[current].seconds;
        switch_receiver(phases[current]);
      }
    }
  }
  for (auto& w : workers) w.join();

  if (!latency_log.empty()) {
    std::ofstream out(latency_log);
    for (long long n = 0; n < total; ++n) {
      const auto l = latency[static_cast<std::size_t>(n)];
      out << n << ' ' << n * 1000 / rate << ' ';
      if (l == kFailed) out << "-1 -1\n";
      else out << l << ' ' << response[static_cast<std::size_t>(n)] << '\n';
    }
  }

  for (const auto& p : phases) {
    std::vector<std::uint32_t> lat, resp;
    long long errors = 0;
    for (long long n = p.first; n < p.end; ++n) {
      if (latency[static_cast<std::size_t>(n)] == kFailed) {
        ++errors;
        continue;
      }
      lat.push_back(latency[static_cast<std::size_t>(n)]);
      resp.push_back(response[static_cast<std::size_t>(n)]);
    }
    std::sort(lat.begin(), lat.end());
    std::sort(resp.begin(), resp.end());
    std::printf(
        "phase=%s state=%s seconds=%lld first=%lld end=%lld requests=%lld errors=%lld p50_us=%u p90_us=%u p99_us=%u "
        "p999_us=%u max_us=%u response_p99_us=%u rss_start_kb=%lld rss_mid_kb=%lld rss_end_kb=%lld rss_peak_kb=%lld "
        "hwm_kb=%lld\n",
        p.name.c_str(), p.state.c_str(), p.seconds, p.first, p.end, p.end - p.first, errors, percentile(lat, 50),
        percentile(lat, 90), percentile(lat, 99), percentile(lat, 99.9), lat.empty() ? 0 : lat.back(),
        percentile(resp, 99), p.rss_start, p.rss_mid, p.rss_end, p.rss_peak, p.hwm_end);
  }
  return 0;
}
