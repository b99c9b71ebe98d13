// The admin server's hardening: credentials on /metrics and /health/ready,
// methods, limits, and error bodies that say nothing about the process.
// Spoken over real HTTP: httplib::Client for well-formed requests, a raw
// socket for malformed, oversized and stalled ones.
#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "core/diagnostics.hpp"
#include "http/admin_auth.hpp"
#include "obs/obs.hpp"
#include "support/errors.hpp"
#include "support/config_from_map.hpp"
#include "support/prometheus_text.hpp"

namespace {

constexpr const char* kToken = "s3cret-token-0123456789";
constexpr const char* kWrongSameLength = "s3cret-token-0123456780";

obs::Config admin_config() {
  return obs::Config()
      .service("admin_server_test")
      .console(false)
      .with_prometheus(true)
      .admin(true)
      .admin_address("127.0.0.1", 0);
}

using obs_test::from;

std::string base64(std::string_view in) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += alphabet[(bits >> count) & 63];
    }
  }
  if (count > 0) out += alphabet[(bits << (6 - count)) & 63];
  while (out.size() % 4) out += '=';
  return out;
}

// Sends `request` as is on a new connection and returns everything the
// server sends until it closes the connection (or 30 s pass without data:
// then "TIMEOUT" is appended, which no assertion below accepts).
std::string exchange(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "SOCKET";
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "CONNECT";
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else {
      if (errno == EAGAIN || errno == EWOULDBLOCK) out += "TIMEOUT";
      break;  // ECONNRESET after an early close counts as closed
    }
  }
  ::close(fd);
  return out;
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

class AdminServerTest : public ::testing::Test {
 protected:
  void start(obs::Config config) {
    sdk_ = obs::init(std::move(config.on_error(errors_.handler())));
    ASSERT_TRUE(sdk_.ok()) << sdk_.errors().front();
    ASSERT_NE(sdk_.admin_port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", sdk_.admin_port());
    client_->set_read_timeout(10, 0);
  }
  void TearDown() override {
    obs::health::remove_readiness_check("leaky");
    sdk_.shutdown();
    obs::internal::set_error_handler(nullptr);
  }
  httplib::Result get(const std::string& path, const std::string& authorization = {}) {
    httplib::Headers headers;
    if (!authorization.empty()) headers.emplace("Authorization", authorization);
    return client_->Get(path.c_str(), headers);
  }
  // The server still answers a plain request.
  void expect_alive() {
    auto res = get("/health");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
  obs_test::Errors errors_;
  obs::Sdk sdk_;
  std::unique_ptr<httplib::Client> client_;
};

// --- credentials -------------------------------------------------------------

TEST_F(AdminServerTest, WithoutCredentialsConfiguredEverythingIsOpen) {
  start(admin_config());
  for (const char* path : {"/metrics", "/health", "/health/ready"}) {
    auto res = get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
  }
}

TEST_F(AdminServerTest, BearerTokenIsRequiredOnMetricsAndReadinessButNotOnLiveness) {
  start(admin_config().admin_bearer(kToken));
  for (const char* path : {"/metrics", "/health/ready"}) {
    auto res = get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer realm=\"obs\"") << path;
    EXPECT_EQ(res->body, "unauthorized\n") << path;
    EXPECT_EQ(res->body.find("process_"), std::string::npos);
  }
  auto health = get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(nlohmann::json::parse(health->body)["status"], "ok");

  auto metrics = get("/metrics", std::string("Bearer ") + kToken);
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("process_resident_memory_bytes "), std::string::npos);
  auto ready = get("/health/ready", std::string("bearer ") + kToken);  // the scheme is case-insensitive
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
}

TEST_F(AdminServerTest, WrongTokensAreRejected) {
  start(admin_config().admin_bearer(kToken));
  const std::string token = kToken;
  for (const std::string& authorization :
       {std::string("Bearer ") + kWrongSameLength, "Bearer " + token + "x", "Bearer " + token.substr(0, token.size() - 1),
        std::string("Bearer"), std::string("Bearer "), "Basic " + base64(token), "Token " + token, token}) {
    auto res = get("/metrics", authorization);
    ASSERT_TRUE(res) << authorization;
    EXPECT_EQ(res->status, 401) << authorization;
    EXPECT_EQ(res->body.find(kToken), std::string::npos);
  }
  for (const auto& m : errors_.all()) EXPECT_EQ(m.find(kToken), std::string::npos) << m;
}

