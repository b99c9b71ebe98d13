// OTLP/HTTP export end to end: obs::init with the OTLP backends, a real
// cpp-httplib receiver in the test, every payload decoded (protoc for
// protobuf, nlohmann::json for JSON) and checked against what was emitted.
// Fault tests script the receiver: 503 then 200, 400, down under load,
// hanging; TLS and mutual TLS use a CA made by the test with openssl.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "export/http_transport.hpp"
#include "metrics/delta_tracker.hpp"
#include "support/errors.hpp"
#include "support/fork_in_tests.hpp"
#include "support/http_receiver.hpp"
#include "protoc_decode.hpp"
#include "obs/backends/memory_span.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/obs.hpp"
#include "obs/otlp.hpp"
#include "support/loopback_listener.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using obs_test::HttpReceiver;
using obs_test::ReceivedRequest;
using obs_test::ScriptedAnswer;
using obs_test::Errors;

constexpr const char* kSecret = "s3cr3t-t0ken-never-logged";

double counter(const std::string& family, const std::string& a, const std::string& b) {
  for (const auto& f : obs::MetricsRegistry::global().snapshot().families)
    if (f.name == family)
      for (const auto& s : f.series)
        if (s.label_values.size() == 2 && s.label_values[0] == a && s.label_values[1] == b) return s.value;
  return 0;
}

// Self-metrics of one signal's OTLP backend, as deltas from construction.
struct Accounting {
  std::string signal;
  double exported0 = counter("obs_exporter_exported", signal, "otlp");
  double failed0 = counter("obs_exporter_failed", signal, "otlp");
  double dropped0 = counter("obs_exporter_dropped", signal, "otlp_queue_full");
  double exported() const { return counter("obs_exporter_exported", signal, "otlp") - exported0; }
  double failed() const { return counter("obs_exporter_failed", signal, "otlp") - failed0; }
  double dropped() const { return counter("obs_exporter_dropped", signal, "otlp_queue_full") - dropped0; }
};

// Fast retries so fault tests take milliseconds, not the defaults' seconds.
obs::OtlpOptions fast(const std::string& endpoint) {
  obs::OtlpOptions o;
  o.endpoint = endpoint;
  o.initial_backoff = 5ms;
  o.max_backoff = 20ms;
  o.timeout = 2s;
  o.schedule_delay = 10ms;
  o.headers = {{"x-api-key", kSecret}, {"x-tenant", "team-a"}};
  return o;
}

obs::Config quiet(Errors& errors) {
  return obs::Config()
      .service("otlp-export-test")
      .env("test")
      .service_version("9.9.9")
      .console(false)
      .with_prometheus(false)
      .admin(false)
      .on_error(errors.handler());
}

// Spans are emitted on their own thread: the thread's current-span context
// starts clean whatever other tests did.
void emit_spans(int n, const std::string& prefix) {
  std::thread([&] {
    for (int i = 0; i < n; ++i) {
      obs::Span s(prefix + std::to_string(i), obs::SpanKind::Server, {{"i", i}, {"http.route", "/users/{id}"}});
      s.add_event("work", {{"step", "decode"}});
      if (i % 2) s.set_status(obs::SpanStatus::Error, "odd");
    }
  }).join();
}

std::vector<json> json_bodies(const std::vector<ReceivedRequest>& requests) {
  std::vector<json> out;
  for (const auto& r : requests) out.push_back(json::parse(r.body, nullptr, false));
  return out;
}

std::vector<json> json_spans(const std::vector<ReceivedRequest>& requests) {
  std::vector<json> spans;
  for (const auto& body : json_bodies(requests))
    for (const auto& rs : body["resourceSpans"])
      for (const auto& ss : rs["scopeSpans"])
        for (const auto& s : ss["spans"]) spans.push_back(s);
  return spans;
}

std::string attribute(const json& attributes, const std::string& key) {
  for (const auto& a : attributes)
    if (a["key"] == key) {
      const auto& v = a["value"];
      if (v.contains("stringValue")) return v["stringValue"];
      if (v.contains("intValue")) return v["intValue"];
      return v.dump();
    }
  return "<missing>";
}

bool has_header(const ReceivedRequest& r, const std::string& name, const std::string& value) {
  auto range = r.headers.equal_range(name);
  for (auto it = range.first; it != range.second; ++it)
    if (it->second == value) return true;
  return false;
}

