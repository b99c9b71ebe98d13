#pragma once
// Where encoded OTLP export requests go (internal): an OTLP/HTTP receiver
// or a JSON lines file. One send() is one attempt; retrying is the
// exporter's business (otlp_exporter.hpp).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace obs::otlp {

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

class OtlpTransport {
 public:
  virtual ~OtlpTransport() = default;
  virtual SendResult send(const std::string& body) = 0;
  // Called from another thread to cut a send() in progress short (the
  // shutdown deadline passed). Later sends may fail.
  virtual void abort() {}
  // Where the data goes, for messages: no credentials, no header values.
  virtual const std::string& destination() const = 0;
};

}  // namespace obs::otlp
