// The end-to-end benchmark's OTLP receiver: answers every POST under /v1/
// with 200 and an empty body (a valid OTLP/HTTP success), and counts the
// requests and bytes it received, printed on exit. Stops on SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <httplib.h>

int main(int argc, char** argv) {
  const std::string port_file = argc > 1 ? argv[1] : "";
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::atomic<long long> requests{0}, bytes{0};
  httplib::Server server;
  server.Post(R"(/v1/(traces|logs|metrics))", [&](const httplib::Request& req, httplib::Response& res) {
    ++requests;
    bytes += static_cast<long long>(req.body.size());
    res.set_content("", "application/x-protobuf");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) return 1;
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
  std::printf("otlp_sink: %lld requests, %lld bytes\n", requests.load(), bytes.load());
  return 0;
}
