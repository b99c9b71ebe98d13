// The metric store: naming rules, conflicts, series limit, concurrency.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "obs/backends/prometheus.hpp"
#include "obs/metric_names.hpp"
#include "obs/metrics_registry.hpp"
#include "support/prometheus_text.hpp"
#include "support/numbered.hpp"

namespace {

using obs::MetricsRegistry;

const obs::MetricFamilySnapshot* family(const obs::MetricsSnapshot& s, std::string_view name) {
  for (const auto& f : s.families)
    if (f.name == name) return &f;
  return nullptr;
}

double rejected(const MetricsRegistry& r, std::string_view reason) {
  const auto s = r.snapshot();
  for (const auto& series : family(s, "obs_metric_rejected")->series)
    if (series.label_values[0] == reason) return series.value;
  return -1;
}

std::vector<std::string_view> keys(std::initializer_list<std::string_view> k) { return k; }

// OpenTelemetry's instrument name syntax (API spec, "Instrument name syntax").
TEST(MetricNames, InstrumentNamesFollowOpenTelemetrySyntax) {
  struct Case {
    std::string_view name;
    bool ok;
    std::string_view message;
  };
  const std::string long_ok = "a" + std::string(254, 'b');
  const std::string too_long = "a" + std::string(255, 'b');
  for (const Case& c : std::initializer_list<Case>{
           {"http.server.request.duration", true, ""},
           {"a-b/c_d.E9", true, ""},
           {long_ok, true, ""},
           {too_long, false, "longer than 255"},
           {"", false, "is empty"},
           {"1abc", false, "'1abc' starts with a digit"},
           {"_x", false, "does not start with a letter"},
           {"a b", false, "character 2"},
           {"ns:x", false, "character 3"},
           {"caf\xc3\xa9", false, "character 4"},
       }) {
    std::string error;
    EXPECT_EQ(obs::valid_instrument_name(c.name, error), c.ok) << c.name;
    if (!c.ok) {
      EXPECT_NE(error.find(c.message), std::string::npos) << error;
    }
  }
}

// OpenTelemetry's "Prometheus and OpenMetrics Compatibility": metric
// metadata (name sanitising, unit conversion, unit before type suffix),
// sums (_total on monotonic ones), metric attributes (label sanitising).
TEST(MetricNames, PrometheusNamesFollowTheCompatibilitySpec) {
  using obs::MetricType;
  struct Case {
    std::string_view name, unit;
    MetricType type;
    std::string_view expected;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"http.server.request.duration", "s", MetricType::Histogram, "http_server_request_duration_seconds"},
           {"http.server.request.body.size", "By", MetricType::Histogram, "http_server_request_body_size_bytes"},
           {"http.server.active_requests", "{request}", MetricType::UpDownCounter, "http_server_active_requests"},
           {"comments.created", "", MetricType::Counter, "comments_created_total"},
           {"jobs_total", "", MetricType::Counter, "jobs_total"},
           {"sent", "By", MetricType::Counter, "sent_bytes_total"},
           {"sent_total", "By", MetricType::Counter, "sent_bytes_total"},  // unit before the type suffix
           {"request.duration.seconds", "s", MetricType::Histogram, "request_duration_seconds"},  // unit already there
           {"process_cpu_seconds", "s", MetricType::Counter, "process_cpu_seconds_total"},
           {"system.memory.utilization", "1", MetricType::Gauge, "system_memory_utilization_ratio"},
           {"cpu.usage", "%", MetricType::Gauge, "cpu_usage_percent"},
           {"latency", "ms", MetricType::Histogram, "latency_milliseconds"},
           {"throughput", "By/s", MetricType::Gauge, "throughput_bytes_per_second"},
           {"packets.rate", "{packet}/s", MetricType::Gauge, "packets_rate_per_second"},
           {"network.dropped", "packets", MetricType::Counter, "network_dropped_packets_total"},
           {"a..b--c//d", "", MetricType::Gauge, "a_b_c_d"},  // invalid characters, runs of '_' collapsed
           {"mem", "MiBy", MetricType::Gauge, "mem_mebibytes"},
       }) {
    EXPECT_EQ(obs::prometheus_metric_name(c.name, c.unit, c.type), c.expected) << c.name << " [" << c.unit << "]";
  }
  EXPECT_EQ(obs::prometheus_label_name("http.request.method"), "http_request_method");
  EXPECT_EQ(obs::prometheus_label_name("a..b"), "a_b");
  EXPECT_EQ(obs::prometheus_label_name("1xx"), "_xx");  // a label cannot start with a digit
  EXPECT_EQ(obs::prometheus_label_name("__meta"), "_meta");  // never Prometheus' reserved "__"
  EXPECT_EQ(obs::prometheus_unit("{request}"), "");
  EXPECT_EQ(obs::prometheus_unit("1"), "ratio");
}

