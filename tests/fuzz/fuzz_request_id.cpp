// valid_request_id and request_id_or_new on arbitrary bytes, against an
// independent statement of the rule: 1 to 128 of [A-Za-z0-9._-].
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "obs/propagation.hpp"

namespace prop = obs::propagation;

namespace {

bool expected_valid(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool lower_hex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool valid = prop::valid_request_id(input);
  FUZZ_CHECK(valid == expected_valid(input));
  const auto id = prop::request_id_or_new(input);
  FUZZ_CHECK(prop::valid_request_id(id));
  if (valid) {
    FUZZ_CHECK(id == input);
  } else {
    FUZZ_CHECK(id.size() == 32 && lower_hex(id));
  }
  return 0;
}
