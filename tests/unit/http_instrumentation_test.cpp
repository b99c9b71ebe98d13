// obs/http.hpp against real cpp-httplib servers on 127.0.0.1: spans and
// their parentage across a chain of services, the request id in every
// service's logs and responses, the HTTP metrics, route templates, thrown
// handlers, and the admin endpoints mounted on an application's server.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "obs/backends/memory.hpp"
#include "obs/backends/memory_span.hpp"
#include "obs/http.hpp"
#include "obs/obs.hpp"
#include "support/prometheus_text.hpp"

namespace {

using namespace std::chrono_literals;
using obs::SpanData;
using obs::SpanKind;
using Labels = obs::MemoryMetricsBackend::Labels;

// --- helpers ---------------------------------------------------------------------

const obs::OwnedField* attribute(const SpanData& span, std::string_view key) {
  for (const auto& f : span.attributes)
    if (f.key == key) return &f;
  return nullptr;
}
std::string str_attr(const SpanData& span, std::string_view key) {
  const auto* f = attribute(span, key);
  return f && f->type == obs::FieldType::String ? f->str : std::string("<absent>");
}
std::int64_t int_attr(const SpanData& span, std::string_view key) {
  const auto* f = attribute(span, key);
  return f && f->type == obs::FieldType::Int ? f->i : -1;
}

// An instrumented server listening on a free loopback port until destroyed.
class TestServer {
 public:
  explicit TestServer(obs::http::ServerOptions options = {}) {
    obs::http::instrument(server, std::move(options));
    server.set_keep_alive_timeout(1);
  }
  ~TestServer() {
    if (thread_.joinable()) {
      server.stop();
      thread_.join();
    }
  }
  // Call after registering routes.
  void start() {
    port = server.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port, 0);
    thread_ = std::thread([this] { server.listen_after_bind(); });
    // cpp-httplib's stop() is ignored until the listen loop runs.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!server.is_running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    ASSERT_TRUE(server.is_running());
  }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
    c->set_read_timeout(10, 0);
    return c;
  }

  httplib::Server server;
  int port = 0;

 private:
  std::thread thread_;
};

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sdk_ = obs::init(obs::Config()
                         .service("http_test")
                         .console(false)
                         .admin(false)
                         .with_prometheus(false)
                         .add_span_backend(spans_)
                         .add_log_backend(logs_)
                         .add_metrics_backend(metrics_));
    ASSERT_TRUE(sdk_.ok());
  }
  void TearDown() override { sdk_.shutdown(); }

  // Waits until `n` spans are exported.
  std::vector<SpanData> wait_spans(std::size_t n) {
    EXPECT_TRUE(sdk_.flush());
    EXPECT_TRUE(spans_->wait_for([n](const auto& s) { return s.size() >= n; })) << "spans: " << spans_->spans().size();
    return spans_->spans();
  }
  std::optional<SpanData> server_span(std::string_view name) {
    EXPECT_TRUE(sdk_.flush());
    spans_->wait_for([&](const auto& all) {
      return std::any_of(all.begin(), all.end(), [&](const SpanData& s) { return s.name == name; });
    });
    return spans_->find(name);
  }
  // Requests counted in http.server.request.duration's series for these
  // attributes (url.scheme "http": the tests' servers are plain HTTP).
  std::uint64_t duration_count(std::string_view method, std::string_view route, std::string_view status,
                               std::string_view error_type = {}) {
    const auto h = metrics_->histogram("http.server.request.duration",
                                       {{"http.request.method", std::string(method)},
                                        {"url.scheme", "http"},
                                        {"http.route", std::string(route)},
                                        {"http.response.status_code", std::string(status)},
                                        {"error.type", std::string(error_type)}});
    return h ? h->first : 0;
  }

  std::shared_ptr<obs::MemorySpanBackend> spans_ = std::make_shared<obs::MemorySpanBackend>();
  std::shared_ptr<obs::MemoryLogBackend> logs_ = std::make_shared<obs::MemoryLogBackend>();
  std::shared_ptr<obs::MemoryMetricsBackend> metrics_ = std::make_shared<obs::MemoryMetricsBackend>();
  obs::Sdk sdk_;
};

// --- a -> b -> c ----------------------------------------------------------------

// Three services; each one's handler logs, and a and b call the next one
// through ClientCall. What each saw in the downstream response's
// x-request-id is kept for the test.
struct Chain {
  Chain() {
    obs::http::route(c.server, "GET", "/c/{item}", [](const httplib::Request& req, httplib::Response& res) {
      obs::log::info("in c", {{"svc", "c"}});
      res.set_content("c:" + req.matches[1].str(), "text/plain");
    });
    c.start();
    obs::http::route(b.server, "GET", "/b/{item}", [this](const httplib::Request& req, httplib::Response& res) {
      obs::log::info("in b", {{"svc", "b"}});
      forward(c.port, "/c/" + req.matches[1].str(), res, b_saw);
    });
    b.start();
    obs::http::route(a.server, "GET", "/a/{item}", [this](const httplib::Request& req, httplib::Response& res) {
      obs::log::info("in a", {{"svc", "a"}});
      forward(b.port, "/b/" + req.matches[1].str(), res, a_saw);
    });
    a.start();
  }

