// Histogram exemplars: recorded inside sampled spans only, carried by the
// snapshot, written in OpenMetrics, negotiated by /metrics.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "obs/backends/prometheus.hpp"
#include "obs/http.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/obs.hpp"
#include "support/prometheus_text.hpp"

namespace {

using namespace std::chrono_literals;

const obs::HistogramData& only_histogram(const obs::MetricsSnapshot& s, const std::string& name) {
  for (const auto& f : s.families)
    if (f.name == name && !f.series.empty()) return f.series.front().histogram;
  throw std::runtime_error("no histogram " + name);
}

obs::HistogramFamily latency(obs::MetricsRegistry& r) {
  return r.histogram("job.seconds", std::vector<std::string_view>{}, {.buckets = {0.1, 1}});
}

TEST(Exemplars, AnObservationInsideASampledSpanBecomesItsBucketsExemplar) {
  obs::MetricsRegistry r;
  auto h = latency(r).labels();
  obs::SpanContext ids;
  {
    obs::Span span("work");
    ids = obs::current_context().span;
    ASSERT_TRUE(ids.sampled);
    h.observe(0.5);
  }
  const auto snap = r.snapshot();
  const auto& data = only_histogram(snap, "job.seconds");
  ASSERT_EQ(data.exemplars.size(), 3u);
  EXPECT_FALSE(data.exemplars[0]);
  EXPECT_FALSE(data.exemplars[2]);
  ASSERT_TRUE(data.exemplars[1]);
  EXPECT_EQ(data.exemplars[1]->value, 0.5);
  EXPECT_EQ(data.exemplars[1]->trace_id, ids.trace_id);
  EXPECT_EQ(data.exemplars[1]->span_id, ids.span_id);
  const auto age = std::chrono::system_clock::now() - data.exemplars[1]->time;
  EXPECT_GE(age, 0s);
  EXPECT_LT(age, 60s);
}

TEST(Exemplars, TheLatestSampledObservationWins) {
  obs::MetricsRegistry r;
  auto h = latency(r).labels();
  obs::SpanId last;
  for (int i = 0; i < 3; ++i) {
    obs::Span span("work");
    last = obs::current_context().span.span_id;
    h.observe(0.2 + i * 0.1);
  }
  const auto snap = r.snapshot();
  const auto& e = only_histogram(snap, "job.seconds").exemplars.at(1);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->span_id, last);
  EXPECT_DOUBLE_EQ(e->value, 0.4);
}

TEST(Exemplars, NoneOutsideASpanOrInAnUnsampledOne) {
  obs::MetricsRegistry r;
  auto h = latency(r).labels();
  h.observe(0.05);  // no span at all
  {
    obs::Context unsampled;
    unsampled.span.trace_id.bytes[0] = 1;
    unsampled.span.span_id.bytes[0] = 2;
    unsampled.span.sampled = false;
    obs::ContextScope scope(unsampled);
    h.observe(0.5);
  }
  {
    obs::Context sampled_but_invalid;
    sampled_but_invalid.span.sampled = true;  // no ids: nothing to link to
    obs::ContextScope scope(sampled_but_invalid);
    h.observe(5);
  }
  const auto snap = r.snapshot();
  const auto& data = only_histogram(snap, "job.seconds");
  EXPECT_EQ(data.count, 3u);
  for (const auto& e : data.exemplars) EXPECT_FALSE(e);
}

TEST(Exemplars, EachThreadSeesItsOwnSpan) {
  obs::MetricsRegistry r;
  auto h = latency(r).labels();
  obs::SpanContext in_thread;
  std::thread([&] {
    obs::Span span("in thread");
    in_thread = obs::current_context().span;
    h.observe(5);
  }).join();
  h.observe(0.5);  // this thread has no span
  const auto snap = r.snapshot();
  const auto& data = only_histogram(snap, "job.seconds");
  ASSERT_TRUE(data.exemplars.at(2));
  EXPECT_EQ(data.exemplars[2]->trace_id, in_thread.trace_id);
  EXPECT_FALSE(data.exemplars[1]);
}

TEST(Exemplars, ConcurrentWritersAndReadersSeeWholeExemplars) {
  // Each writer's span ids are derived from one byte, so a torn read would
  // show a trace id and a span id of different writers.
  obs::MetricsRegistry r;
  auto h = latency(r).labels();
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 1; w <= 3; ++w)
    writers.emplace_back([&, w] {
      obs::Context c;
      c.span.trace_id.bytes.fill(static_cast<std::uint8_t>(w));
      c.span.span_id.bytes.fill(static_cast<std::uint8_t>(w));
      c.span.sampled = true;
      obs::ContextScope scope(c);
      while (!stop.load(std::memory_order_relaxed)) h.observe(0.5);
    });
  for (int i = 0; i < 200; ++i) {
    const auto snap = r.snapshot();
    const auto& e = only_histogram(snap, "job.seconds").exemplars.at(1);
    if (!e) continue;
    const auto w = e->trace_id.bytes[0];
    for (auto b : e->trace_id.bytes) ASSERT_EQ(b, w);
    for (auto b : e->span_id.bytes) ASSERT_EQ(b, w);
    ASSERT_EQ(e->value, 0.5);
  }
  stop = true;
  for (auto& t : writers) t.join();
}

