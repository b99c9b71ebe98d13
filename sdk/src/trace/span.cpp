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

void add_field(std::vector<OwnedField>& out, const Field& f) {
  for (auto& existing : out) {
    if (existing.key == f.key()) {  // a later value for a key replaces the earlier one
      existing.assign(f);
      if (existing.str.size() > kMaxValueBytes) existing.str.resize(kMaxValueBytes);
      return;
    }
  }
  if (out.size() >= kMaxAttributes) return;
  out.emplace_back().assign(f);
  if (out.back().str.size() > kMaxValueBytes) out.back().str.resize(kMaxValueBytes);
}

// A span's buffers, back from the queue slot its data was swapped into,
// wait here for this thread's next span: a warmed-up thread starts and
// ends spans of a steady shape without allocating. (The flag is trivially
// destructible, so a span in a thread_local destructor still reads it.)
thread_local bool t_spare_destroyed = false;
struct SpareBuffers {
  std::string name;
  std::string status_message;
  std::vector<OwnedField> attributes;
  std::vector<SpanEvent> events;
  std::vector<SpanLink> links;
  ~SpareBuffers() { t_spare_destroyed = true; }
};
SpareBuffers* spare_buffers() {
  if (t_spare_destroyed) return nullptr;
  static thread_local SpareBuffers spare;
  return &spare;
}

void swap_buffers(SpanData& data, SpareBuffers& spare) noexcept {
  std::swap(data.name, spare.name);
  std::swap(data.status_message, spare.status_message);
  std::swap(data.attributes, spare.attributes);
  std::swap(data.events, spare.events);
  std::swap(data.links, spare.links);
}

// Sets `out` to `fields` (a later value for a key replaces the earlier
// one), assigning into the fields it already holds so their strings keep
// their capacity.
void assign_fields(std::vector<OwnedField>& out, Fields fields) {
  std::size_t n = 0;
  for (const Field& f : fields) {
    OwnedField* target = nullptr;
    for (std::size_t i = 0; i < n; ++i)
      if (out[i].key == f.key()) target = &out[i];
    if (!target) {
      if (n >= kMaxAttributes) continue;
      target = n < out.size() ? &out[n] : &out.emplace_back();
      ++n;
    }
    target->assign(f);
    if (target->str.size() > kMaxValueBytes) target->str.resize(kMaxValueBytes);
  }
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(n), out.end());
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
const Context& current_or_none() {
  static const Context kNone;
  return internal::context_alive() ? internal::current() : kNone;
}
}  // namespace

Span::Span(std::string_view name, Fields attributes, SpanKind kind) { start(name, current_or_none(), kind, attributes); }

Span::Span(std::string_view name, SpanKind kind, Fields attributes) { start(name, current_or_none(), kind, attributes); }

Span::Span(std::string_view name, const Context& parent, SpanKind kind, Fields attributes) {
  start(name, parent, kind, attributes);
}

void Span::start(std::string_view name, const Context& parent, SpanKind kind, Fields attributes) {
  Context& current = internal::current();
  // Build the new current context before touching `current`: `parent` may be it.
  Context next;
  const bool has_parent = parent.span.valid();
  data_.context.trace_id = has_parent ? parent.span.trace_id : internal::new_trace_id();
  data_.context.span_id = internal::new_span_id();
  if (has_parent) {
    data_.context.trace_state = parent.span.trace_state;
    data_.parent_span_id = parent.span.span_id;
  }
  recording_ = internal::should_sample(parent.span, data_.context.trace_id);
  data_.context.sampled = recording_;
  next.span = data_.context;
  next.request_id = parent.request_id;
  next.baggage = parent.baggage;
  if (recording_) {
    if (auto* spare = internal::spare_buffers()) {
      internal::swap_buffers(data_, *spare);
      data_.status_message.clear();
      data_.events.clear();
      data_.links.clear();
    }
    data_.name.assign(name.substr(0, 1024));
    data_.kind = kind;
    data_.start = std::chrono::system_clock::now();
    internal::assign_fields(data_.attributes, attributes);
    if (!next.request_id.empty()) internal::add_field(data_.attributes, Field("request_id", next.request_id));
  }
  if (!internal::context_alive()) return;  // thread exiting: record, but keep no context
  previous_ = std::move(current);
  current = std::move(next);
  owner_ = &current;
}

Span::~Span() { end(); }

void Span::set_attribute(const Field& attribute) {
  if (recording_ && !ended_) internal::add_field(data_.attributes, attribute);
}

void Span::add_event(std::string_view name, Fields attributes) {
  if (!recording_ || ended_ || data_.events.size() >= internal::kMaxEvents) return;
  SpanEvent& e = data_.events.emplace_back();
  e.time = std::chrono::system_clock::now();
  e.name.assign(name);
  for (const Field& f : attributes) internal::add_field(e.attributes, f);
}

void Span::add_link(const SpanContext& linked, Fields attributes) {
  if (!recording_ || ended_ || !linked.valid() || data_.links.size() >= internal::kMaxLinks) return;
  SpanLink& l = data_.links.emplace_back();
  l.context = linked;
  for (const Field& f : attributes) internal::add_field(l.attributes, f);
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
  if (owner_ && internal::context_alive()) {
    Context& current = internal::current();
    if (owner_ == &current && current.span.span_id == data_.context.span_id) {
      current = std::move(previous_);
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
    std::swap(slot, data_);
    data_.context = slot.context;
    data_.parent_span_id = slot.parent_span_id;
  })) {
    case internal::SpanQueue::Push::Ok: q->notify_consumer(); break;
    case internal::SpanQueue::Push::Full: internal::count_drop("queue_full"); break;
    case internal::SpanQueue::Push::Failed: internal::count_drop("copy_failed"); break;
  }
  // data_ now holds the slot's earlier buffers (or, when the push failed,
  // its own): keep them for this thread's next span. The context stays.
  if (auto* spare = internal::spare_buffers()) internal::swap_buffers(data_, *spare);
}

}  // namespace obs
