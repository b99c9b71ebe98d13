// The text expositions (0.0.4 and OpenMetrics): names, escaping, histograms,
// the scope labels and target_info.
#include <gtest/gtest.h>

#include "obs/backends/prometheus.hpp"
#include "obs/metrics_registry.hpp"
#include "support/prometheus_text.hpp"

namespace {

using obs_test::kScopeLabels;

TEST(PrometheusBackend, RendersEveryTypeWithPrometheusNames) {
  obs::MetricsRegistry r;
  r.increment("comments.created", 3, {{"region", "eu"}});
  r.set_gauge("users.online", 17, {});
  auto h = r.histogram("request.duration.seconds", std::vector<std::string_view>{"route"}, {.description = "Request time.", .buckets = {0.1, 1}});
  h.labels("/a").observe(0.05);
  h.labels("/a").observe(0.5);
  const std::string text = obs::PrometheusBackend::render(r.snapshot());
  EXPECT_NE(text.find("# TYPE comments_created_total counter\ncomments_created_total{region=\"eu\"," + kScopeLabels + "} 3\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE users_online gauge\nusers_online{" + kScopeLabels + "} 17\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP request_duration_seconds Request time.\n"), std::string::npos) << text;
  EXPECT_NE(text.find("request_duration_seconds_bucket{route=\"/a\"," + kScopeLabels + ",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("request_duration_seconds_bucket{route=\"/a\"," + kScopeLabels + ",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("request_duration_seconds_bucket{route=\"/a\"," + kScopeLabels + ",le=\"+Inf\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("request_duration_seconds_count{route=\"/a\"," + kScopeLabels + "} 2\n"), std::string::npos) << text;
}

TEST(PrometheusBackend, LabelValuesAreEscapedSoTheScrapeStaysWellFormed) {
  obs::MetricsRegistry r;
  r.increment("hostile", 1, {{"v", "a\"b\\c\nd"}});
  const std::string text = obs::PrometheusBackend::render(r.snapshot());
  EXPECT_NE(text.find("hostile_total{v=\"a\\\"b\\\\c\\nd\"," + kScopeLabels + "} 1\n"), std::string::npos) << text;
}

TEST(PrometheusBackend, RenderUsesTheAttachedProducer) {
  obs::MetricsRegistry r;
  obs::PrometheusBackend b;
  EXPECT_EQ(b.render(), "");
  b.attach({}, [&r] { return r.snapshot(); });
  r.increment("attached", 1, {});
  EXPECT_NE(b.render().find("attached_total{" + kScopeLabels + "} 1"), std::string::npos);
}

}  // namespace

namespace {
TEST(PrometheusBackend, ARepeatedFamilyNameIsWrittenOnce) {
  obs::MetricsSnapshot s;
  for (double v : {1.0, 2.0}) {
    obs::MetricFamilySnapshot f;
    f.name = "twice";
    f.type = obs::MetricType::Gauge;
    f.series.emplace_back().value = v;
    s.families.push_back(f);
  }
  const std::string text = obs::PrometheusBackend::render(s);
  EXPECT_EQ(text.find("# TYPE twice gauge"), text.rfind("# TYPE twice gauge")) << text;
  EXPECT_NE(text.find("twice{" + kScopeLabels + "} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("twice{" + kScopeLabels + "} 2\n"), std::string::npos);
}
}  // namespace

namespace {
// The compatibility spec's rendering of the model, in both text formats:
// unit suffixes, dotted attribute keys as labels, up-down counters as
// gauges, # UNIT (OpenMetrics only) and the resource as target_info.
TEST(PrometheusBackend, RendersTheModelPerTheCompatibilitySpec) {
  obs::MetricsRegistry r;
  auto duration = r.histogram("http.server.request.duration", std::vector<std::string_view>{"http.request.method"},
                              {.description = "Duration.", .unit = "s", .buckets = {1}});
  duration.labels("GET").observe(0.5);
  r.up_down_counter("http.server.active_requests", {}, {.unit = "{request}"}).labels().add(3);
  r.counter("sent", {}, {.unit = "By"}).labels().inc(10);
  obs::Resource resource;
  resource.service = "svc";
  resource.pid = 42;
  resource.attributes = {{"k8s.pod.name", "p\"1"}, {"k8s_pod_name", "p2"}};  // one label: values joined by ';'

  const std::string text = obs::PrometheusBackend::render(r.snapshot(), &resource);
  EXPECT_NE(text.find("http_server_request_duration_seconds_bucket{http_request_method=\"GET\"," + kScopeLabels + ",le=\"1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE http_server_active_requests gauge\nhttp_server_active_requests{" + kScopeLabels + "} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# HELP http_server_active_requests http.server.active_requests\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sent_bytes_total{" + kScopeLabels + "} 10\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE target_info gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("k8s_pod_name=\"p\\\"1;p2\""), std::string::npos) << text;
  EXPECT_NE(text.find("process_pid=\"42\""), std::string::npos) << text;
  EXPECT_NE(text.find("service_name=\"svc\""), std::string::npos) << text;
  EXPECT_EQ(text.find("# UNIT"), std::string::npos) << text;  // not in text format 0.0.4

  const std::string om = obs::PrometheusBackend::render_openmetrics(r.snapshot(), &resource);
  EXPECT_NE(om.find("# TYPE http_server_request_duration_seconds histogram\n"
                    "# UNIT http_server_request_duration_seconds seconds\n"
                    "# HELP http_server_request_duration_seconds Duration.\n"),
            std::string::npos)
      << om;
  EXPECT_NE(om.find("# TYPE sent_bytes counter\n# UNIT sent_bytes bytes\n# HELP sent_bytes sent\nsent_bytes_total{" + kScopeLabels + "} 10\n"),
            std::string::npos)
      << om;  // without a description, HELP shows the registered name
  EXPECT_NE(om.find("# TYPE http_server_active_requests gauge\n# HELP http_server_active_requests "
                    "http.server.active_requests\nhttp_server_active_requests{" + kScopeLabels + "} 3\n"),
            std::string::npos)
      << om;  // an annotation ({request}) is no unit
  EXPECT_NE(om.find("# TYPE target info\n"), std::string::npos) << om;
  EXPECT_NE(om.find("\ntarget_info{"), std::string::npos) << om;
  EXPECT_EQ(om.rfind("# EOF\n"), om.size() - 6) << om;
}
}  // namespace

namespace {
TEST(PrometheusBackend, ScopeLabelsOnEverySampleButTargetInfoAndOffWhenAsked) {
  obs::MetricsRegistry r;
  r.histogram("latency", std::vector<std::string_view>{}, {.unit = "s", .buckets = {1}}).labels().observe(0.5);
  obs::Resource resource;
  resource.service = "svc";
  for (const bool om : {false, true}) {
    const std::string on = om ? obs::PrometheusBackend::render_openmetrics(r.snapshot(), &resource)
                              : obs::PrometheusBackend::render(r.snapshot(), &resource);
    EXPECT_NE(on.find("latency_seconds_bucket{" + kScopeLabels + ",le=\"1\"} 1"), std::string::npos) << on;
    EXPECT_NE(on.find("latency_seconds_count{" + kScopeLabels + "} 1\n"), std::string::npos) << on;
    EXPECT_NE(on.find("latency_seconds_sum{" + kScopeLabels + "} 0.5\n"), std::string::npos) << on;
    // target_info holds the resource's attributes and nothing else (the spec's MUST NOT).
    const auto info = on.find("\ntarget_info{");
    ASSERT_NE(info, std::string::npos) << on;
    EXPECT_EQ(on.substr(info, on.find('\n', info + 1) - info).find("otel_scope"), std::string::npos) << on;

    const obs::PrometheusOptions without{.scope_labels = false};
    const std::string off = om ? obs::PrometheusBackend::render_openmetrics(r.snapshot(), &resource, without)
                               : obs::PrometheusBackend::render(r.snapshot(), &resource, without);
    EXPECT_EQ(off.find("otel_scope"), std::string::npos) << off;
    EXPECT_NE(off.find("latency_seconds_bucket{le=\"1\"} 1"), std::string::npos) << off;
  }
  // The backend keeps its options.
  obs::PrometheusBackend b({.scope_labels = false});
  b.attach(resource, [&r] { return r.snapshot(); });
  EXPECT_EQ(b.render().find("otel_scope"), std::string::npos);
  EXPECT_EQ(b.render_openmetrics().find("otel_scope"), std::string::npos);
}

// The compatibility spec: a histogram's _sum only while the sum is
// monotonic (no negative observation), in both formats; _count and the
// buckets always.
TEST(PrometheusBackend, HistogramSumLeftOutAfterANegativeObservationInBothFormats) {
  obs::MetricsRegistry r;
  auto h = r.histogram("delta", std::vector<std::string_view>{}, {.buckets = {0}});
  h.labels().observe(2);
  const obs::PrometheusOptions plain{.scope_labels = false};
  EXPECT_NE(obs::PrometheusBackend::render(r.snapshot(), nullptr, plain).find("delta_sum 2\n"), std::string::npos);
  h.labels().observe(-1);
  for (const std::string& text : {obs::PrometheusBackend::render(r.snapshot(), nullptr, plain),
                                  obs::PrometheusBackend::render_openmetrics(r.snapshot(), nullptr, plain)}) {
    EXPECT_EQ(text.find("delta_sum"), std::string::npos) << text;
    EXPECT_NE(text.find("delta_count 2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("delta_bucket{le=\"0\"} 1\n"), std::string::npos) << text;
  }
}

// 0.0.4 HELP escapes backslash and line feed only; OpenMetrics escapes '"' too.
TEST(PrometheusBackend, HelpEscapingPerFormat) {
  obs::MetricsRegistry r;
  r.gauge("g", {}, {.description = "a \"quoted\" \\ word\nnext"}).labels().set(1);
  const obs::PrometheusOptions plain{.scope_labels = false};
  EXPECT_NE(obs::PrometheusBackend::render(r.snapshot(), nullptr, plain).find("# HELP g a \"quoted\" \\\\ word\\nnext\n"),
            std::string::npos);
  EXPECT_NE(obs::PrometheusBackend::render_openmetrics(r.snapshot(), nullptr, plain)
                .find("# HELP g a \\\"quoted\\\" \\\\ word\\nnext\n"),
            std::string::npos);
}
}  // namespace
