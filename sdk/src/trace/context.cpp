#include "trace/context.hpp"

#include <cxxabi.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "trace/random_ids.hpp"

namespace obs {

std::string TraceId::hex() const {
  std::string out;
  out.reserve(32);
  internal::append_hex(out, bytes.data(), bytes.size());
  return out;
}

std::string SpanId::hex() const {
  std::string out;
  out.reserve(16);
  internal::append_hex(out, bytes.data(), bytes.size());
  return out;
}

namespace internal {

namespace {
// The state in trivially constructible and destructible storage: a plain
// thread_local object would cost three TLS lookups per access in a shared
// library (its destroyed flag, its init guard, itself); this costs one. The
// storage outlives the object, so a late caller still reads "destroyed".
struct ThreadTraceSlot {
  enum : unsigned char { Empty, Live, Destroyed } state;
  alignas(ThreadTrace) unsigned char bytes[sizeof(ThreadTrace)];
};
thread_local ThreadTraceSlot t_slot;

ThreadTrace* live(ThreadTraceSlot& slot) { return std::launder(reinterpret_cast<ThreadTrace*>(slot.bytes)); }

// Destroys the state when the thread exits.
struct ThreadTraceReaper {
  ~ThreadTraceReaper() {
    live(t_slot)->~ThreadTrace();
    t_slot.state = ThreadTraceSlot::Destroyed;
  }
};

std::atomic<void (*)() noexcept> g_thread_trace_hook{nullptr};

[[gnu::noinline]] ThreadTrace* construct(ThreadTraceSlot& slot) {
  new (slot.bytes) ThreadTrace();
  slot.state = ThreadTraceSlot::Live;  // before the hook, which may log or read the context
  static thread_local ThreadTraceReaper reaper;  // registers the destruction
  (void)reaper;
  if (auto* hook = g_thread_trace_hook.load(std::memory_order_acquire)) hook();
  return live(slot);
}
}  // namespace

void set_thread_trace_hook(void (*hook)() noexcept) noexcept { g_thread_trace_hook.store(hook, std::memory_order_release); }

ThreadTrace* thread_trace() noexcept {
  ThreadTraceSlot& slot = t_slot;
  if (slot.state == ThreadTraceSlot::Live) [[likely]]
    return live(slot);
  return slot.state == ThreadTraceSlot::Destroyed ? nullptr : construct(slot);
}

const SpanContext* thread_span_context_address() noexcept { return &live(t_slot)->context.span; }

ThreadTrace& thread_trace_unchecked() noexcept {
  ThreadTraceSlot& slot = t_slot;
  return slot.state == ThreadTraceSlot::Empty ? *construct(slot) : *live(slot);
}

std::string type_name(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && name ? name : type.name();
  std::free(name);
  return out;
}
}  // namespace internal

Context current_context() { return internal::context_alive() ? internal::current() : Context{}; }

ContextScope::ContextScope(Context context) {
  if (!internal::context_alive()) return;
  previous_ = std::move(internal::current());
  internal::current() = std::move(context);
  installed_ = internal::current().span.span_id;
  owner_ = &internal::current();
}

ContextScope::~ContextScope() {
  // Restore only on the thread that installed it, and only while what it
  // installed is still current: never clobber another thread's context.
  if (!owner_ || !internal::context_alive() || owner_ != &internal::current() ||
      !(internal::current().span.span_id == installed_))
    return;
  internal::current() = std::move(previous_);
}

}  // namespace obs
