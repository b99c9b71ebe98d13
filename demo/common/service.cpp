#include "service.hpp"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <thread>

#include "api_docs.hpp"
#include "obs/db.hpp"
#include "obs/obs.hpp"
#include "obs/version.hpp"

namespace demo {
namespace {

using namespace std::chrono_literals;

std::string g_prog = "demo";  // for messages from the SDK's error handler

// Variables every service reads (the SDK reads the OTEL_* / OBS_* ones).
constexpr EnvVar kCommonEnv[] = {
    {"PORT", "port of the API, /metrics and health endpoints (0 = any free port)"},
    {"LISTEN_ADDRESS", "address to listen on (default 127.0.0.1; 0.0.0.0 in containers)"},
    {"LOG_LEVEL", "debug, info, warning, error (default info)"},
    {"OBS_LOG_FORMAT", "console log format: text or json (default text)"},
    {"OTEL_SERVICE_NAME", "service.name of every signal (default: the program's name)"},
    {"OTEL_RESOURCE_ATTRIBUTES", "extra resource attributes, key=value,..."},
    {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTLP/HTTP base URL, e.g. http://otel-collector:4318"},
    {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf (default) or http/json"},
    {"OTEL_TRACES_EXPORTER", "otlp, otlp_file, console or none (default none)"},
    {"OTEL_LOGS_EXPORTER", "console, otlp, otlp_file, comma-separated (default console)"},
    {"OTEL_METRICS_EXPORTER", "prometheus, otlp, otlp_file (default prometheus)"},
    {"OTEL_TRACES_SAMPLER", "always_on, traceidratio, parentbased_* (default parentbased_always_on)"},
    {"OTEL_TRACES_SAMPLER_ARG", "the sampler's ratio"},
    {"OTEL_METRIC_EXPORT_INTERVAL", "push interval of OTLP metrics, in ms"},
    {"OBS_OTLP_FILE_DIR", "directory of the otlp_file exporters' JSON lines files"},
};

void on_sdk_error(std::string_view message) {
  std::fprintf(stderr, "%s: obs error: %.*s\n", g_prog.c_str(), static_cast<int>(message.size()), message.data());
}

bool write_port_file(const std::string &path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;  // readers never see a partial file
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  // A closed terminal (or a supervisor's "reload") must not kill the
  // service mid-export: it stops as on SIGTERM, telemetry flushed. The demo
  // has no configuration to reload.
  sigaddset(&set, SIGHUP);
  return set;
}

// The deepest nesting of objects and arrays in `body`, stopping early once
// past `limit` (strings skipped, escapes included).
int json_depth(std::string_view body, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

bool is_admin_path(const std::string &path) {
  return path == "/metrics" || path == "/health" || path == "/health/ready" || path == "/openapi.json" ||
         path == "/docs";
}

std::mt19937 &thread_rng() {
  thread_local std::mt19937 rng(std::random_device{}());
  return rng;
}

}  // namespace

std::string env_or(const char *name, std::string_view fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::string(v) : std::string(fallback);
}

Upstream parse_upstream(std::string_view variable, std::string_view url) {
  auto bad = [&](std::string_view why) {
    return std::invalid_argument(std::string(variable) + "='" + std::string(url) +
                                 "' is not a usable URL: " + std::string(why) + " (expected http://host:port)");
  };
  Upstream u;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) throw bad("no scheme");
  u.scheme = std::string(url.substr(0, sep));
  if (u.scheme != "http") throw bad("only http is supported");
  std::string_view rest = url.substr(sep + 3);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) throw bad("a path is not supported");
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    u.host = std::string(rest);
    u.port = 80;
  } else {
    u.host = std::string(rest.substr(0, colon));
    const std::string_view port = rest.substr(colon + 1);
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), u.port);
    if (ec != std::errc() || p != port.data() + port.size() || u.port <= 0 || u.port > 65535) throw bad("bad port");
  }
  if (u.host.empty()) throw bad("no host");
  return u;
}

