#pragma once
// Where an exporter's encoded payloads go (internal): an HTTP receiver
// (OTLP, Datadog) or a file. One send() is one attempt; retrying is the
// exporter's business (batch_exporter.hpp).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace obs::internal {

struct SendResult {
  enum class Outcome { Delivered, Retry, Reject };
  Outcome outcome = Outcome::Delivered;
  // Retry: how long the receiver asked us to wait (Retry-After).
  std::optional<std::chrono::milliseconds> retry_after;
  // Delivered: items the receiver refused (OTLP partial success).
  std::uint64_t rejected = 0;
  // What went wrong (or the partial-success message), for one error line.
  // Short, with control characters escaped and no header values.
  std::string problem;
  // Groups repeats of the same failure for rate limiting ("http-503").
  std::string kind;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual SendResult send(const std::string& body) = 0;
  // Called from another thread to cut a send() in progress short (the
  // shutdown deadline passed). Later sends may fail.
  virtual void abort() {}
  // Where the data goes, for messages: no credentials, no header values.
  virtual const std::string& destination() const = 0;
};

}  // namespace obs::internal
