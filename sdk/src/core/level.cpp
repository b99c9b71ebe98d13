#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "obs/level.hpp"

namespace obs::log {

std::string_view to_string(Level level) {
  static constexpr std::array<std::string_view, 7> names{"trace", "debug", "info", "warning",
                                                         "error", "critical", "off"};
  const auto i = static_cast<std::size_t>(level);
  return i < names.size() ? names[i] : "unknown";
}

std::optional<Level> parse_level(std::string_view text) {
  std::string s(text.substr(0, 16));
  if (text.size() > 16) return std::nullopt;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "trace") return Level::Trace;
  if (s == "debug") return Level::Debug;
  if (s == "info") return Level::Info;
  if (s == "warning" || s == "warn") return Level::Warning;
  if (s == "error") return Level::Error;
  if (s == "critical" || s == "fatal") return Level::Critical;
  if (s == "off" || s == "none") return Level::Off;
  return std::nullopt;
}

}  // namespace obs::log
