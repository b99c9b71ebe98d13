#pragma once
// A real VictoriaMetrics (Debian's victoria-metrics) for the Datadog series
// tests: started on a free loopback port with its data in a temporary
// directory, stopped and removed by the destructor. It accepts Datadog's
// POST /datadog/api/v1/series and serves what it stored through
// /api/v1/export.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace obs_test {

class VictoriaMetrics {
 public:
  VictoriaMetrics() {
    const std::string exe = OBS_VICTORIA_METRICS_PATH;
    if (exe.empty() || ::access(exe.c_str(), X_OK) != 0)
      throw std::runtime_error("victoria-metrics not found: install Debian's package victoria-metrics "
                               "(scripts/install-deps.sh)");
    char pattern[] = "/tmp/obs-vm-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    // The port may be taken between choosing and binding: try a few.
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      pid_ = spawn({exe, "-storageDataPath=" + dir_ + "/data", "-httpListenAddr=127.0.0.1:" + std::to_string(port_),
                    "-retentionPeriod=1d", "-loggerLevel=ERROR"});
      if (wait_ready()) return;
      stop();
    }
    throw std::runtime_error("victoria-metrics did not start; see " + dir_ + "/vm.log");
  }
  ~VictoriaMetrics() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  VictoriaMetrics(const VictoriaMetrics&) = delete;
  VictoriaMetrics& operator=(const VictoriaMetrics&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Every sample of the series matching `selector`, one JSON object per
  // series ({"metric": {...labels}, "values": [...], "timestamps": [...]}).
  std::vector<nlohmann::json> export_series(const std::string& selector) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    c.Get("/internal/force_flush");  // makes just-ingested samples searchable
    httplib::Params params{{"match[]", selector}};
    auto res = c.Post("/api/v1/export", params);
    if (!res || res->status != 200) return {};
    std::vector<nlohmann::json> out;
    std::istringstream lines(res->body);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    return out;
  }

 private:
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ::close(fd);
      throw std::runtime_error("no free loopback port");
    }
    ::close(fd);
    return ntohs(a.sin_port);
  }

  pid_t spawn(const std::vector<std::string>& argv) const {
    const std::string log = dir_ + "/vm.log";
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      // Dies with the test, even one aborted by a sanitizer: no orphan server.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) _exit(127);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
    }
    return pid;
  }

  // Polls /health until it answers, the process exits, or 30 s pass.
  bool wait_ready() {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(0, 200000);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (auto res = c.Get("/health"); res && res->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace obs_test