TEST(OtlpExport, SpansAsProtobufArriveWithResourceHeadersAndEveryField) {
  HttpReceiver receiver;
  ASSERT_GT(receiver.start(), 0);
  Errors errors;
  Accounting acct{"spans"};
  auto config = quiet(errors);
  config.resource_attributes = {{"k8s.pod.name", "pod-1"}};
  config.otlp_traces = fast(receiver.url() + "/v1/traces");
  auto sdk = obs::init(config);
  ASSERT_TRUE(sdk.ok()) << sdk.errors().front();

  emit_spans(3, "GET /users/");
  ASSERT_TRUE(sdk.flush(10s));
  auto requests = receiver.requests("/v1/traces");
  ASSERT_FALSE(requests.empty());
  const auto& r = requests.front();
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  EXPECT_TRUE(has_header(r, "x-api-key", kSecret));
  EXPECT_TRUE(has_header(r, "x-tenant", "team-a"));
  EXPECT_NE(r.header("User-Agent"), "");

  std::string all;
  for (const auto& req : requests) {
    auto d = obs_test::protoc_decode("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                                     "opentelemetry/proto/collector/trace/v1/trace_service.proto", req.body);
    all += d.text;
  }
  obs_test::expect_lines_in_order(all, {"key: \"service.name\"", "string_value: \"otlp-export-test\"",
                                        "key: \"service.version\"", "string_value: \"9.9.9\"",
                                        "key: \"deployment.environment.name\"", "string_value: \"test\"",
                                        "key: \"k8s.pod.name\"", "string_value: \"pod-1\""});
  for (int i = 0; i < 3; ++i) {
    obs_test::expect_lines_in_order(all, {"name: \"GET /users/" + std::to_string(i) + "\"", "kind: SPAN_KIND_SERVER",
                                          "key: \"i\"", "int_value: " + std::to_string(i), "key: \"http.route\"",
                                          "string_value: \"/users/{id}\"", "name: \"work\""});
  }
  EXPECT_NE(all.find("code: STATUS_CODE_ERROR"), std::string::npos);
  EXPECT_NE(all.find("message: \"odd\""), std::string::npos);
  sdk.shutdown();
  EXPECT_EQ(acct.exported(), 3);
  EXPECT_EQ(acct.failed(), 0);
  EXPECT_EQ(acct.dropped(), 0);
  for (const auto& m : errors.all()) EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
}

TEST(OtlpExport, LogsAsGzippedJsonCarryEveryField) {
  HttpReceiver receiver;
  ASSERT_GT(receiver.start(), 0);
  Errors errors;
  Accounting acct{"logs"};
  auto options = fast(receiver.url() + "/v1/logs");
  options.protocol = obs::OtlpProtocol::HttpJson;
  options.gzip = true;
  auto config = quiet(errors);
  config.otlp_logs = options;
  auto sdk = obs::init(config);
  ASSERT_TRUE(sdk.ok());

  std::string trace_hex, span_hex;
  std::thread([&] {
    obs::Span span("handle");
    trace_hex = span.context().trace_id.hex();
    span_hex = span.context().span_id.hex();
    obs::log::warning("disk almost full", {{"free_mb", 12}, {"mount", "/var"}, {"ratio", 0.5}, {"ok", false}});
  }).join();
  obs::log::info("outside any span");
  ASSERT_TRUE(sdk.flush(10s));

  auto requests = receiver.requests("/v1/logs");
  ASSERT_FALSE(requests.empty());
  std::vector<json> records;
  for (const auto& r : requests) {
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.content_encoding, "gzip");
    EXPECT_TRUE(r.gunzip_ok);
    auto body = json::parse(r.body);
    for (const auto& rl : body["resourceLogs"]) {
      EXPECT_EQ(attribute(rl["resource"]["attributes"], "service.name"), "otlp-export-test");
      for (const auto& sl : rl["scopeLogs"]) {
        EXPECT_EQ(sl["scope"]["name"], "obs");
        for (const auto& rec : sl["logRecords"]) records.push_back(rec);
      }
    }
  }
  ASSERT_EQ(records.size(), 2u);
  const auto& w = records[0];
  EXPECT_EQ(w["body"]["stringValue"], "disk almost full");
  EXPECT_EQ(w["severityNumber"], 13);
  EXPECT_EQ(w["severityText"], "WARN");
  EXPECT_EQ(w["traceId"], trace_hex);
  EXPECT_EQ(w["spanId"], span_hex);
  EXPECT_EQ(attribute(w["attributes"], "free_mb"), "12");  // int64 as a string, per the JSON mapping
  EXPECT_EQ(attribute(w["attributes"], "mount"), "/var");
  EXPECT_TRUE(w["timeUnixNano"].is_string());
  const auto& i = records[1];
  EXPECT_EQ(i["body"]["stringValue"], "outside any span");
  EXPECT_EQ(i["severityNumber"], 9);
  EXPECT_FALSE(i.contains("traceId"));
  sdk.shutdown();
  EXPECT_EQ(acct.exported(), 2);
  EXPECT_EQ(acct.failed(), 0);
}

// Finds a metric's data points in OTLP JSON metrics requests.
std::vector<json> points(const json& body, const std::string& name, const char* kind) {
  std::vector<json> out;
  for (const auto& rm : body["resourceMetrics"])
    for (const auto& sm : rm["scopeMetrics"])
      for (const auto& m : sm["metrics"])
        if (m["name"] == name && m.contains(kind)) {
          for (auto p : m[kind]["dataPoints"]) {
            if (m[kind].contains("aggregationTemporality")) p["temporality"] = m[kind]["aggregationTemporality"];
            out.push_back(p);
          }
        }
  return out;
}

