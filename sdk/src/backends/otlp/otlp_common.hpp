#pragma once
// Helpers shared by the OTLP protobuf and JSON encoders (internal).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "obs/fields.hpp"
#include "obs/resource.hpp"
#include "obs/span_backend.hpp"
#include "obs/version.hpp"

namespace obs::otlp::detail {

inline constexpr std::string_view kScopeName = "obs";
// The semantic conventions the built-in instrumentation follows (names,
// units, attribute keys), sent as every scope's schema_url.
inline constexpr std::string_view kSchemaUrl = "https://opentelemetry.io/schemas/1.26.0";
inline constexpr std::string_view kOverflowAttribute = "otel.metric.overflow";
inline constexpr std::string_view kThreadIdAttribute = "thread.id";
inline constexpr std::string_view kRequestIdAttribute = "request_id";

// Link.flags: the W3C trace flags of the linked context (0x01 when
// sampled). The remoteness bits 8-9 stay clear, as in span_flags(), so
// both flags fields mean the same thing.
inline std::uint32_t link_flags(const SpanLink& link) { return link.context.sampled ? 0x01u : 0u; }

}  // namespace obs::otlp::detail
