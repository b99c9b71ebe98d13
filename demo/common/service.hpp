#pragma once
// What the three demo services share: command line, environment, the
// SDK's setup, one cpp-httplib server carrying the API and the admin
// endpoints (/metrics, /health, /health/ready), the API documents
// (/openapi.json, /docs), and a stop on SIGINT/SIGTERM that flushes the
// SDK within a deadline. Each service's main() describes itself in a
// ServiceSpec, registers its routes with route(), then calls run().
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "obs/health.hpp"
#include "obs/http.hpp"
#include "obs/http_server.hpp"

namespace demo {

struct EnvVar {
  std::string_view name;
  std::string_view help;
};

struct ServiceSpec {
  std::string_view name;     // user_svc: also the default OTEL_SERVICE_NAME
  std::string_view summary;  // one line for --help
  std::uint16_t default_port = 0;
  std::vector<EnvVar> env;        // the service's own variables (the common ones are added)
  std::string_view openapi_json;  // the service's OpenAPI document, served at /openapi.json
  // Bodies over this are refused with 413 while being read (and not
  // kept); JSON bodies are held to kMaxJsonBodyBytes by parse_json_body.
  std::size_t max_body_bytes = std::size_t{1} << 20;
};

// A downstream service's base URL, e.g. http://127.0.0.1:8083.
struct Upstream {
  std::string scheme;
  std::string host;
  int port = 0;
  std::string base() const { return scheme + "://" + host + ":" + std::to_string(port); }
};
// Throws std::invalid_argument naming the problem.
Upstream parse_upstream(std::string_view variable, std::string_view url);

// The environment variable's value, or `fallback` when unset or empty.
std::string env_or(const char *name, std::string_view fallback);

// One JSON error body: {"error": message}.
void send_error(httplib::Response &res, int status, std::string_view message);

// The limits on a JSON request body. A user or a job is a few hundred
// bytes; deeper nesting is an attack (a body nested 85 000 deep once
// overflowed the stack while being serialised).
inline constexpr std::size_t kMaxJsonBodyBytes = 64 * 1024;
inline constexpr int kMaxJsonDepth = 32;

struct ParsedJson {
  nlohmann::json value;  // discarded when `error` is set
  int status = 200;      // 413 (too big) or 400 with `error`
  std::string error;
};
// Parses a request body as JSON within those limits.
ParsedJson parse_json_body(std::string_view body);

// GET /data's simulated query: an obs::db::Operation ("other_sql") that
// takes a few ms, or 300-700 ms when the request asks for ?slow=true.
void simulated_query(const httplib::Request &req, std::string_view sql);

// GET /error: a recorded failure (error log, span status, 500).
void answer_error(const httplib::Request &req, httplib::Response &res);

// Calls another demo service with the current trace context: a Client span
// and http_client_* metrics (obs::http::ClientCall). The result is that of
// cpp-httplib: empty when no response came.
httplib::Result call(const Upstream &upstream, std::string_view method, const std::string &path,
                     const std::string &body = {}, std::string_view content_type = "application/json",
                     std::chrono::seconds read_timeout = std::chrono::seconds(10));

// A readiness check's result as /health/ready on the API port shows it:
// `shown` only ("up", "unreachable"), never addresses or error texts, which
// tell a stranger how the system is built. `detail` goes to the log, once
// each time the check starts failing.
obs::health::CheckResult readiness(std::string_view check, bool ok, std::string_view shown, const std::string &detail);

// Readiness check of a dependency: its GET /health answers 200 within 1 s.
// (Its liveness, not its readiness: one slow database must not make every
// service upstream of it unready.) No span: probes would bury real traces.
obs::health::CheckResult check_health(std::string_view check, const Upstream &upstream);

// Lets at most `slots` callers hold a turn at once; the others wait a
// bounded time. Memory-heavy work (images) takes a turn, so the server's
// 32 threads cannot all hold tens of MiB at the same time.
class Limiter {
 public:
  explicit Limiter(unsigned slots) : free_(slots) {}
  bool acquire(std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    if (!freed_.wait_for(lock, wait, [&] { return free_ > 0; })) return false;
    --free_;
    return true;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      ++free_;
    }
    freed_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable freed_;
  unsigned free_;
};

// A turn of a Limiter for one scope; false when none came in time.
class Admission {
 public:
  Admission(Limiter &limiter, std::chrono::milliseconds wait) : limiter_(limiter), ok_(limiter.acquire(wait)) {}
  ~Admission() {
    if (ok_) limiter_.release();
  }
  Admission(const Admission &) = delete;
  Admission &operator=(const Admission &) = delete;
  explicit operator bool() const { return ok_; }

 private:
  Limiter &limiter_;
  bool ok_;
};

class Service {
 public:
  explicit Service(ServiceSpec spec);
  ~Service();
  Service(const Service &) = delete;
  Service &operator=(const Service &) = delete;

  // Reads the command line. Returns an exit status when the program should
  // end now (--help, --version, a bad option), nothing to go on. Blocks
  // SIGINT/SIGTERM in this and every later thread (so call it first).
  std::optional<int> parse_args(int argc, char **argv);

  // Registers an API route (obs::http::route) and lists it in --list-routes.
  void route(std::string_view method, std::string_view route_template, obs::http::Handler handler);

  // Readiness checks are registered by the service once the SDK runs; this
  // is called from run() just after obs::init.
  void on_start(std::function<void()> hook) { on_start_ = std::move(hook); }

  // --list-routes prints the routes and returns 0. Otherwise: starts the
  // SDK and the server, serves until SIGINT/SIGTERM/SIGHUP, stops the
  // server (requests in progress get 5 s, then their connections are
  // cut), shuts the SDK down (5 s deadline) and returns the exit status.
  int run();

  obs::http::Server &server() { return server_; }
  const std::string &name() const { return name_; }

 private:
  ServiceSpec spec_;
  std::string name_;
  obs::http::Server server_;
  std::vector<std::pair<std::string, std::string>> routes_;  // method, template
  std::function<void()> on_start_;
  std::string port_file_;
  bool list_routes_ = false;
};

}  // namespace demo
