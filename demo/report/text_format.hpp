#pragma once
// Small text helpers shared by the demo_report renderers: padding and
// truncation to a column width, fixed-point numbers, optional ANSI colour.
// Widths count bytes; everything the report prints in columns is ASCII
// except user data (span names, log bodies), which is cut at a UTF-8
// character boundary.
#include <cstdio>
#include <string>
#include <string_view>

namespace demo_report {

namespace ansi {
inline constexpr std::string_view kBold = "1";
inline constexpr std::string_view kDim = "2";
inline constexpr std::string_view kRed = "31";
inline constexpr std::string_view kGreen = "32";
inline constexpr std::string_view kYellow = "33";
inline constexpr std::string_view kBlue = "34";
inline constexpr std::string_view kMagenta = "35";
inline constexpr std::string_view kCyan = "36";
}  // namespace ansi

// Wraps text in an SGR sequence when colour is on; a no-op otherwise.
// Pad first, then paint: escape sequences have no width.
struct Style {
  bool color = false;
  std::string paint(std::string_view text, std::string_view sgr) const {
    if (!color || text.empty()) return std::string(text);
    std::string out = "\x1b[";
    out.append(sgr);
    out.push_back('m');
    out.append(text);
    out.append("\x1b[0m");
    return out;
  }
};

// Cut to at most width bytes, ending in ".." when cut, never inside a UTF-8
// sequence.
inline std::string fit(std::string_view s, std::size_t width) {
  if (s.size() <= width) return std::string(s);
  if (width <= 2) return std::string(width, '.');
  std::size_t keep = width - 2;
  while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80) --keep;
  std::string out(s.substr(0, keep));
  out.append("..");
  return out;
}

inline std::string pad_right(std::string_view s, std::size_t width) {
  std::string out = fit(s, width);
  out.append(width - out.size(), ' ');
  return out;
}

inline std::string pad_left(std::string_view s, std::size_t width) {
  std::string out = fit(s, width);
  out.insert(0, width - out.size(), ' ');
  return out;
}

inline std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace demo_report
