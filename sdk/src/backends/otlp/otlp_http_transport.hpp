#pragma once
// OTLP/HTTP transport (internal): POSTs a request body to one signal's URL
// with cpp-httplib (https with OpenSSL, custom CA and client certificate),
// gzip-compressed when configured, and classifies the answer per the OTLP
// specification: 2xx delivered (with partial success), 429/502/503/504 and
// connection failures retried, any other status rejected.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/otlp/otlp_transport.hpp"
#include "obs/otlp.hpp"

namespace httplib {
class Client;
}

namespace obs::otlp {

class OtlpHttpTransport final : public OtlpTransport {
 public:
  // `signal`: "traces", "metrics" or "logs" (names the partial-success
  // field). Throws std::invalid_argument for a malformed endpoint or an
  // unreadable certificate or key file.
  OtlpHttpTransport(const OtlpOptions& options, std::string_view signal);
  ~OtlpHttpTransport() override;

  SendResult send(const std::string& body) override;
  void abort() override;
  const std::string& destination() const override { return display_url_; }

 private:
  SendResult classify_response(int status, const std::string& body, const std::string& content_type,
                               const std::string& retry_after) const;
  // Replaces header values (secrets) if a message happens to contain one.
  std::string scrub(std::string text) const;

  std::string signal_;
  std::string path_;
  std::string display_url_;
  std::string content_type_;
  bool json_;
  bool gzip_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::unique_ptr<httplib::Client> client_;
};

// Exposed for tests.
std::string gzip_compress(std::string_view data);
// Retry-After: delta-seconds or an HTTP-date; nullopt if neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

}  // namespace obs::otlp
