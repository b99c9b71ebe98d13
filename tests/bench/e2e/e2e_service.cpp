// The end-to-end benchmark's service: the same cpp-httplib server with or
// without obs. With --obs, every request is instrumented (server span,
// request id, HTTP metrics), logs one line and increments a counter, and all
// three signals are exported by OTLP (OTEL_* variables, set by
// scripts/bench-e2e.sh to a local receiver). Without it, the handler does
// the same work and nothing else. Stops on SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <httplib.h>

#include "obs/http.hpp"
#include "obs/obs.hpp"

namespace {

// The work both variants do: a small JSON answer built from the id.
std::string answer(std::string_view id) {
  std::string body = "{\"id\":\"";
  body.append(id);
  body += "\",\"name\":\"item ";
  body.append(id);
  body += "\",\"tags\":[\"a\",\"b\",\"c\"]}";
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  bool with_obs = false;
  std::string port_file;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--obs") with_obs = true;
    else if (arg == "--port-file" && i + 1 < argc) port_file = argv[++i];
    else {
      std::fprintf(stderr, "usage: e2e_service [--obs] [--port-file PATH]\n");
      return 2;
    }
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::optional<obs::Sdk> sdk;
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(32); };
  server.set_tcp_nodelay(true);
  if (with_obs) {
    sdk.emplace(obs::init(obs::Config::from_env().default_service("e2e_service").admin(false)));
    obs::http::instrument(server);
    static const auto served = obs::counter("e2e_items_served_total", {"kind"}).labels("item");
    obs::http::route(server, "GET", "/items/{id}", [](const httplib::Request& req, httplib::Response& res) {
      const std::string id = req.matches[1].str();
      served.inc();
      obs::log::info("item served", {{"item_id", id}});
      res.set_content(answer(id), "application/json");
    });
  } else {
    server.Get(R"(/items/([^/]+))", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(answer(req.matches[1].str()), "application/json");
    });
  }
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "e2e_service: cannot listen\n");
    return 1;
  }
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  if (!port_file.empty()) {
    std::ofstream(port_file + ".tmp") << port << '\n';
    std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  }
  int sig = 0;
  sigwait(&stop, &sig);
  server.stop();
  listener.join();
  if (sdk) sdk->shutdown(std::chrono::seconds(5));
  return 0;
}