TEST(MetricNames, MalformedUnitsAndKeysAreRefusedWithTheReason) {
  std::string error;
  EXPECT_TRUE(obs::valid_unit("", error));
  EXPECT_TRUE(obs::valid_unit("{request}/s", error));
  EXPECT_FALSE(obs::valid_unit("{request", error));
  EXPECT_NE(error.find("unclosed"), std::string::npos) << error;
  EXPECT_FALSE(obs::valid_unit("{a{b}}", error));
  EXPECT_NE(error.find("nested"), std::string::npos) << error;
  EXPECT_FALSE(obs::valid_unit("m s", error));
  EXPECT_NE(error.find("character 2"), std::string::npos) << error;
  EXPECT_FALSE(obs::valid_unit(std::string(64, 's'), error));
  EXPECT_FALSE(obs::valid_attribute_key("", error));
  EXPECT_FALSE(obs::valid_attribute_key("a\nb", error));
  EXPECT_FALSE(obs::valid_attribute_key("\xff", error));
  EXPECT_TRUE(obs::valid_attribute_key("http.request.method", error));

  MetricsRegistry r;
  auto bad_unit = r.histogram("duration", {}, {.unit = "{s"});
  EXPECT_FALSE(bad_unit.ok());
  EXPECT_NE(bad_unit.error().find("metric 'duration': unit '{s'"), std::string::npos) << bad_unit.error();
}

TEST(Registry, NamesThatCollideInPrometheusAreRefusedNamingBoth) {
  MetricsRegistry r;
  ASSERT_TRUE(r.counter("a.b", {}).ok());
  auto same = r.counter("a_b", {});
  EXPECT_FALSE(same.ok());
  EXPECT_NE(same.error().find("metric 'a_b' would be 'a_b_total' in Prometheus, as metric 'a.b' already is"),
            std::string::npos)
      << same.error();
  EXPECT_FALSE(r.counter("a_b_total", {}).ok());  // also a_b_total
  ASSERT_TRUE(r.histogram("size", {}, {.unit = "By"}).ok());
  auto bytes = r.gauge("size.bytes", {});
  EXPECT_FALSE(bytes.ok());  // size_bytes, the histogram's name
  EXPECT_NE(bytes.error().find("'size'"), std::string::npos) << bytes.error();
  auto keys_collide = r.counter("c", keys({"http.method", "http_method"}));
  EXPECT_FALSE(keys_collide.ok());
  EXPECT_NE(keys_collide.error().find("label keys 'http.method' and 'http_method' are both 'http_method'"),
            std::string::npos)
      << keys_collide.error();
  EXPECT_FALSE(r.gauge("target.info", {}).ok());  // target_info is the resource's
  EXPECT_FALSE(r.gauge("target", {}).ok());       // and so is OpenMetrics' family "target"
  EXPECT_EQ(rejected(r, "conflict"), 5);
}

TEST(Registry, ModelIsKeptAsRegistered) {
  MetricsRegistry r;
  auto active = r.up_down_counter("http.server.active_requests", keys({"http.request.method"}),
                                  {.description = "Active requests.", .unit = "{request}"});
  ASSERT_TRUE(active.ok()) << active.error();
  auto get = active.labels("GET");
  get.inc();
  get.inc();
  get.dec();
  active.labels("POST").dec();
  const auto s = r.snapshot();
  const auto* fam = family(s, "http.server.active_requests");
  ASSERT_NE(fam, nullptr);
  EXPECT_EQ(fam->type, obs::MetricType::UpDownCounter);
  EXPECT_EQ(fam->unit, "{request}");
  EXPECT_EQ(fam->description, "Active requests.");
  EXPECT_EQ(fam->label_keys, std::vector<std::string>{"http.request.method"});
  EXPECT_TRUE(fam->integer);
  ASSERT_EQ(fam->series.size(), 2u);
  EXPECT_EQ(fam->series[0].int_value, 1);
  EXPECT_EQ(fam->series[1].int_value, -1);
  EXPECT_EQ(fam->series[1].value, -1);
  EXPECT_EQ(get.value(), 1);
  // The same name with the same unit, or none, is the same instrument; another unit is refused.
  EXPECT_TRUE(r.up_down_counter("http.server.active_requests", keys({"http.request.method"})).ok());
  EXPECT_FALSE(r.up_down_counter("http.server.active_requests", keys({"http.request.method"}), {.unit = "1"}).ok());
}

