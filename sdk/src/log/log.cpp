// The facade's emit path: copy into a queue slot, wake the consumer.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "core/self_metrics.hpp"
#include "log/log_channel.hpp"
#include "text/utf8.hpp"
#include "trace/context.hpp"
#include "obs/log.hpp"
#include "obs/metrics_registry.hpp"

namespace obs::log {
namespace detail {
std::atomic<int> min_level{static_cast<int>(Level::Info)};
}  // namespace detail

void set_level(Level level) { detail::min_level.store(static_cast<int>(level), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(detail::min_level.load(std::memory_order_relaxed)); }

}  // namespace obs::log

namespace obs::internal {
namespace {


enum class Drop { QueueFull, NotInitialized, CopyFailed };

void count_drop(Drop why) {
  const LogDropCounters& c = log_drop_counters();
  (why == Drop::QueueFull ? c.queue_full : why == Drop::CopyFailed ? c.copy_failed : c.not_initialized).inc();
}

// Bounds what one record can hold in a queue slot: a message or string field
// beyond these sizes is cut at a UTF-8 boundary and marked.
constexpr std::size_t kMaxMessageBytes = 64 * 1024;
constexpr std::size_t kMaxFieldValueBytes = 16 * 1024;
constexpr std::size_t kMaxFieldKeyBytes = 256;
constexpr std::size_t kMaxFields = 64;

void assign_bounded(std::string& out, std::string_view in, std::size_t max) {
  const std::string_view kept = text::utf8_prefix(in, max);
  out.assign(kept);
  if (kept.size() == in.size()) return;
  out += "...[truncated ";
  out += std::to_string(in.size() - kept.size());
  out += " bytes]";
}

void assign_field(OwnedField& out, const Field& f) {
  if (f.type() == FieldType::String) {  // a cut string says so in the record
    out.type = FieldType::String;
    assign_bounded(out.str, f.as_string(), kMaxFieldValueBytes);
  } else {
    out.assign(f, kMaxFieldValueBytes);  // an array keeps the elements that fit
  }
  assign_bounded(out.key, f.key(), kMaxFieldKeyBytes);
}

std::uint64_t this_thread_id() {
  static thread_local const auto id = static_cast<std::uint64_t>(::syscall(SYS_gettid));
  return id;
}

}  // namespace

const LogDropCounters& log_drop_counters() {
  static const LogDropCounters counters{exporter_counters().dropped.labels("logs", "queue_full"),
                                        exporter_counters().dropped.labels("logs", "not_initialized"),
                                        exporter_counters().dropped.labels("logs", "copy_failed")};
  return counters;
}

QueueChannel<LogRecord>& log_channel() {
  static auto* c = new QueueChannel<LogRecord>();  // never destroyed: producers may outlive static destruction
  return *c;
}

}  // namespace obs::internal

namespace obs::log::detail {

void emit(Level level, std::string_view message, Fields fields) noexcept {
  using namespace obs::internal;
  try {
    LogQueue* q = log_channel().active();
    if (!q) {
      count_drop(Drop::NotInitialized);
      return;
    }
    const auto now = std::chrono::system_clock::now();
    const std::uint64_t tid = this_thread_id();
    static const Context kNone;
    const Context& context = context_alive() ? current() : kNone;  // correlation: the span and request of this record
    const auto pushed = q->try_push([&](LogRecord& r) {
      r.time = now;
      r.trace_id = context.span.trace_id;
      r.span_id = context.span.span_id;
      r.trace_flags = static_cast<std::uint8_t>((context.span.sampled ? 0x01 : 0) | (context.span.random_trace_id ? 0x02 : 0));
      assign_bounded(r.request_id, context.request_id, 128);
      r.level = level;
      r.thread_id = tid;
      assign_bounded(r.message, message, kMaxMessageBytes);
      const std::size_t n = std::min(fields.size(), kMaxFields);
      r.fields.resize(n + (fields.size() > n ? 1 : 0));
      std::size_t i = 0;
      for (const Field& f : fields) {
        if (i == n) break;
        assign_field(r.fields[i++], f);
      }
      if (fields.size() > n) assign_field(r.fields[n], Field("fields_truncated", fields.size() - n));
    });
    switch (pushed) {
      case LogQueue::Push::Ok: q->notify_consumer(); break;
      case LogQueue::Push::Full: count_drop(Drop::QueueFull); break;
      case LogQueue::Push::Failed: count_drop(Drop::CopyFailed); break;
    }
  } catch (...) {
    // Out of memory while counting: nothing useful left to do, and a log
    // call must never throw into the application.
  }
}

}  // namespace obs::log::detail
