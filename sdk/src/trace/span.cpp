#include "obs/span.hpp"

#include <typeinfo>

#include "core/diagnostics.hpp"
#include "core/self_metrics.hpp"
#include "trace/context.hpp"
#include "trace/random_ids.hpp"
#include "trace/sampler.hpp"
#include "trace/span_pipeline.hpp"

namespace obs {
namespace internal {

template class ExportPipeline<SpanTraits>;

QueueChannel<SpanData>& span_channel() {
  static auto* c = new QueueChannel<SpanData>();  // never destroyed: spans may end during static destruction
  return *c;
}

namespace {
// Per-span bounds, like a log record's: a span cannot hold unbounded memory.
constexpr std::size_t kMaxAttributes = 128;
constexpr std::size_t kMaxEvents = 128;
constexpr std::size_t kMaxLinks = 128;
constexpr std::size_t kMaxValueBytes = 16 * 1024;

// False when the field was dropped: the limit was reached.
bool add_field(std::vector<OwnedField>& out, const Field& f) {
  for (auto& existing : out) {
    if (existing.key == f.key()) {  // a later value for a key replaces the earlier one
      existing.assign(f, kMaxValueBytes);
      return true;
    }
  }
  if (out.size() >= kMaxAttributes) return false;
  out.emplace_back().assign(f, kMaxValueBytes);
  return true;
}

// Member swaps throughout: std::swap of a string or a whole SpanData goes
// through a temporary and two moves, several times the instructions.
void swap_buffers(SpanData& data, SpareSpanBuffers& spare) noexcept {
  data.name.swap(spare.name);
  data.status_message.swap(spare.status_message);
  data.attributes.swap(spare.attributes);
  data.events.swap(spare.events);
  data.links.swap(spare.links);
}

void swap_span_data(SpanData& a, SpanData& b) noexcept {
  a.name.swap(b.name);
  std::swap(a.kind, b.kind);
  std::swap(a.context.trace_id, b.context.trace_id);
  std::swap(a.context.span_id, b.context.span_id);
  std::swap(a.context.sampled, b.context.sampled);
  std::swap(a.context.random_trace_id, b.context.random_trace_id);
  std::swap(a.context.remote, b.context.remote);
  a.context.trace_state.swap(b.context.trace_state);
  std::swap(a.parent_span_id, b.parent_span_id);
  std::swap(a.parent_remote, b.parent_remote);
  std::swap(a.start, b.start);
  std::swap(a.end, b.end);
  a.attributes.swap(b.attributes);
  a.events.swap(b.events);
  a.links.swap(b.links);
  std::swap(a.status, b.status);
  a.status_message.swap(b.status_message);
  std::swap(a.dropped_attributes, b.dropped_attributes);
  std::swap(a.dropped_events, b.dropped_events);
  std::swap(a.dropped_links, b.dropped_links);
}

void swap_contexts(Context& a, Context& b) noexcept {
  std::swap(a.span.trace_id, b.span.trace_id);
  std::swap(a.span.span_id, b.span.span_id);
  std::swap(a.span.sampled, b.span.sampled);
  std::swap(a.span.random_trace_id, b.span.random_trace_id);
  std::swap(a.span.remote, b.span.remote);
  a.span.trace_state.swap(b.span.trace_state);
  a.request_id.swap(b.request_id);
  a.baggage.swap(b.baggage);
}

// Sets `out` to `fields` (a later value for a key replaces the earlier
// one), assigning into the fields it already holds so their strings keep
// their capacity. Returns how many were dropped by the limit.
std::uint32_t assign_fields(std::vector<OwnedField>& out, Fields fields) {
  std::size_t n = 0;
  std::uint32_t dropped = 0;
  for (const Field& f : fields) {
    OwnedField* target = nullptr;
    for (std::size_t i = 0; i < n; ++i)
      if (out[i].key == f.key()) target = &out[i];
    if (!target) {
      if (n >= kMaxAttributes) {
        ++dropped;
        continue;
      }
      target = n < out.size() ? &out[n] : &out.emplace_back();
      ++n;
    }
    target->assign(f, kMaxValueBytes);
  }
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(n), out.end());
  return dropped;
}

}  // namespace

const SpanDropCounters& span_drop_counters() {
  static const SpanDropCounters counters{exporter_counters().dropped.labels("spans", "queue_full"),
                                         exporter_counters().dropped.labels("spans", "not_initialized"),
                                         exporter_counters().dropped.labels("spans", "copy_failed")};
  return counters;
}

namespace {
void count_drop(const char* reason) {
  const SpanDropCounters& c = span_drop_counters();
  const std::string_view r(reason);
  (r == "queue_full" ? c.queue_full : r == "copy_failed" ? c.copy_failed : c.not_initialized).inc();
}
}  // namespace
}  // namespace internal

std::string_view to_string(SpanKind kind) {
  switch (kind) {
    case SpanKind::Internal: return "internal";
    case SpanKind::Server: return "server";
    case SpanKind::Client: return "client";
    case SpanKind::Producer: return "producer";
    case SpanKind::Consumer: return "consumer";
  }
  return "internal";
}

std::string_view to_string(SpanStatus status) {
  switch (status) {
    case SpanStatus::Unset: return "unset";
    case SpanStatus::Ok: return "ok";
    case SpanStatus::Error: return "error";
  }
  return "unset";
}

namespace {
const Context kNoContext;
}  // namespace

Span::Span(std::string_view name, Fields attributes, SpanKind kind) {
  internal::ThreadTrace* thread = internal::thread_trace();
  start(name, thread ? thread->context : kNoContext, kind, attributes, thread);
}

