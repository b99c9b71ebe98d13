#pragma once
// Collects the SDK's error messages (Config::on_error) for tests that
// check what was reported, and waits for one to arrive.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace obs_test {

class Errors {
 public:
  std::function<void(std::string_view)> handler() {
    return [this](std::string_view m) {
      std::lock_guard lock(mutex_);
      messages_.emplace_back(m);
      cv_.notify_all();
    };
  }
  // Waits (30 s at most) for a message containing `needle`.
  bool wait_for(std::string_view needle) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return count_locked(needle) > 0; });
  }
  std::size_t count(std::string_view needle) {
    std::lock_guard lock(mutex_);
    return count_locked(needle);
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  std::size_t count_locked(std::string_view needle) const {
    std::size_t n = 0;
    for (const auto& m : messages_) n += m.find(needle) != std::string::npos;
    return n;
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> messages_;
};

}  // namespace obs_test