// --- OpenMetrics text ---------------------------------------------------------

obs::Exemplar fixed_exemplar(double value) {
  obs::Exemplar e;
  e.value = value;
  for (std::size_t i = 0; i < 16; ++i) e.trace_id.bytes[i] = static_cast<std::uint8_t>(i + 1);
  for (std::size_t i = 0; i < 8; ++i) e.span_id.bytes[i] = static_cast<std::uint8_t>(0xa0 + i);
  e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  return e;
}

TEST(OpenMetrics, RendersASmallRegistryExactly) {
  obs::MetricsSnapshot s;
  {
    obs::MetricFamilySnapshot f;
    f.name = "jobs";
    f.description = "Jobs done.";
    f.type = obs::MetricType::Counter;
    f.label_keys = {"status"};
    auto& ok = f.series.emplace_back();
    ok.label_values = {"ok"};
    ok.value = 3;
    s.families.push_back(f);
  }
  {
    obs::MetricFamilySnapshot f;
    f.name = "queue_depth";
    f.type = obs::MetricType::Gauge;
    f.series.emplace_back().value = 1.5;
    s.families.push_back(f);
  }
  {
    obs::MetricFamilySnapshot f;
    f.name = "job_seconds";
    f.description = "Time per job.";
    f.type = obs::MetricType::Histogram;
    f.label_keys = {"kind"};
    auto& series = f.series.emplace_back();
    series.label_values = {"a"};
    auto& h = series.histogram;
    h.bounds = {0.1, 1};
    h.counts = {1, 2, 0};
    h.count = 3;
    h.sum = 1.25;
    h.exemplars = {std::nullopt, fixed_exemplar(0.5), std::nullopt};
    s.families.push_back(f);
  }
  {
    obs::MetricFamilySnapshot f;  // no series yet: not written
    f.name = "empty";
    f.type = obs::MetricType::Gauge;
    s.families.push_back(f);
  }
  // Without the scope labels, which a test of their own covers.
  EXPECT_EQ(obs::PrometheusBackend::render_openmetrics(s, nullptr, {.scope_labels = false}),
            "# TYPE jobs counter\n"
            "# HELP jobs Jobs done.\n"
            "jobs_total{status=\"ok\"} 3\n"
            "# TYPE queue_depth gauge\n"
            "# HELP queue_depth queue_depth\n"  // no description: the name
            "queue_depth 1.5\n"
            "# TYPE job_seconds histogram\n"
            "# HELP job_seconds Time per job.\n"
            "job_seconds_bucket{kind=\"a\",le=\"0.1\"} 1\n"
            "job_seconds_bucket{kind=\"a\",le=\"1\"} 3 # "
            "{trace_id=\"0102030405060708090a0b0c0d0e0f10\",span_id=\"a0a1a2a3a4a5a6a7\"} 0.5 1700000000.123\n"
            "job_seconds_bucket{kind=\"a\",le=\"+Inf\"} 3 # "  // none of its own: the one below
            "{trace_id=\"0102030405060708090a0b0c0d0e0f10\",span_id=\"a0a1a2a3a4a5a6a7\"} 0.5 1700000000.123\n"
            "job_seconds_count{kind=\"a\"} 3\n"
            "job_seconds_sum{kind=\"a\"} 1.25\n"
            "# EOF\n");
}

TEST(OpenMetrics, EmptySnapshotIsJustEof) {
  EXPECT_EQ(obs::PrometheusBackend::render_openmetrics(obs::MetricsSnapshot{}), "# EOF\n");
  obs::PrometheusBackend unattached;
  EXPECT_EQ(unattached.render_openmetrics(), "# EOF\n");
}

TEST(OpenMetrics, EscapesLabelValuesAndHelp) {
  obs::MetricsRegistry r;
  r.increment("hostile", 1, {{"v", "a\"b\\c\nd"}});
  r.gauge("helpful", std::vector<std::string_view>{}, {.description = "say \"hi\"\\\nbye"}).labels().set(2);
  const std::string text = obs::PrometheusBackend::render_openmetrics(r.snapshot());
  EXPECT_NE(text.find("\nhostile_total{v=\"a\\\"b\\\\c\\nd\"," + obs_test::kScopeLabels + "} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP helpful say \\\"hi\\\"\\\\\\nbye\n"), std::string::npos) << text;
}

