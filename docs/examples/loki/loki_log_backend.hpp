#pragma once
// Example: a log backend for Grafana Loki's JSON push API, written the way a
// user of obs writes one: the SDK's public headers, cpp-httplib and
// nlohmann-json, nothing else. docs/custom-backends.md walks through it.
//
//   auto loki = std::make_shared<example::LokiLogBackend>(example::LokiOptions{
//       .url = "http://loki:3100/loki/api/v1/push", .tenant = "team-a"});
//   auto sdk = obs::init(obs::Config::from_env().add_log_backend(loki));
//
// Wire format (Loki HTTP API, "Ingest logs"): POST <url>, Content-Type:
// application/json, body
//   {"streams":[{"stream":{"service":"image_svc","environment":"production","severity":"info"},
//                "values":[["<unix epoch ns>","<record as JSON>"], ...]}, ...]}
// One stream per (service, environment, severity); values in time order;
// each line is obs::append_log_json's rendering, so LogQL's `| json` works.
//
// Failure policy (the SDK catches what a backend throws, reports it through
// Config::on_error and counts the batch in obs_exporter_failed):
//   * write() buffers. When at least max_batch records are buffered it pushes
//     them, in requests of at most max_push_records. It throws
//     std::runtime_error if that push failed or if the buffer bound dropped
//     records; the message names the URL and the HTTP status or
//     transport error.
//   * After a failed push, write() does not try again before a back-off
//     (retry_backoff, doubling up to max_retry_backoff) so a dead endpoint
//     does not stall the pipeline thread on every batch. flush() always tries.
//   * 5xx, 429 and transport errors: the records stay buffered for the next
//     attempt. Any other non-2xx status (400 bad data, 401/403 auth, ...):
//     retrying cannot help, so that request's records are dropped.
//   * Memory is bounded: at most max_buffered records are held; beyond that
//     the OLDEST are dropped (the newest say most about the current state).
//   * shutdown() makes one last attempt (unless the back-off is running)
//     and drops what is still left, throwing to report the count.
// Every drop is counted in stats().dropped.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "obs/level.hpp"
#include "obs/log_backend.hpp"

namespace httplib {
class Client;
}

namespace example {

struct LokiOptions {
  // The full push URL. http:// and https:// (Debian's cpp-httplib has OpenSSL).
  // A URL without a path gets /loki/api/v1/push.
  std::string url = "http://localhost:3100/loki/api/v1/push";
  // Sent as X-Scope-OrgID when not empty (multi-tenant Loki).
  std::string tenant{};
  // HTTP basic auth when username is not empty (Grafana Cloud, or a proxy
  // in front of Loki; Loki itself does no authentication). Use https.
  std::string username{};
  std::string password{};
  // Extra labels on every stream, e.g. {{"job", "image_svc"}}. Names must
  // match [a-zA-Z_][a-zA-Z0-9_]* and not be service, environment or severity.
  // Keep them few and low-cardinality: every distinct set is a Loki stream.
  std::vector<std::pair<std::string, std::string>> labels{};
  // write() pushes once at least this many records are buffered.
  std::size_t max_batch = 1000;
  // At most this many records per HTTP request.
  std::size_t max_push_records = 500;
  // At most this many records held; beyond it the oldest are dropped.
  std::size_t max_buffered = 10000;
  // One request can block the pipeline thread for about connect_timeout +
  // io_timeout; keep that under the SDK's shutdown deadline (5 s by default).
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds io_timeout{3000};  // per socket read or write
  std::chrono::milliseconds retry_backoff{1000};
  std::chrono::milliseconds max_retry_backoff{30000};
  // The backend's name in the SDK's error messages and self-metrics.
  std::string name = "loki";
};

// Counters since construction. Readable from any thread.
struct LokiStats {
  std::uint64_t pushed = 0;           // records Loki accepted (2xx)
  std::uint64_t requests = 0;         // push requests attempted
  std::uint64_t failed_requests = 0;  // ... that got no 2xx
  std::uint64_t dropped = 0;          // records given up on: buffer bound, non-retryable status, shutdown
  std::uint64_t buffered = 0;         // records waiting right now
};

class LokiLogBackend final : public obs::LogBackend {
 public:
  // Throws std::invalid_argument for an unusable URL, label or limit.
  explicit LokiLogBackend(LokiOptions options);
  ~LokiLogBackend() override;

  std::string_view name() const override { return options_.name; }
  void write(const obs::LogBatch& batch) override;
  void flush() override;
  void shutdown() override;

  LokiStats stats() const;

 private:
  struct ResourceLabels {
    std::string service;
    std::string environment;
  };
  struct Entry {
    std::int64_t ns = 0;
    obs::log::Level level = obs::log::Level::Info;
    std::shared_ptr<const ResourceLabels> resource;
    std::string line;
  };

  std::string push_buffered();
  std::string encode(std::size_t count) const;
  std::size_t enforce_bound();
  void update_buffered() { buffered_.store(buffer_.size(), std::memory_order_relaxed); }

  LokiOptions options_;
  std::string path_;      // the URL's path part, for the client
  std::string endpoint_;  // the URL with its effective path, for messages
  std::unique_ptr<httplib::Client> client_;
  // Only the pipeline thread touches these (write/flush/shutdown are never concurrent).
  std::deque<Entry> buffer_;
  std::shared_ptr<const ResourceLabels> resource_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_;
  bool stopped_ = false;
  // Read by stats() from any thread.
  std::atomic<std::uint64_t> pushed_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> failed_requests_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> buffered_{0};
};

}  // namespace example
