#pragma once
// OTLP/HTTP on the shared HTTP transport (internal): the content type per
// protocol, OTLP's retryable statuses, and reading partial success and
// google.rpc.Status answers.
#include <memory>
#include <string_view>

#include "export/transport.hpp"
#include "obs/otlp.hpp"

namespace obs::otlp {

// `signal`: "traces", "metrics" or "logs" (names the partial-success
// field). Throws std::invalid_argument for a malformed endpoint or an
// unreadable certificate or key file.
std::unique_ptr<internal::Transport> make_http_transport(const OtlpOptions& options, std::string_view signal);

}  // namespace obs::otlp
