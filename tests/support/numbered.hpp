#pragma once
// Names with a number in them ("k7"), for tests that make many.
#include <string>
#include <string_view>

namespace obs_test {

// `prefix` then `i`. Not "k" + std::to_string(i): for that operator+ g++ 12
// at -O3 reports a false -Wrestrict inside libstdc++ (GCC bug 105329),
// which fails a Release build with warnings as errors.
inline std::string numbered(std::string_view prefix, long long i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

}  // namespace obs_test
