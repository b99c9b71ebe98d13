#include "core/diagnostics.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/fork_locks.hpp"

namespace obs::internal {
namespace {

constexpr auto kRepeatInterval = std::chrono::seconds(60);
constexpr std::size_t kMaxKeys = 1024;

struct Seen {
  std::chrono::steady_clock::time_point last;
  unsigned long suppressed = 0;
};

struct Diagnostics {
  std::mutex mutex;
  std::function<void(std::string_view)> handler;
  std::unordered_map<std::string, Seen> seen;
};

Diagnostics& diagnostics() {
  static auto* d = new Diagnostics();  // never destroyed: usable from static destructors
  return *d;
}

void write_stderr(std::string_view message) {
  std::fprintf(stderr, "obs: error: %.*s\n", static_cast<int>(message.size()), message.data());
}

}  // namespace

std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

void set_error_handler(std::function<void(std::string_view)> handler) {
  auto& d = diagnostics();
  std::lock_guard lock(d.mutex);
  d.handler = std::move(handler);
}

void reset_error_reporting(std::function<void(std::string_view)> handler) {
  auto& d = diagnostics();
  std::lock_guard lock(d.mutex);
  d.handler = std::move(handler);
  d.seen.clear();
}

void lock_diagnostics_for_fork() { diagnostics().mutex.lock(); }
void unlock_diagnostics_after_fork() { diagnostics().mutex.unlock(); }

void report_error(std::string_view key, std::string_view message) {
  auto& d = diagnostics();
  std::string text;
  std::function<void(std::string_view)> handler;
  {
    std::lock_guard lock(d.mutex);
    const auto now = std::chrono::steady_clock::now();
    auto it = d.seen.find(std::string(key));
    if (it != d.seen.end()) {
      if (now - it->second.last < kRepeatInterval) {
        ++it->second.suppressed;
        return;
      }
      text.assign(message);
      if (it->second.suppressed)
        text += " (repeated " + std::to_string(it->second.suppressed) + " more times in the last minute)";
      it->second = Seen{now, 0};
    } else {
      if (d.seen.size() >= kMaxKeys) d.seen.clear();  // bounded memory beats perfect dedup
      d.seen.emplace(std::string(key), Seen{now, 0});
      text.assign(message);
    }
    handler = d.handler;
  }
  try {
    if (handler) {
      handler(text);
      return;
    }
  } catch (...) {
    // a throwing handler must not take the SDK down; fall back to stderr
  }
  write_stderr(text);
}

}  // namespace obs::internal
