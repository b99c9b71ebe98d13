#include "http/admin_server.hpp"

#include <httplib.h>

#include <cerrno>
#include <cstring>

#include "core/diagnostics.hpp"
#include "obs/health.hpp"

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

}  // namespace

AdminServer::AdminServer(Options options) : options_(std::move(options)), server_(std::make_unique<httplib::Server>()) {}

AdminServer::~AdminServer() { stop(); }

std::string AdminServer::start() {
  auto& s = *server_;
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second process
  // bind the same port and silently take half the scrapes. SO_REUSEADDR
  // alone still allows quick restarts and makes a taken port an error.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
  });
  s.set_payload_max_length(64 * 1024);
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.set_keep_alive_max_count(100);
  // Stopping the server waits for connections idling in keep-alive (as
  // Prometheus keeps them between scrapes): keep that wait short.
  s.set_keep_alive_timeout(1);

  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    guarded(res, [&] {
      if (!options_.render_metrics) {
        res.status = 404;
        res.set_content("metrics are not exported in Prometheus format by this service\n", "text/plain");
        return;
      }
      res.set_content(options_.render_metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
  });
  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    guarded(res, [&] { res.set_content(options_.health_json(), "application/json"); });
  });
  s.Get("/health/ready", [](const httplib::Request&, httplib::Response& res) {
    guarded(res, [&] {
      const auto r = health::check_readiness();
      res.status = r.ready ? 200 : 503;
      res.set_content(r.json, "application/json");
    });
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
  thread_ = std::thread([this] {
    try {
      server_->listen_after_bind();
    } catch (...) {
      report_error("admin-listen", "admin server stopped after an unexpected exception");
    }
    listen_returned_ = true;
  });
  wait_until_running();
  return {};
}

// cpp-httplib 0.11's stop() does nothing until the listen loop has marked
// itself running, so a stop() right after start() would leave the thread
// listening forever. It marks itself within microseconds of starting.
void AdminServer::wait_until_running() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && !listen_returned_ && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
}

void AdminServer::stop() {
  if (thread_.joinable()) {
    wait_until_running();
    server_->stop();
    thread_.join();
  }
}

}  // namespace obs::internal