void send_error(httplib::Response &res, int status, std::string_view message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void simulated_query(const httplib::Request &req, std::string_view sql) {
  obs::db::Target target;
  target.system = "other_sql";
  target.database = "demo";
  obs::db::Operation op(sql, target);
  const bool slow = req.get_param_value("slow") == "true";
  std::uniform_int_distribution<int> ms(slow ? 300 : 2, slow ? 700 : 15);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms(thread_rng())));
  op.set_rows(10);
}

void answer_error(const httplib::Request &req, httplib::Response &) {
  obs::log::error("Simulated failure requested", {{"path", req.path}, {"error_type", "demo_failure"}});
  // The instrumentation answers 500, marks the span as failed and records
  // the exception on it: the same path a real bug would take.
  throw std::runtime_error("simulated failure (GET /error)");
}

httplib::Result call(const Upstream &upstream, std::string_view method, const std::string &path,
                     const std::string &body, std::string_view content_type, std::chrono::seconds read_timeout) {
  httplib::Client client(upstream.host, upstream.port);
  client.set_connection_timeout(2s);
  client.set_read_timeout(read_timeout);
  client.set_write_timeout(10s);
  client.set_tcp_nodelay(true);
  obs::http::ClientCall call(method, upstream.host, upstream.port, path, upstream.scheme);
  httplib::Headers headers;
  call.inject(headers);
  httplib::Result result =
      method == "GET" ? client.Get(path, headers) : client.Post(path, headers, body, std::string(content_type));
  call.finish(result);
  return result;
}

obs::health::CheckResult readiness(std::string_view check, bool ok, std::string_view shown, const std::string &detail) {
  struct LastResults {
    std::mutex mutex;
    std::map<std::string, bool, std::less<>> passing;  // per check
  };
  // Never destroyed: a check may still run on its thread while the process exits.
  static auto *last = new LastResults;
  bool changed;
  {
    std::lock_guard lock(last->mutex);
    auto it = last->passing.find(check);
    changed = it == last->passing.end() ? !ok : it->second != ok;
    last->passing[std::string(check)] = ok;
  }
  if (changed && !ok) obs::log::warning("Readiness check failing", {{"check", check}, {"detail", detail}});
  if (changed && ok) obs::log::info("Readiness check passing again", {{"check", check}});
  return {ok, std::string(shown)};
}

obs::health::CheckResult check_health(std::string_view check, const Upstream &upstream) {
  httplib::Client client(upstream.host, upstream.port);
  client.set_connection_timeout(1s);
  client.set_read_timeout(1s);
  auto result = client.Get("/health");
  if (!result)
    return readiness(check, false, "unreachable", upstream.base() + " unreachable: " + httplib::to_string(result.error()));
  if (result->status != 200)
    return readiness(check, false, "not healthy", upstream.base() + "/health answered " + std::to_string(result->status));
  return readiness(check, true, "up", {});
}

namespace {
// Idle and slow clients hold no worker (obs::http::Server reads each
// request before a worker takes it); 32 workers bound the handlers running
// at once, each of which may wait on a downstream service.
obs::http::ServerLimits service_limits() {
  obs::http::ServerLimits limits;
  limits.workers = 32;
  limits.request_deadline = std::chrono::seconds(30);
  limits.buffered_body_bytes = kMaxJsonBodyBytes;
  return limits;
}
}  // namespace

Service::Service(ServiceSpec spec) : spec_(std::move(spec)), name_(spec_.name), server_(service_limits()) {
  g_prog = name_;
  route("GET", "/openapi.json", [this](const httplib::Request &, httplib::Response &res) {
    res.set_content(std::string(spec_.openapi_json), "application/json");
  });
  route("GET", "/docs", [this](const httplib::Request &, httplib::Response &res) {
    res.set_content(render_api_docs(spec_.openapi_json), "text/html; charset=utf-8");
  });
}

Service::~Service() = default;

