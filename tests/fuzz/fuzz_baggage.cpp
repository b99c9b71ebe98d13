// parse_baggage on arbitrary bytes: never crashes, keeps the limits, and
// format_baggage writes what it read so that it parses back identically.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "obs/propagation.hpp"

namespace prop = obs::propagation;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto baggage = prop::parse_baggage(input);
  FUZZ_CHECK(baggage.size() <= 64);
  for (const auto& [key, value] : baggage) {
    FUZZ_CHECK(!key.empty());
    FUZZ_CHECK(key.size() + value.size() < 8192);
  }

  const auto header = prop::format_baggage(baggage);
  FUZZ_CHECK(header.size() <= 8192);
  FUZZ_CHECK(header.empty() == baggage.empty());
  FUZZ_CHECK(prop::parse_baggage(header) == baggage);
  FUZZ_CHECK(prop::format_baggage(prop::parse_baggage(header)) == header);
  return 0;
}
