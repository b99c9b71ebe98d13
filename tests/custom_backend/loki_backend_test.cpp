// The example Loki backend (docs/examples/loki) end to end through obs::init,
// against an in-process HTTP receiver that checks Loki's documented JSON push
// format. No real Loki runs here: what is verified is the wire format from
// the Loki HTTP API reference ("Ingest logs", POST /loki/api/v1/push).
//
// Synchronisation: a MemoryLogBackend is registered after the Loki backend.
// The pipeline calls backends in order on one thread, so once the memory
// backend holds N records, the Loki backend's write() for them has returned,
// and any push it made has been answered by the receiver.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "loki_log_backend.hpp"
#include "obs/backends/memory.hpp"
#include "obs/obs.hpp"

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using obs::log::Level;
using Clock = std::chrono::system_clock;

constexpr auto kWait = 10s;

// ---------------------------------------------------------------- receiver

struct Request {
  std::string method;
  std::string path;
  std::string content_type;
  std::optional<std::string> tenant;
  std::string authorization;
  std::string body;
};

// A stand-in for Loki's distributor: records every POST, answers with a
// settable status (Loki answers 204 No Content on success).
class Receiver {
 public:
  Receiver() {
    server_.Get("/ready",
                [](const httplib::Request&, httplib::Response& res) { res.set_content("ready", "text/plain"); });
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      Request r{req.method,
                req.path,
                req.get_header_value("Content-Type"),
                std::nullopt,
                req.get_header_value("Authorization"),
                req.body};
      if (req.has_header("X-Scope-OrgID")) r.tenant = req.get_header_value("X-Scope-OrgID");
      requests_.push_back(std::move(r));
      res.status = status_;
      if (status_ >= 300) res.set_content(error_body_, "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Blocks in the listen backlog until the accept loop runs: after this,
    // stop() cannot race the loop's start.
    httplib::Client probe("127.0.0.1", port_);
    auto res = probe.Get("/ready");
    ready_ = res && res->status == 200;
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }

  bool ready() const { return ready_ && port_ > 0; }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return origin() + "/loki/api/v1/push"; }

  void respond(int status, std::string body = {}) {
    std::lock_guard lock(mutex_);
    status_ = status;
    error_body_ = std::move(body);
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  httplib::Server server_;
  int port_ = -1;
  bool ready_ = false;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  int status_ = 204;
  std::string error_body_;
};

// A port on 127.0.0.1 with nothing listening: connections are refused.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

// ---------------------------------------------------------------- SDK errors

// Collects what obs reports through Config::on_error. Shared ownership: the
// SDK keeps the handler installed after shutdown, so it must not dangle.
class Errors {
 public:
  static std::shared_ptr<Errors> make() { return std::make_shared<Errors>(); }
  static std::function<void(std::string_view)> handler(const std::shared_ptr<Errors>& self) {
    return [self](std::string_view m) {
      std::lock_guard lock(self->mutex_);
      self->messages_.emplace_back(m);
      self->changed_.notify_all();
    };
  }
  // Waits for a message containing every one of `needles`; returns it or "".
  std::string wait_for(std::vector<std::string> needles) {
    std::unique_lock lock(mutex_);
    std::string found;
    changed_.wait_for(lock, kWait, [&] {
      for (const auto& m : messages_)
        if (std::all_of(needles.begin(), needles.end(),
                        [&](const auto& n) { return m.find(n) != std::string::npos; })) {
          found = m;
          return true;
        }
      return false;
    });
    return found;
  }
  std::string all() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& m : messages_) out += m + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> messages_;
};

// ---------------------------------------------------------------- expectations

struct Expected {
  Level level;
  std::string message;  // as it must come out of the line's JSON
  json fields;          // key -> value as they must come out
  Clock::time_point before, after;
};

// Logs one record and remembers what must arrive.
Expected log_record(Level level, std::string_view message, obs::Fields fields, std::string expected_message,
                    json expected_fields = json::object()) {
  Expected e{level, std::move(expected_message), std::move(expected_fields), Clock::now(), {}};
  obs::log::write(level, message, fields);
  e.after = Clock::now();
  return e;
}

std::int64_t to_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// "2026-11-22T08:30:19.123456Z" -> microseconds since the epoch.
std::optional<std::int64_t> parse_time_us(const std::string& s) {
  std::tm tm{};
  int us = 0;
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &us, &z) != 8 ||
      z != 'Z' || s.size() != 27)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000000 + us;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 19 && s[0] != '0' &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const std::set<std::string> kLevels = {"trace", "debug", "info", "warning", "error", "critical"};

