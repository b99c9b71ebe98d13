#pragma once
// Reading and writing the headers that carry context between services:
// W3C traceparent and tracestate (Trace Context Level 1, the
// Recommendation, and Level 2's random trace-id flag), W3C baggage, and
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
// invalid. Flags: bit 0 sampled, bit 1 random trace id (Level 2); the
// others are ignored and written as zero. The result has remote = true and
// an empty trace_state.
OBS_API std::optional<SpanContext> parse_traceparent(std::string_view header);
OBS_API std::string format_traceparent(const SpanContext& context);

// tracestate: list members "key=value", keys and values per the spec's
// grammar (simple keys and multi-tenant "tenant@system" keys). Returns the
// normalised header: empty members and whitespace around members dropped,
// a repeated key's later members dropped (the first is the most recent
// position), members past the 32nd dropped from the end, and, past 8192
// characters, whole members removed: those over 128 characters first, then
// from the end. Returns nullopt, so the whole header is discarded, when a
// member is malformed or the header exceeds 65536 bytes.
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

// The context an incoming request carries. An invalid or absent
// traceparent yields an invalid span context (a new trace starts); the
// request id is always set.
//
// `get(name, field)` calls field(value) for every field of header `name`
// (matched case-insensitively by the caller), in the order received.
// Repeated fields are combined as RFC 9110 section 5.3 says: joined with
// commas, in order. So two tracestate fields make one list, and two
// traceparent fields make an invalid one: a new trace starts.
using HeaderFieldVisitor = std::function<void(std::string_view value)>;
using HeaderFieldsGetter = std::function<void(std::string_view name, const HeaderFieldVisitor& field)>;
OBS_API Context extract_fields(const HeaderFieldsGetter& get);
// The same for a carrier with one value per name: `get(name)` returns it or
// nullptr.
using HeaderGetter = std::function<const std::string*(std::string_view name)>;
OBS_API Context extract(const HeaderGetter& get);

// Writes `context` as headers for an outgoing request.
using HeaderSetter = std::function<void(std::string_view name, std::string value)>;
OBS_API void inject(const Context& context, const HeaderSetter& set);

}  // namespace obs::propagation