TEST(Registry, CountersAreIntegerUntilAFractionArrivesAndThenStayDouble) {
  MetricsRegistry r;
  auto c = r.counter("items", {}).labels();
  c.inc(3);
  c.inc(2.0);  // a whole amount given as a double is still whole
  auto first = r.snapshot();
  EXPECT_TRUE(family(first, "items")->integer);
  EXPECT_EQ(family(first, "items")->series[0].int_value, 5);
  c.inc(0.5);
  EXPECT_FALSE(family(r.snapshot(), "items")->integer);
  c.inc(0.5);  // whole again, but the family's points stay doubles
  const auto later = r.snapshot();
  EXPECT_FALSE(family(later, "items")->integer);
  EXPECT_EQ(family(later, "items")->series[0].value, 6);
  r.set_gauge("level", 2, {});
  EXPECT_FALSE(family(r.snapshot(), "level")->integer);  // gauges are doubles
}

// Infinities count in their bucket but stay out of the sum, NaN is not
// recorded: no export shows a NaN sum, whatever was observed.
TEST(Registry, HistogramSumsStayFiniteWhateverIsObserved) {
  MetricsRegistry r;
  auto h = r.histogram("odd.values", {}, {.buckets = {0, 10}}).labels();
  for (double v : {1.0, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN(), 2.0})
    h.observe(v);
  const auto s = r.snapshot();
  const auto& data = family(s, "odd.values")->series.at(0).histogram;
  EXPECT_EQ(data.count, 4u);
  EXPECT_EQ(data.counts, (std::vector<std::uint64_t>{1, 2, 1}));  // -Inf, then 1 and 2, then +Inf
  EXPECT_EQ(data.sum, 3.0);
  EXPECT_EQ(*data.min, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(*data.max, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(data.negative_observed);
  // OpenMetrics gives such a histogram no sum.
  const std::string om = obs::PrometheusBackend::render_openmetrics(s);
  EXPECT_NE(om.find("odd_values_count{" + obs_test::kScopeLabels + "} 4\n"), std::string::npos) << om;
  EXPECT_EQ(om.find("odd_values_sum"), std::string::npos) << om;
  auto positive = r.histogram("positive.values", {}).labels();
  positive.observe(std::numeric_limits<double>::infinity());
  const auto p = r.snapshot();
  EXPECT_EQ(family(p, "positive.values")->series.at(0).histogram.sum, 0.0);
  EXPECT_FALSE(family(p, "positive.values")->series.at(0).histogram.negative_observed);
  const std::string text = obs::PrometheusBackend::render(p);
  EXPECT_EQ(text.find("NaN"), std::string::npos) << text;
}

TEST(Registry, HistogramsKeepMinAndMax) {
  MetricsRegistry r;
  auto h = r.histogram("latency", {}, {.unit = "s"}).labels();
  auto empty = r.snapshot();
  EXPECT_FALSE(family(empty, "latency")->series.at(0).histogram.min.has_value());  // nothing observed yet
  for (double v : {0.5, -2.0, 7.25, 0.0}) h.observe(v);
  std::thread([&] { h.observe(9.5); }).join();  // another thread's words count too
  const auto s = r.snapshot();
  const auto& data = family(s, "latency")->series.at(0).histogram;
  ASSERT_TRUE(data.min && data.max);
  EXPECT_EQ(*data.min, -2.0);
  EXPECT_EQ(*data.max, 9.5);
}

TEST(Registry, BoundCounterCountsAndSnapshotsBySeries) {
  MetricsRegistry r;
  auto f = r.counter("image.conversions", keys({"format"}));
  ASSERT_TRUE(f.ok()) << f.error();
  auto png = f.labels("png");
  for (int i = 0; i < 5; ++i) png.inc();
  f.labels("jpeg").inc(2.5);
  png.inc(-1.0);  // ignored: counters only go up
  const auto s = r.snapshot();
  const auto* fam = family(s, "image.conversions");
  ASSERT_NE(fam, nullptr);
  EXPECT_EQ(fam->type, obs::MetricType::Counter);
  EXPECT_EQ(fam->label_keys, std::vector<std::string>{"format"});
  ASSERT_EQ(fam->series.size(), 2u);
  EXPECT_EQ(fam->series[0].label_values[0], "png");
  EXPECT_EQ(fam->series[0].value, 5);
  EXPECT_EQ(fam->series[1].value, 2.5);
}

TEST(Registry, ConflictingRegistrationIsRefusedWithAMessageNamingIt) {
  MetricsRegistry r;
  ASSERT_TRUE(r.counter("jobs", keys({"status"})).ok());
  auto as_gauge = r.gauge("jobs", keys({"status"}));
  EXPECT_FALSE(as_gauge.ok());
  EXPECT_NE(as_gauge.error().find("'jobs' is already registered as a counter"), std::string::npos) << as_gauge.error();
  auto other_keys = r.counter("jobs", keys({"queue"}));
  EXPECT_FALSE(other_keys.ok());
  EXPECT_NE(other_keys.error().find("[status]"), std::string::npos);
  other_keys.labels("x").inc();  // a refused family's handles do nothing
  EXPECT_EQ(rejected(r, "conflict"), 2);
}

// OpenTelemetry API spec, "Instrument name syntax": names are
// case-insensitive, so another spelling is the same instrument, exported
// under the name it was first registered with.
TEST(Registry, InstrumentNamesAreCaseInsensitive) {
  MetricsRegistry r;
  auto first = r.counter("Jobs.Done", keys({"status"}));
  ASSERT_TRUE(first.ok());
  auto again = r.counter("jobs.done", keys({"status"}));
  ASSERT_TRUE(again.ok()) << again.error();
  first.labels("ok").inc();
  again.labels("ok").inc(2);
  r.increment("JOBS.DONE", 4, {{"status", "ok"}});
  const auto s = r.snapshot();
  EXPECT_EQ(family(s, "jobs.done"), nullptr);
  EXPECT_EQ(family(s, "JOBS.DONE"), nullptr);
  const auto* f = family(s, "Jobs.Done");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->series.size(), 1u);
  EXPECT_EQ(f->series[0].value, 7);
  // Another kind under another spelling is the conflict it would be under the same one.
  auto gauge = r.gauge("jobs.DONE", keys({"status"}));
  EXPECT_FALSE(gauge.ok());
  EXPECT_NE(gauge.error().find("metric 'jobs.DONE' is already registered, as 'Jobs.Done' (names are case-insensitive), as a counter"),
            std::string::npos)
      << gauge.error();
}

TEST(Registry, ExposedNameCollisionsAreRefused) {
  MetricsRegistry r;
  ASSERT_TRUE(r.histogram("latency", {}).ok());
  auto g = r.gauge("latency_count", {});
  EXPECT_FALSE(g.ok());
  EXPECT_NE(g.error().find("'latency_count'"), std::string::npos) << g.error();
  EXPECT_FALSE(r.gauge("queue_total", {}).ok());  // _total is for counters
  EXPECT_FALSE(r.histogram("x", keys({"le"})).ok());
  EXPECT_FALSE(r.counter("x", keys({"a", "a"})).ok());
  EXPECT_FALSE(r.counter("x", keys({"bad\x01key"})).ok());
  // /metrics puts the scope in these labels on every sample.
  auto scope = r.counter("y", keys({"otel.scope.name"}));
  EXPECT_FALSE(scope.ok());
  EXPECT_NE(scope.error().find("reserved for the instrumentation scope"), std::string::npos) << scope.error();
  EXPECT_FALSE(r.gauge("z", keys({"otel_scope_version"})).ok());
}

TEST(Registry, HistogramBucketsPerMetricAndValidated) {
  MetricsRegistry r;
  auto h = r.histogram("payload.bytes", {}, {.buckets = {100, 1000, 10000}});
  ASSERT_TRUE(h.ok());
  for (double v : {50.0, 100.0, 500.0, 1e6}) h.labels().observe(v);
  const auto snap = r.snapshot();
  const auto& data = family(snap, "payload.bytes")->series[0].histogram;
  EXPECT_EQ(data.bounds, (std::vector<double>{100, 1000, 10000}));
  EXPECT_EQ(data.counts, (std::vector<std::uint64_t>{2, 1, 0, 1}));  // le is inclusive
  EXPECT_EQ(data.count, 4u);
  EXPECT_EQ(data.sum, 50 + 100 + 500 + 1e6);
  EXPECT_FALSE(r.histogram("bad", {}, {.buckets = {1, 1}}).ok());
  EXPECT_FALSE(r.histogram("bad2", {}, {.buckets = {2, 1}}).ok());
  std::vector<double> many(300);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i);
  auto too_many = r.histogram("bad3", {}, {.buckets = many});
  EXPECT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().find("at most 256"), std::string::npos) << too_many.error();
}

