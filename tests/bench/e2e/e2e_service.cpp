// The end-to-end benchmark's service: the same cpp-httplib server with or
// without obs. With --obs, every request is instrumented (server span,
// request id, HTTP metrics), logs one line and increments a counter, and all
// three signals are exported by OTLP (OTEL_* variables, set by
// scripts/bench-e2e.sh and scripts/soak.sh to a local receiver). Without
// it, the handler does the same work and nothing else. Stops on
// SIGINT/SIGTERM/SIGHUP: stops serving, then shuts obs down (delivering
// what is queued).
//
// For the soak test (scripts/soak.sh): --admin-port-file starts obs's
// admin server (/metrics, /health) on a free loopback port and writes the
// port there; --metrics-out writes the Prometheus text of every metric,
// the SDK's own counters included, after the shutdown, when they are final;
// --keep-alive-requests raises cpp-httplib's limit of 5 requests per
// connection, whose reconnections overflow its listen backlog of 5 at a
// few hundred per second (1 s SYN retransmissions in the latency).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <httplib.h>

#include "e2e_routes.hpp"
#include "obs/backends/prometheus.hpp"
#include "obs/http.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/obs.hpp"

namespace {

void write_port_file(const std::string& path, int port) {
  std::ofstream(path + ".tmp") << port << '\n';
  std::rename((path + ".tmp").c_str(), path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  bool with_obs = false;
  std::string port_file, admin_port_file, metrics_out;
  std::size_t keep_alive_requests = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--obs") with_obs = true;
    else if (arg == "--port-file" && i + 1 < argc) port_file = argv[++i];
    else if (arg == "--admin-port-file" && i + 1 < argc) admin_port_file = argv[++i];
    else if (arg == "--metrics-out" && i + 1 < argc) metrics_out = argv[++i];
    else if (arg == "--keep-alive-requests" && i + 1 < argc) keep_alive_requests = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr,
                   "usage: e2e_service [--obs [--admin-port-file PATH] [--metrics-out PATH]] [--port-file PATH] "
                   "[--keep-alive-requests N]\n");
      return 2;
    }
  }
  if (!with_obs && (!admin_port_file.empty() || !metrics_out.empty())) {
    std::fprintf(stderr, "e2e_service: --admin-port-file and --metrics-out need --obs\n");
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGHUP);  // as from a closed terminal: stop cleanly too
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::optional<obs::Sdk> sdk;
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(32); };
  server.set_tcp_nodelay(true);
  if (keep_alive_requests > 0) server.set_keep_alive_max_count(keep_alive_requests);
  if (with_obs) {
    auto config = obs::Config::from_env().default_service("e2e_service");
    if (admin_port_file.empty()) config.admin(false);
    else config.admin(true).admin_address("127.0.0.1", 0);
    sdk.emplace(obs::init(std::move(config)));
    if (!admin_port_file.empty()) {
      if (sdk->admin_port() == 0) {
        std::fprintf(stderr, "e2e_service: the admin server did not start\n");
        return 1;
      }
      write_port_file(admin_port_file, sdk->admin_port());
    }
    obs::http::instrument(server);
    e2e::add_instrumented_route(server);
  } else {
    server.Get(R"(/items/([^/]+))", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(e2e::answer(req.matches[1].str()), "application/json");
    });
  }
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "e2e_service: cannot listen\n");
    return 1;
  }
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  if (!port_file.empty()) write_port_file(port_file, port);
  int sig = 0;
  sigwait(&stop, &sig);
  server.stop();
  listener.join();
  if (sdk) sdk->shutdown(std::chrono::seconds(5));
  if (!metrics_out.empty()) {
    std::ofstream out(metrics_out + ".tmp");
    out << obs::PrometheusBackend::render(obs::MetricsRegistry::global().snapshot());
    out.close();
    if (!out || std::rename((metrics_out + ".tmp").c_str(), metrics_out.c_str()) != 0) {
      std::fprintf(stderr, "e2e_service: cannot write %s\n", metrics_out.c_str());
      return 1;
    }
  }
  return 0;
}
