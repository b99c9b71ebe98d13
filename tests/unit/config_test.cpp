// Config::from_env: standard variables, and one clear error per bad value.
#include <gtest/gtest.h>

#include <map>

#include "obs/config.hpp"

namespace {

obs::Config from(std::map<std::string, std::string> env) {
  return obs::Config::from_env([env = std::move(env)](const char* name) -> const char* {
    static thread_local std::string value;
    auto it = env.find(name);
    if (it == env.end()) return nullptr;
    value = it->second;
    return value.c_str();
  });
}

TEST(Config, DefaultsWithoutEnvironment) {
  const auto c = from({});
  EXPECT_TRUE(c.errors.empty());
  EXPECT_EQ(c.service_name, "");
  EXPECT_EQ(c.log_level, obs::log::Level::Info);
  EXPECT_EQ(c.log_format, obs::LogFormat::Text);
  EXPECT_EQ(c.admin_port, 9568);
  EXPECT_EQ(c.admin_bind_address, "0.0.0.0");
  EXPECT_EQ(c.metric_series_limit, 2000u);
  EXPECT_TRUE(c.console_logs);
  EXPECT_TRUE(c.prometheus);
  EXPECT_FALSE(c.disabled);
}

TEST(Config, ReadsStandardVariables) {
  const auto c = from({{"OTEL_SERVICE_NAME", "image_svc"},
                       {"DD_SERVICE", "ignored_when_otel_set"},
                       {"DD_ENV", "staging"},
                       {"DD_VERSION", "2.0"},
                       {"LOG_LEVEL", "WARN"},
                       {"OBS_LOG_FORMAT", "json"},
                       {"PROMETHEUS_PORT", "9100"},
                       {"OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"},
                       {"OBS_METRIC_SERIES_LIMIT", "50"},
                       {"OTEL_LOGS_EXPORTER", "none"},
                       {"OTEL_METRICS_EXPORTER", "prometheus"}});
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  EXPECT_EQ(c.service_name, "image_svc");
  EXPECT_EQ(c.environment, "staging");
  EXPECT_EQ(c.version, "2.0");
  EXPECT_EQ(c.log_level, obs::log::Level::Warning);
  EXPECT_EQ(c.log_format, obs::LogFormat::Json);
  EXPECT_EQ(c.admin_port, 9100);
  EXPECT_EQ(c.admin_bind_address, "127.0.0.1");
  EXPECT_EQ(c.metric_series_limit, 50u);
  EXPECT_FALSE(c.console_logs);
  EXPECT_TRUE(c.prometheus);
}

TEST(Config, OtelPrometheusPortWinsOverTheSeedsVariable) {
  const auto c = from({{"PROMETHEUS_PORT", "9100"}, {"OTEL_EXPORTER_PROMETHEUS_PORT", "9200"}});
  EXPECT_EQ(c.admin_port, 9200);
}

TEST(Config, EachBadValueGivesOneErrorNamingTheVariableAndKeepsTheDefault) {
  const auto c = from({{"LOG_LEVEL", "verbose"},
                       {"PROMETHEUS_PORT", "70000"},
                       {"OBS_LOG_FORMAT", "xml"},
                       {"OBS_METRIC_SERIES_LIMIT", "-3"},
                       {"OBS_PROCESS_METRICS", "maybe"},
                       {"OTEL_METRICS_EXPORTER", "statsd"}});
  ASSERT_EQ(c.errors.size(), 6u);
  auto has = [&](std::string_view needle) {
    for (const auto& e : c.errors)
      if (e.find(needle) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("LOG_LEVEL='verbose' is not a level"));
  EXPECT_TRUE(has("PROMETHEUS_PORT='70000' is not an integer from 0 to 65535; using 9568"));
  EXPECT_TRUE(has("OBS_LOG_FORMAT='xml'"));
  EXPECT_TRUE(has("OBS_METRIC_SERIES_LIMIT='-3'"));
  EXPECT_TRUE(has("OBS_PROCESS_METRICS='maybe' is not a boolean"));
  EXPECT_TRUE(has("OTEL_METRICS_EXPORTER='statsd'"));
  EXPECT_EQ(c.log_level, obs::log::Level::Info);
  EXPECT_EQ(c.admin_port, 9568);
  EXPECT_EQ(c.metric_series_limit, 2000u);
  EXPECT_FALSE(c.prometheus);  // an explicit list without prometheus turns it off
}

TEST(Config, HostileValuesAreQuotedShortAndWithoutControlCharacters) {
  const auto c = from({{"LOG_LEVEL", std::string(5000, 'x') + "\n\x1b[2J"}});
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_LT(c.errors[0].size(), 300u);
  EXPECT_EQ(c.errors[0].find('\n'), std::string::npos);
  EXPECT_EQ(c.errors[0].find('\x1b'), std::string::npos);
}

TEST(Config, DefaultServiceYieldsToTheEnvironmentButServiceDoesNot) {
  EXPECT_EQ(from({}).default_service("svc").service_name, "svc");
  EXPECT_EQ(from({{"OTEL_SERVICE_NAME", "env"}}).default_service("svc").service_name, "env");
  EXPECT_EQ(from({{"OTEL_SERVICE_NAME", "env"}}).service("svc").service_name, "svc");
}

TEST(Config, SdkDisabled) {
  EXPECT_TRUE(from({{"OTEL_SDK_DISABLED", "TRUE"}}).disabled);
  EXPECT_TRUE(from({{"OTEL_SDK_DISABLED", "1"}}).disabled);
  EXPECT_FALSE(from({{"OTEL_SDK_DISABLED", "false"}}).disabled);
  const auto bad = from({{"OTEL_SDK_DISABLED", "perhaps"}});
  EXPECT_FALSE(bad.disabled);
  ASSERT_EQ(bad.errors.size(), 1u);
}

TEST(Level, ParsesCaseInsensitivelyWithAliases) {
  EXPECT_EQ(obs::log::parse_level("Debug"), obs::log::Level::Debug);
  EXPECT_EQ(obs::log::parse_level("fatal"), obs::log::Level::Critical);
  EXPECT_EQ(obs::log::parse_level("none"), obs::log::Level::Off);
  EXPECT_FALSE(obs::log::parse_level("loud").has_value());
  EXPECT_EQ(obs::log::to_string(obs::log::Level::Warning), "warning");
}

}  // namespace

namespace {
TEST(Config, TracingVariables) {
  const auto c = from({{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
                       {"OTEL_TRACES_SAMPLER_ARG", "0.1"},
                       {"OTEL_TRACES_EXPORTER", "console"},
                       {"OTEL_BSP_MAX_QUEUE_SIZE", "4096"},
                       {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "128"}});
  EXPECT_TRUE(c.errors.empty()) << c.errors.front();
  EXPECT_EQ(c.traces_sampler, obs::Config::Sampler::ParentBasedTraceIdRatio);
  EXPECT_DOUBLE_EQ(c.traces_sampler_ratio, 0.1);
  EXPECT_TRUE(c.console_spans);
  EXPECT_EQ(c.span_queue_capacity, 4096u);
  EXPECT_EQ(c.span_batch_size, 128u);
  EXPECT_FALSE(from({}).console_spans);
  EXPECT_EQ(from({}).traces_sampler, obs::Config::Sampler::ParentBasedAlwaysOn);
}

TEST(Config, BadTracingValuesAreReportedAndDefaultsKept) {
  const auto c = from({{"OTEL_TRACES_SAMPLER", "sometimes"}, {"OTEL_TRACES_SAMPLER_ARG", "1.5"}});
  ASSERT_EQ(c.errors.size(), 2u);
  EXPECT_NE(c.errors[0].find("OTEL_TRACES_SAMPLER='sometimes' is not a sampler"), std::string::npos);
  EXPECT_NE(c.errors[1].find("OTEL_TRACES_SAMPLER_ARG='1.5' is not a ratio from 0 to 1"), std::string::npos);
  EXPECT_EQ(c.traces_sampler, obs::Config::Sampler::ParentBasedAlwaysOn);
  EXPECT_DOUBLE_EQ(c.traces_sampler_ratio, 1.0);
}
}  // namespace