TEST(OpenMetrics, RepeatedOrCollidingNamesAreWrittenOnce) {
  obs::MetricsSnapshot s;
  for (auto [name, type] : {std::pair{"x", obs::MetricType::Counter}, std::pair{"x_total", obs::MetricType::Gauge},
                            std::pair{"x", obs::MetricType::Gauge}}) {
    obs::MetricFamilySnapshot f;
    f.name = name;
    f.type = type;
    f.series.emplace_back().value = 1;
    s.families.push_back(f);
  }
  EXPECT_EQ(obs::PrometheusBackend::render_openmetrics(s, nullptr, {.scope_labels = false}),
            "# TYPE x counter\n# HELP x x\nx_total 1\n# EOF\n");
}

TEST(OpenMetrics, RegistryHistogramInsideASpanHasItsExemplarLine) {
  obs::MetricsRegistry r;
  auto h = latency(r).labels();
  std::string trace_hex, span_hex;
  {
    obs::Span span("work");
    trace_hex = obs::current_context().span.trace_id.hex();
    span_hex = obs::current_context().span.span_id.hex();
    h.observe(0.25);
  }
  const std::string text = obs::PrometheusBackend::render_openmetrics(r.snapshot());
  const std::string prefix =
      "job_seconds_bucket{" + obs_test::kScopeLabels + ",le=\"1\"} 1 # {trace_id=\"" + trace_hex + "\",span_id=\"" + span_hex + "\"} 0.25 ";
  EXPECT_NE(text.find("\n" + prefix), std::string::npos) << text;
  EXPECT_NE(text.find("job_seconds_bucket{" + obs_test::kScopeLabels + ",le=\"0.1\"} 0\n"), std::string::npos) << text;
  // The 0.0.4 text format is unchanged: no exemplars there.
  EXPECT_EQ(obs::PrometheusBackend::render(r.snapshot()).find("trace_id"), std::string::npos);
}

// --- content negotiation on /metrics -------------------------------------------

class ExemplarAdmin : public ::testing::Test {
 protected:
  void SetUp() override {
    sdk_ = obs::init(obs::Config()
                         .service("exemplar_test")
                         .console(false)
                         .with_prometheus(true)
                         .admin(true)
                         .admin_address("127.0.0.1", 0));
    ASSERT_TRUE(sdk_.ok()) << sdk_.errors().front();
    ASSERT_NE(sdk_.admin_port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", sdk_.admin_port());
    client_->set_read_timeout(10, 0);
  }
  void TearDown() override { sdk_.shutdown(); }
  obs::Sdk sdk_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ExemplarAdmin, MetricsNegotiatesOpenMetrics) {
  static auto h = obs::histogram("exemplar_admin.seconds", {}, {.buckets = {1}});
  std::string trace_hex;
  {
    obs::Span span("scraped");
    trace_hex = obs::current_context().span.trace_id.hex();
    h.labels().observe(0.5);
  }
  // What Prometheus 2.42 sends.
  auto om = client_->Get("/metrics", {{"Accept", "application/openmetrics-text;version=1.0.0,application/"
                                                 "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                                                 "q=0.5,*/*;q=0.1"}});
  ASSERT_TRUE(om);
  EXPECT_EQ(om->status, 200);
  EXPECT_EQ(om->get_header_value("Content-Type"), "application/openmetrics-text; version=1.0.0; charset=utf-8");
  ASSERT_GE(om->body.size(), 6u);
  EXPECT_EQ(om->body.substr(om->body.size() - 6), "# EOF\n");
  EXPECT_NE(om->body.find("exemplar_admin_seconds_bucket{" + obs_test::kScopeLabels + ",le=\"1\"} "), std::string::npos) << om->body;
  EXPECT_NE(om->body.find("trace_id=\"" + trace_hex + "\""), std::string::npos) << om->body;

  auto text = client_->Get("/metrics");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 200);
  EXPECT_EQ(text->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(text->body.find("# EOF"), std::string::npos);
  EXPECT_EQ(text->body.find("trace_id"), std::string::npos);
  EXPECT_NE(text->body.find("exemplar_admin_seconds_bucket{" + obs_test::kScopeLabels + ",le=\"1\"} "), std::string::npos) << text->body;
}

TEST(ExemplarMounted, MountedMetricsNegotiatesOpenMetricsToo) {
  httplib::Server server;
  obs::http::mount_admin_endpoints(server);
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { server.listen_after_bind(); });
  httplib::Client c("127.0.0.1", port);
  auto om = c.Get("/metrics", {{"Accept", "application/openmetrics-text"}});
  auto text = c.Get("/metrics");
  server.stop();
  t.join();
  ASSERT_TRUE(om);
  EXPECT_EQ(om->get_header_value("Content-Type"), "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(om->body.substr(om->body.size() - 6), "# EOF\n");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