// One [timestamp, line] value as received, with its stream's labels.
struct Pushed {
  json labels;
  std::int64_t ns = 0;
  json line;
};

struct WireExpectations {
  json labels;  // every label except severity
  std::optional<std::string> tenant;
  std::size_t max_values = 0;   // per request
  std::string authorization{};  // expected Authorization header, "" for none
};

// Checks one request against the documented format; appends its values to `out`.
void check_request(const Request& r, const WireExpectations& want, std::vector<Pushed>& out) {
  SCOPED_TRACE("request body: " + r.body.substr(0, 2000));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/loki/api/v1/push");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.tenant, want.tenant);
  EXPECT_EQ(r.authorization, want.authorization);
  EXPECT_TRUE(std::none_of(r.body.begin(), r.body.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
      << "raw control character or newline in the body";
  ASSERT_TRUE(json::accept(r.body)) << "body is not valid JSON";
  const json body = json::parse(r.body);
  ASSERT_TRUE(body.is_object());
  ASSERT_EQ(body.size(), 1u);
  ASSERT_TRUE(body.contains("streams") && body["streams"].is_array());
  ASSERT_FALSE(body["streams"].empty());

  std::size_t values_in_request = 0;
  std::set<std::string> label_sets;
  for (const json& stream : body["streams"]) {
    ASSERT_TRUE(stream.is_object());
    ASSERT_EQ(stream.size(), 2u);
    ASSERT_TRUE(stream.contains("stream") && stream["stream"].is_object());
    ASSERT_TRUE(stream.contains("values") && stream["values"].is_array());
    json labels = stream["stream"];
    EXPECT_TRUE(label_sets.insert(labels.dump()).second) << "two streams with the same labels in one request";
    for (auto& [k, v] : labels.items()) EXPECT_TRUE(v.is_string()) << "label " << k;
    ASSERT_TRUE(labels.contains("severity"));
    const std::string severity = labels["severity"];
    EXPECT_TRUE(kLevels.count(severity)) << severity;
    labels.erase("severity");
    EXPECT_EQ(labels, want.labels);

    std::int64_t previous = 0;
    ASSERT_FALSE(stream["values"].empty());
    for (const json& value : stream["values"]) {
      ++values_in_request;
      ASSERT_TRUE(value.is_array());
      ASSERT_EQ(value.size(), 2u);
      ASSERT_TRUE(value[0].is_string() && value[1].is_string());
      const std::string ts = value[0];
      ASSERT_TRUE(all_digits(ts)) << ts;
      const std::int64_t ns = std::stoll(ts);
      EXPECT_GE(ns, previous) << "values of a stream out of time order";
      previous = ns;

      const std::string line = value[1];
      EXPECT_EQ(line.find('\n'), std::string::npos);
      ASSERT_TRUE(json::accept(line)) << "line is not JSON: " << line;
      const json parsed = json::parse(line);
      ASSERT_TRUE(parsed.is_object());
      EXPECT_EQ(parsed.value("severity", ""), severity);
      EXPECT_EQ(parsed.value("service", ""), want.labels.value("service", ""));
      ASSERT_TRUE(parsed.contains("time") && parsed["time"].is_string());
      const auto us = parse_time_us(parsed["time"]);
      ASSERT_TRUE(us) << parsed["time"];
      EXPECT_EQ(*us, ns / 1000) << "line time and Loki timestamp disagree";
      out.push_back({stream["stream"], ns, parsed});
    }
  }
  EXPECT_LE(values_in_request, want.max_values) << "push larger than max_push_records";
}

std::vector<Pushed> check_all(const std::vector<Request>& requests, const WireExpectations& want) {
  std::vector<Pushed> out;
  for (const auto& r : requests) check_request(r, want, out);
  return out;
}

// Each expected record arrived exactly once, intact, with its own time.
void check_delivered(const std::vector<Pushed>& pushed, const std::vector<Expected>& expected) {
  ASSERT_EQ(pushed.size(), expected.size());
  for (const Expected& e : expected) {
    SCOPED_TRACE("message: " + json(e.message).dump());
    auto it = std::find_if(pushed.begin(), pushed.end(),
                           [&](const Pushed& p) { return p.line.value("message", std::string("\x01")) == e.message; });
    ASSERT_NE(it, pushed.end()) << "record not delivered";
    EXPECT_EQ(std::count_if(pushed.begin(), pushed.end(),
                            [&](const Pushed& p) { return p.line.value("message", std::string("\x01")) == e.message; }),
              1);
    EXPECT_EQ(it->labels["severity"], std::string(obs::log::to_string(e.level)));
    EXPECT_EQ(it->line["severity"], std::string(obs::log::to_string(e.level)));
    EXPECT_GE(it->ns, to_ns(e.before));
    EXPECT_LE(it->ns, to_ns(e.after));
    for (auto& [k, v] : e.fields.items()) {
      ASSERT_TRUE(it->line.contains(k)) << "field " << json(k).dump() << " missing from " << it->line.dump();
      EXPECT_EQ(it->line[k], v) << "field " << json(k).dump();
    }
  }
}

// The SDK reports a given failure (kind + backend name) once a minute and
// folds repeats into a count. A fresh backend name per run keeps each test's
// first report visible, also under --gtest_repeat.
std::string unique_name(const std::string& base) {
  static std::atomic<int> runs{0};
  return base + "-" + std::to_string(++runs);
}

obs::Config quiet(const std::string& service) {
  return obs::Config().service(service).console(false).admin(false).with_prometheus(false).level(Level::Trace);
}

// ---------------------------------------------------------------- tests

TEST(LokiBackend, PushesTheDocumentedWireFormat) {
  Receiver receiver;
  ASSERT_TRUE(receiver.ready());
  const std::string name = unique_name("loki-format");
  auto loki = std::make_shared<example::LokiLogBackend>(
      example::LokiOptions{.url = receiver.url(),
                           .tenant = "team-a",
                           .username = "user",
                           .password = "secret",
                           .labels = {{"job", "loki_test"}, {"team", "obs \"core\""}},
                           .max_batch = 5,
                           .max_push_records = 3,
                           .max_buffered = 100,
                           .name = name});
  auto memory = std::make_shared<obs::MemoryLogBackend>();
  auto errors = Errors::make();
  std::vector<Expected> expected;
  {
    auto sdk = obs::init(quiet("loki_test")
                             .env("staging")
                             .service_version("1.2.3")
                             .add_log_backend(loki)
                             .add_log_backend(memory)
                             .on_error(Errors::handler(errors)));
    ASSERT_TRUE(sdk.ok()) << errors->all();
    auto seen = [&](std::size_t n) { return memory->wait_for([n](const auto& r) { return r.size() >= n; }, kWait); };

    // 1. max_batch records: pushed by write() alone, no flush, in requests of <= 3.
    expected.push_back(log_record(Level::Trace, "tracing", {}, "tracing"));
    expected.push_back(log_record(Level::Debug, "debugging", {{"step", 1}}, "debugging", {{"step", 1}}));
    expected.push_back(log_record(Level::Info, "User logged in", {{"user_id", 42}, {"admin", false}}, "User logged in",
                                  {{"user_id", 42}, {"admin", false}}));
    expected.push_back(log_record(Level::Warning, "disk almost full", {{"free_ratio", 0.05}}, "disk almost full",
                                  {{"free_ratio", 0.05}}));
    expected.push_back(log_record(Level::Error, "upload failed", {{"code", -3}}, "upload failed", {{"code", -3}}));
    ASSERT_TRUE(seen(5));
    EXPECT_EQ(loki->stats().pushed, 5u);
    EXPECT_EQ(loki->stats().buffered, 0u);
    EXPECT_EQ(receiver.requests().size(), 2u);  // 3 + 2

    // 2. Hostile content, fewer than max_batch: stays buffered until flush().
    const std::string hostile = "line one\nline two \"quoted\" back\\slash\ttab \x01\x1b[31mred\x7f end\r";
    expected.push_back(log_record(Level::Critical, hostile, {{"note", "a\nb\"c"}}, hostile, {{"note", "a\nb\"c"}}));
    expected.push_back(log_record(Level::Info, "bad utf8: \xff\xfe \xc3( \xe2\x82 tail", {{"bytes", "x\xffy"}},
                                  "bad utf8: \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd( \xef\xbf\xbd\xef\xbf\xbd tail",
                                  {{"bytes", "x\xef\xbf\xbdy"}}));
    expected.push_back(log_record(Level::Info, "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac", {},
                                  "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac"));
    expected.push_back(log_record(Level::Warning, "}\"]}, {\"streams\":[",
                                  {{"message", "collides"}, {"we\"ird\nkey", true}, {"nan", std::nan("")}},
                                  "}\"]}, {\"streams\":[",
                                  {{"fields.message", "collides"}, {"we\"ird\nkey", true}, {"nan", "NaN"}}));
    ASSERT_TRUE(seen(9));
    EXPECT_EQ(receiver.requests().size(), 2u);
    EXPECT_EQ(loki->stats().buffered, 4u);
    ASSERT_TRUE(sdk.flush());
    EXPECT_EQ(loki->stats().buffered, 0u);
    EXPECT_EQ(loki->stats().pushed, 9u);

    // 3. Several threads at once: per-stream time order is restored per push.
    std::mutex mutex;
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 4; ++i) {
          const std::string msg = "worker " + std::to_string(t) + " item " + std::to_string(i);
          auto e = log_record(Level::Info, msg, {{"worker", t}, {"item", i}}, msg, {{"worker", t}, {"item", i}});
          std::lock_guard lock(mutex);
          expected.push_back(std::move(e));
        }
      });
    for (auto& t : threads) t.join();
    ASSERT_TRUE(seen(21));
    ASSERT_TRUE(sdk.flush());
    EXPECT_EQ(errors->all(), "");
  }  // shutdown: nothing left to push

  const auto requests = receiver.requests();
  const auto pushed = check_all(
      requests,
      {.labels = {{"service", "loki_test"}, {"environment", "staging"}, {"job", "loki_test"}, {"team", "obs \"core\""}},
       .tenant = "team-a",
       .max_values = 3,
       .authorization = "Basic dXNlcjpzZWNyZXQ="});  // user:secret
  check_delivered(pushed, expected);
  for (const auto& p : pushed) {
    EXPECT_EQ(p.line.value("environment", ""), "staging");
    EXPECT_EQ(p.line.value("version", ""), "1.2.3");
  }
  const auto stats = loki->stats();
  EXPECT_EQ(stats.pushed, 21u);
  EXPECT_EQ(stats.requests, requests.size());
  EXPECT_EQ(stats.failed_requests, 0u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(errors->all(), "");
}