TEST(OtlpExport, MetricsCumulativeThenDeltaAcrossExports) {
  for (auto temporality : {obs::OtlpTemporality::Cumulative, obs::OtlpTemporality::Delta}) {
    SCOPED_TRACE(temporality == obs::OtlpTemporality::Delta ? "delta" : "cumulative");
    HttpReceiver receiver;
    ASSERT_GT(receiver.start(), 0);
    Errors errors;
    auto options = fast(receiver.url() + "/v1/metrics");
    options.protocol = obs::OtlpProtocol::HttpJson;
    options.temporality = temporality;
    auto config = quiet(errors);
    config.process_metrics = false;
    config.metric_export_interval = std::chrono::hours(1);  // exports happen on flush only
    config.otlp_metrics = options;
    auto sdk = obs::init(config);
    ASSERT_TRUE(sdk.ok());
    const std::string counter_name = temporality == obs::OtlpTemporality::Delta ? "otlp_test_delta_jobs" : "otlp_test_cum_jobs";
    const std::string hist_name = counter_name + "_seconds";
    const std::string depth_name = counter_name + ".depth";
    auto jobs = obs::MetricsRegistry::global().counter(counter_name, {"queue"});
    auto latency = obs::MetricsRegistry::global().histogram(hist_name, {}, {.buckets = {0.1, 1}});
    auto depth = obs::MetricsRegistry::global().up_down_counter(depth_name, {}, {.unit = "{job}"});
    jobs.labels("fast").inc(3);
    latency.labels().observe(0.05);
    latency.labels().observe(0.5);
    depth.labels().add(4);
    ASSERT_TRUE(sdk.flush(10s));
    jobs.labels("fast").inc(2);
    latency.labels().observe(5);
    depth.labels().dec();
    ASSERT_TRUE(sdk.flush(10s));
    sdk.shutdown();

    auto requests = receiver.requests("/v1/metrics");
    ASSERT_GE(requests.size(), 2u);
    auto first = json::parse(requests[0].body), second = json::parse(requests[1].body);
    auto c1 = points(first, counter_name, "sum"), c2 = points(second, counter_name, "sum");
    ASSERT_EQ(c1.size(), 1u);
    ASSERT_EQ(c2.size(), 1u);
    EXPECT_EQ(attribute(c1[0]["attributes"], "queue"), "fast");
    EXPECT_EQ(c1[0]["asInt"], "3");  // whole counts: integer points
    const bool delta = temporality == obs::OtlpTemporality::Delta;
    EXPECT_EQ(c2[0]["asInt"], delta ? "2" : "5");
    EXPECT_EQ(c2[0]["temporality"], delta ? 1 : 2);
    if (delta) EXPECT_EQ(c2[0]["startTimeUnixNano"], c1[0]["timeUnixNano"]);  // back to back intervals
    else EXPECT_EQ(c2[0]["startTimeUnixNano"], c1[0]["startTimeUnixNano"]);
    auto h2 = points(second, hist_name, "histogram");
    ASSERT_EQ(h2.size(), 1u);
    EXPECT_EQ(h2[0]["count"], delta ? "1" : "3");
    EXPECT_EQ(h2[0]["bucketCounts"], delta ? json({"0", "0", "1"}) : json({"1", "1", "1"}));
    EXPECT_EQ(h2[0]["explicitBounds"], json({0.1, 1.0}));
    if (delta) {  // extremes since the series began are not this interval's: left out
      EXPECT_FALSE(h2[0].contains("min"));
      EXPECT_FALSE(h2[0].contains("max"));
    } else {
      EXPECT_EQ(h2[0]["min"], 0.05);
      EXPECT_EQ(h2[0]["max"], 5.0);
    }
    // An up-down counter stays cumulative whatever the preference, as
    // OpenTelemetry's delta temporality preference says.
    auto d1 = points(first, depth_name, "sum"), d2 = points(second, depth_name, "sum");
    ASSERT_EQ(d2.size(), 1u);
    EXPECT_EQ(d2[0]["asInt"], "3");
    EXPECT_EQ(d2[0]["temporality"], 2);
    EXPECT_EQ(d2[0]["startTimeUnixNano"], d1.at(0)["startTimeUnixNano"]);
  }
}

