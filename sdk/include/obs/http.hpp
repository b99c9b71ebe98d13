#pragma once
// Instrumentation for cpp-httplib servers and clients: spans that continue
// the caller's trace, the request id in every log record and response, and
// the OpenTelemetry HTTP metrics under Prometheus names.
//
//   httplib::Server server;
//   obs::http::instrument(server);
//   obs::http::route(server, "GET", "/users/{id}", [](const httplib::Request& req, httplib::Response& res) {
//     obs::log::info("looking up user", {{"id", req.matches[1].str()}});   // carries trace_id, request_id
//     res.set_content("{}", "application/json");
//   });
//   obs::http::mount_admin_endpoints(server);   // /metrics, /health, /health/ready
//
//   // Calling another service:
//   obs::http::ClientCall call("GET", "users.internal", 8080, "/users/42");
//   httplib::Headers headers;
//   call.inject(headers);                        // traceparent, tracestate, baggage, x-request-id
//   auto res = client.Get("/users/42", headers);
//   call.finish(res);                            // status code, or the httplib::Error
//
// This header does not include <httplib.h>: include it yourself. The
// implementation lives in libobs, built against the cpp-httplib it ships
// with (0.11), so use the same cpp-httplib in your program.
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "obs/export.hpp"
#include "obs/span.hpp"
#include "obs/trace_context.hpp"

namespace httplib {
class Server;
class Client;
struct Request;
struct Response;
}  // namespace httplib

