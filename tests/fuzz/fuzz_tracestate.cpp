// parse_tracestate on arbitrary bytes: never crashes, and what it accepts is
// a normalised header (no OWS, no empty members, at most 32 members, no key
// twice, at most 8192 characters) that re-parses to itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "obs/propagation.hpp"

namespace prop = obs::propagation;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = prop::parse_tracestate(input);
  if (!parsed) return 0;
  const std::string_view state = *parsed;
  FUZZ_CHECK(state.size() <= input.size());
  FUZZ_CHECK(state.size() <= 8192);
  FUZZ_CHECK(state.find('\t') == std::string_view::npos);
  FUZZ_CHECK(state.find(", ") == std::string_view::npos);
  FUZZ_CHECK(state.find(" ,") == std::string_view::npos);
  FUZZ_CHECK(state.find(",,") == std::string_view::npos);
  if (!state.empty()) {
    FUZZ_CHECK(state.front() != ' ' && state.front() != ',');
    FUZZ_CHECK(state.back() != ' ' && state.back() != ',');
    const auto members = std::count(state.begin(), state.end(), ',') + 1;
    FUZZ_CHECK(members <= 32);
    FUZZ_CHECK(std::count(state.begin(), state.end(), '=') == members);
    std::vector<std::string_view> keys;
    for (std::size_t pos = 0; pos <= state.size();) {
      const auto comma = std::min(state.find(',', pos), state.size());
      const auto member = state.substr(pos, comma - pos);
      keys.push_back(member.substr(0, member.find('=')));
      pos = comma + 1;
    }
    std::sort(keys.begin(), keys.end());
    FUZZ_CHECK(std::adjacent_find(keys.begin(), keys.end()) == keys.end());
  }
  const auto again = prop::parse_tracestate(state);
  FUZZ_CHECK(again.has_value() && *again == state);
  return 0;
}
