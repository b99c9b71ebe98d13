// obs::http::Server against the clients httplib::Server cannot bound:
// pipelined, slow, idle, oversized and half-closed ones, and a shutdown
// with connections still open. Raw sockets play the clients.
#include "obs/http_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "obs/http.hpp"

namespace {

using namespace std::chrono_literals;

// A test's server, listening on a free loopback port.
struct Running {
  explicit Running(obs::http::ServerLimits limits = {}) : server(limits) {}
  void start() {
    port = server.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port, 0);
    listener = std::thread([this] { server.listen_after_bind(); });
  }
  ~Running() {
    server.shutdown(std::chrono::steady_clock::now() + 5s);
    if (listener.joinable()) listener.join();
  }
  obs::http::Server server;
  int port = 0;
  std::thread listener;
};

// One client connection at the socket level.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
  }
  ~RawClient() { ::close(fd_); }
  bool send(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  void shutdown_writes() { ::shutdown(fd_, SHUT_WR); }
  // Everything until the server closes (or `limit` passes: a failure bound).
  std::string read_all(std::chrono::milliseconds limit = 10s) {
    std::string out;
    const auto end = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // Reads until `needle` has arrived (or the server closes).
  std::string read_until(const std::string& needle, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    while (std::chrono::steady_clock::now() < end && got_.find(needle) == std::string::npos) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      got_.append(buf, static_cast<std::size_t>(n));
    }
    return got_;
  }

 private:
  int fd_ = -1;
  std::string got_;
};

std::string get(const std::string& path, const std::string& extra = {}) {
  return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

void add_echo_routes(obs::http::Server& server) {
  server.Get(R"(/echo/(\w+))", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("<" + req.matches[1].str() + ">", "text/plain");
  });
  server.Post("/body", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("got " + std::to_string(req.body.size()), "text/plain");
  });
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  Running r;
  add_echo_routes(r.server);
  r.start();
  RawClient c(r.port);
  ASSERT_TRUE(c.send(get("/echo/one") + get("/echo/two") + get("/echo/three", "Connection: close\r\n")));
  const std::string out = c.read_all();
  EXPECT_EQ(occurrences(out, "HTTP/1.1 200 OK"), 3u) << out;
  const auto one = out.find("<one>"), two = out.find("<two>"), three = out.find("<three>");
  ASSERT_NE(three, std::string::npos) << out;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
}

TEST(HttpServer, PipelinedPostBodiesStayWithTheirRequests) {
  Running r;
  add_echo_routes(r.server);
  r.start();
  RawClient c(r.port);
  const std::string post = "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nabcde";
  ASSERT_TRUE(c.send(post + post + get("/echo/end", "Connection: close\r\n")));
  const std::string out = c.read_all();
  EXPECT_EQ(occurrences(out, "got 5"), 2u) << out;
  EXPECT_NE(out.find("<end>"), std::string::npos) << out;
}

TEST(HttpServer, HeadOverTheByteLimitIsRefusedWith431) {
  obs::http::ServerLimits limits;
  limits.max_header_bytes = 1024;
  Running r(limits);
  add_echo_routes(r.server);
  r.start();
  {
    RawClient c(r.port);
    ASSERT_TRUE(c.send(get("/echo/x", "X-Big: " + std::string(2000, 'a') + "\r\n")));
    EXPECT_EQ(c.read_all().rfind("HTTP/1.1 431 ", 0), 0u);
  }
  {
    // A head that never ends (a flood) is refused once past the limit,
    // without waiting for its end.
    RawClient c(r.port);
    c.send("GET / HTTP/1.1\r\n");
    std::string flood;
    for (int i = 0; i < 100; ++i) flood += "X-" + std::to_string(i) + ": " + std::string(100, 'b') + "\r\n";
    c.send(flood);
    EXPECT_EQ(c.read_all().rfind("HTTP/1.1 431 ", 0), 0u);
  }
  EXPECT_EQ(r.server.refusals().header_too_large, 2u);
  // Just under the limit is served.
  RawClient ok(r.port);
  ASSERT_TRUE(ok.send(get("/echo/y", "Connection: close\r\nX-Big: " + std::string(900, 'a') + "\r\n")));
  EXPECT_NE(ok.read_all().find("<y>"), std::string::npos);
}