  void forward(int port, const std::string& path, httplib::Response& res, std::string& saw) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10, 0);
    obs::http::ClientCall call("GET", "127.0.0.1", port, path);
    httplib::Headers headers;
    call.inject(headers);
    auto r = client.Get(path, headers);
    call.finish(r);
    {
      std::lock_guard lock(mutex);
      saw = r ? r->get_header_value("x-request-id") : "<no response>";
    }
    res.status = r ? r->status : 502;
    res.set_content(r ? "via:" + r->body : std::string("down"), "text/plain");
  }

  std::string saw(const std::string& which) {
    std::lock_guard lock(mutex);
    return which == "a" ? a_saw : b_saw;
  }

  TestServer a, b, c;
  std::mutex mutex;
  std::string a_saw, b_saw;  // x-request-id of b's response (seen by a) and of c's (seen by b)
};

// The log records of the three services' handlers, by message.
std::map<std::string, obs::LogRecord> service_logs(const obs::MemoryLogBackend& logs) {
  std::map<std::string, obs::LogRecord> out;
  for (auto& r : logs.records())
    if (r.message == "in a" || r.message == "in b" || r.message == "in c") out[r.message] = r;
  return out;
}

TEST_F(HttpTest, HttpChainOneTraceParentsAreCallersClientSpansOneRequestId) {
  Chain chain;
  obs::SpanContext root;
  std::string response_id;
  {
    // The test is the first client: its request id and client span start the trace.
    obs::Context ctx;
    ctx.request_id = "req-chain-1";
    obs::ContextScope scope(ctx);
    auto client = chain.a.client();
    obs::http::ClientCall call("GET", "127.0.0.1", chain.a.port, "/a/42");
    root = call.context();
    httplib::Headers headers;
    call.inject(headers);
    EXPECT_EQ(headers.find("x-request-id")->second, "req-chain-1");
    auto r = client->Get("/a/42", headers);
    call.finish(r);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "via:via:c:42");
    response_id = r->get_header_value("x-request-id");
  }
  EXPECT_EQ(response_id, "req-chain-1");
  EXPECT_EQ(chain.saw("a"), "req-chain-1");
  EXPECT_EQ(chain.saw("b"), "req-chain-1");

  const auto all = wait_spans(6);
  ASSERT_EQ(all.size(), 6u);
  auto find = [&](SpanKind kind, int port) -> SpanData {
    for (const auto& s : all)
      if (s.kind == kind && int_attr(s, "server.port") == port) return s;
    ADD_FAILURE() << "no " << obs::to_string(kind) << " span for port " << port;
    return {};
  };
  const SpanData test_client = find(SpanKind::Client, chain.a.port);
  const SpanData a_server = find(SpanKind::Server, chain.a.port);
  const SpanData a_client = find(SpanKind::Client, chain.b.port);
  const SpanData b_server = find(SpanKind::Server, chain.b.port);
  const SpanData b_client = find(SpanKind::Client, chain.c.port);
  const SpanData c_server = find(SpanKind::Server, chain.c.port);

  for (const auto* s : {&test_client, &a_server, &a_client, &b_server, &b_client, &c_server}) {
    EXPECT_EQ(s->context.trace_id, root.trace_id) << s->name;
    EXPECT_EQ(str_attr(*s, "request_id"), "req-chain-1") << s->name;
  }
  EXPECT_EQ(test_client.context.span_id, root.span_id);
  EXPECT_FALSE(test_client.parent_span_id.valid());
  // Every server span's parent is its caller's client span, and every
  // client span's parent is the server span whose handler made the call.
  EXPECT_EQ(a_server.parent_span_id, test_client.context.span_id);
  EXPECT_EQ(a_client.parent_span_id, a_server.context.span_id);
  EXPECT_EQ(b_server.parent_span_id, a_client.context.span_id);
  EXPECT_EQ(b_client.parent_span_id, b_server.context.span_id);
  EXPECT_EQ(c_server.parent_span_id, b_client.context.span_id);

  EXPECT_EQ(a_server.name, "GET /a/{item}");
  EXPECT_EQ(b_server.name, "GET /b/{item}");
  EXPECT_EQ(c_server.name, "GET /c/{item}");
  EXPECT_EQ(a_client.name, "GET");
  EXPECT_EQ(str_attr(a_client, "url.full"), "http://127.0.0.1:" + std::to_string(chain.b.port) + "/b/42");
  EXPECT_EQ(int_attr(a_client, "http.response.status_code"), 200);
  EXPECT_EQ(str_attr(c_server, "url.path"), "/c/42");

  // Every service logged with the same request id and trace.
  ASSERT_TRUE(sdk_.flush());
  const auto logs = service_logs(*logs_);
  ASSERT_EQ(logs.size(), 3u);
  for (const auto& [message, record] : logs) {
    EXPECT_EQ(record.request_id, "req-chain-1") << message;
    EXPECT_EQ(record.trace_id, root.trace_id) << message;
  }
  EXPECT_EQ(logs.at("in a").span_id, a_server.context.span_id);
  EXPECT_EQ(logs.at("in c").span_id, c_server.context.span_id);
}