TEST(LokiBackend, ServerErrorIsReportedRetriedAndBounded) {
  Receiver receiver;
  ASSERT_TRUE(receiver.ready());
  receiver.respond(500, "ingester unavailable\n");
  const std::string name = unique_name("loki-500");
  auto loki = std::make_shared<example::LokiLogBackend>(
      example::LokiOptions{.url = receiver.url(),
                           .max_batch = 5,
                           .max_push_records = 4,
                           .max_buffered = 20,
                           .retry_backoff = 1h,  // write() tries once; flush() always tries
                           .max_retry_backoff = 1h,
                           .name = name});
  auto memory = std::make_shared<obs::MemoryLogBackend>();
  auto metrics = std::make_shared<obs::MemoryMetricsBackend>();
  auto errors = Errors::make();
  auto sdk = obs::init(quiet("loki_test")
                           .add_log_backend(loki)
                           .add_log_backend(memory)
                           .add_metrics_backend(metrics)
                           .on_error(Errors::handler(errors)));
  ASSERT_TRUE(sdk.ok()) << errors->all();

  // One record per write(): the buffer fills up across calls.
  for (std::size_t i = 0; i < 50; ++i) {
    obs::log::info("record " + std::to_string(i), {{"i", i}});
    ASSERT_TRUE(memory->wait_for([i](const auto& r) { return r.size() > i; }, kWait));
  }

  // Reported through on_error, naming the backend, the URL and the status.
  const std::string reported = errors->wait_for({"'" + name + "'", receiver.url(), "HTTP 500", "ingester unavailable"});
  EXPECT_NE(reported, "") << errors->all();
  // Later failures of the same kind (here: the drops) are folded into the
  // SDK's once-a-minute "repeated N more times" report; stats() has them all.
  // The failed writes are also counted by the SDK:
  EXPECT_GT(metrics->value("obs_exporter_failed", {{"signal", "logs"}, {"backend", name}}).value_or(0), 0);

  // Bounded: the newest max_buffered records wait, the rest were dropped.
  auto stats = loki->stats();
  EXPECT_EQ(stats.buffered, 20u);
  EXPECT_EQ(stats.dropped, 30u);
  EXPECT_EQ(stats.pushed, 0u);
  EXPECT_EQ(stats.failed_requests, 1u);  // then the back-off holds write() off
  EXPECT_EQ(receiver.requests().size(), 1u);

  // The host is unaffected: flush completes (the failure is reported, not thrown).
  ASSERT_TRUE(sdk.flush());
  EXPECT_NE(
      errors->wait_for({"'" + name + "'", "failed to flush", receiver.url(), "HTTP 500", "20 records kept for retry"}),
      "")
      << errors->all();
  EXPECT_EQ(loki->stats().buffered, 20u);
  EXPECT_EQ(loki->stats().failed_requests, 2u);  // flush() ignores the back-off

  // Recovery: the kept records go out on the next flush.
  const std::size_t failed_requests = receiver.requests().size();
  ASSERT_EQ(failed_requests, 2u);
  receiver.respond(204);
  ASSERT_TRUE(sdk.flush());
  stats = loki->stats();
  EXPECT_EQ(stats.buffered, 0u);
  EXPECT_EQ(stats.pushed, 20u);
  EXPECT_EQ(stats.dropped, 30u);

  const auto requests = receiver.requests();
  const WireExpectations want{
      .labels = {{"service", "loki_test"}, {"environment", "development"}}, .tenant = std::nullopt, .max_values = 4};
  check_all(requests, want);  // the failed attempts were well-formed too
  const auto delivered =
      check_all({requests.begin() + static_cast<std::ptrdiff_t>(failed_requests), requests.end()}, want);
  ASSERT_EQ(delivered.size(), 20u);
  for (std::size_t k = 0; k < delivered.size(); ++k) {
    EXPECT_EQ(delivered[k].line.value("message", ""), "record " + std::to_string(30 + k)) << "drop-oldest violated";
  }
}

