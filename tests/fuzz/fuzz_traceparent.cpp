// parse_traceparent on arbitrary bytes: never crashes, and whatever it
// accepts re-formats to a canonical version-00 header that parses back to
// the same context.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "obs/propagation.hpp"

namespace prop = obs::propagation;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = prop::parse_traceparent(input);
  if (!parsed) return 0;
  FUZZ_CHECK(parsed->valid());
  FUZZ_CHECK(parsed->remote);
  FUZZ_CHECK(parsed->trace_state.empty());

  const auto header = prop::format_traceparent(*parsed);
  FUZZ_CHECK(header.size() == 55);
  FUZZ_CHECK(header.starts_with("00-"));
  // Only the defined flags (sampled, Level 2's random) are written.
  const char flag = static_cast<char>('0' + (parsed->sampled ? 1 : 0) + (parsed->random_trace_id ? 2 : 0));
  FUZZ_CHECK(header.substr(52) == std::string("-0") + flag);

  // The ids are the input's, verbatim (after the surrounding whitespace).
  const auto start = input.find_first_not_of(" \t");
  FUZZ_CHECK(start != std::string_view::npos && input.size() - start >= 55);
  FUZZ_CHECK(input.substr(start + 3, 50) == std::string_view(header).substr(3, 50));

  const auto again = prop::parse_traceparent(header);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->trace_id == parsed->trace_id);
  FUZZ_CHECK(again->span_id == parsed->span_id);
  FUZZ_CHECK(again->sampled == parsed->sampled);
  FUZZ_CHECK(again->random_trace_id == parsed->random_trace_id);
  FUZZ_CHECK(prop::format_traceparent(*again) == header);
  return 0;
}
