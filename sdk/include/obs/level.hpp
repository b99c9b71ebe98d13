#pragma once
#include <optional>
#include <string_view>

#include "obs/export.hpp"

namespace obs::log {

enum class Level : int { Trace = 0, Debug, Info, Warning, Error, Critical, Off };

// "trace", "debug", "info", "warning", "error", "critical", "off".
OBS_API std::string_view to_string(Level level);
// Case-insensitive; also accepts "warn", "fatal" (critical) and "none" (off).
OBS_API std::optional<Level> parse_level(std::string_view text);

}  // namespace obs::log
