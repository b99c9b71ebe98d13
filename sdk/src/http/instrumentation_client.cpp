// Client side of the cpp-httplib instrumentation: the headers that carry
// the context, and ClientCall, a Client span plus the client duration
// metric for one request. Nothing here needs cpp-httplib itself: the
// header's templates adapt to httplib::Headers and httplib::Result.
#include <chrono>
#include <string>

#include "core/diagnostics.hpp"
#include "http/semconv.hpp"
#include "obs/http.hpp"
#include "obs/instruments.hpp"
#include "obs/propagation.hpp"

namespace obs::http {
namespace {

using internal::http::method_for_span_name;
using internal::http::method_index;
using internal::http::method_label;

const HistogramFamily& client_duration() {
  static const HistogramFamily family = [] {
    auto f = obs::histogram(
        "http.client.request.duration",
        {"http.request.method", "server.address", "server.port", "http.response.status_code", "error.type"},
        {.description = "Duration of HTTP client requests.", .unit = "s", .buckets = internal::http::duration_buckets()});
    if (!f.ok()) internal::report_error("http-client-metrics", "HTTP client metric not recorded: " + f.error());
    return f;
  }();
  return family;
}

// scheme://host:port/path, the host bracketed if it is an IPv6 address,
// without the query string or fragment (they may carry secrets).
std::string url_full(std::string_view scheme, std::string_view address, const std::string& port,
                     std::string_view path) {
  path = path.substr(0, path.find_first_of("?#"));
  std::string out;
  out.reserve(scheme.size() + address.size() + port.size() + path.size() + 8);
  out.append(scheme).append("://");
  const bool ipv6 = address.find(':') != std::string_view::npos;
  if (ipv6) out += '[';
  out.append(address);
  if (ipv6) out += ']';
  out.append(":").append(port);
  if (!path.empty() && path.front() != '/') out += '/';
  out.append(path);
  return out;
}

}  // namespace

HeaderList outgoing_headers() {
  HeaderList out;
  propagation::inject(current_context(),
                      [&out](std::string_view name, std::string value) { out.emplace_back(name, std::move(value)); });
  return out;
}

ClientCall::ClientCall(std::string_view method, std::string_view server_address, int server_port, std::string_view path,
                       std::string_view scheme)
    : span_(method_for_span_name(method_index(method)), SpanKind::Client),
      start_(std::chrono::steady_clock::now()),
      method_(method_label(method_index(method))),
      server_address_(server_address),
      server_port_(std::to_string(server_port)) {
  if (span_.recording()) {
    span_.set_attribute({"http.request.method", method_});
    if (method_ != method) span_.set_attribute({"http.request.method_original", method});
    span_.set_attribute({"server.address", server_address});
    span_.set_attribute({"server.port", server_port});
    if (!path.empty()) span_.set_attribute({"url.full", url_full(scheme, server_address, server_port_, path)});
  }
  // The span is current now: its context is what the server continues.
  headers_ = outgoing_headers();
}

ClientCall::~ClientCall() {
  try {
    if (!done_) fail("_OTHER");
  } catch (...) {
    internal::report_error("http-client-call", "obs::http::ClientCall failed to record a call: " +
                                                   internal::describe(std::current_exception()));
  }
}

void ClientCall::finish(int status_code) {
  // OpenTelemetry: for a client, 4xx and 5xx are errors, named by the status code.
  const std::string error_type = status_code >= 400 ? std::to_string(status_code) : std::string();
  end(status_code, error_type);
}

void ClientCall::fail(std::string_view error_type) { end(0, error_type.empty() ? "_OTHER" : error_type); }

void ClientCall::end(int status_code, std::string_view error_type) {
  if (done_) return;
  done_ = true;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (status_code > 0) span_.set_attribute({"http.response.status_code", status_code});
  if (!error_type.empty()) {
    span_.set_attribute({"error.type", error_type});
    span_.set_status(SpanStatus::Error);
  }
  const std::string status = status_code > 0 ? std::to_string(status_code) : std::string();
  // Observed before the span ends, so the exemplar names this call's span.
  client_duration().labels(method_, server_address_, server_port_, status, error_type).observe(seconds);
  span_.end();
}

}  // namespace obs::http
