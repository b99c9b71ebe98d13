#include "trace/random_ids.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <random>

namespace obs::internal {

std::atomic<unsigned> g_fork_generation{0};

namespace {
void count_fork_in_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

IdSource& this_thread_ids() {
  static thread_local IdSource ids;
  return ids;
}
}  // namespace

void IdSource::reseed() {
  static std::once_flag registered;
  std::call_once(registered, [] { ::pthread_atfork(nullptr, nullptr, &count_fork_in_child); });
  // The OS's randomness plus thread id and time, so threads (and a forked
  // child's threads) never share a sequence even if the device repeated.
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd(), static_cast<unsigned>(::syscall(SYS_gettid)),
                    static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count())};
  std::uint32_t words[8];
  seq.generate(words, words + 8);
  std::memcpy(s_, words, sizeof s_);
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;  // the one state xoshiro cannot leave
  generation_ = g_fork_generation.load(std::memory_order_relaxed);
}

TraceId IdSource::trace_id() {
  std::uint64_t v[2];
  do {
    v[0] = next();
    v[1] = next();
  } while ((v[0] | v[1]) == 0);  // all zero is the invalid id
  TraceId id;
  std::memcpy(id.bytes.data(), v, sizeof v);
  return id;
}

SpanId IdSource::span_id() {
  std::uint64_t v;
  do v = next();
  while (v == 0);
  SpanId id;
  std::memcpy(id.bytes.data(), &v, sizeof v);
  return id;
}

void random_bytes(std::uint8_t* out, std::size_t n) {
  IdSource& ids = this_thread_ids();
  while (n > 0) {
    const std::uint64_t v = ids.next();
    const std::size_t k = n < 8 ? n : 8;
    std::memcpy(out, &v, k);
    out += k;
    n -= k;
  }
}

TraceId new_trace_id() { return this_thread_ids().trace_id(); }
SpanId new_span_id() { return this_thread_ids().span_id(); }

void append_hex(std::string& out, const std::uint8_t* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
}

}  // namespace obs::internal