TEST(OtlpExport, RetriesTransientFailuresAndDeliversOnce) {
  HttpReceiver receiver;
  ASSERT_GT(receiver.start(), 0);
  receiver.script("/v1/traces", {{503, "", "text/plain", ""}, {502, "", "text/plain", ""}, {200, "", "application/x-protobuf", ""}});
  Errors errors;
  Accounting acct{"spans"};
  auto config = quiet(errors);
  auto options = fast(receiver.url() + "/v1/traces");
  options.protocol = obs::OtlpProtocol::HttpJson;
  config.otlp_traces = options;
  auto sdk = obs::init(config);
  emit_spans(4, "retry-");
  ASSERT_TRUE(sdk.flush(10s));
  sdk.shutdown();
  auto requests = receiver.requests("/v1/traces");
  ASSERT_EQ(requests.size(), 3u);  // two failures, one success, nothing more
  EXPECT_EQ(requests[0].body, requests[2].body);  // the same batch, resent unchanged
  std::set<std::string> names;
  for (const auto& s : json_spans({requests[2]})) names.insert(s["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"retry-0", "retry-1", "retry-2", "retry-3"}));
  EXPECT_EQ(acct.exported(), 4);
  EXPECT_EQ(acct.failed(), 0);
}

TEST(OtlpExport, HonoursRetryAfter) {
  HttpReceiver receiver;
  ASSERT_GT(receiver.start(), 0);
  receiver.script("/v1/traces", {{429, "", "text/plain", "1"}});
  Errors errors;
  auto config = quiet(errors);
  config.otlp_traces = fast(receiver.url() + "/v1/traces");  // backoff alone would retry within 20 ms
  auto sdk = obs::init(config);
  emit_spans(1, "throttled-");
  ASSERT_TRUE(sdk.flush(10s));
  sdk.shutdown();
  auto requests = receiver.requests("/v1/traces");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(requests[1].at - requests[0].at, 1s);
}

TEST(OtlpExport, PermanentErrorIsNotRetriedAndReportedOnceWithoutSecrets) {
  HttpReceiver receiver;
  ASSERT_GT(receiver.start(), 0);
  // A receiver that echoes the request's token back must not leak it either.
  // The bearer token alone is echoed, after a long prefix and with a tab,
  // so neither cutting nor escaping the message may hide it from scrubbing.
  const std::string token = "tok-0123456789abcdef";
  receiver.set_default({400,
                        std::string("{\"code\":3,\"message\":\"bad key ") + kSecret + "\\tbad token " +
                            std::string(170, 'x') + token + "\"}",
                        "application/json", ""});
  Errors errors;
  Accounting acct{"spans"};
  auto config = quiet(errors);
  auto options = fast(receiver.url() + "/v1/traces?api_key=query-secret-value");
  options.headers.emplace_back("authorization", "Bearer " + token);
  config.otlp_traces = options;
  auto sdk = obs::init(config);
  emit_spans(2, "bad-");
  ASSERT_TRUE(sdk.flush(10s));
  emit_spans(2, "bad-again-");
  ASSERT_TRUE(sdk.flush(10s));
  sdk.shutdown();
  EXPECT_EQ(receiver.count("/v1/traces"), 2u);  // one request per batch, no retries
  EXPECT_EQ(acct.failed(), 4);
  EXPECT_EQ(acct.exported(), 0);
  EXPECT_EQ(errors.count("HTTP 400"), 1u);  // the second failure is the same problem: rate-limited
  EXPECT_EQ(errors.count("bad key ***"), 1u);
  for (const auto& m : errors.all()) {
    EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
    EXPECT_EQ(m.find("tok-0123"), std::string::npos) << m;
    EXPECT_EQ(m.find("query-secret"), std::string::npos) << m;
  }
}

TEST(OtlpExport, PartialSuccessCountsRejectedItemsAsFailed) {
  HttpReceiver receiver;
  ASSERT_GT(receiver.start(), 0);
  receiver.set_default({200, R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"span name too long"}})",
                        "application/json", ""});
  Errors errors;
  Accounting acct{"spans"};
  auto config = quiet(errors);
  auto options = fast(receiver.url() + "/v1/traces");
  options.protocol = obs::OtlpProtocol::HttpJson;
  config.otlp_traces = options;
  auto sdk = obs::init(config);
  emit_spans(5, "partial-");
  ASSERT_TRUE(sdk.flush(10s));
  sdk.shutdown();
  EXPECT_EQ(acct.exported(), 3);
  EXPECT_EQ(acct.failed(), 2);
  EXPECT_EQ(errors.count("span name too long"), 1u);
}

TEST(OtlpExport, ReceiverDownUnderLoadCountsEveryItemAndRecovers) {
  int port = 0;
  {
    HttpReceiver probe;  // a port that was free a moment ago and is closed now
    port = probe.start();
    ASSERT_GT(port, 0);
  }
  Errors errors;
  Accounting acct{"spans"};
  const double app_dropped0 = counter("obs_exporter_dropped", "spans", "queue_full");
  auto options = fast("http://127.0.0.1:" + std::to_string(port) + "/v1/traces");
  options.max_queue_size = 64;
  options.max_batch_size = 16;
  options.max_attempts = 2;
  auto config = quiet(errors);
  config.otlp_traces = options;
  auto sdk = obs::init(config);
  ASSERT_TRUE(sdk.ok());

  constexpr int kDuringOutage = 5000;
  emit_spans(kDuringOutage, "outage-");
  EXPECT_TRUE(errors.wait_for("no answer from http://127.0.0.1:" + std::to_string(port)));

  HttpReceiver receiver;  // back, on the same port
  ASSERT_EQ(receiver.start(port), port);
  receiver.set_default({200, "", "application/json", ""});
  // What the exporter still holds from the outage goes first (its queue is
  // full, so spans emitted now would be dropped); then new spans flow.
  ASSERT_TRUE(sdk.flush(30s));
  emit_spans(10, "after-");
  ASSERT_TRUE(sdk.flush(30s));
  ASSERT_TRUE(receiver.wait_until([](const std::vector<ReceivedRequest>& all) {
    std::size_t after = 0;
    for (const auto& r : all) {
      auto d = obs_test::protoc_decode("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                                       "opentelemetry/proto/collector/trace/v1/trace_service.proto", r.body);
      for (std::size_t pos = d.text.find("name: \"after-"); pos != std::string::npos;
           pos = d.text.find("name: \"after-", pos + 1))
        ++after;
    }
    return after == 10;
  })) << receiver.count("/v1/traces") << " requests; exported " << acct.exported() << " failed " << acct.failed()
      << " dropped " << acct.dropped();
  sdk.shutdown(10s);
  sdk = obs::Sdk();  // closes the exporter's keep-alive connection before the receiver stops

  // Every span is accounted for exactly once: refused at the application's
  // queue, dropped at the exporter's, failed after retries, or delivered.
  const double app_dropped = counter("obs_exporter_dropped", "spans", "queue_full") - app_dropped0;
  EXPECT_EQ(app_dropped + acct.dropped() + acct.failed() + acct.exported(), kDuringOutage + 10);
  EXPECT_GT(acct.dropped(), 0);  // the exporter's queue stayed at its bound
  EXPECT_GT(acct.failed(), 0);
  EXPECT_GE(acct.exported(), 10);
  EXPECT_EQ(errors.count("queue is full"), 1u);  // reported once, counted always
}

TEST(OtlpExport, HangingReceiverTimesOutAndShutdownKeepsItsDeadline) {
  HttpReceiver receiver;
  ASSERT_GT(receiver.start(), 0);
  receiver.hang();
  Errors errors;
  Accounting acct{"spans"};
  auto options = fast(receiver.url() + "/v1/traces");
  options.timeout = 200ms;
  options.max_attempts = 1000;
  options.max_export_time = 1h;
  auto config = quiet(errors);
  config.otlp_traces = options;
  auto sdk = obs::init(config);
  emit_spans(3, "hung-");
  ASSERT_TRUE(receiver.wait_for_requests("/v1/traces", 2)) << receiver.count("/v1/traces");  // the first timed out and was retried
  EXPECT_FALSE(sdk.flush(300ms));                  // cannot be delivered: flush says so at its deadline
  const auto started = std::chrono::steady_clock::now();
  sdk.shutdown(1s);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, 1s + 250ms);  // the deadline, plus scheduling slack
  EXPECT_EQ(acct.failed(), 3);  // given up at the deadline, and counted
  EXPECT_EQ(acct.exported(), 0);
  EXPECT_EQ(errors.count("did not stop within the shutdown deadline"), 0u);
  receiver.release_hang();
}

