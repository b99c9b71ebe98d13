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
#include <vector>

#include "backends/otlp/otlp_encoder.hpp"
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

// protoc's text format escaping of a bytes field (CEscape).
template <std::size_t N>
std::string escaped(const std::array<std::uint8_t, N>& bytes) {
  std::string out = "\"";
  for (auto b : bytes) {
    switch (b) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (b < 0x20 || b >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%03o", b);
          out += buf;
        } else {
          out += static_cast<char>(b);
        }
    }
  }
  return out + "\"";
}

struct Decoded {
  int status = -1;
  std::string text;
};

// Runs `protoc --decode=<type>` on `bytes`; the text output with each line's
// indentation removed.
Decoded protoc_decode(const std::string& type, const std::string& proto, const std::string& bytes) {
  Decoded d;
  std::string protoc = OBS_PROTOC;
  if (protoc.empty()) {
    ADD_FAILURE() << "protoc was not found when configuring: install protobuf-compiler "
                     "(scripts/install-deps.sh) and re-run cmake";
    return d;
  }
  char path[] = "/tmp/obs_otlp_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    ADD_FAILURE() << "mkstemp failed";
    return d;
  }
  {
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  close(fd);
  std::string cmd = "'" + protoc + "' --decode=" + type + " -I '" + OBS_PROTO_DIR + "' " + proto + " < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    ADD_FAILURE() << "popen failed: " << cmd;
    unlink(path);
    return d;
  }
  std::string raw;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) raw.append(buf, n);
  int rc = pclose(p);
  unlink(path);
  d.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::istringstream in(raw);
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.find_first_not_of(' ');
    d.text += (pos == std::string::npos ? "" : line.substr(pos)) + "\n";
  }
  EXPECT_EQ(d.status, 0) << "protoc failed:\n" << raw;
  return d;
}

// Every expected line appears in `text`, as a whole line, in this order.
void expect_lines_in_order(const std::string& text, std::initializer_list<std::string> lines) {
  const std::string t = "\n" + text;
  std::size_t pos = 0;  // at a '\n' that may start the next match
  for (const auto& l : lines) {
    auto found = t.find("\n" + l + "\n", pos);
    if (found == std::string::npos) {
      ADD_FAILURE() << "line not found (in order): " << l << "\nin:\n" << text;
      return;
    }
    pos = found + l.size() + 1;
  }
}

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
      "attributes {", "key: \"deployment.environment\"", "value {", "string_value: \"staging\"", "}", "}",
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
  EXPECT_EQ(attrs["deployment.environment"], (nlohmann::json{{"stringValue", "staging"}}));
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
  s.context.trace_state = "vendor=abc,other=1";
  s.parent_span_id = parent_id();
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
      "events {", "time_unix_nano: " + std::to_string(kStartNs + 1000), "name: \"exception\"",
      "attributes {", "key: \"exception.message\"", "value {", "string_value: \"boom\"", "}", "}", "}",
      "status {", "message: \"upstream failed\"", "code: STATUS_CODE_ERROR", "}",
      "flags: 1",
      "}",
      "spans {",
      "trace_id: " + escaped(trace_id().bytes),
      "span_id: " + escaped(parent_id().bytes),
      "name: \"db\"",
      "kind: SPAN_KIND_CLIENT",
      "start_time_unix_nano: " + std::to_string(kStartNs),
      "end_time_unix_nano: " + std::to_string(kStartNs + 5),
      "}",
  });
  EXPECT_EQ(count_of(d.text, "spans {"), 4u);  // resource_spans, scope_spans, 2 spans
  EXPECT_EQ(count_of(d.text, "parent_span_id"), 1u);
  EXPECT_EQ(count_of(d.text, "status {"), 1u);
  EXPECT_EQ(count_of(d.text, "flags:"), 1u);
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
  EXPECT_EQ(s["flags"], 1);
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
  EXPECT_FALSE(c.contains("flags"));
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
  counter.help = "Requests served";
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
  hist.help = "Latency";
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

}  // namespace