namespace obs::http {

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// cpp-httplib has a single slot for each of these hooks and instrument()
// takes them; give yours here instead. Calling server.set_pre_routing_handler(),
// set_post_routing_handler() or set_exception_handler() after instrument()
// removes the instrumentation. set_logger() and set_error_handler() stay yours.
struct ServerOptions {
  // Runs after the request's span has started (so it logs with its ids);
  // return true when it answered the request (cpp-httplib's Handled).
  std::function<bool(const httplib::Request&, httplib::Response&)> pre_routing{};
  // Runs before the span ends and the response is written; a status it
  // sets is the one recorded.
  Handler post_routing{};
  // Runs when a handler threw, after the status was set to 500 and the
  // exception recorded on the span; it may replace status and body. The
  // exception's message is never sent to the client by obs.
  std::function<void(const httplib::Request&, httplib::Response&, std::exception_ptr)> exception_handler{};
};

// Instruments every request `server` serves from now on. For each request:
//  - its context is extracted from traceparent, tracestate, baggage and
//    x-request-id (an absent or invalid x-request-id is replaced by a new
//    one), and a Server span "<METHOD> <route>" starts as a child of it and
//    stays current while the handler runs on cpp-httplib's worker thread;
//  - span attributes per OpenTelemetry's HTTP conventions:
//    http.request.method (_OTHER for non-standard ones, the original in
//    http.request.method_original), url.path, url.scheme, http.route,
//    http.response.status_code, server.address (from Host), server.port,
//    client.address, client.port, user_agent.original,
//    network.protocol.version, and error.type on failures;
//  - 5xx responses and handlers that throw set the span's status to Error
//    (4xx do not: for a server they are the client's error); a thrown
//    handler answers 500 with a fixed body and its exception is recorded on
//    the span;
//  - the response carries x-request-id (unless the handler set one);
//  - metrics (names as Prometheus sees them):
//      http_server_request_duration_seconds{http_request_method,http_route,http_response_status_code}
//      http_server_active_requests{http_request_method}
//      http_server_request_body_size_bytes{http_request_method,http_route}
//      http_server_response_body_size_bytes{http_request_method,http_route}
//    The duration runs from the request's headers being read to its
//    response being ready to write (the time spent sending it is not
//    included). Body sizes are the body as read and as set by the handler
//    (a chunked response of unknown length is not observed).
//
// http.route is the template given to route() — never the raw path, whose
// values are unbounded. It is left out (no span attribute; an empty metric
// label, which every backend treats as absent) when no route matched, and
// for a request answered by a handler registered directly with
// server.Get(...) and friends: cpp-httplib does not say which pattern
// matched, so register routes with route() to have them named.
//
// The admin endpoints of mount_admin_endpoints() get no span (a scrape
// every few seconds would bury real traces) but are counted in the
// metrics like any route.
//
// Call it before the server starts listening. Calling it again replaces
// the options.
OBS_API void instrument(httplib::Server& server, ServerOptions options = {});

// Registers `handler` for `method` (GET, POST, PUT, DELETE, PATCH or
// OPTIONS; GET routes also answer HEAD, as in cpp-httplib) and the path
// template `route_template`, whose "{name}" parts each match one path
// segment's characters (no '/'); the rest matches literally. The captures
// are in req.matches[1], [2]... in order. Instrumented servers label the
// requests it serves with the template. Throws std::invalid_argument for
// another method or a malformed template ("{" without "}", empty name).
//
//   obs::http::route(server, "GET", "/users/{id}/posts/{post}", handler);   // "/users/7/posts/9"
//
// Routes are tried in registration order; one registered directly with
// server.Get() before it with an overlapping pattern takes its requests
// but they are still labelled with this template. Register routes before
// the server starts listening (as cpp-httplib requires).
OBS_API void route(httplib::Server& server, std::string_view method, std::string_view route_template, Handler handler);

// Serves the SDK's admin endpoints on `server`, with the same answers as
// the admin server started by obs::init (Config::admin_server):
//  - GET /metrics: the global registry in Prometheus text format 0.0.4;
//  - GET /health: liveness, 200 and {"status":"ok",...}; the service,
//    version, environment and uptime come from the running Sdk's admin
//    server when there is one;
//  - GET /health/ready: obs::health::check_readiness(), 200 when ready,
//    503 when not, with its JSON.
// On an instrumented server these requests get no span and are counted
// in the http_server_* metrics with http_route "/metrics", "/health",
// "/health/ready".
OBS_API void mount_admin_endpoints(httplib::Server& server);

// ---------------------------------------------------------------------------
// Client side

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The headers that carry this thread's current context to another service:
// traceparent and tracestate (when a span is current), baggage and
// x-request-id (when set). Prefer ClientCall, which also records the call.
OBS_API HeaderList outgoing_headers();

// Adds `list` to an httplib::Headers (anything with erase(key) and
// emplace(key, value)), replacing values it already has for those names.
template <class Headers>
void add_headers(Headers& headers, const HeaderList& list) {
  for (const auto& [name, value] : list) {
    headers.erase(name);
    headers.emplace(name, value);
  }
}

// One outgoing request. Construction starts a Client span "<METHOD>" as a
// child of the current span and makes it current; finish() or fail() ends
// it and records
//   http_client_request_duration_seconds{http_request_method,server_address,server_port,
//                                        http_response_status_code,error_type}
// (status code empty when no response came; error_type empty on success,
// the status code for 4xx and 5xx, the cpp-httplib error name such as
// "Connection" or "Read" when there was no response).
// Span attributes: http.request.method, server.address, server.port,
// url.full (scheme://address:port/path, without the query string, which
// may carry secrets), http.response.status_code, error.type. 4xx and 5xx
// responses and failures set the span status to Error (OpenTelemetry's
// rule for client spans).
//
// Like any span, end calls in the reverse order of their creation. A call
// destroyed without finish()/fail() is recorded as failed with error_type
// "_OTHER". Not copyable or movable.
class OBS_API ClientCall {
 public:
  ClientCall(std::string_view method, std::string_view server_address, int server_port, std::string_view path = {},
             std::string_view scheme = "http");
  ~ClientCall();
  ClientCall(const ClientCall&) = delete;
  ClientCall& operator=(const ClientCall&) = delete;

  // traceparent (naming this call's span as the parent), tracestate,
  // baggage and x-request-id, for the request.
  const HeaderList& headers() const { return headers_; }
  template <class Headers>
  void inject(Headers& headers) const {
    add_headers(headers, headers_);
  }

  // A response arrived with this status code.
  void finish(int status_code);
  // No response: `error_type` says why (low cardinality: "Connection", "Read", "timeout"...).
  void fail(std::string_view error_type);
  // An httplib::Result: finish(status) if it holds a response, otherwise
  // fail(httplib::to_string(error)).
  template <class Result>
  requires requires(const Result& r) { r.error(); }
  void finish(const Result& result) {
    if (result) {
      finish(result->status);
    } else {
      fail(to_string(result.error()));
    }
  }

  const SpanContext& context() const { return span_.context(); }

 private:
  void end(int status_code, std::string_view error_type);

  Span span_;
  std::chrono::steady_clock::time_point start_;
  std::string method_;  // as labelled: a known method or "_OTHER"
  std::string server_address_;
  std::string server_port_;
  HeaderList headers_;
  bool done_ = false;
};

}  // namespace obs::http
