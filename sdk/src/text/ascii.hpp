#pragma once
// ASCII case folding (internal; a leaf: imports nothing of obs). Header
// names, URL schemes, auth schemes and instrument names compare without
// regard to ASCII case; other bytes compare as they are.
#include <algorithm>
#include <string_view>

namespace obs::text {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace obs::text
