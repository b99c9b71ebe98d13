#pragma once
// The logging facade. A call below the level costs a load and a branch; an
// enabled call copies message and fields into a preallocated queue slot and
// returns; formatting and I/O happen on the log pipeline's thread.
//
//   obs::log::info("User logged in", {{"user_id", 42}, {"admin", false}});
//
// The function's arguments (message, fields) are built before it can check
// the level; the OBS_LOG_* macros check first, so a disabled call costs only
// the check, whatever its arguments are (like spdlog's SPDLOG_* macros):
//
//   OBS_LOG_DEBUG("cache miss", {{"key", key}, {"size", expensive_size()}});
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

#define OBS_LOG_AT(level, ...)                                        \
  do {                                                                \
    const ::obs::log::Level obs_log_level_ = (level);                 \
    if (::obs::log::enabled(obs_log_level_)) ::obs::log::write(obs_log_level_, __VA_ARGS__); \
  } while (0)
#define OBS_LOG_TRACE(...) OBS_LOG_AT(::obs::log::Level::Trace, __VA_ARGS__)
#define OBS_LOG_DEBUG(...) OBS_LOG_AT(::obs::log::Level::Debug, __VA_ARGS__)
#define OBS_LOG_INFO(...) OBS_LOG_AT(::obs::log::Level::Info, __VA_ARGS__)
#define OBS_LOG_WARNING(...) OBS_LOG_AT(::obs::log::Level::Warning, __VA_ARGS__)
#define OBS_LOG_ERROR(...) OBS_LOG_AT(::obs::log::Level::Error, __VA_ARGS__)
#define OBS_LOG_CRITICAL(...) OBS_LOG_AT(::obs::log::Level::Critical, __VA_ARGS__)