TEST(HttpServer, MoreFieldsThanTheLimitAreRefusedWith431) {
  obs::http::ServerLimits limits;
  limits.max_header_fields = 10;
  Running r(limits);
  add_echo_routes(r.server);
  r.start();
  auto fields = [](int n) {
    std::string s = "Connection: close\r\n";  // with Host: two fields
    for (int i = 2; i < n; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
    return s;
  };
  RawClient at_limit(r.port);
  ASSERT_TRUE(at_limit.send(get("/echo/ten", fields(10))));
  EXPECT_NE(at_limit.read_all().find("<ten>"), std::string::npos);
  RawClient over(r.port);
  ASSERT_TRUE(over.send(get("/echo/eleven", fields(11))));
  const std::string out = over.read_all();
  EXPECT_EQ(out.rfind("HTTP/1.1 431 ", 0), 0u) << out;
  EXPECT_EQ(r.server.refusals().too_many_headers, 1u);
}

TEST(HttpServer, ATricklingClientIsAnswered408AtTheRequestDeadline) {
  obs::http::ServerLimits limits;
  limits.request_deadline = 300ms;
  Running r(limits);
  r.server.set_read_timeout(30, 0);  // only the whole-request deadline can end it
  add_echo_routes(r.server);
  r.start();
  RawClient c(r.port);
  std::atomic<bool> done{false};
  // A byte every 20 ms: never idle long enough for any idle timeout.
  std::thread trickle([&] {
    const std::string head = get("/echo/slow", "X-Pad: " + std::string(400, 'p') + "\r\n");
    for (char ch : head) {
      if (done || !c.send(std::string(1, ch))) return;
      std::this_thread::sleep_for(20ms);  // the attack's pace, not a wait for a condition
    }
  });
  const std::string out = c.read_until("\r\n\r\n");
  done = true;
  trickle.join();
  EXPECT_EQ(out.rfind("HTTP/1.1 408 ", 0), 0u) << out;
  EXPECT_EQ(r.server.refusals().request_timeout, 1u);
}

TEST(HttpServer, SlowAndIdleClientsHoldNoWorker) {
  obs::http::ServerLimits limits;
  limits.workers = 1;
  Running r(limits);
  add_echo_routes(r.server);
  r.start();
  std::vector<std::unique_ptr<RawClient>> holders;
  for (int i = 0; i < 8; ++i) {
    holders.push_back(std::make_unique<RawClient>(r.port));
    if (i % 2 == 0) holders.back()->send("GET /echo/partial HTTP/1.1\r\nHost: t\r\n");  // never finished
    // the others connect and send nothing
  }
  // A request of one more client, a whole one, gets the only worker.
  httplib::Client client("127.0.0.1", r.port);
  client.set_read_timeout(10, 0);
  client.set_keep_alive(true);
  const auto res = client.Get("/echo/through");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "<through>");
  EXPECT_EQ(r.server.open_connections(), 9u);  // the eight holders and the keep-alive client
}

TEST(HttpServer, KeepAliveConnectionServesManyRequests) {
  Running r;
  add_echo_routes(r.server);
  r.start();
  httplib::Client client("127.0.0.1", r.port);
  client.set_keep_alive(true);
  for (int i = 0; i < 20; ++i) {
    const auto res = client.Get("/echo/k" + std::to_string(i));
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->body, "<k" + std::to_string(i) + ">");
  }
  EXPECT_EQ(r.server.open_connections(), 1u);  // one connection carried them all
}

