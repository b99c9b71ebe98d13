// Datadog export end to end through obs::init: logs to a real HTTP receiver
// checked against the documented intake format (headers, gzip, JSON schema,
// batch limits, truncation, log/trace correlation, retries), series to a
// real VictoriaMetrics read back through its export API, DogStatsD to a
// real UDP socket, and a grep for the API key in everything the SDK says.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backends/datadog/datadog_encoder.hpp"
#include "obs/backends/memory.hpp"
#include "obs/obs.hpp"
#include "support/errors.hpp"
#include "support/http_receiver.hpp"
#include "victoria_metrics.hpp"
#include "support/numbered.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using obs_test::HttpReceiver;
using obs_test::ScriptedAnswer;
using obs_test::Errors;

// Shaped like a real key (32 hex digits), so nothing mistakes it for text.
constexpr const char* kApiKey = "0123456789abcdef0123456789abcdef";

obs::Config quiet(Errors& errors) {
  return obs::Config()
      .service("dd-export-test")
      .env("test")
      .service_version("9.9.9")
      .console(false)
      .with_prometheus(false)
      .admin(false)
      .on_error(errors.handler());
}

obs::DatadogOptions logs_to(const HttpReceiver& r) {
  obs::DatadogOptions o;
  o.api_key = kApiKey;
  o.logs_url = r.url() + "/api/v2/logs";
  o.metrics = obs::DatadogMetrics::Off;
  o.tags = {"team:obs"};
  o.hostname = "test-host";
  o.schedule_delay = 20ms;
  o.initial_backoff = 10ms;
  o.max_backoff = 20ms;
  return o;
}

// All entries of all requests to the logs intake, in order.
std::vector<json> entries(const HttpReceiver& r) {
  std::vector<json> out;
  for (const auto& req : r.requests("/api/v2/logs")) {
    const auto a = json::parse(req.body);
    for (const auto& e : a) out.push_back(e);
  }
  return out;
}

double exporter_counter(const std::string& family, const std::string& signal, const std::string& backend) {
  for (const auto& f : obs::MetricsRegistry::global().snapshot().families)
    if (f.name == family)
      for (const auto& s : f.series)
        if (s.label_values.size() == 2 && s.label_values[0] == signal && s.label_values[1] == backend) return s.value;
  return 0;
}

std::string low64_decimal(const std::string& hex) { return std::to_string(std::stoull(hex.substr(hex.size() - 16), nullptr, 16)); }

TEST(DatadogLogs, IntakeFormatHeadersAndCorrelation) {
  HttpReceiver receiver;
  receiver.set_default({202, "{}", "application/json", ""});
  receiver.start();
  Errors errors;
  const double exported_before = exporter_counter("obs_exporter_exported", "logs", "datadog");
  std::string trace_hex, span_hex;
  {
    auto sdk = obs::init(quiet(errors).with_datadog(logs_to(receiver)));
    ASSERT_TRUE(sdk.ok()) << sdk.errors().front();
    std::thread([&] {
      obs::log::info("user signed in", {{"user_id", 42}, {"status", "paid"}, {"premium", true}, {"ratio", 0.5}});
      obs::Span span("checkout");
      trace_hex = span.context().trace_id.hex();
      span_hex = span.context().span_id.hex();
      obs::log::warning("card declined");
    }).join();
    ASSERT_TRUE(sdk.flush(10s));
  }
  const auto requests = receiver.requests("/api/v2/logs");
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests) {
    EXPECT_EQ(r.header("DD-API-KEY"), kApiKey);
    EXPECT_EQ(r.content_encoding, "gzip");
    EXPECT_TRUE(r.gunzip_ok);
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_TRUE(json::parse(r.body).is_array());
  }
  const auto all = entries(receiver);
  ASSERT_EQ(all.size(), 2u);
  const auto& a = all[0];
  EXPECT_EQ(a["message"], "user signed in");
  EXPECT_EQ(a["status"], "info");
  EXPECT_EQ(a["service"], "dd-export-test");
  EXPECT_EQ(a["ddsource"], "cpp");
  EXPECT_EQ(a["ddtags"], "env:test,service:dd-export-test,version:9.9.9,team:obs");
  EXPECT_EQ(a["hostname"], "test-host");
  EXPECT_EQ(a["user_id"], 42);
  EXPECT_EQ(a["field.status"], "paid");
  EXPECT_EQ(a["premium"], true);
  EXPECT_EQ(a["ratio"], 0.5);
  EXPECT_FALSE(a.contains("dd"));
  const auto& b = all[1];
  EXPECT_EQ(b["status"], "warning");
  ASSERT_TRUE(b.contains("dd"));
  EXPECT_EQ(b["dd"]["trace_id"], low64_decimal(trace_hex));
  EXPECT_EQ(b["dd"]["span_id"], low64_decimal(span_hex));
  EXPECT_EQ(exporter_counter("obs_exporter_exported", "logs", "datadog") - exported_before, 2);
}