TEST(Registry, DefaultBucketsSuitSeconds) {
  MetricsRegistry r;
  r.observe("request.duration", 0.0125, {{"route", "/a"}});
  const auto snap = r.snapshot();
  const auto& data = family(snap, "request.duration")->series[0].histogram;
  EXPECT_EQ(data.bounds, obs::default_buckets());
  EXPECT_EQ(data.bounds.front(), 0.005);
  EXPECT_EQ(data.bounds.back(), 10);
}

TEST(Registry, FacadeRegistersFromTagsAndMatchesTagsInAnyOrder) {
  MetricsRegistry r;
  r.increment("comments.created", 1, {{"region", "eu"}, {"kind", "reply"}});
  r.increment("comments.created", 2, {{"kind", "reply"}, {"region", "eu"}});
  r.increment("comments.created", 1, {{"kind", 7}, {"region", "eu"}});  // integer tag values are formatted
  const auto s = r.snapshot();
  const auto* f = family(s, "comments.created");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->label_keys, (std::vector<std::string>{"kind", "region"}));
  ASSERT_EQ(f->series.size(), 2u);
  EXPECT_EQ(f->series[0].value, 3);
  EXPECT_EQ(f->series[1].label_values[0], "7");
}

TEST(Registry, FacadeMismatchesAreDroppedAndCounted) {
  MetricsRegistry r;
  r.increment("orders", 1, {{"region", "eu"}});
  r.increment("orders", 1, {{"country", "fr"}});   // other keys
  r.increment("orders", 1, {});                     // missing key
  r.set_gauge("orders", 3, {{"region", "eu"}});     // other type
  r.increment("orders", -1, {{"region", "eu"}});    // negative
  r.increment("orders", std::numeric_limits<double>::infinity(), {{"region", "eu"}});  // not finite
  r.increment("bad name", 1, {});                   // invalid name
  EXPECT_EQ(rejected(r, "label_mismatch"), 2);
  EXPECT_EQ(rejected(r, "conflict"), 1);
  EXPECT_EQ(rejected(r, "negative_increment"), 2);
  EXPECT_EQ(rejected(r, "invalid_name"), 1);
  EXPECT_EQ(family(r.snapshot(), "orders")->series[0].value, 1);
}

