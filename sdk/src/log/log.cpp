// The facade's emit path: copy into a queue slot, wake the consumer.
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "log/log_channel.hpp"
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

struct LogChannel {
  std::atomic<LogQueue*> active{nullptr};
  std::mutex mutex;
  std::vector<std::shared_ptr<LogQueue>> queues;
};

LogChannel& channel() {
  static auto* c = new LogChannel();  // never destroyed: producers may outlive static destruction
  return *c;
}

const Counter& dropped(bool initialized) {
  static const auto family = MetricsRegistry::global().counter(
      "obs_exporter_dropped", std::initializer_list<std::string_view>{"signal", "reason"},
      {.help = "Records, spans or data points dropped before reaching a backend"});
  static const Counter queue_full = family.labels("logs", "queue_full");
  static const Counter not_initialized = family.labels("logs", "not_initialized");
  return initialized ? queue_full : not_initialized;
}

std::uint64_t this_thread_id() {
  static thread_local const auto id = static_cast<std::uint64_t>(::syscall(SYS_gettid));
  return id;
}

}  // namespace

std::shared_ptr<LogQueue> log_queue(std::size_t capacity) {
  auto& c = channel();
  std::lock_guard lock(c.mutex);
  for (auto& q : c.queues)
    if (q->capacity() >= capacity && q->capacity() < capacity * 2) return q;
  c.queues.push_back(std::make_shared<LogQueue>(capacity));
  return c.queues.back();
}

void route_logs(LogQueue* queue) { channel().active.store(queue, std::memory_order_release); }

}  // namespace obs::internal

namespace obs::log::detail {

void emit(Level level, std::string_view message, Fields fields) {
  using namespace obs::internal;
  LogQueue* q = channel().active.load(std::memory_order_acquire);
  if (!q) {
    dropped(false).inc();
    return;
  }
  const auto now = std::chrono::system_clock::now();
  const std::uint64_t tid = this_thread_id();
  const bool pushed = q->try_push([&](LogRecord& r) {
    r.time = now;
    r.level = level;
    r.thread_id = tid;
    r.message.assign(message);
    r.fields.resize(fields.size());
    std::size_t i = 0;
    for (const Field& f : fields) r.fields[i++].assign(f);
  });
  if (!pushed) {
    dropped(true).inc();
    return;
  }
  q->notify_consumer();
}

}  // namespace obs::log::detail
