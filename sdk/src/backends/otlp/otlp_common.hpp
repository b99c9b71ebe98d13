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

using obs::kSchemaUrl;
using obs::kScopeName;
inline constexpr std::string_view kOverflowAttribute = "otel.metric.overflow";
inline constexpr std::string_view kThreadIdAttribute = "thread.id";
inline constexpr std::string_view kRequestIdAttribute = "request_id";

// The flags fields of Span, Link and LogRecord: bits 0-7 the W3C trace
// flags (0x01 sampled, 0x02 random trace id), then for spans and links
// bit 8 "is-remote is known" and bit 9 "is remote" (of the span's parent,
// or of the linked context), as trace.proto's SpanFlags say.
inline constexpr std::uint32_t kHasIsRemote = 0x100;
inline constexpr std::uint32_t kIsRemote = 0x200;
inline std::uint32_t w3c_flags(const SpanContext& c) {
  return (c.sampled ? 0x01u : 0u) | (c.random_trace_id ? 0x02u : 0u);
}
inline std::uint32_t link_flags(const SpanLink& link) {
  return w3c_flags(link.context) | kHasIsRemote | (link.context.remote ? kIsRemote : 0u);
}

}  // namespace obs::otlp::detail
