#pragma once
// W3C Trace Context identifiers and the per-thread context they travel in.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "obs/export.hpp"

namespace obs {

// 16 random bytes; all zero means invalid.
struct TraceId {
  std::array<std::uint8_t, 16> bytes{};
  bool valid() const {
    for (auto b : bytes)
      if (b) return true;
    return false;
  }
  OBS_API std::string hex() const;  // 32 lower-case hex digits
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

// 8 random bytes; all zero means invalid.
struct SpanId {
  std::array<std::uint8_t, 8> bytes{};
  bool valid() const {
    for (auto b : bytes)
      if (b) return true;
    return false;
  }
  OBS_API std::string hex() const;  // 16 lower-case hex digits
  friend bool operator==(const SpanId&, const SpanId&) = default;
};

// What identifies a span to its children and to other services.
struct SpanContext {
  TraceId trace_id;
  SpanId span_id;
  bool sampled = false;
  // W3C Trace Context Level 2's random flag (trace-flags bit 1): the right
  // 7 bytes of trace_id are random. Set on every trace obs starts, kept for
  // the trace's children, propagated as received.
  bool random_trace_id = false;
  bool remote = false;      // extracted from an incoming request
  std::string trace_state;  // W3C tracestate, already validated (empty if none)
  bool valid() const { return trace_id.valid() && span_id.valid(); }
};

// W3C Baggage: key/value pairs that travel with the request.
using Baggage = std::vector<std::pair<std::string, std::string>>;

// Everything that follows a request: the current span, the request id,
// baggage. Thread-local; capture it with current_context() and attach it
// on another thread with ContextScope.
struct Context {
  SpanContext span;
  std::string request_id;
  Baggage baggage;
};

// A copy of this thread's current context.
OBS_API Context current_context();

// Makes `context` current on this thread until destroyed, then restores
// the previous one. For handing a request's context to a worker thread:
//
//   auto ctx = obs::current_context();
//   pool.submit([ctx] { obs::ContextScope scope(ctx); obs::log::info("in worker"); });
class OBS_API ContextScope {
 public:
  explicit ContextScope(Context context);
  ~ContextScope();
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  Context previous_;
  SpanId installed_;
  const Context* owner_ = nullptr;  // the installing thread's context
};

}  // namespace obs
