#pragma once
// HTTP transport for push backends (internal): POSTs a payload to one URL
// with cpp-httplib (https with OpenSSL, custom CA and client certificate),
// gzip-compressed when configured, and classifies the answer: 2xx
// delivered, the retryable statuses and connection failures retried, any
// other status rejected. What a body means is the protocol's business
// (OTLP partial success, Datadog error lists): hooks in the options.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "export/transport.hpp"

namespace httplib {
class Client;
}

namespace obs::internal {

struct HttpTransportOptions {
  std::string protocol;  // "OTLP", "Datadog": starts messages about the options
  std::string url;
  std::string content_type;
  // Sent with every request; their values never appear in messages.
  std::vector<std::pair<std::string, std::string>> headers;
  // Request body compression: "" (none), "gzip" or "deflate" (zlib).
  std::string content_encoding;
  std::chrono::milliseconds timeout{10000};
  // PEM files: CA bundle (empty: the system's), client certificate and key.
  std::string certificate;
  std::string client_certificate;
  std::string client_key;

  // Statuses worth retrying (besides connection failures).
  std::function<bool(int status)> retryable = [](int s) { return s == 429 || s == 502 || s == 503 || s == 504; };
  struct Accepted {
    std::uint64_t rejected = 0;
    std::string message;
  };
  // Reads a 2xx answer: items the receiver refused anyway, and why.
  std::function<Accepted(const std::string& body, const std::string& content_type)> read_accepted;
  // Pulls the explanation out of an error answer (default: the body).
  std::function<std::string(const std::string& body, const std::string& content_type)> read_error;
};

// What is kept of a receiver's answer: enough for an OTLP partial-success
// message or a Datadog error list. The rest is not read: the connection is
// closed instead, so a receiver answering with gigabytes costs nothing.
inline constexpr std::size_t kMaxResponseBodyBytes = 64 * 1024;

class HttpTransport final : public Transport {
 public:
  // Throws std::invalid_argument for a malformed URL, a bad header or an
  // unreadable certificate or key file; the message names the problem and
  // never a header value.
  explicit HttpTransport(HttpTransportOptions options);
  ~HttpTransport() override;

  SendResult send(const std::string& body) override;
  void abort() override;
  const std::string& destination() const override { return display_url_; }

  // Replaces header values (secrets) if a message happens to contain one.
  std::string scrub(std::string text) const;

 private:
  void setup();
  SendResult classify_response(int status, const std::string& body, const std::string& content_type,
                               const std::string& retry_after) const;

  HttpTransportOptions options_;
  std::string path_;
  std::string display_url_;
  std::unique_ptr<httplib::Client> client_;
};

// Exposed for tests.
std::string gzip_compress(std::string_view data);
std::string deflate_compress(std::string_view data);  // zlib format, as HTTP's "deflate"
// Retry-After: delta-seconds or an HTTP-date; nullopt if neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);
// Control characters escaped, cut at `max` bytes with "..." after.
std::string printable(std::string_view s, std::size_t max);

}  // namespace obs::internal
