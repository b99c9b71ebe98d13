// Datadog wire formats without a network: log entries (schema, reserved
// names, truncation), request packing within the intake's limits, series
// and DogStatsD lines, histogram aggregates, and the DD_* configuration.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "backends/datadog/datadog_encoder.hpp"
#include "obs/config.hpp"
#include "support/numbered.hpp"

namespace {

using nlohmann::json;
namespace dd = obs::datadog;

obs::LogRecord record(std::string message) {
  obs::LogRecord r;
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  r.level = obs::log::Level::Warning;
  r.message = std::move(message);
  return r;
}

obs::OwnedField field(std::string key, std::string value) {
  obs::OwnedField f;
  f.key = std::move(key);
  f.str = std::move(value);
  f.type = obs::FieldType::String;
  return f;
}

dd::LogContext context() {
  dd::LogContext c;
  c.service = "svc";
  c.hostname = "host-1";
  c.source = "cpp";
  c.ddtags = "env:prod,service:svc,version:1.2.3";
  return c;
}

TEST(DatadogIds, DecimalOfTheLow64Bits) {
  obs::TraceId t;
  for (int i = 0; i < 16; ++i) t.bytes[i] = static_cast<std::uint8_t>(i + 1);
  // Low 8 bytes 09 0a 0b 0c 0d 0e 0f 10.
  EXPECT_EQ(dd::decimal_id(t), std::to_string(0x090a0b0c0d0e0f10ULL));
  obs::SpanId s;
  s.bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(dd::decimal_id(s), "18446744073709551615");
  EXPECT_EQ(dd::decimal_id(obs::TraceId{}), "");
}

TEST(DatadogLogs, EntryCarriesTheReservedAttributesAndFields) {
  auto r = record("payment failed");
  r.fields.push_back(field("user", "ada"));
  r.fields.push_back(field("status", "declined"));  // would clash with Datadog's status
  obs::OwnedField n;
  n.key = "amount";
  n.type = obs::FieldType::Double;
  n.d = 12.5;
  r.fields.push_back(n);
  obs::OwnedField nan;
  nan.key = "ratio";
  nan.type = obs::FieldType::Double;
  nan.d = std::nan("");
  r.fields.push_back(nan);
  r.request_id = "req-1";
  for (int i = 0; i < 16; ++i) r.trace_id.bytes[i] = 1;
  r.span_id.bytes = {0, 0, 0, 0, 0, 0, 1, 0};
  bool truncated = true;
  const auto j = json::parse(dd::encode_log_entry(r, context(), truncated));
  EXPECT_FALSE(truncated);
  EXPECT_EQ(j["message"], "payment failed");
  EXPECT_EQ(j["status"], "warning");
  EXPECT_EQ(j["service"], "svc");
  EXPECT_EQ(j["ddsource"], "cpp");
  EXPECT_EQ(j["ddtags"], "env:prod,service:svc,version:1.2.3");
  EXPECT_EQ(j["hostname"], "host-1");
  EXPECT_EQ(j["timestamp"], 1700000000123LL);
  EXPECT_EQ(j["dd"]["trace_id"], std::to_string(0x0101010101010101ULL));
  EXPECT_EQ(j["dd"]["span_id"], "256");
  EXPECT_EQ(j["request_id"], "req-1");
  EXPECT_EQ(j["user"], "ada");
  EXPECT_EQ(j["field.status"], "declined");
  EXPECT_EQ(j["amount"], 12.5);
  EXPECT_EQ(j["ratio"], "nan");
  EXPECT_FALSE(j.contains("obs.truncated"));
}

TEST(DatadogLogs, ArrayFieldsAreJsonArraysAndCutWithTheOtherFields) {
  const std::vector<std::string> hosts = {"db-1", "db-2"};
  const std::vector<double> odd = {0.5, std::numeric_limits<double>::infinity()};
  auto r = record("fan-out");
  r.fields.resize(4);
  r.fields[0].assign(obs::Field("hosts", hosts));
  r.fields[1].assign(obs::Field("ids", {1, 2}));
  r.fields[2].assign(obs::Field("ratios", odd));
  r.fields[3].assign(obs::Field("flags", {true, false}));
  bool truncated = true;
  auto j = json::parse(dd::encode_log_entry(r, context(), truncated));
  EXPECT_FALSE(truncated);
  EXPECT_EQ(j["hosts"], json::parse(R"(["db-1","db-2"])"));
  EXPECT_EQ(j["ids"], json::parse("[1,2]"));
  EXPECT_EQ(j["ratios"], json::parse(R"([0.5,"inf"])"));
  EXPECT_EQ(j["flags"], json::parse("[true,false]"));

  // Too big for the entry: the array keeps about 1 KiB of elements and says it was cut.
  auto c = context();
  c.max_entry_bytes = 20000;
  const std::vector<std::string> many(100, std::string(300, 'x'));
  r.fields[0].assign(obs::Field("hosts", many));
  const std::string entry = dd::encode_log_entry(r, c, truncated);
  EXPECT_TRUE(truncated);
  EXPECT_LE(entry.size(), 20000u);
  j = json::parse(entry);
  ASSERT_EQ(j["hosts"].size(), 4u);  // 3 elements of 300 bytes, then the marker
  EXPECT_EQ(j["hosts"][3], std::string(dd::kTruncatedMarker));
  EXPECT_EQ(j["ids"], json::parse("[1,2]"));
}

TEST(DatadogLogs, StatusPerLevel) {
  using L = obs::log::Level;
  const std::map<L, std::string> expected{{L::Trace, "debug"},   {L::Debug, "debug"}, {L::Info, "info"},
                                          {L::Warning, "warning"}, {L::Error, "error"}, {L::Critical, "critical"}};
  for (const auto& [level, status] : expected) EXPECT_EQ(dd::status(level), status);
}

TEST(DatadogLogs, OversizedMessageIsCutToTheLimitWithAMarker) {
  auto c = context();
  c.max_entry_bytes = 10000;
  // Quotes and multi-byte characters: escaping grows the JSON, cuts must
  // not split a character.
  std::string message;
  while (message.size() < 50000) message += "\"é\" ";
  auto r = record(message);
  r.fields.push_back(field("user", "ada"));
  bool truncated = false;
  const std::string entry = dd::encode_log_entry(r, c, truncated);
  EXPECT_TRUE(truncated);
  EXPECT_LE(entry.size(), 10000u);
  EXPECT_GT(entry.size(), 9000u) << "as much of the message as fits is kept";
  const auto j = json::parse(entry);  // valid UTF-8 and JSON
  const std::string m = j["message"];
  EXPECT_TRUE(m.ends_with(dd::kTruncatedMarker));
  EXPECT_TRUE(message.starts_with(m.substr(0, m.size() - dd::kTruncatedMarker.size())));
  EXPECT_EQ(j["obs.truncated"], true);
  EXPECT_EQ(j["user"], "ada");
}

TEST(DatadogLogs, InvalidUtf8AndLongRequestIdsStillFit) {
  auto c = context();
  c.max_entry_bytes = 2000;
  auto r = record(std::string(5000, '\x80'));  // continuation bytes only
  r.request_id = std::string(5000, 'r');
  bool truncated = false;
  const std::string entry = dd::encode_log_entry(r, c, truncated);
  EXPECT_TRUE(truncated);
  EXPECT_LE(entry.size(), 2000u);
  const auto j = json::parse(entry);
  EXPECT_GT(std::string(j["message"]).size(), 1000u) << "the message is cut, not dropped";
  EXPECT_EQ(std::string(j["request_id"]).size(), 256u);
}

TEST(DatadogLogs, OversizedFieldsAreCutThenDropped) {
  auto c = context();
  c.max_entry_bytes = 20000;
  auto r = record("short");
  r.fields.push_back(field("blob", std::string(100000, 'x')));
  bool truncated = false;
  auto j = json::parse(dd::encode_log_entry(r, c, truncated));
  EXPECT_TRUE(truncated);
  EXPECT_EQ(std::string(j["blob"]).size(), 1024 + dd::kTruncatedMarker.size());
  EXPECT_TRUE(std::string(j["message"]).starts_with("short"));

  for (int i = 0; i < 100; ++i) r.fields.push_back(field(obs_test::numbered("f", i), std::string(2000, 'y')));
  const std::string entry = dd::encode_log_entry(r, c, truncated);
  EXPECT_LE(entry.size(), 20000u);
  j = json::parse(entry);
  EXPECT_EQ(j["obs.fields_dropped"], 101);
  EXPECT_FALSE(j.contains("blob"));
}

TEST(DatadogLogs, PackingKeepsEachRequestWithinTheLimits) {
  std::vector<std::string> entries;
  for (int i = 0; i < 2500; ++i) entries.push_back("{\"i\":" + std::to_string(i) + "}");
  auto payloads = dd::pack_log_entries(entries, 1000, 5000000);
  ASSERT_EQ(payloads.size(), 3u);
  std::size_t total = 0;
  for (const auto& p : payloads) {
    const auto a = json::parse(p.body);
    EXPECT_EQ(a.size(), p.weight);
    EXPECT_LE(p.weight, 1000u);
    total += a.size();
  }
  EXPECT_EQ(total, 2500u);

  entries.assign(12, "\"" + std::string(900000, 'z') + "\"");
  payloads = dd::pack_log_entries(entries, 1000, 5000000);
  total = 0;
  for (const auto& p : payloads) {
    EXPECT_LE(p.body.size(), 5000000u);
    total += json::parse(p.body).size();
  }
  EXPECT_EQ(total, 12u);
  EXPECT_EQ(payloads.size(), 3u);  // 5 + 5 + 2
}

obs::HistogramData histogram(std::vector<double> bounds, std::vector<std::uint64_t> counts, double sum) {
  obs::HistogramData h;
  h.bounds = std::move(bounds);
  h.counts = std::move(counts);
  for (auto c : h.counts) h.count += c;
  h.sum = sum;
  return h;
}

TEST(DatadogMetrics, QuantilesInterpolateWithinBuckets) {
  // 0.1, 0.2 in (0, 0.25]; 0.3, 0.4 in (0.25, 0.5].
  const auto h = histogram({0.25, 0.5, 1}, {2, 2, 0, 0}, 1.0);
  EXPECT_DOUBLE_EQ(dd::histogram_quantile(h, 0.5), 0.25);
  EXPECT_DOUBLE_EQ(dd::histogram_quantile(h, 0.95), 0.475);
  EXPECT_DOUBLE_EQ(dd::histogram_quantile(h, 0.25), 0.125);
  // Everything beyond the last bound: the bound (or the average if higher).
  EXPECT_DOUBLE_EQ(dd::histogram_quantile(histogram({1}, {0, 3}, 30), 0.5), 10);
  EXPECT_DOUBLE_EQ(dd::histogram_quantile(histogram({}, {4}, 2), 0.9), 0.5);
  EXPECT_DOUBLE_EQ(dd::histogram_quantile(histogram({1}, {0, 0}, 0), 0.5), 0);
}

TEST(DatadogMetrics, PointsPerTypeAndAggregate) {
  obs::DatadogOptions o;
  o.histogram_aggregates = {"max", "min", "median", "avg", "count", "sum"};
  o.histogram_percentiles = {0.95, 0.99};
  const auto settings = dd::histogram_settings(o);

  obs::MetricFamilySnapshot fam;
  fam.name = "http_server_request_duration_seconds";
  fam.type = obs::MetricType::Histogram;
  fam.label_keys = {"route", "method"};
  obs::SeriesSnapshot s;
  s.label_values = {"/users", "GET"};
  s.histogram = histogram({0.25, 0.5, 1}, {2, 2, 0, 0}, 1.0);
  std::size_t skipped = 0;
  std::map<std::string, std::pair<double, dd::PointType>> got;
  for (const auto& p : dd::points_of(fam, s, settings, skipped)) {
    got[p.name] = {p.value, p.type};
    EXPECT_EQ(p.tags, (std::vector<std::string>{"route:/users", "method:GET"}));
  }
  const std::string n = fam.name;
  EXPECT_EQ(got.size(), 8u);
  EXPECT_EQ(got[n + ".count"], std::make_pair(4.0, dd::PointType::Count));
  EXPECT_EQ(got[n + ".sum"].first, 1.0);
  EXPECT_DOUBLE_EQ(got[n + ".avg"].first, 0.25);
  EXPECT_DOUBLE_EQ(got[n + ".max"].first, 0.5);
  EXPECT_DOUBLE_EQ(got[n + ".min"].first, 0.0);
  EXPECT_DOUBLE_EQ(got[n + ".median"].first, 0.25);
  EXPECT_DOUBLE_EQ(got[n + ".95percentile"].first, 0.475);
  EXPECT_TRUE(got.contains(n + ".99percentile"));
  EXPECT_EQ(got[n + ".avg"].second, dd::PointType::Gauge);

  // An interval without observations: only the additive aggregates.
  s.histogram = histogram({0.25, 0.5, 1}, {0, 0, 0, 0}, 0);
  got.clear();
  for (const auto& p : dd::points_of(fam, s, settings, skipped)) got[p.name] = {p.value, p.type};
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(got[n + ".count"].first, 0);

  fam.type = obs::MetricType::Gauge;
  fam.name = "queue:depth";  // ':' is not allowed in Datadog names
  s.value = std::nan("");
  skipped = 0;
  EXPECT_TRUE(dd::points_of(fam, s, settings, skipped).empty());
  EXPECT_EQ(skipped, 1u);
  s.value = 7;
  s.overflow = true;
  s.label_values.clear();
  const auto points = dd::points_of(fam, s, settings, skipped);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].name, "queue_depth");
  EXPECT_EQ(points[0].tags, std::vector<std::string>{"otel.metric.overflow:true"});
}

