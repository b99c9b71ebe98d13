// cpp-httplib server instrumentation: a Server span and the HTTP metrics
// for every request, route templates, and the admin endpoints on the
// application's own server.
//
// How cpp-httplib 0.11 runs a request, all on one worker thread:
//   read request line and headers (a malformed one is answered 400/414
//   without routing) -> pre-routing handler -> read the body -> handler
//   (an exception goes to the exception handler, which leaves the status
//   as the handler left it: -1 becomes 200) -> error handler for >= 400 ->
//   post-routing handler -> write the response -> logger.
// So the request's state lives in a thread_local from pre-routing to
// post-routing; post-routing (always reached once pre-routing ran) ends
// the span, echoes x-request-id and records the metrics.
#include "trace/context.hpp"
#include <httplib.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "core/diagnostics.hpp"
#include "http/admin_server.hpp"
#include "http/semconv.hpp"
#include "obs/backends/prometheus.hpp"
#include "obs/http.hpp"
#include "obs/instruments.hpp"
#include "obs/log.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/propagation.hpp"

namespace obs::http {
namespace {

using Clock = std::chrono::steady_clock;
using internal::http::kKnownMethods;
using internal::http::method_for_span_name;
using internal::http::method_index;
using internal::http::method_label;


// --- Routes -------------------------------------------------------------------

struct RouteEntry {
  std::size_t method = 0;  // index into kKnownMethods
  std::string route_template;
  std::regex regex;
  bool traced = true;
};

// What obs knows about one httplib::Server. Owned by the closures it
// registers in that server, so it lives exactly as long as the server.
struct ServerState {
  ServerOptions options;
  // unique_ptr: requests keep pointers to entries. Written only while
  // routes are registered, which cpp-httplib requires to happen before
  // the server listens, like its own handler lists.
  std::vector<std::unique_ptr<RouteEntry>> routes;
};

struct Registry {
  std::mutex mutex;
  std::vector<std::pair<const httplib::Server*, std::weak_ptr<ServerState>>> servers;
};

Registry& registry() {
  static auto* r = new Registry();  // never destroyed: servers may outlive static destruction order
  return *r;
}

// The state of `server`, created on first use. An expired entry belongs
// to a destroyed server (possibly at the same address) and is dropped.
std::shared_ptr<ServerState> state_for(const httplib::Server& server) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::erase_if(r.servers, [](const auto& entry) { return entry.second.expired(); });
  for (const auto& [s, weak] : r.servers)
    if (s == &server) return weak.lock();
  auto state = std::make_shared<ServerState>();
  r.servers.emplace_back(&server, state);
  return state;
}

std::size_t index_of(std::string_view known_method) { return method_index(known_method); }

// "/users/{id}" -> "/users/([^/]+)"; everything else matches literally.
std::string template_to_regex(std::string_view route_template) {
  if (route_template.empty()) throw std::invalid_argument("obs::http::route: the route template is empty");
  std::string out;
  out.reserve(route_template.size() + 16);
  for (std::size_t i = 0; i < route_template.size(); ++i) {
    const char c = route_template[i];
    if (c == '{') {
      const auto close = route_template.find('}', i + 1);
      const auto name =
          close == std::string_view::npos ? std::string_view{} : route_template.substr(i + 1, close - i - 1);
      if (close == std::string_view::npos || name.empty() || name.find_first_of("{/") != std::string_view::npos)
        throw std::invalid_argument("obs::http::route: malformed parameter in route template '" +
                                    std::string(route_template) + "' (expected {name})");
      out += "([^/]+)";
      i = close;
    } else if (c == '}') {
      throw std::invalid_argument("obs::http::route: unmatched '}' in route template '" + std::string(route_template) +
                                  "'");
    } else {
      if (std::string_view("\\^$.|?*+()[]").find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
  }
  return out;
}

void register_route(httplib::Server& server, std::size_t method, std::string_view route_template,
                    const std::string& pattern, bool traced, Handler handler) {
  auto state = state_for(server);
  auto entry = std::make_unique<RouteEntry>();
  entry->method = method;
  entry->route_template.assign(route_template);
  entry->regex = std::regex(pattern);
  entry->traced = traced;
  // The closure holds the state so the server keeps it alive.
  httplib::Server::Handler wrapped = [state, handler = std::move(handler)](
                                         const httplib::Request& req, httplib::Response& res) { handler(req, res); };
  const std::string_view m = kKnownMethods[method];
  if (m == "GET") {
    server.Get(pattern, std::move(wrapped));
  } else if (m == "POST") {
    server.Post(pattern, std::move(wrapped));
  } else if (m == "PUT") {
    server.Put(pattern, std::move(wrapped));
  } else if (m == "DELETE") {
    server.Delete(pattern, std::move(wrapped));
  } else if (m == "PATCH") {
    server.Patch(pattern, std::move(wrapped));
  } else {
    server.Options(pattern, std::move(wrapped));
  }
  state->routes.push_back(std::move(entry));
}

// The route cpp-httplib will dispatch this request to, if it was
// registered with route(): same lists (HEAD uses GET's), same order, same
// regex on the same path.
const RouteEntry* match_route(const ServerState& state, std::size_t method, const std::string& path) {
  static const std::size_t get = index_of("GET");
  static const std::size_t head = index_of("HEAD");
  const std::size_t wanted = method == head ? get : method;
  for (const auto& entry : state.routes)
    if (entry->method == wanted && std::regex_match(path, entry->regex)) return entry.get();
  return nullptr;
}

// --- Metrics ------------------------------------------------------------------

struct ServerMetrics {
  HistogramFamily duration;
  HistogramFamily request_size;
  HistogramFamily response_size;
  UpDownCounterFamily active_family;
  // Bound once per method (url.scheme "http"): the request path only indexes.
  std::array<UpDownCounter, kKnownMethods.size() + 1> active_http;
};

std::string_view scheme_label(bool tls) { return tls ? "https" : "http"; }

bool is_tls([[maybe_unused]] const httplib::Request& req) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  return req.ssl != nullptr;
#else
  return false;
#endif
}

const ServerMetrics& server_metrics() {
  static const ServerMetrics m = [] {
    ServerMetrics s;
    // Keys as semantic conventions 1.33 list them: the required ones, then
    // those conditionally required (left out, as empty values, when they do not apply).
    s.duration = obs::histogram(
        "http.server.request.duration",
        {"http.request.method", "url.scheme", "http.route", "http.response.status_code", "error.type"},
        {.description = "Duration of HTTP server requests.", .unit = "s", .buckets = internal::http::duration_buckets()});
    s.request_size = obs::histogram(
        "http.server.request.body.size", {"http.request.method", "url.scheme", "http.route", "error.type"},
        {.description = "Size of HTTP server request bodies.", .unit = "By", .buckets = internal::http::body_size_buckets()});
    s.response_size = obs::histogram("http.server.response.body.size",
                                     {"http.request.method", "url.scheme", "http.route", "error.type"},
                                     {.description = "Size of HTTP server response bodies.",
                                      .unit = "By",
                                      .buckets = internal::http::body_size_buckets()});
    s.active_family = obs::up_down_counter("http.server.active_requests", {"http.request.method", "url.scheme"},
                                           {.description = "Number of active HTTP server requests.", .unit = "{request}"});
    for (std::size_t i = 0; i < s.active_http.size(); ++i)
      s.active_http[i] = s.active_family.labels(method_label(i), scheme_label(false));
    for (const std::string* error :
         {&s.duration.error(), &s.request_size.error(), &s.response_size.error(), &s.active_family.error()})
      if (!error->empty()) internal::report_error("http-metrics", "HTTP server metric not recorded: " + *error);
    return s;
  }();
  return m;
}

// http.server.active_requests by method for one scheme. The https ones are
// bound on the first https request, so a plain-HTTP server shows no https series.
const std::array<UpDownCounter, kKnownMethods.size() + 1>& active_requests(bool tls) {
  if (!tls) return server_metrics().active_http;
  static const auto https = [] {
    std::array<UpDownCounter, kKnownMethods.size() + 1> row;
    for (std::size_t i = 0; i < row.size(); ++i)
      row[i] = server_metrics().active_family.labels(method_label(i), scheme_label(true));
    return row;
  }();
  return https;
}

// --- Per-request state --------------------------------------------------------

struct ActiveRequest {
  const ServerState* server = nullptr;
  const RouteEntry* route = nullptr;
  std::size_t method = 0;
  bool tls = false;  // url.scheme https
  Clock::time_point start;
  std::optional<Span> span;  // none for untraced routes
  std::string request_id;
  bool threw = false;
  std::string exception_type;  // when threw
  std::string exception_message;
};

thread_local std::optional<ActiveRequest> t_request;


std::string_view header(const httplib::Request& req, const std::string& name) {
  const auto it = req.headers.find(name);
  return it == req.headers.end() ? std::string_view{} : std::string_view(it->second);
}

// Host header without its port: "example.com:8080" -> "example.com", "[::1]:80" -> "::1".
std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(1, close - 1);
  }
  const auto colon = host.find(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

std::size_t request_body_size(const httplib::Request& req) {
  if (!req.body.empty()) return req.body.size();
  // A handler with a content reader consumes the body itself.
  const auto length = header(req, "Content-Length");
  if (length.empty() || length.size() > 18) return 0;
  std::size_t n = 0;
  for (char c : length) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n;
}

// The body size as set by the handler; nullopt for a provider of unknown length.
std::optional<std::size_t> response_body_size(const httplib::Response& res) {
  if (!res.body.empty() || !res.content_provider_) return res.body.size();
  if (!res.is_chunked_content_provider_ && res.content_length_ > 0) return res.content_length_;
  return std::nullopt;
}

void start_span(ActiveRequest& a, const httplib::Request& req) {
  // Every field of each header, in the order received: repeated fields are
  // combined as RFC 9110 says (httplib's multimap keeps equal keys in
  // insertion order and compares names case-insensitively).
  const Context incoming =
      propagation::extract_fields([&req](std::string_view name, const propagation::HeaderFieldVisitor& field) {
        const auto [first, last] = req.headers.equal_range(std::string(name));
        for (auto it = first; it != last; ++it) field(it->second);
      });
  a.request_id = incoming.request_id;
  std::string name(method_for_span_name(a.method));
  if (a.route) {
    name += ' ';
    name += a.route->route_template;
  }
  const std::string_view scheme = scheme_label(a.tls);
  a.span.emplace(name, incoming, SpanKind::Server,
                 Fields{{"http.request.method", method_label(a.method)},
                        {"url.path", req.path},
                        {"url.scheme", scheme},
                        {"server.port", req.local_port},
                        {"client.address", req.remote_addr},
                        {"client.port", req.remote_port}});
  Span& span = *a.span;
  if (!span.recording()) return;
  if (a.method == kKnownMethods.size()) span.set_attribute({"http.request.method_original", req.method});
  if (a.route) span.set_attribute({"http.route", a.route->route_template});
  if (const auto host = host_without_port(header(req, "Host")); !host.empty())
    span.set_attribute({"server.address", host});
  if (const auto agent = header(req, "User-Agent"); !agent.empty()) span.set_attribute({"user_agent.original", agent});
  if (std::string_view v = req.version; v.starts_with("HTTP/"))
    span.set_attribute({"network.protocol.version", v.substr(5)});
}

// Pre-routing ran but post-routing did not (cpp-httplib should not allow
// it): end what was left so the span and the gauge do not leak.
void abandon(ActiveRequest& a) {
  if (a.span) {
    a.span->set_status(SpanStatus::Error, "response never completed");
    a.span->end();
  }
  active_requests(a.tls)[a.method].dec();
}

void begin_request(const std::shared_ptr<ServerState>& state, const httplib::Request& req) {
  if (t_request) {
    abandon(*t_request);
    t_request.reset();
  }
  ActiveRequest& a = t_request.emplace();
  a.server = state.get();
  a.start = Clock::now();
  a.method = method_index(req.method);
  a.tls = is_tls(req);
  a.route = match_route(*state, a.method, req.path);
  active_requests(a.tls)[a.method].inc();
  if (!a.route || a.route->traced) start_span(a, req);
}

void end_request(const ServerState* state, const httplib::Request& req, httplib::Response& res) {
  if (!t_request || t_request->server != state) return;  // pre-routing never ran (malformed request)
  ActiveRequest& a = *t_request;
  const double seconds = std::chrono::duration<double>(Clock::now() - a.start).count();
  const int status = res.status;
  // The route template when one of ours matched. Otherwise (no handler
  // matched, or one registered without obs::http::route) there is none, and
  // the semantic conventions leave http.route out rather than guess: the
  // span gets no attribute and the metrics an empty value, which every
  // backend treats as absent (Prometheus by its data model; OTLP and
  // Datadog leave empty attributes out).
  const std::string_view route = a.route ? std::string_view(a.route->route_template) : std::string_view{};
  const std::string status_label = std::to_string(status);
  // A 4xx is the client's error, even when an exception handler of the
  // application mapped a thrown exception to it. A 5xx is the server's:
  // error.type names the exception's type, or the status code.
  const std::string_view error_type =
      status < 500 ? std::string_view{} : a.threw ? std::string_view(a.exception_type) : std::string_view(status_label);
  if (a.span) {
    Span& span = *a.span;
    span.set_attribute({"http.response.status_code", status});
    if (!error_type.empty()) {
      span.set_status(SpanStatus::Error, a.threw ? std::string_view(a.exception_message) : std::string_view{});
      span.set_attribute({"error.type", error_type});
    }
    if (!a.request_id.empty() && !res.has_header("x-request-id")) res.set_header("x-request-id", a.request_id);
  }
  // Observed while the request's span is still current, so the duration
  // histogram's exemplar links to this request's trace.
  const auto& m = server_metrics();
  const std::string_view method = method_label(a.method);
  const std::string_view scheme = scheme_label(a.tls);
  m.duration.labels(method, scheme, route, status_label, error_type).observe(seconds);
  m.request_size.labels(method, scheme, route, error_type).observe(static_cast<double>(request_body_size(req)));
  if (const auto size = response_body_size(res))
    m.response_size.labels(method, scheme, route, error_type).observe(static_cast<double>(*size));
  active_requests(a.tls)[a.method].dec();
  if (a.span) a.span->end();
  t_request.reset();
}

void on_exception(const ServerState* state, std::exception_ptr ep) {
  if (!t_request || t_request->server != state) return;
  ActiveRequest& a = *t_request;
  a.threw = true;
  a.exception_type = "_OTHER";
  a.exception_message = "unknown exception";
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    a.exception_type = internal::type_name(typeid(e));
    a.exception_message = e.what();
  } catch (...) {
  }
  if (a.span)
    a.span->add_event("exception", {{"exception.type", a.exception_type}, {"exception.message", a.exception_message}});
  // The request's span is still current: the record carries its ids.
  log::error("HTTP handler threw", {{"exception.type", a.exception_type}, {"exception.message", a.exception_message}});
}

void report(const char* what) {
  internal::report_error(
      std::string("http-instrumentation-") + what,
      std::string("obs::http instrumentation failed in ") + what + ": " + internal::describe(std::current_exception()));
}

const std::function<std::string()>& render_global_metrics() {
  static const std::function<std::string()> render = [] {
    return PrometheusBackend::render(MetricsRegistry::global().snapshot());
  };
  return render;
}

const std::function<std::string()>& render_global_openmetrics() {
  static const std::function<std::string()> render = [] {
    return PrometheusBackend::render_openmetrics(MetricsRegistry::global().snapshot());
  };
  return render;
}

}  // namespace

