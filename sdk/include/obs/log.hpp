#pragma once
// The logging facade. A call below the level costs a load and a branch; an
// enabled call copies message and fields into a preallocated queue slot and
// returns; formatting and I/O happen on the log pipeline's thread.
//
//   obs::log::info("User logged in", {{"user_id", 42}, {"admin", false}});
#include <atomic>
#include <string_view>

#include "obs/export.hpp"
#include "obs/fields.hpp"
#include "obs/level.hpp"

namespace obs::log {

namespace detail {
extern OBS_API std::atomic<int> min_level;
OBS_API void emit(Level level, std::string_view message, Fields fields) noexcept;
}  // namespace detail

inline bool enabled(Level level) {
  return static_cast<int>(level) >= detail::min_level.load(std::memory_order_relaxed);
}
inline void write(Level level, std::string_view message, Fields fields = {}) {
  if (enabled(level)) detail::emit(level, message, fields);
}
inline void trace(std::string_view message, Fields fields = {}) { write(Level::Trace, message, fields); }
inline void debug(std::string_view message, Fields fields = {}) { write(Level::Debug, message, fields); }
inline void info(std::string_view message, Fields fields = {}) { write(Level::Info, message, fields); }
inline void warning(std::string_view message, Fields fields = {}) { write(Level::Warning, message, fields); }
inline void error(std::string_view message, Fields fields = {}) { write(Level::Error, message, fields); }
inline void critical(std::string_view message, Fields fields = {}) { write(Level::Critical, message, fields); }

OBS_API void set_level(Level level);
OBS_API Level level();

}  // namespace obs::log
