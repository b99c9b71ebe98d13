#pragma once
#include <string>
#include <typeinfo>
#include <vector>

#include "obs/span_backend.hpp"
#include "obs/trace_context.hpp"
#include "trace/random_ids.hpp"

namespace obs::internal {

// A span's buffers, back from the queue slot its data was swapped into,
// wait here for this thread's next span: a warmed-up thread starts and
// ends spans of a steady shape without allocating.
struct SpareSpanBuffers {
  std::string name;
  std::string status_message;
  std::vector<OwnedField> attributes;
  std::vector<SpanEvent> events;
  std::vector<SpanLink> links;
};

// Everything the trace subsystem keeps per thread, in one thread_local: in a
// shared library each thread_local lookup is a call (__tls_get_addr), and a
// span start or end now makes one instead of one per variable.
struct ThreadTrace {
  Context context;  // this thread's current context (read by log calls and new spans)
  SpareSpanBuffers spare;
  IdSource ids;
};

// This thread's state, or nullptr once it has been destroyed (a log call or
// span end from a thread_local or static destructor that runs after it
// then leaves the thread's state alone). Defined in context.cpp with
// internal linkage, so the library reaches it with one TLS lookup per call.
ThreadTrace* thread_trace() noexcept;
// The state without the check (constructed on first use).
ThreadTrace& thread_trace_unchecked() noexcept;
// Where this thread's current span context is or will be, without
// constructing anything: fixed for the thread's life, all zero (not
// sampled) until the state exists. For the metric cells, whose per-thread
// setup must not start the trace state's (which increments counters).
const SpanContext* thread_span_context_address() noexcept;

// Called on each thread right after its state is created (its first log
// call or span): the SDK sets it at init to prepare per-thread work that
// must not happen later on a hot path. Optional, so the trace sources build
// alone (the fuzzers).
void set_thread_trace_hook(void (*hook)() noexcept) noexcept;

inline bool context_alive() { return thread_trace() != nullptr; }
// Callers check context_alive() first.
inline Context& current() { return thread_trace_unchecked().context; }

// An exception's type as written in the source (std::runtime_error), not mangled.
std::string type_name(const std::type_info& type);

}  // namespace obs::internal