void instrument(httplib::Server& server, ServerOptions options) {
  auto state = state_for(server);
  state->options = std::move(options);
  (void)server_metrics();  // register the families now, so they are exposed (empty) before the first request

  server.set_pre_routing_handler([state](const httplib::Request& req, httplib::Response& res) {
    try {
      begin_request(state, req);
    } catch (...) {
      report("pre-routing");
    }
    // The application's hook runs inside the span; what it throws goes to
    // the exception handler like a handler's exception.
    if (state->options.pre_routing && state->options.pre_routing(req, res))
      return httplib::Server::HandlerResponse::Handled;
    return httplib::Server::HandlerResponse::Unhandled;
  });

  server.set_exception_handler([state](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    // cpp-httplib would answer 200 (the status the handler left, -1,
    // becomes 200); without a handler it would send what() in a header.
    res.status = 500;
    res.set_content("Internal Server Error\n", "text/plain");
    try {
      on_exception(state.get(), ep);
    } catch (...) {
      report("exception-handler");
    }
    if (state->options.exception_handler) {
      try {
        state->options.exception_handler(req, res, ep);
      } catch (...) {
        report("application-exception-handler");
      }
      if (res.status < 100) res.status = 500;
    }
  });

  server.set_post_routing_handler([state](const httplib::Request& req, httplib::Response& res) {
    // Post-routing runs outside cpp-httplib's try block: nothing may escape.
    if (state->options.post_routing) {
      try {
        state->options.post_routing(req, res);
      } catch (...) {
        report("application-post-routing");
      }
    }
    try {
      end_request(state.get(), req, res);
    } catch (...) {
      report("post-routing");
      t_request.reset();
    }
  });
}