// A receiver that accepts the TCP connection (the kernel does, from the
// listen backlog) but never answers the TLS handshake: the request cannot be
// cut short, and shutdown must still return by its deadline.
TEST(OtlpExport, StuckTlsHandshakeDoesNotHoldUpShutdown) {
  int port = 0;
  const int fd = obs_test::listen_on_loopback(port);
  ASSERT_GE(fd, 0);
  const std::string base = "https://127.0.0.1:" + std::to_string(port);
  for (const char* signal : {"traces", "metrics"}) {
    SCOPED_TRACE(signal);
    Errors errors;
    auto options = fast(base + "/v1/" + signal);
    options.timeout = 20s;
    auto config = quiet(errors);
    config.process_metrics = false;
    config.metric_export_interval = std::chrono::hours(1);
    if (std::string(signal) == "traces") config.otlp_traces = options;
    else config.otlp_metrics = options;
    auto sdk = obs::init(config);
    emit_spans(1, "stuck-");
    obs::metric::increment("otlp_stuck_test_things");
    EXPECT_FALSE(sdk.flush(200ms));
    const auto started = std::chrono::steady_clock::now();
    sdk.shutdown(500ms);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms + 250ms);
  }
  ::close(fd);
}

// A forked child's delta export starts at the fork: what the parent
// counted before it is the parent's to report, not sent twice.
TEST(OtlpExport, AForkedChildsDeltaMetricsStartAtTheFork) {
  OBS_SKIP_FORK_TEST_UNDER_SANITIZERS();
  HttpReceiver receiver;  // serves from this process, also the child's requests
  ASSERT_GT(receiver.start(), 0);
  Errors errors;
  auto options = fast(receiver.url() + "/v1/metrics");
  options.protocol = obs::OtlpProtocol::HttpJson;
  options.temporality = obs::OtlpTemporality::Delta;
  auto config = quiet(errors);
  config.process_metrics = false;
  config.metric_export_interval = std::chrono::hours(1);  // exports happen on flush only
  config.otlp_metrics = options;
  auto sdk = obs::init(config);
  ASSERT_TRUE(sdk.ok());
  auto jobs = obs::MetricsRegistry::global().counter("otlp_fork_delta_jobs", {});
  jobs.labels().inc(5);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    jobs.labels().inc(1);
    ::_exit(sdk.flush(10s) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(sdk.flush(10s));
  sdk.shutdown();
  auto requests = receiver.requests("/v1/metrics");
  ASSERT_GE(requests.size(), 2u);  // the child's, then the parent's flush (and its shutdown's)
  const auto child_points = points(json::parse(requests[0].body), "otlp_fork_delta_jobs", "sum");
  const auto parent_points = points(json::parse(requests[1].body), "otlp_fork_delta_jobs", "sum");
  ASSERT_EQ(child_points.size(), 1u);
  ASSERT_EQ(parent_points.size(), 1u);
  EXPECT_EQ(child_points[0]["asInt"], "1");
  EXPECT_EQ(parent_points[0]["asInt"], "5");
}

// A collector whose name never resolves: its DNS server receives the
// query and never answers. The child process sees a resolv.conf naming
// that server (bind-mounted in a mount namespace of its own, which needs
// root, as in CI); its exporter thread is stuck in getaddrinfo, and
// shutdown must still return by its deadline.
TEST(OtlpExport, ANameLookupThatNeverAnswersDoesNotHoldUpShutdown) {
  {
    // Only glibc's own resolver reads resolv.conf (not nscd, not systemd-resolved via nss "resolve").
    std::ifstream nsswitch("/etc/nsswitch.conf");
    std::string line, hosts;
    while (std::getline(nsswitch, line))
      if (line.rfind("hosts:", 0) == 0) hosts = line;
    if (hosts.find("resolve") != std::string::npos || hosts.find(" dns") == std::string::npos ||
        std::filesystem::exists("/var/run/nscd/socket"))
      GTEST_SKIP() << "name lookups here do not go through resolv.conf: " << hosts;
  }
  const int dns = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(dns, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(53);
  addr.sin_addr.s_addr = inet_addr("127.0.0.77");
  if (::bind(dns, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(dns);
    GTEST_SKIP() << "needs root, to serve DNS on 127.0.0.77:53";
  }
  const auto resolv = std::filesystem::temp_directory_path() / ("obs_dns_test_" + std::to_string(::getpid()));
  std::ofstream(resolv) << "nameserver 127.0.0.77\noptions timeout:30 attempts:2\n";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount(resolv.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0)
      ::_exit(77);
    Errors errors;
    auto config = quiet(errors);
    config.otlp_traces = fast("http://collector.obs-dns-test.example:4318/v1/traces");
    auto sdk = obs::init(config);
    emit_spans(1, "unresolved-");
    sdk.flush(200ms);
    sdk.shutdown(300ms);
    ::_exit(0);
  }
  // The lookup reached the server (so the exporter is waiting on it) ...
  pollfd query{dns, POLLIN, 0};
  const bool asked = ::poll(&query, 1, 30000) == 1;
  // ... and the child exits long before the resolver would give up (60 s).
  int status = 0;
  pid_t exited = 0;
  for (int i = 0; i < 300 && exited == 0; ++i) {
    exited = ::waitpid(child, &status, WNOHANG);
    if (exited == 0) ::poll(nullptr, 0, 100);
  }
  if (exited == 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
  }
  ::close(dns);
  std::filesystem::remove(resolv);
  if (exited == child && WIFEXITED(status) && WEXITSTATUS(status) == 77)
    GTEST_SKIP() << "cannot make a mount namespace here (unshare/mount refused)";
  EXPECT_TRUE(asked) << "no DNS query arrived";
  ASSERT_EQ(exited, child) << "shutdown did not return while the name lookup was unanswered";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(OtlpExport, MalformedEndpointIsReportedAndTheRestKeepsWorking) {
  Errors errors;
  auto memory = std::make_shared<obs::MemorySpanBackend>();
  auto config = quiet(errors);
  config.otlp_traces = fast("localhost:4318/v1/traces");
  config.add_span_backend(memory);
  auto sdk = obs::init(config);
  EXPECT_FALSE(sdk.ok());
  ASSERT_EQ(sdk.errors().size(), 1u);
  EXPECT_NE(sdk.errors()[0].find("OTLP traces export is off"), std::string::npos) << sdk.errors()[0];
  EXPECT_NE(sdk.errors()[0].find("http://"), std::string::npos) << sdk.errors()[0];
  emit_spans(2, "kept-");
  ASSERT_TRUE(sdk.flush(10s));
  EXPECT_EQ(memory->spans().size(), 2u);
}

TEST(OtlpExport, CredentialsInTheEndpointAreRefusedWithoutEchoingThem) {
  Errors errors;
  auto config = quiet(errors);
  config.otlp_logs = fast(std::string("https://user:") + kSecret + "@collector.example:4318/v1/logs");
  auto sdk = obs::init(config);
  ASSERT_EQ(sdk.errors().size(), 1u);
  EXPECT_NE(sdk.errors()[0].find("credentials"), std::string::npos);
  EXPECT_EQ(sdk.errors()[0].find(kSecret), std::string::npos);
}

TEST(OtlpExport, HeaderInjectionIsRefusedNamingOnlyTheHeader) {
  Errors errors;
  auto config = quiet(errors);
  auto options = fast("http://127.0.0.1:1/v1/logs");
  options.headers = {{"authorization", std::string(kSecret) + "\r\nX-Evil: 1"}};
  config.otlp_logs = options;
  auto sdk = obs::init(config);
  ASSERT_EQ(sdk.errors().size(), 1u);
  EXPECT_NE(sdk.errors()[0].find("'authorization'"), std::string::npos) << sdk.errors()[0];
  EXPECT_EQ(sdk.errors()[0].find(kSecret), std::string::npos);
}

// TLS material made by the test: a CA, a server certificate for 127.0.0.1
// and a client certificate, all signed by that CA, plus an unrelated CA.
struct TlsFiles {
  std::filesystem::path dir;
  std::string ca, server_crt, server_key, client_crt, client_key, other_ca;
  bool ok = false;

  TlsFiles() {
    char tmpl[] = "/tmp/obs_tls_XXXXXX";
    dir = mkdtemp(tmpl);
    const auto p = [&](const char* name) { return (dir / name).string(); };
    ca = p("ca.crt");
    server_crt = p("server.crt");
    server_key = p("server.key");
    client_crt = p("client.crt");
    client_key = p("client.key");
    other_ca = p("other-ca.crt");
    std::ofstream(p("san.ext")) << "subjectAltName=IP:127.0.0.1\n";
    const std::string d = "'" + dir.string() + "'";
    const std::string script =
        "cd " + d + " && "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=obs-test-ca && "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt -days 2 -subj /CN=other-ca && "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 "
        "-extfile san.ext && "
        "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=obs-client && "
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2";
    ok = std::system(("( " + script + " ) >/dev/null 2>&1").c_str()) == 0;
  }
  ~TlsFiles() { std::filesystem::remove_all(dir); }
};

// Sends one span through a fresh Sdk; returns the exported and failed deltas.
std::pair<double, double> send_one_span(const obs::OtlpOptions& options, Errors& errors) {
  Accounting acct{"spans"};
  auto config = quiet(errors);
  config.otlp_traces = options;
  auto sdk = obs::init(config);
  EXPECT_TRUE(sdk.ok()) << (sdk.errors().empty() ? "" : sdk.errors().front());
  emit_spans(1, "tls-");
  sdk.flush(10s);
  sdk.shutdown(5s);
  return {acct.exported(), acct.failed()};
}

TEST(OtlpExportTls, HttpsWithACustomCaAndMutualTls) {
  TlsFiles tls;
  ASSERT_TRUE(tls.ok) << "openssl could not make the test certificates (scripts/install-deps.sh installs openssl)";
  {
    HttpReceiver receiver(tls.server_crt, tls.server_key);
    ASSERT_GT(receiver.start(), 0);
    Errors errors;
    auto options = fast(receiver.url("https") + "/v1/traces");
    options.max_attempts = 1;
    options.certificate = tls.ca;
    EXPECT_EQ(send_one_span(options, errors), std::make_pair(1.0, 0.0));
    ASSERT_EQ(receiver.count("/v1/traces"), 1u);

    // A receiver whose certificate the configured CA did not sign: refused.
    options.certificate = tls.other_ca;
    EXPECT_EQ(send_one_span(options, errors), std::make_pair(0.0, 1.0));
    EXPECT_EQ(receiver.count("/v1/traces"), 1u);
    EXPECT_TRUE(errors.wait_for("https://127.0.0.1:"));
  }
  {
    HttpReceiver receiver(tls.server_crt, tls.server_key, tls.ca);  // clients must show a certificate
    ASSERT_GT(receiver.start(), 0);
    Errors errors;
    auto options = fast(receiver.url("https") + "/v1/traces");
    options.max_attempts = 1;
    options.certificate = tls.ca;
    EXPECT_EQ(send_one_span(options, errors), std::make_pair(0.0, 1.0));  // none given
    options.client_certificate = tls.client_crt;
    options.client_key = tls.client_key;
    EXPECT_EQ(send_one_span(options, errors), std::make_pair(1.0, 0.0));
    EXPECT_EQ(receiver.count("/v1/traces"), 1u);
  }
}

TEST(OtlpExportTls, UnreadableCertificateIsAnInitError) {
  Errors errors;
  auto config = quiet(errors);
  auto options = fast("https://127.0.0.1:1/v1/traces");
  options.certificate = "/nonexistent/ca.pem";
  config.otlp_traces = options;
  auto sdk = obs::init(config);
  ASSERT_EQ(sdk.errors().size(), 1u);
  EXPECT_NE(sdk.errors()[0].find("/nonexistent/ca.pem"), std::string::npos) << sdk.errors()[0];
}

// Every line of every file in `dir` whose name starts with `prefix`.
std::vector<json> jsonl_lines(const std::filesystem::path& dir, const std::string& prefix, std::size_t* files) {
  std::vector<json> out;
  *files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind(prefix, 0) != 0) continue;
    ++*files;
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line)) out.push_back(json::parse(line, nullptr, false));
  }
  return out;
}

