#pragma once
// OTLP encoding (internal): turns the SDK's own batches into the bodies of
// OTLP/HTTP export requests, as protobuf (application/x-protobuf) or as the
// OTLP JSON mapping (application/json). No transport here.
//
// Protobuf: ExportTraceServiceRequest / ExportLogsServiceRequest /
// ExportMetricsServiceRequest of opentelemetry-proto, written by hand (no
// libprotobuf); sdk/proto holds the matching .proto subset for tests.
// JSON: the OTLP flavour of the proto3 JSON mapping: lowerCamelCase names,
// trace/span ids as lower-case hex, enums as integers, 64-bit integers as
// decimal strings, default values left out.
//
// Every request carries one ResourceX (service.name, service.version,
// deployment.environment.name, host.name, process.pid, telemetry.sdk.*) and one
// ScopeX with scope name "obs".
#include <chrono>
#include <span>
#include <string>

#include "obs/log_backend.hpp"
#include "obs/metrics_snapshot.hpp"
#include "obs/resource.hpp"
#include "obs/span_backend.hpp"

namespace obs::otlp {

std::string encode_traces_protobuf(const Resource& resource, std::span<const SpanData> spans);
std::string encode_traces_json(const Resource& resource, std::span<const SpanData> spans);

std::string encode_logs_protobuf(const Resource& resource, std::span<const LogRecord> records);
std::string encode_logs_json(const Resource& resource, std::span<const LogRecord> records);

// How counters and histograms are reported: totals since `start_time`
// (cumulative, the default) or the change since `start_time`, the previous
// export (delta; the caller subtracts, the encoder only labels the points).
enum class Temporality { Cumulative, Delta };

// `start_time` is the start of the counters' and histograms' interval (the
// SDK's start when cumulative); the snapshot's own time is every data
// point's time. Up-down counters are always cumulative (OpenTelemetry's
// delta preference keeps them so), since `cumulative_start` (the SDK's
// start; `start_time` when left at the epoch). Families without series are
// left out: OTLP has no use for a metric without data points.
std::string encode_metrics_protobuf(const Resource& resource, const MetricsSnapshot& snapshot,
                                    std::chrono::system_clock::time_point start_time,
                                    Temporality temporality = Temporality::Cumulative,
                                    std::chrono::system_clock::time_point cumulative_start = {});
std::string encode_metrics_json(const Resource& resource, const MetricsSnapshot& snapshot,
                                std::chrono::system_clock::time_point start_time,
                                Temporality temporality = Temporality::Cumulative,
                                std::chrono::system_clock::time_point cumulative_start = {});

// Mappings shared by both encodings (exposed for tests).
int severity_number(log::Level level);            // TRACE=1 DEBUG=5 INFO=9 WARN=13 ERROR=17 FATAL=21, Off=0
std::string_view severity_text(log::Level level);  // "TRACE" ... "FATAL", "" for Off
int span_kind_number(SpanKind kind);               // internal=1 ... consumer=5
int status_code_number(SpanStatus status);         // unset=0 ok=1 error=2
int temporality_number(Temporality t);             // delta=1 cumulative=2
// W3C trace flags in the low byte (0x01 sampled, 0x02 random trace id),
// bit 8 (is-remote known) always, bit 9 when the parent was remote.
std::uint32_t span_flags(const SpanData& span);
std::uint64_t unix_nanos(std::chrono::system_clock::time_point t);  // 0 for times before the epoch

}  // namespace obs::otlp