TEST(HttpServer, BodiesSmallLargeChunkedAndAfterContinue) {
  obs::http::ServerLimits limits;
  limits.buffered_body_bytes = 1024;
  Running r(limits);
  add_echo_routes(r.server);
  r.start();
  httplib::Client client("127.0.0.1", r.port);
  for (const std::size_t size : {std::size_t{10}, std::size_t{1024}, std::size_t{300'000}}) {
    const auto res = client.Post("/body", std::string(size, 'z'), "text/plain");
    ASSERT_TRUE(res) << size;
    EXPECT_EQ(res->body, "got " + std::to_string(size));
  }
  {
    RawClient c(r.port);
    ASSERT_TRUE(c.send("POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                       "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"));
    EXPECT_NE(c.read_all().find("got 7"), std::string::npos);
  }
  {
    RawClient c(r.port);
    ASSERT_TRUE(c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
                       "Connection: close\r\n\r\n"));
    EXPECT_NE(c.read_until("100 Continue").find("HTTP/1.1 100 Continue"), std::string::npos);
    ASSERT_TRUE(c.send("hello"));
    EXPECT_NE(c.read_all().find("got 5"), std::string::npos);
  }
}

TEST(HttpServer, ARequestFollowedByEndOfInputIsAnswered) {
  Running r;
  add_echo_routes(r.server);
  r.start();
  RawClient c(r.port);
  ASSERT_TRUE(c.send(get("/echo/half")));
  c.shutdown_writes();
  EXPECT_NE(c.read_all().find("<half>"), std::string::npos);
}

TEST(HttpServer, ConnectionsOverTheLimitAreAnswered503) {
  obs::http::ServerLimits limits;
  limits.max_connections = 2;
  Running r(limits);
  add_echo_routes(r.server);
  r.start();
  RawClient a(r.port), b(r.port);
  // The two are adopted once the server has seen them.
  for (int i = 0; i < 1000 && r.server.open_connections() < 2; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(r.server.open_connections(), 2u);
  RawClient third(r.port);
  EXPECT_EQ(third.read_all().rfind("HTTP/1.1 503 ", 0), 0u);
  EXPECT_EQ(r.server.refusals().too_many_connections, 1u);
}

TEST(HttpServer, ShutdownClosesIdleConnectionsAndLetsRunningRequestsFinish) {
  Running r;
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  r.server.Get("/wait", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    res.set_content("finished", "text/plain");
  });
  r.start();
  RawClient idle(r.port);
  RawClient running(r.port);
  ASSERT_TRUE(running.send(get("/wait")));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return entered; }));
  }
  std::atomic<bool> returned{false};
  bool in_time = false;
  std::thread stopper([&] {
    in_time = r.server.shutdown(std::chrono::steady_clock::now() + 30s);
    returned = true;
  });
  EXPECT_EQ(idle.read_all(), "");  // closed without an answer
  EXPECT_FALSE(returned);          // the running request holds the shutdown
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  const std::string out = running.read_all();
  stopper.join();
  EXPECT_TRUE(in_time);
  EXPECT_NE(out.find("finished"), std::string::npos) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  r.listener.join();  // listen_after_bind() returned
}