TEST(Registry, InvalidOrOversizedLabelValuesAreRejected) {
  MetricsRegistry r;
  r.increment("visits", 1, {{"path", std::string(5000, 'a')}});
  r.increment("visits", 1, {{"path", "\xff\xfe"}});
  r.increment("visits", 1, {{"path", "/ok"}});
  EXPECT_EQ(rejected(r, "invalid_label_value"), 2);
  EXPECT_EQ(family(r.snapshot(), "visits")->series.size(), 1u);
}

TEST(Registry, SeriesBeyondTheLimitGoToOneOverflowSeries) {
  MetricsRegistry r;
  auto f = r.counter("user.hits", keys({"user"}), {.series_limit = 3});
  for (int i = 0; i < 10; ++i) f.labels(std::to_string(i)).inc();
  f.labels("0").inc();  // existing series keep working after the limit
  const auto s = r.snapshot();
  const auto* fam = family(s, "user.hits");
  ASSERT_EQ(fam->series.size(), 4u);
  EXPECT_EQ(fam->series[0].value, 2);
  EXPECT_TRUE(fam->series[3].overflow);
  EXPECT_EQ(fam->series[3].value, 7);
  const auto* overflow = family(s, "obs_metric_series_overflow");
  ASSERT_EQ(overflow->series.size(), 1u);
  EXPECT_EQ(overflow->series[0].label_values[0], "user.hits");
  EXPECT_EQ(overflow->series[0].value, 7);

  const std::string text = obs::PrometheusBackend::render(s);
  EXPECT_NE(text.find("user_hits_total{otel_metric_overflow=\"true\"," + obs_test::kScopeLabels + "} 7"), std::string::npos) << text;
}

