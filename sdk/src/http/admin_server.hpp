#pragma once
// The admin HTTP server: /metrics, /health, /health/ready on their own port.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/admin_auth.hpp"

namespace obs::http {
class Server;
}
namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace obs::internal {

// The admin endpoints' answers, shared by AdminServer and
// obs::http::mount_admin_endpoints. Each catches whatever its source
// throws and answers 500 with a fixed body.
// /metrics: `render_metrics()` as Prometheus text; 404 when it is empty.
// If the request's Accept header names application/openmetrics-text and
// `render_openmetrics` is set, answers OpenMetrics 1.0 from it instead.
void serve_metrics(const httplib::Request& req, const std::function<std::string()>& render_metrics,
                   const std::function<std::string()>& render_openmetrics, httplib::Response& res);
// /health: 200 and `health_json()`.
void serve_health(const std::function<std::string()>& health_json, httplib::Response& res);
// /health/ready: health::check_readiness(), 200 or 503.
void serve_readiness(httplib::Response& res);

// /health's JSON for the running SDK: the running admin server's source
// (service, version, environment, uptime) if there is one, otherwise
// {"status":"ok","sdk":{...}}.
std::string current_health_json();
// Makes `source` what current_health_json() calls, until another source
// replaces it or it is removed (removing one that was since replaced does
// nothing). AdminServer registers its own while it runs.
using HealthJsonSource = std::shared_ptr<const std::function<std::string()>>;
void set_health_json_source(HealthJsonSource source);
void remove_health_json_source(const HealthJsonSource& source);

// The admin server's limits (see docs/configuration.md, "Admin server").
inline constexpr std::size_t kAdminMaxBodyBytes = 64 * 1024;  // declared or sent: 413
inline constexpr std::size_t kAdminMaxHeaders = 100;          // more: 431 (by obs::http::Server)

class AdminServer {
 public:
  struct Options {
    std::string bind_address;
    std::uint16_t port = 0;
    std::function<std::string()> render_metrics;  // empty: /metrics answers 404
    std::function<std::string()> render_openmetrics;  // empty: OpenMetrics is not offered
    std::function<std::string()> health_json;
    // Required on /metrics and /health/ready when set; /health stays open
    // for liveness probes. Validated by the caller.
    AdminCredentials credentials;
  };
  explicit AdminServer(Options options);
  ~AdminServer();

  // Binds and starts serving; on failure returns a message naming the address.
  std::string start();
  // Marks the server as stopping (its health source removed); returns at
  // once. wait_stopped stops it.
  void request_stop();
  // Lets requests in progress finish until the deadline, cuts the
  // connections still open then, and waits for the serving thread. False
  // at the deadline:
  // the thread still runs and uses this object, which must then be left
  // alive (Sdk leaks it rather than destroy it under the thread).
  bool wait_stopped(std::chrono::steady_clock::time_point deadline);
  // After wait_stopped returned false: the serving thread deletes this
  // object when it finishes (at once if it already has). The caller gives
  // up its ownership (unique_ptr::release) and must not touch it again.
  void delete_when_stopped();
  void stop() {
    request_stop();
    wait_stopped(std::chrono::steady_clock::time_point::max());
  }
  // In a forked child: the serving thread does not exist there, and the
  // listening socket is shared with the parent. The child's copy of it is
  // closed (shutting it down would stop the parent's server too), and the
  // object must never be used or destroyed afterwards.
  void abandon_in_forked_child();
  std::uint16_t port() const { return port_; }

 private:
  void wait_until_running(std::chrono::steady_clock::time_point deadline);

  Options options_;
  HealthJsonSource health_source_;
  std::atomic<int> listen_socket_{-1};
  std::mutex listen_mutex_;
  std::condition_variable listen_returned_cv_;
  bool listen_returned_ = false;  // guarded by listen_mutex_
  bool stop_requested_ = false;
  bool delete_when_stopped_ = false;  // guarded by listen_mutex_
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace obs::internal
