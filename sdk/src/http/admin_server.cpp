#include "http/admin_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/diagnostics.hpp"
#include "core/fork_locks.hpp"
#include "obs/health.hpp"
#include "obs/http_server.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/version.hpp"

namespace obs::internal {
namespace {

// Handlers never let an exception reach cpp-httplib, and error bodies say
// nothing about the process beyond a fixed message.
template <class F>
void guarded(httplib::Response& res, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    report_error("admin-handler", std::string("admin endpoint failed: ") + e.what());
    res.status = 500;
    res.set_content("{\"status\":\"error\"}", "application/json");
  } catch (...) {
    report_error("admin-handler", "admin endpoint failed with an unknown exception");
    res.status = 500;
    res.set_content("{\"status\":\"error\"}", "application/json");
  }
}

struct HealthSources {
  std::mutex mutex;
  HealthJsonSource current;
};

HealthSources& health_sources() {
  static auto* h = new HealthSources();  // never destroyed: endpoints may answer during static destruction
  return *h;
}

bool is_admin_path(const std::string& path) {
  return path == "/metrics" || path == "/health" || path == "/health/ready";
}

// The status goes with "Connection: close", telling the client not to
// reuse the connection: the body we did not read would be parsed as the
// next request (cpp-httplib answers that with 400 and closes). It adds the
// header itself when the request asked for it.
void refuse_and_close(const httplib::Request& req, httplib::Response& res, int status, const char* body) {
  res.status = status;
  if (req.get_header_value("Connection") != "close") res.set_header("Connection", "close");
  res.set_content(body, "text/plain");
}

// Requests refused before reaching an endpoint, by why: a scraper with a
// wrong credential or method, or someone probing the port, shows up here.
const CounterFamily& refused_requests() {
  // Never destroyed: a server thread left running at exit may still count.
  static const auto* family = new CounterFamily(MetricsRegistry::global().counter(
      "obs_admin_requests_refused", {"reason"},
      {.description = "Requests the admin server refused (401, 405, 400, 413)", .series_limit = 100}));
  return *family;
}
constexpr const char* kRefusalReasons[] = {"unauthorized", "method_not_allowed", "bad_request", "payload_too_large"};
void count_refusal(const char* reason) { refused_requests().labels(reason).inc(); }

// 0 when the request's declared body is acceptable, else the status to
// answer: 400 for a Content-Length that is not a number, 413 over the limit.
int body_refusal(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return 0;
  const std::string v = req.get_header_value("Content-Length");
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return 400;
  if (v.size() > 7) return 413;  // over 9 999 999 bytes, without overflowing
  return std::stoul(v) > kAdminMaxBodyBytes ? 413 : 0;
}

// 401 with one challenge per configured scheme unless the request carries
// a configured credential. Neither the expected nor the given credential
// appears in the answer or in any message.
bool admit(const httplib::Request& req, const AdminCredentials& credentials, httplib::Response& res) {
  if (authorized(req.get_header_value("Authorization"), credentials)) return true;
  count_refusal("unauthorized");
  res.status = 401;
  if (credentials.bearer_token) res.headers.emplace("WWW-Authenticate", bearer_challenge());
  if (credentials.basic_user_password) res.headers.emplace("WWW-Authenticate", basic_challenge());
  res.set_header("Cache-Control", "no-store");
  res.set_content("unauthorized\n", "text/plain");
  return false;
}

}  // namespace