TEST_F(AdminServerTest, BasicAuthIsAcceptedAndBothSchemesAreOfferedWhenBothAreConfigured) {
  start(admin_config().admin_basic("prometheus", "pa:ss word").admin_bearer(kToken));
  auto res = get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  std::vector<std::string> challenges;
  for (auto [it, end] = res->headers.equal_range("WWW-Authenticate"); it != end; ++it) challenges.push_back(it->second);
  EXPECT_EQ(challenges, (std::vector<std::string>{"Bearer realm=\"obs\"", "Basic realm=\"obs\", charset=\"UTF-8\""}));

  const auto basic = [&](std::string_view user_password) { return get("/metrics", "Basic " + base64(user_password)); };
  auto ok = basic("prometheus:pa:ss word");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  for (const char* wrong : {"prometheus:pa:ss wore", "prometheus:pa:ss word ", "prometheus", "Prometheus:pa:ss word"}) {
    auto r = basic(wrong);
    ASSERT_TRUE(r) << wrong;
    EXPECT_EQ(r->status, 401) << wrong;
  }
  auto not_base64 = get("/metrics", "Basic prometheus:pa:ss word");
  ASSERT_TRUE(not_base64);
  EXPECT_EQ(not_base64->status, 401);
  auto bearer = get("/metrics", std::string("Bearer ") + kToken);
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->status, 200);
}

TEST(AdminCredentials, ComparisonIsExactWhateverTheLengths) {
  using obs::internal::equal_constant_time;
  EXPECT_TRUE(equal_constant_time("abc", "abc"));
  EXPECT_FALSE(equal_constant_time("abd", "abc"));
  EXPECT_FALSE(equal_constant_time("ab", "abc"));
  EXPECT_FALSE(equal_constant_time("abcabc", "abc"));  // cyclic comparison must still see the length
  EXPECT_FALSE(equal_constant_time("", "abc"));
  EXPECT_FALSE(equal_constant_time("", ""));
}

TEST_F(AdminServerTest, CredentialsSetInCodeThatCannotBeUsedKeepTheServerClosed) {
  for (auto config : {admin_config().admin_bearer(""), admin_config().admin_bearer("two words"),
                      admin_config().admin_basic("", "pw"), admin_config().admin_basic("user", "")}) {
    obs_test::Errors errors;
    auto sdk = obs::init(std::move(config.on_error(errors.handler())));
    ASSERT_EQ(sdk.errors().size(), 1u);
    EXPECT_NE(sdk.errors()[0].find("the admin server is not started"), std::string::npos) << sdk.errors()[0];
    EXPECT_NE(sdk.errors()[0].find("Config::admin_"), std::string::npos) << sdk.errors()[0];
    EXPECT_EQ(sdk.admin_port(), 0);
  }
  obs::Config config = admin_config();
  config.admin_basic_auth = "no-colon";
  auto sdk = obs::init(std::move(config));
  ASSERT_EQ(sdk.errors().size(), 1u);
  EXPECT_EQ(sdk.errors()[0].find("no-colon"), std::string::npos) << sdk.errors()[0];
  EXPECT_EQ(sdk.admin_port(), 0);
}

// --- methods and paths --------------------------------------------------------

