// DogStatsD metrics backend: each interval's changes as DogStatsD lines in
// UDP datagrams to a Datadog Agent. Sending runs on the SDK's metrics
// thread through a non-blocking socket: a full socket buffer or an absent
// Agent costs counted failures, never a wait.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "backends/datadog/datadog_encoder.hpp"
#include "core/counts_own_deliveries.hpp"
#include "core/diagnostics.hpp"
#include "core/self_metrics.hpp"
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
    if (fd_ >= 0) ::close(fd_);
  }

  std::string_view name() const override { return "dogstatsd"; }
  void attach(const Resource& resource, MetricsProducer) override {
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
  }
  std::chrono::milliseconds export_interval() const override { return interval_; }

  void write(const MetricsSnapshot& snapshot) override {
    if (!delta_) attach(Resource{}, {});
    const auto delta = delta_->next(snapshot);
    std::vector<std::string> lines;
    std::uint64_t unrepresentable = 0;
    for (const auto& fam : delta.families)
      for (const auto& s : fam.series) {
        std::size_t skipped = 0;
        for (const auto& p : datadog::points_of(fam, s, histograms_, skipped))
          lines.push_back(datadog::dogstatsd_line(p, common_tags_));
        unrepresentable += skipped;
      }
    // Counted in points (lines), the unit a datagram loses.
    failed_.inc(unrepresentable);
    if (!ready()) {
      failed_.inc(lines.size());
      return;
    }
    const std::size_t max_packet = std::clamp<std::size_t>(options_.dogstatsd.max_packet_size, 64, kMaxDatagram);
    std::string packet;
    std::uint64_t in_packet = 0, sent = 0, lost = 0;
    const auto send = [&] {
      if (in_packet == 0) return;
      (send_datagram(packet) ? sent : lost) += in_packet;
      packet.clear();
      in_packet = 0;
    };
    for (const auto& line : lines) {
      if (line.size() > kMaxDatagram) {
        ++lost;
        internal::report_error("dogstatsd-too-long", "DogStatsD: a line of " + std::to_string(line.size()) +
                                                         " bytes does not fit a datagram; not sent");
        continue;
      }
      // A line longer than max_packet_size goes alone (the Agent reads
      // datagrams up to its buffer size, 8 KiB by default).
      if (!packet.empty() && packet.size() + 1 + line.size() > max_packet) send();
      if (!packet.empty()) packet += '\n';
      packet += line;
      ++in_packet;
    }
    send();
    exported_.inc(sent);
    failed_.inc(lost);
  }

 private:
  // Resolves the Agent's address once (on this background thread), and
  // again a minute after a failure.
  bool ready() {
    if (fd_ >= 0) return true;
    const auto now = std::chrono::steady_clock::now();
    if (next_attempt_ && now < *next_attempt_) return false;
    next_attempt_ = now + std::chrono::seconds(60);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options_.dogstatsd.port);
    const int rc = ::getaddrinfo(options_.dogstatsd.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || !found) {
      internal::report_error("dogstatsd-resolve", "DogStatsD: cannot resolve the Agent's address " + destination_ +
                                                      ": " + ::gai_strerror(rc) + "; metrics are not sent");
      return false;
    }
    for (auto* a = found; a; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      std::memcpy(&address_, a->ai_addr, a->ai_addrlen);
      address_len_ = a->ai_addrlen;
      fd_ = fd;
      break;
    }
    ::freeaddrinfo(found);
    if (fd_ < 0)
      internal::report_error("dogstatsd-socket", "DogStatsD: cannot open a UDP socket for " + destination_ + ": " +
                                                     std::strerror(errno));
    return fd_ >= 0;
  }

  bool send_datagram(const std::string& packet) {
    const auto n = ::sendto(fd_, packet.data(), packet.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                            reinterpret_cast<const sockaddr*>(&address_), address_len_);
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
  int fd_ = -1;
  sockaddr_storage address_{};
  socklen_t address_len_ = 0;
  std::optional<std::chrono::steady_clock::time_point> next_attempt_;
};

}  // namespace

std::shared_ptr<MetricsBackend> make_dogstatsd_metrics_backend(DatadogOptions o, std::chrono::milliseconds interval) {
  if (o.dogstatsd.host.empty()) throw std::invalid_argument("DogStatsD: no Agent host (DD_AGENT_HOST)");
  if (o.dogstatsd.port == 0) throw std::invalid_argument("DogStatsD: the Agent port (DD_DOGSTATSD_PORT) is 0");
  return std::make_shared<DogStatsdBackend>(std::move(o), interval);
}

}  // namespace obs