void serve_metrics(const httplib::Request& req, const std::function<std::string()>& render_metrics,
                   const std::function<std::string()>& render_openmetrics, httplib::Response& res) {
  guarded(res, [&] {
    if (!render_metrics) {
      res.status = 404;
      res.set_content("metrics are not exported in Prometheus format by this service\n", "text/plain");
      return;
    }
    // Prometheus lists OpenMetrics first in its Accept header; other
    // scrapers (and curl) get the 0.0.4 text format as before.
    if (render_openmetrics && req.get_header_value("Accept").find("application/openmetrics-text") != std::string::npos) {
      res.set_content(render_openmetrics(), "application/openmetrics-text; version=1.0.0; charset=utf-8");
      return;
    }
    res.set_content(render_metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

void serve_health(const std::function<std::string()>& health_json, httplib::Response& res) {
  guarded(res, [&] { res.set_content(health_json ? health_json() : current_health_json(), "application/json"); });
}

void serve_readiness(httplib::Response& res) {
  guarded(res, [&] {
    const auto r = health::check_readiness();
    res.status = r.ready ? 200 : 503;
    res.set_content(r.json, "application/json");
  });
}

std::string current_health_json() {
  HealthJsonSource source;
  {
    std::lock_guard lock(health_sources().mutex);
    source = health_sources().current;
  }
  if (source && *source) return (*source)();
  nlohmann::json j;
  j["status"] = "ok";
  j["sdk"] = {{"name", "obs"}, {"version", OBS_VERSION}};
  return j.dump();
}

void lock_health_sources_for_fork() { health_sources().mutex.lock(); }
void unlock_health_sources_after_fork() { health_sources().mutex.unlock(); }

void set_health_json_source(HealthJsonSource source) {
  std::lock_guard lock(health_sources().mutex);
  health_sources().current = std::move(source);
}

void remove_health_json_source(const HealthJsonSource& source) {
  std::lock_guard lock(health_sources().mutex);
  if (health_sources().current == source) health_sources().current.reset();
}

namespace {
// Scrapes and probes are small and few; idle or slow clients hold no
// worker (obs::http::Server), so two are plenty.
http::ServerLimits admin_limits() {
  http::ServerLimits limits;
  limits.workers = 2;
  limits.max_connections = 512;
  limits.max_header_fields = kAdminMaxHeaders;
  limits.request_deadline = std::chrono::seconds(10);
  limits.buffered_body_bytes = kAdminMaxBodyBytes;
  return limits;
}
}  // namespace

AdminServer::AdminServer(Options options)
    : options_(std::move(options)), server_(std::make_unique<http::Server>(admin_limits())) {}

AdminServer::~AdminServer() {
  request_stop();
  wait_stopped(std::chrono::steady_clock::time_point::max());
}

std::string AdminServer::start() {
  auto& s = *server_;
  for (const char* reason : kRefusalReasons) refused_requests().labels(reason).inc(0);  // present at 0 from the start
  // As obs::http::Server does (no SO_REUSEPORT: a second process must not
  // take half the scrapes), and remembering the listening socket.
  s.set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
    listen_socket_ = sock;  // only the listening socket comes through here
  });
  s.set_payload_max_length(kAdminMaxBodyBytes);
  // A client that stops sending (or reading) for this long is dropped.
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.set_keep_alive_max_count(100);
  // Scrapes come every 15 s or so: an idle connection is not worth keeping.
  s.set_keep_alive_timeout(1);

  // Runs before routing and before any body is read: on the admin paths,
  // wrong methods and declared oversized bodies are answered without
  // reaching a handler. (Too many header fields never get here: the
  // server answers 431 first.)
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    using Outcome = httplib::Server::HandlerResponse;
    if (!is_admin_path(req.path)) return Outcome::Unhandled;  // 404 from the router
    if (req.method != "GET" && req.method != "HEAD") {
      count_refusal("method_not_allowed");
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      // Its body, if any, is not read: see refuse_and_close.
      if ((req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) &&
          req.get_header_value("Connection") != "close")
        res.set_header("Connection", "close");
      res.set_content("method not allowed\n", "text/plain");
      return Outcome::Handled;
    }
    if (const int status = body_refusal(req); status != 0) {
      count_refusal(status == 413 ? "payload_too_large" : "bad_request");
      refuse_and_close(req, res, status, status == 413 ? "payload too large\n" : "bad request\n");
      return Outcome::Handled;
    }
    return Outcome::Unhandled;
  });

  s.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, options_.credentials, res)) return;
    serve_metrics(req, options_.render_metrics, options_.render_openmetrics, res);
  });
  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    serve_health(options_.health_json, res);
  });
  s.Get("/health/ready", [this](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, options_.credentials, res)) return;
    serve_readiness(res);
  });

  errno = 0;
  int port;
  if (options_.port == 0) {
    port = s.bind_to_any_port(options_.bind_address);
  } else {
    port = s.bind_to_port(options_.bind_address, options_.port) ? options_.port : -1;
  }
  if (port <= 0) {
    const int err = errno;
    return "admin server cannot listen on " + options_.bind_address + ":" + std::to_string(options_.port) +
           (err ? std::string(" (") + std::strerror(err) + ")" : std::string()) +
           "; /metrics, /health and /health/ready are not served. Set PROMETHEUS_PORT to a free port.";
  }
  port_ = static_cast<std::uint16_t>(port);
  if (options_.health_json) {
    health_source_ = std::make_shared<const std::function<std::string()>>(options_.health_json);
    set_health_json_source(health_source_);
  }
  thread_ = std::thread([this] {
    try {
      server_->listen_after_bind();
    } catch (...) {
      report_error("admin-listen", "admin server stopped after an unexpected exception");
    }
    listen_socket_ = -1;  // closed by cpp-httplib: the number may be reused
    std::unique_lock lock(listen_mutex_);
    listen_returned_ = true;
    listen_returned_cv_.notify_all();
    if (delete_when_stopped_) {
      lock.unlock();
      delete this;  // left to this thread by delete_when_stopped(); nothing else refers to it
    }
  });
  wait_until_running(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  return {};
}

