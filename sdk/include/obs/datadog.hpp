#pragma once
// Datadog export: logs to the HTTP logs intake (v2), metrics to the series
// API (v1) or to a Datadog Agent over DogStatsD (UDP). Every log and series
// carries unified service tagging (env, service, version).
//
// Usually configured by ENABLE_DATADOG and the DD_* variables through
// Config::from_env (see docs/backends/datadog.md). Exporting runs on
// background threads with bounded queues; the API key is sent only in the
// DD-API-KEY header and never appears in the SDK's messages.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "obs/export.hpp"
#include "obs/log_backend.hpp"
#include "obs/metrics_backend.hpp"

namespace obs {

enum class DatadogMetrics {
  Api,        // HTTPS to the series API, with the API key
  DogStatsd,  // UDP datagrams to a Datadog Agent
  Off,
};

struct DogStatsdOptions {
  std::string host = "localhost";  // DD_AGENT_HOST
  std::uint16_t port = 8125;       // DD_DOGSTATSD_PORT
  // Lines are packed into datagrams of at most this many bytes. 1432 fits
  // an Ethernet MTU; raise it on loopback or when the Agent is local.
  std::size_t max_packet_size = 1432;
};

struct DatadogOptions {
  std::string api_key;            // DD_API_KEY (or DATADOG_API_KEY)
  std::string site = "datadoghq.com";  // DD_SITE: datadoghq.eu, us3.datadoghq.com, ...
  // Full intake URLs; empty: https://http-intake.logs.<site>/api/v2/logs and
  // https://api.<site>/api/v1/series. Set them to go through a proxy (or a
  // test receiver).
  std::string logs_url;
  std::string metrics_url;
  // Tags on every log and series ("key:value" or "key"), after env,
  // service and version (DD_TAGS).
  std::vector<std::string> tags;
  // The host the data is about (DD_HOSTNAME); empty: this machine's name.
  std::string hostname;
  std::string source = "cpp";  // logs' ddsource

  bool logs = true;
  DatadogMetrics metrics = DatadogMetrics::Api;
  DogStatsdOptions dogstatsd;

  // Histograms become these series, as DogStatsD reports them:
  // "<name>.max", ".median", ".avg", ".count", ".sum", ".min" and one
  // "<name>.<p>percentile" per percentile (0.95 -> ".95percentile").
  // Max, min, median and percentiles are estimated from the buckets.
  std::vector<std::string> histogram_aggregates = {"max", "median", "avg", "count"};  // DD_HISTOGRAM_AGGREGATES
  std::vector<double> histogram_percentiles = {0.95};                                 // DD_HISTOGRAM_PERCENTILES

  // Compress request bodies: gzip for logs, deflate for series (what each
  // intake accepts).
  bool compress = true;
  std::chrono::milliseconds timeout{10000};  // one HTTP request
  std::chrono::milliseconds max_export_time{30000};
  std::string certificate;  // CA bundle (PEM) for a TLS proxy; empty: the system's
  // Logs are sent when max_batch_size are waiting (at most 1000, the
  // intake's limit) or the oldest has waited schedule_delay.
  std::size_t max_queue_size = 4096;
  std::size_t max_batch_size = 1000;
  std::chrono::milliseconds schedule_delay{1000};
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  // Intake limits (the defaults are Datadog's): an entry longer than
  // max_entry_bytes is truncated, requests hold at most max_payload_bytes
  // of uncompressed JSON.
  std::size_t max_entry_bytes = 1000000;
  std::size_t max_payload_bytes = 5000000;
};

// Each throws std::invalid_argument naming the problem (no API key, a
// malformed URL, a bad histogram setting); init() reports it and goes on
// without that backend. The message never contains the key.
OBS_API std::shared_ptr<LogBackend> make_datadog_log_backend(DatadogOptions options);
OBS_API std::shared_ptr<MetricsBackend> make_datadog_metrics_backend(DatadogOptions options,
                                                                      std::chrono::milliseconds interval);
OBS_API std::shared_ptr<MetricsBackend> make_dogstatsd_metrics_backend(DatadogOptions options,
                                                                        std::chrono::milliseconds interval);

}  // namespace obs
