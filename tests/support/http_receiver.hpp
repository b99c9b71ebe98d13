#pragma once
// A real HTTP receiver for the export tests (OTLP, Datadog): cpp-httplib
// on a free loopback port (plain or TLS), recording every request and
// answering as the test scripts it: a queue of statuses per path,
// Retry-After, partial success bodies, or hanging until released.
#include <httplib.h>
#include <zlib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace obs_test {

struct ReceivedRequest {
  std::string path;
  std::string content_type;
  std::string content_encoding;
  std::string body;  // inflated when it came gzipped
  bool gunzip_ok = true;
  httplib::Headers headers;
  std::chrono::steady_clock::time_point at;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct ScriptedAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "application/x-protobuf";
  std::string retry_after;
};

inline std::string gunzip(const std::string& in, bool& ok) {
  z_stream zs{};
  ok = inflateInit2(&zs, 15 + 16) == Z_OK;
  if (!ok) return {};
  std::string out;
  char buf[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  ok = rc == Z_STREAM_END;
  return out;
}

class HttpReceiver {
 public:
  // Plain HTTP.
  HttpReceiver() : server_(std::make_unique<httplib::Server>()) { setup(); }
  // TLS; with `client_ca` set, clients must present a certificate it signed.
  HttpReceiver(const std::string& cert, const std::string& key, const std::string& client_ca = {})
      : server_(std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str(),
                                                     client_ca.empty() ? nullptr : client_ca.c_str())) {
    setup();
  }
  ~HttpReceiver() { stop(); }

  // Starts listening (on `port`, or a free one when 0). Returns the port.
  int start(int port = 0) {
    port_ = port == 0 ? server_->bind_to_any_port("127.0.0.1") : (server_->bind_to_port("127.0.0.1", port) ? port : -1);
    if (port_ <= 0) return port_;
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // cpp-httplib 0.11 has no readiness signal, and stop() is ignored until
    // the listen loop marks itself running (within microseconds).
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    return port_;
  }
  void stop() {
    release_hang();
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
  }
  int port() const { return port_; }
  std::string url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }

  void script(const std::string& path, std::vector<ScriptedAnswer> answers) {
    std::lock_guard lock(mutex_);
    for (auto& a : answers) scripts_[path].push_back(std::move(a));
  }
  // Answers every request with this once its script is used up.
  void set_default(ScriptedAnswer a) {
    std::lock_guard lock(mutex_);
    default_ = std::move(a);
  }
  // Requests hang (no answer) until release_hang().
  void hang() {
    std::lock_guard lock(mutex_);
    hanging_ = true;
  }
  void release_hang() {
    {
      std::lock_guard lock(mutex_);
      hanging_ = false;
    }
    cv_.notify_all();
  }

  std::vector<ReceivedRequest> requests(const std::string& path = {}) const {
    std::lock_guard lock(mutex_);
    std::vector<ReceivedRequest> out;
    for (const auto& r : received_)
      if (path.empty() || r.path == path) out.push_back(r);
    return out;
  }
  std::size_t count(const std::string& path) const { return requests(path).size(); }
  // Waits (up to a generous bound, so a broken build fails instead of
  // hanging) until `done` holds over the requests received so far.
  bool wait_until(const std::function<bool(const std::vector<ReceivedRequest>&)>& done,
                  std::chrono::seconds bound = std::chrono::seconds(30)) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, bound, [&] { return done(received_); });
  }
  bool wait_for_requests(const std::string& path, std::size_t n,
                         std::chrono::seconds bound = std::chrono::seconds(30)) const {
    return wait_until(
        [&](const std::vector<ReceivedRequest>& all) {
          std::size_t c = 0;
          for (const auto& r : all) c += r.path == path;
          return c >= n;
        },
        bound);
  }

 private:
  void setup() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      ReceivedRequest r;
      r.path = req.path;
      r.content_type = req.get_header_value("Content-Type");
      r.content_encoding = req.get_header_value("Content-Encoding");
      // cpp-httplib built with zlib (Debian's is) inflates gzip bodies before
      // handlers run, answering 400 to a body that does not inflate.
      const bool still_gzipped = req.body.size() >= 2 && static_cast<unsigned char>(req.body[0]) == 0x1f &&
                                 static_cast<unsigned char>(req.body[1]) == 0x8b;
      r.body = still_gzipped ? gunzip(req.body, r.gunzip_ok) : req.body;
      r.headers = req.headers;
      r.at = std::chrono::steady_clock::now();
      ScriptedAnswer answer;
      {
        std::unique_lock lock(mutex_);
        received_.push_back(std::move(r));
        cv_.notify_all();
        auto& script = scripts_[req.path];
        if (!script.empty()) {
          answer = std::move(script.front());
          script.pop_front();
        } else {
          answer = default_;
        }
        cv_.wait(lock, [&] { return !hanging_; });
      }
      res.status = answer.status;
      if (!answer.retry_after.empty()) res.set_header("Retry-After", answer.retry_after);
      res.set_content(answer.body, answer.content_type.c_str());
    };
    server_->Post("/v1/traces", handler);
    server_->Post("/v1/logs", handler);
    server_->Post("/v1/metrics", handler);
    server_->Post("/custom/path", handler);
    server_->Post("/api/v2/logs", handler);    // Datadog logs intake
    server_->Post("/api/v1/series", handler);  // Datadog series API
  }

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::vector<ReceivedRequest> received_;
  std::map<std::string, std::deque<ScriptedAnswer>> scripts_;
  ScriptedAnswer default_;
  bool hanging_ = false;
};

}  // namespace obs_test
