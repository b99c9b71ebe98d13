#pragma once
#include <string>
#include <typeinfo>

#include "obs/trace_context.hpp"

namespace obs::internal {

// This thread's current context (read by log calls and new spans), with a
// flag that outlives it: a log call or span end from a thread_local or
// static destructor that runs after the context's own destruction checks
// context_alive() and leaves the context alone.
struct ThreadContext {
  Context context;
  ~ThreadContext();
};
inline thread_local bool t_context_destroyed = false;  // trivially destructible: readable until the thread ends
inline ThreadContext::~ThreadContext() { t_context_destroyed = true; }

inline bool context_alive() { return !t_context_destroyed; }
inline Context& current() {
  static thread_local ThreadContext holder;
  return holder.context;
}

// An exception's type as written in the source (std::runtime_error), not mangled.
std::string type_name(const std::type_info& type);

}  // namespace obs::internal
