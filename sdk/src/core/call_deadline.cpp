#include "core/call_deadline.hpp"

namespace obs::internal {
namespace {
thread_local SteadyTime t_deadline = SteadyTime::max();
thread_local bool t_incomplete = false;
}  // namespace

SteadyTime call_deadline() { return t_deadline; }
SteadyTime call_deadline_or(std::chrono::milliseconds fallback) {
  return t_deadline == SteadyTime::max() ? std::chrono::steady_clock::now() + fallback : t_deadline;
}
void mark_call_incomplete() { t_incomplete = true; }

CallDeadlineScope::CallDeadlineScope(SteadyTime deadline) : previous_(t_deadline), previous_incomplete_(t_incomplete) {
  t_deadline = deadline;
  t_incomplete = false;
}
CallDeadlineScope::~CallDeadlineScope() {
  t_deadline = previous_;
  t_incomplete = previous_incomplete_ || t_incomplete;
}
bool CallDeadlineScope::incomplete() const { return t_incomplete; }

}  // namespace obs::internal