// Repeated and duplicated trace headers reaching three real instrumented
// servers: RFC 9110 5.3 joins repeated fields in order, Trace Context's
// "tracestate Header Field Values" makes one list of them and "Combined
// Header Value" keeps a key's first member; two traceparent fields restart
// the trace at the first service. Either way the trace through a, b and c
// stays whole, and the normalised tracestate travels on unchanged.
TEST_F(HttpTest, HttpChainRepeatedAndDuplicatedTraceHeadersKeepTheTraceWhole) {
  Chain chain;
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string caller_span = "00f067aa0ba902b7";
  const auto send = [&](const httplib::Headers& headers) {
    auto r = chain.a.client()->Get("/a/7", headers);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  };
  const auto servers = [&](std::size_t expected_spans) {
    const auto all = wait_spans(expected_spans);
    std::map<int, SpanData> by_port;
    for (const auto& span : all)
      if (span.kind == SpanKind::Server) by_port[static_cast<int>(int_attr(span, "server.port"))] = span;
    spans_->clear();
    return std::array<SpanData, 3>{by_port[chain.a.port], by_port[chain.b.port], by_port[chain.c.port]};
  };

  send({{"traceparent", "00-" + trace_id + "-" + caller_span + "-03"},
        {"tracestate", "foo=1, bar=2"},
        {"TraceState", "foo=3,baz=4"},  // header names are case-insensitive
        {"baggage", "k1=v1"},
        {"baggage", "k2=v2"}});
  auto [a, b, c] = servers(5);  // 3 server spans, 2 client spans
  for (const SpanData* s : {&a, &b, &c}) {
    EXPECT_EQ(s->context.trace_id.hex(), trace_id) << s->name;
    EXPECT_EQ(s->context.trace_state, "foo=1,bar=2,baz=4") << s->name;
    EXPECT_TRUE(s->context.sampled) << s->name;
    EXPECT_TRUE(s->context.random_trace_id) << s->name;  // Level 2's flag, as the caller sent it
  }
  EXPECT_EQ(a.parent_span_id.hex(), caller_span);

  send({{"traceparent", "00-" + trace_id + "-" + caller_span + "-01"},
        {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        {"tracestate", "foo=1"}});
  auto [a2, b2, c2] = servers(5);
  EXPECT_NE(a2.context.trace_id.hex(), trace_id);
  EXPECT_NE(a2.context.trace_id.hex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_FALSE(a2.parent_span_id.valid());  // a new trace, rooted at a
  EXPECT_TRUE(a2.context.trace_state.empty());  // tracestate is not read without a valid traceparent
  EXPECT_TRUE(a2.context.random_trace_id);
  EXPECT_EQ(b2.context.trace_id, a2.context.trace_id);
  EXPECT_EQ(c2.context.trace_id, a2.context.trace_id);
}

// Without a request id (or with an invalid one) the first service makes
// one, and it still follows the request everywhere.
TEST_F(HttpTest, HttpChainGeneratesOrReplacesTheRequestId) {
  Chain chain;
  struct Case {
    std::string name;
    std::optional<std::string> sent;
  };
  const std::vector<Case> cases = {
      {"absent", std::nullopt},
      {"too long", std::string(200, 'a')},
      {"with spaces", "my request id"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(sdk_.flush());
    logs_->clear();
    spans_->clear();
    auto client = chain.a.client();
    httplib::Headers headers;
    if (c.sent) headers.emplace("x-request-id", *c.sent);
    auto r = client->Get("/a/7", headers);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    const std::string id = r->get_header_value("x-request-id");
    EXPECT_TRUE(obs::propagation::valid_request_id(id)) << id;
    EXPECT_EQ(id.size(), 32u);
    if (c.sent) {
      EXPECT_NE(id, *c.sent);
    }
    EXPECT_EQ(chain.saw("a"), id);
    EXPECT_EQ(chain.saw("b"), id);
    ASSERT_TRUE(sdk_.flush());
    const auto logs = service_logs(*logs_);
    ASSERT_EQ(logs.size(), 3u);
    for (const auto& [message, record] : logs) EXPECT_EQ(record.request_id, id) << message;
    // No traceparent was sent: a's span is the root of a new trace that b and c continue.
    const auto a_server = spans_->find("GET /a/{item}");
    const auto c_server = spans_->find("GET /c/{item}");
    ASSERT_TRUE(a_server && c_server);
    EXPECT_FALSE(a_server->parent_span_id.valid());
    EXPECT_EQ(c_server->context.trace_id, a_server->context.trace_id);
  }
}

// --- server spans and metrics ------------------------------------------------------

TEST_F(HttpTest, HttpServerSpanNamedByRouteTemplateWithSemconvAttributes) {
  TestServer s;
  obs::http::route(s.server, "GET", "/users/{id}/posts/{post}",
                   [](const httplib::Request& req, httplib::Response& res) {
                     EXPECT_EQ(req.matches[1].str(), "7");
                     EXPECT_EQ(req.matches[2].str(), "9");
                     // The server span is current in the handler.
                     EXPECT_TRUE(obs::current_context().span.valid());
                     res.set_content("ok", "text/plain");
                   });
  s.start();
  const std::string parent_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string parent_span = "00f067aa0ba902b7";
  auto r = s.client()->Get("/users/7/posts/9", {{"traceparent", "00-" + parent_trace + "-" + parent_span + "-01"},
                                                {"tracestate", "vendor=abc"},
                                                {"baggage", "tenant=acme"},
                                                {"User-Agent", "obs-test/1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const auto span = server_span("GET /users/{id}/posts/{post}");
  ASSERT_TRUE(span);
  EXPECT_EQ(span->kind, SpanKind::Server);
  EXPECT_EQ(span->context.trace_id.hex(), parent_trace);
  EXPECT_EQ(span->parent_span_id.hex(), parent_span);
  EXPECT_EQ(span->context.trace_state, "vendor=abc");
  EXPECT_EQ(span->status, obs::SpanStatus::Unset);
  EXPECT_EQ(str_attr(*span, "http.request.method"), "GET");
  EXPECT_EQ(str_attr(*span, "http.route"), "/users/{id}/posts/{post}");
  EXPECT_EQ(str_attr(*span, "url.path"), "/users/7/posts/9");
  EXPECT_EQ(str_attr(*span, "url.scheme"), "http");
  EXPECT_EQ(int_attr(*span, "http.response.status_code"), 200);
  EXPECT_EQ(int_attr(*span, "server.port"), s.port);
  EXPECT_EQ(str_attr(*span, "server.address"), "127.0.0.1");
  EXPECT_EQ(str_attr(*span, "client.address"), "127.0.0.1");
  EXPECT_GT(int_attr(*span, "client.port"), 0);
  EXPECT_EQ(str_attr(*span, "user_agent.original"), "obs-test/1");
  EXPECT_EQ(str_attr(*span, "network.protocol.version"), "1.1");
  EXPECT_EQ(attribute(*span, "error.type"), nullptr);
}

TEST_F(HttpTest, HttpServerDurationAndBodySizesPerRouteAndStatus) {
  TestServer s;
  obs::http::route(s.server, "GET", "/count/{status}", [](const httplib::Request& req, httplib::Response& res) {
    res.status = std::stoi(req.matches[1].str());
    res.set_content("hello", "text/plain");
  });
  obs::http::route(s.server, "POST", "/count/upload", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(std::string(req.body.size() * 2, 'x'), "text/plain");
  });
  s.start();
  const auto ok_before = duration_count("GET", "/count/{status}", "200");
  const auto missing_before = duration_count("GET", "/count/{status}", "404");
  const auto upload_before = duration_count("POST", "/count/upload", "200");
  const auto req_size_before = metrics_->histogram("http.server.request.body.size",
                                                   {{"http.request.method", "POST"}, {"url.scheme", "http"}, {"http.route", "/count/upload"}, {"error.type", ""}});
  const auto res_size_before = metrics_->histogram("http.server.response.body.size",
                                                   {{"http.request.method", "POST"}, {"url.scheme", "http"}, {"http.route", "/count/upload"}, {"error.type", ""}});
  auto client = s.client();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(client->Get("/count/200")->status, 200);
  ASSERT_EQ(client->Get("/count/404")->status, 404);  // the handler's own 404: the route is known
  ASSERT_EQ(client->Post("/count/upload", std::string(1000, 'b'), "text/plain")->status, 200);

  EXPECT_EQ(duration_count("GET", "/count/{status}", "200"), ok_before + 3);
  EXPECT_EQ(duration_count("GET", "/count/{status}", "404"), missing_before + 1);
  EXPECT_EQ(duration_count("POST", "/count/upload", "200"), upload_before + 1);
  const auto req_size = metrics_->histogram("http.server.request.body.size",
                                            {{"http.request.method", "POST"}, {"url.scheme", "http"}, {"http.route", "/count/upload"}, {"error.type", ""}});
  const auto res_size = metrics_->histogram("http.server.response.body.size",
                                            {{"http.request.method", "POST"}, {"url.scheme", "http"}, {"http.route", "/count/upload"}, {"error.type", ""}});
  ASSERT_TRUE(req_size && res_size);
  EXPECT_EQ(req_size->first, (req_size_before ? req_size_before->first : 0) + 1);
  EXPECT_DOUBLE_EQ(req_size->second, (req_size_before ? req_size_before->second : 0) + 1000);
  EXPECT_DOUBLE_EQ(res_size->second, (res_size_before ? res_size_before->second : 0) + 2000);
  // Bytes have byte-sized buckets, durations the semconv's seconds buckets.
  for (const auto& f : metrics_->snapshot().families) {
    if (f.name == "http.server.request.body.size") {
      ASSERT_FALSE(f.series.empty());
      EXPECT_GE(f.series[0].histogram.bounds.back(), 1e8);
    }
    if (f.name == "http.server.request.duration") {
      ASSERT_FALSE(f.series.empty());
      EXPECT_EQ(f.series[0].histogram.bounds.back(), 10);
    }
  }
}

TEST_F(HttpTest, HttpServerThrowingHandlerAnswers500WithErrorSpan) {
  TestServer s;
  obs::http::route(s.server, "GET", "/boom", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("partial", "text/plain");
    throw std::runtime_error("secret detail");
  });
  obs::http::route(s.server, "GET", "/boom-int", [](const httplib::Request&, httplib::Response&) { throw 42; });
  s.start();
  const auto before = duration_count("GET", "/boom", "500", "std::runtime_error");
  auto r = s.client()->Get("/boom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.find("secret"), std::string::npos);
  EXPECT_FALSE(r->has_header("EXCEPTION_WHAT"));
  EXPECT_FALSE(r->get_header_value("x-request-id").empty());
  auto r2 = s.client()->Get("/boom-int");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 500);

  const auto span = server_span("GET /boom");
  ASSERT_TRUE(span);
  EXPECT_EQ(span->status, obs::SpanStatus::Error);
  EXPECT_EQ(span->status_message, "secret detail");
  EXPECT_EQ(int_attr(*span, "http.response.status_code"), 500);
  EXPECT_EQ(str_attr(*span, "error.type"), "std::runtime_error");
  ASSERT_EQ(span->events.size(), 1u);
  EXPECT_EQ(span->events[0].name, "exception");
  const auto span2 = server_span("GET /boom-int");
  ASSERT_TRUE(span2);
  EXPECT_EQ(span2->status, obs::SpanStatus::Error);
  EXPECT_EQ(str_attr(*span2, "error.type"), "_OTHER");
  EXPECT_EQ(duration_count("GET", "/boom", "500", "std::runtime_error"), before + 1);
  EXPECT_EQ(duration_count("GET", "/boom-int", "500", "_OTHER"), 1u);  // error.type on the metric as on the span
  // The failure is logged inside the request: with its trace and request id.
  ASSERT_TRUE(logs_->wait_for([&](const auto& records) {
    return std::any_of(records.begin(), records.end(), [&](const obs::LogRecord& l) {
      return l.message == "HTTP handler threw" && l.trace_id == span->context.trace_id &&
             l.request_id == r->get_header_value("x-request-id");
    });
  }));
}

TEST_F(HttpTest, HttpServer5xxIsAnErrorAnd4xxIsNot) {
  TestServer s;
  obs::http::route(s.server, "GET", "/status/{code}", [](const httplib::Request& req, httplib::Response& res) {
    res.status = std::stoi(req.matches[1].str());
  });
  s.start();
  auto client = s.client();
  for (int code : {503, 400, 404, 204}) {
    spans_->clear();
    ASSERT_EQ(client->Get("/status/" + std::to_string(code))->status, code);
    const auto span = server_span("GET /status/{code}");
    ASSERT_TRUE(span);
    EXPECT_EQ(int_attr(*span, "http.response.status_code"), code);
    if (code >= 500) {
      EXPECT_EQ(span->status, obs::SpanStatus::Error) << code;
      EXPECT_EQ(str_attr(*span, "error.type"), std::to_string(code));
    } else {
      EXPECT_EQ(span->status, obs::SpanStatus::Unset) << code;
      EXPECT_EQ(attribute(*span, "error.type"), nullptr);
    }
  }
}

TEST_F(HttpTest, HttpServerUnmatchedAndDirectlyRegisteredRoutes) {
  TestServer s;
  s.server.Get(R"(/direct/(\d+))",
               [](const httplib::Request&, httplib::Response& res) { res.set_content("d", "text/plain"); });
  obs::http::route(s.server, "GET", "/known", [](const httplib::Request&, httplib::Response&) {});
  s.start();
  // No route template known: http.route is left out (an empty label value,
  // absent in every export), never a placeholder.
  const auto unmatched_before = duration_count("GET", "", "404");
  const auto post_unmatched_before = duration_count("POST", "", "404");
  const auto unknown_before = duration_count("GET", "", "200");
  auto client = s.client();
  ASSERT_EQ(client->Get("/no/such/path/123")->status, 404);
  ASSERT_EQ(client->Post("/known", "x", "text/plain")->status, 404);  // no POST route
  ASSERT_EQ(client->Get("/direct/5")->status, 200);
  EXPECT_EQ(duration_count("GET", "", "404"), unmatched_before + 1);
  EXPECT_EQ(duration_count("POST", "", "404"), post_unmatched_before + 1);
  EXPECT_EQ(duration_count("GET", "", "200"), unknown_before + 1);
  // The raw path is never a label value.
  for (const auto& f : metrics_->snapshot().families)
    for (const auto& series : f.series)
      for (const auto& v : series.label_values) EXPECT_EQ(v.find("/no/such"), std::string::npos) << f.name;

  const auto all = wait_spans(3);
  const auto get_spans = std::count_if(all.begin(), all.end(), [](const SpanData& x) { return x.name == "GET"; });
  EXPECT_EQ(get_spans, 2);  // unmatched and direct: no template, so the name is the method
  for (const auto& span : all) {
    if (str_attr(span, "url.path") == "/no/such/path/123") {
      EXPECT_EQ(attribute(span, "http.route"), nullptr);
      EXPECT_EQ(span.status, obs::SpanStatus::Unset);
    }
    if (str_attr(span, "url.path") == "/direct/5") {
      EXPECT_EQ(attribute(span, "http.route"), nullptr);
    }
  }
}

TEST_F(HttpTest, HttpServerActiveRequestsGaugeReturnsToZero) {
  TestServer s;
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  obs::http::route(s.server, "GET", "/slow", [&](const httplib::Request&, httplib::Response& res) {
    entered.set_value();
    released.wait();
    res.set_content("done", "text/plain");
  });
  s.start();
  const Labels get{{"http.request.method", "GET"}, {"url.scheme", "http"}};
  EXPECT_EQ(metrics_->value("http.server.active_requests", get).value_or(0), 0);
  auto pending = std::async(std::launch::async, [&] { return s.client()->Get("/slow"); });
  entered.get_future().wait();
  EXPECT_EQ(metrics_->value("http.server.active_requests", get), 1);
  release.set_value();
  auto r = pending.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // Recorded before the response is written, so already back when it arrives.
  EXPECT_EQ(metrics_->value("http.server.active_requests", get), 0);
  // Also after a request that matched nothing.
  auto client = s.client();
  ASSERT_EQ(client->Get("/nothing")->status, 404);
  EXPECT_EQ(metrics_->value("http.server.active_requests", get), 0);
}

TEST_F(HttpTest, HttpServerHeadUsesTheGetRouteAndApplicationHooksStillRun) {
  std::atomic<int> pre{0}, post{0};
  std::atomic<bool> span_current_in_hooks{true};
  obs::http::ServerOptions options;
  options.pre_routing = [&](const httplib::Request& req, httplib::Response& res) {
    ++pre;
    if (!obs::current_context().span.valid()) span_current_in_hooks = false;
    if (req.path == "/teapot") {
      res.status = 418;
      return true;
    }
    return false;
  };
  options.post_routing = [&](const httplib::Request&, httplib::Response& res) {
    ++post;
    if (!obs::current_context().span.valid()) span_current_in_hooks = false;
    res.set_header("x-post", "1");
  };
  options.exception_handler = [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const std::out_of_range&) {
      res.status = 404;  // the application maps its own exceptions
    } catch (...) {
    }
  };
  TestServer s(std::move(options));
  obs::http::route(s.server, "GET", "/items/{id}", [](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1].str() == "missing") throw std::out_of_range("no item");
    res.set_content("item", "text/plain");
  });
  s.start();
  auto client = s.client();
  auto head = client->Head("/items/1");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("x-post"), "1");
  auto teapot = client->Get("/teapot");
  ASSERT_TRUE(teapot);
  EXPECT_EQ(teapot->status, 418);
  EXPECT_FALSE(teapot->get_header_value("x-request-id").empty());
  auto missing = client->Get("/items/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(pre.load(), 3);
  EXPECT_EQ(post.load(), 3);
  EXPECT_TRUE(span_current_in_hooks.load());
  const auto head_span = server_span("HEAD /items/{id}");
  ASSERT_TRUE(head_span);
  EXPECT_EQ(str_attr(*head_span, "http.route"), "/items/{id}");
  wait_spans(3);
  for (const auto& span : spans_->spans()) {
    if (str_attr(span, "url.path") == "/items/missing") {
      EXPECT_EQ(int_attr(span, "http.response.status_code"), 404);
      EXPECT_EQ(span.status, obs::SpanStatus::Unset);  // mapped to a 4xx: not a server error
      ASSERT_EQ(span.events.size(), 1u);               // but the exception is on record
    }
  }
}

// --- route() ----------------------------------------------------------------------

TEST(HttpRoute, TemplatesMatchLiterallyExceptParameters) {
  httplib::Server server;
  obs::http::route(server, "GET", "/v1.0/files/{name}.json", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.matches[1].str(), "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  httplib::Client client("127.0.0.1", port);
  auto ok = client.Get("/v1.0/files/report.json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "report");
  EXPECT_EQ(client.Get("/v1x0/files/report.json")->status, 404);  // '.' is not a wildcard
  EXPECT_EQ(client.Get("/v1.0/files/a/b.json")->status, 404);     // a parameter is one segment
  server.stop();
  t.join();
}

TEST(HttpRoute, RejectsUnroutableMethodsAndMalformedTemplates) {
  httplib::Server server;
  auto h = [](const httplib::Request&, httplib::Response&) {};
  EXPECT_THROW(obs::http::route(server, "TRACE", "/x", h), std::invalid_argument);
  EXPECT_THROW(obs::http::route(server, "get", "/x", h), std::invalid_argument);
  EXPECT_THROW(obs::http::route(server, "GET", "", h), std::invalid_argument);
  EXPECT_THROW(obs::http::route(server, "GET", "/users/{id", h), std::invalid_argument);
  EXPECT_THROW(obs::http::route(server, "GET", "/users/{}", h), std::invalid_argument);
  EXPECT_THROW(obs::http::route(server, "GET", "/users/id}", h), std::invalid_argument);
  EXPECT_THROW(obs::http::route(server, "GET", "/users/{a/b}", h), std::invalid_argument);
  EXPECT_THROW(obs::http::route(server, "GET", "/x", nullptr), std::invalid_argument);
  EXPECT_NO_THROW(obs::http::route(server, "DELETE", "/users/{id}", h));
}

// --- admin endpoints ------------------------------------------------------------------

TEST_F(HttpTest, HttpAdminEndpointsMountedOnTheApplicationServer) {
  TestServer s;
  obs::http::mount_admin_endpoints(s.server);
  obs::http::route(s.server, "GET", "/work", [](const httplib::Request&, httplib::Response&) {});
  s.start();
  auto client = s.client();
  ASSERT_EQ(client->Get("/work")->status, 200);
  const auto scrapes_before = duration_count("GET", "/metrics", "200");

  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(
      metrics->body.find("http_server_request_duration_seconds_count{http_request_method=\"GET\",url_scheme=\"http\",http_route=\"/work\","
                         "http_response_status_code=\"200\"," + obs_test::kScopeLabels + "}"),
      std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("# TYPE http_server_active_requests gauge"), std::string::npos);

  auto health = client->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(health->body)["status"], "ok");

  auto ready = client->Get("/health/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(nlohmann::json::parse(ready->body)["status"], "ready");
  obs::health::add_readiness_check("http_test_db", [] { return obs::health::CheckResult(false, "down"); });
  auto not_ready = client->Get("/health/ready");
  obs::health::remove_readiness_check("http_test_db");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  const auto j = nlohmann::json::parse(not_ready->body);
  EXPECT_EQ(j["status"], "not_ready");
  EXPECT_EQ(j["failing"], (nlohmann::json{"http_test_db"}));

  // Counted in the metrics like any route, but no span and no request id.
  EXPECT_EQ(duration_count("GET", "/metrics", "200"), scrapes_before + 1);
  EXPECT_EQ(duration_count("GET", "/health/ready", "503", "503") >= 1, true);  // a 5xx without an exception: its status
  EXPECT_FALSE(metrics->has_header("x-request-id"));
  const auto all = wait_spans(1);
  ASSERT_TRUE(sdk_.flush());
  for (const auto& span : spans_->spans()) EXPECT_EQ(span.name, "GET /work");
}

// The admin server started by obs::init and the mounted endpoints answer
// /health with the same JSON.
TEST(HttpAdmin, MountedHealthMatchesTheSdkAdminServer) {
  auto sdk = obs::init(obs::Config()
                           .service("http_admin_test")
                           .env("staging")
                           .console(false)
                           .with_prometheus(true)
                           .admin(true)
                           .admin_address("127.0.0.1", 0));
  ASSERT_TRUE(sdk.ok());
  TestServer s;
  obs::http::mount_admin_endpoints(s.server);
  s.start();
  auto mounted = s.client()->Get("/health");
  httplib::Client admin("127.0.0.1", sdk.admin_port());
  auto original = admin.Get("/health");
  ASSERT_TRUE(mounted && original);
  const auto a = nlohmann::json::parse(mounted->body);
  const auto b = nlohmann::json::parse(original->body);
  EXPECT_EQ(a["service"], "http_admin_test");
  EXPECT_EQ(a["environment"], "staging");
  for (const auto* key : {"status", "service", "version", "environment", "sdk"}) EXPECT_EQ(a[key], b[key]) << key;
  EXPECT_TRUE(a.contains("uptime_seconds"));
  sdk.shutdown();
  // Without a running SDK: still live, with what obs knows.
  auto after = s.client()->Get("/health");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(nlohmann::json::parse(after->body)["status"], "ok");
}

// An application that serves everything on its own port, with the SDK's
// admin server off, still gets the service's identity on /health.
TEST(HttpAdmin, MountedHealthNamesTheServiceWithoutTheAdminServer) {
  auto sdk = obs::init(obs::Config().service("own_port_svc").console(false).admin(false));
  ASSERT_TRUE(sdk.ok());
  TestServer s;
  obs::http::mount_admin_endpoints(s.server);
  s.start();
  auto health = s.client()->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(nlohmann::json::parse(health->body)["service"], "own_port_svc");
}

// --- client side ------------------------------------------------------------------------

TEST_F(HttpTest, HttpClientCallRecordsFailuresAnd4xxAsErrors) {
  TestServer s;
  obs::http::route(s.server, "GET", "/missing",
                   [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  s.start();
  // A port nothing listens on: bind a socket without listening, note its port.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(probe, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int closed_port = ntohs(addr.sin_port);
  ASSERT_GT(closed_port, 0);
  const std::string closed = std::to_string(closed_port);
  const Labels refused{{"http.request.method", "GET"},
                       {"server.address", "127.0.0.1"},
                       {"server.port", closed},
                       {"http.response.status_code", ""},
                       {"error.type", "Connection"}};
  const auto refused_before = metrics_->histogram("http.client.request.duration", refused);
  {
    httplib::Client client("127.0.0.1", closed_port);
    client.set_connection_timeout(5, 0);
    obs::http::ClientCall call("GET", "127.0.0.1", closed_port, "/x?token=secret");
    httplib::Headers headers;
    call.inject(headers);
    auto r = client.Get("/x?token=secret", headers);
    EXPECT_FALSE(r);
    call.finish(r);
  }
  {
    auto client = s.client();
    obs::http::ClientCall call("GET", "127.0.0.1", s.port, "/missing");
    httplib::Headers headers;
    call.inject(headers);
    call.finish(client->Get("/missing", headers));
  }
  { obs::http::ClientCall forgotten("PURGE", "127.0.0.1", s.port); }
  ::close(probe);
  const auto all = wait_spans(4);  // 3 client spans, 1 server span
  std::vector<SpanData> clients;
  for (const auto& span : all)
    if (span.kind == SpanKind::Client) clients.push_back(span);
  ASSERT_EQ(clients.size(), 3u);
  for (const auto& span : clients) EXPECT_EQ(span.status, obs::SpanStatus::Error) << span.name;
  EXPECT_EQ(str_attr(clients[0], "error.type"), "Connection");
  EXPECT_EQ(str_attr(clients[0], "url.full"), "http://127.0.0.1:" + closed + "/x");  // no query string
  EXPECT_EQ(attribute(clients[0], "http.response.status_code"), nullptr);
  EXPECT_EQ(str_attr(clients[1], "error.type"), "404");
  EXPECT_EQ(int_attr(clients[1], "http.response.status_code"), 404);
  EXPECT_EQ(clients[2].name, "HTTP");
  EXPECT_EQ(str_attr(clients[2], "http.request.method"), "_OTHER");
  EXPECT_EQ(str_attr(clients[2], "http.request.method_original"), "PURGE");
  EXPECT_EQ(str_attr(clients[2], "error.type"), "_OTHER");

  const auto refused_after = metrics_->histogram("http.client.request.duration", refused);
  ASSERT_TRUE(refused_after);
  EXPECT_EQ(refused_after->first, (refused_before ? refused_before->first : 0) + 1);
  const auto not_found =
      metrics_->histogram("http.client.request.duration", {{"http.request.method", "GET"},
                                                                   {"server.address", "127.0.0.1"},
                                                                   {"server.port", std::to_string(s.port)},
                                                                   {"http.response.status_code", "404"},
                                                                   {"error.type", "404"}});
  ASSERT_TRUE(not_found);
  EXPECT_EQ(not_found->first, 1u);
}

TEST_F(HttpTest, HttpOutgoingHeadersCarryTheCurrentContext) {
  EXPECT_TRUE(obs::http::outgoing_headers().empty());  // nothing current: nothing to send
  obs::Context ctx;
  ctx.request_id = "abc-123";
  ctx.baggage = {{"tenant", "acme"}};
  obs::ContextScope scope(ctx);
  obs::Span span("work");
  const auto headers = obs::http::outgoing_headers();
  std::map<std::string, std::string> h(headers.begin(), headers.end());
  EXPECT_EQ(h["traceparent"], obs::propagation::format_traceparent(span.context()));
  EXPECT_EQ(h["x-request-id"], "abc-123");
  EXPECT_EQ(h["baggage"], "tenant=acme");
  httplib::Headers existing{{"x-request-id", "old"}, {"Accept", "text/plain"}};
  obs::http::add_headers(existing, headers);
  EXPECT_EQ(existing.count("x-request-id"), 1u);
  EXPECT_EQ(existing.find("x-request-id")->second, "abc-123");
  EXPECT_EQ(existing.count("Accept"), 1u);
}

}  // namespace

namespace {

// The duration is observed while the request's span is current, so the
// histogram's exemplar links the latency bucket to this request's trace.
TEST_F(HttpTest, HttpServerDurationExemplarNamesTheRequestsSpan) {
  TestServer s;
  obs::http::instrument(s.server);
  obs::http::route(s.server, "GET", "/exemplar", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  s.start();
  auto res = s.client()->Get("/exemplar");
  ASSERT_TRUE(res);
  const auto span = server_span("GET /exemplar");
  ASSERT_TRUE(span);
  bool linked = false;
  for (const auto& f : metrics_->snapshot().families) {
    if (f.name != "http.server.request.duration") continue;
    for (const auto& series : f.series)
      for (const auto& e : series.histogram.exemplars)
        linked = linked || (e && e->trace_id == span->context.trace_id && e->span_id == span->context.span_id);
  }
  EXPECT_TRUE(linked);
}

}  // namespace