TEST(HttpServer, ShutdownCutsWhatIsStillOpenAtItsDeadline) {
  obs::http::ServerLimits limits;
  limits.buffered_body_bytes = 16;  // the body is read by the handler's worker
  Running r(limits);
  r.server.set_read_timeout(60, 0);
  std::atomic<bool> reading{false};
  r.server.Post("/upload", [&](const httplib::Request&, httplib::Response& res,
                               const httplib::ContentReader& content) {
    reading = true;
    std::size_t got = 0;
    content([&](const char*, std::size_t n) {
      got += n;
      return true;
    });
    res.set_content(std::to_string(got), "text/plain");
  });
  r.start();
  RawClient slow(r.port);
  ASSERT_TRUE(slow.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\nfirst bytes"));
  for (int i = 0; i < 2000 && !reading; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(reading);
  EXPECT_TRUE(r.server.shutdown(std::chrono::steady_clock::now() + 200ms));  // cut: nothing left
  EXPECT_EQ(slow.read_all().find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(r.server.refusals().cut_at_shutdown, 1u);
  r.listener.join();
}

TEST(HttpServer, ABodyLeftUnreadIsNeverTakenForTheNextRequest) {
  Running r;
  add_echo_routes(r.server);
  std::atomic<int> secrets{0};
  r.server.Get("/secret", [&](const httplib::Request&, httplib::Response& res) {
    ++secrets;
    res.set_content("secret", "text/plain");
  });
  // Answered before its body is read, as the admin server refuses methods.
  r.server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.path != "/refuse") return httplib::Server::HandlerResponse::Unhandled;
    res.status = 405;
    res.set_content("no\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  r.start();
  const std::string smuggled = get("/secret");
  const std::string length = std::to_string(smuggled.size());
  {
    // Buffered with its head: skipped, and the next request is served.
    RawClient c(r.port);
    ASSERT_TRUE(c.send("POST /refuse HTTP/1.1\r\nHost: t\r\nContent-Length: " + length + "\r\n\r\n" + smuggled +
                       get("/echo/after", "Connection: close\r\n")));
    const std::string out = c.read_all();
    EXPECT_NE(out.find("405"), std::string::npos) << out;
    EXPECT_NE(out.find("<after>"), std::string::npos) << out;
  }
  {
    // After 100 Continue: the answer's real head is the one that counts.
    RawClient c(r.port);
    ASSERT_TRUE(c.send("POST /refuse HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: " + length +
                       "\r\n\r\n"));
    const std::string first = c.read_until("405");
    c.send(smuggled);
    const std::string out = first + c.read_all();
    EXPECT_EQ(occurrences(out, "HTTP/1.1 405"), 1u) << out;
  }
  {
    // Chunked: where it ends is not known once unread, so the connection closes.
    RawClient c(r.port);
    ASSERT_TRUE(c.send("POST /refuse HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       std::string("20\r\n") + smuggled.substr(0, 32) + "\r\n0\r\n\r\n" + get("/secret")));
    c.read_all();
  }
  EXPECT_EQ(secrets, 0);
}

TEST(HttpServer, APostWithoutLengthHasNoBodyAndIsAnswered) {
  Running r;
  add_echo_routes(r.server);
  r.start();
  RawClient open(r.port);
  ASSERT_TRUE(open.send("POST /body HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_NE(open.read_until("got 0").find("got 0"), std::string::npos);
  RawClient half(r.port);
  ASSERT_TRUE(half.send("POST /body HTTP/1.1\r\nHost: t\r\n\r\n"));
  half.shutdown_writes();
  EXPECT_NE(half.read_all().find("got 0"), std::string::npos);
}

TEST(HttpServer, AChunkedBodyOverThePayloadLimitIsRefused) {
  Running r;
  add_echo_routes(r.server);
  r.server.set_payload_max_length(64 * 1024);
  r.start();
  RawClient c(r.port);
  ASSERT_TRUE(c.send("POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "4000\r\n" + std::string(0x4000, 'c') + "\r\n";
  for (int i = 0; i < 64 && c.send(chunk); ++i) {
  }
  const std::string out = c.read_all();
  EXPECT_EQ(out.rfind("HTTP/1.1 413 ", 0), 0u) << out.substr(0, 200);
  EXPECT_EQ(r.server.refusals().payload_too_large, 1u);
}

TEST(HttpServer, ConflictingContentLengthsAreRefused) {
  Running r;
  add_echo_routes(r.server);
  r.start();
  RawClient c(r.port);
  ASSERT_TRUE(c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello"));
  EXPECT_EQ(c.read_all().rfind("HTTP/1.1 400 ", 0), 0u);
}

TEST(HttpServer, RequestsAlreadySentWhenAShutdownBeginsAreAnswered) {
  obs::http::ServerLimits limits;
  limits.workers = 1;
  Running r(limits);
  add_echo_routes(r.server);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  r.server.Get("/hold", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    res.set_content("held", "text/plain");
  });
  r.start();
  RawClient holder(r.port);
  ASSERT_TRUE(holder.send(get("/hold")));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return entered; }));
  }
  // The only worker is busy: these wait, whole, for it.
  std::vector<std::unique_ptr<RawClient>> waiting;
  for (int i = 0; i < 10; ++i) {
    waiting.push_back(std::make_unique<RawClient>(r.port));
    ASSERT_TRUE(waiting.back()->send(get("/echo/w" + std::to_string(i))));
  }
  // Accepted by the server (one still in the kernel's accept queue when the
  // listening socket closes is refused by the kernel: see production.md).
  for (int i = 0; i < 2000 && r.server.open_connections() < 11; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(r.server.open_connections(), 11u);
  std::thread stopper([&] { r.server.shutdown(std::chrono::steady_clock::now() + 30s); });
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  for (int i = 0; i < 10; ++i) EXPECT_NE(waiting[i]->read_all().find("<w" + std::to_string(i) + ">"), std::string::npos) << i;
  EXPECT_NE(holder.read_all().find("held"), std::string::npos);
  stopper.join();
}

TEST(HttpServer, ShutdownSaysWhenAHandlerIsStillBusy) {
  Running r;
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  r.server.Get("/stuck", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    res.set_content("late", "text/plain");
  });
  r.start();
  RawClient c(r.port);
  ASSERT_TRUE(c.send(get("/stuck")));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return entered; }));
  }
  EXPECT_FALSE(r.server.shutdown(std::chrono::steady_clock::now() + 100ms));
  EXPECT_EQ(c.read_all(), "");  // its connection was cut all the same
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
}

TEST(HttpServer, AChunkedRequestReadToItsEndLeavesTheConnectionUsable) {
  Running r;
  add_echo_routes(r.server);
  r.server.set_payload_max_length(65536);
  r.start();
  RawClient c(r.port);
  // 60 000 bytes in chunks of 8: the framing is not counted against the limit.
  std::string body;
  for (int i = 0; i < 7500; ++i) body += "8\r\n01234567\r\n";
  ASSERT_TRUE(c.send("POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body + "0\r\n\r\n" +
                     get("/echo/next", "Connection: close\r\n")));
  const std::string out = c.read_all();
  EXPECT_NE(out.find("got 60000"), std::string::npos) << out.substr(0, 300);
  EXPECT_NE(out.find("<next>"), std::string::npos) << out.substr(0, 300);
}

TEST(HttpServer, ADeclaredBodyOverTheLimitIsRefusedBeforeItIsSent) {
  Running r;
  add_echo_routes(r.server);
  r.server.set_payload_max_length(1024);
  r.start();
  RawClient c(r.port);
  ASSERT_TRUE(c.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n"));
  EXPECT_EQ(c.read_until("\r\n").rfind("HTTP/1.1 413 ", 0), 0u);
  EXPECT_EQ(r.server.refusals().payload_too_large, 1u);
}

TEST(HttpServer, AnAnswerBeforeAnUnreadBodyIsDeliveredWholeAndClosesTheConnection) {
  Running r;
  r.server.set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
    res.status = 403;
    res.set_content(std::string(200000, 'a'), "text/plain");  // more than one write
    return httplib::Server::HandlerResponse::Handled;
  });
  r.start();
  RawClient c(r.port);
  ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n" + std::string(100000, 'b')));
  std::thread more([&] { c.send(std::string(400000, 'b')); });  // still sending while the answer goes out
  const std::string out = c.read_all();
  more.join();
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out.substr(0, 300);
  EXPECT_EQ(out.size() - out.find("\r\n\r\n") - 4, 200000u);
}