TEST(Registry, DefaultSeriesLimitAppliesToNewFamilies) {
  MetricsRegistry r;
  r.set_default_series_limit(2);
  for (int i = 0; i < 5; ++i) r.increment("ids", 1, {{"id", i}});
  EXPECT_EQ(family(r.snapshot(), "ids")->series.size(), 3u);  // 2 + overflow
}

TEST(Registry, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry r;
  auto bound = r.counter("par.bound", {}).labels();
  auto hist = r.histogram("par.hist", {}).labels();
  constexpr int kThreads = 4, kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        bound.inc();
        hist.observe(1);
        r.increment("par.facade", 1, {{"t", t % 2}});
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto s = r.snapshot();
  EXPECT_EQ(family(s, "par.bound")->series[0].value, kThreads * kPerThread);
  EXPECT_EQ(family(s, "par.hist")->series[0].histogram.count, std::uint64_t{kThreads * kPerThread});
  EXPECT_EQ(family(s, "par.hist")->series[0].histogram.sum, kThreads * kPerThread);
  const auto* facade = family(s, "par.facade");
  EXPECT_EQ(facade->series.size(), 2u);
  EXPECT_EQ(facade->series[0].value + facade->series[1].value, kThreads * kPerThread);
}

TEST(Registry, CollectorsAddFamiliesAndTheirExceptionsAreContained) {
  MetricsRegistry r;
  r.add_collector([](std::vector<obs::MetricFamilySnapshot>& out) {
    obs::MetricFamilySnapshot f;
    f.name = "computed";
    f.type = obs::MetricType::Gauge;
    f.series.emplace_back().value = 9;
    out.push_back(std::move(f));
  });
  r.add_collector([](std::vector<obs::MetricFamilySnapshot>&) { throw std::runtime_error("boom"); });
  EXPECT_EQ(family(r.snapshot(), "computed")->series[0].value, 9);
}

}  // namespace

