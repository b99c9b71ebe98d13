// DogStatsD metrics backend: each interval's changes as DogStatsD lines in
// UDP datagrams to a Datadog Agent. Sending runs on the SDK's metrics
// thread through a non-blocking socket: a full socket buffer or an absent
// Agent costs counted failures, never a wait.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>
#include <stdexcept>

#include "backends/datadog/datadog_encoder.hpp"
#include "core/counts_own_deliveries.hpp"
#include "core/diagnostics.hpp"
#include "core/self_metrics.hpp"
#include "core/fork_locks.hpp"
#include "metrics/delta_tracker.hpp"
#include "obs/datadog.hpp"
#include "obs/instruments.hpp"

namespace obs {
namespace {

// The largest UDP payload over IPv4.
constexpr std::size_t kMaxDatagram = 65507;

class DogStatsdBackend final : public MetricsBackend, public internal::CountsOwnDeliveries {
 public:
  DogStatsdBackend(DatadogOptions o, std::chrono::milliseconds interval)
      : options_(std::move(o)),
        histograms_(datadog::histogram_settings(options_)),
        interval_(interval),
        destination_(options_.dogstatsd.host + ":" + std::to_string(options_.dogstatsd.port)) {
    const auto& counters = internal::exporter_counters();
    exported_ = counters.exported.labels("metrics", "dogstatsd");
    failed_ = counters.failed.labels("metrics", "dogstatsd");
  }
  ~DogStatsdBackend() override {
    std::lock_guard lock(lookup_->mutex);
    lookup_->closed = true;
    if (lookup_->fd >= 0) ::close(lookup_->fd);
    lookup_->fd = -1;
  }

  std::string_view name() const override { return "dogstatsd"; }
  void attach(const Resource& resource, MetricsProducer producer) override {
    common_tags_.clear();
    for (const auto& t : datadog::unified_tags(resource, options_.tags)) {
      if (!common_tags_.empty()) common_tags_ += ',';
      common_tags_ += datadog::safe_tag(t);
    }
    // The Agent tags with its own host; a configured one is passed on.
    if (!options_.hostname.empty()) {
      if (!common_tags_.empty()) common_tags_ += ',';
      common_tags_ += datadog::safe_tag("host:" + options_.hostname);
    }
    delta_.emplace(std::chrono::system_clock::now());
    // In a forked child the counts so far are the parent's, which it reports.
    if (internal::restarting_after_fork() && producer) (void)delta_->next(producer());
    socket_fd();  // starts the Agent's address lookup, so it is done by the first export
  }
  std::chrono::milliseconds export_interval() const override { return interval_; }

  void write(const MetricsSnapshot& snapshot) override {
    if (!delta_) attach(Resource{}, {});
    const auto delta = delta_->next(snapshot);
    // Counted per series, as the other metrics backends count: a series is
    // exported when every one of its lines went out.
    std::vector<std::pair<std::string, std::size_t>> lines;  // line, series index
    std::vector<char> lost;                                  // per series
    for (const auto& fam : delta.families)
      for (const auto& s : fam.series) {
        std::size_t skipped = 0;
        for (const auto& p : datadog::points_of(fam, s, histograms_, skipped))
          lines.emplace_back(datadog::dogstatsd_line(p, common_tags_), lost.size());
        lost.push_back(skipped > 0);  // a value DogStatsD cannot carry (NaN, infinity)
      }
    const int fd = socket_fd();
    if (fd < 0) {
      failed_.inc(lost.size());
      return;
    }
    const std::size_t max_packet = std::clamp<std::size_t>(options_.dogstatsd.max_packet_size, 64, kMaxDatagram);
    std::string packet;
    std::vector<std::size_t> in_packet;
    const auto send = [&] {
      if (packet.empty()) return;
      if (!send_datagram(fd, packet))
        for (auto i : in_packet) lost[i] = 1;
      packet.clear();
      in_packet.clear();
    };
    for (const auto& [line, series] : lines) {
      if (line.size() > kMaxDatagram) {
        lost[series] = 1;
        internal::report_error("dogstatsd-too-long", "DogStatsD: a line of " + std::to_string(line.size()) +
                                                         " bytes does not fit a datagram; not sent");
        continue;
      }
      // A line longer than max_packet_size goes alone (the Agent reads
      // datagrams up to its buffer size, 8 KiB by default).
      if (!packet.empty() && packet.size() + 1 + line.size() > max_packet) send();
      if (!packet.empty()) packet += '\n';
      packet += line;
      in_packet.push_back(series);
    }
    send();
    const auto failed = static_cast<std::uint64_t>(std::count(lost.begin(), lost.end(), 1));
    exported_.inc(lost.size() - failed);
    failed_.inc(failed);
  }