TEST(DatadogMetrics, BadHistogramSettingsAreRefused) {
  obs::DatadogOptions o;
  o.histogram_aggregates = {"p99"};
  EXPECT_THROW(dd::histogram_settings(o), std::invalid_argument);
  o.histogram_aggregates = {"max"};
  o.histogram_percentiles = {1.5};
  EXPECT_THROW(dd::histogram_settings(o), std::invalid_argument);
  o.histogram_percentiles = {0.99, 0.995};  // both would be .99percentile
  EXPECT_THROW(dd::histogram_settings(o), std::invalid_argument);
}

TEST(DatadogMetrics, SeriesBodiesFollowTheV1SchemaAndSplitBySize) {
  obs::MetricsSnapshot snap;
  snap.time = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  obs::MetricFamilySnapshot fam;
  fam.name = "jobs_processed";
  fam.type = obs::MetricType::Counter;
  fam.label_keys = {"queue"};
  for (int i = 0; i < 300; ++i) {
    obs::SeriesSnapshot s;
    s.label_values = {"q" + std::to_string(i)};
    s.value = i;
    fam.series.push_back(s);
  }
  snap.families.push_back(fam);
  dd::SeriesContext c;
  c.host = "host-1";
  c.tags = {"env:prod", "service:svc"};
  c.interval_seconds = 10;
  obs::DatadogOptions o;
  const auto payloads = dd::encode_series(snap, c, dd::histogram_settings(o), 10000);
  ASSERT_GT(payloads.size(), 1u);
  std::uint64_t weight = 0;
  int seen = 0;
  for (const auto& p : payloads) {
    EXPECT_LE(p.body.size(), 10000u);
    weight += p.weight;
    const auto j = json::parse(p.body);
    for (const auto& s : j["series"]) {
      EXPECT_EQ(s["metric"], "jobs_processed");
      EXPECT_EQ(s["type"], "count");
      EXPECT_EQ(s["interval"], 10);
      EXPECT_EQ(s["host"], "host-1");
      EXPECT_EQ(s["points"][0][0], 1700000000);
      EXPECT_EQ(s["points"][0][1], seen);
      EXPECT_EQ(s["tags"], json({"env:prod", "service:svc", "queue:q" + std::to_string(seen)}));
      ++seen;
    }
  }
  EXPECT_EQ(seen, 300);
  EXPECT_EQ(weight, 300u);
}

