#pragma once
// The admin HTTP server: /metrics, /health, /health/ready on their own port.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib { class Server; }

namespace obs::internal {

class AdminServer {
 public:
  struct Options {
    std::string bind_address;
    std::uint16_t port = 0;
    std::function<std::string()> render_metrics;  // empty: /metrics answers 404
    std::function<std::string()> health_json;
  };
  explicit AdminServer(Options options);
  ~AdminServer();

  // Binds and starts serving; on failure returns a message naming the address.
  std::string start();
  void stop();
  std::uint16_t port() const { return port_; }

 private:
  void wait_until_running();

  Options options_;
  std::atomic<bool> listen_returned_{false};
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace obs::internal