TEST(DatadogLogs, BatchesRespectTheIntakeLimits) {
  HttpReceiver receiver;
  receiver.set_default({202, "{}", "application/json", ""});
  receiver.start();
  Errors errors;
  auto options = logs_to(receiver);
  options.max_queue_size = 10000;
  options.schedule_delay = 200ms;
  {
    auto sdk = obs::init(quiet(errors).with_datadog(options));
    ASSERT_TRUE(sdk.ok());
    for (int i = 0; i < 2500; ++i) obs::log::info("small", {{"i", i}});
    ASSERT_TRUE(sdk.flush(30s));
    // The facade caps a message at 64 KiB and a field value at 16 KiB:
    // 200 records of 60 kB are 12 MB, more than two requests may hold.
    const std::string big(60000, 'b');
    for (int i = 0; i < 200; ++i) obs::log::info(big, {{"big", i}});
    // 64 fields of 16 KiB: one record over the 1 MB entry limit.
    const std::string v(16384, 'v');
    obs::log::error("huge record", {{"f0", v}, {"f1", v}, {"f2", v}, {"f3", v}, {"f4", v}, {"f5", v}, {"f6", v}, {"f7", v}, {"f8", v}, {"f9", v}, {"f10", v}, {"f11", v}, {"f12", v}, {"f13", v}, {"f14", v}, {"f15", v}, {"f16", v}, {"f17", v}, {"f18", v}, {"f19", v}, {"f20", v}, {"f21", v}, {"f22", v}, {"f23", v}, {"f24", v}, {"f25", v}, {"f26", v}, {"f27", v}, {"f28", v}, {"f29", v}, {"f30", v}, {"f31", v}, {"f32", v}, {"f33", v}, {"f34", v}, {"f35", v}, {"f36", v}, {"f37", v}, {"f38", v}, {"f39", v}, {"f40", v}, {"f41", v}, {"f42", v}, {"f43", v}, {"f44", v}, {"f45", v}, {"f46", v}, {"f47", v}, {"f48", v}, {"f49", v}, {"f50", v}, {"f51", v}, {"f52", v}, {"f53", v}, {"f54", v}, {"f55", v}, {"f56", v}, {"f57", v}, {"f58", v}, {"f59", v}, {"f60", v}, {"f61", v}, {"f62", v}, {"huge", true}});
    ASSERT_TRUE(sdk.flush(30s));
  }
  std::size_t small = 0, big = 0, huge = 0, requests_with_big = 0;
  for (const auto& r : receiver.requests("/api/v2/logs")) {
    EXPECT_LE(r.body.size(), 5000000u);
    const auto a = json::parse(r.body);
    EXPECT_LE(a.size(), 1000u);
    bool has_big = false;
    for (const auto& e : a) {
      EXPECT_LE(e.dump().size(), 1000000u);
      if (e.contains("i")) ++small;
      if (e.contains("big")) {
        ++big;
        has_big = true;
        EXPECT_EQ(std::string(e["message"]).size(), 60000u);
        EXPECT_FALSE(e.contains("obs.truncated"));
      }
      if (e.contains("huge")) {
        ++huge;
        EXPECT_EQ(e["obs.truncated"], true);
        EXPECT_EQ(std::string(e["f0"]).size(), 1024 + obs::datadog::kTruncatedMarker.size());
        EXPECT_TRUE(std::string(e["f0"]).ends_with(obs::datadog::kTruncatedMarker));
      }
    }
    requests_with_big += has_big;
  }
  EXPECT_EQ(small, 2500u);
  EXPECT_EQ(big, 200u);
  EXPECT_GE(requests_with_big, 3u);
  EXPECT_EQ(huge, 1u);
  EXPECT_TRUE(errors.wait_for("truncated"));
}