TEST(DogStatsd, LineFormat) {
  dd::Point p{"jobs.count", 3, dd::PointType::Count, {"queue:a,b", "kind:x|y"}};
  EXPECT_EQ(dd::dogstatsd_line(p, "env:prod,service:svc"), "jobs.count:3|c|#env:prod,service:svc,queue:a_b,kind:x_y");
  dd::Point g{"temp", 21.5, dd::PointType::Gauge, {}};
  EXPECT_EQ(dd::dogstatsd_line(g, ""), "temp:21.5|g");
}

TEST(DatadogConfig, FromEnvironment) {
  const std::map<std::string, std::string> vars{
      {"ENABLE_DATADOG", "true"},
      {"DATADOG_API_KEY", "seed-key-0000000000000000000000000"},
      {"DD_API_KEY", "dd-key-11111111111111111111111111111"},
      {"DD_SITE", "datadoghq.eu"},
      {"DD_TAGS", "team:obs,tier:1 region:eu"},
      {"DD_HOSTNAME", "box-7"},
      {"DD_AGENT_HOST", "10.0.0.9"},
      {"DD_DOGSTATSD_PORT", "9125"},
      {"OBS_DATADOG_METRICS", "dogstatsd"},
      {"OBS_DATADOG_LOGS_URL", "http://127.0.0.1:1/api/v2/logs"},
      {"DD_HISTOGRAM_AGGREGATES", "max, avg count"},
      {"DD_HISTOGRAM_PERCENTILES", "0.5,0.99"},
  };
  const auto c = obs::Config::from_env([&](const char* n) {
    auto it = vars.find(n);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  ASSERT_TRUE(c.datadog);
  const auto& d = *c.datadog;
  EXPECT_EQ(d.api_key, "dd-key-11111111111111111111111111111");  // DD_API_KEY wins
  EXPECT_EQ(d.site, "datadoghq.eu");
  EXPECT_EQ(d.tags, (std::vector<std::string>{"team:obs", "tier:1", "region:eu"}));
  EXPECT_EQ(d.hostname, "box-7");
  EXPECT_EQ(d.dogstatsd.host, "10.0.0.9");
  EXPECT_EQ(d.dogstatsd.port, 9125);
  EXPECT_EQ(d.metrics, obs::DatadogMetrics::DogStatsd);
  EXPECT_TRUE(d.logs);
  EXPECT_EQ(d.logs_url, "http://127.0.0.1:1/api/v2/logs");
  EXPECT_EQ(d.histogram_aggregates, (std::vector<std::string>{"max", "avg", "count"}));
  EXPECT_EQ(d.histogram_percentiles, (std::vector<double>{0.5, 0.99}));
}

TEST(DatadogConfig, OffUnlessEnabledAndBadValuesNamed) {
  auto c = obs::Config::from_env([](const char* n) -> const char* {
    return std::string(n) == "DD_API_KEY" ? "k" : nullptr;
  });
  EXPECT_FALSE(c.datadog) << "DD_API_KEY alone does not turn Datadog on";

  const std::map<std::string, std::string> vars{{"ENABLE_DATADOG", "1"},
                                                {"OBS_DATADOG_METRICS", "statsd"},
                                                {"DD_HISTOGRAM_PERCENTILES", "95"},
                                                {"OBS_DATADOG_METRICS_URL", "ftp://x?api_key=hidden-value"}};
  c = obs::Config::from_env([&](const char* n) {
    auto it = vars.find(n);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
  ASSERT_TRUE(c.datadog);
  EXPECT_EQ(c.datadog->metrics, obs::DatadogMetrics::Api);
  EXPECT_EQ(c.datadog->histogram_percentiles, std::vector<double>{0.95});
  ASSERT_EQ(c.errors.size(), 3u);
  std::string all;
  for (const auto& e : c.errors) all += e + "\n";
  EXPECT_NE(all.find("OBS_DATADOG_METRICS"), std::string::npos);
  EXPECT_NE(all.find("DD_HISTOGRAM_PERCENTILES"), std::string::npos);
  EXPECT_NE(all.find("OBS_DATADOG_METRICS_URL"), std::string::npos);
  EXPECT_EQ(all.find("hidden-value"), std::string::npos) << all;
}

}  // namespace
