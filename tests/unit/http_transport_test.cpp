// The exporters' HTTP transport against receivers that misbehave: what
// comes back from the network must never hurt the host. Each receiver is a
// real TCP listener on a loopback port that reads the request and answers
// as the test scripts it, byte by byte if need be.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "export/http_transport.hpp"
#include "support/loopback_listener.hpp"

namespace {

using namespace std::chrono_literals;
using obs::internal::HttpTransport;
using obs::internal::HttpTransportOptions;
using obs::internal::SendResult;

// Accepts connections on 127.0.0.1 and, for each, reads one request (headers
// and Content-Length body) and hands the socket to `answer`.
class HostileReceiver {
 public:
  using Answer = std::function<void(int fd)>;
  explicit HostileReceiver(Answer answer) : answer_(std::move(answer)) {
    listener_ = obs_test::listen_on_loopback(port_);
    EXPECT_GE(listener_, 0);
    thread_ = std::thread([this] { run(); });
  }
  ~HostileReceiver() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }
  std::string url(const std::string& path = "/v1/traces") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return requests_.load(); }

 private:
  void run() {
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      if (read_request(fd)) {
        ++requests_;
        answer_(fd);
      }
      ::close(fd);
    }
  }
  static bool read_request(int fd) {
    std::string in;
    char buf[65536];
    std::size_t header_end = std::string::npos;
    while (header_end == std::string::npos) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<std::size_t>(n));
      header_end = in.find("\r\n\r\n");
    }
    std::size_t length = 0;
    const auto at = in.find("Content-Length: ");
    if (at != std::string::npos) length = std::stoul(in.substr(at + 16));
    while (in.size() < header_end + 4 + length) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }

  Answer answer_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// Writes all of `s`; false once the peer is gone.
bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const auto n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

HttpTransportOptions options(const std::string& url, std::chrono::milliseconds timeout = 2000ms) {
  HttpTransportOptions o;
  o.protocol = "OTLP";
  o.url = url;
  o.content_type = "application/x-protobuf";
  o.timeout = timeout;
  return o;
}

TEST(HttpTransportHostile, AHugeAnswerIsReadOnlyUpToTheCapAndTheConnectionClosed) {
  std::atomic<std::uint64_t> written{0};
  HostileReceiver receiver([&](int fd) {
    // 200 with a body of 1 GiB: written until the client stops reading.
    if (!write_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1073741824\r\n\r\n"))
      return;
    const std::string chunk(65536, '\0');
    for (std::uint64_t sent = 0; sent < (1ull << 30); sent += chunk.size()) {
      if (!write_all(fd, chunk)) return;
      written += chunk.size();
    }
  });
  HttpTransport t(options(receiver.url()));
  const SendResult r = t.send("payload");
  EXPECT_EQ(r.outcome, SendResult::Outcome::Delivered) << r.problem;
  // What the receiver managed to write before the client closed: the cap
  // plus what the loopback socket buffers hold, far below the 1 GiB offered.
  EXPECT_LT(written.load(), 64ull << 20);
  // The transport carries on with a new connection.
  EXPECT_EQ(t.send("again").outcome, SendResult::Outcome::Delivered);
  EXPECT_EQ(receiver.requests(), 2);
}

TEST(HttpTransportHostile, AnErrorAnswerKeepsItsExplanationShortWhateverItsSize) {
  HostileReceiver receiver([](int fd) {
    const std::string body = "bad payload: " + std::string(1 << 20, 'x');
    write_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body);
  });
  HttpTransport t(options(receiver.url()));
  const SendResult r = t.send("payload");
  EXPECT_EQ(r.outcome, SendResult::Outcome::Reject);
  EXPECT_NE(r.problem.find("HTTP 400"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find("bad payload: xxx"), std::string::npos) << r.problem;
  EXPECT_LT(r.problem.size(), 400u);
}

TEST(HttpTransportHostile, ARedirectIsNotFollowedAndFails) {
  HostileReceiver elsewhere([](int fd) { write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); });
  const std::string location = elsewhere.url();
  HostileReceiver receiver([&](int fd) {
    write_all(fd, "HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location + "\r\nContent-Length: 0\r\n\r\n");
  });
  HttpTransport t(options(receiver.url()));
  const SendResult r = t.send("payload");
  EXPECT_EQ(r.outcome, SendResult::Outcome::Reject);
  EXPECT_EQ(r.kind, "http-307");
  EXPECT_NE(r.problem.find("redirect: not followed"), std::string::npos) << r.problem;
  EXPECT_EQ(elsewhere.requests(), 0);
}

TEST(HttpTransportHostile, AReceiverTricklingItsAnswerIsCutAtTheTimeout) {
  std::atomic<bool> cut{false};
  HostileReceiver receiver([&](int fd) {
    // One byte every 50 ms, each well inside the read timeout: only a
    // deadline on the whole exchange ends it. 2000 bytes would take 100 s.
    const std::string head = "HTTP/1.1 200 OK\r\nX-Slow: " + std::string(2000, 'a');
    for (char c : head) {
      if (!write_all(fd, std::string_view(&c, 1))) {
        cut = true;
        return;
      }
      std::this_thread::sleep_for(50ms);  // the hostile pace itself, not a wait for a condition
    }
  });
  HttpTransport t(options(receiver.url(), 500ms));
  const SendResult r = t.send("payload");
  EXPECT_EQ(r.outcome, SendResult::Outcome::Retry);
  EXPECT_EQ(r.kind, "timeout");
  EXPECT_NE(r.problem.find("within the timeout (500 ms)"), std::string::npos) << r.problem;
  // The next request gets a connection of its own (and is cut the same way),
  // and the first connection was closed, which the receiver saw.
  EXPECT_EQ(t.send("again").kind, "timeout");
  EXPECT_TRUE(cut.load());
}

// Not hostile, but an answer without a body: cpp-httplib reports a 204 by
// the result only (no response handler call), and it is a success.
TEST(HttpTransportHostile, A204IsDelivered) {
  HostileReceiver receiver([](int fd) { write_all(fd, "HTTP/1.1 204 No Content\r\n\r\n"); });
  HttpTransport t(options(receiver.url()));
  const SendResult r = t.send("payload");
  EXPECT_EQ(r.outcome, SendResult::Outcome::Delivered) << r.problem;
  EXPECT_EQ(r.kind, "http-204");
}

TEST(HttpTransportHostile, AnAnswerCutMidwayIsARetryableFailure) {
  HostileReceiver receiver([](int fd) { write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"); });
  HttpTransport t(options(receiver.url()));
  const SendResult r = t.send("payload");
  EXPECT_EQ(r.outcome, SendResult::Outcome::Retry);
  EXPECT_NE(r.problem.find("no answer from"), std::string::npos) << r.problem;
}

}  // namespace