Span::Span(std::string_view name, SpanKind kind, Fields attributes) {
  internal::ThreadTrace* thread = internal::thread_trace();
  start(name, thread ? thread->context : kNoContext, kind, attributes, thread);
}

Span::Span(std::string_view name, const Context& parent, SpanKind kind, Fields attributes) {
  start(name, parent, kind, attributes, internal::thread_trace());
}

void Span::start(std::string_view name, const Context& parent, SpanKind kind, Fields attributes,
                 internal::ThreadTrace* thread) {
  // The new current context is built in previous_ (`parent` may be the
  // thread's current context, so it is read before anything changes), then
  // swapped with the thread's: previous_ ends up holding the one to restore.
  Context& next = previous_;
  const bool has_parent = parent.span.valid();
  if (thread) {
    data_.context.trace_id = has_parent ? parent.span.trace_id : thread->ids.trace_id();
    data_.context.span_id = thread->ids.span_id();
  } else {  // thread exiting
    data_.context.trace_id = has_parent ? parent.span.trace_id : internal::new_trace_id();
    data_.context.span_id = internal::new_span_id();
  }
  // A trace obs starts has a random id (Level 2's flag); a child keeps
  // whatever its trace's root said.
  data_.context.random_trace_id = has_parent ? parent.span.random_trace_id : true;
  if (has_parent) {
    data_.context.trace_state = parent.span.trace_state;
    data_.parent_span_id = parent.span.span_id;
    data_.parent_remote = parent.span.remote;
  }
  recording_ = internal::should_sample(parent.span, data_.context.trace_id);
  data_.context.sampled = recording_;
  next.span = data_.context;
  next.request_id = parent.request_id;
  next.baggage = parent.baggage;
  if (recording_) {
    if (thread) {
      internal::swap_buffers(data_, thread->spare);
      data_.status_message.clear();
      data_.events.clear();
      data_.links.clear();
    }
    data_.name.assign(name.substr(0, 1024));
    data_.kind = kind;
    data_.start = std::chrono::system_clock::now();
    data_.dropped_attributes = internal::assign_fields(data_.attributes, attributes);
    data_.dropped_events = 0;
    data_.dropped_links = 0;
    if (!next.request_id.empty() && !internal::add_field(data_.attributes, Field("request_id", next.request_id)))
      ++data_.dropped_attributes;
  }
  if (!thread) return;  // thread exiting: record, but keep no context
  internal::swap_contexts(previous_, thread->context);
  owner_ = &thread->context;
}

Span::~Span() { end(); }

void Span::set_attribute(const Field& attribute) {
  if (recording_ && !ended_ && !internal::add_field(data_.attributes, attribute)) ++data_.dropped_attributes;
}

void Span::add_event(std::string_view name, Fields attributes) {
  if (!recording_ || ended_) return;
  if (data_.events.size() >= internal::kMaxEvents) {
    ++data_.dropped_events;
    return;
  }
  SpanEvent& e = data_.events.emplace_back();
  e.time = std::chrono::system_clock::now();
  e.name.assign(name);
  for (const Field& f : attributes)
    if (!internal::add_field(e.attributes, f)) ++e.dropped_attributes;
}

void Span::add_link(const SpanContext& linked, Fields attributes) {
  if (!recording_ || ended_ || !linked.valid()) return;
  if (data_.links.size() >= internal::kMaxLinks) {
    ++data_.dropped_links;
    return;
  }
  SpanLink& l = data_.links.emplace_back();
  l.context = linked;
  for (const Field& f : attributes)
    if (!internal::add_field(l.attributes, f)) ++l.dropped_attributes;
}

void Span::set_status(SpanStatus status, std::string_view message) {
  if (!recording_ || ended_) return;
  data_.status = status;
  data_.status_message.assign(message.substr(0, 1024));
}

void Span::record_exception(const std::exception& e) {
  add_event("exception", {{"exception.type", internal::type_name(typeid(e))}, {"exception.message", e.what()}});
  set_status(SpanStatus::Error, e.what());
}

void Span::end() {
  if (ended_) return;
  ended_ = true;
  internal::ThreadTrace* thread = internal::thread_trace();
  if (owner_ && thread) {
    Context& current = thread->context;
    if (owner_ == &current && current.span.span_id == data_.context.span_id) {
      internal::swap_contexts(current, previous_);
    } else {
      internal::report_error("span-order", "span '" + data_.name.substr(0, 100) +
                                               "' ended on another thread or after a span started inside it; "
                                               "the current context was left as it was. End spans in reverse "
                                               "order of their start, on the thread that started them.");
    }
  }
  if (!recording_) return;
  data_.end = std::chrono::system_clock::now();
  internal::SpanQueue* q = internal::span_channel().active();
  if (!q) {
    internal::count_drop("not_initialized");
    return;
  }
  // Swap rather than copy: the span's buffers move into the slot; its
  // identity stays, so context() still answers after end().
  switch (q->try_push([this](SpanData& slot) {
    internal::swap_span_data(slot, data_);
    data_.context = slot.context;
    data_.parent_span_id = slot.parent_span_id;
  })) {
    case internal::SpanQueue::Push::Ok: q->notify_consumer(); break;
    case internal::SpanQueue::Push::Full: internal::count_drop("queue_full"); break;
    case internal::SpanQueue::Push::Failed: internal::count_drop("copy_failed"); break;
  }
  // data_ now holds the slot's earlier buffers (or, when the push failed,
  // its own): keep them for this thread's next span. The context stays.
  if (thread) internal::swap_buffers(data_, thread->spare);
}

}  // namespace obs