void Service::route(std::string_view method, std::string_view route_template, obs::http::Handler handler) {
  obs::http::route(server_, method, route_template, std::move(handler));
  routes_.emplace_back(std::string(method), std::string(route_template));
}

ParsedJson parse_json_body(std::string_view body) {
  ParsedJson out;
  if (body.size() > kMaxJsonBodyBytes) {
    out.status = 413;
    out.error = "the body is " + std::to_string(body.size()) + " bytes; at most " +
                std::to_string(kMaxJsonBodyBytes) + " are accepted";
    return out;
  }
  if (json_depth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    out.status = 400;
    out.error = "the body nests objects and arrays deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return out;
  }
  out.value = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out.value.is_discarded()) {
    out.status = 400;
    out.error = "the body is not valid JSON";
  }
  return out;
}

std::optional<int> Service::parse_args(int argc, char **argv) {
  auto usage = [&](std::FILE *out) {
    std::fprintf(out,
                 "Usage: %s [options]\n\n%.*s\n\n"
                 "Serves its API, /metrics (Prometheus), /health, "
                 "/health/ready, /openapi.json and /docs\n"
                 "on one port, instrumented with obs. Stops on SIGINT/SIGTERM/SIGHUP "
                 "(telemetry flushed, exit status 0).\n\n"
                 "Options:\n"
                 "  --port-file PATH   write the port to PATH once listening "
                 "(with PORT=0)\n"
                 "  --list-routes      print every route served (METHOD "
                 "/template) and exit\n"
                 "  -h, --help         show this help\n"
                 "  --version          print the version\n\n"
                 "Environment:\n",
                 name_.c_str(), static_cast<int>(spec_.summary.size()), spec_.summary.data());
    auto print = [&](const EnvVar &v) {
      std::fprintf(out, "  %-29.*s %.*s\n", static_cast<int>(v.name.size()), v.name.data(),
                   static_cast<int>(v.help.size()), v.help.data());
    };
    std::fprintf(out, "  %-29s %s (default %u)\n", "PORT", "port of the API, /metrics and health endpoints",
                 static_cast<unsigned>(spec_.default_port));
    for (const EnvVar &v : kCommonEnv)
      if (v.name != "PORT") print(v);
    for (const EnvVar &v : spec_.env) print(v);
    std::fprintf(out, "  (and the SDK's other variables: see docs/configuration.md)\n");
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("%s (obs %s)\n", name_.c_str(), OBS_VERSION);
      return 0;
    }
    if (arg == "--list-routes") {
      list_routes_ = true;
    } else if (arg == "--port-file" && i + 1 < argc) {
      port_file_ = argv[++i];
    } else if (arg.starts_with("--port-file=")) {
      port_file_ = std::string(arg.substr(12));
    } else {
      std::fprintf(stderr, "%s: unknown option '%s'\nTry '%s --help'.\n", name_.c_str(), argv[i], name_.c_str());
      return 2;
    }
  }
  // Before any thread exists, so every thread inherits the mask and only
  // run()'s sigwait receives the stop signals.
  const sigset_t signals = stop_signals();
  if (int err = pthread_sigmask(SIG_BLOCK, &signals, nullptr); err != 0) {
    std::fprintf(stderr, "%s: cannot block SIGINT/SIGTERM/SIGHUP: %s\n", name_.c_str(), std::strerror(err));
    return 1;
  }
  std::signal(SIGPIPE,
              SIG_IGN);  // a client hanging up must not kill the service
  return std::nullopt;
}

