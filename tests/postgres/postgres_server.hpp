#pragma once
// A real PostgreSQL server for tests, from Debian's package: initdb into a
// temp dir, started on a free loopback port, stopped (and the dir removed)
// on destruction. PostgreSQL refuses to run as root, so as root it runs as
// the unprivileged user `nobody` (CI runs as root).
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

class PostgresServer {
 public:
  PostgresServer() {
    bin_ = find_bin();
    char pattern[] = "/tmp/obs-pg-XXXXXX";
    if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    const bool root = ::geteuid() == 0;
    if (root && ::chown(dir_.c_str(), 65534, 65534) != 0) throw std::runtime_error("chown to nobody failed");
    run({bin_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"},
        dir_ + "/initdb.log");
    port_ = free_port();
    pid_ = spawn({bin_ + "/postgres", "-D", dir_ + "/data", "-p", std::to_string(port_), "-k", dir_, "-c",
                  "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"},
                 dir_ + "/postgres.log");
    // Ready when pg_isready says so; bounded, polling the server's own answer.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      if (run_status({bin_ + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_)}) == 0) break;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("postgres exited during start-up; see " + dir_ + "/postgres.log");
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("postgres not ready after 60 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  ~PostgresServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGINT);  // fast shutdown
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string connection_string() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  }
  int port() const { return port_; }

 private:
  static std::string find_bin() {
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql")) {
      const auto bin = entry.path() / "bin";
      if (std::filesystem::exists(bin / "postgres")) return bin.string();
    }
    throw std::runtime_error("PostgreSQL server not found under /usr/lib/postgresql (install Debian's postgresql)");
  }

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  // fork+exec, as `nobody` when we are root, output to `log`.
  static pid_t spawn(const std::vector<std::string>& argv, const std::string& log = "/dev/null") {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      if (::geteuid() == 0) {
        if (fd >= 0 && ::fchown(fd, 65534, 65534) != 0) _exit(126);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(126);
      }
      // Dies with the test, even one aborted by a sanitizer: no orphan
      // server. Set after setuid, which clears it.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) _exit(127);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
    }
    return pid;
  }

  static int run_status(const std::vector<std::string>& argv, const std::string& log = "/dev/null") {
    const pid_t pid = spawn(argv, log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static void run(const std::vector<std::string>& argv, const std::string& log) {
    if (run_status(argv, log) != 0) throw std::runtime_error(argv[0] + " failed; see " + log);
  }

  std::string bin_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace test_support
