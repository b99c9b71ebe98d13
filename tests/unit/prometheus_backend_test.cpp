// Exposition via prometheus-cpp's serializer: names, escaping, histograms.
#include <gtest/gtest.h>

#include "obs/backends/prometheus.hpp"
#include "obs/metrics_registry.hpp"

namespace {

TEST(PrometheusBackend, RendersEveryTypeWithPrometheusNames) {
  obs::MetricsRegistry r;
  r.increment("comments.created", 3, {{"region", "eu"}});
  r.set_gauge("users.online", 17, {});
  auto h = r.histogram("request.duration.seconds", std::vector<std::string_view>{"route"}, {.help = "Request time.", .buckets = {0.1, 1}});
  h.labels("/a").observe(0.05);
  h.labels("/a").observe(0.5);
  const std::string text = obs::PrometheusBackend::render(r.snapshot());
  EXPECT_NE(text.find("# TYPE comments_created_total counter\ncomments_created_total{region=\"eu\"} 3\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE users_online gauge\nusers_online 17\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP request_duration_seconds Request time.\n"), std::string::npos) << text;
  EXPECT_NE(text.find("request_duration_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("request_duration_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("request_duration_seconds_count{route=\"/a\"} 2\n"), std::string::npos) << text;
}

TEST(PrometheusBackend, LabelValuesAreEscapedSoTheScrapeStaysWellFormed) {
  obs::MetricsRegistry r;
  r.increment("hostile", 1, {{"v", "a\"b\\c\nd"}});
  const std::string text = obs::PrometheusBackend::render(r.snapshot());
  EXPECT_NE(text.find("hostile_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
}

TEST(PrometheusBackend, RenderUsesTheAttachedProducer) {
  obs::MetricsRegistry r;
  obs::PrometheusBackend b;
  EXPECT_EQ(b.render(), "");
  b.attach({}, [&r] { return r.snapshot(); });
  r.increment("attached", 1, {});
  EXPECT_NE(b.render().find("attached_total 1"), std::string::npos);
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
  EXPECT_NE(text.find("twice 1\n"), std::string::npos);
  EXPECT_EQ(text.find("twice 2\n"), std::string::npos);
}
}  // namespace