int Service::run() {
  if (list_routes_) {
    for (const auto &[method, path] : routes_) std::printf("%s %s\n", method.c_str(), path.c_str());
    // Served by obs::http::mount_admin_endpoints below.
    for (const char *path : {"/metrics", "/health", "/health/ready"}) std::printf("GET %s\n", path);
    return 0;
  }

  // Large blocks (request bodies, images) come from and go back to the
  // system at once. Left to itself, glibc raises this threshold after the
  // first large block is freed, and each worker's arena then keeps tens of
  // MiB after a burst of big requests (docs/production.md, "Memory after
  // a burst").
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);

  const std::string address = env_or("LISTEN_ADDRESS", "127.0.0.1");
  int port = spec_.default_port;
  if (const char *v = std::getenv("PORT"); v && *v) {
    const std::string_view text = v;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    if (ec != std::errc() || p != text.data() + text.size() || port < 0 || port > 65535) {
      std::fprintf(stderr, "%s: PORT='%s' is not a port number (0-65535)\n", name_.c_str(), v);
      return 2;
    }
  }

  obs::Config config = obs::Config::from_env().default_service(name_);
  if (config.version.empty()) config.service_version(OBS_VERSION);
  config.admin(false);  // /metrics and the health endpoints are on the service's own port
  config.on_error(on_sdk_error);
  obs::Sdk sdk = obs::init(std::move(config));

  obs::http::ServerOptions options;
  // One access log line per API request, written while the request's span
  // is current, so it carries trace_id, span_id and request_id.
  options.post_routing = [](const httplib::Request &req, httplib::Response &res) {
    if (is_admin_path(req.path)) return;
    const obs::Fields fields{{"method", req.method}, {"path", req.path}, {"status", res.status}};
    if (res.status >= 500)
      obs::log::warning("Request failed", fields);
    else
      obs::log::info("Request completed", fields);
  };
  obs::http::instrument(server_, std::move(options));
  obs::http::mount_admin_endpoints(server_);
  // obs::http::Server (service.hpp's limits) sets TCP_NODELAY and no
  // SO_REUSEPORT: a second instance on the port fails to start.
  server_.set_keep_alive_timeout(2);
  server_.set_payload_max_length(spec_.max_body_bytes);
  // cpp-httplib's own refusals (413 for a body over the limit, 400 for a
  // malformed request) come without a body: give them the JSON error
  // every other answer has. Answers that have a body keep it.
  server_.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request &, httplib::Response &res) {
    if (!res.body.empty() || (res.status != 413 && res.status != 400)) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413)
      send_error(res, 413, "request body too large: at most " + std::to_string(spec_.max_body_bytes) + " bytes are accepted");
    else
      send_error(res, 400, "malformed request");
    return httplib::Server::HandlerResponse::Handled;
  }));
  server_.set_read_timeout(10s);
  server_.set_write_timeout(10s);
  if (on_start_) on_start_();

  const int bound = port == 0 ? server_.bind_to_any_port(address) : (server_.bind_to_port(address, port) ? port : -1);
  if (bound <= 0) {
    std::fprintf(stderr,
                 "%s: cannot listen on %s:%d (in use, or not an address of "
                 "this host); set PORT\n",
                 name_.c_str(), address.c_str(), port);
    obs::log::error("Cannot listen", {{"address", address}, {"port", port}});
    sdk.shutdown(5s);
    return 1;
  }
  std::thread listener([this] { server_.listen_after_bind(); });

  if (!port_file_.empty() && !write_port_file(port_file_, bound))
    std::fprintf(stderr, "%s: cannot write the port file %s: %s\n", name_.c_str(), port_file_.c_str(),
                 std::strerror(errno));
  std::fprintf(stderr, "%s: serving http://%s:%d (API docs at /docs, metrics at /metrics)\n", name_.c_str(),
               address.c_str(), bound);
  obs::log::info("Service started", {{"address", address}, {"port", bound}});

  const sigset_t signals = stop_signals();
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  const char *signal_name = sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM";
  obs::log::info("Service stopping", {{"signal", signal_name}});
  // Requests in progress finish (their spans and logs are then flushed
  // below); a client still sending, or a handler still running, at the
  // deadline has its connection cut.
  if (!server_.shutdown(std::chrono::steady_clock::now() + 5s))
    obs::log::warning("Requests still in progress were cut at the shutdown deadline");
  listener.join();
  sdk.shutdown(5s);
  std::fprintf(stderr, "%s: stopped (%s)\n", name_.c_str(), signal_name);
  return 0;
}

}  // namespace demo
