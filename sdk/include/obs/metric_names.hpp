#pragma once
// Naming rules of the metric model. An instrument is registered under its
// OpenTelemetry name, unit and attribute keys; OTLP and Datadog send those as
// they are, and Prometheus gets them rendered by OpenTelemetry's "Prometheus
// and OpenMetrics Compatibility" rules:
//
//   http.server.request.duration, unit "s", histogram  ->  http_server_request_duration_seconds
//   comments.created, no unit, counter                 ->  comments_created_total
//   system.memory.utilization, unit "1", gauge         ->  system_memory_utilization_ratio
//   http.request.method (attribute key)                ->  http_request_method
//
// The registry checks names with these at registration, so every backend
// (and a custom one) renders the same names.
#include <string>
#include <string_view>

#include "obs/export.hpp"
#include "obs/metrics_snapshot.hpp"

namespace obs {

// OpenTelemetry's instrument name syntax: a letter, then up to 254 of
// [A-Za-z0-9_.-/]. On failure returns false and sets `error` (one line of
// printable ASCII naming the problem).
OBS_API bool valid_instrument_name(std::string_view name, std::string& error);
// A unit as OpenTelemetry takes it (UCUM case-sensitive, "{annotation}"s
// allowed): at most 63 printable ASCII characters without spaces, braces
// balanced and not nested. Empty means no unit.
OBS_API bool valid_unit(std::string_view unit, std::string& error);
// An attribute key used as a label key: 1 to 255 bytes of UTF-8 without
// control characters.
OBS_API bool valid_attribute_key(std::string_view key, std::string& error);

// The unit's Prometheus spelling: "s" -> "seconds", "By" -> "bytes",
// "1" -> "ratio", "By/s" -> "bytes_per_second", "{request}" -> "" (an
// annotation only), unknown units sanitised ("packets" stays "packets").
OBS_API std::string prometheus_unit(std::string_view unit);
// The Prometheus metric name (as its samples are named, so a counter's
// ends in "_total"): invalid characters become '_', runs of '_' one, the
// unit's suffix appended unless the name already ends with it, then
// "_total" for counters.
OBS_API std::string prometheus_metric_name(std::string_view name, std::string_view unit, MetricType type);
// A label key made valid for Prometheus: invalid characters (and a
// leading digit) become '_', runs of '_' one.
OBS_API std::string prometheus_label_name(std::string_view key);

}  // namespace obs