TEST(OtlpFileExport, JsonLinesPerSignalWithRotation) {
  char tmpl[] = "/tmp/obs_otlp_file_XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  Errors errors;
  obs::OtlpFileOptions files;
  files.directory = dir.string();
  files.max_file_bytes = 16384;
  files.max_backups = 100;
  auto config = quiet(errors);
  config.process_metrics = false;
  config.metric_export_interval = std::chrono::hours(1);
  config.otlp_file(files);
  {
    auto sdk = obs::init(config);
    ASSERT_TRUE(sdk.ok());
    for (int round = 0; round < 8; ++round) {
      emit_spans(5, "file-" + std::to_string(round) + "-");
      obs::log::info("round done", {{"round", round}});
      obs::metric::increment("otlp_file_test_rounds");
      ASSERT_TRUE(sdk.flush(10s));
    }
  }
  std::size_t trace_files = 0, log_files = 0, metric_files = 0;
  auto traces = jsonl_lines(dir, "traces", &trace_files);
  auto logs = jsonl_lines(dir, "logs", &log_files);
  auto metrics = jsonl_lines(dir, "metrics", &metric_files);
  EXPECT_GT(trace_files, 1u);  // rotated
  std::set<std::string> names;
  for (const auto& t : traces) {
    ASSERT_TRUE(t.is_object());
    for (const auto& rs : t["resourceSpans"]) {
      EXPECT_EQ(attribute(rs["resource"]["attributes"], "service.name"), "otlp-export-test");
      for (const auto& ss : rs["scopeSpans"])
        for (const auto& s : ss["spans"]) names.insert(s["name"]);
    }
  }
  EXPECT_EQ(names.size(), 40u);  // every span, once, across the rotated files
  std::size_t records = 0;
  for (const auto& l : logs)
    for (const auto& rl : l["resourceLogs"])
      for (const auto& sl : rl["scopeLogs"]) records += sl["logRecords"].size();
  EXPECT_EQ(records, 8u);
  ASSERT_FALSE(metrics.empty());
  std::string last;  // the newest snapshot: the live file's last line
  {
    std::ifstream in(dir / "metrics.jsonl");
    for (std::string line; std::getline(in, line);) last = line;
  }
  EXPECT_EQ(points(json::parse(last), "otlp_file_test_rounds", "sum").at(0)["asInt"], "8");
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path());
    std::size_t lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    // Within the limit, unless one line alone is bigger (lines are never split).
    if (lines > 1) {
      EXPECT_LE(std::filesystem::file_size(e.path()), files.max_file_bytes) << e.path();
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(OtlpExport, ConfiguredByTheStandardEnvironmentVariables) {
  HttpReceiver receiver;
  ASSERT_GT(receiver.start(), 0);
  const std::map<std::string, std::string> env = {
      {"OTEL_SERVICE_NAME", "env-svc"},
      {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,team=payments%20core"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url() + "/"},
      {"OTEL_EXPORTER_OTLP_HEADERS", std::string("authorization=Bearer%20") + kSecret},
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
      {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
      {"OTEL_LOGS_EXPORTER", "otlp"},
      {"OTEL_METRICS_EXPORTER", "otlp"},
      {"OTEL_METRIC_EXPORT_INTERVAL", "3600000"},
      {"OBS_ADMIN_SERVER", "false"},
      {"OBS_PROCESS_METRICS", "false"},
  };
  auto config = obs::Config::from_env([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  ASSERT_TRUE(config.errors.empty()) << config.errors.front();
  Errors errors;
  config.on_error(errors.handler());
  auto sdk = obs::init(config);
  ASSERT_TRUE(sdk.ok()) << sdk.errors().front();
  emit_spans(1, "env-");
  obs::log::info("configured from the environment");
  obs::metric::increment("otlp_env_test_total_things");
  ASSERT_TRUE(sdk.flush(10s));
  sdk.shutdown();
  for (const char* path : {"/v1/traces", "/v1/logs", "/v1/metrics"}) {
    auto requests = receiver.requests(path);
    ASSERT_FALSE(requests.empty()) << path;
    const auto& r = requests.front();
    EXPECT_EQ(r.content_type, "application/json") << path;
    EXPECT_EQ(r.content_encoding, "gzip") << path;
    EXPECT_TRUE(has_header(r, "authorization", std::string("Bearer ") + kSecret)) << path;
    const auto body = json::parse(r.body);
    const auto& resource = body.begin().value()[0]["resource"]["attributes"];
    EXPECT_EQ(attribute(resource, "service.name"), "env-svc") << path;
    EXPECT_EQ(attribute(resource, "deployment.environment.name"), "prod") << path;
    EXPECT_EQ(attribute(resource, "team"), "payments core") << path;
  }
  for (const auto& m : errors.all()) EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
}

TEST(OtlpTransport, GzipRoundTrips) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += "span-" + std::to_string(i % 97) + ";";
  const auto packed = obs::internal::gzip_compress(data);
  EXPECT_LT(packed.size(), data.size() / 4);
  bool ok = false;
  EXPECT_EQ(obs_test::gunzip(packed, ok), data);
  EXPECT_TRUE(ok);
  EXPECT_EQ(obs_test::gunzip(obs::internal::gzip_compress(""), ok), "");
  EXPECT_TRUE(ok);
}

TEST(OtlpTransport, RetryAfterSecondsOrHttpDate) {
  using obs::internal::parse_retry_after;
  const auto now = std::chrono::system_clock::from_time_t(1445412470);  // 10 s before the date below
  EXPECT_EQ(parse_retry_after("120", now), std::chrono::milliseconds(120000));
  EXPECT_EQ(parse_retry_after(" 0 ", now), std::chrono::milliseconds(0));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), std::chrono::milliseconds(10000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), std::chrono::milliseconds(0));  // past
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("99999999999", now), std::chrono::milliseconds(24LL * 3600 * 1000));  // capped
}

TEST(DeltaTracker, CountersAndHistogramsBecomeChangesAndResetsRestart) {
  const auto t0 = std::chrono::system_clock::from_time_t(1000);
  obs::internal::DeltaTracker delta(t0);
  auto snapshot = [&](int second, double total, std::uint64_t b0, std::uint64_t b1) {
    obs::MetricsSnapshot s;
    s.time = t0 + std::chrono::seconds(second);
    auto& c = s.families.emplace_back();
    c.name = "jobs";
    c.type = obs::MetricType::Counter;
    c.label_keys = {"q"};
    c.series.push_back({{"a"}, false, total, 0, {}});
    auto& g = s.families.emplace_back();
    g.name = "depth";
    g.type = obs::MetricType::Gauge;
    g.series.push_back({{}, false, total, 0, {}});
    auto& h = s.families.emplace_back();
    h.name = "latency";
    h.type = obs::MetricType::Histogram;
    obs::SeriesSnapshot hs;
    hs.histogram.bounds = {1};
    hs.histogram.counts = {b0, b1};
    hs.histogram.count = b0 + b1;
    hs.histogram.sum = static_cast<double>(b0 + 2 * b1);
    h.series.push_back(hs);
    return s;
  };
  auto d1 = delta.next(snapshot(10, 5, 1, 1));
  EXPECT_EQ(delta.interval_start(), t0);
  EXPECT_EQ(d1.families[0].series[0].value, 5);
  auto d2 = delta.next(snapshot(20, 8, 3, 1));
  EXPECT_EQ(delta.interval_start(), t0 + std::chrono::seconds(10));
  EXPECT_EQ(d2.families[0].series[0].value, 3);
  EXPECT_EQ(d2.families[1].series[0].value, 8);  // gauges pass through
  EXPECT_EQ(d2.families[2].series[0].histogram.counts, (std::vector<std::uint64_t>{2, 0}));
  EXPECT_EQ(d2.families[2].series[0].histogram.count, 2u);
  EXPECT_EQ(d2.families[2].series[0].histogram.sum, 2);
  auto d3 = delta.next(snapshot(30, 2, 1, 0));  // went down: the count restarted
  EXPECT_EQ(d3.families[0].series[0].value, 2);
  EXPECT_EQ(d3.families[2].series[0].histogram.count, 1u);
  auto d4 = delta.next(snapshot(40, 2, 1, 0));
  EXPECT_EQ(d4.families[0].series[0].value, 0);
}

}  // namespace
