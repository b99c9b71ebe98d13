#pragma once
// The interface a span destination implements, and the finished span it
// receives. Like log backends, span backends run only on their pipeline's
// background thread, one call at a time.
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "obs/fields.hpp"
#include "obs/resource.hpp"
#include "obs/trace_context.hpp"

namespace obs {

enum class SpanKind { Internal, Server, Client, Producer, Consumer };
enum class SpanStatus { Unset, Ok, Error };

struct SpanEvent {
  std::chrono::system_clock::time_point time;
  std::string name;
  std::vector<OwnedField> attributes;
  std::uint32_t dropped_attributes = 0;  // over the per-event limit (128)
};

// A reference from a span to another span, in this trace or another one:
// for example, a batch job linking the spans of the requests it handles.
struct SpanLink {
  SpanContext context;
  std::vector<OwnedField> attributes;
  std::uint32_t dropped_attributes = 0;  // over the per-link limit (128)
};

struct SpanData {
  std::string name;
  SpanKind kind = SpanKind::Internal;
  SpanContext context;
  SpanId parent_span_id;  // invalid for a root span
  bool parent_remote = false;  // the parent came from another process (an extracted context)
  std::chrono::system_clock::time_point start;
  std::chrono::system_clock::time_point end;
  std::vector<OwnedField> attributes;
  std::vector<SpanEvent> events;
  std::vector<SpanLink> links;
  SpanStatus status = SpanStatus::Unset;
  std::string status_message;
  // What the per-span limits (128 attributes, events and links) cut.
  std::uint32_t dropped_attributes = 0;
  std::uint32_t dropped_events = 0;
  std::uint32_t dropped_links = 0;
};

struct SpanBatch {
  const Resource& resource;
  std::span<const SpanData> spans;
};

class SpanBackend {
 public:
  virtual ~SpanBackend() = default;
  virtual std::string_view name() const = 0;
  // May throw: caught, reported and counted by the pipeline.
  virtual void write(const SpanBatch& batch) = 0;
  virtual void flush() {}
  virtual void shutdown() {}
};

OBS_API std::string_view to_string(SpanKind kind);      // "internal", "server", ...
OBS_API std::string_view to_string(SpanStatus status);  // "unset", "ok", "error"

}  // namespace obs