namespace {

TEST(Registry, BoundRegistrationAfterTheFacadeAcceptsTheSameKeysInAnotherOrder) {
  MetricsRegistry r;
  r.increment("http.requests", 1, {{"route", "/a"}, {"code", "200"}});  // registers keys sorted: code, route
  auto f = r.counter("http.requests", {"route", "code"});
  ASSERT_TRUE(f.ok()) << f.error();
  f.labels("/a", "200").inc(4);
  const auto s = r.snapshot();
  const auto* fam = family(s, "http.requests");
  ASSERT_EQ(fam->series.size(), 1u);
  EXPECT_EQ(fam->series[0].value, 5);
}

TEST(Registry, CustomBucketsAfterFirstUseAreRefusedWithAHint) {
  MetricsRegistry r;
  r.observe("late.buckets", 1, {});
  auto h = r.histogram("late.buckets", {}, {.buckets = {1, 2}});
  EXPECT_FALSE(h.ok());
  EXPECT_NE(h.error().find("before their first use"), std::string::npos) << h.error();
  EXPECT_TRUE(r.histogram("late.buckets", {}).ok());  // default buckets: whatever is registered
}

TEST(Registry, ManyOverflowingMetricsDoNotDeadlockTheOverflowSelfMetric) {
  MetricsRegistry r;
  for (int i = 0; i < 2100; ++i) {
    auto f = r.counter(obs_test::numbered("m", i), {"k"}, {.series_limit = 1});
    f.labels("a").inc();
    f.labels("b").inc();  // overflow
  }
  const auto s = r.snapshot();
  EXPECT_EQ(family(s, "obs_metric_series_overflow")->series.size(), 2100u);
  EXPECT_TRUE(family(s, "m2099")->series[1].overflow);
}

TEST(Registry, AHugeSeriesLimitCostsNothingUpFront) {
  MetricsRegistry r;
  auto f = r.counter("unbounded", {"id"}, {.series_limit = SIZE_MAX});
  ASSERT_TRUE(f.ok()) << f.error();
  for (int i = 0; i < 5000; ++i) f.labels(std::to_string(i)).inc();  // the index grows as it goes
  EXPECT_EQ(family(r.snapshot(), "unbounded")->series.size(), 5000u);
}

TEST(Registry, CollectedNamesAreReserved) {
  MetricsRegistry r;
  r.add_collector([](std::vector<obs::MetricFamilySnapshot>&) {}, {"process_threads", "process_cpu_seconds_total"});
  EXPECT_FALSE(r.gauge("process.threads", {}).ok());
  EXPECT_FALSE(r.counter("process_cpu_seconds", {}).ok());
  EXPECT_TRUE(r.gauge("process_cpu_seconds", {}).ok());  // exposes a different name
}

TEST(Instruments, IntegerAmountsAndNonFiniteAmounts) {
  MetricsRegistry r;
  auto c = r.counter("amounts", {}).labels();
  c.inc(5);
  c.inc(std::uint64_t{2});
  c.inc(0.5);
  c.inc(-3);
  c.inc(std::numeric_limits<double>::infinity());
  c.inc(std::nan(""));
  EXPECT_EQ(c.value(), 7.5);
}

TEST(Instruments, TagsFormatNumbers) {
  MetricsRegistry r;
  r.set_gauge("tagged", 1, {{"ratio", 0.25}, {"n", -7}, {"flag", true}});
  const auto s = r.snapshot();
  EXPECT_EQ(family(s, "tagged")->series[0].label_values, (std::vector<std::string>{"true", "-7", "0.25"}));
}

TEST(Instruments, OneThreadHasOneBlockWhoeverAsks) {
  obs::detail::ThreadCells* const cells = obs::detail::this_thread_cells();
  EXPECT_EQ(obs::detail::this_thread_cells(), cells);
  EXPECT_EQ(obs::detail::this_thread_state().cells, cells);
  obs::detail::ThreadCells* other = cells;
  std::thread([&] { other = obs::detail::this_thread_state().cells; }).join();
  EXPECT_NE(other, cells);
}

// Each thread adds to its own words; a read sums them, including those of
// threads that have exited (their block passes to the next thread).
TEST(Instruments, CountsOfExitedThreadsRemain) {
  MetricsRegistry r;
  auto c = r.counter("threads_total", {}).labels();
  auto h = r.histogram("threads_seconds", {}, {.buckets = {1.0}}).labels();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        c.inc();
        h.observe(i % 2 ? 0.5 : 2.0);
      }
      c.inc(0.25);
    });
  for (auto& t : threads) t.join();
  std::thread([&] { c.inc(); }).join();  // adopts an exited thread's block
  EXPECT_EQ(c.value(), 4001 + 4 * 0.25);
  const auto s = r.snapshot();
  const auto& series = family(s, "threads_seconds")->series.at(0);
  EXPECT_EQ(series.histogram.counts, (std::vector<std::uint64_t>{2000, 2000}));
  EXPECT_EQ(series.histogram.sum, 4 * (500 * 0.5 + 500 * 2.0));
}

// A new series that reuses a destroyed one's words starts at zero in every
// thread's block.
TEST(Instruments, ReusedCellsStartAtZero) {
  for (int round = 0; round < 3; ++round) {
    MetricsRegistry r;
    auto c = r.counter("reused_total", {}).labels();
    auto h = r.histogram("reused_seconds", {}, {.buckets = {1.0}}).labels();
    EXPECT_EQ(c.value(), 0);
    const auto before = r.snapshot();
    EXPECT_EQ(family(before, "reused_seconds")->series.at(0).histogram.counts, (std::vector<std::uint64_t>{0, 0}));
    std::thread([&] {
      c.inc(3);
      h.observe(0.5);
    }).join();
    c.inc(2);
    EXPECT_EQ(c.value(), 5);
  }
}

}  // namespace
