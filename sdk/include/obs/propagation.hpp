#pragma once
// Reading and writing the headers that carry context between services:
// W3C traceparent and tracestate (Trace Context level 1), W3C baggage, and
// x-request-id. Every parser is total: malformed input yields "absent"
// (the spec's fallback), never an exception, and never allocates more
// than a bounded amount.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "obs/export.hpp"
#include "obs/trace_context.hpp"

namespace obs::propagation {

// traceparent: "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>".
// Version 00 must have exactly four fields; a higher version may carry more
// after a '-'; version ff, upper-case hex, all-zero ids or bad lengths are
// invalid. The result has remote = true and an empty trace_state.
OBS_API std::optional<SpanContext> parse_traceparent(std::string_view header);
OBS_API std::string format_traceparent(const SpanContext& context);

// tracestate: up to 32 list members "key=value", keys and values per the
// spec's grammar. Returns the normalised header (empty members dropped,
// whitespace trimmed), or nullopt if any member is invalid, a key repeats,
// or there are more than 32 members: the whole header is then discarded.
OBS_API std::optional<std::string> parse_tracestate(std::string_view header);

// baggage: "key=value;properties,key2=value2". Values are percent-decoded.
// Invalid members are skipped; at most 64 members and 8192 bytes are read.
OBS_API Baggage parse_baggage(std::string_view header);
OBS_API std::string format_baggage(const Baggage& baggage);

// x-request-id: kept if 1 to 128 characters of [A-Za-z0-9._-], otherwise
// (absent, empty, too long, other characters) replaced by a new one.
OBS_API bool valid_request_id(std::string_view id);
OBS_API std::string new_request_id();  // 32 hex digits, random
OBS_API std::string request_id_or_new(std::string_view incoming);

// Header names, lower case.
inline constexpr std::string_view kTraceparent = "traceparent";
inline constexpr std::string_view kTracestate = "tracestate";
inline constexpr std::string_view kBaggage = "baggage";
inline constexpr std::string_view kRequestId = "x-request-id";

// The context an incoming request carries. `get(name)` returns a header's
// value or nullptr. An invalid or absent traceparent yields an invalid
// span context (a new trace starts); the request id is always set.
using HeaderGetter = std::function<const std::string*(std::string_view name)>;
OBS_API Context extract(const HeaderGetter& get);

// Writes `context` as headers for an outgoing request.
using HeaderSetter = std::function<void(std::string_view name, std::string value)>;
OBS_API void inject(const Context& context, const HeaderSetter& set);

}  // namespace obs::propagation
