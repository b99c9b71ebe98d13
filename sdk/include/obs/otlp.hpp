#pragma once
// OTLP export: spans, logs and metrics over OTLP/HTTP (protobuf or JSON) to
// an OpenTelemetry Collector, Tempo, Loki or any OTLP endpoint, and to OTLP
// JSON lines files (what the Collector's file exporter writes and its
// otlpjsonfile receiver reads).
//
// Usually configured by the standard OTEL_EXPORTER_OTLP_* variables through
// Config::from_env (see docs/backends/otlp.md); every option can be set in
// code too. Exporting runs on each backend's own thread with a bounded
// queue: a slow or absent receiver costs counted drops, never a blocked
// caller.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "obs/export.hpp"
#include "obs/log_backend.hpp"
#include "obs/metrics_backend.hpp"
#include "obs/span_backend.hpp"

namespace obs {

enum class OtlpProtocol { HttpProtobuf, HttpJson };
enum class OtlpTemporality { Cumulative, Delta };

// One signal's OTLP/HTTP destination and delivery settings.
struct OtlpOptions {
  // The signal's full URL, e.g. "http://localhost:4318/v1/traces" (see
  // otlp_signal_url for building it from a base endpoint).
  std::string endpoint;
  OtlpProtocol protocol = OtlpProtocol::HttpProtobuf;
  bool gzip = false;
  // Longest a single HTTP request may take (connect, send, answer).
  std::chrono::milliseconds timeout{10000};
  // Longest one batch may take across all its attempts; then it is counted
  // as failed.
  std::chrono::milliseconds max_export_time{30000};
  // Sent with every request (authentication tokens, tenant ids). Their
  // values never appear in the SDK's messages.
  std::vector<std::pair<std::string, std::string>> headers;
  // PEM files, for https endpoints: the CA bundle that verifies the
  // receiver (empty: the system's), and a client certificate and key for
  // mutual TLS.
  std::string certificate;
  std::string client_certificate;
  std::string client_key;

  // Spans and logs are sent when max_batch_size records are waiting, or
  // when the oldest has waited schedule_delay. At most max_queue_size wait;
  // more are dropped and counted (obs_exporter_dropped{reason="otlp_queue_full"}).
  std::size_t max_queue_size = 2048;
  std::size_t max_batch_size = 512;
  std::chrono::milliseconds schedule_delay{5000};

  // Retries on 429, 502, 503, 504 and connection failures: exponential
  // backoff with jitter, or the receiver's Retry-After when it sends one.
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};

  // Metrics only: totals since start (cumulative) or changes since the
  // previous export (delta) for counters and histograms.
  OtlpTemporality temporality = OtlpTemporality::Cumulative;
};

// `base` + "/v1/traces" (or metrics, logs) as OTEL_EXPORTER_OTLP_ENDPOINT
// is combined: one slash between them, whatever `base` ends with.
OBS_API std::string otlp_signal_url(std::string_view base, std::string_view signal);

// OTLP JSON lines files: one ExportXServiceRequest per line, in
// <directory>/traces.jsonl, metrics.jsonl and logs.jsonl. A file reaching
// max_file_bytes is renamed to <name>.1.jsonl (older ones shift up to
// max_backups, the oldest is deleted) and a new one started.
struct OtlpFileOptions {
  std::string directory = "otlp";
  std::size_t max_file_bytes = std::size_t{64} << 20;
  std::size_t max_backups = 3;
  std::size_t max_queue_size = 2048;
  std::size_t max_batch_size = 512;
  std::chrono::milliseconds schedule_delay{1000};
};

// Each throws std::invalid_argument naming the problem (a malformed
// endpoint, an unreadable certificate file); init() reports it and goes on
// without that backend.
OBS_API std::shared_ptr<SpanBackend> make_otlp_span_backend(OtlpOptions options);
OBS_API std::shared_ptr<LogBackend> make_otlp_log_backend(OtlpOptions options);
OBS_API std::shared_ptr<MetricsBackend> make_otlp_metrics_backend(OtlpOptions options,
                                                                   std::chrono::milliseconds interval);
OBS_API std::shared_ptr<SpanBackend> make_otlp_file_span_backend(OtlpFileOptions options);
OBS_API std::shared_ptr<LogBackend> make_otlp_file_log_backend(OtlpFileOptions options);
OBS_API std::shared_ptr<MetricsBackend> make_otlp_file_metrics_backend(OtlpFileOptions options,
                                                                        std::chrono::milliseconds interval);

}  // namespace obs