void route(httplib::Server& server, std::string_view method, std::string_view route_template, Handler handler) {
  const std::size_t m = method_index(method);
  if (!(method == "GET" || method == "POST" || method == "PUT" || method == "DELETE" || method == "PATCH" ||
        method == "OPTIONS"))
    throw std::invalid_argument("obs::http::route: method '" + std::string(method.substr(0, 32)) +
                                "' is not one cpp-httplib routes (GET, POST, PUT, DELETE, PATCH, OPTIONS)");
  if (!handler) throw std::invalid_argument("obs::http::route: the handler is empty");
  register_route(server, m, route_template, template_to_regex(route_template), true, std::move(handler));
}

void mount_admin_endpoints(httplib::Server& server) {
  const std::size_t get = index_of("GET");
  register_route(
      server, get, "/metrics", template_to_regex("/metrics"), false,
      [](const httplib::Request& req, httplib::Response& res) {
        internal::serve_metrics(req, render_global_metrics(), render_global_openmetrics(), res);
      });
  register_route(server, get, "/health", template_to_regex("/health"), false,
                 [](const httplib::Request&, httplib::Response& res) { internal::serve_health({}, res); });
  register_route(server, get, "/health/ready", template_to_regex("/health/ready"), false,
                 [](const httplib::Request&, httplib::Response& res) { internal::serve_readiness(res); });
}

}  // namespace obs::http