TEST_F(AdminServerTest, HeadIsAnsweredWithoutABodyAndWithTheLengthOfGet) {
  start(admin_config());
  // /health/ready without checks has a fixed body, so GET and HEAD can be compared.
  auto got = get("/health/ready");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200);
  const std::string head =
      exchange(sdk_.admin_port(), "HEAD /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(head), "HTTP/1.1 200 OK");
  EXPECT_NE(head.find("\r\nContent-Length: " + std::to_string(got->body.size()) + "\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");  // nothing after the headers
  const std::string metrics = exchange(sdk_.admin_port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(metrics), "HTTP/1.1 200 OK");
  EXPECT_EQ(metrics.substr(metrics.find("\r\n\r\n") + 4), "");
}

TEST_F(AdminServerTest, HeadNeedsTheCredentialToo) {
  start(admin_config().admin_bearer(kToken));
  const std::string head = exchange(sdk_.admin_port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(head), "HTTP/1.1 401 Unauthorized");
}

TEST_F(AdminServerTest, OtherMethodsGet405WithAllowAndUnknownPaths404) {
  start(admin_config().admin_bearer(kToken));
  for (const char* path : {"/metrics", "/health", "/health/ready"}) {
    const std::vector<std::function<httplib::Result()>> requests = {
        [&] { return client_->Post(path, "x", "text/plain"); }, [&] { return client_->Put(path, "x", "text/plain"); },
        [&] { return client_->Delete(path); }, [&] { return client_->Patch(path, "x", "text/plain"); },
        [&] { return client_->Options(path); }};
    for (const auto& request : requests) {
      auto res = request();
      ASSERT_TRUE(res) << path;
      EXPECT_EQ(res->status, 405) << path;
      EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD") << path;
      EXPECT_EQ(res->body, "method not allowed\n") << path;
    }
  }
  // A refused body is not read: the client is told not to reuse the connection.
  const std::string post = exchange(sdk_.admin_port(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(status_line(post), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(post.find("\r\nConnection: close\r\n"), std::string::npos) << post;
  const std::string trace = exchange(sdk_.admin_port(), "TRACE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(trace), "HTTP/1.1 405 Method Not Allowed");
  auto unknown = get("/metrics/x", std::string("Bearer ") + kToken);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto root = get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 404);
}

TEST_F(AdminServerTest, RefusedRequestsAreCountedByReason) {
  start(admin_config().admin_bearer(kToken));
  const auto refused = [&](const char* reason) {
    auto res = get("/metrics", std::string("Bearer ") + kToken);
    // Too many header fields and a declared body over the limit are refused
    // by the server, before the admin's checks.
    const std::string_view r = reason;
    const char* family = r == "too_many_headers" || r == "payload_too_large" ? "obs_http_server_refused_total"
                                                                              : "obs_admin_requests_refused_total";
    const std::string line = std::string(family) + "{reason=\"" + reason + "\"," + obs_test::kScopeLabels + "} ";
    const auto at = res ? res->body.find(line) : std::string::npos;
    return at == std::string::npos ? -1.0 : std::stod(res->body.substr(at + line.size()));
  };
  // Every reason is there from the start (counts may carry over from
  // other tests in this process: the registry is global).
  std::map<std::string, double> before;
  for (const char* reason : {"unauthorized", "method_not_allowed", "too_many_headers", "payload_too_large", "bad_request"}) {
    before[reason] = refused(reason);
    EXPECT_GE(before[reason], 0) << reason;
  }
  get("/metrics", "Bearer wrong");
  get("/health/ready");
  client_->Post("/metrics", "x", "text/plain");
  std::string many = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  for (int i = 0; i < 150; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  exchange(sdk_.admin_port(), many + "\r\n");
  exchange(sdk_.admin_port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n");
  exchange(sdk_.admin_port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
  EXPECT_EQ(refused("unauthorized") - before["unauthorized"], 2);
  EXPECT_EQ(refused("method_not_allowed") - before["method_not_allowed"], 1);
  EXPECT_EQ(refused("too_many_headers") - before["too_many_headers"], 1);
  EXPECT_EQ(refused("payload_too_large") - before["payload_too_large"], 1);
  EXPECT_EQ(refused("bad_request") - before["bad_request"], 1);
}

// --- what errors say ---------------------------------------------------------

TEST_F(AdminServerTest, AThrowingReadinessCheckDoesNotPutItsMessageInTheAnswer) {
  start(admin_config());
  obs::health::add_readiness_check("leaky", []() -> obs::health::CheckResult {
    throw std::runtime_error("connection to postgres://app:hunter2@db failed");
  });
  auto res = get("/health/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body.find("hunter2"), std::string::npos) << res->body;
  EXPECT_EQ(nlohmann::json::parse(res->body)["checks"]["leaky"]["status"], "error");
  // The operator still learns what happened, on the SDK's error output.
  EXPECT_TRUE(errors_.wait_for("readiness check 'leaky' threw: connection to postgres"));
}

// --- limits ------------------------------------------------------------------

TEST_F(AdminServerTest, AnOverlongHeaderLineIsRefusedAndTheServerKeepsAnswering) {
  start(admin_config());
  const std::string response = exchange(
      sdk_.admin_port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(status_line(response), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(response.find("process_"), std::string::npos);
  expect_alive();
}

TEST_F(AdminServerTest, TooManyHeadersGet431) {
  start(admin_config());
  std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  for (int i = 0; i < 150; ++i) request += "X-H" + std::to_string(i) + ": v\r\n";
  const std::string response = exchange(sdk_.admin_port(), request + "\r\n");
  EXPECT_EQ(status_line(response), "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(response.find("process_"), std::string::npos);
  expect_alive();
}

TEST_F(AdminServerTest, AnOverlongRequestLineGets414) {
  start(admin_config());
  const std::string response =
      exchange(sdk_.admin_port(), "GET /metrics?" + std::string(20000, 'q') + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(response), "HTTP/1.1 414 URI Too Long");
  expect_alive();
}

TEST_F(AdminServerTest, ADeclaredOversizedBodyGets413BeforeItIsRead) {
  start(admin_config().admin_bearer(kToken));
  // Declared only: the server must answer without waiting for 10 MB, and
  // tell the client not to reuse the connection (whose unread body would
  // be taken for the next request).
  const std::string response =
      exchange(sdk_.admin_port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
  EXPECT_EQ(status_line(response), "HTTP/1.1 413 Payload Too Large");
  const auto close = response.find("\r\nConnection: close\r\n");
  EXPECT_NE(close, std::string::npos) << response;
  EXPECT_EQ(close, response.rfind("\r\nConnection: close\r\n")) << response;  // once
  EXPECT_EQ(response.substr(response.find("\r\n\r\n") + 4), "payload too large\n");
  const std::string garbage =
      exchange(sdk_.admin_port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_line(garbage), "HTTP/1.1 400 Bad Request");
  expect_alive();
}

TEST_F(AdminServerTest, ASentOversizedBodyElsewhereGets413) {
  start(admin_config());
  auto res = client_->Post("/elsewhere", std::string(1 << 20, 'b'), "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  expect_alive();
}

TEST_F(AdminServerTest, AClientThatStallsMidRequestIsDisconnected) {
  start(admin_config());
  // Half a request, then silence: the server's read timeout (5 s) closes
  // the connection; exchange() gives up only after 30 s.
  const std::string response = exchange(sdk_.admin_port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n");
  EXPECT_EQ(response.find("TIMEOUT"), std::string::npos) << response;
  EXPECT_EQ(response.find("process_"), std::string::npos);
  expect_alive();
}

// --- environment -------------------------------------------------------------

TEST(AdminEnvironment, AddressDefaultsToAllInterfacesAndObsAdminAddressWins) {
  EXPECT_EQ(from({}).admin_bind_address, "0.0.0.0");
  EXPECT_EQ(from({{"OTEL_EXPORTER_PROMETHEUS_HOST", "10.0.0.1"}}).admin_bind_address, "10.0.0.1");
  EXPECT_EQ(from({{"OTEL_EXPORTER_PROMETHEUS_HOST", "10.0.0.1"}, {"OBS_ADMIN_ADDRESS", "127.0.0.1"}}).admin_bind_address,
            "127.0.0.1");
}

TEST(AdminEnvironment, CredentialsAreReadAndTrimmed) {
  const auto c = from({{"OBS_ADMIN_BEARER_TOKEN", " abc \n"}, {"OBS_ADMIN_BASIC_AUTH", "u:p w"}});
  EXPECT_TRUE(c.errors.empty());
  EXPECT_TRUE(c.admin_server);
  EXPECT_EQ(c.admin_bearer_token, "abc");
  EXPECT_EQ(c.admin_basic_auth, "u:p w");
  const auto none = from({});
  EXPECT_FALSE(none.admin_bearer_token);
  EXPECT_FALSE(none.admin_basic_auth);
}

TEST(AdminEnvironment, TokenFileIsReadWithoutItsTrailingNewline) {
  const std::string path = ::testing::TempDir() + "/obs_admin_token";
  std::ofstream(path) << "from-file\n";
  const auto c = from({{"OBS_ADMIN_BEARER_TOKEN_FILE", path}});
  std::remove(path.c_str());
  EXPECT_TRUE(c.errors.empty());
  EXPECT_EQ(c.admin_bearer_token, "from-file");
  EXPECT_TRUE(c.admin_server);
}

// Each bad setting: one message naming the variable, never the value, and
// the admin server off rather than open.
TEST(AdminEnvironment, UnusableCredentialsTurnTheServerOffWithOneMessage) {
  const std::string missing = ::testing::TempDir() + "/obs_admin_no_such_token";
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"OBS_ADMIN_BEARER_TOKEN", ""}}, "OBS_ADMIN_BEARER_TOKEN is empty"},
      {{{"OBS_ADMIN_BEARER_TOKEN", "  "}}, "OBS_ADMIN_BEARER_TOKEN is empty"},
      {{{"OBS_ADMIN_BEARER_TOKEN", "tok en"}}, "OBS_ADMIN_BEARER_TOKEN contains a space"},
      {{{"OBS_ADMIN_BASIC_AUTH", "userpassword"}}, "OBS_ADMIN_BASIC_AUTH is not user:password"},
      {{{"OBS_ADMIN_BASIC_AUTH", ""}}, "OBS_ADMIN_BASIC_AUTH is empty"},
      {{{"OBS_ADMIN_BASIC_AUTH", "user:"}}, "OBS_ADMIN_BASIC_AUTH has an empty password"},
      {{{"OBS_ADMIN_BEARER_TOKEN", "abc"}, {"OBS_ADMIN_BEARER_TOKEN_FILE", "/x"}}, "are both set"},
      {{{"OBS_ADMIN_BEARER_TOKEN_FILE", missing}}, "OBS_ADMIN_BEARER_TOKEN_FILE='" + missing + "' cannot be read"},
      {{{"OBS_ADMIN_BEARER_TOKEN_FILE", ""}}, "OBS_ADMIN_BEARER_TOKEN_FILE is empty"},
      {{{"OBS_ADMIN_BEARER_TOKEN_FILE", "/dev/null"}}, "OBS_ADMIN_BEARER_TOKEN_FILE's token is empty"},
  };
  for (const auto& [env, expected] : cases) {
    const auto c = from(env);
    ASSERT_EQ(c.errors.size(), 1u) << expected;
    EXPECT_NE(c.errors[0].find(expected), std::string::npos) << c.errors[0];
    EXPECT_NE(c.errors[0].find("the admin server is not started"), std::string::npos) << c.errors[0];
    for (const char* secret : {"userpassword", "tok en", "abc"}) EXPECT_EQ(c.errors[0].find(secret), std::string::npos);
    EXPECT_FALSE(c.admin_server) << expected;
  }
}

TEST(AdminEnvironment, InitWithABadCredentialVariableServesNoEndpointsAndReportsIt) {
  auto config = from({{"OBS_ADMIN_BASIC_AUTH", "nocolon"}, {"PROMETHEUS_PORT", "0"}});
  obs_test::Errors errors;
  auto sdk = obs::init(std::move(config.service("admin_env_test").console(false).on_error(errors.handler())));
  ASSERT_EQ(sdk.errors().size(), 1u);
  EXPECT_NE(sdk.errors()[0].find("OBS_ADMIN_BASIC_AUTH"), std::string::npos);
  EXPECT_EQ(sdk.admin_port(), 0);
  obs::internal::set_error_handler(nullptr);
}

}  // namespace
