#pragma once
// Everything init() needs. Config::from_env() reads the standard variables
// (see docs/configuration.md); every field can also be set in code.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "obs/datadog.hpp"
#include "obs/export.hpp"
#include "obs/level.hpp"
#include "obs/log_backend.hpp"
#include "obs/log_format.hpp"
#include "obs/metrics_backend.hpp"
#include "obs/otlp.hpp"
#include "obs/span_backend.hpp"

namespace obs {

struct OBS_API Config {
  // Empty means OpenTelemetry's default, "unknown_service:<executable>".
  std::string service_name;
  std::string environment = "development";
  std::string version;
  // Further resource attributes (OTEL_RESOURCE_ATTRIBUTES), sent with OTLP
  // exports. service.name, service.version and deployment.environment
  // given there fill the three fields above instead.
  std::vector<std::pair<std::string, std::string>> resource_attributes;

  log::Level log_level = log::Level::Info;
  LogFormat log_format = LogFormat::Text;
  bool console_logs = true;  // the built-in console backend
  std::size_t log_queue_capacity = 16384;
  std::size_t log_batch_size = 512;

  bool prometheus = true;  // the built-in Prometheus backend, served at /metrics
  bool prometheus_scope_labels = true;  // otel_scope_name/otel_scope_version on /metrics (PrometheusOptions)
  bool process_metrics = true;
  std::size_t metric_series_limit = 2000;

  // Tracing. The sampler decides which new traces are recorded; children
  // of a remote or local parent follow the parent's decision with the
  // parent-based samplers (the default, as in OpenTelemetry).
  enum class Sampler { AlwaysOn, AlwaysOff, TraceIdRatio, ParentBasedAlwaysOn, ParentBasedAlwaysOff, ParentBasedTraceIdRatio };
  Sampler traces_sampler = Sampler::ParentBasedAlwaysOn;
  double traces_sampler_ratio = 1.0;  // for the TraceIdRatio samplers, 0..1
  bool console_spans = false;         // the built-in console span backend
  std::size_t span_queue_capacity = 2048;
  std::size_t span_batch_size = 512;
  std::vector<std::shared_ptr<SpanBackend>> span_backends;  // in addition to the built-in one

  // OTLP/HTTP export, per signal: set means on. from_env sets them from
  // OTEL_EXPORTER_OTLP_* when an endpoint is configured or OTEL_*_EXPORTER
  // lists "otlp".
  std::optional<OtlpOptions> otlp_traces;
  std::optional<OtlpOptions> otlp_metrics;
  std::optional<OtlpOptions> otlp_logs;
  // OTLP JSON lines files, per signal (OTEL_*_EXPORTER lists "otlp_file").
  std::optional<OtlpFileOptions> otlp_file_traces;
  std::optional<OtlpFileOptions> otlp_file_metrics;
  std::optional<OtlpFileOptions> otlp_file_logs;
  // Datadog logs and metrics (series API or DogStatsD): set means on.
  // from_env sets it when ENABLE_DATADOG is true.
  std::optional<DatadogOptions> datadog;
  // How often push metric backends (OTLP, files, Datadog) get a snapshot.
  std::chrono::milliseconds metric_export_interval{60000};

  bool admin_server = true;  // /metrics, /health, /health/ready
  std::string admin_bind_address = "0.0.0.0";
  std::uint16_t admin_port = 9568;  // 0 picks a free port (see Sdk::admin_port)
  // Credentials for /metrics and /health/ready (/health stays open for
  // liveness probes). Unset: no credential needed. Either one set admits
  // requests that carry it. Set but unusable (empty, a space or control
  // character, basic without "user:password"): init reports it and starts
  // no admin server rather than serving the endpoints open.
  std::optional<std::string> admin_bearer_token;  // "Authorization: Bearer <token>"
  std::optional<std::string> admin_basic_auth;    // "user:password", for "Authorization: Basic ..."

  bool disabled = false;  // OTEL_SDK_DISABLED: init() starts nothing

  std::vector<std::shared_ptr<LogBackend>> log_backends;          // in addition to the built-in ones
  std::vector<std::shared_ptr<MetricsBackend>> metrics_backends;  // likewise

  // Receives the SDK's own error messages (default: one line on stderr),
  // including those init() also returns in Sdk::errors(). Installed by
  // init() and removed by shutdown().
  std::function<void(std::string_view)> error_handler;

  // Problems found while reading the environment; init() reports them too.
  std::vector<std::string> errors;

  using EnvLookup = std::function<const char*(const char*)>;
  static Config from_env();
  static Config from_env(const EnvLookup& getenv);

  // Overrides the environment.
  Config& service(std::string v) { service_name = std::move(v); return *this; }
  // Used only when neither OTEL_SERVICE_NAME nor DD_SERVICE is set.
  Config& default_service(std::string v) {
    if (service_name.empty()) service_name = std::move(v);
    return *this;
  }
  Config& env(std::string v) { environment = std::move(v); return *this; }
  Config& service_version(std::string v) { version = std::move(v); return *this; }
  Config& level(log::Level v) { log_level = v; return *this; }
  Config& format(LogFormat v) { log_format = v; return *this; }
  Config& console(bool on) { console_logs = on; return *this; }
  Config& with_prometheus(bool on) { prometheus = on; return *this; }
  Config& with_prometheus_scope_labels(bool on) { prometheus_scope_labels = on; return *this; }
  Config& admin(bool on) { admin_server = on; return *this; }
  Config& admin_address(std::string address, std::uint16_t port) {
    admin_bind_address = std::move(address);
    admin_port = port;
    return *this;
  }
  Config& admin_bearer(std::string token) { admin_bearer_token = std::move(token); return *this; }
  Config& admin_basic(std::string_view user, std::string_view password) {
    admin_basic_auth = std::string(user) + ":" + std::string(password);
    return *this;
  }
  Config& series_limit(std::size_t v) { metric_series_limit = v; return *this; }
  Config& add_log_backend(std::shared_ptr<LogBackend> b) { log_backends.push_back(std::move(b)); return *this; }
  Config& add_metrics_backend(std::shared_ptr<MetricsBackend> b) { metrics_backends.push_back(std::move(b)); return *this; }
  Config& add_span_backend(std::shared_ptr<SpanBackend> b) { span_backends.push_back(std::move(b)); return *this; }
  Config& sampler(Sampler s, double ratio = 1.0) { traces_sampler = s; traces_sampler_ratio = ratio; return *this; }
  // All three signals over OTLP/HTTP to `base_endpoint` (as
  // OTEL_EXPORTER_OTLP_ENDPOINT: "/v1/traces" etc. are appended).
  Config& otlp(std::string_view base_endpoint, OtlpOptions options = {}) {
    options.endpoint = otlp_signal_url(base_endpoint, "traces");
    otlp_traces = options;
    options.endpoint = otlp_signal_url(base_endpoint, "metrics");
    otlp_metrics = options;
    options.endpoint = otlp_signal_url(base_endpoint, "logs");
    otlp_logs = std::move(options);
    return *this;
  }
  // All three signals to OTLP JSON lines files.
  Config& otlp_file(OtlpFileOptions options) {
    otlp_file_traces = options;
    otlp_file_metrics = options;
    otlp_file_logs = std::move(options);
    return *this;
  }
  Config& with_datadog(DatadogOptions options) { datadog = std::move(options); return *this; }
  Config& on_error(std::function<void(std::string_view)> handler) { error_handler = std::move(handler); return *this; }
};

}  // namespace obs
