// OTLP encoding: protobuf bytes decoded by the real protoc (text format
// checked line by line, in order), JSON parsed with nlohmann::json.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "backends/otlp/otlp_encoder.hpp"
#include "protoc_decode.hpp"
#include "text/utf8.hpp"
#include "obs/version.hpp"

namespace {

using namespace std::chrono;
using obs::FieldType;
using obs::OwnedField;

constexpr std::uint64_t kStartNs = 1700000000123456789ULL;
constexpr std::uint64_t kEndNs = 1700000000987654321ULL;

system_clock::time_point at(std::uint64_t ns) {
  return system_clock::time_point(duration_cast<system_clock::duration>(nanoseconds(ns)));
}

OwnedField str_field(std::string key, std::string v) {
  OwnedField f;
  f.key = std::move(key);
  f.type = FieldType::String;
  f.str = std::move(v);
  return f;
}
OwnedField int_field(std::string key, std::int64_t v) {
  OwnedField f;
  f.key = std::move(key);
  f.type = FieldType::Int;
  f.i = v;
  return f;
}
OwnedField double_field(std::string key, double v) {
  OwnedField f;
  f.key = std::move(key);
  f.type = FieldType::Double;
  f.d = v;
  return f;
}
OwnedField bool_field(std::string key, bool v) {
  OwnedField f;
  f.key = std::move(key);
  f.type = FieldType::Bool;
  f.b = v;
  return f;
}

// Ids whose bytes include printable characters, quotes, backslashes and
// high bytes, to exercise protoc's escaping and the hex JSON form.
obs::TraceId trace_id() {
  obs::TraceId t;
  const std::uint8_t b[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
  std::copy(std::begin(b), std::end(b), t.bytes.begin());
  return t;
}
obs::SpanId span_id() {
  obs::SpanId s;
  const std::uint8_t b[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
  std::copy(std::begin(b), std::end(b), s.bytes.begin());
  return s;
}
obs::SpanId parent_id() {
  obs::SpanId s;
  const std::uint8_t b[8] = {0x22, 0x5c, 0x27, 0x0a, 0x7f, 0x80, 0x01, 0x41};  // " \ ' \n DEL ...
  std::copy(std::begin(b), std::end(b), s.bytes.begin());
  return s;
}

obs::Resource resource() {
  obs::Resource r;
  r.service = "checkout";
  r.environment = "staging";
  r.version = "1.2.3";
  r.host = "web-1";
  r.pid = 4242;
  return r;
}

using obs_test::Decoded;
using obs_test::escaped;
using obs_test::expect_lines_in_order;
using obs_test::protoc_decode;

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

void expect_resource_lines(const std::string& text) {
  expect_lines_in_order(text, {
      "resource {",
      "attributes {", "key: \"service.name\"", "value {", "string_value: \"checkout\"", "}", "}",
      "attributes {", "key: \"service.version\"", "value {", "string_value: \"1.2.3\"", "}", "}",
      "attributes {", "key: \"deployment.environment.name\"", "value {", "string_value: \"staging\"", "}", "}",
      "attributes {", "key: \"host.name\"", "value {", "string_value: \"web-1\"", "}", "}",
      "attributes {", "key: \"process.pid\"", "value {", "int_value: 4242", "}", "}",
      "attributes {", "key: \"telemetry.sdk.name\"", "value {", "string_value: \"obs\"", "}", "}",
      "attributes {", "key: \"telemetry.sdk.language\"", "value {", "string_value: \"cpp\"", "}", "}",
      "attributes {", "key: \"telemetry.sdk.version\"", "value {", "string_value: \"" OBS_VERSION "\"", "}", "}",
      "}",
      "name: \"obs\"",
      "version: \"" OBS_VERSION "\"",
  });
}

void expect_json_resource(const nlohmann::json& r, const nlohmann::json& scope) {
  ASSERT_TRUE(r.contains("attributes"));
  std::map<std::string, nlohmann::json> attrs;
  for (const auto& kv : r["attributes"]) attrs[kv["key"].get<std::string>()] = kv["value"];
  EXPECT_EQ(attrs["service.name"], (nlohmann::json{{"stringValue", "checkout"}}));
  EXPECT_EQ(attrs["service.version"], (nlohmann::json{{"stringValue", "1.2.3"}}));
  EXPECT_EQ(attrs["deployment.environment.name"], (nlohmann::json{{"stringValue", "staging"}}));
  EXPECT_EQ(attrs["host.name"], (nlohmann::json{{"stringValue", "web-1"}}));
  EXPECT_EQ(attrs["process.pid"], (nlohmann::json{{"intValue", "4242"}}));
  EXPECT_EQ(attrs["telemetry.sdk.name"], (nlohmann::json{{"stringValue", "obs"}}));
  EXPECT_EQ(attrs["telemetry.sdk.language"], (nlohmann::json{{"stringValue", "cpp"}}));
  EXPECT_EQ(attrs["telemetry.sdk.version"], (nlohmann::json{{"stringValue", OBS_VERSION}}));
  EXPECT_EQ(attrs.size(), 8u);
  EXPECT_EQ(scope, (nlohmann::json{{"name", "obs"}, {"version", OBS_VERSION}}));
}

// ---------------------------------------------------------------- traces

std::vector<obs::SpanData> sample_spans() {
  std::vector<obs::SpanData> spans(2);
  auto& s = spans[0];
  s.name = "GET /cart \"x\"";
  s.kind = obs::SpanKind::Server;
  s.context.trace_id = trace_id();
  s.context.span_id = span_id();
  s.context.sampled = true;
  s.context.random_trace_id = true;
  s.context.trace_state = "vendor=abc,other=1";
  s.parent_span_id = parent_id();
  s.parent_remote = true;  // a server span continuing a caller's trace
  s.start = at(kStartNs);
  s.end = at(kEndNs);
  s.attributes = {str_field("http.method", "GET"), int_field("http.status_code", 503),
                  double_field("ratio", 0.25), bool_field("cached", false), int_field("neg", -7)};
  obs::SpanEvent ev;
  ev.time = at(kStartNs + 1000);
  ev.name = "exception";
  ev.attributes = {str_field("exception.message", "boom")};
  s.events.push_back(ev);
  s.status = obs::SpanStatus::Error;
  s.status_message = "upstream failed";
  s.dropped_attributes = 3;  // what the per-span limits cut
  s.dropped_events = 4;
  s.dropped_links = 5;

  auto& c = spans[1];  // a root client span, not sampled, unset status
  c.name = "db";
  c.kind = obs::SpanKind::Client;
  c.context.trace_id = trace_id();
  c.context.span_id = parent_id();
  c.start = at(kStartNs);
  c.end = at(kStartNs + 5);
  return spans;
}

TEST(OtlpTraces, ProtobufDecodesWithProtoc) {
  auto spans = sample_spans();
  auto bytes = obs::otlp::encode_traces_protobuf(resource(), spans);
  auto d = protoc_decode("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                         "opentelemetry/proto/collector/trace/v1/trace_service.proto", bytes);
  ASSERT_EQ(d.status, 0);
  expect_resource_lines(d.text);
  expect_lines_in_order(d.text, {
      "resource_spans {", "resource {", "scope_spans {", "scope {", "spans {",
      "trace_id: " + escaped(trace_id().bytes),
      "span_id: " + escaped(span_id().bytes),
      "trace_state: \"vendor=abc,other=1\"",
      "parent_span_id: " + escaped(parent_id().bytes),
      "name: \"GET /cart \\\"x\\\"\"",
      "kind: SPAN_KIND_SERVER",
      "start_time_unix_nano: " + std::to_string(kStartNs),
      "end_time_unix_nano: " + std::to_string(kEndNs),
      "attributes {", "key: \"http.method\"", "value {", "string_value: \"GET\"", "}", "}",
      "attributes {", "key: \"http.status_code\"", "value {", "int_value: 503", "}", "}",
      "attributes {", "key: \"ratio\"", "value {", "double_value: 0.25", "}", "}",
      "attributes {", "key: \"cached\"", "value {", "bool_value: false", "}", "}",
      "attributes {", "key: \"neg\"", "value {", "int_value: -7", "}", "}",
      "dropped_attributes_count: 3",
      "events {", "time_unix_nano: " + std::to_string(kStartNs + 1000), "name: \"exception\"",
      "attributes {", "key: \"exception.message\"", "value {", "string_value: \"boom\"", "}", "}", "}",
      "dropped_events_count: 4",
      "dropped_links_count: 5",
      "status {", "message: \"upstream failed\"", "code: STATUS_CODE_ERROR", "}",
      "flags: 771",  // 0x303: sampled, random trace id (W3C), is-remote known, parent remote
      "}",
      "spans {",
      "trace_id: " + escaped(trace_id().bytes),
      "span_id: " + escaped(parent_id().bytes),
      "name: \"db\"",
      "kind: SPAN_KIND_CLIENT",
      "start_time_unix_nano: " + std::to_string(kStartNs),
      "end_time_unix_nano: " + std::to_string(kStartNs + 5),
      "flags: 256",  // 0x100: a root's parent is known not to be remote; no W3C flags
      "}",
  });
  EXPECT_EQ(count_of(d.text, "spans {"), 4u);  // resource_spans, scope_spans, 2 spans
  EXPECT_EQ(count_of(d.text, "parent_span_id"), 1u);
  EXPECT_EQ(count_of(d.text, "status {"), 1u);
  EXPECT_EQ(count_of(d.text, "flags:"), 2u);
  EXPECT_EQ(count_of(d.text, "trace_state"), 1u);
}

TEST(OtlpTraces, AllKindsAndStatuses) {
  const std::pair<obs::SpanKind, const char*> kinds[] = {
      {obs::SpanKind::Internal, "SPAN_KIND_INTERNAL"}, {obs::SpanKind::Server, "SPAN_KIND_SERVER"},
      {obs::SpanKind::Client, "SPAN_KIND_CLIENT"},     {obs::SpanKind::Producer, "SPAN_KIND_PRODUCER"},
      {obs::SpanKind::Consumer, "SPAN_KIND_CONSUMER"}};
  int n = 1;
  for (auto [kind, name] : kinds) {
    EXPECT_EQ(obs::otlp::span_kind_number(kind), n++);
    std::vector<obs::SpanData> spans(1);
    spans[0].kind = kind;
    spans[0].status = obs::SpanStatus::Ok;
    auto d = protoc_decode("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                           "opentelemetry/proto/collector/trace/v1/trace_service.proto",
                           obs::otlp::encode_traces_protobuf(resource(), spans));
    expect_lines_in_order(d.text, {std::string("kind: ") + name, "status {", "code: STATUS_CODE_OK", "}"});
  }
  EXPECT_EQ(obs::otlp::status_code_number(obs::SpanStatus::Unset), 0);
  EXPECT_EQ(obs::otlp::status_code_number(obs::SpanStatus::Error), 2);
}

// The status description means something only with STATUS_CODE_ERROR
// (trace API, "Set Status"): with Ok it is not sent.
TEST(OtlpTraces, StatusDescriptionOnlyWithError) {
  auto spans = sample_spans();
  spans[0].status = obs::SpanStatus::Ok;  // keeps status_message "upstream failed"
  auto d = protoc_decode("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                         "opentelemetry/proto/collector/trace/v1/trace_service.proto",
                         obs::otlp::encode_traces_protobuf(resource(), spans));
  ASSERT_EQ(d.status, 0);
  EXPECT_EQ(count_of(d.text, "upstream failed"), 0u);
  EXPECT_EQ(count_of(d.text, "code: STATUS_CODE_OK"), 1u);
  auto j = nlohmann::json::parse(obs::otlp::encode_traces_json(resource(), spans));
  EXPECT_EQ(j["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["status"], (nlohmann::json{{"code", 1}}));
}

TEST(OtlpTraces, EmptyBatchStillDecodes) {
  auto d = protoc_decode("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                         "opentelemetry/proto/collector/trace/v1/trace_service.proto",
                         obs::otlp::encode_traces_protobuf(resource(), {}));
  expect_resource_lines(d.text);
  auto j = nlohmann::json::parse(obs::otlp::encode_traces_json(resource(), {}));
  EXPECT_TRUE(j["resourceSpans"][0]["scopeSpans"][0]["spans"].empty());
}

TEST(OtlpTraces, Json) {
  auto spans = sample_spans();
  auto j = nlohmann::json::parse(obs::otlp::encode_traces_json(resource(), spans));
  ASSERT_EQ(j["resourceSpans"].size(), 1u);
  const auto& rs = j["resourceSpans"][0];
  expect_json_resource(rs["resource"], rs["scopeSpans"][0]["scope"]);
  const auto& out = rs["scopeSpans"][0]["spans"];
  ASSERT_EQ(out.size(), 2u);
  const auto& s = out[0];
  EXPECT_EQ(s["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(s["spanId"], "00f067aa0ba902b7");
  EXPECT_EQ(s["parentSpanId"], parent_id().hex());
  EXPECT_EQ(s["traceState"], "vendor=abc,other=1");
  EXPECT_EQ(s["flags"], 0x303);
  EXPECT_EQ(s["droppedAttributesCount"], 3);
  EXPECT_EQ(s["droppedEventsCount"], 4);
  EXPECT_EQ(s["droppedLinksCount"], 5);
  EXPECT_EQ(s["name"], "GET /cart \"x\"");
  EXPECT_EQ(s["kind"], 2);
  EXPECT_EQ(s["startTimeUnixNano"], std::to_string(kStartNs));
  EXPECT_EQ(s["endTimeUnixNano"], std::to_string(kEndNs));
  EXPECT_EQ(s["attributes"], nlohmann::json::parse(R"([
    {"key":"http.method","value":{"stringValue":"GET"}},
    {"key":"http.status_code","value":{"intValue":"503"}},
    {"key":"ratio","value":{"doubleValue":0.25}},
    {"key":"cached","value":{"boolValue":false}},
    {"key":"neg","value":{"intValue":"-7"}}])"));
  EXPECT_EQ(s["events"], nlohmann::json::parse(R"([{"timeUnixNano":")" + std::to_string(kStartNs + 1000) +
                                               R"(","name":"exception","attributes":[{"key":"exception.message","value":{"stringValue":"boom"}}]}])"));
  EXPECT_EQ(s["status"], (nlohmann::json{{"message", "upstream failed"}, {"code", 2}}));

  const auto& c = out[1];
  EXPECT_EQ(c["kind"], 3);
  EXPECT_FALSE(c.contains("parentSpanId"));
  EXPECT_FALSE(c.contains("traceState"));
  EXPECT_EQ(c["flags"], 0x100);
  EXPECT_FALSE(c.contains("status"));
  EXPECT_FALSE(c.contains("attributes"));
  EXPECT_FALSE(c.contains("events"));
}

// ------------------------------------------------------------------ logs

std::vector<obs::LogRecord> sample_logs() {
  std::vector<obs::LogRecord> logs(2);
  auto& r = logs[0];
  r.time = at(kStartNs);
  r.level = obs::log::Level::Warning;
  r.message = "payment slow\n\"retrying\"";
  r.fields = {str_field("order", "A-1"), int_field("attempt", 3), double_field("ms", 12.5), bool_field("ok", true)};
  r.thread_id = 140000000000001ULL;
  r.trace_id = trace_id();
  r.span_id = span_id();
  r.trace_flags = 0x03;  // logged in a sampled span of a trace with a random id
  r.request_id = "req-77";
  auto& p = logs[1];  // outside any span or request
  p.time = at(kEndNs);
  p.level = obs::log::Level::Critical;
  p.message = "plain";
  return logs;
}

TEST(OtlpLogs, ProtobufDecodesWithProtoc) {
  auto logs = sample_logs();
  auto d = protoc_decode("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
                         "opentelemetry/proto/collector/logs/v1/logs_service.proto",
                         obs::otlp::encode_logs_protobuf(resource(), logs));
  ASSERT_EQ(d.status, 0);
  expect_resource_lines(d.text);
  expect_lines_in_order(d.text, {
      "resource_logs {", "resource {", "scope_logs {", "scope {", "log_records {",
      "time_unix_nano: " + std::to_string(kStartNs),
      "severity_number: SEVERITY_NUMBER_WARN",
      "severity_text: \"WARN\"",
      "body {", "string_value: \"payment slow\\n\\\"retrying\\\"\"", "}",
      "attributes {", "key: \"order\"", "value {", "string_value: \"A-1\"", "}", "}",
      "attributes {", "key: \"attempt\"", "value {", "int_value: 3", "}", "}",
      "attributes {", "key: \"ms\"", "value {", "double_value: 12.5", "}", "}",
      "attributes {", "key: \"ok\"", "value {", "bool_value: true", "}", "}",
      "attributes {", "key: \"thread.id\"", "value {", "int_value: 140000000000001", "}", "}",
      "attributes {", "key: \"request_id\"", "value {", "string_value: \"req-77\"", "}", "}",
      "flags: 3",  // LogRecord.flags: the span's W3C trace flags
      "trace_id: " + escaped(trace_id().bytes),
      "span_id: " + escaped(span_id().bytes),
      "observed_time_unix_nano: " + std::to_string(kStartNs),
      "}",
      "log_records {",
      "time_unix_nano: " + std::to_string(kEndNs),
      "severity_number: SEVERITY_NUMBER_FATAL",
      "severity_text: \"FATAL\"",
      "body {", "string_value: \"plain\"", "}",
      "observed_time_unix_nano: " + std::to_string(kEndNs),
      "}",
  });
  EXPECT_EQ(count_of(d.text, "trace_id:"), 1u);
  EXPECT_EQ(count_of(d.text, "span_id:"), 1u);
  EXPECT_EQ(count_of(d.text, "flags:"), 1u);  // not outside a span
  EXPECT_EQ(count_of(d.text, "log_records {"), 2u);
}

TEST(OtlpLogs, SeverityMapping) {
  using L = obs::log::Level;
  const std::tuple<L, int, const char*> cases[] = {{L::Trace, 1, "TRACE"}, {L::Debug, 5, "DEBUG"}, {L::Info, 9, "INFO"},
                                                   {L::Warning, 13, "WARN"}, {L::Error, 17, "ERROR"}, {L::Critical, 21, "FATAL"}};
  for (auto [level, number, text] : cases) {
    EXPECT_EQ(obs::otlp::severity_number(level), number);
    EXPECT_EQ(obs::otlp::severity_text(level), text);
    std::vector<obs::LogRecord> logs(1);
    logs[0].level = level;
    auto d = protoc_decode("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
                           "opentelemetry/proto/collector/logs/v1/logs_service.proto",
                           obs::otlp::encode_logs_protobuf(resource(), logs));
    expect_lines_in_order(d.text, {std::string("severity_number: SEVERITY_NUMBER_") + text});
    auto j = nlohmann::json::parse(obs::otlp::encode_logs_json(resource(), logs));
    EXPECT_EQ(j["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["severityNumber"], number);
  }
}

TEST(OtlpLogs, Json) {
  auto logs = sample_logs();
  auto j = nlohmann::json::parse(obs::otlp::encode_logs_json(resource(), logs));
  const auto& rl = j["resourceLogs"][0];
  expect_json_resource(rl["resource"], rl["scopeLogs"][0]["scope"]);
  const auto& recs = rl["scopeLogs"][0]["logRecords"];
  ASSERT_EQ(recs.size(), 2u);
  const auto& r = recs[0];
  EXPECT_EQ(r["timeUnixNano"], std::to_string(kStartNs));
  EXPECT_EQ(r["observedTimeUnixNano"], std::to_string(kStartNs));
  EXPECT_EQ(r["severityNumber"], 13);
  EXPECT_EQ(r["severityText"], "WARN");
  EXPECT_EQ(r["body"], (nlohmann::json{{"stringValue", "payment slow\n\"retrying\""}}));
  EXPECT_EQ(r["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(r["spanId"], "00f067aa0ba902b7");
  EXPECT_EQ(r["attributes"], nlohmann::json::parse(R"([
    {"key":"order","value":{"stringValue":"A-1"}},
    {"key":"attempt","value":{"intValue":"3"}},
    {"key":"ms","value":{"doubleValue":12.5}},
    {"key":"ok","value":{"boolValue":true}},
    {"key":"thread.id","value":{"intValue":"140000000000001"}},
    {"key":"request_id","value":{"stringValue":"req-77"}}])"));
  const auto& p = recs[1];
  EXPECT_EQ(p["severityNumber"], 21);
  EXPECT_FALSE(p.contains("traceId"));
  EXPECT_FALSE(p.contains("spanId"));
  EXPECT_FALSE(p.contains("attributes"));
}

// --------------------------------------------------------------- metrics

obs::MetricsSnapshot sample_metrics() {
  obs::MetricsSnapshot snap;
  snap.time = at(kEndNs);

  obs::MetricFamilySnapshot counter;
  counter.name = "http_requests";
  counter.description = "Requests served";
  counter.type = obs::MetricType::Counter;
  counter.label_keys = {"method", "code"};
  obs::SeriesSnapshot a;
  a.label_values = {"GET", "200"};
  a.value = 42;
  obs::SeriesSnapshot overflow;
  overflow.overflow = true;
  overflow.value = 7;
  counter.series = {a, overflow};

  obs::MetricFamilySnapshot gauge;
  gauge.name = "queue_depth";
  gauge.type = obs::MetricType::Gauge;
  obs::SeriesSnapshot g;
  g.value = -1.5;
  gauge.series = {g};

  obs::MetricFamilySnapshot hist;
  hist.name = "latency_seconds";
  hist.description = "Latency";
  hist.type = obs::MetricType::Histogram;
  hist.label_keys = {"route"};
  obs::SeriesSnapshot h;
  h.label_values = {"/cart"};
  h.histogram.bounds = {0.1, 0.5};
  h.histogram.counts = {3, 0, 1};
  h.histogram.count = 4;
  h.histogram.sum = 2.75;
  obs::Exemplar ex;
  ex.value = 0.05;
  ex.trace_id = trace_id();
  ex.span_id = span_id();
  ex.time = at(kStartNs + 77);
  obs::Exemplar bare;  // no trace, no time
  bare.value = 2;
  h.histogram.exemplars = {ex, std::nullopt, bare};
  hist.series = {h};

  snap.families = {counter, gauge, hist};
  return snap;
}

TEST(OtlpMetrics, ProtobufDecodesWithProtoc) {
  auto snap = sample_metrics();
  auto d = protoc_decode("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
                         "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
                         obs::otlp::encode_metrics_protobuf(resource(), snap, at(kStartNs)));
  ASSERT_EQ(d.status, 0);
  expect_resource_lines(d.text);
  const auto start = "start_time_unix_nano: " + std::to_string(kStartNs);
  const auto now = "time_unix_nano: " + std::to_string(kEndNs);
  expect_lines_in_order(d.text, {
      "resource_metrics {", "resource {", "scope_metrics {", "scope {",
      "metrics {", "name: \"http_requests\"", "description: \"Requests served\"", "sum {",
      "data_points {",
      "start_time_unix_nano: " + std::to_string(kStartNs), now, "as_double: 42",
      "attributes {", "key: \"method\"", "value {", "string_value: \"GET\"", "}", "}",
      "attributes {", "key: \"code\"", "value {", "string_value: \"200\"", "}", "}",
      "}",
      "data_points {", start, now, "as_double: 7",
      "attributes {", "key: \"otel.metric.overflow\"", "value {", "bool_value: true", "}", "}",
      "}",
      "aggregation_temporality: AGGREGATION_TEMPORALITY_CUMULATIVE",
      "is_monotonic: true",
      "}", "}",
      "metrics {", "name: \"queue_depth\"", "gauge {", "data_points {", now, "as_double: -1.5", "}", "}", "}",
      "metrics {", "name: \"latency_seconds\"", "description: \"Latency\"", "histogram {", "data_points {",
      start, now, "count: 4", "sum: 2.75",
      "bucket_counts: 3", "bucket_counts: 0", "bucket_counts: 1",
      "explicit_bounds: 0.1", "explicit_bounds: 0.5",
      "exemplars {", "time_unix_nano: " + std::to_string(kStartNs + 77), "as_double: 0.05",
      "span_id: " + escaped(span_id().bytes), "trace_id: " + escaped(trace_id().bytes), "}",
      "exemplars {", "as_double: 2", "}",
      "attributes {", "key: \"route\"", "value {", "string_value: \"/cart\"", "}", "}",
      "}",
      "aggregation_temporality: AGGREGATION_TEMPORALITY_CUMULATIVE",
      "}", "}",
  });
  EXPECT_EQ(count_of(d.text, "exemplars {"), 2u);
  EXPECT_EQ(count_of(d.text, "start_time_unix_nano"), 3u);  // not on the gauge
  EXPECT_EQ(count_of(d.text, "otel.metric.overflow"), 1u);
}

// Every field of the metric model, checked by protoc against the official
// protos: unit, integer points (as_int), an up-down counter as a
// non-monotonic sum that stays cumulative under a delta preference,
// histogram min and max, the scope's schema_url, and no metric without
// data points.
obs::MetricsSnapshot model_metrics() {
  obs::MetricsSnapshot snap;
  snap.time = at(kEndNs);
  obs::MetricFamilySnapshot requests;
  requests.name = "http.server.requests";
  requests.unit = "{request}";
  requests.type = obs::MetricType::Counter;
  requests.integer = true;
  requests.series.emplace_back().int_value = 9007199254740993;  // 2^53 + 1: exact only as an integer
  requests.series.back().value = 9007199254740992.0;
  obs::MetricFamilySnapshot active;
  active.name = "http.server.active_requests";
  active.unit = "{request}";
  active.type = obs::MetricType::UpDownCounter;
  active.integer = true;
  active.series.emplace_back().int_value = -2;
  obs::MetricFamilySnapshot duration;
  duration.name = "http.server.request.duration";
  duration.unit = "s";
  duration.type = obs::MetricType::Histogram;
  auto& h = duration.series.emplace_back().histogram;
  h.bounds = {1};
  h.counts = {1, 1};
  h.count = 2;
  h.sum = 2.5;
  h.min = 0.25;
  h.max = 2.25;
  obs::MetricFamilySnapshot offsets;  // observed a negative value: OTLP leaves the sum out
  offsets.name = "clock.offset";
  offsets.unit = "s";
  offsets.type = obs::MetricType::Histogram;
  auto& o = offsets.series.emplace_back().histogram;
  o.bounds = {0};
  o.counts = {1, 1};
  o.count = 2;
  o.sum = 0.5;
  o.negative_observed = true;
  obs::MetricFamilySnapshot unused;  // registered, never recorded: no data points, so not sent
  unused.name = "never.used";
  snap.families = {requests, active, duration, offsets, unused};
  return snap;
}

TEST(OtlpMetrics, ModelFieldsDecodeWithProtoc) {
  constexpr std::uint64_t kSdkStartNs = kStartNs - 1000;
  auto d = protoc_decode("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
                         "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
                         obs::otlp::encode_metrics_protobuf(resource(), model_metrics(), at(kStartNs),
                                                            obs::otlp::Temporality::Delta, at(kSdkStartNs)));
  ASSERT_EQ(d.status, 0) << d.text;
  const auto now = "time_unix_nano: " + std::to_string(kEndNs);
  expect_lines_in_order(d.text, {
      "scope_metrics {", "scope {", "name: \"obs\"", "}",
      "metrics {", "name: \"http.server.requests\"", "unit: \"{request}\"", "sum {", "data_points {",
      "start_time_unix_nano: " + std::to_string(kStartNs), now, "as_int: 9007199254740993", "}",
      "aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA", "is_monotonic: true", "}", "}",
      "metrics {", "name: \"http.server.active_requests\"", "unit: \"{request}\"", "sum {", "data_points {",
      "start_time_unix_nano: " + std::to_string(kSdkStartNs), now, "as_int: -2", "}",
      "aggregation_temporality: AGGREGATION_TEMPORALITY_CUMULATIVE", "}", "}",
      "metrics {", "name: \"http.server.request.duration\"", "unit: \"s\"", "histogram {", "data_points {",
      "count: 2", "sum: 2.5", "bucket_counts: 1", "bucket_counts: 1", "explicit_bounds: 1",
      "min: 0.25", "max: 2.25", "}",
      "aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA", "}", "}",
      "metrics {", "name: \"clock.offset\"", "unit: \"s\"", "histogram {", "data_points {", "count: 2",
      "bucket_counts: 1", "}",
      "schema_url: \"https://opentelemetry.io/schemas/1.33.0\"",
  });
  EXPECT_EQ(count_of(d.text, "sum: "), 1u);  // the duration's; not the offsets'
  EXPECT_EQ(count_of(d.text, "sum: 0.5"), 0u);
  EXPECT_EQ(count_of(d.text, "is_monotonic"), 1u);  // the up-down counter's is false, the default
  EXPECT_EQ(count_of(d.text, "as_double"), 0u);
  EXPECT_EQ(count_of(d.text, "never.used"), 0u);

  auto j = nlohmann::json::parse(obs::otlp::encode_metrics_json(resource(), model_metrics(), at(kStartNs),
                                                                obs::otlp::Temporality::Delta, at(kSdkStartNs)));
  const auto& sm = j["resourceMetrics"][0]["scopeMetrics"][0];
  EXPECT_EQ(sm["schemaUrl"], "https://opentelemetry.io/schemas/1.33.0");
  const auto& m = sm["metrics"];
  ASSERT_EQ(m.size(), 4u);
  EXPECT_FALSE(m[3]["histogram"]["dataPoints"][0].contains("sum"));
  EXPECT_EQ(m[0]["unit"], "{request}");
  EXPECT_EQ(m[0]["sum"]["dataPoints"][0]["asInt"], "9007199254740993");
  EXPECT_EQ(m[1]["sum"]["isMonotonic"], false);
  EXPECT_EQ(m[1]["sum"]["aggregationTemporality"], 2);
  EXPECT_EQ(m[1]["sum"]["dataPoints"][0]["asInt"], "-2");
  EXPECT_EQ(m[1]["sum"]["dataPoints"][0]["startTimeUnixNano"], std::to_string(kSdkStartNs));
  EXPECT_EQ(m[2]["histogram"]["dataPoints"][0]["min"], 0.25);
  EXPECT_EQ(m[2]["histogram"]["dataPoints"][0]["max"], 2.25);
}

TEST(OtlpMetrics, Json) {
  auto snap = sample_metrics();
  auto j = nlohmann::json::parse(obs::otlp::encode_metrics_json(resource(), snap, at(kStartNs)));
  const auto& rm = j["resourceMetrics"][0];
  expect_json_resource(rm["resource"], rm["scopeMetrics"][0]["scope"]);
  const auto& ms = rm["scopeMetrics"][0]["metrics"];
  ASSERT_EQ(ms.size(), 3u);
  const auto s = std::to_string(kStartNs), t = std::to_string(kEndNs);

  EXPECT_EQ(ms[0], nlohmann::json::parse(R"({"name":"http_requests","description":"Requests served","sum":{
    "dataPoints":[
      {"attributes":[{"key":"method","value":{"stringValue":"GET"}},{"key":"code","value":{"stringValue":"200"}}],
       "startTimeUnixNano":")" + s + R"(","timeUnixNano":")" + t + R"(","asDouble":42},
      {"attributes":[{"key":"otel.metric.overflow","value":{"boolValue":true}}],
       "startTimeUnixNano":")" + s + R"(","timeUnixNano":")" + t + R"(","asDouble":7}],
    "aggregationTemporality":2,"isMonotonic":true}})"));
  EXPECT_EQ(ms[1], nlohmann::json::parse(R"({"name":"queue_depth","gauge":{"dataPoints":[
      {"timeUnixNano":")" + t + R"(","asDouble":-1.5}]}})"));
  EXPECT_EQ(ms[2], nlohmann::json::parse(R"({"name":"latency_seconds","description":"Latency","histogram":{
    "dataPoints":[{"attributes":[{"key":"route","value":{"stringValue":"/cart"}}],
      "startTimeUnixNano":")" + s + R"(","timeUnixNano":")" + t + R"(","count":"4","sum":2.75,
      "bucketCounts":["3","0","1"],"explicitBounds":[0.1,0.5],
      "exemplars":[{"timeUnixNano":")" + std::to_string(kStartNs + 77) + R"(","asDouble":0.05,
                    "spanId":"00f067aa0ba902b7","traceId":"4bf92f3577b34da6a3ce929d0e0e4736"},
                   {"asDouble":2}]}],
    "aggregationTemporality":2}})"));
}

TEST(OtlpMetrics, NonFiniteDoublesInJson) {
  obs::MetricsSnapshot snap;
  snap.time = at(kEndNs);
  obs::MetricFamilySnapshot g;
  g.name = "g";
  g.type = obs::MetricType::Gauge;
  g.series.resize(3);
  g.series[0].value = std::numeric_limits<double>::quiet_NaN();
  g.series[1].value = std::numeric_limits<double>::infinity();
  g.series[2].value = -std::numeric_limits<double>::infinity();
  snap.families = {g};
  auto j = nlohmann::json::parse(obs::otlp::encode_metrics_json(resource(), snap, at(kStartNs)));
  const auto& dp = j["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["gauge"]["dataPoints"];
  EXPECT_EQ(dp[0]["asDouble"], "NaN");
  EXPECT_EQ(dp[1]["asDouble"], "Infinity");
  EXPECT_EQ(dp[2]["asDouble"], "-Infinity");
}

TEST(OtlpEncoding, LargeBatchLengthPrefixesAreMultiByte) {
  // Messages over 127 and 16383 bytes need 2- and 3-byte length varints.
  std::vector<obs::SpanData> spans(300);
  for (auto& s : spans) {
    s.name = std::string(200, 'n');
    s.context.trace_id = trace_id();
    s.context.span_id = span_id();
  }
  auto bytes = obs::otlp::encode_traces_protobuf(resource(), spans);
  EXPECT_GT(bytes.size(), 60000u);
  auto d = protoc_decode("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                         "opentelemetry/proto/collector/trace/v1/trace_service.proto", bytes);
  EXPECT_EQ(count_of(d.text, "name: \"" + std::string(200, 'n') + "\""), 300u);
}


Decoded decode_traces(const std::string& bytes) {
  return protoc_decode("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                       "opentelemetry/proto/collector/trace/v1/trace_service.proto", bytes);
}
Decoded decode_logs(const std::string& bytes) {
  return protoc_decode("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
                       "opentelemetry/proto/collector/logs/v1/logs_service.proto", bytes);
}
Decoded decode_metrics(const std::string& bytes) {
  return protoc_decode("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
                       "opentelemetry/proto/collector/metrics/v1/metrics_service.proto", bytes);
}

// ----------------------------------------------------------------- links

obs::TraceId other_trace_id() {
  obs::TraceId t;
  for (std::size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<std::uint8_t>(0xa0 + i);
  return t;
}

// One span with two links: a sampled one with trace state and an attribute
// of each type, and a bare unsampled one.
std::vector<obs::SpanData> span_with_links() {
  std::vector<obs::SpanData> spans(1);
  auto& s = spans[0];
  s.name = "batch";
  s.context.trace_id = trace_id();
  s.context.span_id = span_id();
  s.start = at(kStartNs);
  s.end = at(kEndNs);
  obs::SpanLink full;
  full.context.trace_id = other_trace_id();
  full.context.span_id = parent_id();
  full.context.sampled = true;
  full.context.remote = true;  // a context extracted from another process
  full.context.trace_state = "vendor=xyz";
  full.attributes = {str_field("messaging.operation", "process"), int_field("batch.index", 3),
                     double_field("weight", 0.5), bool_field("retried", true)};
  obs::SpanLink bare;
  bare.context.trace_id = trace_id();
  bare.context.span_id = span_id();
  s.links = {full, bare};
  return spans;
}

TEST(OtlpLinks, ProtobufDecodesWithProtoc) {
  auto d = decode_traces(obs::otlp::encode_traces_protobuf(resource(), span_with_links()));
  ASSERT_EQ(d.status, 0);
  expect_lines_in_order(d.text, {
      "spans {",
      "trace_id: " + escaped(trace_id().bytes),
      "span_id: " + escaped(span_id().bytes),
      "name: \"batch\"",
      "kind: SPAN_KIND_INTERNAL",
      "start_time_unix_nano: " + std::to_string(kStartNs),
      "end_time_unix_nano: " + std::to_string(kEndNs),
      "links {",
      "trace_id: " + escaped(other_trace_id().bytes),
      "span_id: " + escaped(parent_id().bytes),
      "trace_state: \"vendor=xyz\"",
      "attributes {", "key: \"messaging.operation\"", "value {", "string_value: \"process\"", "}", "}",
      "attributes {", "key: \"batch.index\"", "value {", "int_value: 3", "}", "}",
      "attributes {", "key: \"weight\"", "value {", "double_value: 0.5", "}", "}",
      "attributes {", "key: \"retried\"", "value {", "bool_value: true", "}", "}",
      "flags: 769",  // 0x301: sampled, is-remote known, remote
      "}",
      "links {",
      "trace_id: " + escaped(trace_id().bytes),
      "span_id: " + escaped(span_id().bytes),
      "flags: 256",  // 0x100: known to be local
      "}",
      "}",
  });
  EXPECT_EQ(count_of(d.text, "links {"), 2u);
  // The bare link carries no W3C flags or trace state; the span's own flags close the span.
  EXPECT_EQ(count_of(d.text, "flags:"), 3u);
  EXPECT_EQ(count_of(d.text, "trace_state:"), 1u);
  const auto bare = d.text.substr(d.text.rfind("links {"));
  EXPECT_EQ(bare, "links {\ntrace_id: " + escaped(trace_id().bytes) + "\nspan_id: " + escaped(span_id().bytes) +
                      "\nflags: 256\n}\nflags: 256\n}\nschema_url: \"https://opentelemetry.io/schemas/1.33.0\"\n}\n}\n");
}

TEST(OtlpLinks, Json) {
  auto j = nlohmann::json::parse(obs::otlp::encode_traces_json(resource(), span_with_links()));
  const auto& s = j["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(s["links"], nlohmann::json::parse(R"([
    {"traceId":")" + other_trace_id().hex() + R"(","spanId":")" + parent_id().hex() + R"(",
     "traceState":"vendor=xyz",
     "attributes":[{"key":"messaging.operation","value":{"stringValue":"process"}},
                   {"key":"batch.index","value":{"intValue":"3"}},
                   {"key":"weight","value":{"doubleValue":0.5}},
                   {"key":"retried","value":{"boolValue":true}}],
     "flags":769},
    {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","flags":256}])"));
  auto none = nlohmann::json::parse(obs::otlp::encode_traces_json(resource(), sample_spans()));
  for (const auto& span : none["resourceSpans"][0]["scopeSpans"][0]["spans"]) EXPECT_FALSE(span.contains("links"));
}

// -------------------------------------------------- resource attributes

// Extra attributes as configured: some new, some repeating a built-in key,
// a duplicate, an empty key. The SDK found no host name, so the
// configured host.name fills in.
obs::Resource resource_with_extras() {
  auto r = resource();
  r.host.clear();
  r.attributes = {{"k8s.pod.name", "pod-7"}, {"service.name", "shadowed"}, {"team", "payments"},
                  {"team", "second"},        {"", "nameless"},            {"host.name", "from-config"},
                  {"telemetry.sdk.language", "rust"}, {"note", ""}};
  return r;
}

// The attributes the encoders should emit for resource_with_extras(), in order.
const std::vector<std::pair<std::string, std::string>>& expected_extras_resource() {
  static const std::vector<std::pair<std::string, std::string>> kExpected = {
      {"service.name", "checkout"}, {"service.version", "1.2.3"}, {"deployment.environment.name", "staging"},
      {"process.pid", ""},  // int, checked separately
      {"telemetry.sdk.name", "obs"}, {"telemetry.sdk.language", "cpp"}, {"telemetry.sdk.version", OBS_VERSION},
      {"k8s.pod.name", "pod-7"}, {"team", "payments"}, {"host.name", "from-config"}, {"note", ""}};
  return kExpected;
}

TEST(OtlpResource, ExtraAttributesFollowTheBuiltInsWithoutRepeatingAKey) {
  auto d = decode_traces(obs::otlp::encode_traces_protobuf(resource_with_extras(), {}));
  ASSERT_EQ(d.status, 0);
  std::vector<std::string> lines = {"resource {"};
  for (const auto& [key, value] : expected_extras_resource()) {
    lines.insert(lines.end(), {"attributes {", "key: \"" + key + "\"", "value {",
                               key == "process.pid" ? "int_value: 4242" : "string_value: " + escaped(value), "}", "}"});
  }
  lines.insert(lines.end(), {"}", "scope_spans {"});
  // The resource block, exactly: nothing between or after the expected attributes.
  std::string expected;
  for (const auto& l : lines) expected += l + "\n";
  const auto begin = d.text.find("resource {\n");
  ASSERT_NE(begin, std::string::npos);
  EXPECT_EQ(d.text.substr(begin, expected.size()), expected) << d.text;
  for (const char* gone : {"shadowed", "second", "nameless", "rust"}) EXPECT_EQ(count_of(d.text, gone), 0u) << gone;
}

TEST(OtlpResource, ExtraAttributesInJsonForEverySignal) {
  nlohmann::json expected = nlohmann::json::array();
  for (const auto& [key, value] : expected_extras_resource()) {
    expected.push_back({{"key", key},
                        {"value", key == "process.pid" ? nlohmann::json{{"intValue", "4242"}}
                                                       : nlohmann::json{{"stringValue", value}}}});
  }
  const auto r = resource_with_extras();
  obs::MetricsSnapshot snap;
  snap.time = at(kEndNs);
  const auto traces = nlohmann::json::parse(obs::otlp::encode_traces_json(r, {}));
  const auto logs = nlohmann::json::parse(obs::otlp::encode_logs_json(r, {}));
  const auto metrics = nlohmann::json::parse(obs::otlp::encode_metrics_json(r, snap, at(kStartNs)));
  EXPECT_EQ(traces["resourceSpans"][0]["resource"]["attributes"], expected);
  EXPECT_EQ(logs["resourceLogs"][0]["resource"]["attributes"], expected);
  EXPECT_EQ(metrics["resourceMetrics"][0]["resource"]["attributes"], expected);
}

TEST(OtlpResource, ExtraAttributesInLogsAndMetricsProtobuf) {
  const auto r = resource_with_extras();
  obs::MetricsSnapshot snap;
  snap.time = at(kEndNs);
  for (const auto& d : {decode_logs(obs::otlp::encode_logs_protobuf(r, {})),
                        decode_metrics(obs::otlp::encode_metrics_protobuf(r, snap, at(kStartNs)))}) {
    ASSERT_EQ(d.status, 0);
    expect_lines_in_order(d.text, {"resource {", "key: \"telemetry.sdk.version\"",
                                   "key: \"k8s.pod.name\"", "string_value: \"pod-7\"",
                                   "key: \"team\"", "string_value: \"payments\"",
                                   "key: \"host.name\"", "string_value: \"from-config\"",
                                   "key: \"note\"", "string_value: \"\""});
    EXPECT_EQ(count_of(d.text, "key: \"team\""), 1u);
    EXPECT_EQ(count_of(d.text, "key: \"service.name\""), 1u);
  }
}

// ----------------------------------------------------------------- UTF-8

const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD, as UTF-8

TEST(OtlpUtf8, RepairReplacesEachMaximalIllFormedSubpart) {
  const std::string r = kFffd;
  const std::pair<std::string, std::string> cases[] = {
      // well-formed, at the edges of each length and around the surrogates
      {"", ""},
      {std::string("nul\0inside", 10), std::string("nul\0inside", 10)},
      {"\x7f \xc2\x80 \xdf\xbf", "\x7f \xc2\x80 \xdf\xbf"},
      {"\xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf", "\xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf"},
      {"\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf"},
      {"é 日本 😀", "é 日本 😀"},
      // ill-formed
      {"\xff", r},
      {"\x80\xbf", r + r},                                  // stray continuation bytes
      {"a\xe6\x97", "a" + r},                              // truncated at the end: one replacement
      {"\xe6\x97 b", r + " b"},                            // truncated before ASCII
      {"\xf0\x9f\x98!", r + "!"},                          // truncated 4-byte sequence
      {"\xc0\xaf", r + r},                                 // overlong '/'
      {"\xe0\x80\xaf", r + r + r},                         // overlong, 3 bytes
      {"\xf0\x80\x80\x80", r + r + r + r},                 // overlong, 4 bytes
      {"\xed\xa0\x80", r + r + r},                         // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", r + r + r + r},                 // above U+10FFFF
      {"\xf5\x80", r + r},
      {"\xe6\x97\xe6\x97\xa5", r + "\xe6\x97\xa5"},        // a cut character, then a whole one
      {std::string(20, 'a') + "\xff" + std::string(9, 'b'), std::string(20, 'a') + r + std::string(9, 'b')},
  };
  for (const auto& [input, expected] : cases) {
    std::string out = "prefix:";
    obs::text::append_utf8_repaired(out, input);
    EXPECT_EQ(out, "prefix:" + expected) << escaped(input);
    EXPECT_EQ(obs::text::is_valid_utf8(input), input == expected) << escaped(input);
  }
}

// Ill-formed bytes in every kind of string the encoders write; each should
// come out with U+FFFD, and well-formed multi-byte text unchanged.
const std::string kMixed = std::string("ok é 日本 😀 |\xff|\xe6\x97|\xc0\xaf|\xed\xa0\x80|");
const std::string kMixedRepaired = "ok é 日本 😀 |" + kFffd + "|" + kFffd + "|" + kFffd + kFffd + "|" + kFffd + kFffd + kFffd + "|";

TEST(OtlpUtf8, LogsAreRepairedInProtobufAndJson) {
  std::vector<obs::LogRecord> logs(1);
  logs[0].time = at(kStartNs);
  logs[0].level = obs::log::Level::Info;
  logs[0].message = kMixed;
  logs[0].fields = {str_field("key\xff", kMixed)};
  logs[0].request_id = "req\xc0";
  auto r = resource();
  r.service = "svc\xed\xa0\x80";
  r.attributes = {{"extra\xff", kMixed}};

  auto d = decode_logs(obs::otlp::encode_logs_protobuf(r, logs));
  ASSERT_EQ(d.status, 0);
  expect_lines_in_order(d.text, {
      "key: \"service.name\"", "string_value: " + escaped("svc" + kFffd + kFffd + kFffd),
      "key: " + escaped("extra" + kFffd), "string_value: " + escaped(kMixedRepaired),
      "body {", "string_value: " + escaped(kMixedRepaired), "}",
      "key: " + escaped("key" + kFffd), "string_value: " + escaped(kMixedRepaired),
      "key: \"request_id\"", "string_value: " + escaped("req" + kFffd),
  });

  auto j = nlohmann::json::parse(obs::otlp::encode_logs_json(r, logs));  // throws on ill-formed UTF-8
  const auto& rl = j["resourceLogs"][0];
  const auto& res = rl["resource"]["attributes"];
  EXPECT_EQ(res[0]["value"]["stringValue"], "svc" + kFffd + kFffd + kFffd);
  EXPECT_EQ(res.back(), (nlohmann::json{{"key", "extra" + kFffd}, {"value", {{"stringValue", kMixedRepaired}}}}));
  const auto& rec = rl["scopeLogs"][0]["logRecords"][0];
  EXPECT_EQ(rec["body"]["stringValue"], kMixedRepaired);
  EXPECT_EQ(rec["attributes"], (nlohmann::json{{{"key", "key" + kFffd}, {"value", {{"stringValue", kMixedRepaired}}}},
                                              {{"key", "request_id"}, {"value", {{"stringValue", "req" + kFffd}}}}}));
}

TEST(OtlpUtf8, SpansAreRepairedInProtobufAndJson) {
  auto spans = span_with_links();
  auto& s = spans[0];
  s.name = "name\xff";
  s.context.trace_state = "k=\xe6\x97";
  s.attributes = {str_field("attr\xc0\xaf", kMixed)};
  obs::SpanEvent ev;
  ev.time = at(kStartNs);
  ev.name = "event\xff";
  ev.attributes = {str_field("e", "\xed\xa0\x80")};
  s.events = {ev};
  s.links[0].context.trace_state = "v=\xff";
  s.links[0].attributes = {str_field("l", "\xe6\x97")};
  s.links.resize(1);
  s.status = obs::SpanStatus::Error;
  s.status_message = "bad \xc0";

  auto d = decode_traces(obs::otlp::encode_traces_protobuf(resource(), spans));
  ASSERT_EQ(d.status, 0);
  expect_lines_in_order(d.text, {
      "spans {",
      "trace_state: " + escaped("k=" + kFffd),
      "name: " + escaped("name" + kFffd),
      "key: " + escaped("attr" + kFffd + kFffd), "string_value: " + escaped(kMixedRepaired),
      "events {", "name: " + escaped("event" + kFffd), "key: \"e\"", "string_value: " + escaped(kFffd + kFffd + kFffd),
      "links {", "trace_state: " + escaped("v=" + kFffd), "key: \"l\"", "string_value: " + escaped(kFffd),
      "status {", "message: " + escaped("bad " + kFffd),
  });

  auto j = nlohmann::json::parse(obs::otlp::encode_traces_json(resource(), spans));
  const auto& out = j["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(out["traceState"], "k=" + kFffd);
  EXPECT_EQ(out["name"], "name" + kFffd);
  EXPECT_EQ(out["attributes"][0], (nlohmann::json{{"key", "attr" + kFffd + kFffd}, {"value", {{"stringValue", kMixedRepaired}}}}));
  EXPECT_EQ(out["events"][0]["name"], "event" + kFffd);
  EXPECT_EQ(out["events"][0]["attributes"][0]["value"]["stringValue"], kFffd + kFffd + kFffd);
  EXPECT_EQ(out["links"][0]["traceState"], "v=" + kFffd);
  EXPECT_EQ(out["links"][0]["attributes"][0]["value"]["stringValue"], kFffd);
  EXPECT_EQ(out["status"]["message"], "bad " + kFffd);
}

TEST(OtlpUtf8, MetricLabelsAndHelpAreRepaired) {
  obs::MetricsSnapshot snap;
  snap.time = at(kEndNs);
  obs::MetricFamilySnapshot g;
  g.name = "g";
  g.description = "help \xff";
  g.type = obs::MetricType::Gauge;
  g.label_keys = {"user"};
  g.series.resize(1);
  g.series[0].label_values = {"jos\xe9"};  // Latin-1 'é'
  snap.families = {g};
  auto d = decode_metrics(obs::otlp::encode_metrics_protobuf(resource(), snap, at(kStartNs)));
  ASSERT_EQ(d.status, 0);
  expect_lines_in_order(d.text, {"description: " + escaped("help " + kFffd), "string_value: " + escaped("jos" + kFffd)});
  auto j = nlohmann::json::parse(obs::otlp::encode_metrics_json(resource(), snap, at(kStartNs)));
  const auto& m = j["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0];
  EXPECT_EQ(m["description"], "help " + kFffd);
  EXPECT_EQ(m["gauge"]["dataPoints"][0]["attributes"][0]["value"]["stringValue"], "jos" + kFffd);
}

TEST(OtlpUtf8, WellFormedTextIsWrittenUnchanged) {
  std::vector<obs::LogRecord> logs(1);
  logs[0].message = "é 日本 😀 \xf4\x8f\xbf\xbf";
  auto d = decode_logs(obs::otlp::encode_logs_protobuf(resource(), logs));
  expect_lines_in_order(d.text, {"body {", "string_value: " + escaped(logs[0].message), "}"});
  auto j = nlohmann::json::parse(obs::otlp::encode_logs_json(resource(), logs));
  EXPECT_EQ(j["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"]["stringValue"], logs[0].message);
}

// ------------------------------------------------------ delta temporality

TEST(OtlpMetrics, DeltaTemporalityInProtobuf) {
  EXPECT_EQ(obs::otlp::temporality_number(obs::otlp::Temporality::Delta), 1);
  EXPECT_EQ(obs::otlp::temporality_number(obs::otlp::Temporality::Cumulative), 2);
  auto d = decode_metrics(obs::otlp::encode_metrics_protobuf(resource(), sample_metrics(), at(kStartNs),
                                                             obs::otlp::Temporality::Delta));
  ASSERT_EQ(d.status, 0);
  expect_lines_in_order(d.text, {
      "name: \"http_requests\"", "sum {", "aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA", "is_monotonic: true", "}",
      "name: \"queue_depth\"", "gauge {",
      "name: \"latency_seconds\"", "histogram {", "aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA", "}",
  });
  EXPECT_EQ(count_of(d.text, "aggregation_temporality:"), 2u);
  EXPECT_EQ(count_of(d.text, "CUMULATIVE"), 0u);
  // Only the label changes: the points (and their start times) are as given.
  EXPECT_EQ(count_of(d.text, "start_time_unix_nano: " + std::to_string(kStartNs)), 3u);
}

TEST(OtlpMetrics, DeltaTemporalityInJson) {
  auto delta = nlohmann::json::parse(obs::otlp::encode_metrics_json(resource(), sample_metrics(), at(kStartNs),
                                                                    obs::otlp::Temporality::Delta));
  auto cumulative = nlohmann::json::parse(obs::otlp::encode_metrics_json(resource(), sample_metrics(), at(kStartNs)));
  auto& dm = delta["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
  auto& cm = cumulative["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
  EXPECT_EQ(dm[0]["sum"]["aggregationTemporality"], 1);
  EXPECT_EQ(dm[0]["sum"]["isMonotonic"], true);
  EXPECT_FALSE(dm[1]["gauge"].contains("aggregationTemporality"));
  EXPECT_EQ(dm[2]["histogram"]["aggregationTemporality"], 1);
  EXPECT_EQ(cm[0]["sum"]["aggregationTemporality"], 2);
  EXPECT_EQ(cm[2]["histogram"]["aggregationTemporality"], 2);
  // Everything else is the same as the cumulative encoding.
  dm[0]["sum"]["aggregationTemporality"] = 2;
  dm[2]["histogram"]["aggregationTemporality"] = 2;
  EXPECT_EQ(delta, cumulative);
}

// ---------------------------------------------------------------- array values

// Fields as the SDK copies them from a call site: Field (pointing at the
// caller's elements), then OwnedField::assign.
std::vector<OwnedField> array_fields() {
  const std::vector<std::string> tags = {"a", "b\"c", ""};
  const std::array<int, 3> ids = {7, -1, 2147483647};
  const std::vector<double> ratios = {0.5, -2.25};
  const bool flags[] = {true, false};
  const std::vector<std::string_view> none;
  std::vector<OwnedField> out(5);
  out[0].assign(obs::Field("tags", tags));
  out[1].assign(obs::Field("ids", ids));
  out[2].assign(obs::Field("ratios", ratios));
  out[3].assign(obs::Field("flags", flags));
  out[4].assign(obs::Field("none", none));
  return out;
}

const char* const kArrayValuesJson = R"([
  {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"stringValue":"b\"c"},{"stringValue":""}]}}},
  {"key":"ids","value":{"arrayValue":{"values":[{"intValue":"7"},{"intValue":"-1"},{"intValue":"2147483647"}]}}},
  {"key":"ratios","value":{"arrayValue":{"values":[{"doubleValue":0.5},{"doubleValue":-2.25}]}}},
  {"key":"flags","value":{"arrayValue":{"values":[{"boolValue":true},{"boolValue":false}]}}},
  {"key":"none","value":{"arrayValue":{"values":[]}}}])";

const std::initializer_list<std::string> kArrayValueLines = {
    "attributes {", "key: \"tags\"", "value {", "array_value {",
    "values {", "string_value: \"a\"", "}", "values {", "string_value: \"b\\\"c\"", "}", "values {", "string_value: \"\"", "}",
    "}", "}", "}",
    "attributes {", "key: \"ids\"", "value {", "array_value {",
    "values {", "int_value: 7", "}", "values {", "int_value: -1", "}", "values {", "int_value: 2147483647", "}",
    "}", "}", "}",
    "attributes {", "key: \"ratios\"", "value {", "array_value {",
    "values {", "double_value: 0.5", "}", "values {", "double_value: -2.25", "}",
    "}", "}", "}",
    "attributes {", "key: \"flags\"", "value {", "array_value {",
    "values {", "bool_value: true", "}", "values {", "bool_value: false", "}",
    "}", "}", "}",
    "attributes {", "key: \"none\"", "value {", "array_value {", "}", "}", "}",
};

TEST(OtlpArrayValues, SpanAttributesEventsAndLinksDecodeWithProtoc) {
  auto spans = sample_spans();
  spans.resize(1);
  spans[0].attributes = array_fields();
  spans[0].events[0].attributes = array_fields();
  auto d = protoc_decode("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
                         "opentelemetry/proto/collector/trace/v1/trace_service.proto",
                         obs::otlp::encode_traces_protobuf(resource(), spans));
  ASSERT_EQ(d.status, 0) << d.text;
  expect_lines_in_order(d.text, {"spans {"});
  expect_lines_in_order(d.text, kArrayValueLines);
  EXPECT_EQ(count_of(d.text, "array_value {"), 10u);  // 5 on the span, 5 on its event
  EXPECT_EQ(count_of(d.text, "string_value: \"b\\\"c\""), 2u);
}

TEST(OtlpArrayValues, LogFieldsDecodeWithProtoc) {
  auto logs = sample_logs();
  logs.resize(1);
  logs[0].fields = array_fields();
  auto d = protoc_decode("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
                         "opentelemetry/proto/collector/logs/v1/logs_service.proto",
                         obs::otlp::encode_logs_protobuf(resource(), logs));
  ASSERT_EQ(d.status, 0) << d.text;
  expect_lines_in_order(d.text, {"log_records {"});
  expect_lines_in_order(d.text, kArrayValueLines);
  EXPECT_EQ(count_of(d.text, "array_value {"), 5u);
}

TEST(OtlpArrayValues, Json) {
  auto spans = sample_spans();
  spans.resize(1);
  spans[0].attributes = array_fields();
  auto t = nlohmann::json::parse(obs::otlp::encode_traces_json(resource(), spans));
  EXPECT_EQ(t["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"], nlohmann::json::parse(kArrayValuesJson));

  auto logs = sample_logs();
  logs.resize(1);
  logs[0].fields = array_fields();
  auto l = nlohmann::json::parse(obs::otlp::encode_logs_json(resource(), logs));
  const auto& attrs = l["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"];
  const auto expected = nlohmann::json::parse(kArrayValuesJson);
  ASSERT_GE(attrs.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(attrs[i], expected[i]);
}

TEST(OtlpArrayValues, NonFiniteAndIllFormedElementsStayValid) {
  const std::vector<double> odd = {std::numeric_limits<double>::infinity(), std::nan("")};
  const std::vector<std::string> bad = {"ok", "x\xff"};
  std::vector<OwnedField> fields(2);
  fields[0].assign(obs::Field("odd", odd));
  fields[1].assign(obs::Field("bad", bad));
  auto logs = sample_logs();
  logs.resize(1);
  logs[0].fields = fields;
  auto l = nlohmann::json::parse(obs::otlp::encode_logs_json(resource(), logs));
  const auto& attrs = l["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"];
  EXPECT_EQ(attrs[0]["value"], nlohmann::json::parse(R"({"arrayValue":{"values":[{"doubleValue":"Infinity"},{"doubleValue":"NaN"}]}})"));
  EXPECT_EQ(attrs[1]["value"], nlohmann::json::parse(R"({"arrayValue":{"values":[{"stringValue":"ok"},{"stringValue":"x\ufffd"}]}})"));
  auto d = protoc_decode("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
                         "opentelemetry/proto/collector/logs/v1/logs_service.proto",
                         obs::otlp::encode_logs_protobuf(resource(), logs));
  ASSERT_EQ(d.status, 0) << d.text;
  expect_lines_in_order(d.text, {"key: \"odd\"", "double_value: inf", "double_value: nan",
                                 "key: \"bad\"", "string_value: \"ok\"", "string_value: " + escaped("x\xEF\xBF\xBD")});
}

}  // namespace