TEST(DatadogLogs, ServerErrorsAreRetriedForbiddenIsNot) {
  HttpReceiver receiver;
  receiver.script("/api/v2/logs", {{503, "", "text/plain", ""}, {500, "", "text/plain", ""}});
  receiver.set_default({202, "{}", "application/json", ""});
  receiver.start();
  Errors errors;
  {
    auto sdk = obs::init(quiet(errors).with_datadog(logs_to(receiver)));
    obs::log::info("eventually delivered");
    ASSERT_TRUE(sdk.flush(20s));
    const auto r = receiver.requests("/api/v2/logs");
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].body, r[2].body);
    ASSERT_EQ(entries(receiver).size(), 3u);  // the same entry, three attempts

    receiver.script("/api/v2/logs",
                    {{403, R"({"errors":["Forbidden: API key )" + std::string(kApiKey) + R"( is not valid"]})",
                      "application/json", ""}});
    const double failed_before = exporter_counter("obs_exporter_failed", "logs", "datadog");
    obs::log::info("refused");
    sdk.flush(20s);
    EXPECT_EQ(receiver.requests("/api/v2/logs").size(), 4u) << "403 is not retried";
    EXPECT_EQ(exporter_counter("obs_exporter_failed", "logs", "datadog") - failed_before, 1);
  }
  ASSERT_TRUE(errors.wait_for("HTTP 403"));
  for (const auto& m : errors.all()) EXPECT_EQ(m.find(kApiKey), std::string::npos) << m;
}