TEST(HttpServer, InstrumentedRoutesWork) {
  Running r;
  obs::http::instrument(r.server);
  obs::http::route(r.server, "GET", "/users/{id}", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.matches[1].str(), "text/plain");
  });
  r.start();
  httplib::Client client("127.0.0.1", r.port);
  const auto res = client.Get("/users/42");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "42");
  EXPECT_TRUE(res->has_header("x-request-id"));
}

TEST(HttpServer, ATakenPortIsAnError) {
  Running r;
  r.start();
  obs::http::Server second;
  EXPECT_FALSE(second.bind_to_port("127.0.0.1", r.port));
}

TEST(HttpServer, ShutdownBeforeListeningStopsTheLoopWhenItStarts) {
  obs::http::Server server;
  ASSERT_GT(server.bind_to_any_port("127.0.0.1"), 0);
  EXPECT_TRUE(server.shutdown(std::chrono::steady_clock::now() + 1s));
  server.listen_after_bind();  // returns at once
  EXPECT_TRUE(server.shutdown(std::chrono::steady_clock::now() + 1s));  // again: no-op
}

TEST(HttpServer, LimitsAreValidated) {
  EXPECT_THROW(obs::http::Server(obs::http::ServerLimits{.workers = 0}), std::invalid_argument);
  EXPECT_THROW(obs::http::Server(obs::http::ServerLimits{.max_connections = 0}), std::invalid_argument);
  EXPECT_THROW(obs::http::Server(obs::http::ServerLimits{.max_header_fields = 0}), std::invalid_argument);
  EXPECT_THROW(obs::http::Server(obs::http::ServerLimits{.request_deadline = 0ms}), std::invalid_argument);
}

}  // namespace
