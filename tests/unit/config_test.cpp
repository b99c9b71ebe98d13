// Config::from_env: standard variables, and one clear error per bad value.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/env_lists.hpp"
#include "obs/config.hpp"
#include "support/config_from_map.hpp"

namespace {

using obs_test::from;

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

// ---- OTLP export and OTEL_RESOURCE_ATTRIBUTES ----
namespace {

using std::chrono::milliseconds;
using Headers = std::vector<std::pair<std::string, std::string>>;

bool any_error_contains(const obs::Config& c, std::string_view needle) {
  for (const auto& e : c.errors)
    if (e.find(needle) != std::string::npos) return true;
  return false;
}

std::string all_errors(const obs::Config& c) {
  std::string out;
  for (const auto& e : c.errors) out += e + "\n";
  return out;
}

TEST(ConfigOtlp, NothingSetMeansNoOtlpAndNoFiles) {
  const auto c = from({});
  EXPECT_TRUE(c.errors.empty());
  EXPECT_FALSE(c.otlp_traces);
  EXPECT_FALSE(c.otlp_metrics);
  EXPECT_FALSE(c.otlp_logs);
  EXPECT_FALSE(c.otlp_file_traces);
  EXPECT_FALSE(c.otlp_file_metrics);
  EXPECT_FALSE(c.otlp_file_logs);
  EXPECT_TRUE(c.resource_attributes.empty());
  EXPECT_EQ(c.metric_export_interval, milliseconds(60000));
  EXPECT_EQ(c.log_queue_capacity, 16384u);
  EXPECT_EQ(c.log_batch_size, 512u);
}

TEST(ConfigOtlp, ExporterListsTurnOnExactlyWhatTheyName) {
  const auto c = from({{"OTEL_TRACES_EXPORTER", "otlp, console"},
                       {"OTEL_LOGS_EXPORTER", "otlp_file"},
                       {"OTEL_METRICS_EXPORTER", "OTLP,prometheus,otlp_file"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  ASSERT_TRUE(c.otlp_traces);
  EXPECT_EQ(c.otlp_traces->endpoint, "http://localhost:4318/v1/traces");
  EXPECT_TRUE(c.console_spans);
  EXPECT_FALSE(c.otlp_file_traces);

  EXPECT_FALSE(c.otlp_logs);
  EXPECT_FALSE(c.console_logs);
  ASSERT_TRUE(c.otlp_file_logs);
  EXPECT_EQ(c.otlp_file_logs->directory, "otlp");

  ASSERT_TRUE(c.otlp_metrics);
  EXPECT_EQ(c.otlp_metrics->endpoint, "http://localhost:4318/v1/metrics");
  EXPECT_TRUE(c.prometheus);
  EXPECT_TRUE(c.otlp_file_metrics);
}

TEST(ConfigOtlp, UnknownExportersGiveOneErrorEachAndAreIgnored) {
  const auto c = from({{"OTEL_TRACES_EXPORTER", "zipkin,otlp,jaeger"}, {"OTEL_LOGS_EXPORTER", "syslog"}});
  ASSERT_EQ(c.errors.size(), 3u) << all_errors(c);
  EXPECT_TRUE(any_error_contains(c, "OTEL_TRACES_EXPORTER='zipkin' is not an exporter this build provides "
                                    "(console, otlp, otlp_file, none)"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_TRACES_EXPORTER='jaeger'"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_LOGS_EXPORTER='syslog'"));
  EXPECT_TRUE(c.otlp_traces);
  EXPECT_FALSE(c.console_spans);
  EXPECT_FALSE(c.console_logs);  // a list was given: what it does not name is off
  EXPECT_FALSE(c.otlp_logs);
}

TEST(ConfigOtlp, AnEndpointAloneTurnsOtlpOnForEverySignal) {
  const auto c = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example:4318/"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  ASSERT_TRUE(c.otlp_traces && c.otlp_metrics && c.otlp_logs);
  EXPECT_EQ(c.otlp_traces->endpoint, "https://collector.example:4318/v1/traces");
  EXPECT_EQ(c.otlp_metrics->endpoint, "https://collector.example:4318/v1/metrics");
  EXPECT_EQ(c.otlp_logs->endpoint, "https://collector.example:4318/v1/logs");
  // The console and Prometheus defaults do not change.
  EXPECT_TRUE(c.console_logs);
  EXPECT_TRUE(c.prometheus);
  EXPECT_FALSE(c.console_spans);
  EXPECT_FALSE(c.otlp_file_traces);
}

TEST(ConfigOtlp, ASignalsOwnEndpointIsUsedAsIsAndTurnsOnOnlyThatSignal) {
  const auto c = from({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://tempo:4318/custom/path"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  ASSERT_TRUE(c.otlp_traces);
  EXPECT_EQ(c.otlp_traces->endpoint, "http://tempo:4318/custom/path");
  EXPECT_FALSE(c.otlp_metrics);
  EXPECT_FALSE(c.otlp_logs);

  const auto both = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                          {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://loki:3100/otlp/v1/logs"}});
  ASSERT_TRUE(both.otlp_logs && both.otlp_traces);
  EXPECT_EQ(both.otlp_logs->endpoint, "http://loki:3100/otlp/v1/logs");
  EXPECT_EQ(both.otlp_traces->endpoint, "http://collector:4318/v1/traces");
}

TEST(ConfigOtlp, AnExporterListWinsOverTheEndpointRule) {
  const auto c = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                       {"OTEL_TRACES_EXPORTER", "none"},
                       {"OTEL_METRICS_EXPORTER", "prometheus"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  EXPECT_FALSE(c.otlp_traces);
  EXPECT_FALSE(c.otlp_metrics);
  EXPECT_TRUE(c.otlp_logs);  // no list for logs: the endpoint turns it on
}

TEST(ConfigOtlp, MalformedEndpointsAreReportedWithoutCredentialsAndLeaveTheSignalOff) {
  const auto c = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
                       {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://alice:hunter2@:4318/v1/traces?token=t0ps3cret"},
                       {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://[::1]:4318/v1/logs"}});
  ASSERT_EQ(c.errors.size(), 2u) << all_errors(c);
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_ENDPOINT='collector:4318' is not an http:// or https:// URL"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT='https://:4318/v1/traces'"));
  EXPECT_FALSE(any_error_contains(c, "hunter2"));
  EXPECT_FALSE(any_error_contains(c, "alice"));
  EXPECT_FALSE(any_error_contains(c, "t0ps3cret"));
  EXPECT_FALSE(c.otlp_traces);
  EXPECT_FALSE(c.otlp_metrics);  // its endpoint would come from the malformed base
  ASSERT_TRUE(c.otlp_logs);
  EXPECT_EQ(c.otlp_logs->endpoint, "http://[::1]:4318/v1/logs");

  for (const char* bad : {"http://", "ftp://collector:21", "http://host:0", "http://host:99999", "http://host:port",
                          "http://ho st:4318", "http://[::1"}) {
    const auto d = from({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", bad}});
    EXPECT_EQ(d.errors.size(), 1u) << bad;
    EXPECT_FALSE(d.otlp_traces) << bad;
  }
  for (const char* good : {"http://localhost", "HTTPS://Collector.Example:443/v1/traces", "http://user@host:4318",
                           "http://10.0.0.1:4318/x?y=1"}) {
    const auto d = from({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", good}});
    EXPECT_TRUE(d.errors.empty()) << good << ": " << all_errors(d);
    ASSERT_TRUE(d.otlp_traces) << good;
    EXPECT_EQ(d.otlp_traces->endpoint, good);
  }
}

TEST(ConfigOtlp, GeneralSettingsApplyToEverySignalAndPerSignalOnesWin) {
  const auto c = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                       {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                       {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"},
                       {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                       {"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "none"},
                       {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                       {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "700"},
                       {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem"},
                       {"OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/etc/logs-ca.pem"},
                       {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/etc/client.pem"},
                       {"OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", "/etc/metrics-key.pem"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  ASSERT_TRUE(c.otlp_traces && c.otlp_metrics && c.otlp_logs);
  EXPECT_EQ(c.otlp_traces->protocol, obs::OtlpProtocol::HttpJson);
  EXPECT_EQ(c.otlp_metrics->protocol, obs::OtlpProtocol::HttpProtobuf);
  EXPECT_EQ(c.otlp_logs->protocol, obs::OtlpProtocol::HttpJson);
  EXPECT_TRUE(c.otlp_traces->gzip);
  EXPECT_TRUE(c.otlp_metrics->gzip);
  EXPECT_FALSE(c.otlp_logs->gzip);
  EXPECT_EQ(c.otlp_traces->timeout, milliseconds(700));
  EXPECT_EQ(c.otlp_metrics->timeout, milliseconds(2500));
  EXPECT_EQ(c.otlp_traces->certificate, "/etc/ca.pem");
  EXPECT_EQ(c.otlp_logs->certificate, "/etc/logs-ca.pem");
  EXPECT_EQ(c.otlp_logs->client_certificate, "/etc/client.pem");
  EXPECT_EQ(c.otlp_traces->client_key, "");
  EXPECT_EQ(c.otlp_metrics->client_key, "/etc/metrics-key.pem");
}

TEST(ConfigOtlp, DefaultsOfTheOtlpOptions) {
  const auto c = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}});
  ASSERT_TRUE(c.otlp_traces && c.otlp_metrics && c.otlp_logs);
  EXPECT_EQ(c.otlp_traces->protocol, obs::OtlpProtocol::HttpProtobuf);
  EXPECT_FALSE(c.otlp_traces->gzip);
  EXPECT_EQ(c.otlp_traces->timeout, milliseconds(10000));
  EXPECT_TRUE(c.otlp_traces->headers.empty());
  EXPECT_EQ(c.otlp_traces->schedule_delay, milliseconds(5000));
  EXPECT_EQ(c.otlp_traces->max_export_time, milliseconds(30000));
  EXPECT_EQ(c.otlp_traces->max_queue_size, 2048u);
  EXPECT_EQ(c.otlp_traces->max_batch_size, 512u);
  EXPECT_EQ(c.otlp_logs->schedule_delay, milliseconds(1000));  // the BLRP default, not the BSP one
  EXPECT_EQ(c.otlp_logs->max_export_time, milliseconds(30000));
  EXPECT_EQ(c.otlp_logs->max_queue_size, 2048u);
  EXPECT_EQ(c.otlp_logs->max_batch_size, 512u);
  EXPECT_EQ(c.otlp_metrics->max_export_time, milliseconds(30000));
  EXPECT_EQ(c.otlp_metrics->temporality, obs::OtlpTemporality::Cumulative);
}

TEST(ConfigOtlp, BadSettingsAreReportedAndTheGeneralOrDefaultValueKept) {
  const auto c = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                       {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                       {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"},
                       {"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "thrift"},
                       {"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"},
                       {"OTEL_EXPORTER_OTLP_TIMEOUT", "0"},
                       {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "600001"},
                       {"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "10s"}});
  ASSERT_EQ(c.errors.size(), 6u) << all_errors(c);
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='grpc'"));
  EXPECT_TRUE(any_error_contains(c, "OTLP/HTTP only; using http/json"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL='thrift' is not a protocol"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_COMPRESSION='zstd' is not a compression (gzip, none)"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_TIMEOUT='0' is not a number of milliseconds from 1 to 600000"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT='600001'"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT='10s'"));
  ASSERT_TRUE(c.otlp_traces && c.otlp_logs);
  EXPECT_EQ(c.otlp_traces->protocol, obs::OtlpProtocol::HttpJson);
  EXPECT_EQ(c.otlp_logs->protocol, obs::OtlpProtocol::HttpJson);
  EXPECT_FALSE(c.otlp_traces->gzip);
  EXPECT_EQ(c.otlp_traces->timeout, milliseconds(10000));

  const auto g = from({{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}, {"OTEL_TRACES_EXPORTER", "otlp"}});
  ASSERT_EQ(g.errors.size(), 1u);
  EXPECT_TRUE(any_error_contains(g, "this build speaks OTLP/HTTP only; using http/protobuf"));
  ASSERT_TRUE(g.otlp_traces);
  EXPECT_EQ(g.otlp_traces->protocol, obs::OtlpProtocol::HttpProtobuf);
}

TEST(ConfigOtlp, HeadersAreTrimmedDecodedAndMergedPerSignal) {
  const auto c = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                       {"OTEL_EXPORTER_OTLP_HEADERS", " x-tenant = acme ,Authorization=Basic%20YWJj%3D, x-plus=a+b=c"},
                       {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=Bearer%20trace,x-extra=1,,"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  ASSERT_TRUE(c.otlp_traces && c.otlp_metrics);
  EXPECT_EQ(c.otlp_metrics->headers,
            (Headers{{"x-tenant", "acme"}, {"Authorization", "Basic YWJj="}, {"x-plus", "a+b=c"}}));
  EXPECT_EQ(c.otlp_traces->headers,
            (Headers{{"x-tenant", "acme"}, {"authorization", "Bearer trace"}, {"x-plus", "a+b=c"}, {"x-extra", "1"}}));
}

TEST(ConfigOtlp, HeaderValuesNeverAppearInErrors) {
  const auto c = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                       {"OTEL_EXPORTER_OTLP_HEADERS",
                        "x-api-key=SECRET-valid-1,"
                        "Authorization=Bearer%zzSECRET-bad-escape,"
                        "Authorization Bearer SECRET-no-equals,"
                        "Bad Key=SECRET-bad-key,"
                        "x-inject=a%0D%0ASECRET-crlf,"
                        "=SECRET-empty-key,"
                        "x-nul=SECRET-nul%00,"
                        "x-trailing=SECRET-trailing%2"},
                       {"OTEL_EXPORTER_OTLP_LOGS_HEADERS", "Authorization: Bearer SECRET-colon,x-ok=SECRET-valid-2"}});
  ASSERT_EQ(c.errors.size(), 8u) << all_errors(c);
  for (const auto& e : c.errors) {
    EXPECT_EQ(e.find("SECRET"), std::string::npos) << e;
    EXPECT_EQ(e.find("Bearer"), std::string::npos) << e;
  }
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_HEADERS: entry 2 ('Authorization') has a malformed %-escape"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_HEADERS: entry 3 has no '='"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_HEADERS: entry 4 has a key that is not an HTTP token"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_HEADERS: entry 5 ('x-inject') has a control character"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_HEADERS: entry 6 has an empty key"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_HEADERS: entry 7 ('x-nul')"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_HEADERS: entry 8 ('x-trailing')"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_EXPORTER_OTLP_LOGS_HEADERS: entry 1 has no '='"));
  // The well-formed ones are kept.
  ASSERT_TRUE(c.otlp_logs && c.otlp_traces);
  EXPECT_EQ(c.otlp_traces->headers, (Headers{{"x-api-key", "SECRET-valid-1"}}));
  EXPECT_EQ(c.otlp_logs->headers, (Headers{{"x-api-key", "SECRET-valid-1"}, {"x-ok", "SECRET-valid-2"}}));
}

TEST(ConfigOtlp, MetricsTemporalityPreference) {
  auto temporality = [](const char* v) {
    return from({{"OTEL_METRICS_EXPORTER", "otlp"}, {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", v}});
  };
  EXPECT_EQ(temporality("cumulative").otlp_metrics->temporality, obs::OtlpTemporality::Cumulative);
  EXPECT_EQ(temporality("Delta").otlp_metrics->temporality, obs::OtlpTemporality::Delta);
  EXPECT_EQ(temporality("lowmemory").otlp_metrics->temporality, obs::OtlpTemporality::Delta);
  const auto bad = temporality("sometimes");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_TRUE(any_error_contains(bad, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE='sometimes'"));
  EXPECT_EQ(bad.otlp_metrics->temporality, obs::OtlpTemporality::Cumulative);
}

TEST(ConfigOtlp, BatchVariablesApplyToTheirSignal) {
  const auto c = from({{"OTEL_TRACES_EXPORTER", "otlp,otlp_file"},
                       {"OTEL_LOGS_EXPORTER", "otlp,otlp_file"},
                       {"OTEL_METRICS_EXPORTER", "otlp"},
                       {"OTEL_BSP_SCHEDULE_DELAY", "200"},
                       {"OTEL_BSP_EXPORT_TIMEOUT", "4000"},
                       {"OTEL_BSP_MAX_QUEUE_SIZE", "1000"},
                       {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "100"},
                       {"OTEL_BLRP_SCHEDULE_DELAY", "300"},
                       {"OTEL_BLRP_EXPORT_TIMEOUT", "5000"},
                       {"OTEL_BLRP_MAX_QUEUE_SIZE", "4096"},
                       {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "256"},
                       {"OTEL_METRIC_EXPORT_INTERVAL", "15000"},
                       {"OTEL_METRIC_EXPORT_TIMEOUT", "7000"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  ASSERT_TRUE(c.otlp_traces && c.otlp_logs && c.otlp_metrics && c.otlp_file_traces && c.otlp_file_logs);
  EXPECT_EQ(c.span_queue_capacity, 1000u);
  EXPECT_EQ(c.span_batch_size, 100u);
  EXPECT_EQ(c.otlp_traces->schedule_delay, milliseconds(200));
  EXPECT_EQ(c.otlp_traces->max_export_time, milliseconds(4000));
  EXPECT_EQ(c.otlp_traces->max_queue_size, 1000u);
  EXPECT_EQ(c.otlp_traces->max_batch_size, 100u);
  EXPECT_EQ(c.otlp_file_traces->max_queue_size, 1000u);
  EXPECT_EQ(c.otlp_file_traces->max_batch_size, 100u);
  EXPECT_EQ(c.otlp_file_traces->schedule_delay, milliseconds(200));

  EXPECT_EQ(c.log_queue_capacity, 4096u);
  EXPECT_EQ(c.log_batch_size, 256u);
  EXPECT_EQ(c.otlp_logs->schedule_delay, milliseconds(300));
  EXPECT_EQ(c.otlp_logs->max_export_time, milliseconds(5000));
  EXPECT_EQ(c.otlp_logs->max_queue_size, 4096u);
  EXPECT_EQ(c.otlp_logs->max_batch_size, 256u);
  EXPECT_EQ(c.otlp_file_logs->max_queue_size, 4096u);
  EXPECT_EQ(c.otlp_file_logs->schedule_delay, milliseconds(300));

  EXPECT_EQ(c.metric_export_interval, milliseconds(15000));
  EXPECT_EQ(c.otlp_metrics->max_export_time, milliseconds(7000));

  // Files keep their own 1 s delay unless the variable is given.
  const auto d = from({{"OTEL_TRACES_EXPORTER", "otlp_file"}});
  ASSERT_TRUE(d.otlp_file_traces);
  EXPECT_EQ(d.otlp_file_traces->schedule_delay, milliseconds(1000));
}

TEST(ConfigOtlp, ObsLogQueueSizeWinsOverTheBlrpQueueForTheLogRing) {
  const auto c = from({{"OTEL_BLRP_MAX_QUEUE_SIZE", "4096"}, {"OBS_LOG_QUEUE_SIZE", "1024"}, {"OTEL_LOGS_EXPORTER", "otlp"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  EXPECT_EQ(c.log_queue_capacity, 1024u);
  ASSERT_TRUE(c.otlp_logs);
  EXPECT_EQ(c.otlp_logs->max_queue_size, 4096u);
}

TEST(ConfigOtlp, BatchLargerThanQueueIsClampedWithAnError) {
  const auto c = from({{"OTEL_TRACES_EXPORTER", "otlp"},
                       {"OTEL_LOGS_EXPORTER", "otlp"},
                       {"OTEL_BSP_MAX_QUEUE_SIZE", "100"},
                       {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200"},
                       {"OTEL_BLRP_MAX_QUEUE_SIZE", "64"},
                       {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "65"}});
  ASSERT_EQ(c.errors.size(), 2u) << all_errors(c);
  EXPECT_TRUE(any_error_contains(c, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE='200' is larger than the queue size 100; using 100"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE='65' is larger than the queue size 64; using 64"));
  EXPECT_EQ(c.span_batch_size, 100u);
  EXPECT_EQ(c.otlp_traces->max_batch_size, 100u);
  EXPECT_EQ(c.otlp_logs->max_batch_size, 64u);
  EXPECT_EQ(c.log_batch_size, 64u);

  // A default batch size just follows a smaller queue.
  const auto d = from({{"OTEL_BSP_MAX_QUEUE_SIZE", "100"}});
  EXPECT_TRUE(d.errors.empty()) << all_errors(d);
  EXPECT_EQ(d.span_batch_size, 100u);
}

TEST(ConfigOtlp, BadBatchAndIntervalValuesAreReported) {
  const auto c = from({{"OTEL_BSP_SCHEDULE_DELAY", "-1"},
                       {"OTEL_BLRP_EXPORT_TIMEOUT", "soon"},
                       {"OTEL_BLRP_MAX_QUEUE_SIZE", "1"},
                       {"OTEL_METRIC_EXPORT_INTERVAL", "0"},
                       {"OTEL_METRIC_EXPORT_TIMEOUT", "1e3"}});
  ASSERT_EQ(c.errors.size(), 5u) << all_errors(c);
  EXPECT_TRUE(any_error_contains(c, "OTEL_BSP_SCHEDULE_DELAY='-1' is not a number of milliseconds"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_BLRP_EXPORT_TIMEOUT='soon'"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_BLRP_MAX_QUEUE_SIZE='1' is not an integer from 2"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_METRIC_EXPORT_INTERVAL='0' is not a number of milliseconds"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_METRIC_EXPORT_TIMEOUT='1e3'"));
  EXPECT_EQ(c.metric_export_interval, milliseconds(60000));
  EXPECT_EQ(c.log_queue_capacity, 16384u);
}

TEST(ConfigOtlp, FileOptionsFromObsVariables) {
  const auto c = from({{"OTEL_TRACES_EXPORTER", "otlp_file"},
                       {"OTEL_METRICS_EXPORTER", "otlp_file"},
                       {"OBS_OTLP_FILE_DIR", "/var/lib/app/otlp"},
                       {"OBS_OTLP_FILE_MAX_BYTES", "1048576"},
                       {"OBS_OTLP_FILE_MAX_BACKUPS", "0"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  ASSERT_TRUE(c.otlp_file_traces && c.otlp_file_metrics);
  EXPECT_FALSE(c.otlp_file_logs);
  EXPECT_FALSE(c.otlp_traces);
  EXPECT_FALSE(c.prometheus);
  EXPECT_EQ(c.otlp_file_metrics->directory, "/var/lib/app/otlp");
  EXPECT_EQ(c.otlp_file_traces->max_file_bytes, 1048576u);
  EXPECT_EQ(c.otlp_file_traces->max_backups, 0u);

  const auto bad = from({{"OBS_OTLP_FILE_MAX_BYTES", "10"}, {"OBS_OTLP_FILE_MAX_BACKUPS", "many"}});
  EXPECT_EQ(bad.errors.size(), 2u) << all_errors(bad);
  EXPECT_TRUE(any_error_contains(bad, "OBS_OTLP_FILE_MAX_BYTES='10'"));
  EXPECT_TRUE(any_error_contains(bad, "OBS_OTLP_FILE_MAX_BACKUPS='many'"));
}

TEST(ConfigResource, AttributesAreParsedDecodedAndDeduplicated) {
  const auto c = from({{"OTEL_RESOURCE_ATTRIBUTES",
                        " k8s.pod.name = api-7f9 ,team=payments%2Ccore,host.name=a,empty=,host.name=b, note=a+b%20c"}});
  EXPECT_TRUE(c.errors.empty()) << all_errors(c);
  EXPECT_EQ(c.resource_attributes, (Headers{{"k8s.pod.name", "api-7f9"},
                                            {"team", "payments,core"},
                                            {"host.name", "b"},
                                            {"empty", ""},
                                            {"note", "a+b c"}}));
}

TEST(ConfigResource, MalformedEntriesAreReportedAndSkipped) {
  const auto c = from({{"OTEL_RESOURCE_ATTRIBUTES", "ok=1,justtext,bad key=2,=3,pct=%G1,ok2=2"}});
  ASSERT_EQ(c.errors.size(), 4u) << all_errors(c);
  EXPECT_TRUE(any_error_contains(c, "OTEL_RESOURCE_ATTRIBUTES: entry 2 has no '='"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_RESOURCE_ATTRIBUTES: entry 3 has a key that is not an HTTP token"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_RESOURCE_ATTRIBUTES: entry 4 has an empty key"));
  EXPECT_TRUE(any_error_contains(c, "OTEL_RESOURCE_ATTRIBUTES: entry 5 ('pct') has a malformed %-escape"));
  EXPECT_EQ(c.resource_attributes, (Headers{{"ok", "1"}, {"ok2", "2"}}));
}

TEST(ConfigResource, ServiceVersionAndEnvironmentPrecedence) {
  const std::string attrs = "service.name=from-attrs,service.version=1.2.3,deployment.environment=prod,region=eu";
  // The attributes fill the fields and win over DD_*.
  const auto a = from({{"OTEL_RESOURCE_ATTRIBUTES", attrs}, {"DD_SERVICE", "dd"}, {"DD_VERSION", "0.1"}, {"DD_ENV", "dd-env"}});
  EXPECT_TRUE(a.errors.empty()) << all_errors(a);
  EXPECT_EQ(a.service_name, "from-attrs");
  EXPECT_EQ(a.version, "1.2.3");
  EXPECT_EQ(a.environment, "prod");
  EXPECT_EQ(a.resource_attributes, (Headers{{"region", "eu"}}));  // the three are not repeated there
  // OTEL_SERVICE_NAME, OBS_SERVICE_VERSION and OBS_ENVIRONMENT win over them.
  const auto b = from({{"OTEL_RESOURCE_ATTRIBUTES", attrs},
                       {"OTEL_SERVICE_NAME", "otel"},
                       {"OBS_SERVICE_VERSION", "9"},
                       {"OBS_ENVIRONMENT", "staging"}});
  EXPECT_EQ(b.service_name, "otel");
  EXPECT_EQ(b.version, "9");
  EXPECT_EQ(b.environment, "staging");
  // deployment.environment.name (the current convention) wins over deployment.environment.
  const auto n = from({{"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=qa,deployment.environment=old"}});
  EXPECT_EQ(n.environment, "qa");
  EXPECT_TRUE(n.resource_attributes.empty());
  // Without the attributes, the existing order holds.
  EXPECT_EQ(from({{"DD_SERVICE", "dd"}}).service_name, "dd");
  EXPECT_EQ(from({{"OTEL_RESOURCE_ATTRIBUTES", "service.name="}, {"DD_SERVICE", "dd"}}).service_name, "dd");
}

TEST(ConfigEnvLists, ParserReportsPositionsAndNeverKeepsControlCharacters) {
  using obs::internal::KeyValueIssue;
  const auto list = obs::internal::parse_key_value_list(",a=1,, b = x=y ,c,d=%41%62,e=%0a,f=%,g=%4");
  EXPECT_EQ(list.entries, (Headers{{"a", "1"}, {"b", "x=y"}, {"d", "Ab"}}));
  ASSERT_EQ(list.problems.size(), 4u);
  EXPECT_EQ(list.problems[0].entry, 5u);
  EXPECT_EQ(list.problems[0].issue, KeyValueIssue::NoEquals);
  EXPECT_EQ(list.problems[0].key, "");
  EXPECT_EQ(list.problems[1].entry, 7u);
  EXPECT_EQ(list.problems[1].key, "e");
  EXPECT_EQ(list.problems[1].issue, KeyValueIssue::ControlCharacter);
  EXPECT_EQ(list.problems[2].issue, KeyValueIssue::BadPercentEscape);
  EXPECT_EQ(list.problems[3].issue, KeyValueIssue::BadPercentEscape);
  EXPECT_TRUE(obs::internal::parse_key_value_list("").entries.empty());
  EXPECT_TRUE(obs::internal::parse_key_value_list(" , ,").problems.empty());
  EXPECT_TRUE(obs::internal::is_http_token("x-api_key.v1~"));
  EXPECT_FALSE(obs::internal::is_http_token("a:b"));
  EXPECT_FALSE(obs::internal::is_http_token(""));
  EXPECT_EQ(obs::internal::percent_decode("a%2Bb+c"), "a+b+c");
  EXPECT_FALSE(obs::internal::percent_decode("%zz"));
}

}  // namespace