// Everything the SDK says, under conditions that tempt it to repeat the
// key: a receiver echoing it, an invalid key value, a bad URL carrying it
// in the query, the logs, /health and /metrics.
TEST(DatadogApiKey, NeverAppearsInAnythingTheSdkSays) {
  HttpReceiver receiver;
  receiver.set_default({403, std::string("{\"errors\":[\"bad key ") + kApiKey + "\"]}", "application/json", ""});
  receiver.start();
  Errors errors;
  std::string said;
  // Exception texts of the factories.
  auto with_key = [&](std::string key, std::string url) {
    obs::DatadogOptions o;
    o.api_key = std::move(key);
    o.logs_url = std::move(url);
    o.metrics_url = o.logs_url;
    return o;
  };
  for (auto o : {with_key(std::string(kApiKey) + "\r\nX-Evil: 1", receiver.url() + "/api/v2/logs"),
                 with_key(kApiKey, "http://user:" + std::string(kApiKey) + "@127.0.0.1:1/api/v2/logs"),
                 with_key(kApiKey, "not a url " + std::string(kApiKey))}) {
    try {
      obs::make_datadog_log_backend(o);
      ADD_FAILURE() << "accepted a bad option";
    } catch (const std::exception& e) {
      said += std::string(e.what()) + "\n";
    }
    try {
      obs::make_datadog_metrics_backend(o, 1s);
      ADD_FAILURE() << "accepted a bad option";
    } catch (const std::exception& e) {
      said += std::string(e.what()) + "\n";
    }
  }
  // The key pasted as the site.
  {
    obs::DatadogOptions o;
    o.api_key = kApiKey;
    o.site = kApiKey;
    try {
      obs::make_datadog_log_backend(o);
      ADD_FAILURE() << "accepted the key as a site";
    } catch (const std::exception& e) {
      said += std::string(e.what()) + "\n";
    }
  }
  // The key pasted into a URL's path: the failures name the destination.
  {
    Errors path_errors;
    obs::DatadogOptions o;
    o.api_key = kApiKey;
    o.logs_url = "http://127.0.0.1:1/" + std::string(kApiKey) + "/api/v2/logs";
    o.metrics = obs::DatadogMetrics::Off;
    o.max_attempts = 1;
    auto sdk = obs::init(quiet(path_errors).with_datadog(o));
    obs::log::info("to nowhere");
    sdk.flush(10s);
    EXPECT_TRUE(path_errors.wait_for("no answer from"));
    for (const auto& m : path_errors.all()) said += m + "\n";
  }
  // Configuration from the environment, with the key in a bad URL's query.
  const std::map<std::string, std::string> vars{
      {"ENABLE_DATADOG", "true"},
      {"DD_API_KEY", kApiKey},
      {"OBS_DATADOG_METRICS_URL", "ftp://127.0.0.1/?api_key=" + std::string(kApiKey)},
      {"OBS_DATADOG_LOGS_URL", receiver.url() + "/api/v2/logs"},
      {"OTEL_SERVICE_NAME", "dd-key-test"},
      {"PROMETHEUS_PORT", "0"},
      {"OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"},
      {"OBS_LOG_FORMAT", "json"},
  };
  auto config = obs::Config::from_env([&](const char* n) {
    auto it = vars.find(n);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
  auto memory = std::make_shared<obs::MemoryLogBackend>();
  config.on_error(errors.handler()).add_log_backend(memory);
  config.datadog->initial_backoff = 10ms;
  config.datadog->schedule_delay = 10ms;
  config.metric_export_interval = 50ms;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  {
    auto sdk = obs::init(config);
    for (const auto& e : sdk.errors()) said += e + "\n";
    obs::log::info("hello", {{"k", "v"}});
    sdk.flush(10s);
    ASSERT_TRUE(errors.wait_for("HTTP 403"));
    httplib::Client admin("127.0.0.1", sdk.admin_port());
    for (const char* path : {"/health", "/health/ready", "/metrics"})
      if (auto res = admin.Get(path)) said += res->body + "\n";
      else ADD_FAILURE() << "no answer from " << path;
  }
  said += testing::internal::GetCapturedStdout();
  said += testing::internal::GetCapturedStderr();
  for (const auto& m : errors.all()) said += m + "\n";
  for (const auto& r : memory->records()) {
    said += r.message + "\n";
    for (const auto& f : r.fields) said += f.key + "=" + f.str + "\n";
  }
  EXPECT_NE(said.find("HTTP 403"), std::string::npos) << "the check saw the receiver's answer";
  EXPECT_NE(said.find("obs_exporter_failed"), std::string::npos) << "the check saw /metrics";
  EXPECT_NE(said.find("hello"), std::string::npos) << "the check saw the log lines";
  EXPECT_EQ(said.find(kApiKey), std::string::npos) << said;
  // Nor a recognisable part of it.
  EXPECT_EQ(said.find(std::string(kApiKey).substr(4, 16)), std::string::npos) << said;
}

TEST(DatadogConfig, MissingKeyIsOneClearErrorAndTheRestWorks) {
  const std::map<std::string, std::string> vars{{"ENABLE_DATADOG", "true"}, {"OTEL_SERVICE_NAME", "no-key"}};
  auto config = obs::Config::from_env([&](const char* n) {
    auto it = vars.find(n);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
  Errors errors;
  auto memory = std::make_shared<obs::MemoryLogBackend>();
  config.console(false).admin(false).on_error(errors.handler()).add_log_backend(memory);
  auto sdk = obs::init(config);
  ASSERT_EQ(sdk.errors().size(), 1u);
  EXPECT_NE(sdk.errors()[0].find("DD_API_KEY"), std::string::npos) << sdk.errors()[0];
  EXPECT_NE(sdk.errors()[0].find("logs and metrics"), std::string::npos) << sdk.errors()[0];
  obs::log::info("still logged");
  ASSERT_TRUE(memory->wait_for([](const auto& r) { return !r.empty(); }, 10s));
  EXPECT_EQ(memory->records()[0].message, "still logged");
}

// ---- series API against VictoriaMetrics ----

const json* find_series(const std::vector<json>& all, const std::string& name) {
  for (const auto& s : all)
    if (s["metric"]["__name__"] == name) return &s;
  return nullptr;
}

TEST(DatadogSeries, ReadBackFromVictoriaMetrics) {
  obs_test::VictoriaMetrics vm;
  Errors errors;
  obs::DatadogOptions o;
  o.api_key = kApiKey;
  o.metrics_url = vm.url() + "/datadog/api/v1/series";
  o.logs = false;
  o.tags = {"team:obs"};
  o.hostname = "test-host";
  auto config = quiet(errors).with_datadog(o);
  config.metric_export_interval = 1h;  // only the flushes below export
  const std::vector<std::string> names{"dd_vm_jobs", "dd_vm_queue_depth", "dd_vm_duration_seconds.count",
                                       "dd_vm_duration_seconds.avg", "dd_vm_duration_seconds.max",
                                       "dd_vm_duration_seconds.median", "dd_vm_duration_seconds.95percentile"};
  {
    auto sdk = obs::init(config);
    ASSERT_TRUE(sdk.ok()) << sdk.errors().front();
    const auto jobs = obs::counter("dd_vm_jobs", {"queue"}).labels("images");
    const auto depth = obs::gauge("dd_vm_queue_depth");
    obs::MetricOptions buckets;
    buckets.buckets = {0.25, 0.5, 1};
    const auto duration = obs::histogram("dd_vm_duration_seconds", {"route"}, buckets).labels("/convert");
    jobs.inc(3);
    depth.labels().set(7);
    for (double v : {0.1, 0.2, 0.3, 0.4}) duration.observe(v);
    ASSERT_TRUE(sdk.flush(20s));
    // A second interval: counts are deltas (second-resolution timestamps,
    // so the second point must fall in a later second to be its own sample).
    const auto first = std::chrono::system_clock::now();
    while (std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) ==
           std::chrono::floor<std::chrono::seconds>(first))
      std::this_thread::sleep_for(20ms);
    jobs.inc(2);
    ASSERT_TRUE(sdk.flush(20s));
  }
  std::vector<json> all;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  auto complete = [&] {
    for (const auto& n : names)
      if (!find_series(all, n)) return false;
    return (*find_series(all, "dd_vm_jobs"))["values"].size() >= 2;
  };
  while (std::chrono::steady_clock::now() < deadline) {
    all = vm.export_series(R"({__name__=~"dd_vm_.*"})");
    if (complete()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(complete()) << "VictoriaMetrics has: " << json(all).dump();
  for (const auto& n : names) {
    const auto& labels = (*find_series(all, n))["metric"];
    EXPECT_EQ(labels["env"], "test") << n;
    EXPECT_EQ(labels["service"], "dd-export-test") << n;
    EXPECT_EQ(labels["version"], "9.9.9") << n;
    EXPECT_EQ(labels["team"], "obs") << n;
    EXPECT_EQ(labels["host"], "test-host") << n;
  }
  const auto& jobs = *find_series(all, "dd_vm_jobs");
  EXPECT_EQ(jobs["metric"]["queue"], "images");
  // Counts are per interval: 3, then 2, then a 0 at shutdown (which may
  // share the second flush's timestamp, so its order is not fixed).
  EXPECT_EQ(jobs["values"][0], 3);
  std::multiset<double> later;
  for (std::size_t i = 1; i < jobs["values"].size(); ++i) later.insert(jobs["values"][i].get<double>());
  EXPECT_EQ(later, (std::multiset<double>{0, 2}));
  EXPECT_EQ((*find_series(all, "dd_vm_queue_depth"))["values"][0], 7);
  const auto value = [&](const std::string& n) { return (*find_series(all, n))["values"][0].get<double>(); };
  EXPECT_EQ((*find_series(all, "dd_vm_duration_seconds.avg"))["metric"]["route"], "/convert");
  EXPECT_DOUBLE_EQ(value("dd_vm_duration_seconds.count"), 4);
  EXPECT_DOUBLE_EQ(value("dd_vm_duration_seconds.avg"), 0.25);
  EXPECT_DOUBLE_EQ(value("dd_vm_duration_seconds.max"), 0.5);
  EXPECT_DOUBLE_EQ(value("dd_vm_duration_seconds.median"), 0.25);
  EXPECT_DOUBLE_EQ(value("dd_vm_duration_seconds.95percentile"), 0.475);
  for (const auto& m : errors.all()) ADD_FAILURE() << "unexpected error: " << m;
}

// ---- DogStatsD over UDP ----

class UdpSocket {
 public:
  UdpSocket() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot bind a UDP socket");
    port_ = ntohs(a.sin_port);
  }
  ~UdpSocket() { ::close(fd_); }
  std::uint16_t port() const { return port_; }
  // The next datagram, or nullopt after `wait` without one.
  std::optional<std::string> receive(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return std::nullopt;
    char buf[65536];
    const auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

TEST(DogStatsd, DatagramsInTheAgentsFormatPackedToTheLimit) {
  UdpSocket agent;
  Errors errors;
  obs::DatadogOptions o;  // no API key: DogStatsD does not need one
  o.logs = false;
  o.metrics = obs::DatadogMetrics::DogStatsd;
  o.dogstatsd.host = "127.0.0.1";
  o.dogstatsd.port = agent.port();
  o.dogstatsd.max_packet_size = 512;
  o.tags = {"team:obs"};
  auto config = quiet(errors).with_datadog(o);
  config.metric_export_interval = 1h;
  {
    auto sdk = obs::init(config);
    ASSERT_TRUE(sdk.ok()) << sdk.errors().front();
    const auto jobs = obs::counter("dsd_jobs", {"queue"});
    for (int i = 0; i < 40; ++i) jobs.labels(obs_test::numbered("q", i)).inc(i + 1);
    obs::MetricOptions buckets;
    buckets.buckets = {0.25, 0.5, 1};
    const auto duration = obs::histogram("dsd_duration_seconds", {}, buckets).labels();
    for (double v : {0.1, 0.2, 0.3, 0.4}) duration.observe(v);
    ASSERT_TRUE(sdk.flush(10s));
  }
  // The flush sent everything before returning; the socket holds it.
  std::map<std::string, std::string> lines;  // name + queue tag -> line
  const std::regex line_format(R"(^([A-Za-z_][A-Za-z0-9_.]*):(-?[0-9.e+-]+)\|(c|g)\|#(.+)$)");
  std::size_t multi_line = 0;
  const std::size_t expected = 40 + 5;  // counters, histogram aggregates
  while (lines.size() < expected) {
    const auto d = agent.receive(10s);
    ASSERT_TRUE(d) << "got " << lines.size() << " of " << expected << " lines";
    EXPECT_LE(d->size(), 512u);
    multi_line += d->find('\n') != std::string::npos;
    std::size_t start = 0;
    while (start <= d->size()) {
      const auto end = std::min(d->find('\n', start), d->size());
      const std::string line = d->substr(start, end - start);
      start = end + 1;
      std::smatch m;
      ASSERT_TRUE(std::regex_match(line, m, line_format)) << line;
      const std::string tags = m[4];
      EXPECT_TRUE(tags.starts_with("env:test,service:dd-export-test,version:9.9.9,team:obs")) << line;
      std::string key = m[1];
      if (auto q = tags.find("queue:"); q != std::string::npos) key += "/" + tags.substr(q + 6);
      if (key.starts_with("dsd_")) lines.emplace(key, line);  // the flush's; shutdown sends zero deltas after it
    }
  }
  EXPECT_GT(multi_line, 0u) << "lines are packed several to a datagram";
  for (int i = 0; i < 40; ++i) {
    const auto it = lines.find("dsd_jobs/q" + std::to_string(i));
    ASSERT_NE(it, lines.end()) << i;
    EXPECT_TRUE(it->second.starts_with("dsd_jobs:" + std::to_string(i + 1) + "|c|#")) << it->second;
  }
  EXPECT_TRUE(lines["dsd_duration_seconds.count"].starts_with("dsd_duration_seconds.count:4|c|"));
  EXPECT_TRUE(lines["dsd_duration_seconds.avg"].starts_with("dsd_duration_seconds.avg:0.25|g|"));
  EXPECT_TRUE(lines["dsd_duration_seconds.max"].starts_with("dsd_duration_seconds.max:0.5|g|"));
  EXPECT_TRUE(lines["dsd_duration_seconds.median"].starts_with("dsd_duration_seconds.median:0.25|g|"));
  EXPECT_TRUE(lines["dsd_duration_seconds.95percentile"].starts_with("dsd_duration_seconds.95percentile:0.475|g|"));
  for (const auto& m : errors.all()) ADD_FAILURE() << "unexpected error: " << m;
}

TEST(DogStatsd, AgentByNameIsLookedUpInTheBackground) {
  UdpSocket agent;
  Errors errors;
  obs::DatadogOptions o;
  o.logs = false;
  o.metrics = obs::DatadogMetrics::DogStatsd;
  o.dogstatsd.host = "localhost";  // a name: looked up off the caller's thread, IPv4 first
  o.dogstatsd.port = agent.port();
  auto config = quiet(errors).with_datadog(o);
  config.metric_export_interval = 1h;
  auto sdk = obs::init(config);
  ASSERT_TRUE(sdk.ok()) << sdk.errors().front();
  const auto by_name = obs::counter("dsd_by_name").labels();
  const double exported_before = exporter_counter("obs_exporter_exported", "metrics", "dogstatsd");
  // Until the lookup finishes, an interval's points count as failed: each
  // round adds 5 and flushes, until a round's 5 arrives.
  std::string got;
  for (int i = 0; i < 100 && got.find("dsd_by_name:5|c") == std::string::npos; ++i) {
    by_name.inc(5);
    sdk.flush(5s);
    while (auto d = agent.receive(100ms)) got += *d + "\n";
  }
  ASSERT_FALSE(got.empty()) << "no datagram after the lookup of localhost";
  EXPECT_NE(got.find("dsd_by_name:5|c|#env:test"), std::string::npos) << got;
  EXPECT_GT(exporter_counter("obs_exporter_exported", "metrics", "dogstatsd"), exported_before);
}

}  // namespace
