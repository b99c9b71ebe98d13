#pragma once
// The deadline of the Sdk::flush/shutdown call being served. The pipelines
// set it around their flush() and shutdown() calls into backends (on the
// thread making them), so built-in backends with their own threads and
// network calls return in time instead of on their own timeouts. Outside
// such a call it is time_point::max().
#include <chrono>

namespace obs::internal {

using SteadyTime = std::chrono::steady_clock::time_point;

SteadyTime call_deadline();
// The deadline of the call being served, or `fallback` from now when a
// backend is driven directly (not through an Sdk).
SteadyTime call_deadline_or(std::chrono::milliseconds fallback);
// A backend whose flush() could not deliver everything by the deadline
// says so; Sdk::flush then returns false rather than claim delivery.
void mark_call_incomplete();

class CallDeadlineScope {
 public:
  explicit CallDeadlineScope(SteadyTime deadline);
  ~CallDeadlineScope();
  CallDeadlineScope(const CallDeadlineScope&) = delete;
  CallDeadlineScope& operator=(const CallDeadlineScope&) = delete;
  // Whether a backend called mark_call_incomplete() within this scope.
  bool incomplete() const;

 private:
  SteadyTime previous_;
  bool previous_incomplete_;
};

}  // namespace obs::internal