// cpp-httplib 0.11's stop() does nothing until the listen loop has marked
// itself running, so a stop() right after start() would leave the thread
// listening forever. It marks itself within microseconds of starting.
void AdminServer::wait_until_running(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    {
      std::lock_guard lock(listen_mutex_);
      if (listen_returned_) return;
    }
    if (server_->is_running() || std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void AdminServer::request_stop() {
  if (health_source_) {
    remove_health_json_source(health_source_);
    health_source_.reset();
  }
  if (!thread_.joinable() || stop_requested_) return;
  stop_requested_ = true;
  // The listening socket closes in wait_stopped (obs::http::Server::shutdown
  // closes it safely whatever the listening loop's state); until then,
  // scrapes are still answered while the pipelines flush.
}

bool AdminServer::wait_stopped(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable()) return true;
  // Closes the listening socket at once, lets scrapes in progress finish
  // until the deadline and cuts what remains then. A handler still busy
  // (a readiness check that never returns) keeps its worker: this object
  // must then outlive it (see delete_when_stopped).
  if (!server_->shutdown(deadline)) return false;
  {
    std::unique_lock lock(listen_mutex_);
    if (!listen_returned_cv_.wait_until(lock, deadline, [&] { return listen_returned_; })) return false;
  }
  thread_.join();
  return true;
}

void AdminServer::delete_when_stopped() {
  std::unique_lock lock(listen_mutex_);
  if (listen_returned_ || !thread_.joinable()) {
    lock.unlock();
    // The listening thread is done, but a worker may still be in a
    // handler: the destructor waits for it, on a thread of its own.
    std::thread([this] { delete this; }).detach();
    return;
  }
  thread_.detach();
  delete_when_stopped_ = true;
}

void AdminServer::abandon_in_forked_child() {
  const int fd = listen_socket_.load();
  if (fd < 0) return;
  // Only if it is still our listening socket (cpp-httplib closes it when
  // accept() fails for good, and the number may have been reused).
  int listening = 0;
  socklen_t len = sizeof listening;
  sockaddr_storage addr{};
  socklen_t addr_len = sizeof addr;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0)
    return;
  const auto port = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                               : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (port != port_) return;
  // Replaced rather than closed: the descriptor number stays taken (by
  // /dev/null), so no later file of the child's can be mistaken for it.
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd >= 0) {
    ::dup3(null_fd, fd, O_CLOEXEC);
    ::close(null_fd);
  }
}

}  // namespace obs::internal