TEST(LokiBackend, NoReceiverIsReportedAndMemoryStaysBounded) {
  const int port = closed_port();
  ASSERT_GT(port, 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/loki/api/v1/push";
  const std::string name = unique_name("loki-refused");
  auto loki = std::make_shared<example::LokiLogBackend>(example::LokiOptions{.url = url,
                                                                             .max_batch = 5,
                                                                             .max_push_records = 5,
                                                                             .max_buffered = 10,
                                                                             .connect_timeout = 1s,
                                                                             .io_timeout = 1s,
                                                                             .retry_backoff = 1h,
                                                                             .max_retry_backoff = 1h,
                                                                             .name = name});
  auto memory = std::make_shared<obs::MemoryLogBackend>();
  auto errors = Errors::make();
  auto sdk =
      obs::init(quiet("loki_test").add_log_backend(loki).add_log_backend(memory).on_error(Errors::handler(errors)));
  ASSERT_TRUE(sdk.ok()) << errors->all();

  for (int i = 0; i < 1000; ++i) obs::log::warning("unsent " + std::to_string(i));
  ASSERT_TRUE(memory->wait_for([](const auto& r) { return r.size() >= 1000; }, kWait));
  EXPECT_NE(errors->wait_for({"'" + name + "'", url, "no response", "Connection"}), "") << errors->all();

  auto stats = loki->stats();
  EXPECT_EQ(stats.buffered, 10u);
  EXPECT_EQ(stats.dropped, 990u);
  EXPECT_EQ(stats.pushed, 0u);
  EXPECT_GE(stats.failed_requests, 1u);

  ASSERT_TRUE(sdk.flush());
  EXPECT_NE(errors->wait_for({"'" + name + "'", "failed to flush", url, "Connection"}), "") << errors->all();

  // Shutdown: the SDK's final flush() tries once more; shutdown() itself
  // does not (the back-off is running), discards what is left and says so.
  const auto attempts = loki->stats().failed_requests;
  sdk.shutdown();
  EXPECT_NE(errors->wait_for({"'" + name + "'", "discarded 10 undelivered records at shutdown"}), "") << errors->all();
  stats = loki->stats();
  EXPECT_EQ(stats.buffered, 0u);
  EXPECT_EQ(stats.dropped, 1000u);
  EXPECT_EQ(stats.failed_requests, attempts + 1);
}

TEST(LokiBackend, RejectedPushIsDroppedNotRetried) {
  Receiver receiver;
  ASSERT_TRUE(receiver.ready());
  receiver.respond(400, "entry too far behind");
  const std::string name = unique_name("loki-400");
  auto loki = std::make_shared<example::LokiLogBackend>(
      example::LokiOptions{.url = receiver.origin(),  // no path: the default /loki/api/v1/push
                           .tenant = "t1",
                           .max_batch = 5,
                           .max_push_records = 5,
                           .max_buffered = 5,
                           .name = name});
  auto memory = std::make_shared<obs::MemoryLogBackend>();
  auto errors = Errors::make();
  {
    auto sdk =
        obs::init(quiet("loki_test").add_log_backend(loki).add_log_backend(memory).on_error(Errors::handler(errors)));
    ASSERT_TRUE(sdk.ok()) << errors->all();
    for (int i = 0; i < 5; ++i) obs::log::error("rejected " + std::to_string(i));
    ASSERT_TRUE(memory->wait_for([](const auto& r) { return r.size() >= 5; }, kWait));
    EXPECT_NE(errors->wait_for({"'" + name + "'", receiver.url(), "HTTP 400", "entry too far behind",
                                "dropped 5 records Loki will not accept"}),
              "")
        << errors->all();
    EXPECT_EQ(loki->stats().buffered, 0u);
    EXPECT_EQ(loki->stats().dropped, 5u);
    ASSERT_TRUE(sdk.flush());  // nothing left: no second attempt
  }
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  check_all(requests,
            {.labels = {{"service", "loki_test"}, {"environment", "development"}}, .tenant = "t1", .max_values = 5});
}

// Driving the backend directly, as the pipeline does, with records whose
// times are out of order (as records from several threads can be).
TEST(LokiBackend, SortsEachStreamByTime) {
  Receiver receiver;
  ASSERT_TRUE(receiver.ready());
  example::LokiLogBackend loki(
      {.url = receiver.url(), .max_batch = 100, .max_push_records = 100, .max_buffered = 100, .name = "loki-direct"});
  obs::Resource resource;
  resource.service = "direct";  // no environment: no environment label
  resource.host = "h";
  const auto base = Clock::now();
  std::vector<obs::LogRecord> records;
  auto add = [&](Level level, int offset_us, std::string message) {
    obs::LogRecord r;
    r.time = base + std::chrono::microseconds(offset_us);
    r.level = level;
    r.message = std::move(message);
    records.push_back(std::move(r));
  };
  add(Level::Info, 3, "c");
  add(Level::Info, 1, "a");
  add(Level::Error, 2, "x");
  add(Level::Info, 2, "b1");
  add(Level::Info, 2, "b2");  // same time as b1: keeps its place after it
  add(Level::Error, 1, "w");
  loki.write(obs::LogBatch{resource, records});
  EXPECT_EQ(receiver.requests().size(), 0u);  // below max_batch
  loki.flush();
  loki.shutdown();

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto pushed =
      check_all(requests, {.labels = {{"service", "direct"}}, .tenant = std::nullopt, .max_values = 100});
  std::map<std::string, std::vector<std::string>> by_severity;
  for (const auto& p : pushed) by_severity[p.labels["severity"]].push_back(p.line["message"]);
  EXPECT_EQ(by_severity["info"], (std::vector<std::string>{"a", "b1", "b2", "c"}));
  EXPECT_EQ(by_severity["error"], (std::vector<std::string>{"w", "x"}));
  EXPECT_EQ(loki.stats().pushed, 6u);
}

TEST(LokiBackend, RejectsUnusableOptions) {
  EXPECT_THROW((example::LokiLogBackend({.url = "localhost:3100"})), std::invalid_argument);
  EXPECT_THROW((example::LokiLogBackend({.url = "ftp://loki/loki/api/v1/push"})), std::invalid_argument);
  EXPECT_THROW((example::LokiLogBackend({.url = "http:///loki/api/v1/push"})), std::invalid_argument);
  EXPECT_THROW((example::LokiLogBackend({.labels = {{"bad-name", "x"}}})), std::invalid_argument);
  EXPECT_THROW((example::LokiLogBackend({.labels = {{"severity", "x"}}})), std::invalid_argument);
  EXPECT_THROW((example::LokiLogBackend({.max_batch = 10, .max_buffered = 5})), std::invalid_argument);
  EXPECT_NO_THROW((example::LokiLogBackend({.url = "https://logs.example.com/loki/api/v1/push"})));
}

}  // namespace
