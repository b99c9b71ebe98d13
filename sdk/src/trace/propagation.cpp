// W3C Trace Context (traceparent, tracestate; Level 1 and Level 2's random
// flag), W3C Baggage and x-request-id. The parsers work on string_views and allocate only for
// their result, which the caps below keep bounded whatever the input size.
#include "obs/propagation.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "text/utf8.hpp"
#include "trace/random_ids.hpp"

namespace obs::propagation {
namespace {

// --- Caps on what we look at -------------------------------------------
// traceparent: version 00 is exactly 55 characters and later versions may
// only append fields. The spec lets us refuse "prohibitively large"
// headers; 512 leaves a future version 457 characters of extra fields.
constexpr std::size_t kTraceparentLength = 55;
constexpr std::size_t kMaxTraceparent = 512;
// tracestate: the spec asks us to propagate at least 512 characters; the
// grammar allows up to ~16 KiB (32 members of 256 + 1 + 256). 8 KiB is the
// usual per-header limit of HTTP servers and proxies, so a longer header
// rarely survives a hop: past it, whole members are removed the way the
// spec's "tracestate Limits" says. A header over 64 KiB cannot be a valid
// list even with generous whitespace, and is refused unread.
constexpr std::size_t kMaxTracestate = 8192;
constexpr std::size_t kMaxTracestateInput = 65536;
// extract_fields keeps one byte more than any parser reads of a header, so
// a longer one still reads as too long.
constexpr std::size_t kMaxHeaderBuffer = kMaxTracestateInput + 1;
constexpr std::size_t kLongTracestateMember = 128;  // removed first when truncating
constexpr std::size_t kMaxTracestateMembers = 32;
constexpr std::size_t kMaxTracestateKey = 256;
constexpr std::size_t kMaxTenantId = 241;
constexpr std::size_t kMaxSystemId = 14;
constexpr std::size_t kMaxTracestateValue = 256;
// baggage: the spec's minimums (which a receiver must accept) double as
// our maximums, both when reading and when writing.
constexpr std::size_t kMaxBaggageBytes = 8192;
constexpr std::size_t kMaxBaggageMembers = 64;
constexpr std::size_t kMaxRequestId = 128;

// --- Character classes --------------------------------------------------
bool is_ows(char c) { return c == ' ' || c == '\t'; }  // RFC 7230 OWS: SP / HTAB

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return is_lcalpha(c) || (c >= 'A' && c <= 'Z'); }

// Lower-case hex only: W3C Trace Context forbids upper case.
int lc_hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Percent-encoding accepts either case (RFC 3986 2.1).
int any_hex_value(char c) {
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return lc_hex_value(c);
}

// Decodes exactly 2*n lower-case hex digits into n bytes.
bool decode_lc_hex(std::string_view s, std::uint8_t* out, std::size_t n) {
  if (s.size() != 2 * n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const int hi = lc_hex_value(s[2 * i]);
    const int lo = lc_hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

// tracestate keychar (level 1): lcalpha / DIGIT / "_" / "-" / "*" / "/".
bool is_keychar(char c) {
  return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

bool all_keychars(std::string_view s) {
  for (char c : s)
    if (!is_keychar(c)) return false;
  return true;
}

// RFC 7230 tchar, the alphabet of baggage keys.
bool is_tchar(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

// baggage-octet: visible US-ASCII except DQUOTE, comma, semicolon, backslash.
bool is_baggage_octet(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

bool all_baggage_octets(std::string_view s) {
  for (char c : s)
    if (!is_baggage_octet(c)) return false;
  return true;
}

// --- tracestate -----------------------------------------------------------
// key = simple-key / multi-tenant-key (Trace Context level 1).
bool valid_tracestate_key(std::string_view key) {
  const auto at = key.find('@');
  if (at == std::string_view::npos) {
    // simple-key = lcalpha 0*255(keychar)
    return !key.empty() && key.size() <= kMaxTracestateKey && is_lcalpha(key[0]) &&
           all_keychars(key.substr(1));
  }
  // multi-tenant-key = tenant-id "@" system-id; keychar excludes '@', so a
  // second '@' fails the character checks below.
  const auto tenant = key.substr(0, at);
  const auto system = key.substr(at + 1);
  return !tenant.empty() && tenant.size() <= kMaxTenantId &&
         (is_lcalpha(tenant[0]) || is_digit(tenant[0])) && all_keychars(tenant.substr(1)) &&
         !system.empty() && system.size() <= kMaxSystemId && is_lcalpha(system[0]) &&
         all_keychars(system.substr(1));
}

// value = 0*255(chr) nblk-chr: 1 to 256 of 0x20-0x7E except ',' and '=',
// not ending in a space.
bool valid_tracestate_value(std::string_view value) {
  if (value.empty() || value.size() > kMaxTracestateValue || value.back() == ' ') return false;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
  }
  return true;
}

// --- baggage --------------------------------------------------------------
// property = key OWS "=" OWS value / key OWS. Properties are checked so a
// malformed member is skipped as a whole, then dropped: Baggage has no
// place for them.
bool valid_property(std::string_view property) {
  const auto eq = property.find('=');
  if (eq == std::string_view::npos) return is_token(trim_ows(property));
  return is_token(trim_ows(property.substr(0, eq))) &&
         all_baggage_octets(trim_ows(property.substr(eq + 1)));
}

// Decodes %XX escapes; false on a truncated or non-hex escape. '+' stays a
// plus sign: this is percent-encoding, not form encoding.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (in.size() - i < 3) return false;
    const int hi = any_hex_value(in[i + 1]);
    const int lo = any_hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi << 4 | lo);
    i += 2;
  }
  return true;
}

// Encodes every byte that is not a baggage-octet, and '%' itself, so the
// value decodes back to exactly what it was. Upper-case hex per RFC 3986.
void percent_encode(std::string_view in, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : in) {
    if (is_baggage_octet(ch) && ch != '%') {
      out += ch;
    } else {
      const auto c = static_cast<unsigned char>(ch);
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

// list-member = key OWS "=" OWS value *( OWS ";" OWS property )
std::optional<std::pair<std::string, std::string>> parse_baggage_member(std::string_view member) {
  auto semi = member.find(';');
  const auto pair = member.substr(0, semi);
  const auto eq = pair.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const auto key = trim_ows(pair.substr(0, eq));
  const auto raw_value = trim_ows(pair.substr(eq + 1));
  if (!is_token(key) || !all_baggage_octets(raw_value)) return std::nullopt;
  while (semi != std::string_view::npos) {
    const auto next = member.find(';', semi + 1);
    const auto end = next == std::string_view::npos ? member.size() : next;
    if (!valid_property(member.substr(semi + 1, end - semi - 1))) return std::nullopt;
    semi = next;
  }
  std::string value;
  if (!percent_decode(raw_value, value) || !text::is_valid_utf8(value)) return std::nullopt;
  return std::pair<std::string, std::string>(std::string(key), std::move(value));
}

}  // namespace

// --- traceparent ----------------------------------------------------------

std::optional<SpanContext> parse_traceparent(std::string_view header) {
  // A field value excludes surrounding whitespace (RFC 7230 3.2.4), but some
  // HTTP stacks hand it over untrimmed; the W3C test suite expects it
  // accepted.
  header = trim_ows(header);
  if (header.size() < kTraceparentLength || header.size() > kMaxTraceparent) return std::nullopt;

  std::uint8_t version = 0;
  if (!decode_lc_hex(header.substr(0, 2), &version, 1) || version == 0xff || header[2] != '-')
    return std::nullopt;
  // Version 00 has exactly four fields. A higher version is parsed as 00 if
  // its flags are followed by the end or by a '-' (further fields ignored).
  if (version == 0 ? header.size() != kTraceparentLength
                   : header.size() > kTraceparentLength && header[kTraceparentLength] != '-')
    return std::nullopt;
  if (header[35] != '-' || header[52] != '-') return std::nullopt;

  SpanContext context;
  std::uint8_t flags = 0;
  if (!decode_lc_hex(header.substr(3, 32), context.trace_id.bytes.data(), context.trace_id.bytes.size()) ||
      !decode_lc_hex(header.substr(36, 16), context.span_id.bytes.data(), context.span_id.bytes.size()) ||
      !decode_lc_hex(header.substr(53, 2), &flags, 1))
    return std::nullopt;
  if (!context.trace_id.valid() || !context.span_id.valid()) return std::nullopt;
  // Bit 0 is sampled, bit 1 (Level 2) says the trace id is random; the
  // others are ignored on input and written as zero on output.
  context.sampled = (flags & 0x01) != 0;
  context.random_trace_id = (flags & 0x02) != 0;
  context.remote = true;
  return context;
}

std::string format_traceparent(const SpanContext& context) {
  // An invalid context has no valid header; "" makes the misuse visible
  // instead of sending ids every receiver must reject.
  if (!context.valid()) return {};
  std::string out;
  out.reserve(kTraceparentLength);
  out += "00-";
  internal::append_hex(out, context.trace_id.bytes.data(), context.trace_id.bytes.size());
  out += '-';
  internal::append_hex(out, context.span_id.bytes.data(), context.span_id.bytes.size());
  out += "-0";
  out += static_cast<char>('0' + (context.sampled ? 1 : 0) + (context.random_trace_id ? 2 : 0));
  return out;
}

// --- tracestate -----------------------------------------------------------

std::optional<std::string> parse_tracestate(std::string_view header) {
  if (header.size() > kMaxTracestateInput) return std::nullopt;
  // The members kept, in order, and their keys for the duplicate check (32
  // at most, so a linear scan costs less than a set).
  std::array<std::string_view, kMaxTracestateMembers> members;
  std::array<std::string_view, kMaxTracestateMembers> keys;
  std::size_t count = 0;
  std::size_t pos = 0;
  for (;;) {
    const auto comma = header.find(',', pos);
    const auto end = comma == std::string_view::npos ? header.size() : comma;
    // OWS around a member is not part of it; trailing spaces are not part of
    // the value either (the grammar forbids a value ending in a space).
    const auto member = trim_ows(header.substr(pos, end - pos));
    // Empty and whitespace-only members are allowed and dropped; they do not
    // count towards the 32 (they carry nothing, and multiple tracestate
    // fields joined by a proxy produce them).
    if (!member.empty()) {
      const auto eq = member.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      const auto key = member.substr(0, eq);
      if (!valid_tracestate_key(key) || !valid_tracestate_value(member.substr(eq + 1))) return std::nullopt;
      // A key appears once; a later member with it is a stale position (the
      // most recent is leftmost) and is dropped. Past 32 members, the rest
      // are dropped from the end.
      const bool repeated = std::find(keys.begin(), keys.begin() + count, key) != keys.begin() + count;
      if (!repeated && count < kMaxTracestateMembers) {
        members[count] = member;
        keys[count++] = key;
      }
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  // Too long to propagate: whole members go, those over 128 characters
  // first, then from the end (Trace Context, "tracestate Limits").
  std::array<bool, kMaxTracestateMembers> dropped{};
  std::size_t length = count == 0 ? 0 : count - 1;  // the commas
  for (std::size_t i = 0; i < count; ++i) length += members[i].size();
  for (std::size_t i = count; i-- > 0 && length > kMaxTracestate;) {
    if (members[i].size() <= kLongTracestateMember) continue;
    dropped[i] = true;
    length -= members[i].size() + 1;
  }
  for (std::size_t i = count; i-- > 0 && length > kMaxTracestate;) {
    if (dropped[i]) continue;
    dropped[i] = true;
    length -= members[i].size() + 1;
  }
  std::string out;
  out.reserve(std::min(length, kMaxTracestate));
  for (std::size_t i = 0; i < count; ++i) {
    if (dropped[i]) continue;
    if (!out.empty()) out += ',';
    out.append(members[i]);
  }
  return out;
}

// --- baggage --------------------------------------------------------------

Baggage parse_baggage(std::string_view header) {
  if (header.size() > kMaxBaggageBytes) {
    // Read the first 8192 bytes only. A member cut by that boundary is
    // incomplete, and a cut value would be wrong data: drop it.
    const bool ends_at_comma = header[kMaxBaggageBytes] == ',';
    header = header.substr(0, kMaxBaggageBytes);
    if (!ends_at_comma) {
      const auto last_comma = header.rfind(',');
      header = last_comma == std::string_view::npos ? std::string_view{} : header.substr(0, last_comma);
    }
  }
  Baggage out;
  std::size_t pos = 0;
  // Only valid members count towards the 64: the byte cap already bounds
  // the work, and skipped ones should not crowd out good ones.
  while (out.size() < kMaxBaggageMembers) {
    const auto comma = header.find(',', pos);
    const auto end = comma == std::string_view::npos ? header.size() : comma;
    if (auto entry = parse_baggage_member(header.substr(pos, end - pos))) out.push_back(std::move(*entry));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::string format_baggage(const Baggage& baggage) {
  std::string out;
  std::string member;
  std::size_t count = 0;
  for (const auto& [key, value] : baggage) {
    if (count == kMaxBaggageMembers) break;
    // A key that is not a token cannot be written, and a value that is not
    // UTF-8 would be refused by parse_baggage: skip both rather than send
    // what a receiver must drop. Encoding never shrinks a value, so an
    // entry that is too long raw is skipped before encoding it.
    if (!is_token(key) || key.size() + 1 + value.size() > kMaxBaggageBytes || !text::is_valid_utf8(value)) continue;
    member.assign(key);
    member += '=';
    percent_encode(value, member);
    // Keep the header within what every receiver must accept; a later,
    // shorter entry may still fit.
    const std::size_t separator = out.empty() ? 0 : 1;
    if (out.size() + separator + member.size() > kMaxBaggageBytes) continue;
    if (separator) out += ',';
    out += member;
    ++count;
  }
  return out;
}

// --- x-request-id ---------------------------------------------------------

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestId) return false;
  for (char c : id)
    if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

std::string new_request_id() {
  std::array<std::uint8_t, 16> bytes;
  internal::random_bytes(bytes.data(), bytes.size());
  std::string out;
  out.reserve(2 * bytes.size());
  internal::append_hex(out, bytes.data(), bytes.size());
  return out;
}

std::string request_id_or_new(std::string_view incoming) {
  return valid_request_id(incoming) ? std::string(incoming) : new_request_id();
}

// --- extract / inject -----------------------------------------------------
// Exceptions thrown by the caller's own getter or setter propagate
// unchanged: they are the caller's, and swallowing them would hide bugs.

Context extract_fields(const HeaderFieldsGetter& get) {
  // One buffer per header, reused by the thread: no allocation per request
  // once they have grown. Each holds at most one byte more than any parser
  // reads (so an oversized header is still seen as oversized), and one that
  // grew large is given back, so a hostile header leaves nothing behind.
  thread_local std::string traceparent_value, tracestate_value, baggage_value, request_id_value;
  // Every field of `name`, joined with ',' in order (RFC 9110 5.3); false if none.
  const auto combined = [&get](std::string_view name, std::string& out) {
    out.clear();
    if (out.capacity() > 4096) std::string().swap(out);
    bool any = false;
    if (get) {
      get(name, [&](std::string_view value) {
        if (any && out.size() < kMaxHeaderBuffer) out += ',';
        out.append(value.substr(0, kMaxHeaderBuffer - std::min(kMaxHeaderBuffer, out.size())));
        any = true;
      });
    }
    return any;
  };
  Context context;
  if (combined(kTraceparent, traceparent_value)) {
    if (auto span = parse_traceparent(traceparent_value)) {
      context.span = std::move(*span);
      // tracestate is read only under a valid traceparent; an invalid
      // tracestate is discarded alone and leaves the traceparent in force.
      if (combined(kTracestate, tracestate_value)) {
        if (auto state = parse_tracestate(tracestate_value)) context.span.trace_state = std::move(*state);
      }
    }
  }
  // Otherwise context.span stays invalid: the caller starts a new trace.
  if (combined(kBaggage, baggage_value)) context.baggage = parse_baggage(baggage_value);
  const bool has_id = combined(kRequestId, request_id_value);
  context.request_id = request_id_or_new(has_id ? std::string_view(request_id_value) : std::string_view{});
  return context;
}

Context extract(const HeaderGetter& get) {
  return extract_fields([&get](std::string_view name, const HeaderFieldVisitor& field) {
    if (!get) return;
    if (const std::string* value = get(name)) field(*value);
  });
}

void inject(const Context& context, const HeaderSetter& set) {
  if (!set) return;
  if (context.span.valid()) {
    set(kTraceparent, format_traceparent(context.span));
    // tracestate only travels with a traceparent (a receiver must ignore it
    // otherwise). trace_state is a public field, so it is re-validated: a
    // CR or LF written unchecked would split the header.
    if (!context.span.trace_state.empty()) {
      if (auto state = parse_tracestate(context.span.trace_state); state && !state->empty())
        set(kTracestate, std::move(*state));
    }
  }
  if (auto baggage = format_baggage(context.baggage); !baggage.empty()) set(kBaggage, std::move(baggage));
  // Same reason: an unchecked id could carry CR/LF onto the wire.
  if (valid_request_id(context.request_id)) set(kRequestId, context.request_id);
}

}  // namespace obs::propagation