 private:
  // The Agent's address is looked up on a thread of its own: a name
  // lookup can take seconds, and write() also runs in Sdk::flush and
  // shutdown, on the application's thread. Until it is known, points
  // count as failed; after a failure it is looked up again a minute later.
  struct Lookup {
    std::mutex mutex;
    bool running = false;
    bool closed = false;  // the backend is gone: a late lookup closes its socket
    int fd = -1;
    std::string error;
  };

  int socket_fd() {
    std::lock_guard lock(lookup_->mutex);
    if (lookup_->fd >= 0) return lookup_->fd;
    if (!lookup_->error.empty()) {
      internal::report_error("dogstatsd-address", lookup_->error);
      lookup_->error.clear();
    }
    const auto now = std::chrono::steady_clock::now();
    if (lookup_->running || (next_lookup_ && now < *next_lookup_)) return -1;
    next_lookup_ = now + std::chrono::seconds(60);
    // A numeric address needs no lookup: open the socket right away.
    if (is_numeric(options_.dogstatsd.host)) {
      std::string error;
      lookup_->fd = open_socket(options_.dogstatsd.host, options_.dogstatsd.port, destination_, error);
      if (!error.empty()) internal::report_error("dogstatsd-address", error);
      return lookup_->fd;
    }
    lookup_->running = true;
    std::thread([lookup = lookup_, host = options_.dogstatsd.host, port = options_.dogstatsd.port,
                 destination = destination_] {
      std::string error;
      const int fd = open_socket(host, port, destination, error);
      std::lock_guard lock(lookup->mutex);
      if (lookup->closed) {
        if (fd >= 0) ::close(fd);
        return;
      }
      lookup->fd = fd;
      lookup->error = std::move(error);
      lookup->running = false;
    }).detach();
    return -1;
  }

  // A UDP socket connected to the Agent (IPv4 first: the Agent listens on
  // 127.0.0.1 by default, and "localhost" may resolve to ::1 first), so
  // an unreachable port is reported by the next send instead of nothing.
  static bool is_numeric(const std::string& host) {
    in6_addr a6{};
    in_addr a4{};
    return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
  }

  static int open_socket(const std::string& host, std::uint16_t port, const std::string& destination,
                         std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0 || !found) {
      error = "DogStatsD: cannot resolve the Agent's address " + destination + ": " + ::gai_strerror(rc) +
              "; metrics are not sent (retried in a minute)";
      return -1;
    }
    int fd = -1;
    for (int family : {AF_INET, AF_INET6})
      for (auto* a = found; a && fd < 0; a = a->ai_next) {
        if (a->ai_family != family) continue;
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
          ::close(fd);
          fd = -1;
        }
      }
    if (fd < 0) error = "DogStatsD: cannot open a UDP socket to " + destination + ": " + std::strerror(errno);
    ::freeaddrinfo(found);
    return fd;
  }

  bool send_datagram(int fd, const std::string& packet) {
    const auto n = ::send(fd, packet.data(), packet.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(packet.size())) return true;
    const int err = errno;
    internal::report_error("dogstatsd-send-" + std::to_string(err),
                           "DogStatsD: a datagram to " + destination_ + " was not sent: " + std::strerror(err) +
                               " (counted in obs_exporter_failed)");
    return false;
  }

  DatadogOptions options_;
  datadog::HistogramSettings histograms_;
  std::chrono::milliseconds interval_;
  std::string destination_;
  std::string common_tags_;
  std::optional<internal::DeltaTracker> delta_;
  Counter exported_, failed_;
  std::shared_ptr<Lookup> lookup_ = std::make_shared<Lookup>();
  std::optional<std::chrono::steady_clock::time_point> next_lookup_;
};

}  // namespace

std::shared_ptr<MetricsBackend> make_dogstatsd_metrics_backend(DatadogOptions o, std::chrono::milliseconds interval) {
  if (o.dogstatsd.host.empty()) throw std::invalid_argument("DogStatsD: no Agent host (DD_AGENT_HOST)");
  if (o.dogstatsd.port == 0) throw std::invalid_argument("DogStatsD: the Agent port (DD_DOGSTATSD_PORT) is 0");
  return std::make_shared<DogStatsdBackend>(std::move(o), interval);
}

}  // namespace obs
