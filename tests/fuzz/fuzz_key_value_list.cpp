// The "key=value,..." lists of OTEL_RESOURCE_ATTRIBUTES and
// OTEL_EXPORTER_OTLP_*HEADERS (core/env_lists.hpp) on arbitrary bytes.
//
// Checks: every entry has a non-empty HTTP-token key and a value without
// control characters but tab; every non-blank item is either an entry or
// exactly one problem, problems in order; a problem names a key only when
// it is a token; the entries, written back with their values
// percent-encoded, parse to the same entries with no problem; and
// percent_decode undoes percent-encoding of any bytes.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/env_lists.hpp"
#include "fuzz_check.hpp"

namespace internal = obs::internal;

namespace {

// Escapes what the list syntax gives a meaning to (',', '%', whitespace
// that trimming would remove) and every byte that is not printable ASCII.
std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == ',' || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // percent_decode inverts percent_encode, and never grows its input.
  FUZZ_CHECK(internal::percent_decode(percent_encode(input)) == std::string(input));
  if (const auto decoded = internal::percent_decode(input)) FUZZ_CHECK(decoded->size() <= input.size());

  const auto list = internal::parse_key_value_list(input);

  std::size_t items = 0;
  for (std::size_t start = 0; start <= input.size(); ++items) {
    const auto comma = std::min(input.find(',', start), input.size());
    if (blank(input.substr(start, comma - start))) --items;
    start = comma + 1;
  }
  FUZZ_CHECK(list.entries.size() + list.problems.size() == items);

  for (const auto& [key, value] : list.entries) {
    FUZZ_CHECK(internal::is_http_token(key));
    FUZZ_CHECK(std::none_of(value.begin(), value.end(), [](char ch) {
      const auto c = static_cast<unsigned char>(ch);
      return (c < 0x20 && c != '\t') || c == 0x7f;
    }));
  }
  std::size_t previous = 0;
  for (const auto& p : list.problems) {
    FUZZ_CHECK(p.entry > previous);
    previous = p.entry;
    FUZZ_CHECK(p.key.empty() || internal::is_http_token(p.key));
    const bool names_key =
        p.issue == internal::KeyValueIssue::BadPercentEscape || p.issue == internal::KeyValueIssue::ControlCharacter;
    FUZZ_CHECK(p.key.empty() != names_key);
    FUZZ_CHECK(!internal::describe(p.issue).empty());
  }
  // Positions count blank items too, so they can exceed the non-blank count
  // but never the number of comma-separated items.
  FUZZ_CHECK(previous <= static_cast<std::size_t>(std::count(input.begin(), input.end(), ',')) + 1);

  // Round trip: what was accepted, written back, reads the same.
  std::string written;
  for (const auto& [key, value] : list.entries) {
    if (!written.empty()) written += ',';
    written += key + '=' + percent_encode(value);
  }
  const auto again = internal::parse_key_value_list(written);
  FUZZ_CHECK(again.problems.empty());
  FUZZ_CHECK(again.entries == list.entries);
  return 0;
}
