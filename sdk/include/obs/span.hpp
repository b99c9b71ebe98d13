#pragma once
// Spans. A Span is RAII: constructing one starts it as a child of this
// thread's current span (or as a root) and makes it current; destroying it
// (or end()) records the end time, hands it to the span pipeline if it is
// sampled, and restores the previous current span.
//
//   obs::Span span("convert_image", {{"image.format", "png"}});
//   span.add_event("decoded", {{"bytes", n}});
//   span.add_link(message_context, {{"messaging.operation", "process"}});
//   try { ... } catch (const std::exception& e) { span.record_exception(e); throw; }
//
// Log records emitted while a span is current carry its trace_id and span_id.
#include <exception>
#include <string_view>

#include "obs/export.hpp"
#include "obs/fields.hpp"
#include "obs/span_backend.hpp"
#include "obs/trace_context.hpp"

namespace obs {
namespace internal {
struct ThreadTrace;
}

class OBS_API Span {
 public:
  explicit Span(std::string_view name, Fields attributes = {}, SpanKind kind = SpanKind::Internal);
  Span(std::string_view name, SpanKind kind, Fields attributes = {});
  // A span whose parent is `parent` rather than this thread's current
  // context, typically one extracted from an incoming request's headers.
  // The parent's request id and baggage become current with the span.
  Span(std::string_view name, const Context& parent, SpanKind kind, Fields attributes = {});
  ~Span();
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  void set_attribute(const Field& attribute);
  void add_event(std::string_view name, Fields attributes = {});
  // Links this span to another span's context (another trace's span, a
  // message's producer...), with attributes describing the link. Ignored
  // when this span is not recording or `linked` is not a valid context.
  void add_link(const SpanContext& linked, Fields attributes = {});
  void set_status(SpanStatus status, std::string_view message = {});
  // Adds an "exception" event (exception.type, exception.message) and sets
  // the status to Error.
  void record_exception(const std::exception& e);
  // Ends the span now; later calls do nothing. The context current when
  // the span started becomes current again, if this span is still the
  // current one on the thread that started it (spans ended out of order or
  // on another thread are exported, but leave contexts alone).
  void end();

  const SpanContext& context() const { return data_.context; }
  // False when the sampler dropped this span: it still propagates context,
  // but records nothing and is not exported.
  bool recording() const { return recording_; }

 private:
  // `thread`: the calling thread's trace state, nullptr while it exits.
  void start(std::string_view name, const Context& parent, SpanKind kind, Fields attributes,
             internal::ThreadTrace* thread);

  SpanData data_;
  Context previous_;
  const Context* owner_ = nullptr;  // the starting thread's context
  bool recording_ = false;
  bool ended_ = false;
};

}  // namespace obs
