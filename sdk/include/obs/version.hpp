#pragma once
#define OBS_VERSION_MAJOR 0
#define OBS_VERSION_MINOR 1
#define OBS_VERSION_PATCH 0
#define OBS_VERSION "0.1.0"

#include <string_view>

namespace obs {
// The instrumentation scope all of obs's telemetry is reported under, with
// OBS_VERSION as its version: OTLP's InstrumentationScope, and Prometheus'
// otel_scope_name and otel_scope_version labels.
inline constexpr std::string_view kScopeName = "obs";
// The semantic conventions the built-in instrumentation follows (names,
// units, attribute keys), sent as every OTLP scope's schema_url.
inline constexpr std::string_view kSchemaUrl = "https://opentelemetry.io/schemas/1.33.0";
}  // namespace obs
